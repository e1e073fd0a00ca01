//! Clinics, staff accounts with a role per clinic, login sessions, login throttling and API
//! tokens. Passwords arrive here already hashed; tokens are kept only as SHA-256 digests.

use crate::audit::{Subject, append};
use crate::{Actor, Result, Store, StoreError, new_id, now, on_db, on_tx, random_hex, token_hash};
use chrono::{DateTime, Duration, Utc};
use kap_domain::Role;
use kap_domain::audit::AuditAction;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Clinic {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    /// Shown to patients and visitors wherever urgent help may be needed.
    pub crisis_resources: String,
}

/// What a new clinic tells people about urgent help until an administrator words it for their
/// region (clinical.md §11: crisis resources must be clinic-configurable).
pub const DEFAULT_CRISIS_RESOURCES: &str = "If you are in danger or thinking about suicide, do not wait for a reply: call or text 988 (Suicide & Crisis Lifeline, US), call your local emergency number, or go to the nearest emergency department.";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffLogin {
    pub id: Uuid,
    pub email: String,
    pub full_name: String,
    pub password_hash: String,
    pub active: bool,
}

/// A staff member as the staff-management page lists them, with their role in one clinic.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct StaffMember {
    pub id: Uuid,
    pub email: String,
    pub full_name: String,
    pub active: bool,
    pub role: String,
}

impl StaffMember {
    pub fn role(&self) -> Option<Role> {
        self.role.parse().ok()
    }
}

/// An authenticated staff member acting within one clinic, from a session or an API token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Principal {
    pub staff_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub clinic_id: Uuid,
    pub clinic_name: String,
    pub role: String,
    /// Set for browser sessions: the synchroniser token forms must echo.
    pub csrf_token: Option<String>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
}

impl Principal {
    pub fn role(&self) -> Option<Role> {
        self.role.parse().ok()
    }

    pub fn actor(&self, kind: &'static str, address: Option<String>) -> Actor {
        Actor {
            staff_id: Some(self.staff_id),
            kind,
            clinic_id: Some(self.clinic_id),
            address,
        }
    }
}

/// Session lifetime rules.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ApiTokenInfo {
    pub id: Uuid,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const PRINCIPAL_COLS: &str = "s.id AS staff_id, s.email, s.full_name, c.id AS clinic_id,
    c.name AS clinic_name, m.role";

impl Store {
    /// The installation's first clinic, created on first use so a fresh install works at once.
    pub async fn default_clinic(&self) -> Result<Clinic> {
        let existing: Option<Clinic> = on_db!(&self.db, |p| {
            sqlx::query_as(
            "SELECT id, name, slug, crisis_resources FROM clinic ORDER BY created_at, id LIMIT 1"
        )
        .fetch_optional(p)
        .await?
        });
        match existing {
            Some(c) => Ok(c),
            None => self.create_clinic("Main clinic", "main").await,
        }
    }

