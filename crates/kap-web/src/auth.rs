//! Who is asking: staff sessions (cookie → server-side session row), API bearer tokens, and the
//! password hashing behind login. Every handler that touches data takes a [`Staff`] (pages) or
//! [`ApiStaff`] (JSON API) and asks [`Staff::require`] for its action.

use crate::AppState;
use crate::error::{AppError, AppResult, internal};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use kap_domain::permission::{Action, Role, allows};
use kap_store::Actor;
use kap_store::staff::Principal;
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
pub fn cookie<'a>(parts: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    parts
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

/// The client's address, for the audit trail and throttling.
pub fn client_address(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
}

/// A logged-in staff member acting in their current clinic.
#[derive(Debug, Clone)]
pub struct Staff {
    pub principal: Principal,
    pub role: Role,
    pub address: Option<String>,
    pub session_token: Option<String>,
    kind: &'static str,
}

impl Staff {
    /// Refuses unless the permission table allows this staff member's role the action.
    pub fn require(&self, action: Action) -> AppResult<()> {
        if allows(self.role, action) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn may(&self, action: Action) -> bool {
        allows(self.role, action)
    }

    pub fn actor(&self) -> Actor {
        self.principal.actor(self.kind, self.address.clone())
    }

    pub fn clinic_id(&self) -> uuid::Uuid {
        self.principal.clinic_id
    }

    pub fn csrf_token(&self) -> &str {
        self.principal.csrf_token.as_deref().unwrap_or("")
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        if let Some(s) = parts.extensions.get::<Staff>() {
            return Ok(s.clone());
        }
        let name = session_cookie_name(state.config.secure_cookies);
        let Some(token) = cookie(&parts.headers, name).map(str::to_owned) else {
            return Err(AppError::LoginRequired);
        };
        let principal = state
            .store
            .session_principal(&token, state.config.session)
            .await?
            .ok_or(AppError::LoginRequired)?;
        let role = principal.role().ok_or(AppError::Forbidden)?;
        let staff = Staff {
            principal,
            role,
            address: client_address(parts),
            session_token: Some(token),
            kind: "staff",
        };
        // Later extractors (the CSRF-checked form) read the session from here.
        parts.extensions.insert(staff.clone());
        Ok(staff)
    }
}

/// A staff member authenticated by an API bearer token.
#[derive(Debug, Clone)]
pub struct ApiStaff(pub Staff);

impl ApiStaff {
    pub fn require(&self, action: Action) -> AppResult<()> {
        self.0.require(action).map_err(AppError::api)
    }
}

impl FromRequestParts<AppState> for ApiStaff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let Some(raw) = header.strip_prefix("Bearer ").map(str::trim) else {
            return Err(AppError::Unauthorized.api());
        };
        let principal = state
            .store
            .token_principal(raw)
            .await
            .map_err(|e| AppError::from(e).api())?
            .ok_or(AppError::Unauthorized.api())?;
        let role = principal.role().ok_or(AppError::Forbidden.api())?;
        Ok(ApiStaff(Staff {
            principal,
            role,
            address: client_address(parts),
            session_token: None,
            kind: "api",
        }))
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

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_address(parts)))
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
