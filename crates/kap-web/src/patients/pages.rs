//! The patient registry pages: search (live with htmx, plain GET without), register, edit, and
//! the chart with demographics, contacts, emergency contact and weight/height history. The
//! chart's measurement part comes from the `measure` capability.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::AppResult;
use crate::http::extract::{NoticeQuery, opt_id, parse_id, see_other, split_page};
use crate::http::sections::{Returned, render_sections};
use crate::http::view::{Hx, Shell, page_or_part, render};
use crate::patients::duplicates::{self, NewPatientForm};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::patient::{
    BodyMeasurementRecord, MeasurementForm, PatientDetails, PatientForm, PatientQuery,
    PatientSummary, bmi_series,
};
use kap_domain::permission::Action;
use kap_domain::person::{PreferredContact, Sex};
use kap_domain::time::TimeZone;
use uuid::Uuid;

const PAGE: i64 = 25;

#[derive(Template)]
#[template(path = "patients/search.html")]
struct SearchPage {
    shell: Shell,
    q: String,
    results: Results,
    may_create: bool,
}

#[derive(Template)]
#[template(path = "patients/_results.html")]
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
    hx: Hx,
    Query(sq): Query<SearchQuery>,
) -> AppResult<Response> {
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
    let (patients, next) = split_page(patients, PAGE, |x| x.id);
    let results = Results {
        searched: !q.trim().is_empty(),
        q: q.clone(),
        patients,
        next,
    };
    Ok(page_or_part(hx, results, |results| SearchPage {
        shell: Shell::staff(&staff, "Patients", "patients"),
        q,
        results,
        may_create: staff.may(Action::CreatePatient),
    }))
}

#[derive(Template)]
#[template(path = "patients/form.html")]
struct FormPage {
    shell: Shell,
    action: String,
    cancel: String,
    form: PatientForm,
    errors: FieldErrors,
    /// Possible matches of a new patient, with the box to confirm it is someone new.
    duplicates: Option<String>,
    sexes: Vec<(&'static str, &'static str)>,
    contacts: Vec<(&'static str, &'static str)>,
}

/// The form and what it came back with.
struct Filled {
    form: PatientForm,
    errors: FieldErrors,
    duplicates: Option<String>,
}

impl Filled {
    fn fresh(form: PatientForm) -> Self {
        Filled {
            form,
            errors: FieldErrors::new(),
            duplicates: None,
        }
    }

    fn with_errors(form: PatientForm, errors: FieldErrors) -> Self {
        Filled {
            form,
            errors,
            duplicates: None,
        }
    }
}

