//! Check-in links: a random, single-use, expiring address per check-in sent (only the token's
//! hash is kept), optionally carrying one questionnaire answered on the same page.
//!
//! What a patient sees depends on the link's state and what they do:
//!
//! | link | opening it | sending the form | the thank-you address |
//! |---|---|---|---|
//! | unused, valid | the form | stored, then thank-you | back to the form |
//! | used, valid | "cannot be used" | thank-you, nothing stored (a double tap) | thank-you |
//! | expired | "cannot be used" | "cannot be used", nothing stored | "cannot be used" |
//!
//! A used link is never shown again as a form — not to whoever holds the message later —
//! and every "cannot be used" page carries the clinic's crisis resources.

use crate::instruments::Instrument;
use crate::measure::LinkPage;
use chrono::{DateTime, Utc};
use std::ops::RangeInclusive;
use uuid::Uuid;

/// Days a link sent from the chart may be made valid for.
pub const VALID_DAYS: RangeInclusive<i32> = super::settings::LINK_VALID_DAYS;

/// A check-in link (the token itself is never kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinLink {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    /// The questionnaire asked on the same page, if the sender attached one.
    pub instrument: Option<&'static Instrument>,
    /// The course the patient was in when it was sent.
    pub course_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// The check-in it was answered with.
    pub checkin_id: Option<Uuid>,
}

impl CheckinLink {
    /// Whether the link can still take a check-in at `at`.
    pub fn usable(&self, at: DateTime<Utc>) -> bool {
        self.used_at.is_none() && self.expires_at > at
    }

    /// What opening the link shows: the form while it is usable, otherwise the page that
    /// says it cannot be used.
    pub fn open_page(&self, at: DateTime<Utc>) -> LinkPage {
        if self.usable(at) {
            LinkPage::Form
        } else {
            LinkPage::Gone
        }
    }

    /// What sending the form (or opening the thank-you address) shows: a link used and still
    /// valid shows its thank-you page, so a double tap or a reload never shows an error.
    pub fn sent_page(&self, at: DateTime<Utc>) -> LinkPage {
        LinkPage::of(self.used_at, self.expires_at, at)
    }

    /// "answered", "expired unanswered" or "waiting" — what a coordinator may see.
    pub fn state_words(&self, now: DateTime<Utc>) -> &'static str {
        match self.used_at {
            Some(_) => "answered",
            None if self.expires_at <= now => "expired unanswered",
            None => "waiting",
        }
    }
}
