//! Measurement-based care on the staff side: entering responses, sending patient links and
//! schedules, safety alerts, trajectories on the chart, the outbox, and the measurement API.
//! The patient's side of a link is in `public`.

pub mod alerts;
mod api;
pub mod chart;
mod entry;
mod links;
mod outbox;
pub mod svg;

use crate::http::Access::Needs;
use crate::http::Routes;
use crate::http::error::{AppError, AppResult};
use kap_domain::instruments::{self, Instrument};
use kap_domain::permission::Action::{
    EnterResponse, HandleAlerts, ReadOutbox, ReadResponses, SendQuestionnaire, WorkOutbox,
};
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .get(
            "/patients/{patient}/responses/new",
            Needs(EnterResponse),
            entry::form,
        )
        .post(
            "/patients/{patient}/responses",
            Needs(EnterResponse),
            entry::submit,
        )
        .post(
            "/patients/{patient}/links",
            Needs(SendQuestionnaire),
            links::send,
        )
        .post(
            "/patients/{patient}/schedules",
            Needs(SendQuestionnaire),
            links::add_schedule,
        )
        .post(
            "/patients/{patient}/schedules/{schedule}/stop",
            Needs(SendQuestionnaire),
            links::stop_schedule,
        )
        .post(
            "/alerts/{alert}/acknowledge",
            Needs(HandleAlerts),
            alerts::acknowledge,
        )
        .get("/outbox", Needs(ReadOutbox), outbox::page)
        .post(
            "/outbox/{message}/sent",
            Needs(WorkOutbox),
            outbox::mark_sent,
        )
        .api(SendQuestionnaire, routes!(api::list_instruments))
        .api(ReadResponses, routes!(api::list_responses))
        .api(EnterResponse, routes!(api::create_response))
        .api(ReadResponses, routes!(api::trajectory))
}

/// The instrument with this code; an unknown one is simply not found.
fn instrument(code: &str) -> AppResult<&'static Instrument> {
    instruments::by_code(code.trim()).ok_or(AppError::NotFound)
}
