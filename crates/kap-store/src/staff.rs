//! Staff accounts, with one role per clinic they belong to. Passwords arrive here already
//! hashed; accounts are deactivated, never deleted.

use crate::clinic::{CLINIC_COLS, ClinicRow};
use crate::db::{exec, fetch_all, fetch_opt, on, scalar};
use crate::error::{Conflict, Result, StoreError, code, is_unique_violation};
use crate::{Store, new_id, now};
use kap_domain::Role;
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::staff::{Clinic, StaffMember, check_staff_change};
use uuid::Uuid;

/// What logging in needs to know about an account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffLogin {
    pub id: Uuid,
    pub email: String,
    pub full_name: String,
    pub password_hash: String,
    pub active: bool,
}

/// A new staff account with its first role.
#[derive(Debug, Clone, Copy)]
pub struct NewStaff<'a> {
    pub email: &'a str,
    pub full_name: &'a str,
    pub password_hash: &'a str,
    pub clinic_id: Uuid,
    pub role: Role,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    id: Uuid,
    email: String,
    full_name: String,
    active: bool,
    role: String,
}

impl TryFrom<MemberRow> for StaffMember {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<StaffMember> {
        Ok(StaffMember {
            role: code("staff membership", r.id, "role", &r.role)?,
            id: r.id,
            email: r.email,
            full_name: r.full_name,
            active: r.active,
        })
    }
}

/// A member is active in a clinic when both the account and the membership are.
const MEMBER_SQL: &str =
    "SELECT s.id, s.email, s.full_name, s.active AND m.active AS active, m.role
    FROM staff_user s JOIN staff_membership m ON m.staff_id = s.id WHERE m.clinic_id = $1";

