//! Courses and appointments over the API: a patient's courses with their numbers, one course
//! with its sessions, planning a course (the same checks as the page: all booked or nothing),
//! the calendar between two moments, booking one appointment and moving one.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::{ApiResult, AppError, Problem};
use crate::http::extract::{ApiBody, ApiQuery, api_id};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kap_domain::FieldErrors;
use kap_domain::course::plan::format_mg_per_kg;
use kap_domain::course::{Appointment, Course, CourseForm, CourseSummary};
use kap_domain::protocol::SessionKind;
use kap_domain::protocol::dose::PlannedDose;
use kap_store::course::NewCourse;
use kap_store::course::appointment::{CalendarFilter, Move, NewAppointment};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct CourseOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    /// The protocol version it was planned under (never changes).
    pub protocol_id: Uuid,
    pub protocol: String,
    /// `iv`, `im`, `sublingual` or `esketamine_nasal`.
    pub route: String,
    /// `planned`, `active`, `paused`, `completed` or `stopped`.
    pub status: String,
    pub status_reason: Option<String>,
    pub start_date: chrono::NaiveDate,
    /// e.g. "0.5 mg/kg" or "84 mg".
    pub dose: String,
    pub sessions_planned: i64,
    pub sessions_done: i64,
    pub doses_given: i64,
    /// PHQ-9 at the start (only for roles that read questionnaire answers).
    pub phq9_start: Option<i32>,
    /// The latest PHQ-9 (only for roles that read questionnaire answers).
    pub phq9_now: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointments: Option<Vec<AppointmentOut>>,
}

#[derive(Serialize, ToSchema)]
pub struct AppointmentOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub course_id: Option<Uuid>,
    /// `preparation`, `dosing`, `integration`, `follow_up` or `reassessment`.
    pub kind: String,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub staff_id: Option<Uuid>,
    pub room_id: Option<Uuid>,
    pub room: Option<String>,
    /// `planned`, `checked_in`, `completed`, `missed` or `cancelled`.
    pub status: String,
    pub status_reason: Option<String>,
}

fn appointment_out(a: Appointment) -> AppointmentOut {
    AppointmentOut {
        title: a.title(),
        id: a.id,
        patient_id: a.patient_id,
        course_id: a.course_id,
        kind: a.kind.as_str().to_owned(),
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        staff_id: a.staff_id,
        room_id: a.room_id,
        room: a.room_name,
        status: a.status.as_str().to_owned(),
        status_reason: a.status_reason,
    }
}

/// A course for the API; scores only for roles that read responses.
fn course_out(
    c: Course,
    s: CourseSummary,
    appts: Option<Vec<Appointment>>,
    scores: bool,
) -> CourseOut {
    CourseOut {
        id: c.id,
        patient_id: c.patient_id,
        protocol_id: c.protocol_id,
        protocol: c.protocol_title,
        route: c.route.as_str().to_owned(),
        status: c.status.as_str().to_owned(),
        status_reason: c.status_reason,
        start_date: c.start_date,
        dose: match c.dose {
            PlannedDose::PerKg { ug_per_kg } => format!("{} mg/kg", format_mg_per_kg(ug_per_kg)),
            PlannedDose::Fixed { mg } => format!("{mg} mg"),
        },
        sessions_planned: s.sessions_planned,
        sessions_done: s.sessions_done,
        doses_given: s.doses_given,
        phq9_start: s.score_start.filter(|_| scores),
        phq9_now: s.score_now.filter(|_| scores),
        appointments: appts.map(|l| l.into_iter().map(appointment_out).collect()),
    }
}

