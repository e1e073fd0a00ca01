//! Appointments: booking one (with its clashes refused), the calendar of a clinic, a staff
//! member or a room, moving, cancelling, checking in, missed and done, the today board, and
//! the questionnaire links "before appointment" schedules send.

use super::{change_status, load_course, lock_bookings, room_for, staff_with_role};
use crate::db::{Tx, exec, fetch_all, fetch_opt};
use crate::error::{Conflict, Result, StoreError, code};
use crate::measure::link::{NewLink, insert_link};
use crate::measure::patient_in_clinic;
use crate::measure::schedule::LinkDelivery;
use crate::{Store, new_id, now};
use chrono::{DateTime, Duration, Utc};
use kap_domain::FieldErrors;
use kap_domain::Role;
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::course::appointment::{AppointmentAction, Clash, parse_cancel_reason};
use kap_domain::course::{Appointment, AppointmentStatus, CourseStatus};
use kap_domain::instruments::ResponseContext;
use kap_domain::protocol::SessionKind;
use kap_domain::time::TimeZone;
use uuid::Uuid;

const RECORD: &str = "appointment";

/// A session to book.
#[derive(Debug, Clone)]
pub struct Booking {
    pub patient_id: Uuid,
    pub course_id: Option<Uuid>,
    pub kind: SessionKind,
    pub number: Option<i32>,
    pub phase: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub staff_id: Option<Uuid>,
    pub room_id: Option<Uuid>,
}

impl Booking {
    /// "Dosing 3 on 2026-12-08 10:00 EST".
    pub fn describe(&self, tz: TimeZone) -> String {
        let title = match self.number {
            Some(n) => format!("{} {n}", self.kind.label()),
            None => self.kind.label().to_owned(),
        };
        format!("{title} on {}", tz.format(&self.starts_at))
    }
}

#[derive(sqlx::FromRow)]
struct AppointmentRow {
    id: Uuid,
    clinic_id: Uuid,
    patient_id: Uuid,
    patient_name: String,
    course_id: Option<Uuid>,
    kind: String,
    number: Option<i32>,
    phase: Option<String>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    staff_id: Option<Uuid>,
    staff_name: Option<String>,
    room_id: Option<Uuid>,
    room_name: Option<String>,
    status: String,
    status_reason: Option<String>,
}

impl TryFrom<AppointmentRow> for Appointment {
    type Error = StoreError;
    fn try_from(r: AppointmentRow) -> Result<Self> {
        Ok(Appointment {
            kind: code(RECORD, r.id, "kind", &r.kind)?,
            status: code(RECORD, r.id, "status", &r.status)?,
            id: r.id,
            clinic_id: r.clinic_id,
            patient_id: r.patient_id,
            patient_name: r.patient_name,
            course_id: r.course_id,
            number: r.number,
            phase: r.phase,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            staff_id: r.staff_id,
            staff_name: r.staff_name,
            room_id: r.room_id,
            room_name: r.room_name,
            status_reason: r.status_reason,
        })
    }
}

const APPT_SQL: &str = "SELECT a.id, a.clinic_id, a.patient_id, p.full_name AS patient_name,
    a.course_id, a.kind, a.number, a.phase, a.starts_at, a.ends_at, a.staff_id,
    u.full_name AS staff_name, a.room_id, r.name AS room_name, a.status, a.status_reason
    FROM appointment a JOIN patient p ON p.id = a.patient_id
    LEFT JOIN staff_user u ON u.id = a.staff_id
    LEFT JOIN room r ON r.id = a.room_id";

fn appointments(rows: Vec<AppointmentRow>) -> Result<Vec<Appointment>> {
    rows.into_iter().map(Appointment::try_from).collect()
}

pub(crate) async fn of_course(tx: &mut Tx, course_id: Uuid) -> Result<Vec<Appointment>> {
    let sql = format!("{APPT_SQL} WHERE a.course_id = $1 ORDER BY a.starts_at, a.id");
    appointments(fetch_all!(
        tx(tx),
        AppointmentRow,
        sqlx::AssertSqlSafe(sql),
        course_id
    ))
}

