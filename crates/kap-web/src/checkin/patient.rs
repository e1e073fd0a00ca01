//! The patient's side: a check-in opened from a single-use, expiring link on a phone, with no
//! account and no JavaScript. The page shows nothing about the patient but their own intention
//! (the words they set it in, to reflect on) — no name, no date of birth: a link forwarded or
//! seen over a shoulder gives nothing else away, as the questionnaire link does not.
//!
//! A check-in that raises an alert is stored with it before the patient sees the reply; the
//! reply is a redirect to a thank-you page that says, when the answers call for it, that the
//! care team was told — and shows the clinic's crisis resources first when an answer signals
//! risk. Opening a used or expired link shows the page that says it cannot be used, with the
//! clinic's crisis resources; nothing is changed.
//!
//! The form carries three boxes of free text of up to 20,000 characters each; percent-encoded
//! in any script that is up to about 720 KB, beyond the site's 64 KiB body limit. This one
//! form reads its own body, after the token has been checked, up to [`BODY_MAX`]; each box
//! over its limit comes back as typed with the limit named, and a body beyond [`BODY_MAX`]
//! gets a page saying how to shorten it — never a bare "too large".

use crate::AppState;
use crate::http::auth::ClientAddr;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::see_other;
use crate::http::view::{Shell, render};
use crate::public::{gone_page, well_formed};
use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::checkin::form::fmt_count;
use kap_domain::checkin::{
    CheckinForm, CheckinLink, DoneMessage, LONG_TEXT_MAX, Mood, SideEffect, SleepQuality,
};
use kap_domain::instruments::{self, Instrument, answers_and_score, must_ask_again};
use kap_domain::measure::LinkPage;
use kap_domain::staff::Clinic;
use kap_store::checkin::Submission;
use kap_store::{Conflict, StoreError};

/// The largest check-in form body read: three boxes at the limit in any script, and the rest.
pub const BODY_MAX: usize = 1024 * 1024;

#[derive(Template)]
#[template(path = "checkin/patient_form.html")]
struct FormPage {
    shell: Shell,
    token: String,
    clinic: Clinic,
    intention: Option<String>,
    instrument: Option<&'static Instrument>,
    /// What was typed, by field (repeated `side_effect` kept).
    values: Vec<(String, String)>,
    errors: FieldErrors,
    /// Questionnaire items still unanswered (ids; a group as "6|7").
    missing: Vec<String>,
    /// The problem with the questionnaire part, if any.
    questionnaire_problem: Option<String>,
    long_text_max: String,
}

impl FormPage {
    fn value(&self, field: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| k == field)
            .map_or("", |(_, v)| v.as_str())
    }

    fn moods(&self) -> Vec<(u8, Option<&'static str>)> {
        Mood::scale().map(|m| (m.value(), m.anchor())).collect()
    }

    fn mood_checked(&self, v: &u8) -> bool {
        self.value("mood").trim() == v.to_string()
    }

    fn qualities(&self) -> [SleepQuality; 3] {
        SleepQuality::ALL
    }

    fn quality_checked(&self, q: &SleepQuality) -> bool {
        SleepQuality::from_code(self.value("sleep_quality")) == Some(*q)
    }

    fn side_effects(&self) -> [SideEffect; 12] {
        SideEffect::ALL
    }

    fn ticked(&self, se: &SideEffect) -> bool {
        self.values
            .iter()
            .any(|(k, v)| k == "side_effect" && v == se.as_str())
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }

    fn has_problems(&self) -> bool {
        !self.errors.is_empty() || self.questionnaire_problem.is_some()
    }

    /// The summary of problems: anchor and words, in the page's order.
    fn problems(&self) -> Vec<(String, String)> {
        let order = [
            ("mood", "q-mood", "Mood"),
            ("sleep_hours", "f-sleep_hours", "Hours slept"),
            ("sleep_quality", "q-sleep", "How you slept"),
            ("side_effect", "q-side", "Side effects"),
            (
                "side_effects_note",
                "f-side_effects_note",
                "Anything else you noticed",
            ),
            ("reflection", "f-reflection", "Your intention"),
            ("journal", "f-journal", "Your journal"),
        ];
        let mut out: Vec<(String, String)> = order
            .iter()
            .filter_map(|(f, anchor, label)| {
                self.errors
                    .get(f)
                    .map(|m| (format!("#{anchor}"), format!("{label}: {m}")))
            })
            .collect();
        if let (Some(p), Some(ins)) = (&self.questionnaire_problem, self.instrument) {
            out.push(("#questionnaire".into(), format!("{}: {p}", ins.name)));
            for item in ins.items.iter().filter(|i| self.is_missing(i.id)) {
                out.push((
                    format!("#q-{}", item.id),
                    item.text.unwrap_or(item.short).to_owned(),
                ));
            }
        }
        out
    }

    fn is_chosen(&self, item: &str, value: &i32) -> bool {
        self.value(&format!("item_{item}")).trim() == value.to_string()
    }

    fn is_missing(&self, item: &str) -> bool {
        self.missing
            .iter()
            .any(|m| m == item || m.split('|').any(|x| x == item))
    }
}

