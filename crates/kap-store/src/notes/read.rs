//! Reading notes: one note whole, the lists (the chart's, the course timeline's, the API's), the
//! current intention, unsigned notes and notes awaiting co-signature, and what the dosing
//! session page shows of the notes.

use super::commitments::{Of, commitments_in};
use super::setup::{settings_in, template_version};
use super::write::{Found, find_unlocked, not_found};
use super::{
    Book, NOTE_COLUMNS, NoteLine, NoteRecord, NoteRow, Src, appointment_ref, content_of, from,
    grantees, load, src,
};
use crate::Store;
use crate::db::{Tx, fetch_all, scalar_opt};
use crate::error::{Result, StoreError, code};
use chrono::{DateTime, Utc};
use kap_domain::audit::{Actor, ActorKind, AuditAction, RecordKind, Subject};
use kap_domain::notes::access::may_see_psychotherapy;
use kap_domain::notes::{Commitment, Note, NoteKind, NoteStatus, NotesSettings, Section};
use std::collections::HashSet;
use uuid::Uuid;

/// A note not yet signed, or waiting for a co-signature, as the lists of work to do show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedNote {
    pub id: Uuid,
    pub kind: NoteKind,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub author_id: Uuid,
    pub author_name: String,
    pub created_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    /// Unsigned longer than the clinic's limit.
    pub overdue: bool,
}

/// Where a new note of one kind may be written: the patient, and the course appointments (or
/// dosing sessions) it may be written for.
#[derive(Debug, Clone)]
pub struct NotePlaces {
    pub patient_name: String,
    /// Appointments of the patient of the kind's session kind that still hold their time,
    /// newest first.
    pub appointments: Vec<super::AppointmentRef>,
    /// For an in-session note: the patient's dosing sessions, newest first.
    pub sessions: Vec<(Uuid, super::AppointmentRef)>,
}

/// What the dosing session page shows of the notes, before the dose decision.
#[derive(Debug, Clone)]
pub struct DosingNotes {
    pub course_id: Uuid,
    /// The intention of the course's latest signed preparation note.
    pub intention: Option<String>,
    pub intention_note: Option<Uuid>,
    /// The course's commitments still carried (open or partly kept), oldest first.
    pub commitments: Vec<Commitment>,
    /// The course's latest signed integration note (its four domains).
    pub integration: Option<Note>,
    /// This session's in-session notes (not discarded), oldest first.
    pub in_session: Vec<Note>,
}

/// The intention of the latest signed preparation note of a patient (in one course — or written
/// for no course — when a course is given), and that note.
pub(crate) async fn intention_in(
    tx: &mut Tx,
    clinic_id: Uuid,
    patient: Uuid,
    course: Option<Uuid>,
) -> Result<Option<(String, Uuid)>> {
    const SELECT: &str = "SELECT id, content FROM note
        WHERE clinic_id = $1 AND patient_id = $2 AND kind = 'preparation'
          AND signed_at IS NOT NULL";
    let rows = match course {
        Some(c) => fetch_all!(
            tx(tx),
            (Uuid, String),
            sqlx::AssertSqlSafe(format!(
                "{SELECT} AND (course_id = $3 OR course_id IS NULL)
                 ORDER BY signed_at DESC LIMIT 10"
            )),
            clinic_id,
            patient,
            c
        ),
        None => fetch_all!(
            tx(tx),
            (Uuid, String),
            sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY signed_at DESC LIMIT 10")),
            clinic_id,
            patient
        ),
    };
    for (id, content) in rows {
        let c = content_of(Book::Record, id, &content)?;
        let i = c.text(Section::Intention);
        if !i.is_empty() {
            return Ok(Some((i.to_owned(), id)));
        }
    }
    Ok(None)
}

