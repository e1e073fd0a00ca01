//! QIDS-SR16, the 16-item Quick Inventory of Depressive Symptomatology, self-report.
//!
//! Scoring facts: clinical.md §5.1 — 16 items scored 0–3, 7-day recall, 9 domains, total 0–27 =
//! max(items 1–4 sleep) + item 5 + max(items 6–9 appetite/weight) + items 10–14 + max(items 15–16
//! psychomotor); bands 0–5 none, 6–10 mild, 11–15 moderate, 16–20 severe, 21–27 very severe; the
//! respondent completes either 6 or 7 and either 8 or 9 (so a group is complete with one item).
//! No LOINC code is recorded (clinical.md §5.3). Licence: clinical.md §5.2.
//!
//! Item headings and answer wording: the QIDS-SR16 form (Rush et al. 2003, distributed through
//! <http://www.ids-qids.org>). The form itself could not be opened; the wording is the one most
//! widely reproduced in public implementations, compared across several independent copies (e.g.
//! the jsPsych "survey-qids" plugin and Flask/Angular/Pony re-keyings found in the code corpus);
//! item 12 also matches the NIH/IOM reproduction at
//! <http://www.ncbi.nlm.nih.gov/books/NBK52954/box/ch4.box1/>. Copies disagree on small
//! punctuation points, which remain UNCONFIRMED against the original form: item 8/9 option 1 "I've"
//! vs "I have", item 12 option 3 comma after "detail", item 14 option 2 comma after "cooking". The
//! stem is the on-screen wording used by those copies ("choose" for the paper form's "circle").

use super::{AnswerOption, asked, opt};
use crate::instruments::{Administration, Band, Instrument, Scoring};

pub static QIDS_SR16: Instrument = Instrument {
    code: "qids_sr16",
    name: "QIDS-SR16",
    title: "Quick Inventory of Depressive Symptomatology (Self-Report, 16 items)",
    administration: Administration::SelfReport,
    // clinical.md §5.1 "7-day recall".
    recall: Some("During the past seven days"),
    preamble: Some(
        "Please choose the one response to each item that best describes you for the past seven days.",
    ),
    items: &[
        asked(
            "1",
            "Falling Asleep",
            "Falling asleep",
            FALLING_ASLEEP,
            None,
        ),
        asked(
            "2",
            "Sleep During the Night",
            "Sleep during the night",
            NIGHT,
            None,
        ),
        asked("3", "Waking Up Too Early", "Waking too early", EARLY, None),
        asked(
            "4",
            "Sleeping Too Much",
            "Sleeping too much",
            TOO_MUCH,
            None,
        ),
        asked("5", "Feeling Sad", "Sad mood", SAD, None),
        asked(
            "6",
            "Decreased Appetite",
            "Decreased appetite",
            LESS_APPETITE,
            None,
        ),
        asked(
            "7",
            "Increased Appetite",
            "Increased appetite",
            MORE_APPETITE,
            None,
        ),
        asked(
            "8",
            "Decreased Weight (Within the Last Two Weeks)",
            "Decreased weight",
            WEIGHT_LOSS,
            None,
        ),
        asked(
            "9",
            "Increased Weight (Within the Last Two Weeks)",
            "Increased weight",
            WEIGHT_GAIN,
            None,
        ),
        asked(
            "10",
            "Concentration/Decision Making",
            "Concentration",
            CONCENTRATION,
            None,
        ),
        asked("11", "View of Myself", "View of myself", VIEW_OF_SELF, None),
        asked(
            "12",
            "Thoughts of Death or Suicide",
            "Thoughts of death or suicide",
            DEATH_OR_SUICIDE,
            None,
        ),
        asked("13", "General Interest", "General interest", INTEREST, None),
        asked("14", "Energy Level", "Energy level", ENERGY, None),
        asked(
            "15",
            "Feeling slowed down",
            "Feeling slowed down",
            SLOWED,
            None,
        ),
        asked("16", "Feeling restless", "Feeling restless", RESTLESS, None),
    ],
    // clinical.md §5.1: the nine domains.
    scoring: Scoring::SumOfGroupMax(&[
        &["1", "2", "3", "4"],
        &["5"],
        &["6", "7", "8", "9"],
        &["10"],
        &["11"],
        &["12"],
        &["13"],
        &["14"],
        &["15", "16"],
    ]),
    // clinical.md §5.1: "0-5 none, 6-10 mild, 11-15 moderate, 16-20 severe, 21-27 very severe".
    bands: &[
        Band {
            min: 0,
            max: 5,
            label: "None",
        },
        Band {
            min: 6,
            max: 10,
            label: "Mild",
        },
        Band {
            min: 11,
            max: 15,
            label: "Moderate",
        },
        Band {
            min: 16,
            max: 20,
            label: "Severe",
        },
        Band {
            min: 21,
            max: 27,
            label: "Very severe",
        },
    ],
    max_total: 27,
    loinc_panel: None,
    loinc_total: None,
    // clinical.md §5.2: "Freely available" (Brain-CODE), distributed via ids-qids.org; exact
    // licence wording UNCONFIRMED.
    licence: "Freely available (Brain-CODE); distributed via ids-qids.org. Exact licence wording UNCONFIRMED.",
    attribution: "Rush AJ, Trivedi MH, Ibrahim HM, et al. The 16-item Quick Inventory of Depressive Symptomatology (QIDS), clinician rating (QIDS-C), and self-report (QIDS-SR). Biological Psychiatry 2003. www.ids-qids.org",
    screen_positive_from: None,
    source: "clinical.md §5.1 (scoring, groups, bands), §5.2 (licence), §5.3 (no LOINC)",
};

