//! Safety alerts: raised in the transaction of the record that raised them, listed for the
//! clinicians who act on them, acknowledged once with a note, never deleted.

use crate::audited::Audited;
use crate::db::{exec, fetch_all, scalar_opt};
use crate::error::{Conflict, Result, StoreError, code, field};
use crate::{Store, new_id, now};
use chrono::{DateTime, Utc};
use kap_domain::alert::{Alert, AlertKind, AlertSource, AlertStatus};
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
    source_kind: Option<String>,
    source_id: Option<Uuid>,
    session_id: Option<Uuid>,
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
        // Every alert names its source (migration 0011 filled it in for the older ones).
        let source = match (r.source_kind.as_deref(), r.source_id) {
            (Some(kind), Some(source_id)) => {
                AlertSource::parse(kind, source_id).map_err(|e| e.to_string())
            }
            _ => Err("the record that raised it is missing".to_owned()),
        };
        Ok(Alert {
            id,
            patient_id: r.patient_id,
            patient_name: r.patient_name,
            kind: code(R, id, "kind", &r.kind)?,
            severity: code(R, id, "severity", &r.severity)?,
            source: field(R, id, "source", source)?,
            session_id: r.session_id,
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
    a.severity, a.source_kind, a.source_id, a.session_id, a.detail, a.status, a.raised_at,
    a.acknowledged_at, s.full_name AS acknowledged_by_name, a.action_note, a.item_id,
    a.answer_value, p.phone AS patient_phone, p.emergency_name, p.emergency_phone
    FROM alert a JOIN patient p ON p.id = a.patient_id
    LEFT JOIN staff_user s ON s.id = a.acknowledged_by";

/// Open alerts in the order a clinician takes them: most severe first, then oldest.
const MOST_PRESSING_FIRST: &str =
    "ORDER BY CASE a.severity WHEN 'critical' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END, a.raised_at";

/// What raises an alert: the record that raised it (and the dosing session it belongs to),
/// what it is about, at the severity the clinic's rules give it.
pub(crate) struct Raise {
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub kind: AlertKind,
    pub severity: Severity,
    pub source: AlertSource,
    pub session_id: Option<Uuid>,
    /// What the clinician reads first: the flag's description, or what was recorded.
    pub detail: String,
    /// The item (question, vital sign) and the value recorded there, if any.
    pub item: Option<String>,
    pub answer: Option<i32>,
    pub at: DateTime<Utc>,
}

impl Raise {
    /// The alert for one safety flag of a questionnaire response.
    pub(crate) fn for_flag(
        clinic_id: Uuid,
        patient_id: Uuid,
        response_id: Uuid,
        f: &RaisedFlag,
        severity: Severity,
        at: DateTime<Utc>,
    ) -> Raise {
        Raise {
            clinic_id,
            patient_id,
            kind: f.flag.into(),
            severity,
            source: AlertSource::Response(response_id),
            session_id: None,
            detail: f.flag.describe().to_owned(),
            item: f.item.map(str::to_owned),
            answer: f.value,
            at,
        }
    }
}

/// Raises an alert inside the transaction of the record that raised it, so the alert is
/// durable when that record is. The caller has checked that the patient is of the clinic.
pub(crate) async fn raise(a: &mut Audited, r: Raise) -> Result<Uuid> {
    let id = new_id();
    exec!(
        tx(a.tx()),
        "INSERT INTO alert (id, clinic_id, patient_id, kind, severity, response_id, source_kind,
            source_id, session_id, detail, status, raised_at, item_id, answer_value)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)",
        id,
        r.clinic_id,
        r.patient_id,
        r.kind.as_str(),
        r.severity.as_str(),
        r.source.response_id(),
        r.source.kind_str(),
        r.source.id(),
        r.session_id,
        r.detail,
        AlertStatus::Open.as_str(),
        r.at,
        r.item,
        r.answer
    );
    let patient_id = r.patient_id;
    // The row names the alert, never its severity or kind: those are the answer.
    a.record(
        AuditAction::AlertRaised,
        Subject::record(RecordKind::Alert, id).with_patient(Some(patient_id)),
    )
    .await?;
    Ok(id)
}

