//! The demo's screenings, one patient at every stage: intake in progress, deferred for missing
//! data, not eligible (an absolute contraindication), eligible with precautions (a relative
//! contraindication, justified), and eligible.

use anyhow::Result;
use kap_domain::audit::{Actor, ActorKind};
use kap_domain::screening::Route;
use kap_domain::screening::decision::{Decision, Draft};
use kap_domain::screening::intake::{
    AntidepressantClass, BaselineVitals, Condition, EpisodeSeverity, HistoryForm, Medication,
    MedicationClass, TreatmentTrial, TrialKind, TrialOutcome,
};
use kap_store::Store;
use std::collections::BTreeMap;
use uuid::Uuid;

fn checklist(yes: &[Condition]) -> BTreeMap<Condition, bool> {
    Condition::ALL
        .iter()
        .map(|c| (*c, yes.contains(c)))
        .collect()
}

fn trial(class: AntidepressantClass, drug: &str, outcome: TrialOutcome) -> TreatmentTrial {
    TreatmentTrial {
        kind: TrialKind::Antidepressant,
        class: Some(class),
        name: drug.to_owned(),
        weeks: Some(8),
        adequate: Some(true),
        outcome,
        current_episode: true,
    }
}

fn vitals(systolic: u16, diastolic: u16) -> BaselineVitals {
    BaselineVitals {
        systolic: Some(systolic),
        diastolic: Some(diastolic),
        heart_rate: Some(72),
        spo2: Some(98),
    }
}

/// Takes a complete intake: checklist, medications, two failed trials, vitals, episode.
pub(crate) async fn intake(
    store: &Store,
    who: &Actor,
    clinic: Uuid,
    id: Uuid,
    yes: &[Condition],
    meds: &[Medication],
) -> Result<()> {
    store
        .save_checklist(who, clinic, id, &checklist(yes))
        .await?;
    store.save_medications(who, clinic, id, meds).await?;
    for t in [
        trial(
            AntidepressantClass::Ssri,
            "Sertraline 150 mg",
            TrialOutcome::NoResponse,
        ),
        trial(
            AntidepressantClass::Snri,
            "Venlafaxine 225 mg",
            TrialOutcome::PartialResponse,
        ),
    ] {
        store.add_trial(who, clinic, id, &t).await?;
    }
    store.save_vitals(who, clinic, id, &vitals(124, 80)).await?;
    store
        .save_episode(who, clinic, id, Some(18), Some(EpisodeSeverity::Moderate))
        .await?;
    let history = HistoryForm {
        diagnoses: vec![("F33.2".into(), String::new())],
        hospitalisations: "0".into(),
        suicide_attempts: "0".into(),
        no_allergies: true,
        substance_use: "Alcohol: two or three drinks a week; no other drugs".into(),
        ..Default::default()
    }
    .parse(2026)
    .map_err(|e| anyhow::anyhow!("demo history: {e}"))?;
    store.save_history(who, clinic, id, &history).await?;
    Ok(())
}

pub(crate) fn draft(decision: Decision, rationale: &str, justify: &[(&str, &str)]) -> Draft {
    Draft {
        decision: Some(decision),
        rationale: rationale.to_owned(),
        routes: Route::ALL.to_vec(),
        justifications: justify
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// What the screenings left for the consent stage.
pub struct Screened {
    pub made: usize,
    /// Eligible, for IV and esketamine.
    pub eligible: Option<Uuid>,
}

/// Screens the first five patients after those with questionnaire histories' first few.
pub async fn seed(
    store: &Store,
    clinic: Uuid,
    patients: &[Uuid],
    nurse: Option<Uuid>,
    prescriber: Option<Uuid>,
) -> Result<Screened> {
    let staff = |id: Option<Uuid>| Actor {
        staff_id: id,
        kind: ActorKind::Staff,
        clinic_id: Some(clinic),
        address: None,
    };
    let (nurse, prescriber) = (staff(nurse), staff(prescriber));
    let mut chosen = patients.iter().skip(2).copied();
    let mut made = 0;
    let mut eligible = None;
    // 1. Intake in progress: the checklist half done.
    if let Some(p) = chosen.next() {
        let id = store.start_screening(&nurse, clinic, p).await?;
        let mut some = checklist(&[]);
        some.retain(|c, _| (*c as usize) < 8);
        store.save_checklist(&nurse, clinic, id, &some).await?;
        made += 1;
    }
    // 2. Deferred: the vitals are still to be measured.
    if let Some(p) = chosen.next() {
        let id = store.start_screening(&nurse, clinic, p).await?;
        store
            .save_checklist(&nurse, clinic, id, &checklist(&[]))
            .await?;
        store.save_medications(&nurse, clinic, id, &[]).await?;
        let d = draft(
            Decision::Deferred,
            "Baseline blood pressure not yet measured; re-book for vitals before deciding.",
            &[],
        );
        store.sign_eligibility(&prescriber, clinic, id, &d).await?;
        made += 1;
    }
    // 3. Not eligible: an arteriovenous malformation.
    if let Some(p) = chosen.next() {
        let id = store.start_screening(&nurse, clinic, p).await?;
        intake(store, &nurse, clinic, id, &[Condition::AneurysmOrAvm], &[]).await?;
        let d = draft(
            Decision::NotEligible,
            "Known cerebral AVM (neurology letter on file): a rise in blood pressure would be hazardous.",
            &[],
        );
        store.sign_eligibility(&prescriber, clinic, id, &d).await?;
        made += 1;
    }
    // 4. Eligible with precautions: controlled hypertension history, a benzodiazepine.
    if let Some(p) = chosen.next() {
        let id = store.start_screening(&nurse, clinic, p).await?;
        let meds = [Medication {
            name: "Clonazepam 0.5 mg twice daily".into(),
            class: Some(MedicationClass::Benzodiazepine),
            diazepam_equivalent_mg: Some(10.0),
        }];
        intake(
            store,
            &nurse,
            clinic,
            id,
            &[Condition::HypertensionUncontrolled],
            &meds,
        )
        .await?;
        let d = draft(
            Decision::EligibleWithPrecautions,
            "Treatment-resistant (two adequate trials). Start after the GP's review of blood pressure; taper clonazepam before dosing days as agreed.",
            &[(
                "hypertension_uncontrolled",
                "Treated since March; home readings 125–135/80–85; GP agrees; hold the session if pre-dose BP is above the clinic's limit.",
            )],
        );
        store.sign_eligibility(&prescriber, clinic, id, &d).await?;
        made += 1;
    }
    // 5. Eligible.
    if let Some(p) = chosen.next() {
        let id = store.start_screening(&nurse, clinic, p).await?;
        intake(store, &nurse, clinic, id, &[], &[]).await?;
        let d = draft(
            Decision::Eligible,
            "Treatment-resistant depression, no contraindications found; patient prefers IV.",
            &[],
        );
        store.sign_eligibility(&prescriber, clinic, id, &d).await?;
        eligible = Some(p);
        made += 1;
    }
    Ok(Screened { made, eligible })
}
