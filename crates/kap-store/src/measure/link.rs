//! Patient links: a random, single-use, expiring token per questionnaire sent (only its hash is
//! kept), created together with the message that carries it.

use super::outbox::{LinkRef, Recipient};
use crate::audited::Audited;
use crate::db::{exec, fetch_all, fetch_opt, scalar};
use crate::error::{Result, StoreError, code, instrument};
use crate::sealed::Sealer;
use crate::{Store, new_id, now, random_hex, token_hash};
use chrono::{DateTime, Duration, Utc};
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::instruments::{Instrument, ResponseContext};
use kap_domain::measure::Link;
use kap_domain::messages::{TOKEN_SLOT, questionnaire_link};
use uuid::Uuid;

/// A link to create, and how its message is delivered.
#[derive(Debug, Clone, Copy)]
pub struct NewLink<'a> {
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub instrument: &'static Instrument,
    pub context: ResponseContext,
    pub valid_for: Duration,
    /// The address patients use to reach Kapstone (no trailing slash).
    pub public_url: &'a str,
    /// Whether messages are emailed (otherwise staff copy them).
    pub email_enabled: bool,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: Uuid,
    clinic_id: Uuid,
    patient_id: Uuid,
    instrument: String,
    context: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    response_id: Option<Uuid>,
}

impl TryFrom<LinkRow> for Link {
    type Error = StoreError;
    fn try_from(r: LinkRow) -> Result<Link> {
        let id = r.id;
        Ok(Link {
            id,
            clinic_id: r.clinic_id,
            patient_id: r.patient_id,
            instrument: instrument("patient link", id, &r.instrument)?,
            context: code("patient link", id, "context", &r.context)?,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
            response_id: r.response_id,
        })
    }
}

const LINK_COLS: &str =
    "id, clinic_id, patient_id, instrument, context, created_at, expires_at, used_at, response_id";

/// Creates a link and queues its message inside an audited transaction; returns the link id
/// and the raw token (stored only as its hash, and sealed beside its message).
pub(crate) async fn insert_link(
    a: &mut Audited,
    sealer: &Sealer,
    l: &NewLink<'_>,
) -> Result<(Uuid, String)> {
    let to = Recipient::of(a.tx(), l.clinic_id, l.patient_id).await?;
    let token = random_hex(24);
    let id = new_id();
    let t = now();
    let by = a.actor().staff_id;
    exec!(
        tx(a.tx()),
        "INSERT INTO patient_link (id, clinic_id, patient_id, instrument, context, token_hash,
            created_by, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
        id,
        l.clinic_id,
        l.patient_id,
        l.instrument.code,
        l.context.as_str(),
        token_hash(&token),
        by,
        t,
        t + l.valid_for
    );
    let message = questionnaire_link(
        to.sender(),
        l.instrument,
        &format!("{}/p/{TOKEN_SLOT}", l.public_url),
    );
    to.queue(
        a,
        sealer,
        LinkRef::Questionnaire(id),
        &message,
        &token,
        l.email_enabled,
    )
    .await?;
    a.record(
        AuditAction::LinkCreated,
        Subject::patient(l.patient_id).with_detail(format!("{} link {id}", l.instrument.code)),
    )
    .await?;
    Ok((id, token))
}

impl Store {
    /// Creates a single-use patient link and queues the message carrying it, in one
    /// transaction. Returns the link id and the raw token (never stored; only its hash is).
    pub async fn create_link(&self, actor: &Actor, l: NewLink<'_>) -> Result<(Uuid, String)> {
        let mut a = self.audited_in(actor, l.clinic_id).await?;
        let made = insert_link(&mut a, &self.sealer(), &l).await?;
        a.commit().await?;
        Ok(made)
    }

    /// The link behind a raw token, if any (used, expired or not).
    pub async fn link_by_token(&self, token: &str) -> Result<Option<Link>> {
        let sql = format!("SELECT {LINK_COLS} FROM patient_link WHERE token_hash = $1");
        fetch_opt!(
            db(&self.db),
            LinkRow,
            sqlx::AssertSqlSafe(sql),
            token_hash(token)
        )
        .map(Link::try_from)
        .transpose()
    }

    /// A patient's latest links, newest first.
    pub async fn links_of(&self, clinic_id: Uuid, patient_id: Uuid) -> Result<Vec<Link>> {
        let sql = format!(
            "SELECT {LINK_COLS} FROM patient_link WHERE clinic_id = $1 AND patient_id = $2
             ORDER BY created_at DESC LIMIT 50"
        );
        fetch_all!(
            db(&self.db),
            LinkRow,
            sqlx::AssertSqlSafe(sql),
            clinic_id,
            patient_id
        )
        .into_iter()
        .map(Link::try_from)
        .collect()
    }

    /// Links of a clinic that expired unanswered in the last `days` days: the overdue list, with
    /// each patient's name.
    pub async fn overdue_links(&self, clinic_id: Uuid, days: i64) -> Result<Vec<(Link, String)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            link: LinkRow,
            full_name: String,
        }
        let t = now();
        let cols = LINK_COLS.replace(", ", ", l.");
        let sql = format!(
            "SELECT l.{cols}, p.full_name FROM patient_link l
             JOIN patient p ON p.id = l.patient_id
             WHERE l.clinic_id = $1 AND l.used_at IS NULL AND l.expires_at <= $2
               AND l.expires_at > $3
             ORDER BY l.expires_at DESC LIMIT 200"
        );
        fetch_all!(
            db(&self.db),
            Row,
            sqlx::AssertSqlSafe(sql),
            clinic_id,
            t,
            t - Duration::days(days)
        )
        .into_iter()
        .map(|r| Ok((Link::try_from(r.link)?, r.full_name)))
        .collect()
    }

    /// Whether the response a link was answered with raised a safety alert (for the patient's
    /// thank-you page: the crisis resources stay on it).
    pub async fn response_raised_alert(&self, response_id: Uuid) -> Result<bool> {
        Ok(scalar!(
            db(&self.db),
            i64,
            "SELECT COUNT(*) FROM alert WHERE response_id = $1",
            response_id
        ) > 0)
    }

    /// How many links of a clinic are waiting for an answer.
    pub async fn count_open_links(&self, clinic_id: Uuid) -> Result<i64> {
        Ok(scalar!(
            db(&self.db),
            i64,
            "SELECT COUNT(*) FROM patient_link WHERE clinic_id = $1 AND used_at IS NULL
               AND expires_at > $2",
            clinic_id,
            now()
        ))
    }
}
