//! Treatment resistance, derived from the recorded trials — never typed in — and shown with how
//! it was derived: the count of adequate failed antidepressant trials in the current episode
//! (TRD from a clinic-set number, 2 by the most common definition), the Maudsley Staging Method
//! and the Thase–Rush stage (clinical.md §3.3, §3.4).

use super::intake::{AntidepressantClass, EpisodeSeverity, Intake, TreatmentTrial, TrialKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The clinic's definition of treatment-resistant depression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrdRule {
    /// Adequate failed antidepressant trials in the current episode that make it TRD.
    pub min_failed_trials: u8,
}

impl Default for TrdRule {
    /// "Inadequate response to ≥ 2 antidepressants of adequate dose and duration in the current
    /// episode" — the most common definition (clinical.md §3.3).
    fn default() -> Self {
        TrdRule {
            min_failed_trials: 2,
        }
    }
}

fn current_antidepressants(i: &Intake) -> impl Iterator<Item = &TreatmentTrial> {
    i.trials
        .iter()
        .filter(|t| t.current_episode && t.kind == TrialKind::Antidepressant)
}

/// Where the person stands by the clinic's TRD definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resistance {
    pub failed_trials: u8,
    pub rule: TrdRule,
    /// Antidepressant trials of the current episode not yet judged adequate or not.
    pub unjudged_trials: u8,
}

impl Resistance {
    pub fn is_trd(&self) -> bool {
        self.failed_trials >= self.rule.min_failed_trials
    }

    /// How it was derived, in words.
    pub fn explain(&self) -> String {
        let mut s = format!(
            "{} adequate antidepressant trial{} without response in the current episode; TRD from {}",
            self.failed_trials,
            if self.failed_trials == 1 { "" } else { "s" },
            self.rule.min_failed_trials
        );
        if self.unjudged_trials > 0 {
            s.push_str(&format!(
                " ({} more not yet judged adequate or not)",
                self.unjudged_trials
            ));
        }
        s
    }
}

pub fn resistance(i: &Intake, rule: TrdRule) -> Resistance {
    let count = |f: &dyn Fn(&TreatmentTrial) -> bool| {
        u8::try_from(current_antidepressants(i).filter(|t| f(t)).count()).unwrap_or(u8::MAX)
    };
    Resistance {
        failed_trials: count(&|t| t.failed_adequately()),
        rule,
        unjudged_trials: count(&|t| t.adequate.is_none()),
    }
}

/// The Maudsley Staging Method's parts and total (clinical.md §3.4, Fekadu et al.).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Maudsley {
    pub duration_points: u8,
    pub severity_points: u8,
    pub failure_points: u8,
    pub augmentation_points: u8,
    pub ect_points: u8,
}

crate::code::coded_enum! {
    /// The Maudsley total's band: mild 3–6, moderate 7–10, severe 11–15.
    pub enum MaudsleyBand as "Maudsley band" {
        Mild = "mild" / "Mild resistance",
        Moderate = "moderate" / "Moderate resistance",
        Severe = "severe" / "Severe resistance",
    }
}

impl Maudsley {
    pub fn total(&self) -> u8 {
        self.duration_points
            + self.severity_points
            + self.failure_points
            + self.augmentation_points
            + self.ect_points
    }

    pub fn band(&self) -> MaudsleyBand {
        match self.total() {
            0..=6 => MaudsleyBand::Mild,
            7..=10 => MaudsleyBand::Moderate,
            _ => MaudsleyBand::Severe,
        }
    }
}

/// Why a stage could not be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotStaged {
    #[error("the current episode's start is not recorded")]
    NoEpisodeDuration,
    #[error("the episode's severity at baseline is not recorded")]
    NoSeverity,
    #[error("no adequate antidepressant trial without response is recorded for this episode")]
    NoFailedTrial,
    #[error("no adequate antidepressant trial is recorded")]
    NoAdequateTrial,
}

/// Points for the episode's duration: ≤ 12 months 1, 13–24 months 2, > 24 months 3.
pub fn duration_points(months: u16) -> u8 {
    match months {
        0..=12 => 1,
        13..=24 => 2,
        _ => 3,
    }
}

/// Points for failed antidepressants: 1–2 → 1, 3–4 → 2, 5–6 → 3, 7–10 → 4, > 10 → 5; none
/// are not staged.
pub fn failure_points(failed: u8) -> Option<u8> {
    match failed {
        0 => None,
        1..=2 => Some(1),
        3..=4 => Some(2),
        5..=6 => Some(3),
        7..=10 => Some(4),
        _ => Some(5),
    }
}

pub fn severity_points(s: EpisodeSeverity) -> u8 {
    match s {
        EpisodeSeverity::Subsyndromal => 1,
        EpisodeSeverity::Mild => 2,
        EpisodeSeverity::Moderate => 3,
        EpisodeSeverity::Severe => 4,
        EpisodeSeverity::SeverePsychotic => 5,
    }
}

