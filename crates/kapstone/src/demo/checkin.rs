//! The demo's check-ins between sessions: for each course patient, a check-in two days after
//! each dosing visit, sent through a link as a patient would — mood lifting over the course,
//! the common side effects after the first doses, a PHQ-9 with every other one, reflections on
//! the intention and journal lines. Most were read and marked seen the next morning; the
//! newest of the esketamine induction patient reports urinary symptoms, flagged and not seen
//! yet, and one lingering dissociation was flagged, seen and its alert acknowledged. A
//! schedule of each kind, one scheduled link waiting, and one link sent today and unanswered.

use super::Rng;
use super::course::CourseStaff;
use anyhow::Result;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use kap_domain::audit::{Actor, ActorKind};
use kap_domain::checkin::schedule::NewSchedule;
use kap_domain::checkin::{CheckinForm, ScheduleKind};
use kap_domain::course::AppointmentStatus;
use kap_domain::instruments::{self, Answers, score};
use kap_domain::protocol::SessionKind;
use kap_domain::time::TimeZone;
use kap_store::Store;
use kap_store::checkin::Submission;
use kap_store::checkin::link::NewCheckinLink;
use kap_store::measure::schedule::LinkDelivery;
use uuid::Uuid;

const REFLECTIONS: &[&str] = &[
    "I noticed the harsh voice in my head, and for once I did not argue with it. It got quieter.",
    "Harder this week. I remembered the intention on Tuesday and took a walk instead of staying in bed.",
    "I was kinder to myself at work when I made a mistake. That is new.",
    "It feels less like a slogan now and more like something I can actually do.",
    "I talked to my sister about it. Saying it out loud helped.",
    "Some days I forget it completely; writing here brings it back.",
];

const JOURNAL: &[&str] = &[
    "Slept badly the first night, then better. Cooked dinner twice this week.",
    "A friend asked how I was and I told the truth.",
    "Went back to the garden. Small things, but I did them.",
    "Work was busy; I felt flat but not hopeless.",
    "Noticed colours more on the walk to the bus. Odd to write that down.",
    "Mostly steady. Argued with my partner and we made up the same evening.",
    "",
];

const NOTES: &[&str] = &[
    "Read. Mood lifting; will pick up the reflection at integration.",
    "Read; nothing needing action. Side effects expected after a first dose.",
    "Read; discussed with the prescriber before the next session.",
    "Read. Journal themes noted for the integration session.",
];

/// A PHQ-9 whose total follows the mood (item 9 answered 0).
fn phq9_answers(rng: &mut Rng, mood: u8) -> Answers {
    let total = (i32::from(10 - mood.min(10)) * 2 + rng.below(3) as i32 - 1).clamp(0, 24);
    let mut vals = [0i32; 8];
    let mut left = total;
    while left > 0 {
        let i = rng.below(8) as usize;
        if vals[i] < 3 {
            vals[i] += 1;
            left -= 1;
        }
    }
    let mut a: Answers = vals
        .iter()
        .enumerate()
        .map(|(i, v)| ((i + 1).to_string(), *v))
        .collect();
    a.insert("9".into(), 0);
    a.insert("difficulty".into(), i32::from(total >= 10));
    a
}