#[derive(Template)]
#[template(path = "checkin/patient_done.html")]
struct DonePage {
    shell: Shell,
    clinic: Clinic,
    message: DoneMessage,
}

impl DonePage {
    fn crisis(&self) -> bool {
        self.message == DoneMessage::Crisis
    }
    fn alerted(&self) -> bool {
        self.message == DoneMessage::Alerted
    }
}

#[derive(Template)]
#[template(path = "checkin/patient_too_long.html")]
struct TooLongPage {
    shell: Shell,
    clinic: Clinic,
    token: String,
    long_text_max: String,
}

async fn link_of(st: &AppState, token: &str) -> AppResult<Option<CheckinLink>> {
    if !well_formed(token) {
        return Ok(None);
    }
    Ok(st.store.checkin_link_by_token(token).await?)
}

fn done_url(token: &str) -> String {
    format!("/k/{token}/done")
}

/// The intention the patient reflects on: the one set for the course the link was sent in.
async fn intention(st: &AppState, link: &CheckinLink, actor: &Actor) -> AppResult<Option<String>> {
    Ok(st
        .store
        .current_intention(actor, link.clinic_id, link.patient_id, link.course_id)
        .await?)
}

struct Typed {
    values: Vec<(String, String)>,
    errors: FieldErrors,
    missing: Vec<String>,
    questionnaire_problem: Option<String>,
}

fn form_page(
    token: &str,
    clinic: Clinic,
    link: &CheckinLink,
    intention: Option<String>,
    t: Typed,
) -> Response {
    let status = if t.errors.is_empty() && t.questionnaire_problem.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        &FormPage {
            // The link's own token is the proof a post carries; no cookie is involved.
            shell: Shell::public(format!("Check-in · {}", clinic.name), String::new()),
            token: token.to_owned(),
            clinic,
            intention,
            instrument: link.instrument,
            values: t.values,
            errors: t.errors,
            missing: t.missing,
            questionnaire_problem: t.questionnaire_problem,
            long_text_max: fmt_count(LONG_TEXT_MAX),
        },
        status,
    )
}

pub(super) async fn show(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(link) = link_of(&st, &token).await? else {
        return gone_page(&st, None).await;
    };
    if link.open_page(kap_store::now()) != LinkPage::Form {
        // Used or expired: never shown again as a form, whoever holds the link.
        return gone_page(&st, Some(link.clinic_id)).await;
    }
    let actor = Actor::visitor(link.clinic_id, addr);
    st.store
        .audit_only(
            &actor,
            AuditAction::CheckinOpened,
            Subject::patient(link.patient_id).with_detail(format!("check-in link {}", link.id)),
        )
        .await?;
    let clinic = st.store.clinic(link.clinic_id).await?;
    let intention = intention(&st, &link, &actor).await?;
    Ok(form_page(
        &token,
        clinic,
        &link,
        intention,
        Typed {
            values: vec![],
            errors: FieldErrors::new(),
            missing: vec![],
            questionnaire_problem: None,
        },
    ))
}

