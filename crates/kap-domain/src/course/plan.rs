//! Planning a course: the prescriber's tailoring of a protocol (start date, time of day, the
//! weekdays dosing falls on, counts, weeks per phase, dose within the protocol's limits) read
//! and checked, and the sessions it makes laid out in order. Dosing follows each phase's
//! rhythm on the chosen weekdays, never closer than the protocol's minimum gap; an integration
//! session follows dosing as the protocol says; a re-assessment closes a phase that asks for
//! one; follow-ups come after the last dose. Sessions on one day follow each other, talking
//! sessions before dosing, so a patient is never booked twice at once.

use crate::fields::FieldErrors;
use crate::protocol::dose::PlannedDose;
use crate::protocol::{DoseRule, Protocol, SessionKind};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

/// Preparation sessions a prescriber may plan.
pub const MAX_PREPARATION: u32 = 10;
/// Follow-up sessions a prescriber may plan.
pub const MAX_FOLLOW_UPS: u32 = 12;
/// Weeks a phase may be tailored to.
pub const MAX_PHASE_WEEKS: u32 = 52;
/// How far ahead a course may start, in days.
pub const MAX_DAYS_AHEAD: i64 = 365;

/// The weekdays in the order forms show them.
pub const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// "mon" … "sun", as forms send them.
pub fn weekday_code(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// "Monday" … "Sunday".
pub fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// The tailoring form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CourseForm {
    /// YYYY-MM-DD, the first session's date.
    pub start_date: String,
    /// HH:MM, when each day's sessions begin.
    pub time: String,
    /// "mon" … "sun": the days dosing falls on.
    pub weekdays: Vec<String>,
    pub preparation: String,
    /// Weeks of each of the protocol's phases, in order.
    pub phase_weeks: Vec<String>,
    pub follow_ups: String,
    /// Days from a dosing session to its integration session.
    pub integration_after_days: String,
    /// mg/kg for weight-based protocols, mg for fixed doses.
    pub dose: String,
}

/// The tailoring, checked against the protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct CoursePlan {
    pub start_date: NaiveDate,
    pub time: NaiveTime,
    pub weekdays: Vec<Weekday>,
    pub preparation: u32,
    pub phase_weeks: Vec<u32>,
    pub follow_ups: u32,
    pub integration_after_days: u32,
    pub dose: PlannedDose,
}

/// One session of a planned course, in the clinic's local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSession {
    pub kind: SessionKind,
    /// 1, 2, … within its kind.
    pub number: u32,
    /// The dosing phase (for dosing and re-assessment sessions).
    pub phase: Option<String>,
    pub starts: NaiveDateTime,
    pub minutes: u32,
}

impl PlannedSession {
    pub fn ends(&self) -> NaiveDateTime {
        self.starts + Duration::minutes(i64::from(self.minutes))
    }

    /// "Dosing 3 (induction)".
    pub fn title(&self) -> String {
        match &self.phase {
            Some(p) if self.kind == SessionKind::Dosing => {
                format!("{} {} ({p})", self.kind.label(), self.number)
            }
            _ => format!("{} {}", self.kind.label(), self.number),
        }
    }
}

/// Sessions per week of the busiest phase: how many weekdays dosing needs.
pub fn weekdays_needed(p: &Protocol) -> u32 {
    p.sessions
        .phase
        .iter()
        .map(|ph| ph.per_week.as_ref().map_or(1, |n| n.get()))
        .max()
        .unwrap_or(1)
}

/// The gap in days between dosing days that follow each other in a week of `days` (sorted).
fn smallest_gap(days: &[Weekday]) -> i64 {
    if days.len() < 2 {
        return 7;
    }
    let n: Vec<i64> = days
        .iter()
        .map(|d| i64::from(d.num_days_from_monday()))
        .collect();
    let mut gap = 7 - (n[n.len() - 1] - n[0]);
    for w in n.windows(2) {
        gap = gap.min(w[1] - w[0]);
    }
    gap
}

