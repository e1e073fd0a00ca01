//! Small pieces every capability's handlers share: ids from URLs, the answer to a successful
//! form, keyset pages, and the API's body and query readers.

use crate::AppState;
use crate::http::error::{ApiError, ApiResult, AppError, AppResult};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use kap_domain::FieldErrors;
use uuid::Uuid;

/// Parses an id from a URL; anything that is not an id is simply not found.
pub fn parse_id(s: &str) -> AppResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| AppError::NotFound)
}

/// Like [`parse_id`] for optional query parameters: blank is absent, garbage is ignored.
pub fn opt_id(s: &Option<String>) -> Option<Uuid> {
    s.as_deref().and_then(|v| Uuid::parse_str(v.trim()).ok())
}

/// A 303 redirect (the browser follows with GET), the answer to every successful form.
/// A form posted as name/value pairs (repeated names kept, order kept).
pub type Fields = Vec<(String, String)>;

/// The first value posted under `key`, trimmed; empty when absent.
pub fn field<'a>(f: &'a [(String, String)], key: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.trim())
}

pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
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

/// The `?notice=` of a page reached after a successful form.
#[derive(serde::Deserialize)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

/// A request body, read but not yet parsed: the route gate has already refused callers who
/// may not use the route, so only permitted callers learn how their body was judged.
pub struct ApiBody(axum::body::Bytes);

impl FromRequest<AppState> for ApiBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> ApiResult<Self> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json);
        if !json {
            return Err(ApiError(AppError::UnsupportedMediaType));
        }
        axum::body::Bytes::from_request(req, state)
            .await
            .map(ApiBody)
            .map_err(|rej| ApiError(crate::http::error::body_rejection(rej.status())))
    }
}

/// Whether a `Content-Type` is JSON: `application/json` or `application/…+json`, with any
/// parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl ApiBody {
    /// Parses the body as JSON; a parse failure is a problem document naming `body`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> ApiResult<T> {
        serde_json::from_slice(&self.0).map_err(|e| {
            ApiError(AppError::Invalid(FieldErrors::single(
                "body",
                format!("The JSON body could not be read: {e}"),
            )))
        })
    }
}

/// Query parameters whose parse failures become problem documents (not a bare 400).
pub struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|rej| {
                ApiError(AppError::Invalid(FieldErrors::single(
                    "query",
                    rej.body_text(),
                )))
            })
    }
}

/// An id from an API path; anything that is not an id is not found.
pub fn api_id(s: &str) -> ApiResult<Uuid> {
    Ok(parse_id(s)?)
}

/// The API's page size: 1–100, 25 unless asked.
pub fn page_size(l: Option<i64>) -> i64 {
    l.unwrap_or(25).clamp(1, 100)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_json_bodies_are_json() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(super::is_json(ok), "{ok}");
        }
        for no in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
        ] {
            assert!(!super::is_json(no), "{no}");
        }
    }
}
