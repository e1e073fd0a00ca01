//! A clinic's check-in settings, kept as a versioned document: each save adds a version.

use crate::db::{exec, fetch_opt};
use crate::error::{Result, StoreError};
use crate::{Store, now};
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::checkin::CheckinSettings;
use uuid::Uuid;

fn unreadable(clinic_id: Uuid, problem: String) -> StoreError {
    StoreError::Corrupt {
        record: "check-in settings of clinic",
        id: clinic_id.to_string(),
        field: "document",
        problem,
    }
}

impl Store {
    /// The clinic's current check-in settings: the latest saved version, or the product's
    /// defaults when the clinic has never saved any. A saved version that cannot be read, or
    /// that is out of bounds, is an error naming the clinic and the version.
    pub async fn checkin_settings(&self, clinic_id: Uuid) -> Result<CheckinSettings> {
        let row = fetch_opt!(
            db(&self.db),
            (i32, String),
            "SELECT version, document FROM checkin_settings WHERE clinic_id = $1
             ORDER BY version DESC LIMIT 1",
            clinic_id
        );
        let Some((version, doc)) = row else {
            return Ok(CheckinSettings::default());
        };
        let s: CheckinSettings = serde_json::from_str(&doc)
            .map_err(|e| unreadable(clinic_id, format!("version {version}: {e}")))?;
        s.validate()
            .map_err(|e| unreadable(clinic_id, format!("version {version}: {e}")))?;
        Ok(s)
    }

    /// Saves new check-in settings as the clinic's next version.
    pub async fn set_checkin_settings(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        s: &CheckinSettings,
    ) -> Result<()> {
        s.validate()
            .map_err(|e| unreadable(clinic_id, e.to_string()))?;
        let doc = serde_json::to_string(s).map_err(|e| unreadable(clinic_id, e.to_string()))?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        let by = a.actor().staff_id;
        exec!(
            tx(a.tx()),
            "INSERT INTO checkin_settings (clinic_id, version, document, saved_at, saved_by)
             SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM checkin_settings
             WHERE clinic_id = $1",
            clinic_id,
            &doc,
            now(),
            by
        );
        a.record(
            AuditAction::ClinicUpdated,
            Subject::record(RecordKind::Clinic, clinic_id).with_detail("check-in settings"),
        )
        .await?;
        a.commit().await
    }
}
