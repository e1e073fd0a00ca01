//! The JSON API under `/api/v1`, for integrations and scripts: the same resources as the pages,
//! authenticated by per-user bearer tokens, with errors as RFC 9457 problem documents naming
//! the field at fault. The OpenAPI document is generated from these handlers.

use crate::AppState;
use crate::auth::ApiStaff;
use crate::error::{AppError, AppResult, Problem};
use axum::Json;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use kap_domain::FieldErrors;
use kap_domain::inquiry::InquiryStatus;
use kap_domain::patient::{MeasurementForm, PatientForm, PatientQuery};
use kap_domain::permission::Action;
use kap_domain::person::{Message, optional};
use kap_store::inquiry::{Inquiry, InquiryNote};
use kap_store::patient::{Measurement, Patient, PatientSummary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// A request body, read but not yet parsed: handlers check permission first and only then
/// parse it, so a refused caller learns nothing from how their body was judged.
pub struct ApiBody(axum::body::Bytes);

impl FromRequest<AppState> for ApiBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> AppResult<Self> {
        axum::body::Bytes::from_request(req, state)
            .await
            .map(ApiBody)
            .map_err(|rej| crate::error::body_rejection(rej.status()).api())
    }
}

/// Query parameters whose parse failures become problem documents (not a bare 400).
pub struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<AppState>
    for ApiQuery<T>
{
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> AppResult<Self> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|rej| AppError::Invalid(FieldErrors::single("query", rej.body_text())).api())
    }
}

impl ApiBody {
    /// Parses the body as JSON; a parse failure is a problem document naming `body`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> AppResult<T> {
        serde_json::from_slice(&self.0).map_err(|e| {
            AppError::Invalid(FieldErrors::single(
                "body",
                format!("The JSON body could not be read: {e}"),
            ))
            .api()
        })
    }
}

fn id(s: &str) -> AppResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| AppError::NotFound.api())
}

fn api<T>(r: Result<T, kap_store::StoreError>) -> AppResult<T> {
    r.map_err(|e| AppError::from(e).api())
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
    /// Name (word prefix), date of birth (YYYY-MM-DD), phone digits or email.
    q: Option<String>,
    /// Id of the last patient of the previous page.
    after: Option<Uuid>,
    /// Page size, 1–100 (default 25).
    limit: Option<i64>,
}

fn page_size(l: Option<i64>) -> i64 {
    l.unwrap_or(25).clamp(1, 100)
}

