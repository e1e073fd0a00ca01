//! A clinician entering a questionnaire response in the chart, including clinician-rated
//! scales (score entry only).

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::AppResult;
use crate::http::extract::{parse_id, see_other};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::instruments::{AnswerOption, Instrument, Item, ResponseContext, answers_and_score};
use kap_domain::measure::ResponseSource;
use kap_store::measure::response::NewResponse;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "measure/entry.html")]
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

    /// An option as staff read it: the value, and its words where they say more than the
    /// number ("2 — More than half the days"; MADRS's bare "4").
    fn option_text(&self, o: &AnswerOption) -> String {
        if o.label == o.value.to_string() {
            o.label.to_owned()
        } else {
            format!("{} — {}", o.value, o.label)
        }
    }

    /// Items whose option words are too long to sit side by side (MOAA/S) list them downwards.
    fn long_labels(&self, item: &Item) -> bool {
        item.options.iter().any(|o| o.label.len() > 28)
    }
}

#[derive(serde::Deserialize)]
pub(super) struct EntryQuery {
    instrument: Option<String>,
}

/// What the entry page shows besides the instrument.
struct Entry {
    context: String,
    chosen: BTreeMap<String, i32>,
    problem: Option<String>,
    status: StatusCode,
}

async fn entry_page(
    st: &AppState,
    staff: &Staff,
    patient_id: Uuid,
    ins: &'static Instrument,
    e: Entry,
) -> AppResult<Response> {
    let (patient, _) = st
        .store
        .patient(&staff.actor(), staff.clinic_id(), patient_id)
        .await?;
    let patient_name = patient.details.full_name.to_string();
    Ok(render(
        &EntryPage {
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
            context: e.context,
            chosen: e.chosen,
            problem: e.problem,
        },
        e.status,
    ))
}

pub(super) async fn form(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<EntryQuery>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let ins = super::instrument(q.instrument.as_deref().unwrap_or("phq9"))?;
    let e = Entry {
        context: ResponseContext::BetweenSessions.as_str().into(),
        chosen: BTreeMap::new(),
        problem: None,
        status: StatusCode::OK,
    };
    entry_page(&st, &staff, id, ins, e).await
}

pub(super) async fn submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let get = |k: &str| {
        fields
            .iter()
            .find(|(f, _)| f == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let ins = super::instrument(get("instrument"))?;
    let context = ResponseContext::from_code(get("context"));
    let parsed = answers_and_score(ins, fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| e.to_string());
    let chosen: BTreeMap<String, i32> = fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("item_")?.to_owned(), v.parse().ok()?)))
        .collect();
    let problem = match (&context, &parsed) {
        (_, Err(e)) => Some(e.clone()),
        (None, _) => Some("Please choose when this was answered.".to_owned()),
        (_, Ok((answers, _))) if answers.is_empty() => Some("No answers were entered.".into()),
        _ => None,
    };
    let (Some(context), Ok((answers, scored)), None) = (context, parsed, &problem) else {
        let e = Entry {
            context: get("context").into(),
            chosen,
            problem,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        };
        return entry_page(&st, &staff, id, ins, e).await;
    };
    st.store
        .record_response(
            &staff.actor(),
            NewResponse {
                clinic_id: staff.clinic_id(),
                patient_id: id,
                instrument: ins,
                context,
                source: ResponseSource::Staff,
                answers: &answers,
                scored: &scored,
                link: None,
                answered_at: kap_store::now(),
            },
        )
        .await?;
    Ok(see_other(&format!(
        "/patients/{id}?notice=response-saved#questionnaires"
    )))
}
