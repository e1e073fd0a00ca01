//! Setting a new password with a one-time link an administrator issued: the link works once,
//! until it expires, and using it ends every session of the account.

use crate::AppState;
use crate::http::auth::{ClientAddr, hash_password_blocking, set_cookie};
use crate::http::csrf::{CsrfForm, PRE_SESSION_COOKIE, pre_session_token};
use crate::http::error::AppResult;
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::password::check_new;
use kap_store::{Conflict, StoreError};

#[derive(Template)]
#[template(path = "public/reset.html")]
struct ResetPage {
    shell: Shell,
    token: String,
    /// The account's email, when the link is live.
    email: Option<String>,
    errors: FieldErrors,
    done: bool,
}

fn page(
    headers: &HeaderMap,
    secure: bool,
    token: &str,
    email: Option<String>,
    errors: FieldErrors,
    done: bool,
    status: StatusCode,
) -> Response {
    let (csrf, fresh) = pre_session_token(headers);
    let mut r = render(
        &ResetPage {
            shell: Shell::public("Set a new password", csrf.clone()),
            token: token.to_owned(),
            email,
            errors,
            done,
        },
        status,
    );
    if fresh
        && let Ok(v) = HeaderValue::from_str(&set_cookie(PRE_SESSION_COOKIE, &csrf, secure, None))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub async fn show(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let holder = st.store.password_reset_holder(&token).await?;
    let status = if holder.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    Ok(page(
        &headers,
        st.config.secure_cookies,
        &token,
        holder.map(|h| h.email),
        FieldErrors::new(),
        false,
        status,
    ))
}

#[derive(serde::Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_again: String,
}

pub async fn submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    ClientAddr(addr): ClientAddr,
    Path(token): Path<String>,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> AppResult<Response> {
    let secure = st.config.secure_cookies;
    let Some(holder) = st.store.password_reset_holder(&token).await? else {
        return Ok(page(
            &headers,
            secure,
            &token,
            None,
            FieldErrors::new(),
            false,
            StatusCode::GONE,
        ));
    };
    if let Err(errors) = check_new(&form.new_password, &form.new_password_again, &holder.email) {
        return Ok(page(
            &headers,
            secure,
            &token,
            Some(holder.email),
            errors,
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let hash = hash_password_blocking(form.new_password).await?;
    match st.store.reset_password_with_link(&token, &hash, addr).await {
        Ok(_) => Ok(page(
            &headers,
            secure,
            &token,
            None,
            FieldErrors::new(),
            true,
            StatusCode::OK,
        )),
        Err(StoreError::Conflict(Conflict::LinkSpent)) => Ok(page(
            &headers,
            secure,
            &token,
            None,
            FieldErrors::new(),
            false,
            StatusCode::GONE,
        )),
        Err(e) => Err(e.into()),
    }
}
