//! The demo's dosing sessions: every esketamine and IV dosing visit up to yesterday replayed as
//! the chair would have recorded it — checklist, pre-dose vitals, the prescriber's order and
//! its administration (devices 5 min apart, or a 40-min infusion), vitals every 10–15 min with
//! the usual rise of about 10 mmHg around 30–40 min, MOAA/S and CADSS-6, the escort, discharge
//! and the prescriber's co-signature; for esketamine the REMS answers, marked submitted for all
//! but the two latest. Today's visit is in monitoring, with a blood-pressure alert the
//! prescriber has acknowledged. Every entry goes through the store's checks, written as of the
//! moment it replays (the store's `now`), never after the real clock.

use super::Rng;
use super::course::CourseStaff;
use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, Duration, Utc};
use kap_domain::audit::{Actor, ActorKind};
use kap_domain::consent::{NewRems, RemsStatus};
use kap_domain::dosing::checklist::ChecklistForm;
use kap_domain::dosing::flowsheet::VitalsForm;
use kap_domain::dosing::order::{AdminForm, Giving, OrderForm, Step, giving, units_needed};
use kap_domain::dosing::{AdminChange, Moaas, Pregnancy, Rating, RemsAnswers};
use kap_domain::person::Sex;
use kap_domain::protocol::dose::PlannedDose;
use kap_domain::time::TimeZone;
use kap_store::Store;
use kap_store::dosing::DischargeForm;
use std::collections::HashMap;
use uuid::Uuid;

const INSTRUCTIONS: &str =
    "No driving or operating machinery until the next day after a restful sleep.";

const ESCORTS: &[&str] = &["partner", "friend", "sibling", "neighbour", "parent"];
const INTENTIONS: &[&str] = &[
    "To notice the heaviness without being pulled under by it.",
    "To find a little more patience with myself at work.",
    "To reconnect with what I used to enjoy.",
    "To rest, and let whatever comes, come.",
];
const TODAY_ACTION: &str = "Repeated after 5 min seated rest: 178/96. No headache, chest pain \
or visual change. Prescriber at the chair; blood pressure rechecked every few minutes until back \
within the protocol's limits.";

/// A patient's own numbers, the same at every visit.
struct Patient {
    weight_kg: f64,
    escort: String,
    intention: &'static str,
    pregnancy: Pregnancy,
    /// Resting blood pressure and heart rate.
    systolic: f64,
    diastolic: f64,
    heart_rate: f64,
}

/// One thing recorded on the flowsheet after the first dose, `minute` after it.
enum Entry {
    Vitals(VitalsForm),
    Unit,
    InfusionComplete,
    Rating(Rating),
}

/// The staff and clock a replay writes with.
struct Chair<'a> {
    store: &'a Store,
    clinic: Uuid,
    nurse: Actor,
    prescriber: Actor,
    nurse_id: Uuid,
    prescriber_id: Uuid,
    tz: TimeZone,
    /// The real time: nothing is written as of later.
    now: DateTime<Utc>,
}

impl Chair<'_> {
    /// When an entry made at `at` was typed: a minute later, but never after the real clock.
    fn typed(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        (at + Duration::minutes(1)).min(self.now)
    }
}

