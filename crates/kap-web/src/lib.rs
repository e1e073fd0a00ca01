//! Kapstone over HTTP: the staff web pages, the public contact form, and the JSON API. This
//! crate only translates — it parses requests into domain types, asks the permission table,
//! calls the store, and renders the answer. Nothing clinical is decided here.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod api;
pub mod auth;
pub mod chart;
pub mod csrf;
pub mod error;
pub mod pages;
pub mod routes;
pub mod security;
pub mod view;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use chrono::Duration;
use kap_store::Store;
use kap_store::staff::SessionPolicy;
use std::sync::Arc;

/// Settings the web layer needs; the binary fills them from configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` and use the `__Host-` prefix (whenever served over HTTPS).
    pub secure_cookies: bool,
    pub session: SessionPolicy,
    /// Failed logins per account (since its last success) before it is refused for a while.
    pub max_failures_per_account: i64,
    /// Failed logins per address before it is refused for a while.
    pub max_failures_per_address: i64,
    /// How long the failed-login window lasts.
    pub throttle_window: Duration,
    /// Contact-form submissions accepted per address per hour.
    pub contact_per_hour: i64,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The address patients use to reach Kapstone, for links in messages (no trailing slash).
    pub public_url: String,
    /// Whether queued messages are emailed (SMTP configured); otherwise staff copy them.
    pub email_enabled: bool,
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
            max_failures_per_address: 20,
            throttle_window: Duration::minutes(15),
            contact_per_hour: 5,
            body_limit: 64 * 1024,
            public_url: "http://127.0.0.1:8080".into(),
            email_enabled: false,
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
}

/// The whole application as one router.
pub fn app(store: Store, config: WebConfig) -> Router {
    let limit = config.body_limit;
    let state = AppState {
        store,
        config: Arc::new(config),
    };
    routes::router(state)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(axum::middleware::from_fn(security::same_origin_writes))
}