    pub async fn create_clinic(&self, name: &str, slug: &str) -> Result<Clinic> {
        let c = Clinic {
            id: new_id(),
            name: name.to_owned(),
            slug: slug.to_owned(),
            crisis_resources: DEFAULT_CRISIS_RESOURCES.to_owned(),
        };
        let r = on_db!(&self.db, |p| sqlx::query(
            "INSERT INTO clinic (id, name, slug, crisis_resources, created_at)
             VALUES ($1,$2,$3,$4,$5)"
        )
        .bind(c.id)
        .bind(&c.name)
        .bind(&c.slug)
        .bind(&c.crisis_resources)
        .bind(now())
        .execute(p)
        .await
        .map(|r| r.rows_affected()));
        match r {
            Ok(_) => Ok(c),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                "A clinic with the short name \"{slug}\" already exists."
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn clinic(&self, id: Uuid) -> Result<Clinic> {
        on_db!(&self.db, |p| sqlx::query_as(
            "SELECT id, name, slug, crisis_resources FROM clinic WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await?)
        .ok_or(StoreError::NotFound)
    }

    /// Renames a clinic and sets the crisis resources its patients and visitors are shown.
    pub async fn update_clinic(
        &self,
        actor: &Actor,
        id: Uuid,
        name: &str,
        crisis_resources: &str,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE clinic SET name = $1, crisis_resources = $2 WHERE id = $3"
        )
        .bind(name)
        .bind(crisis_resources)
        .bind(id)
        .execute(&mut *c)
        .await?
        .rows_affected());
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::ClinicUpdated,
            Subject::record("clinic", id),
        )
        .await?;
        tx.commit().await
    }

    pub async fn clinic_by_slug(&self, slug: &str) -> Result<Clinic> {
        on_db!(&self.db, |p| sqlx::query_as(
            "SELECT id, name, slug, crisis_resources FROM clinic WHERE slug = $1"
        )
        .bind(slug)
        .fetch_optional(p)
        .await?)
        .ok_or(StoreError::NotFound)
    }

    /// Creates a staff account with a role in one clinic. An email that already has an account
    /// is a conflict; to give an existing person a role in another clinic, use
    /// [`Store::grant_membership`].
    pub async fn create_staff(
        &self,
        actor: &Actor,
        email: &str,
        full_name: &str,
        password_hash: &str,
        clinic_id: Uuid,
        role: Role,
    ) -> Result<Uuid> {
        let mut tx = self.begin().await?;
        let id = new_id();
        let t = now();
        let r = on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO staff_user (id, email, full_name, password_hash, active, created_at,
                updated_at) VALUES ($1,$2,$3,$4,TRUE,$5,$5)"
        )
        .bind(id)
        .bind(email)
        .bind(full_name)
        .bind(password_hash)
        .bind(t)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()));
        match r {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(
                    "An account with this email already exists.".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO staff_membership (staff_id, clinic_id, role) VALUES ($1,$2,$3)"
        )
        .bind(id)
        .bind(clinic_id)
        .bind(role.as_str())
        .execute(&mut *c)
        .await?
        .rows_affected());
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::StaffCreated,
            Subject::record("staff", id).with_detail(format!("role {role}")),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn staff_login(&self, email: &str) -> Result<Option<StaffLogin>> {
        Ok(on_db!(&self.db, |p| sqlx::query_as(
            "SELECT id, email, full_name, password_hash, active FROM staff_user WHERE email = $1"
        )
        .bind(email)
        .fetch_optional(p)
        .await?))
    }

    /// Staff of one clinic, active first, by name.
    pub async fn staff_of_clinic(&self, clinic_id: Uuid) -> Result<Vec<StaffMember>> {
        Ok(on_db!(&self.db, |p| sqlx::query_as(
            "SELECT s.id, s.email, s.full_name, s.active, m.role
             FROM staff_user s JOIN staff_membership m ON m.staff_id = s.id
             WHERE m.clinic_id = $1 ORDER BY s.active DESC, s.full_name, s.id"
        )
        .bind(clinic_id)
        .fetch_all(p)
        .await?))
    }

    pub async fn staff_member(&self, clinic_id: Uuid, staff_id: Uuid) -> Result<StaffMember> {
        on_db!(&self.db, |p| sqlx::query_as(
            "SELECT s.id, s.email, s.full_name, s.active, m.role
             FROM staff_user s JOIN staff_membership m ON m.staff_id = s.id
             WHERE m.clinic_id = $1 AND s.id = $2"
        )
        .bind(clinic_id)
        .bind(staff_id)
        .fetch_optional(p)
        .await?)
        .ok_or(StoreError::NotFound)
    }

    /// Changes a staff member's role in a clinic and/or (de)activates the account. Deactivating
    /// ends all of the person's sessions and revokes their API tokens; nothing is deleted.
    pub async fn update_staff(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        staff_id: Uuid,
        role: Role,
        active: bool,
    ) -> Result<()> {
        let current = self.staff_member(clinic_id, staff_id).await?;
        if Some(staff_id) == actor.staff_id && (!active || role != Role::Admin) {
            return Err(StoreError::Conflict(
                "You cannot remove your own administrator access.".into(),
            ));
        }
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE staff_membership SET role = $1 WHERE staff_id = $2 AND clinic_id = $3"
        )
        .bind(role.as_str())
        .bind(staff_id)
        .bind(clinic_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE staff_user SET active = $1, updated_at = $2 WHERE id = $3"
        )
        .bind(active)
        .bind(now())
        .bind(staff_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
        if !active {
            on_tx!(&mut tx, |c| sqlx::query(
                "DELETE FROM login_session WHERE staff_id = $1"
            )
            .bind(staff_id)
            .execute(&mut *c)
            .await?
            .rows_affected());
            on_tx!(&mut tx, |c| sqlx::query(
                "UPDATE api_token SET revoked_at = $1 WHERE staff_id = $2 AND revoked_at IS NULL"
            )
            .bind(now())
            .bind(staff_id)
            .execute(&mut *c)
            .await?
            .rows_affected());
        }
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::StaffUpdated,
            Subject::record("staff", staff_id).with_detail(format!(
                "role {} -> {role}; active {} -> {active}",
                current.role, current.active
            )),
        )
        .await?;
        tx.commit().await
    }

    /// The clinics a staff member belongs to, with their role in each.
    pub async fn memberships(&self, staff_id: Uuid) -> Result<Vec<(Clinic, String)>> {
        let rows: Vec<(Uuid, String, String, String, String)> =
            on_db!(&self.db, |p| sqlx::query_as(
                "SELECT c.id, c.name, c.slug, c.crisis_resources, m.role FROM staff_membership m
             JOIN clinic c ON c.id = m.clinic_id WHERE m.staff_id = $1 ORDER BY c.name"
            )
            .bind(staff_id)
            .fetch_all(p)
            .await?);
        Ok(rows
            .into_iter()
            .map(|(id, name, slug, crisis_resources, role)| {
                (
                    Clinic {
                        id,
                        name,
                        slug,
                        crisis_resources,
                    },
                    role,
                )
            })
            .collect())
    }

    // ---- login throttling ----

    pub async fn record_login_attempt(
        &self,
        email: &str,
        address: &str,
        succeeded: bool,
    ) -> Result<()> {
        on_db!(&self.db, |p| sqlx::query(
            "INSERT INTO login_attempt (id, at, email, address, succeeded) VALUES ($1,$2,$3,$4,$5)"
        )
        .bind(new_id())
        .bind(now())
        .bind(email)
        .bind(address)
        .bind(succeeded)
        .execute(p)
        .await?
        .rows_affected());
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
        let by_email: i64 = on_db!(&self.db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_attempt WHERE email = $1 AND at >= $2 AND NOT succeeded
               AND at > COALESCE((SELECT MAX(at) FROM login_attempt
                                  WHERE email = $1 AND succeeded), $2)"
        )
        .bind(email)
        .bind(since)
        .fetch_one(p)
        .await?);
        let by_address: i64 = on_db!(&self.db, |p| {
            sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_attempt WHERE address = $1 AND at >= $2 AND NOT succeeded"
        )
        .bind(address)
        .bind(since)
        .fetch_one(p)
        .await?
        });
        Ok((by_email, by_address))
    }

    // ---- sessions ----

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
        let mut tx = self.begin().await?;
        if let Some(prev) = previous_token {
            on_tx!(&mut tx, |c| sqlx::query(
                "DELETE FROM login_session WHERE token_hash = $1"
            )
            .bind(token_hash(prev))
            .execute(&mut *c)
            .await?
            .rows_affected());
        }
        // Expired sessions of this person are swept here, so the table does not grow forever.
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "DELETE FROM login_session WHERE staff_id = $1 AND (expires_at < $2 OR last_seen_at < $3)"
        )
        .bind(staff_id)
        .bind(t)
        .bind(t - policy.idle)
        .execute(&mut *c)
        .await?
        .rows_affected()
        });
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO login_session (token_hash, staff_id, clinic_id, csrf_token, created_at,
                last_seen_at, expires_at, address) VALUES ($1,$2,$3,$4,$5,$5,$6,$7)"
        )
        .bind(token_hash(&token))
        .bind(staff_id)
        .bind(clinic_id)
        .bind(random_hex(32))
        .bind(t)
        .bind(t + policy.absolute)
        .bind(address)
        .execute(&mut *c)
        .await?
        .rows_affected());
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
             WHERE l.token_hash = $1 AND l.expires_at > $2 AND l.last_seen_at > $3 AND s.active"
        );
        let p: Option<Principal> = on_db!(&self.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .bind(&hash)
        .bind(t)
        .bind(t - policy.idle)
        .fetch_optional(p)
        .await?);
        // Touch at most once a minute: a page view should not always be a write.
        if let Some(pr) = &p
            && pr
                .last_seen_at
                .is_some_and(|s| t - s > Duration::seconds(60))
        {
            on_db!(&self.db, |p| sqlx::query(
                "UPDATE login_session SET last_seen_at = $1 WHERE token_hash = $2"
            )
            .bind(t)
            .bind(&hash)
            .execute(p)
            .await?
            .rows_affected());
        }
        Ok(p)
    }

    pub async fn end_session(&self, token: &str) -> Result<()> {
        on_db!(&self.db, |p| sqlx::query(
            "DELETE FROM login_session WHERE token_hash = $1"
        )
        .bind(token_hash(token))
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }

    /// "Log out everywhere": ends every session of a staff member.
    pub async fn end_all_sessions(&self, staff_id: Uuid) -> Result<u64> {
        Ok(on_db!(&self.db, |p| sqlx::query(
            "DELETE FROM login_session WHERE staff_id = $1"
        )
        .bind(staff_id)
        .execute(p)
        .await?
        .rows_affected()))
    }

    // ---- API tokens ----

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
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO api_token (id, staff_id, clinic_id, token_hash, label, created_at)
             VALUES ($1,$2,$3,$4,$5,$6)"
        )
        .bind(id)
        .bind(staff_id)
        .bind(clinic_id)
        .bind(token_hash(&raw))
        .bind(label)
        .bind(now())
        .execute(&mut *c)
        .await?
        .rows_affected());
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::TokenCreated,
            Subject::record("api_token", id).with_detail(format!("for staff {staff_id}")),
        )
        .await?;
        tx.commit().await?;
        Ok((id, raw))
    }

    pub async fn revoke_api_token(&self, actor: &Actor, staff_id: Uuid, id: Uuid) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE api_token SET revoked_at = $1 WHERE id = $2 AND staff_id = $3
               AND revoked_at IS NULL"
        )
        .bind(now())
        .bind(id)
        .bind(staff_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::TokenRevoked,
            Subject::record("api_token", id),
        )
        .await?;
        tx.commit().await
    }

    pub async fn api_tokens_of(&self, staff_id: Uuid) -> Result<Vec<ApiTokenInfo>> {
        Ok(on_db!(&self.db, |p| sqlx::query_as(
            "SELECT id, label, created_at, revoked_at FROM api_token WHERE staff_id = $1
             ORDER BY created_at DESC"
        )
        .bind(staff_id)
        .fetch_all(p)
        .await?))
    }

    /// The staff member behind a bearer token, if it is live and the account active.
    pub async fn token_principal(&self, raw: &str) -> Result<Option<Principal>> {
        let sql = format!(
            "SELECT {PRINCIPAL_COLS}, NULL AS csrf_token, NULL AS last_seen_at,
                t.created_at AS created_at
             FROM api_token t JOIN staff_user s ON s.id = t.staff_id
             JOIN clinic c ON c.id = t.clinic_id
             JOIN staff_membership m ON m.staff_id = s.id AND m.clinic_id = c.id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND s.active"
        );
        Ok(on_db!(&self.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .bind(token_hash(raw))
        .fetch_optional(p)
        .await?))
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    /// Replaces a staff member's password hash (CLI and demo use; ends their sessions).
    pub async fn set_password(&self, staff_id: Uuid, password_hash: &str) -> Result<()> {
        on_db!(&self.db, |p| sqlx::query(
            "UPDATE staff_user SET password_hash = $1, updated_at = $2 WHERE id = $3"
        )
        .bind(password_hash)
        .bind(now())
        .bind(staff_id)
        .execute(p)
        .await?
        .rows_affected());
        self.end_all_sessions(staff_id).await?;
        Ok(())
    }

    pub async fn count_staff(&self) -> Result<i64> {
        Ok(on_db!(&self.db, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM staff_user"
        )
        .fetch_one(p)
        .await?))
    }

    /// Gives a staff member a role in a clinic (or changes the role they have there).
    pub async fn grant_membership(
        &self,
        actor: &Actor,
        staff_id: Uuid,
        clinic_id: Uuid,
        role: Role,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO staff_membership (staff_id, clinic_id, role) VALUES ($1,$2,$3)
             ON CONFLICT (staff_id, clinic_id) DO UPDATE SET role = excluded.role"
        )
        .bind(staff_id)
        .bind(clinic_id)
        .bind(role.as_str())
        .execute(&mut *c)
        .await?
        .rows_affected());
        append(
            &mut tx,
            self.audit_key(),
            actor,
            AuditAction::StaffUpdated,
            Subject::record("staff", staff_id)
                .with_detail(format!("role {role} in clinic {clinic_id}")),
        )
        .await?;
        tx.commit().await
    }

    /// Moves a session to another clinic the staff member belongs to.
    pub async fn switch_session_clinic(
        &self,
        token: &str,
        staff_id: Uuid,
        clinic_id: Uuid,
    ) -> Result<()> {
        let member = self
            .memberships(staff_id)
            .await?
            .into_iter()
            .any(|(c, _)| c.id == clinic_id);
        if !member {
            return Err(StoreError::NotFound);
        }
        on_db!(&self.db, |p| sqlx::query(
            "UPDATE login_session SET clinic_id = $1 WHERE token_hash = $2 AND staff_id = $3"
        )
        .bind(clinic_id)
        .bind(token_hash(token))
        .bind(staff_id)
        .execute(p)
        .await?
        .rows_affected());
        Ok(())
    }
}
