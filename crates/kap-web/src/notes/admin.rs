//! The clinic's note templates (the heading and prompt of each section and the text a new note
//! starts with, per kind; each save a new version) and its notes settings (after how many hours
//! an unsigned note is overdue, and who is supervised by whom), for administrators. A template
//! or setting that does not pass the domain's checks comes back as typed, each problem beside
//! its field; nothing is saved.

use super::page::notice_text;
use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{Fields, NoticeQuery, field, see_other};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::notes::template::template_field;
use kap_domain::notes::{NoteKind, NoteRefused, NoteTemplate, NotesSettings};
use kap_domain::{FieldErrors, Role};
use kap_store::notes::TemplateVersion;
use kap_store::{Conflict, StoreError};
use uuid::Uuid;

fn shell(staff: &Staff, title: &str, notice: Option<&str>) -> Shell {
    let mut s = Shell::staff(staff, title, "staff");
    s.notice = notice_text(notice).or(match notice {
        Some("template-saved") => {
            Some("The template is saved as a new version. Notes already written keep theirs.")
        }
        Some("settings-saved") => Some("The notes settings are saved."),
        _ => None,
    });
    s
}

#[derive(Template)]
#[template(path = "notes/templates.html")]
struct TemplatesPage {
    shell: Shell,
    /// (code, label, current version: 0 = shipped)
    kinds: Vec<(&'static str, &'static str, i32)>,
}

pub(super) async fn templates(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let mut kinds = vec![];
    for k in NoteKind::ALL {
        let (v, _) = st.store.note_template(staff.clinic_id(), k).await?;
        kinds.push((k.as_str(), k.label(), v));
    }
    Ok(render(
        &TemplatesPage {
            shell: shell(&staff, "Note templates", q.notice.as_deref()),
            kinds,
        },
        StatusCode::OK,
    ))
}

/// One section of the template form.
struct Row {
    label: &'static str,
    heading_name: String,
    prompt_name: String,
    default_name: String,
    heading: String,
    prompt: String,
    default_text: String,
    takes_text: bool,
}

#[derive(Template)]
#[template(path = "notes/template.html")]
struct TemplatePage {
    shell: Shell,
    kind: NoteKind,
    version: i32,
    rows: Vec<Row>,
    versions: Vec<TemplateVersion>,
    errors: FieldErrors,
}

impl TemplatePage {
    fn err(&self, name: &str) -> Option<&str> {
        self.errors.get(name)
    }
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        self.shell.when(t)
    }
}

async fn template_page(
    st: &AppState,
    staff: &Staff,
    kind: NoteKind,
    notice: Option<&str>,
    typed: Option<&Fields>,
    errors: FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let (version, t) = st.store.note_template(staff.clinic_id(), kind).await?;
    let value = |name: &str, stored: &str| match typed {
        Some(f) => field(f, name).to_owned(),
        None => stored.to_owned(),
    };
    let rows = kind
        .template_sections()
        .into_iter()
        .map(|s| {
            let x = t.section(s);
            let (h, p, d) = (
                template_field(s, "heading"),
                template_field(s, "prompt"),
                template_field(s, "default"),
            );
            Row {
                label: s.label(),
                heading: value(&h, x.map_or(s.label(), |x| x.heading.as_str())),
                prompt: value(&p, x.map_or("", |x| x.prompt.as_str())),
                default_text: value(&d, x.map_or("", |x| x.default_text.as_str())),
                heading_name: h,
                prompt_name: p,
                default_name: d,
                takes_text: s.is_text(),
            }
        })
        .collect();
    Ok(render(
        &TemplatePage {
            shell: shell(staff, &format!("{} template", kind.label()), notice),
            kind,
            version,
            rows,
            versions: st
                .store
                .note_template_versions(staff.clinic_id(), kind)
                .await?,
            errors,
        },
        status,
    ))
}

fn kind_of(s: &str) -> AppResult<NoteKind> {
    s.parse().map_err(|_| AppError::NotFound)
}

