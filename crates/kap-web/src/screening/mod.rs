//! Screening and eligibility on the staff side: start a screening from the chart, take the
//! intake (episode, checklist, medications, treatment trials, vitals), read what the clinic's
//! rules find and how treatment resistance was derived, sign the eligibility decision (which
//! locks the screening), and write addenda after. The chart shows a summary panel.

mod api;
mod chart;
mod forms;
mod page;
mod patient;
mod report;

pub use chart::section;

use crate::http::Access::{Needs, Public};
use crate::http::Routes;
use kap_domain::permission::Action::{EditScreening, ReadScreening, SignEligibility};
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .post(
            "/patients/{patient}/screenings",
            Needs(EditScreening),
            forms::start,
        )
        .get("/screenings/{screening}", Needs(ReadScreening), page::show)
        .post(
            "/screenings/{screening}/episode",
            Needs(EditScreening),
            forms::episode,
        )
        .post(
            "/screenings/{screening}/history",
            Needs(EditScreening),
            forms::history,
        )
        .post(
            "/screenings/{screening}/checklist",
            Needs(EditScreening),
            forms::checklist,
        )
        .post(
            "/screenings/{screening}/medications",
            Needs(EditScreening),
            forms::medications,
        )
        .post(
            "/screenings/{screening}/trials",
            Needs(EditScreening),
            forms::add_trial,
        )
        .post(
            "/screenings/{screening}/trials/{trial}/remove",
            Needs(EditScreening),
            forms::remove_trial,
        )
        .post(
            "/screenings/{screening}/vitals",
            Needs(EditScreening),
            forms::vitals,
        )
        .post(
            "/screenings/{screening}/sign",
            Needs(SignEligibility),
            forms::sign,
        )
        .post(
            "/screenings/{screening}/addenda",
            Needs(SignEligibility),
            forms::addendum,
        )
        .post(
            "/screenings/{screening}/history-link",
            Needs(EditScreening),
            report::send_link,
        )
        .post(
            "/screenings/{screening}/report/{part}/confirm",
            Needs(EditScreening),
            report::confirm,
        )
        .get("/h/{token}", Public, patient::show)
        .post("/h/{token}/send", Public, patient::send)
        .get("/h/{token}/done", Public, patient::done)
        .post("/h/{token}/{part}", Public, patient::save)
        .api(ReadScreening, routes!(api::latest))
        .api(EditScreening, routes!(api::add_intake))
}