async fn load(tx: &mut Tx, clinic_id: Uuid, id: Uuid) -> Result<Appointment> {
    let sql = format!("{APPT_SQL} WHERE a.id = $1 AND a.clinic_id = $2");
    fetch_opt!(
        tx(tx),
        AppointmentRow,
        sqlx::AssertSqlSafe(sql),
        id,
        clinic_id
    )
    .ok_or(StoreError::NotFound)?
    .try_into()
}

/// What `b` would clash with among the clinic's bookings that hold their time (leaving out
/// the appointment being moved): the same room, the same staff member, the same patient.
pub(crate) async fn clashes(
    tx: &mut Tx,
    clinic_id: Uuid,
    b: &Booking,
    moving: Option<Uuid>,
    tz: TimeZone,
) -> Result<Vec<Clash>> {
    let sql = format!(
        "{APPT_SQL} WHERE a.clinic_id = $1 AND a.status IN ('planned', 'checked_in', 'completed')
         AND a.starts_at < $2 AND a.ends_at > $3 AND a.id <> $4
         AND (a.patient_id = $5 OR a.staff_id = $6 OR a.room_id = $7)
         ORDER BY a.starts_at"
    );
    let rows = appointments(fetch_all!(
        tx(tx),
        AppointmentRow,
        sqlx::AssertSqlSafe(sql),
        clinic_id,
        b.ends_at,
        b.starts_at,
        moving.unwrap_or(Uuid::nil()),
        b.patient_id,
        b.staff_id,
        b.room_id
    ))?;
    let mut out = vec![];
    for o in rows {
        let span = format!("{}–{}", tz.hm(&o.starts_at), tz.hm(&o.ends_at));
        let what = if o.patient_id == b.patient_id {
            format!("the patient's own {} ({span})", o.title())
        } else if b.room_id.is_some() && o.room_id == b.room_id {
            format!(
                "{} (booked {span} for another patient)",
                o.room_name.as_deref().unwrap_or("the room")
            )
        } else {
            format!(
                "{}'s other appointment ({span})",
                o.staff_name.as_deref().unwrap_or("the staff member")
            )
        };
        out.push(Clash {
            session: b.describe(tz),
            with: what,
        });
    }
    Ok(out)
}

pub(crate) async fn insert_appointment(
    tx: &mut Tx,
    clinic_id: Uuid,
    b: &Booking,
    by: Option<Uuid>,
) -> Result<Uuid> {
    let id = new_id();
    let t = now();
    exec!(
        tx(tx),
        "INSERT INTO appointment (id, clinic_id, patient_id, course_id, kind, number, phase,
            starts_at, ends_at, staff_id, room_id, status, status_reason, status_changed_at,
            created_by, created_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,'planned',NULL,$12,$13,$12)",
        id,
        clinic_id,
        b.patient_id,
        b.course_id,
        b.kind.as_str(),
        b.number,
        b.phase.as_deref(),
        b.starts_at,
        b.ends_at,
        b.staff_id,
        b.room_id,
        t,
        by
    );
    Ok(id)
}

/// Which appointments a calendar shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct CalendarFilter {
    pub staff_id: Option<Uuid>,
    pub room_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
}

/// A new single appointment (an extra session, a course's session added by hand).
#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub patient_id: Uuid,
    pub course_id: Option<Uuid>,
    pub kind: SessionKind,
    pub starts_at: DateTime<Utc>,
    pub minutes: i64,
    pub staff_id: Option<Uuid>,
    pub room_id: Option<Uuid>,
    pub tz: TimeZone,
}

/// Where an appointment moves to.
#[derive(Debug, Clone)]
pub struct Move {
    pub starts_at: DateTime<Utc>,
    pub staff_id: Option<Uuid>,
    pub room_id: Option<Uuid>,
    pub tz: TimeZone,
}

async fn check_people_and_place(
    tx: &mut Tx,
    clinic_id: Uuid,
    kind: SessionKind,
    staff_id: Option<Uuid>,
    room_id: Option<Uuid>,
    starts_at: DateTime<Utc>,
) -> Result<()> {
    let mut e = FieldErrors::new();
    if starts_at < now() {
        e.add(
            "starts_at",
            "That time has passed; choose a time from now on.",
        );
    }
    let dosing = kind == SessionKind::Dosing;
    // At the chair: a nurse or a prescriber; talking sessions: any clinician.
    let roles: &[Role] = if dosing {
        &[Role::Nurse, Role::Prescriber]
    } else {
        &[Role::Prescriber, Role::Nurse, Role::Therapist]
    };
    if let Some(s) = staff_id
        && let Some(m) = staff_with_role(tx, clinic_id, s, roles).await?
    {
        e.add("staff", m);
    }
    match room_id {
        Some(r) => {
            if let Some(m) = room_for(tx, clinic_id, r, dosing).await? {
                e.add("room", m);
            }
        }
        None if dosing => e.add("room", "A dosing session needs a dosing chair."),
        None => {}
    }
    if e.is_empty() {
        Ok(())
    } else {
        Err(Conflict::BookingInvalid(e).into())
    }
}

