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
        let v = store.verify_audit().await.expect("verify");
        assert!(v.broken.is_none());
        assert_eq!(v.rows, 7); // clinic creation + staff creation + 5
        let _ = clinic;
        tamper(&store.db, 4).await;
        let v = store.verify_audit().await.expect("verify");
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
        let v = store.verify_audit().await.expect("verify");
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
        let rows = store.audit_rows(&actor, clinic, &f).await.expect("rows");
        let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, vec!["patient.read", "patient.create"]);
        assert!(
            rows.iter()
                .all(|r| r.patient_id == Some(p1) && r.patient_id != Some(p2))
        );
        let rows = store.audit_rows(&actor, clinic, &f).await.expect("rows");
        assert_eq!(rows[0].action, "audit.read");
    }
);
