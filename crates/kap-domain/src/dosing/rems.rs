//! The SPRAVATO REMS Patient Monitoring Form (June 2024 fields, clinical.md §2.6), gathered
//! from an esketamine session: what the session knows is filled in from it, the rest is asked
//! of the nurse; the session cannot be signed until every field has an answer. The form is
//! submitted to the REMS within 7 days of the session [S53 S54].

use super::discharge::readiness;
use super::{Rating, Session};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Days after the session within which the form must reach the REMS [S53 S54].
pub const SUBMIT_WITHIN_DAYS: i64 = 7;

/// The REMS requires at least this many minutes from the first device to the end of
/// monitoring [S46].
pub const MINIMUM_MINUTES: i64 = 120;

/// What the form needs that is not in the session.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Context {
    pub patient_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub sex: String,
    /// Whether this is the patient's first esketamine session.
    pub first_treatment: bool,
    /// Whether the patient is enrolled in the REMS (the chart's REMS record).
    pub enrolled: bool,
    pub hcp_name: String,
    pub hcp_email: String,
    pub setting_name: String,
    pub treatment_date: NaiveDate,
}

/// One line of the form: its section, label and answer (none: still to be answered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub section: &'static str,
    pub label: &'static str,
    pub answer: Option<String>,
    /// Where the nurse answers it, when it is asked (a form field name).
    pub asked_as: Option<&'static str>,
}

fn yes_no(b: Option<bool>) -> Option<String> {
    b.map(|b| if b { "Yes" } else { "No" }.to_owned())
}

fn nonempty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// The blood pressure of the entry closest to `t` within `window` minutes, as "142/88 at 10:42".
fn bp_near(s: &Session, t: DateTime<Utc>, window: i64, before: bool) -> Option<String> {
    s.vitals
        .iter()
        .filter(|v| v.has_bp())
        .filter(|v| {
            let d = (v.at - t).num_minutes();
            if before {
                v.at <= t && d >= -window
            } else {
                d.abs() <= window
            }
        })
        .min_by_key(|v| (v.at - t).num_seconds().abs())
        .map(|v| format!("{} at {}", v.bp(), v.at.format("%H:%M")))
}

