//! The URL map (design §7) and, beside it, the permission each route asks for — the table the
//! route-walking test checks against every role.

use crate::AppState;
use crate::pages::{admin, contact, home, inquiries, link, login, measure, patients};
use axum::Router;
use axum::routing::{get, post};
use kap_domain::permission::Action;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in staff member (the handler asks nothing more).
    SignedIn,
    /// Staff whose role allows the action.
    Needs(Action),
}

/// One route: method, path (with `{id}` placeholders), who may call it, and whether it is API.
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub api: bool,
}

const fn page(method: &'static str, path: &'static str, access: Access) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access,
        api: false,
    }
}

const fn api(method: &'static str, path: &'static str, action: Action) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access: Access::Needs(action),
        api: true,
    }
}

use Access::{Needs, Public, SignedIn};

pub const ROUTES: &[RouteSpec] = &[
    page("GET", "/healthz", Public),
    page("GET", "/login", Public),
    page("POST", "/login", Public),
    page("GET", "/contact", Public),
    page("POST", "/contact", Public),
    page("GET", "/contact/thanks", Public),
    page("GET", "/p/{token}", Public),
    page("POST", "/p/{token}", Public),
    page("GET", "/api/openapi.json", Public),
    page("POST", "/logout", SignedIn),
    page("POST", "/logout/everywhere", SignedIn),
    page("GET", "/account", SignedIn),
    page("POST", "/account/clinic", SignedIn),
    page("GET", "/", Needs(Action::ViewHome)),
    page("GET", "/inquiries", Needs(Action::ReadInquiry)),
    page("GET", "/inquiries/{inquiry}", Needs(Action::ReadInquiry)),
    page("POST", "/inquiries/{inquiry}", Needs(Action::UpdateInquiry)),
    page(
        "POST",
        "/inquiries/{inquiry}/convert",
        Needs(Action::ConvertInquiry),
    ),
    page("GET", "/patients", Needs(Action::SearchPatients)),
    page("POST", "/patients", Needs(Action::CreatePatient)),
    page("GET", "/patients/new", Needs(Action::CreatePatient)),
    page("GET", "/patients/{patient}", Needs(Action::ReadPatient)),
    page("POST", "/patients/{patient}", Needs(Action::UpdatePatient)),
    page(
        "GET",
        "/patients/{patient}/edit",
        Needs(Action::UpdatePatient),
    ),
    page(
        "POST",
        "/patients/{patient}/measurements",
        Needs(Action::RecordBodyMeasurement),
    ),
    page(
        "GET",
        "/patients/{patient}/responses/new",
        Needs(Action::EnterResponse),
    ),
    page(
        "POST",
        "/patients/{patient}/responses",
        Needs(Action::EnterResponse),
    ),
    page(
        "POST",
        "/patients/{patient}/links",
        Needs(Action::SendQuestionnaire),
    ),
    page(
        "POST",
        "/patients/{patient}/schedules",
        Needs(Action::SendQuestionnaire),
    ),
    page(
        "POST",
        "/patients/{patient}/schedules/{schedule}/stop",
        Needs(Action::SendQuestionnaire),
    ),
    page(
        "POST",
        "/alerts/{alert}/acknowledge",
        Needs(Action::HandleAlerts),
    ),
    page("GET", "/outbox", Needs(Action::ReadOutbox)),
    page("GET", "/admin/staff", Needs(Action::ManageStaff)),
    page("POST", "/admin/staff", Needs(Action::ManageStaff)),
    page("GET", "/admin/staff/{staff}", Needs(Action::ManageStaff)),
    page("POST", "/admin/staff/{staff}", Needs(Action::ManageStaff)),
    page(
        "POST",
        "/admin/staff/{staff}/tokens",
        Needs(Action::ManageApiTokens),
    ),
    page(
        "POST",
        "/admin/staff/{staff}/tokens/{token}/revoke",
        Needs(Action::ManageApiTokens),
    ),
    page("GET", "/admin/clinic", Needs(Action::ManageClinic)),
    page("POST", "/admin/clinic", Needs(Action::ManageClinic)),
    page("POST", "/admin/protocol", Needs(Action::ManageClinic)),
    page("GET", "/admin/audit", Needs(Action::ReadAudit)),
    api("GET", "/api/v1/instruments", Action::SendQuestionnaire),
    api(
        "GET",
        "/api/v1/patients/{patient}/responses",
        Action::ReadResponses,
    ),
    api(
        "POST",
        "/api/v1/patients/{patient}/responses",
        Action::EnterResponse,
    ),
    api(
        "GET",
        "/api/v1/patients/{patient}/trajectory",
        Action::ReadResponses,
    ),
    api("GET", "/api/v1/patients", Action::SearchPatients),
    api("POST", "/api/v1/patients", Action::CreatePatient),
    api("GET", "/api/v1/patients/{patient}", Action::ReadPatient),
    api("PUT", "/api/v1/patients/{patient}", Action::UpdatePatient),
    api(
        "POST",
        "/api/v1/patients/{patient}/measurements",
        Action::RecordBodyMeasurement,
    ),
    api("GET", "/api/v1/inquiries", Action::ReadInquiry),
    api("GET", "/api/v1/inquiries/{inquiry}", Action::ReadInquiry),
    api(
        "PATCH",
        "/api/v1/inquiries/{inquiry}",
        Action::UpdateInquiry,
    ),
    api(
        "POST",
        "/api/v1/inquiries/{inquiry}/convert",
        Action::ConvertInquiry,
    ),
];

