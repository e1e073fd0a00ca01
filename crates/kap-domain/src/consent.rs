//! Informed consent (issue 9), the pure part: each clinic's consent documents per route, as
//! versions (a changed text is a new version; a signed version is never changed); what a
//! signature must hold — the patient's full name as typed, the date, a confirmation of having
//! read and understood — signed through a single-use link or in clinic before a witness; where a
//! patient stands for each route (not signed, signed the current version, signed an older one);
//! and the esketamine REMS patient enrolment (clinical.md §2.6: each patient is enrolled before
//! treatment), recorded as a dated history.

use crate::FieldErrors;
use crate::measure::LinkPage;
use crate::patient::fold;
use crate::screening::Route;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use uuid::Uuid;

crate::code::coded_enum! {
    /// How a consent was signed.
    pub enum ConsentMethod as "consent method" {
        Link = "link" / "Signed by the patient through a link",
        InClinic = "in_clinic" / "Signed in clinic before a witness",
    }
}

crate::code::coded_enum! {
    /// Where a patient's SPRAVATO REMS enrolment stands (clinical.md §2.6).
    pub enum RemsStatus as "REMS enrolment status" {
        Pending = "pending" / "Enrolment form sent, not yet confirmed",
        Enrolled = "enrolled" / "Enrolled",
        Ended = "ended" / "Enrolment ended",
    }
}

/// The longest title a consent document may have.
pub const TITLE_MAX: usize = 200;
/// The shortest and longest text a consent document may have, in characters.
pub const BODY_MIN: usize = 100;
pub const BODY_MAX: usize = 50_000;

/// One version of a clinic's consent document for a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentDocument {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub route: Route,
    pub version: i32,
    pub title: String,
    pub body: String,
    pub published_at: DateTime<Utc>,
    pub published_by_name: Option<String>,
}

impl ConsentDocument {
    /// The text as paragraphs (separated by blank lines), for showing as written.
    pub fn paragraphs(&self) -> Vec<&str> {
        self.body
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect()
    }
}

/// A new version of a consent document, as an administrator typed it.
#[derive(Debug, Clone, Copy)]
pub struct DocumentForm<'a> {
    pub route: &'a str,
    pub title: &'a str,
    pub body: &'a str,
}

/// A checked new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    pub route: Route,
    pub title: String,
    pub body: String,
}

impl DocumentForm<'_> {
    pub fn parse(&self) -> Result<NewDocument, FieldErrors> {
        let mut e = FieldErrors::new();
        let route = Route::from_code(self.route);
        if route.is_none() {
            e.add("route", "Choose the route this document is for.");
        }
        let title = self.title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() || title.chars().count() > TITLE_MAX {
            e.add(
                "title",
                format!("Give the document a title of 1 to {TITLE_MAX} characters."),
            );
        }
        // Line ends as typed in any browser; paragraphs are kept.
        let body = self.body.replace("\r\n", "\n").replace('\r', "\n");
        let body = body.trim().to_owned();
        let n = body.chars().count();
        if !(BODY_MIN..=BODY_MAX).contains(&n) {
            e.add(
                "body",
                format!(
                    "The text must be {BODY_MIN} to {BODY_MAX} characters long (it is {n}): \
                     the whole document the patient reads and signs."
                ),
            );
        }
        match route {
            Some(route) if e.is_empty() => Ok(NewDocument { route, title, body }),
            _ => Err(e),
        }
    }
}

/// A signed consent, as the chart shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub document_id: Uuid,
    pub route: Route,
    pub version: i32,
    pub title: String,
    pub typed_name: String,
    pub signed_on: NaiveDate,
    pub method: ConsentMethod,
    /// The network address the link was signed from.
    pub from_address: Option<String>,
    /// The staff member who witnessed an in-clinic signature.
    pub witness_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
    /// The patient withdrew this consent (the signature itself is never changed).
    pub withdrawn: Option<Withdrawal>,
}

/// A patient's withdrawal of a consent, as recorded by the care team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub withdrawn_on: NaiveDate,
    /// What the patient said, and how (in person, by phone, in writing).
    pub reason: String,
    pub recorded_by_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// A withdrawal as typed.
