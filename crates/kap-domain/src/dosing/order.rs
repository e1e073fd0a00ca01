//! Orders and administrations. The session's dose is calculated from the protocol's rule and
//! today's weight, and confirmed by a prescriber as an order; a booster is its own order, only
//! where the protocol allows one (count, minutes after the first dose, session total). Each
//! order is given once: its administration records lot, expiry, who gave and who supervised,
//! and its steps (units one by one with the protocol's rest between them; an infusion paused,
//! resumed, stopped early or completed; an injection or lozenges given at once).

use super::checklist::blockers;
use super::{AdminChange, AdminEvent, Administration, Order, OrderKind, Session};
use crate::FieldErrors;
use crate::person::Sex;
use crate::protocol::dose::{DoseCalculation, PlannedDose};
use crate::protocol::{DoseRule, Protocol};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

/// How the protocol's doses are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Giving {
    /// Unit by unit with a rest between (esketamine devices).
    Units { unit_mg: u32, minutes_between: u32 },
    /// An infusion over some minutes, which may be paused, resumed or stopped early.
    Infusion { minutes: u32 },
    /// At once: an injection, lozenges.
    Single,
}

pub fn giving(p: &Protocol) -> Giving {
    match &p.dose {
        DoseRule::Fixed {
            unit_mg: Some(u),
            minutes_between_units: Some(m),
            ..
        } => Giving::Units {
            unit_mg: u.get(),
            minutes_between: m.get(),
        },
        DoseRule::PerKg {
            infusion_minutes: Some(m),
            ..
        } => Giving::Infusion { minutes: m.get() },
        _ => Giving::Single,
    }
}

/// What the prescriber asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OrderForm {
    /// The session's dose, from the planned dose (the course's, or another within the
    /// protocol's limits for today).
    Dose(PlannedDose),
    /// A booster: mg for fixed-dose protocols, mg/kg for weight-based ones.
    Booster(f64),
}

/// An order worked out and checked, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    pub kind: OrderKind,
    pub mg: f64,
    pub mg_per_kg: Option<f64>,
    pub weight_kg: f64,
    pub steps: Vec<String>,
}

fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Works out and checks an order at `now`. Refused (with the reason) when the session is
/// signed, discharged or deferred, before the checklist (today's weight), for a second dose
/// order, or for a dose outside the protocol's rule or booster limits.
pub fn prepare(
    s: &Session,
    form: OrderForm,
    sex: Sex,
    height_cm: Option<f64>,
    now: DateTime<Utc>,
) -> Result<NewOrder, String> {
    if s.signed() || s.discharge.is_some() {
        return Err("The session is closed: no more orders.".to_owned());
    }
    if s.deferred() {
        return Err("The session was deferred: no orders.".to_owned());
    }
    let Some(c) = &s.checklist else {
        return Err("Complete the pre-dose checklist (with today's weight) first.".to_owned());
    };
    match form {
        OrderForm::Dose(planned) => {
            if s.orders.iter().any(|o| o.kind == OrderKind::Dose) {
                return Err(
                    "This session already has its dose order; a further dose is a booster."
                        .to_owned(),
                );
            }
            let calc: DoseCalculation =
                s.protocol
                    .calculate_dose(planned, c.weight_kg, height_cm, sex)?;
            let mg_per_kg = match s.protocol.dose {
                DoseRule::PerKg { .. } => calc.dosing_weight_kg.map(|w| calc.mg / w),
                DoseRule::Fixed { .. } => None,
            };
            Ok(NewOrder {
                kind: OrderKind::Dose,
                mg: calc.mg,
                mg_per_kg,
                weight_kg: calc.dosing_weight_kg.unwrap_or(c.weight_kg),
                steps: calc.steps,
            })
        }
        OrderForm::Booster(amount) => booster(s, amount, now),
    }
}

