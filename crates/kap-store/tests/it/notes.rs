//! Therapy notes: a preparation note's intention carried to the course, sign and lock (the
//! triggers refuse raw changes on both databases), addenda, co-signature by the named supervisor,
//! psychotherapy notes kept apart (grants, refusals audited, never listed to others), the
//! therapist's observations during a dosing session, commitments reviewed append-only, the
//! unsigned-notes policy and templates.

use super::*;
use crate::course::Clinic;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use kap_domain::course::appointment::AppointmentAction;
use kap_domain::notes::content::commitment_field;
use kap_domain::notes::{
    CommitmentStatus, NoteContent, NoteForm, NoteKind, NoteRefused, NoteStatus, NoteTemplate,
    NotesSettings, Section, Supervision,
};
use kap_domain::protocol::SessionKind;
use kap_domain::screening::decision::Decision;
use kap_store::notes::NewNote;
use kap_store::{Conflict, StoreError, on_db};

fn now() -> DateTime<Utc> {
    kap_store::now()
}

fn today() -> NaiveDate {
    now().date_naive()
}

/// A patient's course on the IV protocol, with its appointments.
struct Course {
    c: Clinic,
    patient: Uuid,
    course: Uuid,
    appointments: Vec<(SessionKind, Option<i32>, Uuid)>,
}

impl Course {
    async fn plan(store: &Store) -> Course {
        let c = Clinic::open(store).await;
        let v = c.protocol(store, "iv-ketamine").await;
        let patient = c
            .decided(
                store,
                "Rosa Santos",
                Decision::Eligible,
                &[v.protocol.route],
            )
            .await;
        let course = store
            .plan_course(&c.prescriber, c.id, &c.course(&v, patient, 7, "09:00"))
            .await
            .expect("course");
        let appointments = store
            .course(&c.prescriber, c.id, course)
            .await
            .expect("course")
            .appointments
            .into_iter()
            .map(|a| (a.kind, a.number, a.id))
            .collect();
        Course {
            c,
            patient,
            course,
            appointments,
        }
    }

    fn first(&self, kind: SessionKind) -> Uuid {
        self.appointments
            .iter()
            .find(|(k, _, _)| *k == kind)
            .map(|(_, _, id)| *id)
            .expect("appointment of the kind")
    }

    fn therapist(&self) -> &Actor {
        &self.c.therapist
    }

    /// The first dosing appointment checked in and its session opened by the nurse.
    async fn session(&self, store: &Store) -> Uuid {
        let appt = self.first(SessionKind::Dosing);
        store
            .act_on_appointment(
                &self.c.nurse,
                self.c.id,
                appt,
                AppointmentAction::CheckIn,
                "",
            )
            .await
            .expect("check in");
        store
            .open_session(&self.c.nurse, self.c.id, appt, now())
            .await
            .expect("open")
    }

    async fn note(
        &self,
        store: &Store,
        who: &Actor,
        kind: NoteKind,
        appointment: Option<Uuid>,
        pairs: &[(&str, &str)],
    ) -> Uuid {
        let content = form(pairs).parse(kind, today()).expect("form parses");
        store
            .start_note(
                who,
                self.c.id,
                &NewNote {
                    patient_id: self.patient,
                    kind,
                    appointment_id: appointment,
                    dosing_session_id: None,
                    content,
                },
                now(),
            )
            .await
            .expect("started")
    }

    async fn preparation(&self, store: &Store, intention: &str) -> Uuid {
        let prep = self.first(SessionKind::Preparation);
        self.note(
            store,
            self.therapist(),
            NoteKind::Preparation,
            Some(prep),
            &[("intention", intention), ("fears", "Losing control")],
        )
        .await
    }
}

/// One more staff member of the clinic (a second therapist, an admin…), named "Other {Role}".
async fn another(store: &Store, clinic: Uuid, role: Role) -> Actor {
    let id = store
        .create_staff(
            &Actor::system(),
            kap_store::staff::NewStaff {
                email: &format!("{}-{}@other.test", role.as_str(), Uuid::now_v7().simple()),
                full_name: &format!("Other {}", role.label()),
                password_hash: "$argon2id$not-a-real-hash",
                clinic_id: clinic,
                role,
            },
        )
        .await
        .expect("staff");
    Actor::staff(id, ActorKind::Staff, clinic, Some("127.0.0.1".into()))
}

fn form(pairs: &[(&str, &str)]) -> NoteForm {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    NoteForm::from_pairs(&owned)
}

