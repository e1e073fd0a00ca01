//! Writing notes: starting a draft, saving it, the therapist's observations during a dosing
//! session, discarding a draft, signing, co-signing, addenda, and sharing a psychotherapy note.
//! Each loads the note, lets the domain decide, and writes what changed with its audit row.

use super::setup::{clinicians, current_template_for_writing, settings_in};
use super::{Book, NewNote, json_of, load, lock};
use crate::audited::Audited;
use crate::db::{Tx, exec, fetch_opt, scalar_opt};
use crate::error::{Result, StoreError};
use crate::{Store, new_id};
use chrono::{DateTime, Utc};
use kap_domain::Role;
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::notes::access::{may_receive_share, may_see_psychotherapy};
use kap_domain::notes::{Clinician, Note, NoteKind, NoteRefused};
use kap_domain::protocol::SessionKind;
use uuid::Uuid;

/// What looking a note up for someone found.
pub(crate) enum Found {
    Note(Book, Box<Note>, Vec<Clinician>),
    /// A psychotherapy note this person may not see: the refusal is already recorded in the
    /// transaction.
    Refused,
    Missing,
}

/// The note `id` as `actor` may see it: any note of the record (drafts included: the care team
/// sees that a note is being written, and only its author changes it); a psychotherapy note
/// only for its author and the clinicians it is shared with, in a browser. A discarded draft
/// is not found. A refusal appends an access-refused audit row naming the note (never its
/// words).
pub(crate) async fn find(a: &mut Audited, clinic_id: Uuid, id: Uuid) -> Result<Found> {
    for book in [Book::Record, Book::Psychotherapy] {
        lock(a.tx(), book, id).await?;
    }
    find_unlocked(a, clinic_id, id).await
}

/// [`find`] for a read: no row lock.
pub(crate) async fn find_unlocked(a: &mut Audited, clinic_id: Uuid, id: Uuid) -> Result<Found> {
    let Some((book, note, shared)) = load(a.tx(), clinic_id, id).await? else {
        return Ok(Found::Missing);
    };
    if note.discarded_at.is_some() {
        return Ok(Found::Missing);
    }
    if book == Book::Psychotherapy {
        let actor = a.actor().clone();
        let ids: Vec<Uuid> = shared.iter().map(|c| c.id).collect();
        let viewer = actor.staff_id.unwrap_or_default();
        if !may_see_psychotherapy(viewer, actor.kind, note.author.id, &ids) {
            a.record(
                AuditAction::AccessRefused,
                Subject::record(RecordKind::Note, id)
                    .with_patient(Some(note.patient_id))
                    .with_detail("psychotherapy note: not its author nor shared with them"),
            )
            .await?;
            return Ok(Found::Refused);
        }
    }
    Ok(Found::Note(book, Box::new(note), shared))
}

/// Ends a transaction whose note was not there for this person: a refusal is committed (its
/// audit row stays), and the answer is "not found" either way.
pub(crate) async fn not_found(a: Audited, f: Found) -> StoreError {
    if matches!(f, Found::Refused)
        && let Err(e) = a.commit().await
    {
        return e;
    }
    StoreError::NotFound
}

/// The staff member acting, as a note names them.
pub(crate) async fn me(tx: &mut Tx, actor: &Actor) -> Result<Clinician> {
    let id = actor.staff_id.ok_or(StoreError::NotFound)?;
    let name = scalar_opt!(
        tx(tx),
        String,
        "SELECT full_name FROM staff_user WHERE id = $1",
        id
    )
    .ok_or(StoreError::NotFound)?;
    Ok(Clinician { id, name })
}

fn rule(m: impl Into<String>) -> StoreError {
    NoteRefused::Rule(m.into()).into()
}

fn subject(note: &Note) -> Subject {
    Subject::record(RecordKind::Note, note.id)
        .with_patient(Some(note.patient_id))
        .with_detail(note.kind.as_str())
}

/// Stores a draft's content and its time of change.
async fn save_content(a: &mut Audited, book: Book, note: &Note) -> Result<()> {
    exec!(
        tx(a.tx()),
        sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET content = $1, updated_at = $2 WHERE id = $3",
            book.table()
        )),
        json_of(&note.content),
        note.updated_at,
        note.id
    );
    Ok(())
}

/// Where a new note belongs: its course appointment, dosing session and course.
struct Place {
    appointment_id: Option<Uuid>,
    dosing_session_id: Option<Uuid>,
    course_id: Option<Uuid>,
}