/// A patient's courses, newest first.
#[utoipa::path(get, path = "/api/v1/patients/{id}/courses", params(("id" = String, Path, description = "Patient id")), tag = "courses",
    responses((status = 200, body = Vec<CourseOut>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn courses_of(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CourseOut>>> {
    let list = st
        .store
        .courses_of(&staff.actor(), staff.clinic_id(), api_id(&id)?)
        .await?;
    let scores = staff.may(kap_domain::Action::ReadResponses);
    Ok(Json(
        list.into_iter()
            .map(|(c, s)| course_out(c, s, None, scores))
            .collect(),
    ))
}

/// One course with its sessions.
#[utoipa::path(get, path = "/api/v1/courses/{id}", params(("id" = String, Path, description = "Course id")), tag = "courses",
    responses((status = 200, body = CourseOut), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn course(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<CourseOut>> {
    let d = st
        .store
        .course(&staff.actor(), staff.clinic_id(), api_id(&id)?)
        .await?;
    let scores = staff.may(kap_domain::Action::ReadResponses);
    Ok(Json(course_out(
        d.course,
        d.summary,
        Some(d.appointments),
        scores,
    )))
}

/// A course to plan, tailored as on the page.
#[derive(Deserialize, ToSchema)]
pub struct PlanCourse {
    pub patient_id: Uuid,
    pub protocol_id: Uuid,
    /// YYYY-MM-DD.
    pub start_date: String,
    /// HH:MM in the clinic's time zone.
    pub time: String,
    /// `mon` … `sun`.
    pub weekdays: Vec<String>,
    pub preparation: u32,
    /// Weeks of each of the protocol's phases, in order.
    pub phase_weeks: Vec<u32>,
    pub follow_ups: u32,
    pub integration_after_days: u32,
    /// mg/kg for weight-based protocols, mg for fixed doses, as a decimal string.
    pub dose: String,
    pub therapist_id: Uuid,
    pub nurse_id: Option<Uuid>,
    pub chair_id: Uuid,
    pub room_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
}

/// Plans a course: every session booked, or nothing (clashes, a dose outside the protocol's
/// limits, a patient without a signed eligible decision are refused with a problem).
#[utoipa::path(post, path = "/api/v1/courses", request_body = PlanCourse, tag = "courses",
    responses((status = 201, body = Created), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn plan(
    State(st): State<AppState>,
    staff: Staff,
    body: ApiBody,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let req: PlanCourse = body.json()?;
    let clinic = staff.clinic_id();
    let v = st.store.protocol_version(clinic, req.protocol_id).await?;
    let form = CourseForm {
        start_date: req.start_date,
        time: req.time,
        weekdays: req.weekdays,
        preparation: req.preparation.to_string(),
        phase_weeks: req.phase_weeks.iter().map(ToString::to_string).collect(),
        follow_ups: req.follow_ups.to_string(),
        integration_after_days: req.integration_after_days.to_string(),
        dose: req.dose,
    };
    let plan = form
        .parse(&v.protocol, staff.tz.date(&kap_store::now()))
        .map_err(AppError::Invalid)?;
    let id = st
        .store
        .plan_course(
            &staff.actor(),
            clinic,
            &NewCourse {
                patient_id: req.patient_id,
                protocol_id: v.id,
                plan,
                therapist_id: req.therapist_id,
                nurse_id: req.nurse_id,
                chair_id: req.chair_id,
                room_id: req.room_id,
                tz: staff.tz,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, IntoParams)]
pub struct Window {
    /// RFC 3339.
    pub from: DateTime<Utc>,
    /// RFC 3339; at most 62 days after `from`.
    pub to: DateTime<Utc>,
    pub staff_id: Option<Uuid>,
    pub room_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
}

/// The clinic's appointments overlapping a window.
#[utoipa::path(get, path = "/api/v1/appointments", params(Window), tag = "courses",
    responses((status = 200, body = Vec<AppointmentOut>), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn appointments(
    State(st): State<AppState>,
    staff: Staff,
    ApiQuery(w): ApiQuery<Window>,
) -> ApiResult<Json<Vec<AppointmentOut>>> {
    if w.to <= w.from || w.to - w.from > chrono::Duration::days(62) {
        return Err(AppError::Invalid(FieldErrors::single(
            "to",
            "Ask for a window of up to 62 days, ending after it starts.",
        ))
        .into());
    }
    let list = st
        .store
        .calendar(
            &staff.actor(),
            staff.clinic_id(),
            w.from,
            w.to,
            CalendarFilter {
                staff_id: w.staff_id,
                room_id: w.room_id,
                patient_id: w.patient_id,
            },
        )
        .await?;
    Ok(Json(list.into_iter().map(appointment_out).collect()))
}

/// Where an appointment moves.
#[derive(Deserialize, ToSchema)]
pub struct Reschedule {
    /// RFC 3339.
    pub starts_at: DateTime<Utc>,
    pub staff_id: Option<Uuid>,
    pub room_id: Option<Uuid>,
}

/// Moves an expected appointment (keeping its length).
#[utoipa::path(post, path = "/api/v1/appointments/{id}/reschedule", params(("id" = String, Path, description = "Appointment id")), request_body = Reschedule, tag = "courses",
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem, description = "A clash, or it is not expected"), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn reschedule(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    body: ApiBody,
) -> ApiResult<StatusCode> {
    let req: Reschedule = body.json()?;
    st.store
        .reschedule_appointment(
            &staff.actor(),
            staff.clinic_id(),
            api_id(&id)?,
            &Move {
                starts_at: req.starts_at,
                staff_id: req.staff_id,
                room_id: req.room_id,
                tz: staff.tz,
            },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One appointment to book.
#[derive(Deserialize, ToSchema)]
pub struct Book {
    pub patient_id: Uuid,
    pub course_id: Option<Uuid>,
    /// `preparation`, `dosing`, `integration`, `follow_up` or `reassessment`.
    pub kind: String,
    /// RFC 3339.
    pub starts_at: DateTime<Utc>,
    /// 5 to 720.
    pub minutes: i64,
    pub staff_id: Option<Uuid>,
    pub room_id: Option<Uuid>,
}

/// Books one appointment.
#[utoipa::path(post, path = "/api/v1/appointments", request_body = Book, tag = "courses",
    responses((status = 201, body = Created), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn book(
    State(st): State<AppState>,
    staff: Staff,
    body: ApiBody,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let req: Book = body.json()?;
    let mut e = FieldErrors::new();
    let kind = e.check("kind", req.kind.parse::<SessionKind>());
    if !(5..=720).contains(&req.minutes) {
        e.add("minutes", "Give the length in minutes, 5 to 720.");
    }
    let Some(kind) = kind.filter(|_| e.is_empty()) else {
        return Err(AppError::Invalid(e).into());
    };
    let id = st
        .store
        .book_appointment(
            &staff.actor(),
            staff.clinic_id(),
            &NewAppointment {
                patient_id: req.patient_id,
                course_id: req.course_id,
                kind,
                starts_at: req.starts_at,
                minutes: req.minutes,
                staff_id: req.staff_id,
                room_id: req.room_id,
                tz: staff.tz,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}