impl CourseForm {
    /// The protocol as written, starting on the first Monday after `today`.
    pub fn defaults(p: &Protocol, today: NaiveDate) -> CourseForm {
        let mut start = today + Duration::days(1);
        while start.weekday() != Weekday::Mon {
            start += Duration::days(1);
        }
        let days: &[Weekday] = match weekdays_needed(p) {
            1 => &[Weekday::Mon],
            2 => &[Weekday::Mon, Weekday::Thu],
            3 => &[Weekday::Mon, Weekday::Wed, Weekday::Fri],
            4 => &[Weekday::Mon, Weekday::Tue, Weekday::Thu, Weekday::Fri],
            _ => &WEEKDAYS[..5],
        };
        CourseForm {
            start_date: start.to_string(),
            time: "09:00".into(),
            weekdays: days.iter().map(|d| weekday_code(*d).to_owned()).collect(),
            preparation: p.sessions.preparation.get().to_string(),
            phase_weeks: p
                .sessions
                .phase
                .iter()
                .map(|ph| ph.weeks.get().to_string())
                .collect(),
            follow_ups: p.sessions.follow_ups.get().to_string(),
            integration_after_days: 1.min(p.sessions.integration_within_days.get()).to_string(),
            dose: match p.dose.default_planned() {
                PlannedDose::PerKg { ug_per_kg } => format_mg_per_kg(ug_per_kg),
                PlannedDose::Fixed { mg } => mg.to_string(),
            },
        }
    }

