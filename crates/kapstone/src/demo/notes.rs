//! The demo's therapy notes, so each course tells its story: for every course's sessions up to
//! yesterday, the therapist's preparation note (the intention in the patient's words — the same
//! words the nurse wrote in the dosing checklist), an in-session note of time-stamped
//! observations for each dosing session, and an integration note with its themes, the four
//! ways KAP may help as observed, and commitments reviewed at the next integration session
//! (most kept, some partly, one not). The completed IV course ends with the prescriber's SOAP
//! progress note; one integration note has an addendum; today's session has an in-session draft
//! in progress; one integration note of last week is an unsigned draft, past the clinic's 72
//! hours; the IV patient has a psychotherapy note (its author's alone). Beyond the courses, one
//! patient in twenty has a signed intake progress note, so the notes grow with `--patients`.
//! Every note is written as of its session, through the store's checks.

use super::Rng;
use super::course::CourseStaff;
use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use kap_domain::audit::{Actor, ActorKind};
use kap_domain::course::{Appointment, AppointmentStatus};
use kap_domain::notes::content::{commitment_field, domain_field};
use kap_domain::notes::settings::Supervision;
use kap_domain::notes::{NoteForm, NoteKind};
use kap_domain::protocol::SessionKind;
use kap_domain::time::TimeZone;
use kap_store::Store;
use kap_store::notes::NewNote;
use uuid::Uuid;

const INTENTIONS: &[&str] = &[
    "To notice the heaviness without being pulled under by it.",
    "To find a little more patience with myself at work.",
    "To reconnect with what I used to enjoy.",
    "To rest, and let whatever comes, come.",
];
const EXPECTATIONS: &[&str] = &[
    "Expects to feel floaty and far away; worried it may feel like anaesthesia did after her knee surgery. Went through the usual course of a session, the monitoring and the recovery time.",
    "Hopes for 'a reset'. We talked about the medicine opening a window rather than doing the work, and about the integration sessions afterwards.",
    "Unsure what to expect; read about dissociation online. Explained that it is expected, time-limited and watched for, and that he can ask the nurse for anything.",
];
const FEARS: &[&str] = &[
    "Losing control, and saying something embarrassing in front of staff.",
    "That nothing will change, 'like every other treatment'.",
    "Feeling sick; a past panic attack in an MRI scanner.",
];
const SUPPORT: &[&str] = &[
    "Partner drives her home and stays the evening. If distressed tonight: calls the clinic's after-hours line; crisis line 988 on her phone.",
    "Sister picks him up and will check in tomorrow morning. Agreed to text the therapist a single word about how the night went.",
    "Friend from church takes her home. Will keep the rest of the day free; journaling prompts given.",
];
const SETTINGS: &[&str] = &[
    "Eye mask and headphones, the clinic's instrumental playlist. Weighted blanket. Wants the lights low.",
    "Prefers no music for the first part; eye mask accepted. A photo of his dog on the side table.",
    "Own playlist (piano), eye mask, extra pillow under the knees.",
];
const OBSERVATIONS: &[&[&str]] = &[
    &[
        "Settling; breathing slowing, hands unclenched.",
        "Eyes closed, still. Says quietly 'it's like being underwater, but fine'.",
        "Tearful for a few minutes, then calmer. Did not want to talk; held my hand briefly.",
        "Coming back; smiling, says she saw her grandmother's kitchen.",
    ],
    &[
        "Restless at first, asked for the music to be turned down.",
        "Quiet, occasional deep sighs.",
        "Says 'the weight is outside me now'.",
        "Oriented, a little nauseous; ginger ale given by the nurse.",
    ],
    &[
        "Relaxed posture within minutes of the first device.",
        "Laughing softly, then long silence.",
        "Describes colours 'like stained glass'; no distress.",
        "Alert, reflective; wants to write before the integration session.",
    ],
];
const THEMES: &[&str] = &[
    "Grief for her father, and the part of her that 'had to be the strong one'.",
    "The harsh inner voice at work; seeing it as a younger self trying to protect him.",
    "Distance from her partner; a memory of being close on a beach holiday.",
    "Fear of failing again; noticing the fear without obeying it.",
];
const INSIGHTS: &[&str] = &[
    "'I don't have to fix everyone before I can rest.'",
    "The criticism sounds like his old coach, not like him.",
    "She misses closeness more than she fears it.",
    "Small steps count; he does not need a plan for the whole year.",
];
const CHANGES: &[&str] = &[
    "Sleeping better (about 6 h, was 4). Went for a walk twice unprompted.",
    "Fewer mornings 'dreading the day'. Returned a call he had avoided for weeks.",
    "Cried at a film for the first time in years, and felt relieved afterwards.",
    "Still tired, but less irritable with the children, in her words.",
];
const COMMITMENTS: &[&str] = &[
    "Call my sister on Sunday evenings.",
    "Walk for 20 minutes after lunch on workdays.",
    "Write three lines in the journal before bed.",
    "Tell my partner one thing I appreciated each day.",
    "Notice the critic, name it, and take one breath before answering it.",
    "Eat breakfast before checking email.",
];
const DOMAINS: &[&str] = &[
    "Stayed with the sadness for several minutes while talking about her father without shutting down.",
    "Caught 'I'm useless' twice in the session and rephrased it kindly, unprompted.",
    "Considered two other ways of reading his manager's email before deciding what it meant.",
    "Kept two of the three commitments from last time and planned around the one he missed.",
];
const REVIEWS: &[(&str, &str)] = &[
    ("kept", "Did it every time; says it helped."),
    ("kept", ""),
    ("partly_kept", "Two of three weeks; missed when travelling."),
    ("not_kept", "Felt too low that week; we made it smaller."),
    ("kept", "Now a habit."),
];
const PROCESS_NOTES: &str = "Strong pull to reassure her when she spoke about her father; I noticed I wanted to rescue her the way she rescues everyone. Held back, and she went further. Possible transference: I am the parent who stays. Bring to supervision.";

