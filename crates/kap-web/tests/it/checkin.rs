//! Check-ins between sessions through the router: a patient's link on a phone (reused and
//! expired links, bad input as typed, too-long text, the questionnaire part), the care team's
//! review (home page, list, check-in page, mark seen), sending and scheduling from the chart,
//! the clinic's settings, the API, and every role's access.

use super::measure::phq9_fields;
use super::*;
use kap_domain::alert::{AlertKind, AlertSource};
use kap_domain::instruments::Severity;

/// A coordinator sends a check-in link from the chart; returns the token from the outbox.
async fn send_link(app: &TestApp, who: &Browser, patient: Uuid, instrument: &str) -> String {
    let r = app
        .post(
            &format!("/patients/{patient}/checkins/links"),
            who,
            &[("instrument", instrument), ("valid_days", "3")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location(),
        format!("/patients/{patient}?notice=checkin-link-sent#checkins")
    );
    let msgs = app
        .store
        .outbox(&Actor::system(), app.clinic)
        .await
        .expect("outbox");
    let body = &msgs[0].body;
    let at = body.find("/k/").expect("check-in link in message") + 3;
    body[at..at + 48].to_owned()
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Posts a check-in as a phone's browser does (no cookie, no CSRF token: the link is the
/// proof); a redirect to the thank-you page is followed.
async fn post_checkin(app: &TestApp, token: &str, f: &[(String, String)]) -> Reply {
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.post_raw(&format!("/k/{token}"), None, &refs).await;
    if r.status == StatusCode::SEE_OTHER {
        assert_eq!(r.location(), format!("/k/{token}/done"));
        return app.get(r.location(), None).await;
    }
    r
}

async fn checkin_count(app: &TestApp) -> usize {
    app.store
        .checkin_review_list(&Actor::system(), app.clinic, 14)
        .await
        .expect("list")
        .len()
}

#[tokio::test]
async fn a_patient_reports_a_side_effect_on_a_phone_and_the_nurse_sees_it_flagged() {
    let app = TestApp::new().await;
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Rosa Santos").await;
    let token = send_link(&app, &coord, patient, "").await;

    let page = app.get(&format!("/k/{token}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Your mood today, from 0 to 10"));
    assert!(page.body.contains("Pain or burning when passing urine"));
    assert!(!page.body.contains("Rosa"), "the link page names nobody");
    assert!(page.body.contains("988"), "crisis resources on the form");
    assert!(!page.body.contains("<script>"), "no inline script");

    let done = post_checkin(
        &app,
        &token,
        &fields(&[
            ("mood", "6"),
            ("sleep_hours", "6.5"),
            ("sleep_quality", "fair"),
            ("side_effect", "urinary_symptoms"),
            ("side_effect", "nausea"),
            ("side_effects_note", "Burning since Tuesday."),
            ("reflection", "Kinder to myself at work."),
            ("journal", "A calmer week overall."),
        ]),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Your care team has been told"));
    assert!(!done.body.contains("Please reach out now"));
    // The alert was stored before the patient saw that page.
    let open = app
        .store
        .open_alerts(&Actor::system(), app.clinic)
        .await
        .expect("alerts");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kind, AlertKind::CheckinSideEffect);
    assert_eq!(open[0].severity, Severity::High);
    let AlertSource::Checkin(checkin) = open[0].source else {
        panic!("{:?}", open[0].source)
    };

    // The nurse: home page, the list, the check-in, mark seen.
    let nurse = app.browser(Role::Nurse).await;
    let home = app.get("/", Some(&nurse)).await;
    assert!(home.body.contains("1 not seen yet"), "{}", home.body);
    assert!(
        home.body
            .contains(&format!("href=\"/checkins/{checkin}\">Rosa Santos"))
    );
    assert!(home.body.contains("Flagged: High"));
    assert!(
        home.body
            .contains(&format!("href=\"/checkins/{checkin}\">Open the check-in")),
        "the safety alert leads to its check-in"
    );
    let list = app.get("/checkins", Some(&nurse)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Rosa Santos") && list.body.contains("Urinary symptoms"));
    assert!(list.body.contains("Not seen"));
    let show = app.get(&format!("/checkins/{checkin}"), Some(&nurse)).await;
    assert_eq!(show.status, StatusCode::OK);
    for text in [
        "6 of 10",
        "6.5 hours, fair",
        "Urinary symptoms",
        "Burning since Tuesday.",
        "Kinder to myself at work.",
        "A calmer week overall.",
        "Respond to this alert on the chart",
        "Mark seen",
    ] {
        assert!(show.body.contains(text), "{text}");
    }
    let seen = format!("/checkins/{checkin}/seen");
    let long = "x".repeat(2001);
    let r = app.post(&seen, &nurse, &[("note", long.as_str())]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains(&long), "the note comes back as typed");
    assert!(
        r.body.contains("the limit is 2,000 characters"),
        "{}",
        r.body
    );
    let r = app
        .post(&seen, &nurse, &[("note", "Called; urine test booked")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location(),
        format!("/checkins/{checkin}?notice=checkin-seen")
    );
    let show = app.get(r.location(), Some(&nurse)).await;
    assert!(show.body.contains("Marked seen."));
    assert!(show.body.contains("Seen by Test Nurse"));
    assert!(show.body.contains("Called; urine test booked"));
    assert!(!show.body.contains("Mark seen</button>"));
    let again = app.post(&seen, &nurse, &[("note", "again")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("already marked seen by Test Nurse"));
    assert!(
        app.get("/", Some(&nurse))
            .await
            .body
            .contains("No check-ins waiting")
    );
    // The chart: the check-in in the table, seen.
    let chart = app.get(&format!("/patients/{patient}"), Some(&nurse)).await;
    assert!(chart.body.contains("Check-ins between sessions"));
    assert!(
        chart
            .body
            .contains(&format!("href=\"/checkins/{checkin}\""))
    );
}

#[tokio::test]
async fn a_reused_link_shows_the_gone_page_and_stores_nothing() {
    let app = TestApp::new().await;
    let nurse = app.browser(Role::Nurse).await;
    let patient = app.patient("Rosa Santos").await;
    let token = send_link(&app, &nurse, patient, "").await;
    let done = post_checkin(&app, &token, &fields(&[("mood", "7")])).await;
    assert!(done.body.contains("Thank you"));
    assert!(!done.body.contains("Your care team has been told"));
    assert_eq!(checkin_count(&app).await, 1);

    let again = app.get(&format!("/k/{token}"), None).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.body.contains("This link cannot be used"));
    assert!(
        again.body.contains("988"),
        "crisis resources on the gone page"
    );
    assert!(!again.body.contains("<form"));
    // A second sending (a double tap, another tab): nothing more stored; its thank-you page.
    let r = app
        .post_raw(
            &format!("/k/{token}"),
            None,
            &[("mood", "1"), ("side_effect", "cravings")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(checkin_count(&app).await, 1);
    assert!(
        app.store
            .open_alerts(&Actor::system(), app.clinic)
            .await
            .expect("alerts")
            .is_empty()
    );
    for bad in ["0".repeat(48), "nothex".into(), "x".into()] {
        assert_eq!(
            app.get(&format!("/k/{bad}"), None).await.status,
            StatusCode::GONE
        );
        assert_eq!(
            app.post_raw(&format!("/k/{bad}"), None, &[("mood", "5")])
                .await
                .status,
            StatusCode::GONE
        );
    }
}

#[tokio::test]
async fn an_expired_link_is_gone_everywhere_and_nothing_changes() {
    let app = TestApp::new().await;
    let nurse_id = app.staff(Role::Nurse).await;
    let patient = app.patient("Rosa Santos").await;
    let (_, token) = app
        .store
        .create_checkin_link_at(
            &Actor::staff(nurse_id, kap_store::ActorKind::Staff, app.clinic, None),
            kap_store::checkin::link::NewCheckinLink {
                clinic_id: app.clinic,
                patient_id: patient,
                instrument: None,
                valid_days: 3,
                public_url: "http://x",
                email_enabled: false,
            },
            kap_store::now() - chrono::Duration::days(4),
        )
        .await
        .expect("link");
    for r in [
        app.get(&format!("/k/{token}"), None).await,
        app.post_raw(&format!("/k/{token}"), None, &[("mood", "3")])
            .await,
        app.get(&format!("/k/{token}/done"), None).await,
    ] {
        assert_eq!(r.status, StatusCode::GONE);
        assert!(r.body.contains("This link cannot be used") && r.body.contains("988"));
    }
    assert_eq!(checkin_count(&app).await, 0);
}

#[tokio::test]
async fn bad_input_comes_back_as_typed_with_every_problem_and_nothing_stored() {
    let app = TestApp::new().await;
    let nurse = app.browser(Role::Nurse).await;
    let patient = app.patient("Rosa Santos").await;
    let token = send_link(&app, &nurse, patient, "").await;
    // Opening the thank-you address before sending leads back to the form.
    let early = app.get(&format!("/k/{token}/done"), None).await;
    assert_eq!(early.status, StatusCode::SEE_OTHER);
    assert_eq!(early.location(), format!("/k/{token}"));

    let r = post_checkin(
        &app,
        &token,
        &fields(&[
            ("sleep_hours", "lots"),
            ("side_effect", "headache"),
            ("side_effect", "telepathy"),
            ("journal", "Typed <b>before</b> the mistake"),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Choose a number from 0 to 10 for your mood today.")
    );
    assert!(r.body.contains("Enter the hours you slept last night"));
    assert!(r.body.contains("One of the side effects could not be read"));
    assert!(
        r.body
            .contains("Typed &#60;b&#62;before&#60;/b&#62; the mistake")
            || r.body
                .contains("Typed &lt;b&gt;before&lt;/b&gt; the mistake"),
        "escaped, as typed"
    );
    assert!(r.body.contains("value=\"lots\""));
    assert!(r.body.contains("value=\"headache\" checked"));
    assert!(
        r.body.contains("href=\"#q-mood\""),
        "the summary leads to the field"
    );
    assert_eq!(checkin_count(&app).await, 0);
    // The link still works.
    assert_eq!(
        app.get(&format!("/k/{token}"), None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn very_long_text_is_refused_naming_the_limit_and_three_full_boxes_still_fit() {
    let app = TestApp::new().await;
    let nurse = app.browser(Role::Nurse).await;
    let patient = app.patient("Rosa Santos").await;
    let token = send_link(&app, &nurse, patient, "").await;

    let over = "é".repeat(20_001);
    let r = post_checkin(&app, &token, &fields(&[("mood", "5"), ("journal", &over)])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("This is 20,001 characters long; the limit is 20,000 characters."),
        "the limit is named"
    );
    assert!(
        r.body.contains(&over),
        "never cut: the text comes back whole"
    );
    assert_eq!(checkin_count(&app).await, 0);

    // Three boxes at the limit, in a script that takes several bytes a character: far beyond
    // the site's 64 KiB, and still taken whole.
    let full = "ü".repeat(20_000);
    let emoji = "🙂".repeat(20_000);
    let r = post_checkin(
        &app,
        &token,
        &fields(&[
            ("mood", "5"),
            ("side_effects_note", &full),
            ("reflection", &emoji),
            ("journal", &full),
        ]),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        &r.body[..r.body.len().min(500)]
    );
    let list = app
        .store
        .checkin_review_list(&Actor::system(), app.clinic, 14)
        .await
        .expect("list");
    let c = app
        .store
        .checkin(&Actor::system(), app.clinic, list[0].id)
        .await
        .expect("checkin")
        .checkin;
    assert_eq!(
        c.answers.reflection.map(|t| t.as_str().chars().count()),
        Some(20_000)
    );

    // Beyond anything three boxes can hold: a page that says how to shorten it, not a bare 413.
    let token = send_link(&app, &nurse, patient, "").await;
    let huge = "🙂".repeat(100_000);
    let r = app
        .post_raw(
            &format!("/k/{token}"),
            None,
            &[("mood", "5"), ("journal", &huge)],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("Your check-in was too long to send"));
    assert!(r.body.contains("up to 20,000 characters") && r.body.contains("988"));
    assert_eq!(
        app.get(&format!("/k/{token}"), None).await.status,
        StatusCode::OK,
        "still usable"
    );
}

#[tokio::test]
async fn the_questionnaire_part_scores_and_flags_as_the_link_page_does() {
    let app = TestApp::new().await;
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Rosa Santos").await;
    let token = send_link(&app, &coord, patient, "phq9").await;
    let page = app.get(&format!("/k/{token}"), None).await;
    assert!(
        page.body.contains("PHQ-9")
            && page
                .body
                .contains("Thoughts that you would be better off dead")
    );

    // Unanswered questions are asked again, with the rest as typed.
    let mut f = fields(&[("mood", "4"), ("journal", "kept while asked again")]);
    f.extend(
        phq9_fields(["1", "1", "2", "1", "0", "1", "0", "0", "0"])
            .into_iter()
            .filter(|(k, _)| k != "item_5"),
    );
    let r = post_checkin(&app, &token, &f).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("1 question still needs an answer"));
    assert!(r.body.contains("kept while asked again"));
    assert!(r.body.contains("Send as it is"));

    let mut f = fields(&[("mood", "4")]);
    f.extend(phq9_fields(["1", "1", "2", "1", "0", "1", "0", "0", "1"]));
    let done = post_checkin(&app, &token, &f).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.body.contains("Please reach out now"),
        "item 9 shows crisis resources"
    );
    let (rows, _) = app
        .store
        .responses_of(&Actor::system(), app.clinic, patient)
        .await
        .expect("responses");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].total, Some(7));
    assert_eq!(rows[0].band.as_deref(), Some("Mild"));
    assert_eq!(rows[0].context.as_str(), "between_sessions");
    let open = app
        .store
        .open_alerts(&Actor::system(), app.clinic)
        .await
        .expect("alerts");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kind, AlertKind::Phq9SelfHarm);
    assert_eq!(
        open[0].severity,
        Severity::High,
        "the clinic's item-9 rule, as the link"
    );
    assert_eq!(open[0].source, AlertSource::Response(rows[0].id));
    // The check-in page shows the score; the chart shows the response as any other.
    let nurse = app.browser(Role::Nurse).await;
    let list = app.get("/checkins", Some(&nurse)).await;
    assert!(list.body.contains("PHQ-9 7"), "{}", list.body);
    let id = app
        .store
        .checkin_review_list(&Actor::system(), app.clinic, 14)
        .await
        .expect("l")[0]
        .id;
    let show = app.get(&format!("/checkins/{id}"), Some(&nurse)).await;
    assert!(show.body.contains("Total 7") && show.body.contains("Mild"));
    assert!(show.body.contains("PHQ-9 item 9 positive"));
    let chart = app.get(&format!("/patients/{patient}"), Some(&nurse)).await;
    assert!(chart.body.contains("Between sessions"));
}

#[tokio::test]
async fn worrying_words_raise_an_urgent_alert_and_show_crisis_resources() {
    let app = TestApp::new().await;
    let nurse = app.browser(Role::Nurse).await;
    let patient = app.patient("Rosa Santos").await;
    let token = send_link(&app, &nurse, patient, "").await;
    let done = post_checkin(
        &app,
        &token,
        &fields(&[
            ("mood", "2"),
            ("journal", "Some nights I DON’T want to live anymore."),
        ]),
    )
    .await;
    assert!(done.body.contains("Please reach out now") && done.body.contains("988"));
    // A reload keeps them there.
    let reload = app.get(&format!("/k/{token}/done"), None).await;
    assert!(reload.body.contains("Please reach out now"));
    let open = app
        .store
        .open_alerts(&Actor::system(), app.clinic)
        .await
        .expect("alerts");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kind, AlertKind::CheckinWorryingWords);
    assert_eq!(open[0].severity, Severity::Urgent);
}

#[tokio::test]
async fn coordinators_send_links_but_never_see_answers_and_every_role_gets_what_the_table_says() {
    let app = TestApp::new().await;
    let patient = app.patient("Rosa Santos").await;
    let coord = app.browser(Role::Coordinator).await;
    let token = send_link(&app, &coord, patient, "").await;
    post_checkin(
        &app,
        &token,
        &fields(&[("mood", "3"), ("journal", "A private journal line")]),
    )
    .await;
    let id = app
        .store
        .checkin_review_list(&Actor::system(), app.clinic, 14)
        .await
        .expect("list")[0]
        .id;
    let chart = app.get(&format!("/patients/{patient}"), Some(&coord)).await;
    assert!(chart.body.contains("Check-in links sent") && chart.body.contains("answered"));
    assert!(
        !chart.body.contains("Recent check-ins") && !chart.body.contains("A private journal line")
    );
    assert!(
        !app.get("/", Some(&coord))
            .await
            .body
            .contains("not seen yet")
    );

    for role in Role::ALL {
        let b = app.browser(role).await;
        let reads = matches!(role, Role::Prescriber | Role::Nurse | Role::Therapist);
        let sends = role != Role::Admin;
        let list = app.get("/checkins", Some(&b)).await;
        let show = app.get(&format!("/checkins/{id}"), Some(&b)).await;
        let expect = if reads {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(list.status, expect, "{role} list");
        assert_eq!(show.status, expect, "{role} check-in");
        assert_eq!(
            show.body.contains("A private journal line"),
            reads,
            "{role} reads the answers only if allowed"
        );
        let send = app
            .post(
                &format!("/patients/{patient}/checkins/links"),
                &b,
                &[("instrument", ""), ("valid_days", "2")],
            )
            .await;
        assert_eq!(
            send.status,
            if sends {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::FORBIDDEN
            },
            "{role} sends"
        );
        let settings = app.get("/admin/checkins", Some(&b)).await;
        assert_eq!(
            settings.status,
            if role == Role::Admin {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            },
            "{role} settings"
        );
        let token = app.api_token(role).await;
        let api = app
            .api("GET", &format!("/api/v1/checkins/{id}"), Some(&token), None)
            .await;
        assert_eq!(api.status, expect, "{role} API");
    }
    // Marking seen: clinicians only; the coordinator is refused and nothing changes.
    let r = app.post(&format!("/checkins/{id}/seen"), &coord, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let t = app.browser(Role::Therapist).await;
    let r = app.post(&format!("/checkins/{id}/seen"), &t, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_api_gives_a_patients_checkins_and_one_with_its_alerts() {
    let app = TestApp::new().await;
    let nurse = app.browser(Role::Nurse).await;
    let patient = app.patient("Rosa Santos").await;
    let token = send_link(&app, &nurse, patient, "").await;
    post_checkin(
        &app,
        &token,
        &fields(&[
            ("mood", "5"),
            ("sleep_hours", "7.5"),
            ("side_effect", "cravings"),
        ]),
    )
    .await;
    let bearer = app.api_token(Role::Prescriber).await;
    let r = app
        .api(
            "GET",
            &format!("/api/v1/patients/{patient}/checkins"),
            Some(&bearer),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    let c = &j["checkins"][0];
    assert_eq!(c["mood"], 5);
    assert_eq!(c["sleep_hours"], 7.5);
    assert_eq!(c["side_effects"][0], "cravings");
    assert_eq!(c["alerts"], 1);
    assert_eq!(c["top_severity"], "high");
    let id = c["id"].as_str().expect("id").to_owned();
    let r = app
        .api(
            "GET",
            &format!("/api/v1/checkins/{id}"),
            Some(&bearer),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let j = r.json();
    assert_eq!(j["mood"], 5);
    assert_eq!(j["alert_list"][0]["kind"], "checkin_side_effect");
    assert_eq!(j["alert_list"][0]["status"], "open");
    let unknown = app
        .api(
            "GET",
            &format!("/api/v1/checkins/{}", Uuid::now_v7()),
            Some(&bearer),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_chart_sends_and_schedules_with_problems_shown_beside_the_form() {
    let app = TestApp::new().await;
    let coord = app.browser(Role::Coordinator).await;
    let patient = app.patient("Rosa Santos").await;
    let r = app
        .post(
            &format!("/patients/{patient}/checkins/links"),
            &coord,
            &[("instrument", "madrs"), ("valid_days", "30")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("MADRS is rated by a clinician"));
    assert!(r.body.contains("from 1 to 14"));
    assert!(r.body.contains("value=\"30\""), "as typed");

    let schedules = format!("/patients/{patient}/checkins/schedules");
    let r = app
        .post(
            &schedules,
            &coord,
            &[
                ("kind", "after_dosing"),
                ("days", "2"),
                ("instrument", "phq9"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .post(
            &schedules,
            &coord,
            &[("kind", "after_dosing"), ("days", "3"), ("instrument", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("already has an active check-in schedule of this kind")
    );
    let r = app
        .post(&schedules, &coord, &[("kind", "every_days"), ("days", "0")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Enter a number of days from 1 to 60."));
    let chart = app.get(&format!("/patients/{patient}"), Some(&coord)).await;
    assert!(
        chart
            .body
            .contains("2 days after each dosing session, with PHQ-9")
    );
    let s = app
        .store
        .checkin_schedules_of(app.clinic, patient)
        .await
        .expect("schedules");
    let r = app
        .post(
            &format!("/patients/{patient}/checkins/schedules/{}/stop", s[0].id),
            &coord,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        app.get(&format!("/patients/{patient}"), Some(&coord))
            .await
            .body
            .contains("(stopped)")
    );
}

#[tokio::test]
async fn an_administrator_sets_the_clinics_checkin_rules() {
    let app = TestApp::new().await;
    let admin = app.browser(Role::Admin).await;
    let page = app.get("/admin/checkins", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Off until you set them"));
    let mut f: Vec<(String, String)> = kap_domain::checkin::CheckinSettings::default().to_fields();
    f.retain(|(k, _)| k != "low_mood_at_most" && k != "alert_self_harm_thoughts");
    f.push(("low_mood_at_most".into(), "11".into()));
    f.push(("alert_self_harm_thoughts".into(), "none".into()));
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.post("/admin/checkins", &admin, &refs).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Enter a whole number from 0 to 9, or leave it empty.")
    );
    assert!(
        r.body
            .contains("Thoughts of self-harm always raise an urgent or critical alert.")
    );
    assert!(r.body.contains("value=\"11\""));
    let mut f: Vec<(String, String)> = kap_domain::checkin::CheckinSettings::default().to_fields();
    f.retain(|(k, _)| k != "low_mood_at_most" && k != "alert_nausea");
    f.push(("low_mood_at_most".into(), "2".into()));
    f.push(("alert_nausea".into(), "high".into()));
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.post("/admin/checkins", &admin, &refs).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let s = app
        .store
        .checkin_settings(app.clinic)
        .await
        .expect("settings");
    assert_eq!(s.low_mood_at_most, Some(2));
    assert_eq!(
        s.alert_for(kap_domain::checkin::SideEffect::Nausea),
        Some(Severity::High)
    );
}

#[tokio::test]
async fn the_main_navigation_leads_clinicians_to_check_ins_and_not_coordinators() {
    let app = TestApp::new().await;
    let nurse = app.browser(Role::Nurse).await;
    let home = app.get("/", Some(&nurse)).await;
    assert!(
        home.body.contains(r#"<a href="/checkins">Check-ins</a>"#),
        "{}",
        home.body
    );
    let list = app.get("/checkins", Some(&nurse)).await;
    assert!(
        list.body
            .contains(r#"<a href="/checkins" aria-current="page">Check-ins</a>"#)
    );
    let coordinator = app.browser(Role::Coordinator).await;
    let home = app.get("/", Some(&coordinator)).await;
    assert!(!home.body.contains(r#"href="/checkins""#));
}
