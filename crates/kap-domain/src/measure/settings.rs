//! A clinic's measurement settings: the operational choices a clinic makes for itself (how soon
//! an open safety alert escalates, how long a patient link stays valid, its outcome rules). A
//! typed, validated value: one that exists is within its bounds, and a stored one that is not is
//! an error, never quietly replaced by a default.

use crate::fields::FieldErrors;
use crate::instruments::outcome::OutcomeRules;
use crate::instruments::{self, Flag, Instrument, RaisedFlag, Severity};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// Minutes an open alert may wait before it shows as escalated: one minute to one week.
pub const ESCALATION_MINUTES: RangeInclusive<i32> = 1..=10_080;
/// Hours a patient link stays valid: one hour to thirty days.
pub const LINK_VALID_HOURS: RangeInclusive<i32> = 1..=720;
/// Percent reduction from baseline that counts as response.
pub const RESPONSE_PERCENT: RangeInclusive<i32> = 1..=100;

/// The measurement settings of one clinic (clinic policy, not clinical fact: the defaults are
/// the product's starting point, shown and editable under Clinic settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasurementSettings {
    /// An open alert older than this many minutes is shown as escalated (default 60).
    pub alert_escalation_minutes: i32,
    /// How many hours a patient link stays valid (default 72).
    pub link_valid_hours: i32,
    /// Outcome rules by instrument code; an instrument not listed uses the published defaults
    /// of clinical.md §5.1 ([`OutcomeRules::default_for`]).
    pub outcome_rules: BTreeMap<String, OutcomeRules>,
    /// The severity of a PHQ-9 item 9 alert for the answers 1, 2 and 3 (default high, urgent,
    /// urgent: Simon 2013's risk gradient, clinical.md §11).
    pub phq9_item9_severity: [Severity; 3],
    /// The severity of a "risk question unanswered" alert (default high).
    pub risk_unanswered_severity: Severity,
}

impl Default for MeasurementSettings {
    fn default() -> Self {
        MeasurementSettings {
            alert_escalation_minutes: 60,
            link_valid_hours: 72,
            outcome_rules: BTreeMap::new(),
            phq9_item9_severity: [Severity::High, Severity::Urgent, Severity::Urgent],
            risk_unanswered_severity: Severity::High,
        }
    }
}

impl MeasurementSettings {
    pub fn rules_for(&self, code: &str) -> OutcomeRules {
        self.outcome_rules
            .get(code)
            .copied()
            .unwrap_or_else(|| OutcomeRules::default_for(code))
    }

    /// The severity of the alert a flag raises, by this clinic's rules.
    pub fn severity_of(&self, f: &RaisedFlag) -> Severity {
        match (f.flag, f.value) {
            (Flag::Phq9SelfHarm, Some(v @ 1..=3)) => {
                self.phq9_item9_severity[usize::try_from(v - 1).unwrap_or(0)]
            }
            (Flag::Phq9Item9Unanswered | Flag::AsqUnanswered, _) => self.risk_unanswered_severity,
            _ => f.severity,
        }
    }

    pub fn escalate_after(&self) -> Duration {
        Duration::minutes(i64::from(self.alert_escalation_minutes))
    }

    pub fn link_valid_for(&self) -> Duration {
        Duration::hours(i64::from(self.link_valid_hours))
    }

