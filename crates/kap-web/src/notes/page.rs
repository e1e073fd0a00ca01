//! The note's page and the new-note form, and every form posted from them. A draft is edited on
//! its page by its author (saved only when they press Save; no script needed); anyone else, and
//! everyone once it is signed, reads it. A form that comes back with problems shows the page
//! again with what was typed and each problem beside its field; nothing is stored.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppError, AppResult, conflict_words};
use crate::http::extract::{Fields, field, opt_id, parse_id, see_other};
use crate::http::sections::Returned;
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveTime, Utc};
use kap_domain::notes::access::{kinds_written_by, may_write};
use kap_domain::notes::content::{COMMITMENTS_MAX, commitment_field, domain_field};
use kap_domain::notes::{
    Commitment, CommitmentStatus, Domain, Level, NoteContent, NoteForm, NoteKind, NoteRefused,
    NoteStatus, NoteTemplate, ProgressFormat, Section,
};
use kap_domain::permission::Action;
use kap_domain::time::TimeZone;
use kap_domain::{FieldErrors, Role};
use kap_store::notes::{NewNote, NotePlaces, NoteRecord};
use kap_store::{Conflict, StoreError};
use uuid::Uuid;

/// The fixed confirmations of the notes pages (chosen by key, never user text).
pub(super) fn notice_text(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "saved" => "The draft is saved.",
        "started" => "The draft is saved. It is yours to finish and sign.",
        "signed" => "The note is signed and locked. Corrections are addenda.",
        "cosigned" => "Co-signed.",
        "addendum" => "The addendum is added.",
        "observed" => "Observation added.",
        "shared" => "The note is shared.",
        "unshared" => "The note is no longer shared with that clinician.",
        "reviewed" => "The commitment's review is recorded.",
        "discarded" => "The draft was discarded.",
        _ => return None,
    })
}

/// One part of a note in the edit form.
pub(super) struct Part {
    pub code: &'static str,
    pub heading: String,
    pub prompt: String,
    pub text: String,
    pub is_text: bool,
    pub is_observations: bool,
    pub is_commitments: bool,
    pub is_domains: bool,
}

pub(super) struct CommitmentRow {
    pub text_name: String,
    pub date_name: String,
    pub text: String,
    pub date: String,
    pub n: usize,
}

pub(super) struct DomainRow {
    pub label: &'static str,
    pub level_name: String,
    pub text_name: String,
    /// Each level: code, label, chosen.
    pub levels: Vec<(&'static str, &'static str, bool)>,
    pub text: String,
}

/// The edit form of a note: its parts with what they hold (as stored, or as typed when the form
/// came back), and the problems found.
pub(super) struct Editor {
    pub format: Option<ProgressFormat>,
    pub parts: Vec<Part>,
    pub observations: Vec<(String, String)>,
    pub commitments: Vec<CommitmentRow>,
    pub domains: Vec<DomainRow>,
    pub errors: FieldErrors,
}

