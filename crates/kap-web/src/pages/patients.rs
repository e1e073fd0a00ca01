//! The patient registry pages: search (live with htmx, plain GET without), register, edit, and
//! the chart with demographics, contacts, emergency contact and weight/height history.

use crate::AppState;
use crate::auth::Staff;
use crate::csrf::CsrfForm;
use crate::error::AppResult;
use crate::pages::{is_htmx, opt_id, parse_id, see_other};
use crate::view::{Shell, render, when};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::patient::{MeasurementForm, PatientForm, PatientQuery};
use kap_domain::permission::Action;
use kap_domain::person::{Height, PreferredContact, Sex, Weight};
use kap_store::patient::{Measurement, Patient, PatientSummary};
use uuid::Uuid;

const PAGE: i64 = 25;

#[derive(Template)]
#[template(path = "patients.html")]
struct SearchPage {
    shell: Shell,
    q: String,
    results: Results,
    may_create: bool,
}

#[derive(Template)]
#[template(path = "patient_results.html")]
struct Results {
    q: String,
    searched: bool,
    patients: Vec<PatientSummary>,
    next: Option<Uuid>,
}

#[derive(serde::Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    after: Option<String>,
}

pub async fn search(
    State(st): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(sq): Query<SearchQuery>,
) -> AppResult<Response> {
    staff.require(Action::SearchPatients)?;
    let q = sq.q.unwrap_or_default();
    let query = PatientQuery::parse(&q);
    let patients = st
        .store
        .search_patients(
            &staff.actor(),
            staff.clinic_id(),
            &query,
            opt_id(&sq.after),
            PAGE + 1,
        )
        .await?;
    let (patients, next) = crate::pages::split_page(patients, PAGE, |x| x.id);
    let results = Results {
        searched: !q.trim().is_empty(),
        q: q.clone(),
        patients,
        next,
    };
    if is_htmx(&headers) {
        return Ok(render(&results, StatusCode::OK));
    }
    Ok(render(
        &SearchPage {
            shell: Shell::staff(&staff, "Patients", "patients"),
            q,
            results,
            may_create: staff.may(Action::CreatePatient),
        },
        StatusCode::OK,
    ))
}

#[derive(Template)]
#[template(path = "patient_form.html")]
struct FormPage {
    shell: Shell,
    action: String,
    cancel: String,
    form: PatientForm,
    errors: FieldErrors,
    sexes: Vec<(&'static str, &'static str)>,
    contacts: Vec<(&'static str, &'static str)>,
}

fn form_page(
    staff: &Staff,
    title: &str,
    action: String,
    cancel: String,
    form: PatientForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    render(
        &FormPage {
            shell: Shell::staff(staff, title, "patients"),
            action,
            cancel,
            form,
            errors,
            sexes: Sex::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
            contacts: PreferredContact::ALL
                .iter()
                .map(|s| (s.as_str(), s.label()))
                .collect(),
        },
        status,
    )
}

pub async fn new_form(staff: Staff) -> AppResult<Response> {
    staff.require(Action::CreatePatient)?;
    let form = PatientForm {
        preferred_contact: "either".into(),
        ..Default::default()
    };
    Ok(form_page(
        &staff,
        "New patient",
        "/patients".into(),
        "/patients".into(),
        form,
        FieldErrors::new(),
        StatusCode::OK,
    ))
}

