//! Administration: staff accounts (create, change role, deactivate — never delete), their API
//! tokens, clinic settings, and the audit log.

use crate::AppState;
use crate::auth::{Staff, hash_password_blocking};
use crate::csrf::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Empty, opt_id, parse_id, see_other};
use crate::view::{Shell, render, when};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::password::check_strength;
use kap_domain::permission::{Action, Role};
use kap_domain::person::{Email, Message, PersonName, ShortText};
use kap_store::StoreError;
use kap_store::audit::{AuditFilter, AuditView};
use kap_store::staff::{ApiTokenInfo, StaffMember};
use uuid::Uuid;

fn roles() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect()
}

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    shell: Shell,
    staff: Vec<StaffMember>,
    form: NewStaffForm,
    errors: FieldErrors,
    roles: Vec<(&'static str, &'static str)>,
}

#[derive(serde::Deserialize, Default, Clone)]
pub struct NewStaffForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

async fn staff_page(
    st: &AppState,
    staff: &Staff,
    notice: Option<&str>,
    form: NewStaffForm,
    errors: FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let list = st.store.staff_of_clinic(staff.clinic_id()).await?;
    Ok(render(
        &StaffPage {
            shell: Shell::staff(staff, "Staff", "staff").with_notice(notice),
            staff: list,
            form: NewStaffForm {
                password: String::new(),
                ..form
            },
            errors,
            roles: roles(),
        },
        status,
    ))
}

