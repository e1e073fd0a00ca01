//! Contraindication rules as data, and the engine that applies them to an intake. A rule names
//! what it looks at, its level — absolute (blocks), relative (needs a prescriber's written
//! justification), caution (shown) — the routes it applies to, and its source. The defaults
//! here cite `../shared/reference/clinical.md`; a clinic keeps its own copy in its protocol
//! settings. The engine answers with findings and their reasons, and never passes over an
//! unanswered question a rule needs: missing data is a finding of its own.

use super::Route;
use super::intake::{Condition, Intake, MedicationClass};
use serde::{Deserialize, Serialize};

crate::code::coded_enum! {
    /// How much a finding weighs.
    pub enum Level as "finding level" {
        Absolute = "absolute" / "Absolute contraindication",
        Relative = "relative" / "Relative contraindication",
        Caution = "caution" / "Caution",
    }
}

/// What a rule looks at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum When {
    /// The checklist says yes to this condition.
    Has { condition: Condition },
    /// A current medication is of this class.
    Takes { class: MedicationClass },
    /// Benzodiazepines above this daily diazepam-equivalent dose.
    BenzodiazepineAbove { diazepam_equivalent_mg: f64 },
    /// Baseline blood pressure above either number.
    BloodPressureAbove { systolic: u16, diastolic: u16 },
}

/// One rule of a clinic's screening protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable name, e.g. `aneurysm_avm`; a prescriber's justification names it.
    pub id: String,
    pub when: When,
    pub level: Level,
    /// The routes it applies to; empty: every route.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Why, in words a prescriber reads beside the finding.
    pub reason: String,
    /// Where it comes from.
    pub source: String,
}

impl Rule {
    fn applies_to(&self, routes: &[Route]) -> bool {
        self.routes.is_empty() || self.routes.iter().any(|r| routes.contains(r))
    }
}

/// What the engine found.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// A rule matched.
    Rule {
        rule_id: String,
        level: Level,
        reason: String,
        source: String,
        /// The routes considered that it concerns (all of them when the rule names none).
        routes: Vec<Route>,
    },
    /// A question a rule needs has no answer yet.
    Missing { what: String },
    /// Answers that contradict each other; resolved by correcting the intake.
    Conflict { what: String },
}

impl Finding {
    pub fn level(&self) -> Option<Level> {
        match self {
            Finding::Rule { level, .. } => Some(*level),
            Finding::Missing { .. } | Finding::Conflict { .. } => None,
        }
    }
}

/// Applies the rules to an intake for the routes under consideration. Unanswered questions
/// come back as `Missing` findings (each once), never as a pass.
pub fn evaluate(intake: &Intake, rules: &[Rule], routes: &[Route]) -> Vec<Finding> {
    let mut found = vec![];
    let mut missing: Vec<String> = vec![];
    let mut lacks = |what: String| {
        if !missing.contains(&what) {
            missing.push(what);
        }
    };
    for rule in rules.iter().filter(|r| r.applies_to(routes)) {
        let matched = match &rule.when {
            When::Has { condition } => match intake.answer(*condition) {
                Some(yes) => yes,
                None => {
                    lacks(format!("Checklist: {}", condition.label()));
                    false
                }
            },
            When::Takes { class } => match &intake.medications {
                Some(meds) => meds.iter().any(|m| m.class == Some(*class)),
                None => {
                    lacks("Current medications".to_owned());
                    false
                }
            },
            When::BenzodiazepineAbove {
                diazepam_equivalent_mg,
            } => match &intake.medications {
                Some(meds) => {
                    let mut over = false;
                    for m in meds
                        .iter()
                        .filter(|m| m.class == Some(MedicationClass::Benzodiazepine))
                    {
                        match m.diazepam_equivalent_mg {
                            Some(mg) => over |= mg > *diazepam_equivalent_mg,
                            None => lacks(format!("Diazepam-equivalent daily dose of {}", m.name)),
                        }
                    }
                    over
                }
                None => {
                    lacks("Current medications".to_owned());
                    false
                }
            },
            When::BloodPressureAbove {
                systolic,
                diastolic,
            } => match (intake.vitals.systolic, intake.vitals.diastolic) {
                (Some(s), Some(d)) => s > *systolic || d > *diastolic,
                _ => {
                    lacks("Baseline blood pressure".to_owned());
                    false
                }
            },
        };
        if matched {
            let concerned = if rule.routes.is_empty() {
                routes.to_vec()
            } else {
                routes
                    .iter()
                    .copied()
                    .filter(|r| rule.routes.contains(r))
                    .collect()
            };
            found.push(Finding::Rule {
                rule_id: rule.id.clone(),
                level: rule.level,
                reason: rule.reason.clone(),
                source: rule.source.clone(),
                routes: concerned,
            });
        }
    }
    found.extend(missing.into_iter().map(|what| Finding::Missing { what }));
    found.extend(
        super::intake::contradictions(intake)
            .into_iter()
            .map(|what| Finding::Conflict { what }),
    );
    found
}

