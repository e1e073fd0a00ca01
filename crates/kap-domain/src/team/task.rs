//! Care-team tasks: a title everyone in the thread reads, an optional clinical detail only
//! clinicians read, an assignee and a due date. A task is open until someone marks it done or
//! cancels it — once; a correction is a new task. Clinicians may do either to any task of the
//! patient and give it to someone else; a coordinator completes the tasks given to them and
//! cancels those they created, and writes titles only (a detail is clinical).

use super::{Member, TITLE_MAX, Task, TaskChange, TaskStatus, ThreadAccess, long_text};
use crate::FieldErrors;
use chrono::NaiveDate;
use uuid::Uuid;

/// A task as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskForm {
    pub title: String,
    pub detail: String,
    /// The assignee's id, as the form's list sends it.
    pub assignee: String,
    /// `YYYY-MM-DD`.
    pub due_on: String,
}

/// A checked task, ready to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: String,
    pub detail: String,
    pub assignee: Uuid,
    pub due_on: NaiveDate,
}

fn title(s: &str) -> Result<String, String> {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        return Err("Give the task a title: what is to be done.".to_owned());
    }
    let n = t.chars().count();
    if n > TITLE_MAX {
        return Err(format!(
            "The title is {n} characters long; keep it under {TITLE_MAX} and put the rest in the \
             detail."
        ));
    }
    if t.chars()
        .any(|c| c.is_control() || crate::person::is_bidi_control(c))
    {
        return Err("The title contains characters that cannot be stored.".to_owned());
    }
    Ok(t)
}

/// Checks a new task written by someone with `author` access, on the clinic's `today`.
pub fn parse(
    f: &TaskForm,
    members: &[Member],
    author: ThreadAccess,
    today: NaiveDate,
) -> Result<NewTask, FieldErrors> {
    let mut e = FieldErrors::new();
    let title = e.check("title", title(&f.title));
    let detail = e.check("detail", long_text(&f.detail, "detail"));
    if author == ThreadAccess::TasksOnly && detail.as_ref().is_some_and(|d| !d.is_empty()) {
        e.add(
            "detail",
            "Coordinators write the title only: a task's detail is clinical, and only clinicians \
             read it.",
        );
    }
    let assignee = match Uuid::parse_str(f.assignee.trim())
        .ok()
        .and_then(|id| members.iter().find(|m| m.id == id))
    {
        None => {
            e.add("assignee", "Choose who will do this task.");
            None
        }
        Some(m) if !m.may_be_assigned() => {
            e.add(
                "assignee",
                if m.active {
                    format!(
                        "{} cannot be given tasks: their role does not see the care-team thread.",
                        m.name
                    )
                } else {
                    format!("{} no longer works in this clinic.", m.name)
                },
            );
            None
        }
        Some(m) => Some(m.id),
    };
    let due_on = match NaiveDate::parse_from_str(f.due_on.trim(), "%Y-%m-%d") {
        _ if f.due_on.trim().is_empty() => {
            e.add("due_on", "Give a due date.");
            None
        }
        Err(_) => {
            e.add(
                "due_on",
                "Enter the due date as year-month-day, e.g. 2026-03-14.",
            );
            None
        }
        Ok(d) if d < today => {
            e.add(
                "due_on",
                "The due date is in the past: choose today or a later day.",
            );
            None
        }
        Ok(d) => Some(d),
    };
    match (title, detail, assignee, due_on) {
        (Some(title), Some(detail), Some(assignee), Some(due_on)) if e.is_empty() => Ok(NewTask {
            title,
            detail,
            assignee,
            due_on,
        }),
        _ => Err(e),
    }
}

/// What someone asks to do with a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskAction {
    Done,
    Cancel,
    /// Give it to someone else.
    Reassign(Uuid),
}

/// The change a task takes: its history entry, new status and assignee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    pub change: TaskChange,
    pub status: TaskStatus,
    pub assignee: Uuid,
}

/// Why a change of a task is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskRefused {
    #[error("This task is {} already; it does not change again. Create a new task if more is to be done.", .0.label().to_lowercase())]
    Closed(TaskStatus),
    #[error("Only the person this task was given to, or a clinician, marks it done.")]
    NotYours,
    #[error("Only the person who created this task, or a clinician, cancels it.")]
    NotCreator,
    #[error("Only a clinician gives a task to someone else.")]
    NoReassign,
    #[error("This task is already given to {0}.")]
    SameAssignee(String),
    #[error("{0}")]
    Assignee(String),
}

/// What someone may do with a task now: the buttons a page shows, and what [`decide`] allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permitted {
    pub done: bool,
    pub cancel: bool,
    pub reassign: bool,
}

impl Permitted {
    pub fn any(self) -> bool {
        self.done || self.cancel || self.reassign
    }
}

/// What `by` (with `access`) may do with a task of this status, assignee and creator.
pub fn permitted(
    status: TaskStatus,
    assignee: Uuid,
    created_by: Uuid,
    by: Uuid,
    access: ThreadAccess,
) -> Permitted {
    if status != TaskStatus::Open {
        return Permitted::default();
    }
    let clinician = access == ThreadAccess::Full;
    Permitted {
        done: clinician || assignee == by,
        cancel: clinician || created_by == by,
        reassign: clinician,
    }
}

/// Decides a change of `task` asked by `by` (with `access`), against the clinic's members.
pub fn decide(
    task: &Task,
    action: TaskAction,
    by: Uuid,
    access: ThreadAccess,
    members: &[Member],
) -> Result<Decided, TaskRefused> {
    if task.status != TaskStatus::Open {
        return Err(TaskRefused::Closed(task.status));
    }
    let may = permitted(
        task.status,
        task.assignee.id,
        task.created_by.id,
        by,
        access,
    );
    match action {
        TaskAction::Done => {
            if !may.done {
                return Err(TaskRefused::NotYours);
            }
            Ok(Decided {
                change: TaskChange::Done,
                status: TaskStatus::Done,
                assignee: task.assignee.id,
            })
        }
        TaskAction::Cancel => {
            if !may.cancel {
                return Err(TaskRefused::NotCreator);
            }
            Ok(Decided {
                change: TaskChange::Cancelled,
                status: TaskStatus::Cancelled,
                assignee: task.assignee.id,
            })
        }
        TaskAction::Reassign(to) => {
            if !may.reassign {
                return Err(TaskRefused::NoReassign);
            }
            let m = members
                .iter()
                .find(|m| m.id == to)
                .ok_or_else(|| TaskRefused::Assignee("Choose who will do this task.".to_owned()))?;
            if !m.may_be_assigned() {
                return Err(TaskRefused::Assignee(format!(
                    "{} cannot be given tasks.",
                    m.name
                )));
            }
            if to == task.assignee.id {
                return Err(TaskRefused::SameAssignee(m.name.clone()));
            }
            Ok(Decided {
                change: TaskChange::Reassigned,
                status: TaskStatus::Open,
                assignee: to,
            })
        }
    }
}