/// Seeds the sessions of the checked-in dosing visits; returns how many.
pub async fn seed(
    store: &Store,
    rng: &mut Rng,
    clinic: Uuid,
    visits: &[(Uuid, DateTime<Utc>)],
    staff: &CourseStaff,
    tz: TimeZone,
) -> Result<usize> {
    let actor = |id: Uuid| Actor {
        staff_id: Some(id),
        kind: ActorKind::Staff,
        clinic_id: Some(clinic),
        address: None,
    };
    let nurse_id = staff.nurse.context("a nurse")?;
    let prescriber_id = staff.prescriber.context("a prescriber")?;
    let chair = Chair {
        store,
        clinic,
        nurse: actor(nurse_id),
        prescriber: actor(prescriber_id),
        nurse_id,
        prescriber_id,
        tz,
        now: kap_store::now(),
    };
    let today = tz.date(&chair.now);
    let mut visits = visits.to_vec();
    visits.sort_by_key(|v| v.1);
    let mut patients: HashMap<Uuid, Patient> = HashMap::new();
    let mut rems_due = vec![];
    for (appointment, starts_at) in &visits {
        let in_chair = tz.date(starts_at) == today;
        // Today's patient arrived an hour and a quarter ago, whatever the booked time.
        let opened = if in_chair {
            chair.now - Duration::minutes(75)
        } else {
            *starts_at - Duration::minutes(5)
        };
        let id = store
            .open_session(&chair.nurse, clinic, *appointment, opened)
            .await?;
        let rec = store.dosing_session(&chair.nurse, clinic, id).await?;
        let s = &rec.session;
        if let std::collections::hash_map::Entry::Vacant(slot) = patients.entry(s.patient_id) {
            let p = patient(&chair, rng, s.patient_id, rec.sex, opened).await?;
            slot.insert(p);
            if s.is_esketamine() {
                let r = NewRems {
                    status: RemsStatus::Enrolled,
                    on: tz.date(&opened) - Duration::days(3),
                    reference: None,
                };
                store
                    .record_rems(&chair.nurse, clinic, s.patient_id, &r)
                    .await?;
            }
        }
        let p = &patients[&s.patient_id];
        let dosed = pre_dose(&chair, rng, id, p, s.planned, opened).await?;
        let units = match (giving(&s.protocol), s.planned) {
            (Giving::Units { .. }, PlannedDose::Fixed { mg }) => {
                units_needed(&s.protocol, f64::from(mg)).unwrap_or(1)
            }
            _ => 1,
        };
        let esketamine = s.is_esketamine();
        if in_chair {
            in_monitoring(&chair, id, p, dosed, units).await?;
            continue;
        }
        let plan = if esketamine {
            esketamine_flowsheet(rng, p, units)
        } else {
            iv_flowsheet(rng, p)
        };
        let (moaas_low, dissociated) = replay(&chair, id, dosed, &plan).await?;
        let minimum = i64::from(s.protocol.monitoring.minimum_minutes.get());
        let discharged = dosed.1 + Duration::minutes(minimum + 3 + rng.below(8) as i64);
        finish(
            &chair,
            id,
            p,
            discharged,
            esketamine,
            moaas_low,
            dissociated,
        )
        .await?;
        if esketamine {
            rems_due.push((id, tz.date(&dosed.1)));
        }
    }
    // The REMS forms go in a day or two after the session; the two latest are still due.
    let submitted = rems_due.len().saturating_sub(2);
    for (id, treated) in &rems_due[..submitted] {
        let on = (*treated + Duration::days(1 + i64::from(treated.day() % 2))).min(today);
        store
            .mark_rems_submitted(&chair.nurse, clinic, *id, on, today)
            .await?;
    }
    Ok(visits.len())
}

/// Weight from the chart, an escort, an intention and resting vitals for one patient.
async fn patient(
    chair: &Chair<'_>,
    rng: &mut Rng,
    id: Uuid,
    sex: Sex,
    at: DateTime<Utc>,
) -> Result<Patient> {
    let (_, measurements) = chair.store.patient(&chair.nurse, chair.clinic, id).await?;
    let weight_kg = measurements
        .iter()
        .filter(|m| m.measured_at <= at)
        .find_map(|m| m.weight)
        .or_else(|| measurements.iter().find_map(|m| m.weight))
        .map_or(72.0, |w| f64::from(w.grams() / 100) / 10.0);
    Ok(Patient {
        weight_kg,
        escort: format!(
            "{} {} ({}), 555-01{:02}",
            rng.pick(super::FIRST),
            rng.pick(super::LAST),
            rng.pick(ESCORTS),
            rng.below(100)
        ),
        intention: rng.pick(INTENTIONS),
        pregnancy: if sex == Sex::Female {
            Pregnancy::NegativeTest
        } else {
            Pregnancy::NotApplicable
        },
        systolic: 118.0 + rng.below(14) as f64,
        diastolic: 70.0 + rng.below(10) as f64,
        heart_rate: 70.0 + rng.below(10) as f64,
    })
}

