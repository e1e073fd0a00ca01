//! The patient's side: a questionnaire opened from a single-use, expiring link on a phone, with
//! no account and no JavaScript. The page shows nothing about the patient but the questions;
//! an answer that signals risk is stored with its alert before the patient sees the reply, and
//! the reply then shows the clinic's crisis resources at once.

use crate::AppState;
use crate::http::auth::ClientAddr;
use crate::http::error::{AppError, AppResult};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::instruments::{self, Instrument, answers_and_score, must_ask_again};
use kap_domain::measure::{Link, ResponseSource};
use kap_store::measure::response::NewResponse;
use kap_store::{Conflict, StoreError};
use std::collections::BTreeMap;

#[derive(Template)]
#[template(path = "public/link_form.html")]
struct FormPage {
    shell: Shell,
    token: String,
    clinic_name: String,
    instrument: &'static Instrument,
    chosen: BTreeMap<String, i32>,
    missing: Vec<String>,
    problem: Option<String>,
}

impl FormPage {
    fn is_chosen(&self, item: &str, value: &i32) -> bool {
        self.chosen.get(item) == Some(value)
    }
    fn is_missing(&self, item: &str) -> bool {
        self.missing
            .iter()
            .any(|m| m == item || m.split('|').any(|x| x == item))
    }
}

#[derive(Template)]
#[template(path = "public/link_done.html")]
struct DonePage {
    shell: Shell,
    clinic_name: String,
    crisis_resources: String,
    urgent: bool,
}

#[derive(Template)]
#[template(path = "public/link_gone.html")]
struct GonePage {
    shell: Shell,
}

fn gone() -> Response {
    render(
        &GonePage {
            shell: Shell::public("This link cannot be used", String::new()),
        },
        StatusCode::GONE,
    )
}

async fn live_link(st: &AppState, token: &str) -> AppResult<Option<Link>> {
    if token.len() != 48 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(st
        .store
        .link_by_token(token)
        .await?
        .filter(|l| l.usable(kap_store::now())))
}

fn form_page(
    token: &str,
    clinic_name: String,
    ins: &'static Instrument,
    chosen: BTreeMap<String, i32>,
    missing: Vec<String>,
    problem: Option<String>,
    status: StatusCode,
) -> Response {
    render(
        &FormPage {
            // Patient pages post with the link's own token as proof; no cookie is involved.
            shell: Shell::public(ins.name, String::new()),
            token: token.to_owned(),
            clinic_name,
            instrument: ins,
            chosen,
            missing,
            problem,
        },
        status,
    )
}

pub async fn show(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(link) = live_link(&st, &token).await? else {
        return Ok(gone());
    };
    let ins = link.instrument;
    let clinic = st.store.clinic(link.clinic_id).await?;
    st.store
        .audit_only(
            &Actor::visitor(link.clinic_id, addr),
            AuditAction::LinkOpened,
            Subject::patient(link.patient_id).with_detail(format!("link {}", link.id)),
        )
        .await?;
    Ok(form_page(
        &token,
        clinic.name,
        ins,
        BTreeMap::new(),
        vec![],
        None,
        StatusCode::OK,
    ))
}

pub async fn submit(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(token): Path<String>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let Some(link) = live_link(&st, &token).await? else {
        return Ok(gone());
    };
    let ins = link.instrument;
    let clinic = st.store.clinic(link.clinic_id).await?;
    let chosen: BTreeMap<String, i32> = fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("item_")?.to_owned(), v.parse().ok()?)))
        .collect();
    let (answers, scored) =
        match answers_and_score(ins, fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            Ok(x) => x,
            Err(_) => {
                return Ok(form_page(
                &token,
                clinic.name,
                ins,
                chosen,
                vec![],
                Some(
                    "One of the answers could not be read. Please choose from the options shown."
                        .into(),
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
            }
        };
    let send_anyway = fields.iter().any(|(k, _)| k == "send_incomplete");
    if must_ask_again(&scored, send_anyway) {
        let n = scored.missing.len();
        let problem = format!(
            "{n} question{} still need{} an answer. Please answer {}, or send your answers as they are.",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" },
            if n == 1 { "it" } else { "them" }
        );
        return Ok(form_page(
            &token,
            clinic.name,
            ins,
            chosen,
            scored.missing.clone(),
            Some(problem),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let actor = Actor::visitor(link.clinic_id, addr);
    let recorded = st
        .store
        .record_response(
            &actor,
            NewResponse {
                clinic_id: link.clinic_id,
                patient_id: link.patient_id,
                instrument: ins,
                context: link.context,
                source: ResponseSource::PatientLink,
                answers: &answers,
                scored: &scored,
                link: Some(link.id),
                answered_at: kap_store::now(),
            },
        )
        .await;
    match recorded {
        Ok(_) => {}
        Err(StoreError::Conflict(Conflict::LinkSpent)) => return Ok(gone()),
        Err(e) => return Err(AppError::from(e)),
    }
    Ok(render(
        &DonePage {
            shell: Shell::public("Thank you", String::new()),
            clinic_name: clinic.name,
            crisis_resources: clinic.crisis_resources,
            urgent: !scored.flags.is_empty(),
        },
        StatusCode::OK,
    ))
}
