//! Setting up two-factor sign-in: a new secret shown as a QR code and as a key to type, turned
//! on only once a code from the authenticator proves it was set up right; ten recovery codes
//! shown once; turning it off again (with the password, and only where the clinic allows).

use super::qr::qr_svg;
use crate::AppState;
use crate::http::Staff;
use crate::http::auth::verify_password_blocking;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppResult, internal};
use crate::http::extract::{NoticeQuery, see_other};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::two_factor::{
    RECOVERY_CODE_BYTES, RECOVERY_CODES, SECRET_BYTES, TotpKey, recovery_code, recovery_hash,
};
use kap_store::account::TwoFactorState;

#[derive(Template)]
#[template(path = "account/two_factor.html")]
struct TwoFactorPage {
    shell: Shell,
    state: TwoFactorState,
    clinic_requires: bool,
    /// While setting up: the QR code and the key to type.
    qr: String,
    key: String,
    errors: FieldErrors,
    /// Just turned on: the recovery codes, shown this once.
    recovery: Vec<String>,
}

fn random<const N: usize>() -> AppResult<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| internal(&e))?;
    Ok(b)
}

/// The secret being set up: the one already waiting (so a reload keeps the scanned code
/// valid), or a new one.
async fn pending_key(st: &AppState, staff: &Staff) -> AppResult<TotpKey> {
    if let Some(k) = st.store.pending_totp(staff.staff_id()).await? {
        return Ok(k);
    }
    let key = TotpKey::from_bytes(random::<SECRET_BYTES>()?.to_vec()).map_err(|e| internal(&e))?;
    st.store.set_pending_totp(staff.staff_id(), &key).await?;
    Ok(key)
}

struct Shown {
    notice: Option<String>,
    errors: FieldErrors,
    recovery: Vec<String>,
    status: StatusCode,
}

async fn page(st: &AppState, staff: &Staff, shown: Shown) -> AppResult<Response> {
    let state = st.store.two_factor_state(staff.staff_id()).await?;
    let (qr, key) = if state.enabled {
        (String::new(), String::new())
    } else {
        let key = pending_key(st, staff).await?;
        let uri = key
            .otpauth_uri(&staff.principal.clinic_name, &staff.principal.email)
            .map_err(|e| internal(&e))?;
        let qr = qr_svg(&uri, "QR code to scan with your authenticator app")
            .ok_or_else(|| internal(&"the setup address does not fit a QR code"))?;
        (qr, key.grouped())
    };
    Ok(render(
        &TwoFactorPage {
            shell: Shell::staff(staff, "Two-factor sign-in", "")
                .with_notice(shown.notice.as_deref()),
            state,
            clinic_requires: staff.principal.clinic_requires_two_factor,
            qr,
            key,
            errors: shown.errors,
            recovery: shown.recovery,
        },
        shown.status,
    ))
}

pub(super) async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let shown = Shown {
        notice: q.notice,
        errors: FieldErrors::new(),
        recovery: vec![],
        status: StatusCode::OK,
    };
    page(&st, &staff, shown).await
}

#[derive(serde::Deserialize)]
pub(super) struct ConfirmForm {
    #[serde(default)]
    code: String,
}

/// Turns two factors on once a code proves the authenticator holds the secret; answers with
/// the recovery codes, shown this once.
pub(super) async fn confirm(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> AppResult<Response> {
    let key = pending_key(&st, &staff).await?;
    let Some(step) = key.accepts(&form.code, kap_store::now(), None) else {
        let shown = Shown {
            notice: None,
            errors: FieldErrors::single(
                "code",
                "That code does not match. Check that the app shows Kapstone and enter its newest six digits.",
            ),
            recovery: vec![],
            status: StatusCode::UNPROCESSABLE_ENTITY,
        };
        return page(&st, &staff, shown).await;
    };
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        codes.push(recovery_code(&random::<RECOVERY_CODE_BYTES>()?));
    }
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
    st.store
        .enable_totp(&staff.actor(), staff.staff_id(), step, &hashes)
        .await?;
    let shown = Shown {
        notice: Some("two-factor-on".into()),
        errors: FieldErrors::new(),
        recovery: codes,
        status: StatusCode::OK,
    };
    page(&st, &staff, shown).await
}

#[derive(serde::Deserialize)]
pub(super) struct OffForm {
    #[serde(default)]
    password: String,
}

pub(super) async fn turn_off(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<OffForm>,
) -> AppResult<Response> {
    let problem = if staff.principal.clinic_requires_two_factor {
        Some("Your clinic requires two-factor sign-in, so it stays on.")
    } else {
        let account = st.store.staff_login(&staff.principal.email).await?;
        let ok = verify_password_blocking(form.password, account.map(|a| a.password_hash)).await;
        (!ok).then_some("That is not your password.")
    };
    if let Some(p) = problem {
        let shown = Shown {
            notice: None,
            errors: FieldErrors::single("password", p),
            recovery: vec![],
            status: StatusCode::UNPROCESSABLE_ENTITY,
        };
        return page(&st, &staff, shown).await;
    }
    st.store
        .disable_totp(&staff.actor(), staff.staff_id())
        .await?;
    Ok(see_other("/account?notice=two-factor-off"))
}
