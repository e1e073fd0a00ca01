//! The staff side of the patient's own history: send the patient a history link for an open
//! screening, and confirm each part the patient saved into the intake.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{Empty, parse_id, see_other};
use axum::extract::{Path, State};
use axum::response::Response;
use kap_domain::screening::report::ReportPart;
use kap_store::report::NewHistoryLink;

pub(super) async fn send_link(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let settings = st.store.measurement_settings(staff.clinic_id()).await?;
    st.store
        .create_history_link(
            &staff.actor(),
            NewHistoryLink {
                clinic_id: staff.clinic_id(),
                screening_id: id,
                valid_for: settings.link_valid_for(),
                public_url: &st.config.public_url,
                email_enabled: st.config.email_enabled,
            },
        )
        .await?;
    Ok(see_other(&format!(
        "/screenings/{id}?notice=history-link-sent#patient-answers"
    )))
}

pub(super) async fn confirm(
    State(st): State<AppState>,
    staff: Staff,
    Path((id, part)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let part = ReportPart::from_code(&part).ok_or(AppError::NotFound)?;
    st.store
        .confirm_report_part(&staff.actor(), staff.clinic_id(), id, part)
        .await?;
    Ok(see_other(&format!(
        "/screenings/{id}?notice=saved#patient-answers"
    )))
}
