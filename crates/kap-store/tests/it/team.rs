//! The care-team thread: messages posted in order with their mentions and kept as written
//! (triggers on both databases), refused posts that store nothing, tasks whose status moves once
//! with every change kept, seen marks that only move forward, unread mentions counted per
//! person, what a coordinator is given, and other clinics kept out.

use super::*;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use kap_domain::team::mention::MessageForm;
use kap_domain::team::task::{TaskAction, TaskForm};
use kap_domain::team::{PanelSince, TaskChange, TaskStatus, ThreadAccess};
use kap_store::team::{Reading, ThreadPage, WorkScope};
use kap_store::{Conflict, StoreError, on_db};

/// A clinic with a prescriber, a therapist, a nurse, a coordinator and an administrator, and one
/// patient.
struct Team {
    clinic: Uuid,
    prescriber: Actor,
    therapist: Actor,
    nurse: Actor,
    coordinator: Actor,
    admin: Actor,
    patient: Uuid,
}

fn id(a: &Actor) -> Uuid {
    a.staff_id.expect("staff")
}

fn now() -> DateTime<Utc> {
    kap_store::now()
}

fn today() -> NaiveDate {
    now().date_naive()
}

impl Team {
    async fn open(store: &Store, slug: &str) -> Team {
        // The administrator is "Test Person"; the others are named after their role.
        let (clinic, admin) = clinic_with(store, slug, Role::Admin).await;
        let prescriber = staff_in(store, clinic, Role::Prescriber).await;
        let therapist = staff_in(store, clinic, Role::Therapist).await;
        let nurse = staff_in(store, clinic, Role::Nurse).await;
        let coordinator = staff_in(store, clinic, Role::Coordinator).await;
        let patient = store
            .create_patient(
                &coordinator,
                clinic,
                &super::patient::details("Rosa Santos"),
            )
            .await
            .expect("patient");
        Team {
            clinic,
            prescriber,
            therapist,
            nurse,
            coordinator,
            admin,
            patient,
        }
    }

    async fn post(&self, store: &Store, who: &Actor, text: &str) -> Result<i64, StoreError> {
        self.post_to(store, who, self.patient, text).await
    }

    async fn post_to(
        &self,
        store: &Store,
        who: &Actor,
        patient: Uuid,
        text: &str,
    ) -> Result<i64, StoreError> {
        let form = MessageForm {
            text: text.to_owned(),
            ..MessageForm::default()
        };
        store
            .post_team_message(who, self.clinic, patient, Role::Therapist, &form, now())
            .await
            .map(|p| p.seq)
    }

    async fn task(
        &self,
        store: &Store,
        who: &Actor,
        role: Role,
        to: &Actor,
        due: NaiveDate,
    ) -> Uuid {
        store
            .create_team_task(
                who,
                self.clinic,
                self.patient,
                role,
                &TaskForm {
                    title: "Reschedule Thursday's session".into(),
                    detail: if role == Role::Coordinator {
                        String::new()
                    } else {
                        "She asked for an afternoon slot after a rough integration week".into()
                    },
                    assignee: id(to).to_string(),
                    due_on: due.to_string(),
                },
                due.min(today()),
                now(),
            )
            .await
            .expect("task")
    }

    async fn read(
        &self,
        store: &Store,
        who: &Actor,
        role: Role,
        reading: Reading,
    ) -> kap_store::team::TeamThread {
        store
            .team_thread(
                who,
                self.clinic,
                self.patient,
                role,
                ThreadPage {
                    before: None,
                    limit: 50,
                },
                reading,
                now(),
            )
            .await
            .expect("thread")
    }

    async fn unread(&self, store: &Store, who: &Actor) -> i64 {
        store
            .unread_team_mentions(self.clinic, id(who))
            .await
            .expect("unread")
    }
}

async fn count(store: &Store, sql: &str) -> i64 {
    on_db!(&store.db, |p| sqlx::query_scalar::<_, i64>(
        sqlx::AssertSqlSafe(sql.to_owned())
    )
    .fetch_one(p)
    .await
    .expect("count"))
}

