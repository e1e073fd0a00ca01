//! MOAA/S, the Modified Observer's Assessment of Alertness/Sedation: one clinician-rated score.
//!
//! Scoring facts: clinical.md §5.1 — 0–5: 5 responds readily to name in normal tone; 4 lethargic
//! response; 3 responds only to loud/repeated name; 2 only to mild prodding/shaking; 1 only to
//! painful trapezius squeeze; 0 no response to squeeze (Chernik 1990); MOAA/S 0 = loss of
//! consciousness (Spravato). The labels below spell those anchors out in the words of the
//! published table reproduced at
//! <https://bmcanesthesiol.biomedcentral.com/articles/10.1186/s12871-022-01788-1/tables/2>
//! (clinical.md [S96]). Other published variants word the lower anchors differently or run
//! 1–6 (clinical.md [S130]); the trapezius-squeeze version of clinical.md §5.1 is the one used.
//! No bands; no LOINC code (clinical.md §5.3).

use super::opt;
use crate::instruments::{Administration, Instrument, Item, Scoring, Shown};

pub static MOAAS: Instrument = Instrument {
    code: "moaas",
    name: "MOAA/S",
    title: "Modified Observer's Assessment of Alertness/Sedation",
    administration: Administration::ClinicianRated,
    recall: None,
    preamble: None,
    items: &[Item {
        id: "score",
        text: None,
        short: "MOAA/S score",
        options: &[
            opt(5, "Responds readily to name spoken in normal tone"),
            opt(4, "Lethargic response to name spoken in normal tone"),
            opt(
                3,
                "Responds only after name is called loudly and/or repeatedly",
            ),
            opt(2, "Responds only after mild prodding or shaking"),
            opt(1, "Responds only after painful trapezius squeeze"),
            opt(0, "Does not respond to painful trapezius squeeze"),
        ],
        loinc: None,
        scored: true,
        shown: Shown::Always,
    }],
    scoring: Scoring::Sum,
    bands: &[],
    max_total: 5,
    loinc_panel: None,
    loinc_total: None,
    // clinical.md §5.2.
    licence: "Published scale (Chernik 1990); licence status UNCONFIRMED. The anchors are short and widely reproduced; verify before relying on them.",
    attribution: "Chernik DA et al., 1990.",
    screen_positive_from: None,
    source: "clinical.md §5.1 (anchors), §5.2 (licence), §5.3 (no LOINC)",
};
