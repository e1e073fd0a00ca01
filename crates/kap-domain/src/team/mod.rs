//! The care-team thread per patient: messages with @mentions, tasks with an assignee and a due
//! date, and "seen" marks; who may see what of it.
//!
//! KAP is a prescriber and a therapist treating one patient together (issue 12, item 5): what the
//! therapist hears in integration must reach the prescriber before the next dose decision. The
//! thread is part of the record and follows its rules:
//!
//! - **Nothing is edited or deleted.** A message stays as it was posted; a correction is a new
//!   message. A task's title, detail and creator never change; its status moves once, from open
//!   to done or cancelled, and every change (with who and when) is kept as history.
//! - **Who sees what** ([`access`], [`view`]): clinicians (who read notes) see the whole
//!   thread; coordinators see its tasks — title, assignee, due date, status — and never a
//!   message or a task's clinical detail. Administrators see no thread at all.
//! - **Psychotherapy notes never enter it**: a message is typed text with at most a *link* to a
//!   record ([`Reference`]); there is no way to attach a note's content, and opening a link
//!   follows the linked record's own access rules.
//! - **Mentions** ([`mention`]) are resolved against the clinic's staff when a message is
//!   posted: an unknown or ambiguous name, or someone who cannot read messages, is refused with
//!   words that say what to do — never silently dropped.
//! - **Tasks** ([`task`]): who may create, complete, cancel and reassign.

pub mod mention;
pub mod task;

#[cfg(test)]
mod tests;

use crate::permission::{Action, Role, allows};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// The one documented limit for long text (notes, check-ins, the thread), in characters per
/// field. Beyond it a message is refused with words naming the limit, never truncated.
pub use crate::notes::LONG_TEXT_MAX;

/// A task's title is one line that coordinators read too.
pub const TITLE_MAX: usize = 200;

/// How many messages the dosing panel shows at most (the newest); the rest are a link away.
pub const PANEL_MAX: usize = 20;

/// How much of a message the home page's list of mentions shows.
pub const EXCERPT_CHARS: usize = 140;

/// What part of a thread someone may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadAccess {
    /// Clinicians: messages, mentions, tasks with their detail.
    Full,
    /// Coordinators: tasks without their clinical detail; no messages.
    TasksOnly,
}

/// What of the care-team thread a role may see: none without [`Action::ReadTeamThread`]; all of
/// it with [`Action::ReadNotes`] as well (the thread is clinical text like a note); otherwise its
/// tasks only.
pub fn access(role: Role) -> Option<ThreadAccess> {
    if !allows(role, Action::ReadTeamThread) {
        None
    } else if allows(role, Action::ReadNotes) {
        Some(ThreadAccess::Full)
    } else {
        Some(ThreadAccess::TasksOnly)
    }
}

/// A member of the clinic's staff, as the thread knows them (active or not, any role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

impl Member {
    /// Whether a message may mention them: an active member who reads messages.
    pub fn may_be_mentioned(&self) -> bool {
        self.active && access(self.role) == Some(ThreadAccess::Full)
    }

    /// Whether a task may be given to them: an active member who takes part in the thread.
    pub fn may_be_assigned(&self) -> bool {
        self.active && allows(self.role, Action::PostTeamThread)
    }
}

/// Someone named on a message or task: their id and their name when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: Uuid,
    pub name: String,
}

crate::code::coded_enum! {
    /// The kind of record a message may link to.
    pub enum ReferenceKind as "linked record" {
        DosingSession = "dosing_session" / "Dosing session",
        Note = "note" / "Note",
        Checkin = "checkin" / "Check-in",
    }
}

/// A link from a message to a record of the same patient: its kind and id, never its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    pub kind: ReferenceKind,
    pub id: Uuid,
}

impl ReferenceKind {
    /// The first segment of the record's page address.
    fn segment(self) -> &'static str {
        match self {
            Self::DosingSession => "dosing",
            Self::Note => "notes",
            Self::Checkin => "checkins",
        }
    }
}

impl Reference {
    /// The address of the record's page.
    pub fn path(&self) -> String {
        format!("/{}/{}", self.kind.segment(), self.id)
    }

