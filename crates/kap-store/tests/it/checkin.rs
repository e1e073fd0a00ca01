//! Check-ins between sessions on disk: a check-in, its questionnaire and its alerts in one
//! transaction with the link spent; reused and expired links refused with nothing stored; the
//! one-time review; the triggers that keep check-ins, links and settings as written; the
//! clinic's check-in settings; schedules every N days and after each dosing session.

use super::*;
use crate::course::Clinic;
use chrono::{DateTime, Duration, Utc};
use kap_domain::alert::{AlertKind, AlertSource, AlertStatus};
use kap_domain::checkin::rules::DoneMessage;
use kap_domain::checkin::schedule::NewSchedule;
use kap_domain::checkin::{
    AlertLevel, CheckinAnswers, CheckinForm, CheckinLink, CheckinSettings, ScheduleKind,
};
use kap_domain::course::appointment::AppointmentAction;
use kap_domain::instruments::{self, ResponseContext, Severity, answers_and_score};
use kap_domain::measure::{OutboxStatus, ResponseSource};
use kap_domain::protocol::SessionKind;
use kap_domain::screening::decision::Decision;
use kap_store::checkin::Submission;
use kap_store::checkin::link::NewCheckinLink;
use kap_store::measure::schedule::LinkDelivery;
use kap_store::{Conflict, Db, StoreError, on_db};

const DELIVER: LinkDelivery<'static> = LinkDelivery {
    public_url: "https://kap.example",
    email_enabled: false,
};

fn now() -> DateTime<Utc> {
    kap_store::now()
}

async fn count(store: &Store, sql: &str) -> i64 {
    on_db!(&store.db, |p| sqlx::query_scalar::<_, i64>(
        sqlx::AssertSqlSafe(sql.to_owned())
    )
    .fetch_one(p)
    .await
    .expect("count"))
}

