use super::*;
use chrono::Duration;
use kap_domain::instruments::Severity;
use kap_domain::instruments::{self, Answers, ResponseContext, score};
use kap_domain::measure::{OutboxStatus, ResponseSource};
use kap_store::StoreError;
use kap_store::measure::link::NewLink;
use kap_store::measure::response::NewResponse;
use kap_store::measure::schedule::LinkDelivery;

fn phq9(values: [i32; 9]) -> Answers {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| ((i + 1).to_string(), *v))
        .collect()
}

both_backends!(
    item9_positive_alert_is_stored_with_the_response,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Nurse).await;
        let pid = store
            .create_patient(&actor, clinic, &crate::patient::details("Ana Lima"))
            .await
            .expect("p");
        let ins = instruments::by_code("phq9").expect("phq9");
        let answers = phq9([1, 2, 1, 1, 0, 1, 1, 0, 2]);
        let scored = score(ins, &answers).expect("score");
        let rec = store
            .record_response(
                &actor,
                NewResponse {
                    clinic_id: clinic,
                    patient_id: pid,
                    instrument: ins,
                    context: ResponseContext::Baseline,
                    source: ResponseSource::Staff,
                    answers: &answers,
                    scored: &scored,
                    link: None,
                    answered_at: kap_store::now(),
                },
            )
            .await
            .expect("record");
        assert_eq!(rec.alerts.len(), 1);
        let open = store.open_alerts(&actor, clinic).await.expect("alerts");
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].severity, Severity::Urgent);
        assert_eq!(open[0].patient_name, "Ana Lima");
        let (rows, items) = store
            .responses_of(&actor, clinic, pid)
            .await
            .expect("responses");
        assert_eq!(rows[0].total, Some(9));
        assert_eq!(rows[0].band.as_deref(), Some("Mild"));
        assert_eq!(items[&rows[0].id], answers);
        // Acknowledged once, with a note; never twice, never deleted.
        store
            .acknowledge_alert(
                &actor,
                clinic,
                open[0].id,
                "Called patient; safety plan reviewed",
            )
            .await
            .expect("ack");
        let again = store
            .acknowledge_alert(&actor, clinic, open[0].id, "overwrite")
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))));
        let all = store.alerts_of(clinic, pid).await.expect("alerts");
        assert_eq!(
            all[0].action_note.as_deref(),
            Some("Called patient; safety plan reviewed")
        );
        assert!(
            store
                .open_alerts(&actor, clinic)
                .await
                .expect("open")
                .is_empty()
        );
        let del = kap_store::on_db!(&store.db, |p| sqlx::query("DELETE FROM alert")
            .execute(p)
            .await
            .map(|r| r.rows_affected()));
        assert!(del.is_err(), "alerts can never be deleted");
        let actions: Vec<String> = store
            .audit_rows(
                &actor,
                kap_store::audit::AuditScope::Clinic(clinic),
                &kap_store::audit::AuditFilter {
                    patient_id: Some(pid),
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .expect("audit")
            .into_iter()
            .map(|r| r.action)
            .collect();
        for a in ["response.create", "alert.raise", "alert.acknowledge"] {
            assert!(actions.iter().any(|x| x == a), "{a}");
        }
    }
);

both_backends!(
    incomplete_responses_keep_answers_but_no_total,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Nurse).await;
        let pid = store
            .create_patient(&actor, clinic, &crate::patient::details("Bo Chen"))
            .await
            .expect("p");
        let ins = instruments::by_code("phq9").expect("phq9");
        let mut answers = phq9([1; 9]);
        answers.remove("4");
        let scored = score(ins, &answers).expect("score");
        store
            .record_response(
                &actor,
                NewResponse {
                    clinic_id: clinic,
                    patient_id: pid,
                    instrument: ins,
                    context: ResponseContext::BetweenSessions,
                    source: ResponseSource::Staff,
                    answers: &answers,
                    scored: &scored,
                    link: None,
                    answered_at: kap_store::now(),
                },
            )
            .await
            .expect("record");
        let (rows, items) = store
            .responses_of(&actor, clinic, pid)
            .await
            .expect("responses");
        assert!(!rows[0].complete);
        assert_eq!(rows[0].total, None);
        assert_eq!(rows[0].band, None);
        assert_eq!(items[&rows[0].id].len(), 8);
    }
);