/// A course's dosing session may not come closer to another of its doses than the protocol's
/// minimum gap (counted in days of the clinic's calendar).
async fn dose_gap(
    tx: &mut Tx,
    clinic_id: Uuid,
    b: &Booking,
    moving: Option<Uuid>,
    tz: TimeZone,
) -> Result<()> {
    let (SessionKind::Dosing, Some(course_id)) = (b.kind, b.course_id) else {
        return Ok(());
    };
    let course = load_course(tx, clinic_id, course_id).await?;
    let version = crate::protocol::load_version(tx, clinic_id, course.protocol_id).await?;
    let gap = i64::from(version.protocol.sessions.min_days_between_doses.get());
    let day = tz.date(&b.starts_at);
    for other in of_course(tx, course_id).await? {
        if Some(other.id) == moving
            || other.kind != SessionKind::Dosing
            || !other.status.holds_time()
        {
            continue;
        }
        if (tz.date(&other.starts_at) - day).num_days().abs() < gap {
            return Err(Conflict::BookingInvalid(FieldErrors::single(
                "starts_at",
                format!(
                    "{} is on {}: this protocol needs at least {gap} days between doses.",
                    other.title(),
                    tz.format(&other.starts_at)
                ),
            ))
            .into());
        }
    }
    Ok(())
}

