//! Routes are declared once, each with who may call it, in the same call: the declaration
//! registers the handler behind a gate that authenticates the caller and asks the permission
//! table, and records the route for the route × role test. A route without an access rule
//! cannot be written.

use crate::AppState;
use crate::http::auth::{authenticate, client_address, credential};
use crate::http::error::{ApiError, AppError, internal};
use crate::http::refusals;
use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use kap_domain::permission::Action;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

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

/// One declared route: method, path (with `{…}` placeholders), who may call it, and whether it
/// belongs to the JSON API.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: String,
    pub access: Access,
    pub api: bool,
}

/// A capability's routes: pages and API endpoints with their access rules.
pub struct Routes {
    pages: Router<AppState>,
    api: OpenApiRouter<AppState>,
    specs: Vec<RouteSpec>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

/// The methods pages use.
#[derive(Debug, Clone, Copy)]
pub enum Method {
    Get,
    Post,
}

impl Routes {
    pub fn new() -> Self {
        Routes {
            pages: Router::new(),
            api: OpenApiRouter::new(),
            specs: vec![],
        }
    }

    /// A page (HTML, or a form post that redirects).
    pub fn page<H, T>(mut self, method: Method, path: &'static str, access: Access, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let (filter, name) = match method {
            Method::Get => (MethodFilter::GET, "GET"),
            Method::Post => (MethodFilter::POST, "POST"),
        };
        let mr = on(filter, h).layer(from_fn(move |req: Request, next: Next| {
            gate(access, false, req, next)
        }));
        self.pages = self.pages.route(path, mr);
        self.specs.push(RouteSpec {
            method: name,
            path: path.to_owned(),
            access,
            api: false,
        });
        self
    }

    pub fn get<H, T>(self, path: &'static str, access: Access, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.page(Method::Get, path, access, h)
    }

    pub fn post<H, T>(self, path: &'static str, access: Access, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.page(Method::Post, path, access, h)
    }

    /// A JSON API endpoint, described by its `#[utoipa::path]` annotation (method and path come
    /// from there), for staff whose role allows `action`.
    pub fn api(
        mut self,
        action: Action,
        (schemas, paths, mr): UtoipaMethodRouter<AppState>,
    ) -> Self {
        let access = Access::Needs(action);
        for (path, item) in &paths.paths {
            let ops = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            for (method, _) in ops.into_iter().filter(|(_, has)| *has) {
                self.specs.push(RouteSpec {
                    method,
                    path: path.clone(),
                    access,
                    api: true,
                });
            }
        }
        let mr = mr.layer(from_fn(move |req: Request, next: Next| {
            gate(access, true, req, next)
        }));
        self.api = self.api.routes((schemas, paths, mr));
        self
    }

    /// Adds another capability's routes.
    pub fn merge(mut self, other: Routes) -> Self {
        self.pages = self.pages.merge(other.pages);
        self.api = self.api.merge(other.api);
        self.specs.extend(other.specs);
        self
    }

    pub fn specs(&self) -> &[RouteSpec] {
        &self.specs
    }

    /// The router, the OpenAPI document of the API routes, and the declarations.
    pub fn into_parts(self) -> (Router<AppState>, utoipa::openapi::OpenApi, Vec<RouteSpec>) {
        let (api, doc) = self.api.split_for_parts();
        (self.pages.merge(api), doc, self.specs)
    }
}

/// Lets a request through only if its caller may use the route: public routes pass; otherwise
/// the caller is authenticated (session cookie for pages, bearer token for the API) and the
/// permission table asked. The authenticated staff member rides on the request for the
/// handler's [`crate::http::auth::Staff`] extractor.
async fn gate(access: Access, api: bool, mut req: Request, next: Next) -> Response {
    let refuse = |e: AppError| {
        if api {
            ApiError(e).into_response()
        } else {
            e.into_response()
        }
    };
    if access == Access::Public {
        return next.run(req).await;
    }
    let Some(st) = req.extensions().get::<AppState>().cloned() else {
        return refuse(internal(
            &"the application state is missing from the request",
        ));
    };
    let cred = credential(&st, &req, api);
    let address = client_address(&st, req.extensions(), req.headers());
    let staff = match authenticate(&st, cred, address, api).await {
        Ok(s) => s,
        Err(e) => return refuse(e),
    };
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    if let Access::Needs(action) = access
        && !staff.may(action)
    {
        refusals::record(&st, &staff, &method, &path, StatusCode::FORBIDDEN).await;
        return refuse(AppError::Forbidden);
    }
    // A clinic that requires two factors: until this person has set theirs up, only their own
    // account pages (where they do it) open.
    if !api && access != Access::SignedIn && staff.principal.must_set_up_two_factor() {
        return crate::http::extract::see_other("/account/two-factor?notice=two-factor-required");
    }
    req.extensions_mut().insert(staff.clone());
    let res = next.run(req).await;
    if matches!(res.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
        refusals::record(&st, &staff, &method, &path, res.status()).await;
    }
    res
}
