//! Pages made of several capabilities' parts — the patient's chart, the staff home page — are
//! composed from *sections*: each capability registers a function that renders its part, so
//! the page's owner never imports the capabilities that show on it, and a capability re-renders
//! the page (with its form as typed) by calling the page's owner, never the other way round.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::AppResult;
use kap_domain::FieldErrors;
use std::future::Future;
use std::pin::Pin;
use uuid::Uuid;

/// A form on a composed page that came back with problems: which form (and which record it
/// was about), what was typed, and what is wrong — so its section shows it again as typed.
#[derive(Debug, Clone, Default)]
pub struct Returned {
    /// The form's name, e.g. `schedule` or `acknowledge`.
    pub form: &'static str,
    /// The record the form was about (an alert being acknowledged).
    pub record: Option<Uuid>,
    pub values: Vec<(String, String)>,
    pub errors: FieldErrors,
}

impl Returned {
    pub fn none() -> Returned {
        Returned::default()
    }

    pub fn form(form: &'static str, values: Vec<(String, String)>, errors: FieldErrors) -> Self {
        Returned {
            form,
            record: None,
            values,
            errors,
        }
    }

    pub fn about(mut self, record: Uuid) -> Self {
        self.record = Some(record);
        self
    }

    /// Whether this is the named form (about `record`, when given).
    pub fn is(&self, form: &str, record: Option<Uuid>) -> bool {
        self.form == form && (record.is_none() || self.record == record)
    }

    /// What was typed in a field of the named form, or `default`.
    pub fn value(&self, form: &str, record: Option<Uuid>, field: &str, default: &str) -> String {
        if self.is(form, record) {
            self.values
                .iter()
                .find(|(k, _)| k == field)
                .map_or(default, |(_, v)| v.as_str())
                .to_owned()
        } else {
            default.to_owned()
        }
    }

    /// The problem with a field of the named form, if any.
    pub fn error(&self, form: &str, record: Option<Uuid>, field: &str) -> Option<String> {
        self.is(form, record)
            .then(|| self.errors.get(field).map(str::to_owned))
            .flatten()
    }
}

pub type SectionFuture<'a> = Pin<Box<dyn Future<Output = AppResult<Option<String>>> + Send + 'a>>;

/// A capability's part of a composed page: its HTML, or nothing for this viewer. The patient
/// is given on the chart, none on the home page.
pub type Section =
    for<'a> fn(&'a AppState, &'a Staff, Option<Uuid>, &'a Returned) -> SectionFuture<'a>;

/// The parts of a page, in order.
pub async fn render_sections(
    sections: &[Section],
    st: &AppState,
    staff: &Staff,
    patient: Option<Uuid>,
    returned: &Returned,
) -> AppResult<String> {
    let mut html = String::new();
    for s in sections {
        if let Some(part) = s(st, staff, patient, returned).await? {
            html.push_str(&part);
        }
    }
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_form_gives_back_what_was_typed_only_to_itself() {
        let id = Uuid::from_u128(1);
        let r = Returned::form(
            "acknowledge",
            vec![("action_note".into(), "typed".into())],
            FieldErrors::single("action_note", "required"),
        )
        .about(id);
        assert_eq!(r.value("acknowledge", Some(id), "action_note", ""), "typed");
        assert_eq!(
            r.value("acknowledge", Some(Uuid::nil()), "action_note", ""),
            ""
        );
        assert_eq!(r.value("schedule", None, "every_days", "14"), "14");
        assert_eq!(
            r.error("acknowledge", Some(id), "action_note").as_deref(),
            Some("required")
        );
        assert_eq!(r.error("schedule", None, "every_days"), None);
    }
}
