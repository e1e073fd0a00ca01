//! Dosing sessions at the chair: opening at check-in, the pre-dose checklist and hold, orders and
//! administrations, the flowsheet (vitals and their alerts, ratings, adverse events), discharge,
//! co-signature and the REMS form, and the triggers that keep entries as they were written.
//!
//! Every write takes the time it happens (`now`): most tests pass the clock, the walk to
//! discharge replays a session that began three hours ago, minute by minute, as `kapstone demo`
//! does (entry times are checked against `now`, and monitoring lasts two hours).

use super::*;
use crate::course::Clinic;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use kap_domain::FieldErrors;
use kap_domain::alert::{AlertKind, AlertSource, AlertStatus};
use kap_domain::course::AppointmentStatus;
use kap_domain::course::appointment::AppointmentAction;
use kap_domain::dosing::checklist::ChecklistForm;
use kap_domain::dosing::flowsheet::VitalsForm;
use kap_domain::dosing::order::{AdminForm, OrderForm, Step};
use kap_domain::dosing::{
    AdminChange, AdminEvent, AdverseKind, AdverseOutcome, AdverseSeverity, HoldDecisionKind, Moaas,
    OrderKind, Pregnancy, Rating, RemsAnswers, Stage,
};
use kap_domain::instruments::Severity;
use kap_domain::protocol::SessionKind;
use kap_domain::protocol::dose::PlannedDose;
use kap_domain::screening::decision::Decision;
use kap_domain::time::TimeZone;
use kap_store::course::appointment::NewAppointment;
use kap_store::dosing::{AdverseForm, DischargeForm, SessionRecord};
use kap_store::{Conflict, StoreError, on_db};

/// A patient's course planned on one of the shipped protocols, its first dosing appointment
/// checked in and its session opened by the nurse.
struct Seat {
    c: Clinic,
    patient: Uuid,
    course: Uuid,
    /// The protocol version the course was planned on.
    version: Uuid,
    /// The course's dosing appointments, first first.
    dosing: Vec<Uuid>,
    session: Uuid,
}

impl Seat {
    async fn take(store: &Store, protocol: &str) -> Seat {
        Seat::take_at(store, protocol, now()).await
    }

    /// The session opened at `opened`.
    async fn take_at(store: &Store, protocol: &str, opened: DateTime<Utc>) -> Seat {
        let c = Clinic::open(store).await;
        let v = c.protocol(store, protocol).await;
        let patient = c
            .decided(
                store,
                "Rosa Santos",
                Decision::Eligible,
                &[v.protocol.route],
            )
            .await;
        let course = store
            .plan_course(&c.prescriber, c.id, &c.course(&v, patient, 7, "09:00"))
            .await
            .expect("course");
        let dosing: Vec<Uuid> = store
            .course(&c.prescriber, c.id, course)
            .await
            .expect("course")
            .appointments
            .into_iter()
            .filter(|a| a.kind == SessionKind::Dosing)
            .map(|a| a.id)
            .collect();
        let session = checked_in_and_opened_at(store, &c, dosing[0], opened).await;
        Seat {
            c,
            patient,
            course,
            version: v.id,
            dosing,
            session,
        }
    }

    fn nurse(&self) -> &Actor {
        &self.c.nurse
    }

    fn prescriber(&self) -> &Actor {
        &self.c.prescriber
    }

    fn staff(a: &Actor) -> Uuid {
        a.staff_id.expect("staff")
    }

    async fn read(&self, store: &Store) -> SessionRecord {
        self.read_session(store, self.session).await
    }

    async fn read_session(&self, store: &Store, id: Uuid) -> SessionRecord {
        store
            .dosing_session(self.nurse(), self.c.id, id)
            .await
            .expect("session")
    }

    /// The checklist done and pre-dose vitals within the protocol's limits.
    async fn ready_to_dose(&self, store: &Store, id: Uuid) {
        store
            .record_checklist(self.nurse(), self.c.id, id, &checklist(72.0), now())
            .await
            .expect("checklist");
        store
            .record_vitals(
                self.nurse(),
                self.c.id,
                id,
                &vitals(128.0, 80.0),
                now(),
                None,
                now(),
            )
            .await
            .expect("pre-dose vitals");
    }

    /// The prescriber orders the course's planned dose.
    async fn order(&self, store: &Store, id: Uuid) -> Uuid {
        let planned = self.read_session(store, id).await.session.planned;
        store
            .order_dose(
                self.prescriber(),
                self.c.id,
                id,
                OrderForm::Dose(planned),
                now(),
            )
            .await
            .expect("order")
    }

    /// The nurse gives the order under the prescriber, from a lot good for six months.
    fn giving(&self, order: Uuid, at: DateTime<Utc>) -> AdminForm {
        AdminForm {
            order_id: order,
            lot: " LOT-2231 ".into(),
            expiry: Some(today() + Duration::days(180)),
            started_at: at,
            given_by: Seat::staff(self.nurse()),
            supervised_by: Seat::staff(self.prescriber()),
        }
    }

    async fn start(&self, store: &Store, id: Uuid, order: Uuid) -> Uuid {
        store
            .start_administration(
                self.nurse(),
                self.c.id,
                id,
                &self.giving(order, now()),
                today(),
                now(),
            )
            .await
            .expect("administration")
    }

    /// Vitals taken and entered at `at`.
    async fn vitals_at(
        &self,
        store: &Store,
        f: VitalsForm,
        at: DateTime<Utc>,
    ) -> kap_store::dosing::VitalsSaved {
        store
            .record_vitals(self.nurse(), self.c.id, self.session, &f, at, None, at)
            .await
            .expect("vitals")
    }

    /// A rating made and entered at `at`.
    async fn rate(&self, store: &Store, r: Rating, at: DateTime<Utc>) -> Uuid {
        store
            .record_observation(self.nurse(), self.c.id, self.session, &r, at, None, at)
            .await
            .expect("observation")
    }
}

async fn checked_in_and_opened(store: &Store, c: &Clinic, appointment: Uuid) -> Uuid {
    checked_in_and_opened_at(store, c, appointment, now()).await
}

async fn checked_in_and_opened_at(
    store: &Store,
    c: &Clinic,
    appointment: Uuid,
    at: DateTime<Utc>,
) -> Uuid {
    store
        .act_on_appointment(&c.nurse, c.id, appointment, AppointmentAction::CheckIn, "")
        .await
        .expect("check in");
    store
        .open_session(&c.nurse, c.id, appointment, at)
        .await
        .expect("open")
}

fn now() -> DateTime<Utc> {
    kap_store::now()
}

fn today() -> NaiveDate {
    now().date_naive()
}

fn minutes(m: i64) -> Duration {
    Duration::minutes(m)
}

/// A checklist with every item confirmed and today's weight.
fn checklist(weight_kg: f64) -> ChecklistForm {
    checklist_at(weight_kg, now())
}

/// The checklist as recorded at `t`.
fn checklist_at(weight_kg: f64, t: DateTime<Utc>) -> ChecklistForm {
    ChecklistForm {
        identity_confirmed: true,
        last_food_at: Some(t - Duration::hours(3)),
        last_fluids_at: Some(t - minutes(45)),
        nasal_medicine_at: None,
        escort: " Sam Lee, 555 010 9999 ".into(),
        pregnancy: Some(Pregnancy::NotApplicable),
        medications_reviewed: true,
        benzodiazepine_today: false,
        medication_note: String::new(),
        intention_reviewed: true,
        intention: "To feel less stuck".into(),
        weight_kg: Some(weight_kg),
    }
}

