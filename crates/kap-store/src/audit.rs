//! Reading the audit trail: verifying the whole chain, the administrators' log (itself
//! audited), and counts for rate limits. Rows are appended only through [`crate::audited`].

use crate::Store;
use crate::db::{fetch_all, fetch_opt, scalar};
use crate::error::Result;
use chrono::{DateTime, Utc};
use kap_domain::audit::{
    Actor, AuditAction, AuditEntry, ChainBreak, ChainVerifier, Checkpoint, Subject,
};
use uuid::Uuid;

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

/// Whose audit rows: one clinic's, or the installation's own (rows with no clinic: failed
/// logins, command-line actions) — the latter only for the system scope (the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditScope {
    Clinic(Uuid),
    System,
}

/// One row as the audit page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
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
    /// Recomputes the chain from the first row, in pages, and names the first broken row; the
    /// chain must also reach every checkpointed head (so rows cut off the end are found).
    pub async fn verify_audit(&self, checkpoints: Vec<Checkpoint>) -> Result<Verification> {
        let mut v = ChainVerifier::with_checkpoints(self.audit_key(), checkpoints);
        let mut after = 0_i64;
        loop {
            let page = fetch_all!(
                db(&self.db),
                StoredRow,
                "SELECT seq, id, at, actor_id, actor_kind, action, record_kind, record_id,
                    patient_id, clinic_id, address, detail, prev_hash, hash
                 FROM audit_event WHERE seq > $1 ORDER BY seq LIMIT 1000",
                after
            );
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
        let rows = v.rows;
        Ok(Verification {
            rows,
            broken: v.finish().err(),
        })
    }

    /// The chain's head: the newest row's sequence number and hash (none when empty).
    pub async fn audit_head(&self) -> Result<Option<(i64, String)>> {
        Ok(fetch_opt!(
            db(&self.db),
            (i64, String),
            "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"
        ))
    }

    /// Audit rows of one scope, newest first, filtered by patient and/or staff member. Reading
    /// the trail is itself audited.
    pub async fn audit_rows(
        &self,
        actor: &Actor,
        scope: AuditScope,
        f: &AuditFilter,
    ) -> Result<Vec<AuditView>> {
        let mut a = match scope {
            AuditScope::Clinic(c) => self.audited_read_in(actor, c).await?,
            AuditScope::System => self.audited_read(actor).await?,
        };
        // Only the filters given become conditions, so each query can use its index
        // (clinic_id, seq), (patient_id, seq) or (actor_id, seq) instead of scanning the trail.
        let (mut cond, clinic_id) = match scope {
            AuditScope::Clinic(c) => (String::from("a.clinic_id = $1"), Some(c)),
            AuditScope::System => (String::from("a.clinic_id IS NULL AND $1 IS NULL"), None),
        };
        cond.push_str(if f.patient_id.is_some() {
            " AND a.patient_id = $2"
        } else {
            " AND $2 IS NULL"
        });
        cond.push_str(if f.actor_id.is_some() {
            " AND a.actor_id = $3"
        } else {
            " AND $3 IS NULL"
        });
        let sql = format!(
            "SELECT a.seq, a.at, a.actor_id, a.actor_kind, s.full_name AS actor_name,
                s.email AS actor_email, a.action, a.record_kind, a.record_id, a.patient_id,
                a.address, a.detail
             FROM audit_event a LEFT JOIN staff_user s ON s.id = a.actor_id
             WHERE {cond} AND ($4 IS NULL OR a.seq < $4)
             ORDER BY a.seq DESC LIMIT $5"
        );
        let rows = fetch_all!(
            tx(a.tx()),
            AuditView,
            sqlx::AssertSqlSafe(sql),
            clinic_id,
            f.patient_id,
            f.actor_id,
            f.before,
            f.limit
        );
        let detail = match (f.patient_id, f.actor_id) {
            (Some(p), _) => format!("patient {p}"),
            (None, Some(s)) => format!("staff {s}"),
            _ => "all".to_owned(),
        };
        a.record(
            AuditAction::AuditRead,
            Subject::none()
                .with_patient(f.patient_id)
                .with_detail(detail),
        )
        .await?;
        a.commit().await?;
        Ok(rows)
    }

    /// How many times `action` was recorded at a clinic from `address` since `since` (for rate
    /// limits on public forms: one clinic's limit never closes another's form).
    pub async fn count_recent(
        &self,
        action: AuditAction,
        clinic_id: Uuid,
        address: &str,
        since: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(scalar!(
            db(&self.db),
            i64,
            "SELECT COUNT(*) FROM audit_event
             WHERE action = $1 AND clinic_id = $2 AND address = $3 AND at >= $4",
            action.as_str(),
            clinic_id,
            address,
            since
        ))
    }
}
