//! Questionnaire responses: scored in the domain, stored with their item answers, and the safety
//! alerts they raise written in the same transaction — when recording returns, the alerts are
//! durable.

use super::patient_in_clinic;
use crate::db::{exec, fetch_all};
use crate::error::{Conflict, Result, StoreError, code, instrument};
use crate::{Store, new_id};
use chrono::{DateTime, Utc};
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::instruments::{Answers, Instrument, ResponseContext, Scored};
use kap_domain::measure::{OutboxStatus, QuestionnaireResponse, ResponseSource};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A response to record.
#[derive(Debug, Clone, Copy)]
pub struct NewResponse<'a> {
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub instrument: &'static Instrument,
    pub context: ResponseContext,
    pub source: ResponseSource,
    pub answers: &'a Answers,
    pub scored: &'a Scored,
    /// The patient link the answers came through; it is spent in the same transaction.
    pub link: Option<Uuid>,
    /// When the answers were given (now, or back-dated for imports and the demo).
    pub answered_at: DateTime<Utc>,
}

/// What recording a response produced.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub response_id: Uuid,
    pub alerts: Vec<Uuid>,
}

#[derive(sqlx::FromRow)]
struct ResponseRow {
    id: Uuid,
    patient_id: Uuid,
    instrument: String,
    context: String,
    source: String,
    complete: bool,
    total: Option<i32>,
    band: Option<String>,
    screen: Option<String>,
    answered_at: DateTime<Utc>,
    entered_by_name: Option<String>,
}

const R: &str = "questionnaire response";

impl TryFrom<ResponseRow> for QuestionnaireResponse {
    type Error = StoreError;
    fn try_from(r: ResponseRow) -> Result<QuestionnaireResponse> {
        let id = r.id;
        Ok(QuestionnaireResponse {
            id,
            patient_id: r.patient_id,
            instrument: instrument(R, id, &r.instrument)?,
            context: code(R, id, "context", &r.context)?,
            source: code(R, id, "source", &r.source)?,
            complete: r.complete,
            total: r.total,
            band: r.band,
            screen: r.screen,
            answered_at: r.answered_at,
            entered_by_name: r.entered_by_name,
        })
    }
}

impl Store {
    /// Stores a scored response with its answers and raises an alert for every safety flag, all
    /// in one transaction; when it returns, the alerts are durable. A link, if given, is spent
    /// in the same transaction (a second use finds it spent and stores nothing).
    pub async fn record_response(&self, actor: &Actor, r: NewResponse<'_>) -> Result<Recorded> {
        // The clinic's rules give each alert its severity.
        let settings = self.measurement_settings(r.clinic_id).await?;
        // Concurrent submissions share one commit (the group commit); each is its own
        // savepoint, answered only when the commit is durable.
        let (answers, scored) = (r.answers.clone(), r.scored.clone());
        let (clinic_id, patient_id) = (r.clinic_id, r.patient_id);
        let (instrument, context, source, link, answered_at) =
            (r.instrument, r.context, r.source, r.link, r.answered_at);
        let actor = crate::audited::in_clinic(actor, clinic_id);
        self.write_grouped(&actor, move |mut a| async move {
            let r = NewResponse {
                clinic_id,
                patient_id,
                instrument,
                context,
                source,
                answers: &answers,
                scored: &scored,
                link,
                answered_at,
            };
            let recorded = async {
                patient_in_clinic(a.tx(), clinic_id, patient_id).await?;
                insert_response(&mut a, &settings, r).await
            }
            .await;
            (a, recorded)
        })
        .await
    }
}

