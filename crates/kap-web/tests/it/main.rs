//! HTTP tests through the router in-process (no sockets). The backend is SQLite unless
//! `KAPSTONE_TEST_DB=postgres` (with `KAPSTONE_TEST_PG_URL`), so CI runs the same tests on both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account;
mod api;
mod checkin;
mod consent;
mod course;
mod dosing;
mod first_week;
mod hardening;
mod measure;
mod notes;
mod pages;
mod permissions;
mod screening;
mod security;
mod team;
mod timeline;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use kap_domain::Role;
use kap_store::{Actor, Store};
use tower::ServiceExt;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub router: Router,
    pub store: Store,
    pub clinic: Uuid,
    pub config: kap_web::WebConfig,
}

/// A signed-in browser: its session cookie and the CSRF token its forms carry.
#[derive(Clone)]
pub struct Browser {
    pub staff_id: Uuid,
    pub cookie: String,
    pub csrf: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

fn backend() -> String {
    std::env::var("KAPSTONE_TEST_DB").unwrap_or_else(|_| "sqlite".into())
}

/// One password hash shared by every test account: hashing is deliberately slow.
fn password_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| kap_web::http::auth::hash_password(PASSWORD).expect("hash"))
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_config(kap_web::WebConfig {
            contact_per_hour: 1000,
            ..Default::default()
        })
        .await
    }

    pub async fn with_config(config: kap_web::WebConfig) -> TestApp {
        let store = kap_store::testing::store(&backend()).await.expect("store");
        let clinic = store.default_clinic().await.expect("clinic").id;
        TestApp {
            router: kap_web::app(store.clone(), config.clone()),
            store,
            clinic,
            config,
        }
    }

    pub async fn staff(&self, role: Role) -> Uuid {
        self.staff_in(self.clinic, role).await
    }

    pub async fn staff_in(&self, clinic: Uuid, role: Role) -> Uuid {
        let email = format!(
            "{}-{}@test.example",
            role.as_str(),
            &Uuid::now_v7().simple().to_string()[20..]
        );
        self.store
            .create_staff(
                &Actor::system(),
                kap_store::staff::NewStaff {
                    email: &email,
                    full_name: &format!("Test {}", role.label()),
                    password_hash: password_hash(),
                    clinic_id: clinic,
                    role,
                },
            )
            .await
            .expect("staff")
    }

    /// A browser signed in as a new staff member of the given role.
    pub async fn browser(&self, role: Role) -> Browser {
        let id = self.staff(role).await;
        self.browser_for(id, self.clinic).await
    }

    pub async fn browser_for(&self, staff_id: Uuid, clinic: Uuid) -> Browser {
        let token = self
            .store
            .start_session(staff_id, clinic, None, None, self.config.session)
            .await
            .expect("session");
        let p = self
            .store
            .session_principal(&token, self.config.session)
            .await
            .expect("lookup")
            .expect("live");
        Browser {
            staff_id,
            cookie: format!("kap_session={token}"),
            csrf: p.csrf_token.unwrap_or_default(),
        }
    }

    /// Sends a request as if it came over the network from `peer`.
    pub async fn send_from(&self, peer: &str, mut req: Request<Body>) -> Reply {
        let addr: std::net::SocketAddr = peer.parse().expect("peer address");
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res: Response<Body> = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, who: Option<&Browser>) -> Reply {
        let mut r = Request::get(path);
        if let Some(b) = who {
            r = r.header(header::COOKIE, &b.cookie);
        }
        self.send(r.body(Body::empty()).expect("request")).await
    }

    /// Posts a form as a signed-in browser, with its CSRF token.
    pub async fn post(&self, path: &str, who: &Browser, fields: &[(&str, &str)]) -> Reply {
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", who.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, Some(&who.cookie), &all).await
    }

    /// Posts a public form (login, contact) with a pre-session CSRF cookie and token.
    pub async fn post_public(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let token = "a".repeat(64);
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, Some(&format!("kap_csrf={token}")), &all)
            .await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        cookie: Option<&str>,
        fields: &[(&str, &str)],
    ) -> Reply {
        let body = serde_urlencoded::to_string(fields).expect("form");
        let mut r =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            r = r.header(header::COOKIE, c);
        }
        self.send(r.body(Body::from(body)).expect("request")).await
    }

    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let mut r = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                r = r.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(r.body(body).expect("request")).await
    }

    pub async fn api_token(&self, role: Role) -> String {
        let id = self.staff(role).await;
        self.store
            .create_api_token(&Actor::system(), id, self.clinic, "test")
            .await
            .expect("token")
            .1
    }

    pub async fn patient(&self, name: &str) -> Uuid {
        let d = kap_domain::patient::PatientForm {
            full_name: name.into(),
            date_of_birth: "1984-03-02".into(),
            phone: "+1 555 0100 2000".into(),
            ..Default::default()
        }
        .parse(chrono::Utc::now().date_naive())
        .expect("details");
        self.store
            .create_patient(&Actor::system(), self.clinic, &d)
            .await
            .expect("patient")
    }

    pub async fn inquiry(&self, name: &str) -> Uuid {
        let s = kap_domain::inquiry::ContactForm {
            name: name.into(),
            email: "someone@example.org".into(),
            preferred_contact: "email".into(),
            message: "Hello".into(),
            consent: Some("yes".into()),
            ..Default::default()
        }
        .parse()
        .expect("submission");
        self.store
            .submit_inquiry(&Actor::visitor(self.clinic, None), self.clinic, &s)
            .await
            .expect("inquiry")
    }

    /// Actions recorded in the clinic's audit trail, oldest first.
    pub async fn audit_actions(&self) -> Vec<String> {
        self.audit_actions_in(kap_store::audit::AuditScope::Clinic(self.clinic))
            .await
    }

    /// Actions recorded in the installation's own audit rows (no clinic), oldest first.
    pub async fn system_audit_actions(&self) -> Vec<String> {
        self.audit_actions_in(kap_store::audit::AuditScope::System)
            .await
    }

    async fn audit_actions_in(&self, scope: kap_store::audit::AuditScope) -> Vec<String> {
        let f = kap_store::audit::AuditFilter {
            limit: 10_000,
            ..Default::default()
        };
        let mut rows = self
            .store
            .audit_rows(&Actor::system(), scope, &f)
            .await
            .expect("audit");
        rows.reverse();
        if matches!(scope, kap_store::audit::AuditScope::Clinic(_)) {
            rows.pop(); // as this helper always has: the newest row is left out
        }
        rows.into_iter().map(|r| r.action).collect()
    }
}
