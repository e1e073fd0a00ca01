//! The audit log: who did what to which record, when and from where, newest first, filtered by
//! patient or staff member. Reading it is itself audited.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::AppResult;
use crate::http::extract::{opt_id, split_page};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::Role;
use kap_domain::audit::AuditAction;
use kap_domain::staff::StaffMember;
use kap_store::audit::{AuditFilter, AuditScope, AuditView};
use uuid::Uuid;

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    shell: Shell,
    rows: Vec<AuditRow>,
    staff: Vec<StaffMember>,
    patient: String,
    user: String,
    older: Option<i64>,
}

struct AuditRow {
    when: String,
    who: String,
    action: String,
    record: String,
    patient: Option<Uuid>,
    address: String,
    detail: String,
}

/// One row as the viewer may see it: details of rows about answers or alerts only for roles
/// that may read answers.
fn audit_row(v: AuditView, viewer: Role) -> AuditRow {
    let detail = match AuditAction::from_code(&v.action) {
        Some(a) => a
            .detail_for(viewer, &v.detail)
            .unwrap_or("(not shown to your role)"),
        None => &v.detail,
    }
    .to_owned();
    let who = match (&v.actor_name, &v.actor_email) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        _ => match v.actor_kind.as_str() {
            "visitor" => "Visitor (public form)".into(),
            "system" => "System".into(),
            k => k.to_owned(),
        },
    };
    let who = if v.actor_kind == "api" {
        format!("{who} (API)")
    } else {
        who
    };
    AuditRow {
        when: v.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        who,
        action: v.action,
        record: match (v.record_kind, v.record_id) {
            (Some(k), Some(id)) => format!("{k} {id}"),
            (Some(k), None) => k,
            _ => String::new(),
        },
        patient: v.patient_id,
        address: v.address.unwrap_or_default(),
        detail,
    }
}

#[derive(serde::Deserialize)]
pub(super) struct AuditQuery {
    patient: Option<String>,
    user: Option<String>,
    before: Option<String>,
}

pub(super) async fn audit(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    const PAGE: i64 = 100;
    let filter = AuditFilter {
        patient_id: opt_id(&q.patient),
        actor_id: opt_id(&q.user),
        before: q.before.as_deref().and_then(|b| b.trim().parse().ok()),
        limit: PAGE + 1,
    };
    let rows = st
        .store
        .audit_rows(
            &staff.actor(),
            AuditScope::Clinic(staff.clinic_id()),
            &filter,
        )
        .await?;
    let (rows, older) = split_page(rows, PAGE, |x| x.seq);
    let staff_list = st.store.staff_of_clinic(staff.clinic_id()).await?;
    Ok(render(
        &AuditPage {
            shell: Shell::staff(&staff, "Audit log", "audit"),
            rows: rows
                .into_iter()
                .map(|r| audit_row(r, staff.role()))
                .collect(),
            staff: staff_list,
            patient: filter.patient_id.map(|p| p.to_string()).unwrap_or_default(),
            user: filter.actor_id.map(|p| p.to_string()).unwrap_or_default(),
            older,
        },
        StatusCode::OK,
    ))
}
