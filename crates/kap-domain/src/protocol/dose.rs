//! Doses under a protocol's rule: the dose a prescriber plans for a course (checked against
//! the rule's limits), and the dose calculated from a weight, with its arithmetic shown.

use super::{DoseRule, Protocol, num, or_list};
use crate::person::Sex;
use crate::screening::Route;

/// A course's planned dose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlannedDose {
    /// Micrograms per kg (0.5 mg/kg = 500), for weight-based rules.
    PerKg { ug_per_kg: u32 },
    /// Whole mg, for fixed-dose rules.
    Fixed { mg: u32 },
}

/// A session's dose worked out from the planned dose, with each step in words for the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseCalculation {
    /// The weight the dose is calculated from (actual or ideal); none for fixed doses.
    pub dosing_weight_kg: Option<f64>,
    pub ideal_body_weight_used: bool,
    pub mg: f64,
    /// "0.5 mg/kg × 73.0 kg = 36.5 mg", in order.
    pub steps: Vec<String>,
}

/// How a rule's units are called: "device"/"devices" for a nasal spray, "lozenge"/"lozenges".
type UnitName = (&'static str, &'static str);

const UNITS: UnitName = ("unit", "units");

impl DoseRule {
    /// The dose a course starts with when the prescriber changes nothing.
    pub fn default_planned(&self) -> PlannedDose {
        match self {
            DoseRule::PerKg { mg_per_kg, .. } => PlannedDose::PerKg {
                ug_per_kg: (mg_per_kg.get() * 1000.0).round() as u32,
            },
            DoseRule::Fixed { first_mg, .. } => PlannedDose::Fixed { mg: first_mg.get() },
        }
    }

    /// The doses a fixed rule allows, lowest first: min_mg, min_mg + step_mg, … up to max_mg,
    /// keeping only whole units when the rule has one. Empty for weight-based rules.
    pub fn allowed_fixed(&self) -> Vec<u32> {
        let DoseRule::Fixed {
            min_mg,
            max_mg,
            step_mg,
            unit_mg,
            ..
        } = self
        else {
            return vec![];
        };
        let (lo, hi, step) = (min_mg.get(), max_mg.get(), step_mg.get());
        let unit = unit_mg.as_ref().map(|u| u.get());
        let whole_units = |mg: &u32| unit.is_none_or(|u| u > 0 && mg.is_multiple_of(u));
        if lo > hi {
            return vec![];
        }
        if step == 0 {
            return [lo].into_iter().filter(whole_units).collect();
        }
        (lo..=hi)
            .step_by(step as usize)
            .filter(whole_units)
            .collect()
    }

    /// Whether a planned dose is within the rule's limits; the message says what is allowed.
    pub fn check_planned(&self, d: PlannedDose) -> Result<(), String> {
        match (self, d) {
            (
                DoseRule::PerKg {
                    min_mg_per_kg,
                    max_mg_per_kg,
                    ..
                },
                PlannedDose::PerKg { ug_per_kg },
            ) => {
                let lo = (min_mg_per_kg.get() * 1000.0).round();
                let hi = (max_mg_per_kg.get() * 1000.0).round();
                let ug = f64::from(ug_per_kg);
                if ug >= lo && ug <= hi {
                    Ok(())
                } else {
                    Err(format!(
                        "{} mg/kg is outside this protocol's range. Between {} and {} mg/kg.",
                        num(ug / 1000.0),
                        num(min_mg_per_kg.get()),
                        num(max_mg_per_kg.get())
                    ))
                }
            }
            (DoseRule::Fixed { .. }, PlannedDose::Fixed { mg }) => {
                let allowed = self.allowed_fixed();
                if allowed.contains(&mg) {
                    Ok(())
                } else if allowed.is_empty() {
                    Err(
                        "This protocol's dose rule allows no dose; the protocol needs correcting."
                            .to_owned(),
                    )
                } else {
                    Err(format!(
                        "{mg} mg is not a dose this protocol allows. Choose {}.",
                        self.allowed_in_words()
                    ))
                }
            }
            (DoseRule::PerKg { .. }, PlannedDose::Fixed { mg }) => Err(format!(
                "This protocol doses by weight, so a fixed {mg} mg cannot be planned. {}",
                self.allowed_in_words()
            )),
            (DoseRule::Fixed { .. }, PlannedDose::PerKg { ug_per_kg }) => Err(format!(
                "This protocol gives fixed doses, so {} mg/kg cannot be planned. Choose {}.",
                num(f64::from(ug_per_kg) / 1000.0),
                self.allowed_in_words()
            )),
        }
    }

