//! A patient's care-team thread: the chart's panel and the thread's own page (the same part),
//! and the forms that post a message, add a task and change one. A refused form comes back on
//! the page it was sent from, as typed, with the problem beside the field; nothing is stored.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppError, AppResult, conflict_words};
use crate::http::extract::{Fields, field, parse_id, see_other};
use crate::http::sections::{Returned, SectionFuture};
use crate::http::view::{Shell, fragment, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::team::mention::MessageForm;
use kap_domain::team::task::{Permitted, TaskAction, TaskForm, permitted};
use kap_domain::team::{Member, Message, TaskView, ThreadAccess, access};
use kap_domain::time::TimeZone;
use kap_store::team::{Reading, ThreadPage};
use kap_store::{Conflict, StoreError};
use uuid::Uuid;

/// The forms of the thread, as [`Returned`] names them.
pub(super) const MESSAGE: &str = "team-message";
pub(super) const TASK: &str = "team-task";
pub(super) const CHANGE: &str = "team-task-change";

/// Messages shown on the chart, and per page of the thread.
const ON_CHART: i64 = 10;
const PER_PAGE: i64 = 50;

/// A message as the part shows it.
pub(super) struct MessageLine {
    pub m: Message,
    pub when: String,
    /// Posted by someone else after the reader's seen mark.
    pub new: bool,
}

/// A task as the part shows it.
pub(super) struct TaskLine {
    pub t: TaskView,
    pub created: String,
    pub overdue: bool,
    pub may: Permitted,
    /// Each change, in words, with its time.
    pub history: Vec<String>,
}

pub(super) fn message_lines(
    messages: Vec<Message>,
    seen: i64,
    me: Uuid,
    tz: TimeZone,
) -> Vec<MessageLine> {
    messages
        .into_iter()
        .map(|m| MessageLine {
            when: tz.format(&m.posted_at),
            new: m.seq > seen && m.author.id != me,
            m,
        })
        .collect()
}

pub(super) fn task_lines(
    tasks: Vec<TaskView>,
    staff: &Staff,
    access: ThreadAccess,
) -> Vec<TaskLine> {
    let today = staff.tz.date(&kap_store::now());
    tasks
        .into_iter()
        .map(|t| TaskLine {
            created: staff.tz.format(&t.created_at),
            overdue: t.overdue(today),
            may: permitted(
                t.status,
                t.assignee.id,
                t.created_by.id,
                staff.staff_id(),
                access,
            ),
            history: t
                .history
                .iter()
                .map(|e| {
                    let to = e
                        .assignee
                        .as_ref()
                        .map(|p| format!(" ({})", p.name))
                        .unwrap_or_default();
                    format!(
                        "{}{to} by {}, {}",
                        e.change.label(),
                        e.by.name,
                        staff.tz.format(&e.at)
                    )
                })
                .collect(),
            t,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "team/_thread.html")]
struct ThreadPart<'a> {
    patient_id: Uuid,
    full_page: bool,
    csrf: String,
    clinician: bool,
    may_post: bool,
    messages: Vec<MessageLine>,
    /// Older messages exist: the cursor for the page before.
    earlier: Option<i64>,
    last_seq: i64,
    tasks: Vec<TaskLine>,
    /// Who the picker offers (not the reader).
    mentionable: Vec<Member>,
    assignable: Vec<Member>,
    me: Uuid,
    /// The clinic's today, the earliest due date.
    today: String,
    returned: &'a Returned,
}

impl ThreadPart<'_> {
    fn value(&self, form: &str, field: &str) -> String {
        self.returned.value(form, None, field, "")
    }

    fn error(&self, form: &str, field: &str) -> Option<String> {
        self.returned.error(form, None, field)
    }

    /// Whether a member was ticked in the returned message form.
    fn picked(&self, id: &Uuid) -> bool {
        self.returned.is(MESSAGE, None)
            && self
                .returned
                .values
                .iter()
                .any(|(k, v)| k == "mention" && v == &id.to_string())
    }

    /// The assignee chosen in the returned task form (the reader by default).
    fn chosen(&self, id: &Uuid) -> bool {
        let v = self.value(TASK, "assignee");
        if v.is_empty() {
            *id == self.me
        } else {
            v == id.to_string()
        }
    }

    fn change_error(&self, task: &Uuid) -> Option<String> {
        self.returned.error(CHANGE, Some(*task), "action")
    }
}

