//! The pages as a user drives them: the contact form to patient journey, bad input, audit.

use super::*;

fn contact(name: &str, consent: bool) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("name", name.to_owned()),
        ("email", "visitor@example.org".to_owned()),
        ("phone", "".to_owned()),
        ("preferred_contact", "email".to_owned()),
        ("message", "I would like to know more.".to_owned()),
        ("website", "".to_owned()),
    ];
    if consent {
        v.push(("consent", "yes".into()));
    }
    v
}

fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, s)| (*k, s.as_str())).collect()
}

#[tokio::test]
async fn contact_form_to_patient_journey() {
    let app = TestApp::new().await;
    let page = app.get("/contact", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Contact the clinic"));
    assert!(
        page.headers.get(header::SET_COOKIE).is_some(),
        "pre-session CSRF cookie"
    );

    let r = app
        .post_public("/contact", &refs(&contact("Jordan Rivera", true)))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/contact/thanks"));
    let thanks = app.get(r.location(), None).await;
    assert!(thanks.body.contains("We have received your message"));
    assert!(
        !thanks.body.contains("Jordan"),
        "the confirmation shows nobody's data"
    );

    let coord = app.browser(Role::Coordinator).await;
    let home = app.get("/", Some(&coord)).await;
    assert!(home.body.contains("Jordan Rivera"));
    let list = app.get("/inquiries", Some(&coord)).await;
    let id = list
        .body
        .split("/inquiries/")
        .nth(1)
        .and_then(|s| s.get(..36))
        .expect("inquiry link")
        .to_owned();
    let detail = app.get(&format!("/inquiries/{id}"), Some(&coord)).await;
    assert!(detail.body.contains("I would like to know more."));

    let r = app
        .post(
            &format!("/inquiries/{id}"),
            &coord,
            &[("status", "contacted"), ("note", "Called, left message")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        app.get(&format!("/inquiries/{id}"), Some(&coord))
            .await
            .body
            .contains("Called, left message")
    );

    // Converting without a date of birth shows the error next to the field and creates nothing.
    let r = app
        .post(
            &format!("/inquiries/{id}/convert"),
            &coord,
            &[
                ("full_name", "Jordan Rivera"),
                ("email", "visitor@example.org"),
                ("date_of_birth", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"e-date_of_birth\""));
    let r = app
        .post(
            &format!("/inquiries/{id}/convert"),
            &coord,
            &[
                ("full_name", "Jordan Rivera"),
                ("email", "visitor@example.org"),
                ("date_of_birth", "1990-04-12"),
                ("preferred_contact", "email"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let chart_url = r.location().to_owned();
    assert!(chart_url.starts_with("/patients/"));
    let chart = app.get(&chart_url, Some(&coord)).await;
    assert!(chart.body.contains("<h1>Jordan Rivera</h1>"));
    // A second conversion is refused.
    let r = app
        .post(
            &format!("/inquiries/{id}/convert"),
            &coord,
            &[
                ("full_name", "Jordan Rivera"),
                ("date_of_birth", "1990-04-12"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND.max(r.status));
    assert_ne!(r.status, StatusCode::SEE_OTHER);

    for q in ["jordan", "rivera", "1990-04-12", "visitor@example.org"] {
        let found = app.get(&format!("/patients?q={q}"), Some(&coord)).await;
        assert!(found.body.contains("Jordan Rivera"), "search {q}");
    }
    let fragment = app
        .send(
            Request::get("/patients?q=jor")
                .header(header::COOKIE, &coord.cookie)
                .header("hx-request", "true")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert!(fragment.body.contains("Jordan Rivera") && !fragment.body.contains("<html"));

    let actions = app.audit_actions().await;
    for a in [
        "inquiry.submit",
        "inquiry.read",
        "inquiry.update",
        "patient.create",
        "inquiry.convert",
        "patient.read",
        "patient.search",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    assert!(
        app.store
            .verify_audit(vec![])
            .await
            .expect("verify")
            .broken
            .is_none()
    );
}

#[tokio::test]
async fn contact_form_errors_keep_values_and_store_nothing() {
    let app = TestApp::new().await;
    let r = app
        .post_public("/contact", &refs(&contact("Morgan Lee", false)))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("class=\"field-error\" id=\"e-consent\""));
    assert!(r.body.contains("value=\"Morgan Lee\""));
    let mut bad = contact("Morgan Lee", true);
    bad[1].1 = "not-an-email".into();
    let r = app.post_public("/contact", &refs(&bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"e-email\""));
    assert!(
        !app.audit_actions()
            .await
            .contains(&"inquiry.submit".to_owned())
    );
}

#[tokio::test]
async fn contact_honeypot_looks_successful_but_keeps_nothing() {
    let app = TestApp::new().await;
    let mut v = contact("Spam Bot", true);
    v[5].1 = "http://spam.example".into();
    let r = app.post_public("/contact", &refs(&v)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/contact/thanks"));
    assert!(
        !app.audit_actions()
            .await
            .contains(&"inquiry.submit".to_owned())
    );
}

#[tokio::test]
async fn contact_form_is_rate_limited_per_address() {
    let app = TestApp::with_config(kap_web::WebConfig {
        contact_per_hour: 2,
        ..Default::default()
    })
    .await;
    for _ in 0..2 {
        let r = app
            .post_public("/contact", &refs(&contact("Sam Repeat", true)))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    let r = app
        .post_public("/contact", &refs(&contact("Sam Repeat", true)))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn patient_registry_create_edit_measure_with_field_errors() {
    let app = TestApp::new().await;
    let coord = app.browser(Role::Coordinator).await;
    let r = app
        .post(
            "/patients",
            &coord,
            &[
                ("full_name", ""),
                ("date_of_birth", "2999-01-01"),
                ("email", "x@y"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["full_name", "date_of_birth", "email"] {
        assert!(r.body.contains(&format!("id=\"e-{f}\"")), "{f}");
    }
    let r = app
        .post(
            "/patients",
            &coord,
            &[
                ("full_name", "Avery Chen"),
                ("date_of_birth", "1979-05-06"),
                ("phone", "+1 555 0100 1234"),
                ("emergency_name", "Sam Chen"),
                ("emergency_phone", "555 0100 9999"),
                ("emergency_relationship", "Partner"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let chart_url = r.location().split('?').next().expect("path").to_owned();
    let chart = app.get(&chart_url, Some(&coord)).await;
    assert!(chart.body.contains("Sam Chen") && chart.body.contains("Partner"));
    let r = app
        .post(
            &chart_url,
            &coord,
            &[
                ("full_name", "Avery Chen-Lopez"),
                ("date_of_birth", "1979-05-06"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        app.get(&chart_url, Some(&coord))
            .await
            .body
            .contains("Avery Chen-Lopez")
    );
    // Coordinators do not record weights; nurses do.
    let r = app
        .post(
            &format!("{chart_url}/measurements"),
            &coord,
            &[("weight_kg", "70")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let nurse = app.browser(Role::Nurse).await;
    let r = app
        .post(
            &format!("{chart_url}/measurements"),
            &nurse,
            &[("weight_kg", "seventy")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"e-weight_kg\""));
    let r = app
        .post(
            &format!("{chart_url}/measurements"),
            &nurse,
            &[("weight_kg", "72.5"), ("height_cm", "170")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let chart = app.get(&chart_url, Some(&nurse)).await;
    assert!(
        chart.body.contains("72.5 kg")
            && chart.body.contains("170 cm")
            && chart.body.contains("25.0"),
        "BMI 72.5/1.7² = 25.08"
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_not_found() {
    let app = TestApp::new().await;
    let c = app.browser(Role::Coordinator).await;
    for p in [
        "/patients/not-an-id",
        &format!("/patients/{}", Uuid::now_v7()),
        "/inquiries/123",
        "/patients/%00",
    ] {
        assert_eq!(
            app.get(p, Some(&c)).await.status,
            StatusCode::NOT_FOUND,
            "{p}"
        );
    }
}

#[tokio::test]
async fn admin_manages_staff_and_reads_the_audit_log_by_patient() {
    let app = TestApp::new().await;
    let admin = app.browser(Role::Admin).await;
    let r = app
        .post(
            "/admin/staff",
            &admin,
            &[
                ("email", "new.nurse@test.example"),
                ("full_name", "New Nurse"),
                ("role", "nurse"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"e-password\""));
    assert!(
        !r.body.contains("value=\"short\""),
        "passwords are never echoed"
    );
    let r = app
        .post(
            "/admin/staff",
            &admin,
            &[
                ("email", "new.nurse@test.example"),
                ("full_name", "New Nurse"),
                ("role", "nurse"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .post(
            "/admin/staff",
            &admin,
            &[
                ("email", "new.nurse@test.example"),
                ("full_name", "Again"),
                ("role", "nurse"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let login = app
        .post_public(
            "/login",
            &[("email", "new.nurse@test.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);

    let patient = app.patient("Audited Person").await;
    let nurse = app.browser(Role::Nurse).await;
    app.get(&format!("/patients/{patient}"), Some(&nurse)).await;
    let log = app
        .get(&format!("/admin/audit?patient={patient}"), Some(&admin))
        .await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.body.contains("patient.read") && log.body.contains("patient.create"));
    assert!(log.body.contains("Test Nurse"));
    let odd = app
        .get("/admin/audit?before=abc&patient=xyz", Some(&admin))
        .await;
    assert_eq!(
        odd.status,
        StatusCode::OK,
        "odd filters are ignored, not an error page"
    );
    // Admins cannot lock themselves out.
    let r = app
        .post(
            &format!("/admin/staff/{}", admin.staff_id),
            &admin,
            &[("role", "nurse"), ("active", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn admin_creates_and_revokes_an_api_token_shown_once() {
    let app = TestApp::new().await;
    let admin = app.browser(Role::Admin).await;
    let nurse = app.staff(Role::Nurse).await;
    let r = app
        .post(
            &format!("/admin/staff/{nurse}/tokens"),
            &admin,
            &[("label", "vitals monitor")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let token = r
        .body
        .split("kap_")
        .nth(1)
        .and_then(|s| s.get(..64))
        .map(|s| format!("kap_{s}"))
        .expect("token shown");
    assert_eq!(
        app.api("GET", "/api/v1/patients", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    let page = app
        .get(&format!("/admin/staff/{nurse}"), Some(&admin))
        .await;
    assert!(!page.body.contains(&token), "shown only once");
    let tid = app
        .store
        .api_tokens_of(app.clinic, nurse)
        .await
        .expect("tokens")[0]
        .id;
    let r = app
        .post(
            &format!("/admin/staff/{nurse}/tokens/{tid}/revoke"),
            &admin,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.api("GET", "/api/v1/patients", Some(&token), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn crisis_resources_are_clinic_settings() {
    let app = TestApp::new().await;
    let admin = app.browser(Role::Admin).await;
    let r = app
        .post(
            "/admin/clinic",
            &admin,
            &[
                ("name", "Harbour Clinic"),
                ("crisis_resources", "Call Samaritans on 116 123 (UK)."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app.get("/contact", None).await;
    assert!(page.body.contains("Samaritans on 116 123") && page.body.contains("Harbour Clinic"));
    let r = app
        .post(
            "/admin/clinic",
            &admin,
            &[("name", ""), ("crisis_resources", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn staff_in_two_clinics_switch_between_them() {
    let app = TestApp::new().await;
    let other = app
        .store
        .create_clinic("North site", "north")
        .await
        .expect("clinic");
    let nurse = app.browser(Role::Nurse).await;
    app.store
        .grant_membership(&Actor::system(), nurse.staff_id, other.id, Role::Prescriber)
        .await
        .expect("grant");
    let here = app.patient("Home Site Patient").await;
    let page = app.get("/account", Some(&nurse)).await;
    assert!(page.body.contains("Work in North site"));
    let r = app
        .post(
            "/account/clinic",
            &nurse,
            &[("clinic", &other.id.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let home = app.get("/", Some(&nurse)).await;
    assert!(home.body.contains("Prescriber · North site"));
    assert_eq!(
        app.get(&format!("/patients/{here}"), Some(&nurse))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A clinic the person does not belong to cannot be switched to.
    let foreign = app
        .store
        .create_clinic("South", "south")
        .await
        .expect("clinic");
    let r = app
        .post(
            "/account/clinic",
            &nurse,
            &[("clinic", &foreign.id.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
