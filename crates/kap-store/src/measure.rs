//! Measurement-based care: questionnaire responses (scored in the domain, stored with their
//! item answers), the safety alerts they raise — written in the same transaction, before the
//! response is acknowledged — patient links, the outbox, schedules and the clinic's protocol.

use crate::audit::{Subject, append};
use crate::{
    Actor, Result, Store, StoreError, Tx, new_id, now, on_db, on_tx, random_hex, token_hash,
};
use chrono::{DateTime, Duration, Utc};
use kap_domain::audit::AuditAction;
use kap_domain::instruments::outcome::OutcomeRules;
use kap_domain::instruments::{Answers, Instrument, ResponseContext, Scored};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A clinic's measurement protocol: operational settings a clinic decides for itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Protocol {
    /// An open alert older than this is shown as escalated.
    pub alert_escalation_minutes: i32,
    /// How long a patient link stays valid.
    pub link_valid_hours: i32,
    /// Outcome rules by instrument code; missing instruments use the published defaults.
    pub outcome_rules: BTreeMap<String, OutcomeRules>,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol {
            alert_escalation_minutes: 60,
            link_valid_hours: 72,
            outcome_rules: BTreeMap::new(),
        }
    }
}

impl Protocol {
    pub fn rules_for(&self, code: &str) -> OutcomeRules {
        self.outcome_rules
            .get(code)
            .copied()
            .unwrap_or_else(|| OutcomeRules::default_for(code))
    }
}

/// A stored response.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Response {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub instrument: String,
    pub context: String,
    /// `staff`, `patient_link` or `api`.
    pub source: String,
    pub complete: bool,
    pub total: Option<i32>,
    pub band: Option<String>,
    pub screen: Option<String>,
    pub answered_at: DateTime<Utc>,
    pub entered_by_name: Option<String>,
}

/// A safety alert.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub kind: String,
    /// `high`, `urgent` or `critical`.
    pub severity: String,
    pub response_id: Option<Uuid>,
    pub detail: String,
    /// `open` or `acknowledged`.
    pub status: String,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by_name: Option<String>,
    pub action_note: Option<String>,
}

/// What recording a response produced.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub response_id: Uuid,
    pub alerts: Vec<Uuid>,
}

/// A patient link as looked up by its token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Link {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub instrument: String,
    pub context: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

impl Link {
    pub fn usable(&self, at: DateTime<Utc>) -> bool {
        self.used_at.is_none() && self.expires_at > at
    }
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct LinkRow {
    pub id: Uuid,
    pub instrument: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub patient_id: Option<Uuid>,
    pub patient_name: Option<String>,
    pub to_address: Option<String>,
    pub subject: String,
    pub body: String,
    /// `pending` (to send by email), `manual` (copy and send yourself), `sent`, `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Schedule {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub instrument: String,
    pub every_days: Option<i32>,
    pub before_appointment_kind: Option<String>,
    pub next_due_at: Option<DateTime<Utc>>,
    pub active: bool,
}

async fn patient_in_clinic(tx: &mut Tx, clinic_id: Uuid, patient_id: Uuid) -> Result<()> {
    let n: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM patient WHERE id = $1 AND clinic_id = $2"
    )
    .bind(patient_id)
    .bind(clinic_id)
    .fetch_one(&mut *c)
    .await?);
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

const RESPONSE_COLS: &str = "r.id, r.patient_id, r.instrument, r.context, r.source, r.complete,
    r.total, r.band, r.screen, r.answered_at, s.full_name AS entered_by_name";

const ALERT_COLS: &str = "a.id, a.patient_id, p.full_name AS patient_name, a.kind, a.severity,
    a.response_id, a.detail, a.status, a.raised_at, a.acknowledged_at,
    s.full_name AS acknowledged_by_name, a.action_note";

/// A message to put in the outbox.
struct QueuedMessage<'a> {
    clinic_id: Uuid,
    patient_id: Uuid,
    link_id: Uuid,
    to: Option<&'a str>,
    subject: &'a str,
    body: &'a str,
    /// `pending` (to email) or `manual` (staff copy it).
    status: &'a str,
}