/// Blood pressure, heart rate, SpO2 and respiratory rate `rise` mmHg above rest, with the
/// small scatter of real readings.
fn vitals(rng: &mut Rng, p: &Patient, rise: f64) -> VitalsForm {
    let mut jitter = |n: u64| rng.below(2 * n + 1) as f64 - n as f64;
    VitalsForm {
        systolic: Some(p.systolic + rise + jitter(2)),
        diastolic: Some(p.diastolic + (rise * 0.6).round() + jitter(2)),
        heart_rate: Some(p.heart_rate + (rise * 0.4).round() + jitter(3)),
        spo2: Some((97.5 + jitter(1) + jitter(1) / 2.0).floor()),
        respiratory_rate: Some(14.0 + jitter(2)),
    }
}

/// The usual rise after ketamine: up to about 10 mmHg by 30–40 min, back to rest by 90.
fn rise(minute: i64) -> f64 {
    match minute {
        ..=0 => 0.0,
        1..=35 => (minute as f64 * 10.0 / 35.0).round(),
        36..=45 => 10.0,
        46..=90 => ((90 - minute) as f64 * 10.0 / 45.0).round(),
        _ => 0.0,
    }
}

/// Checklist, pre-dose vitals, the order and the start of the first dose; returns the
/// administration and when it started.
async fn pre_dose(
    chair: &Chair<'_>,
    rng: &mut Rng,
    id: Uuid,
    p: &Patient,
    planned: PlannedDose,
    opened: DateTime<Utc>,
) -> Result<(Uuid, DateTime<Utc>)> {
    let (store, clinic) = (chair.store, chair.clinic);
    let at = |m: i64| opened + Duration::minutes(m);
    let checklist = ChecklistForm {
        identity_confirmed: true,
        last_food_at: Some(at(-180 - rng.below(60) as i64)),
        last_fluids_at: Some(at(-45 - rng.below(30) as i64)),
        nasal_medicine_at: None,
        escort: p.escort.clone(),
        pregnancy: Some(p.pregnancy),
        medications_reviewed: true,
        benzodiazepine_today: false,
        medication_note: "No changes since the last visit.".to_owned(),
        intention_reviewed: true,
        intention: p.intention.to_owned(),
        weight_kg: Some(p.weight_kg),
    };
    store
        .record_checklist(&chair.nurse, clinic, id, &checklist, at(4))
        .await?;
    let pre = vitals(rng, p, 0.0);
    store
        .record_vitals(&chair.nurse, clinic, id, &pre, at(6), None, at(7))
        .await?;
    let order = store
        .order_dose(
            &chair.prescriber,
            clinic,
            id,
            OrderForm::Dose(planned),
            at(9),
        )
        .await?;
    let started = at(12);
    let day = chair.tz.date(&started);
    let form = AdminForm {
        order_id: order,
        lot: format!(
            "{}{:05}",
            if planned_is_fixed(planned) {
                "EK"
            } else {
                "KT"
            },
            rng.below(100_000)
        ),
        expiry: Some(day + Duration::days(200 + rng.below(200) as i64)),
        started_at: started,
        given_by: chair.nurse_id,
        supervised_by: chair.prescriber_id,
    };
    let admin = store
        .start_administration(&chair.nurse, clinic, id, &form, day, at(13))
        .await?;
    Ok((admin, started))
}

fn planned_is_fixed(p: PlannedDose) -> bool {
    matches!(p, PlannedDose::Fixed { .. })
}

fn moaas(score: u32) -> Rating {
    Rating::Moaas(Moaas::from_score(score).unwrap_or(Moaas::Five))
}

/// CADSS-6 items, each 0 to `max`.
fn cadss(rng: &mut Rng, max: u64) -> Rating {
    Rating::Cadss6(std::array::from_fn(|_| rng.below(max + 1) as u8))
}

