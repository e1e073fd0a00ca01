//! The first week in a real clinic (issue 8), through the router: crisis help that never
//! vanishes, skipped risk questions, the PHQ-2 screen, local time, forms that keep what was
//! typed, duplicates, search, compact entry and reading, and the outbox.

use super::measure::{link_token, phq9_fields, post_link};
use super::*;
use kap_domain::alert::AlertKind;
use kap_domain::instruments::Severity;
use serde_json::json;

/// Gives the test clinic a phone number and a time zone, as its administrator would.
async fn set_clinic(app: &TestApp, phone: &str, zone: &str) {
    let admin = app.browser(Role::Admin).await;
    let r = app
        .post(
            "/admin/clinic",
            &admin,
            &[
                ("name", "Harbor Clinic"),
                (
                    "crisis_resources",
                    "Call or text 988 (Suicide & Crisis Lifeline).",
                ),
                ("phone", phone),
                ("time_zone", zone),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test]
async fn an_unknown_or_spent_link_still_shows_crisis_help_and_the_clinic_phone() {
    let app = TestApp::new().await;
    set_clinic(&app, "+1 555 010 4000", "").await;
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Rosa Santos").await;
    let token = link_token(&app, &coord, patient, "gad7").await;
    let gone = app.get(&format!("/p/{}", "0".repeat(48)), None).await;
    assert_eq!(gone.status, StatusCode::GONE);
    assert!(
        gone.body.contains("988"),
        "crisis resources on an unknown link"
    );
    assert!(gone.body.contains("href=\"tel:+15550104000\""));
    assert!(gone.body.contains("Harbor Clinic"));
    // A calm answer: the done page, read-only, with the clinic's contact and no answers.
    let fields: Vec<(String, String)> = (1..=7)
        .map(|i| (format!("item_{i}"), "0".to_owned()))
        .collect();
    let done = post_link(&app, &token, &fields).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Thank you") && !done.body.contains("<form"));
    assert!(!done.body.contains("Please reach out now"));
    assert!(done.body.contains("tel:+15550104000"));
}

#[tokio::test]
async fn a_skipped_item_9_reaches_the_clinicians_home_page_at_the_clinics_severity() {
    let app = TestApp::new().await;
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Ivan Novak").await;
    let token = link_token(&app, &coord, patient, "phq9").await;
    let mut fields = phq9_fields(["1", "1", "1", "1", "1", "1", "1", "1", "0"]);
    fields.retain(|(k, _)| k != "item_9");
    fields.push(("send_incomplete".into(), "yes".into()));
    let r = post_link(&app, &token, &fields).await;
    assert_eq!(r.status, StatusCode::OK);
    let open = app
        .store
        .open_alerts(&Actor::system(), app.clinic)
        .await
        .expect("alerts");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kind, AlertKind::Phq9Item9Unanswered);
    assert_eq!(open[0].severity, Severity::High, "the default severity");
    let pres = app.browser(Role::Prescriber).await;
    let home = app.get("/", Some(&pres)).await;
    assert!(home.body.contains("Ivan Novak"));
    assert!(home.body.contains("not answered"));
    assert!(
        home.body.contains("tel:+155501002000"),
        "the patient's phone"
    );
    assert!(home.body.contains(&format!(
        "#response-{}",
        open[0].source.response_id().expect("response")
    )));
}

#[tokio::test]
async fn item_9_and_unanswered_severities_follow_the_clinics_settings() {
    let app = TestApp::new().await;
    let mut p = app
        .store
        .measurement_settings(app.clinic)
        .await
        .expect("settings");
    p.phq9_item9_severity = [Severity::Critical, Severity::Critical, Severity::Critical];
    p.risk_unanswered_severity = Severity::Urgent;
    app.store
        .set_measurement_settings(&Actor::system(), app.clinic, &p)
        .await
        .expect("save");
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Omar Haddad").await;
    let token = link_token(&app, &coord, patient, "phq9").await;
    post_link(
        &app,
        &token,
        &phq9_fields(["0", "0", "0", "0", "0", "0", "0", "0", "1"]),
    )
    .await;
    let token = link_token(&app, &coord, patient, "asq").await;
    let fields: Vec<(String, String)> = (1..=3)
        .map(|i| (format!("item_{i}"), "0".to_owned()))
        .chain([("send_incomplete".to_owned(), "yes".to_owned())])
        .collect();
    post_link(&app, &token, &fields).await;
    let mut open = app
        .store
        .open_alerts(&Actor::system(), app.clinic)
        .await
        .expect("alerts");
    open.sort_by_key(|a| a.kind.as_str());
    let got: Vec<(AlertKind, Severity)> = open.iter().map(|a| (a.kind, a.severity)).collect();
    assert_eq!(
        got,
        vec![
            (AlertKind::AsqUnanswered, Severity::Urgent),
            (AlertKind::Phq9SelfHarm, Severity::Critical),
        ]
    );
}

#[tokio::test]
async fn the_phq2_screen_is_shown_and_returned_by_the_api() {
    let app = TestApp::new().await;
    let token = app.api_token(Role::Nurse).await;
    let patient = app.patient("Leah Moreau").await;
    let path = format!("/api/v1/patients/{patient}/responses");
    let post = |answers: serde_json::Value| {
        app.api(
            "POST",
            &path,
            Some(&token),
            Some(json!({"instrument": "phq2", "context": "baseline", "answers": answers})),
        )
    };
    let r = post(json!({"1": 1, "2": 2})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["total"], 3);
    assert_eq!(r.json()["screen"], "positive", "total ≥ 3 (Kroenke 2003)");
    let r = post(json!({"1": 1, "2": 1})).await;
    assert_eq!(r.json()["screen"], "negative");
    let nurse = app.browser(Role::Nurse).await;
    let chart = app.get(&format!("/patients/{patient}"), Some(&nurse)).await;
    assert!(chart.body.contains(">positive<") && chart.body.contains(">negative<"));
}

#[tokio::test]
async fn times_are_shown_in_the_clinics_zone_and_the_api_keeps_utc() {
    let app = TestApp::new().await;
    set_clinic(&app, "", "Pacific/Auckland").await;
    let nurse = app.browser(Role::Nurse).await;
    let patient = app.patient("Hiro Tanaka").await;
    let r = app
        .post(
            &format!("/patients/{patient}/measurements"),
            &nurse,
            &[("weight_kg", "70")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let chart = app.get(&format!("/patients/{patient}"), Some(&nurse)).await;
    assert!(
        chart.body.contains("NZDT") || chart.body.contains("NZST"),
        "the zone's abbreviation beside each time"
    );
    let token = app.api_token(Role::Nurse).await;
    let j = app
        .api(
            "GET",
            &format!("/api/v1/patients/{patient}"),
            Some(&token),
            None,
        )
        .await
        .json();
    let at = j["measurements"][0]["measured_at"].as_str().unwrap_or("");
    assert!(at.ends_with('Z') || at.ends_with("+00:00"), "{at}");
    // A zone that does not exist is refused with a message, and the old one stays.
    let admin = app.browser(Role::Admin).await;
    let r = app
        .post(
            "/admin/clinic",
            &admin,
            &[
                ("name", "Harbor Clinic"),
                ("crisis_resources", "Call 988."),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Mars/Olympus"), "what was typed is kept");
    let clinic = app.store.clinic(app.clinic).await.expect("clinic");
    assert_eq!(
        clinic.time_zone.map(|z| z.name().to_owned()).as_deref(),
        Some("Pacific/Auckland")
    );
}

#[tokio::test]
async fn a_form_that_comes_back_keeps_what_was_typed_inside_the_normal_page() {
    let app = TestApp::new().await;
    let nurse = app.browser(Role::Nurse).await;
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Grace Kim").await;
    // Weight: a decimal comma is a decimal; nonsense comes back with its words.
    let r = app
        .post(
            &format!("/patients/{patient}/measurements"),
            &nurse,
            &[("weight_kg", "72,5"), ("height_cm", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let chart = app.get(&format!("/patients/{patient}"), Some(&nurse)).await;
    assert!(chart.body.contains("72.5 kg"));
    let r = app
        .post(
            &format!("/patients/{patient}/measurements"),
            &nurse,
            &[("weight_kg", "seventy"), ("height_cm", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("value=\"seventy\""));
    assert!(r.body.contains("<nav"), "inside the normal layout");

    // A schedule with a bad interval: the chart again, the number kept, plain words.
    let r = app
        .post(
            &format!("/patients/{patient}/schedules"),
            &coord,
            &[("instrument", "gad7"), ("every_days", "400")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Enter a number of days from 1 to 365."));
    assert!(!r.body.contains("every_days:"));
    assert!(r.body.contains("value=\"400\""));
    assert!(r.body.contains("<option value=\"gad7\" selected>"));
    assert!(r.body.contains("<nav"));
    // A second active schedule of the same questionnaire is refused with a message.
    for expect in [StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY] {
        let r = app
            .post(
                &format!("/patients/{patient}/schedules"),
                &coord,
                &[("instrument", "phq9"), ("every_days", "14")],
            )
            .await;
        assert_eq!(r.status, expect);
    }
    let again = app
        .post(
            &format!("/patients/{patient}/schedules"),
            &coord,
            &[("instrument", "phq9"), ("every_days", "7")],
        )
        .await;
    assert!(again.body.contains("already has an active PHQ-9 schedule"));
    assert_eq!(
        app.store
            .schedules_of(app.clinic, patient)
            .await
            .expect("schedules")
            .len(),
        1
    );

    // An alert acknowledged without a note: the home page, the note's problem beside it.
    let token = link_token(&app, &coord, patient, "phq9").await;
    post_link(
        &app,
        &token,
        &phq9_fields(["0", "0", "0", "0", "0", "0", "0", "0", "2"]),
    )
    .await;
    let alert = app
        .store
        .open_alerts(&Actor::system(), app.clinic)
        .await
        .expect("alerts")[0]
        .id;
    let pres = app.browser(Role::Prescriber).await;
    let r = app
        .post(
            &format!("/alerts/{alert}/acknowledge"),
            &pres,
            &[("action_note", "   "), ("back", "home")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("<h1>Home</h1>"));
    assert!(r.body.contains("the action note is required"));
    assert!(
        r.body
            .contains(&format!("aria-describedby=\"e-note-{alert}\""))
    );
    // … and from the chart, back to the chart.
    let r = app
        .post(
            &format!("/alerts/{alert}/acknowledge"),
            &pres,
            &[("action_note", ""), ("back", &patient.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("<h1>Grace Kim</h1>"));
    assert!(r.body.contains("the action note is required"));
    assert_eq!(
        app.store
            .open_alerts(&Actor::system(), app.clinic)
            .await
            .expect("alerts")
            .len(),
        1,
        "still open"
    );
}

#[tokio::test]
async fn a_likely_duplicate_patient_is_shown_and_needs_confirming() {
    let app = TestApp::new().await;
    let coord = app.browser(Role::Coordinator).await;
    let first = app.patient("Zoë Martin").await;
    let fields = [
        ("full_name", "ZOE MARTIN"),
        ("date_of_birth", "1984-03-02"),
        ("preferred_contact", "either"),
    ];
    let r = app.post("/patients", &coord, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("This may be someone already registered"));
    assert!(r.body.contains(&format!("/patients/{first}")));
    assert!(r.body.contains("same name and date of birth"));
    assert!(
        r.body.contains("value=\"ZOE MARTIN\""),
        "what was typed is kept"
    );
    let all = app
        .store
        .search_patients(
            &Actor::system(),
            app.clinic,
            &kap_domain::patient::PatientQuery::All,
            None,
            10,
        )
        .await
        .expect("all");
    assert_eq!(all.len(), 1, "nothing created before confirming");
    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm_new", "yes"));
    let r = app.post("/patients", &coord, &confirmed).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // Converting an inquiry from someone with the same phone asks too.
    let inquiry = app.inquiry("Z. Martin").await;
    let r = app
        .post(
            &format!("/inquiries/{inquiry}/convert"),
            &coord,
            &[
                ("full_name", "Zoe Martin-Ruiz"),
                ("date_of_birth", "1990-01-01"),
                ("phone", "+1 (555) 0100-2000"),
                ("preferred_contact", "phone"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("same phone number"));
}

#[tokio::test]
async fn search_finds_people_as_they_are_typed() {
    let app = TestApp::new().await;
    for n in [
        "Zoë Martin",
        "Nguyễn Thị Lan",
        "Aisha Chen",
        "Jordan Rivera",
    ] {
        app.patient(n).await;
    }
    let coord = app.browser(Role::Coordinator).await;
    for (q, who) in [
        ("zoe", "Zoë Martin"),
        ("nguyen", "Nguyễn Thị Lan"),
        ("chen+aisha", "Aisha Chen"),
        ("ivera", "Jordan Rivera"),
    ] {
        let r = app.get(&format!("/patients?q={q}"), Some(&coord)).await;
        assert!(r.body.contains(who), "{q} finds {who}");
        let others = [
            "Zoë Martin",
            "Nguyễn Thị Lan",
            "Aisha Chen",
            "Jordan Rivera",
        ]
        .into_iter()
        .filter(|o| *o != who && r.body.contains(o))
        .count();
        assert_eq!(others, 0, "{q} finds only {who}");
    }
}

#[tokio::test]
async fn staff_entry_is_compact_and_reading_uses_words() {
    let app = TestApp::new().await;
    let nurse = app.browser(Role::Nurse).await;
    let patient = app.patient("Leah Moreau").await;
    let phq9 = app
        .get(
            &format!("/patients/{patient}/responses/new?instrument=phq9"),
            Some(&nurse),
        )
        .await;
    assert_eq!(phq9.body.matches("class=\"entry-row\"").count(), 10);
    assert!(phq9.body.contains("2 — More than half the days"));
    assert!(!phq9.body.contains("difficulty."), "no item id as a number");
    assert!(
        phq9.body
            .contains("<legend>If you checked off any problems")
    );
    let madrs = app
        .get(
            &format!("/patients/{patient}/responses/new?instrument=madrs"),
            Some(&nurse),
        )
        .await;
    assert!(madrs.body.contains("<legend>1. Apparent sadness</legend>"));
    assert!(madrs.body.contains("value=\"6\"> <span>6</span>"));
    let moaas = app
        .get(
            &format!("/patients/{patient}/responses/new?instrument=moaas"),
            Some(&nurse),
        )
        .await;
    assert!(
        moaas
            .body
            .contains("5 — Responds readily to name spoken in normal tone")
    );
    assert!(moaas.body.contains("entry-options stacked"));

    // Codes read as words on the chart.
    let token = app.api_token(Role::Coordinator).await;
    let r = app
        .api(
            "PUT",
            &format!("/api/v1/patients/{patient}"),
            Some(&token),
            Some(
                json!({"full_name": "Leah Moreau", "date_of_birth": "1984-03-02",
                        "sex": "unknown", "phone": "+1 555 0100 2000",
                        "preferred_contact": "either"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let chart = app.get(&format!("/patients/{patient}"), Some(&nurse)).await;
    assert!(chart.body.contains("<dd>Unknown</dd>"));
    assert!(chart.body.contains("<dd>Email or phone</dd>"));
    // Tables that scroll can be reached from the keyboard, and are named.
    assert!(!chart.body.contains("<div class=\"table-wrap\"><table>"));
}

#[tokio::test]
async fn messages_to_send_by_hand_are_marked_sent_once_and_name_the_clinic_phone() {
    let app = TestApp::new().await;
    set_clinic(&app, "+1 555 010 4000", "").await;
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Felix Larsen").await;
    link_token(&app, &coord, patient, "gad7").await;
    let msgs = app
        .store
        .outbox(&Actor::system(), app.clinic)
        .await
        .expect("outbox");
    let msg = &msgs[0];
    assert!(msg.body.contains("+1 555 010 4000"), "{}", msg.body);
    let page = app.get("/outbox", Some(&coord)).await;
    assert!(page.body.contains("to send by hand"));
    assert!(page.body.contains("data-copy"), "a copy button");
    let path = format!("/outbox/{}/sent", msg.id);
    assert_eq!(
        app.post(&path, &coord, &[]).await.status,
        StatusCode::SEE_OTHER
    );
    let page = app.get("/outbox", Some(&coord)).await;
    assert!(page.body.contains(">sent<"));
    assert_eq!(
        app.post(&path, &coord, &[]).await.status,
        StatusCode::CONFLICT
    );
    let nurse = app.browser(Role::Nurse).await;
    assert_eq!(
        app.post(&path, &nurse, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(app.audit_actions().await.iter().any(|a| a == "outbox.sent"));
}
