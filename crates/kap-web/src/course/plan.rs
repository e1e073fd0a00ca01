//! Planning a course: the prescriber picks one of the clinic's protocols, tailors it (start,
//! time, dosing weekdays, counts, weeks per phase, dose within the protocol's limits, who and
//! where), previews the sessions it makes, and plans it — all booked or nothing.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppResult, conflict_words};
use crate::http::extract::{Fields, field, parse_id, see_other};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::course::CourseForm;
use kap_domain::course::plan::{WEEKDAYS, lay_out, weekday_code, weekday_name};
use kap_domain::protocol::DoseRule;
use kap_domain::protocol::record::ProtocolVersion;
use kap_domain::staff::StaffMember;
use kap_domain::{Role, course::PlannedSession};
use kap_store::course::{NewCourse, Room};
use kap_store::{Conflict, StoreError};
use uuid::Uuid;

#[derive(Template)]
#[template(path = "course/plan.html")]
struct PlanPage {
    shell: Shell,
    patient_id: Uuid,
    patient_name: String,
    protocols: Vec<ProtocolVersion>,
    chosen: Option<ProtocolVersion>,
    form: CourseForm,
    therapist: String,
    nurse: String,
    chair: String,
    room: String,
    therapists: Vec<StaffMember>,
    nurses: Vec<StaffMember>,
    chairs: Vec<Room>,
    rooms: Vec<Room>,
    preview: Vec<PlannedSession>,
    errors: FieldErrors,
    problem: Option<String>,
}

impl PlanPage {
    fn weekdays(&self) -> Vec<(&'static str, &'static str, bool)> {
        WEEKDAYS
            .iter()
            .map(|d| {
                let c = weekday_code(*d);
                (
                    c,
                    weekday_name(*d),
                    self.form.weekdays.iter().any(|w| w == c),
                )
            })
            .collect()
    }
    fn phase_weeks(&self, i: &usize) -> String {
        self.form.phase_weeks.get(*i).cloned().unwrap_or_default()
    }
    fn phase_field(&self, i: &usize) -> String {
        format!("phase_weeks_{i}")
    }
    fn err(&self, f: &str) -> Option<String> {
        self.errors.get(f).map(str::to_owned)
    }
    fn dose_unit(&self) -> &'static str {
        match self.chosen.as_ref().map(|v| &v.protocol.dose) {
            Some(DoseRule::PerKg { .. }) => "mg/kg",
            _ => "mg",
        }
    }
    fn dose_hint(&self) -> String {
        match self.chosen.as_ref().map(|v| &v.protocol.dose) {
            Some(DoseRule::PerKg {
                min_mg_per_kg,
                max_mg_per_kg,
                ..
            }) => format!(
                "between {} and {} mg/kg",
                min_mg_per_kg.get(),
                max_mg_per_kg.get()
            ),
            Some(d @ DoseRule::Fixed { first_mg, .. }) => format!(
                "from the second dosing session on; the first is {} mg. Allowed: {} mg",
                first_mg.get(),
                d.allowed_fixed()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => String::new(),
        }
    }
    fn day(&self, s: &PlannedSession) -> String {
        s.starts.format("%a %Y-%m-%d").to_string()
    }
    fn hm(&self, s: &PlannedSession) -> String {
        format!("{}–{}", s.starts.format("%H:%M"), s.ends().format("%H:%M"))
    }
}

#[derive(serde::Deserialize)]
pub(super) struct ProtocolQuery {
    protocol: Option<String>,
}

struct Typed {
    protocol: Option<Uuid>,
    form: Option<CourseForm>,
    therapist: String,
    nurse: String,
    chair: String,
    room: String,
}

async fn page(
    st: &AppState,
    staff: &Staff,
    patient: Uuid,
    typed: Typed,
    preview: bool,
    errors: FieldErrors,
    problem: Option<String>,
) -> AppResult<Response> {
    let clinic = staff.clinic_id();
    let (p, _) = st.store.patient(&staff.actor(), clinic, patient).await?;
    let protocols = st.store.protocols_in_use(clinic).await?;
    let chosen = match typed.protocol {
        Some(id) => protocols.iter().find(|v| v.id == id).cloned(),
        None => None,
    };
    let today = staff.tz.date(&kap_store::now());
    let form = match (&chosen, typed.form) {
        (_, Some(f)) => f,
        (Some(v), None) => CourseForm::defaults(&v.protocol, today),
        (None, None) => CourseForm::default(),
    };
    let staff_list = st.store.staff_of_clinic(clinic).await?;
    let of = |roles: &[Role]| -> Vec<StaffMember> {
        staff_list
            .iter()
            .filter(|m| m.active && roles.contains(&m.role))
            .cloned()
            .collect()
    };
    let rooms = st.store.rooms(clinic).await?;
    let mut shown = vec![];
    let mut errors = errors;
    if preview
        && errors.is_empty()
        && problem.is_none()
        && let Some(v) = &chosen
    {
        match form.parse(&v.protocol, today) {
            Ok(plan) => shown = lay_out(&v.protocol, &plan),
            Err(e) => errors = e,
        }
    }
    let status = if errors.is_empty() && problem.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        &PlanPage {
            shell: Shell::staff(staff, "Plan a course", "patients"),
            patient_id: patient,
            patient_name: p.details.full_name.to_string(),
            protocols,
            chosen,
            form,
            therapist: typed.therapist,
            nurse: typed.nurse,
            chair: typed.chair,
            room: typed.room,
            therapists: of(&[Role::Therapist, Role::Prescriber]),
            nurses: of(&[Role::Nurse, Role::Prescriber]),
            chairs: rooms
                .iter()
                .filter(|r| r.active && r.dosing_chair)
                .cloned()
                .collect(),
            rooms: rooms
                .into_iter()
                .filter(|r| r.active && !r.dosing_chair)
                .collect(),
            preview: shown,
            errors,
            problem,
        },
        status,
    ))
}

