//! What anyone may reach without an account: the contact form, logging in (and out), a
//! patient's questionnaire link, the health check and the static assets.

mod contact;
mod link;
mod login;

use crate::http::Access::{Public, SignedIn};
use crate::http::Routes;

pub fn router() -> Routes {
    Routes::new()
        .get("/healthz", Public, healthz)
        .get("/static/{file}", Public, crate::http::view::static_file)
        .get("/login", Public, login::show)
        .post("/login", Public, login::submit)
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