/// Writes one note as of `at` (signed `sign_after` later, when given); its id.
struct Writer<'a> {
    store: &'a Store,
    clinic: Uuid,
    tz: TimeZone,
    now: DateTime<Utc>,
}

impl Writer<'_> {
    #[allow(clippy::too_many_arguments)]
    async fn note(
        &self,
        who: &Actor,
        patient: Uuid,
        kind: NoteKind,
        appointment: Option<Uuid>,
        fields: &[(String, String)],
        at: DateTime<Utc>,
        sign_after: Option<Duration>,
    ) -> Result<Uuid> {
        let content = NoteForm::from_pairs(fields)
            .parse(kind, self.tz.date(&at))
            .map_err(|e| anyhow::anyhow!("demo {} note: {e}", kind.as_str()))?;
        let id = self
            .store
            .start_note(
                who,
                self.clinic,
                &NewNote {
                    patient_id: patient,
                    kind,
                    appointment_id: appointment,
                    dosing_session_id: None,
                    content,
                },
                at,
            )
            .await
            .with_context(|| format!("demo {} note", kind.as_str()))?;
        if let Some(after) = sign_after {
            let signed = (at + after).min(self.now);
            self.store.sign_note(who, self.clinic, id, signed).await?;
        }
        Ok(id)
    }
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Seeds the notes; returns how many were made.
pub async fn seed(
    store: &Store,
    rng: &mut Rng,
    clinic: Uuid,
    patients: &[Uuid],
    staff: &CourseStaff,
    tz: TimeZone,
) -> Result<usize> {
    let actor = |id: Uuid| Actor {
        staff_id: Some(id),
        kind: ActorKind::Staff,
        clinic_id: Some(clinic),
        address: None,
    };
    let prescriber = actor(staff.prescriber.context("a prescriber")?);
    let w = Writer {
        store,
        clinic,
        tz,
        now: kap_store::now(),
    };
    let mut made = 0;
    let mut draft_left = false;
    let mut addendum_written = false;
    let mut psychotherapy_written = false;
    // The course patients (as the course demo chose them).
    for (n, patient) in patients.iter().enumerate().skip(12).take(5) {
        for (course, _) in store.courses_of(&prescriber, clinic, *patient).await? {
            let detail = store.course(&prescriber, clinic, course.id).await?;
            let Some(therapist_id) = course.therapist_id else {
                continue;
            };
            let therapist = actor(therapist_id);
            let completed = course.status == kap_domain::course::CourseStatus::Completed;
            let intention = checklist_intention(store, &prescriber, clinic, &detail.appointments)
                .await?
                .unwrap_or_else(|| INTENTIONS[n % INTENTIONS.len()].to_owned());
            let mut last_integration: Option<Uuid> = None;
            let mut obs_set = n % OBSERVATIONS.len();
            let mut k = n;
            let happened: Vec<&Appointment> = detail
                .appointments
                .iter()
                .filter(|a| {
                    matches!(
                        a.status,
                        AppointmentStatus::Completed | AppointmentStatus::CheckedIn
                    )
                })
                .collect();
            for (i, a) in happened.iter().enumerate() {
                let today = tz.date(&a.starts_at) == tz.date(&w.now);
                let next_integration = detail
                    .appointments
                    .iter()
                    .filter(|x| x.starts_at > a.starts_at && x.kind == SessionKind::Integration)
                    .map(|x| tz.date(&x.starts_at))
                    .next();
                match a.kind {
                    SessionKind::Preparation if !today => {
                        let at = a.ends_at - Duration::minutes(10);
                        w.note(
                            &therapist,
                            *patient,
                            NoteKind::Preparation,
                            Some(a.id),
                            &pairs(&[
                                ("intention", &intention),
                                ("expectations", EXPECTATIONS[k % EXPECTATIONS.len()]),
                                ("fears", FEARS[k % FEARS.len()]),
                                ("support_plan", SUPPORT[k % SUPPORT.len()]),
                                ("set_and_setting", SETTINGS[k % SETTINGS.len()]),
                            ]),
                            at,
                            Some(Duration::minutes(25)),
                        )
                        .await?;
                        made += 1;
                    }
                    SessionKind::Dosing => {
                        let Some(session) = store.session_of_appointment(clinic, a.id).await?
                        else {
                            continue;
                        };
                        // Today's session is in monitoring: observations so far, unsigned.
                        let times: Vec<DateTime<Utc>> = if today {
                            vec![w.now - Duration::minutes(50), w.now - Duration::minutes(25)]
                        } else {
                            [15, 30, 50, 75]
                                .iter()
                                .map(|m| a.starts_at + Duration::minutes(*m))
                                .collect()
                        };
                        let words = OBSERVATIONS[obs_set % OBSERVATIONS.len()];
                        obs_set += 1;
                        let mut note = None;
                        for (j, at) in times.iter().enumerate() {
                            note = Some(
                                store
                                    .observe_in_session(
                                        &therapist,
                                        clinic,
                                        session,
                                        words[j % words.len()],
                                        *at,
                                        *at + Duration::minutes(1),
                                    )
                                    .await?,
                            );
                        }
                        if let (Some(id), false) = (note, today) {
                            store
                                .sign_note(&therapist, clinic, id, a.starts_at + Duration::hours(2))
                                .await?;
                        }
                        made += 1;
                    }
                    SessionKind::Integration if !today => {
                        let at = a.ends_at - Duration::minutes(5);
                        let follow_up = next_integration
                            .filter(|d| *d > tz.date(&at))
                            .unwrap_or(tz.date(&at) + Duration::days(7))
                            .to_string();
                        let (c1, c2) = (
                            COMMITMENTS[k % COMMITMENTS.len()],
                            COMMITMENTS[(k + 2) % COMMITMENTS.len()],
                        );
                        let step = (i / 3).min(2);
                        let levels = [
                            ["some", "some", "not_observed", "some"],
                            ["clear", "some", "some", "some"],
                            ["clear", "clear", "some", "clear"],
                        ][step];
                        let mut f = pairs(&[
                            ("themes", THEMES[k % THEMES.len()]),
                            ("insights", INSIGHTS[k % INSIGHTS.len()]),
                            ("what_changed", CHANGES[k % CHANGES.len()]),
                        ]);
                        f.push((commitment_field(0, "text"), c1.to_owned()));
                        f.push((commitment_field(0, "date"), follow_up.clone()));
                        if k % 2 == 0 {
                            f.push((commitment_field(1, "text"), c2.to_owned()));
                            f.push((commitment_field(1, "date"), follow_up.clone()));
                        }
                        for (d, (domain, level)) in kap_domain::notes::Domain::ALL
                            .into_iter()
                            .zip(levels)
                            .enumerate()
                        {
                            f.push((domain_field(domain, "level"), level.to_owned()));
                            if level != "not_observed" {
                                f.push((domain_field(domain, "text"), DOMAINS[d].to_owned()));
                            }
                        }
                        // The latest integration session of an active course is left unsigned,
                        // overdue (once, in the whole demo).
                        let leave_draft = !draft_left
                            && !completed
                            && w.now - at > Duration::hours(80)
                            && !happened[i + 1..]
                                .iter()
                                .any(|x| x.kind == SessionKind::Integration);
                        let id = w
                            .note(
                                &therapist,
                                *patient,
                                NoteKind::Integration,
                                Some(a.id),
                                &f,
                                at,
                                (!leave_draft).then_some(Duration::minutes(40)),
                            )
                            .await?;
                        draft_left |= leave_draft;
                        made += 1;
                        // What became of the last session's commitments, reviewed now.
                        if let Some(prev) = last_integration {
                            let all = store
                                .commitments_of_patient(
                                    &therapist,
                                    clinic,
                                    *patient,
                                    Some(course.id),
                                )
                                .await?;
                            for c in all.iter().filter(|c| c.note_id == prev) {
                                let (status, note) = REVIEWS[k % REVIEWS.len()];
                                k += 1;
                                store
                                    .review_commitment(
                                        &therapist,
                                        clinic,
                                        c.id,
                                        status,
                                        note,
                                        Some(id),
                                        at + Duration::minutes(1),
                                    )
                                    .await?;
                            }
                        }
                        if !leave_draft {
                            last_integration = Some(id);
                            // The completed course's first integration note has an addendum.
                            if completed && !addendum_written {
                                addendum_written = true;
                                store
                                    .add_note_addendum(
                                        &therapist,
                                        clinic,
                                        id,
                                        "Phone call the next day",
                                        "Patient called to say the evening was harder than expected; slept well after. No safety concerns; plan unchanged.",
                                        (at + Duration::hours(20)).min(w.now),
                                    )
                                    .await?;
                            }
                        }
                        k += 1;
                    }
                    _ => {}
                }
            }
            if completed {
                let end = happened.last().map_or(w.now, |a| a.ends_at);
                w.note(
                    &prescriber,
                    *patient,
                    NoteKind::Progress,
                    None,
                    &pairs(&[
                        ("format", "soap"),
                        ("subjective", "Reports steadier mood, sleeping 6–7 h, back at work full time. No cravings, no urinary symptoms."),
                        ("objective", "PHQ-9 down over the course (see scores). BP stable across sessions; no adverse events beyond transient nausea."),
                        ("assessment", "Good response to the induction course; no safety concerns."),
                        ("plan", "No maintenance dosing for now; monthly integration follow-up with the therapist; re-assess in 8 weeks or sooner if mood dips."),
                    ]),
                    (end + Duration::days(2)).min(w.now - Duration::hours(1)),
                    Some(Duration::minutes(15)),
                )
                .await?;
                made += 1;
                if !psychotherapy_written {
                    let first = happened
                        .iter()
                        .find(|a| a.kind == SessionKind::Integration)
                        .map_or(end, |a| a.ends_at);
                    w.note(
                        &therapist,
                        *patient,
                        NoteKind::Psychotherapy,
                        None,
                        &pairs(&[("process_notes", PROCESS_NOTES)]),
                        first + Duration::hours(1),
                        Some(Duration::minutes(10)),
                    )
                    .await?;
                    psychotherapy_written = true;
                    made += 1;
                }
            }
        }
    }
    // Without an integration session to leave unsigned, a progress note is the overdue draft.
    if !draft_left && let (Some(patient), Some(t)) = (patients.get(12), staff.therapist) {
        w.note(
            &actor(t),
            *patient,
            NoteKind::Progress,
            None,
            &pairs(&[
                ("format", "soap"),
                ("subjective", "Phone check-in: low week, sleeping badly."),
            ]),
            w.now - Duration::hours(100),
            None,
        )
        .await?;
        made += 1;
    }
    // The trainee's notes, under the therapist's supervision: one co-signed, one waiting.
    if let (Some(trainee), Some(supervisor), Some(patient)) =
        (staff.trainee, staff.therapist, patients.get(13))
    {
        let mut settings = store.note_settings(clinic).await?;
        settings.supervision.push(Supervision {
            clinician: trainee,
            supervisor,
        });
        store
            .save_note_settings(&actor(staff.admin.context("an admin")?), clinic, &settings)
            .await?;
        for (days_ago, cosigned, plan) in [
            (
                9,
                true,
                "Practise the breathing exercise before bed; review at the next session.",
            ),
            (2, false, "Bring the journal to the integration session."),
        ] {
            let at = w.now - Duration::days(days_ago);
            let id = w
                .note(
                    &actor(trainee),
                    *patient,
                    NoteKind::Progress,
                    None,
                    &pairs(&[
                        ("format", "dap"),
                        ("data", "Phone support call between sessions: sleeping better, some evening low mood."),
                        ("assessment", "Settling into the course; no new risk."),
                        ("plan", plan),
                    ]),
                    at,
                    Some(Duration::minutes(15)),
                )
                .await?;
            if cosigned {
                store
                    .cosign_note(&actor(supervisor), clinic, id, at + Duration::hours(20))
                    .await?;
            }
            made += 1;
        }
    }
    // One patient in twenty beyond the courses: the prescriber's intake progress note.
    for (i, patient) in patients.iter().enumerate().skip(17).step_by(20) {
        let at = w.now - Duration::days(20 + (rng.below(60) as i64)) - Duration::minutes(i as i64);
        w.note(
            &prescriber,
            *patient,
            NoteKind::Progress,
            None,
            &pairs(&[
                ("format", "dap"),
                ("data", "Referred for treatment-resistant depression: two adequate antidepressant trials without remission; weekly psychotherapy for a year. Asks about ketamine after reading about it."),
                ("assessment", "Candidate for screening; no obvious contraindication from the history given today."),
                ("plan", "Screening with the nurse (history, medications, vitals, questionnaires); send the consent information."),
            ]),
            at,
            Some(Duration::minutes(20)),
        )
        .await?;
        made += 1;
    }
    Ok(made)
}

/// The intention the nurse wrote in the course's first recorded checklist, if any.
async fn checklist_intention(
    store: &Store,
    actor: &Actor,
    clinic: Uuid,
    appointments: &[Appointment],
) -> Result<Option<String>> {
    for a in appointments
        .iter()
        .filter(|a| a.kind == SessionKind::Dosing)
    {
        if let Some(sid) = store.session_of_appointment(clinic, a.id).await? {
            let rec = store.dosing_session(actor, clinic, sid).await?;
            if let Some(c) = rec.session.checklist.filter(|c| !c.intention.is_empty()) {
                return Ok(Some(c.intention));
            }
        }
    }
    Ok(None)
}
