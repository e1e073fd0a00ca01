//! The measurement part of a patient's chart: safety alerts, each questionnaire's trajectory
//! (for clinicians) or which questionnaires were done (for coordinators), links sent and
//! schedules — rendered here and placed into the chart page by the patients capability.

use super::svg::{ChartPoint, TrajectoryChart, trajectory_svg};
use crate::AppState;
use crate::http::Staff;
use crate::http::error::AppResult;
use crate::http::sections::{Returned, SectionFuture};
use crate::http::view::fragment;
use askama::Template;
use kap_domain::instruments::outcome::{Outcome, outcome_of};
use kap_domain::instruments::{self, Answers, Instrument, ResponseContext};
use kap_domain::measure::{LinkState, MeasurementSettings, QuestionnaireResponse, Schedule};
use kap_domain::permission::Action;
use kap_domain::time::TimeZone;
use std::collections::BTreeMap;
use uuid::Uuid;

/// One instrument's trajectory on the chart.
pub struct Trajectory {
    pub instrument: &'static Instrument,
    pub svg: String,
    pub rows: Vec<TrajectoryRow>,
    pub outcome: Option<Outcome>,
}

pub struct TrajectoryRow {
    pub id: Uuid,
    pub when: String,
    pub context: &'static str,
    pub total: String,
    pub band: String,
    pub complete: bool,
    pub source: &'static str,
    pub by: String,
    pub answers: Vec<(String, String)>,
}

/// The label a response shows: its band, or for a screen its result.
fn result_label(r: &QuestionnaireResponse) -> String {
    r.band
        .clone()
        .or_else(|| r.screen.clone())
        .unwrap_or_default()
}

/// Each answered item as "short name" → "value — label".
fn answer_rows(ins: &Instrument, answers: Option<&Answers>) -> Vec<(String, String)> {
    let Some(a) = answers else { return vec![] };
    ins.items
        .iter()
        .filter_map(|item| {
            let v = a.get(item.id)?;
            let label = item
                .options
                .iter()
                .find(|o| o.value == *v)
                .map_or("", |o| o.label);
            Some((item.short.to_owned(), format!("{v} — {label}")))
        })
        .collect()
}

/// Builds the per-instrument trajectories from a patient's responses (oldest first).
pub fn trajectories(
    responses: &[QuestionnaireResponse],
    answers: &BTreeMap<Uuid, Answers>,
    settings: &MeasurementSettings,
    tz: TimeZone,
) -> Vec<Trajectory> {
    let mut out = vec![];
    for ins in instruments::ALL.iter().copied() {
        let mine: Vec<&QuestionnaireResponse> = responses
            .iter()
            .filter(|r| r.instrument.code == ins.code)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let points: Vec<ChartPoint> = mine
            .iter()
            .map(|r| ChartPoint {
                at: r.answered_at,
                total: r.total,
                label: result_label(r),
            })
            .collect();
        let complete: Vec<i32> = mine.iter().filter_map(|r| r.total).collect();
        let outcome = outcome_of(&complete, &settings.rules_for(ins.code));
        let svg = if ins.max_total > 0 {
            trajectory_svg(&TrajectoryChart {
                title: ins.name,
                max_total: ins.max_total,
                bands: ins.bands,
                points: &points,
            })
        } else {
            String::new()
        };
        let rows = mine
            .iter()
            .rev()
            .map(|r| TrajectoryRow {
                id: r.id,
                when: tz.format(&r.answered_at),
                context: r.context.label(),
                total: match (r.total, r.complete) {
                    (Some(t), _) => t.to_string(),
                    (None, true) => String::new(),
                    (None, false) => "incomplete".into(),
                },
                band: result_label(r),
                complete: r.complete,
                source: r.source.label(),
                by: r.entered_by_name.clone().unwrap_or_default(),
                answers: answer_rows(ins, answers.get(&r.id)),
            })
            .collect();
        out.push(Trajectory {
            instrument: ins,
            svg,
            rows,
            outcome,
        });
    }
    out
}

/// The form adding a schedule.
pub(super) const SCHEDULE: &str = "schedule";

