//! Dosing sessions through the router: the nurse checks a dosing appointment in and opens its
//! session at the checklist; who may read, record, order, decide a hold and co-sign; a checklist
//! refused field by field, a blood-pressure hold overridden by the prescriber with a reason, the
//! dose ordered with its arithmetic (one above the protocol refused), the administration started
//! once; vitals refused when implausible, an alert limit raising an alert on the flowsheet and
//! the home page, a retried entry stored once; discharge and co-signature refused until their
//! time; the API; the esketamine REMS form and the list of forms due; the chart's panel.

use super::*;
use chrono::{Duration, Utc};
use kap_domain::protocol::SessionKind;
use kap_domain::screening::Route;
use kap_store::dosing::SessionRecord;

pub(super) const IV: &str = "iv-ketamine";
const ESKETAMINE: &str = "esketamine-trd";

/// A patient whose screening is signed eligible for `route`.
async fn eligible(app: &TestApp, name: &str, route: Route) -> Uuid {
    super::course::eligible(app, name, &[route]).await
}

/// A clinic with the shipped protocols and a dosing chair, a patient's course planned on
/// `protocol`, and a nurse and a prescriber signed in.
pub(super) struct Seat {
    pub(super) app: TestApp,
    pub(super) nurse: Browser,
    pub(super) pres: Browser,
    pub(super) patient: Uuid,
    /// The course's first dosing appointment.
    pub(super) appointment: Uuid,
}

