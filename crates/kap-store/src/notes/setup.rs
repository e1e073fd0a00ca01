//! The clinic's note templates (a version per save, per kind) and its notes settings (a version
//! per save). A stored version that cannot be read, or no longer passes the domain's checks, is
//! an error naming the clinic and the version — never replaced by the shipped default.

use crate::db::{Tx, exec, fetch_all, fetch_opt, scalar_opt};
use crate::error::{Result, StoreError};
use crate::{Store, now};
use chrono::{DateTime, Utc};
use kap_domain::Role;
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::notes::{NoteKind, NoteRefused, NoteTemplate, NotesSettings};
use std::collections::HashSet;
use uuid::Uuid;

/// One saved version of a template, for the admin page's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateVersion {
    pub version: i32,
    pub saved_at: DateTime<Utc>,
    pub saved_by: Option<String>,
}

fn unreadable(what: &'static str, clinic_id: Uuid, problem: String) -> StoreError {
    StoreError::Corrupt {
        record: what,
        id: clinic_id.to_string(),
        field: "document",
        problem,
    }
}

fn read_template(clinic_id: Uuid, kind: NoteKind, version: i32, doc: &str) -> Result<NoteTemplate> {
    let bad = |e: String| {
        unreadable(
            "note template of clinic",
            clinic_id,
            format!("{} version {version}: {e}", kind.as_str()),
        )
    };
    let t: NoteTemplate = serde_json::from_str(doc).map_err(|e| bad(e.to_string()))?;
    if t.kind != kind {
        return Err(bad(format!("a template for {}", t.kind.as_str())));
    }
    t.check().map_err(|e| bad(e.to_string()))?;
    Ok(t)
}

/// A template version as stored (the note keeps its number).
pub(crate) async fn template_version(
    tx: &mut Tx,
    clinic_id: Uuid,
    kind: NoteKind,
    version: i32,
) -> Result<NoteTemplate> {
    let doc = scalar_opt!(
        tx(tx),
        String,
        "SELECT document FROM note_template WHERE clinic_id = $1 AND kind = $2 AND version = $3",
        clinic_id,
        kind.as_str(),
        version
    )
    .ok_or_else(|| {
        unreadable(
            "note template of clinic",
            clinic_id,
            format!("{} version {version} is missing", kind.as_str()),
        )
    })?;
    read_template(clinic_id, kind, version, &doc)
}

/// The current template of a kind and its version, saving Kapstone's shipped wording as the
/// clinic's version 1 the first time a note of the kind is written (so every note names a
/// version that exists).
pub(crate) async fn current_template_for_writing(
    tx: &mut Tx,
    clinic_id: Uuid,
    kind: NoteKind,
    by: Option<Uuid>,
) -> Result<(i32, NoteTemplate)> {
    if let Some((v, doc)) = fetch_opt!(
        tx(tx),
        (i32, String),
        "SELECT version, document FROM note_template WHERE clinic_id = $1 AND kind = $2
         ORDER BY version DESC LIMIT 1",
        clinic_id,
        kind.as_str()
    ) {
        return Ok((v, read_template(clinic_id, kind, v, &doc)?));
    }
    let t = NoteTemplate::shipped(kind);
    insert_template(tx, clinic_id, &t, 1, by).await?;
    Ok((1, t))
}

async fn insert_template(
    tx: &mut Tx,
    clinic_id: Uuid,
    t: &NoteTemplate,
    version: i32,
    by: Option<Uuid>,
) -> Result<()> {
    let doc = serde_json::to_string(t)
        .map_err(|e| unreadable("note template of clinic", clinic_id, e.to_string()))?;
    exec!(
        tx(tx),
        "INSERT INTO note_template (clinic_id, kind, version, document, saved_at, saved_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
        clinic_id,
        t.kind.as_str(),
        version,
        doc,
        now(),
        by
    );
    Ok(())
}

/// The settings as stored in a transaction (the shipped ones when the clinic never saved any).
pub(crate) async fn settings_in(tx: &mut Tx, clinic_id: Uuid) -> Result<NotesSettings> {
    let row = fetch_opt!(
        tx(tx),
        (i32, String),
        "SELECT version, document FROM note_settings WHERE clinic_id = $1
         ORDER BY version DESC LIMIT 1",
        clinic_id
    );
    read_settings(clinic_id, row)
}

fn read_settings(clinic_id: Uuid, row: Option<(i32, String)>) -> Result<NotesSettings> {
    let Some((version, doc)) = row else {
        return Ok(NotesSettings::default());
    };
    let s: NotesSettings = serde_json::from_str(&doc).map_err(|e| {
        unreadable(
            "notes settings of clinic",
            clinic_id,
            format!("version {version}: {e}"),
        )
    })?;
    if !(1..=kap_domain::notes::settings::UNSIGNED_AFTER_HOURS_MAX)
        .contains(&s.unsigned_after_hours)
    {
        return Err(unreadable(
            "notes settings of clinic",
            clinic_id,
            format!(
                "version {version}: unsigned_after_hours {} is out of bounds",
                s.unsigned_after_hours
            ),
        ));
    }
    Ok(s)
}

const CLINICIANS_SQL: &str = "SELECT s.id, m.role FROM staff_user s
    JOIN staff_membership m ON m.staff_id = s.id
    WHERE m.clinic_id = $1 AND s.active AND m.active";

