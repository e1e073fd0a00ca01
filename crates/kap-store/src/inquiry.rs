//! The inquiry inbox: contact-form submissions, the coordinator's status and notes, and the
//! one-step conversion of an inquiry into a registered patient.

use crate::db::{Tx, exec, fetch_all, fetch_opt, scalar};
use crate::error::{Conflict, Result, StoreError, code, field, opt_field};
use crate::patient::insert_patient;
use crate::{Store, new_id, now};
use chrono::{DateTime, Utc};
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::inquiry::{ContactSubmission, Inquiry, InquiryFilter, InquiryNote, InquiryStatus};
use kap_domain::patient::PatientDetails;
use kap_domain::person::{Email, Message, PersonName, Phone};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct InquiryRow {
    id: Uuid,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    preferred_contact: String,
    message: String,
    status: String,
    patient_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const R: &str = "inquiry";

impl TryFrom<InquiryRow> for Inquiry {
    type Error = StoreError;
    fn try_from(r: InquiryRow) -> Result<Inquiry> {
        let id = r.id;
        Ok(Inquiry {
            id,
            name: field(R, id, "name", PersonName::parse(&r.name))?,
            email: opt_field(R, id, "email", r.email.as_deref(), Email::parse)?,
            phone: opt_field(R, id, "phone", r.phone.as_deref(), Phone::parse)?,
            preferred_contact: code(R, id, "preferred_contact", &r.preferred_contact)?,
            message: field(R, id, "message", Message::parse(&r.message))?,
            status: code(R, id, "status", &r.status)?,
            patient_id: r.patient_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct NoteRow {
    id: Uuid,
    author_name: String,
    body: String,
    created_at: DateTime<Utc>,
}

const COLS: &str = "id, name, email, phone, preferred_contact, message, status, patient_id,
    created_at, updated_at";

async fn load(tx: &mut Tx, clinic_id: Uuid, id: Uuid) -> Result<Inquiry> {
    let sql = format!("SELECT {COLS} FROM inquiry WHERE id = $1 AND clinic_id = $2");
    fetch_opt!(tx(tx), InquiryRow, sqlx::AssertSqlSafe(sql), id, clinic_id)
        .ok_or(StoreError::NotFound)?
        .try_into()
}

impl Store {
    /// Stores a contact-form submission for a clinic. The visitor is audited by address only.
    pub async fn submit_inquiry(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        s: &ContactSubmission,
    ) -> Result<Uuid> {
        let id = new_id();
        let mut a = self.audited_in(actor, clinic_id).await?;
        exec!(
            tx(a.tx()),
            "INSERT INTO inquiry (id, clinic_id, name, email, phone, preferred_contact, message,
                status, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,'new',$8,$8)",
            id,
            clinic_id,
            s.name.as_str(),
            s.email.as_ref().map(Email::as_str),
            s.phone.as_ref().map(Phone::as_str),
            s.preferred_contact.as_str(),
            s.message.as_str(),
            now()
        );
        a.record(
            AuditAction::InquirySubmitted,
            Subject::record(RecordKind::Inquiry, id),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// Inquiries of a clinic, newest first, by status; keyset-paged by id (UUIDv7 ids sort by
    /// creation time).
    pub async fn list_inquiries(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        filter: impl Into<InquiryFilter>,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Inquiry>> {
        let filter: InquiryFilter = filter.into();
        let (cond, status, label) = match filter {
            InquiryFilter::Any => ("$2 IS NULL", None, "any"),
            InquiryFilter::Only(s) => ("status = $2", Some(s.as_str()), s.as_str()),
            InquiryFilter::Open => (
                "($2 IS NULL AND status IN ('new', 'contacted'))",
                None,
                "open",
            ),
        };
        let sql = format!(
            "SELECT {COLS} FROM inquiry WHERE clinic_id = $1 AND {cond}
               AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
        );
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let rows = fetch_all!(
            tx(a.tx()),
            InquiryRow,
            sqlx::AssertSqlSafe(sql),
            clinic_id,
            status,
            before,
            limit
        );
        a.record(
            AuditAction::InquiryListed,
            Subject::none().with_detail(format!("status {label}; {} shown", rows.len())),
        )
        .await?;
        a.commit().await?;
        rows.into_iter().map(Inquiry::try_from).collect()
    }

    /// One inquiry with its notes (audited as a read).
    pub async fn inquiry(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
    ) -> Result<(Inquiry, Vec<InquiryNote>)> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let inq = load(a.tx(), clinic_id, id).await?;
        let notes = fetch_all!(
            tx(a.tx()),
            NoteRow,
            "SELECT n.id, s.full_name AS author_name, n.body, n.created_at
             FROM inquiry_note n JOIN staff_user s ON s.id = n.author_id
             WHERE n.inquiry_id = $1 ORDER BY n.created_at, n.id",
            id
        );
        a.record(
            AuditAction::InquiryRead,
            Subject::record(RecordKind::Inquiry, id).with_patient(inq.patient_id),
        )
        .await?;
        a.commit().await?;
        let notes = notes
            .into_iter()
            .map(|n| InquiryNote {
                id: n.id,
                author_name: n.author_name,
                body: n.body,
                created_at: n.created_at,
            })
            .collect();
        Ok((inq, notes))
    }

    /// Sets an inquiry's status (by the workflow rule) and/or adds a note.
    pub async fn update_inquiry(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        status: InquiryStatus,
        note: Option<&Message>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let from = load(a.tx(), clinic_id, id).await?.status;
        if from != status {
            from.may_change_to(status).map_err(Conflict::from)?;
            exec!(
                tx(a.tx()),
                "UPDATE inquiry SET status = $1, updated_at = $2 WHERE id = $3",
                status.as_str(),
                now(),
                id
            );
        }
        if let Some(body) = note {
            // A note is signed by its author: only a staff member can write one.
            let author = actor.staff_id.ok_or(StoreError::NotFound)?;
            exec!(
                tx(a.tx()),
                "INSERT INTO inquiry_note (id, inquiry_id, author_id, body, created_at)
                 VALUES ($1,$2,$3,$4,$5)",
                new_id(),
                id,
                author,
                body.as_str(),
                now()
            );
        }
        a.record(
            AuditAction::InquiryUpdated,
            Subject::record(RecordKind::Inquiry, id).with_detail(format!(
                "status {from} -> {status}{}",
                if note.is_some() { "; note added" } else { "" }
            )),
        )
        .await?;
        a.commit().await
    }

    /// Registers the person behind an inquiry as a patient and marks the inquiry converted,
    /// in one transaction. Converting twice is refused.
    pub async fn convert_inquiry(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        details: &PatientDetails,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        if load(a.tx(), clinic_id, id).await?.status == InquiryStatus::Converted {
            return Err(Conflict::InquiryAlreadyConverted.into());
        }
        let patient_id = insert_patient(&mut a, clinic_id, details).await?;
        exec!(
            tx(a.tx()),
            "UPDATE inquiry SET status = 'converted', patient_id = $1, updated_at = $2
             WHERE id = $3",
            patient_id,
            now(),
            id
        );
        a.record(
            AuditAction::PatientCreated,
            Subject::patient(patient_id).with_detail(format!("from inquiry {id}")),
        )
        .await?;
        a.record(
            AuditAction::InquiryConverted,
            Subject::record(RecordKind::Inquiry, id).with_patient(Some(patient_id)),
        )
        .await?;
        a.commit().await?;
        Ok(patient_id)
    }

    /// How many of a clinic's inquiries are new, for the home page.
    pub async fn count_new_inquiries(&self, clinic_id: Uuid) -> Result<i64> {
        Ok(scalar!(
            db(&self.db),
            i64,
            "SELECT COUNT(*) FROM inquiry WHERE clinic_id = $1 AND status = 'new'",
            clinic_id
        ))
    }
}