#[derive(Template)]
#[template(path = "measure/_chart.html")]
struct ChartPart<'a> {
    patient_id: Uuid,
    csrf: String,
    alerts: Option<String>,
    trajectories: Option<Vec<Trajectory>>,
    /// For roles that may not read answers: which questionnaires were done, when.
    statuses: Vec<(&'static str, String, bool)>,
    links: Vec<(&'static str, String, String)>,
    schedules: Vec<Schedule>,
    may_send: bool,
    may_enter: bool,
    sendable: Vec<(&'static str, &'static str)>,
    enterable: Vec<(&'static str, &'static str)>,
    contexts: Vec<(&'static str, &'static str)>,
    /// A form of this part that came back with problems.
    returned: &'a Returned,
}

impl ChartPart<'_> {
    /// What was typed into the schedule form's field, or `default`.
    fn schedule_value(&self, field: &str, default: &str) -> String {
        self.returned.value(SCHEDULE, None, field, default)
    }

    fn schedule_error(&self, field: &str) -> Option<String> {
        self.returned.error(SCHEDULE, None, field)
    }

    /// The rhythms a schedule may have: every N days, or before each session of a kind.
    fn rhythms(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("every", "every N days".to_owned())];
        out.extend(kap_domain::protocol::SessionKind::ALL.iter().map(|k| {
            (
                k.as_str(),
                format!("before each {} session", k.label().to_lowercase()),
            )
        }));
        out
    }

    /// "before each dosing session (24 h before)".
    fn before_words(&self, kind: &str, hours: &Option<i32>) -> String {
        let label = kap_domain::protocol::SessionKind::from_code(kind)
            .map_or(kind.to_owned(), |k| k.label().to_lowercase());
        match hours {
            Some(h) => format!("before each {label} session ({h} h before)"),
            None => format!("before each {label} session"),
        }
    }
}

/// The chart's measurement part: a section of the patient's chart.
pub fn section<'a>(
    st: &'a AppState,
    staff: &'a Staff,
    patient: Option<Uuid>,
    returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move {
        match patient {
            Some(id) => chart_part(st, staff, id, returned).await,
            None => Ok(None),
        }
    })
}

/// The chart's measurement part, as the viewer's role allows.
async fn chart_part(
    st: &AppState,
    staff: &Staff,
    id: Uuid,
    returned: &Returned,
) -> AppResult<Option<String>> {
    let clinic = staff.clinic_id();
    let settings = st.store.measurement_settings(clinic).await?;
    let alerts = super::alerts::chart_part(st, staff, id, &settings, returned).await?;
    let may_send = staff.may(Action::SendQuestionnaire);
    let (trajectories, statuses) = if staff.may(Action::ReadResponses) {
        let (responses, answers) = st.store.responses_of(&staff.actor(), clinic, id).await?;
        (
            Some(trajectories(&responses, &answers, &settings, staff.tz)),
            vec![],
        )
    } else if may_send {
        let s = st.store.response_status_of(clinic, id).await?;
        let done = s
            .into_iter()
            .map(|(ins, at, complete)| (ins.name, staff.tz.format(&at), complete))
            .collect();
        (None, done)
    } else {
        (None, vec![])
    };
    let now = kap_store::now();
    let (links, schedules) = if may_send {
        let links = st
            .store
            .links_of(clinic, id)
            .await?
            .into_iter()
            .map(|l| {
                let state = match l.state(now) {
                    LinkState::Answered(u) => format!("answered {}", staff.tz.format(&u)),
                    LinkState::ExpiredUnanswered => "expired unanswered".to_owned(),
                    LinkState::Waiting { expires_at } => {
                        format!("waiting, expires {}", staff.tz.format(&expires_at))
                    }
                };
                (l.instrument.name, staff.tz.format(&l.created_at), state)
            })
            .collect();
        (links, st.store.schedules_of(clinic, id).await?)
    } else {
        (vec![], vec![])
    };
    fragment(&ChartPart {
        patient_id: id,
        csrf: staff.csrf_token().to_owned(),
        alerts,
        trajectories,
        statuses,
        links,
        schedules,
        may_send,
        may_enter: staff.may(Action::EnterResponse),
        sendable: instruments::ALL
            .iter()
            .filter(|i| i.has_item_text())
            .map(|i| (i.code, i.name))
            .collect(),
        enterable: instruments::ALL.iter().map(|i| (i.code, i.name)).collect(),
        contexts: ResponseContext::ALL
            .iter()
            .map(|c| (c.as_str(), c.label()))
            .collect(),
        returned,
    })
    .map(Some)
}
