//! The demo's care-team threads, for the patients with a course: before a dose the therapist
//! reports what came up in integration and mentions the prescriber, who answers; the nurse
//! writes about blood pressure at home. Tasks for the coordinator (reschedule a session) and
//! the nurse (check blood pressure at home): some done, some open, one overdue. Everything is
//! written through the store's checks, as of the moment it happened (never after the real
//! clock); the newest mention of the prescriber is left unread for the home page to show.

use super::Rng;
use super::course::CourseStaff;
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use kap_domain::Role;
use kap_domain::audit::{Actor, ActorKind};
use kap_domain::team::mention::MessageForm;
use kap_domain::team::task::{TaskAction, TaskForm};
use kap_domain::time::TimeZone;
use kap_store::Store;
use uuid::Uuid;

/// What the therapist hears in integration, one per patient.
const OBSERVATIONS: &[&str] = &[
    "Integration today: she says the harsh inner voice went quiet for most of the week after the last dose, and she finished a piece of work she had put off for months. Sleep still broken on the first night after dosing.",
    "Integration today: more flexible about a conflict at home than before the course; he noticed he could pause before reacting. Some low mood returned at the weekend.",
    "Integration today: a clearer emotional window — she cried about her father for the first time in years and felt lighter afterwards. Worried about feeling 'too open' at work.",
    "Integration today: follow-through on his walking commitment four days out of seven. Reports a vivid, unsettling image from the last session that he wants to talk through before the next one.",
];

const REPLIES: &[&str] = &[
    "Thanks — I'll ask about sleep and any lingering dissociation at check-in before I order the dose.",
    "Helpful, thank you. I'll review the weekend dip with him before deciding on today's dose.",
    "Noted. I'll talk with her about the session plan and check how work has been before dosing.",
    "Thank you. Let's make sure there's time for that in preparation; I'll see him before the dose.",
];

const NURSE_NOTES: &[&str] = &[
    "Home blood pressure log reviewed at check-in: readings within her usual range; one higher evening reading after a stressful day. Asked her to keep logging.",
    "He forgot the home blood pressure log today; will bring it next visit.",
];

fn actor(clinic: Uuid, id: Uuid) -> Actor {
    Actor::staff(id, ActorKind::Staff, clinic, None)
}

fn message(text: String) -> MessageForm {
    MessageForm {
        text,
        ..MessageForm::default()
    }
}

/// Seeds care-team threads; returns how many messages and tasks were made.
pub async fn seed(
    store: &Store,
    rng: &mut Rng,
    clinic: Uuid,
    patients: &[Uuid],
    staff: &CourseStaff,
    tz: TimeZone,
) -> Result<usize> {
    let (Some(prescriber), Some(therapist), Some(nurse)) =
        (staff.prescriber, staff.therapist, staff.nurse)
    else {
        return Ok(0);
    };
    let members = store.team_members(clinic).await?;
    let name = |id: Uuid| {
        members
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.name.clone())
            .unwrap_or_default()
    };
    let coordinator = members
        .iter()
        .find(|m| m.role == Role::Coordinator && m.active)
        .map(|m| m.id);
    let (p_name, t_name) = (name(prescriber), name(therapist));
    let (pres, ther, nur) = (
        actor(clinic, prescriber),
        actor(clinic, therapist),
        actor(clinic, nurse),
    );
    let now = Utc::now();
    let today = tz.date(&now);
    let at = |days: i64, hours: i64| -> DateTime<Utc> {
        now - Duration::days(days) - Duration::hours(hours)
    };
    // The patients the course demo planned courses for (after those the screening demo uses).
    let course_patients: Vec<Uuid> = patients.iter().skip(12).take(4).copied().collect();
    let mut made = 0;
    for (i, patient) in course_patients.iter().enumerate() {
        let patient = *patient;
        // A week ago: the therapist's earlier observation and the prescriber's answer.
        let earlier = at(8, rng.below(5) as i64);
        store
            .post_team_message(
                &ther,
                clinic,
                patient,
                Role::Therapist,
                &message(format!(
                    "Preparation went well; intention set together. @{p_name} FYI before the next dose."
                )),
                earlier,
            )
            .await?;
        made += 1;
        // The nurse on blood pressure at home.
        let nurse_at = at(5, 2);
        store
            .post_team_message(
                &nur,
                clinic,
                patient,
                Role::Nurse,
                &message(NURSE_NOTES[i % NURSE_NOTES.len()].to_owned()),
                nurse_at,
            )
            .await?;
        made += 1;
        // Yesterday: integration, the prescriber mentioned before today's or the next dose.
        let obs_at = at(1, 3 + rng.below(4) as i64);
        store
            .post_team_message(
                &ther,
                clinic,
                patient,
                Role::Therapist,
                &message(format!(
                    "{}\n@{p_name} worth knowing before the next dose decision.",
                    OBSERVATIONS[i % OBSERVATIONS.len()]
                )),
                obs_at,
            )
            .await?;
        made += 1;
        // The prescriber answers for all but the first patient (whose mention stays unread).
        if i > 0 {
            let replied = obs_at + Duration::hours(2);
            let posted = store
                .post_team_message(
                    &pres,
                    clinic,
                    patient,
                    Role::Prescriber,
                    &message(format!("@{t_name} {}", REPLIES[i % REPLIES.len()])),
                    replied,
                )
                .await?;
            made += 1;
            // She read the thread to answer it.
            store
                .mark_team_seen(
                    &pres,
                    clinic,
                    patient,
                    Role::Prescriber,
                    posted.seq,
                    replied,
                )
                .await?;
        }

        // The nurse's task: check blood pressure at home. Overdue for the first patient, done
        // for the others.
        let created = at(6, 1);
        let bp = store
            .create_team_task(
                &ther,
                clinic,
                patient,
                Role::Therapist,
                &TaskForm {
                    title: "Check blood pressure at home this week".into(),
                    detail: "Ask for the home log: evening readings have been higher after stressful days.".into(),
                    assignee: nurse.to_string(),
                    due_on: (today - Duration::days(1 + i as i64)).to_string(),
                },
                tz.date(&created),
                created,
            )
            .await?;
        made += 1;
        if i > 0 {
            store
                .change_team_task(&nur, clinic, bp, Role::Nurse, TaskAction::Done, at(3, 0))
                .await?;
        }
        // The coordinator's task: reschedule. Open for the first two, done for the others.
        if let Some(coordinator) = coordinator {
            let created = at(2, 4);
            let resched = store
                .create_team_task(
                    &pres,
                    clinic,
                    patient,
                    Role::Prescriber,
                    &TaskForm {
                        title: "Reschedule the next integration session to an afternoon".into(),
                        detail: String::new(),
                        assignee: coordinator.to_string(),
                        due_on: (today + Duration::days(2)).to_string(),
                    },
                    tz.date(&created),
                    created,
                )
                .await?;
            made += 1;
            if i > 1 {
                store
                    .change_team_task(
                        &actor(clinic, coordinator),
                        clinic,
                        resched,
                        Role::Coordinator,
                        TaskAction::Done,
                        at(1, 0),
                    )
                    .await?;
            }
        }
    }
    Ok(made)
}