both_backends!(
    patient_links_are_single_use_and_expire,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        let pid = store
            .create_patient(&actor, clinic, &crate::patient::details("Cy Diaz"))
            .await
            .expect("p");
        let ins = instruments::by_code("gad7").expect("gad7");
        let (lid, token) = store
            .create_link(
                &actor,
                NewLink {
                    clinic_id: clinic,
                    patient_id: pid,
                    instrument: ins,
                    context: ResponseContext::PreDose,
                    valid_for: Duration::hours(72),
                    public_url: "https://kap.example",
                    email_enabled: false,
                },
            )
            .await
            .expect("link");
        let link = store
            .link_by_token(&token)
            .await
            .expect("lookup")
            .expect("found");
        assert_eq!(link.id, lid);
        assert!(link.usable(kap_store::now()));
        let outbox = store.outbox(&actor, clinic).await.expect("outbox");
        assert_eq!(
            outbox[0].status,
            OutboxStatus::Manual,
            "no email configured: staff copy it"
        );
        assert!(
            outbox[0]
                .body
                .contains(&format!("https://kap.example/p/{token}"))
        );
        let answers: Answers = (1..=7).map(|i| (i.to_string(), 0)).collect();
        let scored = score(ins, &answers).expect("score");
        let visitor = Actor::visitor(clinic, None);
        store
            .record_response(
                &visitor,
                NewResponse {
                    clinic_id: clinic,
                    patient_id: pid,
                    instrument: ins,
                    context: ResponseContext::PreDose,
                    source: ResponseSource::PatientLink,
                    answers: &answers,
                    scored: &scored,
                    link: Some(lid),
                    answered_at: kap_store::now(),
                },
            )
            .await
            .expect("first use");
        let second = store
            .record_response(
                &visitor,
                NewResponse {
                    clinic_id: clinic,
                    patient_id: pid,
                    instrument: ins,
                    context: ResponseContext::PreDose,
                    source: ResponseSource::PatientLink,
                    answers: &answers,
                    scored: &scored,
                    link: Some(lid),
                    answered_at: kap_store::now(),
                },
            )
            .await;
        assert!(matches!(second, Err(StoreError::Conflict(_))));
        let outbox = store.outbox(&actor, clinic).await.expect("outbox");
        assert!(
            !outbox[0].body.contains(&token),
            "a spent link leaves no usable token behind"
        );
        let (rows, _) = store
            .responses_of(&actor, clinic, pid)
            .await
            .expect("responses");
        assert_eq!(rows.len(), 1, "the refused second use stored nothing");
        // An expired link cannot be used.
        let (old, _) = store
            .create_link(
                &actor,
                NewLink {
                    clinic_id: clinic,
                    patient_id: pid,
                    instrument: ins,
                    context: ResponseContext::PreDose,
                    valid_for: Duration::seconds(-1),
                    public_url: "https://kap.example",
                    email_enabled: false,
                },
            )
            .await
            .expect("link");
        let r = store
            .record_response(
                &visitor,
                NewResponse {
                    clinic_id: clinic,
                    patient_id: pid,
                    instrument: ins,
                    context: ResponseContext::PreDose,
                    source: ResponseSource::PatientLink,
                    answers: &answers,
                    scored: &scored,
                    link: Some(old),
                    answered_at: kap_store::now(),
                },
            )
            .await;
        assert!(matches!(r, Err(StoreError::Conflict(_))));
        assert_eq!(
            store
                .overdue_links(clinic, 30)
                .await
                .expect("overdue")
                .len(),
            1
        );
    }
);