/// Record notes of a patient that are not discarded, newest first, with whether each is
/// co-signed.
async fn record_lines(s: &mut Src<'_>, clinic_id: Uuid, patient: Uuid) -> Result<Vec<NoteLine>> {
    let sql = format!(
        "SELECT {NOTE_COLUMNS} {} WHERE n.clinic_id = $1 AND n.patient_id = $2
           AND n.discarded_at IS NULL ORDER BY n.created_at DESC, n.id DESC",
        from(Book::Record)
    );
    let rows = src!(
        s,
        fetch_all,
        NoteRow,
        sqlx::AssertSqlSafe(sql),
        clinic_id,
        patient
    );
    let cosigned: HashSet<Uuid> = src!(
        s,
        fetch_all,
        (Uuid,),
        "SELECT x.note_id FROM note_cosignature x JOIN note n ON n.id = x.note_id
         WHERE n.clinic_id = $1 AND n.patient_id = $2",
        clinic_id,
        patient
    )
    .into_iter()
    .map(|(id,)| id)
    .collect();
    rows.into_iter()
        .map(|r| {
            let c = cosigned.contains(&r.id);
            r.into_line(Book::Record, c)
        })
        .collect()
}

/// A patient's psychotherapy notes this person may see (their own, and those shared with them
/// now), in a browser only; newest first.
async fn psychotherapy_lines(
    s: &mut Src<'_>,
    actor: &Actor,
    clinic_id: Uuid,
    patient: Uuid,
) -> Result<Vec<NoteLine>> {
    let Some(viewer) = actor.staff_id.filter(|_| actor.kind == ActorKind::Staff) else {
        return Ok(vec![]);
    };
    let sql = format!(
        "SELECT {NOTE_COLUMNS} {} WHERE n.clinic_id = $1 AND n.patient_id = $2
           AND n.discarded_at IS NULL
           AND (n.author_id = $3 OR n.id IN (SELECT note_id FROM psychotherapy_note_share
                                            WHERE grantee_id = $3))
         ORDER BY n.created_at DESC, n.id DESC",
        from(Book::Psychotherapy)
    );
    let rows = src!(
        s,
        fetch_all,
        NoteRow,
        sqlx::AssertSqlSafe(sql),
        clinic_id,
        patient,
        viewer
    );
    let mut out = vec![];
    for r in rows {
        let line = r.into_line(Book::Psychotherapy, false)?;
        let shared: Vec<Uuid> = grantees(s, line.id).await?.iter().map(|c| c.id).collect();
        if may_see_psychotherapy(viewer, actor.kind, line.author_id, &shared) {
            out.push(line);
        }
    }
    Ok(out)
}

fn unsigned_of(
    rows: Vec<UnsignedRow>,
    settings: &NotesSettings,
    now: DateTime<Utc>,
    table: &'static str,
) -> Result<Vec<UnsignedNote>> {
    rows.into_iter()
        .map(
            |(
                id,
                kind,
                patient_id,
                patient_name,
                author_id,
                author_name,
                created_at,
                signed_at,
            )| {
                Ok(UnsignedNote {
                    id,
                    kind: code(table, id, "kind", &kind)?,
                    patient_id,
                    patient_name,
                    author_id,
                    author_name,
                    created_at,
                    signed_at,
                    overdue: signed_at.is_none() && settings.overdue(created_at, now),
                })
            },
        )
        .collect()
}

