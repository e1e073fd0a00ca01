//! The staff home page: new inquiries waiting for a coordinator and recently seen patients.

use crate::AppState;
use crate::auth::Staff;
use crate::error::AppResult;
use crate::view::{Shell, render, when};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::inquiry::InquiryStatus;
use kap_domain::permission::Action;
use kap_store::inquiry::Inquiry;
use kap_store::patient::PatientSummary;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    show_inquiries: bool,
    new_count: i64,
    inquiries: Vec<Inquiry>,
    patients: Vec<PatientSummary>,
    alerts: Option<Vec<crate::pages::measure::AlertView>>,
}

impl HomePage {
    fn when(&self, i: &Inquiry) -> String {
        when(&i.created_at)
    }
}

#[derive(serde::Deserialize)]
pub struct HomeQuery {
    notice: Option<String>,
}

pub async fn home(
    State(st): State<AppState>,
    staff: Staff,
    axum::extract::Query(q): axum::extract::Query<HomeQuery>,
) -> AppResult<Response> {
    staff.require(Action::ViewHome)?;
    let show_inquiries = staff.may(Action::ReadInquiry);
    let (inquiries, new_count) = if show_inquiries {
        let list = st
            .store
            .list_inquiries(
                &staff.actor(),
                staff.clinic_id(),
                Some(InquiryStatus::New),
                None,
                10,
            )
            .await?;
        let n = st.store.count_new_inquiries(staff.clinic_id()).await?;
        (list, n)
    } else {
        (vec![], 0)
    };
    let patients = st
        .store
        .recent_patients(&staff.actor(), staff.clinic_id(), 10)
        .await?;
    let alerts = if staff.may(Action::HandleAlerts) {
        let protocol = st.store.protocol(staff.clinic_id()).await?;
        let open = st
            .store
            .open_alerts(&staff.actor(), staff.clinic_id())
            .await?;
        Some(crate::pages::measure::alert_views(open, &protocol))
    } else {
        None
    };
    Ok(render(
        &HomePage {
            shell: Shell::staff(&staff, "Home", "home").with_notice(q.notice.as_deref()),
            show_inquiries,
            new_count,
            inquiries,
            patients,
            alerts,
        },
        StatusCode::OK,
    ))
}

pub async fn healthz() -> &'static str {
    "ok"
}
