//! The chart's courses panel: each course with its protocol version, status and numbers, and
//! the way to plan one.

use crate::AppState;
use crate::http::Staff;
use crate::http::sections::{Returned, SectionFuture};
use askama::Template;
use kap_domain::course::{Course, CourseSummary};
use kap_domain::permission::Action;
use kap_domain::time::TimeZone;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "course/_chart.html")]
struct Panel {
    patient_id: Uuid,
    courses: Vec<(Course, CourseSummary)>,
    may_plan: bool,
    /// Scores are clinical content: only for roles that read responses.
    show_scores: bool,
    tz: TimeZone,
}

impl Panel {
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        self.tz.format(t)
    }
}

/// The chart's courses panel, for roles that may read courses.
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
        if !staff.may(Action::ReadCourse) {
            return Ok(None);
        }
        let courses = st
            .store
            .courses_of(&staff.actor(), staff.clinic_id(), patient)
            .await?;
        crate::http::view::fragment(&Panel {
            patient_id: patient,
            courses,
            may_plan: staff.may(Action::PlanCourse),
            show_scores: staff.may(Action::ReadResponses),
            tz: staff.tz,
        })
        .map(Some)
    })
}
