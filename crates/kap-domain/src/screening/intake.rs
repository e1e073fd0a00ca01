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
}

impl Intake {
    /// The checklist answer for a condition: `None` when not answered.
    pub fn answer(&self, c: Condition) -> Option<bool> {
        self.conditions.get(&c).copied()
    }
}