impl Store {
    /// Books one appointment.
    pub async fn book_appointment(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        n: &NewAppointment,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        lock_bookings(a.tx(), clinic_id).await?;
        patient_in_clinic(a.tx(), clinic_id, n.patient_id).await?;
        if let Some(c) = n.course_id {
            let course = load_course(a.tx(), clinic_id, c).await?;
            if course.patient_id != n.patient_id {
                return Err(StoreError::NotFound);
            }
            if !course.status.is_open() {
                return Err(Conflict::NotNow(format!(
                    "The course is {}: it books no more sessions.",
                    course.status.label().to_lowercase()
                ))
                .into());
            }
        }
        check_people_and_place(
            a.tx(),
            clinic_id,
            n.kind,
            n.staff_id,
            n.room_id,
            n.starts_at,
        )
        .await?;
        let b = Booking {
            patient_id: n.patient_id,
            course_id: n.course_id,
            kind: n.kind,
            number: None,
            phase: None,
            starts_at: n.starts_at,
            ends_at: n.starts_at + Duration::minutes(n.minutes),
            staff_id: n.staff_id,
            room_id: n.room_id,
        };
        let found = clashes(a.tx(), clinic_id, &b, None, n.tz).await?;
        if !found.is_empty() {
            return Err(Conflict::Clashes(found).into());
        }
        dose_gap(a.tx(), clinic_id, &b, None, n.tz).await?;
        let id = insert_appointment(a.tx(), clinic_id, &b, actor.staff_id).await?;
        a.record(
            AuditAction::AppointmentBooked,
            Subject::patient(n.patient_id).with_detail(format!("{} {id}", n.kind.as_str())),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// One appointment.
    pub async fn appointment(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
    ) -> Result<Appointment> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let ap = load(a.tx(), clinic_id, id).await?;
        a.record(
            AuditAction::CalendarRead,
            Subject::patient(ap.patient_id).with_detail(format!("appointment {id}")),
        )
        .await?;
        a.commit().await?;
        Ok(ap)
    }

    /// Moves an expected appointment to another time (and staff member or room), keeping its
    /// length; refused when the new time has passed or clashes.
    pub async fn reschedule_appointment(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        m: &Move,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        lock_bookings(a.tx(), clinic_id).await?;
        let ap = load(a.tx(), clinic_id, id).await?;
        ap.may(AppointmentAction::Reschedule, now())
            .map_err(Conflict::NotNow)?;
        check_people_and_place(
            a.tx(),
            clinic_id,
            ap.kind,
            m.staff_id,
            m.room_id,
            m.starts_at,
        )
        .await?;
        let b = Booking {
            patient_id: ap.patient_id,
            course_id: ap.course_id,
            kind: ap.kind,
            number: ap.number,
            phase: ap.phase.clone(),
            starts_at: m.starts_at,
            ends_at: m.starts_at + (ap.ends_at - ap.starts_at),
            staff_id: m.staff_id,
            room_id: m.room_id,
        };
        let found = clashes(a.tx(), clinic_id, &b, Some(id), m.tz).await?;
        if !found.is_empty() {
            return Err(Conflict::Clashes(found).into());
        }
        dose_gap(a.tx(), clinic_id, &b, Some(id), m.tz).await?;
        exec!(
            tx(a.tx()),
            "UPDATE appointment SET starts_at = $1, ends_at = $2, staff_id = $3, room_id = $4
             WHERE id = $5",
            b.starts_at,
            b.ends_at,
            b.staff_id,
            b.room_id,
            id
        );
        a.record(
            AuditAction::AppointmentChanged,
            Subject::patient(ap.patient_id).with_detail(format!(
                "move {id} from {} to {}",
                ap.starts_at.to_rfc3339(),
                b.starts_at.to_rfc3339()
            )),
        )
        .await?;
        a.commit().await
    }

    /// Checks in, marks done, marks missed or cancels (with a reason) an appointment. The
    /// first check-in of a planned course makes it active.
    pub async fn act_on_appointment(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        action: AppointmentAction,
        reason: &str,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let ap = load(a.tx(), clinic_id, id).await?;
        let t = now();
        ap.may(action, t).map_err(Conflict::NotNow)?;
        let (status, why) = match action {
            AppointmentAction::CheckIn => (AppointmentStatus::CheckedIn, None),
            AppointmentAction::Complete => (AppointmentStatus::Completed, None),
            AppointmentAction::MarkMissed => (AppointmentStatus::Missed, None),
            AppointmentAction::Cancel => (
                AppointmentStatus::Cancelled,
                Some(
                    parse_cancel_reason(reason)
                        .map_err(|m| Conflict::BookingInvalid(FieldErrors::single("reason", m)))?,
                ),
            ),
            AppointmentAction::Reschedule => {
                return Err(Conflict::NotNow("Move it with its new time.".into()).into());
            }
        };
        exec!(
            tx(a.tx()),
            "UPDATE appointment SET status = $1, status_reason = $2, status_changed_at = $3
             WHERE id = $4",
            status.as_str(),
            why.as_deref(),
            t,
            id
        );
        if action == AppointmentAction::CheckIn
            && let Some(c) = ap.course_id
        {
            let course = load_course(a.tx(), clinic_id, c).await?;
            if course.status == CourseStatus::Planned {
                change_status(&mut a, &course, CourseStatus::Active, None, actor.staff_id).await?;
            }
        }
        a.record(
            AuditAction::AppointmentChanged,
            Subject::patient(ap.patient_id).with_detail(format!("{} {id}", status.as_str())),
        )
        .await?;
        a.commit().await
    }

    /// The appointments between two moments, by start.
    pub async fn calendar(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: CalendarFilter,
    ) -> Result<Vec<Appointment>> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let sql = format!(
            "{APPT_SQL} WHERE a.clinic_id = $1 AND a.starts_at < $2 AND a.ends_at > $3
             AND ($4 IS NULL OR a.staff_id = $4) AND ($5 IS NULL OR a.room_id = $5)
             AND ($6 IS NULL OR a.patient_id = $6)
             ORDER BY a.starts_at, a.id LIMIT 2000"
        );
        let list = appointments(fetch_all!(
            tx(a.tx()),
            AppointmentRow,
            sqlx::AssertSqlSafe(sql),
            clinic_id,
            to,
            from,
            f.staff_id,
            f.room_id,
            f.patient_id
        ))?;
        a.record(
            AuditAction::CalendarRead,
            Subject::none().with_detail(format!(
                "{} to {}: {} appointments",
                from.to_rfc3339(),
                to.to_rfc3339(),
                list.len()
            )),
        )
        .await?;
        a.commit().await?;
        Ok(list)
    }

