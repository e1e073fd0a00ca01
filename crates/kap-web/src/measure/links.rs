//! Sending questionnaires to a patient: a single-use link now, or a schedule that sends one
//! every N days.

use super::chart::SCHEDULE;
use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppError, AppResult, conflict_words};
use crate::http::extract::{Empty, parse_id, see_other};
use crate::http::sections::Returned;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::instruments::{Instrument, ResponseContext};
use kap_domain::measure::schedule::EVERY_DAYS;
use kap_store::measure::link::NewLink;
use kap_store::{Conflict, StoreError};

#[derive(serde::Deserialize)]
pub(super) struct SendForm {
    #[serde(default)]
    instrument: String,
    #[serde(default)]
    context: String,
}

/// A questionnaire that can go to a patient: clinician-rated scales cannot.
fn sendable(code: &str, what: &str) -> AppResult<&'static Instrument> {
    let ins = super::instrument(code)?;
    if !ins.has_item_text() {
        return Err(AppError::Conflict(format!(
            "{} is rated by a clinician; it cannot be {what} to a patient.",
            ins.name
        )));
    }
    Ok(ins)
}

pub(super) async fn send(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SendForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let ins = sendable(&form.instrument, "sent")?;
    let context = ResponseContext::from_code(&form.context).ok_or_else(|| {
        AppError::Invalid(FieldErrors::single(
            "context",
            "Choose when this questionnaire is being answered.",
        ))
    })?;
    let settings = st.store.measurement_settings(staff.clinic_id()).await?;
    st.store
        .create_link(
            &staff.actor(),
            NewLink {
                clinic_id: staff.clinic_id(),
                patient_id: id,
                instrument: ins,
                context,
                valid_for: settings.link_valid_for(),
                public_url: &st.config.public_url,
                email_enabled: st.config.email_enabled,
            },
        )
        .await?;
    Ok(see_other(&format!(
        "/patients/{id}?notice=link-sent#questionnaires"
    )))
}

#[derive(serde::Deserialize)]
pub(super) struct ScheduleForm {
    #[serde(default)]
    instrument: String,
    #[serde(default)]
    every_days: String,
}

pub(super) async fn add_schedule(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ScheduleForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let ins = sendable(&form.instrument, "scheduled")?;
    let problem = match form.every_days.trim().parse::<i32>() {
        Ok(days) if EVERY_DAYS.contains(&days) => {
            match st
                .store
                .add_schedule(&staff.actor(), staff.clinic_id(), id, ins, Some(days))
                .await
            {
                Ok(_) => {
                    return Ok(see_other(&format!(
                        "/patients/{id}?notice=saved#questionnaires"
                    )));
                }
                Err(StoreError::Conflict(c @ Conflict::ScheduleExists(_))) => {
                    FieldErrors::single("instrument", conflict_words(&c))
                }
                Err(e) => return Err(e.into()),
            }
        }
        _ => FieldErrors::single(
            "every_days",
            format!(
                "Enter a number of days from {} to {}.",
                EVERY_DAYS.start(),
                EVERY_DAYS.end()
            ),
        ),
    };
    // Back to the chart with the schedule form as typed and the problem beside it.
    let returned = Returned::form(
        SCHEDULE,
        vec![
            ("instrument".into(), form.instrument),
            ("every_days".into(), form.every_days),
        ],
        problem,
    );
    crate::patients::pages::chart_page(
        &st,
        &staff,
        id,
        None,
        returned,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub(super) async fn stop_schedule(
    State(st): State<AppState>,
    staff: Staff,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let sid = parse_id(&sid)?;
    st.store
        .stop_schedule(&staff.actor(), staff.clinic_id(), sid)
        .await?;
    Ok(see_other(&format!(
        "/patients/{id}?notice=saved#questionnaires"
    )))
}
