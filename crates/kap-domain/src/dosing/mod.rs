//! Dosing sessions: what happens at the chair, from check-in to the co-signed record.
//!
//! A session belongs to a dosing appointment of a course, under the course's protocol version.
//! Everything recorded in it is an append-only entry with two times: when it happened
//! (`at`) and when it was entered (`entered_at`); an entry made well after the fact is shown as
//! late. The rules live here as pure functions of a [`Session`] and the time:
//!
//! - [`checklist`]: the pre-dose checklist and whether dosing may start (the protocol's hold
//!   thresholds, a prescriber's override or deferral);
//! - [`order`]: the dose order (calculated from the protocol rule and today's weight), the
//!   administration of each order, and boosters within the protocol's limits;
//! - [`flowsheet`]: vitals (plausible values only), when the next measurement is due, which
//!   values raise an alert (one per measure beyond a limit);
//! - [`discharge`]: the discharge criteria, each with the time it became true;
//! - [`rems`]: the esketamine REMS Patient Monitoring Form gathered from the session;
//! - [`pk`]: a model estimate of plasma concentration for IV sessions.

pub mod checklist;
pub mod discharge;
pub mod flowsheet;
pub mod order;
pub mod pk;
pub mod rems;

#[cfg(test)]
mod tests;

use crate::protocol::{Protocol, VitalMeasure};
use crate::screening::Route;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

/// An entry typed this long after the moment it records is shown as a late entry.
pub const LATE_AFTER: Duration = Duration::minutes(10);

/// Who did something, and when it was entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entered {
    pub by: Uuid,
    pub by_name: String,
    pub entered_at: DateTime<Utc>,
}

/// Whether an entry recording `at` and entered at `entered_at` is a late entry.
pub fn is_late(at: DateTime<Utc>, entered_at: DateTime<Utc>) -> bool {
    entered_at - at > LATE_AFTER
}

crate::code::coded_enum! {
    /// Whether the pregnancy question applies and how it was answered.
    pub enum Pregnancy as "pregnancy check" {
        NegativeTest = "negative_test" / "Negative pregnancy test today",
        NotApplicable = "not_applicable" / "Not applicable",
    }
}

/// The pre-dose checklist as the nurse recorded it (the latest recording counts).
#[derive(Debug, Clone, PartialEq)]
pub struct Checklist {
    pub identity_confirmed: bool,
    /// When the patient last ate and drank (none: the nurse could not find out).
    pub last_food_at: Option<DateTime<Utc>>,
    pub last_fluids_at: Option<DateTime<Utc>>,
    /// A nasal corticosteroid or decongestant today, and when (esketamine).
    pub nasal_medicine_at: Option<DateTime<Utc>>,
    /// Who takes the patient home (name and phone), confirmed.
    pub escort: String,
    pub pregnancy: Option<Pregnancy>,
    pub medications_reviewed: bool,
    pub benzodiazepine_today: bool,
    pub medication_note: String,
    pub intention_reviewed: bool,
    /// The intention in the patient's words.
    pub intention: String,
    /// Today's weight, which the dose is calculated from.
    pub weight_kg: f64,
    pub at: DateTime<Utc>,
    pub entered: Entered,
}

crate::code::coded_enum! {
    /// A prescriber's decision on a pre-dose hold.
    pub enum HoldDecisionKind as "hold decision" {
        Override = "override" / "Dose despite the hold",
        Defer = "defer" / "Defer the session",
    }
}

/// A prescriber's decision on a hold, with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldDecision {
    pub kind: HoldDecisionKind,
    pub reason: String,
    /// The pre-dose vitals entry it was decided on.
    pub vitals_id: Uuid,
    pub entered: Entered,
}

/// One set of vital signs, at least one value; blood pressure as a pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Vitals {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub systolic: Option<f64>,
    pub diastolic: Option<f64>,
    pub heart_rate: Option<f64>,
    pub spo2: Option<f64>,
    pub respiratory_rate: Option<f64>,
    pub entered: Entered,
}

