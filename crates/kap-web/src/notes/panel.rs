//! What the dosing session page shows of the notes, so that everyone at the chair — and the
//! prescriber before the dose decision — sees the therapy beside the flowsheet: the intention
//! the patient set in preparation, the commitments still carried from integration with their
//! status, the therapist's latest observations in the four ways KAP may help, and the
//! in-session notes of this session, with a form for the therapist's time-stamped observations.

use super::page::time_of;
use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppResult, conflict_words};
use crate::http::extract::{Fields, field, parse_id, see_other};
use crate::http::view::{Shell, fragment, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::notes::access::may_write;
use kap_domain::notes::{CommitmentStatus, NoteKind, NoteRefused, NoteStatus};
use kap_domain::permission::Action;
use kap_store::{Conflict, StoreError};
use uuid::Uuid;

/// An in-session note as the panel shows it.
struct InSession {
    id: Uuid,
    author: String,
    status: NoteStatus,
    observations: Vec<(String, String)>,
    summary: String,
}

#[derive(Template)]
#[template(path = "notes/_dosing.html")]
struct Panel {
    session: Uuid,
    csrf: String,
    intention: Option<String>,
    intention_note: Option<Uuid>,
    /// (text, follow-up, status, latest review)
    commitments: Vec<(String, String, CommitmentStatus, String)>,
    integration: Option<(Uuid, String)>,
    domains: Vec<(&'static str, &'static str, String)>,
    in_session: Vec<InSession>,
    may_observe: bool,
}

/// The panel for the dosing session `session` of `patient`, for roles that read notes.
pub(crate) async fn dosing_panel(
    st: &AppState,
    staff: &Staff,
    patient: Uuid,
    session: Uuid,
) -> AppResult<Option<String>> {
    if !staff.may(Action::ReadNotes) {
        return Ok(None);
    }
    let d = st
        .store
        .dosing_notes(&staff.actor(), staff.clinic_id(), patient, session)
        .await?;
    let tz = staff.tz;
    let me = staff.staff_id();
    let mine_signed = d.in_session.iter().any(|n| n.is_author(me) && n.signed());
    let (integration, domains) = match &d.integration {
        Some(n) => (
            Some((
                n.id,
                format!(
                    "{}, signed {}",
                    n.author.name,
                    n.signature
                        .as_ref()
                        .map_or(String::new(), |s| tz.format(&s.at))
                ),
            )),
            n.content
                .domains
                .iter()
                .map(|x| (x.domain.label(), x.level.label(), x.text.clone()))
                .collect(),
        ),
        None => (None, vec![]),
    };
    fragment(&Panel {
        session,
        csrf: staff.csrf_token().to_owned(),
        intention: d.intention,
        intention_note: d.intention_note,
        commitments: d
            .commitments
            .iter()
            .map(|c| {
                (
                    c.text.clone(),
                    c.follow_up.to_string(),
                    c.status(),
                    c.latest()
                        .map(|r| {
                            if r.note.is_empty() {
                                format!("reviewed by {}", r.by_name)
                            } else {
                                format!("{} ({})", r.note, r.by_name)
                            }
                        })
                        .unwrap_or_default(),
                )
            })
            .collect(),
        integration,
        domains,
        in_session: d
            .in_session
            .iter()
            .map(|n| InSession {
                id: n.id,
                author: n.author.name.clone(),
                status: n.status(),
                observations: n
                    .content
                    .observations
                    .iter()
                    .map(|o| (tz.hm(&o.at), o.text.clone()))
                    .collect(),
                summary: n.summary(),
            })
            .collect(),
        may_observe: staff.kind == kap_domain::audit::ActorKind::Staff
            && may_write(staff.role(), NoteKind::InSession)
            && !mine_signed,
    })
    .map(Some)
}

#[derive(Template)]
#[template(path = "notes/observe.html")]
struct ObservePage {
    shell: Shell,
    session: Uuid,
    text: String,
    at: String,
    problem: String,
    errors: FieldErrors,
}

/// A therapist's observation from the dosing session's page: added to their in-session note of
/// the session (started on the first one). Refused ones come back on a page of their own, as
/// typed.
pub(super) async fn observe(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let session = parse_id(&id)?;
    super::page::check_writes(&staff, NoteKind::InSession)?;
    let mut e = FieldErrors::new();
    let at = time_of(staff.tz, field(&f, "at"), &mut e);
    let r = if e.is_empty() {
        st.store
            .observe_in_session(
                &staff.actor(),
                staff.clinic_id(),
                session,
                field(&f, "text"),
                at,
                kap_store::now(),
            )
            .await
    } else {
        Err(StoreError::Conflict(Conflict::Note(NoteRefused::Invalid(
            e,
        ))))
    };
    let (problem, errors, status) = match r {
        Ok(_) => {
            return Ok(see_other(&format!(
                "/dosing/{session}?notice=dosing-saved#therapy-notes"
            )));
        }
        Err(StoreError::Conflict(Conflict::Note(NoteRefused::Invalid(e)))) => (
            super::refusal_words(&NoteRefused::Invalid(e.clone())),
            e,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(StoreError::Conflict(c)) => {
            (conflict_words(&c), FieldErrors::new(), StatusCode::CONFLICT)
        }
        Err(e) => return Err(e.into()),
    };
    Ok(render(
        &ObservePage {
            shell: Shell::staff(&staff, "Add an observation", "calendar"),
            session,
            text: field(&f, "text").to_owned(),
            at: field(&f, "at").to_owned(),
            problem,
            errors,
        },
        status,
    ))
}
