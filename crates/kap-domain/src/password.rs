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

/// Checks a new password typed twice on a form (fields `new_password` and
/// `new_password_again`) for the account whose login email is `email`.
pub fn check_new(password: &str, again: &str, email: &str) -> Result<(), crate::FieldErrors> {
    let mut e = crate::FieldErrors::new();
    if let Err(w) = check_strength(password, email) {
        e.add("new_password", w.to_string());
    } else if password != again {
        e.add(
            "new_password_again",
            "The two new passwords are not the same.",
        );
    }
    if e.is_empty() { Ok(()) } else { Err(e) }
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
    fn a_new_password_is_strong_and_typed_the_same_twice() {
        let good = "correct horse battery staple";
        assert!(check_new(good, good, "ada@clinic.org").is_ok());
        let e = check_new(good, "correct horse battery stapler", "ada@clinic.org");
        assert!(e.is_err_and(|e| e.get("new_password_again").is_some()));
        let e = check_new("short", "short", "ada@clinic.org");
        assert!(e.is_err_and(|e| e.get("new_password").is_some()));
    }

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