    /// "56 or 84 mg", or "Between 0.5 and 0.75 mg/kg."
    fn allowed_in_words(&self) -> String {
        match self {
            DoseRule::PerKg {
                min_mg_per_kg,
                max_mg_per_kg,
                ..
            } => format!(
                "Between {} and {} mg/kg.",
                num(min_mg_per_kg.get()),
                num(max_mg_per_kg.get())
            ),
            DoseRule::Fixed { .. } => {
                let allowed = self.allowed_fixed();
                match (allowed.first(), allowed.last()) {
                    (Some(lo), Some(hi)) if allowed.len() > 10 => {
                        format!("a dose from {lo} to {hi} mg in the protocol's steps")
                    }
                    _ => format!("{} mg", or_list(&allowed)),
                }
            }
        }
    }

    /// The dose for one patient, with the arithmetic in words. For weight-based rules: the
    /// dosing weight (ideal body weight above the rule's BMI, which needs the height), times
    /// the planned mg/kg, rounded, never above the rule's mg/kg maximum for that weight nor its
    /// mg cap. For fixed rules: the planned mg, and the units it takes.
    pub fn calculate(
        &self,
        planned: PlannedDose,
        weight_kg: f64,
        height_cm: Option<f64>,
        sex: Sex,
    ) -> Result<DoseCalculation, String> {
        self.calculate_named(planned, weight_kg, height_cm, sex, UNITS)
    }

