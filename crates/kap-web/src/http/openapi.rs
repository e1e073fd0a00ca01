//! The OpenAPI document's frame: title, tags and the bearer scheme. The paths come from each
//! capability's annotated handlers as their routes are declared.

use utoipa::OpenApi;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Kapstone API", description = "Patients and inquiries of one clinic, as the token's staff member sees them. Every call is audited."),
    modifiers(&BearerAuth),
    tags((name = "patients", description = "The patient registry"), (name = "inquiries", description = "The inquiry inbox"), (name = "measures", description = "Questionnaires, scores, alerts and trajectories"))
)]
pub struct ApiDoc;

/// The whole document: the frame with every capability's paths merged in.
pub fn document(paths: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(paths);
    // The frame's security scheme is added by a modifier that runs when the frame is built;
    // merging keeps it.
    doc
}

/// The OpenAPI document as served at `/api/openapi.json`.
pub fn openapi_json() -> String {
    static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    JSON.get_or_init(|| {
        let (_, paths, _) = crate::routes().into_parts();
        document(paths).to_pretty_json().unwrap_or_default()
    })
    .clone()
}

async fn serve() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi_json(),
    )
}

pub fn router() -> crate::http::Routes {
    crate::http::Routes::new().get("/api/openapi.json", crate::http::Access::Public, serve)
}
