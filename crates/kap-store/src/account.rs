//! Account security: changing one's own password, one-time password reset links, and
//! two-factor sign-in — the sealed TOTP secret, its once-only time steps, hashed recovery codes,
//! and the half-way state between a right password and a code.

use crate::db::{Tx, exec, fetch_opt, scalar, scalar_opt};
use crate::error::{Conflict, Result, StoreError};
use crate::{Store, new_id, now, random_hex, token_hash};
use chrono::Duration;
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::two_factor::TotpKey;
use uuid::Uuid;

/// Where a staff member stands with two-factor sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwoFactorState {
    pub enabled: bool,
    /// Recovery codes not yet used.
    pub recovery_left: i64,
}

/// The person a live reset link or login challenge belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub staff_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub clinic_id: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct HolderRow {
    staff_id: Uuid,
    email: String,
    full_name: String,
    clinic_id: Option<Uuid>,
}

impl From<HolderRow> for Holder {
    fn from(r: HolderRow) -> Self {
        Holder {
            staff_id: r.staff_id,
            email: r.email,
            full_name: r.full_name,
            clinic_id: r.clinic_id,
        }
    }
}

/// Replaces a password hash inside a transaction; the account must exist.
async fn write_password(tx: &mut Tx, staff_id: Uuid, password_hash: &str) -> Result<()> {
    let n = exec!(
        tx(tx),
        "UPDATE staff_user SET password_hash = $1, updated_at = $2 WHERE id = $3",
        password_hash,
        now(),
        staff_id
    );
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The sealing context of a staff member's TOTP secret: a sealed secret opens only for its
/// own account.
fn totp_context(staff_id: Uuid) -> String {
    format!("totp:{staff_id}")
}

impl Store {
    fn seal_key(&self, staff_id: Uuid, key: &TotpKey) -> String {
        self.sealer().seal(&key.base32(), &totp_context(staff_id))
    }

    fn open_key(&self, staff_id: Uuid, sealed: &str) -> Result<TotpKey> {
        let corrupt = |problem: String| StoreError::Corrupt {
            record: "staff account",
            id: staff_id.to_string(),
            field: "totp_secret",
            problem,
        };
        let text = self
            .sealer()
            .open(sealed, &totp_context(staff_id))
            .ok_or_else(|| corrupt("does not open with this installation's key".into()))?;
        TotpKey::from_base32(&text).map_err(|e| corrupt(e.to_string()))
    }

    /// Changes the signed-in person's own password: every other session of theirs ends (the
    /// one in use, named by its token, stays). Returns how many sessions ended.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        staff_id: Uuid,
        password_hash: &str,
        keep_session: Option<&str>,
    ) -> Result<u64> {
        let mut a = self.audited(actor).await?;
        write_password(a.tx(), staff_id, password_hash).await?;
        let ended = exec!(
            tx(a.tx()),
            "DELETE FROM login_session WHERE staff_id = $1 AND token_hash <> $2",
            staff_id,
            keep_session.map(token_hash).unwrap_or_default()
        );
        a.record(
            AuditAction::PasswordChanged,
            Subject::record(RecordKind::Staff, staff_id)
                .with_detail(format!("{ended} other sessions ended")),
        )
        .await?;
        a.commit().await?;
        Ok(ended)
    }

    /// Issues a one-time link for a colleague of the administrator's clinic to set a new
    /// password; returns the raw token (shown once, never stored). Earlier unused links of
    /// the same person stop working. Refused for someone who also works in another clinic:
    /// one clinic's administrator must not take over an account that reaches other clinics.
    pub async fn issue_password_reset(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        staff_id: Uuid,
        valid_for: Duration,
    ) -> Result<String> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let here = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT m.staff_id FROM staff_membership m JOIN staff_user s ON s.id = m.staff_id
             WHERE m.staff_id = $1 AND m.clinic_id = $2 AND m.active AND s.active",
            staff_id,
            clinic_id
        );
        if here.is_none() {
            return Err(StoreError::NotFound);
        }
        let elsewhere = scalar!(
            tx(a.tx()),
            i64,
            "SELECT COUNT(*) FROM staff_membership WHERE staff_id = $1 AND clinic_id <> $2 AND active",
            staff_id,
            clinic_id
        );
        if elsewhere > 0 {
            return Err(Conflict::WorksElsewhere.into());
        }
        let t = now();
        exec!(
            tx(a.tx()),
            "UPDATE password_reset SET used_at = $1 WHERE staff_id = $2 AND used_at IS NULL",
            t,
            staff_id
        );
        let token = random_hex(32);
        exec!(
            tx(a.tx()),
            "INSERT INTO password_reset (token_hash, staff_id, issued_by, clinic_id, created_at,
                expires_at, used_at)
             VALUES ($1,$2,$3,$4,$5,$6,NULL)",
            token_hash(&token),
            staff_id,
            actor.staff_id,
            clinic_id,
            t,
            t + valid_for
        );
        a.record(
            AuditAction::PasswordResetIssued,
            Subject::record(RecordKind::Staff, staff_id),
        )
        .await?;
        a.commit().await?;
        Ok(token)
    }

    /// The person a live (unused, unexpired) reset link belongs to.
    pub async fn password_reset_holder(&self, token: &str) -> Result<Option<Holder>> {
        Ok(fetch_opt!(
            db(&self.db),
            HolderRow,
            "SELECT s.id AS staff_id, s.email, s.full_name, r.clinic_id
             FROM password_reset r JOIN staff_user s ON s.id = r.staff_id
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND s.active",
            token_hash(token),
            now()
        )
        .map(Holder::from))
    }

    /// Sets a new password with a reset link, once: the link is spent and every session of the
    /// person ends. `Conflict::LinkSpent` when the link was used, replaced or expired.
    pub async fn reset_password_with_link(
        &self,
        token: &str,
        password_hash: &str,
        address: Option<String>,
    ) -> Result<Holder> {
        let holder = self
            .password_reset_holder(token)
            .await?
            .ok_or(Conflict::LinkSpent)?;
        let actor = Actor {
            staff_id: Some(holder.staff_id),
            kind: kap_domain::audit::ActorKind::Staff,
            clinic_id: holder.clinic_id,
            address,
        };
        let mut a = self.audited(&actor).await?;
        let t = now();
        // Spending the link is the guard: of two uses at once, one changes nothing.
        let spent = exec!(
            tx(a.tx()),
            "UPDATE password_reset SET used_at = $1
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
            t,
            token_hash(token)
        );
        if spent == 0 {
            return Err(Conflict::LinkSpent.into());
        }
        write_password(a.tx(), holder.staff_id, password_hash).await?;
        exec!(
            tx(a.tx()),
            "DELETE FROM login_session WHERE staff_id = $1",
            holder.staff_id
        );
        a.record(
            AuditAction::PasswordReset,
            Subject::record(RecordKind::Staff, holder.staff_id).with_detail("with a reset link"),
        )
        .await?;
        a.commit().await?;
        Ok(holder)
    }

    /// Sets a password from the command line (the installation's operator); every session of
    /// the person ends.
    pub async fn reset_password_by_operator(
        &self,
        staff_id: Uuid,
        password_hash: &str,
    ) -> Result<()> {
        let mut a = self.audited(&Actor::system()).await?;
        write_password(a.tx(), staff_id, password_hash).await?;
        exec!(
            tx(a.tx()),
            "DELETE FROM login_session WHERE staff_id = $1",
            staff_id
        );
        a.record(
            AuditAction::PasswordReset,
            Subject::record(RecordKind::Staff, staff_id).with_detail("by the operator"),
        )
        .await?;
        a.commit().await
    }

    pub async fn two_factor_state(&self, staff_id: Uuid) -> Result<TwoFactorState> {
        let enabled = scalar_opt!(
            db(&self.db),
            bool,
            "SELECT totp_secret IS NOT NULL FROM staff_user WHERE id = $1",
            staff_id
        )
        .ok_or(StoreError::NotFound)?;
        let recovery_left = scalar!(
            db(&self.db),
            i64,
            "SELECT COUNT(*) FROM staff_recovery_code WHERE staff_id = $1 AND used_at IS NULL",
            staff_id
        );
        Ok(TwoFactorState {
            enabled,
            recovery_left,
        })
    }

    /// Keeps a new secret (sealed) while its owner sets up their authenticator; replaced by
    /// the next one started, and turned on only by [`Store::enable_totp`].
    pub async fn set_pending_totp(&self, staff_id: Uuid, key: &TotpKey) -> Result<()> {
        exec!(
            db(&self.db),
            "UPDATE staff_user SET totp_pending = $1 WHERE id = $2",
            self.seal_key(staff_id, key),
            staff_id
        );
        Ok(())
    }

    pub async fn pending_totp(&self, staff_id: Uuid) -> Result<Option<TotpKey>> {
        let sealed = scalar_opt!(
            db(&self.db),
            Option<String>,
            "SELECT totp_pending FROM staff_user WHERE id = $1",
            staff_id
        )
        .flatten();
        sealed.map(|s| self.open_key(staff_id, &s)).transpose()
    }

    /// Turns two-factor sign-in on with the pending secret, proven by a code of time step
    /// `step`; the recovery codes (as hashes) replace any earlier ones.
    pub async fn enable_totp(
        &self,
        actor: &Actor,
        staff_id: Uuid,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<()> {
        let mut a = self.audited(actor).await?;
        let t = now();
        let n = exec!(
            tx(a.tx()),
            "UPDATE staff_user SET totp_secret = totp_pending, totp_pending = NULL,
                totp_enabled_at = $1, totp_last_step = $2
             WHERE id = $3 AND totp_pending IS NOT NULL",
            t,
            step,
            staff_id
        );
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        exec!(
            tx(a.tx()),
            "DELETE FROM staff_recovery_code WHERE staff_id = $1",
            staff_id
        );
        for h in recovery_hashes {
            exec!(
                tx(a.tx()),
                "INSERT INTO staff_recovery_code (id, staff_id, code_hash, created_at, used_at)
                 VALUES ($1,$2,$3,$4,NULL)",
                new_id(),
                staff_id,
                h,
                t
            );
        }
        a.record(
            AuditAction::TwoFactorEnabled,
            Subject::record(RecordKind::Staff, staff_id),
        )
        .await?;
        a.commit().await
    }

    /// Turns two-factor sign-in off and forgets the secret and recovery codes.
    pub async fn disable_totp(&self, actor: &Actor, staff_id: Uuid) -> Result<()> {
        let mut a = self.audited(actor).await?;
        exec!(
            tx(a.tx()),
            "UPDATE staff_user SET totp_secret = NULL, totp_pending = NULL,
                totp_enabled_at = NULL, totp_last_step = NULL
             WHERE id = $1",
            staff_id
        );
        exec!(
            tx(a.tx()),
            "DELETE FROM staff_recovery_code WHERE staff_id = $1",
            staff_id
        );
        a.record(
            AuditAction::TwoFactorDisabled,
            Subject::record(RecordKind::Staff, staff_id),
        )
        .await?;
        a.commit().await
    }

    /// The person's TOTP secret and the last time step accepted, when two factors are on.
    pub async fn totp_key(&self, staff_id: Uuid) -> Result<Option<(TotpKey, Option<i64>)>> {
        let row = fetch_opt!(
            db(&self.db),
            (Option<String>, Option<i64>),
            "SELECT totp_secret, totp_last_step FROM staff_user WHERE id = $1",
            staff_id
        );
        match row {
            Some((Some(sealed), last)) => Ok(Some((self.open_key(staff_id, &sealed)?, last))),
            _ => Ok(None),
        }
    }

    /// Records a time step as used; false when it (or a later one) was used already — of two
    /// sign-ins with the same code, one wins.
    pub async fn use_totp_step(&self, staff_id: Uuid, step: i64) -> Result<bool> {
        Ok(exec!(
            db(&self.db),
            "UPDATE staff_user SET totp_last_step = $1
             WHERE id = $2 AND totp_secret IS NOT NULL
               AND (totp_last_step IS NULL OR totp_last_step < $1)",
            step,
            staff_id
        ) == 1)
    }

    /// Spends a recovery code (by its hash); false when it is not one of the person's unused
    /// codes.
    pub async fn use_recovery_code(&self, staff_id: Uuid, code_hash: &str) -> Result<bool> {
        Ok(exec!(
            db(&self.db),
            "UPDATE staff_recovery_code SET used_at = $1
             WHERE staff_id = $2 AND code_hash = $3 AND used_at IS NULL",
            now(),
            staff_id,
            code_hash
        ) >= 1)
    }

    /// Starts the second step of a sign-in whose password was right; returns the raw token for
    /// the browser.
    pub async fn start_login_challenge(
        &self,
        staff_id: Uuid,
        clinic_id: Uuid,
        valid_for: Duration,
    ) -> Result<String> {
        let t = now();
        exec!(
            db(&self.db),
            "DELETE FROM login_challenge WHERE expires_at <= $1 OR staff_id = $2",
            t,
            staff_id
        );
        let token = random_hex(32);
        exec!(
            db(&self.db),
            "INSERT INTO login_challenge (token_hash, staff_id, clinic_id, created_at, expires_at)
             VALUES ($1,$2,$3,$4,$5)",
            token_hash(&token),
            staff_id,
            clinic_id,
            t,
            t + valid_for
        );
        Ok(token)
    }

    /// The person half-way through signing in with this token, while it is live.
    pub async fn login_challenge(&self, token: &str) -> Result<Option<Holder>> {
        Ok(fetch_opt!(
            db(&self.db),
            HolderRow,
            "SELECT s.id AS staff_id, s.email, s.full_name, l.clinic_id
             FROM login_challenge l JOIN staff_user s ON s.id = l.staff_id
             WHERE l.token_hash = $1 AND l.expires_at > $2 AND s.active",
            token_hash(token),
            now()
        )
        .map(Holder::from))
    }

    pub async fn end_login_challenge(&self, token: &str) -> Result<()> {
        exec!(
            db(&self.db),
            "DELETE FROM login_challenge WHERE token_hash = $1",
            token_hash(token)
        );
        Ok(())
    }

    /// Whether a clinic requires two-factor sign-in of all its staff.
    pub async fn requires_two_factor(&self, clinic_id: Uuid) -> Result<bool> {
        scalar_opt!(
            db(&self.db),
            bool,
            "SELECT require_two_factor FROM clinic WHERE id = $1",
            clinic_id
        )
        .ok_or(StoreError::NotFound)
    }

    /// Sets whether a clinic requires two-factor sign-in of all its staff.
    pub async fn set_requires_two_factor(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        required: bool,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        exec!(
            tx(a.tx()),
            "UPDATE clinic SET require_two_factor = $1 WHERE id = $2",
            required,
            clinic_id
        );
        a.record(
            AuditAction::ClinicUpdated,
            Subject::record(RecordKind::Clinic, clinic_id).with_detail(if required {
                "two-factor sign-in required"
            } else {
                "two-factor sign-in optional"
            }),
        )
        .await?;
        a.commit().await
    }
}
