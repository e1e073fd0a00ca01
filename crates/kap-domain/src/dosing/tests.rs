//! The dosing session's rules, checked against the protocols Kapstone ships
//! (`protocols/*.toml`): the pre-dose checklist and its hold, the dose order and its
//! administration, the flowsheet's vitals and alerts, discharge readiness, the esketamine REMS
//! form, and where a session stands. Facts: `../shared/reference/clinical.md` §1 (IV
//! monitoring), §2.3 and §2.6 (esketamine pre-dose rules, monitoring and REMS), §4.3 (KAP doses),
//! §5.1 (MOAA/S, CADSS-6).
//!
//! Every session here runs on one clock: minute 0 is the start of the first dose, at 09:00 UTC
//! on 4 March 2025; the session is opened at minute −30.

use super::checklist::ChecklistForm;
use super::flowsheet::VitalsForm;
use super::order::{AdminForm, Giving, NewOrder, OrderForm, Step};
use super::*;
use crate::FieldErrors;
use crate::person::Sex;
use crate::protocol::dose::PlannedDose;
use crate::protocol::{Threshold, VitalMeasure, parse, shipped};
use chrono::TimeZone;
use proptest::prelude::*;
use std::sync::LazyLock;

const IV: &str = "iv-ketamine";
const ESKETAMINE: &str = "esketamine-trd";
const IM: &str = "im-kap";
const SUBLINGUAL: &str = "sublingual-kap";
const ALL_PROTOCOLS: [&str; 4] = [IV, ESKETAMINE, IM, SUBLINGUAL];

const NURSE: Uuid = Uuid::from_u128(0x0000_0000_0000_0000_0000_0000_0000_0020);
const PRESCRIBER: Uuid = Uuid::from_u128(0x0000_0000_0000_0000_0000_0000_0000_0030);
const LOT: &str = "KX2291";

// ---------------------------------------------------------------------------------------------
// The builder
// ---------------------------------------------------------------------------------------------

/// The shipped protocols, read once.
static PROTOCOLS: LazyLock<Vec<Protocol>> = LazyLock::new(|| {
    shipped()
        .into_iter()
        .map(|(file, text)| parse(file, text).unwrap_or_else(|e| panic!("{file}: {e}")))
        .collect()
});

fn protocol(key: &str) -> Protocol {
    PROTOCOLS
        .iter()
        .find(|p| p.key == key)
        .cloned()
        .unwrap_or_else(|| panic!("no shipped protocol {key}"))
}

/// The clinic's date of the session.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 4).unwrap()
}

/// Minute `minute` of the session (0 = the first dose starts, 09:00 UTC).
fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 4, 9, 0, 0).unwrap() + Duration::minutes(minute)
}

fn by(who: Uuid, minute: i64) -> Entered {
    Entered {
        by: who,
        by_name: if who == PRESCRIBER {
            "Dr Priya Shah".to_owned()
        } else {
            "Nadia Okafor RN".to_owned()
        },
        entered_at: at(minute),
    }
}

/// A fixed id for the `n`-th entry of a kind, so failures name the same entries every run.
fn entry_id(kind: u128, n: usize) -> Uuid {
    Uuid::from_u128((kind << 64) | n as u128)
}

/// A session just opened (minute −30) under a shipped protocol, with the course's planned dose.
fn session(key: &str) -> Session {
    let protocol = protocol(key);
    Session {
        id: Uuid::from_u128(0x5E55),
        appointment_id: Uuid::from_u128(0xA990),
        course_id: Uuid::from_u128(0xC0),
        patient_id: Uuid::from_u128(0x9A),
        protocol_id: Uuid::from_u128(0x9807),
        planned: protocol.dose.default_planned(),
        protocol,
        opened: by(NURSE, -30),
        checklist: None,
        hold_decisions: vec![],
        orders: vec![],
        administrations: vec![],
        vitals: vec![],
        observations: vec![],
        adverse_events: vec![],
        discharge: None,
        signature: None,
        addenda: vec![],
        rems: None,
        rems_submission: None,
    }
}

/// A checklist with everything confirmed, recorded at `minute`: 73 kg, last meal 4 h and last
/// drink 90 min before it, no nasal medicine.
fn checklist_at(minute: i64) -> Checklist {
    Checklist {
        identity_confirmed: true,
        last_food_at: Some(at(minute - 240)),
        last_fluids_at: Some(at(minute - 90)),
        nasal_medicine_at: None,
        escort: "Sam Lee, 555-0100".to_owned(),
        pregnancy: Some(Pregnancy::NotApplicable),
        medications_reviewed: true,
        benzodiazepine_today: false,
        medication_note: String::new(),
        intention_reviewed: true,
        intention: "To feel less stuck".to_owned(),
        weight_kg: 73.0,
        at: at(minute),
        entered: by(NURSE, minute),
    }
}

/// Unremarkable vitals at `minute`: 122/78, 72/min, 98 %, 14/min.
fn normal(minute: i64) -> Vitals {
    Vitals {
        id: Uuid::nil(),
        at: at(minute),
        systolic: Some(122.0),
        diastolic: Some(78.0),
        heart_rate: Some(72.0),
        spo2: Some(98.0),
        respiratory_rate: Some(14.0),
        entered: by(NURSE, minute),
    }
}

fn add_vitals(s: &mut Session, mut v: Vitals) -> Uuid {
    v.id = entry_id(1, s.vitals.len());
    let id = v.id;
    s.vitals.push(v);
    id
}

/// Vitals at `minute` with this blood pressure (the rest unremarkable).
fn bp(s: &mut Session, minute: i64, systolic: f64, diastolic: f64) -> Uuid {
    add_vitals(
        s,
        Vitals {
            systolic: Some(systolic),
            diastolic: Some(diastolic),
            ..normal(minute)
        },
    )
}

fn observe(s: &mut Session, minute: i64, rating: Rating) {
    let id = entry_id(2, s.observations.len());
    s.observations.push(Observation {
        id,
        at: at(minute),
        rating,
        entered: by(NURSE, minute),
    });
}

fn moaas(s: &mut Session, minute: i64, score: u32) {
    observe(s, minute, Rating::Moaas(Moaas::from_score(score).unwrap()));
}

fn escort_arrives(s: &mut Session, minute: i64) {
    observe(s, minute, Rating::EscortPresent("Sam Lee".to_owned()));
}

/// A mild adverse event from `minute`, ongoing; its index.
fn adverse(s: &mut Session, kind: AdverseKind, minute: i64) -> usize {
    let id = entry_id(3, s.adverse_events.len());
    s.adverse_events.push(AdverseEvent {
        id,
        kind,
        description: String::new(),
        severity: AdverseSeverity::Mild,
        onset_at: at(minute),
        action: "Reassured, observed".to_owned(),
        updates: vec![],
        entered: by(NURSE, minute),
    });
    s.adverse_events.len() - 1
}

fn adverse_update(s: &mut Session, event: usize, outcome: AdverseOutcome, minute: i64) {
    s.adverse_events[event].updates.push(AdverseUpdate {
        outcome,
        at: at(minute),
        note: String::new(),
        entered: by(NURSE, minute),
    });
}

fn decide(s: &mut Session, kind: HoldDecisionKind, vitals_id: Uuid, minute: i64) {
    s.hold_decisions.push(HoldDecision {
        kind,
        reason: "Baseline hypertension, known and treated".to_owned(),
        vitals_id,
        entered: by(PRESCRIBER, minute),
    });
}

/// Stores a prepared order as the prescriber's, entered at `minute`.
fn place(s: &mut Session, o: NewOrder, minute: i64) -> Uuid {
    let id = entry_id(4, s.orders.len());
    s.orders.push(Order {
        id,
        kind: o.kind,
        mg: o.mg,
        mg_per_kg: o.mg_per_kg,
        weight_kg: o.weight_kg,
        steps: o.steps,
        entered: by(PRESCRIBER, minute),
    });
    id
}

fn prepare(s: &Session, form: OrderForm, minute: i64) -> Result<NewOrder, String> {
    order::prepare(s, form, Sex::Female, None, at(minute))
}

/// The course's planned dose, ordered at `minute`.
fn order_dose(s: &mut Session, minute: i64) -> Uuid {
    let o = prepare(s, OrderForm::Dose(s.planned), minute).unwrap();
    place(s, o, minute)
}

fn order_booster(s: &mut Session, amount: f64, minute: i64) -> Uuid {
    let o = prepare(s, OrderForm::Booster(amount), minute).unwrap();
    place(s, o, minute)
}

/// Starts giving an order at `minute` with the protocol's opening steps; its index.
fn give(s: &mut Session, order_id: Uuid, minute: i64) -> usize {
    let mg = s.orders.iter().find(|o| o.id == order_id).unwrap().mg;
    let mut a = Administration {
        id: entry_id(5, s.administrations.len()),
        order_id,
        lot: LOT.to_owned(),
        expiry: today() + Duration::days(365),
        started_at: at(minute),
        units_needed: order::units_needed(&s.protocol, mg),
        given_by: NURSE,
        given_by_name: "Nadia Okafor RN".to_owned(),
        supervised_by: PRESCRIBER,
        supervised_by_name: "Dr Priya Shah".to_owned(),
        events: vec![],
        entered: by(NURSE, minute),
    };
    for step in order::opening_steps(&s.protocol, at(minute)) {
        record(&mut a, step);
    }
    s.administrations.push(a);
    s.administrations.len() - 1
}

fn record(a: &mut Administration, step: Step) {
    let entered = Entered {
        entered_at: step.at(),
        ..by(NURSE, 0)
    };
    a.events.push(match step {
        Step::Unit(at) => AdminEvent::Unit { at, entered },
        Step::Change(change, at, reason) => AdminEvent::Change {
            change,
            at,
            reason,
            entered,
        },
    });
}

/// A step on an administration, checked as if entered as it happened, and recorded if allowed.
fn step(s: &mut Session, admin: usize, st: Step) -> Result<(), String> {
    order::check_step(s, &s.administrations[admin], &st, st.at())?;
    record(&mut s.administrations[admin], st);
    Ok(())
}

fn change(c: AdminChange, minute: i64, reason: &str) -> Step {
    Step::Change(c, at(minute), reason.to_owned())
}

/// Gives the rest of an administration as the protocol does: the infusion complete after its
/// minutes, the remaining devices 5 min apart.
fn finish(s: &mut Session, admin: usize) {
    let started = s.administrations[admin].started_at;
    match order::giving(&s.protocol) {
        Giving::Infusion { minutes } => {
            let end = started + Duration::minutes(i64::from(minutes));
            step(
                s,
                admin,
                Step::Change(AdminChange::Complete, end, String::new()),
            )
            .unwrap();
        }
        Giving::Units {
            minutes_between, ..
        } => {
            while s.administrations[admin].finished_at().is_none() {
                let next = s.administrations[admin].last_at()
                    + Duration::minutes(i64::from(minutes_between));
                step(s, admin, Step::Unit(next)).unwrap();
            }
        }
        Giving::Single => {}
    }
}

/// Checklist at −20, unremarkable pre-dose vitals at −10, the planned dose ordered at −5.
fn ready_to_dose(key: &str) -> (Session, Uuid) {
    let mut s = session(key);
    s.checklist = Some(checklist_at(-20));
    add_vitals(&mut s, normal(-10));
    let order = order_dose(&mut s, -5);
    (s, order)
}

/// The dose started at minute 0 and, where giving takes time, still being given (the IV
/// infusion running, only the first esketamine device given).
fn dosing(key: &str) -> Session {
    let (mut s, order) = ready_to_dose(key);
    give(&mut s, order, 0);
    s
}

/// The dose given completely: the infusion complete at 40, the devices at 0 and 5.
fn dosed(key: &str) -> Session {
    let mut s = dosing(key);
    finish(&mut s, 0);
    s
}

