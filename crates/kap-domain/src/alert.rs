//! Safety alerts: what a clinician must see and act on (a suicide-risk answer today; out-of-range
//! vitals later). An alert is never deleted; it is acknowledged once, with a note of what was
//! done, and an open alert left longer than the clinic's escalation time is shown as escalated.

use crate::instruments::{Flag, Severity};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

crate::code::coded_enum! {
    /// Where an alert stands.
    pub enum AlertStatus as "alert status" {
        Open = "open" / "Open",
        Acknowledged = "acknowledged" / "Acknowledged",
    }
}

/// A safety alert as the clinic's list and the chart show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub kind: Flag,
    pub severity: Severity,
    /// The questionnaire response that raised it.
    pub response_id: Option<Uuid>,
    pub detail: String,
    pub status: AlertStatus,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by_name: Option<String>,
    pub action_note: Option<String>,
}

impl Alert {
    /// Whether this alert has waited, open, longer than `escalate_after`.
    pub fn escalated(&self, now: DateTime<Utc>, escalate_after: Duration) -> bool {
        is_escalated(self.status, self.raised_at, now, escalate_after)
    }
}

/// The escalation rule: an open alert raised more than `escalate_after` before `now` is
/// escalated; an acknowledged one never is.
pub fn is_escalated(
    status: AlertStatus,
    raised_at: DateTime<Utc>,
    now: DateTime<Utc>,
    escalate_after: Duration,
) -> bool {
    status == AlertStatus::Open && now - raised_at > escalate_after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_alert_escalates_only_after_the_clinics_time() {
        let raised = DateTime::UNIX_EPOCH;
        let hour = Duration::minutes(60);
        assert!(!is_escalated(
            AlertStatus::Open,
            raised,
            raised + hour,
            hour
        ));
        assert!(is_escalated(
            AlertStatus::Open,
            raised,
            raised + hour + Duration::seconds(1),
            hour
        ));
        assert!(!is_escalated(
            AlertStatus::Acknowledged,
            raised,
            raised + Duration::days(2),
            hour
        ));
    }
}
