//! Questionnaire schedules: "send this questionnaire every N days". A due schedule becomes a
//! link and moves on in one transaction, so a crash between the two can neither send twice nor
//! skip a turn, and two workers never fire the same turn.

use super::link::{NewLink, insert_link};
use super::patient_in_clinic;
use crate::db::{exec, fetch_all, scalar, scalar_opt};
use crate::error::{Conflict, Result, StoreError, instrument, is_unique_violation};
use crate::{Store, new_id, now};
use chrono::{DateTime, Utc};
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::instruments::{Instrument, ResponseContext};
use kap_domain::measure::Schedule;
use kap_domain::measure::schedule::next_due;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct ScheduleRow {
    id: Uuid,
    clinic_id: Uuid,
    patient_id: Uuid,
    patient_name: String,
    instrument: String,
    every_days: Option<i32>,
    before_appointment_kind: Option<String>,
    hours_before: Option<i32>,
    next_due_at: Option<DateTime<Utc>>,
    active: bool,
    created_by: Option<Uuid>,
}

impl TryFrom<ScheduleRow> for Schedule {
    type Error = StoreError;
    fn try_from(r: ScheduleRow) -> Result<Schedule> {
        Ok(Schedule {
            instrument: instrument("questionnaire schedule", r.id, &r.instrument)?,
            id: r.id,
            clinic_id: r.clinic_id,
            patient_id: r.patient_id,
            patient_name: r.patient_name,
            every_days: r.every_days,
            before_appointment_kind: r.before_appointment_kind,
            hours_before: r.hours_before,
            next_due_at: r.next_due_at,
            active: r.active,
            created_by: r.created_by,
        })
    }
}

fn schedules(rows: Vec<ScheduleRow>) -> Result<Vec<Schedule>> {
    rows.into_iter().map(Schedule::try_from).collect()
}

const SCHEDULE_SQL: &str = "SELECT q.id, q.clinic_id, q.patient_id, p.full_name AS patient_name,
    q.instrument, q.every_days, q.before_appointment_kind, q.hours_before, q.next_due_at, q.active, q.created_by
    FROM questionnaire_schedule q JOIN patient p ON p.id = q.patient_id";

/// How a due schedule's links are made and delivered.
#[derive(Debug, Clone, Copy)]
pub struct LinkDelivery<'a> {
    pub public_url: &'a str,
    pub email_enabled: bool,
}

