//! Finding patients as people look for them: what a search box's text means, the folded text a
//! patient is found by ("zoe" finds "Zoë", "nguyen" finds "Nguyễn"), and when a new patient
//! looks like someone already registered.

use super::{PatientDetails, PatientSummary};
use crate::person::{PersonName, digits_of};
use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// At most this many words are matched separately; further words are matched, in order, as
/// part of the last one (a search box, not a query language).
pub const MAX_WORDS: usize = 8;

/// One kind of search criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientQuery {
    /// Everyone, by name.
    All,
    /// Every word (folded) appears somewhere in the patient's name or email, in any order.
    Words(Vec<String>),
    DateOfBirth(NaiveDate),
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
        let digits = digits_of(t);
        if digits.len() >= 4
            && t.chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            return Self::PhoneDigits(digits);
        }
        let folded = fold(t);
        let mut words: Vec<String> = folded.split(' ').map(str::to_owned).collect();
        if words.len() > MAX_WORDS {
            let rest = words.split_off(MAX_WORDS - 1).join(" ");
            words.push(rest);
        }
        if words.iter().all(String::is_empty) {
            return Self::All;
        }
        Self::Words(words)
    }

    /// What kind of search this is, for the audit trail (never the text searched for).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Words(_) => "name or email",
            Self::DateOfBirth(_) => "date of birth",
            Self::PhoneDigits(_) => "phone",
        }
    }
}

/// The sort key of a name: lower-case, single-spaced.
pub fn name_key(name: &PersonName) -> String {
    name.as_str().to_lowercase()
}

/// Text folded for matching: lower case, accents and other marks removed, letters that do not
/// decompose spelled the way people type them without the letter (ø → o, ß → ss, đ → d),
/// typographic apostrophes made plain, and runs of white space made one space.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
            'ø' | 'Ø' => out.push('o'),
            'ł' | 'Ł' => out.push('l'),
            'ħ' | 'Ħ' => out.push('h'),
            'ı' => out.push('i'),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ß' | 'ẞ' => out.push_str("ss"),
            'þ' | 'Þ' => out.push_str("th"),
            '\u{2018}' | '\u{2019}' | '\u{02BC}' | '`' => out.push('\''),
            c if c.is_whitespace() => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c => out.extend(c.to_lowercase()),
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The text a patient is found by: their folded name and email.
pub fn search_text(d: &PatientDetails) -> String {
    match &d.email {
        Some(e) => format!("{} {}", fold(d.full_name.as_str()), fold(e.as_str())),
        None => fold(d.full_name.as_str()),
    }
}

/// Why a registered patient may be the person about to be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameAs {
    NameAndDateOfBirth,
    Phone,
    Email,
}

impl SameAs {
    pub fn label(self) -> &'static str {
        match self {
            Self::NameAndDateOfBirth => "same name and date of birth",
            Self::Phone => "same phone number",
            Self::Email => "same email",
        }
    }
}

/// What a new patient's details share with a registered one: a name that folds to the same
/// text with the same date of birth, the same phone digits, or the same email. Empty when
/// they are plainly different people.
pub fn same_as(new: &PatientDetails, existing: &PatientSummary) -> Vec<SameAs> {
    let mut why = vec![];
    if new.date_of_birth == existing.date_of_birth
        && fold(new.full_name.as_str()) == fold(existing.full_name.as_str())
    {
        why.push(SameAs::NameAndDateOfBirth);
    }
    if let (Some(a), Some(b)) = (&new.phone, &existing.phone)
        && a.digits() == b.digits()
    {
        why.push(SameAs::Phone);
    }
    if let (Some(a), Some(b)) = (&new.email, &existing.email)
        && a == b
    {
        why.push(SameAs::Email);
    }
    why
}

#[cfg(test)]
mod query_tests {
    use super::*;
    use crate::patient::PatientForm;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn words(ws: &[&str]) -> PatientQuery {
        PatientQuery::Words(ws.iter().map(|w| (*w).to_owned()).collect())
    }

