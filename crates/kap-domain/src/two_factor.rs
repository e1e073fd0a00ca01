//! Two-factor sign-in for staff: time-based one-time passwords (RFC 6238 as authenticator apps
//! implement it: HMAC-SHA-1, six digits, 30-second steps, one step of clock drift either way),
//! each time step accepted once, and single-use recovery codes kept only as hashes. Callers
//! bring the randomness and the time; the rules here are pure.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};

/// Bytes of a new secret: 160 bits, as RFC 4226 §4 recommends.
pub const SECRET_BYTES: usize = 20;
/// Recovery codes given at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Random bytes behind each recovery code (80 bits: 16 base-32 characters).
pub const RECOVERY_CODE_BYTES: usize = 10;

/// Why a key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a two-factor secret must have at least 128 bits")]
    TooShort,
    #[error("the two-factor secret could not be set up: {0}")]
    Unusable(String),
}

/// A staff member's TOTP secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpKey(Vec<u8>);

impl std::fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpKey(…)")
    }
}

impl TotpKey {
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, KeyError> {
        if bytes.len() < 16 {
            return Err(KeyError::TooShort);
        }
        Ok(TotpKey(bytes))
    }

    /// The key as authenticator apps take it typed in: base 32, no padding.
    pub fn base32(&self) -> String {
        Secret::from(self.0.as_slice()).to_base32()
    }

    /// Reads a key written by [`TotpKey::base32`].
    pub fn from_base32(s: &str) -> Result<Self, KeyError> {
        let secret =
            Secret::try_from_base32(s.trim()).map_err(|e| KeyError::Unusable(e.to_string()))?;
        Self::from_bytes(secret.as_bytes().to_vec())
    }

    /// The base-32 key in groups of four, for reading aloud or typing.
    pub fn grouped(&self) -> String {
        let b = self.base32();
        b.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn totp(&self, issuer: &str, account: &str) -> Result<Totp, KeyError> {
        // The otpauth label joins issuer and account with a colon; neither may hold one.
        let clean = |s: &str| s.replace(':', " ");
        Builder::new()
            .with_secret(self.0.clone())
            .with_issuer(Some(clean(issuer)))
            .with_account_name(clean(account))
            .build()
            .map_err(|e| KeyError::Unusable(e.to_string()))
    }

    /// The `otpauth://` URI an authenticator app reads from the QR code.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Result<String, KeyError> {
        self.totp(issuer, account)?
            .to_url()
            .map_err(|e| KeyError::Unusable(e.to_string()))
    }

    /// The code an authenticator shows at `at` (for tests and the demo).
    pub fn code_at(&self, at: DateTime<Utc>) -> Result<String, KeyError> {
        let t = self.totp("Kapstone", "code")?;
        Ok(t.generate(unix(at)).to_string())
    }

    /// The time step `code` is valid for at `at` (allowing one step of drift), unless that step
    /// is not after `last_used`: a code is accepted once (RFC 6238 §5.2).
    pub fn accepts(&self, code: &str, at: DateTime<Utc>, last_used: Option<i64>) -> Option<i64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let t = self.totp("Kapstone", "code").ok()?;
        let step = i64::try_from(t.check(&code, unix(at))?).ok()?;
        match last_used {
            Some(last) if step <= last => None,
            _ => Some(step),
        }
    }
}

fn unix(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp()).unwrap_or(0)
}

/// A recovery code as shown to its owner: 16 base-32 characters in groups of four.
pub fn recovery_code(random: &[u8; RECOVERY_CODE_BYTES]) -> String {
    let b = Secret::from(random.as_slice()).to_base32().to_lowercase();
    b.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// What is stored of a recovery code: the SHA-256 of its characters, however it was typed
/// (case, spaces and dashes do not matter). The code has 80 random bits, so a fast hash is
/// enough: there is nothing to guess from it.
pub fn recovery_hash(code: &str) -> String {
    let clean: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(Sha256::digest(clean.as_bytes()))
}

/// Whether what was typed looks like a recovery code rather than a six-digit code.
pub fn looks_like_recovery_code(s: &str) -> bool {
    s.chars().filter(char::is_ascii_alphanumeric).count() == 16
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    /// RFC 6238 Appendix B's SHA-1 key ("12345678901234567890").
    fn rfc_key() -> TotpKey {
        TotpKey::from_bytes(b"12345678901234567890".to_vec()).unwrap_or_else(|_| unreachable!())
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
    }

    #[test]
    fn codes_match_rfc_6238_test_vectors() {
        // Appendix B gives 8 digits; authenticators show the last six.
        for (t, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(rfc_key().code_at(at(t)).as_deref(), Ok(&eight[2..]));
        }
    }

    #[test]
    fn a_code_is_accepted_once_with_one_step_of_drift() {
        let k = rfc_key();
        let now = at(1_234_567_890);
        let code = k.code_at(now).unwrap_or_default();
        let step = k.accepts(&code, now, None);
        assert_eq!(step, Some(1_234_567_890 / 30));
        assert_eq!(k.accepts(&code, now, step), None, "never twice");
        assert!(k.accepts(&code, at(1_234_567_890 + 30), None).is_some());
        assert!(k.accepts(&code, at(1_234_567_890 + 90), None).is_none());
        assert!(k.accepts("12345", now, None).is_none());
        assert!(k.accepts("abcdef", now, None).is_none());
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(k.accepts(&spaced, now, None).is_some());
    }

    #[test]
    fn keys_round_trip_through_base32_and_short_ones_are_refused() {
        let k = TotpKey::from_bytes(vec![7; SECRET_BYTES]).unwrap_or_else(|_| unreachable!());
        assert_eq!(TotpKey::from_base32(&k.base32()), Ok(k.clone()));
        assert_eq!(k.grouped().split(' ').count(), 8);
        assert_eq!(
            TotpKey::from_bytes(vec![1; 10]).map(|_| ()),
            Err(KeyError::TooShort)
        );
        let uri = k
            .otpauth_uri("Harbor: Clinic", "nurse@example.org")
            .unwrap_or_default();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&format!("secret={}", k.base32())), "{uri}");
    }

    #[test]
    fn recovery_codes_hash_the_same_however_typed() {
        let code = recovery_code(&[0xAB; RECOVERY_CODE_BYTES]);
        assert_eq!(code.len(), 19);
        assert!(looks_like_recovery_code(&code));
        assert_eq!(
            recovery_hash(&code),
            recovery_hash(&code.to_uppercase().replace('-', " "))
        );
        assert_ne!(
            recovery_hash(&code),
            recovery_hash(&recovery_code(&[0xAC; 10]))
        );
        assert!(!looks_like_recovery_code("123456"));
    }
}