/// The Maudsley stage of the current episode, or why it cannot be given.
pub fn maudsley(i: &Intake) -> Result<Maudsley, NotStaged> {
    let months = i.episode_months.ok_or(NotStaged::NoEpisodeDuration)?;
    let severity = i.severity.ok_or(NotStaged::NoSeverity)?;
    let failed = resistance(i, TrdRule::default()).failed_trials;
    let failure_points = failure_points(failed).ok_or(NotStaged::NoFailedTrial)?;
    let used = |kinds: &[TrialKind]| {
        u8::from(
            i.trials
                .iter()
                .any(|t| t.current_episode && kinds.contains(&t.kind)),
        )
    };
    Ok(Maudsley {
        duration_points: duration_points(months),
        severity_points: severity_points(severity),
        failure_points,
        augmentation_points: used(&[TrialKind::Augmentation]),
        ect_points: used(&[TrialKind::EctBilateral, TrialKind::EctUnilateral]),
    })
}

/// The Thase–Rush stage (0–V) from adequate trials: 0 a response to an adequate trial; I failure
/// of one major class; II failure of a second, different class; III also a TCA; IV also an MAOI;
/// V also bilateral ECT (clinical.md §3.4). Counted over all recorded trials.
pub fn thase_rush(i: &Intake) -> Result<u8, NotStaged> {
    let failed: BTreeSet<AntidepressantClass> = i
        .trials
        .iter()
        .filter(|t| t.kind == TrialKind::Antidepressant && t.failed_adequately())
        .filter_map(|t| t.class)
        .collect();
    let ect_failed = i
        .trials
        .iter()
        .any(|t| t.kind == TrialKind::EctBilateral && t.failed_adequately());
    if failed.is_empty() {
        let responded = i.trials.iter().any(|t| {
            t.kind == TrialKind::Antidepressant && t.adequate == Some(true) && t.responded()
        });
        return if responded {
            Ok(0)
        } else {
            Err(NotStaged::NoAdequateTrial)
        };
    }
    let mut stage = 1;
    if failed.len() >= 2 {
        stage = 2;
        if failed.contains(&AntidepressantClass::Tca) {
            stage = 3;
            if failed.contains(&AntidepressantClass::Maoi) {
                stage = 4;
                if ect_failed {
                    stage = 5;
                }
            }
        }
    }
    Ok(stage)
}

#[cfg(test)]
mod tests {
    use super::super::intake::TrialOutcome;
    use super::*;
    use proptest::prelude::*;

    fn trial(class: AntidepressantClass, adequate: bool, outcome: TrialOutcome) -> TreatmentTrial {
        TreatmentTrial {
            kind: TrialKind::Antidepressant,
            class: Some(class),
            name: class.label().to_owned(),
            weeks: Some(8),
            adequate: Some(adequate),
            outcome,
            current_episode: true,
        }
    }

    fn other(kind: TrialKind, outcome: TrialOutcome) -> TreatmentTrial {
        TreatmentTrial {
            kind,
            class: None,
            name: kind.label().to_owned(),
            weeks: None,
            adequate: Some(true),
            outcome,
            current_episode: true,
        }
    }

    use AntidepressantClass::*;
    use TrialOutcome::*;

    #[test]
    fn trd_counts_only_adequate_failed_antidepressants_of_this_episode() {
        let mut i = Intake::default();
        i.trials.push(trial(Ssri, true, NoResponse));
        i.trials.push(trial(Snri, false, NoResponse)); // not adequate
        i.trials.push(trial(Bupropion, true, NotTolerated)); // stopped: not a failure
        let mut past = trial(Tca, true, NoResponse);
        past.current_episode = false;
        i.trials.push(past);
        let r = resistance(&i, TrdRule::default());
        assert_eq!(r.failed_trials, 1);
        assert!(!r.is_trd());
        i.trials.push(trial(Mirtazapine, true, PartialResponse));
        let r = resistance(&i, TrdRule::default());
        assert!(r.is_trd());
        assert!(r.explain().starts_with("2 adequate antidepressant trials"));
        let strict = resistance(
            &i,
            TrdRule {
                min_failed_trials: 3,
            },
        );
        assert!(!strict.is_trd(), "the clinic's rule decides");
        let mut unjudged = trial(Ssri, true, NoResponse);
        unjudged.adequate = None;
        i.trials.push(unjudged);
        assert!(
            resistance(&i, TrdRule::default())
                .explain()
                .contains("1 more not yet judged")
        );
    }