/// Devices 5 min apart; vitals at 10 min, at the 40-min blood-pressure check and every 15 min
/// around it; MOAA/S at 15, 45 and 90 min and CADSS-6 when dissociation peaks.
fn esketamine_flowsheet(rng: &mut Rng, p: &Patient, units: u32) -> Vec<(i64, Entry)> {
    let mut out: Vec<(i64, Entry)> = (1..units)
        .map(|u| (i64::from(u) * 5, Entry::Unit))
        .collect();
    for m in [10, 25, 40, 55, 70, 85, 100, 115] {
        out.push((m, Entry::Vitals(vitals(rng, p, rise(m)))));
    }
    out.push((15, Entry::Rating(moaas(4 + rng.below(2) as u32))));
    out.push((41, Entry::Rating(cadss(rng, 2))));
    out.push((45, Entry::Rating(moaas(4 + rng.below(2) as u32))));
    out.push((90, Entry::Rating(moaas(5))));
    out
}

/// A 40-min infusion with vitals every 10 min during it and every 15 after; MOAA/S at 20, 40
/// and 70 min and CADSS-6 as the infusion ends.
fn iv_flowsheet(rng: &mut Rng, p: &Patient) -> Vec<(i64, Entry)> {
    let mut out = vec![(40, Entry::InfusionComplete)];
    for m in [10, 20, 30, 40, 55, 70, 85] {
        out.push((m, Entry::Vitals(vitals(rng, p, rise(m)))));
    }
    out.push((20, Entry::Rating(moaas(4))));
    out.push((40, Entry::Rating(moaas(4 + rng.below(2) as u32))));
    out.push((41, Entry::Rating(cadss(rng, 2))));
    out.push((70, Entry::Rating(moaas(5))));
    out
}

/// Writes a flowsheet in time order; returns whether MOAA/S went below 5 and whether a CADSS-6
/// item was above 0 (the REMS form's sedation and dissociation).
async fn replay(
    chair: &Chair<'_>,
    id: Uuid,
    (admin, started): (Uuid, DateTime<Utc>),
    plan: &[(i64, Entry)],
) -> Result<(bool, bool)> {
    let (store, clinic, nurse) = (chair.store, chair.clinic, &chair.nurse);
    let mut order: Vec<&(i64, Entry)> = plan.iter().collect();
    order.sort_by_key(|e| e.0);
    let (mut sedated, mut dissociated) = (false, false);
    for (minute, entry) in order {
        let at = started + Duration::minutes(*minute);
        let typed = chair.typed(at);
        match entry {
            Entry::Vitals(v) => {
                store
                    .record_vitals(nurse, clinic, id, v, at, None, typed)
                    .await?;
            }
            Entry::Unit => {
                store
                    .administration_step(nurse, clinic, id, admin, &Step::Unit(at), None, typed)
                    .await?;
            }
            Entry::InfusionComplete => {
                let step = Step::Change(AdminChange::Complete, at, String::new());
                store
                    .administration_step(nurse, clinic, id, admin, &step, None, typed)
                    .await?;
            }
            Entry::Rating(r) => {
                match r {
                    Rating::Moaas(m) => sedated |= m.score() < 5,
                    Rating::Cadss6(items) => dissociated |= items.iter().any(|v| *v > 0),
                    _ => {}
                }
                store
                    .record_observation(nurse, clinic, id, r, at, None, typed)
                    .await?;
            }
        }
    }
    Ok((sedated, dissociated))
}

