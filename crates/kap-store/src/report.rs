//! The patient's own history: a history link per request (with its message in the outbox), the
//! parts a patient saves through it as they go, the patient sending them, and a clinician
//! confirming each part into the intake (health conditions and other history copied where the
//! intake has no answer; medicines and treatments marked reviewed once entered). Patients' saves
//! and clinicians' confirmations are audited like any change to a screening.

use crate::db::{Tx, exec, fetch_all, fetch_opt, scalar_opt};
use crate::error::{Conflict, Result, StoreError, code, field};
use crate::measure::outbox::{LinkRef, Recipient};
use crate::{Store, new_id, now, random_hex, token_hash};
use chrono::{DateTime, Duration, Utc};
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::messages::{TOKEN_SLOT, history_link};
use kap_domain::screening::report::{
    HistoryLink, PartAnswers, PartStatus, PatientReport, ReportPart, confirmed_conditions,
    confirmed_history,
};
use uuid::Uuid;

const RECORD: &str = "patient report";

fn encode(a: &PartAnswers) -> Result<String> {
    let v = match a {
        PartAnswers::Conditions(x) => serde_json::to_string(x),
        PartAnswers::Medicines(x) => serde_json::to_string(x),
        PartAnswers::Treatments(x) => serde_json::to_string(x),
        PartAnswers::History(x) => serde_json::to_string(x),
    };
    v.map_err(|e| StoreError::Corrupt {
        record: RECORD,
        id: String::new(),
        field: "answers",
        problem: e.to_string(),
    })
}

fn decode(id: Uuid, part: ReportPart, s: &str) -> Result<PartAnswers> {
    Ok(match part {
        ReportPart::Conditions => {
            PartAnswers::Conditions(field(RECORD, id, "answers", serde_json::from_str(s))?)
        }
        ReportPart::Medicines => {
            PartAnswers::Medicines(field(RECORD, id, "answers", serde_json::from_str(s))?)
        }
        ReportPart::Treatments => {
            PartAnswers::Treatments(field(RECORD, id, "answers", serde_json::from_str(s))?)
        }
        ReportPart::History => {
            PartAnswers::History(field(RECORD, id, "answers", serde_json::from_str(s))?)
        }
    })
}

/// A screening's patient report and the status of each saved part (inside a transaction).
pub(crate) async fn load_report(
    tx: &mut Tx,
    screening_id: Uuid,
) -> Result<(PatientReport, Vec<PartStatus>)> {
    let rows = fetch_all!(
        tx(tx),
        (
            String,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Option<String>
        ),
        "SELECT r.part, r.answers, r.saved_at, r.reviewed_at, u.full_name
         FROM patient_report r LEFT JOIN staff_user u ON u.id = r.reviewed_by
         WHERE r.screening_id = $1",
        screening_id
    );
    let mut report = PatientReport::default();
    let mut status = vec![];
    for (part, answers, saved_at, reviewed_at, by) in rows {
        let part: ReportPart = code(RECORD, screening_id, "part", &part)?;
        report.set(decode(screening_id, part, &answers)?);
        status.push(PartStatus {
            part,
            saved_at,
            reviewed: reviewed_at.map(|at| (by, at)),
        });
    }
    status.sort_by_key(|s| s.part);
    Ok((report, status))
}

/// The latest history link of a screening, if any.
pub(crate) async fn latest_link(tx: &mut Tx, screening_id: Uuid) -> Result<Option<HistoryLink>> {
    Ok(fetch_opt!(
        tx(tx),
        LinkRow,
        "SELECT id, clinic_id, patient_id, screening_id, created_at, expires_at, used_at
         FROM history_link WHERE screening_id = $1 ORDER BY created_at DESC LIMIT 1",
        screening_id
    )
    .map(HistoryLink::from))
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: Uuid,
    clinic_id: Uuid,
    patient_id: Uuid,
    screening_id: Uuid,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
}

impl From<LinkRow> for HistoryLink {
    fn from(r: LinkRow) -> Self {
        HistoryLink {
            id: r.id,
            clinic_id: r.clinic_id,
            patient_id: r.patient_id,
            screening_id: r.screening_id,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
        }
    }
}