    /// The instruments whose outcome rules a clinic sets (those with severity bands).
    pub fn rated_instruments() -> impl Iterator<Item = &'static Instrument> {
        instruments::ALL
            .iter()
            .copied()
            .filter(|i| !i.bands.is_empty())
    }

    /// Checks every value against its bounds; errors name the form field at fault.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errs = FieldErrors::new();
        // An instrument without severity bands has no totals to judge: no rules for it.
        for code in self.outcome_rules.keys() {
            if !Self::rated_instruments().any(|i| i.code == code) {
                errs.add(
                    format!("{code}_response"),
                    "Outcome rules are set only for instruments with severity bands.",
                );
            }
        }
        let mut within = |field: String, v: Option<i32>, range: RangeInclusive<i32>| {
            if let Some(v) = v
                && !range.contains(&v)
            {
                errs.add(field, between(&range, false));
            }
        };
        within(
            "alert_escalation_minutes".into(),
            Some(self.alert_escalation_minutes),
            ESCALATION_MINUTES,
        );
        within(
            "link_valid_hours".into(),
            Some(self.link_valid_hours),
            LINK_VALID_HOURS,
        );
        for (code, r) in &self.outcome_rules {
            let Some(max) = Self::rated_instruments()
                .find(|i| i.code == code)
                .map(|i| i.max_total)
            else {
                continue;
            };
            within(
                format!("{code}_response"),
                Some(r.response_reduction_percent),
                RESPONSE_PERCENT,
            );
            within(format!("{code}_remission"), r.remission_at_most, 0..=max);
            within(format!("{code}_worsening"), r.worsening_points, 1..=max);
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// The settings as changed by the clinic-settings form (`field` → text); every field must
    /// be present and valid, and every problem is reported against its field.
    pub fn from_fields<'a>(
        fields: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    ) -> Result<MeasurementSettings, FieldErrors> {
        let get = |k: &str| {
            fields
                .clone()
                .into_iter()
                .find(|(f, _)| *f == k)
                .map_or("", |(_, v)| v.trim())
        };
        let mut errs = FieldErrors::new();
        let mut int = |field: String, range: RangeInclusive<i32>, optional: bool| {
            let v = get(&field);
            if v.is_empty() && optional {
                return Some(None);
            }
            match v.parse::<i32>() {
                Ok(n) if range.contains(&n) => Some(Some(n)),
                _ => {
                    errs.add(field, between(&range, optional));
                    None
                }
            }
        };
        let escalation = int("alert_escalation_minutes".into(), ESCALATION_MINUTES, false);
        let hours = int("link_valid_hours".into(), LINK_VALID_HOURS, false);
        let mut outcome_rules = BTreeMap::new();
        for ins in Self::rated_instruments() {
            let code = ins.code;
            let response = int(format!("{code}_response"), RESPONSE_PERCENT, false);
            let remission = int(format!("{code}_remission"), 0..=ins.max_total, true);
            let worsening = int(format!("{code}_worsening"), 1..=ins.max_total, true);
            if let (Some(Some(p)), Some(rem), Some(wor)) = (response, remission, worsening) {
                outcome_rules.insert(
                    code.to_owned(),
                    OutcomeRules {
                        response_reduction_percent: p,
                        remission_at_most: rem,
                        worsening_points: wor,
                    },
                );
            }
        }
        let mut severity = |field: &str| {
            let v = Severity::from_code(get(field));
            if v.is_none() {
                errs.add(field, "Choose high, urgent or critical.");
            }
            v
        };
        let item9 = [
            severity("phq9_item9_severity_1"),
            severity("phq9_item9_severity_2"),
            severity("phq9_item9_severity_3"),
        ];
        let unanswered = severity("risk_unanswered_severity");
        match (escalation, hours, item9, unanswered) {
            (Some(Some(e)), Some(Some(h)), [Some(s1), Some(s2), Some(s3)], Some(u))
                if errs.is_empty() =>
            {
                Ok(MeasurementSettings {
                    alert_escalation_minutes: e,
                    link_valid_hours: h,
                    outcome_rules,
                    phq9_item9_severity: [s1, s2, s3],
                    risk_unanswered_severity: u,
                })
            }
            _ => Err(errs),
        }
    }
}

