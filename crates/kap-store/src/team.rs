//! The care-team thread on disk: messages and their mentions (never changed or deleted — triggers
//! on both databases), tasks whose status moves once with every change kept as an event, and
//! each staff member's seen mark per thread (forward only).
//!
//! Every read and write is an audited transaction (`team.read`, `team.post`, `team.task`,
//! `team.seen`). What a reader may see is the domain's decision ([`kap_domain::team::view`]):
//! coordinators are handed tasks without their detail and no messages — the store does not even
//! read message text for them. A post takes the thread's row lock (`team_thread`), so two posts
//! never share a position; mentions are resolved by the domain against the clinic's staff as
//! read inside the same transaction. Every write takes `now`: the web passes the clock, the demo
//! the moment it replays.

use crate::audited::Audited;
use crate::db::{Tx, exec, fetch_all, fetch_opt, scalar, scalar_opt};
use crate::error::{Conflict, Result, StoreError, code};
use crate::{Store, new_id};
use chrono::{DateTime, NaiveDate, Utc};
use kap_domain::FieldErrors;
use kap_domain::Role;
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::team::mention::{MessageForm, compose};
use kap_domain::team::task::{self, TaskAction, TaskForm};
use kap_domain::team::{
    EXCERPT_CHARS, Member, Message, PANEL_MAX, PanelSince, Person, Reference, ReferenceKind, Task,
    TaskChange, TaskEvent, TaskStatus, TaskView, Thread, ThreadAccess, ThreadView, access,
    advance_seen, excerpt, panel_since, view,
};
use std::collections::HashMap;
use uuid::Uuid;

const MESSAGE: &str = "team_message";
const TASK: &str = "team_task";

#[derive(sqlx::FromRow)]
struct MemberRow {
    id: Uuid,
    full_name: String,
    active: bool,
    role: String,
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: Uuid,
    seq: i64,
    author_id: Uuid,
    author_name: String,
    body: String,
    ref_kind: Option<String>,
    ref_id: Option<Uuid>,
    posted_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct MentionRow {
    message_id: Uuid,
    staff_id: Uuid,
    full_name: String,
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: Uuid,
    patient_id: Uuid,
    title: String,
    detail: String,
    assignee_id: Uuid,
    assignee_name: String,
    due_on: NaiveDate,
    status: String,
    created_by: Uuid,
    creator_name: String,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: Uuid,
    task_id: Uuid,
    kind: String,
    assignee_id: Option<Uuid>,
    assignee_name: Option<String>,
    by_id: Uuid,
    by_name: String,
    at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TaskLineRow {
    id: Uuid,
    patient_id: Uuid,
    patient_name: String,
    title: String,
    assignee_name: String,
    due_on: NaiveDate,
    status: String,
    creator_name: String,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct MentionLineRow {
    message_id: Uuid,
    patient_id: Uuid,
    patient_name: String,
    author_name: String,
    body: String,
    seq: i64,
    posted_at: DateTime<Utc>,
}

const TASK_COLS: &str = "t.id, t.patient_id, t.title, t.detail, t.assignee_id,
    a.full_name AS assignee_name, t.due_on, t.status, t.created_by, c.full_name AS creator_name,
    t.created_at
    FROM team_task t JOIN staff_user a ON a.id = t.assignee_id
    JOIN staff_user c ON c.id = t.created_by";

fn member(r: MemberRow) -> Result<Member> {
    Ok(Member {
        role: code("staff membership", r.id, "role", &r.role)?,
        id: r.id,
        name: r.full_name,
        active: r.active,
    })
}

fn message(r: MessageRow, mentions: Vec<Person>) -> Result<Message> {
    let reference = match (r.ref_kind.as_deref(), r.ref_id) {
        (None, None) => None,
        (Some(k), Some(id)) => Some(Reference {
            kind: code::<ReferenceKind>(MESSAGE, r.id, "ref_kind", k)?,
            id,
        }),
        _ => {
            return Err(StoreError::Corrupt {
                record: MESSAGE,
                id: r.id.to_string(),
                field: "ref_kind",
                problem: "a link needs both its kind and its id".into(),
            });
        }
    };
    Ok(Message {
        id: r.id,
        seq: r.seq,
        author: Person {
            id: r.author_id,
            name: r.author_name,
        },
        text: r.body,
        mentions,
        reference,
        posted_at: r.posted_at,
    })
}

fn task_of(r: TaskRow, history: Vec<TaskEvent>) -> Result<Task> {
    Ok(Task {
        status: code(TASK, r.id, "status", &r.status)?,
        id: r.id,
        patient_id: r.patient_id,
        title: r.title,
        detail: r.detail,
        assignee: Person {
            id: r.assignee_id,
            name: r.assignee_name,
        },
        due_on: r.due_on,
        created_by: Person {
            id: r.created_by,
            name: r.creator_name,
        },
        created_at: r.created_at,
        history,
    })
}

fn event(r: EventRow) -> Result<TaskEvent> {
    let change: TaskChange = code("team_task_event", r.id, "kind", &r.kind)?;
    let assignee = match (change, r.assignee_id, r.assignee_name) {
        (TaskChange::Reassigned, Some(id), Some(name)) => Some(Person { id, name }),
        (TaskChange::Reassigned, _, _) => {
            return Err(StoreError::Corrupt {
                record: "team_task_event",
                id: r.id.to_string(),
                field: "assignee_id",
                problem: "a reassignment names the new assignee".into(),
            });
        }
        _ => None,
    };
    Ok(TaskEvent {
        change,
        assignee,
        by: Person {
            id: r.by_id,
            name: r.by_name,
        },
        at: r.at,
    })
}

/// A refusal of the workflow, in the words the domain gave it.
fn not_now(words: impl Into<String>) -> StoreError {
    Conflict::NotNow(words.into()).into()
}

fn invalid(e: FieldErrors) -> StoreError {
    Conflict::TeamInvalid(e).into()
}

/// Which way a thread is being read (the audit row says so; pages showing the thread move
/// the reader's seen mark, the API does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// The chart's care-team panel.
    Chart,
    /// The thread's own page.
    Page,
    /// The JSON API: a program reading, not a person being shown messages.
    Api,
}

impl Reading {
    fn detail(self) -> &'static str {
        match self {
            Reading::Chart => "chart",
            Reading::Page => "page",
            Reading::Api => "api",
        }
    }

    fn marks_seen(self) -> bool {
        matches!(self, Reading::Chart | Reading::Page)
    }
}

/// Which messages to read: the newest `limit`, or those before position `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadPage {
    pub before: Option<i64>,
    pub limit: i64,
}

