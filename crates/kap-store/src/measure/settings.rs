//! A clinic's measurement settings, kept as a versioned document: each save adds a version.

use crate::db::{exec, fetch_opt};
use crate::error::{Result, StoreError};
use crate::{Store, now};
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::measure::MeasurementSettings;
use uuid::Uuid;

fn unreadable(clinic_id: Uuid, field: &'static str, problem: String) -> StoreError {
    StoreError::Corrupt {
        record: "clinic settings of clinic",
        id: clinic_id.to_string(),
        field,
        problem,
    }
}

impl Store {
    /// The clinic's current measurement settings: the latest saved version, or the product's
    /// defaults when the clinic has never saved any. A saved version that cannot be read, or
    /// that is out of bounds, is an error naming the clinic and the field.
    pub async fn measurement_settings(&self, clinic_id: Uuid) -> Result<MeasurementSettings> {
        let row = fetch_opt!(
            db(&self.db),
            (i32, String),
            "SELECT version, document FROM clinic_settings WHERE clinic_id = $1
             ORDER BY version DESC LIMIT 1",
            clinic_id
        );
        let Some((version, doc)) = row else {
            return Ok(MeasurementSettings::default());
        };
        let s: MeasurementSettings = serde_json::from_str(&doc)
            .map_err(|e| unreadable(clinic_id, "document", format!("version {version}: {e}")))?;
        s.validate()
            .map_err(|e| unreadable(clinic_id, "document", format!("version {version}: {e}")))?;
        Ok(s)
    }

    /// Saves new measurement settings as the clinic's next version.
    pub async fn set_measurement_settings(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        s: &MeasurementSettings,
    ) -> Result<()> {
        s.validate()
            .map_err(|e| unreadable(clinic_id, "document", e.to_string()))?;
        let doc = serde_json::to_string(s)
            .map_err(|e| unreadable(clinic_id, "document", e.to_string()))?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        let by = a.actor().staff_id;
        exec!(
            tx(a.tx()),
            "INSERT INTO clinic_settings (clinic_id, version, document, saved_at, saved_by)
             SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM clinic_settings
             WHERE clinic_id = $1",
            clinic_id,
            &doc,
            now(),
            by
        );
        a.record(
            AuditAction::ClinicUpdated,
            Subject::record(RecordKind::Clinic, clinic_id).with_detail("measurement settings"),
        )
        .await?;
        a.commit().await
    }
}
