//! The demo's inquiries: people who wrote through the contact form, in every state of the
//! coordinator's workflow.

use super::{FIRST, LAST, Rng};
use anyhow::Result;
use kap_domain::audit::Actor;
use kap_domain::inquiry::{ContactForm, InquiryStatus};
use kap_domain::person::Message;
use kap_store::Store;
use uuid::Uuid;

const MESSAGES: &[&str] = &[
    "My psychiatrist suggested ketamine after three antidepressants did not help. Could we talk about whether I qualify?",
    "I have been depressed for years and would like to learn more about ketamine-assisted therapy.",
    "Do you accept referrals from primary care? My doctor mentioned your program.",
    "I am interested in the esketamine nasal spray. What does the first appointment look like?",
    "Looking for information about costs and how many sessions are usual.",
];

/// Submits `count` inquiries (at least 5, at most 2,000) and moves some along.
pub async fn seed(
    store: &Store,
    rng: &mut Rng,
    clinic: Uuid,
    coordinator: Option<Uuid>,
    count: usize,
) -> Result<usize> {
    let inquiries = count.clamp(5, 2000);
    let coord = Actor {
        staff_id: coordinator,
        clinic_id: Some(clinic),
        ..Actor::system()
    };
    let note = Message::parse("Called back; screening visit offered.")?;
    for i in 0..inquiries {
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        let form = ContactForm {
            name: format!("{first} {last}"),
            email: format!(
                "{}.{}{i}@example.org",
                first.to_lowercase(),
                last.to_lowercase()
            ),
            phone: format!("+1 555 01{:02} {:04}", rng.below(100), rng.below(10000)),
            preferred_contact: ["email", "phone", "either"][rng.below(3) as usize].into(),
            message: rng.pick(MESSAGES).into(),
            consent: Some("yes".into()),
        };
        let Ok(sub) = form.parse() else { continue };
        let id = store
            .submit_inquiry(&Actor::visitor(clinic, None), clinic, &sub)
            .await?;
        let status = match rng.below(10) {
            0..=4 => InquiryStatus::New,
            5..=7 => InquiryStatus::Contacted,
            _ => InquiryStatus::Closed,
        };
        if status != InquiryStatus::New {
            let note = (status == InquiryStatus::Contacted).then_some(&note);
            store
                .update_inquiry(&coord, clinic, id, status, note)
                .await?;
        }
    }
    Ok(inquiries)
}
