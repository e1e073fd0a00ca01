//! A course's timeline: preparation, dosing, integration, check-ins and scores interleaved day
//! by day — the story of the course on one page — with filters by strand. Each strand is
//! gathered only for roles that may read it (a coordinator sees the sessions and the course's
//! changes, never notes, scores, check-ins or the flowsheet's stage).

use crate::AppState;
use crate::http::Staff;
use crate::http::error::AppResult;
use crate::http::extract::parse_id;
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::Action;
use kap_domain::course::timeline::{self, Day, Event, Filter, Strand, Tone, Window};
use kap_domain::course::{AppointmentStatus, CourseStatus};
use kap_domain::notes::{NoteKind, NoteStatus};
use kap_domain::protocol::SessionKind;
use kap_store::course::CourseDetail;

#[derive(Template)]
#[template(path = "course/timeline.html")]
struct TimelinePage {
    shell: Shell,
    d: CourseDetail,
    days: Vec<Day>,
    /// Each strand this viewer may see, whether it is shown, and how many events it has.
    strands: Vec<(Strand, bool, usize)>,
    problem: Option<String>,
}

impl TimelinePage {
    fn day(&self, d: &chrono::NaiveDate) -> String {
        d.format("%A %-d %B %Y").to_string()
    }
    fn time(&self, e: &Event) -> String {
        self.shell.tz.hm(&e.at)
    }
    fn tone(&self, e: &Event) -> &'static str {
        match e.tone {
            Tone::Plain => "plain",
            Tone::Attention => "attention",
            Tone::Muted => "muted",
        }
    }
}

/// Which strands a role may see at all.
fn visible(staff: &Staff) -> Vec<Strand> {
    Strand::ALL
        .iter()
        .copied()
        .filter(|s| match s {
            // Sessions and course changes are what the course page shows everyone who reads it.
            // Notes add to these strands only for roles that read notes.
            Strand::Preparation | Strand::Integration | Strand::Other | Strand::Dosing => true,
            Strand::Checkin => staff.may(Action::ReadCheckins),
            Strand::Score => staff.may(Action::ReadResponses),
        })
        .collect()
}

fn strand_of(kind: SessionKind) -> Strand {
    match kind {
        SessionKind::Preparation => Strand::Preparation,
        SessionKind::Dosing => Strand::Dosing,
        SessionKind::Integration => Strand::Integration,
        SessionKind::FollowUp | SessionKind::Reassessment => Strand::Other,
    }
}

