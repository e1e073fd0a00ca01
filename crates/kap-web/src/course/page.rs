//! A course's page: its protocol version, tailoring, numbers, sessions and history, what the
//! patient has consented to for its route, and the prescriber's status changes.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppError, AppResult};
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
use kap_domain::protocol::dose::PlannedDose;
use kap_store::course::CourseDetail;

#[derive(Template)]
#[template(path = "course/course.html")]
struct CoursePage {
    shell: Shell,
    d: CourseDetail,
    consent: Option<String>,
    may_plan: bool,
    next_steps: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
}

impl CoursePage {
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
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        &CoursePage {
            shell: Shell::staff(staff, d.course.protocol_title.clone(), "patients")
                .with_notice(notice),
            d,
            consent,
            may_plan: staff.may(Action::PlanCourse),
            next_steps,
            errors,
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