type UnsignedRow = (
    Uuid,
    String,
    Uuid,
    String,
    Uuid,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

impl Store {
    /// One note whole, for `actor`: a psychotherapy note only for its author and the clinicians
    /// it is shared with, in a browser — anyone else is told it is not found, and the refusal is
    /// audited with the note's id. Audited as a read (with the note's id and kind, never its
    /// words).
    pub async fn note(&self, actor: &Actor, clinic_id: Uuid, id: Uuid) -> Result<NoteRecord> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let (book, note, shared_with) = match find_unlocked(&mut a, clinic_id, id).await? {
            Found::Note(b, n, s) => (b, *n, s),
            f => return Err(not_found(a, f).await),
        };
        let patient_name = scalar_opt!(
            tx(a.tx()),
            String,
            "SELECT full_name FROM patient WHERE id = $1",
            note.patient_id
        )
        .ok_or(StoreError::NotFound)?;
        let template =
            template_version(a.tx(), clinic_id, note.kind, note.template_version).await?;
        let appointment = match note.appointment_id {
            Some(x) => appointment_ref(a.tx(), x).await?,
            None => None,
        };
        let commitments = if book == Book::Record && note.kind == NoteKind::Integration {
            commitments_in(&mut Src::Tx(a.tx()), clinic_id, Of::Note(id)).await?
        } else {
            vec![]
        };
        a.record(
            AuditAction::NoteRead,
            Subject::record(RecordKind::Note, id)
                .with_patient(Some(note.patient_id))
                .with_detail(note.kind.as_str()),
        )
        .await?;
        a.commit().await?;
        Ok(NoteRecord {
            note,
            patient_name,
            template,
            shared_with: if book == Book::Psychotherapy {
                shared_with
            } else {
                vec![]
            },
            appointment,
            commitments,
        })
    }

    /// The commitments earlier integration notes of a note's course (or, without a course, of
    /// its patient) made, with their reviews, oldest first — what a preparation or integration
    /// note's page shows to review. Not audited on its own: it is read with the note.
    pub async fn commitments_before(
        &self,
        clinic_id: Uuid,
        note: &Note,
    ) -> Result<Vec<Commitment>> {
        let of = match note.course_id {
            Some(c) => Of::CourseOrNone(note.patient_id, c),
            None => Of::Patient(note.patient_id),
        };
        let until = note.signature.as_ref().map(|s| s.at);
        Ok(commitments_in(&mut Src::Db(&self.db), clinic_id, of)
            .await?
            .into_iter()
            .filter(|c| c.note_id != note.id && until.is_none_or(|u| c.made_at <= u))
            .collect())
    }

    /// The chart's list: a patient's notes newest first, with the psychotherapy notes `actor`
    /// may see (their own and those shared with them, in a browser) — no one else learns that
    /// one exists. Not audited on its own: the chart read is.
    pub async fn notes_of_patient(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient: Uuid,
    ) -> Result<(Vec<NoteLine>, Vec<NoteLine>)> {
        let mut s = Src::Db(&self.db);
        let record = record_lines(&mut s, clinic_id, patient).await?;
        let psychotherapy = psychotherapy_lines(&mut s, actor, clinic_id, patient).await?;
        Ok((record, psychotherapy))
    }

    /// The notes of a patient's record for the course timeline and the API, newest first:
    /// status, author, when written and signed, the appointment and course, one line of
    /// summary. Psychotherapy notes are never among them. Audited.
    pub async fn note_lines_of_patient(
        &self,
        actor: &Actor,
        clinic: Uuid,
        patient: Uuid,
    ) -> Result<Vec<NoteLine>> {
        let mut a = self.audited_read_in(actor, clinic).await?;
        let known = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT id FROM patient WHERE id = $1 AND clinic_id = $2",
            patient,
            clinic
        );
        if known.is_none() {
            return Err(StoreError::NotFound);
        }
        let lines = record_lines(&mut Src::Tx(a.tx()), clinic, patient).await?;
        a.record(AuditAction::NotesListed, Subject::patient(patient))
            .await?;
        a.commit().await?;
        Ok(lines)
    }

    /// The intention, in the patient's words, of the latest signed preparation note of the
    /// patient (in `course`, when given). Audited.
    pub async fn current_intention(
        &self,
        actor: &Actor,
        clinic: Uuid,
        patient: Uuid,
        course: Option<Uuid>,
    ) -> Result<Option<String>> {
        let mut a = self.audited_read_in(actor, clinic).await?;
        let found = intention_in(a.tx(), clinic, patient, course).await?;
        a.record(
            AuditAction::NoteRead,
            Subject::patient(patient).with_detail("current intention"),
        )
        .await?;
        a.commit().await?;
        Ok(found.map(|(i, _)| i))
    }

    /// Notes not yet signed: `actor`'s own (psychotherapy notes included), or — `everyone` —
    /// every clinician's notes of the record, with `actor`'s own psychotherapy notes (no one
    /// else's: they are never shown to anyone but their author). Each says whether it is
    /// overdue under the clinic's limit. Oldest first. Audited.
    pub async fn unsigned_notes(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        everyone: bool,
        now: DateTime<Utc>,
    ) -> Result<(NotesSettings, Vec<UnsignedNote>)> {
        let me = actor.staff_id.ok_or(StoreError::NotFound)?;
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let settings = settings_in(a.tx(), clinic_id).await?;
        let select = |book: Book| {
            format!(
                "SELECT n.id, n.kind, n.patient_id, p.full_name, n.author_id, a.full_name,
                        n.created_at, n.signed_at
                 FROM {} n JOIN patient p ON p.id = n.patient_id
                 JOIN staff_user a ON a.id = n.author_id
                 WHERE n.clinic_id = $1 AND n.signed_at IS NULL AND n.discarded_at IS NULL",
                book.table()
            )
        };
        let record = if everyone {
            fetch_all!(
                tx(a.tx()),
                UnsignedRow,
                sqlx::AssertSqlSafe(format!("{} ORDER BY n.created_at", select(Book::Record))),
                clinic_id
            )
        } else {
            fetch_all!(
                tx(a.tx()),
                UnsignedRow,
                sqlx::AssertSqlSafe(format!(
                    "{} AND n.author_id = $2 ORDER BY n.created_at",
                    select(Book::Record)
                )),
                clinic_id,
                me
            )
        };
        let mine = fetch_all!(
            tx(a.tx()),
            UnsignedRow,
            sqlx::AssertSqlSafe(format!(
                "{} AND n.author_id = $2 ORDER BY n.created_at",
                select(Book::Psychotherapy)
            )),
            clinic_id,
            me
        );
        let mut out = unsigned_of(record, &settings, now, "note")?;
        if actor.kind == ActorKind::Staff {
            out.extend(unsigned_of(mine, &settings, now, "psychotherapy_note")?);
        }
        out.sort_by_key(|n| n.created_at);
        a.record(
            AuditAction::NotesListed,
            Subject::none().with_detail(if everyone {
                "unsigned notes, every clinician"
            } else {
                "own unsigned notes"
            }),
        )
        .await?;
        a.commit().await?;
        Ok((settings, out))
    }

    /// Signed notes waiting for `actor`'s co-signature, oldest first. Audited.
    pub async fn awaiting_my_cosignature(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
    ) -> Result<Vec<UnsignedNote>> {
        let me = actor.staff_id.ok_or(StoreError::NotFound)?;
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let rows = fetch_all!(
            tx(a.tx()),
            UnsignedRow,
            "SELECT n.id, n.kind, n.patient_id, p.full_name, n.author_id, a.full_name,
                    n.created_at, n.signed_at
             FROM note n JOIN patient p ON p.id = n.patient_id
             JOIN staff_user a ON a.id = n.author_id
             WHERE n.clinic_id = $1 AND n.cosigner_id = $2 AND n.signed_at IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM note_cosignature x WHERE x.note_id = n.id)
             ORDER BY n.signed_at",
            clinic_id,
            me
        );
        let out = unsigned_of(rows, &NotesSettings::default(), crate::now(), "note")?;
        a.record(
            AuditAction::NotesListed,
            Subject::none().with_detail("awaiting my co-signature"),
        )
        .await?;
        a.commit().await?;
        Ok(out)
    }

    /// For the clinic's administrator: per clinician, how many notes of the record are unsigned
    /// and how many of those are overdue (names and numbers only — no patient, no note; and no
    /// psychotherapy note, whose existence only its author knows).
    pub async fn unsigned_counts(
        &self,
        clinic_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, i64, i64)>> {
        let settings = self.note_settings(clinic_id).await?;
        let before = settings.overdue_before(now);
        Ok(fetch_all!(
            db(&self.db),
            (String, i64, i64),
            "SELECT a.full_name, COUNT(*),
                    SUM(CASE WHEN n.created_at < $2 THEN 1 ELSE 0 END)
             FROM note n JOIN staff_user a ON a.id = n.author_id
             WHERE n.clinic_id = $1 AND n.signed_at IS NULL AND n.discarded_at IS NULL
             GROUP BY a.id, a.full_name ORDER BY a.full_name",
            clinic_id,
            before
        ))
    }

    /// What the dosing session page shows of the notes: the course's intention, its carried
    /// commitments, the therapist's four-domain observations from its latest signed integration
    /// note, and this session's in-session notes. Audited (one row, the patient's).
    pub async fn dosing_notes(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient: Uuid,
        session: Uuid,
    ) -> Result<DosingNotes> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let course_id = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT course_id FROM dosing_session WHERE id = $1 AND clinic_id = $2
               AND patient_id = $3",
            session,
            clinic_id,
            patient
        )
        .ok_or(StoreError::NotFound)?;
        let intention = intention_in(a.tx(), clinic_id, patient, Some(course_id)).await?;
        let commitments = commitments_in(
            &mut Src::Tx(a.tx()),
            clinic_id,
            Of::CourseOrNone(patient, course_id),
        )
        .await?
        .into_iter()
        .filter(Commitment::carried)
        .collect();
        let latest = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT id FROM note WHERE clinic_id = $1 AND patient_id = $2
               AND (course_id = $3 OR course_id IS NULL)
               AND kind = 'integration' AND signed_at IS NOT NULL
             ORDER BY signed_at DESC LIMIT 1",
            clinic_id,
            patient,
            course_id
        );
        let integration = match latest {
            Some(id) => load(a.tx(), clinic_id, id).await?.map(|(_, n, _)| n),
            None => None,
        };
        let ids = fetch_all!(
            tx(a.tx()),
            (Uuid,),
            "SELECT id FROM note WHERE clinic_id = $1 AND dosing_session_id = $2
               AND kind = 'in_session' AND discarded_at IS NULL ORDER BY created_at",
            clinic_id,
            session
        );
        let mut in_session = vec![];
        for (id,) in ids {
            if let Some((_, n, _)) = load(a.tx(), clinic_id, id).await? {
                in_session.push(n);
            }
        }
        a.record(
            AuditAction::NotesListed,
            Subject::patient(patient).with_detail("dosing session notes"),
        )
        .await?;
        a.commit().await?;
        let (intention, intention_note) = match intention {
            Some((i, n)) => (Some(i), Some(n)),
            None => (None, None),
        };
        Ok(DosingNotes {
            course_id,
            intention,
            intention_note,
            commitments,
            integration,
            in_session,
        })
    }
}

