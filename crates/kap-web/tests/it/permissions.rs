//! Walks every route the capabilities declare (`kap_web::routes()`) as every role and as an
//! anonymous visitor, and checks that the permission table's answer is what the route gives.

use super::*;
use kap_domain::permission::allows;
use kap_web::http::Access;

fn fill(path: &str, patient: Uuid, inquiry: Uuid, staff: Uuid) -> String {
    // The API names its ids `{id}`; which record it is follows from the path.
    let id = if path.contains("/inquiries/") {
        inquiry
    } else {
        patient
    };
    path.replace("{patient}", &patient.to_string())
        .replace("{inquiry}", &inquiry.to_string())
        .replace("{staff}", &staff.to_string())
        .replace("{id}", &id.to_string())
        .replace("{file}", "style.css")
        .replace("{token}", &Uuid::now_v7().to_string())
        .replace("{alert}", &Uuid::now_v7().to_string())
        .replace("{schedule}", &Uuid::now_v7().to_string())
}

fn denied(status: StatusCode) -> bool {
    status == StatusCode::FORBIDDEN
}

fn sent_to_login(r: &Reply) -> bool {
    r.status == StatusCode::SEE_OTHER && r.location() == "/login"
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_permission_table_says() {
    let app = TestApp::new().await;
    let patient = app.patient("Walk Patient").await;
    let inquiry = app.inquiry("Walk Inquirer").await;
    let target_staff = app.staff(Role::Nurse).await;
    let mut failures = vec![];
    let routes = kap_web::routes();
    assert!(routes.specs().len() >= 56, "{}", routes.specs().len());
    for route in routes.specs() {
        let path = fill(&route.path, patient, inquiry, target_staff);
        // Anonymous.
        let r = if route.api {
            app.api(route.method, &path, None, None).await
        } else if route.method == "GET" {
            app.get(&path, None).await
        } else {
            app.post_public(&path, &[]).await
        };
        let ok = match route.access {
            Access::Public => {
                !denied(r.status) && r.status != StatusCode::UNAUTHORIZED || route.path == "/login"
            }
            Access::SignedIn | Access::Needs(_) if route.api => {
                r.status == StatusCode::UNAUTHORIZED
            }
            Access::SignedIn | Access::Needs(_) => sent_to_login(&r),
        };
        if !ok {
            failures.push(format!(
                "anonymous {} {} -> {}",
                route.method, route.path, r.status
            ));
        }
        // Each role, with a fresh session or token so that logging out does not spoil the next.
        for role in Role::ALL {
            let expect_allowed = match route.access {
                Access::Public | Access::SignedIn => true,
                Access::Needs(a) => allows(role, a),
            };
            let r = if route.api {
                let token = app.api_token(role).await;
                let body = (route.method != "GET").then(|| serde_json::json!({}));
                app.api(route.method, &path, Some(&token), body).await
            } else {
                let b = app.browser(role).await;
                if route.method == "GET" {
                    app.get(&path, Some(&b)).await
                } else if route.access == Access::Public {
                    app.post_public(&path, &[]).await
                } else {
                    app.post(&path, &b, &[]).await
                }
            };
            let got_allowed =
                !denied(r.status) && !sent_to_login(&r) && r.status != StatusCode::UNAUTHORIZED;
            // Public routes and logging out answer signed-in callers however they like (a
            // failed login, a redirect to the login page after logout) — but never "forbidden".
            let ok = if matches!(route.access, Access::Public | Access::SignedIn) {
                !denied(r.status)
            } else {
                got_allowed == expect_allowed
            };
            if !ok {
                failures.push(format!(
                    "{role} {} {} -> {} (expected {})",
                    route.method,
                    route.path,
                    r.status,
                    if expect_allowed { "allowed" } else { "denied" }
                ));
            }
            assert_ne!(
                r.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{role} {} {}: {}",
                route.method,
                route.path,
                r.body
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn every_route_in_the_router_is_in_the_table() {
    // A route is declared with its access rule in one call, so the router and the walk above
    // read the same list; these probes check the list reaches the router.
    let app = TestApp::new().await;
    let admin = app.browser(Role::Admin).await;
    let routes = kap_web::routes();
    for probe in [
        "/patients/new",
        "/admin/clinic",
        "/admin/audit",
        "/inquiries",
    ] {
        assert!(routes.specs().iter().any(|r| r.path == probe), "{probe}");
        assert_eq!(
            app.get(probe, Some(&admin)).await.status,
            StatusCode::OK,
            "{probe}"
        );
    }
    assert_eq!(
        app.get("/no/such/page", Some(&admin)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn staff_never_see_another_clinics_patients() {
    let app = TestApp::new().await;
    let other = app
        .store
        .create_clinic("Other site", "other")
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
    assert!(!r.body.contains("Hidden Person"));
    let r = app.get("/patients?q=hidden", Some(&nurse)).await;
    assert!(!r.body.contains("Hidden Person"));
    let token = app.api_token(Role::Nurse).await;
    let r = app
        .api(
            "GET",
            &format!("/api/v1/patients/{theirs}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The same answer as for an id that exists nowhere.
    let r2 = app
        .api(
            "GET",
            &format!("/api/v1/patients/{}", Uuid::now_v7()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.body, r2.body);
}

#[tokio::test]
async fn therapist_is_refused_the_audit_log() {
    let app = TestApp::new().await;
    let t = app.browser(Role::Therapist).await;
    let r = app.get("/admin/audit", Some(&t)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("Not allowed"));
}