/// The escort's arrival, discharge, the REMS answers (esketamine) and the co-signature.
async fn finish(
    chair: &Chair<'_>,
    id: Uuid,
    p: &Patient,
    discharged: DateTime<Utc>,
    esketamine: bool,
    sedated: bool,
    dissociated: bool,
) -> Result<()> {
    let (store, clinic, nurse) = (chair.store, chair.clinic, &chair.nurse);
    let escort_at = discharged - Duration::minutes(10);
    let escort = Rating::EscortPresent(p.escort.clone());
    store
        .record_observation(
            nurse,
            clinic,
            id,
            &escort,
            escort_at,
            None,
            chair.typed(escort_at),
        )
        .await?;
    let form = DischargeForm {
        at: discharged,
        escort: p.escort.clone(),
        instructions: INSTRUCTIONS.to_owned(),
        note: "Alert and oriented, steady on standing, tolerating fluids.".to_owned(),
    };
    store
        .discharge(nurse, clinic, id, &form, chair.typed(discharged))
        .await
        .with_context(|| format!("discharging demo session {id}"))?;
    if esketamine {
        let answers = RemsAnswers {
            benzodiazepines: Some(false),
            non_benzo_sedative_hypnotics: Some(false),
            psychostimulants: Some(false),
            maois: Some(false),
            opioids: Some(false),
            hcp_phone: "+1 555 0100 4000".to_owned(),
            setting_address: "12 River Street, Suite 3, Riverside (demo)".to_owned(),
            ready_minutes: None,
            bp_after_40: String::new(),
            sedation: Some(sedated),
            dissociation: Some(dissociated),
            respiratory_depression: Some(false),
            other_adverse: String::new(),
        };
        store
            .record_rems_answers(
                nurse,
                clinic,
                id,
                &answers,
                discharged + Duration::minutes(5),
            )
            .await?;
    }
    let signed = discharged + Duration::minutes(45);
    store
        .sign_session(&chair.prescriber, clinic, id, signed)
        .await
        .with_context(|| format!("signing demo session {id}"))?;
    Ok(())
}

/// Today's session, an hour into monitoring: the devices given, vitals every 10 min, and a
/// blood pressure over the protocol's alert limit at 40 min that the prescriber acknowledged,
/// coming down since.
async fn in_monitoring(
    chair: &Chair<'_>,
    id: Uuid,
    p: &Patient,
    (admin, started): (Uuid, DateTime<Utc>),
    units: u32,
) -> Result<()> {
    let (store, clinic, nurse) = (chair.store, chair.clinic, &chair.nurse);
    let bp = |s: f64, d: f64, hr: f64| VitalsForm {
        systolic: Some(s),
        diastolic: Some(d),
        heart_rate: Some(hr),
        spo2: Some(97.0),
        respiratory_rate: Some(15.0),
    };
    let (s0, d0, hr0) = (p.systolic, p.diastolic, p.heart_rate);
    let mut plan: Vec<(i64, Entry)> = (1..units)
        .map(|u| (i64::from(u) * 5, Entry::Unit))
        .collect();
    plan.extend([
        (10, Entry::Vitals(bp(s0 + 6.0, d0 + 3.0, hr0 + 2.0))),
        (15, Entry::Rating(moaas(4))),
        (20, Entry::Vitals(bp(s0 + 14.0, d0 + 6.0, hr0 + 4.0))),
        (30, Entry::Vitals(bp(s0 + 31.0, d0 + 11.0, hr0 + 6.0))),
        (41, Entry::Rating(cadss_today())),
        (42, Entry::Rating(moaas(4))),
        (47, Entry::Vitals(bp(172.0, 94.0, hr0 + 7.0))),
        (52, Entry::Vitals(bp(161.0, 90.0, hr0 + 5.0))),
        (57, Entry::Vitals(bp(152.0, 88.0, hr0 + 4.0))),
    ]);
    // The reading at 40 min, above the protocol's alert limit of 180 systolic.
    let spike_at = started + Duration::minutes(40);
    let spike = bp(184.0, 96.0, hr0 + 9.0);
    let (before, after): (Vec<_>, Vec<_>) = plan.into_iter().partition(|e| e.0 < 40);
    replay(chair, id, (admin, started), &before).await?;
    let saved = store
        .record_vitals(
            nurse,
            clinic,
            id,
            &spike,
            spike_at,
            None,
            chair.typed(spike_at),
        )
        .await?;
    replay(chair, id, (admin, started), &after).await?;
    for alert in saved.alerts {
        store
            .acknowledge_alert(&chair.prescriber, clinic, alert, TODAY_ACTION)
            .await?;
    }
    Ok(())
}

fn cadss_today() -> Rating {
    Rating::Cadss6([2, 2, 1, 1, 1, 0])
}