/// A history link to create, and how its message is delivered.
#[derive(Debug, Clone, Copy)]
pub struct NewHistoryLink<'a> {
    pub clinic_id: Uuid,
    pub screening_id: Uuid,
    pub valid_for: Duration,
    pub public_url: &'a str,
    pub email_enabled: bool,
}

/// The screening's patient and whether it is still open, or why not.
async fn open_screening(tx: &mut Tx, clinic_id: Uuid, screening_id: Uuid) -> Result<Uuid> {
    let (patient, signed) = fetch_opt!(
        tx(tx),
        (Uuid, Option<DateTime<Utc>>),
        "SELECT patient_id, signed_at FROM screening WHERE id = $1 AND clinic_id = $2",
        screening_id,
        clinic_id
    )
    .ok_or(StoreError::NotFound)?;
    if signed.is_some() {
        return Err(Conflict::ScreeningLocked.into());
    }
    Ok(patient)
}

impl Store {
    /// Sends the patient a link to fill in their own history for an open screening; an earlier
    /// link still open for it ends (what was saved through it stays).
    pub async fn create_history_link(
        &self,
        actor: &Actor,
        l: NewHistoryLink<'_>,
    ) -> Result<(Uuid, String)> {
        let mut a = self.audited_in(actor, l.clinic_id).await?;
        let patient = open_screening(a.tx(), l.clinic_id, l.screening_id).await?;
        let to = Recipient::of(a.tx(), l.clinic_id, patient).await?;
        let token = random_hex(24);
        let id = new_id();
        let t = now();
        // A new link replaces any still open for this screening: those end now, and their
        // messages no longer hold a usable link.
        exec!(
            tx(a.tx()),
            "UPDATE outbox SET sealed_token = NULL WHERE history_link_id IN
               (SELECT id FROM history_link WHERE screening_id = $1 AND used_at IS NULL
                  AND expires_at > $2)",
            l.screening_id,
            t
        );
        exec!(
            tx(a.tx()),
            "UPDATE history_link SET expires_at = $1
             WHERE screening_id = $2 AND used_at IS NULL AND expires_at > $1",
            t,
            l.screening_id
        );
        exec!(
            tx(a.tx()),
            "INSERT INTO history_link (id, clinic_id, patient_id, screening_id, token_hash,
                created_by, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            id,
            l.clinic_id,
            patient,
            l.screening_id,
            token_hash(&token),
            actor.staff_id,
            t,
            t + l.valid_for
        );
        let message = history_link(to.sender(), &format!("{}/h/{TOKEN_SLOT}", l.public_url));
        to.queue(
            &mut a,
            &self.sealer(),
            LinkRef::History(id),
            &message,
            &token,
            l.email_enabled,
        )
        .await?;
        a.record(
            AuditAction::LinkCreated,
            Subject::patient(patient).with_detail(format!(
                "history link {id} for screening {}",
                l.screening_id
            )),
        )
        .await?;
        a.commit().await?;
        Ok((id, token))
    }

    /// The history link behind a raw token, if any.
    pub async fn history_link_by_token(&self, token: &str) -> Result<Option<HistoryLink>> {
        Ok(fetch_opt!(
            db(&self.db),
            LinkRow,
            "SELECT id, clinic_id, patient_id, screening_id, created_at, expires_at, used_at
             FROM history_link WHERE token_hash = $1",
            token_hash(token)
        )
        .map(HistoryLink::from))
    }

    /// What the patient has saved through a link so far (audited as the patient's own read).
    pub async fn report_for_patient(
        &self,
        actor: &Actor,
        link: &HistoryLink,
    ) -> Result<PatientReport> {
        let mut a = self.audited_in(actor, link.clinic_id).await?;
        let (report, _) = load_report(a.tx(), link.screening_id).await?;
        a.record(
            AuditAction::LinkOpened,
            Subject::patient(link.patient_id).with_detail(format!("history link {}", link.id)),
        )
        .await?;
        a.commit().await?;
        Ok(report)
    }