    #[test]
    fn maudsley_points_follow_the_published_table() {
        // Duration ≤12 → 1, 13–24 → 2, >24 → 3.
        assert_eq!([12, 13, 24, 25].map(duration_points), [1, 2, 2, 3]);
        // Failures 1–2 → 1, 3–4 → 2, 5–6 → 3, 7–10 → 4, >10 → 5.
        assert_eq!(
            [1, 2, 3, 4, 5, 6, 7, 10, 11].map(failure_points),
            [
                Some(1),
                Some(1),
                Some(2),
                Some(2),
                Some(3),
                Some(3),
                Some(4),
                Some(4),
                Some(5)
            ]
        );
        assert_eq!(failure_points(0), None);
        assert_eq!(EpisodeSeverity::ALL.map(severity_points), [1, 2, 3, 4, 5]);
        let mut i = Intake {
            episode_months: Some(30),
            severity: Some(EpisodeSeverity::Severe),
            ..Intake::default()
        };
        for c in [Ssri, Snri, Tca] {
            i.trials.push(trial(c, true, NoResponse));
        }
        i.trials.push(other(TrialKind::Augmentation, NoResponse));
        i.trials.push(other(TrialKind::EctUnilateral, NoResponse));
        let m = maudsley(&i).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (m.duration_points, m.severity_points, m.failure_points),
            (3, 4, 2)
        );
        assert_eq!((m.augmentation_points, m.ect_points), (1, 1));
        assert_eq!(m.total(), 11);
        assert_eq!(m.band(), MaudsleyBand::Severe);
    }

    #[test]
    fn maudsley_says_what_is_missing() {
        let mut i = Intake::default();
        assert_eq!(maudsley(&i), Err(NotStaged::NoEpisodeDuration));
        i.episode_months = Some(6);
        assert_eq!(maudsley(&i), Err(NotStaged::NoSeverity));
        i.severity = Some(EpisodeSeverity::Mild);
        assert_eq!(maudsley(&i), Err(NotStaged::NoFailedTrial));
        i.trials.push(trial(Ssri, true, NoResponse));
        let m = maudsley(&i).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((m.total(), m.band()), (4, MaudsleyBand::Mild));
    }

    #[test]
    fn thase_rush_climbs_class_by_class() {
        let mut i = Intake::default();
        assert_eq!(thase_rush(&i), Err(NotStaged::NoAdequateTrial));
        i.trials.push(trial(Ssri, true, Response));
        assert_eq!(thase_rush(&i), Ok(0));
        i.trials.push(trial(Ssri, true, NoResponse));
        assert_eq!(thase_rush(&i), Ok(1));
        i.trials.push(trial(Ssri, true, NoResponse));
        assert_eq!(
            thase_rush(&i),
            Ok(1),
            "the same class twice is still stage I"
        );
        i.trials.push(trial(Snri, true, NoResponse));
        assert_eq!(thase_rush(&i), Ok(2));
        i.trials.push(trial(Maoi, true, NoResponse));
        assert_eq!(
            thase_rush(&i),
            Ok(2),
            "an MAOI before a TCA does not skip stage III"
        );
        i.trials.push(trial(Tca, true, NoResponse));
        assert_eq!(thase_rush(&i), Ok(4));
        i.trials.push(other(TrialKind::EctUnilateral, NoResponse));
        assert_eq!(thase_rush(&i), Ok(4), "stage V needs bilateral ECT");
        i.trials.push(other(TrialKind::EctBilateral, NoResponse));
        assert_eq!(thase_rush(&i), Ok(5));
    }

    fn any_trial() -> impl Strategy<Value = TreatmentTrial> {
        (
            prop::sample::select(AntidepressantClass::ALL.to_vec()),
            any::<Option<bool>>(),
            prop::sample::select(TrialOutcome::ALL.to_vec()),
            any::<bool>(),
        )
            .prop_map(
                |(class, adequate, outcome, current_episode)| TreatmentTrial {
                    kind: TrialKind::Antidepressant,
                    class: Some(class),
                    name: String::new(),
                    weeks: None,
                    adequate,
                    outcome,
                    current_episode,
                },
            )
    }

    proptest! {
        #[test]
        fn another_failed_trial_never_lowers_a_stage(
            trials in prop::collection::vec(any_trial(), 0..12),
            class in prop::sample::select(AntidepressantClass::ALL.to_vec()),
            months in 0u16..60,
        ) {
            let mut i = Intake {
                trials,
                episode_months: Some(months),
                severity: Some(EpisodeSeverity::Moderate),
                ..Intake::default()
            };
            let before = (
                resistance(&i, TrdRule::default()).failed_trials,
                maudsley(&i).map(|m| m.total()).unwrap_or(0),
                thase_rush(&i).unwrap_or(0),
            );
            i.trials.push(trial(class, true, NoResponse));
            let after = (
                resistance(&i, TrdRule::default()).failed_trials,
                maudsley(&i).map(|m| m.total()).unwrap_or(0),
                thase_rush(&i).unwrap_or(0),
            );
            prop_assert!(after.0 == before.0 + 1);
            prop_assert!(after.1 >= before.1);
            prop_assert!(after.2 >= before.2);
        }
    }
}
