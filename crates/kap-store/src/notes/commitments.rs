//! Commitments signed integration notes made, with their reviews (appended at later sessions;
//! the note that made them stays locked).

use super::{Src, src};
use crate::db::{exec, fetch_all, fetch_opt};
use crate::error::{Result, StoreError, code};
use crate::{Store, new_id};
use chrono::{DateTime, NaiveDate, Utc};
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::notes::commitment::parse_review;
use kap_domain::notes::{Commitment, CommitmentReview, NoteRefused};
use std::collections::HashMap;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct CommitmentRow {
    id: Uuid,
    note_id: Uuid,
    course_id: Option<Uuid>,
    text: String,
    follow_up: NaiveDate,
    made_at: DateTime<Utc>,
    made_by: String,
}

/// Which commitments to read.
pub(crate) enum Of {
    Patient(Uuid),
    /// A patient's commitments made in one course.
    Course(Uuid, Uuid),
    /// A patient's commitments made in one course, or in notes written for no course.
    CourseOrNone(Uuid, Uuid),
    Note(Uuid),
}

/// Commitments with their reviews, oldest first.
pub(crate) async fn commitments_in(
    s: &mut Src<'_>,
    clinic_id: Uuid,
    of: Of,
) -> Result<Vec<Commitment>> {
    const SELECT: &str = "SELECT k.id, k.note_id, k.course_id, k.text, k.follow_up, k.made_at,
            s.full_name AS made_by
         FROM note_commitment k JOIN note n ON n.id = k.note_id
         JOIN staff_user s ON s.id = n.author_id WHERE n.clinic_id = $1";
    let rows = match of {
        Of::Patient(p) => src!(
            s,
            fetch_all,
            CommitmentRow,
            sqlx::AssertSqlSafe(format!(
                "{SELECT} AND k.patient_id = $2 ORDER BY k.made_at, k.position"
            )),
            clinic_id,
            p
        ),
        Of::Course(p, c) => src!(
            s,
            fetch_all,
            CommitmentRow,
            sqlx::AssertSqlSafe(format!(
                "{SELECT} AND k.patient_id = $2 AND k.course_id = $3
                 ORDER BY k.made_at, k.position"
            )),
            clinic_id,
            p,
            c
        ),
        Of::CourseOrNone(p, c) => src!(
            s,
            fetch_all,
            CommitmentRow,
            sqlx::AssertSqlSafe(format!(
                "{SELECT} AND k.patient_id = $2 AND (k.course_id = $3 OR k.course_id IS NULL)
                 ORDER BY k.made_at, k.position"
            )),
            clinic_id,
            p,
            c
        ),
        Of::Note(id) => src!(
            s,
            fetch_all,
            CommitmentRow,
            sqlx::AssertSqlSafe(format!(
                "{SELECT} AND k.note_id = $2 ORDER BY k.made_at, k.position"
            )),
            clinic_id,
            id
        ),
    };
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let mut reviews: HashMap<Uuid, Vec<CommitmentReview>> = HashMap::new();
    let note_ids: std::collections::BTreeSet<Uuid> = rows.iter().map(|r| r.note_id).collect();
    for note in note_ids {
        let found = src!(
            s,
            fetch_all,
            (Uuid, Uuid, String, String, String, DateTime<Utc>),
            "SELECT r.id, r.commitment_id, r.status, r.note, s.full_name, r.reviewed_at
             FROM commitment_review r JOIN note_commitment k ON k.id = r.commitment_id
             JOIN staff_user s ON s.id = r.reviewed_by
             WHERE k.note_id = $1 ORDER BY r.reviewed_at, r.id",
            note
        );
        for (id, commitment, status, note, by_name, at) in found {
            reviews
                .entry(commitment)
                .or_default()
                .push(CommitmentReview {
                    status: code("commitment_review", id, "status", &status)?,
                    note,
                    by_name,
                    at,
                });
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| Commitment {
            reviews: reviews.remove(&r.id).unwrap_or_default(),
            id: r.id,
            note_id: r.note_id,
            course_id: r.course_id,
            text: r.text,
            follow_up: r.follow_up,
            made_at: r.made_at,
            made_by: r.made_by,
        })
        .collect())
}

impl Store {
    /// A patient's commitments (of one course, when given), oldest first, with their reviews.
    pub async fn commitments_of_patient(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient: Uuid,
        course: Option<Uuid>,
    ) -> Result<Vec<Commitment>> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let of = match course {
            Some(c) => Of::Course(patient, c),
            None => Of::Patient(patient),
        };
        let out = commitments_in(&mut Src::Tx(a.tx()), clinic_id, of).await?;
        a.record(
            AuditAction::NotesListed,
            Subject::patient(patient).with_detail("commitments"),
        )
        .await?;
        a.commit().await?;
        Ok(out)
    }

    /// Records what became of a commitment (its status and a short note) at a later session —
    /// optionally during the note being written then. Appended; earlier reviews stay.
    #[allow(clippy::too_many_arguments)]
    pub async fn review_commitment(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        commitment: Uuid,
        status: &str,
        note: &str,
        during: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let (status, note) = parse_review(status, note).map_err(NoteRefused::Invalid)?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        let by = a.actor().staff_id.ok_or(StoreError::NotFound)?;
        let patient = fetch_opt!(
            tx(a.tx()),
            (Uuid,),
            "SELECT k.patient_id FROM note_commitment k JOIN note n ON n.id = k.note_id
             WHERE k.id = $1 AND n.clinic_id = $2",
            commitment,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?
        .0;
        // The note it is reviewed in must be a note of the same patient in the record.
        let during = match during {
            Some(d) => {
                let same = fetch_opt!(
                    tx(a.tx()),
                    (Uuid,),
                    "SELECT id FROM note WHERE id = $1 AND clinic_id = $2 AND patient_id = $3",
                    d,
                    clinic_id,
                    patient
                );
                same.map(|x| x.0)
            }
            None => None,
        };
        let id = new_id();
        exec!(
            tx(a.tx()),
            "INSERT INTO commitment_review (id, commitment_id, status, note, reviewed_by,
                reviewed_at, during_note_id)
             VALUES ($1,$2,$3,$4,$5,$6,$7)",
            id,
            commitment,
            status.as_str(),
            &note,
            by,
            now,
            during
        );
        a.record(
            AuditAction::CommitmentReviewed,
            Subject::record(RecordKind::Note, commitment)
                .with_patient(Some(patient))
                .with_detail(status.as_str()),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }
}
