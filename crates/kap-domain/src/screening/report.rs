//! The patient's own history (issue 9): parts of the intake a patient fills in through a
//! single-use link, in plain words, saved part by part as they go and sent when done. What a
//! patient reports is never the intake itself: a clinician reviews each part and confirms it
//! into the intake (health conditions and other history are copied where the intake has no
//! answer yet; medicines and treatments are read and entered by the clinician, who judges each
//! one's interaction class and adequacy).

use super::intake::{Condition, HistoryForm, PsychHistory};
use crate::FieldErrors;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

crate::code::coded_enum! {
    /// The parts a patient fills in.
    pub enum ReportPart as "history part" {
        Conditions = "conditions" / "Health conditions",
        Medicines = "medicines" / "Medicines you take",
        Treatments = "treatments" / "Treatments you have tried for depression",
        History = "history" / "Other history",
    }
}

crate::code::coded_enum! {
    /// A patient's answer to a health question.
    pub enum LayAnswer as "answer" {
        Yes = "yes" / "Yes",
        No = "no" / "No",
        NotSure = "not_sure" / "Not sure",
    }
}

/// One plain-words health question and the checklist conditions it answers.
#[derive(Debug, Clone, Copy)]
pub struct LayQuestion {
    pub id: &'static str,
    pub text: &'static str,
    /// One condition: a yes or no answers it. Several (a patient cannot grade them, e.g. liver
    /// disease as moderate or severe): only a no answers them; a yes leaves them to the
    /// clinician.
    pub conditions: &'static [Condition],
}

use Condition as C;

/// The health questions, covering every checklist condition once.
pub const LAY_QUESTIONS: [LayQuestion; 18] = [
    q(
        "aneurysm_avm",
        "An aneurysm (a bulging blood vessel) or a malformation of blood vessels (AVM), in the brain or elsewhere",
        &[C::AneurysmOrAvm],
    ),
    q(
        "brain_bleed",
        "Bleeding in the brain (a haemorrhagic stroke)",
        &[C::IntracerebralHaemorrhage],
    ),
    q(
        "ketamine_reaction",
        "An allergic or serious reaction to ketamine or esketamine (Spravato)",
        &[C::KetamineHypersensitivity],
    ),
    q(
        "high_bp",
        "High blood pressure that is not treated or not under control",
        &[C::HypertensionUncontrolled],
    ),
    q(
        "heart",
        "Heart disease: for example a heart attack, angina, heart failure or an irregular heartbeat",
        &[C::CardiovascularDisease],
    ),
    q(
        "bp_brain",
        "A brain problem caused by very high blood pressure (hypertensive encephalopathy)",
        &[C::HypertensiveEncephalopathy],
    ),
    q(
        "pressure",
        "Raised pressure inside the head or inside the eyes (for example glaucoma)",
        &[C::RaisedIntracranialOrIntraocularPressure],
    ),
    q(
        "psychosis",
        "Psychosis or schizophrenia, now or in the past (for example hearing voices that others do not hear)",
        &[C::Psychosis],
    ),
    q(
        "mania",
        "Bipolar disorder, or a time of mania (days of unusually high energy, little sleep and racing thoughts)",
        &[C::BipolarOrMania],
    ),
    q(
        "substances",
        "A problem with alcohol or drugs, now or in the past",
        &[C::SubstanceUseDisorder],
    ),
    q(
        "ketamine_misuse",
        "Using ketamine other than as prescribed, now or in the past",
        &[C::KetamineMisuse],
    ),
    q(
        "pregnancy",
        "Being pregnant, or planning to become pregnant",
        &[C::Pregnancy],
    ),
    q("breastfeeding", "Breastfeeding", &[C::Breastfeeding]),
    q(
        "liver",
        "Liver disease (for example cirrhosis or hepatitis)",
        &[C::HepaticModerate, C::HepaticSevere],
    ),
    q(
        "bladder",
        "Bladder inflammation or pain (interstitial or ulcerative cystitis)",
        &[C::InterstitialCystitis],
    ),
    q("kidney", "Kidney disease", &[C::KidneyDisease]),
    q(
        "sleep_apnoea",
        "Sleep apnoea (breathing that stops during sleep)",
        &[C::SleepApnoea],
    ),
    q(
        "memory",
        "Memory or thinking problems (for example dementia)",
        &[C::CognitiveImpairment],
    ),
];

const fn q(id: &'static str, text: &'static str, conditions: &'static [Condition]) -> LayQuestion {
    LayQuestion {
        id,
        text,
        conditions,
    }
}

