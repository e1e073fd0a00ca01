//! One error type for the request path, rendered as a calm page for browsers and as an
//! RFC 9457 problem document for the API. Users see plain words; what they cannot fix is
//! logged with a reference they can quote, never with patient data.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kap_domain::FieldErrors;
use kap_domain::inquiry::TransitionRefused;
use kap_domain::staff::StaffRuleBroken;
use kap_store::{Conflict, StoreError};

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
    /// A rule of the workflow refuses this change; the words say which.
    Conflict(String),
    /// The form's CSRF token is missing or wrong.
    BadCsrf,
    TooManyRequests(String),
    /// The body is larger than the configured limit.
    TooLarge,
    /// The API was sent a body that is not JSON.
    UnsupportedMediaType,
    Internal(String),
}

/// The words people read for a refused change.
pub fn conflict_words(c: &Conflict) -> String {
    match c {
        Conflict::ClinicSlugTaken(slug) => {
            format!("A clinic with the short name \"{slug}\" already exists.")
        }
        Conflict::EmailTaken => "An account with this email already exists.".into(),
        Conflict::Staff(StaffRuleBroken::OwnAdminAccess) => {
            "You cannot remove your own administrator access.".into()
        }
        Conflict::InquiryStatus(TransitionRefused::AlreadyConverted) => {
            "This inquiry was converted into a patient; its status is final.".into()
        }
        Conflict::InquiryStatus(TransitionRefused::ConvertInstead) => {
            "Use “Convert to patient” to register this person.".into()
        }
        Conflict::InquiryAlreadyConverted => {
            "This inquiry has already been converted into a patient.".into()
        }
        Conflict::LinkSpent => "This link has already been used or has expired.".into(),
        Conflict::AlertAlreadyAcknowledged => "This alert has already been acknowledged.".into(),
        Conflict::MessageNotManual => {
            "This message is sent by email, or was marked sent already.".into()
        }
        Conflict::WorksElsewhere => "This person also works in another clinic, so their password is theirs to change, or the installation's operator's to reset (`kapstone user reset-password`).".into(),
        Conflict::ScreeningLocked => {
            "This screening was signed and is locked; write an addendum to correct it.".into()
        }
        Conflict::ScreeningNotSigned => {
            "This screening is not signed yet; change it directly instead of writing an addendum."
                .into()
        }
        Conflict::DecisionRefused(problems) => {
            let words: Vec<String> = problems.iter().map(ToString::to_string).collect();
            format!("The decision cannot be signed: {}.", words.join("; "))
        }
        Conflict::ProtocolInvalid(p) => format!("The screening protocol is not valid: {p}"),
        Conflict::NoConsentDocument(route) => format!(
            "There is no consent document for {} yet. An administrator publishes it under Clinic settings → Consent documents.",
            route.label()
        ),
        Conflict::ConsentDocumentOutdated => {
            "A newer version of this consent document has been published: read the current version with the patient and sign that.".into()
        }
        Conflict::ConsentWithdrawn => "This consent's withdrawal is already on record.".into(),
        Conflict::SignatureInvalid(e) => {
            let words: Vec<&str> = e.iter().map(|x| x.message.as_str()).collect();
            words.join(" ")
        }
        Conflict::ScheduleExists(name) => format!(
            "This patient already has an active {name} schedule. Stop it first to change how often it is sent."
        ),
        Conflict::ProtocolFile(errors) => format!(
            "The protocol file was not added; nothing changed. Problems: {}",
            errors.0.iter().map(ToString::to_string).collect::<Vec<_>>().join(" · ")
        ),
        Conflict::ProtocolVersionNotNewer { key, given, latest } => format!(
            "The file says version {given} of {key}, but the clinic already has version {latest}. Raise the version number to upload a change."
        ),
        Conflict::ProtocolRetired => {
            "This protocol has been retired: it takes no new versions or courses.".into()
        }
        Conflict::ProtocolNotLatest => {
            "A newer version of this protocol exists: plan the course on the newest version.".into()
        }
        Conflict::NotEligible(why) => why.clone(),
        Conflict::Contraindicated(rules) => format!(
            "This protocol's contraindication rules apply to this patient: {}. No course was planned.",
            rules.join("; ")
        ),
        Conflict::Clashes(list) => format!(
            "It would clash: {}.",
            list.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        ),
        Conflict::BookingInvalid(e) => {
            let words: Vec<&str> = e.iter().map(|x| x.message.as_str()).collect();
            words.join(" ")
        }
        Conflict::NotNow(why) => why.clone(),
        Conflict::DosingInvalid(e) => {
            let words: Vec<&str> = e.iter().map(|x| x.message.as_str()).collect();
            words.join(" ")
        }
        Conflict::SessionLocked => {
            "The session is co-signed and locked: nothing in it changes. Add an addendum instead."
                .into()
        }
        Conflict::RoomNameTaken(name) => {
            format!("The clinic already has a room called \"{name}\".")
        }
        Conflict::Note(r) => crate::notes::refusal_words(r),
        Conflict::TeamInvalid(e) => {
            let words: Vec<&str> = e.iter().map(|x| x.message.as_str()).collect();
            words.join(" ")
        }
    }
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::LoginRequired | AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::BadCsrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
            AppError::Invalid(e) => (
                "Please check your input",
                // The messages alone: field keys are for API clients, not people.
                e.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join(" "),
            ),
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
            AppError::UnsupportedMediaType => (
                "Send JSON",
                "The body must be JSON, sent with Content-Type: application/json.".into(),
            ),
            AppError::Internal(id) => (
                "Something went wrong",
                format!("The problem was recorded; nothing was saved. If it happens again, tell your administrator the reference {id}."),
            ),
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
            StoreError::Conflict(Conflict::DosingInvalid(e)) => AppError::Invalid(e),
            StoreError::Conflict(Conflict::Note(kap_domain::notes::NoteRefused::Invalid(e))) => {
                AppError::Invalid(e)
            }
            StoreError::Conflict(Conflict::TeamInvalid(e)) => AppError::Invalid(e),
            StoreError::Conflict(c) => AppError::Conflict(conflict_words(&c)),
            other => internal(&other),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::LoginRequired = self {
            return Redirect::to("/login").into_response();
        }
        let (title, message) = self.title_and_message();
        (
            self.status(),
            Html(crate::http::view::error_page(title, &message)),
        )
            .into_response()
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// An error for a JSON client: the same error, as a problem document.
#[derive(Debug)]
pub struct ApiError(pub AppError);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError(e.into())
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> Self {
        ApiError(AppError::Invalid(e))
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = e.status();
        let (title, detail) = e.title_and_message();
        let errors = match &e {
            AppError::Invalid(f) => f
                .iter()
                .map(|x| FieldProblem {
                    field: x.field.clone(),
                    message: x.message.clone(),
                })
                .collect(),
            _ => vec![],
        };
        let body = Problem {
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut r = (status, Json(body)).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if matches!(e, AppError::Unauthorized | AppError::LoginRequired) {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}
