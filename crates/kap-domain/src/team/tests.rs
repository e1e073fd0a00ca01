//! The care-team thread's rules: who sees what (issue 12 item 5: "coordinators see tasks, not
//! clinical text"), mentions resolved against the clinic's staff, the long-text limit, tasks
//! and their one change of status, seen marks and the dosing panel's window.

use super::mention::{MentionProblem, MessageForm, compose, find, resolve};
use super::task::{self, TaskAction, TaskForm, TaskRefused, decide};
use super::*;
use chrono::{Duration, TimeZone};
use proptest::prelude::*;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn member(n: u128, name: &str, role: Role) -> Member {
    Member {
        id: id(n),
        name: name.to_owned(),
        role,
        active: true,
    }
}

/// The clinic of the examples: a prescriber, a therapist, a nurse, a coordinator, an
/// administrator, two nurses called Sam Lee, and a therapist who left.
fn clinic() -> Vec<Member> {
    vec![
        member(1, "Priya Prescriber", Role::Prescriber),
        member(2, "Theo Therapist", Role::Therapist),
        member(3, "Nina Nurse", Role::Nurse),
        member(4, "Cora Coordinator", Role::Coordinator),
        member(5, "Ada Admin", Role::Admin),
        member(6, "Sam Lee", Role::Nurse),
        member(7, "Sam Lee", Role::Nurse),
        Member {
            active: false,
            ..member(8, "Lena Left", Role::Therapist)
        },
        member(9, "Łucja García-Núñez", Role::Therapist),
    ]
}

fn form(text: &str) -> MessageForm {
    MessageForm {
        text: text.to_owned(),
        ..MessageForm::default()
    }
}

