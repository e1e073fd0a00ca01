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
    tags((name = "patients", description = "The patient registry"), (name = "inquiries", description = "The inquiry inbox"), (name = "measures", description = "Questionnaires, scores, alerts and trajectories"), (name = "screening", description = "Screening: findings, treatment resistance, the eligibility decision"), (name = "consent", description = "Signed consents and the esketamine REMS enrolment"), (name = "dosing", description = "Dosing sessions: vital signs, administrations, discharge"), (name = "checkins", description = "Patients' check-ins between sessions and the alerts they raised"))
)]
pub struct ApiDoc;

/// The whole document: the frame with every capability's paths merged in, and every
/// operation's error answers described as what they are — RFC 9457 problem documents
/// (`application/problem+json`): 401 and 403 everywhere (every endpoint needs a token and a
/// role), 404 where the path names a record, 415 and 422 where a body or query is read.
pub fn document(paths: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(paths);
    for (path, item) in doc.paths.paths.iter_mut() {
        let names_a_record = path.contains('{');
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let has_body = op.request_body.is_some();
            let has_query = op.parameters.iter().flatten().any(|p| {
                matches!(p, utoipa::openapi::RefOr::T(p)
                    if p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
            });
            let reads_input = has_body || has_query;
            let codes = [
                ("401", "No valid bearer token.", true),
                ("403", "The token's role does not allow this.", true),
                (
                    "404",
                    "No such record in the token's clinic.",
                    names_a_record,
                ),
                ("415", "The body is not JSON.", has_body),
                (
                    "422",
                    "The input is not valid; `errors` names each field.",
                    reads_input,
                ),
            ];
            let responses = &mut op.responses.responses;
            for (code, description, applies) in codes {
                if applies || responses.contains_key(code) {
                    responses.insert(code.to_owned(), problem(description));
                }
            }
        }
    }
    doc
}

/// A response carrying a problem document.
fn problem(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::response::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
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
