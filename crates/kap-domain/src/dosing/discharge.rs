//! Discharge readiness from the protocol's criteria: each criterion met or not, with the time it
//! became true, so the nurse sees what is still missing and the REMS form can say when the
//! patient would have been ready without the minimum time.

use super::checklist::crossings;
use super::{Rating, Session};
use crate::protocol::VitalMeasure;
use chrono::{DateTime, Duration, Utc};

/// One discharge criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub name: String,
    pub met: bool,
    /// When it became (and stayed) true.
    pub since: Option<DateTime<Utc>>,
    /// What is missing, or what met it.
    pub detail: String,
    /// Whether this is the minimum monitoring time (left out of the REMS "ready without the
    /// minimum" estimate).
    pub is_minimum_time: bool,
}

/// Every criterion of the protocol, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub criteria: Vec<Criterion>,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        !self.criteria.is_empty() && self.criteria.iter().all(|c| c.met)
    }

    /// When the last criterion became true, once all are.
    pub fn ready_at(&self) -> Option<DateTime<Utc>> {
        if !self.ready() {
            return None;
        }
        self.criteria.iter().filter_map(|c| c.since).max()
    }

    /// When the patient would have been ready without the minimum time: the latest `since`
    /// of the other criteria, once they are all met.
    pub fn ready_without_minimum_at(&self) -> Option<DateTime<Utc>> {
        let others: Vec<&Criterion> = self
            .criteria
            .iter()
            .filter(|c| !c.is_minimum_time)
            .collect();
        if others.iter().any(|c| !c.met) {
            return None;
        }
        others.iter().filter_map(|c| c.since).max()
    }
}

fn criterion(name: &str, met: bool, since: Option<DateTime<Utc>>, detail: String) -> Criterion {
    Criterion {
        name: name.to_owned(),
        met,
        since: if met { since } else { None },
        detail,
        is_minimum_time: false,
    }
}

/// The start of the latest unbroken run of `ok` values in a time-ordered series; none when the
/// latest value is not ok or there is none.
fn run_start<T>(series: &[(DateTime<Utc>, T)], ok: impl Fn(&T) -> bool) -> Option<DateTime<Utc>> {
    let mut since = None;
    for (at, v) in series {
        if ok(v) {
            since.get_or_insert(*at);
        } else {
            since = None;
        }
    }
    since
}

/// Readiness at `now`. Nothing is met before the first dose; the minimum monitoring time
/// counts from the start of the first dose.
pub fn readiness(s: &Session, now: DateTime<Utc>) -> Readiness {
    let m = &s.protocol.monitoring;
    let d = &m.discharge;
    let Some(start) = s.dosing_started_at() else {
        return Readiness {
            criteria: vec![criterion(
                "Dose given",
                false,
                None,
                "No dose has been given yet.".to_owned(),
            )],
        };
    };
    let mut out = vec![];
    let finished = s.dosing_finished_at();
    out.push(criterion(
        "Dose complete",
        finished.is_some(),
        finished,
        if finished.is_some() {
            "Every ordered dose was given.".to_owned()
        } else {
            "A dose is still being given.".to_owned()
        },
    ));
    let minimum = i64::from(m.minimum_minutes.get());
    let until = start + Duration::minutes(minimum);
    out.push(Criterion {
        is_minimum_time: true,
        ..criterion(
            &format!("{minimum} min of monitoring since the first dose"),
            now >= until,
            Some(until),
            if now >= until {
                format!("Since {}.", until.format("%H:%M"))
            } else {
                format!("{} min to go.", (until - now).num_minutes() + 1)
            },
        )
    });
    if d.vitals_within_hold_limits {
        // Back within the hold limits and within the alert limits too: a hold that names only
        // blood pressure must not let a low oxygen saturation through.
        let both: Vec<crate::protocol::Threshold> =
            m.hold.iter().chain(&m.alert).cloned().collect();
        let limits = &both;
        let mut after: Vec<_> = s.vitals.iter().filter(|v| v.at >= start).collect();
        after.sort_by_key(|v| v.at);
        let mut since: Option<DateTime<Utc>> = None;
        let mut missing = vec![];
        let mut beyond = vec![];
        let measures: Vec<VitalMeasure> = {
            let mut ms: Vec<VitalMeasure> = limits.iter().map(|t| t.measure).collect();
            ms.dedup();
            ms
        };
        for measure in VitalMeasure::ALL
            .into_iter()
            .filter(|x| measures.contains(x))
        {
            let series: Vec<(DateTime<Utc>, bool)> = after
                .iter()
                .filter(|v| v.value(measure).is_some())
                .map(|v| {
                    let ok = crossings(limits, v).iter().all(|c| c.measure != measure);
                    (v.at, ok)
                })
                .collect();
            if series.is_empty() {
                missing.push(super::flowsheet::words(measure));
                continue;
            }
            match run_start(&series, |ok| *ok) {
                Some(t) => since = Some(since.map_or(t, |x| x.max(t))),
                None => beyond.push(super::flowsheet::words(measure)),
            }
        }
        let met = missing.is_empty() && beyond.is_empty() && !after.is_empty();
        let detail = if met {
            "The latest values are within the protocol's limits.".to_owned()
        } else if after.is_empty() {
            "No vitals since the first dose.".to_owned()
        } else {
            let mut parts = vec![];
            if !beyond.is_empty() {
                parts.push(format!("beyond the limits: {}", beyond.join(", ")));
            }
            if !missing.is_empty() {
                parts.push(format!(
                    "not measured since the dose: {}",
                    missing.join(", ")
                ));
            }
            format!("Latest {}.", parts.join("; "))
        };
        out.push(criterion("Vitals within limits", met, since, detail));
    }
    let at_least = d.moaas_at_least.get();
    let mut ratings: Vec<(DateTime<Utc>, u32)> = s
        .observations
        .iter()
        .filter(|o| o.at >= start)
        .filter_map(|o| match o.rating {
            Rating::Moaas(m) => Some((o.at, m.score())),
            _ => None,
        })
        .collect();
    ratings.sort_by_key(|r| r.0);
    let since = run_start(&ratings, |v| *v >= at_least);
    out.push(criterion(
        &format!("MOAA/S {at_least} or more"),
        since.is_some(),
        since,
        match ratings.last() {
            None => "No MOAA/S rating since the first dose.".to_owned(),
            Some((_, v)) => format!("Latest MOAA/S {v}."),
        },
    ));
    if d.no_unresolved_adverse_event {
        let open: Vec<String> = s
            .adverse_events
            .iter()
            .filter(|e| e.closed_at().is_none())
            .map(|e| e.name())
            .collect();
        let since = s
            .adverse_events
            .iter()
            .filter_map(|e| e.closed_at())
            .max()
            .map_or(start, |t| t.max(start));
        out.push(criterion(
            "No unresolved adverse event",
            open.is_empty(),
            Some(since),
            if open.is_empty() {
                "None open.".to_owned()
            } else {
                format!("Still ongoing: {}.", open.join(", "))
            },
        ));
    }
    if d.escort_required {
        let escort = s
            .observations
            .iter()
            .filter_map(|o| match &o.rating {
                Rating::EscortPresent(name) => Some((o.at, name.clone())),
                _ => None,
            })
            .min_by_key(|e| e.0);
        out.push(criterion(
            "Escort present",
            escort.is_some(),
            escort.as_ref().map(|e| e.0),
            match escort {
                Some((_, name)) => format!("{name} is here."),
                None => "Record when the escort arrives.".to_owned(),
            },
        ));
    }
    Readiness { criteria: out }
}
