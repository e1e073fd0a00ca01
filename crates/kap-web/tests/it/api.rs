//! The JSON API: bearer tokens, problem documents naming the field, and the OpenAPI document.

use super::*;
use serde_json::json;

#[tokio::test]
async fn api_needs_a_live_bearer_token() {
    let app = TestApp::new().await;
    let r = app.api("GET", "/api/v1/patients", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()),
        Some(&b"application/problem+json"[..])
    );
    assert_eq!(r.json()["status"], 401);
    let r = app
        .api("GET", "/api/v1/patients", Some("kap_wrong"), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn patients_are_created_searched_read_and_updated() {
    let app = TestApp::new().await;
    let token = app.api_token(Role::Coordinator).await;
    let r = app.api("POST", "/api/v1/patients", Some(&token), Some(json!({"full_name": "Mei Tanaka", "date_of_birth": "1988-07-01", "email": "mei@example.org"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["patient"]["id"].as_str().expect("id").to_owned();
    let r = app
        .api("GET", "/api/v1/patients?q=tanaka", Some(&token), None)
        .await;
    assert_eq!(r.json()["items"][0]["full_name"], "Mei Tanaka");
    let r = app
        .api("GET", &format!("/api/v1/patients/{id}"), Some(&token), None)
        .await;
    assert_eq!(r.json()["patient"]["email"], "mei@example.org");
    let r = app
        .api(
            "PUT",
            &format!("/api/v1/patients/{id}"),
            Some(&token),
            Some(json!({"full_name": "Mei Tanaka-Ross", "date_of_birth": "1988-07-01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["patient"]["full_name"], "Mei Tanaka-Ross");
    assert_eq!(r.json()["patient"]["email"], serde_json::Value::Null);
}

#[tokio::test]
async fn bad_input_is_a_problem_naming_the_field_and_changes_nothing() {
    let app = TestApp::new().await;
    let token = app.api_token(Role::Coordinator).await;
    let r = app
        .api(
            "POST",
            "/api/v1/patients",
            Some(&token),
            Some(json!({"full_name": "Ok Name", "date_of_birth": "1988-13-45"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "date_of_birth");
    let r = app
        .api(
            "POST",
            "/api/v1/patients",
            Some(&token),
            Some(json!({"full_name": 42})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "body");
    let r = app.api("GET", "/api/v1/patients", Some(&token), None).await;
    assert_eq!(r.json()["items"].as_array().map(Vec::len), Some(0));
    let r = app
        .api("GET", "/api/v1/inquiries?status=bogus", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "status");
}

#[tokio::test]
async fn inquiries_are_worked_and_converted_over_the_api() {
    let app = TestApp::new().await;
    let token = app.api_token(Role::Coordinator).await;
    let iid = app.inquiry("Kofi Osei").await;
    let r = app
        .api("GET", "/api/v1/inquiries?status=new", Some(&token), None)
        .await;
    assert_eq!(r.json()["items"][0]["name"], "Kofi Osei");
    let r = app
        .api(
            "PATCH",
            &format!("/api/v1/inquiries/{iid}"),
            Some(&token),
            Some(json!({"status": "contacted", "note": "Emailed"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["notes"][0]["body"], "Emailed");
    let r = app
        .api(
            "PATCH",
            &format!("/api/v1/inquiries/{iid}"),
            Some(&token),
            Some(json!({"status": "converted"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .api(
            "POST",
            &format!("/api/v1/inquiries/{iid}/convert"),
            Some(&token),
            Some(json!({"full_name": "Kofi Osei", "date_of_birth": "1975-02-03"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .api(
            "POST",
            &format!("/api/v1/inquiries/{iid}/convert"),
            Some(&token),
            Some(json!({"full_name": "Kofi Osei", "date_of_birth": "1975-02-03"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // A therapist's token may not read the inbox.
    let t = app.api_token(Role::Therapist).await;
    assert_eq!(
        app.api("GET", "/api/v1/inquiries", Some(&t), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn openapi_document_is_served_and_stable() {
    let app = TestApp::new().await;
    let r = app.get("/api/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["paths"]["/api/v1/patients"]["get"].is_object());
    insta::assert_snapshot!("openapi", r.body);
}
