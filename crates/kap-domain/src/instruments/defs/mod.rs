//! The built-in instrument definitions (clinical.md §5, §11): PHQ-9, GAD-7, PHQ-2, QIDS-SR16,
//! ASQ, MADRS, CADSS-6 and MOAA/S, one file each, plus the safety-flag rules that belong to
//! particular items.
//!
//! Every number here (ranges, bands, LOINC codes) comes from `/work/shared/reference/clinical.md`
//! and is cited with its section next to where it is used. Self-report instruments carry their
//! published item text and answer labels (the source of the wording is named in each file);
//! score-entry-only instruments (copyright) carry none.

mod asq;
mod cadss6;
mod gad7;
mod madrs;
mod moaas;
mod phq2;
mod phq9;
mod qids_sr16;
#[cfg(test)]
mod tests;

use super::{AnswerOption, Answers, Flag, Instrument, Item, RaisedFlag, Shown};

/// Every built-in instrument, in the order staff see them.
pub static ALL: &[&Instrument] = &[
    &phq9::PHQ9,
    &gad7::GAD7,
    &phq2::PHQ2,
    &qids_sr16::QIDS_SR16,
    &asq::ASQ,
    &madrs::MADRS,
    &cadss6::CADSS6,
    &moaas::MOAAS,
];

/// The safety flags these answers raise. Raised from whatever has been answered, complete or
/// not: a safety answer must never be lost because another item was skipped.
///
/// * PHQ-9 item 9 above 0 → [`Flag::Phq9SelfHarm`], severity by [`Flag::severity`]
///   (clinical.md §5.1 "any non-zero answer should trigger clinician review", §11); item 9
///   unanswered → [`Flag::Phq9Item9Unanswered`].
/// * ASQ item 5 (acuity) yes → [`Flag::AsqAcutePositive`] only; otherwise any yes to items 1–4
///   → [`Flag::AsqPositive`] (clinical.md §11 "Result"); any asked question unanswered →
///   [`Flag::AsqUnanswered`] as well (the tool sheet treats a refusal as positive).
/// * No other instrument raises flags.
pub(super) fn flags(ins: &Instrument, answers: &Answers) -> Vec<RaisedFlag> {
    let raise = |flag: Flag, item: &'static str, value: Option<i32>| RaisedFlag {
        flag,
        item: Some(item),
        value,
        severity: flag.severity(value),
    };
    let mut out = vec![];
    if ins.code == phq9::PHQ9.code {
        match answers.get(phq9::SELF_HARM_ITEM).copied() {
            Some(v) if v > 0 => out.push(raise(Flag::Phq9SelfHarm, phq9::SELF_HARM_ITEM, Some(v))),
            Some(_) => {}
            None => out.push(raise(Flag::Phq9Item9Unanswered, phq9::SELF_HARM_ITEM, None)),
        }
    } else if ins.code == asq::ASQ.code {
        let yes = |id: &str| answers.get(id) == Some(&asq::YES);
        if yes(asq::ACUITY_ITEM) {
            out.push(raise(
                Flag::AsqAcutePositive,
                asq::ACUITY_ITEM,
                Some(asq::YES),
            ));
        } else if let Some(id) = asq::SCREENING_ITEMS.iter().find(|id| yes(id)) {
            out.push(raise(Flag::AsqPositive, id, Some(asq::YES)));
        }
        // Every question that was asked must have an answer; a skipped one counts as positive.
        if let Some(item) = ins
            .items
            .iter()
            .find(|i| super::is_shown(i, answers) && !answers.contains_key(i.id))
        {
            out.push(raise(Flag::AsqUnanswered, item.id, None));
        }
    }
    out
}

/// The result of a screen (ASQ, clinical.md §11): "acute positive" when the acuity question is
/// yes, "positive" when any screening question is yes, otherwise "negative". Derived from the
/// flags so that the result shown and the alert raised can never disagree.
pub(super) fn screen_result(ins: &Instrument, answers: &Answers) -> &'static str {
    let raised = flags(ins, answers);
    if raised.iter().any(|f| f.flag == Flag::AsqAcutePositive) {
        "acute positive"
    } else if raised.iter().any(|f| f.flag.is_risk_answer()) {
        "positive"
    } else {
        "negative"
    }
}

/// An answer option without a LOINC answer code.
const fn opt(value: i32, label: &'static str) -> AnswerOption {
    AnswerOption {
        value,
        label,
        loinc: None,
    }
}

/// A scored, always-asked self-report item.
const fn asked(
    id: &'static str,
    text: &'static str,
    short: &'static str,
    options: &'static [AnswerOption],
    loinc: Option<&'static str>,
) -> Item {
    Item {
        id,
        text: Some(text),
        short,
        options,
        loinc,
        scored: true,
        shown: Shown::Always,
    }
}

/// A scored clinician-rated item: score entry only, no item text.
const fn rated(id: &'static str, short: &'static str, options: &'static [AnswerOption]) -> Item {
    Item {
        id,
        text: None,
        short,
        options,
        loinc: None,
        scored: true,
        shown: Shown::Always,
    }
}
