//! Inquiries: what a prospective patient sends through the public contact form, and the
//! coordinator's workflow over it (new → contacted → converted or closed).

use crate::fields::FieldErrors;
use crate::person::{Email, Message, PersonName, Phone, PreferredContact, optional};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

crate::code::coded_enum! {
    /// Where an inquiry stands in the coordinator's workflow.
    pub enum InquiryStatus as "inquiry status" {
        New = "new" / "New",
        Contacted = "contacted" / "Contacted",
        Converted = "converted" / "Converted",
        Closed = "closed" / "Closed",
    }
}

/// Why an inquiry's status may not be changed by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionRefused {
    /// A converted inquiry is final.
    #[error("this inquiry was converted into a patient; its status is final")]
    AlreadyConverted,
    /// "Converted" is reached only by converting, which registers the patient.
    #[error("use “convert to patient” to register this person")]
    ConvertInstead,
}

impl InquiryStatus {
    /// Whether a coordinator may move an inquiry from `self` to `to` by hand. "Converted" is
    /// reached only by converting (which creates the patient), and a converted inquiry is final.
    pub fn may_change_to(self, to: InquiryStatus) -> Result<(), TransitionRefused> {
        match (self, to) {
            (Self::Converted, _) => Err(TransitionRefused::AlreadyConverted),
            (_, Self::Converted) => Err(TransitionRefused::ConvertInstead),
            _ => Ok(()),
        }
    }
}

/// An inquiry as kept in the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inquiry {
    pub id: Uuid,
    pub name: PersonName,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub preferred_contact: PreferredContact,
    pub message: Message,
    pub status: InquiryStatus,
    /// The patient this inquiry was converted into.
    pub patient_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A coordinator's note on an inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InquiryNote {
    pub id: Uuid,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Which inquiries to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InquiryFilter {
    Any,
    Only(InquiryStatus),
    /// Still to be worked: new or contacted.
    Open,
}

impl From<Option<InquiryStatus>> for InquiryFilter {
    fn from(s: Option<InquiryStatus>) -> Self {
        s.map_or(InquiryFilter::Any, InquiryFilter::Only)
    }
}

/// The raw contact form as the browser sends it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub preferred_contact: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub consent: Option<String>,
}

/// A valid contact-form submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactSubmission {
    pub name: PersonName,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub preferred_contact: PreferredContact,
    pub message: Message,
}

impl ContactForm {
    /// Parses the form; every problem is reported against its field.
    pub fn parse(&self) -> Result<ContactSubmission, FieldErrors> {
        let mut errs = FieldErrors::new();
        let name = errs.check("name", PersonName::parse(&self.name));
        let email = errs.check("email", optional(&self.email, Email::parse));
        let phone = errs.check("phone", optional(&self.phone, Phone::parse));
        let preferred = errs.check(
            "preferred_contact",
            PreferredContact::parse(&self.preferred_contact),
        );
        let message = errs.check("message", Message::parse(&self.message));
        if self
            .consent
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .is_empty()
        {
            errs.add(
                "consent",
                "Please confirm that the clinic may contact you, so we can reply.",
            );
        }
        if let (Some(e), Some(p), Some(pref)) = (&email, &phone, preferred) {
            match (pref, e, p) {
                (_, None, None) => errs.add(
                    "email",
                    "Please give an email address or a phone number so we can reach you.",
                ),
                (PreferredContact::Email, None, _) => errs.add(
                    "email",
                    "You asked to be contacted by email: please give an email address.",
                ),
                (PreferredContact::Phone, _, None) => errs.add(
                    "phone",
                    "You asked to be contacted by phone: please give a phone number.",
                ),
                _ => {}
            }
        }
        match (name, email, phone, preferred, message) {
            (Some(name), Some(email), Some(phone), Some(preferred_contact), Some(message))
                if errs.is_empty() =>
            {
                Ok(ContactSubmission {
                    name,
                    email,
                    phone,
                    preferred_contact,
                    message,
                })
            }
            _ => Err(errs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ContactForm {
        ContactForm {
            name: "Jordan Rivera".into(),
            email: "jordan@example.org".into(),
            phone: "".into(),
            preferred_contact: "email".into(),
            message: "I would like to learn about KAP.".into(),
            consent: Some("yes".into()),
        }
    }

    #[test]
    fn a_complete_form_parses() {
        let s = form().parse();
        assert!(s.is_ok(), "{s:?}");
    }

    #[test]
    fn consent_is_required() {
        let mut f = form();
        f.consent = None;
        let e = f.parse().err().unwrap_or_default();
        assert!(e.get("consent").is_some());
    }

    #[test]
    fn some_way_to_reach_the_person_is_required() {
        let mut f = form();
        f.email = String::new();
        f.preferred_contact = "either".into();
        let e = f.parse().err().unwrap_or_default();
        assert!(e.get("email").is_some());
        let mut f = form();
        f.preferred_contact = "phone".into();
        let e = f.parse().err().unwrap_or_default();
        assert!(e.get("phone").is_some());
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let f = ContactForm::default();
        let e = f.parse().err().unwrap_or_default();
        for field in ["name", "preferred_contact", "message", "consent"] {
            assert!(e.get(field).is_some(), "{field}");
        }
    }

    #[test]
    fn converted_is_final_and_only_reached_by_converting() {
        use InquiryStatus::*;
        assert!(New.may_change_to(Contacted).is_ok());
        assert!(Contacted.may_change_to(Closed).is_ok());
        assert!(Closed.may_change_to(New).is_ok());
        assert!(New.may_change_to(Converted).is_err());
        assert!(Converted.may_change_to(Closed).is_err());
    }
}