pub fn router(state: AppState) -> Router {
    let (api_routes, openapi) = crate::api::router();
    let openapi_json = openapi.to_pretty_json().unwrap_or_default();
    Router::new()
        .route("/healthz", get(home::healthz))
        .route("/static/{file}", get(crate::view::static_file))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/logout/everywhere", post(login::logout_everywhere))
        .route("/account", get(login::account))
        .route("/account/clinic", post(login::switch_clinic))
        .route("/contact", get(contact::show).post(contact::submit))
        .route("/contact/thanks", get(contact::thanks))
        .route("/p/{token}", get(link::show).post(link::submit))
        .route("/", get(home::home))
        .route("/inquiries", get(inquiries::list))
        .route(
            "/inquiries/{id}",
            get(inquiries::show).post(inquiries::update),
        )
        .route("/inquiries/{id}/convert", post(inquiries::convert))
        .route("/patients", get(patients::search).post(patients::create))
        .route("/patients/new", get(patients::new_form))
        .route("/patients/{id}", get(patients::show).post(patients::update))
        .route("/patients/{id}/edit", get(patients::edit_form))
        .route("/patients/{id}/measurements", post(patients::measure))
        .route("/patients/{id}/responses/new", get(measure::entry_form))
        .route("/patients/{id}/responses", post(measure::entry_submit))
        .route("/patients/{id}/links", post(measure::send_link))
        .route("/patients/{id}/schedules", post(measure::add_schedule))
        .route(
            "/patients/{id}/schedules/{schedule}/stop",
            post(measure::stop_schedule),
        )
        .route("/alerts/{id}/acknowledge", post(measure::acknowledge))
        .route("/outbox", get(measure::outbox))
        .route(
            "/admin/staff",
            get(admin::staff_list).post(admin::staff_create),
        )
        .route(
            "/admin/staff/{id}",
            get(admin::staff_show).post(admin::staff_update),
        )
        .route("/admin/staff/{id}/tokens", post(admin::token_create))
        .route(
            "/admin/staff/{id}/tokens/{token}/revoke",
            post(admin::token_revoke),
        )
        .route(
            "/admin/clinic",
            get(admin::clinic_show).post(admin::clinic_update),
        )
        .route("/admin/protocol", post(admin::protocol_update))
        .route("/admin/audit", get(admin::audit))
        .route(
            "/api/openapi.json",
            get(move || {
                let body = openapi_json.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                }
            }),
        )
        .merge(api_routes)
        .fallback(|| async { crate::error::AppError::NotFound })
        .with_state(state)
}