fn between(range: &RangeInclusive<i32>, optional: bool) -> String {
    format!(
        "Enter a whole number from {} to {}{}.",
        range.start(),
        range.end(),
        if optional { ", or leave it empty" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(over: &[(&'static str, &'static str)]) -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = vec![
            ("alert_escalation_minutes".into(), "60".into()),
            ("link_valid_hours".into(), "72".into()),
            ("phq9_item9_severity_1".into(), "high".into()),
            ("phq9_item9_severity_2".into(), "urgent".into()),
            ("phq9_item9_severity_3".into(), "urgent".into()),
            ("risk_unanswered_severity".into(), "high".into()),
        ];
        for ins in MeasurementSettings::rated_instruments() {
            f.push((format!("{}_response", ins.code), "50".into()));
            f.push((format!("{}_remission", ins.code), String::new()));
            f.push((format!("{}_worsening", ins.code), String::new()));
        }
        for (k, v) in over {
            f.retain(|(x, _)| x != k);
            f.push(((*k).into(), (*v).into()));
        }
        f
    }

    fn parse(f: &[(String, String)]) -> Result<MeasurementSettings, FieldErrors> {
        MeasurementSettings::from_fields(f.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    #[test]
    fn a_complete_form_gives_settings_within_bounds() {
        let s = parse(&form(&[("phq9_remission", "4"), ("phq9_worsening", "5")]))
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(s.alert_escalation_minutes, 60);
        assert_eq!(s.rules_for("phq9").remission_at_most, Some(4));
        assert_eq!(s.rules_for("phq9").worsening_points, Some(5));
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn out_of_bounds_values_are_named_by_field() {
        let e = parse(&form(&[
            ("alert_escalation_minutes", "0"),
            ("link_valid_hours", "many"),
            ("phq9_remission", "28"),
        ]))
        .err()
        .unwrap_or_default();
        assert!(e.get("alert_escalation_minutes").is_some());
        assert!(e.get("link_valid_hours").is_some());
        assert_eq!(
            e.get("phq9_remission"),
            Some("Enter a whole number from 0 to 27, or leave it empty.")
        );
    }

    #[test]
    fn stored_settings_out_of_bounds_do_not_validate() {
        let mut s = MeasurementSettings::default();
        assert_eq!(s.validate(), Ok(()));
        s.link_valid_hours = 0;
        assert!(s.validate().is_err());
        let mut s = MeasurementSettings::default();
        s.outcome_rules.insert(
            "asq".into(),
            OutcomeRules {
                response_reduction_percent: 50,
                remission_at_most: None,
                worsening_points: None,
            },
        );
        assert!(s.validate().is_err(), "ASQ has no totals to judge");
    }

    #[test]
    fn a_clinic_sets_the_item_9_split_and_the_unanswered_severity() {
        let s = parse(&form(&[
            ("phq9_item9_severity_1", "urgent"),
            ("risk_unanswered_severity", "critical"),
        ]))
        .unwrap_or_else(|e| unreachable!("{e}"));
        let flag = |flag, value| RaisedFlag {
            flag,
            item: Some("9"),
            value,
            severity: flag.severity(value),
        };
        assert_eq!(
            s.severity_of(&flag(Flag::Phq9SelfHarm, Some(1))),
            Severity::Urgent
        );
        assert_eq!(
            s.severity_of(&flag(Flag::Phq9SelfHarm, Some(3))),
            Severity::Urgent
        );
        assert_eq!(
            s.severity_of(&flag(Flag::Phq9Item9Unanswered, None)),
            Severity::Critical
        );
        assert_eq!(
            s.severity_of(&flag(Flag::AsqAcutePositive, Some(1))),
            Severity::Critical
        );
        let d = MeasurementSettings::default();
        assert_eq!(
            d.severity_of(&flag(Flag::Phq9SelfHarm, Some(1))),
            Severity::High
        );
        assert_eq!(
            d.severity_of(&flag(Flag::Phq9SelfHarm, Some(2))),
            Severity::Urgent
        );
        assert_eq!(
            d.severity_of(&flag(Flag::AsqUnanswered, None)),
            Severity::High
        );
        let e = parse(&form(&[("risk_unanswered_severity", "meh")]))
            .err()
            .unwrap_or_default();
        assert_eq!(
            e.get("risk_unanswered_severity"),
            Some("Choose high, urgent or critical.")
        );
    }

    #[test]
    fn a_stored_document_with_unknown_fields_is_refused() {
        let r: Result<MeasurementSettings, _> = serde_json::from_str(
            r#"{"alert_escalation_minutes":60,"link_valid_hours":72,"outcome_rules":{},"phq9_item9_severity":["high","urgent","urgent"],"risk_unanswered_severity":"high","extra":1}"#,
        );
        assert!(r.is_err());
    }
}
