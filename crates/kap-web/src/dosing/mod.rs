//! Dosing sessions at the chair: the nurse opens the session of a checked-in dosing
//! appointment, works the pre-dose checklist, the prescriber orders the dose (the arithmetic
//! shown) or decides on a hold, the nurse records the administration and its steps, and the
//! live flowsheet (vitals with the next measurement due, MOAA/S, CADSS-6, adverse events,
//! observations, alerts) refreshes itself every few seconds for everyone watching; entries made
//! on a flaky tablet are queued in the browser and retried with their client id, so each lands
//! once. Discharge readiness shows each criterion; the nurse discharges, the prescriber
//! co-signs and the session locks (addenda only). Esketamine sessions gather the REMS
//! monitoring form, printable, with a list of forms due.

mod api;
mod chart;
mod entries;
mod page;
mod svg;

pub use chart::section;

use crate::http::Access::Needs;
use crate::http::Routes;
use kap_domain::permission::Action::{OrderDose, ReadDosing, RecordDosing};
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .post(
            "/appointments/{id}/dosing",
            Needs(RecordDosing),
            entries::open,
        )
        .get("/dosing/{id}", Needs(ReadDosing), page::show)
        .get("/dosing/{id}/live", Needs(ReadDosing), page::live)
        .get("/dosing/{id}/rems", Needs(ReadDosing), page::rems_form)
        .get("/rems", Needs(ReadDosing), page::rems_due)
        .post(
            "/dosing/{id}/checklist",
            Needs(RecordDosing),
            entries::checklist,
        )
        .post("/dosing/{id}/hold", Needs(OrderDose), entries::hold)
        .post("/dosing/{id}/orders", Needs(OrderDose), entries::order)
        .post(
            "/dosing/{id}/administrations",
            Needs(RecordDosing),
            entries::administer,
        )
        .post(
            "/dosing/{id}/administrations/{admin}",
            Needs(RecordDosing),
            entries::step,
        )
        .post("/dosing/{id}/vitals", Needs(RecordDosing), entries::vitals)
        .post(
            "/dosing/{id}/observations",
            Needs(RecordDosing),
            entries::observation,
        )
        .post(
            "/dosing/{id}/adverse-events",
            Needs(RecordDosing),
            entries::adverse,
        )
        .post(
            "/dosing/{id}/adverse-events/{event}",
            Needs(RecordDosing),
            entries::adverse_update,
        )
        .post("/dosing/{id}/rems", Needs(RecordDosing), entries::rems)
        .post(
            "/dosing/{id}/rems-submitted",
            Needs(RecordDosing),
            entries::rems_submitted,
        )
        .post(
            "/dosing/{id}/discharge",
            Needs(RecordDosing),
            entries::discharge,
        )
        .post("/dosing/{id}/sign", Needs(OrderDose), entries::sign)
        .post(
            "/dosing/{id}/addenda",
            Needs(RecordDosing),
            entries::addendum,
        )
        .api(ReadDosing, routes!(api::session))
        .api(RecordDosing, routes!(api::post_vitals))
}
