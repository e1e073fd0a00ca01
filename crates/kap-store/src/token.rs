//! API tokens: per-person bearer tokens for integrations and scripts, acting in one clinic.
//! Only a token's SHA-256 is kept; the token is shown once, when it is made.

use crate::db::{exec, fetch_all, fetch_opt};
use crate::error::{Result, StoreError};
use crate::session::{PRINCIPAL_COLS, Principal, PrincipalRow};
use crate::{Store, new_id, now, random_hex, token_hash};
use chrono::{DateTime, Utc};
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::staff::ApiTokenInfo;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    label: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Creates an API token acting as `staff_id` in `clinic_id`; returns its id and the raw token
    /// (shown once, never stored).
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        staff_id: Uuid,
        clinic_id: Uuid,
        label: &str,
    ) -> Result<(Uuid, String)> {
        let raw = format!("kap_{}", random_hex(32));
        let id = new_id();
        let mut a = self.audited_in(actor, clinic_id).await?;
        exec!(
            tx(a.tx()),
            "INSERT INTO api_token (id, staff_id, clinic_id, token_hash, label, created_at)
             VALUES ($1,$2,$3,$4,$5,$6)",
            id,
            staff_id,
            clinic_id,
            token_hash(&raw),
            label,
            now()
        );
        a.record(
            AuditAction::TokenCreated,
            Subject::record(RecordKind::ApiToken, id).with_detail(format!("for staff {staff_id}")),
        )
        .await?;
        a.commit().await?;
        Ok((id, raw))
    }

    /// Revokes one of a staff member's tokens for this clinic (a token for another clinic is
    /// not found).
    pub async fn revoke_api_token(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        staff_id: Uuid,
        id: Uuid,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let n = exec!(
            tx(a.tx()),
            "UPDATE api_token SET revoked_at = $1 WHERE id = $2 AND staff_id = $3
               AND clinic_id = $4 AND revoked_at IS NULL",
            now(),
            id,
            staff_id,
            clinic_id
        );
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        a.record(
            AuditAction::TokenRevoked,
            Subject::record(RecordKind::ApiToken, id),
        )
        .await?;
        a.commit().await
    }

    /// A staff member's tokens for one clinic, newest first.
    pub async fn api_tokens_of(
        &self,
        clinic_id: Uuid,
        staff_id: Uuid,
    ) -> Result<Vec<ApiTokenInfo>> {
        Ok(fetch_all!(
            db(&self.db),
            TokenRow,
            "SELECT id, label, created_at, revoked_at FROM api_token
             WHERE staff_id = $1 AND clinic_id = $2 ORDER BY created_at DESC",
            staff_id,
            clinic_id
        )
        .into_iter()
        .map(|r| ApiTokenInfo {
            id: r.id,
            label: r.label,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        })
        .collect())
    }

    /// The staff member behind a bearer token, if it is live and the account active.
    pub async fn token_principal(&self, raw: &str) -> Result<Option<Principal>> {
        let sql = format!(
            "SELECT {PRINCIPAL_COLS}, NULL AS csrf_token, NULL AS last_seen_at,
                t.created_at AS created_at
             FROM api_token t JOIN staff_user s ON s.id = t.staff_id
             JOIN clinic c ON c.id = t.clinic_id
             JOIN staff_membership m ON m.staff_id = s.id AND m.clinic_id = c.id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND s.active AND m.active"
        );
        fetch_opt!(
            db(&self.db),
            PrincipalRow,
            sqlx::AssertSqlSafe(sql),
            token_hash(raw)
        )
        .map(Principal::try_from)
        .transpose()
    }
}
