//! The screening panel on the patient's chart: the latest screening's state and decision, what
//! the rules found, treatment resistance, and the way in.

use crate::AppState;
use crate::http::Staff;
use crate::http::sections::{Returned, SectionFuture};
use askama::Template;
use kap_domain::permission::Action;
use kap_domain::screening::Route;
use kap_domain::screening::decision::most_permissive;
use kap_domain::screening::record::Screening;
use kap_domain::screening::rules::{Level, evaluate};
use kap_domain::screening::staging::resistance;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "screening/_chart.html")]
struct Panel {
    patient_id: Uuid,
    csrf: String,
    latest: Option<Screening>,
    may_start: bool,
    started: String,
    signed: String,
    counts: (usize, usize, usize, usize),
    suggestion: &'static str,
    resistance: String,
}

/// The chart's screening panel, for roles that may read screenings.
pub fn section<'a>(
    st: &'a AppState,
    staff: &'a Staff,
    patient: Option<Uuid>,
    _returned: &'a Returned,
) -> SectionFuture<'a> {
    Box::pin(async move {
        let Some(patient) = patient else {
            return Ok(None);
        };
        if !staff.may(Action::ReadScreening) {
            return Ok(None);
        }
        let clinic = staff.clinic_id();
        let latest = st
            .store
            .latest_screening(&staff.actor(), clinic, patient)
            .await?;
        let (counts, suggestion, r) = match &latest {
            Some(s) => {
                let protocol = st.store.screening_protocol(clinic).await?;
                let f = evaluate(&s.intake, &protocol.rules, &Route::ALL);
                let n = |l: Option<Level>| f.iter().filter(|x| x.level() == l).count();
                (
                    (
                        n(Some(Level::Absolute)),
                        n(Some(Level::Relative)),
                        n(Some(Level::Caution)),
                        n(None),
                    ),
                    most_permissive(&f).label(),
                    resistance(&s.intake, protocol.trd).explain(),
                )
            }
            None => ((0, 0, 0, 0), "", String::new()),
        };
        let tz = staff.tz;
        crate::http::view::fragment(&Panel {
            patient_id: patient,
            csrf: staff.csrf_token().to_owned(),
            may_start: staff.may(Action::EditScreening),
            started: latest
                .as_ref()
                .map(|s| tz.format(&s.started_at))
                .unwrap_or_default(),
            signed: latest
                .as_ref()
                .and_then(|s| s.signed.as_ref())
                .map(|d| tz.format(&d.signed_at))
                .unwrap_or_default(),
            latest,
            counts,
            suggestion,
            resistance: r,
        })
        .map(Some)
    })
}
