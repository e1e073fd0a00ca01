//! Validated questionnaires as data (clinical.md §5, §11): each definition holds its items,
//! answer options with values, scoring rule, severity bands, recall period, LOINC codes, and
//! licence — and one scoring engine turns answers into a total, a band and safety flags,
//! exactly as published. An incomplete response is never given a total or a band.

mod defs;
pub mod outcome;

use serde::Serialize;
use std::collections::BTreeMap;

pub use defs::ALL;

crate::code::coded_enum! {
    /// How an instrument is administered.
    pub enum Administration as "administration" {
        /// The patient answers (in clinic or through a link); item text is shown.
        SelfReport = "self_report" / "Self-report",
        /// A clinician enters item scores; copyrighted item text is not reproduced.
        ClinicianRated = "clinician_rated" / "Clinician-rated",
    }
}

/// One answer choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AnswerOption {
    pub value: i32,
    pub label: &'static str,
    /// LOINC answer code (LA…), where one exists.
    pub loinc: Option<&'static str>,
}

/// When an item is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shown {
    Always,
    /// Only when any of these items was answered with a value above 0 (ASQ acuity item).
    IfAnyPositive(&'static [&'static str]),
}

/// One question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Stable id within the instrument ("1" … "9", "difficulty", "5").
    pub id: &'static str,
    /// Item text; `None` for score-entry-only instruments (copyright).
    pub text: Option<&'static str>,
    /// Short name for staff views and score entry ("Anhedonia", "Item 3").
    pub short: &'static str,
    pub options: &'static [AnswerOption],
    pub loinc: Option<&'static str>,
    /// Whether the item counts towards the total (PHQ-9's difficulty item does not).
    pub scored: bool,
    pub shown: Shown,
}

/// How the total is formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// Sum of all scored items; every scored item must be answered.
    Sum,
    /// Sum over groups of the highest answer within each group (QIDS-SR16); a group is
    /// complete when at least one of its items is answered.
    SumOfGroupMax(&'static [&'static [&'static str]]),
    /// Screening result with no total (ASQ).
    Screen,
}

/// A severity band: totals `min..=max` carry this label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Band {
    pub min: i32,
    pub max: i32,
    pub label: &'static str,
}

/// An instrument definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Instrument {
    /// Stable code used in URLs, the API and storage ("phq9").
    pub code: &'static str,
    /// Short name ("PHQ-9").
    pub name: &'static str,
    /// Full title.
    pub title: &'static str,
    pub administration: Administration,
    /// Recall period as asked ("Over the last 2 weeks").
    pub recall: Option<&'static str>,
    /// The question stem shown before the items, for self-report instruments.
    pub preamble: Option<&'static str>,
    pub items: &'static [Item],
    pub scoring: Scoring,
    /// Ordered, contiguous, covering the total's whole range (empty for screens).
    pub bands: &'static [Band],
    pub max_total: i32,
    pub loinc_panel: Option<&'static str>,
    pub loinc_total: Option<&'static str>,
    pub licence: &'static str,
    pub attribution: &'static str,
    /// For instruments used as a screen beside their total (PHQ-2): the total from which the
    /// screen is positive.
    pub screen_positive_from: Option<i32>,
    /// Where the scoring facts come from (clinical.md section).
    pub source: &'static str,
}

impl Instrument {
    pub fn item(&self, id: &str) -> Option<&'static Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The band a total falls in.
    pub fn band(&self, total: i32) -> Option<&'static Band> {
        self.bands.iter().find(|b| (b.min..=b.max).contains(&total))
    }

    pub fn has_item_text(&self) -> bool {
        self.administration == Administration::SelfReport
    }
}

/// Looks an instrument up by its code.
pub fn by_code(code: &str) -> Option<&'static Instrument> {
    ALL.iter().copied().find(|i| i.code == code)
}

/// Answers keyed by item id.
pub type Answers = BTreeMap<String, i32>;

/// Why a set of answers cannot be accepted at all (as opposed to being incomplete).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum AnswerError {
    #[error("{instrument} has no item \"{item}\"")]
    UnknownItem {
        instrument: &'static str,
        item: String,
    },
    #[error("{value} is not an allowed answer to item {item}")]
    OutOfRange { item: String, value: i32 },
    #[error("item {item} is only asked when an earlier answer is yes")]
    NotAsked { item: String },
}

