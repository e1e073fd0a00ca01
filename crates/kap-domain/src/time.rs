//! Local time: every time a person reads is in their clinic's time zone, with its abbreviation
//! (storage and the API keep UTC). A clinic's zone is an IANA name (`America/New_York`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc};
use std::str::FromStr;

/// A clinic's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub const UTC: TimeZone = TimeZone(chrono_tz::UTC);

    /// Parses an IANA time-zone name.
    pub fn parse(s: &str) -> Result<TimeZone, crate::person::ParseError> {
        chrono_tz::Tz::from_str(s.trim()).map(TimeZone).map_err(|_| {
            crate::person::ParseError::Invalid(format!(
                "\"{}\" is not a time zone name; use one like Europe/London or America/Chicago.",
                s.trim()
            ))
        })
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// "2026-11-27 14:05 EST": date, time and the zone's abbreviation at that moment.
    pub fn format(self, t: &DateTime<Utc>) -> String {
        t.with_timezone(&self.0)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// "2026-11-27 14:05:09 EST", for the audit log.
    pub fn format_seconds(self, t: &DateTime<Utc>) -> String {
        t.with_timezone(&self.0)
            .format("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    }

    /// The calendar date at `t` in this zone.
    pub fn date(self, t: &DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.0).date_naive()
    }

    /// The wall-clock date and time at `t` in this zone.
    pub fn local(self, t: &DateTime<Utc>) -> NaiveDateTime {
        t.with_timezone(&self.0).naive_local()
    }

    /// "14:05", the wall-clock time at `t`.
    pub fn hm(self, t: &DateTime<Utc>) -> String {
        t.with_timezone(&self.0).format("%H:%M").to_string()
    }

    /// The first moment of a calendar day in this zone (midnight, or — where the clocks skip
    /// midnight — the first wall-clock time that exists that day).
    pub fn start_of_day(self, date: NaiveDate) -> DateTime<Utc> {
        let mut t = NaiveTime::MIN;
        for _ in 0..48 {
            if let Ok(at) = self.at(date, t) {
                return at;
            }
            t += chrono::Duration::minutes(30);
        }
        // No zone skips a whole day's first 24 hours but one (Samoa, 2011-12-30): that day has
        // no moment of its own; it starts where the next one does.
        date.and_time(NaiveTime::MIN).and_utc()
    }

    /// The moment a wall-clock date and time in this zone names. When the clocks go back the
    /// earlier of the two moments is meant; a time skipped when the clocks go forward names
    /// none, and the message says so.
    pub fn at(self, date: NaiveDate, time: NaiveTime) -> Result<DateTime<Utc>, String> {
        self.0
            .from_local_datetime(&date.and_time(time))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| {
                format!(
                    "{} {} does not exist in {} (the clocks go forward then); choose another time.",
                    date,
                    time.format("%H:%M"),
                    self.name()
                )
            })
    }
}

impl std::fmt::Display for TimeZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_its_first_moment_even_when_the_clocks_skip_midnight() {
        let ny = TimeZone::parse("America/New_York").expect("zone");
        let d = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        assert_eq!(ny.start_of_day(d).to_rfc3339(), "2026-11-27T05:00:00+00:00");
        // Santiago skips 00:00–01:00 when its clocks go forward (2026-09-06).
        let cl = TimeZone::parse("America/Santiago").expect("zone");
        let d = NaiveDate::from_ymd_opt(2026, 9, 6).expect("date");
        assert_eq!(
            cl.local(&cl.start_of_day(d)).time(),
            NaiveTime::from_hms_opt(1, 0, 0).expect("t")
        );
    }

    #[test]
    fn times_are_shown_in_the_clinics_zone_with_its_abbreviation() {
        let t = DateTime::parse_from_rfc3339("2026-11-27T19:05:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let ny = TimeZone::parse("America/New_York").unwrap_or(TimeZone::UTC);
        assert_eq!(ny.format(&t), "2026-11-27 14:05 EST");
        let summer = DateTime::parse_from_rfc3339("2026-07-01T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(ny.format(&summer), "2026-07-01 08:00 EDT");
        let tokyo = TimeZone::parse("Asia/Tokyo").unwrap_or(TimeZone::UTC);
        assert_eq!(
            tokyo.date(&t).to_string(),
            "2026-11-28",
            "already tomorrow there"
        );
        assert_eq!(TimeZone::UTC.format(&t), "2026-11-27 19:05 UTC");
    }

    #[test]
    fn unknown_zones_are_refused_by_name() {
        let e = TimeZone::parse("Mars/Olympus").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "\"Mars/Olympus\" is not a time zone name; use one like Europe/London or America/Chicago."
            )
        );
    }
}
