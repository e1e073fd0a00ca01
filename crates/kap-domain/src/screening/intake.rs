//! What a screening intake records: treatment trials, conditions from a checklist, current
//! medications by interaction class, and baseline vitals. An answer the intake has not yet got
//! is `None` — never read as "no".

use std::collections::BTreeMap;

crate::code::coded_enum! {
    /// Antidepressant classes, as staging methods count them (clinical.md §3.4).
    pub enum AntidepressantClass as "antidepressant class" {
        Ssri = "ssri" / "SSRI",
        Snri = "snri" / "SNRI",
        Tca = "tca" / "Tricyclic (TCA)",
        Maoi = "maoi" / "MAOI",
        Bupropion = "bupropion" / "Bupropion",
        Mirtazapine = "mirtazapine" / "Mirtazapine",
        Other = "other" / "Other antidepressant",
    }
}

crate::code::coded_enum! {
    /// What kind of treatment a trial was.
    pub enum TrialKind as "treatment kind" {
        Antidepressant = "antidepressant" / "Antidepressant",
        Augmentation = "augmentation" / "Augmentation (e.g. lithium, antipsychotic)",
        EctBilateral = "ect_bilateral" / "ECT (bilateral)",
        EctUnilateral = "ect_unilateral" / "ECT (unilateral)",
        Tms = "tms" / "TMS",
        Ketamine = "ketamine" / "Ketamine",
        Esketamine = "esketamine" / "Esketamine",
        Psychotherapy = "psychotherapy" / "Psychotherapy",
    }
}

crate::code::coded_enum! {
    /// How a trial ended.
    pub enum TrialOutcome as "trial outcome" {
        Remission = "remission" / "Remission",
        Response = "response" / "Response",
        PartialResponse = "partial" / "Partial response",
        NoResponse = "none" / "No response",
        NotTolerated = "not_tolerated" / "Stopped: not tolerated",
        Unknown = "unknown" / "Not known",
    }
}

/// One treatment a person had, as the intake records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreatmentTrial {
    pub kind: TrialKind,
    /// For antidepressants: the class (staging counts classes).
    pub class: Option<AntidepressantClass>,
    /// The drug or treatment as named (free text; a code may follow).
    pub name: String,
    pub weeks: Option<u16>,
    /// Whether dose and duration were adequate, as the clinician judged it with the clinic's
    /// rule; `None` until judged.
    pub adequate: Option<bool>,
    pub outcome: TrialOutcome,
    /// In the current depressive episode (TRD counts only these).
    pub current_episode: bool,
}

impl TreatmentTrial {
    /// An adequate trial that did not bring a response: what treatment resistance counts.
    pub fn failed_adequately(&self) -> bool {
        self.adequate == Some(true)
            && matches!(
                self.outcome,
                TrialOutcome::NoResponse | TrialOutcome::PartialResponse
            )
    }

    pub fn responded(&self) -> bool {
        matches!(
            self.outcome,
            TrialOutcome::Response | TrialOutcome::Remission
        )
    }
}

crate::code::coded_enum! {
    /// A condition on the intake checklist; each maps to rules (clinical.md §2.4, §3.1).
    pub enum Condition as "condition" {
        AneurysmOrAvm = "aneurysm_avm" / "Aneurysmal vascular disease or arteriovenous malformation",
        IntracerebralHaemorrhage = "intracerebral_haemorrhage" / "History of intracerebral haemorrhage",
        KetamineHypersensitivity = "ketamine_hypersensitivity" / "Hypersensitivity to ketamine or esketamine",
        HypertensionUncontrolled = "hypertension_uncontrolled" / "Uncontrolled or untreated hypertension",
        CardiovascularDisease = "cardiovascular_disease" / "Cardiovascular disease",
        HypertensiveEncephalopathy = "hypertensive_encephalopathy" / "History of hypertensive encephalopathy",
        RaisedIntracranialOrIntraocularPressure = "raised_icp_iop" / "Raised intracranial or intra-ocular pressure",
        Psychosis = "psychosis" / "Psychosis or schizophrenia (current or past)",
        BipolarOrMania = "bipolar_mania" / "Bipolar disorder or history of mania",
        SubstanceUseDisorder = "substance_use_disorder" / "Substance use disorder (including alcohol)",
        KetamineMisuse = "ketamine_misuse" / "Past misuse of ketamine",
        Pregnancy = "pregnancy" / "Pregnant or planning pregnancy",
        Breastfeeding = "breastfeeding" / "Breastfeeding",
        HepaticModerate = "hepatic_moderate" / "Moderate hepatic impairment",
        HepaticSevere = "hepatic_severe" / "Severe hepatic impairment",
        InterstitialCystitis = "interstitial_cystitis" / "Interstitial or ulcerative cystitis",
        KidneyDisease = "kidney_disease" / "Kidney disease",
        SleepApnoea = "sleep_apnoea" / "Sleep apnoea",
        CognitiveImpairment = "cognitive_impairment" / "Cognitive impairment",
    }
}

