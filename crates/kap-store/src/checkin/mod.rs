//! Check-in links and the check-ins patients send through them. A check-in is stored with the
//! questionnaire answered beside it and every alert it raises, and its link is spent, in one
//! audited transaction: when submitting returns, the alerts are durable, and a second submit
//! of the same link finds it spent and stores nothing. A check-in never changes (triggers on
//! both databases); a clinician marks it seen once, with an optional note. Reads of check-ins
//! are audited. One file each for links, schedules and the clinic's check-in settings.

pub mod link;
pub mod schedule;
pub mod settings;

use crate::audited::Audited;
use crate::db::{exec, fetch_all, fetch_opt, scalar, scalar_opt};
use crate::error::{Conflict, Result, StoreError, code, field, instrument, opt_field};
use crate::measure::alert::{Raise, raise};
use crate::measure::patient_in_clinic;
use crate::measure::response::{NewResponse, insert_response};
use crate::{Store, new_id};
use chrono::{DateTime, Utc};
use kap_domain::alert::{Alert, AlertKind, AlertSource};
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::checkin::form::LongText;
use kap_domain::checkin::rules::{self, DoneMessage};
use kap_domain::checkin::{
    CheckinAnswers, CheckinLine, CheckinLink, CheckinQuestionnaire, Mood, Review, SideEffect,
    SleepHours, SleepQuality, review_order,
};
use kap_domain::instruments::{Answers, ResponseContext, Scored, Severity};
use kap_domain::measure::{OutboxStatus, ResponseSource};
use std::collections::BTreeSet;
use uuid::Uuid;

pub use kap_domain::checkin::Checkin;

const R: &str = "check-in";

#[derive(sqlx::FromRow)]
struct CheckinRow {
    id: Uuid,
    clinic_id: Uuid,
    patient_id: Uuid,
    patient_name: String,
    course_id: Option<Uuid>,
    mood: i32,
    sleep_half_hours: Option<i32>,
    sleep_quality: Option<String>,
    side_effects: String,
    side_effects_note: Option<String>,
    reflection: Option<String>,
    journal: Option<String>,
    intention: Option<String>,
    response_id: Option<Uuid>,
    response_instrument: Option<String>,
    response_complete: Option<bool>,
    response_total: Option<i32>,
    response_band: Option<String>,
    alerts: i32,
    top_severity: Option<String>,
    submitted_at: DateTime<Utc>,
    reviewed_at: Option<DateTime<Utc>>,
    reviewed_by: Option<Uuid>,
    reviewed_by_name: Option<String>,
    review_note: Option<String>,
}

const CHECKIN_SQL: &str = "SELECT c.id, c.clinic_id, c.patient_id, p.full_name AS patient_name,
    c.course_id, c.mood, c.sleep_half_hours, c.sleep_quality, c.side_effects,
    c.side_effects_note, c.reflection, c.journal, c.intention, c.response_id,
    r.instrument AS response_instrument, r.complete AS response_complete,
    r.total AS response_total, r.band AS response_band, c.alerts, c.top_severity,
    c.submitted_at, c.reviewed_at, c.reviewed_by, u.full_name AS reviewed_by_name, c.review_note
    FROM checkin c JOIN patient p ON p.id = c.patient_id
    LEFT JOIN questionnaire_response r ON r.id = c.response_id
    LEFT JOIN staff_user u ON u.id = c.reviewed_by";

fn mood(id: Uuid, v: i32) -> Result<Mood> {
    field(
        R,
        id,
        "mood",
        u8::try_from(v)
            .ok()
            .and_then(Mood::new)
            .ok_or_else(|| format!("{v} is not a mood from 0 to 10")),
    )
}

fn side_effects(id: Uuid, stored: &str) -> Result<BTreeSet<SideEffect>> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| code(R, id, "side_effects", s))
        .collect()
}

fn text(id: Uuid, name: &'static str, stored: Option<String>) -> Result<Option<LongText>> {
    opt_field(R, id, name, stored.as_deref(), LongText::parse)
}