    fn calculate_named(
        &self,
        planned: PlannedDose,
        weight_kg: f64,
        height_cm: Option<f64>,
        sex: Sex,
        unit_name: UnitName,
    ) -> Result<DoseCalculation, String> {
        self.check_planned(planned)?;
        match (self, planned) {
            (
                DoseRule::PerKg {
                    max_mg_per_kg,
                    max_mg,
                    round_to_mg,
                    ideal_body_weight,
                    infusion_minutes,
                    ..
                },
                PlannedDose::PerKg { ug_per_kg },
            ) => {
                if !(weight_kg.is_finite() && weight_kg > 0.0) {
                    return Err(
                        "Enter the patient's weight in kg to calculate the dose.".to_owned()
                    );
                }
                if let Some(h) = height_cm
                    && !(h.is_finite() && h > 0.0)
                {
                    return Err("The height must be a number of cm more than 0.".to_owned());
                }
                let mut steps = vec![];
                let mut weight = weight_kg;
                let mut ibw_used = false;
                if let Some(ibw) = ideal_body_weight {
                    let above = ibw.above_bmi.get();
                    let Some(h) = height_cm else {
                        return Err(format!(
                            "This protocol doses by ideal body weight when the BMI is above {}: \
                             enter the height to calculate the dose.",
                            num(above)
                        ));
                    };
                    let bmi = weight_kg / (h / 100.0).powi(2);
                    if bmi > above {
                        let base = match sex {
                            Sex::Male => ibw.base_kg_male.get(),
                            Sex::Female => ibw.base_kg_female.get(),
                            Sex::Other | Sex::Unknown => {
                                steps.push(format!(
                                    "Sex is recorded as {}, so the lower (female) base of {} kg \
                                     is used.",
                                    sex.label().to_lowercase(),
                                    num(ibw.base_kg_female.get())
                                ));
                                ibw.base_kg_female.get()
                            }
                        };
                        let (base_h, per_cm) = (ibw.base_height_cm.get(), ibw.kg_per_cm.get());
                        let ideal = base + per_cm * (h - base_h);
                        let formula = format!(
                            "{} + {} × ({} − {}) = {:.1} kg",
                            num(base),
                            num(per_cm),
                            num(h),
                            num(base_h),
                            ideal
                        );
                        if !(ideal.is_finite() && ideal > 0.0) {
                            return Err(format!(
                                "The ideal body weight formula gives no usable weight for a \
                                 height of {} cm ({formula}); the prescriber sets this dose.",
                                num(h)
                            ));
                        }
                        if ideal < weight_kg {
                            steps.push(format!(
                                "BMI {bmi:.1} is above {}, so the ideal body weight is used: \
                                 {formula}",
                                num(above)
                            ));
                            weight = ideal;
                            ibw_used = true;
                        } else {
                            steps.push(format!(
                                "BMI {bmi:.1} is above {}, but the ideal body weight ({formula}) \
                                 is not below the actual weight, so the actual weight \
                                 {weight_kg:.1} kg is used",
                                num(above)
                            ));
                        }
                    } else {
                        steps.push(format!(
                            "BMI {bmi:.1} is not above {}, so the actual weight {weight_kg:.1} kg \
                             is used",
                            num(above)
                        ));
                    }
                } else {
                    steps.push(format!("Dosed by the actual weight: {weight_kg:.1} kg"));
                }
                let per_kg = f64::from(ug_per_kg) / 1000.0;
                let raw = per_kg * weight;
                steps.push(format!(
                    "{} mg/kg × {weight:.1} kg = {} mg",
                    num(per_kg),
                    num(raw)
                ));
                let round = round_to_mg.get();
                let mut mg = raw;
                if round.is_finite() && round > 0.0 {
                    mg = (raw / round).round() * round;
                    let ceiling = max_mg_per_kg.get() * weight;
                    if mg > ceiling + 1e-9 {
                        mg = (raw / round).floor() * round;
                        steps.push(format!(
                            "rounded down to a multiple of {} mg, to stay within {} mg/kg: {} mg",
                            num(round),
                            num(max_mg_per_kg.get()),
                            num(mg)
                        ));
                    } else {
                        steps.push(format!(
                            "rounded to the nearest {} mg: {} mg",
                            num(round),
                            num(mg)
                        ));
                    }
                }
                if let Some(cap) = max_mg
                    && mg > cap.get()
                {
                    mg = cap.get();
                    steps.push(format!("capped at the protocol maximum {} mg", num(mg)));
                }
                if mg.is_nan() || mg <= 0.0 {
                    return Err(
                        "The calculated dose rounds to 0 mg; check the weight and the planned dose."
                            .to_owned(),
                    );
                }
                if let Some(minutes) = infusion_minutes {
                    steps.push(format!("infused over {} minutes", minutes.get()));
                }
                Ok(DoseCalculation {
                    dosing_weight_kg: Some(weight),
                    ideal_body_weight_used: ibw_used,
                    mg,
                    steps,
                })
            }
            (
                DoseRule::Fixed {
                    unit_mg,
                    minutes_between_units,
                    ..
                },
                PlannedDose::Fixed { mg },
            ) => {
                let mut steps = vec![format!("fixed dose: {mg} mg")];
                if let Some(unit) = unit_mg.as_ref().map(|u| u.get()).filter(|u| *u > 0) {
                    let n = mg / unit;
                    let word = if n == 1 { unit_name.0 } else { unit_name.1 };
                    steps.push(format!("{mg} mg = {n} {word} of {unit} mg"));
                    if let Some(m) = minutes_between_units
                        && n > 1
                    {
                        steps.push(format!("{} minutes between {}", m.get(), unit_name.1));
                    }
                }
                Ok(DoseCalculation {
                    dosing_weight_kg: None,
                    ideal_body_weight_used: false,
                    mg: f64::from(mg),
                    steps,
                })
            }
            // check_planned refuses a dose of the other kind.
            (_, PlannedDose::PerKg { .. } | PlannedDose::Fixed { .. }) => {
                Err("The planned dose does not fit this protocol's dose rule.".to_owned())
            }
        }
    }
}

