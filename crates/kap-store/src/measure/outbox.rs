//! The outbox: messages to patients waiting to be emailed (or copied by staff), delivery
//! attempts, and the one reminder for links still unanswered halfway through their life.

use crate::audited::Audited;
use crate::db::{exec, fetch_all, scalar_opt};
use crate::error::{Conflict, Result, StoreError, code, instrument, opt_field};
use crate::sealed::Sealer;
use crate::{Store, new_id, now, token_hash};
use chrono::{DateTime, Utc};
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::measure::link::reminder_due;
use kap_domain::measure::outbox::{MAX_DELIVERY_ATTEMPTS, delivery, take_link_tokens};
use kap_domain::measure::{OutboxMessage, OutboxStatus};
use kap_domain::messages::{PatientMessage, Sender, TOKEN_SLOT, fill_link, questionnaire_reminder};
use kap_domain::person::Phone;
use kap_domain::time::TimeZone;
use uuid::Uuid;

/// The link a message carries: a questionnaire's, a consent document's, a history's or a
/// check-in's.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LinkRef {
    Questionnaire(Uuid),
    Consent(Uuid),
    History(Uuid),
    Checkin(Uuid),
}

/// A message to put in the outbox.
pub(crate) struct QueuedMessage<'a> {
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub link: LinkRef,
    pub to: Option<&'a str>,
    /// The text, with [`TOKEN_SLOT`] where the link's token goes.
    pub message: &'a PatientMessage,
    /// The link's token, kept sealed beside the text until the link is spent or the message
    /// sent.
    pub token: Option<&'a str>,
    pub status: OutboxStatus,
}

/// Who a new patient link's message goes to: the patient's email, and the clinic as the message
/// names it.
pub(crate) struct Recipient {
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub email: Option<String>,
    pub clinic_name: String,
    pub clinic_phone: Option<Phone>,
}

impl Recipient {
    /// The patient of a clinic (not found when the patient is in another clinic).
    pub(crate) async fn of(
        tx: &mut crate::db::Tx,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<Self> {
        let (email, clinic_name, phone) = crate::db::fetch_opt!(
            tx(tx),
            (Option<String>, String, Option<String>),
            "SELECT p.email, c.name, c.phone FROM patient p JOIN clinic c ON c.id = p.clinic_id
             WHERE p.id = $1 AND p.clinic_id = $2",
            patient_id,
            clinic_id
        )
        .ok_or(crate::error::StoreError::NotFound)?;
        let clinic_phone =
            crate::error::opt_field("clinic", clinic_id, "phone", phone.as_deref(), Phone::parse)?;
        Ok(Recipient {
            clinic_id,
            patient_id,
            email,
            clinic_name,
            clinic_phone,
        })
    }

    pub(crate) fn sender(&self) -> Sender<'_> {
        Sender {
            clinic_name: &self.clinic_name,
            phone: self.clinic_phone.as_ref(),
        }
    }

    /// Queues the message carrying a new link's token (sealed beside it).
    pub(crate) async fn queue(
        &self,
        a: &mut Audited,
        sealer: &Sealer,
        link: LinkRef,
        message: &PatientMessage,
        token: &str,
        email_enabled: bool,
    ) -> Result<()> {
        queue_message(
            a,
            sealer,
            &QueuedMessage {
                clinic_id: self.clinic_id,
                patient_id: self.patient_id,
                link,
                to: self.email.as_deref(),
                message,
                token: Some(token),
                status: delivery(email_enabled, self.email.is_some()),
            },
        )
        .await
    }
}