/// The alerts raised by these records, in the order given, each record's oldest first. Not
/// audited here: the caller reads them as part of the record and audits that read.
pub(crate) async fn alerts_of_sources(
    tx: &mut crate::db::Tx,
    clinic_id: Uuid,
    sources: &[AlertSource],
) -> Result<Vec<Alert>> {
    let sql = format!(
        "{ALERT_SQL} WHERE a.clinic_id = $1 AND a.source_id = $2 AND a.source_kind = $3
         ORDER BY a.raised_at, a.id"
    );
    let mut out = vec![];
    for s in sources {
        out.extend(alerts(fetch_all!(
            tx(tx),
            AlertRow,
            sqlx::AssertSqlSafe(sql.clone()),
            clinic_id,
            s.id(),
            s.kind_str()
        ))?);
    }
    Ok(out)
}

impl Store {
    /// Open alerts of a clinic, most severe and oldest first (audited: they name patients).
    pub async fn open_alerts(&self, actor: &Actor, clinic_id: Uuid) -> Result<Vec<Alert>> {
        let sql = format!(
            "{ALERT_SQL} WHERE a.clinic_id = $1 AND a.status = 'open' {MOST_PRESSING_FIRST}
             LIMIT 200"
        );
        let mut a = self.audited_read_in(actor, clinic_id).await?;
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

    /// The open alerts raised in a dosing session, most severe and oldest first. Not audited
    /// here: the caller reads them as part of the session and audits that read.
    pub async fn open_alerts_of_session(
        &self,
        clinic_id: Uuid,
        session_id: Uuid,
    ) -> Result<Vec<Alert>> {
        let sql = format!(
            "{ALERT_SQL} WHERE a.clinic_id = $1 AND a.session_id = $2 AND a.status = 'open'
             {MOST_PRESSING_FIRST}"
        );
        alerts(fetch_all!(
            db(&self.db),
            AlertRow,
            sqlx::AssertSqlSafe(sql),
            clinic_id,
            session_id
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::NewStaff;
    use chrono::NaiveDate;
    use kap_domain::Role;
    use kap_domain::audit::ActorKind;
    use kap_domain::patient::PatientForm;

    /// A nurse's clinic with one patient: (clinic, nurse, patient).
    async fn clinic_with_patient(store: &Store) -> (Uuid, Actor, Uuid) {
        let clinic = store.create_clinic("a", "a").await.expect("clinic").id;
        let nurse = store
            .create_staff(
                &Actor::system(),
                NewStaff {
                    email: "nurse@a.test",
                    full_name: "Nina Nurse",
                    password_hash: "$argon2id$not-a-real-hash",
                    clinic_id: clinic,
                    role: Role::Nurse,
                },
            )
            .await
            .expect("staff");
        let actor = Actor::staff(nurse, ActorKind::Staff, clinic, None);
        let details = PatientForm {
            full_name: "Ana Lima".into(),
            date_of_birth: "1984-03-02".into(),
            phone: "555 010 2030".into(),
            ..Default::default()
        }
        .parse(NaiveDate::from_ymd_opt(2026, 11, 27).expect("date"))
        .expect("details");
        let patient = store
            .create_patient(&actor, clinic, &details)
            .await
            .expect("patient");
        (clinic, actor, patient)
    }

    /// What a dosing session does when a vital sign passes the protocol's alert threshold.
    async fn vitals_alert_reads_back_with_its_session_and_is_acknowledged_once(store: Store) {
        let (clinic, actor, patient) = clinic_with_patient(&store).await;
        let (vitals, session) = (new_id(), new_id());
        let mut a = store.audited_in(&actor, clinic).await.expect("tx");
        let id = raise(
            &mut a,
            Raise {
                clinic_id: clinic,
                patient_id: patient,
                kind: AlertKind::VitalOutOfRange,
                severity: Severity::Urgent,
                source: AlertSource::Vitals(vitals),
                session_id: Some(session),
                detail: "Systolic blood pressure 182 mmHg, above the protocol's alert threshold \
                         of 180 mmHg."
                    .into(),
                item: Some("systolic".into()),
                answer: Some(182),
                at: now(),
            },
        )
        .await
        .expect("raise");
        a.commit().await.expect("commit");

        let open = store
            .open_alerts_of_session(clinic, session)
            .await
            .expect("session alerts");
        assert_eq!(open.len(), 1);
        let got = &open[0];
        assert_eq!(got.id, id);
        assert_eq!(got.kind, AlertKind::VitalOutOfRange);
        assert_eq!(got.source, AlertSource::Vitals(vitals));
        assert_eq!(got.session_id, Some(session));
        assert_eq!(got.severity, Severity::Urgent);
        assert_eq!(
            (got.item.as_deref(), got.answer),
            (Some("systolic"), Some(182))
        );
        assert_eq!(got.patient_name, "Ana Lima");
        assert_eq!(got.answer_given(), got.detail);
        assert!(
            store
                .open_alerts_of_session(clinic, new_id())
                .await
                .expect("other session")
                .is_empty()
        );
        let other_clinic = store.create_clinic("b", "b").await.expect("clinic").id;
        assert!(
            store
                .open_alerts_of_session(other_clinic, session)
                .await
                .expect("other clinic")
                .is_empty(),
            "a session's alerts are its clinic's only"
        );
        assert_eq!(
            store.open_alerts(&actor, clinic).await.expect("open")[0].source,
            AlertSource::Vitals(vitals)
        );

        store
            .acknowledge_alert(
                &actor,
                clinic,
                id,
                "BP rechecked at 150/90; prescriber told",
            )
            .await
            .expect("ack");
        let again = store
            .acknowledge_alert(&actor, clinic, id, "overwrite")
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert!(
            store
                .open_alerts_of_session(clinic, session)
                .await
                .expect("session alerts")
                .is_empty()
        );
        let all = store.alerts_of(clinic, patient).await.expect("alerts");
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].status, AlertStatus::Acknowledged);
        assert_eq!(all[0].source, AlertSource::Vitals(vitals));
        assert_eq!(
            all[0].action_note.as_deref(),
            Some("BP rechecked at 150/90; prescriber told")
        );

        // The database itself keeps the source: named on every new alert, never changed.
        let nameless: Result<u64> = async {
            Ok(exec!(
                db(&store.db),
                "INSERT INTO alert (id, clinic_id, patient_id, kind, severity, detail, status,
                    raised_at) VALUES ($1,$2,$3,'adverse_event','high','x','open',$4)",
                new_id(),
                clinic,
                patient,
                now()
            ))
        }
        .await;
        assert!(nameless.is_err(), "an alert without a source is refused");
        let unknown: Result<u64> = async {
            Ok(exec!(
                db(&store.db),
                "INSERT INTO alert (id, clinic_id, patient_id, kind, severity, detail, status,
                    raised_at, source_kind, source_id) VALUES ($1,$2,$3,'adverse_event','high',
                    'x','open',$4,'lab_result',$5)",
                new_id(),
                clinic,
                patient,
                now(),
                new_id()
            ))
        }
        .await;
        assert!(unknown.is_err(), "an unknown source kind is refused");
        let moved: Result<u64> = async {
            Ok(exec!(
                db(&store.db),
                "UPDATE alert SET session_id = $1 WHERE id = $2",
                new_id(),
                id
            ))
        }
        .await;
        assert!(moved.is_err(), "an alert's source never changes");
    }

    #[tokio::test]
    async fn vitals_alert_reads_back_with_its_session_and_is_acknowledged_once_sqlite() {
        let store = crate::testing::store("sqlite").await.expect("store");
        vitals_alert_reads_back_with_its_session_and_is_acknowledged_once(store).await;
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL: set KAPSTONE_TEST_PG_URL and run with -- --include-ignored"]
    async fn vitals_alert_reads_back_with_its_session_and_is_acknowledged_once_postgres() {
        let store = crate::testing::store("postgres").await.expect("store");
        vitals_alert_reads_back_with_its_session_and_is_acknowledged_once(store).await;
    }
}
