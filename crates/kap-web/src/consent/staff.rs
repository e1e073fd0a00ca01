//! The care team's side of consent: send a consent link, have the patient sign in clinic with
//! the signed-in staff member as witness (the page shows the whole current text), record the
//! REMS enrolment, and read any version of a document a patient signed.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppError, AppResult, conflict_words};
use crate::http::extract::{Fields, field, parse_id, see_other};
use crate::http::sections::Returned;
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::consent::{ConsentDocument, RemsForm, SignatureForm, WithdrawalForm};
use kap_domain::screening::Route;
use kap_store::consent::NewConsentLink;
use kap_store::{Conflict, StoreError};
use uuid::Uuid;

/// The chart's REMS form, as [`Returned`] names it.
pub(super) const REMS: &str = "rems";
/// The chart's withdrawal form (one per consent), as [`Returned`] names it.
pub(super) const WITHDRAW: &str = "withdraw";

fn route_of(code: &str) -> AppResult<Route> {
    Route::from_code(code).ok_or_else(|| {
        AppError::Invalid(FieldErrors::single(
            "route",
            "Choose the route to consent to.",
        ))
    })
}

pub(super) async fn send_link(
    State(st): State<AppState>,
    staff: Staff,
    Path(patient): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let patient = parse_id(&patient)?;
    let route = route_of(field(&f, "route"))?;
    let settings = st.store.measurement_settings(staff.clinic_id()).await?;
    st.store
        .create_consent_link(
            &staff.actor(),
            NewConsentLink {
                clinic_id: staff.clinic_id(),
                patient_id: patient,
                route,
                valid_for: settings.link_valid_for(),
                public_url: &st.config.public_url,
                email_enabled: st.config.email_enabled,
            },
        )
        .await?;
    Ok(see_other(&format!(
        "/patients/{patient}?notice=consent-link-sent#consent"
    )))
}

#[derive(Template)]
#[template(path = "consent/sign.html")]
struct SignPage {
    shell: Shell,
    patient_id: Uuid,
    patient_name: String,
    witness: String,
    doc: ConsentDocument,
    typed_name: String,
    signed_on: String,
    understood: bool,
    errors: FieldErrors,
    problem: Option<String>,
}

#[derive(serde::Deserialize)]
pub(super) struct RouteQuery {
    #[serde(default)]
    route: String,
}

struct Typed {
    typed_name: String,
    signed_on: String,
    understood: bool,
    errors: FieldErrors,
    problem: Option<String>,
}

/// The in-clinic signing page for the current version of a route's document.
async fn sign_page(
    st: &AppState,
    staff: &Staff,
    patient: Uuid,
    route: Route,
    typed: Typed,
) -> AppResult<Response> {
    let (p, _) = st
        .store
        .patient(&staff.actor(), staff.clinic_id(), patient)
        .await?;
    let doc = st
        .store
        .current_consent_documents(staff.clinic_id())
        .await?
        .into_iter()
        .find(|d| d.route == route)
        .ok_or_else(|| AppError::Conflict(conflict_words(&Conflict::NoConsentDocument(route))))?;
    let status = if typed.errors.is_empty() && typed.problem.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let name = p.details.full_name.as_str().to_owned();
    Ok(render(
        &SignPage {
            shell: Shell::staff(staff, format!("Consent in clinic: {name}"), "patients"),
            patient_id: patient,
            patient_name: name,
            witness: staff.principal.full_name.clone(),
            doc,
            typed_name: typed.typed_name,
            signed_on: typed.signed_on,
            understood: typed.understood,
            errors: typed.errors,
            problem: typed.problem,
        },
        status,
    ))
}

pub(super) async fn sign_form(
    State(st): State<AppState>,
    staff: Staff,
    Path(patient): Path<String>,
    Query(q): Query<RouteQuery>,
) -> AppResult<Response> {
    let patient = parse_id(&patient)?;
    let route = Route::from_code(&q.route).ok_or(AppError::NotFound)?;
    let typed = Typed {
        typed_name: String::new(),
        signed_on: staff
            .tz
            .date(&kap_store::now())
            .format("%Y-%m-%d")
            .to_string(),
        understood: false,
        errors: FieldErrors::new(),
        problem: None,
    };
    sign_page(&st, &staff, patient, route, typed).await
}

