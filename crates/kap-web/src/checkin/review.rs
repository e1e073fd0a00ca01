//! Reviewing check-ins: the clinic's list (unseen first, flagged first), one check-in with all
//! its answers, its questionnaire's score and its alerts, and marking it seen with an optional
//! note.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::AppResult;
use crate::http::extract::{NoticeQuery, parse_id, see_other};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::alert::{Alert, AlertStatus};
use kap_domain::checkin::{Checkin, CheckinLine, REVIEW_NOTE_MAX, parse_review_note};
use kap_domain::instruments::Answers;
use kap_domain::permission::Action;
use kap_store::checkin::CheckinRecord;

/// Seen check-ins stay on the review list this many days.
const SEEN_DAYS: i64 = 14;

#[derive(Template)]
#[template(path = "checkin/list.html")]
struct ListPage {
    shell: Shell,
    lines: Vec<CheckinLine>,
}

impl ListPage {
    fn when(&self, l: &CheckinLine) -> String {
        self.shell.when(&l.submitted_at)
    }
    fn unseen(&self) -> usize {
        self.lines.iter().filter(|l| !l.seen).count()
    }
}

pub(super) async fn list(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let lines = st
        .store
        .checkin_review_list(&staff.actor(), staff.clinic_id(), SEEN_DAYS)
        .await?;
    Ok(render(
        &ListPage {
            shell: Shell::staff(&staff, "Check-ins", "checkins").with_notice(q.notice.as_deref()),
            lines,
        },
        StatusCode::OK,
    ))
}

#[derive(Template)]
#[template(path = "checkin/show.html")]
struct ShowPage {
    shell: Shell,
    c: Checkin,
    alerts: Vec<Alert>,
    questionnaire_answers: Answers,
    may_review: bool,
    may_handle_alerts: bool,
    note: String,
    errors: FieldErrors,
    review_note_max: String,
}

impl ShowPage {
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        self.shell.when(t)
    }
    fn open(&self, a: &Alert) -> bool {
        a.status == AlertStatus::Open
    }
    /// The questionnaire's answers, question by question: (question, answer).
    fn answer_rows(&self) -> Vec<(String, String)> {
        let Some(q) = &self.c.questionnaire else {
            return vec![];
        };
        q.instrument
            .items
            .iter()
            .map(|item| {
                let given = self.questionnaire_answers.get(item.id);
                let answer = match given {
                    Some(v) => match item.options.iter().find(|o| o.value == *v) {
                        Some(o) => format!("{v} — {}", o.label),
                        None => v.to_string(),
                    },
                    None => "not answered".to_owned(),
                };
                let text = item.text.unwrap_or(item.short);
                let question = if item.id.chars().all(|c| c.is_ascii_digit()) {
                    format!("{}. {text}", item.id)
                } else {
                    text.to_owned()
                };
                (question, answer)
            })
            .collect()
    }
}

fn show_page(
    staff: &Staff,
    r: CheckinRecord,
    notice: Option<&str>,
    note: String,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let title = format!("Check-in · {}", r.checkin.patient_name);
    render(
        &ShowPage {
            shell: Shell::staff(staff, title, "checkins").with_notice(notice),
            c: r.checkin,
            alerts: r.alerts,
            questionnaire_answers: r.questionnaire_answers,
            may_review: staff.may(Action::ReviewCheckins),
            may_handle_alerts: staff.may(Action::HandleAlerts),
            note,
            errors,
            review_note_max: kap_domain::checkin::form::fmt_count(REVIEW_NOTE_MAX),
        },
        status,
    )
}

pub(super) async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let r = st
        .store
        .checkin(&staff.actor(), staff.clinic_id(), id)
        .await?;
    Ok(show_page(
        &staff,
        r,
        q.notice.as_deref(),
        String::new(),
        FieldErrors::new(),
        StatusCode::OK,
    ))
}

#[derive(serde::Deserialize)]
pub(super) struct SeenForm {
    #[serde(default)]
    note: String,
}

pub(super) async fn mark_seen(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SeenForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let note = match parse_review_note(&form.note) {
        Ok(n) => n,
        Err(e) => {
            // Back to the check-in with the note as typed and the problem beside it.
            let r = st
                .store
                .checkin(&staff.actor(), staff.clinic_id(), id)
                .await?;
            return Ok(show_page(
                &staff,
                r,
                None,
                form.note,
                FieldErrors::single("note", e),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    st.store
        .mark_checkin_seen(&staff.actor(), staff.clinic_id(), id, note.as_deref())
        .await?;
    Ok(see_other(&format!("/checkins/{id}?notice=checkin-seen")))
}