pub async fn create(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<PatientForm>,
) -> AppResult<Response> {
    staff.require(Action::CreatePatient)?;
    match form.parse(chrono::Utc::now().date_naive()) {
        Ok(d) => {
            let id = st
                .store
                .create_patient(&staff.actor(), staff.clinic_id(), &d)
                .await?;
            Ok(see_other(&format!("/patients/{id}?notice=created")))
        }
        Err(errors) => Ok(form_page(
            &staff,
            "New patient",
            "/patients".into(),
            "/patients".into(),
            form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
    }
}

#[derive(Template)]
#[template(path = "patient.html")]
struct ChartPage {
    shell: Shell,
    patient: Patient,
    age: u32,
    measurements: Vec<MeasurementRow>,
    measure: MeasurementForm,
    measure_errors: FieldErrors,
    may_edit: bool,
    may_measure: bool,
    may_audit: bool,
    mbc: Mbc,
}

/// The measurement-based-care part of the chart, filled as the viewer's role allows.
struct Mbc {
    alerts: Option<Vec<crate::pages::measure::AlertView>>,
    trajectories: Option<Vec<crate::pages::measure::Trajectory>>,
    /// For roles that may not read answers: which questionnaires were done, when.
    statuses: Vec<(String, String, bool)>,
    links: Vec<(String, String, String)>,
    schedules: Vec<kap_store::measure::Schedule>,
    may_send: bool,
    may_enter: bool,
    sendable: Vec<(&'static str, &'static str)>,
    enterable: Vec<(&'static str, &'static str)>,
    contexts: Vec<(&'static str, &'static str)>,
}

impl ChartPage {
    fn instrument_name(&self, code: &str) -> &'static str {
        kap_domain::instruments::by_code(code)
            .map(|i| i.name)
            .unwrap_or("?")
    }
}

async fn mbc(st: &AppState, staff: &Staff, id: Uuid) -> AppResult<Mbc> {
    use crate::pages::measure::{alert_views, trajectories};
    use kap_domain::instruments::{ALL, ResponseContext};
    let clinic = staff.clinic_id();
    let protocol = st.store.protocol(clinic).await?;
    let alerts = if staff.may(Action::HandleAlerts) {
        Some(alert_views(
            st.store.alerts_of(clinic, id).await?,
            &protocol,
        ))
    } else {
        None
    };
    let (trajectories, statuses) = if staff.may(Action::ReadResponses) {
        let (responses, answers) = st.store.responses_of(&staff.actor(), clinic, id).await?;
        (Some(trajectories(&responses, &answers, &protocol)), vec![])
    } else if staff.may(Action::SendQuestionnaire) {
        let s = st.store.response_status_of(clinic, id).await?;
        (
            None,
            s.into_iter()
                .map(|(i, at, c)| {
                    (
                        kap_domain::instruments::by_code(&i)
                            .map(|x| x.name)
                            .unwrap_or("?")
                            .to_owned(),
                        when(&at),
                        c,
                    )
                })
                .collect(),
        )
    } else {
        (None, vec![])
    };
    let may_send = staff.may(Action::SendQuestionnaire);
    let now = kap_store::now();
    let links = if may_send {
        st.store
            .links_of(clinic, id)
            .await?
            .into_iter()
            .map(|l| {
                let state = match l.used_at {
                    Some(u) => format!("answered {}", when(&u)),
                    None if l.expires_at <= now => "expired unanswered".to_owned(),
                    None => format!("waiting, expires {}", when(&l.expires_at)),
                };
                (
                    kap_domain::instruments::by_code(&l.instrument)
                        .map(|x| x.name)
                        .unwrap_or("?")
                        .to_owned(),
                    when(&l.created_at),
                    state,
                )
            })
            .collect()
    } else {
        vec![]
    };
    let schedules = if may_send {
        st.store.schedules_of(clinic, id).await?
    } else {
        vec![]
    };
    Ok(Mbc {
        alerts,
        trajectories,
        statuses,
        links,
        schedules,
        may_send,
        may_enter: staff.may(Action::EnterResponse),
        sendable: ALL
            .iter()
            .filter(|i| i.has_item_text())
            .map(|i| (i.code, i.name))
            .collect(),
        enterable: ALL.iter().map(|i| (i.code, i.name)).collect(),
        contexts: ResponseContext::ALL
            .iter()
            .map(|c| (c.as_str(), c.label()))
            .collect(),
    })
}

struct MeasurementRow {
    when: String,
    weight: String,
    height: String,
    bmi: String,
    by: String,
}

/// Weight and height rows, each with a BMI where a height is known (the latest height at or
/// before that weight).
fn measurement_rows(ms: &[Measurement]) -> Vec<MeasurementRow> {
    ms.iter()
        .enumerate()
        .map(|(i, m)| {
            let height_mm = ms[i..].iter().find_map(|x| x.height_mm);
            let bmi = match (m.weight_g, height_mm) {
                (Some(w), Some(h)) if h > 0 => {
                    // BMI = kg / m², computed in integers: g·10⁶/mm² = kg/m² × 1000.
                    let milli = i64::from(w) * 1_000_000 / (i64::from(h) * i64::from(h));
                    format!("{}.{}", milli / 1000, (milli % 1000) / 100)
                }
                _ => String::new(),
            };
            MeasurementRow {
                when: when(&m.measured_at),
                weight: m
                    .weight_g
                    .and_then(|g| Weight::from_grams(g).ok())
                    .map(|w| format!("{} kg", w.kg_text()))
                    .unwrap_or_default(),
                height: m
                    .height_mm
                    .and_then(|h| Height::from_mm(h).ok())
                    .map(|h| format!("{} cm", h.cm_text()))
                    .unwrap_or_default(),
                bmi,
                by: m.recorded_by_name.clone().unwrap_or_default(),
            }
        })
        .collect()
}

async fn chart(
    st: &AppState,
    staff: &Staff,
    id: Uuid,
    notice: Option<&str>,
    measure: MeasurementForm,
    measure_errors: FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let (patient, ms) = st
        .store
        .patient(&staff.actor(), staff.clinic_id(), id)
        .await?;
    let mbc = mbc(st, staff, id).await?;
    let age = kap_domain::person::DateOfBirth::new(patient.date_of_birth, patient.date_of_birth)
        .map(|d| d.age_on(chrono::Utc::now().date_naive()))
        .unwrap_or(0);
    Ok(render(
        &ChartPage {
            shell: Shell::staff(staff, patient.full_name.clone(), "patients").with_notice(notice),
            age,
            measurements: measurement_rows(&ms),
            patient,
            measure,
            measure_errors,
            may_edit: staff.may(Action::UpdatePatient),
            may_measure: staff.may(Action::RecordBodyMeasurement),
            may_audit: staff.may(Action::ReadAudit),
            mbc,
        },
        status,
    ))
}

#[derive(serde::Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    staff.require(Action::ReadPatient)?;
    let id = parse_id(&id)?;
    chart(
        &st,
        &staff,
        id,
        q.notice.as_deref(),
        MeasurementForm::default(),
        FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn edit_form(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> AppResult<Response> {
    staff.require(Action::UpdatePatient)?;
    let id = parse_id(&id)?;
    let (patient, _) = st
        .store
        .patient(&staff.actor(), staff.clinic_id(), id)
        .await?;
    let form = patient.details().map(|d| d.to_form()).unwrap_or_default();
    Ok(form_page(
        &staff,
        &format!("Edit {}", patient.full_name),
        format!("/patients/{id}"),
        format!("/patients/{id}"),
        form,
        FieldErrors::new(),
        StatusCode::OK,
    ))
}

pub async fn update(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PatientForm>,
) -> AppResult<Response> {
    staff.require(Action::UpdatePatient)?;
    let id = parse_id(&id)?;
    match form.parse(chrono::Utc::now().date_naive()) {
        Ok(d) => {
            st.store
                .update_patient(&staff.actor(), staff.clinic_id(), id, &d)
                .await?;
            Ok(see_other(&format!("/patients/{id}?notice=saved")))
        }
        Err(errors) => Ok(form_page(
            &staff,
            "Edit patient",
            format!("/patients/{id}"),
            format!("/patients/{id}"),
            form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
    }
}

pub async fn measure(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<MeasurementForm>,
) -> AppResult<Response> {
    staff.require(Action::RecordBodyMeasurement)?;
    let id = parse_id(&id)?;
    match form.parse() {
        Ok(m) => {
            st.store
                .record_measurement(&staff.actor(), staff.clinic_id(), id, &m)
                .await?;
            Ok(see_other(&format!("/patients/{id}?notice=measured")))
        }
        Err(errors) => {
            chart(
                &st,
                &staff,
                id,
                None,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
