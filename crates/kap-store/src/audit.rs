//! The audit trail: who did what to which record, when and from where — appended in the same
//! transaction as the change (or read) it records, and hash-chained under a key kept outside the
//! database (see `kap_domain::audit`).

use crate::{Result, Store, Tx, new_id, now, on_db, on_tx};
use chrono::{DateTime, Utc};
use kap_domain::audit::{AuditAction, AuditEntry, AuditKey, ChainBreak, ChainVerifier, GENESIS};
use uuid::Uuid;

/// Who is acting, and from where.
#[derive(Debug, Clone)]
pub struct Actor {
    pub staff_id: Option<Uuid>,
    /// `staff` (browser session), `api` (bearer token), `visitor` (public form), `system` (CLI).
    pub kind: &'static str,
    pub clinic_id: Option<Uuid>,
    pub address: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Self {
            staff_id: None,
            kind: "system",
            clinic_id: None,
            address: None,
        }
    }

    pub fn visitor(clinic_id: Uuid, address: Option<String>) -> Self {
        Self {
            staff_id: None,
            kind: "visitor",
            clinic_id: Some(clinic_id),
            address,
        }
    }
}

/// What an audit row is about.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    pub record_kind: Option<&'static str>,
    pub record_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub detail: String,
}

impl Subject {
    pub fn patient(id: Uuid) -> Self {
        Self {
            record_kind: Some("patient"),
            record_id: Some(id),
            patient_id: Some(id),
            detail: String::new(),
        }
    }

    pub fn record(kind: &'static str, id: Uuid) -> Self {
        Self {
            record_kind: Some(kind),
            record_id: Some(id),
            ..Self::default()
        }
    }

    pub fn none() -> Self {
        Self::default()
    }

    pub fn with_detail(mut self, d: impl Into<String>) -> Self {
        self.detail = d.into();
        self
    }

    pub fn with_patient(mut self, p: Option<Uuid>) -> Self {
        self.patient_id = p;
        self
    }
}

#[derive(sqlx::FromRow)]
struct Head {
    seq: i64,
    hash: String,
}

/// Appends one audit row inside `tx`. Appends are serialised: SQLite's write transactions
/// already are (`BEGIN IMMEDIATE`); on PostgreSQL a transaction-scoped advisory lock orders them,
/// so two transactions never chain onto the same head.
pub async fn append(
    tx: &mut Tx,
    key: &AuditKey,
    actor: &Actor,
    action: AuditAction,
    subject: Subject,
) -> Result<()> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock(727001)")
            .execute(&mut **t)
            .await?;
    }
    let head: Option<Head> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"
    )
    .fetch_optional(&mut *c)
    .await?);
    let (prev_seq, prev_hash) = head.map_or((0, GENESIS.to_owned()), |h| (h.seq, h.hash));
    let entry = AuditEntry {
        seq: prev_seq + 1,
        id: new_id(),
        at: now(),
        actor_id: actor.staff_id,
        actor_kind: actor.kind.to_owned(),
        action: action.as_str().to_owned(),
        record_kind: subject.record_kind.map(str::to_owned),
        record_id: subject.record_id,
        patient_id: subject.patient_id,
        clinic_id: actor.clinic_id,
        address: actor.address.clone(),
        detail: subject.detail,
    };
    let hash = kap_domain::audit::chain_hash(key, &prev_hash, &entry);
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO audit_event (seq, id, at, actor_id, actor_kind, action, record_kind,
            record_id, patient_id, clinic_id, address, detail, prev_hash, hash)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
    )
    .bind(entry.seq)
    .bind(entry.id)
    .bind(entry.at)
    .bind(entry.actor_id)
    .bind(&entry.actor_kind)
    .bind(&entry.action)
    .bind(&entry.record_kind)
    .bind(entry.record_id)
    .bind(entry.patient_id)
    .bind(entry.clinic_id)
    .bind(&entry.address)
    .bind(&entry.detail)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct StoredRow {
    seq: i64,
    id: Uuid,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    actor_kind: String,
    action: String,
    record_kind: Option<String>,
    record_id: Option<Uuid>,
    patient_id: Option<Uuid>,
    clinic_id: Option<Uuid>,
    address: Option<String>,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl StoredRow {
    fn entry(&self) -> AuditEntry {
        AuditEntry {
            seq: self.seq,
            id: self.id,
            at: self.at,
            actor_id: self.actor_id,
            actor_kind: self.actor_kind.clone(),
            action: self.action.clone(),
            record_kind: self.record_kind.clone(),
            record_id: self.record_id,
            patient_id: self.patient_id,
            clinic_id: self.clinic_id,
            address: self.address.clone(),
            detail: self.detail.clone(),
        }
    }
}

/// The outcome of recomputing the whole chain.
#[derive(Debug)]
pub struct Verification {
    pub rows: u64,
    pub broken: Option<ChainBreak>,
}

/// One row as the audit page shows it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditView {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_kind: String,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    pub action: String,
    pub record_kind: Option<String>,
    pub record_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub address: Option<String>,
    pub detail: String,
}

