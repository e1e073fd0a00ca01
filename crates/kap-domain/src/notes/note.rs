//! A note and what may happen to it. A draft belongs to its author: only they edit it, add
//! observations to it, sign it or discard it. Signing fixes the content with a SHA-256 hash
//! over its canonical bytes ([`Note::content_hash`]); from then on the note never changes —
//! corrections and additions are addenda, appended in order. A note written by a supervised
//! clinician names its supervisor when signed, and waits for their co-signature, which only
//! that supervisor gives, once. Every rule is a method that changes the note only when it
//! allows the change, so the store applies exactly what the domain decided.

use super::content::{TimedObservation, parse_observation, put};
use super::{NoteContent, NoteKind, NoteStatus, long_text, short_text};
use crate::FieldErrors;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The longest reason for an addendum, in characters.
pub const ADDENDUM_REASON_MAX: usize = 500;

/// A staff member as a note names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clinician {
    pub id: Uuid,
    pub name: String,
}

/// The author's signature: when, and the hash of what was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub at: DateTime<Utc>,
    pub content_hash: String,
}

/// The supervisor's co-signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoSignature {
    pub by: Clinician,
    pub at: DateTime<Utc>,
}

/// A correction or addition to a signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addendum {
    pub id: Uuid,
    pub reason: String,
    pub text: String,
    pub by: Clinician,
    pub at: DateTime<Utc>,
}

/// One note, whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: NoteKind,
    pub author: Clinician,
    /// The course appointment it was written for (preparation, integration, or the dosing
    /// appointment of an in-session note).
    pub appointment_id: Option<Uuid>,
    /// The dosing session of an in-session note.
    pub dosing_session_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
    /// The version of the clinic's template for this kind it was written with.
    pub template_version: i32,
    pub content: NoteContent,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub signature: Option<NoteSignature>,
    /// Who must co-sign it (named when it was signed, for a supervised author).
    pub cosigner: Option<Clinician>,
    pub cosignature: Option<CoSignature>,
    pub addenda: Vec<Addendum>,
    /// A draft its author threw away (kept, never shown as a note).
    pub discarded_at: Option<DateTime<Utc>>,
}

/// Why a change to a note was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteRefused {
    /// Only the author edits, signs or discards a draft.
    #[error("this note is {author}'s: only its author may {what}")]
    NotAuthor { author: String, what: &'static str },
    /// A signed note never changes.
    #[error("this note is signed and locked: add an addendum instead")]
    Signed,
    /// Addenda and co-signatures are for signed notes.
    #[error("this note is still a draft")]
    Draft,
    /// The draft was discarded.
    #[error("this draft was discarded")]
    Discarded,
    /// Something must be written before signing (each problem by its field).
    #[error("the note cannot be signed yet: {0}")]
    Incomplete(FieldErrors),
    /// What was typed does not hold (each problem by its field).
    #[error("nothing was saved: {0}")]
    Invalid(FieldErrors),
    /// Only the named supervisor co-signs.
    #[error("only {supervisor}, who supervises its author, may co-sign this note")]
    NotTheSupervisor { supervisor: String },
    /// The note needs no co-signature (its author is not supervised, or it is a psychotherapy
    /// note).
    #[error("this note needs no co-signature")]
    NoCosignatureNeeded,
    #[error("this note is co-signed already")]
    AlreadyCosigned,
    /// Observations belong to in-session notes.
    #[error("only an in-session note takes time-stamped observations")]
    NotInSession,
    /// Psychotherapy notes stay with their author: shared, never addended by others.
    #[error("only the author adds to a psychotherapy note")]
    PsychotherapyAuthorOnly,
    /// A clinician may not be supervised by themself, nor share a note with themself.
    #[error("{0}")]
    Rule(String),
}

impl Note {
    /// Where the note stands.
    pub fn status(&self) -> NoteStatus {
        match (&self.signature, &self.cosigner, &self.cosignature) {
            (None, ..) => NoteStatus::Draft,
            (Some(_), Some(_), None) => NoteStatus::AwaitingCosignature,
            (Some(_), ..) => NoteStatus::Signed,
        }
    }

    pub fn signed(&self) -> bool {
        self.signature.is_some()
    }

    pub fn is_author(&self, who: Uuid) -> bool {
        self.author.id == who
    }

    /// Whether `who` may still change this draft (or why not).
    fn draft_of(&self, who: Uuid, what: &'static str) -> Result<(), NoteRefused> {
        if self.discarded_at.is_some() {
            return Err(NoteRefused::Discarded);
        }
        if self.signed() {
            return Err(NoteRefused::Signed);
        }
        if !self.is_author(who) {
            return Err(NoteRefused::NotAuthor {
                author: self.author.name.clone(),
                what,
            });
        }
        Ok(())
    }

    /// Whether `who` may edit the draft now.
    pub fn may_edit(&self, who: Uuid) -> bool {
        self.draft_of(who, "edit it").is_ok()
    }

    /// Saves the author's new content of a draft (the session's observations are kept as they
    /// were: they are added one by one).
    pub fn edit(
        &mut self,
        who: Uuid,
        content: NoteContent,
        now: DateTime<Utc>,
    ) -> Result<(), NoteRefused> {
        self.draft_of(who, "edit it")?;
        let observations = std::mem::take(&mut self.content.observations);
        self.content = NoteContent {
            observations,
            ..content
        };
        self.updated_at = now;
        Ok(())
    }

