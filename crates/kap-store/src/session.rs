//! Staff sign-in: server-side login sessions (the cookie holds a random token, the table its
//! SHA-256), the principal behind a session, and the record of login attempts that throttling
//! counts.

use crate::db::{Tx, exec, fetch_opt, scalar, scalar_opt};
use crate::error::{Result, StoreError, code, opt_field};
use crate::{Store, new_id, now, random_hex, token_hash};
use chrono::{DateTime, Duration, Utc};
use kap_domain::Role;
use kap_domain::audit::{Actor, ActorKind};
use kap_domain::time::TimeZone;
use uuid::Uuid;

/// An authenticated staff member acting within one clinic, from a session or an API token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub staff_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub clinic_id: Uuid,
    pub clinic_name: String,
    /// The clinic's time zone, if it set one.
    pub clinic_time_zone: Option<TimeZone>,
    pub role: Role,
    /// Set for browser sessions: the synchroniser token forms must echo.
    pub csrf_token: Option<String>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    /// Whether the person signs in with a second factor.
    pub two_factor_on: bool,
    /// Whether the clinic requires a second factor of all its staff.
    pub clinic_requires_two_factor: bool,
}

impl Principal {
    /// The clinic requires two factors and this person has not set theirs up yet: until they
    /// do, only their own account pages open.
    pub fn must_set_up_two_factor(&self) -> bool {
        self.clinic_requires_two_factor && !self.two_factor_on
    }

    pub fn actor(&self, kind: ActorKind, address: Option<String>) -> Actor {
        Actor::staff(self.staff_id, kind, self.clinic_id, address)
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PrincipalRow {
    staff_id: Uuid,
    email: String,
    full_name: String,
    clinic_id: Uuid,
    clinic_name: String,
    clinic_time_zone: Option<String>,
    role: String,
    csrf_token: Option<String>,
    last_seen_at: Option<DateTime<Utc>>,
    created_at: Option<DateTime<Utc>>,
    two_factor_on: bool,
    clinic_requires_two_factor: bool,
}

impl TryFrom<PrincipalRow> for Principal {
    type Error = StoreError;
    fn try_from(r: PrincipalRow) -> Result<Principal> {
        Ok(Principal {
            role: code("staff membership", r.staff_id, "role", &r.role)?,
            staff_id: r.staff_id,
            email: r.email,
            full_name: r.full_name,
            clinic_id: r.clinic_id,
            clinic_name: r.clinic_name,
            clinic_time_zone: opt_field(
                "clinic",
                r.clinic_id,
                "time_zone",
                r.clinic_time_zone.as_deref(),
                TimeZone::parse,
            )?,
            csrf_token: r.csrf_token,
            last_seen_at: r.last_seen_at,
            created_at: r.created_at,
            two_factor_on: r.two_factor_on,
            clinic_requires_two_factor: r.clinic_requires_two_factor,
        })
    }
}

pub(crate) const PRINCIPAL_COLS: &str = "s.id AS staff_id, s.email, s.full_name,
    c.id AS clinic_id, c.name AS clinic_name, c.time_zone AS clinic_time_zone, m.role,
    s.totp_secret IS NOT NULL AS two_factor_on, c.require_two_factor AS clinic_requires_two_factor";

/// How many failed logins an account may have within the window before it is refused.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub per_account: i64,
    pub window: Duration,
}

/// The answer to a reserved login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginReservation {
    /// The password may be checked. `address_failures` is how many failures came from this
    /// address in the window (the caller slows such an address down).
    Granted {
        attempt: Uuid,
        address_failures: i64,
    },
    /// The account has had too many failures in the window: no password is checked.
    AccountLocked,
}