pub(super) async fn sign(
    State(st): State<AppState>,
    staff: Staff,
    Path(patient): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let patient = parse_id(&patient)?;
    let document = parse_id(field(&f, "document"))?;
    let doc = st
        .store
        .consent_document(staff.clinic_id(), document)
        .await?;
    let (typed_name, signed_on) = (
        field(&f, "typed_name").to_owned(),
        field(&f, "signed_on").to_owned(),
    );
    let understood = field(&f, "understood") == "yes";
    let form = SignatureForm {
        typed_name: &typed_name,
        signed_on: &signed_on,
        understood,
    };
    let today = staff.tz.date(&kap_store::now());
    let r = st
        .store
        .record_consent_in_clinic(
            &staff.actor(),
            staff.clinic_id(),
            patient,
            document,
            &form,
            today,
        )
        .await;
    let (errors, problem) = match r {
        Ok(_) => {
            return Ok(see_other(&format!(
                "/patients/{patient}?notice=consent-signed#consent"
            )));
        }
        Err(StoreError::Conflict(Conflict::SignatureInvalid(e))) => (e, None),
        Err(StoreError::Conflict(c @ Conflict::ConsentDocumentOutdated)) => {
            (FieldErrors::new(), Some(conflict_words(&c)))
        }
        Err(e) => return Err(e.into()),
    };
    let typed = Typed {
        typed_name,
        signed_on,
        understood: understood && problem.is_none(),
        errors,
        problem,
    };
    sign_page(&st, &staff, patient, doc.route, typed).await
}

pub(super) async fn rems(
    State(st): State<AppState>,
    staff: Staff,
    Path(patient): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let patient = parse_id(&patient)?;
    let today = staff.tz.date(&kap_store::now());
    let parsed = RemsForm {
        status: field(&f, "status"),
        on: field(&f, "on"),
        reference: field(&f, "reference"),
    }
    .parse(today);
    match parsed {
        Ok(r) => {
            st.store
                .record_rems(&staff.actor(), staff.clinic_id(), patient, &r)
                .await?;
            Ok(see_other(&format!(
                "/patients/{patient}?notice=rems-recorded#consent"
            )))
        }
        Err(errors) => {
            crate::patients::pages::chart_page(
                &st,
                &staff,
                patient,
                None,
                Returned::form(REMS, f, errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub(super) async fn withdraw(
    State(st): State<AppState>,
    staff: Staff,
    Path(consent): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let consent = parse_id(&consent)?;
    let form = WithdrawalForm {
        withdrawn_on: field(&f, "withdrawn_on"),
        reason: field(&f, "reason"),
    };
    let today = staff.tz.date(&kap_store::now());
    let r = st
        .store
        .withdraw_consent(&staff.actor(), staff.clinic_id(), consent, &form, today)
        .await;
    match r {
        Ok(patient) => Ok(see_other(&format!(
            "/patients/{patient}?notice=consent-withdrawn#consent"
        ))),
        Err(StoreError::Conflict(Conflict::SignatureInvalid(errors))) => {
            let patient = st.store.consent_patient(staff.clinic_id(), consent).await?;
            let returned = Returned::form(WITHDRAW, f, errors).about(consent);
            crate::patients::pages::chart_page(
                &st,
                &staff,
                patient,
                None,
                returned,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "consent/document.html")]
struct DocumentPage {
    shell: Shell,
    doc: ConsentDocument,
    published: String,
}

/// One version of a consent document, as it was signed.
pub(super) async fn document(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let doc = st.store.consent_document(staff.clinic_id(), id).await?;
    Ok(render(
        &DocumentPage {
            shell: Shell::staff(
                &staff,
                format!("{} (version {})", doc.title, doc.version),
                "patients",
            ),
            published: staff.tz.format(&doc.published_at),
            doc,
        },
        StatusCode::OK,
    ))
}
