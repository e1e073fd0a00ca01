//! Kapstone over HTTP: the staff web pages, the public pages, and the JSON API. This crate only
//! translates — it parses requests into domain types, lets the route gate ask the permission
//! table, calls the store, and renders the answer. Nothing clinical is decided here.
//!
//! One folder per capability, each with a `router()` that declares its pages and API endpoints
//! with their access rules; [`routes`] mounts them, one line each.

pub mod account;
pub mod admin;
mod checkin;
pub mod consent;
pub mod course;
mod dosing;
pub mod home;
pub mod http;
pub mod inquiries;
pub mod measure;
mod notes;
pub mod patients;
pub mod protocol;
pub mod public;
pub mod screening;
mod team;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use chrono::Duration;
use http::Routes;
use kap_store::Store;
use kap_store::session::SessionPolicy;
use std::sync::Arc;

/// Settings the web layer needs; the binary fills them from configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` and use the `__Host-` prefix (whenever served over HTTPS).
    pub secure_cookies: bool,
    pub session: SessionPolicy,
    /// Failed logins per account (since its last success) before it is refused for a while.
    pub max_failures_per_account: i64,
    /// How long the failed-login window lasts.
    pub throttle_window: Duration,
    /// Contact-form submissions accepted per address per hour, at each clinic.
    pub contact_per_hour: i64,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The address patients use to reach Kapstone, for links in messages (no trailing slash).
    pub public_url: String,
    /// Whether queued messages are emailed (SMTP configured); otherwise staff copy them.
    pub email_enabled: bool,
    /// Reverse proxies whose forwarding headers are believed (addresses or ranges).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Failed logins from one address (to any account) after which its attempts are slowed.
    pub slow_after_address_failures: i64,
    /// The installation's time zone, for clinics that have not set their own.
    pub time_zone: kap_domain::time::TimeZone,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session: SessionPolicy {
                idle: Duration::minutes(30),
                absolute: Duration::hours(12),
            },
            max_failures_per_account: 5,
            throttle_window: Duration::minutes(15),
            contact_per_hour: 5,
            body_limit: 64 * 1024,
            public_url: "http://127.0.0.1:8080".into(),
            email_enabled: false,
            trusted_proxies: vec![],
            slow_after_address_failures: 20,
            time_zone: kap_domain::time::TimeZone::UTC,
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    /// Refused accesses per person this minute (for their audit rows).
    pub refusals: Arc<http::refusals::RefusalLog>,
    /// The capabilities' parts of the patient's chart, in order.
    pub chart_sections: Arc<[http::sections::Section]>,
    /// The capabilities' parts of the staff home page, in order.
    pub home_sections: Arc<[http::sections::Section]>,
}

/// Every capability's routes. Adding a capability is one line here.
pub fn routes() -> Routes {
    Routes::new()
        .merge(public::router())
        .merge(account::router())
        .merge(home::router())
        .merge(patients::router())
        .merge(inquiries::router())
        .merge(measure::router())
        .merge(screening::router())
        .merge(consent::router())
        .merge(protocol::router())
        .merge(course::router())
        .merge(dosing::router())
        .merge(notes::router())
        .merge(checkin::router())
        .merge(team::router())
        .merge(admin::router())
        .merge(http::openapi::router())
}

/// The whole application as one router.
pub fn app(store: Store, config: WebConfig) -> Router {
    let limit = config.body_limit;
    let hsts = config.secure_cookies;
    let state = AppState {
        store,
        config: Arc::new(config),
        refusals: Arc::default(),
        // A capability that shows on the chart or the home page adds its section here.
        chart_sections: Arc::new([
            screening::section,
            consent::section,
            course::section,
            dosing::section,
            notes::section,
            checkin::section,
            team::section,
            measure::chart::section,
        ]),
        home_sections: Arc::new([
            measure::alerts::home_section,
            checkin::home_section,
            team::home_section,
            notes::home_section,
            course::home_section,
        ]),
    };
    let (router, _, _) = routes().into_parts();
    router
        .fallback(|| async { http::AppError::NotFound })
        .with_state(state.clone())
        // Innermost: a page's answer waits here until what it read is on the audit trail.
        .layer(axum::middleware::from_fn(
            http::security::audit_before_answer,
        ))
        // The route gate reads the state from here (it runs inside each route).
        .layer(axum::Extension(state))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(
            http::security::same_origin_writes,
        ))
        // Outermost, so that every response — early refusals and 404s included — carries the
        // security headers.
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                http::security::headers(hsts, req, next)
            },
        ))
}
