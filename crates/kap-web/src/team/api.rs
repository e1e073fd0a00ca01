//! The care-team thread over the API: a patient's thread as the caller's role may see it
//! (clinicians all of it; coordinators its tasks without their detail and no messages), and
//! posting a message (mentions written as `@Name` in the text or given as ids). Reading through
//! the API does not mark the thread seen.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiBody, ApiQuery, api_id};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use kap_domain::team::mention::MessageForm;
use kap_domain::team::{Message, Person, TaskView, ThreadAccess};
use kap_store::team::{Reading, ThreadPage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct PersonOut {
    pub id: Uuid,
    pub name: String,
}

impl From<Person> for PersonOut {
    fn from(p: Person) -> Self {
        PersonOut {
            id: p.id,
            name: p.name,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LinkOut {
    /// `dosing_session`, `note` or `checkin`.
    pub kind: String,
    pub id: Uuid,
    /// The record's page.
    pub path: String,
}

#[derive(Serialize, ToSchema)]
pub struct MessageOut {
    pub id: Uuid,
    /// Its position in the thread (1 for the first message).
    pub seq: i64,
    pub author: PersonOut,
    pub text: String,
    pub mentions: Vec<PersonOut>,
    pub link: Option<LinkOut>,
    pub posted_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct TaskEventOut {
    /// `done`, `cancelled` or `reassigned`.
    pub change: String,
    /// The new assignee, for `reassigned`.
    pub assignee: Option<PersonOut>,
    pub by: PersonOut,
    pub at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct TaskOut {
    pub id: Uuid,
    pub title: String,
    /// Clinical detail: only for clinicians, and only when one was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub assignee: PersonOut,
    pub due_on: NaiveDate,
    /// `open`, `done` or `cancelled`.
    pub status: String,
    pub created_by: PersonOut,
    pub created_at: DateTime<Utc>,
    pub history: Vec<TaskEventOut>,
}

#[derive(Serialize, ToSchema)]
pub struct ThreadOut {
    pub patient_id: Uuid,
    /// `full` (clinicians) or `tasks_only` (coordinators: no messages, no task detail).
    pub access: String,
    /// Oldest first; the newest `limit`, or those before `before`.
    pub messages: Vec<MessageOut>,
    /// Older messages exist: pass this as `before` for the page before.
    pub earlier: Option<i64>,
    pub tasks: Vec<TaskOut>,
}

#[derive(Deserialize, IntoParams)]
pub struct ThreadQuery {
    /// Messages before this position (keyset paging).
    pub before: Option<i64>,
    /// How many messages, 1–100 (default 25).
    pub limit: Option<i64>,
}

fn message_out(m: Message) -> MessageOut {
    MessageOut {
        id: m.id,
        seq: m.seq,
        author: m.author.into(),
        text: m.text,
        mentions: m.mentions.into_iter().map(Into::into).collect(),
        link: m.reference.map(|r| LinkOut {
            kind: r.kind.as_str().to_owned(),
            id: r.id,
            path: r.path(),
        }),
        posted_at: m.posted_at,
    }
}

fn task_out(t: TaskView) -> TaskOut {
    TaskOut {
        id: t.id,
        title: t.title,
        detail: t.detail,
        assignee: t.assignee.into(),
        due_on: t.due_on,
        status: t.status.as_str().to_owned(),
        created_by: t.created_by.into(),
        created_at: t.created_at,
        history: t
            .history
            .into_iter()
            .map(|e| TaskEventOut {
                change: e.change.as_str().to_owned(),
                assignee: e.assignee.map(Into::into),
                by: e.by.into(),
                at: e.at,
            })
            .collect(),
    }
}

/// A patient's care-team thread, as the caller's role may see it.
#[utoipa::path(get, path = "/api/v1/patients/{id}/team", params(("id" = String, Path, description = "Patient id"), ThreadQuery), tag = "team",
    responses((status = 200, body = ThreadOut), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn thread(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ThreadQuery>,
) -> ApiResult<Json<ThreadOut>> {
    let th = st
        .store
        .team_thread(
            &staff.actor(),
            staff.clinic_id(),
            api_id(&id)?,
            staff.role(),
            ThreadPage {
                before: q.before,
                limit: crate::http::extract::page_size(q.limit),
            },
            Reading::Api,
            kap_store::now(),
        )
        .await?;
    Ok(Json(ThreadOut {
        patient_id: th.patient_id,
        access: match th.view.access {
            ThreadAccess::Full => "full",
            ThreadAccess::TasksOnly => "tasks_only",
        }
        .to_owned(),
        messages: th.view.messages.into_iter().map(message_out).collect(),
        earlier: th.earlier,
        tasks: th.view.tasks.into_iter().map(task_out).collect(),
    }))
}

/// A message to post.
#[derive(Deserialize, ToSchema)]
pub struct PostMessage {
    /// Up to 20,000 characters. `@First Last` (or `@first.last`) mentions a clinician of the
    /// clinic; a name that matches no one is refused.
    pub text: String,
    /// Clinicians to mention, by id (besides those written in the text).
    #[serde(default)]
    pub mentions: Vec<Uuid>,
    /// The address of one of the patient's dosing sessions, notes or check-ins.
    #[serde(default)]
    pub link: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PostedOut {
    pub id: Uuid,
    pub seq: i64,
}

/// Posts a message to a patient's care-team thread (clinicians; a coordinator's post is refused
/// with 409: coordinators take part through tasks).
#[utoipa::path(post, path = "/api/v1/patients/{id}/team/messages", params(("id" = String, Path, description = "Patient id")), request_body = PostMessage, tag = "team",
    responses((status = 201, body = PostedOut), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(super) async fn post_message(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    body: ApiBody,
) -> ApiResult<(StatusCode, Json<PostedOut>)> {
    let patient = api_id(&id)?;
    let req: PostMessage = body.json()?;
    let posted = st
        .store
        .post_team_message(
            &staff.actor(),
            staff.clinic_id(),
            patient,
            staff.role(),
            &MessageForm {
                text: req.text,
                picked: req.mentions,
                link: req.link.unwrap_or_default(),
            },
            kap_store::now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(PostedOut {
            id: posted.id,
            seq: posted.seq,
        }),
    ))
}