fn severity(id: Uuid, stored: Option<&str>) -> Result<Option<Severity>> {
    opt_field(R, id, "top_severity", stored, |s| s.parse::<Severity>())
}

impl TryFrom<CheckinRow> for Checkin {
    type Error = StoreError;
    fn try_from(r: CheckinRow) -> Result<Checkin> {
        let id = r.id;
        let sleep_hours = r
            .sleep_half_hours
            .map(|h| {
                field(
                    R,
                    id,
                    "sleep_half_hours",
                    u8::try_from(h)
                        .ok()
                        .and_then(SleepHours::from_half_hours)
                        .ok_or_else(|| format!("{h} half hours is not a night's sleep")),
                )
            })
            .transpose()?;
        let sleep_quality: Option<SleepQuality> = r
            .sleep_quality
            .as_deref()
            .map(|q| code(R, id, "sleep_quality", q))
            .transpose()?;
        let questionnaire = match (r.response_id, r.response_instrument) {
            (Some(rid), Some(ins)) => Some(CheckinQuestionnaire {
                response_id: rid,
                instrument: instrument(R, id, &ins)?,
                complete: r.response_complete.unwrap_or(false),
                total: r.response_total,
                band: r.response_band,
            }),
            _ => None,
        };
        let review = match (r.reviewed_at, r.reviewed_by) {
            (Some(at), Some(by)) => Some(Review {
                by,
                by_name: r.reviewed_by_name.unwrap_or_default(),
                at,
                note: r.review_note,
            }),
            (None, None) => None,
            _ => {
                return Err(StoreError::Corrupt {
                    record: R,
                    id: id.to_string(),
                    field: "reviewed_by",
                    problem: "a review without its reviewer or time".into(),
                });
            }
        };
        Ok(Checkin {
            answers: CheckinAnswers {
                mood: mood(id, r.mood)?,
                sleep_hours,
                sleep_quality,
                side_effects: side_effects(id, &r.side_effects)?,
                side_effects_note: text(id, "side_effects_note", r.side_effects_note)?,
                reflection: text(id, "reflection", r.reflection)?,
                journal: text(id, "journal", r.journal)?,
            },
            top_severity: severity(id, r.top_severity.as_deref())?,
            id,
            clinic_id: r.clinic_id,
            patient_id: r.patient_id,
            patient_name: r.patient_name,
            course_id: r.course_id,
            intention: r.intention,
            questionnaire,
            submitted_at: r.submitted_at,
            alerts: r.alerts,
            review,
        })
    }
}

#[derive(sqlx::FromRow)]
struct LineRow {
    id: Uuid,
    patient_id: Uuid,
    patient_name: String,
    submitted_at: DateTime<Utc>,
    mood: i32,
    side_effects: String,
    alerts: i32,
    top_severity: Option<String>,
    reviewed_at: Option<DateTime<Utc>>,
    response_instrument: Option<String>,
    response_total: Option<i32>,
}

const LINE_SQL: &str = "SELECT c.id, c.patient_id, p.full_name AS patient_name, c.submitted_at,
    c.mood, c.side_effects, c.alerts, c.top_severity, c.reviewed_at,
    r.instrument AS response_instrument, r.total AS response_total
    FROM checkin c JOIN patient p ON p.id = c.patient_id
    LEFT JOIN questionnaire_response r ON r.id = c.response_id";

impl TryFrom<LineRow> for CheckinLine {
    type Error = StoreError;
    fn try_from(r: LineRow) -> Result<CheckinLine> {
        let id = r.id;
        Ok(CheckinLine {
            id,
            patient_id: r.patient_id,
            patient_name: r.patient_name,
            submitted_at: r.submitted_at,
            mood: mood(id, r.mood)?,
            side_effects: side_effects(id, &r.side_effects)?.into_iter().collect(),
            alerts: r.alerts,
            top_severity: severity(id, r.top_severity.as_deref())?,
            seen: r.reviewed_at.is_some(),
            questionnaire: r
                .response_instrument
                .as_deref()
                .map(|i| instrument(R, id, i))
                .transpose()?,
            questionnaire_total: r.response_total,
        })
    }
}