fn booster(s: &Session, amount: f64, now: DateTime<Utc>) -> Result<NewOrder, String> {
    let Some(rule) = &s.protocol.booster else {
        return Err("This protocol allows no booster.".to_owned());
    };
    let Some(first) = s.orders.iter().find(|o| o.kind == OrderKind::Dose) else {
        return Err("Order and give the session's dose before a booster.".to_owned());
    };
    let Some(given) = s.administration_of(first.id) else {
        return Err("Give the session's dose before a booster.".to_owned());
    };
    if s.orders.iter().any(|o| s.administration_of(o.id).is_none()) {
        return Err("An order is not yet given; give it before ordering a booster.".to_owned());
    }
    if s.giving() {
        return Err("A dose is still being given; order the booster after it.".to_owned());
    }
    let count = s
        .orders
        .iter()
        .filter(|o| matches!(o.kind, OrderKind::Booster(_)))
        .count() as u32;
    let max_count = rule.max_count.get();
    if count >= max_count {
        return Err(format!(
            "The protocol allows at most {max_count} booster(s) in a session."
        ));
    }
    let after = i64::from(rule.min_minutes_after_first.get());
    let earliest = given.started_at + Duration::minutes(after);
    if now < earliest {
        return Err(format!(
            "A booster may be given from {after} min after the first dose started ({} min to go).",
            (earliest - now).num_minutes() + 1
        ));
    }
    if !(amount.is_finite() && amount > 0.0) {
        return Err("Enter the booster dose, more than 0.".to_owned());
    }
    let max_total = rule.max_total.get();
    let kind = OrderKind::Booster(count + 1);
    match &s.protocol.dose {
        DoseRule::PerKg {
            round_to_mg,
            max_mg,
            ..
        } => {
            let w = first.weight_kg;
            let so_far: f64 = s.orders.iter().filter_map(|o| o.mg_per_kg).sum();
            if so_far + amount > max_total + 1e-9 {
                return Err(format!(
                    "{} mg/kg more would make {} mg/kg in this session; the protocol's maximum is {} mg/kg.",
                    num(amount),
                    num(so_far + amount),
                    num(max_total)
                ));
            }
            let round = round_to_mg.get();
            let raw = amount * w;
            let mut steps = vec![format!(
                "{} mg/kg × {} kg = {} mg",
                num(amount),
                num(w),
                num(raw)
            )];
            let mut mg = if round > 0.0 {
                (raw / round).round() * round
            } else {
                raw
            };
            // Rounding up must not carry the session over its maximum: round down instead.
            if round > 0.0 && so_far + mg / w > max_total + 1e-9 {
                mg = (raw / round).floor() * round;
            }
            if round > 0.0 {
                steps.push(format!(
                    "rounded to {} mg steps: {} mg",
                    num(round),
                    num(mg)
                ));
            }
            if let Some(cap) = max_mg
                && mg > cap.get()
            {
                mg = cap.get();
                steps.push(format!("capped at the protocol's {} mg per dose", num(mg)));
            }
            if mg <= 0.0 {
                return Err("This booster rounds to no dose at all.".to_owned());
            }
            steps.push(format!(
                "session total {} mg/kg of at most {} mg/kg",
                num(so_far + mg / w),
                num(max_total)
            ));
            Ok(NewOrder {
                kind,
                mg,
                mg_per_kg: Some(mg / w),
                weight_kg: w,
                steps,
            })
        }
        DoseRule::Fixed { unit_mg, .. } => {
            if let Some(u) = unit_mg {
                let u = f64::from(u.get());
                if (amount / u).fract() != 0.0 {
                    return Err(format!(
                        "A booster is given in whole units of {} mg.",
                        num(u)
                    ));
                }
            }
            let so_far: f64 = s.orders.iter().map(|o| o.mg).sum();
            if so_far + amount > max_total + 1e-9 {
                return Err(format!(
                    "{} mg more would make {} mg in this session; the protocol's maximum is {} mg.",
                    num(amount),
                    num(so_far + amount),
                    num(max_total)
                ));
            }
            Ok(NewOrder {
                kind,
                mg: amount,
                mg_per_kg: None,
                weight_kg: first.weight_kg,
                steps: vec![format!(
                    "booster {} mg; session total {} mg of at most {} mg",
                    num(amount),
                    num(so_far + amount),
                    num(max_total)
                )],
            })
        }
    }
}

/// The start of an administration as typed.
#[derive(Debug, Clone)]
pub struct AdminForm {
    pub order_id: Uuid,
    pub lot: String,
    pub expiry: Option<NaiveDate>,
    pub started_at: DateTime<Utc>,
    pub given_by: Uuid,
    pub supervised_by: Uuid,
}

/// Checks the start of an administration: the order exists and is not yet given, dosing may
/// start (checklist, pre-dose vitals, no hold), lot and an unexpired expiry, a time not in the
/// future and after the order. `today` is the clinic's date.
pub fn check_start(
    s: &Session,
    f: &AdminForm,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), FieldErrors> {
    let mut e = FieldErrors::new();
    if s.signed() || s.discharge.is_some() {
        e.add("order_id", "The session is closed.");
        return Err(e);
    }
    let Some(order) = s.orders.iter().find(|o| o.id == f.order_id) else {
        e.add("order_id", "There is no such order in this session.");
        return Err(e);
    };
    if s.administration_of(order.id).is_some() {
        e.add(
            "order_id",
            "This order was already given; a further dose needs a new order.",
        );
        return Err(e);
    }
    if order.kind == OrderKind::Dose {
        for b in blockers(s) {
            e.add("order_id", b);
        }
    } else if s.giving() {
        e.add("order_id", "A dose is still being given.");
    }
    if f.lot.trim().is_empty() {
        e.add("lot", "Enter the lot number.");
    }
    match f.expiry {
        None => e.add("expiry", "Enter the expiry date."),
        Some(d) if d < today => e.add("expiry", format!("This lot expired on {d}: do not use it.")),
        _ => {}
    }
    if f.given_by == f.supervised_by && f.given_by != Uuid::nil() {
        // A prescriber may give and supervise their own dose; nothing to check here.
    }
    if f.started_at > now + Duration::minutes(1) {
        e.add("started_at", "This time is in the future.");
    } else if f.started_at < order.entered.entered_at - Duration::minutes(1) {
        e.add("started_at", "The dose cannot start before it was ordered.");
    }
    if e.is_empty() { Ok(()) } else { Err(e) }
}