impl Store {
    /// Creates a staff account with a role in one clinic. An email that already has an account
    /// is a conflict; to give an existing person a role in another clinic, use
    /// [`Store::grant_membership`].
    pub async fn create_staff(&self, actor: &Actor, n: NewStaff<'_>) -> Result<Uuid> {
        let mut a = self.audited_in(actor, n.clinic_id).await?;
        let id = new_id();
        let t = now();
        let inserted: Result<u64, sqlx::Error> = on!(tx(a.tx()), c =>
            sqlx::query("INSERT INTO staff_user (id, email, full_name, password_hash, active,
                            created_at, updated_at) VALUES ($1,$2,$3,$4,TRUE,$5,$5)")
                .bind(id).bind(n.email).bind(n.full_name).bind(n.password_hash).bind(t)
                .execute(c).await.map(|r| r.rows_affected()));
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(Conflict::EmailTaken.into()),
            Err(e) => return Err(e.into()),
        }
        exec!(
            tx(a.tx()),
            "INSERT INTO staff_membership (staff_id, clinic_id, role) VALUES ($1,$2,$3)",
            id,
            n.clinic_id,
            n.role.as_str()
        );
        a.record(
            AuditAction::StaffCreated,
            Subject::record(RecordKind::Staff, id).with_detail(format!("role {}", n.role)),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    pub async fn staff_login(&self, email: &str) -> Result<Option<StaffLogin>> {
        Ok(fetch_opt!(
            db(&self.db),
            StaffLogin,
            "SELECT id, email, full_name, password_hash, active FROM staff_user WHERE email = $1",
            email
        ))
    }

    /// Staff of one clinic, active first, by name.
    pub async fn staff_of_clinic(&self, clinic_id: Uuid) -> Result<Vec<StaffMember>> {
        let sql = format!("{MEMBER_SQL} ORDER BY active DESC, s.full_name, s.id");
        fetch_all!(db(&self.db), MemberRow, sqlx::AssertSqlSafe(sql), clinic_id)
            .into_iter()
            .map(StaffMember::try_from)
            .collect()
    }

    pub async fn staff_member(&self, clinic_id: Uuid, staff_id: Uuid) -> Result<StaffMember> {
        let sql = format!("{MEMBER_SQL} AND s.id = $2");
        fetch_opt!(
            db(&self.db),
            MemberRow,
            sqlx::AssertSqlSafe(sql),
            clinic_id,
            staff_id
        )
        .ok_or(StoreError::NotFound)?
        .try_into()
    }

    /// Changes a staff member's role in a clinic and/or (de)activates their membership there.
    /// Deactivating ends their sessions in this clinic and revokes their API tokens for it;
    /// their other clinics are untouched, and nothing is deleted.
    pub async fn update_staff(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        staff_id: Uuid,
        role: Role,
        active: bool,
    ) -> Result<()> {
        let current = self.staff_member(clinic_id, staff_id).await?;
        check_staff_change(actor.staff_id, staff_id, role, active).map_err(Conflict::from)?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        let t = now();
        exec!(
            tx(a.tx()),
            "UPDATE staff_membership SET role = $1, active = $2
             WHERE staff_id = $3 AND clinic_id = $4",
            role.as_str(),
            active,
            staff_id,
            clinic_id
        );
        if !active {
            exec!(
                tx(a.tx()),
                "DELETE FROM login_session WHERE staff_id = $1 AND clinic_id = $2",
                staff_id,
                clinic_id
            );
            exec!(
                tx(a.tx()),
                "UPDATE api_token SET revoked_at = $1
                 WHERE staff_id = $2 AND clinic_id = $3 AND revoked_at IS NULL",
                t,
                staff_id,
                clinic_id
            );
        }
        a.record(
            AuditAction::StaffUpdated,
            Subject::record(RecordKind::Staff, staff_id).with_detail(format!(
                "role {} -> {role}; active {} -> {active}",
                current.role, current.active
            )),
        )
        .await?;
        a.commit().await
    }

    /// The clinics a staff member is active in, with their role in each.
    pub async fn memberships(&self, staff_id: Uuid) -> Result<Vec<(Clinic, Role)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            clinic: ClinicRow,
            role: String,
        }
        let sql = format!(
            "SELECT {CLINIC_COLS}, m.role FROM staff_membership m
             JOIN clinic c ON c.id = m.clinic_id WHERE m.staff_id = $1 AND m.active
             ORDER BY c.name"
        );
        fetch_all!(db(&self.db), Row, sqlx::AssertSqlSafe(sql), staff_id)
            .into_iter()
            .map(|r| {
                Ok((
                    r.clinic.try_into()?,
                    code("staff membership", staff_id, "role", &r.role)?,
                ))
            })
            .collect()
    }

    pub async fn count_staff(&self) -> Result<i64> {
        Ok(scalar!(
            db(&self.db),
            i64,
            "SELECT COUNT(*) FROM staff_user"
        ))
    }

    /// Ends a person's access to the whole installation (the command line's system scope):
    /// the account is deactivated, every session ended and every token revoked.
    pub async fn deactivate_account(&self, actor: &Actor, staff_id: Uuid) -> Result<()> {
        let mut a = self.audited(actor).await?;
        let t = now();
        let n = exec!(
            tx(a.tx()),
            "UPDATE staff_user SET active = FALSE, updated_at = $1 WHERE id = $2",
            t,
            staff_id
        );
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        exec!(
            tx(a.tx()),
            "DELETE FROM login_session WHERE staff_id = $1",
            staff_id
        );
        exec!(
            tx(a.tx()),
            "UPDATE api_token SET revoked_at = $1 WHERE staff_id = $2 AND revoked_at IS NULL",
            t,
            staff_id
        );
        a.record(
            AuditAction::StaffUpdated,
            Subject::record(RecordKind::Staff, staff_id).with_detail("account deactivated"),
        )
        .await?;
        a.commit().await
    }

    /// Gives a staff member a role in a clinic (or changes the role they have there).
    pub async fn grant_membership(
        &self,
        actor: &Actor,
        staff_id: Uuid,
        clinic_id: Uuid,
        role: Role,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        exec!(
            tx(a.tx()),
            "INSERT INTO staff_membership (staff_id, clinic_id, role) VALUES ($1,$2,$3)
             ON CONFLICT (staff_id, clinic_id) DO UPDATE SET role = excluded.role,
                active = TRUE",
            staff_id,
            clinic_id,
            role.as_str()
        );
        a.record(
            AuditAction::StaffUpdated,
            Subject::record(RecordKind::Staff, staff_id)
                .with_detail(format!("role {role} in clinic {clinic_id}")),
        )
        .await?;
        a.commit().await
    }
}