fn only_clinicians(rows: Vec<(Uuid, String)>) -> HashSet<Uuid> {
    rows.into_iter()
        .filter(|(_, role)| {
            matches!(
                role.parse::<Role>(),
                Ok(Role::Prescriber | Role::Nurse | Role::Therapist)
            )
        })
        .map(|(id, _)| id)
        .collect()
}

/// The clinic's clinicians (prescribers, nurses, therapists) whose membership is active.
pub(crate) async fn clinicians(tx: &mut Tx, clinic_id: Uuid) -> Result<HashSet<Uuid>> {
    Ok(only_clinicians(fetch_all!(
        tx(tx),
        (Uuid, String),
        CLINICIANS_SQL,
        clinic_id
    )))
}

impl Store {
    /// The clinic's current template of a kind and its version (0: Kapstone's shipped wording,
    /// which becomes version 1 when the first note of the kind is written).
    pub async fn note_template(
        &self,
        clinic_id: Uuid,
        kind: NoteKind,
    ) -> Result<(i32, NoteTemplate)> {
        let row = fetch_opt!(
            db(&self.db),
            (i32, String),
            "SELECT version, document FROM note_template WHERE clinic_id = $1 AND kind = $2
             ORDER BY version DESC LIMIT 1",
            clinic_id,
            kind.as_str()
        );
        match row {
            Some((v, doc)) => Ok((v, read_template(clinic_id, kind, v, &doc)?)),
            None => Ok((0, NoteTemplate::shipped(kind))),
        }
    }

    /// Every saved version of a kind's template, newest first.
    pub async fn note_template_versions(
        &self,
        clinic_id: Uuid,
        kind: NoteKind,
    ) -> Result<Vec<TemplateVersion>> {
        Ok(fetch_all!(
            db(&self.db),
            (i32, DateTime<Utc>, Option<String>),
            "SELECT t.version, t.saved_at, s.full_name FROM note_template t
             LEFT JOIN staff_user s ON s.id = t.saved_by
             WHERE t.clinic_id = $1 AND t.kind = $2 ORDER BY t.version DESC",
            clinic_id,
            kind.as_str()
        )
        .into_iter()
        .map(|(version, saved_at, saved_by)| TemplateVersion {
            version,
            saved_at,
            saved_by,
        })
        .collect())
    }

    /// Saves a template as the kind's next version (refused, field by field, when it does not
    /// pass the domain's checks). Notes already written keep their version.
    pub async fn save_note_template(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        t: &NoteTemplate,
    ) -> Result<i32> {
        t.check().map_err(NoteRefused::Invalid)?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        let latest = scalar_opt!(
            tx(a.tx()),
            Option<i32>,
            "SELECT MAX(version) FROM note_template WHERE clinic_id = $1 AND kind = $2",
            clinic_id,
            t.kind.as_str()
        )
        .flatten()
        .unwrap_or(0);
        let version = latest + 1;
        let by = a.actor().staff_id;
        insert_template(a.tx(), clinic_id, t, version, by).await?;
        a.record(
            AuditAction::NoteTemplateChanged,
            Subject::record(RecordKind::Clinic, clinic_id)
                .with_detail(format!("{} template version {version}", t.kind.as_str())),
        )
        .await?;
        a.commit().await?;
        Ok(version)
    }

    /// The clinic's notes settings: the latest saved version, or the shipped ones (unsigned
    /// notes overdue after 72 hours, no one supervised) when it never saved any. A saved version
    /// that cannot be read is an error naming the clinic and the version.
    pub async fn note_settings(&self, clinic_id: Uuid) -> Result<NotesSettings> {
        let row = fetch_opt!(
            db(&self.db),
            (i32, String),
            "SELECT version, document FROM note_settings WHERE clinic_id = $1
             ORDER BY version DESC LIMIT 1",
            clinic_id
        );
        read_settings(clinic_id, row)
    }

    /// The ids of the clinic's active clinicians, whom supervision may name.
    pub async fn note_clinicians(&self, clinic_id: Uuid) -> Result<HashSet<Uuid>> {
        Ok(only_clinicians(fetch_all!(
            db(&self.db),
            (Uuid, String),
            CLINICIANS_SQL,
            clinic_id
        )))
    }

    /// Saves the notes settings as the clinic's next version, after the domain's checks against
    /// the clinic's clinicians as they are now.
    pub async fn save_note_settings(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        s: &NotesSettings,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let known = clinicians(a.tx(), clinic_id).await?;
        s.check(&known).map_err(NoteRefused::Invalid)?;
        let doc = serde_json::to_string(s)
            .map_err(|e| unreadable("notes settings of clinic", clinic_id, e.to_string()))?;
        let by = a.actor().staff_id;
        exec!(
            tx(a.tx()),
            "INSERT INTO note_settings (clinic_id, version, document, saved_at, saved_by)
             SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM note_settings
             WHERE clinic_id = $1",
            clinic_id,
            doc,
            now(),
            by
        );
        a.record(
            AuditAction::ClinicUpdated,
            Subject::record(RecordKind::Clinic, clinic_id).with_detail("notes settings"),
        )
        .await?;
        a.commit().await
    }
}
