//! Registering someone who may already have a chart: before a new patient is created (from the
//! registry or from an inquiry), the clinic's patients with the same name and date of birth,
//! phone or email are shown, and the new record is created only when staff confirm it is a
//! different person.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::AppResult;
use crate::http::view::fragment;
use askama::Template;
use kap_domain::patient::{PatientDetails, PatientForm, PatientSummary};

/// A form that registers a patient, with the confirmation the duplicate warning asks for.
#[derive(serde::Deserialize)]
pub struct NewPatientForm {
    #[serde(flatten)]
    pub form: PatientForm,
    /// `yes` once staff have seen the possible matches and confirmed this is someone new.
    #[serde(default)]
    pub confirm_new: String,
}

impl NewPatientForm {
    pub fn confirmed(&self) -> bool {
        self.confirm_new == "yes"
    }
}

#[derive(Template)]
#[template(path = "patients/_duplicates.html")]
struct Warning {
    matches: Vec<(PatientSummary, String)>,
}

/// The warning to show inside the form (possible matches and the confirmation box), or `None`
/// when there are none or staff already confirmed.
pub async fn warning(
    st: &AppState,
    staff: &Staff,
    d: &PatientDetails,
    confirmed: bool,
) -> AppResult<Option<String>> {
    if confirmed {
        return Ok(None);
    }
    let found = st
        .store
        .possible_duplicates(&staff.actor(), staff.clinic_id(), d)
        .await?;
    if found.is_empty() {
        return Ok(None);
    }
    let matches = found
        .into_iter()
        .map(|(p, why)| {
            let why: Vec<&str> = why.iter().map(|w| w.label()).collect();
            (p, why.join(", "))
        })
        .collect();
    fragment(&Warning { matches }).map(Some)
}