/// Stores a scored response and raises its alerts inside the caller's audited transaction
/// (a check-in records the questionnaire answered with it this way, in its own transaction).
/// The caller has checked that the patient is of the clinic.
pub(crate) async fn insert_response(
    a: &mut crate::audited::Audited,
    settings: &kap_domain::measure::MeasurementSettings,
    r: NewResponse<'_>,
) -> Result<Recorded> {
    let actor = a.actor().clone();
    let t = r.answered_at;
    let id = new_id();
    if let Some(link_id) = r.link {
        let n = exec!(
            tx(a.tx()),
            "UPDATE patient_link SET used_at = $1, response_id = NULL
                 WHERE id = $2 AND used_at IS NULL AND expires_at > $1",
            t,
            link_id
        );
        if n == 0 {
            return Err(Conflict::LinkSpent.into());
        }
    }
    exec!(
        tx(a.tx()),
        "INSERT INTO questionnaire_response (id, clinic_id, patient_id, instrument, context,
                source, entered_by, complete, total, band, screen, answered_at, created_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$12)",
        id,
        r.clinic_id,
        r.patient_id,
        r.instrument.code,
        r.context.as_str(),
        r.source.as_str(),
        actor.staff_id,
        r.scored.complete,
        r.scored.total,
        r.scored.band,
        r.scored.screen,
        t
    );
    if !r.answers.is_empty() {
        let sql = format!(
            "INSERT INTO response_item (response_id, item_id, value) VALUES {}",
            crate::db::values_list(r.answers.len(), 3)
        );
        crate::db::on!(tx(a.tx()), c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for (item, value) in r.answers {
                q = q.bind(id).bind(item).bind(*value);
            }
            q.execute(c).await?;
        });
    }
    if let Some(link_id) = r.link {
        // The link is spent: its messages drop their sealed token, and an unsent email is
        // not sent any more.
        exec!(
            tx(a.tx()),
            "UPDATE outbox SET sealed_token = NULL,
                    status = CASE WHEN status = $1 THEN $2 ELSE status END
                 WHERE link_id = $3",
            OutboxStatus::Pending.as_str(),
            OutboxStatus::Superseded.as_str(),
            link_id
        );
        exec!(
            tx(a.tx()),
            "UPDATE patient_link SET response_id = $1 WHERE id = $2",
            id,
            link_id
        );
    }
    a.record(
        AuditAction::ResponseRecorded,
        Subject::patient(r.patient_id).with_detail(format!("{} response {id}", r.instrument.code)),
    )
    .await?;
    let mut alerts = vec![];
    for f in &r.scored.flags {
        let raise = super::alert::Raise::for_flag(
            r.clinic_id,
            r.patient_id,
            id,
            f,
            settings.severity_of(f),
            t,
        );
        alerts.push(super::alert::raise(a, raise).await?);
    }
    Ok(Recorded {
        response_id: id,
        alerts,
    })
}

impl Store {
    /// A patient's responses, oldest first, with their item answers (one query each, not one
    /// per response). Audited as a read of the patient's questionnaire data.
    pub async fn responses_of(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<(Vec<QuestionnaireResponse>, BTreeMap<Uuid, Answers>)> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        patient_in_clinic(a.tx(), clinic_id, patient_id).await?;
        let rows = fetch_all!(
            tx(a.tx()),
            ResponseRow,
            "SELECT r.id, r.patient_id, r.instrument, r.context, r.source, r.complete, r.total,
                r.band, r.screen, r.answered_at, s.full_name AS entered_by_name
             FROM questionnaire_response r LEFT JOIN staff_user s ON s.id = r.entered_by
             WHERE r.patient_id = $1 ORDER BY r.answered_at, r.id",
            patient_id
        );
        let items = fetch_all!(
            tx(a.tx()),
            (Uuid, String, i32),
            "SELECT i.response_id, i.item_id, i.value FROM response_item i
             JOIN questionnaire_response r ON r.id = i.response_id WHERE r.patient_id = $1",
            patient_id
        );
        a.record(
            AuditAction::ResponsesRead,
            Subject::patient(patient_id).with_detail(format!("{} responses", rows.len())),
        )
        .await?;
        a.commit().await?;
        let mut answers: BTreeMap<Uuid, Answers> = BTreeMap::new();
        for (rid, item, value) in items {
            answers.entry(rid).or_default().insert(item, value);
        }
        let rows = rows
            .into_iter()
            .map(QuestionnaireResponse::try_from)
            .collect::<Result<_>>()?;
        Ok((rows, answers))
    }

    /// Which questionnaires a patient completed, and when — without answers or scores (what a
    /// coordinator may see).
    pub async fn response_status_of(
        &self,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<Vec<(&'static Instrument, DateTime<Utc>, bool)>> {
        fetch_all!(
            db(&self.db),
            (Uuid, String, DateTime<Utc>, bool),
            "SELECT id, instrument, answered_at, complete FROM questionnaire_response
             WHERE patient_id = $1 AND clinic_id = $2 ORDER BY answered_at DESC LIMIT 50",
            patient_id,
            clinic_id
        )
        .into_iter()
        .map(|(id, ins, at, complete)| Ok((instrument(R, id, &ins)?, at, complete)))
        .collect()
    }
}