const FALLING_ASLEEP: &[AnswerOption] = &[
    opt(0, "I never take longer than 30 minutes to fall asleep."),
    opt(
        1,
        "I take at least 30 minutes to fall asleep, less than half the time.",
    ),
    opt(
        2,
        "I take at least 30 minutes to fall asleep, more than half the time.",
    ),
    opt(
        3,
        "I take more than 60 minutes to fall asleep, more than half the time.",
    ),
];

const NIGHT: &[AnswerOption] = &[
    opt(0, "I do not wake up at night."),
    opt(
        1,
        "I have a restless, light sleep with a few brief awakenings each night.",
    ),
    opt(
        2,
        "I wake up at least once a night, but I go back to sleep easily.",
    ),
    opt(
        3,
        "I awaken more than once a night and stay awake for 20 minutes or more, more than half the time.",
    ),
];

const EARLY: &[AnswerOption] = &[
    opt(
        0,
        "Most of the time, I awaken no more than 30 minutes before I need to get up.",
    ),
    opt(
        1,
        "More than half the time, I awaken more than 30 minutes before I need to get up.",
    ),
    opt(
        2,
        "I almost always awaken at least one hour or so before I need to, but I go back to sleep eventually.",
    ),
    opt(
        3,
        "I awaken at least one hour before I need to, and can't go back to sleep.",
    ),
];

const TOO_MUCH: &[AnswerOption] = &[
    opt(
        0,
        "I sleep no longer than 7-8 hours/night, without napping during the day.",
    ),
    opt(
        1,
        "I sleep no longer than 10 hours in a 24-hour period including naps.",
    ),
    opt(
        2,
        "I sleep no longer than 12 hours in a 24-hour period including naps.",
    ),
    opt(
        3,
        "I sleep longer than 12 hours in a 24-hour period including naps.",
    ),
];

const SAD: &[AnswerOption] = &[
    opt(0, "I do not feel sad."),
    opt(1, "I feel sad less than half the time."),
    opt(2, "I feel sad more than half the time."),
    opt(3, "I feel sad nearly all of the time."),
];

const LESS_APPETITE: &[AnswerOption] = &[
    opt(0, "There is no change in my usual appetite."),
    opt(
        1,
        "I eat somewhat less often or lesser amounts of food than usual.",
    ),
    opt(
        2,
        "I eat much less than usual and only with personal effort.",
    ),
    opt(
        3,
        "I rarely eat within a 24-hour period, and only with extreme personal effort or when others persuade me to eat.",
    ),
];

