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
use kap_domain::measure::schedule::{EVERY_DAYS, HOURS_BEFORE};
use kap_domain::protocol::SessionKind;
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
    /// "every" (every N days, the default) or a session kind (before each such session).
    #[serde(default)]
    rhythm: String,
    #[serde(default)]
    hours_before: String,
}

pub(super) async fn add_schedule(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ScheduleForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let ins = sendable(&form.instrument, "scheduled")?;
    let before = match form.rhythm.trim() {
        "" | "every" => None,
        k => Some(SessionKind::from_code(k).ok_or_else(|| {
            AppError::Invalid(FieldErrors::single("rhythm", "Choose when to send it."))
        })?),
    };
    let added = match before {
        None => match form.every_days.trim().parse::<i32>() {
            Ok(days) if EVERY_DAYS.contains(&days) => Ok(st
                .store
                .add_schedule(&staff.actor(), staff.clinic_id(), id, ins, Some(days))
                .await),
            _ => Err(FieldErrors::single(
                "every_days",
                format!(
                    "Enter a number of days from {} to {}.",
                    EVERY_DAYS.start(),
                    EVERY_DAYS.end()
                ),
            )),
        },
        Some(kind) => match form.hours_before.trim().parse::<i32>() {
            Ok(h) if HOURS_BEFORE.contains(&h) => Ok(st
                .store
                .add_schedule_before(&staff.actor(), staff.clinic_id(), id, ins, kind, h)
                .await),
            _ => Err(FieldErrors::single(
                "hours_before",
                format!(
                    "Enter the hours before the session, from {} to {}.",
                    HOURS_BEFORE.start(),
                    HOURS_BEFORE.end()
                ),
            )),
        },
    };
    let problem = match added {
        Ok(Ok(_)) => {
            return Ok(see_other(&format!(
                "/patients/{id}?notice=saved#questionnaires"
            )));
        }
        Ok(Err(StoreError::Conflict(c @ Conflict::ScheduleExists(_)))) => {
            FieldErrors::single("instrument", conflict_words(&c))
        }
        Ok(Err(e)) => return Err(e.into()),
        Err(e) => e,
    };
    // Back to the chart with the schedule form as typed and the problem beside it.
    let returned = Returned::form(
        SCHEDULE,
        vec![
            ("instrument".into(), form.instrument),
            ("every_days".into(), form.every_days),
            ("rhythm".into(), form.rhythm),
            ("hours_before".into(), form.hours_before),
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
