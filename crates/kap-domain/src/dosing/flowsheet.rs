//! The live flowsheet's rules: which vitals are plausible, when the next measurement is due on
//! the protocol's intervals (and its fixed blood-pressure checks), and which values raise an
//! alert — exactly one per measure beyond the protocol's alert limits.

use super::checklist::{Crossing, crossings};
use super::{Session, Vitals};
use crate::FieldErrors;
use crate::protocol::VitalMeasure;
use chrono::{DateTime, Duration, Utc};

/// Physiologically plausible values (the same bounds protocol thresholds are checked against):
/// anything outside is a typing slip or a faulty probe, refused with a message.
pub fn plausible(m: VitalMeasure) -> (f64, f64) {
    match m {
        VitalMeasure::Systolic => (50.0, 300.0),
        VitalMeasure::Diastolic => (20.0, 200.0),
        VitalMeasure::HeartRate => (20.0, 250.0),
        VitalMeasure::Spo2 => (50.0, 100.0),
        VitalMeasure::RespiratoryRate => (4.0, 60.0),
    }
}

/// A measure in running text: "systolic blood pressure (mmHg)".
pub fn words(m: VitalMeasure) -> &'static str {
    match m {
        VitalMeasure::Systolic => "systolic blood pressure (mmHg)",
        VitalMeasure::Diastolic => "diastolic blood pressure (mmHg)",
        VitalMeasure::HeartRate => "heart rate (/min)",
        VitalMeasure::Spo2 => "oxygen saturation (%)",
        VitalMeasure::RespiratoryRate => "respiratory rate (/min)",
    }
}

/// A vitals entry as typed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VitalsForm {
    pub systolic: Option<f64>,
    pub diastolic: Option<f64>,
    pub heart_rate: Option<f64>,
    pub spo2: Option<f64>,
    pub respiratory_rate: Option<f64>,
}

impl VitalsForm {
    pub fn value(&self, m: VitalMeasure) -> Option<f64> {
        match m {
            VitalMeasure::Systolic => self.systolic,
            VitalMeasure::Diastolic => self.diastolic,
            VitalMeasure::HeartRate => self.heart_rate,
            VitalMeasure::Spo2 => self.spo2,
            VitalMeasure::RespiratoryRate => self.respiratory_rate,
        }
    }
}

/// The field name of a measure in forms and the API.
pub fn field(m: VitalMeasure) -> &'static str {
    m.as_str()
}

/// Checks a vitals entry: at least one value, blood pressure as a pair with the systolic above
/// the diastolic, every value plausible; the time not in the future and not before the
/// session was opened.
pub fn check(
    f: &VitalsForm,
    at: DateTime<Utc>,
    opened_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), FieldErrors> {
    let mut e = FieldErrors::new();
    if VitalMeasure::ALL.iter().all(|m| f.value(*m).is_none()) {
        e.add("systolic", "Enter at least one measurement.");
    }
    for m in VitalMeasure::ALL {
        if let Some(v) = f.value(m) {
            let (lo, hi) = plausible(m);
            if !v.is_finite() || v < lo || v > hi {
                e.add(
                    field(m),
                    format!(
                        "{v} is not a plausible {}: enter a value from {lo} to {hi}, or check the probe.",
                        words(m)
                    ),
                );
            }
        }
    }
    match (f.systolic, f.diastolic) {
        (Some(_), None) => e.add("diastolic", "Enter the diastolic pressure too."),
        (None, Some(_)) => e.add("systolic", "Enter the systolic pressure too."),
        (Some(s), Some(d)) if s <= d && e.get("systolic").is_none() => e.add(
            "diastolic",
            "The diastolic pressure must be lower than the systolic.",
        ),
        _ => {}
    }
    check_time(&mut e, "at", at, opened_at, now);
    if e.is_empty() { Ok(()) } else { Err(e) }
}

/// An entry's time: not in the future (a minute's leeway for clocks), not before the session
/// was opened less an hour (pre-dose vitals taken in the waiting room).
pub fn check_time(
    e: &mut FieldErrors,
    field: &str,
    at: DateTime<Utc>,
    opened_at: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    if at > now + Duration::minutes(1) {
        e.add(field, "This time is in the future.");
    } else if at < opened_at - Duration::hours(1) {
        e.add(
            field,
            "This time is before the session began; check the date and time.",
        );
    }
}

/// The alerts a vitals entry raises: one per measure beyond the protocol's alert limits.
pub fn alerts(s: &Session, v: &Vitals) -> Vec<Crossing> {
    crossings(&s.protocol.monitoring.alert, v)
}

/// The next measurement the protocol asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub at: DateTime<Utc>,
    /// "vitals every 10 min during dosing", "blood pressure 40 min after the first dose".
    pub why: String,
    pub overdue: bool,
}

/// When the next vitals are due at `now`: none before dosing (pre-dose vitals are on the
/// checklist) and none once discharged. During dosing the protocol's "during" interval from
/// the latest vitals (or the start), after it the "after" interval; a fixed blood-pressure
/// check not yet met comes first when it is sooner. Overdue when `now` is past it.
pub fn next_due(s: &Session, now: DateTime<Utc>) -> Option<Due> {
    let start = s.dosing_started_at()?;
    if s.discharge.is_some() || s.signed() {
        return None;
    }
    let m = &s.protocol.monitoring;
    let latest = s
        .vitals
        .iter()
        .filter(|v| v.at >= start)
        .map(|v| v.at)
        .max();
    let base = latest.unwrap_or(start);
    let (every, phase) = if s.giving() {
        (
            m.vitals_every_minutes_during.get(),
            "while the dose is given",
        )
    } else {
        (m.vitals_every_minutes_after.get(), "after dosing")
    };
    let mut due = Due {
        at: base + Duration::minutes(i64::from(every)),
        why: format!("vitals every {every} min {phase}"),
        overdue: false,
    };
    if let Some(bp) = &m.bp_checks_at_minutes {
        for &minute in bp.value.get_ref() {
            let t = start + Duration::minutes(i64::from(minute));
            let met = s.vitals.iter().any(|v| v.has_bp() && v.at >= t);
            if !met && t < due.at {
                due = Due {
                    at: t,
                    why: format!("blood pressure {minute} min after the first dose"),
                    overdue: false,
                };
            }
        }
    }
    due.overdue = now > due.at;
    Some(due)
}