both_backends!(
    schedules_come_due_and_protocol_is_per_clinic,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        let pid = store
            .create_patient(&actor, clinic, &crate::patient::details("Dee Ek"))
            .await
            .expect("p");
        let ins = instruments::by_code("phq9").expect("phq9");
        let sid = store
            .add_schedule(&actor, clinic, pid, ins, Some(14))
            .await
            .expect("schedule");
        let due = store
            .due_schedules(kap_store::now() + Duration::seconds(1))
            .await
            .expect("due");
        assert_eq!(due.len(), 1);
        // One active schedule per questionnaire: a second is refused, and stores nothing.
        assert!(matches!(
            store.add_schedule(&actor, clinic, pid, ins, Some(7)).await,
            Err(kap_store::StoreError::Conflict(
                kap_store::Conflict::ScheduleExists("PHQ-9")
            ))
        ));
        assert_eq!(
            store.schedules_of(clinic, pid).await.expect("list").len(),
            1
        );
        let deliver = LinkDelivery {
            public_url: "https://kap.example",
            email_enabled: false,
        };
        assert!(
            store
                .fire_schedule(&due[0], kap_store::now(), Duration::hours(72), deliver)
                .await
                .expect("fire")
        );
        assert!(
            !store
                .fire_schedule(&due[0], kap_store::now(), Duration::hours(72), deliver)
                .await
                .expect("fire again"),
            "a turn fires once"
        );
        assert_eq!(store.links_of(clinic, pid).await.expect("links").len(), 1);
        assert!(
            store
                .due_schedules(kap_store::now())
                .await
                .expect("due")
                .is_empty()
        );
        store
            .stop_schedule(&actor, clinic, sid)
            .await
            .expect("stop");
        assert!(!store.schedules_of(clinic, pid).await.expect("list")[0].active);
        // Once stopped, the questionnaire may be scheduled anew.
        store
            .add_schedule(&actor, clinic, pid, ins, Some(7))
            .await
            .expect("a new schedule after the old one stopped");

        let mut p = store.measurement_settings(clinic).await.expect("settings");
        assert_eq!(p.rules_for("phq9").remission_at_most, Some(4));
        p.alert_escalation_minutes = 15;
        let mut rules = p.rules_for("phq9");
        rules.worsening_points = Some(5);
        p.outcome_rules.insert("phq9".into(), rules);
        store
            .set_measurement_settings(&actor, clinic, &p)
            .await
            .expect("set");
        assert_eq!(
            store.measurement_settings(clinic).await.expect("settings"),
            p
        );
    }
);

both_backends!(
    open_links_get_one_reminder_after_half_their_time,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        let pid = store
            .create_patient(&actor, clinic, &crate::patient::details("Eve Fox"))
            .await
            .expect("p");
        let ins = instruments::by_code("phq9").expect("phq9");
        let (lid, _) = store
            .create_link(
                &actor,
                NewLink {
                    clinic_id: clinic,
                    patient_id: pid,
                    instrument: ins,
                    context: ResponseContext::BetweenSessions,
                    valid_for: Duration::hours(72),
                    public_url: "https://kap.example",
                    email_enabled: false,
                },
            )
            .await
            .expect("link");
        assert_eq!(
            store
                .queue_reminders(false, kap_domain::time::TimeZone::UTC)
                .await
                .expect("remind"),
            0,
            "too early"
        );
        kap_store::on_db!(&store.db, |p| sqlx::query(
            "UPDATE patient_link SET created_at = $1, expires_at = $2 WHERE id = $3"
        )
        .bind(kap_store::now() - Duration::hours(40))
        .bind(kap_store::now() + Duration::hours(32))
        .bind(lid)
        .execute(p)
        .await
        .expect("age")
        .rows_affected());
        assert_eq!(
            store
                .queue_reminders(false, kap_domain::time::TimeZone::UTC)
                .await
                .expect("remind"),
            1
        );
        assert_eq!(
            store
                .queue_reminders(false, kap_domain::time::TimeZone::UTC)
                .await
                .expect("remind"),
            0,
            "only once"
        );
        let out = store.outbox(&actor, clinic).await.expect("outbox");
        assert!(out[0].subject.starts_with("Reminder"));
        assert!(!out[0].body.contains("/p/"), "reminders carry no token");
    }
);

both_backends!(
    unreadable_settings_are_an_error_not_a_default,
    |store: Store| async move {
        let (clinic, _) = clinic_with(&store, "a", Role::Admin).await;
        let bad = "INSERT INTO clinic_settings (clinic_id, version, document, saved_at)
             SELECT id, 1, '{\"alert_escalation_minutes\": \"soon\"}', created_at
             FROM clinic WHERE slug = 'a'";
        kap_store::on_db!(&store.db, |p| sqlx::query(bad)
            .execute(p)
            .await
            .expect("insert")
            .rows_affected());
        let e = store.measurement_settings(clinic).await;
        let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains(&clinic.to_string()), "{msg}");
        assert!(msg.contains("version 1"), "{msg}");
    }
);

