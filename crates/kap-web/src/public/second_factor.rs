//! The second step of signing in, for staff who use two factors: a six-digit code from their
//! authenticator app (each accepted once) or one of their recovery codes. Attempts count
//! against the same per-account and per-address limits as passwords.

use crate::AppState;
use crate::http::auth::{ClientAddr, cookie, set_cookie};
use crate::http::csrf::{CsrfForm, PRE_SESSION_COOKIE, pre_session_token};
use crate::http::error::AppResult;
use crate::http::extract::see_other;
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::Duration;
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::two_factor::{looks_like_recovery_code, recovery_hash};
use kap_store::session::{LoginLimits, LoginReservation};
use uuid::Uuid;

/// How long someone has, after a right password, to give their code.
const CODE_WAIT: i64 = 5;

/// The browser's hold on a half-finished sign-in.
fn challenge_cookie(secure: bool) -> &'static str {
    if secure { "__Host-kap_2fa" } else { "kap_2fa" }
}

fn with_cookie(mut r: Response, value: &str, secure: bool, max_age: i64) -> Response {
    let c = set_cookie(challenge_cookie(secure), value, secure, Some(max_age));
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// After a right password: remembers the half-finished sign-in and asks for the code.
pub(super) async fn ask_for_code(
    st: &AppState,
    staff_id: Uuid,
    clinic_id: Uuid,
) -> AppResult<Response> {
    let token = st
        .store
        .start_login_challenge(staff_id, clinic_id, Duration::minutes(CODE_WAIT))
        .await?;
    Ok(with_cookie(
        see_other("/login/code"),
        &token,
        st.config.secure_cookies,
        CODE_WAIT * 60,
    ))
}

#[derive(Template)]
#[template(path = "public/login_code.html")]
struct CodePage {
    shell: Shell,
    problem: Option<String>,
}

fn code_page(
    headers: &HeaderMap,
    secure: bool,
    problem: Option<String>,
    status: StatusCode,
) -> Response {
    let (token, fresh) = pre_session_token(headers);
    let mut r = render(
        &CodePage {
            shell: Shell::public("Two-factor sign-in", token.clone()),
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

/// Back to the password: the half-finished sign-in is gone or too old.
fn start_again(st: &AppState) -> Response {
    with_cookie(see_other("/login"), "", st.config.secure_cookies, 0)
}

pub async fn show(State(st): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let secure = st.config.secure_cookies;
    let Some(token) = cookie(&headers, challenge_cookie(secure)) else {
        return Ok(start_again(&st));
    };
    if st.store.login_challenge(token).await?.is_none() {
        return Ok(start_again(&st));
    }
    Ok(code_page(&headers, secure, None, StatusCode::OK))
}

#[derive(serde::Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

pub async fn submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    ClientAddr(addr): ClientAddr,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> AppResult<Response> {
    let cfg = &st.config;
    let secure = cfg.secure_cookies;
    let Some(token) = cookie(&headers, challenge_cookie(secure)).map(str::to_owned) else {
        return Ok(start_again(&st));
    };
    let Some(holder) = st.store.login_challenge(&token).await? else {
        return Ok(start_again(&st));
    };
    let address = addr.unwrap_or_else(|| "unknown".into());
    let limits = LoginLimits {
        per_account: cfg.max_failures_per_account,
        window: cfg.throttle_window,
    };
    let attempt = match st
        .store
        .reserve_login_attempt(&holder.email, &address, limits)
        .await?
    {
        LoginReservation::Granted { attempt, .. } => attempt,
        LoginReservation::AccountLocked => {
            st.store.end_login_challenge(&token).await?;
            let mins = cfg.throttle_window.num_minutes();
            return Ok(with_cookie(
                code_page(
                    &headers,
                    secure,
                    Some(format!(
                        "Too many failed attempts. Wait {mins} minutes and log in again, or ask an administrator to help."
                    )),
                    StatusCode::TOO_MANY_REQUESTS,
                ),
                "",
                secure,
                0,
            ));
        }
    };
    let staff_id = holder.staff_id;
    let typed = form.code.trim();
    let (accepted, how) = if looks_like_recovery_code(typed) {
        let ok = st
            .store
            .use_recovery_code(staff_id, &recovery_hash(typed))
            .await?;
        (ok, "with a recovery code")
    } else {
        let ok = match st.store.totp_key(staff_id).await? {
            Some((key, last)) => match key.accepts(typed, kap_store::now(), last) {
                Some(step) => st.store.use_totp_step(staff_id, step).await?,
                None => false,
            },
            None => false,
        };
        (ok, "with a password and a code")
    };
    let Some(clinic_id) = holder.clinic_id.filter(|_| accepted) else {
        let actor = Actor {
            address: Some(address),
            ..Actor::system()
        };
        st.store
            .audit_only(
                &actor,
                AuditAction::LoginFailed,
                Subject::none().with_detail(format!("{}: wrong second factor", holder.email)),
            )
            .await?;
        return Ok(code_page(
            &headers,
            secure,
            Some(
                "That code is not right, or was used already. Try the newest code from your app."
                    .into(),
            ),
            StatusCode::UNAUTHORIZED,
        ));
    };
    st.store.end_login_challenge(&token).await?;
    if how == "with a recovery code" {
        let actor = Actor::staff(
            staff_id,
            kap_domain::audit::ActorKind::Staff,
            clinic_id,
            Some(address.clone()),
        );
        st.store
            .audit_only(
                &actor,
                AuditAction::RecoveryCodeUsed,
                Subject::record(kap_domain::audit::RecordKind::Staff, staff_id),
            )
            .await?;
    }
    let r =
        super::login::signed_in(&st, &headers, staff_id, clinic_id, address, attempt, how).await?;
    Ok(with_cookie(r, "", secure, 0))
}
