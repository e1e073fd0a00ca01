//! A questionnaire response as kept: scored once, when it was recorded, with where it came from.

use crate::instruments::{Instrument, ResponseContext};
use chrono::{DateTime, Utc};
use uuid::Uuid;

crate::code::coded_enum! {
    /// Who entered a response, and how.
    pub enum ResponseSource as "response source" {
        /// A clinician entered it in the chart.
        Staff = "staff" / "staff entry",
        /// The patient answered through a link.
        PatientLink = "patient_link" / "patient (link)",
        /// An integration sent it through the API.
        Api = "api" / "integration",
    }
}

/// A stored response with its score (its item answers are kept beside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionnaireResponse {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub instrument: &'static Instrument,
    pub context: ResponseContext,
    pub source: ResponseSource,
    pub complete: bool,
    pub total: Option<i32>,
    pub band: Option<String>,
    pub screen: Option<String>,
    pub answered_at: DateTime<Utc>,
    pub entered_by_name: Option<String>,
}