fn vitals(systolic: f64, diastolic: f64) -> VitalsForm {
    VitalsForm {
        systolic: Some(systolic),
        diastolic: Some(diastolic),
        heart_rate: Some(72.0),
        spo2: Some(98.0),
        respiratory_rate: None,
    }
}

fn conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) -> Conflict {
    match r {
        Err(StoreError::Conflict(c)) => c,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn invalid<T: std::fmt::Debug>(r: Result<T, StoreError>) -> FieldErrors {
    match conflict(r) {
        Conflict::DosingInvalid(e) => e,
        other => panic!("expected an invalid entry, got {other:?}"),
    }
}

fn not_now<T: std::fmt::Debug>(r: Result<T, StoreError>) -> String {
    match conflict(r) {
        Conflict::NotNow(m) => m,
        other => panic!("expected not now, got {other:?}"),
    }
}

fn locked<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert_eq!(conflict(r), Conflict::SessionLocked);
}

/// The message of one field, failing the test when the field has none.
fn message<'a>(e: &'a FieldErrors, field: &str) -> &'a str {
    e.get(field)
        .unwrap_or_else(|| panic!("no message for {field}: {e}"))
}

async fn count(store: &Store, sql: &str) -> i64 {
    on_db!(&store.db, |p| sqlx::query_scalar::<_, i64>(
        sqlx::AssertSqlSafe(sql.to_owned())
    )
    .fetch_one(p)
    .await
    .expect("count"))
}

