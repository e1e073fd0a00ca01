//! Check-in schedules: every N days while the course is active, or N days after each dosing
//! session. A due turn becomes a link and the schedule moves on in one transaction, so a crash
//! between the two can neither send twice nor skip a turn; an after-dosing link is claimed by
//! its (schedule, session) key, so two workers never send it twice.

use super::link::{NewCheckinLink, SentBy, insert_checkin_link, open_course};
use crate::db::{exec, fetch_all, scalar_opt};
use crate::error::{Conflict, Result, StoreError, code, instrument, is_unique_violation};
use crate::measure::patient_in_clinic;
use crate::measure::schedule::LinkDelivery;
use crate::{Store, new_id, now};
use chrono::{DateTime, Duration, Utc};
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::checkin::schedule::{
    DAYS_AFTER, NewSchedule, Turn, after_dosing_due, next_due, turn,
};
use kap_domain::checkin::{CheckinSchedule, ScheduleKind};
use kap_domain::course::CourseStatus;
use uuid::Uuid;

const R: &str = "check-in schedule";

#[derive(sqlx::FromRow)]
struct ScheduleRow {
    id: Uuid,
    clinic_id: Uuid,
    patient_id: Uuid,
    kind: String,
    days: i32,
    instrument: Option<String>,
    course_id: Option<Uuid>,
    next_due_at: Option<DateTime<Utc>>,
    active: bool,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<ScheduleRow> for CheckinSchedule {
    type Error = StoreError;
    fn try_from(r: ScheduleRow) -> Result<CheckinSchedule> {
        let id = r.id;
        Ok(CheckinSchedule {
            kind: code(R, id, "kind", &r.kind)?,
            instrument: r
                .instrument
                .as_deref()
                .map(|i| instrument(R, id, i))
                .transpose()?,
            id,
            clinic_id: r.clinic_id,
            patient_id: r.patient_id,
            days: r.days,
            course_id: r.course_id,
            next_due_at: r.next_due_at,
            active: r.active,
            created_by: r.created_by,
            created_at: r.created_at,
        })
    }
}

const SCHEDULE_COLS: &str = "s.id, s.clinic_id, s.patient_id, s.kind, s.days, s.instrument,
    s.course_id, s.next_due_at, s.active, s.created_by, s.created_at";

/// The actor a schedule's links are made as: the system, in the name of who set it up.
fn schedule_actor(clinic_id: Uuid, created_by: Option<Uuid>) -> Actor {
    Actor {
        staff_id: created_by,
        clinic_id: Some(clinic_id),
        ..Actor::system()
    }
}

impl Store {
    /// Sets up a check-in schedule for a patient. An every-N-days schedule follows the
    /// patient's open course, if any, and sends its first link at the worker's next round; an
    /// after-dosing one sends N days after each dosing session discharged from now on. A
    /// patient has one active schedule of each rhythm ([`Conflict::ScheduleExists`]).
    pub async fn add_checkin_schedule(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        s: &NewSchedule,
    ) -> Result<Uuid> {
        self.add_checkin_schedule_at(actor, clinic_id, patient_id, s, now())
            .await
    }