pub(super) async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let (filter, problem) = match Filter::parse(
        pairs
            .iter()
            .filter(|(k, _)| k == "show")
            .map(|(_, v)| v.as_str()),
    ) {
        Ok(f) => (f, None),
        Err(e) => (
            Filter::default(),
            Some(format!(
                "{} Showing every strand instead.",
                e.get("show").unwrap_or("That filter cannot be read.")
            )),
        ),
    };
    let clinic = staff.clinic_id();
    let actor = staff.actor();
    let d = st.store.course(&actor, clinic, id).await?;
    let patient = d.course.patient_id;
    let now = kap_store::now();
    let ended = d
        .events
        .iter()
        .filter(|e| matches!(e.status, CourseStatus::Completed | CourseStatus::Stopped))
        .map(|e| e.at)
        .max();
    let window = Window::of_course(d.course.created_at, ended, now);
    let may_dosing = staff.may(Action::ReadDosing);

    let mut events = vec![];
    let sessions = if may_dosing {
        st.store
            .sessions_of_patient(clinic, patient)
            .await?
            .into_iter()
            .filter(|s| s.course_id == d.course.id)
            .collect()
    } else {
        vec![]
    };
    for a in &d.appointments {
        let session = sessions.iter().find(|s| s.appointment_id == a.id);
        let (status, tone) = match a.status {
            AppointmentStatus::Missed | AppointmentStatus::Cancelled => (
                format!(
                    "{}{}",
                    a.status.label(),
                    a.status_reason
                        .as_deref()
                        .map(|r| format!(" — {r}"))
                        .unwrap_or_default()
                ),
                Tone::Muted,
            ),
            _ => match session {
                Some(s) => (s.stage.label().to_owned(), Tone::Plain),
                None => (a.status.label().to_owned(), Tone::Plain),
            },
        };
        // Planned sessions still ahead belong to the plan, not the story so far.
        if a.starts_at > now && session.is_none() && a.status == AppointmentStatus::Planned {
            continue;
        }
        events.push(Event {
            // A session is told when it was opened at the chair; other sessions at their time.
            at: session.map_or(a.starts_at, |s| s.opened_at),
            strand: strand_of(a.kind),
            title: a.title(),
            detail: a.staff_name.as_ref().map(|n| format!("With {n}")),
            status: Some(status),
            tone,
            href: Some(match session {
                Some(s) => format!("/dosing/{}", s.id),
                None => format!("/appointments/{}", a.id),
            }),
        });
    }
    for e in &d.events {
        events.push(Event {
            at: e.at,
            strand: Strand::Other,
            title: format!("Course {}", e.status.label().to_lowercase()),
            detail: e.reason.clone(),
            status: e.by_name.as_ref().map(|n| format!("By {n}")),
            tone: Tone::Plain,
            href: None,
        });
    }
    if staff.may(Action::ReadResponses) {
        let (responses, _) = st.store.responses_of(&actor, clinic, patient).await?;
        let keys: Vec<(&str, chrono::DateTime<chrono::Utc>)> = responses
            .iter()
            .map(|r| (r.instrument.code, r.answered_at))
            .collect();
        for i in timeline::baseline(&keys, window) {
            let r = &responses[i];
            let score = match (r.total, &r.band) {
                (Some(t), Some(b)) => format!("{t} — {b}"),
                (Some(t), None) => t.to_string(),
                (None, _) => r.screen.clone().unwrap_or_else(|| "incomplete".into()),
            };
            events.push(Event {
                at: r.answered_at,
                strand: Strand::Score,
                title: format!("{} {score}", r.instrument.name),
                detail: Some(if r.answered_at < window.from {
                    format!("Before the course · {}", r.context.label())
                } else {
                    r.context.label().to_owned()
                }),
                status: None,
                tone: Tone::Plain,
                href: Some(format!("/patients/{patient}#questionnaires")),
            });
        }
    }
    if staff.may(Action::ReadNotes) {
        // Psychotherapy notes are never among these lines: they are kept apart from the record.
        for n in st
            .store
            .note_lines_of_patient(&actor, clinic, patient)
            .await?
        {
            let ours = match n.course_id {
                Some(c) => c == d.course.id,
                None => window.contains(n.written_at),
            };
            if !ours {
                continue;
            }
            events.push(Event {
                at: n.written_at,
                strand: match n.kind {
                    NoteKind::Preparation => Strand::Preparation,
                    NoteKind::InSession => Strand::Dosing,
                    NoteKind::Integration => Strand::Integration,
                    NoteKind::Progress | NoteKind::Psychotherapy => Strand::Other,
                },
                title: format!("{} by {}", n.kind.label(), n.author_name),
                detail: (!n.summary.is_empty()).then(|| n.summary.clone()),
                status: Some(n.status.label().to_owned()),
                tone: match n.status {
                    NoteStatus::Signed => Tone::Plain,
                    NoteStatus::Draft | NoteStatus::AwaitingCosignature => Tone::Attention,
                },
                href: Some(format!("/notes/{}", n.id)),
            });
        }
    }
    if staff.may(Action::ReadCheckins) {
        for c in st
            .store
            .checkin_lines_of_patient(&actor, clinic, patient)
            .await?
        {
            if !window.contains(c.submitted_at) {
                continue;
            }
            let mut said = vec![];
            if c.side_effects.is_empty() {
                said.push("no side effects".to_owned());
            } else {
                said.push(
                    c.side_effects
                        .iter()
                        .map(|e| e.label().to_lowercase())
                        .collect::<Vec<_>>()
                        .join(", "),
                );
            }
            if let (Some(i), Some(t)) = (c.questionnaire, c.questionnaire_total) {
                said.push(format!("{} {t}", i.name));
            }
            events.push(Event {
                at: c.submitted_at,
                strand: Strand::Checkin,
                title: format!("Check-in · mood {}/10", c.mood.value()),
                detail: Some(said.join(" · ")),
                status: Some(
                    match (c.flagged(), c.seen) {
                        (true, false) => "Flagged, not yet seen",
                        (true, true) => "Flagged, seen",
                        (false, false) => "Not yet seen",
                        (false, true) => "Seen",
                    }
                    .to_owned(),
                ),
                tone: if c.flagged() && !c.seen {
                    Tone::Attention
                } else {
                    Tone::Plain
                },
                href: Some(format!("/checkins/{}", c.id)),
            });
        }
    }
    let visible = visible(&staff);
    events.retain(|e| visible.contains(&e.strand));
    let counts = timeline::counts(&events);
    let strands = visible
        .iter()
        .map(|s| {
            let n = counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n);
            (*s, filter.shows(*s), n)
        })
        .collect();
    let days = timeline::arrange(events, &filter, staff.tz);
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(
        &TimelinePage {
            shell: Shell::staff(
                &staff,
                format!("Timeline · {}", d.course.protocol_title),
                "patients",
            ),
            d,
            days,
            strands,
            problem,
        },
        status,
    ))
}
