use super::*;
use chrono::NaiveDate;
use kap_domain::patient::{MeasurementForm, PatientDetails, PatientForm, PatientQuery};
use kap_store::StoreError;

pub fn details(name: &str) -> PatientDetails {
    PatientForm {
        full_name: name.into(),
        date_of_birth: "1984-03-02".into(),
        email: format!("{}@example.org", name.to_lowercase().replace(' ', ".")),
        phone: "+1 (555) 010-2030".into(),
        emergency_name: "Sam Lee".into(),
        emergency_phone: "555 010 9999".into(),
        ..Default::default()
    }
    .parse(NaiveDate::from_ymd_opt(2026, 11, 27).expect("date"))
    .expect("valid details")
}

both_backends!(patient_round_trips_and_updates, |store: Store| async move {
    let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
    let d = details("Jordan Rivera");
    let id = store
        .create_patient(&actor, clinic, &d)
        .await
        .expect("create");
    let (p, ms) = store.patient(&actor, clinic, id).await.expect("read");
    assert_eq!(p.details, d.clone());
    assert!(ms.is_empty());
    let mut d2 = d.clone();
    d2.full_name = kap_domain::person::PersonName::parse("Jordan Rivera-Smith").expect("name");
    store
        .update_patient(&actor, clinic, id, &d2)
        .await
        .expect("update");
    let (p, _) = store.patient(&actor, clinic, id).await.expect("read");
    assert_eq!(p.details.full_name.as_str(), "Jordan Rivera-Smith");
});

both_backends!(
    patients_of_another_clinic_are_not_found,
    |store: Store| async move {
        let (a, actor_a) = clinic_with(&store, "a", Role::Coordinator).await;
        let (b, actor_b) = clinic_with(&store, "b", Role::Coordinator).await;
        let id = store
            .create_patient(&actor_a, a, &details("Jordan Rivera"))
            .await
            .expect("create");
        assert!(matches!(
            store.patient(&actor_b, b, id).await,
            Err(StoreError::NotFound)
        ));
        let found = store
            .search_patients(&actor_b, b, &PatientQuery::All, None, 50)
            .await
            .expect("search");
        assert!(found.is_empty());
    }
);

both_backends!(
    search_by_name_dob_email_phone_with_keyset_pages,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        for n in [
            "Ana Lima",
            "Bo Chen",
            "Cy Diaz",
            "Dee Ek",
            "Eve Fox",
            "Ann Marie Lopez",
        ] {
            store
                .create_patient(&actor, clinic, &details(n))
                .await
                .expect("create");
        }
        let q = |s: &str| PatientQuery::parse(s);
        let names = |v: Vec<kap_domain::patient::PatientSummary>| {
            v.into_iter()
                .map(|p| p.full_name.to_string())
                .collect::<Vec<_>>()
        };
        let r = store
            .search_patients(&actor, clinic, &q("an"), None, 50)
            .await
            .expect("s");
        assert_eq!(names(r), vec!["Ana Lima", "Ann Marie Lopez"]);
        let r = store
            .search_patients(&actor, clinic, &q("lopez"), None, 50)
            .await
            .expect("s");
        assert_eq!(names(r), vec!["Ann Marie Lopez"]);
        let r = store
            .search_patients(&actor, clinic, &q("bo.chen@example.org"), None, 50)
            .await
            .expect("s");
        assert_eq!(names(r), vec!["Bo Chen"]);
        let r = store
            .search_patients(&actor, clinic, &q("1984-03-02"), None, 50)
            .await
            .expect("s");
        assert_eq!(r.len(), 6);
        let r = store
            .search_patients(&actor, clinic, &q("010-2030"), None, 50)
            .await
            .expect("s");
        assert_eq!(r.len(), 6);
        let r = store
            .search_patients(&actor, clinic, &q("100%_"), None, 50)
            .await
            .expect("s");
        assert!(r.is_empty());
        // Pages of two, following the keyset, visit everyone once in name order.
        let mut seen = vec![];
        let mut after = None;
        loop {
            let page = store
                .search_patients(&actor, clinic, &PatientQuery::All, after, 2)
                .await
                .expect("page");
            if page.is_empty() {
                break;
            }
            after = page.last().map(|p| p.id);
            seen.extend(names(page));
        }
        assert_eq!(
            seen,
            vec![
                "Ana Lima",
                "Ann Marie Lopez",
                "Bo Chen",
                "Cy Diaz",
                "Dee Ek",
                "Eve Fox"
            ]
        );
    }
);

