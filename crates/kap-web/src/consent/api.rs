//! The consent API: a patient's signed consents (document, version, when and how) and REMS
//! enrolment history, for integrations that check consent before booking a session.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::api_id;
use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct Consents {
    pub patient_id: Uuid,
    /// Newest first.
    pub consents: Vec<ConsentInfo>,
    /// Newest first.
    pub rems_enrolment: Vec<RemsInfo>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentInfo {
    pub id: Uuid,
    pub document_id: Uuid,
    /// `iv`, `im`, `sublingual` or `esketamine_nasal`.
    pub route: String,
    pub version: i32,
    pub title: String,
    /// Whether this is a signature of the route's current version, not withdrawn.
    pub current: bool,
    /// When the patient withdrew this consent, if they did.
    pub withdrawn_on: Option<chrono::NaiveDate>,
    pub signed_on: chrono::NaiveDate,
    /// `link` (by the patient through a link) or `in_clinic` (before a witness).
    pub method: String,
    pub witness: Option<String>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct RemsInfo {
    /// `pending`, `enrolled` or `ended`.
    pub status: String,
    pub on: chrono::NaiveDate,
    pub reference: Option<String>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// A patient's consents and REMS enrolment.
#[utoipa::path(get, path = "/api/v1/patients/{id}/consents", params(("id" = String, Path, description = "Patient id")), tag = "consent",
    responses((status = 200, body = Consents), (status = 404, body = Problem, description = "Unknown patient")),
    security(("bearer" = [])))]
pub(super) async fn consents(
    State(st): State<AppState>,
    staff: Staff,
    Path(pid): Path<String>,
) -> ApiResult<Json<Consents>> {
    let pid = api_id(&pid)?;
    let clinic = staff.clinic_id();
    let current = st.store.current_consent_documents(clinic).await?;
    let record = st.store.consent_record(&staff.actor(), clinic, pid).await?;
    Ok(Json(Consents {
        patient_id: pid,
        consents: record
            .consents
            .into_iter()
            .map(|c| ConsentInfo {
                current: c.withdrawn.is_none()
                    && current
                        .iter()
                        .any(|d| d.route == c.route && d.version <= c.version),
                withdrawn_on: c.withdrawn.as_ref().map(|w| w.withdrawn_on),
                id: c.id,
                document_id: c.document_id,
                route: c.route.as_str().to_owned(),
                version: c.version,
                title: c.title,
                signed_on: c.signed_on,
                method: c.method.as_str().to_owned(),
                witness: c.witness_name,
                recorded_at: c.recorded_at,
            })
            .collect(),
        rems_enrolment: record
            .rems
            .into_iter()
            .map(|r| RemsInfo {
                status: r.status.as_str().to_owned(),
                on: r.on,
                reference: r.reference,
                recorded_at: r.recorded_at,
            })
            .collect(),
    }))
}
