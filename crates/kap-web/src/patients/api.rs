//! The patient registry's API. Request and response types live here, apart from the stored
//! rows and the domain types, so storage can change without breaking clients.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiBody, ApiQuery, api_id, page_size, split_page};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, Utc};
use kap_domain::patient::{self as domain, PatientQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A patient's registry record as stored.
#[derive(Serialize, ToSchema)]
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

fn text<T: ToString>(o: &Option<T>) -> Option<String> {
    o.as_ref().map(ToString::to_string)
}

impl From<domain::Patient> for Patient {
    fn from(p: domain::Patient) -> Self {
        let d = p.details;
        let ec = d.emergency_contact.as_ref();
        Patient {
            id: p.id,
            full_name: d.full_name.to_string(),
            date_of_birth: d.date_of_birth.date(),
            sex: d.sex.as_str().to_owned(),
            email: text(&d.email),
            phone: text(&d.phone),
            preferred_contact: d.preferred_contact.as_str().to_owned(),
            address: text(&d.address),
            emergency_name: ec.map(|e| e.name.to_string()),
            emergency_phone: ec.map(|e| e.phone.to_string()),
            emergency_relationship: ec.and_then(|e| text(&e.relationship)),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// One line of a search result.
#[derive(Serialize, ToSchema)]
pub struct PatientSummary {
    pub id: Uuid,
    pub full_name: String,
    pub date_of_birth: NaiveDate,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl From<domain::PatientSummary> for PatientSummary {
    fn from(p: domain::PatientSummary) -> Self {
        PatientSummary {
            id: p.id,
            full_name: p.full_name.to_string(),
            date_of_birth: p.date_of_birth.date(),
            email: text(&p.email),
            phone: text(&p.phone),
        }
    }
}

/// A weight and/or height measurement.
#[derive(Serialize, ToSchema)]
pub struct Measurement {
    pub id: Uuid,
    pub measured_at: DateTime<Utc>,
    pub weight_g: Option<i32>,
    pub height_mm: Option<i32>,
    pub recorded_by_name: Option<String>,
}

impl From<domain::BodyMeasurementRecord> for Measurement {
    fn from(m: domain::BodyMeasurementRecord) -> Self {
        Measurement {
            id: m.id,
            measured_at: m.measured_at,
            weight_g: m.weight.map(|w| w.grams()),
            height_mm: m.height.map(|h| h.mm()),
            recorded_by_name: m.recorded_by_name,
        }
    }
}

/// What the patient form (or an API client) sends. Every field is text, as a browser sends it.
#[derive(Deserialize, ToSchema, Default)]
pub struct PatientForm {
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub date_of_birth: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub preferred_contact: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub emergency_name: String,
    #[serde(default)]
    pub emergency_phone: String,
    #[serde(default)]
    pub emergency_relationship: String,
}

impl PatientForm {
    /// The patient's details, or every problem named by field.
    pub fn details(self) -> ApiResult<domain::PatientDetails> {
        Ok(domain::PatientForm {
            full_name: self.full_name,
            date_of_birth: self.date_of_birth,
            sex: self.sex,
            email: self.email,
            phone: self.phone,
            preferred_contact: self.preferred_contact,
            address: self.address,
            emergency_name: self.emergency_name,
            emergency_phone: self.emergency_phone,
            emergency_relationship: self.emergency_relationship,
        }
        .parse(Utc::now().date_naive())?)
    }
}

/// A weight and/or height measurement as entered.
#[derive(Deserialize, ToSchema)]
pub struct MeasurementForm {
    #[serde(default)]
    pub weight_kg: String,
    #[serde(default)]
    pub height_cm: String,
}

#[derive(Serialize, ToSchema)]
pub struct PatientPage {
    pub items: Vec<PatientSummary>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<Uuid>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatientSearch {
    /// Words found anywhere in the name or email, in any order, ignoring case and accents;
    /// or a date of birth (YYYY-MM-DD); or part of a phone number (4 or more digits).
    q: Option<String>,
    /// Id of the last patient of the previous page.
    after: Option<Uuid>,
    /// Page size, 1–100 (default 25).
    limit: Option<i64>,
}

/// Search the clinic's patients, by name, in keyset pages.
#[utoipa::path(get, path = "/api/v1/patients", params(PatientSearch), tag = "patients",
    responses((status = 200, body = PatientPage), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn search_patients(
    State(st): State<AppState>,
    staff: Staff,
    ApiQuery(q): ApiQuery<PatientSearch>,
) -> ApiResult<Json<PatientPage>> {
    let limit = page_size(q.limit);
    let query = PatientQuery::parse(q.q.as_deref().unwrap_or(""));
    let items = st
        .store
        .search_patients(
            &staff.actor(),
            staff.clinic_id(),
            &query,
            q.after,
            limit + 1,
        )
        .await?;
    let (items, next_after) = split_page(items, limit, |x| x.id);
    Ok(Json(PatientPage {
        items: items.into_iter().map(PatientSummary::from).collect(),
        next_after,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct PatientChart {
    pub patient: Patient,
    /// Weight (grams) and height (millimetres), newest first.
    pub measurements: Vec<Measurement>,
}

/// The patient's record and measurements as the API returns them (an audited read).
pub(crate) async fn chart(st: &AppState, staff: &Staff, id: Uuid) -> ApiResult<PatientChart> {
    let (patient, measurements) = st
        .store
        .patient(&staff.actor(), staff.clinic_id(), id)
        .await?;
    Ok(PatientChart {
        patient: patient.into(),
        measurements: measurements.into_iter().map(Measurement::from).collect(),
    })
}

/// Register a patient.
#[utoipa::path(post, path = "/api/v1/patients", request_body = PatientForm, tag = "patients",
    responses((status = 201, body = PatientChart), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn create_patient(
    State(st): State<AppState>,
    staff: Staff,
    body: ApiBody,
) -> ApiResult<impl IntoResponse> {
    let d = body.json::<PatientForm>()?.details()?;
    let pid = st
        .store
        .create_patient(&staff.actor(), staff.clinic_id(), &d)
        .await?;
    Ok((StatusCode::CREATED, Json(chart(&st, &staff, pid).await?)))
}

/// Read a patient's record and measurement history.
#[utoipa::path(get, path = "/api/v1/patients/{id}", params(("id" = String, Path, description = "Patient id")), tag = "patients",
    responses((status = 200, body = PatientChart), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn get_patient(
    State(st): State<AppState>,
    staff: Staff,
    Path(pid): Path<String>,
) -> ApiResult<Json<PatientChart>> {
    Ok(Json(chart(&st, &staff, api_id(&pid)?).await?))
}

/// Replace a patient's registry details.
#[utoipa::path(put, path = "/api/v1/patients/{id}", params(("id" = String, Path, description = "Patient id")), request_body = PatientForm, tag = "patients",
    responses((status = 200, body = PatientChart), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn update_patient(
    State(st): State<AppState>,
    staff: Staff,
    Path(pid): Path<String>,
    body: ApiBody,
) -> ApiResult<Json<PatientChart>> {
    let form: PatientForm = body.json()?;
    let pid = api_id(&pid)?;
    let d = form.details()?;
    st.store
        .update_patient(&staff.actor(), staff.clinic_id(), pid, &d)
        .await?;
    Ok(Json(chart(&st, &staff, pid).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
}

/// Record a weight and/or height.
#[utoipa::path(post, path = "/api/v1/patients/{id}/measurements", params(("id" = String, Path, description = "Patient id")), request_body = MeasurementForm, tag = "patients",
    responses((status = 201, body = Created), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn record_measurement(
    State(st): State<AppState>,
    staff: Staff,
    Path(pid): Path<String>,
    body: ApiBody,
) -> ApiResult<impl IntoResponse> {
    let form: MeasurementForm = body.json()?;
    let pid = api_id(&pid)?;
    let m = domain::MeasurementForm {
        weight_kg: form.weight_kg,
        height_cm: form.height_cm,
    }
    .parse()?;
    let mid = st
        .store
        .record_measurement(&staff.actor(), staff.clinic_id(), pid, &m)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: mid })))
}