impl Editor {
    pub(super) fn new(
        kind: NoteKind,
        content: &NoteContent,
        t: &NoteTemplate,
        typed: Option<&[(String, String)]>,
        errors: FieldErrors,
        tz: TimeZone,
    ) -> Editor {
        let value = |name: &str, stored: String| match typed {
            Some(f) => f
                .iter()
                .find(|(k, _)| k == name)
                .map_or(String::new(), |(_, v)| v.clone()),
            None => stored,
        };
        let format = content.format;
        let parts = kind
            .sections(format)
            .into_iter()
            .map(|s| Part {
                code: s.as_str(),
                heading: t.heading(s).to_owned(),
                prompt: t.prompt(s).to_owned(),
                text: if s.is_text() {
                    value(s.as_str(), content.text(s).to_owned())
                } else {
                    String::new()
                },
                is_text: s.is_text(),
                is_observations: s == Section::Observations,
                is_commitments: s == Section::Commitments,
                is_domains: s == Section::Domains,
            })
            .collect();
        let stored = content.commitments.len();
        let rows = match typed {
            Some(f) => f
                .iter()
                .filter(|(k, _)| k.starts_with("commitment-") && k.ends_with("-text"))
                .count()
                .max(stored),
            None => stored,
        };
        let rows = (rows + 2).min(COMMITMENTS_MAX.max(rows));
        let commitments = (0..rows)
            .map(|i| {
                let (tn, dn) = (commitment_field(i, "text"), commitment_field(i, "date"));
                let stored = content.commitments.get(i);
                CommitmentRow {
                    text: value(&tn, stored.map(|c| c.text.clone()).unwrap_or_default()),
                    date: value(
                        &dn,
                        stored.map(|c| c.follow_up.to_string()).unwrap_or_default(),
                    ),
                    text_name: tn,
                    date_name: dn,
                    n: i + 1,
                }
            })
            .collect();
        let domains = Domain::ALL
            .into_iter()
            .map(|d| {
                let stored = content.domain(d);
                let (ln, tn) = (domain_field(d, "level"), domain_field(d, "text"));
                let level = value(
                    &ln,
                    stored
                        .map_or(Level::NotObserved, |x| x.level)
                        .as_str()
                        .to_owned(),
                );
                DomainRow {
                    label: d.label(),
                    levels: Level::ALL
                        .into_iter()
                        .map(|l| {
                            let chosen = l.as_str() == level
                                || (level.is_empty() && l == Level::NotObserved);
                            (l.as_str(), l.label(), chosen)
                        })
                        .collect(),
                    text: value(&tn, stored.map(|x| x.text.clone()).unwrap_or_default()),
                    level_name: ln,
                    text_name: tn,
                }
            })
            .collect();
        Editor {
            format,
            parts,
            observations: content
                .observations
                .iter()
                .map(|o| (tz.hm(&o.at), o.text.clone()))
                .collect(),
            commitments,
            domains,
            errors,
        }
    }

    pub(super) fn err(&self, name: &str) -> Option<&str> {
        self.errors.get(name)
    }

    pub(super) fn format_code(&self) -> &'static str {
        self.format.map_or("", ProgressFormat::as_str)
    }
}

/// A commitment as the pages show it.
pub(super) struct CommitmentView {
    pub id: Uuid,
    pub text: String,
    pub follow_up: String,
    pub status: CommitmentStatus,
    pub due: bool,
    pub made: String,
    pub reviews: Vec<String>,
}

impl CommitmentView {
    pub(super) fn of(c: &Commitment, tz: TimeZone) -> CommitmentView {
        let today = tz.date(&kap_store::now());
        CommitmentView {
            id: c.id,
            text: c.text.clone(),
            follow_up: c.follow_up.to_string(),
            status: c.status(),
            due: c.due(today),
            made: format!("{}, {}", c.made_by, tz.format(&c.made_at)),
            reviews: c
                .reviews
                .iter()
                .map(|r| {
                    let note = if r.note.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", r.note)
                    };
                    format!(
                        "{}{note} ({}, {})",
                        r.status.label(),
                        r.by_name,
                        tz.format(&r.at)
                    )
                })
                .collect(),
        }
    }
}

/// A part of a note as read.
pub(super) struct ReadPart {
    pub heading: String,
    pub text: String,
    pub is_observations: bool,
    pub is_commitments: bool,
    pub is_domains: bool,
}