    /// A link as staff paste it: the record page's address, with or without the site
    /// (`https://kap.example.org/dosing/…`, `/notes/…`). Blank is no link.
    pub fn parse(s: &str) -> Result<Option<Reference>, String> {
        let t = s.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let bad = || {
            "Paste the address of one of this patient's dosing sessions, notes or check-ins \
             (it looks like /dosing/…, /notes/… or /checkins/…), or leave the link empty."
                .to_owned()
        };
        // Drop the scheme and host, then any query or fragment.
        let path = match t.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
            None => t,
        };
        let path = path.split(['?', '#']).next().unwrap_or("");
        let mut parts = path.trim_matches('/').split('/');
        let (Some(seg), Some(id), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let kind = ReferenceKind::ALL
            .into_iter()
            .find(|k| k.segment() == seg)
            .ok_or_else(bad)?;
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        Ok(Some(Reference { kind, id }))
    }
}

/// A message as posted: it never changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: Uuid,
    /// Its position in the thread: 1 for the first message, one more for each after it.
    pub seq: i64,
    pub author: Person,
    pub text: String,
    /// The people it mentions, in the order they were written.
    pub mentions: Vec<Person>,
    pub reference: Option<Reference>,
    pub posted_at: DateTime<Utc>,
}

crate::code::coded_enum! {
    /// Where a task stands.
    pub enum TaskStatus as "task status" {
        Open = "open" / "Open",
        Done = "done" / "Done",
        Cancelled = "cancelled" / "Cancelled",
    }
}

crate::code::coded_enum! {
    /// One change of a task, kept as history.
    pub enum TaskChange as "task change" {
        Done = "done" / "Marked done",
        Cancelled = "cancelled" / "Cancelled",
        Reassigned = "reassigned" / "Given to someone else",
    }
}

/// A change of a task: what, to whom (a reassignment), by whom and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEvent {
    pub change: TaskChange,
    /// The new assignee, for a reassignment.
    pub assignee: Option<Person>,
    pub by: Person,
    pub at: DateTime<Utc>,
}

/// A task of a patient's care team, with its history (oldest change first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: Uuid,
    pub patient_id: Uuid,
    /// One line; coordinators read it.
    pub title: String,
    /// Clinical detail (may be empty); only clinicians read it.
    pub detail: String,
    pub assignee: Person,
    pub due_on: NaiveDate,
    pub status: TaskStatus,
    pub created_by: Person,
    pub created_at: DateTime<Utc>,
    pub history: Vec<TaskEvent>,
}

/// Whether a task is open past its due date (`today` is the clinic's).
pub fn is_overdue(status: TaskStatus, due_on: NaiveDate, today: NaiveDate) -> bool {
    status == TaskStatus::Open && due_on < today
}

impl Task {
    pub fn overdue(&self, today: NaiveDate) -> bool {
        is_overdue(self.status, self.due_on, today)
    }
}

/// A task as one viewer may see it: the detail only for those with [`ThreadAccess::Full`], and
/// only when one was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskView {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub title: String,
    pub detail: Option<String>,
    pub assignee: Person,
    pub due_on: NaiveDate,
    pub status: TaskStatus,
    pub created_by: Person,
    pub created_at: DateTime<Utc>,
    pub history: Vec<TaskEvent>,
}

impl TaskView {
    pub fn overdue(&self, today: NaiveDate) -> bool {
        is_overdue(self.status, self.due_on, today)
    }

    pub fn open(&self) -> bool {
        self.status == TaskStatus::Open
    }
}

/// A patient's thread as stored (or the part of it that was read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thread {
    /// Oldest first.
    pub messages: Vec<Message>,
    pub tasks: Vec<Task>,
}

/// A thread as one viewer may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadView {
    pub access: ThreadAccess,
    /// Oldest first; always empty for [`ThreadAccess::TasksOnly`].
    pub messages: Vec<Message>,
    pub tasks: Vec<TaskView>,
}