pub(crate) async fn queue_message(
    a: &mut Audited,
    sealer: &Sealer,
    m: &QueuedMessage<'_>,
) -> Result<()> {
    let id = new_id();
    let sealed = m.token.map(|t| sealer.seal(t, &id.to_string()));
    let (mut link_id, mut consent_link_id, mut history_link_id, mut checkin_link_id) =
        (None, None, None, None);
    match m.link {
        LinkRef::Questionnaire(l) => link_id = Some(l),
        LinkRef::Consent(l) => consent_link_id = Some(l),
        LinkRef::History(l) => history_link_id = Some(l),
        LinkRef::Checkin(l) => checkin_link_id = Some(l),
    }
    exec!(
        tx(a.tx()),
        "INSERT INTO outbox (id, clinic_id, patient_id, link_id, consent_link_id,
            history_link_id, checkin_link_id, to_address, subject, body, status, attempts,
            created_at, sealed_token)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,0,$12,$13)",
        id,
        m.clinic_id,
        m.patient_id,
        link_id,
        consent_link_id,
        history_link_id,
        checkin_link_id,
        m.to,
        &m.message.subject,
        &m.message.body,
        m.status.as_str(),
        now(),
        sealed
    );
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
    sealed_token: Option<String>,
}

impl MessageRow {
    /// The message as shown or sent: its link's token opened into the text, or the link marked
    /// removed when it is spent, sent, or its seal does not open.
    fn into_message(self, sealer: &Sealer) -> Result<OutboxMessage> {
        let token = self
            .sealed_token
            .as_deref()
            .and_then(|s| sealer.open(s, &self.id.to_string()));
        Ok(OutboxMessage {
            status: code("outbox message", self.id, "status", &self.status)?,
            body: fill_link(&self.body, token.as_deref()),
            id: self.id,
            patient_id: self.patient_id,
            patient_name: self.patient_name,
            to_address: self.to_address,
            subject: self.subject,
            attempts: self.attempts,
            last_error: self.last_error,
            created_at: self.created_at,
            sent_at: self.sent_at,
        })
    }
}

impl Store {
    pub(crate) fn sealer(&self) -> Sealer {
        Sealer::new(self.audit_key())
    }

    fn messages(&self, rows: Vec<MessageRow>) -> Result<Vec<OutboxMessage>> {
        let sealer = self.sealer();
        rows.into_iter().map(|r| r.into_message(&sealer)).collect()
    }
}

const MESSAGE_COLS: &str = "o.id, o.patient_id, o.to_address, o.subject, o.body, o.status,
    o.attempts, o.last_error, o.created_at, o.sent_at, o.sealed_token";

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
    clinic_phone: Option<String>,
    clinic_time_zone: Option<String>,
}

