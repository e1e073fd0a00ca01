//! The staff home page: open safety alerts for clinicians, new inquiries for coordinators, and
//! recently seen patients.

use crate::AppState;
use crate::http::Access::Needs;
use crate::http::error::AppResult;
use crate::http::extract::NoticeQuery;
use crate::http::sections::{Returned, render_sections};
use crate::http::view::{Shell, render};
use crate::http::{Routes, Staff};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::inquiry::{Inquiry, InquiryStatus};
use kap_domain::patient::PatientSummary;
use kap_domain::permission::Action;

pub fn router() -> Routes {
    Routes::new().get("/", Needs(Action::ViewHome), home)
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomePage {
    shell: Shell,
    show_inquiries: bool,
    new_count: i64,
    inquiries: Vec<Inquiry>,
    patients: Vec<PatientSummary>,
    /// The capabilities' parts (safety alerts first).
    sections: String,
}

impl HomePage {
    fn when(&self, i: &Inquiry) -> String {
        self.shell.when(&i.created_at)
    }
}

async fn home(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    home_page(
        &st,
        &staff,
        q.notice.as_deref(),
        &Returned::none(),
        StatusCode::OK,
    )
    .await
}

/// The home page, with a form of one of its sections as typed when it came back with problems.
pub async fn home_page(
    st: &AppState,
    staff: &Staff,
    notice: Option<&str>,
    returned: &Returned,
    status: StatusCode,
) -> AppResult<Response> {
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
    let sections = render_sections(&st.home_sections, st, staff, None, returned).await?;
    Ok(render(
        &HomePage {
            shell: Shell::staff(staff, "Home", "home").with_notice(notice),
            show_inquiries,
            new_count,
            inquiries,
            patients,
            sections,
        },
        status,
    ))
}
