//! A course's page: its protocol version, tailoring, numbers, sessions and history, what the
//! patient has consented to for its route, and the prescriber's status changes.

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
use kap_domain::Action;
use kap_domain::FieldErrors;
use kap_domain::consent::ConsentState;
use kap_domain::course::plan::format_mg_per_kg;
use kap_domain::course::{Appointment, CourseStatus, parse_reason};
use kap_domain::protocol::SessionKind;
use kap_domain::protocol::dose::PlannedDose;
use kap_store::course::CourseDetail;
use kap_store::course::appointment::NewAppointment;
use kap_store::{Conflict, StoreError};

#[derive(Template)]
#[template(path = "course/course.html")]
struct CoursePage {
    shell: Shell,
    d: CourseDetail,
    /// Dosing sessions, doses given and adverse events recorded (for roles reading sessions).
    dosing: Option<kap_domain::dosing::CourseDosing>,
    consent: Option<String>,
    may_plan: bool,
    may_book: bool,
    /// Scores are clinical content: only for roles that read responses.
    show_scores: bool,
    next_steps: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    staff_list: Vec<kap_domain::staff::StaffMember>,
    rooms: Vec<kap_store::course::Room>,
    /// The extra-session form as typed (kind, date, time, staff, room).
    typed: [String; 5],
    errors: FieldErrors,
    problem: Option<String>,
}

impl CoursePage {
    fn kind_is(&self, code: &str) -> bool {
        self.typed[0] == code
    }
    fn chosen(&self, i: usize, id: &uuid::Uuid) -> bool {
        self.typed.get(i).is_some_and(|t| *t == id.to_string())
    }
    fn dose(&self) -> String {
        match self.d.course.dose {
            PlannedDose::PerKg { ug_per_kg } => format!("{} mg/kg", format_mg_per_kg(ug_per_kg)),
            PlannedDose::Fixed { mg } => format!("{mg} mg"),
        }
    }
    fn when(&self, a: &Appointment) -> String {
        format!(
            "{}–{}",
            self.shell.tz.format(&a.starts_at),
            self.shell.tz.hm(&a.ends_at)
        )
    }
}

async fn page(
    st: &AppState,
    staff: &Staff,
    id: uuid::Uuid,
    notice: Option<&str>,
    errors: FieldErrors,
) -> AppResult<Response> {
    page_with(st, staff, id, notice, errors, None, Default::default()).await
}

async fn page_with(
    st: &AppState,
    staff: &Staff,
    id: uuid::Uuid,
    notice: Option<&str>,
    errors: FieldErrors,
    problem: Option<String>,
    typed: [String; 5],
) -> AppResult<Response> {
    let clinic = staff.clinic_id();
    let d = st.store.course(&staff.actor(), clinic, id).await?;
    let consent = if staff.may(Action::ReadConsent) {
        let record = st
            .store
            .consent_record(&staff.actor(), clinic, d.course.patient_id)
            .await?;
        let current = st
            .store
            .current_consent_documents(clinic)
            .await?
            .into_iter()
            .find(|doc| doc.route == d.course.route)
            .map(|doc| doc.version);
        Some(
            match ConsentState::of(d.course.route, current, &record.consents) {
                ConsentState::Current(c) => format!(
                    "Consented to {} (version {}, signed {}).",
                    d.course.route.label().to_lowercase(),
                    c.version,
                    c.signed_on
                ),
                _ => format!(
                    "No current consent to {}: the patient consents before the first dosing session.",
                    d.course.route.label().to_lowercase()
                ),
            },
        )
    } else {
        None
    };
    let next_steps = [
        (CourseStatus::Active, "Resume", "active"),
        (CourseStatus::Paused, "Pause", "paused"),
        (CourseStatus::Completed, "Mark completed", "completed"),
        (CourseStatus::Stopped, "Stop", "stopped"),
    ]
    .into_iter()
    .filter(|(s, _, _)| d.course.status.may_become(*s).is_ok())
    .filter(|(s, _, _)| !(d.course.status == CourseStatus::Planned && *s == CourseStatus::Active))
    .map(|(_, label, code)| (code, label))
    .collect();
    let status = if errors.is_empty() && problem.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (staff_list, rooms) = super::people_and_places(st, clinic).await?;
    let dosing = if staff.may(Action::ReadDosing) {
        Some(st.store.course_dosing(clinic, d.course.id).await?)
    } else {
        None
    };
    Ok(render(
        &CoursePage {
            dosing,
            shell: Shell::staff(staff, d.course.protocol_title.clone(), "patients")
                .with_notice(notice),
            may_book: staff.may(Action::BookAppointments) && d.course.status.is_open(),
            d,
            consent,
            may_plan: staff.may(Action::PlanCourse),
            show_scores: staff.may(Action::ReadResponses),
            next_steps,
            kinds: SessionKind::ALL
                .iter()
                .map(|k| (k.as_str(), k.label()))
                .collect(),
            staff_list,
            rooms,
            typed,
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
        FieldErrors::new(),
    )
    .await
}

/// Books an extra session of the course (a further integration session, a review).
pub(super) async fn add_session(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let typed = [
        field(&f, "kind").to_owned(),
        field(&f, "date").to_owned(),
        field(&f, "time").to_owned(),
        field(&f, "staff").to_owned(),
        field(&f, "room").to_owned(),
    ];
    let mut e = FieldErrors::new();
    let kind = SessionKind::from_code(&typed[0]);
    if kind.is_none() {
        e.add("kind", "Choose the kind of session.");
    }
    let starts = super::starts_at(&typed[1], &typed[2], staff.tz, &mut e);
    let (Some(kind), Some(starts_at)) = (kind, starts) else {
        return page_with(&st, &staff, id, None, e, None, typed).await;
    };
    let d = st
        .store
        .course(&staff.actor(), staff.clinic_id(), id)
        .await?;
    let n = NewAppointment {
        patient_id: d.course.patient_id,
        course_id: Some(id),
        kind,
        starts_at,
        minutes: i64::from(d.protocol.protocol.booked_minutes(kind)),
        staff_id: uuid::Uuid::parse_str(&typed[3]).ok(),
        room_id: uuid::Uuid::parse_str(&typed[4]).ok(),
        tz: staff.tz,
    };
    match st
        .store
        .book_appointment(&staff.actor(), staff.clinic_id(), &n)
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/courses/{id}?notice=appointment-booked#sessions"
        ))),
        Err(StoreError::Conflict(Conflict::BookingInvalid(e))) => {
            let mut out = FieldErrors::new();
            for x in e.iter() {
                let f = if x.field == "starts_at" {
                    "date"
                } else {
                    x.field.as_str()
                };
                out.add(f, x.message.clone());
            }
            page_with(&st, &staff, id, None, out, None, typed).await
        }
        Err(StoreError::Conflict(c)) => {
            page_with(
                &st,
                &staff,
                id,
                None,
                FieldErrors::new(),
                Some(conflict_words(&c)),
                typed,
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
    let next = CourseStatus::from_code(field(&f, "status")).ok_or_else(|| {
        AppError::Invalid(FieldErrors::single(
            "status",
            "Choose what happens to the course.",
        ))
    })?;
    let reason = match parse_reason(next, field(&f, "reason")) {
        Ok(r) => r,
        Err(m) => {
            return page(&st, &staff, id, None, FieldErrors::single("reason", m)).await;
        }
    };
    st.store
        .set_course_status(
            &staff.actor(),
            staff.clinic_id(),
            id,
            next,
            reason.as_deref(),
        )
        .await?;
    Ok(see_other(&format!("/courses/{id}?notice=course-updated")))
}
