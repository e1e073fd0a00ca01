//! The patient registry: demographics, contacts and emergency contact, parsed from a form (or an
//! API body) into valid values; the stored record; weight and height with BMI; and what a search
//! box's text means.

mod query;
mod record;

pub use query::{MAX_WORDS, PatientQuery, SameAs, fold, name_key, same_as, search_text};
pub use record::{BodyMeasurementRecord, Patient, PatientSummary, bmi_series, bmi_tenths};

use crate::fields::FieldErrors;
use crate::person::{
    DateOfBirth, Email, Height, PersonName, Phone, PreferredContact, Sex, ShortText, Weight,
    optional,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What the patient form (or an API client) sends. Every field is text, as a browser sends it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(test, derive(PartialEq))]
pub struct PatientForm {
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub date_of_birth: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub preferred_contact: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub emergency_name: String,
    #[serde(default)]
    pub emergency_phone: String,
    #[serde(default)]
    pub emergency_relationship: String,
}

/// A patient's registry details, all valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatientDetails {
    pub full_name: PersonName,
    pub date_of_birth: DateOfBirth,
    pub sex: Sex,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub preferred_contact: PreferredContact,
    pub address: Option<ShortText>,
    pub emergency_contact: Option<EmergencyContact>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmergencyContact {
    pub name: PersonName,
    pub phone: Phone,
    pub relationship: Option<ShortText>,
}

impl PatientForm {
    pub fn parse(&self, today: NaiveDate) -> Result<PatientDetails, FieldErrors> {
        let mut errs = FieldErrors::new();
        let full_name = errs.check("full_name", PersonName::parse(&self.full_name));
        let dob = errs.check(
            "date_of_birth",
            DateOfBirth::parse(&self.date_of_birth, today),
        );
        let sex = if self.sex.trim().is_empty() {
            Some(Sex::Unknown)
        } else {
            errs.check("sex", Sex::parse(&self.sex))
        };
        let email = errs.check("email", optional(&self.email, Email::parse));
        let phone = errs.check("phone", optional(&self.phone, Phone::parse));
        let preferred = if self.preferred_contact.trim().is_empty() {
            Some(PreferredContact::Either)
        } else {
            errs.check(
                "preferred_contact",
                PreferredContact::parse(&self.preferred_contact),
            )
        };
        let address = errs.check("address", optional(&self.address, ShortText::parse));
        let em_name = errs.check(
            "emergency_name",
            optional(&self.emergency_name, PersonName::parse),
        );
        let em_phone = errs.check(
            "emergency_phone",
            optional(&self.emergency_phone, Phone::parse),
        );
        let em_rel = errs.check(
            "emergency_relationship",
            optional(&self.emergency_relationship, ShortText::parse),
        );
        let emergency_contact = match (em_name, em_phone, em_rel) {
            (Some(Some(name)), Some(Some(phone)), Some(relationship)) => {
                Some(Some(EmergencyContact {
                    name,
                    phone,
                    relationship,
                }))
            }
            (Some(None), Some(None), Some(None)) => Some(None),
            (Some(None), Some(_), Some(_)) => {
                errs.add(
                    "emergency_name",
                    "Please give the emergency contact's name.",
                );
                None
            }
            (Some(Some(_)), Some(None), Some(_)) => {
                errs.add(
                    "emergency_phone",
                    "Please give a phone number for the emergency contact.",
                );
                None
            }
            _ => None,
        };
        match (
            full_name,
            dob,
            sex,
            email,
            phone,
            preferred,
            address,
            emergency_contact,
        ) {
            (
                Some(full_name),
                Some(date_of_birth),
                Some(sex),
                Some(email),
                Some(phone),
                Some(preferred_contact),
                Some(address),
                Some(emergency_contact),
            ) if errs.is_empty() => Ok(PatientDetails {
                full_name,
                date_of_birth,
                sex,
                email,
                phone,
                preferred_contact,
                address,
                emergency_contact,
            }),
            _ => Err(errs),
        }
    }
}

