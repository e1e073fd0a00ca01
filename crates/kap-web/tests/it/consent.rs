//! Consent through the router: an administrator publishes the clinic's documents, a coordinator
//! sends a link, the patient reads and signs it (a wrong name refused, input kept), a nurse has
//! another patient sign in clinic as witness, a new version flags older signatures, the REMS
//! enrolment, the API, and who may see what.

use super::*;

const TEXT: &str = "You are invited to receive ketamine by intravenous infusion as part of \
    ketamine-assisted psychotherapy.\n\nWhat happens in a session, the common and rare risks, \
    the alternatives, and your right to stop at any time are explained below.";

async fn publish(app: &TestApp, admin: &Browser, route: &str, title: &str) -> Reply {
    app.post(
        "/admin/consent",
        admin,
        &[("route", route), ("title", title), ("body", TEXT)],
    )
    .await
}

/// The token of the newest consent link in the outbox.
async fn consent_token(app: &TestApp) -> String {
    let msgs = app
        .store
        .outbox(&Actor::system(), app.clinic)
        .await
        .expect("outbox");
    let body = &msgs[0].body;
    let at = body.find("/c/").expect("consent link in message") + 3;
    body[at..at + 48].to_owned()
}

fn today() -> String {
    chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn a_patient_reads_and_signs_through_a_link_and_the_chart_shows_it() {
    let app = TestApp::new().await;
    let admin = app.browser(Role::Admin).await;
    let coord = app.browser(Role::Coordinator).await;
    let therapist = app.browser(Role::Therapist).await;
    let patient = app.patient("José María Ruiz").await;

    // A text too short comes back as typed, with the reason.
    let r = app
        .post(
            "/admin/consent",
            &admin,
            &[
                ("route", "iv"),
                ("title", "IV consent"),
                ("body", "Sign here."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("The text must be 100 to 50000 characters long (it is 10)")
    );
    assert!(r.body.contains("Sign here.</textarea>"));
    let r = publish(&app, &admin, "iv", "IV ketamine: consent to treatment").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get("/admin/consent", Some(&admin)).await;
    assert!(page.body.contains("version 1, published"));
    assert!(page.body.contains("Publish version 2"));

    // The coordinator asks for consent from the chart.
    let chart = app.get(&format!("/patients/{patient}"), Some(&coord)).await;
    assert!(chart.body.contains("id=\"consent\""));
    assert!(chart.body.contains("Not signed"));
    assert!(
        !chart.body.contains("Sign in clinic"),
        "coordinators witness nothing"
    );
    let r = app
        .post(
            &format!("/patients/{patient}/consent/links"),
            &coord,
            &[("route", "iv")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let token = consent_token(&app).await;

    // The patient reads the whole text on the link's page.
    let page = app.get(&format!("/c/{token}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("IV ketamine: consent to treatment"));
    assert!(page.body.contains("your right to stop at any time"));
    assert!(
        !page.body.contains("Ruiz"),
        "the page does not name the patient"
    );
    // Another name is refused, with the answers kept.
    let r = app
        .post_raw(
            &format!("/c/{token}"),
            None,
            &[
                ("typed_name", "Maria Ruiz"),
                ("signed_on", &today()),
                ("understood", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("This is not the name the clinic has for you")
    );
    assert!(r.body.contains("value=\"Maria Ruiz\""));
    assert!(r.body.contains("href=\"#f-typed_name\""));
    // The box unticked is named too.
    let r = app
        .post_raw(
            &format!("/c/{token}"),
            None,
            &[("typed_name", "Jose Maria Ruiz"), ("signed_on", &today())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Tick the box"));
    let r = app
        .post_raw(
            &format!("/c/{token}"),
            None,
            &[
                ("typed_name", "jose maria ruiz"),
                ("signed_on", &today()),
                ("understood", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), format!("/c/{token}/done"));
    let done = app.get(r.location(), None).await;
    assert!(
        done.body
            .contains("You signed “IV ketamine: consent to treatment” (version 1)")
    );
    // A reload of the link shows the confirmation, not the form.
    let again = app.get(&format!("/c/{token}"), None).await;
    assert_eq!(again.location(), format!("/c/{token}/done"));

    // The care team sees what was consented to, which version, how.
    let chart = app
        .get(&format!("/patients/{patient}"), Some(&therapist))
        .await;
    assert!(chart.body.contains("Consented"));
    assert!(chart.body.contains("version 1, signed"));
    assert!(chart.body.contains("by the patient through a link"));
    // Administrators write the texts but do not see who signed.
    let chart = app.get(&format!("/patients/{patient}"), Some(&admin)).await;
    assert!(!chart.body.contains("id=\"consent\""));

    // A new version: the signature is kept and flagged as older.
    publish(
        &app,
        &admin,
        "iv",
        "IV ketamine: consent to treatment (2027)",
    )
    .await;
    let chart = app
        .get(&format!("/patients/{patient}"), Some(&therapist))
        .await;
    assert!(chart.body.contains("Older version"));
    assert!(chart.body.contains("version 2 is current"));
}

#[tokio::test]
async fn a_nurse_witnesses_a_signature_in_clinic_and_records_the_rems_enrolment() {
    let app = TestApp::new().await;
    let admin = app.browser(Role::Admin).await;
    let nurse = app.browser(Role::Nurse).await;
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Ana Ruiz").await;

    // No document yet: said in words.
    let r = app
        .get(
            &format!("/patients/{patient}/consent/sign?route=esketamine_nasal"),
            Some(&nurse),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.body
            .contains("There is no consent document for Esketamine nasal spray yet")
    );
    publish(
        &app,
        &admin,
        "esketamine_nasal",
        "Esketamine nasal spray: consent",
    )
    .await;

    let path = format!("/patients/{patient}/consent/sign?route=esketamine_nasal");
    let page = app.get(&path, Some(&nurse)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Sign, witnessed by Test Nurse"));
    let doc = {
        let at = page
            .body
            .find("name=\"document\" value=\"")
            .expect("document")
            + 23;
        page.body[at..at + 36].to_owned()
    };
    let sign = format!("/patients/{patient}/consent/sign");
    let r = app
        .post(
            &sign,
            &nurse,
            &[
                ("document", &doc),
                ("typed_name", "Ana Ruiz"),
                ("signed_on", "2020-01-01"),
                ("understood", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Enter today"), "{}", r.body);
    assert!(r.body.contains("value=\"Ana Ruiz\""));
    // Coordinators cannot witness.
    let r = app
        .post(
            &sign,
            &coord,
            &[
                ("document", &doc),
                ("typed_name", "Ana Ruiz"),
                ("signed_on", &today()),
                ("understood", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            &sign,
            &nurse,
            &[
                ("document", &doc),
                ("typed_name", "Ana Ruiz"),
                ("signed_on", &today()),
                ("understood", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let chart = app.get(&format!("/patients/{patient}"), Some(&nurse)).await;
    assert!(chart.body.contains("in clinic, witnessed by Test Nurse"));

    // REMS: the panel asks for it; a future date is refused with the form kept.
    assert!(chart.body.contains("Esketamine REMS enrolment"));
    assert!(chart.body.contains("Not recorded."));
    let rems = format!("/patients/{patient}/rems");
    let r = app
        .post(
            &rems,
            &nurse,
            &[
                ("status", "enrolled"),
                ("on", "2999-01-01"),
                ("reference", "R-77"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("The date cannot be in the future."));
    assert!(r.body.contains("value=\"R-77\""));
    let r = app
        .post(
            &rems,
            &nurse,
            &[
                ("status", "enrolled"),
                ("on", &today()),
                ("reference", "R-77"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let chart = app.get(&format!("/patients/{patient}"), Some(&coord)).await;
    assert!(chart.body.contains("<strong>Enrolled</strong> since"));
    assert!(chart.body.contains("(reference R-77)"));
    let r = app
        .post(&rems, &coord, &[("status", "ended"), ("on", &today())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The API lists it.
    let token = app.api_token(Role::Prescriber).await;
    let r = app
        .api(
            "GET",
            &format!("/api/v1/patients/{patient}/consents"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    assert_eq!(j["consents"][0]["route"], "esketamine_nasal");
    assert_eq!(j["consents"][0]["method"], "in_clinic");
    assert_eq!(j["consents"][0]["current"], true);
    assert_eq!(j["consents"][0]["witness"], "Test Nurse");
    assert_eq!(j["rems_enrolment"][0]["status"], "enrolled");
    // Not for administrators.
    let admin_token = app.api_token(Role::Admin).await;
    let r = app
        .api(
            "GET",
            &format!("/api/v1/patients/{patient}/consents"),
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_spent_or_unknown_consent_link_shows_crisis_help() {
    let app = TestApp::new().await;
    let gone = app.get(&format!("/c/{}", "0".repeat(48)), None).await;
    assert_eq!(gone.status, StatusCode::GONE);
    assert!(gone.body.contains("If you need help now"));
    let r = app
        .post_raw(
            &format!("/c/{}", "a".repeat(48)),
            None,
            &[("typed_name", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::GONE);
}

#[tokio::test]
async fn a_withdrawal_is_recorded_beside_the_signature_and_signing_again_consents_again() {
    let app = TestApp::new().await;
    let admin = app.browser(Role::Admin).await;
    let nurse = app.browser(Role::Nurse).await;
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Ana Ruiz").await;
    publish(&app, &admin, "iv", "IV consent").await;
    let sign = || async {
        let page = app
            .get(
                &format!("/patients/{patient}/consent/sign?route=iv"),
                Some(&nurse),
            )
            .await;
        let at = page
            .body
            .find("name=\"document\" value=\"")
            .expect("document")
            + 23;
        let doc = page.body[at..at + 36].to_owned();
        let r = app
            .post(
                &format!("/patients/{patient}/consent/sign"),
                &nurse,
                &[
                    ("document", &doc),
                    ("typed_name", "Ana Ruiz"),
                    ("signed_on", &today()),
                    ("understood", "yes"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    };
    sign().await;
    let chart = app.get(&format!("/patients/{patient}"), Some(&nurse)).await;
    let at = chart
        .body
        .find("action=\"/consents/")
        .expect("withdraw form")
        + 18;
    let consent = chart.body[at..at + 36].to_owned();
    let path = format!("/consents/{consent}/withdraw");
    // Coordinators cannot record it; a note is required; the date cannot precede signing.
    let r = app
        .post(
            &path,
            &coord,
            &[("withdrawn_on", &today()), ("reason", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            &path,
            &nurse,
            &[("withdrawn_on", "2001-01-01"), ("reason", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("a withdrawal cannot come before it"));
    assert!(r.body.contains("Write what the patient said"));
    assert!(r.body.contains("value=\"2001-01-01\""));
    let r = app
        .post(
            &path,
            &nurse,
            &[
                ("withdrawn_on", &today()),
                ("reason", "Phoned: wants to stop before the first session."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let chart = app.get(&format!("/patients/{patient}"), Some(&coord)).await;
    assert!(chart.body.contains("Withdrawn"));
    assert!(
        chart
            .body
            .contains("Phoned: wants to stop before the first session.")
    );
    assert!(chart.body.contains("Send a consent link"));
    // Once only.
    let r = app
        .post(
            &path,
            &nurse,
            &[("withdrawn_on", &today()), ("reason", "again")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let token = app.api_token(Role::Nurse).await;
    let j = app
        .api(
            "GET",
            &format!("/api/v1/patients/{patient}/consents"),
            Some(&token),
            None,
        )
        .await
        .json();
    assert_eq!(j["consents"][0]["current"], false);
    assert_eq!(j["consents"][0]["withdrawn_on"], today());
    // Signing again consents again; the withdrawn signature stays on record.
    sign().await;
    let j = app
        .api(
            "GET",
            &format!("/api/v1/patients/{patient}/consents"),
            Some(&token),
            None,
        )
        .await
        .json();
    assert_eq!(j["consents"].as_array().unwrap().len(), 2);
    assert_eq!(j["consents"][0]["current"], true);
    let chart = app.get(&format!("/patients/{patient}"), Some(&nurse)).await;
    assert!(chart.body.contains("Consented"));
}
