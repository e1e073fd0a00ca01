//! The screening page: the intake's parts, each with its form; what the clinic's rules find,
//! with reasons and sources; treatment resistance and how it was derived; the decision form
//! for prescribers; and, once signed, the decision with its addenda.

use crate::AppState;
use crate::http::Staff;
use crate::http::error::AppResult;
use crate::http::extract::{NoticeQuery, parse_id};
use crate::http::sections::Returned;
use crate::http::view::{Shell, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kap_domain::permission::Action;
use kap_domain::screening::Route;
use kap_domain::screening::decision::{Decision, most_permissive};
use kap_domain::screening::intake::{
    AntidepressantClass, Condition, DEPRESSION_CODES, EpisodeSeverity, MedicationClass, TrialKind,
    TrialOutcome,
};
use kap_domain::screening::record::Screening;
use kap_domain::screening::rules::{Finding, Level, evaluate};
use kap_domain::screening::staging::{maudsley, resistance, thase_rush};
use std::borrow::Borrow;
use uuid::Uuid;

/// Blank medication rows offered below the recorded ones.
pub(super) const MED_ROWS: usize = 8;

/// One finding as the page lists it.
pub(super) struct FindingRow {
    pub rule_id: String,
    pub level: Level,
    pub reason: String,
    pub source: String,
    pub routes: String,
}

/// One medication row of the form.
pub(super) struct MedRow {
    pub name_field: String,
    pub class_field: String,
    pub dose_field: String,
    pub name: String,
    pub class: String,
    pub dose: String,
}

pub(super) struct TrialRow {
    pub id: Uuid,
    pub kind: &'static str,
    pub name: String,
    pub class: &'static str,
    pub weeks: String,
    pub adequate: &'static str,
    pub outcome: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "screening/screening.html")]
struct ScreeningPage {
    shell: Shell,
    s: Screening,
    patient_name: String,
    started: String,
    may_edit: bool,
    may_sign: bool,
    checklist: Vec<(Condition, Option<bool>)>,
    meds: Vec<MedRow>,
    no_meds: bool,
    trials: Vec<TrialRow>,
    findings: Vec<FindingRow>,
    missing: Vec<String>,
    conflicts: Vec<String>,
    /// The latest weight, height and BMI from the chart's measurements.
    body: Option<crate::patients::pages::MeasurementRow>,
    dx_codes: Vec<(&'static str, &'static str)>,
    most_permissive: Decision,
    resistance: String,
    is_trd: bool,
    maudsley: Result<(u8, String, String), String>,
    thase_rush: Result<u8, String>,
    signed_at: String,
    addenda: Vec<(String, String, String, String)>,
    returned: Returned,
    severities: Vec<(&'static str, &'static str)>,
    med_classes: Vec<(&'static str, &'static str)>,
    trial_kinds: Vec<(&'static str, &'static str)>,
    ad_classes: Vec<(&'static str, &'static str)>,
    outcomes: Vec<(&'static str, &'static str)>,
    decisions: Vec<(&'static str, &'static str)>,
    routes: Vec<(&'static str, &'static str)>,
}

impl ScreeningPage {
    /// What was typed into a field of a form that came back, or `default`.
    fn typed(&self, form: &str, field: &str, default: &str) -> String {
        self.returned.value(form, None, field, default)
    }