fn rule(id: &str, when: When, level: Level, routes: &[Route], reason: &str, source: &str) -> Rule {
    Rule {
        id: id.to_owned(),
        when,
        level,
        routes: routes.to_vec(),
        reason: reason.to_owned(),
        source: source.to_owned(),
    }
}

fn has(c: Condition) -> When {
    When::Has { condition: c }
}

fn takes(c: MedicationClass) -> When {
    When::Takes { class: c }
}

/// The shipped defaults, each citing the reference. Thresholds marked UNCONFIRMED there are the
/// clinic's to set (they live in this data, not in code).
pub fn default_rules() -> Vec<Rule> {
    use Condition as C;
    use Level::{Absolute, Caution, Relative};
    use MedicationClass as M;
    let esk = [Route::EsketamineNasal];
    vec![
        rule(
            "ketamine_hypersensitivity",
            has(C::KetamineHypersensitivity),
            Absolute,
            &[],
            "Hypersensitivity to ketamine, esketamine or an excipient.",
            "clinical.md §2.4 (esketamine label [S47]), §3.1 (ketamine labelling [S57])",
        ),
        rule(
            "aneurysm_avm",
            has(C::AneurysmOrAvm),
            Absolute,
            &[],
            "A rise in blood pressure would be hazardous: aneurysmal vascular disease or AVM.",
            "clinical.md §2.4 (esketamine label [S47]), §3.1 (ketamine labelling [S57])",
        ),
        rule(
            "intracerebral_haemorrhage",
            has(C::IntracerebralHaemorrhage),
            Absolute,
            &[],
            "History of intracerebral haemorrhage: a rise in blood pressure would be hazardous.",
            "clinical.md §2.4 (esketamine label [S47]), §3.1 (ketamine labelling [S57])",
        ),
        rule(
            "hypertension_uncontrolled",
            has(C::HypertensionUncontrolled),
            Relative,
            &[],
            "Uncontrolled or untreated hypertension: ketamine raises blood pressure.",
            "clinical.md §3.1 (KAP training [S58], secondary references [S59])",
        ),
        rule(
            "cardiovascular_disease",
            has(C::CardiovascularDisease),
            Relative,
            &[],
            "Cardiovascular disease: listed as a contraindication in KAP training, a precaution in ketamine protocols.",
            "clinical.md §3.1 ([S58], [S57])",
        ),
        rule(
            "hypertensive_encephalopathy",
            has(C::HypertensiveEncephalopathy),
            Relative,
            &[],
            "History of hypertensive encephalopathy (esketamine warning).",
            "clinical.md §2.4 ([S38])",
        ),
        rule(
            "raised_icp_iop",
            has(C::RaisedIntracranialOrIntraocularPressure),
            Relative,
            &[],
            "Raised intracranial or intra-ocular pressure.",
            "clinical.md §3.1 ([S57] precaution, [S59] contraindication)",
        ),
        rule(
            "psychosis",
            has(C::Psychosis),
            Relative,
            &[],
            "Psychosis or schizophrenia: assess benefit against risk before any use.",
            "clinical.md §3.1 ([S60], [S57], [S58]; esketamine [S44])",
        ),
        rule(
            "ketamine_misuse",
            has(C::KetamineMisuse),
            Relative,
            &[],
            "Past misuse of ketamine: abuse and misuse are a boxed warning.",
            "clinical.md §2.4 ([S38], [S44]), §3.1 ([S39])",
        ),
        rule(
            "pregnancy",
            has(C::Pregnancy),
            Relative,
            &[],
            "Pregnancy: esketamine is not recommended and may cause fetal harm.",
            "clinical.md §2.4, §3.1 ([S38], [S45])",
        ),
        rule(
            "breastfeeding",
            has(C::Breastfeeding),
            Relative,
            &esk,
            "Breastfeeding: the esketamine label says not to breastfeed.",
            "clinical.md §2.4 ([S38], [S45])",
        ),
        rule(
            "hepatic_severe",
            has(C::HepaticSevere),
            Relative,
            &[],
            "Severe hepatic impairment: esketamine not recommended; racemic ketamine hepatotoxicity with repeated use.",
            "clinical.md §3.1 ([S38], [S59])",
        ),
        rule(
            "kidney_disease",
            has(C::KidneyDisease),
            Relative,
            &[],
            "Kidney disease (listed as a contraindication in KAP training).",
            "clinical.md §3.1 ([S58])",
        ),
        rule(
            "bipolar_mania",
            has(C::BipolarOrMania),
            Caution,
            &[],
            "Bipolar disorder or past mania: with caution.",
            "clinical.md §3.1 ([S58])",
        ),
        rule(
            "substance_use_disorder",
            has(C::SubstanceUseDisorder),
            Caution,
            &[],
            "Substance use disorder: assess the risk of abuse.",
            "clinical.md §3.1 ([S39], [S44])",
        ),
        rule(
            "hepatic_moderate",
            has(C::HepaticModerate),
            Caution,
            &[],
            "Moderate hepatic impairment: monitor longer after esketamine.",
            "clinical.md §3.1 ([S38])",
        ),
        rule(
            "interstitial_cystitis",
            has(C::InterstitialCystitis),
            Caution,
            &[],
            "Interstitial or ulcerative cystitis: monitor urinary symptoms.",
            "clinical.md §2.4, §3.1 ([S38], [S59])",
        ),
        rule(
            "sleep_apnoea",
            has(C::SleepApnoea),
            Caution,
            &[],
            "Sleep apnoea: screening required by one draft standard.",
            "clinical.md §3.1 ([S23])",
        ),
        rule(
            "cognitive_impairment",
            has(C::CognitiveImpairment),
            Caution,
            &esk,
            "Cognitive impairment (esketamine warning).",
            "clinical.md §2.4 ([S38])",
        ),
        rule(
            "benzodiazepine_dose",
            When::BenzodiazepineAbove {
                diazepam_equivalent_mg: 8.0,
            },
            Caution,
            &[],
            "Benzodiazepines above 8 mg diazepam-equivalent a day may blunt the antidepressant response (small studies; threshold the clinic's to set).",
            "clinical.md §3.2 (Andrashko 2020 [S61]; Feeney 2023 [S62])",
        ),
        rule(
            "lamotrigine",
            takes(M::Lamotrigine),
            Caution,
            &[],
            "Lamotrigine attenuated ketamine's psychotomimetic effects; effect on its antidepressant action unknown.",
            "clinical.md §3.2 ([S63], [S64])",
        ),
        rule(
            "maoi",
            takes(M::Maoi),
            Caution,
            &[],
            "MAOI: blood pressure increase (esketamine); tracked on the REMS monitoring form.",
            "clinical.md §3.2 ([S54], [S65])",
        ),
        rule(
            "psychostimulant",
            takes(M::Psychostimulant),
            Caution,
            &[],
            "Psychostimulants: additive blood pressure increase.",
            "clinical.md §3.2 ([S53], [S65])",
        ),
        rule(
            "opioid",
            takes(M::Opioid),
            Caution,
            &[],
            "Opioids: additive sedation and respiratory depression.",
            "clinical.md §3.2 ([S44], [S53], [S65])",
        ),
        rule(
            "cns_depressant",
            takes(M::OtherCnsDepressant),
            Caution,
            &[],
            "Other CNS depressants: additive sedation and respiratory depression.",
            "clinical.md §3.2 ([S44], [S53], [S65])",
        ),
        rule(
            "cyp_modifier",
            takes(M::CypModifier),
            Caution,
            &[],
            "CYP2B6/CYP3A4 inducers lower and inhibitors raise ketamine exposure.",
            "clinical.md §3.2 ([S63])",
        ),
        rule(
            "baseline_bp",
            When::BloodPressureAbove {
                systolic: 140,
                diastolic: 90,
            },
            Caution,
            &esk,
            "Baseline blood pressure above 140/90: weigh risk against benefit before esketamine (the label's example; exact wording UNCONFIRMED, threshold the clinic's to set).",
            "clinical.md §2.3 ([S38], [S10])",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::intake::{BaselineVitals, Medication};
    use super::*;

    /// An intake with every checklist question answered "no", no medications and a normal BP.
    fn clear() -> Intake {
        Intake {
            conditions: Condition::ALL.iter().map(|c| (*c, false)).collect(),
            medications: Some(vec![]),
            vitals: BaselineVitals {
                systolic: Some(120),
                diastolic: Some(80),
                heart_rate: Some(70),
                spo2: Some(98),
            },
            ..Intake::default()
        }
    }

    fn ids(f: &[Finding]) -> Vec<(String, Option<Level>)> {
        f.iter()
            .map(|x| match x {
                Finding::Rule { rule_id, level, .. } => (rule_id.clone(), Some(*level)),
                Finding::Missing { what } | Finding::Conflict { what } => (what.clone(), None),
            })
            .collect()
    }

    const ALL_ROUTES: [Route; 4] = Route::ALL;

    #[test]
    fn a_clear_intake_has_no_findings_on_any_route() {
        assert!(evaluate(&clear(), &default_rules(), &ALL_ROUTES).is_empty());
    }

    #[test]
    fn each_default_condition_rule_fires_at_its_level_on_its_routes() {
        for r in default_rules() {
            let When::Has { condition } = r.when else {
                continue;
            };
            let mut i = clear();
            i.conditions.insert(condition, true);
            let f = evaluate(&i, &default_rules(), &ALL_ROUTES);
            assert_eq!(ids(&f), vec![(r.id.clone(), Some(r.level))], "{}", r.id);
            assert!(!r.source.is_empty() && r.source.contains("clinical.md"));
            // Route-specific rules stay silent for other routes.
            if !r.routes.is_empty() {
                assert!(
                    evaluate(&i, &default_rules(), &[Route::Iv]).is_empty(),
                    "{}",
                    r.id
                );
            }
        }
    }

    #[test]
    fn the_label_contraindications_are_absolute_for_esketamine() {
        for c in [
            Condition::AneurysmOrAvm,
            Condition::IntracerebralHaemorrhage,
            Condition::KetamineHypersensitivity,
        ] {
            let mut i = clear();
            i.conditions.insert(c, true);
            let f = evaluate(&i, &default_rules(), &[Route::EsketamineNasal]);
            assert_eq!(f[0].level(), Some(Level::Absolute), "{c}");
        }
    }

    #[test]
    fn medications_and_thresholds() {
        let mut i = clear();
        i.medications = Some(vec![
            Medication {
                name: "Clonazepam".into(),
                class: Some(MedicationClass::Benzodiazepine),
                diazepam_equivalent_mg: Some(10.0),
            },
            Medication {
                name: "Lamotrigine".into(),
                class: Some(MedicationClass::Lamotrigine),
                diazepam_equivalent_mg: None,
            },
        ]);
        i.vitals.systolic = Some(150);
        let f = ids(&evaluate(&i, &default_rules(), &ALL_ROUTES));
        assert!(f.contains(&("benzodiazepine_dose".into(), Some(Level::Caution))));
        assert!(f.contains(&("lamotrigine".into(), Some(Level::Caution))));
        assert!(f.contains(&("baseline_bp".into(), Some(Level::Caution))));
        let f = ids(&evaluate(&i, &default_rules(), &[Route::Iv]));
        assert!(
            !f.iter().any(|(id, _)| id == "baseline_bp"),
            "esketamine only"
        );
        // At exactly the threshold, no finding.
        i.medications = Some(vec![Medication {
            name: "Diazepam".into(),
            class: Some(MedicationClass::Benzodiazepine),
            diazepam_equivalent_mg: Some(8.0),
        }]);
        i.vitals.systolic = Some(140);
        assert!(evaluate(&i, &default_rules(), &ALL_ROUTES).is_empty());
        // A clinic's own threshold.
        let mut rules = default_rules();
        for r in &mut rules {
            if let When::BenzodiazepineAbove {
                diazepam_equivalent_mg,
            } = &mut r.when
            {
                *diazepam_equivalent_mg = 5.0;
            }
        }
        assert_eq!(evaluate(&i, &rules, &ALL_ROUTES).len(), 1);
    }

    #[test]
    fn missing_answers_are_findings_never_passes() {
        let f = evaluate(&Intake::default(), &default_rules(), &ALL_ROUTES);
        assert!(f.iter().all(|x| x.level().is_none()));
        let whats: Vec<String> = f
            .iter()
            .filter_map(|x| match x {
                Finding::Missing { what } => Some(what.clone()),
                Finding::Rule { .. } | Finding::Conflict { .. } => None,
            })
            .collect();
        assert!(whats.contains(&"Current medications".to_owned()));
        assert!(whats.contains(&"Baseline blood pressure".to_owned()));
        assert!(whats.contains(&"Checklist: History of intracerebral haemorrhage".to_owned()));
        assert_eq!(
            whats.iter().filter(|w| *w == "Current medications").count(),
            1,
            "each missing answer named once"
        );
        // A benzodiazepine without its dose cannot be judged.
        let mut i = clear();
        i.medications = Some(vec![Medication {
            name: "Lorazepam".into(),
            class: Some(MedicationClass::Benzodiazepine),
            diazepam_equivalent_mg: None,
        }]);
        let f = evaluate(&i, &default_rules(), &ALL_ROUTES);
        assert_eq!(
            f,
            vec![Finding::Missing {
                what: "Diazepam-equivalent daily dose of Lorazepam".into()
            }]
        );
    }

    #[test]
    fn rules_round_trip_as_protocol_data() {
        let rules = default_rules();
        let json = serde_json::to_string(&rules).unwrap_or_default();
        let back: Vec<Rule> = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, rules);
        let bad = r#"[{"id":"x","when":{"kind":"has","condition":"nonsense"},"level":"absolute","reason":"r","source":"s"}]"#;
        assert!(serde_json::from_str::<Vec<Rule>>(bad).is_err());
    }
}