impl Store {
    /// The clinic's outbox, newest first (audited: messages name patients).
    pub async fn outbox(&self, actor: &Actor, clinic_id: Uuid) -> Result<Vec<OutboxMessage>> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let sql = format!(
            "SELECT {MESSAGE_COLS}, p.full_name AS patient_name
             FROM outbox o LEFT JOIN patient p ON p.id = o.patient_id
             WHERE o.clinic_id = $1 ORDER BY o.created_at DESC LIMIT 200"
        );
        let rows = fetch_all!(tx(a.tx()), MessageRow, sqlx::AssertSqlSafe(sql), clinic_id);
        a.record(
            AuditAction::OutboxRead,
            Subject::none().with_detail(format!("{} messages", rows.len())),
        )
        .await?;
        a.commit().await?;
        self.messages(rows)
    }

    /// Messages waiting to be emailed (any clinic), claimed or not, oldest first, with their
    /// links opened. What the worker sends comes from [`Store::claim_messages`].
    pub async fn pending_messages(&self, limit: i64) -> Result<Vec<OutboxMessage>> {
        let sql = format!(
            "SELECT {MESSAGE_COLS}, NULL AS patient_name FROM outbox o
             WHERE o.status = $1 ORDER BY o.created_at LIMIT $2"
        );
        self.messages(fetch_all!(
            db(&self.db),
            MessageRow,
            sqlx::AssertSqlSafe(sql),
            OutboxStatus::Pending.as_str(),
            limit
        ))
    }

    /// Claims up to `limit` pending messages for `holder` until `at + lease`, oldest first, with
    /// their links opened: none claimed by another holder whose lease is still running. Several
    /// processes claiming at once get disjoint sets (see [`crate::lease`]).
    pub async fn claim_messages(
        &self,
        holder: &str,
        at: DateTime<Utc>,
        lease: chrono::Duration,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>> {
        // The status is written into the statement so the partial index `outbox_pending` serves
        // it on PostgreSQL's generic plans too.
        let sql = format!(
            "UPDATE outbox SET claimed_by = $1, lease_until = $2
             WHERE id IN (SELECT id FROM outbox
                          WHERE status = '{}' AND (lease_until IS NULL OR lease_until <= $3)
                          ORDER BY created_at LIMIT $4{})
             RETURNING id, patient_id, to_address, subject, body, status, attempts, last_error,
                       created_at, sent_at, sealed_token, CAST(NULL AS TEXT) AS patient_name",
            OutboxStatus::Pending.as_str(),
            crate::lease::skip_locked(&self.db)
        );
        let mut tx = self.db.begin().await?;
        let mut rows = fetch_all!(
            tx(&mut tx),
            MessageRow,
            sqlx::AssertSqlSafe(sql),
            holder,
            at + lease,
            at,
            limit
        );
        tx.commit().await?;
        rows.sort_by_key(|r| (r.created_at, r.id));
        self.messages(rows)
    }

    /// Extends `holder`'s claim on a message to `at + lease`, just before sending it. Returns
    /// false when the message is no longer the holder's to send: its lease ran out and another
    /// process took it, or it was recorded sent meanwhile.
    pub async fn renew_message(
        &self,
        id: Uuid,
        holder: &str,
        at: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<bool> {
        let n = exec!(
            db(&self.db),
            "UPDATE outbox SET lease_until = $1
             WHERE id = $2 AND claimed_by = $3 AND status = $4",
            at + lease,
            id,
            holder,
            OutboxStatus::Pending.as_str()
        );
        Ok(n == 1)
    }

    /// Records `holder`'s delivery attempt: sent, clearing the claim (the sealed link is then
    /// dropped, so the copy kept here holds no usable link), or failed with the server's error,
    /// keeping the claim so that the same round does not try it again (the round's
    /// [`Store::release_messages`] frees it for the next); after [`MAX_DELIVERY_ATTEMPTS`]
    /// failures a message is left for a person. A send is recorded whoever holds the claim now
    /// (the mail went out, and recording it stops a second send); returns false if it was
    /// already recorded sent. A failure is recorded only by the holder; returns false when the
    /// claim had passed to another.
    pub async fn mark_message(&self, id: Uuid, holder: &str, error: Option<&str>) -> Result<bool> {
        let n = match error {
            None => {
                exec!(
                    db(&self.db),
                    "UPDATE outbox SET status = $1, sent_at = $2, attempts = attempts + 1,
                        sealed_token = NULL, claimed_by = NULL, lease_until = NULL
                     WHERE id = $3 AND status = $4",
                    OutboxStatus::Sent.as_str(),
                    now(),
                    id,
                    OutboxStatus::Pending.as_str()
                )
            }
            Some(e) => {
                exec!(
                    db(&self.db),
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $1,
                        status = CASE WHEN attempts + 1 >= $2 THEN $3 ELSE status END
                     WHERE id = $4 AND claimed_by = $5 AND status = $6",
                    e,
                    MAX_DELIVERY_ATTEMPTS,
                    OutboxStatus::Failed.as_str(),
                    id,
                    holder,
                    OutboxStatus::Pending.as_str()
                )
            }
        };
        Ok(n == 1)
    }

    /// Gives back `holder`'s claims at the end of its round: messages it did not get to or
    /// failed to send, so the next round (of any process) tries them without waiting for the
    /// leases to run out. Returns how many are pending again.
    pub async fn release_messages(&self, holder: &str) -> Result<u64> {
        let pending = exec!(
            db(&self.db),
            "UPDATE outbox SET claimed_by = NULL, lease_until = NULL
             WHERE claimed_by = $1 AND status = $2",
            holder,
            OutboxStatus::Pending.as_str()
        );
        // Messages given up on keep no claim either.
        exec!(
            db(&self.db),
            "UPDATE outbox SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = $1",
            holder
        );
        Ok(pending)
    }

    /// Queues one reminder for every link that is still open after half its validity and has
    /// not been reminded. Times in it are in the clinic's zone (`default_tz` for a clinic that
    /// has not set one). Returns how many reminders were queued.
    pub async fn queue_reminders(
        &self,
        email_enabled: bool,
        default_tz: TimeZone,
    ) -> Result<usize> {
        let t = now();
        let due = fetch_all!(
            db(&self.db),
            ReminderRow,
            "SELECT l.id AS link, l.clinic_id AS clinic, l.patient_id AS patient, l.instrument,
                    p.email, l.created_at AS created, l.expires_at AS expires,
                    c.name AS clinic_name, c.phone AS clinic_phone,
                    c.time_zone AS clinic_time_zone
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
            let phone = opt_field(
                "clinic",
                r.clinic,
                "phone",
                r.clinic_phone.as_deref(),
                Phone::parse,
            )?;
            let tz = opt_field(
                "clinic",
                r.clinic,
                "time_zone",
                r.clinic_time_zone.as_deref(),
                TimeZone::parse,
            )?
            .unwrap_or(default_tz);
            let from = Sender {
                clinic_name: &r.clinic_name,
                phone: phone.as_ref(),
            };
            let message = questionnaire_reminder(from, ins, r.created, r.expires, tz);
            let actor = Actor {
                clinic_id: Some(r.clinic),
                ..Actor::system()
            };
            let mut a = self.audited(&actor).await?;
            // Marked first, and only if still unmarked: two workers never both remind.
            let claimed = exec!(
                tx(a.tx()),
                "UPDATE patient_link SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL",
                t,
                r.link
            );
            if claimed == 0 {
                continue;
            }
            queue_message(
                &mut a,
                &self.sealer(),
                &QueuedMessage {
                    clinic_id: r.clinic,
                    patient_id: r.patient,
                    link: LinkRef::Questionnaire(r.link),
                    to: r.email.as_deref(),
                    message: &message,
                    token: None,
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

impl Store {
    /// Marks a message that staff copied and sent themselves as sent: its sealed link is
    /// dropped, so the copy kept here holds no usable link.
    pub async fn mark_sent_by_hand(&self, actor: &Actor, clinic_id: Uuid, id: Uuid) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = scalar_opt!(
            tx(a.tx()),
            Option<Uuid>,
            "SELECT patient_id FROM outbox WHERE id = $1 AND clinic_id = $2",
            id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        let n = exec!(
            tx(a.tx()),
            "UPDATE outbox SET status = $1, sent_at = $2, sealed_token = NULL
             WHERE id = $3 AND status = $4",
            OutboxStatus::Sent.as_str(),
            now(),
            id,
            OutboxStatus::Manual.as_str()
        );
        if n == 0 {
            return Err(Conflict::MessageNotManual.into());
        }
        a.record(
            AuditAction::MessageSentByHand,
            Subject::none()
                .with_patient(patient)
                .with_detail(format!("message {id}")),
        )
        .await?;
        a.commit().await
    }

    /// Seals the links of messages written before links were kept sealed: each token in a
    /// message's text moves into its seal (or, when its link is spent or expired, is marked
    /// removed), so no stored text holds a usable link. Runs with the migrations; returns how
    /// many messages changed.
    pub async fn seal_plaintext_links(&self) -> Result<usize> {
        let rows = fetch_all!(
            db(&self.db),
            (Uuid, String),
            "SELECT id, body FROM outbox WHERE sealed_token IS NULL AND body LIKE '%/p/%'"
        );
        let sealer = self.sealer();
        let t = now();
        let mut changed = 0;
        for (id, body) in rows {
            let (text, tokens) = take_link_tokens(&body, TOKEN_SLOT);
            let Some(token) = tokens.first() else {
                continue;
            };
            let live = fetch_all!(
                db(&self.db),
                (Uuid,),
                "SELECT id FROM patient_link WHERE token_hash = $1 AND used_at IS NULL
                   AND expires_at > $2",
                token_hash(token),
                t
            );
            let sealed = (!live.is_empty()).then(|| sealer.seal(token, &id.to_string()));
            exec!(
                db(&self.db),
                "UPDATE outbox SET body = $1, sealed_token = $2 WHERE id = $3",
                text,
                sealed,
                id
            );
            changed += 1;
        }
        Ok(changed)
    }
}