fn minimum_minutes(s: &Session) -> i64 {
    i64::from(s.protocol.monitoring.minimum_minutes.get())
}

/// Dosed, with every discharge criterion but the minimum time met by minute 60: unremarkable
/// vitals every 15 min, MOAA/S 4 at 20 and 5 at 45, the escort here at 55.
fn recovered(key: &str) -> Session {
    let mut s = dosed(key);
    for minute in [45, 60] {
        add_vitals(&mut s, normal(minute));
    }
    moaas(&mut s, 20, 4);
    moaas(&mut s, 45, 5);
    escort_arrives(&mut s, 55);
    s
}

fn discharge_at(s: &mut Session, minute: i64) {
    s.discharge = Some(DischargeRecord {
        at: at(minute),
        escort: "Sam Lee".to_owned(),
        instructions: "No driving until tomorrow after a night's sleep.".to_owned(),
        note: String::new(),
        entered: by(NURSE, minute),
    });
}

fn sign(s: &mut Session, minute: i64) {
    s.signature = Some(Signature {
        at: at(minute),
        by: PRESCRIBER,
        by_name: "Dr Priya Shah".to_owned(),
        content_hash: "0".repeat(64),
    });
}

fn fields(e: &FieldErrors) -> Vec<&str> {
    e.iter().map(|x| x.field.as_str()).collect()
}

/// The criterion whose name starts with `name`.
fn criterion<'a>(r: &'a discharge::Readiness, name: &str) -> &'a discharge::Criterion {
    r.criteria
        .iter()
        .find(|c| c.name.starts_with(name))
        .unwrap_or_else(|| panic!("no criterion {name:?} in {:?}", r.criteria))
}

