//! Protocols, courses and the calendar through the router: an administrator adds the shipped
//! protocols (a broken upload refused whole with its lines, a new version diffed), rooms and
//! chairs; a prescriber previews and plans a course (a dose outside the protocol refused with
//! the form as typed, nothing stored); the calendar and the today board show it; a coordinator
//! moves a session (a clash refused, nothing changed); a calendar feed; the API.

use super::*;
use chrono::{Duration, Utc};
use kap_domain::screening::Route;
use kap_domain::screening::decision::{Decision, Draft};
use kap_domain::screening::intake::{BaselineVitals, Condition};
use std::collections::BTreeMap;

/// A patient whose screening is signed eligible for `routes`.
pub(super) async fn eligible(app: &TestApp, name: &str, routes: &[Route]) -> Uuid {
    let prescriber = app.staff(Role::Prescriber).await;
    let a = Actor::staff(
        prescriber,
        kap_domain::audit::ActorKind::Staff,
        app.clinic,
        None,
    );
    let patient = app.patient(name).await;
    let s = app
        .store
        .start_screening(&a, app.clinic, patient)
        .await
        .expect("start");
    let no: BTreeMap<Condition, bool> = Condition::ALL.iter().map(|c| (*c, false)).collect();
    app.store
        .save_checklist(&a, app.clinic, s, &no)
        .await
        .expect("checklist");
    app.store
        .save_medications(&a, app.clinic, s, &[])
        .await
        .expect("medications");
    app.store
        .save_vitals(
            &a,
            app.clinic,
            s,
            &BaselineVitals {
                systolic: Some(120),
                diastolic: Some(76),
                heart_rate: Some(70),
                spo2: Some(98),
            },
        )
        .await
        .expect("vitals");
    app.store
        .sign_eligibility(
            &a,
            app.clinic,
            s,
            &Draft {
                decision: Some(Decision::Eligible),
                rationale: "Treatment-resistant; nothing against.".into(),
                routes: routes.to_vec(),
                justifications: BTreeMap::new(),
            },
        )
        .await
        .expect("signed");
    patient
}

/// The id at the end of a redirect such as `/courses/{id}?notice=…`.
fn id_in(location: &str, prefix: &str) -> Uuid {
    let rest = location.strip_prefix(prefix).expect("prefix");
    Uuid::parse_str(&rest[..36]).expect("id")
}

