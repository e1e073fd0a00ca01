//! What Kapstone says to patients in messages: the wording lives here, in one place, so that
//! every channel (email, a copy sent by hand) says the same thing.

use crate::instruments::Instrument;
use chrono::{DateTime, Utc};

/// Where a patient link's token goes in a stored message. The token itself is kept sealed
/// beside the message and put in only when the message is shown to staff or sent; a message
/// whose link is spent or sent shows [`LINK_REMOVED`] instead.
pub const TOKEN_SLOT: &str = "{link-token}";

/// What a message says where its link was, once the link is spent or the message sent.
pub const LINK_REMOVED: &str = "[link used or sent; removed]";

/// A stored message's text with its link filled in (or marked removed).
pub fn fill_link(body: &str, token: Option<&str>) -> String {
    body.replace(TOKEN_SLOT, token.unwrap_or(LINK_REMOVED))
}

/// A message to a patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientMessage {
    pub subject: String,
    pub body: String,
}

/// The message that carries a questionnaire link.
pub fn questionnaire_link(clinic_name: &str, ins: &Instrument, url: &str) -> PatientMessage {
    PatientMessage {
        subject: format!("{clinic_name}: a short questionnaire for you"),
        body: format!(
            "Hello,\n\nYour care team at {clinic_name} asks you to fill in a short questionnaire ({}). It takes a few minutes:\n\n{url}\n\nThe link works once and expires after a few days. If you did not expect this message, please call the clinic.\n",
            ins.name
        ),
    }
}

/// The one reminder for a link still unanswered. The token is never stored, so the reminder
/// points to the original message rather than carrying the link again.
pub fn questionnaire_reminder(
    clinic_name: &str,
    ins: &Instrument,
    sent: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> PatientMessage {
    PatientMessage {
        subject: format!("Reminder from {clinic_name}: your questionnaire"),
        body: format!(
            "Hello,\n\nA reminder from {clinic_name}: the short questionnaire ({}) we sent you on {} is still waiting. Please use the link in that message before {}.\n\nIf you cannot find it, call the clinic and we will send a new one.\n",
            ins.name,
            sent.format("%Y-%m-%d"),
            expires.format("%Y-%m-%d %H:%M UTC"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_message_holds_a_slot_not_the_token() {
        let ins = crate::instruments::by_code("gad7").unwrap_or_else(|| unreachable!());
        let m = questionnaire_link(
            "Riverside",
            ins,
            &format!("https://k.example/p/{TOKEN_SLOT}"),
        );
        assert!(m.body.contains("/p/{link-token}"));
        assert!(fill_link(&m.body, Some("abc")).contains("https://k.example/p/abc"));
        assert!(fill_link(&m.body, None).contains("/p/[link used or sent; removed]"));
    }

    #[test]
    fn the_link_message_names_the_clinic_the_questionnaire_and_the_link() {
        let ins = crate::instruments::by_code("phq9").unwrap_or_else(|| unreachable!());
        let m = questionnaire_link("Riverside", ins, "https://kap.example/p/abc");
        assert_eq!(m.subject, "Riverside: a short questionnaire for you");
        assert!(m.body.contains("(PHQ-9)"));
        assert!(m.body.contains("https://kap.example/p/abc"));
        let r =
            questionnaire_reminder("Riverside", ins, DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH);
        assert!(r.body.contains("1970-01-01"));
        assert!(!r.body.contains("/p/"));
    }
}
