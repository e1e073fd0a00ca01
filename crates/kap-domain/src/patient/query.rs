//! What a staff member typed into the patient search box, understood as one kind of criterion.

use crate::person::PersonName;
use chrono::NaiveDate;

/// One kind of search criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientQuery {
    /// Everyone, by name.
    All,
    /// Names with a word starting with this (lower-case) text.
    Name(String),
    DateOfBirth(NaiveDate),
    Email(String),
    /// Phone numbers containing these digits.
    PhoneDigits(String),
}

impl PatientQuery {
    pub fn parse(s: &str) -> Self {
        let t = s.trim();
        if t.is_empty() {
            return Self::All;
        }
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Self::DateOfBirth(d);
        }
        if t.contains('@') {
            return Self::Email(t.to_lowercase());
        }
        let digits = crate::person::digits_of(t);
        if digits.len() >= 4
            && t.chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            return Self::PhoneDigits(digits);
        }
        Self::Name(
            t.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase(),
        )
    }
}

/// The sort and search key of a name: lower-case, single-spaced.
pub fn name_key(name: &PersonName) -> String {
    name.as_str().to_lowercase()
}

#[cfg(test)]
mod query_tests {
    use super::*;

    #[test]
    fn search_text_is_understood() {
        assert_eq!(PatientQuery::parse("  "), PatientQuery::All);
        assert_eq!(
            PatientQuery::parse("1984-03-02"),
            PatientQuery::DateOfBirth(NaiveDate::from_ymd_opt(1984, 3, 2).unwrap_or_default())
        );
        assert_eq!(
            PatientQuery::parse("Jo@Example.org"),
            PatientQuery::Email("jo@example.org".into())
        );
        assert_eq!(
            PatientQuery::parse("(555) 010"),
            PatientQuery::PhoneDigits("555010".into())
        );
        assert_eq!(
            PatientQuery::parse("Jordan  RIVERA"),
            PatientQuery::Name("jordan rivera".into())
        );
    }
}