async fn setup(app: &TestApp) -> (Browser, Uuid, Uuid) {
    let admin = app.browser(Role::Admin).await;
    let r = app.post("/protocols/shipped", &admin, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // A second press adds nothing and is no error.
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
    app.post("/admin/rooms", &admin, &[("name", "Room A")])
        .await;
    let rooms = app.store.rooms(app.clinic).await.expect("rooms");
    let chair = rooms.iter().find(|r| r.dosing_chair).expect("chair").id;
    let esk = app
        .store
        .protocols_in_use(app.clinic)
        .await
        .expect("protocols")
        .into_iter()
        .find(|v| v.protocol.key == "esketamine-trd")
        .expect("esketamine")
        .id;
    (admin, chair, esk)
}

#[tokio::test]
async fn administrators_add_protocols_whole_or_not_at_all_and_see_what_changed() {
    let app = TestApp::new().await;
    let (admin, _, esk) = setup(&app).await;
    let list = app.get("/protocols", Some(&admin)).await;
    assert_eq!(list.status, StatusCode::OK);
    for name in ["Esketamine", "IV", "ntramuscular", "ublingual"] {
        assert!(list.body.contains(name), "{name}");
    }
    // A broken file: refused, every problem with its line, the text kept.
    let v = app
        .store
        .protocol_version(app.clinic, esk)
        .await
        .expect("v1");
    let broken = v.body.replacen("version = 1", "version = 2", 1).replacen(
        "drug = \"esketamine\"",
        "drug = \"ketamine\"",
        1,
    );
    let r = app
        .post(
            "/protocols",
            &admin,
            &[("file_name", "esketamine-trd.toml"), ("body", &broken)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("The file was not added"));
    assert!(
        r.body.contains("esketamine-trd.toml:"),
        "errors name file and line"
    );
    assert_eq!(
        app.store.protocols(app.clinic).await.expect("all").len(),
        4,
        "nothing stored"
    );
    // Version 2 with one change: added, and its page shows the diff.
    let v2 = v.body.replacen("version = 1", "version = 2", 1).replacen(
        "name = \"",
        "name = \"Revised ",
        1,
    );
    let r = app
        .post(
            "/protocols",
            &admin,
            &[("file_name", "esketamine-trd.toml"), ("body", &v2)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get(r.location(), Some(&admin)).await;
    assert!(page.body.contains("Changes from version 1"));
    assert!(page.body.contains("class=\"added\">+ name = "));
    assert!(page.body.contains("class=\"removed\">− name = "));
    assert!(page.body.contains("Revised Esketamine"));
    // Therapists read protocols; they do not upload them.
    let therapist = app.browser(Role::Therapist).await;
    assert_eq!(
        app.get("/protocols", Some(&therapist)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.post(
            "/protocols",
            &therapist,
            &[("file_name", "x.toml"), ("body", &v2)]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_prescriber_previews_and_plans_a_course_and_the_calendar_shows_it() {
    let app = TestApp::new().await;
    let (_, chair, esk) = setup(&app).await;
    let patient = eligible(&app, "Nadia Okafor", &[Route::EsketamineNasal]).await;
    let therapist = app.staff(Role::Therapist).await;
    let pres = app.browser(Role::Prescriber).await;
    let form = app
        .get(
            &format!("/patients/{patient}/courses/new?protocol={esk}"),
            Some(&pres),
        )
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Weeks of induction"));
    let start = (Utc::now().date_naive() + Duration::days(9)).to_string();
    let (therapist, chair, esk_s) = (therapist.to_string(), chair.to_string(), esk.to_string());
    let mut fields: Vec<(&str, &str)> = vec![
        ("protocol", &esk_s),
        ("start_date", &start),
        ("time", "10:00"),
        ("weekday", "tue"),
        ("weekday", "fri"),
        ("preparation", "1"),
        ("phase_weeks_0", "4"),
        ("phase_weeks_1", "4"),
        ("phase_weeks_2", "4"),
        ("integration_after_days", "1"),
        ("follow_ups", "1"),
        ("therapist", &therapist),
        ("chair", &chair),
        ("dose", "70"),
        ("action", "plan"),
    ];
    // A dose the protocol does not allow: the form comes back as typed; nothing stored.
    let r = app
        .post(&format!("/patients/{patient}/courses"), &pres, &fields)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("56") && r.body.contains("84"));
    assert!(r.body.contains(&format!("value=\"{start}\"")));
    assert!(
        app.store
            .courses_of(&Actor::system(), app.clinic, patient)
            .await
            .expect("courses")
            .is_empty()
    );
    // Preview, then plan.
    fields.retain(|(k, _)| *k != "dose" && *k != "action");
    fields.push(("dose", "84"));
    let mut preview = fields.clone();
    preview.push(("action", "preview"));
    let r = app
        .post(&format!("/patients/{patient}/courses"), &pres, &preview)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("The sessions it makes"));
    assert!(r.body.contains("Dosing 1 (induction)"));
    fields.push(("action", "plan"));
    let r = app
        .post(&format!("/patients/{patient}/courses"), &pres, &fields)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let course = id_in(r.location(), "/courses/");
    let page = app.get(r.location(), Some(&pres)).await;
    assert!(page.body.contains("Planned"));
    assert!(page.body.contains("Dosing 8 (induction)"));
    assert!(page.body.contains("84 mg"));
    // A second course for the same patient is refused, the form kept.
    let r = app
        .post(&format!("/patients/{patient}/courses"), &pres, &fields)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("already has an open course"));

    // The calendar's week of the start shows the patient's sessions.
    let coord = app.browser(Role::Coordinator).await;
    // Coordinators see the course, not its scores (questionnaire results are clinical).
    assert!(page.body.contains("PHQ-9 at the start"));
    let seen = app.get(&format!("/courses/{course}"), Some(&coord)).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(!seen.body.contains("PHQ-9"));
    let week = app
        .get(&format!("/calendar?view=week&date={start}"), Some(&coord))
        .await;
    assert_eq!(week.status, StatusCode::OK);
    assert!(week.body.contains("Nadia Okafor"));
    assert!(week.body.contains("Dosing 1 (induction)"));

    // The coordinator moves the first dosing session one day on …
    let d = app
        .store
        .course(&Actor::system(), app.clinic, course)
        .await
        .expect("course");
    let dosing: Vec<_> = d
        .appointments
        .iter()
        .filter(|a| a.kind == kap_domain::protocol::SessionKind::Dosing)
        .collect();
    let first = dosing[0];
    let new_day = (first.starts_at + Duration::days(1))
        .date_naive()
        .to_string();
    let r = app
        .post(
            &format!("/appointments/{}/move", first.id),
            &coord,
            &[
                ("date", &new_day),
                ("time", "07:00"),
                ("staff", ""),
                ("room", &chair),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // … and then onto the second dosing session's time: refused, nothing changed.
    let second = dosing[1];
    let (day, time) = (
        second.starts_at.date_naive().to_string(),
        second.starts_at.format("%H:%M").to_string(),
    );
    let r = app
        .post(
            &format!("/appointments/{}/move", first.id),
            &coord,
            &[
                ("date", &day),
                ("time", &time),
                ("staff", ""),
                ("room", &chair),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Nothing was changed"));
    assert!(r.body.contains("clashes with"));
    // … and onto the second dose's day at a free hour: refused, doses need their gap.
    let r = app
        .post(
            &format!("/appointments/{}/move", first.id),
            &coord,
            &[
                ("date", &day),
                ("time", "19:00"),
                ("staff", ""),
                ("room", &chair),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("days between doses"), "{}", r.body);
    // A therapist is not the clinician at the chair.
    let t = app.staff(Role::Therapist).await.to_string();
    let r = app
        .post(
            &format!("/appointments/{}/move", first.id),
            &coord,
            &[
                ("date", &new_day),
                ("time", "07:00"),
                ("staff", &t),
                ("room", &chair),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("nurse or prescriber"), "{}", r.body);
    let moved = app
        .store
        .appointment(&Actor::system(), app.clinic, first.id)
        .await
        .expect("first");
    assert_eq!(moved.starts_at.format("%H:%M").to_string(), "07:00");

    // Moved to later today, it is on the today board, and checked in from there.
    let soon = Utc::now() + Duration::minutes(5);
    if soon.date_naive() == Utc::now().date_naive()
        && (soon + Duration::minutes(moved.minutes())).date_naive() == soon.date_naive()
    {
        let r = app
            .post(
                &format!("/appointments/{}/move", first.id),
                &coord,
                &[
                    ("date", &soon.date_naive().to_string()),
                    ("time", &soon.format("%H:%M").to_string()),
                    ("staff", ""),
                    ("room", &chair),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let home = app.get("/", Some(&coord)).await;
        assert!(
            home.body.contains("Today&#x27;s sessions") || home.body.contains("Today's sessions")
        );
        assert!(home.body.contains("Nadia Okafor"));
        let r = app
            .post(
                &format!("/appointments/{}/status", first.id),
                &coord,
                &[("action", "check_in"), ("back", "home")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let board = app.get("/today", Some(&coord)).await;
        assert!(board.body.contains("Checked in"));
        // The course became active with its first check-in.
        let d = app
            .store
            .course(&Actor::system(), app.clinic, course)
            .await
            .expect("course");
        assert_eq!(d.course.status, kap_domain::course::CourseStatus::Active);
    }
}

#[tokio::test]
async fn a_course_needs_a_signed_decision_for_its_route() {
    let app = TestApp::new().await;
    let (_, chair, esk) = setup(&app).await;
    let patient = eligible(&app, "Iris Lind", &[Route::Iv]).await;
    let therapist = app.staff(Role::Therapist).await.to_string();
    let pres = app.browser(Role::Prescriber).await;
    let start = (Utc::now().date_naive() + Duration::days(9)).to_string();
    let (chair, esk) = (chair.to_string(), esk.to_string());
    let r = app
        .post(
            &format!("/patients/{patient}/courses"),
            &pres,
            &[
                ("protocol", &esk),
                ("start_date", &start),
                ("time", "10:00"),
                ("weekday", "tue"),
                ("weekday", "fri"),
                ("preparation", "1"),
                ("phase_weeks_0", "4"),
                ("phase_weeks_1", "4"),
                ("phase_weeks_2", "4"),
                ("integration_after_days", "1"),
                ("follow_ups", "1"),
                ("therapist", &therapist),
                ("chair", &chair),
                ("dose", "56"),
                ("action", "plan"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("does not cover esketamine nasal spray"));
    // Nurses and coordinators do not plan courses.
    for role in [Role::Nurse, Role::Coordinator, Role::Therapist] {
        let b = app.browser(role).await;
        assert_eq!(
            app.get(&format!("/patients/{patient}/courses/new"), Some(&b))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn a_calendar_feed_shows_ones_own_sessions_without_names_unless_the_clinic_allows() {
    let app = TestApp::new().await;
    let (_, chair, esk) = setup(&app).await;
    let patient = eligible(&app, "Tomas Berg", &[Route::EsketamineNasal]).await;
    let therapist = app.staff(Role::Therapist).await;
    let pres = app.staff(Role::Prescriber).await;
    let a = Actor::staff(pres, kap_domain::audit::ActorKind::Staff, app.clinic, None);
    let v = app
        .store
        .protocol_version(app.clinic, esk)
        .await
        .expect("v");
    let today = Utc::now().date_naive();
    let mut form = kap_domain::course::CourseForm::defaults(&v.protocol, today);
    form.start_date = (today + Duration::days(3)).to_string();
    let plan = form.parse(&v.protocol, today).expect("plan");
    app.store
        .plan_course(
            &a,
            app.clinic,
            &kap_store::course::NewCourse {
                patient_id: patient,
                protocol_id: esk,
                plan,
                therapist_id: therapist,
                nurse_id: None,
                chair_id: chair,
                room_id: None,
                tz: kap_domain::time::TimeZone::UTC,
            },
        )
        .await
        .expect("course");
    let b = app.browser_for(therapist, app.clinic).await;
    let r = app.post("/account/calendar-feed", &b, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let at = r.body.find("/feeds/calendar/").expect("feed address");
    let path = &r.body[at..at + "/feeds/calendar/".len() + 48 + ".ics".len()];
    let feed = app.get(path, None).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert!(feed.body.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(feed.body.contains("SUMMARY:Preparation 1\r\n"));
    assert!(!feed.body.contains("Tomas Berg"));
    app.store
        .set_calendar_shows_names(&Actor::system(), app.clinic, true)
        .await
        .expect("names on");
    let feed = app.get(path, None).await;
    assert!(feed.body.contains("Tomas Berg"));
    // A wrong or retired address shows nothing.
    assert_eq!(
        app.get(&format!("/feeds/calendar/{}.ics", "0".repeat(48)), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    app.post("/account/calendar-feed", &b, &[]).await;
    assert_eq!(app.get(path, None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_api_reads_protocols_and_courses_and_moves_appointments() {
    let app = TestApp::new().await;
    let (_, chair, esk) = setup(&app).await;
    let patient = eligible(&app, "Lena Park", &[Route::EsketamineNasal]).await;
    let therapist = app.staff(Role::Therapist).await;
    let token = app.api_token(Role::Prescriber).await;
    let r = app
        .api("GET", "/api/v1/protocols", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json().as_array().map(Vec::len), Some(4));
    let start = (Utc::now().date_naive() + Duration::days(9)).to_string();
    let body = serde_json::json!({
        "patient_id": patient, "protocol_id": esk, "start_date": start, "time": "10:00",
        "weekdays": ["tue", "fri"], "preparation": 1, "phase_weeks": [4, 4, 4],
        "follow_ups": 1, "integration_after_days": 1, "dose": "56",
        "therapist_id": therapist, "chair_id": chair
    });
    let r = app
        .api("POST", "/api/v1/courses", Some(&token), Some(body.clone()))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let course = r.json()["id"].as_str().expect("id").to_owned();
    let r = app
        .api(
            "GET",
            &format!("/api/v1/courses/{course}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let appts = r.json()["appointments"]
        .as_array()
        .cloned()
        .expect("sessions");
    assert!(appts.len() > 10);
    let first = appts[0]["id"].as_str().expect("id").to_owned();
    let later = (Utc::now() + Duration::days(200)).to_rfc3339();
    let r = app
        .api(
            "POST",
            &format!("/api/v1/appointments/{first}/reschedule"),
            Some(&token),
            Some(serde_json::json!({ "starts_at": later, "staff_id": therapist })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = app
        .api(
            "GET",
            &format!("/api/v1/patients/{patient}/courses"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.json()[0]["status"], "planned");
    // A second course is refused as a problem document.
    let r = app
        .api("POST", "/api/v1/courses", Some(&token), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let from = Utc::now().to_rfc3339();
    let to = (Utc::now() + Duration::days(300)).to_rfc3339();
    let r = app
        .api(
            "GET",
            &format!(
                "/api/v1/appointments?from={}&to={}",
                urlencode(&from),
                urlencode(&to)
            ),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a window over 62 days"
    );
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn a_coordinator_adds_a_session_to_a_course() {
    let app = TestApp::new().await;
    let (_, chair, esk) = setup(&app).await;
    let patient = eligible(&app, "Mia Novak", &[Route::EsketamineNasal]).await;
    let therapist = app.staff(Role::Therapist).await;
    let pres = app.staff(Role::Prescriber).await;
    let a = Actor::staff(pres, kap_domain::audit::ActorKind::Staff, app.clinic, None);
    let v = app
        .store
        .protocol_version(app.clinic, esk)
        .await
        .expect("v");
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
                protocol_id: esk,
                plan,
                therapist_id: therapist,
                nurse_id: None,
                chair_id: chair,
                room_id: None,
                tz: kap_domain::time::TimeZone::UTC,
            },
        )
        .await
        .expect("course");
    let coord = app.browser(Role::Coordinator).await;
    let before = app
        .store
        .course(&Actor::system(), app.clinic, course)
        .await
        .expect("course")
        .appointments
        .len();
    let day = (today + Duration::days(200)).to_string();
    // A dosing session without a chair: refused, the form open as typed.
    let r = app
        .post(
            &format!("/courses/{course}/sessions"),
            &coord,
            &[
                ("kind", "dosing"),
                ("date", &day),
                ("time", "10:00"),
                ("staff", ""),
                ("room", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("needs a dosing chair"));
    assert!(r.body.contains(&format!("value=\"{day}\"")));
    let therapist = therapist.to_string();
    let r = app
        .post(
            &format!("/courses/{course}/sessions"),
            &coord,
            &[
                ("kind", "integration"),
                ("date", &day),
                ("time", "10:00"),
                ("staff", &therapist),
                ("room", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = app
        .store
        .course(&Actor::system(), app.clinic, course)
        .await
        .expect("course");
    assert_eq!(after.appointments.len(), before + 1);
    let added = after.appointments.last().expect("added");
    assert_eq!(added.kind, kap_domain::protocol::SessionKind::Integration);
    assert_eq!(
        added.minutes(),
        i64::from(
            v.protocol
                .booked_minutes(kap_domain::protocol::SessionKind::Integration)
        )
    );
}