async fn run(store: &Store, sql: &str) -> Result<u64, sqlx::Error> {
    on_db!(&store.db, |p| sqlx::query(sqlx::AssertSqlSafe(
        sql.to_owned()
    ))
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
}

fn invalid<T: std::fmt::Debug>(r: Result<T, StoreError>) -> kap_domain::FieldErrors {
    match r {
        Err(StoreError::Conflict(Conflict::TeamInvalid(e))) => e,
        other => panic!("expected field errors, got {other:?}"),
    }
}

fn not_now<T: std::fmt::Debug>(r: Result<T, StoreError>) -> String {
    match r {
        Err(StoreError::Conflict(Conflict::NotNow(m))) => m,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

both_backends!(
    messages_take_their_place_in_order_with_their_mentions_and_never_change,
    |store: Store| async move {
        let t = Team::open(&store, "a").await;
        let first = t
            .post(
                &store,
                &t.therapist,
                "Integration today: she felt the harsh inner voice go quiet for two days. \
                 @Prescriber Person, worth knowing before Thursday's dose; cc @nurse.person",
            )
            .await
            .expect("post");
        let second = t
            .post(
                &store,
                &t.prescriber,
                "Thanks — I'll ask her about sleep before dosing.",
            )
            .await
            .expect("post");
        assert_eq!((first, second), (1, 2));
        let th = t
            .read(&store, &t.prescriber, Role::Prescriber, Reading::Page)
            .await;
        assert_eq!(th.view.access, ThreadAccess::Full);
        assert_eq!(th.last_seq, 2);
        let m = &th.view.messages;
        assert_eq!(m.len(), 2);
        assert!(m[0].text.starts_with("Integration today"));
        assert_eq!(m[0].author.name, "Therapist Person");
        let named: Vec<&str> = m[0].mentions.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(named, ["Prescriber Person", "Nurse Person"]);
        assert!(m[1].mentions.is_empty());

        // Kept as written: the triggers refuse any change, on both databases.
        for sql in [
            "UPDATE team_message SET body = 'edited'",
            "DELETE FROM team_message",
            "UPDATE team_mention SET ordinal = 9",
            "DELETE FROM team_mention",
            "DELETE FROM team_thread",
            "UPDATE team_thread SET last_seq = 0",
        ] {
            assert!(run(&store, sql).await.is_err(), "{sql} was allowed");
        }
        assert_eq!(count(&store, "SELECT COUNT(*) FROM team_message").await, 2);
        assert_eq!(count(&store, "SELECT COUNT(*) FROM team_mention").await, 2);
    }
);

both_backends!(
    a_refused_message_stores_nothing_and_says_why_per_field,
    |store: Store| async move {
        let t = Team::open(&store, "a").await;
        let e = invalid(t.post(&store, &t.therapist, "@Priya please look").await);
        assert!(
            e.get("text")
                .unwrap()
                .starts_with("No one in this clinic is called “@Priya”"),
            "{e}"
        );
        let e = invalid(
            t.post(&store, &t.therapist, "@Coordinator Person please call her")
                .await,
        );
        assert!(
            e.get("text").unwrap().contains("coordinators do not see"),
            "{e}"
        );
        let long = "a".repeat(kap_domain::team::LONG_TEXT_MAX + 1);
        let e = invalid(t.post(&store, &t.therapist, &long).await);
        assert!(
            e.get("text")
                .unwrap()
                .contains("the limit is 20,000 characters"),
            "{e}"
        );
        // A link to a record that is not this patient's.
        let form = MessageForm {
            text: "See the session".into(),
            picked: vec![],
            link: format!("/dosing/{}", Uuid::now_v7()),
        };
        let e = invalid(
            store
                .post_team_message(
                    &t.therapist,
                    t.clinic,
                    t.patient,
                    Role::Therapist,
                    &form,
                    now(),
                )
                .await,
        );
        assert!(e.get("link").is_some(), "{e}");
        // Coordinators take part through tasks only.
        let m = not_now(
            store
                .post_team_message(
                    &t.coordinator,
                    t.clinic,
                    t.patient,
                    Role::Coordinator,
                    &MessageForm {
                        text: "Hello".into(),
                        ..MessageForm::default()
                    },
                    now(),
                )
                .await,
        );
        assert!(m.contains("through its tasks"), "{m}");
        for table in ["team_message", "team_mention", "team_thread"] {
            assert_eq!(
                count(&store, &format!("SELECT COUNT(*) FROM {table}")).await,
                0,
                "{table}"
            );
        }
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM audit_event WHERE action = 'team.post'"
            )
            .await,
            0
        );
    }
);

both_backends!(
    a_task_closes_once_and_its_history_shows_every_change,
    |store: Store| async move {
        let t = Team::open(&store, "a").await;
        let task = t
            .task(
                &store,
                &t.therapist,
                Role::Therapist,
                &t.nurse,
                today() + Duration::days(2),
            )
            .await;
        // Given to the coordinator instead, then done by the coordinator.
        store
            .change_team_task(
                &t.prescriber,
                t.clinic,
                task,
                Role::Prescriber,
                TaskAction::Reassign(id(&t.coordinator)),
                now(),
            )
            .await
            .expect("reassign");
        let m = not_now(
            store
                .change_team_task(
                    &t.nurse,
                    t.clinic,
                    task,
                    Role::Coordinator,
                    TaskAction::Done,
                    now(),
                )
                .await,
        );
        assert!(
            m.starts_with("Only the person this task was given to"),
            "{m}"
        );
        store
            .change_team_task(
                &t.coordinator,
                t.clinic,
                task,
                Role::Coordinator,
                TaskAction::Done,
                now(),
            )
            .await
            .expect("done");
        let m = not_now(
            store
                .change_team_task(
                    &t.prescriber,
                    t.clinic,
                    task,
                    Role::Prescriber,
                    TaskAction::Cancel,
                    now(),
                )
                .await,
        );
        assert!(m.starts_with("This task is done already"), "{m}");

        let th = t
            .read(&store, &t.prescriber, Role::Prescriber, Reading::Page)
            .await;
        let v = &th.view.tasks[0];
        assert_eq!(v.status, TaskStatus::Done);
        assert_eq!(v.assignee.name, "Coordinator Person");
        assert_eq!(v.created_by.name, "Therapist Person");
        let h: Vec<(TaskChange, &str)> = v
            .history
            .iter()
            .map(|e| (e.change, e.by.name.as_str()))
            .collect();
        assert_eq!(
            h,
            [
                (TaskChange::Reassigned, "Prescriber Person"),
                (TaskChange::Done, "Coordinator Person")
            ]
        );
        assert_eq!(
            v.history[0].assignee.as_ref().map(|p| p.name.as_str()),
            Some("Coordinator Person")
        );
        assert!(v.detail.as_deref().unwrap().contains("afternoon slot"));

        // The record holds: a closed task, its title and its history never change.
        for sql in [
            "UPDATE team_task SET status = 'open'",
            "UPDATE team_task SET title = 'Something else'",
            "DELETE FROM team_task",
            "UPDATE team_task_event SET kind = 'cancelled'",
            "DELETE FROM team_task_event",
        ] {
            assert!(run(&store, sql).await.is_err(), "{sql} was allowed");
        }
        // An open task changes its assignee and status only.
        t.task(&store, &t.therapist, Role::Therapist, &t.nurse, today())
            .await;
        assert!(
            run(
                &store,
                "UPDATE team_task SET title = 'x' WHERE status = 'open'"
            )
            .await
            .is_err()
        );
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM audit_event WHERE action = 'team.task'"
            )
            .await,
            2
        );
    }
);

