//! The demo's patients: demographics, emergency contacts, and weight and height over a few
//! visits — generated as forms and parsed, so demo data obeys the same rules as real input.

use super::{FIRST, LAST, Rng};
use chrono::{Duration, NaiveDate, Utc};
use kap_domain::patient::{MeasurementForm, PatientForm};
use kap_store::patient::ImportedPatient;

pub fn patient(rng: &mut Rng, i: usize, today: NaiveDate) -> ImportedPatient {
    let first = rng.pick(FIRST);
    let last = rng.pick(LAST);
    let born = today - Duration::days(365 * 19 + rng.below(365 * 55) as i64);
    let form = PatientForm {
        full_name: format!("{first} {last}"),
        date_of_birth: born.format("%Y-%m-%d").to_string(),
        sex: ["female", "male", "female", "male", "other", "unknown"][rng.below(6) as usize].into(),
        email: format!(
            "{}.{}{i}@example.org",
            first.to_lowercase(),
            last.to_lowercase()
        ),
        phone: format!("+1 555 01{:02} {:04}", rng.below(100), rng.below(10000)),
        preferred_contact: ["email", "phone", "either"][rng.below(3) as usize].into(),
        address: format!("{} Demo Street, Springfield", rng.below(900) + 1),
        emergency_name: if rng.below(10) < 8 {
            format!("{} {last}", rng.pick(FIRST))
        } else {
            String::new()
        },
        emergency_phone: String::new(),
        emergency_relationship: ["Partner", "Parent", "Sibling", "Friend"][rng.below(4) as usize]
            .into(),
    };
    let form = if form.emergency_name.is_empty() {
        PatientForm {
            emergency_relationship: String::new(),
            ..form
        }
    } else {
        PatientForm {
            emergency_phone: format!("+1 555 01{:02} {:04}", rng.below(100), rng.below(10000)),
            ..form
        }
    };
    // Parsing the generated form keeps demo data to the same rules as real input.
    let details = form.parse(today).unwrap_or_else(|_| {
        PatientForm {
            full_name: "Demo Patient".into(),
            date_of_birth: "1980-01-01".into(),
            ..Default::default()
        }
        .parse(today)
        .unwrap_or_else(|e| unreachable!("fallback demo patient is valid: {e}"))
    });
    let height_cm = 150 + rng.below(45);
    let mut weight_g = 50_000 + rng.below(60_000) as i64;
    let visits = 1 + rng.below(3);
    let measurements = (0..visits)
        .filter_map(|v| {
            let at = Utc::now() - Duration::days(((visits - v) * 30 + rng.below(20)) as i64);
            weight_g += rng.below(3000) as i64 - 1500;
            let m = MeasurementForm {
                weight_kg: format!("{}.{}", weight_g / 1000, (weight_g % 1000) / 100),
                height_cm: if v == 0 {
                    height_cm.to_string()
                } else {
                    String::new()
                },
            };
            m.parse().ok().map(|m| (kap_store::now().min(at), m))
        })
        .collect();
    ImportedPatient {
        details,
        measurements,
    }
}
