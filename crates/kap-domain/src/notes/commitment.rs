//! Commitments made in integration and carried through the course. A signed integration note
//! stays locked; what becomes of each commitment is a review made at a later session (kept,
//! partly kept, not kept, dropped — or still open), appended and never changed. A commitment is
//! carried to the next sessions while it is open or partly kept.

use super::short_text;
use crate::FieldErrors;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// The longest review note, in characters.
pub const REVIEW_NOTE_MAX: usize = 500;

crate::code::coded_enum! {
    /// What became of a commitment.
    pub enum CommitmentStatus as "commitment status" {
        Open = "open" / "Open",
        Kept = "kept" / "Kept",
        PartlyKept = "partly_kept" / "Partly kept",
        NotKept = "not_kept" / "Not kept",
        Dropped = "dropped" / "Dropped",
    }
}

impl CommitmentStatus {
    /// Whether the commitment is still carried to the next session.
    pub fn carried(self) -> bool {
        matches!(self, CommitmentStatus::Open | CommitmentStatus::PartlyKept)
    }
}

/// One review of a commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitmentReview {
    pub status: CommitmentStatus,
    pub note: String,
    pub by_name: String,
    pub at: DateTime<Utc>,
}

/// A commitment with its reviews, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    pub id: Uuid,
    /// The integration note that made it.
    pub note_id: Uuid,
    pub course_id: Option<Uuid>,
    pub text: String,
    pub follow_up: NaiveDate,
    /// When the note that made it was signed, and by whom.
    pub made_at: DateTime<Utc>,
    pub made_by: String,
    pub reviews: Vec<CommitmentReview>,
}

impl Commitment {
    /// Where it stands: its latest review, or open.
    pub fn status(&self) -> CommitmentStatus {
        self.reviews
            .last()
            .map_or(CommitmentStatus::Open, |r| r.status)
    }

    pub fn carried(&self) -> bool {
        self.status().carried()
    }

    /// Whether its follow-up date has come (and it is still carried).
    pub fn due(&self, today: NaiveDate) -> bool {
        self.carried() && self.follow_up <= today
    }

    pub fn latest(&self) -> Option<&CommitmentReview> {
        self.reviews.last()
    }
}

/// Checks a review as typed: a known status and a short note.
pub fn parse_review(status: &str, note: &str) -> Result<(CommitmentStatus, String), FieldErrors> {
    let mut e = FieldErrors::new();
    let s = if status.trim().is_empty() {
        e.add("status", "Choose what became of the commitment.");
        None
    } else {
        e.check("status", status.parse::<CommitmentStatus>())
    };
    let n = match short_text(note, REVIEW_NOTE_MAX) {
        Ok(n) => Some(n),
        Err(m) => {
            e.add("note", m);
            None
        }
    };
    match (s, n) {
        (Some(s), Some(n)) if e.is_empty() => Ok((s, n)),
        _ => Err(e),
    }
}