fn refused<T: std::fmt::Debug>(r: Result<T, StoreError>) -> NoteRefused {
    match r {
        Err(StoreError::Conflict(Conflict::Note(n))) => n,
        other => panic!("expected a notes refusal, got {other:?}"),
    }
}

fn not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
}

async fn count(store: &Store, sql: &str) -> i64 {
    on_db!(&store.db, |p| sqlx::query_scalar::<_, i64>(
        sqlx::AssertSqlSafe(sql.to_owned())
    )
    .fetch_one(p)
    .await
    .expect("count"))
}

async fn raw(store: &Store, sql: &str) -> Result<u64, sqlx::Error> {
    on_db!(&store.db, |p| sqlx::query(sqlx::AssertSqlSafe(
        sql.to_owned()
    ))
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
}

/// Audit rows about one record: (action, detail), oldest first.
async fn audit_of(store: &Store, record: Uuid) -> Vec<(String, String)> {
    let sql =
        format!("SELECT action, detail FROM audit_event WHERE record_id = '{record}' ORDER BY seq");
    match &store.db {
        kap_store::Db::Sqlite(p, _) => {
            // Ids are stored as blobs on SQLite.
            let sql = "SELECT action, detail FROM audit_event WHERE record_id = $1 ORDER BY seq";
            sqlx::query_as::<_, (String, String)>(sql)
                .bind(record)
                .fetch_all(p)
                .await
                .expect("audit")
        }
        kap_store::Db::Postgres(p) => {
            sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql))
                .fetch_all(p)
                .await
                .expect("audit")
        }
    }
}

fn id_literal(store: &Store, id: Uuid) -> String {
    match &store.db {
        kap_store::Db::Sqlite(..) => format!("x'{}'", id.simple()),
        kap_store::Db::Postgres(_) => format!("'{id}'"),
    }
}

both_backends!(
    a_signed_preparation_notes_intention_is_the_courses_current_intention,
    |store: Store| async move {
        let k = Course::plan(&store).await;
        let (t, clinic) = (k.therapist(), k.c.id);
        assert_eq!(
            store
                .current_intention(t, clinic, k.patient, Some(k.course))
                .await
                .expect("read"),
            None
        );
        let id = k.preparation(&store, "To stop bracing for bad news").await;
        // A draft's intention is not yet the course's.
        assert_eq!(
            store
                .current_intention(t, clinic, k.patient, Some(k.course))
                .await
                .expect("read"),
            None
        );
        let edited = form(&[
            ("intention", "To stop bracing for bad news all the time"),
            ("support_plan", "Sister stays the night"),
        ])
        .parse(NoteKind::Preparation, today())
        .expect("parses");
        store
            .save_note(t, clinic, id, edited, now())
            .await
            .expect("saved");
        store.sign_note(t, clinic, id, now()).await.expect("signed");
        assert_eq!(
            store
                .current_intention(t, clinic, k.patient, Some(k.course))
                .await
                .expect("read")
                .as_deref(),
            Some("To stop bracing for bad news all the time")
        );
        let r = store
            .note(&k.c.nurse, clinic, id)
            .await
            .expect("nurse reads");
        assert_eq!(r.note.status(), NoteStatus::Signed);
        assert_eq!(r.note.course_id, Some(k.course));
        assert_eq!(r.note.template_version, 1);
        assert_eq!(r.note.verify(), Some(true));
        assert_eq!(r.template.kind, NoteKind::Preparation);
        assert_eq!(
            r.appointment.map(|a| a.kind),
            Some(SessionKind::Preparation)
        );
        let lines = store
            .note_lines_of_patient(&k.c.prescriber, clinic, k.patient)
            .await
            .expect("lines");
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].status, NoteStatus::Signed);
        assert_eq!(
            lines[0].summary,
            "To stop bracing for bad news all the time"
        );
        assert_eq!(lines[0].course_id, Some(k.course));
        let actions: Vec<String> = audit_of(&store, id)
            .await
            .into_iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(
            actions,
            ["note.draft", "note.draft", "note.sign", "note.read"]
        );
    }
);