both_backends!(
    showing_the_thread_marks_it_seen_forward_only_and_the_api_does_not,
    |store: Store| async move {
        let t = Team::open(&store, "a").await;
        for i in 0..3 {
            t.post(&store, &t.therapist, &format!("Observation {i}"))
                .await
                .expect("post");
        }
        let api = t
            .read(&store, &t.prescriber, Role::Prescriber, Reading::Api)
            .await;
        assert_eq!(api.seen_before, 0);
        let page = t
            .read(&store, &t.prescriber, Role::Prescriber, Reading::Page)
            .await;
        assert_eq!(page.seen_before, 0, "the API did not mark it seen");
        let again = t
            .read(&store, &t.prescriber, Role::Prescriber, Reading::Chart)
            .await;
        assert_eq!(again.seen_before, 3);
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM audit_event WHERE action = 'team.seen'"
            )
            .await,
            1,
            "a mark that does not move is not recorded again"
        );
        // An older page never moves the mark back; nor can the database.
        let older = store
            .team_thread(
                &t.prescriber,
                t.clinic,
                t.patient,
                Role::Prescriber,
                ThreadPage {
                    before: Some(3),
                    limit: 1,
                },
                Reading::Page,
                now(),
            )
            .await
            .expect("older page");
        assert_eq!(older.view.messages.len(), 1);
        assert_eq!(older.view.messages[0].seq, 2);
        assert_eq!(older.earlier, Some(2));
        assert!(
            !store
                .mark_team_seen(
                    &t.prescriber,
                    t.clinic,
                    t.patient,
                    Role::Prescriber,
                    1,
                    now()
                )
                .await
                .expect("mark")
        );
        assert!(
            run(&store, "UPDATE team_seen SET last_seq = 1")
                .await
                .is_err()
        );
        assert!(run(&store, "DELETE FROM team_seen").await.is_err());
        // A coordinator reads no messages and leaves no seen mark.
        let c = t
            .read(&store, &t.coordinator, Role::Coordinator, Reading::Page)
            .await;
        assert!(c.view.messages.is_empty());
        assert_eq!(count(&store, "SELECT COUNT(*) FROM team_seen").await, 1);
    }
);