/// A patient's thread as one reader may see it.
#[derive(Debug, Clone)]
pub struct TeamThread {
    pub patient_id: Uuid,
    pub patient_name: String,
    pub view: ThreadView,
    /// The position of the thread's newest message (0: none yet).
    pub last_seq: i64,
    /// The reader's seen mark before this reading: messages after it were new to them.
    pub seen_before: i64,
    /// There are older messages than those shown: the cursor for the page before them.
    pub earlier: Option<i64>,
}

/// A message posted: its id and position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posted {
    pub id: Uuid,
    pub seq: i64,
}

/// A task in a list across patients (a person's work): no detail, no history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLine {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub title: String,
    pub assignee_name: String,
    pub due_on: NaiveDate,
    pub status: TaskStatus,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
}

/// A message that mentions someone, in their list across patients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentionLine {
    pub message_id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub author_name: String,
    /// The start of the message ([`EXCERPT_CHARS`]).
    pub excerpt: String,
    pub seq: i64,
    pub posted_at: DateTime<Utc>,
    pub unread: bool,
}

/// One person's care-team work in a clinic.
#[derive(Debug, Clone, Default)]
pub struct MyTeamWork {
    /// Open tasks given to them, by due date (the overdue first).
    pub tasks: Vec<TaskLine>,
    /// Open tasks they gave someone else (on their own page only).
    pub given: Vec<TaskLine>,
    /// Messages that mention them, unread first, newest first.
    pub mentions: Vec<MentionLine>,
    /// How many mentions are unread (all of them, not only those listed).
    pub unread: i64,
}

/// How much of a person's work to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkScope {
    /// The home page: open tasks and unread mentions.
    Home,
    /// Their own page: also tasks they gave others and recent mentions already read.
    Page,
}

