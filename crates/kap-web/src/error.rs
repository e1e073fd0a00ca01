//! One error type for the request path. Users see plain words; what they cannot fix is logged
//! with a reference they can quote, never with patient data.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kap_domain::FieldErrors;
use kap_store::StoreError;

#[derive(Debug)]
pub enum AppError {
    /// No staff session: pages send the browser to the login page.
    LoginRequired,
    /// No or bad bearer token on the API.
    Unauthorized,
    /// Logged in but the role does not allow this.
    Forbidden,
    /// Unknown record — or one in a clinic the caller does not belong to (indistinguishable).
    NotFound,
    /// Bad input on the API (pages re-render their form instead).
    Invalid(FieldErrors),
    /// A rule of the workflow refuses this change.
    Conflict(String),
    /// The form's CSRF token is missing or wrong.
    BadCsrf,
    TooManyRequests(String),
    /// The body is larger than the configured limit.
    TooLarge,
    Internal(String),
    /// Render the error for a JSON client.
    Api(Box<AppError>),
}

impl AppError {
    pub fn api(self) -> AppError {
        match self {
            AppError::Api(_) => self,
            e => AppError::Api(Box::new(e)),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::LoginRequired | AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::BadCsrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Api(e) => e.status(),
        }
    }

    fn title_and_message(&self) -> (&'static str, String) {
        match self {
            AppError::LoginRequired | AppError::Unauthorized => {
                ("Please log in", "You need to log in to see this.".into())
            }
            AppError::Forbidden => (
                "Not allowed",
                "Your role does not allow this. If you need it for your work, ask a clinic administrator.".into(),
            ),
            AppError::NotFound => ("Not found", "There is nothing here, or it was moved.".into()),
            AppError::Invalid(e) => ("Please check your input", e.to_string()),
            AppError::Conflict(m) => ("This cannot be done", m.clone()),
            AppError::BadCsrf => (
                "Form expired",
                "This form expired or came from another site. Go back, reload the page and try again.".into(),
            ),
            AppError::TooManyRequests(m) => ("Please wait", m.clone()),
            AppError::TooLarge => (
                "Too much at once",
                "What was sent is larger than Kapstone accepts in one request.".into(),
            ),
            AppError::Internal(id) => (
                "Something went wrong",
                format!("The problem was recorded; nothing was saved. If it happens again, tell your administrator the reference {id}."),
            ),
            AppError::Api(e) => e.title_and_message(),
        }
    }
}

/// Logs an unexpected failure under a fresh reference and returns that reference.
pub fn internal(e: &dyn std::fmt::Display) -> AppError {
    let reference = kap_store::random_hex(6);
    tracing::error!(reference = %reference, error = %e, "request failed");
    AppError::Internal(reference)
}

/// The error for a body that could not be read: too large, or broken in transit.
pub fn body_rejection(status: StatusCode) -> AppError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge
    } else {
        AppError::Invalid(FieldErrors::single(
            "body",
            "The request body could not be read.",
        ))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Invalid(f) => AppError::Invalid(f),
            other => internal(&other),
        }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Short title of the problem (RFC 9457).
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Field-level problems: which field, and what is wrong with it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (title, message) = self.title_and_message();
        match self {
            AppError::LoginRequired => Redirect::to("/login").into_response(),
            AppError::Api(inner) => {
                let errors = match &*inner {
                    AppError::Invalid(f) => f
                        .iter()
                        .map(|e| FieldProblem {
                            field: e.field.to_owned(),
                            message: e.message.clone(),
                        })
                        .collect(),
                    _ => vec![],
                };
                let body = Problem {
                    title: title.to_owned(),
                    status: status.as_u16(),
                    detail: message,
                    errors,
                };
                let mut r = (status, Json(body)).into_response();
                r.headers_mut().insert(
                    axum::http::header::CONTENT_TYPE,
                    axum::http::HeaderValue::from_static("application/problem+json"),
                );
                if matches!(*inner, AppError::Unauthorized) {
                    r.headers_mut().insert(
                        axum::http::header::WWW_AUTHENTICATE,
                        axum::http::HeaderValue::from_static("Bearer"),
                    );
                }
                r
            }
            _ => (status, Html(crate::view::error_page(title, &message))).into_response(),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
