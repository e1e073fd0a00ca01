//! Treatment protocols as data (issue 10): one TOML file per protocol and version, read and
//! validated here — drug and route, the dose rule, the session pattern, monitoring and its
//! thresholds, discharge criteria, the questionnaires each kind of session needs, and the
//! contraindication rules. Every number carries its source (a key of the file's `[sources]`
//! table, or the words "clinic policy"). Facts: `../shared/reference/clinical.md` §1, §2, §4.
//!
//! The store keeps each uploaded version's text unchanged; every course keeps the version it
//! was planned under, so changing a protocol never rewrites a course.

pub mod diff;
pub mod dose;
pub mod parse;
pub mod record;
#[cfg(test)]
mod tests;

pub use parse::{ProtocolError, ProtocolErrors, parse, shipped};

use crate::screening::Route;
use crate::screening::rules::Rule;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The words that mark a number no cited source gives: the clinic chose it.
pub const CLINIC_POLICY: &str = "clinic policy";

/// A number (or list) and where it comes from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sourced<T> {
    pub value: toml::Spanned<T>,
    /// Keys of the file's `[sources]` separated by spaces or commas, or "clinic policy".
    pub source: toml::Spanned<String>,
}

impl<T: Copy> Sourced<T> {
    pub fn get(&self) -> T {
        *self.value.get_ref()
    }
}

impl<T> Sourced<T> {
    /// Whether the clinic chose this number rather than a cited source.
    pub fn is_clinic_policy(&self) -> bool {
        is_clinic_policy(self.source.get_ref())
    }

    /// The source keys it cites, in order; none when it is clinic policy.
    pub fn cited_keys(&self) -> Vec<&str> {
        cited_keys(self.source.get_ref())
    }
}

/// Whether a `source` says "clinic policy" (any case, spaces around allowed).
pub fn is_clinic_policy(source: &str) -> bool {
    source.trim().eq_ignore_ascii_case(CLINIC_POLICY)
}

/// The keys a `source` names (separated by spaces or commas); none when it is clinic policy.
pub fn cited_keys(source: &str) -> Vec<&str> {
    if is_clinic_policy(source) {
        return vec![];
    }
    source
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|k| !k.is_empty())
        .collect()
}

/// A number as people read it: at most two decimals, no trailing zeros ("0.5", "60", "36.52").
fn num(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// "56", "56 or 84", "100, 150 or 200".
fn or_list<T: std::fmt::Display>(items: &[T]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(ToString::to_string).collect();
            format!("{} or {last}", init.join(", "))
        }
    }
}

crate::code::coded_enum! {
    /// The drug a protocol gives.
    pub enum Drug as "drug" {
        Ketamine = "ketamine" / "Racemic ketamine",
        Esketamine = "esketamine" / "Esketamine",
    }
}

crate::code::coded_enum! {
    /// The kinds of session a course is made of.
    pub enum SessionKind as "session kind" {
        Preparation = "preparation" / "Preparation",
        Dosing = "dosing" / "Dosing",
        Integration = "integration" / "Integration",
        FollowUp = "follow_up" / "Follow-up",
        Reassessment = "reassessment" / "Re-assessment",
    }
}

crate::code::coded_enum! {
    /// A vital sign a threshold looks at.
    pub enum VitalMeasure as "vital sign" {
        Systolic = "systolic" / "Systolic blood pressure (mmHg)",
        Diastolic = "diastolic" / "Diastolic blood pressure (mmHg)",
        HeartRate = "heart_rate" / "Heart rate (/min)",
        Spo2 = "spo2" / "Oxygen saturation (%)",
        RespiratoryRate = "respiratory_rate" / "Respiratory rate (/min)",
    }
}

/// One protocol version, as its file says.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// Stable name across versions, e.g. `esketamine-trd` (lower-case letters, digits, `-`).
    pub key: String,
    /// 1, 2, …: a new upload must carry a higher version than the clinic's latest.
    pub version: u32,
    pub name: String,
    /// One paragraph for the prescriber choosing a protocol.
    pub summary: String,
    pub drug: Drug,
    pub route: Route,
    /// Citation of each source key used in the file, e.g. `S34 = "SPRAVATO prescribing information"`.
    pub sources: BTreeMap<String, String>,
    pub dose: DoseRule,
    /// Extra partial doses within a session; none unless the protocol allows them.
    #[serde(default)]
    pub booster: Option<BoosterRule>,
    pub sessions: SessionPattern,
    pub durations: Durations,
    /// Fasting and timing rules the patient follows before a dosing session. `None` (no
    /// `[pre_dose]` section) means the protocol sets no fasting or timing rule at all, not that
    /// a default applies.
    #[serde(default)]
    pub pre_dose: Option<PreDose>,
    pub monitoring: Monitoring,
    /// Questionnaires sent before sessions of a kind.
    #[serde(default)]
    pub questionnaires: Vec<RequiredQuestionnaire>,
    /// Contraindication rules of this protocol, checked against the screening when a course is
    /// planned (same form as the screening protocol's rules).
    #[serde(default)]
    pub contraindications: Vec<Rule>,
}