crate::code::coded_enum! {
    /// How a treatment worked, in the patient's words.
    pub enum Helped as "how it helped" {
        ALot = "a_lot" / "It helped a lot",
        Somewhat = "somewhat" / "It helped somewhat",
        NotAtAll = "not_at_all" / "It did not help",
        SideEffects = "side_effects" / "I stopped because of side effects",
        NotSure = "not_sure" / "Not sure",
    }
}

/// A treatment as the patient remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedTreatment {
    pub name: String,
    /// "About how long", in the patient's words.
    pub how_long: String,
    pub helped: Helped,
}

/// The other history in the patient's words (counts as typed are checked like the staff form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReportedHistory {
    /// Diagnoses the patient was told, in their words (a clinician codes them).
    pub told: String,
    pub hospitalisations: Option<u16>,
    pub suicide_attempts: Option<u16>,
    pub last_attempt_year: Option<i32>,
    pub allergies: Option<String>,
    pub substance_use: Option<String>,
}

/// Everything a patient has saved so far; a part is `None` until saved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatientReport {
    pub conditions: Option<BTreeMap<String, LayAnswer>>,
    pub medicines: Option<Vec<String>>,
    pub treatments: Option<Vec<ReportedTreatment>>,
    pub history: Option<ReportedHistory>,
}

impl PatientReport {
    pub fn has(&self, part: ReportPart) -> bool {
        match part {
            ReportPart::Conditions => self.conditions.is_some(),
            ReportPart::Medicines => self.medicines.is_some(),
            ReportPart::Treatments => self.treatments.is_some(),
            ReportPart::History => self.history.is_some(),
        }
    }

    /// The patient's answer to one health question, if given.
    pub fn answer(&self, question: &str) -> Option<LayAnswer> {
        self.conditions.as_ref()?.get(question).copied()
    }
}

/// One part as the patient saved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartAnswers {
    Conditions(BTreeMap<String, LayAnswer>),
    Medicines(Vec<String>),
    Treatments(Vec<ReportedTreatment>),
    History(ReportedHistory),
}

impl PartAnswers {
    pub fn part(&self) -> ReportPart {
        match self {
            PartAnswers::Conditions(_) => ReportPart::Conditions,
            PartAnswers::Medicines(_) => ReportPart::Medicines,
            PartAnswers::Treatments(_) => ReportPart::Treatments,
            PartAnswers::History(_) => ReportPart::History,
        }
    }
}

impl PatientReport {
    /// Puts a saved part in place.
    pub fn set(&mut self, answers: PartAnswers) {
        match answers {
            PartAnswers::Conditions(x) => self.conditions = Some(x),
            PartAnswers::Medicines(x) => self.medicines = Some(x),
            PartAnswers::Treatments(x) => self.treatments = Some(x),
            PartAnswers::History(x) => self.history = Some(x),
        }
    }
}

/// When a part was saved, and whether (and by whom) a clinician confirmed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartStatus {
    pub part: ReportPart,
    pub saved_at: chrono::DateTime<chrono::Utc>,
    pub reviewed: Option<(Option<String>, chrono::DateTime<chrono::Utc>)>,
}

/// The history link of a screening: single-use (sent once the patient is done) and expiring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLink {
    pub id: uuid::Uuid,
    pub clinic_id: uuid::Uuid,
    pub patient_id: uuid::Uuid,
    pub screening_id: uuid::Uuid,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// When the patient sent their answers.
    pub used_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl HistoryLink {
    /// The page a patient opening this link at `at` sees.
    pub fn page(&self, at: chrono::DateTime<chrono::Utc>) -> crate::measure::LinkPage {
        crate::measure::LinkPage::of(self.used_at, self.expires_at, at)
    }
}

/// The most rows of medicines or treatments a patient may list.
pub const MAX_ROWS: usize = 20;
/// The longest text in a row.
pub const ROW_TEXT_MAX: usize = 200;

/// Reads the health questions' answers (`q_<id>` = yes / no / not_sure). Every question must be
/// answered ("not sure" is an answer).
pub fn parse_conditions(
    fields: &[(String, String)],
) -> Result<BTreeMap<String, LayAnswer>, FieldErrors> {
    let mut e = FieldErrors::new();
    let mut out = BTreeMap::new();
    for q in &LAY_QUESTIONS {
        let key = format!("q_{}", q.id);
        let v = fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str());
        match v.and_then(LayAnswer::from_code) {
            Some(a) => {
                out.insert(q.id.to_owned(), a);
            }
            None => e.add(key, "Please answer yes, no or not sure."),
        }
    }
    if e.is_empty() { Ok(out) } else { Err(e) }
}

fn row_text(e: &mut FieldErrors, field: String, v: &str) -> Option<String> {
    let t = v.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > ROW_TEXT_MAX {
        e.add(
            field,
            format!("Please keep this to {ROW_TEXT_MAX} characters."),
        );
        return None;
    }
    Some(t)
}

