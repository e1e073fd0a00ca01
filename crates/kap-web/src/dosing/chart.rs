//! The chart's dosing panel: the patient's sessions, newest first, with where each stands.

use crate::AppState;
use crate::http::Staff;
use crate::http::sections::{Returned, SectionFuture};
use askama::Template;
use kap_domain::permission::Action;
use kap_domain::time::TimeZone;
use kap_store::dosing::SessionLine;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "dosing/_chart.html")]
struct Panel {
    sessions: Vec<SessionLine>,
    tz: TimeZone,
}

impl Panel {
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        self.tz.format(t)
    }
}

/// The panel, for roles that read dosing sessions.
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
        if !staff.may(Action::ReadDosing) {
            return Ok(None);
        }
        let sessions = st
            .store
            .sessions_of_patient(staff.clinic_id(), patient)
            .await?;
        if sessions.is_empty() {
            return Ok(None);
        }
        crate::http::view::fragment(&Panel {
            sessions,
            tz: staff.tz,
        })
        .map(Some)
    })
}
