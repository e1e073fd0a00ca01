//! The session page (tablet first), its live flowsheet part, the printable REMS form and the
//! list of REMS forms due.

use super::svg;
use crate::AppState;
use crate::http::Staff;
use crate::http::error::AppResult;
use crate::http::extract::{NoticeQuery, parse_id};
use crate::http::view::{FLOWSHEET_JS_SRI, Shell, fragment, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use kap_domain::alert::{Alert, AlertStatus};
use kap_domain::dosing::checklist::{blockers, hold_in_force, warnings};
use kap_domain::dosing::discharge::{Readiness, readiness};
use kap_domain::dosing::flowsheet::{Due, next_due};
use kap_domain::dosing::order::{Giving, describe, giving};
use kap_domain::dosing::{
    AdminEvent, AdverseEvent, AdverseKind, AdverseOutcome, AdverseSeverity, CADSS6_ITEMS, Moaas,
    OrderKind, Rating, RemsAnswers, Session, Stage, cadss6_total, is_late, pk, rems,
};
use kap_domain::protocol::VitalMeasure;
use kap_domain::staff::StaffMember;
use kap_domain::time::TimeZone;
use kap_domain::{Action, FieldErrors, Role};
use kap_store::dosing::SessionRecord;
use uuid::Uuid;

/// One line of the flowsheet, oldest first.
pub(super) struct Row {
    pub at: DateTime<Utc>,
    pub what: String,
    pub text: String,
    pub by: String,
    pub late: Option<String>,
    pub alert: bool,
}

fn rows(s: &Session, tz: TimeZone) -> Vec<Row> {
    let late = |at: DateTime<Utc>, entered: DateTime<Utc>| {
        is_late(at, entered).then(|| format!("late entry, entered {}", tz.hm(&entered)))
    };
    let mut out = vec![];
    let alerts = &s.protocol.monitoring.alert;
    for v in &s.vitals {
        let mut parts = vec![];
        if v.has_bp() {
            parts.push(format!("BP {}", v.bp()));
        }
        for (m, name) in [
            (VitalMeasure::HeartRate, "HR"),
            (VitalMeasure::Spo2, "SpO₂"),
            (VitalMeasure::RespiratoryRate, "RR"),
        ] {
            if let Some(x) = v.value(m) {
                parts.push(format!("{name} {x:.0}"));
            }
        }
        let crossed = kap_domain::dosing::checklist::crossings(alerts, v);
        out.push(Row {
            at: v.at,
            what: "Vitals".into(),
            text: parts.join(" · "),
            by: v.entered.by_name.clone(),
            late: late(v.at, v.entered.entered_at),
            alert: !crossed.is_empty(),
        });
    }
    for o in &s.observations {
        let (what, text) = match &o.rating {
            Rating::Moaas(m) => ("MOAA/S", m.label().to_owned()),
            Rating::Cadss6(items) => (
                "CADSS-6",
                format!(
                    "total {} (items {})",
                    cadss6_total(items),
                    CADSS6_ITEMS
                        .iter()
                        .zip(items.iter())
                        .map(|(i, v)| format!("{i}: {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Rating::Note(n) => ("Observation", n.clone()),
            Rating::EscortPresent(n) => ("Escort present", n.clone()),
        };
        out.push(Row {
            at: o.at,
            what: what.into(),
            text,
            by: o.entered.by_name.clone(),
            late: late(o.at, o.entered.entered_at),
            alert: false,
        });
    }
    for e in &s.adverse_events {
        out.push(Row {
            at: e.onset_at,
            what: "Adverse event".into(),
            text: format!(
                "{} — {}; action: {}",
                e.name(),
                e.severity.label().to_lowercase(),
                e.action
            ),
            by: e.entered.by_name.clone(),
            late: late(e.onset_at, e.entered.entered_at),
            alert: e.severity == AdverseSeverity::Severe,
        });
        for u in &e.updates {
            out.push(Row {
                at: u.at,
                what: format!("{}: outcome", e.kind.label()),
                text: if u.note.is_empty() {
                    u.outcome.label().to_owned()
                } else {
                    format!("{} — {}", u.outcome.label(), u.note)
                },
                by: u.entered.by_name.clone(),
                late: late(u.at, u.entered.entered_at),
                alert: false,
            });
        }
    }
    for o in &s.orders {
        out.push(Row {
            at: o.entered.entered_at,
            what: "Order".into(),
            text: describe(o),
            by: o.entered.by_name.clone(),
            late: None,
            alert: false,
        });
        if let Some(a) = s.administration_of(o.id) {
            out.push(Row {
                at: a.started_at,
                what: "Administration started".into(),
                text: format!(
                    "lot {}, expiry {}; given by {}, supervised by {}",
                    a.lot, a.expiry, a.given_by_name, a.supervised_by_name
                ),
                by: a.entered.by_name.clone(),
                late: late(a.started_at, a.entered.entered_at),
                alert: false,
            });
            let mut unit = 0;
            for e in &a.events {
                let (what, text, entered) = match e {
                    AdminEvent::Unit { entered, .. } => {
                        unit += 1;
                        (format!("Unit {unit} given"), String::new(), entered)
                    }
                    AdminEvent::Change {
                        change,
                        reason,
                        entered,
                        ..
                    } => (change.label().to_owned(), reason.clone(), entered),
                };
                out.push(Row {
                    at: e.at(),
                    what,
                    text,
                    by: entered.by_name.clone(),
                    late: late(e.at(), entered.entered_at),
                    alert: false,
                });
            }
        }
    }
    if let Some(d) = &s.discharge {
        out.push(Row {
            at: d.at,
            what: "Discharged".into(),
            text: format!("with {}; {}", d.escort, d.instructions),
            by: d.entered.by_name.clone(),
            late: late(d.at, d.entered.entered_at),
            alert: false,
        });
    }
    out.sort_by_key(|r| r.at);
    out
}

#[derive(Template)]
#[template(path = "dosing/_live.html")]
pub(super) struct Live {
    pub id: Uuid,
    pub stage: Stage,
    pub due: Option<Due>,
    pub rows: Vec<Row>,
    pub alerts: Vec<Alert>,
    pub readiness: Readiness,
    pub started: Option<DateTime<Utc>>,
    pub tz: TimeZone,
    pub may_alert: bool,
    /// Orders not yet given, so a nurse whose page predates the order sees it arrive.
    pub waiting: Vec<String>,
}

impl Live {
    fn hm(&self, t: &DateTime<Utc>) -> String {
        self.tz.hm(t)
    }
    fn minute(&self, t: &DateTime<Utc>) -> String {
        match self.started {
            Some(s) => {
                let m = (*t - s).num_minutes();
                if m >= 0 {
                    format!("+{m} min")
                } else {
                    format!("{m} min")
                }
            }
            None => String::new(),
        }
    }
    fn open(&self, a: &Alert) -> bool {
        a.status == AlertStatus::Open
    }
}

fn live_of(r: &SessionRecord, staff: &Staff, now: DateTime<Utc>) -> Live {
    let s = &r.session;
    Live {
        id: s.id,
        stage: s.stage(now),
        due: next_due(s, now),
        rows: rows(s, staff.tz),
        alerts: r.alerts.clone(),
        readiness: readiness(s, now),
        started: s.dosing_started_at(),
        tz: staff.tz,
        may_alert: staff.may(Action::HandleAlerts),
        waiting: s
            .orders
            .iter()
            .filter(|o| s.administration_of(o.id).is_none())
            .map(describe)
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "dosing/session.html")]
pub(super) struct SessionPage {
    pub shell: Shell,
    pub r: SessionRecord,
    pub stage: Stage,
    pub live: String,
    pub blockers: Vec<String>,
    pub warnings: Vec<String>,
    pub hold: Option<String>,
    pub preview: Option<Result<String, String>>,
    pub planned: String,
    pub readiness: Readiness,
    pub rems_missing: Vec<String>,
    pub rems_answers: RemsAnswers,
    pub rems_suggested: (bool, bool),
    pub givers: Vec<StaffMember>,
    pub prescribers: Vec<StaffMember>,
    pub may_record: bool,
    pub may_order: bool,
    pub me: Uuid,
    pub problem: Option<String>,
    pub errors: FieldErrors,
    pub chart: String,
    pub estimate: Option<String>,
    pub flowsheet_js_sri: &'static str,
    pub today: String,
    pub typed: Typed,
    /// The notes' panel: intention, commitments, the therapist's observations (roles that
    /// read notes).
    pub notes: Option<String>,
    /// The intention of the course's latest signed preparation note, offered in the checklist.
    pub prep_intention: Option<String>,
    /// The care-team thread since the last dose and the patient's open tasks, for the dose
    /// decision (roles that read the thread).
    pub team: Option<String>,
}

impl SessionPage {
    fn hm(&self, t: &DateTime<Utc>) -> String {
        self.shell.tz.hm(t)
    }
    fn when(&self, t: &DateTime<Utc>) -> String {
        self.shell.tz.format(t)
    }
    fn s(&self) -> &Session {
        &self.r.session
    }
    fn pre_dose(&self) -> bool {
        self.stage == Stage::PreDose
    }
    fn open(&self) -> bool {
        matches!(
            self.stage,
            Stage::PreDose | Stage::Dosing | Stage::Monitoring | Stage::ReadyForDischarge
        )
    }
    fn giving_units(&self) -> bool {
        matches!(giving(&self.s().protocol), Giving::Units { .. })
    }
    fn infusion(&self) -> bool {
        matches!(giving(&self.s().protocol), Giving::Infusion { .. })
    }
    /// Orders not yet given.
    fn waiting_orders(&self) -> Vec<(Uuid, String)> {
        self.s()
            .orders
            .iter()
            .filter(|o| self.s().administration_of(o.id).is_none())
            .map(|o| (o.id, describe(o)))
            .collect()
    }
    /// Administrations still being given: id, what, units given of needed, paused.
    fn running(&self) -> Vec<(Uuid, String, String, bool)> {
        self.s()
            .administrations
            .iter()
            .filter(|a| a.finished_at().is_none())
            .map(|a| {
                let what = self
                    .s()
                    .orders
                    .iter()
                    .find(|o| o.id == a.order_id)
                    .map(describe)
                    .unwrap_or_default();
                let units = a
                    .units_needed
                    .map(|n| format!("{} of {n} given", a.units_given()))
                    .unwrap_or_default();
                (a.id, what, units, a.paused())
            })
            .collect()
    }
    fn has_dose_order(&self) -> bool {
        self.s().orders.iter().any(|o| o.kind == OrderKind::Dose)
    }
    fn booster_allowed(&self) -> bool {
        self.s().protocol.booster.is_some()
    }
    fn booster_unit(&self) -> &'static str {
        match self.s().protocol.dose {
            kap_domain::protocol::DoseRule::PerKg { .. } => "mg/kg",
            kap_domain::protocol::DoseRule::Fixed { .. } => "mg",
        }
    }
    fn open_events(&self) -> Vec<&AdverseEvent> {
        self.s()
            .adverse_events
            .iter()
            .filter(|e| e.closed_at().is_none())
            .collect()
    }
    fn adverse_kinds(&self) -> [AdverseKind; 12] {
        AdverseKind::ALL
    }
    fn severities(&self) -> [AdverseSeverity; 3] {
        AdverseSeverity::ALL
    }
    fn outcomes(&self) -> [AdverseOutcome; 3] {
        AdverseOutcome::ALL
    }
    fn moaas(&self) -> [Moaas; 6] {
        Moaas::ALL
    }
    fn cadss_items(&self) -> [u32; 6] {
        CADSS6_ITEMS
    }
    fn medications(&self) -> Vec<(&'static str, &'static str, Option<bool>)> {
        let a = &self.rems_answers;
        vec![
            ("benzodiazepines", "Benzodiazepines", a.benzodiazepines),
            (
                "non_benzo_sedative_hypnotics",
                "Non-benzodiazepine sedative hypnotics",
                a.non_benzo_sedative_hypnotics,
            ),
            ("psychostimulants", "Psychostimulants", a.psychostimulants),
            ("maois", "MAOIs", a.maois),
            ("opioids", "Opioids", a.opioids),
        ]
    }
    fn outcomes_asked(&self) -> Vec<(&'static str, &'static str, Option<bool>)> {
        let a = &self.rems_answers;
        vec![
            ("sedation", "Sedation", a.sedation),
            ("dissociation", "Dissociation", a.dissociation),
            (
                "respiratory_depression",
                "Respiratory depression",
                a.respiratory_depression,
            ),
        ]
    }
    fn yes(&self, v: &Option<bool>) -> bool {
        *v == Some(true)
    }
    fn no(&self, v: &Option<bool>) -> bool {
        *v == Some(false)
    }
    fn err(&self, f: &str) -> Option<&str> {
        self.errors.get(f)
    }
    /// The value typed in `name` of the refused `form` (empty otherwise).
    fn typed(&self, form: &str, name: &str) -> String {
        self.typed.get(form, name).unwrap_or_default().to_owned()
    }
    /// Whether a box or option was chosen in the refused `form`.
    fn chose(&self, form: &str, name: &str, value: &str) -> bool {
        self.typed.get(form, name) == Some(value)
    }
    fn ready_minutes(&self) -> String {
        self.rems_answers
            .ready_minutes
            .map(|m| m.to_string())
            .unwrap_or_default()
    }
    fn checklist_intention(&self) -> String {
        self.s()
            .checklist
            .as_ref()
            .map(|c| c.intention.clone())
            .or_else(|| self.prep_intention.clone())
            .unwrap_or_default()
    }
}

/// What was typed in the one form that was refused, so it comes back as typed.
#[derive(Debug, Clone, Default)]
pub(super) struct Typed {
    pub form: &'static str,
    fields: Vec<(String, String)>,
}

impl Typed {
    pub(super) fn of(form: &'static str, fields: &[(String, String)]) -> Typed {
        Typed {
            form,
            fields: fields
                .iter()
                .filter(|(k, _)| k != "csrf_token" && k != "client_id")
                .cloned()
                .collect(),
        }
    }

    fn get(&self, form: &str, name: &str) -> Option<&str> {
        (self.form == form)
            .then(|| self.fields.iter().find(|(k, _)| k == name))
            .flatten()
            .map(|(_, v)| v.as_str())
    }
}

/// The session page, with a problem and the fields it concerns when an entry was refused, and
/// the refused form as it was typed.
pub(super) async fn page(
    st: &AppState,
    staff: &Staff,
    id: Uuid,
    notice: Option<&str>,
    problem: Option<String>,
    errors: FieldErrors,
    typed: Typed,
) -> AppResult<Response> {
    let clinic = staff.clinic_id();
    let r = in_zone(
        st.store.dosing_session(&staff.actor(), clinic, id).await?,
        staff,
    );
    let now = kap_store::now();
    let s = &r.session;
    let stage = s.stage(now);
    let live = fragment(&live_of(&r, staff, now))?;
    let may_order = staff.may(Action::OrderDose);
    let preview = (may_order && !s.orders.iter().any(|o| o.kind == OrderKind::Dose))
        .then(|| {
            s.checklist.as_ref().map(|c| {
                s.protocol
                    .calculate_dose(s.planned, c.weight_kg, r.height_cm, r.sex)
                    .map(|calc| calc.steps.join("; "))
            })
        })
        .flatten();
    let planned = match s.planned {
        kap_domain::protocol::dose::PlannedDose::PerKg { ug_per_kg } => {
            format!(
                "{} mg/kg",
                kap_domain::course::plan::format_mg_per_kg(ug_per_kg)
            )
        }
        kap_domain::protocol::dose::PlannedDose::Fixed { mg } => format!("{mg} mg"),
    };
    let members = st.store.staff_of_clinic(clinic).await?;
    let givers = members
        .iter()
        .filter(|m| m.active && matches!(m.role, Role::Nurse | Role::Prescriber))
        .cloned()
        .collect();
    let prescribers = members
        .iter()
        .filter(|m| m.active && m.role == Role::Prescriber)
        .cloned()
        .collect();
    let fields = rems::form(s, &r.rems_context, now);
    let mut answers = s.rems.clone().unwrap_or_default();
    if let Some(last) = &r.last_rems {
        if answers.setting_address.is_empty() {
            answers.setting_address = last.setting_address.clone();
        }
        if answers.hcp_phone.is_empty() && s.rems.is_none() {
            answers.hcp_phone = last.hcp_phone.clone();
        }
    }
    let chart = vitals_chart(s);
    let estimate = estimate(s);
    let hold = hold_in_force(s).map(|(_, c)| {
        c.iter()
            .map(|x| x.describe())
            .collect::<Vec<_>>()
            .join("; ")
    });
    let status = if problem.is_some() || !errors.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let notes = crate::notes::dosing_panel(st, staff, s.patient_id, s.id).await?;
    let team = crate::team::dosing_panel(st, staff, s.patient_id).await?;
    let prep_intention = if s.checklist.is_none() && staff.may(Action::ReadNotes) {
        st.store
            .current_intention(&staff.actor(), clinic, s.patient_id, Some(s.course_id))
            .await?
    } else {
        None
    };
    let title = format!("Dosing session — {}", r.patient_name);
    Ok(render(
        &SessionPage {
            shell: Shell::staff(staff, title, "calendar").with_notice(notice),
            stage,
            live,
            blockers: blockers(s),
            warnings: s
                .checklist
                .as_ref()
                .map(|c| warnings(&s.protocol, c))
                .unwrap_or_default(),
            hold,
            preview,
            planned,
            readiness: readiness(s, now),
            rems_missing: rems::missing(&fields),
            rems_answers: answers,
            rems_suggested: rems::suggested(s),
            givers,
            prescribers,
            may_record: staff.may(Action::RecordDosing),
            may_order,
            me: staff.actor().staff_id.unwrap_or_default(),
            problem,
            errors,
            chart,
            estimate,
            flowsheet_js_sri: FLOWSHEET_JS_SRI.as_str(),
            today: staff.tz.date(&now).to_string(),
            typed,
            notes,
            prep_intention,
            team,
            r,
        },
        status,
    ))
}

fn vitals_chart(s: &Session) -> String {
    let Some(start) = s.dosing_started_at().or(s.vitals.first().map(|v| v.at)) else {
        return svg::session_chart(&svg::SessionChart {
            title: "Vital signs",
            series: &[],
            limits: &[],
            marks: &[],
            minutes: (0, 60),
        });
    };
    let minute = |t: DateTime<Utc>| (t - start).num_minutes();
    let series_of = |m: VitalMeasure| -> Vec<(i64, f64)> {
        s.vitals
            .iter()
            .filter_map(|v| v.value(m).map(|x| (minute(v.at), x)))
            .collect()
    };
    let series = [
        svg::Series {
            name: "Systolic",
            class: "systolic",
            points: series_of(VitalMeasure::Systolic),
        },
        svg::Series {
            name: "Diastolic",
            class: "diastolic",
            points: series_of(VitalMeasure::Diastolic),
        },
        svg::Series {
            name: "Heart rate",
            class: "heart-rate",
            points: series_of(VitalMeasure::HeartRate),
        },
        svg::Series {
            name: "SpO₂",
            class: "spo2",
            points: series_of(VitalMeasure::Spo2),
        },
    ];
    let mut limits: Vec<svg::Limit> = vec![];
    for t in &s.protocol.monitoring.alert {
        if t.measure == VitalMeasure::RespiratoryRate {
            continue;
        }
        let name = t.measure.label();
        let short = name.split(" (").next().unwrap_or(name);
        if let Some(a) = &t.above {
            limits.push(svg::Limit {
                label: format!("{short} alert > {}", a.get_ref()),
                class: "alert-limit",
                value: *a.get_ref(),
            });
        }
        if let Some(b) = &t.below {
            limits.push(svg::Limit {
                label: format!("{short} alert < {}", b.get_ref()),
                class: "alert-limit",
                value: *b.get_ref(),
            });
        }
    }
    let mut marks = vec![];
    for o in &s.orders {
        if let Some(a) = s.administration_of(o.id) {
            let label = match o.kind {
                OrderKind::Dose => format!("Dose {:.1} mg", o.mg),
                OrderKind::Booster(n) => format!("Booster {n}"),
            };
            marks.push(svg::Mark {
                minute: minute(a.started_at),
                label,
            });
            if let Some(f) = a.finished_at()
                && f != a.started_at
            {
                marks.push(svg::Mark {
                    minute: minute(f),
                    label: "Dose complete".into(),
                });
            }
        }
    }
    let last = s
        .vitals
        .iter()
        .map(|v| minute(v.at))
        .chain(marks.iter().map(|m| m.minute))
        .max()
        .unwrap_or(60)
        .max(s.protocol.monitoring.minimum_minutes.get() as i64);
    let first = s
        .vitals
        .iter()
        .map(|v| minute(v.at))
        .min()
        .unwrap_or(0)
        .min(0);
    svg::session_chart(&svg::SessionChart {
        title: "Vital signs",
        series: &series,
        limits: &limits,
        marks: &marks,
        minutes: (first, last),
    })
}

/// The model estimate for IV sessions: the infusions as given (pauses leave gaps).
fn estimate(s: &Session) -> Option<String> {
    if !matches!(giving(&s.protocol), Giving::Infusion { .. }) {
        return None;
    }
    let start = s.dosing_started_at()?;
    let mut infusions = vec![];
    for o in &s.orders {
        let (Some(a), Some(k)) = (s.administration_of(o.id), o.mg_per_kg) else {
            continue;
        };
        let end = a.finished_at()?;
        let minute = |t: DateTime<Utc>| (t - start).num_seconds() as f64 / 60.0;
        infusions.push(pk::Infusion {
            start_min: minute(a.started_at),
            stop_min: minute(end),
            mg_per_kg: k,
        });
    }
    if infusions.is_empty() {
        return None;
    }
    let points: Vec<(f64, f64)> = pk::domino_iv(&infusions, 240.0, 5.0)
        .into_iter()
        .map(|p| (p.minute, p.ng_per_ml))
        .collect();
    Some(svg::estimate_chart(
        "Estimated plasma ketamine (ng/mL)",
        &format!(
            "Model estimate from the {}, not a measurement; illustrative only.",
            pk::MODEL
        ),
        &points,
    ))
}

/// The REMS treatment date is the day of the first dose in the clinic's zone.
fn in_zone(mut r: SessionRecord, staff: &Staff) -> SessionRecord {
    let s = &r.session;
    let first = s.dosing_started_at().unwrap_or(s.opened.entered_at);
    r.rems_context.treatment_date = staff.tz.date(&first);
    r
}

pub(super) async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    page(
        &st,
        &staff,
        parse_id(&id)?,
        q.notice.as_deref(),
        None,
        FieldErrors::new(),
        Typed::default(),
    )
    .await
}

/// The live part alone, for its refresh.
pub(super) async fn live(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let r = st
        .store
        .dosing_session(&staff.actor(), staff.clinic_id(), parse_id(&id)?)
        .await?;
    Ok(Html(fragment(&live_of(&r, &staff, kap_store::now()))?).into_response())
}

#[derive(Template)]
#[template(path = "dosing/rems.html")]
struct RemsPage {
    shell: Shell,
    id: Uuid,
    fields: Vec<rems::Field>,
    missing: Vec<String>,
    due_on: String,
    submitted: Option<String>,
}

/// The REMS Patient Monitoring Form, printable.
pub(super) async fn rems_form(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let r = in_zone(
        st.store
            .dosing_session(&staff.actor(), staff.clinic_id(), id)
            .await?,
        &staff,
    );
    if !r.session.is_esketamine() {
        return Err(crate::http::AppError::NotFound);
    }
    let fields = rems::form(&r.session, &r.rems_context, kap_store::now());
    Ok(render(
        &RemsPage {
            shell: Shell::staff(&staff, "SPRAVATO REMS Patient Monitoring Form", "calendar"),
            id,
            missing: rems::missing(&fields),
            fields,
            due_on: rems::due_on(r.rems_context.treatment_date).to_string(),
            submitted: r.session.rems_submission.as_ref().map(|x| x.on.to_string()),
        },
        StatusCode::OK,
    ))
}

#[derive(Template)]
#[template(path = "dosing/rems_due.html")]
struct RemsDuePage {
    shell: Shell,
    items: Vec<kap_store::dosing::RemsDue>,
    soon: String,
    today: chrono::NaiveDate,
}

impl RemsDuePage {
    fn overdue(&self, d: &chrono::NaiveDate) -> bool {
        *d < self.today
    }
}

/// Esketamine sessions whose monitoring form is still to be submitted, the most urgent first.
pub(super) async fn rems_due(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    let items = st
        .store
        .rems_due(&staff.actor(), staff.clinic_id(), staff.tz)
        .await?;
    let today = staff.tz.date(&kap_store::now());
    let soon = items
        .iter()
        .filter(|i| i.due_on <= today + chrono::Duration::days(rems::SUBMIT_WITHIN_DAYS))
        .count();
    Ok(render(
        &RemsDuePage {
            shell: Shell::staff(&staff, "REMS forms due", "calendar"),
            soon: format!("{soon} due within {} days", rems::SUBMIT_WITHIN_DAYS),
            items,
            today,
        },
        StatusCode::OK,
    ))
}
