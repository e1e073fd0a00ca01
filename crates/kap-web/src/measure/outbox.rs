//! The outbox page: messages to patients (to copy and send by hand when email is not
//! configured) and questionnaires that expired unanswered.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::AppResult;
use crate::http::view::{Shell, render, when};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "measure/outbox.html")]
struct OutboxPage {
    shell: Shell,
    messages: Vec<OutboxRow>,
    overdue: Vec<(Uuid, String, &'static str, String)>,
}

struct OutboxRow {
    when: String,
    patient: String,
    patient_id: Option<Uuid>,
    to: String,
    subject: String,
    body: String,
    status: &'static str,
}

pub(super) async fn page(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    let msgs = st.store.outbox(&staff.actor(), staff.clinic_id()).await?;
    let overdue = st
        .store
        .overdue_links(staff.clinic_id(), 30)
        .await?
        .into_iter()
        .map(|(l, name)| (l.patient_id, name, l.instrument.name, when(&l.expires_at)))
        .collect();
    Ok(render(
        &OutboxPage {
            shell: Shell::staff(&staff, "Outbox", "outbox"),
            messages: msgs
                .into_iter()
                .map(|m| OutboxRow {
                    when: when(&m.created_at),
                    patient: m.patient_name.unwrap_or_default(),
                    patient_id: m.patient_id,
                    to: m.to_address.unwrap_or_else(|| "no email on file".into()),
                    subject: m.subject,
                    body: m.body,
                    status: m.status.as_str(),
                })
                .collect(),
            overdue,
        },
        StatusCode::OK,
    ))
}
