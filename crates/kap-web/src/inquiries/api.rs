//! The inquiry inbox's API. Request and response types live here, apart from the stored rows.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiBody, ApiQuery, api_id, page_size, split_page};
use crate::patients::api::{PatientChart, PatientForm, chart};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use kap_domain::FieldErrors;
use kap_domain::inquiry::{self as domain, InquiryStatus};
use kap_domain::person::{Message, optional};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// An inquiry as stored.
#[derive(Serialize, ToSchema)]
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

impl From<domain::Inquiry> for Inquiry {
    fn from(i: domain::Inquiry) -> Self {
        Inquiry {
            id: i.id,
            name: i.name.to_string(),
            email: i.email.map(String::from),
            phone: i.phone.map(String::from),
            preferred_contact: i.preferred_contact.as_str().to_owned(),
            message: i.message.to_string(),
            status: i.status.as_str().to_owned(),
            patient_id: i.patient_id,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// A coordinator's note on an inquiry.
#[derive(Serialize, ToSchema)]
pub struct InquiryNote {
    pub id: Uuid,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<domain::InquiryNote> for InquiryNote {
    fn from(n: domain::InquiryNote) -> Self {
        InquiryNote {
            id: n.id,
            author_name: n.author_name,
            body: n.body,
            created_at: n.created_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InquiryList {
    /// `new`, `contacted`, `converted` or `closed`; all when absent.
    status: Option<String>,
    /// Id of the last inquiry of the previous page (newest first).
    before: Option<Uuid>,
    /// Page size, 1–100 (default 25).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct InquiryPage {
    pub items: Vec<Inquiry>,
    pub next_before: Option<Uuid>,
}

/// List the clinic's inquiries, newest first.
#[utoipa::path(get, path = "/api/v1/inquiries", params(InquiryList), tag = "inquiries",
    responses((status = 200, body = InquiryPage), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn list_inquiries(
    State(st): State<AppState>,
    staff: Staff,
    ApiQuery(q): ApiQuery<InquiryList>,
) -> ApiResult<Json<InquiryPage>> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(InquiryStatus::from_code(s).ok_or_else(|| {
            FieldErrors::single("status", "Use new, contacted, converted or closed.")
        })?),
    };
    let limit = page_size(q.limit);
    let items = st
        .store
        .list_inquiries(
            &staff.actor(),
            staff.clinic_id(),
            status,
            q.before,
            limit + 1,
        )
        .await?;
    let (items, next_before) = split_page(items, limit, |x| x.id);
    Ok(Json(InquiryPage {
        items: items.into_iter().map(Inquiry::from).collect(),
        next_before,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct InquiryDetail {
    pub inquiry: Inquiry,
    pub notes: Vec<InquiryNote>,
}

async fn detail(st: &AppState, staff: &Staff, id: Uuid) -> ApiResult<InquiryDetail> {
    let (inquiry, notes) = st
        .store
        .inquiry(&staff.actor(), staff.clinic_id(), id)
        .await?;
    Ok(InquiryDetail {
        inquiry: inquiry.into(),
        notes: notes.into_iter().map(InquiryNote::from).collect(),
    })
}

/// Read one inquiry with its notes.
#[utoipa::path(get, path = "/api/v1/inquiries/{id}", params(("id" = String, Path, description = "Inquiry id")), tag = "inquiries",
    responses((status = 200, body = InquiryDetail), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn get_inquiry(
    State(st): State<AppState>,
    staff: Staff,
    Path(iid): Path<String>,
) -> ApiResult<Json<InquiryDetail>> {
    Ok(Json(detail(&st, &staff, api_id(&iid)?).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct InquiryUpdate {
    /// `new`, `contacted` or `closed` (conversion has its own endpoint).
    pub status: String,
    /// A note to add.
    #[serde(default)]
    pub note: Option<String>,
}

/// Change an inquiry's status and/or add a note.
#[utoipa::path(patch, path = "/api/v1/inquiries/{id}", params(("id" = String, Path, description = "Inquiry id")), request_body = InquiryUpdate, tag = "inquiries",
    responses((status = 200, body = InquiryDetail), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn update_inquiry(
    State(st): State<AppState>,
    staff: Staff,
    Path(iid): Path<String>,
    body: ApiBody,
) -> ApiResult<Json<InquiryDetail>> {
    let body: InquiryUpdate = body.json()?;
    let iid = api_id(&iid)?;
    let mut errors = FieldErrors::new();
    let status = InquiryStatus::from_code(&body.status);
    if status.is_none() {
        errors.add("status", "Use new, contacted or closed.");
    }
    let note = errors.check(
        "note",
        optional(body.note.as_deref().unwrap_or(""), Message::parse),
    );
    let (Some(status), Some(note)) = (status, note) else {
        return Err(errors.into());
    };
    st.store
        .update_inquiry(
            &staff.actor(),
            staff.clinic_id(),
            iid,
            status,
            note.as_ref(),
        )
        .await?;
    Ok(Json(detail(&st, &staff, iid).await?))
}

/// Register the person behind an inquiry as a patient (marks the inquiry converted).
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/convert", params(("id" = String, Path, description = "Inquiry id")), request_body = PatientForm, tag = "inquiries",
    responses((status = 201, body = PatientChart), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn convert_inquiry(
    State(st): State<AppState>,
    staff: Staff,
    Path(iid): Path<String>,
    body: ApiBody,
) -> ApiResult<impl IntoResponse> {
    let form: PatientForm = body.json()?;
    let iid = api_id(&iid)?;
    let d = form.details()?;
    let pid = st
        .store
        .convert_inquiry(&staff.actor(), staff.clinic_id(), iid, &d)
        .await?;
    Ok((StatusCode::CREATED, Json(chart(&st, &staff, pid).await?)))
}