/// The thread part for a reader who may see some of it; with the patient's name.
async fn part(
    st: &AppState,
    staff: &Staff,
    patient: Uuid,
    before: Option<i64>,
    full_page: bool,
    returned: &Returned,
) -> AppResult<Option<(String, String)>> {
    let Some(access) = access(staff.role()) else {
        return Ok(None);
    };
    let now = kap_store::now();
    let th = st
        .store
        .team_thread(
            &staff.actor(),
            staff.clinic_id(),
            patient,
            staff.role(),
            ThreadPage {
                before,
                limit: if full_page { PER_PAGE } else { ON_CHART },
            },
            if full_page {
                Reading::Page
            } else {
                Reading::Chart
            },
            now,
        )
        .await?;
    let members = st.store.team_members(staff.clinic_id()).await?;
    let me = staff.staff_id();
    let html = fragment(&ThreadPart {
        patient_id: patient,
        full_page,
        csrf: staff.csrf_token().to_owned(),
        clinician: access == ThreadAccess::Full,
        may_post: staff.may(kap_domain::Action::PostTeamThread),
        messages: message_lines(th.view.messages, th.seen_before, me, staff.tz),
        earlier: th.earlier,
        last_seq: th.last_seq,
        tasks: task_lines(th.view.tasks, staff, access),
        mentionable: members
            .iter()
            .filter(|m| m.may_be_mentioned() && m.id != me)
            .cloned()
            .collect(),
        assignable: members
            .into_iter()
            .filter(Member::may_be_assigned)
            .collect(),
        me,
        today: staff.tz.date(&now).to_string(),
        returned,
    })?;
    Ok(Some((html, th.patient_name)))
}

/// The chart's care-team panel.
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
        Ok(part(st, staff, patient, None, false, returned)
            .await?
            .map(|(html, _)| html))
    })
}

#[derive(Template)]
#[template(path = "team/thread.html")]
struct FullPage {
    shell: Shell,
    patient_id: Uuid,
    patient_name: String,
    done: Option<&'static str>,
    part: String,
}

/// The confirmations the thread's page shows after a form (fixed words, chosen by key).
fn done_words(key: &str) -> Option<&'static str> {
    Some(match key {
        "posted" => "Message posted.",
        "task" => "Task added.",
        "changed" => "Task updated.",
        _ => return None,
    })
}

async fn full_page(
    st: &AppState,
    staff: &Staff,
    patient: Uuid,
    before: Option<i64>,
    done: Option<&str>,
    returned: &Returned,
    status: StatusCode,
) -> AppResult<Response> {
    let (part, patient_name) = part(st, staff, patient, before, true, returned)
        .await?
        .ok_or(AppError::Forbidden)?;
    Ok(render(
        &FullPage {
            shell: Shell::staff(staff, format!("Care team: {patient_name}"), "patients"),
            patient_id: patient,
            patient_name,
            done: done.and_then(done_words),
            part,
        },
        status,
    ))
}

#[derive(serde::Deserialize)]
pub(super) struct PageQuery {
    before: Option<String>,
    done: Option<String>,
}

pub(super) async fn page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let patient = parse_id(&id)?;
    let before = q
        .before
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok());
    full_page(
        &st,
        &staff,
        patient,
        before,
        q.done.as_deref(),
        &Returned::none(),
        StatusCode::OK,
    )
    .await
}

/// Where a form was sent from: the thread's page, or the chart.
fn from_page(f: &Fields) -> bool {
    field(f, "back") == "page"
}

/// Back to where the form was sent from, after it was saved.
fn saved(patient: Uuid, f: &Fields, done: &str, anchor: &str) -> Response {
    if from_page(f) {
        see_other(&format!("/patients/{patient}/team?done={done}#{anchor}"))
    } else {
        see_other(&format!("/patients/{patient}#{anchor}"))
    }
}

/// The page the form was sent from again, with the form as typed and what is wrong.
async fn returned_to(
    st: &AppState,
    staff: &Staff,
    patient: Uuid,
    f: &Fields,
    returned: Returned,
    status: StatusCode,
) -> AppResult<Response> {
    if from_page(f) {
        full_page(st, staff, patient, None, None, &returned, status).await
    } else {
        crate::patients::pages::chart_page(st, staff, patient, None, returned, status).await
    }
}

