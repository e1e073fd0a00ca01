use super::*;
use chrono::{Duration, NaiveDate};
use kap_domain::consent::{
    ConsentMethod, ConsentState, DocumentForm, NewDocument, RemsForm, RemsStatus, SignatureForm,
};
use kap_domain::screening::Route;
use kap_store::consent::NewConsentLink;
use kap_store::{Conflict, Db, StoreError, on_db};

const TEXT: &str = "Ketamine-assisted psychotherapy with IV ketamine: what a session involves, \
    its common and rare risks, the alternatives, and your right to stop at any time.";

fn doc(route: &str, title: &str) -> NewDocument {
    DocumentForm {
        route,
        title,
        body: TEXT,
    }
    .parse()
    .expect("document")
}

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

fn sign<'a>(name: &'a str, date: &'a str) -> SignatureForm<'a> {
    SignatureForm {
        typed_name: name,
        signed_on: date,
        understood: true,
    }
}

fn link(clinic: Uuid, patient: Uuid, route: Route) -> NewConsentLink<'static> {
    NewConsentLink {
        clinic_id: clinic,
        patient_id: patient,
        route,
        valid_for: Duration::hours(72),
        public_url: "https://kap.example",
        email_enabled: false,
    }
}

async fn rows(db: &Db, sql: &str) -> Result<u64, sqlx::Error> {
    on_db!(db, |p| sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
}

both_backends!(
    documents_are_versioned_and_never_changed,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Admin).await;
        store
            .publish_consent_document(&actor, clinic, &doc("iv", "IV consent"))
            .await
            .expect("v1");
        store
            .publish_consent_document(&actor, clinic, &doc("iv", "IV consent, revised"))
            .await
            .expect("v2");
        store
            .publish_consent_document(&actor, clinic, &doc("esketamine_nasal", "Esketamine"))
            .await
            .expect("esk v1");
        let all = store.consent_documents(clinic).await.expect("all");
        assert_eq!(all.len(), 3);
        let current = store
            .current_consent_documents(clinic)
            .await
            .expect("current");
        let iv = current.iter().find(|d| d.route == Route::Iv).expect("iv");
        assert_eq!((iv.version, iv.title.as_str()), (2, "IV consent, revised"));
        assert_eq!(iv.published_by_name.as_deref(), Some("Test Person"));
        assert_eq!(current.len(), 2);
        assert!(
            rows(&store.db, "UPDATE consent_document SET title = 'x'")
                .await
                .is_err()
        );
        assert!(
            rows(&store.db, "DELETE FROM consent_document")
                .await
                .is_err()
        );
        // Another clinic sees none of them.
        let (other, _) = clinic_with(&store, "b", Role::Admin).await;
        assert!(store.consent_documents(other).await.unwrap().is_empty());
        assert!(matches!(
            store.consent_document(other, iv.id).await,
            Err(StoreError::NotFound)
        ));
    }
);

both_backends!(
    a_patient_signs_once_through_a_link,
    |store: Store| async move {
        let (clinic, admin) = clinic_with(&store, "a", Role::Admin).await;
        let coordinator = staff_in(&store, clinic, Role::Coordinator).await;
        let patient = store
            .create_patient(
                &coordinator,
                clinic,
                &crate::patient::details("José María Ruiz"),
            )
            .await
            .expect("patient");
        // No document for the route yet: said so, nothing sent.
        let none = store
            .create_consent_link(&coordinator, link(clinic, patient, Route::Iv))
            .await;
        assert!(matches!(
            none,
            Err(StoreError::Conflict(Conflict::NoConsentDocument(Route::Iv)))
        ));
        store
            .publish_consent_document(&admin, clinic, &doc("iv", "IV consent"))
            .await
            .expect("v1");
        let (_, token) = store
            .create_consent_link(&coordinator, link(clinic, patient, Route::Iv))
            .await
            .expect("link");
        let out = store.outbox(&coordinator, clinic).await.expect("outbox");
        assert!(
            out[0]
                .body
                .contains(&format!("https://kap.example/c/{token}"))
        );
        assert!(out[0].subject.contains("consent form"));

        let l = store
            .consent_link_by_token(&token)
            .await
            .unwrap()
            .expect("known");
        let visitor = Actor::visitor(clinic, Some("203.0.113.9".into()));
        let date = today().format("%Y-%m-%d").to_string();
        // A wrong name is refused and spends nothing.
        let wrong = store
            .sign_consent_by_link(&visitor, &l, &sign("Maria Ruiz", &date), today())
            .await;
        assert!(
            matches!(&wrong, Err(StoreError::Conflict(Conflict::SignatureInvalid(e))) if e.get("typed_name").is_some()),
            "{wrong:?}"
        );
        store
            .sign_consent_by_link(&visitor, &l, &sign("jose maria ruiz", &date), today())
            .await
            .expect("signed");
        let again = store
            .sign_consent_by_link(&visitor, &l, &sign("jose maria ruiz", &date), today())
            .await;
        assert!(matches!(
            again,
            Err(StoreError::Conflict(Conflict::LinkSpent))
        ));
        // The message no longer holds a usable link.
        let out = store.outbox(&coordinator, clinic).await.expect("outbox");
        assert!(!out[0].body.contains(&token));

        let rec = store
            .consent_record(&coordinator, clinic, patient)
            .await
            .expect("record");
        assert_eq!(rec.consents.len(), 1);
        let c = &rec.consents[0];
        assert_eq!(c.method, ConsentMethod::Link);
        assert_eq!(c.version, 1);
        assert_eq!(c.from_address.as_deref(), Some("203.0.113.9"));
        assert_eq!(c.typed_name, "jose maria ruiz");
        assert!(ConsentState::of(Route::Iv, Some(1), &rec.consents).consented());
        assert!(
            rows(&store.db, "UPDATE consent SET typed_name = 'x'")
                .await
                .is_err()
        );
        assert!(rows(&store.db, "DELETE FROM consent").await.is_err());

        // A new version makes the consent outdated (it is kept).
        store
            .publish_consent_document(&admin, clinic, &doc("iv", "IV consent v2"))
            .await
            .expect("v2");
        let current = store.current_consent_documents(clinic).await.unwrap();
        assert!(matches!(
            ConsentState::of(Route::Iv, Some(current[0].version), &rec.consents),
            ConsentState::Outdated { current: 2, .. }
        ));
    }
);