/// The whole form, in the order of the paper form.
pub fn form(s: &Session, c: &Context, now: DateTime<Utc>) -> Vec<Field> {
    let a = s.rems.clone().unwrap_or_default();
    let start = s.dosing_started_at();
    let end = s.discharge.as_ref().map(|d| d.at);
    let f = |section, label, answer: Option<String>| Field {
        section,
        label,
        answer,
        asked_as: None,
    };
    let ask = |section, label, answer: Option<String>, name| Field {
        section,
        label,
        answer,
        asked_as: Some(name),
    };
    let dose_mg = s.mg_given();
    let lots: Vec<String> = s.administrations.iter().map(|x| x.lot.clone()).collect();
    let pre = s.pre_dose_vitals();
    let m = &s.protocol.monitoring;
    let limits: Vec<crate::protocol::Threshold> = m.hold.iter().chain(&m.alert).cloned().collect();
    let hold = &limits;
    let pre_ok = pre.map(|v| super::checklist::crossings(hold, v).is_empty());
    let last = s.vitals.iter().max_by_key(|v| v.at);
    let last_ok = last
        .filter(|v| start.is_some_and(|st| v.at >= st))
        .map(|v| super::checklist::crossings(hold, v).is_empty());
    let r = readiness(s, now);
    let ready_estimate = match (start, r.ready_without_minimum_at()) {
        (Some(st), Some(t)) => Some((t - st).num_minutes().max(0) as u32),
        _ => None,
    };
    let ready = a.ready_minutes.or(ready_estimate);
    vec![
        f("Patient", "Name", nonempty(&c.patient_name)),
        f(
            "Patient",
            "Date of birth",
            c.date_of_birth.map(|d| d.to_string()),
        ),
        f("Patient", "Sex", nonempty(&c.sex)),
        f(
            "Patient",
            "First treatment",
            yes_no(Some(c.first_treatment)),
        ),
        f("Patient", "Enrolled in the REMS", yes_no(Some(c.enrolled))),
        ask(
            "Concomitant medication",
            "Benzodiazepines",
            yes_no(a.benzodiazepines),
            "benzodiazepines",
        ),
        ask(
            "Concomitant medication",
            "Non-benzodiazepine sedative hypnotics",
            yes_no(a.non_benzo_sedative_hypnotics),
            "non_benzo_sedative_hypnotics",
        ),
        ask(
            "Concomitant medication",
            "Psychostimulants",
            yes_no(a.psychostimulants),
            "psychostimulants",
        ),
        ask(
            "Concomitant medication",
            "Monoamine oxidase inhibitors (MAOIs)",
            yes_no(a.maois),
            "maois",
        ),
        ask(
            "Concomitant medication",
            "Opioids",
            yes_no(a.opioids),
            "opioids",
        ),
        f(
            "Monitoring healthcare provider",
            "Name",
            nonempty(&c.hcp_name),
        ),
        ask(
            "Monitoring healthcare provider",
            "Phone",
            nonempty(&a.hcp_phone),
            "hcp_phone",
        ),
        f(
            "Monitoring healthcare provider",
            "Email",
            nonempty(&c.hcp_email),
        ),
        f("Setting", "Name", nonempty(&c.setting_name)),
        ask(
            "Setting",
            "Address",
            nonempty(&a.setting_address),
            "setting_address",
        ),
        f(
            "Session",
            "Treatment date",
            Some(c.treatment_date.to_string()),
        ),
        f(
            "Session",
            "Dose",
            (dose_mg > 0.0).then(|| match dose_mg as u32 {
                56 | 84 => format!("{dose_mg:.0} mg"),
                _ => format!("Other: {dose_mg:.0} mg"),
            }),
        ),
        f(
            "Session",
            "Lot number",
            (!lots.is_empty()).then(|| lots.join(", ")),
        ),
        f(
            "Session",
            "Total duration, first device to end of monitoring (min)",
            match (start, end) {
                (Some(st), Some(e)) => Some((e - st).num_minutes().to_string()),
                _ => None,
            },
        ),
        ask(
            "REMS evaluation",
            "Minutes from the start of administration at which the patient would have been ready to leave without the 2-hour minimum",
            ready.map(|m| m.to_string()),
            "ready_minutes",
        ),
        f(
            "Vital signs",
            "Acceptable before administration",
            yes_no(pre_ok),
        ),
        f(
            "Vital signs",
            "Acceptable before session completion",
            yes_no(last_ok),
        ),
        f(
            "Blood pressure",
            "Before administration",
            pre.filter(|v| v.has_bp())
                .map(|v| format!("{} at {}", v.bp(), v.at.format("%H:%M"))),
        ),
        // From the flowsheet when a reading lies near minute 40; otherwise the nurse says
        // what was measured (or that it was not), so the form never waits on a reading that
        // cannot come.
        ask(
            "Blood pressure",
            "40 minutes after administration",
            start
                .and_then(|st| bp_near(s, st + Duration::minutes(40), 15, false))
                .or_else(|| nonempty(&a.bp_after_40)),
            "bp_after_40",
        ),
        f(
            "Blood pressure",
            "Before session completion",
            end.and_then(|e| bp_near(s, e, 30, true)),
        ),
        ask(
            "Adverse outcomes",
            "Sedation",
            yes_no(a.sedation),
            "sedation",
        ),
        ask(
            "Adverse outcomes",
            "Dissociation",
            yes_no(a.dissociation),
            "dissociation",
        ),
        ask(
            "Adverse outcomes",
            "Respiratory depression",
            yes_no(a.respiratory_depression),
            "respiratory_depression",
        ),
        // Optional: "none" when left empty, never counted as missing.
        ask(
            "Adverse outcomes",
            "Other",
            Some(nonempty(&a.other_adverse).unwrap_or_else(|| "None".to_owned())),
            "other_adverse",
        ),
    ]
}

/// What the session suggests for the adverse-outcome questions (the nurse answers them):
/// sedation when a MOAA/S below 5 was recorded; dissociation when a CADSS-6 item was above 0.
pub fn suggested(s: &Session) -> (bool, bool) {
    let sedation = s
        .observations
        .iter()
        .any(|o| matches!(o.rating, Rating::Moaas(m) if m.score() < 5));
    let dissociation = s
        .observations
        .iter()
        .any(|o| matches!(&o.rating, Rating::Cadss6(items) if items.iter().any(|v| *v > 0)));
    (sedation, dissociation)
}

/// The labels of the fields still without an answer.
pub fn missing(fields: &[Field]) -> Vec<String> {
    fields
        .iter()
        .filter(|f| f.answer.is_none())
        .map(|f| format!("{}: {}", f.section, f.label))
        .collect()
}

/// The date by which the form must reach the REMS.
pub fn due_on(treatment_date: NaiveDate) -> NaiveDate {
    treatment_date + Duration::days(SUBMIT_WITHIN_DAYS)
}
