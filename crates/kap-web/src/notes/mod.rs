//! Therapy notes: writing, signing, addenda, co-signature, psychotherapy notes and their grants,
//! templates; the notes API.
//!
//! - [`page`]: the note's page (a draft is edited there by its author; a signed note is read,
//!   with its hash, addenda, co-signature and — for psychotherapy notes — who may read it), the
//!   new-note form, and every form posted from them;
//! - [`lists`]: the chart's notes panel, the home page's items (overdue drafts, notes awaiting
//!   my co-signature) and the unsigned-notes page;
//! - [`panel`]: what the dosing session page shows of the notes, and the therapist's
//!   observation form there;
//! - [`admin`]: the clinic's note templates and notes settings;
//! - [`api`]: the notes API.

mod admin;
mod api;
mod lists;
mod page;
mod panel;

pub use lists::{home_section, section};
pub(crate) use panel::dosing_panel;

use crate::AppState;
use crate::http::Access::Needs;
use crate::http::Routes;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use kap_domain::notes::NoteRefused;
use kap_domain::permission::Action::{
    ManageClinic, ManageNoteTemplates, ReadNotes, WriteNotes, WritePsychotherapyNotes,
};
use utoipa_axum::routes;

/// The largest note form accepted. A note has up to a dozen free-text fields of up to
/// `LONG_TEXT_MAX` (20,000) characters each; urlencoded, plain text takes a little over a byte
/// a character and accented text up to nine, so the clinic-wide 64 KiB would refuse a long but
/// valid note with a bare "too large". One MiB lets every field reach its limit in ordinary
/// prose, so an over-long field is refused by name with its limit; anything larger still meets
/// the calm "too much at once" page.
pub const NOTE_FORM_LIMIT: usize = 1024 * 1024;

/// A note form's handler, with the larger body limit.
fn big<H, T>(h: H) -> impl Handler<T, AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    h.layer(DefaultBodyLimit::max(NOTE_FORM_LIMIT))
}

pub fn router() -> Routes {
    Routes::new()
        .get(
            "/patients/{id}/notes/new",
            Needs(WriteNotes),
            page::new_form,
        )
        .post("/patients/{id}/notes", Needs(WriteNotes), big(page::create))
        .get("/notes/unsigned", Needs(ReadNotes), lists::unsigned)
        .get("/notes/{id}", Needs(ReadNotes), page::show)
        .post("/notes/{id}", Needs(WriteNotes), big(page::save))
        .post("/notes/{id}/sign", Needs(WriteNotes), page::sign)
        .post("/notes/{id}/discard", Needs(WriteNotes), page::discard)
        .post("/notes/{id}/cosign", Needs(WriteNotes), page::cosign)
        .post(
            "/notes/{id}/addenda",
            Needs(WriteNotes),
            big(page::addendum),
        )
        .post(
            "/notes/{id}/observations",
            Needs(WriteNotes),
            big(page::observation),
        )
        .post(
            "/notes/{id}/shares",
            Needs(WritePsychotherapyNotes),
            page::share,
        )
        .post("/commitments/{id}/reviews", Needs(WriteNotes), page::review)
        .post(
            "/dosing/{id}/note-observations",
            Needs(WriteNotes),
            big(panel::observe),
        )
        .get(
            "/admin/note-templates",
            Needs(ManageNoteTemplates),
            admin::templates,
        )
        .get(
            "/admin/note-templates/{kind}",
            Needs(ManageNoteTemplates),
            admin::template,
        )
        .post(
            "/admin/note-templates/{kind}",
            Needs(ManageNoteTemplates),
            big(admin::save_template),
        )
        .get("/admin/notes", Needs(ManageClinic), admin::settings)
        .post("/admin/notes", Needs(ManageClinic), admin::save_settings)
        .api(ReadNotes, routes!(api::patient_notes))
        .api(ReadNotes, routes!(api::note))
}

/// The words people read when the notes rules refuse a change.
pub(crate) fn refusal_words(r: &NoteRefused) -> String {
    match r {
        NoteRefused::NotAuthor { author, what } => format!(
            "This note is {author}'s: only its author may {what}. Nothing was changed. To add to a signed note, write an addendum."
        ),
        NoteRefused::Signed => {
            "This note is signed and locked: nothing in it changes. Write an addendum instead."
                .into()
        }
        NoteRefused::Draft => {
            "This note is still a draft: its author edits it; addenda and co-signatures come after signing.".into()
        }
        NoteRefused::Discarded => "This draft was discarded.".into(),
        NoteRefused::Incomplete(e) | NoteRefused::Invalid(e) => {
            let words: Vec<&str> = e.iter().map(|x| x.message.as_str()).collect();
            format!("Nothing was saved. {}", words.join(" "))
        }
        NoteRefused::NotTheSupervisor { supervisor } => format!(
            "Only {supervisor}, who supervises the note's author, may co-sign it. Nothing was changed."
        ),
        NoteRefused::NoCosignatureNeeded => "This note needs no co-signature.".into(),
        NoteRefused::AlreadyCosigned => "This note is co-signed already.".into(),
        NoteRefused::NotInSession => {
            "Only an in-session note takes time-stamped observations.".into()
        }
        NoteRefused::PsychotherapyAuthorOnly => {
            "Only its author adds to a psychotherapy note.".into()
        }
        NoteRefused::Rule(m) => m.clone(),
    }
}
