//! MADRS, the Montgomery–Åsberg Depression Rating Scale: clinician score entry only.
//!
//! Scoring facts: clinical.md §5.1 — 10 clinician-rated items scored 0–6 (anchors at 0/2/4/6),
//! total 0–60. The anchor wording is copyrighted (clinical.md §5.2: "treat as no until cleared"),
//! so items carry no text and the options are bare numbers. No LOINC code is recorded
//! (clinical.md §5.3).
//!
//! Severity bands: clinical.md §5.1 notes that bands such as 0-6 / 7-19 / 20-34 / 35-60 are
//! conventions (Snaith 1986), not part of the original paper. They are used here with the usual
//! labels, as that convention.

use super::{AnswerOption, opt, rated};
use crate::instruments::{Administration, Band, Instrument, Scoring};

const SCORE_0_TO_6: &[AnswerOption] = &[
    opt(0, "0"),
    opt(1, "1"),
    opt(2, "2"),
    opt(3, "3"),
    opt(4, "4"),
    opt(5, "5"),
    opt(6, "6"),
];

pub static MADRS: Instrument = Instrument {
    code: "madrs",
    name: "MADRS",
    title: "Montgomery–Åsberg Depression Rating Scale",
    administration: Administration::ClinicianRated,
    recall: None,
    preamble: None,
    items: &[
        rated("1", "Apparent sadness", SCORE_0_TO_6),
        rated("2", "Reported sadness", SCORE_0_TO_6),
        rated("3", "Inner tension", SCORE_0_TO_6),
        rated("4", "Reduced sleep", SCORE_0_TO_6),
        rated("5", "Reduced appetite", SCORE_0_TO_6),
        rated("6", "Concentration difficulties", SCORE_0_TO_6),
        rated("7", "Lassitude", SCORE_0_TO_6),
        rated("8", "Inability to feel", SCORE_0_TO_6),
        rated("9", "Pessimistic thoughts", SCORE_0_TO_6),
        rated("10", "Suicidal thoughts", SCORE_0_TO_6),
    ],
    scoring: Scoring::Sum,
    // Snaith 1986 convention, clinical.md §5.1.
    bands: &[
        Band {
            min: 0,
            max: 6,
            label: "Normal/absent",
        },
        Band {
            min: 7,
            max: 19,
            label: "Mild",
        },
        Band {
            min: 20,
            max: 34,
            label: "Moderate",
        },
        Band {
            min: 35,
            max: 60,
            label: "Severe",
        },
    ],
    max_total: 60,
    loinc_panel: None,
    loinc_total: None,
    // clinical.md §5.2.
    licence: "Copyrighted (commonly attributed to S. Montgomery); permission terms UNCONFIRMED. Score entry only: item and anchor text are not reproduced.",
    attribution: "Montgomery SA, Åsberg M (1979). Severity bands: Snaith et al. (1986) convention.",
    screen_positive_from: None,
    source: "clinical.md §5.1 (scoring, band convention), §5.2 (licence), §5.3 (no LOINC)",
};
