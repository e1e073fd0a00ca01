//! The screening API: a patient's latest screening as a summary (decision, findings with
//! reasons and sources, treatment resistance), and intake data from integrations (vitals from
//! a device, checklist answers from another system) while the screening is open.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiBody, api_id};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kap_domain::FieldErrors;
use kap_domain::screening::Route;
use kap_domain::screening::decision::most_permissive;
use kap_domain::screening::intake::Condition;
use kap_domain::screening::record::VitalsForm;
use kap_domain::screening::rules::{Finding, evaluate};
use kap_domain::screening::staging::{maudsley, resistance, thase_rush};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct ScreeningSummary {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// `eligible`, `eligible_with_precautions`, `deferred` or `not_eligible` once signed.
    pub decision: Option<String>,
    pub signed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Routes the signed decision is for (`iv`, `im`, `sublingual`, `esketamine_nasal`).
    pub routes: Vec<String>,
    pub rationale: Option<String>,
    /// The most permissive decision the clinic's rules allow now, for every route.
    pub rules_allow: String,
    pub findings: Vec<FindingInfo>,
    /// Questions a rule needs that have no answer yet.
    pub missing: Vec<String>,
    /// Answers that contradict each other; a decision to treat waits until they are resolved.
    pub conflicts: Vec<String>,
    pub resistance: ResistanceInfo,
    /// The latest baseline PHQ-9, GAD-7 and ASQ answered.
    pub baseline: Vec<BaselineInfo>,
}

#[derive(Serialize, ToSchema)]
pub struct BaselineInfo {
    /// `phq9`, `gad7` or `asq`.
    pub instrument: String,
    pub complete: bool,
    pub total: Option<i32>,
    /// The band, or the screen's result.
    pub result: Option<String>,
    pub answered_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct FindingInfo {
    pub rule: String,
    /// `absolute`, `relative` or `caution`.
    pub level: String,
    pub reason: String,
    pub source: String,
    pub routes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ResistanceInfo {
    pub failed_trials: u8,
    pub trd: bool,
    /// The clinic's definition: failed adequate trials that make it TRD.
    pub trd_from: u8,
    pub explanation: String,
    pub maudsley_total: Option<u8>,
    pub maudsley_band: Option<String>,
    pub thase_rush_stage: Option<u8>,
}

/// A patient's latest screening, summarised.
#[utoipa::path(get, path = "/api/v1/patients/{id}/screening", params(("id" = String, Path, description = "Patient id")), tag = "screening",
    responses((status = 200, body = ScreeningSummary), (status = 404, body = Problem, description = "Unknown patient, or not screened")),
    security(("bearer" = [])))]
pub(super) async fn latest(
    State(st): State<AppState>,
    staff: Staff,
    Path(pid): Path<String>,
) -> ApiResult<Json<ScreeningSummary>> {
    let pid = api_id(&pid)?;
    let clinic = staff.clinic_id();
    let s = st
        .store
        .latest_screening(&staff.actor(), clinic, pid)
        .await?
        .ok_or(crate::http::error::AppError::NotFound)?;
    let protocol = st.store.screening_protocol(clinic).await?;
    let all = evaluate(&s.intake, &protocol.rules, &Route::ALL);
    let rules_allow = most_permissive(&all).as_str().to_owned();
    let mut findings = vec![];
    let mut missing = vec![];
    let mut conflicts = vec![];
    for f in all {
        match f {
            Finding::Rule {
                rule_id,
                level,
                reason,
                source,
                routes,
            } => findings.push(FindingInfo {
                rule: rule_id,
                level: level.as_str().to_owned(),
                reason,
                source,
                routes: routes.iter().map(|r| r.as_str().to_owned()).collect(),
            }),
            Finding::Missing { what } => missing.push(what),
            Finding::Conflict { what } => conflicts.push(what),
        }
    }
    let r = resistance(&s.intake, protocol.trd);
    let m = maudsley(&s.intake).ok();
    Ok(Json(ScreeningSummary {
        id: s.id,
        patient_id: s.patient_id,
        started_at: s.started_at,
        decision: s.signed.as_ref().map(|d| d.decision.as_str().to_owned()),
        signed_at: s.signed.as_ref().map(|d| d.signed_at),
        routes: s
            .signed
            .as_ref()
            .map(|d| d.routes.iter().map(|r| r.as_str().to_owned()).collect())
            .unwrap_or_default(),
        rationale: s.signed.as_ref().map(|d| d.rationale.clone()),
        rules_allow,
        findings,
        missing,
        conflicts,
        resistance: ResistanceInfo {
            failed_trials: r.failed_trials,
            trd: r.is_trd(),
            trd_from: r.rule.min_failed_trials,
            explanation: r.explain(),
            maudsley_total: m.map(|m| m.total()),
            maudsley_band: m.map(|m| m.band().as_str().to_owned()),
            thase_rush_stage: thase_rush(&s.intake).ok(),
        },
        baseline: s
            .baseline
            .iter()
            .map(|b| BaselineInfo {
                instrument: b.instrument.code.to_owned(),
                complete: b.complete,
                total: b.total,
                result: b.result.clone(),
                answered_at: b.answered_at,
            })
            .collect(),
    }))
}

/// Intake data from another system; every part optional.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeData {
    /// Baseline vitals, e.g. from a device.
    pub vitals: Option<VitalsIn>,
    /// Checklist answers by condition code (`aneurysm_avm`, `psychosis`, …): true yes, false no.
    #[serde(default)]
    pub conditions: BTreeMap<String, bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VitalsIn {
    pub systolic: Option<u16>,
    pub diastolic: Option<u16>,
    pub heart_rate: Option<u16>,
    pub spo2: Option<u16>,
}

/// Adds intake data to an open screening (refused once signed: 409).
#[utoipa::path(post, path = "/api/v1/screenings/{id}/intake", params(("id" = String, Path, description = "Screening id")), request_body = IntakeData, tag = "screening",
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem, description = "The screening is signed"), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn add_intake(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    body: ApiBody,
) -> ApiResult<StatusCode> {
    let id = api_id(&id)?;
    let req: IntakeData = body.json()?;
    let mut answers = BTreeMap::new();
    let mut e = FieldErrors::new();
    for (code, yes) in &req.conditions {
        match Condition::from_code(code) {
            Some(c) => {
                answers.insert(c, *yes);
            }
            None => e.add(
                "conditions",
                format!(
                    "unknown condition \"{code}\": use one of {}",
                    Condition::ALL.map(Condition::as_str).join(", ")
                ),
            ),
        }
    }
    let vitals = match &req.vitals {
        Some(v) => {
            let s = |x: Option<u16>| x.map(|n| n.to_string()).unwrap_or_default();
            match (VitalsForm {
                systolic: s(v.systolic),
                diastolic: s(v.diastolic),
                heart_rate: s(v.heart_rate),
                spo2: s(v.spo2),
            })
            .parse()
            {
                Ok(parsed) => Some(parsed),
                Err(errs) => {
                    for f in errs.iter() {
                        e.add(format!("vitals.{}", f.field), f.message.clone());
                    }
                    None
                }
            }
        }
        None => None,
    };
    if !e.is_empty() {
        return Err(crate::http::error::AppError::Invalid(e).into());
    }
    let (actor, clinic) = (staff.actor(), staff.clinic_id());
    if !answers.is_empty() {
        st.store
            .save_checklist(&actor, clinic, id, &answers)
            .await?;
    }
    if let Some(v) = vitals {
        st.store.save_vitals(&actor, clinic, id, &v).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