both_backends!(
    unread_mentions_are_counted_per_person_until_they_see_the_thread,
    |store: Store| async move {
        let t = Team::open(&store, "a").await;
        let other = store
            .create_patient(
                &t.coordinator,
                t.clinic,
                &super::patient::details("Ana Lima"),
            )
            .await
            .expect("patient");
        t.post(
            &store,
            &t.therapist,
            "@Prescriber Person please see the note",
        )
        .await
        .expect("post");
        t.post(
            &store,
            &t.nurse,
            "@Prescriber Person and @Therapist Person: BP was up",
        )
        .await
        .expect("post");
        t.post_to(
            &store,
            &t.therapist,
            other,
            "@prescriber.person new patient",
        )
        .await
        .expect("post");
        // Mentioning oneself is not an unread mention.
        t.post(&store, &t.prescriber, "Noted, @Prescriber Person to call")
            .await
            .expect("post");
        assert_eq!(t.unread(&store, &t.prescriber).await, 3);
        assert_eq!(t.unread(&store, &t.therapist).await, 1);
        assert_eq!(t.unread(&store, &t.nurse).await, 0);

        let work = store
            .my_team_work(
                &t.prescriber,
                t.clinic,
                Role::Prescriber,
                WorkScope::Home,
                20,
            )
            .await
            .expect("work");
        assert_eq!(work.unread, 3);
        assert_eq!(work.mentions.len(), 3);
        assert_eq!(work.mentions[0].patient_name, "Ana Lima", "newest first");
        assert!(work.mentions.iter().all(|m| m.unread));

        t.read(&store, &t.prescriber, Role::Prescriber, Reading::Chart)
            .await;
        assert_eq!(
            t.unread(&store, &t.prescriber).await,
            1,
            "Ana Lima's is still unread"
        );
        let page = store
            .my_team_work(
                &t.prescriber,
                t.clinic,
                Role::Prescriber,
                WorkScope::Page,
                20,
            )
            .await
            .expect("work");
        assert_eq!(page.unread, 1);
        assert_eq!(
            page.mentions.iter().map(|m| m.unread).collect::<Vec<_>>(),
            [true, false, false],
            "unread first, then those seen"
        );
        // Another clinic's staff count nothing here.
        let (b, b_prescriber) = clinic_with(&store, "b", Role::Prescriber).await;
        assert_eq!(
            store
                .unread_team_mentions(b, id(&b_prescriber))
                .await
                .expect("unread"),
            0
        );
    }
);

