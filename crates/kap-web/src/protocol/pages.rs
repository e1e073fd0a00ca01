//! Protocol pages: the list, one version (what it says, its sources, its file and the diff
//! against the version before), the upload form, and retirement.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppError, AppResult, conflict_words};
use crate::http::extract::{Fields, NoticeQuery, field, parse_id, see_other};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::Action;
use kap_domain::protocol::diff::{DiffLine, diff};
use kap_domain::protocol::record::{FILE_MAX_BYTES, ProtocolVersion, RETIRE_REASON_MAX};
use kap_domain::protocol::{DoseRule, SessionKind};
use kap_store::{Conflict, StoreError};

#[derive(Template)]
#[template(path = "protocol/list.html")]
struct ListPage {
    shell: Shell,
    versions: Vec<ProtocolVersion>,
    manage: bool,
    file_name: String,
    body: String,
    problems: Vec<String>,
}

async fn list_page(
    st: &AppState,
    staff: &Staff,
    notice: Option<&str>,
    typed: (String, String),
    problems: Vec<String>,
) -> AppResult<Response> {
    let versions = st.store.protocols(staff.clinic_id()).await?;
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        &ListPage {
            shell: Shell::staff(staff, "Protocols", "protocols").with_notice(notice),
            versions,
            manage: staff.may(Action::ManageProtocols),
            file_name: typed.0,
            body: typed.1,
            problems,
        },
        status,
    ))
}

pub(super) async fn list(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    list_page(&st, &staff, q.notice.as_deref(), Default::default(), vec![]).await
}

pub(super) async fn upload(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let file_name = field(&f, "file_name").trim().to_owned();
    let body = field(&f, "body").replace("\r\n", "\n");
    let mut problems = vec![];
    if file_name.is_empty() || file_name.len() > 100 || !file_name.ends_with(".toml") {
        problems.push("Name the file, ending in .toml (e.g. esketamine-trd.toml).".to_owned());
    }
    if body.trim().is_empty() || body.len() > FILE_MAX_BYTES {
        problems.push(format!(
            "Paste the protocol file (up to {} KiB).",
            FILE_MAX_BYTES / 1024
        ));
    }
    if problems.is_empty() {
        match st
            .store
            .upload_protocol(&staff.actor(), staff.clinic_id(), &file_name, &body)
            .await
        {
            Ok(id) => {
                return Ok(see_other(&format!(
                    "/protocols/{id}?notice=protocol-uploaded"
                )));
            }
            Err(StoreError::Conflict(Conflict::ProtocolFile(errors))) => {
                problems.extend(errors.0.iter().map(ToString::to_string));
            }
            Err(StoreError::Conflict(c)) => problems.push(conflict_words(&c)),
            Err(e) => return Err(e.into()),
        }
    }
    list_page(&st, &staff, None, (file_name, body), problems).await
}

pub(super) async fn install(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(_f): CsrfForm<Fields>,
) -> AppResult<Response> {
    st.store
        .install_shipped_protocols(&staff.actor(), staff.clinic_id())
        .await?;
    Ok(see_other("/protocols?notice=protocols-installed"))
}

/// A line of the diff as the page shows it.
struct Shown {
    mark: &'static str,
    class: &'static str,
    text: String,
}

#[derive(Template)]
#[template(path = "protocol/show.html")]
struct ShowPage {
    shell: Shell,
    v: ProtocolVersion,
    previous: Option<u32>,
    diff: Vec<Shown>,
    manage: bool,
    reason_error: Option<String>,
}

impl ShowPage {
    fn dose_lines(&self) -> Vec<String> {
        match &self.v.protocol.dose {
            DoseRule::PerKg {
                mg_per_kg,
                min_mg_per_kg,
                max_mg_per_kg,
                max_mg,
                round_to_mg,
                ideal_body_weight,
                infusion_minutes,
            } => {
                let mut out = vec![format!(
                    "{} mg/kg (allowed {}–{} mg/kg), rounded to {} mg",
                    mg_per_kg.get(),
                    min_mg_per_kg.get(),
                    max_mg_per_kg.get(),
                    round_to_mg.get()
                )];
                if let Some(m) = max_mg {
                    out.push(format!("never more than {} mg", m.get()));
                }
                if let Some(i) = ideal_body_weight {
                    out.push(format!("ideal body weight above BMI {}", i.above_bmi.get()));
                }
                if let Some(i) = infusion_minutes {
                    out.push(format!("infused over {} minutes", i.get()));
                }
                out
            }
            DoseRule::Fixed {
                first_mg,
                min_mg,
                max_mg,
                step_mg,
                unit_mg,
                minutes_between_units,
            } => {
                let mut out = vec![format!(
                    "first session {} mg; then {}–{} mg in steps of {} mg",
                    first_mg.get(),
                    min_mg.get(),
                    max_mg.get(),
                    step_mg.get()
                )];
                if let Some(u) = unit_mg {
                    out.push(format!("given in units of {} mg", u.get()));
                }
                if let Some(m) = minutes_between_units {
                    out.push(format!("{} minutes between units", m.get()));
                }
                out
            }
        }
    }

    fn booked(&self, k: &SessionKind) -> u32 {
        self.v.protocol.booked_minutes(*k)
    }

    fn kinds(&self) -> [SessionKind; 5] {
        SessionKind::ALL
    }
}

async fn show_page(
    st: &AppState,
    staff: &Staff,
    id: uuid::Uuid,
    notice: Option<&str>,
    reason_error: Option<String>,
) -> AppResult<Response> {
    let v = st.store.protocol_version(staff.clinic_id(), id).await?;
    let prev = st.store.previous_protocol_version(&v).await?;
    let diff = prev
        .as_ref()
        .map(|p| {
            diff(&p.body, &v.body)
                .into_iter()
                .map(|l| match l {
                    DiffLine::Same(text) => Shown {
                        mark: " ",
                        class: "same",
                        text,
                    },
                    DiffLine::Added(text) => Shown {
                        mark: "+",
                        class: "added",
                        text,
                    },
                    DiffLine::Removed(text) => Shown {
                        mark: "−",
                        class: "removed",
                        text,
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let status = if reason_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(
        &ShowPage {
            shell: Shell::staff(staff, v.protocol.title(), "protocols").with_notice(notice),
            previous: prev.map(|p| p.protocol.version),
            v,
            diff,
            manage: staff.may(Action::ManageProtocols),
            reason_error,
        },
        status,
    ))
}

pub(super) async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    show_page(&st, &staff, parse_id(&id)?, q.notice.as_deref(), None).await
}

pub(super) async fn retire(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let reason = field(&f, "reason").trim();
    if reason.is_empty() || reason.chars().count() > RETIRE_REASON_MAX {
        return show_page(
            &st,
            &staff,
            id,
            None,
            Some(format!(
                "Say why it is retired (1 to {RETIRE_REASON_MAX} characters)."
            )),
        )
        .await;
    }
    let v = st.store.protocol_version(staff.clinic_id(), id).await?;
    match st
        .store
        .retire_protocol(&staff.actor(), staff.clinic_id(), &v.protocol.key, reason)
        .await
    {
        Ok(()) => Ok(see_other(&format!(
            "/protocols/{id}?notice=protocol-retired"
        ))),
        Err(StoreError::Conflict(c)) => Err(AppError::Conflict(conflict_words(&c))),
        Err(e) => Err(e.into()),
    }
}