async fn rows(store: &Store, sql: &str) -> Result<u64, sqlx::Error> {
    on_db!(&store.db, |p| sqlx::query(sqlx::AssertSqlSafe(
        sql.to_owned()
    ))
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
}

/// A clinic with a nurse and one patient: (clinic, nurse, patient).
async fn setup(store: &Store) -> (Uuid, Actor, Uuid) {
    let (clinic, nurse) = clinic_with(store, "k", Role::Nurse).await;
    let patient = store
        .create_patient(&nurse, clinic, &crate::patient::details("Ana Lima"))
        .await
        .expect("patient");
    (clinic, nurse, patient)
}

async fn link_at(
    store: &Store,
    actor: &Actor,
    clinic: Uuid,
    patient: Uuid,
    instrument: Option<&str>,
    at: DateTime<Utc>,
) -> (CheckinLink, String) {
    let (_, token) = store
        .create_checkin_link_at(
            actor,
            NewCheckinLink {
                clinic_id: clinic,
                patient_id: patient,
                instrument: instrument.map(|c| instruments::by_code(c).expect("instrument")),
                valid_days: 3,
                public_url: "https://kap.example",
                email_enabled: false,
            },
            at,
        )
        .await
        .expect("link");
    let link = store
        .checkin_link_by_token(&token)
        .await
        .expect("lookup")
        .expect("known");
    (link, token)
}

async fn link(
    store: &Store,
    actor: &Actor,
    clinic: Uuid,
    patient: Uuid,
    instrument: Option<&str>,
) -> CheckinLink {
    link_at(store, actor, clinic, patient, instrument, now())
        .await
        .0
}

fn answers(mood: &str, side_effects: &[&str], journal: &str) -> CheckinAnswers {
    CheckinForm {
        mood,
        sleep_hours: "6.5",
        sleep_quality: "fair",
        side_effects: side_effects.to_vec(),
        reflection: "I noticed I was kinder to myself at work.",
        journal,
        ..Default::default()
    }
    .parse()
    .expect("answers")
}

async fn submit(
    store: &Store,
    link: &CheckinLink,
    a: &CheckinAnswers,
) -> kap_store::Result<kap_store::checkin::Submitted> {
    store
        .submit_checkin(
            &Actor::visitor(link.clinic_id, Some("203.0.113.9".into())),
            link,
            Submission {
                answers: a,
                questionnaire: None,
                intention: Some("To be gentler with myself"),
                at: now(),
            },
        )
        .await
}

/// A link as stored now.
async fn reread(store: &Store, l: &CheckinLink) -> CheckinLink {
    store
        .checkin_links_of(l.clinic_id, l.patient_id)
        .await
        .expect("links")
        .into_iter()
        .find(|x| x.id == l.id)
        .expect("the link")
}

/// A statement about one row, its id bound.
async fn on_row(store: &Store, sql: &str, id: Uuid) -> Result<u64, sqlx::Error> {
    on_db!(&store.db, |p| sqlx::query(sqlx::AssertSqlSafe(
        sql.to_owned()
    ))
    .bind(id)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
}

async fn stored(store: &Store) -> (i64, i64, i64) {
    (
        count(store, "SELECT COUNT(*) FROM checkin").await,
        count(store, "SELECT COUNT(*) FROM alert").await,
        count(store, "SELECT COUNT(*) FROM questionnaire_response").await,
    )
}

both_backends!(
    a_checkin_and_its_alert_are_stored_together_and_the_link_is_spent,
    |store: Store| async move {
        let (clinic, nurse, patient) = setup(&store).await;
        let l = link(&store, &nurse, clinic, patient, None).await;
        assert_eq!(l.course_id, None, "no course: none recorded");
        let a = answers("6", &["urinary_symptoms", "nausea"], "A calmer week.");
        let s = submit(&store, &l, &a).await.expect("submit");
        assert_eq!(
            s.alerts.len(),
            1,
            "urinary symptoms alert; nausea is recorded only"
        );
        assert_eq!(s.done, DoneMessage::Alerted);
        assert_eq!(
            store.checkin_done_message(l.id).await.expect("done"),
            DoneMessage::Alerted
        );

        let r = store
            .checkin(&nurse, clinic, s.checkin_id)
            .await
            .expect("read");
        let c = &r.checkin;
        assert_eq!(c.answers, a);
        assert_eq!(c.patient_name, "Ana Lima");
        assert_eq!(c.intention.as_deref(), Some("To be gentler with myself"));
        assert_eq!((c.alerts, c.top_severity), (1, Some(Severity::High)));
        assert!(c.review.is_none() && c.questionnaire.is_none());
        assert_eq!(r.alerts.len(), 1);
        let alert = &r.alerts[0];
        assert_eq!(alert.kind, AlertKind::CheckinSideEffect);
        assert_eq!(alert.source, AlertSource::Checkin(s.checkin_id));
        assert_eq!(alert.item.as_deref(), Some("urinary_symptoms"));
        assert_eq!(alert.status, AlertStatus::Open);
        assert!(alert.detail.contains("passing urine"), "{}", alert.detail);

        let used = reread(&store, &l).await;
        assert!(used.used_at.is_some());
        assert_eq!(used.checkin_id, Some(s.checkin_id));
        // Where the patient sent it from is kept with the check-in.
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM checkin WHERE from_address = '203.0.113.9'"
            )
            .await,
            1
        );
        let lines = store
            .checkin_lines_of_patient(&nurse, clinic, patient)
            .await
            .expect("lines");
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].side_effect_count(), 2);
        assert!(lines[0].flagged() && !lines[0].seen);
        assert_eq!(lines[0].mood.value(), 6);
        let actions: Vec<String> = store
            .audit_rows(
                &Actor::system(),
                kap_store::audit::AuditScope::Clinic(clinic),
                &kap_store::audit::AuditFilter {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .expect("audit")
            .into_iter()
            .map(|r| r.action)
            .collect();
        for a in [
            "checkin.link",
            "checkin.submit",
            "alert.raise",
            "checkin.read",
        ] {
            assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
        }
    }
);

