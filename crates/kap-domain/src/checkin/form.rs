//! The check-in form parsed at the edge: a mood from 0 to 10 with its anchors, last night's
//! sleep (hours and how it was), the side effects ticked, and three boxes of free text —
//! the side-effects note, the reflection on the intention and the journal — each kept as
//! written up to [`LONG_TEXT_MAX`] characters and refused beyond it, never cut.
//!
//! Sleep is asked as hours slept last night and a three-way quality because sleep is a core
//! symptom of depression that the measures the clinic uses already score (PHQ-9 item 3,
//! QIDS-SR16 items 1–4; clinical.md §5.1): hours are what a patient remembers of one night,
//! and the quality catches what hours miss (broken or unrefreshing sleep). Neither is scored:
//! no published cut-off exists for a single night, so they are shown for the clinician to read.

use super::{LONG_TEXT_MAX, SideEffect};
use crate::fields::FieldErrors;
use crate::person::is_bidi_control;
use std::collections::BTreeSet;

/// Mood today on a 0–10 scale, 0 the lowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mood(u8);

impl Mood {
    pub const MAX: u8 = 10;

    /// The words at the ends and the middle of the scale, as the patient reads them.
    pub const ANCHORS: [(u8, &'static str); 3] = [
        (0, "As low as I have ever felt"),
        (5, "In between"),
        (10, "As good as I have ever felt"),
    ];

    pub fn new(v: u8) -> Option<Mood> {
        (v <= Self::MAX).then_some(Mood(v))
    }

    pub fn parse(s: &str) -> Result<Mood, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("Choose a number from 0 to 10 for your mood today.".into());
        }
        t.parse::<u8>()
            .ok()
            .and_then(Mood::new)
            .ok_or_else(|| "Choose a number from 0 to 10 for your mood today.".into())
    }

    pub fn value(self) -> u8 {
        self.0
    }

    /// The anchor at this point of the scale, if it has one.
    pub fn anchor(self) -> Option<&'static str> {
        Self::ANCHORS
            .iter()
            .find(|(v, _)| *v == self.0)
            .map(|(_, w)| *w)
    }

    /// Every point of the scale, lowest first.
    pub fn scale() -> impl Iterator<Item = Mood> {
        (0..=Self::MAX).map(Mood)
    }
}

impl std::fmt::Display for Mood {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Hours slept last night, to the half hour, 0 to 24.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SleepHours(u8);

impl SleepHours {
    /// From a count of half hours (0–48).
    pub fn from_half_hours(n: u8) -> Option<SleepHours> {
        (n <= 48).then_some(SleepHours(n))
    }

    pub fn half_hours(self) -> u8 {
        self.0
    }

    /// "7", "7.5" or "7,5" (hours); anything else, or beyond 24, is refused.
    pub fn parse(s: &str) -> Result<SleepHours, String> {
        let msg = "Enter the hours you slept last night, from 0 to 24 (halves like 6.5 are fine).";
        let t = s.trim().replace(',', ".");
        let (whole, half) = match t.split_once('.') {
            None => (t.as_str(), false),
            Some((w, "5" | "50")) => (w, true),
            Some((w, "0" | "00" | "")) => (w, false),
            Some(_) => return Err(msg.into()),
        };
        let whole: u8 = whole.parse().map_err(|_| msg.to_owned())?;
        whole
            .checked_mul(2)
            .and_then(|h| h.checked_add(u8::from(half)))
            .and_then(SleepHours::from_half_hours)
            .ok_or_else(|| msg.into())
    }
}

impl std::fmt::Display for SleepHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_multiple_of(2) {
            write!(f, "{}", self.0 / 2)
        } else {
            write!(f, "{}.5", self.0 / 2)
        }
    }
}

crate::code::coded_enum! {
    /// How last night's sleep was.
    pub enum SleepQuality as "sleep quality" {
        Poor = "poor" / "Poor",
        Fair = "fair" / "Fair",
        Good = "good" / "Good",
    }
}

/// Free text a patient wrote: kept exactly as written (trimmed), at most
/// [`LONG_TEXT_MAX`] characters, without control or invisible direction characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LongText(String);

impl LongText {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A stored text read back: the same rules as when it was written.
    pub fn parse(s: &str) -> Result<LongText, TextError> {
        match optional_text(s, LONG_TEXT_MAX)? {
            Some(t) => Ok(t),
            None => Err(TextError::Empty),
        }
    }
}

impl std::fmt::Display for LongText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("This is empty.")]
    Empty,
    /// Beyond the limit: the limit and how long the text is, so the writer knows how much to
    /// cut — nothing is ever cut for them.
    #[error("This is {given} characters long; the limit is {max} characters. Please shorten it — nothing has been sent yet.", given = fmt_count(*.given), max = fmt_count(*.max))]
    TooLong { given: usize, max: usize },
    #[error(
        "This contains invisible text-direction characters, which can make it display as something else. Please type it again without them."
    )]
    Invisible,
    #[error("This contains characters that cannot be stored.")]
    Control,
}

