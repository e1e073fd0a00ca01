//! Dosing sessions on disk. Every write opens an audited transaction, takes the session's row
//! lock (`UPDATE dosing_session SET stage = stage`, so two writers on one session queue rather
//! than race), loads the whole session, asks the domain whether the entry is allowed, appends
//! it, raises any alert in the same transaction, and stores the stage the board shows. Entries
//! are never changed or deleted (triggers on both databases), and nothing but an addendum lands
//! on a signed session. A client id makes a retried entry from a tablet land once. Every write
//! takes `now`: the web passes the clock, `kapstone demo` the moment it replays.

use crate::audited::Audited;
use crate::db::{Tx, exec, fetch_all, fetch_opt, scalar, scalar_opt};
use crate::error::{Conflict, Result, StoreError, code};
use crate::measure::alert::{Raise, raise};
use crate::{Store, new_id};
use chrono::{DateTime, NaiveDate, Utc};
use kap_domain::FieldErrors;
use kap_domain::alert::{Alert, AlertKind, AlertSource};
use kap_domain::audit::{Actor, AuditAction, RecordKind, Subject};
use kap_domain::dosing::checklist::{self, ChecklistForm};
use kap_domain::dosing::flowsheet::{self, VitalsForm};
use kap_domain::dosing::order::{self, AdminForm, OrderForm, Step};
use kap_domain::dosing::{
    Addendum, AdminChange, AdminEvent, Administration, AdverseEvent, AdverseKind, AdverseOutcome,
    AdverseSeverity, AdverseUpdate, Checklist, CourseDosing, DischargeRecord, Entered,
    HoldDecision, HoldDecisionKind, Moaas, Observation, Order, OrderKind, Pregnancy, Rating,
    RemsAnswers, Session, Signature, Stage, Vitals, discharge, rems,
};
use kap_domain::instruments::Severity;
use kap_domain::person::Sex;
use kap_domain::protocol::SessionKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use uuid::Uuid;

const R: &str = "dosing_session";

#[derive(sqlx::FromRow)]
struct SessionRow {
    appointment_id: Uuid,
    course_id: Uuid,
    patient_id: Uuid,
    protocol_id: Uuid,
    opened_by: Uuid,
    opened_by_name: String,
    opened_at: DateTime<Utc>,
    signed_at: Option<DateTime<Utc>>,
    signed_by: Option<Uuid>,
    signed_by_name: Option<String>,
    content_hash: Option<String>,
    rems_submitted_on: Option<NaiveDate>,
    dose_unit: String,
    dose_amount: i64,
}