crate::code::coded_enum! {
    /// Medications by how they interact with ketamine (clinical.md §3.2).
    pub enum MedicationClass as "medication class" {
        Benzodiazepine = "benzodiazepine" / "Benzodiazepine",
        Lamotrigine = "lamotrigine" / "Lamotrigine",
        Maoi = "maoi" / "MAOI",
        Psychostimulant = "psychostimulant" / "Psychostimulant",
        Opioid = "opioid" / "Opioid",
        OtherCnsDepressant = "cns_depressant" / "Other CNS depressant (sedative hypnotic, alcohol)",
        CypModifier = "cyp2b6_3a4" / "CYP2B6 or CYP3A4 inducer or inhibitor",
        Ssri = "ssri" / "SSRI",
    }
}

/// A current medication.
#[derive(Debug, Clone, PartialEq)]
pub struct Medication {
    pub name: String,
    pub class: Option<MedicationClass>,
    /// For benzodiazepines: the daily dose as diazepam equivalents, in mg.
    pub diazepam_equivalent_mg: Option<f64>,
}

/// Baseline vitals taken at screening.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BaselineVitals {
    pub systolic: Option<u16>,
    pub diastolic: Option<u16>,
    pub heart_rate: Option<u16>,
    pub spo2: Option<u8>,
}

crate::code::coded_enum! {
    /// The current episode's severity at baseline, as the Maudsley Staging Method grades it
    /// (clinical.md §3.4); the clinician's judgement, not derived from a score.
    pub enum EpisodeSeverity as "episode severity" {
        Subsyndromal = "subsyndromal" / "Subsyndromal",
        Mild = "mild" / "Mild",
        Moderate = "moderate" / "Moderate",
        Severe = "severe" / "Severe without psychosis",
        SeverePsychotic = "severe_psychotic" / "Severe with psychosis",
    }
}

/// An ICD-10-CM code as written: a letter (not U), two characters, then optionally a dot and
/// up to four more (e.g. `F33.2`, `F32.A`, `I10`). Only its form is checked: the code set
/// itself is not shipped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IcdCode(String);

