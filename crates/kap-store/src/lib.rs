//! Kapstone's persistence: one `Db` over SQLite (the zero-setup default) and PostgreSQL (the
//! scale-out option), chosen by URL scheme, with SQL written once in the dialect both accept.
//!
//! One file per aggregate. Every change to clinical data, and every read of it, goes through an
//! [`audited::Audited`] transaction that appends to the hash-chained audit trail, so the record
//! and its audit row commit together. Rows are private to this crate: what leaves it are the
//! domain's types.

pub mod account;
pub mod audit;
mod audited;
pub mod checkin;
pub mod clinic;
pub mod consent;
pub mod course;
mod db;
pub mod dosing;
mod error;
pub mod inquiry;
pub mod lease;
pub mod measure;
pub mod notes;
pub mod patient;
pub mod protocol;
pub mod report;
pub mod screening;
mod sealed;
pub mod session;
pub mod staff;
pub mod team;
pub mod token;

#[cfg(feature = "testing")]
pub mod testing;

pub use audited::AuditScope;
pub use db::{Db, TableShape, redact_url, same_type};
pub use error::{Conflict, Result, StoreError};
pub use kap_domain::audit::{Actor, ActorKind, Subject};

use chrono::{DateTime, SubsecRound, Utc};
use kap_domain::audit::AuditKey;
use std::sync::Arc;
use uuid::Uuid;

/// The current time as stored: UTC, whole microseconds (what PostgreSQL keeps), so a value read
/// back equals the value written on both backends.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A new time-ordered id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Random bytes from the operating system, hex-encoded: session tokens, API tokens, keys.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS random source does not fail on supported platforms; if it ever did, refusing to
    // continue is the only safe answer for a token generator.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut buf).expect("operating system random source unavailable");
    hex::encode(buf)
}

/// SHA-256 of a secret token, hex: what the database keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// The database plus the audit key: everything the app needs to remember things safely.
#[derive(Clone)]
pub struct Store {
    pub db: Db,
    key: Arc<AuditKey>,
    /// The group commit for reads' audit rows, started on first use (inside the runtime).
    group: Arc<std::sync::OnceLock<audited::GroupCommit>>,
}

impl Store {
    pub fn new(db: Db, key: AuditKey) -> Self {
        Self {
            db,
            key: Arc::new(key),
            group: Arc::default(),
        }
    }

    pub fn audit_key(&self) -> &AuditKey {
        &self.key
    }
}
