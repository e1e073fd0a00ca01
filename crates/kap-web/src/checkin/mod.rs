//! Check-ins between sessions: the patient's link page (`/k/{token}`: mood, sleep, side
//! effects, a reflection on the intention, a journal, and a questionnaire when one was
//! attached), sending links and setting schedules from the chart, the clinic's review list and
//! one check-in's page with "Mark seen", the home page's count, the administrators' check-in
//! settings, and the check-ins API. Coordinators send links and see whether they were
//! answered; only clinicians read the answers.

mod api;
mod chart;
mod patient;
mod review;
mod settings;

pub use chart::{home_section, section};

use crate::http::Access::{Needs, Public};
use crate::http::Routes;
use kap_domain::permission::Action::{ManageClinic, ReadCheckins, ReviewCheckins, SendCheckin};
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .get("/k/{token}", Public, patient::show)
        .post("/k/{token}", Public, patient::submit)
        .get("/k/{token}/done", Public, patient::done)
        .get("/checkins", Needs(ReadCheckins), review::list)
        .get("/checkins/{id}", Needs(ReadCheckins), review::show)
        .post(
            "/checkins/{id}/seen",
            Needs(ReviewCheckins),
            review::mark_seen,
        )
        .post(
            "/patients/{patient}/checkins/links",
            Needs(SendCheckin),
            chart::send,
        )
        .post(
            "/patients/{patient}/checkins/schedules",
            Needs(SendCheckin),
            chart::add_schedule,
        )
        .post(
            "/patients/{patient}/checkins/schedules/{schedule}/stop",
            Needs(SendCheckin),
            chart::stop_schedule,
        )
        .get("/admin/checkins", Needs(ManageClinic), settings::show)
        .post("/admin/checkins", Needs(ManageClinic), settings::save)
        .api(ReadCheckins, routes!(api::of_patient))
        .api(ReadCheckins, routes!(api::one))
}
