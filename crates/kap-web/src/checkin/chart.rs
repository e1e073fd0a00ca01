//! Check-ins on the chart and the home page: the patient's recent check-ins with their mood
//! over time (for roles that read check-ins), sending a check-in link and setting check-in
//! schedules (coordinators too — they see which links were answered, never the answers), and
//! the home page's count of check-ins not seen yet with the flagged ones.

use super::patient::attachable;
use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::AppResult;
use crate::http::extract::{Empty, parse_id, see_other};
use crate::http::sections::{Returned, SectionFuture};
use crate::http::view::fragment;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::checkin::link::VALID_DAYS;
use kap_domain::checkin::schedule::{parse_instrument, parse_schedule};
use kap_domain::checkin::{CheckinLine, CheckinLink, CheckinSchedule, ScheduleKind};
use kap_domain::permission::Action;
use kap_domain::time::TimeZone;
use kap_store::checkin::link::NewCheckinLink;
use kap_store::{Conflict, StoreError};
use uuid::Uuid;

/// The chart's forms, as [`Returned`] names them.
const SEND: &str = "checkin-send";
const SCHEDULE: &str = "checkin-schedule";

/// How many check-ins the chart lists (the newest); the mood line draws them all.
const CHART_ROWS: usize = 10;

#[derive(Template)]
#[template(path = "checkin/_chart.html")]
struct Panel<'a> {
    patient_id: Uuid,
    csrf: String,
    tz: TimeZone,
    /// None: this viewer may not read check-ins.
    lines: Option<Vec<CheckinLine>>,
    sparkline: String,
    may_send: bool,
    links: Vec<CheckinLink>,
    schedules: Vec<CheckinSchedule>,
    instruments: Vec<(&'static str, &'static str)>,
    default_days: i32,
    returned: &'a Returned,
}

impl Panel<'_> {
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        self.tz.format(t)
    }
    fn send_value(&self, field: &str, default: &str) -> String {
        self.returned.value(SEND, None, field, default)
    }
    fn send_error(&self, field: &str) -> Option<String> {
        self.returned.error(SEND, None, field)
    }
    fn schedule_value(&self, field: &str, default: &str) -> String {
        self.returned.value(SCHEDULE, None, field, default)
    }
    fn schedule_error(&self, field: &str) -> Option<String> {
        self.returned.error(SCHEDULE, None, field)
    }
    fn kinds(&self) -> [ScheduleKind; 2] {
        ScheduleKind::ALL
    }
    fn state(&self, l: &CheckinLink) -> &'static str {
        l.state_words(kap_store::now())
    }
    /// The newest check-ins, newest first.
    fn recent(&self) -> Vec<&CheckinLine> {
        self.lines
            .as_ref()
            .map(|l| l.iter().rev().take(CHART_ROWS).collect())
            .unwrap_or_default()
    }
}

/// A small line of the mood (0–10) over the check-ins, oldest to newest, as SVG with its text
/// alternative (flagged check-ins in red); the table beside it has the same values.
pub(super) fn sparkline(lines: &[CheckinLine]) -> String {
    if lines.len() < 2 {
        return String::new();
    }
    let (w, h, left, pad) = (360.0_f64, 96.0_f64, 22.0_f64, 8.0_f64);
    let n = lines.len() as f64;
    let x = |i: usize| left + (w - left - pad) * (i as f64) / (n - 1.0);
    let y = |m: u8| pad + (h - 2.0 * pad) * (1.0 - f64::from(m) / 10.0);
    let grid: String = [0u8, 5, 10]
        .iter()
        .map(|m| {
            format!(
                r##"<line x1="{left}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="#d0d7de" stroke-dasharray="3 3"/><text x="{tx:.1}" y="{ty:.1}" font-size="10" text-anchor="end" fill="#57606a">{m}</text>"##,
                y = y(*m),
                x2 = w - pad,
                tx = left - 4.0,
                ty = y(*m) + 3.5,
            )
        })
        .collect();
    let points: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{:.1},{:.1}", x(i), y(l.mood.value())))
        .collect();
    let dots: String = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (r, fill) = if l.flagged() {
                (4.5, "#b3261e")
            } else {
                (3.0, "#1f5f99")
            };
            format!(
                r##"<circle cx="{:.1}" cy="{:.1}" r="{r}" fill="{fill}"/>"##,
                x(i),
                y(l.mood.value())
            )
        })
        .collect();
    let values: Vec<String> = lines.iter().map(|l| l.mood.value().to_string()).collect();
    format!(
        r##"<svg class="sparkline" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-label="Mood over {} check-ins, oldest to newest: {}">{grid}<polyline points="{}" fill="none" stroke="#1f5f99" stroke-width="2"/>{dots}</svg>"##,
        lines.len(),
        values.join(", "),
        points.join(" "),
    )
}

/// The chart's check-ins panel.
pub fn section<'a>(
    st: &'a AppState,
    staff: &'a Staff,
    patient: Option<Uuid>,
    returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move {
        let Some(patient) = patient else {
            return Ok(None);
        };
        let may_read = staff.may(Action::ReadCheckins);
        let may_send = staff.may(Action::SendCheckin);
        if !may_read && !may_send {
            return Ok(None);
        }
        let clinic = staff.clinic_id();
        let lines = if may_read {
            Some(
                st.store
                    .checkin_lines_of_patient(&staff.actor(), clinic, patient)
                    .await?,
            )
        } else {
            None
        };
        let (links, schedules) = if may_send {
            (
                st.store.checkin_links_of(clinic, patient).await?,
                st.store.checkin_schedules_of(clinic, patient).await?,
            )
        } else {
            (vec![], vec![])
        };
        let default_days = st.store.checkin_settings(clinic).await?.link_valid_days;
        fragment(&Panel {
            patient_id: patient,
            csrf: staff.csrf_token().to_owned(),
            tz: staff.tz,
            sparkline: lines.as_deref().map(sparkline).unwrap_or_default(),
            lines,
            may_send,
            links,
            schedules,
            instruments: attachable(),
            default_days,
            returned,
        })
        .map(Some)
    })
}