/// A step on a running administration.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Unit(DateTime<Utc>),
    Change(AdminChange, DateTime<Utc>, String),
}

impl Step {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Step::Unit(at) | Step::Change(_, at, _) => *at,
        }
    }
}

/// Checks a step on an administration: it is still being given, the step suits how the
/// protocol gives doses, times run forward, units keep the protocol's rest, a pause or an
/// early stop has a reason.
pub fn check_step(
    s: &Session,
    a: &Administration,
    step: &Step,
    now: DateTime<Utc>,
) -> Result<(), String> {
    if s.signed() || s.discharge.is_some() {
        return Err("The session is closed.".to_owned());
    }
    if a.finished_at().is_some() {
        return Err("This dose is already complete.".to_owned());
    }
    let at = step.at();
    if at > now + Duration::minutes(1) {
        return Err("This time is in the future.".to_owned());
    }
    let last = a.last_at();
    if at < last {
        return Err(format!(
            "This time is before the last step of this dose ({}).",
            last.format("%H:%M")
        ));
    }
    match (giving(&s.protocol), step) {
        (
            Giving::Units {
                unit_mg,
                minutes_between,
            },
            Step::Unit(_),
        ) => {
            let needed = a.units_needed.unwrap_or(0) as usize;
            if a.units_given() >= needed {
                return Err(format!("All {needed} units of {unit_mg} mg were given."));
            }
            if let Some(prev) = a
                .events
                .iter()
                .filter(|e| matches!(e, AdminEvent::Unit { .. }))
                .map(AdminEvent::at)
                .max()
            {
                let rest = Duration::minutes(i64::from(minutes_between));
                if at - prev < rest {
                    return Err(format!(
                        "The protocol asks for {minutes_between} min between units; the next may be given at {}.",
                        (prev + rest).format("%H:%M")
                    ));
                }
            }
            Ok(())
        }
        (Giving::Units { .. }, Step::Change(AdminChange::Stop, _, reason)) => {
            need_reason(reason, "stopping early")
        }
        (Giving::Units { .. }, Step::Change(..)) => {
            Err("Record each unit as it is given, or stop early with a reason.".to_owned())
        }
        (Giving::Infusion { .. }, Step::Change(c, _, reason)) => match c {
            AdminChange::Pause if a.paused() => Err("The infusion is already paused.".to_owned()),
            AdminChange::Pause => need_reason(reason, "a pause"),
            AdminChange::Resume if !a.paused() => Err("The infusion is not paused.".to_owned()),
            AdminChange::Resume => Ok(()),
            AdminChange::Stop => need_reason(reason, "stopping early"),
            AdminChange::Complete if a.paused() => {
                Err("The infusion is paused: resume it, or stop it early with a reason.".to_owned())
            }
            AdminChange::Complete => Ok(()),
        },
        (Giving::Single, Step::Change(AdminChange::Complete, ..)) => Ok(()),
        (_, Step::Unit(_)) => Err("This protocol's doses are not given unit by unit.".to_owned()),
        (Giving::Single, Step::Change(..)) => {
            Err("This dose is given at once; there is nothing to pause or resume.".to_owned())
        }
    }
}

fn need_reason(reason: &str, what: &str) -> Result<(), String> {
    if reason.trim().is_empty() {
        Err(format!("Give the reason for {what}."))
    } else {
        Ok(())
    }
}

/// How many units a dose takes, when given unit by unit.
pub fn units_needed(p: &Protocol, mg: f64) -> Option<u32> {
    match giving(p) {
        Giving::Units { unit_mg, .. } if unit_mg > 0 => {
            Some((mg / f64::from(unit_mg)).round() as u32)
        }
        _ => None,
    }
}

/// The first steps stored with a new administration: the first unit at the start for units;
/// "complete" at the start for a dose given at once; nothing for an infusion.
pub fn opening_steps(p: &Protocol, started_at: DateTime<Utc>) -> Vec<Step> {
    match giving(p) {
        Giving::Units { .. } => vec![Step::Unit(started_at)],
        Giving::Single => vec![Step::Change(
            AdminChange::Complete,
            started_at,
            String::new(),
        )],
        Giving::Infusion { .. } => vec![],
    }
}

/// The order's line for the record: "Dose 36.5 mg (0.5 mg/kg of 73 kg)".
pub fn describe(o: &Order) -> String {
    let what = match o.kind {
        OrderKind::Dose => "Dose".to_owned(),
        OrderKind::Booster(n) => format!("Booster {n}"),
    };
    match o.mg_per_kg {
        Some(k) => format!(
            "{what} {} mg ({} mg/kg of {} kg)",
            num(o.mg),
            num(k),
            num(o.weight_kg)
        ),
        None => format!("{what} {} mg", num(o.mg)),
    }
}
