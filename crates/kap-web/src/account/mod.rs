//! A staff member's own account: the clinics they work in (to switch between) and their
//! sessions.

use crate::AppState;
use crate::http::Access::SignedIn;
use crate::http::csrf::CsrfForm;
use crate::http::error::AppResult;
use crate::http::extract::{parse_id, see_other};
use crate::http::view::{Shell, render};
use crate::http::{Routes, Staff};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::Role;
use kap_domain::staff::Clinic;

pub fn router() -> Routes {
    Routes::new().get("/account", SignedIn, account).post(
        "/account/clinic",
        SignedIn,
        switch_clinic,
    )
}

#[derive(Template)]
#[template(path = "account/account.html")]
struct AccountPage {
    shell: Shell,
    email: String,
    clinics: Vec<(Clinic, Role)>,
    current: uuid::Uuid,
}

/// The signed-in person's own page: their clinics (to switch between) and their sessions.
async fn account(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    let clinics = st.store.memberships(staff.staff_id()).await?;
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
