//! The inquiry inbox: list by status, read one with its notes, move it along, and convert it
//! into a patient in one step.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppError, AppResult, conflict_words};
use crate::http::extract::{NoticeQuery, opt_id, parse_id, see_other, split_page};
use crate::http::view::{Shell, render};
use crate::patients::duplicates::{self, NewPatientForm};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::FieldErrors;
use kap_domain::inquiry::{Inquiry, InquiryFilter, InquiryNote, InquiryStatus};
use kap_domain::patient::PatientForm;
use kap_domain::permission::Action;
use kap_domain::person::{Message, Sex, optional};
use uuid::Uuid;

const PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "inquiries/list.html")]
struct ListPage {
    shell: Shell,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    inquiries: Vec<Inquiry>,
    older: Option<Uuid>,
}

impl ListPage {
    fn when(&self, i: &Inquiry) -> String {
        self.shell.when(&i.created_at)
    }
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    before: Option<String>,
}

pub async fn list(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let status_text = q.status.unwrap_or_else(|| "open".into());
    let filter = match status_text.as_str() {
        "open" => InquiryFilter::Open,
        other => InquiryStatus::from_code(other).into(),
    };
    let inquiries = st
        .store
        .list_inquiries(
            &staff.actor(),
            staff.clinic_id(),
            filter,
            opt_id(&q.before),
            PAGE + 1,
        )
        .await?;
    let (inquiries, older) = split_page(inquiries, PAGE, |x| x.id);
    let mut statuses = vec![("open", "Open"), ("all", "All")];
    statuses.extend(InquiryStatus::ALL.iter().map(|s| (s.as_str(), s.label())));
    Ok(render(
        &ListPage {
            shell: Shell::staff(&staff, "Inquiries", "inquiries"),
            status: status_text,
            statuses,
            inquiries,
            older,
        },
        StatusCode::OK,
    ))
}

#[derive(Template)]
#[template(path = "inquiries/detail.html")]
struct DetailPage {
    shell: Shell,
    inquiry: Inquiry,
    notes: Vec<InquiryNote>,
    statuses: Vec<(&'static str, &'static str)>,
    status_errors: FieldErrors,
    problem: Option<String>,
    convert: PatientForm,
    convert_errors: FieldErrors,
    duplicates: Option<String>,
    sexes: Vec<(&'static str, &'static str)>,
    may_update: bool,
    may_convert: bool,
}

impl DetailPage {
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        self.shell.when(t)
    }
}

fn convert_form_for(i: &Inquiry) -> PatientForm {
    PatientForm {
        full_name: i.name.to_string(),
        email: i.email.as_ref().map(|e| e.to_string()).unwrap_or_default(),
        phone: i.phone.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        preferred_contact: i.preferred_contact.as_str().to_owned(),
        ..Default::default()
    }
}

#[derive(Default)]
struct Extra {
    status_errors: FieldErrors,
    problem: Option<String>,
    convert: Option<PatientForm>,
    convert_errors: FieldErrors,
    /// Patients the person may already be, with the box to confirm they are someone new.
    duplicates: Option<String>,
}

async fn detail_page(
    st: &AppState,
    staff: &Staff,
    id: Uuid,
    notice: Option<&str>,
    extra: Extra,
    status: StatusCode,
) -> AppResult<Response> {
    let (inquiry, notes) = st
        .store
        .inquiry(&staff.actor(), staff.clinic_id(), id)
        .await?;
    let convert = extra.convert.unwrap_or_else(|| convert_form_for(&inquiry));
    Ok(render(
        &DetailPage {
            shell: Shell::staff(staff, inquiry.name.to_string(), "inquiries").with_notice(notice),
            statuses: InquiryStatus::ALL
                .iter()
                .map(|s| (s.as_str(), s.label()))
                .collect(),
            inquiry,
            notes,
            status_errors: extra.status_errors,
            problem: extra.problem,
            convert,
            convert_errors: extra.convert_errors,
            duplicates: extra.duplicates,
            sexes: Sex::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
            may_update: staff.may(Action::UpdateInquiry),
            may_convert: staff.may(Action::ConvertInquiry),
        },
        status,
    ))
}

pub async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    detail_page(
        &st,
        &staff,
        id,
        q.notice.as_deref(),
        Extra::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(serde::Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

pub async fn update(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<UpdateForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut errors = FieldErrors::new();
    let status = InquiryStatus::from_code(&form.status);
    if status.is_none() {
        errors.add("status", "Please choose a status.");
    }
    let note = errors.check("note", optional(&form.note, Message::parse));
    let fail = |errors, problem| Extra {
        status_errors: errors,
        problem,
        ..Extra::default()
    };
    let (Some(status), Some(note)) = (status, note) else {
        return detail_page(
            &st,
            &staff,
            id,
            None,
            fail(errors, None),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match st
        .store
        .update_inquiry(&staff.actor(), staff.clinic_id(), id, status, note.as_ref())
        .await
    {
        Ok(()) => Ok(see_other(&format!("/inquiries/{id}?notice=saved"))),
        Err(kap_store::StoreError::Conflict(c)) => {
            detail_page(
                &st,
                &staff,
                id,
                None,
                fail(FieldErrors::new(), Some(conflict_words(&c))),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn convert(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(new): CsrfForm<NewPatientForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let today = chrono::Utc::now().date_naive();
    let confirmed = new.confirmed();
    let form = new.form;
    let (extra, status) = match form.parse(today) {
        Ok(details) => match duplicates::warning(&st, &staff, &details, confirmed).await? {
            Some(warning) => (
                Extra {
                    convert: Some(form),
                    duplicates: Some(warning),
                    ..Extra::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            None => match st
                .store
                .convert_inquiry(&staff.actor(), staff.clinic_id(), id, &details)
                .await
            {
                Ok(pid) => return Ok(see_other(&format!("/patients/{pid}?notice=converted"))),
                Err(kap_store::StoreError::Conflict(c)) => (
                    Extra {
                        problem: Some(conflict_words(&c)),
                        convert: Some(form),
                        ..Extra::default()
                    },
                    StatusCode::CONFLICT,
                ),
                Err(e) => return Err(AppError::from(e)),
            },
        },
        Err(errors) => (
            Extra {
                convert: Some(form),
                convert_errors: errors,
                ..Extra::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    detail_page(&st, &staff, id, None, extra, status).await
}