/// What a prescriber sees of the thread before a dose decision.
#[derive(Debug, Clone)]
pub struct DosingPanel {
    pub since: PanelSince,
    /// Messages since then, oldest first, at most [`PANEL_MAX`] (the newest).
    pub messages: Vec<Message>,
    /// How many more messages since then were left out.
    pub more: i64,
    pub open_tasks: Vec<TaskView>,
    /// The reader's seen mark (messages after it are new to them).
    pub seen: i64,
}

/// The clinic's staff as the thread knows them: every member, active or not, with their role.
async fn members(tx: &mut Tx, clinic_id: Uuid) -> Result<Vec<Member>> {
    fetch_all!(
        tx(tx),
        MemberRow,
        "SELECT s.id, s.full_name, s.active AND m.active AS active, m.role
         FROM staff_user s JOIN staff_membership m ON m.staff_id = s.id
         WHERE m.clinic_id = $1 ORDER BY s.full_name, s.id",
        clinic_id
    )
    .into_iter()
    .map(member)
    .collect()
}

/// The patient's name, if they are a patient of the clinic.
async fn patient_name(tx: &mut Tx, clinic_id: Uuid, patient_id: Uuid) -> Result<String> {
    scalar_opt!(
        tx(tx),
        String,
        "SELECT full_name FROM patient WHERE id = $1 AND clinic_id = $2",
        patient_id,
        clinic_id
    )
    .ok_or(StoreError::NotFound)
}

/// What a staff member with `role` may see, or not found for those who may see none.
fn access_of(role: Role) -> Result<ThreadAccess> {
    access(role).ok_or(StoreError::NotFound)
}

/// The reader's seen mark on a thread (0: never seen).
async fn seen_mark(tx: &mut Tx, staff_id: Uuid, patient_id: Uuid) -> Result<i64> {
    Ok(scalar_opt!(
        tx(tx),
        i64,
        "SELECT last_seq FROM team_seen WHERE staff_id = $1 AND patient_id = $2",
        staff_id,
        patient_id
    )
    .unwrap_or(0))
}

/// Mentions of the given messages (positions `from..=to` of one thread), by message.
async fn mentions_of(
    tx: &mut Tx,
    patient_id: Uuid,
    from: i64,
    to: i64,
) -> Result<HashMap<Uuid, Vec<Person>>> {
    let rows = fetch_all!(
        tx(tx),
        MentionRow,
        "SELECT mn.message_id, mn.staff_id, s.full_name FROM team_mention mn
         JOIN staff_user s ON s.id = mn.staff_id
         WHERE mn.patient_id = $1 AND mn.seq BETWEEN $2 AND $3
         ORDER BY mn.seq, mn.ordinal",
        patient_id,
        from,
        to
    );
    let mut out: HashMap<Uuid, Vec<Person>> = HashMap::new();
    for r in rows {
        out.entry(r.message_id).or_default().push(Person {
            id: r.staff_id,
            name: r.full_name,
        });
    }
    Ok(out)
}

/// Messages from rows (newest first as read), oldest first, with their mentions.
async fn messages_of(
    tx: &mut Tx,
    patient_id: Uuid,
    mut rows: Vec<MessageRow>,
) -> Result<Vec<Message>> {
    rows.reverse();
    let (Some(first), Some(last)) = (rows.first().map(|r| r.seq), rows.last().map(|r| r.seq))
    else {
        return Ok(vec![]);
    };
    let mut mentions = mentions_of(tx, patient_id, first, last).await?;
    rows.into_iter()
        .map(|r| {
            let m = mentions.remove(&r.id).unwrap_or_default();
            message(r, m)
        })
        .collect()
}

/// Every task of a patient with its history, or only the open ones.
async fn tasks_of(
    tx: &mut Tx,
    clinic_id: Uuid,
    patient_id: Uuid,
    open_only: bool,
) -> Result<Vec<Task>> {
    let sql = format!(
        "SELECT {TASK_COLS} WHERE t.patient_id = $1 AND t.clinic_id = $2 {} ORDER BY t.created_at, t.id",
        if open_only {
            "AND t.status = 'open'"
        } else {
            ""
        }
    );
    let rows = fetch_all!(
        tx(tx),
        TaskRow,
        sqlx::AssertSqlSafe(sql),
        patient_id,
        clinic_id
    );
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let events = fetch_all!(
        tx(tx),
        EventRow,
        "SELECT e.id, e.task_id, e.kind, e.assignee_id, na.full_name AS assignee_name, e.by_id,
            b.full_name AS by_name, e.at
         FROM team_task_event e JOIN team_task t ON t.id = e.task_id
         LEFT JOIN staff_user na ON na.id = e.assignee_id
         JOIN staff_user b ON b.id = e.by_id
         WHERE t.patient_id = $1 ORDER BY e.at, e.id",
        patient_id
    );
    let mut history: HashMap<Uuid, Vec<TaskEvent>> = HashMap::new();
    for r in events {
        let task = r.task_id;
        history.entry(task).or_default().push(event(r)?);
    }
    rows.into_iter()
        .map(|r| {
            let h = history.remove(&r.id).unwrap_or_default();
            task_of(r, h)
        })
        .collect()
}

