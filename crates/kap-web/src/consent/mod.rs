//! Informed consent on every side: administrators publish versions of the clinic's consent
//! documents per route; the care team sends a patient a consent link or has the patient sign in
//! clinic with a staff member as witness, and records the esketamine REMS enrolment; the patient
//! reads and signs on a phone through the link; the chart shows what was consented to and
//! which version; the API lists a patient's consents.

mod admin;
mod api;
mod chart;
mod patient;
mod staff;

pub use chart::section;

use crate::http::Access::{Needs, Public};
use crate::http::Routes;
use kap_domain::permission::Action::{
    ManageConsentDocuments, ReadConsent, RecordConsent, SendConsent,
};
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .get(
            "/admin/consent",
            Needs(ManageConsentDocuments),
            admin::documents,
        )
        .post(
            "/admin/consent",
            Needs(ManageConsentDocuments),
            admin::publish,
        )
        .get(
            "/consent/documents/{document}",
            Needs(ReadConsent),
            staff::document,
        )
        .post(
            "/patients/{patient}/consent/links",
            Needs(SendConsent),
            staff::send_link,
        )
        .get(
            "/patients/{patient}/consent/sign",
            Needs(RecordConsent),
            staff::sign_form,
        )
        .post(
            "/patients/{patient}/consent/sign",
            Needs(RecordConsent),
            staff::sign,
        )
        .post(
            "/patients/{patient}/rems",
            Needs(RecordConsent),
            staff::rems,
        )
        .post(
            "/consents/{consent}/withdraw",
            Needs(RecordConsent),
            staff::withdraw,
        )
        .get("/c/{token}", Public, patient::show)
        .post("/c/{token}", Public, patient::sign)
        .get("/c/{token}/done", Public, patient::done)
        .api(ReadConsent, routes!(api::consents))
}
