//! A course's timeline through the router: the checked-in dosing session and the scores
//! interleaved by time for a prescriber, the scores hidden from a coordinator, a filter by
//! strand, an unknown strand named in a message rather than ignored, notes on it but never a
//! psychotherapy note.

use super::dosing::{IV, Seat};
use super::measure::phq9_fields;
use super::*;

#[tokio::test]
async fn a_course_timeline_tells_the_story_each_role_may_read() {
    let seat = Seat::take(IV, "Tess Lind").await;
    let app = &seat.app;
    let session = seat.open().await;
    let course = app
        .store
        .courses_of(&Actor::system(), app.clinic, seat.patient)
        .await
        .expect("courses")
        .first()
        .expect("a course")
        .0
        .id;
    let mut f = phq9_fields(["2", "2", "1", "1", "1", "1", "1", "0", "0"]);
    f.push(("instrument".into(), "phq9".into()));
    f.push(("context".into(), "between_sessions".into()));
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app
        .post(
            &format!("/patients/{}/responses", seat.patient),
            &seat.nurse,
            &refs,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // The therapist's signed preparation note, and a psychotherapy note of their own.
    let therapist = app.browser(Role::Therapist).await;
    for (kind, field, words) in [
        ("preparation", "intention", "To stop bracing for bad news"),
        (
            "psychotherapy",
            "process_notes",
            "Transference: heard her father",
        ),
    ] {
        let r = app
            .post(
                &format!("/patients/{}/notes", seat.patient),
                &therapist,
                &[("kind", kind), (field, words), ("then", "sign")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }

    let url = format!("/courses/{course}/timeline");
    // A psychotherapy note is kept apart from the record: not on the timeline, even for its
    // author.
    let page = app.get(&url, Some(&therapist)).await;
    assert!(page.body.contains("Preparation note by"), "{}", page.body);
    assert!(page.body.contains("To stop bracing for bad news"));
    assert!(!page.body.contains("Transference"));
    assert!(!page.body.contains("Psychotherapy"));
    let page = app.get(&url, Some(&seat.pres)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!("href=\"/dosing/{session}\"")));
    assert!(page.body.contains("PHQ-9 9"), "{}", page.body);
    assert!(page.body.contains("Pre-dose checks"));
    // The session was opened before the score was entered: it comes first.
    let at_session = page
        .body
        .find(&format!("/dosing/{session}"))
        .expect("session");
    let at_score = page.body.find("PHQ-9 9").expect("score");
    assert!(at_session < at_score);

    // Only the scores.
    let only = app
        .get(&format!("{url}?show=score"), Some(&seat.pres))
        .await;
    assert_eq!(only.status, StatusCode::OK);
    assert!(only.body.contains("PHQ-9 9"));
    assert!(!only.body.contains(&format!("href=\"/dosing/{session}\"")));

    // A strand that does not exist is named, not silently ignored.
    let bad = app
        .get(&format!("{url}?show=gossip"), Some(&seat.pres))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("gossip"));

    // A coordinator follows the sessions, never the scores.
    let coord = app.browser(Role::Coordinator).await;
    let page = app.get(&url, Some(&coord)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("PHQ-9"));
    assert!(!page.body.contains("bracing"));
    assert!(!page.body.contains("value=\"score\""));
    // An administrator does not read courses at all.
    let admin = app.browser(Role::Admin).await;
    assert_eq!(
        app.get(&url, Some(&admin)).await.status,
        StatusCode::FORBIDDEN
    );
}
