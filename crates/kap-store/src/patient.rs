//! The patient registry: demographics, contacts, emergency contact, weight and height history,
//! and keyset-paged search — every read and write audited, every query scoped to one clinic.

use crate::audit::{Subject, append};
use crate::{Actor, Result, Store, StoreError, Tx, new_id, now, on_tx};
use chrono::{DateTime, NaiveDate, Utc};
use kap_domain::audit::AuditAction;
use kap_domain::patient::{BodyMeasurement, PatientDetails, PatientQuery, name_key};
use kap_domain::person::{DateOfBirth, Email, PersonName, Phone, PreferredContact, Sex, ShortText};
use uuid::Uuid;

/// A patient's registry record as stored.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Patient {
    pub id: Uuid,
    pub full_name: String,
    pub date_of_birth: NaiveDate,
    /// FHIR administrative gender: `female`, `male`, `other`, `unknown`.
    pub sex: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_contact: String,
    pub address: Option<String>,
    pub emergency_name: Option<String>,
    pub emergency_phone: Option<String>,
    pub emergency_relationship: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Patient {
    /// The stored record back as domain details (for editing). Stored values were valid when
    /// written, so a parse failure means the row was edited outside the app.
    pub fn details(&self) -> Option<PatientDetails> {
        let ec = match (&self.emergency_name, &self.emergency_phone) {
            (Some(n), Some(p)) => Some(kap_domain::patient::EmergencyContact {
                name: PersonName::parse(n).ok()?,
                phone: Phone::parse(p).ok()?,
                relationship: match &self.emergency_relationship {
                    Some(r) => Some(ShortText::parse(r).ok()?),
                    None => None,
                },
            }),
            _ => None,
        };
        Some(PatientDetails {
            full_name: PersonName::parse(&self.full_name).ok()?,
            date_of_birth: DateOfBirth::new(self.date_of_birth, self.date_of_birth).ok()?,
            sex: Sex::parse(&self.sex).ok()?,
            email: match &self.email {
                Some(e) => Some(Email::parse(e).ok()?),
                None => None,
            },
            phone: match &self.phone {
                Some(p) => Some(Phone::parse(p).ok()?),
                None => None,
            },
            preferred_contact: PreferredContact::parse(&self.preferred_contact).ok()?,
            address: match &self.address {
                Some(a) => Some(ShortText::parse(a).ok()?),
                None => None,
            },
            emergency_contact: ec,
        })
    }
}

/// One line of a search result.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct PatientSummary {
    pub id: Uuid,
    pub full_name: String,
    pub date_of_birth: NaiveDate,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A weight and/or height measurement.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Measurement {
    pub id: Uuid,
    pub measured_at: DateTime<Utc>,
    pub weight_g: Option<i32>,
    pub height_mm: Option<i32>,
    pub recorded_by_name: Option<String>,
}

const COLS: &str = "id, full_name, date_of_birth, sex, email, phone, preferred_contact, address,
    emergency_name, emergency_phone, emergency_relationship, created_at, updated_at";

fn s<T: ToString>(o: &Option<T>) -> Option<String> {
    o.as_ref().map(ToString::to_string)
}

pub(crate) async fn insert_patient(
    tx: &mut Tx,
    actor: &Actor,
    clinic_id: Uuid,
    d: &PatientDetails,
) -> Result<Uuid> {
    let id = new_id();
    let t = now();
    let ec = d.emergency_contact.as_ref();
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO patient (id, clinic_id, full_name, name_key, date_of_birth, sex, email, phone,
            phone_digits, preferred_contact, address, emergency_name, emergency_phone,
            emergency_relationship, created_at, updated_at, created_by)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$15,$16)"
    )
    .bind(id)
    .bind(clinic_id)
    .bind(d.full_name.as_str())
    .bind(name_key(&d.full_name))
    .bind(d.date_of_birth.date())
    .bind(d.sex.as_str())
    .bind(s(&d.email))
    .bind(s(&d.phone))
    .bind(d.phone.as_ref().map(Phone::digits))
    .bind(d.preferred_contact.as_str())
    .bind(s(&d.address))
    .bind(ec.map(|e| e.name.to_string()))
    .bind(ec.map(|e| e.phone.to_string()))
    .bind(ec.and_then(|e| s(&e.relationship)))
    .bind(t)
    .bind(actor.staff_id)
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(id)
}

