//! Protocols over the API: the clinic's versions, and one version with its file.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::ApiResult;
use crate::http::extract::api_id;
use axum::Json;
use axum::extract::{Path, State};
use kap_domain::protocol::record::ProtocolVersion;
use serde::Serialize;
use utoipa::ToSchema;

/// One protocol version.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProtocolOut {
    pub id: uuid::Uuid,
    /// Stable name across versions.
    pub key: String,
    pub version: u32,
    pub name: String,
    pub drug: String,
    pub route: String,
    /// Newest version of its protocol.
    pub latest: bool,
    pub retired: bool,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
    pub sha256: String,
    /// Dosing sessions as the pattern is written.
    pub dosing_sessions: u32,
    /// Minimum monitoring from the start of administration, minutes.
    pub minimum_monitoring_minutes: u32,
    /// The TOML file as uploaded (only when one version is asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

fn out(v: ProtocolVersion, with_file: bool) -> ProtocolOut {
    ProtocolOut {
        id: v.id,
        key: v.protocol.key.clone(),
        version: v.protocol.version,
        name: v.protocol.name.clone(),
        drug: v.protocol.drug.as_str().to_owned(),
        route: v.protocol.route.as_str().to_owned(),
        latest: v.latest,
        retired: v.retired.is_some(),
        uploaded_at: v.uploaded_at,
        sha256: v.sha256.clone(),
        dosing_sessions: v.protocol.dosing_sessions(),
        minimum_monitoring_minutes: v.protocol.monitoring.minimum_minutes.get(),
        file: with_file.then_some(v.body),
    }
}

/// The clinic's protocol versions.
#[utoipa::path(get, path = "/api/v1/protocols", tag = "protocols",
    responses((status = 200, body = Vec<ProtocolOut>)), security(("bearer" = [])))]
pub(super) async fn list(
    State(st): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<Vec<ProtocolOut>>> {
    let all = st.store.protocols(staff.clinic_id()).await?;
    Ok(Json(all.into_iter().map(|v| out(v, false)).collect()))
}

/// One protocol version, with its file.
#[utoipa::path(get, path = "/api/v1/protocols/{id}", tag = "protocols",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ProtocolOut), (status = 404)), security(("bearer" = [])))]
pub(super) async fn one(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<ProtocolOut>> {
    let v = st
        .store
        .protocol_version(staff.clinic_id(), api_id(&id)?)
        .await?;
    Ok(Json(out(v, true)))
}
