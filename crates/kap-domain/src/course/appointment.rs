//! A booked session: what can happen to it (check in, done, missed, cancelled with a reason,
//! moved to another time), and where it stands on the clinic's today board.

use crate::protocol::SessionKind;
use chrono::{DateTime, Utc};
use uuid::Uuid;

crate::code::coded_enum! {
    /// Where an appointment stands.
    pub enum AppointmentStatus as "appointment status" {
        Planned = "planned" / "Expected",
        CheckedIn = "checked_in" / "Checked in",
        Completed = "completed" / "Done",
        Missed = "missed" / "Missed",
        Cancelled = "cancelled" / "Cancelled",
    }
}

/// The longest cancellation reason.
pub const CANCEL_REASON_MAX: usize = 500;

impl AppointmentStatus {
    /// Whether it still holds its room, staff member and patient's time.
    pub fn holds_time(self) -> bool {
        !matches!(
            self,
            AppointmentStatus::Cancelled | AppointmentStatus::Missed
        )
    }
}

/// A session on the calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct Appointment {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub course_id: Option<Uuid>,
    pub kind: SessionKind,
    /// Its number within its kind in the course ("Dosing 3").
    pub number: Option<i32>,
    pub phase: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub staff_id: Option<Uuid>,
    pub staff_name: Option<String>,
    pub room_id: Option<Uuid>,
    pub room_name: Option<String>,
    pub status: AppointmentStatus,
    pub status_reason: Option<String>,
}

impl Appointment {
    /// "Dosing 3 (induction)", "Integration 2", "Preparation".
    pub fn title(&self) -> String {
        let base = match self.number {
            Some(n) => format!("{} {n}", self.kind.label()),
            None => self.kind.label().to_owned(),
        };
        match &self.phase {
            Some(p) if self.kind == SessionKind::Dosing => format!("{base} ({p})"),
            _ => base,
        }
    }

    /// Minutes it books.
    pub fn minutes(&self) -> i64 {
        (self.ends_at - self.starts_at).num_minutes()
    }

    /// Whether `action` may happen to it at `now`; the message says why not.
    pub fn may(&self, action: AppointmentAction, now: DateTime<Utc>) -> Result<(), String> {
        use AppointmentAction as A;
        use AppointmentStatus as S;
        let ok = match (action, self.status) {
            (A::CheckIn, S::Planned) => Ok(()),
            (A::Complete, S::CheckedIn) => Ok(()),
            (A::Complete, S::Planned) => Err("Check the patient in first."),
            (A::MarkMissed, S::Planned) if now >= self.starts_at => Ok(()),
            (A::MarkMissed, S::Planned) => Err("It has not started yet; cancel it instead."),
            (A::Cancel, S::Planned | S::CheckedIn) => Ok(()),
            (A::Reschedule, S::Planned) => Ok(()),
            (A::Reschedule, _) => Err("Only an expected appointment can be moved."),
            _ => Err("That cannot be done to it now."),
        };
        ok.map_err(|m| {
            format!(
                "{} is {}: {m}",
                self.title(),
                self.status.label().to_lowercase()
            )
        })
    }
}

/// What staff do to an appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppointmentAction {
    CheckIn,
    Complete,
    MarkMissed,
    Cancel,
    Reschedule,
}

/// Checks a cancellation reason.
pub fn parse_cancel_reason(reason: &str) -> Result<String, String> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > CANCEL_REASON_MAX {
        return Err(format!(
            "Say why it is cancelled (1 to {CANCEL_REASON_MAX} characters)."
        ));
    }
    Ok(r.to_owned())
}

crate::code::coded_enum! {
    /// Where a session of today stands, as the today board groups them.
    pub enum BoardColumn as "board column" {
        Expected = "expected" / "Expected",
        CheckedIn = "checked_in" / "Checked in",
        Dosing = "dosing" / "Dosing",
        Monitoring = "monitoring" / "Monitoring",
        ReadyForDischarge = "ready" / "Ready for discharge",
        Done = "done" / "Done",
    }
}

