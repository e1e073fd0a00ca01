//! The demo's courses and calendar: Kapstone's shipped protocols, three dosing chairs and two
//! therapy rooms, and a course on each protocol at a different point — esketamine mid-induction
//! and in weekly maintenance, IV completed, IM planned for next week, sublingual stopped with a
//! reason — so the calendar has a full week and the today board has sessions. Past sessions
//! are marked done (one missed), as the clinic would have; the esketamine and IV dosing visits
//! up to today are only checked in, for the dosing demo to dose, discharge and sign.

use super::screening::{draft, intake};
use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, Duration, Utc};
use kap_domain::audit::{Actor, ActorKind};
use kap_domain::course::CourseStatus;
use kap_domain::course::appointment::AppointmentAction;
use kap_domain::course::plan::{CourseForm, weekday_code, weekdays_needed};
use kap_domain::course::{AppointmentStatus, CoursePlan};
use kap_domain::protocol::record::ProtocolVersion;
use kap_domain::screening::decision::Decision;
use kap_domain::time::TimeZone;
use kap_store::Store;
use kap_store::course::NewCourse;
use uuid::Uuid;

/// The people the demo's courses need.
pub struct CourseStaff {
    pub admin: Option<Uuid>,
    pub prescriber: Option<Uuid>,
    pub nurse: Option<Uuid>,
    pub therapist: Option<Uuid>,
    /// A therapist in training whose notes the therapist co-signs.
    pub trainee: Option<Uuid>,
}

struct Planned<'a> {
    protocol: &'a str,
    /// Days from today to the first session (negative: in the past).
    start_in: i64,
    time: (u32, u32),
    therapist: Option<Uuid>,
    chair: usize,
    /// Which therapy room (A or B) its other sessions book.
    room: usize,
    then: Option<(CourseStatus, &'a str)>,
}

/// What the courses leave for the dosing demo.
pub struct Seeded {
    pub courses: usize,
    /// Checked-in dosing appointments of the esketamine and IV courses, up to today's, with
    /// their start.
    pub to_dose: Vec<(Uuid, DateTime<Utc>)>,
}

/// The protocols whose dosing visits the dosing demo records session by session.
const RECORDED: [&str; 2] = ["esketamine-trd", "iv-ketamine"];