impl Protocol {
    /// [`DoseRule::calculate`] with the units named for the route ("3 devices of 28 mg").
    pub fn calculate_dose(
        &self,
        planned: PlannedDose,
        weight_kg: f64,
        height_cm: Option<f64>,
        sex: Sex,
    ) -> Result<DoseCalculation, String> {
        let names = match self.route {
            Route::EsketamineNasal => ("device", "devices"),
            Route::Sublingual => ("lozenge", "lozenges"),
            Route::Iv | Route::Im => UNITS,
        };
        self.dose
            .calculate_named(planned, weight_kg, height_cm, sex, names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{IdealBodyWeight, Sourced};
    use proptest::prelude::*;
    use toml::Spanned;

    fn policy<T>(v: T) -> Sourced<T> {
        Sourced {
            value: Spanned::new(0..0, v),
            source: Spanned::new(0..0, "clinic policy".to_owned()),
        }
    }

    /// Esketamine as clinical.md §2.1–2.2 gives it: 56 or 84 mg in 28 mg devices, 5 minutes
    /// apart ([S28], [S34], [S35]).
    fn esketamine() -> DoseRule {
        DoseRule::Fixed {
            first_mg: policy(56),
            min_mg: policy(56),
            max_mg: policy(84),
            step_mg: policy(28),
            unit_mg: Some(policy(28)),
            minutes_between_units: Some(policy(5)),
        }
    }

    /// IM ketamine as the trial in clinical.md §4.3 gives it: 0.5–0.75 mg/kg, at most 60 mg
    /// ([S85]). The ideal-body-weight numbers are the Devine formula, as a test fixture only.
    fn im(ibw: bool) -> DoseRule {
        DoseRule::PerKg {
            mg_per_kg: policy(0.5),
            min_mg_per_kg: policy(0.5),
            max_mg_per_kg: policy(0.75),
            max_mg: Some(policy(60.0)),
            round_to_mg: policy(0.5),
            ideal_body_weight: ibw.then(|| IdealBodyWeight {
                above_bmi: policy(30.0),
                base_kg_male: policy(50.0),
                base_kg_female: policy(45.5),
                base_height_cm: policy(152.4),
                kg_per_cm: policy(0.9),
            }),
            infusion_minutes: None,
        }
    }

    #[test]
    fn esketamine_allows_56_or_84_mg_only() {
        let r = esketamine();
        assert_eq!(r.allowed_fixed(), vec![56, 84]);
        assert_eq!(r.check_planned(PlannedDose::Fixed { mg: 84 }), Ok(()));
        assert_eq!(
            r.check_planned(PlannedDose::Fixed { mg: 70 }),
            Err("70 mg is not a dose this protocol allows. Choose 56 or 84 mg.".to_owned())
        );
        assert!(
            r.check_planned(PlannedDose::PerKg { ug_per_kg: 500 })
                .is_err_and(|e| e.contains("fixed doses") && e.contains("56 or 84 mg"))
        );
    }

    #[test]
    fn weight_based_dose_must_be_within_the_range() {
        let r = im(false);
        assert!(r.allowed_fixed().is_empty());
        assert_eq!(
            r.check_planned(PlannedDose::PerKg { ug_per_kg: 750 }),
            Ok(())
        );
        assert_eq!(
            r.check_planned(PlannedDose::PerKg { ug_per_kg: 900 }),
            Err(
                "0.9 mg/kg is outside this protocol's range. Between 0.5 and 0.75 mg/kg."
                    .to_owned()
            )
        );
        assert!(
            r.check_planned(PlannedDose::Fixed { mg: 40 })
                .is_err_and(|e| e.contains("Between 0.5 and 0.75 mg/kg."))
        );
    }

    #[test]
    fn esketamine_dose_is_counted_in_devices() {
        let c = esketamine()
            .calculate_named(
                PlannedDose::Fixed { mg: 84 },
                80.0,
                None,
                Sex::Female,
                ("device", "devices"),
            )
            .unwrap();
        assert_eq!(c.mg, 84.0);
        assert_eq!(c.dosing_weight_kg, None);
        assert!(c.steps.contains(&"84 mg = 3 devices of 28 mg".to_owned()));
        assert!(c.steps.contains(&"5 minutes between devices".to_owned()));
    }

    #[test]
    fn above_bmi_30_the_ideal_body_weight_is_used() {
        // 108.4 kg, 178 cm: BMI 34.2. Devine male: 50 + 0.9 × (178 − 152.4) = 73.04 kg.
        let c = im(true)
            .calculate(
                PlannedDose::PerKg { ug_per_kg: 500 },
                108.4,
                Some(178.0),
                Sex::Male,
            )
            .unwrap();
        assert!(c.ideal_body_weight_used);
        assert_eq!(
            c.steps,
            vec![
                "BMI 34.2 is above 30, so the ideal body weight is used: 50 + 0.9 × (178 − 152.4) = 73.0 kg",
                "0.5 mg/kg × 73.0 kg = 36.52 mg",
                "rounded to the nearest 0.5 mg: 36.5 mg",
            ]
        );
        assert_eq!(c.mg, 36.5);
    }

    #[test]
    fn the_cap_applies_after_rounding() {
        let c = im(false)
            .calculate(
                PlannedDose::PerKg { ug_per_kg: 750 },
                100.0,
                None,
                Sex::Female,
            )
            .unwrap();
        assert_eq!(c.mg, 60.0);
        assert_eq!(
            c.steps.last().map(String::as_str),
            Some("capped at the protocol maximum 60 mg")
        );
    }

    #[test]
    fn unknown_sex_uses_the_lower_female_base_and_says_so() {
        let c = im(true)
            .calculate(
                PlannedDose::PerKg { ug_per_kg: 500 },
                100.0,
                Some(170.0),
                Sex::Unknown,
            )
            .unwrap();
        assert!(c.steps[0].contains("female"));
        // 45.5 + 0.9 × 17.6 = 61.34 kg
        assert!((c.dosing_weight_kg.unwrap() - 61.34).abs() < 1e-9);
    }

    #[test]
    fn ideal_body_weight_needs_the_height() {
        let e = im(true)
            .calculate(
                PlannedDose::PerKg { ug_per_kg: 500 },
                100.0,
                None,
                Sex::Male,
            )
            .unwrap_err();
        assert!(e.contains("enter the height"));
        // Without an ideal-body-weight rule, no height is needed.
        assert!(
            im(false)
                .calculate(
                    PlannedDose::PerKg { ug_per_kg: 500 },
                    100.0,
                    None,
                    Sex::Male
                )
                .is_ok()
        );
        assert!(
            im(false)
                .calculate(PlannedDose::PerKg { ug_per_kg: 500 }, 0.0, None, Sex::Male)
                .is_err()
        );
    }

    #[test]
    fn rounding_never_goes_above_the_mg_per_kg_maximum() {
        // 0.75 mg/kg × 41 kg = 30.75 mg, which rounds to 31 mg at whole mg: above 0.75 mg/kg.
        let r = DoseRule::PerKg {
            mg_per_kg: policy(0.5),
            min_mg_per_kg: policy(0.5),
            max_mg_per_kg: policy(0.75),
            max_mg: None,
            round_to_mg: policy(1.0),
            ideal_body_weight: None,
            infusion_minutes: None,
        };
        let c = r
            .calculate(PlannedDose::PerKg { ug_per_kg: 750 }, 41.0, None, Sex::Male)
            .unwrap();
        assert_eq!(c.mg, 30.0);
    }

    fn sex() -> impl Strategy<Value = Sex> {
        prop::sample::select(Sex::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn a_weight_based_dose_never_exceeds_the_mg_cap(
            lo in 100u32..1000, span in 0u32..1000, pick in 0.0f64..=1.0,
            cap in 1.0f64..200.0, round in prop::sample::select(vec![0.1, 0.5, 1.0, 2.5, 5.0]),
            weight in 1.0f64..300.0, height in prop::option::of(100.0f64..220.0),
            ibw in any::<bool>(), sex in sex(),
        ) {
            let ug = lo + (f64::from(span) * pick) as u32;
            let r = DoseRule::PerKg {
                mg_per_kg: policy(f64::from(lo) / 1000.0),
                min_mg_per_kg: policy(f64::from(lo) / 1000.0),
                max_mg_per_kg: policy(f64::from(lo + span) / 1000.0),
                max_mg: Some(policy(cap)),
                round_to_mg: policy(round),
                ideal_body_weight: ibw.then(|| IdealBodyWeight {
                    above_bmi: policy(30.0),
                    base_kg_male: policy(50.0),
                    base_kg_female: policy(45.5),
                    base_height_cm: policy(152.4),
                    kg_per_cm: policy(0.9),
                }),
                infusion_minutes: None,
            };
            if let Ok(c) = r.calculate(PlannedDose::PerKg { ug_per_kg: ug }, weight, height, sex) {
                prop_assert!(c.mg <= cap, "{} > {cap}", c.mg);
                prop_assert!(c.mg > 0.0);
            }
        }

        #[test]
        fn an_accepted_fixed_dose_is_whole_units(
            min in 0u32..500, span in 0u32..500, step in 0u32..100,
            unit in prop::option::of(0u32..60), mg in 0u32..1100,
        ) {
            let r = DoseRule::Fixed {
                first_mg: policy(min),
                min_mg: policy(min),
                max_mg: policy(min + span),
                step_mg: policy(step),
                unit_mg: unit.map(policy),
                minutes_between_units: None,
            };
            if r.check_planned(PlannedDose::Fixed { mg }).is_ok() {
                prop_assert!(mg >= min && mg <= min + span);
                if let Some(u) = unit {
                    prop_assert!(u > 0 && mg % u == 0, "{mg} mg in units of {u}");
                }
            }
        }
    }
}
