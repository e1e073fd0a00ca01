//! The patient registry: search (live with htmx, plain GET without), register, edit, the chart
//! with demographics, contacts, emergency contact and weight/height history, and its API.

pub(crate) mod api;
pub mod duplicates;
pub mod pages;

use crate::http::Access::Needs;
use crate::http::Routes;
use kap_domain::permission::Action::{
    CreatePatient, ReadPatient, RecordBodyMeasurement, SearchPatients, UpdatePatient,
};
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .get("/patients", Needs(SearchPatients), pages::search)
        .post("/patients", Needs(CreatePatient), pages::create)
        .get("/patients/new", Needs(CreatePatient), pages::new_form)
        .get("/patients/{patient}", Needs(ReadPatient), pages::show)
        .post("/patients/{patient}", Needs(UpdatePatient), pages::update)
        .get(
            "/patients/{patient}/edit",
            Needs(UpdatePatient),
            pages::edit_form,
        )
        .post(
            "/patients/{patient}/measurements",
            Needs(RecordBodyMeasurement),
            pages::measure,
        )
        .api(SearchPatients, routes!(api::search_patients))
        .api(CreatePatient, routes!(api::create_patient))
        .api(ReadPatient, routes!(api::get_patient))
        .api(UpdatePatient, routes!(api::update_patient))
        .api(RecordBodyMeasurement, routes!(api::record_measurement))
}
