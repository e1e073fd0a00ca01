//! GAD-7, the Generalized Anxiety Disorder 7-item scale.
//!
//! Scoring facts: clinical.md §5.1 (7 items 0–3, total 0–21; 5 / 10 / 15 = mild / moderate /
//! severe). LOINC: clinical.md §5.3 (panel 69737-5, total 70274-6; no item codes recorded, so
//! items carry none). Licence: clinical.md §5.2.
//!
//! Item text, stem and answer labels: the Pfizer GAD-7 form as reproduced at
//! <https://www.touringmanual.com/resources/generalized-anxiety-disorder-7-item-gad-7-generalized-anxiety-disorder-scale/>
//! and <https://22zero.org/gad-7/>, checked against the LOINC item names listed on
//! <https://loinc.org/LL358-3> (e.g. 69735-9 "Being so restless that it is hard to sit still",
//! 69736-7 "Feeling afraid as if something awful might happen"). Copies differ on "it is" /
//! "it's" in item 5 and on a comma after "afraid" in item 7; the LOINC spelling is used for both.
//! The GAD-7 stem reads "… by the following problems?" (no "any of", unlike the PHQ-9).
//!
//! The answer labels are the PHQ answer list, but clinical.md records the LOINC answer codes
//! (LL358-3) for the PHQ only, so the GAD-7 options carry no answer codes here.

use super::{AnswerOption, asked, opt, phq9};
use crate::instruments::{Administration, Band, Instrument, Scoring};

const FREQUENCY: &[AnswerOption] = &[
    opt(0, "Not at all"),
    opt(1, "Several days"),
    opt(2, "More than half the days"),
    opt(3, "Nearly every day"),
];

pub static GAD7: Instrument = Instrument {
    code: "gad7",
    name: "GAD-7",
    title: "Generalized Anxiety Disorder 7-item scale",
    administration: Administration::SelfReport,
    recall: Some(phq9::RECALL),
    preamble: Some(
        "Over the last 2 weeks, how often have you been bothered by the following problems?",
    ),
    items: &[
        asked(
            "1",
            "Feeling nervous, anxious, or on edge",
            "Nervousness",
            FREQUENCY,
            None,
        ),
        asked(
            "2",
            "Not being able to stop or control worrying",
            "Uncontrolled worry",
            FREQUENCY,
            None,
        ),
        asked(
            "3",
            "Worrying too much about different things",
            "Excessive worry",
            FREQUENCY,
            None,
        ),
        asked("4", "Trouble relaxing", "Trouble relaxing", FREQUENCY, None),
        asked(
            "5",
            "Being so restless that it is hard to sit still",
            "Restlessness",
            FREQUENCY,
            None,
        ),
        asked(
            "6",
            "Becoming easily annoyed or irritable",
            "Irritability",
            FREQUENCY,
            None,
        ),
        asked(
            "7",
            "Feeling afraid as if something awful might happen",
            "Fear",
            FREQUENCY,
            None,
        ),
    ],
    scoring: Scoring::Sum,
    // clinical.md §5.1: "5 / 10 / 15 = mild / moderate / severe", total 0-21; 0-4 is below the
    // first cut point (minimal).
    bands: &[
        Band {
            min: 0,
            max: 4,
            label: "Minimal",
        },
        Band {
            min: 5,
            max: 9,
            label: "Mild",
        },
        Band {
            min: 10,
            max: 14,
            label: "Moderate",
        },
        Band {
            min: 15,
            max: 21,
            label: "Severe",
        },
    ],
    max_total: 21,
    // clinical.md §5.3.
    loinc_panel: Some("69737-5"),
    loinc_total: Some("70274-6"),
    licence: phq9::PFIZER_LICENCE,
    attribution: phq9::PFIZER_ATTRIBUTION,
    screen_positive_from: None,
    source: "clinical.md §5.1 (scoring, bands), §5.2 (licence), §5.3 (LOINC)",
};
