//! Account security through the router: changing one's password, reset links, two-factor
//! sign-in (with codes computed here as an authenticator app would), and a clinic requiring it.

use super::*;
use kap_domain::two_factor::TotpKey;

/// The cookie pairs (`name=value`) a response sets.
fn set_cookies(r: &Reply) -> Vec<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next())
        .map(str::to_owned)
        .collect()
}

fn cookie_named(r: &Reply, name: &str) -> Option<String> {
    set_cookies(r)
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")) && c.len() > name.len() + 1)
}

async fn email_of(app: &TestApp, id: Uuid) -> String {
    app.store
        .staff_of_clinic(app.clinic)
        .await
        .expect("staff")
        .into_iter()
        .find(|s| s.id == id)
        .expect("member")
        .email
}

/// Posts a public form with the pre-session CSRF pair plus other cookies.
async fn post_with(app: &TestApp, path: &str, cookies: &[&str], fields: &[(&str, &str)]) -> Reply {
    let token = "a".repeat(64);
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    let mut jar = vec![format!("kap_csrf={token}")];
    jar.extend(cookies.iter().map(|c| (*c).to_owned()));
    app.post_raw(path, Some(&jar.join("; ")), &all).await
}

/// Enrols a browser's person in two-factor sign-in; returns their key and recovery codes.
async fn enrol(app: &TestApp, who: &Browser) -> (TotpKey, Vec<String>) {
    let page = app.get("/account/two-factor", Some(who)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg") && page.body.contains("QR code to scan"));
    let at = page.body.find("id=\"totp-key\">").expect("key shown") + 14;
    let end = page.body[at..].find('<').expect("end") + at;
    let key = TotpKey::from_base32(&page.body[at..end].replace(' ', "")).expect("key");
    // A wrong code keeps it off.
    let r = app
        .post("/account/two-factor", who, &[("code", "000000")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let code = key.code_at(kap_store::now()).expect("code");
    let r = app
        .post("/account/two-factor", who, &[("code", &code)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let codes: Vec<String> = r
        .body
        .split("<li>")
        .skip(1)
        .filter_map(|s| s.split("</li>").next())
        .filter(|s| s.len() == 19 && s.chars().filter(|c| *c == '-').count() == 3)
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes, shown once");
    (key, codes)
}

#[tokio::test]
async fn changing_ones_password_needs_the_current_one_and_ends_other_sessions() {
    let app = TestApp::new().await;
    let id = app.staff(Role::Nurse).await;
    let here = app.browser_for(id, app.clinic).await;
    let elsewhere = app.browser_for(id, app.clinic).await;
    let new = "a completely different passphrase";
    let r = app
        .post(
            "/account/password",
            &here,
            &[
                ("current_password", "not it at all, sorry"),
                ("new_password", new),
                ("new_password_again", new),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("That is not your current password."));
    assert!(r.body.contains("<nav"));
    let r = app
        .post(
            "/account/password",
            &here,
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("new_password_again", "a completely different passphrase!"),
            ],
        )
        .await;
    assert!(r.body.contains("The two new passwords are not the same."));
    let r = app
        .post(
            "/account/password",
            &here,
            &[
                ("current_password", PASSWORD),
                ("new_password", "password"),
                ("new_password_again", "password"),
            ],
        )
        .await;
    assert!(r.body.contains("at least 15 characters"));
    let r = app
        .post(
            "/account/password",
            &here,
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("new_password_again", new),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/", Some(&here)).await.status, StatusCode::OK);
    assert_eq!(
        app.get("/", Some(&elsewhere)).await.status,
        StatusCode::SEE_OTHER,
        "the other session ended"
    );
    let email = email_of(&app, id).await;
    let r = app
        .post_public("/login", &[("email", &email), ("password", new)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        app.audit_actions()
            .await
            .contains(&"account.password".to_owned())
    );
}

#[tokio::test]
async fn two_factor_sign_in_takes_each_code_once_and_recovery_codes_once() {
    let app = TestApp::new().await;
    let id = app.staff(Role::Prescriber).await;
    let me = app.browser_for(id, app.clinic).await;
    let (key, recovery) = enrol(&app, &me).await;
    let account = app.get("/account", Some(&me)).await;
    assert!(account.body.contains("10 recovery codes unused"));
    let email = email_of(&app, id).await;

    // The password alone no longer signs in: it leads to the code.
    let fields = [("email", email.as_str()), ("password", PASSWORD)];
    let login = || app.post_public("/login", &fields);
    let r = login().await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login/code");
    assert!(cookie_named(&r, "kap_session").is_none());
    let challenge = cookie_named(&r, "kap_2fa").expect("challenge cookie");
    let page = app
        .send(
            Request::get("/login/code")
                .header(header::COOKIE, &challenge)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert!(page.body.contains("autocomplete=\"one-time-code\""));
    let r = post_with(&app, "/login/code", &[&challenge], &[("code", "123456")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The code of a time step after enrolment's (enrolment used the current one).
    let code = key
        .code_at(kap_store::now() + chrono::Duration::seconds(30))
        .expect("code");
    let r = post_with(&app, "/login/code", &[&challenge], &[("code", &code)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let session = cookie_named(&r, "kap_session").expect("signed in");
    let home = app
        .send(
            Request::get("/")
                .header(header::COOKIE, &session)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert!(home.body.contains("<h1>Home</h1>"));
    // The same code again: refused (RFC 6238 §5.2), even with the right password.
    let r = login().await;
    let challenge = cookie_named(&r, "kap_2fa").expect("challenge");
    let again = post_with(&app, "/login/code", &[&challenge], &[("code", &code)]).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    // A recovery code works once, typed any way.
    let typed = recovery[3].to_uppercase().replace('-', " ");
    let r = post_with(&app, "/login/code", &[&challenge], &[("code", &typed)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = login().await;
    let challenge = cookie_named(&r, "kap_2fa").expect("challenge");
    let r = post_with(
        &app,
        "/login/code",
        &[&challenge],
        &[("code", &recovery[3])],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Without the password step there is nothing to give a code to.
    let r = post_with(&app, "/login/code", &[], &[("code", &recovery[4])]).await;
    assert_eq!(r.location(), "/login");
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"account.2fa_on".to_owned()));
    assert!(actions.contains(&"login.recovery".to_owned()));
}

#[tokio::test]
async fn wrong_codes_are_throttled_like_passwords() {
    let app = TestApp::new().await;
    let id = app.staff(Role::Nurse).await;
    let me = app.browser_for(id, app.clinic).await;
    let (key, _) = enrol(&app, &me).await;
    let email = email_of(&app, id).await;
    let r = app
        .post_public("/login", &[("email", &email), ("password", PASSWORD)])
        .await;
    let challenge = cookie_named(&r, "kap_2fa").expect("challenge");
    let mut last = StatusCode::OK;
    for _ in 0..app.config.max_failures_per_account {
        last = post_with(&app, "/login/code", &[&challenge], &[("code", "000000")])
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // Even the right code, and the right password, wait now.
    let code = key
        .code_at(kap_store::now() + chrono::Duration::seconds(30))
        .expect("code");
    let r = post_with(&app, "/login/code", &[&challenge], &[("code", &code)]).await;
    assert!(cookie_named(&r, "kap_session").is_none(), "not signed in");
    let r = app
        .post_public("/login", &[("email", &email), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_clinic_that_requires_two_factors_leads_its_staff_to_set_them_up() {
    let app = TestApp::new().await;
    let admin = app.browser(Role::Admin).await;
    let r = app
        .post("/admin/two-factor", &admin, &[("require", "yes")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let nurse = app.browser(Role::Nurse).await;
    let r = app.get("/patients", Some(&nurse)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/account/two-factor"));
    let page = app.get(r.location(), Some(&nurse)).await;
    assert!(
        page.body
            .contains("Your clinic requires two-factor sign-in")
    );
    assert_eq!(
        app.get("/account", Some(&nurse)).await.status,
        StatusCode::OK
    );
    // The API (tokens an administrator issued) is not a browser sign-in; unaffected.
    let token = app.api_token(Role::Nurse).await;
    assert_eq!(
        app.api("GET", "/api/v1/instruments", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    let (_, _) = enrol(&app, &nurse).await;
    assert_eq!(
        app.get("/patients", Some(&nurse)).await.status,
        StatusCode::OK
    );
    // And it cannot be turned off while the clinic requires it.
    let r = app
        .post("/account/two-factor/off", &nurse, &[("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("stays on"));
}

#[tokio::test]
async fn an_administrator_issues_a_one_time_reset_link() {
    let app = TestApp::new().await;
    let admin = app.browser(Role::Admin).await;
    let nurse_id = app.staff(Role::Nurse).await;
    let nurse = app.browser_for(nurse_id, app.clinic).await;
    let r = app
        .post(
            &format!("/admin/staff/{nurse_id}/password-reset"),
            &admin,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let at = r.body.find("id=\"reset-link\">").expect("link shown") + 16;
    let link = &r.body[at..at + r.body[at..].find('<').expect("end")];
    let path = link
        .split("/reset/")
        .nth(1)
        .map(|t| format!("/reset/{t}"))
        .expect("path");
    assert!(
        app.get(&format!("/admin/staff/{nurse_id}"), Some(&admin))
            .await
            .body
            .contains("Issue a password reset link"),
        "shown once"
    );
    let page = app.get(&path, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&email_of(&app, nurse_id).await));
    let r = post_with(
        &app,
        &path,
        &[],
        &[("new_password", "short"), ("new_password_again", "short")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let new = "the nurse picks a fresh passphrase";
    let r = post_with(
        &app,
        &path,
        &[],
        &[("new_password", new), ("new_password_again", new)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Your password is set"));
    assert_eq!(
        app.get("/", Some(&nurse)).await.status,
        StatusCode::SEE_OTHER,
        "their sessions ended"
    );
    // Once only.
    assert_eq!(app.get(&path, None).await.status, StatusCode::GONE);
    let r = post_with(
        &app,
        &path,
        &[],
        &[("new_password", new), ("new_password_again", new)],
    )
    .await;
    assert_eq!(r.status, StatusCode::GONE);
    let email = email_of(&app, nurse_id).await;
    let r = app
        .post_public("/login", &[("email", &email), ("password", new)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"account.reset_issued".to_owned()));
    assert!(actions.contains(&"account.reset".to_owned()));

    // Someone who also works in another clinic: not this clinic's administrator's to reset.
    let other = app
        .store
        .create_clinic("North", "north")
        .await
        .expect("clinic");
    app.store
        .grant_membership(&Actor::system(), nurse_id, other.id, Role::Nurse)
        .await
        .expect("grant");
    let r = app
        .post(
            &format!("/admin/staff/{nurse_id}/password-reset"),
            &admin,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("also works in another clinic"));
    // And nobody of another clinic at all.
    let stranger = app.staff_in(other.id, Role::Nurse).await;
    let r = app
        .post(
            &format!("/admin/staff/{stranger}/password-reset"),
            &admin,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
