//! The patient's side: a questionnaire opened from a single-use, expiring link on a phone, with
//! no account and no JavaScript. The page shows nothing about the patient but the questions.
//! An answer that signals risk is stored with its alert before the patient sees the reply; the
//! reply is a redirect to a thank-you page that stays there for the link's validity — after a
//! reload or the back button too — with the clinic's crisis resources when the answers raised
//! an alert. A link that cannot be used any more still shows the clinic's crisis resources and
//! phone number: a patient may come back to an old link in distress.

use crate::AppState;
use crate::http::auth::ClientAddr;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::see_other;
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::instruments::{self, Instrument, answers_and_score, must_ask_again};
use kap_domain::measure::{Link, LinkPage, ResponseSource};
use kap_domain::staff::Clinic;
use kap_store::measure::response::NewResponse;
use kap_store::{Conflict, StoreError};
use std::collections::BTreeMap;

#[derive(Template)]
#[template(path = "public/link_form.html")]
struct FormPage {
    shell: Shell,
    token: String,
    clinic: Clinic,
    instrument: &'static Instrument,
    chosen: BTreeMap<String, i32>,
    /// The questions still unanswered (item ids; a group of items as "6|7").
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
    /// The unanswered questions as the summary lists them: anchor and question text.
    fn missing_questions(&self) -> Vec<(String, String)> {
        self.instrument
            .items
            .iter()
            .filter(|i| self.is_missing(i.id))
            .map(|i| (format!("q-{}", i.id), i.text.unwrap_or(i.short).to_owned()))
            .collect()
    }
}

#[derive(Template)]
#[template(path = "public/link_done.html")]
struct DonePage {
    shell: Shell,
    clinic: Clinic,
    urgent: bool,
}

#[derive(Template)]
#[template(path = "public/link_gone.html")]
struct GonePage {
    shell: Shell,
    clinic: Clinic,
}

/// "This link cannot be used" — with the crisis resources and phone number of the link's
/// clinic, or of the installation's first clinic when the link is unknown.
async fn gone(st: &AppState, link: Option<&Link>) -> AppResult<Response> {
    gone_page(st, link.map(|l| l.clinic_id)).await
}

/// The page of any patient link (questionnaire or consent) that cannot be used, with the
/// crisis resources and phone number of its clinic (or of the installation's first clinic when
/// the link is unknown).
pub(crate) async fn gone_page(st: &AppState, clinic: Option<uuid::Uuid>) -> AppResult<Response> {
    let clinic = match clinic {
        Some(c) => st.store.clinic(c).await?,
        None => st.store.default_clinic().await?,
    };
    Ok(render(
        &GonePage {
            shell: Shell::public("This link cannot be used", String::new()),
            clinic,
        },
        StatusCode::GONE,
    ))
}

/// The link behind a token, if the token is well formed and known.
async fn link_of(st: &AppState, token: &str) -> AppResult<Option<Link>> {
    if !well_formed(token) {
        return Ok(None);
    }
    Ok(st.store.link_by_token(token).await?)
}

/// Whether a patient link's token has the form Kapstone gives tokens (48 hex digits); others
/// are not looked up.
pub(crate) fn well_formed(token: &str) -> bool {
    token.len() == 48 && token.chars().all(|c| c.is_ascii_hexdigit())
}

fn done_url(token: &str) -> String {
    format!("/p/{token}/done")
}

struct Form<'a> {
    token: &'a str,
    chosen: BTreeMap<String, i32>,
    missing: Vec<String>,
    problem: Option<String>,
    status: StatusCode,
}

fn form_page(clinic: Clinic, ins: &'static Instrument, f: Form<'_>) -> Response {
    render(
        &FormPage {
            // Patient pages post with the link's own token as proof; no cookie is involved.
            shell: Shell::public(format!("{} · {}", ins.name, clinic.name), String::new()),
            token: f.token.to_owned(),
            clinic,
            instrument: ins,
            chosen: f.chosen,
            missing: f.missing,
            problem: f.problem,
        },
        f.status,
    )
}

pub async fn show(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(link) = link_of(&st, &token).await? else {
        return gone(&st, None).await;
    };
    match link.page(kap_store::now()) {
        LinkPage::Gone => return gone(&st, Some(&link)).await,
        LinkPage::Done => return Ok(see_other(&done_url(&token))),
        LinkPage::Form => {}
    }
    let clinic = st.store.clinic(link.clinic_id).await?;
    st.store
        .audit_only(
            &Actor::visitor(link.clinic_id, addr),
            AuditAction::LinkOpened,
            Subject::patient(link.patient_id).with_detail(format!("link {}", link.id)),
        )
        .await?;
    let form = Form {
        token: &token,
        chosen: BTreeMap::new(),
        missing: vec![],
        problem: None,
        status: StatusCode::OK,
    };
    Ok(form_page(clinic, link.instrument, form))
}

pub async fn submit(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(token): Path<String>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let Some(link) = link_of(&st, &token).await? else {
        return gone(&st, None).await;
    };
    match link.page(kap_store::now()) {
        LinkPage::Gone => return gone(&st, Some(&link)).await,
        // Sent already (another tab, a double tap): nothing more is stored.
        LinkPage::Done => return Ok(see_other(&done_url(&token))),
        LinkPage::Form => {}
    }
    let ins = link.instrument;
    let clinic = st.store.clinic(link.clinic_id).await?;
    let chosen: BTreeMap<String, i32> = fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("item_")?.to_owned(), v.parse().ok()?)))
        .collect();
    let parsed = answers_and_score(ins, fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let Ok((answers, scored)) = parsed else {
        let form = Form {
            token: &token,
            chosen,
            missing: vec![],
            problem: Some(
                "One of the answers could not be read. Please choose from the options shown."
                    .into(),
            ),
            status: StatusCode::UNPROCESSABLE_ENTITY,
        };
        return Ok(form_page(clinic, ins, form));
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
        let form = Form {
            token: &token,
            chosen,
            missing: scored.missing.clone(),
            problem: Some(problem),
            status: StatusCode::UNPROCESSABLE_ENTITY,
        };
        return Ok(form_page(clinic, ins, form));
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
        // Stored, alerts with it: the answer is the thank-you page.
        Ok(_) | Err(StoreError::Conflict(Conflict::LinkSpent)) => Ok(see_other(&done_url(&token))),
        Err(e) => Err(AppError::from(e)),
    }
}

/// The thank-you page of an answered link, for as long as the link is valid.
pub async fn done(State(st): State<AppState>, Path(token): Path<String>) -> AppResult<Response> {
    let Some(link) = link_of(&st, &token).await? else {
        return gone(&st, None).await;
    };
    match link.page(kap_store::now()) {
        LinkPage::Gone => return gone(&st, Some(&link)).await,
        LinkPage::Form => return Ok(see_other(&format!("/p/{token}"))),
        LinkPage::Done => {}
    }
    let urgent = match link.response_id {
        Some(r) => st.store.response_raised_alert(r).await?,
        None => false,
    };
    let clinic = st.store.clinic(link.clinic_id).await?;
    Ok(render(
        &DonePage {
            shell: Shell::public(format!("Thank you · {}", clinic.name), String::new()),
            clinic,
            urgent,
        },
        StatusCode::OK,
    ))
}