    /// Sends the questionnaire links "before appointment" schedules owe: for each expected
    /// appointment of the schedule's kind starting within its hours, one link (made with its
    /// message in the same transaction as the record that it was sent, so never twice).
    pub async fn send_before_appointment_links(
        &self,
        at: DateTime<Utc>,
        d: LinkDelivery<'_>,
    ) -> Result<usize> {
        let due = fetch_all!(
            db(&self.db),
            (
                Uuid,
                Uuid,
                Uuid,
                Uuid,
                String,
                String,
                Option<Uuid>,
                DateTime<Utc>,
                Option<i32>
            ),
            "SELECT q.id, a.id, q.clinic_id, q.patient_id, q.instrument, a.kind, q.created_by,
                    a.starts_at, q.hours_before
             FROM questionnaire_schedule q
             JOIN appointment a ON a.patient_id = q.patient_id
                AND a.kind = q.before_appointment_kind AND a.status = 'planned'
             WHERE q.active AND q.before_appointment_kind IS NOT NULL
               AND a.starts_at > $1 AND a.starts_at <= $2
               AND NOT EXISTS (SELECT 1 FROM appointment_questionnaire x
                               WHERE x.appointment_id = a.id AND x.schedule_id = q.id)
             ORDER BY a.starts_at LIMIT 5000",
            at,
            at + Duration::hours(i64::from(
                *kap_domain::measure::schedule::HOURS_BEFORE.end()
            ))
        );
        let mut sent = 0;
        for (schedule, appt, clinic_id, patient_id, instrument, kind, created_by, starts, hours) in
            due
        {
            let hours = hours.unwrap_or(24);
            if starts > at + Duration::hours(i64::from(hours)) {
                continue;
            }
            let ins = crate::error::instrument("questionnaire schedule", schedule, &instrument)?;
            let valid_for = self.measurement_settings(clinic_id).await?.link_valid_for();
            let kind: SessionKind = code(RECORD, appt, "kind", &kind)?;
            let actor = Actor {
                staff_id: created_by,
                clinic_id: Some(clinic_id),
                ..Actor::system()
            };
            let mut a = self.audited(&actor).await?;
            // Claimed first: a second worker's insert fails on the key and sends nothing.
            let claimed = exec!(
                tx(a.tx()),
                "INSERT INTO appointment_questionnaire (appointment_id, schedule_id, link_id, sent_at)
                 VALUES ($1, $2, NULL, $3) ON CONFLICT DO NOTHING",
                appt,
                schedule,
                at
            );
            if claimed == 0 {
                continue;
            }
            let (link, _) = insert_link(
                &mut a,
                &self.sealer(),
                &NewLink {
                    clinic_id,
                    patient_id,
                    instrument: ins,
                    context: match kind {
                        SessionKind::Dosing => ResponseContext::PreDose,
                        SessionKind::FollowUp => ResponseContext::FollowUp,
                        _ => ResponseContext::BetweenSessions,
                    },
                    valid_for,
                    public_url: d.public_url,
                    email_enabled: d.email_enabled,
                },
            )
            .await?;
            exec!(
                tx(a.tx()),
                "UPDATE appointment_questionnaire SET link_id = $1
                 WHERE appointment_id = $2 AND schedule_id = $3",
                link,
                appt,
                schedule
            );
            a.commit().await?;
            sent += 1;
        }
        Ok(sent)
    }
}

impl Store {
    /// The clinic's appointments starting between two moments that had a questionnaire link
    /// sent before them not yet answered (ids only: no patient data).
    pub async fn unanswered_before_links(
        &self,
        clinic_id: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<std::collections::BTreeSet<Uuid>> {
        Ok(fetch_all!(
            db(&self.db),
            (Uuid,),
            "SELECT DISTINCT x.appointment_id FROM appointment a
             JOIN appointment_questionnaire x ON x.appointment_id = a.id
             JOIN patient_link l ON l.id = x.link_id
             WHERE a.clinic_id = $1 AND a.starts_at >= $2 AND a.starts_at < $3
               AND l.used_at IS NULL",
            clinic_id,
            from,
            to
        )
        .into_iter()
        .map(|(id,)| id)
        .collect())
    }
}
