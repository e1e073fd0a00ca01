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
