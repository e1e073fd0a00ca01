//! Screening through the router: the intake by a nurse, the rules' findings, a prescriber's
//! decision refused until it follows them, the lock, addenda, and who may see what.

use super::*;
use kap_domain::screening::intake::Condition;

fn checklist_fields(yes: &[Condition]) -> Vec<(String, String)> {
    Condition::ALL
        .iter()
        .map(|c| {
            (
                format!("c_{}", c.as_str()),
                if yes.contains(c) { "yes" } else { "no" }.to_owned(),
            )
        })
        .collect()
}

async fn post_owned(app: &TestApp, path: &str, who: &Browser, f: &[(String, String)]) -> Reply {
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post(path, who, &refs).await
}

#[tokio::test]
async fn a_screening_is_taken_decided_by_the_rules_signed_and_locked() {
    let app = TestApp::new().await;
    let nurse = app.browser(Role::Nurse).await;
    let pres = app.browser(Role::Prescriber).await;
    let patient = app.patient("Mara Okafor").await;

    let chart = app.get(&format!("/patients/{patient}"), Some(&nurse)).await;
    assert!(chart.body.contains("Not screened yet."));
    let r = app
        .post(&format!("/patients/{patient}/screenings"), &nurse, &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page_path = r.location().to_owned();
    let id = page_path.trim_start_matches("/screenings/").to_owned();
    let page = app.get(&page_path, Some(&nurse)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Still unanswered"));
    assert!(page.body.contains("No baseline PHQ-9, GAD-7 or ASQ yet."));
    // A baseline PHQ-9 entered on the chart shows on the screening and its panel.
    let mut f = super::measure::phq9_fields(["3", "3", "2", "2", "2", "2", "2", "2", "0"]);
    f.push(("instrument".into(), "phq9".into()));
    f.push(("context".into(), "baseline".into()));
    let r = post_owned(&app, &format!("/patients/{patient}/responses"), &nurse, &f).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get(&page_path, Some(&nurse)).await;
    assert!(
        page.body.contains("PHQ-9 18 (Moderately severe)"),
        "{}",
        page.body
    );
    let chart = app.get(&format!("/patients/{patient}"), Some(&nurse)).await;
    assert!(
        chart
            .body
            .contains("Baseline: PHQ-9 18 (Moderately severe)")
    );
    assert!(
        page.body
            .contains("Checklist: History of intracerebral haemorrhage")
    );

    // The intake.
    let r = post_owned(
        &app,
        &format!("/screenings/{id}/checklist"),
        &nurse,
        &checklist_fields(&[Condition::Psychosis]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .post(&format!("/screenings/{id}/medications"), &nurse, &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("No current medications"));
    let r = app
        .post(
            &format!("/screenings/{id}/medications"),
            &nurse,
            &[("no_meds", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .post(
            &format!("/screenings/{id}/vitals"),
            &nurse,
            &[("systolic", "30"), ("diastolic", "80")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Enter the systolic pressure (mmHg) as a whole number from 50 to 300.")
    );
    assert!(r.body.contains("value=\"30\""), "what was typed is kept");
    let r = app
        .post(
            &format!("/screenings/{id}/vitals"),
            &nurse,
            &[
                ("systolic", "128"),
                ("diastolic", "82"),
                ("heart_rate", "70"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    for (class, outcome) in [("ssri", "none"), ("snri", "partial")] {
        let r = app
            .post(
                &format!("/screenings/{id}/trials"),
                &nurse,
                &[
                    ("kind", "antidepressant"),
                    ("class", class),
                    ("name", "150 mg daily"),
                    ("weeks", "8"),
                    ("adequate", "yes"),
                    ("outcome", outcome),
                    ("current_episode", "yes"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let r = app
        .post(
            &format!("/screenings/{id}/episode"),
            &nurse,
            &[("episode_months", "14"), ("severity", "moderate")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app.get(&page_path, Some(&pres)).await;
    assert!(page.body.contains("treatment-resistant"));
    assert!(page.body.contains("6 (Mild resistance)") || page.body.contains("Maudsley"));
    assert!(page.body.contains("Relative contraindication"));
    assert!(page.body.contains("clinical.md §3.1"));
    assert!(!page.body.contains("Still unanswered"));

    // A nurse may not sign.
    assert_eq!(
        app.post(
            &format!("/screenings/{id}/sign"),
            &nurse,
            &[("decision", "eligible")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // The prescriber: "eligible" is refused with the reasons; with precautions and a written
    // justification it is signed.
    let r = app
        .post(
            &format!("/screenings/{id}/sign"),
            &pres,
            &[
                ("decision", "eligible"),
                ("route", "iv"),
                ("rationale", "Reviewed in clinic."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("needs a written justification"));
    assert!(r.body.contains("value=\"eligible\" checked"));
    let r = app
        .post(
            &format!("/screenings/{id}/sign"),
            &pres,
            &[
                ("decision", "eligible_with_precautions"),
                ("route", "iv"),
                ("rationale", "Reviewed in clinic."),
                (
                    "justify_psychosis",
                    "One drug-induced episode in 2009, none since; psychiatrist agrees.",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get(&page_path, Some(&pres)).await;
    assert!(page.body.contains("Signed and locked"));
    assert!(page.body.contains("One drug-induced episode in 2009"));
    // Locked: no more changes; an addendum instead.
    let r = app
        .post(
            &format!("/screenings/{id}/vitals"),
            &nurse,
            &[("systolic", "120"), ("diastolic", "80")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .post(
            &format!("/screenings/{id}/addenda"),
            &pres,
            &[
                ("reason", "Correction"),
                ("body", "Episode began 15 months ago."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        app.get(&page_path, Some(&pres))
            .await
            .body
            .contains("Episode began 15 months ago.")
    );

    // The chart's panel; who may see it.
    let chart = app.get(&format!("/patients/{patient}"), Some(&pres)).await;
    assert!(chart.body.contains("Eligible with precautions"));
    let therapist = app.browser(Role::Therapist).await;
    assert_eq!(
        app.get(&page_path, Some(&therapist)).await.status,
        StatusCode::OK
    );
    let coord = app.browser(Role::Coordinator).await;
    assert_eq!(
        app.get(&page_path, Some(&coord)).await.status,
        StatusCode::FORBIDDEN
    );
    let coord_chart = app.get(&format!("/patients/{patient}"), Some(&coord)).await;
    assert!(!coord_chart.body.contains("id=\"screening\""));
    let actions = app.audit_actions().await;
    for a in [
        "screening.start",
        "screening.update",
        "screening.sign",
        "screening.addendum",
    ] {
        assert!(actions.contains(&a.to_owned()), "{a}");
    }
}

#[tokio::test]
async fn an_absolute_contraindication_cannot_be_signed_eligible_in_the_browser() {
    let app = TestApp::new().await;
    let pres = app.browser(Role::Prescriber).await;
    let patient = app.patient("Omar Haddad").await;
    let r = app
        .post(&format!("/patients/{patient}/screenings"), &pres, &[])
        .await;
    let id = r.location().trim_start_matches("/screenings/").to_owned();
    post_owned(
        &app,
        &format!("/screenings/{id}/checklist"),
        &pres,
        &checklist_fields(&[Condition::AneurysmOrAvm]),
    )
    .await;
    app.post(
        &format!("/screenings/{id}/medications"),
        &pres,
        &[("no_meds", "yes")],
    )
    .await;
    app.post(
        &format!("/screenings/{id}/vitals"),
        &pres,
        &[("systolic", "118"), ("diastolic", "76")],
    )
    .await;
    let r = app
        .post(
            &format!("/screenings/{id}/sign"),
            &pres,
            &[
                ("decision", "eligible_with_precautions"),
                ("route", "esketamine_nasal"),
                ("rationale", "Wants to go ahead."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("An absolute contraindication (aneurysm_avm) rules out treatment.")
    );
    let r = app
        .post(
            &format!("/screenings/{id}/sign"),
            &pres,
            &[
                ("decision", "not_eligible"),
                ("route", "esketamine_nasal"),
                ("rationale", "Known AVM."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_api_summarises_the_screening_and_takes_intake_data() {
    let app = TestApp::new().await;
    let pres = app.browser(Role::Prescriber).await;
    let patient = app.patient("Hiro Tanaka").await;
    let token = app.api_token(Role::Nurse).await;
    let path = format!("/api/v1/patients/{patient}/screening");
    assert_eq!(
        app.api("GET", &path, Some(&token), None).await.status,
        StatusCode::NOT_FOUND,
        "not screened yet"
    );
    let r = app
        .post(&format!("/patients/{patient}/screenings"), &pres, &[])
        .await;
    let id = r.location().trim_start_matches("/screenings/").to_owned();
    let intake = format!("/api/v1/screenings/{id}/intake");
    let r = app
        .api(
            "POST",
            &intake,
            Some(&token),
            Some(serde_json::json!({"vitals": {"systolic": 400, "diastolic": 80}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "vitals.systolic");
    let r = app
        .api(
            "POST",
            &intake,
            Some(&token),
            Some(serde_json::json!({"vitals": {"systolic": 150, "diastolic": 95},
                                    "conditions": {"cardiovascular_disease": true, "nonsense": false}})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "nothing stored when a part is wrong"
    );
    let r = app
        .api(
            "POST",
            &intake,
            Some(&token),
            Some(
                serde_json::json!({"vitals": {"systolic": 150, "diastolic": 95},
                                    "conditions": {"cardiovascular_disease": true}}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let j = app.api("GET", &path, Some(&token), None).await.json();
    assert_eq!(j["decision"], serde_json::Value::Null);
    assert_eq!(
        j["rules_allow"], "deferred",
        "other questions are unanswered"
    );
    let rules: Vec<&str> = j["findings"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["rule"].as_str()).collect())
        .unwrap_or_default();
    assert!(rules.contains(&"cardiovascular_disease") && rules.contains(&"baseline_bp"));
    assert!(j["missing"].as_array().is_some_and(|m| !m.is_empty()));
    assert_eq!(j["resistance"]["trd_from"], 2);
    // Coordinators read no screenings.
    let coord = app.api_token(Role::Coordinator).await;
    assert_eq!(
        app.api("GET", &path, Some(&coord), None).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_psychiatric_history_is_taken_and_contradictions_are_shown() {
    let app = TestApp::new().await;
    let nurse = app.browser(Role::Nurse).await;
    let patient = app.patient("Ivo Petrov").await;
    let r = app
        .post(&format!("/patients/{patient}/screenings"), &nurse, &[])
        .await;
    let path = r.location().to_owned();
    let page = app.get(&path, Some(&nurse)).await;
    assert!(page.body.contains("<option value=\"F33.2\">"));
    // Weight, height and BMI come from the chart's measurements (weight 0 is refused there).
    assert!(page.body.contains("Not measured yet."));
    let m = format!("/patients/{patient}/measurements");
    let r = app.post(&m, &nurse, &[("weight_kg", "0")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(&m, &nurse, &[("weight_kg", "72.5"), ("height_cm", "170")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app.get(&path, Some(&nurse)).await;
    assert!(
        page.body.contains("72.5 kg · 170 cm · BMI 25.0"),
        "{}",
        page.body
    );
    let history = format!("{path}/history");
    // A malformed code and a future year come back as typed, with the reasons.
    let r = app
        .post(
            &history,
            &nurse,
            &[
                ("dx_code_0", "F33-2"),
                ("dx_description_0", ""),
                ("dx_code_1", ""),
                ("dx_description_1", ""),
                ("suicide_attempts", "0"),
                ("last_attempt_year", "2999"),
                ("no_allergies", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("is not an ICD-10-CM code"));
    assert!(r.body.contains("value=\"F33-2\""));
    assert!(r.body.contains("Enter the year as four digits"));
    // Contradictory but well-formed answers are stored, and shown as findings.
    let r = app
        .post(
            &history,
            &nurse,
            &[
                ("dx_code_0", "f33.2"),
                ("dx_description_0", ""),
                ("dx_code_1", "F33.3"),
                (
                    "dx_description_1",
                    "Recurrent, severe, with psychotic features",
                ),
                ("hospitalisations", "1"),
                ("suicide_attempts", "0"),
                ("last_attempt_year", "2021"),
                ("no_allergies", "yes"),
                ("substance_use", "Cannabis at weekends"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get(&path, Some(&nurse)).await;
    assert!(page.body.contains("value=\"F33.2\""));
    assert!(
        page.body
            .contains("Major depressive disorder, recurrent severe without psychotic features")
    );
    assert!(page.body.contains("Contradictory answers"));
    assert!(
        page.body
            .contains("No suicide attempts are recorded, but a year of the most recent attempt is")
    );
    assert!(page.body.contains("Cannabis at weekends</textarea>"));
}

/// The token of the newest history link in the outbox.
async fn history_token(app: &TestApp) -> String {
    let msgs = app
        .store
        .outbox(&Actor::system(), app.clinic)
        .await
        .expect("outbox");
    let body = &msgs[0].body;
    let at = body.find("/h/").expect("history link in message") + 3;
    body[at..at + 48].to_owned()
}

#[tokio::test]
async fn the_patient_fills_in_their_history_and_a_nurse_confirms_it() {
    use kap_domain::screening::report::LAY_QUESTIONS;
    let app = TestApp::new().await;
    let nurse = app.browser(Role::Nurse).await;
    let patient = app.patient("Lena Fischer").await;
    let r = app
        .post(&format!("/patients/{patient}/screenings"), &nurse, &[])
        .await;
    let path = r.location().to_owned();
    let r = app.post(&format!("{path}/history-link"), &nurse, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let token = history_token(&app).await;
    let base = format!("/h/{token}");

    let page = app.get(&base, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Your health history"));
    assert!(
        !page.body.contains("Fischer"),
        "the page does not name the patient"
    );
    // Nothing saved yet: sending asks for a part first.
    let r = app.post_raw(&format!("{base}/send"), None, &[]).await;
    assert_eq!(r.location(), format!("{base}?saved=nothing"));

    // Health conditions: one left out comes back, answers kept.
    let mut f: Vec<(String, String)> = LAY_QUESTIONS
        .iter()
        .map(|q| (format!("q_{}", q.id), "no".to_owned()))
        .collect();
    f.iter_mut().find(|(k, _)| k == "q_heart").unwrap().1 = "yes".into();
    f.iter_mut().find(|(k, _)| k == "q_liver").unwrap().1 = "yes".into();
    f.iter_mut().find(|(k, _)| k == "q_kidney").unwrap().1 = "not_sure".into();
    let last = f.pop().unwrap();
    let r = post_owned_public(&app, &format!("{base}/conditions"), &f).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Please answer yes, no or not sure."));
    assert!(r.body.contains("name=\"q_heart\" value=\"yes\" checked"));
    f.push(last);
    let r = post_owned_public(&app, &format!("{base}/conditions"), &f).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let refs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(k, x)| ((*k).to_owned(), (*x).to_owned()))
            .collect()
    };
    let r = post_owned_public(
        &app,
        &format!("{base}/medicines"),
        &refs(&[
            ("med_0", "Sertraline 100 mg"),
            ("med_1", "Lorazepam 1 mg at night"),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = post_owned_public(
        &app,
        &format!("{base}/history"),
        &refs(&[
            ("told", "Depression, recurrent"),
            ("hospitalisations", "1"),
            ("suicide_attempts", "0"),
            ("allergies", "Penicillin: rash"),
            ("no_substance_use", "yes"),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Saved as they go: the page shows what was saved.
    let page = app.get(&base, None).await;
    assert!(page.body.contains("value=\"Sertraline 100 mg\""));
    assert!(page.body.contains("Penicillin: rash</textarea>"));

    // The nurse sees the parts before the patient sends them, not yet confirmed.
    let s = app.get(&path, Some(&nurse)).await;
    assert!(s.body.contains("Heart disease: for example a heart attack"));
    assert!(s.body.contains("Sertraline 100 mg"));
    assert!(s.body.contains("Not confirmed yet."));

    let r = app.post_raw(&format!("{base}/send"), None, &[]).await;
    assert_eq!(r.location(), format!("{base}/done"));
    let done = app.get(r.location(), None).await;
    assert!(done.body.contains("Your answers have been sent"));
    // Sent: no more saving through the link.
    let r = post_owned_public(
        &app,
        &format!("{base}/medicines"),
        &refs(&[("no_medicines", "yes")]),
    )
    .await;
    assert_eq!(r.location(), format!("{base}/done"));

    // Confirming copies yes/no into the checklist; liver disease and "not sure" stay open.
    let r = app
        .post(&format!("{path}/report/conditions/confirm"), &nurse, &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .post(&format!("{path}/report/history/confirm"), &nurse, &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id = path.trim_start_matches("/screenings/");
    let sid = uuid::Uuid::parse_str(id).unwrap();
    let s = app
        .store
        .screening(&Actor::system(), app.clinic, sid)
        .await
        .unwrap();
    use kap_domain::screening::intake::Condition;
    assert_eq!(
        s.intake.answer(Condition::CardiovascularDisease),
        Some(true)
    );
    assert_eq!(s.intake.answer(Condition::Psychosis), Some(false));
    assert_eq!(s.intake.answer(Condition::HepaticModerate), None);
    assert_eq!(s.intake.answer(Condition::KidneyDisease), None);
    assert_eq!(
        s.intake.history.allergies.as_deref(),
        Some("Penicillin: rash")
    );
    assert_eq!(s.intake.history.substance_use.as_deref(), Some(""));
    // Medicines are never confirmed into the intake by a click: the nurse enters them.
    assert_eq!(s.intake.medications, None);
    let page = app.get(&path, Some(&nurse)).await;
    assert!(page.body.contains("Confirmed "));
    assert!(page.body.contains("Mark reviewed"));
    // A new link ends the one before it (answers saved stay).
    let r = app.post(&format!("{path}/history-link"), &nurse, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let second = history_token(&app).await;
    let r = app.post(&format!("{path}/history-link"), &nurse, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/h/{second}"), None).await.status,
        StatusCode::GONE
    );
    let third = history_token(&app).await;
    assert_eq!(
        app.get(&format!("/h/{third}"), None).await.status,
        StatusCode::OK
    );
    // Therapists read but cannot confirm.
    let therapist = app.browser(Role::Therapist).await;
    let r = app
        .post(&format!("{path}/report/medicines/confirm"), &therapist, &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn post_owned_public(app: &TestApp, path: &str, f: &[(String, String)]) -> Reply {
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post_raw(path, None, &refs).await
}