async fn load(tx: &mut Tx, clinic_id: Uuid, id: Uuid) -> Result<Patient> {
    let sql = format!("SELECT {COLS} FROM patient WHERE id = $1 AND clinic_id = $2");
    on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(clinic_id)
        .fetch_optional(&mut *c)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// Escapes LIKE wildcards in user text (`\` is the escape character).
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl Store {
    pub async fn create_patient(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        d: &PatientDetails,
    ) -> Result<Uuid> {
        let mut tx = self.begin().await?;
        let id = insert_patient(&mut tx, actor, clinic_id, d).await?;
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::PatientCreated,
            Subject::patient(id),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn update_patient(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        d: &PatientDetails,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let before = load(&mut tx, clinic_id, id).await?;
        let ec = d.emergency_contact.as_ref();
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE patient SET full_name = $1, name_key = $2, date_of_birth = $3, sex = $4,
                email = $5, phone = $6, phone_digits = $7, preferred_contact = $8, address = $9,
                emergency_name = $10, emergency_phone = $11, emergency_relationship = $12,
                updated_at = $13
             WHERE id = $14 AND clinic_id = $15"
        )
        .bind(d.full_name.as_str())
        .bind(name_key(&d.full_name))
        .bind(d.date_of_birth.date())
        .bind(d.sex.as_str())
        .bind(s(&d.email))
        .bind(s(&d.phone))
        .bind(d.phone.as_ref().map(Phone::digits))
        .bind(d.preferred_contact.as_str())
        .bind(s(&d.address))
        .bind(ec.map(|e| e.name.to_string()))
        .bind(ec.map(|e| e.phone.to_string()))
        .bind(ec.and_then(|e| s(&e.relationship)))
        .bind(now())
        .bind(id)
        .bind(clinic_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
        // The audit row names which fields changed, not their values.
        let mut changed = vec![];
        let after_form = d.to_form();
        if let Some(old) = before.details().map(|o| o.to_form()) {
            let pairs = [
                ("full_name", &old.full_name, &after_form.full_name),
                (
                    "date_of_birth",
                    &old.date_of_birth,
                    &after_form.date_of_birth,
                ),
                ("sex", &old.sex, &after_form.sex),
                ("email", &old.email, &after_form.email),
                ("phone", &old.phone, &after_form.phone),
                (
                    "preferred_contact",
                    &old.preferred_contact,
                    &after_form.preferred_contact,
                ),
                ("address", &old.address, &after_form.address),
                (
                    "emergency_name",
                    &old.emergency_name,
                    &after_form.emergency_name,
                ),
                (
                    "emergency_phone",
                    &old.emergency_phone,
                    &after_form.emergency_phone,
                ),
                (
                    "emergency_relationship",
                    &old.emergency_relationship,
                    &after_form.emergency_relationship,
                ),
            ];
            changed.extend(pairs.iter().filter(|(_, a, b)| a != b).map(|(n, _, _)| *n));
        }
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::PatientUpdated,
            Subject::patient(id).with_detail(format!("changed: {}", changed.join(", "))),
        )
        .await?;
        tx.commit().await
    }

    /// A patient's record and measurement history (newest first); audited as a chart read.
    pub async fn patient(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
    ) -> Result<(Patient, Vec<Measurement>)> {
        let mut tx = self.begin().await?;
        let p = load(&mut tx, clinic_id, id).await?;
        let ms: Vec<Measurement> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "SELECT m.id, m.measured_at, m.weight_g, m.height_mm, s.full_name AS recorded_by_name
             FROM body_measurement m LEFT JOIN staff_user s ON s.id = m.recorded_by
             WHERE m.patient_id = $1 ORDER BY m.measured_at DESC, m.id DESC LIMIT 200"
        )
        .bind(id)
        .fetch_all(&mut *c)
        .await?
        });
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::PatientRead,
            Subject::patient(id),
        )
        .await?;
        tx.commit().await?;
        Ok((p, ms))
    }

    pub async fn record_measurement(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        m: &BodyMeasurement,
    ) -> Result<Uuid> {
        let mut tx = self.begin().await?;
        load(&mut tx, clinic_id, patient_id).await?;
        let id = new_id();
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO body_measurement (id, patient_id, measured_at, weight_g, height_mm,
                recorded_by) VALUES ($1,$2,$3,$4,$5,$6)"
        )
        .bind(id)
        .bind(patient_id)
        .bind(now())
        .bind(m.weight.map(|w| w.grams()))
        .bind(m.height.map(|h| h.mm()))
        .bind(actor.staff_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::MeasurementRecorded,
            Subject::patient(patient_id).with_detail(format!("measurement {id}")),
        )
        .await?;
        tx.commit().await?;
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
        let (cond, value, kind): (&str, Option<String>, &str) = match q {
            PatientQuery::All => ("$2 IS NULL", None, "all"),
            PatientQuery::Name(n) => (
                "(name_key LIKE $2 || '%' ESCAPE '\\' OR name_key LIKE '% ' || $2 || '%' ESCAPE '\\')",
                Some(like_escape(n)),
                "name",
            ),
            PatientQuery::DateOfBirth(_) => ("date_of_birth = $2", None, "date of birth"),
            PatientQuery::Email(e) => ("email = $2", Some(e.clone()), "email"),
            PatientQuery::PhoneDigits(d) => (
                "phone_digits LIKE '%' || $2 || '%'",
                Some(d.clone()),
                "phone",
            ),
        };
        let sql = format!(
            "SELECT id, full_name, date_of_birth, email, phone FROM patient
             WHERE clinic_id = $1 AND {cond}
               AND ($3 IS NULL OR (name_key, id) > (SELECT name_key, id FROM patient WHERE id = $3))
             ORDER BY name_key, id LIMIT $4"
        );
        let mut tx = self.begin().await?;
        let rows: Vec<PatientSummary> = on_tx!(&mut tx, |c| {
            let query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(clinic_id);
            let query = match q {
                PatientQuery::DateOfBirth(d) => query.bind(*d),
                _ => query.bind(value),
            };
            query.bind(after).bind(limit).fetch_all(&mut *c).await?
        });
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::PatientSearched,
            Subject::none().with_detail(format!("by {kind}; {} shown", rows.len())),
        )
        .await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// The patients most recently registered or updated in a clinic, for the home page.
    pub async fn recent_patients(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        limit: i64,
    ) -> Result<Vec<PatientSummary>> {
        let mut tx = self.begin().await?;
        let rows: Vec<PatientSummary> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT id, full_name, date_of_birth, email, phone FROM patient
             WHERE clinic_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2"
        )
        .bind(clinic_id)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?);
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::PatientSearched,
            Subject::none().with_detail(format!("recent; {} shown", rows.len())),
        )
        .await?;
        tx.commit().await?;
        Ok(rows)
    }
}

/// One patient of a bulk import, with their measurement history (oldest first) and an optional
/// creation time for back-dated synthetic data.
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
        let mut tx = self.begin().await?;
        let mut ids = Vec::with_capacity(patients.len());
        for p in patients {
            let id = insert_patient(&mut tx, actor, clinic_id, &p.details).await?;
            for (at, m) in &p.measurements {
                on_tx!(&mut tx, |c| sqlx::query(
                    "INSERT INTO body_measurement (id, patient_id, measured_at, weight_g,
                        height_mm, recorded_by) VALUES ($1,$2,$3,$4,$5,$6)"
                )
                .bind(new_id())
                .bind(id)
                .bind(*at)
                .bind(m.weight.map(|w| w.grams()))
                .bind(m.height.map(|h| h.mm()))
                .bind(actor.staff_id)
                .execute(&mut *c)
                .await?
                .rows_affected());
            }
            append(
                &mut tx,
                self.audit_key(),
                actor,
                AuditAction::PatientCreated,
                Subject::patient(id).with_detail("import"),
            )
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }
}
