//! PHQ-9, the Patient Health Questionnaire depression module.
//!
//! Scoring facts: clinical.md §5.1 (9 items 0–3, total 0–27, 2-week recall, the functional
//! difficulty item is not scored; bands 0–4 / 5 / 10 / 15 / 20 = minimal / mild / moderate /
//! moderately severe / severe). LOINC: clinical.md §5.3. Licence: clinical.md §5.2.
//!
//! Item text and answer labels: the Pfizer PHQ-9 form as reproduced verbatim at
//! <https://centralmedicalcentre-morden.nhs.uk/form/phq-9/> and
//! <https://www.ementalhealth.ca/index.php?m=survey&ID=42>, checked against the LOINC item names
//! (<https://loinc.org/LL358-3>, e.g. 44253-3, 44258-2) and the LOINC-derived FHIR Questionnaire
//! 44249-1. Punctuation differs slightly between copies (LOINC writes item 9 as "… better off
//! dead, or of hurting yourself …" and uses hyphens for the form's dashes); the form's wording is
//! used here. Difficulty item: same form, also at
//! <https://penfieldpsych.com/testing/patient-health-questionnaire>.

use super::{AnswerOption, asked};
use crate::instruments::{Administration, Band, Instrument, Item, Scoring, Shown};

/// Item 9, thoughts of being better off dead or of self-harm (LOINC 44260-8, clinical.md §5.3).
pub(super) const SELF_HARM_ITEM: &str = "9";

/// The PHQ answer list LL358-3 with its LOINC answer codes (clinical.md §5.3).
pub(super) const FREQUENCY: &[AnswerOption] = &[
    AnswerOption {
        value: 0,
        label: "Not at all",
        loinc: Some("LA6568-5"),
    },
    AnswerOption {
        value: 1,
        label: "Several days",
        loinc: Some("LA6569-3"),
    },
    AnswerOption {
        value: 2,
        label: "More than half the days",
        loinc: Some("LA6570-1"),
    },
    AnswerOption {
        value: 3,
        label: "Nearly every day",
        loinc: Some("LA6571-9"),
    },
];

/// The PHQ-9 question stem (also used by PHQ-2).
pub(super) const PREAMBLE: &str =
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?";
pub(super) const RECALL: &str = "Over the last 2 weeks";

// Item LOINC codes in item order: clinical.md §5.3 "PHQ-9 items 1-9".
pub(super) const ITEM_1: Item = asked(
    "1",
    "Little interest or pleasure in doing things",
    "Anhedonia",
    FREQUENCY,
    Some("44250-9"),
);
pub(super) const ITEM_2: Item = asked(
    "2",
    "Feeling down, depressed, or hopeless",
    "Depressed mood",
    FREQUENCY,
    Some("44255-8"),
);
const ITEM_3: Item = asked(
    "3",
    "Trouble falling or staying asleep, or sleeping too much",
    "Sleep",
    FREQUENCY,
    Some("44259-0"),
);
const ITEM_4: Item = asked(
    "4",
    "Feeling tired or having little energy",
    "Fatigue",
    FREQUENCY,
    Some("44254-1"),
);
const ITEM_5: Item = asked(
    "5",
    "Poor appetite or overeating",
    "Appetite",
    FREQUENCY,
    Some("44251-7"),
);
const ITEM_6: Item = asked(
    "6",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
    "Self-worth",
    FREQUENCY,
    Some("44258-2"),
);
const ITEM_7: Item = asked(
    "7",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Concentration",
    FREQUENCY,
    Some("44252-5"),
);
const ITEM_8: Item = asked(
    "8",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual",
    "Psychomotor",
    FREQUENCY,
    Some("44253-3"),
);
const ITEM_9: Item = asked(
    SELF_HARM_ITEM,
    "Thoughts that you would be better off dead or of hurting yourself in some way",
    "Thoughts of self-harm",
    FREQUENCY,
    Some("44260-8"),
);

/// The functional difficulty question: asked, stored, never scored (clinical.md §5.1). LOINC
/// 69722-7 (clinical.md §5.3). Its answer codes are not in clinical.md, so none are given. It is
/// always offered (not hidden when items 1–9 are all 0) so a response is never refused for it.
const DIFFICULTY: Item = Item {
    id: "difficulty",
    text: Some(
        "If you checked off any problems, how difficult have these problems made it for you to do your work, take care of things at home, or get along with other people?",
    ),
    short: "Functional difficulty",
    options: &[
        super::opt(0, "Not difficult at all"),
        super::opt(1, "Somewhat difficult"),
        super::opt(2, "Very difficult"),
        super::opt(3, "Extremely difficult"),
    ],
    loinc: Some("69722-7"),
    scored: false,
    shown: Shown::Always,
};

pub static PHQ9: Instrument = Instrument {
    code: "phq9",
    name: "PHQ-9",
    title: "Patient Health Questionnaire-9",
    administration: Administration::SelfReport,
    recall: Some(RECALL),
    preamble: Some(PREAMBLE),
    items: &[
        ITEM_1, ITEM_2, ITEM_3, ITEM_4, ITEM_5, ITEM_6, ITEM_7, ITEM_8, ITEM_9, DIFFICULTY,
    ],
    scoring: Scoring::Sum,
    // clinical.md §5.1: "5 / 10 / 15 / 20 = mild / moderate / moderately severe / severe
    // (0-4 minimal)", total 0-27.
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
            max: 19,
            label: "Moderately severe",
        },
        Band {
            min: 20,
            max: 27,
            label: "Severe",
        },
    ],
    max_total: 27,
    // clinical.md §5.3: panel 44249-1, total score 44261-6.
    loinc_panel: Some("44249-1"),
    loinc_total: Some("44261-6"),
    licence: PFIZER_LICENCE,
    attribution: PFIZER_ATTRIBUTION,
    screen_positive_from: None,
    source: "clinical.md §5.1 (scoring, bands), §5.2 (licence), §5.3 (LOINC), §11 (item 9)",
};

/// clinical.md §5.2: PHQ-9 and GAD-7.
pub(super) const PFIZER_LICENCE: &str = "Released by Pfizer (2010) for download without copyright restriction and at no charge; may be reproduced with the attribution kept.";
/// The attribution line printed on the PHQ and GAD-7 forms (clinical.md §5.2, [S101]).
pub(super) const PFIZER_ATTRIBUTION: &str = "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an educational grant from Pfizer Inc.";
