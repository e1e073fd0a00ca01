//! Therapy notes on disk: notes and psychotherapy notes (each in tables of their own), their
//! addenda, co-signatures, psychotherapy-note shares, the commitments signed integration notes
//! make and their reviews, and the clinic's templates and notes settings.
//!
//! Every write opens an audited transaction, loads the whole note (on PostgreSQL under its row
//! lock), asks the domain (`kap_domain::notes::Note`) whether the change is allowed, and writes
//! exactly what the domain changed. Triggers on both databases refuse any change to a signed
//! note, and any change or deletion of addenda, co-signatures, commitments, reviews and shares.
//!
//! Psychotherapy notes are read only through [`Store::note`] (for their author and the clinicians
//! they are shared with, in a browser) and the chart's list for the same people; nothing that
//! feeds the record — the course timeline ([`Store::note_lines_of_patient`]), the API, exports —
//! reads their tables. Their audit rows carry the note's id, never a word of it. A refused read
//! leaves an access-refused audit row and answers "not found", exactly as for a note that does
//! not exist.

mod commitments;
mod read;
mod setup;
mod write;

pub use read::{DosingNotes, NotePlaces, UnsignedNote};
pub use setup::TemplateVersion;

use crate::db::{Tx, fetch_all, fetch_opt};
use crate::error::{Result, StoreError, code, field};
use chrono::{DateTime, Utc};
use kap_domain::notes::{
    Addendum, Clinician, CoSignature, Commitment, Note, NoteContent, NoteKind, NoteSignature,
    NoteStatus, NoteTemplate,
};
use kap_domain::protocol::SessionKind;
use uuid::Uuid;

/// Where a read runs: straight on the pool (a list for a page, no transaction and no writer
/// lock), or inside an open transaction.
pub(crate) enum Src<'a> {
    Db(&'a crate::Db),
    Tx(&'a mut Tx),
}

/// Runs one of the store's query macros (`fetch_all`, `fetch_opt`, …) on a [`Src`].
macro_rules! src {
    ($s:expr, $m:ident, $($rest:tt)*) => {
        match $s {
            $crate::notes::Src::Db(d) => $m!(db(*d), $($rest)*),
            $crate::notes::Src::Tx(t) => $m!(tx(&mut **t), $($rest)*),
        }
    };
}
pub(crate) use src;

/// Which tables a note lives in: the record's, or the psychotherapy notes' own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Book {
    Record,
    Psychotherapy,
}

impl Book {
    pub(crate) fn of(kind: NoteKind) -> Book {
        if kind.is_psychotherapy() {
            Book::Psychotherapy
        } else {
            Book::Record
        }
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            Book::Record => "note",
            Book::Psychotherapy => "psychotherapy_note",
        }
    }

    pub(crate) fn addenda(self) -> &'static str {
        match self {
            Book::Record => "note_addendum",
            Book::Psychotherapy => "psychotherapy_note_addendum",
        }
    }
}

/// A note with what its page needs.
#[derive(Debug, Clone)]
pub struct NoteRecord {
    pub note: Note,
    pub patient_name: String,
    /// The template version it was written with.
    pub template: NoteTemplate,
    /// A psychotherapy note's current readers besides its author.
    pub shared_with: Vec<Clinician>,
    /// The course appointment it was written for.
    pub appointment: Option<AppointmentRef>,
    /// The commitments a signed integration note made, with their reviews.
    pub commitments: Vec<Commitment>,
}

/// The course appointment a note was written for, as its page names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentRef {
    pub id: Uuid,
    pub kind: SessionKind,
    pub number: Option<i32>,
    pub starts_at: DateTime<Utc>,
}

impl AppointmentRef {
    /// "Preparation 1".
    pub fn title(&self) -> String {
        match self.number {
            Some(n) => format!("{} {n}", self.kind.label()),
            None => self.kind.label().to_owned(),
        }
    }
}

/// One line of a list of notes (the chart, the course timeline, the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteLine {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: NoteKind,
    pub status: NoteStatus,
    pub author_id: Uuid,
    pub author_name: String,
    /// When it was begun.
    pub written_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    pub appointment_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
    /// One line: the intention, the first theme… (empty for a psychotherapy note).
    pub summary: String,
}

