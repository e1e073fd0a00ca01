//! The screening's forms: each saves one part of the intake (or signs, or adds an addendum)
//! and answers with the page; a form with problems comes back as typed, with plain words.

use super::page::screening_page;
use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::AppResult;
use crate::http::extract::{Empty, Fields, field, parse_id, see_other};
use crate::http::sections::Returned;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike;
use kap_domain::FieldErrors;
use kap_domain::person::{Message, ShortText};
use kap_domain::screening::Route;
use kap_domain::screening::decision::{Decision, Draft, Refused};
use kap_domain::screening::intake::{
    AntidepressantClass, Condition, EpisodeSeverity, HistoryForm, Medication, MedicationClass,
    TreatmentTrial, TrialKind, TrialOutcome,
};
use kap_domain::screening::record::VitalsForm;
use kap_store::{Conflict, StoreError};
use std::collections::BTreeMap;
use uuid::Uuid;

fn done(id: Uuid, anchor: &str) -> Response {
    see_other(&format!("/screenings/{id}?notice=saved#{anchor}"))
}

/// The page again with one form as typed and its problems.
async fn back(
    st: &AppState,
    staff: &Staff,
    id: Uuid,
    form: &'static str,
    fields: Fields,
    errors: FieldErrors,
) -> AppResult<Response> {
    let returned = Returned::form(form, fields, errors);
    screening_page(
        st,
        staff,
        id,
        None,
        returned,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub(super) async fn start(
    State(st): State<AppState>,
    staff: Staff,
    Path(patient): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let patient = parse_id(&patient)?;
    let id = st
        .store
        .start_screening(&staff.actor(), staff.clinic_id(), patient)
        .await?;
    Ok(see_other(&format!("/screenings/{id}")))
}

pub(super) async fn episode(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut e = FieldErrors::new();
    let months = match field(&f, "episode_months") {
        "" => None,
        t => match t.parse::<u16>() {
            Ok(m) if m <= 600 => Some(m),
            _ => {
                e.add(
                    "episode_months",
                    "Enter the months since this episode began, from 0 to 600.",
                );
                None
            }
        },
    };
    let severity = match field(&f, "severity") {
        "" => None,
        t => {
            let s = EpisodeSeverity::from_code(t);
            if s.is_none() {
                e.add("severity", "Choose the episode's severity from the list.");
            }
            s
        }
    };
    if !e.is_empty() {
        return back(&st, &staff, id, "episode", f, e).await;
    }
    st.store
        .save_episode(&staff.actor(), staff.clinic_id(), id, months, severity)
        .await?;
    Ok(done(id, "episode"))
}

pub(super) async fn history(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut rows = vec![];
    for i in 0.. {
        let code = format!("dx_code_{i}");
        if !f.iter().any(|(k, _)| *k == code) {
            break;
        }
        rows.push((
            field(&f, &code).to_owned(),
            field(&f, &format!("dx_description_{i}")).to_owned(),
        ));
    }
    let form = HistoryForm {
        diagnoses: rows,
        hospitalisations: field(&f, "hospitalisations").to_owned(),
        suicide_attempts: field(&f, "suicide_attempts").to_owned(),
        last_attempt_year: field(&f, "last_attempt_year").to_owned(),
        allergies: field(&f, "allergies").to_owned(),
        no_allergies: field(&f, "no_allergies") == "yes",
        substance_use: field(&f, "substance_use").to_owned(),
        no_substance_use: field(&f, "no_substance_use") == "yes",
    };
    let this_year = staff.tz.date(&kap_store::now()).year();
    match form.parse(this_year) {
        Ok(h) => {
            st.store
                .save_history(&staff.actor(), staff.clinic_id(), id, &h)
                .await?;
            Ok(done(id, "history"))
        }
        Err(e) => back(&st, &staff, id, "history", f, e).await,
    }
}

pub(super) async fn checklist(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut answers = BTreeMap::new();
    let mut e = FieldErrors::new();
    for c in Condition::ALL {
        let name = format!("c_{}", c.as_str());
        match field(&f, &name) {
            "" => {}
            "yes" => {
                answers.insert(c, true);
            }
            "no" => {
                answers.insert(c, false);
            }
            _ => e.add(name, format!("Answer yes or no: {}.", c.label())),
        }
    }
    if !e.is_empty() {
        return back(&st, &staff, id, "checklist", f, e).await;
    }
    st.store
        .save_checklist(&staff.actor(), staff.clinic_id(), id, &answers)
        .await?;
    Ok(done(id, "checklist"))
}

/// A dose in milligrams as typed (decimal point or comma), above 0 and at most 1,000.
fn dose(t: &str) -> Option<f64> {
    let v: f64 = t.replace(',', ".").parse().ok()?;
    (v > 0.0 && v <= 1000.0 && v.is_finite()).then_some(v)
}

pub(super) async fn medications(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut e = FieldErrors::new();
    let mut meds = vec![];
    for i in 0..50 {
        let (name, class, mg) = (
            field(&f, &format!("med_name_{i}")),
            field(&f, &format!("med_class_{i}")),
            field(&f, &format!("med_dose_{i}")),
        );
        if name.is_empty() && class.is_empty() && mg.is_empty() {
            continue;
        }
        if name.is_empty() {
            e.add(format!("med_name_{i}"), "Name the medication.");
            continue;
        }
        let class = match class {
            "" => None,
            c => match MedicationClass::from_code(c) {
                Some(c) => Some(c),
                None => {
                    e.add(format!("med_class_{i}"), "Choose a class from the list.");
                    None
                }
            },
        };
        let diazepam_equivalent_mg = match mg {
            "" => None,
            t => match dose(t) {
                Some(v) => Some(v),
                None => {
                    e.add(
                        format!("med_dose_{i}"),
                        "Enter the daily diazepam-equivalent dose in mg (e.g. 7.5).",
                    );
                    None
                }
            },
        };
        match ShortText::parse(name) {
            Ok(n) => meds.push(Medication {
                name: n.to_string(),
                class,
                diazepam_equivalent_mg,
            }),
            Err(err) => e.add(format!("med_name_{i}"), err.to_string()),
        }
    }
    let none = field(&f, "no_meds") == "yes";
    if meds.is_empty() && !none && e.is_empty() {
        e.add(
            "no_meds",
            "List the current medications, or tick “No current medications”.",
        );
    }
    if !meds.is_empty() && none {
        e.add(
            "no_meds",
            "Medications are listed: untick “No current medications”, or clear the list.",
        );
    }
    if !e.is_empty() {
        return back(&st, &staff, id, "medications", f, e).await;
    }
    st.store
        .save_medications(&staff.actor(), staff.clinic_id(), id, &meds)
        .await?;
    Ok(done(id, "medications"))
}

pub(super) async fn add_trial(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut e = FieldErrors::new();
    let kind = TrialKind::from_code(field(&f, "kind"));
    if kind.is_none() {
        e.add("kind", "Choose what kind of treatment it was.");
    }
    let class = match field(&f, "class") {
        "" => None,
        c => {
            let x = AntidepressantClass::from_code(c);
            if x.is_none() {
                e.add("class", "Choose a class from the list.");
            }
            x
        }
    };
    if kind == Some(TrialKind::Antidepressant) && class.is_none() && e.get("class").is_none() {
        e.add(
            "class",
            "Choose the antidepressant's class (staging counts classes).",
        );
    }
    let name = match ShortText::parse(field(&f, "name")) {
        Ok(n) => Some(n.to_string()),
        Err(err) => {
            e.add("name", format!("Name the treatment: {err}"));
            None
        }
    };
    let weeks = match field(&f, "weeks") {
        "" => None,
        t => match t.parse::<u16>() {
            Ok(w) if (1..=520).contains(&w) => Some(w),
            _ => {
                e.add("weeks", "Enter the weeks it was taken, from 1 to 520.");
                None
            }
        },
    };
    let adequate = match field(&f, "adequate") {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let outcome = TrialOutcome::from_code(field(&f, "outcome"));
    if outcome.is_none() {
        e.add("outcome", "Choose how the treatment ended.");
    }
    let (Some(kind), Some(name), Some(outcome), true) = (kind, name, outcome, e.is_empty()) else {
        return back(&st, &staff, id, "trial", f, e).await;
    };
    let t = TreatmentTrial {
        kind,
        class: class.filter(|_| kind == TrialKind::Antidepressant),
        name,
        weeks,
        adequate,
        outcome,
        current_episode: field(&f, "current_episode") == "yes",
    };
    st.store
        .add_trial(&staff.actor(), staff.clinic_id(), id, &t)
        .await?;
    Ok(done(id, "trials"))
}

pub(super) async fn remove_trial(
    State(st): State<AppState>,
    staff: Staff,
    Path((id, trial)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let trial = parse_id(&trial)?;
    st.store
        .remove_trial(&staff.actor(), staff.clinic_id(), id, trial)
        .await?;
    Ok(done(id, "trials"))
}

pub(super) async fn vitals(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let form = VitalsForm {
        systolic: field(&f, "systolic").into(),
        diastolic: field(&f, "diastolic").into(),
        heart_rate: field(&f, "heart_rate").into(),
        spo2: field(&f, "spo2").into(),
    };
    let v = match form.parse() {
        Ok(v) => v,
        Err(e) => return back(&st, &staff, id, "vitals", f, e).await,
    };
    st.store
        .save_vitals(&staff.actor(), staff.clinic_id(), id, &v)
        .await?;
    Ok(done(id, "vitals"))
}

/// Where each refusal of a decision is shown on the form.
fn refusal_field(r: &Refused) -> String {
    match r {
        Refused::NoDecision
        | Refused::Absolute(_)
        | Refused::Missing(_)
        | Refused::Conflicting(_)
        | Refused::NeedsPrecautions => "decision".into(),
        Refused::NoRationale => "rationale".into(),
        Refused::NoRoute => "route".into(),
        Refused::Unjustified(id) => format!("justify_{id}"),
    }
}

fn sentence(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

pub(super) async fn sign(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let routes: Vec<Route> = f
        .iter()
        .filter(|(k, _)| k == "route")
        .filter_map(|(_, v)| Route::from_code(v))
        .collect();
    let justifications = f
        .iter()
        .filter_map(|(k, v)| {
            let rule = k.strip_prefix("justify_")?;
            (!v.trim().is_empty()).then(|| (rule.to_owned(), v.trim().to_owned()))
        })
        .collect();
    let rationale = field(&f, "rationale");
    let mut e = FieldErrors::new();
    if !rationale.is_empty()
        && let Err(err) = Message::parse(rationale)
    {
        e.add("rationale", err.to_string());
    }
    let draft = Draft {
        decision: Decision::from_code(field(&f, "decision")),
        rationale: rationale.to_owned(),
        routes,
        justifications,
    };
    if !e.is_empty() {
        return back(&st, &staff, id, "sign", f, e).await;
    }
    match st
        .store
        .sign_eligibility(&staff.actor(), staff.clinic_id(), id, &draft)
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/screenings/{id}?notice=signed#decision"
        ))),
        Err(StoreError::Conflict(Conflict::DecisionRefused(problems))) => {
            for p in &problems {
                e.add(refusal_field(p), sentence(&p.to_string()));
            }
            back(&st, &staff, id, "sign", f, e).await
        }
        Err(err) => Err(err.into()),
    }
}

pub(super) async fn addendum(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut e = FieldErrors::new();
    let reason = e.check("reason", ShortText::parse(field(&f, "reason")));
    let body = e.check("body", Message::parse(field(&f, "body")));
    let (Some(reason), Some(body), true) = (reason, body, e.is_empty()) else {
        return back(&st, &staff, id, "addendum", f, e).await;
    };
    st.store
        .add_screening_addendum(
            &staff.actor(),
            staff.clinic_id(),
            id,
            reason.as_str(),
            body.as_str(),
        )
        .await?;
    Ok(see_other(&format!("/screenings/{id}?notice=saved#addenda")))
}
