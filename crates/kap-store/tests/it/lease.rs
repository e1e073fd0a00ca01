//! Work shared by several worker processes over one database: queued messages are claimed with a
//! lease (one whose holder died is taken over once the lease runs out, and sent once), claims
//! made at the same time never overlap, and due schedules fired by several workers at once each
//! make one link. On PostgreSQL the store's pool gives each task its own connection, so the
//! claims and firings really do meet in the database.

use super::*;
use chrono::Duration;
use kap_domain::checkin::ScheduleKind;
use kap_domain::checkin::schedule::NewSchedule;
use kap_domain::instruments::{self, ResponseContext};
use kap_domain::measure::OutboxStatus;
use kap_store::lease::MESSAGE_LEASE;
use kap_store::measure::link::NewLink;
use kap_store::measure::schedule::LinkDelivery;
use std::collections::BTreeSet;

const DELIVER: LinkDelivery<'static> = LinkDelivery {
    public_url: "https://kap.example",
    email_enabled: true,
};

/// A patient with an email address, and one questionnaire link emailed to them (queued).
async fn queue_one(store: &Store, clinic: Uuid, actor: &Actor, name: &str) -> Uuid {
    let pid = store
        .create_patient(actor, clinic, &crate::patient::details(name))
        .await
        .expect("patient");
    store
        .create_link(
            actor,
            NewLink {
                clinic_id: clinic,
                patient_id: pid,
                instrument: instruments::by_code("phq9").expect("phq9"),
                context: ResponseContext::BetweenSessions,
                valid_for: Duration::hours(72),
                public_url: DELIVER.public_url,
                email_enabled: true,
            },
        )
        .await
        .expect("link");
    pid
}

async fn chain_intact(store: &Store) {
    let v = store.verify_audit(vec![]).await.expect("verify");
    assert!(v.broken.is_none(), "{:?}", v.broken);
}

both_backends!(
    a_message_whose_sender_died_mid_send_is_sent_once_by_another,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        queue_one(&store, clinic, &actor, "Ada Quinn").await;
        let t = kap_store::now();
        // Process A claims the message and dies before recording anything.
        let a = store
            .claim_messages("a", t, MESSAGE_LEASE, 10)
            .await
            .expect("claim a");
        assert_eq!(a.len(), 1);
        let id = a[0].id;
        // While A's lease runs, B gets nothing.
        let b = store
            .claim_messages("b", t + Duration::minutes(1), MESSAGE_LEASE, 10)
            .await
            .expect("claim b");
        assert!(b.is_empty(), "a live claim is never taken");
        // Once it has run out, B takes the message over and sends it.
        let later = t + MESSAGE_LEASE + Duration::seconds(1);
        let b = store
            .claim_messages("b", later, MESSAGE_LEASE, 10)
            .await
            .expect("claim b again");
        assert_eq!(b.iter().map(|m| m.id).collect::<Vec<_>>(), vec![id]);
        assert!(
            b[0].body.contains("https://kap.example/p/"),
            "the new holder gets the link opened"
        );
        assert!(
            store
                .renew_message(id, "b", later, MESSAGE_LEASE)
                .await
                .expect("renew b")
        );
        // A, had it come back to life, finds the message no longer its to send.
        assert!(
            !store
                .renew_message(id, "a", later, MESSAGE_LEASE)
                .await
                .expect("renew a")
        );
        assert!(
            !store
                .mark_message(id, "a", Some("late failure"))
                .await
                .expect("mark a"),
            "a failure is recorded only by the holder"
        );
        assert!(store.mark_message(id, "b", None).await.expect("mark b"));
        assert!(
            !store.mark_message(id, "a", None).await.expect("mark again"),
            "a message is recorded sent once"
        );
        let out = store.outbox(&actor, clinic).await.expect("outbox");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].status, OutboxStatus::Sent);
        assert_eq!(out[0].attempts, 1);
        assert_eq!(out[0].last_error, None);
        // Sent is final: no one claims it again, however late.
        let never = store
            .claim_messages("c", later + Duration::days(1), MESSAGE_LEASE, 10)
            .await
            .expect("claim c");
        assert!(never.is_empty());
        chain_intact(&store).await;
    }
);