/// One task as a viewer with `access` may see it.
pub fn task_view(access: ThreadAccess, t: Task) -> TaskView {
    let detail = match access {
        ThreadAccess::Full if !t.detail.trim().is_empty() => Some(t.detail),
        _ => None,
    };
    TaskView {
        id: t.id,
        patient_id: t.patient_id,
        title: t.title,
        detail,
        assignee: t.assignee,
        due_on: t.due_on,
        status: t.status,
        created_by: t.created_by,
        created_at: t.created_at,
        history: t.history,
    }
}

/// The thread as a viewer with `access` may see it: coordinators get the tasks without their
/// detail and no messages at all — whatever the thread holds.
pub fn view(access: ThreadAccess, thread: Thread) -> ThreadView {
    let messages = match access {
        ThreadAccess::Full => thread.messages,
        ThreadAccess::TasksOnly => Vec::new(),
    };
    let mut tasks: Vec<TaskView> = thread
        .tasks
        .into_iter()
        .map(|t| task_view(access, t))
        .collect();
    sort_tasks(&mut tasks);
    ThreadView {
        access,
        messages,
        tasks,
    }
}

/// Tasks in the order people work them: open ones first, by due date (so the overdue lead),
/// then the closed ones, most recently created first.
pub fn sort_tasks(tasks: &mut [TaskView]) {
    tasks.sort_by(|a, b| {
        b.open().cmp(&a.open()).then_with(|| {
            if a.open() {
                a.due_on
                    .cmp(&b.due_on)
                    .then(a.created_at.cmp(&b.created_at))
            } else {
                b.created_at.cmp(&a.created_at)
            }
        })
    });
}

/// A message's text, checked: not blank, at most [`LONG_TEXT_MAX`] characters (refused beyond,
/// never truncated), no control characters but line breaks and tabs, no invisible direction
/// controls. Line breaks are kept as typed (made `\n`).
pub fn message_text(s: &str) -> Result<String, String> {
    long_text(s, "message").and_then(|t| {
        if t.is_empty() {
            Err("Write the message.".to_owned())
        } else {
            Ok(t)
        }
    })
}

/// Optional long text (a task's detail): blank is allowed; the same limit and characters as a
/// message.
pub fn long_text(s: &str, what: &str) -> Result<String, String> {
    let t = s.replace("\r\n", "\n").replace('\r', "\n");
    let t = t.trim();
    let n = t.chars().count();
    if n > LONG_TEXT_MAX {
        return Err(format!(
            "The {what} is {} characters long; the limit is {} characters. Nothing was saved: \
             shorten it, or split it in two.",
            thousands(n),
            thousands(LONG_TEXT_MAX)
        ));
    }
    if t.chars().any(crate::person::is_bidi_control) {
        return Err(format!(
            "The {what} contains invisible text-direction characters, which can make it display \
             as something else. Please type it again without them."
        ));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(format!(
            "The {what} contains characters that cannot be stored."
        ));
    }
    Ok(t.to_owned())
}

/// 20000 → "20,000".
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The start of a text for a list: whole words up to `max` characters, with "…" when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => cut[..i].to_owned(),
        _ => cut,
    };
    format!("{}…", cut.trim_end())
}

/// Where a staff member's seen mark moves when they were shown the thread up to message
/// `shown`: forward only (a page of older messages never makes newer ones unread), and not at
/// all when nothing new was shown.
pub fn advance_seen(current: i64, shown: i64) -> Option<i64> {
    (shown > current).then_some(shown)
}

/// Where the dosing panel's messages start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelSince {
    /// The end (discharge) of the patient's most recent dosing session.
    LastSession(DateTime<Utc>),
    /// No dosing session has ended yet: the whole thread (its newest messages).
    WholeThread,
}

/// The messages a prescriber sees before a dose decision start where the previous dosing
/// session ended: integration work on that session is what informs the next dose, and
/// everything said before it was there to be read before the previous decision. A fixed
/// window (say 14 days) would hide observations when sessions are further apart and repeat old
/// ones when they are closer. Before a first dose, the whole thread counts (preparation). Both
/// are capped at the newest [`PANEL_MAX`] messages, with a link to the rest.
pub fn panel_since(last_session_ended: Option<DateTime<Utc>>) -> PanelSince {
    match last_session_ended {
        Some(t) => PanelSince::LastSession(t),
        None => PanelSince::WholeThread,
    }
}
