//! Patient links: single-use, expiring addresses through which a patient answers one
//! questionnaire, and the one reminder for a link still unanswered halfway through its life.

use crate::instruments::{Instrument, ResponseContext};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A patient link (the token itself is never kept; only its hash is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub instrument: &'static Instrument,
    pub context: ResponseContext,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Answered(DateTime<Utc>),
    ExpiredUnanswered,
    Waiting { expires_at: DateTime<Utc> },
}

impl Link {
    /// Whether the link can still take answers at `at`.
    pub fn usable(&self, at: DateTime<Utc>) -> bool {
        self.used_at.is_none() && self.expires_at > at
    }

    pub fn state(&self, now: DateTime<Utc>) -> LinkState {
        match self.used_at {
            Some(u) => LinkState::Answered(u),
            None if self.expires_at <= now => LinkState::ExpiredUnanswered,
            None => LinkState::Waiting {
                expires_at: self.expires_at,
            },
        }
    }
}

/// Whether an unanswered link created at `created` and expiring at `expires` is due its one
/// reminder at `now`: once half its validity has passed, while it is still valid.
pub fn reminder_due(created: DateTime<Utc>, expires: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= created + (expires - created) / 2 && now < expires
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_reminder_is_due_from_half_the_validity_until_expiry() {
        let c = DateTime::UNIX_EPOCH;
        let e = c + Duration::hours(72);
        assert!(!reminder_due(c, e, c + Duration::hours(35)));
        assert!(reminder_due(c, e, c + Duration::hours(36)));
        assert!(reminder_due(c, e, c + Duration::hours(71)));
        assert!(!reminder_due(c, e, e));
    }
}
