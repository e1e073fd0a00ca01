use super::*;
use chrono::Duration;
use kap_store::StoreError;
use kap_store::session::SessionPolicy;

fn policy() -> SessionPolicy {
    SessionPolicy {
        idle: Duration::minutes(30),
        absolute: Duration::hours(12),
    }
}

both_backends!(sessions_live_rotate_and_end, |store: Store| async move {
    let (clinic, actor) = clinic_with(&store, "a", Role::Nurse).await;
    let staff = actor.staff_id.expect("id");
    let t1 = store
        .start_session(staff, clinic, Some("127.0.0.1"), None, policy())
        .await
        .expect("start");
    let p = store
        .session_principal(&t1, policy())
        .await
        .expect("lookup")
        .expect("live");
    assert_eq!(p.role, Role::Nurse);
    assert!(p.csrf_token.is_some());
    // Logging in again from the same browser ends the old session.
    let t2 = store
        .start_session(staff, clinic, None, Some(&t1), policy())
        .await
        .expect("rotate");
    assert!(
        store
            .session_principal(&t1, policy())
            .await
            .expect("lookup")
            .is_none()
    );
    assert!(
        store
            .session_principal(&t2, policy())
            .await
            .expect("lookup")
            .is_some()
    );
    // An idle limit of zero means every session is stale.
    let strict = SessionPolicy {
        idle: Duration::zero(),
        absolute: Duration::hours(1),
    };
    assert!(
        store
            .session_principal(&t2, strict)
            .await
            .expect("lookup")
            .is_none()
    );
    store.end_session(&t2).await.expect("end");
    assert!(
        store
            .session_principal(&t2, policy())
            .await
            .expect("lookup")
            .is_none()
    );
    assert!(
        store
            .session_principal("not-a-token", policy())
            .await
            .expect("lookup")
            .is_none()
    );
});

both_backends!(
    deactivation_ends_sessions_and_tokens,
    |store: Store| async move {
        let (clinic, admin) = clinic_with(&store, "a", Role::Admin).await;
        let nurse = store
            .create_staff(
                &admin,
                NewStaff {
                    email: "n@a.test",
                    full_name: "Nina Nurse",
                    password_hash: "h",
                    clinic_id: clinic,
                    role: Role::Nurse,
                },
            )
            .await
            .expect("nurse");
        let s = store
            .start_session(nurse, clinic, None, None, policy())
            .await
            .expect("session");
        let (_, token) = store
            .create_api_token(&admin, nurse, clinic, "lab")
            .await
            .expect("token");
        assert!(store.token_principal(&token).await.expect("t").is_some());
        store
            .update_staff(&admin, clinic, nurse, Role::Nurse, false)
            .await
            .expect("deactivate");
        assert!(
            store
                .session_principal(&s, policy())
                .await
                .expect("s")
                .is_none()
        );
        assert!(store.token_principal(&token).await.expect("t").is_none());
        let m = store
            .staff_member(clinic, nurse)
            .await
            .expect("still there");
        assert!(!m.active);
        // An admin cannot lock themselves out.
        let me = admin.staff_id.expect("id");
        let r = store
            .update_staff(&admin, clinic, me, Role::Nurse, true)
            .await;
        assert!(matches!(r, Err(StoreError::Conflict(_))));
    }
);

both_backends!(duplicate_email_is_a_conflict, |store: Store| async move {
    let (clinic, admin) = clinic_with(&store, "a", Role::Admin).await;
    let r = store
        .create_staff(
            &admin,
            NewStaff {
                email: "admin@a.test",
                full_name: "X",
                password_hash: "h",
                clinic_id: clinic,
                role: Role::Nurse,
            },
        )
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))));
});

both_backends!(api_tokens_are_revocable, |store: Store| async move {
    let (clinic, admin) = clinic_with(&store, "a", Role::Admin).await;
    let me = admin.staff_id.expect("id");
    let (id, raw) = store
        .create_api_token(&admin, me, clinic, "integration")
        .await
        .expect("create");
    assert!(raw.starts_with("kap_"));
    let p = store
        .token_principal(&raw)
        .await
        .expect("lookup")
        .expect("live");
    assert_eq!(p.staff_id, me);
    assert!(p.csrf_token.is_none());
    store
        .revoke_api_token(&admin, clinic, me, id)
        .await
        .expect("revoke");
    assert!(store.token_principal(&raw).await.expect("lookup").is_none());
    assert_eq!(
        store.api_tokens_of(clinic, me).await.expect("list").len(),
        1
    );
});

