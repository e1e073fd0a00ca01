//! The prescriber's eligibility decision and the rules it must follow: never "eligible" with an
//! absolute contraindication or with questions unanswered; a written justification for every
//! relative contraindication; a rationale always.

use super::Route;
use super::rules::{Finding, Level};
use std::collections::BTreeMap;

crate::code::coded_enum! {
    /// The decision, from most to least permissive.
    pub enum Decision as "eligibility decision" {
        Eligible = "eligible" / "Eligible",
        EligibleWithPrecautions = "eligible_with_precautions" / "Eligible with precautions",
        Deferred = "deferred" / "Deferred",
        NotEligible = "not_eligible" / "Not eligible",
    }
}

impl Decision {
    /// Whether the decision lets treatment go ahead.
    pub fn allows_treatment(self) -> bool {
        matches!(self, Decision::Eligible | Decision::EligibleWithPrecautions)
    }
}

/// A decision as the prescriber is about to sign it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Draft {
    pub decision: Option<Decision>,
    pub rationale: String,
    /// The routes the decision is for.
    pub routes: Vec<Route>,
    /// Justifications by rule id, for relative contraindications.
    pub justifications: BTreeMap<String, String>,
}

/// Why a decision cannot be signed as drafted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("choose a decision")]
    NoDecision,
    #[error("write the rationale for the decision")]
    NoRationale,
    #[error("name at least one route the decision is for")]
    NoRoute,
    #[error("an absolute contraindication ({0}) rules out treatment")]
    Absolute(String),
    #[error("{0} question(s) still need an answer: defer the decision, or complete the screening")]
    Missing(usize),
    #[error(
        "{0} contradiction(s) in the intake need resolving: defer the decision, or correct the intake"
    )]
    Conflicting(usize),
    #[error("the relative contraindication {0} needs a written justification")]
    Unjustified(String),
    #[error("with a relative contraindication the decision is \"eligible with precautions\"")]
    NeedsPrecautions,
}

/// The most permissive decision the findings allow: missing answers defer, an absolute
/// contraindication rules out, a relative one calls for precautions.
pub fn most_permissive(findings: &[Finding]) -> Decision {
    let has = |l: Level| findings.iter().any(|f| f.level() == Some(l));
    if has(Level::Absolute) {
        Decision::NotEligible
    } else if findings.iter().any(|f| f.level().is_none()) {
        Decision::Deferred
    } else if has(Level::Relative) {
        Decision::EligibleWithPrecautions
    } else {
        Decision::Eligible
    }
}

