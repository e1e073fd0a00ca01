//! Treatment courses and the calendar: rooms and dosing chairs; a course planned in one
//! transaction from a signed eligibility decision under the newest version of a protocol —
//! every session booked, every clash refused together, the protocol's questionnaires scheduled
//! before the sessions that need them — or nothing at all; the course's status history; the
//! appointments staff work (book, move, cancel, check in, missed, done); the links sent before
//! appointments; and staff calendar feeds.
//!
//! Bookings of one clinic are serialised by a row lock on the clinic (an `UPDATE` that changes
//! nothing), so two coordinators can never put two patients in one chair on either database.

pub mod appointment;
pub mod feed;

use crate::audited::Audited;
use crate::db::{Tx, exec, fetch_all, fetch_opt, scalar_opt};
use crate::error::{Conflict, Result, StoreError, code};
use crate::measure::patient_in_clinic;
use crate::{Store, new_id, now};
use appointment::{Booking, clashes, insert_appointment};
use chrono::{DateTime, NaiveDate, Utc};
use kap_domain::FieldErrors;
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::course::{Course, CoursePlan, CourseStatus, CourseSummary, plan::lay_out};
use kap_domain::protocol::SessionKind;
use kap_domain::protocol::dose::PlannedDose;
use kap_domain::protocol::record::ProtocolVersion;
use kap_domain::screening::rules::Level;
use kap_domain::screening::rules::{Finding, evaluate};
use kap_domain::time::TimeZone;
use kap_domain::{Role, course::Appointment};
use uuid::Uuid;

const RECORD: &str = "course";

/// A room or dosing chair.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Room {
    pub id: Uuid,
    pub name: String,
    pub dosing_chair: bool,
    pub active: bool,
}

/// Takes the clinic's booking lock for the rest of the transaction.
pub(crate) async fn lock_bookings(tx: &mut Tx, clinic_id: Uuid) -> Result<()> {
    exec!(tx(tx), "UPDATE clinic SET id = id WHERE id = $1", clinic_id);
    Ok(())
}

/// A staff member of the clinic with one of `roles`, or the field's message.
pub(crate) async fn staff_with_role(
    tx: &mut Tx,
    clinic_id: Uuid,
    staff_id: Uuid,
    roles: &[Role],
) -> Result<Option<String>> {
    let role = scalar_opt!(
        tx(tx),
        String,
        "SELECT m.role FROM staff_membership m JOIN staff_user u ON u.id = m.staff_id
         WHERE m.staff_id = $1 AND m.clinic_id = $2 AND u.active",
        staff_id,
        clinic_id
    );
    Ok(match role.and_then(|r| Role::from_code(&r)) {
        Some(r) if roles.contains(&r) => None,
        _ => Some(format!(
            "Choose an active {} of this clinic.",
            roles
                .iter()
                .map(|r| r.label().to_lowercase())
                .collect::<Vec<_>>()
                .join(" or ")
        )),
    })
}

/// A room of the clinic in use (a dosing chair when `chair`), or the field's message.
pub(crate) async fn room_for(
    tx: &mut Tx,
    clinic_id: Uuid,
    room_id: Uuid,
    chair: bool,
) -> Result<Option<String>> {
    let r = fetch_opt!(
        tx(tx),
        Room,
        "SELECT id, name, dosing_chair, active FROM room WHERE id = $1 AND clinic_id = $2",
        room_id,
        clinic_id
    );
    Ok(match r {
        Some(r) if r.active && (r.dosing_chair || !chair) => None,
        Some(r) if !r.active => Some(format!("{} is no longer in use.", r.name)),
        Some(r) => Some(format!(
            "{} is not a dosing chair; dosing sessions need one.",
            r.name
        )),
        None => Some("Choose one of the clinic's rooms.".into()),
    })
}

/// A new course as the prescriber tailored it.
#[derive(Debug, Clone)]
pub struct NewCourse {
    pub patient_id: Uuid,
    pub protocol_id: Uuid,
    pub plan: CoursePlan,
    pub therapist_id: Uuid,
    /// The nurse at the chair, when known at planning.
    pub nurse_id: Option<Uuid>,
    pub chair_id: Uuid,
    /// Where talking sessions take place (none: the therapist's own room or by video).
    pub room_id: Option<Uuid>,
    pub tz: TimeZone,
}

