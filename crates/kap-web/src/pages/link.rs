//! The patient's side: a questionnaire opened from a single-use, expiring link on a phone, with
//! no account and no JavaScript. The page shows nothing about the patient but the questions;
//! an answer that signals risk is stored with its alert before the patient sees the reply, and
//! the reply then shows the clinic's crisis resources at once.

use crate::AppState;
use crate::auth::ClientAddr;
use crate::error::{AppError, AppResult};
use crate::pages::measure::parse_answers;
use crate::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::audit::AuditAction;
use kap_domain::instruments::{self, Instrument, ResponseContext};
use kap_store::Actor;
use kap_store::audit::Subject;
use kap_store::measure::Link;
use std::collections::BTreeMap;

#[derive(Template)]
#[template(path = "link_form.html")]
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
#[template(path = "link_done.html")]
struct DonePage {
    shell: Shell,
    clinic_name: String,
    crisis_resources: String,
    urgent: bool,
}

#[derive(Template)]
#[template(path = "link_gone.html")]
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

async fn live_link(st: &AppState, token: &str) -> AppResult<Option<(Link, &'static Instrument)>> {
    if token.len() != 48 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(link) = st.store.link_by_token(token).await? else {
        return Ok(None);
    };
    if !link.usable(kap_store::now()) {
        return Ok(None);
    }
    Ok(instruments::by_code(&link.instrument).map(|i| (link, i)))
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
    let Some((link, ins)) = live_link(&st, &token).await? else {
        return Ok(gone());
    };
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
    let Some((link, ins)) = live_link(&st, &token).await? else {
        return Ok(gone());
    };
    let clinic = st.store.clinic(link.clinic_id).await?;
    let chosen: BTreeMap<String, i32> = fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("item_")?.to_owned(), v.parse().ok()?)))
        .collect();
    let (answers, scored) = match parse_answers(ins, &fields) {
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
    // An answer that signals risk is kept at once, complete or not: it must reach a clinician.
    if !scored.complete && !send_anyway && scored.flags.is_empty() {
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
    let context = ResponseContext::parse(&link.context).unwrap_or(ResponseContext::BetweenSessions);
    let actor = Actor::visitor(link.clinic_id, addr);
    match st
        .store
        .record_response(
            &actor,
            link.clinic_id,
            link.patient_id,
            ins,
            context,
            "patient_link",
            &answers,
            &scored,
            Some(link.id),
        )
        .await
    {
        Ok(_) => {}
        Err(kap_store::StoreError::Conflict(_)) => return Ok(gone()),
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
