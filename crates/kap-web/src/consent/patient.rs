//! The patient's side of consent: the clinic's document opened from a single-use, expiring link
//! on a phone (no account, no JavaScript), read in full and signed with the typed full name, the
//! date and a confirmation of understanding; the time and network address are recorded. After
//! signing, the link shows a confirmation for the rest of its validity (after a reload too); a
//! link that cannot be used shows the clinic's crisis resources and phone number like every
//! patient link.

use crate::AppState;
use crate::http::auth::ClientAddr;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{field, see_other};
use crate::http::view::{Shell, render};
use crate::public::{gone_page, well_formed};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::consent::{ConsentDocument, ConsentLink, SignatureForm};
use kap_domain::measure::LinkPage;
use kap_domain::staff::Clinic;
use kap_store::{Conflict, StoreError};

#[derive(Template)]
#[template(path = "consent/patient_sign.html")]
struct SignPage {
    shell: Shell,
    token: String,
    clinic: Clinic,
    doc: ConsentDocument,
    typed_name: String,
    signed_on: String,
    understood: bool,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "consent/patient_signed.html")]
struct SignedPage {
    shell: Shell,
    clinic: Clinic,
    doc: ConsentDocument,
}

async fn link_of(st: &AppState, token: &str) -> AppResult<Option<ConsentLink>> {
    if !well_formed(token) {
        return Ok(None);
    }
    Ok(st.store.consent_link_by_token(token).await?)
}

fn done_url(token: &str) -> String {
    format!("/c/{token}/done")
}

fn sign_page(
    token: &str,
    clinic: Clinic,
    doc: ConsentDocument,
    typed: (String, String, bool),
    errors: FieldErrors,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        &SignPage {
            // The link's own token is the proof a post carries; no cookie is involved.
            shell: Shell::public(format!("{} · {}", doc.title, clinic.name), String::new()),
            token: token.to_owned(),
            clinic,
            doc,
            typed_name: typed.0,
            signed_on: typed.1,
            understood: typed.2,
            errors,
        },
        status,
    )
}

pub(super) async fn show(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(link) = link_of(&st, &token).await? else {
        return gone_page(&st, None).await;
    };
    match link.page(kap_store::now()) {
        LinkPage::Gone => return gone_page(&st, Some(link.clinic_id)).await,
        LinkPage::Done => return Ok(see_other(&done_url(&token))),
        LinkPage::Form => {}
    }
    let clinic = st.store.clinic(link.clinic_id).await?;
    let doc = st
        .store
        .consent_document(link.clinic_id, link.document_id)
        .await?;
    st.store
        .audit_only(
            &Actor::visitor(link.clinic_id, addr),
            AuditAction::ConsentLinkOpened,
            Subject::patient(link.patient_id).with_detail(format!("consent link {}", link.id)),
        )
        .await?;
    Ok(sign_page(
        &token,
        clinic,
        doc,
        (String::new(), String::new(), false),
        FieldErrors::new(),
    ))
}

pub(super) async fn sign(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(token): Path<String>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let Some(link) = link_of(&st, &token).await? else {
        return gone_page(&st, None).await;
    };
    match link.page(kap_store::now()) {
        LinkPage::Gone => return gone_page(&st, Some(link.clinic_id)).await,
        // Signed already (another tab, a double tap): nothing more is stored.
        LinkPage::Done => return Ok(see_other(&done_url(&token))),
        LinkPage::Form => {}
    }
    let typed_name = field(&fields, "typed_name").to_owned();
    let signed_on = field(&fields, "signed_on").to_owned();
    let understood = field(&fields, "understood") == "yes";
    let clinic = st.store.clinic(link.clinic_id).await?;
    let today = clinic
        .time_zone
        .unwrap_or(st.config.time_zone)
        .date(&kap_store::now());
    let form = SignatureForm {
        typed_name: &typed_name,
        signed_on: &signed_on,
        understood,
    };
    let signed = st
        .store
        .sign_consent_by_link(&Actor::visitor(link.clinic_id, addr), &link, &form, today)
        .await;
    match signed {
        Ok(_) | Err(StoreError::Conflict(Conflict::LinkSpent)) => Ok(see_other(&done_url(&token))),
        Err(StoreError::Conflict(Conflict::SignatureInvalid(errors))) => {
            let doc = st
                .store
                .consent_document(link.clinic_id, link.document_id)
                .await?;
            Ok(sign_page(
                &token,
                clinic,
                doc,
                (typed_name, signed_on, understood),
                errors,
            ))
        }
        Err(e) => Err(AppError::from(e)),
    }
}

/// The confirmation of a signed link, for as long as the link is valid.
pub(super) async fn done(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(link) = link_of(&st, &token).await? else {
        return gone_page(&st, None).await;
    };
    match link.page(kap_store::now()) {
        LinkPage::Gone => return gone_page(&st, Some(link.clinic_id)).await,
        LinkPage::Form => return Ok(see_other(&format!("/c/{token}"))),
        LinkPage::Done => {}
    }
    let clinic = st.store.clinic(link.clinic_id).await?;
    let doc = st
        .store
        .consent_document(link.clinic_id, link.document_id)
        .await?;
    Ok(render(
        &SignedPage {
            shell: Shell::public(format!("Signed · {}", clinic.name), String::new()),
            clinic,
            doc,
        },
        StatusCode::OK,
    ))
}
