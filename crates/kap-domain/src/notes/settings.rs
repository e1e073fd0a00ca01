//! The clinic's notes policy, kept as a versioned document like the measurement settings:
//! after how many hours an unsigned note counts as overdue, and which clinician is supervised
//! by which (a supervised clinician's notes wait for their supervisor's co-signature).

use crate::FieldErrors;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The shipped limit for unsigned notes, in hours. Issue #12 gives it as the example clinic
/// policy ("unsigned notes older than the clinic's limit (e.g. 72 h)"); it is a documentation
/// policy, not a clinical number, and each clinic sets its own.
pub const SHIPPED_UNSIGNED_AFTER_HOURS: u32 = 72;
/// The longest limit a clinic may set (30 days): beyond it the list would never warn.
pub const UNSIGNED_AFTER_HOURS_MAX: u32 = 720;

/// One clinician whose notes their supervisor co-signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Supervision {
    pub clinician: Uuid,
    pub supervisor: Uuid,
}

/// The clinic's notes settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotesSettings {
    /// A note left unsigned longer than this is listed as overdue.
    pub unsigned_after_hours: u32,
    pub supervision: Vec<Supervision>,
}

impl Default for NotesSettings {
    fn default() -> Self {
        NotesSettings {
            unsigned_after_hours: SHIPPED_UNSIGNED_AFTER_HOURS,
            supervision: vec![],
        }
    }
}

impl NotesSettings {
    /// Who co-signs `clinician`'s notes, if anyone.
    pub fn supervisor_of(&self, clinician: Uuid) -> Option<Uuid> {
        self.supervision
            .iter()
            .find(|s| s.clinician == clinician)
            .map(|s| s.supervisor)
    }

    /// Whether a note left unsigned since `since` is overdue at `now`.
    pub fn overdue(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now - since > Duration::hours(i64::from(self.unsigned_after_hours))
    }

    /// The time before which an unsigned note is overdue at `now`.
    pub fn overdue_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::hours(i64::from(self.unsigned_after_hours))
    }

    /// Every problem, by field: the limit between 1 and [`UNSIGNED_AFTER_HOURS_MAX`] hours;
    /// each supervised clinician once, never their own supervisor, no circle of supervision,
    /// and everyone named a clinician of the clinic (`clinicians`).
    pub fn check(&self, clinicians: &HashSet<Uuid>) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if !(1..=UNSIGNED_AFTER_HOURS_MAX).contains(&self.unsigned_after_hours) {
            e.add(
                "unsigned_after_hours",
                format!("Choose between 1 and {UNSIGNED_AFTER_HOURS_MAX} hours."),
            );
        }
        let mut seen = HashSet::new();
        let edges: HashMap<Uuid, Uuid> = self
            .supervision
            .iter()
            .map(|s| (s.clinician, s.supervisor))
            .collect();
        for (i, s) in self.supervision.iter().enumerate() {
            let f = format!("supervisor-{i}");
            if !clinicians.contains(&s.clinician) || !clinicians.contains(&s.supervisor) {
                e.add(
                    &f,
                    "Choose a prescriber, nurse or therapist of this clinic.",
                );
            } else if s.clinician == s.supervisor {
                e.add(&f, "A clinician cannot supervise themself.");
            } else if !seen.insert(s.clinician) {
                e.add(&f, "This clinician already has a supervisor.");
            } else {
                // Follow the chain up from the supervisor; meeting the clinician again is a
                // circle, in which no note could ever be finally co-signed by someone outside.
                let mut at = s.supervisor;
                let mut steps = 0;
                while let Some(next) = edges.get(&at) {
                    if *next == s.clinician {
                        e.add(&f, "This would make a circle of supervision.");
                        break;
                    }
                    at = *next;
                    steps += 1;
                    if steps > edges.len() {
                        break;
                    }
                }
            }
        }
        if e.is_empty() { Ok(()) } else { Err(e) }
    }

    /// Reads the settings form: `unsigned_after_hours`, and pairs `clinician-{i}` /
    /// `supervisor-{i}` (a row with no clinician chosen is ignored).
    pub fn from_form(
        fields: &[(String, String)],
        clinicians: &HashSet<Uuid>,
    ) -> Result<NotesSettings, FieldErrors> {
        let get = |k: &str| {
            fields
                .iter()
                .find(|(n, _)| n == k)
                .map_or("", |(_, v)| v.trim())
        };
        let mut e = FieldErrors::new();
        let hours = get("unsigned_after_hours");
        let unsigned_after_hours = match hours.parse::<u32>() {
            Ok(h) => h,
            Err(_) => {
                e.add(
                    "unsigned_after_hours",
                    format!("\"{hours}\" is not a whole number of hours."),
                );
                0
            }
        };
        let mut supervision = vec![];
        // The form row of each pair kept, to name a problem by the row it was typed in.
        let mut row_of = vec![];
        let rows = fields
            .iter()
            .filter(|(n, _)| n.starts_with("clinician-"))
            .count();
        for i in 0..rows {
            let c = get(&format!("clinician-{i}"));
            let s = get(&format!("supervisor-{i}"));
            if c.is_empty() {
                continue;
            }
            match (Uuid::parse_str(c), Uuid::parse_str(s)) {
                (Ok(clinician), Ok(supervisor)) => {
                    supervision.push(Supervision {
                        clinician,
                        supervisor,
                    });
                    row_of.push(i);
                }
                _ => e.add(format!("supervisor-{i}"), "Choose the supervisor."),
            }
        }
        let out = NotesSettings {
            unsigned_after_hours,
            supervision,
        };
        if !e.is_empty() {
            return Err(e);
        }
        out.check(clinicians).map_err(|problems| {
            let mut renamed = FieldErrors::new();
            for p in problems.iter() {
                let field = p
                    .field
                    .strip_prefix("supervisor-")
                    .and_then(|k| k.parse::<usize>().ok())
                    .and_then(|k| row_of.get(k))
                    .map_or(p.field.clone(), |row| format!("supervisor-{row}"));
                renamed.add(field, p.message.clone());
            }
            renamed
        })?;
        Ok(out)
    }
}