both_backends!(
    an_expired_link_takes_no_signature,
    |store: Store| async move {
        let (clinic, admin) = clinic_with(&store, "a", Role::Admin).await;
        let nurse = staff_in(&store, clinic, Role::Nurse).await;
        let patient = store
            .create_patient(&nurse, clinic, &crate::patient::details("Ana Ruiz"))
            .await
            .unwrap();
        store
            .publish_consent_document(&admin, clinic, &doc("im", "IM consent"))
            .await
            .unwrap();
        let mut l = link(clinic, patient, Route::Im);
        l.valid_for = Duration::seconds(-1);
        let (_, token) = store.create_consent_link(&nurse, l).await.unwrap();
        let link = store.consent_link_by_token(&token).await.unwrap().unwrap();
        let date = today().format("%Y-%m-%d").to_string();
        let r = store
            .sign_consent_by_link(
                &Actor::visitor(clinic, None),
                &link,
                &sign("Ana Ruiz", &date),
                today(),
            )
            .await;
        assert!(matches!(r, Err(StoreError::Conflict(Conflict::LinkSpent))));
        let rec = store.consent_record(&nurse, clinic, patient).await.unwrap();
        assert!(rec.consents.is_empty());
    }
);

both_backends!(
    in_clinic_the_witness_signs_the_current_version_only,
    |store: Store| async move {
        let (clinic, admin) = clinic_with(&store, "a", Role::Admin).await;
        let nurse = staff_in(&store, clinic, Role::Nurse).await;
        let patient = store
            .create_patient(&nurse, clinic, &crate::patient::details("Ana Ruiz"))
            .await
            .unwrap();
        let v1 = store
            .publish_consent_document(&admin, clinic, &doc("esketamine_nasal", "Esketamine"))
            .await
            .unwrap();
        let v2 = store
            .publish_consent_document(&admin, clinic, &doc("esketamine_nasal", "Esketamine v2"))
            .await
            .unwrap();
        let date = today().format("%Y-%m-%d").to_string();
        let old = store
            .record_consent_in_clinic(
                &nurse,
                clinic,
                patient,
                v1,
                &sign("Ana Ruiz", &date),
                today(),
            )
            .await;
        assert!(matches!(
            old,
            Err(StoreError::Conflict(Conflict::ConsentDocumentOutdated))
        ));
        store
            .record_consent_in_clinic(
                &nurse,
                clinic,
                patient,
                v2,
                &sign("Ana Ruiz", &date),
                today(),
            )
            .await
            .expect("signed");
        let rec = store.consent_record(&nurse, clinic, patient).await.unwrap();
        assert_eq!(rec.consents[0].method, ConsentMethod::InClinic);
        assert_eq!(
            rec.consents[0].witness_name.as_deref(),
            Some("Nurse Person")
        );
        assert_eq!(rec.consents[0].version, 2);

        // A withdrawal: once, beside the signature, never changed.
        let cid = rec.consents[0].id;
        let w = kap_domain::consent::WithdrawalForm {
            withdrawn_on: &date,
            reason: "Told the nurse in person.",
        };
        store
            .withdraw_consent(&nurse, clinic, cid, &w, today())
            .await
            .expect("withdrawn");
        assert!(matches!(
            store
                .withdraw_consent(&nurse, clinic, cid, &w, today())
                .await,
            Err(StoreError::Conflict(Conflict::ConsentWithdrawn))
        ));
        let rec = store.consent_record(&nurse, clinic, patient).await.unwrap();
        assert_eq!(
            rec.consents[0]
                .withdrawn
                .as_ref()
                .map(|w| w.reason.as_str()),
            Some("Told the nurse in person.")
        );
        assert!(matches!(
            ConsentState::of(Route::EsketamineNasal, Some(2), &rec.consents),
            ConsentState::Withdrawn(_)
        ));
        assert!(
            rows(&store.db, "UPDATE consent_withdrawal SET reason = 'x'")
                .await
                .is_err()
        );
        assert!(
            rows(&store.db, "DELETE FROM consent_withdrawal")
                .await
                .is_err()
        );

        // REMS enrolment: a history, newest first.
        for (status, on) in [("pending", "2026-01-05"), ("enrolled", "2026-01-07")] {
            let r = RemsForm {
                status,
                on,
                reference: "",
            }
            .parse(NaiveDate::from_ymd_opt(2026, 11, 27).unwrap())
            .unwrap();
            store
                .record_rems(&nurse, clinic, patient, &r)
                .await
                .unwrap();
        }
        let rec = store.consent_record(&nurse, clinic, patient).await.unwrap();
        assert_eq!(rec.rems.len(), 2);
        assert_eq!(rec.rems[0].status, RemsStatus::Enrolled);

        // Another clinic's staff reach none of it.
        let (other, other_nurse) = clinic_with(&store, "b", Role::Nurse).await;
        assert!(matches!(
            store.consent_record(&other_nurse, other, patient).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .record_consent_in_clinic(
                    &other_nurse,
                    other,
                    patient,
                    v2,
                    &sign("Ana Ruiz", &date),
                    today()
                )
                .await,
            Err(StoreError::NotFound)
        ));
    }
);