impl Vitals {
    pub fn value(&self, m: VitalMeasure) -> Option<f64> {
        match m {
            VitalMeasure::Systolic => self.systolic,
            VitalMeasure::Diastolic => self.diastolic,
            VitalMeasure::HeartRate => self.heart_rate,
            VitalMeasure::Spo2 => self.spo2,
            VitalMeasure::RespiratoryRate => self.respiratory_rate,
        }
    }

    pub fn has_bp(&self) -> bool {
        self.systolic.is_some() && self.diastolic.is_some()
    }

    /// "142/88" or "—".
    pub fn bp(&self) -> String {
        match (self.systolic, self.diastolic) {
            (Some(s), Some(d)) => format!("{s:.0}/{d:.0}"),
            _ => "—".to_owned(),
        }
    }

    pub fn late(&self) -> bool {
        is_late(self.at, self.entered.entered_at)
    }
}

crate::code::coded_enum! {
    /// MOAA/S, the Modified Observer's Assessment of Alertness/Sedation (Chernik 1990;
    /// clinical.md §5.1): 5 responds readily to name in a normal tone … 0 no response.
    pub enum Moaas as "MOAA/S score" {
        Zero = "0" / "0 — no response to trapezius squeeze",
        One = "1" / "1 — responds only to trapezius squeeze",
        Two = "2" / "2 — responds only to mild prodding or shaking",
        Three = "3" / "3 — responds only after name is called loudly or repeatedly",
        Four = "4" / "4 — lethargic response to name spoken in normal tone",
        Five = "5" / "5 — responds readily to name spoken in normal tone",
    }
}

impl Moaas {
    pub fn score(self) -> u32 {
        self as u32
    }

    pub fn from_score(s: u32) -> Option<Moaas> {
        Moaas::ALL.get(s as usize).copied()
    }
}

/// The CADSS items that make CADSS-6 (items 1, 2, 6, 7, 15 and 22 of the 23-item CADSS,
/// clinical.md §5.1). The item texts are not reproduced: the CADSS licence is unconfirmed
/// (§5.2), so the clinic's own copy of the scale is used at the chair.
pub const CADSS6_ITEMS: [u32; 6] = [1, 2, 6, 7, 15, 22];

/// A sedation or dissociation rating, or a free observation.
#[derive(Debug, Clone, PartialEq)]
pub enum Rating {
    Moaas(Moaas),
    /// CADSS-6 item scores (0–4 each), in the order of [`CADSS6_ITEMS`].
    Cadss6([u8; 6]),
    /// A free observation.
    Note(String),
    /// The escort has arrived to take the patient home.
    EscortPresent(String),
}

/// A time-stamped rating or observation on the flowsheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub rating: Rating,
    pub entered: Entered,
}

impl Observation {
    pub fn late(&self) -> bool {
        is_late(self.at, self.entered.entered_at)
    }
}

/// CADSS-6 total, 0–24.
pub fn cadss6_total(items: &[u8; 6]) -> u32 {
    items.iter().map(|&v| u32::from(v)).sum()
}

crate::code::coded_enum! {
    /// What kind of adverse event.
    pub enum AdverseKind as "adverse event" {
        Nausea = "nausea" / "Nausea",
        Vomiting = "vomiting" / "Vomiting",
        Hypertension = "hypertension" / "Hypertension",
        Tachycardia = "tachycardia" / "Tachycardia",
        Desaturation = "desaturation" / "Desaturation",
        Anxiety = "anxiety" / "Anxiety",
        Agitation = "agitation" / "Agitation",
        Dizziness = "dizziness" / "Dizziness",
        Headache = "headache" / "Headache",
        ExcessiveSedation = "excessive_sedation" / "Excessive sedation",
        DistressingDissociation = "distressing_dissociation" / "Distressing dissociation",
        Other = "other" / "Other",
    }
}

crate::code::coded_enum! {
    pub enum AdverseSeverity as "severity" {
        Mild = "mild" / "Mild",
        Moderate = "moderate" / "Moderate",
        Severe = "severe" / "Severe",
    }
}

