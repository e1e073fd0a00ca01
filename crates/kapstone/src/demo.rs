//! `kapstone demo`: a believable clinic to click through — staff of every role, synthetic
//! patients with weight and height histories, and inquiries in every state. Every name, phone
//! number and address is fictional (555-01xx numbers, example.org addresses).

use anyhow::Result;
use chrono::{Duration, NaiveDate, Utc};
use kap_domain::Role;
use kap_domain::inquiry::{ContactForm, InquiryStatus};
use kap_domain::patient::{MeasurementForm, PatientForm};
use kap_store::patient::ImportedPatient;
use kap_store::{Actor, Store};

const FIRST: &[&str] = &[
    "Avery", "Jordan", "Maya", "Noah", "Priya", "Mateo", "Leah", "Omar", "Grace", "Hiro", "Zoe",
    "Caleb", "Amara", "Luca", "Nadia", "Ethan", "Sofia", "Kofi", "Ingrid", "Diego", "Mei", "Samir",
    "Hannah", "Tomas", "Aisha", "Felix", "Rosa", "Ivan", "Chloe", "Malik",
];
const LAST: &[&str] = &[
    "Rivera",
    "Chen",
    "Okafor",
    "Schmidt",
    "Patel",
    "Novak",
    "Haddad",
    "Kim",
    "Lindqvist",
    "Moreau",
    "Santos",
    "Nguyen",
    "Brennan",
    "Kowalski",
    "Ferreira",
    "Adeyemi",
    "Tanaka",
    "Larsen",
    "Ibrahim",
    "Costa",
    "Walsh",
    "Yilmaz",
    "Mendez",
    "Fischer",
    "Osei",
];
const WORDS: &[&str] = &[
    "maple", "harbor", "violet", "ember", "cobalt", "meadow", "lantern", "quartz", "willow",
    "summit", "breeze", "cedar", "pebble", "orchid", "falcon", "tundra", "saffron", "glacier",
];
const MESSAGES: &[&str] = &[
    "My psychiatrist suggested ketamine after three antidepressants did not help. Could we talk about whether I qualify?",
    "I have been depressed for years and would like to learn more about ketamine-assisted therapy.",
    "Do you accept referrals from primary care? My doctor mentioned your program.",
    "I am interested in the esketamine nasal spray. What does the first appointment look like?",
    "Looking for information about costs and how many sessions are usual.",
];

/// A small, fast, seedable generator: demo data needs variety, not cryptographic randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

pub struct DemoLogins {
    pub password: String,
    pub accounts: Vec<(String, Role)>,
}

pub async fn seed(store: &Store, patients: usize) -> Result<DemoLogins> {
    let seed = u64::from_str_radix(&kap_store::random_hex(8), 16).unwrap_or(0x9E37_79B9) | 1;
    let mut rng = Rng(seed);
    let clinic = store.default_clinic().await?;
    let system = Actor::system();
    store
        .update_clinic(
            &system,
            clinic.id,
            "Riverside KAP Clinic (demo)",
            &clinic.crisis_resources,
        )
        .await?;
    let password = format!(
        "{}-{}-{}-{}",
        rng.pick(WORDS),
        rng.pick(WORDS),
        rng.pick(WORDS),
        rng.below(9000) + 1000
    );
    let hash = kap_web::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
    let staff = [
        ("admin@demo.kapstone.test", "Ada Admin", Role::Admin),
        (
            "prescriber@demo.kapstone.test",
            "Priya Prescriber",
            Role::Prescriber,
        ),
        ("nurse@demo.kapstone.test", "Nina Nurse", Role::Nurse),
        (
            "therapist@demo.kapstone.test",
            "Theo Therapist",
            Role::Therapist,
        ),
        (
            "coordinator@demo.kapstone.test",
            "Cora Coordinator",
            Role::Coordinator,
        ),
    ];
    let mut accounts = vec![];
    let mut coordinator = None;
    let mut prescriber = None;
    for (email, name, role) in staff {
        let id = match store.staff_login(email).await? {
            Some(existing) => {
                store.set_password(existing.id, &hash).await?;
                existing.id
            }
            None => {
                store
                    .create_staff(&system, email, name, &hash, clinic.id, role)
                    .await?
            }
        };
        if role == Role::Coordinator {
            coordinator = Some(id);
        }
        if role == Role::Prescriber {
            prescriber = Some(id);
        }
        accounts.push((email.to_owned(), role));
    }
    let importer = system.clone();

    let today = Utc::now().date_naive();
    let started = std::time::Instant::now();
    let mut batch = Vec::with_capacity(1000);
    let mut ids = Vec::with_capacity(patients);
    for i in 0..patients {
        batch.push(patient(&mut rng, i, today));
        if batch.len() == 1000 || i + 1 == patients {
            ids.extend(store.import_patients(&importer, clinic.id, &batch).await?);
            batch.clear();
        }
    }
    let histories = questionnaire_histories(store, &mut rng, clinic.id, &ids, prescriber).await?;
    let inquiries = (patients / 3).clamp(5, 2000);
    let coord = Actor {
        staff_id: coordinator,
        kind: "system",
        clinic_id: Some(clinic.id),
        address: None,
    };
    for i in 0..inquiries {
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        let form = ContactForm {
            name: format!("{first} {last}"),
            email: format!(
                "{}.{}{i}@example.org",
                first.to_lowercase(),
                last.to_lowercase()
            ),
            phone: format!("+1 555 01{:02} {:04}", rng.below(100), rng.below(10000)),
            preferred_contact: ["email", "phone", "either"][rng.below(3) as usize].into(),
            message: rng.pick(MESSAGES).into(),
            consent: Some("yes".into()),
        };
        let Ok(sub) = form.parse() else { continue };
        let id = store
            .submit_inquiry(&Actor::visitor(clinic.id, None), clinic.id, &sub)
            .await?;
        let status = match rng.below(10) {
            0..=4 => InquiryStatus::New,
            5..=7 => InquiryStatus::Contacted,
            _ => InquiryStatus::Closed,
        };
        if status != InquiryStatus::New {
            let note = (status == InquiryStatus::Contacted)
                .then_some("Called back; screening visit offered.");
            store
                .update_inquiry(&coord, clinic.id, id, status, note)
                .await?;
        }
    }
    tracing::info!(
        patients,
        inquiries,
        histories,
        seconds = started.elapsed().as_secs_f64(),
        "demo data created"
    );
    Ok(DemoLogins { password, accounts })
}

fn patient(rng: &mut Rng, i: usize, today: NaiveDate) -> ImportedPatient {
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

/// PHQ-9 histories for the first patients: most improve over a course, some stay flat, a few
/// worsen; every 25th patient answered item 9 above 0 once, and that alert was acknowledged.
async fn questionnaire_histories(
    store: &Store,
    rng: &mut Rng,
    clinic: uuid::Uuid,
    patients: &[uuid::Uuid],
    prescriber: Option<uuid::Uuid>,
) -> Result<usize> {
    use kap_domain::instruments::{self, Answers, ResponseContext, score};
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
        kind: "staff",
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
                .record_response_at(
                    &system,
                    clinic,
                    *pid,
                    phq9,
                    context,
                    "patient_link",
                    &answers,
                    &scored,
                    None,
                    at,
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
                    .record_response_at(
                        &system,
                        clinic,
                        *pid,
                        gad7,
                        ResponseContext::Baseline,
                        "patient_link",
                        &answers,
                        &scored,
                        None,
                        at,
                    )
                    .await?;
                made += 1;
            }
        }
    }
    Ok(made)
}
