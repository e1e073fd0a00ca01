//! Safety alerts: raised in the transaction of the record that raised them, listed for the
//! clinicians who act on them, acknowledged once with a note, never deleted.

use crate::audited::Audited;
use crate::db::{exec, fetch_all, scalar_opt};
use crate::error::{Conflict, Result, StoreError, code};
use crate::{Store, new_id, now};
use chrono::{DateTime, Utc};
use kap_domain::alert::{Alert, AlertStatus};
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::instruments::{RaisedFlag, Severity};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: Uuid,
    patient_id: Uuid,
    patient_name: String,
    kind: String,
    severity: String,
    response_id: Option<Uuid>,
    detail: String,
    status: String,
    raised_at: DateTime<Utc>,
    acknowledged_at: Option<DateTime<Utc>>,
    acknowledged_by_name: Option<String>,
    action_note: Option<String>,
    item_id: Option<String>,
    answer_value: Option<i32>,
    patient_phone: Option<String>,
    emergency_name: Option<String>,
    emergency_phone: Option<String>,
}

const R: &str = "alert";

impl TryFrom<AlertRow> for Alert {
    type Error = StoreError;
    fn try_from(r: AlertRow) -> Result<Alert> {
        let id = r.id;
        Ok(Alert {
            id,
            patient_id: r.patient_id,
            patient_name: r.patient_name,
            kind: code(R, id, "kind", &r.kind)?,
            severity: code(R, id, "severity", &r.severity)?,
            response_id: r.response_id,
            detail: r.detail,
            status: code(R, id, "status", &r.status)?,
            raised_at: r.raised_at,
            acknowledged_at: r.acknowledged_at,
            acknowledged_by_name: r.acknowledged_by_name,
            action_note: r.action_note,
            item: r.item_id,
            answer: r.answer_value,
            patient_phone: r.patient_phone,
            emergency_name: r.emergency_name,
            emergency_phone: r.emergency_phone,
        })
    }
}

fn alerts(rows: Vec<AlertRow>) -> Result<Vec<Alert>> {
    rows.into_iter().map(Alert::try_from).collect()
}

const ALERT_SQL: &str = "SELECT a.id, a.patient_id, p.full_name AS patient_name, a.kind,
    a.severity, a.response_id, a.detail, a.status, a.raised_at, a.acknowledged_at,
    s.full_name AS acknowledged_by_name, a.action_note, a.item_id, a.answer_value,
    p.phone AS patient_phone, p.emergency_name, p.emergency_phone
    FROM alert a JOIN patient p ON p.id = a.patient_id
    LEFT JOIN staff_user s ON s.id = a.acknowledged_by";

/// What raises an alert: a flag of a response, at the severity the clinic's rules give it.
pub(crate) struct Raise<'a> {
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub response_id: Uuid,
    pub flag: &'a RaisedFlag,
    pub severity: Severity,
    pub at: DateTime<Utc>,
}

/// Raises the alert for one safety flag of a response, inside the response's transaction.
pub(crate) async fn raise(a: &mut Audited, r: Raise<'_>) -> Result<Uuid> {
    let id = new_id();
    let f = r.flag;
    exec!(
        tx(a.tx()),
        "INSERT INTO alert (id, clinic_id, patient_id, kind, severity, response_id, detail,
            status, raised_at, item_id, answer_value)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
        id,
        r.clinic_id,
        r.patient_id,
        f.flag.as_str(),
        r.severity.as_str(),
        r.response_id,
        f.flag.describe(),
        AlertStatus::Open.as_str(),
        r.at,
        f.item,
        f.value
    );
    let patient_id = r.patient_id;
    // The row names the alert, never its severity or flag: those are the answer.
    a.record(
        AuditAction::AlertRaised,
        Subject::record(RecordKind::Alert, id).with_patient(Some(patient_id)),
    )
    .await?;
    Ok(id)
}

impl Store {
    /// Open alerts of a clinic, most severe and oldest first (audited: they name patients).
    pub async fn open_alerts(&self, actor: &Actor, clinic_id: Uuid) -> Result<Vec<Alert>> {
        let sql = format!(
            "{ALERT_SQL} WHERE a.clinic_id = $1 AND a.status = 'open'
             ORDER BY CASE a.severity WHEN 'critical' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END,
                      a.raised_at LIMIT 200"
        );
        let mut a = self.audited_in(actor, clinic_id).await?;
        let rows = fetch_all!(tx(a.tx()), AlertRow, sqlx::AssertSqlSafe(sql), clinic_id);
        a.record(
            AuditAction::AlertsListed,
            Subject::none().with_detail(format!("{} open", rows.len())),
        )
        .await?;
        a.commit().await?;
        alerts(rows)
    }

    /// Every alert of a patient, newest first.
    pub async fn alerts_of(&self, clinic_id: Uuid, patient_id: Uuid) -> Result<Vec<Alert>> {
        let sql = format!(
            "{ALERT_SQL} WHERE a.clinic_id = $1 AND a.patient_id = $2 ORDER BY a.raised_at DESC"
        );
        alerts(fetch_all!(
            db(&self.db),
            AlertRow,
            sqlx::AssertSqlSafe(sql),
            clinic_id,
            patient_id
        ))
    }

    /// Acknowledges an open alert with the clinician's action note. Alerts are never deleted
    /// and an acknowledgment is never overwritten. Returns the patient the alert is about.
    pub async fn acknowledge_alert(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        alert_id: Uuid,
        note: &str,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT patient_id FROM alert WHERE id = $1 AND clinic_id = $2",
            alert_id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        let n = exec!(
            tx(a.tx()),
            "UPDATE alert SET status = $1, acknowledged_at = $2, acknowledged_by = $3,
                action_note = $4 WHERE id = $5 AND status = $6",
            AlertStatus::Acknowledged.as_str(),
            now(),
            actor.staff_id,
            note,
            alert_id,
            AlertStatus::Open.as_str()
        );
        if n == 0 {
            return Err(Conflict::AlertAlreadyAcknowledged.into());
        }
        a.record(
            AuditAction::AlertAcknowledged,
            Subject::record(RecordKind::Alert, alert_id).with_patient(Some(patient)),
        )
        .await?;
        a.commit().await?;
        Ok(patient)
    }
}
