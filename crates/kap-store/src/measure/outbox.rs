//! The outbox: messages to patients waiting to be emailed (or copied by staff), delivery
//! attempts, and the one reminder for links still unanswered halfway through their life.

use crate::audited::Audited;
use crate::db::{exec, fetch_all, scalar_opt};
use crate::error::{Result, StoreError, code, instrument};
use crate::{Store, new_id, now};
use chrono::{DateTime, Utc};
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::measure::link::reminder_due;
use kap_domain::measure::outbox::{MAX_DELIVERY_ATTEMPTS, delivery, redact_links};
use kap_domain::measure::{OutboxMessage, OutboxStatus};
use kap_domain::messages::{PatientMessage, questionnaire_reminder};
use uuid::Uuid;

/// A message to put in the outbox.
pub(crate) struct QueuedMessage<'a> {
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub link_id: Uuid,
    pub to: Option<&'a str>,
    pub message: &'a PatientMessage,
    pub status: OutboxStatus,
}

pub(crate) async fn queue_message(a: &mut Audited, m: &QueuedMessage<'_>) -> Result<()> {
    exec!(tx a.tx(),
        "INSERT INTO outbox (id, clinic_id, patient_id, link_id, to_address, subject, body,
            status, attempts, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,0,$9)",
        new_id(), m.clinic_id, m.patient_id, m.link_id, m.to, &m.message.subject,
        &m.message.body, m.status.as_str(), now());
    Ok(())
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: Uuid,
    patient_id: Option<Uuid>,
    patient_name: Option<String>,
    to_address: Option<String>,
    subject: String,
    body: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

impl TryFrom<MessageRow> for OutboxMessage {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<OutboxMessage> {
        Ok(OutboxMessage {
            status: code("outbox message", r.id, "status", &r.status)?,
            id: r.id,
            patient_id: r.patient_id,
            patient_name: r.patient_name,
            to_address: r.to_address,
            subject: r.subject,
            body: r.body,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at,
            sent_at: r.sent_at,
        })
    }
}

fn messages(rows: Vec<MessageRow>) -> Result<Vec<OutboxMessage>> {
    rows.into_iter().map(OutboxMessage::try_from).collect()
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

impl Store {
    /// The clinic's outbox, newest first (audited: messages name patients).
    pub async fn outbox(&self, actor: &Actor, clinic_id: Uuid) -> Result<Vec<OutboxMessage>> {
        let mut a = self.audited(actor).await?;
        let rows = fetch_all!(tx a.tx(), MessageRow,
            "SELECT o.id, o.patient_id, p.full_name AS patient_name, o.to_address, o.subject,
                o.body, o.status, o.attempts, o.last_error, o.created_at, o.sent_at
             FROM outbox o LEFT JOIN patient p ON p.id = o.patient_id
             WHERE o.clinic_id = $1 ORDER BY o.created_at DESC LIMIT 200",
            clinic_id);
        a.record(
            AuditAction::OutboxRead,
            Subject::none().with_detail(format!("{} messages", rows.len())),
        )
        .await?;
        a.commit().await?;
        messages(rows)
    }

    /// Messages waiting to be emailed (any clinic), oldest first.
    pub async fn pending_messages(&self, limit: i64) -> Result<Vec<OutboxMessage>> {
        messages(fetch_all!(
            db & self.db,
            MessageRow,
            "SELECT o.id, o.patient_id, NULL AS patient_name, o.to_address, o.subject, o.body,
                o.status, o.attempts, o.last_error, o.created_at, o.sent_at
             FROM outbox o WHERE o.status = $1 ORDER BY o.created_at LIMIT $2",
            OutboxStatus::Pending.as_str(),
            limit
        ))
    }

    /// Records a delivery attempt: sent (the copy kept here then holds no usable link), or
    /// failed with the server's error; after [`MAX_DELIVERY_ATTEMPTS`] failures a message is
    /// left for a person.
    pub async fn mark_message(&self, id: Uuid, error: Option<&str>) -> Result<()> {
        match error {
            None => {
                let body = scalar_opt!(
                    db & self.db,
                    String,
                    "SELECT body FROM outbox WHERE id = $1",
                    id
                )
                .unwrap_or_default();
                exec!(
                    db & self.db,
                    "UPDATE outbox SET status = $1, sent_at = $2, attempts = attempts + 1,
                        body = $3 WHERE id = $4",
                    OutboxStatus::Sent.as_str(),
                    now(),
                    redact_links(&body),
                    id
                );
            }
            Some(e) => {
                exec!(
                    db & self.db,
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $1,
                        status = CASE WHEN attempts + 1 >= $2 THEN $3 ELSE status END
                     WHERE id = $4",
                    e,
                    MAX_DELIVERY_ATTEMPTS,
                    OutboxStatus::Failed.as_str(),
                    id
                );
            }
        }
        Ok(())
    }

    /// Queues one reminder for every link that is still open after half its validity and has
    /// not been reminded. Returns how many reminders were queued.
    pub async fn queue_reminders(&self, email_enabled: bool) -> Result<usize> {
        let t = now();
        let due = fetch_all!(
            db & self.db,
            ReminderRow,
            "SELECT l.id AS link, l.clinic_id AS clinic, l.patient_id AS patient, l.instrument,
                    p.email, l.created_at AS created, l.expires_at AS expires,
                    c.name AS clinic_name
             FROM patient_link l JOIN patient p ON p.id = l.patient_id
             JOIN clinic c ON c.id = l.clinic_id
             WHERE l.used_at IS NULL AND l.reminded_at IS NULL AND l.expires_at > $1
             ORDER BY l.created_at LIMIT 500",
            t
        );
        let mut n = 0;
        for r in due {
            if !reminder_due(r.created, r.expires, t) {
                continue;
            }
            let ins = instrument("patient link", r.link, &r.instrument)?;
            let message = questionnaire_reminder(&r.clinic_name, ins, r.created, r.expires);
            let actor = Actor {
                clinic_id: Some(r.clinic),
                ..Actor::system()
            };
            let mut a = self.audited(&actor).await?;
            // Marked first, and only if still unmarked: two workers never both remind.
            let claimed = exec!(tx a.tx(),
                "UPDATE patient_link SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL",
                t, r.link);
            if claimed == 0 {
                continue;
            }
            queue_message(
                &mut a,
                &QueuedMessage {
                    clinic_id: r.clinic,
                    patient_id: r.patient,
                    link_id: r.link,
                    to: r.email.as_deref(),
                    message: &message,
                    status: delivery(email_enabled, r.email.is_some()),
                },
            )
            .await?;
            a.record(
                AuditAction::MessageQueued,
                Subject::patient(r.patient).with_detail(format!("reminder for link {}", r.link)),
            )
            .await?;
            a.commit().await?;
            n += 1;
        }
        Ok(n)
    }
}
