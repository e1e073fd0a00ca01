//! The group commit of reads' audit rows (issue #13): reads run side by side and hand their
//! rows to one writer, which appends each batch in one transaction. These tests use a file
//! database on SQLite (readers with connections of their own, as in production) and a fresh
//! schema on PostgreSQL, on a multi-threaded runtime so reads really overlap.

use super::*;
use kap_domain::audit::AuditAction;
use kap_store::testing::{hold_audit_chain, sqlite_file_store};
use kap_store::{Db, StoreError, Subject, on_db};
use std::sync::Arc;

/// Stamps `name` out for a file SQLite database and for PostgreSQL.
macro_rules! group_commit_test {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let dir = std::env::temp_dir().join(format!(
                    "kap-group-{}-{}",
                    stringify!($name),
                    std::process::id()
                ));
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir).expect("dir");
                let store = sqlite_file_store(&dir).await.expect("sqlite file store");
                ($body)(store.clone()).await;
                store.db.close().await;
                let _ = std::fs::remove_dir_all(&dir);
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            #[ignore = "needs PostgreSQL: set KAPSTONE_TEST_PG_URL and run with -- --include-ignored"]
            async fn postgres() {
                let store = kap_store::testing::store("postgres")
                    .await
                    .expect("postgres store");
                ($body)(store).await;
            }
        }
    };
}

async fn rows(db: &Db) -> i64 {
    on_db!(db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_event"
    )
    .fetch_one(p)
    .await
    .expect("count"))
}

async fn rows_of(db: &Db, action: AuditAction) -> i64 {
    on_db!(db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_event WHERE action = $1"
    )
    .bind(action.as_str())
    .fetch_one(p)
    .await
    .expect("count"))
}

/// Waits (without a clock) until `n` reads have handed their rows to the group commit.
async fn until_submitted(store: &Store, n: u64) {
    while store.audit_batches_submitted() < n {
        tokio::task::yield_now().await;
    }
}

group_commit_test!(
    thousands_of_concurrent_reads_leave_one_gap_free_verified_chain,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "gc", Role::Prescriber).await;
        let patient = store
            .create_patient(&actor, clinic, &super::patient::details("Ada Chain"))
            .await
            .expect("patient");
        let before = rows(&store.db).await;
        let mut tasks = Vec::new();
        for t in 0..40 {
            let (store, actor) = (store.clone(), actor.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..50 {
                    // Writes interleave with the reads: they append under the same lock.
                    if (t + i) % 25 == 0 {
                        store
                            .audit_only(&actor, AuditAction::LoginSucceeded, Subject::none())
                            .await
                            .expect("write");
                    } else {
                        store.patient(&actor, clinic, patient).await.expect("read");
                    }
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        assert_eq!(rows(&store.db).await - before, 2000);
        assert_eq!(rows_of(&store.db, AuditAction::PatientRead).await, 1920);
        let v = store.verify_audit(vec![]).await.expect("verify");
        assert!(v.broken.is_none(), "{:?}", v.broken);
        assert_eq!(i64::try_from(v.rows).expect("rows"), rows(&store.db).await);
    }
);

/// A trigger that refuses one audit row, as a full disk or a broken constraint would.
async fn refuse_rows_with_detail_boom(db: &Db) {
    match db {
        Db::Sqlite(p, _) => {
            sqlx::query(
                "CREATE TRIGGER audit_boom BEFORE INSERT ON audit_event
                 WHEN NEW.detail = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
            )
            .execute(p)
            .await
            .expect("trigger");
        }
        Db::Postgres(p) => {
            for sql in [
                "CREATE FUNCTION audit_boom() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN IF NEW.detail = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$",
                "CREATE TRIGGER audit_boom BEFORE INSERT ON audit_event
                 FOR EACH ROW EXECUTE FUNCTION audit_boom()",
            ] {
                sqlx::query(sql).execute(p).await.expect("trigger");
            }
        }
    }
}

group_commit_test!(
    a_failing_batch_fails_every_request_in_it_and_appends_nothing,
    |store: Store| async move {
        let (_, actor) = clinic_with(&store, "gf", Role::Prescriber).await;
        refuse_rows_with_detail_boom(&store.db).await;
        let before = rows(&store.db).await;
        let submitted = store.audit_batches_submitted();
        // Twenty requests line up behind a held chain lock, so they form one batch.
        let hold = hold_audit_chain(&store).await.expect("hold");
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (store, actor) = (store.clone(), actor.clone());
            let detail = if i == 7 { "boom" } else { "fine" };
            tasks.push(tokio::spawn(async move {
                store
                    .audit_only(
                        &actor,
                        AuditAction::AccessRefused,
                        Subject::none().with_detail(detail),
                    )
                    .await
            }));
        }
        until_submitted(&store, submitted + 20).await;
        hold.release().await.expect("release");
        for t in tasks {
            let r = t.await.expect("task");
            assert!(
                matches!(&r, Err(StoreError::AuditWriter(e)) if e.contains("boom")),
                "every request of the failed batch fails: {r:?}"
            );
        }
        assert_eq!(
            rows(&store.db).await,
            before,
            "the failed batch appended nothing"
        );
        // The writer goes on: the next request is written, and the chain is whole.
        store
            .audit_only(&actor, AuditAction::AccessRefused, Subject::none())
            .await
            .expect("next batch");
        assert_eq!(rows(&store.db).await, before + 1);
        let v = store.verify_audit(vec![]).await.expect("verify");
        assert!(v.broken.is_none(), "{:?}", v.broken);
    }
);