    /// Reads the form against the protocol. Every problem is named with its field.
    pub fn parse(&self, p: &Protocol, today: NaiveDate) -> Result<CoursePlan, FieldErrors> {
        let mut e = FieldErrors::new();
        let start_date = match NaiveDate::parse_from_str(self.start_date.trim(), "%Y-%m-%d") {
            Ok(d) if d < today => {
                e.add(
                    "start_date",
                    "The start date is in the past; choose today or later.",
                );
                None
            }
            Ok(d) if d > today + Duration::days(MAX_DAYS_AHEAD) => {
                e.add("start_date", "Start within a year from today.");
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                e.add("start_date", "Give the start date as YYYY-MM-DD.");
                None
            }
        };
        let time = NaiveTime::parse_from_str(self.time.trim(), "%H:%M")
            .map_err(|_| e.add("time", "Give the time as HH:MM, e.g. 09:30."))
            .ok();
        let mut weekdays = vec![];
        for w in &self.weekdays {
            match WEEKDAYS
                .iter()
                .find(|d| weekday_code(**d).eq_ignore_ascii_case(w.trim()))
            {
                Some(d) if !weekdays.contains(d) => weekdays.push(*d),
                Some(_) => {}
                None => e.add("weekdays", format!("\"{w}\" is not a weekday.")),
            }
        }
        weekdays.sort_by_key(|d| d.num_days_from_monday());
        let needed = weekdays_needed(p);
        let min_gap = i64::from(p.sessions.min_days_between_doses.get());
        if (weekdays.len() as u32) < needed {
            e.add(
                "weekdays",
                format!(
                    "Choose {needed} dosing day{} a week: this protocol doses up to {needed} times a week.",
                    if needed == 1 { "" } else { "s" }
                ),
            );
        } else {
            let used = &weekdays[..needed as usize];
            if smallest_gap(used) < min_gap {
                e.add(
                    "weekdays",
                    format!(
                        "{} are too close: this protocol needs at least {min_gap} days between doses.",
                        used.iter()
                            .map(|d| weekday_name(*d))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
        let preparation = count(&mut e, "preparation", &self.preparation, 0, MAX_PREPARATION);
        let follow_ups = count(&mut e, "follow_ups", &self.follow_ups, 0, MAX_FOLLOW_UPS);
        let within = p.sessions.integration_within_days.get();
        let integration_after_days = count(
            &mut e,
            "integration_after_days",
            &self.integration_after_days,
            1,
            within,
        );
        let mut phase_weeks = vec![];
        for i in 0..p.sessions.phase.len() {
            let typed = self.phase_weeks.get(i).map_or("", String::as_str);
            phase_weeks.push(count(
                &mut e,
                &format!("phase_weeks_{i}"),
                typed,
                0,
                MAX_PHASE_WEEKS,
            ));
        }
        let dose = parse_dose(&p.dose, &self.dose)
            .map_err(|m| e.add("dose", m))
            .ok();
        if let Some(weeks) = phase_weeks.iter().copied().collect::<Option<Vec<u32>>>() {
            let total = dosing_total(p, &weeks);
            let (lo, hi) = (p.sessions.min_dosing.get(), p.sessions.max_dosing.get());
            if !(lo..=hi).contains(&total) {
                e.add(
                    "phase_weeks_0",
                    format!(
                        "These weeks make {total} dosing sessions; this protocol plans {lo} to {hi}."
                    ),
                );
            }
        }
        match (
            start_date,
            time,
            preparation,
            follow_ups,
            integration_after_days,
            dose,
            phase_weeks.into_iter().collect::<Option<Vec<u32>>>(),
        ) {
            (
                Some(start_date),
                Some(time),
                Some(preparation),
                Some(follow_ups),
                Some(ia),
                Some(dose),
                Some(phase_weeks),
            ) if e.is_empty() => Ok(CoursePlan {
                start_date,
                time,
                weekdays,
                preparation,
                phase_weeks,
                follow_ups,
                integration_after_days: ia,
                dose,
            }),
            _ => Err(e),
        }
    }
}

fn count(e: &mut FieldErrors, field: &str, typed: &str, lo: u32, hi: u32) -> Option<u32> {
    match typed.trim().parse::<u32>() {
        Ok(n) if (lo..=hi).contains(&n) => Some(n),
        _ => {
            e.add(field, format!("Give a whole number from {lo} to {hi}."));
            None
        }
    }
}

/// "0.5" from 500 µg/kg.
pub fn format_mg_per_kg(ug_per_kg: u32) -> String {
    let s = format!("{:.3}", f64::from(ug_per_kg) / 1000.0);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Reads a dose as typed (mg/kg or mg, as the rule doses) and checks it against the limits.
pub fn parse_dose(rule: &DoseRule, typed: &str) -> Result<PlannedDose, String> {
    let t = typed.trim();
    let d = match rule {
        DoseRule::PerKg { .. } => {
            let v: f64 = t
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v > 0.0 && *v < 100.0)
                .ok_or("Give the dose in mg/kg, e.g. 0.5.")?;
            let ug = v * 1000.0;
            if (ug - ug.round()).abs() > 1e-6 {
                return Err("Give the dose to at most three decimals of a mg/kg.".into());
            }
            PlannedDose::PerKg {
                ug_per_kg: ug.round() as u32,
            }
        }
        DoseRule::Fixed { .. } => PlannedDose::Fixed {
            mg: t
                .parse()
                .map_err(|_| "Give the dose in whole mg, e.g. 56.".to_owned())?,
        },
    };
    rule.check_planned(d)?;
    Ok(d)
}

/// Dosing sessions a phase makes in `weeks` weeks.
fn phase_count(ph: &crate::protocol::DosingPhase, weeks: u32) -> u32 {
    match (&ph.per_week, &ph.every_weeks) {
        (Some(n), _) => weeks * n.get(),
        (None, Some(k)) if k.get() > 0 => weeks.div_ceil(k.get()),
        _ => 0,
    }
}

/// Dosing sessions of the protocol's phases at these weeks.
pub fn dosing_total(p: &Protocol, weeks: &[u32]) -> u32 {
    p.sessions
        .phase
        .iter()
        .zip(weeks)
        .map(|(ph, w)| phase_count(ph, *w))
        .sum()
}

/// The order of a day's sessions: talking first, dosing last.
fn day_order(k: SessionKind) -> u8 {
    match k {
        SessionKind::Preparation => 0,
        SessionKind::Reassessment => 1,
        SessionKind::Integration => 2,
        SessionKind::FollowUp => 3,
        SessionKind::Dosing => 4,
    }
}

/// The next date on or after `from` that falls on one of `days`.
fn on_or_after(from: NaiveDate, days: &[Weekday]) -> NaiveDate {
    let mut d = from;
    while !days.contains(&d.weekday()) {
        d += Duration::days(1);
    }
    d
}

/// Lays the course out: every session with its kind, number, phase, start and length.
pub fn lay_out(p: &Protocol, plan: &CoursePlan) -> Vec<PlannedSession> {
    let mut days: Vec<(SessionKind, Option<String>, NaiveDate)> = vec![];
    let any_day = if plan.weekdays.is_empty() {
        WEEKDAYS.to_vec()
    } else {
        plan.weekdays.clone()
    };
    // Preparation: the start date, then the following chosen days.
    let mut next_free = plan.start_date;
    for i in 0..plan.preparation {
        let d = if i == 0 {
            plan.start_date
        } else {
            on_or_after(next_free, &any_day)
        };
        days.push((SessionKind::Preparation, None, d));
        next_free = d + Duration::days(1);
    }
    let min_gap = i64::from(p.sessions.min_days_between_doses.get());
    let mut doses: Vec<NaiveDate> = vec![];
    for (ph, weeks) in p.sessions.phase.iter().zip(&plan.phase_weeks) {
        let (phase_days, gap) = match (&ph.per_week, &ph.every_weeks) {
            (Some(n), _) => (
                any_day[..(n.get() as usize).min(any_day.len())].to_vec(),
                min_gap,
            ),
            (None, k) => (
                any_day[..1].to_vec(),
                min_gap.max(7 * i64::from(k.as_ref().map_or(1, |k| k.get())) - 6),
            ),
        };
        let n = phase_count(ph, *weeks);
        for _ in 0..n {
            let earliest = doses
                .last()
                .map_or(next_free, |last| next_free.max(*last + Duration::days(gap)));
            let d = on_or_after(earliest, &phase_days);
            days.push((SessionKind::Dosing, Some(ph.name.clone()), d));
            doses.push(d);
            next_free = d + Duration::days(1);
        }
        if ph.reassess_after
            && n > 0
            && let Some(last) = doses.last()
        {
            days.push((
                SessionKind::Reassessment,
                Some(ph.name.clone()),
                *last + Duration::days(i64::from(plan.integration_after_days)),
            ));
        }
    }
    let every = p.sessions.integration_after_every.get().max(1) as usize;
    let after = Duration::days(i64::from(plan.integration_after_days));
    for (i, d) in doses.iter().enumerate() {
        if (i + 1) % every == 0 || i + 1 == doses.len() {
            days.push((SessionKind::Integration, None, *d + after));
        }
    }
    if let Some(last) = doses.last() {
        let step = i64::from(p.sessions.follow_up_every_days.get().max(1));
        for j in 1..=i64::from(plan.follow_ups) {
            days.push((
                SessionKind::FollowUp,
                None,
                *last + Duration::days(step * j),
            ));
        }
    }
    days.sort_by_key(|(k, _, d)| (*d, day_order(*k)));
    let mut out: Vec<PlannedSession> = vec![];
    let mut numbers = std::collections::BTreeMap::<SessionKind, u32>::new();
    for (kind, phase, date) in days {
        let starts = match out.last() {
            Some(prev) if prev.starts.date() == date => prev.ends(),
            _ => date.and_time(plan.time),
        };
        let n = numbers.entry(kind).or_insert(0);
        *n += 1;
        out.push(PlannedSession {
            kind,
            number: *n,
            phase,
            starts,
            minutes: p.booked_minutes(kind),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::protocol::{parse, shipped};
    use proptest::prelude::*;

    fn protocol(key: &str) -> Protocol {
        shipped()
            .into_iter()
            .map(|(f, t)| parse(f, t).expect("shipped protocols parse"))
            .find(|p| p.key == key)
            .expect("shipped")
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).expect("date")
    }

    #[test]
    fn the_defaults_plan_the_protocol_as_written() {
        for key in ["iv-ketamine", "esketamine-trd", "im-kap", "sublingual-kap"] {
            let p = protocol(key);
            let form = CourseForm::defaults(&p, today());
            let plan = form.parse(&p, today()).expect(key);
            let sessions = lay_out(&p, &plan);
            let dosing = sessions
                .iter()
                .filter(|s| s.kind == SessionKind::Dosing)
                .count();
            assert_eq!(dosing as u32, p.dosing_sessions(), "{key}");
            let prep = sessions
                .iter()
                .filter(|s| s.kind == SessionKind::Preparation)
                .count();
            assert_eq!(prep as u32, p.sessions.preparation.get(), "{key}");
            assert!(sessions[0].starts.date() >= today(), "{key}");
            // Every dosing session books the chair for the whole monitoring time.
            for s in sessions.iter().filter(|s| s.kind == SessionKind::Dosing) {
                assert_eq!(s.minutes, p.booked_minutes(SessionKind::Dosing));
            }
        }
    }

    #[test]
    fn esketamine_induction_is_twice_weekly_then_weekly() {
        let p = protocol("esketamine-trd");
        let mut form = CourseForm::defaults(&p, today());
        form.start_date = "2026-11-30".into(); // a Monday
        form.weekdays = vec!["tue".into(), "fri".into()];
        let plan = form.parse(&p, today()).expect("plan");
        let doses: Vec<NaiveDate> = lay_out(&p, &plan)
            .into_iter()
            .filter(|s| s.kind == SessionKind::Dosing)
            .map(|s| s.starts.date())
            .collect();
        // Induction: 8 doses in 4 weeks, on Tuesdays and Fridays.
        assert_eq!(doses.len() as u32, p.dosing_sessions());
        for d in &doses[..8] {
            assert!(matches!(d.weekday(), Weekday::Tue | Weekday::Fri), "{d}");
        }
        assert!(doses[7] - doses[0] < Duration::days(28));
        // Then weekly on Tuesdays.
        for w in doses[8..12].windows(2) {
            assert_eq!(w[1] - w[0], Duration::days(7));
        }
    }

    #[test]
    fn sessions_on_one_day_follow_each_other() {
        let p = protocol("esketamine-trd");
        let mut form = CourseForm::defaults(&p, today());
        form.integration_after_days = p.sessions.integration_within_days.get().min(3).to_string();
        form.weekdays = vec!["mon".into(), "thu".into()];
        let plan = form.parse(&p, today()).expect("plan");
        let sessions = lay_out(&p, &plan);
        for w in sessions.windows(2) {
            assert!(w[1].starts >= w[0].ends() || w[1].starts.date() != w[0].starts.date());
        }
    }

    #[test]
    fn tailoring_mistakes_are_named_field_by_field() {
        let p = protocol("esketamine-trd");
        let form = CourseForm {
            start_date: "2026-11-01".into(),
            time: "9am".into(),
            weekdays: vec!["mon".into(), "tue".into(), "someday".into()],
            preparation: "-1".into(),
            phase_weeks: vec!["x".into()],
            follow_ups: "99".into(),
            integration_after_days: "0".into(),
            dose: "70".into(),
        };
        let e = form.parse(&p, today()).expect_err("refused");
        for f in [
            "start_date",
            "time",
            "weekdays",
            "preparation",
            "phase_weeks_0",
            "follow_ups",
            "integration_after_days",
            "dose",
        ] {
            assert!(e.get(f).is_some(), "{f}: {e:?}");
        }
        assert!(
            e.get("dose")
                .is_some_and(|m| m.contains("56") && m.contains("84"))
        );
    }

    #[test]
    fn dosing_days_closer_than_the_protocol_allows_are_refused() {
        let p = protocol("esketamine-trd");
        let min = p.sessions.min_days_between_doses.get();
        let mut form = CourseForm::defaults(&p, today());
        form.weekdays = vec!["mon".into(), "tue".into()];
        let r = form.parse(&p, today());
        if min > 1 {
            assert!(r.expect_err("too close").get("weekdays").is_some());
        }
        form.weekdays = vec!["mon".into()];
        assert!(
            form.parse(&p, today())
                .expect_err("one day for twice a week")
                .get("weekdays")
                .is_some()
        );
    }

    #[test]
    fn a_per_kg_dose_outside_the_limits_is_refused() {
        let p = protocol("iv-ketamine");
        assert!(parse_dose(&p.dose, "5").is_err());
        assert!(parse_dose(&p.dose, "0.0001").is_err());
        assert!(parse_dose(&p.dose, "abc").is_err());
        assert_eq!(
            parse_dose(&p.dose, "0.5"),
            Ok(PlannedDose::PerKg { ug_per_kg: 500 })
        );
        assert_eq!(format_mg_per_kg(500), "0.5");
        assert_eq!(format_mg_per_kg(750), "0.75");
        assert_eq!(format_mg_per_kg(1000), "1");
    }

    fn weekday_sets() -> impl Strategy<Value = Vec<Weekday>> {
        proptest::sample::subsequence(WEEKDAYS.to_vec(), 1..=7)
    }

    proptest! {
        /// Whatever the tailoring the form accepts: the dosing count matches the weeks chosen,
        /// no two doses are closer than the protocol allows, every-N-weeks phases keep their
        /// rhythm, and integration follows each dose within the protocol's window.
        #[test]
        fn laid_out_courses_keep_the_protocols_rhythm(
            key in proptest::sample::select(vec!["iv-ketamine", "esketamine-trd", "im-kap", "sublingual-kap"]),
            days in weekday_sets(),
            offset in 0i64..60,
            prep in 0u32..4,
            extra in proptest::collection::vec(0u32..6, 3),
            ia in 1u32..8,
        ) {
            let p = protocol(key);
            let mut form = CourseForm::defaults(&p, today());
            form.start_date = (today() + Duration::days(offset)).to_string();
            form.weekdays = days.iter().map(|d| weekday_code(*d).to_owned()).collect();
            form.preparation = prep.to_string();
            form.integration_after_days = ia.to_string();
            form.phase_weeks = p.sessions.phase.iter().zip(&extra)
                .map(|(ph, x)| (ph.weeks.get() + x).to_string()).collect();
            let Ok(plan) = form.parse(&p, today()) else { return Ok(()); };
            let sessions = lay_out(&p, &plan);
            let doses: Vec<&PlannedSession> =
                sessions.iter().filter(|s| s.kind == SessionKind::Dosing).collect();
            prop_assert_eq!(doses.len() as u32, dosing_total(&p, &plan.phase_weeks));
            let gap = i64::from(p.sessions.min_days_between_doses.get());
            for w in doses.windows(2) {
                prop_assert!((w[1].starts.date() - w[0].starts.date()).num_days() >= gap);
            }
            for ph in &p.sessions.phase {
                if let Some(k) = &ph.every_weeks {
                    let mine: Vec<NaiveDate> = doses.iter()
                        .filter(|s| s.phase.as_deref() == Some(ph.name.as_str()))
                        .map(|s| s.starts.date()).collect();
                    for w in mine.windows(2) {
                        prop_assert_eq!((w[1] - w[0]).num_days(), 7 * i64::from(k.get()));
                    }
                }
                if let Some(n) = &ph.per_week {
                    let mine: Vec<NaiveDate> = doses.iter()
                        .filter(|s| s.phase.as_deref() == Some(ph.name.as_str()))
                        .map(|s| s.starts.date()).collect();
                    // Never more than n doses in any seven days of the phase.
                    for (i, d) in mine.iter().enumerate() {
                        let in_week = mine[i..].iter().take_while(|x| **x - *d < Duration::days(7)).count();
                        prop_assert!(in_week as u32 <= n.get());
                    }
                }
            }
            let within = i64::from(p.sessions.integration_within_days.get());
            let last = doses.last().map(|s| s.starts.date());
            for s in sessions.iter().filter(|s| s.kind == SessionKind::Integration) {
                let before = doses.iter().rev().find(|d| d.starts.date() < s.starts.date());
                prop_assert!(before.is_some_and(|d| (s.starts.date() - d.starts.date()).num_days() <= within));
            }
            if let Some(last) = last {
                prop_assert!(sessions.iter().any(|s| s.kind == SessionKind::Integration && s.starts.date() > last));
            }
            // A patient is never booked twice at once.
            let mut sorted = sessions.clone();
            sorted.sort_by_key(|s| s.starts);
            for w in sorted.windows(2) {
                prop_assert!(w[1].starts >= w[0].ends());
            }
        }
    }
}