fn lines(rows: Vec<LineRow>) -> Result<Vec<CheckinLine>> {
    rows.into_iter().map(CheckinLine::try_from).collect()
}

/// What a patient sends through a link.
#[derive(Debug, Clone, Copy)]
pub struct Submission<'a> {
    pub answers: &'a CheckinAnswers,
    /// The link's questionnaire as answered and scored (none when the link carries none).
    pub questionnaire: Option<(&'a Answers, &'a Scored)>,
    /// The intention the patient was shown beside the reflection.
    pub intention: Option<&'a str>,
    /// When it was sent (now, or back-dated for the demo).
    pub at: DateTime<Utc>,
}

/// What submitting a check-in stored.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub checkin_id: Uuid,
    /// Every alert raised: the check-in's own, then its questionnaire's.
    pub alerts: Vec<Uuid>,
    pub done: DoneMessage,
}

/// A check-in with its alerts and its questionnaire's item answers, for its page.
#[derive(Debug, Clone)]
pub struct CheckinRecord {
    pub checkin: Checkin,
    /// The alerts it raised (its own and its questionnaire's), as they stand now.
    pub alerts: Vec<Alert>,
    pub questionnaire_answers: Answers,
}

/// The home page's check-in summary: how many wait to be seen, and the flagged ones.
#[derive(Debug, Clone, Default)]
pub struct Unseen {
    pub count: i64,
    /// Unseen check-ins that raised an alert, most pressing first (at most 20).
    pub flagged: Vec<CheckinLine>,
}

