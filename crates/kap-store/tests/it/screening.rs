use super::*;
use kap_domain::screening::Route;
use kap_domain::screening::decision::{Decision, Draft, Refused};
use kap_domain::screening::intake::{
    AntidepressantClass, BaselineVitals, Condition, EpisodeSeverity, Medication, MedicationClass,
    TreatmentTrial, TrialKind, TrialOutcome,
};
use kap_domain::screening::record::ScreeningProtocol;
use kap_store::{Conflict, StoreError};
use std::collections::BTreeMap;

fn all_no() -> BTreeMap<Condition, bool> {
    Condition::ALL.iter().map(|c| (*c, false)).collect()
}

fn failed(class: AntidepressantClass) -> TreatmentTrial {
    TreatmentTrial {
        kind: TrialKind::Antidepressant,
        class: Some(class),
        name: class.label().to_owned(),
        weeks: Some(8),
        adequate: Some(true),
        outcome: TrialOutcome::NoResponse,
        current_episode: true,
    }
}

fn draft(decision: Decision) -> Draft {
    Draft {
        decision: Some(decision),
        rationale: "Reviewed history, medications and vitals with the patient.".into(),
        routes: vec![Route::Iv],
        justifications: BTreeMap::new(),
    }
}

both_backends!(
    an_intake_is_stored_and_a_signed_decision_locks_it,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Prescriber).await;
        let patient = store
            .create_patient(&actor, clinic, &crate::patient::details("Rosa Santos"))
            .await
            .expect("patient");
        let id = store
            .start_screening(&actor, clinic, patient)
            .await
            .expect("start");
        // Nothing answered yet: eligible is refused, naming the missing answers.
        let refused = store
            .sign_eligibility(&actor, clinic, id, &draft(Decision::Eligible))
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Conflict(Conflict::DecisionRefused(p))) if matches!(p[0], Refused::Missing(_))),
            "{refused:?}"
        );
        let mut answers = all_no();
        answers.insert(Condition::Psychosis, true);
        store
            .save_checklist(&actor, clinic, id, &answers)
            .await
            .expect("checklist");
        store
            .save_medications(
                &actor,
                clinic,
                id,
                &[Medication {
                    name: "Clonazepam".into(),
                    class: Some(MedicationClass::Benzodiazepine),
                    diazepam_equivalent_mg: Some(12.5),
                }],
            )
            .await
            .expect("meds");
        store
            .save_vitals(
                &actor,
                clinic,
                id,
                &BaselineVitals {
                    systolic: Some(128),
                    diastolic: Some(82),
                    heart_rate: Some(70),
                    spo2: Some(98),
                },
            )
            .await
            .expect("vitals");
        store
            .save_episode(
                &actor,
                clinic,
                id,
                Some(14),
                Some(EpisodeSeverity::Moderate),
            )
            .await
            .expect("episode");
        for c in [AntidepressantClass::Ssri, AntidepressantClass::Snri] {
            store
                .add_trial(&actor, clinic, id, &failed(c))
                .await
                .expect("trial");
        }
        let mistake = store
            .add_trial(&actor, clinic, id, &failed(AntidepressantClass::Tca))
            .await
            .expect("trial");
        store
            .remove_trial(&actor, clinic, id, mistake)
            .await
            .expect("remove");
        let s = store.screening(&actor, clinic, id).await.expect("read");
        assert_eq!(s.intake.trials.len(), 2);
        assert_eq!(s.intake.answer(Condition::Psychosis), Some(true));
        assert_eq!(
            s.intake
                .medications
                .as_ref()
                .map(|m| m[0].diazepam_equivalent_mg),
            Some(Some(12.5))
        );
        assert_eq!(s.intake.vitals.systolic, Some(128));
        assert_eq!(s.intake.severity, Some(EpisodeSeverity::Moderate));
        assert!(!s.locked());

        // A relative contraindication: "eligible" is refused; with precautions and a
        // justification it is signed.
        let refused = store
            .sign_eligibility(&actor, clinic, id, &draft(Decision::Eligible))
            .await;
        assert!(matches!(
            refused,
            Err(StoreError::Conflict(Conflict::DecisionRefused(_)))
        ));
        let mut d = draft(Decision::EligibleWithPrecautions);
        d.justifications.insert(
            "psychosis".into(),
            "One drug-induced episode in 2009; none since; psychiatrist agrees.".into(),
        );
        assert_eq!(
            store
                .sign_eligibility(&actor, clinic, id, &d)
                .await
                .expect("sign"),
            Decision::EligibleWithPrecautions
        );
        let s = store.screening(&actor, clinic, id).await.expect("read");
        assert!(s.locked());
        let signed = s.signed.expect("signed");
        assert_eq!(signed.routes, vec![Route::Iv]);
        assert_eq!(signed.signed_by_name.as_deref(), Some("Test Person"));
        // Locked: the intake cannot change, a second signature neither; addenda can be written.
        assert!(matches!(
            store
                .save_vitals(&actor, clinic, id, &BaselineVitals::default())
                .await,
            Err(StoreError::Conflict(Conflict::ScreeningLocked))
        ));
        assert!(matches!(
            store.sign_eligibility(&actor, clinic, id, &d).await,
            Err(StoreError::Conflict(Conflict::ScreeningLocked))
        ));
        store
            .add_screening_addendum(
                &actor,
                clinic,
                id,
                "Correction",
                "Clonazepam is 1 mg twice daily.",
            )
            .await
            .expect("addendum");
        let s = store
            .latest_screening(&actor, clinic, patient)
            .await
            .expect("latest")
            .expect("one");
        assert_eq!(s.addenda.len(), 1);
        assert_eq!(s.addenda[0].reason, "Correction");
        // Another clinic sees nothing.
        let (other, other_actor) = clinic_with(&store, "b", Role::Prescriber).await;
        assert!(matches!(
            store.screening(&other_actor, other, id).await,
            Err(StoreError::NotFound)
        ));
        // A new screening starts open; the old one is kept.
        let again = store
            .start_screening(&actor, clinic, patient)
            .await
            .expect("again");
        assert_ne!(again, id);
        let latest = store
            .latest_screening(&actor, clinic, patient)
            .await
            .expect("latest")
            .expect("one");
        assert_eq!(latest.id, again);
        assert!(!latest.locked());
    }
);