async fn queue_message(tx: &mut Tx, m: &QueuedMessage<'_>) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO outbox (id, clinic_id, patient_id, link_id, to_address, subject, body,
            status, attempts, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,0,$9)"
    )
    .bind(new_id())
    .bind(m.clinic_id)
    .bind(m.patient_id)
    .bind(m.link_id)
    .bind(m.to)
    .bind(m.subject)
    .bind(m.body)
    .bind(m.status)
    .bind(now())
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(())
}

/// How the message to the patient reads.
pub struct LinkMessage {
    pub subject: String,
    pub body_with_url: Box<dyn Fn(&str) -> String + Send + Sync>,
}

impl Store {
    pub async fn protocol(&self, clinic_id: Uuid) -> Result<Protocol> {
        let row: Option<(i32, i32, String)> = on_db!(&self.db, |p| {
            sqlx::query_as(
            "SELECT alert_escalation_minutes, link_valid_hours, outcome_rules FROM clinic_protocol
             WHERE clinic_id = $1"
        )
        .bind(clinic_id)
        .fetch_optional(p)
        .await?
        });
        Ok(match row {
            Some((esc, hours, rules)) => Protocol {
                alert_escalation_minutes: esc,
                link_valid_hours: hours,
                outcome_rules: serde_json::from_str(&rules).unwrap_or_default(),
            },
            None => Protocol::default(),
        })
    }