both_backends!(settings_keep_every_version, |store: Store| async move {
    let (clinic, actor) = clinic_with(&store, "a", Role::Admin).await;
    let mut s = store.measurement_settings(clinic).await.expect("defaults");
    for minutes in [30, 45] {
        s.alert_escalation_minutes = minutes;
        store
            .set_measurement_settings(&actor, clinic, &s)
            .await
            .expect("save");
    }
    assert_eq!(
        store
            .measurement_settings(clinic)
            .await
            .expect("read")
            .alert_escalation_minutes,
        45
    );
    let versions: i64 = kap_store::on_db!(&store.db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM clinic_settings"
    )
    .fetch_one(p)
    .await
    .expect("count"));
    assert_eq!(versions, 2);
    let edit = kap_store::on_db!(&store.db, |p| sqlx::query(
        "UPDATE clinic_settings SET document = '{}'"
    )
    .execute(p)
    .await
    .map(|r| r.rows_affected()));
    assert!(edit.is_err(), "a saved version is never changed");
});

both_backends!(
    a_pending_message_never_holds_its_link_in_plain_text,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        let pid = store
            .create_patient(&actor, clinic, &crate::patient::details("Gil Ho"))
            .await
            .expect("p");
        let ins = instruments::by_code("phq9").expect("phq9");
        let (_, token) = store
            .create_link(
                &actor,
                NewLink {
                    clinic_id: clinic,
                    patient_id: pid,
                    instrument: ins,
                    context: ResponseContext::BetweenSessions,
                    valid_for: Duration::hours(72),
                    public_url: "https://kap.example",
                    email_enabled: true,
                },
            )
            .await
            .expect("link");
        let stored: Vec<(String, Option<String>)> = kap_store::on_db!(&store.db, |p| {
            sqlx::query_as("SELECT body, sealed_token FROM outbox")
                .fetch_all(p)
                .await
                .expect("rows")
        });
        assert_eq!(stored.len(), 1);
        assert!(!stored[0].0.contains(&token), "the text holds no token");
        let sealed = stored[0].1.clone().expect("sealed");
        assert!(!sealed.contains(&token), "the seal is not the token");
        // Sending opens it; the sent copy drops it.
        let pending = store
            .claim_messages("w", kap_store::now(), Duration::minutes(5), 10)
            .await
            .expect("claim");
        assert!(
            pending[0]
                .body
                .contains(&format!("https://kap.example/p/{token}"))
        );
        assert!(
            store
                .mark_message(pending[0].id, "w", None)
                .await
                .expect("sent")
        );
        let out = store.outbox(&actor, clinic).await.expect("outbox");
        assert!(out[0].body.contains("/p/[link used or sent; removed]"));
        let left: Option<String> = kap_store::on_db!(&store.db, |p| {
            sqlx::query_scalar("SELECT sealed_token FROM outbox")
                .fetch_one(p)
                .await
                .expect("row")
        });
        assert_eq!(left, None);
    }
);

both_backends!(
    links_written_before_sealing_are_sealed_by_the_migration_step,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        let pid = store
            .create_patient(&actor, clinic, &crate::patient::details("Ida Lo"))
            .await
            .expect("p");
        let ins = instruments::by_code("gad7").expect("gad7");
        let (_, token) = store
            .create_link(
                &actor,
                NewLink {
                    clinic_id: clinic,
                    patient_id: pid,
                    instrument: ins,
                    context: ResponseContext::BetweenSessions,
                    valid_for: Duration::hours(72),
                    public_url: "https://kap.example",
                    email_enabled: false,
                },
            )
            .await
            .expect("link");
        // As an older version stored it: the token in the text, nothing sealed.
        let legacy = format!("Open https://kap.example/p/{token} please");
        kap_store::on_db!(&store.db, |p| sqlx::query(
            "UPDATE outbox SET body = $1, sealed_token = NULL"
        )
        .bind(&legacy)
        .execute(p)
        .await
        .expect("legacy")
        .rows_affected());
        assert_eq!(store.seal_plaintext_links().await.expect("seal"), 1);
        let body: String =
            kap_store::on_db!(&store.db, |p| sqlx::query_scalar("SELECT body FROM outbox")
                .fetch_one(p)
                .await
                .expect("body"));
        assert!(!body.contains(&token));
        let shown = store.outbox(&actor, clinic).await.expect("outbox");
        assert!(
            shown[0].body.contains(&token),
            "staff still see the live link"
        );
        assert_eq!(store.seal_plaintext_links().await.expect("again"), 0);
    }
);