/// A new note as its author starts it.
#[derive(Debug, Clone)]
pub struct NewNote {
    pub patient_id: Uuid,
    pub kind: NoteKind,
    /// The course appointment (preparation or integration) it is written for.
    pub appointment_id: Option<Uuid>,
    /// The dosing session of an in-session note.
    pub dosing_session_id: Option<Uuid>,
    pub content: NoteContent,
}

#[derive(sqlx::FromRow)]
pub(crate) struct NoteRow {
    id: Uuid,
    patient_id: Uuid,
    kind: String,
    author_id: Uuid,
    author_name: String,
    appointment_id: Option<Uuid>,
    dosing_session_id: Option<Uuid>,
    course_id: Option<Uuid>,
    template_version: i32,
    content: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    signed_at: Option<DateTime<Utc>>,
    content_hash: Option<String>,
    cosigner_id: Option<Uuid>,
    cosigner_name: Option<String>,
    discarded_at: Option<DateTime<Utc>>,
}

/// The columns every read of a note selects (`n` the note table, `a` its author, `c` the
/// co-signer).
pub(crate) const NOTE_COLUMNS: &str = "n.id, n.patient_id, n.kind, n.author_id,
    a.full_name AS author_name, n.appointment_id, n.dosing_session_id, n.course_id,
    n.template_version, n.content, n.created_at, n.updated_at, n.signed_at, n.content_hash,
    n.cosigner_id, c.full_name AS cosigner_name, n.discarded_at";

/// `FROM` the book's table with the author and co-signer joined.
pub(crate) fn from(book: Book) -> String {
    format!(
        "FROM {} n JOIN staff_user a ON a.id = n.author_id
         LEFT JOIN staff_user c ON c.id = n.cosigner_id",
        book.table()
    )
}

fn corrupt(book: Book, id: Uuid, f: &'static str, problem: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        record: book.table(),
        id: id.to_string(),
        field: f,
        problem: problem.into(),
    }
}

pub(crate) fn content_of(book: Book, id: Uuid, stored: &str) -> Result<NoteContent> {
    field(
        book.table(),
        id,
        "content",
        serde_json::from_str::<NoteContent>(stored),
    )
}

pub(crate) fn json_of(c: &NoteContent) -> String {
    // Plain strings, dates and codes: serialising cannot fail; "{}" would be refused when read
    // back (an empty object is a valid empty note, but the domain never produces one from an
    // error).
    serde_json::to_string(c).unwrap_or_else(|_| "{}".to_owned())
}

impl NoteRow {
    /// The note without its addenda and co-signature (added by [`load`]).
    pub(crate) fn into_note(self, book: Book) -> Result<Note> {
        let kind: NoteKind = code(book.table(), self.id, "kind", &self.kind)?;
        if Book::of(kind) != book {
            return Err(corrupt(book, self.id, "kind", "a note of the other book"));
        }
        let content = content_of(book, self.id, &self.content)?;
        let signature = match (self.signed_at, self.content_hash) {
            (Some(at), Some(content_hash)) => Some(NoteSignature { at, content_hash }),
            (None, None) => None,
            _ => {
                return Err(corrupt(
                    book,
                    self.id,
                    "content_hash",
                    "a signature without its hash, or a hash without a signature",
                ));
            }
        };
        Ok(Note {
            id: self.id,
            patient_id: self.patient_id,
            kind,
            author: Clinician {
                id: self.author_id,
                name: self.author_name,
            },
            appointment_id: self.appointment_id,
            dosing_session_id: self.dosing_session_id,
            course_id: self.course_id,
            template_version: self.template_version,
            content,
            created_at: self.created_at,
            updated_at: self.updated_at,
            signature,
            cosigner: self.cosigner_id.map(|id| Clinician {
                id,
                name: self.cosigner_name.unwrap_or_default(),
            }),
            cosignature: None,
            addenda: vec![],
            discarded_at: self.discarded_at,
        })
    }

    /// The list line of a note (no addenda needed).
    pub(crate) fn into_line(self, book: Book, cosigned: bool) -> Result<NoteLine> {
        let n = self.into_note(book)?;
        let status = match n.status() {
            NoteStatus::AwaitingCosignature if cosigned => NoteStatus::Signed,
            s => s,
        };
        Ok(NoteLine {
            id: n.id,
            patient_id: n.patient_id,
            kind: n.kind,
            status,
            author_id: n.author.id,
            author_name: n.author.name.clone(),
            written_at: n.created_at,
            signed_at: n.signature.as_ref().map(|s| s.at),
            appointment_id: n.appointment_id,
            course_id: n.course_id,
            summary: n.summary(),
        })
    }
}

