//! One appointment: what it is, and what staff do to it — move it (new date and time, staff
//! member, room; refused when it has passed or clashes, nothing changed), check the patient
//! in, mark it done or missed, cancel it with a reason.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppError, AppResult, conflict_words};
use crate::http::extract::{Fields, NoticeQuery, field, parse_id, see_other};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::course::appointment::AppointmentAction;
use kap_domain::course::{Appointment, AppointmentStatus};
use kap_domain::staff::StaffMember;
use kap_domain::{Action, FieldErrors};
use kap_store::course::Room;
use kap_store::course::appointment::Move;
use kap_store::{Conflict, StoreError};
use uuid::Uuid;

#[derive(Template)]
#[template(path = "course/appointment.html")]
struct AppointmentPage {
    shell: Shell,
    a: Appointment,
    may_book: bool,
    /// May open or work the dosing session, and the session if one is open.
    may_dose: bool,
    session: Option<Uuid>,
    date: String,
    time: String,
    staff: String,
    room: String,
    staff_list: Vec<StaffMember>,
    rooms: Vec<Room>,
    errors: FieldErrors,
    problem: Option<String>,
}

impl AppointmentPage {
    fn when(&self) -> String {
        format!(
            "{}–{}",
            self.shell.tz.format(&self.a.starts_at),
            self.shell.tz.hm(&self.a.ends_at)
        )
    }
    fn planned(&self) -> bool {
        self.a.status == AppointmentStatus::Planned
    }
    fn checked_in(&self) -> bool {
        self.a.status == AppointmentStatus::CheckedIn
    }
    fn dosing(&self) -> bool {
        self.a.kind == kap_domain::protocol::SessionKind::Dosing
    }
}

struct Typed {
    date: String,
    time: String,
    staff: String,
    room: String,
}

async fn page(
    st: &AppState,
    staff: &Staff,
    id: Uuid,
    notice: Option<&str>,
    typed: Option<Typed>,
    errors: FieldErrors,
    problem: Option<String>,
) -> AppResult<Response> {
    let clinic = staff.clinic_id();
    let a = st.store.appointment(&staff.actor(), clinic, id).await?;
    let tz = staff.tz;
    let typed = typed.unwrap_or_else(|| Typed {
        date: tz.date(&a.starts_at).to_string(),
        time: tz.hm(&a.starts_at),
        staff: a.staff_id.map(|s| s.to_string()).unwrap_or_default(),
        room: a.room_id.map(|s| s.to_string()).unwrap_or_default(),
    });
    let status = if errors.is_empty() && problem.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (staff_list, rooms) = super::people_and_places(st, clinic).await?;
    let session = st.store.session_of_appointment(clinic, id).await?;
    Ok(render(
        &AppointmentPage {
            shell: Shell::staff(staff, a.title(), "calendar").with_notice(notice),
            may_book: staff.may(Action::BookAppointments),
            may_dose: staff.may(Action::RecordDosing),
            session,
            date: typed.date,
            time: typed.time,
            staff: typed.staff,
            room: typed.room,
            staff_list,
            rooms,
            a,
            errors,
            problem,
        },
        status,
    ))
}

pub(super) async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    page(
        &st,
        &staff,
        parse_id(&id)?,
        q.notice.as_deref(),
        None,
        FieldErrors::new(),
        None,
    )
    .await
}

pub(super) async fn move_it(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let typed = Typed {
        date: field(&f, "date").to_owned(),
        time: field(&f, "time").to_owned(),
        staff: field(&f, "staff").to_owned(),
        room: field(&f, "room").to_owned(),
    };
    let mut e = FieldErrors::new();
    let starts = super::starts_at(&typed.date, &typed.time, staff.tz, &mut e);
    let Some(starts_at) = starts else {
        return page(&st, &staff, id, None, Some(typed), e, None).await;
    };
    let m = Move {
        starts_at,
        staff_id: Uuid::parse_str(&typed.staff).ok(),
        room_id: Uuid::parse_str(&typed.room).ok(),
        tz: staff.tz,
    };
    match st
        .store
        .reschedule_appointment(&staff.actor(), staff.clinic_id(), id, &m)
        .await
    {
        Ok(()) => Ok(see_other(&format!(
            "/appointments/{id}?notice=appointment-moved"
        ))),
        Err(StoreError::Conflict(Conflict::BookingInvalid(e))) => {
            page(
                &st,
                &staff,
                id,
                None,
                Some(typed),
                super::form_errors(e),
                None,
            )
            .await
        }
        Err(StoreError::Conflict(c)) => {
            page(
                &st,
                &staff,
                id,
                None,
                Some(typed),
                FieldErrors::new(),
                Some(conflict_words(&c)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn status(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let action = match field(&f, "action") {
        "check_in" => AppointmentAction::CheckIn,
        "complete" => AppointmentAction::Complete,
        "missed" => AppointmentAction::MarkMissed,
        "cancel" => AppointmentAction::Cancel,
        _ => {
            return Err(AppError::Invalid(FieldErrors::single(
                "action",
                "Choose what happened.",
            )));
        }
    };
    match st
        .store
        .act_on_appointment(
            &staff.actor(),
            staff.clinic_id(),
            id,
            action,
            field(&f, "reason"),
        )
        .await
    {
        Ok(()) => {
            let back = field(&f, "back");
            if back == "home" {
                Ok(see_other("/?notice=appointment-updated#today"))
            } else {
                Ok(see_other(&format!(
                    "/appointments/{id}?notice=appointment-updated"
                )))
            }
        }
        Err(StoreError::Conflict(Conflict::BookingInvalid(e))) => {
            page(&st, &staff, id, None, None, e, None).await
        }
        Err(StoreError::Conflict(c)) => {
            page(
                &st,
                &staff,
                id,
                None,
                None,
                FieldErrors::new(),
                Some(conflict_words(&c)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
