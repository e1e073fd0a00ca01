//! The today board on the staff home page: today's sessions by where they stand (expected,
//! checked in, dosing, monitoring, ready for discharge, done), each with whether its
//! questionnaires are still unanswered; it refreshes itself every 5 seconds (htmx) and works
//! as a plain page without script.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::AppResult;
use crate::http::sections::{Returned, SectionFuture};
use crate::http::view::fragment;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use chrono::Duration;
use kap_domain::course::Appointment;
use kap_domain::course::appointment::BoardColumn;
use kap_domain::permission::Action;
use kap_domain::time::TimeZone;
use kap_store::course::appointment::CalendarFilter;
use std::collections::BTreeSet;
use uuid::Uuid;

struct Column {
    column: BoardColumn,
    items: Vec<Appointment>,
}

#[derive(Template)]
#[template(path = "course/_board.html")]
struct Board {
    columns: Vec<Column>,
    /// The dosing session of each appointment that has one.
    sessions: std::collections::HashMap<Uuid, Uuid>,
    /// Sessions with an alert still waiting for a response.
    alerted: std::collections::HashSet<Uuid>,
    may_dose: bool,
    pending: BTreeSet<Uuid>,
    csrf: String,
    may_book: bool,
    tz: TimeZone,
    total: usize,
}

impl Board {
    fn span(&self, a: &Appointment) -> String {
        format!("{}–{}", self.tz.hm(&a.starts_at), self.tz.hm(&a.ends_at))
    }
    fn waiting(&self, a: &Appointment) -> bool {
        self.pending.contains(&a.id)
    }
    fn session(&self, a: &Appointment) -> Option<Uuid> {
        self.sessions.get(&a.id).copied()
    }
    fn alerted(&self, a: &Appointment) -> bool {
        self.session(a).is_some_and(|s| self.alerted.contains(&s))
    }
    fn may_open(&self, a: &Appointment) -> bool {
        self.may_dose
            && a.kind == kap_domain::protocol::SessionKind::Dosing
            && a.status == kap_domain::course::AppointmentStatus::CheckedIn
            && !self.sessions.contains_key(&a.id)
    }
}

async fn board(st: &AppState, staff: &Staff) -> AppResult<String> {
    let tz = staff.tz;
    let today = tz.date(&kap_store::now());
    let from = tz.start_of_day(today);
    let to = tz.start_of_day(today + Duration::days(1));
    let list = st
        .store
        .calendar(
            &staff.actor(),
            staff.clinic_id(),
            from,
            to,
            CalendarFilter::default(),
        )
        .await?;
    let pending = st
        .store
        .unanswered_before_links(staff.clinic_id(), from, to)
        .await?;
    let now = kap_store::now();
    let dosing: Vec<Uuid> = list
        .iter()
        .filter(|a| a.kind == kap_domain::protocol::SessionKind::Dosing)
        .map(|a| a.id)
        .collect();
    let stages = st
        .store
        .board_stages(staff.clinic_id(), &dosing, now)
        .await?;
    let column_of = |a: &Appointment| match stages.get(&a.id) {
        Some((_, stage)) => BoardColumn::of_stage(*stage),
        None => BoardColumn::of(a),
    };
    let columns: Vec<Column> = BoardColumn::ALL
        .into_iter()
        .map(|column| Column {
            column,
            items: list
                .iter()
                .filter(|a| column_of(a) == Some(column))
                .cloned()
                .collect(),
        })
        .collect();
    fragment(&Board {
        total: columns.iter().map(|c| c.items.len()).sum(),
        columns,
        pending,
        sessions: stages.iter().map(|(a, (s, _))| (*a, *s)).collect(),
        alerted: if stages.is_empty() {
            Default::default()
        } else {
            st.store
                .sessions_with_open_alerts(staff.clinic_id())
                .await?
        },
        may_dose: staff.may(Action::RecordDosing),
        csrf: staff.csrf_token().to_owned(),
        may_book: staff.may(Action::BookAppointments),
        tz,
    })
}

/// The board on the home page, for everyone who sees the calendar.
pub fn home_section<'a>(
    st: &'a AppState,
    staff: &'a Staff,
    _patient: Option<Uuid>,
    _returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move {
        if !staff.may(Action::ReadCalendar) {
            return Ok(None);
        }
        board(st, staff).await.map(Some)
    })
}

/// The board alone, for its own refresh.
pub(super) async fn part(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    if !staff.may(Action::ReadCalendar) {
        return Ok(Html(String::new()).into_response());
    }
    Ok(Html(board(&st, &staff).await?).into_response())
}
