//! CSRF, cross-site refusal, headers, body limits, login throttling, sessions.

use super::*;

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused_and_change_nothing() {
    let app = TestApp::new().await;
    let c = app.browser(Role::Coordinator).await;
    let fields = [
        ("full_name", "Csrf Victim"),
        ("date_of_birth", "1980-01-01"),
    ];
    let r = app.post_raw("/patients", Some(&c.cookie), &fields).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut wrong = fields.to_vec();
    wrong.push(("csrf_token", "0000"));
    let r = app.post_raw("/patients", Some(&c.cookie), &wrong).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let found = app.get("/patients?q=csrf", Some(&c)).await;
    assert!(!found.body.contains("Csrf Victim"));
}

#[tokio::test]
async fn cross_site_posts_are_refused_even_with_a_token() {
    let app = TestApp::new().await;
    let c = app.browser(Role::Coordinator).await;
    let body = format!(
        "csrf_token={}&full_name=X+Y&date_of_birth=1980-01-01",
        c.csrf
    );
    for (h, v) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let req = Request::post("/patients")
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::COOKIE, &c.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(h, v)
            .body(Body::from(body.clone()))
            .expect("req");
        assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN, "{h}");
    }
    // The same post from the app's own origin goes through.
    let req = Request::post("/patients")
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::ORIGIN, "http://127.0.0.1:8080")
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, &c.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("req");
    assert_eq!(app.send(req).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn pages_carry_strict_security_headers() {
    let app = TestApp::new().await;
    let r = app.get("/contact", None).await;
    let csp = r
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(
        r.headers
            .get(header::X_CONTENT_TYPE_OPTIONS)
            .map(|v| v.as_bytes()),
        Some(&b"nosniff"[..])
    );
    assert_eq!(
        r.headers.get(header::REFERRER_POLICY).map(|v| v.as_bytes()),
        Some(&b"no-referrer"[..])
    );
    assert!(!r.body.contains("<script>"), "no inline script");
    assert!(
        r.body.contains("integrity=\"sha384-"),
        "htmx is loaded with SRI"
    );
}

#[tokio::test]
async fn vendored_htmx_matches_its_integrity_hash() {
    use base64::Engine;
    use sha2::Digest;
    let app = TestApp::new().await;
    let r = app.get(kap_web::http::view::HTMX_PATH, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let digest = sha2::Sha384::digest(r.body.as_bytes());
    let sri = format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    );
    assert_eq!(sri, *kap_web::http::view::HTMX_SRI);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::new().await;
    let c = app.browser(Role::Coordinator).await;
    let huge = "x".repeat(200 * 1024);
    let r = app.post("/patients", &c, &[("full_name", &huge)]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let token = app.api_token(Role::Coordinator).await;
    let r = app
        .api(
            "POST",
            "/api/v1/patients",
            Some(&token),
            Some(serde_json::json!({"full_name": huge})),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn login_sets_a_session_and_wrong_passwords_get_one_uniform_message() {
    let app = TestApp::new().await;
    let id = app.staff(Role::Nurse).await;
    let email = app
        .store
        .staff_of_clinic(app.clinic)
        .await
        .expect("staff")
        .into_iter()
        .find(|s| s.id == id)
        .expect("me")
        .email;
    for (e, p) in [
        (email.as_str(), "wrong password entirely"),
        ("nobody@test.example", PASSWORD),
    ] {
        let r = app
            .post_public("/login", &[("email", e), ("password", p)])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("Email or password is incorrect."));
        assert!(
            r.headers
                .get(header::SET_COOKIE)
                .is_none_or(|c| !c.to_str().unwrap_or("").starts_with("kap_session="))
        );
    }
    let r = app
        .post_public(
            "/login",
            &[("email", &email.to_uppercase()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let set = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("kap_session="))
        .expect("cookie")
        .to_owned();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"));
    let cookie = set.split(';').next().expect("pair").to_owned();
    let home = app
        .send(
            Request::get("/")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("<h1>Home</h1>"));
    // Failed logins belong to no clinic: they are the installation's own rows.
    let system = app.system_audit_actions().await;
    assert!(system.iter().filter(|a| *a == "login.failure").count() == 2);
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"login.success".to_owned()));
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_while() {
    let app = TestApp::new().await;
    let id = app.staff(Role::Nurse).await;
    let email = app
        .store
        .staff_of_clinic(app.clinic)
        .await
        .expect("staff")
        .into_iter()
        .find(|s| s.id == id)
        .expect("me")
        .email;
    for _ in 0..app.config.max_failures_per_account {
        app.post_public(
            "/login",
            &[("email", &email), ("password", "not the password at all")],
        )
        .await;
    }
    let r = app
        .post_public("/login", &[("email", &email), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("Too many failed attempts"));
}

#[tokio::test]
async fn logout_ends_the_session_and_deactivation_ends_all() {
    let app = TestApp::new().await;
    let b = app.browser(Role::Therapist).await;
    assert_eq!(app.get("/", Some(&b)).await.status, StatusCode::OK);
    let r = app.post("/logout", &b, &[]).await;
    assert_eq!(r.location(), "/login");
    assert_eq!(app.get("/", Some(&b)).await.location(), "/login");

    let admin = app.browser(Role::Admin).await;
    let nurse = app.browser(Role::Nurse).await;
    let r = app
        .post(
            &format!("/admin/staff/{}", nurse.staff_id),
            &admin,
            &[("role", "nurse")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/", Some(&nurse)).await.location(), "/login");
}
