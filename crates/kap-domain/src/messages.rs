//! What Kapstone says to patients in messages: the wording lives here, in one place, so that
//! every channel (email, a copy sent by hand) says the same thing.

use crate::instruments::Instrument;
use crate::person::Phone;
use crate::time::TimeZone;
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

/// The clinic as a message names it: its name, and its phone number when it has one.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    pub clinic_name: &'a str,
    pub phone: Option<&'a Phone>,
}

impl Sender<'_> {
    /// "the clinic on +1 555 0100" or "the clinic".
    fn call(&self) -> String {
        match self.phone {
            Some(p) => format!("{} on {p}", self.clinic_name),
            None => self.clinic_name.to_owned(),
        }
    }
}

/// The message that carries a questionnaire link.
pub fn questionnaire_link(from: Sender<'_>, ins: &Instrument, url: &str) -> PatientMessage {
    let clinic_name = from.clinic_name;
    PatientMessage {
        subject: format!("{clinic_name}: a short questionnaire for you"),
        body: format!(
            "Hello,\n\nYour care team at {clinic_name} asks you to fill in a short questionnaire ({}). It takes a few minutes:\n\n{url}\n\nThe link works once and expires after a few days. If you did not expect this message, please call {}.\n",
            ins.title,
            from.call()
        ),
    }
}

/// A consent document to read and sign through a single-use link. The message names the
/// document (its title is the clinic's own) but nothing about the patient's care.
pub fn consent_link(from: Sender<'_>, title: &str, url: &str) -> PatientMessage {
    let clinic_name = from.clinic_name;
    PatientMessage {
        subject: format!("{clinic_name}: a consent form to read and sign"),
        body: format!(
            "Hello,\n\nYour care team at {clinic_name} asks you to read a consent form (\"{title}\") and, if you agree, sign it:\n\n{url}\n\nTake your time; you can call us with any question before signing. The link works once and expires after a few days. If you did not expect this message, please call {}.\n",
            from.call()
        ),
    }
}

/// A request to fill in one's own history before the screening visit, through a link.
pub fn history_link(from: Sender<'_>, url: &str) -> PatientMessage {
    let clinic_name = from.clinic_name;
    PatientMessage {
        subject: format!("{clinic_name}: your health history before your visit"),
        body: format!(
            "Hello,\n\nBefore your screening visit, your care team at {clinic_name} asks you to tell them about your health, your medicines and the treatments you have tried:\n\n{url}\n\nYour answers are saved as you go; send them when you are done. The link expires after a few days. If you did not expect this message, please call {}.\n",
            from.call()
        ),
    }
}

/// A check-in between sessions through a single-use link. The message says nothing of the
/// patient's care beyond that the clinic asks how they are, and that the check-in is read in
/// working hours — not a way to reach help in a crisis.
pub fn checkin_link(from: Sender<'_>, url: &str, valid_days: i32) -> PatientMessage {
    let clinic_name = from.clinic_name;
    PatientMessage {
        subject: format!("{clinic_name}: how have you been since your last session?"),
        body: format!(
            "Hello,\n\nYour care team at {clinic_name} would like to hear how you have been since your last session: your mood, your sleep, any side effects, and anything you want to tell them. It takes a few minutes:\n\n{url}\n\nThe link works once and expires after {valid_days} day{}. Your care team reads check-ins during working hours; if you need help urgently, call {} or your local emergency number. If you did not expect this message, please call {}.\n",
            if valid_days == 1 { "" } else { "s" },
            from.call(),
            from.call()
        ),
    }
}

/// The one reminder for a link still unanswered. The token is never stored, so the reminder
/// points to the original message rather than carrying the link again.
pub fn questionnaire_reminder(
    from: Sender<'_>,
    ins: &Instrument,
    sent: DateTime<Utc>,
    expires: DateTime<Utc>,
    tz: TimeZone,
) -> PatientMessage {
    let clinic_name = from.clinic_name;
    PatientMessage {
        subject: format!("Reminder from {clinic_name}: your questionnaire"),
        body: format!(
            "Hello,\n\nA reminder from {clinic_name}: the short questionnaire ({}) we sent you on {} is still waiting. Please use the link in that message before {}.\n\nIf you cannot find it, call {} and we will send a new one.\n",
            ins.title,
            tz.date(&sent).format("%Y-%m-%d"),
            tz.format(&expires),
            from.call(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_message_holds_a_slot_not_the_token() {
        let ins = crate::instruments::by_code("gad7").unwrap_or_else(|| unreachable!());
        let from = Sender {
            clinic_name: "Riverside",
            phone: None,
        };
        let m = questionnaire_link(from, ins, &format!("https://k.example/p/{TOKEN_SLOT}"));
        assert!(m.body.contains("/p/{link-token}"));
        assert!(fill_link(&m.body, Some("abc")).contains("https://k.example/p/abc"));
        assert!(fill_link(&m.body, None).contains("/p/[link used or sent; removed]"));
        assert!(m.body.contains("please call Riverside."));
    }

    #[test]
    fn the_link_message_names_the_clinic_its_phone_the_questionnaire_and_the_link() {
        let ins = crate::instruments::by_code("phq9").unwrap_or_else(|| unreachable!());
        let phone = Phone::parse("+1 555 0100 4000").unwrap_or_else(|_| unreachable!());
        let from = Sender {
            clinic_name: "Riverside",
            phone: Some(&phone),
        };
        let m = questionnaire_link(from, ins, "https://kap.example/p/abc");
        assert_eq!(m.subject, "Riverside: a short questionnaire for you");
        assert!(m.body.contains("(Patient Health Questionnaire-9)"));
        assert!(m.body.contains("https://kap.example/p/abc"));
        assert!(m.body.contains("please call Riverside on +1 555 0100 4000"));
        let r = questionnaire_reminder(
            from,
            ins,
            DateTime::UNIX_EPOCH,
            DateTime::UNIX_EPOCH,
            TimeZone::UTC,
        );
        assert!(r.body.contains("1970-01-01"));
        assert!(r.body.contains("call Riverside on +1 555 0100 4000"));
        assert!(!r.body.contains("/p/"));
    }

    #[test]
    fn the_checkin_message_carries_the_link_and_says_it_is_not_for_emergencies() {
        let phone = Phone::parse("+1 555 0100 4000").unwrap_or_else(|_| unreachable!());
        let from = Sender {
            clinic_name: "Riverside",
            phone: Some(&phone),
        };
        let m = checkin_link(from, &format!("https://kap.example/k/{TOKEN_SLOT}"), 3);
        assert_eq!(
            m.subject,
            "Riverside: how have you been since your last session?"
        );
        assert!(m.body.contains("/k/{link-token}"));
        assert!(m.body.contains("expires after 3 days"));
        assert!(
            m.body
                .contains("call Riverside on +1 555 0100 4000 or your local emergency number")
        );
        assert!(checkin_link(from, "u", 1).body.contains("after 1 day."));
    }
}