#[derive(Debug, Clone, Copy)]
pub struct WithdrawalForm<'a> {
    pub withdrawn_on: &'a str,
    pub reason: &'a str,
}

/// The longest withdrawal note kept.
pub const WITHDRAWAL_REASON_MAX: usize = 1000;

impl WithdrawalForm<'_> {
    /// Checks a withdrawal of a consent signed on `signed_on`, recorded on `today`: the date lies
    /// between the two, and the note says what the patient said.
    pub fn parse(
        &self,
        signed_on: NaiveDate,
        today: NaiveDate,
    ) -> Result<(NaiveDate, String), FieldErrors> {
        let mut e = FieldErrors::new();
        let on = match NaiveDate::parse_from_str(self.withdrawn_on.trim(), "%Y-%m-%d") {
            Ok(d) if d > today => {
                e.add("withdrawn_on", "The date cannot be in the future.");
                None
            }
            Ok(d) if d < signed_on => {
                e.add(
                    "withdrawn_on",
                    format!(
                        "The consent was signed on {}: a withdrawal cannot come before it.",
                        signed_on.format("%Y-%m-%d")
                    ),
                );
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                e.add("withdrawn_on", "Enter the date as year-month-day.");
                None
            }
        };
        let reason = self.reason.trim();
        if reason.is_empty() || reason.chars().count() > WITHDRAWAL_REASON_MAX {
            e.add(
                "reason",
                format!(
                    "Write what the patient said and how (1 to {WITHDRAWAL_REASON_MAX} characters)."
                ),
            );
        }
        match on {
            Some(on) if e.is_empty() => Ok((on, reason.to_owned())),
            _ => Err(e),
        }
    }
}

/// What the signer typed.
#[derive(Debug, Clone, Copy)]
pub struct SignatureForm<'a> {
    pub typed_name: &'a str,
    pub signed_on: &'a str,
    pub understood: bool,
}

/// A signature that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub typed_name: String,
    pub signed_on: NaiveDate,
}

/// Whether a typed name is the registered one: letters compared without case, accents,
/// punctuation or extra spaces ("José  María" signs as "jose maria").
pub fn same_name(typed: &str, registered: &str) -> bool {
    let norm = |s: &str| {
        fold(s)
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let t = norm(typed);
    !t.is_empty() && t == norm(registered)
}

impl SignatureForm<'_> {
    /// Checks a signature by the patient registered as `patient_name` on `today` (the clinic's
    /// date; a day either side is accepted for a patient in another time zone).
    pub fn check(&self, patient_name: &str, today: NaiveDate) -> Result<Signature, FieldErrors> {
        let mut e = FieldErrors::new();
        let typed_name = self
            .typed_name
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if typed_name.is_empty() {
            e.add("typed_name", "Type your full name to sign.");
        } else if !same_name(&typed_name, patient_name) {
            e.add(
                "typed_name",
                "This is not the name the clinic has for you. Type your full name as you gave \
                 it to the clinic; if it has changed, please call the clinic.",
            );
        }
        let signed_on = match NaiveDate::parse_from_str(self.signed_on.trim(), "%Y-%m-%d") {
            Ok(d) if (d - today).num_days().abs() <= 1 => Some(d),
            Ok(_) => {
                e.add(
                    "signed_on",
                    format!("Enter today's date ({}).", today.format("%Y-%m-%d")),
                );
                None
            }
            Err(_) => {
                e.add("signed_on", "Enter today's date, as year-month-day.");
                None
            }
        };
        if !self.understood {
            e.add(
                "understood",
                "Tick the box to confirm that you have read and understood the document.",
            );
        }
        match signed_on {
            Some(signed_on) if e.is_empty() => Ok(Signature {
                typed_name,
                signed_on,
            }),
            _ => Err(e),
        }
    }
}

/// Where a patient stands for one route's consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentState {
    /// The clinic has no consent document for the route.
    NoDocument,
    /// There is a document; the patient has not signed any version of it.
    NotSigned { current: i32 },
    /// The patient signed the current version.
    Current(Consent),
    /// The patient signed an earlier version; the current one is newer.
    Outdated { signed: Consent, current: i32 },
    /// The patient withdrew their latest consent for the route.
    Withdrawn(Consent),
}

