//! The pre-dose checklist: what must be confirmed before the first dose, what the protocol's
//! fasting and timing rules say about today's answers, and the hold that a pre-dose value
//! beyond the protocol's hold threshold puts on dosing.

use super::{Checklist, HoldDecisionKind, Pregnancy, Session, Vitals};
use crate::FieldErrors;
use crate::protocol::{Protocol, Threshold, VitalMeasure};
use chrono::{DateTime, Utc};

/// A checklist as the nurse typed it, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct ChecklistForm {
    pub identity_confirmed: bool,
    pub last_food_at: Option<DateTime<Utc>>,
    pub last_fluids_at: Option<DateTime<Utc>>,
    pub nasal_medicine_at: Option<DateTime<Utc>>,
    pub escort: String,
    pub pregnancy: Option<Pregnancy>,
    pub medications_reviewed: bool,
    pub benzodiazepine_today: bool,
    pub medication_note: String,
    pub intention_reviewed: bool,
    pub intention: String,
    pub weight_kg: Option<f64>,
}

/// Plausible adult weights (kg), to catch a typing slip.
pub const WEIGHT_KG: (f64, f64) = (30.0, 300.0);

/// Checks a checklist form: every item confirmed, times not after `now`, a plausible weight.
/// Every problem is reported with its field.
pub fn check(f: &ChecklistForm, now: DateTime<Utc>) -> Result<(), FieldErrors> {
    let mut e = FieldErrors::new();
    if !f.identity_confirmed {
        e.add(
            "identity_confirmed",
            "Confirm the patient's identity (name and date of birth) first.",
        );
    }
    for (field, t) in [
        ("last_food_at", f.last_food_at),
        ("last_fluids_at", f.last_fluids_at),
        ("nasal_medicine_at", f.nasal_medicine_at),
    ] {
        if t.is_some_and(|t| t > now) {
            e.add(field, "This time is in the future.");
        }
    }
    if f.escort.trim().is_empty() {
        e.add(
            "escort",
            "Name who takes the patient home (no driving until the next day).",
        );
    }
    if f.pregnancy.is_none() {
        e.add(
            "pregnancy",
            "Record a negative pregnancy test, or that it does not apply.",
        );
    }
    if !f.medications_reviewed {
        e.add("medications_reviewed", "Review today's medications.");
    }
    if !f.intention_reviewed {
        e.add("intention_reviewed", "Review the patient's intention.");
    }
    match f.weight_kg {
        None => e.add("weight_kg", "Enter today's weight in kg."),
        Some(w) if !(WEIGHT_KG.0..=WEIGHT_KG.1).contains(&w) => e.add(
            "weight_kg",
            format!(
                "A weight of {w} kg is not plausible; enter kg between {} and {}.",
                WEIGHT_KG.0, WEIGHT_KG.1
            ),
        ),
        Some(_) => {}
    }
    if e.is_empty() { Ok(()) } else { Err(e) }
}

/// Something about today's answers the prescriber and nurse should see before dosing (not a
/// block: the protocol's fasting rules are advice to avoid nausea).
pub fn warnings(p: &Protocol, c: &Checklist) -> Vec<String> {
    let mut out = vec![];
    if let Some(pre) = &p.pre_dose {
        let gap = |t: Option<DateTime<Utc>>| t.map(|t| (c.at - t).num_minutes());
        if let Some(h) = &pre.food_hours_before {
            match gap(c.last_food_at) {
                Some(m) if m < i64::from(h.get()) * 60 => out.push(format!(
                    "Ate {} before the checklist; the protocol asks for no food {} h before dosing.",
                    minutes(m),
                    h.get()
                )),
                None => out.push("When the patient last ate is not known.".to_owned()),
                _ => {}
            }
        }
        if let Some(min) = &pre.fluids_minutes_before {
            match gap(c.last_fluids_at) {
                Some(m) if m < i64::from(min.get()) => out.push(format!(
                    "Drank {} before the checklist; the protocol asks for no liquids {} min before dosing.",
                    minutes(m),
                    min.get()
                )),
                None => out.push("When the patient last drank is not known.".to_owned()),
                _ => {}
            }
        }
        if let Some(min) = &pre.nasal_medicines_minutes_before
            && let Some(m) = gap(c.nasal_medicine_at)
            && m < i64::from(min.get())
        {
            out.push(format!(
                "A nasal corticosteroid or decongestant {} before the checklist; the protocol asks for at least {} min before dosing.",
                minutes(m),
                min.get()
            ));
        }
    }
    if c.benzodiazepine_today {
        out.push(
            "A benzodiazepine was taken today: it may blunt the response (clinical.md §3.2)."
                .to_owned(),
        );
    }
    out
}