/// Search the clinic's patients, by name, in keyset pages.
#[utoipa::path(get, path = "/api/v1/patients", params(PatientSearch), tag = "patients",
    responses((status = 200, body = PatientPage), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn search_patients(
    State(st): State<AppState>,
    staff: ApiStaff,
    ApiQuery(q): ApiQuery<PatientSearch>,
) -> AppResult<Json<PatientPage>> {
    staff.require(Action::SearchPatients)?;
    let limit = page_size(q.limit);
    let query = PatientQuery::parse(q.q.as_deref().unwrap_or(""));
    let items = api(st
        .store
        .search_patients(
            &staff.0.actor(),
            staff.0.clinic_id(),
            &query,
            q.after,
            limit + 1,
        )
        .await)?;
    let (items, next_after) = crate::pages::split_page(items, limit, |x| x.id);
    Ok(Json(PatientPage { items, next_after }))
}

#[derive(Serialize, ToSchema)]
pub struct PatientChart {
    pub patient: Patient,
    /// Weight (grams) and height (millimetres), newest first.
    pub measurements: Vec<Measurement>,
}

/// Register a patient.
#[utoipa::path(post, path = "/api/v1/patients", request_body = PatientForm, tag = "patients",
    responses((status = 201, body = PatientChart), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn create_patient(
    State(st): State<AppState>,
    staff: ApiStaff,
    body: ApiBody,
) -> AppResult<impl IntoResponse> {
    staff.require(Action::CreatePatient)?;
    let form: PatientForm = body.json()?;
    let d = form
        .parse(chrono::Utc::now().date_naive())
        .map_err(|e| AppError::Invalid(e).api())?;
    let pid = api(st
        .store
        .create_patient(&staff.0.actor(), staff.0.clinic_id(), &d)
        .await)?;
    let (patient, measurements) = api(st
        .store
        .patient(&staff.0.actor(), staff.0.clinic_id(), pid)
        .await)?;
    Ok((
        StatusCode::CREATED,
        Json(PatientChart {
            patient,
            measurements,
        }),
    ))
}

/// Read a patient's record and measurement history.
#[utoipa::path(get, path = "/api/v1/patients/{id}", params(("id" = String, Path, description = "Patient id")), tag = "patients",
    responses((status = 200, body = PatientChart), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_patient(
    State(st): State<AppState>,
    staff: ApiStaff,
    Path(pid): Path<String>,
) -> AppResult<Json<PatientChart>> {
    staff.require(Action::ReadPatient)?;
    let pid = id(&pid)?;
    let (patient, measurements) = api(st
        .store
        .patient(&staff.0.actor(), staff.0.clinic_id(), pid)
        .await)?;
    Ok(Json(PatientChart {
        patient,
        measurements,
    }))
}

/// Replace a patient's registry details.
#[utoipa::path(put, path = "/api/v1/patients/{id}", params(("id" = String, Path, description = "Patient id")), request_body = PatientForm, tag = "patients",
    responses((status = 200, body = PatientChart), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_patient(
    State(st): State<AppState>,
    staff: ApiStaff,
    Path(pid): Path<String>,
    body: ApiBody,
) -> AppResult<Json<PatientChart>> {
    staff.require(Action::UpdatePatient)?;
    let form: PatientForm = body.json()?;
    let pid = id(&pid)?;
    let d = form
        .parse(chrono::Utc::now().date_naive())
        .map_err(|e| AppError::Invalid(e).api())?;
    api(st
        .store
        .update_patient(&staff.0.actor(), staff.0.clinic_id(), pid, &d)
        .await)?;
    let (patient, measurements) = api(st
        .store
        .patient(&staff.0.actor(), staff.0.clinic_id(), pid)
        .await)?;
    Ok(Json(PatientChart {
        patient,
        measurements,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
}

/// Record a weight and/or height.
#[utoipa::path(post, path = "/api/v1/patients/{id}/measurements", params(("id" = String, Path, description = "Patient id")), request_body = MeasurementForm, tag = "patients",
    responses((status = 201, body = Created), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn record_measurement(
    State(st): State<AppState>,
    staff: ApiStaff,
    Path(pid): Path<String>,
    body: ApiBody,
) -> AppResult<impl IntoResponse> {
    staff.require(Action::RecordBodyMeasurement)?;
    let form: MeasurementForm = body.json()?;
    let pid = id(&pid)?;
    let m = form.parse().map_err(|e| AppError::Invalid(e).api())?;
    let mid = api(st
        .store
        .record_measurement(&staff.0.actor(), staff.0.clinic_id(), pid, &m)
        .await)?;
    Ok((StatusCode::CREATED, Json(Created { id: mid })))
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
async fn list_inquiries(
    State(st): State<AppState>,
    staff: ApiStaff,
    ApiQuery(q): ApiQuery<InquiryList>,
) -> AppResult<Json<InquiryPage>> {
    staff.require(Action::ReadInquiry)?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(InquiryStatus::parse(s).ok_or_else(|| {
            AppError::Invalid(FieldErrors::single(
                "status",
                "Use new, contacted, converted or closed.",
            ))
            .api()
        })?),
    };
    let limit = page_size(q.limit);
    let items = api(st
        .store
        .list_inquiries(
            &staff.0.actor(),
            staff.0.clinic_id(),
            status,
            q.before,
            limit + 1,
        )
        .await)?;
    let (items, next_before) = crate::pages::split_page(items, limit, |x| x.id);
    Ok(Json(InquiryPage { items, next_before }))
}

#[derive(Serialize, ToSchema)]
pub struct InquiryDetail {
    pub inquiry: Inquiry,
    pub notes: Vec<InquiryNote>,
}

/// Read one inquiry with its notes.
#[utoipa::path(get, path = "/api/v1/inquiries/{id}", params(("id" = String, Path, description = "Inquiry id")), tag = "inquiries",
    responses((status = 200, body = InquiryDetail), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_inquiry(
    State(st): State<AppState>,
    staff: ApiStaff,
    Path(iid): Path<String>,
) -> AppResult<Json<InquiryDetail>> {
    staff.require(Action::ReadInquiry)?;
    let iid = id(&iid)?;
    let (inquiry, notes) = api(st
        .store
        .inquiry(&staff.0.actor(), staff.0.clinic_id(), iid)
        .await)?;
    Ok(Json(InquiryDetail { inquiry, notes }))
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
async fn update_inquiry(
    State(st): State<AppState>,
    staff: ApiStaff,
    Path(iid): Path<String>,
    body: ApiBody,
) -> AppResult<Json<InquiryDetail>> {
    staff.require(Action::UpdateInquiry)?;
    let body: InquiryUpdate = body.json()?;
    let iid = id(&iid)?;
    let mut errors = FieldErrors::new();
    let status = InquiryStatus::parse(&body.status);
    if status.is_none() {
        errors.add("status", "Use new, contacted or closed.");
    }
    let note = errors.check(
        "note",
        optional(body.note.as_deref().unwrap_or(""), Message::parse),
    );
    let (Some(status), Some(note)) = (status, note) else {
        return Err(AppError::Invalid(errors).api());
    };
    api(st
        .store
        .update_inquiry(
            &staff.0.actor(),
            staff.0.clinic_id(),
            iid,
            status,
            note.as_ref().map(|n| n.as_str()),
        )
        .await)?;
    let (inquiry, notes) = api(st
        .store
        .inquiry(&staff.0.actor(), staff.0.clinic_id(), iid)
        .await)?;
    Ok(Json(InquiryDetail { inquiry, notes }))
}

/// Register the person behind an inquiry as a patient (marks the inquiry converted).
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/convert", params(("id" = String, Path, description = "Inquiry id")), request_body = PatientForm, tag = "inquiries",
    responses((status = 201, body = PatientChart), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn convert_inquiry(
    State(st): State<AppState>,
    staff: ApiStaff,
    Path(iid): Path<String>,
    body: ApiBody,
) -> AppResult<impl IntoResponse> {
    staff.require(Action::ConvertInquiry)?;
    let form: PatientForm = body.json()?;
    let iid = id(&iid)?;
    let d = form
        .parse(chrono::Utc::now().date_naive())
        .map_err(|e| AppError::Invalid(e).api())?;
    let pid = api(st
        .store
        .convert_inquiry(&staff.0.actor(), staff.0.clinic_id(), iid, &d)
        .await)?;
    let (patient, measurements) = api(st
        .store
        .patient(&staff.0.actor(), staff.0.clinic_id(), pid)
        .await)?;
    Ok((
        StatusCode::CREATED,
        Json(PatientChart {
            patient,
            measurements,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct InstrumentInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    /// `self_report` (item text shown) or `clinician_rated` (score entry only).
    pub administration: String,
    pub recall: Option<&'static str>,
    pub max_total: i32,
    pub loinc_panel: Option<&'static str>,
    pub loinc_total: Option<&'static str>,
    pub licence: &'static str,
    pub attribution: &'static str,
    pub items: Vec<ItemInfo>,
    pub bands: Vec<BandInfo>,
}

#[derive(Serialize, ToSchema)]
pub struct ItemInfo {
    pub id: &'static str,
    pub text: Option<&'static str>,
    pub short: &'static str,
    pub loinc: Option<&'static str>,
    pub scored: bool,
    /// Allowed values with their labels.
    pub options: Vec<(i32, &'static str)>,
}

#[derive(Serialize, ToSchema)]
pub struct BandInfo {
    pub min: i32,
    pub max: i32,
    pub label: &'static str,
}

/// The built-in instruments, with items, answer options, bands, codes and licence.
#[utoipa::path(get, path = "/api/v1/instruments", tag = "measures",
    responses((status = 200, body = Vec<InstrumentInfo>), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn list_instruments(staff: ApiStaff) -> AppResult<Json<Vec<InstrumentInfo>>> {
    staff.require(Action::SendQuestionnaire)?;
    Ok(Json(
        kap_domain::instruments::ALL
            .iter()
            .map(|i| InstrumentInfo {
                code: i.code,
                name: i.name,
                title: i.title,
                administration: i.administration.as_str().to_owned(),
                recall: i.recall,
                max_total: i.max_total,
                loinc_panel: i.loinc_panel,
                loinc_total: i.loinc_total,
                licence: i.licence,
                attribution: i.attribution,
                items: i
                    .items
                    .iter()
                    .map(|it| ItemInfo {
                        id: it.id,
                        text: it.text,
                        short: it.short,
                        loinc: it.loinc,
                        scored: it.scored,
                        options: it.options.iter().map(|o| (o.value, o.label)).collect(),
                    })
                    .collect(),
                bands: i
                    .bands
                    .iter()
                    .map(|b| BandInfo {
                        min: b.min,
                        max: b.max,
                        label: b.label,
                    })
                    .collect(),
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NewResponse {
    /// Instrument code, e.g. `phq9`.
    pub instrument: String,
    /// `baseline`, `pre_dose`, `between_sessions` or `follow_up`.
    pub context: String,
    /// Item id → answer value.
    pub answers: std::collections::BTreeMap<String, i32>,
}

#[derive(Serialize, ToSchema)]
pub struct ResponseResult {
    pub id: Uuid,
    pub complete: bool,
    pub total: Option<i32>,
    pub band: Option<&'static str>,
    pub screen: Option<&'static str>,
    /// Items (or item groups) still unanswered.
    pub missing: Vec<String>,
    /// Safety flags raised by the answers.
    pub flags: Vec<String>,
    /// Ids of the alerts raised (already stored when this returns).
    pub alerts: Vec<Uuid>,
}

/// Record a questionnaire response for a patient; it is scored, and any safety alert is stored
/// in the same transaction before this returns.
#[utoipa::path(post, path = "/api/v1/patients/{id}/responses", params(("id" = String, Path, description = "Patient id")), request_body = NewResponse, tag = "measures",
    responses((status = 201, body = ResponseResult), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_response(
    State(st): State<AppState>,
    staff: ApiStaff,
    Path(pid): Path<String>,
    body: ApiBody,
) -> AppResult<impl IntoResponse> {
    staff.require(Action::EnterResponse)?;
    let req: NewResponse = body.json()?;
    let pid = id(&pid)?;
    let ins = kap_domain::instruments::by_code(&req.instrument).ok_or_else(|| {
        AppError::Invalid(FieldErrors::single(
            "instrument",
            "Unknown instrument; see /api/v1/instruments.",
        ))
        .api()
    })?;
    let context =
        kap_domain::instruments::ResponseContext::parse(&req.context).ok_or_else(|| {
            AppError::Invalid(FieldErrors::single(
                "context",
                "Use baseline, pre_dose, between_sessions or follow_up.",
            ))
            .api()
        })?;
    let scored = kap_domain::instruments::score(ins, &req.answers)
        .map_err(|e| AppError::Invalid(FieldErrors::single("answers", e.to_string())).api())?;
    let rec = api(st
        .store
        .record_response(
            &staff.0.actor(),
            staff.0.clinic_id(),
            pid,
            ins,
            context,
            "api",
            &req.answers,
            &scored,
            None,
        )
        .await)?;
    Ok((
        StatusCode::CREATED,
        Json(ResponseResult {
            id: rec.response_id,
            complete: scored.complete,
            total: scored.total,
            band: scored.band,
            screen: scored.screen,
            missing: scored.missing.clone(),
            flags: scored
                .flags
                .iter()
                .map(|f| f.flag.as_str().to_owned())
                .collect(),
            alerts: rec.alerts,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ResponseWithAnswers {
    #[serde(flatten)]
    pub response: kap_store::measure::Response,
    pub answers: std::collections::BTreeMap<String, i32>,
}

/// A patient's questionnaire responses with their item answers, oldest first.
#[utoipa::path(get, path = "/api/v1/patients/{id}/responses", params(("id" = String, Path, description = "Patient id")), tag = "measures",
    responses((status = 200, body = Vec<ResponseWithAnswers>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn list_responses(
    State(st): State<AppState>,
    staff: ApiStaff,
    Path(pid): Path<String>,
) -> AppResult<Json<Vec<ResponseWithAnswers>>> {
    staff.require(Action::ReadResponses)?;
    let pid = id(&pid)?;
    let (rows, mut answers) = api(st
        .store
        .responses_of(&staff.0.actor(), staff.0.clinic_id(), pid)
        .await)?;
    Ok(Json(
        rows.into_iter()
            .map(|r| {
                let a = answers.remove(&r.id).unwrap_or_default();
                ResponseWithAnswers {
                    response: r,
                    answers: a,
                }
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct TrajectoryInfo {
    pub instrument: &'static str,
    pub points: Vec<TrajectoryPoint>,
    pub baseline: Option<i32>,
    pub latest: Option<i32>,
    pub change: Option<i32>,
    /// `remission`, `response`, `worsening` or `no response yet`; absent with fewer than two
    /// complete responses.
    pub classification: Option<&'static str>,
    pub response: Option<bool>,
    pub remission: Option<bool>,
    pub worsening: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct TrajectoryPoint {
    pub at: chrono::DateTime<chrono::Utc>,
    pub total: Option<i32>,
    pub complete: bool,
}

/// Each instrument's score trajectory with baseline, latest, change and classification under
/// the clinic's outcome rules.
#[utoipa::path(get, path = "/api/v1/patients/{id}/trajectory", params(("id" = String, Path, description = "Patient id")), tag = "measures",
    responses((status = 200, body = Vec<TrajectoryInfo>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn trajectory(
    State(st): State<AppState>,
    staff: ApiStaff,
    Path(pid): Path<String>,
) -> AppResult<Json<Vec<TrajectoryInfo>>> {
    staff.require(Action::ReadResponses)?;
    let pid = id(&pid)?;
    let (rows, _) = api(st
        .store
        .responses_of(&staff.0.actor(), staff.0.clinic_id(), pid)
        .await)?;
    let protocol = api(st.store.protocol(staff.0.clinic_id()).await)?;
    let mut out = vec![];
    for ins in kap_domain::instruments::ALL.iter().copied() {
        let mine: Vec<_> = rows.iter().filter(|r| r.instrument == ins.code).collect();
        if mine.is_empty() {
            continue;
        }
        let totals: Vec<i32> = mine.iter().filter_map(|r| r.total).collect();
        let o =
            kap_domain::instruments::outcome::outcome_of(&totals, &protocol.rules_for(ins.code));
        out.push(TrajectoryInfo {
            instrument: ins.code,
            points: mine
                .iter()
                .map(|r| TrajectoryPoint {
                    at: r.answered_at,
                    total: r.total,
                    complete: r.complete,
                })
                .collect(),
            baseline: totals.first().copied(),
            latest: totals.last().copied(),
            change: o.map(|o| o.change),
            classification: o.map(|o| o.label()),
            response: o.map(|o| o.response),
            remission: o.map(|o| o.remission),
            worsening: o.map(|o| o.worsening),
        });
    }
    Ok(Json(out))
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Kapstone API", description = "Patients and inquiries of one clinic, as the token's staff member sees them. Every call is audited."),
    modifiers(&BearerAuth),
    tags((name = "patients", description = "The patient registry"), (name = "inquiries", description = "The inquiry inbox"), (name = "measures", description = "Questionnaires, scores, alerts and trajectories"))
)]
struct ApiDoc;

/// The API routes and the OpenAPI document describing them.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(search_patients, create_patient))
        .routes(routes!(get_patient, update_patient))
        .routes(routes!(record_measurement))
        .routes(routes!(list_inquiries))
        .routes(routes!(get_inquiry, update_inquiry))
        .routes(routes!(convert_inquiry))
        .routes(routes!(list_instruments))
        .routes(routes!(list_responses, create_response))
        .routes(routes!(trajectory))
        .split_for_parts()
}

/// The OpenAPI document as served at `/api/openapi.json`.
pub fn openapi_json() -> String {
    router().1.to_pretty_json().unwrap_or_default()
}