/// How the dose is set. In a file, `kind = "per_kg"` or `kind = "fixed"` picks the variant;
/// `Option` fields may be left out.
///
/// Deserialized by hand (`parse.rs`), not derived: serde's internally tagged enums buffer their
/// content, which loses the spans `Sourced` needs for line numbers.
#[derive(Debug, Clone, PartialEq)]
// The variants are the contract other code matches on; a protocol holds one rule, so the size
// does not matter.
#[allow(clippy::large_enum_variant)]
pub enum DoseRule {
    /// By body weight: mg/kg within limits, rounded; ideal body weight above a BMI when set.
    PerKg {
        mg_per_kg: Sourced<f64>,
        min_mg_per_kg: Sourced<f64>,
        max_mg_per_kg: Sourced<f64>,
        /// Never more than this many mg in one dose, whatever the weight.
        max_mg: Option<Sourced<f64>>,
        /// Round the calculated dose to a multiple of this (mg).
        round_to_mg: Sourced<f64>,
        ideal_body_weight: Option<IdealBodyWeight>,
        /// Infusion time, for IV protocols.
        infusion_minutes: Option<Sourced<u32>>,
    },
    /// Fixed doses in steps, e.g. esketamine 56 or 84 mg in 28 mg devices.
    Fixed {
        /// The first dosing session's dose.
        first_mg: Sourced<u32>,
        min_mg: Sourced<u32>,
        max_mg: Sourced<u32>,
        /// Allowed doses are min_mg, min_mg + step_mg, … up to max_mg.
        step_mg: Sourced<u32>,
        /// One device or unit (a nasal spray device, a lozenge), when doses are given in units.
        unit_mg: Option<Sourced<u32>>,
        /// Rest between devices.
        minutes_between_units: Option<Sourced<u32>>,
    },
}

/// When and how to dose by ideal body weight (Devine-type formula: base + per cm over a height).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdealBodyWeight {
    /// Use ideal body weight when BMI is above this.
    pub above_bmi: Sourced<f64>,
    pub base_kg_male: Sourced<f64>,
    pub base_kg_female: Sourced<f64>,
    pub base_height_cm: Sourced<f64>,
    pub kg_per_cm: Sourced<f64>,
}

/// Extra partial doses within one session.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoosterRule {
    pub max_count: Sourced<u32>,
    pub min_minutes_after_first: Sourced<u32>,
    /// The whole session's total (first dose and boosters), in mg for fixed doses or mg/kg
    /// for weight-based ones.
    pub max_total: Sourced<f64>,
}

/// The planned series of sessions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionPattern {
    /// Preparation sessions before the first dosing session.
    pub preparation: Sourced<u32>,
    /// Dosing phases, in order.
    pub phase: Vec<DosingPhase>,
    /// Total dosing sessions a course may have (tailoring stays within it).
    pub min_dosing: Sourced<u32>,
    pub max_dosing: Sourced<u32>,
    /// No two dosing sessions closer than this many days.
    pub min_days_between_doses: Sourced<u32>,
    /// An integration session after every N dosing sessions …
    pub integration_after_every: Sourced<u32>,
    /// … within this many days of it.
    pub integration_within_days: Sourced<u32>,
    /// Follow-up sessions after the last dosing session, every N days.
    pub follow_ups: Sourced<u32>,
    pub follow_up_every_days: Sourced<u32>,
}

/// A stretch of dosing sessions at one rhythm: `per_week` sessions a week, or one every
/// `every_weeks` weeks (exactly one of the two).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DosingPhase {
    /// e.g. "induction", "maintenance".
    pub name: String,
    pub weeks: Sourced<u32>,
    #[serde(default)]
    pub per_week: Option<Sourced<u32>>,
    #[serde(default)]
    pub every_weeks: Option<Sourced<u32>>,
    /// A re-assessment session follows the phase's last dosing session.
    #[serde(default)]
    pub reassess_after: bool,
}

