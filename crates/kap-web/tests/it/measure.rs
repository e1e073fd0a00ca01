//! Measurement-based care through the router: links, scoring, alerts, roles, API.

use super::*;
use kap_domain::alert::{AlertKind, AlertSource};
use kap_domain::instruments::Severity;
use serde_json::json;

pub(super) async fn link_token(
    app: &TestApp,
    who: &Browser,
    patient: Uuid,
    instrument: &str,
) -> String {
    let r = app
        .post(
            &format!("/patients/{patient}/links"),
            who,
            &[("instrument", instrument), ("context", "between_sessions")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let msgs = app
        .store
        .outbox(&Actor::system(), app.clinic)
        .await
        .expect("outbox");
    let body = &msgs[0].body;
    let at = body.find("/p/").expect("link in message") + 3;
    body[at..at + 48].to_owned()
}

pub(super) fn phq9_fields(values: [&'static str; 9]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = values
        .iter()
        .enumerate()
        .map(|(i, x)| (format!("item_{}", i + 1), (*x).to_owned()))
        .collect();
    v.push(("item_difficulty".into(), "1".into()));
    v
}

/// Posts a patient's answers as a browser does: a redirect is followed to the page it names.
pub(super) async fn post_link(app: &TestApp, token: &str, fields: &[(String, String)]) -> Reply {
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = app.post_raw(&format!("/p/{token}"), None, &refs).await;
    if r.status == StatusCode::SEE_OTHER {
        assert_eq!(r.location(), format!("/p/{token}/done"));
        return app.get(r.location(), None).await;
    }
    r
}

#[tokio::test]
async fn phq9_item9_positive_raises_alert_before_response_returns() {
    let app = TestApp::new().await;
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Rosa Santos").await;
    let token = link_token(&app, &coord, patient, "phq9").await;

    let page = app.get(&format!("/p/{token}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Thoughts that you would be better off dead")
    );
    assert!(
        !page.body.contains("Rosa Santos"),
        "the link page names nobody"
    );

    let r = post_link(
        &app,
        &token,
        &phq9_fields(["1", "1", "2", "1", "0", "1", "0", "0", "2"]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Please reach out now"));
    assert!(
        r.body.contains("988"),
        "the clinic's crisis resources are shown at once"
    );
    // By the time the patient saw that page, the alert was stored.
    let open = app
        .store
        .open_alerts(&Actor::system(), app.clinic)
        .await
        .expect("alerts");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].severity, Severity::Urgent);

    // Single use: the link now leads to its thank-you page (crisis resources still there, after
    // a reload or the back button), never to the form, and a second sending stores nothing.
    let again = app.get(&format!("/p/{token}"), None).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(again.location(), format!("/p/{token}/done"));
    let done = app.get(again.location(), None).await;
    assert!(done.body.contains("Please reach out now") && !done.body.contains("<form"));
    let resent = post_link(&app, &token, &phq9_fields(["0"; 9])).await;
    assert!(resent.body.contains("Please reach out now"));
    let (rows, _) = app
        .store
        .responses_of(&Actor::system(), app.clinic, patient)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "the second sending stored nothing");
    assert_eq!(open[0].source, AlertSource::Response(rows[0].id));
    assert_eq!(open[0].session_id, None);

    // The prescriber sees it on the home page and acknowledges it with a note.
    let pres = app.browser(Role::Prescriber).await;
    let home = app.get("/", Some(&pres)).await;
    assert!(
        home.body.contains("Safety alerts")
            && home.body.contains("Rosa Santos")
            && home.body.contains("PHQ-9 item 9")
    );
    // A response's alert shows the answer and leads to the response, not to a dosing session.
    assert!(home.body.contains("Answer given") && home.body.contains("See the response"));
    assert!(!home.body.contains("Open the dosing session"));
    let ack = format!("/alerts/{}/acknowledge", open[0].id);
    let r = app.post(&ack, &pres, &[("action_note", "  ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(
            &ack,
            &pres,
            &[
                ("action_note", "Phoned; safe; safety plan reviewed"),
                ("back", "home"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        !app.get("/", Some(&pres))
            .await
            .body
            .contains("PHQ-9 item 9"),
        "no longer open"
    );
    let chart = app.get(&format!("/patients/{patient}"), Some(&pres)).await;
    assert!(chart.body.contains("Phoned; safe; safety plan reviewed"));
    assert!(
        chart.body.contains("role=\"img\""),
        "trajectory chart for clinicians"
    );

    // Coordinators and therapists: no alerts for coordinators; no answers either.
    let coord_chart = app.get(&format!("/patients/{patient}"), Some(&coord)).await;
    assert!(!coord_chart.body.contains("Safety alerts"));
    assert!(!coord_chart.body.contains("role=\"img\""));
    assert!(coord_chart.body.contains("PHQ-9 completed"));
    assert_eq!(
        app.post(&ack, &coord, &[("action_note", "x")]).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn unanswered_questions_are_asked_again_unless_sent_as_they_are() {
    let app = TestApp::new().await;
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Ivan Novak").await;
    let token = link_token(&app, &coord, patient, "phq9").await;
    let mut fields = phq9_fields(["1", "1", "1", "1", "1", "1", "1", "1", "0"]);
    fields.retain(|(k, _)| k != "item_3" && k != "item_4");
    let r = post_link(&app, &token, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("2 questions still need an answer"));
    assert!(r.body.contains("Send as it is"));
    let (rows, _) = app
        .store
        .responses_of(&Actor::system(), app.clinic, patient)
        .await
        .expect("rows");
    assert!(rows.is_empty(), "nothing partial stored as if complete");
    fields.push(("send_incomplete".into(), "yes".into()));
    let r = post_link(&app, &token, &fields).await;
    assert_eq!(r.status, StatusCode::OK);
    let (rows, _) = app
        .store
        .responses_of(&Actor::system(), app.clinic, patient)
        .await
        .expect("rows");
    assert!(!rows[0].complete && rows[0].total.is_none());
}

#[tokio::test]
async fn bad_answers_and_bad_links_store_nothing() {
    let app = TestApp::new().await;
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Grace Kim").await;
    let token = link_token(&app, &coord, patient, "gad7").await;
    let r = post_link(&app, &token, &[("item_1".into(), "7".into())]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = post_link(&app, &token, &[("item_1".into(), "abc".into())]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for bad in ["nonsense", &"0".repeat(48), &token[..40]] {
        assert_eq!(
            app.get(&format!("/p/{bad}"), None).await.status,
            StatusCode::GONE,
            "{bad}"
        );
    }
    let (rows, _) = app
        .store
        .responses_of(&Actor::system(), app.clinic, patient)
        .await
        .expect("rows");
    assert!(rows.is_empty());
    // Clinician-rated scales cannot be sent to patients.
    let r = app
        .post(
            &format!("/patients/{patient}/links"),
            &coord,
            &[("instrument", "madrs")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .post(
            &format!("/patients/{patient}/links"),
            &coord,
            &[("instrument", "bdi2")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn asq_acuity_answer_without_a_yes_is_ignored_and_acute_positive_is_critical() {
    let app = TestApp::new().await;
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Omar Haddad").await;
    let token = link_token(&app, &coord, patient, "asq").await;
    let no = |i: u8| (format!("item_{i}"), "0".to_owned());
    let mut fields = vec![no(1), no(2), no(3), no(4), ("item_5".into(), "1".into())];
    let r = post_link(&app, &token, &fields).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("Please reach out now"));
    assert!(
        app.store
            .open_alerts(&Actor::system(), app.clinic)
            .await
            .expect("alerts")
            .is_empty()
    );

    let token = link_token(&app, &coord, patient, "asq").await;
    fields[2].1 = "1".into();
    let r = post_link(&app, &token, &fields).await;
    assert!(r.body.contains("Please reach out now"));
    let open = app
        .store
        .open_alerts(&Actor::system(), app.clinic)
        .await
        .expect("alerts");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].severity, Severity::Critical);
    assert_eq!(open[0].kind, AlertKind::AsqAcutePositive);
}

#[tokio::test]
async fn staff_enter_responses_and_the_chart_shows_response_and_remission() {
    let app = TestApp::new().await;
    let nurse = app.browser(Role::Nurse).await;
    let patient = app.patient("Leah Moreau").await;
    let form = app
        .get(
            &format!("/patients/{patient}/responses/new?instrument=phq9"),
            Some(&nurse),
        )
        .await;
    assert_eq!(form.status, StatusCode::OK);
    let enter = |vals: [&'static str; 9], ctx: &'static str| {
        let mut f = phq9_fields(vals);
        f.push(("instrument".into(), "phq9".into()));
        f.push(("context".into(), ctx.into()));
        f
    };
    for (vals, ctx) in [
        (["3", "3", "2", "2", "2", "2", "2", "2", "0"], "baseline"),
        (
            ["1", "0", "1", "0", "1", "0", "0", "0", "0"],
            "between_sessions",
        ),
    ] {
        let f = enter(vals, ctx);
        let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = app
            .post(&format!("/patients/{patient}/responses"), &nurse, &refs)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let chart = app.get(&format!("/patients/{patient}"), Some(&nurse)).await;
    assert!(
        chart.body.contains("Baseline 18, latest 3, change -15"),
        "{}",
        chart.body
    );
    assert!(chart.body.contains(">remission<"));
    // Out-of-range answers are refused with a message and store nothing new.
    let f = enter(["9", "0", "0", "0", "0", "0", "0", "0", "0"], "baseline");
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app
        .post(&format!("/patients/{patient}/responses"), &nurse, &refs)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (rows, _) = app
        .store
        .responses_of(&Actor::system(), app.clinic, patient)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 2);
    // Coordinators may not enter responses.
    let coord = app.browser(Role::Coordinator).await;
    assert_eq!(
        app.get(
            &format!("/patients/{patient}/responses/new?instrument=phq9"),
            Some(&coord)
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn api_response_returns_total_band_flags_and_alerts() {
    let app = TestApp::new().await;
    let token = app.api_token(Role::Prescriber).await;
    let patient = app.patient("Felix Larsen").await;
    let r = app
        .api("GET", "/api/v1/instruments", Some(&token), None)
        .await;
    assert_eq!(r.json()[0]["code"], "phq9");
    assert_eq!(r.json()[0]["loinc_total"], "44261-6");
    let answers = json!({"1": 2, "2": 2, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2, "8": 2, "9": 1});
    let r = app
        .api(
            "POST",
            &format!("/api/v1/patients/{patient}/responses"),
            Some(&token),
            Some(json!({"instrument": "phq9", "context": "baseline", "answers": answers})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let j = r.json();
    assert_eq!(j["total"], 17);
    assert_eq!(j["band"], "Moderately severe");
    assert_eq!(j["flags"][0], "phq9_self_harm");
    assert_eq!(j["alerts"].as_array().map(Vec::len), Some(1));
    let r = app.api("POST", &format!("/api/v1/patients/{patient}/responses"), Some(&token), Some(json!({"instrument": "phq9", "context": "follow_up", "answers": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1, "6": 0, "7": 0, "8": 0, "9": 0}}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let t = app
        .api(
            "GET",
            &format!("/api/v1/patients/{patient}/trajectory"),
            Some(&token),
            None,
        )
        .await
        .json();
    assert_eq!(t[0]["baseline"], 17);
    assert_eq!(t[0]["latest"], 2);
    assert_eq!(t[0]["classification"], "remission");
    let r = app
        .api(
            "POST",
            &format!("/api/v1/patients/{patient}/responses"),
            Some(&token),
            Some(json!({"instrument": "phq9", "context": "baseline", "answers": {"1": 4}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "answers");
    let r = app
        .api(
            "POST",
            &format!("/api/v1/patients/{patient}/responses"),
            Some(&token),
            Some(json!({"instrument": "cssrs", "context": "baseline", "answers": {}})),
        )
        .await;
    assert_eq!(r.json()["errors"][0]["field"], "instrument");
    let coord = app.api_token(Role::Coordinator).await;
    assert_eq!(
        app.api(
            "GET",
            &format!("/api/v1/patients/{patient}/responses"),
            Some(&coord),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn protocol_is_a_clinic_setting_and_old_alerts_escalate_visibly() {
    let app = TestApp::new().await;
    let admin = app.browser(Role::Admin).await;
    let page = app.get("/admin/clinic", Some(&admin)).await;
    assert!(page.body.contains("Measurement protocol"));
    let r = app
        .post(
            "/admin/protocol",
            &admin,
            &[
                ("alert_escalation_minutes", "0"),
                ("link_valid_hours", "48"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(
            "/admin/protocol",
            &admin,
            &[
                ("alert_escalation_minutes", "30"),
                ("link_valid_hours", "48"),
                ("phq9_item9_severity_1", "urgent"),
                ("phq9_item9_severity_2", "urgent"),
                ("phq9_item9_severity_3", "critical"),
                ("risk_unanswered_severity", "high"),
                ("phq9_response", "50"),
                ("phq9_remission", "4"),
                ("phq9_worsening", "5"),
                ("madrs_response", "50"),
                ("madrs_remission", "12"),
                ("gad7_response", "50"),
                ("qids_sr16_response", "50"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let p = app
        .store
        .measurement_settings(app.clinic)
        .await
        .expect("settings");
    assert_eq!(p.alert_escalation_minutes, 30);
    assert_eq!(p.rules_for("phq9").worsening_points, Some(5));
    assert_eq!(p.rules_for("madrs").remission_at_most, Some(12));

    let token = app.api_token(Role::Nurse).await;
    let patient = app.patient("Hiro Tanaka").await;
    let answers = json!({"1": 0, "2": 0, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0, "8": 0, "9": 1});
    app.api(
        "POST",
        &format!("/api/v1/patients/{patient}/responses"),
        Some(&token),
        Some(json!({"instrument": "phq9", "context": "baseline", "answers": answers})),
    )
    .await;
    let pres = app.browser(Role::Prescriber).await;
    assert!(!app.get("/", Some(&pres)).await.body.contains("Escalated"));
    // The alert has waited two hours: past the clinic's 30 minutes.
    kap_store::on_db!(&app.store.db, |p| sqlx::query(
        "UPDATE alert SET raised_at = $1"
    )
    .bind(kap_store::now() - chrono::Duration::hours(2))
    .execute(p)
    .await
    .expect("age the alert")
    .rows_affected());
    let home = app.get("/", Some(&pres)).await;
    assert!(home.body.contains("Escalated: waiting too long"));
}
