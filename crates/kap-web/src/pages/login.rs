//! Logging in and out: uniform errors, throttling per account and per address, session rotation.

use crate::AppState;
use crate::auth::{
    ClientAddr, Staff, cookie, session_cookie_name, set_cookie, verify_password_blocking,
};
use crate::csrf::{CsrfForm, PRE_SESSION_COOKIE, pre_session_token};
use crate::error::AppResult;
use crate::pages::{Empty, see_other};
use crate::view::{Shell, render};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kap_domain::audit::AuditAction;
use kap_store::Actor;
use kap_store::audit::Subject;

#[derive(Template)]
#[template(path = "login.html")]
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
    let since = kap_store::now() - cfg.throttle_window;
    let (by_email, by_address) = st
        .store
        .recent_login_failures(&email, &address, since)
        .await?;
    if by_email >= cfg.max_failures_per_account || by_address >= cfg.max_failures_per_address {
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
        st.store
            .record_login_attempt(&email, &address, false)
            .await?;
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
    let name = session_cookie_name(cfg.secure_cookies);
    let previous = cookie(&headers, name).map(str::to_owned);
    let token = st
        .store
        .start_session(
            account.id,
            clinic.id,
            Some(&address),
            previous.as_deref(),
            cfg.session,
        )
        .await?;
    st.store
        .record_login_attempt(&email, &address, true)
        .await?;
    let actor = Actor {
        staff_id: Some(account.id),
        kind: "staff",
        clinic_id: Some(clinic.id),
        address: Some(address),
    };
    st.store
        .audit_only(
            &actor,
            AuditAction::LoginSucceeded,
            Subject::record("staff", account.id),
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
            Subject::record("staff", staff.principal.staff_id),
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
    st.store.end_all_sessions(staff.principal.staff_id).await?;
    st.store
        .audit_only(
            &staff.actor(),
            AuditAction::Logout,
            Subject::record("staff", staff.principal.staff_id).with_detail("everywhere"),
        )
        .await?;
    Ok(clear_session(&st, see_other("/login")).into_response())
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    shell: Shell,
    email: String,
    clinics: Vec<(kap_store::staff::Clinic, String)>,
    current: uuid::Uuid,
}

/// The signed-in person's own page: their clinics (to switch between) and their sessions.
pub async fn account(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    let clinics = st.store.memberships(staff.principal.staff_id).await?;
    Ok(render(
        &AccountPage {
            shell: Shell::staff(&staff, "Your account", ""),
            email: staff.principal.email.clone(),
            clinics,
            current: staff.clinic_id(),
        },
        StatusCode::OK,
    ))
}

#[derive(serde::Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    clinic: String,
}

/// Works in another of the person's clinics from now on (this session only).
pub async fn switch_clinic(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> AppResult<Response> {
    let clinic = crate::pages::parse_id(&form.clinic)?;
    let token = staff.session_token.clone().unwrap_or_default();
    st.store
        .switch_session_clinic(&token, staff.principal.staff_id, clinic)
        .await?;
    Ok(see_other("/"))
}