    /// Adds the author's time-stamped observation to an in-session draft (kept in time order).
    pub fn observe(
        &mut self,
        who: Uuid,
        text: &str,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<TimedObservation, NoteRefused> {
        if self.kind != NoteKind::InSession {
            return Err(NoteRefused::NotInSession);
        }
        self.draft_of(who, "add to it")?;
        let o = parse_observation(text, at, now).map_err(NoteRefused::Invalid)?;
        let i = self.content.observations.partition_point(|x| x.at <= o.at);
        self.content.observations.insert(i, o.clone());
        self.updated_at = now;
        Ok(o)
    }

    /// The author throws the draft away.
    pub fn discard(&mut self, who: Uuid, now: DateTime<Utc>) -> Result<(), NoteRefused> {
        self.draft_of(who, "discard it")?;
        self.discarded_at = Some(now);
        Ok(())
    }

    /// The author signs: the note must be complete; its content is hashed and locked. A
    /// supervised author's note names `supervisor` as the one who must co-sign (never for a
    /// psychotherapy note, which no one else reads unless shared).
    pub fn sign(
        &mut self,
        who: Uuid,
        supervisor: Option<Clinician>,
        now: DateTime<Utc>,
    ) -> Result<(), NoteRefused> {
        self.draft_of(who, "sign it")?;
        let missing = self.content.missing_for_signing(self.kind);
        if !missing.is_empty() {
            return Err(NoteRefused::Incomplete(missing));
        }
        if let Some(s) = &supervisor
            && s.id == who
        {
            return Err(NoteRefused::Rule(
                "A clinician cannot be their own supervisor.".into(),
            ));
        }
        self.cosigner = if self.kind.is_psychotherapy() {
            None
        } else {
            supervisor
        };
        self.updated_at = now;
        self.signature = Some(NoteSignature {
            at: now,
            content_hash: self.content_hash_at(now),
        });
        Ok(())
    }

    /// The supervisor named at signing co-signs, once.
    pub fn cosign(&mut self, who: &Clinician, now: DateTime<Utc>) -> Result<(), NoteRefused> {
        if self.discarded_at.is_some() {
            return Err(NoteRefused::Discarded);
        }
        if !self.signed() {
            return Err(NoteRefused::Draft);
        }
        let Some(cosigner) = &self.cosigner else {
            return Err(NoteRefused::NoCosignatureNeeded);
        };
        if self.cosignature.is_some() {
            return Err(NoteRefused::AlreadyCosigned);
        }
        if cosigner.id != who.id {
            return Err(NoteRefused::NotTheSupervisor {
                supervisor: cosigner.name.clone(),
            });
        }
        self.cosignature = Some(CoSignature {
            by: who.clone(),
            at: now,
        });
        Ok(())
    }

    /// Appends an addendum to a signed note (a psychotherapy note's only by its author).
    pub fn add_addendum(
        &mut self,
        id: Uuid,
        by: &Clinician,
        reason: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Addendum, NoteRefused> {
        if self.discarded_at.is_some() {
            return Err(NoteRefused::Discarded);
        }
        if !self.signed() {
            return Err(NoteRefused::Draft);
        }
        if self.kind.is_psychotherapy() && !self.is_author(by.id) {
            return Err(NoteRefused::PsychotherapyAuthorOnly);
        }
        let mut e = FieldErrors::new();
        let reason = match short_text(reason, ADDENDUM_REASON_MAX) {
            Ok(r) if r.is_empty() => {
                e.add("reason", "Say why the addendum is written.");
                String::new()
            }
            Ok(r) => r,
            Err(m) => {
                e.add("reason", m);
                String::new()
            }
        };
        let text = match long_text(text) {
            Ok(t) if t.is_empty() => {
                e.add("text", "Write the addendum.");
                String::new()
            }
            Ok(t) => t,
            Err(m) => {
                e.add("text", m);
                String::new()
            }
        };
        if !e.is_empty() {
            return Err(NoteRefused::Invalid(e));
        }
        // Addenda are kept in the order they were written; a clock that went backwards still
        // appends.
        let at = self.addenda.last().map_or(now, |a| a.at.max(now));
        let a = Addendum {
            id,
            reason,
            text,
            by: by.clone(),
            at,
        };
        self.addenda.push(a.clone());
        Ok(a)
    }

    /// SHA-256 (hex) of the note as signed at `signed_at`: who wrote it about whom, for which
    /// session, under which template version, and every word of its content.
    pub fn content_hash_at(&self, signed_at: DateTime<Utc>) -> String {
        hex::encode(Sha256::digest(self.canonical(signed_at)))
    }

    /// The bytes the signature hashes.
    pub fn canonical(&self, signed_at: DateTime<Utc>) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        let u = |x: Option<Uuid>| x.map(|u| u.to_string());
        put(&mut out, Some("kapstone-note-v1"));
        put(&mut out, Some(&self.id.to_string()));
        put(&mut out, Some(&self.patient_id.to_string()));
        put(&mut out, Some(self.kind.as_str()));
        put(&mut out, Some(&self.author.id.to_string()));
        put(&mut out, u(self.appointment_id).as_deref());
        put(&mut out, u(self.dosing_session_id).as_deref());
        put(&mut out, u(self.course_id).as_deref());
        put(&mut out, Some(&self.template_version.to_string()));
        put(&mut out, Some(&crate::audit::canonical_time(signed_at)));
        self.content.canonical(self.kind, &mut out);
        out
    }

    /// Whether the stored hash matches the note as it is now (none for a draft).
    pub fn verify(&self) -> Option<bool> {
        self.signature
            .as_ref()
            .map(|s| self.content_hash_at(s.at) == s.content_hash)
    }

    /// One line for lists.
    pub fn summary(&self) -> String {
        self.content.summary(self.kind)
    }
}
