//! Check-in schedules: when the worker sends a patient their next check-in link. Two rhythms,
//! one of each per patient:
//!
//! - **every N days while the course is active**: tied to the patient's open course when it
//!   was set up; a turn that falls while the course is planned or paused is skipped, and the
//!   schedule ends when the course is completed or stopped. Set up without a course, it runs
//!   until stopped;
//! - **N days after each dosing session**: one link per dosing session discharged after the
//!   schedule was set up, N days after the discharge.
//!
//! Either may attach one questionnaire to every link it sends.

use crate::course::CourseStatus;
use crate::fields::FieldErrors;
use crate::instruments::{self, Instrument};
use chrono::{DateTime, Duration, Utc};
use std::ops::RangeInclusive;
use uuid::Uuid;

/// Allowed intervals of an every-N-days schedule, in days.
pub const EVERY_DAYS: RangeInclusive<i32> = 1..=60;
/// Allowed delays after a dosing session, in days.
pub const DAYS_AFTER: RangeInclusive<i32> = 1..=14;

crate::code::coded_enum! {
    /// A schedule's rhythm.
    pub enum ScheduleKind as "check-in schedule" {
        EveryDays = "every_days" / "Every N days while the course is active",
        AfterDosing = "after_dosing" / "N days after each dosing session",
    }
}

impl ScheduleKind {
    pub fn days_range(self) -> RangeInclusive<i32> {
        match self {
            ScheduleKind::EveryDays => EVERY_DAYS,
            ScheduleKind::AfterDosing => DAYS_AFTER,
        }
    }
}

/// A schedule as the chart and the worker see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinSchedule {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub kind: ScheduleKind,
    pub days: i32,
    pub instrument: Option<&'static Instrument>,
    /// The course an every-N-days schedule follows.
    pub course_id: Option<Uuid>,
    /// When an every-N-days schedule next sends.
    pub next_due_at: Option<DateTime<Utc>>,
    pub active: bool,
    /// Who set it up: links it makes are made in their name.
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl CheckinSchedule {
    /// "Every 7 days while the course is active, with PHQ-9".
    pub fn describe(&self) -> String {
        let rhythm = match (self.kind, self.course_id.is_some()) {
            (ScheduleKind::EveryDays, true) => {
                format!("Every {} days while the course is active", self.days)
            }
            (ScheduleKind::EveryDays, false) => format!("Every {} days", self.days),
            (ScheduleKind::AfterDosing, _) => {
                format!("{} days after each dosing session", self.days)
            }
        };
        match self.instrument {
            Some(i) => format!("{rhythm}, with {}", i.name),
            None => rhythm,
        }
    }
}

/// A schedule as set up from the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewSchedule {
    pub kind: ScheduleKind,
    pub days: i32,
    pub instrument: Option<&'static Instrument>,
}

/// Reads the schedule form: the rhythm, its days and an optional questionnaire (one a
/// patient answers themselves).
pub fn parse_schedule(
    kind: &str,
    days: &str,
    instrument: &str,
) -> Result<NewSchedule, FieldErrors> {
    let mut errs = FieldErrors::new();
    let kind = errs.check(
        "kind",
        ScheduleKind::from_code(kind).ok_or("Choose how often to send check-ins."),
    );
    let days = kind.and_then(|k| {
        let range = k.days_range();
        errs.check(
            "days",
            days.trim()
                .parse::<i32>()
                .ok()
                .filter(|d| range.contains(d))
                .ok_or_else(|| {
                    format!(
                        "Enter a number of days from {} to {}.",
                        range.start(),
                        range.end()
                    )
                }),
        )
    });
    let instrument = errs.check("instrument", parse_instrument(instrument));
    match (kind, days, instrument) {
        (Some(kind), Some(days), Some(instrument)) if errs.is_empty() => Ok(NewSchedule {
            kind,
            days,
            instrument,
        }),
        _ => Err(errs),
    }
}

/// An optional questionnaire to attach (blank: none); only one a patient answers themselves.
pub fn parse_instrument(code: &str) -> Result<Option<&'static Instrument>, String> {
    let c = code.trim();
    if c.is_empty() {
        return Ok(None);
    }
    match instruments::by_code(c) {
        Some(i) if i.has_item_text() => Ok(Some(i)),
        Some(i) => Err(format!(
            "{} is rated by a clinician; it cannot be sent to a patient.",
            i.name
        )),
        None => Err("Choose a questionnaire from the list, or none.".into()),
    }
}

/// What an every-N-days schedule does at a turn, given the status of its course (none: it
/// follows no course).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    Send,
    /// The course is planned or paused: no link this turn; the schedule moves on.
    Skip,
    /// The course is completed or stopped: the schedule ends.
    End,
}

pub fn turn(course: Option<CourseStatus>) -> Turn {
    match course {
        None | Some(CourseStatus::Active) => Turn::Send,
        Some(CourseStatus::Planned | CourseStatus::Paused) => Turn::Skip,
        Some(CourseStatus::Completed | CourseStatus::Stopped) => Turn::End,
    }
}

/// When an after-dosing schedule owes a link for a session discharged at `discharged_at`:
/// `days` later — owed only if that moment falls after the schedule was set up (a new
/// schedule does not send for sessions long past) and has come by `now`.
pub fn after_dosing_due(
    discharged_at: DateTime<Utc>,
    days: i32,
    schedule_created: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let due = discharged_at + Duration::days(i64::from(days));
    (due > schedule_created && due <= now).then_some(due)
}

/// The next due time of an every-N-days schedule that fired at `now`, having been due at
/// `due` (one interval on and past `now`, as questionnaire schedules).
pub fn next_due(due: DateTime<Utc>, now: DateTime<Utc>, days: i32) -> DateTime<Utc> {
    crate::measure::schedule::next_due(due, now, days)
}