both_backends!(
    a_note_for_the_wrong_kind_of_appointment_or_another_patient_is_refused,
    |store: Store| async move {
        let k = Course::plan(&store).await;
        let dosing = k.first(SessionKind::Dosing);
        let content = NoteContent::default();
        let r = store
            .start_note(
                k.therapist(),
                k.c.id,
                &NewNote {
                    patient_id: k.patient,
                    kind: NoteKind::Preparation,
                    appointment_id: Some(dosing),
                    dosing_session_id: None,
                    content: content.clone(),
                },
                now(),
            )
            .await;
        assert!(refused(r).to_string().contains("preparation session"));
        let other = k.c.patient(&store, "Ana Lima").await;
        let r = store
            .start_note(
                k.therapist(),
                k.c.id,
                &NewNote {
                    patient_id: other,
                    kind: NoteKind::Preparation,
                    appointment_id: Some(k.first(SessionKind::Preparation)),
                    dosing_session_id: None,
                    content: content.clone(),
                },
                now(),
            )
            .await;
        not_found(r);
        let r = store
            .start_note(
                k.therapist(),
                k.c.id,
                &NewNote {
                    patient_id: k.patient,
                    kind: NoteKind::InSession,
                    appointment_id: None,
                    dosing_session_id: None,
                    content,
                },
                now(),
            )
            .await;
        assert!(matches!(refused(r), NoteRefused::Rule(_)));
        assert_eq!(count(&store, "SELECT COUNT(*) FROM note").await, 0);
    }
);

both_backends!(
    a_signed_note_refuses_every_change_and_the_triggers_refuse_raw_sql,
    |store: Store| async move {
        let k = Course::plan(&store).await;
        let (t, clinic) = (k.therapist(), k.c.id);
        let id = k.preparation(&store, "To rest").await;
        store.sign_note(t, clinic, id, now()).await.expect("signed");
        let before = store.note(t, clinic, id).await.expect("read").note;
        assert_eq!(
            refused(
                store
                    .save_note(t, clinic, id, NoteContent::default(), now())
                    .await
            ),
            NoteRefused::Signed
        );
        assert_eq!(
            refused(store.discard_note(t, clinic, id, now()).await),
            NoteRefused::Signed
        );
        assert_eq!(
            refused(store.sign_note(t, clinic, id, now()).await),
            NoteRefused::Signed
        );
        store
            .add_note_addendum(
                t,
                clinic,
                id,
                "Late detail",
                "Patient's sister will drive.",
                now(),
            )
            .await
            .expect("addendum");
        let idl = id_literal(&store, id);
        for sql in [
            format!("UPDATE note SET content = '{{}}' WHERE id = {idl}"),
            format!("UPDATE note SET signed_at = NULL, content_hash = NULL WHERE id = {idl}"),
            format!("UPDATE note SET updated_at = created_at WHERE id = {idl}"),
            format!("DELETE FROM note WHERE id = {idl}"),
            format!("UPDATE note_addendum SET text = 'changed' WHERE note_id = {idl}"),
            format!("DELETE FROM note_addendum WHERE note_id = {idl}"),
        ] {
            let r = raw(&store, &sql).await;
            assert!(r.is_err(), "{sql} was allowed");
        }
        let after = store.note(t, clinic, id).await.expect("read").note;
        assert_eq!(after.content, before.content);
        assert_eq!(after.signature, before.signature);
        assert_eq!(after.verify(), Some(true));
        assert_eq!(after.addenda.len(), 1);
        assert_eq!(after.addenda[0].reason, "Late detail");
        // A draft is changed by its author only, and never deleted either.
        let draft = k.preparation(&store, "Another").await;
        let dl = id_literal(&store, draft);
        assert!(
            raw(&store, &format!("DELETE FROM note WHERE id = {dl}"))
                .await
                .is_err()
        );
        assert!(
            raw(
                &store,
                &format!(
                    "INSERT INTO note_addendum (id, note_id, reason, text, author_id, written_at)
                 SELECT id, id, 'r', 't', author_id, updated_at FROM note WHERE id = {dl}"
                )
            )
            .await
            .is_err()
        );
        assert_eq!(
            refused(
                store
                    .add_note_addendum(t, clinic, draft, "r", "t", now())
                    .await
            ),
            NoteRefused::Draft
        );
    }
);

both_backends!(
    signing_or_editing_another_clinicians_note_is_refused_and_changes_nothing,
    |store: Store| async move {
        let k = Course::plan(&store).await;
        let clinic = k.c.id;
        let id = k.preparation(&store, "To be less afraid").await;
        let other = another(&store, clinic, Role::Therapist).await;
        let r = refused(store.sign_note(&other, clinic, id, now()).await);
        assert!(
            matches!(&r, NoteRefused::NotAuthor { what, .. } if *what == "sign it"),
            "{r:?}"
        );
        assert!(r.to_string().contains("Therapist Person"), "{r}");
        assert!(matches!(
            refused(
                store
                    .save_note(&other, clinic, id, NoteContent::default(), now())
                    .await
            ),
            NoteRefused::NotAuthor { .. }
        ));
        assert!(matches!(
            refused(store.discard_note(&other, clinic, id, now()).await),
            NoteRefused::NotAuthor { .. }
        ));
        let n = store.note(&other, clinic, id).await.expect("read").note;
        assert_eq!(n.status(), NoteStatus::Draft);
        assert_eq!(n.content.text(Section::Intention), "To be less afraid");
        // Another clinic's staff do not find it at all.
        let (elsewhere, stranger) = clinic_with(&store, "b", Role::Therapist).await;
        not_found(store.note(&stranger, elsewhere, id).await);
        not_found(store.sign_note(&stranger, elsewhere, id, now()).await);
    }
);

