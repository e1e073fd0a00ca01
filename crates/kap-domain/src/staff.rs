//! Clinics, staff members and their role in each clinic, and the rules for changing them.

use crate::permission::Role;
use uuid::Uuid;

/// A clinic (site) of the installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clinic {
    pub id: Uuid,
    pub name: String,
    /// Short name used in URLs and on the command line.
    pub slug: String,
    /// Shown to patients and visitors wherever urgent help may be needed.
    pub crisis_resources: String,
    /// The clinic's phone number, on every patient page and message.
    pub phone: Option<crate::person::Phone>,
    /// The clinic's time zone; none: the installation's.
    pub time_zone: Option<crate::time::TimeZone>,
}

/// What a new clinic tells people about urgent help until an administrator words it for their
/// region (clinical.md §11: crisis resources must be clinic-configurable).
pub const DEFAULT_CRISIS_RESOURCES: &str = "If you are in danger or thinking about suicide, do not wait for a reply: call or text 988 (Suicide & Crisis Lifeline, US), call your local emergency number, or go to the nearest emergency department.";

/// A staff member with their role in one clinic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub id: Uuid,
    pub email: String,
    pub full_name: String,
    pub active: bool,
    pub role: Role,
}

/// An API token as its owner's administrator sees it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenInfo {
    pub id: Uuid,
    pub label: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Why a change to a staff member's access is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StaffRuleBroken {
    /// An administrator may not take away their own administrator access: a clinic must not
    /// lose its last administrator by a slip of the hand.
    #[error("you cannot remove your own administrator access")]
    OwnAdminAccess,
}

/// Checks a change of `target`'s role and active state, made by `actor`.
pub fn check_staff_change(
    actor: Option<Uuid>,
    target: Uuid,
    role: Role,
    active: bool,
) -> Result<(), StaffRuleBroken> {
    if actor == Some(target) && (!active || role != Role::Admin) {
        return Err(StaffRuleBroken::OwnAdminAccess);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admin_cannot_demote_or_deactivate_themselves() {
        let me = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        assert_eq!(
            check_staff_change(Some(me), me, Role::Nurse, true),
            Err(StaffRuleBroken::OwnAdminAccess)
        );
        assert_eq!(
            check_staff_change(Some(me), me, Role::Admin, false),
            Err(StaffRuleBroken::OwnAdminAccess)
        );
        assert_eq!(check_staff_change(Some(me), me, Role::Admin, true), Ok(()));
        assert_eq!(
            check_staff_change(Some(me), other, Role::Nurse, false),
            Ok(())
        );
        assert_eq!(check_staff_change(None, me, Role::Nurse, false), Ok(()));
    }
}