pub(super) async fn template(
    State(st): State<AppState>,
    staff: Staff,
    Path(kind): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let kind = kind_of(&kind)?;
    template_page(
        &st,
        &staff,
        kind,
        q.notice.as_deref(),
        None,
        FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn save_template(
    State(st): State<AppState>,
    staff: Staff,
    Path(kind): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let kind = kind_of(&kind)?;
    let errors = match NoteTemplate::from_form(kind, &f) {
        Ok(t) => match st
            .store
            .save_note_template(&staff.actor(), staff.clinic_id(), &t)
            .await
        {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/admin/note-templates/{}?notice=template-saved",
                    kind.as_str()
                )));
            }
            Err(StoreError::Conflict(Conflict::Note(NoteRefused::Invalid(e)))) => e,
            Err(e) => return Err(e.into()),
        },
        Err(e) => e,
    };
    template_page(
        &st,
        &staff,
        kind,
        None,
        Some(&f),
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// One supervision row of the settings form.
struct SupervisionRow {
    i: usize,
    clinician: Option<Uuid>,
    supervisor: Option<Uuid>,
}

#[derive(Template)]
#[template(path = "notes/settings.html")]
struct SettingsPage {
    shell: Shell,
    hours: String,
    rows: Vec<SupervisionRow>,
    clinicians: Vec<(Uuid, String)>,
    counts: Vec<(String, i64, i64)>,
    errors: FieldErrors,
}

impl SettingsPage {
    fn err(&self, name: &str) -> Option<&str> {
        self.errors.get(name)
    }
    fn row_err(&self, i: &usize) -> Option<&str> {
        self.errors.get(&format!("supervisor-{i}"))
    }
    fn is(&self, chosen: &Option<Uuid>, id: &Uuid) -> bool {
        *chosen == Some(*id)
    }
}

async fn settings_page(
    st: &AppState,
    staff: &Staff,
    notice: Option<&str>,
    typed: Option<&Fields>,
    errors: FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let clinic = staff.clinic_id();
    let current = st.store.note_settings(clinic).await?;
    let clinicians: Vec<(Uuid, String)> = st
        .store
        .staff_of_clinic(clinic)
        .await?
        .into_iter()
        .filter(|m| m.active && matches!(m.role, Role::Prescriber | Role::Nurse | Role::Therapist))
        .map(|m| (m.id, format!("{} ({})", m.full_name, m.role.label())))
        .collect();
    let (hours, mut rows) = match typed {
        Some(f) => {
            let n = f
                .iter()
                .filter(|(k, _)| k.starts_with("clinician-"))
                .count();
            let id = |k: String| uuid::Uuid::parse_str(field(f, &k)).ok();
            (
                field(f, "unsigned_after_hours").to_owned(),
                (0..n)
                    .map(|i| SupervisionRow {
                        i,
                        clinician: id(format!("clinician-{i}")),
                        supervisor: id(format!("supervisor-{i}")),
                    })
                    .collect::<Vec<_>>(),
            )
        }
        None => (
            current.unsigned_after_hours.to_string(),
            current
                .supervision
                .iter()
                .enumerate()
                .map(|(i, s)| SupervisionRow {
                    i,
                    clinician: Some(s.clinician),
                    supervisor: Some(s.supervisor),
                })
                .collect(),
        ),
    };
    let next = rows.len();
    for i in next..next + 2 {
        rows.push(SupervisionRow {
            i,
            clinician: None,
            supervisor: None,
        });
    }
    Ok(render(
        &SettingsPage {
            shell: shell(staff, "Notes settings", notice),
            hours,
            rows,
            clinicians,
            counts: st.store.unsigned_counts(clinic, kap_store::now()).await?,
            errors,
        },
        status,
    ))
}

pub(super) async fn settings(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    settings_page(
        &st,
        &staff,
        q.notice.as_deref(),
        None,
        FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn save_settings(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let clinic = staff.clinic_id();
    let known = st.store.note_clinicians(clinic).await?;
    let errors = match NotesSettings::from_form(&f, &known) {
        Ok(s) => match st
            .store
            .save_note_settings(&staff.actor(), clinic, &s)
            .await
        {
            Ok(()) => return Ok(see_other("/admin/notes?notice=settings-saved")),
            Err(StoreError::Conflict(Conflict::Note(NoteRefused::Invalid(e)))) => e,
            Err(e) => return Err(e.into()),
        },
        Err(e) => e,
    };
    settings_page(
        &st,
        &staff,
        None,
        Some(&f),
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
