//! Security hardening, each finding of the attacker's review as a test: risk results in the
//! audit log, throttling behind a proxy, clinic-scoped intake limits, headers on every answer,
//! content types, direction-override characters, refused access in the audit trail.

use super::*;
use kap_domain::audit::AuditAction;
use serde_json::json;

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).expect("form")
}

/// A login attempt from `client` (as the proxy says) through the proxy at 127.0.0.1.
async fn login_via_proxy(app: &TestApp, client: &str, email: &str, password: &str) -> Reply {
    let token = "b".repeat(64);
    let body = form(&[
        ("csrf_token", &token),
        ("email", email),
        ("password", password),
    ]);
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("kap_csrf={token}"))
        .header("x-forwarded-for", client)
        .body(Body::from(body))
        .expect("req");
    app.send_from("127.0.0.1:40000", req).await
}

#[tokio::test]
async fn an_administrator_reads_no_risk_results_in_the_audit_log() {
    let app = TestApp::new().await;
    let token = app.api_token(Role::Nurse).await;
    let patient = app.patient("Risk Person").await;
    let answers = [
        (
            "phq9",
            json!({"1": 3, "2": 3, "3": 3, "4": 3, "5": 3, "6": 3, "7": 3, "8": 3, "9": 3}),
        ),
        ("asq", json!({"1": 1, "2": 0, "3": 0, "4": 0, "5": 1})),
        ("asq", json!({"1": 1, "2": 0, "3": 0, "4": 0, "5": 0})),
        (
            "phq9",
            json!({"1": 0, "2": 0, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0, "8": 0, "9": 1}),
        ),
    ];
    for (ins, a) in answers {
        let r = app
            .api(
                "POST",
                &format!("/api/v1/patients/{patient}/responses"),
                Some(&token),
                Some(json!({"instrument": ins, "context": "between_sessions", "answers": a})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let prescriber = app.browser(Role::Prescriber).await;
    let open = app
        .store
        .open_alerts(&Actor::system(), app.clinic)
        .await
        .expect("alerts");
    assert_eq!(open.len(), 4);
    let r = app
        .post(
            &format!("/alerts/{}/acknowledge", open[0].id),
            &prescriber,
            &[("action_note", "Called; safe.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    app.get(&format!("/patients/{patient}"), Some(&prescriber))
        .await;
    app.get("/", Some(&prescriber)).await;

    let admin = app.browser(Role::Admin).await;
    let page = app.get("/admin/audit", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    let table = page.body.split("<tbody>").nth(1).expect("rows");
    for written in [
        "response.create",
        "alert.raise",
        "alert.acknowledge",
        "response.read",
        "alert.list",
    ] {
        assert!(table.contains(written), "{written} is listed");
    }
    for answer in [
        "urgent",
        "critical",
        "high",
        "phq9_self_harm",
        "asq_positive",
        "asq_acute_positive",
        "acute positive",
        "Severe",
        "total",
    ] {
        assert!(
            !table.contains(answer),
            "an administrator reads \"{answer}\""
        );
    }
    assert!(table.contains("(not shown to your role)"));
    // What a clinician may see of the same rows still names no result.
    let rows = app
        .store
        .audit_rows(
            &Actor::system(),
            kap_store::audit::AuditScope::Clinic(app.clinic),
            &kap_store::audit::AuditFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .expect("rows");
    for r in rows.iter().filter(|r| r.action == "alert.raise") {
        assert_eq!(
            r.detail, "",
            "the row names the alert (its record), nothing more"
        );
        assert_eq!(r.record_kind.as_deref(), Some("alert"));
    }
}

#[tokio::test]
async fn every_audit_action_shows_an_administrator_only_what_it_may() {
    // Every action the trail knows, and whether an administrator reads its detail.
    for a in AuditAction::ALL {
        let shown = a.detail_for(Role::Admin, "x").is_some();
        assert_eq!(shown, !a.about_clinical_content(), "{a}");
        for clinician in [Role::Prescriber, Role::Nurse, Role::Therapist] {
            assert!(a.detail_for(clinician, "x").is_some(), "{a}");
        }
        assert_eq!(a.detail_for(Role::Coordinator, "x").is_some(), shown, "{a}");
    }
}

#[tokio::test]
async fn behind_a_proxy_one_address_cannot_lock_out_every_login() {
    let app = TestApp::with_config(kap_web::WebConfig {
        trusted_proxies: kap_web::http::client::parse_trusted(&["127.0.0.1".into()])
            .expect("proxies"),
        slow_after_address_failures: 23,
        ..Default::default()
    })
    .await;
    let victim = app.staff(Role::Nurse).await;
    let victim_email = app
        .store
        .staff_member(app.clinic, victim)
        .await
        .expect("victim")
        .email;
    for i in 0..25 {
        let r = login_via_proxy(
            &app,
            "203.0.113.5",
            &format!("nobody{i}@test.example"),
            "wrong wrong wrong",
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // The failures are the attacker's address, not the proxy's.
    let rows = app
        .store
        .audit_rows(
            &Actor::system(),
            kap_store::audit::AuditScope::System,
            &kap_store::audit::AuditFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("rows");
    assert!(
        rows.iter()
            .filter(|r| r.action == "login.failure")
            .all(|r| r.address.as_deref() == Some("203.0.113.5"))
    );
    // Someone else behind the same proxy logs in at once.
    let r = login_via_proxy(&app, "198.51.100.9", &victim_email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Even from the noisy address, the right password gets in (slowed, not locked).
    let r = login_via_proxy(&app, "203.0.113.5", &victim_email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // A client that talks to Kapstone directly cannot claim another address.
    let token = "c".repeat(64);
    let body = form(&[
        ("csrf_token", &token),
        ("email", "x@y.example"),
        ("password", "nope nope nope nope"),
    ]);
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("kap_csrf={token}"))
        .header("x-forwarded-for", "192.0.2.77")
        .body(Body::from(body))
        .expect("req");
    app.send_from("198.51.100.200:5000", req).await;
    let rows = app
        .store
        .audit_rows(
            &Actor::system(),
            kap_store::audit::AuditScope::System,
            &kap_store::audit::AuditFilter {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .expect("rows");
    assert_eq!(rows[0].address.as_deref(), Some("198.51.100.200"));
}

#[tokio::test]
async fn one_clinics_intake_limit_never_closes_another_clinics_form() {
    let app = TestApp::with_config(kap_web::WebConfig {
        contact_per_hour: 5,
        ..Default::default()
    })
    .await;
    app.store
        .create_clinic("North", "north")
        .await
        .expect("clinic");
    let fields = |clinic: &'static str| {
        [
            ("name", "Pat Sender"),
            ("email", "pat@example.org"),
            ("preferred_contact", "email"),
            ("message", "Hello"),
            ("consent", "yes"),
            ("clinic", clinic),
        ]
    };
    for _ in 0..5 {
        let r = app.post_public("/contact", &fields("main")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    let r = app.post_public("/contact", &fields("main")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let r = app.post_public("/contact", &fields("north")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

fn has_security_headers(r: &Reply) -> bool {
    r.headers.contains_key(header::CONTENT_SECURITY_POLICY)
        && r.headers
            .get(header::X_CONTENT_TYPE_OPTIONS)
            .map(|v| v.as_bytes())
            == Some(b"nosniff")
        && r.headers.contains_key(header::REFERRER_POLICY)
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_https_adds_hsts() {
    let app = TestApp::with_config(kap_web::WebConfig {
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    let cross_site = Request::post("/contact")
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .expect("req");
    let answers = [
        app.get("/no/such/page", None).await,
        app.get("/static/style.css", None).await,
        app.get("/contact", None).await,
        app.send(cross_site).await,
        app.api("GET", "/api/v1/patients", None, None).await,
    ];
    for r in &answers {
        assert!(has_security_headers(r), "{} lacks headers", r.status);
        assert_eq!(
            r.headers
                .get(header::STRICT_TRANSPORT_SECURITY)
                .and_then(|v| v.to_str().ok()),
            Some("max-age=31536000; includeSubDomains")
        );
    }
    assert_eq!(answers[3].status, StatusCode::FORBIDDEN);
    let plain = TestApp::new().await;
    let r = plain.get("/contact", None).await;
    assert!(
        !r.headers.contains_key(header::STRICT_TRANSPORT_SECURITY),
        "no HSTS over plain HTTP"
    );
}

#[tokio::test]
async fn the_api_takes_json_only() {
    let app = TestApp::new().await;
    let token = app.api_token(Role::Coordinator).await;
    for (kind, body) in [
        (
            "text/plain",
            r#"{"full_name":"Text Plain","date_of_birth":"1980-01-01"}"#,
        ),
        (
            "application/x-www-form-urlencoded",
            "full_name=Form+Body&date_of_birth=1980-01-01",
        ),
        ("multipart/form-data; boundary=x", "--x--"),
    ] {
        let req = Request::post("/api/v1/patients")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, kind)
            .body(Body::from(body))
            .expect("req");
        let r = app.send(req).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{kind}");
        assert_eq!(
            r.headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
    }
    let found = app
        .api("GET", "/api/v1/patients?q=body", Some(&token), None)
        .await;
    assert_eq!(
        found.json()["items"].as_array().map(Vec::len),
        Some(0),
        "nothing stored"
    );
    let doc = app.get("/api/openapi.json", None).await.json();
    let get_patient = &doc["paths"]["/api/v1/patients/{id}"]["get"]["responses"];
    for code in ["401", "403", "404"] {
        assert!(
            get_patient[code]["content"]["application/problem+json"].is_object(),
            "{code}"
        );
    }
    assert!(doc["paths"]["/api/v1/patients"]["post"]["responses"]["415"].is_object());
}

#[tokio::test]
async fn names_with_direction_overrides_are_refused_with_a_clear_message() {
    let app = TestApp::new().await;
    let coord = app.browser(Role::Coordinator).await;
    let r = app
        .post(
            "/patients",
            &coord,
            &[
                ("full_name", "Ali\u{202E}ecila"),
                ("date_of_birth", "1980-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("invisible text-direction characters"),
        "{}",
        r.body
    );
    let token = app.api_token(Role::Coordinator).await;
    let r = app
        .api(
            "POST",
            "/api/v1/patients",
            Some(&token),
            Some(json!({"full_name": "Bob\u{2066}x\u{2069}", "date_of_birth": "1980-01-01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "full_name");
}

#[tokio::test]
async fn refused_access_is_audited_and_a_flood_is_capped() {
    let app = TestApp::new().await;
    let other = app
        .store
        .create_clinic("Other site", "other-site")
        .await
        .expect("clinic");
    let theirs = {
        let d = kap_domain::patient::PatientForm {
            full_name: "Hidden Person".into(),
            date_of_birth: "1970-01-01".into(),
            ..Default::default()
        }
        .parse(chrono::Utc::now().date_naive())
        .expect("d");
        app.store
            .create_patient(&Actor::system(), other.id, &d)
            .await
            .expect("p")
    };
    let nurse = app.browser(Role::Nurse).await;
    let r = app.get(&format!("/patients/{theirs}"), Some(&nurse)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get("/admin/audit", Some(&nurse)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let refused: Vec<_> = app
        .store
        .audit_rows(
            &Actor::system(),
            kap_store::audit::AuditScope::Clinic(app.clinic),
            &kap_store::audit::AuditFilter {
                actor_id: Some(nurse.staff_id),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("rows")
        .into_iter()
        .filter(|r| r.action == "access.refused")
        .collect();
    assert_eq!(refused.len(), 2);
    assert!(refused.iter().any(
        |r| r.record_id == Some(theirs) && r.detail == format!("GET /patients/{theirs} -> 404")
    ));
    assert!(
        refused
            .iter()
            .any(|r| r.detail == "GET /admin/audit -> 403")
    );
    for _ in 0..20 {
        app.get("/admin/audit", Some(&nurse)).await;
    }
    let refused = app
        .store
        .audit_rows(
            &Actor::system(),
            kap_store::audit::AuditScope::Clinic(app.clinic),
            &kap_store::audit::AuditFilter {
                actor_id: Some(nurse.staff_id),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("rows")
        .into_iter()
        .filter(|r| r.action == "access.refused")
        .count();
    assert_eq!(refused, 10, "at most ten a minute");
}

/// Makes the database refuse audit rows of one action, as a full disk or a broken constraint
/// would refuse a batch.
async fn refuse_audit_rows_of(app: &TestApp, action: &str) {
    let sql: &[String] = match &app.store.db {
        kap_store::Db::Sqlite(..) => &[format!(
            "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_event
             WHEN NEW.action = '{action}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )],
        kap_store::Db::Postgres(_) => &[
            format!(
                "CREATE FUNCTION audit_refused() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN IF NEW.action = '{action}' THEN RAISE EXCEPTION 'refused'; END IF;
                 RETURN NEW; END $$"
            ),
            "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_event
             FOR EACH ROW EXECUTE FUNCTION audit_refused()"
                .to_owned(),
        ],
    };
    for s in sql {
        kap_store::on_db!(&app.store.db, |p| sqlx::query(sqlx::AssertSqlSafe(
            s.as_str()
        ))
        .execute(p)
        .await
        .expect("trigger")
        .rows_affected());
    }
}

async fn allow_audit_rows_again(app: &TestApp) {
    let sql = match &app.store.db {
        kap_store::Db::Sqlite(..) => "DROP TRIGGER audit_refused",
        kap_store::Db::Postgres(_) => "DROP TRIGGER audit_refused ON audit_event",
    };
    kap_store::on_db!(&app.store.db, |p| sqlx::query(sql)
        .execute(p)
        .await
        .expect("drop trigger")
        .rows_affected());
}

#[tokio::test]
async fn a_page_or_api_read_whose_audit_rows_cannot_be_written_shows_nothing() {
    let app = TestApp::new().await;
    let patient = app.patient("Zelda Unseen").await;
    let browser = app.browser(Role::Prescriber).await;
    let token = app.api_token(Role::Prescriber).await;
    refuse_audit_rows_of(&app, "patient.read").await;

    let page = app
        .get(&format!("/patients/{patient}"), Some(&browser))
        .await;
    assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!page.body.contains("Zelda"), "{}", page.body);
    let api = app
        .api(
            "GET",
            &format!("/api/v1/patients/{patient}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(api.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!api.body.contains("Zelda"), "{}", api.body);
    assert!(
        !app.audit_actions()
            .await
            .iter()
            .any(|a| a == "patient.read"),
        "nothing was appended for the refused reads"
    );

    allow_audit_rows_again(&app).await;
    let page = app
        .get(&format!("/patients/{patient}"), Some(&browser))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Zelda Unseen"));
    assert!(
        app.audit_actions()
            .await
            .iter()
            .any(|a| a == "patient.read")
    );
    let v = app.store.verify_audit(vec![]).await.expect("verify");
    assert!(v.broken.is_none(), "{:?}", v.broken);
}