/// On PostgreSQL, takes the note's row lock (SQLite has one writer anyway). A signed note
/// cannot be locked by a no-op UPDATE: its trigger refuses every UPDATE.
pub(crate) async fn lock(tx: &mut Tx, book: Book, id: Uuid) -> Result<()> {
    if let Tx::Postgres(t) = tx {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM {} WHERE id = $1 FOR UPDATE",
            book.table()
        )))
        .bind(id)
        .fetch_optional(&mut **t)
        .await?;
    }
    Ok(())
}

/// A whole note of this clinic, from whichever book holds it, with its addenda, co-signature
/// and (psychotherapy notes) current grantees. No access rule is applied here.
pub(crate) async fn load(
    tx: &mut Tx,
    clinic_id: Uuid,
    id: Uuid,
) -> Result<Option<(Book, Note, Vec<Clinician>)>> {
    for book in [Book::Record, Book::Psychotherapy] {
        let sql = format!(
            "SELECT {NOTE_COLUMNS} {} WHERE n.id = $1 AND n.clinic_id = $2",
            from(book)
        );
        let Some(row) = fetch_opt!(tx(tx), NoteRow, sqlx::AssertSqlSafe(sql), id, clinic_id) else {
            continue;
        };
        let mut note = row.into_note(book)?;
        let sql = format!(
            "SELECT x.id, x.reason, x.text, x.author_id, s.full_name, x.written_at
             FROM {} x JOIN staff_user s ON s.id = x.author_id
             WHERE x.note_id = $1 ORDER BY x.written_at, x.id",
            book.addenda()
        );
        note.addenda = fetch_all!(
            tx(tx),
            (Uuid, String, String, Uuid, String, DateTime<Utc>),
            sqlx::AssertSqlSafe(sql),
            id
        )
        .into_iter()
        .map(|(id, reason, text, by, name, at)| Addendum {
            id,
            reason,
            text,
            by: Clinician { id: by, name },
            at,
        })
        .collect();
        let mut shared = vec![];
        match book {
            Book::Record => {
                note.cosignature = fetch_opt!(
                    tx(tx),
                    (Uuid, String, DateTime<Utc>),
                    "SELECT x.cosigned_by, s.full_name, x.cosigned_at FROM note_cosignature x
                     JOIN staff_user s ON s.id = x.cosigned_by WHERE x.note_id = $1",
                    id
                )
                .map(|(by, name, at)| CoSignature {
                    by: Clinician { id: by, name },
                    at,
                });
            }
            Book::Psychotherapy => shared = grantees(&mut Src::Tx(tx), id).await?,
        }
        return Ok(Some((book, note, shared)));
    }
    Ok(None)
}

/// Who may read a psychotherapy note now besides its author: each clinician whose latest share
/// row grants it.
pub(crate) async fn grantees(s: &mut Src<'_>, note_id: Uuid) -> Result<Vec<Clinician>> {
    let rows = src!(
        s,
        fetch_all,
        (Uuid, String, bool),
        "SELECT x.grantee_id, s.full_name, x.granted FROM psychotherapy_note_share x
         JOIN staff_user s ON s.id = x.grantee_id
         WHERE x.note_id = $1 ORDER BY x.at, x.id",
        note_id
    );
    let mut out: Vec<Clinician> = vec![];
    for (id, name, granted) in rows {
        out.retain(|c| c.id != id);
        if granted {
            out.push(Clinician { id, name });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The appointment a note was written for.
pub(crate) async fn appointment_ref(tx: &mut Tx, id: Uuid) -> Result<Option<AppointmentRef>> {
    let Some((kind, number, starts_at)) = fetch_opt!(
        tx(tx),
        (String, Option<i32>, DateTime<Utc>),
        "SELECT kind, number, starts_at FROM appointment WHERE id = $1",
        id
    ) else {
        return Ok(None);
    };
    Ok(Some(AppointmentRef {
        id,
        kind: code("appointment", id, "kind", &kind)?,
        number,
        starts_at,
    }))
}

impl From<kap_domain::notes::NoteRefused> for StoreError {
    fn from(r: kap_domain::notes::NoteRefused) -> Self {
        StoreError::Conflict(r.into())
    }
}
