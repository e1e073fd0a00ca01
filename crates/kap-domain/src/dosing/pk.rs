//! A model estimate of the plasma concentration of IV racemic ketamine over a dosing session,
//! for a curve beside the flowsheet. Facts: `../shared/reference/clinical.md` §7.1.
//!
//! **A model estimate, illustrative only.** It is the Domino three-compartment model with its
//! population parameters ([S121], the same set in [S122]), not a measurement of this patient,
//! and nothing clinical is decided from it:
//!
//! * **Adult, IV only.** The parameters are for IV racemic ketamine in adults; the paediatric
//!   models of §7.1 are not these, and no absorption rate for IM, sublingual or nasal doses
//!   was found, so other routes are not modelled.
//! * **The reference is partly UNCONFIRMED.** PMID 7198883 (Domino et al.); its year and
//!   journal are UNCONFIRMED (believed Anesth Analg 1982).
//! * **Models disagree.** The two published adult sets of §7.1 (Domino, Clements 250) differ
//!   markedly in the tail after an infusion: for 0.5 mg/kg over 40 minutes, Domino gives about
//!   46 ng/mL at 80 minutes and Clements about 85. No measured concentration for that protocol
//!   was found to say which is closer (UNCONFIRMED).
//!
//! Amounts are per kg of body weight, so the concentration does not depend on the weight:
//! dA1/dt = R(t) − (k10 + k12 + k13)·A1 + k21·A2 + k31·A3, dA2/dt = k12·A1 − k21·A2,
//! dA3/dt = k13·A1 − k31·A3, and Cp = A1 / V1 in mg/L (= µg/mL), shown in ng/mL. The equations
//! are integrated with fourth-order Runge–Kutta steps of at most 0.05 minutes, between the
//! minutes where an infusion starts or stops, which reproduces clinical.md's own simulation
//! (Euler, 0.005 minutes) to well under 0.1 %.

/// Where the curve comes from, for its label.
pub const MODEL: &str = "Domino three-compartment model (PMID 7198883), clinical.md §7.1";

/// Central volume, L/kg (clinical.md §7.1).
const V1_L_PER_KG: f64 = 0.063;
/// Elimination from the central compartment, per minute.
const K10: f64 = 0.4381;
/// Central to the fast peripheral compartment and back, per minute.
const K12: f64 = 0.5921;
const K21: f64 = 0.2470;
/// Central to the slow peripheral compartment and back, per minute.
const K13: f64 = 0.5900;
const K31: f64 = 0.0146;

/// The longest integration step, minutes. The fastest phase has a half-life of about
/// 0.4 minutes (§7.1), so the step is small beside it.
const STEP_MIN: f64 = 0.05;

/// An infusion shorter than this (minutes) is taken as a bolus, so a near-zero duration
/// cannot make an unbounded rate.
const BOLUS_BELOW_MIN: f64 = 1e-6;

/// A dose of racemic ketamine given IV at a constant rate over `[start_min, stop_min)`, in
/// minutes from the start of the session. `stop_min == start_min` is a bolus: the whole dose
/// enters the blood at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Infusion {
    pub start_min: f64,
    pub stop_min: f64,
    pub mg_per_kg: f64,
}

impl Infusion {
    /// Finite, a dose of 0 or more, and not stopping before it starts.
    fn is_usable(&self) -> bool {
        self.start_min.is_finite()
            && self.stop_min.is_finite()
            && self.mg_per_kg.is_finite()
            && self.mg_per_kg >= 0.0
            && self.stop_min >= self.start_min
    }

    fn is_bolus(&self) -> bool {
        self.stop_min - self.start_min < BOLUS_BELOW_MIN
    }

    /// mg/kg per minute going in at `minute`.
    fn rate_at(&self, minute: f64) -> f64 {
        if self.is_bolus() || minute < self.start_min || minute >= self.stop_min {
            0.0
        } else {
            self.mg_per_kg / (self.stop_min - self.start_min)
        }
    }
}

/// The estimated plasma concentration at one minute of the session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub minute: f64,
    pub ng_per_ml: f64,
}

/// Amounts in the central, fast and slow compartments, mg/kg.
type Amounts = [f64; 3];