/// Reads the medicine rows (`med_N`); `none` ticked means "I take no medicines".
pub fn parse_medicines(rows: &[String], none: bool) -> Result<Vec<String>, FieldErrors> {
    let mut e = FieldErrors::new();
    let mut out = vec![];
    for (i, r) in rows.iter().enumerate().take(MAX_ROWS) {
        if let Some(t) = row_text(&mut e, format!("med_{i}"), r)
            && !t.is_empty()
        {
            out.push(t);
        }
    }
    if none && !out.is_empty() {
        e.add(
            "no_medicines",
            "Either list your medicines or tick “I take no medicines”, not both.",
        );
    }
    if !none && out.is_empty() && e.is_empty() {
        e.add(
            "no_medicines",
            "List your medicines, or tick “I take no medicines”.",
        );
    }
    if e.is_empty() { Ok(out) } else { Err(e) }
}

/// Reads the treatment rows (`tx_name_N`, `tx_long_N`, `tx_helped_N`); `none` ticked means
/// "I have not had treatment for depression".
pub fn parse_treatments(
    rows: &[(String, String, String)],
    none: bool,
) -> Result<Vec<ReportedTreatment>, FieldErrors> {
    let mut e = FieldErrors::new();
    let mut out = vec![];
    for (i, (name, long, helped)) in rows.iter().enumerate().take(MAX_ROWS) {
        let name = row_text(&mut e, format!("tx_name_{i}"), name).unwrap_or_default();
        let how_long = row_text(&mut e, format!("tx_long_{i}"), long).unwrap_or_default();
        if name.is_empty() {
            if !how_long.is_empty() || !helped.trim().is_empty() {
                e.add(format!("tx_name_{i}"), "Please name the treatment.");
            }
            continue;
        }
        match Helped::from_code(helped) {
            Some(helped) => out.push(ReportedTreatment {
                name,
                how_long,
                helped,
            }),
            None => e.add(format!("tx_helped_{i}"), "Please choose how it worked."),
        }
    }
    if none && !out.is_empty() {
        e.add(
            "no_treatments",
            "Either list treatments or tick that you have had none, not both.",
        );
    }
    if !none && out.is_empty() && e.is_empty() {
        e.add(
            "no_treatments",
            "List the treatments you have tried, or tick that you have had none.",
        );
    }
    if e.is_empty() { Ok(out) } else { Err(e) }
}

/// Reads the other history with the staff form's checks (in `this_year`); diagnoses come as the
/// patient's words.
pub fn parse_history(
    told: &str,
    form: &HistoryForm,
    this_year: i32,
) -> Result<ReportedHistory, FieldErrors> {
    let mut e = FieldErrors::new();
    let told = told.trim();
    if told.chars().count() > super::intake::HISTORY_TEXT_MAX {
        e.add("told", "Please keep this shorter.");
    }
    let parsed = HistoryForm {
        diagnoses: vec![],
        ..form.clone()
    }
    .parse(this_year);
    match parsed {
        Ok(h) if e.is_empty() => Ok(ReportedHistory {
            told: told.to_owned(),
            hospitalisations: h.hospitalisations,
            suicide_attempts: h.suicide_attempts,
            last_attempt_year: h.last_attempt_year,
            allergies: h.allergies,
            substance_use: h.substance_use,
        }),
        Ok(_) => Err(e),
        Err(more) => {
            for x in more.iter() {
                e.add(x.field.clone(), x.message.clone());
            }
            Err(e)
        }
    }
}

/// The checklist answers the patient's health answers give, for conditions the intake has not
/// answered yet: a yes or no for a question about one condition; only a no for a question about
/// several (the clinician grades a yes); nothing for "not sure".
pub fn confirmed_conditions(
    reported: &BTreeMap<String, LayAnswer>,
    answered: &BTreeMap<Condition, bool>,
) -> BTreeMap<Condition, bool> {
    let mut out = BTreeMap::new();
    for q in &LAY_QUESTIONS {
        let value = match (reported.get(q.id), q.conditions.len()) {
            (Some(LayAnswer::Yes), 1) => true,
            (Some(LayAnswer::No), _) => false,
            _ => continue,
        };
        for c in q.conditions {
            if !answered.contains_key(c) {
                out.insert(*c, value);
            }
        }
    }
    out
}

