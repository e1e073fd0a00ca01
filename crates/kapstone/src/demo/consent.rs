//! The demo's consent: sample consent documents for IV ketamine and esketamine nasal spray
//! (marked as samples: a clinic publishes its own, reviewed texts), the eligible patient's
//! consents signed in clinic before the demo nurse, with the REMS enrolment recorded; the
//! patient eligible with precautions has yet to consent.

use super::screening::Screened;
use anyhow::{Context, Result};
use kap_domain::audit::{Actor, ActorKind};
use kap_domain::consent::{DocumentForm, NewRems, RemsStatus, SignatureForm};
use kap_store::Store;
use uuid::Uuid;

const IV: &str = "SAMPLE TEXT FOR THE DEMO: a clinic publishes its own consent document, \
reviewed by its medical and legal advisers.

You are invited to receive ketamine by intravenous infusion as part of ketamine-assisted \
psychotherapy for depression. A course has three parts: preparation sessions with your \
therapist, dosing sessions in the clinic with a clinician monitoring your blood pressure, heart \
rate and oxygen level, and integration sessions afterwards.

During and shortly after an infusion you may feel detached from your body or surroundings, \
dizzy, sleepy or sick, and your blood pressure may rise. These effects usually pass within the \
hour after the infusion ends. You must not drive or operate machinery until the next day, and \
someone must take you home.

Ketamine can be misused. The clinic gives it only under supervision and will ask about \
substance use before each course.

Other treatments exist, including other medicines, psychotherapy alone, TMS and ECT; your \
prescriber has discussed them with you. You may stop at any time without affecting the rest of \
your care.";

const ESKETAMINE: &str = "SAMPLE TEXT FOR THE DEMO: a clinic publishes its own consent document, \
reviewed by its medical and legal advisers.

Esketamine nasal spray is given in the clinic under the SPRAVATO REMS programme: you are \
enrolled before your first treatment, you use the spray under the supervision of a healthcare \
provider, and you stay in the clinic for at least two hours afterwards until the clinician \
decides you are ready to leave.

You may feel sleepy, dizzy, detached from yourself or your surroundings, or sick, and your \
blood pressure may rise; rarely breathing may slow. You must not drive or operate machinery \
until the next day after a restful sleep.

You may stop at any time without affecting the rest of your care.";

/// Publishes the sample documents and records the eligible patient's consents. Returns how many
/// consents were signed.
pub async fn seed(
    store: &Store,
    clinic: Uuid,
    screened: &Screened,
    nurse: Option<Uuid>,
) -> Result<usize> {
    let staff = |id: Option<Uuid>| Actor {
        staff_id: id,
        kind: ActorKind::Staff,
        clinic_id: Some(clinic),
        address: None,
    };
    let admin = staff(None);
    let mut docs = vec![];
    for (route, title, body) in [
        ("iv", "Ketamine by IV infusion: consent to treatment", IV),
        (
            "esketamine_nasal",
            "Esketamine nasal spray: consent to treatment",
            ESKETAMINE,
        ),
    ] {
        let doc = DocumentForm { route, title, body }
            .parse()
            .map_err(|e| anyhow::anyhow!("demo consent document {route}: {e}"))?;
        docs.push(store.publish_consent_document(&admin, clinic, &doc).await?);
    }
    let Some(patient) = screened.eligible else {
        return Ok(0);
    };
    let nurse = staff(nurse);
    let (p, _) = store.patient(&nurse, clinic, patient).await?;
    let name = p.details.full_name.as_str().to_owned();
    let today = chrono::Utc::now().date_naive();
    let date = today.format("%Y-%m-%d").to_string();
    let form = SignatureForm {
        typed_name: &name,
        signed_on: &date,
        understood: true,
    };
    for doc in &docs {
        store
            .record_consent_in_clinic(&nurse, clinic, patient, *doc, &form, today)
            .await
            .with_context(|| format!("demo consent for document {doc}"))?;
    }
    store
        .record_rems(
            &nurse,
            clinic,
            patient,
            &NewRems {
                status: RemsStatus::Enrolled,
                on: today,
                reference: None,
            },
        )
        .await?;
    Ok(docs.len())
}