crate::code::coded_enum! {
    /// Where an adverse event stands; every change is a new entry, never an edit.
    pub enum AdverseOutcome as "outcome" {
        Ongoing = "ongoing" / "Ongoing",
        Resolved = "resolved" / "Resolved",
        Transferred = "transferred" / "Transferred for further care",
    }
}

/// An adverse event and its outcome updates (oldest first).
#[derive(Debug, Clone, PartialEq)]
pub struct AdverseEvent {
    pub id: Uuid,
    pub kind: AdverseKind,
    /// What it was, in words (required for "other").
    pub description: String,
    pub severity: AdverseSeverity,
    pub onset_at: DateTime<Utc>,
    pub action: String,
    pub updates: Vec<AdverseUpdate>,
    pub entered: Entered,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AdverseUpdate {
    pub outcome: AdverseOutcome,
    pub at: DateTime<Utc>,
    pub note: String,
    pub entered: Entered,
}

impl AdverseEvent {
    /// The latest outcome: ongoing until an update says otherwise.
    pub fn outcome(&self) -> AdverseOutcome {
        self.updates
            .last()
            .map_or(AdverseOutcome::Ongoing, |u| u.outcome)
    }

    /// When it stopped being ongoing, if it has.
    pub fn closed_at(&self) -> Option<DateTime<Utc>> {
        match self.updates.last() {
            Some(u) if u.outcome != AdverseOutcome::Ongoing => Some(u.at),
            _ => None,
        }
    }

    pub fn name(&self) -> String {
        if self.kind == AdverseKind::Other || !self.description.is_empty() {
            if self.kind == AdverseKind::Other {
                return self.description.clone();
            }
            return format!("{} ({})", self.kind.label(), self.description);
        }
        self.kind.label().to_owned()
    }
}

/// Whether an order is the session's dose or a booster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    Dose,
    /// The n-th booster (1, 2, …).
    Booster(u32),
}

/// A prescriber's order for one dose, with the arithmetic that gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: Uuid,
    pub kind: OrderKind,
    pub mg: f64,
    /// mg/kg of the dosing weight (none for fixed doses).
    pub mg_per_kg: Option<f64>,
    pub weight_kg: f64,
    pub steps: Vec<String>,
    pub entered: Entered,
}

crate::code::coded_enum! {
    /// A step of giving a dose other than a unit: an infusion paused, resumed, stopped early
    /// or completed; an injection or lozenges given.
    pub enum AdminChange as "administration step" {
        Pause = "pause" / "Paused",
        Resume = "resume" / "Resumed",
        Stop = "stop" / "Stopped early",
        Complete = "complete" / "Complete",
    }
}

/// An event of an administration: a device or unit given, or an infusion change.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminEvent {
    Unit {
        at: DateTime<Utc>,
        entered: Entered,
    },
    Change {
        change: AdminChange,
        at: DateTime<Utc>,
        reason: String,
        entered: Entered,
    },
}

impl AdminEvent {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            AdminEvent::Unit { at, .. } | AdminEvent::Change { at, .. } => *at,
        }
    }
}

/// The giving of one order's dose.
#[derive(Debug, Clone, PartialEq)]
pub struct Administration {
    pub id: Uuid,
    pub order_id: Uuid,
    pub lot: String,
    pub expiry: NaiveDate,
    pub started_at: DateTime<Utc>,
    /// How many units the dose takes, when given unit by unit with a rest between (esketamine
    /// devices); none otherwise.
    pub units_needed: Option<u32>,
    pub given_by: Uuid,
    pub given_by_name: String,
    pub supervised_by: Uuid,
    pub supervised_by_name: String,
    pub events: Vec<AdminEvent>,
    pub entered: Entered,
}

