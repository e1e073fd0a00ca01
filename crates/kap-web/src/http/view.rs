//! What every page shares: the shell (title, navigation, the signed-in person, the CSRF token),
//! the static assets with their integrity hashes, and the calm error page.

use crate::http::auth::Staff;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use kap_domain::permission::Action;
use kap_domain::time::TimeZone;
use sha2::{Digest, Sha384};
use std::sync::LazyLock;

pub const HTMX_PATH: &str = "/static/htmx-2.0.11.min.js";
const HTMX: &[u8] = include_bytes!("../../static/htmx-2.0.11.min.js");
const CSS: &[u8] = include_bytes!("../../static/style.css");
pub const COPY_JS_PATH: &str = "/static/copy.js";
const COPY_JS: &[u8] = include_bytes!("../../static/copy.js");
const FLOWSHEET_JS: &[u8] = include_bytes!("../../static/flowsheet.js");

fn sri(bytes: &[u8]) -> String {
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes))
    )
}

/// Subresource-integrity hashes of the vendored files, computed from the bytes we serve.
pub static HTMX_SRI: LazyLock<String> = LazyLock::new(|| sri(HTMX));
pub static CSS_SRI: LazyLock<String> = LazyLock::new(|| sri(CSS));
pub static COPY_JS_SRI: LazyLock<String> = LazyLock::new(|| sri(COPY_JS));
pub static FLOWSHEET_JS_SRI: LazyLock<String> = LazyLock::new(|| sri(FLOWSHEET_JS));
/// A short content hash for cache-busting the stylesheet URL.
pub static CSS_VERSION: LazyLock<String> = LazyLock::new(|| hex::encode(&Sha384::digest(CSS)[..6]));

