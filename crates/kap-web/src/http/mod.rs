//! The HTTP plumbing every capability shares: authentication and the route gate, CSRF, security
//! headers, errors, views and extractors.

pub mod auth;
pub mod client;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod refusals;
pub mod route;
pub mod sections;
pub mod security;
pub mod view;

pub use auth::Staff;
pub use error::{ApiError, ApiResult, AppError, AppResult};
pub use route::{Access, Routes};