impl Administration {
    /// Units given so far (devices, lozenges).
    pub fn units_given(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, AdminEvent::Unit { .. }))
            .count()
    }

    /// The latest change (pause, resume, stop, complete).
    fn last_change(&self) -> Option<AdminChange> {
        self.events.iter().rev().find_map(|e| match e {
            AdminEvent::Change { change, .. } => Some(*change),
            AdminEvent::Unit { .. } => None,
        })
    }

    /// Whether an infusion is paused now.
    pub fn paused(&self) -> bool {
        self.last_change() == Some(AdminChange::Pause)
    }

    /// When the dose was complete: stopped or completed, or its last unit given; none while it
    /// is being given.
    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        if let Some(n) = self.units_needed
            && self.units_given() >= n as usize
        {
            return self.events.iter().map(AdminEvent::at).max();
        }
        self.events.iter().find_map(|e| match e {
            AdminEvent::Change {
                change: AdminChange::Stop | AdminChange::Complete,
                at,
                ..
            } => Some(*at),
            _ => None,
        })
    }

    /// The time of the latest step (or the start).
    pub fn last_at(&self) -> DateTime<Utc> {
        self.events
            .iter()
            .map(AdminEvent::at)
            .max()
            .unwrap_or(self.started_at)
            .max(self.started_at)
    }
}

/// The nurse's discharge record.
#[derive(Debug, Clone, PartialEq)]
pub struct DischargeRecord {
    pub at: DateTime<Utc>,
    pub escort: String,
    pub instructions: String,
    pub note: String,
    pub entered: Entered,
}

/// The prescriber's co-signature: the session is locked from then on.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    pub at: DateTime<Utc>,
    pub by: Uuid,
    pub by_name: String,
    /// SHA-256 of the record as signed.
    pub content_hash: String,
}

/// A correction or addition after signing.
#[derive(Debug, Clone, PartialEq)]
pub struct Addendum {
    pub reason: String,
    pub text: String,
    pub entered: Entered,
}

/// The REMS monitoring form's answers that the session cannot give by itself.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct RemsAnswers {
    pub benzodiazepines: Option<bool>,
    pub non_benzo_sedative_hypnotics: Option<bool>,
    pub psychostimulants: Option<bool>,
    pub maois: Option<bool>,
    pub opioids: Option<bool>,
    pub hcp_phone: String,
    /// The setting's address (the clinic's last answer is offered).
    pub setting_address: String,
    /// Minutes from the start of administration at which the patient would have been ready
    /// to leave without the 2-hour minimum (the session's own estimate is offered).
    pub ready_minutes: Option<u32>,
    /// The blood pressure about 40 minutes after administration as the nurse gives it, when
    /// the flowsheet has no reading near then (e.g. "138/86 at 10:48", "not measured").
    #[serde(default)]
    pub bp_after_40: String,
    pub sedation: Option<bool>,
    pub dissociation: Option<bool>,
    pub respiratory_depression: Option<bool>,
    pub other_adverse: String,
}

/// When the REMS form was sent to the REMS, and by whom.
#[derive(Debug, Clone, PartialEq)]
pub struct RemsSubmission {
    pub on: NaiveDate,
    pub reference: String,
    pub entered: Entered,
}

crate::code::coded_enum! {
    /// Where a session stands, for the flowsheet and the today board.
    pub enum Stage as "session stage" {
        PreDose = "pre_dose" / "Pre-dose checks",
        Dosing = "dosing" / "Dosing",
        Monitoring = "monitoring" / "Monitoring",
        ReadyForDischarge = "ready" / "Ready for discharge",
        Discharged = "discharged" / "Discharged, awaiting co-signature",
        Signed = "signed" / "Signed",
        Deferred = "deferred" / "Deferred",
    }
}

/// Everything recorded about one dosing session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub appointment_id: Uuid,
    pub course_id: Uuid,
    pub patient_id: Uuid,
    pub protocol_id: Uuid,
    pub protocol: Protocol,
    /// The course's planned dose, which the order starts from.
    pub planned: crate::protocol::dose::PlannedDose,
    pub opened: Entered,
    pub checklist: Option<Checklist>,
    pub hold_decisions: Vec<HoldDecision>,
    pub orders: Vec<Order>,
    pub administrations: Vec<Administration>,
    pub vitals: Vec<Vitals>,
    pub observations: Vec<Observation>,
    pub adverse_events: Vec<AdverseEvent>,
    pub discharge: Option<DischargeRecord>,
    pub signature: Option<Signature>,
    pub addenda: Vec<Addendum>,
    pub rems: Option<RemsAnswers>,
    pub rems_submission: Option<RemsSubmission>,
}