crate::code::coded_enum! {
    /// A safety signal raised by an answer; each becomes an alert.
    pub enum Flag as "flag" {
        /// PHQ-9 item 9 (thoughts of self-harm) above 0: clinician review (clinical.md §5.1, §11).
        Phq9SelfHarm = "phq9_self_harm" / "PHQ-9 item 9 positive",
        /// ASQ non-acute positive: a brief suicide safety assessment before the patient leaves.
        AsqPositive = "asq_positive" / "ASQ positive",
        /// ASQ acute positive: imminent risk; urgent full safety evaluation.
        AsqAcutePositive = "asq_acute_positive" / "ASQ acute positive",
        /// PHQ-9 sent with item 9 unanswered: the risk question was skipped.
        Phq9Item9Unanswered = "phq9_item9_unanswered" / "PHQ-9 item 9 not answered",
        /// ASQ sent with a question unanswered: the NIMH tool sheet treats a refusal to answer
        /// as positive (clinical.md §11).
        AsqUnanswered = "asq_unanswered" / "ASQ question not answered",
    }
}

crate::code::coded_enum! {
    /// How urgently a flag needs a clinician (in rising order).
    pub enum Severity as "severity" {
        High = "high" / "High",
        Urgent = "urgent" / "Urgent",
        Critical = "critical" / "Critical",
    }
}

impl Flag {
    /// The default rule (a clinic may set the item-9 split and the unanswered severity, see
    /// `MeasurementSettings`): PHQ-9 item 9 at 2–3 ("more than half the days", "nearly every
    /// day") is urgent and at 1 high (Simon 2013's risk gradient, clinical.md §11); an ASQ
    /// non-acute positive is urgent; an ASQ acute positive is critical; a risk question left
    /// unanswered is high.
    pub fn severity(self, item_value: Option<i32>) -> Severity {
        match self {
            Flag::Phq9SelfHarm if item_value.unwrap_or(0) >= 2 => Severity::Urgent,
            Flag::Phq9SelfHarm => Severity::High,
            Flag::AsqPositive => Severity::Urgent,
            Flag::AsqAcutePositive => Severity::Critical,
            Flag::Phq9Item9Unanswered | Flag::AsqUnanswered => Severity::High,
        }
    }

    /// Whether the flag was raised by an answer that signals risk (as opposed to a risk
    /// question left unanswered). Such an answer is kept at once, whatever else is missing.
    pub fn is_risk_answer(self) -> bool {
        !matches!(self, Flag::Phq9Item9Unanswered | Flag::AsqUnanswered)
    }

    /// The instrument whose answers raise this flag.
    pub fn instrument_code(self) -> &'static str {
        match self {
            Flag::Phq9SelfHarm | Flag::Phq9Item9Unanswered => "phq9",
            Flag::AsqPositive | Flag::AsqAcutePositive | Flag::AsqUnanswered => "asq",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Flag::Phq9SelfHarm => {
                "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) answered above “not at all”: clinician review needed."
            }
            Flag::AsqPositive => {
                "ASQ positive screen (non-acute): a brief suicide safety assessment is needed before the patient leaves."
            }
            Flag::AsqAcutePositive => {
                "ASQ acute positive: imminent risk. Urgent full safety evaluation; the patient must not be left alone."
            }
            Flag::Phq9Item9Unanswered => {
                "PHQ-9 sent with item 9 (thoughts of being better off dead or of self-harm) unanswered: ask the patient about it."
            }
            Flag::AsqUnanswered => {
                "ASQ sent with a question unanswered; a refusal to answer counts as positive: a brief suicide safety assessment is needed."
            }
        }
    }
}

/// A raised flag: which item raised it and with what answer (none when it was left
/// unanswered), and the severity the default rule gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RaisedFlag {
    pub flag: Flag,
    pub item: Option<&'static str>,
    pub value: Option<i32>,
    pub severity: Severity,
}

/// The result of scoring one response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scored {
    pub complete: bool,
    /// Items (or groups, as "6|7") that still need an answer.
    pub missing: Vec<String>,
    pub total: Option<i32>,
    pub band: Option<&'static str>,
    /// For screens (ASQ; PHQ-2 beside its total): "negative", "positive" or "acute positive".
    pub screen: Option<&'static str>,
    pub flags: Vec<RaisedFlag>,
}

/// Whether an item is asked given the other answers.
pub fn is_shown(item: &Item, answers: &Answers) -> bool {
    match item.shown {
        Shown::Always => true,
        Shown::IfAnyPositive(ids) => ids
            .iter()
            .any(|id| answers.get(*id).is_some_and(|v| *v > 0)),
    }
}

