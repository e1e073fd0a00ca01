//! A staff member's calendar feed (RFC 5545 iCalendar): a private address made on request
//! (shown once; making another ends it) that calendar apps poll. Events carry the session,
//! its room and time; a patient's name only when the clinic allows it. Cancelled sessions stay
//! in the feed as cancelled, so calendar apps drop them.

use crate::AppState;
use crate::http::Staff;
use crate::http::csrf::CsrfForm;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::Fields;
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use kap_domain::course::{Appointment, AppointmentStatus};

#[derive(Template)]
#[template(path = "course/feed.html")]
struct FeedPage {
    shell: Shell,
    url: String,
}

pub(super) async fn issue(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(_f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let token = st
        .store
        .issue_calendar_feed(&staff.actor(), staff.clinic_id())
        .await?;
    Ok(render(
        &FeedPage {
            shell: Shell::staff(&staff, "Your calendar address", "calendar")
                .with_notice(Some("feed-issued")),
            url: format!("{}/feeds/calendar/{token}.ics", st.config.public_url),
        },
        StatusCode::OK,
    ))
}

/// The clinic's choice whether feeds carry patients' names.
pub(super) async fn names(
    State(st): State<AppState>,
    staff: Staff,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    st.store
        .set_calendar_shows_names(
            &staff.actor(),
            staff.clinic_id(),
            crate::http::extract::field(&f, "names") == "yes",
        )
        .await?;
    Ok(crate::http::extract::see_other(
        "/admin/clinic?notice=saved",
    ))
}

pub(super) async fn ics(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let token = token.strip_suffix(".ics").unwrap_or(&token);
    if !crate::public::well_formed(token) {
        return Err(AppError::NotFound);
    }
    let Some(feed) = st.store.calendar_feed(token).await? else {
        return Err(AppError::NotFound);
    };
    let now = kap_store::now();
    let list = st
        .store
        .feed_appointments(&feed, now - Duration::days(30), now + Duration::days(180))
        .await?;
    let body = calendar(&feed.clinic_name, &list, feed.shows_names, now);
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body,
    )
        .into_response())
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

/// Folds a content line at 75 octets (RFC 5545 §3.1), never inside a character.
fn fold(line: &str, out: &mut String) {
    let mut n = 0;
    for ch in line.chars() {
        let w = ch.len_utf8();
        if n + w > 75 {
            out.push_str("\r\n ");
            n = 1;
        }
        out.push(ch);
        n += w;
    }
    out.push_str("\r\n");
}

fn stamp(t: &DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The feed's iCalendar text.
pub fn calendar(clinic: &str, list: &[Appointment], names: bool, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Kapstone//Calendar feed//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        fold(l, &mut out);
    }
    fold(
        &format!("X-WR-CALNAME:{}", text(&format!("Kapstone — {clinic}"))),
        &mut out,
    );
    for a in list {
        let summary = if names {
            format!("{} — {}", a.title(), a.patient_name)
        } else {
            a.title()
        };
        fold("BEGIN:VEVENT", &mut out);
        fold(&format!("UID:{}@kapstone", a.id), &mut out);
        fold(&format!("DTSTAMP:{}", stamp(&now)), &mut out);
        fold(&format!("DTSTART:{}", stamp(&a.starts_at)), &mut out);
        fold(&format!("DTEND:{}", stamp(&a.ends_at)), &mut out);
        fold(&format!("SUMMARY:{}", text(&summary)), &mut out);
        if let Some(r) = &a.room_name {
            fold(&format!("LOCATION:{}", text(r)), &mut out);
        }
        let status = match a.status {
            AppointmentStatus::Cancelled | AppointmentStatus::Missed => "CANCELLED",
            _ => "CONFIRMED",
        };
        fold(&format!("STATUS:{status}"), &mut out);
        fold("END:VEVENT", &mut out);
    }
    fold("END:VCALENDAR", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kap_domain::protocol::SessionKind;
    use uuid::Uuid;

    fn appt(status: AppointmentStatus) -> Appointment {
        let t = DateTime::UNIX_EPOCH + Duration::days(20_000);
        Appointment {
            id: Uuid::nil(),
            clinic_id: Uuid::nil(),
            patient_id: Uuid::nil(),
            patient_name: "Ana Díaz, Jr.".into(),
            course_id: None,
            kind: SessionKind::Dosing,
            number: Some(2),
            phase: Some("induction".into()),
            starts_at: t,
            ends_at: t + Duration::minutes(135),
            staff_id: None,
            staff_name: None,
            room_id: None,
            room_name: Some("Chair 1; window".into()),
            status,
            status_reason: None,
        }
    }

    #[test]
    fn a_feed_is_rfc5545_text_without_names_unless_allowed() {
        let now = DateTime::UNIX_EPOCH;
        let body = calendar("Clinic", &[appt(AppointmentStatus::Planned)], false, now);
        assert!(body.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(body.ends_with("END:VCALENDAR\r\n"));
        assert!(body.contains("SUMMARY:Dosing 2 (induction)\r\n"));
        assert!(body.contains("LOCATION:Chair 1\\; window\r\n"));
        assert!(body.contains("DTSTART:20241004T000000Z\r\n"));
        assert!(!body.contains("Díaz"));
        let named = calendar("Clinic", &[appt(AppointmentStatus::Cancelled)], true, now);
        assert!(named.contains("SUMMARY:Dosing 2 (induction) — Ana Díaz\\, Jr.\r\n"));
        assert!(named.contains("STATUS:CANCELLED\r\n"));
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let mut out = String::new();
        fold(&format!("SUMMARY:{}", "é".repeat(60)), &mut out);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{line}");
        }
        assert_eq!(
            out.replace("\r\n ", "").trim_end(),
            format!("SUMMARY:{}", "é".repeat(60))
        );
    }
}
