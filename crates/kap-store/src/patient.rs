//! The patient registry: demographics, contacts, emergency contact, weight and height history,
//! and keyset-paged search — every read and write audited, every query scoped to one clinic.

use crate::audited::Audited;
use crate::db::{Db, Tx, exec, fetch_all, fetch_opt, on};
use crate::error::{Result, StoreError, code, field, opt_field};
use crate::{Store, new_id, now};
use chrono::{DateTime, NaiveDate, Utc};
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::patient::{
    BodyMeasurement, BodyMeasurementRecord, EmergencyContact, Patient, PatientDetails,
    PatientQuery, PatientSummary, SameAs, name_key, same_as, search_text,
};
use kap_domain::person::{DateOfBirth, Email, Height, PersonName, Phone, ShortText, Weight};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct PatientRow {
    id: Uuid,
    full_name: String,
    date_of_birth: NaiveDate,
    sex: String,
    email: Option<String>,
    phone: Option<String>,
    preferred_contact: String,
    address: Option<String>,
    emergency_name: Option<String>,
    emergency_phone: Option<String>,
    emergency_relationship: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const R: &str = "patient";

impl TryFrom<PatientRow> for Patient {
    type Error = StoreError;
    fn try_from(r: PatientRow) -> Result<Patient> {
        let id = r.id;
        let emergency_contact = match (&r.emergency_name, &r.emergency_phone) {
            (Some(n), Some(p)) => Some(EmergencyContact {
                name: field(R, id, "emergency_name", PersonName::parse(n))?,
                phone: field(R, id, "emergency_phone", Phone::parse(p))?,
                relationship: opt_field(
                    R,
                    id,
                    "emergency_relationship",
                    r.emergency_relationship.as_deref(),
                    ShortText::parse,
                )?,
            }),
            _ => None,
        };
        Ok(Patient {
            id,
            details: PatientDetails {
                full_name: field(R, id, "full_name", PersonName::parse(&r.full_name))?,
                date_of_birth: field(R, id, "date_of_birth", DateOfBirth::stored(r.date_of_birth))?,
                sex: code(R, id, "sex", &r.sex)?,
                email: opt_field(R, id, "email", r.email.as_deref(), Email::parse)?,
                phone: opt_field(R, id, "phone", r.phone.as_deref(), Phone::parse)?,
                preferred_contact: code(R, id, "preferred_contact", &r.preferred_contact)?,
                address: opt_field(R, id, "address", r.address.as_deref(), ShortText::parse)?,
                emergency_contact,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: Uuid,
    full_name: String,
    date_of_birth: NaiveDate,
    email: Option<String>,
    phone: Option<String>,
}

impl TryFrom<SummaryRow> for PatientSummary {
    type Error = StoreError;
    fn try_from(r: SummaryRow) -> Result<PatientSummary> {
        let id = r.id;
        Ok(PatientSummary {
            id,
            full_name: field(R, id, "full_name", PersonName::parse(&r.full_name))?,
            date_of_birth: field(R, id, "date_of_birth", DateOfBirth::stored(r.date_of_birth))?,
            email: opt_field(R, id, "email", r.email.as_deref(), Email::parse)?,
            phone: opt_field(R, id, "phone", r.phone.as_deref(), Phone::parse)?,
        })
    }
}

fn summaries(rows: Vec<SummaryRow>) -> Result<Vec<PatientSummary>> {
    rows.into_iter().map(PatientSummary::try_from).collect()
}

#[derive(sqlx::FromRow)]
struct MeasurementRow {
    id: Uuid,
    measured_at: DateTime<Utc>,
    weight_g: Option<i32>,
    height_mm: Option<i32>,
    recorded_by_name: Option<String>,
}

impl TryFrom<MeasurementRow> for BodyMeasurementRecord {
    type Error = StoreError;
    fn try_from(r: MeasurementRow) -> Result<BodyMeasurementRecord> {
        let id = r.id;
        let m = "body measurement";
        Ok(BodyMeasurementRecord {
            id,
            measured_at: r.measured_at,
            weight: r
                .weight_g
                .map(|g| field(m, id, "weight_g", Weight::from_grams(g)))
                .transpose()?,
            height: r
                .height_mm
                .map(|h| field(m, id, "height_mm", Height::from_mm(h)))
                .transpose()?,
            recorded_by_name: r.recorded_by_name,
        })
    }
}

const COLS: &str = "id, full_name, date_of_birth, sex, email, phone, preferred_contact, address,
    emergency_name, emergency_phone, emergency_relationship, created_at, updated_at";

fn s<T: ToString>(o: &Option<T>) -> Option<String> {
    o.as_ref().map(ToString::to_string)
}

/// Inserts or updates the registry columns of a patient (`id` new for an insert).
async fn write_details(
    tx: &mut Tx,
    insert: Option<(Uuid, Option<Uuid>)>,
    clinic_id: Uuid,
    id: Uuid,
    d: &PatientDetails,
) -> Result<u64> {
    let ec = d.emergency_contact.as_ref();
    let sql = if insert.is_some() {
        "INSERT INTO patient (full_name, name_key, date_of_birth, sex, email, phone, phone_digits,
            preferred_contact, address, emergency_name, emergency_phone, emergency_relationship,
            updated_at, id, clinic_id, created_at, created_by, search_text)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$13,$16,$17)"
    } else {
        "UPDATE patient SET full_name = $1, name_key = $2, date_of_birth = $3, sex = $4,
            email = $5, phone = $6, phone_digits = $7, preferred_contact = $8, address = $9,
            emergency_name = $10, emergency_phone = $11, emergency_relationship = $12,
            updated_at = $13, search_text = $17
         WHERE id = $14 AND clinic_id = $15 AND $16 IS NULL"
    };
    Ok(exec!(
        tx(tx),
        sql,
        d.full_name.as_str(),
        name_key(&d.full_name),
        d.date_of_birth.date(),
        d.sex.as_str(),
        s(&d.email),
        s(&d.phone),
        d.phone.as_ref().map(Phone::digits),
        d.preferred_contact.as_str(),
        s(&d.address),
        ec.map(|e| e.name.to_string()),
        ec.map(|e| e.phone.to_string()),
        ec.and_then(|e| s(&e.relationship)),
        now(),
        id,
        clinic_id,
        insert.and_then(|(_, by)| by),
        search_text(d)
    ))
}

/// Registers a patient inside an audited transaction; the caller records the audit row.
pub(crate) async fn insert_patient(
    a: &mut Audited,
    clinic_id: Uuid,
    d: &PatientDetails,
) -> Result<Uuid> {
    let id = new_id();
    let by = a.actor().staff_id;
    write_details(a.tx(), Some((id, by)), clinic_id, id, d).await?;
    Ok(id)
}

/// The patient, if they belong to the clinic.
pub(crate) async fn load(tx: &mut Tx, clinic_id: Uuid, id: Uuid) -> Result<Patient> {
    let sql = format!("SELECT {COLS} FROM patient WHERE id = $1 AND clinic_id = $2");
    fetch_opt!(tx(tx), PatientRow, sqlx::AssertSqlSafe(sql), id, clinic_id)
        .ok_or(StoreError::NotFound)?
        .try_into()
}

async fn insert_measurement(
    a: &mut Audited,
    patient_id: Uuid,
    at: DateTime<Utc>,
    m: &BodyMeasurement,
) -> Result<Uuid> {
    let id = new_id();
    let by = a.actor().staff_id;
    exec!(
        tx(a.tx()),
        "INSERT INTO body_measurement (id, patient_id, measured_at, weight_g, height_mm,
            recorded_by) VALUES ($1,$2,$3,$4,$5,$6)",
        id,
        patient_id,
        at,
        m.weight.map(Weight::grams),
        m.height.map(Height::mm),
        by
    );
    Ok(id)
}

/// Escapes LIKE wildcards in user text (`\` is the escape character).
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The names of the fields that differ between two versions of a patient's details (the
/// audit row says what changed, never the values).
fn changed_fields(before: &PatientDetails, after: &PatientDetails) -> Vec<&'static str> {
    let (a, b) = (before.to_form(), after.to_form());
    let pairs = [
        ("full_name", a.full_name == b.full_name),
        ("date_of_birth", a.date_of_birth == b.date_of_birth),
        ("sex", a.sex == b.sex),
        ("email", a.email == b.email),
        ("phone", a.phone == b.phone),
        (
            "preferred_contact",
            a.preferred_contact == b.preferred_contact,
        ),
        ("address", a.address == b.address),
        ("emergency_name", a.emergency_name == b.emergency_name),
        ("emergency_phone", a.emergency_phone == b.emergency_phone),
        (
            "emergency_relationship",
            a.emergency_relationship == b.emergency_relationship,
        ),
    ];
    pairs
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(n, _)| n)
        .collect()
}