#[derive(sqlx::FromRow)]
struct VitalsRow {
    id: Uuid,
    taken_at: DateTime<Utc>,
    systolic: Option<f64>,
    diastolic: Option<f64>,
    heart_rate: Option<f64>,
    spo2: Option<f64>,
    respiratory_rate: Option<f64>,
    entered_by: Uuid,
    entered_by_name: String,
    entered_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: Uuid,
    kind: String,
    ref_id: Option<Uuid>,
    at: DateTime<Utc>,
    body: String,
    entered_by: Uuid,
    entered_by_name: String,
    entered_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct ChecklistBody {
    identity_confirmed: bool,
    last_food_at: Option<DateTime<Utc>>,
    last_fluids_at: Option<DateTime<Utc>>,
    nasal_medicine_at: Option<DateTime<Utc>>,
    escort: String,
    pregnancy: Option<Pregnancy>,
    medications_reviewed: bool,
    benzodiazepine_today: bool,
    medication_note: String,
    intention_reviewed: bool,
    intention: String,
    weight_kg: f64,
}

#[derive(Serialize, Deserialize)]
struct HoldBody {
    kind: HoldDecisionKind,
    reason: String,
    vitals_id: Uuid,
}

#[derive(Serialize, Deserialize)]
struct OrderBody {
    booster: Option<u32>,
    mg: f64,
    mg_per_kg: Option<f64>,
    weight_kg: f64,
    steps: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct AdminBody {
    lot: String,
    expiry: NaiveDate,
    given_by: Uuid,
    supervised_by: Uuid,
    units_needed: Option<u32>,
}

#[derive(Serialize, Deserialize)]
struct StepBody {
    /// None: a unit given.
    change: Option<AdminChange>,
    reason: String,
}

#[derive(Serialize, Deserialize, Default)]
struct ObservationBody {
    moaas: Option<u32>,
    cadss6: Option<[u8; 6]>,
    note: Option<String>,
    escort: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct AdverseBody {
    kind: AdverseKind,
    description: String,
    severity: AdverseSeverity,
    action: String,
}

#[derive(Serialize, Deserialize)]
struct AdverseUpdateBody {
    outcome: AdverseOutcome,
    note: String,
}

#[derive(Serialize, Deserialize)]
struct DischargeBody {
    escort: String,
    instructions: String,
    note: String,
}

#[derive(Serialize, Deserialize)]
struct AddendumBody {
    reason: String,
    text: String,
}

fn body<T: for<'de> Deserialize<'de>>(r: &EntryRow) -> Result<T> {
    serde_json::from_str(&r.body).map_err(|e| StoreError::Corrupt {
        record: "dosing_entry",
        id: r.id.to_string(),
        field: "body",
        problem: e.to_string(),
    })
}

fn json<T: Serialize>(v: &T) -> String {
    // The bodies are plain structs of strings, numbers, dates and codes: serialising them
    // cannot fail, and an empty object would be refused when read back rather than pass.
    serde_json::to_string(v).unwrap_or_else(|_| "{}".to_owned())
}

/// A dosing session with what the pages around it need.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub session: Session,
    pub patient_name: String,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    /// The latest height on the chart (for ideal body weight).
    pub height_cm: Option<f64>,
    pub appointment_starts_at: DateTime<Utc>,
    pub appointment_number: Option<i32>,
    /// Whether the questionnaires sent before this session were answered (none: none sent).
    pub questionnaire_done: Option<bool>,
    /// The alerts raised in this session.
    pub alerts: Vec<Alert>,
    pub rems_context: rems::Context,
    /// The clinic's last REMS answers, offered for the address and phone.
    pub last_rems: Option<RemsAnswers>,
}

/// One line of the chart's or the course's list of sessions.
#[derive(Debug, Clone)]
pub struct SessionLine {
    pub id: Uuid,
    pub appointment_id: Uuid,
    pub course_id: Uuid,
    pub opened_at: DateTime<Utc>,
    pub stage: Stage,
    pub esketamine: bool,
    pub signed_at: Option<DateTime<Utc>>,
}

/// An esketamine session whose REMS form is not yet submitted.
#[derive(Debug, Clone)]
pub struct RemsDue {
    pub session_id: Uuid,
    pub patient_id: Uuid,
    pub patient_name: String,
    pub treatment_date: NaiveDate,
    pub due_on: NaiveDate,
    pub signed: bool,
}

/// A new adverse event as typed.
#[derive(Debug, Clone)]
pub struct AdverseForm {
    pub kind: AdverseKind,
    pub description: String,
    pub severity: AdverseSeverity,
    pub onset_at: DateTime<Utc>,
    pub action: String,
}

/// A discharge as typed.
#[derive(Debug, Clone)]
pub struct DischargeForm {
    pub at: DateTime<Utc>,
    pub escort: String,
    pub instructions: String,
    pub note: String,
}

/// What recording vitals did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VitalsSaved {
    pub id: Uuid,
    /// The alerts raised, one per measure beyond the protocol's alert limits.
    pub alerts: Vec<Uuid>,
    /// The entry had been saved before (a retry with the same client id).
    pub repeated: bool,
}

fn refused(why: impl Into<String>) -> StoreError {
    Conflict::NotNow(why.into()).into()
}

fn invalid(e: FieldErrors) -> StoreError {
    Conflict::DosingInvalid(e).into()
}

/// Takes the session's row lock, returning its patient (not found in another clinic).
async fn lock(tx: &mut Tx, clinic_id: Uuid, id: Uuid) -> Result<Uuid> {
    let n = exec!(
        tx(tx),
        "UPDATE dosing_session SET stage = stage WHERE id = $1 AND clinic_id = $2",
        id,
        clinic_id
    );
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(scalar!(
        tx(tx),
        Uuid,
        "SELECT patient_id FROM dosing_session WHERE id = $1",
        id
    ))
}

async fn staff_names(tx: &mut Tx, clinic_id: Uuid) -> Result<HashMap<Uuid, String>> {
    Ok(fetch_all!(
        tx(tx),
        (Uuid, String),
        "SELECT u.id, u.full_name FROM staff_user u
         JOIN staff_membership m ON m.staff_id = u.id WHERE m.clinic_id = $1",
        clinic_id
    )
    .into_iter()
    .collect())
}

/// Loads a whole session inside a transaction.
async fn load(tx: &mut Tx, clinic_id: Uuid, id: Uuid) -> Result<Session> {
    let row = fetch_opt!(
        tx(tx),
        SessionRow,
        "SELECT s.appointment_id, s.course_id, s.patient_id, s.protocol_id, s.opened_by,
                o.full_name AS opened_by_name, s.opened_at, s.signed_at, s.signed_by,
                g.full_name AS signed_by_name, s.content_hash, s.rems_submitted_on,
                c.dose_unit, c.dose_amount
         FROM dosing_session s JOIN course c ON c.id = s.course_id
         JOIN staff_user o ON o.id = s.opened_by
         LEFT JOIN staff_user g ON g.id = s.signed_by
         WHERE s.id = $1 AND s.clinic_id = $2",
        id,
        clinic_id
    )
    .ok_or(StoreError::NotFound)?;
    let version = crate::protocol::load_version(tx, clinic_id, row.protocol_id).await?;
    let planned = crate::course::dose_of(row.course_id, &row.dose_unit, row.dose_amount)?;
    let names = staff_names(tx, clinic_id).await?;
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_default();
    let vitals = fetch_all!(
        tx(tx),
        VitalsRow,
        "SELECT v.id, v.taken_at, v.systolic, v.diastolic, v.heart_rate, v.spo2,
                v.respiratory_rate, v.entered_by, u.full_name AS entered_by_name, v.entered_at
         FROM vital_sign v JOIN staff_user u ON u.id = v.entered_by
         WHERE v.session_id = $1 ORDER BY v.taken_at, v.entered_at",
        id
    );
    let entries = fetch_all!(
        tx(tx),
        EntryRow,
        "SELECT e.id, e.kind, e.ref_id, e.at, e.body, e.entered_by,
                u.full_name AS entered_by_name, e.entered_at
         FROM dosing_entry e JOIN staff_user u ON u.id = e.entered_by
         WHERE e.session_id = $1 ORDER BY e.entered_at, e.id",
        id
    );
    let mut s = Session {
        id,
        appointment_id: row.appointment_id,
        course_id: row.course_id,
        patient_id: row.patient_id,
        protocol_id: row.protocol_id,
        protocol: version.protocol,
        planned,
        opened: Entered {
            by: row.opened_by,
            by_name: row.opened_by_name,
            entered_at: row.opened_at,
        },
        checklist: None,
        hold_decisions: vec![],
        orders: vec![],
        administrations: vec![],
        vitals: vitals
            .into_iter()
            .map(|v| Vitals {
                id: v.id,
                at: v.taken_at,
                systolic: v.systolic,
                diastolic: v.diastolic,
                heart_rate: v.heart_rate,
                spo2: v.spo2,
                respiratory_rate: v.respiratory_rate,
                entered: Entered {
                    by: v.entered_by,
                    by_name: v.entered_by_name,
                    entered_at: v.entered_at,
                },
            })
            .collect(),
        observations: vec![],
        adverse_events: vec![],
        discharge: None,
        signature: match (row.signed_at, row.signed_by, row.content_hash) {
            (Some(at), Some(by), Some(hash)) => Some(Signature {
                at,
                by,
                by_name: row.signed_by_name.unwrap_or_default(),
                content_hash: hash,
            }),
            _ => None,
        },
        addenda: vec![],
        rems: None,
        rems_submission: row
            .rems_submitted_on
            .map(|on| kap_domain::dosing::RemsSubmission {
                on,
                reference: String::new(),
                entered: Entered {
                    by: Uuid::nil(),
                    by_name: String::new(),
                    entered_at: row.opened_at,
                },
            }),
    };
    for e in &entries {
        let entered = Entered {
            by: e.entered_by,
            by_name: e.entered_by_name.clone(),
            entered_at: e.entered_at,
        };
        match e.kind.as_str() {
            "checklist" => {
                let b: ChecklistBody = body(e)?;
                s.checklist = Some(Checklist {
                    identity_confirmed: b.identity_confirmed,
                    last_food_at: b.last_food_at,
                    last_fluids_at: b.last_fluids_at,
                    nasal_medicine_at: b.nasal_medicine_at,
                    escort: b.escort,
                    pregnancy: b.pregnancy,
                    medications_reviewed: b.medications_reviewed,
                    benzodiazepine_today: b.benzodiazepine_today,
                    medication_note: b.medication_note,
                    intention_reviewed: b.intention_reviewed,
                    intention: b.intention,
                    weight_kg: b.weight_kg,
                    at: e.at,
                    entered,
                });
            }
            "hold" => {
                let b: HoldBody = body(e)?;
                s.hold_decisions.push(HoldDecision {
                    kind: b.kind,
                    reason: b.reason,
                    vitals_id: b.vitals_id,
                    entered,
                });
            }
            "order" => {
                let b: OrderBody = body(e)?;
                s.orders.push(Order {
                    id: e.id,
                    kind: b.booster.map_or(OrderKind::Dose, OrderKind::Booster),
                    mg: b.mg,
                    mg_per_kg: b.mg_per_kg,
                    weight_kg: b.weight_kg,
                    steps: b.steps,
                    entered,
                });
            }
            "administration" => {
                let b: AdminBody = body(e)?;
                s.administrations.push(Administration {
                    id: e.id,
                    order_id: e.ref_id.unwrap_or_default(),
                    lot: b.lot,
                    expiry: b.expiry,
                    started_at: e.at,
                    units_needed: b.units_needed,
                    given_by: b.given_by,
                    given_by_name: name(&b.given_by),
                    supervised_by: b.supervised_by,
                    supervised_by_name: name(&b.supervised_by),
                    events: vec![],
                    entered,
                });
            }
            "admin_step" => {
                let b: StepBody = body(e)?;
                let step = match b.change {
                    None => AdminEvent::Unit { at: e.at, entered },
                    Some(change) => AdminEvent::Change {
                        change,
                        at: e.at,
                        reason: b.reason,
                        entered,
                    },
                };
                let admin = s
                    .administrations
                    .iter_mut()
                    .find(|a| Some(a.id) == e.ref_id)
                    .ok_or_else(|| StoreError::Corrupt {
                        record: "dosing_entry",
                        id: e.id.to_string(),
                        field: "ref_id",
                        problem: "a step of no administration".into(),
                    })?;
                admin.events.push(step);
            }
            "observation" => {
                let b: ObservationBody = body(e)?;
                let rating = match (b.moaas, b.cadss6, b.note, b.escort) {
                    (Some(m), ..) => {
                        Rating::Moaas(Moaas::from_score(m).ok_or_else(|| StoreError::Corrupt {
                            record: "dosing_entry",
                            id: e.id.to_string(),
                            field: "moaas",
                            problem: format!("{m} is not a MOAA/S score"),
                        })?)
                    }
                    (None, Some(c), ..) => Rating::Cadss6(c),
                    (None, None, Some(n), _) => Rating::Note(n),
                    (None, None, None, Some(name)) => Rating::EscortPresent(name),
                    _ => {
                        return Err(StoreError::Corrupt {
                            record: "dosing_entry",
                            id: e.id.to_string(),
                            field: "body",
                            problem: "an empty observation".into(),
                        });
                    }
                };
                s.observations.push(Observation {
                    id: e.id,
                    at: e.at,
                    rating,
                    entered,
                });
            }
            "adverse_event" => {
                let b: AdverseBody = body(e)?;
                s.adverse_events.push(AdverseEvent {
                    id: e.id,
                    kind: b.kind,
                    description: b.description,
                    severity: b.severity,
                    onset_at: e.at,
                    action: b.action,
                    updates: vec![],
                    entered,
                });
            }
            "adverse_update" => {
                let b: AdverseUpdateBody = body(e)?;
                if let Some(ev) = s.adverse_events.iter_mut().find(|x| Some(x.id) == e.ref_id) {
                    ev.updates.push(AdverseUpdate {
                        outcome: b.outcome,
                        at: e.at,
                        note: b.note,
                        entered,
                    });
                }
            }
            "discharge" => {
                let b: DischargeBody = body(e)?;
                s.discharge = Some(DischargeRecord {
                    at: e.at,
                    escort: b.escort,
                    instructions: b.instructions,
                    note: b.note,
                    entered,
                });
            }
            "rems" => s.rems = Some(body(e)?),
            "addendum" => {
                let b: AddendumBody = body(e)?;
                s.addenda.push(Addendum {
                    reason: b.reason,
                    text: b.text,
                    entered,
                });
            }
            other => {
                return Err(StoreError::Corrupt {
                    record: "dosing_entry",
                    id: e.id.to_string(),
                    field: "kind",
                    problem: format!("unknown kind {other}"),
                });
            }
        }
    }
    s.observations.sort_by_key(|o| o.at);
    for ev in &mut s.adverse_events {
        ev.updates.sort_by_key(|u| u.at);
    }
    Ok(s)
}

/// What one entry row holds before it is appended.
struct NewEntry<'a> {
    kind: &'a str,
    entered_at: DateTime<Utc>,
    ref_id: Option<Uuid>,
    at: DateTime<Utc>,
    body: String,
    client_id: Option<Uuid>,
}

