//! Facts about a person that forms collect — names, contact details, date of birth, body
//! measurements — each parsed once at the edge into a type that can only hold a valid value.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("This field is required.")]
    Required,
    #[error("{0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> ParseError {
    ParseError::Invalid(msg.into())
}

fn required(s: &str) -> Result<&str, ParseError> {
    let t = s.trim();
    if t.is_empty() {
        Err(ParseError::Required)
    } else {
        Ok(t)
    }
}

/// The Unicode direction overrides and isolates (U+202A–U+202E, U+2066–U+2069): invisible, and
/// able to make one name display as another ("Trojan Source").
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Free text with a length limit, no control characters other than line breaks, and no
/// invisible direction controls.
fn clean_text(s: &str, max: usize, multiline: bool) -> Result<String, ParseError> {
    let t = required(s)?;
    if t.chars().count() > max {
        return Err(invalid(format!("Please keep this under {max} characters.")));
    }
    if t.chars().any(is_bidi_control) {
        return Err(invalid(
            "This contains invisible text-direction characters, which can make it display as something else. Please type it again without them.",
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r' || c == '\t')))
    {
        return Err(invalid("This contains characters that cannot be stored."));
    }
    Ok(t.to_owned())
}

macro_rules! text_newtype {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);
        impl $name {
            pub fn as_str(&self) -> &str { &self.0 }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.0) }
        }
        impl From<$name> for String { fn from(v: $name) -> String { v.0 } }
        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, ParseError> { Self::parse(&s) }
        }
    };
}

text_newtype!(
    /// A person's name as they write it (one field: clinics meet names of every shape).
    PersonName
);
impl PersonName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let t = clean_text(s, 200, false)?;
        if !t.chars().any(char::is_alphabetic) {
            return Err(invalid("Please enter a name."));
        }
        Ok(Self(t.split_whitespace().collect::<Vec<_>>().join(" ")))
    }
}

text_newtype!(
    /// An email address, stored lower-case.
    Email
);
impl Email {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let t = required(s)?;
        let msg = "Please enter an email address like name@example.org.";
        if t.len() > 254 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(msg));
        }
        let (local, domain) = t.rsplit_once('@').ok_or_else(|| invalid(msg))?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid(msg));
        }
        Ok(Self(t.to_lowercase()))
    }
}

text_newtype!(
    /// A telephone number: kept as written (spaces, dashes, brackets), with 7 to 15 digits.
    Phone
);
impl Phone {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let t = required(s)?;
        let msg = "Please enter a phone number with 7 to 15 digits.";
        if !t
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            return Err(invalid(msg));
        }
        if t.chars().skip(1).any(|c| c == '+') {
            return Err(invalid(msg));
        }
        let digits = t.chars().filter(char::is_ascii_digit).count();
        if !(7..=15).contains(&digits) {
            return Err(invalid(msg));
        }
        Ok(Self(t.split_whitespace().collect::<Vec<_>>().join(" ")))
    }

    /// Only the digits, for searching and matching regardless of formatting.
    pub fn digits(&self) -> String {
        digits_of(&self.0)
    }

    /// The number as a `tel:` link's target: the digits, with the leading + of an
    /// international number kept (RFC 3966).
    pub fn tel(&self) -> String {
        tel_target(&self.0)
    }
}

/// A phone number as written, as a `tel:` link's target (see [`Phone::tel`]).
pub fn tel_target(s: &str) -> String {
    let digits = digits_of(s);
    if s.trim_start().starts_with('+') {
        format!("+{digits}")
    } else {
        digits
    }
}

/// The digits of a phone-like string, for matching numbers however they were typed.
pub fn digits_of(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

text_newtype!(
    /// A free-text message or note (up to 5,000 characters, line breaks kept).
    Message
);
impl Message {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Ok(Self(clean_text(s, 5000, true)?))
    }
}

text_newtype!(
    /// A short free-text field such as a relationship or an address line (up to 300 characters).
    ShortText
);
impl ShortText {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Ok(Self(clean_text(s, 300, false)?))
    }
}

/// Parses an optional field: blank means absent, anything else must parse.
pub fn optional<T>(
    s: &str,
    parse: impl Fn(&str) -> Result<T, ParseError>,
) -> Result<Option<T>, ParseError> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        parse(s).map(Some)
    }
}

/// A date of birth: a real calendar date, not in the future, not before 1900.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DateOfBirth(NaiveDate);

impl DateOfBirth {
    /// Parses `YYYY-MM-DD` (what a date input sends) relative to `today`.
    pub fn parse(s: &str, today: NaiveDate) -> Result<Self, ParseError> {
        let t = required(s)?;
        let d = NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map_err(|_| invalid("Please enter a date as YYYY-MM-DD."))?;
        Self::new(d, today)
    }

    pub fn new(d: NaiveDate, today: NaiveDate) -> Result<Self, ParseError> {
        if d > today {
            return Err(invalid("A date of birth cannot be in the future."));
        }
        if d < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN) {
            return Err(invalid("Please check the year of birth."));
        }
        Ok(Self(d))
    }

    /// A date of birth read back from storage: it was checked against the day it was entered.
    pub fn stored(d: NaiveDate) -> Result<Self, ParseError> {
        Self::new(d, d)
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// Age in whole years on `on`.
    pub fn age_on(self, on: NaiveDate) -> u32 {
        on.years_since(self.0).unwrap_or(0)
    }
}

