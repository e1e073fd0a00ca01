//! Safety alerts on the staff side: the open alerts on the home page, a patient's alerts on the
//! chart, and acknowledging one with the clinician's action note.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::AppResult;
use crate::http::extract::{parse_id, see_other};
use crate::http::sections::{Returned, SectionFuture};
use crate::http::view::fragment;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::alert::{Alert, AlertStatus};
use kap_domain::measure::MeasurementSettings;
use kap_domain::permission::Action;
use kap_domain::person::Message;
use kap_domain::time::TimeZone;
use uuid::Uuid;

/// An alert as the pages show it.
pub struct AlertView {
    pub alert: Alert,
    pub open: bool,
    pub escalated: bool,
    pub raised: String,
    pub acknowledged: String,
}

fn views(alerts: Vec<Alert>, settings: &MeasurementSettings, tz: TimeZone) -> Vec<AlertView> {
    let now = kap_store::now();
    alerts
        .into_iter()
        .map(|a| AlertView {
            open: a.status == AlertStatus::Open,
            escalated: a.escalated(now, settings.escalate_after()),
            raised: tz.format(&a.raised_at),
            acknowledged: a
                .acknowledged_at
                .as_ref()
                .map(|t| tz.format(t))
                .unwrap_or_default(),
            alert: a,
        })
        .collect()
}

/// The form acknowledging an alert.
const ACK: &str = "acknowledge";

#[derive(Template)]
#[template(path = "measure/_alerts.html")]
struct AlertsPart<'a> {
    alerts: Vec<AlertView>,
    csrf: String,
    /// On the home page: the clinic's open alerts, each naming its patient.
    home: bool,
    returned: &'a Returned,
}

impl AlertsPart<'_> {
    /// The action note as typed, when this alert's form came back.
    fn note(&self, alert: &Uuid) -> String {
        self.returned.value(ACK, Some(*alert), "action_note", "")
    }

    fn note_error(&self, alert: &Uuid) -> Option<String> {
        self.returned.error(ACK, Some(*alert), "action_note")
    }
}

/// The home page's list of the clinic's open alerts, for staff who handle alerts.
pub fn home_section<'a>(
    st: &'a AppState,
    staff: &'a Staff,
    _patient: Option<Uuid>,
    returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move {
        if !staff.may(Action::HandleAlerts) {
            return Ok(None);
        }
        let settings = st.store.measurement_settings(staff.clinic_id()).await?;
        let open = st
            .store
            .open_alerts(&staff.actor(), staff.clinic_id())
            .await?;
        fragment(&AlertsPart {
            alerts: views(open, &settings, staff.tz),
            csrf: staff.csrf_token().to_owned(),
            home: true,
            returned,
        })
        .map(Some)
    })
}

/// A patient's alerts for the chart, for staff who handle alerts.
pub(super) async fn chart_part(
    st: &AppState,
    staff: &Staff,
    patient: Uuid,
    settings: &MeasurementSettings,
    returned: &Returned,
) -> AppResult<Option<String>> {
    if !staff.may(Action::HandleAlerts) {
        return Ok(None);
    }
    let alerts = st.store.alerts_of(staff.clinic_id(), patient).await?;
    fragment(&AlertsPart {
        alerts: views(alerts, settings, staff.tz),
        csrf: staff.csrf_token().to_owned(),
        home: false,
        returned,
    })
    .map(Some)
}

#[derive(serde::Deserialize)]
pub(super) struct AckForm {
    #[serde(default)]
    action_note: String,
    /// `home`, or the patient whose chart the form was on.
    #[serde(default)]
    back: String,
}

pub(super) async fn acknowledge(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AckForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let Ok(note) = Message::parse(&form.action_note) else {
        // Back to the page the form was on, with the problem beside this alert's note.
        let returned = Returned::form(
            ACK,
            vec![("action_note".into(), form.action_note.clone())],
            FieldErrors::single(
                "action_note",
                "Describe what you did about this alert (the action note is required).",
            ),
        )
        .about(id);
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return match parse_id(&form.back) {
            Ok(patient) => {
                crate::patients::pages::chart_page(&st, &staff, patient, None, returned, status)
                    .await
            }
            Err(_) => crate::home::home_page(&st, &staff, None, &returned, status).await,
        };
    };
    let patient = st
        .store
        .acknowledge_alert(&staff.actor(), staff.clinic_id(), id, note.as_str())
        .await?;
    let back = if form.back == "home" {
        "/?notice=alert-acknowledged".to_owned()
    } else {
        format!("/patients/{patient}?notice=alert-acknowledged#alerts")
    };
    Ok(see_other(&back))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kap_domain::alert::{AlertKind, AlertSource};
    use kap_domain::instruments::Severity;

    fn alert(kind: AlertKind, source: AlertSource, session: Option<Uuid>) -> Alert {
        Alert {
            id: Uuid::from_u128(1),
            patient_id: Uuid::from_u128(2),
            patient_name: "Ana Lima".into(),
            kind,
            severity: Severity::Urgent,
            source,
            session_id: session,
            item: None,
            answer: None,
            detail: "Systolic blood pressure 182 mmHg, above the protocol's alert threshold."
                .into(),
            status: AlertStatus::Open,
            raised_at: chrono::DateTime::UNIX_EPOCH,
            acknowledged_at: None,
            acknowledged_by_name: None,
            action_note: None,
            patient_phone: None,
            emergency_name: None,
            emergency_phone: None,
        }
    }

    fn render(a: Alert) -> String {
        let returned = Returned::none();
        fragment(&AlertsPart {
            alerts: views(vec![a], &MeasurementSettings::default(), TimeZone::UTC),
            csrf: "t".into(),
            home: true,
            returned: &returned,
        })
        .expect("renders")
    }

    #[test]
    fn a_vitals_alert_shows_what_was_recorded_and_leads_to_its_dosing_session() {
        let session = Uuid::from_u128(9);
        let html = render(alert(
            AlertKind::VitalOutOfRange,
            AlertSource::Vitals(Uuid::from_u128(3)),
            Some(session),
        ));
        assert!(html.contains("Systolic blood pressure 182 mmHg"));
        assert!(html.contains("Vital sign out of range, from a vital signs entry"));
        assert!(html.contains(&format!(
            "href=\"/dosing/{session}\">Open the dosing session"
        )));
        assert!(!html.contains("Answer given") && !html.contains("See the response"));
    }

    #[test]
    fn a_checkin_alert_leads_to_its_checkin() {
        let checkin = Uuid::from_u128(5);
        let html = render(alert(
            AlertKind::CheckinSideEffect,
            AlertSource::Checkin(checkin),
            None,
        ));
        assert!(html.contains("Side effect reported in a check-in, from a check-in"));
        assert!(html.contains(&format!("href=\"/checkins/{checkin}\">Open the check-in")));
        assert!(!html.contains("Open the dosing session") && !html.contains("See the response"));
    }

    #[test]
    fn an_adverse_event_alert_without_a_session_has_no_session_link() {
        let html = render(alert(
            AlertKind::AdverseEvent,
            AlertSource::AdverseEvent(Uuid::from_u128(3)),
            None,
        ));
        assert!(html.contains("Adverse event, from an adverse event"));
        assert!(!html.contains("Open the dosing session"));
    }
}
