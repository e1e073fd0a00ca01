//! What the prescriber sees of the care-team thread on the dosing session page, before a dose
//! decision: the messages since the patient's last dosing session ended (the whole thread
//! before a first dose), the newest of them, and the patient's open tasks
//! (`kap_domain::team::panel_since` says why that window). Reading it is audited and does not
//! mark the thread seen: it shows a window of the thread, with a link to the whole of it.

use super::thread::{MessageLine, TaskLine, message_lines, task_lines};
use crate::AppState;
use crate::http::Staff;
use crate::http::error::AppResult;
use crate::http::view::fragment;
use askama::Template;
use kap_domain::team::{PANEL_MAX, PanelSince, ThreadAccess, access};
use uuid::Uuid;

#[derive(Template)]
#[template(path = "team/_dosing.html")]
struct Panel {
    patient_id: Uuid,
    /// When the last dosing session ended, as the page shows it (none: no session has).
    since: Option<String>,
    messages: Vec<MessageLine>,
    more: i64,
    tasks: Vec<TaskLine>,
    max: usize,
}

/// The panel for the dosing session page, or nothing for a reader who sees no messages.
pub(crate) async fn dosing_panel(
    st: &AppState,
    staff: &Staff,
    patient: Uuid,
) -> AppResult<Option<String>> {
    let Some(access) = access(staff.role()) else {
        return Ok(None);
    };
    if access != ThreadAccess::Full {
        return Ok(None);
    }
    let p = st
        .store
        .team_dosing_panel(&staff.actor(), staff.clinic_id(), patient, staff.role())
        .await?;
    fragment(&Panel {
        patient_id: patient,
        since: match p.since {
            PanelSince::LastSession(t) => Some(staff.tz.format(&t)),
            PanelSince::WholeThread => None,
        },
        messages: message_lines(p.messages, p.seen, staff.staff_id(), staff.tz),
        more: p.more,
        tasks: task_lines(p.open_tasks, staff, access),
        max: PANEL_MAX,
    })
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone as _, Utc};
    use kap_domain::team::task::Permitted;
    use kap_domain::team::{Message, Person, TaskStatus, TaskView};

    fn person(n: u128, name: &str) -> Person {
        Person {
            id: Uuid::from_u128(n),
            name: name.into(),
        }
    }

    #[test]
    fn the_panel_says_where_its_messages_start_and_links_to_the_rest() {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 14, 0, 0).unwrap();
        let m = Message {
            id: Uuid::from_u128(9),
            seq: 7,
            author: person(2, "Theo Therapist"),
            text: "Integration: sleeping better.\n@Priya Prescriber before the dose".into(),
            mentions: vec![person(1, "Priya Prescriber")],
            reference: None,
            posted_at: at,
        };
        let t = TaskView {
            id: Uuid::from_u128(5),
            patient_id: Uuid::from_u128(4),
            title: "Check blood pressure at home".into(),
            detail: Some("Evening readings".into()),
            assignee: person(3, "Nina Nurse"),
            due_on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            status: TaskStatus::Open,
            created_by: person(2, "Theo Therapist"),
            created_at: at,
            history: vec![],
        };
        let html = fragment(&Panel {
            patient_id: Uuid::from_u128(4),
            since: Some("2026-02-27 11:40 UTC".into()),
            messages: message_lines(
                vec![m],
                6,
                Uuid::from_u128(1),
                kap_domain::time::TimeZone::UTC,
            ),
            more: 3,
            tasks: vec![TaskLine {
                t,
                created: String::new(),
                overdue: true,
                may: Permitted::default(),
                history: vec![],
            }],
            max: PANEL_MAX,
        })
        .unwrap();
        assert!(
            html.contains("Messages since the last dosing session ended (2026-02-27 11:40 UTC)")
        );
        assert!(html.contains("3 earlier messages in the thread"));
        assert!(html.contains("Integration: sleeping better."));
        assert!(html.contains("<span class=\"badge new\">New</span>"));
        assert!(html.contains("Check blood pressure at home"));
        assert!(html.contains("Overdue"));
        assert!(html.contains("Evening readings"));
    }
}