impl Store {
    pub async fn create_patient(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        d: &PatientDetails,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let id = insert_patient(&mut a, clinic_id, d).await?;
        a.record(AuditAction::PatientCreated, Subject::patient(id))
            .await?;
        a.commit().await?;
        Ok(id)
    }

    pub async fn update_patient(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        d: &PatientDetails,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let before = load(a.tx(), clinic_id, id).await?;
        write_details(a.tx(), None, clinic_id, id, d).await?;
        let changed = changed_fields(&before.details, d);
        a.record(
            AuditAction::PatientUpdated,
            Subject::patient(id).with_detail(format!("changed: {}", changed.join(", "))),
        )
        .await?;
        a.commit().await
    }

    /// A patient's record and measurement history (newest first); audited as a chart read.
    pub async fn patient(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
    ) -> Result<(Patient, Vec<BodyMeasurementRecord>)> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let p = load(a.tx(), clinic_id, id).await?;
        let ms =
            fetch_all!(tx(a.tx()), MeasurementRow,
            "SELECT m.id, m.measured_at, m.weight_g, m.height_mm, s.full_name AS recorded_by_name
             FROM body_measurement m LEFT JOIN staff_user s ON s.id = m.recorded_by
             WHERE m.patient_id = $1 ORDER BY m.measured_at DESC, m.id DESC LIMIT 200",
            id);
        a.record(AuditAction::PatientRead, Subject::patient(id))
            .await?;
        a.commit().await?;
        let ms = ms
            .into_iter()
            .map(BodyMeasurementRecord::try_from)
            .collect::<Result<_>>()?;
        Ok((p, ms))
    }

    pub async fn record_measurement(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        m: &BodyMeasurement,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        load(a.tx(), clinic_id, patient_id).await?;
        let id = insert_measurement(&mut a, patient_id, now(), m).await?;
        a.record(
            AuditAction::MeasurementRecorded,
            Subject::patient(patient_id).with_detail(format!("measurement {id}")),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// Searches a clinic's patients, sorted by name, `limit` at a time after the patient `after`
    /// (keyset paging: stable and fast however deep the page). The search is audited with its
    /// criterion kind and result count.
    pub async fn search_patients(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        q: &PatientQuery,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<PatientSummary>> {
        // $1 is the clinic; the criterion's values follow; then the page's keyset and size.
        let dob = match q {
            PatientQuery::DateOfBirth(d) => Some(*d),
            _ => None,
        };
        let (cond, values): (String, Vec<String>) = match q {
            PatientQuery::All => (String::new(), vec![]),
            PatientQuery::Words(words) => (
                (0..words.len())
                    .map(|i| format!(" AND search_text LIKE ${} ESCAPE '\\'", i + 2))
                    .collect(),
                words
                    .iter()
                    .map(|w| format!("%{}%", like_escape(w)))
                    .collect(),
            ),
            // A date binds as a date on both backends (below).
            PatientQuery::DateOfBirth(_) => (" AND date_of_birth = $2".into(), vec![]),
            PatientQuery::PhoneDigits(d) => {
                (" AND phone_digits LIKE $2".into(), vec![format!("%{d}%")])
            }
        };
        let n = values.len() + usize::from(dob.is_some());
        let (after_at, limit_at) = (n + 2, n + 3);
        let keyset = format!(
            "(${after_at} IS NULL OR (name_key, id) > (SELECT name_key, id FROM patient WHERE id = ${after_at}))"
        );
        // The one place the backends' SQL differs here, because their planners do. A substring
        // match cannot seek. SQLite walks `patient_search` (name order, with the searched text
        // inside each entry) and stops at the first page; left to itself it may walk the
        // narrower name index instead and read every patient's row to test it. PostgreSQL's
        // trigram index finds the matches of words of three or more letters outright; left to
        // itself it may walk the name index and hope matches come early, which fails for
        // words whose matches cluster late in name order (first names such as "Zoe"). Phone
        // digits are left to its planner: a few digits often match most numbers of a region.
        let trigrams = |ws: &[String]| ws.iter().all(|w| w.chars().count() >= 3);
        let materialized = || {
            format!(
                "WITH found AS MATERIALIZED (
                     SELECT id, full_name, date_of_birth, email, phone, name_key FROM patient
                     WHERE clinic_id = $1{cond})
                 SELECT id, full_name, date_of_birth, email, phone FROM found
                 WHERE {keyset} ORDER BY name_key, id LIMIT ${limit_at}"
            )
        };
        let sql = match (&self.db, q) {
            (Db::Sqlite(..), PatientQuery::Words(_) | PatientQuery::PhoneDigits(_)) => format!(
                "SELECT id, full_name, date_of_birth, email, phone
                 FROM patient INDEXED BY patient_search
                 WHERE clinic_id = $1{cond} AND {keyset}
                 ORDER BY name_key, id LIMIT ${limit_at}"
            ),
            (Db::Postgres(_), PatientQuery::Words(ws)) if trigrams(ws) => materialized(),
            _ => format!(
                "SELECT id, full_name, date_of_birth, email, phone FROM patient
                 WHERE clinic_id = $1{cond} AND {keyset}
                 ORDER BY name_key, id LIMIT ${limit_at}"
            ),
        };
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let rows: Vec<SummaryRow> = on!(tx(a.tx()), c => {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(clinic_id);
            if let Some(d) = dob {
                query = query.bind(d);
            }
            for v in &values {
                query = query.bind(v);
            }
            query.bind(after).bind(limit).fetch_all(c).await?
        });
        a.record(
            AuditAction::PatientSearched,
            Subject::none().with_detail(format!("by {}; {} shown", q.kind(), rows.len())),
        )
        .await?;
        a.commit().await?;
        summaries(rows)
    }

    /// Registered patients who may be the person described: same folded name and date of
    /// birth, same phone digits, or same email (see [`same_as`]), each with the reasons.
    pub async fn possible_duplicates(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        d: &PatientDetails,
    ) -> Result<Vec<(PatientSummary, Vec<SameAs>)>> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let rows = fetch_all!(
            tx(a.tx()),
            SummaryRow,
            "SELECT id, full_name, date_of_birth, email, phone FROM patient
             WHERE clinic_id = $1 AND (date_of_birth = $2 OR phone_digits = $3 OR email = $4)
             ORDER BY name_key, id LIMIT 200",
            clinic_id,
            d.date_of_birth.date(),
            d.phone.as_ref().map(Phone::digits),
            s(&d.email)
        );
        let found: Vec<(PatientSummary, Vec<SameAs>)> = summaries(rows)?
            .into_iter()
            .filter_map(|p| {
                let why = same_as(d, &p);
                (!why.is_empty()).then_some((p, why))
            })
            .take(10)
            .collect();
        a.record(
            AuditAction::PatientSearched,
            Subject::none().with_detail(format!("duplicate check; {} shown", found.len())),
        )
        .await?;
        a.commit().await?;
        Ok(found)
    }

    /// Fills in the search text of patients stored before it existed (or by an older
    /// version), in batches; returns how many were filled in. Run at every migration.
    pub async fn index_patients_for_search(&self) -> Result<usize> {
        let mut done = 0;
        loop {
            let mut tx = self.db.begin().await?;
            let sql = format!("SELECT {COLS} FROM patient WHERE search_text IS NULL LIMIT 500");
            let rows = fetch_all!(tx(&mut tx), PatientRow, sqlx::AssertSqlSafe(sql));
            if rows.is_empty() {
                return Ok(done);
            }
            for row in rows {
                let p: Patient = row.try_into()?;
                exec!(
                    tx(&mut tx),
                    "UPDATE patient SET search_text = $1 WHERE id = $2",
                    search_text(&p.details),
                    p.id
                );
                done += 1;
            }
            tx.commit().await?;
        }
    }

    /// The patients most recently registered or updated in a clinic, for the home page.
    pub async fn recent_patients(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        limit: i64,
    ) -> Result<Vec<PatientSummary>> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let rows = fetch_all!(
            tx(a.tx()),
            SummaryRow,
            "SELECT id, full_name, date_of_birth, email, phone FROM patient
             WHERE clinic_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2",
            clinic_id,
            limit
        );
        a.record(
            AuditAction::PatientSearched,
            Subject::none().with_detail(format!("recent; {} shown", rows.len())),
        )
        .await?;
        a.commit().await?;
        summaries(rows)
    }
}

/// One patient of a bulk import, with their measurement history (oldest first).
pub struct ImportedPatient {
    pub details: PatientDetails,
    pub measurements: Vec<(DateTime<Utc>, BodyMeasurement)>,
}

impl Store {
    /// Registers many patients in one transaction (demo data, migrations from other systems);
    /// each still gets its own audit row.
    pub async fn import_patients(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patients: &[ImportedPatient],
    ) -> Result<Vec<Uuid>> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let mut ids = Vec::with_capacity(patients.len());
        for p in patients {
            let id = insert_patient(&mut a, clinic_id, &p.details).await?;
            for (at, m) in &p.measurements {
                insert_measurement(&mut a, id, *at, m).await?;
            }
            a.record(
                AuditAction::PatientCreated,
                Subject::patient(id).with_detail("import"),
            )
            .await?;
            ids.push(id);
        }
        a.commit().await?;
        Ok(ids)
    }
}
