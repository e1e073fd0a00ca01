//! The minimum-strength rule for staff passwords.
//!
//! Follows NIST SP 800-63B-4 §3.1.1.2: a password that is the only factor must be at least 15
//! characters; composition rules are not imposed; known-bad and context-specific values are
//! refused; at least 64 characters are allowed.

const MIN_CHARS: usize = 15;
const MAX_CHARS: usize = 128;

/// Passwords that appear at the top of every breach list, plus the product's own name.
const BLOCKED: &[&str] = &[
    "123456789012345",
    "password",
    "passwordpassword",
    "qwertyuiopasdfgh",
    "iloveyou",
    "kapstone",
    "ketamine",
    "letmein",
    "welcome",
    "changeme",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("Use at least 15 characters; a few unrelated words work well.")]
    TooShort,
    #[error("Use at most 128 characters.")]
    TooLong,
    #[error("This password is too easy to guess; choose something less common.")]
    Common,
    #[error("Do not use your email address in your password.")]
    ContainsEmail,
}

/// Checks a new password for the account whose login email is `email`.
pub fn check_strength(password: &str, email: &str) -> Result<(), WeakPassword> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(WeakPassword::TooShort);
    }
    if n > MAX_CHARS {
        return Err(WeakPassword::TooLong);
    }
    let lower = password.to_lowercase();
    let distinct: std::collections::HashSet<char> = lower.chars().collect();
    if distinct.len() < 5 {
        return Err(WeakPassword::Common);
    }
    let squashed: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    if BLOCKED
        .iter()
        .any(|b| squashed == *b || (squashed.starts_with(b) && squashed.len() < b.len() + 6))
    {
        return Err(WeakPassword::Common);
    }
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if local.len() >= 4 && lower.contains(&local) {
        return Err(WeakPassword::ContainsEmail);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrases_pass() {
        assert_eq!(
            check_strength("correct horse battery staple", "ada@clinic.org"),
            Ok(())
        );
    }

    #[test]
    fn short_common_and_personal_passwords_fail() {
        assert_eq!(
            check_strength("short", "a@b.org"),
            Err(WeakPassword::TooShort)
        );
        assert_eq!(
            check_strength("aaaaaaaaaaaaaaaaaa", "a@b.org"),
            Err(WeakPassword::Common)
        );
        assert_eq!(
            check_strength("Password-Password!", "a@b.org"),
            Err(WeakPassword::Common)
        );
        assert_eq!(
            check_strength("ada.lovelace-rocks-123", "ada.lovelace@clinic.org"),
            Err(WeakPassword::ContainsEmail)
        );
        assert_eq!(
            check_strength(&"x1y2z3".repeat(30), "a@b.org"),
            Err(WeakPassword::TooLong)
        );
    }
}
