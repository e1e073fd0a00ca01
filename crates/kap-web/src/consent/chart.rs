//! The consent panel on the patient's chart: for each route the clinic has a document for,
//! whether the patient signed it, which version, when and how (an older version is flagged);
//! the ways to ask for consent (a link, or signing in clinic); and the esketamine REMS enrolment.

use super::staff::REMS;
use crate::AppState;
use crate::http::Staff;
use crate::http::sections::{Returned, SectionFuture};
use askama::Template;
use kap_domain::consent::{ConsentDocument, ConsentState, RemsEnrolment, RemsStatus};
use kap_domain::permission::Action;
use kap_domain::screening::Route;
use kap_domain::time::TimeZone;
use uuid::Uuid;

struct Row {
    doc: ConsentDocument,
    state: ConsentState,
}

#[derive(Template)]
#[template(path = "consent/_chart.html")]
struct Panel<'a> {
    patient_id: Uuid,
    csrf: String,
    rows: Vec<Row>,
    may_send: bool,
    may_record: bool,
    show_rems: bool,
    rems: Vec<RemsEnrolment>,
    statuses: Vec<(&'static str, &'static str)>,
    today: String,
    returned: &'a Returned,
    tz: TimeZone,
}

impl Panel<'_> {
    fn rems_value(&self, field: &str, default: &str) -> String {
        self.returned.value(REMS, None, field, default)
    }
    fn rems_error(&self, field: &str) -> Option<String> {
        self.returned.error(REMS, None, field)
    }
    fn withdraw_open(&self, consent: &Uuid) -> bool {
        self.returned.is(super::staff::WITHDRAW, Some(*consent))
    }
    fn withdraw_value(&self, consent: &Uuid, field: &str, default: &str) -> String {
        self.returned
            .value(super::staff::WITHDRAW, Some(*consent), field, default)
    }
    fn withdraw_error(&self, consent: &Uuid, field: &str) -> Option<String> {
        self.returned
            .error(super::staff::WITHDRAW, Some(*consent), field)
    }
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        self.tz.format(t)
    }
}

/// The chart's consent panel, for roles that may read consents.
pub fn section<'a>(
    st: &'a AppState,
    staff: &'a Staff,
    patient: Option<Uuid>,
    returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move {
        let Some(patient) = patient else {
            return Ok(None);
        };
        if !staff.may(Action::ReadConsent) {
            return Ok(None);
        }
        let clinic = staff.clinic_id();
        let docs = st.store.current_consent_documents(clinic).await?;
        let record = st
            .store
            .consent_record(&staff.actor(), clinic, patient)
            .await?;
        let rows = docs
            .into_iter()
            .map(|doc| Row {
                state: ConsentState::of(doc.route, Some(doc.version), &record.consents),
                doc,
            })
            .collect::<Vec<_>>();
        let show_rems =
            rows.iter().any(|r| r.doc.route == Route::EsketamineNasal) || !record.rems.is_empty();
        let tz = staff.tz;
        crate::http::view::fragment(&Panel {
            patient_id: patient,
            csrf: staff.csrf_token().to_owned(),
            rows,
            may_send: staff.may(Action::SendConsent),
            may_record: staff.may(Action::RecordConsent),
            show_rems,
            rems: record.rems,
            statuses: RemsStatus::ALL
                .iter()
                .map(|s| (s.as_str(), s.label()))
                .collect(),
            today: tz.date(&kap_store::now()).format("%Y-%m-%d").to_string(),
            returned,
            tz,
        })
        .map(Some)
    })
}