impl fmt::Display for DateOfBirth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

crate::code::coded_enum! {
    /// Administrative sex, as FHIR's `AdministrativeGender` value set.
    pub enum Sex as "sex" {
        Female = "female" / "Female",
        Male = "male" / "Male",
        Other = "other" / "Other",
        Unknown = "unknown" / "Unknown",
    }
}

impl Sex {
    /// Parses a form's choice.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::from_code(required(s)?)
            .ok_or_else(|| invalid("Please choose one of the listed options."))
    }
}

crate::code::coded_enum! {
    /// How a person prefers to be reached.
    pub enum PreferredContact as "preferred contact" {
        Email = "email" / "Email",
        Phone = "phone" / "Phone",
        Either = "either" / "Email or phone",
    }
}

impl PreferredContact {
    /// Parses a form's choice.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::from_code(required(s)?)
            .ok_or_else(|| invalid("Please choose email, phone or either."))
    }
}

/// Parses a non-negative decimal with at most `scale` fraction digits into integer units of
/// 10^-scale, without going through floating point.
fn parse_fixed(s: &str, scale: u32) -> Option<i64> {
    let t = s.trim();
    // A decimal comma ("72,5") is how much of the world writes a decimal; thousands separators
    // are not accepted, so "1,5" can only mean one and a half.
    let (int, frac) = match t.split_once(['.', ',']) {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    if int.is_empty() || int.len() > 6 || frac.len() > scale as usize {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut v: i64 = int.parse().ok()?;
    let mut f_digits = frac.to_owned();
    while f_digits.len() < scale as usize {
        f_digits.push('0');
    }
    for _ in 0..scale {
        v *= 10;
    }
    if !f_digits.is_empty() {
        v += f_digits.parse::<i64>().ok()?;
    }
    Some(v)
}

fn format_fixed(v: i64, scale: u32) -> String {
    let div = 10_i64.pow(scale);
    let int = v / div;
    let frac = v % div;
    if frac == 0 {
        int.to_string()
    } else {
        let f = format!("{:0width$}", frac, width = scale as usize);
        format!("{int}.{}", f.trim_end_matches('0'))
    }
}

/// Body weight in grams (stored as an integer, never a float). Accepts kilograms with up to
/// three decimals, between 2 kg and 500 kg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Weight {
    grams: i32,
}

impl Weight {
    pub const MIN_GRAMS: i32 = 2_000;
    pub const MAX_GRAMS: i32 = 500_000;

    pub fn from_kg_text(s: &str) -> Result<Self, ParseError> {
        required(s)?;
        let g = parse_fixed(s, 3).ok_or_else(|| invalid("Please enter kilograms, e.g. 72.5."))?;
        Self::from_grams(i32::try_from(g).unwrap_or(i32::MAX))
    }

    pub fn from_grams(grams: i32) -> Result<Self, ParseError> {
        if !(Self::MIN_GRAMS..=Self::MAX_GRAMS).contains(&grams) {
            return Err(invalid("Weight must be between 2 and 500 kg."));
        }
        Ok(Self { grams })
    }

    pub fn grams(self) -> i32 {
        self.grams
    }

    pub fn kg_text(self) -> String {
        format_fixed(i64::from(self.grams), 3)
    }
}

/// Body height in millimetres. Accepts centimetres with up to one decimal, 30 cm to 260 cm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Height {
    mm: i32,
}

impl Height {
    pub const MIN_MM: i32 = 300;
    pub const MAX_MM: i32 = 2_600;

    pub fn from_cm_text(s: &str) -> Result<Self, ParseError> {
        required(s)?;
        let mm =
            parse_fixed(s, 1).ok_or_else(|| invalid("Please enter centimetres, e.g. 172.5."))?;
        Self::from_mm(i32::try_from(mm).unwrap_or(i32::MAX))
    }

    pub fn from_mm(mm: i32) -> Result<Self, ParseError> {
        if !(Self::MIN_MM..=Self::MAX_MM).contains(&mm) {
            return Err(invalid("Height must be between 30 and 260 cm."));
        }
        Ok(Self { mm })
    }

    pub fn mm(self) -> i32 {
        self.mm
    }

