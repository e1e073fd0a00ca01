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
        .revoke_api_token(&admin, me, id)
        .await
        .expect("revoke");
    assert!(store.token_principal(&raw).await.expect("lookup").is_none());
    assert_eq!(store.api_tokens_of(me).await.expect("list").len(), 1);
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
