//! Therapy notes: writing, signing, addenda, co-signature, psychotherapy notes and their grants,
//! templates; the notes API.

use crate::AppState;
use crate::http::Routes;
use crate::http::Staff;
use crate::http::sections::{Returned, SectionFuture};
use uuid::Uuid;

pub fn router() -> Routes {
    Routes::new()
}

/// The chart's notes panel.
pub fn section<'a>(
    _st: &'a AppState,
    _staff: &'a Staff,
    _patient: Option<Uuid>,
    _returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move { Ok(None) })
}

/// The home page's notes items.
pub fn home_section<'a>(
    _st: &'a AppState,
    _staff: &'a Staff,
    _patient: Option<Uuid>,
    _returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move { Ok(None) })
}
