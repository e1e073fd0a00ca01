//! Logging in and out: uniform errors, throttling per account and per address, session rotation.

use crate::AppState;
use crate::http::auth::{
    ClientAddr, Staff, cookie, session_cookie_name, set_cookie, verify_password_blocking,
};
use crate::http::csrf::{CsrfForm, PRE_SESSION_COOKIE, pre_session_token};
use crate::http::error::AppResult;
use crate::http::extract::{Empty, see_other};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use kap_domain::audit::{Actor, ActorKind, AuditAction, RecordKind, Subject};
use kap_store::session::{LoginLimits, LoginReservation};

/// How long an attempt from an address with many recent failures waits before its password is
/// checked.
const ADDRESS_SLOWDOWN: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Template)]
#[template(path = "public/login.html")]
struct LoginPage {
    shell: Shell,
    email: String,
    problem: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

fn login_page(
    headers: &HeaderMap,
    secure: bool,
    email: String,
    problem: Option<String>,
    status: StatusCode,
) -> Response {
    let (token, fresh) = pre_session_token(headers);
    let mut r = render(
        &LoginPage {
            shell: Shell::public("Log in", token.clone()),
            email,
            problem,
        },
        status,
    );
    if fresh
        && let Ok(v) = HeaderValue::from_str(&set_cookie(PRE_SESSION_COOKIE, &token, secure, None))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub async fn show(State(st): State<AppState>, headers: HeaderMap) -> Response {
    login_page(
        &headers,
        st.config.secure_cookies,
        String::new(),
        None,
        StatusCode::OK,
    )
}

pub async fn submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    ClientAddr(addr): ClientAddr,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<Response> {
    let cfg = &st.config;
    let email = form.email.trim().to_lowercase();
    let address = addr.unwrap_or_else(|| "unknown".into());
    let limits = LoginLimits {
        per_account: cfg.max_failures_per_account,
        window: cfg.throttle_window,
    };
    // The attempt is counted before the password is checked, so concurrent attempts cannot
    // slip past the limit.
    let attempt = match st
        .store
        .reserve_login_attempt(&email, &address, limits)
        .await?
    {
        LoginReservation::Granted {
            attempt,
            address_failures,
        } => {
            // An address with many recent failures (on any accounts) is slowed down, never
            // locked out: someone typing their own right password still gets in.
            if address_failures >= cfg.slow_after_address_failures {
                tokio::time::sleep(ADDRESS_SLOWDOWN).await;
            }
            attempt
        }
        LoginReservation::AccountLocked => {
            let mins = cfg.throttle_window.num_minutes();
            return Ok(login_page(
                &headers,
                cfg.secure_cookies,
                email,
                Some(format!(
                    "Too many failed attempts. Wait {mins} minutes and try again, or ask an administrator to help."
                )),
                StatusCode::TOO_MANY_REQUESTS,
            ));
        }
    };
    let account = st.store.staff_login(&email).await?;
    let ok = verify_password_blocking(
        form.password,
        account.as_ref().map(|a| a.password_hash.clone()),
    )
    .await;
    let account = account.filter(|a| ok && a.active);
    let membership = match &account {
        Some(a) => st.store.memberships(a.id).await?.into_iter().next(),
        None => None,
    };
    let (Some(account), Some((clinic, _role))) = (account, membership) else {
        let actor = Actor {
            address: Some(address),
            ..Actor::system()
        };
        st.store
            .audit_only(
                &actor,
                AuditAction::LoginFailed,
                Subject::none().with_detail(email.clone()),
            )
            .await?;
        return Ok(login_page(
            &headers,
            cfg.secure_cookies,
            email,
            Some("Email or password is incorrect.".into()),
            StatusCode::UNAUTHORIZED,
        ));
    };
    if st.store.two_factor_state(account.id).await?.enabled {
        // The password was right; the sign-in is not finished (nor counted as a success, so
        // code guesses stay throttled) until a code from the person's authenticator is given.
        return super::second_factor::ask_for_code(&st, account.id, clinic.id).await;
    }
    let detail = "with a password";
    signed_in(
        &st, &headers, account.id, clinic.id, address, attempt, detail,
    )
    .await
}

/// Finishes a sign-in: a fresh session (the browser's old one ended), the attempt counted as a
/// success, the audit row, and the session cookie.
pub(super) async fn signed_in(
    st: &AppState,
    headers: &HeaderMap,
    staff_id: uuid::Uuid,
    clinic_id: uuid::Uuid,
    address: String,
    attempt: uuid::Uuid,
    detail: &str,
) -> AppResult<Response> {
    let cfg = &st.config;
    let name = session_cookie_name(cfg.secure_cookies);
    let previous = cookie(headers, name).map(str::to_owned);
    let token = st
        .store
        .start_session(
            staff_id,
            clinic_id,
            Some(&address),
            previous.as_deref(),
            cfg.session,
        )
        .await?;
    st.store.settle_login_attempt(attempt, true).await?;
    let actor = Actor::staff(staff_id, ActorKind::Staff, clinic_id, Some(address));
    st.store
        .audit_only(
            &actor,
            AuditAction::LoginSucceeded,
            Subject::record(RecordKind::Staff, staff_id).with_detail(detail),
        )
        .await?;
    let mut r = see_other("/");
    let max_age = cfg.session.absolute.num_seconds();
    if let Ok(v) =
        HeaderValue::from_str(&set_cookie(name, &token, cfg.secure_cookies, Some(max_age)))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

fn clear_session(st: &AppState, mut r: Response) -> Response {
    let name = session_cookie_name(st.config.secure_cookies);
    if let Ok(v) = HeaderValue::from_str(&set_cookie(name, "", st.config.secure_cookies, Some(0))) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub async fn logout(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    if let Some(t) = &staff.session_token {
        st.store.end_session(t).await?;
    }
    st.store
        .audit_only(
            &staff.actor(),
            AuditAction::Logout,
            Subject::record(RecordKind::Staff, staff.staff_id()),
        )
        .await?;
    Ok(clear_session(&st, see_other("/login")))
}

/// Ends every session of the signed-in person (a lost tablet, a shared computer).
pub async fn logout_everywhere(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    st.store.end_all_sessions(staff.staff_id()).await?;
    st.store
        .audit_only(
            &staff.actor(),
            AuditAction::Logout,
            Subject::record(RecordKind::Staff, staff.staff_id()).with_detail("everywhere"),
        )
        .await?;
    Ok(clear_session(&st, see_other("/login")))
}
