//! CSRF protection, first layer: every form carries a synchroniser token that must match the
//! session's (or, before login, a random pre-session cookie's). The second layer — refusing
//! cross-site unsafe requests by `Sec-Fetch-Site`/`Origin` — is in `security`.

use crate::AppState;
use crate::http::auth::{Staff, cookie};
use crate::http::error::{AppError, AppResult};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

/// The cookie that carries the anonymous forms' token (login, contact).
pub const PRE_SESSION_COOKIE: &str = "kap_csrf";

/// A urlencoded form whose `csrf_token` field was checked before the handler runs.
pub struct CsrfForm<T>(pub T);

fn token_of(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v)
}

fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && a.as_bytes().ct_eq(b.as_bytes()).into()
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> AppResult<Self> {
        let expected = match req.extensions().get::<Staff>() {
            Some(staff) => staff.csrf_token().to_owned(),
            None => cookie(req.headers(), PRE_SESSION_COOKIE)
                .unwrap_or("")
                .to_owned(),
        };
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|rej| crate::http::error::body_rejection(rej.status()))?;
        let given = token_of(&body).unwrap_or_default();
        if !same(&given, &expected) {
            return Err(AppError::BadCsrf);
        }
        let value = serde_urlencoded::from_bytes::<T>(&body).map_err(|_| {
            AppError::Invalid(kap_domain::FieldErrors::single(
                "form",
                "The form could not be read. Reload the page and try again.",
            ))
        })?;
        Ok(CsrfForm(value))
    }
}

/// A fresh token for an anonymous form: reuse the browser's cookie if it has one.
pub fn pre_session_token(headers: &axum::http::HeaderMap) -> (String, bool) {
    match cookie(headers, PRE_SESSION_COOKIE) {
        Some(t) if t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()) => {
            (t.to_owned(), false)
        }
        _ => (kap_store::random_hex(32), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_read_from_the_form() {
        assert_eq!(token_of(b"a=1&csrf_token=xyz&b=2").as_deref(), Some("xyz"));
        assert_eq!(token_of(b"a=1"), None);
        assert!(!same("", ""));
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
    }
}
