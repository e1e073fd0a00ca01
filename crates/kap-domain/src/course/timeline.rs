//! The story of a course on one page: its sessions, dosing sessions, notes, check-ins and
//! scores interleaved in time, day by day, with filters by strand.
//!
//! The web layer gathers what the viewer may see (each strand behind its own permission) into
//! [`Event`]s; this module decides the order, the window, the filter and the grouping by the
//! clinic's days.

use crate::FieldErrors;
use crate::time::TimeZone;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeSet;

crate::code::coded_enum! {
    /// The strands a course's timeline interleaves; each can be shown or hidden.
    pub enum Strand as "timeline strand" {
        Preparation = "preparation" / "Preparation",
        Dosing = "dosing" / "Dosing",
        Integration = "integration" / "Integration",
        Checkin = "checkin" / "Check-ins",
        Score = "score" / "Scores",
        Other = "other" / "Other sessions, notes and course changes",
    }
}

/// How an event wants to be noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    /// Needs someone's attention (an unseen flagged check-in, an unsigned note, an alert).
    Attention,
    /// Did not happen (a missed or cancelled session).
    Muted,
}

/// One thing that happened in the course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub strand: Strand,
    /// What it is: "Dosing 3 (induction)", "Integration note", "PHQ-9 9 — mild".
    pub title: String,
    /// One line of what it says (an intention, a commitment, mood and side effects).
    pub detail: Option<String>,
    /// Where it stands: "Signed", "Awaiting co-signature", "Seen", "Missed".
    pub status: Option<String>,
    pub tone: Tone,
    /// Where to open it.
    pub href: Option<String>,
}

/// One of the clinic's days with its events, in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    pub events: Vec<Event>,
}

/// Which strands to show. Empty in a request means all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    shown: BTreeSet<Strand>,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            shown: Strand::ALL.iter().copied().collect(),
        }
    }
}

