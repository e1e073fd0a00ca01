//! Notes over the API: a patient's notes as lines, and one note whole with its addenda.
//!
//! Psychotherapy notes never travel through the API, not even to their author's own token:
//! tokens serve other systems (exports, integrations), and a psychotherapy note leaves Kapstone
//! only with the patient's specific authorisation — never as a side effect of a sync. The list
//! leaves them out and asking for one by id answers "not found", exactly as for an id that
//! does not exist (the refusal is audited with the note's id).

use crate::AppState;
use crate::http::Staff;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::api_id;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, NaiveDate, Utc};
use kap_domain::notes::Section;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct NoteLineOut {
    pub id: Uuid,
    /// `preparation`, `in_session`, `integration` or `progress`.
    pub kind: String,
    /// `draft`, `awaiting_cosignature` or `signed`.
    pub status: String,
    pub author: String,
    pub written_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    pub appointment_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
    /// One line: the intention, the first theme…
    pub summary: String,
}

#[derive(Serialize, ToSchema)]
pub struct SectionOut {
    /// The section's code, e.g. `intention`, `subjective`.
    pub section: String,
    /// Its heading in the template version the note was written with.
    pub heading: String,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct ObservationOut {
    pub at: DateTime<Utc>,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct CommitmentOut {
    pub text: String,
    pub follow_up: NaiveDate,
    /// `open`, `kept`, `partly_kept`, `not_kept` or `dropped` (a draft's: `open`).
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct DomainOut {
    /// `emotional_window`, `self_talk`, `flexible_thinking` or `follow_through`.
    pub domain: String,
    /// `not_observed`, `some` or `clear`.
    pub level: String,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct AddendumOut {
    pub reason: String,
    pub text: String,
    pub author: String,
    pub at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct NoteOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: String,
    pub status: String,
    pub author: String,
    pub written_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    /// SHA-256 (hex) of the note's canonical content, fixed when it was signed.
    pub content_hash: Option<String>,
    pub cosigned_by: Option<String>,
    pub cosigned_at: Option<DateTime<Utc>>,
    pub appointment_id: Option<Uuid>,
    pub dosing_session_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
    pub template_version: i32,
    /// A progress note's `soap` or `dap`.
    pub format: Option<String>,
    pub sections: Vec<SectionOut>,
    pub observations: Vec<ObservationOut>,
    pub commitments: Vec<CommitmentOut>,
    pub domains: Vec<DomainOut>,
    pub addenda: Vec<AddendumOut>,
}

/// A patient's notes, newest first (never a psychotherapy note).
#[utoipa::path(get, path = "/api/v1/patients/{id}/notes", params(("id" = String, Path, description = "Patient id")), tag = "notes",
    responses((status = 200, body = Vec<NoteLineOut>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn patient_notes(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<NoteLineOut>>> {
    let lines = st
        .store
        .note_lines_of_patient(&staff.actor(), staff.clinic_id(), api_id(&id)?)
        .await?;
    Ok(Json(
        lines
            .into_iter()
            .map(|n| NoteLineOut {
                id: n.id,
                kind: n.kind.as_str().to_owned(),
                status: n.status.as_str().to_owned(),
                author: n.author_name,
                written_at: n.written_at,
                signed_at: n.signed_at,
                appointment_id: n.appointment_id,
                course_id: n.course_id,
                summary: n.summary,
            })
            .collect(),
    ))
}

/// One note with its addenda (a psychotherapy note is not found).
#[utoipa::path(get, path = "/api/v1/notes/{id}", params(("id" = String, Path, description = "Note id")), tag = "notes",
    responses((status = 200, body = NoteOut), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn note(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<NoteOut>> {
    let r = st
        .store
        .note(&staff.actor(), staff.clinic_id(), api_id(&id)?)
        .await?;
    let n = &r.note;
    let sections = n
        .kind
        .sections(n.content.format)
        .into_iter()
        .filter(|s| s.is_text())
        .map(|s: Section| SectionOut {
            section: s.as_str().to_owned(),
            heading: r.template.heading(s).to_owned(),
            text: n.content.text(s).to_owned(),
        })
        .collect();
    let commitments = if r.commitments.is_empty() {
        n.content
            .commitments
            .iter()
            .map(|c| CommitmentOut {
                text: c.text.clone(),
                follow_up: c.follow_up,
                status: "open".into(),
            })
            .collect()
    } else {
        r.commitments
            .iter()
            .map(|c| CommitmentOut {
                text: c.text.clone(),
                follow_up: c.follow_up,
                status: c.status().as_str().to_owned(),
            })
            .collect()
    };
    Ok(Json(NoteOut {
        id: n.id,
        patient_id: n.patient_id,
        kind: n.kind.as_str().to_owned(),
        status: n.status().as_str().to_owned(),
        author: n.author.name.clone(),
        written_at: n.created_at,
        signed_at: n.signature.as_ref().map(|s| s.at),
        content_hash: n.signature.as_ref().map(|s| s.content_hash.clone()),
        cosigned_by: n.cosignature.as_ref().map(|c| c.by.name.clone()),
        cosigned_at: n.cosignature.as_ref().map(|c| c.at),
        appointment_id: n.appointment_id,
        dosing_session_id: n.dosing_session_id,
        course_id: n.course_id,
        template_version: n.template_version,
        format: n.content.format.map(|f| f.as_str().to_owned()),
        sections,
        observations: n
            .content
            .observations
            .iter()
            .map(|o| ObservationOut {
                at: o.at,
                text: o.text.clone(),
            })
            .collect(),
        commitments,
        domains: n
            .content
            .domains
            .iter()
            .map(|d| DomainOut {
                domain: d.domain.as_str().to_owned(),
                level: d.level.as_str().to_owned(),
                text: d.text.clone(),
            })
            .collect(),
        addenda: n
            .addenda
            .iter()
            .map(|a| AddendumOut {
                reason: a.reason.clone(),
                text: a.text.clone(),
                author: a.by.name.clone(),
                at: a.at,
            })
            .collect(),
    }))
}
