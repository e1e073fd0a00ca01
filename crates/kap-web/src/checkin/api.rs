//! Check-ins over the API, for clinicians' integrations: a patient's check-ins with every
//! answer, and one check-in with the alerts it raised.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::api_id;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use kap_domain::checkin::Checkin;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct CheckinQuestionnaireOut {
    pub response_id: Uuid,
    /// The instrument's code, e.g. `phq9`.
    pub instrument: String,
    pub complete: bool,
    pub total: Option<i32>,
    pub band: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CheckinReviewOut {
    pub seen_at: DateTime<Utc>,
    pub seen_by: String,
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CheckinOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub course_id: Option<Uuid>,
    pub submitted_at: DateTime<Utc>,
    /// Mood today, 0 (as low as ever) to 10 (as good as ever).
    pub mood: u8,
    /// Hours slept the night before, to the half hour.
    pub sleep_hours: Option<f64>,
    /// `poor`, `fair` or `good`.
    pub sleep_quality: Option<String>,
    /// Side-effect codes ticked, e.g. `urinary_symptoms`.
    pub side_effects: Vec<String>,
    pub side_effects_note: Option<String>,
    /// The intention the patient was shown, and their reflection on it.
    pub intention: Option<String>,
    pub reflection: Option<String>,
    pub journal: Option<String>,
    pub questionnaire: Option<CheckinQuestionnaireOut>,
    /// Alerts raised (its own and its questionnaire's), and the most severe.
    pub alerts: i32,
    pub top_severity: Option<String>,
    /// Set once a clinician marks it seen.
    pub review: Option<CheckinReviewOut>,
}

impl From<Checkin> for CheckinOut {
    fn from(c: Checkin) -> CheckinOut {
        let a = c.answers;
        CheckinOut {
            id: c.id,
            patient_id: c.patient_id,
            course_id: c.course_id,
            submitted_at: c.submitted_at,
            mood: a.mood.value(),
            sleep_hours: a.sleep_hours.map(|h| f64::from(h.half_hours()) / 2.0),
            sleep_quality: a.sleep_quality.map(|q| q.as_str().to_owned()),
            side_effects: a
                .side_effects
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            side_effects_note: a.side_effects_note.map(|t| t.to_string()),
            intention: c.intention,
            reflection: a.reflection.map(|t| t.to_string()),
            journal: a.journal.map(|t| t.to_string()),
            questionnaire: c.questionnaire.map(|q| CheckinQuestionnaireOut {
                response_id: q.response_id,
                instrument: q.instrument.code.to_owned(),
                complete: q.complete,
                total: q.total,
                band: q.band,
            }),
            alerts: c.alerts,
            top_severity: c.top_severity.map(|s| s.as_str().to_owned()),
            review: c.review.map(|r| CheckinReviewOut {
                seen_at: r.at,
                seen_by: r.by_name,
                note: r.note,
            }),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PatientCheckins {
    pub patient_id: Uuid,
    /// Newest first (at most 200).
    pub checkins: Vec<CheckinOut>,
}

/// A patient's check-ins between sessions.
#[utoipa::path(get, path = "/api/v1/patients/{id}/checkins", params(("id" = String, Path, description = "Patient id")), tag = "checkins",
    responses((status = 200, body = PatientCheckins), (status = 404, body = Problem, description = "Unknown patient")),
    security(("bearer" = [])))]
pub(super) async fn of_patient(
    State(st): State<AppState>,
    staff: Staff,
    Path(pid): Path<String>,
) -> ApiResult<Json<PatientCheckins>> {
    let pid = api_id(&pid)?;
    let list = st
        .store
        .checkins_of_patient(&staff.actor(), staff.clinic_id(), pid)
        .await?;
    Ok(Json(PatientCheckins {
        patient_id: pid,
        checkins: list.into_iter().map(CheckinOut::from).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct CheckinAlertOut {
    pub id: Uuid,
    /// e.g. `checkin_side_effect`, `checkin_worrying_words`, `phq9_self_harm`.
    pub kind: String,
    /// `high`, `urgent` or `critical`.
    pub severity: String,
    /// `open` or `acknowledged`.
    pub status: String,
    pub detail: String,
    pub raised_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct CheckinDetail {
    #[serde(flatten)]
    pub checkin: CheckinOut,
    pub alert_list: Vec<CheckinAlertOut>,
}

/// One check-in, with the alerts it raised.
#[utoipa::path(get, path = "/api/v1/checkins/{id}", params(("id" = String, Path, description = "Check-in id")), tag = "checkins",
    responses((status = 200, body = CheckinDetail), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn one(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<CheckinDetail>> {
    let r = st
        .store
        .checkin(&staff.actor(), staff.clinic_id(), api_id(&id)?)
        .await?;
    Ok(Json(CheckinDetail {
        alert_list: r
            .alerts
            .into_iter()
            .map(|a| CheckinAlertOut {
                id: a.id,
                kind: a.kind.as_str().to_owned(),
                severity: a.severity.as_str().to_owned(),
                status: a.status.as_str().to_owned(),
                detail: a.detail,
                raised_at: a.raised_at,
            })
            .collect(),
        checkin: r.checkin.into(),
    }))
}