fn threshold(measure: VitalMeasure, above: Option<f64>, below: Option<f64>) -> Threshold {
    Threshold {
        measure,
        above: above.map(|v| toml::Spanned::new(0..0, v)),
        below: below.map(|v| toml::Spanned::new(0..0, v)),
        source: toml::Spanned::new(0..0, "clinic policy".to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The pre-dose checklist and the hold
// ---------------------------------------------------------------------------------------------

mod pre_dose {
    use super::*;

    fn complete_form() -> ChecklistForm {
        ChecklistForm {
            identity_confirmed: true,
            last_food_at: Some(at(-240)),
            last_fluids_at: Some(at(-90)),
            nasal_medicine_at: None,
            escort: "Sam Lee, 555-0100".to_owned(),
            pregnancy: Some(Pregnancy::NegativeTest),
            medications_reviewed: true,
            benzodiazepine_today: false,
            medication_note: String::new(),
            intention_reviewed: true,
            intention: "To feel less stuck".to_owned(),
            weight_kg: Some(73.0),
        }
    }

    #[test]
    fn a_complete_checklist_is_accepted_at_the_weight_limits_too() {
        for w in [checklist::WEIGHT_KG.0, 73.0, checklist::WEIGHT_KG.1] {
            let f = ChecklistForm {
                weight_kg: Some(w),
                ..complete_form()
            };
            assert_eq!(checklist::check(&f, at(0)), Ok(()), "{w} kg");
        }
    }

    #[test]
    fn each_missing_or_wrong_checklist_item_is_reported_on_its_own_field() {
        type Spoil = fn(&mut ChecklistForm);
        let cases: [(&str, &str, Spoil); 13] = [
            ("identity not confirmed", "identity_confirmed", |f| {
                f.identity_confirmed = false;
            }),
            ("no escort", "escort", |f| f.escort = "   ".to_owned()),
            ("pregnancy not answered", "pregnancy", |f| {
                f.pregnancy = None
            }),
            ("medications not reviewed", "medications_reviewed", |f| {
                f.medications_reviewed = false;
            }),
            ("intention not reviewed", "intention_reviewed", |f| {
                f.intention_reviewed = false;
            }),
            ("no weight", "weight_kg", |f| f.weight_kg = None),
            ("weight in grams by slip", "weight_kg", |f| {
                f.weight_kg = Some(7300.0);
            }),
            ("weight of a child", "weight_kg", |f| {
                f.weight_kg = Some(29.9)
            }),
            ("weight zero", "weight_kg", |f| f.weight_kg = Some(0.0)),
            ("weight not a number", "weight_kg", |f| {
                f.weight_kg = Some(f64::NAN);
            }),
            ("food in the future", "last_food_at", |f| {
                f.last_food_at = Some(at(1));
            }),
            ("fluids in the future", "last_fluids_at", |f| {
                f.last_fluids_at = Some(at(5));
            }),
            ("nasal medicine in the future", "nasal_medicine_at", |f| {
                f.nasal_medicine_at = Some(at(60));
            }),
        ];
        for (case, field, spoil) in cases {
            let mut f = complete_form();
            spoil(&mut f);
            let e = checklist::check(&f, at(0)).expect_err(case);
            assert_eq!(fields(&e), vec![field], "{case}");
            assert!(!e.get(field).unwrap_or_default().is_empty(), "{case}");
        }
    }

    #[test]
    fn an_empty_checklist_reports_every_required_item_at_once() {
        let e = checklist::check(&ChecklistForm::default(), at(0)).unwrap_err();
        assert_eq!(
            fields(&e),
            vec![
                "identity_confirmed",
                "escort",
                "pregnancy",
                "medications_reviewed",
                "intention_reviewed",
                "weight_kg"
            ]
        );
    }

    #[test]
    fn an_implausible_weight_says_what_was_typed_and_the_range() {
        let f = ChecklistForm {
            weight_kg: Some(730.0),
            ..complete_form()
        };
        let e = checklist::check(&f, at(0)).unwrap_err();
        let msg = e.get("weight_kg").unwrap();
        assert!(
            msg.contains("730") && msg.contains("30") && msg.contains("300"),
            "{msg}"
        );
    }

    #[test]
    fn times_up_to_now_are_accepted() {
        let f = ChecklistForm {
            last_food_at: Some(at(0)),
            last_fluids_at: Some(at(0)),
            nasal_medicine_at: Some(at(0)),
            ..complete_form()
        };
        assert_eq!(checklist::check(&f, at(0)), Ok(()));
    }

    /// Esketamine [pre_dose], clinical.md §2.3 [S41 S42]: no food 2 h and no liquids 30 min
    /// before dosing; a nasal corticosteroid or decongestant at least 1 h before.
    #[test]
    fn esketamine_fasting_and_nasal_medicine_rules_warn_only_inside_their_window() {
        let p = protocol(ESKETAMINE);
        let with = |food: Option<i64>, fluids: Option<i64>, nasal: Option<i64>| Checklist {
            last_food_at: food.map(at),
            last_fluids_at: fluids.map(at),
            nasal_medicine_at: nasal.map(at),
            ..checklist_at(0)
        };
        // (case, checklist, expected warnings' distinctive words)
        let cases: Vec<(&str, Checklist, Vec<&str>)> = vec![
            (
                "all rules kept to the minute",
                with(Some(-120), Some(-30), Some(-60)),
                vec![],
            ),
            (
                "no nasal medicine today",
                with(Some(-300), Some(-45), None),
                vec![],
            ),
            (
                "ate 119 min before",
                with(Some(-119), Some(-30), None),
                vec!["Ate 119 min", "2 h"],
            ),
            (
                "ate 1 min before",
                with(Some(-1), Some(-30), None),
                vec!["Ate 1 min", "2 h"],
            ),
            (
                "drank 29 min before",
                with(Some(-120), Some(-29), None),
                vec!["Drank 29 min", "30 min"],
            ),
            (
                "nasal spray 59 min before",
                with(Some(-120), Some(-30), Some(-59)),
                vec!["59 min", "at least 60 min"],
            ),
            (
                "last meal not known",
                with(None, Some(-30), None),
                vec!["When the patient last ate is not known."],
            ),
            (
                "last drink not known",
                with(Some(-120), None, None),
                vec!["When the patient last drank is not known."],
            ),
        ];
        for (case, c, expected) in cases {
            let w = checklist::warnings(&p, &c);
            if expected.is_empty() {
                assert!(w.is_empty(), "{case}: {w:?}");
            } else {
                assert_eq!(w.len(), 1, "{case}: {w:?}");
                for words in expected {
                    assert!(w[0].contains(words), "{case}: {:?} lacks {words:?}", w[0]);
                }
            }
        }
        // All three at once: one warning each, food first.
        let w = checklist::warnings(&p, &with(Some(-10), Some(-5), Some(-15)));
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].starts_with("Ate") && w[1].starts_with("Drank") && w[2].contains("nasal"));
    }

    #[test]
    fn a_protocol_without_pre_dose_rules_gives_no_fasting_warnings() {
        for key in [IV, IM, SUBLINGUAL] {
            let c = Checklist {
                last_food_at: Some(at(-5)),
                last_fluids_at: None,
                nasal_medicine_at: Some(at(-1)),
                ..checklist_at(0)
            };
            assert!(checklist::warnings(&protocol(key), &c).is_empty(), "{key}");
        }
    }

    /// clinical.md §3.2: benzodiazepines may blunt the response, on every protocol.
    #[test]
    fn a_benzodiazepine_today_is_always_a_warning() {
        for key in ALL_PROTOCOLS {
            let c = Checklist {
                benzodiazepine_today: true,
                ..checklist_at(0)
            };
            let w = checklist::warnings(&protocol(key), &c);
            assert_eq!(w.len(), 1, "{key}: {w:?}");
            assert!(w[0].contains("benzodiazepine"), "{key}");
        }
    }

    #[test]
    fn dosing_waits_for_the_checklist_and_pre_dose_vitals() {
        let mut s = session(IV);
        assert_eq!(
            checklist::blockers(&s),
            vec![
                "Complete the pre-dose checklist.",
                "Record pre-dose vitals."
            ]
        );
        s.checklist = Some(checklist_at(-20));
        assert_eq!(checklist::blockers(&s), vec!["Record pre-dose vitals."]);
        add_vitals(&mut s, normal(-10));
        assert!(checklist::blockers(&s).is_empty());
        assert!(checklist::hold_in_force(&s).is_none());
    }

    /// The shipped hold (clinic policy, clinical.md §1.2 and §2.3): above 140/90 before dosing.
    #[test]
    fn a_pre_dose_pressure_above_the_hold_blocks_dosing() {
        for key in [IV, ESKETAMINE] {
            for (sys, dia, measure, limit) in [
                (150.0, 85.0, VitalMeasure::Systolic, "above 140"),
                (135.0, 95.0, VitalMeasure::Diastolic, "above 90"),
            ] {
                let mut s = session(key);
                s.checklist = Some(checklist_at(-20));
                let v = bp(&mut s, -10, sys, dia);
                let blockers = checklist::blockers(&s);
                assert_eq!(blockers.len(), 1, "{key}: {blockers:?}");
                assert!(blockers[0].starts_with("Dosing is on hold"), "{key}");
                assert!(blockers[0].contains(limit), "{key}: {}", blockers[0]);
                let (held, crossed) = checklist::hold_in_force(&s).unwrap();
                assert_eq!(held.id, v);
                assert_eq!(crossed.len(), 1);
                assert_eq!(crossed[0].measure, measure);
                assert_eq!(crossed[0].limit, limit);
            }
        }
    }

    #[test]
    fn a_pressure_at_the_hold_limit_does_not_hold() {
        for key in [IV, ESKETAMINE] {
            let mut s = session(key);
            s.checklist = Some(checklist_at(-20));
            bp(&mut s, -10, 140.0, 90.0);
            assert!(checklist::blockers(&s).is_empty(), "{key}");
            assert!(checklist::hold_in_force(&s).is_none(), "{key}");
        }
    }

    #[test]
    fn a_prescriber_override_on_the_held_vitals_lifts_the_hold() {
        for key in [IV, ESKETAMINE] {
            let mut s = session(key);
            s.checklist = Some(checklist_at(-20));
            let held = bp(&mut s, -10, 156.0, 94.0);
            decide(&mut s, HoldDecisionKind::Override, held, -8);
            assert!(checklist::blockers(&s).is_empty(), "{key}");
            assert!(checklist::hold_in_force(&s).is_none(), "{key}");
        }
    }

    #[test]
    fn an_override_on_earlier_vitals_does_not_cover_a_new_high_reading() {
        let mut s = session(IV);
        s.checklist = Some(checklist_at(-20));
        let first = bp(&mut s, -15, 150.0, 88.0);
        decide(&mut s, HoldDecisionKind::Override, first, -12);
        let second = bp(&mut s, -10, 172.0, 96.0);
        let (held, crossed) = checklist::hold_in_force(&s).unwrap();
        assert_eq!(held.id, second);
        assert_eq!(crossed.len(), 2);
        assert_eq!(checklist::blockers(&s).len(), 1);
    }

    #[test]
    fn new_vitals_within_limits_lift_the_hold() {
        for key in [IV, ESKETAMINE] {
            let mut s = session(key);
            s.checklist = Some(checklist_at(-20));
            bp(&mut s, -15, 148.0, 92.0);
            assert!(checklist::hold_in_force(&s).is_some(), "{key}");
            bp(&mut s, -5, 132.0, 84.0);
            assert!(checklist::blockers(&s).is_empty(), "{key}");
            assert!(checklist::hold_in_force(&s).is_none(), "{key}");
        }
    }

    #[test]
    fn a_deferral_ends_the_session_before_dosing() {
        for key in [IV, ESKETAMINE] {
            let mut s = session(key);
            s.checklist = Some(checklist_at(-20));
            let held = bp(&mut s, -10, 168.0, 99.0);
            decide(&mut s, HoldDecisionKind::Defer, held, -5);
            assert_eq!(
                checklist::blockers(&s),
                vec!["A prescriber deferred this session."],
                "{key}"
            );
            assert!(checklist::hold_in_force(&s).is_none(), "{key}");
            assert_eq!(s.stage(at(0)), Stage::Deferred, "{key}");
            assert_eq!(
                prepare(&s, OrderForm::Dose(s.planned), -4),
                Err("The session was deferred: no orders.".to_owned())
            );
        }
    }

    #[test]
    fn no_hold_once_dosing_has_started() {
        let mut s = dosing(IV);
        // A high reading during the infusion is an alert matter, not a pre-dose hold.
        bp(&mut s, 10, 165.0, 95.0);
        assert!(checklist::hold_in_force(&s).is_none());
        // The pre-dose vitals are those before the start, not the latest.
        assert_eq!(s.pre_dose_vitals().map(|v| v.at), Some(at(-10)));
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Vitals on the flowsheet, and alerts
// ---------------------------------------------------------------------------------------------

mod vitals {
    use super::*;

    fn full(sys: f64, dia: f64) -> VitalsForm {
        VitalsForm {
            systolic: Some(sys),
            diastolic: Some(dia),
            heart_rate: Some(72.0),
            spo2: Some(98.0),
            respiratory_rate: Some(14.0),
        }
    }

    fn check(f: &VitalsForm) -> Result<(), FieldErrors> {
        flowsheet::check(f, at(20), at(-30), at(20))
    }

    #[test]
    fn plausible_vitals_are_accepted_and_a_single_measure_is_enough() {
        assert_eq!(check(&full(122.0, 78.0)), Ok(()));
        for f in [
            VitalsForm {
                spo2: Some(96.0),
                ..VitalsForm::default()
            },
            VitalsForm {
                heart_rate: Some(88.0),
                ..VitalsForm::default()
            },
            VitalsForm {
                systolic: Some(118.0),
                diastolic: Some(76.0),
                ..VitalsForm::default()
            },
        ] {
            assert_eq!(check(&f), Ok(()), "{f:?}");
        }
    }

    #[test]
    fn implausible_values_are_refused_on_their_own_field() {
        let cases: [(&str, VitalsForm); 9] = [
            ("systolic", full(320.0, 80.0)),
            ("systolic", full(45.0, 30.0)),
            ("diastolic", full(120.0, 15.0)),
            (
                "heart_rate",
                VitalsForm {
                    heart_rate: Some(300.0),
                    ..full(120.0, 80.0)
                },
            ),
            (
                "heart_rate",
                VitalsForm {
                    heart_rate: Some(f64::NAN),
                    ..full(120.0, 80.0)
                },
            ),
            (
                "spo2",
                VitalsForm {
                    spo2: Some(101.0),
                    ..full(120.0, 80.0)
                },
            ),
            (
                "spo2",
                VitalsForm {
                    spo2: Some(9.8),
                    ..full(120.0, 80.0)
                },
            ),
            (
                "respiratory_rate",
                VitalsForm {
                    respiratory_rate: Some(2.0),
                    ..full(120.0, 80.0)
                },
            ),
            (
                "respiratory_rate",
                VitalsForm {
                    respiratory_rate: Some(f64::INFINITY),
                    ..full(120.0, 80.0)
                },
            ),
        ];
        for (field, f) in cases {
            let e = check(&f).expect_err(field);
            assert_eq!(fields(&e), vec![field], "{f:?}");
            assert!(e.get(field).unwrap().contains("not a plausible"), "{f:?}");
        }
    }

    #[test]
    fn plausible_bounds_are_inclusive() {
        let (sys_lo, sys_hi) = flowsheet::plausible(VitalMeasure::Systolic);
        let (dia_lo, dia_hi) = flowsheet::plausible(VitalMeasure::Diastolic);
        let mut forms = vec![
            full(sys_lo, 40.0),
            full(sys_hi, 40.0),
            full(120.0, dia_lo),
            full(250.0, dia_hi),
        ];
        for m in [
            VitalMeasure::HeartRate,
            VitalMeasure::Spo2,
            VitalMeasure::RespiratoryRate,
        ] {
            let (lo, hi) = flowsheet::plausible(m);
            for v in [lo, hi] {
                forms.push(match m {
                    VitalMeasure::HeartRate => VitalsForm {
                        heart_rate: Some(v),
                        ..VitalsForm::default()
                    },
                    VitalMeasure::Spo2 => VitalsForm {
                        spo2: Some(v),
                        ..VitalsForm::default()
                    },
                    _ => VitalsForm {
                        respiratory_rate: Some(v),
                        ..VitalsForm::default()
                    },
                });
            }
        }
        for f in forms {
            assert_eq!(check(&f), Ok(()), "{f:?}");
        }
    }

    #[test]
    fn blood_pressure_is_entered_as_a_pair() {
        let systolic_only = VitalsForm {
            systolic: Some(130.0),
            ..VitalsForm::default()
        };
        let e = check(&systolic_only).unwrap_err();
        assert_eq!(fields(&e), vec!["diastolic"]);
        let diastolic_only = VitalsForm {
            diastolic: Some(80.0),
            ..VitalsForm::default()
        };
        let e = check(&diastolic_only).unwrap_err();
        assert_eq!(fields(&e), vec!["systolic"]);
    }

    #[test]
    fn a_diastolic_not_below_the_systolic_is_refused() {
        for (sys, dia) in [(80.0, 80.0), (90.0, 110.0)] {
            let e = check(&full(sys, dia)).unwrap_err();
            assert_eq!(fields(&e), vec!["diastolic"], "{sys}/{dia}");
            assert!(
                e.get("diastolic")
                    .unwrap()
                    .contains("lower than the systolic")
            );
        }
    }

    #[test]
    fn nothing_entered_is_refused() {
        let e = check(&VitalsForm::default()).unwrap_err();
        assert_eq!(fields(&e), vec!["systolic"]);
        assert!(e.get("systolic").unwrap().contains("at least one"));
    }

    #[test]
    fn a_time_in_the_future_or_long_before_the_session_is_refused() {
        let f = full(122.0, 78.0);
        let now = at(20);
        // A minute's leeway for clocks.
        assert_eq!(flowsheet::check(&f, at(21), at(-30), now), Ok(()));
        let e = flowsheet::check(&f, at(22), at(-30), now).unwrap_err();
        assert_eq!(fields(&e), vec!["at"]);
        assert!(e.get("at").unwrap().contains("future"));
        // Waiting-room vitals up to an hour before the session was opened.
        assert_eq!(flowsheet::check(&f, at(-90), at(-30), now), Ok(()));
        let e = flowsheet::check(&f, at(-91), at(-30), now).unwrap_err();
        assert_eq!(fields(&e), vec!["at"]);
    }

    /// An entry typed more than 10 minutes after the moment it records is shown as late.
    #[test]
    fn vitals_typed_more_than_10_minutes_later_are_a_late_entry() {
        let on_time = Vitals {
            entered: by(NURSE, 40),
            ..normal(30)
        };
        assert!(!on_time.late());
        let late = Vitals {
            entered: Entered {
                entered_at: at(40) + Duration::seconds(1),
                ..by(NURSE, 40)
            },
            ..normal(30)
        };
        assert!(late.late());
    }

    /// The shipped alert limits (clinic policy, clinical.md §1.2, §2.3, §2.6): above 180/100,
    /// heart rate above 110, SpO2 below 90; the same in all four protocols.
    #[test]
    fn alerts_follow_the_shipped_limits() {
        let normal_at_20 = |f: fn(&mut Vitals)| {
            let mut v = normal(20);
            f(&mut v);
            v
        };
        type Alerts = Vec<(VitalMeasure, &'static str)>;
        let cases: [(&str, Vitals, Alerts); 11] = [
            ("unremarkable", normal(20), vec![]),
            (
                "systolic 181",
                normal_at_20(|v| v.systolic = Some(181.0)),
                vec![(VitalMeasure::Systolic, "above 180")],
            ),
            (
                "systolic 180",
                normal_at_20(|v| v.systolic = Some(180.0)),
                vec![],
            ),
            (
                "diastolic 101",
                normal_at_20(|v| {
                    v.systolic = Some(150.0);
                    v.diastolic = Some(101.0);
                }),
                vec![(VitalMeasure::Diastolic, "above 100")],
            ),
            (
                "diastolic 100",
                normal_at_20(|v| v.diastolic = Some(100.0)),
                vec![],
            ),
            (
                "heart rate 111",
                normal_at_20(|v| v.heart_rate = Some(111.0)),
                vec![(VitalMeasure::HeartRate, "above 110")],
            ),
            (
                "heart rate 110",
                normal_at_20(|v| v.heart_rate = Some(110.0)),
                vec![],
            ),
            (
                "SpO2 89",
                normal_at_20(|v| v.spo2 = Some(89.0)),
                vec![(VitalMeasure::Spo2, "below 90")],
            ),
            ("SpO2 90", normal_at_20(|v| v.spo2 = Some(90.0)), vec![]),
            (
                "respiratory rate 40 (no limit set)",
                normal_at_20(|v| v.respiratory_rate = Some(40.0)),
                vec![],
            ),
            (
                "hypertensive crisis with tachycardia",
                normal_at_20(|v| {
                    v.systolic = Some(210.0);
                    v.diastolic = Some(120.0);
                    v.heart_rate = Some(128.0);
                }),
                vec![
                    (VitalMeasure::Systolic, "above 180"),
                    (VitalMeasure::Diastolic, "above 100"),
                    (VitalMeasure::HeartRate, "above 110"),
                ],
            ),
        ];
        for key in ALL_PROTOCOLS {
            let s = dosing(key);
            for (case, v, expected) in &cases {
                let alerts = flowsheet::alerts(&s, v);
                let got: Vec<(VitalMeasure, &str)> = alerts
                    .iter()
                    .map(|c| (c.measure, c.limit.as_str()))
                    .collect();
                assert_eq!(&got, expected, "{key}: {case}");
            }
        }
    }

    /// Tenths of a unit, so the limits themselves (180.0, 90.0 …) are drawn too.
    fn tenths(lo: u32, hi: u32) -> impl Strategy<Value = f64> {
        (lo..=hi).prop_map(|t| f64::from(t) / 10.0)
    }

    /// One measure beyond the shipped alert limit, the others within (or not taken).
    fn one_beyond() -> impl Strategy<Value = (VitalMeasure, Vitals)> {
        let optional = |s: BoxedStrategy<f64>| proptest::option::of(s);
        prop_oneof![
            // Systolic above 180, diastolic within.
            (tenths(1801, 3000), tenths(400, 1000))
                .prop_map(|(s, d)| (VitalMeasure::Systolic, (Some(s), Some(d)))),
            // Diastolic above 100, systolic within and still above it.
            (tenths(1710, 1800), tenths(1001, 1700))
                .prop_map(|(s, d)| (VitalMeasure::Diastolic, (Some(s), Some(d)))),
            // Heart rate or SpO2 beyond; blood pressure within or not taken.
            Just(VitalMeasure::HeartRate)
                .prop_flat_map(|m| (
                    Just(m),
                    proptest::option::of((tenths(1010, 1800), tenths(400, 1000)))
                ))
                .prop_map(|(m, bp)| (m, bp.map_or((None, None), |(s, d)| (Some(s), Some(d))))),
            Just(VitalMeasure::Spo2)
                .prop_flat_map(|m| (
                    Just(m),
                    proptest::option::of((tenths(1010, 1800), tenths(400, 1000)))
                ))
                .prop_map(|(m, bp)| (m, bp.map_or((None, None), |(s, d)| (Some(s), Some(d))))),
        ]
        .prop_flat_map(move |(m, (sys, dia))| {
            let hr = if m == VitalMeasure::HeartRate {
                tenths(1101, 2500).prop_map(Some).boxed()
            } else {
                optional(tenths(200, 1100).boxed()).boxed()
            };
            let spo2 = if m == VitalMeasure::Spo2 {
                tenths(500, 899).prop_map(Some).boxed()
            } else {
                optional(tenths(900, 1000).boxed()).boxed()
            };
            let rr = optional(tenths(40, 600).boxed());
            (Just(m), hr, spo2, rr).prop_map(move |(m, hr, spo2, rr)| {
                (
                    m,
                    Vitals {
                        systolic: sys,
                        diastolic: dia,
                        heart_rate: hr,
                        spo2,
                        respiratory_rate: rr,
                        ..normal(30)
                    },
                )
            })
        })
    }

    /// Every measure within the shipped alert limits (or not taken).
    fn all_within() -> impl Strategy<Value = Vitals> {
        (
            proptest::option::of((tenths(1010, 1800), tenths(400, 1000))),
            proptest::option::of(tenths(200, 1100)),
            proptest::option::of(tenths(900, 1000)),
            proptest::option::of(tenths(40, 600)),
        )
            .prop_map(|(bp, hr, spo2, rr)| Vitals {
                systolic: bp.map(|b| b.0),
                diastolic: bp.map(|b| b.1),
                heart_rate: hr,
                spo2,
                respiratory_rate: rr,
                ..normal(30)
            })
    }

    /// Any plausible values, each perhaps not taken.
    fn any_vitals() -> impl Strategy<Value = Vitals> {
        let m = |measure| {
            let (lo, hi) = flowsheet::plausible(measure);
            proptest::option::of(tenths((lo * 10.0) as u32, (hi * 10.0) as u32))
        };
        (
            m(VitalMeasure::Systolic),
            m(VitalMeasure::Diastolic),
            m(VitalMeasure::HeartRate),
            m(VitalMeasure::Spo2),
            m(VitalMeasure::RespiratoryRate),
        )
            .prop_map(
                |(systolic, diastolic, heart_rate, spo2, respiratory_rate)| Vitals {
                    systolic,
                    diastolic,
                    heart_rate,
                    spo2,
                    respiratory_rate,
                    ..normal(30)
                },
            )
    }

    proptest! {
        #[test]
        fn one_measure_beyond_its_limit_raises_exactly_one_alert_for_it(
            key in proptest::sample::select(ALL_PROTOCOLS.to_vec()),
            (measure, v) in one_beyond(),
        ) {
            let s = session(key);
            let alerts = flowsheet::alerts(&s, &v);
            prop_assert_eq!(alerts.len(), 1, "{:?}", alerts);
            prop_assert_eq!(alerts[0].measure, measure);
            prop_assert_eq!(Some(alerts[0].value), v.value(measure));
        }

        #[test]
        fn values_within_every_limit_raise_no_alert(
            key in proptest::sample::select(ALL_PROTOCOLS.to_vec()),
            v in all_within(),
        ) {
            let s = session(key);
            let alerts = flowsheet::alerts(&s, &v);
            prop_assert!(alerts.is_empty(), "{:?}", alerts);
        }

        /// Even when a clinic lists several limits for one measure (here an extra, lower systolic
        /// limit, a lower SpO2 limit and a heart-rate band), a measure raises one alert at most,
        /// and every measure beyond some limit raises one.
        #[test]
        fn never_more_than_one_alert_per_measure(
            key in proptest::sample::select(ALL_PROTOCOLS.to_vec()),
            v in any_vitals(),
        ) {
            let mut s = session(key);
            s.protocol.monitoring.alert.extend([
                threshold(VitalMeasure::Systolic, Some(160.0), None),
                threshold(VitalMeasure::Spo2, None, Some(94.0)),
                threshold(VitalMeasure::HeartRate, Some(100.0), Some(50.0)),
            ]);
            let alerts = flowsheet::alerts(&s, &v);
            for m in VitalMeasure::ALL {
                let n = alerts.iter().filter(|c| c.measure == m).count();
                let beyond = v.value(m).is_some_and(|x| {
                    s.protocol.monitoring.alert.iter().any(|t| t.measure == m && t.crossed_by(x))
                });
                prop_assert_eq!(n, usize::from(beyond), "{:?}: {:?}", m, alerts);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. When the next vitals are due
// ---------------------------------------------------------------------------------------------

mod next_due {
    use super::*;

    #[test]
    fn nothing_is_due_before_dosing_or_after_discharge() {
        let (s, _) = ready_to_dose(IV);
        assert_eq!(flowsheet::next_due(&s, at(-1)), None);
        let mut s = recovered(IV);
        discharge_at(&mut s, 95);
        assert_eq!(flowsheet::next_due(&s, at(100)), None);
        sign(&mut s, 110);
        assert_eq!(flowsheet::next_due(&s, at(120)), None);
    }

    /// IV, clinical.md §1.1 [S6]: every 10 min during the infusion, every 15 min after.
    #[test]
    fn an_iv_infusion_asks_for_vitals_every_10_min_while_it_runs_then_every_15() {
        let mut s = dosing(IV);
        let due = flowsheet::next_due(&s, at(3)).unwrap();
        assert_eq!(due.at, at(10), "from the start when none yet");
        assert_eq!(due.why, "vitals every 10 min while the dose is given");
        assert!(!due.overdue);
        add_vitals(&mut s, normal(11));
        assert_eq!(flowsheet::next_due(&s, at(12)).unwrap().at, at(21));
        add_vitals(&mut s, normal(40));
        finish(&mut s, 0);
        let due = flowsheet::next_due(&s, at(41)).unwrap();
        assert_eq!(due.at, at(55));
        assert_eq!(due.why, "vitals every 15 min after dosing");
        assert!(!due.overdue);
    }

    #[test]
    fn a_paused_infusion_is_still_being_given() {
        let mut s = dosing(IV);
        step(&mut s, 0, change(AdminChange::Pause, 12, "Nausea")).unwrap();
        let due = flowsheet::next_due(&s, at(13)).unwrap();
        assert!(due.why.contains("while the dose is given"));
    }

    #[test]
    fn vitals_are_overdue_once_now_is_past_their_time() {
        let mut s = dosed(IV);
        add_vitals(&mut s, normal(40));
        assert!(!flowsheet::next_due(&s, at(55)).unwrap().overdue);
        assert!(flowsheet::next_due(&s, at(56)).unwrap().overdue);
    }

    /// Esketamine, clinical.md §2.3 [S39 S40]: blood pressure about 40 min after dosing.
    #[test]
    fn the_esketamine_40_minute_pressure_comes_first_when_it_is_sooner() {
        let mut s = dosed(ESKETAMINE);
        add_vitals(&mut s, normal(30));
        // The 15-min interval would ask at 45; the 40-min pressure is sooner.
        let due = flowsheet::next_due(&s, at(31)).unwrap();
        assert_eq!(due.at, at(40));
        assert_eq!(due.why, "blood pressure 40 min after the first dose");
        assert!(!due.overdue);
        assert!(flowsheet::next_due(&s, at(41)).unwrap().overdue);
    }

    #[test]
    fn the_regular_interval_comes_first_when_it_is_sooner_than_the_40_minute_pressure() {
        let mut s = dosed(ESKETAMINE);
        add_vitals(&mut s, normal(20));
        let due = flowsheet::next_due(&s, at(21)).unwrap();
        assert_eq!(due.at, at(35));
        assert_eq!(due.why, "vitals every 15 min after dosing");
    }

    #[test]
    fn the_40_minute_pressure_is_met_by_a_pressure_at_or_after_minute_40() {
        for minute in [40, 47] {
            let mut s = dosed(ESKETAMINE);
            add_vitals(&mut s, normal(30));
            bp(&mut s, minute, 138.0, 86.0);
            let due = flowsheet::next_due(&s, at(minute + 1)).unwrap();
            assert_eq!(due.at, at(minute + 15), "pressure at {minute}");
            assert_eq!(due.why, "vitals every 15 min after dosing");
        }
    }

    #[test]
    fn the_40_minute_pressure_is_not_met_by_a_pressure_before_40_or_vitals_without_one() {
        let mut s = dosed(ESKETAMINE);
        bp(&mut s, 39, 130.0, 84.0);
        add_vitals(
            &mut s,
            Vitals {
                systolic: None,
                diastolic: None,
                ..normal(42)
            },
        );
        let due = flowsheet::next_due(&s, at(43)).unwrap();
        assert_eq!(due.at, at(40));
        assert!(due.why.starts_with("blood pressure 40 min"));
        assert!(due.overdue);
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Orders and administrations
// ---------------------------------------------------------------------------------------------

mod orders {
    use super::*;

    fn with_weight(key: &str, kg: f64) -> Session {
        let mut s = session(key);
        s.checklist = Some(Checklist {
            weight_kg: kg,
            ..checklist_at(-20)
        });
        add_vitals(&mut s, normal(-10));
        s
    }

    /// IV, clinical.md §1.1 [S3 S4 S6 S7]: 0.5 mg/kg over 40 min, from today's weight.
    #[test]
    fn an_iv_dose_is_calculated_from_todays_weight_with_its_arithmetic() {
        let s = with_weight(IV, 73.0);
        let o = prepare(&s, OrderForm::Dose(s.planned), -5).unwrap();
        assert_eq!(o.kind, OrderKind::Dose);
        assert_eq!(o.mg, 36.5);
        assert_eq!(o.mg_per_kg, Some(0.5));
        assert_eq!(o.weight_kg, 73.0);
        assert_eq!(
            o.steps,
            vec![
                "Dosed by the actual weight: 73.0 kg",
                "0.5 mg/kg × 73.0 kg = 36.5 mg",
                "rounded to the nearest 0.5 mg: 36.5 mg",
                "infused over 40 minutes",
            ]
        );
    }

    #[test]
    fn the_mg_per_kg_shown_is_that_of_the_rounded_dose() {
        let s = with_weight(IV, 70.3);
        let o = prepare(&s, OrderForm::Dose(s.planned), -5).unwrap();
        assert_eq!(o.mg, 35.0);
        assert!((o.mg_per_kg.unwrap() - 35.0 / 70.3).abs() < 1e-12);
        assert!(
            o.steps
                .contains(&"0.5 mg/kg × 70.3 kg = 35.15 mg".to_owned())
        );
    }

    #[test]
    fn an_esketamine_dose_is_fixed_and_counts_its_devices() {
        let s = with_weight(ESKETAMINE, 73.0);
        let o = prepare(&s, OrderForm::Dose(PlannedDose::Fixed { mg: 84 }), -5).unwrap();
        assert_eq!(o.mg, 84.0);
        assert_eq!(o.mg_per_kg, None);
        assert_eq!(
            o.steps,
            vec![
                "fixed dose: 84 mg",
                "84 mg = 3 devices of 28 mg",
                "5 minutes between devices"
            ]
        );
        assert_eq!(order::units_needed(&s.protocol, o.mg), Some(3));
    }

    #[test]
    fn a_planned_dose_above_the_protocol_maximum_is_refused() {
        let cases = [
            (IV, PlannedDose::PerKg { ug_per_kg: 1100 }, "1.1 mg/kg"),
            (IM, PlannedDose::PerKg { ug_per_kg: 800 }, "0.8 mg/kg"),
            (ESKETAMINE, PlannedDose::Fixed { mg: 112 }, "112 mg"),
            (SUBLINGUAL, PlannedDose::Fixed { mg: 450 }, "450 mg"),
        ];
        for (key, planned, words) in cases {
            let s = with_weight(key, 73.0);
            let e = prepare(&s, OrderForm::Dose(planned), -5).unwrap_err();
            assert!(e.contains(words), "{key}: {e}");
        }
    }

    #[test]
    fn no_order_before_the_checklist_or_once_the_session_is_closed() {
        let s = session(IV);
        assert!(
            prepare(&s, OrderForm::Dose(s.planned), -5)
                .unwrap_err()
                .starts_with("Complete the pre-dose checklist")
        );
        let mut s = recovered(IV);
        discharge_at(&mut s, 95);
        assert_eq!(
            prepare(&s, OrderForm::Booster(0.25), 96),
            Err("The session is closed: no more orders.".to_owned())
        );
    }

    #[test]
    fn a_second_dose_order_is_refused() {
        for key in ALL_PROTOCOLS {
            let (s, _) = ready_to_dose(key);
            let e = prepare(&s, OrderForm::Dose(s.planned), -4).unwrap_err();
            assert!(e.contains("already has its dose order"), "{key}: {e}");
        }
    }

    #[test]
    fn protocols_without_a_booster_refuse_one() {
        for key in [IV, ESKETAMINE] {
            let s = dosed(key);
            assert_eq!(
                prepare(&s, OrderForm::Booster(28.0), 60),
                Err("This protocol allows no booster.".to_owned()),
                "{key}"
            );
        }
    }

    #[test]
    fn a_booster_needs_the_dose_ordered_and_given_first() {
        let s = with_weight(IM, 70.0);
        assert!(
            prepare(&s, OrderForm::Booster(0.25), 30)
                .unwrap_err()
                .starts_with("Order and give the session's dose")
        );
        let (s, _) = ready_to_dose(IM);
        assert!(
            prepare(&s, OrderForm::Booster(0.25), 30)
                .unwrap_err()
                .starts_with("Give the session's dose")
        );
    }

    /// IM booster (clinic policy, within S85's 0.75 mg/kg, clinical.md §4.3): one, from 20 min
    /// after the first dose, the session's total at most 0.75 mg/kg.
    #[test]
    fn an_im_booster_keeps_to_the_protocols_count_time_and_total() {
        let mut s = with_weight(IM, 70.0);
        let dose = order_dose(&mut s, -5);
        assert_eq!(s.orders[0].mg, 35.0);
        give(&mut s, dose, 0);

        let e = prepare(&s, OrderForm::Booster(0.25), 19).unwrap_err();
        assert!(e.contains("from 20 min after the first dose"), "{e}");

        let e = prepare(&s, OrderForm::Booster(0.3), 20).unwrap_err();
        assert!(e.contains("0.8 mg/kg") && e.contains("0.75 mg/kg"), "{e}");

        let b = prepare(&s, OrderForm::Booster(0.25), 20).unwrap();
        assert_eq!(b.kind, OrderKind::Booster(1));
        assert_eq!(b.mg, 17.5);
        assert_eq!(b.mg_per_kg, Some(0.25));
        assert_eq!(b.weight_kg, 70.0);
        assert_eq!(
            b.steps.last().map(String::as_str),
            Some("session total 0.75 mg/kg of at most 0.75 mg/kg")
        );
        let booster = place(&mut s, b, 20);

        let e = prepare(&s, OrderForm::Booster(0.1), 25).unwrap_err();
        assert!(e.contains("not yet given"), "{e}");

        give(&mut s, booster, 22);
        let e = prepare(&s, OrderForm::Booster(0.0), 60).unwrap_err();
        assert!(e.contains("at most 1 booster"), "{e}");
        assert_eq!(s.mg_given(), 52.5);
    }

    #[test]
    fn a_booster_of_nothing_is_refused() {
        let s = dosed(IM);
        for amount in [0.0, -0.1, f64::NAN] {
            assert_eq!(
                prepare(&s, OrderForm::Booster(amount), 30),
                Err("Enter the booster dose, more than 0.".to_owned()),
                "{amount}"
            );
        }
    }

    /// The rounded booster must keep the session within max_total: at 71 kg the dose is
    /// 35.5 mg (0.5 mg/kg) and a 0.25 mg/kg booster is 17.75 mg, rounded to 18 mg, which makes
    /// 53.5 mg = 0.7535 mg/kg, over the protocol's 0.75.
    #[test]
    fn a_rounded_im_booster_never_takes_the_session_over_its_maximum() {
        let mut s = with_weight(IM, 71.0);
        let dose = order_dose(&mut s, -5);
        give(&mut s, dose, 0);
        if let Ok(b) = prepare(&s, OrderForm::Booster(0.25), 30) {
            let total = s.orders[0].mg_per_kg.unwrap() + b.mg_per_kg.unwrap();
            assert!(
                total <= 0.75 + 1e-9,
                "booster {} mg makes {total} mg/kg: {:?}",
                b.mg,
                b.steps
            );
        }
    }

    /// IM [S85], clinical.md §4.3: never more than 60 mg; the protocol's `max_mg` is "never more
    /// than this many mg in one dose". At 200 kg the dose is capped at 60 mg (0.3 mg/kg), and a
    /// 0.45 mg/kg booster (within the 0.75 mg/kg total) is 90 mg in one injection.
    #[test]
    fn an_im_booster_is_never_more_than_the_protocols_mg_cap() {
        let mut s = with_weight(IM, 200.0);
        let dose = order_dose(&mut s, -5);
        assert_eq!(s.orders[0].mg, 60.0);
        give(&mut s, dose, 0);
        if let Ok(b) = prepare(&s, OrderForm::Booster(0.45), 30) {
            assert!(b.mg <= 60.0, "a booster of {} mg: {:?}", b.mg, b.steps);
        }
    }

    /// Sublingual (clinical.md §4.3 [S76 S77]): lozenges of 50 mg, 100–400 mg a session; one
    /// booster from 30 min (clinic policy).
    #[test]
    fn a_sublingual_booster_is_whole_lozenges_within_400_mg() {
        let s = dosed(SUBLINGUAL);
        assert_eq!(s.orders[0].mg, 100.0);
        assert!(
            prepare(&s, OrderForm::Booster(50.0), 29)
                .unwrap_err()
                .contains("from 30 min")
        );
        assert_eq!(
            prepare(&s, OrderForm::Booster(75.0), 30),
            Err("A booster is given in whole units of 50 mg.".to_owned())
        );
        let e = prepare(&s, OrderForm::Booster(350.0), 30).unwrap_err();
        assert!(e.contains("450 mg") && e.contains("400 mg"), "{e}");
        let b = prepare(&s, OrderForm::Booster(300.0), 30).unwrap();
        assert_eq!(b.mg, 300.0);
        assert_eq!(b.mg_per_kg, None);
        assert_eq!(b.kind, OrderKind::Booster(1));
    }

    fn start_form(order_id: Uuid) -> AdminForm {
        AdminForm {
            order_id,
            lot: LOT.to_owned(),
            expiry: Some(today() + Duration::days(200)),
            started_at: at(0),
            given_by: NURSE,
            supervised_by: PRESCRIBER,
        }
    }

    fn check_start(s: &Session, f: &AdminForm) -> Result<(), FieldErrors> {
        order::check_start(s, f, today(), at(0))
    }

    #[test]
    fn a_dose_may_start_with_lot_and_expiry_once_nothing_blocks_it() {
        for key in ALL_PROTOCOLS {
            let (s, o) = ready_to_dose(key);
            assert_eq!(check_start(&s, &start_form(o)), Ok(()), "{key}");
            // A lot that expires today may still be used today.
            let f = AdminForm {
                expiry: Some(today()),
                ..start_form(o)
            };
            assert_eq!(check_start(&s, &f), Ok(()), "{key}");
        }
    }

    #[test]
    fn an_order_is_given_once() {
        let s = dosed(IM);
        let e = check_start(&s, &start_form(s.orders[0].id)).unwrap_err();
        assert_eq!(fields(&e), vec!["order_id"]);
        assert!(e.get("order_id").unwrap().contains("already given"));
        let e = check_start(&s, &start_form(Uuid::from_u128(0xBAD))).unwrap_err();
        assert!(e.get("order_id").unwrap().contains("no such order"));
    }

    #[test]
    fn a_dose_held_by_pre_dose_vitals_cannot_start() {
        let mut s = session(ESKETAMINE);
        s.checklist = Some(checklist_at(-20));
        let held = bp(&mut s, -10, 152.0, 92.0);
        let o = order_dose(&mut s, -5);
        let e = check_start(&s, &start_form(o)).unwrap_err();
        assert_eq!(fields(&e), vec!["order_id"]);
        assert!(e.get("order_id").unwrap().starts_with("Dosing is on hold"));
        decide(&mut s, HoldDecisionKind::Override, held, -3);
        assert_eq!(check_start(&s, &start_form(o)), Ok(()));
    }

    #[test]
    fn an_expired_or_missing_lot_is_refused() {
        let (s, o) = ready_to_dose(IV);
        let cases: [(&str, AdminForm, Vec<&str>); 4] = [
            (
                "expired yesterday",
                AdminForm {
                    expiry: Some(today() - Duration::days(1)),
                    ..start_form(o)
                },
                vec!["expiry"],
            ),
            (
                "no expiry",
                AdminForm {
                    expiry: None,
                    ..start_form(o)
                },
                vec!["expiry"],
            ),
            (
                "no lot",
                AdminForm {
                    lot: "  ".to_owned(),
                    ..start_form(o)
                },
                vec!["lot"],
            ),
            (
                "neither",
                AdminForm {
                    lot: String::new(),
                    expiry: None,
                    ..start_form(o)
                },
                vec!["lot", "expiry"],
            ),
        ];
        for (case, f, expected) in cases {
            let e = check_start(&s, &f).expect_err(case);
            assert_eq!(fields(&e), expected, "{case}");
        }
        let f = AdminForm {
            expiry: Some(today() - Duration::days(1)),
            ..start_form(o)
        };
        let e = check_start(&s, &f).unwrap_err();
        assert!(e.get("expiry").unwrap().contains("2025-03-03"));
    }

    #[test]
    fn a_dose_cannot_start_in_the_future_or_before_it_was_ordered() {
        let (s, o) = ready_to_dose(IV);
        for (minute, words) in [(2, "future"), (-7, "before it was ordered")] {
            let f = AdminForm {
                started_at: at(minute),
                ..start_form(o)
            };
            let e = check_start(&s, &f).unwrap_err();
            assert_eq!(fields(&e), vec!["started_at"], "{minute}");
            assert!(e.get("started_at").unwrap().contains(words), "{minute}");
        }
    }

    /// Esketamine, clinical.md §2.1 [S28]: 28 mg devices with a 5-minute rest between them.
    #[test]
    fn esketamine_devices_are_given_5_minutes_apart_until_all_are_given() {
        let (mut s, _) = ready_to_dose(ESKETAMINE);
        s.orders[0].mg = 84.0;
        let o = s.orders[0].id;
        let a = give(&mut s, o, 0);
        assert_eq!(s.administrations[a].units_needed, Some(3));
        assert_eq!(s.administrations[a].units_given(), 1);
        let e = step(&mut s, a, Step::Unit(at(4))).unwrap_err();
        assert!(
            e.contains("5 min between units") && e.contains("09:05"),
            "{e}"
        );
        step(&mut s, a, Step::Unit(at(5))).unwrap();
        assert!(s.giving());
        step(&mut s, a, Step::Unit(at(11))).unwrap();
        assert_eq!(s.administrations[a].finished_at(), Some(at(11)));
        assert!(!s.giving());
        assert_eq!(
            step(&mut s, a, Step::Unit(at(16))),
            Err("This dose is already complete.".to_owned())
        );
    }

    #[test]
    fn esketamine_devices_are_not_paused_but_may_be_stopped_early_with_a_reason() {
        let mut s = dosing(ESKETAMINE);
        let e = step(&mut s, 0, change(AdminChange::Pause, 2, "Coughing")).unwrap_err();
        assert!(e.contains("Record each unit"), "{e}");
        assert!(step(&mut s, 0, change(AdminChange::Complete, 2, "")).is_err());
        assert_eq!(
            step(&mut s, 0, change(AdminChange::Stop, 3, " ")),
            Err("Give the reason for stopping early.".to_owned())
        );
        step(&mut s, 0, change(AdminChange::Stop, 3, "Vomited")).unwrap();
        assert_eq!(s.administrations[0].finished_at(), Some(at(3)));
    }

    #[test]
    fn an_iv_infusion_is_paused_resumed_and_completed_in_order() {
        let mut s = dosing(IV);
        assert!(s.administrations[0].events.is_empty());
        assert_eq!(
            step(&mut s, 0, change(AdminChange::Resume, 5, "")),
            Err("The infusion is not paused.".to_owned())
        );
        assert_eq!(
            step(&mut s, 0, change(AdminChange::Pause, 10, "")),
            Err("Give the reason for a pause.".to_owned())
        );
        step(&mut s, 0, change(AdminChange::Pause, 10, "Nausea")).unwrap();
        assert!(s.administrations[0].paused());
        assert_eq!(
            step(&mut s, 0, change(AdminChange::Pause, 12, "Nausea")),
            Err("The infusion is already paused.".to_owned())
        );
        let e = step(&mut s, 0, change(AdminChange::Complete, 12, "")).unwrap_err();
        assert!(e.starts_with("The infusion is paused"), "{e}");
        let e = step(&mut s, 0, change(AdminChange::Resume, 9, "")).unwrap_err();
        assert!(
            e.contains("before the last step") && e.contains("09:10"),
            "{e}"
        );
        step(&mut s, 0, change(AdminChange::Resume, 15, "")).unwrap();
        assert!(!s.administrations[0].paused());
        assert!(s.giving());
        assert!(step(&mut s, 0, Step::Unit(at(16))).is_err());
        step(&mut s, 0, change(AdminChange::Complete, 45, "")).unwrap();
        assert_eq!(s.dosing_finished_at(), Some(at(45)));
        assert_eq!(
            step(&mut s, 0, change(AdminChange::Stop, 46, "late")),
            Err("This dose is already complete.".to_owned())
        );
    }

    #[test]
    fn an_iv_infusion_is_stopped_early_only_with_a_reason() {
        let mut s = dosing(IV);
        assert_eq!(
            step(&mut s, 0, change(AdminChange::Stop, 20, "")),
            Err("Give the reason for stopping early.".to_owned())
        );
        step(
            &mut s,
            0,
            change(AdminChange::Pause, 18, "Hypertension 186/104"),
        )
        .unwrap();
        // Stopping a paused infusion is allowed: that is the way out of a pause.
        step(&mut s, 0, change(AdminChange::Stop, 25, "BP not settling")).unwrap();
        assert_eq!(s.dosing_finished_at(), Some(at(25)));
    }

    #[test]
    fn steps_cannot_run_backwards_or_into_the_future() {
        let mut s = dosing(IV);
        // Before the start of the administration.
        let e = step(&mut s, 0, change(AdminChange::Pause, -1, "x")).unwrap_err();
        assert!(e.contains("before the last step"), "{e}");
        let a = &s.administrations[0];
        let future = change(AdminChange::Complete, 42, "");
        assert_eq!(
            order::check_step(&s, a, &future, at(40)),
            Err("This time is in the future.".to_owned())
        );
    }

    #[test]
    fn a_dose_given_at_once_has_nothing_to_pause_and_no_step_after_it() {
        for key in [IM, SUBLINGUAL] {
            let mut s = dosing(key);
            assert_eq!(s.administrations[0].finished_at(), Some(at(0)), "{key}");
            assert!(step(&mut s, 0, change(AdminChange::Pause, 1, "x")).is_err());
        }
    }

    #[test]
    fn no_step_once_the_session_is_discharged() {
        let mut s = dosing(IV);
        discharge_at(&mut s, 30);
        let a = &s.administrations[0];
        assert_eq!(
            order::check_step(&s, a, &change(AdminChange::Complete, 31, ""), at(31)),
            Err("The session is closed.".to_owned())
        );
    }

    #[test]
    fn orders_read_as_the_record_shows_them() {
        let s = dosed(IV);
        assert_eq!(
            order::describe(&s.orders[0]),
            "Dose 36.5 mg (0.5 mg/kg of 73 kg)"
        );
        let s = dosed(ESKETAMINE);
        assert_eq!(order::describe(&s.orders[0]), "Dose 56 mg");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Discharge readiness
// ---------------------------------------------------------------------------------------------

mod readiness {
    use super::*;

    #[test]
    fn nothing_is_met_before_the_first_dose() {
        let (s, _) = ready_to_dose(IV);
        let r = discharge::readiness(&s, at(200));
        assert_eq!(r.criteria.len(), 1);
        assert_eq!(r.criteria[0].name, "Dose given");
        assert!(!r.ready());
        assert_eq!(r.ready_at(), None);
    }

    #[test]
    fn every_shipped_protocol_asks_for_all_six_criteria() {
        for key in ALL_PROTOCOLS {
            let r = discharge::readiness(&dosed(key), at(0));
            let names: Vec<&str> = r.criteria.iter().map(|c| c.name.as_str()).collect();
            let minimum = minimum_minutes(&dosed(key));
            assert_eq!(
                names,
                vec![
                    "Dose complete".to_owned(),
                    format!("{minimum} min of monitoring since the first dose"),
                    "Vitals within limits".to_owned(),
                    "MOAA/S 5 or more".to_owned(),
                    "No unresolved adverse event".to_owned(),
                    "Escort present".to_owned(),
                ],
                "{key}"
            );
        }
    }

    /// Each criterion met or not, with the time it became (and stayed) true. IV: 90 min from the
    /// start of the infusion ([S26], clinical.md §1.4); hold limits 140/90; MOAA/S 5 (§5.1).
    #[test]
    fn each_criterion_is_met_from_the_time_it_became_true() {
        // (case, what was recorded, now, criterion, met, since)
        type Case = (
            &'static str,
            fn(&mut Session),
            i64,
            &'static str,
            bool,
            Option<i64>,
        );
        let cases: Vec<Case> = vec![
            ("infusion running", |_| {}, 30, "Dose complete", false, None),
            (
                "infusion complete",
                |s| finish(s, 0),
                45,
                "Dose complete",
                true,
                Some(40),
            ),
            (
                "infusion stopped early",
                |s| step(s, 0, change(AdminChange::Stop, 25, "Hypertension")).unwrap(),
                45,
                "Dose complete",
                true,
                Some(25),
            ),
            ("89 min after the start", |_| {}, 89, "90 min", false, None),
            (
                "90 min after the start",
                |_| {},
                90,
                "90 min",
                true,
                Some(90),
            ),
            (
                "only pre-dose vitals",
                |_| {},
                90,
                "Vitals within",
                false,
                None,
            ),
            (
                "latest pressure above the hold",
                |s| {
                    bp(s, 45, 128.0, 80.0);
                    bp(s, 60, 150.0, 95.0);
                },
                90,
                "Vitals within",
                false,
                None,
            ),
            (
                "pressure settled after a high reading",
                |s| {
                    bp(s, 45, 128.0, 80.0);
                    bp(s, 60, 150.0, 95.0);
                    bp(s, 75, 136.0, 88.0);
                    bp(s, 90, 130.0, 84.0);
                },
                90,
                "Vitals within",
                true,
                Some(75),
            ),
            (
                "latest entry without a pressure",
                |s| {
                    bp(s, 60, 130.0, 84.0);
                    add_vitals(
                        s,
                        Vitals {
                            systolic: None,
                            diastolic: None,
                            ..normal(75)
                        },
                    );
                },
                90,
                "Vitals within",
                true,
                Some(60),
            ),
            (
                "systolic settled before the diastolic",
                |s| {
                    bp(s, 30, 150.0, 95.0);
                    bp(s, 45, 135.0, 92.0);
                    bp(s, 60, 132.0, 86.0);
                },
                90,
                "Vitals within",
                true,
                Some(60),
            ),
            (
                "no MOAA/S since the dose",
                |s| moaas(s, -10, 5),
                90,
                "MOAA/S",
                false,
                None,
            ),
            (
                "latest MOAA/S 4",
                |s| {
                    moaas(s, 50, 5);
                    moaas(s, 60, 4);
                },
                90,
                "MOAA/S",
                false,
                None,
            ),
            (
                "MOAA/S 5 since minute 50",
                |s| {
                    moaas(s, 30, 3);
                    moaas(s, 50, 5);
                    moaas(s, 70, 5);
                },
                90,
                "MOAA/S",
                true,
                Some(50),
            ),
            (
                "no adverse event",
                |_| {},
                90,
                "No unresolved",
                true,
                Some(0),
            ),
            (
                "nausea ongoing",
                |s| {
                    adverse(s, AdverseKind::Nausea, 20);
                },
                90,
                "No unresolved",
                false,
                None,
            ),
            (
                "nausea resolved at 45",
                |s| {
                    let e = adverse(s, AdverseKind::Nausea, 20);
                    adverse_update(s, e, AdverseOutcome::Resolved, 45);
                },
                90,
                "No unresolved",
                true,
                Some(45),
            ),
            (
                "headache before the dose, resolved before it",
                |s| {
                    let e = adverse(s, AdverseKind::Headache, -25);
                    adverse_update(s, e, AdverseOutcome::Resolved, -15);
                },
                90,
                "No unresolved",
                true,
                Some(0),
            ),
            (
                "transferred for further care",
                |s| {
                    let e = adverse(s, AdverseKind::Hypertension, 30);
                    adverse_update(s, e, AdverseOutcome::Transferred, 50);
                },
                90,
                "No unresolved",
                true,
                Some(50),
            ),
            (
                "anxiety resolved then back",
                |s| {
                    let e = adverse(s, AdverseKind::Anxiety, 20);
                    adverse_update(s, e, AdverseOutcome::Resolved, 30);
                    adverse_update(s, e, AdverseOutcome::Ongoing, 50);
                },
                90,
                "No unresolved",
                false,
                None,
            ),
            ("no escort yet", |_| {}, 90, "Escort", false, None),
            (
                "escort here at 70",
                |s| escort_arrives(s, 70),
                90,
                "Escort",
                true,
                Some(70),
            ),
            (
                "escort waited from check-in",
                |s| {
                    escort_arrives(s, -15);
                    escort_arrives(s, 70);
                },
                90,
                "Escort",
                true,
                Some(-15),
            ),
        ];
        for (case, setup, now, name, met, since) in cases {
            let mut s = dosing(IV);
            setup(&mut s);
            let r = discharge::readiness(&s, at(now));
            let c = criterion(&r, name);
            assert_eq!(c.met, met, "{case}: {c:?}");
            assert_eq!(c.since, since.map(at), "{case}: {c:?}");
            assert!(!c.detail.is_empty(), "{case}");
        }
    }

    #[test]
    fn a_recovered_patient_is_ready_once_the_minimum_time_has_passed() {
        for key in ALL_PROTOCOLS {
            let s = recovered(key);
            let minimum = minimum_minutes(&s);
            let before = discharge::readiness(&s, at(minimum - 1));
            assert!(!before.ready(), "{key}");
            assert_eq!(before.ready_at(), None, "{key}");
            // Every other criterion was met by the escort's arrival at 55.
            assert_eq!(before.ready_without_minimum_at(), Some(at(55)), "{key}");
            let r = discharge::readiness(&s, at(minimum));
            assert!(r.ready(), "{key}: {:?}", r.criteria);
            assert_eq!(r.ready_at(), Some(at(minimum)), "{key}");
        }
    }

    /// Every order given, or the nurse sees "Every ordered dose was given" while a booster
    /// waits: an IM booster ordered at 30 and not given leaves the session ready at 120.
    #[test]
    fn a_booster_ordered_but_not_given_keeps_the_dose_incomplete() {
        let mut s = recovered(IM);
        order_booster(&mut s, 0.25, 30);
        let r = discharge::readiness(&s, at(120));
        let c = criterion(&r, "Dose complete");
        assert!(!c.met, "{c:?}");
        assert!(!r.ready());
    }

    /// A random session after its first dose at minute 0: what was recorded, and when it is now.
    #[derive(Debug, Clone)]
    struct Story {
        key: &'static str,
        /// Minute the IV infusion ended (none: still running); other routes finish as shipped.
        infusion_end: Option<i64>,
        vitals: Vec<(i64, f64, f64)>,
        moaas: Vec<(i64, u32)>,
        /// Onset and outcome updates (minute, outcome).
        adverse: Vec<(i64, Vec<(i64, AdverseOutcome)>)>,
        escort: Option<i64>,
        now: i64,
    }

    /// Weighted toward recovery, so that about a fifth of the sessions are ready to leave and
    /// the rest fail on each criterion in turn.
    fn story() -> impl Strategy<Value = Story> {
        let systolic = prop_oneof![9 => 100u32..=140, 1 => 141u32..=170];
        let diastolic = prop_oneof![9 => 60u32..=90, 1 => 91u32..=99];
        let vitals =
            proptest::collection::vec((-20i64..240, systolic, diastolic), 0..12).prop_map(|v| {
                v.into_iter()
                    .map(|(m, s, d)| (m, f64::from(s), f64::from(d)))
                    .collect::<Vec<_>>()
            });
        let score = prop_oneof![6 => Just(5u32), 1 => 0u32..=4];
        let moaas = proptest::collection::vec((-10i64..240, score), 0..10);
        let outcome = prop_oneof![
            8 => Just(AdverseOutcome::Resolved),
            1 => Just(AdverseOutcome::Transferred),
            1 => Just(AdverseOutcome::Ongoing),
        ];
        let update = (0i64..120, outcome);
        let updates = prop_oneof![
            1 => Just(vec![]),
            8 => proptest::collection::vec(update, 1..3),
        ];
        let adverse = proptest::collection::vec((-20i64..200, updates), 0..3).prop_map(|events| {
            events
                .into_iter()
                .map(|(onset, mut updates)| {
                    updates.sort_by_key(|u| u.0);
                    let updates = updates.into_iter().map(|(d, o)| (onset + d, o)).collect();
                    (onset, updates)
                })
                .collect::<Vec<_>>()
        });
        let escort = proptest::option::weighted(0.9, -30i64..200);
        (
            proptest::sample::select(ALL_PROTOCOLS.to_vec()),
            proptest::option::weighted(0.85, 20i64..60),
            vitals,
            moaas,
            adverse,
            escort,
            0i64..300,
        )
            .prop_map(
                |(key, infusion_end, vitals, moaas, adverse, escort, now)| Story {
                    key,
                    infusion_end,
                    vitals,
                    moaas,
                    adverse,
                    escort,
                    now,
                },
            )
    }

    /// The session as recorded up to `now` (nothing is recorded ahead of the clock).
    fn build(st: &Story) -> Session {
        let mut s = dosing(st.key);
        let now = st.now;
        match order::giving(&s.protocol) {
            Giving::Infusion { .. } => {
                if let Some(end) = st.infusion_end.filter(|m| *m <= now) {
                    step(&mut s, 0, change(AdminChange::Complete, end, "")).unwrap();
                }
            }
            Giving::Units { .. } if now >= 5 => finish(&mut s, 0),
            _ => {}
        }
        for &(m, sys, dia) in st.vitals.iter().filter(|v| v.0 <= now) {
            bp(&mut s, m, sys, dia);
        }
        for &(m, score) in st.moaas.iter().filter(|r| r.0 <= now) {
            moaas(&mut s, m, score);
        }
        for (onset, updates) in st.adverse.iter().filter(|e| e.0 <= now) {
            let e = adverse(&mut s, AdverseKind::Nausea, *onset);
            for &(m, outcome) in updates.iter().filter(|u| u.0 <= now) {
                adverse_update(&mut s, e, outcome, m);
            }
        }
        if let Some(m) = st.escort.filter(|m| *m <= now) {
            escort_arrives(&mut s, m);
        }
        s
    }

    /// The latest time of anything recorded in the session.
    fn latest_entry(s: &Session) -> DateTime<Utc> {
        let admin = s.administrations.iter().map(Administration::last_at);
        let vitals = s.vitals.iter().map(|v| v.at);
        let observations = s.observations.iter().map(|o| o.at);
        let adverse = s
            .adverse_events
            .iter()
            .flat_map(|e| std::iter::once(e.onset_at).chain(e.updates.iter().map(|u| u.at)));
        admin
            .chain(vitals)
            .chain(observations)
            .chain(adverse)
            .max()
            .unwrap_or(at(0))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn never_ready_before_the_minimum_time(st in story()) {
            let s = build(&st);
            let r = discharge::readiness(&s, at(st.now));
            if st.now < minimum_minutes(&s) {
                prop_assert!(!r.ready(), "{:?}", r.criteria);
                prop_assert_eq!(r.ready_at(), None);
            }
        }

        #[test]
        fn ready_at_lies_between_the_minimum_time_and_the_entries_considered(st in story()) {
            let s = build(&st);
            let r = discharge::readiness(&s, at(st.now));
            prop_assert_eq!(r.ready_at().is_some(), r.ready());
            if let Some(t) = r.ready_at() {
                let until = at(minimum_minutes(&s));
                prop_assert!(t >= until, "{} before {}", t, until);
                prop_assert!(t <= until.max(latest_entry(&s)), "{}", t);
                prop_assert!(t <= at(st.now), "{} after now", t);
                prop_assert!(r.ready_without_minimum_at().is_some_and(|w| w <= t));
            }
        }

        #[test]
        fn an_unresolved_adverse_event_always_keeps_the_patient(st in story(), onset in -20i64..300) {
            let mut s = build(&st);
            adverse(&mut s, AdverseKind::Dizziness, onset.min(st.now));
            let r = discharge::readiness(&s, at(st.now));
            prop_assert!(!r.ready(), "{:?}", r.criteria);
            prop_assert!(!criterion(&r, "No unresolved").met);
        }

        #[test]
        fn the_stage_agrees_with_readiness(st in story()) {
            let s = build(&st);
            let ready = discharge::readiness(&s, at(st.now)).ready();
            let stage = s.stage(at(st.now));
            prop_assert_eq!(stage == Stage::ReadyForDischarge, ready, "{:?}", stage);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 6. The esketamine REMS Patient Monitoring Form
// ---------------------------------------------------------------------------------------------

mod rems_form {
    use super::*;
    use crate::dosing::rems::Context;

    fn context() -> Context {
        Context {
            patient_name: "Alex Rivera".to_owned(),
            date_of_birth: NaiveDate::from_ymd_opt(1980, 5, 17),
            sex: "Female".to_owned(),
            first_treatment: false,
            enrolled: true,
            hcp_name: "Dr Priya Shah".to_owned(),
            hcp_email: "pshah@example.org".to_owned(),
            setting_name: "Harbour Clinic".to_owned(),
            treatment_date: today(),
        }
    }

    fn answered() -> RemsAnswers {
        RemsAnswers {
            benzodiazepines: Some(false),
            non_benzo_sedative_hypnotics: Some(false),
            psychostimulants: Some(false),
            maois: Some(false),
            opioids: Some(false),
            hcp_phone: "555-0199".to_owned(),
            setting_address: "1 Quay St, Portsmouth".to_owned(),
            ready_minutes: Some(95),
            bp_after_40: String::new(),
            sedation: Some(true),
            dissociation: Some(true),
            respiratory_depression: Some(false),
            other_adverse: String::new(),
        }
    }

    /// 56 mg (devices at 0 and 5), pressures at −10, 40, 60, 90 and 115, MOAA/S 4 at 15 and 5
    /// at 50, the escort at 100, discharged at 125 (clinical.md §2.3: at least 2 h).
    fn discharged_session() -> Session {
        let mut s = dosed(ESKETAMINE);
        bp(&mut s, 40, 138.0, 86.0);
        for minute in [60, 90, 115] {
            add_vitals(&mut s, normal(minute));
        }
        moaas(&mut s, 15, 4);
        moaas(&mut s, 50, 5);
        escort_arrives(&mut s, 100);
        discharge_at(&mut s, 125);
        s.rems = Some(answered());
        s
    }

    fn answer<'a>(form: &'a [rems::Field], section: &str, label: &str) -> Option<&'a str> {
        form.iter()
            .find(|f| f.section == section && f.label.starts_with(label))
            .unwrap_or_else(|| panic!("no field {section}: {label}"))
            .answer
            .as_deref()
    }

    #[test]
    fn a_discharged_session_with_everything_answered_leaves_nothing_missing() {
        let s = discharged_session();
        let form = rems::form(&s, &context(), at(130));
        assert_eq!(rems::missing(&form), Vec::<String>::new());
        assert_eq!(answer(&form, "Session", "Dose"), Some("56 mg"));
        assert_eq!(answer(&form, "Session", "Lot number"), Some(LOT));
        assert_eq!(
            answer(&form, "Session", "Treatment date"),
            Some("2025-03-04")
        );
        assert_eq!(
            answer(&form, "Blood pressure", "Before administration"),
            Some("122/78 at 08:50")
        );
        assert_eq!(
            answer(&form, "Blood pressure", "40 minutes"),
            Some("138/86 at 09:40")
        );
        assert_eq!(
            answer(&form, "Blood pressure", "Before session completion"),
            Some("122/78 at 10:55")
        );
        assert_eq!(
            answer(&form, "Vital signs", "Acceptable before administration"),
            Some("Yes")
        );
        assert_eq!(
            answer(&form, "Vital signs", "Acceptable before session"),
            Some("Yes")
        );
        assert_eq!(answer(&form, "REMS evaluation", "Minutes"), Some("95"));
    }

    /// The REMS form's total duration is from the first device to the end of monitoring, at
    /// least 120 min (clinical.md §2.6 [S46 S54]).
    #[test]
    fn the_total_duration_runs_from_the_first_device_to_discharge() {
        let s = discharged_session();
        let form = rems::form(&s, &context(), at(130));
        assert_eq!(answer(&form, "Session", "Total duration"), Some("125"));
        let mut open = s.clone();
        open.discharge = None;
        let form = rems::form(&open, &context(), at(130));
        assert_eq!(answer(&form, "Session", "Total duration"), None);
        assert!(
            rems::missing(&form)
                .iter()
                .any(|m| m.starts_with("Session: Total duration"))
        );
    }

    #[test]
    fn each_unanswered_question_is_listed_as_missing() {
        type Unanswer = fn(&mut RemsAnswers);
        let cases: [(&str, Unanswer); 10] = [
            ("Concomitant medication: Benzodiazepines", |a| {
                a.benzodiazepines = None
            }),
            (
                "Concomitant medication: Non-benzodiazepine sedative hypnotics",
                |a| a.non_benzo_sedative_hypnotics = None,
            ),
            ("Concomitant medication: Psychostimulants", |a| {
                a.psychostimulants = None
            }),
            (
                "Concomitant medication: Monoamine oxidase inhibitors (MAOIs)",
                |a| a.maois = None,
            ),
            ("Concomitant medication: Opioids", |a| a.opioids = None),
            ("Monitoring healthcare provider: Phone", |a| {
                a.hcp_phone = "  ".to_owned()
            }),
            ("Setting: Address", |a| a.setting_address = String::new()),
            ("Adverse outcomes: Sedation", |a| a.sedation = None),
            ("Adverse outcomes: Dissociation", |a| a.dissociation = None),
            ("Adverse outcomes: Respiratory depression", |a| {
                a.respiratory_depression = None;
            }),
        ];
        for (label, unanswer) in cases {
            let mut s = discharged_session();
            let mut a = answered();
            unanswer(&mut a);
            s.rems = Some(a);
            let missing = rems::missing(&rems::form(&s, &context(), at(130)));
            assert_eq!(missing, vec![label.to_owned()]);
        }
    }

    #[test]
    fn nothing_answered_lists_every_question_the_nurse_is_asked() {
        let mut s = discharged_session();
        s.rems = None;
        let form = rems::form(&s, &context(), at(130));
        let asked: Vec<&str> = form
            .iter()
            .filter(|f| f.answer.is_none())
            .filter_map(|f| f.asked_as)
            .collect();
        assert_eq!(
            asked,
            vec![
                "benzodiazepines",
                "non_benzo_sedative_hypnotics",
                "psychostimulants",
                "maois",
                "opioids",
                "hcp_phone",
                "setting_address",
                "sedation",
                "dissociation",
                "respiratory_depression",
            ]
        );
    }

    /// Without the nurse's answer, the minutes to "ready without the 2-hour minimum" are the
    /// session's estimate: here the escort's arrival at 100 was the last criterion met.
    #[test]
    fn ready_minutes_fall_back_to_the_sessions_estimate_and_are_missing_without_one() {
        let mut s = discharged_session();
        let mut a = answered();
        a.ready_minutes = None;
        s.rems = Some(a);
        let form = rems::form(&s, &context(), at(130));
        assert_eq!(answer(&form, "REMS evaluation", "Minutes"), Some("100"));
        // No MOAA/S since the dose: the session cannot say when sedation resolved.
        s.observations
            .retain(|o| !matches!(o.rating, Rating::Moaas(_)));
        let missing = rems::missing(&rems::form(&s, &context(), at(130)));
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert!(missing[0].starts_with("REMS evaluation: Minutes"));
    }

    #[test]
    fn a_pressure_above_the_hold_is_not_acceptable_vitals() {
        let mut s = discharged_session();
        bp(&mut s, 120, 146.0, 92.0);
        let form = rems::form(&s, &context(), at(130));
        assert_eq!(
            answer(&form, "Vital signs", "Acceptable before session"),
            Some("No")
        );
        assert_eq!(
            answer(&form, "Blood pressure", "Before session completion"),
            Some("146/92 at 11:00")
        );
    }

    #[test]
    fn an_84_mg_dose_and_another_dose_read_as_the_form_asks() {
        // The dose is read from the devices given: three make 84 mg, one makes "other".
        let mut s = discharged_session();
        let unit = s.administrations[0]
            .events
            .iter()
            .find(|e| matches!(e, AdminEvent::Unit { .. }))
            .cloned()
            .expect("a device");
        let given = s.administrations[0].units_given();
        while s.administrations[0].units_given() < 3 {
            s.administrations[0].events.push(unit.clone());
        }
        let form = rems::form(&s, &context(), at(130));
        assert_eq!(answer(&form, "Session", "Dose"), Some("84 mg"));
        s.administrations[0]
            .events
            .retain(|e| !matches!(e, AdminEvent::Unit { .. }));
        s.administrations[0].events.push(unit);
        let form = rems::form(&s, &context(), at(130));
        assert_eq!(answer(&form, "Session", "Dose"), Some("Other: 28 mg"));
        assert!(given >= 1);
    }

    /// The form's dose is the dose the patient received (clinical.md §2.6: 56 / 84 / other mg).
    /// 84 mg ordered, and stopped after the second device because the patient vomited, is
    /// 56 mg given.
    #[test]
    fn a_dose_stopped_early_reports_the_devices_given() {
        let mut s = session(ESKETAMINE);
        s.planned = PlannedDose::Fixed { mg: 84 };
        s.checklist = Some(checklist_at(-20));
        add_vitals(&mut s, normal(-10));
        let o = order_dose(&mut s, -5);
        give(&mut s, o, 0);
        step(&mut s, 0, Step::Unit(at(5))).unwrap();
        step(&mut s, 0, change(AdminChange::Stop, 8, "Vomited")).unwrap();
        assert_eq!(s.administrations[0].units_given(), 2);
        let form = rems::form(&s, &context(), at(130));
        assert_eq!(answer(&form, "Session", "Dose"), Some("56 mg"));
    }

    /// The form reaches the REMS within 7 days of the session (clinical.md §2.6 [S53 S54]).
    #[test]
    fn the_form_is_due_7_days_after_the_session() {
        assert_eq!(
            rems::due_on(today()),
            NaiveDate::from_ymd_opt(2025, 3, 11).unwrap()
        );
        assert_eq!(
            rems::due_on(NaiveDate::from_ymd_opt(2024, 12, 28).unwrap()),
            NaiveDate::from_ymd_opt(2025, 1, 4).unwrap()
        );
    }

    /// Sedation when a MOAA/S below 5 was recorded (§5.1); dissociation when a CADSS-6 item was
    /// above 0.
    #[test]
    fn sedation_and_dissociation_are_suggested_from_the_ratings() {
        let cases: [(&str, Vec<Rating>, (bool, bool)); 6] = [
            ("nothing rated", vec![], (false, false)),
            (
                "MOAA/S 5 throughout",
                vec![Rating::Moaas(Moaas::Five)],
                (false, false),
            ),
            ("MOAA/S 4", vec![Rating::Moaas(Moaas::Four)], (true, false)),
            (
                "CADSS-6 all 0",
                vec![Rating::Cadss6([0; 6])],
                (false, false),
            ),
            (
                "CADSS-6 item 7 at 1",
                vec![Rating::Cadss6([0, 0, 0, 1, 0, 0])],
                (false, true),
            ),
            (
                "both, among notes",
                vec![
                    Rating::Note("Quiet, eyes closed".to_owned()),
                    Rating::Moaas(Moaas::Three),
                    Rating::Cadss6([2, 1, 0, 0, 0, 0]),
                    Rating::Moaas(Moaas::Five),
                ],
                (true, true),
            ),
        ];
        for (case, ratings, expected) in cases {
            let mut s = dosed(ESKETAMINE);
            for (i, r) in ratings.into_iter().enumerate() {
                observe(&mut s, 10 + 10 * i as i64, r);
            }
            assert_eq!(rems::suggested(&s), expected, "{case}");
        }
    }

    /// The RemsAnswers field "other_adverse" (the form's "etc." of adverse outcomes,
    /// clinical.md §2.6) is asked of the nurse but never reaches the form.
    #[test]
    fn other_adverse_outcomes_reach_the_form() {
        let mut s = discharged_session();
        let mut a = answered();
        a.other_adverse = "Nausea, resolved with ondansetron".to_owned();
        s.rems = Some(a);
        let form = rems::form(&s, &context(), at(130));
        assert!(
            form.iter().any(|f| f.section == "Adverse outcomes"
                && f.answer.as_deref() == Some("Nausea, resolved with ondansetron")),
            "{:?}",
            form.iter()
                .filter(|f| f.section == "Adverse outcomes")
                .collect::<Vec<_>>()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Where the session stands
// ---------------------------------------------------------------------------------------------

mod stage {
    use super::*;

    #[test]
    fn an_iv_session_walks_from_pre_dose_checks_to_signed() {
        let mut s = session(IV);
        assert_eq!(s.stage(at(-30)), Stage::PreDose);
        s.checklist = Some(checklist_at(-20));
        add_vitals(&mut s, normal(-10));
        let o = order_dose(&mut s, -5);
        assert_eq!(s.stage(at(-1)), Stage::PreDose);
        give(&mut s, o, 0);
        assert_eq!(s.stage(at(1)), Stage::Dosing);
        for minute in [10, 20, 30, 40] {
            add_vitals(&mut s, normal(minute));
        }
        finish(&mut s, 0);
        assert_eq!(s.stage(at(41)), Stage::Monitoring);
        add_vitals(&mut s, normal(55));
        moaas(&mut s, 60, 5);
        escort_arrives(&mut s, 70);
        assert_eq!(
            s.stage(at(89)),
            Stage::Monitoring,
            "before the 90-minute minimum"
        );
        assert_eq!(s.stage(at(90)), Stage::ReadyForDischarge);
        discharge_at(&mut s, 95);
        assert_eq!(s.stage(at(96)), Stage::Discharged);
        sign(&mut s, 140);
        assert_eq!(s.stage(at(141)), Stage::Signed);
    }

    #[test]
    fn esketamine_is_dosing_until_the_last_device() {
        let mut s = dosing(ESKETAMINE);
        assert_eq!(s.stage(at(2)), Stage::Dosing);
        step(&mut s, 0, Step::Unit(at(5))).unwrap();
        assert_eq!(s.stage(at(6)), Stage::Monitoring);
    }

    #[test]
    fn a_new_concern_takes_a_ready_patient_back_to_monitoring() {
        let mut s = recovered(IM);
        assert_eq!(s.stage(at(120)), Stage::ReadyForDischarge);
        adverse(&mut s, AdverseKind::Dizziness, 118);
        assert_eq!(s.stage(at(120)), Stage::Monitoring);
    }

    #[test]
    fn a_deferred_session_stays_deferred_and_discharge_or_signature_wins() {
        let mut s = session(ESKETAMINE);
        s.checklist = Some(checklist_at(-20));
        let v = bp(&mut s, -10, 176.0, 104.0);
        decide(&mut s, HoldDecisionKind::Defer, v, -5);
        assert_eq!(s.stage(at(0)), Stage::Deferred);
        discharge_at(&mut s, 5);
        assert_eq!(s.stage(at(6)), Stage::Discharged);
        sign(&mut s, 30);
        assert_eq!(s.stage(at(31)), Stage::Signed);
    }
}