both_backends!(
    a_supervised_clinicians_note_waits_for_the_named_supervisor_who_co_signs_once,
    |store: Store| async move {
        let k = Course::plan(&store).await;
        let clinic = k.c.id;
        let (t, p) = (k.therapist(), &k.c.prescriber);
        let settings = NotesSettings {
            unsigned_after_hours: 72,
            supervision: vec![Supervision {
                clinician: t.staff_id.expect("id"),
                supervisor: p.staff_id.expect("id"),
            }],
        };
        let admin = another(&store, clinic, Role::Admin).await;
        store
            .save_note_settings(&admin, clinic, &settings)
            .await
            .expect("saved");
        let id = k.preparation(&store, "To trust my body").await;
        store.sign_note(t, clinic, id, now()).await.expect("signed");
        let lines = store
            .note_lines_of_patient(p, clinic, k.patient)
            .await
            .expect("lines");
        assert_eq!(lines[0].status, NoteStatus::AwaitingCosignature);
        let waiting = store
            .awaiting_my_cosignature(p, clinic)
            .await
            .expect("list");
        assert_eq!(waiting.iter().map(|w| w.id).collect::<Vec<_>>(), [id]);
        // Nobody else co-signs: not the author, not another prescriber; nor by raw SQL.
        for who in [t.clone(), another(&store, clinic, Role::Prescriber).await] {
            let r = refused(store.cosign_note(&who, clinic, id, now()).await);
            assert!(matches!(r, NoteRefused::NotTheSupervisor { .. }), "{r:?}");
        }
        let idl = id_literal(&store, id);
        let tl = id_literal(&store, t.staff_id.expect("id"));
        assert!(
            raw(
                &store,
                &format!(
                    "INSERT INTO note_cosignature (note_id, cosigned_by, cosigned_at)
                 SELECT id, {tl}, updated_at FROM note WHERE id = {idl}"
                )
            )
            .await
            .is_err()
        );
        store
            .cosign_note(p, clinic, id, now())
            .await
            .expect("co-signed");
        assert_eq!(
            refused(store.cosign_note(p, clinic, id, now()).await),
            NoteRefused::AlreadyCosigned
        );
        let n = store.note(p, clinic, id).await.expect("read").note;
        assert_eq!(n.status(), NoteStatus::Signed);
        assert_eq!(n.verify(), Some(true));
        assert!(
            raw(
                &store,
                &format!("DELETE FROM note_cosignature WHERE note_id = {idl}")
            )
            .await
            .is_err()
        );
        assert!(
            store
                .awaiting_my_cosignature(p, clinic)
                .await
                .expect("list")
                .is_empty()
        );
        // An unsupervised prescriber's own note is simply signed.
        let mine = k
            .note(
                &store,
                p,
                NoteKind::Progress,
                None,
                &[
                    ("subjective", "a"),
                    ("objective", "b"),
                    ("assessment", "c"),
                    ("plan", "d"),
                ],
            )
            .await;
        store
            .sign_note(p, clinic, mine, now())
            .await
            .expect("signed");
        assert_eq!(
            store
                .note(p, clinic, mine)
                .await
                .expect("read")
                .note
                .status(),
            NoteStatus::Signed
        );
    }
);