/// Seeds check-ins between sessions; returns how many were made.
pub async fn seed(
    store: &Store,
    rng: &mut Rng,
    clinic: Uuid,
    patients: &[Uuid],
    staff: &CourseStaff,
    tz: TimeZone,
) -> Result<usize> {
    let (Some(nurse), Some(therapist)) = (staff.nurse, staff.therapist.or(staff.prescriber)) else {
        return Ok(0);
    };
    let as_staff = |id: Uuid| Actor {
        staff_id: Some(id),
        kind: ActorKind::Staff,
        clinic_id: Some(clinic),
        address: None,
    };
    let (nurse, therapist) = (as_staff(nurse), as_staff(therapist));
    let patient_actor = Actor::visitor(clinic, None);
    let public_url = kap_web::WebConfig::default().public_url;
    let phq9 = instruments::by_code("phq9");
    let now = kap_store::now();
    let evening = NaiveTime::from_hms_opt(19, 30, 0).unwrap_or_default();
    let morning = NaiveTime::from_hms_opt(9, 15, 0).unwrap_or_default();
    let at_local = |t: DateTime<Utc>, days: i64, time: NaiveTime| {
        tz.at(tz.date(&t) + Duration::days(days), time)
    };
    let mut made = 0;
    // The course patients (see course.rs): esketamine induction, esketamine maintenance, IV
    // completed, IM planned, sublingual stopped.
    for (n, patient) in patients.iter().enumerate().skip(12).take(5) {
        let Some((course, _)) = store
            .courses_of(&nurse, clinic, *patient)
            .await?
            .into_iter()
            .next()
        else {
            continue;
        };
        let detail = store.course(&nurse, clinic, course.id).await?;
        let visits: Vec<(DateTime<Utc>, DateTime<Utc>)> = detail
            .appointments
            .iter()
            .filter(|a| {
                a.kind == SessionKind::Dosing
                    && matches!(
                        a.status,
                        AppointmentStatus::Completed | AppointmentStatus::CheckedIn
                    )
            })
            .filter_map(|a| {
                let sent = at_local(a.starts_at, 1, morning).ok()?;
                let at = at_local(a.starts_at, 2, evening).ok()?;
                (at < now - Duration::hours(2)).then_some((sent, at))
            })
            .collect();
        let count = visits.len();
        for (k, (sent, at)) in visits.into_iter().enumerate() {
            let with_phq9 = if k % 2 == 1 { phq9 } else { None };
            let (_, token) = store
                .create_checkin_link_at(
                    &nurse,
                    NewCheckinLink {
                        clinic_id: clinic,
                        patient_id: *patient,
                        instrument: with_phq9,
                        valid_days: 3,
                        public_url: &public_url,
                        email_enabled: false,
                    },
                    sent,
                )
                .await?;
            let Some(link) = store.checkin_link_by_token(&token).await? else {
                continue;
            };
            // Mood lifts over the course, with ups and downs.
            let lift = (k * 5 / count.max(1)) as u8;
            let mood = (3 + lift + rng.below(3) as u8).saturating_sub(1).min(9);
            let newest = k + 1 == count;
            let mut side: Vec<&str> = vec![];
            if k == 0 {
                side.extend(["nausea", "dizziness"]);
            } else if rng.below(4) == 0 {
                side.push("headache");
            }
            if k == 1 && rng.below(2) == 0 {
                side.push("drowsiness");
            }
            // The induction patient's newest check-in: urinary symptoms, waiting to be seen.
            let flagged_unseen = n == 12 && newest;
            if flagged_unseen {
                side.push("urinary_symptoms");
            }
            // The stopped course's second check-in: dissociation lingering, seen and handled.
            let flagged_seen = n == 16 && k == 1;
            if flagged_seen {
                side.push("lingering_dissociation");
            }
            let note = if flagged_unseen {
                "Stinging when I pee since yesterday, and going more often."
            } else if flagged_seen {
                "Two days later I still felt like I was watching myself from outside."
            } else {
                ""
            };
            let form = CheckinForm {
                mood: &mood.to_string(),
                sleep_hours: ["6", "6.5", "7", "7.5", "8", "5.5"][rng.below(6) as usize],
                sleep_quality: ["poor", "fair", "good"]
                    [(rng.below(3) as usize).max(usize::from(k > 2))],
                side_effects: side,
                side_effects_note: note,
                reflection: rng.pick(REFLECTIONS),
                journal: rng.pick(JOURNAL),
            };
            let Ok(answers) = form.parse() else {
                continue;
            };
            let q = with_phq9.and_then(|ins| {
                let a = phq9_answers(rng, mood);
                score(ins, &a).ok().map(|s| (a, s))
            });
            let intention = store
                .current_intention(&patient_actor, clinic, *patient, Some(course.id))
                .await?;
            let submitted = store
                .submit_checkin(
                    &patient_actor,
                    &link,
                    Submission {
                        answers: &answers,
                        questionnaire: q.as_ref().map(|(a, s)| (a, s)),
                        intention: intention.as_deref(),
                        at,
                    },
                )
                .await?;
            made += 1;
            if flagged_unseen {
                continue;
            }
            // Read the next morning; the maintenance patient's newest still waits.
            let Ok(read_at) = at_local(at, 1, morning) else {
                continue;
            };
            if read_at >= now || (n == 13 && newest) {
                continue;
            }
            let reader = if k % 2 == 0 { &therapist } else { &nurse };
            let note = if flagged_seen {
                "Phoned: settled by the third day, no driving meanwhile. Prescriber told; dose reviewed before the next session."
            } else {
                rng.pick(NOTES)
            };
            store
                .mark_checkin_seen_at(reader, clinic, submitted.checkin_id, Some(note), read_at)
                .await?;
            for alert in &submitted.alerts {
                store
                    .acknowledge_alert(reader, clinic, *alert, note)
                    .await?;
            }
        }
    }
    let deliver = LinkDelivery {
        public_url: &public_url,
        email_enabled: false,
    };
    // The maintenance patient checks in weekly: its latest scheduled link is waiting.
    if let Some(p) = patients.get(13) {
        let since = now - Duration::days(2);
        store
            .add_checkin_schedule_at(
                &nurse,
                clinic,
                *p,
                &NewSchedule {
                    kind: ScheduleKind::EveryDays,
                    days: 7,
                    instrument: phq9,
                },
                since,
            )
            .await?;
        store
            .run_checkin_schedules(since + Duration::seconds(1), deliver)
            .await?;
    }
    // The induction patient: two days after each dosing session from now on, and a link sent
    // today, not answered yet.
    if let Some(p) = patients.get(12) {
        store
            .add_checkin_schedule(
                &nurse,
                clinic,
                *p,
                &NewSchedule {
                    kind: ScheduleKind::AfterDosing,
                    days: 2,
                    instrument: None,
                },
            )
            .await?;
        store
            .create_checkin_link(
                &nurse,
                NewCheckinLink {
                    clinic_id: clinic,
                    patient_id: *p,
                    instrument: None,
                    valid_days: 3,
                    public_url: &public_url,
                    email_enabled: false,
                },
            )
            .await?;
    }
    Ok(made)
}
