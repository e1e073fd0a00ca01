//! A patient's record as the registry keeps it, and weight and height with the BMI they give.

use super::PatientDetails;
use crate::person::{DateOfBirth, Email, Height, PersonName, Phone, Weight};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A registered patient of one clinic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    pub id: Uuid,
    pub details: PatientDetails,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line of a search result or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientSummary {
    pub id: Uuid,
    pub full_name: PersonName,
    pub date_of_birth: DateOfBirth,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
}

/// A weight and/or height measurement as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyMeasurementRecord {
    pub id: Uuid,
    pub measured_at: DateTime<Utc>,
    pub weight: Option<Weight>,
    pub height: Option<Height>,
    pub recorded_by_name: Option<String>,
}

/// Body-mass index in tenths of kg/m², truncated (BMI = kg / m²), computed in integers:
/// g · 10⁶ / mm² is kg/m² × 1000.
pub fn bmi_tenths(weight: Weight, height: Height) -> i64 {
    let h = i64::from(height.mm());
    i64::from(weight.grams()) * 1_000_000 / (h * h) / 100
}

/// Each measurement's BMI, newest first as given: a weight is paired with the latest height
/// recorded at or before it (heights change rarely and are often measured once).
pub fn bmi_series(newest_first: &[BodyMeasurementRecord]) -> Vec<Option<i64>> {
    newest_first
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let height = newest_first[i..].iter().find_map(|x| x.height);
            Some(bmi_tenths(m.weight?, height?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(weight_g: Option<i32>, height_mm: Option<i32>) -> BodyMeasurementRecord {
        BodyMeasurementRecord {
            id: Uuid::nil(),
            measured_at: DateTime::UNIX_EPOCH,
            weight: weight_g.and_then(|g| Weight::from_grams(g).ok()),
            height: height_mm.and_then(|h| Height::from_mm(h).ok()),
            recorded_by_name: None,
        }
    }

    #[test]
    fn bmi_is_kilograms_over_metres_squared_truncated_to_a_tenth() {
        let w = Weight::from_grams(72_500).unwrap_or_else(|_| unreachable!());
        let h = Height::from_mm(1_800).unwrap_or_else(|_| unreachable!());
        // 72.5 / 1.8² = 22.376…
        assert_eq!(bmi_tenths(w, h), 223);
    }

    #[test]
    fn a_weight_uses_the_latest_height_at_or_before_it() {
        let series = [
            m(Some(80_000), None),
            m(Some(72_500), Some(1_800)),
            m(None, Some(1_700)),
        ];
        assert_eq!(bmi_series(&series), vec![Some(246), Some(223), None]);
        assert_eq!(bmi_series(&[m(Some(80_000), None)]), vec![None]);
    }
}