    pub async fn set_protocol(&self, actor: &Actor, clinic_id: Uuid, p: &Protocol) -> Result<()> {
        let rules = serde_json::to_string(&p.outcome_rules).unwrap_or_else(|_| "{}".into());
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO clinic_protocol (clinic_id, alert_escalation_minutes, link_valid_hours,
                outcome_rules) VALUES ($1,$2,$3,$4)
             ON CONFLICT (clinic_id) DO UPDATE SET
                alert_escalation_minutes = excluded.alert_escalation_minutes,
                link_valid_hours = excluded.link_valid_hours,
                outcome_rules = excluded.outcome_rules"
        )
        .bind(clinic_id)
        .bind(p.alert_escalation_minutes)
        .bind(p.link_valid_hours)
        .bind(&rules)
        .execute(&mut *c)
        .await?
        .rows_affected());
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::ClinicUpdated,
            Subject::record("clinic", clinic_id).with_detail("measurement protocol"),
        )
        .await?;
        tx.commit().await
    }

    /// Stores a scored response with its answers and raises an alert for every safety flag, all
    /// in one transaction; when it returns, the alerts are durable. A link, if given, is spent
    /// in the same transaction (a second use finds it spent and stores nothing).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_response(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        ins: &Instrument,
        context: ResponseContext,
        source: &str,
        answers: &Answers,
        scored: &Scored,
        link: Option<Uuid>,
    ) -> Result<Recorded> {
        self.record_response_at(
            actor,
            clinic_id,
            patient_id,
            ins,
            context,
            source,
            answers,
            scored,
            link,
            now(),
        )
        .await
    }

    /// [`Store::record_response`] with the time the answers were given (imports, demo
    /// histories); alerts carry the same time.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_response_at(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        ins: &Instrument,
        context: ResponseContext,
        source: &str,
        answers: &Answers,
        scored: &Scored,
        link: Option<Uuid>,
        t: DateTime<Utc>,
    ) -> Result<Recorded> {
        let mut tx = self.begin().await?;
        patient_in_clinic(&mut tx, clinic_id, patient_id).await?;
        let id = new_id();
        if let Some(link_id) = link {
            let n = on_tx!(&mut tx, |c| sqlx::query(
                "UPDATE patient_link SET used_at = $1, response_id = NULL
                 WHERE id = $2 AND used_at IS NULL AND expires_at > $1"
            )
            .bind(t)
            .bind(link_id)
            .execute(&mut *c)
            .await?
            .rows_affected());
            if n == 0 {
                return Err(StoreError::Conflict(
                    "This link has already been used or has expired.".into(),
                ));
            }
        }
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO questionnaire_response (id, clinic_id, patient_id, instrument, context,
                source, entered_by, complete, total, band, screen, answered_at, created_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$12)"
        )
        .bind(id)
        .bind(clinic_id)
        .bind(patient_id)
        .bind(ins.code)
        .bind(context.as_str())
        .bind(source)
        .bind(actor.staff_id)
        .bind(scored.complete)
        .bind(scored.total)
        .bind(scored.band)
        .bind(scored.screen)
        .bind(t)
        .execute(&mut *c)
        .await?
        .rows_affected());
        for (item, value) in answers {
            on_tx!(&mut tx, |c| sqlx::query(
                "INSERT INTO response_item (response_id, item_id, value) VALUES ($1,$2,$3)"
            )
            .bind(id)
            .bind(item)
            .bind(*value)
            .execute(&mut *c)
            .await?
            .rows_affected());
        }
        if let Some(link_id) = link {
            // The link is spent: its messages keep no usable token, and an unsent email is
            // not sent any more.
            let msgs: Vec<(Uuid, String)> = on_tx!(&mut tx, |c| sqlx::query_as(
                "SELECT id, body FROM outbox WHERE link_id = $1"
            )
            .bind(link_id)
            .fetch_all(&mut *c)
            .await?);
            for (mid, body) in msgs {
                on_tx!(&mut tx, |c| sqlx::query(
                    "UPDATE outbox SET body = $1,
                        status = CASE WHEN status = 'pending' THEN 'superseded' ELSE status END
                     WHERE id = $2"
                )
                .bind(redact_links(&body))
                .bind(mid)
                .execute(&mut *c)
                .await?
                .rows_affected());
            }
        }
        if let Some(link_id) = link {
            on_tx!(&mut tx, |c| sqlx::query(
                "UPDATE patient_link SET response_id = $1 WHERE id = $2"
            )
            .bind(id)
            .bind(link_id)
            .execute(&mut *c)
            .await?
            .rows_affected());
        }
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::ResponseRecorded,
            Subject::patient(patient_id).with_detail(format!("{} response {id}", ins.code)),
        )
        .await?;
        let mut alerts = vec![];
        for f in &scored.flags {
            let aid = new_id();
            on_tx!(&mut tx, |c| sqlx::query(
                "INSERT INTO alert (id, clinic_id, patient_id, kind, severity, response_id, detail,
                    status, raised_at) VALUES ($1,$2,$3,$4,$5,$6,$7,'open',$8)"
            )
            .bind(aid)
            .bind(clinic_id)
            .bind(patient_id)
            .bind(f.flag.as_str())
            .bind(f.severity.as_str())
            .bind(id)
            .bind(f.flag.describe())
            .bind(t)
            .execute(&mut *c)
            .await?
            .rows_affected());
            append(
                &mut tx,
                self.audit_key(),
                actor,
                AuditAction::AlertRaised,
                Subject::patient(patient_id).with_detail(format!(
                    "{} {} alert {aid}",
                    f.severity.as_str(),
                    f.flag.as_str()
                )),
            )
            .await?;
            alerts.push(aid);
        }
        tx.commit().await?;
        Ok(Recorded {
            response_id: id,
            alerts,
        })
    }

    /// A patient's responses, oldest first, with their item answers (one query each, not one
    /// per response). Audited as a read of the patient's questionnaire data.
    pub async fn responses_of(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<(Vec<Response>, BTreeMap<Uuid, Answers>)> {
        let mut tx = self.begin().await?;
        patient_in_clinic(&mut tx, clinic_id, patient_id).await?;
        let sql = format!(
            "SELECT {RESPONSE_COLS} FROM questionnaire_response r
             LEFT JOIN staff_user s ON s.id = r.entered_by
             WHERE r.patient_id = $1 ORDER BY r.answered_at, r.id"
        );
        let rows: Vec<Response> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(patient_id)
            .fetch_all(&mut *c)
            .await?);
        let items: Vec<(Uuid, String, i32)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT i.response_id, i.item_id, i.value FROM response_item i
             JOIN questionnaire_response r ON r.id = i.response_id WHERE r.patient_id = $1"
        )
        .bind(patient_id)
        .fetch_all(&mut *c)
        .await?);
        let mut answers: BTreeMap<Uuid, Answers> = BTreeMap::new();
        for (rid, item, value) in items {
            answers.entry(rid).or_default().insert(item, value);
        }
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::ResponsesRead,
            Subject::patient(patient_id).with_detail(format!("{} responses", rows.len())),
        )
        .await?;
        tx.commit().await?;
        Ok((rows, answers))
    }

    /// Which questionnaires a patient completed, and when — without answers or scores (what a
    /// coordinator may see).
    pub async fn response_status_of(
        &self,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<Vec<(String, DateTime<Utc>, bool)>> {
        Ok(on_db!(&self.db, |p| sqlx::query_as(
            "SELECT instrument, answered_at, complete FROM questionnaire_response
             WHERE patient_id = $1 AND clinic_id = $2 ORDER BY answered_at DESC LIMIT 50"
        )
        .bind(patient_id)
        .bind(clinic_id)
        .fetch_all(p)
        .await?))
    }

    /// Open alerts of a clinic, most severe and oldest first (audited: they name patients).
    pub async fn open_alerts(&self, actor: &Actor, clinic_id: Uuid) -> Result<Vec<Alert>> {
        let sql = format!(
            "SELECT {ALERT_COLS} FROM alert a JOIN patient p ON p.id = a.patient_id
             LEFT JOIN staff_user s ON s.id = a.acknowledged_by
             WHERE a.clinic_id = $1 AND a.status = 'open'
             ORDER BY CASE a.severity WHEN 'critical' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END,
                      a.raised_at LIMIT 200"
        );
        let mut tx = self.begin().await?;
        let rows: Vec<Alert> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(clinic_id)
            .fetch_all(&mut *c)
            .await?);
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::AlertsListed,
            Subject::none().with_detail(format!("{} open", rows.len())),
        )
        .await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Every alert of a patient, newest first.
    pub async fn alerts_of(&self, clinic_id: Uuid, patient_id: Uuid) -> Result<Vec<Alert>> {
        let sql = format!(
            "SELECT {ALERT_COLS} FROM alert a JOIN patient p ON p.id = a.patient_id
             LEFT JOIN staff_user s ON s.id = a.acknowledged_by
             WHERE a.clinic_id = $1 AND a.patient_id = $2 ORDER BY a.raised_at DESC"
        );
        Ok(on_db!(&self.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .bind(clinic_id)
        .bind(patient_id)
        .fetch_all(p)
        .await?))
    }

    /// Acknowledges an open alert with the clinician's action note. Alerts are never deleted
    /// and an acknowledgment is never overwritten.
    pub async fn acknowledge_alert(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        alert_id: Uuid,
        note: &str,
    ) -> Result<Uuid> {
        let mut tx = self.begin().await?;
        let patient: Option<Uuid> = on_tx!(&mut tx, |c| sqlx::query_scalar(
            "SELECT patient_id FROM alert WHERE id = $1 AND clinic_id = $2"
        )
        .bind(alert_id)
        .bind(clinic_id)
        .fetch_optional(&mut *c)
        .await?);
        let patient = patient.ok_or(StoreError::NotFound)?;
        let n = on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE alert SET status = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2,
                action_note = $3 WHERE id = $4 AND status = 'open'"
        )
        .bind(now())
        .bind(actor.staff_id)
        .bind(note)
        .bind(alert_id)
        .execute(&mut *c)
        .await?
        .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(
                "This alert has already been acknowledged.".into(),
            ));
        }
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::AlertAcknowledged,
            Subject::patient(patient).with_detail(format!("alert {alert_id}")),
        )
        .await?;
        tx.commit().await?;
        Ok(patient)
    }

    /// Creates a single-use patient link and queues the message carrying it, in one
    /// transaction. Returns the link id and the raw token (never stored; only its hash is).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_link(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        ins: &Instrument,
        context: ResponseContext,
        valid: Duration,
        message: &LinkMessage,
        url_for: &(dyn Fn(&str) -> String + Sync),
        email_enabled: bool,
    ) -> Result<(Uuid, String)> {
        let mut tx = self.begin().await?;
        patient_in_clinic(&mut tx, clinic_id, patient_id).await?;
        let email: Option<String> = on_tx!(&mut tx, |c| sqlx::query_scalar(
            "SELECT email FROM patient WHERE id = $1"
        )
        .bind(patient_id)
        .fetch_one(&mut *c)
        .await?);
        let token = random_hex(24);
        let id = new_id();
        let t = now();
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO patient_link (id, clinic_id, patient_id, instrument, context, token_hash,
                created_by, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
        )
        .bind(id)
        .bind(clinic_id)
        .bind(patient_id)
        .bind(ins.code)
        .bind(context.as_str())
        .bind(token_hash(&token))
        .bind(actor.staff_id)
        .bind(t)
        .bind(t + valid)
        .execute(&mut *c)
        .await?
        .rows_affected());
        let status = if email_enabled && email.is_some() {
            "pending"
        } else {
            "manual"
        };
        let body = (message.body_with_url)(&url_for(&token));
        queue_message(
            &mut tx,
            &QueuedMessage {
                clinic_id,
                patient_id,
                link_id: id,
                to: email.as_deref(),
                subject: &message.subject,
                body: &body,
                status,
            },
        )
        .await?;
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::LinkCreated,
            Subject::patient(patient_id).with_detail(format!("{} link {id}", ins.code)),
        )
        .await?;
        tx.commit().await?;
        Ok((id, token))
    }

    /// The link behind a raw token, if any (used, expired or not).
    pub async fn link_by_token(&self, token: &str) -> Result<Option<Link>> {
        Ok(on_db!(&self.db, |p| sqlx::query_as(
            "SELECT id, clinic_id, patient_id, instrument, context, expires_at, used_at
             FROM patient_link WHERE token_hash = $1"
        )
        .bind(token_hash(token))
        .fetch_optional(p)
        .await?))
    }

    pub async fn links_of(&self, clinic_id: Uuid, patient_id: Uuid) -> Result<Vec<LinkRow>> {
        Ok(on_db!(&self.db, |p| sqlx::query_as(
            "SELECT id, instrument, created_at, expires_at, used_at FROM patient_link
             WHERE clinic_id = $1 AND patient_id = $2 ORDER BY created_at DESC LIMIT 50"
        )
        .bind(clinic_id)
        .bind(patient_id)
        .fetch_all(p)
        .await?))
    }

    /// The clinic's outbox, newest first (audited: messages name patients).
    pub async fn outbox(&self, actor: &Actor, clinic_id: Uuid) -> Result<Vec<OutboxMessage>> {
        let mut tx = self.begin().await?;
        let rows: Vec<OutboxMessage> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT o.id, o.patient_id, p.full_name AS patient_name, o.to_address, o.subject,
                o.body, o.status, o.attempts, o.last_error, o.created_at, o.sent_at
             FROM outbox o LEFT JOIN patient p ON p.id = o.patient_id
             WHERE o.clinic_id = $1 ORDER BY o.created_at DESC LIMIT 200"
        )
        .bind(clinic_id)
        .fetch_all(&mut *c)
        .await?);
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::OutboxRead,
            Subject::none().with_detail(format!("{} messages", rows.len())),
        )
        .await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Messages waiting to be emailed (any clinic), oldest first.
    pub async fn pending_messages(&self, limit: i64) -> Result<Vec<OutboxMessage>> {
        Ok(on_db!(&self.db, |p| sqlx::query_as(
            "SELECT o.id, o.patient_id, NULL AS patient_name, o.to_address, o.subject, o.body,
                o.status, o.attempts, o.last_error, o.created_at, o.sent_at
             FROM outbox o WHERE o.status = 'pending' ORDER BY o.created_at LIMIT $1"
        )
        .bind(limit)
        .fetch_all(p)
        .await?))
    }

    /// Records a delivery attempt; after five failures a message is left for a person.
    pub async fn mark_message(&self, id: Uuid, error: Option<&str>) -> Result<()> {
        match error {
            None => {
                // Once sent, the copy kept here no longer needs a usable link in it.
                let body: Option<String> = on_db!(&self.db, |p| sqlx::query_scalar(
                    "SELECT body FROM outbox WHERE id = $1"
                )
                .bind(id)
                .fetch_optional(p)
                .await?);
                on_db!(&self.db, |p| sqlx::query(
                    "UPDATE outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1,
                        body = $2 WHERE id = $3"
                )
                .bind(now())
                .bind(redact_links(body.as_deref().unwrap_or("")))
                .bind(id)
                .execute(p)
                .await?
                .rows_affected())
            }
            Some(e) => on_db!(&self.db, |p| sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $1,
                    status = CASE WHEN attempts + 1 >= 5 THEN 'failed' ELSE status END
                 WHERE id = $2"
            )
            .bind(e)
            .bind(id)
            .execute(p)
            .await?
            .rows_affected()),
        };
        Ok(())
    }

    /// Adds a schedule: send `instrument` every `every_days` days (first one due now).
    pub async fn add_schedule(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        ins: &Instrument,
        every_days: Option<i32>,
        before_appointment_kind: Option<&str>,
    ) -> Result<Uuid> {
        let mut tx = self.begin().await?;
        patient_in_clinic(&mut tx, clinic_id, patient_id).await?;
        let id = new_id();
        let t = now();
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO questionnaire_schedule (id, clinic_id, patient_id, instrument, every_days,
                before_appointment_kind, next_due_at, active, created_by, created_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,TRUE,$8,$9)"
        )
        .bind(id)
        .bind(clinic_id)
        .bind(patient_id)
        .bind(ins.code)
        .bind(every_days)
        .bind(before_appointment_kind)
        .bind(every_days.map(|_| t))
        .bind(actor.staff_id)
        .bind(t)
        .execute(&mut *c)
        .await?
        .rows_affected());
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::ScheduleChanged,
            Subject::patient(patient_id).with_detail(format!("add {} schedule {id}", ins.code)),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn stop_schedule(&self, actor: &Actor, clinic_id: Uuid, id: Uuid) -> Result<()> {
        let mut tx = self.begin().await?;
        let patient: Option<Uuid> = on_tx!(&mut tx, |c| sqlx::query_scalar(
            "SELECT patient_id FROM questionnaire_schedule WHERE id = $1 AND clinic_id = $2"
        )
        .bind(id)
        .bind(clinic_id)
        .fetch_optional(&mut *c)
        .await?);
        let patient = patient.ok_or(StoreError::NotFound)?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE questionnaire_schedule SET active = FALSE WHERE id = $1"
        )
        .bind(id)
        .execute(&mut *c)
        .await?
        .rows_affected());
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::ScheduleChanged,
            Subject::patient(patient).with_detail(format!("stop schedule {id}")),
        )
        .await?;
        tx.commit().await
    }

    const SCHEDULE_SQL: &'static str = "SELECT q.id, q.patient_id, p.full_name AS patient_name,
        q.instrument, q.every_days, q.before_appointment_kind, q.next_due_at, q.active
        FROM questionnaire_schedule q JOIN patient p ON p.id = q.patient_id";

    pub async fn schedules_of(&self, clinic_id: Uuid, patient_id: Uuid) -> Result<Vec<Schedule>> {
        let sql = format!(
            "{} WHERE q.clinic_id = $1 AND q.patient_id = $2 ORDER BY q.created_at",
            Self::SCHEDULE_SQL
        );
        Ok(on_db!(&self.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .bind(clinic_id)
        .bind(patient_id)
        .fetch_all(p)
        .await?))
    }

    /// Active interval schedules due at `at` (all clinics), for the scheduler.
    pub async fn due_schedules(&self, at: DateTime<Utc>) -> Result<Vec<(Uuid, Uuid, Schedule)>> {
        let sql =
            "SELECT q.clinic_id, q.created_by, q.id, q.patient_id, p.full_name AS patient_name,
                q.instrument, q.every_days, q.before_appointment_kind, q.next_due_at, q.active
             FROM questionnaire_schedule q JOIN patient p ON p.id = q.patient_id
             WHERE q.active AND q.next_due_at IS NOT NULL AND q.next_due_at <= $1
             ORDER BY q.next_due_at LIMIT 500";
        let rows: Vec<DueRow> = on_db!(&self.db, |p| sqlx::query_as(sql)
            .bind(at)
            .fetch_all(p)
            .await?);
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.clinic_id,
                    r.created_by.unwrap_or_default(),
                    Schedule {
                        id: r.id,
                        patient_id: r.patient_id,
                        patient_name: r.patient_name,
                        instrument: r.instrument,
                        every_days: r.every_days,
                        before_appointment_kind: r.before_appointment_kind,
                        next_due_at: r.next_due_at,
                        active: r.active,
                    },
                )
            })
            .collect())
    }

    /// Moves a schedule's next due time on by its interval.
    pub async fn advance_schedule(&self, id: Uuid, next: DateTime<Utc>) -> Result<()> {
        on_db!(&self.db, |p| sqlx::query(
            "UPDATE questionnaire_schedule SET next_due_at = $1 WHERE id = $2"
        )
        .bind(next)
        .bind(id)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Queues one reminder for every link that is still open after half its validity and has
    /// not been reminded. The token itself is never stored, so the reminder points to the
    /// original message. Returns how many reminders were queued.
    pub async fn queue_reminders(&self, email_enabled: bool) -> Result<usize> {
        let t = now();
        let due: Vec<ReminderRow> = on_db!(&self.db, |p| sqlx::query_as(
            "SELECT l.id AS link, l.clinic_id AS clinic, l.patient_id AS patient, l.instrument,
                    p.email, l.created_at AS created, l.expires_at AS expires,
                    c.name AS clinic_name
                 FROM patient_link l JOIN patient p ON p.id = l.patient_id
                 JOIN clinic c ON c.id = l.clinic_id
                 WHERE l.used_at IS NULL AND l.reminded_at IS NULL AND l.expires_at > $1
                 ORDER BY l.created_at LIMIT 500"
        )
        .bind(t)
        .fetch_all(p)
        .await?);
        let mut n = 0;
        for ReminderRow {
            link,
            clinic,
            patient,
            instrument,
            email,
            created,
            expires,
            clinic_name,
        } in due
        {
            if t < created + (expires - created) / 2 {
                continue;
            }
            let name =
                kap_domain::instruments::by_code(&instrument).map_or("questionnaire", |i| i.name);
            let body = format!(
                "Hello,\n\nA reminder from {clinic_name}: the short questionnaire ({name}) we sent you on {} is still waiting. Please use the link in that message before {}.\n\nIf you cannot find it, call the clinic and we will send a new one.\n",
                created.format("%Y-%m-%d"),
                expires.format("%Y-%m-%d %H:%M UTC"),
            );
            let status = if email_enabled && email.is_some() {
                "pending"
            } else {
                "manual"
            };
            let mut tx = self.begin().await?;
            queue_message(
                &mut tx,
                &QueuedMessage {
                    clinic_id: clinic,
                    patient_id: patient,
                    link_id: link,
                    to: email.as_deref(),
                    subject: &format!("Reminder from {clinic_name}: your questionnaire"),
                    body: &body,
                    status,
                },
            )
            .await?;
            on_tx!(&mut tx, |c| sqlx::query(
                "UPDATE patient_link SET reminded_at = $1 WHERE id = $2"
            )
            .bind(t)
            .bind(link)
            .execute(&mut *c)
            .await?
            .rows_affected());
            tx.commit().await?;
            n += 1;
        }
        Ok(n)
    }

    /// Links of a clinic that expired unanswered in the last `days` days: the overdue list.
    pub async fn overdue_links(
        &self,
        clinic_id: Uuid,
        days: i64,
    ) -> Result<Vec<(Uuid, String, String, DateTime<Utc>)>> {
        let t = now();
        Ok(on_db!(&self.db, |p| sqlx::query_as(
            "SELECT l.patient_id, p.full_name, l.instrument, l.expires_at FROM patient_link l
             JOIN patient p ON p.id = l.patient_id
             WHERE l.clinic_id = $1 AND l.used_at IS NULL AND l.expires_at <= $2
               AND l.expires_at > $3
             ORDER BY l.expires_at DESC LIMIT 200"
        )
        .bind(clinic_id)
        .bind(t)
        .bind(t - Duration::days(days))
        .fetch_all(p)
        .await?))
    }
}

#[derive(sqlx::FromRow)]
struct DueRow {
    clinic_id: Uuid,
    created_by: Option<Uuid>,
    id: Uuid,
    patient_id: Uuid,
    patient_name: String,
    instrument: String,
    every_days: Option<i32>,
    before_appointment_kind: Option<String>,
    next_due_at: Option<DateTime<Utc>>,
    active: bool,
}

#[derive(sqlx::FromRow)]
struct ReminderRow {
    link: Uuid,
    clinic: Uuid,
    patient: Uuid,
    instrument: String,
    email: Option<String>,
    created: DateTime<Utc>,
    expires: DateTime<Utc>,
    clinic_name: String,
}

/// Replaces the token of every patient link (`/p/` and 48 hex digits) in a message with a
/// marker, so a message that has done its job holds no usable link.
pub fn redact_links(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find("/p/") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let token_len = tail.chars().take_while(char::is_ascii_hexdigit).count();
        if token_len == 48 {
            out.push_str("[link used or sent; removed]");
            rest = &tail[48..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tokens_are_removed_and_other_text_kept() {
        let t = "a".repeat(48);
        let body = format!("Open https://kap.example/p/{t}\nThanks /p/short");
        let r = redact_links(&body);
        assert!(!r.contains(&t));
        assert!(r.contains("https://kap.example/p/[link used or sent; removed]"));
        assert!(r.ends_with("Thanks /p/short"));
        assert_eq!(redact_links("no links"), "no links");
    }
}