impl Filter {
    /// The strands named in a request (`show=dosing&show=checkin`); none named shows all. An
    /// unknown name is refused, never ignored: a filter that silently shows everything would
    /// hide that the link is wrong.
    pub fn parse<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<Filter, FieldErrors> {
        let mut shown = BTreeSet::new();
        for code in codes {
            let strand = code.parse::<Strand>().map_err(|_| {
                FieldErrors::single(
                    "show",
                    format!(
                        "There is no “{}” in a course timeline. Choose from: {}.",
                        code.chars().take(40).collect::<String>(),
                        Strand::ALL
                            .iter()
                            .map(|s| s.label().to_lowercase())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            shown.insert(strand);
        }
        if shown.is_empty() {
            return Ok(Filter::default());
        }
        Ok(Filter { shown })
    }

    pub fn shows(&self, s: Strand) -> bool {
        self.shown.contains(&s)
    }

    /// Whether every strand is shown.
    pub fn is_all(&self) -> bool {
        self.shown.len() == Strand::ALL.len()
    }
}

/// The span of time a course's story covers: from its planning to its end (completion or
/// stop), or to `now` while it is open. Events outside it belong to other courses or to
/// before the course — except the scores just before it, which [`baseline`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    pub fn of_course(
        planned_at: DateTime<Utc>,
        ended_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Window {
        let to = ended_at.unwrap_or(now).max(planned_at);
        Window {
            from: planned_at,
            to,
        }
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t <= self.to
    }
}

/// Of scores given as `(instrument code, answered at)`, the indexes to keep: every score inside
/// the window, and for each instrument the last one before it — the baseline the course is
/// measured against.
pub fn baseline<'a>(scores: &[(&'a str, DateTime<Utc>)], w: Window) -> Vec<usize> {
    let mut keep = vec![];
    let mut last_before: Vec<(&'a str, usize)> = vec![];
    for (i, (code, at)) in scores.iter().enumerate() {
        if w.contains(*at) {
            keep.push(i);
        } else if *at < w.from {
            match last_before.iter_mut().find(|(c, _)| c == code) {
                Some(slot) => {
                    if scores[slot.1].1 <= *at {
                        slot.1 = i;
                    }
                }
                None => last_before.push((code, i)),
            }
        }
    }
    keep.extend(last_before.into_iter().map(|(_, i)| i));
    keep.sort_unstable();
    keep
}

/// The events the filter shows, in time order (ties in strand order, then as given), grouped
/// by the clinic's day.
pub fn arrange(mut events: Vec<Event>, filter: &Filter, tz: TimeZone) -> Vec<Day> {
    events.retain(|e| filter.shows(e.strand));
    // A stable sort keeps events of one moment and strand in the order they were given.
    events.sort_by(|a, b| a.at.cmp(&b.at).then(a.strand.cmp(&b.strand)));
    let mut days: Vec<Day> = vec![];
    for e in events {
        let date = tz.local(&e.at).date();
        match days.last_mut() {
            Some(d) if d.date == date => d.events.push(e),
            _ => days.push(Day {
                date,
                events: vec![e],
            }),
        }
    }
    days
}

/// How many events of each strand there are (for the filter's counts), in strand order.
pub fn counts(events: &[Event]) -> Vec<(Strand, usize)> {
    Strand::ALL
        .iter()
        .map(|s| (*s, events.iter().filter(|e| e.strand == *s).count()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone as _};
    use proptest::prelude::*;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    fn ev(h: i64, strand: Strand, title: &str) -> Event {
        Event {
            at: t(h),
            strand,
            title: title.into(),
            detail: None,
            status: None,
            tone: Tone::Plain,
            href: None,
        }
    }

    #[test]
    fn no_strand_named_shows_all_and_unknown_is_refused() {
        assert!(Filter::parse([]).unwrap().is_all());
        let f = Filter::parse(["dosing", "checkin"]).unwrap();
        assert!(f.shows(Strand::Dosing) && f.shows(Strand::Checkin));
        assert!(!f.shows(Strand::Score) && !f.is_all());
        let e = Filter::parse(["dosing", "gossip"]).unwrap_err();
        assert!(e.get("show").unwrap().contains("gossip"));
    }

    #[test]
    fn events_interleave_by_time_and_group_by_the_clinics_day() {
        let events = vec![
            ev(30, Strand::Integration, "Integration 1"),
            ev(2, Strand::Preparation, "Preparation note"),
            ev(26, Strand::Dosing, "Dosing 1"),
            ev(1, Strand::Preparation, "Preparation"),
            ev(28, Strand::Checkin, "Check-in"),
        ];
        let days = arrange(events, &Filter::default(), TimeZone::UTC);
        assert_eq!(days.len(), 2);
        let titles: Vec<_> = days
            .iter()
            .flat_map(|d| d.events.iter().map(|e| e.title.as_str()))
            .collect();
        assert_eq!(
            titles,
            [
                "Preparation",
                "Preparation note",
                "Dosing 1",
                "Check-in",
                "Integration 1"
            ]
        );
        // Midnight in New York is 05:00 UTC: hour 2 UTC is the evening before there.
        let ny = TimeZone::parse("America/New_York").unwrap();
        let days = arrange(
            vec![ev(2, Strand::Dosing, "a"), ev(6, Strand::Dosing, "b")],
            &Filter::default(),
            ny,
        );
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].date, NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
    }

    #[test]
    fn the_last_score_before_the_course_is_its_baseline() {
        let w = Window::of_course(t(100), None, t(200));
        let scores = [
            ("phq9", t(10)),
            ("phq9", t(50)),
            ("gad7", t(40)),
            ("phq9", t(150)),
            ("phq9", t(300)),
        ];
        assert_eq!(baseline(&scores, w), vec![1, 2, 3]);
    }

    #[test]
    fn an_ended_course_ends_its_window() {
        let w = Window::of_course(t(0), Some(t(10)), t(100));
        assert!(w.contains(t(10)) && !w.contains(t(11)));
        // A clock behind the planning time still gives a window, never an inverted one.
        let w = Window::of_course(t(10), None, t(5));
        assert!(w.from <= w.to);
    }

    fn strand() -> impl Strategy<Value = Strand> {
        prop::sample::select(Strand::ALL.to_vec())
    }

    proptest! {
        /// Arranging keeps exactly the filtered events, in time order, each under its own day.
        #[test]
        fn arrange_keeps_every_shown_event_once_in_order(
            raw in prop::collection::vec((0i64..500, strand()), 0..60),
            shown in prop::collection::btree_set(strand(), 0..6),
        ) {
            let events: Vec<Event> = raw.iter().enumerate()
                .map(|(i, (h, s))| ev(*h, *s, &i.to_string())).collect();
            let codes: Vec<&str> = shown.iter().map(|s| s.as_str()).collect();
            let f = Filter::parse(codes).unwrap();
            let days = arrange(events.clone(), &f, TimeZone::UTC);
            let flat: Vec<&Event> = days.iter().flat_map(|d| d.events.iter()).collect();
            let expected = events.iter().filter(|e| f.shows(e.strand)).count();
            prop_assert_eq!(flat.len(), expected);
            prop_assert!(flat.windows(2).all(|w| w[0].at <= w[1].at));
            for d in &days {
                prop_assert!(d.events.iter().all(|e| e.at.date_naive() == d.date));
            }
            prop_assert!(days.windows(2).all(|w| w[0].date < w[1].date));
        }
    }
}