impl IcdCode {
    pub fn parse(s: &str) -> Result<IcdCode, String> {
        let t = s.trim().to_ascii_uppercase();
        let (head, tail) = match t.split_once('.') {
            Some((h, t)) => (h, Some(t)),
            None => (t.as_str(), None),
        };
        let h: Vec<char> = head.chars().collect();
        let head_ok = h.len() == 3
            && h[0].is_ascii_uppercase()
            && h[0] != 'U'
            && h[1].is_ascii_digit()
            && h[2].is_ascii_alphanumeric();
        let tail_ok = tail.is_none_or(|x| {
            (1..=4).contains(&x.len()) && x.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if head_ok && tail_ok {
            Ok(IcdCode(t))
        } else {
            Err(format!(
                "\"{}\" is not an ICD-10-CM code: write it like F33.2 (a letter, two characters, then a dot and up to four more).",
                s.trim()
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the code is a depressive episode with psychotic features (F32.3, F33.3).
    pub fn psychotic_features(&self) -> bool {
        matches!(self.0.as_str(), "F32.3" | "F33.3")
    }
}

impl std::fmt::Display for IcdCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The depression codes offered to pick from, with their titles: those clinical.md §6 confirms
/// from its sources ([S119], [S120]). Any other code may be typed with its description.
pub const DEPRESSION_CODES: [(&str, &str); 6] = [
    ("F32.0", "Major depressive disorder, single episode, mild"),
    (
        "F32.1",
        "Major depressive disorder, single episode, moderate",
    ),
    (
        "F32.2",
        "Major depressive disorder, single episode, severe without psychotic features",
    ),
    (
        "F32.3",
        "Major depressive disorder, single episode, severe with psychotic features",
    ),
    ("F32.8", "Other depressive episodes"),
    (
        "F33.2",
        "Major depressive disorder, recurrent severe without psychotic features",
    ),
];

/// A diagnosis on record: its code and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub code: IcdCode,
    pub description: String,
}

/// The psychiatric history beyond the checklist: diagnoses, hospitalisations, suicide
/// attempts, allergies and substance use. `None` is "not asked yet"; an empty text is "none".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PsychHistory {
    pub diagnoses: Vec<Diagnosis>,
    pub hospitalisations: Option<u16>,
    pub suicide_attempts: Option<u16>,
    pub last_attempt_year: Option<i32>,
    /// `Some("")`: no known allergies.
    pub allergies: Option<String>,
    /// `Some("")`: no substance use reported.
    pub substance_use: Option<String>,
}

/// The history form as typed.
#[derive(Debug, Clone, Default)]
pub struct HistoryForm {
    /// Code and description of each diagnosis row (empty rows are skipped).
    pub diagnoses: Vec<(String, String)>,
    pub hospitalisations: String,
    pub suicide_attempts: String,
    pub last_attempt_year: String,
    pub allergies: String,
    pub no_allergies: bool,
    pub substance_use: String,
    pub no_substance_use: bool,
}

/// The longest free text kept for allergies or substance use.
pub const HISTORY_TEXT_MAX: usize = 2000;

impl HistoryForm {
    /// Checks the form in `this_year`; each problem names its field (`dx_code_N` for row N).
    pub fn parse(&self, this_year: i32) -> Result<PsychHistory, crate::FieldErrors> {
        let mut e = crate::FieldErrors::new();
        let mut diagnoses = vec![];
        for (i, (code, description)) in self.diagnoses.iter().enumerate() {
            let (code, description) = (code.trim(), description.trim());
            if code.is_empty() && description.is_empty() {
                continue;
            }
            match IcdCode::parse(code) {
                Ok(c) => {
                    let known = DEPRESSION_CODES
                        .iter()
                        .find(|(k, _)| *k == c.as_str())
                        .map(|(_, t)| *t);
                    let description = match (description, known) {
                        ("", Some(t)) => t.to_owned(),
                        ("", None) => {
                            e.add(
                                format!("dx_description_{i}"),
                                format!("Describe the diagnosis {c} in words."),
                            );
                            continue;
                        }
                        (d, _) if d.chars().count() > 200 => {
                            e.add(
                                format!("dx_description_{i}"),
                                "Keep the description to 200 characters.",
                            );
                            continue;
                        }
                        (d, _) => d.to_owned(),
                    };
                    if diagnoses.iter().any(|d: &Diagnosis| d.code == c) {
                        e.add(format!("dx_code_{i}"), format!("{c} is listed twice."));
                        continue;
                    }
                    diagnoses.push(Diagnosis {
                        code: c,
                        description,
                    });
                }
                Err(m) => e.add(format!("dx_code_{i}"), m),
            }
        }
        let count = |e: &mut crate::FieldErrors, field: &str, v: &str, max: u16, what: &str| match v
            .trim()
        {
            "" => None,
            t => match t.parse::<u16>() {
                Ok(n) if n <= max => Some(n),
                _ => {
                    e.add(
                        field,
                        format!("Enter {what} as a whole number from 0 to {max}."),
                    );
                    None
                }
            },
        };
        let hospitalisations = count(
            &mut e,
            "hospitalisations",
            &self.hospitalisations,
            200,
            "the psychiatric hospitalisations",
        );
        let suicide_attempts = count(
            &mut e,
            "suicide_attempts",
            &self.suicide_attempts,
            100,
            "the suicide attempts",
        );
        let last_attempt_year = match self.last_attempt_year.trim() {
            "" => None,
            t => match t.parse::<i32>() {
                Ok(y) if (1900..=this_year).contains(&y) => Some(y),
                _ => {
                    e.add(
                        "last_attempt_year",
                        format!("Enter the year as four digits, from 1900 to {this_year}."),
                    );
                    None
                }
            },
        };
        let text = |e: &mut crate::FieldErrors, field: &str, v: &str, none: bool, what: &str| {
            let t = v.trim();
            if none && !t.is_empty() {
                e.add(
                    field,
                    format!("Either list {what} or tick “none”, not both."),
                );
                return None;
            }
            if t.chars().count() > HISTORY_TEXT_MAX {
                e.add(
                    field,
                    format!("Keep this to {HISTORY_TEXT_MAX} characters."),
                );
                return None;
            }
            if none {
                Some(String::new())
            } else {
                (!t.is_empty()).then(|| t.to_owned())
            }
        };
        let allergies = text(
            &mut e,
            "allergies",
            &self.allergies,
            self.no_allergies,
            "allergies",
        );
        let substance_use = text(
            &mut e,
            "substance_use",
            &self.substance_use,
            self.no_substance_use,
            "substance use",
        );
        if e.is_empty() {
            Ok(PsychHistory {
                diagnoses,
                hospitalisations,
                suicide_attempts,
                last_attempt_year,
                allergies,
                substance_use,
            })
        } else {
            Err(e)
        }
    }
}

/// Answers that contradict each other: each is a finding the clinician resolves before an
/// eligibility decision other than "deferred" or "not eligible".
pub fn contradictions(intake: &Intake) -> Vec<String> {
    let mut found = vec![];
    let h = &intake.history;
    if intake.answer(Condition::Psychosis) == Some(false) {
        for d in h.diagnoses.iter().filter(|d| d.code.psychotic_features()) {
            found.push(format!(
                "Diagnosis {} is an episode with psychotic features, but the checklist says no psychosis",
                d.code
            ));
        }
    }
    if h.suicide_attempts == Some(0) && h.last_attempt_year.is_some() {
        found.push(
            "No suicide attempts are recorded, but a year of the most recent attempt is".to_owned(),
        );
    }
    if intake.answer(Condition::SubstanceUseDisorder) == Some(true)
        && h.substance_use.as_deref() == Some("")
    {
        found.push(
            "The checklist records a substance use disorder, but the history says no substance use"
                .to_owned(),
        );
    }
    found
}

/// Everything the rules read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Intake {
    /// Each checklist condition: `Some(true)` yes, `Some(false)` no, absent: not answered.
    pub conditions: BTreeMap<Condition, bool>,
    /// `None` until the medication list has been taken (an empty list then means "none").
    pub medications: Option<Vec<Medication>>,
    pub vitals: BaselineVitals,
    pub trials: Vec<TreatmentTrial>,
    /// Months since the current episode began, when known.
    pub episode_months: Option<u16>,
    pub severity: Option<EpisodeSeverity>,
    pub history: PsychHistory,
}

impl Intake {
    /// The checklist answer for a condition: `None` when not answered.
    pub fn answer(&self, c: Condition) -> Option<bool> {
        self.conditions.get(&c).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icd_codes_are_checked_for_form_only() {
        for ok in ["F33.2", "f32.a", "I10", "F32.81", "Z91.5"] {
            assert!(IcdCode::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(IcdCode::parse(" f33.2 ").unwrap().as_str(), "F33.2");
        for bad in [
            "",
            "33.2",
            "F3",
            "U07.1",
            "F33.",
            "F33.12345",
            "F33-2",
            "FF3.2",
        ] {
            assert!(IcdCode::parse(bad).is_err(), "{bad}");
        }
    }

    fn form() -> HistoryForm {
        HistoryForm {
            diagnoses: vec![
                ("F33.2".into(), String::new()),
                (String::new(), String::new()),
            ],
            hospitalisations: "1".into(),
            suicide_attempts: "0".into(),
            no_allergies: true,
            substance_use: "Alcohol, 2 drinks a week".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_history_is_parsed_with_titles_for_known_codes() {
        let h = form().parse(2026).unwrap();
        assert_eq!(h.diagnoses.len(), 1);
        assert!(
            h.diagnoses[0]
                .description
                .starts_with("Major depressive disorder, recurrent")
        );
        assert_eq!(h.allergies.as_deref(), Some(""));
        assert_eq!(h.substance_use.as_deref(), Some("Alcohol, 2 drinks a week"));
        assert_eq!(h.last_attempt_year, None);
    }

    #[test]
    fn bad_history_input_is_named_field_by_field() {
        let mut f = form();
        f.diagnoses = vec![
            ("F99.9".into(), String::new()),
            ("33".into(), "x".into()),
            ("F33.2".into(), String::new()),
            ("F33.2".into(), String::new()),
        ];
        f.hospitalisations = "-1".into();
        f.last_attempt_year = "2031".into();
        f.allergies = "penicillin".into();
        let e = f.parse(2026).unwrap_err();
        assert_eq!(
            e.get("dx_description_0"),
            Some("Describe the diagnosis F99.9 in words.")
        );
        assert!(e.get("dx_code_1").is_some());
        assert_eq!(e.get("dx_code_3"), Some("F33.2 is listed twice."));
        assert!(e.get("hospitalisations").is_some());
        assert!(e.get("last_attempt_year").unwrap().contains("1900 to 2026"));
        assert!(e.get("allergies").unwrap().contains("not both"));
    }

    #[test]
    fn contradictory_answers_are_findings() {
        let mut i = Intake::default();
        assert!(contradictions(&i).is_empty());
        i.conditions.insert(Condition::Psychosis, false);
        i.conditions.insert(Condition::SubstanceUseDisorder, true);
        i.history = PsychHistory {
            diagnoses: vec![Diagnosis {
                code: IcdCode::parse("F33.3").unwrap(),
                description: "x".into(),
            }],
            suicide_attempts: Some(0),
            last_attempt_year: Some(2020),
            substance_use: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(contradictions(&i).len(), 3);
    }
}