both_backends!(
    measurements_are_kept_as_history,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Nurse).await;
        let id = store
            .create_patient(&actor, clinic, &details("Ana Lima"))
            .await
            .expect("create");
        for (w, h) in [("70.5", "170"), ("69", "")] {
            let m = MeasurementForm {
                weight_kg: w.into(),
                height_cm: h.into(),
            }
            .parse()
            .expect("m");
            store
                .record_measurement(&actor, clinic, id, &m)
                .await
                .expect("record");
        }
        let (_, ms) = store.patient(&actor, clinic, id).await.expect("read");
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[0].weight.map(|w| w.grams()), Some(69_000));
        assert_eq!(ms[0].height.map(|h| h.mm()), None);
        assert_eq!(ms[1].weight.map(|w| w.grams()), Some(70_500));
        assert_eq!(ms[1].height.map(|h| h.mm()), Some(1_700));
    }
);

both_backends!(
    search_ignores_case_accents_and_word_order_and_finds_parts,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        for n in [
            "Zoë Martin",
            "Nguyễn Thị Lan",
            "Aisha Chen",
            "Jordan Rivera",
            "Søren Ødegård",
        ] {
            store
                .create_patient(&actor, clinic, &details(n))
                .await
                .expect("create");
        }
        let found = |s: &'static str| {
            let store = store.clone();
            let actor = actor.clone();
            async move {
                store
                    .search_patients(&actor, clinic, &PatientQuery::parse(s), None, 50)
                    .await
                    .expect("search")
                    .into_iter()
                    .map(|p| p.full_name.to_string())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(found("zoe").await, vec!["Zoë Martin"]);
        assert_eq!(found("ZOË").await, vec!["Zoë Martin"]);
        assert_eq!(found("nguyen").await, vec!["Nguyễn Thị Lan"]);
        assert_eq!(found("chen aisha").await, vec!["Aisha Chen"]);
        assert_eq!(found("ivera").await, vec!["Jordan Rivera"]);
        assert_eq!(found("soren odegard").await, vec!["Søren Ødegård"]);
        // Part of an email (the test emails are the names with dots).
        assert_eq!(found("rivera@exam").await, vec!["Jordan Rivera"]);
        assert_eq!(found("aisha.ch").await, vec!["Aisha Chen"]);
        // Every word must match.
        assert!(found("aisha rivera").await.is_empty());
        // LIKE's wildcards are text here.
        assert!(found("z_e").await.is_empty());
        assert!(found("%").await.is_empty());
    }
);

both_backends!(
    patients_stored_before_search_text_are_indexed_at_migration,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        store
            .create_patient(&actor, clinic, &details("Zoë Martin"))
            .await
            .expect("create");
        // As an older version left it.
        kap_store::on_db!(&store.db, |p| sqlx::query(
            "UPDATE patient SET search_text = NULL"
        )
        .execute(p)
        .await
        .expect("forget")
        .rows_affected());
        let q = PatientQuery::parse("zoe");
        assert!(
            store
                .search_patients(&actor, clinic, &q, None, 5)
                .await
                .expect("search")
                .is_empty()
        );
        assert_eq!(store.index_patients_for_search().await.expect("index"), 1);
        assert_eq!(store.index_patients_for_search().await.expect("again"), 0);
        assert_eq!(
            store
                .search_patients(&actor, clinic, &q, None, 5)
                .await
                .expect("search")
                .len(),
            1
        );
    }
);

both_backends!(
    likely_duplicates_are_found_by_name_and_birth_phone_or_email,
    |store: Store| async move {
        use kap_domain::patient::SameAs;
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        let (other, other_actor) = clinic_with(&store, "b", Role::Coordinator).await;
        let zoe = details("Zoë Martin");
        store
            .create_patient(&actor, clinic, &zoe)
            .await
            .expect("create");
        let mut again = details("ZOE MARTIN");
        again.phone = None;
        again.email = None;
        let found = store
            .possible_duplicates(&actor, clinic, &again)
            .await
            .expect("check");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, vec![SameAs::NameAndDateOfBirth]);
        let mut phone_only = details("Someone Else");
        phone_only.email = None;
        phone_only.date_of_birth =
            kap_domain::person::DateOfBirth::parse("1970-01-01", chrono::Utc::now().date_naive())
                .expect("dob");
        let found = store
            .possible_duplicates(&actor, clinic, &phone_only)
            .await
            .expect("check");
        assert_eq!(found[0].1, vec![SameAs::Phone]);
        // Another clinic's patients are never shown.
        assert!(
            store
                .possible_duplicates(&other_actor, other, &again)
                .await
                .expect("check")
                .is_empty()
        );
        let mut stranger = details("Ana Lima");
        stranger.phone = None;
        stranger.email = None;
        assert!(
            store
                .possible_duplicates(&actor, clinic, &stranger)
                .await
                .expect("check")
                .is_empty()
        );
    }
);
