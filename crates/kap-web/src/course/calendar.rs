//! The calendar: a day or a week (from Monday), for the whole clinic or one staff member or
//! room, each appointment linking to its page.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::AppResult;
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate};
use kap_domain::course::Appointment;
use kap_domain::staff::StaffMember;
use kap_store::course::Room;
use kap_store::course::appointment::CalendarFilter;
use uuid::Uuid;

#[derive(serde::Deserialize, Default)]
pub(super) struct CalendarQuery {
    view: Option<String>,
    date: Option<String>,
    staff: Option<String>,
    room: Option<String>,
}

struct Day {
    date: NaiveDate,
    label: String,
    items: Vec<Appointment>,
}

#[derive(Template)]
#[template(path = "course/calendar.html")]
struct CalendarPage {
    shell: Shell,
    week: bool,
    title: String,
    days: Vec<Day>,
    date: String,
    prev: String,
    next: String,
    today: String,
    staff: String,
    room: String,
    staff_list: Vec<StaffMember>,
    rooms: Vec<Room>,
    feed: bool,
}

impl CalendarPage {
    fn span(&self, a: &Appointment) -> String {
        format!(
            "{}–{}",
            self.shell.tz.hm(&a.starts_at),
            self.shell.tz.hm(&a.ends_at)
        )
    }
    fn link(&self, date: &str) -> String {
        let mut s = format!(
            "/calendar?view={}&date={date}",
            if self.week { "week" } else { "day" }
        );
        if !self.staff.is_empty() {
            s.push_str(&format!("&staff={}", self.staff));
        }
        if !self.room.is_empty() {
            s.push_str(&format!("&room={}", self.room));
        }
        s
    }
    fn day_link(&self, d: &NaiveDate) -> String {
        format!("/calendar?view=day&date={d}")
    }
}

pub(super) async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<CalendarQuery>,
) -> AppResult<Response> {
    let tz = staff.tz;
    let today = tz.date(&kap_store::now());
    let week = q.view.as_deref() != Some("day");
    let date = q
        .date
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or(today);
    let first = if week {
        date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
    } else {
        date
    };
    let n_days = if week { 7 } else { 1 };
    let (from, to) = (
        tz.start_of_day(first),
        tz.start_of_day(first + Duration::days(n_days)),
    );
    let staff_id = q.staff.as_deref().and_then(|s| Uuid::parse_str(s).ok());
    let room_id = q.room.as_deref().and_then(|s| Uuid::parse_str(s).ok());
    let list = st
        .store
        .calendar(
            &staff.actor(),
            staff.clinic_id(),
            from,
            to,
            CalendarFilter {
                staff_id,
                room_id,
                patient_id: None,
            },
        )
        .await?;
    let days = (0..n_days)
        .map(|i| {
            let d = first + Duration::days(i);
            Day {
                date: d,
                label: d.format("%a %-d %b").to_string(),
                items: list
                    .iter()
                    .filter(|a| tz.date(&a.starts_at) == d)
                    .cloned()
                    .collect(),
            }
        })
        .collect();
    let step = Duration::days(n_days);
    let title = if week {
        format!("Week of {}", first.format("%-d %B %Y"))
    } else {
        date.format("%A %-d %B %Y").to_string()
    };
    Ok(render(
        &CalendarPage {
            shell: Shell::staff(&staff, title.clone(), "calendar"),
            week,
            title,
            days,
            date: date.to_string(),
            prev: (first - step).to_string(),
            next: (first + step).to_string(),
            today: today.to_string(),
            staff: staff_id.map(|s| s.to_string()).unwrap_or_default(),
            room: room_id.map(|s| s.to_string()).unwrap_or_default(),
            staff_list: st
                .store
                .staff_of_clinic(staff.clinic_id())
                .await?
                .into_iter()
                .filter(|m| m.active)
                .collect(),
            rooms: st.store.rooms(staff.clinic_id()).await?,
            feed: match staff.actor().staff_id {
                Some(s) => st.store.has_calendar_feed(s, staff.clinic_id()).await?,
                None => false,
            },
        },
        StatusCode::OK,
    ))
}