/// The estimated concentration at minutes 0, `every_min`, 2·`every_min`, … up to `until_min`,
/// after the given doses. A sample at the minute of a bolus includes it.
///
/// Doses that are not finite, are negative, or stop before they start are left out; the
/// caller records doses through checked types, so none should arrive. No points when
/// `every_min` is not more than 0 or `until_min` is below 0.
pub fn domino_iv(infusions: &[Infusion], until_min: f64, every_min: f64) -> Vec<Point> {
    let sampling_ok =
        every_min.is_finite() && every_min > 0.0 && until_min.is_finite() && until_min >= 0.0;
    if !sampling_ok {
        return vec![];
    }
    let doses: Vec<Infusion> = infusions
        .iter()
        .copied()
        .filter(Infusion::is_usable)
        .collect();
    // Multiples of the interval rather than a running sum, so late samples do not drift; the
    // small allowance keeps `until_min` itself when the division lands just under a whole count.
    let count = (until_min / every_min + 1e-9).floor() as usize;
    let samples: Vec<f64> = (0..=count).map(|k| k as f64 * every_min).collect();
    // Every minute at which a sample is taken or the input changes, in order: between two of
    // them the infusion rate is constant.
    let mut edges = samples.clone();
    edges.extend(
        doses
            .iter()
            .flat_map(|d| [d.start_min, d.stop_min])
            .filter(|m| *m <= until_min),
    );
    edges.sort_by(f64::total_cmp);
    edges.dedup();

    let mut amounts: Amounts = [0.0; 3];
    let mut now = edges.first().copied().unwrap_or(0.0);
    let mut next = samples.iter().copied().peekable();
    let mut out = Vec::with_capacity(samples.len());
    for &edge in &edges {
        amounts = advance(amounts, now, edge, &doses);
        now = edge;
        for d in doses.iter().filter(|d| d.is_bolus() && d.start_min == edge) {
            amounts[0] += d.mg_per_kg;
        }
        if next.peek() == Some(&edge) {
            next.next();
            out.push(Point {
                minute: edge,
                ng_per_ml: amounts[0] / V1_L_PER_KG * 1000.0,
            });
        }
    }
    out
}

/// The amounts at `to`, from those at `from`, with no infusion starting or stopping between.
fn advance(amounts: Amounts, from: f64, to: f64, doses: &[Infusion]) -> Amounts {
    let span = to - from;
    if span <= 0.0 {
        return amounts;
    }
    let middle = from + span / 2.0;
    let rate: f64 = doses.iter().map(|d| d.rate_at(middle)).sum();
    let steps = (span / STEP_MIN).ceil().max(1.0) as usize;
    let h = span / steps as f64;
    (0..steps).fold(amounts, |a, _| rk4(a, rate, h))
}