fn minutes(m: i64) -> String {
    if m >= 120 {
        format!("{} h {} min", m / 60, m % 60)
    } else {
        format!("{m} min")
    }
}

/// A hold limit crossed by a pre-dose value.
#[derive(Debug, Clone, PartialEq)]
pub struct Crossing {
    pub measure: VitalMeasure,
    pub value: f64,
    /// "above 140", "below 90".
    pub limit: String,
}

impl Crossing {
    pub fn describe(&self) -> String {
        format!(
            "{} {} is {} (the protocol's limit)",
            self.measure.label(),
            self.value,
            self.limit
        )
    }
}

/// The thresholds a set of vitals crosses, at most one per measure (the first limit listed
/// for it that is crossed).
pub fn crossings(thresholds: &[Threshold], v: &Vitals) -> Vec<Crossing> {
    let mut out: Vec<Crossing> = vec![];
    for t in thresholds {
        let Some(value) = v.value(t.measure) else {
            continue;
        };
        if out.iter().any(|c| c.measure == t.measure) || !t.crossed_by(value) {
            continue;
        }
        let limit = match (&t.above, &t.below) {
            (Some(a), _) if value > *a.get_ref() => format!("above {}", a.get_ref()),
            (_, Some(b)) => format!("below {}", b.get_ref()),
            _ => String::new(),
        };
        out.push(Crossing {
            measure: t.measure,
            value,
            limit,
        });
    }
    out
}

/// Why dosing cannot start yet, in the order to fix them; empty when it may start.
pub fn blockers(s: &Session) -> Vec<String> {
    let mut out = vec![];
    if s.deferred() {
        out.push("A prescriber deferred this session.".to_owned());
        return out;
    }
    if s.checklist.is_none() {
        out.push("Complete the pre-dose checklist.".to_owned());
    }
    match s.pre_dose_vitals() {
        None => out.push("Record pre-dose vitals.".to_owned()),
        Some(v) => {
            let crossed = crossings(&s.protocol.monitoring.hold, v);
            if !crossed.is_empty() && !overridden(s, v) {
                let what: Vec<String> = crossed.iter().map(Crossing::describe).collect();
                out.push(format!(
                    "Dosing is on hold: {}. A prescriber may dose with a reason, or defer the session; or take the vitals again.",
                    what.join("; ")
                ));
            }
        }
    }
    out
}

/// Whether the pre-dose hold on these vitals was overridden by a prescriber.
fn overridden(s: &Session, v: &Vitals) -> bool {
    s.hold_decisions
        .iter()
        .any(|d| d.kind == HoldDecisionKind::Override && d.vitals_id == v.id)
}

/// The hold in force now, if any: the latest pre-dose vitals crossing a hold limit with no
/// prescriber decision on them, before any dose.
pub fn hold_in_force(s: &Session) -> Option<(&Vitals, Vec<Crossing>)> {
    if !s.administrations.is_empty() || s.deferred() {
        return None;
    }
    let v = s.pre_dose_vitals()?;
    let crossed = crossings(&s.protocol.monitoring.hold, v);
    if crossed.is_empty() || overridden(s, v) {
        None
    } else {
        Some((v, crossed))
    }
}
