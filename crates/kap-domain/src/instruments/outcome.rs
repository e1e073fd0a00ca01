//! Response, remission and worsening over a course of treatment (clinical.md §5.1): response is
//! a reduction of at least the configured share from baseline; remission is a total at or below
//! the configured cut-off; worsening is at least the configured number of points above
//! baseline. All three are clinic settings, with the published conventions as defaults.

use serde::{Deserialize, Serialize};

/// A clinic's outcome rules for one instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRules {
    /// Response: reduction from baseline of at least this many percent (default 50).
    pub response_reduction_percent: i32,
    /// Remission: latest total at or below this (PHQ-9: < 5, so 4; MADRS: ≤ 10 or ≤ 12).
    pub remission_at_most: Option<i32>,
    /// Worsening: latest total at least this many points above baseline. No published default
    /// is in the reference, so it is off until the clinic sets it.
    pub worsening_points: Option<i32>,
}

impl OutcomeRules {
    /// The defaults from clinical.md §5.1 for the instruments that have them.
    pub fn default_for(code: &str) -> OutcomeRules {
        OutcomeRules {
            response_reduction_percent: 50,
            remission_at_most: match code {
                "phq9" => Some(4),
                "madrs" => Some(10),
                _ => None,
            },
            worsening_points: None,
        }
    }
}

/// Where a patient stands on one instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub baseline: i32,
    pub latest: i32,
    /// latest − baseline (negative is improvement).
    pub change: i32,
    pub response: bool,
    pub remission: bool,
    pub worsening: bool,
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        if self.remission {
            "remission"
        } else if self.response {
            "response"
        } else if self.worsening {
            "worsening"
        } else if self.change > 0 {
            "above baseline"
        } else {
            "not yet responding"
        }
    }
}

/// Classifies the latest complete total against the baseline (the first complete total).
pub fn classify(baseline: i32, latest: i32, rules: &OutcomeRules) -> Outcome {
    let change = latest - baseline;
    // Integer form of (baseline − latest) / baseline ≥ p%: no floating point at the boundary.
    let response =
        baseline > 0 && (baseline - latest) * 100 >= rules.response_reduction_percent * baseline;
    Outcome {
        baseline,
        latest,
        change,
        response,
        remission: rules.remission_at_most.is_some_and(|m| latest <= m),
        worsening: rules.worsening_points.is_some_and(|w| change >= w),
    }
}

/// The outcome of a series of complete totals (oldest first): the first is the baseline, the
/// last the latest. Fewer than two totals have no outcome yet.
pub fn outcome_of(totals: &[i32], rules: &OutcomeRules) -> Option<Outcome> {
    match totals {
        [baseline, .., latest] => Some(classify(*baseline, *latest, rules)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn response_is_at_least_half_the_baseline() {
        let r = OutcomeRules::default_for("phq9");
        assert!(classify(20, 10, &r).response);
        assert!(!classify(20, 11, &r).response);
        assert!(classify(21, 10, &r).response);
        assert!(!classify(21, 11, &r).response);
        assert!(
            !classify(0, 0, &r).response,
            "no baseline symptoms, nothing to respond"
        );
    }

    #[test]
    fn phq9_remission_is_below_five_and_madrs_at_most_ten() {
        let p = OutcomeRules::default_for("phq9");
        assert!(classify(20, 4, &p).remission);
        assert!(!classify(20, 5, &p).remission);
        let m = OutcomeRules::default_for("madrs");
        assert!(classify(30, 10, &m).remission);
        assert!(!classify(30, 11, &m).remission);
        let g = OutcomeRules::default_for("gad7");
        assert!(
            !classify(15, 0, &g).remission,
            "no remission rule unless configured"
        );
    }

    #[test]
    fn labels_say_where_the_patient_stands() {
        let r = OutcomeRules::default_for("phq9");
        assert_eq!(classify(20, 3, &r).label(), "remission");
        assert_eq!(classify(20, 9, &r).label(), "response");
        assert_eq!(classify(20, 15, &r).label(), "not yet responding");
        assert_eq!(classify(20, 22, &r).label(), "above baseline");
        let w = OutcomeRules {
            worsening_points: Some(2),
            ..r
        };
        assert_eq!(classify(20, 22, &w).label(), "worsening");
    }

    #[test]
    fn an_outcome_needs_two_complete_totals() {
        let r = OutcomeRules::default_for("phq9");
        assert_eq!(outcome_of(&[], &r), None);
        assert_eq!(outcome_of(&[18], &r), None);
        assert_eq!(
            outcome_of(&[18, 12, 4], &r).map(|o| (o.baseline, o.latest)),
            Some((18, 4))
        );
    }

    #[test]
    fn worsening_is_off_until_configured() {
        let mut r = OutcomeRules::default_for("phq9");
        assert!(!classify(5, 20, &r).worsening);
        r.worsening_points = Some(5);
        assert!(classify(10, 15, &r).worsening);
        assert!(!classify(10, 14, &r).worsening);
    }

    proptest! {
        #[test]
        fn response_is_monotone_in_the_latest_total(b in 1i32..=60, l in 0i32..=60) {
            let r = OutcomeRules::default_for("madrs");
            if classify(b, l, &r).response && l > 0 {
                prop_assert!(classify(b, l - 1, &r).response);
            }
        }
    }
}