both_backends!(
    a_second_submit_of_the_same_link_stores_nothing,
    |store: Store| async move {
        let (clinic, nurse, patient) = setup(&store).await;
        let l = link(&store, &nurse, clinic, patient, None).await;
        let a = answers("5", &["cravings"], "");
        submit(&store, &l, &a).await.expect("first");
        let before = stored(&store).await;
        let again = submit(&store, &l, &answers("2", &["urinary_symptoms"], "")).await;
        assert!(
            matches!(again, Err(StoreError::Conflict(Conflict::LinkSpent))),
            "{again:?}"
        );
        assert_eq!(stored(&store).await, before, "nothing more stored");
    }
);

both_backends!(
    an_expired_link_is_refused_and_nothing_is_stored,
    |store: Store| async move {
        let (clinic, nurse, patient) = setup(&store).await;
        let (l, _) = link_at(
            &store,
            &nurse,
            clinic,
            patient,
            Some("phq9"),
            now() - Duration::days(4),
        )
        .await;
        assert!(!l.usable(now()));
        let r = submit(&store, &l, &answers("5", &["self_harm_thoughts"], "")).await;
        assert!(
            matches!(r, Err(StoreError::Conflict(Conflict::LinkSpent))),
            "{r:?}"
        );
        assert_eq!(stored(&store).await, (0, 0, 0));
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM checkin_link WHERE used_at IS NULL"
            )
            .await,
            1
        );
    }
);

both_backends!(
    if_an_alert_cannot_be_written_nothing_of_the_checkin_is_kept,
    |store: Store| async move {
        let (clinic, nurse, patient) = setup(&store).await;
        let l = link(&store, &nurse, clinic, patient, None).await;
        // Make the alert insert fail inside the submit's transaction.
        match &store.db {
            Db::Sqlite(..) => {
                rows(
                    &store,
                    "CREATE TRIGGER test_refuse_alert BEFORE INSERT ON alert
                     BEGIN SELECT RAISE(ABORT, 'test: no alerts'); END",
                )
                .await
                .expect("trigger");
            }
            Db::Postgres(..) => {
                rows(
                    &store,
                    "CREATE FUNCTION test_refuse_alert() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN RAISE EXCEPTION 'test: no alerts'; END $$",
                )
                .await
                .expect("function");
                rows(
                    &store,
                    "CREATE TRIGGER test_refuse_alert BEFORE INSERT ON alert
                     FOR EACH ROW EXECUTE FUNCTION test_refuse_alert()",
                )
                .await
                .expect("trigger");
            }
        }
        let r = submit(&store, &l, &answers("5", &["urinary_symptoms"], "")).await;
        assert!(r.is_err(), "{r:?}");
        assert_eq!(
            stored(&store).await,
            (0, 0, 0),
            "no check-in without its alert"
        );
        let l2 = reread(&store, &l).await;
        assert_eq!(l2.used_at, None, "the link is not spent either");
    }
);

