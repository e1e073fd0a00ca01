//! What anyone may reach without an account: the contact form, logging in (with a second
//! factor) and out, a password reset link, a patient's questionnaire link, the health check and
//! the static assets.

mod contact;
mod link;
mod login;
mod reset;
mod second_factor;

pub(crate) use link::{gone_page, well_formed};

use crate::http::Access::{Public, SignedIn};
use crate::http::Routes;

pub fn router() -> Routes {
    Routes::new()
        .get("/healthz", Public, healthz)
        .get("/static/{file}", Public, crate::http::view::static_file)
        .get("/login", Public, login::show)
        .post("/login", Public, login::submit)
        .get("/login/code", Public, second_factor::show)
        .post("/login/code", Public, second_factor::submit)
        .get("/reset/{token}", Public, reset::show)
        .post("/reset/{token}", Public, reset::submit)
        .post("/logout", SignedIn, login::logout)
        .post("/logout/everywhere", SignedIn, login::logout_everywhere)
        .get("/contact", Public, contact::show)
        .post("/contact", Public, contact::submit)
        .get("/contact/thanks", Public, contact::thanks)
        .get("/p/{token}", Public, link::show)
        .post("/p/{token}", Public, link::submit)
        .get("/p/{token}/done", Public, link::done)
}

async fn healthz() -> &'static str {
    "ok"
}
