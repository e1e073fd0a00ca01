//! The measurement API: instruments, questionnaire responses (recording one raises its alerts
//! before it returns) and trajectories. Request and response types live here, apart from the
//! stored rows, so storage can change without breaking clients.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiBody, api_id};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use kap_domain::FieldErrors;
use kap_domain::instruments::outcome::outcome_of;
use kap_domain::instruments::{self, ResponseContext};
use kap_domain::measure::{QuestionnaireResponse, ResponseSource};
use kap_store::measure::response as stored;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

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
pub(super) async fn list_instruments() -> Json<Vec<InstrumentInfo>> {
    Json(
        instruments::ALL
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
    )
}

#[derive(Deserialize, ToSchema)]
pub struct NewResponse {
    /// Instrument code, e.g. `phq9`.
    pub instrument: String,
    /// `baseline`, `pre_dose`, `between_sessions` or `follow_up`.
    pub context: String,
    /// Item id → answer value.
    pub answers: BTreeMap<String, i32>,
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
pub(super) async fn create_response(
    State(st): State<AppState>,
    staff: Staff,
    Path(pid): Path<String>,
    body: ApiBody,
) -> ApiResult<impl IntoResponse> {
    let req: NewResponse = body.json()?;
    let pid = api_id(&pid)?;
    let ins = instruments::by_code(&req.instrument).ok_or_else(|| {
        FieldErrors::single("instrument", "Unknown instrument; see /api/v1/instruments.")
    })?;
    let context = ResponseContext::from_code(&req.context).ok_or_else(|| {
        FieldErrors::single(
            "context",
            "Use baseline, pre_dose, between_sessions or follow_up.",
        )
    })?;
    let scored = instruments::score(ins, &req.answers)
        .map_err(|e| FieldErrors::single("answers", e.to_string()))?;
    let rec = st
        .store
        .record_response(
            &staff.actor(),
            stored::NewResponse {
                clinic_id: staff.clinic_id(),
                patient_id: pid,
                instrument: ins,
                context,
                source: ResponseSource::Api,
                answers: &req.answers,
                scored: &scored,
                link: None,
                answered_at: kap_store::now(),
            },
        )
        .await?;
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

/// A stored response.
#[derive(Serialize, ToSchema)]
pub struct Response {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub instrument: String,
    pub context: String,
    /// `staff`, `patient_link` or `api`.
    pub source: String,
    pub complete: bool,
    pub total: Option<i32>,
    pub band: Option<String>,
    pub screen: Option<String>,
    pub answered_at: chrono::DateTime<chrono::Utc>,
    pub entered_by_name: Option<String>,
}

impl From<QuestionnaireResponse> for Response {
    fn from(r: QuestionnaireResponse) -> Self {
        Response {
            id: r.id,
            patient_id: r.patient_id,
            instrument: r.instrument.code.to_owned(),
            context: r.context.as_str().to_owned(),
            source: r.source.as_str().to_owned(),
            complete: r.complete,
            total: r.total,
            band: r.band,
            screen: r.screen,
            answered_at: r.answered_at,
            entered_by_name: r.entered_by_name,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ResponseWithAnswers {
    #[serde(flatten)]
    pub response: Response,
    pub answers: BTreeMap<String, i32>,
}

/// A patient's questionnaire responses with their item answers, oldest first.
#[utoipa::path(get, path = "/api/v1/patients/{id}/responses", params(("id" = String, Path, description = "Patient id")), tag = "measures",
    responses((status = 200, body = Vec<ResponseWithAnswers>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn list_responses(
    State(st): State<AppState>,
    staff: Staff,
    Path(pid): Path<String>,
) -> ApiResult<Json<Vec<ResponseWithAnswers>>> {
    let pid = api_id(&pid)?;
    let (rows, mut answers) = st
        .store
        .responses_of(&staff.actor(), staff.clinic_id(), pid)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ResponseWithAnswers {
                answers: answers.remove(&r.id).unwrap_or_default(),
                response: r.into(),
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
    /// `remission`, `response`, `worsening`, `above baseline` or `not yet responding`; absent
    /// with fewer than two complete responses.
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
pub(super) async fn trajectory(
    State(st): State<AppState>,
    staff: Staff,
    Path(pid): Path<String>,
) -> ApiResult<Json<Vec<TrajectoryInfo>>> {
    let pid = api_id(&pid)?;
    let (rows, _) = st
        .store
        .responses_of(&staff.actor(), staff.clinic_id(), pid)
        .await?;
    let settings = st.store.measurement_settings(staff.clinic_id()).await?;
    let mut out = vec![];
    for ins in instruments::ALL.iter().copied() {
        let mine: Vec<_> = rows
            .iter()
            .filter(|r| r.instrument.code == ins.code)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let totals: Vec<i32> = mine.iter().filter_map(|r| r.total).collect();
        let o = outcome_of(&totals, &settings.rules_for(ins.code));
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
