//! Dosing sessions over the API: one session with its vitals, administrations and where it
//! stands; vitals posted by a device integration (the same checks and alerts as the flowsheet;
//! a repeated `client_id` returns the first save).

use crate::AppState;
use crate::http::Staff;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiBody, api_id};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kap_domain::dosing::flowsheet::VitalsForm;
use kap_domain::dosing::order::describe;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct VitalsOut {
    pub id: Uuid,
    pub taken_at: DateTime<Utc>,
    pub entered_at: DateTime<Utc>,
    pub systolic: Option<f64>,
    pub diastolic: Option<f64>,
    pub heart_rate: Option<f64>,
    pub spo2: Option<f64>,
    pub respiratory_rate: Option<f64>,
    /// Entered more than 10 minutes after it was taken.
    pub late: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AdministrationOut {
    pub id: Uuid,
    /// e.g. "Dose 36.5 mg (0.5 mg/kg of 73 kg)".
    pub order: String,
    pub mg: f64,
    pub mg_per_kg: Option<f64>,
    pub lot: String,
    pub expiry: chrono::NaiveDate,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub given_by: String,
    pub supervised_by: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionOut {
    pub id: Uuid,
    pub appointment_id: Uuid,
    pub course_id: Uuid,
    pub patient_id: Uuid,
    pub protocol_id: Uuid,
    /// `pre_dose`, `dosing`, `monitoring`, `ready`, `discharged`, `signed` or `deferred`.
    pub stage: String,
    pub vitals: Vec<VitalsOut>,
    pub administrations: Vec<AdministrationOut>,
    pub adverse_events: i64,
    pub discharged_at: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
}

/// One dosing session.
#[utoipa::path(get, path = "/api/v1/dosing/{id}", params(("id" = String, Path, description = "Dosing session id")), tag = "dosing",
    responses((status = 200, body = SessionOut), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn session(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionOut>> {
    let r = st
        .store
        .dosing_session(&staff.actor(), staff.clinic_id(), api_id(&id)?)
        .await?;
    let s = &r.session;
    Ok(Json(SessionOut {
        id: s.id,
        appointment_id: s.appointment_id,
        course_id: s.course_id,
        patient_id: s.patient_id,
        protocol_id: s.protocol_id,
        stage: s.stage(kap_store::now()).as_str().to_owned(),
        vitals: s
            .vitals
            .iter()
            .map(|v| VitalsOut {
                id: v.id,
                taken_at: v.at,
                entered_at: v.entered.entered_at,
                systolic: v.systolic,
                diastolic: v.diastolic,
                heart_rate: v.heart_rate,
                spo2: v.spo2,
                respiratory_rate: v.respiratory_rate,
                late: v.late(),
            })
            .collect(),
        administrations: s
            .administrations
            .iter()
            .filter_map(|a| {
                let o = s.orders.iter().find(|o| o.id == a.order_id)?;
                Some(AdministrationOut {
                    id: a.id,
                    order: describe(o),
                    mg: o.mg,
                    mg_per_kg: o.mg_per_kg,
                    lot: a.lot.clone(),
                    expiry: a.expiry,
                    started_at: a.started_at,
                    finished_at: a.finished_at(),
                    given_by: a.given_by_name.clone(),
                    supervised_by: a.supervised_by_name.clone(),
                })
            })
            .collect(),
        adverse_events: s.adverse_events.len() as i64,
        discharged_at: s.discharge.as_ref().map(|d| d.at),
        signed_at: s.signature.as_ref().map(|x| x.at),
    }))
}

/// Vital signs from a monitor or a tablet.
#[derive(Deserialize, ToSchema)]
pub struct PostVitals {
    /// When they were taken (default: now).
    pub taken_at: Option<DateTime<Utc>>,
    pub systolic: Option<f64>,
    pub diastolic: Option<f64>,
    pub heart_rate: Option<f64>,
    pub spo2: Option<f64>,
    pub respiratory_rate: Option<f64>,
    /// The sender's id for this reading: a retry with the same id is saved once.
    pub client_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct VitalsSavedOut {
    pub id: Uuid,
    /// Alerts raised, one per measure beyond the protocol's alert limits.
    pub alerts: Vec<Uuid>,
    /// The reading had been saved before (same client_id).
    pub repeated: bool,
}

/// Records vital signs on a session; values beyond the protocol's alert limits raise alerts.
#[utoipa::path(post, path = "/api/v1/dosing/{id}/vitals", params(("id" = String, Path, description = "Dosing session id")), request_body = PostVitals, tag = "dosing",
    responses((status = 201, body = VitalsSavedOut), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn post_vitals(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    body: ApiBody,
) -> ApiResult<(StatusCode, Json<VitalsSavedOut>)> {
    let req: PostVitals = body.json()?;
    let now = kap_store::now();
    let saved = st
        .store
        .record_vitals(
            &staff.actor(),
            staff.clinic_id(),
            api_id(&id)?,
            &VitalsForm {
                systolic: req.systolic,
                diastolic: req.diastolic,
                heart_rate: req.heart_rate,
                spo2: req.spo2,
                respiratory_rate: req.respiratory_rate,
            },
            req.taken_at.unwrap_or(now),
            req.client_id,
            now,
        )
        .await?;
    Ok((
        if saved.repeated {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(VitalsSavedOut {
            id: saved.id,
            alerts: saved.alerts,
            repeated: saved.repeated,
        }),
    ))
}
