//! The care-team thread on the chart; open tasks and unread mentions on the home page.

use crate::AppState;
use crate::http::Routes;
use crate::http::Staff;
use crate::http::sections::{Returned, SectionFuture};
use uuid::Uuid;

pub fn router() -> Routes {
    Routes::new()
}

/// The chart's care-team panel.
pub fn section<'a>(
    _st: &'a AppState,
    _staff: &'a Staff,
    _patient: Option<Uuid>,
    _returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move { Ok(None) })
}

/// The home page's care-team items.
pub fn home_section<'a>(
    _st: &'a AppState,
    _staff: &'a Staff,
    _patient: Option<Uuid>,
    _returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move { Ok(None) })
}