    pub fn cm_text(self) -> String {
        format_fixed(i64::from(self.mm), 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default()
    }

    #[test]
    fn names_are_trimmed_and_collapsed() {
        assert_eq!(
            PersonName::parse("  Jordan   Rivera ").map(|n| n.to_string()),
            Ok("Jordan Rivera".into())
        );
        assert_eq!(PersonName::parse("   "), Err(ParseError::Required));
        assert!(PersonName::parse("1234").is_err());
        assert!(PersonName::parse("bad\u{0}name").is_err());
    }

    #[test]
    fn direction_overrides_are_refused_in_names_and_text() {
        // "Alice" written with a right-to-left override so that it displays reversed.
        for bad in ["Ali\u{202E}ecila", "Bob\u{2066}x\u{2069}"] {
            assert!(PersonName::parse(bad).is_err(), "{bad:?}");
            assert!(Message::parse(bad).is_err(), "{bad:?}");
            assert!(ShortText::parse(bad).is_err(), "{bad:?}");
        }
        // Right-to-left scripts themselves are names like any other.
        assert!(PersonName::parse("نور الهدى").is_ok());
        assert!(PersonName::parse("יעל כהן").is_ok());
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            Email::parse(" Jo@Example.ORG ").map(String::from),
            Ok("jo@example.org".into())
        );
        for bad in [
            "jo",
            "jo@",
            "@x.org",
            "jo@x",
            "jo@.org",
            "jo@x..org",
            "j o@x.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_need_seven_to_fifteen_digits() {
        assert!(Phone::parse("+1 (555) 010-2030").is_ok());
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("555-CALL-NOW").is_err());
        assert!(Phone::parse("1+5550102030").is_err());
        assert_eq!(
            Phone::parse("+1 (555) 010-2030").map(|p| p.digits()),
            Ok("15550102030".into())
        );
    }

    #[test]
    fn date_of_birth_cannot_be_in_the_future() {
        assert!(DateOfBirth::parse("2026-11-28", today()).is_err());
        assert!(DateOfBirth::parse("2026-11-27", today()).is_ok());
        assert!(DateOfBirth::parse("1899-12-31", today()).is_err());
        assert!(DateOfBirth::parse("1980-02-30", today()).is_err());
        assert!(DateOfBirth::parse("27/11/1980", today()).is_err());
        let dob = DateOfBirth::parse("1980-11-28", today()).unwrap_or_else(|_| unreachable!());
        assert_eq!(dob.age_on(today()), 45);
    }

    #[test]
    fn weight_parses_without_floats() {
        assert_eq!(Weight::from_kg_text("72.5").map(Weight::grams), Ok(72_500));
        assert_eq!(
            Weight::from_kg_text("72.125").map(Weight::grams),
            Ok(72_125)
        );
        assert!(Weight::from_kg_text("72.1255").is_err());
        assert!(Weight::from_kg_text("-3").is_err());
        assert!(Weight::from_kg_text("1.9").is_err());
        assert!(Weight::from_kg_text("9999999").is_err());
        assert!(Weight::from_kg_text("abc").is_err());
        assert_eq!(Height::from_cm_text("172.5").map(Height::mm), Ok(1725));
        assert!(Height::from_cm_text("500").is_err());
    }

    #[test]
    fn tel_links_keep_the_international_plus() {
        let p = Phone::parse("+1 (555) 010-2000").unwrap_or_else(|_| unreachable!());
        assert_eq!(p.tel(), "+15550102000");
        let p = Phone::parse("020 7946 0000").unwrap_or_else(|_| unreachable!());
        assert_eq!(p.tel(), "02079460000");
    }

    #[test]
    fn a_decimal_comma_is_a_decimal_point() {
        assert_eq!(Weight::from_kg_text("72,5").map(Weight::grams), Ok(72_500));
        assert_eq!(Height::from_cm_text(" 172,5 ").map(Height::mm), Ok(1725));
        // Never a thousands separator, never two separators.
        assert!(Weight::from_kg_text("1,072.5").is_err());
        assert!(Weight::from_kg_text("72,5,0").is_err());
        assert!(Weight::from_kg_text("72.5.0").is_err());
    }

    proptest! {
        #[test]
        fn weight_text_round_trips(g in Weight::MIN_GRAMS..=Weight::MAX_GRAMS) {
            let w = Weight::from_grams(g).unwrap_or_else(|_| unreachable!());
            prop_assert_eq!(Weight::from_kg_text(&w.kg_text()), Ok(w));
        }

        #[test]
        fn comma_and_point_read_alike(g in Weight::MIN_GRAMS..=Weight::MAX_GRAMS) {
            let text = Weight::from_grams(g).unwrap_or_else(|_| unreachable!()).kg_text();
            prop_assert_eq!(
                Weight::from_kg_text(&text.replace('.', ",")),
                Weight::from_kg_text(&text)
            );
        }

        #[test]
        fn height_text_round_trips(mm in Height::MIN_MM..=Height::MAX_MM) {
            let h = Height::from_mm(mm).unwrap_or_else(|_| unreachable!());
            prop_assert_eq!(Height::from_cm_text(&h.cm_text()), Ok(h));
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = PersonName::parse(&s);
            let _ = Email::parse(&s);
            let _ = Phone::parse(&s);
            let _ = Weight::from_kg_text(&s);
            let _ = Height::from_cm_text(&s);
            let _ = DateOfBirth::parse(&s, today());
        }

        #[test]
        fn parsed_email_is_stable(local in "[a-z0-9._]{1,20}", dom in "[a-z0-9]{1,10}\\.[a-z]{2,6}") {
            let e = Email::parse(&format!("{local}@{dom}")).unwrap_or_else(|_| unreachable!());
            prop_assert_eq!(Email::parse(e.as_str()), Ok(e.clone()));
        }
    }
}
