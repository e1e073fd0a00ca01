//! The demo clinic: a believable clinic to click through — staff of every role, synthetic
//! patients with weight and height histories, inquiries in every state, questionnaire
//! histories with acknowledged alerts, screenings at every stage, courses with their dosing
//! sessions. Each capability seeds its own part (one module each).
//! Every name, phone number and address is fictional (555-01xx numbers, example.org addresses).

mod checkin;
mod consent;
mod course;
mod dosing;
mod inquiries;
mod measure;
mod notes;
mod patients;
mod screening;
mod team;

use anyhow::Result;
use chrono::Utc;
use kap_domain::Role;
use kap_domain::audit::Actor;
use kap_store::Store;
use kap_store::staff::NewStaff;

pub(crate) const FIRST: &[&str] = &[
    "Avery",
    "Jordan",
    "Maya",
    "Noah",
    "Priya",
    "Mateo",
    "Leah",
    "Omar",
    "Grace",
    "Hiro",
    "Zoe",
    "Caleb",
    "Amara",
    "Luca",
    "Nadia",
    "Ethan",
    "Sofia",
    "Kofi",
    "Ingrid",
    "Diego",
    "Mei",
    "Samir",
    "Hannah",
    "Tomas",
    "Aisha",
    "Felix",
    "Rosa",
    "Ivan",
    "Chloe",
    "Malik",
    "Zoë",
    "Søren",
    "José",
    "Łucja",
    "Thị Lan",
];
pub(crate) const LAST: &[&str] = &[
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
    "Nguyễn",
    "Ødegård",
    "Müller",
    "García-Núñez",
];
const WORDS: &[&str] = &[
    "maple", "harbor", "violet", "ember", "cobalt", "meadow", "lantern", "quartz", "willow",
    "summit", "breeze", "cedar", "pebble", "orchid", "falcon", "tundra", "saffron", "glacier",
];

/// A small, fast, seedable generator: demo data needs variety, not cryptographic randomness.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub(crate) fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
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
    let phone = kap_domain::person::Phone::parse("+1 555 0100 4000")?;
    let details = kap_store::clinic::ClinicDetails {
        name: "Riverside KAP Clinic (demo)",
        crisis_resources: &clinic.crisis_resources,
        phone: Some(&phone),
        time_zone: Some(kap_domain::time::TimeZone::parse("America/New_York")?),
    };
    store.update_clinic(&system, clinic.id, &details).await?;
    let password = format!(
        "{}-{}-{}-{}",
        rng.pick(WORDS),
        rng.pick(WORDS),
        rng.pick(WORDS),
        rng.below(9000) + 1000
    );
    let hash = kap_web::http::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
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
            "trainee@demo.kapstone.test",
            "Tess Trainee",
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
    let mut nurse = None;
    let mut admin = None;
    let mut therapist = None;
    let mut trainee = None;
    for (email, name, role) in staff {
        let new = NewStaff {
            email,
            full_name: name,
            password_hash: &hash,
            clinic_id: clinic.id,
            role,
        };
        let id = store.create_staff(&system, new).await?;
        if role == Role::Coordinator {
            coordinator = Some(id);
        }
        if role == Role::Prescriber {
            prescriber = Some(id);
        }
        if role == Role::Nurse {
            nurse = Some(id);
        }
        if role == Role::Admin {
            admin = Some(id);
        }
        // The first therapist treats; the trainee writes notes under their supervision.
        if role == Role::Therapist {
            if therapist.is_none() {
                therapist = Some(id);
            } else {
                trainee = Some(id);
            }
        }
        accounts.push((email.to_owned(), role));
    }
    let importer = system.clone();

    let today = Utc::now().date_naive();
    let started = std::time::Instant::now();
    let mut batch = Vec::with_capacity(1000);
    let mut ids = Vec::with_capacity(patients);
    for i in 0..patients {
        batch.push(patients::patient(&mut rng, i, today));
        if batch.len() == 1000 || i + 1 == patients {
            ids.extend(store.import_patients(&importer, clinic.id, &batch).await?);
            batch.clear();
        }
    }
    let histories = measure::seed(store, &mut rng, clinic.id, &ids, prescriber).await?;
    let inquiries = inquiries::seed(store, &mut rng, clinic.id, coordinator, patients / 3).await?;
    let screened = screening::seed(store, clinic.id, &ids, nurse, prescriber).await?;
    let screenings = screened.made;
    let consents = consent::seed(store, clinic.id, &screened, nurse).await?;
    let tz = details.time_zone.unwrap_or(kap_domain::time::TimeZone::UTC);
    let course_staff = course::CourseStaff {
        admin,
        prescriber,
        nurse,
        therapist,
        trainee,
    };
    let courses = course::seed(store, clinic.id, &ids, &course_staff, tz).await?;
    let sessions = dosing::seed(
        store,
        &mut rng,
        clinic.id,
        &courses.to_dose,
        &course_staff,
        tz,
    )
    .await?;
    let notes = notes::seed(store, &mut rng, clinic.id, &ids, &course_staff, tz).await?;
    let checkins = checkin::seed(store, &mut rng, clinic.id, &ids, &course_staff, tz).await?;
    let team = team::seed(store, &mut rng, clinic.id, &ids, &course_staff, tz).await?;
    let courses = courses.courses;
    store.db.analyze().await?;
    tracing::info!(
        patients,
        inquiries,
        histories,
        screenings,
        consents,
        courses,
        sessions,
        notes,
        checkins,
        team,
        seconds = started.elapsed().as_secs_f64(),
        "demo data created"
    );
    Ok(DemoLogins { password, accounts })
}
