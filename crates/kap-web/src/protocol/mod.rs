//! The clinic's protocols: everyone who plans or gives treatment reads them (every version,
//! with its sources and the diff against the version before); administrators add Kapstone's
//! shipped protocols, upload new versions (refused whole with every problem listed) and
//! retire them; the API reads them.

mod api;
mod pages;

use crate::http::Access::Needs;
use crate::http::Routes;
use kap_domain::permission::Action::{ManageProtocols, ReadProtocols};
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .get("/protocols", Needs(ReadProtocols), pages::list)
        .get("/protocols/{id}", Needs(ReadProtocols), pages::show)
        .post("/protocols", Needs(ManageProtocols), pages::upload)
        .post("/protocols/shipped", Needs(ManageProtocols), pages::install)
        .post(
            "/protocols/{id}/retire",
            Needs(ManageProtocols),
            pages::retire,
        )
        .api(ReadProtocols, routes!(api::list))
        .api(ReadProtocols, routes!(api::one))
}
