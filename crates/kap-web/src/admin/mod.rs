//! Administration of one clinic: staff accounts and their API tokens, clinic settings, and the
//! audit log.

mod audit;
mod clinic;
mod staff;

use crate::http::Access::Needs;
use crate::http::Routes;
use kap_domain::permission::Action::{ManageApiTokens, ManageClinic, ManageStaff, ReadAudit};

pub fn router() -> Routes {
    Routes::new()
        .get("/admin/staff", Needs(ManageStaff), staff::staff_list)
        .post("/admin/staff", Needs(ManageStaff), staff::staff_create)
        .get(
            "/admin/staff/{staff}",
            Needs(ManageStaff),
            staff::staff_show,
        )
        .post(
            "/admin/staff/{staff}",
            Needs(ManageStaff),
            staff::staff_update,
        )
        .post(
            "/admin/staff/{staff}/password-reset",
            Needs(ManageStaff),
            staff::password_reset,
        )
        .post(
            "/admin/staff/{staff}/tokens",
            Needs(ManageApiTokens),
            staff::token_create,
        )
        .post(
            "/admin/staff/{staff}/tokens/{token}/revoke",
            Needs(ManageApiTokens),
            staff::token_revoke,
        )
        .get("/admin/clinic", Needs(ManageClinic), clinic::show)
        .post("/admin/clinic", Needs(ManageClinic), clinic::update)
        .post(
            "/admin/two-factor",
            Needs(ManageClinic),
            clinic::two_factor_update,
        )
        .post(
            "/admin/protocol",
            Needs(ManageClinic),
            clinic::settings_update,
        )
        .get("/admin/audit", Needs(ReadAudit), audit::audit)
}