async fn rows(store: &Store, sql: &str) -> Result<u64, sqlx::Error> {
    on_db!(&store.db, |p| sqlx::query(sqlx::AssertSqlSafe(
        sql.to_owned()
    ))
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
}

/// Entries and vitals of all sessions.
async fn stored(store: &Store) -> (i64, i64) {
    (
        count(store, "SELECT COUNT(*) FROM dosing_entry").await,
        count(store, "SELECT COUNT(*) FROM vital_sign").await,
    )
}

both_backends!(
    a_session_opens_only_at_a_checked_in_dosing_appointment_under_the_course_version,
    |store: Store| async move {
        let c = Clinic::open(&store).await;
        let v1 = c.protocol(&store, "esketamine-trd").await;
        let rosa = c.eligible_for_esketamine(&store, "Rosa Santos").await;
        let course = store
            .plan_course(&c.prescriber, c.id, &c.course(&v1, rosa, 7, "09:00"))
            .await
            .expect("course");
        let appts = store
            .course(&c.prescriber, c.id, course)
            .await
            .expect("course")
            .appointments;
        let first = |k: SessionKind| {
            appts
                .iter()
                .find(|a| a.kind == k && a.number == Some(1))
                .expect("session")
                .id
        };
        let (prep, dose1) = (first(SessionKind::Preparation), first(SessionKind::Dosing));
        // A version 2 uploaded after planning: the course (and its sessions) keep version 1.
        let v2 = store
            .upload_protocol(
                &c.prescriber,
                c.id,
                "esketamine-trd.toml",
                &v1.body.replacen("version = 1", "version = 2", 1),
            )
            .await
            .expect("v2");

        // Not checked in yet.
        let m = not_now(store.open_session(&c.nurse, c.id, dose1, now()).await);
        assert!(m.contains("Check the patient in first"), "{m}");
        // A preparation session has no dosing session.
        store
            .act_on_appointment(&c.nurse, c.id, prep, AppointmentAction::CheckIn, "")
            .await
            .expect("check in");
        let m = not_now(store.open_session(&c.nurse, c.id, prep, now()).await);
        assert!(m.contains("Only a dosing appointment"), "{m}");
        // A dosing appointment booked outside any course.
        let lone = store
            .book_appointment(
                &c.prescriber,
                c.id,
                &NewAppointment {
                    patient_id: rosa,
                    course_id: None,
                    kind: SessionKind::Dosing,
                    starts_at: now() + Duration::days(2),
                    minutes: 140,
                    staff_id: None,
                    room_id: Some(c.chair),
                    tz: TimeZone::UTC,
                },
            )
            .await
            .expect("booked");
        store
            .act_on_appointment(&c.nurse, c.id, lone, AppointmentAction::CheckIn, "")
            .await
            .expect("check in");
        let m = not_now(store.open_session(&c.nurse, c.id, lone, now()).await);
        assert!(m.contains("belongs to no course"), "{m}");
        assert!(matches!(
            store
                .open_session(&c.nurse, c.id, Uuid::now_v7(), now())
                .await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM dosing_session").await,
            0
        );

        // Checked in: opened once, the same session however often it is opened.
        let id = checked_in_and_opened(&store, &c, dose1).await;
        assert_eq!(
            store
                .open_session(&c.nurse, c.id, dose1, now())
                .await
                .expect("again"),
            id
        );
        assert_eq!(
            store
                .open_session(&c.prescriber, c.id, dose1, now())
                .await
                .expect("by the prescriber"),
            id
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM dosing_session").await,
            1
        );
        assert_eq!(
            store
                .session_of_appointment(c.id, dose1)
                .await
                .expect("of appointment"),
            Some(id)
        );
        assert_eq!(
            store
                .session_of_appointment(c.id, prep)
                .await
                .expect("none"),
            None
        );

        let r = store
            .dosing_session(&c.nurse, c.id, id)
            .await
            .expect("session");
        let s = &r.session;
        assert_eq!(s.protocol_id, v1.id);
        assert_ne!(s.protocol_id, v2);
        assert_eq!(s.protocol.version, 1);
        assert_eq!(s.protocol.key, "esketamine-trd");
        assert_eq!(
            (s.appointment_id, s.course_id, s.patient_id),
            (dose1, course, rosa)
        );
        assert_eq!(s.opened.by, c.nurse.staff_id.expect("nurse"));
        assert_eq!(s.opened.by_name, "Nurse Person");
        assert_eq!(s.stage(now()), Stage::PreDose);
        assert!(s.checklist.is_none() && s.orders.is_empty() && s.vitals.is_empty());
        assert_eq!(r.patient_name, "Rosa Santos");
        assert_eq!(r.appointment_number, Some(1));
        assert!(r.rems_context.first_treatment);

        let lines = store.sessions_of_patient(c.id, rosa).await.expect("lines");
        assert_eq!(lines.len(), 1);
        assert_eq!(
            (lines[0].id, lines[0].stage, lines[0].esketamine),
            (id, Stage::PreDose, true)
        );
        assert!(lines[0].signed_at.is_none());

        // Another clinic sees none of it.
        let (other, other_actor) = clinic_with(&store, "b", Role::Nurse).await;
        assert!(matches!(
            store.open_session(&other_actor, other, dose1, now()).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.dosing_session(&other_actor, other, id).await,
            Err(StoreError::NotFound)
        ));
    }
);

/// Check-in pressed twice at once (two tablets, a double click): one session, both callers
/// get it.
async fn opening_twice_at_once(store: Store) {
    let seat = Seat::take(&store, "esketamine-trd").await;
    let dose2 = seat.dosing[1];
    store
        .act_on_appointment(
            seat.nurse(),
            seat.c.id,
            dose2,
            AppointmentAction::CheckIn,
            "",
        )
        .await
        .expect("check in");
    let (a, b) = tokio::join!(
        store.open_session(seat.nurse(), seat.c.id, dose2, now()),
        store.open_session(seat.prescriber(), seat.c.id, dose2, now()),
    );
    assert_eq!(a.expect("first"), b.expect("second"));
}

/// Stamped out by hand: on PostgreSQL the second opener fails on the unique appointment (a
/// bug); SQLite's single writer queues them.
mod opening_the_same_session_twice_at_once_gives_one_session {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        let store = kap_store::testing::store("sqlite").await.expect("sqlite");
        opening_twice_at_once(store).await;
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL: set KAPSTONE_TEST_PG_URL and run with -- --include-ignored"]
    async fn postgres() {
        let store = kap_store::testing::store("postgres")
            .await
            .expect("postgres");
        opening_twice_at_once(store).await;
    }
}

both_backends!(
    the_checklist_lists_every_problem_and_may_be_recorded_again_before_dosing,
    |store: Store| async move {
        let seat = Seat::take(&store, "esketamine-trd").await;
        let (nurse, clinic, id) = (seat.nurse(), seat.c.id, seat.session);
        let later = now() + Duration::hours(1);
        let bad = ChecklistForm {
            identity_confirmed: false,
            last_food_at: Some(later),
            last_fluids_at: Some(later),
            nasal_medicine_at: Some(later),
            escort: "   ".into(),
            pregnancy: None,
            medications_reviewed: false,
            benzodiazepine_today: false,
            medication_note: String::new(),
            intention_reviewed: false,
            intention: String::new(),
            weight_kg: Some(7.2),
        };
        let e = invalid(store.record_checklist(nurse, clinic, id, &bad, now()).await);
        let fields = [
            "identity_confirmed",
            "last_food_at",
            "last_fluids_at",
            "nasal_medicine_at",
            "escort",
            "pregnancy",
            "medications_reviewed",
            "intention_reviewed",
            "weight_kg",
        ];
        for f in fields {
            message(&e, f);
        }
        assert_eq!(e.iter().count(), fields.len(), "{e}");
        assert!(message(&e, "weight_kg").contains("not plausible"), "{e}");
        assert!(message(&e, "last_food_at").contains("in the future"), "{e}");
        let no_weight = ChecklistForm {
            weight_kg: None,
            ..checklist(72.0)
        };
        let e = invalid(
            store
                .record_checklist(nurse, clinic, id, &no_weight, now())
                .await,
        );
        assert!(message(&e, "weight_kg").contains("today's weight"), "{e}");
        assert_eq!(stored(&store).await, (0, 0));
        assert!(seat.read(&store).await.session.checklist.is_none());

        store
            .record_checklist(nurse, clinic, id, &checklist(72.0), now())
            .await
            .expect("checklist");
        let c = seat.read(&store).await.session.checklist.expect("recorded");
        assert_eq!(c.weight_kg, 72.0);
        assert_eq!(c.escort, "Sam Lee, 555 010 9999", "trimmed");
        assert_eq!(c.pregnancy, Some(Pregnancy::NotApplicable));
        assert_eq!(c.entered.by, Seat::staff(nurse));

        // Weighed again before dosing: the latest recording counts.
        let again = ChecklistForm {
            escort: "Ana Santos".into(),
            benzodiazepine_today: true,
            ..checklist(71.5)
        };
        store
            .record_checklist(nurse, clinic, id, &again, now())
            .await
            .expect("again");
        let r = seat.read(&store).await;
        let c = r.session.checklist.clone().expect("recorded");
        assert_eq!(
            (c.weight_kg, c.escort.as_str(), c.benzodiazepine_today),
            (71.5, "Ana Santos", true)
        );
        assert_eq!(stored(&store).await, (2, 0), "both kept, the latest counts");
        assert_eq!(r.session.stage(now()), Stage::PreDose);
    }
);

both_backends!(
    a_pre_dose_hold_blocks_the_dose_until_a_prescriber_overrides_or_defers,
    |store: Store| async move {
        let seat = Seat::take(&store, "esketamine-trd").await;
        let (nurse, prescriber, clinic, id) =
            (seat.nurse(), seat.prescriber(), seat.c.id, seat.session);
        store
            .record_checklist(nurse, clinic, id, &checklist(72.0), now())
            .await
            .expect("checklist");
        // 152/96: above the hold (140/90), below the alert limits (180/100).
        let high = store
            .record_vitals(nurse, clinic, id, &vitals(152.0, 96.0), now(), None, now())
            .await
            .expect("vitals");
        assert!(high.alerts.is_empty());
        // The prescriber may order while the hold stands; the dose waits.
        let order = seat.order(&store, id).await;
        let e = invalid(
            store
                .start_administration(
                    nurse,
                    clinic,
                    id,
                    &seat.giving(order, now()),
                    today(),
                    now(),
                )
                .await,
        );
        let m = message(&e, "order_id");
        assert!(m.contains("Dosing is on hold"), "{m}");
        assert!(m.contains("above 140") && m.contains("above 90"), "{m}");
        assert!(seat.read(&store).await.session.administrations.is_empty());

        // The prescriber doses with a reason.
        let e = invalid(
            store
                .decide_hold(
                    prescriber,
                    clinic,
                    id,
                    HoldDecisionKind::Override,
                    "  ",
                    now(),
                )
                .await,
        );
        message(&e, "reason");
        store
            .decide_hold(
                prescriber,
                clinic,
                id,
                HoldDecisionKind::Override,
                " Anxious on arrival; 134/84 at home this morning. ",
                now(),
            )
            .await
            .expect("override");
        let s = seat.read(&store).await.session;
        assert_eq!(s.hold_decisions.len(), 1);
        let d = &s.hold_decisions[0];
        assert_eq!(d.kind, HoldDecisionKind::Override);
        assert_eq!(d.vitals_id, high.id);
        assert_eq!(d.reason, "Anxious on arrival; 134/84 at home this morning.");
        assert_eq!(d.entered.by, Seat::staff(prescriber));
        let m = not_now(
            store
                .decide_hold(
                    prescriber,
                    clinic,
                    id,
                    HoldDecisionKind::Override,
                    "again",
                    now(),
                )
                .await,
        );
        assert!(m.contains("no pre-dose hold"), "{m}");
        seat.start(&store, id, order).await;
        assert_eq!(seat.read(&store).await.session.stage(now()), Stage::Dosing);

        // The second session: held, and deferred.
        let dose2 = seat.dosing[1];
        let second = checked_in_and_opened(&store, &seat.c, dose2).await;
        store
            .record_checklist(nurse, clinic, second, &checklist(72.0), now())
            .await
            .expect("checklist");
        store
            .record_vitals(
                nurse,
                clinic,
                second,
                &vitals(150.0, 95.0),
                now(),
                None,
                now(),
            )
            .await
            .expect("vitals");
        store
            .decide_hold(
                prescriber,
                clinic,
                second,
                HoldDecisionKind::Defer,
                "BP stays high; rebook next week.",
                now(),
            )
            .await
            .expect("defer");
        let appt = store
            .appointment(prescriber, clinic, dose2)
            .await
            .expect("appointment");
        assert_eq!(appt.status, AppointmentStatus::Cancelled);
        assert_eq!(
            appt.status_reason.as_deref(),
            Some("Deferred by the prescriber: BP stays high; rebook next week.")
        );
        let s = seat.read_session(&store, second).await.session;
        assert!(s.deferred());
        assert_eq!(s.stage(now()), Stage::Deferred);
        let line = store
            .sessions_of_patient(clinic, seat.patient)
            .await
            .expect("lines")
            .into_iter()
            .find(|l| l.id == second)
            .expect("line");
        assert_eq!(line.stage, Stage::Deferred);
        let planned = s.planned;
        let before = stored(&store).await;
        let m = not_now(
            store
                .order_dose(prescriber, clinic, second, OrderForm::Dose(planned), now())
                .await,
        );
        assert!(m.contains("deferred"), "{m}");
        let m = not_now(
            store
                .decide_hold(
                    prescriber,
                    clinic,
                    second,
                    HoldDecisionKind::Defer,
                    "again",
                    now(),
                )
                .await,
        );
        assert!(m.contains("was deferred"), "{m}");
        assert_eq!(stored(&store).await, before);
        // A deferred session is closed as it is: the prescriber co-signs it without discharge.
        store
            .sign_session(prescriber, clinic, second, now())
            .await
            .expect("a deferred session is signed as it is");
        let line = store
            .sessions_of_patient(clinic, seat.patient)
            .await
            .expect("lines")
            .into_iter()
            .find(|l| l.id == second)
            .expect("line");
        assert!(line.signed_at.is_some());
    }
);

both_backends!(
    an_iv_dose_is_ordered_once_and_given_once_by_a_nurse_under_a_prescriber,
    |store: Store| async move {
        let seat = Seat::take(&store, "iv-ketamine").await;
        let (nurse, prescriber, clinic, id) =
            (seat.nurse(), seat.prescriber(), seat.c.id, seat.session);
        let half = OrderForm::Dose(PlannedDose::PerKg { ug_per_kg: 500 });
        let m = not_now(store.order_dose(prescriber, clinic, id, half, now()).await);
        assert!(m.contains("checklist"), "{m}");

        store
            .record_checklist(nurse, clinic, id, &checklist(73.0), now())
            .await
            .expect("checklist");
        store
            .record_vitals(nurse, clinic, id, &vitals(126.0, 78.0), now(), None, now())
            .await
            .expect("vitals");
        // 1.5 mg/kg: above the protocol's 1 mg/kg.
        let m = not_now(
            store
                .order_dose(
                    prescriber,
                    clinic,
                    id,
                    OrderForm::Dose(PlannedDose::PerKg { ug_per_kg: 1500 }),
                    now(),
                )
                .await,
        );
        assert!(m.contains("outside this protocol's range"), "{m}");
        assert!(seat.read(&store).await.session.orders.is_empty());

        let order = store
            .order_dose(prescriber, clinic, id, half, now())
            .await
            .expect("order");
        let s = seat.read(&store).await.session;
        assert_eq!(s.orders.len(), 1);
        let o = &s.orders[0];
        assert_eq!(o.id, order);
        assert_eq!(o.kind, OrderKind::Dose);
        assert_eq!((o.mg, o.mg_per_kg, o.weight_kg), (36.5, Some(0.5), 73.0));
        assert_eq!(
            o.steps,
            [
                "Dosed by the actual weight: 73.0 kg",
                "0.5 mg/kg × 73.0 kg = 36.5 mg",
                "rounded to the nearest 0.5 mg: 36.5 mg",
                "infused over 40 minutes",
            ]
        );
        assert_eq!(o.entered.by, Seat::staff(prescriber));
        let m = not_now(store.order_dose(prescriber, clinic, id, half, now()).await);
        assert!(m.contains("already has its dose order"), "{m}");

        // Who gives and who supervises.
        let coordinator = staff_in(&store, clinic, Role::Coordinator).await;
        let wrong = AdminForm {
            given_by: Seat::staff(&coordinator),
            supervised_by: Seat::staff(nurse),
            ..seat.giving(order, now())
        };
        let e = invalid(
            store
                .start_administration(nurse, clinic, id, &wrong, today(), now())
                .await,
        );
        assert!(
            message(&e, "given_by").contains("nurse or prescriber"),
            "{e}"
        );
        assert!(message(&e, "supervised_by").contains("prescriber"), "{e}");
        // An expired lot, no lot number, a start in the future.
        let expired = AdminForm {
            lot: " ".into(),
            expiry: Some(today() - Duration::days(1)),
            started_at: now() + minutes(10),
            ..seat.giving(order, now())
        };
        let e = invalid(
            store
                .start_administration(nurse, clinic, id, &expired, today(), now())
                .await,
        );
        assert!(message(&e, "expiry").contains("expired"), "{e}");
        message(&e, "lot");
        assert!(message(&e, "started_at").contains("future"), "{e}");
        let no_expiry = AdminForm {
            expiry: None,
            ..seat.giving(order, now())
        };
        let e = invalid(
            store
                .start_administration(nurse, clinic, id, &no_expiry, today(), now())
                .await,
        );
        message(&e, "expiry");
        assert!(seat.read(&store).await.session.administrations.is_empty());

        let admin = seat.start(&store, id, order).await;
        let s = seat.read(&store).await.session;
        assert_eq!(s.administrations.len(), 1);
        let a = &s.administrations[0];
        assert_eq!((a.id, a.order_id), (admin, order));
        assert_eq!(a.lot, "LOT-2231", "trimmed");
        assert_eq!(a.expiry, today() + Duration::days(180));
        assert_eq!(
            (a.given_by_name.as_str(), a.supervised_by_name.as_str()),
            ("Nurse Person", "Test Person")
        );
        assert_eq!(a.units_needed, None);
        assert!(a.events.is_empty(), "an infusion runs until completed");
        assert_eq!(s.stage(now()), Stage::Dosing);

        let e = invalid(
            store
                .start_administration(
                    nurse,
                    clinic,
                    id,
                    &seat.giving(order, now()),
                    today(),
                    now(),
                )
                .await,
        );
        assert!(message(&e, "order_id").contains("already given"), "{e}");
        let m = not_now(
            store
                .record_checklist(nurse, clinic, id, &checklist(73.0), now())
                .await,
        );
        assert!(m.contains("Dosing has started"), "{m}");

        // The infusion's steps.
        let step = |s: Step| {
            let store = &store;
            async move {
                store
                    .administration_step(nurse, clinic, id, admin, &s, None, now())
                    .await
            }
        };
        let m = not_now(step(Step::Unit(now())).await);
        assert!(m.contains("not given unit by unit"), "{m}");
        let m = not_now(step(Step::Change(AdminChange::Pause, now(), " ".into())).await);
        assert!(m.contains("reason"), "{m}");
        step(Step::Change(AdminChange::Pause, now(), "Nausea".into()))
            .await
            .expect("pause");
        let m = not_now(step(Step::Change(AdminChange::Complete, now(), String::new())).await);
        assert!(m.contains("paused"), "{m}");
        step(Step::Change(AdminChange::Resume, now(), String::new()))
            .await
            .expect("resume");
        step(Step::Change(AdminChange::Complete, now(), String::new()))
            .await
            .expect("complete");
        let m = not_now(step(Step::Change(AdminChange::Complete, now(), String::new())).await);
        assert!(m.contains("already complete"), "{m}");
        let s = seat.read(&store).await.session;
        assert_eq!(s.administrations[0].events.len(), 3);
        assert!(s.dosing_finished_at().is_some());
        assert_eq!(s.stage(now()), Stage::Monitoring);
        assert_eq!(
            store
                .course_dosing(clinic, seat.course)
                .await
                .expect("course")
                .doses_given,
            1
        );
    }
);

both_backends!(
    esketamine_devices_are_given_one_by_one_five_minutes_apart,
    |store: Store| async move {
        // Replayed from half an hour ago, so the devices can be given minutes apart.
        let t0 = now() - minutes(30);
        let at = |m: i64| t0 + minutes(m);
        let seat = Seat::take_at(&store, "esketamine-trd", t0).await;
        let (nurse, prescriber, clinic, id) =
            (seat.nurse(), seat.prescriber(), seat.c.id, seat.session);
        store
            .record_checklist(nurse, clinic, id, &checklist_at(72.0, at(1)), at(1))
            .await
            .expect("checklist");
        seat.vitals_at(&store, vitals(128.0, 80.0), at(2)).await;
        let order = |mg: u32| {
            let store = &store;
            async move {
                store
                    .order_dose(
                        prescriber,
                        clinic,
                        id,
                        OrderForm::Dose(PlannedDose::Fixed { mg }),
                        at(5),
                    )
                    .await
            }
        };
        let m = not_now(order(112).await);
        assert!(
            m.contains("112 mg is not a dose this protocol allows"),
            "{m}"
        );
        let order = order(56).await.expect("order");
        let o = seat.read(&store).await.session.orders[0].clone();
        assert_eq!(
            (o.mg, o.mg_per_kg, o.entered.entered_at),
            (56.0, None, at(5))
        );
        assert!(!o.steps.is_empty());

        // Not before the order was entered.
        let e = invalid(
            store
                .start_administration(
                    nurse,
                    clinic,
                    id,
                    &seat.giving(order, at(3)),
                    today(),
                    at(6),
                )
                .await,
        );
        assert!(
            message(&e, "started_at").contains("before it was ordered"),
            "{e}"
        );
        let start = at(10);
        let admin = store
            .start_administration(
                nurse,
                clinic,
                id,
                &seat.giving(order, start),
                today(),
                start,
            )
            .await
            .expect("first device");
        let s = seat.read(&store).await.session;
        let a = &s.administrations[0];
        assert_eq!(a.units_needed, Some(2));
        assert_eq!(a.units_given(), 1, "the first device at the start");
        assert!(matches!(a.events[0], AdminEvent::Unit { at, .. } if at == start));
        assert_eq!(s.stage(at(11)), Stage::Dosing);

        let device = |t: DateTime<Utc>| {
            let store = &store;
            async move {
                store
                    .administration_step(nurse, clinic, id, admin, &Step::Unit(t), None, t)
                    .await
            }
        };
        // Four minutes after the first: refused; the rest is five minutes.
        let before = stored(&store).await;
        let m = not_now(device(start + minutes(4)).await);
        assert!(m.contains("5 min between units"), "{m}");
        let m = not_now(
            store
                .administration_step(
                    nurse,
                    clinic,
                    id,
                    admin,
                    &Step::Change(AdminChange::Pause, at(14), "Sneezing".into()),
                    None,
                    at(14),
                )
                .await,
        );
        assert!(m.contains("Record each unit"), "{m}");
        assert_eq!(stored(&store).await, before);
        assert!(matches!(
            store
                .administration_step(
                    nurse,
                    clinic,
                    id,
                    Uuid::now_v7(),
                    &Step::Unit(at(15)),
                    None,
                    at(15)
                )
                .await,
            Err(StoreError::NotFound)
        ));

        // Five minutes after: the second and last device; the dose is complete.
        device(start + minutes(5)).await.expect("second device");
        let m = not_now(device(start + minutes(10)).await);
        assert!(m.contains("already complete"), "{m}");
        let s = seat.read(&store).await.session;
        assert_eq!(s.administrations[0].units_given(), 2);
        assert_eq!(s.dosing_finished_at(), Some(start + minutes(5)));
        assert_eq!(s.stage(at(16)), Stage::Monitoring);
    }
);

both_backends!(
    vitals_beyond_the_alert_limit_raise_one_alert_per_measure_and_a_retry_lands_once,
    |store: Store| async move {
        let seat = Seat::take(&store, "esketamine-trd").await;
        let (nurse, clinic, id) = (seat.nurse(), seat.c.id, seat.session);
        let alerts = || {
            let store = &store;
            async move { store.alerts_of(clinic, seat.patient).await.expect("alerts") }
        };
        let record = |f: VitalsForm, at: DateTime<Utc>, client: Option<Uuid>| {
            let store = &store;
            async move {
                store
                    .record_vitals(nurse, clinic, id, &f, at, client, now())
                    .await
            }
        };

        // Implausible values, half a blood pressure, nothing at all, a time to come.
        let slip = VitalsForm {
            systolic: Some(400.0),
            diastolic: Some(80.0),
            heart_rate: Some(72.0),
            spo2: Some(30.0),
            respiratory_rate: Some(f64::NAN),
        };
        let e = invalid(record(slip, now(), None).await);
        assert!(message(&e, "systolic").contains("not a plausible"), "{e}");
        message(&e, "spo2");
        message(&e, "respiratory_rate");
        let half = VitalsForm {
            diastolic: None,
            ..vitals(190.0, 0.0)
        };
        let e = invalid(record(half, now(), None).await);
        message(&e, "diastolic");
        let e = invalid(record(VitalsForm::default(), now(), None).await);
        assert!(message(&e, "systolic").contains("at least one"), "{e}");
        let e = invalid(record(vitals(190.0, 95.0), now() + minutes(10), None).await);
        assert!(message(&e, "at").contains("future"), "{e}");
        let e = invalid(record(vitals(190.0, 95.0), now() - Duration::hours(2), None).await);
        assert!(
            message(&e, "at").contains("before the session began"),
            "{e}"
        );
        assert_eq!(stored(&store).await, (0, 0));
        assert!(alerts().await.is_empty());

        // Systolic 190 (the limit is 180), diastolic 95 (limit 100): one alert.
        let tablet = Uuid::now_v7();
        let saved = record(vitals(190.0, 95.0), now(), Some(tablet))
            .await
            .expect("vitals");
        assert!(!saved.repeated);
        assert_eq!(saved.alerts.len(), 1);
        let list = alerts().await;
        assert_eq!(list.len(), 1);
        let a = &list[0];
        assert_eq!(a.id, saved.alerts[0]);
        assert_eq!(a.kind, AlertKind::VitalOutOfRange);
        assert_eq!(a.severity, Severity::Urgent);
        assert_eq!(a.source, AlertSource::Vitals(saved.id));
        assert_eq!(a.session_id, Some(id));
        assert_eq!(a.status, AlertStatus::Open);
        assert!(a.detail.contains("during a dosing session"), "{}", a.detail);
        let r = seat.read(&store).await;
        let v = &r.session.vitals[0];
        assert_eq!(v.id, saved.id);
        assert_eq!(
            a.raised_at, v.entered.entered_at,
            "raised in the transaction that stored the vitals"
        );
        assert_eq!(r.alerts.iter().map(|x| x.id).collect::<Vec<_>>(), [a.id]);

        // The tablet retries (its first answer was lost): the first save, nothing more.
        let again = record(vitals(191.0, 96.0), now(), Some(tablet))
            .await
            .expect("retry");
        assert_eq!(again.id, saved.id);
        assert!(again.repeated);
        assert!(again.alerts.is_empty());
        assert_eq!(stored(&store).await, (0, 1));
        assert_eq!(alerts().await.len(), 1);

        // Three measures beyond their limits: three alerts, one each.
        let worse = VitalsForm {
            systolic: Some(195.0),
            diastolic: Some(112.0),
            heart_rate: Some(124.0),
            spo2: Some(95.0),
            respiratory_rate: None,
        };
        let saved = record(worse, now(), None).await.expect("vitals");
        assert_eq!(saved.alerts.len(), 3);
        assert_eq!(alerts().await.len(), 4);

        // Two writers on one session at once: both land.
        let (first, second) = (vitals(130.0, 80.0), vitals(128.0, 82.0));
        let (a, b) = tokio::join!(
            store.record_vitals(nurse, clinic, id, &first, now(), None, now()),
            store.record_vitals(seat.prescriber(), clinic, id, &second, now(), None, now()),
        );
        let (a, b) = (a.expect("first"), b.expect("second"));
        assert_ne!(a.id, b.id);
        assert_eq!(stored(&store).await, (0, 4));
        assert_eq!(seat.read(&store).await.session.vitals.len(), 4);
    }
);

both_backends!(
    ratings_observations_and_adverse_events_are_checked_and_kept,
    |store: Store| async move {
        let seat = Seat::take(&store, "esketamine-trd").await;
        let (nurse, clinic, id) = (seat.nurse(), seat.c.id, seat.session);
        let observe = |r: Rating, at: DateTime<Utc>, client: Option<Uuid>| {
            let store = &store;
            async move {
                store
                    .record_observation(nurse, clinic, id, &r, at, client, now())
                    .await
            }
        };
        let t = now();
        let moaas = observe(Rating::Moaas(Moaas::Three), t - minutes(3), None)
            .await
            .expect("MOAA/S");
        let e = invalid(observe(Rating::Cadss6([0, 1, 2, 3, 4, 5]), t, None).await);
        assert!(message(&e, "cadss").contains("0 to 4"), "{e}");
        observe(Rating::Cadss6([0, 1, 2, 3, 4, 0]), t - minutes(2), None)
            .await
            .expect("CADSS-6");
        let e = invalid(observe(Rating::Note("  ".into()), t, None).await);
        message(&e, "text");
        let e = invalid(observe(Rating::EscortPresent(String::new()), t, None).await);
        message(&e, "text");
        let e = invalid(observe(Rating::Note("Later".into()), t + minutes(5), None).await);
        assert!(message(&e, "at").contains("future"), "{e}");
        let tablet = Uuid::now_v7();
        let note = observe(
            Rating::Note(" Resting, eyes closed ".into()),
            t - minutes(1),
            Some(tablet),
        )
        .await
        .expect("note");
        assert_eq!(
            observe(Rating::Note("Resting".into()), t, Some(tablet))
                .await
                .expect("retry"),
            note,
            "a retry lands once"
        );
        observe(Rating::EscortPresent(" Sam Lee ".into()), t, None)
            .await
            .expect("escort");
        let s = seat.read(&store).await.session;
        assert_eq!(
            s.observations
                .iter()
                .map(|o| o.rating.clone())
                .collect::<Vec<_>>(),
            [
                Rating::Moaas(Moaas::Three),
                Rating::Cadss6([0, 1, 2, 3, 4, 0]),
                Rating::Note("Resting, eyes closed".into()),
                Rating::EscortPresent("Sam Lee".into()),
            ],
            "by time, trimmed"
        );
        assert_eq!(s.observations[0].id, moaas);
        assert_eq!(s.latest_moaas().map(|m| m.1), Some(Moaas::Three));

        // Adverse events.
        let event = |kind, description: &str, severity, action: &str| AdverseForm {
            kind,
            description: description.into(),
            severity,
            onset_at: now() - minutes(5),
            action: action.into(),
        };
        let before = stored(&store).await;
        let e = invalid(
            store
                .record_adverse_event(
                    nurse,
                    clinic,
                    id,
                    &event(AdverseKind::Other, " ", AdverseSeverity::Mild, ""),
                    None,
                    now(),
                )
                .await,
        );
        message(&e, "description");
        message(&e, "action");
        assert_eq!(stored(&store).await, before);
        let nausea = store
            .record_adverse_event(
                nurse,
                clinic,
                id,
                &event(
                    AdverseKind::Nausea,
                    "",
                    AdverseSeverity::Mild,
                    "Ondansetron 4 mg",
                ),
                None,
                now(),
            )
            .await
            .expect("nausea");
        assert!(
            store
                .alerts_of(clinic, seat.patient)
                .await
                .expect("alerts")
                .is_empty(),
            "a mild event raises no alert"
        );
        let severe = store
            .record_adverse_event(
                nurse,
                clinic,
                id,
                &event(
                    AdverseKind::Hypertension,
                    "",
                    AdverseSeverity::Severe,
                    "Prescriber called; labetalol",
                ),
                None,
                now(),
            )
            .await
            .expect("severe");
        let alerts = store.alerts_of(clinic, seat.patient).await.expect("alerts");
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].kind, AlertKind::AdverseEvent);
        assert_eq!(alerts[0].source, AlertSource::AdverseEvent(severe));
        assert_eq!(alerts[0].session_id, Some(id));
        store
            .record_adverse_event(
                nurse,
                clinic,
                id,
                &event(
                    AdverseKind::Other,
                    "Tingling in both hands",
                    AdverseSeverity::Moderate,
                    "Observed only",
                ),
                None,
                now(),
            )
            .await
            .expect("other");

        // Outcomes: never before the onset, closed once.
        let update = |ev: Uuid, outcome, at: DateTime<Utc>| {
            let store = &store;
            async move {
                store
                    .update_adverse_event(nurse, clinic, id, ev, outcome, at, " Settled ", now())
                    .await
            }
        };
        let e = invalid(update(nausea, AdverseOutcome::Resolved, now() - minutes(30)).await);
        assert!(message(&e, "at").contains("before the onset"), "{e}");
        update(nausea, AdverseOutcome::Ongoing, now())
            .await
            .expect("ongoing");
        update(nausea, AdverseOutcome::Resolved, now())
            .await
            .expect("resolved");
        let e = invalid(update(nausea, AdverseOutcome::Transferred, now()).await);
        assert!(message(&e, "outcome").contains("already closed"), "{e}");
        assert!(matches!(
            update(Uuid::now_v7(), AdverseOutcome::Resolved, now()).await,
            Err(StoreError::NotFound)
        ));
        let s = seat.read(&store).await.session;
        assert_eq!(s.adverse_events.len(), 3);
        let n = s
            .adverse_events
            .iter()
            .find(|x| x.id == nausea)
            .expect("nausea");
        assert_eq!(n.outcome(), AdverseOutcome::Resolved);
        assert_eq!(n.updates.len(), 2);
        assert_eq!(n.updates[1].note, "Settled");
        assert_eq!(n.action, "Ondansetron 4 mg");
        let other = s
            .adverse_events
            .iter()
            .find(|x| x.kind == AdverseKind::Other)
            .expect("other");
        assert_eq!(other.name(), "Tingling in both hands");
        assert_eq!(
            store
                .course_dosing(clinic, seat.course)
                .await
                .expect("course")
                .adverse_events,
            3
        );
    }
);

