//! The demo's questionnaire histories: PHQ-9 courses that improve, stay flat or worsen, GAD-7
//! baselines, PHQ-2 screens, an acknowledged item-9 alert now and then, and one PHQ-9 sent with
//! item 9 skipped whose alert is still open on the home page.

use super::Rng;
use anyhow::Result;
use chrono::{Duration, Utc};
use kap_domain::audit::{Actor, ActorKind};
use kap_domain::instruments::{self, Answers, ResponseContext, score};
use kap_domain::measure::ResponseSource;
use kap_store::Store;
use kap_store::measure::response::NewResponse;
use uuid::Uuid;

/// PHQ-9 histories for the first patients: most improve over a course, some stay flat, a few
/// worsen; every 25th patient answered item 9 above 0 once, and that alert was acknowledged.
pub async fn seed(
    store: &Store,
    rng: &mut Rng,
    clinic: Uuid,
    patients: &[Uuid],
    prescriber: Option<Uuid>,
) -> Result<usize> {
    let Some(phq9) = instruments::by_code("phq9") else {
        return Ok(0);
    };
    let Some(gad7) = instruments::by_code("gad7") else {
        return Ok(0);
    };
    let system = Actor {
        clinic_id: Some(clinic),
        ..Actor::system()
    };
    let clinician = Actor {
        staff_id: prescriber,
        kind: ActorKind::Staff,
        clinic_id: Some(clinic),
        address: None,
    };
    // Spread a total over items of 0–3, keeping item 9 as given.
    fn spread(rng: &mut Rng, total: i32, items: usize, item9: Option<i32>) -> Answers {
        let mut vals = vec![0i32; items];
        let fixed = item9.map_or(items, |_| items - 1);
        let mut left = (total - item9.unwrap_or(0)).clamp(0, 3 * fixed as i32);
        while left > 0 {
            let i = rng.below(fixed as u64) as usize;
            if vals[i] < 3 {
                vals[i] += 1;
                left -= 1;
            }
        }
        if let Some(v) = item9 {
            vals[items - 1] = v;
        }
        vals.iter()
            .enumerate()
            .map(|(i, v)| ((i + 1).to_string(), *v))
            .collect()
    }
    let mut made = 0;
    // A patient who skipped the risk question and sent the PHQ-9 as it was: the alert waits for
    // a clinician on the home page.
    if let Some(pid) = patients.get(1) {
        let mut answers = spread(rng, 14, 9, Some(0));
        answers.remove("9");
        answers.insert("difficulty".into(), 1);
        if let Ok(scored) = score(phq9, &answers) {
            store
                .record_response(
                    &system,
                    NewResponse {
                        clinic_id: clinic,
                        patient_id: *pid,
                        instrument: phq9,
                        context: ResponseContext::BetweenSessions,
                        source: ResponseSource::PatientLink,
                        answers: &answers,
                        scored: &scored,
                        link: None,
                        answered_at: kap_store::now() - Duration::hours(3),
                    },
                )
                .await?;
            made += 1;
        }
    }
    // PHQ-2 screens at first contact, positive from a total of 3 (Kroenke 2003).
    if let Some(phq2) = instruments::by_code("phq2") {
        for pid in patients.iter().skip(120).take(40) {
            let total = rng.below(7) as i32;
            let answers = spread(rng, total, 2, None);
            if let Ok(scored) = score(phq2, &answers) {
                store
                    .record_response(
                        &system,
                        NewResponse {
                            clinic_id: clinic,
                            patient_id: *pid,
                            instrument: phq2,
                            context: ResponseContext::Baseline,
                            source: ResponseSource::PatientLink,
                            answers: &answers,
                            scored: &scored,
                            link: None,
                            answered_at: kap_store::now() - Duration::days(rng.below(30) as i64),
                        },
                    )
                    .await?;
                made += 1;
            }
        }
    }
    for (n, pid) in patients.iter().take(120).enumerate() {
        let visits = 3 + rng.below(4) as i64;
        let baseline = 12 + rng.below(13) as i32;
        let course = rng.below(10);
        for v in 0..visits {
            let progress = v as i32;
            let total = match course {
                0..=5 => baseline - progress * (3 + rng.below(3) as i32),
                6..=8 => baseline + rng.below(5) as i32 - 2,
                _ => baseline + progress * 2,
            }
            .clamp(0, 26);
            let item9 = (n % 25 == 0 && v == 1).then_some(1);
            let mut answers = spread(rng, total, 9, item9.or(Some(0)));
            answers.insert("difficulty".into(), (total / 8).min(3));
            let Ok(scored) = score(phq9, &answers) else {
                continue;
            };
            let at = Utc::now() - Duration::days((visits - v) * 14 + rng.below(4) as i64);
            let context = if v == 0 {
                ResponseContext::Baseline
            } else {
                ResponseContext::BetweenSessions
            };
            let rec = store
                .record_response(
                    &system,
                    NewResponse {
                        clinic_id: clinic,
                        patient_id: *pid,
                        instrument: phq9,
                        context,
                        source: ResponseSource::PatientLink,
                        answers: &answers,
                        scored: &scored,
                        link: None,
                        answered_at: kap_store::now().min(at),
                    },
                )
                .await?;
            for alert in rec.alerts {
                store
                    .acknowledge_alert(&clinician, clinic, alert, "Called the patient the same day; no current intent; safety plan reviewed and shared.")
                    .await?;
            }
            made += 1;
        }
        if n % 3 == 0 {
            let gad_total = 6 + rng.below(12) as i32;
            let answers = spread(rng, gad_total, 7, None);
            if let Ok(scored) = score(gad7, &answers) {
                let at = Utc::now() - Duration::days(visits * 14);
                store
                    .record_response(
                        &system,
                        NewResponse {
                            clinic_id: clinic,
                            patient_id: *pid,
                            instrument: gad7,
                            context: ResponseContext::Baseline,
                            source: ResponseSource::PatientLink,
                            answers: &answers,
                            scored: &scored,
                            link: None,
                            answered_at: kap_store::now().min(at),
                        },
                    )
                    .await?;
                made += 1;
            }
        }
    }
    Ok(made)
}