pub(super) async fn submit(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(token): Path<String>,
    body: Body,
) -> AppResult<Response> {
    // The token first: nothing is read for a link that cannot take a check-in.
    let Some(link) = link_of(&st, &token).await? else {
        return gone_page(&st, None).await;
    };
    match link.sent_page(kap_store::now()) {
        LinkPage::Gone => return gone_page(&st, Some(link.clinic_id)).await,
        // Sent already (another tab, a double tap): nothing more is stored.
        LinkPage::Done => return Ok(see_other(&done_url(&token))),
        LinkPage::Form => {}
    }
    let clinic = st.store.clinic(link.clinic_id).await?;
    let Ok(bytes) = axum::body::to_bytes(body, BODY_MAX).await else {
        return Ok(render(
            &TooLongPage {
                shell: Shell::public(format!("Too long to send · {}", clinic.name), String::new()),
                clinic,
                token,
                long_text_max: fmt_count(LONG_TEXT_MAX),
            },
            StatusCode::PAYLOAD_TOO_LARGE,
        ));
    };
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
        AppError::Invalid(FieldErrors::single(
            "form",
            "The form could not be read. Go back, reload the page and try again.",
        ))
    })?;
    let actor = Actor::visitor(link.clinic_id, addr);
    let parsed = CheckinForm::from_fields(&fields).parse();
    let send_anyway = fields.iter().any(|(k, _)| k == "send_incomplete");
    // The questionnaire part, scored exactly as through a questionnaire link.
    let mut missing = vec![];
    let mut questionnaire_problem = None;
    let mut questionnaire = None;
    if let Some(ins) = link.instrument {
        match answers_and_score(ins, fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            Err(_) => {
                questionnaire_problem = Some(
                    "One of the answers could not be read. Please choose from the options shown."
                        .to_owned(),
                );
            }
            Ok((answers, scored)) => {
                if must_ask_again(&scored, send_anyway) {
                    let n = scored.missing.len();
                    questionnaire_problem = Some(format!(
                        "{n} question{} still need{} an answer. Please answer {}, or send your check-in as it is.",
                        if n == 1 { "" } else { "s" },
                        if n == 1 { "s" } else { "" },
                        if n == 1 { "it" } else { "them" }
                    ));
                    missing.clone_from(&scored.missing);
                }
                questionnaire = Some((answers, scored));
            }
        }
    }
    let intention = intention(&st, &link, &actor).await?;
    let answers = match parsed {
        Ok(a) if questionnaire_problem.is_none() => a,
        parsed => {
            return Ok(form_page(
                &token,
                clinic,
                &link,
                intention,
                Typed {
                    errors: parsed.err().unwrap_or_default(),
                    values: fields,
                    missing,
                    questionnaire_problem,
                },
            ));
        }
    };
    let submitted = st
        .store
        .submit_checkin(
            &actor,
            &link,
            Submission {
                answers: &answers,
                questionnaire: questionnaire.as_ref().map(|(a, s)| (a, s)),
                intention: intention.as_deref(),
                at: kap_store::now(),
            },
        )
        .await;
    match submitted {
        // Stored, alerts with it: the answer is the thank-you page.
        Ok(_) | Err(StoreError::Conflict(Conflict::LinkSpent)) => Ok(see_other(&done_url(&token))),
        Err(e) => Err(AppError::from(e)),
    }
}

/// The thank-you page of a used link, for as long as the link is valid.
pub(super) async fn done(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(link) = link_of(&st, &token).await? else {
        return gone_page(&st, None).await;
    };
    match link.sent_page(kap_store::now()) {
        LinkPage::Gone => return gone_page(&st, Some(link.clinic_id)).await,
        LinkPage::Form => return Ok(see_other(&format!("/k/{token}"))),
        LinkPage::Done => {}
    }
    let message = st.store.checkin_done_message(link.id).await?;
    let clinic = st.store.clinic(link.clinic_id).await?;
    Ok(render(
        &DonePage {
            shell: Shell::public(format!("Thank you · {}", clinic.name), String::new()),
            clinic,
            message,
        },
        StatusCode::OK,
    ))
}

/// The instruments a check-in may carry, for the staff forms: those a patient answers.
pub(super) fn attachable() -> Vec<(&'static str, &'static str)> {
    instruments::ALL
        .iter()
        .filter(|i| i.has_item_text())
        .map(|i| (i.code, i.name))
        .collect()
}
