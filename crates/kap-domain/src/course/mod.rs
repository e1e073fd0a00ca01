//! Treatment courses (issue 10): a prescriber turns a signed eligibility decision into a
//! personalised series of sessions under one protocol version — preparation, dosing,
//! integration, re-assessment and follow-up — and the clinic works the calendar from it.
//!
//! [`plan`] reads the prescriber's tailoring and lays the sessions out (pure: the store books
//! them and refuses clashes); [`appointment`] holds what can happen to a booked session.

pub mod appointment;
pub mod plan;
pub mod timeline;

pub use appointment::{Appointment, AppointmentStatus};
pub use plan::{CourseForm, CoursePlan, PlannedSession};

use crate::protocol::dose::PlannedDose;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

crate::code::coded_enum! {
    /// Where a course stands.
    pub enum CourseStatus as "course status" {
        Planned = "planned" / "Planned",
        Active = "active" / "Active",
        Paused = "paused" / "Paused",
        Completed = "completed" / "Completed",
        Stopped = "stopped" / "Stopped",
    }
}

/// The longest reason for stopping or pausing a course.
pub const REASON_MAX: usize = 1000;

impl CourseStatus {
    /// Whether a course in this status may move to `next` (a prescriber's action; a course
    /// also becomes active by itself when its first session is checked in).
    pub fn may_become(self, next: CourseStatus) -> Result<(), String> {
        use CourseStatus::*;
        let ok = matches!(
            (self, next),
            (Planned, Active)
                | (Active, Paused)
                | (Paused, Active)
                | (Active, Completed)
                | (Paused, Completed)
                | (Planned | Active | Paused, Stopped)
        );
        if ok {
            Ok(())
        } else {
            Err(format!(
                "A {} course cannot become {}.",
                self.label().to_lowercase(),
                next.label().to_lowercase()
            ))
        }
    }

    /// Whether the course still books sessions (its planned sessions stand).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            CourseStatus::Planned | CourseStatus::Active | CourseStatus::Paused
        )
    }

    /// Stopping and pausing need a reason in words.
    pub fn needs_reason(self) -> bool {
        matches!(self, CourseStatus::Stopped | CourseStatus::Paused)
    }
}

/// Checks a reason given for stopping or pausing.
pub fn parse_reason(status: CourseStatus, reason: &str) -> Result<Option<String>, String> {
    let r = reason.trim();
    if !status.needs_reason() {
        return Ok((!r.is_empty()).then(|| r.to_owned()));
    }
    if r.is_empty() || r.chars().count() > REASON_MAX {
        return Err(format!(
            "Say why the course is {} (1 to {REASON_MAX} characters).",
            status.label().to_lowercase()
        ));
    }
    Ok(Some(r.to_owned()))
}

/// A course as the chart shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Course {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    /// The protocol version it was planned under (never changes).
    pub protocol_id: Uuid,
    pub protocol_title: String,
    pub route: crate::screening::Route,
    pub screening_id: Uuid,
    pub status: CourseStatus,
    pub status_reason: Option<String>,
    pub status_changed_at: DateTime<Utc>,
    pub dose: PlannedDose,
    pub start_date: NaiveDate,
    pub prescriber_id: Option<Uuid>,
    pub prescriber_name: Option<String>,
    pub therapist_id: Option<Uuid>,
    pub therapist_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The course's story in numbers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CourseSummary {
    pub sessions_planned: i64,
    pub sessions_done: i64,
    pub sessions_missed: i64,
    pub dosing_planned: i64,
    /// Dosing sessions completed (each one a dose given).
    pub doses_given: i64,
    /// PHQ-9 at the start (the latest before the course began) and now.
    pub score_start: Option<i32>,
    pub score_now: Option<i32>,
    /// The next planned session.
    pub next: Option<DateTime<Utc>>,
}

impl CourseSummary {
    /// PHQ-9 at a course's start — the latest total given by the time it was planned, else the
    /// first after — and now (the latest), from a patient's totals oldest first.
    pub fn phq9_start_and_now(
        totals: &[(DateTime<Utc>, i32)],
        planned_at: DateTime<Utc>,
    ) -> (Option<i32>, Option<i32>) {
        let start = totals
            .iter()
            .rev()
            .find(|(at, _)| *at <= planned_at)
            .or_else(|| totals.first())
            .map(|(_, t)| *t);
        (start, totals.last().map(|(_, t)| *t))
    }

    /// "−8 (57 %)": the PHQ-9 change since the start, when both are known.
    pub fn change(&self) -> Option<String> {
        let (Some(a), Some(b)) = (self.score_start, self.score_now) else {
            return None;
        };
        let d = b - a;
        let pct = if a > 0 {
            format!(
                " ({} %)",
                (f64::from(d.abs()) * 100.0 / f64::from(a)).round()
            )
        } else {
            String::new()
        };
        Some(format!("{}{}{pct}", if d < 0 { "−" } else { "+" }, d.abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CourseStatus::*;

    #[test]
    fn a_course_moves_only_along_its_lifecycle() {
        assert!(Planned.may_become(Active).is_ok());
        assert!(Active.may_become(Paused).is_ok());
        assert!(Paused.may_become(Active).is_ok());
        assert!(Active.may_become(Completed).is_ok());
        for s in [Planned, Active, Paused] {
            assert!(s.may_become(Stopped).is_ok());
        }
        for s in [Completed, Stopped] {
            for n in CourseStatus::ALL {
                assert!(s.may_become(n).is_err(), "{s} → {n}");
            }
        }
        assert_eq!(
            Planned.may_become(Completed),
            Err("A planned course cannot become completed.".to_owned())
        );
    }

    #[test]
    fn stopping_and_pausing_need_a_reason() {
        assert!(parse_reason(Stopped, "  ").is_err());
        assert!(parse_reason(Paused, &"x".repeat(REASON_MAX + 1)).is_err());
        assert_eq!(
            parse_reason(Stopped, " moved away "),
            Ok(Some("moved away".to_owned()))
        );
        assert_eq!(parse_reason(Active, ""), Ok(None));
    }

    #[test]
    fn the_start_score_is_the_last_before_planning_else_the_first_after() {
        let t = |d: i64| DateTime::UNIX_EPOCH + chrono::Duration::days(d);
        let totals = [(t(1), 20), (t(5), 18), (t(9), 9)];
        assert_eq!(
            CourseSummary::phq9_start_and_now(&totals, t(6)),
            (Some(18), Some(9))
        );
        assert_eq!(
            CourseSummary::phq9_start_and_now(&totals, t(0)),
            (Some(20), Some(9))
        );
        assert_eq!(CourseSummary::phq9_start_and_now(&[], t(0)), (None, None));
    }

    #[test]
    fn the_change_is_signed_with_its_percentage() {
        let s = CourseSummary {
            score_start: Some(20),
            score_now: Some(8),
            ..CourseSummary::default()
        };
        assert_eq!(s.change().as_deref(), Some("−12 (60 %)"));
    }
}