both_backends!(
    a_session_in_progress_is_not_discharged_signed_or_amended,
    |store: Store| async move {
        let seat = Seat::take(&store, "esketamine-trd").await;
        let (nurse, prescriber, clinic, id) =
            (seat.nurse(), seat.prescriber(), seat.c.id, seat.session);
        let leave = DischargeForm {
            at: now(),
            escort: " ".into(),
            instructions: String::new(),
            note: String::new(),
        };
        // Before any dose.
        let e = invalid(store.discharge(nurse, clinic, id, &leave, now()).await);
        assert!(
            message(&e, "at").contains("Not ready for discharge: Dose given"),
            "{e}"
        );
        // Nothing given yet: not on the REMS list.
        assert!(
            store
                .rems_due(prescriber, clinic, kap_domain::time::TimeZone::UTC)
                .await
                .expect("due")
                .is_empty()
        );

        seat.ready_to_dose(&store, id).await;
        let order = seat.order(&store, id).await;
        seat.start(&store, id, order).await;
        let e = invalid(store.discharge(nurse, clinic, id, &leave, now()).await);
        let m = message(&e, "at");
        for unmet in [
            "Not ready for discharge:",
            "Dose complete (A dose is still being given.)",
            "120 min of monitoring since the first dose (",
            "Vitals within limits (No vitals since the first dose.)",
            "MOAA/S 5 or more (No MOAA/S rating since the first dose.)",
            "Escort present (Record when the escort arrives.)",
        ] {
            assert!(m.contains(unmet), "{unmet} in {m}");
        }
        assert!(!m.contains("No unresolved adverse event"), "{m}");
        message(&e, "escort");
        message(&e, "instructions");
        let s = seat.read(&store).await.session;
        assert!(s.discharge.is_none());
        assert_eq!(s.stage(now()), Stage::Dosing);

        let m = not_now(store.sign_session(prescriber, clinic, id, now()).await);
        assert!(m.contains("the patient has not been discharged"), "{m}");
        assert!(m.contains("the REMS form lacks"), "{m}");
        let e = invalid(
            store
                .add_session_addendum(prescriber, clinic, id, " ", "", now())
                .await,
        );
        message(&e, "reason");
        message(&e, "text");
        let m = not_now(
            store
                .add_session_addendum(
                    prescriber,
                    clinic,
                    id,
                    "Late entry",
                    "Lot checked twice",
                    now(),
                )
                .await,
        );
        assert!(m.contains("not signed yet"), "{m}");
        let m = not_now(
            store
                .mark_rems_submitted(prescriber, clinic, id, today(), today())
                .await,
        );
        assert!(m.contains("Sign the session"), "{m}");

        // The REMS list, the course's totals, the board.
        let opened = seat.read(&store).await.session.opened.entered_at;
        let due = store
            .rems_due(prescriber, clinic, kap_domain::time::TimeZone::UTC)
            .await
            .expect("due");
        assert_eq!(due.len(), 1);
        let d = &due[0];
        assert_eq!((d.session_id, d.patient_id), (id, seat.patient));
        assert_eq!(d.patient_name, "Rosa Santos");
        assert_eq!(d.treatment_date, opened.date_naive());
        assert_eq!(d.due_on, d.treatment_date + Duration::days(7));
        assert!(!d.signed);

        store
            .record_adverse_event(
                nurse,
                clinic,
                id,
                &AdverseForm {
                    kind: AdverseKind::Dizziness,
                    description: String::new(),
                    severity: AdverseSeverity::Mild,
                    onset_at: now(),
                    action: "Observed only".into(),
                },
                None,
                now(),
            )
            .await
            .expect("adverse event");
        let totals = store
            .course_dosing(clinic, seat.course)
            .await
            .expect("course");
        assert_eq!(
            (totals.sessions, totals.doses_given, totals.adverse_events),
            (1, 1, 1)
        );
        // A second session, opened but not dosed: counted, with nothing given.
        let second = checked_in_and_opened(&store, &seat.c, seat.dosing[1]).await;
        let totals = store
            .course_dosing(clinic, seat.course)
            .await
            .expect("course");
        assert_eq!(
            (totals.sessions, totals.doses_given, totals.adverse_events),
            (2, 1, 1)
        );
        let board = store
            .board_stages(
                clinic,
                &[seat.dosing[0], seat.dosing[1], seat.dosing[2]],
                now(),
            )
            .await
            .expect("board");
        assert_eq!(board.len(), 2, "the third appointment has no session");
        assert_eq!(board[&seat.dosing[0]], (id, Stage::Dosing));
        assert_eq!(board[&seat.dosing[1]], (second, Stage::PreDose));
        assert!(
            store
                .board_stages(clinic, &[], now())
                .await
                .expect("empty")
                .is_empty()
        );
        assert_eq!(
            store
                .rems_due(prescriber, clinic, kap_domain::time::TimeZone::UTC)
                .await
                .expect("due")
                .len(),
            1,
            "the undosed session is not due"
        );
    }
);