impl Store {
    /// Stores a check-in sent through `link`: spends the link (a link already used or expired
    /// is [`Conflict::LinkSpent`], and nothing is stored), records the link's questionnaire as
    /// a between-sessions response with its own alerts, stores the answers, and raises every
    /// alert the clinic's rules give — all in one transaction.
    pub async fn submit_checkin(
        &self,
        actor: &Actor,
        link: &CheckinLink,
        s: Submission<'_>,
    ) -> Result<Submitted> {
        let settings = self.checkin_settings(link.clinic_id).await?;
        let measurement = self.measurement_settings(link.clinic_id).await?;
        let mut a = self.audited_in(actor, link.clinic_id).await?;
        let spent = exec!(
            tx(a.tx()),
            "UPDATE checkin_link SET used_at = $1
             WHERE id = $2 AND used_at IS NULL AND expires_at > $1",
            s.at,
            link.id
        );
        if spent == 0 {
            return Err(Conflict::LinkSpent.into());
        }
        // Its messages drop their sealed token; an unsent email is not sent any more.
        exec!(
            tx(a.tx()),
            "UPDATE outbox SET sealed_token = NULL,
                status = CASE WHEN status = $1 THEN $2 ELSE status END
             WHERE checkin_link_id = $3",
            OutboxStatus::Pending.as_str(),
            OutboxStatus::Superseded.as_str(),
            link.id
        );
        let id = insert_checkin(
            &mut a,
            &settings,
            &measurement,
            Insert {
                clinic_id: link.clinic_id,
                patient_id: link.patient_id,
                link: Some(link),
                course_id: link.course_id,
                s,
            },
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// What the patient reads on the thank-you page of a used link: from the alerts its
    /// check-in raised (its own and its questionnaire's). Nothing about the patient leaves.
    pub async fn checkin_done_message(&self, link_id: Uuid) -> Result<DoneMessage> {
        let rows = fetch_all!(
            db(&self.db),
            (String, Option<String>),
            "SELECT a.kind, a.item_id FROM checkin c
             JOIN alert a ON (a.source_kind = 'checkin' AND a.source_id = c.id)
                OR (a.source_kind = 'response' AND a.source_id = c.response_id)
             WHERE c.link_id = $1",
            link_id
        );
        let kinds = rows
            .into_iter()
            .map(|(k, item)| Ok((code::<AlertKind>("alert", link_id, "kind", &k)?, item)))
            .collect::<Result<Vec<_>>>()?;
        Ok(DoneMessage::of(
            kinds.iter().map(|(k, i)| (*k, i.as_deref())),
        ))
    }

    /// One check-in with its alerts and questionnaire answers (audited: a read of the
    /// patient's check-in).
    pub async fn checkin(&self, actor: &Actor, clinic_id: Uuid, id: Uuid) -> Result<CheckinRecord> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let sql = format!("{CHECKIN_SQL} WHERE c.id = $1 AND c.clinic_id = $2");
        let row = fetch_opt!(
            tx(a.tx()),
            CheckinRow,
            sqlx::AssertSqlSafe(sql),
            id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        let checkin = Checkin::try_from(row)?;
        let alerts = crate::measure::alert::alerts_of_sources(
            a.tx(),
            clinic_id,
            &[
                Some(AlertSource::Checkin(id)),
                checkin
                    .questionnaire
                    .as_ref()
                    .map(|q| AlertSource::Response(q.response_id)),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
        )
        .await?;
        let mut questionnaire_answers = Answers::new();
        if let Some(q) = &checkin.questionnaire {
            for (item, value) in fetch_all!(
                tx(a.tx()),
                (String, i32),
                "SELECT item_id, value FROM response_item WHERE response_id = $1",
                q.response_id
            ) {
                questionnaire_answers.insert(item, value);
            }
        }
        a.record(
            AuditAction::CheckinsRead,
            Subject::record(RecordKind::Checkin, id).with_patient(Some(checkin.patient_id)),
        )
        .await?;
        a.commit().await?;
        Ok(CheckinRecord {
            checkin,
            alerts,
            questionnaire_answers,
        })
    }

    /// A patient's check-ins with every answer, newest first (at most 200; audited).
    pub async fn checkins_of_patient(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<Vec<Checkin>> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        patient_in_clinic(a.tx(), clinic_id, patient_id).await?;
        let sql = format!(
            "{CHECKIN_SQL} WHERE c.patient_id = $1 AND c.clinic_id = $2
             ORDER BY c.submitted_at DESC, c.id DESC LIMIT 200"
        );
        let rows = fetch_all!(
            tx(a.tx()),
            CheckinRow,
            sqlx::AssertSqlSafe(sql),
            patient_id,
            clinic_id
        );
        a.record(
            AuditAction::CheckinsRead,
            Subject::patient(patient_id).with_detail(format!("{} check-ins", rows.len())),
        )
        .await?;
        a.commit().await?;
        rows.into_iter().map(Checkin::try_from).collect()
    }

    /// A patient's check-ins as lines, oldest first (for the chart's trend and the course
    /// timeline): id, when, mood, side effects, whether flagged and seen, the questionnaire
    /// total if any. Audited as a read of the patient's check-ins.
    pub async fn checkin_lines_of_patient(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<Vec<CheckinLine>> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        patient_in_clinic(a.tx(), clinic_id, patient_id).await?;
        let sql = format!(
            "{LINE_SQL} WHERE c.patient_id = $1 AND c.clinic_id = $2
             ORDER BY c.submitted_at, c.id"
        );
        let rows = fetch_all!(
            tx(a.tx()),
            LineRow,
            sqlx::AssertSqlSafe(sql),
            patient_id,
            clinic_id
        );
        a.record(
            AuditAction::CheckinsRead,
            Subject::patient(patient_id).with_detail(format!("{} check-in lines", rows.len())),
        )
        .await?;
        a.commit().await?;
        lines(rows)
    }

    /// The clinic's review list: every check-in not yet seen (at most 500), then those seen in
    /// the last `seen_days` days (at most 100), in the review order (unseen first, flagged and
    /// more severe first, newest first). Audited: it names patients.
    pub async fn checkin_review_list(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        seen_days: i64,
    ) -> Result<Vec<CheckinLine>> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let unseen = format!(
            "{LINE_SQL} WHERE c.clinic_id = $1 AND c.reviewed_at IS NULL
             ORDER BY c.submitted_at DESC LIMIT 500"
        );
        let mut rows = fetch_all!(tx(a.tx()), LineRow, sqlx::AssertSqlSafe(unseen), clinic_id);
        let seen = format!(
            "{LINE_SQL} WHERE c.clinic_id = $1 AND c.reviewed_at IS NOT NULL
               AND c.reviewed_at > $2
             ORDER BY c.reviewed_at DESC LIMIT 100"
        );
        rows.extend(fetch_all!(
            tx(a.tx()),
            LineRow,
            sqlx::AssertSqlSafe(seen),
            clinic_id,
            crate::now() - chrono::Duration::days(seen_days)
        ));
        a.record(
            AuditAction::CheckinsRead,
            Subject::none().with_detail(format!("review list: {} check-ins", rows.len())),
        )
        .await?;
        a.commit().await?;
        let mut out = lines(rows)?;
        review_order(&mut out);
        Ok(out)
    }

    /// How many check-ins of the clinic wait to be seen, and the flagged ones among them (for
    /// the home page; audited when it names patients).
    pub async fn unseen_checkins(&self, actor: &Actor, clinic_id: Uuid) -> Result<Unseen> {
        let count = scalar!(
            db(&self.db),
            i64,
            "SELECT COUNT(*) FROM checkin WHERE clinic_id = $1 AND reviewed_at IS NULL",
            clinic_id
        );
        if count == 0 {
            return Ok(Unseen::default());
        }
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let sql = format!(
            "{LINE_SQL} WHERE c.clinic_id = $1 AND c.reviewed_at IS NULL AND c.alerts > 0
             ORDER BY c.submitted_at DESC LIMIT 20"
        );
        let rows = fetch_all!(tx(a.tx()), LineRow, sqlx::AssertSqlSafe(sql), clinic_id);
        a.record(
            AuditAction::CheckinsRead,
            Subject::none().with_detail(format!("{} unseen, {} flagged", count, rows.len())),
        )
        .await?;
        a.commit().await?;
        let mut flagged = lines(rows)?;
        review_order(&mut flagged);
        Ok(Unseen { count, flagged })
    }

    /// A clinician marks a check-in seen, with an optional note: set once (a second time is
    /// refused, naming who saw it). Returns the patient.
    pub async fn mark_checkin_seen(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        note: Option<&str>,
    ) -> Result<Uuid> {
        self.mark_checkin_seen_at(actor, clinic_id, id, note, crate::now())
            .await
    }

    /// As [`Store::mark_checkin_seen`], seen at `at` (the demo replays the past).
    pub async fn mark_checkin_seen_at(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        note: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT patient_id FROM checkin WHERE id = $1 AND clinic_id = $2",
            id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        let n = exec!(
            tx(a.tx()),
            "UPDATE checkin SET reviewed_at = $1, reviewed_by = $2, review_note = $3
             WHERE id = $4 AND reviewed_at IS NULL",
            at,
            actor.staff_id,
            note,
            id
        );
        if n == 0 {
            let by = scalar_opt!(
                tx(a.tx()),
                String,
                "SELECT u.full_name FROM checkin c JOIN staff_user u ON u.id = c.reviewed_by
                 WHERE c.id = $1",
                id
            );
            return Err(Conflict::NotNow(format!(
                "This check-in was already marked seen{}.",
                by.map(|b| format!(" by {b}")).unwrap_or_default()
            ))
            .into());
        }
        a.record(
            AuditAction::CheckinSeen,
            Subject::record(RecordKind::Checkin, id).with_patient(Some(patient)),
        )
        .await?;
        a.commit().await?;
        Ok(patient)
    }
}

/// A check-in to insert.
struct Insert<'a> {
    clinic_id: Uuid,
    patient_id: Uuid,
    link: Option<&'a CheckinLink>,
    course_id: Option<Uuid>,
    s: Submission<'a>,
}

/// Inserts a check-in with its questionnaire response and alerts inside `a`.
async fn insert_checkin(
    a: &mut Audited,
    settings: &kap_domain::checkin::CheckinSettings,
    measurement: &kap_domain::measure::MeasurementSettings,
    i: Insert<'_>,
) -> Result<Submitted> {
    let s = i.s;
    let previous = scalar_opt!(
        tx(a.tx()),
        i32,
        "SELECT mood FROM checkin WHERE patient_id = $1 AND clinic_id = $2
         ORDER BY submitted_at DESC, id DESC LIMIT 1",
        i.patient_id,
        i.clinic_id
    );
    let previous = match previous {
        Some(v) => Some(mood(i.patient_id, v)?),
        None => None,
    };
    let flags = rules::flags(s.answers, previous, settings);
    let response = match (i.link.and_then(|l| l.instrument), s.questionnaire) {
        (Some(ins), Some((answers, scored))) => Some((
            ins,
            scored,
            insert_response(
                a,
                measurement,
                NewResponse {
                    clinic_id: i.clinic_id,
                    patient_id: i.patient_id,
                    instrument: ins,
                    context: ResponseContext::BetweenSessions,
                    source: ResponseSource::PatientLink,
                    answers,
                    scored,
                    link: None,
                    answered_at: s.at,
                },
            )
            .await?,
        )),
        _ => None,
    };
    let mut severities: Vec<Severity> = flags.iter().map(|f| f.severity).collect();
    if let Some((_, scored, _)) = &response {
        severities.extend(scored.flags.iter().map(|f| measurement.severity_of(f)));
    }
    let id = new_id();
    let an = s.answers;
    let side: Vec<&str> = an.side_effects.iter().map(|s| s.as_str()).collect();
    let from_address = a.actor().address.clone();
    exec!(
        tx(a.tx()),
        "INSERT INTO checkin (id, clinic_id, patient_id, link_id, course_id, mood,
            sleep_half_hours, sleep_quality, side_effects, side_effects_note, reflection, journal,
            intention, response_id, alerts, top_severity, submitted_at, from_address)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)",
        id,
        i.clinic_id,
        i.patient_id,
        i.link.map(|l| l.id),
        i.course_id,
        i32::from(an.mood.value()),
        an.sleep_hours.map(|h| i32::from(h.half_hours())),
        an.sleep_quality.map(|q| q.as_str()),
        side.join(","),
        an.side_effects_note.as_ref().map(LongText::as_str),
        an.reflection.as_ref().map(LongText::as_str),
        an.journal.as_ref().map(LongText::as_str),
        s.intention,
        response.as_ref().map(|(_, _, r)| r.response_id),
        i32::try_from(severities.len()).unwrap_or(i32::MAX),
        severities.iter().max().map(|s| s.as_str()),
        s.at,
        from_address
    );
    a.record(
        AuditAction::CheckinSubmitted,
        Subject::record(RecordKind::Checkin, id).with_patient(Some(i.patient_id)),
    )
    .await?;
    let mut alerts = vec![];
    let mut raised = vec![];
    for f in &flags {
        alerts.push(
            raise(
                a,
                Raise {
                    clinic_id: i.clinic_id,
                    patient_id: i.patient_id,
                    kind: f.alert_kind(),
                    severity: f.severity,
                    source: AlertSource::Checkin(id),
                    session_id: None,
                    detail: f.detail.clone(),
                    item: f.item.clone(),
                    answer: f.value,
                    at: s.at,
                },
            )
            .await?,
        );
        raised.push((f.alert_kind(), f.item.clone()));
    }
    if let Some((_, scored, r)) = &response {
        alerts.extend(r.alerts.iter().copied());
        raised.extend(
            scored
                .flags
                .iter()
                .map(|f| (AlertKind::from(f.flag), f.item.map(str::to_owned))),
        );
    }
    Ok(Submitted {
        checkin_id: id,
        alerts,
        done: DoneMessage::of(raised.iter().map(|(k, i)| (*k, i.as_deref()))),
    })
}
