//! A screening as stored and shown: its intake, the signed decision that locks it, and the
//! addenda written after; the clinic's screening protocol; and the parsing of what staff type
//! into the intake forms.

use super::Route;
use super::decision::Decision;
use super::intake::{BaselineVitals, Intake};
use super::rules::{Rule, When, default_rules};
use super::staging::TrdRule;
use crate::fields::FieldErrors;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A decision as signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDecision {
    pub decision: Decision,
    pub rationale: String,
    pub routes: Vec<Route>,
    pub justifications: BTreeMap<String, String>,
    pub signed_by: Option<Uuid>,
    pub signed_by_name: Option<String>,
    pub signed_at: DateTime<Utc>,
}

/// A correction or note added after signing (the signed record itself never changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addendum {
    pub author_name: Option<String>,
    pub written_at: DateTime<Utc>,
    pub reason: String,
    pub body: String,
}

/// One screening of a patient.
#[derive(Debug, Clone, PartialEq)]
pub struct Screening {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub intake: Intake,
    /// Trial ids, in the order of `intake.trials`.
    pub trial_ids: Vec<Uuid>,
    pub signed: Option<SignedDecision>,
    pub addenda: Vec<Addendum>,
    /// The patient's latest baseline PHQ-9, GAD-7 and ASQ (those answered), in that order.
    pub baseline: Vec<BaselineScore>,
    /// What the patient reported through a history link, part by part, and each part's status.
    pub report: super::report::PatientReport,
    pub report_status: Vec<super::report::PartStatus>,
    /// The latest history link sent for this screening.
    pub history_link: Option<super::report::HistoryLink>,
}

/// The instruments whose baseline a screening shows (issue 9: baseline PHQ-9, GAD-7, ASQ).
pub const BASELINE_INSTRUMENTS: [&str; 3] = ["phq9", "gad7", "asq"];

/// A baseline questionnaire result as the screening shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineScore {
    pub instrument: &'static crate::instruments::Instrument,
    pub complete: bool,
    pub total: Option<i32>,
    /// The band, or a screen's result.
    pub result: Option<String>,
    pub answered_at: DateTime<Utc>,
}

impl BaselineScore {
    /// "PHQ-9 14 (Moderate)", "ASQ: positive", "GAD-7 incomplete".
    pub fn summary(&self) -> String {
        let name = self.instrument.name;
        if !self.complete {
            return format!("{name} incomplete");
        }
        match (self.total, &self.result) {
            (Some(t), Some(r)) => format!("{name} {t} ({r})"),
            (Some(t), None) => format!("{name} {t}"),
            (None, Some(r)) => format!("{name}: {r}"),
            (None, None) => format!("{name} answered"),
        }
    }
}

impl Screening {
    /// Signed screenings are locked: corrections are addenda.
    pub fn locked(&self) -> bool {
        self.signed.is_some()
    }
}

/// A clinic's screening protocol: its contraindication rules and its TRD definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningProtocol {
    pub trd: TrdRule,
    pub rules: Vec<Rule>,
}

impl Default for ScreeningProtocol {
    /// The shipped protocol: TRD from two failed trials, the default rules (each citing
    /// clinical.md).
    fn default() -> Self {
        ScreeningProtocol {
            trd: TrdRule::default(),
            rules: default_rules(),
        }
    }
}

impl ScreeningProtocol {
    /// Problems that would make the protocol misleading: rules without an id, reason or source,
    /// two rules with one id, thresholds that are not positive, a TRD count of zero.
    pub fn problems(&self) -> Vec<String> {
        let mut out = vec![];
        if self.trd.min_failed_trials == 0 {
            out.push("TRD needs at least one failed trial.".to_owned());
        }
        let mut seen = std::collections::BTreeSet::new();
        for r in &self.rules {
            if r.id.trim().is_empty() || r.reason.trim().is_empty() || r.source.trim().is_empty() {
                out.push(format!(
                    "Rule \"{}\" needs an id, a reason and a source.",
                    r.id
                ));
            }
            if !seen.insert(r.id.as_str()) {
                out.push(format!("Two rules are called \"{}\".", r.id));
            }
            let bad = match &r.when {
                When::BenzodiazepineAbove {
                    diazepam_equivalent_mg,
                } => !(*diazepam_equivalent_mg > 0.0 && diazepam_equivalent_mg.is_finite()),
                When::BloodPressureAbove {
                    systolic,
                    diastolic,
                } => *systolic == 0 || *diastolic == 0,
                When::Has { .. } | When::Takes { .. } => false,
            };
            if bad {
                out.push(format!("Rule \"{}\" needs a positive threshold.", r.id));
            }
        }
        out
    }
}

