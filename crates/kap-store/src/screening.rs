//! Screenings: the intake (checklist, medications, treatment trials, vitals, episode), the
//! prescriber's signed eligibility decision — checked against the clinic's rules inside the
//! same transaction that stores it, and locking the screening — addenda after signing, and the
//! clinic's screening protocol as versioned documents. Every read and write is audited.

use crate::audited::Audited;
use crate::db::{Tx, exec, fetch_all, fetch_opt, scalar_opt};
use crate::error::{Conflict, Result, StoreError, code, field, opt_field};
use crate::measure::patient_in_clinic;
use crate::{Store, new_id, now};
use chrono::{DateTime, Utc};
use kap_domain::audit::{Actor, AuditAction, Subject};
use kap_domain::screening::Route;
use kap_domain::screening::decision::{self, Decision, Draft};
use kap_domain::screening::intake::{
    BaselineVitals, Condition, Diagnosis, EpisodeSeverity, IcdCode, Intake, Medication,
    PsychHistory, TreatmentTrial,
};
use kap_domain::screening::record::{
    Addendum, BASELINE_INSTRUMENTS, BaselineScore, Screening, ScreeningProtocol, SignedDecision,
};
use kap_domain::screening::rules::evaluate;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct ScreeningRow {
    id: Uuid,
    clinic_id: Uuid,
    patient_id: Uuid,
    started_at: DateTime<Utc>,
    episode_months: Option<i32>,
    severity: Option<String>,
    medications_taken: bool,
    systolic: Option<i32>,
    diastolic: Option<i32>,
    heart_rate: Option<i32>,
    spo2: Option<i32>,
    decision: Option<String>,
    rationale: Option<String>,
    routes: Option<String>,
    justifications: Option<String>,
    signed_by: Option<Uuid>,
    signed_by_name: Option<String>,
    signed_at: Option<DateTime<Utc>>,
    hospitalisations: Option<i32>,
    suicide_attempts: Option<i32>,
    last_attempt_year: Option<i32>,
    allergies: Option<String>,
    substance_use: Option<String>,
}

const COLS: &str = "s.id, s.clinic_id, s.patient_id, s.started_at, s.episode_months, s.severity,
    s.medications_taken, s.systolic, s.diastolic, s.heart_rate, s.spo2, s.decision, s.rationale,
    s.routes, s.justifications, s.signed_by, u.full_name AS signed_by_name, s.signed_at,
    s.hospitalisations, s.suicide_attempts, s.last_attempt_year, s.allergies, s.substance_use";

#[derive(sqlx::FromRow)]
struct TrialRow {
    id: Uuid,
    kind: String,
    class: Option<String>,
    name: String,
    weeks: Option<i32>,
    adequate: Option<bool>,
    outcome: String,
    current_episode: bool,
}

#[derive(sqlx::FromRow)]
struct MedicationRow {
    id: Uuid,
    name: String,
    class: Option<String>,
    diazepam_eq_tenths: Option<i32>,
}

const RECORD: &str = "screening";

fn small<T: TryFrom<i32>>(id: Uuid, name: &'static str, v: Option<i32>) -> Result<Option<T>> {
    v.map(|x| {
        field(
            RECORD,
            id,
            name,
            T::try_from(x).map_err(|_| format!("{x} is out of range")),
        )
    })
    .transpose()
}

fn json<T: serde::de::DeserializeOwned>(id: Uuid, name: &'static str, s: &str) -> Result<T> {
    field(RECORD, id, name, serde_json::from_str(s))
}

