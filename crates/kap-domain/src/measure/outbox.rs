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

/// Replaces the token of every patient link (`/p/` and 48 hex digits) in a message with a
/// marker, so a message that has done its job holds no usable link.
pub fn redact_links(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find("/p/") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let token_len = tail.chars().take_while(char::is_ascii_hexdigit).count();
        if token_len == 48 {
            out.push_str("[link used or sent; removed]");
            rest = &tail[48..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tokens_are_removed_and_other_text_kept() {
        let t = "a".repeat(48);
        let body = format!("Open https://kap.example/p/{t}\nThanks /p/short");
        let r = redact_links(&body);
        assert!(!r.contains(&t));
        assert!(r.contains("https://kap.example/p/[link used or sent; removed]"));
        assert!(r.ends_with("Thanks /p/short"));
        assert_eq!(redact_links("no links"), "no links");
    }

    #[test]
    fn email_only_when_configured_and_addressed() {
        assert_eq!(delivery(true, true), OutboxStatus::Pending);
        assert_eq!(delivery(true, false), OutboxStatus::Manual);
        assert_eq!(delivery(false, true), OutboxStatus::Manual);
    }
}
