use super::*;
use kap_domain::inquiry::{ContactForm, InquiryStatus};
use kap_store::StoreError;

fn submission(name: &str) -> kap_domain::inquiry::ContactSubmission {
    ContactForm {
        name: name.into(),
        email: "jordan@example.org".into(),
        phone: String::new(),
        preferred_contact: "email".into(),
        message: "Hello".into(),
        consent: Some("yes".into()),
    }
    .parse()
    .expect("valid")
}

both_backends!(
    inquiry_is_converted_into_a_patient_once,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        let visitor = Actor::visitor(clinic, Some("10.0.0.9".into()));
        let id = store
            .submit_inquiry(&visitor, clinic, &submission("Jordan Rivera"))
            .await
            .expect("submit");
        let list = store
            .list_inquiries(&actor, clinic, Some(InquiryStatus::New), None, 50)
            .await
            .expect("list");
        assert_eq!(list.len(), 1);
        store
            .update_inquiry(
                &actor,
                clinic,
                id,
                InquiryStatus::Contacted,
                Some(&kap_domain::person::Message::parse("Left a voicemail").expect("note")),
            )
            .await
            .expect("update");
        let (inq, notes) = store.inquiry(&actor, clinic, id).await.expect("read");
        assert_eq!(inq.status, InquiryStatus::Contacted);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].body, "Left a voicemail");
        let pid = store
            .convert_inquiry(
                &actor,
                clinic,
                id,
                &crate::patient::details("Jordan Rivera"),
            )
            .await
            .expect("convert");
        let (inq, _) = store.inquiry(&actor, clinic, id).await.expect("read");
        assert_eq!(inq.status, InquiryStatus::Converted);
        assert_eq!(inq.patient_id, Some(pid));
        let again = store
            .convert_inquiry(
                &actor,
                clinic,
                id,
                &crate::patient::details("Jordan Rivera"),
            )
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))));
        let reopen = store
            .update_inquiry(&actor, clinic, id, InquiryStatus::New, None)
            .await;
        assert!(matches!(reopen, Err(StoreError::Conflict(_))));
        assert!(
            store
                .verify_audit(vec![])
                .await
                .expect("verify")
                .broken
                .is_none()
        );
    }
);

both_backends!(inquiries_stay_in_their_clinic, |store: Store| async move {
    let (a, _) = clinic_with(&store, "a", Role::Coordinator).await;
    let (b, actor_b) = clinic_with(&store, "b", Role::Coordinator).await;
    let id = store
        .submit_inquiry(&Actor::visitor(a, None), a, &submission("Jordan Rivera"))
        .await
        .expect("submit");
    assert!(matches!(
        store.inquiry(&actor_b, b, id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .list_inquiries(&actor_b, b, None, None, 50)
            .await
            .expect("list")
            .is_empty()
    );
});

both_backends!(
    open_inquiries_are_new_or_contacted_across_pages,
    |store: Store| async move {
        use kap_domain::inquiry::InquiryFilter;
        let (clinic, actor) = clinic_with(&store, "a", Role::Coordinator).await;
        let visitor = Actor::visitor(clinic, None);
        let mut ids = vec![];
        for i in 0..5 {
            ids.push(
                store
                    .submit_inquiry(
                        &visitor,
                        clinic,
                        &submission(&format!("Person {}", ["A", "B", "C", "D", "E"][i])),
                    )
                    .await
                    .expect("submit"),
            );
        }
        // The three newest are closed: the open list must still reach the two older ones.
        for id in &ids[2..] {
            store
                .update_inquiry(&actor, clinic, *id, InquiryStatus::Closed, None)
                .await
                .expect("close");
        }
        store
            .update_inquiry(&actor, clinic, ids[0], InquiryStatus::Contacted, None)
            .await
            .expect("contact");
        let open = store
            .list_inquiries(&actor, clinic, InquiryFilter::Open, None, 2)
            .await
            .expect("open");
        let names: Vec<&str> = open.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, vec!["Person B", "Person A"]);
        let all = store
            .list_inquiries(&actor, clinic, InquiryFilter::Any, None, 50)
            .await
            .expect("all");
        assert_eq!(all.len(), 5);
    }
);