#[derive(sqlx::FromRow)]
struct CourseRow {
    id: Uuid,
    clinic_id: Uuid,
    patient_id: Uuid,
    patient_name: String,
    protocol_id: Uuid,
    protocol_name: String,
    protocol_version: i32,
    route: String,
    screening_id: Uuid,
    status: String,
    status_reason: Option<String>,
    status_changed_at: DateTime<Utc>,
    dose_unit: String,
    dose_amount: i64,
    start_date: NaiveDate,
    prescriber_id: Option<Uuid>,
    prescriber_name: Option<String>,
    therapist_id: Option<Uuid>,
    therapist_name: Option<String>,
    created_at: DateTime<Utc>,
}

pub(crate) fn dose_of(id: Uuid, unit: &str, amount: i64) -> Result<PlannedDose> {
    let amount = u32::try_from(amount).map_err(|_| StoreError::Corrupt {
        record: RECORD,
        id: id.to_string(),
        field: "dose_amount",
        problem: format!("{amount} is not a dose"),
    })?;
    match unit {
        "ug_per_kg" => Ok(PlannedDose::PerKg { ug_per_kg: amount }),
        "mg" => Ok(PlannedDose::Fixed { mg: amount }),
        other => Err(StoreError::Corrupt {
            record: RECORD,
            id: id.to_string(),
            field: "dose_unit",
            problem: format!("unknown unit {other}"),
        }),
    }
}

fn dose_columns(d: PlannedDose) -> (&'static str, i64) {
    match d {
        PlannedDose::PerKg { ug_per_kg } => ("ug_per_kg", i64::from(ug_per_kg)),
        PlannedDose::Fixed { mg } => ("mg", i64::from(mg)),
    }
}

impl TryFrom<CourseRow> for Course {
    type Error = StoreError;
    fn try_from(r: CourseRow) -> Result<Self> {
        Ok(Course {
            route: code(RECORD, r.id, "route", &r.route)?,
            status: code(RECORD, r.id, "status", &r.status)?,
            dose: dose_of(r.id, &r.dose_unit, r.dose_amount)?,
            id: r.id,
            clinic_id: r.clinic_id,
            patient_id: r.patient_id,
            patient_name: r.patient_name,
            protocol_id: r.protocol_id,
            protocol_title: format!("{} v{}", r.protocol_name, r.protocol_version),
            screening_id: r.screening_id,
            status_reason: r.status_reason,
            status_changed_at: r.status_changed_at,
            start_date: r.start_date,
            prescriber_id: r.prescriber_id,
            prescriber_name: r.prescriber_name,
            therapist_id: r.therapist_id,
            therapist_name: r.therapist_name,
            created_at: r.created_at,
        })
    }
}

const COURSE_SQL: &str = "SELECT c.id, c.clinic_id, c.patient_id, pa.full_name AS patient_name,
    c.protocol_id, pr.name AS protocol_name, pr.version AS protocol_version, pr.route,
    c.screening_id, c.status, c.status_reason, c.status_changed_at, c.dose_unit, c.dose_amount,
    c.start_date, c.prescriber_id, ps.full_name AS prescriber_name, c.therapist_id,
    th.full_name AS therapist_name, c.created_at
    FROM course c JOIN patient pa ON pa.id = c.patient_id
    JOIN protocol pr ON pr.id = c.protocol_id
    LEFT JOIN staff_user ps ON ps.id = c.prescriber_id
    LEFT JOIN staff_user th ON th.id = c.therapist_id";

/// One status change in a course's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseEvent {
    pub status: CourseStatus,
    pub reason: Option<String>,
    pub by_name: Option<String>,
    pub at: DateTime<Utc>,
}

/// A course with everything its page shows.
#[derive(Debug, Clone)]
pub struct CourseDetail {
    pub course: Course,
    pub summary: CourseSummary,
    pub protocol: ProtocolVersion,
    pub appointments: Vec<Appointment>,
    pub events: Vec<CourseEvent>,
}

