//! Safety alerts: what a clinician must see and act on — a suicide-risk answer in a
//! questionnaire, a vital sign beyond the protocol's alert threshold or an adverse event in a
//! dosing session, a patient's check-in. Each alert names the record that raised it. An
//! alert is never deleted; it is acknowledged once, with a note of what was done, and an open
//! alert left longer than the clinic's escalation time is shown as escalated.

use crate::code::UnknownCode;
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

crate::code::coded_enum! {
    /// What an alert is about. The questionnaire kinds are the safety [`Flag`]s under the same
    /// codes (alerts stored before other kinds existed read back unchanged).
    pub enum AlertKind as "alert kind" {
        Phq9SelfHarm = "phq9_self_harm" / "PHQ-9 item 9 positive",
        AsqPositive = "asq_positive" / "ASQ positive",
        AsqAcutePositive = "asq_acute_positive" / "ASQ acute positive",
        Phq9Item9Unanswered = "phq9_item9_unanswered" / "PHQ-9 item 9 not answered",
        AsqUnanswered = "asq_unanswered" / "ASQ question not answered",
        /// A vital sign recorded in a dosing session beyond the protocol's alert threshold.
        VitalOutOfRange = "vital_out_of_range" / "Vital sign out of range",
        /// An adverse event recorded in a dosing session.
        AdverseEvent = "adverse_event" / "Adverse event",
        /// A side effect a patient reported in a check-in, which the clinic's check-in
        /// settings raise an alert for (the side effect is the alert's item).
        CheckinSideEffect = "checkin_side_effect" / "Side effect reported in a check-in",
        /// Words about self-harm or suicide in a check-in's free text (a word screen).
        CheckinWorryingWords = "checkin_worrying_words" / "Worrying words in a check-in",
        /// A check-in's mood at or below the clinic's threshold.
        CheckinLowMood = "checkin_low_mood" / "Low mood in a check-in",
        /// A check-in's mood down by the clinic's points since the previous one.
        CheckinMoodDrop = "checkin_mood_drop" / "Mood drop since the last check-in",
    }
}

impl From<Flag> for AlertKind {
    fn from(f: Flag) -> AlertKind {
        match f {
            Flag::Phq9SelfHarm => AlertKind::Phq9SelfHarm,
            Flag::AsqPositive => AlertKind::AsqPositive,
            Flag::AsqAcutePositive => AlertKind::AsqAcutePositive,
            Flag::Phq9Item9Unanswered => AlertKind::Phq9Item9Unanswered,
            Flag::AsqUnanswered => AlertKind::AsqUnanswered,
        }
    }
}

impl AlertKind {
    /// The questionnaire flag this kind is, if it is one.
    pub fn flag(self) -> Option<Flag> {
        match self {
            AlertKind::Phq9SelfHarm => Some(Flag::Phq9SelfHarm),
            AlertKind::AsqPositive => Some(Flag::AsqPositive),
            AlertKind::AsqAcutePositive => Some(Flag::AsqAcutePositive),
            AlertKind::Phq9Item9Unanswered => Some(Flag::Phq9Item9Unanswered),
            AlertKind::AsqUnanswered => Some(Flag::AsqUnanswered),
            AlertKind::VitalOutOfRange
            | AlertKind::AdverseEvent
            | AlertKind::CheckinSideEffect
            | AlertKind::CheckinWorryingWords
            | AlertKind::CheckinLowMood
            | AlertKind::CheckinMoodDrop => None,
        }
    }
}

/// The record that raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertSource {
    /// A questionnaire response.
    Response(Uuid),
    /// A vital signs entry of a dosing session.
    Vitals(Uuid),
    /// An adverse event of a dosing session.
    AdverseEvent(Uuid),
    /// A patient's check-in.
    Checkin(Uuid),
}

impl AlertSource {
    /// The stored kinds, in the order of the variants.
    pub const KINDS: [&'static str; 4] = ["response", "vitals", "adverse_event", "checkin"];

    /// The kind as stored (`source_kind`).
    pub fn kind_str(self) -> &'static str {
        match self {
            AlertSource::Response(_) => "response",
            AlertSource::Vitals(_) => "vitals",
            AlertSource::AdverseEvent(_) => "adverse_event",
            AlertSource::Checkin(_) => "checkin",
        }
    }

    /// The id of the record (`source_id`).
    pub fn id(self) -> Uuid {
        match self {
            AlertSource::Response(id)
            | AlertSource::Vitals(id)
            | AlertSource::AdverseEvent(id)
            | AlertSource::Checkin(id) => id,
        }
    }

    /// The source stored as `kind` and `id`.
    pub fn parse(kind: &str, id: Uuid) -> Result<AlertSource, UnknownCode> {
        match kind.trim() {
            "response" => Ok(AlertSource::Response(id)),
            "vitals" => Ok(AlertSource::Vitals(id)),
            "adverse_event" => Ok(AlertSource::AdverseEvent(id)),
            "checkin" => Ok(AlertSource::Checkin(id)),
            other => Err(UnknownCode {
                kind: "alert source",
                given: other.to_owned(),
                allowed: Self::KINDS.join(", "),
            }),
        }
    }

    /// The questionnaire response, when a response raised the alert.
    pub fn response_id(self) -> Option<Uuid> {
        match self {
            AlertSource::Response(id) => Some(id),
            _ => None,
        }
    }

