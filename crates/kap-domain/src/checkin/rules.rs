//! Which answers of a check-in raise a safety alert, and at what severity. One alert per
//! rule that fires, never one without a rule:
//!
//! - each side effect ticked whose clinic setting raises an alert (one alert each);
//! - worrying words in any free text ([`super::words`]): one urgent alert, whatever the number
//!   of phrases or boxes;
//! - a mood at or below the clinic's threshold (off unless set): one high alert;
//! - a drop since the previous check-in of at least the clinic's points (off unless set):
//!   one high alert.
//!
//! A questionnaire answered with the check-in raises its own alerts by the measurement rules,
//! exactly as through a questionnaire link.

use super::words::worrying_phrases;
use super::{CheckinAnswers, CheckinSettings, Mood, SideEffect};
use crate::alert::AlertKind;
use crate::instruments::Severity;

/// The severity of the alert raised by worrying words (fixed: the patient is shown crisis
/// resources at once, so the care team must act with the same urgency).
pub const WORDS_SEVERITY: Severity = Severity::Urgent;
/// The severity of the mood alerts (a clinic sets their thresholds, not their urgency: a
/// number on a 0–10 scale is a prompt to call, not an emergency).
pub const MOOD_SEVERITY: Severity = Severity::High;

/// Which rule raised a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagKind {
    SideEffect(SideEffect),
    WorryingWords,
    LowMood,
    MoodDrop,
}

/// One alert a check-in raises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinFlag {
    pub kind: FlagKind,
    pub severity: Severity,
    /// What the clinician reads first.
    pub detail: String,
    /// What raised it: the side effect's code, the boxes the words were in, "mood".
    pub item: Option<String>,
    /// The value there: the mood, or the points it dropped.
    pub value: Option<i32>,
}

impl CheckinFlag {
    pub fn alert_kind(&self) -> AlertKind {
        match self.kind {
            FlagKind::SideEffect(_) => AlertKind::CheckinSideEffect,
            FlagKind::WorryingWords => AlertKind::CheckinWorryingWords,
            FlagKind::LowMood => AlertKind::CheckinLowMood,
            FlagKind::MoodDrop => AlertKind::CheckinMoodDrop,
        }
    }

    /// Whether the patient is shown the crisis resources for this flag.
    pub fn is_risk(&self) -> bool {
        match self.kind {
            FlagKind::WorryingWords => true,
            FlagKind::SideEffect(se) => se.is_risk_answer(),
            FlagKind::LowMood | FlagKind::MoodDrop => false,
        }
    }
}

/// The alerts a check-in raises under the clinic's settings, given the mood of the patient's
/// previous check-in (none: this is the first).
pub fn flags(
    a: &CheckinAnswers,
    previous_mood: Option<Mood>,
    s: &CheckinSettings,
) -> Vec<CheckinFlag> {
    let mut out = vec![];
    for se in &a.side_effects {
        let severity = match s.alert_for(*se) {
            Some(sev) => sev,
            // A risk answer alerts even under settings that would not (they cannot be saved
            // so; this is the second wall).
            None if se.is_risk_answer() => Severity::Urgent,
            None => continue,
        };
        out.push(CheckinFlag {
            kind: FlagKind::SideEffect(*se),
            severity,
            detail: format!(
                "The patient reported in a check-in: {}.",
                se.question().to_lowercase_first()
            ),
            item: Some(se.as_str().to_owned()),
            value: None,
        });
    }
    let mut found: Vec<(&'static str, Vec<&'static str>)> = vec![];
    for (_, label, text) in a.texts() {
        let phrases = worrying_phrases(text.as_str());
        if !phrases.is_empty() {
            found.push((label, phrases));
        }
    }
    if !found.is_empty() {
        let boxes: Vec<&str> = found.iter().map(|(l, _)| *l).collect();
        let mut phrases: Vec<&str> = vec![];
        for p in found.iter().flat_map(|(_, p)| p.iter().copied()) {
            if !phrases.contains(&p) {
                phrases.push(p);
            }
        }
        out.push(CheckinFlag {
            kind: FlagKind::WorryingWords,
            severity: WORDS_SEVERITY,
            detail: format!(
                "Words about self-harm or suicide in the {} (the screen matched: {}). A word screen misses and over-calls: read the check-in and contact the patient.",
                join_words(&boxes),
                phrases
                    .iter()
                    .map(|p| format!("“{}”", p.trim_end_matches('*')))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            item: Some(
                found
                    .iter()
                    .map(|(l, _)| *l)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            value: None,
        });
    }
    let mood = i32::from(a.mood.value());
    if let Some(at_most) = s.low_mood_at_most
        && mood <= at_most
    {
        out.push(CheckinFlag {
            kind: FlagKind::LowMood,
            severity: MOOD_SEVERITY,
            detail: format!(
                "Mood {mood} of 10, at or below the clinic's check-in threshold of {at_most}."
            ),
            item: Some("mood".into()),
            value: Some(mood),
        });
    }
    if let (Some(points), Some(prev)) = (s.mood_drop_points, previous_mood) {
        let drop = i32::from(prev.value()) - mood;
        if drop >= points {
            out.push(CheckinFlag {
                kind: FlagKind::MoodDrop,
                severity: MOOD_SEVERITY,
                detail: format!(
                    "Mood {mood} of 10, down {drop} points from {} at the previous check-in (the clinic's threshold is a drop of {points}).",
                    prev.value()
                ),
                item: Some("mood".into()),
                value: Some(drop),
            });
        }
    }
    out
}

trait LowerFirst {
    fn to_lowercase_first(&self) -> String;
}

impl LowerFirst for str {
    /// "Pain or burning…" → "pain or burning…" (inside a sentence).
    fn to_lowercase_first(&self) -> String {
        let mut c = self.chars();
        match c.next() {
            Some(f) => f.to_lowercase().chain(c).collect(),
            None => String::new(),
        }
    }
}

/// "journal", "reflection and journal", "a, b and c".
fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// What the patient reads after sending a check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoneMessage {
    /// Thank you: the care team will read it.
    Thanks,
    /// Something needs the care team soon: they have been told and will be in touch.
    Alerted,
    /// A risk answer (worrying words, thoughts of self-harm, a questionnaire's risk flag):
    /// the clinic's crisis resources, first and prominent.
    Crisis,
}

impl DoneMessage {
    /// The message for the alerts a check-in raised: each alert's kind and item (for a
    /// side effect, its code).
    pub fn of<'a>(alerts: impl IntoIterator<Item = (AlertKind, Option<&'a str>)>) -> DoneMessage {
        let mut out = DoneMessage::Thanks;
        for (kind, item) in alerts {
            let risk = kind.flag().is_some()
                || kind == AlertKind::CheckinWorryingWords
                || (kind == AlertKind::CheckinSideEffect
                    && item
                        .and_then(SideEffect::from_code)
                        .is_some_and(SideEffect::is_risk_answer));
            if risk {
                return DoneMessage::Crisis;
            }
            out = DoneMessage::Alerted;
        }
        out
    }
}