#[derive(Template)]
#[template(path = "notes/note.html")]
pub(super) struct NotePage {
    pub shell: Shell,
    pub r: NoteRecord,
    pub status: NoteStatus,
    pub editor: Option<Editor>,
    pub read: Vec<ReadPart>,
    pub observations: Vec<(String, String)>,
    /// A signed integration note's commitments with their statuses (or a draft's as planned).
    pub made: Vec<CommitmentView>,
    pub planned: Vec<(String, String)>,
    pub domains: Vec<(&'static str, &'static str, String)>,
    /// Commitments of earlier integration notes of the course, to review.
    pub earlier: Vec<CommitmentView>,
    pub statuses: Vec<(&'static str, &'static str)>,
    pub may_review: bool,
    pub may_addendum: bool,
    pub may_cosign: bool,
    pub may_share: bool,
    pub may_observe: bool,
    pub candidates: Vec<(Uuid, String)>,
    pub hash_ok: Option<bool>,
    pub problem: Option<String>,
    pub returned: Returned,
    pub addenda: Vec<(String, String, String)>,
    pub facts: Vec<(&'static str, String)>,
}

impl NotePage {
    fn typed(&self, form: &str, name: &str) -> String {
        self.returned.value(form, None, name, "")
    }
    fn error(&self, form: &str, name: &str) -> Option<String> {
        self.returned.error(form, None, name)
    }
    fn review_note(&self, c: &Uuid) -> String {
        self.returned.value("review", Some(*c), "review_note", "")
    }
    fn review_error(&self, c: &Uuid, name: &str) -> Option<String> {
        self.returned.error("review", Some(*c), name)
    }
    fn hash_matches(&self) -> bool {
        self.hash_ok == Some(true)
    }
    fn signed(&self) -> bool {
        self.hash_ok.is_some()
    }
    fn id(&self) -> Uuid {
        self.r.note.id
    }
    fn is_draft(&self) -> bool {
        self.status == NoteStatus::Draft
    }
    fn psychotherapy(&self) -> bool {
        self.r.note.kind.is_psychotherapy()
    }
    fn hash(&self) -> String {
        self.r
            .note
            .signature
            .as_ref()
            .map(|s| s.content_hash.clone())
            .unwrap_or_default()
    }
    fn chose(&self, record: &Uuid, value: &str) -> bool {
        self.returned.value("review", Some(*record), "status", "") == value
    }
}

pub(super) fn time_of(tz: TimeZone, typed: &str, e: &mut FieldErrors) -> DateTime<Utc> {
    let now = kap_store::now();
    let v = typed.trim();
    if v.is_empty() {
        return now;
    }
    match NaiveTime::parse_from_str(v, "%H:%M") {
        Ok(t) => tz.at(tz.date(&now), t).unwrap_or_else(|m| {
            e.add("at", m);
            now
        }),
        Err(_) => {
            e.add("at", "Enter the time as hours and minutes, e.g. 10:40.");
            now
        }
    }
}

/// The note's page for `staff`, with a form as typed when it came back with problems.
pub(super) async fn note_page(
    st: &AppState,
    staff: &Staff,
    id: Uuid,
    notice: Option<&str>,
    returned: Returned,
    problem: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let r = st.store.note(&staff.actor(), staff.clinic_id(), id).await?;
    let tz = staff.tz;
    let me = staff.staff_id();
    let n = &r.note;
    let note_status = n.status();
    let editable = note_status == NoteStatus::Draft && n.is_author(me);
    let editor = editable.then(|| {
        let typed = returned
            .is("note", None)
            .then_some(returned.values.as_slice());
        let errors = if returned.is("note", None) || returned.is("sign", None) {
            returned.errors.clone()
        } else {
            FieldErrors::new()
        };
        Editor::new(n.kind, &n.content, &r.template, typed, errors, tz)
    });
    let read = n
        .kind
        .sections(n.content.format)
        .into_iter()
        .map(|s| ReadPart {
            heading: r.template.heading(s).to_owned(),
            text: n.content.text(s).to_owned(),
            is_observations: s == Section::Observations,
            is_commitments: s == Section::Commitments,
            is_domains: s == Section::Domains,
        })
        .collect();
    let earlier = if matches!(
        n.kind,
        NoteKind::Preparation | NoteKind::Integration | NoteKind::InSession
    ) {
        st.store
            .commitments_before(staff.clinic_id(), n)
            .await?
            .iter()
            .map(|c| CommitmentView::of(c, tz))
            .collect()
    } else {
        vec![]
    };
    let candidates = if n.kind.is_psychotherapy() && n.is_author(me) {
        st.store
            .staff_of_clinic(staff.clinic_id())
            .await?
            .into_iter()
            .filter(|m| {
                m.active
                    && m.id != me
                    && matches!(m.role, Role::Prescriber | Role::Nurse | Role::Therapist)
                    && !r.shared_with.iter().any(|c| c.id == m.id)
            })
            .map(|m| (m.id, format!("{} ({})", m.full_name, m.role.label())))
            .collect()
    } else {
        vec![]
    };
    let mut facts = vec![
        ("Author", n.author.name.clone()),
        ("Begun", tz.format(&n.created_at)),
    ];
    if let Some(a) = &r.appointment {
        facts.push((
            "Written for",
            format!("{}, {}", a.title(), tz.format(&a.starts_at)),
        ));
    }
    if let Some(s) = &n.signature {
        facts.push((
            "Signed",
            format!("{} by {}", tz.format(&s.at), n.author.name),
        ));
    }
    if let Some(c) = &n.cosigner {
        facts.push((
            "Co-signature",
            match &n.cosignature {
                Some(x) => format!("Co-signed by {}, {}", x.by.name, tz.format(&x.at)),
                None => format!("Awaiting co-signature by {}", c.name),
            },
        ));
    }
    facts.push((
        "Template",
        format!(
            "{} template, version {}",
            n.kind.label(),
            n.template_version
        ),
    ));
    let page = NotePage {
        shell: {
            let mut s = Shell::staff(
                staff,
                format!("{} — {}", n.kind.label(), r.patient_name),
                "patients",
            );
            s.notice = notice_text(notice);
            s
        },
        status: note_status,
        observations: n
            .content
            .observations
            .iter()
            .map(|o| (tz.hm(&o.at), o.text.clone()))
            .collect(),
        made: r
            .commitments
            .iter()
            .map(|c| CommitmentView::of(c, tz))
            .collect(),
        planned: n
            .content
            .commitments
            .iter()
            .map(|c| (c.text.clone(), c.follow_up.to_string()))
            .collect(),
        domains: n
            .content
            .domains
            .iter()
            .map(|d| (d.domain.label(), d.level.label(), d.text.clone()))
            .collect(),
        earlier,
        statuses: CommitmentStatus::ALL
            .map(|s| (s.as_str(), s.label()))
            .to_vec(),
        may_review: staff.may(Action::WriteNotes) && !n.kind.is_psychotherapy(),
        may_addendum: n.signed()
            && staff.may(Action::WriteNotes)
            && (!n.kind.is_psychotherapy() || n.is_author(me)),
        may_cosign: note_status == NoteStatus::AwaitingCosignature
            && n.cosigner.as_ref().is_some_and(|c| c.id == me),
        may_share: n.kind.is_psychotherapy() && n.is_author(me),
        may_observe: editable && n.kind == NoteKind::InSession,
        candidates,
        hash_ok: n.verify(),
        addenda: n
            .addenda
            .iter()
            .map(|a| {
                (
                    a.reason.clone(),
                    a.text.clone(),
                    format!("{}, {}", a.by.name, tz.format(&a.at)),
                )
            })
            .collect(),
        facts,
        editor,
        read,
        problem,
        returned,
        r,
    };
    Ok(render(&page, status))
}

pub(super) async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<crate::http::extract::NoticeQuery>,
) -> AppResult<Response> {
    note_page(
        &st,
        &staff,
        parse_id(&id)?,
        q.notice.as_deref(),
        Returned::none(),
        None,
        StatusCode::OK,
    )
    .await
}