    /// The check-in, when a check-in raised the alert.
    pub fn checkin_id(self) -> Option<Uuid> {
        match self {
            AlertSource::Checkin(id) => Some(id),
            _ => None,
        }
    }

    /// What the record is, for people: "a vital signs entry".
    pub fn label(self) -> &'static str {
        match self {
            AlertSource::Response(_) => "a questionnaire response",
            AlertSource::Vitals(_) => "a vital signs entry",
            AlertSource::AdverseEvent(_) => "an adverse event",
            AlertSource::Checkin(_) => "a check-in",
        }
    }
}

/// A safety alert as the clinic's list and the chart show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub kind: AlertKind,
    pub severity: Severity,
    /// The record that raised it.
    pub source: AlertSource,
    /// The dosing session the source belongs to, if any.
    pub session_id: Option<Uuid>,
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
    /// What raised the alert, in words. For a questionnaire flag, the answer given:
    /// "2 — More than half the days", or "not answered"; for any other kind, the alert's detail
    /// (what was recorded).
    pub fn answer_given(&self) -> String {
        let Some(flag) = self.kind.flag() else {
            return self.detail.clone();
        };
        let ins = crate::instruments::by_code(flag.instrument_code());
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

    /// The question a questionnaire flag is about: "question 9", or none (and none for other
    /// kinds, whose item is not a question).
    pub fn question(&self) -> Option<String> {
        self.kind.flag()?;
        self.item.as_ref().map(|i| format!("question {i}"))
    }

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

    fn alert(kind: AlertKind, source: AlertSource) -> Alert {
        Alert {
            id: Uuid::from_u128(1),
            patient_id: Uuid::from_u128(2),
            patient_name: "Ana Lima".into(),
            kind,
            severity: Severity::Urgent,
            source,
            session_id: None,
            item: None,
            answer: None,
            detail: "Systolic blood pressure 182 mmHg, above the protocol's 180.".into(),
            status: AlertStatus::Open,
            raised_at: DateTime::UNIX_EPOCH,
            acknowledged_at: None,
            acknowledged_by_name: None,
            action_note: None,
            patient_phone: None,
            emergency_name: None,
            emergency_phone: None,
        }
    }

    #[test]
    fn every_flag_is_an_alert_kind_under_the_same_code_so_stored_alerts_stay_readable() {
        for f in Flag::ALL {
            let k = AlertKind::from(f);
            assert_eq!(k.as_str(), f.as_str());
            assert_eq!(k.label(), f.label());
            assert_eq!(k.flag(), Some(f));
            assert_eq!(f.as_str().parse::<AlertKind>(), Ok(k));
        }
        assert_eq!(AlertKind::VitalOutOfRange.flag(), None);
        assert_eq!(AlertKind::AdverseEvent.flag(), None);
        assert_eq!(
            "vital_out_of_range".parse::<AlertKind>(),
            Ok(AlertKind::VitalOutOfRange)
        );
        assert_eq!(AlertKind::AdverseEvent.label(), "Adverse event");
        assert_eq!(AlertKind::ALL.len(), Flag::ALL.len() + 6);
        assert_eq!(AlertKind::CheckinSideEffect.flag(), None);
    }

    #[test]
    fn an_alert_source_round_trips_through_its_stored_kind_and_id() {
        let id = Uuid::from_u128(7);
        for s in [
            AlertSource::Response(id),
            AlertSource::Vitals(id),
            AlertSource::AdverseEvent(id),
            AlertSource::Checkin(id),
        ] {
            assert!(AlertSource::KINDS.contains(&s.kind_str()));
            assert_eq!(AlertSource::parse(s.kind_str(), s.id()), Ok(s));
        }
        assert_eq!(AlertSource::Response(id).response_id(), Some(id));
        assert_eq!(AlertSource::Vitals(id).response_id(), None);
        assert_eq!(AlertSource::Checkin(id).checkin_id(), Some(id));
        assert_eq!(AlertSource::Response(id).checkin_id(), None);
        let e = AlertSource::parse("lab_result", id)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "unknown alert source \"lab_result\": use one of response, vitals, adverse_event, checkin"
            )
        );
    }

    #[test]
    fn a_flag_alert_gives_the_answer_and_question_as_before() {
        let mut a = alert(
            AlertKind::Phq9SelfHarm,
            AlertSource::Response(Uuid::from_u128(3)),
        );
        a.item = Some("9".into());
        a.answer = Some(2);
        assert_eq!(a.question().as_deref(), Some("question 9"));
        assert_eq!(a.answer_given(), "2 — More than half the days");
        a.answer = None;
        assert_eq!(a.answer_given(), "not answered");
    }

    #[test]
    fn a_vitals_alert_gives_what_was_recorded_and_asks_no_question() {
        let mut a = alert(
            AlertKind::VitalOutOfRange,
            AlertSource::Vitals(Uuid::from_u128(4)),
        );
        a.item = Some("systolic".into());
        a.answer = Some(182);
        assert_eq!(a.question(), None);
        assert_eq!(a.answer_given(), a.detail);
        // Escalation does not depend on what raised the alert.
        assert!(a.escalated(
            DateTime::UNIX_EPOCH + Duration::minutes(61),
            Duration::minutes(60)
        ));
    }
}
