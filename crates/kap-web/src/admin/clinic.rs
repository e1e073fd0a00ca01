//! Clinic settings: the clinic's name and crisis resources, and its measurement settings (alert
//! escalation, link validity, outcome rules).

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::AppResult;
use crate::http::extract::{NoticeQuery, see_other};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::measure::MeasurementSettings;
use kap_domain::person::{Message, ShortText};
use std::collections::BTreeMap;

#[derive(Template)]
#[template(path = "admin/clinic.html")]
struct ClinicPage {
    shell: Shell,
    clinic_name: String,
    crisis_resources: String,
    errors: FieldErrors,
    /// The measurement settings form's values, by field: as stored, or as typed when the form
    /// came back with errors.
    values: BTreeMap<String, String>,
    rules: Vec<RuleRow>,
    protocol_errors: FieldErrors,
}

impl ClinicPage {
    fn value(&self, field: &str) -> String {
        self.values.get(field).cloned().unwrap_or_default()
    }
}

/// One instrument's outcome rules as the settings form shows them.
struct RuleRow {
    code: &'static str,
    name: &'static str,
    max_total: i32,
    response: String,
    remission: String,
    worsening: String,
}

/// The form's fields for stored settings.
fn fields_of(s: &MeasurementSettings) -> BTreeMap<String, String> {
    let opt = |v: Option<i32>| v.map(|x| x.to_string()).unwrap_or_default();
    let mut f = BTreeMap::from([
        (
            "alert_escalation_minutes".to_owned(),
            s.alert_escalation_minutes.to_string(),
        ),
        (
            "link_valid_hours".to_owned(),
            s.link_valid_hours.to_string(),
        ),
    ]);
    for ins in MeasurementSettings::rated_instruments() {
        let r = s.rules_for(ins.code);
        f.insert(
            format!("{}_response", ins.code),
            r.response_reduction_percent.to_string(),
        );
        f.insert(format!("{}_remission", ins.code), opt(r.remission_at_most));
        f.insert(format!("{}_worsening", ins.code), opt(r.worsening_points));
    }
    f
}

fn rule_rows(values: &BTreeMap<String, String>) -> Vec<RuleRow> {
    let get = |k: String| values.get(&k).cloned().unwrap_or_default();
    MeasurementSettings::rated_instruments()
        .map(|i| RuleRow {
            code: i.code,
            name: i.name,
            max_total: i.max_total,
            response: get(format!("{}_response", i.code)),
            remission: get(format!("{}_remission", i.code)),
            worsening: get(format!("{}_worsening", i.code)),
        })
        .collect()
}

/// What the page shows besides the stored clinic.
struct Shown<'a> {
    notice: Option<&'a str>,
    clinic: Option<(String, String)>,
    errors: FieldErrors,
    values: Option<BTreeMap<String, String>>,
    protocol_errors: FieldErrors,
    status: StatusCode,
}

async fn clinic_page(st: &AppState, staff: &Staff, s: Shown<'_>) -> AppResult<Response> {
    let (name, crisis) = match s.clinic {
        Some(typed) => typed,
        None => {
            let c = st.store.clinic(staff.clinic_id()).await?;
            (c.name, c.crisis_resources)
        }
    };
    let values = match s.values {
        Some(typed) => typed,
        None => fields_of(&st.store.measurement_settings(staff.clinic_id()).await?),
    };
    Ok(render(
        &ClinicPage {
            shell: Shell::staff(staff, "Clinic settings", "staff").with_notice(s.notice),
            clinic_name: name,
            crisis_resources: crisis,
            errors: s.errors,
            rules: rule_rows(&values),
            values,
            protocol_errors: s.protocol_errors,
        },
        s.status,
    ))
}

pub(super) async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let shown = Shown {
        notice: q.notice.as_deref(),
        clinic: None,
        errors: FieldErrors::new(),
        values: None,
        protocol_errors: FieldErrors::new(),
        status: StatusCode::OK,
    };
    clinic_page(&st, &staff, shown).await
}

#[derive(serde::Deserialize)]
pub(super) struct ClinicForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    crisis_resources: String,
}

pub(super) async fn update(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<ClinicForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::new();
    let name = errors.check("name", ShortText::parse(&form.name));
    let crisis = errors.check("crisis_resources", Message::parse(&form.crisis_resources));
    match (name, crisis) {
        (Some(n), Some(c)) if errors.is_empty() => {
            st.store
                .update_clinic(&staff.actor(), staff.clinic_id(), n.as_str(), c.as_str())
                .await?;
            Ok(see_other("/admin/clinic?notice=saved"))
        }
        _ => {
            let shown = Shown {
                notice: None,
                clinic: Some((form.name, form.crisis_resources)),
                errors,
                values: None,
                protocol_errors: FieldErrors::new(),
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            clinic_page(&st, &staff, shown).await
        }
    }
}

pub(super) async fn settings_update(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let parsed =
        MeasurementSettings::from_fields(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    match parsed {
        Ok(s) => {
            st.store
                .set_measurement_settings(&staff.actor(), staff.clinic_id(), &s)
                .await?;
            Ok(see_other("/admin/clinic?notice=saved"))
        }
        Err(protocol_errors) => {
            let shown = Shown {
                notice: None,
                clinic: None,
                errors: FieldErrors::new(),
                values: Some(
                    fields
                        .into_iter()
                        .filter(|(k, _)| k != "csrf_token")
                        .collect(),
                ),
                protocol_errors,
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            clinic_page(&st, &staff, shown).await
        }
    }
}
