//! Rooms and dosing chairs, for administrators: add one, take one out of use (or back).

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppResult, conflict_words};
use crate::http::extract::{Fields, NoticeQuery, field, parse_id, see_other};
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_store::course::Room;
use kap_store::{Conflict, StoreError};

/// The longest room name.
const NAME_MAX: usize = 60;

#[derive(Template)]
#[template(path = "course/rooms.html")]
struct RoomsPage {
    shell: Shell,
    rooms: Vec<Room>,
    name: String,
    error: Option<String>,
}

async fn page(
    st: &AppState,
    staff: &Staff,
    notice: Option<&str>,
    name: String,
    error: Option<String>,
) -> AppResult<Response> {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(
        &RoomsPage {
            shell: Shell::staff(staff, "Rooms and chairs", "staff").with_notice(notice),
            rooms: st.store.rooms(staff.clinic_id()).await?,
            name,
            error,
        },
        status,
    ))
}

pub(super) async fn list(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    page(&st, &staff, q.notice.as_deref(), String::new(), None).await
}

pub(super) async fn add(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let name = field(&f, "name").to_owned();
    if name.is_empty() || name.chars().count() > NAME_MAX {
        return page(
            &st,
            &staff,
            None,
            name,
            Some(format!("Name it (1 to {NAME_MAX} characters).")),
        )
        .await;
    }
    let chair = field(&f, "dosing_chair") == "yes";
    match st
        .store
        .add_room(&staff.actor(), staff.clinic_id(), &name, chair)
        .await
    {
        Ok(_) => Ok(see_other("/admin/rooms?notice=room-saved")),
        Err(StoreError::Conflict(c @ Conflict::RoomNameTaken(_))) => {
            page(&st, &staff, None, name, Some(conflict_words(&c))).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn toggle(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    st.store
        .set_room_active(
            &staff.actor(),
            staff.clinic_id(),
            parse_id(&id)?,
            field(&f, "active") == "yes",
        )
        .await?;
    Ok(see_other("/admin/rooms?notice=room-saved"))
}