pub async fn static_file(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (body, kind): (&'static [u8], &str) = match name.as_str() {
        "style.css" => (CSS, "text/css; charset=utf-8"),
        "htmx-2.0.11.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "copy.js" => (COPY_JS, "text/javascript; charset=utf-8"),
        "flowsheet.js" => (FLOWSHEET_JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(kind).unwrap_or(HeaderValue::from_static("text/plain")),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    r
}

/// The signed-in person as the navigation shows them.
#[derive(Debug, Clone)]
pub struct NavUser {
    pub name: String,
    pub clinic: String,
    pub role: String,
    pub inquiries: bool,
    pub admin: bool,
    pub outbox: bool,
    pub calendar: bool,
    /// The check-ins waiting for review (roles that read check-ins).
    pub checkins: bool,
    pub protocols: bool,
}

/// The frame around every page.
#[derive(Debug, Clone)]
pub struct Shell {
    pub title: String,
    pub section: &'static str,
    pub user: Option<NavUser>,
    pub csrf: String,
    pub notice: Option<&'static str>,
    pub htmx_sri: &'static str,
    pub css_sri: &'static str,
    pub css_version: &'static str,
    /// The time zone the page's times are in.
    pub tz: TimeZone,
}

impl Shell {
    pub fn staff(staff: &Staff, title: impl Into<String>, section: &'static str) -> Self {
        Shell {
            title: title.into(),
            section,
            user: Some(NavUser {
                name: staff.principal.full_name.clone(),
                clinic: staff.principal.clinic_name.clone(),
                role: staff.role().label().to_owned(),
                inquiries: staff.may(Action::ReadInquiry),
                admin: staff.may(Action::ManageStaff),
                outbox: staff.may(Action::ReadOutbox),
                calendar: staff.may(Action::ReadCalendar),
                checkins: staff.may(Action::ReadCheckins),
                protocols: staff.may(Action::ReadProtocols),
            }),
            csrf: staff.csrf_token().to_owned(),
            tz: staff.tz,
            notice: None,
            htmx_sri: HTMX_SRI.as_str(),
            css_sri: CSS_SRI.as_str(),
            css_version: CSS_VERSION.as_str(),
        }
    }

    pub fn public(title: impl Into<String>, csrf: String) -> Self {
        Shell {
            title: title.into(),
            section: "",
            user: None,
            csrf,
            tz: TimeZone::UTC,
            notice: None,
            htmx_sri: HTMX_SRI.as_str(),
            css_sri: CSS_SRI.as_str(),
            css_version: CSS_VERSION.as_str(),
        }
    }

    /// Shows one of the fixed confirmation messages (chosen by key, never user text).
    pub fn with_notice(mut self, key: Option<&str>) -> Self {
        self.notice = key.and_then(notice_text);
        self
    }

    pub fn is(&self, section: &str) -> bool {
        self.section == section
    }

    /// A time as this page shows it: in its clinic's zone, with the zone's abbreviation.
    pub fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        self.tz.format(t)
    }
}

fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "saved" => "Saved.",
        "created" => "Patient registered.",
        "converted" => "The inquiry was converted: this is the new patient's chart.",
        "measured" => "Measurement recorded.",
        "staff-created" => "Staff account created.",
        "token-revoked" => "Token revoked.",
        "logged-out-everywhere" => "You were logged out on every device.",
        "response-saved" => "Response saved.",
        "link-sent" => {
            "Questionnaire link created. It is in the outbox (sent by email where configured)."
        }
        "alert-acknowledged" => "Alert acknowledged.",
        "message-sent" => "Marked as sent.",
        "password-changed" => "Your password was changed. Your other sessions have ended.",
        "two-factor-required" => {
            "Your clinic requires two-factor sign-in. Set it up here to continue to the rest of Kapstone."
        }
        "two-factor-on" => "Two-factor sign-in is on.",
        "signed" => "The decision is signed; the screening is locked.",
        "consent-link-sent" => {
            "Consent link created. It is in the outbox (sent by email where configured)."
        }
        "history-link-sent" => {
            "History link created. It is in the outbox (sent by email where configured)."
        }
        "consent-signed" => "The consent is signed and on record.",
        "consent-withdrawn" => "The withdrawal is on record. The signed consent is kept beside it.",
        "consent-published" => "The new version is published. Patients sign it from now on.",
        "rems-recorded" => "REMS enrolment recorded.",
        "two-factor-off" => "Two-factor sign-in is off.",
        "protocol-uploaded" => {
            "The protocol version was added. Courses already planned keep their version."
        }
        "protocols-installed" => "Kapstone's shipped protocols were added to this clinic.",
        "protocol-retired" => {
            "The protocol is retired: no new courses on it. Courses under it go on."
        }
        "room-saved" => "Saved.",
        "course-planned" => "The course is planned and its sessions are on the calendar.",
        "course-updated" => "The course status was changed.",
        "appointment-moved" => "The appointment was moved.",
        "dosing-saved" => "Saved.",
        "appointment-booked" => "The appointment was booked.",
        "appointment-updated" => "The appointment was updated.",
        "feed-issued" => "A new calendar address was made; the old one no longer works.",
        "checkin-link-sent" => {
            "Check-in link created. It is in the outbox (sent by email where configured)."
        }
        "checkin-seen" => "Marked seen.",
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    shell: Shell,
    message: &'a str,
}

pub fn error_page(title: &str, message: &str) -> String {
    ErrorPage {
        shell: Shell::public(title, String::new()),
        message,
    }
    .render()
    .unwrap_or_else(|_| format!("<!doctype html><title>{title}</title><h1>{title}</h1>"))
}

/// Renders a page template, or the calm error page if rendering fails.
pub fn render<T: Template>(t: &T, status: StatusCode) -> Response {
    match t.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(e) => crate::http::error::internal(&e).into_response(),
    }
}

/// Whether htmx asked for a fragment (`HX-Request`): the one place the app decides between a
/// full page and a partial of it.
pub struct Hx(pub bool);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Hx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Hx(parts.headers.contains_key("hx-request")))
    }
}

/// Renders `part` alone for htmx, or the full page built around it otherwise.
pub fn page_or_part<P: Template, F: Template>(
    hx: Hx,
    part: P,
    full: impl FnOnce(P) -> F,
) -> Response {
    if hx.0 {
        render(&part, StatusCode::OK)
    } else {
        render(&full(part), StatusCode::OK)
    }
}

/// Renders a partial template to HTML for embedding in another capability's page.
pub fn fragment<T: Template>(t: &T) -> Result<String, crate::http::error::AppError> {
    t.render().map_err(|e| crate::http::error::internal(&e))
}