impl Seat {
    pub(super) async fn take(protocol: &str, name: &str) -> Seat {
        let app = TestApp::new().await;
        let admin = app.browser(Role::Admin).await;
        let r = app.post("/protocols/shipped", &admin, &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = app
            .post(
                "/admin/rooms",
                &admin,
                &[("name", "Chair 1"), ("dosing_chair", "yes")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let chair = app
            .store
            .rooms(app.clinic)
            .await
            .expect("rooms")
            .into_iter()
            .find(|r| r.dosing_chair)
            .expect("chair")
            .id;
        let v = app
            .store
            .protocols_in_use(app.clinic)
            .await
            .expect("protocols")
            .into_iter()
            .find(|v| v.protocol.key == protocol)
            .expect("shipped protocol");
        let patient = eligible(&app, name, v.protocol.route).await;
        let pres = app.staff(Role::Prescriber).await;
        let a = Actor::staff(pres, kap_domain::audit::ActorKind::Staff, app.clinic, None);
        let today = Utc::now().date_naive();
        let mut form = kap_domain::course::CourseForm::defaults(&v.protocol, today);
        form.start_date = (today + Duration::days(3)).to_string();
        let plan = form.parse(&v.protocol, today).expect("plan");
        let course = app
            .store
            .plan_course(
                &a,
                app.clinic,
                &kap_store::course::NewCourse {
                    patient_id: patient,
                    protocol_id: v.id,
                    plan,
                    therapist_id: app.staff(Role::Therapist).await,
                    nurse_id: None,
                    chair_id: chair,
                    room_id: None,
                    tz: kap_domain::time::TimeZone::UTC,
                },
            )
            .await
            .expect("course");
        let appointment = app
            .store
            .course(&Actor::system(), app.clinic, course)
            .await
            .expect("course")
            .appointments
            .iter()
            .find(|a| a.kind == SessionKind::Dosing)
            .expect("a dosing appointment")
            .id;
        Seat {
            nurse: app.browser(Role::Nurse).await,
            pres: app.browser_for(pres, app.clinic).await,
            app,
            patient,
            appointment,
        }
    }

    /// The nurse checks the patient in and opens the session; its id.
    pub(super) async fn open(&self) -> Uuid {
        let r = self
            .app
            .post(
                &format!("/appointments/{}/status", self.appointment),
                &self.nurse,
                &[("action", "check_in")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = self
            .app
            .post(
                &format!("/appointments/{}/dosing", self.appointment),
                &self.nurse,
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let rest = r
            .location()
            .strip_prefix("/dosing/")
            .expect("to the session");
        Uuid::parse_str(rest).expect("session id")
    }

    /// The checklist done (70 kg today) and pre-dose vitals within every limit.
    async fn ready_to_dose(&self, sid: Uuid) {
        let r = self
            .app
            .post(&format!("/dosing/{sid}/checklist"), &self.nurse, CHECKLIST)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = self
            .vitals(sid, &[("systolic", "124"), ("diastolic", "78")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }

    async fn vitals(&self, sid: Uuid, fields: &[(&str, &str)]) -> Reply {
        self.app
            .post(&format!("/dosing/{sid}/vitals"), &self.nurse, fields)
            .await
    }

    /// The prescriber orders `amount` (in the protocol's unit) and the nurse starts giving it.
    async fn dose(&self, sid: Uuid, unit: &str, amount: &str) {
        let r = self
            .app
            .post(
                &format!("/dosing/{sid}/orders"),
                &self.pres,
                &[("kind", "dose"), ("unit", unit), ("amount", amount)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let order = self.record(sid).await.session.orders[0].id.to_string();
        let r = self.start(sid, &order).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }

    /// The nurse starts giving an order, supervised by the prescriber.
    async fn start(&self, sid: Uuid, order: &str) -> Reply {
        let expiry = (Utc::now().date_naive() + Duration::days(365)).to_string();
        let (nurse, pres) = (
            self.nurse.staff_id.to_string(),
            self.pres.staff_id.to_string(),
        );
        self.app
            .post(
                &format!("/dosing/{sid}/administrations"),
                &self.nurse,
                &[
                    ("order_id", order),
                    ("lot", "KX-2291"),
                    ("expiry", &expiry),
                    ("given_by", &nurse),
                    ("supervised_by", &pres),
                    ("started_at", ""),
                ],
            )
            .await
    }

    async fn record(&self, sid: Uuid) -> SessionRecord {
        self.app
            .store
            .dosing_session(&Actor::system(), self.app.clinic, sid)
            .await
            .expect("session")
    }

    async fn page(&self, sid: Uuid, who: &Browser) -> Reply {
        self.app.get(&format!("/dosing/{sid}"), Some(who)).await
    }
}

/// A page's text with the entities askama escapes turned back into characters.
fn text(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
}

const CHECKLIST: &[(&str, &str)] = &[
    ("identity_confirmed", "yes"),
    ("last_food_at", ""),
    ("last_fluids_at", ""),
    ("escort", "Sam Moreau, +1 555 0100 2001"),
    ("pregnancy", "not_applicable"),
    ("medications_reviewed", "yes"),
    ("intention_reviewed", "yes"),
    ("intention", "To meet the grief without drowning in it"),
    ("weight_kg", "70"),
];

#[tokio::test]
async fn a_nurse_checks_in_a_dosing_appointment_and_opens_its_session_at_the_checklist() {
    let seat = Seat::take(IV, "Ada Moreau").await;
    let app = &seat.app;
    // Not before check-in: the session opens when the patient is there.
    let r = app
        .post(
            &format!("/appointments/{}/dosing", seat.appointment),
            &seat.nurse,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("Check the patient in first"), "{}", r.body);
    assert!(
        app.store
            .session_of_appointment(app.clinic, seat.appointment)
            .await
            .expect("lookup")
            .is_none()
    );

    let sid = seat.open().await;
    // Opening again returns to the same session.
    let again = app
        .post(
            &format!("/appointments/{}/dosing", seat.appointment),
            &seat.nurse,
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(again.location(), format!("/dosing/{sid}"));

    let page = seat.page(sid, &seat.nurse).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Dosing session — Ada Moreau"));
    assert!(page.body.contains("IV racemic ketamine"));
    assert!(page.body.contains("Pre-dose checks"));
    assert!(page.body.contains("Record the checklist"));
    assert!(
        page.body
            .contains("Identity confirmed (name and date of birth)")
    );
    assert!(
        page.body
            .contains(&format!("action=\"/dosing/{sid}/checklist\""))
    );
    assert!(page.body.contains("Complete the pre-dose checklist."));
    assert!(page.body.contains("Record pre-dose vitals."));
    assert!(page.body.contains("Nothing recorded yet."));
    // An IV session has no REMS form.
    assert!(!page.body.contains("REMS monitoring form"));
    assert_eq!(
        app.get(&format!("/dosing/{sid}/rems"), Some(&seat.nurse))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The planned dose carries its unit.
    assert!(
        page.body.contains("planned dose 0.5 mg/kg"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn the_care_teams_word_since_the_last_dose_is_on_the_session_for_the_dose_decision() {
    let seat = Seat::take(IV, "Lior Ben-David").await;
    let app = &seat.app;
    let sid = seat.open().await;
    let therapist = app.browser(Role::Therapist).await;
    let said = "Integration went well; still tearful in the evenings. Worth a word before dosing.";
    let r = app
        .post(
            &format!("/patients/{}/team/messages", seat.patient),
            &therapist,
            &[("text", said), ("back", "page")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get(&format!("/dosing/{sid}"), Some(&seat.pres)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Care team before this dose"),
        "{}",
        page.body
    );
    assert!(page.body.contains("still tearful in the evenings"));
}

#[tokio::test]
async fn nurses_and_prescribers_record_and_only_a_prescriber_orders_decides_holds_and_signs() {
    let seat = Seat::take(IV, "Bruno Alves").await;
    let app = &seat.app;
    let sid = seat.open().await;
    let vitals: &[(&str, &str)] = &[("systolic", "124"), ("diastolic", "78")];

    // The coordinator sees the stage on the today board, never the session.
    let coord = app.browser(Role::Coordinator).await;
    assert_eq!(seat.page(sid, &coord).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&format!("/dosing/{sid}/live"), Some(&coord))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&format!("/dosing/{sid}/vitals"), &coord, vitals)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            &format!("/dosing/{sid}/administrations"),
            &coord,
            &[("order_id", &Uuid::nil().to_string())]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // The therapist present reads the flowsheet and records nothing.
    let therapist = app.browser(Role::Therapist).await;
    let page = seat.page(sid, &therapist).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Flowsheet"));
    assert!(
        !page
            .body
            .contains(&format!("action=\"/dosing/{sid}/vitals\""))
    );
    assert!(
        !page
            .body
            .contains(&format!("action=\"/dosing/{sid}/checklist\""))
    );
    assert_eq!(
        app.post(&format!("/dosing/{sid}/vitals"), &therapist, vitals)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // The nurse records, but does not override a hold, order or co-sign.
    seat.ready_to_dose(sid).await;
    for (path, fields) in [
        (
            "hold",
            &[
                ("decision", "override"),
                ("reason", "Anxious; repeat was lower"),
            ][..],
        ),
        (
            "orders",
            &[("kind", "dose"), ("unit", "mg_per_kg"), ("amount", "0.5")][..],
        ),
        ("sign", &[][..]),
    ] {
        let r = app
            .post(&format!("/dosing/{sid}/{path}"), &seat.nurse, fields)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "nurse on {path}");
    }
    // The nurse's page offers no order form; the prescriber's does.
    let orders_form = format!("action=\"/dosing/{sid}/orders\"");
    assert!(
        !seat
            .page(sid, &seat.nurse)
            .await
            .body
            .contains(&orders_form)
    );
    assert!(seat.page(sid, &seat.pres).await.body.contains(&orders_form));
    let r = seat.record(sid).await;
    assert!(r.session.orders.is_empty() && r.session.hold_decisions.is_empty());

    // Over the API too.
    let token = app.api_token(Role::Coordinator).await;
    let r = app
        .api("GET", &format!("/api/v1/dosing/{sid}"), Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let token = app.api_token(Role::Therapist).await;
    let r = app
        .api(
            "POST",
            &format!("/api/v1/dosing/{sid}/vitals"),
            Some(&token),
            Some(serde_json::json!({ "systolic": 120, "diastolic": 80 })),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_prescriber_overrides_a_blood_pressure_hold_orders_the_dose_and_the_nurse_gives_it_once()
{
    let seat = Seat::take(IV, "Clara Nunes").await;
    let app = &seat.app;
    let sid = seat.open().await;

    // A checklist with nothing ticked: every problem beside its field, nothing stored.
    let r = app
        .post(
            &format!("/dosing/{sid}/checklist"),
            &seat.nurse,
            &[("escort", ""), ("weight_kg", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Nothing was saved."));
    let shown = text(&r.body);
    for message in [
        "Confirm the patient's identity (name and date of birth) first.",
        "Name who takes the patient home",
        "Record a negative pregnancy test, or that it does not apply.",
        "Review today's medications.",
        "Review the patient's intention.",
        "Enter today's weight in kg.",
    ] {
        assert!(shown.contains(message), "{message}: {shown}");
    }
    assert!(r.body.contains("<p class=\"field-error\" id=\"weight-e\">"));
    assert!(r.body.contains("<p class=\"field-error\" id=\"escort-e\">"));
    // A weight typed in pounds is caught too.
    let mut heavy = CHECKLIST.to_vec();
    heavy.retain(|(k, _)| *k != "weight_kg");
    heavy.push(("weight_kg", "420"));
    let r = app
        .post(&format!("/dosing/{sid}/checklist"), &seat.nurse, &heavy)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("A weight of 420 kg is not plausible"));
    // The refused checklist comes back as it was typed, ticks included.
    assert!(
        r.body.contains("name=\"weight_kg\" value=\"420\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"Sam Moreau, +1 555 0100 2001\""));
    assert!(
        r.body
            .contains("name=\"identity_confirmed\" value=\"yes\" checked")
    );
    assert!(seat.record(sid).await.session.checklist.is_none());
    let r = app
        .post(&format!("/dosing/{sid}/checklist"), &seat.nurse, CHECKLIST)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().starts_with(&format!("/dosing/{sid}?notice=")));
    let c = seat.record(sid).await.session.checklist.expect("stored");
    assert_eq!(c.weight_kg, 70.0);

    // protocols/iv-ketamine.toml holds dosing above 140/90 before the dose.
    let r = seat
        .vitals(
            sid,
            &[
                ("systolic", "152"),
                ("diastolic", "84"),
                ("heart_rate", "78"),
                ("spo2", "98"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let hold = "Dosing is on hold: Systolic blood pressure (mmHg) 152 is above 140";
    let page = seat.page(sid, &seat.nurse).await;
    assert!(page.body.contains(hold), "{}", page.body);
    assert!(
        !page
            .body
            .contains(&format!("action=\"/dosing/{sid}/hold\""))
    );
    let page = seat.page(sid, &seat.pres).await;
    assert!(
        page.body
            .contains(&format!("action=\"/dosing/{sid}/hold\""))
    );
    assert!(
        page.body
            .contains("<strong>On hold:</strong> Systolic blood pressure (mmHg) 152")
    );
    // A dose above iv-ketamine.toml's max_mg_per_kg (1.0) is refused with the range.
    let r = app
        .post(
            &format!("/dosing/{sid}/orders"),
            &seat.pres,
            &[("kind", "dose"), ("unit", "mg_per_kg"), ("amount", "1.5")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Nothing was saved."));
    assert!(
        text(&r.body)
            .contains("1.5 mg/kg is outside this protocol's range. Between 0.5 and 1 mg/kg."),
        "{}",
        r.body
    );
    assert!(seat.record(sid).await.session.orders.is_empty());
    // The planned dose is ordered, but cannot start while the hold stands.
    let r = app
        .post(
            &format!("/dosing/{sid}/orders"),
            &seat.pres,
            &[("kind", "dose"), ("unit", "mg_per_kg"), ("amount", "0.5")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let order = seat.record(sid).await.session.orders[0].id.to_string();
    let r = seat.start(sid, &order).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains(hold));
    assert!(seat.record(sid).await.session.administrations.is_empty());

    // An override needs its reason; with one, dosing may start.
    let r = app
        .post(
            &format!("/dosing/{sid}/hold"),
            &seat.pres,
            &[("decision", "override"), ("reason", " ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Give the reason for the decision."));
    assert!(seat.record(sid).await.session.hold_decisions.is_empty());
    let r = app
        .post(
            &format!("/dosing/{sid}/hold"),
            &seat.pres,
            &[
                ("decision", "override"),
                (
                    "reason",
                    "White-coat pattern; 138/82 at screening, asymptomatic",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = seat.page(sid, &seat.nurse).await;
    assert!(!page.body.contains("Dosing is on hold"));
    assert!(page.body.contains("✓ Dosing may start."));

    // The order shows its arithmetic; a second dose order is refused.
    assert!(page.body.contains("<strong>35.0 mg</strong> (0.500 mg/kg)"));
    assert!(page.body.contains("Dosed by the actual weight: 70.0 kg"));
    assert!(page.body.contains("0.5 mg/kg × 70.0 kg = 35 mg"));
    assert!(page.body.contains("infused over 40 minutes"));
    let r = app
        .post(
            &format!("/dosing/{sid}/orders"),
            &seat.pres,
            &[("kind", "dose"), ("unit", "mg_per_kg"), ("amount", "0.75")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("already has its dose order"), "{}", r.body);
    assert_eq!(seat.record(sid).await.session.orders.len(), 1);
    // The nurse's live part shows the order arrive, before any reload of the page.
    let live = app
        .get(&format!("/dosing/{sid}/live"), Some(&seat.nurse))
        .await;
    assert!(
        live.body.contains("Ordered, not yet given: Dose 35 mg"),
        "{}",
        live.body
    );

    // The nurse gives it: lot, expiry, given by the nurse under the prescriber.
    let r = seat.start(sid, &order).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let s = seat.record(sid).await.session;
    assert_eq!(s.administrations.len(), 1);
    let a = &s.administrations[0];
    assert_eq!(a.lot, "KX-2291");
    assert_eq!(a.given_by, seat.nurse.staff_id);
    assert_eq!(a.supervised_by, seat.pres.staff_id);
    let page = seat.page(sid, &seat.nurse).await;
    assert!(
        page.body
            .contains("<strong>being given</strong> · lot KX-2291")
    );
    assert!(page.body.contains("Administration started"));
    // The same order a second time: refused, nothing stored.
    let r = seat.start(sid, &order).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("This order was already given; a further dose needs a new order.")
    );
    assert_eq!(seat.record(sid).await.session.administrations.len(), 1);
}

#[tokio::test]
async fn the_prescriber_sees_the_calculation_before_ordering_and_may_order_the_maximum() {
    let seat = Seat::take(IV, "Dario Costa").await;
    let app = &seat.app;
    let sid = seat.open().await;
    seat.ready_to_dose(sid).await;
    // Before the order the prescriber sees the calculation from today's weight.
    let page = seat.page(sid, &seat.pres).await;
    assert!(
        page.body.contains("0.5 mg/kg × 70.0 kg = 35 mg"),
        "{}",
        page.body
    );
    // iv-ketamine.toml's max_mg_per_kg (1.0) itself is allowed.
    let r = app
        .post(
            &format!("/dosing/{sid}/orders"),
            &seat.pres,
            &[("kind", "dose"), ("unit", "mg_per_kg"), ("amount", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let o = &seat.record(sid).await.session.orders[0];
    assert_eq!(o.mg, 70.0);
}

#[tokio::test]
async fn implausible_vitals_are_refused_an_alert_limit_raises_an_alert_and_a_retry_lands_once() {
    let seat = Seat::take(IV, "Eva Lindqvist").await;
    let app = &seat.app;
    let sid = seat.open().await;

    // A typing slip: refused with the message, nothing stored.
    let r = seat
        .vitals(sid, &[("systolic", "400"), ("diastolic", "80")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("400 is not a plausible systolic blood pressure"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("enter a value from 50 to 300, or check the probe.")
    );
    assert!(
        r.body
            .contains("id=\"systolic\" name=\"systolic\" value=\"400\" aria-invalid=\"true\"")
    );
    // The typed values come back for correcting.
    assert!(
        r.body
            .contains("id=\"diastolic\" name=\"diastolic\" value=\"80\"")
    );
    let r = seat.vitals(sid, &[("systolic", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Enter at least one measurement."));
    let r = seat
        .vitals(sid, &[("systolic", "abc"), ("diastolic", "80")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("is not a number."));
    assert!(seat.record(sid).await.session.vitals.is_empty());

    // iv-ketamine.toml alerts above 180 systolic: one alert, for that measure only.
    let r = seat
        .vitals(
            sid,
            &[
                ("systolic", "192"),
                ("diastolic", "96"),
                ("heart_rate", "88"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let rec = seat.record(sid).await;
    assert_eq!(rec.alerts.len(), 1);
    assert_eq!(rec.alerts[0].session_id, Some(sid));
    let detail = "Systolic blood pressure (mmHg) 192 is above 180";
    let live = app
        .get(&format!("/dosing/{sid}/live"), Some(&seat.nurse))
        .await;
    assert_eq!(live.status, StatusCode::OK);
    assert!(
        live.body.starts_with("<div id=\"live\""),
        "a part, not a page"
    );
    assert!(live.body.contains("Alerts in this session"));
    assert!(live.body.contains(detail), "{}", live.body);
    assert!(live.body.contains("Needs a response"));
    assert!(live.body.contains("beyond limit"));
    // "Respond" opens the chart's alerts, where the acknowledgement form is.
    assert!(live.body.contains(&format!(
        "href=\"/patients/{}#alerts\"",
        rec.alerts[0].patient_id
    )));
    // The home page's alerts show it to every clinician who handles alerts.
    let home = app.get("/", Some(&seat.nurse)).await;
    assert!(home.body.contains("Safety alerts"));
    assert!(home.body.contains("Eva Lindqvist"));
    assert!(home.body.contains(detail));
    assert!(
        home.body
            .contains(&format!("href=\"/dosing/{sid}\">Open the dosing session"))
    );

    // A tablet retries an entry whose reply was lost: the client id lands it once.
    let cid = Uuid::now_v7().to_string();
    let entry: &[(&str, &str)] = &[
        ("systolic", "128"),
        ("diastolic", "78"),
        ("heart_rate", "72"),
        ("client_id", &cid),
    ];
    for _ in 0..2 {
        let r = seat.vitals(sid, entry).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let live = app
        .get(&format!("/dosing/{sid}/live"), Some(&seat.nurse))
        .await;
    assert_eq!(live.body.matches("BP 128/78").count(), 1, "{}", live.body);
    assert_eq!(live.body.matches("<td>Vitals").count(), 2);
    assert_eq!(seat.record(sid).await.session.vitals.len(), 2);
}

#[tokio::test]
async fn discharge_waits_for_every_criterion_and_the_prescriber_signs_only_after_it() {
    let seat = Seat::take(IV, "Farah Haddad").await;
    let app = &seat.app;
    let sid = seat.open().await;
    // Before any dose: not ready, and nothing to sign.
    let discharge: &[(&str, &str)] = &[
        ("escort", "Sam Moreau"),
        (
            "instructions",
            "No driving or operating machinery until the next day after a restful sleep.",
        ),
        ("at", ""),
    ];
    let r = app
        .post(&format!("/dosing/{sid}/discharge"), &seat.nurse, discharge)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Not ready for discharge: Dose given (No dose has been given yet.)."),
        "{}",
        r.body
    );
    seat.ready_to_dose(sid).await;
    seat.dose(sid, "mg_per_kg", "0.5").await;

    // Being given: each criterion not yet met is named.
    let r = app
        .post(&format!("/dosing/{sid}/discharge"), &seat.nurse, discharge)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Not ready for discharge:"));
    for unmet in [
        "Dose complete (A dose is still being given.)",
        "90 min of monitoring since the first dose (",
        "Vitals within limits (No vitals since the first dose.)",
        "MOAA/S 5 or more (No MOAA/S rating since the first dose.)",
        "Escort present (Record when the escort arrives.)",
    ] {
        assert!(r.body.contains(unmet), "{unmet}: {}", r.body);
    }
    assert!(!r.body.contains("No unresolved adverse event ("));
    // An empty form names its fields too.
    let r = app
        .post(
            &format!("/dosing/{sid}/discharge"),
            &seat.nurse,
            &[("escort", ""), ("instructions", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Name who takes the patient home."));
    assert!(r.body.contains("Write the discharge instructions given."));
    assert!(seat.record(sid).await.session.discharge.is_none());
    let live = app
        .get(&format!("/dosing/{sid}/live"), Some(&seat.nurse))
        .await;
    assert!(
        live.body
            .contains("class=\"unmet\">✗ <strong>Dose complete</strong>")
    );

    // The prescriber co-signs after discharge, not before.
    let r = app
        .post(&format!("/dosing/{sid}/sign"), &seat.pres, &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("The session cannot be signed: the patient has not been discharged."),
        "{}",
        r.body
    );
    let s = seat.record(sid).await.session;
    assert!(s.signature.is_none() && !s.signed());
    assert!(
        !seat
            .page(sid, &seat.pres)
            .await
            .body
            .contains(&format!("action=\"/dosing/{sid}/sign\""))
    );
}

#[tokio::test]
async fn the_api_reads_a_session_and_takes_vitals_from_a_monitor_once_per_client_id() {
    let seat = Seat::take(IV, "Goran Petrov").await;
    let app = &seat.app;
    let sid = seat.open().await;
    seat.ready_to_dose(sid).await;
    seat.dose(sid, "mg_per_kg", "0.5").await;
    let token = app.api_token(Role::Nurse).await;
    let path = format!("/api/v1/dosing/{sid}");

    let r = app.api("GET", &path, Some(&token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    assert_eq!(j["id"], sid.to_string());
    assert_eq!(j["patient_id"], seat.patient.to_string());
    assert_eq!(j["appointment_id"], seat.appointment.to_string());
    assert_eq!(j["stage"], "dosing");
    let vitals = j["vitals"].as_array().expect("vitals");
    assert_eq!(vitals.len(), 1);
    assert_eq!(vitals[0]["systolic"], 124.0);
    assert_eq!(vitals[0]["late"], false);
    let given = j["administrations"].as_array().expect("administrations");
    assert_eq!(given.len(), 1);
    assert_eq!(given[0]["lot"], "KX-2291");
    assert_eq!(given[0]["mg"], 35.0);
    assert_eq!(given[0]["mg_per_kg"], 0.5);
    assert!(given[0]["finished_at"].is_null());
    assert!(given[0]["order"].as_str().expect("order").contains("35"));
    assert!(j["signed_at"].is_null());

    // A monitor posts a reading; its retry with the same client id is the first save.
    let cid = Uuid::now_v7();
    let reading = serde_json::json!({
        "systolic": 132, "diastolic": 84, "heart_rate": 76, "spo2": 97, "client_id": cid
    });
    let post = format!("{path}/vitals");
    let r = app
        .api("POST", &post, Some(&token), Some(reading.clone()))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let first = r.json();
    assert_eq!(first["repeated"], false);
    assert_eq!(first["alerts"].as_array().map(Vec::len), Some(0));
    let r = app.api("POST", &post, Some(&token), Some(reading)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["repeated"], true);
    assert_eq!(r.json()["id"], first["id"]);
    // Beyond an alert limit: the alert's id comes back.
    let r = app
        .api(
            "POST",
            &post,
            Some(&token),
            Some(serde_json::json!({ "heart_rate": 124 })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["alerts"].as_array().map(Vec::len), Some(1));
    // An implausible reading is refused, naming what is wrong; nothing stored.
    let refused = app
        .api(
            "POST",
            &post,
            Some(&token),
            Some(serde_json::json!({ "systolic": 30, "diastolic": 20 })),
        )
        .await;
    assert!(
        refused
            .body
            .contains("30 is not a plausible systolic blood pressure"),
        "{}",
        refused.body
    );
    let r = app.api("GET", &path, Some(&token), None).await;
    assert_eq!(r.json()["vitals"].as_array().map(Vec::len), Some(3));
    // A made-up session is not found.
    let r = app
        .api(
            "GET",
            &format!("/api/v1/dosing/{}", Uuid::now_v7()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The sender can fix the reading: 422, as the OpenAPI document promises, not a conflict.
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["errors"][0]["field"], "systolic");
}

#[tokio::test]
async fn an_esketamine_session_gathers_the_rems_form_and_the_forms_due_list_shows_it() {
    let seat = Seat::take(ESKETAMINE, "Hana Sato").await;
    let app = &seat.app;
    let sid = seat.open().await;

    let page = seat.page(sid, &seat.nurse).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("REMS monitoring form"));
    assert!(page.body.contains(&format!("href=\"/dosing/{sid}/rems\"")));
    assert!(page.body.contains("Still to answer:"));
    for missing in [
        "Concomitant medication: Benzodiazepines",
        "Monitoring healthcare provider: Phone",
        "Setting: Address",
        "Session: Lot number",
        "Adverse outcomes: Sedation",
    ] {
        assert!(page.body.contains(missing), "{missing}");
    }
    assert!(
        page.body
            .contains(&format!("action=\"/dosing/{sid}/rems\""))
    );

    let form = app
        .get(&format!("/dosing/{sid}/rems"), Some(&seat.nurse))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("SPRAVATO REMS Patient Monitoring Form"));
    assert!(form.body.contains("Not complete."));
    assert!(form.body.contains("Hana Sato"));
    assert!(form.body.contains("<strong>Not answered</strong>"));
    // The therapist reads the form too.
    let therapist = app.browser(Role::Therapist).await;
    assert_eq!(
        app.get(&format!("/dosing/{sid}/rems"), Some(&therapist))
            .await
            .status,
        StatusCode::OK
    );

    // Not yet dosed: no form is due.
    let due = app.get("/rems", Some(&seat.nurse)).await;
    assert_eq!(due.status, StatusCode::OK);
    assert!(due.body.contains("No form is waiting."));
    seat.ready_to_dose(sid).await;
    seat.dose(sid, "mg", "56").await;
    let due = app.get("/rems", Some(&seat.nurse)).await;
    assert_eq!(due.status, StatusCode::OK);
    assert!(due.body.contains("Hana Sato"));
    assert!(due.body.contains(&format!("href=\"/dosing/{sid}\"")));
    assert!(due.body.contains("Not yet"), "not signed yet");
    let today = Utc::now().date_naive();
    assert!(due.body.contains(&(today + Duration::days(7)).to_string()));
    // Now the lot is on the form (the dose counts devices as they are given).
    let form = app
        .get(&format!("/dosing/{sid}/rems"), Some(&seat.nurse))
        .await;
    assert!(form.body.contains("KX-2291"));

    // The coordinator does not read REMS forms.
    let coord = app.browser(Role::Coordinator).await;
    assert_eq!(
        app.get("/rems", Some(&coord)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_chart_shows_dosing_sessions_to_clinicians_not_to_coordinators() {
    let seat = Seat::take(IV, "Ines Duarte").await;
    let app = &seat.app;
    let chart = format!("/patients/{}", seat.patient);
    // No session yet: no panel.
    let before = app.get(&chart, Some(&seat.nurse)).await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(!before.body.contains("id=\"h-dosing\""));
    let sid = seat.open().await;

    let nurse = app.get(&chart, Some(&seat.nurse)).await;
    assert_eq!(nurse.status, StatusCode::OK);
    assert!(
        nurse
            .body
            .contains("<h2 id=\"h-dosing\">Dosing sessions</h2>")
    );
    assert!(nurse.body.contains(&format!("href=\"/dosing/{sid}\"")));
    assert!(nurse.body.contains("stage-pre_dose"));

    let coord = app.browser(Role::Coordinator).await;
    let seen = app.get(&chart, Some(&coord)).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body.contains("Ines Duarte"));
    assert!(!seen.body.contains("Dosing sessions"));
    assert!(!seen.body.contains(&format!("/dosing/{sid}")));
}