both_backends!(
    an_absolute_contraindication_cannot_be_signed_eligible,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Prescriber).await;
        let patient = store
            .create_patient(&actor, clinic, &crate::patient::details("Omar Haddad"))
            .await
            .expect("patient");
        let id = store
            .start_screening(&actor, clinic, patient)
            .await
            .expect("start");
        let mut answers = all_no();
        answers.insert(Condition::AneurysmOrAvm, true);
        store
            .save_checklist(&actor, clinic, id, &answers)
            .await
            .expect("checklist");
        store
            .save_medications(&actor, clinic, id, &[])
            .await
            .expect("none");
        store
            .save_vitals(
                &actor,
                clinic,
                id,
                &BaselineVitals {
                    systolic: Some(120),
                    diastolic: Some(80),
                    heart_rate: None,
                    spo2: None,
                },
            )
            .await
            .expect("vitals");
        let r = store
            .sign_eligibility(
                &actor,
                clinic,
                id,
                &draft(Decision::EligibleWithPrecautions),
            )
            .await;
        assert!(
            matches!(&r, Err(StoreError::Conflict(Conflict::DecisionRefused(p))) if p.contains(&Refused::Absolute("aneurysm_avm".into()))),
            "{r:?}"
        );
        assert!(
            !store
                .screening(&actor, clinic, id)
                .await
                .expect("read")
                .locked()
        );
        assert_eq!(
            store
                .sign_eligibility(&actor, clinic, id, &draft(Decision::NotEligible))
                .await
                .expect("sign"),
            Decision::NotEligible
        );
    }
);