impl Session {
    pub fn route(&self) -> Route {
        self.protocol.route
    }

    pub fn is_esketamine(&self) -> bool {
        self.protocol.route == Route::EsketamineNasal
    }

    pub fn signed(&self) -> bool {
        self.signature.is_some()
    }

    /// When the first dose started: the clock of monitoring and discharge.
    pub fn dosing_started_at(&self) -> Option<DateTime<Utc>> {
        self.administrations.iter().map(|a| a.started_at).min()
    }

    /// Whether some dose is still being given.
    pub fn giving(&self) -> bool {
        self.administrations
            .iter()
            .any(|a| a.finished_at().is_none())
    }

    /// When the last dose given finished; none while a dose is being given or an order is
    /// not yet given (an order not to be given is started and stopped early with the reason).
    pub fn dosing_finished_at(&self) -> Option<DateTime<Utc>> {
        if self.administrations.is_empty()
            || self.giving()
            || self
                .orders
                .iter()
                .any(|o| self.administration_of(o.id).is_none())
        {
            return None;
        }
        self.administrations
            .iter()
            .filter_map(|a| a.finished_at())
            .max()
    }

    /// The latest vitals entry taken before dosing started (all of them, before dosing).
    pub fn pre_dose_vitals(&self) -> Option<&Vitals> {
        let start = self.dosing_started_at();
        self.vitals
            .iter()
            .filter(|v| start.is_none_or(|s| v.at <= s))
            .max_by_key(|v| v.at)
    }

    /// Whether the session was deferred by a prescriber.
    pub fn deferred(&self) -> bool {
        self.hold_decisions
            .iter()
            .any(|d| d.kind == HoldDecisionKind::Defer)
    }

    /// mg given so far, for totals and the record: for doses given unit by unit, the units
    /// actually given; otherwise each administered order's dose.
    pub fn mg_given(&self) -> f64 {
        let unit = match &self.protocol.dose {
            crate::protocol::DoseRule::Fixed {
                unit_mg: Some(u), ..
            } => Some(f64::from(u.get())),
            _ => None,
        };
        self.orders
            .iter()
            .filter_map(|o| self.administration_of(o.id).map(|a| (o, a)))
            .map(|(o, a)| match (a.units_needed, unit) {
                (Some(_), Some(u)) => a.units_given() as f64 * u,
                _ => o.mg,
            })
            .sum()
    }

    /// The administration of an order, if given.
    pub fn administration_of(&self, order: Uuid) -> Option<&Administration> {
        self.administrations.iter().find(|a| a.order_id == order)
    }

    /// Latest MOAA/S rating.
    pub fn latest_moaas(&self) -> Option<(DateTime<Utc>, Moaas)> {
        self.observations
            .iter()
            .filter_map(|o| match o.rating {
                Rating::Moaas(m) => Some((o.at, m)),
                _ => None,
            })
            .max_by_key(|(at, _)| *at)
    }

    /// Where the session stands at `now`.
    pub fn stage(&self, now: DateTime<Utc>) -> Stage {
        if self.signed() {
            Stage::Signed
        } else if self.discharge.is_some() {
            Stage::Discharged
        } else if self.deferred() && self.administrations.is_empty() {
            Stage::Deferred
        } else if self.administrations.is_empty() || self.giving() {
            if self.administrations.is_empty() {
                Stage::PreDose
            } else {
                Stage::Dosing
            }
        } else if discharge::readiness(self, now).ready() {
            Stage::ReadyForDischarge
        } else {
            Stage::Monitoring
        }
    }

    /// Minutes from the first dose to `t` (negative before).
    pub fn minute_of(&self, t: DateTime<Utc>) -> Option<i64> {
        self.dosing_started_at().map(|s| (t - s).num_minutes())
    }
}

/// Course totals the course page shows: doses given and adverse events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CourseDosing {
    pub sessions: u32,
    pub doses_given: u32,
    pub adverse_events: u32,
}