    #[test]
    fn search_text_is_understood() {
        assert_eq!(PatientQuery::parse("  "), PatientQuery::All);
        assert_eq!(
            PatientQuery::parse("1984-03-02"),
            PatientQuery::DateOfBirth(NaiveDate::from_ymd_opt(1984, 3, 2).unwrap_or_default())
        );
        assert_eq!(
            PatientQuery::parse("Jo@Example.org"),
            words(&["jo@example.org"])
        );
        assert_eq!(
            PatientQuery::parse("(555) 010"),
            PatientQuery::PhoneDigits("555010".into())
        );
        assert_eq!(
            PatientQuery::parse("Jordan  RIVERA"),
            words(&["jordan", "rivera"])
        );
        assert_eq!(PatientQuery::parse("Zoë"), words(&["zoe"]));
    }

    #[test]
    fn folding_matches_how_people_type_names() {
        assert_eq!(fold("Zoë"), "zoe");
        assert_eq!(fold("Nguyễn Văn An"), "nguyen van an");
        assert_eq!(fold("Đặng Thị Hoa"), "dang thi hoa");
        assert_eq!(fold("Søren Kierkegaard"), "soren kierkegaard");
        assert_eq!(fold("Łukasz Żak"), "lukasz zak");
        assert_eq!(fold("Æsa Straße"), "aesa strasse");
        assert_eq!(fold("José  María\tÁlvarez "), "jose maria alvarez");
        assert_eq!(fold("O’Brien"), "o'brien");
        assert_eq!(fold("ﬁona"), "fiona", "compatibility ligatures decompose");
    }

    #[test]
    fn many_words_are_kept_not_dropped() {
        let q = PatientQuery::parse("a b c d e f g h i j");
        let PatientQuery::Words(w) = q else {
            unreachable!()
        };
        assert_eq!(w.len(), MAX_WORDS);
        assert_eq!(w[MAX_WORDS - 1], "h i j");
    }

    fn details(name: &str, dob: &str, phone: &str, email: &str) -> PatientDetails {
        PatientForm {
            full_name: name.into(),
            date_of_birth: dob.into(),
            phone: phone.into(),
            email: email.into(),
            preferred_contact: "either".into(),
            ..Default::default()
        }
        .parse(NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default())
        .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn summary(d: &PatientDetails) -> PatientSummary {
        PatientSummary {
            id: Uuid::nil(),
            full_name: d.full_name.clone(),
            date_of_birth: d.date_of_birth,
            email: d.email.clone(),
            phone: d.phone.clone(),
        }
    }

    #[test]
    fn a_likely_duplicate_says_why() {
        let old = summary(&details(
            "Zoë Ng",
            "1990-01-02",
            "+1 (555) 010-2000",
            "zoe@example.org",
        ));
        let same_person = details("ZOE NG", "1990-01-02", "", "");
        assert_eq!(
            same_as(&same_person, &old),
            vec![SameAs::NameAndDateOfBirth]
        );
        let same_phone = details("Someone Else", "1970-05-05", "+1 555 010 2000", "");
        assert_eq!(same_as(&same_phone, &old), vec![SameAs::Phone]);
        let same_email = details("Other", "1970-05-05", "", "ZOE@example.org");
        assert_eq!(same_as(&same_email, &old), vec![SameAs::Email]);
        let other_birthday = details("Zoe Ng", "1990-01-03", "", "");
        assert!(same_as(&other_birthday, &old).is_empty());
    }

    proptest! {
        #[test]
        fn folding_is_idempotent_and_never_panics(s in "\\PC{0,60}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
        }

        #[test]
        fn every_word_searched_for_is_folded_text(s in "[\\p{L} ]{1,40}") {
            if let PatientQuery::Words(ws) = PatientQuery::parse(&s) {
                for w in ws {
                    prop_assert_eq!(fold(&w), w);
                }
            }
        }
    }
}