both_backends!(
    a_failed_attempt_waits_for_the_next_round_and_a_release_frees_it,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        queue_one(&store, clinic, &actor, "Bea Roe").await;
        queue_one(&store, clinic, &actor, "Cal Roe").await;
        let t = kap_store::now();
        let a = store
            .claim_messages("a", t, MESSAGE_LEASE, 10)
            .await
            .expect("claim");
        assert_eq!(a.len(), 2);
        assert!(
            store
                .mark_message(a[0].id, "a", Some("421 try later"))
                .await
                .expect("fail")
        );
        // Within the round, the failed message stays A's: it is not tried again at once.
        let again = store
            .claim_messages("a", t, MESSAGE_LEASE, 10)
            .await
            .expect("claim again");
        assert!(again.is_empty());
        // The round's end gives back both, the failed one with its attempt counted.
        assert_eq!(store.release_messages("a").await.expect("release"), 2);
        let b = store
            .claim_messages("b", t, MESSAGE_LEASE, 10)
            .await
            .expect("claim b");
        assert_eq!(b.len(), 2);
        let failed = b.iter().find(|m| m.id == a[0].id).expect("failed one");
        assert_eq!(failed.attempts, 1);
        assert_eq!(failed.last_error.as_deref(), Some("421 try later"));
        // Given up on after the last attempt: failed, and no one's claim.
        for _ in 1..kap_domain::measure::outbox::MAX_DELIVERY_ATTEMPTS {
            assert!(
                store
                    .mark_message(a[0].id, "b", Some("550 no such user"))
                    .await
                    .expect("fail")
            );
        }
        store.release_messages("b").await.expect("release b");
        let out = store.outbox(&actor, clinic).await.expect("outbox");
        let gone = out.iter().find(|m| m.id == a[0].id).expect("failed one");
        assert_eq!(gone.status, OutboxStatus::Failed);
        let claims: i64 = kap_store::on_db!(&store.db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE claimed_by IS NOT NULL"
        )
        .fetch_one(p)
        .await
        .expect("count"));
        assert_eq!(claims, 0);
    }
);

both_backends!(
    claims_made_at_once_never_share_a_message,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        const MESSAGES: usize = 30;
        for i in 0..MESSAGES {
            queue_one(&store, clinic, &actor, &format!("Pat Number{i}")).await;
        }
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..6 {
            let store = store.clone();
            tasks.spawn(async move {
                let holder = format!("w{w}");
                let mut mine = vec![];
                loop {
                    let batch = store
                        .claim_messages(&holder, kap_store::now(), MESSAGE_LEASE, 4)
                        .await
                        .expect("claim");
                    if batch.is_empty() {
                        break mine;
                    }
                    for m in batch {
                        assert!(
                            store
                                .renew_message(m.id, &holder, kap_store::now(), MESSAGE_LEASE)
                                .await
                                .expect("renew"),
                            "a claim just made is the claimer's"
                        );
                        assert!(store.mark_message(m.id, &holder, None).await.expect("mark"));
                        mine.push(m.id);
                    }
                }
            });
        }
        let mut all = vec![];
        while let Some(done) = tasks.join_next().await {
            all.extend(done.expect("task"));
        }
        let distinct: BTreeSet<Uuid> = all.iter().copied().collect();
        assert_eq!(all.len(), MESSAGES, "every message claimed once: {all:?}");
        assert_eq!(distinct.len(), MESSAGES);
        assert!(
            store
                .pending_messages(100)
                .await
                .expect("pending")
                .is_empty()
        );
    }
);

both_backends!(
    workers_firing_at_once_make_one_link_per_due_turn,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        const PATIENTS: usize = 8;
        let ins = instruments::by_code("phq9").expect("phq9");
        let mut patients = vec![];
        for i in 0..PATIENTS {
            let pid = store
                .create_patient(
                    &actor,
                    clinic,
                    &crate::patient::details(&format!("Sam Number{i}")),
                )
                .await
                .expect("patient");
            store
                .add_schedule(&actor, clinic, pid, ins, Some(7))
                .await
                .expect("schedule");
            store
                .add_checkin_schedule(
                    &actor,
                    clinic,
                    pid,
                    &NewSchedule {
                        kind: ScheduleKind::EveryDays,
                        days: 7,
                        instrument: None,
                    },
                )
                .await
                .expect("check-in schedule");
            patients.push(pid);
        }
        let at = kap_store::now() + Duration::seconds(1);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let store = store.clone();
            tasks.spawn(async move {
                let mut made = 0;
                for s in store.due_schedules(at).await.expect("due") {
                    let valid = store
                        .measurement_settings(s.clinic_id)
                        .await
                        .expect("settings")
                        .link_valid_for();
                    if store
                        .fire_schedule(&s, at, valid, DELIVER)
                        .await
                        .expect("fire")
                    {
                        made += 1;
                    }
                }
                made + store
                    .run_checkin_schedules(at, DELIVER)
                    .await
                    .expect("check-ins")
            });
        }
        let mut made = 0;
        while let Some(n) = tasks.join_next().await {
            made += n.expect("task");
        }
        assert_eq!(
            made,
            2 * PATIENTS,
            "one questionnaire and one check-in each"
        );
        for pid in patients {
            assert_eq!(store.links_of(clinic, pid).await.expect("links").len(), 1);
            assert_eq!(
                store
                    .checkin_links_of(clinic, pid)
                    .await
                    .expect("check-in links")
                    .len(),
                1
            );
        }
        assert_eq!(
            store.pending_messages(100).await.expect("pending").len(),
            2 * PATIENTS,
            "one message per link"
        );
        chain_intact(&store).await;
    }
);