/// The history the patient's other history gives, keeping every answer the intake already has.
pub fn confirmed_history(reported: &ReportedHistory, current: &PsychHistory) -> PsychHistory {
    PsychHistory {
        diagnoses: current.diagnoses.clone(),
        hospitalisations: current.hospitalisations.or(reported.hospitalisations),
        suicide_attempts: current.suicide_attempts.or(reported.suicide_attempts),
        last_attempt_year: current.last_attempt_year.or(reported.last_attempt_year),
        allergies: current.allergies.clone().or(reported.allergies.clone()),
        substance_use: current
            .substance_use
            .clone()
            .or(reported.substance_use.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_condition_is_asked_exactly_once() {
        for c in Condition::ALL {
            let n = LAY_QUESTIONS
                .iter()
                .filter(|q| q.conditions.contains(&c))
                .count();
            assert_eq!(n, 1, "{c:?}");
        }
    }

    fn all(a: &str) -> Vec<(String, String)> {
        LAY_QUESTIONS
            .iter()
            .map(|q| (format!("q_{}", q.id), a.to_owned()))
            .collect()
    }

    #[test]
    fn every_health_question_needs_an_answer() {
        let mut f = all("no");
        f.pop();
        let e = parse_conditions(&f).unwrap_err();
        assert_eq!(e.iter().count(), 1);
        assert!(parse_conditions(&all("not_sure")).is_ok());
    }

    #[test]
    fn a_patients_yes_for_liver_disease_is_left_to_the_clinician() {
        let mut reported = parse_conditions(&all("no")).unwrap();
        reported.insert("liver".into(), LayAnswer::Yes);
        reported.insert("heart".into(), LayAnswer::Yes);
        reported.insert("kidney".into(), LayAnswer::NotSure);
        let mut answered = BTreeMap::new();
        answered.insert(Condition::SleepApnoea, true);
        let c = confirmed_conditions(&reported, &answered);
        assert_eq!(c.get(&Condition::CardiovascularDisease), Some(&true));
        assert_eq!(c.get(&Condition::HepaticModerate), None);
        assert_eq!(c.get(&Condition::HepaticSevere), None);
        assert_eq!(c.get(&Condition::KidneyDisease), None);
        // The clinician's own answer is never overwritten.
        assert_eq!(c.get(&Condition::SleepApnoea), None);
        assert_eq!(c.get(&Condition::Psychosis), Some(&false));
    }

    #[test]
    fn lists_need_rows_or_none_but_not_both() {
        assert!(parse_medicines(&["".into()], false).is_err());
        assert_eq!(
            parse_medicines(&[" ".into()], true).unwrap(),
            Vec::<String>::new()
        );
        assert!(parse_medicines(&["Sertraline 100 mg".into()], true).is_err());
        assert_eq!(
            parse_medicines(&["  Sertraline   100 mg ".into(), "".into()], false).unwrap(),
            vec!["Sertraline 100 mg".to_owned()]
        );
        let e = parse_treatments(&[("".into(), "8 weeks".into(), "".into())], false).unwrap_err();
        assert!(e.get("tx_name_0").is_some());
        let e = parse_treatments(&[("Prozac".into(), "".into(), "".into())], false).unwrap_err();
        assert!(e.get("tx_helped_0").is_some());
        let t = parse_treatments(
            &[("Prozac".into(), "a year".into(), "not_at_all".into())],
            false,
        )
        .unwrap();
        assert_eq!(t[0].helped, Helped::NotAtAll);
    }

    #[test]
    fn the_clinicians_history_answers_are_kept() {
        let reported = ReportedHistory {
            hospitalisations: Some(2),
            allergies: Some("penicillin".into()),
            ..Default::default()
        };
        let current = PsychHistory {
            hospitalisations: Some(1),
            ..Default::default()
        };
        let h = confirmed_history(&reported, &current);
        assert_eq!(h.hospitalisations, Some(1));
        assert_eq!(h.allergies.as_deref(), Some("penicillin"));
    }

    proptest! {
        /// Confirming never changes a condition the intake already answered, and never turns a
        /// "not sure" into an answer.
        #[test]
        fn confirming_only_fills_gaps(
            answers in proptest::collection::vec(0usize..3, LAY_QUESTIONS.len()),
            answered in proptest::collection::btree_map(0usize..19, any::<bool>(), 0..19),
        ) {
            let reported: BTreeMap<String, LayAnswer> = LAY_QUESTIONS
                .iter()
                .zip(&answers)
                .map(|(q, a)| (q.id.to_owned(), LayAnswer::ALL[*a]))
                .collect();
            let answered: BTreeMap<Condition, bool> =
                answered.into_iter().map(|(i, v)| (Condition::ALL[i], v)).collect();
            let c = confirmed_conditions(&reported, &answered);
            for cond in c.keys() {
                prop_assert!(!answered.contains_key(cond));
                let q = LAY_QUESTIONS.iter().find(|q| q.conditions.contains(cond)).unwrap();
                prop_assert_ne!(reported[q.id], LayAnswer::NotSure);
            }
        }
    }
}