async fn append(a: &mut Audited, session: Uuid, e: NewEntry<'_>) -> Result<Uuid> {
    let id = new_id();
    let by = a.actor().staff_id.ok_or(StoreError::NotFound)?;
    exec!(
        tx(a.tx()),
        "INSERT INTO dosing_entry (id, session_id, client_id, kind, ref_id, at, body,
            entered_by, entered_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
        id,
        session,
        e.client_id,
        e.kind,
        e.ref_id,
        e.at,
        e.body,
        by,
        e.entered_at
    );
    Ok(id)
}

/// An entry with this client id already saved on this session, if any.
async fn repeated(tx: &mut Tx, session: Uuid, client: Option<Uuid>) -> Result<Option<Uuid>> {
    let Some(c) = client else { return Ok(None) };
    let e = scalar_opt!(
        tx(tx),
        Uuid,
        "SELECT id FROM dosing_entry WHERE session_id = $1 AND client_id = $2",
        session,
        c
    );
    if e.is_some() {
        return Ok(e);
    }
    Ok(scalar_opt!(
        tx(tx),
        Uuid,
        "SELECT id FROM vital_sign WHERE session_id = $1 AND client_id = $2",
        session,
        c
    ))
}

/// Stores the stage the board shows (and the discharge time), after a change.
async fn restage(
    a: &mut Audited,
    clinic_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Session> {
    let s = load(a.tx(), clinic_id, id).await?;
    let stage = s.stage(now);
    exec!(
        tx(a.tx()),
        "UPDATE dosing_session SET stage = $1, discharged_at = $2 WHERE id = $3",
        stage.as_str(),
        s.discharge.as_ref().map(|d| d.at),
        id
    );
    Ok(s)
}

fn open_check(s: &Session) -> Result<()> {
    if s.signed() {
        return Err(Conflict::SessionLocked.into());
    }
    if s.deferred() && s.administrations.is_empty() {
        return Err(refused(
            "The session was deferred: nothing more is recorded in it. The prescriber co-signs it as it is.",
        ));
    }
    if s.discharge.is_some() {
        return Err(refused(
            "The patient was discharged: add what was missed as an addendum after co-signature.",
        ));
    }
    Ok(())
}

/// The content a signature covers: every entry of the session, in order, hashed.
fn content_hash(s: &Session) -> String {
    let mut h = Sha256::new();
    h.update(format!("{s:?}").as_bytes());
    hex(&h.finalize())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Store {
    /// Opens the dosing session of a checked-in dosing appointment (or returns the one already
    /// open): the session takes the course's protocol version.
    pub async fn open_session(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        appointment_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        // The appointment's row lock first: two tablets opening at once find one session.
        exec!(
            tx(a.tx()),
            "UPDATE appointment SET status = status WHERE id = $1 AND clinic_id = $2",
            appointment_id,
            clinic_id
        );
        if let Some(id) = scalar_opt!(
            tx(a.tx()),
            Uuid,
            "SELECT id FROM dosing_session WHERE appointment_id = $1 AND clinic_id = $2",
            appointment_id,
            clinic_id
        ) {
            return Ok(id);
        }
        let appt = fetch_opt!(
            tx(a.tx()),
            (String, String, Option<Uuid>, Uuid),
            "SELECT kind, status, course_id, patient_id FROM appointment
             WHERE id = $1 AND clinic_id = $2",
            appointment_id,
            clinic_id
        )
        .ok_or(StoreError::NotFound)?;
        let (kind, status, course, patient) = appt;
        if kind != SessionKind::Dosing.as_str() {
            return Err(refused("Only a dosing appointment has a dosing session."));
        }
        if status != "checked_in" {
            return Err(refused(
                "Check the patient in first; a dosing session opens at check-in.",
            ));
        }
        let course = course.ok_or_else(|| refused("This appointment belongs to no course."))?;
        let (protocol_id, route) = fetch_opt!(
            tx(a.tx()),
            (Uuid, String),
            "SELECT c.protocol_id, p.route FROM course c JOIN protocol p ON p.id = c.protocol_id
             WHERE c.id = $1",
            course
        )
        .ok_or(StoreError::NotFound)?;
        let id = new_id();
        let by = actor.staff_id.ok_or(StoreError::NotFound)?;
        exec!(
            tx(a.tx()),
            "INSERT INTO dosing_session (id, clinic_id, appointment_id, course_id, patient_id,
                protocol_id, stage, opened_by, opened_at, esketamine)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
            id,
            clinic_id,
            appointment_id,
            course,
            patient,
            protocol_id,
            Stage::PreDose.as_str(),
            by,
            now,
            route == "esketamine_nasal"
        );
        a.record(
            AuditAction::DosingOpened,
            Subject::record(RecordKind::DosingSession, id).with_patient(Some(patient)),
        )
        .await?;
        a.commit().await?;
        Ok(id)
    }

    /// The session of an appointment, if one was opened.
    pub async fn session_of_appointment(
        &self,
        clinic_id: Uuid,
        appointment_id: Uuid,
    ) -> Result<Option<Uuid>> {
        Ok(scalar_opt!(
            db(&self.db),
            Uuid,
            "SELECT id FROM dosing_session WHERE appointment_id = $1 AND clinic_id = $2",
            appointment_id,
            clinic_id
        ))
    }

    /// A whole session with what its pages need (audited).
    pub async fn dosing_session(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
    ) -> Result<SessionRecord> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let session = load(a.tx(), clinic_id, id).await?;
        let (name, dob, sex) = fetch_opt!(
            tx(a.tx()),
            (String, NaiveDate, String),
            "SELECT full_name, date_of_birth, sex FROM patient WHERE id = $1",
            session.patient_id
        )
        .ok_or(StoreError::NotFound)?;
        let height_mm = scalar_opt!(
            tx(a.tx()),
            Option<i32>,
            "SELECT height_mm FROM body_measurement WHERE patient_id = $1
               AND height_mm IS NOT NULL ORDER BY measured_at DESC LIMIT 1",
            session.patient_id
        )
        .flatten();
        let (starts_at, number) = fetch_opt!(
            tx(a.tx()),
            (DateTime<Utc>, Option<i32>),
            "SELECT starts_at, number FROM appointment WHERE id = $1",
            session.appointment_id
        )
        .ok_or(StoreError::NotFound)?;
        let links = fetch_all!(
            tx(a.tx()),
            (Option<DateTime<Utc>>,),
            "SELECT l.used_at FROM appointment_questionnaire x
             JOIN patient_link l ON l.id = x.link_id WHERE x.appointment_id = $1",
            session.appointment_id
        );
        let questionnaire_done = (!links.is_empty()).then(|| links.iter().all(|l| l.0.is_some()));
        let rems_context = self.rems_context(a.tx(), clinic_id, &session).await?;
        let last_rems = fetch_opt!(
            tx(a.tx()),
            (String,),
            "SELECT e.body FROM dosing_entry e JOIN dosing_session s ON s.id = e.session_id
             WHERE s.clinic_id = $1 AND e.kind = 'rems' ORDER BY e.entered_at DESC LIMIT 1",
            clinic_id
        )
        .and_then(|(b,)| serde_json::from_str(&b).ok());
        a.record(
            AuditAction::DosingRead,
            Subject::record(RecordKind::DosingSession, id).with_patient(Some(session.patient_id)),
        )
        .await?;
        a.commit().await?;
        let alerts = self
            .alerts_of(clinic_id, session.patient_id)
            .await?
            .into_iter()
            .filter(|x| x.session_id == Some(id))
            .collect();
        let sex = code(R, id, "sex", &sex)?;
        Ok(SessionRecord {
            rems_context,
            session,
            patient_name: name,
            date_of_birth: dob,
            sex,
            height_cm: height_mm.map(|h| h as f64 / 10.0),
            appointment_starts_at: starts_at,
            appointment_number: number,
            questionnaire_done,
            alerts,
            last_rems,
        })
    }

    /// Records (or records again, before dosing) the pre-dose checklist.
    pub async fn record_checklist(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        f: &ChecklistForm,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let at = now;
        checklist::check(f, at).map_err(invalid)?;
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        let s = load(a.tx(), clinic_id, id).await?;
        open_check(&s)?;
        if !s.administrations.is_empty() {
            return Err(refused(
                "Dosing has started: the checklist can no longer change. Add an observation instead.",
            ));
        }
        let b = ChecklistBody {
            identity_confirmed: f.identity_confirmed,
            last_food_at: f.last_food_at,
            last_fluids_at: f.last_fluids_at,
            nasal_medicine_at: f.nasal_medicine_at,
            escort: f.escort.trim().to_owned(),
            pregnancy: f.pregnancy,
            medications_reviewed: f.medications_reviewed,
            benzodiazepine_today: f.benzodiazepine_today,
            medication_note: f.medication_note.trim().to_owned(),
            intention_reviewed: f.intention_reviewed,
            intention: f.intention.trim().to_owned(),
            weight_kg: f.weight_kg.unwrap_or_default(),
        };
        append(
            &mut a,
            id,
            NewEntry {
                entered_at: now,
                kind: "checklist",
                ref_id: None,
                at,
                body: json(&b),
                client_id: None,
            },
        )
        .await?;
        self.finish(
            a,
            clinic_id,
            id,
            patient,
            AuditAction::DosingRecorded,
            "checklist",
            now,
        )
        .await
    }

    // The session's who, where and when, then the entry itself.
    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        mut a: Audited,
        clinic_id: Uuid,
        id: Uuid,
        patient: Uuid,
        action: AuditAction,
        what: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        restage(&mut a, clinic_id, id, now).await?;
        a.record(
            action,
            Subject::record(RecordKind::DosingSession, id)
                .with_patient(Some(patient))
                .with_detail(what),
        )
        .await?;
        a.commit().await
    }

    /// A prescriber's decision on a pre-dose hold: dose with a reason, or defer the session.
    pub async fn decide_hold(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        kind: HoldDecisionKind,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if reason.trim().is_empty() {
            let mut e = FieldErrors::new();
            e.add("reason", "Give the reason for the decision.");
            return Err(invalid(e));
        }
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        let s = load(a.tx(), clinic_id, id).await?;
        open_check(&s)?;
        let vitals_id = match (kind, checklist::hold_in_force(&s)) {
            (_, Some((v, _))) => v.id,
            (HoldDecisionKind::Defer, None) if s.administrations.is_empty() && !s.deferred() => {
                s.pre_dose_vitals().map_or(Uuid::nil(), |v| v.id)
            }
            _ => return Err(refused("There is no pre-dose hold to decide on.")),
        };
        let b = HoldBody {
            kind,
            reason: reason.trim().to_owned(),
            vitals_id,
        };
        append(
            &mut a,
            id,
            NewEntry {
                entered_at: now,
                kind: "hold",
                ref_id: Some(vitals_id),
                at: now,
                body: json(&b),
                client_id: None,
            },
        )
        .await?;
        if kind == HoldDecisionKind::Defer {
            exec!(
                tx(a.tx()),
                "UPDATE appointment SET status = 'cancelled', status_reason = $1,
                    status_changed_at = $2 WHERE id = $3",
                format!("Deferred by the prescriber: {}", reason.trim()),
                now,
                s.appointment_id
            );
        }
        self.finish(
            a,
            clinic_id,
            id,
            patient,
            AuditAction::DosingHoldDecided,
            kind.as_str(),
            now,
        )
        .await
    }

    /// A prescriber orders the session's dose or a booster; returns the order.
    pub async fn order_dose(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        form: OrderForm,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        let s = load(a.tx(), clinic_id, id).await?;
        if s.signed() {
            return Err(Conflict::SessionLocked.into());
        }
        let (sex, height_mm) = fetch_opt!(
            tx(a.tx()),
            (String, Option<i32>),
            "SELECT p.sex, (SELECT b.height_mm FROM body_measurement b
                  WHERE b.patient_id = p.id AND b.height_mm IS NOT NULL
                  ORDER BY b.measured_at DESC LIMIT 1)
             FROM patient p WHERE p.id = $1",
            patient
        )
        .ok_or(StoreError::NotFound)?;
        let sex: Sex = code(R, id, "sex", &sex)?;
        let o = order::prepare(&s, form, sex, height_mm.map(|h| h as f64 / 10.0), now)
            .map_err(refused)?;
        let b = OrderBody {
            booster: match o.kind {
                OrderKind::Dose => None,
                OrderKind::Booster(n) => Some(n),
            },
            mg: o.mg,
            mg_per_kg: o.mg_per_kg,
            weight_kg: o.weight_kg,
            steps: o.steps,
        };
        let order_id = append(
            &mut a,
            id,
            NewEntry {
                entered_at: now,
                kind: "order",
                ref_id: None,
                at: now,
                body: json(&b),
                client_id: None,
            },
        )
        .await?;
        self.finish(
            a,
            clinic_id,
            id,
            patient,
            AuditAction::DoseOrdered,
            "order",
            now,
        )
        .await?;
        Ok(order_id)
    }

    /// Starts the administration of an order. The giver is a nurse or prescriber of the
    /// clinic, the supervisor a prescriber.
    pub async fn start_administration(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        f: &AdminForm,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        let s = load(a.tx(), clinic_id, id).await?;
        if s.signed() {
            return Err(Conflict::SessionLocked.into());
        }
        let mut e = match order::check_start(&s, f, today, now) {
            Ok(()) => FieldErrors::new(),
            Err(e) => e,
        };
        let giver = scalar_opt!(
            tx(a.tx()),
            String,
            "SELECT role FROM staff_membership WHERE staff_id = $1 AND clinic_id = $2",
            f.given_by,
            clinic_id
        );
        if !matches!(giver.as_deref(), Some("nurse" | "prescriber")) {
            e.add(
                "given_by",
                "The dose is given by a nurse or prescriber of the clinic.",
            );
        }
        let supervisor = scalar_opt!(
            tx(a.tx()),
            String,
            "SELECT role FROM staff_membership WHERE staff_id = $1 AND clinic_id = $2",
            f.supervised_by,
            clinic_id
        );
        if supervisor.as_deref() != Some("prescriber") {
            e.add(
                "supervised_by",
                "A prescriber of the clinic supervises the dose.",
            );
        }
        if !e.is_empty() {
            return Err(invalid(e));
        }
        let order = s
            .orders
            .iter()
            .find(|o| o.id == f.order_id)
            .ok_or(StoreError::NotFound)?;
        let b = AdminBody {
            lot: f.lot.trim().to_owned(),
            expiry: f.expiry.unwrap_or(today),
            given_by: f.given_by,
            supervised_by: f.supervised_by,
            units_needed: order::units_needed(&s.protocol, order.mg),
        };
        let admin_id = append(
            &mut a,
            id,
            NewEntry {
                entered_at: now,
                kind: "administration",
                ref_id: Some(order.id),
                at: f.started_at,
                body: json(&b),
                client_id: None,
            },
        )
        .await?;
        for step in order::opening_steps(&s.protocol, f.started_at) {
            append_step(&mut a, now, id, admin_id, &step, None).await?;
        }
        self.finish(
            a,
            clinic_id,
            id,
            patient,
            AuditAction::DosingRecorded,
            "administration",
            now,
        )
        .await?;
        Ok(admin_id)
    }

    /// A step of a running administration: a unit given, an infusion paused, resumed,
    /// stopped early or completed.
    // The session's who, where and when, then the entry itself.
    #[allow(clippy::too_many_arguments)]
    pub async fn administration_step(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        admin_id: Uuid,
        step: &Step,
        client_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        if repeated(a.tx(), id, client_id).await?.is_some() {
            return Ok(());
        }
        let s = load(a.tx(), clinic_id, id).await?;
        let admin = s
            .administrations
            .iter()
            .find(|x| x.id == admin_id)
            .ok_or(StoreError::NotFound)?;
        if s.signed() {
            return Err(Conflict::SessionLocked.into());
        }
        order::check_step(&s, admin, step, now).map_err(refused)?;
        append_step(&mut a, now, id, admin_id, step, client_id).await?;
        self.finish(
            a,
            clinic_id,
            id,
            patient,
            AuditAction::DosingRecorded,
            "administration step",
            now,
        )
        .await
    }

    /// Records a set of vitals taken at `at`, raising one alert per measure beyond the
    /// protocol's alert limits in the same transaction. A retry with the same client id
    /// returns the first save.
    // The session's who, where and when, then the entry itself.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_vitals(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        f: &VitalsForm,
        at: DateTime<Utc>,
        client_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<VitalsSaved> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        if let Some(v) = repeated(a.tx(), id, client_id).await? {
            return Ok(VitalsSaved {
                id: v,
                alerts: vec![],
                repeated: true,
            });
        }
        let s = load(a.tx(), clinic_id, id).await?;
        open_check(&s)?;
        let t = now;
        flowsheet::check(f, at, s.opened.entered_at, t).map_err(invalid)?;
        let vid = new_id();
        let by = actor.staff_id.ok_or(StoreError::NotFound)?;
        exec!(
            tx(a.tx()),
            "INSERT INTO vital_sign (id, session_id, client_id, taken_at, systolic, diastolic,
                heart_rate, spo2, respiratory_rate, entered_by, entered_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
            vid,
            id,
            client_id,
            at,
            f.systolic,
            f.diastolic,
            f.heart_rate,
            f.spo2,
            f.respiratory_rate,
            by,
            t
        );
        let v = Vitals {
            id: vid,
            at,
            systolic: f.systolic,
            diastolic: f.diastolic,
            heart_rate: f.heart_rate,
            spo2: f.spo2,
            respiratory_rate: f.respiratory_rate,
            entered: Entered {
                by,
                by_name: String::new(),
                entered_at: t,
            },
        };
        let mut alerts = vec![];
        for c in flowsheet::alerts(&s, &v) {
            let alert = raise(
                &mut a,
                Raise {
                    clinic_id,
                    patient_id: patient,
                    kind: AlertKind::VitalOutOfRange,
                    severity: Severity::Urgent,
                    source: AlertSource::Vitals(vid),
                    session_id: Some(id),
                    detail: format!("{} during a dosing session", c.describe()),
                    item: None,
                    answer: None,
                    at: t,
                },
            )
            .await?;
            alerts.push(alert);
        }
        self.finish(
            a,
            clinic_id,
            id,
            patient,
            AuditAction::DosingRecorded,
            "vitals",
            now,
        )
        .await?;
        Ok(VitalsSaved {
            id: vid,
            alerts,
            repeated: false,
        })
    }

    /// Records a MOAA/S or CADSS-6 rating, a free observation, or the escort's arrival.
    // The session's who, where and when, then the entry itself.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_observation(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        rating: &Rating,
        at: DateTime<Utc>,
        client_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        if let Some(e) = repeated(a.tx(), id, client_id).await? {
            return Ok(e);
        }
        let s = load(a.tx(), clinic_id, id).await?;
        open_check(&s)?;
        let mut e = FieldErrors::new();
        flowsheet::check_time(&mut e, "at", at, s.opened.entered_at, now);
        let b = match rating {
            Rating::Moaas(m) => ObservationBody {
                moaas: Some(m.score()),
                ..Default::default()
            },
            Rating::Cadss6(items) => {
                if items.iter().any(|v| *v > 4) {
                    e.add("cadss", "Each CADSS item is scored 0 to 4.");
                }
                ObservationBody {
                    cadss6: Some(*items),
                    ..Default::default()
                }
            }
            Rating::Note(n) | Rating::EscortPresent(n) if n.trim().is_empty() => {
                e.add("text", "Write the observation (or the escort's name).");
                ObservationBody::default()
            }
            Rating::Note(n) => ObservationBody {
                note: Some(n.trim().to_owned()),
                ..Default::default()
            },
            Rating::EscortPresent(n) => ObservationBody {
                escort: Some(n.trim().to_owned()),
                ..Default::default()
            },
        };
        if !e.is_empty() {
            return Err(invalid(e));
        }
        let oid = append(
            &mut a,
            id,
            NewEntry {
                entered_at: now,
                kind: "observation",
                ref_id: None,
                at,
                body: json(&b),
                client_id,
            },
        )
        .await?;
        self.finish(
            a,
            clinic_id,
            id,
            patient,
            AuditAction::DosingRecorded,
            "observation",
            now,
        )
        .await?;
        Ok(oid)
    }

    /// Records an adverse event; a severe one raises an alert in the same transaction.
    pub async fn record_adverse_event(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        f: &AdverseForm,
        client_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        if let Some(e) = repeated(a.tx(), id, client_id).await? {
            return Ok(e);
        }
        let s = load(a.tx(), clinic_id, id).await?;
        open_check(&s)?;
        let mut e = FieldErrors::new();
        flowsheet::check_time(&mut e, "onset_at", f.onset_at, s.opened.entered_at, now);
        if f.kind == AdverseKind::Other && f.description.trim().is_empty() {
            e.add("description", "Say what the adverse event was.");
        }
        if f.action.trim().is_empty() {
            e.add("action", "Say what was done (or \"observed only\").");
        }
        if !e.is_empty() {
            return Err(invalid(e));
        }
        let b = AdverseBody {
            kind: f.kind,
            description: f.description.trim().to_owned(),
            severity: f.severity,
            action: f.action.trim().to_owned(),
        };
        let eid = append(
            &mut a,
            id,
            NewEntry {
                entered_at: now,
                kind: "adverse_event",
                ref_id: None,
                at: f.onset_at,
                body: json(&b),
                client_id,
            },
        )
        .await?;
        if f.severity == AdverseSeverity::Severe {
            raise(
                &mut a,
                Raise {
                    clinic_id,
                    patient_id: patient,
                    kind: AlertKind::AdverseEvent,
                    severity: Severity::Urgent,
                    source: AlertSource::AdverseEvent(eid),
                    session_id: Some(id),
                    detail: format!(
                        "Severe adverse event during a dosing session: {}",
                        f.kind.label()
                    ),
                    item: None,
                    answer: None,
                    at: now,
                },
            )
            .await?;
        }
        self.finish(
            a,
            clinic_id,
            id,
            patient,
            AuditAction::DosingRecorded,
            "adverse event",
            now,
        )
        .await?;
        Ok(eid)
    }

    /// A new outcome of an adverse event (resolved, transferred, still ongoing with a note).
    // The session's who, where and when, then the entry itself.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_adverse_event(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        event_id: Uuid,
        outcome: AdverseOutcome,
        at: DateTime<Utc>,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        let s = load(a.tx(), clinic_id, id).await?;
        open_check(&s)?;
        let ev = s
            .adverse_events
            .iter()
            .find(|x| x.id == event_id)
            .ok_or(StoreError::NotFound)?;
        let mut e = FieldErrors::new();
        flowsheet::check_time(&mut e, "at", at, s.opened.entered_at, now);
        if at < ev.onset_at {
            e.add("at", "The outcome cannot come before the onset.");
        }
        if ev.closed_at().is_some() {
            e.add("outcome", "This adverse event is already closed.");
        }
        if !e.is_empty() {
            return Err(invalid(e));
        }
        append(
            &mut a,
            id,
            NewEntry {
                entered_at: now,
                kind: "adverse_update",
                ref_id: Some(event_id),
                at,
                body: json(&AdverseUpdateBody {
                    outcome,
                    note: note.trim().to_owned(),
                }),
                client_id: None,
            },
        )
        .await?;
        self.finish(
            a,
            clinic_id,
            id,
            patient,
            AuditAction::DosingRecorded,
            "adverse event outcome",
            now,
        )
        .await
    }

    /// The nurse's answers for the REMS form (esketamine sessions); the latest counts.
    pub async fn record_rems_answers(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        answers: &RemsAnswers,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        let s = load(a.tx(), clinic_id, id).await?;
        if s.signed() {
            return Err(Conflict::SessionLocked.into());
        }
        if !s.is_esketamine() {
            return Err(refused("Only esketamine sessions have a REMS form."));
        }
        append(
            &mut a,
            id,
            NewEntry {
                entered_at: now,
                kind: "rems",
                ref_id: None,
                at: now,
                body: json(answers),
                client_id: None,
            },
        )
        .await?;
        self.finish(
            a,
            clinic_id,
            id,
            patient,
            AuditAction::DosingRecorded,
            "REMS answers",
            now,
        )
        .await
    }

    /// The nurse discharges the patient: refused until every discharge criterion is met.
    pub async fn discharge(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        f: &DischargeForm,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        let s = load(a.tx(), clinic_id, id).await?;
        open_check(&s)?;
        let t = now;
        let mut e = FieldErrors::new();
        flowsheet::check_time(&mut e, "at", f.at, s.opened.entered_at, t);
        let r = discharge::readiness(&s, f.at.min(t));
        if !r.ready() {
            let missing: Vec<String> = r
                .criteria
                .iter()
                .filter(|c| !c.met)
                .map(|c| format!("{} ({})", c.name, c.detail))
                .collect();
            e.add(
                "at",
                format!("Not ready for discharge: {}.", missing.join("; ")),
            );
        }
        if f.escort.trim().is_empty() && s.protocol.monitoring.discharge.escort_required {
            e.add("escort", "Name who takes the patient home.");
        }
        if f.instructions.trim().is_empty() {
            e.add("instructions", "Write the discharge instructions given.");
        }
        if !e.is_empty() {
            return Err(invalid(e));
        }
        append(
            &mut a,
            id,
            NewEntry {
                entered_at: now,
                kind: "discharge",
                ref_id: None,
                at: f.at,
                body: json(&DischargeBody {
                    escort: f.escort.trim().to_owned(),
                    instructions: f.instructions.trim().to_owned(),
                    note: f.note.trim().to_owned(),
                }),
                client_id: None,
            },
        )
        .await?;
        exec!(
            tx(a.tx()),
            "UPDATE appointment SET status = $1, status_changed_at = $2
             WHERE id = $3 AND status = $4",
            kap_domain::course::AppointmentStatus::Completed.as_str(),
            t,
            s.appointment_id,
            kap_domain::course::AppointmentStatus::CheckedIn.as_str()
        );
        self.finish(
            a,
            clinic_id,
            id,
            patient,
            AuditAction::DosingDischarged,
            "discharge",
            now,
        )
        .await
    }

    /// The prescriber co-signs: refused before discharge, while an alert of the session is
    /// open, or (esketamine) while the REMS form has unanswered fields. The session is locked.
    pub async fn sign_session(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        let s = load(a.tx(), clinic_id, id).await?;
        if s.signed() {
            return Err(Conflict::SessionLocked.into());
        }
        let mut why = vec![];
        if s.discharge.is_none() && !(s.deferred() && s.administrations.is_empty()) {
            why.push("the patient has not been discharged".to_owned());
        }
        let open = scalar!(
            tx(a.tx()),
            i64,
            "SELECT COUNT(*) FROM alert WHERE session_id = $1 AND status = 'open'",
            id
        );
        if open > 0 {
            why.push(format!(
                "{open} alert(s) of this session still need a response"
            ));
        }
        // A REMS form follows every esketamine session where the drug was given.
        if s.is_esketamine() && !s.administrations.is_empty() {
            let rec = self.rems_context(a.tx(), clinic_id, &s).await?;
            let missing = rems::missing(&rems::form(&s, &rec, now));
            if !missing.is_empty() {
                why.push(format!("the REMS form lacks: {}", missing.join("; ")));
            }
        }
        if !why.is_empty() {
            return Err(refused(format!(
                "The session cannot be signed: {}.",
                why.join("; ")
            )));
        }
        let hash = content_hash(&s);
        exec!(
            tx(a.tx()),
            "UPDATE dosing_session SET stage = $1, signed_at = $2, signed_by = $3,
                content_hash = $4 WHERE id = $5",
            Stage::Signed.as_str(),
            now,
            actor.staff_id,
            hash,
            id
        );
        a.record(
            AuditAction::DosingSigned,
            Subject::record(RecordKind::DosingSession, id).with_patient(Some(patient)),
        )
        .await?;
        a.commit().await
    }

    async fn rems_context(
        &self,
        tx: &mut Tx,
        clinic_id: Uuid,
        s: &Session,
    ) -> Result<rems::Context> {
        let (name, dob, sex) = fetch_opt!(
            tx(tx),
            (String, NaiveDate, String),
            "SELECT full_name, date_of_birth, sex FROM patient WHERE id = $1",
            s.patient_id
        )
        .ok_or(StoreError::NotFound)?;
        let sex: Sex = code(R, s.id, "sex", &sex)?;
        let first = scalar!(
            tx(tx),
            i64,
            "SELECT COUNT(*) FROM dosing_session WHERE patient_id = $1 AND esketamine
               AND opened_at < $2",
            s.patient_id,
            s.opened.entered_at
        ) == 0;
        let enrolled = scalar_opt!(
            tx(tx),
            String,
            "SELECT status FROM rems_enrolment WHERE patient_id = $1
             ORDER BY recorded_at DESC LIMIT 1",
            s.patient_id
        )
        .is_some_and(|x| x == "enrolled");
        let (hcp_name, hcp_email) = fetch_opt!(
            tx(tx),
            (String, String),
            "SELECT full_name, email FROM staff_user WHERE id = $1",
            s.administrations
                .first()
                .map_or(s.opened.by, |x| x.given_by)
        )
        .unwrap_or_default();
        let setting_name = scalar!(
            tx(tx),
            String,
            "SELECT name FROM clinic WHERE id = $1",
            clinic_id
        );
        Ok(rems::Context {
            patient_name: name,
            date_of_birth: Some(dob),
            sex: sex.label().to_owned(),
            first_treatment: first,
            enrolled,
            hcp_name,
            hcp_email,
            setting_name,
            treatment_date: s
                .dosing_started_at()
                .unwrap_or(s.opened.entered_at)
                .date_naive(),
        })
    }

    /// An addendum to a signed session (the only change it takes).
    pub async fn add_session_addendum(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        reason: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut e = FieldErrors::new();
        if reason.trim().is_empty() {
            e.add("reason", "Say why the addendum is written.");
        }
        if text.trim().is_empty() {
            e.add("text", "Write the addendum.");
        }
        if !e.is_empty() {
            return Err(invalid(e));
        }
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        let s = load(a.tx(), clinic_id, id).await?;
        if !s.signed() {
            return Err(refused(
                "The session is not signed yet: record the entry on the flowsheet instead.",
            ));
        }
        append(
            &mut a,
            id,
            NewEntry {
                entered_at: now,
                kind: "addendum",
                ref_id: None,
                at: now,
                body: json(&AddendumBody {
                    reason: reason.trim().to_owned(),
                    text: text.trim().to_owned(),
                }),
                client_id: None,
            },
        )
        .await?;
        a.record(
            AuditAction::DosingAddendum,
            Subject::record(RecordKind::DosingSession, id).with_patient(Some(patient)),
        )
        .await?;
        a.commit().await
    }

    /// Records the date the REMS form was submitted.
    pub async fn mark_rems_submitted(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        id: Uuid,
        on: NaiveDate,
        today: NaiveDate,
    ) -> Result<()> {
        if on > today {
            let mut e = FieldErrors::new();
            e.add("on", "The submission date cannot be in the future.");
            return Err(invalid(e));
        }
        let mut a = self.audited_in(actor, clinic_id).await?;
        let patient = lock(a.tx(), clinic_id, id).await?;
        let s = load(a.tx(), clinic_id, id).await?;
        if !s.is_esketamine() {
            return Err(refused("Only esketamine sessions have a REMS form."));
        }
        if !s.signed() {
            return Err(refused("Sign the session before submitting its REMS form."));
        }
        let n = exec!(
            tx(a.tx()),
            "UPDATE dosing_session SET rems_submitted_on = $1
             WHERE id = $2 AND rems_submitted_on IS NULL",
            on,
            id
        );
        if n == 0 {
            return Err(refused("The REMS form was already marked submitted."));
        }
        a.record(
            AuditAction::RemsFormSubmitted,
            Subject::record(RecordKind::DosingSession, id).with_patient(Some(patient)),
        )
        .await?;
        a.commit().await
    }

    /// Esketamine sessions whose REMS form is not submitted, oldest first (audited).
    /// The treatment date is the day of the first dose in the clinic's zone `tz`.
    pub async fn rems_due(
        &self,
        actor: &Actor,
        clinic_id: Uuid,
        tz: kap_domain::time::TimeZone,
    ) -> Result<Vec<RemsDue>> {
        let mut a = self.audited_read_in(actor, clinic_id).await?;
        let rows = fetch_all!(
            tx(a.tx()),
            (Uuid, Uuid, String, DateTime<Utc>, Option<DateTime<Utc>>),
            "SELECT s.id, s.patient_id, p.full_name,
                    COALESCE((SELECT MIN(e.at) FROM dosing_entry e
                              WHERE e.session_id = s.id AND e.kind = 'administration'),
                             s.opened_at) AS first_dose,
                    s.signed_at
             FROM dosing_session s JOIN patient p ON p.id = s.patient_id
             WHERE s.clinic_id = $1 AND s.esketamine AND s.rems_submitted_on IS NULL
               AND s.stage <> 'deferred' AND s.stage <> 'pre_dose'
             ORDER BY s.opened_at LIMIT 500",
            clinic_id
        );
        a.record(
            AuditAction::DosingRead,
            Subject::none().with_detail(format!("REMS forms due: {}", rows.len())),
        )
        .await?;
        a.commit().await?;
        Ok(rows
            .into_iter()
            .map(
                |(session_id, patient_id, patient_name, first_dose, signed)| {
                    let d = tz.date(&first_dose);
                    RemsDue {
                        session_id,
                        patient_id,
                        patient_name,
                        treatment_date: d,
                        due_on: rems::due_on(d),
                        signed: signed.is_some(),
                    }
                },
            )
            .collect())
    }

    /// A patient's dosing sessions, newest first (the caller audits the chart view).
    pub async fn sessions_of_patient(
        &self,
        clinic_id: Uuid,
        patient_id: Uuid,
    ) -> Result<Vec<SessionLine>> {
        let rows = fetch_all!(
            db(&self.db),
            (
                Uuid,
                Uuid,
                Uuid,
                DateTime<Utc>,
                String,
                bool,
                Option<DateTime<Utc>>
            ),
            "SELECT id, appointment_id, course_id, opened_at, stage, esketamine, signed_at
             FROM dosing_session WHERE clinic_id = $1 AND patient_id = $2
             ORDER BY opened_at DESC",
            clinic_id,
            patient_id
        );
        rows.into_iter()
            .map(
                |(id, appointment_id, course_id, opened_at, stage, esketamine, signed_at)| {
                    Ok(SessionLine {
                        id,
                        appointment_id,
                        course_id,
                        opened_at,
                        stage: code(R, id, "stage", &stage)?,
                        esketamine,
                        signed_at,
                    })
                },
            )
            .collect()
    }

    /// The stages of the sessions of these appointments at `now`, for the today board:
    /// sessions being monitored are loaded whole to tell "ready for discharge".
    pub async fn board_stages(
        &self,
        clinic_id: Uuid,
        appointments: &[Uuid],
        at: DateTime<Utc>,
    ) -> Result<HashMap<Uuid, (Uuid, Stage)>> {
        let mut out = HashMap::new();
        if appointments.is_empty() {
            return Ok(out);
        }
        // The stages first, outside any transaction; only sessions being monitored (whose
        // readiness depends on the time) are loaded whole, in a transaction taken only then.
        let mut waiting = vec![];
        for appt in appointments {
            let Some((id, stage)) = fetch_opt!(
                db(&self.db),
                (Uuid, String),
                "SELECT id, stage FROM dosing_session WHERE appointment_id = $1 AND clinic_id = $2",
                appt,
                clinic_id
            ) else {
                continue;
            };
            let stage: Stage = code(R, id, "stage", &stage)?;
            if matches!(stage, Stage::Monitoring | Stage::ReadyForDischarge) {
                waiting.push((*appt, id));
            }
            out.insert(*appt, (id, stage));
        }
        if !waiting.is_empty() {
            let mut tx = self.db.begin().await?;
            for (appt, id) in waiting {
                let stage = load(&mut tx, clinic_id, id).await?.stage(at);
                out.insert(appt, (id, stage));
            }
        }
        Ok(out)
    }

    /// The sessions of a clinic with an alert still waiting for a response (ids only, for the
    /// today board's badge; the alerts themselves are read through `open_alerts`).
    pub async fn sessions_with_open_alerts(
        &self,
        clinic_id: Uuid,
    ) -> Result<std::collections::HashSet<Uuid>> {
        Ok(fetch_all!(
            db(&self.db),
            (Uuid,),
            "SELECT DISTINCT session_id FROM alert
             WHERE clinic_id = $1 AND status = 'open' AND session_id IS NOT NULL",
            clinic_id
        )
        .into_iter()
        .map(|(id,)| id)
        .collect())
    }

    /// Doses given and adverse events over a course's sessions.
    pub async fn course_dosing(&self, clinic_id: Uuid, course_id: Uuid) -> Result<CourseDosing> {
        let sessions = scalar!(
            db(&self.db),
            i64,
            "SELECT COUNT(*) FROM dosing_session WHERE clinic_id = $1 AND course_id = $2",
            clinic_id,
            course_id
        );
        let counts = fetch_all!(
            db(&self.db),
            (String, i64),
            "SELECT e.kind, COUNT(*) FROM dosing_entry e
             JOIN dosing_session s ON s.id = e.session_id
             WHERE s.clinic_id = $1 AND s.course_id = $2
               AND e.kind IN ('administration', 'adverse_event')
             GROUP BY e.kind",
            clinic_id,
            course_id
        );
        let get = |k: &str| {
            counts
                .iter()
                .find(|(x, _)| x == k)
                .map_or(0, |(_, n)| *n as u32)
        };
        Ok(CourseDosing {
            sessions: sessions as u32,
            doses_given: get("administration"),
            adverse_events: get("adverse_event"),
        })
    }
}

async fn append_step(
    a: &mut Audited,
    now: DateTime<Utc>,
    session: Uuid,
    admin_id: Uuid,
    step: &Step,
    client_id: Option<Uuid>,
) -> Result<Uuid> {
    let (change, reason) = match step {
        Step::Unit(_) => (None, String::new()),
        Step::Change(c, _, r) => (Some(*c), r.trim().to_owned()),
    };
    append(
        a,
        session,
        NewEntry {
            entered_at: now,
            kind: "admin_step",
            ref_id: Some(admin_id),
            at: step.at(),
            body: json(&StepBody { change, reason }),
            client_id,
        },
    )
    .await
}