/// Moves the reader's seen mark forward to `shown`, auditing it; whether it moved.
async fn mark_seen(
    a: &mut Audited,
    staff_id: Uuid,
    patient_id: Uuid,
    current: i64,
    shown: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let Some(to) = advance_seen(current, shown) else {
        return Ok(false);
    };
    exec!(
        tx(a.tx()),
        "INSERT INTO team_seen (staff_id, patient_id, last_seq, seen_at) VALUES ($1,$2,$3,$4)
         ON CONFLICT (staff_id, patient_id)
         DO UPDATE SET last_seq = excluded.last_seq, seen_at = excluded.seen_at",
        staff_id,
        patient_id,
        to,
        now
    );
    a.record(
        AuditAction::TeamSeen,
        Subject::patient(patient_id).with_detail(format!("up to message {to}")),
    )
    .await?;
    Ok(true)
}

fn task_line(r: TaskLineRow) -> Result<TaskLine> {
    Ok(TaskLine {
        status: code(TASK, r.id, "status", &r.status)?,
        id: r.id,
        patient_id: r.patient_id,
        patient_name: r.patient_name,
        title: r.title,
        assignee_name: r.assignee_name,
        due_on: r.due_on,
        created_by_name: r.creator_name,
        created_at: r.created_at,
    })
}

fn mention_line(r: MentionLineRow, unread: bool) -> MentionLine {
    MentionLine {
        message_id: r.message_id,
        patient_id: r.patient_id,
        patient_name: r.patient_name,
        author_name: r.author_name,
        excerpt: excerpt(&r.body, EXCERPT_CHARS),
        seq: r.seq,
        posted_at: r.posted_at,
        unread,
    }
}

const MENTION_LINES: &str = "SELECT mn.message_id, mn.patient_id, p.full_name AS patient_name,
        s.full_name AS author_name, m.body, m.seq, m.posted_at
    FROM team_mention mn JOIN team_message m ON m.id = mn.message_id
    JOIN patient p ON p.id = mn.patient_id
    JOIN staff_user s ON s.id = m.author_id
    LEFT JOIN team_seen sn ON sn.staff_id = mn.staff_id AND sn.patient_id = mn.patient_id
    WHERE mn.staff_id = $1 AND mn.clinic_id = $2 AND m.author_id <> $1";

const UNREAD: &str = "mn.seq > COALESCE(sn.last_seq, 0)";

const TASK_LINES: &str = "SELECT t.id, t.patient_id, p.full_name AS patient_name, t.title,
        a.full_name AS assignee_name, t.due_on, t.status, c.full_name AS creator_name, t.created_at
    FROM team_task t JOIN patient p ON p.id = t.patient_id
    JOIN staff_user a ON a.id = t.assignee_id
    JOIN staff_user c ON c.id = t.created_by";

impl Store {
    /// The clinic's staff as the thread knows them (the mention picker, the assignee list).
    pub async fn team_members(&self, clinic_id: Uuid) -> Result<Vec<Member>> {
        fetch_all!(
            db(&self.db),
            MemberRow,
            "SELECT s.id, s.full_name, s.active AND m.active AS active, m.role
             FROM staff_user s JOIN staff_membership m ON m.staff_id = s.id
             WHERE m.clinic_id = $1 ORDER BY s.full_name, s.id",
            clinic_id
        )
        .into_iter()
        .map(member)
        .collect()
    }