/// An esketamine session walked to discharge, replayed from three hours ago: 56 mg in two
/// devices five minutes apart, a blood pressure beyond the alert limit at 20 minutes that
/// settles, MOAA/S 5 at 50 minutes, the escort before two hours are up, discharge at 130
/// minutes. Returns the seat, the first device's time and the vitals alert.
async fn walked_to_discharge(store: &Store) -> (Seat, DateTime<Utc>, Uuid) {
    let t0 = now() - Duration::hours(3);
    let seat = Seat::take_at(store, "esketamine-trd", t0).await;
    let (nurse, clinic, id) = (seat.nurse(), seat.c.id, seat.session);
    let at = |m: i64| t0 + minutes(m);
    store
        .record_checklist(nurse, clinic, id, &checklist_at(72.0, at(1)), at(1))
        .await
        .expect("checklist");
    seat.vitals_at(store, vitals(128.0, 80.0), at(2)).await;
    let order = store
        .order_dose(
            seat.prescriber(),
            clinic,
            id,
            OrderForm::Dose(PlannedDose::Fixed { mg: 56 }),
            at(5),
        )
        .await
        .expect("order");
    let start = at(10);
    let admin = store
        .start_administration(
            nurse,
            clinic,
            id,
            &seat.giving(order, start),
            today(),
            start,
        )
        .await
        .expect("first device");
    let second = start + minutes(5);
    store
        .administration_step(
            nurse,
            clinic,
            id,
            admin,
            &Step::Unit(second),
            Some(Uuid::now_v7()),
            second,
        )
        .await
        .expect("second device");
    let high = seat
        .vitals_at(store, vitals(185.0, 95.0), start + minutes(20))
        .await;
    assert_eq!(high.alerts.len(), 1);
    for (m, sys, dia) in [(40, 134.0, 84.0), (90, 126.0, 80.0), (125, 124.0, 78.0)] {
        seat.vitals_at(store, vitals(sys, dia), start + minutes(m))
            .await;
    }
    seat.rate(store, Rating::Moaas(Moaas::Five), start + minutes(50))
        .await;
    seat.rate(
        store,
        Rating::EscortPresent("Sam Lee".into()),
        start + minutes(110),
    )
    .await;
    let s = seat.read(store).await.session;
    assert_eq!(s.dosing_finished_at(), Some(second));
    let board = |t: DateTime<Utc>| {
        let (store, appt) = (store, seat.dosing[0]);
        async move { store.board_stages(clinic, &[appt], t).await.expect("board")[&appt] }
    };
    assert_eq!(board(start + minutes(119)).await, (id, Stage::Monitoring));
    assert_eq!(
        board(start + minutes(120)).await,
        (id, Stage::ReadyForDischarge)
    );
    let leave = DischargeForm {
        at: start + minutes(130),
        escort: " Sam Lee ".into(),
        instructions: "No driving until tomorrow after a night's sleep.".into(),
        note: String::new(),
    };
    // Not before the two hours are up.
    let early = DischargeForm {
        at: start + minutes(100),
        ..leave.clone()
    };
    let e = invalid(
        store
            .discharge(nurse, clinic, id, &early, start + minutes(100))
            .await,
    );
    assert!(
        message(&e, "at").contains("120 min of monitoring since the first dose (21 min to go.)"),
        "{e}"
    );
    store
        .discharge(nurse, clinic, id, &leave, start + minutes(130))
        .await
        .expect("discharged");
    (seat, start, high.alerts[0])
}

