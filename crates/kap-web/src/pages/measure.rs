//! Measurement-based care on the staff side: entering responses, sending patient links,
//! questionnaire schedules, trajectories on the chart, safety alerts and their acknowledgment,
//! and the outbox.

use crate::AppState;
use crate::auth::Staff;
use crate::chart::{ChartPoint, TrajectoryChart, trajectory_svg};
use crate::csrf::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{parse_id, see_other};
use crate::view::{Shell, render, when};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::instruments::outcome::{Outcome, outcome_of};
use kap_domain::instruments::{
    self, Answers, Instrument, ResponseContext, Scored, answers_from_fields, is_shown, score,
};
use kap_domain::permission::Action;
use kap_domain::person::Message;
use kap_store::measure::{Alert, LinkMessage, Protocol, Response as StoredResponse};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Drops answers to items that were not asked (an ASQ acuity answer after four "no"s, say):
/// a form without JavaScript shows every item, and such an answer carries no meaning.
pub fn asked_only(ins: &Instrument, mut answers: Answers) -> Answers {
    let snapshot = answers.clone();
    answers.retain(|id, _| ins.item(id).is_some_and(|item| is_shown(item, &snapshot)));
    answers
}

/// Parses a submitted form into answers for `ins`, as the domain defines them.
pub fn parse_answers(
    ins: &Instrument,
    fields: &[(String, String)],
) -> Result<(Answers, Scored), String> {
    let answers = answers_from_fields(ins, fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| e.to_string())?;
    let answers = asked_only(ins, answers);
    let scored = score(ins, &answers).map_err(|e| e.to_string())?;
    Ok((answers, scored))
}

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
    pub context: String,
    pub total: String,
    pub band: String,
    pub complete: bool,
    pub source: String,
    pub by: String,
    pub answers: Vec<(String, String)>,
}

