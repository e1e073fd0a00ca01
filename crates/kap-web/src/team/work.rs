//! A person's care-team work across patients: on the home page, their open tasks (the overdue
//! first) and unread mentions; on their own page (`/team`), also the tasks they gave others and
//! the mentions they have seen. Coordinators have tasks only — titles, never clinical text.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::AppResult;
use crate::http::sections::{Returned, SectionFuture};
use crate::http::view::{Shell, fragment, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::team::{ThreadAccess, access, is_overdue};
use kap_store::team::{MentionLine, TaskLine, WorkScope};
use uuid::Uuid;

/// How many of each the home page lists.
const ON_HOME: i64 = 10;
/// How many of each the person's own page lists.
const ON_PAGE: i64 = 200;

struct WorkTask {
    l: TaskLine,
    overdue: bool,
}

struct WorkMention {
    l: MentionLine,
    when: String,
}

#[derive(Template)]
#[template(path = "team/_work.html")]
struct WorkPart<'a> {
    home: bool,
    clinician: bool,
    csrf: String,
    tasks: Vec<WorkTask>,
    given: Vec<WorkTask>,
    mentions: Vec<WorkMention>,
    unread: i64,
    returned: &'a Returned,
}

impl WorkPart<'_> {
    fn change_error(&self, task: &Uuid) -> Option<String> {
        self.returned
            .error(super::thread::CHANGE, Some(*task), "action")
    }
}

/// The part for this reader, or none for those who see no thread.
async fn part(
    st: &AppState,
    staff: &Staff,
    home: bool,
    returned: &Returned,
) -> AppResult<Option<String>> {
    let Some(access) = access(staff.role()) else {
        return Ok(None);
    };
    let (scope, limit) = if home {
        (WorkScope::Home, ON_HOME)
    } else {
        (WorkScope::Page, ON_PAGE)
    };
    let w = st
        .store
        .my_team_work(
            &staff.actor(),
            staff.clinic_id(),
            staff.role(),
            scope,
            limit,
        )
        .await?;
    let today = staff.tz.date(&kap_store::now());
    let lines = |v: Vec<TaskLine>| -> Vec<WorkTask> {
        v.into_iter()
            .map(|l| WorkTask {
                overdue: is_overdue(l.status, l.due_on, today),
                l,
            })
            .collect()
    };
    fragment(&WorkPart {
        home,
        clinician: access == ThreadAccess::Full,
        csrf: staff.csrf_token().to_owned(),
        tasks: lines(w.tasks),
        given: lines(w.given),
        mentions: w
            .mentions
            .into_iter()
            .map(|l| WorkMention {
                when: staff.tz.format(&l.posted_at),
                l,
            })
            .collect(),
        unread: w.unread,
        returned,
    })
    .map(Some)
}

/// The home page's care-team part.
pub fn home_section<'a>(
    st: &'a AppState,
    staff: &'a Staff,
    _patient: Option<Uuid>,
    returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move { part(st, staff, true, returned).await })
}

#[derive(Template)]
#[template(path = "team/work.html")]
struct WorkPage {
    shell: Shell,
    done: bool,
    part: String,
}

/// The person's own page, with a refused task change beside its task.
pub(super) async fn work_page(
    st: &AppState,
    staff: &Staff,
    done: Option<&str>,
    returned: &Returned,
    status: StatusCode,
) -> AppResult<Response> {
    let part = part(st, staff, false, returned)
        .await?
        .ok_or(crate::http::AppError::Forbidden)?;
    Ok(render(
        &WorkPage {
            shell: Shell::staff(staff, "My tasks and mentions", "team"),
            done: done == Some("changed"),
            part,
        },
        status,
    ))
}

#[derive(serde::Deserialize)]
pub(super) struct WorkQuery {
    done: Option<String>,
}

pub(super) async fn page(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<WorkQuery>,
) -> AppResult<Response> {
    work_page(
        &st,
        &staff,
        q.done.as_deref(),
        &Returned::none(),
        StatusCode::OK,
    )
    .await
}
