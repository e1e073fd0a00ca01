//! The outbox page: messages to patients (to copy and send by hand when email is not
//! configured) and questionnaires that expired unanswered.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::AppResult;
use crate::http::extract::{Empty, NoticeQuery, parse_id, see_other};
use crate::http::view::{COPY_JS_SRI, Shell, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::measure::OutboxStatus;
use kap_domain::permission::Action;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "measure/outbox.html")]
struct OutboxPage {
    shell: Shell,
    messages: Vec<OutboxRow>,
    overdue: Vec<(Uuid, String, &'static str, String)>,
    may_work: bool,
    copy_js_sri: &'static str,
}

struct OutboxRow {
    id: Uuid,
    /// To be copied and sent by hand.
    manual: bool,
    when: String,
    patient: String,
    patient_id: Option<Uuid>,
    to: String,
    subject: String,
    body: String,
    status: &'static str,
}

pub(super) async fn page(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let msgs = st.store.outbox(&staff.actor(), staff.clinic_id()).await?;
    let overdue = st
        .store
        .overdue_links(staff.clinic_id(), 30)
        .await?
        .into_iter()
        .map(|(l, name)| {
            (
                l.patient_id,
                name,
                l.instrument.name,
                staff.tz.format(&l.expires_at),
            )
        })
        .collect();
    Ok(render(
        &OutboxPage {
            shell: Shell::staff(&staff, "Outbox", "outbox").with_notice(q.notice.as_deref()),
            messages: msgs
                .into_iter()
                .map(|m| OutboxRow {
                    id: m.id,
                    manual: m.status == OutboxStatus::Manual,
                    when: staff.tz.format(&m.created_at),
                    patient: m.patient_name.unwrap_or_default(),
                    patient_id: m.patient_id,
                    to: m.to_address.unwrap_or_else(|| "no email on file".into()),
                    subject: m.subject,
                    body: m.body,
                    status: m.status.label(),
                })
                .collect(),
            overdue,
            may_work: staff.may(Action::WorkOutbox),
            copy_js_sri: COPY_JS_SRI.as_str(),
        },
        StatusCode::OK,
    ))
}

/// Marks a message that staff sent by hand as sent.
pub(super) async fn mark_sent(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    st.store
        .mark_sent_by_hand(&staff.actor(), staff.clinic_id(), id)
        .await?;
    Ok(see_other("/outbox?notice=message-sent"))
}