both_backends!(
    the_questionnaire_part_is_a_normal_response_with_its_own_alerts,
    |store: Store| async move {
        let (clinic, nurse, patient) = setup(&store).await;
        let l = link(&store, &nurse, clinic, patient, Some("phq9")).await;
        let ins = l.instrument.expect("phq9");
        let fields: Vec<(String, String)> = (1..=9)
            .map(|i| {
                (
                    format!("item_{i}"),
                    if i == 9 { "2" } else { "1" }.to_owned(),
                )
            })
            .collect();
        let (qa, scored) =
            answers_and_score(ins, fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .expect("scored");
        let a = answers("4", &[], "");
        let s = store
            .submit_checkin(
                &Actor::visitor(clinic, None),
                &l,
                Submission {
                    answers: &a,
                    questionnaire: Some((&qa, &scored)),
                    intention: None,
                    at: now(),
                },
            )
            .await
            .expect("submit");
        assert_eq!(s.alerts.len(), 1);
        assert_eq!(
            s.done,
            DoneMessage::Crisis,
            "PHQ-9 item 9 shows crisis resources"
        );
        let r = store
            .checkin(&nurse, clinic, s.checkin_id)
            .await
            .expect("read");
        let q = r.checkin.questionnaire.as_ref().expect("questionnaire");
        assert_eq!((q.total, q.complete), (Some(10), true));
        assert_eq!(q.band.as_deref(), Some("Moderate"));
        assert_eq!(r.questionnaire_answers.get("9"), Some(&2));
        assert_eq!(r.alerts.len(), 1);
        assert_eq!(r.alerts[0].kind, AlertKind::Phq9SelfHarm);
        assert_eq!(r.alerts[0].severity, Severity::Urgent);
        assert_eq!(r.alerts[0].source, AlertSource::Response(q.response_id));
        assert_eq!(
            (r.checkin.alerts, r.checkin.top_severity),
            (1, Some(Severity::Urgent))
        );
        // As any response through a link: between sessions, from the patient, in the chart.
        let (responses, _) = store
            .responses_of(&nurse, clinic, patient)
            .await
            .expect("responses");
        assert_eq!(responses.len(), 1);
        assert_eq!(responses[0].context, ResponseContext::BetweenSessions);
        assert_eq!(responses[0].source, ResponseSource::PatientLink);
        assert_eq!(responses[0].total, Some(10));
        assert_eq!(
            store.checkin_done_message(l.id).await.expect("done"),
            DoneMessage::Crisis
        );
        let lines = store
            .checkin_lines_of_patient(&nurse, clinic, patient)
            .await
            .expect("lines");
        assert_eq!(lines[0].questionnaire.map(|i| i.code), Some("phq9"));
        assert_eq!(lines[0].questionnaire_total, Some(10));
    }
);

both_backends!(
    worrying_words_raise_one_urgent_alert_and_the_crisis_page,
    |store: Store| async move {
        let (clinic, nurse, patient) = setup(&store).await;
        let l = link(&store, &nurse, clinic, patient, None).await;
        let s = submit(
            &store,
            &l,
            &answers(
                "3",
                &[],
                "Honestly I don’t want to live like this. Maybe overdose.",
            ),
        )
        .await
        .expect("submit");
        assert_eq!(s.alerts.len(), 1);
        assert_eq!(s.done, DoneMessage::Crisis);
        let r = store
            .checkin(&nurse, clinic, s.checkin_id)
            .await
            .expect("read");
        assert_eq!(r.alerts[0].kind, AlertKind::CheckinWorryingWords);
        assert_eq!(r.alerts[0].severity, Severity::Urgent);
        assert_eq!(r.alerts[0].item.as_deref(), Some("journal"));
    }
);

both_backends!(
    the_clinics_mood_rules_compare_with_the_previous_checkin,
    |store: Store| async move {
        let (clinic, nurse, patient) = setup(&store).await;
        let first = link(&store, &nurse, clinic, patient, None).await;
        assert!(
            submit(&store, &first, &answers("8", &[], ""))
                .await
                .expect("first")
                .alerts
                .is_empty()
        );
        let s = CheckinSettings {
            mood_drop_points: Some(3),
            low_mood_at_most: Some(2),
            ..CheckinSettings::default()
        };
        store
            .set_checkin_settings(&nurse, clinic, &s)
            .await
            .expect("settings");
        let second = link(&store, &nurse, clinic, patient, None).await;
        let sub = submit(&store, &second, &answers("4", &[], ""))
            .await
            .expect("second");
        assert_eq!(sub.alerts.len(), 1);
        let r = store
            .checkin(&nurse, clinic, sub.checkin_id)
            .await
            .expect("read");
        assert_eq!(r.alerts[0].kind, AlertKind::CheckinMoodDrop);
        assert_eq!(r.alerts[0].answer, Some(4));
        // Another patient's check-ins are not this one's previous.
        let other = store
            .create_patient(&nurse, clinic, &crate::patient::details("Bea Cruz"))
            .await
            .expect("patient");
        let l = link(&store, &nurse, clinic, other, None).await;
        assert!(
            submit(&store, &l, &answers("4", &[], ""))
                .await
                .expect("other")
                .alerts
                .is_empty()
        );
    }
);

both_backends!(
    a_checkin_is_marked_seen_once_with_its_note,
    |store: Store| async move {
        let (clinic, nurse, patient) = setup(&store).await;
        let l = link(&store, &nurse, clinic, patient, None).await;
        let id = submit(&store, &l, &answers("6", &["urinary_symptoms"], ""))
            .await
            .expect("submit")
            .checkin_id;
        let unseen = store.unseen_checkins(&nurse, clinic).await.expect("unseen");
        assert_eq!(unseen.count, 1);
        assert_eq!(unseen.flagged.len(), 1);
        assert_eq!(
            store
                .mark_checkin_seen(&nurse, clinic, id, Some("Called: urine test tomorrow"))
                .await
                .expect("seen"),
            patient
        );
        let again = store
            .mark_checkin_seen(&nurse, clinic, id, Some("overwrite"))
            .await;
        match again {
            Err(StoreError::Conflict(Conflict::NotNow(w))) => {
                assert_eq!(w, "This check-in was already marked seen by Test Person.")
            }
            other => panic!("{other:?}"),
        }
        let c = store
            .checkin(&nurse, clinic, id)
            .await
            .expect("read")
            .checkin;
        let review = c.review.expect("review");
        assert_eq!(review.note.as_deref(), Some("Called: urine test tomorrow"));
        assert_eq!(review.by_name, "Test Person");
        assert_eq!(Some(review.by), nurse.staff_id);
        assert_eq!(
            store
                .unseen_checkins(&nurse, clinic)
                .await
                .expect("u")
                .count,
            0
        );
        let list = store
            .checkin_review_list(&nurse, clinic, 14)
            .await
            .expect("list");
        assert_eq!(list.len(), 1);
        assert!(list[0].seen);
        // Another clinic sees none of it.
        let (other, other_nurse) = clinic_with(&store, "other", Role::Nurse).await;
        assert!(matches!(
            store.checkin(&other_nurse, other, id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.mark_checkin_seen(&other_nurse, other, id, None).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            store
                .checkin_review_list(&other_nurse, other, 14)
                .await
                .expect("other list")
                .is_empty()
        );
    }
);

both_backends!(
    checkins_links_and_settings_are_kept_as_written_by_the_database,
    |store: Store| async move {
        let (clinic, nurse, patient) = setup(&store).await;
        let l = link(&store, &nurse, clinic, patient, None).await;
        let id = submit(&store, &l, &answers("6", &[], "kept"))
            .await
            .expect("submit")
            .checkin_id;
        for (sql, row) in [
            ("UPDATE checkin SET mood = 1 WHERE id = $1", id),
            ("UPDATE checkin SET journal = 'changed' WHERE id = $1", id),
            ("DELETE FROM checkin WHERE id = $1", id),
            ("UPDATE checkin_link SET used_at = NULL WHERE id = $1", l.id),
            (
                "UPDATE checkin_link SET patient_id = patient_id WHERE id = $1",
                l.id,
            ),
            ("DELETE FROM checkin_link WHERE id = $1", l.id),
        ] {
            assert!(on_row(&store, sql, row).await.is_err(), "{sql} refused");
        }
        store
            .mark_checkin_seen(&nurse, clinic, id, None)
            .await
            .expect("seen");
        assert!(
            on_row(
                &store,
                "UPDATE checkin SET review_note = 'later' WHERE id = $1",
                id
            )
            .await
            .is_err(),
            "a review is set once"
        );
        store
            .set_checkin_settings(&nurse, clinic, &CheckinSettings::default())
            .await
            .expect("settings");
        assert!(
            rows(&store, "UPDATE checkin_settings SET document = '{}'")
                .await
                .is_err()
        );
        assert!(rows(&store, "DELETE FROM checkin_settings").await.is_err());
        let c = store
            .checkin(&nurse, clinic, id)
            .await
            .expect("read")
            .checkin;
        assert_eq!(c.answers.mood.value(), 6);
        assert_eq!(
            c.answers.journal.map(|j| j.to_string()).as_deref(),
            Some("kept")
        );
    }
);

both_backends!(
    the_clinics_settings_are_versions_and_an_unreadable_one_is_an_error,
    |store: Store| async move {
        let (clinic, nurse, _) = setup(&store).await;
        assert_eq!(
            store.checkin_settings(clinic).await.expect("default"),
            CheckinSettings::default()
        );
        let mut s = CheckinSettings::default();
        s.side_effect_alerts
            .insert("nausea".into(), AlertLevel::High);
        s.low_mood_at_most = Some(2);
        store
            .set_checkin_settings(&nurse, clinic, &s)
            .await
            .expect("save");
        assert_eq!(store.checkin_settings(clinic).await.expect("read"), s);
        // A version written outside Kapstone that does not read is an error, not a default.
        on_db!(&store.db, |p| sqlx::query(
            "INSERT INTO checkin_settings (clinic_id, version, document, saved_at)
             VALUES ($1, 9, '{\"link_valid_days\": 0}', $2)"
        )
        .bind(clinic)
        .bind(now())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
        .expect("insert");
        let e = store.checkin_settings(clinic).await;
        match e {
            Err(StoreError::Corrupt {
                record, problem, ..
            }) => {
                assert_eq!(record, "check-in settings of clinic");
                assert!(problem.starts_with("version 9"), "{problem}");
            }
            other => panic!("{other:?}"),
        }
    }
);

both_backends!(
    a_link_sent_from_the_chart_is_in_the_outbox_with_its_link_sealed,
    |store: Store| async move {
        let (clinic, nurse, patient) = setup(&store).await;
        let (coordinator_clinic, coordinator) =
            (clinic, staff_in(&store, clinic, Role::Coordinator).await);
        let (_, token) = link_at(
            &store,
            &coordinator,
            coordinator_clinic,
            patient,
            None,
            now(),
        )
        .await;
        let out = store.outbox(&nurse, clinic).await.expect("outbox");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].status, OutboxStatus::Manual, "no email configured");
        assert!(
            out[0]
                .body
                .contains(&format!("https://kap.example/k/{token}"))
        );
        assert_eq!(
            out[0].subject,
            "k: how have you been since your last session?"
        );
        let l = store
            .checkin_link_by_token(&token)
            .await
            .expect("lookup")
            .expect("known");
        submit(&store, &l, &answers("7", &[], ""))
            .await
            .expect("submit");
        let out = store.outbox(&nurse, clinic).await.expect("outbox");
        assert!(
            !out[0].body.contains(&token),
            "a spent link is taken out of the kept message"
        );
        let links = store
            .checkin_links_of(clinic, patient)
            .await
            .expect("links");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].state_words(now()), "answered");
        assert!(
            store
                .checkin_link_by_token(&"0".repeat(48))
                .await
                .expect("lookup")
                .is_none()
        );
    }
);

