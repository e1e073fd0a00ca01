//! Therapy notes: preparation, in-session, integration and progress notes with their templates,
//! psychotherapy notes kept apart, draft → signed with a content hash, addenda, co-signature,
//! and the intentions and commitments a course carries from note to note.
//!
//! - [`content`]: what a note holds (sections of text, the therapist's time-stamped
//!   observations, commitments, the four domains), the form it is typed in, and the canonical
//!   bytes its signature hashes;
//! - [`note`]: the note itself and its rules — only the author edits, signs or discards a draft;
//!   a signed note never changes; addenda only append; a supervised clinician's note waits for
//!   its supervisor's co-signature, given once;
//! - [`template`]: the clinic's headings, prompts and default texts per kind, versioned;
//! - [`settings`]: the clinic's notes policy (unsigned notes older than N hours) and who is
//!   supervised by whom;
//! - [`access`]: who writes which kind, and who may see a psychotherapy note at all;
//! - [`commitment`]: commitments made in integration, and their reviews at later sessions.

pub mod access;
pub mod commitment;
pub mod content;
pub mod note;
pub mod settings;
pub mod template;

#[cfg(test)]
mod tests;

pub use commitment::{Commitment, CommitmentReview, CommitmentStatus};
pub use content::{
    Domain, DomainObservation, Level, NoteContent, NoteForm, PlannedCommitment, ProgressFormat,
    Section, TimedObservation,
};
pub use note::{Addendum, Clinician, CoSignature, Note, NoteRefused, NoteSignature};
pub use settings::{NotesSettings, Supervision};
pub use template::{NoteTemplate, SectionTemplate};

/// The longest text one free-text field may hold — each section of a note, an addendum, a
/// check-in's reflection or journal entry, a care-team message — counted in characters
/// (Unicode scalar values, after line endings are normalised), not bytes. Text beyond it is
/// refused with a message naming this limit, never truncated: a clinical record keeps what was
/// written or nothing. Twenty thousand characters is about eight pages of prose, far more than
/// one section of a note needs, and small enough that a page holding several such fields stays
/// quick to render.
pub const LONG_TEXT_MAX: usize = 20_000;

/// Checks one free-text field against [`LONG_TEXT_MAX`]: the text with Windows line endings
/// made `\n` and surrounding blank space removed, or the message to show next to the field.
pub fn long_text(text: &str) -> Result<String, String> {
    short_text(text, LONG_TEXT_MAX)
}

/// Checks a text field against `max` characters, as [`long_text`] does.
pub fn short_text(text: &str, max: usize) -> Result<String, String> {
    let t = text.replace("\r\n", "\n").replace('\r', "\n");
    let t = t.trim();
    let n = t.chars().count();
    if n > max {
        return Err(format!(
            "This text is {} characters long; the limit is {} characters. Nothing was saved: shorten it{}.",
            grouped(n),
            grouped(max),
            if max == LONG_TEXT_MAX {
                " (or continue in an addendum once the note is signed)"
            } else {
                ""
            }
        ));
    }
    Ok(t.to_owned())
}

/// 20000 → "20,000".
fn grouped(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

crate::code::coded_enum! {
    /// What a note is for. Psychotherapy notes are kept apart from the record (their own
    /// tables, their own access rule).
    pub enum NoteKind as "note kind" {
        Preparation = "preparation" / "Preparation note",
        InSession = "in_session" / "In-session note",
        Integration = "integration" / "Integration note",
        Progress = "progress" / "Progress note",
        Psychotherapy = "psychotherapy" / "Psychotherapy note",
    }
}

impl NoteKind {
    /// Whether notes of this kind are psychotherapy notes (kept apart from the record).
    pub fn is_psychotherapy(self) -> bool {
        self == NoteKind::Psychotherapy
    }

    /// The kind of course appointment a note of this kind may be written for, if any.
    pub fn session_kind(self) -> Option<crate::protocol::SessionKind> {
        use crate::protocol::SessionKind;
        match self {
            NoteKind::Preparation => Some(SessionKind::Preparation),
            NoteKind::InSession => Some(SessionKind::Dosing),
            NoteKind::Integration => Some(SessionKind::Integration),
            NoteKind::Progress | NoteKind::Psychotherapy => None,
        }
    }

    /// "a preparation note".
    pub fn a(self) -> String {
        let l = self.label().to_lowercase();
        if l.starts_with(['a', 'e', 'i', 'o', 'u']) {
            format!("an {l}")
        } else {
            format!("a {l}")
        }
    }
}

crate::code::coded_enum! {
    /// Where a note stands.
    pub enum NoteStatus as "note status" {
        Draft = "draft" / "Draft",
        AwaitingCosignature = "awaiting_cosignature" / "Signed, awaiting co-signature",
        Signed = "signed" / "Signed",
    }
}

#[cfg(test)]
mod limit_tests {
    use super::*;

    #[test]
    fn text_at_the_limit_is_kept_whole_and_one_more_character_is_refused_naming_the_limit() {
        let at = "é".repeat(LONG_TEXT_MAX);
        assert_eq!(long_text(&at).map(|t| t.chars().count()), Ok(LONG_TEXT_MAX));
        let over = format!("{at}x");
        let e = long_text(&over).err().unwrap_or_default();
        assert!(e.contains("20,000 characters"), "{e}");
        assert!(e.contains("20,001"), "{e}");
        assert!(e.contains("Nothing was saved"), "{e}");
    }

    #[test]
    fn line_endings_are_normalised_before_counting() {
        assert_eq!(long_text(" a\r\nb\rc \n").as_deref(), Ok("a\nb\nc"));
        let crlf = "ab\r\n".repeat(LONG_TEXT_MAX / 3);
        assert!(long_text(&crlf).is_ok(), "CRLF counted once per line end");
    }

    #[test]
    fn grouping_reads_like_a_number() {
        assert_eq!(grouped(7), "7");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(20_000), "20,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