both_backends!(
    my_work_lists_open_tasks_by_due_date_and_a_coordinator_gets_no_clinical_text,
    |store: Store| async move {
        let t = Team::open(&store, "a").await;
        let later = t
            .task(
                &store,
                &t.therapist,
                Role::Therapist,
                &t.coordinator,
                today() + Duration::days(5),
            )
            .await;
        let sooner = t
            .task(
                &store,
                &t.coordinator,
                Role::Coordinator,
                &t.coordinator,
                today(),
            )
            .await;
        let closed = t
            .task(
                &store,
                &t.therapist,
                Role::Therapist,
                &t.coordinator,
                today(),
            )
            .await;
        store
            .change_team_task(
                &t.therapist,
                t.clinic,
                closed,
                Role::Therapist,
                TaskAction::Cancel,
                now(),
            )
            .await
            .expect("cancel");
        // Overdue: written as if created a week ago, due yesterday.
        let week_ago = now() - Duration::days(7);
        let overdue = store
            .create_team_task(
                &t.nurse,
                t.clinic,
                t.patient,
                Role::Nurse,
                &TaskForm {
                    title: "Call about home blood pressure".into(),
                    detail: String::new(),
                    assignee: id(&t.coordinator).to_string(),
                    due_on: (today() - Duration::days(1)).to_string(),
                },
                week_ago.date_naive(),
                week_ago,
            )
            .await
            .expect("task");
        t.post(&store, &t.therapist, "MESSAGE TEXT NOT FOR COORDINATORS")
            .await
            .expect("post");
        let work = store
            .my_team_work(
                &t.coordinator,
                t.clinic,
                Role::Coordinator,
                WorkScope::Page,
                20,
            )
            .await
            .expect("work");
        let ids: Vec<Uuid> = work.tasks.iter().map(|x| x.id).collect();
        assert_eq!(ids, [overdue, sooner, later]);
        assert!(kap_domain::team::is_overdue(
            work.tasks[0].status,
            work.tasks[0].due_on,
            today()
        ));
        assert!(work.mentions.is_empty());
        assert_eq!(work.unread, 0);
        assert!(
            work.given.is_empty(),
            "their own task is theirs, not given away"
        );

        let th = t
            .read(&store, &t.coordinator, Role::Coordinator, Reading::Page)
            .await;
        assert_eq!(th.view.access, ThreadAccess::TasksOnly);
        assert!(th.view.messages.is_empty());
        assert_eq!(th.view.tasks.len(), 4);
        assert!(th.view.tasks.iter().all(|x| x.detail.is_none()));
        assert!(!format!("{:?}", th.view).contains("MESSAGE TEXT"));
        assert!(!format!("{:?}", th.view).contains("afternoon slot"));
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM audit_event WHERE action = 'team.read' AND detail = 'page (tasks only)'"
            )
            .await,
            1
        );

        // The dosing panel: no session has ended, so the whole thread; open tasks only.
        let p = store
            .team_dosing_panel(&t.prescriber, t.clinic, t.patient, Role::Prescriber)
            .await
            .expect("panel");
        assert_eq!(p.since, PanelSince::WholeThread);
        assert_eq!(p.messages.len(), 1);
        assert_eq!(p.more, 0);
        assert_eq!(p.open_tasks.len(), 3);
    }
);

