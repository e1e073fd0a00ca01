//! Questionnaire schedules: "send this questionnaire every N days" for one patient.

use crate::instruments::Instrument;
use chrono::{DateTime, Duration, Utc};
use std::ops::RangeInclusive;
use uuid::Uuid;

/// Allowed intervals, in days.
pub const EVERY_DAYS: RangeInclusive<i32> = 1..=365;

/// Hours before an appointment a "before appointment" questionnaire may be sent: one hour to
/// one week.
pub const HOURS_BEFORE: RangeInclusive<i32> = 1..=168;

/// A schedule as the chart and the worker see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub instrument: &'static Instrument,
    pub every_days: Option<i32>,
    pub before_appointment_kind: Option<String>,
    /// For "before appointment" schedules: sent this many hours before the appointment.
    pub hours_before: Option<i32>,
    pub next_due_at: Option<DateTime<Utc>>,
    pub active: bool,
    /// Who set it up: links it makes are made in their name.
    pub created_by: Option<Uuid>,
}

/// The next due time after a schedule fired at `now`, having been due at `due`: one interval
/// on, and past `now` — a worker that was down for weeks sends one link, not a backlog.
pub fn next_due(due: DateTime<Utc>, now: DateTime<Utc>, every_days: i32) -> DateTime<Utc> {
    let step = Duration::days(i64::from(every_days.max(1)));
    let mut next = due + step;
    while next <= now {
        next += step;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_due_time_is_one_interval_on_and_never_in_the_past() {
        let t0 = DateTime::UNIX_EPOCH;
        assert_eq!(next_due(t0, t0, 7), t0 + Duration::days(7));
        assert_eq!(
            next_due(t0, t0 + Duration::days(20), 7),
            t0 + Duration::days(21)
        );
        assert_eq!(
            next_due(t0, t0 + Duration::days(21), 7),
            t0 + Duration::days(28)
        );
    }
}
