//! Who is asking: staff sessions (cookie → server-side session row) and API bearer tokens, and
//! the password hashing behind login. Authentication happens once, in the route gate
//! ([`super::route`]); handlers read the result with the [`Staff`] extractor.

use crate::AppState;
use crate::http::error::{AppError, AppResult, internal};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Request};
use kap_domain::audit::{Actor, ActorKind};
use kap_domain::permission::{Action, Role, allows};
use kap_domain::time::TimeZone;
use kap_store::session::Principal;
use std::net::SocketAddr;

/// The session cookie's name: with the `__Host-` prefix whenever cookies are `Secure`.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-kap_session"
    } else {
        "kap_session"
    }
}

/// A cookie value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the app's attributes.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// The client's address, for the audit trail and throttling: the peer, or behind a trusted
/// proxy the address it forwarded for ([`crate::http::client`]).
pub fn client_address(
    st: &AppState,
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
) -> Option<String> {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    Some(crate::http::client::client_ip(peer, headers, &st.config.trusted_proxies).to_string())
}

/// A signed-in staff member acting in their current clinic, by browser session or API token.
#[derive(Debug, Clone)]
pub struct Staff {
    pub principal: Principal,
    pub address: Option<String>,
    pub session_token: Option<String>,
    pub kind: ActorKind,
    /// The time zone times are shown in: the clinic's, or the installation's.
    pub tz: TimeZone,
}

impl Staff {
    pub fn role(&self) -> Role {
        self.principal.role
    }

    /// Whether the permission table allows this staff member's role the action (for what a
    /// page shows; the route gate has already refused what the route itself needs).
    pub fn may(&self, action: Action) -> bool {
        allows(self.principal.role, action)
    }

    pub fn actor(&self) -> Actor {
        self.principal.actor(self.kind, self.address.clone())
    }

    pub fn clinic_id(&self) -> uuid::Uuid {
        self.principal.clinic_id
    }

    pub fn staff_id(&self) -> uuid::Uuid {
        self.principal.staff_id
    }

    pub fn csrf_token(&self) -> &str {
        self.principal.csrf_token.as_deref().unwrap_or("")
    }
}

/// The credential a request carries: the session cookie's token for pages, the bearer token
/// for the API.
pub(crate) fn credential<B>(st: &AppState, req: &Request<B>, api: bool) -> Option<String> {
    let h = req.headers();
    if api {
        h.get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned())
    } else {
        cookie(h, session_cookie_name(st.config.secure_cookies)).map(str::to_owned)
    }
}

/// The staff member behind a credential: a live session for pages, a live token for the API.
pub(crate) async fn authenticate(
    st: &AppState,
    credential: Option<String>,
    address: Option<String>,
    api: bool,
) -> AppResult<Staff> {
    let missing = if api {
        AppError::Unauthorized
    } else {
        AppError::LoginRequired
    };
    let Some(token) = credential else {
        return Err(missing);
    };
    let principal = if api {
        st.store.token_principal(&token).await?
    } else {
        st.store
            .session_principal(&token, st.config.session)
            .await?
    }
    .ok_or(missing)?;
    Ok(Staff {
        tz: principal.clinic_time_zone.unwrap_or(st.config.time_zone),
        principal,
        address,
        session_token: (!api).then_some(token),
        kind: if api {
            ActorKind::Api
        } else {
            ActorKind::Staff
        },
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = AppError;

    /// The staff member the route gate authenticated. A handler that asks for one on a route
    /// declared public is a programming error, reported as such.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> AppResult<Self> {
        parts
            .extensions
            .get::<Staff>()
            .cloned()
            .ok_or_else(|| internal(&"a handler asked for a staff member on a public route"))
    }
}

/// Hashes a password with argon2id (default parameters: m = 19 MiB, t = 2, p = 1).
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a stored hash. An unknown account is checked against a dummy
/// hash so that the time taken does not reveal whether the email exists.
pub fn verify_password(password: &str, hash: Option<&str>) -> bool {
    static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        hash_password("a dummy password that no account has").unwrap_or_default()
    });
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), hash.unwrap_or(DUMMY.as_str()))
        .is_ok();
    ok && hash.is_some()
}

/// Hashing is deliberately slow; it runs off the async workers.
pub async fn hash_password_blocking(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| internal(&e))?
        .map_err(|e| internal(&e))
}

pub async fn verify_password_blocking(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, hash.as_deref()))
        .await
        .unwrap_or(false)
}

/// The client's address as an extractor, for handlers without a signed-in person.
pub struct ClientAddr(pub Option<String>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_address(
            st,
            &parts.extensions,
            &parts.headers,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse battery staple").unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", Some(&h)));
        assert!(!verify_password("correct horse battery stapler", Some(&h)));
        assert!(!verify_password("correct horse battery staple", None));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            COOKIE,
            "a=1; kap_session=abc; b=2"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(cookie(&h, "kap_session"), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
