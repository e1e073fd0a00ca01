//! The staff pages and the public contact form. Every form works as a plain POST → redirect
//! without JavaScript; htmx only makes the patient search live.

pub mod admin;
pub mod contact;
pub mod home;
pub mod inquiries;
pub mod link;
pub mod login;
pub mod measure;
pub mod patients;

use crate::error::{AppError, AppResult};
use axum::http::HeaderMap;
use uuid::Uuid;

/// Parses an id from a URL; anything that is not an id is simply not found.
pub fn parse_id(s: &str) -> AppResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| AppError::NotFound)
}

/// Like [`parse_id`] for optional query parameters: blank is absent, garbage is ignored.
pub fn opt_id(s: &Option<String>) -> Option<Uuid> {
    s.as_deref().and_then(|v| Uuid::parse_str(v.trim()).ok())
}

/// Whether htmx asked for a fragment rather than a whole page.
pub fn is_htmx(h: &HeaderMap) -> bool {
    h.contains_key("hx-request")
}

/// A 303 redirect (the browser follows with GET), the answer to every successful form.
pub fn see_other(to: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    axum::response::Redirect::to(to).into_response()
}

/// Splits a keyset page that was fetched with one row more than `limit`: the rows to show, and
/// the cursor of the next page when there is one.
pub fn split_page<T, K>(
    mut rows: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> K,
) -> (Vec<T>, Option<K>) {
    let limit = usize::try_from(limit).unwrap_or(0);
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(key);
        (rows, next)
    } else {
        (rows, None)
    }
}

/// An empty form body (only the CSRF token).
#[derive(serde::Deserialize)]
pub struct Empty {}