/// Plausibility bounds for typed vital signs: what a measuring device can show for a living
/// person. They catch typing slips (30 for 130, an extra digit); they are not clinical
/// thresholds and decide nothing about treatment.
pub mod plausible {
    use std::ops::RangeInclusive;
    pub const SYSTOLIC: RangeInclusive<u16> = 50..=300;
    pub const DIASTOLIC: RangeInclusive<u16> = 20..=200;
    pub const HEART_RATE: RangeInclusive<u16> = 20..=250;
    pub const SPO2: RangeInclusive<u16> = 50..=100;
}

/// Baseline vitals as typed on the screening form.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct VitalsForm {
    #[serde(default)]
    pub systolic: String,
    #[serde(default)]
    pub diastolic: String,
    #[serde(default)]
    pub heart_rate: String,
    #[serde(default)]
    pub spo2: String,
}

impl VitalsForm {
    /// Every field is optional (measured later), but what is typed must be plausible, and a
    /// blood pressure needs both numbers with the diastolic below the systolic.
    pub fn parse(&self) -> Result<BaselineVitals, FieldErrors> {
        let mut e = FieldErrors::new();
        let mut num = |field: &str, s: &str, range: std::ops::RangeInclusive<u16>, what: &str| {
            let t = s.trim();
            if t.is_empty() {
                return None;
            }
            match t.parse::<u16>() {
                Ok(v) if range.contains(&v) => Some(v),
                _ => {
                    e.add(
                        field,
                        format!(
                            "Enter the {what} as a whole number from {} to {}.",
                            range.start(),
                            range.end()
                        ),
                    );
                    None
                }
            }
        };
        let systolic = num(
            "systolic",
            &self.systolic,
            plausible::SYSTOLIC,
            "systolic pressure (mmHg)",
        );
        let diastolic = num(
            "diastolic",
            &self.diastolic,
            plausible::DIASTOLIC,
            "diastolic pressure (mmHg)",
        );
        let heart_rate = num(
            "heart_rate",
            &self.heart_rate,
            plausible::HEART_RATE,
            "heart rate (beats a minute)",
        );
        let spo2 = num("spo2", &self.spo2, plausible::SPO2, "oxygen saturation (%)");
        match (systolic, diastolic) {
            (Some(s), Some(d)) if d >= s => e.add(
                "diastolic",
                "The diastolic pressure must be below the systolic.",
            ),
            (Some(_), None) if self.diastolic.trim().is_empty() => {
                e.add("diastolic", "Enter both numbers of the blood pressure.")
            }
            (None, Some(_)) if self.systolic.trim().is_empty() => {
                e.add("systolic", "Enter both numbers of the blood pressure.")
            }
            _ => {}
        }
        if e.is_empty() {
            Ok(BaselineVitals {
                systolic,
                diastolic,
                heart_rate,
                spo2: spo2.and_then(|v| u8::try_from(v).ok()),
            })
        } else {
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(s: &str, d: &str, hr: &str, o: &str) -> VitalsForm {
        VitalsForm {
            systolic: s.into(),
            diastolic: d.into(),
            heart_rate: hr.into(),
            spo2: o.into(),
        }
    }

    #[test]
    fn implausible_vitals_are_refused_with_a_message() {
        let v = form("128", "82", "71", "98").parse().unwrap_or_default();
        assert_eq!(
            (v.systolic, v.diastolic, v.heart_rate, v.spo2),
            (Some(128), Some(82), Some(71), Some(98))
        );
        for (f, field) in [
            (form("30", "20", "", ""), "systolic"),
            (form("400", "80", "", ""), "systolic"),
            (form("120", "130", "", ""), "diastolic"),
            (form("120", "", "", ""), "diastolic"),
            (form("", "", "0", ""), "heart_rate"),
            (form("", "", "", "101"), "spo2"),
            (form("abc", "80", "", ""), "systolic"),
        ] {
            let e = f.parse().err().unwrap_or_default();
            assert!(e.get(field).is_some(), "{field}: {e}");
        }
        assert_eq!(form("", "", "", "").parse().map(|v| v.systolic), Ok(None));
    }

    #[test]
    fn the_shipped_protocol_is_sound_and_round_trips() {
        let p = ScreeningProtocol::default();
        assert!(p.problems().is_empty(), "{:?}", p.problems());
        let json = serde_json::to_string(&p).unwrap_or_default();
        let back: ScreeningProtocol =
            serde_json::from_str(&json).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(back, p);
        let mut bad = p.clone();
        bad.trd.min_failed_trials = 0;
        bad.rules.push(bad.rules[0].clone());
        assert_eq!(bad.problems().len(), 2);
    }
}
