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
    /// The item that raised it, and the answer given there (none: left unanswered).
    pub item: Option<String>,
    pub answer: Option<i32>,
    pub detail: String,
    pub status: AlertStatus,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by_name: Option<String>,
    pub action_note: Option<String>,
    /// How to reach the patient and their emergency contact, for the clinician acting on it.
    pub patient_phone: Option<String>,
    pub emergency_name: Option<String>,
    pub emergency_phone: Option<String>,
}

impl Alert {
    /// The answer that raised the alert, in words: "2 — More than half the days", or
    /// "not answered".
    pub fn answer_given(&self) -> String {
        let ins = crate::instruments::by_code(self.kind.instrument_code());
        let item = self
            .item
            .as_deref()
            .and_then(|id| ins.and_then(|i| i.item(id)));
        match (self.answer, item) {
            (None, _) => "not answered".to_owned(),
            (Some(v), Some(item)) => match item.options.iter().find(|o| o.value == v) {
                Some(o) => format!("{v} — {}", o.label),
                None => v.to_string(),
            },
            (Some(v), None) => v.to_string(),
        }
    }

    /// The question it is about: "question 9", or none.
    /// The `tel:` targets of the patient's and the emergency contact's phones.
    pub fn patient_tel(&self) -> String {
        self.patient_phone
            .as_deref()
            .map(crate::person::tel_target)
            .unwrap_or_default()
    }

    pub fn emergency_tel(&self) -> String {
        self.emergency_phone
            .as_deref()
            .map(crate::person::tel_target)
            .unwrap_or_default()
    }

    pub fn question(&self) -> Option<String> {
        self.item.as_ref().map(|i| format!("question {i}"))
    }
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
