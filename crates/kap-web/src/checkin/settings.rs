//! The clinic's check-in settings, for administrators: what each side effect raises, the mood
//! rules (off until set: clinical.md gives no threshold for a 0–10 mood), and how long a
//! check-in link stays valid. Each save is a new version.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::AppResult;
use crate::http::extract::{Fields, NoticeQuery, see_other};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::checkin::{AlertLevel, CheckinSettings, SideEffect};

#[derive(Template)]
#[template(path = "checkin/settings.html")]
struct SettingsPage {
    shell: Shell,
    values: Vec<(String, String)>,
    errors: FieldErrors,
}

impl SettingsPage {
    fn value(&self, field: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| k == field)
            .map_or("", |(_, v)| v.as_str())
    }
    fn side_effects(&self) -> [SideEffect; 12] {
        SideEffect::ALL
    }
    fn levels(&self, se: &SideEffect) -> &'static [AlertLevel] {
        AlertLevel::allowed_for(*se)
    }
    fn field(&self, se: &SideEffect) -> String {
        format!("alert_{}", se.as_str())
    }
    fn chosen(&self, se: &SideEffect, l: &AlertLevel) -> bool {
        self.value(&self.field(se)) == l.as_str()
    }
    fn default_words(&self, se: &SideEffect) -> &'static str {
        AlertLevel::of(se.default_alert()).label()
    }
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

fn page(
    staff: &Staff,
    values: Vec<(String, String)>,
    errors: FieldErrors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    render(
        &SettingsPage {
            shell: Shell::staff(staff, "Check-in settings", "staff").with_notice(notice),
            values,
            errors,
        },
        status,
    )
}

pub(super) async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let s = st.store.checkin_settings(staff.clinic_id()).await?;
    Ok(page(
        &staff,
        s.to_fields(),
        FieldErrors::new(),
        q.notice.as_deref(),
        StatusCode::OK,
    ))
}

pub(super) async fn save(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(fields): CsrfForm<Fields>,
) -> AppResult<Response> {
    match CheckinSettings::from_fields(fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(s) => {
            st.store
                .set_checkin_settings(&staff.actor(), staff.clinic_id(), &s)
                .await?;
            Ok(see_other("/admin/checkins?notice=saved"))
        }
        Err(errors) => Ok(page(
            &staff,
            fields,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
    }
}