/// Seeds the courses.
pub async fn seed(
    store: &Store,
    clinic: Uuid,
    patients: &[Uuid],
    staff: &CourseStaff,
    tz: TimeZone,
) -> Result<Seeded> {
    let actor = |id: Option<Uuid>| Actor {
        staff_id: id,
        kind: ActorKind::Staff,
        clinic_id: Some(clinic),
        address: None,
    };
    let (admin, prescriber, nurse) = (
        actor(staff.admin),
        actor(staff.prescriber),
        actor(staff.nurse),
    );
    store.install_shipped_protocols(&admin, clinic).await?;
    let mut chairs = vec![];
    for name in ["Chair 1", "Chair 2", "Chair 3"] {
        chairs.push(store.add_room(&admin, clinic, name, true).await?);
    }
    let rooms = [
        store
            .add_room(&admin, clinic, "Therapy room A", false)
            .await?,
        store
            .add_room(&admin, clinic, "Therapy room B", false)
            .await?,
    ];
    let protocols = store.protocols_in_use(clinic).await?;
    let version = |key: &str| -> Result<&ProtocolVersion> {
        protocols
            .iter()
            .find(|v| v.protocol.key == key)
            .with_context(|| format!("the shipped protocol {key}"))
    };
    let therapist = staff.therapist.or(staff.prescriber);
    let plans = [
        Planned {
            protocol: "esketamine-trd",
            start_in: -10,
            time: (8, 0),
            therapist,
            chair: 0,
            room: 0,
            then: None,
        },
        Planned {
            protocol: "esketamine-trd",
            start_in: -40,
            time: (12, 30),
            therapist: staff.prescriber,
            chair: 1,
            room: 0,
            then: None,
        },
        Planned {
            protocol: "iv-ketamine",
            start_in: -70,
            time: (12, 30),
            therapist,
            chair: 2,
            room: 0,
            then: Some((CourseStatus::Completed, "")),
        },
        Planned {
            protocol: "im-kap",
            start_in: 7,
            time: (8, 0),
            therapist: staff.prescriber,
            chair: 2,
            // Its 08:00 therapy sessions would meet the first esketamine course's in room A
            // on some days of the week.
            room: 1,
            then: None,
        },
        Planned {
            protocol: "sublingual-kap",
            start_in: -14,
            time: (16, 30),
            therapist,
            chair: 2,
            room: 0,
            then: Some((
                CourseStatus::Stopped,
                "Moving out of state after the second dose; referred to a KAP clinic near the new home, records sent with consent.",
            )),
        },
    ];
    let today = tz.date(&Utc::now());
    let mut made = 0;
    let mut to_dose = vec![];
    // Patients after those the screening demo uses.
    for (plan, patient) in plans.iter().zip(patients.iter().skip(12)) {
        let sid = store.start_screening(&nurse, clinic, *patient).await?;
        intake(store, &nurse, clinic, sid, &[], &[]).await?;
        let d = draft(
            Decision::Eligible,
            "Treatment-resistant depression, no contraindications found.",
            &[],
        );
        store.sign_eligibility(&prescriber, clinic, sid, &d).await?;
        let v = version(plan.protocol)?;
        let start = today + Duration::days(plan.start_in);
        let mut form = CourseForm::defaults(&v.protocol, start);
        form.start_date = start.to_string();
        // Dosing on the start's weekday, and spread over the week when the protocol doses
        // more often.
        let offsets: &[i64] = match weekdays_needed(&v.protocol) {
            1 => &[0],
            2 => &[0, 3],
            _ => &[0, 2, 4],
        };
        let days: Vec<String> = offsets
            .iter()
            .map(|o| weekday_code((start + Duration::days(*o)).weekday()).to_owned())
            .collect();
        form.weekdays = days;
        form.time = format!("{:02}:{:02}", plan.time.0, plan.time.1);
        let course_plan: CoursePlan = form
            .parse(&v.protocol, start)
            .map_err(|e| anyhow::anyhow!("demo course on {}: {e:?}", plan.protocol))?;
        let at = tz.start_of_day(start - Duration::days(1));
        let id = store
            .plan_course_at(
                &prescriber,
                clinic,
                &NewCourse {
                    patient_id: *patient,
                    protocol_id: v.id,
                    plan: course_plan,
                    therapist_id: plan.therapist.context("a therapist")?,
                    nurse_id: None,
                    chair_id: chairs[plan.chair],
                    room_id: Some(rooms[plan.room]),
                    tz,
                },
                at,
            )
            .await
            .with_context(|| format!("planning the demo course on {}", plan.protocol))?;
        // What has happened since.
        let stop_after = match plan.then {
            Some((CourseStatus::Stopped, _)) => Some(2),
            _ => None,
        };
        let detail = store.course(&prescriber, clinic, id).await?;
        let now = Utc::now();
        let mut doses = 0;
        let recorded = RECORDED.contains(&plan.protocol);
        for (i, a) in detail.appointments.iter().enumerate() {
            let dosing = a.kind == kap_domain::protocol::SessionKind::Dosing;
            // Today's dosing visit is checked in even before its time: it is in the chair.
            let today_dose = recorded && dosing && tz.date(&a.starts_at) == today;
            if (a.starts_at >= now && !today_dose) || stop_after.is_some_and(|n| doses >= n) {
                break;
            }
            if a.status != AppointmentStatus::Planned {
                continue;
            }
            if i == 5 && plan.protocol == "esketamine-trd" && plan.start_in < -20 {
                store
                    .act_on_appointment(&nurse, clinic, a.id, AppointmentAction::MarkMissed, "")
                    .await?;
                continue;
            }
            store
                .act_on_appointment(&nurse, clinic, a.id, AppointmentAction::CheckIn, "")
                .await?;
            if recorded && dosing {
                to_dose.push((a.id, a.starts_at));
            } else {
                store
                    .act_on_appointment(&nurse, clinic, a.id, AppointmentAction::Complete, "")
                    .await?;
            }
            if dosing {
                doses += 1;
            }
        }
        if let Some((status, reason)) = plan.then {
            let reason = (!reason.is_empty()).then_some(reason);
            store
                .set_course_status(&prescriber, clinic, id, status, reason)
                .await?;
        }
        made += 1;
    }
    Ok(Seeded {
        courses: made,
        to_dose,
    })
}