fn t(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::minutes(minute)
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

fn person(n: u128, name: &str) -> Person {
    Person {
        id: id(n),
        name: name.to_owned(),
    }
}

fn a_task(n: u128, assignee: u128, created_by: u128, due: u32) -> Task {
    Task {
        id: id(1000 + n),
        patient_id: id(500),
        title: format!("Task {n}"),
        detail: format!("Clinical detail {n}"),
        assignee: person(assignee, "Assignee"),
        due_on: day(due),
        status: TaskStatus::Open,
        created_by: person(created_by, "Creator"),
        created_at: t(n as i64),
        history: vec![],
    }
}

// --- who sees what ------------------------------------------------------------------------

#[test]
fn clinicians_see_the_whole_thread_coordinators_its_tasks_administrators_nothing() {
    for r in [Role::Prescriber, Role::Nurse, Role::Therapist] {
        assert_eq!(access(r), Some(ThreadAccess::Full), "{r:?}");
    }
    assert_eq!(access(Role::Coordinator), Some(ThreadAccess::TasksOnly));
    assert_eq!(access(Role::Admin), None);
}

#[test]
fn a_coordinators_view_has_tasks_without_their_detail_and_no_messages() {
    let thread = Thread {
        messages: vec![Message {
            id: id(70),
            seq: 1,
            author: person(2, "Theo Therapist"),
            text: "Integration: she felt flooded for two days after the dose".to_owned(),
            mentions: vec![person(1, "Priya Prescriber")],
            reference: None,
            posted_at: t(0),
        }],
        tasks: vec![a_task(1, 4, 2, 10)],
    };
    let v = view(ThreadAccess::TasksOnly, thread.clone());
    assert!(v.messages.is_empty());
    assert_eq!(v.tasks.len(), 1);
    assert_eq!(v.tasks[0].title, "Task 1");
    assert_eq!(v.tasks[0].detail, None);
    let full = view(ThreadAccess::Full, thread);
    assert_eq!(full.messages.len(), 1);
    assert_eq!(full.tasks[0].detail.as_deref(), Some("Clinical detail 1"));
}

#[test]
fn open_tasks_come_first_by_due_date_so_the_overdue_lead() {
    let mut done = a_task(1, 3, 2, 1);
    done.status = TaskStatus::Done;
    let thread = Thread {
        messages: vec![],
        tasks: vec![
            a_task(2, 3, 2, 20),
            done,
            a_task(3, 3, 2, 5),
            a_task(4, 3, 2, 12),
        ],
    };
    let v = view(ThreadAccess::Full, thread);
    let order: Vec<&str> = v.tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(order, ["Task 3", "Task 4", "Task 2", "Task 1"]);
    assert!(v.tasks[0].overdue(day(6)));
    assert!(!v.tasks[1].overdue(day(6)));
    assert!(!v.tasks[3].overdue(day(30)), "a done task is never overdue");
}

// --- mentions ------------------------------------------------------------------------------

#[test]
fn a_full_name_a_dotted_name_and_any_case_or_accents_resolve_to_the_member() {
    let c = clinic();
    let m = compose(
        &form("@Priya Prescriber she slept badly; cc @theo.therapist and @lucja garcia-nunez."),
        &c,
    )
    .unwrap();
    assert_eq!(m.mentions, vec![id(1), id(2), id(9)]);
    let found = find("Note for @PRIYA PRESCRIBER's review", &c);
    assert_eq!(found[0].written, "@PRIYA PRESCRIBER");
    assert_eq!(found[0].matches, vec![id(1)]);
}

#[test]
fn emails_and_a_lone_at_sign_are_not_mentions() {
    let c = clinic();
    assert!(find("write to sam@example.org at 5 @ 6pm, or @ home", &c).is_empty());
    let m = compose(&form("call back @ 3pm, mail a@b.org"), &c).unwrap();
    assert!(m.mentions.is_empty());
}

#[test]
fn an_unknown_mention_is_refused_with_what_to_do() {
    let c = clinic();
    let e = compose(&form("@Priya please look before Thursday"), &c).unwrap_err();
    assert_eq!(
        e.get("text"),
        Some("No one in this clinic is called “@Priya”. Did you mean @Priya Prescriber?")
    );
    let e = compose(&form("ask @Someone Else"), &c).unwrap_err();
    assert!(
        e.get("text")
            .unwrap()
            .starts_with("No one in this clinic is called “@Someone”."),
        "{e}"
    );
}

#[test]
fn a_name_two_people_share_is_refused_unless_the_picker_says_which() {
    let c = clinic();
    let e = compose(&form("@Sam Lee can you call her"), &c).unwrap_err();
    assert!(
        e.get("text").unwrap().contains("More than one person"),
        "{e}"
    );
    let mut f = form("@Sam Lee can you call her");
    f.picked = vec![id(7)];
    assert_eq!(compose(&f, &c).unwrap().mentions, vec![id(7)]);
}

#[test]
fn coordinators_administrators_and_former_staff_cannot_be_mentioned() {
    let c = clinic();
    let e = compose(&form("@Cora Coordinator please reschedule"), &c).unwrap_err();
    assert_eq!(
        e.get("text"),
        Some(
            "Cora Coordinator cannot be mentioned: coordinators do not see care-team messages. Give them a task instead."
        )
    );
    assert!(compose(&form("@Ada Admin"), &c).is_err());
    let e = compose(&form("@Lena Left"), &c).unwrap_err();
    assert!(e.get("text").unwrap().contains("no longer works"), "{e}");
    // Ticked in the picker: the problem shows beside the picker.
    let mut f = form("Please reschedule");
    f.picked = vec![id(4), id(99)];
    let e = compose(&f, &c).unwrap_err();
    let msg = e.get("mentions").unwrap();
    assert!(
        msg.contains("Cora Coordinator cannot be mentioned"),
        "{msg}"
    );
    assert!(msg.contains("not on this clinic's list"), "{msg}");
    assert_eq!(e.get("text"), None);
}

#[test]
fn picked_and_written_mentions_are_kept_once_written_first() {
    let c = clinic();
    let mut f = form("@Nina Nurse and @Priya Prescriber, and again @priya.prescriber");
    f.picked = vec![id(2), id(1)];
    assert_eq!(compose(&f, &c).unwrap().mentions, vec![id(3), id(1), id(2)]);
}

#[test]
fn the_longest_matching_name_wins() {
    let mut c = clinic();
    c.push(member(20, "Sam", Role::Therapist));
    assert_eq!(find("@Sam Lee", &c)[0].matches, vec![id(6), id(7)]);
    assert_eq!(find("@Sam, hello", &c)[0].matches, vec![id(20)]);
}

// --- text and links ---------------------------------------------------------------------------

#[test]
fn a_message_up_to_the_limit_is_kept_whole_and_one_beyond_is_refused_naming_the_limit() {
    let c = clinic();
    let at_limit = "é".repeat(LONG_TEXT_MAX);
    assert_eq!(compose(&form(&at_limit), &c).unwrap().text, at_limit);
    let e = compose(&form(&format!("{at_limit}x")), &c).unwrap_err();
    assert_eq!(
        e.get("text"),
        Some(
            "The message is 20,001 characters long; the limit is 20,000 characters. Nothing was saved: shorten it, or split it in two."
        )
    );
    assert_eq!(
        compose(&form("   \n "), &c).unwrap_err().get("text"),
        Some("Write the message.")
    );
    assert!(compose(&form("abc\u{202E}def"), &c).is_err());
}

#[test]
fn a_link_names_a_dosing_session_note_or_check_in_by_its_address() {
    let u = "0195f1d2-7a3b-7c4d-8e9f-0a1b2c3d4e5f";
    let r = Reference::parse(&format!("https://kap.example.org/dosing/{u}?x=1#top"))
        .unwrap()
        .unwrap();
    assert_eq!(r.kind, ReferenceKind::DosingSession);
    assert_eq!(r.path(), format!("/dosing/{u}"));
    assert_eq!(
        Reference::parse(&format!("/notes/{u}"))
            .unwrap()
            .unwrap()
            .kind,
        ReferenceKind::Note
    );
    assert_eq!(Reference::parse("  ").unwrap(), None);
    for bad in [
        "/patients/x",
        &format!("/admin/{u}"),
        "/dosing/not-an-id",
        &format!("/dosing/{u}/rems"),
    ] {
        assert!(Reference::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn an_excerpt_cuts_at_a_word_and_says_so() {
    assert_eq!(excerpt("short\n text", 20), "short text");
    assert_eq!(excerpt("one two three four five", 12), "one two…");
    assert_eq!(excerpt(&"é".repeat(30), 10), format!("{}…", "é".repeat(10)));
}

// --- tasks ---------------------------------------------------------------------------------

fn task_form(assignee: u128, due: &str) -> TaskForm {
    TaskForm {
        title: "Reschedule Thursday's session".to_owned(),
        detail: String::new(),
        assignee: id(assignee).to_string(),
        due_on: due.to_owned(),
    }
}

#[test]
fn a_task_needs_a_title_an_assignee_who_takes_part_and_a_due_date_not_past() {
    let c = clinic();
    let t = task::parse(&task_form(4, "2026-03-05"), &c, ThreadAccess::Full, day(2)).unwrap();
    assert_eq!((t.assignee, t.due_on), (id(4), day(5)));
    let e = task::parse(
        &TaskForm {
            title: " ".into(),
            ..task_form(5, "2026-03-01")
        },
        &c,
        ThreadAccess::Full,
        day(2),
    )
    .unwrap_err();
    assert!(e.get("title").is_some());
    assert!(
        e.get("assignee")
            .unwrap()
            .starts_with("Ada Admin cannot be given tasks")
    );
    assert_eq!(
        e.get("due_on"),
        Some("The due date is in the past: choose today or a later day.")
    );
    let e = task::parse(&task_form(8, "5 March"), &c, ThreadAccess::Full, day(2)).unwrap_err();
    assert!(e.get("assignee").unwrap().contains("no longer works"));
    assert!(e.get("due_on").unwrap().starts_with("Enter the due date"));
}

#[test]
fn coordinators_write_task_titles_but_no_clinical_detail() {
    let c = clinic();
    let mut f = task_form(3, "2026-03-02");
    f.detail = "BP was 150/95 at the last session".into();
    let e = task::parse(&f, &c, ThreadAccess::TasksOnly, day(2)).unwrap_err();
    assert!(
        e.get("detail")
            .unwrap()
            .starts_with("Coordinators write the title only")
    );
    assert!(task::parse(&f, &c, ThreadAccess::Full, day(2)).is_ok());
}

#[test]
fn a_task_closes_once_and_coordinators_close_only_their_own() {
    let c = clinic();
    let task = a_task(1, 4, 2, 10); // given to the coordinator by the therapist
    let coord = ThreadAccess::TasksOnly;
    let d = decide(&task, TaskAction::Done, id(4), coord, &c).unwrap();
    assert_eq!((d.change, d.status), (TaskChange::Done, TaskStatus::Done));
    assert_eq!(
        decide(&task, TaskAction::Cancel, id(4), coord, &c),
        Err(TaskRefused::NotCreator)
    );
    assert_eq!(
        decide(&task, TaskAction::Reassign(id(3)), id(4), coord, &c),
        Err(TaskRefused::NoReassign)
    );
    let nurses = a_task(2, 3, 4, 10); // given to the nurse by the coordinator
    assert_eq!(
        decide(&nurses, TaskAction::Done, id(4), coord, &c),
        Err(TaskRefused::NotYours)
    );
    assert!(decide(&nurses, TaskAction::Cancel, id(4), coord, &c).is_ok());
    // Clinicians work any task of the patient.
    assert!(decide(&task, TaskAction::Cancel, id(1), ThreadAccess::Full, &c).is_ok());
    let r = decide(
        &task,
        TaskAction::Reassign(id(3)),
        id(1),
        ThreadAccess::Full,
        &c,
    )
    .unwrap();
    assert_eq!((r.status, r.assignee), (TaskStatus::Open, id(3)));
    assert!(matches!(
        decide(
            &task,
            TaskAction::Reassign(id(4)),
            id(1),
            ThreadAccess::Full,
            &c
        ),
        Err(TaskRefused::SameAssignee(_))
    ));
    assert!(
        decide(
            &task,
            TaskAction::Reassign(id(5)),
            id(1),
            ThreadAccess::Full,
            &c
        )
        .is_err()
    );
    let mut closed = task.clone();
    closed.status = TaskStatus::Done;
    for a in [
        TaskAction::Done,
        TaskAction::Cancel,
        TaskAction::Reassign(id(3)),
    ] {
        assert_eq!(
            decide(&closed, a, id(1), ThreadAccess::Full, &c),
            Err(TaskRefused::Closed(TaskStatus::Done))
        );
    }
    assert_eq!(
        TaskRefused::Closed(TaskStatus::Cancelled).to_string(),
        "This task is cancelled already; it does not change again. Create a new task if more is to be done."
    );
}

// --- seen marks and the dosing panel ---------------------------------------------------------

#[test]
fn a_seen_mark_only_moves_forward() {
    assert_eq!(advance_seen(0, 3), Some(3));
    assert_eq!(advance_seen(5, 3), None);
    assert_eq!(advance_seen(5, 5), None);
}

#[test]
fn the_dosing_panel_starts_where_the_last_session_ended_or_shows_the_whole_thread() {
    assert_eq!(panel_since(Some(t(0))), PanelSince::LastSession(t(0)));
    assert_eq!(panel_since(None), PanelSince::WholeThread);
}

// --- properties ----------------------------------------------------------------------------

fn any_role() -> impl Strategy<Value = Role> {
    prop::sample::select(Role::ALL.to_vec())
}

prop_compose! {
    fn any_member(n: u128)(
        name in prop::sample::select(vec![
            "Priya Prescriber", "Theo Therapist", "Sam Lee", "Sam", "Łucja García-Núñez",
            "Zoë Ødegård", "Thị Lan Nguyễn", "O'Brien", "A B C D E F G",
        ]),
        role in any_role(),
        active in any::<bool>(),
    ) -> Member {
        Member { id: id(n), name: name.to_owned(), role, active }
    }
}

fn any_members() -> impl Strategy<Value = Vec<Member>> {
    (0usize..6).prop_flat_map(|n| {
        (0..n)
            .map(|i| any_member(i as u128 + 1))
            .collect::<Vec<_>>()
    })
}

/// Text mixing arbitrary characters, @ signs and the members' names.
fn any_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            any::<String>(),
            Just("@".to_owned()),
            Just(" @".to_owned()),
            Just("@Sam Lee".to_owned()),
            Just("@priya.prescriber".to_owned()),
            Just("@ŁUCJA GARCÍA-NÚÑEZ’s".to_owned()),
            Just("\n".to_owned()),
            "[a-zA-Z .,@'’]{0,12}",
        ],
        0..10,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn mention_parsing_never_panics_and_every_mention_is_a_member_who_may_be_mentioned(
        text in any_text(),
        members in any_members(),
        picked in prop::collection::vec(0u128..8, 0..3),
    ) {
        let picked: Vec<Uuid> = picked.into_iter().map(id).collect();
        let _ = find(&text, &members);
        let f = MessageForm { text: text.clone(), picked, link: String::new() };
        if let Ok(m) = compose(&f, &members) {
            for who in &m.mentions {
                let found = members.iter().find(|x| x.id == *who);
                prop_assert!(found.is_some_and(Member::may_be_mentioned), "{who} in {members:?}");
            }
            let mut unique = m.mentions.clone();
            unique.sort();
            unique.dedup();
            prop_assert_eq!(unique.len(), m.mentions.len());
        }
    }

    #[test]
    fn a_mention_of_no_one_in_the_clinic_is_always_refused(
        before in "[a-z ]{0,20}",
        after in "[a-z ,.]{0,20}",
        members in any_members(),
    ) {
        // "Xyzzy" is nobody's name, nor the start of one.
        let text = format!("{before} @Xyzzy{after}");
        let r = resolve(&text, &[], &members);
        let refused = r
            .as_ref()
            .is_err_and(|p| p.iter().any(|x| matches!(x, MentionProblem::Unknown { .. })));
        prop_assert!(refused, "{r:?}");
        prop_assert!(compose(&form(&text), &members).is_err());
    }

    #[test]
    fn a_coordinators_view_never_holds_message_text_or_task_detail(
        texts in prop::collection::vec("[a-zA-Z0-9 ]{1,40}", 0..6),
        details in prop::collection::vec("[a-zA-Z0-9 ]{0,40}", 0..6),
    ) {
        let messages: Vec<Message> = texts.iter().enumerate().map(|(i, s)| Message {
            id: id(100 + i as u128),
            seq: i as i64 + 1,
            author: person(2, "Theo Therapist"),
            text: format!("MESSAGE-TEXT {s}"),
            mentions: vec![person(1, "Priya Prescriber")],
            reference: None,
            posted_at: t(i as i64),
        }).collect();
        let tasks: Vec<Task> = details.iter().enumerate().map(|(i, d)| Task {
            detail: format!("TASK-DETAIL {d}"),
            ..a_task(i as u128, 4, 2, 10)
        }).collect();
        let v = view(ThreadAccess::TasksOnly, Thread { messages, tasks: tasks.clone() });
        let shown = format!("{v:?}");
        prop_assert!(v.messages.is_empty());
        prop_assert!(!shown.contains("MESSAGE-TEXT"));
        prop_assert!(!shown.contains("TASK-DETAIL"));
        prop_assert_eq!(v.tasks.len(), tasks.len());
        prop_assert!(v.tasks.iter().all(|t| t.detail.is_none()));
    }

    #[test]
    fn text_at_or_under_the_limit_is_kept_whole_and_never_truncated(n in 1usize..200, extra in 0usize..3) {
        let s = "a".repeat(LONG_TEXT_MAX - n) + &"é".repeat(n + extra);
        let r = message_text(&s);
        if extra == 0 {
            prop_assert_eq!(r, Ok(s));
        } else {
            prop_assert!(r.is_err());
        }
    }
}