/// Builds the per-instrument trajectories from a patient's responses (oldest first).
pub fn trajectories(
    responses: &[StoredResponse],
    answers: &BTreeMap<Uuid, Answers>,
    protocol: &Protocol,
) -> Vec<Trajectory> {
    let mut out = vec![];
    for ins in instruments::ALL.iter().copied() {
        let mine: Vec<&StoredResponse> = responses
            .iter()
            .filter(|r| r.instrument == ins.code)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let points: Vec<ChartPoint> = mine
            .iter()
            .map(|r| ChartPoint {
                at: r.answered_at,
                total: r.total,
                label: r
                    .band
                    .clone()
                    .or_else(|| r.screen.clone())
                    .unwrap_or_default(),
            })
            .collect();
        let complete: Vec<i32> = mine.iter().filter_map(|r| r.total).collect();
        let outcome = outcome_of(&complete, &protocol.rules_for(ins.code));
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
                when: when(&r.answered_at),
                context: ResponseContext::parse(&r.context)
                    .map(|c| c.label())
                    .unwrap_or("")
                    .to_owned(),
                total: r.total.map(|t| t.to_string()).unwrap_or_else(|| {
                    if r.complete {
                        String::new()
                    } else {
                        "incomplete".into()
                    }
                }),
                band: r
                    .band
                    .clone()
                    .or_else(|| r.screen.clone())
                    .unwrap_or_default(),
                complete: r.complete,
                source: match r.source.as_str() {
                    "patient_link" => "patient (link)".into(),
                    "api" => "integration".into(),
                    _ => "staff entry".into(),
                },
                by: r.entered_by_name.clone().unwrap_or_default(),
                answers: answers
                    .get(&r.id)
                    .map(|a| {
                        ins.items
                            .iter()
                            .filter_map(|item| {
                                a.get(item.id).map(|v| {
                                    let label = item
                                        .options
                                        .iter()
                                        .find(|o| o.value == *v)
                                        .map(|o| o.label)
                                        .unwrap_or("");
                                    (item.short.to_owned(), format!("{v} — {label}"))
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
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

/// Whether an open alert has waited longer than the clinic's escalation time.
pub fn escalated(a: &Alert, protocol: &Protocol) -> bool {
    a.status == "open"
        && chrono::Utc::now() - a.raised_at
            > chrono::Duration::minutes(i64::from(protocol.alert_escalation_minutes))
}

pub struct AlertView {
    pub alert: Alert,
    pub escalated: bool,
    pub raised: String,
    pub acknowledged: String,
}

pub fn alert_views(alerts: Vec<Alert>, protocol: &Protocol) -> Vec<AlertView> {
    alerts
        .into_iter()
        .map(|a| AlertView {
            escalated: escalated(&a, protocol),
            raised: when(&a.raised_at),
            acknowledged: a.acknowledged_at.as_ref().map(when).unwrap_or_default(),
            alert: a,
        })
        .collect()
}

// ---- entering a response ----

#[derive(Template)]
#[template(path = "response_form.html")]
struct EntryPage {
    shell: Shell,
    patient_id: Uuid,
    patient_name: String,
    instrument: &'static Instrument,
    contexts: Vec<(&'static str, &'static str)>,
    context: String,
    chosen: BTreeMap<String, i32>,
    problem: Option<String>,
}

impl EntryPage {
    fn is_chosen(&self, item: &str, value: &i32) -> bool {
        self.chosen.get(item) == Some(value)
    }
}

#[derive(serde::Deserialize)]
pub struct EntryQuery {
    instrument: Option<String>,
}

fn instrument(code: &str) -> AppResult<&'static Instrument> {
    instruments::by_code(code.trim()).ok_or(AppError::NotFound)
}

pub async fn entry_form(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<EntryQuery>,
) -> AppResult<Response> {
    staff.require(Action::EnterResponse)?;
    let id = parse_id(&id)?;
    let ins = instrument(q.instrument.as_deref().unwrap_or("phq9"))?;
    let (patient, _) = st
        .store
        .patient(&staff.actor(), staff.clinic_id(), id)
        .await?;
    Ok(render(
        &entry_page(
            &staff,
            id,
            patient.full_name,
            ins,
            "between_sessions".into(),
            BTreeMap::new(),
            None,
        ),
        StatusCode::OK,
    ))
}

fn entry_page(
    staff: &Staff,
    patient_id: Uuid,
    patient_name: String,
    ins: &'static Instrument,
    context: String,
    chosen: BTreeMap<String, i32>,
    problem: Option<String>,
) -> EntryPage {
    EntryPage {
        shell: Shell::staff(
            staff,
            format!("{} for {patient_name}", ins.name),
            "patients",
        ),
        patient_id,
        patient_name,
        instrument: ins,
        contexts: ResponseContext::ALL
            .iter()
            .map(|c| (c.as_str(), c.label()))
            .collect(),
        context,
        chosen,
        problem,
    }
}

pub async fn entry_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    staff.require(Action::EnterResponse)?;
    let id = parse_id(&id)?;
    let get = |k: &str| {
        fields
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let ins = instrument(get("instrument"))?;
    let context = ResponseContext::parse(get("context"));
    let parsed = parse_answers(ins, &fields);
    let chosen: BTreeMap<String, i32> = fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("item_")?.to_owned(), v.parse().ok()?)))
        .collect();
    let (Some(context), Ok((answers, scored))) = (context, parsed.clone()) else {
        let (patient, _) = st
            .store
            .patient(&staff.actor(), staff.clinic_id(), id)
            .await?;
        let problem = parsed
            .err()
            .unwrap_or_else(|| "Please choose when this was answered.".into());
        return Ok(render(
            &entry_page(
                &staff,
                id,
                patient.full_name,
                ins,
                get("context").into(),
                chosen,
                Some(problem),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    };
    if answers.is_empty() {
        let (patient, _) = st
            .store
            .patient(&staff.actor(), staff.clinic_id(), id)
            .await?;
        return Ok(render(
            &entry_page(
                &staff,
                id,
                patient.full_name,
                ins,
                context.as_str().into(),
                chosen,
                Some("No answers were entered.".into()),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    st.store
        .record_response(
            &staff.actor(),
            staff.clinic_id(),
            id,
            ins,
            context,
            "staff",
            &answers,
            &scored,
            None,
        )
        .await?;
    Ok(see_other(&format!(
        "/patients/{id}?notice=response-saved#questionnaires"
    )))
}

// ---- sending a link ----

#[derive(serde::Deserialize)]
pub struct SendForm {
    #[serde(default)]
    instrument: String,
    #[serde(default)]
    context: String,
}

/// The message a patient receives with their link.
pub fn link_message(clinic_name: &str, ins: &Instrument) -> LinkMessage {
    let clinic = clinic_name.to_owned();
    let name = ins.name.to_owned();
    LinkMessage {
        subject: format!("{clinic}: a short questionnaire for you"),
        body_with_url: Box::new(move |url| {
            format!(
                "Hello,\n\nYour care team at {clinic} asks you to fill in a short questionnaire ({name}). It takes a few minutes:\n\n{url}\n\nThe link works once and expires after a few days. If you did not expect this message, please call the clinic.\n"
            )
        }),
    }
}

pub async fn send_link(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SendForm>,
) -> AppResult<Response> {
    staff.require(Action::SendQuestionnaire)?;
    let id = parse_id(&id)?;
    let ins = instrument(&form.instrument)?;
    if !ins.has_item_text() {
        return Err(AppError::Conflict(format!(
            "{} is rated by a clinician; it cannot be sent to a patient.",
            ins.name
        )));
    }
    let context = ResponseContext::parse(&form.context).unwrap_or(ResponseContext::BetweenSessions);
    let protocol = st.store.protocol(staff.clinic_id()).await?;
    let clinic = st.store.clinic(staff.clinic_id()).await?;
    let base = st.config.public_url.clone();
    let url_for = move |token: &str| format!("{base}/p/{token}");
    st.store
        .create_link(
            &staff.actor(),
            staff.clinic_id(),
            id,
            ins,
            context,
            chrono::Duration::hours(i64::from(protocol.link_valid_hours)),
            &link_message(&clinic.name, ins),
            &url_for,
            st.config.email_enabled,
        )
        .await?;
    Ok(see_other(&format!(
        "/patients/{id}?notice=link-sent#questionnaires"
    )))
}

// ---- schedules ----

#[derive(serde::Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    instrument: String,
    #[serde(default)]
    every_days: String,
}

pub async fn add_schedule(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ScheduleForm>,
) -> AppResult<Response> {
    staff.require(Action::SendQuestionnaire)?;
    let id = parse_id(&id)?;
    let ins = instrument(&form.instrument)?;
    if !ins.has_item_text() {
        return Err(AppError::Conflict(format!(
            "{} is rated by a clinician; it cannot be scheduled for a patient.",
            ins.name
        )));
    }
    let days: i32 = match form.every_days.trim().parse() {
        Ok(d) if (1..=365).contains(&d) => d,
        _ => {
            return Err(AppError::Invalid(FieldErrors::single(
                "every_days",
                "Enter a number of days from 1 to 365.",
            )));
        }
    };
    st.store
        .add_schedule(&staff.actor(), staff.clinic_id(), id, ins, Some(days), None)
        .await?;
    Ok(see_other(&format!(
        "/patients/{id}?notice=saved#questionnaires"
    )))
}

pub async fn stop_schedule(
    State(st): State<AppState>,
    staff: Staff,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<crate::pages::Empty>,
) -> AppResult<Response> {
    staff.require(Action::SendQuestionnaire)?;
    let id = parse_id(&id)?;
    let sid = parse_id(&sid)?;
    st.store
        .stop_schedule(&staff.actor(), staff.clinic_id(), sid)
        .await?;
    Ok(see_other(&format!(
        "/patients/{id}?notice=saved#questionnaires"
    )))
}

// ---- alerts ----

#[derive(serde::Deserialize)]
pub struct AckForm {
    #[serde(default)]
    action_note: String,
    #[serde(default)]
    back: String,
}

pub async fn acknowledge(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AckForm>,
) -> AppResult<Response> {
    staff.require(Action::HandleAlerts)?;
    let id = parse_id(&id)?;
    let note = Message::parse(&form.action_note).map_err(|_| {
        AppError::Invalid(FieldErrors::single(
            "action_note",
            "Describe what you did about this alert (the action note is required).",
        ))
    })?;
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

// ---- outbox ----

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    shell: Shell,
    messages: Vec<OutboxRow>,
    overdue: Vec<(Uuid, String, String, String)>,
}

struct OutboxRow {
    when: String,
    patient: String,
    patient_id: Option<Uuid>,
    to: String,
    subject: String,
    body: String,
    status: String,
}

pub async fn outbox(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    staff.require(Action::ReadOutbox)?;
    let msgs = st.store.outbox(&staff.actor(), staff.clinic_id()).await?;
    let overdue = st
        .store
        .overdue_links(staff.clinic_id(), 30)
        .await?
        .into_iter()
        .map(|(pid, name, ins, at)| {
            (
                pid,
                name,
                instruments::by_code(&ins)
                    .map(|i| i.name)
                    .unwrap_or("?")
                    .to_owned(),
                when(&at),
            )
        })
        .collect();
    Ok(render(
        &OutboxPage {
            shell: Shell::staff(&staff, "Outbox", "outbox"),
            messages: msgs
                .into_iter()
                .map(|m| OutboxRow {
                    when: when(&m.created_at),
                    patient: m.patient_name.unwrap_or_default(),
                    patient_id: m.patient_id,
                    to: m.to_address.unwrap_or_else(|| "no email on file".into()),
                    subject: m.subject,
                    body: m.body,
                    status: m.status,
                })
                .collect(),
            overdue,
        },
        StatusCode::OK,
    ))
}
