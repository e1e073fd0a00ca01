//! Patient check-ins between sessions: mood, sleep, side effects, reflection on the intention,
//! a journal entry; the rules that flag one to the care team.
//!
//! A patient answers through a single-use, expiring link ([`link`]) on a phone. The form is
//! parsed here into values that can only be valid ([`form`]); the rules that decide which
//! answers raise a safety alert, and at what severity, are pure functions ([`rules`]) over the
//! answers, the previous check-in's mood and the clinic's check-in settings ([`settings`]); the
//! free-text screen for words about self-harm or suicide is its own documented rule
//! ([`words`]); check-in schedules say when the worker sends the next link ([`schedule`]).
//! A stored check-in never changes; a clinician marks it seen once, with an optional note.

pub mod form;
pub mod link;
pub mod rules;
pub mod schedule;
pub mod settings;
pub mod words;

#[cfg(test)]
mod tests;

pub use form::{CheckinAnswers, CheckinForm, LongText, Mood, SleepHours, SleepQuality};
pub use link::CheckinLink;
pub use rules::{CheckinFlag, DoneMessage, FlagKind};
pub use schedule::{CheckinSchedule, ScheduleKind};
pub use settings::{AlertLevel, CheckinSettings};

use crate::instruments::{Instrument, Severity};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The longest text a patient may write in one box of a check-in (the side-effects note, the
/// reflection, the journal): the limit shared with notes and the care-team thread.
pub use crate::notes::LONG_TEXT_MAX;

/// The longest note a clinician adds when marking a check-in seen.
pub const REVIEW_NOTE_MAX: usize = 2_000;

crate::code::coded_enum! {
    /// What a patient may report since their last session. Each names what clinical.md says
    /// about it; [`SideEffect::default_alert`] is the product's starting rule, which a clinic
    /// changes under its check-in settings.
    pub enum SideEffect as "side effect" {
        Nausea = "nausea" / "Nausea",
        Vomiting = "vomiting" / "Vomiting",
        Headache = "headache" / "Headache",
        Dizziness = "dizziness" / "Dizziness",
        Drowsiness = "drowsiness" / "Sleepiness during the day",
        Anxiety = "anxiety" / "Anxiety",
        UrinarySymptoms = "urinary_symptoms" / "Urinary symptoms",
        BloodPressureSymptoms = "blood_pressure_symptoms" / "Symptoms of high blood pressure",
        LingeringDissociation = "lingering_dissociation" / "Dissociation lingering after the session",
        UnusualPerceptions = "unusual_perceptions" / "Unusual thoughts or perceptions",
        Cravings = "cravings" / "Cravings or wanting ketamine outside the clinic",
        SelfHarmThoughts = "self_harm_thoughts" / "Thoughts of self-harm or of not wanting to live",
    }
}

impl SideEffect {
    /// The words the patient reads beside the tick box.
    pub fn question(self) -> &'static str {
        match self {
            SideEffect::Nausea => "Nausea (feeling sick)",
            SideEffect::Vomiting => "Vomiting",
            SideEffect::Headache => "Headache",
            SideEffect::Dizziness => "Dizziness or unsteadiness",
            SideEffect::Drowsiness => "Feeling very sleepy or slowed down during the day",
            SideEffect::Anxiety => "Feeling anxious, restless or on edge",
            SideEffect::UrinarySymptoms => {
                "Pain or burning when passing urine, needing to go often or urgently, or blood in the urine"
            }
            SideEffect::BloodPressureSymptoms => {
                "A sudden severe or pounding headache, chest pain, a racing heart or blurred vision"
            }
            SideEffect::LingeringDissociation => {
                "Still feeling detached, unreal or outside your body, days after the session"
            }
            SideEffect::UnusualPerceptions => {
                "Seeing or hearing things others do not, or thoughts that feel strange or frightening"
            }
            SideEffect::Cravings => "Wanting or craving ketamine, or using it outside the clinic",
            SideEffect::SelfHarmThoughts => {
                "Thoughts of harming yourself, or that you would be better off dead"
            }
        }
    }

    /// Where the side effect comes from in `reference/clinical.md`.
    pub fn source(self) -> &'static str {
        match self {
            SideEffect::Nausea | SideEffect::Dizziness => {
                "clinical.md §2.5: dizziness 38.3 % and nausea 26.9 % with esketamine 84 mg [S49]"
            }
            SideEffect::Vomiting => {
                "clinical.md §2.3: food and fluids are withheld before dosing because of nausea and vomiting [S41] [S42]"
            }
            SideEffect::Headache => {
                "clinical.md §1.2, §2.3: transient ketamine-induced hypertension [S13] [S47]; headache is a common complaint (no frequency in the reference)"
            }
            SideEffect::Drowsiness => {
                "clinical.md §2.5: sedation 48–61 % [S47] [S44]; §2.3 no driving until the next day after a restful sleep [S45]"
            }
            SideEffect::Anxiety => {
                "clinical.md §1.3: dissociation and hypertension are the named adverse effects [S14]; anxiety is recorded as a session adverse event (dosing)"
            }
            SideEffect::UrinarySymptoms => {
                "clinical.md §2.4: ulcerative/interstitial cystitis warning, monitor urinary symptoms [S38]; §3.1 cystitis with chronic ketamine [S59]"
            }
            SideEffect::BloodPressureSymptoms => {
                "clinical.md §1.2: hypertensive emergency is hypertension with end-organ symptoms (Yip et al.) [S13]; §2.4 history of hypertensive encephalopathy warning [S38]"
            }
            SideEffect::LingeringDissociation => {
                "clinical.md §2.4: boxed warning on dissociation [S38] [S43] [S44]; §2.6 monitoring lasts until dissociation resolves [S46]"
            }
            SideEffect::UnusualPerceptions => {
                "clinical.md §2.4: psychosis warning, assess before use [S38] [S44]; §3.1 psychosis as contraindication [S57] [S58] [S60]"
            }
            SideEffect::Cravings => {
                "clinical.md §2.4: boxed warning on abuse and misuse [S38] [S43] [S44]; §2.6 REMS goal, never dispensed for home use [S46]"
            }
            SideEffect::SelfHarmThoughts => {
                "clinical.md §2.4: boxed warning on suicidal thoughts and behaviours [S38] [S43] [S44]; §11 any risk answer needs clinician review"
            }
        }
    }

    /// The product's starting rule (clinic policy, editable in the check-in settings): what
    /// clinical.md names as a warning of the label raises an alert — high for a sign that
    /// needs a clinician's call within the working day (urinary symptoms, lingering
    /// dissociation, unusual perceptions, cravings), urgent for a sign that cannot wait
    /// (end-organ symptoms of high blood pressure, thoughts of self-harm). Common, expected
    /// effects (nausea, vomiting, headache, dizziness, sleepiness, anxiety) are recorded and
    /// shown on the review list without an alert.
    pub fn default_alert(self) -> Option<Severity> {
        match self {
            SideEffect::Nausea
            | SideEffect::Vomiting
            | SideEffect::Headache
            | SideEffect::Dizziness
            | SideEffect::Drowsiness
            | SideEffect::Anxiety => None,
            SideEffect::UrinarySymptoms
            | SideEffect::LingeringDissociation
            | SideEffect::UnusualPerceptions
            | SideEffect::Cravings => Some(Severity::High),
            SideEffect::BloodPressureSymptoms | SideEffect::SelfHarmThoughts => {
                Some(Severity::Urgent)
            }
        }
    }

    /// Whether reporting this is a risk answer: it always raises an alert (at least urgent)
    /// and the patient is shown the clinic's crisis resources at once (clinical.md §11).
    pub fn is_risk_answer(self) -> bool {
        self == SideEffect::SelfHarmThoughts
    }
}

