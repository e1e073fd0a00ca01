//! What staff record in a session. Each form posts one entry; a refused one shows the session
//! again with the problem beside the form (nothing stored); a saved one returns to the session.
//! Flowsheet entries carry a client id from the page's queue, so a retry after a lost reply
//! lands once.

use super::page::{Typed, page};
use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppResult, conflict_words};
use crate::http::extract::{Fields, field, parse_id, see_other};
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use kap_domain::FieldErrors;
use kap_domain::dosing::checklist::ChecklistForm;
use kap_domain::dosing::flowsheet::VitalsForm;
use kap_domain::dosing::order::{AdminForm, OrderForm, Step};
use kap_domain::dosing::{
    AdminChange, AdverseKind, AdverseOutcome, AdverseSeverity, HoldDecisionKind, Moaas, Pregnancy,
    Rating, RemsAnswers,
};
use kap_domain::protocol::dose::PlannedDose;
use kap_store::dosing::{AdverseForm, DischargeForm};
use kap_store::{Conflict, StoreError};
use uuid::Uuid;

/// Back to the session after a saved entry, or the session with the problem.
async fn done<T>(
    st: &AppState,
    staff: &Staff,
    id: Uuid,
    r: Result<T, StoreError>,
    anchor: &str,
    typed: Typed,
) -> AppResult<Response> {
    match r {
        Ok(_) => Ok(see_other(&format!(
            "/dosing/{id}?notice=dosing-saved#{anchor}"
        ))),
        Err(StoreError::Conflict(Conflict::DosingInvalid(e))) => {
            page(st, staff, id, None, Some(words(&e)), e, typed).await
        }
        Err(StoreError::Conflict(c)) => {
            page(
                st,
                staff,
                id,
                None,
                Some(conflict_words(&c)),
                FieldErrors::new(),
                typed,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

fn words(e: &FieldErrors) -> String {
    e.iter()
        .map(|x| x.message.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A time of day typed on the flowsheet ("" means now), on the clinic's today.
fn time_of(staff: &Staff, v: &str, name: &str, e: &mut FieldErrors) -> DateTime<Utc> {
    let now = kap_store::now();
    let v = v.trim();
    if v.is_empty() {
        return now;
    }
    match NaiveTime::parse_from_str(v, "%H:%M") {
        Ok(t) => match staff.tz.at(staff.tz.date(&now), t) {
            Ok(at) => at,
            Err(m) => {
                e.add(name, m);
                now
            }
        },
        Err(_) => {
            e.add(name, "Enter the time as hours and minutes, e.g. 10:40.");
            now
        }
    }
}

fn opt_time(staff: &Staff, v: &str, name: &str, e: &mut FieldErrors) -> Option<DateTime<Utc>> {
    (!v.trim().is_empty()).then(|| time_of(staff, v, name, e))
}

fn number(v: &str, name: &str, e: &mut FieldErrors) -> Option<f64> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match v.replace(',', ".").parse::<f64>() {
        Ok(x) if x.is_finite() => Some(x),
        _ => {
            e.add(name, format!("\"{v}\" is not a number."));
            None
        }
    }
}

fn client_id(f: &Fields) -> Option<Uuid> {
    Uuid::parse_str(field(f, "client_id")).ok()
}

fn checked(f: &Fields, name: &str) -> bool {
    matches!(field(f, name), "on" | "yes" | "true")
}

fn yes_no(f: &Fields, name: &str) -> Option<bool> {
    match field(f, name) {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// Opens (or returns to) the session of a checked-in dosing appointment.
pub(super) async fn open(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(_f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let appt = parse_id(&id)?;
    match st
        .store
        .open_session(&staff.actor(), staff.clinic_id(), appt, kap_store::now())
        .await
    {
        Ok(sid) => Ok(see_other(&format!("/dosing/{sid}"))),
        Err(StoreError::Conflict(c)) => Err(crate::http::AppError::Conflict(conflict_words(&c))),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn checklist(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut e = FieldErrors::new();
    let form = ChecklistForm {
        identity_confirmed: checked(&f, "identity_confirmed"),
        last_food_at: opt_time(&staff, field(&f, "last_food_at"), "last_food_at", &mut e),
        last_fluids_at: opt_time(
            &staff,
            field(&f, "last_fluids_at"),
            "last_fluids_at",
            &mut e,
        ),
        nasal_medicine_at: opt_time(
            &staff,
            field(&f, "nasal_medicine_at"),
            "nasal_medicine_at",
            &mut e,
        ),
        escort: field(&f, "escort").to_owned(),
        pregnancy: Pregnancy::from_code(field(&f, "pregnancy")),
        medications_reviewed: checked(&f, "medications_reviewed"),
        benzodiazepine_today: checked(&f, "benzodiazepine_today"),
        medication_note: field(&f, "medication_note").to_owned(),
        intention_reviewed: checked(&f, "intention_reviewed"),
        intention: field(&f, "intention").to_owned(),
        weight_kg: number(field(&f, "weight_kg"), "weight_kg", &mut e),
    };
    if !e.is_empty() {
        return page(
            &st,
            &staff,
            id,
            None,
            Some(words(&e)),
            e,
            Typed::of("checklist", &f),
        )
        .await;
    }
    let r = st
        .store
        .record_checklist(
            &staff.actor(),
            staff.clinic_id(),
            id,
            &form,
            kap_store::now(),
        )
        .await;
    done(&st, &staff, id, r, "checklist", Typed::of("checklist", &f)).await
}

pub(super) async fn hold(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let Some(kind) = HoldDecisionKind::from_code(field(&f, "decision")) else {
        let e = FieldErrors::single("decision", "Choose to dose or to defer.");
        return page(
            &st,
            &staff,
            id,
            None,
            Some(words(&e)),
            e,
            Typed::of("hold", &f),
        )
        .await;
    };
    let r = st
        .store
        .decide_hold(
            &staff.actor(),
            staff.clinic_id(),
            id,
            kind,
            field(&f, "reason"),
            kap_store::now(),
        )
        .await;
    done(&st, &staff, id, r, "checklist", Typed::of("hold", &f)).await
}

pub(super) async fn order(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut e = FieldErrors::new();
    let form = match field(&f, "kind") {
        "booster" => number(field(&f, "amount"), "amount", &mut e).map(OrderForm::Booster),
        _ => match (
            field(&f, "unit"),
            number(field(&f, "amount"), "amount", &mut e),
        ) {
            ("mg_per_kg", Some(x)) => Some(OrderForm::Dose(PlannedDose::PerKg {
                ug_per_kg: (x * 1000.0).round().max(0.0) as u32,
            })),
            (_, Some(x)) => Some(OrderForm::Dose(PlannedDose::Fixed {
                mg: x.round().max(0.0) as u32,
            })),
            (_, None) => None,
        },
    };
    let Some(form) = form else {
        if e.is_empty() {
            e.add("amount", "Enter the dose.");
        }
        return page(
            &st,
            &staff,
            id,
            None,
            Some(words(&e)),
            e,
            Typed::of("order", &f),
        )
        .await;
    };
    let r = st
        .store
        .order_dose(
            &staff.actor(),
            staff.clinic_id(),
            id,
            form,
            kap_store::now(),
        )
        .await;
    done(&st, &staff, id, r, "order", Typed::of("order", &f)).await
}

pub(super) async fn administer(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut e = FieldErrors::new();
    let started_at = time_of(&staff, field(&f, "started_at"), "started_at", &mut e);
    let expiry = match field(&f, "expiry").trim() {
        "" => None,
        v => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                e.add("expiry", "Enter the expiry date.");
                None
            }
        },
    };
    let form = AdminForm {
        order_id: Uuid::parse_str(field(&f, "order_id")).unwrap_or_default(),
        lot: field(&f, "lot").to_owned(),
        expiry,
        started_at,
        given_by: Uuid::parse_str(field(&f, "given_by")).unwrap_or_default(),
        supervised_by: Uuid::parse_str(field(&f, "supervised_by")).unwrap_or_default(),
    };
    if !e.is_empty() {
        return page(
            &st,
            &staff,
            id,
            None,
            Some(words(&e)),
            e,
            Typed::of("administration", &f),
        )
        .await;
    }
    let now = kap_store::now();
    let r = st
        .store
        .start_administration(
            &staff.actor(),
            staff.clinic_id(),
            id,
            &form,
            staff.tz.date(&now),
            now,
        )
        .await;
    done(
        &st,
        &staff,
        id,
        r,
        "administration",
        Typed::of("administration", &f),
    )
    .await
}

pub(super) async fn step(
    State(st): State<AppState>,
    staff: Staff,
    Path((id, admin)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let admin = parse_id(&admin)?;
    let mut e = FieldErrors::new();
    let at = time_of(&staff, field(&f, "at"), "at", &mut e);
    let step = match field(&f, "step") {
        "unit" => Step::Unit(at),
        other => match AdminChange::from_code(other) {
            Some(c) => Step::Change(c, at, field(&f, "reason").to_owned()),
            None => {
                e.add("step", "Choose what happened.");
                Step::Unit(at)
            }
        },
    };
    if !e.is_empty() {
        return page(
            &st,
            &staff,
            id,
            None,
            Some(words(&e)),
            e,
            Typed::of("step", &f),
        )
        .await;
    }
    let r = st
        .store
        .administration_step(
            &staff.actor(),
            staff.clinic_id(),
            id,
            admin,
            &step,
            client_id(&f),
            kap_store::now(),
        )
        .await;
    done(&st, &staff, id, r, "administration", Typed::of("step", &f)).await
}

pub(super) async fn vitals(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut e = FieldErrors::new();
    let at = time_of(&staff, field(&f, "at"), "at", &mut e);
    let form = VitalsForm {
        systolic: number(field(&f, "systolic"), "systolic", &mut e),
        diastolic: number(field(&f, "diastolic"), "diastolic", &mut e),
        heart_rate: number(field(&f, "heart_rate"), "heart_rate", &mut e),
        spo2: number(field(&f, "spo2"), "spo2", &mut e),
        respiratory_rate: number(field(&f, "respiratory_rate"), "respiratory_rate", &mut e),
    };
    if !e.is_empty() {
        return page(
            &st,
            &staff,
            id,
            None,
            Some(words(&e)),
            e,
            Typed::of("vitals", &f),
        )
        .await;
    }
    let r = st
        .store
        .record_vitals(
            &staff.actor(),
            staff.clinic_id(),
            id,
            &form,
            at,
            client_id(&f),
            kap_store::now(),
        )
        .await;
    done(&st, &staff, id, r, "flowsheet", Typed::of("vitals", &f)).await
}

pub(super) async fn observation(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut e = FieldErrors::new();
    let at = time_of(&staff, field(&f, "at"), "at", &mut e);
    let rating = match field(&f, "kind") {
        "moaas" => match field(&f, "moaas")
            .parse::<u32>()
            .ok()
            .and_then(Moaas::from_score)
        {
            Some(m) => Some(Rating::Moaas(m)),
            None => {
                e.add("moaas", "Choose the MOAA/S score (0 to 5).");
                None
            }
        },
        "cadss6" => {
            let mut items = [0u8; 6];
            for (i, item) in kap_domain::dosing::CADSS6_ITEMS.iter().enumerate() {
                let name = format!("cadss{item}");
                match field(&f, &name).trim().parse::<u8>() {
                    Ok(v) if v <= 4 => items[i] = v,
                    _ => e.add(name, format!("Score CADSS item {item} from 0 to 4.")),
                }
            }
            Some(Rating::Cadss6(items))
        }
        "escort" => Some(Rating::EscortPresent(field(&f, "text").to_owned())),
        _ => Some(Rating::Note(field(&f, "text").to_owned())),
    };
    let (Some(rating), true) = (rating, e.is_empty()) else {
        return page(
            &st,
            &staff,
            id,
            None,
            Some(words(&e)),
            e,
            Typed::of("observation", &f),
        )
        .await;
    };
    let r = st
        .store
        .record_observation(
            &staff.actor(),
            staff.clinic_id(),
            id,
            &rating,
            at,
            client_id(&f),
            kap_store::now(),
        )
        .await;
    done(
        &st,
        &staff,
        id,
        r,
        "flowsheet",
        Typed::of("observation", &f),
    )
    .await
}

pub(super) async fn adverse(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut e = FieldErrors::new();
    let onset_at = time_of(&staff, field(&f, "onset_at"), "onset_at", &mut e);
    let kind = AdverseKind::from_code(field(&f, "kind"));
    let severity = AdverseSeverity::from_code(field(&f, "severity"));
    if kind.is_none() {
        e.add("kind", "Choose what kind of adverse event.");
    }
    if severity.is_none() {
        e.add("severity", "Choose how severe it is.");
    }
    let (Some(kind), Some(severity), true) = (kind, severity, e.is_empty()) else {
        return page(
            &st,
            &staff,
            id,
            None,
            Some(words(&e)),
            e,
            Typed::of("adverse", &f),
        )
        .await;
    };
    let form = AdverseForm {
        kind,
        description: field(&f, "description").to_owned(),
        severity,
        onset_at,
        action: field(&f, "action").to_owned(),
    };
    let r = st
        .store
        .record_adverse_event(
            &staff.actor(),
            staff.clinic_id(),
            id,
            &form,
            client_id(&f),
            kap_store::now(),
        )
        .await;
    done(&st, &staff, id, r, "flowsheet", Typed::of("adverse", &f)).await
}

pub(super) async fn adverse_update(
    State(st): State<AppState>,
    staff: Staff,
    Path((id, event)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let event = parse_id(&event)?;
    let mut e = FieldErrors::new();
    let at = time_of(&staff, field(&f, "at"), "at", &mut e);
    let Some(outcome) = AdverseOutcome::from_code(field(&f, "outcome")) else {
        e.add("outcome", "Choose the outcome.");
        return page(
            &st,
            &staff,
            id,
            None,
            Some(words(&e)),
            e,
            Typed::of("adverse_update", &f),
        )
        .await;
    };
    if !e.is_empty() {
        return page(
            &st,
            &staff,
            id,
            None,
            Some(words(&e)),
            e,
            Typed::of("adverse_update", &f),
        )
        .await;
    }
    let r = st
        .store
        .update_adverse_event(
            &staff.actor(),
            staff.clinic_id(),
            id,
            event,
            outcome,
            at,
            field(&f, "note"),
            kap_store::now(),
        )
        .await;
    done(
        &st,
        &staff,
        id,
        r,
        "flowsheet",
        Typed::of("adverse_update", &f),
    )
    .await
}

pub(super) async fn rems(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut e = FieldErrors::new();
    let ready_minutes = match field(&f, "ready_minutes").trim() {
        "" => None,
        v => match v.parse::<u32>() {
            Ok(m) => Some(m),
            Err(_) => {
                e.add("ready_minutes", "Enter whole minutes.");
                None
            }
        },
    };
    if !e.is_empty() {
        return page(
            &st,
            &staff,
            id,
            None,
            Some(words(&e)),
            e,
            Typed::of("rems", &f),
        )
        .await;
    }
    let answers = RemsAnswers {
        benzodiazepines: yes_no(&f, "benzodiazepines"),
        non_benzo_sedative_hypnotics: yes_no(&f, "non_benzo_sedative_hypnotics"),
        psychostimulants: yes_no(&f, "psychostimulants"),
        maois: yes_no(&f, "maois"),
        opioids: yes_no(&f, "opioids"),
        hcp_phone: field(&f, "hcp_phone").trim().to_owned(),
        setting_address: field(&f, "setting_address").trim().to_owned(),
        ready_minutes,
        bp_after_40: field(&f, "bp_after_40").trim().to_owned(),
        sedation: yes_no(&f, "sedation"),
        dissociation: yes_no(&f, "dissociation"),
        respiratory_depression: yes_no(&f, "respiratory_depression"),
        other_adverse: field(&f, "other_adverse").trim().to_owned(),
    };
    let r = st
        .store
        .record_rems_answers(
            &staff.actor(),
            staff.clinic_id(),
            id,
            &answers,
            kap_store::now(),
        )
        .await;
    done(&st, &staff, id, r, "rems", Typed::of("rems", &f)).await
}

pub(super) async fn rems_submitted(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let now = kap_store::now();
    let today = staff.tz.date(&now);
    let on = match field(&f, "on").trim() {
        "" => today,
        v => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                let e = FieldErrors::single("on", "Enter the date the form was submitted.");
                return page(
                    &st,
                    &staff,
                    id,
                    None,
                    Some(words(&e)),
                    e,
                    Typed::of("rems_submitted", &f),
                )
                .await;
            }
        },
    };
    let r = st
        .store
        .mark_rems_submitted(&staff.actor(), staff.clinic_id(), id, on, today)
        .await;
    done(&st, &staff, id, r, "rems", Typed::of("rems_submitted", &f)).await
}

pub(super) async fn discharge(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut e = FieldErrors::new();
    let at = time_of(&staff, field(&f, "at"), "at", &mut e);
    if !e.is_empty() {
        return page(
            &st,
            &staff,
            id,
            None,
            Some(words(&e)),
            e,
            Typed::of("discharge", &f),
        )
        .await;
    }
    let form = DischargeForm {
        at,
        escort: field(&f, "escort").to_owned(),
        instructions: field(&f, "instructions").to_owned(),
        note: field(&f, "note").to_owned(),
    };
    let r = st
        .store
        .discharge(
            &staff.actor(),
            staff.clinic_id(),
            id,
            &form,
            kap_store::now(),
        )
        .await;
    done(&st, &staff, id, r, "discharge", Typed::of("discharge", &f)).await
}

pub(super) async fn sign(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(_f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let r = st
        .store
        .sign_session(&staff.actor(), staff.clinic_id(), id, kap_store::now())
        .await;
    done(&st, &staff, id, r, "sign", Typed::default()).await
}

pub(super) async fn addendum(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let r = st
        .store
        .add_session_addendum(
            &staff.actor(),
            staff.clinic_id(),
            id,
            field(&f, "reason"),
            field(&f, "text"),
            kap_store::now(),
        )
        .await;
    done(&st, &staff, id, r, "addenda", Typed::of("addendum", &f)).await
}
