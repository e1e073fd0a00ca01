//! The one way to change clinical data: an [`Audited`] transaction holds the database
//! transaction, the audit key and the actor, and appends the hash-chained audit row with
//! [`Audited::record`] in the same transaction as the change (or read) it records. It refuses
//! to commit when nothing was recorded, so no write can forget its audit row.

use crate::db::{Tx, exec, fetch_opt};
use crate::error::{Result, StoreError};
use crate::{Store, new_id, now};
use kap_domain::audit::Actor;
use kap_domain::audit::{AuditAction, AuditEntry, AuditKey, GENESIS, Subject, chain_hash};
use std::sync::Arc;

pub(crate) struct Audited {
    tx: Tx,
    key: Arc<AuditKey>,
    actor: Actor,
    recorded: u32,
}

impl Store {
    /// Opens an audited transaction acting as `actor`.
    pub(crate) async fn audited(&self, actor: &Actor) -> Result<Audited> {
        Ok(Audited {
            tx: self.db.begin().await?,
            key: self.key.clone(),
            actor: actor.clone(),
            recorded: 0,
        })
    }

    /// Opens an audited transaction about a clinic's records: its rows belong to that clinic
    /// (and show in its audit log) whoever acts — staff of the clinic, or the system.
    pub(crate) async fn audited_in(&self, actor: &Actor, clinic_id: uuid::Uuid) -> Result<Audited> {
        let actor = Actor {
            clinic_id: Some(clinic_id),
            ..actor.clone()
        };
        self.audited(&actor).await
    }

    /// Appends one audit row in its own transaction, for events with no other write (a failed
    /// login, a patient opening a link).
    pub async fn audit_only(&self, actor: &Actor, action: AuditAction, s: Subject) -> Result<()> {
        let mut a = self.audited(actor).await?;
        a.record(action, s).await?;
        a.commit().await
    }
}

impl Audited {
    pub(crate) fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    pub(crate) fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Appends the audit row recording `action` on `subject`.
    pub(crate) async fn record(&mut self, action: AuditAction, subject: Subject) -> Result<()> {
        append(&mut self.tx, &self.key, &self.actor, action, subject).await?;
        self.recorded += 1;
        Ok(())
    }

    /// Commits the change with its audit rows; refuses if none was recorded.
    pub(crate) async fn commit(self) -> Result<()> {
        if self.recorded == 0 {
            return Err(StoreError::Unaudited);
        }
        self.tx.commit().await
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
async fn append(
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
    let head = fetch_opt!(
        tx(tx),
        Head,
        "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"
    );
    let (prev_seq, prev_hash) = head.map_or((0, GENESIS.to_owned()), |h| (h.seq, h.hash));
    let e = AuditEntry::new(prev_seq + 1, new_id(), now(), actor, action, subject);
    let hash = chain_hash(key, &prev_hash, &e);
    exec!(
        tx(tx),
        "INSERT INTO audit_event (seq, id, at, actor_id, actor_kind, action, record_kind,
            record_id, patient_id, clinic_id, address, detail, prev_hash, hash)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)",
        e.seq,
        e.id,
        e.at,
        e.actor_id,
        &e.actor_kind,
        &e.action,
        &e.record_kind,
        e.record_id,
        e.patient_id,
        e.clinic_id,
        &e.address,
        &e.detail,
        &prev_hash,
        &hash
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::db::{exec, scalar};
    use kap_domain::audit::{Actor, AuditAction, Subject};

    #[tokio::test]
    async fn a_change_without_an_audit_row_is_refused_and_leaves_nothing()
    -> Result<(), crate::StoreError> {
        let store = crate::testing::store("sqlite").await.expect("store");
        let mut a = store.audited(&Actor::system()).await.expect("tx");
        exec!(
            tx(a.tx()),
            "INSERT INTO clinic (id, name, slug, crisis_resources, created_at)
             VALUES ($1, 'X', 'x', '', $2)",
            crate::new_id(),
            crate::now()
        );
        let r = a.commit().await;
        assert!(matches!(r, Err(crate::StoreError::Unaudited)), "{r:?}");
        let n = scalar!(db(&store.db), i64, "SELECT COUNT(*) FROM clinic");
        assert_eq!(n, 0);
        let mut a = store.audited(&Actor::system()).await.expect("tx");
        a.record(AuditAction::LoginFailed, Subject::none())
            .await
            .expect("record");
        a.commit().await.expect("an audited transaction commits");
        Ok(())
    }
}
