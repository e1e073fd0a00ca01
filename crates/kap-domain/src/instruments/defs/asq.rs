//! ASQ, the NIMH Ask Suicide-Screening Questions (clinical.md §11).
//!
//! Four yes/no screening questions (past few weeks / past week / ever) and a fifth acuity question
//! asked only when any of the four is yes. Result (clinical.md §11): negative when all four are
//! no; non-acute positive when any is yes and the acuity question is no; acute positive when the
//! acuity question is yes. There is no total and no band; no LOINC code is recorded.
//!
//! Item text: the NIMH ASQ tool sheet (toolkit at
//! <https://www.nimh.nih.gov/labs-at-nimh/asq-toolkit-materials/index.shtml>; items 1–2 as
//! reproduced from the toolkit PDF at <https://www.scribd.com/document/487904290/ASQ-pdf>; items
//! 3–5 as reproduced identically in several independent public implementations). Note item 3
//! asks about "the past week", not "the past few weeks". On the tool sheet item 4 is followed by
//! "If yes, how? … When? …" and item 5 by "If yes, please describe:" — free-text follow-ups for
//! the clinician that this yes/no model does not capture; they belong in the brief suicide safety
//! assessment that a positive screen triggers. The tool sheet also counts a refusal to answer as
//! positive; here an unanswered question leaves the response incomplete (and any yes already
//! given still raises its flag).
//!
//! Administered by asking the patient the questions as written, so it is modelled as self-report
//! (item text shown).

use super::{AnswerOption, asked, opt};
use crate::instruments::{Administration, Instrument, Item, Scoring, Shown};

/// The answer value for "Yes".
pub(super) const YES: i32 = 1;
/// The four screening questions.
pub(super) const SCREENING_ITEMS: &[&str] = &["1", "2", "3", "4"];
/// The acuity question, asked only after a yes to any screening question.
pub(super) const ACUITY_ITEM: &str = "5";

const YES_NO: &[AnswerOption] = &[opt(YES, "Yes"), opt(0, "No")];

pub static ASQ: Instrument = Instrument {
    code: "asq",
    name: "ASQ",
    title: "Ask Suicide-Screening Questions",
    administration: Administration::SelfReport,
    // Each question states its own time frame.
    recall: None,
    preamble: None,
    items: &[
        asked(
            "1",
            "In the past few weeks, have you wished you were dead?",
            "Wished dead",
            YES_NO,
            None,
        ),
        asked(
            "2",
            "In the past few weeks, have you felt that you or your family would be better off if you were dead?",
            "Family better off if dead",
            YES_NO,
            None,
        ),
        asked(
            "3",
            "In the past week, have you been having thoughts about killing yourself?",
            "Thoughts of killing self",
            YES_NO,
            None,
        ),
        asked(
            "4",
            "Have you ever tried to kill yourself?",
            "Past attempt",
            YES_NO,
            None,
        ),
        Item {
            shown: Shown::IfAnyPositive(SCREENING_ITEMS),
            ..asked(
                ACUITY_ITEM,
                "Are you having thoughts of killing yourself right now?",
                "Thoughts of killing self now (acuity)",
                YES_NO,
                None,
            )
        },
    ],
    scoring: Scoring::Screen,
    bands: &[],
    max_total: 0,
    loinc_panel: None,
    loinc_total: None,
    // clinical.md §11: "Offered by NIMH as a free resource (a US federal work)".
    licence: "Free resource from the US National Institute of Mental Health (a US federal work); item text is published in the NIMH ASQ toolkit.",
    attribution: "Ask Suicide-Screening Questions (ASQ), National Institute of Mental Health (NIMH).",
    screen_positive_from: None,
    source: "clinical.md §11 (items, result rules, licence), §5.2 (why not the C-SSRS)",
};