    /// A patient's thread as a reader with `role` may see it (audited). Pages showing it move
    /// the reader's seen mark to the newest message shown (audited too).
    #[allow(clippy::too_many_arguments)]
    pub async fn team_thread(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        role: Role,
        page: ThreadPage,
        reading: Reading,
        now: DateTime<Utc>,
    ) -> Result<TeamThread> {
        let access = access_of(role)?;
        let staff_id = actor.staff_id.ok_or(StoreError::NotFound)?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient_name = patient_name(a.tx(), clinic_id, patient_id).await?;
        let last_seq = scalar_opt!(
            tx(a.tx()),
            i64,
            "SELECT last_seq FROM team_thread WHERE patient_id = $1 AND clinic_id = $2",
            patient_id,
            clinic_id
        )
        .unwrap_or(0);
        let seen_before = seen_mark(a.tx(), staff_id, patient_id).await?;
        let (messages, earlier) = if access == ThreadAccess::Full {
            let limit = page.limit.clamp(1, 500);
            let rows = fetch_all!(
                tx(a.tx()),
                MessageRow,
                "SELECT m.id, m.seq, m.author_id, s.full_name AS author_name, m.body, m.ref_kind,
                    m.ref_id, m.posted_at
                 FROM team_message m JOIN staff_user s ON s.id = m.author_id
                 WHERE m.patient_id = $1 AND m.clinic_id = $2 AND m.seq < $3
                 ORDER BY m.seq DESC LIMIT $4",
                patient_id,
                clinic_id,
                page.before.unwrap_or(i64::MAX),
                limit + 1
            );
            let (rows, more) = split(rows, limit);
            let messages = messages_of(a.tx(), patient_id, rows).await?;
            let earlier = more.then(|| messages.first().map(|m| m.seq)).flatten();
            (messages, earlier)
        } else {
            (vec![], None)
        };
        let tasks = tasks_of(a.tx(), clinic_id, patient_id, false).await?;
        let shown = messages.last().map_or(0, |m| m.seq);
        a.record(
            AuditAction::TeamThreadRead,
            Subject::patient(patient_id).with_detail(match access {
                ThreadAccess::Full => reading.detail().to_owned(),
                ThreadAccess::TasksOnly => format!("{} (tasks only)", reading.detail()),
            }),
        )
        .await?;
        if reading.marks_seen() && access == ThreadAccess::Full {
            mark_seen(&mut a, staff_id, patient_id, seen_before, shown, now).await?;
        }
        a.commit().await?;
        Ok(TeamThread {
            patient_id,
            patient_name,
            view: view(access, Thread { messages, tasks }),
            last_seq,
            seen_before,
            earlier,
        })
    }

    /// Posts a message to a patient's thread, its mentions resolved against the clinic's staff
    /// in the same transaction. Only clinicians post messages (coordinators take part through
    /// tasks). Refused with every problem per field; nothing stored then.
    pub async fn post_team_message(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        role: Role,
        form: &MessageForm,
        now: DateTime<Utc>,
    ) -> Result<Posted> {
        if access_of(role)? != ThreadAccess::Full {
            return Err(not_now(
                "Coordinators take part in the care-team thread through its tasks; messages are clinical.",
            ));
        }
        let author = actor.staff_id.ok_or(StoreError::NotFound)?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        patient_name(a.tx(), clinic_id, patient_id).await?;
        let staff = members(a.tx(), clinic_id).await?;
        let m = compose(form, &staff).map_err(invalid)?;
        if let Some(r) = m.reference
            && !reference_is_patients(a.tx(), clinic_id, patient_id, r).await?
        {
            return Err(invalid(FieldErrors::single(
                "link",
                format!(
                    "That {} is not one of this patient's records. Paste the address of one of \
                     their dosing sessions, clinical notes or check-ins, or leave the link empty \
                     (psychotherapy notes are never linked here).",
                    r.kind.label().to_lowercase()
                ),
            )));
        }
        exec!(
            tx(a.tx()),
            "INSERT INTO team_thread (patient_id, clinic_id, last_seq, last_posted_at)
             VALUES ($1,$2,0,$3) ON CONFLICT (patient_id) DO NOTHING",
            patient_id,
            clinic_id,
            now
        );
        let seq = scalar!(
            tx(a.tx()),
            i64,
            "UPDATE team_thread SET last_seq = last_seq + 1, last_posted_at = $3
             WHERE patient_id = $1 AND clinic_id = $2 RETURNING last_seq",
            patient_id,
            clinic_id,
            now
        );
        let id = new_id();
        exec!(
            tx(a.tx()),
            "INSERT INTO team_message (id, clinic_id, patient_id, seq, author_id, body, ref_kind,
                ref_id, posted_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
            id,
            clinic_id,
            patient_id,
            seq,
            author,
            &m.text,
            m.reference.map(|r| r.kind.as_str()),
            m.reference.map(|r| r.id),
            now
        );
        for (i, who) in m.mentions.iter().enumerate() {
            exec!(
                tx(a.tx()),
                "INSERT INTO team_mention (message_id, staff_id, clinic_id, patient_id, seq, ordinal)
                 VALUES ($1,$2,$3,$4,$5,$6)",
                id,
                who,
                clinic_id,
                patient_id,
                seq,
                i as i32
            );
        }
        a.record(
            AuditAction::TeamPosted,
            Subject::record(RecordKind::TeamItem, id)
                .with_patient(Some(patient_id))
                .with_detail(format!("message, {} mention(s)", m.mentions.len())),
        )
        .await?;
        a.commit().await?;
        Ok(Posted { id, seq })
    }