fn form_page(
    staff: &Staff,
    title: &str,
    action: String,
    cancel: String,
    filled: Filled,
    status: StatusCode,
) -> Response {
    render(
        &FormPage {
            shell: Shell::staff(staff, title, "patients"),
            action,
            cancel,
            form: filled.form,
            errors: filled.errors,
            duplicates: filled.duplicates,
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
    let form = PatientForm {
        preferred_contact: "either".into(),
        ..Default::default()
    };
    Ok(form_page(
        &staff,
        "New patient",
        "/patients".into(),
        "/patients".into(),
        Filled::fresh(form),
        StatusCode::OK,
    ))
}

pub async fn create(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(new): CsrfForm<NewPatientForm>,
) -> AppResult<Response> {
    let confirmed = new.confirmed();
    let form = new.form;
    let filled = match form.parse(chrono::Utc::now().date_naive()) {
        Ok(d) => match duplicates::warning(&st, &staff, &d, confirmed).await? {
            None => {
                let id = st
                    .store
                    .create_patient(&staff.actor(), staff.clinic_id(), &d)
                    .await?;
                return Ok(see_other(&format!("/patients/{id}?notice=created")));
            }
            Some(warning) => Filled {
                form,
                errors: FieldErrors::new(),
                duplicates: Some(warning),
            },
        },
        Err(errors) => Filled::with_errors(form, errors),
    };
    Ok(form_page(
        &staff,
        "New patient",
        "/patients".into(),
        "/patients".into(),
        filled,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

#[derive(Template)]
#[template(path = "patients/chart.html")]
struct ChartPage {
    shell: Shell,
    patient_id: Uuid,
    d: PatientDetails,
    age: u32,
    measurements: Vec<MeasurementRow>,
    measure: MeasurementForm,
    measure_errors: FieldErrors,
    may_edit: bool,
    may_measure: bool,
    may_audit: bool,
    /// The other capabilities' parts of the chart (alerts, questionnaires, …).
    sections: String,
}

pub(crate) struct MeasurementRow {
    pub when: String,
    pub weight: String,
    pub height: String,
    pub bmi: String,
    pub by: String,
}

/// Weight and height rows, newest first, each with a BMI where a height is known.
pub(crate) fn measurement_rows(ms: &[BodyMeasurementRecord], tz: TimeZone) -> Vec<MeasurementRow> {
    ms.iter()
        .zip(bmi_series(ms))
        .map(|(m, bmi)| MeasurementRow {
            when: tz.format(&m.measured_at),
            weight: m
                .weight
                .map(|w| format!("{} kg", w.kg_text()))
                .unwrap_or_default(),
            height: m
                .height
                .map(|h| format!("{} cm", h.cm_text()))
                .unwrap_or_default(),
            bmi: bmi
                .map(|b| format!("{}.{}", b / 10, b % 10))
                .unwrap_or_default(),
            by: m.recorded_by_name.clone().unwrap_or_default(),
        })
        .collect()
}

/// The measurement form on the chart.
const MEASUREMENT: &str = "measurement";

/// The patient's chart, with a form of one of its sections as typed when it came back with
/// problems.
pub async fn chart_page(
    st: &AppState,
    staff: &Staff,
    id: Uuid,
    notice: Option<&str>,
    returned: Returned,
    status: StatusCode,
) -> AppResult<Response> {
    let (patient, ms) = st
        .store
        .patient(&staff.actor(), staff.clinic_id(), id)
        .await?;
    let sections = render_sections(&st.chart_sections, st, staff, Some(id), &returned).await?;
    let (measure, measure_errors) = if returned.is(MEASUREMENT, None) {
        (
            MeasurementForm {
                weight_kg: returned.value(MEASUREMENT, None, "weight_kg", ""),
                height_cm: returned.value(MEASUREMENT, None, "height_cm", ""),
            },
            returned.errors.clone(),
        )
    } else {
        (MeasurementForm::default(), FieldErrors::new())
    };
    let d = patient.details;
    Ok(render(
        &ChartPage {
            shell: Shell::staff(staff, d.full_name.to_string(), "patients").with_notice(notice),
            age: d.date_of_birth.age_on(chrono::Utc::now().date_naive()),
            measurements: measurement_rows(&ms, staff.tz),
            patient_id: id,
            d,
            measure,
            measure_errors,
            may_edit: staff.may(Action::UpdatePatient),
            may_measure: staff.may(Action::RecordBodyMeasurement),
            may_audit: staff.may(Action::ReadAudit),
            sections,
        },
        status,
    ))
}

pub async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    chart_page(
        &st,
        &staff,
        id,
        q.notice.as_deref(),
        Returned::none(),
        StatusCode::OK,
    )
    .await
}

pub async fn edit_form(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let (patient, _) = st
        .store
        .patient(&staff.actor(), staff.clinic_id(), id)
        .await?;
    let form = patient.details.to_form();
    Ok(form_page(
        &staff,
        &format!("Edit {}", patient.details.full_name),
        format!("/patients/{id}"),
        format!("/patients/{id}"),
        Filled::fresh(form),
        StatusCode::OK,
    ))
}

pub async fn update(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PatientForm>,
) -> AppResult<Response> {
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
            Filled::with_errors(form, errors),
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
    let id = parse_id(&id)?;
    match form.parse() {
        Ok(m) => {
            st.store
                .record_measurement(&staff.actor(), staff.clinic_id(), id, &m)
                .await?;
            Ok(see_other(&format!("/patients/{id}?notice=measured")))
        }
        Err(errors) => {
            let typed = vec![
                ("weight_kg".into(), form.weight_kg),
                ("height_cm".into(), form.height_cm),
            ];
            chart_page(
                &st,
                &staff,
                id,
                None,
                Returned::form(MEASUREMENT, typed, errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