/// A database as it stood before alerts named their source (migration 0010), holding a PHQ-9
/// alert raised then; brought up to date, the alert reads back as raised by its response.
async fn legacy_response_alert_reads_back_as_raised_by_its_response(db: kap_store::Db) {
    use kap_domain::alert::{AlertKind, AlertSource};
    let before_sources = 10;
    match &db {
        kap_store::Db::Sqlite(p, _) => sqlx::migrate!("./migrations/sqlite")
            .run_to(before_sources, p)
            .await
            .expect("migrate to 0010"),
        kap_store::Db::Postgres(p) => sqlx::migrate!("./migrations/postgres")
            .run_to(before_sources, p)
            .await
            .expect("migrate to 0010"),
    }
    let key = kap_domain::audit::AuditKey::from_hex(&kap_store::random_hex(32)).expect("key");
    let store = Store::new(db, key);
    let (clinic, actor) = clinic_with(&store, "a", Role::Nurse).await;
    let pid = store
        .create_patient(&actor, clinic, &crate::patient::details("Ana Lima"))
        .await
        .expect("p");
    let (response, alert, t) = (kap_store::new_id(), kap_store::new_id(), kap_store::now());
    kap_store::on_db!(&store.db, |p| {
        sqlx::query(
            "INSERT INTO questionnaire_response (id, clinic_id, patient_id, instrument, context,
                source, complete, total, band, answered_at, created_at)
             VALUES ($1,$2,$3,'phq9','baseline','staff',TRUE,9,'Mild',$4,$4)",
        )
        .bind(response)
        .bind(clinic)
        .bind(pid)
        .bind(t)
        .execute(p)
        .await
        .expect("response");
        sqlx::query(
            "INSERT INTO alert (id, clinic_id, patient_id, kind, severity, response_id, detail,
                status, raised_at, item_id, answer_value)
             VALUES ($1,$2,$3,'phq9_self_harm','urgent',$4,'PHQ-9 item 9 positive','open',$5,
                '9',2)",
        )
        .bind(alert)
        .bind(clinic)
        .bind(pid)
        .bind(response)
        .bind(t)
        .execute(p)
        .await
        .expect("alert, the old way");
    });
    store.db.migrate().await.expect("migrate the rest");

    let all = store.alerts_of(clinic, pid).await.expect("alerts");
    assert_eq!(all.len(), 1);
    let a = &all[0];
    assert_eq!(a.id, alert);
    assert_eq!(a.kind, AlertKind::Phq9SelfHarm);
    assert_eq!(a.source, AlertSource::Response(response));
    assert_eq!(a.session_id, None);
    assert_eq!(a.question().as_deref(), Some("question 9"));
    assert_eq!(a.answer_given(), "2 — More than half the days");
    let open = store.open_alerts(&actor, clinic).await.expect("open");
    assert_eq!(open[0].source, AlertSource::Response(response));
    // Still acknowledged once, as before.
    store
        .acknowledge_alert(
            &actor,
            clinic,
            alert,
            "Called the patient; safety plan reviewed",
        )
        .await
        .expect("ack");
    assert!(matches!(
        store
            .acknowledge_alert(&actor, clinic, alert, "again")
            .await,
        Err(StoreError::Conflict(_))
    ));
}

mod legacy_response_alert_reads_back_as_raised_by_its_response {
    #[tokio::test]
    async fn sqlite() {
        let db = kap_store::Db::connect("sqlite::memory:")
            .await
            .expect("sqlite");
        super::legacy_response_alert_reads_back_as_raised_by_its_response(db).await;
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL: set KAPSTONE_TEST_PG_URL and run with -- --include-ignored"]
    async fn postgres() {
        let url = kap_store::testing::pg_url().expect("KAPSTONE_TEST_PG_URL");
        let schema = format!("t_{}", kap_store::random_hex(8));
        let admin = kap_store::Db::connect(&url).await.expect("postgres");
        kap_store::on_db!(&admin, |p| sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA {schema}"
        )))
        .execute(p)
        .await
        .map(|_| ()))
        .expect("schema");
        admin.close().await;
        let opts = std::str::FromStr::from_str(&url)
            .map(|o: sqlx::postgres::PgConnectOptions| {
                o.options([("search_path", schema.as_str())])
            })
            .expect("url");
        let db = kap_store::Db::connect_pg(opts).await.expect("postgres");
        super::legacy_response_alert_reads_back_as_raised_by_its_response(db).await;
    }
}
