//! Secrets that must be kept for a while but never in plain text: a pending message's patient
//! link token is sealed (XChaCha20-Poly1305, key derived from the audit key, which lives
//! outside the database) and opened only to show the message to staff or to send it.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use kap_domain::audit::AuditKey;

const VERSION: &str = "v1";

/// Seals and opens values bound to what they are (`context`, e.g. the outbox row's id), so a
/// sealed value copied to another row does not open there.
pub(crate) struct Sealer(XChaCha20Poly1305);

impl Sealer {
    pub(crate) fn new(key: &AuditKey) -> Sealer {
        Sealer(XChaCha20Poly1305::new(
            &key.derive("outbox link tokens").into(),
        ))
    }

    pub(crate) fn seal(&self, plain: &str, context: &str) -> String {
        let mut nonce = [0u8; 24];
        // As for every secret Kapstone makes: without the OS random source, refuse to go on.
        #[allow(clippy::expect_used)]
        getrandom::fill(&mut nonce).expect("operating system random source unavailable");
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: context.as_bytes(),
        };
        // Encryption with a valid key and nonce cannot fail for a message this size.
        let sealed = self
            .0
            .encrypt(&XNonce::from(nonce), payload)
            .unwrap_or_default();
        format!("{VERSION}:{}:{}", hex::encode(nonce), hex::encode(sealed))
    }

    /// The plain value, or `None` if the sealed text was altered, sealed for another context,
    /// or under another key.
    pub(crate) fn open(&self, sealed: &str, context: &str) -> Option<String> {
        let mut parts = sealed.split(':');
        let (Some(VERSION), Some(n), Some(c), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let nonce: [u8; 24] = hex::decode(n).ok()?.try_into().ok()?;
        let payload = Payload {
            msg: &hex::decode(c).ok()?,
            aad: context.as_bytes(),
        };
        let plain = self.0.decrypt(&XNonce::from(nonce), payload).ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_token_opens_only_with_its_key_and_context() {
        let s = Sealer::new(&AuditKey::from_bytes([1; 32]));
        let sealed = s.seal("abc123", "row-1");
        assert!(!sealed.contains("abc123"));
        assert_eq!(s.open(&sealed, "row-1").as_deref(), Some("abc123"));
        assert_eq!(s.open(&sealed, "row-2"), None);
        let other = Sealer::new(&AuditKey::from_bytes([2; 32]));
        assert_eq!(other.open(&sealed, "row-1"), None);
        assert_eq!(s.open("v1:00:00", "row-1"), None);
        assert_ne!(s.seal("abc123", "row-1"), sealed, "a fresh nonce each time");
    }
}
