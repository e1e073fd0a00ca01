//! Check-in links: a random, single-use, expiring token per check-in sent (only its hash is
//! kept), made together with the message that carries it, in the course the patient is in.

use crate::audited::Audited;
use crate::db::{exec, fetch_all, fetch_opt, scalar_opt};
use crate::error::{Result, StoreError};
use crate::measure::outbox::{LinkRef, Recipient};
use crate::sealed::Sealer;
use crate::{Store, new_id, now, random_hex, token_hash};
use chrono::{DateTime, Duration, Utc};
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::checkin::CheckinLink;
use kap_domain::instruments::Instrument;
use kap_domain::messages::{TOKEN_SLOT, checkin_link};
use uuid::Uuid;

/// A check-in link to make, and how its message is delivered.
#[derive(Debug, Clone, Copy)]
pub struct NewCheckinLink<'a> {
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    /// A questionnaire to answer on the same page (one a patient answers themselves).
    pub instrument: Option<&'static Instrument>,
    /// How many days the link stays valid.
    pub valid_days: i32,
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
    instrument: Option<String>,
    course_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    checkin_id: Option<Uuid>,
}

impl TryFrom<LinkRow> for CheckinLink {
    type Error = StoreError;
    fn try_from(r: LinkRow) -> Result<CheckinLink> {
        Ok(CheckinLink {
            instrument: r
                .instrument
                .as_deref()
                .map(|i| crate::error::instrument("check-in link", r.id, i))
                .transpose()?,
            id: r.id,
            clinic_id: r.clinic_id,
            patient_id: r.patient_id,
            course_id: r.course_id,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
            checkin_id: r.checkin_id,
        })
    }
}

const LINK_SQL: &str = "SELECT l.id, l.clinic_id, l.patient_id, l.instrument, l.course_id,
    l.created_at, l.expires_at, l.used_at, c.id AS checkin_id
    FROM checkin_link l LEFT JOIN checkin c ON c.link_id = l.id";

/// The patient's open course (planned, active or paused; the newest), if any.
pub(crate) async fn open_course(
    tx: &mut crate::db::Tx,
    clinic_id: Uuid,
    patient_id: Uuid,
) -> Result<Option<Uuid>> {
    Ok(scalar_opt!(
        tx(tx),
        Uuid,
        "SELECT id FROM course WHERE patient_id = $1 AND clinic_id = $2
           AND status IN ('planned', 'active', 'paused')
         ORDER BY created_at DESC LIMIT 1",
        patient_id,
        clinic_id
    ))
}

/// What sent a link, when a schedule did.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SentBy {
    pub schedule: Option<Uuid>,
    /// The dosing session an after-dosing link is for (one per schedule and session).
    pub dosing_session: Option<Uuid>,
}

/// Makes a link and queues its message inside an audited transaction; returns the link id and
/// the raw token — or nothing when a schedule already sent the link for this dosing session
/// (another worker got there first).
pub(crate) async fn insert_checkin_link(
    a: &mut Audited,
    sealer: &Sealer,
    l: &NewCheckinLink<'_>,
    by: SentBy,
    at: DateTime<Utc>,
) -> Result<Option<(Uuid, String)>> {
    let to = Recipient::of(a.tx(), l.clinic_id, l.patient_id).await?;
    let course = open_course(a.tx(), l.clinic_id, l.patient_id).await?;
    let token = random_hex(24);
    let id = new_id();
    let by_staff = a.actor().staff_id;
    let made = exec!(
        tx(a.tx()),
        "INSERT INTO checkin_link (id, clinic_id, patient_id, instrument, course_id, token_hash,
            created_by, created_at, expires_at, schedule_id, dosing_session_id)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT DO NOTHING",
        id,
        l.clinic_id,
        l.patient_id,
        l.instrument.map(|i| i.code),
        course,
        token_hash(&token),
        by_staff,
        at,
        at + Duration::days(i64::from(l.valid_days)),
        by.schedule,
        by.dosing_session
    );
    if made == 0 {
        return Ok(None);
    }
    let message = checkin_link(
        to.sender(),
        &format!("{}/k/{TOKEN_SLOT}", l.public_url),
        l.valid_days,
    );
    to.queue(
        a,
        sealer,
        LinkRef::Checkin(id),
        &message,
        &token,
        l.email_enabled,
    )
    .await?;
    a.record(
        AuditAction::CheckinLinkCreated,
        Subject::patient(l.patient_id).with_detail(format!(
            "check-in link {id}{}",
            l.instrument
                .map(|i| format!(" with {}", i.code))
                .unwrap_or_default()
        )),
    )
    .await?;
    Ok(Some((id, token)))
}

impl Store {
    /// Makes a single-use check-in link and queues the message carrying it, in one
    /// transaction. Returns the link id and the raw token (never stored; only its hash is).
    pub async fn create_checkin_link(
        &self,
        actor: &Actor,
        l: NewCheckinLink<'_>,
    ) -> Result<(Uuid, String)> {
        self.create_checkin_link_at(actor, l, now()).await
    }

    /// As [`Store::create_checkin_link`], made at `at` (the demo replays the past).
    pub async fn create_checkin_link_at(
        &self,
        actor: &Actor,
        l: NewCheckinLink<'_>,
        at: DateTime<Utc>,
    ) -> Result<(Uuid, String)> {
        let mut a = self.audited_in(actor, l.clinic_id).await?;
        let made = insert_checkin_link(&mut a, &self.sealer(), &l, SentBy::default(), at)
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                record: "check-in link",
                id: l.patient_id.to_string(),
                field: "token_hash",
                problem: "a fresh random token is already in use".into(),
            })?;
        a.commit().await?;
        Ok(made)
    }

    /// The check-in link behind a raw token, if any (used, expired or not).
    pub async fn checkin_link_by_token(&self, token: &str) -> Result<Option<CheckinLink>> {
        let sql = format!("{LINK_SQL} WHERE l.token_hash = $1");
        fetch_opt!(
            db(&self.db),
            LinkRow,
            sqlx::AssertSqlSafe(sql),
            token_hash(token)
        )
        .map(CheckinLink::try_from)
        .transpose()
    }

    /// A patient's latest check-in links, newest first: when sent and where each stands
    /// (what a coordinator may see; no answers).
    pub async fn checkin_links_of(
        &self,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<Vec<CheckinLink>> {
        let sql = format!(
            "{LINK_SQL} WHERE l.clinic_id = $1 AND l.patient_id = $2
             ORDER BY l.created_at DESC LIMIT 20"
        );
        fetch_all!(
            db(&self.db),
            LinkRow,
            sqlx::AssertSqlSafe(sql),
            clinic_id,
            patient_id
        )
        .into_iter()
        .map(CheckinLink::try_from)
        .collect()
    }
}