both_backends!(
    administrators_and_other_clinics_reach_no_thread,
    |store: Store| async move {
        let t = Team::open(&store, "a").await;
        t.post(&store, &t.therapist, "An observation")
            .await
            .expect("post");
        let admin = store
            .team_thread(
                &t.admin,
                t.clinic,
                t.patient,
                Role::Admin,
                ThreadPage {
                    before: None,
                    limit: 10,
                },
                Reading::Page,
                now(),
            )
            .await;
        assert!(matches!(admin, Err(StoreError::NotFound)), "{admin:?}");
        let (b, b_therapist) = clinic_with(&store, "b", Role::Therapist).await;
        let other = store
            .team_thread(
                &b_therapist,
                b,
                t.patient,
                Role::Therapist,
                ThreadPage {
                    before: None,
                    limit: 10,
                },
                Reading::Page,
                now(),
            )
            .await;
        assert!(matches!(other, Err(StoreError::NotFound)), "{other:?}");
        let post = store
            .post_team_message(
                &b_therapist,
                b,
                t.patient,
                Role::Therapist,
                &MessageForm {
                    text: "Hello".into(),
                    ..MessageForm::default()
                },
                now(),
            )
            .await;
        assert!(matches!(post, Err(StoreError::NotFound)), "{post:?}");
        // Another clinic's staff cannot be mentioned here.
        store
            .create_staff(
                &Actor::system(),
                NewStaff {
                    email: "zed@b.test",
                    full_name: "Zed Elsewhere",
                    password_hash: "$argon2id$not-a-real-hash",
                    clinic_id: b,
                    role: Role::Prescriber,
                },
            )
            .await
            .expect("staff");
        let e = invalid(t.post(&store, &t.therapist, "@Zed Elsewhere hello").await);
        assert!(
            e.get("text")
                .unwrap()
                .starts_with("No one in this clinic is called “@Zed”"),
            "{e}"
        );
    }
);

both_backends!(
    a_message_links_a_clinical_note_of_the_patient_never_a_psychotherapy_note,
    |store: Store| async move {
        use kap_domain::notes::{NoteContent, NoteKind};
        use kap_store::notes::NewNote;
        let t = Team::open(&store, "a").await;
        let note = |patient: Uuid, kind: NoteKind| NewNote {
            patient_id: patient,
            kind,
            appointment_id: None,
            dosing_session_id: None,
            content: NoteContent::default(),
        };
        let progress = store
            .start_note(
                &t.therapist,
                t.clinic,
                &note(t.patient, NoteKind::Progress),
                now(),
            )
            .await
            .expect("note");
        let process = store
            .start_note(
                &t.therapist,
                t.clinic,
                &note(t.patient, NoteKind::Psychotherapy),
                now(),
            )
            .await
            .expect("psychotherapy note");
        let other = store
            .create_patient(
                &t.coordinator,
                t.clinic,
                &super::patient::details("Ana Lima"),
            )
            .await
            .expect("patient");
        let elsewhere = store
            .start_note(
                &t.therapist,
                t.clinic,
                &note(other, NoteKind::Progress),
                now(),
            )
            .await
            .expect("note");
        let post = |link: String| {
            let form = MessageForm {
                text: "See the note".into(),
                picked: vec![],
                link,
            };
            let store = store.clone();
            let (who, clinic, patient) = (t.therapist.clone(), t.clinic, t.patient);
            async move {
                store
                    .post_team_message(&who, clinic, patient, Role::Therapist, &form, now())
                    .await
            }
        };
        post(format!("https://kap.example.org/notes/{progress}"))
            .await
            .expect("a link to the patient's note");
        for refused in [process, elsewhere] {
            let e = invalid(post(format!("/notes/{refused}")).await);
            assert!(
                e.get("link")
                    .unwrap()
                    .contains("psychotherapy notes are never linked here"),
                "{e}"
            );
        }
        let th = t
            .read(&store, &t.prescriber, Role::Prescriber, Reading::Api)
            .await;
        let links: Vec<String> = th
            .view
            .messages
            .iter()
            .filter_map(|m| m.reference.map(|r| r.path()))
            .collect();
        assert_eq!(links, [format!("/notes/{progress}")]);
    }
);