/// Which audit rows to show.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub patient_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    /// Show rows older than this sequence number (keyset paging, newest first).
    pub before: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Recomputes the chain from the first row, in pages, and names the first broken row.
    pub async fn verify_audit(&self) -> Result<Verification> {
        let mut v = ChainVerifier::new(self.audit_key());
        let mut after = 0_i64;
        loop {
            let page: Vec<StoredRow> = on_db!(&self.db, |p| sqlx::query_as(
                "SELECT seq, id, at, actor_id, actor_kind, action, record_kind, record_id,
                    patient_id, clinic_id, address, detail, prev_hash, hash
                 FROM audit_event WHERE seq > $1 ORDER BY seq LIMIT 1000"
            )
            .bind(after)
            .fetch_all(p)
            .await?);
            let Some(last) = page.last() else { break };
            after = last.seq;
            for row in &page {
                if let Err(b) = v.check(&row.entry(), &row.prev_hash, &row.hash) {
                    return Ok(Verification {
                        rows: v.rows,
                        broken: Some(b),
                    });
                }
            }
        }
        Ok(Verification {
            rows: v.rows,
            broken: None,
        })
    }

    /// Audit rows for one clinic, newest first, filtered by patient and/or staff member. Reading
    /// the trail is itself audited.
    pub async fn audit_rows(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        f: &AuditFilter,
    ) -> Result<Vec<AuditView>> {
        let mut tx = self.begin().await?;
        // Only the filters given become conditions, so each query can use its index
        // (patient_id, seq) or (actor_id, seq) instead of scanning the whole trail.
        let mut cond = String::from("(a.clinic_id = $1 OR a.clinic_id IS NULL)");
        if f.patient_id.is_some() {
            cond.push_str(" AND a.patient_id = $2");
        } else {
            cond.push_str(" AND $2 IS NULL");
        }
        if f.actor_id.is_some() {
            cond.push_str(" AND a.actor_id = $3");
        } else {
            cond.push_str(" AND $3 IS NULL");
        }
        let sql = format!(
            "SELECT a.seq, a.at, a.actor_id, a.actor_kind, s.full_name AS actor_name,
                s.email AS actor_email, a.action, a.record_kind, a.record_id, a.patient_id,
                a.address, a.detail
             FROM audit_event a LEFT JOIN staff_user s ON s.id = a.actor_id
             WHERE {cond} AND ($4 IS NULL OR a.seq < $4)
             ORDER BY a.seq DESC LIMIT $5"
        );
        let rows: Vec<AuditView> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(clinic_id)
            .bind(f.patient_id)
            .bind(f.actor_id)
            .bind(f.before)
            .bind(f.limit)
            .fetch_all(&mut *c)
            .await?);
        let detail = match (f.patient_id, f.actor_id) {
            (Some(p), _) => format!("patient {p}"),
            (None, Some(a)) => format!("staff {a}"),
            _ => "all".to_owned(),
        };
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::AuditRead,
            Subject::none()
                .with_patient(f.patient_id)
                .with_detail(detail),
        )
        .await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Appends one audit row in its own transaction (for events with no other write, such as a
    /// failed login).
    pub async fn audit_only(&self, actor: &Actor, action: AuditAction, s: Subject) -> Result<()> {
        let mut tx = self.begin().await?;
        append(&mut tx, self.audit_key(), actor, action, s).await?;
        tx.commit().await
    }

    /// How many times `action` was recorded from `address` since `since` (for rate limits on
    /// public forms).
    pub async fn count_recent(
        &self,
        action: AuditAction,
        address: &str,
        since: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(on_db!(&self.db, |p| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM audit_event WHERE action = $1 AND address = $2 AND at >= $3"
        )
        .bind(action.as_str())
        .bind(address)
        .bind(since)
        .fetch_one(p)
        .await?))
    }
}
