//! Treatment courses and the calendar: the chart's courses panel; a prescriber plans a course
//! from a protocol (tailoring previewed as the list of sessions it makes) and moves it through
//! its statuses; everyone works the calendar by day and week, per clinic, staff member or
//! room; appointments are moved, cancelled, checked in, marked missed or done; the today board
//! on the home page refreshes itself; administrators keep the rooms and chairs; staff get a
//! calendar feed for the calendar app they already use; the API reads and books.

mod api;
mod appointment;
mod board;
mod calendar;
mod chart;
mod feed;
mod page;
mod plan;
mod rooms;
mod timeline;

pub use board::home_section;
pub use chart::section;

use crate::http::Access::{Needs, Public};
use crate::http::Routes;
use kap_domain::permission::Action::{
    BookAppointments, ManageClinic, ManageRooms, PlanCourse, ReadCalendar, ReadCourse, ViewHome,
};
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .get(
            "/patients/{patient}/courses/new",
            Needs(PlanCourse),
            plan::form,
        )
        .post(
            "/patients/{patient}/courses",
            Needs(PlanCourse),
            plan::create,
        )
        .get("/courses/{course}", Needs(ReadCourse), page::show)
        .get(
            "/courses/{course}/timeline",
            Needs(ReadCourse),
            timeline::show,
        )
        .post("/courses/{course}/status", Needs(PlanCourse), page::status)
        .post(
            "/courses/{course}/sessions",
            Needs(BookAppointments),
            page::add_session,
        )
        .get("/calendar", Needs(ReadCalendar), calendar::show)
        .get("/appointments/{id}", Needs(ReadCalendar), appointment::show)
        .post(
            "/appointments/{id}/move",
            Needs(BookAppointments),
            appointment::move_it,
        )
        .post(
            "/appointments/{id}/status",
            Needs(BookAppointments),
            appointment::status,
        )
        .get("/today", Needs(ViewHome), board::part)
        .get("/admin/rooms", Needs(ManageRooms), rooms::list)
        .post("/admin/rooms", Needs(ManageRooms), rooms::add)
        .post("/admin/rooms/{id}", Needs(ManageRooms), rooms::toggle)
        .post("/account/calendar-feed", Needs(ReadCalendar), feed::issue)
        .post("/admin/calendar-names", Needs(ManageClinic), feed::names)
        .get("/feeds/calendar/{token}", Public, feed::ics)
        .api(ReadCourse, routes!(api::courses_of))
        .api(ReadCourse, routes!(api::course))
        .api(PlanCourse, routes!(api::plan))
        .api(ReadCalendar, routes!(api::appointments))
        .api(BookAppointments, routes!(api::reschedule))
        .api(BookAppointments, routes!(api::book))
}

/// The clinicians and the rooms in use that a booking form offers.
async fn people_and_places(
    st: &crate::AppState,
    clinic: uuid::Uuid,
) -> crate::http::error::AppResult<(
    Vec<kap_domain::staff::StaffMember>,
    Vec<kap_store::course::Room>,
)> {
    use kap_domain::Role;
    let staff = st
        .store
        .staff_of_clinic(clinic)
        .await?
        .into_iter()
        .filter(|m| m.active && matches!(m.role, Role::Prescriber | Role::Nurse | Role::Therapist))
        .collect();
    let rooms = st
        .store
        .rooms(clinic)
        .await?
        .into_iter()
        .filter(|r| r.active)
        .collect();
    Ok((staff, rooms))
}

/// The moment a booking form's date and time name in the clinic's zone; each problem is added
/// under its field.
fn starts_at(
    date: &str,
    time: &str,
    tz: kap_domain::time::TimeZone,
    e: &mut kap_domain::FieldErrors,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let d = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .map_err(|_| e.add("date", "Give the date as YYYY-MM-DD."))
        .ok();
    let t = chrono::NaiveTime::parse_from_str(time.trim(), "%H:%M")
        .map_err(|_| e.add("time", "Give the time as HH:MM."))
        .ok();
    match (d, t) {
        (Some(d), Some(t)) => tz.at(d, t).map_err(|m| e.add("time", m)).ok(),
        _ => None,
    }
}

/// The store's booking problems under the form's field names (its `starts_at` is the form's
/// date).
fn form_errors(e: kap_domain::FieldErrors) -> kap_domain::FieldErrors {
    let mut out = kap_domain::FieldErrors::new();
    for x in e.iter() {
        let f = if x.field == "starts_at" {
            "date"
        } else {
            x.field.as_str()
        };
        out.add(f, x.message.clone());
    }
    out
}