both_backends!(
    the_screening_protocol_is_versioned_per_clinic,
    |store: Store| async move {
        let (clinic, actor) = clinic_with(&store, "a", Role::Admin).await;
        assert_eq!(
            store.screening_protocol(clinic).await.expect("default"),
            ScreeningProtocol::default()
        );
        let mut p = ScreeningProtocol::default();
        p.trd.min_failed_trials = 3;
        store
            .set_screening_protocol(&actor, clinic, &p)
            .await
            .expect("save");
        assert_eq!(
            store
                .screening_protocol(clinic)
                .await
                .expect("read")
                .trd
                .min_failed_trials,
            3
        );
        let mut bad = p.clone();
        bad.trd.min_failed_trials = 0;
        assert!(matches!(
            store.set_screening_protocol(&actor, clinic, &bad).await,
            Err(StoreError::Conflict(Conflict::ProtocolInvalid(_)))
        ));
        // A stored version that cannot be read is an error, never the defaults.
        kap_store::on_db!(&store.db, |pool| sqlx::query(
            "UPDATE screening_protocol SET document = '{\"trd\":1}'"
        )
        .execute(pool)
        .await
        .expect("corrupt")
        .rows_affected());
        assert!(matches!(
            store.screening_protocol(clinic).await,
            Err(StoreError::Corrupt { .. })
        ));
    }
);

both_backends!(
    the_history_is_kept_and_contradictions_block_eligibility,
    |store: Store| async move {
        use kap_domain::screening::intake::HistoryForm;
        let (clinic, actor) = clinic_with(&store, "a", Role::Prescriber).await;
        let patient = store
            .create_patient(&actor, clinic, &crate::patient::details("Rosa Santos"))
            .await
            .unwrap();
        let id = store
            .start_screening(&actor, clinic, patient)
            .await
            .unwrap();
        let h = HistoryForm {
            diagnoses: vec![
                (
                    "F33.3".into(),
                    "Recurrent depression, severe, psychotic".into(),
                ),
                ("F41.1".into(), "Generalised anxiety disorder".into()),
            ],
            hospitalisations: "2".into(),
            suicide_attempts: "1".into(),
            last_attempt_year: "2019".into(),
            no_allergies: true,
            no_substance_use: true,
            ..Default::default()
        }
        .parse(2026)
        .unwrap_or_else(|e| panic!("{e}"));
        store.save_history(&actor, clinic, id, &h).await.unwrap();
        store
            .save_checklist(&actor, clinic, id, &all_no())
            .await
            .unwrap();
        store
            .save_medications(&actor, clinic, id, &[])
            .await
            .unwrap();
        store
            .save_vitals(
                &actor,
                clinic,
                id,
                &BaselineVitals {
                    systolic: Some(120),
                    diastolic: Some(78),
                    heart_rate: Some(70),
                    spo2: Some(98),
                },
            )
            .await
            .unwrap();
        let s = store.screening(&actor, clinic, id).await.unwrap();
        assert_eq!(s.intake.history, h);
        assert_eq!(s.intake.history.diagnoses[0].code.as_str(), "F33.3");
        // F33.3 is with psychotic features; the checklist says no psychosis.
        let refused = store
            .sign_eligibility(&actor, clinic, id, &draft(Decision::Eligible))
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Conflict(Conflict::DecisionRefused(p))) if p.contains(&Refused::Conflicting(1))),
            "{refused:?}"
        );
        // Corrected, the same decision is signed.
        let mut fixed = h.clone();
        fixed.diagnoses.retain(|d| !d.code.psychotic_features());
        store
            .save_history(&actor, clinic, id, &fixed)
            .await
            .unwrap();
        store
            .sign_eligibility(&actor, clinic, id, &draft(Decision::Eligible))
            .await
            .expect("signed");
        assert!(matches!(
            store.save_history(&actor, clinic, id, &h).await,
            Err(StoreError::Conflict(Conflict::ScreeningLocked))
        ));
    }
);