/// The questionnaire answered with a check-in, as its pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinQuestionnaire {
    pub response_id: Uuid,
    pub instrument: &'static Instrument,
    pub complete: bool,
    pub total: Option<i32>,
    pub band: Option<String>,
}

/// A clinician's review of a check-in: set once, never changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub by: Uuid,
    pub by_name: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

/// A stored check-in with everything its page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkin {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    /// The course the link was sent in, if any.
    pub course_id: Option<Uuid>,
    pub answers: CheckinAnswers,
    /// The intention the patient was shown when they reflected on it.
    pub intention: Option<String>,
    pub questionnaire: Option<CheckinQuestionnaire>,
    pub submitted_at: DateTime<Utc>,
    /// How many alerts it raised (its own and its questionnaire's), and the most severe.
    pub alerts: i32,
    pub top_severity: Option<Severity>,
    pub review: Option<Review>,
}

impl Checkin {
    pub fn flagged(&self) -> bool {
        self.alerts > 0
    }

    pub fn line(&self) -> CheckinLine {
        CheckinLine {
            id: self.id,
            patient_id: self.patient_id,
            patient_name: self.patient_name.clone(),
            submitted_at: self.submitted_at,
            mood: self.answers.mood,
            side_effects: self.answers.side_effects.iter().copied().collect(),
            alerts: self.alerts,
            top_severity: self.top_severity,
            seen: self.review.is_some(),
            questionnaire: self.questionnaire.as_ref().map(|q| q.instrument),
            questionnaire_total: self.questionnaire.as_ref().and_then(|q| q.total),
        }
    }
}

/// One check-in in a list (the review list, the chart, the course timeline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinLine {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub submitted_at: DateTime<Utc>,
    pub mood: Mood,
    pub side_effects: Vec<SideEffect>,
    /// Alerts raised (none: not flagged).
    pub alerts: i32,
    pub top_severity: Option<Severity>,
    pub seen: bool,
    pub questionnaire: Option<&'static Instrument>,
    pub questionnaire_total: Option<i32>,
}

impl CheckinLine {
    pub fn flagged(&self) -> bool {
        self.alerts > 0
    }

    pub fn side_effect_count(&self) -> usize {
        self.side_effects.len()
    }

    /// "Nausea, Urinary symptoms" or "none".
    pub fn side_effect_words(&self) -> String {
        if self.side_effects.is_empty() {
            return "none".to_owned();
        }
        self.side_effects
            .iter()
            .map(|s| s.label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The review list's order: unseen before seen, flagged before not, the more severe first,
/// then the newest first.
pub fn review_order(lines: &mut [CheckinLine]) {
    lines.sort_by(|a, b| {
        a.seen
            .cmp(&b.seen)
            .then(b.flagged().cmp(&a.flagged()))
            .then(b.top_severity.cmp(&a.top_severity))
            .then(b.submitted_at.cmp(&a.submitted_at))
            .then(a.id.cmp(&b.id))
    });
}

/// A clinician's note when marking a check-in seen: optional, at most [`REVIEW_NOTE_MAX`]
/// characters, kept as typed.
pub fn parse_review_note(s: &str) -> Result<Option<String>, String> {
    form::optional_text(s, REVIEW_NOTE_MAX)
        .map(|t| t.map(|t| t.as_str().to_owned()))
        .map_err(|e| e.to_string())
}