/// The form's text fields as sent (not trimmed: a refused form comes back as typed).
fn raw<'a>(f: &'a Fields, key: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// The mentions ticked in a form; a value that is no id stands for no one (and is refused).
pub(super) fn picked(values: impl Iterator<Item = String>) -> Vec<Uuid> {
    values
        .map(|v| Uuid::parse_str(v.trim()).unwrap_or(Uuid::nil()))
        .collect()
}

pub(super) async fn post_message(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let patient = parse_id(&id)?;
    let form = MessageForm {
        text: raw(&f, "text").to_owned(),
        picked: picked(
            f.iter()
                .filter(|(k, _)| k == "mention")
                .map(|(_, v)| v.clone()),
        ),
        link: raw(&f, "link").to_owned(),
    };
    let r = st
        .store
        .post_team_message(
            &staff.actor(),
            staff.clinic_id(),
            patient,
            staff.role(),
            &form,
            kap_store::now(),
        )
        .await;
    match r {
        Ok(p) => Ok(saved(patient, &f, "posted", &format!("m-{}", p.seq))),
        Err(StoreError::Conflict(Conflict::TeamInvalid(e))) => {
            let returned = Returned::form(MESSAGE, f.clone(), e);
            returned_to(
                &st,
                &staff,
                patient,
                &f,
                returned,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn post_task(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let patient = parse_id(&id)?;
    let form = TaskForm {
        title: raw(&f, "title").to_owned(),
        detail: raw(&f, "detail").to_owned(),
        assignee: raw(&f, "assignee").to_owned(),
        due_on: raw(&f, "due_on").to_owned(),
    };
    let now = kap_store::now();
    let r = st
        .store
        .create_team_task(
            &staff.actor(),
            staff.clinic_id(),
            patient,
            staff.role(),
            &form,
            staff.tz.date(&now),
            now,
        )
        .await;
    match r {
        Ok(task) => Ok(saved(patient, &f, "task", &format!("task-{task}"))),
        Err(StoreError::Conflict(Conflict::TeamInvalid(e))) => {
            let returned = Returned::form(TASK, f.clone(), e);
            returned_to(
                &st,
                &staff,
                patient,
                &f,
                returned,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Marks a task done, cancels it or gives it to someone else, from the thread (chart or page),
/// the home page or the person's own list.
pub(super) async fn change_task(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let task = parse_id(&id)?;
    let action = match field(&f, "action") {
        "done" => TaskAction::Done,
        "cancel" => TaskAction::Cancel,
        "reassign" => match Uuid::parse_str(field(&f, "assignee")) {
            Ok(to) => TaskAction::Reassign(to),
            Err(_) => {
                return refused(
                    &st,
                    &staff,
                    task,
                    &f,
                    "Choose who will do this task.".into(),
                )
                .await;
            }
        },
        _ => {
            return Err(AppError::Invalid(FieldErrors::single(
                "action",
                "The form could not be read. Reload the page and try again.",
            )));
        }
    };
    let r = st
        .store
        .change_team_task(
            &staff.actor(),
            staff.clinic_id(),
            task,
            staff.role(),
            action,
            kap_store::now(),
        )
        .await;
    match r {
        Ok(patient) => Ok(match field(&f, "back") {
            "home" => see_other("/#team-work"),
            "work" => see_other("/team?done=changed"),
            _ => saved(patient, &f, "changed", &format!("task-{task}")),
        }),
        Err(StoreError::Conflict(c @ Conflict::NotNow(_))) => {
            refused(&st, &staff, task, &f, conflict_words(&c)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A refused change of a task: the page it came from, the words beside the task.
async fn refused(
    st: &AppState,
    staff: &Staff,
    task: Uuid,
    f: &Fields,
    words: String,
) -> AppResult<Response> {
    let returned =
        Returned::form(CHANGE, f.clone(), FieldErrors::single("action", words)).about(task);
    let status = StatusCode::CONFLICT;
    match field(f, "back") {
        "home" => crate::home::home_page(st, staff, None, &returned, status).await,
        "work" => super::work::work_page(st, staff, None, &returned, status).await,
        _ => {
            let patient = parse_id(field(f, "patient"))?;
            returned_to(st, staff, patient, f, returned, status).await
        }
    }
}