/// Session lifetime rules.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Store {
    /// Starts a session for a staff member in a clinic and returns the raw token for the cookie.
    /// Any session the browser held before is ended (rotation on login).
    pub async fn start_session(
        &self,
        staff_id: Uuid,
        clinic_id: Uuid,
        address: Option<&str>,
        previous_token: Option<&str>,
        policy: SessionPolicy,
    ) -> Result<String> {
        let token = random_hex(32);
        let t = now();
        let mut tx = self.db.begin().await?;
        if let Some(prev) = previous_token {
            exec!(
                tx(&mut tx),
                "DELETE FROM login_session WHERE token_hash = $1",
                token_hash(prev)
            );
        }
        // Expired sessions of this person are swept here, so the table does not grow forever.
        exec!(
            tx(&mut tx),
            "DELETE FROM login_session
             WHERE staff_id = $1 AND (expires_at < $2 OR last_seen_at < $3)",
            staff_id,
            t,
            t - policy.idle
        );
        exec!(
            tx(&mut tx),
            "INSERT INTO login_session (token_hash, staff_id, clinic_id, csrf_token, created_at,
                last_seen_at, expires_at, address) VALUES ($1,$2,$3,$4,$5,$5,$6,$7)",
            token_hash(&token),
            staff_id,
            clinic_id,
            random_hex(32),
            t,
            t + policy.absolute,
            address
        );
        tx.commit().await?;
        Ok(token)
    }

    /// The staff member behind a session token, if the session is live (not past its idle or
    /// absolute limit, account active, still a member of the clinic). Refreshes the idle timer.
    pub async fn session_principal(
        &self,
        token: &str,
        policy: SessionPolicy,
    ) -> Result<Option<Principal>> {
        let t = now();
        let hash = token_hash(token);
        let sql = format!(
            "SELECT {PRINCIPAL_COLS}, l.csrf_token, l.last_seen_at, l.created_at
             FROM login_session l JOIN staff_user s ON s.id = l.staff_id
             JOIN clinic c ON c.id = l.clinic_id
             JOIN staff_membership m ON m.staff_id = s.id AND m.clinic_id = c.id
             WHERE l.token_hash = $1 AND l.expires_at > $2 AND l.last_seen_at > $3 AND s.active
               AND m.active"
        );
        let row = fetch_opt!(
            db(&self.db),
            PrincipalRow,
            sqlx::AssertSqlSafe(sql),
            &hash,
            t,
            t - policy.idle
        );
        let Some(p) = row.map(Principal::try_from).transpose()? else {
            return Ok(None);
        };
        // Touch at most once a minute: a page view should not always be a write.
        if p.last_seen_at
            .is_some_and(|s| t - s > Duration::seconds(60))
        {
            exec!(
                db(&self.db),
                "UPDATE login_session SET last_seen_at = $1 WHERE token_hash = $2",
                t,
                &hash
            );
        }
        Ok(Some(p))
    }

    pub async fn end_session(&self, token: &str) -> Result<()> {
        exec!(
            db(&self.db),
            "DELETE FROM login_session WHERE token_hash = $1",
            token_hash(token)
        );
        Ok(())
    }

    /// "Log out everywhere": ends every session of a staff member.
    pub async fn end_all_sessions(&self, staff_id: Uuid) -> Result<u64> {
        Ok(exec!(
            db(&self.db),
            "DELETE FROM login_session WHERE staff_id = $1",
            staff_id
        ))
    }

    /// Moves a session to another clinic the staff member belongs to.
    pub async fn switch_session_clinic(
        &self,
        token: &str,
        staff_id: Uuid,
        clinic_id: Uuid,
    ) -> Result<()> {
        let member = scalar_opt!(
            db(&self.db),
            Uuid,
            "SELECT clinic_id FROM staff_membership
             WHERE staff_id = $1 AND clinic_id = $2 AND active",
            staff_id,
            clinic_id
        );
        if member.is_none() {
            return Err(StoreError::NotFound);
        }
        exec!(
            db(&self.db),
            "UPDATE login_session SET clinic_id = $1 WHERE token_hash = $2 AND staff_id = $3",
            clinic_id,
            token_hash(token),
            staff_id
        );
        Ok(())
    }

    // ---- login throttling ----

    /// Reserves a login attempt before the (slow) password check, atomically: the failures of
    /// the account since its last success are counted and the attempt recorded — as a failure
    /// until [`Store::settle_login_attempt`] says otherwise — in one transaction, serialised per
    /// account (SQLite has one writer; PostgreSQL takes an advisory lock on the email). So
    /// concurrent attempts can never get more password checks than the limit allows.
    pub async fn reserve_login_attempt(
        &self,
        email: &str,
        address: &str,
        limits: LoginLimits,
    ) -> Result<LoginReservation> {
        let t = now();
        let since = t - limits.window;
        let mut tx = self.db.begin().await?;
        if let Tx::Postgres(c) = &mut tx {
            sqlx::query("SELECT pg_advisory_xact_lock(727002, hashtext($1))")
                .bind(email)
                .execute(&mut **c)
                .await?;
        }
        let by_email = scalar!(
            tx(&mut tx),
            i64,
            "SELECT COUNT(*) FROM login_attempt WHERE email = $1 AND at >= $2 AND NOT succeeded
               AND at > COALESCE((SELECT MAX(at) FROM login_attempt
                                  WHERE email = $1 AND succeeded), $2)",
            email,
            since
        );
        if by_email >= limits.per_account {
            return Ok(LoginReservation::AccountLocked);
        }
        let by_address = scalar!(
            tx(&mut tx),
            i64,
            "SELECT COUNT(*) FROM login_attempt
             WHERE address = $1 AND at >= $2 AND NOT succeeded",
            address,
            since
        );
        let attempt = new_id();
        exec!(
            tx(&mut tx),
            "INSERT INTO login_attempt (id, at, email, address, succeeded)
             VALUES ($1,$2,$3,$4,FALSE)",
            attempt,
            t,
            email,
            address
        );
        tx.commit().await?;
        Ok(LoginReservation::Granted {
            attempt,
            address_failures: by_address,
        })
    }

    /// Records how a reserved attempt ended: a success clears the account's failure count.
    pub async fn settle_login_attempt(&self, attempt: Uuid, succeeded: bool) -> Result<()> {
        if succeeded {
            exec!(
                db(&self.db),
                "UPDATE login_attempt SET succeeded = TRUE WHERE id = $1",
                attempt
            );
        }
        Ok(())
    }

    pub async fn record_login_attempt(
        &self,
        email: &str,
        address: &str,
        succeeded: bool,
    ) -> Result<()> {
        exec!(
            db(&self.db),
            "INSERT INTO login_attempt (id, at, email, address, succeeded)
             VALUES ($1,$2,$3,$4,$5)",
            new_id(),
            now(),
            email,
            address,
            succeeded
        );
        Ok(())
    }

    /// Failed attempts since the last success, within the window, for an account and for an
    /// address.
    pub async fn recent_login_failures(
        &self,
        email: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> Result<(i64, i64)> {
        let by_email = scalar!(
            db(&self.db),
            i64,
            "SELECT COUNT(*) FROM login_attempt WHERE email = $1 AND at >= $2 AND NOT succeeded
               AND at > COALESCE((SELECT MAX(at) FROM login_attempt
                                  WHERE email = $1 AND succeeded), $2)",
            email,
            since
        );
        let by_address = scalar!(
            db(&self.db),
            i64,
            "SELECT COUNT(*) FROM login_attempt
             WHERE address = $1 AND at >= $2 AND NOT succeeded",
            address,
            since
        );
        Ok((by_email, by_address))
    }
}