pub(crate) async fn load_course(tx: &mut Tx, clinic_id: Uuid, id: Uuid) -> Result<Course> {
    let sql = format!("{COURSE_SQL} WHERE c.id = $1 AND c.clinic_id = $2");
    fetch_opt!(tx(tx), CourseRow, sqlx::AssertSqlSafe(sql), id, clinic_id)
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// A patient's complete PHQ-9 totals, oldest first (read once for all their courses).
async fn phq9_totals(tx: &mut Tx, patient_id: Uuid) -> Result<Vec<(DateTime<Utc>, i32)>> {
    Ok(fetch_all!(
        tx(tx),
        (DateTime<Utc>, i32),
        "SELECT answered_at, total FROM questionnaire_response WHERE patient_id = $1
         AND instrument = 'phq9' AND total IS NOT NULL ORDER BY answered_at",
        patient_id
    ))
}

/// One course's numbers: its sessions by kind and status with the next expected one (one
/// query), and the PHQ-9 at its start and now from the patient's totals.
async fn summary(tx: &mut Tx, c: &Course, phq9: &[(DateTime<Utc>, i32)]) -> Result<CourseSummary> {
    let rows = fetch_all!(
        tx(tx),
        (String, String, i64, Option<DateTime<Utc>>),
        "SELECT kind, status, COUNT(*),
                MIN(CASE WHEN starts_at >= $2 THEN starts_at END)
         FROM appointment WHERE course_id = $1 GROUP BY kind, status",
        c.id,
        now()
    );
    let mut s = CourseSummary::default();
    for (kind, status, n, first_ahead) in rows {
        let dosing = kind == SessionKind::Dosing.as_str();
        if status != "cancelled" {
            s.sessions_planned += n;
            if dosing {
                s.dosing_planned += n;
            }
        }
        if status == "completed" {
            s.sessions_done += n;
            if dosing {
                s.doses_given += n;
            }
        }
        if status == "missed" {
            s.sessions_missed += n;
        }
        if status == "planned"
            && let Some(f) = first_ahead
        {
            s.next = Some(s.next.map_or(f, |n| n.min(f)));
        }
    }
    (s.score_start, s.score_now) = CourseSummary::phq9_start_and_now(phq9, c.created_at);
    Ok(s)
}

impl Store {
    /// The clinic's rooms and chairs, by name.
    pub async fn rooms(&self, clinic_id: Uuid) -> Result<Vec<Room>> {
        Ok(fetch_all!(
            db(&self.db),
            Room,
            "SELECT id, name, dosing_chair, active FROM room WHERE clinic_id = $1 ORDER BY name",
            clinic_id
        ))
    }

    pub async fn add_room(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        name: &str,
        dosing_chair: bool,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let taken = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT id FROM room WHERE clinic_id = $1 AND lower(name) = lower($2)",
            clinic_id,
            name
        );
        if taken.is_some() {
            return Err(Conflict::RoomNameTaken(name.to_owned()).into());
        }
        let id = new_id();
        exec!(
            tx(a.tx()),
            "INSERT INTO room (id, clinic_id, name, dosing_chair, active, created_at)
             VALUES ($1,$2,$3,$4,TRUE,$5)",
            id,
            clinic_id,
            name,
            dosing_chair,
            now()
        );
        a.record(
            AuditAction::RoomChanged,
            Subject::none().with_detail(format!("add {name} ({id})")),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// Takes a room out of use for new bookings (or back into use).
    pub async fn set_room_active(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        active: bool,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let n = exec!(
            tx(a.tx()),
            "UPDATE room SET active = $1 WHERE id = $2 AND clinic_id = $3",
            active,
            id,
            clinic_id
        );
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        a.record(
            AuditAction::RoomChanged,
            Subject::none()
                .with_detail(format!("{} {id}", if active { "reopen" } else { "retire" })),
        )
        .await?;
        a.commit().await
    }

    /// Plans a course: checks the patient's signed decision, the protocol's contraindication
    /// rules and every booking, then stores the course, its sessions and its questionnaire
    /// schedules — all or nothing.
    pub async fn plan_course(&self, actor: &Actor, clinic_id: Uuid, n: &NewCourse) -> Result<Uuid> {
        self.plan_course_at(actor, clinic_id, n, now()).await
    }

    /// [`Store::plan_course`] as if it were `at`: for `kapstone demo`, which lays out courses
    /// that began weeks ago. Everything else is checked as usual.
    pub async fn plan_course_at(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        n: &NewCourse,
        at: DateTime<Utc>,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        lock_bookings(a.tx(), clinic_id).await?;
        patient_in_clinic(a.tx(), clinic_id, n.patient_id).await?;
        let version = crate::protocol::load_version(a.tx(), clinic_id, n.protocol_id).await?;
        if version.retired.is_some() {
            return Err(Conflict::ProtocolRetired.into());
        }
        if !version.latest {
            return Err(Conflict::ProtocolNotLatest.into());
        }
        let p = &version.protocol;
        // One open course at a time: two would book the patient twice over and share one set
        // of questionnaire schedules.
        let open = scalar_opt!(
            tx(a.tx()),
            String,
            "SELECT pr.name FROM course c JOIN protocol pr ON pr.id = c.protocol_id
             WHERE c.patient_id = $1 AND c.clinic_id = $2
               AND c.status IN ('planned', 'active', 'paused') LIMIT 1",
            n.patient_id,
            clinic_id
        );
        if let Some(name) = open {
            return Err(Conflict::NotNow(format!(
                "The patient already has an open course ({name}): complete or stop it before planning another."
            ))
            .into());
        }
        // The signed decision: the patient's latest screening must allow this route.
        let screening_id = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT id FROM screening WHERE patient_id = $1 AND clinic_id = $2
             ORDER BY started_at DESC, id DESC LIMIT 1",
            n.patient_id,
            clinic_id
        )
        .ok_or_else(|| {
            Conflict::NotEligible(
                "The patient has no screening: a course needs a signed eligibility decision."
                    .into(),
            )
        })?;
        let screening = crate::screening::load(a.tx(), clinic_id, screening_id).await?;
        let Some(signed) = &screening.signed else {
            return Err(Conflict::NotEligible(
                "The patient's screening is not signed yet: a course needs a signed eligibility decision.".into(),
            )
            .into());
        };
        if !signed.decision.allows_treatment() {
            return Err(Conflict::NotEligible(format!(
                "The signed decision is \"{}\": it does not allow a course.",
                signed.decision.label().to_lowercase()
            ))
            .into());
        }
        if !signed.routes.contains(&p.route) {
            return Err(Conflict::NotEligible(format!(
                "The signed decision does not cover {} (it covers {}).",
                p.route.label().to_lowercase(),
                signed
                    .routes
                    .iter()
                    .map(|r| r.label().to_lowercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into());
        }
        let blocking: Vec<String> = evaluate(&screening.intake, &p.contraindications, &[p.route])
            .into_iter()
            .filter_map(|f| match f {
                Finding::Rule {
                    level: Level::Absolute,
                    reason,
                    source,
                    ..
                } => Some(format!("{reason} ({source})")),
                Finding::Rule {
                    level: Level::Relative,
                    rule_id,
                    reason,
                    source,
                    ..
                } if !signed.justifications.contains_key(&rule_id) => Some(format!(
                    "{reason} — relative, and the signed decision gives no justification for it ({source})"
                )),
                Finding::Missing { what } => {
                    Some(format!("{what} is not answered in the screening"))
                }
                _ => None,
            })
            .collect();
        if !blocking.is_empty() {
            return Err(Conflict::Contraindicated(blocking).into());
        }
        // The people and places.
        let mut e = FieldErrors::new();
        if let Some(m) = staff_with_role(
            a.tx(),
            clinic_id,
            n.therapist_id,
            &[Role::Therapist, Role::Prescriber],
        )
        .await?
        {
            e.add("therapist", m);
        }
        if let Some(nurse) = n.nurse_id
            && let Some(m) =
                staff_with_role(a.tx(), clinic_id, nurse, &[Role::Nurse, Role::Prescriber]).await?
        {
            e.add("nurse", m);
        }
        if let Some(m) = room_for(a.tx(), clinic_id, n.chair_id, true).await? {
            e.add("chair", m);
        }
        if let Some(room) = n.room_id
            && let Some(m) = room_for(a.tx(), clinic_id, room, false).await?
        {
            e.add("room", m);
        }
        // The sessions, in UTC, none in the past.
        let t = at;
        let mut bookings = vec![];
        for s in lay_out(p, &n.plan) {
            let starts = match n.tz.at(s.starts.date(), s.starts.time()) {
                Ok(x) => x,
                Err(m) => {
                    e.add("time", m);
                    continue;
                }
            };
            if starts < t {
                e.add(
                    "start_date",
                    format!(
                        "{} would start at {}, which has passed; choose a later start.",
                        s.title(),
                        n.tz.format(&starts)
                    ),
                );
                continue;
            }
            let dosing = s.kind == SessionKind::Dosing;
            bookings.push(Booking {
                patient_id: n.patient_id,
                course_id: None,
                kind: s.kind,
                number: Some(i32::try_from(s.number).unwrap_or(i32::MAX)),
                phase: s.phase.clone(),
                starts_at: starts,
                ends_at: starts + chrono::Duration::minutes(i64::from(s.minutes)),
                staff_id: if dosing {
                    n.nurse_id
                } else {
                    Some(n.therapist_id)
                },
                room_id: if dosing { Some(n.chair_id) } else { n.room_id },
            });
        }
        if !e.is_empty() {
            return Err(Conflict::BookingInvalid(e).into());
        }
        let mut found = vec![];
        for (i, b) in bookings.iter().enumerate() {
            found.extend(clashes(a.tx(), clinic_id, b, None, n.tz).await?);
            // The course's own sessions never overlap each other (laid out back to back), but
            // its chair and staff could, across a day: checked all the same.
            for other in &bookings[..i] {
                if other.starts_at < b.ends_at && b.starts_at < other.ends_at {
                    found.push(kap_domain::course::appointment::Clash {
                        session: b.describe(n.tz),
                        with: format!("{} of this course", other.describe(n.tz)),
                    });
                }
            }
        }
        if !found.is_empty() {
            return Err(Conflict::Clashes(found).into());
        }
        let id = new_id();
        let (unit, amount) = dose_columns(n.plan.dose);
        let plan_json = serde_json::json!({
            "time": n.plan.time.format("%H:%M").to_string(),
            "weekdays": n.plan.weekdays.iter().map(|d| kap_domain::course::plan::weekday_code(*d)).collect::<Vec<_>>(),
            "preparation": n.plan.preparation,
            "phase_weeks": n.plan.phase_weeks,
            "follow_ups": n.plan.follow_ups,
            "integration_after_days": n.plan.integration_after_days,
            "nurse": n.nurse_id,
            "chair": n.chair_id,
            "room": n.room_id,
        })
        .to_string();
        exec!(
            tx(a.tx()),
            "INSERT INTO course (id, clinic_id, patient_id, protocol_id, screening_id, status,
                status_reason, status_changed_at, dose_unit, dose_amount, start_date, plan,
                prescriber_id, therapist_id, created_at)
             VALUES ($1,$2,$3,$4,$5,'planned',NULL,$6,$7,$8,$9,$10,$11,$12,$6)",
            id,
            clinic_id,
            n.patient_id,
            n.protocol_id,
            screening_id,
            t,
            unit,
            amount,
            n.plan.start_date,
            plan_json,
            actor.staff_id,
            n.therapist_id
        );
        add_event(a.tx(), id, CourseStatus::Planned, None, actor.staff_id, at).await?;
        for mut b in bookings {
            b.course_id = Some(id);
            insert_appointment(a.tx(), clinic_id, &b, actor.staff_id).await?;
        }
        for q in &p.questionnaires {
            let Some(ins) = kap_domain::instruments::by_code(q.instrument.get_ref()) else {
                continue;
            };
            let exists = scalar_opt!(
                tx(a.tx()),
                Uuid,
                "SELECT id FROM questionnaire_schedule WHERE patient_id = $1 AND instrument = $2
                 AND before_appointment_kind = $3 AND active",
                n.patient_id,
                ins.code,
                q.before.as_str()
            );
            if exists.is_some() {
                continue;
            }
            exec!(
                tx(a.tx()),
                "INSERT INTO questionnaire_schedule (id, clinic_id, patient_id, instrument,
                    every_days, before_appointment_kind, hours_before, course_id, next_due_at,
                    active, created_by, created_at)
                 VALUES ($1,$2,$3,$4,NULL,$5,$6,$7,NULL,TRUE,$8,$9)",
                new_id(),
                clinic_id,
                n.patient_id,
                ins.code,
                q.before.as_str(),
                i64::from(q.hours_before.get()),
                id,
                actor.staff_id,
                t
            );
        }
        a.record(
            AuditAction::CoursePlanned,
            Subject::patient(n.patient_id)
                .with_detail(format!("course {id} on {} v{}", p.key, p.version)),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// A patient's courses with their summaries, newest first.
    pub async fn courses_of(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<Vec<(Course, CourseSummary)>> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let sql = format!(
            "{COURSE_SQL} WHERE c.patient_id = $1 AND c.clinic_id = $2 ORDER BY c.created_at DESC"
        );
        let rows = fetch_all!(
            tx(a.tx()),
            CourseRow,
            sqlx::AssertSqlSafe(sql),
            patient_id,
            clinic_id
        );
        let mut out = vec![];
        let phq9 = if rows.is_empty() {
            vec![]
        } else {
            phq9_totals(a.tx(), patient_id).await?
        };
        for r in rows {
            let c = Course::try_from(r)?;
            let s = summary(a.tx(), &c, &phq9).await?;
            out.push((c, s));
        }
        a.record(AuditAction::CourseRead, Subject::patient(patient_id))
            .await?;
        a.commit().await?;
        Ok(out)
    }

    /// One course with its protocol version, sessions and history.
    pub async fn course(&self, actor: &Actor, clinic_id: Uuid, id: Uuid) -> Result<CourseDetail> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let course = load_course(a.tx(), clinic_id, id).await?;
        let phq9 = phq9_totals(a.tx(), course.patient_id).await?;
        let summary = summary(a.tx(), &course, &phq9).await?;
        let protocol = crate::protocol::load_version(a.tx(), clinic_id, course.protocol_id).await?;
        let appointments = appointment::of_course(a.tx(), id).await?;
        let events = fetch_all!(
            tx(a.tx()),
            (String, Option<String>, Option<String>, DateTime<Utc>),
            "SELECT e.status, e.reason, u.full_name, e.at FROM course_event e
             LEFT JOIN staff_user u ON u.id = e.by_staff WHERE e.course_id = $1 ORDER BY e.at, e.id",
            id
        )
        .into_iter()
        .map(|(s, reason, by_name, at)| {
            Ok(CourseEvent {
                status: code("course event", id, "status", &s)?,
                reason,
                by_name,
                at,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        a.record(
            AuditAction::CourseRead,
            Subject::patient(course.patient_id).with_detail(format!("course {id}")),
        )
        .await?;
        a.commit().await?;
        Ok(CourseDetail {
            course,
            summary,
            protocol,
            appointments,
            events,
        })
    }

    /// A prescriber moves a course on: active, paused, completed or stopped (with a reason).
    /// Stopping or completing cancels the sessions still expected and ends the course's
    /// questionnaire schedules.
    pub async fn set_course_status(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        next: CourseStatus,
        reason: Option<&str>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let c = load_course(a.tx(), clinic_id, id).await?;
        c.status.may_become(next).map_err(Conflict::NotNow)?;
        change_status(&mut a, &c, next, reason, actor.staff_id).await?;
        a.commit().await
    }
}

pub(crate) async fn add_event(
    tx: &mut Tx,
    course_id: Uuid,
    status: CourseStatus,
    reason: Option<&str>,
    by: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<()> {
    exec!(
        tx(tx),
        "INSERT INTO course_event (id, course_id, status, reason, by_staff, at)
         VALUES ($1,$2,$3,$4,$5,$6)",
        new_id(),
        course_id,
        status.as_str(),
        reason,
        by,
        at
    );
    Ok(())
}

pub(crate) async fn change_status(
    a: &mut Audited,
    c: &Course,
    next: CourseStatus,
    reason: Option<&str>,
    by: Option<Uuid>,
) -> Result<()> {
    let t = now();
    exec!(
        tx(a.tx()),
        "UPDATE course SET status = $1, status_reason = $2, status_changed_at = $3 WHERE id = $4",
        next.as_str(),
        reason,
        t,
        c.id
    );
    add_event(a.tx(), c.id, next, reason, by, t).await?;
    if !next.is_open() {
        let why = format!(
            "Course {}{}",
            next.label().to_lowercase(),
            reason.map(|r| format!(": {r}")).unwrap_or_default()
        );
        exec!(
            tx(a.tx()),
            "UPDATE appointment SET status = 'cancelled', status_reason = $1,
                status_changed_at = $2
             WHERE course_id = $3 AND status = 'planned'",
            why,
            t,
            c.id
        );
        exec!(
            tx(a.tx()),
            "UPDATE questionnaire_schedule SET active = FALSE WHERE course_id = $1",
            c.id
        );
    }
    a.record(
        AuditAction::CourseStatusChanged,
        Subject::patient(c.patient_id).with_detail(format!("course {} {}", c.id, next.as_str())),
    )
    .await
}
