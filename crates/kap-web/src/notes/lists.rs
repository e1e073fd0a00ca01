//! The lists of notes: the chart's notes panel, the home page's items (my overdue drafts, notes
//! awaiting my co-signature; for administrators, where the notes settings are), and the page of
//! unsigned notes.
//!
//! Who sees whose unsigned notes: each clinician sees their own; prescribers see every
//! clinician's too, because they lead the care, co-sign and answer for the record being
//! complete — a therapist or nurse does not oversee their peers. Administrators see, on the
//! notes settings page, how many notes each clinician has unsigned and overdue — names and
//! numbers only, no patient and no note: they hold no clinical role. Psychotherapy notes are
//! counted and listed for their author alone.

use super::page::choices;
use crate::AppState;
use crate::http::Staff;
use crate::http::error::AppResult;
use crate::http::sections::{Returned, SectionFuture};
use crate::http::view::{Shell, fragment, render};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::notes::NoteKind;
use kap_domain::permission::{Action, Role};
use kap_domain::time::TimeZone;
use kap_store::notes::{NoteLine, UnsignedNote};
use uuid::Uuid;

#[derive(Template)]
#[template(path = "notes/_chart.html")]
struct Panel {
    record: Vec<NoteLine>,
    psychotherapy: Vec<NoteLine>,
    me: Uuid,
    write: Vec<(String, String)>,
    tz: TimeZone,
}

impl Panel {
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        self.tz.format(t)
    }
    fn mine(&self, n: &NoteLine) -> bool {
        n.author_id == self.me
    }
}

/// The chart's notes panel, for roles that read notes: the record's notes newest first, and
/// the psychotherapy notes this person wrote or was given to read (no one else sees those, nor
/// that they exist).
pub fn section<'a>(
    st: &'a AppState,
    staff: &'a Staff,
    patient: Option<Uuid>,
    _returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move {
        let Some(patient) = patient else {
            return Ok(None);
        };
        if !staff.may(Action::ReadNotes) {
            return Ok(None);
        }
        let (record, psychotherapy) = st
            .store
            .notes_of_patient(&staff.actor(), staff.clinic_id(), patient)
            .await?;
        fragment(&Panel {
            record,
            psychotherapy,
            me: staff.staff_id(),
            write: choices(staff.role(), patient),
            tz: staff.tz,
        })
        .map(Some)
    })
}

#[derive(Template)]
#[template(path = "notes/_home.html")]
struct Home {
    overdue: Vec<UnsignedNote>,
    drafts: usize,
    limit: u32,
    awaiting: Vec<UnsignedNote>,
    admin: bool,
    tz: TimeZone,
}

impl Home {
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        self.tz.format(t)
    }
}

/// The home page's notes items: for clinicians, their drafts unsigned beyond the clinic's
/// limit and the notes waiting for their co-signature; for administrators, the way to the note
/// templates and the notes settings.
pub fn home_section<'a>(
    st: &'a AppState,
    staff: &'a Staff,
    _patient: Option<Uuid>,
    _returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move {
        let admin = staff.may(Action::ManageNoteTemplates);
        if !staff.may(Action::ReadNotes) {
            if admin {
                return fragment(&Home {
                    overdue: vec![],
                    drafts: 0,
                    limit: 0,
                    awaiting: vec![],
                    admin,
                    tz: staff.tz,
                })
                .map(Some);
            }
            return Ok(None);
        }
        let (actor, clinic) = (staff.actor(), staff.clinic_id());
        let (settings, mine) = st
            .store
            .unsigned_notes(&actor, clinic, false, kap_store::now())
            .await?;
        let awaiting = st.store.awaiting_my_cosignature(&actor, clinic).await?;
        let drafts = mine.len();
        let overdue: Vec<UnsignedNote> = mine.into_iter().filter(|n| n.overdue).collect();
        if overdue.is_empty() && awaiting.is_empty() && drafts == 0 {
            return Ok(None);
        }
        fragment(&Home {
            overdue,
            drafts,
            limit: settings.unsigned_after_hours,
            awaiting,
            admin,
            tz: staff.tz,
        })
        .map(Some)
    })
}

#[derive(Template)]
#[template(path = "notes/unsigned.html")]
struct UnsignedPage {
    shell: Shell,
    limit: u32,
    mine: Vec<UnsignedNote>,
    /// Everyone's, by clinician (prescribers only).
    others: Vec<(String, Vec<UnsignedNote>)>,
    everyone: bool,
    awaiting: Vec<UnsignedNote>,
}

impl UnsignedPage {
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        self.shell.when(t)
    }
    fn kind(&self, k: &NoteKind) -> &'static str {
        k.label()
    }
}

/// Unsigned notes: mine (overdue first), notes waiting for my co-signature, and — for
/// prescribers — every clinician's, by clinician.
pub(super) async fn unsigned(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    let everyone = staff.role() == Role::Prescriber;
    let (actor, clinic) = (staff.actor(), staff.clinic_id());
    let (settings, all) = st
        .store
        .unsigned_notes(&actor, clinic, everyone, kap_store::now())
        .await?;
    let awaiting = st.store.awaiting_my_cosignature(&actor, clinic).await?;
    let me = staff.staff_id();
    let (mut mine, theirs): (Vec<UnsignedNote>, Vec<UnsignedNote>) =
        all.into_iter().partition(|n| n.author_id == me);
    mine.sort_by_key(|n| (!n.overdue, n.created_at));
    let mut others: Vec<(String, Vec<UnsignedNote>)> = vec![];
    for n in theirs {
        match others.iter_mut().find(|(name, _)| *name == n.author_name) {
            Some((_, v)) => v.push(n),
            None => others.push((n.author_name.clone(), vec![n])),
        }
    }
    others.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(render(
        &UnsignedPage {
            shell: Shell::staff(&staff, "Unsigned notes", "home"),
            limit: settings.unsigned_after_hours,
            mine,
            others,
            everyone,
            awaiting,
        },
        StatusCode::OK,
    ))
}
