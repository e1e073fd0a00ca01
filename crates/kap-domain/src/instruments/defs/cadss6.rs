//! CADSS-6, the six-item Clinician-Administered Dissociative States Scale: score entry only.
//!
//! Scoring facts: clinical.md §5.1 — the 23-item CADSS scores each item 0–4; CADSS-6 is items 1,
//! 2, 6, 7, 15 and 22 of it (so 0–24 here). Item ids are the 23-item numbers so that entries line
//! up with full-scale records. There are no standard severity cut-offs ("use change from
//! pre-dose"), so there are no bands. Licence: clinical.md §5.2 (treat as copyrighted). No LOINC
//! code is recorded (clinical.md §5.3).

use super::{AnswerOption, opt, rated};
use crate::instruments::{Administration, Instrument, Scoring};

const SCORE_0_TO_4: &[AnswerOption] = &[
    opt(0, "0"),
    opt(1, "1"),
    opt(2, "2"),
    opt(3, "3"),
    opt(4, "4"),
];

pub static CADSS6: Instrument = Instrument {
    code: "cadss6",
    name: "CADSS-6",
    title: "Clinician-Administered Dissociative States Scale, 6-item version",
    administration: Administration::ClinicianRated,
    recall: None,
    preamble: None,
    items: &[
        rated("1", "CADSS item 1", SCORE_0_TO_4),
        rated("2", "CADSS item 2", SCORE_0_TO_4),
        rated("6", "CADSS item 6", SCORE_0_TO_4),
        rated("7", "CADSS item 7", SCORE_0_TO_4),
        rated("15", "CADSS item 15", SCORE_0_TO_4),
        rated("22", "CADSS item 22", SCORE_0_TO_4),
    ],
    scoring: Scoring::Sum,
    bands: &[],
    max_total: 24,
    loinc_panel: None,
    loinc_total: None,
    licence: "Treat as copyrighted (Bremner / Emory; licence route UNCONFIRMED). Score entry only: item text is not reproduced.",
    attribution: "CADSS: Bremner et al. CADSS-6 item selection: Rodrigues et al., J Affect Disord 2021 (not yet validated prospectively).",
    screen_positive_from: None,
    source: "clinical.md §5.1 (CADSS and CADSS-6 scoring, no cut-offs), §5.2 (licence), §5.3 (no LOINC)",
};