    /// As [`Store::add_checkin_schedule`], set up at `at` (the demo replays the past).
    pub async fn add_checkin_schedule_at(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        s: &NewSchedule,
        at: DateTime<Utc>,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        patient_in_clinic(a.tx(), clinic_id, patient_id).await?;
        let (course, next) = match s.kind {
            ScheduleKind::EveryDays => {
                (open_course(a.tx(), clinic_id, patient_id).await?, Some(at))
            }
            ScheduleKind::AfterDosing => (None, None),
        };
        let id = new_id();
        let inserted: Result<u64, sqlx::Error> = crate::db::on!(tx(a.tx()), conn =>
            sqlx::query("INSERT INTO checkin_schedule (id, clinic_id, patient_id, kind, days,
                instrument, course_id, next_due_at, active, created_by, created_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,TRUE,$9,$10)")
                .bind(id).bind(clinic_id).bind(patient_id).bind(s.kind.as_str()).bind(s.days)
                .bind(s.instrument.map(|i| i.code)).bind(course).bind(next)
                .bind(actor.staff_id).bind(at)
                .execute(conn).await.map(|r| r.rows_affected()));
        match inserted {
            Ok(_) => {}
            // One active schedule per rhythm: the unique index decides between two at once.
            Err(e) if is_unique_violation(&e) => {
                return Err(Conflict::ScheduleExists("check-in").into());
            }
            Err(e) => return Err(e.into()),
        }
        a.record(
            AuditAction::CheckinScheduleChanged,
            Subject::patient(patient_id).with_detail(format!(
                "add {} check-in schedule {id}, {} days",
                s.kind.as_str(),
                s.days
            )),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// Stops a check-in schedule (kept, marked stopped). Returns the patient.
    pub async fn stop_checkin_schedule(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT patient_id FROM checkin_schedule WHERE id = $1 AND clinic_id = $2",
            id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        exec!(
            tx(a.tx()),
            "UPDATE checkin_schedule SET active = FALSE, stopped_at = $1
             WHERE id = $2 AND active",
            now(),
            id
        );
        a.record(
            AuditAction::CheckinScheduleChanged,
            Subject::patient(patient).with_detail(format!("stop check-in schedule {id}")),
        )
        .await?;
        a.commit().await?;
        Ok(patient)
    }

    /// A patient's check-in schedules, active and stopped, oldest first.
    pub async fn checkin_schedules_of(
        &self,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<Vec<CheckinSchedule>> {
        let sql = format!(
            "SELECT {SCHEDULE_COLS} FROM checkin_schedule s
             WHERE s.clinic_id = $1 AND s.patient_id = $2 ORDER BY s.created_at, s.id"
        );
        fetch_all!(
            db(&self.db),
            ScheduleRow,
            sqlx::AssertSqlSafe(sql),
            clinic_id,
            patient_id
        )
        .into_iter()
        .map(CheckinSchedule::try_from)
        .collect()
    }

    /// Carries out every check-in schedule due at `now` (all clinics): every-N-days turns
    /// send, skip or end by their course, and after-dosing links go out for sessions
    /// discharged long enough ago. Returns how many links were made.
    pub async fn run_checkin_schedules(
        &self,
        now: DateTime<Utc>,
        d: LinkDelivery<'_>,
    ) -> Result<usize> {
        let mut made = 0;
        #[derive(sqlx::FromRow)]
        struct Due {
            #[sqlx(flatten)]
            schedule: ScheduleRow,
            course_status: Option<String>,
        }
        let sql = format!(
            "SELECT {SCHEDULE_COLS}, c.status AS course_status FROM checkin_schedule s
             LEFT JOIN course c ON c.id = s.course_id
             WHERE s.active AND s.kind = $1 AND s.next_due_at <= $2
             ORDER BY s.next_due_at LIMIT 500"
        );
        let due = fetch_all!(
            db(&self.db),
            Due,
            sqlx::AssertSqlSafe(sql),
            ScheduleKind::EveryDays.as_str(),
            now
        );
        for row in due {
            let status: Option<CourseStatus> = row
                .course_status
                .as_deref()
                .map(|c| code("course", row.schedule.id, "status", c))
                .transpose()?;
            let s = CheckinSchedule::try_from(row.schedule)?;
            if self.fire_every_days(&s, turn(status), now, d).await? {
                made += 1;
            }
        }
        made += self.send_after_dosing(now, d).await?;
        Ok(made)
    }

    /// One due turn of an every-N-days schedule, in one transaction. Returns whether a link
    /// was made.
    async fn fire_every_days(
        &self,
        s: &CheckinSchedule,
        t: Turn,
        now: DateTime<Utc>,
        d: LinkDelivery<'_>,
    ) -> Result<bool> {
        let Some(due) = s.next_due_at else {
            return Ok(false);
        };
        // Read before the transaction: it may hold the only connection.
        let valid_days = self.checkin_settings(s.clinic_id).await?.link_valid_days;
        let mut a = self
            .audited(&schedule_actor(s.clinic_id, s.created_by))
            .await?;
        if t == Turn::End {
            let ended = exec!(
                tx(a.tx()),
                "UPDATE checkin_schedule SET active = FALSE, stopped_at = $1
                 WHERE id = $2 AND active AND next_due_at = $3",
                now,
                s.id,
                due
            );
            if ended == 0 {
                return Ok(false);
            }
            a.record(
                AuditAction::CheckinScheduleChanged,
                Subject::patient(s.patient_id)
                    .with_detail(format!("check-in schedule {} ended with its course", s.id)),
            )
            .await?;
            a.commit().await?;
            return Ok(false);
        }
        // Claimed by moving it on: a second worker finds it moved and does nothing.
        let moved = exec!(
            tx(a.tx()),
            "UPDATE checkin_schedule SET next_due_at = $1
             WHERE id = $2 AND active AND next_due_at = $3",
            next_due(due, now, s.days),
            s.id,
            due
        );
        if moved == 0 {
            return Ok(false);
        }
        if t == Turn::Skip {
            a.record(
                AuditAction::CheckinScheduleChanged,
                Subject::patient(s.patient_id).with_detail(format!(
                    "check-in schedule {} skipped a turn: the course is not active",
                    s.id
                )),
            )
            .await?;
            a.commit().await?;
            return Ok(false);
        }
        let made = insert_checkin_link(
            &mut a,
            &self.sealer(),
            &NewCheckinLink {
                clinic_id: s.clinic_id,
                patient_id: s.patient_id,
                instrument: s.instrument,
                valid_days,
                public_url: d.public_url,
                email_enabled: d.email_enabled,
            },
            SentBy {
                schedule: Some(s.id),
                dosing_session: None,
            },
            now,
        )
        .await?;
        a.commit().await?;
        Ok(made.is_some())
    }

    /// The links after-dosing schedules owe at `now`: one per dosing session discharged the
    /// schedule's days before, since the schedule was set up.
    async fn send_after_dosing(&self, now: DateTime<Utc>, d: LinkDelivery<'_>) -> Result<usize> {
        #[derive(sqlx::FromRow)]
        struct Owed {
            #[sqlx(flatten)]
            schedule: ScheduleRow,
            session_id: Uuid,
            discharged_at: DateTime<Utc>,
        }
        let sql = format!(
            "SELECT {SCHEDULE_COLS}, d.id AS session_id, d.discharged_at
             FROM checkin_schedule s
             JOIN dosing_session d ON d.patient_id = s.patient_id AND d.clinic_id = s.clinic_id
             WHERE s.active AND s.kind = $1 AND d.discharged_at IS NOT NULL
               AND d.discharged_at > $2 AND d.discharged_at <= $3
               AND NOT EXISTS (SELECT 1 FROM checkin_link l
                               WHERE l.schedule_id = s.id AND l.dosing_session_id = d.id)
             ORDER BY d.discharged_at LIMIT 5000"
        );
        let owed = fetch_all!(
            db(&self.db),
            Owed,
            sqlx::AssertSqlSafe(sql),
            ScheduleKind::AfterDosing.as_str(),
            now - Duration::days(i64::from(*DAYS_AFTER.end()) + 1),
            now
        );
        let mut made = 0;
        for o in owed {
            let s = CheckinSchedule::try_from(o.schedule)?;
            if after_dosing_due(o.discharged_at, s.days, s.created_at, now).is_none() {
                continue;
            }
            let valid_days = self.checkin_settings(s.clinic_id).await?.link_valid_days;
            let mut a = self
                .audited(&schedule_actor(s.clinic_id, s.created_by))
                .await?;
            let sent = insert_checkin_link(
                &mut a,
                &self.sealer(),
                &NewCheckinLink {
                    clinic_id: s.clinic_id,
                    patient_id: s.patient_id,
                    instrument: s.instrument,
                    valid_days,
                    public_url: d.public_url,
                    email_enabled: d.email_enabled,
                },
                SentBy {
                    schedule: Some(s.id),
                    dosing_session: Some(o.session_id),
                },
                now,
            )
            .await?;
            if sent.is_some() {
                a.commit().await?;
                made += 1;
            }
        }
        Ok(made)
    }
}