both_backends!(
    an_every_days_schedule_sends_now_then_every_n_days_and_one_of_a_kind,
    |store: Store| async move {
        let (clinic, nurse, patient) = setup(&store).await;
        let s = NewSchedule {
            kind: ScheduleKind::EveryDays,
            days: 7,
            instrument: instruments::by_code("phq9"),
        };
        let id = store
            .add_checkin_schedule(&nurse, clinic, patient, &s)
            .await
            .expect("schedule");
        let twice = store
            .add_checkin_schedule(&nurse, clinic, patient, &s)
            .await;
        assert!(
            matches!(
                twice,
                Err(StoreError::Conflict(Conflict::ScheduleExists("check-in")))
            ),
            "{twice:?}"
        );
        let t = now() + Duration::seconds(1);
        assert_eq!(
            store.run_checkin_schedules(t, DELIVER).await.expect("run"),
            1
        );
        assert_eq!(
            store
                .run_checkin_schedules(t, DELIVER)
                .await
                .expect("again"),
            0,
            "not due again for a week"
        );
        let links = store
            .checkin_links_of(clinic, patient)
            .await
            .expect("links");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].instrument.map(|i| i.code), Some("phq9"));
        let sch = &store
            .checkin_schedules_of(clinic, patient)
            .await
            .expect("schedules")[0];
        assert!(sch.next_due_at.expect("next") > t + Duration::days(6));
        assert_eq!(sch.describe(), "Every 7 days, with PHQ-9");
        assert_eq!(
            store
                .run_checkin_schedules(t + Duration::days(7), DELIVER)
                .await
                .expect("week"),
            1
        );
        store
            .stop_checkin_schedule(&nurse, clinic, id)
            .await
            .expect("stop");
        assert_eq!(
            store
                .run_checkin_schedules(t + Duration::days(30), DELIVER)
                .await
                .expect("stopped"),
            0
        );
        // Stopped, a new one may be set up.
        store
            .add_checkin_schedule(&nurse, clinic, patient, &s)
            .await
            .expect("again after stop");
        assert!(
            rows(&store, "DELETE FROM checkin_schedule").await.is_err(),
            "schedules are stopped, never deleted"
        );
    }
);

