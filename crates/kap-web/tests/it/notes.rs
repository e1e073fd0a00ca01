//! Therapy notes through the router: a therapist writes a preparation note whose intention
//! reaches the dosing session (and pre-fills its checklist), an integration note whose
//! commitment shows at the next session and is reviewed there, addenda; signing another's note
//! and editing a signed one refused; long text refused by name with nothing stored (and a form
//! larger than the usual 64 KiB still judged field by field); psychotherapy notes from every
//! role, through the page, the chart, the API and the lists; templates and settings.

use super::*;
use chrono::{Duration, Utc};
use kap_domain::notes::LONG_TEXT_MAX;
use kap_domain::protocol::SessionKind;
use kap_domain::screening::Route;

/// A clinic with the shipped protocols and a dosing chair, a patient's IV course planned with
/// a therapist, and that therapist, a nurse and a prescriber signed in.
struct Clinic {
    app: TestApp,
    therapist: Browser,
    nurse: Browser,
    pres: Browser,
    patient: Uuid,
    course: Uuid,
    appointments: Vec<(SessionKind, Uuid)>,
}

impl Clinic {
    async fn open() -> Clinic {
        let app = TestApp::new().await;
        let admin = app.browser(Role::Admin).await;
        let r = app.post("/protocols/shipped", &admin, &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = app
            .post(
                "/admin/rooms",
                &admin,
                &[("name", "Chair 1"), ("dosing_chair", "yes")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let chair = app
            .store
            .rooms(app.clinic)
            .await
            .expect("rooms")
            .into_iter()
            .find(|r| r.dosing_chair)
            .expect("chair")
            .id;
        let v = app
            .store
            .protocols_in_use(app.clinic)
            .await
            .expect("protocols")
            .into_iter()
            .find(|v| v.protocol.key == "iv-ketamine")
            .expect("shipped protocol");
        let patient = super::course::eligible(&app, "Rosa Santos", &[Route::Iv]).await;
        let pres = app.staff(Role::Prescriber).await;
        let therapist = app.staff(Role::Therapist).await;
        let a = Actor::staff(pres, kap_domain::audit::ActorKind::Staff, app.clinic, None);
        let today = Utc::now().date_naive();
        let mut form = kap_domain::course::CourseForm::defaults(&v.protocol, today);
        form.start_date = (today + Duration::days(3)).to_string();
        let plan = form.parse(&v.protocol, today).expect("plan");
        let course = app
            .store
            .plan_course(
                &a,
                app.clinic,
                &kap_store::course::NewCourse {
                    patient_id: patient,
                    protocol_id: v.id,
                    plan,
                    therapist_id: therapist,
                    nurse_id: None,
                    chair_id: chair,
                    room_id: None,
                    tz: kap_domain::time::TimeZone::UTC,
                },
            )
            .await
            .expect("course");
        let appointments = app
            .store
            .course(&Actor::system(), app.clinic, course)
            .await
            .expect("course")
            .appointments
            .iter()
            .map(|a| (a.kind, a.id))
            .collect();
        Clinic {
            therapist: app.browser_for(therapist, app.clinic).await,
            nurse: app.browser(Role::Nurse).await,
            pres: app.browser_for(pres, app.clinic).await,
            app,
            patient,
            course,
            appointments,
        }
    }

    fn first(&self, kind: SessionKind) -> Uuid {
        self.appointments
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
            .expect("appointment")
    }

    /// The nurse checks the first dosing appointment in and opens its session.
    async fn session(&self) -> Uuid {
        let appt = self.first(SessionKind::Dosing);
        let r = self
            .app
            .post(
                &format!("/appointments/{appt}/status"),
                &self.nurse,
                &[("action", "check_in")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = self
            .app
            .post(&format!("/appointments/{appt}/dosing"), &self.nurse, &[])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        Uuid::parse_str(r.location().trim_start_matches("/dosing/")).expect("session id")
    }

    /// Posts a new note of `kind` from the chart's form as `who`; the reply.
    async fn write(&self, who: &Browser, kind: &str, fields: &[(&str, &str)]) -> Reply {
        let mut all = vec![("kind", kind)];
        all.extend_from_slice(fields);
        self.app
            .post(&format!("/patients/{}/notes", self.patient), who, &all)
            .await
    }

    /// A note written and left as a draft (or signed, with `then=sign` among the fields); id.
    async fn note(&self, who: &Browser, kind: &str, fields: &[(&str, &str)]) -> Uuid {
        let r = self.write(who, kind, fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        note_id(&r)
    }
}

fn note_id(r: &Reply) -> Uuid {
    let rest = r
        .location()
        .strip_prefix("/notes/")
        .unwrap_or_else(|| panic!("to a note: {}", r.location()));
    Uuid::parse_str(rest.split('?').next().unwrap_or("")).expect("note id")
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    kap_store::on_db!(&app.store.db, |p| sqlx::query_scalar::<_, i64>(
        sqlx::AssertSqlSafe(sql.clone())
    )
    .fetch_one(p)
    .await
    .expect("count"))
}

#[tokio::test]
async fn a_preparation_notes_intention_reaches_the_dosing_session_and_its_checklist() {
    let c = Clinic::open().await;
    let prep = c.first(SessionKind::Preparation).to_string();
    // The chart offers the kinds a therapist writes; the form starts from the template.
    let chart = c
        .app
        .get(&format!("/patients/{}", c.patient), Some(&c.therapist))
        .await;
    assert!(chart.body.contains("Write a note"), "{}", chart.body);
    assert!(chart.body.contains("kind=preparation"));
    let form = c
        .app
        .get(
            &format!(
                "/patients/{}/notes/new?kind=preparation&appointment={prep}",
                c.patient
            ),
            Some(&c.therapist),
        )
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("in their own words"));
    let id = c
        .note(
            &c.therapist,
            "preparation",
            &[
                ("appointment", &prep),
                ("intention", "To stop bracing for bad news"),
                ("fears", "Losing control"),
                ("then", "sign"),
            ],
        )
        .await;
    let page = c.app.get(&format!("/notes/{id}"), Some(&c.nurse)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("To stop bracing for bad news"));
    assert!(page.body.contains("Content hash"));
    assert!(page.body.contains("matches its signature"));
    let sid = c.session().await;
    let session = c.app.get(&format!("/dosing/{sid}"), Some(&c.nurse)).await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.body);
    assert!(session.body.contains("“To stop bracing for bad news”"));
    // The checklist's intention field is offered the patient's words.
    assert!(
        session
            .body
            .contains(r#"name="intention" value="To stop bracing for bad news""#),
        "{}",
        session.body
    );
    // The coordinator sees none of it (no notes on the dosing page they cannot open anyway).
    let coordinator = c.app.browser(Role::Coordinator).await;
    let r = c.app.get(&format!("/notes/{id}"), Some(&coordinator)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_integration_commitment_shows_at_the_next_session_and_is_reviewed_there() {
    let c = Clinic::open().await;
    let sid = c.session().await;
    let week = (Utc::now().date_naive() + Duration::days(7)).to_string();
    let integration = c.first(SessionKind::Integration).to_string();
    let id = c
        .note(
            &c.therapist,
            "integration",
            &[
                ("appointment", &integration),
                ("themes", "Grief for her father"),
                ("commitment-0-text", "Call my sister on Sundays"),
                ("commitment-0-date", &week),
                ("domain-self_talk-level", "clear"),
                ("domain-self_talk-text", "Softened 'I'm useless' twice"),
                ("then", "sign"),
            ],
        )
        .await;
    let session = c.app.get(&format!("/dosing/{sid}"), Some(&c.pres)).await;
    assert!(session.body.contains("Call my sister on Sundays"));
    assert!(
        session
            .body
            .contains("Softened &#39;I&#39;m useless&#39; twice")
            || session.body.contains("Softened")
    );
    assert!(session.body.contains("A pause on harsh self-talk"));
    // The next preparation note's page shows it to review.
    let next = c
        .note(
            &c.therapist,
            "preparation",
            &[("intention", "To keep calling")],
        )
        .await;
    let page = c
        .app
        .get(&format!("/notes/{next}"), Some(&c.therapist))
        .await;
    assert!(page.body.contains("Commitments from earlier sessions"));
    assert!(page.body.contains("Call my sister on Sundays"));
    let commitment = c
        .app
        .store
        .commitments_of_patient(&Actor::system(), c.app.clinic, c.patient, Some(c.course))
        .await
        .expect("commitments")[0]
        .id;
    let next_s = next.to_string();
    let r = c
        .app
        .post(
            &format!("/commitments/{commitment}/reviews"),
            &c.therapist,
            &[("note", &next_s), ("status", ""), ("review_note", "typed")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choose what became of the commitment"));
    assert!(
        r.body.contains(r#"value="typed""#),
        "the note comes back as typed"
    );
    let r = c
        .app
        .post(
            &format!("/commitments/{commitment}/reviews"),
            &c.therapist,
            &[
                ("note", &next_s),
                ("status", "kept"),
                ("review_note", "Every Sunday"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c
        .app
        .get(&format!("/notes/{next}"), Some(&c.therapist))
        .await;
    assert!(page.body.contains("Kept: Every Sunday"));
    // Kept: no longer carried to the dosing session; the integration note stays as signed.
    let session = c.app.get(&format!("/dosing/{sid}"), Some(&c.pres)).await;
    assert!(!session.body.contains("Call my sister on Sundays"));
    let n = c.app.get(&format!("/notes/{id}"), Some(&c.pres)).await;
    assert!(n.body.contains("matches its signature"));
    assert!(n.body.contains("Kept"));
}

#[tokio::test]
async fn a_therapist_adds_observations_from_the_dosing_page() {
    let c = Clinic::open().await;
    let sid = c.session().await;
    let page = c
        .app
        .get(&format!("/dosing/{sid}"), Some(&c.therapist))
        .await;
    assert!(page.body.contains("Add to my in-session note"));
    let nurse_page = c.app.get(&format!("/dosing/{sid}"), Some(&c.nurse)).await;
    assert!(
        !nurse_page.body.contains("Add to my in-session note"),
        "nurses record observations on the flowsheet"
    );
    let r = c
        .app
        .post(
            &format!("/dosing/{sid}/note-observations"),
            &c.therapist,
            &[("text", "Eyes closed, breathing slow"), ("at", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = c
        .app
        .post(
            &format!("/dosing/{sid}/note-observations"),
            &c.therapist,
            &[("text", "  "), ("at", "9h")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Enter the time as hours and minutes"));
    let r = c
        .app
        .post(
            &format!("/dosing/{sid}/note-observations"),
            &c.nurse,
            &[("text", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("flowsheet"));
    let page = c.app.get(&format!("/dosing/{sid}"), Some(&c.pres)).await;
    assert!(page.body.contains("Eyes closed, breathing slow"));
    assert_eq!(count(&c.app, "note").await, 1);
}

#[tokio::test]
async fn signing_another_persons_note_or_editing_a_signed_one_is_refused_and_changes_nothing() {
    let c = Clinic::open().await;
    let id = c
        .note(&c.therapist, "preparation", &[("intention", "To rest")])
        .await;
    let other = c.app.browser(Role::Therapist).await;
    let r = c.app.post(&format!("/notes/{id}/sign"), &other, &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("only its author may sign it"), "{}", r.body);
    let r = c
        .app
        .post(
            &format!("/notes/{id}"),
            &other,
            &[("intention", "Changed by someone else")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let page = c.app.get(&format!("/notes/{id}"), Some(&other)).await;
    assert!(page.body.contains("To rest") && !page.body.contains("Changed by someone else"));
    assert!(page.body.contains("only its author edits it"));
    // The author signs; then nobody edits it, not even the author.
    let r = c
        .app
        .post(&format!("/notes/{id}/sign"), &c.therapist, &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = c
        .app
        .post(
            &format!("/notes/{id}"),
            &c.therapist,
            &[("intention", "Rewritten"), ("then", "save")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("signed and locked"));
    let r = c
        .app
        .post(&format!("/notes/{id}/discard"), &c.therapist, &[])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let n = c
        .app
        .store
        .note(&Actor::system(), c.app.clinic, id)
        .await
        .expect("note")
        .note;
    assert_eq!(
        n.content.text(kap_domain::notes::Section::Intention),
        "To rest"
    );
    assert_eq!(n.verify(), Some(true));
    // An addendum, with its reason, is how a signed note grows.
    let r = c
        .app
        .post(
            &format!("/notes/{id}/addenda"),
            &other,
            &[("reason", ""), ("text", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Say why the addendum is written"));
    let r = c
        .app
        .post(
            &format!("/notes/{id}/addenda"),
            &other,
            &[
                ("reason", "Sister will drive"),
                ("text", "Confirmed by phone."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.app.get(&format!("/notes/{id}"), Some(&c.nurse)).await;
    assert!(page.body.contains("Sister will drive") && page.body.contains("Confirmed by phone."));
}

#[tokio::test]
async fn text_beyond_the_limit_is_refused_by_name_and_nothing_is_stored() {
    let c = Clinic::open().await;
    // Three fields of 20,001 characters: about 60 KB, accented: beyond the usual 64 KiB body.
    let long = "é".repeat(LONG_TEXT_MAX + 1);
    let r = c
        .write(
            &c.therapist,
            "preparation",
            &[
                ("intention", "To rest"),
                ("expectations", &long),
                ("fears", &long),
                ("support_plan", &long),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        &r.body[..r.body.len().min(500)]
    );
    assert!(r.body.contains("the limit is 20,000 characters"));
    assert!(r.body.contains("20,001"));
    assert!(r.body.contains(r#"id="e-fears""#));
    assert!(r.body.contains("To rest"), "what was typed comes back");
    assert_eq!(count(&c.app, "note").await, 0);
    // At the limit, every field is kept whole.
    let at = "é".repeat(LONG_TEXT_MAX);
    let id = c
        .note(
            &c.therapist,
            "preparation",
            &[
                ("intention", "To rest"),
                ("expectations", &at),
                ("fears", &at),
            ],
        )
        .await;
    let n = c
        .app
        .store
        .note(&Actor::system(), c.app.clinic, id)
        .await
        .expect("note")
        .note;
    assert_eq!(
        n.content
            .text(kap_domain::notes::Section::Fears)
            .chars()
            .count(),
        LONG_TEXT_MAX
    );
    // An edit beyond the limit leaves the draft as it was.
    let r = c
        .app
        .post(
            &format!("/notes/{id}"),
            &c.therapist,
            &[("intention", &long), ("then", "save")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let after = c
        .app
        .store
        .note(&Actor::system(), c.app.clinic, id)
        .await
        .expect("note")
        .note;
    assert_eq!(after.content, n.content);
    // Beyond even the note form's own limit: the calm "too much" page, nothing stored.
    let huge = "x".repeat(kap_web_note_limit() + 1);
    let r = c
        .write(&c.therapist, "preparation", &[("intention", &huge)])
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("Too much at once"));
    assert_eq!(count(&c.app, "note").await, 1);
}

fn kap_web_note_limit() -> usize {
    1024 * 1024
}

/// Every way someone might see a psychotherapy note: its page, the chart, the API (list and
/// one), the lists of unsigned notes and the timeline's lines.
#[tokio::test]
async fn a_psychotherapy_note_is_seen_by_its_author_and_grantee_only_from_every_role() {
    let c = Clinic::open().await;
    let words = "Transference: she heard her father in my silence";
    let id = c
        .note(
            &c.therapist,
            "psychotherapy",
            &[("process_notes", words), ("then", "sign")],
        )
        .await;
    let granted = c.app.browser(Role::Nurse).await;
    let granted_id = granted.staff_id.to_string();
    let r = c
        .app
        .post(
            &format!("/notes/{id}/shares"),
            &c.therapist,
            &[("grantee", &granted_id), ("action", "grant")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let ungranted = c.app.browser(Role::Therapist).await;
    let coordinator = c.app.browser(Role::Coordinator).await;
    let admin = c.app.browser(Role::Admin).await;
    let cases: [(&str, &Browser, bool); 7] = [
        ("author", &c.therapist, true),
        ("granted nurse", &granted, true),
        ("ungranted therapist", &ungranted, false),
        ("prescriber", &c.pres, false),
        ("nurse", &c.nurse, false),
        ("coordinator", &coordinator, false),
        ("admin", &admin, false),
    ];
    let nowhere = c
        .app
        .get(&format!("/notes/{}", Uuid::now_v7()), Some(&c.pres))
        .await;
    for (who, b, sees) in cases {
        let page = c.app.get(&format!("/notes/{id}"), Some(b)).await;
        let chart = c
            .app
            .get(&format!("/patients/{}", c.patient), Some(b))
            .await;
        let unsigned = c.app.get("/notes/unsigned", Some(b)).await;
        if sees {
            assert_eq!(page.status, StatusCode::OK, "{who}");
            assert!(page.body.contains(words), "{who}");
            assert!(chart.body.contains(&format!("/notes/{id}")), "{who}");
        } else {
            // Refused exactly as a note that does not exist, or by role before that.
            let expected = if matches!(who, "coordinator" | "admin") {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(page.status, expected, "{who}");
            if expected == StatusCode::NOT_FOUND {
                assert_eq!(
                    page.body, nowhere.body,
                    "{who}: a refusal looks like nothing there"
                );
            }
            assert!(!page.body.contains(words), "{who}");
            assert!(!chart.body.contains(&id.to_string()), "{who}: chart");
            assert!(
                !chart.body.contains("<h3>Psychotherapy notes</h3>"),
                "{who}: not even that one exists"
            );
        }
        assert!(
            !unsigned.body.contains(&id.to_string()),
            "{who}: a signed note is not unsigned"
        );
        assert!(!unsigned.body.contains(words), "{who}");
    }
    // The API, by any role's token — the author's own included.
    let author_token = c
        .app
        .store
        .create_api_token(&Actor::system(), c.therapist.staff_id, c.app.clinic, "test")
        .await
        .expect("token")
        .1;
    let mut tokens = vec![("author's token", author_token)];
    for role in [Role::Prescriber, Role::Nurse, Role::Therapist] {
        tokens.push(("token", c.app.api_token(role).await));
    }
    for (who, t) in &tokens {
        let one = c
            .app
            .api("GET", &format!("/api/v1/notes/{id}"), Some(t), None)
            .await;
        assert_eq!(one.status, StatusCode::NOT_FOUND, "{who}");
        assert!(!one.body.contains(words));
        let list = c
            .app
            .api(
                "GET",
                &format!("/api/v1/patients/{}/notes", c.patient),
                Some(t),
                None,
            )
            .await;
        assert_eq!(list.status, StatusCode::OK, "{who}");
        assert_eq!(list.json(), serde_json::json!([]), "{who}");
    }
    for role in [Role::Coordinator, Role::Admin] {
        let t = c.app.api_token(role).await;
        let one = c
            .app
            .api("GET", &format!("/api/v1/notes/{id}"), Some(&t), None)
            .await;
        assert_eq!(one.status, StatusCode::FORBIDDEN);
    }
    // The timeline's lines leave it out, for everyone.
    let lines = c
        .app
        .store
        .note_lines_of_patient(&Actor::system(), c.app.clinic, c.patient)
        .await
        .expect("lines");
    assert!(lines.is_empty());
    // A psychotherapy draft is in its author's unsigned list, and in no one else's.
    let draft = c
        .note(&c.therapist, "psychotherapy", &[("process_notes", "draft")])
        .await;
    let mine = c.app.get("/notes/unsigned", Some(&c.therapist)).await;
    assert!(mine.body.contains(&draft.to_string()));
    let prescriber_view = c.app.get("/notes/unsigned", Some(&c.pres)).await;
    assert!(!prescriber_view.body.contains(&draft.to_string()));
    // Revoked: the nurse no longer finds it. Every refusal and share is audited, by id only.
    let r = c
        .app
        .post(
            &format!("/notes/{id}/shares"),
            &c.therapist,
            &[("grantee", &granted_id), ("action", "revoke")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.app.get(&format!("/notes/{id}"), Some(&granted)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let actions = c.app.audit_actions().await;
    assert!(actions.iter().filter(|a| *a == "note.share").count() == 2);
    assert!(actions.iter().filter(|a| *a == "access.refused").count() >= 4);
    // A nurse may not write one at all.
    let r = c
        .write(&c.nurse, "psychotherapy", &[("process_notes", "x")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .app
        .get(
            &format!("/patients/{}/notes/new?kind=psychotherapy", c.patient),
            Some(&c.nurse),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_api_lists_a_patients_notes_and_returns_one_with_its_addenda() {
    let c = Clinic::open().await;
    let id = c
        .note(
            &c.therapist,
            "progress",
            &[
                ("format", "dap"),
                ("data", "Slept 7 h; PHQ-9 11"),
                ("assessment", "Improving"),
                ("plan", "Continue"),
                ("then", "sign"),
            ],
        )
        .await;
    let r = c
        .app
        .post(
            &format!("/notes/{id}/addenda"),
            &c.therapist,
            &[("reason", "Score corrected"), ("text", "PHQ-9 was 10")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let token = c.app.api_token(Role::Prescriber).await;
    let list = c
        .app
        .api(
            "GET",
            &format!("/api/v1/patients/{}/notes", c.patient),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let j = list.json();
    assert_eq!(j[0]["kind"], "progress");
    assert_eq!(j[0]["status"], "signed");
    assert_eq!(j[0]["summary"], "Improving");
    let one = c
        .app
        .api("GET", &format!("/api/v1/notes/{id}"), Some(&token), None)
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    let j = one.json();
    assert_eq!(j["format"], "dap");
    assert_eq!(j["sections"][0]["section"], "data");
    assert_eq!(j["addenda"][0]["reason"], "Score corrected");
    assert_eq!(j["content_hash"].as_str().map(str::len), Some(64));
}

#[tokio::test]
async fn an_overdue_draft_shows_on_its_authors_home_and_a_supervisor_co_signs_from_theirs() {
    let c = Clinic::open().await;
    let t = Actor::staff(
        c.therapist.staff_id,
        kap_domain::audit::ActorKind::Staff,
        c.app.clinic,
        None,
    );
    let old = c
        .app
        .store
        .start_note(
            &t,
            c.app.clinic,
            &kap_store::notes::NewNote {
                patient_id: c.patient,
                kind: kap_domain::notes::NoteKind::Progress,
                appointment_id: None,
                dosing_session_id: None,
                content: kap_domain::notes::NoteContent {
                    format: Some(kap_domain::notes::ProgressFormat::Soap),
                    ..Default::default()
                },
            },
            kap_store::now() - Duration::hours(100),
        )
        .await
        .expect("old draft");
    let home = c.app.get("/", Some(&c.therapist)).await;
    assert!(
        home.body.contains("unsigned for more than 72 hours"),
        "{}",
        home.body
    );
    assert!(home.body.contains(&format!("/notes/{old}")));
    // The administrator names the prescriber as the therapist's supervisor.
    let admin = c.app.browser(Role::Admin).await;
    let (tid, pid) = (
        c.therapist.staff_id.to_string(),
        c.pres.staff_id.to_string(),
    );
    let r = c
        .app
        .post(
            "/admin/notes",
            &admin,
            &[
                ("unsigned_after_hours", "0"),
                ("clinician-0", &tid),
                ("supervisor-0", &tid),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choose between 1 and 720 hours"));
    assert!(r.body.contains("cannot supervise themself"));
    let r = c
        .app
        .post(
            "/admin/notes",
            &admin,
            &[
                ("unsigned_after_hours", "48"),
                ("clinician-0", &tid),
                ("supervisor-0", &pid),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let settings = c.app.get("/admin/notes", Some(&admin)).await;
    assert!(settings.body.contains("Unsigned notes by clinician"));
    assert!(
        !settings.body.contains("Rosa Santos"),
        "no patient names for the administrator"
    );
    let id = c
        .note(
            &c.therapist,
            "preparation",
            &[("intention", "To trust my body"), ("then", "sign")],
        )
        .await;
    let page = c.app.get(&format!("/notes/{id}"), Some(&c.therapist)).await;
    assert!(page.body.contains("Awaiting co-signature by"));
    let other = c.app.browser(Role::Prescriber).await;
    let r = c
        .app
        .post(&format!("/notes/{id}/cosign"), &other, &[])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("who supervises the note"));
    let home = c.app.get("/", Some(&c.pres)).await;
    assert!(home.body.contains("Awaiting your co-signature"));
    assert!(home.body.contains(&format!("/notes/{id}")));
    let r = c
        .app
        .post(&format!("/notes/{id}/cosign"), &c.pres, &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.app.get(&format!("/notes/{id}"), Some(&c.nurse)).await;
    assert!(page.body.contains("Co-signed by"));
    // Prescribers see everyone's unsigned notes; the therapist only their own.
    let list = c.app.get("/notes/unsigned", Some(&c.pres)).await;
    assert!(list.body.contains(&format!("/notes/{old}")));
    assert!(list.body.contains("Every clinician"));
    let nurse_list = c.app.get("/notes/unsigned", Some(&c.nurse)).await;
    assert!(!nurse_list.body.contains(&format!("/notes/{old}")));
}

#[tokio::test]
async fn a_bad_template_is_refused_field_by_field_and_a_good_one_is_used_by_new_notes() {
    let c = Clinic::open().await;
    let admin = c.app.browser(Role::Admin).await;
    let page = c
        .app
        .get("/admin/note-templates/preparation", Some(&admin))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let mut fields: Vec<(String, String)> = kap_domain::notes::NoteKind::Preparation
        .template_sections()
        .into_iter()
        .map(|s| (format!("{}-heading", s.as_str()), s.label().to_owned()))
        .collect();
    fields[0].1 = String::new();
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = c
        .app
        .post("/admin/note-templates/preparation", &admin, &pairs)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Give the section a heading"));
    fields[0].1 = "What you hope for".into();
    fields.push((
        "set_and_setting-default".into(),
        "Music: clinic playlist. Eye mask offered.".into(),
    ));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = c
        .app
        .post("/admin/note-templates/preparation", &admin, &pairs)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let form = c
        .app
        .get(
            &format!("/patients/{}/notes/new?kind=preparation", c.patient),
            Some(&c.therapist),
        )
        .await;
    assert!(form.body.contains("What you hope for"));
    assert!(
        form.body
            .contains("Music: clinic playlist. Eye mask offered.")
    );
    let r = c
        .app
        .get("/admin/note-templates/nonsense", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = c.app.get("/admin/note-templates", Some(&c.therapist)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