    /// A field's stored value as the form shows it.
    fn stored(&self, field: &str) -> String {
        let n = |v: Option<u16>| v.map(|x| x.to_string()).unwrap_or_default();
        let i = &self.s.intake;
        match field {
            "episode_months" => n(i.episode_months),
            "severity" => i
                .severity
                .map(|x| x.as_str().to_owned())
                .unwrap_or_default(),
            "systolic" => n(i.vitals.systolic),
            "diastolic" => n(i.vitals.diastolic),
            "heart_rate" => n(i.vitals.heart_rate),
            "spo2" => n(i.vitals.spo2.map(u16::from)),
            "hospitalisations" => n(i.history.hospitalisations),
            "suicide_attempts" => n(i.history.suicide_attempts),
            "last_attempt_year" => i
                .history
                .last_attempt_year
                .map(|y| y.to_string())
                .unwrap_or_default(),
            "allergies" => i.history.allergies.clone().unwrap_or_default(),
            "substance_use" => i.history.substance_use.clone().unwrap_or_default(),
            f if f.starts_with("dx_code_") || f.starts_with("dx_description_") => {
                let (kind, n) = f.rsplit_once('_').unwrap_or((f, ""));
                let d = n
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| i.history.diagnoses.get(n));
                match (kind, d) {
                    ("dx_code", Some(d)) => d.code.to_string(),
                    ("dx_description", Some(d)) => d.description.clone(),
                    _ => String::new(),
                }
            }
            _ => String::new(),
        }
    }

    /// Whether a history link can still take answers.
    fn link_open(&self, l: &kap_domain::screening::report::HistoryLink) -> bool {
        l.expires_at > kap_store::now()
    }

    /// The patient's health answers other than "no", as question and answer.
    fn reported_conditions(&self) -> Vec<(&'static str, &'static str)> {
        use kap_domain::screening::report::{LAY_QUESTIONS, LayAnswer};
        LAY_QUESTIONS
            .iter()
            .filter_map(|q| match self.s.report.answer(q.id) {
                Some(LayAnswer::No) | None => None,
                Some(a) => Some((q.text, a.label())),
            })
            .collect()
    }

    /// The diagnosis rows the history form offers: the recorded ones and three blank.
    fn dx_rows(&self) -> Vec<usize> {
        let typed = if self.returned.is("history", None) {
            self.returned
                .values
                .iter()
                .filter(|(k, _)| k.starts_with("dx_code_"))
                .count()
        } else {
            0
        };
        (0..typed.max(self.s.intake.history.diagnoses.len() + 3)).collect()
    }

    /// Whether a "none" box of the history form is ticked (as typed, or as stored).
    fn history_none(&self, field: &str) -> bool {
        if self.returned.is("history", None) {
            return self
                .returned
                .values
                .iter()
                .any(|(k, v)| k == field && v == "yes");
        }
        let h = &self.s.intake.history;
        match field {
            "no_allergies" => h.allergies.as_deref() == Some(""),
            "no_substance_use" => h.substance_use.as_deref() == Some(""),
            _ => false,
        }
    }

    /// What a form shows in a field: as typed when it came back, else as stored.
    fn value(&self, form: &str, field: &str) -> String {
        self.typed(form, field, &self.stored(field))
    }

    fn problem(&self, form: &str, field: &str) -> Option<String> {
        self.returned.error(form, None, field)
    }

    /// The form's problems, for the summary at its top.
    fn problems_of(&self, form: &str) -> Vec<String> {
        if self.returned.is(form, None) {
            self.returned
                .errors
                .iter()
                .map(|e| e.message.clone())
                .collect()
        } else {
            vec![]
        }
    }

    fn checked(&self, form: &str, field: &str, value: &str, stored: impl Borrow<bool>) -> bool {
        if self.returned.is(form, None) {
            self.returned
                .values
                .iter()
                .any(|(k, v)| k == field && v == value)
        } else {
            *stored.borrow()
        }
    }

    fn relative_findings(&self) -> Vec<&FindingRow> {
        self.findings
            .iter()
            .filter(|f| f.level == Level::Relative)
            .collect()
    }
}

fn findings_of(findings: Vec<Finding>) -> (Vec<FindingRow>, Vec<String>, Vec<String>) {
    let mut rows = vec![];
    let mut missing = vec![];
    let mut conflicts = vec![];
    for f in findings {
        match f {
            Finding::Rule {
                rule_id,
                level,
                reason,
                source,
                routes,
            } => rows.push(FindingRow {
                rule_id,
                level,
                reason,
                source,
                routes: if routes.len() == Route::ALL.len() {
                    "every route".into()
                } else {
                    routes
                        .iter()
                        .map(|r| r.label())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            }),
            Finding::Missing { what } => missing.push(what),
            Finding::Conflict { what } => conflicts.push(what),
        }
    }
    rows.sort_by_key(|r| r.level);
    (rows, missing, conflicts)
}

fn options<T: Copy>(
    all: &[T],
    f: impl Fn(T) -> (&'static str, &'static str),
) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|x| f(*x)).collect()
}