    /// Saves one part through a link that is still open, for a screening still open; a part
    /// saved again replaces the earlier answers and waits for a new review.
    pub async fn save_report_part(
        &self,
        actor: &Actor,
        link: &HistoryLink,
        answers: &PartAnswers,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, link.clinic_id).await?;
        let t = now();
        let open = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT id FROM history_link WHERE id = $1 AND used_at IS NULL AND expires_at > $2",
            link.id,
            t
        );
        if open.is_none() {
            return Err(Conflict::LinkSpent.into());
        }
        open_screening(a.tx(), link.clinic_id, link.screening_id).await?;
        let part = answers.part();
        exec!(
            tx(a.tx()),
            "INSERT INTO patient_report (screening_id, part, answers, saved_at, link_id)
             VALUES ($1,$2,$3,$4,$5)
             ON CONFLICT (screening_id, part) DO UPDATE SET answers = excluded.answers,
                saved_at = excluded.saved_at, link_id = excluded.link_id,
                reviewed_at = NULL, reviewed_by = NULL",
            link.screening_id,
            part.as_str(),
            encode(answers)?,
            t,
            link.id
        );
        a.record(
            AuditAction::ScreeningUpdated,
            Subject::patient(link.patient_id).with_detail(format!(
                "screening {}: patient's {}",
                link.screening_id,
                part.as_str()
            )),
        )
        .await?;
        a.commit().await
    }

    /// The patient sends their answers: the link is spent and its message's token dropped.
    pub async fn send_report(&self, actor: &Actor, link: &HistoryLink) -> Result<()> {
        let mut a = self.audited_in(actor, link.clinic_id).await?;
        let t = now();
        let n = exec!(
            tx(a.tx()),
            "UPDATE history_link SET used_at = $1
             WHERE id = $2 AND used_at IS NULL AND expires_at > $1",
            t,
            link.id
        );
        if n == 0 {
            return Err(Conflict::LinkSpent.into());
        }
        exec!(
            tx(a.tx()),
            "UPDATE outbox SET sealed_token = NULL WHERE history_link_id = $1",
            link.id
        );
        a.record(
            AuditAction::ScreeningUpdated,
            Subject::patient(link.patient_id).with_detail(format!(
                "screening {}: patient sent their history",
                link.screening_id
            )),
        )
        .await?;
        a.commit().await
    }

    /// A clinician confirms one part of the patient's report: health conditions and other
    /// history are copied into the intake where it has no answer yet; medicines and treatments
    /// (entered by the clinician) are marked reviewed.
    pub async fn confirm_report_part(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        screening_id: Uuid,
        part: ReportPart,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = open_screening(a.tx(), clinic_id, screening_id).await?;
        let (report, _) = load_report(a.tx(), screening_id).await?;
        if !report.has(part) {
            return Err(StoreError::NotFound);
        }
        let s = crate::screening::load(a.tx(), clinic_id, screening_id).await?;
        match part {
            ReportPart::Conditions => {
                let reported = report.conditions.unwrap_or_default();
                let add = confirmed_conditions(&reported, &s.intake.conditions);
                crate::screening::write_conditions(a.tx(), screening_id, &add).await?;
            }
            ReportPart::History => {
                let reported = report.history.unwrap_or_default();
                let h = confirmed_history(&reported, &s.intake.history);
                crate::screening::write_history(a.tx(), screening_id, &h).await?;
            }
            ReportPart::Medicines | ReportPart::Treatments => {}
        }
        exec!(
            tx(a.tx()),
            "UPDATE patient_report SET reviewed_at = $1, reviewed_by = $2
             WHERE screening_id = $3 AND part = $4",
            now(),
            actor.staff_id,
            screening_id,
            part.as_str()
        );
        a.record(
            AuditAction::ScreeningUpdated,
            Subject::patient(patient).with_detail(format!(
                "screening {screening_id}: patient's {} confirmed",
                part.as_str()
            )),
        )
        .await?;
        a.commit().await
    }
}