group_commit_test!(
    a_read_whose_client_went_away_still_has_its_row,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "gg", Role::Prescriber).await;
        let patient = store
            .create_patient(&actor, clinic, &super::patient::details("Gone Reader"))
            .await
            .expect("patient");
        let submitted = store.audit_batches_submitted();
        let hold = hold_audit_chain(&store).await.expect("hold");
        let data_returned = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let read = {
            let (store, actor, flag) = (store.clone(), actor.clone(), data_returned.clone());
            tokio::spawn(async move {
                let r = store.patient(&actor, clinic, patient).await;
                flag.store(r.is_ok(), std::sync::atomic::Ordering::SeqCst);
            })
        };
        // The read has its data in hand and waits for its row; its client goes away.
        until_submitted(&store, submitted + 1).await;
        read.abort();
        let _ = read.await;
        assert!(
            !data_returned.load(std::sync::atomic::Ordering::SeqCst),
            "no data before the row is durable"
        );
        hold.release().await.expect("release");
        // A later request is appended after it (one queue, in order): when it is durable, so
        // is the abandoned read's row.
        store
            .audit_only(&actor, AuditAction::LoginSucceeded, Subject::none())
            .await
            .expect("later");
        assert_eq!(rows_of(&store.db, AuditAction::PatientRead).await, 1);
        let v = store.verify_audit(vec![]).await.expect("verify");
        assert!(v.broken.is_none(), "{:?}", v.broken);
    }
);

group_commit_test!(
    concurrent_submissions_share_commits_and_one_that_fails_undoes_only_itself,
    |store: Store| async move {
        use kap_domain::instruments::{self, Answers, ResponseContext, score};
        use kap_domain::measure::ResponseSource;
        use kap_store::measure::response::NewResponse;
        let (clinic, actor) = clinic_with(&store, "gw", Role::Nurse).await;
        let (other_clinic, _) = clinic_with(&store, "gx", Role::Nurse).await;
        let mine = store
            .create_patient(&actor, clinic, &super::patient::details("Ana Grouped"))
            .await
            .expect("patient");
        let theirs = store
            .create_patient(
                &Actor::system(),
                other_clinic,
                &super::patient::details("Not Mine"),
            )
            .await
            .expect("patient");
        let before = rows(&store.db).await;
        let mut tasks = Vec::new();
        for i in 0..200 {
            let (store, actor) = (store.clone(), actor.clone());
            // Every tenth names a patient of another clinic (refused); every seventh answers
            // item 9 (an urgent alert in the same savepoint as its response).
            let patient = if i % 10 == 3 { theirs } else { mine };
            let item9 = i32::from(i % 7 == 0);
            tasks.push(tokio::spawn(async move {
                let ins = instruments::by_code("phq9").expect("phq9");
                let answers: Answers = (1..=9)
                    .map(|k| (k.to_string(), if k == 9 { item9 } else { 1 }))
                    .collect();
                let scored = score(ins, &answers).expect("score");
                store
                    .record_response(
                        &actor,
                        NewResponse {
                            clinic_id: clinic,
                            patient_id: patient,
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
                    .map(|r| r.alerts.len())
            }));
        }
        let (mut stored, mut refused, mut alerts) = (0, 0, 0);
        for t in tasks {
            match t.await.expect("task") {
                Ok(n) => {
                    stored += 1;
                    alerts += n;
                }
                Err(StoreError::NotFound) => refused += 1,
                Err(e) => panic!("unexpected: {e}"),
            }
        }
        assert_eq!((stored, refused), (180, 20));
        let (responses, _) = store
            .responses_of(&actor, clinic, mine)
            .await
            .expect("responses");
        assert_eq!(
            responses.len(),
            180,
            "every acknowledged submission is stored"
        );
        let open = store.open_alerts(&actor, clinic).await.expect("alerts");
        assert_eq!(open.len(), alerts);
        assert_eq!(rows_of(&store.db, AuditAction::ResponseRecorded).await, 180);
        // 180 responses and their alerts' rows, the two reads above; nothing of the refused.
        assert_eq!(
            rows(&store.db).await - before,
            180 + i64::try_from(alerts).expect("n") + 2
        );
        let v = store.verify_audit(vec![]).await.expect("verify");
        assert!(v.broken.is_none(), "{:?}", v.broken);
    }
);