/// Scores answers against an instrument. Invalid answers (unknown items, values not offered,
/// answers to items not asked) are refused; missing answers make the response incomplete —
/// it keeps its answers and flags but gets no total and no band.
pub fn score(ins: &Instrument, answers: &Answers) -> Result<Scored, AnswerError> {
    for (id, value) in answers {
        let item = ins.item(id).ok_or_else(|| AnswerError::UnknownItem {
            instrument: ins.name,
            item: id.clone(),
        })?;
        if !item.options.iter().any(|o| o.value == *value) {
            return Err(AnswerError::OutOfRange {
                item: id.clone(),
                value: *value,
            });
        }
        if !is_shown(item, answers) {
            return Err(AnswerError::NotAsked { item: id.clone() });
        }
    }
    let mut missing = vec![];
    let total = match ins.scoring {
        Scoring::Sum => {
            let mut sum = 0;
            for item in ins.items.iter().filter(|i| i.scored) {
                match answers.get(item.id) {
                    Some(v) => sum += v,
                    None => missing.push(item.id.to_owned()),
                }
            }
            Some(sum)
        }
        Scoring::SumOfGroupMax(groups) => {
            let mut sum = 0;
            for group in groups {
                match group.iter().filter_map(|id| answers.get(*id)).max() {
                    Some(v) => sum += v,
                    None => missing.push(group.join("|")),
                }
            }
            Some(sum)
        }
        Scoring::Screen => {
            for item in ins.items.iter().filter(|i| is_shown(i, answers)) {
                if !answers.contains_key(item.id) {
                    missing.push(item.id.to_owned());
                }
            }
            None
        }
    };
    let complete = missing.is_empty();
    let flags = defs::flags(ins, answers);
    let total = total.filter(|_| complete);
    let screen = match (ins.scoring, ins.screen_positive_from, total) {
        (Scoring::Screen, _, _) if complete => Some(defs::screen_result(ins, answers)),
        (_, Some(cutoff), Some(t)) => Some(if t >= cutoff { "positive" } else { "negative" }),
        _ => None,
    };
    Ok(Scored {
        complete,
        missing,
        band: total.and_then(|t| ins.band(t)).map(|b| b.label),
        total,
        screen,
        flags,
    })
}

crate::code::coded_enum! {
    /// When in the course a response was given.
    pub enum ResponseContext as "context" {
        Baseline = "baseline" / "Baseline",
        PreDose = "pre_dose" / "Before a dosing session",
        BetweenSessions = "between_sessions" / "Between sessions",
        FollowUp = "follow_up" / "Follow-up",
    }
}

/// Parses answers as a form sends them: field `item_<id>` → value. Blank fields are unanswered;
/// anything else that is not a whole number is refused with the item named.
pub fn answers_from_fields<'a>(
    ins: &Instrument,
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Answers, AnswerError> {
    let mut answers = Answers::new();
    for (k, v) in fields {
        let Some(id) = k.strip_prefix("item_") else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let value: i32 = v.parse().map_err(|_| AnswerError::OutOfRange {
            item: id.to_owned(),
            value: -1,
        })?;
        if ins.item(id).is_none() {
            return Err(AnswerError::UnknownItem {
                instrument: ins.name,
                item: id.to_owned(),
            });
        }
        answers.insert(id.to_owned(), value);
    }
    Ok(answers)
}

/// Drops answers to items that were not asked (an ASQ acuity answer after four "no"s, say): a
/// form without JavaScript shows every item, and such an answer carries no meaning.
pub fn asked_only(ins: &Instrument, mut answers: Answers) -> Answers {
    let snapshot = answers.clone();
    answers.retain(|id, _| ins.item(id).is_some_and(|item| is_shown(item, &snapshot)));
    answers
}

/// Parses a submitted form into the answers that were asked, and scores them.
pub fn answers_and_score<'a>(
    ins: &Instrument,
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(Answers, Scored), AnswerError> {
    let answers = asked_only(ins, answers_from_fields(ins, fields)?);
    let scored = score(ins, &answers)?;
    Ok((answers, scored))
}

/// Whether a patient's incomplete answers go back to them for the missing items instead of
/// being stored. They are stored as they are when the patient chooses to send them anyway —
/// and always when they already raise a safety flag: a risk answer must reach a clinician at
/// once, whatever else was skipped (clinical.md §11).
pub fn must_ask_again(scored: &Scored, send_anyway: bool) -> bool {
    !scored.complete && !send_anyway && !scored.flags.iter().any(|f| f.flag.is_risk_answer())
}