#[derive(Template)]
#[template(path = "checkin/_home.html")]
struct HomePart {
    count: i64,
    flagged: Vec<CheckinLine>,
    tz: TimeZone,
}

impl HomePart {
    fn when(&self, l: &CheckinLine) -> String {
        self.tz.format(&l.submitted_at)
    }
}

/// The home page's check-ins: how many wait to be seen, and the flagged ones.
pub fn home_section<'a>(
    st: &'a AppState,
    staff: &'a Staff,
    _patient: Option<Uuid>,
    _returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move {
        if !staff.may(Action::ReadCheckins) {
            return Ok(None);
        }
        let u = st
            .store
            .unseen_checkins(&staff.actor(), staff.clinic_id())
            .await?;
        fragment(&HomePart {
            count: u.count,
            flagged: u.flagged,
            tz: staff.tz,
        })
        .map(Some)
    })
}

#[derive(serde::Deserialize)]
pub(super) struct SendForm {
    #[serde(default)]
    instrument: String,
    #[serde(default)]
    valid_days: String,
}

async fn back_to_chart(
    st: &AppState,
    staff: &Staff,
    patient: Uuid,
    form: &'static str,
    values: Vec<(String, String)>,
    errors: FieldErrors,
) -> AppResult<Response> {
    crate::patients::pages::chart_page(
        st,
        staff,
        patient,
        None,
        Returned::form(form, values, errors),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub(super) async fn send(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SendForm>,
) -> AppResult<Response> {
    let patient = parse_id(&id)?;
    let mut errors = FieldErrors::new();
    let instrument = errors.check("instrument", parse_instrument(&form.instrument));
    let days = errors.check(
        "valid_days",
        form.valid_days
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|d| VALID_DAYS.contains(d))
            .ok_or_else(|| {
                format!(
                    "Enter how many days the link stays valid, from {} to {}.",
                    VALID_DAYS.start(),
                    VALID_DAYS.end()
                )
            }),
    );
    let (Some(instrument), Some(valid_days)) = (instrument, days) else {
        return back_to_chart(
            &st,
            &staff,
            patient,
            SEND,
            vec![
                ("instrument".into(), form.instrument),
                ("valid_days".into(), form.valid_days),
            ],
            errors,
        )
        .await;
    };
    st.store
        .create_checkin_link(
            &staff.actor(),
            NewCheckinLink {
                clinic_id: staff.clinic_id(),
                patient_id: patient,
                instrument,
                valid_days,
                public_url: &st.config.public_url,
                email_enabled: st.config.email_enabled,
            },
        )
        .await?;
    Ok(see_other(&format!(
        "/patients/{patient}?notice=checkin-link-sent#checkins"
    )))
}

#[derive(serde::Deserialize)]
pub(super) struct ScheduleForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    instrument: String,
}

pub(super) async fn add_schedule(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ScheduleForm>,
) -> AppResult<Response> {
    let patient = parse_id(&id)?;
    let problem = match parse_schedule(&form.kind, &form.days, &form.instrument) {
        Ok(s) => match st
            .store
            .add_checkin_schedule(&staff.actor(), staff.clinic_id(), patient, &s)
            .await
        {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/patients/{patient}?notice=saved#checkins"
                )));
            }
            Err(StoreError::Conflict(Conflict::ScheduleExists(_))) => FieldErrors::single(
                "kind",
                "This patient already has an active check-in schedule of this kind. Stop it first to change it.",
            ),
            Err(e) => return Err(e.into()),
        },
        Err(e) => e,
    };
    back_to_chart(
        &st,
        &staff,
        patient,
        SCHEDULE,
        vec![
            ("kind".into(), form.kind),
            ("days".into(), form.days),
            ("instrument".into(), form.instrument),
        ],
        problem,
    )
    .await
}

pub(super) async fn stop_schedule(
    State(st): State<AppState>,
    staff: Staff,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    parse_id(&id)?;
    let sid = parse_id(&sid)?;
    let patient = st
        .store
        .stop_checkin_schedule(&staff.actor(), staff.clinic_id(), sid)
        .await?;
    Ok(see_other(&format!(
        "/patients/{patient}?notice=saved#checkins"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kap_domain::checkin::Mood;

    fn line(mood: u8, alerts: i32) -> CheckinLine {
        CheckinLine {
            id: Uuid::nil(),
            patient_id: Uuid::nil(),
            patient_name: "P".into(),
            submitted_at: chrono::DateTime::UNIX_EPOCH,
            mood: Mood::new(mood).unwrap_or_else(|| unreachable!()),
            side_effects: vec![],
            alerts,
            top_severity: None,
            seen: false,
            questionnaire: None,
            questionnaire_total: None,
        }
    }

    #[test]
    fn the_mood_line_says_its_values_and_marks_flagged_checkins() {
        assert_eq!(sparkline(&[line(5, 0)]), "", "one point is no line");
        let svg = sparkline(&[line(3, 0), line(5, 1), line(7, 0)]);
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("Mood over 3 check-ins, oldest to newest: 3, 5, 7"));
        assert_eq!(svg.matches("#b3261e").count(), 1, "one flagged check-in");
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(!svg.contains("style="), "no inline style (CSP)");
    }
}
