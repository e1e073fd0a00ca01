//! The patient's side of the screening: their own history through a link, in plain words — health
//! conditions, medicines, treatments tried, other history — each part saved as they go, then
//! sent. Like every patient link it needs no account or JavaScript, names nothing about the
//! patient, and once unusable shows the clinic's crisis resources and phone.

use crate::AppState;
use crate::http::auth::ClientAddr;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{Fields, field, see_other};
use crate::http::view::{Shell, render};
use crate::public::{gone_page, well_formed};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike;
use kap_domain::FieldErrors;
use kap_domain::audit::Actor;
use kap_domain::measure::LinkPage;
use kap_domain::screening::intake::HistoryForm;
use kap_domain::screening::report::{
    Helped, HistoryLink, LAY_QUESTIONS, LayAnswer, LayQuestion, MAX_ROWS, PartAnswers,
    PatientReport, ReportPart, parse_conditions, parse_history, parse_medicines, parse_treatments,
};
use kap_domain::staff::Clinic;
use kap_store::{Conflict, StoreError};
use std::collections::BTreeMap;

/// Rows offered for medicines and for treatments.
const ROWS: usize = 6;

#[derive(Template)]
#[template(path = "screening/patient_history.html")]
struct HistoryPage {
    shell: Shell,
    token: String,
    clinic: Clinic,
    questions: &'static [LayQuestion],
    answers: Vec<(&'static str, &'static str)>,
    helped: Vec<(&'static str, &'static str)>,
    saved: Vec<(ReportPart, bool)>,
    values: BTreeMap<String, String>,
    /// The part whose form came back, and its problems.
    returned: Option<ReportPart>,
    errors: FieldErrors,
    notice: Option<&'static str>,
    med_rows: Vec<usize>,
    tx_rows: Vec<usize>,
}

impl HistoryPage {
    fn v(&self, field: &str) -> String {
        self.values.get(field).cloned().unwrap_or_default()
    }
    fn is(&self, field: &str, value: &str) -> bool {
        self.values.get(field).is_some_and(|v| v == value)
    }
    fn err(&self, field: &str) -> Option<String> {
        self.errors.get(field).map(str::to_owned)
    }
    fn problems(&self, part: &ReportPart) -> Vec<(String, String)> {
        if self.returned != Some(*part) {
            return vec![];
        }
        self.errors
            .iter()
            .map(|e| (format!("f-{}", e.field), e.message.clone()))
            .collect()
    }
}

#[derive(Template)]
#[template(path = "screening/patient_history_done.html")]
struct DonePage {
    shell: Shell,
    clinic: Clinic,
}

/// The saved report as the forms' values.
fn values_of(r: &PatientReport) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    if let Some(c) = &r.conditions {
        for (q, a) in c {
            v.insert(format!("q_{q}"), a.as_str().to_owned());
        }
    }
    if let Some(m) = &r.medicines {
        if m.is_empty() {
            v.insert("no_medicines".into(), "yes".into());
        }
        for (i, x) in m.iter().enumerate() {
            v.insert(format!("med_{i}"), x.clone());
        }
    }
    if let Some(t) = &r.treatments {
        if t.is_empty() {
            v.insert("no_treatments".into(), "yes".into());
        }
        for (i, x) in t.iter().enumerate() {
            v.insert(format!("tx_name_{i}"), x.name.clone());
            v.insert(format!("tx_long_{i}"), x.how_long.clone());
            v.insert(format!("tx_helped_{i}"), x.helped.as_str().to_owned());
        }
    }
    if let Some(h) = &r.history {
        let n = |x: Option<u16>| x.map(|n| n.to_string()).unwrap_or_default();
        v.insert("told".into(), h.told.clone());
        v.insert("hospitalisations".into(), n(h.hospitalisations));
        v.insert("suicide_attempts".into(), n(h.suicide_attempts));
        v.insert(
            "last_attempt_year".into(),
            h.last_attempt_year
                .map(|y| y.to_string())
                .unwrap_or_default(),
        );
        for (field, none, x) in [
            ("allergies", "no_allergies", &h.allergies),
            ("substance_use", "no_substance_use", &h.substance_use),
        ] {
            match x.as_deref() {
                Some("") => {
                    v.insert(none.into(), "yes".into());
                }
                Some(t) => {
                    v.insert(field.into(), t.to_owned());
                }
                None => {}
            }
        }
    }
    v
}