/// 20000 as "20,000".
pub fn fmt_count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Optional free text of at most `max` characters (blank is none); line breaks (a browser
/// sends them as CR LF, counted here as one) and tabs are kept.
pub fn optional_text(s: &str, max: usize) -> Result<Option<LongText>, TextError> {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let given = t.chars().count();
    if given > max {
        return Err(TextError::TooLong { given, max });
    }
    if t.chars().any(is_bidi_control) {
        return Err(TextError::Invisible);
    }
    if t.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(TextError::Control);
    }
    Ok(Some(LongText(t.to_owned())))
}

/// A check-in's answers, each valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinAnswers {
    pub mood: Mood,
    pub sleep_hours: Option<SleepHours>,
    pub sleep_quality: Option<SleepQuality>,
    pub side_effects: BTreeSet<SideEffect>,
    /// Anything else about side effects, in the patient's words.
    pub side_effects_note: Option<LongText>,
    /// The patient's reflection on their intention.
    pub reflection: Option<LongText>,
    pub journal: Option<LongText>,
}

impl CheckinAnswers {
    /// The free-text boxes that were filled in: (field, label, text).
    pub fn texts(&self) -> impl Iterator<Item = (&'static str, &'static str, &LongText)> {
        [
            (
                "side_effects_note",
                "side-effects note",
                &self.side_effects_note,
            ),
            (
                "reflection",
                "reflection on the intention",
                &self.reflection,
            ),
            ("journal", "journal", &self.journal),
        ]
        .into_iter()
        .filter_map(|(f, l, t)| t.as_ref().map(|t| (f, l, t)))
    }
}

/// The form as the patient's browser sent it. The side effects are the values of the
/// repeated `side_effect` field.
#[derive(Debug, Clone, Default)]
pub struct CheckinForm<'a> {
    pub mood: &'a str,
    pub sleep_hours: &'a str,
    pub sleep_quality: &'a str,
    pub side_effects: Vec<&'a str>,
    pub side_effects_note: &'a str,
    pub reflection: &'a str,
    pub journal: &'a str,
}

impl<'a> CheckinForm<'a> {
    /// The form from posted name/value pairs.
    pub fn from_fields(fields: &'a [(String, String)]) -> CheckinForm<'a> {
        let get = |k: &str| {
            fields
                .iter()
                .find(|(f, _)| f == k)
                .map_or("", |(_, v)| v.as_str())
        };
        CheckinForm {
            mood: get("mood"),
            sleep_hours: get("sleep_hours"),
            sleep_quality: get("sleep_quality"),
            side_effects: fields
                .iter()
                .filter(|(k, _)| k == "side_effect")
                .map(|(_, v)| v.as_str())
                .collect(),
            side_effects_note: get("side_effects_note"),
            reflection: get("reflection"),
            journal: get("journal"),
        }
    }

    /// The answers, or every problem named by its field. Only the mood is required: a patient
    /// who slept badly and cannot say how long still sends the rest.
    pub fn parse(&self) -> Result<CheckinAnswers, FieldErrors> {
        let mut errs = FieldErrors::new();
        let mood = errs.check("mood", Mood::parse(self.mood));
        let sleep_hours = if self.sleep_hours.trim().is_empty() {
            Some(None)
        } else {
            errs.check("sleep_hours", SleepHours::parse(self.sleep_hours))
                .map(Some)
        };
        let sleep_quality = if self.sleep_quality.trim().is_empty() {
            Some(None)
        } else {
            errs.check(
                "sleep_quality",
                SleepQuality::from_code(self.sleep_quality)
                    .ok_or("Choose poor, fair or good for how you slept."),
            )
            .map(Some)
        };
        let mut side_effects = BTreeSet::new();
        for s in &self.side_effects {
            match SideEffect::from_code(s) {
                Some(s) => {
                    side_effects.insert(s);
                }
                None => errs.add(
                    "side_effect",
                    "One of the side effects could not be read. Please tick from the list shown.",
                ),
            }
        }
        let mut text =
            |field: &'static str, s: &str| errs.check(field, optional_text(s, LONG_TEXT_MAX));
        let side_effects_note = text("side_effects_note", self.side_effects_note);
        let reflection = text("reflection", self.reflection);
        let journal = text("journal", self.journal);
        match (
            mood,
            sleep_hours,
            sleep_quality,
            side_effects_note,
            reflection,
            journal,
        ) {
            (Some(mood), Some(sleep_hours), Some(sleep_quality), Some(n), Some(r), Some(j))
                if errs.is_empty() =>
            {
                Ok(CheckinAnswers {
                    mood,
                    sleep_hours,
                    sleep_quality,
                    side_effects,
                    side_effects_note: n,
                    reflection: r,
                    journal: j,
                })
            }
            _ => Err(errs),
        }
    }
}
