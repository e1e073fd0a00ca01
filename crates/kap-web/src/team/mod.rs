//! The care-team thread on the chart; open tasks and unread mentions on the home page.
//!
//! Pages: the chart's care-team panel (the newest messages, the post form with its mention
//! picker, the tasks with their controls and the task form), the thread's own page
//! (`/patients/{id}/team`, older messages a page at a time), a person's own list across patients
//! (`/team`), the home page's part, and the panel the dosing session page shows the prescriber
//! before a dose decision ([`dosing_panel`]). What each reader sees is the domain's decision
//! (`kap_domain::team::view`): coordinators get tasks without their detail, never a message.
//!
//! Showing the thread (the chart panel or its page) to a clinician marks it seen up to the
//! newest message shown, in the same audited transaction as the read: "seen" means shown, and a
//! separate button would leave marks that say unread about messages a clinician has read. The
//! API reads without marking (a program is not a person being shown messages); the dosing
//! panel neither (it shows a window of the thread, not the thread).

mod api;
mod panel;
mod thread;
mod work;

// The dosing session page (its owner wires it in) shows it to the prescriber.
#[allow(unused_imports)]
pub(crate) use panel::dosing_panel;
pub use thread::section;
pub use work::home_section;

use crate::AppState;
use crate::http::Access::Needs;
use crate::http::Routes;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use kap_domain::permission::Action::{PostTeamThread, ReadTeamThread};
use utoipa_axum::routes;

/// The largest message or task form (or API message) accepted. Each carries one long field of up to
/// `LONG_TEXT_MAX` (20,000) characters; urlencoded, a character takes up to twelve bytes (a
/// four-byte character, each byte written `%XX`), so the clinic-wide 64 KiB would refuse a valid
/// message in many scripts with "too much at once". 256 KiB lets the field reach its limit in
/// any script, so an over-long message is refused by name with its limit; anything larger still
/// meets the calm "too much at once" page.
pub const TEAM_FORM_LIMIT: usize = 256 * 1024 + 8 * 1024;

/// A form handler with the larger body limit.
fn long_form<H, T>(h: H) -> impl Handler<T, AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    h.layer(DefaultBodyLimit::max(TEAM_FORM_LIMIT))
}

pub fn router() -> Routes {
    Routes::new()
        .get("/patients/{id}/team", Needs(ReadTeamThread), thread::page)
        .post(
            "/patients/{id}/team/messages",
            Needs(PostTeamThread),
            long_form(thread::post_message),
        )
        .post(
            "/patients/{id}/team/tasks",
            Needs(PostTeamThread),
            long_form(thread::post_task),
        )
        .post(
            "/team/tasks/{id}",
            Needs(PostTeamThread),
            thread::change_task,
        )
        .get("/team", Needs(ReadTeamThread), work::page)
        .api(ReadTeamThread, routes!(api::thread))
        .api(PostTeamThread, {
            let (schemas, paths, mr) = routes!(api::post_message);
            (
                schemas,
                paths,
                mr.layer(DefaultBodyLimit::max(TEAM_FORM_LIMIT)),
            )
        })
}