impl Store {
    /// The patient and the appointments (or dosing sessions) a new note of `kind` may be
    /// written for. Audited as a read of the patient's notes.
    pub async fn note_places(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient: Uuid,
        kind: NoteKind,
    ) -> Result<NotePlaces> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let patient_name = scalar_opt!(
            tx(a.tx()),
            String,
            "SELECT full_name FROM patient WHERE id = $1 AND clinic_id = $2",
            patient,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        let mut appointments = vec![];
        let mut sessions = vec![];
        if kind == NoteKind::InSession {
            let rows = fetch_all!(
                tx(a.tx()),
                (Uuid, Uuid, String, Option<i32>, DateTime<Utc>),
                "SELECT s.id, x.id, x.kind, x.number, x.starts_at FROM dosing_session s
                 JOIN appointment x ON x.id = s.appointment_id
                 WHERE s.clinic_id = $1 AND s.patient_id = $2 ORDER BY x.starts_at DESC",
                clinic_id,
                patient
            );
            for (sid, id, k, number, starts_at) in rows {
                sessions.push((
                    sid,
                    super::AppointmentRef {
                        id,
                        kind: code("appointment", id, "kind", &k)?,
                        number,
                        starts_at,
                    },
                ));
            }
        } else if let Some(sk) = kind.session_kind() {
            let rows = fetch_all!(
                tx(a.tx()),
                (Uuid, Option<i32>, DateTime<Utc>),
                "SELECT id, number, starts_at FROM appointment
                 WHERE clinic_id = $1 AND patient_id = $2 AND kind = $3
                   AND status NOT IN ('cancelled', 'missed')
                 ORDER BY starts_at DESC",
                clinic_id,
                patient,
                sk.as_str()
            );
            appointments = rows
                .into_iter()
                .map(|(id, number, starts_at)| super::AppointmentRef {
                    id,
                    kind: sk,
                    number,
                    starts_at,
                })
                .collect();
        }
        a.record(
            AuditAction::NotesListed,
            Subject::patient(patient).with_detail("places for a new note"),
        )
        .await?;
        a.commit().await?;
        Ok(NotePlaces {
            patient_name,
            appointments,
            sessions,
        })
    }
}

impl NoteLine {
    /// Whether the line is a draft.
    pub fn is_draft(&self) -> bool {
        self.status == NoteStatus::Draft
    }
}
