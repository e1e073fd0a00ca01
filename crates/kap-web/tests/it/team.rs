//! The care-team thread through the router: every role's view of it (clinicians all of it,
//! the coordinator its tasks without clinical text, the administrator and another clinic's
//! staff nothing); a post with an unknown mention or too much text refused as typed with
//! nothing stored; a mention unread on the prescriber's home until the thread is shown; a task
//! the coordinator completes from the home page; the API.

use super::*;

/// A clinic's care team, each signed in, named so that mentions are unambiguous, and a patient.
struct Team {
    app: TestApp,
    prescriber: Browser,
    therapist: Browser,
    nurse: Browser,
    coordinator: Browser,
    admin: Browser,
    patient: Uuid,
}

async fn named(app: &TestApp, clinic: Uuid, name: &str, role: Role) -> Browser {
    let email = format!(
        "{}-{}@team.test",
        name.to_lowercase().replace(' ', "."),
        &Uuid::now_v7().simple().to_string()[20..]
    );
    let id = app
        .store
        .create_staff(
            &Actor::system(),
            kap_store::staff::NewStaff {
                email: &email,
                full_name: name,
                password_hash: "$argon2id$not-a-real-hash",
                clinic_id: clinic,
                role,
            },
        )
        .await
        .expect("staff");
    app.browser_for(id, clinic).await
}

impl Team {
    async fn new() -> Team {
        let app = TestApp::new().await;
        let c = app.clinic;
        let prescriber = named(&app, c, "Priya Prescriber", Role::Prescriber).await;
        let therapist = named(&app, c, "Theo Therapist", Role::Therapist).await;
        let nurse = named(&app, c, "Nina Nurse", Role::Nurse).await;
        let coordinator = named(&app, c, "Cora Coordinator", Role::Coordinator).await;
        let admin = named(&app, c, "Ada Admin", Role::Admin).await;
        let patient = app.patient("Rosa Santos").await;
        Team {
            app,
            prescriber,
            therapist,
            nurse,
            coordinator,
            admin,
            patient,
        }
    }

    fn thread(&self) -> String {
        format!("/patients/{}/team", self.patient)
    }

    async fn post(&self, who: &Browser, fields: &[(&str, &str)]) -> Reply {
        self.app
            .post(&format!("{}/messages", self.thread()), who, fields)
            .await
    }

    async fn task(&self, who: &Browser, fields: &[(&str, &str)]) -> Reply {
        self.app
            .post(&format!("{}/tasks", self.thread()), who, fields)
            .await
    }