impl BoardColumn {
    /// The column of a dosing session's stage (a deferred session leaves the board).
    pub fn of_stage(s: crate::dosing::Stage) -> Option<BoardColumn> {
        use crate::dosing::Stage;
        match s {
            Stage::PreDose => Some(BoardColumn::CheckedIn),
            Stage::Dosing => Some(BoardColumn::Dosing),
            Stage::Monitoring => Some(BoardColumn::Monitoring),
            Stage::ReadyForDischarge => Some(BoardColumn::ReadyForDischarge),
            Stage::Discharged | Stage::Signed => Some(BoardColumn::Done),
            Stage::Deferred => None,
        }
    }

    /// The column of an appointment (dosing sessions move through dosing, monitoring and
    /// discharge as the dosing record says; until then a checked-in patient waits). Missed and
    /// cancelled sessions are not on the board.
    pub fn of(a: &Appointment) -> Option<BoardColumn> {
        match a.status {
            AppointmentStatus::Planned => Some(BoardColumn::Expected),
            AppointmentStatus::CheckedIn => Some(BoardColumn::CheckedIn),
            AppointmentStatus::Completed => Some(BoardColumn::Done),
            AppointmentStatus::Missed | AppointmentStatus::Cancelled => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn appt(status: AppointmentStatus) -> Appointment {
        let t = DateTime::UNIX_EPOCH + Duration::days(1000);
        Appointment {
            id: Uuid::nil(),
            clinic_id: Uuid::nil(),
            patient_id: Uuid::nil(),
            patient_name: "A".into(),
            course_id: None,
            kind: SessionKind::Dosing,
            number: Some(3),
            phase: Some("induction".into()),
            starts_at: t,
            ends_at: t + Duration::minutes(135),
            staff_id: None,
            staff_name: None,
            room_id: None,
            room_name: None,
            status,
            status_reason: None,
        }
    }

    #[test]
    fn an_appointment_moves_only_along_its_lifecycle() {
        use AppointmentAction as A;
        let p = appt(AppointmentStatus::Planned);
        let before = p.starts_at - Duration::minutes(1);
        assert!(p.may(A::CheckIn, before).is_ok());
        assert!(p.may(A::Reschedule, before).is_ok());
        assert!(p.may(A::Cancel, before).is_ok());
        assert_eq!(
            p.may(A::MarkMissed, before),
            Err(
                "Dosing 3 (induction) is expected: It has not started yet; cancel it instead."
                    .to_owned()
            )
        );
        assert!(p.may(A::MarkMissed, p.starts_at).is_ok());
        assert!(p.may(A::Complete, before).is_err());
        let c = appt(AppointmentStatus::CheckedIn);
        assert!(c.may(A::Complete, before).is_ok());
        assert!(c.may(A::Reschedule, before).is_err());
        for s in [
            AppointmentStatus::Completed,
            AppointmentStatus::Missed,
            AppointmentStatus::Cancelled,
        ] {
            for a in [
                A::CheckIn,
                A::Complete,
                A::MarkMissed,
                A::Cancel,
                A::Reschedule,
            ] {
                assert!(appt(s).may(a, before).is_err(), "{s} {a:?}");
            }
        }
        assert_eq!(p.minutes(), 135);
    }

    #[test]
    fn the_board_shows_todays_sessions_by_status() {
        assert_eq!(
            BoardColumn::of(&appt(AppointmentStatus::Planned)),
            Some(BoardColumn::Expected)
        );
        assert_eq!(BoardColumn::of(&appt(AppointmentStatus::Cancelled)), None);
    }
}

/// What a booking would clash with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    /// The session being booked: "Dosing 3 (induction) on 2026-12-08 10:00".
    pub session: String,
    /// What is already booked then: "Chair 2 (another booking 10:00–12:15)".
    pub with: String,
}

impl std::fmt::Display for Clash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} clashes with {}", self.session, self.with)
    }
}