both_backends!(
    psychotherapy_notes_live_apart_and_only_their_author_and_grantees_read_them,
    |store: Store| async move {
        let k = Course::plan(&store).await;
        let clinic = k.c.id;
        let t = k.therapist();
        let words = "Transference: she heard her father in my silence";
        let id = k
            .note(
                &store,
                t,
                NoteKind::Psychotherapy,
                None,
                &[("process_notes", words)],
            )
            .await;
        store.sign_note(t, clinic, id, now()).await.expect("signed");
        assert_eq!(count(&store, "SELECT COUNT(*) FROM note").await, 0);
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM psychotherapy_note").await,
            1
        );
        // The author reads it and sees it in their chart list.
        assert_eq!(
            store
                .note(t, clinic, id)
                .await
                .expect("author")
                .note
                .content
                .text(Section::ProcessNotes),
            words
        );
        let (_, mine) = store
            .notes_of_patient(t, clinic, k.patient)
            .await
            .expect("list");
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].summary, "", "never summarised");
        // Nobody else: not a prescriber, a nurse, another therapist, an admin.
        let other_t = another(&store, clinic, Role::Therapist).await;
        let admin = another(&store, clinic, Role::Admin).await;
        for who in [&k.c.prescriber, &k.c.nurse, &other_t, &admin] {
            not_found(store.note(who, clinic, id).await);
            let (record, psy) = store
                .notes_of_patient(who, clinic, k.patient)
                .await
                .expect("list");
            assert!(record.is_empty() && psy.is_empty());
            not_found(
                store
                    .add_note_addendum(who, clinic, id, "r", "t", now())
                    .await,
            );
            not_found(
                store
                    .share_psychotherapy_note(
                        who,
                        clinic,
                        id,
                        who.staff_id.expect("id"),
                        true,
                        now(),
                    )
                    .await,
            );
        }
        // The timeline and the API's list never carry it, not even for its author.
        assert!(
            store
                .note_lines_of_patient(t, clinic, k.patient)
                .await
                .expect("lines")
                .is_empty()
        );
        // Not through an API token, not even the author's.
        let api = Actor::staff(t.staff_id.expect("id"), ActorKind::Api, clinic, None);
        not_found(store.note(&api, clinic, id).await);
        let (_, by_api) = store
            .notes_of_patient(&api, clinic, k.patient)
            .await
            .expect("list");
        assert!(by_api.is_empty());
        // Shared with the nurse: she reads it; revoked: she no longer does.
        let nurse_id = k.c.nurse.staff_id.expect("id");
        store
            .share_psychotherapy_note(t, clinic, id, nurse_id, true, now())
            .await
            .expect("shared");
        assert!(store.note(&k.c.nurse, clinic, id).await.is_ok());
        let (_, hers) = store
            .notes_of_patient(&k.c.nurse, clinic, k.patient)
            .await
            .expect("list");
        assert_eq!(hers.len(), 1);
        // A grantee reads but does not share, add to, or sign it.
        assert!(matches!(
            refused(
                store
                    .share_psychotherapy_note(&k.c.nurse, clinic, id, nurse_id, true, now())
                    .await
            ),
            NoteRefused::NotAuthor { .. }
        ));
        assert_eq!(
            refused(
                store
                    .add_note_addendum(&k.c.nurse, clinic, id, "r", "t", now())
                    .await
            ),
            NoteRefused::PsychotherapyAuthorOnly
        );
        store
            .share_psychotherapy_note(t, clinic, id, nurse_id, false, now())
            .await
            .expect("revoked");
        not_found(store.note(&k.c.nurse, clinic, id).await);
        // Never with a coordinator or an admin, nor twice, nor with the author.
        let coordinator = another(&store, clinic, Role::Coordinator).await;
        for who in [coordinator.staff_id, admin.staff_id, t.staff_id] {
            assert!(matches!(
                refused(
                    store
                        .share_psychotherapy_note(t, clinic, id, who.expect("id"), true, now())
                        .await
                ),
                NoteRefused::Rule(_)
            ));
        }
        // The audit: its id on every row, a refusal for each refused read, never its words.
        let rows = audit_of(&store, id).await;
        let actions: Vec<&str> = rows.iter().map(|(a, _)| a.as_str()).collect();
        assert!(actions.contains(&"note.draft") && actions.contains(&"note.sign"));
        assert_eq!(actions.iter().filter(|a| **a == "note.share").count(), 2);
        assert!(actions.iter().filter(|a| **a == "access.refused").count() >= 5);
        for (_, detail) in &rows {
            assert!(!detail.contains("Transference"), "{detail}");
        }
        let shares = count(&store, "SELECT COUNT(*) FROM psychotherapy_note_share").await;
        assert_eq!(shares, 2);
        assert!(
            raw(&store, "UPDATE psychotherapy_note_share SET granted = TRUE")
                .await
                .is_err()
        );
        assert!(
            raw(&store, "DELETE FROM psychotherapy_note_share")
                .await
                .is_err()
        );
        assert!(
            raw(&store, "UPDATE psychotherapy_note SET content = '{}'")
                .await
                .is_err()
        );
        assert!(raw(&store, "DELETE FROM psychotherapy_note").await.is_err());
    }
);

