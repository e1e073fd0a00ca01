//! The outbox: messages to patients, emailed when a mail server is configured, otherwise copied
//! and sent by staff.

use chrono::{DateTime, Utc};
use uuid::Uuid;

crate::code::coded_enum! {
    /// Where a message stands.
    pub enum OutboxStatus as "message status" {
        /// Waiting to be emailed.
        Pending = "pending" / "to be emailed",
        /// For staff to copy and send themselves (no email configured, or no address).
        Manual = "manual" / "to send by hand",
        Sent = "sent" / "sent",
        /// Gave up after repeated delivery failures; left for a person.
        Failed = "failed" / "failed",
        /// Its link was used or replaced before it went out; not sent.
        Superseded = "superseded" / "no longer needed",
    }
}

/// After this many failed deliveries a message is left for a person.
pub const MAX_DELIVERY_ATTEMPTS: i32 = 5;

/// How a new message is to be delivered: by email when email is configured and the patient
/// has an address, otherwise by staff.
pub fn delivery(email_enabled: bool, has_address: bool) -> OutboxStatus {
    if email_enabled && has_address {
        OutboxStatus::Pending
    } else {
        OutboxStatus::Manual
    }
}

/// A message as the outbox lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub patient_id: Option<Uuid>,
    pub patient_name: Option<String>,
    pub to_address: Option<String>,
    pub subject: String,
    pub body: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Takes the patient-link tokens (`/p/` and 48 hex digits) out of a message written before
/// tokens were kept sealed: the text with each token replaced by `slot`, and the tokens found.
pub fn take_link_tokens(body: &str, slot: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(body.len());
    let mut tokens = vec![];
    let mut rest = body;
    while let Some(i) = rest.find("/p/") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let token_len = tail.chars().take_while(char::is_ascii_hexdigit).count();
        if token_len == 48 {
            out.push_str(slot);
            tokens.push(tail[..48].to_owned());
            rest = &tail[48..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    (out, tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tokens_are_taken_out_and_other_text_kept() {
        let t = "a".repeat(48);
        let body = format!("Open https://kap.example/p/{t}\nThanks /p/short");
        let (r, tokens) = take_link_tokens(&body, "[removed]");
        assert!(!r.contains(&t));
        assert_eq!(tokens, vec![t]);
        assert!(r.contains("https://kap.example/p/[removed]"));
        assert!(r.ends_with("Thanks /p/short"));
        assert_eq!(
            take_link_tokens("no links", "x"),
            ("no links".into(), vec![])
        );
    }

    #[test]
    fn email_only_when_configured_and_addressed() {
        assert_eq!(delivery(true, true), OutboxStatus::Pending);
        assert_eq!(delivery(true, false), OutboxStatus::Manual);
        assert_eq!(delivery(false, true), OutboxStatus::Manual);
    }
}