const MORE_APPETITE: &[AnswerOption] = &[
    opt(0, "There is no change from my usual appetite."),
    opt(1, "I feel a need to eat more frequently than usual."),
    opt(
        2,
        "I regularly eat more often and/or greater amounts of food than usual.",
    ),
    opt(
        3,
        "I feel driven to overeat both at mealtime and between meals.",
    ),
];

const WEIGHT_LOSS: &[AnswerOption] = &[
    opt(0, "I have not had a change in my weight."),
    opt(1, "I feel as if I've had a slight weight loss."),
    opt(2, "I have lost 2 pounds or more."),
    opt(3, "I have lost 5 pounds or more."),
];

const WEIGHT_GAIN: &[AnswerOption] = &[
    opt(0, "I have not had a change in my weight."),
    opt(1, "I feel as if I've had a slight weight gain."),
    opt(2, "I have gained 2 pounds or more."),
    opt(3, "I have gained 5 pounds or more."),
];

const CONCENTRATION: &[AnswerOption] = &[
    opt(
        0,
        "There is no change in my usual capacity to concentrate or make decisions.",
    ),
    opt(
        1,
        "I occasionally feel indecisive or find that my attention wanders.",
    ),
    opt(
        2,
        "Most of the time, I struggle to focus my attention or to make decisions.",
    ),
    opt(
        3,
        "I cannot concentrate well enough to read or cannot make even minor decisions.",
    ),
];

const VIEW_OF_SELF: &[AnswerOption] = &[
    opt(
        0,
        "I see myself as equally worthwhile and deserving as other people.",
    ),
    opt(1, "I am more self-blaming than usual."),
    opt(2, "I largely believe that I cause problems for others."),
    opt(
        3,
        "I think almost constantly about major and minor defects in myself.",
    ),
];

const DEATH_OR_SUICIDE: &[AnswerOption] = &[
    opt(0, "I do not think of suicide or death."),
    opt(
        1,
        "I feel that life is empty or wonder if it's worth living.",
    ),
    opt(
        2,
        "I think of suicide or death several times a week for several minutes.",
    ),
    opt(
        3,
        "I think of suicide or death several times a day in some detail, or I have made specific plans for suicide or have actually tried to take my life.",
    ),
];

const INTEREST: &[AnswerOption] = &[
    opt(
        0,
        "There is no change from usual in how interested I am in other people or activities.",
    ),
    opt(
        1,
        "I notice that I am less interested in people or activities.",
    ),
    opt(
        2,
        "I find I have interest in only one or two of my formerly pursued activities.",
    ),
    opt(
        3,
        "I have virtually no interest in formerly pursued activities.",
    ),
];

const ENERGY: &[AnswerOption] = &[
    opt(0, "There is no change in my usual level of energy."),
    opt(1, "I get tired more easily than usual."),
    opt(
        2,
        "I have to make a big effort to start or finish my usual daily activities (for example, shopping, homework, cooking or going to work).",
    ),
    opt(
        3,
        "I really cannot carry out most of my usual daily activities because I just don't have the energy.",
    ),
];

const SLOWED: &[AnswerOption] = &[
    opt(0, "I think, speak, and move at my usual rate of speed."),
    opt(
        1,
        "I find that my thinking is slowed down or my voice sounds dull or flat.",
    ),
    opt(
        2,
        "It takes me several seconds to respond to most questions and I'm sure my thinking is slowed.",
    ),
    opt(
        3,
        "I am often unable to respond to questions without extreme effort.",
    ),
];

const RESTLESS: &[AnswerOption] = &[
    opt(0, "I do not feel restless."),
    opt(
        1,
        "I'm often fidgety, wringing my hands, or need to shift how I am sitting.",
    ),
    opt(2, "I have impulses to move about and am quite restless."),
    opt(
        3,
        "At times, I am unable to stay seated and need to pace around.",
    ),
];