pub(super) async fn form(
    State(st): State<AppState>,
    staff: Staff,
    Path(patient): Path<String>,
    Query(q): Query<ProtocolQuery>,
) -> AppResult<Response> {
    let patient = parse_id(&patient)?;
    let protocol = q.protocol.as_deref().map(parse_id).transpose()?;
    page(
        &st,
        &staff,
        patient,
        Typed {
            protocol,
            form: None,
            therapist: String::new(),
            nurse: String::new(),
            chair: String::new(),
            room: String::new(),
        },
        false,
        FieldErrors::new(),
        None,
    )
    .await
}

fn read_form(f: &Fields, phases: usize) -> CourseForm {
    CourseForm {
        start_date: field(f, "start_date").to_owned(),
        time: field(f, "time").to_owned(),
        weekdays: f
            .iter()
            .filter(|(k, _)| k == "weekday")
            .map(|(_, v)| v.clone())
            .collect(),
        preparation: field(f, "preparation").to_owned(),
        phase_weeks: (0..phases)
            .map(|i| field(f, &format!("phase_weeks_{i}")).to_owned())
            .collect(),
        follow_ups: field(f, "follow_ups").to_owned(),
        integration_after_days: field(f, "integration_after_days").to_owned(),
        dose: field(f, "dose").to_owned(),
    }
}

fn opt_uuid(s: &str) -> Option<Uuid> {
    Uuid::parse_str(s.trim()).ok()
}

pub(super) async fn create(
    State(st): State<AppState>,
    staff: Staff,
    Path(patient): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let patient = parse_id(&patient)?;
    let clinic = staff.clinic_id();
    let protocol = opt_uuid(field(&f, "protocol"));
    let version = match protocol {
        Some(id) => Some(st.store.protocol_version(clinic, id).await?),
        None => None,
    };
    let phases = version
        .as_ref()
        .map_or(0, |v| v.protocol.sessions.phase.len());
    let form = read_form(&f, phases);
    let typed = Typed {
        protocol,
        form: Some(form.clone()),
        therapist: field(&f, "therapist").to_owned(),
        nurse: field(&f, "nurse").to_owned(),
        chair: field(&f, "chair").to_owned(),
        room: field(&f, "room").to_owned(),
    };
    let Some(version) = version else {
        return page(
            &st,
            &staff,
            patient,
            typed,
            false,
            FieldErrors::single("protocol", "Choose a protocol."),
            None,
        )
        .await;
    };
    let today = staff.tz.date(&kap_store::now());
    let mut errors = match form.parse(&version.protocol, today) {
        Ok(_) => FieldErrors::new(),
        Err(e) => e,
    };
    let therapist = opt_uuid(&typed.therapist);
    let chair = opt_uuid(&typed.chair);
    if therapist.is_none() {
        errors.add(
            "therapist",
            "Choose the therapist for the talking sessions.",
        );
    }
    if chair.is_none() {
        errors.add("chair", "Choose the dosing chair.");
    }
    let preview = field(&f, "action") == "preview";
    if preview || !errors.is_empty() {
        return page(&st, &staff, patient, typed, preview, errors, None).await;
    }
    let (Ok(plan), Some(therapist_id), Some(chair_id)) =
        (form.parse(&version.protocol, today), therapist, chair)
    else {
        return page(&st, &staff, patient, typed, false, errors, None).await;
    };
    let n = NewCourse {
        patient_id: patient,
        protocol_id: version.id,
        plan,
        therapist_id,
        nurse_id: opt_uuid(&typed.nurse),
        chair_id,
        room_id: opt_uuid(&typed.room),
        tz: staff.tz,
    };
    match st.store.plan_course(&staff.actor(), clinic, &n).await {
        Ok(id) => Ok(see_other(&format!("/courses/{id}?notice=course-planned"))),
        Err(StoreError::Conflict(Conflict::BookingInvalid(e))) => {
            page(&st, &staff, patient, typed, false, e, None).await
        }
        Err(StoreError::Conflict(c)) => {
            page(
                &st,
                &staff,
                patient,
                typed,
                false,
                FieldErrors::new(),
                Some(conflict_words(&c)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