impl DosingPhase {
    /// Dosing sessions in the phase as written.
    pub fn sessions(&self) -> u32 {
        let weeks = self.weeks.get();
        // Saturating: the file's numbers are checked only after this is first called.
        match (&self.per_week, &self.every_weeks) {
            (Some(p), _) => weeks.saturating_mul(p.get()),
            (None, Some(e)) if e.get() > 0 => weeks.div_ceil(e.get()),
            _ => 0,
        }
    }
}

/// How long each kind of session books its room and staff, in minutes. A dosing session books
/// `pre_dose` plus the monitoring minimum (which counts from the start of administration).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Durations {
    pub preparation: Sourced<u32>,
    pub integration: Sourced<u32>,
    pub follow_up: Sourced<u32>,
    pub reassessment: Sourced<u32>,
    /// Check-in and pre-dose checks before administration starts.
    pub pre_dose: Sourced<u32>,
}

/// What the patient does before a dosing session (esketamine: clinical.md §2.3). Each rule is
/// optional; one left out is no rule. Distinct from `durations.pre_dose`, the clinic's
/// check-in time.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreDose {
    /// No food for this many hours before dosing (nausea, vomiting).
    #[serde(default)]
    pub food_hours_before: Option<Sourced<u32>>,
    /// No liquids for this many minutes before dosing.
    #[serde(default)]
    pub fluids_minutes_before: Option<Sourced<u32>>,
    /// A nasal corticosteroid or decongestant at least this many minutes before dosing.
    #[serde(default)]
    pub nasal_medicines_minutes_before: Option<Sourced<u32>>,
}

/// Monitoring during and after dosing.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Vitals interval while the drug is given, and after.
    pub vitals_every_minutes_during: Sourced<u32>,
    pub vitals_every_minutes_after: Sourced<u32>,
    /// Minimum monitoring from the start of administration before discharge.
    pub minimum_minutes: Sourced<u32>,
    /// Blood pressure checks at these minutes after administration starts (e.g. 40 for esketamine).
    #[serde(default)]
    pub bp_checks_at_minutes: Option<Sourced<Vec<u32>>>,
    /// Pre-dose values that hold dosing until a prescriber overrides or defers.
    #[serde(default)]
    pub hold: Vec<Threshold>,
    /// Values during the session that raise an alert.
    #[serde(default)]
    pub alert: Vec<Threshold>,
    pub discharge: Discharge,
}

/// A limit on one vital sign: beyond `above` or below `below` (at least one).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub measure: VitalMeasure,
    #[serde(default)]
    pub above: Option<toml::Spanned<f64>>,
    #[serde(default)]
    pub below: Option<toml::Spanned<f64>>,
    pub source: toml::Spanned<String>,
}

impl Threshold {
    /// Whether a value is beyond the limit.
    pub fn crossed_by(&self, value: f64) -> bool {
        self.above.as_ref().is_some_and(|a| value > *a.get_ref())
            || self.below.as_ref().is_some_and(|b| value < *b.get_ref())
    }
}

/// What must be true before a patient leaves.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discharge {
    /// MOAA/S at least this (5 = responds readily to name spoken in normal tone).
    pub moaas_at_least: Sourced<u32>,
    /// The latest vitals within the hold limits.
    pub vitals_within_hold_limits: bool,
    pub escort_required: bool,
    pub no_unresolved_adverse_event: bool,
}

/// A questionnaire sent before each session of a kind.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredQuestionnaire {
    pub before: SessionKind,
    /// An instrument code, e.g. `phq9`.
    pub instrument: toml::Spanned<String>,
    /// Sent this many hours before the session starts.
    pub hours_before: Sourced<u32>,
}

impl Protocol {
    /// Minutes a session of this kind books its room and staff: for dosing, the pre-dose checks
    /// and the whole monitoring minimum.
    pub fn booked_minutes(&self, kind: SessionKind) -> u32 {
        let d = &self.durations;
        match kind {
            SessionKind::Preparation => d.preparation.get(),
            SessionKind::Integration => d.integration.get(),
            SessionKind::FollowUp => d.follow_up.get(),
            SessionKind::Reassessment => d.reassessment.get(),
            SessionKind::Dosing => d
                .pre_dose
                .get()
                .saturating_add(self.monitoring.minimum_minutes.get()),
        }
    }

    /// Dosing sessions of the pattern as written.
    pub fn dosing_sessions(&self) -> u32 {
        self.sessions
            .phase
            .iter()
            .map(DosingPhase::sessions)
            .fold(0, u32::saturating_add)
    }

    /// "Esketamine nasal spray for TRD v2".
    pub fn title(&self) -> String {
        format!("{} v{}", self.name, self.version)
    }
}
