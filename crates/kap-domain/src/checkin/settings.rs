//! A clinic's check-in settings: which side effects raise an alert and how urgently, the mood
//! rules, and how long a check-in link stays valid. Clinic policy, kept as a versioned
//! document like the measurement settings; a stored version that does not read or is out of
//! bounds is an error, never replaced by a default.
//!
//! The mood rules are **off until a clinic sets them**. clinical.md gives no threshold for a
//! 0–10 mood rating, nor for a drop between two ratings (the measures it does band — PHQ-9,
//! GAD-7, QIDS-SR16 — carry their own published alerts through the questionnaire part); a
//! shipped number would look like a clinical fact it is not, as the measurement settings'
//! worsening rule does not either. The side-effect rules ship on (see
//! [`SideEffect::default_alert`]): they follow warnings the reference does name.

use super::SideEffect;
use crate::fields::FieldErrors;
use crate::instruments::Severity;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// Days a check-in link stays valid: one day to two weeks.
pub const LINK_VALID_DAYS: RangeInclusive<i32> = 1..=14;
/// A mood at or below this raises an alert, when set.
pub const LOW_MOOD: RangeInclusive<i32> = 0..=9;
/// A drop of at least this many points since the previous check-in raises an alert, when set.
pub const MOOD_DROP: RangeInclusive<i32> = 1..=10;

crate::code::coded_enum! {
    /// What a reported side effect raises.
    pub enum AlertLevel as "alert level" {
        None = "none" / "Recorded, no alert",
        High = "high" / "High alert",
        Urgent = "urgent" / "Urgent alert",
        Critical = "critical" / "Critical alert",
    }
}

impl AlertLevel {
    pub fn severity(self) -> Option<Severity> {
        match self {
            AlertLevel::None => None,
            AlertLevel::High => Some(Severity::High),
            AlertLevel::Urgent => Some(Severity::Urgent),
            AlertLevel::Critical => Some(Severity::Critical),
        }
    }

    pub fn of(s: Option<Severity>) -> AlertLevel {
        match s {
            None => AlertLevel::None,
            Some(Severity::High) => AlertLevel::High,
            Some(Severity::Urgent) => AlertLevel::Urgent,
            Some(Severity::Critical) => AlertLevel::Critical,
        }
    }

    /// The levels a clinic may choose for a side effect: a risk answer always alerts, at least
    /// urgently.
    pub fn allowed_for(se: SideEffect) -> &'static [AlertLevel] {
        if se.is_risk_answer() {
            &[AlertLevel::Urgent, AlertLevel::Critical]
        } else {
            &AlertLevel::ALL
        }
    }
}

/// The check-in settings of one clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckinSettings {
    /// What each side effect raises, by code; a side effect not listed uses
    /// [`SideEffect::default_alert`].
    pub side_effect_alerts: BTreeMap<String, AlertLevel>,
    /// A mood at or below this raises a high alert (none: off, the default).
    pub low_mood_at_most: Option<i32>,
    /// A drop of at least this many points since the previous check-in raises a high alert
    /// (none: off, the default).
    pub mood_drop_points: Option<i32>,
    /// How many days a check-in link stays valid (default 3, as the measurement settings'
    /// 72 hours for questionnaire links).
    pub link_valid_days: i32,
}

impl Default for CheckinSettings {
    fn default() -> Self {
        CheckinSettings {
            side_effect_alerts: BTreeMap::new(),
            low_mood_at_most: None,
            mood_drop_points: None,
            link_valid_days: 3,
        }
    }
}

impl CheckinSettings {
    /// The alert a reported side effect raises under these settings (none: recorded only).
    pub fn alert_for(&self, se: SideEffect) -> Option<Severity> {
        match self.side_effect_alerts.get(se.as_str()) {
            Some(level) => level.severity(),
            None => se.default_alert(),
        }
    }

    pub fn link_valid_for(&self) -> Duration {
        Duration::days(i64::from(self.link_valid_days))
    }