impl ConsentState {
    /// The state for `route` given the clinic's current version for it and the patient's
    /// consents (any order).
    pub fn of(route: Route, current: Option<i32>, consents: &[Consent]) -> ConsentState {
        let Some(current) = current else {
            return ConsentState::NoDocument;
        };
        let latest = consents
            .iter()
            .filter(|c| c.route == route)
            .max_by_key(|c| (c.version, c.recorded_at));
        match latest {
            None => ConsentState::NotSigned { current },
            Some(c) if c.withdrawn.is_some() => ConsentState::Withdrawn(c.clone()),
            Some(c) if c.version >= current => ConsentState::Current(c.clone()),
            Some(c) => ConsentState::Outdated {
                signed: c.clone(),
                current,
            },
        }
    }

    /// Whether the patient has consented to the route's current document.
    pub fn consented(&self) -> bool {
        matches!(self, ConsentState::Current(_))
    }
}

/// A consent link: single-use and expiring, like a questionnaire link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentLink {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub document_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

impl ConsentLink {
    /// The page a patient opening this link at `at` sees: the document to sign, the signed
    /// confirmation (for the link's validity, after a reload too), or "cannot be used".
    pub fn page(&self, at: DateTime<Utc>) -> LinkPage {
        LinkPage::of(self.used_at, self.expires_at, at)
    }
}

/// One entry of a patient's REMS enrolment history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemsEnrolment {
    pub status: RemsStatus,
    pub on: NaiveDate,
    /// The enrolment's reference (the REMS patient identifier), if the clinic keeps it.
    pub reference: Option<String>,
    pub recorded_by_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// A REMS enrolment entry as typed.
#[derive(Debug, Clone, Copy)]
pub struct RemsForm<'a> {
    pub status: &'a str,
    pub on: &'a str,
    pub reference: &'a str,
}

/// A checked REMS entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRems {
    pub status: RemsStatus,
    pub on: NaiveDate,
    pub reference: Option<String>,
}

/// The longest REMS reference kept.
pub const REMS_REFERENCE_MAX: usize = 60;