both_backends!(
    login_failures_count_since_last_success,
    |store: Store| async move {
        let since = kap_store::now() - Duration::minutes(15);
        for _ in 0..3 {
            store
                .record_login_attempt("a@x.test", "1.2.3.4", false)
                .await
                .expect("rec");
        }
        assert_eq!(
            store
                .recent_login_failures("a@x.test", "1.2.3.4", since)
                .await
                .expect("c"),
            (3, 3)
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        store
            .record_login_attempt("a@x.test", "1.2.3.4", true)
            .await
            .expect("rec");
        let (by_email, by_addr) = store
            .recent_login_failures("a@x.test", "1.2.3.4", since)
            .await
            .expect("c");
        assert_eq!(by_email, 0);
        assert_eq!(by_addr, 3);
    }
);

both_backends!(
    staff_can_work_in_two_clinics_and_switch,
    |store: Store| async move {
        let (a, admin) = clinic_with(&store, "a", Role::Admin).await;
        let b = store.create_clinic("B", "b").await.expect("b").id;
        let me = admin.staff_id.expect("id");
        store
            .grant_membership(&admin, me, b, Role::Nurse)
            .await
            .expect("grant");
        assert_eq!(store.memberships(me).await.expect("m").len(), 2);
        let t = store
            .start_session(me, a, None, None, policy())
            .await
            .expect("s");
        store
            .switch_session_clinic(&t, me, b)
            .await
            .expect("switch");
        let p = store
            .session_principal(&t, policy())
            .await
            .expect("p")
            .expect("live");
        assert_eq!(p.clinic_id, b);
        assert_eq!(p.role, Role::Nurse);
        let elsewhere = store.create_clinic("C", "c").await.expect("c").id;
        assert!(matches!(
            store.switch_session_clinic(&t, me, elsewhere).await,
            Err(StoreError::NotFound)
        ));
    }
);

both_backends!(
    concurrent_logins_get_no_more_password_checks_than_the_limit,
    |store: Store| async move {
        use kap_store::session::{LoginLimits, LoginReservation};
        let limits = LoginLimits {
            per_account: 5,
            window: Duration::minutes(15),
        };
        let mut tasks = vec![];
        for i in 0..16 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.reserve_login_attempt("target@x.test", &format!("10.0.0.{i}"), limits)
                    .await
            }));
        }
        let mut granted = 0;
        for t in tasks {
            if let LoginReservation::Granted { .. } = t.await.expect("join").expect("reserve") {
                granted += 1;
            }
        }
        assert_eq!(granted, 5, "16 concurrent attempts, 5 allowed");
        // The right password arriving now is refused too: the account is locked for the window.
        assert_eq!(
            store
                .reserve_login_attempt("target@x.test", "10.9.9.9", limits)
                .await
                .expect("reserve"),
            LoginReservation::AccountLocked
        );
        // A success clears the count.
        let other = "ok@x.test";
        let LoginReservation::Granted { attempt, .. } = store
            .reserve_login_attempt(other, "10.0.0.1", limits)
            .await
            .expect("reserve")
        else {
            panic!("first attempt refused");
        };
        store
            .settle_login_attempt(attempt, true)
            .await
            .expect("settle");
        let (by_email, _) = store
            .recent_login_failures(other, "10.0.0.1", kap_store::now() - Duration::minutes(15))
            .await
            .expect("count");
        assert_eq!(by_email, 0);
    }
);

both_backends!(
    administration_is_scoped_to_the_clinic,
    |store: Store| async move {
        let (a, admin_a) = clinic_with(&store, "a", Role::Admin).await;
        let (b, admin_b) = clinic_with(&store, "b", Role::Admin).await;
        let shared = store
            .create_staff(
                &admin_a,
                NewStaff {
                    email: "shared@x.test",
                    full_name: "Sam Shared",
                    password_hash: "h",
                    clinic_id: a,
                    role: Role::Nurse,
                },
            )
            .await
            .expect("staff");
        store
            .grant_membership(&admin_b, shared, b, Role::Nurse)
            .await
            .expect("grant");
        let (_, token_b) = store
            .create_api_token(&admin_b, shared, b, "b's lab")
            .await
            .expect("token");
        let tid_b = store.api_tokens_of(b, shared).await.expect("b tokens")[0].id;
        assert!(
            store
                .api_tokens_of(a, shared)
                .await
                .expect("a tokens")
                .is_empty(),
            "A's admin does not see B's token"
        );
        assert!(matches!(
            store.revoke_api_token(&admin_a, a, shared, tid_b).await,
            Err(StoreError::NotFound)
        ));
        let session_b = store
            .start_session(shared, b, None, None, policy())
            .await
            .expect("session");
        store
            .update_staff(&admin_a, a, shared, Role::Nurse, false)
            .await
            .expect("deactivate in A");
        assert!(!store.staff_member(a, shared).await.expect("a").active);
        assert!(store.staff_member(b, shared).await.expect("b").active);
        assert!(store.token_principal(&token_b).await.expect("t").is_some());
        assert!(
            store
                .session_principal(&session_b, policy())
                .await
                .expect("s")
                .is_some(),
            "deactivated in A, still at work in B"
        );
        let clinics: Vec<Uuid> = store
            .memberships(shared)
            .await
            .expect("m")
            .into_iter()
            .map(|(c, _)| c.id)
            .collect();
        assert_eq!(clinics, vec![b]);
        // The installation scope ends it everywhere.
        store
            .deactivate_account(&Actor::system(), shared)
            .await
            .expect("deactivate account");
        assert!(store.token_principal(&token_b).await.expect("t").is_none());
    }
);
