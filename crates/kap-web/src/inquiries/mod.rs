//! The inquiry inbox: list by status, read one with its notes, move it along, convert it into a
//! patient in one step — as pages and as API.

mod api;
mod pages;

use crate::http::Access::Needs;
use crate::http::Routes;
use kap_domain::permission::Action::{ConvertInquiry, ReadInquiry, UpdateInquiry};
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .get("/inquiries", Needs(ReadInquiry), pages::list)
        .get("/inquiries/{inquiry}", Needs(ReadInquiry), pages::show)
        .post("/inquiries/{inquiry}", Needs(UpdateInquiry), pages::update)
        .post(
            "/inquiries/{inquiry}/convert",
            Needs(ConvertInquiry),
            pages::convert,
        )
        .api(ReadInquiry, routes!(api::list_inquiries))
        .api(ReadInquiry, routes!(api::get_inquiry))
        .api(UpdateInquiry, routes!(api::update_inquiry))
        .api(ConvertInquiry, routes!(api::convert_inquiry))
}
