//! Changing one's own password: the current one proves it is the person, the new one follows
//! the same strength rule as every password, and every other session of theirs ends.

use super::account_page;
use crate::AppState;
use crate::http::Staff;
use crate::http::auth::{hash_password_blocking, verify_password_blocking};
use crate::http::csrf::CsrfForm;
use crate::http::error::AppResult;
use crate::http::extract::see_other;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::password::check_new;

#[derive(serde::Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_again: String,
}

pub(super) async fn change(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> AppResult<Response> {
    let account = st.store.staff_login(&staff.principal.email).await?;
    let current_ok =
        verify_password_blocking(form.current_password, account.map(|a| a.password_hash)).await;
    let checked = if current_ok {
        check_new(
            &form.new_password,
            &form.new_password_again,
            &staff.principal.email,
        )
    } else {
        Err(FieldErrors::single(
            "current_password",
            "That is not your current password.",
        ))
    };
    if let Err(errors) = checked {
        return account_page(&st, &staff, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let hash = hash_password_blocking(form.new_password).await?;
    st.store
        .change_own_password(
            &staff.actor(),
            staff.staff_id(),
            &hash,
            staff.session_token.as_deref(),
        )
        .await?;
    Ok(see_other("/account?notice=password-changed"))
}