/// Why a change was refused, in words, and the status to answer with; `None` for failures
/// that are not refusals.
fn refusal(e: &StoreError) -> Option<(String, FieldErrors, StatusCode)> {
    match e {
        StoreError::Conflict(Conflict::Note(
            NoteRefused::Invalid(f) | NoteRefused::Incomplete(f),
        )) => Some((
            super::refusal_words(&NoteRefused::Invalid(f.clone())),
            f.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        StoreError::Conflict(c) => {
            Some((conflict_words(c), FieldErrors::new(), StatusCode::CONFLICT))
        }
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
/// After a form about note `id`: back to the note with a notice, or the note again with the
/// problem (and the form as typed).
async fn answer<T>(
    st: &AppState,
    staff: &Staff,
    id: Uuid,
    r: Result<T, StoreError>,
    ok: &str,
    form: &'static str,
    record: Option<Uuid>,
    typed: &Fields,
) -> AppResult<Response> {
    match r {
        Ok(_) => Ok(see_other(&format!("/notes/{id}?notice={ok}"))),
        Err(e) => match refusal(&e) {
            Some((words, errors, status)) => {
                let mut ret = Returned::form(form, typed.clone(), errors);
                ret.record = record;
                note_page(st, staff, id, None, ret, Some(words), status).await
            }
            None => Err(e.into()),
        },
    }
}

/// The clinic's today, for checking follow-up dates.
fn today(staff: &Staff) -> chrono::NaiveDate {
    staff.tz.date(&kap_store::now())
}

/// Saves a draft (and signs it when "Save and sign" was pressed).
pub(super) async fn save(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let (actor, clinic) = (staff.actor(), staff.clinic_id());
    let kind = st.store.note(&actor, clinic, id).await?.note.kind;
    let content = match NoteForm::from_pairs(&f).parse(kind, today(&staff)) {
        Ok(c) => c,
        Err(errors) => {
            let words = super::refusal_words(&NoteRefused::Invalid(errors.clone()));
            return note_page(
                &st,
                &staff,
                id,
                None,
                Returned::form("note", f, errors),
                Some(words),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let saved = st
        .store
        .save_note(&actor, clinic, id, content, kap_store::now())
        .await;
    if saved.is_err() || field(&f, "then") != "sign" {
        return answer(&st, &staff, id, saved, "saved", "note", None, &f).await;
    }
    sign_saved(&st, &staff, id, f).await
}

/// Signs a draft just saved from its form ("Save and sign"): an incomplete note comes back as
/// typed, saved but not signed, with what is missing.
async fn sign_saved(st: &AppState, staff: &Staff, id: Uuid, f: Fields) -> AppResult<Response> {
    let signed = st
        .store
        .sign_note(&staff.actor(), staff.clinic_id(), id, kap_store::now())
        .await;
    match signed {
        Err(StoreError::Conflict(Conflict::Note(NoteRefused::Incomplete(errors)))) => {
            let words = format!(
                "The draft was saved but not signed. {}",
                errors
                    .iter()
                    .map(|x| x.message.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            note_page(
                st,
                staff,
                id,
                None,
                Returned::form("note", f, errors),
                Some(words),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        r => answer(st, staff, id, r, "signed", "note", None, &f).await,
    }
}

pub(super) async fn sign(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let r = st
        .store
        .sign_note(&staff.actor(), staff.clinic_id(), id, kap_store::now())
        .await;
    answer(&st, &staff, id, r, "signed", "sign", None, &f).await
}

pub(super) async fn discard(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let (actor, clinic) = (staff.actor(), staff.clinic_id());
    let patient = st.store.note(&actor, clinic, id).await?.note.patient_id;
    match st
        .store
        .discard_note(&actor, clinic, id, kap_store::now())
        .await
    {
        Ok(()) => Ok(see_other(&format!(
            "/patients/{patient}?notice=saved#notes"
        ))),
        r => answer(&st, &staff, id, r, "discarded", "discard", None, &f).await,
    }
}

pub(super) async fn cosign(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let r = st
        .store
        .cosign_note(&staff.actor(), staff.clinic_id(), id, kap_store::now())
        .await;
    answer(&st, &staff, id, r, "cosigned", "cosign", None, &f).await
}

pub(super) async fn addendum(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let r = st
        .store
        .add_note_addendum(
            &staff.actor(),
            staff.clinic_id(),
            id,
            field(&f, "reason"),
            field(&f, "text"),
            kap_store::now(),
        )
        .await;
    answer(&st, &staff, id, r, "addendum", "addendum", None, &f).await
}

pub(super) async fn observation(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut e = FieldErrors::new();
    let at = time_of(staff.tz, field(&f, "at"), &mut e);
    let r = if e.is_empty() {
        st.store
            .add_observation(
                &staff.actor(),
                staff.clinic_id(),
                id,
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
    answer(&st, &staff, id, r, "observed", "observation", None, &f).await
}

pub(super) async fn share(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let grant = field(&f, "action") != "revoke";
    let r = match Uuid::parse_str(field(&f, "grantee")) {
        Ok(grantee) => {
            st.store
                .share_psychotherapy_note(
                    &staff.actor(),
                    staff.clinic_id(),
                    id,
                    grantee,
                    grant,
                    kap_store::now(),
                )
                .await
        }
        Err(_) => Err(StoreError::Conflict(Conflict::Note(NoteRefused::Invalid(
            FieldErrors::single("grantee", "Choose the clinician."),
        )))),
    };
    let ok = if grant { "shared" } else { "unshared" };
    answer(&st, &staff, id, r, ok, "share", None, &f).await
}

/// Records what became of a commitment, from the page of the note being written at a later
/// session (`note`), and returns there.
pub(super) async fn review(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let commitment = parse_id(&id)?;
    let back = opt_id(&Some(field(&f, "note").to_owned()));
    let r = st
        .store
        .review_commitment(
            &staff.actor(),
            staff.clinic_id(),
            commitment,
            field(&f, "status"),
            field(&f, "review_note"),
            back,
            kap_store::now(),
        )
        .await;
    match back {
        Some(note) => {
            let r = r.map(|_| ());
            match r {
                Ok(()) => Ok(see_other(&format!("/notes/{note}?notice=reviewed#earlier"))),
                r => {
                    answer(
                        &st,
                        &staff,
                        note,
                        r,
                        "reviewed",
                        "review",
                        Some(commitment),
                        &f,
                    )
                    .await
                }
            }
        }
        None => r.map(|_| see_other("/")).map_err(AppError::from),
    }
}

#[derive(serde::Deserialize, Default)]
pub(super) struct NewQuery {
    kind: Option<String>,
    appointment: Option<String>,
    session: Option<String>,
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "notes/new.html")]
pub(super) struct NewPage {
    pub shell: Shell,
    pub patient_id: Uuid,
    pub patient_name: String,
    /// None: choose the kind first.
    pub editor: Option<Editor>,
    pub kinds: Vec<(String, String)>,
    /// (id, label, chosen)
    pub appointments: Vec<(Uuid, String, bool)>,
    pub sessions: Vec<(Uuid, String, bool)>,
    pub kind_code: &'static str,
    pub kind_label: &'static str,
    pub problem: Option<String>,
    pub template_version: i32,
}

impl NewPage {
    fn for_session(&self) -> bool {
        self.kind_code == NoteKind::InSession.as_str()
    }
    fn psychotherapy(&self) -> bool {
        self.kind_code == NoteKind::Psychotherapy.as_str()
    }
}

/// The new-note form (or, without a kind, the choice of kinds `staff` writes).
pub(super) async fn new_form(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    let patient = parse_id(&id)?;
    let chosen = (opt_id(&q.appointment), opt_id(&q.session));
    new_page(
        &st,
        &staff,
        patient,
        q,
        chosen,
        None,
        None,
        FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn new_page(
    st: &AppState,
    staff: &Staff,
    patient: Uuid,
    q: NewQuery,
    chosen: (Option<Uuid>, Option<Uuid>),
    typed: Option<&[(String, String)]>,
    problem: Option<String>,
    errors: FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let (actor, clinic) = (staff.actor(), staff.clinic_id());
    let kind = match q.kind.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(k) => Some(k.parse::<NoteKind>().map_err(|_| AppError::NotFound)?),
    };
    let shell = |title: String| Shell::staff(staff, title, "patients");
    let Some(kind) = kind else {
        let places = st
            .store
            .note_places(&actor, clinic, patient, NoteKind::Progress)
            .await?;
        let kinds = choices(staff.role(), patient);
        return Ok(render(
            &NewPage {
                shell: shell(format!("Write a note — {}", places.patient_name)),
                patient_id: patient,
                patient_name: places.patient_name,
                editor: None,
                kinds,
                appointments: vec![],
                sessions: vec![],
                kind_code: "",
                kind_label: "",
                problem,
                template_version: 0,
            },
            status,
        ));
    };
    check_writes(staff, kind)?;
    let format = match q.format.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(f) => Some(
            f.parse::<ProgressFormat>()
                .map_err(|_| AppError::NotFound)?,
        ),
    };
    let NotePlaces {
        patient_name,
        appointments,
        sessions,
    } = st.store.note_places(&actor, clinic, patient, kind).await?;
    let (version, template) = st.store.note_template(clinic, kind).await?;
    let content = NoteContent::from_template(kind, format, &template);
    let tz = staff.tz;
    Ok(render(
        &NewPage {
            shell: shell(format!(
                "New {} — {}",
                kind.label().to_lowercase(),
                patient_name
            )),
            patient_id: patient,
            patient_name,
            editor: Some(Editor::new(kind, &content, &template, typed, errors, tz)),
            kinds: vec![],
            appointments: appointments
                .iter()
                .map(|a| {
                    (
                        a.id,
                        format!("{}, {}", a.title(), tz.format(&a.starts_at)),
                        chosen.0 == Some(a.id),
                    )
                })
                .collect(),
            sessions: sessions
                .iter()
                .map(|(s, a)| {
                    (
                        *s,
                        format!("{}, {}", a.title(), tz.format(&a.starts_at)),
                        chosen.1 == Some(*s),
                    )
                })
                .collect(),
            kind_code: kind.as_str(),
            kind_label: kind.label(),
            problem,
            template_version: version,
        },
        status,
    ))
}

/// Refuses a kind of note the staff member does not write: by the permission table (a
/// psychotherapy note needs its own permission) — "not allowed"; by the notes rule (therapy
/// notes are the therapists' and prescribers') — a refusal in words.
pub(super) fn check_writes(staff: &Staff, kind: NoteKind) -> AppResult<()> {
    if kind.is_psychotherapy() && !staff.may(Action::WritePsychotherapyNotes) {
        return Err(AppError::Forbidden);
    }
    if !may_write(staff.role(), kind) {
        return Err(AppError::Conflict(format!(
            "{}s are written by therapists and prescribers; a nurse's observations go on the dosing session's flowsheet, and nurses write progress notes.",
            kind.label()
        )));
    }
    Ok(())
}

/// The kinds of note `role` writes, as links for a patient (progress notes in both formats).
pub(super) fn choices(role: Role, patient: Uuid) -> Vec<(String, String)> {
    let mut out = vec![];
    for k in kinds_written_by(role) {
        let base = format!("/patients/{patient}/notes/new?kind={}", k.as_str());
        match k {
            NoteKind::Progress => {
                for f in ProgressFormat::ALL {
                    out.push((
                        format!("{base}&format={}", f.as_str()),
                        format!("Progress note — {}", f.label()),
                    ));
                }
            }
            // In-session notes are started from the dosing session's page, or here.
            k => out.push((base, k.label().to_owned())),
        }
    }
    out
}

/// Starts a note from the new-note form (and signs it when asked).
pub(super) async fn create(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let patient = parse_id(&id)?;
    let kind: NoteKind = field(&f, "kind").parse().map_err(|_| {
        AppError::Invalid(FieldErrors::single(
            "kind",
            "Choose which kind of note to write.",
        ))
    })?;
    check_writes(&staff, kind)?;
    let appointment = opt_id(&Some(field(&f, "appointment").to_owned()));
    let session = opt_id(&Some(field(&f, "session").to_owned()));
    let q = NewQuery {
        kind: Some(kind.as_str().to_owned()),
        appointment: None,
        session: None,
        format: Some(field(&f, "format").to_owned()),
    };
    let content = match NoteForm::from_pairs(&f).parse(kind, today(&staff)) {
        Ok(c) => c,
        Err(errors) => {
            let words = super::refusal_words(&NoteRefused::Invalid(errors.clone()));
            return new_page(
                &st,
                &staff,
                patient,
                q,
                (appointment, session),
                Some(&f),
                Some(words),
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let (actor, clinic) = (staff.actor(), staff.clinic_id());
    let started = st
        .store
        .start_note(
            &actor,
            clinic,
            &NewNote {
                patient_id: patient,
                kind,
                appointment_id: appointment,
                dosing_session_id: session,
                content,
            },
            kap_store::now(),
        )
        .await;
    let id = match started {
        Ok(id) => id,
        Err(e) => {
            return match refusal(&e) {
                Some((words, errors, status)) => {
                    new_page(
                        &st,
                        &staff,
                        patient,
                        q,
                        (appointment, session),
                        Some(&f),
                        Some(words),
                        errors,
                        status,
                    )
                    .await
                }
                None => Err(e.into()),
            };
        }
    };
    if field(&f, "then") != "sign" {
        return Ok(see_other(&format!("/notes/{id}?notice=started")));
    }
    sign_saved(&st, &staff, id, f).await
}