/// Loads a screening of a clinic inside a transaction.
pub(crate) async fn load(tx: &mut Tx, clinic_id: Uuid, id: Uuid) -> Result<Screening> {
    let sql = format!(
        "SELECT {COLS} FROM screening s LEFT JOIN staff_user u ON u.id = s.signed_by
         WHERE s.id = $1 AND s.clinic_id = $2"
    );
    let r = fetch_opt!(
        tx(tx),
        ScreeningRow,
        sqlx::AssertSqlSafe(sql),
        id,
        clinic_id
    )
    .ok_or(StoreError::NotFound)?;
    let conditions: Vec<(String, bool)> = fetch_all!(
        tx(tx),
        (String, bool),
        "SELECT condition, present FROM screening_condition WHERE screening_id = $1",
        id
    );
    let mut answers = BTreeMap::new();
    for (c, present) in conditions {
        answers.insert(code::<Condition>(RECORD, id, "condition", &c)?, present);
    }
    let meds = fetch_all!(
        tx(tx),
        MedicationRow,
        "SELECT id, name, class, diazepam_eq_tenths FROM screening_medication
         WHERE screening_id = $1 ORDER BY id",
        id
    );
    let medications = if r.medications_taken {
        Some(
            meds.into_iter()
                .map(|m| {
                    Ok(Medication {
                        class: opt_field(RECORD, m.id, "class", m.class.as_deref(), str::parse)?,
                        name: m.name,
                        diazepam_equivalent_mg: m.diazepam_eq_tenths.map(|t| f64::from(t) / 10.0),
                    })
                })
                .collect::<Result<Vec<_>>>()?,
        )
    } else {
        None
    };
    let trial_rows = fetch_all!(
        tx(tx),
        TrialRow,
        "SELECT id, kind, class, name, weeks, adequate, outcome, current_episode
         FROM screening_trial WHERE screening_id = $1 ORDER BY id",
        id
    );
    let mut trials = vec![];
    let mut trial_ids = vec![];
    for t in trial_rows {
        trial_ids.push(t.id);
        trials.push(TreatmentTrial {
            kind: code(RECORD, t.id, "kind", &t.kind)?,
            class: opt_field(RECORD, t.id, "class", t.class.as_deref(), str::parse)?,
            name: t.name,
            weeks: small(t.id, "weeks", t.weeks)?,
            adequate: t.adequate,
            outcome: code(RECORD, t.id, "outcome", &t.outcome)?,
            current_episode: t.current_episode,
        });
    }
    let addenda = fetch_all!(
        tx(tx),
        (Option<String>, DateTime<Utc>, String, String),
        "SELECT u.full_name, a.written_at, a.reason, a.body FROM screening_addendum a
         LEFT JOIN staff_user u ON u.id = a.author WHERE a.screening_id = $1
         ORDER BY a.written_at, a.id",
        id
    )
    .into_iter()
    .map(|(author_name, written_at, reason, body)| Addendum {
        author_name,
        written_at,
        reason,
        body,
    })
    .collect();
    let signed = match (&r.decision, r.signed_at) {
        (Some(d), Some(at)) => Some(SignedDecision {
            decision: code(RECORD, id, "decision", d)?,
            rationale: r.rationale.clone().unwrap_or_default(),
            routes: json::<Vec<Route>>(id, "routes", r.routes.as_deref().unwrap_or("[]"))?,
            justifications: json(
                id,
                "justifications",
                r.justifications.as_deref().unwrap_or("{}"),
            )?,
            signed_by: r.signed_by,
            signed_by_name: r.signed_by_name.clone(),
            signed_at: at,
        }),
        (None, None) => None,
        _ => {
            return Err(StoreError::Corrupt {
                record: RECORD,
                id: id.to_string(),
                field: "decision",
                problem: "a decision without its signing time, or the other way round".into(),
            });
        }
    };
    let diagnoses = fetch_all!(
        tx(tx),
        (String, String),
        "SELECT code, description FROM screening_diagnosis WHERE screening_id = $1
         ORDER BY code",
        id
    )
    .into_iter()
    .map(|(c, description)| {
        Ok(Diagnosis {
            code: field(RECORD, id, "diagnosis", IcdCode::parse(&c))?,
            description,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let history = PsychHistory {
        diagnoses,
        hospitalisations: small(id, "hospitalisations", r.hospitalisations)?,
        suicide_attempts: small(id, "suicide_attempts", r.suicide_attempts)?,
        last_attempt_year: r.last_attempt_year,
        allergies: r.allergies.clone(),
        substance_use: r.substance_use.clone(),
    };
    let mut baseline = vec![];
    for code in BASELINE_INSTRUMENTS {
        let row = fetch_opt!(
            tx(tx),
            (
                Uuid,
                bool,
                Option<i32>,
                Option<String>,
                Option<String>,
                DateTime<Utc>
            ),
            "SELECT id, complete, total, band, screen, answered_at FROM questionnaire_response
             WHERE patient_id = $1 AND instrument = $2 AND context = 'baseline'
             ORDER BY answered_at DESC, id DESC LIMIT 1",
            r.patient_id,
            code
        );
        if let Some((rid, complete, total, band, screen, answered_at)) = row {
            baseline.push(BaselineScore {
                instrument: crate::error::instrument("questionnaire response", rid, code)?,
                complete,
                total,
                result: band.or(screen),
                answered_at,
            });
        }
    }
    let (report, report_status) = crate::report::load_report(tx, id).await?;
    let history_link = crate::report::latest_link(tx, id).await?;
    Ok(Screening {
        baseline,
        report,
        report_status,
        history_link,
        id: r.id,
        clinic_id: r.clinic_id,
        patient_id: r.patient_id,
        started_at: r.started_at,
        intake: Intake {
            conditions: answers,
            medications,
            vitals: BaselineVitals {
                systolic: small(id, "systolic", r.systolic)?,
                diastolic: small(id, "diastolic", r.diastolic)?,
                heart_rate: small(id, "heart_rate", r.heart_rate)?,
                spo2: small(id, "spo2", r.spo2)?,
            },
            trials,
            episode_months: small(id, "episode_months", r.episode_months)?,
            severity: opt_field(RECORD, id, "severity", r.severity.as_deref(), str::parse)?,
            history,
        },
        trial_ids,
        signed,
        addenda,
    })
}

/// Writes checklist answers (each replaces the condition's earlier answer).
pub(crate) async fn write_conditions(
    tx: &mut Tx,
    id: Uuid,
    answers: &BTreeMap<Condition, bool>,
) -> Result<()> {
    for (c, present) in answers {
        exec!(
            tx(tx),
            "DELETE FROM screening_condition WHERE screening_id = $1 AND condition = $2",
            id,
            c.as_str()
        );
        exec!(
            tx(tx),
            "INSERT INTO screening_condition (screening_id, condition, present) VALUES ($1,$2,$3)",
            id,
            c.as_str(),
            *present
        );
    }
    Ok(())
}

/// Writes the psychiatric history (diagnoses replaced as a whole).
pub(crate) async fn write_history(tx: &mut Tx, id: Uuid, h: &PsychHistory) -> Result<()> {
    exec!(
        tx(tx),
        "UPDATE screening SET hospitalisations = $1, suicide_attempts = $2,
            last_attempt_year = $3, allergies = $4, substance_use = $5 WHERE id = $6",
        h.hospitalisations.map(i32::from),
        h.suicide_attempts.map(i32::from),
        h.last_attempt_year,
        h.allergies.as_deref(),
        h.substance_use.as_deref(),
        id
    );
    exec!(
        tx(tx),
        "DELETE FROM screening_diagnosis WHERE screening_id = $1",
        id
    );
    for d in &h.diagnoses {
        exec!(
            tx(tx),
            "INSERT INTO screening_diagnosis (screening_id, code, description)
             VALUES ($1,$2,$3)",
            id,
            d.code.as_str(),
            &d.description
        );
    }
    Ok(())
}

/// Opens an audited change to a screening that is still open (not signed).
async fn open_for_change(a: &mut Audited, clinic_id: Uuid, id: Uuid) -> Result<Uuid> {
    let row = scalar_opt!(
        tx(a.tx()),
        Option<DateTime<Utc>>,
        "SELECT signed_at FROM screening WHERE id = $1 AND clinic_id = $2",
        id,
        clinic_id
    )
    .ok_or(StoreError::NotFound)?;
    if row.is_some() {
        return Err(Conflict::ScreeningLocked.into());
    }
    let patient = scalar_opt!(
        tx(a.tx()),
        Uuid,
        "SELECT patient_id FROM screening WHERE id = $1",
        id
    )
    .ok_or(StoreError::NotFound)?;
    exec!(
        tx(a.tx()),
        "UPDATE screening SET updated_at = $1 WHERE id = $2",
        now(),
        id
    );
    Ok(patient)
}

/// What part of the intake a change was to, for the audit row (never the answers).
async fn changed(mut a: Audited, patient: Uuid, id: Uuid, part: &str) -> Result<()> {
    a.record(
        AuditAction::ScreeningUpdated,
        Subject::patient(patient).with_detail(format!("screening {id}: {part}")),
    )
    .await?;
    a.commit().await
}

impl Store {
    /// Starts a new screening of a patient (earlier ones are kept).
    pub async fn start_screening(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        patient_in_clinic(a.tx(), clinic_id, patient_id).await?;
        let id = new_id();
        let t = now();
        exec!(
            tx(a.tx()),
            "INSERT INTO screening (id, clinic_id, patient_id, started_at, started_by, updated_at)
             VALUES ($1,$2,$3,$4,$5,$4)",
            id,
            clinic_id,
            patient_id,
            t,
            actor.staff_id
        );
        a.record(
            AuditAction::ScreeningStarted,
            Subject::patient(patient_id).with_detail(format!("screening {id}")),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// A screening of the clinic, whole.
    pub async fn screening(&self, actor: &Actor, clinic_id: Uuid, id: Uuid) -> Result<Screening> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let s = load(a.tx(), clinic_id, id).await?;
        a.record(
            AuditAction::ScreeningRead,
            Subject::patient(s.patient_id).with_detail(format!("screening {id}")),
        )
        .await?;
        a.commit().await?;
        Ok(s)
    }

    /// A patient's most recent screening, if any.
    pub async fn latest_screening(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<Option<Screening>> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let id = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT id FROM screening WHERE patient_id = $1 AND clinic_id = $2
             ORDER BY started_at DESC, id DESC LIMIT 1",
            patient_id,
            clinic_id
        );
        let s = match id {
            Some(id) => Some(load(a.tx(), clinic_id, id).await?),
            None => None,
        };
        a.record(
            AuditAction::ScreeningRead,
            Subject::patient(patient_id).with_detail("latest screening"),
        )
        .await?;
        a.commit().await?;
        Ok(s)
    }

    /// Saves checklist answers (each condition yes or no); answers not given stay as they were.
    pub async fn save_checklist(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        answers: &BTreeMap<Condition, bool>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = open_for_change(&mut a, clinic_id, id).await?;
        write_conditions(a.tx(), id, answers).await?;
        changed(a, patient, id, "checklist").await
    }

    /// Saves the current episode's length and severity.
    pub async fn save_episode(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        months: Option<u16>,
        severity: Option<EpisodeSeverity>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = open_for_change(&mut a, clinic_id, id).await?;
        exec!(
            tx(a.tx()),
            "UPDATE screening SET episode_months = $1, severity = $2 WHERE id = $3",
            months.map(i32::from),
            severity.map(EpisodeSeverity::as_str),
            id
        );
        changed(a, patient, id, "episode").await
    }

    /// Saves the psychiatric history (diagnoses replaced as a whole).
    pub async fn save_history(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        h: &PsychHistory,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = open_for_change(&mut a, clinic_id, id).await?;
        write_history(a.tx(), id, h).await?;
        changed(a, patient, id, "history").await
    }

    /// Replaces the current medication list (an empty list records "none").
    pub async fn save_medications(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        meds: &[Medication],
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = open_for_change(&mut a, clinic_id, id).await?;
        exec!(
            tx(a.tx()),
            "DELETE FROM screening_medication WHERE screening_id = $1",
            id
        );
        for m in meds {
            // Tenths of a milligram: the dose is stored without floating point.
            let tenths = m
                .diazepam_equivalent_mg
                .map(|mg| (mg * 10.0).round() as i32);
            exec!(
                tx(a.tx()),
                "INSERT INTO screening_medication (id, screening_id, name, class, diazepam_eq_tenths)
                 VALUES ($1,$2,$3,$4,$5)",
                new_id(),
                id,
                &m.name,
                m.class.map(|c| c.as_str()),
                tenths
            );
        }
        exec!(
            tx(a.tx()),
            "UPDATE screening SET medications_taken = TRUE WHERE id = $1",
            id
        );
        changed(a, patient, id, "medications").await
    }

    /// Adds a treatment trial; returns its id.
    pub async fn add_trial(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        t: &TreatmentTrial,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = open_for_change(&mut a, clinic_id, id).await?;
        let trial = new_id();
        exec!(
            tx(a.tx()),
            "INSERT INTO screening_trial (id, screening_id, kind, class, name, weeks, adequate,
                outcome, current_episode)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
            trial,
            id,
            t.kind.as_str(),
            t.class.map(|c| c.as_str()),
            &t.name,
            t.weeks.map(i32::from),
            t.adequate,
            t.outcome.as_str(),
            t.current_episode
        );
        changed(a, patient, id, "treatment trial added").await?;
        Ok(trial)
    }

    /// Removes a treatment trial entered by mistake (before signing).
    pub async fn remove_trial(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        trial: Uuid,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = open_for_change(&mut a, clinic_id, id).await?;
        let n = exec!(
            tx(a.tx()),
            "DELETE FROM screening_trial WHERE id = $1 AND screening_id = $2",
            trial,
            id
        );
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        changed(a, patient, id, "treatment trial removed").await
    }

    /// Saves the baseline vitals.
    pub async fn save_vitals(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        v: &BaselineVitals,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = open_for_change(&mut a, clinic_id, id).await?;
        exec!(
            tx(a.tx()),
            "UPDATE screening SET systolic = $1, diastolic = $2, heart_rate = $3, spo2 = $4
             WHERE id = $5",
            v.systolic.map(i32::from),
            v.diastolic.map(i32::from),
            v.heart_rate.map(i32::from),
            v.spo2.map(i32::from),
            id
        );
        changed(a, patient, id, "vitals").await
    }

    /// Signs the eligibility decision: the clinic's rules are applied to the intake as it
    /// stands, in the same transaction, and the decision must follow them (see
    /// [`decision::check`]); signing locks the screening.
    pub async fn sign_eligibility(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        draft: &Draft,
    ) -> Result<Decision> {
        let protocol = self.screening_protocol(clinic_id).await?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = open_for_change(&mut a, clinic_id, id).await?;
        let s = load(a.tx(), clinic_id, id).await?;
        let findings = evaluate(&s.intake, &protocol.rules, &draft.routes);
        let decision = decision::check(&findings, draft).map_err(Conflict::DecisionRefused)?;
        let routes = serde_json::to_string(&draft.routes).unwrap_or_else(|_| "[]".into());
        let justifications =
            serde_json::to_string(&draft.justifications).unwrap_or_else(|_| "{}".into());
        exec!(
            tx(a.tx()),
            "UPDATE screening SET decision = $1, rationale = $2, routes = $3, justifications = $4,
                signed_by = $5, signed_at = $6
             WHERE id = $7 AND signed_at IS NULL",
            decision.as_str(),
            draft.rationale.trim(),
            routes,
            justifications,
            actor.staff_id,
            now(),
            id
        );
        a.record(
            AuditAction::EligibilitySigned,
            Subject::patient(patient).with_detail(format!("screening {id}")),
        )
        .await?;
        a.commit().await?;
        Ok(decision)
    }

    /// Adds an addendum to a signed screening (the signed record itself never changes).
    pub async fn add_screening_addendum(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        reason: &str,
        body: &str,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let row = fetch_opt!(
            tx(a.tx()),
            (Uuid, Option<DateTime<Utc>>),
            "SELECT patient_id, signed_at FROM screening WHERE id = $1 AND clinic_id = $2",
            id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        if row.1.is_none() {
            return Err(Conflict::ScreeningNotSigned.into());
        }
        exec!(
            tx(a.tx()),
            "INSERT INTO screening_addendum (id, screening_id, author, written_at, reason, body)
             VALUES ($1,$2,$3,$4,$5,$6)",
            new_id(),
            id,
            actor.staff_id,
            now(),
            reason,
            body
        );
        a.record(
            AuditAction::ScreeningAddendum,
            Subject::patient(row.0).with_detail(format!("screening {id}")),
        )
        .await?;
        a.commit().await
    }

    /// The clinic's screening protocol: the latest saved version, or the shipped protocol when
    /// the clinic never saved one. A stored version that cannot be read is an error.
    pub async fn screening_protocol(&self, clinic_id: Uuid) -> Result<ScreeningProtocol> {
        let row = fetch_opt!(
            db(&self.db),
            (i32, String),
            "SELECT version, document FROM screening_protocol WHERE clinic_id = $1
             ORDER BY version DESC LIMIT 1",
            clinic_id
        );
        let Some((version, doc)) = row else {
            return Ok(ScreeningProtocol::default());
        };
        let corrupt = |problem: String| StoreError::Corrupt {
            record: "screening protocol of clinic",
            id: clinic_id.to_string(),
            field: "document",
            problem: format!("version {version}: {problem}"),
        };
        let p: ScreeningProtocol =
            serde_json::from_str(&doc).map_err(|e| corrupt(e.to_string()))?;
        let problems = p.problems();
        if !problems.is_empty() {
            return Err(corrupt(problems.join(" ")));
        }
        Ok(p)
    }

    /// Saves a clinic's screening protocol as its next version.
    pub async fn set_screening_protocol(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        p: &ScreeningProtocol,
    ) -> Result<()> {
        let problems = p.problems();
        if !problems.is_empty() {
            return Err(Conflict::ProtocolInvalid(problems.join(" ")).into());
        }
        let doc = serde_json::to_string(p).map_err(|e| StoreError::Corrupt {
            record: "screening protocol of clinic",
            id: clinic_id.to_string(),
            field: "document",
            problem: e.to_string(),
        })?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        let by = a.actor().staff_id;
        exec!(
            tx(a.tx()),
            "INSERT INTO screening_protocol (clinic_id, version, document, saved_at, saved_by)
             SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM screening_protocol
             WHERE clinic_id = $1",
            clinic_id,
            &doc,
            now(),
            by
        );
        a.record(
            AuditAction::ScreeningProtocolChanged,
            Subject::none().with_detail("new version"),
        )
        .await?;
        a.commit().await
    }
}
