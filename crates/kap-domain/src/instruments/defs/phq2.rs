//! PHQ-2: the first two PHQ-9 items (same text, answers and item LOINC codes, see `phq9.rs`).
//!
//! Total LOINC 55758-7: clinical.md §5.3. Licence: clinical.md §5.2 (the PHQ family).
//!
//! Bands: clinical.md gives no PHQ-2 severity band, so there are none here (`band()` is `None`
//! for every total). Screen: a total of 3 or more is a positive screen — go on to the full PHQ-9
//! or a clinical interview (clinical.md §5.1, Kroenke 2003: sensitivity 83 %, specificity 92 %
//! for major depression).

use super::phq9;
use crate::instruments::{Administration, Instrument, Scoring};

pub static PHQ2: Instrument = Instrument {
    code: "phq2",
    name: "PHQ-2",
    title: "Patient Health Questionnaire-2",
    administration: Administration::SelfReport,
    recall: Some(phq9::RECALL),
    preamble: Some(phq9::PREAMBLE),
    // LOINC 44250-9 and 44255-8 (clinical.md §5.3), carried by the shared PHQ-9 items.
    items: &[phq9::ITEM_1, phq9::ITEM_2],
    scoring: Scoring::Sum,
    bands: &[],
    // Two items scored 0-3 (clinical.md §5.1, PHQ-9 items).
    max_total: 6,
    loinc_panel: None,
    loinc_total: Some("55758-7"),
    licence: phq9::PFIZER_LICENCE,
    attribution: phq9::PFIZER_ATTRIBUTION,
    // clinical.md §5.1: "score >= 3 = positive screen".
    screen_positive_from: Some(3),
    source: "clinical.md §5.1 (PHQ-9 item scoring), §5.2 (licence), §5.3 (LOINC)",
};