    /// Checks every value against its bounds; errors name the form field at fault.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errs = FieldErrors::new();
        for (code, level) in &self.side_effect_alerts {
            match SideEffect::from_code(code) {
                None => errs.add(format!("alert_{code}"), "There is no such side effect."),
                Some(se) if !AlertLevel::allowed_for(se).contains(level) => errs.add(
                    format!("alert_{code}"),
                    "Thoughts of self-harm always raise an urgent or critical alert.",
                ),
                Some(_) => {}
            }
        }
        if let Some(v) = self.low_mood_at_most
            && !LOW_MOOD.contains(&v)
        {
            errs.add("low_mood_at_most", between(&LOW_MOOD, true));
        }
        if let Some(v) = self.mood_drop_points
            && !MOOD_DROP.contains(&v)
        {
            errs.add("mood_drop_points", between(&MOOD_DROP, true));
        }
        if !LINK_VALID_DAYS.contains(&self.link_valid_days) {
            errs.add("link_valid_days", between(&LINK_VALID_DAYS, false));
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// The settings as the settings form sends them (`field` → text): `alert_<code>` for each
    /// side effect, `low_mood_at_most` and `mood_drop_points` (empty: off), and
    /// `link_valid_days`. Every side effect is written out, so a saved version says what it
    /// means without the defaults.
    pub fn from_fields<'a>(
        fields: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    ) -> Result<CheckinSettings, FieldErrors> {
        let get = |k: &str| {
            fields
                .clone()
                .into_iter()
                .find(|(f, _)| *f == k)
                .map_or("", |(_, v)| v.trim())
        };
        let mut errs = FieldErrors::new();
        let mut side_effect_alerts = BTreeMap::new();
        for se in SideEffect::ALL {
            let field = format!("alert_{}", se.as_str());
            match AlertLevel::from_code(get(&field)) {
                Some(l) if AlertLevel::allowed_for(se).contains(&l) => {
                    side_effect_alerts.insert(se.as_str().to_owned(), l);
                }
                Some(_) => errs.add(
                    field,
                    "Thoughts of self-harm always raise an urgent or critical alert.",
                ),
                None => errs.add(field, "Choose what this side effect raises."),
            }
        }
        let mut int = |field: &str, range: RangeInclusive<i32>, optional: bool| {
            let v = get(field);
            if v.is_empty() && optional {
                return Some(None);
            }
            match v.parse::<i32>() {
                Ok(n) if range.contains(&n) => Some(Some(n)),
                _ => {
                    errs.add(field, between(&range, optional));
                    None
                }
            }
        };
        let low = int("low_mood_at_most", LOW_MOOD, true);
        let drop = int("mood_drop_points", MOOD_DROP, true);
        let days = int("link_valid_days", LINK_VALID_DAYS, false);
        match (low, drop, days) {
            (Some(low), Some(drop), Some(Some(days))) if errs.is_empty() => Ok(CheckinSettings {
                side_effect_alerts,
                low_mood_at_most: low,
                mood_drop_points: drop,
                link_valid_days: days,
            }),
            _ => Err(errs),
        }
    }

    /// The form's fields for these settings (every side effect written out).
    pub fn to_fields(&self) -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = SideEffect::ALL
            .iter()
            .map(|se| {
                (
                    format!("alert_{}", se.as_str()),
                    AlertLevel::of(self.alert_for(*se)).as_str().to_owned(),
                )
            })
            .collect();
        let opt = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
        f.push(("low_mood_at_most".into(), opt(self.low_mood_at_most)));
        f.push(("mood_drop_points".into(), opt(self.mood_drop_points)));
        f.push(("link_valid_days".into(), self.link_valid_days.to_string()));
        f
    }
}

fn between(range: &RangeInclusive<i32>, optional: bool) -> String {
    format!(
        "Enter a whole number from {} to {}{}.",
        range.start(),
        range.end(),
        if optional { ", or leave it empty" } else { "" }
    )
}