/// Checks a draft against the findings of the routes it names; every problem is listed.
pub fn check(findings: &[Finding], d: &Draft) -> Result<Decision, Vec<Refused>> {
    let mut problems = vec![];
    if d.rationale.trim().is_empty() {
        problems.push(Refused::NoRationale);
    }
    let Some(decision) = d.decision else {
        problems.insert(0, Refused::NoDecision);
        return Err(problems);
    };
    if decision.allows_treatment() {
        if d.routes.is_empty() {
            problems.push(Refused::NoRoute);
        }
        let missing = findings
            .iter()
            .filter(|f| matches!(f, Finding::Missing { .. }))
            .count();
        if missing > 0 {
            problems.push(Refused::Missing(missing));
        }
        let conflicting = findings
            .iter()
            .filter(|f| matches!(f, Finding::Conflict { .. }))
            .count();
        if conflicting > 0 {
            problems.push(Refused::Conflicting(conflicting));
        }
        for f in findings {
            if let Finding::Rule { rule_id, level, .. } = f {
                match level {
                    Level::Absolute => problems.push(Refused::Absolute(rule_id.clone())),
                    Level::Relative => {
                        if d.justifications
                            .get(rule_id)
                            .is_none_or(|j| j.trim().is_empty())
                        {
                            problems.push(Refused::Unjustified(rule_id.clone()));
                        }
                        if decision == Decision::Eligible {
                            problems.push(Refused::NeedsPrecautions);
                        }
                    }
                    Level::Caution => {}
                }
            }
        }
    }
    problems.dedup();
    if problems.is_empty() {
        Ok(decision)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(id: &str, level: Level) -> Finding {
        Finding::Rule {
            rule_id: id.into(),
            level,
            reason: String::new(),
            source: String::new(),
            routes: vec![Route::Iv],
        }
    }

    fn draft(decision: Decision) -> Draft {
        Draft {
            decision: Some(decision),
            rationale: "Assessed in clinic.".into(),
            routes: vec![Route::Iv],
            justifications: BTreeMap::new(),
        }
    }

    #[test]
    fn an_absolute_contraindication_cannot_be_signed_eligible() {
        let f = [rule("aneurysm_avm", Level::Absolute)];
        for d in [Decision::Eligible, Decision::EligibleWithPrecautions] {
            assert_eq!(
                check(&f, &draft(d)),
                Err(vec![Refused::Absolute("aneurysm_avm".into())])
            );
        }
        assert_eq!(
            check(&f, &draft(Decision::NotEligible)),
            Ok(Decision::NotEligible)
        );
    }

    #[test]
    fn a_relative_contraindication_needs_precautions_and_a_justification() {
        let f = [
            rule("psychosis", Level::Relative),
            rule("lamotrigine", Level::Caution),
        ];
        let mut d = draft(Decision::Eligible);
        assert_eq!(
            check(&f, &d),
            Err(vec![
                Refused::Unjustified("psychosis".into()),
                Refused::NeedsPrecautions
            ])
        );
        d.decision = Some(Decision::EligibleWithPrecautions);
        d.justifications.insert("psychosis".into(), "  ".into());
        assert_eq!(
            check(&f, &d),
            Err(vec![Refused::Unjustified("psychosis".into())])
        );
        d.justifications.insert(
            "psychosis".into(),
            "Single drug-induced episode 12 years ago; stable since.".into(),
        );
        assert_eq!(check(&f, &d), Ok(Decision::EligibleWithPrecautions));
    }

    #[test]
    fn contradictions_allow_only_deferring_or_refusing() {
        let f = [Finding::Conflict {
            what: "No suicide attempts are recorded, but a year of the most recent attempt is"
                .into(),
        }];
        assert_eq!(
            check(&f, &draft(Decision::Eligible)),
            Err(vec![Refused::Conflicting(1)])
        );
        assert_eq!(
            check(&f, &draft(Decision::Deferred)),
            Ok(Decision::Deferred)
        );
        assert_eq!(most_permissive(&f), Decision::Deferred);
    }

    #[test]
    fn missing_answers_allow_only_deferring_or_refusing() {
        let f = [Finding::Missing {
            what: "Baseline blood pressure".into(),
        }];
        assert_eq!(
            check(&f, &draft(Decision::Eligible)),
            Err(vec![Refused::Missing(1)])
        );
        assert_eq!(
            check(&f, &draft(Decision::Deferred)),
            Ok(Decision::Deferred)
        );
        assert_eq!(most_permissive(&f), Decision::Deferred);
    }

    #[test]
    fn a_rationale_a_decision_and_a_route_are_required() {
        assert_eq!(
            check(&[], &Draft::default()),
            Err(vec![Refused::NoDecision, Refused::NoRationale])
        );
        let mut d = draft(Decision::Eligible);
        d.routes.clear();
        d.rationale.clear();
        assert_eq!(
            check(&[], &d),
            Err(vec![Refused::NoRationale, Refused::NoRoute])
        );
    }

    fn any_finding() -> impl Strategy<Value = Finding> {
        prop_oneof![
            prop::sample::select(Level::ALL.to_vec()).prop_map(|l| rule("r", l)),
            Just(Finding::Missing { what: "x".into() }),
            Just(Finding::Conflict { what: "y".into() }),
        ]
    }

    proptest! {
        #[test]
        fn adding_a_finding_never_makes_a_patient_more_eligible(
            mut findings in prop::collection::vec(any_finding(), 0..6),
            extra in any_finding(),
        ) {
            let before = most_permissive(&findings);
            findings.push(extra);
            let after = most_permissive(&findings);
            // Decisions are declared from most to least permissive.
            prop_assert!(after >= before);
        }

        #[test]
        fn a_signable_decision_is_never_more_permissive_than_the_findings_allow(
            findings in prop::collection::vec(any_finding(), 0..6),
            decision in prop::sample::select(Decision::ALL.to_vec()),
        ) {
            let mut d = draft(decision);
            d.justifications.insert("r".into(), "Reasoned.".into());
            if let Ok(signed) = check(&findings, &d) {
                prop_assert!(signed >= most_permissive(&findings) || !signed.allows_treatment());
            }
        }
    }
}
