//! A protocol version as a clinic keeps it: the uploaded file's text, unchanged, beside what it
//! says, and whether the protocol is retired.

use super::Protocol;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One stored version.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolVersion {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub file_name: String,
    /// The file's text exactly as uploaded.
    pub body: String,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    pub uploaded_by_name: Option<String>,
    /// Whether this is the newest version of its protocol.
    pub latest: bool,
    pub retired: Option<Retirement>,
    pub protocol: Protocol,
}

/// A protocol taken out of use for new courses (courses under it go on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retirement {
    pub reason: String,
    pub retired_at: DateTime<Utc>,
    pub retired_by_name: Option<String>,
}

/// The longest retirement reason.
pub const RETIRE_REASON_MAX: usize = 500;

/// The largest protocol file accepted.
pub const FILE_MAX_BYTES: usize = 64 * 1024;