both_backends!(
    a_discharged_session_is_co_signed_locked_and_takes_only_addenda,
    |store: Store| async move {
        let (seat, start, alert) = walked_to_discharge(&store).await;
        let (nurse, prescriber, clinic, id) =
            (seat.nurse(), seat.prescriber(), seat.c.id, seat.session);
        let r = seat.read(&store).await;
        let d = r.session.discharge.clone().expect("discharge");
        assert_eq!(d.escort, "Sam Lee");
        assert!(d.at - start >= minutes(120));
        assert_eq!(r.session.stage(now()), Stage::Discharged);
        assert_eq!(
            store
                .board_stages(clinic, &[seat.dosing[0]], now())
                .await
                .expect("board")[&seat.dosing[0]],
            (id, Stage::Discharged)
        );

        // Discharged: the flowsheet is closed.
        let m = not_now(
            store
                .record_vitals(nurse, clinic, id, &vitals(120.0, 76.0), now(), None, now())
                .await,
        );
        assert!(m.contains("discharged"), "{m}");
        let m = not_now(
            store
                .order_dose(prescriber, clinic, id, OrderForm::Booster(28.0), now())
                .await,
        );
        assert!(m.contains("closed"), "{m}");

        // Signing waits for the alert's response and the REMS answers.
        let m = not_now(store.sign_session(prescriber, clinic, id, now()).await);
        assert!(m.contains("1 alert(s) of this session"), "{m}");
        assert!(m.contains("the REMS form lacks"), "{m}");
        assert!(m.contains("Benzodiazepines"), "{m}");
        assert!(!m.contains("discharged"), "{m}");
        store
            .acknowledge_alert(prescriber, clinic, alert, "Rechecked at 40 min: 134/84.")
            .await
            .expect("acknowledged");
        let answers = RemsAnswers {
            benzodiazepines: Some(false),
            non_benzo_sedative_hypnotics: Some(false),
            psychostimulants: Some(false),
            maois: Some(false),
            opioids: Some(false),
            hcp_phone: "555 010 2000".into(),
            setting_address: "1 Harbour Street".into(),
            ready_minutes: Some(75),
            bp_after_40: String::new(),
            sedation: Some(false),
            dissociation: Some(true),
            respiratory_depression: Some(false),
            other_adverse: String::new(),
        };
        store
            .record_rems_answers(nurse, clinic, id, &answers, now())
            .await
            .expect("REMS answers");
        store
            .sign_session(prescriber, clinic, id, now())
            .await
            .expect("signed");

        let r = seat.read(&store).await;
        let sig = r.session.signature.clone().expect("signature");
        assert_eq!(sig.by, Seat::staff(prescriber));
        assert_eq!(sig.by_name, "Test Person");
        assert_eq!(sig.content_hash.len(), 64);
        assert_eq!(r.session.rems, Some(answers.clone()));
        assert_eq!(r.session.stage(now()), Stage::Signed);
        let line = &store
            .sessions_of_patient(clinic, seat.patient)
            .await
            .expect("lines")[0];
        assert_eq!(line.stage, Stage::Signed);
        assert_eq!(line.signed_at, Some(sig.at));

        // Locked: no entry of any kind, through the store or the tables.
        let before = stored(&store).await;
        locked(store.sign_session(prescriber, clinic, id, now()).await);
        locked(
            store
                .record_vitals(nurse, clinic, id, &vitals(120.0, 76.0), now(), None, now())
                .await,
        );
        locked(
            store
                .record_checklist(nurse, clinic, id, &checklist(72.0), now())
                .await,
        );
        locked(
            store
                .record_observation(
                    nurse,
                    clinic,
                    id,
                    &Rating::Note("Called next day: well".into()),
                    now(),
                    None,
                    now(),
                )
                .await,
        );
        locked(
            store
                .record_rems_answers(nurse, clinic, id, &answers, now())
                .await,
        );
        locked(
            store
                .order_dose(prescriber, clinic, id, OrderForm::Booster(28.0), now())
                .await,
        );
        assert_eq!(stored(&store).await, before);
        // Rows copied in the tables themselves (the session's id serves as a new row id).
        for sql in [
            "INSERT INTO vital_sign (id, session_id, taken_at, systolic, diastolic,
                entered_by, entered_at)
             SELECT session_id, session_id, taken_at, 120, 76, entered_by, entered_at
             FROM vital_sign LIMIT 1",
            "INSERT INTO dosing_entry (id, session_id, kind, at, body, entered_by, entered_at)
             SELECT session_id, session_id, 'observation', at, body, entered_by, entered_at
             FROM dosing_entry WHERE kind = 'discharge'",
        ] {
            let e = rows(&store, sql).await.expect_err("refused");
            assert!(e.to_string().contains("the session is signed"), "{e}");
        }
        assert!(
            rows(&store, "UPDATE dosing_session SET stage = 'dosing'")
                .await
                .is_err()
        );
        assert!(
            rows(&store, "UPDATE dosing_session SET signed_at = NULL")
                .await
                .is_err()
        );
        assert_eq!(stored(&store).await, before);

        // An addendum, the only change it takes.
        store
            .add_session_addendum(
                prescriber,
                clinic,
                id,
                " Late entry ",
                " Escort confirmed arrival home by phone. ",
                now(),
            )
            .await
            .expect("addendum");
        let s = seat.read(&store).await.session;
        assert_eq!(s.addenda.len(), 1);
        assert_eq!(
            (s.addenda[0].reason.as_str(), s.addenda[0].text.as_str()),
            ("Late entry", "Escort confirmed arrival home by phone.")
        );
        assert_eq!(s.signature, Some(sig), "the signature is unchanged");

        // The REMS form: submitted once, then off the list.
        assert!(
            store
                .rems_due(prescriber, clinic, kap_domain::time::TimeZone::UTC)
                .await
                .expect("due")[0]
                .signed
        );
        let e = invalid(
            store
                .mark_rems_submitted(prescriber, clinic, id, today() + Duration::days(1), today())
                .await,
        );
        message(&e, "on");
        store
            .mark_rems_submitted(prescriber, clinic, id, today(), today())
            .await
            .expect("submitted");
        let m = not_now(
            store
                .mark_rems_submitted(prescriber, clinic, id, today(), today())
                .await,
        );
        assert!(m.contains("already"), "{m}");
        assert!(
            store
                .rems_due(prescriber, clinic, kap_domain::time::TimeZone::UTC)
                .await
                .expect("due")
                .is_empty()
        );
        assert_eq!(
            seat.read(&store)
                .await
                .session
                .rems_submission
                .map(|x| x.on),
            Some(today())
        );
        let totals = store
            .course_dosing(clinic, seat.course)
            .await
            .expect("course");
        assert_eq!(
            (totals.sessions, totals.doses_given, totals.adverse_events),
            (1, 1, 0)
        );
        assert_eq!(r.session.protocol_id, seat.version);
    }
);