#[derive(serde::Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn staff_list(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    staff.require(Action::ManageStaff)?;
    staff_page(
        &st,
        &staff,
        q.notice.as_deref(),
        NewStaffForm {
            role: "nurse".into(),
            ..Default::default()
        },
        FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn staff_create(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<NewStaffForm>,
) -> AppResult<Response> {
    staff.require(Action::ManageStaff)?;
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(&form.email));
    let name = errors.check("full_name", PersonName::parse(&form.full_name));
    let role = errors.check("role", form.role.parse::<Role>());
    if let Some(e) = &email {
        errors.check("password", check_strength(&form.password, e.as_str()));
    }
    let (Some(email), Some(name), Some(role), true) = (email, name, role, errors.is_empty()) else {
        return staff_page(
            &st,
            &staff,
            None,
            form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let hash = hash_password_blocking(form.password.clone()).await?;
    match st
        .store
        .create_staff(
            &staff.actor(),
            email.as_str(),
            name.as_str(),
            &hash,
            staff.clinic_id(),
            role,
        )
        .await
    {
        Ok(_) => Ok(see_other("/admin/staff?notice=staff-created")),
        Err(StoreError::Conflict(m)) => {
            staff_page(
                &st,
                &staff,
                None,
                form,
                FieldErrors::single("email", m),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff_member.html")]
struct MemberPage {
    shell: Shell,
    member: StaffMember,
    roles: Vec<(&'static str, &'static str)>,
    tokens: Vec<ApiTokenInfo>,
    new_token: Option<String>,
    problem: Option<String>,
    errors: FieldErrors,
    is_self: bool,
}

impl MemberPage {
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        when(t)
    }
}

/// What a member page shows beyond the account itself.
#[derive(Default)]
struct MemberExtras<'a> {
    notice: Option<&'a str>,
    new_token: Option<String>,
    problem: Option<String>,
    errors: FieldErrors,
}

async fn member_page(
    st: &AppState,
    staff: &Staff,
    id: Uuid,
    extras: MemberExtras<'_>,
    status: StatusCode,
) -> AppResult<Response> {
    let MemberExtras {
        notice,
        new_token,
        problem,
        errors,
    } = extras;
    let member = st.store.staff_member(staff.clinic_id(), id).await?;
    let tokens = st.store.api_tokens_of(id).await?;
    Ok(render(
        &MemberPage {
            shell: Shell::staff(staff, member.full_name.clone(), "staff").with_notice(notice),
            is_self: id == staff.principal.staff_id,
            member,
            roles: roles(),
            tokens,
            new_token,
            problem,
            errors,
        },
        status,
    ))
}

pub async fn staff_show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    staff.require(Action::ManageStaff)?;
    let id = parse_id(&id)?;
    member_page(
        &st,
        &staff,
        id,
        MemberExtras {
            notice: q.notice.as_deref(),
            ..Default::default()
        },
        StatusCode::OK,
    )
    .await
}

#[derive(serde::Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    active: Option<String>,
}

pub async fn staff_update(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<MemberForm>,
) -> AppResult<Response> {
    staff.require(Action::ManageStaff)?;
    let id = parse_id(&id)?;
    let Ok(role) = form.role.parse::<Role>() else {
        let e = FieldErrors::single("role", "Please choose a role.");
        return member_page(
            &st,
            &staff,
            id,
            MemberExtras {
                errors: e,
                ..Default::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match st
        .store
        .update_staff(
            &staff.actor(),
            staff.clinic_id(),
            id,
            role,
            form.active.is_some(),
        )
        .await
    {
        Ok(()) => Ok(see_other(&format!("/admin/staff/{id}?notice=saved"))),
        Err(StoreError::Conflict(m)) => {
            member_page(
                &st,
                &staff,
                id,
                MemberExtras {
                    problem: Some(m),
                    ..Default::default()
                },
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    label: String,
}

pub async fn token_create(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> AppResult<Response> {
    staff.require(Action::ManageApiTokens)?;
    let id = parse_id(&id)?;
    let member = st.store.staff_member(staff.clinic_id(), id).await?;
    let label = match ShortText::parse(&form.label) {
        Ok(l) => l,
        Err(e) => {
            let e = FieldErrors::single("label", e.to_string());
            return member_page(
                &st,
                &staff,
                id,
                MemberExtras {
                    errors: e,
                    ..Default::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    if !member.active {
        return Err(AppError::Conflict(
            "This account is deactivated; it cannot get API tokens.".into(),
        ));
    }
    let (_, raw) = st
        .store
        .create_api_token(&staff.actor(), id, staff.clinic_id(), label.as_str())
        .await?;
    // The token is shown once, on this response, and never again.
    member_page(
        &st,
        &staff,
        id,
        MemberExtras {
            new_token: Some(raw),
            ..Default::default()
        },
        StatusCode::OK,
    )
    .await
}

pub async fn token_revoke(
    State(st): State<AppState>,
    staff: Staff,
    Path((id, token_id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    staff.require(Action::ManageApiTokens)?;
    let id = parse_id(&id)?;
    let token_id = parse_id(&token_id)?;
    st.store.staff_member(staff.clinic_id(), id).await?;
    st.store
        .revoke_api_token(&staff.actor(), id, token_id)
        .await?;
    Ok(see_other(&format!(
        "/admin/staff/{id}?notice=token-revoked"
    )))
}

#[derive(Template)]
#[template(path = "audit.html")]
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

fn audit_row(v: AuditView) -> AuditRow {
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
        detail: v.detail,
    }
}

#[derive(serde::Deserialize)]
pub struct AuditQuery {
    patient: Option<String>,
    user: Option<String>,
    before: Option<String>,
}

pub async fn audit(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    staff.require(Action::ReadAudit)?;
    const PAGE: i64 = 100;
    let filter = AuditFilter {
        patient_id: opt_id(&q.patient),
        actor_id: opt_id(&q.user),
        before: q.before.as_deref().and_then(|b| b.trim().parse().ok()),
        limit: PAGE + 1,
    };
    let rows = st
        .store
        .audit_rows(&staff.actor(), staff.clinic_id(), &filter)
        .await?;
    let (rows, older) = crate::pages::split_page(rows, PAGE, |x| x.seq);
    let staff_list = st.store.staff_of_clinic(staff.clinic_id()).await?;
    Ok(render(
        &AuditPage {
            shell: Shell::staff(&staff, "Audit log", "audit"),
            rows: rows.into_iter().map(audit_row).collect(),
            staff: staff_list,
            patient: filter.patient_id.map(|p| p.to_string()).unwrap_or_default(),
            user: filter.actor_id.map(|p| p.to_string()).unwrap_or_default(),
            older,
        },
        StatusCode::OK,
    ))
}

#[derive(Template)]
#[template(path = "clinic.html")]
struct ClinicPage {
    shell: Shell,
    clinic_name: String,
    crisis_resources: String,
    errors: FieldErrors,
    protocol: kap_store::measure::Protocol,
    rules: Vec<RuleRow>,
    protocol_errors: FieldErrors,
}

/// One instrument's outcome rules as the settings form shows them.
struct RuleRow {
    code: &'static str,
    name: &'static str,
    max_total: i32,
    response: String,
    remission: String,
    worsening: String,
}

fn rule_rows(p: &kap_store::measure::Protocol) -> Vec<RuleRow> {
    kap_domain::instruments::ALL
        .iter()
        .filter(|i| !i.bands.is_empty())
        .map(|i| {
            let r = p.rules_for(i.code);
            RuleRow {
                code: i.code,
                name: i.name,
                max_total: i.max_total,
                response: r.response_reduction_percent.to_string(),
                remission: r
                    .remission_at_most
                    .map(|x| x.to_string())
                    .unwrap_or_default(),
                worsening: r
                    .worsening_points
                    .map(|x| x.to_string())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

async fn clinic_page(
    st: &AppState,
    staff: &Staff,
    notice: Option<&str>,
    (name, crisis): (String, String),
    errors: FieldErrors,
    protocol_errors: FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let protocol = st.store.protocol(staff.clinic_id()).await?;
    Ok(render(
        &ClinicPage {
            shell: Shell::staff(staff, "Clinic settings", "staff").with_notice(notice),
            clinic_name: name,
            crisis_resources: crisis,
            errors,
            rules: rule_rows(&protocol),
            protocol,
            protocol_errors,
        },
        status,
    ))
}

pub async fn protocol_update(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    staff.require(Action::ManageClinic)?;
    let get = |k: &str| {
        fields
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    };
    let mut errors = FieldErrors::new();
    let mut int =
        |field: String, v: &str, lo: i32, hi: i32, optional: bool| -> Option<Option<i32>> {
            if v.is_empty() && optional {
                return Some(None);
            }
            match v.parse::<i32>() {
                Ok(n) if (lo..=hi).contains(&n) => Some(Some(n)),
                _ => {
                    errors.add(
                        field,
                        format!(
                            "Enter a whole number from {lo} to {hi}{}.",
                            if optional { ", or leave it empty" } else { "" }
                        ),
                    );
                    None
                }
            }
        };
    let mut p = st.store.protocol(staff.clinic_id()).await?;
    if let Some(Some(v)) = int(
        "alert_escalation_minutes".into(),
        get("alert_escalation_minutes"),
        1,
        10_080,
        false,
    ) {
        p.alert_escalation_minutes = v;
    }
    if let Some(Some(v)) = int(
        "link_valid_hours".into(),
        get("link_valid_hours"),
        1,
        720,
        false,
    ) {
        p.link_valid_hours = v;
    }
    for ins in kap_domain::instruments::ALL
        .iter()
        .filter(|i| !i.bands.is_empty())
    {
        let mut r = p.rules_for(ins.code);
        let (resp, rem, wor) = (
            format!("{}_response", ins.code),
            format!("{}_remission", ins.code),
            format!("{}_worsening", ins.code),
        );
        if let Some(Some(v)) = int(resp.clone(), get(&resp), 1, 100, false) {
            r.response_reduction_percent = v;
        }
        if let Some(v) = int(rem.clone(), get(&rem), 0, ins.max_total, true) {
            r.remission_at_most = v;
        }
        if let Some(v) = int(wor.clone(), get(&wor), 1, ins.max_total, true) {
            r.worsening_points = v;
        }
        p.outcome_rules.insert(ins.code.to_owned(), r);
    }
    if !errors.is_empty() {
        let c = st.store.clinic(staff.clinic_id()).await?;
        return clinic_page(
            &st,
            &staff,
            None,
            (c.name, c.crisis_resources),
            FieldErrors::new(),
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    st.store
        .set_protocol(&staff.actor(), staff.clinic_id(), &p)
        .await?;
    Ok(see_other("/admin/clinic?notice=saved"))
}

pub async fn clinic_show(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    staff.require(Action::ManageClinic)?;
    let c = st.store.clinic(staff.clinic_id()).await?;
    clinic_page(
        &st,
        &staff,
        q.notice.as_deref(),
        (c.name, c.crisis_resources),
        FieldErrors::new(),
        FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

#[derive(serde::Deserialize)]
pub struct ClinicForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    crisis_resources: String,
}

pub async fn clinic_update(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<ClinicForm>,
) -> AppResult<Response> {
    staff.require(Action::ManageClinic)?;
    let mut errors = FieldErrors::new();
    let name = errors.check("name", ShortText::parse(&form.name));
    let crisis = errors.check("crisis_resources", Message::parse(&form.crisis_resources));
    match (name, crisis) {
        (Some(n), Some(c)) if errors.is_empty() => {
            st.store
                .update_clinic(&staff.actor(), staff.clinic_id(), n.as_str(), c.as_str())
                .await?;
            Ok(see_other("/admin/clinic?notice=saved"))
        }
        _ => {
            clinic_page(
                &st,
                &staff,
                None,
                (form.name, form.crisis_resources),
                errors,
                FieldErrors::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
