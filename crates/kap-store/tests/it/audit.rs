use super::*;
use kap_domain::audit::AuditAction;
use kap_store::Subject;
use kap_store::audit::AuditFilter;
use kap_store::{Db, on_db};

async fn tamper(db: &Db, seq: i64) {
    match db {
        Db::Sqlite(p, _) => {
            sqlx::query("DROP TRIGGER audit_event_no_update")
                .execute(p)
                .await
                .expect("drop");
        }
        Db::Postgres(p) => {
            sqlx::query("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change")
                .execute(p)
                .await
                .expect("disable");
        }
    }
    on_db!(db, |p| sqlx::query(
        "UPDATE audit_event SET detail = 'edited' WHERE seq = $1"
    )
    .bind(seq)
    .execute(p)
    .await
    .expect("tamper")
    .rows_affected());
}

both_backends!(
    chain_verifies_and_names_the_tampered_row,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Admin).await;
        for i in 0..5 {
            store
                .audit_only(
                    &actor,
                    AuditAction::LoginSucceeded,
                    Subject::none().with_detail(format!("{i}")),
                )
                .await
                .expect("append");
        }
        let v = store.verify_audit(vec![]).await.expect("verify");
        assert!(v.broken.is_none());
        assert_eq!(v.rows, 7); // clinic creation + staff creation + 5
        let _ = clinic;
        tamper(&store.db, 4).await;
        let v = store.verify_audit(vec![]).await.expect("verify");
        assert_eq!(v.broken.map(|b| b.seq()), Some(4));
    }
);

both_backends!(
    audit_rows_cannot_be_edited_or_deleted,
    |store: Store| async move {
        store
            .audit_only(&Actor::system(), AuditAction::LoginFailed, Subject::none())
            .await
            .expect("append");
        let upd = on_db!(&store.db, |p| sqlx::query(
            "UPDATE audit_event SET detail = 'x'"
        )
        .execute(p)
        .await
        .map(|r| r.rows_affected()));
        assert!(upd.is_err());
        let del = on_db!(&store.db, |p| sqlx::query("DELETE FROM audit_event")
            .execute(p)
            .await
            .map(|r| r.rows_affected()));
        assert!(del.is_err());
    }
);

both_backends!(
    concurrent_appends_keep_one_chain,
    |store: Store| async move {
        let mut tasks = vec![];
        for i in 0..20 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.audit_only(
                    &Actor::system(),
                    AuditAction::LoginFailed,
                    Subject::none().with_detail(format!("{i}")),
                )
                .await
            }));
        }
        for t in tasks {
            t.await.expect("join").expect("append");
        }
        let v = store.verify_audit(vec![]).await.expect("verify");
        assert!(v.broken.is_none(), "{:?}", v.broken);
        assert_eq!(v.rows, 20);
    }
);

both_backends!(
    audit_log_filters_by_patient_and_is_itself_audited,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Admin).await;
        let d = crate::patient::details("Ana Lima");
        let p1 = store.create_patient(&actor, clinic, &d).await.expect("p1");
        let p2 = store.create_patient(&actor, clinic, &d).await.expect("p2");
        store.patient(&actor, clinic, p1).await.expect("read");
        let f = AuditFilter {
            patient_id: Some(p1),
            limit: 50,
            ..Default::default()
        };
        let rows = store
            .audit_rows(&actor, kap_store::audit::AuditScope::Clinic(clinic), &f)
            .await
            .expect("rows");
        let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, vec!["patient.read", "patient.create"]);
        assert!(
            rows.iter()
                .all(|r| r.patient_id == Some(p1) && r.patient_id != Some(p2))
        );
        let rows = store
            .audit_rows(&actor, kap_store::audit::AuditScope::Clinic(clinic), &f)
            .await
            .expect("rows");
        assert_eq!(rows[0].action, "audit.read");
    }
);

/// Someone with the database file: the append-only triggers go first.
async fn drop_guards(db: &Db) {
    let sqls: &[&str] = match db {
        Db::Sqlite(..) => &[
            "DROP TRIGGER audit_event_no_update",
            "DROP TRIGGER audit_event_no_delete",
        ],
        Db::Postgres(_) => &["ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"],
    };
    for sql in sqls {
        raw(db, sql).await;
    }
}

async fn raw(db: &Db, sql: &str) {
    on_db!(db, |p| sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(p)
        .await
        .expect("tamper")
        .rows_affected());
}

