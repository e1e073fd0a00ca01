//! Who writes which kind of note, and who may see a psychotherapy note at all.
//!
//! The permission table says which roles read and write notes; this adds what the table cannot
//! say. Preparation, in-session and integration notes are the therapy itself: therapists write
//! them, and prescribers who also do the therapy (design §2); a nurse's observations at the
//! chair go on the flowsheet, and nurses write progress notes. Psychotherapy notes are written
//! by the roles allowed to write them and are never reached by role: only their author and the
//! clinicians the author named may see one — and not through the API, whose tokens feed other
//! systems (a psychotherapy note leaves Kapstone only with the patient's specific
//! authorisation, which is not an API call).

use super::NoteKind;
use crate::audit::ActorKind;
use crate::permission::{Action, Role, allows};
use uuid::Uuid;

/// Whether `role` writes notes of `kind`.
pub fn may_write(role: Role, kind: NoteKind) -> bool {
    match kind {
        NoteKind::Psychotherapy => allows(role, Action::WritePsychotherapyNotes),
        NoteKind::Progress => allows(role, Action::WriteNotes),
        NoteKind::Preparation | NoteKind::InSession | NoteKind::Integration => {
            allows(role, Action::WriteNotes) && matches!(role, Role::Therapist | Role::Prescriber)
        }
    }
}

/// The kinds `role` writes, in the order a chart offers them.
pub fn kinds_written_by(role: Role) -> Vec<NoteKind> {
    NoteKind::ALL
        .into_iter()
        .filter(|k| may_write(role, *k))
        .collect()
}

/// Whether a viewer sees a psychotherapy note (or learns that it exists): its author or a
/// clinician it is shared with, in a browser — never by API token.
pub fn may_see_psychotherapy(
    viewer: Uuid,
    how: ActorKind,
    author: Uuid,
    shared_with: &[Uuid],
) -> bool {
    how == ActorKind::Staff && (viewer == author || shared_with.contains(&viewer))
}

/// Whether a clinician of `role` may be given a psychotherapy note to read: prescribers,
/// nurses and therapists of the same clinic (the store checks the clinic), never the author.
pub fn may_receive_share(author: Uuid, grantee: Uuid, role: Role) -> Result<(), String> {
    if grantee == author {
        return Err("You are the author; the note is yours already.".into());
    }
    if !matches!(role, Role::Prescriber | Role::Nurse | Role::Therapist) {
        return Err(format!(
            "A psychotherapy note is shared only with a clinician (prescriber, nurse or therapist), not with a{} {}.",
            if role == Role::Admin { "n" } else { "" },
            role.label().to_lowercase()
        ));
    }
    Ok(())
}
