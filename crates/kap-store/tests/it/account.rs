use super::*;
use chrono::Duration;
use kap_domain::two_factor::{TotpKey, recovery_hash};
use kap_store::{Conflict, StoreError};

both_backends!(
    two_factor_codes_and_recovery_codes_work_once,
    |store: Store| async move {
        let (_, actor) = clinic_with(&store, "a", Role::Nurse).await;
        let me = actor.staff_id.expect("staff");
        assert!(!store.two_factor_state(me).await.expect("state").enabled);
        let key = TotpKey::from_bytes(vec![9; 20]).expect("key");
        store.set_pending_totp(me, &key).await.expect("pending");
        // The pending secret is sealed at rest: the column never holds it in the clear.
        let stored: String = kap_store::on_db!(&store.db, |p| sqlx::query_scalar(
            "SELECT totp_pending FROM staff_user WHERE totp_pending IS NOT NULL"
        )
        .fetch_one(p)
        .await
        .expect("row"));
        assert!(!stored.contains(&key.base32()));
        assert_eq!(
            store.pending_totp(me).await.expect("read"),
            Some(key.clone())
        );
        let hashes = vec![
            recovery_hash("aaaa-bbbb-cccc-dddd"),
            recovery_hash("eeee-ffff-gggg-hhhh"),
        ];
        store
            .enable_totp(&actor, me, 100, &hashes)
            .await
            .expect("enable");
        let state = store.two_factor_state(me).await.expect("state");
        assert!(state.enabled);
        assert_eq!(state.recovery_left, 2);
        assert_eq!(
            store.totp_key(me).await.expect("key"),
            Some((key, Some(100)))
        );
        assert!(
            !store.use_totp_step(me, 100).await.expect("step"),
            "the enrolment step is spent"
        );
        assert!(store.use_totp_step(me, 101).await.expect("step"));
        assert!(!store.use_totp_step(me, 101).await.expect("step"), "once");
        assert!(
            !store.use_totp_step(me, 99).await.expect("step"),
            "never backwards"
        );
        let h = recovery_hash("AAAA BBBB CCCC DDDD");
        assert!(store.use_recovery_code(me, &h).await.expect("use"));
        assert!(!store.use_recovery_code(me, &h).await.expect("use"), "once");
        assert_eq!(
            store
                .two_factor_state(me)
                .await
                .expect("state")
                .recovery_left,
            1
        );
        store.disable_totp(&actor, me).await.expect("off");
        let state = store.two_factor_state(me).await.expect("state");
        assert!(!state.enabled && state.recovery_left == 0);
    }
);

both_backends!(
    reset_links_work_once_before_they_expire_and_end_sessions,
    |store: Store| async move {
        let (clinic, admin) = clinic_with(&store, "a", Role::Admin).await;
        let nurse = store
            .create_staff(
                &Actor::system(),
                NewStaff {
                    email: "nurse@a.test",
                    full_name: "Nora Nurse",
                    password_hash: "$argon2id$old",
                    clinic_id: clinic,
                    role: Role::Nurse,
                },
            )
            .await
            .expect("nurse");
        let policy = kap_store::session::SessionPolicy {
            idle: Duration::minutes(30),
            absolute: Duration::hours(8),
        };
        store
            .start_session(nurse, clinic, None, None, policy)
            .await
            .expect("session");
        let first = store
            .issue_password_reset(&admin, clinic, nurse, Duration::hours(24))
            .await
            .expect("issue");
        let second = store
            .issue_password_reset(&admin, clinic, nurse, Duration::hours(24))
            .await
            .expect("issue again");
        assert!(
            store
                .password_reset_holder(&first)
                .await
                .expect("read")
                .is_none(),
            "replaced"
        );
        let holder = store
            .password_reset_holder(&second)
            .await
            .expect("read")
            .expect("live");
        assert_eq!(holder.email, "nurse@a.test");
        store
            .reset_password_with_link(&second, "$argon2id$new", None)
            .await
            .expect("reset");
        let login = store
            .staff_login("nurse@a.test")
            .await
            .expect("login")
            .expect("account");
        assert_eq!(login.password_hash, "$argon2id$new");
        let sessions: i64 = kap_store::on_db!(&store.db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_session"
        )
        .fetch_one(p)
        .await
        .expect("count"));
        assert_eq!(sessions, 0);
        assert!(matches!(
            store
                .reset_password_with_link(&second, "$argon2id$again", None)
                .await,
            Err(StoreError::Conflict(Conflict::LinkSpent))
        ));
        let expired = store
            .issue_password_reset(&admin, clinic, nurse, Duration::seconds(-1))
            .await
            .expect("issue");
        assert!(
            store
                .password_reset_holder(&expired)
                .await
                .expect("read")
                .is_none()
        );
        // Someone who also works elsewhere is not one clinic's to reset.
        let other = store.create_clinic("b", "b").await.expect("clinic");
        store
            .grant_membership(&Actor::system(), nurse, other.id, Role::Nurse)
            .await
            .expect("grant");
        assert!(matches!(
            store
                .issue_password_reset(&admin, clinic, nurse, Duration::hours(1))
                .await,
            Err(StoreError::Conflict(Conflict::WorksElsewhere))
        ));
    }
);