fn rk4(a: Amounts, rate: f64, h: f64) -> Amounts {
    let at = |base: Amounts, towards: Amounts, by: f64| -> Amounts {
        std::array::from_fn(|i| base[i] + by * towards[i])
    };
    let k1 = slope(a, rate);
    let k2 = slope(at(a, k1, h / 2.0), rate);
    let k3 = slope(at(a, k2, h / 2.0), rate);
    let k4 = slope(at(a, k3, h), rate);
    std::array::from_fn(|i| a[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// The model's equations (clinical.md §7.1): mg/kg per minute in each compartment.
fn slope(a: Amounts, rate: f64) -> Amounts {
    let [a1, a2, a3] = a;
    [
        rate - (K10 + K12 + K13) * a1 + K21 * a2 + K31 * a3,
        K12 * a1 - K21 * a2,
        K13 * a1 - K31 * a3,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The standard depression infusion, clinical.md §1.1: 0.5 mg/kg over 40 minutes.
    const STANDARD: Infusion = Infusion {
        start_min: 0.0,
        stop_min: 40.0,
        mg_per_kg: 0.5,
    };

    fn at(points: &[Point], minute: f64) -> f64 {
        points
            .iter()
            .find(|p| p.minute == minute)
            .map(|p| p.ng_per_ml)
            .unwrap_or_else(|| panic!("no point at minute {minute}"))
    }

    fn within_5_percent(got: f64, expected: f64) -> bool {
        (got - expected).abs() <= 0.05 * expected
    }

    /// clinical.md §7.1, derived table (Domino, 0.5 mg/kg over 40 min): peak ~240 ng/mL at
    /// 40 min; ~46 at 80; ~36 at 120; ~17 at 240.
    #[test]
    fn standard_infusion_matches_the_reference_simulation() {
        let curve = domino_iv(&[STANDARD], 240.0, 1.0);
        for (minute, expected) in [(40.0, 240.0), (80.0, 46.0), (120.0, 36.0), (240.0, 17.0)] {
            let got = at(&curve, minute);
            assert!(
                within_5_percent(got, expected),
                "minute {minute}: {got} ng/mL, expected about {expected}"
            );
        }
        let peak = curve
            .iter()
            .max_by(|a, b| a.ng_per_ml.total_cmp(&b.ng_per_ml))
            .unwrap();
        assert_eq!(peak.minute, 40.0);
    }

    #[test]
    fn samples_run_from_zero_to_the_end_at_the_interval() {
        let curve = domino_iv(&[STANDARD], 240.0, 15.0);
        let minutes: Vec<f64> = curve.iter().map(|p| p.minute).collect();
        let expected: Vec<f64> = (0..=16).map(|k| f64::from(k) * 15.0).collect();
        assert_eq!(minutes, expected);
        assert_eq!(curve[0].ng_per_ml, 0.0);
        assert!(domino_iv(&[STANDARD], 240.0, 0.0).is_empty());
        assert!(domino_iv(&[STANDARD], -1.0, 5.0).is_empty());
        assert!(domino_iv(&[STANDARD], f64::NAN, 5.0).is_empty());
    }

    #[test]
    fn no_dose_gives_zero_throughout() {
        let none = domino_iv(&[], 240.0, 5.0);
        let zero = domino_iv(
            &[Infusion {
                mg_per_kg: 0.0,
                ..STANDARD
            }],
            240.0,
            5.0,
        );
        for curve in [none, zero] {
            assert_eq!(curve.len(), 49);
            assert!(curve.iter().all(|p| p.ng_per_ml == 0.0));
        }
    }

    /// A bolus puts the whole dose in the central volume at once: Cp = dose / V1 (§7.1).
    #[test]
    fn a_bolus_enters_the_central_volume_at_once() {
        let bolus = Infusion {
            start_min: 10.0,
            stop_min: 10.0,
            mg_per_kg: 0.5,
        };
        let curve = domino_iv(&[bolus], 60.0, 10.0);
        assert_eq!(at(&curve, 0.0), 0.0);
        let expected = 0.5 / 0.063 * 1000.0;
        assert!((at(&curve, 10.0) - expected).abs() < 1e-9, "{curve:?}");
        assert!(at(&curve, 20.0) < at(&curve, 10.0));
        // A very short infusion comes to the same thing.
        let short = Infusion {
            stop_min: 10.001,
            ..bolus
        };
        let later = |c: &[Point]| at(c, 30.0);
        let (a, b) = (later(&curve), later(&domino_iv(&[short], 60.0, 10.0)));
        assert!((a - b).abs() < 1e-3 * a, "{a} vs {b}");
    }

    #[test]
    fn unusable_doses_are_left_out() {
        let bad = [
            Infusion {
                stop_min: 30.0,
                start_min: 40.0,
                mg_per_kg: 0.5,
            },
            Infusion {
                mg_per_kg: -0.5,
                ..STANDARD
            },
            Infusion {
                mg_per_kg: f64::NAN,
                ..STANDARD
            },
            Infusion {
                stop_min: f64::INFINITY,
                ..STANDARD
            },
        ];
        assert!(
            domino_iv(&bad, 120.0, 10.0)
                .iter()
                .all(|p| p.ng_per_ml == 0.0)
        );
    }

    fn infusion() -> impl Strategy<Value = Infusion> {
        // Durations of 0 (a bolus) and of real infusions; starts before and after minute 0.
        (
            -30.0..150.0f64,
            prop_oneof![Just(0.0), 0.5..90.0f64],
            0.0..2.0f64,
        )
            .prop_map(|(start, length, dose)| Infusion {
                start_min: start,
                stop_min: start + length,
                mg_per_kg: dose,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The model is linear: two doses give the sum of each alone.
        #[test]
        fn two_infusions_add(a in infusion(), b in infusion(), every in 1.0..20.0f64) {
            let both = domino_iv(&[a, b], 240.0, every);
            let alone_a = domino_iv(&[a], 240.0, every);
            let alone_b = domino_iv(&[b], 240.0, every);
            prop_assert_eq!(both.len(), alone_a.len());
            for ((s, x), y) in both.iter().zip(&alone_a).zip(&alone_b) {
                let sum = x.ng_per_ml + y.ng_per_ml;
                prop_assert_eq!(s.minute, x.minute);
                prop_assert!(
                    (s.ng_per_ml - sum).abs() <= 1e-6 * sum.max(1.0),
                    "minute {}: {} vs {}", s.minute, s.ng_per_ml, sum
                );
            }
        }

        #[test]
        fn concentration_is_never_negative(
            doses in prop::collection::vec(infusion(), 0..5),
            every in 0.5..30.0f64,
        ) {
            for p in domino_iv(&doses, 300.0, every) {
                prop_assert!(p.ng_per_ml >= 0.0, "{p:?}");
            }
        }
    }
}