impl Store {
    /// Adds a schedule: send `instrument` every `every_days` days (first one due now).
    pub async fn add_schedule(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        ins: &Instrument,
        every_days: Option<i32>,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        patient_in_clinic(a.tx(), clinic_id, patient_id).await?;
        let running = scalar!(
            tx(a.tx()),
            i64,
            "SELECT COUNT(*) FROM questionnaire_schedule
             WHERE patient_id = $1 AND instrument = $2 AND active
               AND before_appointment_kind IS NULL",
            patient_id,
            ins.code
        );
        if running > 0 {
            return Err(Conflict::ScheduleExists(ins.name).into());
        }
        let id = new_id();
        let t = now();
        let inserted: Result<u64, sqlx::Error> = crate::db::on!(tx(a.tx()), conn =>
            sqlx::query("INSERT INTO questionnaire_schedule (id, clinic_id, patient_id, instrument, every_days,
                before_appointment_kind, next_due_at, active, created_by, created_at)
             VALUES ($1,$2,$3,$4,$5,NULL,$6,TRUE,$7,$8)")
                .bind(id).bind(clinic_id).bind(patient_id).bind(ins.code).bind(every_days)
                .bind(every_days.map(|_| t)).bind(actor.staff_id).bind(t)
                .execute(conn).await.map(|r| r.rows_affected()));
        match inserted {
            Ok(_) => {}
            // Two clinicians adding the same schedule at once: the index lets one through.
            Err(e) if is_unique_violation(&e) => {
                return Err(Conflict::ScheduleExists(ins.name).into());
            }
            Err(e) => return Err(e.into()),
        }
        a.record(
            AuditAction::ScheduleChanged,
            Subject::patient(patient_id).with_detail(format!("add {} schedule {id}", ins.code)),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// Adds a schedule: send `instrument` `hours_before` hours before each of the patient's
    /// appointments of `kind`.
    pub async fn add_schedule_before(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
        ins: &Instrument,
        kind: kap_domain::protocol::SessionKind,
        hours_before: i32,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        patient_in_clinic(a.tx(), clinic_id, patient_id).await?;
        let id = new_id();
        let inserted: Result<u64, sqlx::Error> = crate::db::on!(tx(a.tx()), conn =>
            sqlx::query("INSERT INTO questionnaire_schedule (id, clinic_id, patient_id, instrument, every_days,
                before_appointment_kind, hours_before, next_due_at, active, created_by, created_at)
             VALUES ($1,$2,$3,$4,NULL,$5,$6,NULL,TRUE,$7,$8)")
                .bind(id).bind(clinic_id).bind(patient_id).bind(ins.code).bind(kind.as_str())
                .bind(hours_before).bind(actor.staff_id).bind(now())
                .execute(conn).await.map(|r| r.rows_affected()));
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(Conflict::ScheduleExists(ins.name).into());
            }
            Err(e) => return Err(e.into()),
        }
        a.record(
            AuditAction::ScheduleChanged,
            Subject::patient(patient_id).with_detail(format!(
                "add {} before {} schedule {id}",
                ins.code,
                kind.as_str()
            )),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    pub async fn stop_schedule(&self, actor: &Actor, clinic_id: Uuid, id: Uuid) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT patient_id FROM questionnaire_schedule WHERE id = $1 AND clinic_id = $2",
            id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        exec!(
            tx(a.tx()),
            "UPDATE questionnaire_schedule SET active = FALSE WHERE id = $1",
            id
        );
        a.record(
            AuditAction::ScheduleChanged,
            Subject::patient(patient).with_detail(format!("stop schedule {id}")),
        )
        .await?;
        a.commit().await
    }

    pub async fn schedules_of(&self, clinic_id: Uuid, patient_id: Uuid) -> Result<Vec<Schedule>> {
        let sql = format!(
            "{SCHEDULE_SQL} WHERE q.clinic_id = $1 AND q.patient_id = $2 ORDER BY q.created_at"
        );
        schedules(fetch_all!(
            db(&self.db),
            ScheduleRow,
            sqlx::AssertSqlSafe(sql),
            clinic_id,
            patient_id
        ))
    }

    /// Active interval schedules due at `at` (all clinics), for the worker.
    pub async fn due_schedules(&self, at: DateTime<Utc>) -> Result<Vec<Schedule>> {
        let sql = format!(
            "{SCHEDULE_SQL} WHERE q.active AND q.next_due_at IS NOT NULL AND q.next_due_at <= $1
             ORDER BY q.next_due_at LIMIT 500"
        );
        schedules(fetch_all!(
            db(&self.db),
            ScheduleRow,
            sqlx::AssertSqlSafe(sql),
            at
        ))
    }

    /// Fires one due schedule: makes its link (with its message) and moves the schedule to its
    /// next due time, in one transaction. Returns whether it fired: a schedule another worker
    /// has already moved on is left alone.
    pub async fn fire_schedule(
        &self,
        s: &Schedule,
        now: DateTime<Utc>,
        valid_for: chrono::Duration,
        d: LinkDelivery<'_>,
    ) -> Result<bool> {
        let (Some(due), Some(days)) = (s.next_due_at, s.every_days) else {
            return Ok(false);
        };
        let actor = Actor {
            staff_id: s.created_by,
            clinic_id: Some(s.clinic_id),
            ..Actor::system()
        };
        let mut a = self.audited(&actor).await?;
        let moved = exec!(
            tx(a.tx()),
            "UPDATE questionnaire_schedule SET next_due_at = $1
             WHERE id = $2 AND active AND next_due_at = $3",
            next_due(due, now, days),
            s.id,
            due
        );
        if moved == 0 {
            return Ok(false);
        }
        insert_link(
            &mut a,
            &self.sealer(),
            &NewLink {
                clinic_id: s.clinic_id,
                patient_id: s.patient_id,
                instrument: s.instrument,
                context: ResponseContext::BetweenSessions,
                valid_for,
                public_url: d.public_url,
                email_enabled: d.email_enabled,
            },
        )
        .await?;
        a.commit().await?;
        Ok(true)
    }
}