    /// Creates a task on a patient's thread; `today` is the clinic's date (due dates before it
    /// are refused). Refused with every problem per field; nothing stored then.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_team_task(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        role: Role,
        form: &TaskForm,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let access = access_of(role)?;
        let author = actor.staff_id.ok_or(StoreError::NotFound)?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        patient_name(a.tx(), clinic_id, patient_id).await?;
        let staff = members(a.tx(), clinic_id).await?;
        let t = task::parse(form, &staff, access, today).map_err(invalid)?;
        let id = new_id();
        exec!(
            tx(a.tx()),
            "INSERT INTO team_task (id, clinic_id, patient_id, title, detail, assignee_id, due_on,
                status, created_by, created_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
            id,
            clinic_id,
            patient_id,
            &t.title,
            &t.detail,
            t.assignee,
            t.due_on,
            TaskStatus::Open.as_str(),
            author,
            now
        );
        a.record(
            AuditAction::TeamPosted,
            Subject::record(RecordKind::TeamItem, id)
                .with_patient(Some(patient_id))
                .with_detail("task"),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// Marks a task done, cancels it or gives it to someone else, as the domain allows the
    /// reader's role; returns the task's patient. The change is kept as history.
    pub async fn change_team_task(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        task_id: Uuid,
        role: Role,
        action: TaskAction,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let access = access_of(role)?;
        let by = actor.staff_id.ok_or(StoreError::NotFound)?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        // The task's row lock first: two people closing one task find it closed once.
        exec!(
            tx(a.tx()),
            "UPDATE team_task SET assignee_id = assignee_id
             WHERE id = $1 AND clinic_id = $2 AND status = 'open'",
            task_id,
            clinic_id
        );
        let sql = format!("SELECT {TASK_COLS} WHERE t.id = $1 AND t.clinic_id = $2");
        let row = fetch_opt!(
            tx(a.tx()),
            TaskRow,
            sqlx::AssertSqlSafe(sql),
            task_id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        let patient_id = row.patient_id;
        let task = task_of(row, vec![])?;
        let staff = members(a.tx(), clinic_id).await?;
        let d =
            task::decide(&task, action, by, access, &staff).map_err(|e| not_now(e.to_string()))?;
        let closed_at = (d.status != TaskStatus::Open).then_some(now);
        exec!(
            tx(a.tx()),
            "UPDATE team_task SET status = $1, assignee_id = $2, closed_at = $3 WHERE id = $4",
            d.status.as_str(),
            d.assignee,
            closed_at,
            task_id
        );
        exec!(
            tx(a.tx()),
            "INSERT INTO team_task_event (id, task_id, kind, assignee_id, by_id, at)
             VALUES ($1,$2,$3,$4,$5,$6)",
            new_id(),
            task_id,
            d.change.as_str(),
            (d.change == TaskChange::Reassigned).then_some(d.assignee),
            by,
            now
        );
        a.record(
            AuditAction::TeamTaskChanged,
            Subject::record(RecordKind::TeamItem, task_id)
                .with_patient(Some(patient_id))
                .with_detail(d.change.as_str()),
        )
        .await?;
        a.commit().await?;
        Ok(patient_id)
    }

    /// Moves the reader's seen mark on a thread forward to message `up_to` (never past the
    /// thread's newest); whether it moved. Audited when it moves.
    pub async fn mark_team_seen(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        role: Role,
        up_to: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if access_of(role)? != ThreadAccess::Full {
            return Ok(false);
        }
        let staff_id = actor.staff_id.ok_or(StoreError::NotFound)?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        patient_name(a.tx(), clinic_id, patient_id).await?;
        let last = scalar_opt!(
            tx(a.tx()),
            i64,
            "SELECT last_seq FROM team_thread WHERE patient_id = $1 AND clinic_id = $2",
            patient_id,
            clinic_id
        )
        .unwrap_or(0);
        let current = seen_mark(a.tx(), staff_id, patient_id).await?;
        let moved = mark_seen(&mut a, staff_id, patient_id, current, up_to.min(last), now).await?;
        if !moved {
            return Ok(false);
        }
        a.commit().await?;
        Ok(true)
    }

    /// A person's care-team work in their clinic: open tasks given to them and messages that
    /// mention them (audited; coordinators have tasks only). `limit` bounds each list.
    pub async fn my_team_work(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        role: Role,
        scope: WorkScope,
        limit: i64,
    ) -> Result<MyTeamWork> {
        let access = access_of(role)?;
        let me = actor.staff_id.ok_or(StoreError::NotFound)?;
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let limit = limit.clamp(1, 500);
        let sql = format!(
            "{TASK_LINES} WHERE t.assignee_id = $1 AND t.clinic_id = $2 AND t.status = 'open'
             ORDER BY t.due_on, t.created_at, t.id LIMIT $3"
        );
        let tasks = fetch_all!(
            tx(a.tx()),
            TaskLineRow,
            sqlx::AssertSqlSafe(sql),
            me,
            clinic_id,
            limit
        )
        .into_iter()
        .map(task_line)
        .collect::<Result<Vec<_>>>()?;
        let given = if scope == WorkScope::Page {
            let sql = format!(
                "{TASK_LINES} WHERE t.created_by = $1 AND t.clinic_id = $2 AND t.status = 'open'
                 AND t.assignee_id <> $1 ORDER BY t.due_on, t.created_at, t.id LIMIT $3"
            );
            fetch_all!(
                tx(a.tx()),
                TaskLineRow,
                sqlx::AssertSqlSafe(sql),
                me,
                clinic_id,
                limit
            )
            .into_iter()
            .map(task_line)
            .collect::<Result<Vec<_>>>()?
        } else {
            vec![]
        };
        let (mentions, unread) = if access == ThreadAccess::Full {
            let sql =
                format!("{MENTION_LINES} AND {UNREAD} ORDER BY m.posted_at DESC, m.id LIMIT $3");
            let mut list: Vec<MentionLine> = fetch_all!(
                tx(a.tx()),
                MentionLineRow,
                sqlx::AssertSqlSafe(sql),
                me,
                clinic_id,
                limit
            )
            .into_iter()
            .map(|r| mention_line(r, true))
            .collect();
            let count_sql = format!("SELECT COUNT(*) FROM ({MENTION_LINES} AND {UNREAD}) x");
            let unread = scalar!(
                tx(a.tx()),
                i64,
                sqlx::AssertSqlSafe(count_sql),
                me,
                clinic_id
            );
            if scope == WorkScope::Page {
                let sql = format!(
                    "{MENTION_LINES} AND NOT ({UNREAD}) ORDER BY m.posted_at DESC, m.id LIMIT $3"
                );
                list.extend(
                    fetch_all!(
                        tx(a.tx()),
                        MentionLineRow,
                        sqlx::AssertSqlSafe(sql),
                        me,
                        clinic_id,
                        limit
                    )
                    .into_iter()
                    .map(|r| mention_line(r, false)),
                );
            }
            (list, unread)
        } else {
            (vec![], 0)
        };
        a.record(
            AuditAction::TeamThreadRead,
            Subject::none().with_detail(match scope {
                WorkScope::Home => "my work (home)",
                WorkScope::Page => "my work",
            }),
        )
        .await?;
        a.commit().await?;
        Ok(MyTeamWork {
            tasks,
            given,
            mentions,
            unread,
        })
    }

    /// How many mentions of a person in their clinic are unread (not audited: a number, no
    /// patient data).
    pub async fn unread_team_mentions(&self, clinic_id: Uuid, staff_id: Uuid) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM ({MENTION_LINES} AND {UNREAD}) x");
        Ok(scalar!(
            db(&self.db),
            i64,
            sqlx::AssertSqlSafe(sql),
            staff_id,
            clinic_id
        ))
    }

    /// What the prescriber sees of the thread before a dose decision (audited): messages since
    /// the patient's last dosing session ended ([`panel_since`]), the newest [`PANEL_MAX`] of
    /// them, and the patient's open tasks. Reading it does not move the seen mark: it shows a
    /// window of the thread, not the thread.
    pub async fn team_dosing_panel(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        role: Role,
    ) -> Result<DosingPanel> {
        let access = access_of(role)?;
        let staff_id = actor.staff_id.ok_or(StoreError::NotFound)?;
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        patient_name(a.tx(), clinic_id, patient_id).await?;
        let ended = scalar_opt!(
            tx(a.tx()),
            DateTime<Utc>,
            "SELECT discharged_at FROM dosing_session
             WHERE patient_id = $1 AND clinic_id = $2 AND discharged_at IS NOT NULL
             ORDER BY discharged_at DESC LIMIT 1",
            patient_id,
            clinic_id
        );
        let since = panel_since(ended);
        let from = match since {
            PanelSince::LastSession(t) => t,
            PanelSince::WholeThread => DateTime::UNIX_EPOCH,
        };
        let (messages, more) = if access == ThreadAccess::Full {
            let rows = fetch_all!(
                tx(a.tx()),
                MessageRow,
                "SELECT m.id, m.seq, m.author_id, s.full_name AS author_name, m.body, m.ref_kind,
                    m.ref_id, m.posted_at
                 FROM team_message m JOIN staff_user s ON s.id = m.author_id
                 WHERE m.patient_id = $1 AND m.clinic_id = $2 AND m.posted_at > $3
                 ORDER BY m.seq DESC LIMIT $4",
                patient_id,
                clinic_id,
                from,
                PANEL_MAX as i64
            );
            let all = scalar!(
                tx(a.tx()),
                i64,
                "SELECT COUNT(*) FROM team_message
                 WHERE patient_id = $1 AND clinic_id = $2 AND posted_at > $3",
                patient_id,
                clinic_id,
                from
            );
            let shown = rows.len() as i64;
            (messages_of(a.tx(), patient_id, rows).await?, all - shown)
        } else {
            (vec![], 0)
        };
        let open = tasks_of(a.tx(), clinic_id, patient_id, true).await?;
        let seen = seen_mark(a.tx(), staff_id, patient_id).await?;
        a.record(
            AuditAction::TeamThreadRead,
            Subject::patient(patient_id).with_detail("dosing panel"),
        )
        .await?;
        a.commit().await?;
        let open_tasks = view(
            access,
            Thread {
                messages: vec![],
                tasks: open,
            },
        )
        .tasks;
        Ok(DosingPanel {
            since,
            messages,
            more,
            open_tasks,
            seen,
        })
    }
}

/// Whether a linked record is one of the patient's: a dosing session, a clinical note that
/// was not discarded, or a check-in. Psychotherapy notes live apart (their own table) and are
/// never found here, so a link to one is refused like any record that is not the patient's.
async fn reference_is_patients(
    tx: &mut Tx,
    clinic_id: Uuid,
    patient_id: Uuid,
    r: Reference,
) -> Result<bool> {
    let sql = match r.kind {
        ReferenceKind::DosingSession => {
            "SELECT COUNT(*) FROM dosing_session WHERE id = $1 AND patient_id = $2 AND clinic_id = $3"
        }
        ReferenceKind::Note => {
            "SELECT COUNT(*) FROM note WHERE id = $1 AND patient_id = $2 AND clinic_id = $3
             AND discarded_at IS NULL"
        }
        ReferenceKind::Checkin => {
            "SELECT COUNT(*) FROM checkin WHERE id = $1 AND patient_id = $2 AND clinic_id = $3"
        }
    };
    Ok(scalar!(tx(tx), i64, sql, r.id, patient_id, clinic_id) > 0)
}

/// Rows fetched with one more than `limit`: the rows to keep, and whether there were more.
fn split<T>(mut rows: Vec<T>, limit: i64) -> (Vec<T>, bool) {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    (rows, more)
}
