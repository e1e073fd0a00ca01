//! A staff member's own account: the clinics they work in (to switch between), their password,
//! two-factor sign-in, and their sessions.

mod password;
mod qr;
mod two_factor;

use crate::AppState;
use crate::http::Access::SignedIn;
use crate::http::csrf::CsrfForm;
use crate::http::error::AppResult;
use crate::http::extract::{NoticeQuery, parse_id, see_other};
use crate::http::view::{Shell, render};
use crate::http::{Routes, Staff};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::staff::Clinic;
use kap_domain::{FieldErrors, Role};
use kap_store::account::TwoFactorState;

pub fn router() -> Routes {
    Routes::new()
        .get("/account", SignedIn, account)
        .post("/account/clinic", SignedIn, switch_clinic)
        .post("/account/password", SignedIn, password::change)
        .get("/account/two-factor", SignedIn, two_factor::show)
        .post("/account/two-factor", SignedIn, two_factor::confirm)
        .post("/account/two-factor/off", SignedIn, two_factor::turn_off)
}

#[derive(Template)]
#[template(path = "account/account.html")]
struct AccountPage {
    shell: Shell,
    email: String,
    clinics: Vec<(Clinic, Role)>,
    current: uuid::Uuid,
    password_errors: FieldErrors,
    two_factor: TwoFactorState,
    clinic_requires: bool,
}

/// The signed-in person's own page, with the password form's problems when it came back.
async fn account_page(
    st: &AppState,
    staff: &Staff,
    notice: Option<&str>,
    password_errors: FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let clinics = st.store.memberships(staff.staff_id()).await?;
    let two_factor = st.store.two_factor_state(staff.staff_id()).await?;
    Ok(render(
        &AccountPage {
            shell: Shell::staff(staff, "Your account", "").with_notice(notice),
            email: staff.principal.email.clone(),
            clinics,
            current: staff.clinic_id(),
            password_errors,
            two_factor,
            clinic_requires: staff.principal.clinic_requires_two_factor,
        },
        status,
    ))
}

async fn account(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    account_page(
        &st,
        &staff,
        q.notice.as_deref(),
        FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

#[derive(serde::Deserialize)]
struct SwitchForm {
    #[serde(default)]
    clinic: String,
}

/// Works in another of the person's clinics from now on (this session only).
async fn switch_clinic(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> AppResult<Response> {
    let clinic = parse_id(&form.clinic)?;
    let token = staff.session_token.clone().unwrap_or_default();
    st.store
        .switch_session_clinic(&token, staff.staff_id(), clinic)
        .await?;
    Ok(see_other("/"))
}