both_backends!(
    the_therapists_observations_during_a_session_make_one_in_session_note_each,
    |store: Store| async move {
        let k = Course::plan(&store).await;
        let clinic = k.c.id;
        let session = k.session(&store).await;
        let t = k.therapist();
        let n1 = store
            .observe_in_session(
                t,
                clinic,
                session,
                "Eyes closed, breathing slow",
                now() - Duration::minutes(20),
                now(),
            )
            .await
            .expect("observed");
        let n2 = store
            .observe_in_session(
                t,
                clinic,
                session,
                "Settling in",
                now() - Duration::minutes(30),
                now(),
            )
            .await
            .expect("observed");
        assert_eq!(n1, n2, "one in-session note per clinician and session");
        let other = another(&store, clinic, Role::Therapist).await;
        let n3 = store
            .observe_in_session(&other, clinic, session, "Tearful at 20 min", now(), now())
            .await
            .expect("observed");
        assert_ne!(n1, n3);
        // The other therapist does not add to the first one's note.
        assert!(matches!(
            refused(
                store
                    .add_observation(&other, clinic, n1, "x", now(), now())
                    .await
            ),
            NoteRefused::NotAuthor { .. }
        ));
        let d = store
            .dosing_notes(&k.c.prescriber, clinic, k.patient, session)
            .await
            .expect("read");
        assert_eq!(d.in_session.len(), 2);
        let texts: Vec<&str> = d.in_session[0]
            .content
            .observations
            .iter()
            .map(|o| o.text.as_str())
            .collect();
        assert_eq!(texts, ["Settling in", "Eyes closed, breathing slow"]);
        store.sign_note(t, clinic, n1, now()).await.expect("signed");
        let r = refused(
            store
                .observe_in_session(t, clinic, session, "later", now(), now())
                .await,
        );
        assert!(r.to_string().contains("addendum"), "{r}");
        let n = store.note(t, clinic, n1).await.expect("read").note;
        assert_eq!(n.dosing_session_id, Some(session));
        assert_eq!(n.appointment_id, Some(k.first(SessionKind::Dosing)));
        assert_eq!(n.content.observations.len(), 2);
    }
);

both_backends!(
    commitments_are_carried_to_the_next_session_and_reviewed_append_only,
    |store: Store| async move {
        let k = Course::plan(&store).await;
        let clinic = k.c.id;
        let t = k.therapist();
        let session = k.session(&store).await;
        let week = (today() + Duration::days(7)).to_string();
        let id = k
            .note(
                &store,
                t,
                NoteKind::Integration,
                Some(k.first(SessionKind::Integration)),
                &[
                    ("themes", "Grief for her father"),
                    (&commitment_field(0, "text"), "Call my sister on Sundays"),
                    (&commitment_field(0, "date"), &week),
                    (&commitment_field(1, "text"), "Walk after lunch"),
                    (&commitment_field(1, "date"), &week),
                    ("domain-self_talk-level", "clear"),
                    (
                        "domain-self_talk-text",
                        "Noticed 'I'm useless' and softened it",
                    ),
                ],
            )
            .await;
        // A draft makes no commitments yet.
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM note_commitment").await,
            0
        );
        store.sign_note(t, clinic, id, now()).await.expect("signed");
        let d = store
            .dosing_notes(&k.c.prescriber, clinic, k.patient, session)
            .await
            .expect("read");
        assert_eq!(d.commitments.len(), 2);
        assert_eq!(d.commitments[0].text, "Call my sister on Sundays");
        assert_eq!(d.commitments[0].status(), CommitmentStatus::Open);
        let domains = d.integration.expect("latest integration").content.domains;
        assert_eq!(domains.len(), 4);
        let first = d.commitments[0].id;
        store
            .review_commitment(
                t,
                clinic,
                first,
                "partly_kept",
                "Two Sundays of three",
                None,
                now(),
            )
            .await
            .expect("reviewed");
        store
            .review_commitment(
                t,
                clinic,
                first,
                "kept",
                "",
                None,
                now() + Duration::seconds(1),
            )
            .await
            .expect("reviewed");
        let e = refused(
            store
                .review_commitment(t, clinic, first, "maybe", "", None, now())
                .await,
        );
        assert!(matches!(e, NoteRefused::Invalid(_)));
        let d = store
            .dosing_notes(&k.c.prescriber, clinic, k.patient, session)
            .await
            .expect("read");
        assert_eq!(d.commitments.len(), 1, "a kept commitment is not carried");
        let all = store
            .commitments_of_patient(t, clinic, k.patient, Some(k.course))
            .await
            .expect("all");
        let reviews: Vec<CommitmentStatus> = all[0].reviews.iter().map(|r| r.status).collect();
        assert_eq!(
            reviews,
            [CommitmentStatus::PartlyKept, CommitmentStatus::Kept]
        );
        // The note that made them stays as signed.
        let r = store.note(t, clinic, id).await.expect("read");
        assert_eq!(r.note.verify(), Some(true));
        assert_eq!(r.commitments.len(), 2);
        // The next preparation note's page lists them.
        let next = k.preparation(&store, "To keep going").await;
        let n = store.note(t, clinic, next).await.expect("read").note;
        assert_eq!(
            store
                .commitments_before(clinic, &n)
                .await
                .expect("before")
                .len(),
            2
        );
        for sql in [
            "UPDATE commitment_review SET status = 'dropped'",
            "DELETE FROM commitment_review",
            "UPDATE note_commitment SET text = 'x'",
            "DELETE FROM note_commitment",
        ] {
            assert!(raw(&store, sql).await.is_err(), "{sql}");
        }
        // Commitments come only from signed notes.
        let draft = k
            .note(&store, t, NoteKind::Integration, None, &[("themes", "x")])
            .await;
        let dl = id_literal(&store, draft);
        assert!(raw(
            &store,
            &format!(
                "INSERT INTO note_commitment (id, note_id, patient_id, position, text, follow_up, made_at)
                 SELECT id, id, patient_id, 0, 't', '2030-01-01', created_at FROM note WHERE id = {dl}"
            )
        )
        .await
        .is_err());
    }
);

