//! The clinic's consent documents, for administrators: the current version for each route with
//! its history, and a form to publish a new version (which patients sign from then on; signed
//! versions stay as they were).

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::AppResult;
use crate::http::extract::{NoticeQuery, see_other};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::consent::{ConsentDocument, DocumentForm};
use kap_domain::screening::Route;

/// One route as the page lists it: its current version (if any) and the older ones.
struct RouteDocs {
    route: Route,
    current: Option<ConsentDocument>,
    older: Vec<(i32, String, String)>,
}

#[derive(Template)]
#[template(path = "consent/documents.html")]
struct DocumentsPage {
    shell: Shell,
    routes: Vec<RouteDocs>,
    /// The route whose form came back with problems, its typed values and the problems.
    returned: Option<(Route, String, String)>,
    errors: FieldErrors,
}

impl DocumentsPage {
    fn title_of(&self, r: &RouteDocs) -> String {
        match &self.returned {
            Some((route, title, _)) if *route == r.route => title.clone(),
            _ => r
                .current
                .as_ref()
                .map(|d| d.title.clone())
                .unwrap_or_default(),
        }
    }
    fn body_of(&self, r: &RouteDocs) -> String {
        match &self.returned {
            Some((route, _, body)) if *route == r.route => body.clone(),
            _ => r
                .current
                .as_ref()
                .map(|d| d.body.clone())
                .unwrap_or_default(),
        }
    }
    fn error_of(&self, r: &RouteDocs, field: &str) -> Option<String> {
        match &self.returned {
            Some((route, _, _)) if *route == r.route => self.errors.get(field).map(str::to_owned),
            _ => None,
        }
    }
    fn is_open(&self, r: &RouteDocs) -> bool {
        r.current.is_none() || matches!(&self.returned, Some((route, _, _)) if *route == r.route)
    }
}

async fn page(
    st: &AppState,
    staff: &Staff,
    notice: Option<&str>,
    returned: Option<(Route, String, String)>,
    errors: FieldErrors,
) -> AppResult<Response> {
    let all = st.store.consent_documents(staff.clinic_id()).await?;
    let routes = Route::ALL
        .into_iter()
        .map(|route| {
            let mut docs = all.iter().filter(|d| d.route == route);
            let current = docs.next().cloned();
            let older = docs
                .map(|d| (d.version, d.title.clone(), staff.tz.format(&d.published_at)))
                .collect();
            RouteDocs {
                route,
                current,
                older,
            }
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        &DocumentsPage {
            shell: Shell::staff(staff, "Consent documents", "staff").with_notice(notice),
            routes,
            returned,
            errors,
        },
        status,
    ))
}

pub(super) async fn documents(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    page(&st, &staff, q.notice.as_deref(), None, FieldErrors::new()).await
}

#[derive(serde::Deserialize)]
pub(super) struct PublishForm {
    #[serde(default)]
    route: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

pub(super) async fn publish(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(f): CsrfForm<PublishForm>,
) -> AppResult<Response> {
    let parsed = DocumentForm {
        route: &f.route,
        title: &f.title,
        body: &f.body,
    }
    .parse();
    match parsed {
        Ok(doc) => {
            st.store
                .publish_consent_document(&staff.actor(), staff.clinic_id(), &doc)
                .await?;
            Ok(see_other(&format!(
                "/admin/consent?notice=consent-published#route-{}",
                doc.route.as_str()
            )))
        }
        Err(errors) => match Route::from_code(&f.route) {
            Some(route) => page(&st, &staff, None, Some((route, f.title, f.body)), errors).await,
            None => Err(crate::http::error::AppError::Invalid(errors)),
        },
    }
}