impl RemsForm<'_> {
    /// Checks an entry on `today` (the clinic's date): the date is not in the future.
    pub fn parse(&self, today: NaiveDate) -> Result<NewRems, FieldErrors> {
        let mut e = FieldErrors::new();
        let status = RemsStatus::from_code(self.status);
        if status.is_none() {
            e.add("status", "Choose the enrolment's status.");
        }
        let on = match NaiveDate::parse_from_str(self.on.trim(), "%Y-%m-%d") {
            Ok(d) if d > today => {
                e.add("on", "The date cannot be in the future.");
                None
            }
            Ok(d) if d.year() < 2000 => {
                e.add("on", "Check the year: enter the date as year-month-day.");
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                e.add("on", "Enter the date as year-month-day.");
                None
            }
        };
        let reference = self.reference.trim();
        if reference.chars().count() > REMS_REFERENCE_MAX {
            e.add(
                "reference",
                format!("Keep the reference to {REMS_REFERENCE_MAX} characters."),
            );
        }
        match (status, on) {
            (Some(status), Some(on)) if e.is_empty() => Ok(NewRems {
                status,
                on,
                reference: (!reference.is_empty()).then(|| reference.to_owned()),
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn consent(route: Route, version: i32, minute: u32) -> Consent {
        Consent {
            id: Uuid::nil(),
            patient_id: Uuid::nil(),
            document_id: Uuid::nil(),
            route,
            version,
            title: "Consent".into(),
            typed_name: "Ana Ruiz".into(),
            signed_on: day("2026-11-27"),
            method: ConsentMethod::Link,
            from_address: None,
            witness_name: None,
            recorded_at: Utc.with_ymd_and_hms(2026, 11, 27, 10, minute, 0).unwrap(),
            withdrawn: None,
        }
    }

    const TEXT: &str = "Ketamine-assisted psychotherapy: what it involves, its risks and \
                        benefits, the alternatives, and your right to stop at any time.";

    #[test]
    fn a_document_needs_a_route_a_title_and_the_whole_text() {
        let ok = DocumentForm {
            route: "iv",
            title: "  IV  ketamine consent ",
            body: &format!("{TEXT}\r\n\r\nSecond paragraph."),
        }
        .parse()
        .unwrap();
        assert_eq!(ok.route, Route::Iv);
        assert_eq!(ok.title, "IV ketamine consent");
        assert_eq!(ok.body, format!("{TEXT}\n\nSecond paragraph."));
        let e = DocumentForm {
            route: "oral",
            title: "",
            body: "Too short.",
        }
        .parse()
        .unwrap_err();
        assert!(e.get("route").is_some());
        assert!(e.get("title").is_some());
        assert!(e.get("body").unwrap().contains("it is 10"));
    }

    #[test]
    fn paragraphs_split_on_blank_lines() {
        let d = ConsentDocument {
            id: Uuid::nil(),
            clinic_id: Uuid::nil(),
            route: Route::Iv,
            version: 1,
            title: "t".into(),
            body: "One\nline two\n\n\n  Two  \n\nThree".into(),
            published_at: Utc::now(),
            published_by_name: None,
        };
        assert_eq!(d.paragraphs(), vec!["One\nline two", "Two", "Three"]);
    }

    #[test]
    fn names_match_without_case_accents_or_punctuation() {
        assert!(same_name("jose  maria o'neil", "José María O’Neil"));
        assert!(same_name("Ana Ruiz", "ANA RUIZ"));
        assert!(!same_name("Ana", "Ana Ruiz"));
        assert!(!same_name("", ""));
        assert!(!same_name("...", "..."));
    }

    #[test]
    fn a_signature_needs_the_name_the_date_and_the_box() {
        let today = day("2026-11-27");
        let ok = SignatureForm {
            typed_name: " ana   ruiz ",
            signed_on: "2026-11-26",
            understood: true,
        }
        .check("Ana Ruiz", today)
        .unwrap();
        assert_eq!(ok.typed_name, "ana ruiz");
        assert_eq!(ok.signed_on, day("2026-11-26"));

        let e = SignatureForm {
            typed_name: "Someone Else",
            signed_on: "2026-11-20",
            understood: false,
        }
        .check("Ana Ruiz", today)
        .unwrap_err();
        assert!(e.get("typed_name").unwrap().contains("not the name"));
        assert_eq!(e.get("signed_on"), Some("Enter today's date (2026-11-27)."));
        assert!(e.get("understood").is_some());

        let e = SignatureForm {
            typed_name: "",
            signed_on: "27/11/2026",
            understood: true,
        }
        .check("Ana Ruiz", today)
        .unwrap_err();
        assert_eq!(e.get("typed_name"), Some("Type your full name to sign."));
        assert!(e.get("signed_on").unwrap().contains("year-month-day"));
        // Impossible dates are refused, not wrapped.
        let e = SignatureForm {
            typed_name: "Ana Ruiz",
            signed_on: "2026-02-30",
            understood: true,
        }
        .check("Ana Ruiz", today)
        .unwrap_err();
        assert!(e.get("signed_on").is_some());
    }

    #[test]
    fn state_follows_the_latest_signed_version() {
        assert_eq!(
            ConsentState::of(Route::Iv, None, &[]),
            ConsentState::NoDocument
        );
        assert_eq!(
            ConsentState::of(Route::Iv, Some(2), &[consent(Route::Im, 2, 0)]),
            ConsentState::NotSigned { current: 2 }
        );
        let s = ConsentState::of(
            Route::Iv,
            Some(2),
            &[consent(Route::Iv, 2, 1), consent(Route::Iv, 1, 2)],
        );
        assert!(s.consented());
        let s = ConsentState::of(Route::Iv, Some(3), &[consent(Route::Iv, 2, 1)]);
        assert!(matches!(s, ConsentState::Outdated { current: 3, .. }));
        assert!(!s.consented());
    }

    #[test]
    fn a_withdrawn_consent_no_longer_counts_until_signed_again() {
        let mut c = consent(Route::Iv, 2, 1);
        c.withdrawn = Some(Withdrawal {
            withdrawn_on: day("2026-11-27"),
            reason: "Told the nurse by phone".into(),
            recorded_by_name: None,
            recorded_at: Utc::now(),
        });
        let s = ConsentState::of(Route::Iv, Some(2), std::slice::from_ref(&c));
        assert!(matches!(s, ConsentState::Withdrawn(_)));
        assert!(!s.consented());
        // Signed again later: consented.
        let again = consent(Route::Iv, 2, 30);
        assert!(ConsentState::of(Route::Iv, Some(2), &[c, again]).consented());
    }

    #[test]
    fn a_withdrawal_needs_a_date_after_signing_and_a_note() {
        let signed = day("2026-11-20");
        let today = day("2026-11-27");
        let ok = WithdrawalForm {
            withdrawn_on: "2026-11-26",
            reason: " Phoned: does not want to go on. ",
        }
        .parse(signed, today)
        .unwrap();
        assert_eq!(
            ok,
            (
                day("2026-11-26"),
                "Phoned: does not want to go on.".to_owned()
            )
        );
        let e = WithdrawalForm {
            withdrawn_on: "2026-11-19",
            reason: "",
        }
        .parse(signed, today)
        .unwrap_err();
        assert!(
            e.get("withdrawn_on")
                .unwrap()
                .contains("signed on 2026-11-20")
        );
        assert!(e.get("reason").is_some());
        assert!(
            WithdrawalForm {
                withdrawn_on: "2026-11-28",
                reason: "x"
            }
            .parse(signed, today)
            .is_err()
        );
    }

    #[test]
    fn rems_entries_need_a_status_and_a_past_date() {
        let today = day("2026-11-27");
        let ok = RemsForm {
            status: "enrolled",
            on: "2026-11-20",
            reference: " R-123 ",
        }
        .parse(today)
        .unwrap();
        assert_eq!(ok.status, RemsStatus::Enrolled);
        assert_eq!(ok.reference.as_deref(), Some("R-123"));
        let e = RemsForm {
            status: "maybe",
            on: "2026-11-28",
            reference: &"x".repeat(61),
        }
        .parse(today)
        .unwrap_err();
        assert!(e.get("status").is_some());
        assert_eq!(e.get("on"), Some("The date cannot be in the future."));
        assert!(e.get("reference").is_some());
        assert!(
            RemsForm {
                status: "pending",
                on: "1926-11-27",
                reference: ""
            }
            .parse(today)
            .is_err()
        );
    }

    #[test]
    fn a_link_is_signed_once_and_gone_when_expired() {
        let t = Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap();
        let mut l = ConsentLink {
            id: Uuid::nil(),
            clinic_id: Uuid::nil(),
            patient_id: Uuid::nil(),
            document_id: Uuid::nil(),
            created_at: t,
            expires_at: t + chrono::Duration::hours(72),
            used_at: None,
        };
        assert_eq!(l.page(t), LinkPage::Form);
        l.used_at = Some(t);
        assert_eq!(l.page(t), LinkPage::Done);
        assert_eq!(l.page(t + chrono::Duration::hours(72)), LinkPage::Gone);
    }

    proptest! {
        /// A signature of the current version counts; a document version newer than every
        /// signature never does.
        #[test]
        fn consent_is_current_only_for_the_current_version(
            signed in proptest::collection::vec(1i32..5, 0..6),
            current in 1i32..6,
        ) {
            let cs: Vec<Consent> = signed
                .iter()
                .enumerate()
                .map(|(i, v)| consent(Route::Sublingual, *v, i as u32))
                .collect();
            let s = ConsentState::of(Route::Sublingual, Some(current), &cs);
            prop_assert_eq!(s.consented(), signed.iter().any(|v| *v >= current));
        }

        /// Whatever a signer types, a name that is not the registered one is never accepted.
        #[test]
        fn another_name_never_signs(name in "[A-Za-z ]{0,20}") {
            let r = SignatureForm { typed_name: &name, signed_on: "2026-11-27", understood: true }
                .check("Ana Ruiz", day("2026-11-27"));
            prop_assert_eq!(r.is_ok(), same_name(&name, "Ana Ruiz"));
        }
    }
}