both_backends!(
    unsigned_notes_older_than_the_clinics_limit_are_overdue_and_a_draft_may_be_discarded,
    |store: Store| async move {
        let k = Course::plan(&store).await;
        let clinic = k.c.id;
        let t = k.therapist();
        let old = store
            .start_note(
                t,
                clinic,
                &NewNote {
                    patient_id: k.patient,
                    kind: NoteKind::Preparation,
                    appointment_id: None,
                    dosing_session_id: None,
                    content: NoteContent::default(),
                },
                now() - Duration::hours(80),
            )
            .await
            .expect("old draft");
        let fresh = k.preparation(&store, "x").await;
        let psy = k
            .note(
                &store,
                t,
                NoteKind::Psychotherapy,
                None,
                &[("process_notes", "p")],
            )
            .await;
        let (settings, mine) = store
            .unsigned_notes(t, clinic, false, now())
            .await
            .expect("list");
        assert_eq!(settings.unsigned_after_hours, 72);
        let overdue: Vec<Uuid> = mine.iter().filter(|n| n.overdue).map(|n| n.id).collect();
        assert_eq!(overdue, [old]);
        assert!(
            mine.iter().any(|n| n.id == psy),
            "the author sees their own psychotherapy draft"
        );
        // The prescriber's view of everyone's drafts leaves out others' psychotherapy notes.
        let (_, all) = store
            .unsigned_notes(&k.c.prescriber, clinic, true, now())
            .await
            .expect("list");
        let ids: Vec<Uuid> = all.iter().map(|n| n.id).collect();
        assert!(ids.contains(&old) && ids.contains(&fresh) && !ids.contains(&psy));
        let counts = store.unsigned_counts(clinic, now()).await.expect("counts");
        assert_eq!(counts, [("Therapist Person".to_owned(), 2, 1)]);
        // A longer limit: no longer overdue. The settings are versioned.
        let admin = another(&store, clinic, Role::Admin).await;
        store
            .save_note_settings(
                &admin,
                clinic,
                &NotesSettings {
                    unsigned_after_hours: 96,
                    supervision: vec![],
                },
            )
            .await
            .expect("saved");
        let (_, mine) = store
            .unsigned_notes(t, clinic, false, now())
            .await
            .expect("list");
        assert!(mine.iter().all(|n| !n.overdue));
        assert_eq!(count(&store, "SELECT COUNT(*) FROM note_settings").await, 1);
        let bad = NotesSettings {
            unsigned_after_hours: 0,
            supervision: vec![],
        };
        assert!(matches!(
            refused(store.save_note_settings(&admin, clinic, &bad).await),
            NoteRefused::Invalid(_)
        ));
        // Discarded by its author: gone from every list, kept on disk.
        store
            .discard_note(t, clinic, old, now())
            .await
            .expect("discarded");
        not_found(store.note(t, clinic, old).await);
        let (_, mine) = store
            .unsigned_notes(t, clinic, false, now())
            .await
            .expect("list");
        assert!(mine.iter().all(|n| n.id != old));
        let (record, _) = store
            .notes_of_patient(t, clinic, k.patient)
            .await
            .expect("list");
        assert!(record.iter().all(|n| n.id != old));
        assert_eq!(count(&store, "SELECT COUNT(*) FROM note").await, 2);
        let actions: Vec<String> = audit_of(&store, old)
            .await
            .into_iter()
            .map(|x| x.0)
            .collect();
        assert!(actions.contains(&"note.discard".to_owned()));
        // An unreadable stored version is an error, never the shipped default.
        let cl = id_literal(&store, clinic);
        raw(
            &store,
            &format!(
                "INSERT INTO note_settings (clinic_id, version, document, saved_at)
                 VALUES ({cl}, 9, '{{\"unsigned_after_hours\": \"soon\"}}', '2026-01-01T00:00:00Z')"
            ),
        )
        .await
        .expect("tampered");
        assert!(matches!(
            store.note_settings(clinic).await,
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(
            store.unsigned_notes(t, clinic, false, now()).await,
            Err(StoreError::Corrupt { .. })
        ));
    }
);

both_backends!(
    a_template_is_versioned_a_bad_one_refused_and_a_note_keeps_the_version_it_was_written_with,
    |store: Store| async move {
        let k = Course::plan(&store).await;
        let clinic = k.c.id;
        let admin = another(&store, clinic, Role::Admin).await;
        assert_eq!(
            store
                .note_template(clinic, NoteKind::Preparation)
                .await
                .expect("t")
                .0,
            0,
            "the shipped wording until a note or a save"
        );
        let first = k.preparation(&store, "x").await;
        let (v, _) = store
            .note_template(clinic, NoteKind::Preparation)
            .await
            .expect("t");
        assert_eq!(v, 1);
        let mut t = NoteTemplate::shipped(NoteKind::Preparation);
        t.sections[0].heading = "What you hope for".into();
        assert_eq!(
            store
                .save_note_template(&admin, clinic, &t)
                .await
                .expect("saved"),
            2
        );
        let mut bad = t.clone();
        bad.sections[1].heading = String::new();
        assert!(matches!(
            refused(store.save_note_template(&admin, clinic, &bad).await),
            NoteRefused::Invalid(_)
        ));
        let second = k.preparation(&store, "y").await;
        let r1 = store
            .note(k.therapist(), clinic, first)
            .await
            .expect("read");
        let r2 = store
            .note(k.therapist(), clinic, second)
            .await
            .expect("read");
        assert_eq!(r1.note.template_version, 1);
        assert_eq!(r1.template.heading(Section::Intention), "Intention");
        assert_eq!(r2.note.template_version, 2);
        assert_eq!(r2.template.heading(Section::Intention), "What you hope for");
        assert_eq!(
            store
                .note_template_versions(clinic, NoteKind::Preparation)
                .await
                .expect("versions")
                .len(),
            2
        );
        assert!(
            raw(&store, "UPDATE note_template SET document = '{}'")
                .await
                .is_err()
        );
        assert!(raw(&store, "DELETE FROM note_template").await.is_err());
    }
);

both_backends!(
    an_addendum_beyond_the_text_limit_is_refused_and_nothing_is_stored,
    |store: Store| async move {
        let k = Course::plan(&store).await;
        let (t, clinic) = (k.therapist(), k.c.id);
        let id = k.preparation(&store, "To rest").await;
        store.sign_note(t, clinic, id, now()).await.expect("signed");
        let long = "é".repeat(kap_domain::notes::LONG_TEXT_MAX + 1);
        let NoteRefused::Invalid(e) = refused(
            store
                .add_note_addendum(t, clinic, id, "Late entry", &long, now())
                .await,
        ) else {
            panic!("invalid expected");
        };
        assert!(e.get("text").is_some_and(|m| m.contains("20,000")));
        assert_eq!(count(&store, "SELECT COUNT(*) FROM note_addendum").await, 0);
        let at_limit = "é".repeat(kap_domain::notes::LONG_TEXT_MAX);
        store
            .add_note_addendum(t, clinic, id, "Late entry", &at_limit, now())
            .await
            .expect("at the limit, kept whole");
        let n = store.note(t, clinic, id).await.expect("read").note;
        assert_eq!(
            n.addenda[0].text.chars().count(),
            kap_domain::notes::LONG_TEXT_MAX
        );
    }
);
