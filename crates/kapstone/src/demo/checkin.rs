//! The demo's check-ins between sessions.

use super::Rng;
use super::course::CourseStaff;
use anyhow::Result;
use kap_domain::time::TimeZone;
use kap_store::Store;
use uuid::Uuid;

/// Seeds check-ins between sessions; returns how many were made.
pub async fn seed(
    _store: &Store,
    _rng: &mut Rng,
    _clinic: Uuid,
    _patients: &[Uuid],
    _staff: &CourseStaff,
    _tz: TimeZone,
) -> Result<usize> {
    Ok(0)
}