    /// Messages in the thread, as the prescriber's API token reads them.
    async fn stored_messages(&self) -> usize {
        let token = self.app.api_token(Role::Prescriber).await;
        let r = self
            .app
            .api(
                "GET",
                &format!("/api/v1{}", self.thread()),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()["messages"].as_array().map_or(0, Vec::len)
    }

    /// The therapist's observation mentioning the prescriber, and a task for the coordinator
    /// with clinical detail.
    async fn seeded(&self) -> Uuid {
        let r = self
            .post(
                &self.therapist,
                &[
                    (
                        "text",
                        "Integration: the harsh inner voice was quieter for two days.\n@Priya Prescriber worth knowing before Thursday's dose.",
                    ),
                    ("back", "page"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(
            r.location()
                .starts_with(&format!("{}?done=posted#m-1", self.thread()))
        );
        let today = Utc::now().date_naive().to_string();
        let coordinator = self.coordinator.staff_id.to_string();
        let r = self
            .task(
                &self.therapist,
                &[
                    ("title", TITLE),
                    ("detail", "DETAIL: mornings bring on her anxiety"),
                    ("assignee", &coordinator),
                    ("due_on", &today),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(
            r.location()
                .starts_with(&format!("/patients/{}#task-", self.patient))
        );
        r.location()
            .rsplit("#task-")
            .next()
            .and_then(|s| Uuid::parse_str(s).ok())
            .expect("task id")
    }
}

use chrono::Utc;

const TEXT: &str = "the harsh inner voice was quieter";
const DETAIL: &str = "DETAIL: mornings bring on her anxiety";
const TITLE: &str = "Move the Thursday session to the afternoon";

#[tokio::test]
async fn every_role_sees_the_thread_as_the_record_rules_say() {
    let t = Team::new().await;
    t.seeded().await;
    for who in [&t.prescriber, &t.therapist, &t.nurse] {
        let r = t.app.get(&t.thread(), Some(who)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains(TEXT), "{}", r.body);
        assert!(r.body.contains(DETAIL));
        assert!(r.body.contains("Mentions: Priya Prescriber"));
        assert!(r.body.contains("Post message"));
        assert!(r.body.contains("never edited or deleted"));
    }
    // The coordinator: the task's title, assignee and due date; no message, no detail, no
    // message form — on the thread's page, the chart and the API.
    let r = t.app.get(&t.thread(), Some(&t.coordinator)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(TITLE), "{}", r.body);
    assert!(r.body.contains("For Cora Coordinator"));
    for secret in [TEXT, DETAIL, "Post message", "name=\"detail\""] {
        assert!(!r.body.contains(secret), "coordinator sees {secret}");
    }
    let chart = t
        .app
        .get(&format!("/patients/{}", t.patient), Some(&t.coordinator))
        .await;
    assert_eq!(chart.status, StatusCode::OK);
    assert!(chart.body.contains(TITLE));
    assert!(!chart.body.contains(TEXT) && !chart.body.contains(DETAIL));
    let token = t.app.api_token(Role::Coordinator).await;
    let api = t
        .app
        .api("GET", &format!("/api/v1{}", t.thread()), Some(&token), None)
        .await;
    assert_eq!(api.status, StatusCode::OK);
    let v = api.json();
    assert_eq!(v["access"], "tasks_only");
    assert_eq!(v["messages"].as_array().map(Vec::len), Some(0));
    assert!(v["tasks"][0].get("detail").is_none(), "{v}");
    assert!(!api.body.contains(TEXT) && !api.body.contains("mornings"));
    // The administrator: refused.
    assert_eq!(
        t.app.get(&t.thread(), Some(&t.admin)).await.status,
        StatusCode::FORBIDDEN
    );
    let chart = t
        .app
        .get(&format!("/patients/{}", t.patient), Some(&t.admin))
        .await;
    assert!(!chart.body.contains(TEXT) && !chart.body.contains(TITLE));
    // A coordinator's message is refused in words (they take part through tasks).
    let r = t.post(&t.coordinator, &[("text", "Hello")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("through its tasks"), "{}", r.body);
    // Reading is audited, each way.
    let actions = t.app.audit_actions().await;
    assert!(actions.iter().filter(|a| *a == "team.read").count() >= 5);
    assert!(actions.iter().any(|a| a == "team.post"));
}

#[tokio::test]
async fn another_clinics_staff_reach_nothing_of_the_thread() {
    let t = Team::new().await;
    t.seeded().await;
    let north = t
        .app
        .store
        .create_clinic("North", "north")
        .await
        .expect("clinic");
    let stranger = named(&t.app, north.id, "Sam Stranger", Role::Therapist).await;
    let r = t.app.get(&t.thread(), Some(&stranger)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.body.contains(TEXT));
    let r = t.post(&stranger, &[("text", "Hello")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(t.stored_messages().await, 1);
    // Nor can they be mentioned here.
    let r = t
        .post(&t.therapist, &[("text", "@Sam Stranger please look")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("No one in this clinic is called “@Sam”"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_post_with_an_unknown_mention_is_refused_as_typed_and_nothing_is_stored() {
    let t = Team::new().await;
    let typed = "Slept badly after the session; @Priya please look before Thursday";
    let r = t
        .post(&t.therapist, &[("text", typed), ("back", "page")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("No one in this clinic is called “@Priya”. Did you mean @Priya Prescriber?"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("Slept badly after the session; @Priya please look")
    );
    assert!(
        r.body
            .contains("aria-invalid=\"true\" aria-describedby=\"h-team-text e-team-text\"")
    );
    assert!(
        r.body.contains("<h1>Care team: Rosa Santos</h1>"),
        "back on the thread's page"
    );
    // From the chart, back on the chart; a coordinator ticked in the picker is refused there.
    let r = t
        .post(
            &t.therapist,
            &[
                ("text", "Please call her"),
                ("mention", &t.coordinator.staff_id.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("<h1>Rosa Santos</h1>"), "back on the chart");
    assert!(
        r.body.contains("Cora Coordinator cannot be mentioned"),
        "{}",
        r.body
    );
    assert!(r.body.contains("id=\"e-team-mentions\""));
    // A link to something that is not a record of this patient.
    let r = t
        .post(
            &t.therapist,
            &[("text", "See this"), ("link", "/patients/123")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"e-team-link\""));
    assert_eq!(t.stored_messages().await, 0);
    assert!(!t.app.audit_actions().await.iter().any(|a| a == "team.post"));
}

#[tokio::test]
async fn text_beyond_the_limit_is_refused_naming_it_and_at_the_limit_kept_whole() {
    let t = Team::new().await;
    let limit = kap_domain::team::LONG_TEXT_MAX;
    let over = "a".repeat(limit + 1);
    let r = t
        .post(&t.therapist, &[("text", &over), ("back", "page")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("The message is 20,001 characters long; the limit is 20,000 characters."),
        "{}",
        &r.body[..r.body.len().min(2000)]
    );
    assert!(
        r.body.contains(&over),
        "the text comes back whole, as typed"
    );
    assert_eq!(t.stored_messages().await, 0);
    let at = "a".repeat(limit);
    let r = t.post(&t.therapist, &[("text", &at)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let token = t.app.api_token(Role::Prescriber).await;
    let v = t
        .app
        .api("GET", &format!("/api/v1{}", t.thread()), Some(&token), None)
        .await
        .json();
    assert_eq!(v["messages"][0]["text"].as_str().map(str::len), Some(limit));
    // Sent as a form, 20,000 letters of any script fit the thread's forms (an accented letter
    // takes six bytes urlencoded, a four-byte one twelve), so the limit is named rather than a
    // bare "too large"; a body beyond even that meets the calm page that says so (413).
    let accented = "é".repeat(limit);
    let r = t.post(&t.therapist, &[("text", &accented)]).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "{}",
        &r.body[..r.body.len().min(500)]
    );
    let emoji = "🌿".repeat(limit + 1);
    let r = t
        .post(&t.therapist, &[("text", &emoji), ("back", "page")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("The message is 20,001 characters long"));
    let huge = "🌿".repeat(3 * limit);
    let r = t.post(&t.therapist, &[("text", &huge)]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        r.body.contains("larger than Kapstone accepts"),
        "{}",
        r.body
    );
    assert_eq!(t.stored_messages().await, 2);
}

#[tokio::test]
async fn a_mention_is_unread_on_the_prescribers_home_until_the_thread_is_shown() {
    let t = Team::new().await;
    t.seeded().await;
    let home = t.app.get("/", Some(&t.prescriber)).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Unread mentions (1)"), "{}", home.body);
    assert!(home.body.contains("Rosa Santos"));
    assert!(home.body.contains(&format!("href=\"{}#m-1\"", t.thread())));
    assert!(home.body.contains("Theo Therapist"));
    // The nurse was not mentioned.
    assert!(
        t.app
            .get("/", Some(&t.nurse))
            .await
            .body
            .contains("Unread mentions (0)")
    );
    // Shown the thread, the prescriber has seen it: the message is new this once.
    let r = t.app.get(&t.thread(), Some(&t.prescriber)).await;
    assert!(r.body.contains("<span class=\"badge new\">New</span>"));
    let home = t.app.get("/", Some(&t.prescriber)).await;
    assert!(home.body.contains("Unread mentions (0)"), "{}", home.body);
    let r = t.app.get(&t.thread(), Some(&t.prescriber)).await;
    assert!(!r.body.contains("<span class=\"badge new\">New</span>"));
    assert!(t.app.audit_actions().await.iter().any(|a| a == "team.seen"));
    // Their own page lists it, seen.
    let page = t.app.get("/team", Some(&t.prescriber)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Mentions (0 unread)"));
    assert!(page.body.contains("worth knowing before Thursday"));
}

#[tokio::test]
async fn the_coordinator_completes_their_task_from_home_and_sees_no_clinical_text() {
    let t = Team::new().await;
    let task = t.seeded().await;
    let home = t.app.get("/", Some(&t.coordinator)).await;
    assert!(home.body.contains(TITLE), "{}", home.body);
    assert!(!home.body.contains(DETAIL) && !home.body.contains(TEXT));
    assert!(!home.body.contains("Unread mentions"));
    // Cancelling the therapist's task is not theirs to do.
    let r = t
        .app
        .post(
            &format!("/team/tasks/{task}"),
            &t.coordinator,
            &[("action", "cancel"), ("back", "home")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.body
            .contains("Only the person who created this task, or a clinician, cancels it.")
    );
    let r = t
        .app
        .post(
            &format!("/team/tasks/{task}"),
            &t.coordinator,
            &[("action", "done"), ("back", "home")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let home = t.app.get("/", Some(&t.coordinator)).await;
    assert!(home.body.contains("No open tasks."));
    let r = t.app.get(&t.thread(), Some(&t.therapist)).await;
    assert!(
        r.body.contains("Marked done by Cora Coordinator"),
        "{}",
        r.body
    );
    // Done once: a second time is refused on the page it came from.
    let r = t
        .app
        .post(
            &format!("/team/tasks/{task}"),
            &t.therapist,
            &[
                ("action", "cancel"),
                ("back", "page"),
                ("patient", &t.patient.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("This task is done already"), "{}", r.body);
    assert!(r.body.contains("<h1>Care team: Rosa Santos</h1>"));
    // A coordinator's task carries no clinical detail.
    let r = t
        .task(
            &t.coordinator,
            &[
                ("title", "Call about the new time"),
                ("detail", "she sounded low"),
                ("assignee", &t.nurse.staff_id.to_string()),
                ("due_on", &Utc::now().date_naive().to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Coordinators write the title only"));
    assert!(
        r.body.contains("value=\"Call about the new time\""),
        "as typed"
    );
    assert!(t.app.audit_actions().await.iter().any(|a| a == "team.task"));
}

#[tokio::test]
async fn a_task_form_is_refused_field_by_field() {
    let t = Team::new().await;
    let r = t
        .task(
            &t.nurse,
            &[
                ("title", ""),
                ("assignee", &t.admin.staff_id.to_string()),
                ("due_on", "2001-01-01"),
                ("back", "page"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for (id, words) in [
        ("e-task-title", "Give the task a title"),
        ("e-task-assignee", "Ada Admin cannot be given tasks"),
        ("e-task-due", "The due date is in the past"),
    ] {
        assert!(r.body.contains(&format!("id=\"{id}\"")), "{id}");
        assert!(r.body.contains(words), "{words}");
    }
}

#[tokio::test]
async fn the_api_posts_a_message_and_refuses_field_by_field() {
    let t = Team::new().await;
    let token = t.app.api_token(Role::Therapist).await;
    let path = format!("/api/v1{}/messages", t.thread());
    let r = t
        .app
        .api(
            "POST",
            &path,
            Some(&token),
            Some(serde_json::json!({
                "text": "Observation for @priya.prescriber",
                "mentions": [t.nurse.staff_id],
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["seq"], 1);
    let r = t
        .app
        .api(
            "POST",
            &path,
            Some(&token),
            Some(serde_json::json!({ "text": "@Nobody Here hello", "link": "nowhere" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let v = r.json();
    let fields: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["text", "link"], "{v}");
    // 20,000 characters of any script fit, JSON-escaped or not.
    let r = t
        .app
        .api(
            "POST",
            &path,
            Some(&token),
            Some(serde_json::json!({ "text": "🌿".repeat(kap_domain::team::LONG_TEXT_MAX) })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let coordinator = t.app.api_token(Role::Coordinator).await;
    let r = t
        .app
        .api(
            "POST",
            &path,
            Some(&coordinator),
            Some(serde_json::json!({ "text": "hello" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let reader = t.app.api_token(Role::Nurse).await;
    let v = t
        .app
        .api(
            "GET",
            &format!("/api/v1{}", t.thread()),
            Some(&reader),
            None,
        )
        .await
        .json();
    assert_eq!(v["access"], "full");
    let names: Vec<&str> = v["messages"][0]["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["Priya Prescriber", "Nina Nurse"]);
}
