//! Staff accounts of the clinic: create, change role, deactivate (never delete), and their API
//! tokens.

use crate::AppState;
use crate::http::Staff;
use crate::http::auth::hash_password_blocking;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppError, AppResult, conflict_words};
use crate::http::extract::{Empty, NoticeQuery, parse_id, see_other};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::password::check_strength;
use kap_domain::permission::Role;
use kap_domain::person::{Email, PersonName, ShortText};
use kap_domain::staff::{ApiTokenInfo, StaffMember};
use kap_store::StoreError;
use kap_store::staff::NewStaff;
use uuid::Uuid;

fn roles() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect()
}

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct StaffPage {
    shell: Shell,
    staff: Vec<StaffMember>,
    form: NewStaffForm,
    errors: FieldErrors,
    roles: Vec<(&'static str, &'static str)>,
}

#[derive(serde::Deserialize, Default, Clone)]
pub(super) struct NewStaffForm {
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

pub(super) async fn staff_list(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
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

pub(super) async fn staff_create(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<NewStaffForm>,
) -> AppResult<Response> {
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
    let new = NewStaff {
        email: email.as_str(),
        full_name: name.as_str(),
        password_hash: &hash,
        clinic_id: staff.clinic_id(),
        role,
    };
    match st.store.create_staff(&staff.actor(), new).await {
        Ok(_) => Ok(see_other("/admin/staff?notice=staff-created")),
        Err(StoreError::Conflict(c)) => {
            staff_page(
                &st,
                &staff,
                None,
                form,
                FieldErrors::single("email", conflict_words(&c)),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/member.html")]
struct MemberPage {
    shell: Shell,
    member: StaffMember,
    roles: Vec<(&'static str, &'static str)>,
    tokens: Vec<ApiTokenInfo>,
    new_token: Option<String>,
    /// A password reset link just issued: shown this once.
    reset_link: Option<String>,
    problem: Option<String>,
    errors: FieldErrors,
    is_self: bool,
}

impl MemberPage {
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        self.shell.when(t)
    }
}

/// What a member page shows beyond the account itself.
#[derive(Default)]
struct MemberExtras<'a> {
    notice: Option<&'a str>,
    new_token: Option<String>,
    reset_link: Option<String>,
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
        reset_link,
        problem,
        errors,
    } = extras;
    let member = st.store.staff_member(staff.clinic_id(), id).await?;
    let tokens = st.store.api_tokens_of(staff.clinic_id(), id).await?;
    Ok(render(
        &MemberPage {
            shell: Shell::staff(staff, member.full_name.clone(), "staff").with_notice(notice),
            is_self: id == staff.staff_id(),
            member,
            roles: roles(),
            tokens,
            new_token,
            reset_link,
            problem,
            errors,
        },
        status,
    ))
}

pub(super) async fn staff_show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
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
pub(super) struct MemberForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    active: Option<String>,
}

/// The member page again, with what was wrong in the form.
async fn member_with_errors(
    st: &AppState,
    staff: &Staff,
    id: Uuid,
    errors: FieldErrors,
) -> AppResult<Response> {
    let extras = MemberExtras {
        errors,
        ..Default::default()
    };
    member_page(st, staff, id, extras, StatusCode::UNPROCESSABLE_ENTITY).await
}

pub(super) async fn staff_update(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<MemberForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let Ok(role) = form.role.parse::<Role>() else {
        let e = FieldErrors::single("role", "Please choose a role.");
        return member_with_errors(&st, &staff, id, e).await;
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
        Err(StoreError::Conflict(c)) => {
            member_page(
                &st,
                &staff,
                id,
                MemberExtras {
                    problem: Some(conflict_words(&c)),
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
pub(super) struct TokenForm {
    #[serde(default)]
    label: String,
}

pub(super) async fn token_create(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let member = st.store.staff_member(staff.clinic_id(), id).await?;
    let label = match ShortText::parse(&form.label) {
        Ok(l) => l,
        Err(e) => {
            let e = FieldErrors::single("label", e.to_string());
            return member_with_errors(&st, &staff, id, e).await;
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

pub(super) async fn token_revoke(
    State(st): State<AppState>,
    staff: Staff,
    Path((id, token_id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let token_id = parse_id(&token_id)?;
    st.store.staff_member(staff.clinic_id(), id).await?;
    st.store
        .revoke_api_token(&staff.actor(), staff.clinic_id(), id, token_id)
        .await?;
    Ok(see_other(&format!(
        "/admin/staff/{id}?notice=token-revoked"
    )))
}

/// How long a password reset link works.
const RESET_VALID_HOURS: i64 = 24;

/// Issues a one-time link for a colleague to set a new password; shown once, on this answer.
pub(super) async fn password_reset(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let extras = match st
        .store
        .issue_password_reset(
            &staff.actor(),
            staff.clinic_id(),
            id,
            chrono::Duration::hours(RESET_VALID_HOURS),
        )
        .await
    {
        Ok(token) => MemberExtras {
            reset_link: Some(format!("{}/reset/{token}", st.config.public_url)),
            ..Default::default()
        },
        Err(StoreError::Conflict(c)) => MemberExtras {
            problem: Some(conflict_words(&c)),
            ..Default::default()
        },
        Err(e) => return Err(e.into()),
    };
    let status = if extras.problem.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    member_page(&st, &staff, id, extras, status).await
}
