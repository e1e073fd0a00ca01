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
use kap_domain::instruments::Severity;
use kap_domain::measure::MeasurementSettings;
use kap_domain::person::{Message, Phone, ShortText, optional};
use kap_domain::time::TimeZone;
use kap_store::clinic::ClinicDetails;
use std::collections::BTreeMap;

#[derive(Template)]
#[template(path = "admin/clinic.html")]
struct ClinicPage {
    shell: Shell,
    clinic: ClinicForm,
    errors: FieldErrors,
    severities: Vec<(&'static str, &'static str)>,
    /// The measurement settings form's values, by field: as stored, or as typed when the form
    /// came back with errors.
    values: BTreeMap<String, String>,
    rules: Vec<RuleRow>,
    protocol_errors: FieldErrors,
    require_two_factor: bool,
    calendar_shows_names: bool,
}

impl ClinicPage {
    fn value(&self, field: &str) -> String {
        self.values.get(field).cloned().unwrap_or_default()
    }

    /// The settings form's problems, each named by its field's label.
    fn protocol_problems(&self) -> Vec<(String, String)> {
        self.protocol_errors
            .iter()
            .map(|e| (field_label(&e.field), e.message.clone()))
            .collect()
    }
}

/// The label people read for a field of the measurement settings form.
fn field_label(field: &str) -> String {
    let fixed = match field {
        "alert_escalation_minutes" => Some("Escalate unacknowledged safety alerts after"),
        "link_valid_hours" => Some("Patient links stay valid for"),
        "phq9_item9_severity_1" => Some("PHQ-9 item 9 answered “Several days”"),
        "phq9_item9_severity_2" => Some("PHQ-9 item 9 answered “More than half the days”"),
        "phq9_item9_severity_3" => Some("PHQ-9 item 9 answered “Nearly every day”"),
        "risk_unanswered_severity" => Some("A risk question left unanswered"),
        _ => None,
    };
    if let Some(l) = fixed {
        return l.to_owned();
    }
    let rule = |suffix: &str, what: &str| {
        let code = field.strip_suffix(suffix)?;
        let ins = kap_domain::instruments::by_code(code)?;
        Some(format!("{} {what}", ins.name))
    };
    rule("_response", "response")
        .or_else(|| rule("_remission", "remission"))
        .or_else(|| rule("_worsening", "worsening"))
        .unwrap_or_else(|| field.to_owned())
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
    /// The clinic's details as typed, when that form came back with errors.
    clinic: Option<ClinicForm>,
    errors: FieldErrors,
    values: Option<BTreeMap<String, String>>,
    protocol_errors: FieldErrors,
    status: StatusCode,
}

async fn clinic_page(st: &AppState, staff: &Staff, s: Shown<'_>) -> AppResult<Response> {
    let clinic = match s.clinic {
        Some(typed) => typed,
        None => {
            let c = st.store.clinic(staff.clinic_id()).await?;
            ClinicForm {
                name: c.name,
                crisis_resources: c.crisis_resources,
                phone: c.phone.map(String::from).unwrap_or_default(),
                time_zone: c.time_zone.map(|z| z.name().to_owned()).unwrap_or_default(),
            }
        }
    };
    let values = match s.values {
        Some(typed) => typed,
        None => fields_of(&st.store.measurement_settings(staff.clinic_id()).await?),
    };
    Ok(render(
        &ClinicPage {
            shell: Shell::staff(staff, "Clinic settings", "staff").with_notice(s.notice),
            clinic,
            errors: s.errors,
            severities: Severity::ALL
                .iter()
                .map(|x| (x.as_str(), x.label()))
                .collect(),
            rules: rule_rows(&values),
            values,
            protocol_errors: s.protocol_errors,
            require_two_factor: st.store.requires_two_factor(staff.clinic_id()).await?,
            calendar_shows_names: st.store.calendar_shows_names(staff.clinic_id()).await?,
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

#[derive(serde::Deserialize, Default)]
pub(super) struct ClinicForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    crisis_resources: String,
    #[serde(default)]
    phone: String,
    /// An IANA name; empty: the installation's zone.
    #[serde(default)]
    time_zone: String,
}

pub(super) async fn update(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<ClinicForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::new();
    let name = errors.check("name", ShortText::parse(&form.name));
    let crisis = errors.check("crisis_resources", Message::parse(&form.crisis_resources));
    let phone = errors.check("phone", optional(&form.phone, Phone::parse));
    let zone = errors.check("time_zone", optional(&form.time_zone, TimeZone::parse));
    match (name, crisis, phone, zone) {
        (Some(n), Some(c), Some(phone), Some(time_zone)) if errors.is_empty() => {
            let details = ClinicDetails {
                name: n.as_str(),
                crisis_resources: c.as_str(),
                phone: phone.as_ref(),
                time_zone,
            };
            st.store
                .update_clinic(&staff.actor(), staff.clinic_id(), &details)
                .await?;
            Ok(see_other("/admin/clinic?notice=saved"))
        }
        _ => {
            let shown = Shown {
                notice: None,
                clinic: Some(form),
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

#[derive(serde::Deserialize)]
pub(super) struct TwoFactorForm {
    #[serde(default)]
    require: Option<String>,
}

/// Requires (or no longer requires) two-factor sign-in of every staff member of the clinic;
/// those without it are led to set it up at their next page.
pub(super) async fn two_factor_update(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<TwoFactorForm>,
) -> AppResult<Response> {
    st.store
        .set_requires_two_factor(&staff.actor(), staff.clinic_id(), form.require.is_some())
        .await?;
    Ok(see_other("/admin/clinic?notice=saved"))
}