/// A trail of `n` rows with a checkpoint of its head, as `serve` keeps them.
async fn trail_with_checkpoint(store: &Store, n: usize) -> Vec<kap_domain::audit::Checkpoint> {
    for i in 0..n {
        store
            .audit_only(
                &Actor::system(),
                AuditAction::LoginFailed,
                Subject::none().with_detail(format!("{i}")),
            )
            .await
            .expect("append");
    }
    let (seq, hash) = store.audit_head().await.expect("head").expect("rows");
    vec![kap_domain::audit::Checkpoint {
        seq,
        hash,
        at: kap_store::now(),
    }]
}

/// Each kind of tampering, and what it must be reported as.
const TAMPERINGS: &[(&str, &str)] = &[
    (
        "edit",
        "UPDATE audit_event SET detail = 'edited' WHERE seq = 5",
    ),
    ("delete", "DELETE FROM audit_event WHERE seq = 5"),
    // Rows 4 and 5 swap places (done in three steps below: the sequence is a key).
    ("reorder", ""),
    ("truncate last", "DELETE FROM audit_event WHERE seq = 10"),
    ("truncate last 4", "DELETE FROM audit_event WHERE seq > 6"),
    ("wipe", "DELETE FROM audit_event"),
];

async fn every_tampering_is_caught(store: Store, kinds: &[&str]) {
    for (kind, sql) in TAMPERINGS.iter().filter(|(k, _)| kinds.contains(k)) {
        let store = kap_store::testing::store(store.db.backend())
            .await
            .expect("fresh store");
        let cps = trail_with_checkpoint(&store, 10).await;
        assert!(
            store
                .verify_audit(cps.clone())
                .await
                .expect("v")
                .broken
                .is_none(),
            "{kind}: intact before"
        );
        drop_guards(&store.db).await;
        if *kind == "reorder" {
            raw(&store.db, "UPDATE audit_event SET seq = 1000 WHERE seq = 4").await;
            raw(&store.db, "UPDATE audit_event SET seq = 4 WHERE seq = 5").await;
            raw(&store.db, "UPDATE audit_event SET seq = 5 WHERE seq = 1000").await;
        } else {
            raw(&store.db, sql).await;
        }
        let v = store.verify_audit(cps).await.expect("verify");
        let broken = v.broken.unwrap_or_else(|| panic!("{kind} was not caught"));
        if kind.starts_with("truncate") || *kind == "wipe" {
            assert!(
                broken.to_string().contains("missing"),
                "{kind}: reported as {broken}"
            );
        }
    }
}

both_backends!(
    edit_delete_reorder_truncate_and_wipe_are_all_caught,
    |store: Store| async move {
        let kinds: &[&str] = match store.db {
            // PostgreSQL: the cases that need the checkpoints.
            Db::Postgres(_) => &["truncate last", "truncate last 4", "wipe"],
            Db::Sqlite(..) => &[
                "edit",
                "delete",
                "reorder",
                "truncate last",
                "truncate last 4",
                "wipe",
            ],
        };
        every_tampering_is_caught(store, kinds).await;
    }
);

both_backends!(
    clinic_admins_see_their_clinic_and_the_system_scope_sees_the_rest,
    |store: Store| async move {
        let (a, admin_a) = clinic_with(&store, "a", Role::Admin).await;
        let (_, admin_b) = clinic_with(&store, "b", Role::Admin).await;
        store
            .audit_only(
                &Actor {
                    address: Some("198.51.100.4".into()),
                    ..Actor::system()
                },
                AuditAction::LoginFailed,
                Subject::none().with_detail("someone@a.test"),
            )
            .await
            .expect("failed login");
        store
            .create_patient(
                &admin_b,
                admin_b.clinic_id.expect("b"),
                &crate::patient::details("Bea Bo"),
            )
            .await
            .expect("patient in b");
        let f = AuditFilter {
            limit: 100,
            ..Default::default()
        };
        let rows = store
            .audit_rows(&admin_a, kap_store::audit::AuditScope::Clinic(a), &f)
            .await
            .expect("rows");
        assert!(
            rows.iter().all(|r| r.action != "login.failure"),
            "no system rows"
        );
        assert!(
            rows.iter().all(|r| r.action != "patient.create"),
            "no other clinic"
        );
        let system = store
            .audit_rows(&Actor::system(), kap_store::audit::AuditScope::System, &f)
            .await
            .expect("system rows");
        assert!(system.iter().any(|r| r.detail == "someone@a.test"));
    }
);