/// The screening page, with a form that came back as typed.
pub(super) async fn screening_page(
    st: &AppState,
    staff: &Staff,
    id: Uuid,
    notice: Option<&str>,
    returned: Returned,
    status: StatusCode,
) -> AppResult<Response> {
    let clinic = staff.clinic_id();
    let s = st.store.screening(&staff.actor(), clinic, id).await?;
    let (patient, measurements) = st
        .store
        .patient(&staff.actor(), clinic, s.patient_id)
        .await?;
    let protocol = st.store.screening_protocol(clinic).await?;
    let all = evaluate(&s.intake, &protocol.rules, &Route::ALL);
    let permissive = most_permissive(&all);
    let (findings, missing, conflicts) = findings_of(all);
    let r = resistance(&s.intake, protocol.trd);
    let meds_recorded = s.intake.medications.clone().unwrap_or_default();
    let row = |i: usize, name: String, class: String, dose: String| MedRow {
        name_field: format!("med_name_{i}"),
        class_field: format!("med_class_{i}"),
        dose_field: format!("med_dose_{i}"),
        name,
        class,
        dose,
    };
    let mut meds: Vec<MedRow> = meds_recorded
        .iter()
        .enumerate()
        .map(|(i, m)| {
            row(
                i,
                m.name.clone(),
                m.class.map(|c| c.as_str().to_owned()).unwrap_or_default(),
                m.diazepam_equivalent_mg
                    .map(|d| format!("{d}"))
                    .unwrap_or_default(),
            )
        })
        .collect();
    for _ in 0..MED_ROWS.saturating_sub(meds.len()).max(2) {
        meds.push(row(meds.len(), String::new(), String::new(), String::new()));
    }
    let trials = s
        .intake
        .trials
        .iter()
        .zip(&s.trial_ids)
        .map(|(t, id)| TrialRow {
            id: *id,
            kind: t.kind.label(),
            name: t.name.clone(),
            class: t.class.map_or("", |c| c.label()),
            weeks: t.weeks.map(|w| w.to_string()).unwrap_or_default(),
            adequate: match t.adequate {
                Some(true) => "adequate",
                Some(false) => "not adequate",
                None => "not judged",
            },
            outcome: t.outcome.label(),
            current: t.current_episode,
        })
        .collect();
    let tz = staff.tz;
    Ok(render(
        &ScreeningPage {
            shell: Shell::staff(staff, format!("Screening: {}", patient.details.full_name), "patients")
                .with_notice(notice),
            patient_name: patient.details.full_name.to_string(),
            started: tz.format(&s.started_at),
            may_edit: staff.may(Action::EditScreening) && !s.locked(),
            may_sign: staff.may(Action::SignEligibility),
            checklist: Condition::ALL
                .iter()
                .map(|c| (*c, s.intake.answer(*c)))
                .collect(),
            no_meds: s.intake.medications.as_ref().is_some_and(Vec::is_empty),
            meds,
            trials,
            most_permissive: permissive,
            findings,
            missing,
            conflicts,
            body: crate::patients::pages::measurement_rows(&measurements, staff.tz)
                .into_iter()
                .next(),
            resistance: r.explain(),
            dx_codes: DEPRESSION_CODES.to_vec(),
            is_trd: r.is_trd(),
            maudsley: maudsley(&s.intake)
                .map(|m| {
                    (
                        m.total(),
                        m.band().label().to_owned(),
                        format!(
                            "duration {} + severity {} + failed antidepressants {} + augmentation {} + ECT {}",
                            m.duration_points,
                            m.severity_points,
                            m.failure_points,
                            m.augmentation_points,
                            m.ect_points
                        ),
                    )
                })
                .map_err(|e| e.to_string()),
            thase_rush: thase_rush(&s.intake).map_err(|e| e.to_string()),
            signed_at: s
                .signed
                .as_ref()
                .map(|d| tz.format(&d.signed_at))
                .unwrap_or_default(),
            addenda: s
                .addenda
                .iter()
                .map(|a| {
                    (
                        tz.format(&a.written_at),
                        a.author_name.clone().unwrap_or_default(),
                        a.reason.clone(),
                        a.body.clone(),
                    )
                })
                .collect(),
            s,
            returned,
            severities: options(&EpisodeSeverity::ALL, |x| (x.as_str(), x.label())),
            med_classes: options(&MedicationClass::ALL, |x| (x.as_str(), x.label())),
            trial_kinds: options(&TrialKind::ALL, |x| (x.as_str(), x.label())),
            ad_classes: options(&AntidepressantClass::ALL, |x| (x.as_str(), x.label())),
            outcomes: options(&TrialOutcome::ALL, |x| (x.as_str(), x.label())),
            decisions: options(&Decision::ALL, |x| (x.as_str(), x.label())),
            routes: options(&Route::ALL, |x| (x.as_str(), x.label())),
        },
        status,
    ))
}

pub(super) async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    screening_page(
        &st,
        &staff,
        id,
        q.notice.as_deref(),
        Returned::none(),
        StatusCode::OK,
    )
    .await
}
