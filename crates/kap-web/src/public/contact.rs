//! The public contact form — the start of every patient's journey. No login, no JavaScript
//! needed, a honeypot field and a per-address rate limit against spam, and a confirmation page
//! that shows nothing about anyone.

use crate::AppState;
use crate::http::auth::{ClientAddr, set_cookie};
use crate::http::csrf::{CsrfForm, PRE_SESSION_COOKIE, pre_session_token};
use crate::http::error::{AppError, AppResult};
use crate::http::extract::see_other;
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::audit::Actor;
use kap_domain::audit::AuditAction;
use kap_domain::inquiry::ContactForm;
use kap_domain::person::PreferredContact;
use kap_domain::staff::Clinic;

#[derive(Template)]
#[template(path = "public/contact.html")]
struct ContactPage {
    shell: Shell,
    clinic_name: String,
    clinic: String,
    crisis_resources: String,
    form: ContactForm,
    consent: bool,
    errors: FieldErrors,
    options: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "public/contact_thanks.html")]
struct ThanksPage {
    shell: Shell,
    clinic_name: String,
    crisis_resources: String,
}

#[derive(serde::Deserialize, Default)]
pub struct ContactPost {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    preferred_contact: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    consent: Option<String>,
    /// The honeypot: hidden from people, filled in by bots.
    #[serde(default)]
    website: String,
    #[serde(default)]
    clinic: String,
}

#[derive(serde::Deserialize)]
pub struct ClinicQuery {
    clinic: Option<String>,
}

async fn clinic_for(st: &AppState, slug: Option<&str>) -> AppResult<Clinic> {
    match slug.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(st.store.clinic_by_slug(s).await?),
        None => Ok(st.store.default_clinic().await?),
    }
}

fn page(
    st: &AppState,
    headers: &HeaderMap,
    clinic: &Clinic,
    form: ContactForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let (token, fresh) = pre_session_token(headers);
    let consent = form.consent.is_some();
    let mut r = render(
        &ContactPage {
            shell: Shell::public("Contact the clinic", token.clone()),
            clinic_name: clinic.name.clone(),
            clinic: clinic.slug.clone(),
            crisis_resources: clinic.crisis_resources.clone(),
            form,
            consent,
            errors,
            options: PreferredContact::ALL
                .iter()
                .map(|p| (p.as_str(), p.label()))
                .collect(),
        },
        status,
    );
    if fresh
        && let Ok(v) = HeaderValue::from_str(&set_cookie(
            PRE_SESSION_COOKIE,
            &token,
            st.config.secure_cookies,
            None,
        ))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub async fn show(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ClinicQuery>,
) -> AppResult<Response> {
    let clinic = clinic_for(&st, q.clinic.as_deref()).await?;
    let form = ContactForm {
        preferred_contact: "email".into(),
        ..Default::default()
    };
    Ok(page(
        &st,
        &headers,
        &clinic,
        form,
        FieldErrors::new(),
        StatusCode::OK,
    ))
}

pub async fn submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    ClientAddr(addr): ClientAddr,
    CsrfForm(post): CsrfForm<ContactPost>,
) -> AppResult<Response> {
    let clinic = clinic_for(&st, Some(&post.clinic)).await?;
    let thanks = format!("/contact/thanks?clinic={}", clinic.slug);
    if !post.website.trim().is_empty() {
        // A bot filled the hidden field: look successful, keep nothing.
        return Ok(see_other(&thanks));
    }
    let address = addr.unwrap_or_else(|| "unknown".into());
    let since = kap_store::now() - chrono::Duration::hours(1);
    let recent = st
        .store
        .count_recent(AuditAction::InquirySubmitted, clinic.id, &address, since)
        .await?;
    if recent >= st.config.contact_per_hour {
        return Err(AppError::TooManyRequests(
            "We have received several messages from this connection in the last hour. Please try again later, or call the clinic.".into(),
        ));
    }
    let form = ContactForm {
        name: post.name,
        email: post.email,
        phone: post.phone,
        preferred_contact: post.preferred_contact,
        message: post.message,
        consent: post.consent,
    };
    match form.parse() {
        Ok(submission) => {
            let actor = Actor::visitor(clinic.id, Some(address));
            st.store
                .submit_inquiry(&actor, clinic.id, &submission)
                .await?;
            Ok(see_other(&thanks))
        }
        Err(errors) => Ok(page(
            &st,
            &headers,
            &clinic,
            form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
    }
}

pub async fn thanks(
    State(st): State<AppState>,
    Query(q): Query<ClinicQuery>,
) -> AppResult<Response> {
    let clinic = clinic_for(&st, q.clinic.as_deref()).await?;
    Ok(render(
        &ThanksPage {
            shell: Shell::public("Thank you", String::new()),
            clinic_name: clinic.name,
            crisis_resources: clinic.crisis_resources,
        },
        StatusCode::OK,
    ))
}
