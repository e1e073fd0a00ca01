//! Tests for the built-in instruments, named the way the clinic talks about them.

use super::{ALL, asq::ASQ, cadss6::CADSS6, gad7::GAD7, madrs::MADRS, moaas::MOAAS};
use super::{phq2::PHQ2, phq9::PHQ9, qids_sr16::QIDS_SR16};
use crate::instruments::{
    Administration, AnswerError, Answers, Flag, Instrument, RaisedFlag, Scoring, Severity, Shown,
    by_code, score,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use std::collections::BTreeSet;

type Outcome = Result<(), AnswerError>;

fn answers(pairs: &[(&str, i32)]) -> Answers {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn max_option(ins: &Instrument, id: &str) -> i32 {
    ins.item(id)
        .and_then(|i| i.options.iter().map(|o| o.value).max())
        .unwrap_or(0)
}

/// A real, complete answer set adding up to `total`: items are filled in order, each as high as
/// its options allow, the rest 0 (for grouped scoring, the first item of each group carries the
/// group's score and the others are answered 0). Unscored items are answered 0.
fn answers_totalling(ins: &Instrument, total: i32) -> Answers {
    let mut left = total;
    let mut out = Answers::new();
    match ins.scoring {
        Scoring::SumOfGroupMax(groups) => {
            for group in groups {
                for (n, id) in group.iter().enumerate() {
                    let v = if n == 0 {
                        left.min(max_option(ins, id))
                    } else {
                        0
                    };
                    left -= v;
                    out.insert((*id).to_owned(), v);
                }
            }
        }
        _ => {
            for item in ins.items {
                let v = if item.scored {
                    left.min(max_option(ins, item.id))
                } else {
                    0
                };
                left -= v;
                out.insert(item.id.to_owned(), v);
            }
        }
    }
    out
}

/// Checks a boundary table: every total is reached by a real answer set and lands in its band.
/// The table itself must hold every band's first and last total and the totals either side.
fn check_band_table(ins: &Instrument, table: &[(i32, &str)]) -> Outcome {
    let listed: BTreeSet<i32> = table.iter().map(|(t, _)| *t).collect();
    for band in ins.bands {
        for edge in [band.min, band.max] {
            for t in [edge - 1, edge, edge + 1] {
                if (0..=ins.max_total).contains(&t) {
                    assert!(
                        listed.contains(&t),
                        "{}: boundary total {t} missing",
                        ins.name
                    );
                }
            }
        }
    }
    for (total, band) in table {
        let a = answers_totalling(ins, *total);
        let s = score(ins, &a)?;
        assert!(s.complete, "{}: {a:?}", ins.name);
        assert_eq!(s.total, Some(*total), "{}: {a:?}", ins.name);
        assert_eq!(s.band, Some(*band), "{} total {total}", ins.name);
    }
    Ok(())
}

fn raised(flag: Flag, severity: Severity) -> Vec<(Flag, Severity)> {
    vec![(flag, severity)]
}

/// The flags raised, with the severity the default rule gives them.
fn kinds(flags: &[RaisedFlag]) -> Vec<(Flag, Severity)> {
    flags.iter().map(|f| (f.flag, f.severity)).collect()
}

// ---------------------------------------------------------------- structure of every definition

#[test]
fn the_built_in_instruments_are_listed_in_order() {
    let codes: Vec<&str> = ALL.iter().map(|i| i.code).collect();
    assert_eq!(
        codes,
        [
            "phq9",
            "gad7",
            "phq2",
            "qids_sr16",
            "asq",
            "madrs",
            "cadss6",
            "moaas"
        ]
    );
    for ins in ALL {
        assert_eq!(by_code(ins.code).map(|i| i.name), Some(ins.name));
    }
}

#[test]
fn every_definition_is_well_formed() {
    let codes: BTreeSet<&str> = ALL.iter().map(|i| i.code).collect();
    assert_eq!(codes.len(), ALL.len(), "codes are unique");

    for ins in ALL {
        let ids: BTreeSet<&str> = ins.items.iter().map(|i| i.id).collect();
        assert_eq!(ids.len(), ins.items.len(), "{}: item ids unique", ins.name);

        for item in ins.items {
            let values: BTreeSet<i32> = item.options.iter().map(|o| o.value).collect();
            assert!(!item.options.is_empty(), "{} item {}", ins.name, item.id);
            assert_eq!(
                values.len(),
                item.options.len(),
                "{} item {}: option values unique",
                ins.name,
                item.id
            );
            assert!(item.options.iter().all(|o| !o.label.is_empty()));
            assert!(!item.short.is_empty());
            match ins.administration {
                Administration::SelfReport => {
                    assert!(
                        item.text.is_some_and(|t| !t.is_empty()),
                        "{} item {}",
                        ins.name,
                        item.id
                    )
                }
                Administration::ClinicianRated => {
                    assert_eq!(
                        item.text, None,
                        "{} item {} must not reproduce text",
                        ins.name, item.id
                    )
                }
            }
            if let Shown::IfAnyPositive(deps) = item.shown {
                assert!(
                    deps.iter().all(|d| ids.contains(d)),
                    "{} item {}",
                    ins.name,
                    item.id
                );
            }
        }

        match ins.scoring {
            Scoring::Sum => {
                let sum: i32 = ins
                    .items
                    .iter()
                    .filter(|i| i.scored)
                    .map(|i| max_option(ins, i.id))
                    .sum();
                assert_eq!(ins.max_total, sum, "{}: max_total", ins.name);
            }
            Scoring::SumOfGroupMax(groups) => {
                let grouped: Vec<&str> = groups.iter().flat_map(|g| g.iter().copied()).collect();
                let scored: Vec<&str> = ins
                    .items
                    .iter()
                    .filter(|i| i.scored)
                    .map(|i| i.id)
                    .collect();
                assert_eq!(
                    grouped, scored,
                    "{}: every scored item in one group",
                    ins.name
                );
                let sum: i32 = groups
                    .iter()
                    .map(|g| g.iter().map(|id| max_option(ins, id)).max().unwrap_or(0))
                    .sum();
                assert_eq!(ins.max_total, sum, "{}: max_total", ins.name);
            }
            Scoring::Screen => {
                assert!(ins.bands.is_empty(), "{}: a screen has no bands", ins.name);
                assert_eq!(ins.max_total, 0);
            }
        }

        if let (Some(first), Some(last)) = (ins.bands.first(), ins.bands.last()) {
            assert_eq!(first.min, 0, "{}: bands start at 0", ins.name);
            assert_eq!(
                last.max, ins.max_total,
                "{}: bands end at max_total",
                ins.name
            );
            for b in ins.bands {
                assert!(b.min <= b.max, "{}: {b:?}", ins.name);
            }
            for pair in ins.bands.windows(2) {
                assert_eq!(
                    pair[1].min,
                    pair[0].max + 1,
                    "{}: bands contiguous",
                    ins.name
                );
            }
        }

        assert!(!ins.licence.is_empty() && !ins.attribution.is_empty());
        assert!(
            ins.source.contains("clinical.md"),
            "{}: cites its source",
            ins.name
        );
        assert_eq!(
            ins.has_item_text(),
            ins.administration == Administration::SelfReport
        );
    }
}

#[test]
fn phq9_carries_its_loinc_codes() {
    let item_codes: Vec<Option<&str>> = PHQ9.items.iter().map(|i| i.loinc).collect();
    assert_eq!(
        item_codes,
        [
            Some("44250-9"),
            Some("44255-8"),
            Some("44259-0"),
            Some("44254-1"),
            Some("44251-7"),
            Some("44258-2"),
            Some("44252-5"),
            Some("44253-3"),
            Some("44260-8"),
            Some("69722-7"),
        ]
    );
    assert_eq!(PHQ9.loinc_panel, Some("44249-1"));
    assert_eq!(PHQ9.loinc_total, Some("44261-6"));
    let answer_codes: Vec<Option<&str>> = PHQ9.items[0].options.iter().map(|o| o.loinc).collect();
    assert_eq!(
        answer_codes,
        [
            Some("LA6568-5"),
            Some("LA6569-3"),
            Some("LA6570-1"),
            Some("LA6571-9")
        ]
    );
    assert_eq!(GAD7.loinc_panel, Some("69737-5"));
    assert_eq!(GAD7.loinc_total, Some("70274-6"));
    assert_eq!(PHQ2.loinc_total, Some("55758-7"));
}

#[test]
fn score_entry_instruments_have_no_item_text() {
    for ins in [&MADRS, &CADSS6, &MOAAS] {
        assert_eq!(ins.administration, Administration::ClinicianRated);
        assert!(ins.items.iter().all(|i| i.text.is_none()));
    }
    let madrs_labels: Vec<&str> = MADRS.items[0].options.iter().map(|o| o.label).collect();
    assert_eq!(madrs_labels, ["0", "1", "2", "3", "4", "5", "6"]);
}

// ---------------------------------------------------------------- PHQ-9

#[test]
fn phq9_bands_at_every_boundary() -> Outcome {
    check_band_table(
        &PHQ9,
        &[
            (0, "Minimal"),
            (1, "Minimal"),
            (3, "Minimal"),
            (4, "Minimal"),
            (5, "Mild"),
            (6, "Mild"),
            (8, "Mild"),
            (9, "Mild"),
            (10, "Moderate"),
            (11, "Moderate"),
            (13, "Moderate"),
            (14, "Moderate"),
            (15, "Moderately severe"),
            (16, "Moderately severe"),
            (18, "Moderately severe"),
            (19, "Moderately severe"),
            (20, "Severe"),
            (21, "Severe"),
            (26, "Severe"),
            (27, "Severe"),
        ],
    )
}

#[test]
fn phq9_total_of_10_is_moderate() -> Outcome {
    let a = answers(&[
        ("1", 2),
        ("2", 2),
        ("3", 1),
        ("4", 2),
        ("5", 1),
        ("6", 1),
        ("7", 1),
        ("8", 0),
        ("9", 0),
    ]);
    let s = score(&PHQ9, &a)?;
    assert_eq!((s.total, s.band), (Some(10), Some("Moderate")));
    assert!(s.flags.is_empty());
    Ok(())
}

#[test]
fn phq9_total_of_9_is_mild_and_20_is_severe() -> Outcome {
    assert_eq!(
        score(&PHQ9, &answers_totalling(&PHQ9, 9))?.band,
        Some("Mild")
    );
    assert_eq!(
        score(&PHQ9, &answers_totalling(&PHQ9, 20))?.band,
        Some("Severe")
    );
    Ok(())
}

#[test]
fn phq9_difficulty_item_does_not_change_the_total() -> Outcome {
    let mut a = answers_totalling(&PHQ9, 12);
    let mut totals = vec![];
    for difficulty in 0..=3 {
        a.insert("difficulty".into(), difficulty);
        totals.push(score(&PHQ9, &a)?.total);
    }
    assert_eq!(totals, [Some(12); 4]);
    a.remove("difficulty");
    let s = score(&PHQ9, &a)?;
    assert!(s.complete, "the difficulty item is not needed for a total");
    assert_eq!(s.total, Some(12));
    Ok(())
}

#[test]
fn phq9_missing_any_item_gives_no_total_and_no_band() -> Outcome {
    for id in ["1", "2", "3", "4", "5", "6", "7", "8", "9"] {
        let mut a = answers_totalling(&PHQ9, 14);
        a.remove(id);
        let s = score(&PHQ9, &a)?;
        assert!(!s.complete, "item {id} missing");
        assert_eq!(s.missing, [id]);
        assert_eq!((s.total, s.band), (None, None), "item {id} missing");
    }
    Ok(())
}

#[test]
fn phq9_item_9_flag_is_raised_even_when_the_rest_is_unanswered() -> Outcome {
    let s = score(&PHQ9, &answers(&[("9", 2)]))?;
    assert!(!s.complete);
    assert_eq!(s.missing.len(), 8);
    assert_eq!(s.total, None);
    assert_eq!(
        kinds(&s.flags),
        raised(Flag::Phq9SelfHarm, Severity::Urgent)
    );
    Ok(())
}

#[test]
fn phq9_item_9_several_days_is_high_and_nearly_every_day_is_urgent() -> Outcome {
    let mut a = answers_totalling(&PHQ9, 0);
    let mut by_answer = vec![];
    for v in 0..=3 {
        a.insert("9".into(), v);
        by_answer.push(kinds(&score(&PHQ9, &a)?.flags));
    }
    assert_eq!(by_answer[0], vec![], "not at all: no flag");
    assert_eq!(by_answer[1], raised(Flag::Phq9SelfHarm, Severity::High));
    assert_eq!(by_answer[2], raised(Flag::Phq9SelfHarm, Severity::Urgent));
    assert_eq!(by_answer[3], raised(Flag::Phq9SelfHarm, Severity::Urgent));
    Ok(())
}

#[test]
fn phq9_refuses_answers_that_are_not_offered() {
    let mut a = answers_totalling(&PHQ9, 5);
    a.insert("1".into(), 4);
    assert_eq!(
        score(&PHQ9, &a),
        Err(AnswerError::OutOfRange {
            item: "1".into(),
            value: 4
        })
    );
    a.insert("1".into(), -1);
    assert!(matches!(
        score(&PHQ9, &a),
        Err(AnswerError::OutOfRange { .. })
    ));
    let mut a = answers_totalling(&PHQ9, 5);
    a.insert("difficulty".into(), 4);
    assert!(matches!(
        score(&PHQ9, &a),
        Err(AnswerError::OutOfRange { .. })
    ));
}

#[test]
fn phq9_refuses_unknown_items() {
    let mut a = answers_totalling(&PHQ9, 5);
    a.insert("10".into(), 0);
    assert_eq!(
        score(&PHQ9, &a),
        Err(AnswerError::UnknownItem {
            instrument: "PHQ-9",
            item: "10".into()
        })
    );
}

// ---------------------------------------------------------------- GAD-7, PHQ-2

#[test]
fn gad7_bands_at_every_boundary() -> Outcome {
    check_band_table(
        &GAD7,
        &[
            (0, "Minimal"),
            (1, "Minimal"),
            (3, "Minimal"),
            (4, "Minimal"),
            (5, "Mild"),
            (6, "Mild"),
            (8, "Mild"),
            (9, "Mild"),
            (10, "Moderate"),
            (11, "Moderate"),
            (13, "Moderate"),
            (14, "Moderate"),
            (15, "Severe"),
            (16, "Severe"),
            (20, "Severe"),
            (21, "Severe"),
        ],
    )
}

#[test]
fn gad7_total_of_10_is_moderate_and_raises_no_flag() -> Outcome {
    let a = answers(&[
        ("1", 3),
        ("2", 2),
        ("3", 2),
        ("4", 1),
        ("5", 0),
        ("6", 1),
        ("7", 1),
    ]);
    let s = score(&GAD7, &a)?;
    assert_eq!((s.total, s.band), (Some(10), Some("Moderate")));
    assert!(s.flags.is_empty());
    Ok(())
}

#[test]
fn phq2_is_the_first_two_phq9_items_and_has_no_bands() -> Outcome {
    assert_eq!(PHQ2.items, &PHQ9.items[..2]);
    let s = score(&PHQ2, &answers(&[("1", 3), ("2", 3)]))?;
    assert_eq!(s.total, Some(6));
    assert_eq!(s.band, None, "clinical.md gives no PHQ-2 bands");
    let s = score(&PHQ2, &answers(&[("1", 1)]))?;
    assert_eq!((s.complete, s.total), (false, None));
    assert!(matches!(
        score(&PHQ2, &answers(&[("9", 1)])),
        Err(AnswerError::UnknownItem { .. })
    ));
    Ok(())
}

// ---------------------------------------------------------------- QIDS-SR16

fn qids_all(value: i32) -> Answers {
    QIDS_SR16
        .items
        .iter()
        .map(|i| (i.id.to_owned(), value))
        .collect()
}

#[test]
fn qids_bands_at_every_boundary() -> Outcome {
    check_band_table(
        &QIDS_SR16,
        &[
            (0, "None"),
            (1, "None"),
            (4, "None"),
            (5, "None"),
            (6, "Mild"),
            (7, "Mild"),
            (9, "Mild"),
            (10, "Mild"),
            (11, "Moderate"),
            (12, "Moderate"),
            (14, "Moderate"),
            (15, "Moderate"),
            (16, "Severe"),
            (17, "Severe"),
            (19, "Severe"),
            (20, "Severe"),
            (21, "Very severe"),
            (22, "Very severe"),
            (26, "Very severe"),
            (27, "Very severe"),
        ],
    )
}

#[test]
fn qids_sleep_counts_only_the_worst_sleep_item() -> Outcome {
    let mut a = qids_all(0);
    for (id, v) in [("1", 1), ("2", 3), ("3", 0), ("4", 2)] {
        a.insert(id.into(), v);
    }
    assert_eq!(score(&QIDS_SR16, &a)?.total, Some(3));
    Ok(())
}

#[test]
fn qids_every_answer_at_3_is_27_not_48() -> Outcome {
    let s = score(&QIDS_SR16, &qids_all(3))?;
    assert_eq!((s.total, s.band), (Some(27), Some("Very severe")));
    Ok(())
}

#[test]
fn qids_worked_example_is_moderate() -> Outcome {
    // Sleep max(2,1,0,0)=2; sad 2; appetite/weight max(0,2,1,0)=2; concentration 1; self 2;
    // death 1; interest 1; energy 1; psychomotor max(0,1)=1 → 13.
    let a = answers(&[
        ("1", 2),
        ("2", 1),
        ("3", 0),
        ("4", 0),
        ("5", 2),
        ("6", 0),
        ("7", 2),
        ("8", 1),
        ("9", 0),
        ("10", 1),
        ("11", 2),
        ("12", 1),
        ("13", 1),
        ("14", 1),
        ("15", 0),
        ("16", 1),
    ]);
    let s = score(&QIDS_SR16, &a)?;
    assert_eq!((s.total, s.band), (Some(13), Some("Moderate")));
    Ok(())
}

#[test]
fn qids_answering_6_but_not_7_and_9_but_not_8_is_complete() -> Outcome {
    let mut a = qids_all(1);
    a.remove("7");
    a.remove("8");
    let s = score(&QIDS_SR16, &a)?;
    assert!(s.complete);
    assert!(s.missing.is_empty());
    assert_eq!(s.total, Some(9));
    Ok(())
}

#[test]
fn qids_with_no_appetite_or_weight_answer_is_incomplete() -> Outcome {
    let mut a = qids_all(1);
    for id in ["6", "7", "8", "9"] {
        a.remove(id);
    }
    let s = score(&QIDS_SR16, &a)?;
    assert!(!s.complete);
    assert_eq!(s.missing, ["6|7|8|9"]);
    assert_eq!((s.total, s.band), (None, None));
    Ok(())
}

#[test]
fn qids_thoughts_of_death_raise_no_flag_of_their_own() -> Outcome {
    let mut a = qids_all(0);
    a.insert("12".into(), 3);
    assert!(score(&QIDS_SR16, &a)?.flags.is_empty());
    Ok(())
}

// ---------------------------------------------------------------- ASQ

#[test]
fn asq_all_no_is_negative_without_asking_question_5() -> Outcome {
    let s = score(&ASQ, &answers(&[("1", 0), ("2", 0), ("3", 0), ("4", 0)]))?;
    assert!(s.complete);
    assert!(s.missing.is_empty(), "question 5 is not asked");
    assert_eq!(s.screen, Some("negative"));
    assert!(s.flags.is_empty());
    assert_eq!((s.total, s.band), (None, None));
    Ok(())
}

#[test]
fn asq_question_5_is_refused_when_all_four_are_no() {
    let a = answers(&[("1", 0), ("2", 0), ("3", 0), ("4", 0), ("5", 0)]);
    assert_eq!(
        score(&ASQ, &a),
        Err(AnswerError::NotAsked { item: "5".into() })
    );
}

#[test]
fn asq_a_yes_without_question_5_is_incomplete_but_already_flagged() -> Outcome {
    let s = score(&ASQ, &answers(&[("1", 0), ("2", 0), ("3", 1), ("4", 0)]))?;
    assert!(!s.complete);
    assert_eq!(s.missing, ["5"]);
    assert_eq!(s.screen, None);
    // A yes, and question 5 not (yet) answered: the tool sheet counts a refusal as positive.
    assert_eq!(
        kinds(&s.flags),
        vec![
            (Flag::AsqPositive, Severity::Urgent),
            (Flag::AsqUnanswered, Severity::High)
        ]
    );
    Ok(())
}

#[test]
fn asq_a_single_yes_is_flagged_before_the_other_questions_are_answered() -> Outcome {
    let s = score(&ASQ, &answers(&[("1", 1)]))?;
    assert_eq!(s.missing, ["2", "3", "4", "5"]);
    assert_eq!(
        kinds(&s.flags),
        vec![
            (Flag::AsqPositive, Severity::Urgent),
            (Flag::AsqUnanswered, Severity::High)
        ]
    );
    Ok(())
}

#[test]
fn asq_yes_then_no_to_question_5_is_a_non_acute_positive() -> Outcome {
    for yes in ["1", "2", "3", "4"] {
        let mut a = answers(&[("1", 0), ("2", 0), ("3", 0), ("4", 0), ("5", 0)]);
        a.insert(yes.into(), 1);
        let s = score(&ASQ, &a)?;
        assert!(s.complete);
        assert_eq!(s.screen, Some("positive"), "yes to {yes}");
        assert_eq!(kinds(&s.flags), raised(Flag::AsqPositive, Severity::Urgent));
    }
    Ok(())
}

#[test]
fn asq_yes_to_question_5_is_acute_positive_and_only_that_flag() -> Outcome {
    let a = answers(&[("1", 1), ("2", 1), ("3", 1), ("4", 1), ("5", 1)]);
    let s = score(&ASQ, &a)?;
    assert_eq!(s.screen, Some("acute positive"));
    assert_eq!(
        kinds(&s.flags),
        raised(Flag::AsqAcutePositive, Severity::Critical)
    );
    let a = answers(&[("1", 0), ("2", 0), ("3", 0), ("4", 1), ("5", 1)]);
    assert_eq!(score(&ASQ, &a)?.screen, Some("acute positive"));
    Ok(())
}

#[test]
fn asq_answers_are_yes_or_no_only() {
    assert!(matches!(
        score(&ASQ, &answers(&[("1", 2)])),
        Err(AnswerError::OutOfRange { .. })
    ));
}

// ---------------------------------------------------------------- MADRS, CADSS-6, MOAA/S

#[test]
fn madrs_bands_at_every_boundary() -> Outcome {
    check_band_table(
        &MADRS,
        &[
            (0, "Normal/absent"),
            (1, "Normal/absent"),
            (5, "Normal/absent"),
            (6, "Normal/absent"),
            (7, "Mild"),
            (8, "Mild"),
            (18, "Mild"),
            (19, "Mild"),
            (20, "Moderate"),
            (21, "Moderate"),
            (33, "Moderate"),
            (34, "Moderate"),
            (35, "Severe"),
            (36, "Severe"),
            (59, "Severe"),
            (60, "Severe"),
        ],
    )
}

#[test]
fn madrs_suicidal_thoughts_item_raises_no_flag_of_its_own() -> Outcome {
    let mut a = answers_totalling(&MADRS, 0);
    a.insert("10".into(), 6);
    let s = score(&MADRS, &a)?;
    assert_eq!(s.total, Some(6));
    assert!(s.flags.is_empty());
    Ok(())
}

#[test]
fn cadss6_uses_the_23_item_numbers_and_has_no_bands() -> Outcome {
    let ids: Vec<&str> = CADSS6.items.iter().map(|i| i.id).collect();
    assert_eq!(ids, ["1", "2", "6", "7", "15", "22"]);
    let s = score(&CADSS6, &answers_totalling(&CADSS6, 24))?;
    assert_eq!((s.total, s.band), (Some(24), None));
    assert!(matches!(
        score(&CADSS6, &answers(&[("3", 1)])),
        Err(AnswerError::UnknownItem { .. })
    ));
    Ok(())
}

#[test]
fn moaas_zero_is_no_response_to_trapezius_squeeze() -> Outcome {
    let s = score(&MOAAS, &answers(&[("score", 0)]))?;
    assert_eq!((s.complete, s.total, s.band), (true, Some(0), None));
    let label = MOAAS.items[0]
        .options
        .iter()
        .find(|o| o.value == 0)
        .map(|o| o.label);
    assert_eq!(label, Some("Does not respond to painful trapezius squeeze"));
    assert!(matches!(
        score(&MOAAS, &answers(&[("score", 6)])),
        Err(AnswerError::OutOfRange { .. })
    ));
    Ok(())
}

// ---------------------------------------------------------------- properties

fn totalled() -> impl Iterator<Item = &'static &'static Instrument> {
    ALL.iter()
        .filter(|i| matches!(i.scoring, Scoring::Sum | Scoring::SumOfGroupMax(_)))
}

/// A random complete response: each item's answer chosen by `picks`; for grouped scoring an item
/// is left out when `skip` says so, unless it is the only one left in its group.
fn random_response(ins: &Instrument, picks: &[Index], skip: &[bool]) -> Vec<(String, i32)> {
    let mut keep: Vec<bool> = match ins.scoring {
        Scoring::SumOfGroupMax(_) => skip.iter().map(|s| !s).collect(),
        _ => vec![true; ins.items.len()],
    };
    if let Scoring::SumOfGroupMax(groups) = ins.scoring {
        let position = |id: &str| ins.items.iter().position(|i| i.id == id).unwrap_or(0);
        for group in groups {
            if !group.iter().any(|id| keep[position(id)]) {
                keep[position(group[0])] = true;
            }
        }
    }
    ins.items
        .iter()
        .enumerate()
        .filter(|(n, _)| keep[*n])
        .map(|(n, item)| (item.id.to_owned(), picks[n].get(item.options).value))
        .collect()
}

fn scored(ins: &Instrument, a: &Answers) -> Result<(i32, Option<usize>), TestCaseError> {
    let s = score(ins, a).map_err(|e| TestCaseError::fail(format!("{}: {e}", ins.name)))?;
    prop_assert!(s.complete, "{}: {:?} missing {:?}", ins.name, a, s.missing);
    let total = s
        .total
        .ok_or_else(|| TestCaseError::fail(format!("{}: no total", ins.name)))?;
    let band = s
        .band
        .and_then(|l| ins.bands.iter().position(|b| b.label == l));
    prop_assert_eq!(
        band.is_some(),
        !ins.bands.is_empty(),
        "{} total {}",
        ins.name,
        total
    );
    Ok((total, band))
}

proptest! {
    #[test]
    fn any_complete_response_scores_within_range(
        picks in proptest::collection::vec(any::<Index>(), 16),
        skip in proptest::collection::vec(any::<bool>(), 16),
    ) {
        for ins in totalled() {
            let a: Answers = random_response(ins, &picks, &skip).into_iter().collect();
            let (total, _) = scored(ins, &a)?;
            prop_assert!((0..=ins.max_total).contains(&total), "{} total {}", ins.name, total);
        }
    }

    #[test]
    fn a_higher_total_never_gets_an_earlier_band(
        picks_a in proptest::collection::vec(any::<Index>(), 16),
        picks_b in proptest::collection::vec(any::<Index>(), 16),
        skip in proptest::collection::vec(any::<bool>(), 16),
    ) {
        for ins in totalled() {
            let a: Answers = random_response(ins, &picks_a, &skip).into_iter().collect();
            let b: Answers = random_response(ins, &picks_b, &skip).into_iter().collect();
            let (ta, ba) = scored(ins, &a)?;
            let (tb, bb) = scored(ins, &b)?;
            if ta < tb {
                prop_assert!(ba <= bb, "{}: {} in band {:?}, {} in {:?}", ins.name, ta, ba, tb, bb);
            }
            if ta == tb {
                prop_assert_eq!(ba, bb);
            }
        }
    }

    #[test]
    fn a_sum_does_not_depend_on_the_order_answers_arrive(
        picks in proptest::collection::vec(any::<Index>(), 16),
        swaps in proptest::collection::vec(any::<Index>(), 16),
    ) {
        for ins in totalled().filter(|i| i.scoring == Scoring::Sum) {
            let mut pairs = random_response(ins, &picks, &[false; 16]);
            let expected: i32 = pairs
                .iter()
                .filter(|(id, _)| ins.item(id).is_some_and(|i| i.scored))
                .map(|(_, v)| v)
                .sum();
            for i in (1..pairs.len()).rev() {
                pairs.swap(i, swaps[i].index(i + 1));
            }
            let mut a = Answers::new();
            for (id, v) in pairs {
                a.insert(id, v);
            }
            let (total, _) = scored(ins, &a)?;
            prop_assert_eq!(total, expected, "{}", ins.name);
        }
    }
}

#[test]
fn an_asq_question_5_answer_after_four_noes_is_dropped_as_not_asked() -> Outcome {
    let given = answers(&[("1", 0), ("2", 0), ("3", 0), ("4", 0), ("5", 1)]);
    let kept = crate::instruments::asked_only(&ASQ, given);
    assert_eq!(kept, answers(&[("1", 0), ("2", 0), ("3", 0), ("4", 0)]));
    assert_eq!(score(&ASQ, &kept)?.screen, Some("negative"));
    Ok(())
}

#[test]
fn an_incomplete_phq9_is_asked_again_unless_sent_anyway() -> Outcome {
    let s = score(&PHQ9, &answers(&[("1", 1), ("2", 2)]))?;
    assert!(crate::instruments::must_ask_again(&s, false));
    assert!(!crate::instruments::must_ask_again(&s, true));
    Ok(())
}

#[test]
fn an_incomplete_phq9_with_item_9_positive_is_kept_at_once() -> Outcome {
    // clinical.md §11: a risk answer must reach a clinician whatever else was skipped.
    let s = score(&PHQ9, &answers(&[("9", 2)]))?;
    assert!(!s.complete);
    assert!(!crate::instruments::must_ask_again(&s, false));
    Ok(())
}

#[test]
fn a_phq9_sent_without_item_9_raises_the_unanswered_flag() -> Outcome {
    let mut a = answers_totalling(&PHQ9, 8);
    a.remove("9");
    let s = score(&PHQ9, &a)?;
    assert!(!s.complete);
    assert_eq!(
        kinds(&s.flags),
        raised(Flag::Phq9Item9Unanswered, Severity::High)
    );
    // The patient is asked again first; sent as it is, the flag goes with the response.
    assert!(crate::instruments::must_ask_again(&s, false));
    assert!(!crate::instruments::must_ask_again(&s, true));
    Ok(())
}

#[test]
fn an_asq_with_every_asked_question_answered_raises_no_unanswered_flag() -> Outcome {
    let s = score(&ASQ, &answers(&[("1", 0), ("2", 0), ("3", 0)]))?;
    assert_eq!(kinds(&s.flags), raised(Flag::AsqUnanswered, Severity::High));
    assert_eq!(s.flags[0].item, Some("4"));
    let s = score(&ASQ, &answers(&[("1", 0), ("2", 0), ("3", 0), ("4", 0)]))?;
    assert!(s.flags.is_empty());
    Ok(())
}

#[test]
fn phq2_total_of_3_or_more_is_a_positive_screen() -> Outcome {
    // clinical.md §5.1 (Kroenke 2003): "score >= 3 = positive screen".
    for (a, b, screen) in [
        (0, 0, "negative"),
        (1, 1, "negative"),
        (2, 1, "positive"),
        (3, 3, "positive"),
    ] {
        let s = score(&PHQ2, &answers(&[("1", a), ("2", b)]))?;
        assert_eq!(s.total, Some(a + b));
        assert_eq!(s.screen, Some(screen), "{a}+{b}");
    }
    assert_eq!(
        score(&PHQ2, &answers(&[("1", 3)]))?.screen,
        None,
        "incomplete: no screen"
    );
    Ok(())
}