impl PatientDetails {
    /// The form a stored record would be edited through.
    pub fn to_form(&self) -> PatientForm {
        let s = |o: &Option<_>| o.as_ref().map(ToString::to_string).unwrap_or_default();
        PatientForm {
            full_name: self.full_name.to_string(),
            date_of_birth: self.date_of_birth.to_string(),
            sex: self.sex.as_str().into(),
            email: self
                .email
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            phone: self
                .phone
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            preferred_contact: self.preferred_contact.as_str().into(),
            address: s(&self.address),
            emergency_name: self
                .emergency_contact
                .as_ref()
                .map(|e| e.name.to_string())
                .unwrap_or_default(),
            emergency_phone: self
                .emergency_contact
                .as_ref()
                .map(|e| e.phone.to_string())
                .unwrap_or_default(),
            emergency_relationship: self
                .emergency_contact
                .as_ref()
                .and_then(|e| e.relationship.as_ref().map(ToString::to_string))
                .unwrap_or_default(),
        }
    }
}

/// A weight and/or height measurement as entered.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct MeasurementForm {
    #[serde(default)]
    pub weight_kg: String,
    #[serde(default)]
    pub height_cm: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BodyMeasurement {
    pub weight: Option<Weight>,
    pub height: Option<Height>,
}

impl MeasurementForm {
    pub fn parse(&self) -> Result<BodyMeasurement, FieldErrors> {
        let mut errs = FieldErrors::new();
        let weight = errs.check("weight_kg", optional(&self.weight_kg, Weight::from_kg_text));
        let height = errs.check("height_cm", optional(&self.height_cm, Height::from_cm_text));
        match (weight, height) {
            (Some(None), Some(None)) => Err(FieldErrors::single(
                "weight_kg",
                "Enter a weight, a height, or both.",
            )),
            (Some(weight), Some(height)) if errs.is_empty() => {
                Ok(BodyMeasurement { weight, height })
            }
            _ => Err(errs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default()
    }

    fn form() -> PatientForm {
        PatientForm {
            full_name: "Jordan Rivera".into(),
            date_of_birth: "1984-03-02".into(),
            email: "jordan@example.org".into(),
            ..Default::default()
        }
    }

    #[test]
    fn minimal_patient_parses_with_sensible_defaults() {
        let p = form()
            .parse(today())
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(p.sex, Sex::Unknown);
        assert_eq!(p.preferred_contact, PreferredContact::Either);
        assert_eq!(p.emergency_contact, None);
    }

    #[test]
    fn details_round_trip_through_the_form() {
        let mut f = form();
        f.emergency_name = "Sam Rivera".into();
        f.emergency_phone = "555 010 2030".into();
        f.emergency_relationship = "Sibling".into();
        f.sex = "female".into();
        let p = f.parse(today()).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(p.to_form().parse(today()), Ok(p));
    }

    #[test]
    fn half_an_emergency_contact_is_an_error() {
        let mut f = form();
        f.emergency_name = "Sam Rivera".into();
        let e = f.parse(today()).err().unwrap_or_default();
        assert!(e.get("emergency_phone").is_some());
    }

    #[test]
    fn name_and_birth_date_are_required() {
        let e = PatientForm::default()
            .parse(today())
            .err()
            .unwrap_or_default();
        assert!(e.get("full_name").is_some());
        assert!(e.get("date_of_birth").is_some());
    }

    #[test]
    fn a_measurement_needs_at_least_one_value() {
        assert!(MeasurementForm::default().parse().is_err());
        let m = MeasurementForm {
            weight_kg: "70".into(),
            height_cm: "".into(),
        }
        .parse();
        assert!(matches!(
            m,
            Ok(BodyMeasurement {
                weight: Some(_),
                height: None
            })
        ));
        let bad = MeasurementForm {
            weight_kg: "70".into(),
            height_cm: "tall".into(),
        }
        .parse();
        assert!(bad.err().unwrap_or_default().get("height_cm").is_some());
    }
}