/// Discharge ends the visit: the appointment is done.
async fn discharge_completes_the_appointment(store: Store) {
    let (seat, _, _) = walked_to_discharge(&store).await;
    let appt = store
        .appointment(seat.prescriber(), seat.c.id, seat.dosing[0])
        .await
        .expect("the appointment reads back");
    assert_eq!(appt.status, AppointmentStatus::Completed);
}

/// Stamped out by hand, like `both_backends!`.
mod discharge_marks_the_appointment_done {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        let store = kap_store::testing::store("sqlite").await.expect("sqlite");
        discharge_completes_the_appointment(store).await;
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL: set KAPSTONE_TEST_PG_URL and run with -- --include-ignored"]
    async fn postgres() {
        let store = kap_store::testing::store("postgres")
            .await
            .expect("postgres");
        discharge_completes_the_appointment(store).await;
    }
}

both_backends!(
    session_entries_and_vitals_are_never_changed_or_deleted,
    |store: Store| async move {
        let seat = Seat::take(&store, "esketamine-trd").await;
        seat.ready_to_dose(&store, seat.session).await;
        assert_eq!(stored(&store).await, (1, 1));
        for sql in [
            "UPDATE dosing_entry SET body = '{}'",
            "UPDATE dosing_entry SET at = entered_at",
            "DELETE FROM dosing_entry",
            "UPDATE vital_sign SET systolic = 120",
            "DELETE FROM vital_sign",
            "DELETE FROM dosing_session",
        ] {
            assert!(rows(&store, sql).await.is_err(), "{sql} went through");
        }
        assert_eq!(stored(&store).await, (1, 1));
        let s = seat.read(&store).await.session;
        assert_eq!(s.vitals[0].systolic, Some(128.0));
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM dosing_session").await,
            1
        );
    }
);