both_backends!(
    schedules_follow_the_course_and_send_days_after_each_dosing_session,
    |store: Store| async move {
        let c = Clinic::open(&store).await;
        let v = c.protocol(&store, "iv-ketamine").await;
        let patient = c
            .decided(
                &store,
                "Rosa Santos",
                Decision::Eligible,
                &[v.protocol.route],
            )
            .await;
        let course = store
            .plan_course(&c.prescriber, c.id, &c.course(&v, patient, 7, "09:00"))
            .await
            .expect("course");
        let every = store
            .add_checkin_schedule(
                &c.nurse,
                c.id,
                patient,
                &NewSchedule {
                    kind: ScheduleKind::EveryDays,
                    days: 3,
                    instrument: None,
                },
            )
            .await
            .expect("every");
        let sch = store.checkin_schedules_of(c.id, patient).await.expect("s");
        assert_eq!(sch[0].course_id, Some(course), "follows the open course");
        // The course is planned, not active yet: the turn is skipped, the schedule moves on.
        let t = now() + Duration::seconds(1);
        assert_eq!(
            store.run_checkin_schedules(t, DELIVER).await.expect("run"),
            0
        );
        assert!(
            store
                .checkin_links_of(c.id, patient)
                .await
                .expect("l")
                .is_empty()
        );

        // After each dosing session: one link, the days after its discharge.
        let four_days_ago = now() - Duration::days(4);
        store
            .add_checkin_schedule_at(
                &c.nurse,
                c.id,
                patient,
                &NewSchedule {
                    kind: ScheduleKind::AfterDosing,
                    days: 2,
                    instrument: None,
                },
                four_days_ago,
            )
            .await
            .expect("after dosing");
        let first_dosing = store
            .course(&c.prescriber, c.id, course)
            .await
            .expect("course")
            .appointments
            .into_iter()
            .find(|a| a.kind == SessionKind::Dosing)
            .expect("dosing")
            .id;
        store
            .act_on_appointment(&c.nurse, c.id, first_dosing, AppointmentAction::CheckIn, "")
            .await
            .expect("check in");
        let session = store
            .open_session(&c.nurse, c.id, first_dosing, now())
            .await
            .expect("open");
        assert_eq!(
            store
                .run_checkin_schedules(now(), DELIVER)
                .await
                .expect("not yet discharged"),
            0
        );
        let discharged = now() - Duration::days(3);
        on_db!(&store.db, |p| sqlx::query(
            "UPDATE dosing_session SET discharged_at = $1 WHERE id = $2"
        )
        .bind(discharged)
        .bind(session)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
        .expect("discharged three days ago");
        assert_eq!(
            store
                .run_checkin_schedules(now(), DELIVER)
                .await
                .expect("owed"),
            1
        );
        assert_eq!(
            store
                .run_checkin_schedules(now(), DELIVER)
                .await
                .expect("once"),
            0,
            "one link per session"
        );
        // The course is completed: the every-days schedule ends at its next turn.
        store
            .set_course_status(
                &c.prescriber,
                c.id,
                course,
                kap_domain::course::CourseStatus::Active,
                None,
            )
            .await
            .ok();
        store
            .set_course_status(
                &c.prescriber,
                c.id,
                course,
                kap_domain::course::CourseStatus::Completed,
                None,
            )
            .await
            .expect("completed");
        store
            .run_checkin_schedules(now() + Duration::days(4), DELIVER)
            .await
            .expect("ends");
        let sch = store.checkin_schedules_of(c.id, patient).await.expect("s");
        let every = sch.iter().find(|s| s.id == every).expect("every");
        assert!(!every.active, "ended with its course");
    }
);
