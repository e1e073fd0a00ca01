//! Refused access leaves a trace: a signed-in caller who is refused (403) or asks for a record
//! that is not theirs to see (404: unknown, or another clinic's) gets an audit row naming who,
//! what, which id and from where. A flood cannot fill the log: each person gets at most
//! [`PER_MINUTE`] such rows a minute, the last of which says that more were not recorded.
//!
//! The count is kept in each process's memory, on purpose: it only bounds how fast one person
//! can grow the log, so with several `serve` processes the bound is [`PER_MINUTE`] per process
//! (still a bound), and sharing it through the database would cost a write on every refusal —
//! the very flood it is there to absorb. Login throttling, which must hold across processes,
//! lives in the database (`Store::reserve_login_attempt`).

use crate::AppState;
use crate::http::auth::Staff;
use axum::http::{Method, StatusCode};
use kap_domain::audit::{AuditAction, Subject};
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// Refusal rows per person per minute.
pub const PER_MINUTE: u32 = 10;

/// What to do with one refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Record,
    /// Record it, saying that further refusals this minute are not recorded.
    RecordLast,
    Skip,
}

/// Counts refusals per person per minute.
#[derive(Debug, Default)]
pub struct RefusalLog {
    windows: Mutex<HashMap<Uuid, (i64, u32)>>,
}

impl RefusalLog {
    pub fn admit(&self, who: Uuid, minute: i64) -> Admit {
        let Ok(mut w) = self.windows.lock() else {
            return Admit::Record;
        };
        if w.len() > 10_000 {
            w.retain(|_, (m, _)| *m == minute);
        }
        let entry = w.entry(who).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        match entry.1 {
            n if n < PER_MINUTE => Admit::Record,
            n if n == PER_MINUTE => Admit::RecordLast,
            _ => Admit::Skip,
        }
    }
}

/// The first id in a path (the record asked for).
fn record_in(path: &str) -> Option<Uuid> {
    path.split('/').find_map(|seg| Uuid::parse_str(seg).ok())
}

/// Records a refusal, if the person's allowance this minute admits it. A failure to record is
/// logged; the refusal stands either way.
pub async fn record(st: &AppState, staff: &Staff, method: &Method, path: &str, status: StatusCode) {
    let minute = kap_store::now().timestamp() / 60;
    let admit = st.refusals.admit(staff.staff_id(), minute);
    if admit == Admit::Skip {
        return;
    }
    let mut detail = format!("{method} {path} -> {}", status.as_u16());
    if admit == Admit::RecordLast {
        detail.push_str("; further refusals this minute are not recorded");
    }
    let subject = Subject {
        record_id: record_in(path),
        detail,
        ..Subject::none()
    };
    if let Err(e) = st
        .store
        .audit_only(&staff.actor(), AuditAction::AccessRefused, subject)
        .await
    {
        tracing::error!(error = %e, "a refused access could not be audited");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_refusals_is_recorded_up_to_the_limit_each_minute() {
        let log = RefusalLog::default();
        let who = Uuid::from_u128(1);
        let got: Vec<Admit> = (0..12).map(|_| log.admit(who, 100)).collect();
        assert_eq!(got.iter().filter(|a| **a == Admit::Record).count(), 9);
        assert_eq!(got[9], Admit::RecordLast);
        assert_eq!(&got[10..], &[Admit::Skip, Admit::Skip]);
        assert_eq!(
            log.admit(who, 101),
            Admit::Record,
            "a new minute, a new allowance"
        );
        assert_eq!(
            log.admit(Uuid::from_u128(2), 100),
            Admit::Record,
            "per person"
        );
    }

    #[test]
    fn the_record_asked_for_is_named() {
        let id = Uuid::from_u128(7);
        assert_eq!(record_in(&format!("/patients/{id}/edit")), Some(id));
        assert_eq!(record_in("/patients"), None);
    }
}
