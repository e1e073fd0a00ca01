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
    /// The response it was answered with.
    pub response_id: Option<Uuid>,
}

/// What a patient who opens a link is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPage {
    /// The questionnaire, to answer.
    Form,
    /// "Thank you": answered, and still within its validity (so a reload or the back button
    /// shows this page again, never an error — with the crisis resources when the answers raised
    /// an alert).
    Done,
    /// Expired (answered or not): the page that says so, with the clinic's crisis resources.
    Gone,
}

impl LinkPage {
    /// The page of any patient link (questionnaire, consent, history) used at `used_at` (if
    /// ever) and expiring at `expires_at`, opened at `at`.
    pub fn of(
        used_at: Option<DateTime<Utc>>,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> LinkPage {
        match (used_at, expires_at > at) {
            (_, false) => LinkPage::Gone,
            (Some(_), true) => LinkPage::Done,
            (None, true) => LinkPage::Form,
        }
    }
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

    /// The page a patient opening this link at `at` sees.
    pub fn page(&self, at: DateTime<Utc>) -> LinkPage {
        LinkPage::of(self.used_at, self.expires_at, at)
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
    fn an_answered_link_shows_its_thank_you_page_until_it_expires() {
        let t0 = DateTime::UNIX_EPOCH;
        let ins = crate::instruments::by_code("phq9").unwrap_or_else(|| unreachable!());
        let mut l = Link {
            id: Uuid::nil(),
            clinic_id: Uuid::nil(),
            patient_id: Uuid::nil(),
            instrument: ins,
            context: ResponseContext::BetweenSessions,
            created_at: t0,
            expires_at: t0 + Duration::hours(72),
            used_at: None,
            response_id: None,
        };
        assert_eq!(l.page(t0), LinkPage::Form);
        l.used_at = Some(t0 + Duration::hours(1));
        assert_eq!(l.page(t0 + Duration::hours(2)), LinkPage::Done);
        assert_eq!(l.page(t0 + Duration::hours(72)), LinkPage::Gone);
        l.used_at = None;
        assert_eq!(l.page(t0 + Duration::hours(80)), LinkPage::Gone);
    }

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