async fn link_of(st: &AppState, token: &str) -> AppResult<Option<HistoryLink>> {
    if !well_formed(token) {
        return Ok(None);
    }
    Ok(st.store.history_link_by_token(token).await?)
}

/// The link, when it still takes answers; otherwise the response to give instead.
async fn usable(st: &AppState, token: &str) -> AppResult<Result<HistoryLink, Response>> {
    let Some(link) = link_of(st, token).await? else {
        return Ok(Err(gone_page(st, None).await?));
    };
    Ok(match link.page(kap_store::now()) {
        LinkPage::Gone => Err(gone_page(st, Some(link.clinic_id)).await?),
        LinkPage::Done => Err(see_other(&format!("/h/{token}/done"))),
        LinkPage::Form => Ok(link),
    })
}

struct Back {
    part: ReportPart,
    fields: Fields,
    errors: FieldErrors,
}

async fn page(
    st: &AppState,
    token: &str,
    link: &HistoryLink,
    addr: Option<String>,
    notice: Option<&'static str>,
    back: Option<Back>,
) -> AppResult<Response> {
    let clinic = st.store.clinic(link.clinic_id).await?;
    let report = st
        .store
        .report_for_patient(&Actor::visitor(link.clinic_id, addr), link)
        .await?;
    let mut values = values_of(&report);
    let (returned, errors, status) = match back {
        Some(b) => {
            // The part as typed replaces what was saved of it.
            let prefixes: &[&str] = match b.part {
                ReportPart::Conditions => &["q_"],
                ReportPart::Medicines => &["med_", "no_medicines"],
                ReportPart::Treatments => &["tx_", "no_treatments"],
                ReportPart::History => &[
                    "told",
                    "hospitalisations",
                    "suicide_attempts",
                    "last_attempt_year",
                    "allergies",
                    "no_allergies",
                    "substance_use",
                    "no_substance_use",
                ],
            };
            values.retain(|k, _| !prefixes.iter().any(|p| k.starts_with(p)));
            for (k, v) in b.fields {
                if prefixes.iter().any(|p| k.starts_with(p)) {
                    values.insert(k, v);
                }
            }
            (Some(b.part), b.errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        None => (None, FieldErrors::new(), StatusCode::OK),
    };
    let count = |p: &str| values.keys().filter(|k| k.starts_with(p)).count();
    let med_rows = (0..(count("med_") + 2).clamp(ROWS, MAX_ROWS)).collect();
    let tx_rows = (0..(count("tx_name_") + 2).clamp(ROWS, MAX_ROWS)).collect();
    Ok(render(
        &HistoryPage {
            shell: Shell::public(
                format!("Your health history · {}", clinic.name),
                String::new(),
            ),
            token: token.to_owned(),
            clinic,
            questions: &LAY_QUESTIONS,
            answers: LayAnswer::ALL
                .iter()
                .map(|a| (a.as_str(), a.label()))
                .collect(),
            helped: Helped::ALL
                .iter()
                .map(|a| (a.as_str(), a.label()))
                .collect(),
            saved: ReportPart::ALL
                .iter()
                .map(|p| (*p, report.has(*p)))
                .collect(),
            values,
            returned,
            errors,
            notice,
            med_rows,
            tx_rows,
        },
        status,
    ))
}

#[derive(serde::Deserialize)]
pub(super) struct SavedQuery {
    saved: Option<String>,
}

pub(super) async fn show(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(token): Path<String>,
    Query(q): Query<SavedQuery>,
) -> AppResult<Response> {
    let link = match usable(&st, &token).await? {
        Ok(l) => l,
        Err(r) => return Ok(r),
    };
    let notice = match q.saved.as_deref() {
        Some("nothing") => Some("Please save at least one part before sending."),
        Some(_) => Some("Saved. Go on with another part, or send your answers when you are done."),
        None => None,
    };
    page(&st, &token, &link, addr, notice, None).await
}

/// Reads one part's form.
fn parse_part(part: ReportPart, f: &Fields, this_year: i32) -> Result<PartAnswers, FieldErrors> {
    Ok(match part {
        ReportPart::Conditions => PartAnswers::Conditions(parse_conditions(f)?),
        ReportPart::Medicines => {
            let rows: Vec<String> = (0..MAX_ROWS)
                .map(|i| field(f, &format!("med_{i}")).to_owned())
                .collect();
            PartAnswers::Medicines(parse_medicines(&rows, field(f, "no_medicines") == "yes")?)
        }
        ReportPart::Treatments => {
            let rows: Vec<(String, String, String)> = (0..MAX_ROWS)
                .map(|i| {
                    (
                        field(f, &format!("tx_name_{i}")).to_owned(),
                        field(f, &format!("tx_long_{i}")).to_owned(),
                        field(f, &format!("tx_helped_{i}")).to_owned(),
                    )
                })
                .collect();
            PartAnswers::Treatments(parse_treatments(&rows, field(f, "no_treatments") == "yes")?)
        }
        ReportPart::History => {
            let form = HistoryForm {
                diagnoses: vec![],
                hospitalisations: field(f, "hospitalisations").to_owned(),
                suicide_attempts: field(f, "suicide_attempts").to_owned(),
                last_attempt_year: field(f, "last_attempt_year").to_owned(),
                allergies: field(f, "allergies").to_owned(),
                no_allergies: field(f, "no_allergies") == "yes",
                substance_use: field(f, "substance_use").to_owned(),
                no_substance_use: field(f, "no_substance_use") == "yes",
            };
            PartAnswers::History(parse_history(field(f, "told"), &form, this_year)?)
        }
    })
}

pub(super) async fn save(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path((token, part)): Path<(String, String)>,
    axum::Form(f): axum::Form<Fields>,
) -> AppResult<Response> {
    let link = match usable(&st, &token).await? {
        Ok(l) => l,
        Err(r) => return Ok(r),
    };
    let part = ReportPart::from_code(&part).ok_or(AppError::NotFound)?;
    let clinic = st.store.clinic(link.clinic_id).await?;
    let this_year = clinic
        .time_zone
        .unwrap_or(st.config.time_zone)
        .date(&kap_store::now())
        .year();
    match parse_part(part, &f, this_year) {
        Ok(answers) => {
            let actor = Actor::visitor(link.clinic_id, addr);
            match st.store.save_report_part(&actor, &link, &answers).await {
                Ok(()) => Ok(see_other(&format!(
                    "/h/{token}?saved={}#part-{}",
                    part.as_str(),
                    part.as_str()
                ))),
                Err(StoreError::Conflict(Conflict::LinkSpent | Conflict::ScreeningLocked)) => {
                    Ok(gone_page(&st, Some(link.clinic_id)).await?)
                }
                Err(e) => Err(e.into()),
            }
        }
        Err(errors) => {
            let back = Back {
                part,
                fields: f,
                errors,
            };
            page(&st, &token, &link, addr, None, Some(back)).await
        }
    }
}

pub(super) async fn send(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let link = match usable(&st, &token).await? {
        Ok(l) => l,
        Err(r) => return Ok(r),
    };
    let actor = Actor::visitor(link.clinic_id, addr);
    let report = st.store.report_for_patient(&actor, &link).await?;
    if !ReportPart::ALL.iter().any(|p| report.has(*p)) {
        return Ok(see_other(&format!("/h/{token}?saved=nothing")));
    }
    match st.store.send_report(&actor, &link).await {
        Ok(()) | Err(StoreError::Conflict(Conflict::LinkSpent)) => {
            Ok(see_other(&format!("/h/{token}/done")))
        }
        Err(e) => Err(e.into()),
    }
}

/// The confirmation after sending, for as long as the link is valid.
pub(super) async fn done(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(link) = link_of(&st, &token).await? else {
        return gone_page(&st, None).await;
    };
    match link.page(kap_store::now()) {
        LinkPage::Gone => return gone_page(&st, Some(link.clinic_id)).await,
        LinkPage::Form => return Ok(see_other(&format!("/h/{token}"))),
        LinkPage::Done => {}
    }
    let clinic = st.store.clinic(link.clinic_id).await?;
    Ok(render(
        &DonePage {
            shell: Shell::public(format!("Thank you · {}", clinic.name), String::new()),
            clinic,
        },
        StatusCode::OK,
    ))
}
