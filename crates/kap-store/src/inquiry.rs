//! The inquiry inbox: contact-form submissions, the coordinator's status and notes, and the
//! one-step conversion of an inquiry into a registered patient.

use crate::audit::{Subject, append};
use crate::patient::insert_patient;
use crate::{Actor, Result, Store, StoreError, new_id, now, on_tx};
use chrono::{DateTime, Utc};
use kap_domain::audit::AuditAction;
use kap_domain::inquiry::{ContactSubmission, InquiryStatus};
use kap_domain::patient::PatientDetails;
use uuid::Uuid;

/// An inquiry as stored.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Inquiry {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `email`, `phone` or `either`.
    pub preferred_contact: String,
    pub message: String,
    /// `new`, `contacted`, `converted` or `closed`.
    pub status: String,
    /// The patient this inquiry was converted into.
    pub patient_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Inquiry {
    pub fn status(&self) -> InquiryStatus {
        InquiryStatus::parse(&self.status).unwrap_or(InquiryStatus::New)
    }
}

/// Which inquiries to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InquiryFilter {
    Any,
    Only(InquiryStatus),
    /// Still to be worked: new or contacted.
    Open,
}

impl From<Option<InquiryStatus>> for InquiryFilter {
    fn from(s: Option<InquiryStatus>) -> Self {
        s.map_or(InquiryFilter::Any, InquiryFilter::Only)
    }
}

/// A coordinator's note on an inquiry.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct InquiryNote {
    pub id: Uuid,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

const COLS: &str = "id, name, email, phone, preferred_contact, message, status, patient_id,
    created_at, updated_at";

async fn load(tx: &mut crate::Tx, clinic_id: Uuid, id: Uuid) -> Result<Inquiry> {
    let sql = format!("SELECT {COLS} FROM inquiry WHERE id = $1 AND clinic_id = $2");
    on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(clinic_id)
        .fetch_optional(&mut *c)
        .await?)
    .ok_or(StoreError::NotFound)
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
        let t = now();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO inquiry (id, clinic_id, name, email, phone, preferred_contact, message,
                status, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,'new',$8,$8)"
        )
        .bind(id)
        .bind(clinic_id)
        .bind(s.name.as_str())
        .bind(s.email.as_ref().map(|e| e.as_str()))
        .bind(s.phone.as_ref().map(|p| p.as_str()))
        .bind(s.preferred_contact.as_str())
        .bind(s.message.as_str())
        .bind(t)
        .execute(&mut *c)
        .await?
        .rows_affected());
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::InquirySubmitted,
            Subject::record("inquiry", id),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Inquiries of a clinic, newest first, by status; keyset-paged by id (UUIDv7 ids sort by
    /// creation time).
    pub async fn list_inquiries(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        status: impl Into<InquiryFilter>,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Inquiry>> {
        let status: InquiryFilter = status.into();
        let mut tx = self.begin().await?;
        let cond = match status {
            InquiryFilter::Any => "$2 IS NULL",
            InquiryFilter::Only(_) => "status = $2",
            InquiryFilter::Open => "($2 IS NULL AND status IN ('new', 'contacted'))",
        };
        let sql = format!(
            "SELECT {COLS} FROM inquiry WHERE clinic_id = $1 AND {cond}
               AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
        );
        let rows: Vec<Inquiry> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(clinic_id)
            .bind(match status {
                InquiryFilter::Only(s) => Some(s.as_str()),
                _ => None,
            })
            .bind(before)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?);
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::InquiryListed,
            Subject::none().with_detail(format!(
                "status {}; {} shown",
                match status {
                    InquiryFilter::Any => "any",
                    InquiryFilter::Open => "open",
                    InquiryFilter::Only(s) => s.as_str(),
                },
                rows.len()
            )),
        )
        .await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// One inquiry with its notes (audited as a read).
    pub async fn inquiry(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
    ) -> Result<(Inquiry, Vec<InquiryNote>)> {
        let mut tx = self.begin().await?;
        let inq = load(&mut tx, clinic_id, id).await?;
        let notes: Vec<InquiryNote> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT n.id, s.full_name AS author_name, n.body, n.created_at
             FROM inquiry_note n JOIN staff_user s ON s.id = n.author_id
             WHERE n.inquiry_id = $1 ORDER BY n.created_at, n.id"
        )
        .bind(id)
        .fetch_all(&mut *c)
        .await?);
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::InquiryRead,
            Subject::record("inquiry", id).with_patient(inq.patient_id),
        )
        .await?;
        tx.commit().await?;
        Ok((inq, notes))
    }

    /// Sets an inquiry's status (by the workflow rule) and/or adds a note.
    pub async fn update_inquiry(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        status: InquiryStatus,
        note: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let inq = load(&mut tx, clinic_id, id).await?;
        let from = inq.status();
        if from != status {
            from.may_change_to(status)
                .map_err(|m| StoreError::Conflict(m.to_owned()))?;
            on_tx!(&mut tx, |c| sqlx::query(
                "UPDATE inquiry SET status = $1, updated_at = $2 WHERE id = $3"
            )
            .bind(status.as_str())
            .bind(now())
            .bind(id)
            .execute(&mut *c)
            .await?
            .rows_affected());
        }
        if let Some(body) = note {
            let author = actor.staff_id.ok_or(StoreError::NotFound)?;
            on_tx!(&mut tx, |c| sqlx::query(
                "INSERT INTO inquiry_note (id, inquiry_id, author_id, body, created_at)
                 VALUES ($1,$2,$3,$4,$5)"
            )
            .bind(new_id())
            .bind(id)
            .bind(author)
            .bind(body)
            .bind(now())
            .execute(&mut *c)
            .await?
            .rows_affected());
        }
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::InquiryUpdated,
            Subject::record("inquiry", id).with_detail(format!(
                "status {} -> {}{}",
                from.as_str(),
                status.as_str(),
                if note.is_some() { "; note added" } else { "" }
            )),
        )
        .await?;
        tx.commit().await
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
        let mut tx = self.begin().await?;
        let inq = load(&mut tx, clinic_id, id).await?;
        if inq.status() == InquiryStatus::Converted {
            return Err(StoreError::Conflict(
                "This inquiry has already been converted into a patient.".into(),
            ));
        }
        let patient_id = insert_patient(&mut tx, actor, clinic_id, details).await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE inquiry SET status = 'converted', patient_id = $1, updated_at = $2
             WHERE id = $3"
        )
        .bind(patient_id)
        .bind(now())
        .bind(id)
        .execute(&mut *c)
        .await?
        .rows_affected());
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::PatientCreated,
            Subject::patient(patient_id).with_detail(format!("from inquiry {id}")),
        )
        .await?;
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::InquiryConverted,
            Subject::record("inquiry", id).with_patient(Some(patient_id)),
        )
        .await?;
        tx.commit().await?;
        Ok(patient_id)
    }

    /// Counts of a clinic's inquiries by status, for the home page.
    pub async fn count_new_inquiries(&self, clinic_id: Uuid) -> Result<i64> {
        Ok(crate::on_db!(&self.db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM inquiry WHERE clinic_id = $1 AND status = 'new'"
        )
        .bind(clinic_id)
        .fetch_one(p)
        .await?))
    }
}