async fn place(tx: &mut Tx, clinic_id: Uuid, n: &NewNote) -> Result<Place> {
    if n.kind == NoteKind::InSession {
        let Some(session) = n.dosing_session_id else {
            return Err(rule(
                "An in-session note belongs to a dosing session: write it from the session's page.",
            ));
        };
        let (appointment, course, patient) = fetch_opt!(
            tx(tx),
            (Uuid, Uuid, Uuid),
            "SELECT appointment_id, course_id, patient_id FROM dosing_session
             WHERE id = $1 AND clinic_id = $2",
            session,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        if patient != n.patient_id {
            return Err(StoreError::NotFound);
        }
        return Ok(Place {
            appointment_id: Some(appointment),
            dosing_session_id: Some(session),
            course_id: Some(course),
        });
    }
    if n.dosing_session_id.is_some() {
        return Err(rule("Only an in-session note belongs to a dosing session."));
    }
    let Some(appt) = n.appointment_id else {
        return Ok(Place {
            appointment_id: None,
            dosing_session_id: None,
            course_id: None,
        });
    };
    let (patient, course, kind) = fetch_opt!(
        tx(tx),
        (Uuid, Option<Uuid>, String),
        "SELECT patient_id, course_id, kind FROM appointment WHERE id = $1 AND clinic_id = $2",
        appt,
        clinic_id
    )
    .ok_or(StoreError::NotFound)?;
    if patient != n.patient_id {
        return Err(StoreError::NotFound);
    }
    let kind: SessionKind = crate::error::code("appointment", appt, "kind", &kind)?;
    if let Some(wanted) = n.kind.session_kind()
        && wanted != kind
    {
        return Err(rule(format!(
            "{} is written for a {} session, not a {} one.",
            n.kind.label(),
            wanted.label().to_lowercase(),
            kind.label().to_lowercase()
        )));
    }
    Ok(Place {
        appointment_id: Some(appt),
        dosing_session_id: None,
        course_id: course,
    })
}

/// The author's in-session note of a dosing session that is not discarded, if any.
async fn in_session_note_of(
    tx: &mut Tx,
    clinic_id: Uuid,
    session: Uuid,
    author: Uuid,
) -> Result<Option<Uuid>> {
    Ok(scalar_opt!(
        tx(tx),
        Uuid,
        "SELECT id FROM note WHERE clinic_id = $1 AND dosing_session_id = $2 AND author_id = $3
           AND kind = 'in_session' AND discarded_at IS NULL
         ORDER BY created_at LIMIT 1",
        clinic_id,
        session,
        author
    ))
}

/// Inserts a new draft inside `a` (the caller audits).
async fn insert(a: &mut Audited, clinic_id: Uuid, n: &NewNote, now: DateTime<Utc>) -> Result<Uuid> {
    let author = a.actor().staff_id.ok_or(StoreError::NotFound)?;
    if n.kind != NoteKind::Progress && n.content.format.is_some() {
        return Err(rule("Only a progress note has a format."));
    }
    let known = scalar_opt!(
        tx(a.tx()),
        Uuid,
        "SELECT id FROM patient WHERE id = $1 AND clinic_id = $2",
        n.patient_id,
        clinic_id
    );
    if known.is_none() {
        return Err(StoreError::NotFound);
    }
    let p = place(a.tx(), clinic_id, n).await?;
    let (version, _) =
        current_template_for_writing(a.tx(), clinic_id, n.kind, Some(author)).await?;
    let id = new_id();
    let book = Book::of(n.kind);
    exec!(
        tx(a.tx()),
        sqlx::AssertSqlSafe(format!(
            "INSERT INTO {} (id, clinic_id, patient_id, kind, author_id, appointment_id,
                dosing_session_id, course_id, template_version, content, created_at, updated_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11)",
            book.table()
        )),
        id,
        clinic_id,
        n.patient_id,
        n.kind.as_str(),
        author,
        p.appointment_id,
        p.dosing_session_id,
        p.course_id,
        version,
        json_of(&n.content),
        now
    );
    Ok(id)
}

impl Store {
    /// Starts a draft by the acting clinician (the kind's current template version recorded
    /// with it). A preparation or integration note may name an appointment of that kind of the
    /// patient's course; an in-session note names its dosing session, and a clinician has one
    /// in-session note per session (asking again returns it).
    pub async fn start_note(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        n: &NewNote,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        if let (NoteKind::InSession, Some(session), Some(author)) =
            (n.kind, n.dosing_session_id, actor.staff_id)
            && let Some(id) = in_session_note_of(a.tx(), clinic_id, session, author).await?
        {
            return Ok(id);
        }
        let id = insert(&mut a, clinic_id, n, now).await?;
        a.record(
            AuditAction::NoteDrafted,
            Subject::record(RecordKind::Note, id)
                .with_patient(Some(n.patient_id))
                .with_detail(n.kind.as_str()),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// Saves the author's new content of a draft.
    pub async fn save_note(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        content: kap_domain::notes::NoteContent,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let (book, mut note) = match find(&mut a, clinic_id, id).await? {
            Found::Note(b, n, _) => (b, *n),
            f => return Err(not_found(a, f).await),
        };
        if note.kind != NoteKind::Progress && content.format.is_some() {
            return Err(rule("Only a progress note has a format."));
        }
        note.edit(actor.staff_id.unwrap_or_default(), content, now)?;
        save_content(&mut a, book, &note).await?;
        a.record(AuditAction::NoteDrafted, subject(&note)).await?;
        a.commit().await
    }

    /// Adds the author's time-stamped observation to their in-session draft.
    pub async fn add_observation(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        text: &str,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let (book, mut note) = match find(&mut a, clinic_id, id).await? {
            Found::Note(b, n, _) => (b, *n),
            f => return Err(not_found(a, f).await),
        };
        note.observe(actor.staff_id.unwrap_or_default(), text, at, now)?;
        save_content(&mut a, book, &note).await?;
        a.record(
            AuditAction::NoteDrafted,
            subject(&note).with_detail("in_session observation"),
        )
        .await?;
        a.commit().await
    }

    /// A clinician's observation during a dosing session, from the session's page: added to
    /// their in-session note of the session, which is started on the first observation.
    pub async fn observe_in_session(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        session: Uuid,
        text: &str,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let author = actor.staff_id.ok_or(StoreError::NotFound)?;
        let patient = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT patient_id FROM dosing_session WHERE id = $1 AND clinic_id = $2",
            session,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        let id = match in_session_note_of(a.tx(), clinic_id, session, author).await? {
            Some(id) => id,
            None => {
                let (_, t) = current_template_for_writing(
                    a.tx(),
                    clinic_id,
                    NoteKind::InSession,
                    Some(author),
                )
                .await?;
                let n = NewNote {
                    patient_id: patient,
                    kind: NoteKind::InSession,
                    appointment_id: None,
                    dosing_session_id: Some(session),
                    content: kap_domain::notes::NoteContent::from_template(
                        NoteKind::InSession,
                        None,
                        &t,
                    ),
                };
                insert(&mut a, clinic_id, &n, now).await?
            }
        };
        let (book, mut note) = match find(&mut a, clinic_id, id).await? {
            Found::Note(b, n, _) => (b, *n),
            f => return Err(not_found(a, f).await),
        };
        note.observe(author, text, at, now).map_err(|e| match e {
            NoteRefused::Signed => NoteRefused::Rule(
                "Your in-session note of this session is signed: add what you saw as an addendum on the note's page.".into(),
            ),
            e => e,
        })?;
        save_content(&mut a, book, &note).await?;
        a.record(
            AuditAction::NoteDrafted,
            subject(&note).with_detail("in_session observation"),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// The author throws a draft away (it is kept, marked discarded, and shown nowhere).
    pub async fn discard_note(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let (book, mut note) = match find(&mut a, clinic_id, id).await? {
            Found::Note(b, n, _) => (b, *n),
            f => return Err(not_found(a, f).await),
        };
        note.discard(actor.staff_id.unwrap_or_default(), now)?;
        exec!(
            tx(a.tx()),
            sqlx::AssertSqlSafe(format!(
                "UPDATE {} SET discarded_at = $1 WHERE id = $2",
                book.table()
            )),
            now,
            id
        );
        a.record(AuditAction::NoteDiscarded, subject(&note)).await?;
        a.commit().await
    }

    /// The author signs: the note is hashed and locked, names the author's supervisor (from the
    /// clinic's notes settings) as the one who must co-sign, and — for an integration note —
    /// its commitments become rows that later sessions review.
    pub async fn sign_note(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let (book, mut note) = match find(&mut a, clinic_id, id).await? {
            Found::Note(b, n, _) => (b, *n),
            f => return Err(not_found(a, f).await),
        };
        let signer = actor.staff_id.unwrap_or_default();
        let settings = settings_in(a.tx(), clinic_id).await?;
        let supervisor = match settings.supervisor_of(note.author.id) {
            Some(s) if book == Book::Record && note.is_author(signer) => {
                if !clinicians(a.tx(), clinic_id).await?.contains(&s) {
                    return Err(rule(
                        "Your supervisor no longer works in this clinic: ask an administrator to update the notes settings, then sign.",
                    ));
                }
                let name = scalar_opt!(
                    tx(a.tx()),
                    String,
                    "SELECT full_name FROM staff_user WHERE id = $1",
                    s
                )
                .unwrap_or_default();
                Some(Clinician { id: s, name })
            }
            _ => None,
        };
        note.sign(signer, supervisor, now)?;
        let sig = note
            .signature
            .clone()
            .ok_or_else(|| rule("The note was not signed."))?;
        exec!(
            tx(a.tx()),
            sqlx::AssertSqlSafe(format!(
                "UPDATE {} SET signed_at = $1, content_hash = $2, cosigner_id = $3,
                    updated_at = $1 WHERE id = $4",
                book.table()
            )),
            sig.at,
            &sig.content_hash,
            note.cosigner.as_ref().map(|c| c.id),
            id
        );
        if note.kind == NoteKind::Integration {
            for (i, c) in note.content.commitments.iter().enumerate() {
                exec!(
                    tx(a.tx()),
                    "INSERT INTO note_commitment (id, note_id, patient_id, course_id, position,
                        text, follow_up, made_at)
                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
                    new_id(),
                    id,
                    note.patient_id,
                    note.course_id,
                    i as i32,
                    &c.text,
                    c.follow_up,
                    now
                );
            }
        }
        a.record(AuditAction::NoteSigned, subject(&note)).await?;
        a.commit().await
    }

    /// The supervisor named at signing co-signs, once.
    pub async fn cosign_note(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let mut note = match find(&mut a, clinic_id, id).await? {
            Found::Note(_, n, _) => *n,
            f => return Err(not_found(a, f).await),
        };
        let by = me(a.tx(), actor).await?;
        note.cosign(&by, now)?;
        exec!(
            tx(a.tx()),
            "INSERT INTO note_cosignature (note_id, cosigned_by, cosigned_at) VALUES ($1,$2,$3)",
            id,
            by.id,
            now
        );
        a.record(AuditAction::NoteCoSigned, subject(&note)).await?;
        a.commit().await
    }

    /// An addendum to a signed note (a psychotherapy note's only by its author).
    pub async fn add_note_addendum(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        reason: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let (book, mut note) = match find(&mut a, clinic_id, id).await? {
            Found::Note(b, n, _) => (b, *n),
            f => return Err(not_found(a, f).await),
        };
        let by = me(a.tx(), actor).await?;
        let added = note.add_addendum(new_id(), &by, reason, text, now)?;
        exec!(
            tx(a.tx()),
            sqlx::AssertSqlSafe(format!(
                "INSERT INTO {} (id, note_id, reason, text, author_id, written_at)
                 VALUES ($1,$2,$3,$4,$5,$6)",
                book.addenda()
            )),
            added.id,
            id,
            &added.reason,
            &added.text,
            by.id,
            added.at
        );
        a.record(AuditAction::NoteAddendum, subject(&note)).await?;
        a.commit().await?;
        Ok(added.id)
    }

    /// The author of a psychotherapy note lets a clinician of the clinic read it (`grant`) or
    /// takes that back. Audited with the note's and the clinician's ids.
    pub async fn share_psychotherapy_note(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        grantee: Uuid,
        grant: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let (book, note, shared) = match find(&mut a, clinic_id, id).await? {
            Found::Note(b, n, s) => (b, *n, s),
            f => return Err(not_found(a, f).await),
        };
        if book != Book::Psychotherapy {
            return Err(rule(
                "Only psychotherapy notes are shared one by one; the care team reads the record.",
            ));
        }
        let by = actor.staff_id.unwrap_or_default();
        if !note.is_author(by) {
            return Err(NoteRefused::NotAuthor {
                author: note.author.name.clone(),
                what: "share it",
            }
            .into());
        }
        let member = fetch_opt!(
            tx(a.tx()),
            (String, String, bool),
            "SELECT s.full_name, m.role, s.active AND m.active FROM staff_user s
             JOIN staff_membership m ON m.staff_id = s.id
             WHERE s.id = $1 AND m.clinic_id = $2",
            grantee,
            clinic_id
        );
        let has = shared.iter().any(|c| c.id == grantee);
        if grant {
            let Some((name, role, active)) = member else {
                return Err(rule("Choose a clinician of this clinic."));
            };
            let role: Role = crate::error::code("staff_membership", grantee, "role", &role)?;
            may_receive_share(note.author.id, grantee, role).map_err(rule)?;
            if !active {
                return Err(rule(format!("{name} no longer works in this clinic.")));
            }
            if has {
                return Err(rule(format!("{name} can read this note already.")));
            }
        } else if !has {
            return Err(rule("That clinician cannot read this note now."));
        }
        exec!(
            tx(a.tx()),
            "INSERT INTO psychotherapy_note_share (id, note_id, grantee_id, granted, by_staff, at)
             VALUES ($1,$2,$3,$4,$5,$6)",
            new_id(),
            id,
            grantee,
            grant,
            by,
            now
        );
        a.record(
            AuditAction::NoteShared,
            Subject::record(RecordKind::Note, id)
                .with_patient(Some(note.patient_id))
                .with_detail(format!(
                    "{} {grantee}",
                    if grant {
                        "shared with"
                    } else {
                        "unshared from"
                    }
                )),
        )
        .await?;
        a.commit().await
    }
}
