//! What a note holds: sections of free text (which sections depends on the kind — and, for a
//! progress note, on its format, SOAP or DAP), the therapist's time-stamped observations during
//! a dosing session, the commitments an integration note makes, and the therapist's
//! observations in the four ways the clinic says KAP may help. Also the form a note is typed in,
//! what a note needs before it can be signed, and the canonical bytes its signature hashes.

use super::{NoteKind, long_text, short_text};
use crate::FieldErrors;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest commitment, in characters: a commitment is one sentence the patient can keep.
pub const COMMITMENT_MAX: usize = 500;
/// The most commitments one integration note makes.
pub const COMMITMENTS_MAX: usize = 12;
/// How far ahead a commitment's follow-up may be set.
pub const FOLLOW_UP_WITHIN_DAYS: i64 = 366;

crate::code::coded_enum! {
    /// A part of a note. Most hold free text; three are structured (observations, commitments,
    /// the four domains) and take their heading and prompt from the template like the others.
    pub enum Section as "note section" {
        Intention = "intention" / "Intention",
        Expectations = "expectations" / "Expectations",
        Fears = "fears" / "Fears and concerns",
        SupportPlan = "support_plan" / "Support plan",
        SetAndSetting = "set_and_setting" / "Set and setting",
        Observations = "observations" / "Observations during the session",
        Summary = "summary" / "Summary",
        Themes = "themes" / "Themes",
        Insights = "insights" / "Insights",
        WhatChanged = "what_changed" / "What changed",
        Commitments = "commitments" / "Commitments",
        Domains = "domains" / "Four ways KAP may help",
        Subjective = "subjective" / "Subjective",
        Objective = "objective" / "Objective",
        Data = "data" / "Data",
        Assessment = "assessment" / "Assessment",
        Plan = "plan" / "Plan",
        ProcessNotes = "process_notes" / "Process notes",
        FreeText = "free_text" / "Further notes",
    }
}

impl Section {
    /// Whether the section holds free text (the others are structured).
    pub fn is_text(self) -> bool {
        !matches!(
            self,
            Section::Observations | Section::Commitments | Section::Domains
        )
    }
}

crate::code::coded_enum! {
    /// How a progress note is laid out.
    pub enum ProgressFormat as "progress note format" {
        Soap = "soap" / "SOAP (subjective, objective, assessment, plan)",
        Dap = "dap" / "DAP (data, assessment, plan)",
    }
}

crate::code::coded_enum! {
    /// The four ways the clinic says KAP may help (design §1, step 6), observed by the
    /// therapist in integration.
    pub enum Domain as "integration domain" {
        EmotionalWindow = "emotional_window" / "A clearer emotional window",
        SelfTalk = "self_talk" / "A pause on harsh self-talk",
        FlexibleThinking = "flexible_thinking" / "More flexible thinking",
        FollowThrough = "follow_through" / "Stronger follow-through",
    }
}

crate::code::coded_enum! {
    /// How clearly the therapist saw a domain.
    pub enum Level as "observed level" {
        NotObserved = "not_observed" / "Not observed",
        Some = "some" / "Some",
        Clear = "clear" / "Clear",
    }
}

impl NoteKind {
    /// The sections a note of this kind shows, in order (a progress note's depend on its
    /// format; SOAP when none is given).
    pub fn sections(self, format: Option<ProgressFormat>) -> Vec<Section> {
        use Section::*;
        match self {
            NoteKind::Preparation => vec![
                Intention,
                Expectations,
                Fears,
                SupportPlan,
                SetAndSetting,
                FreeText,
            ],
            NoteKind::InSession => vec![Observations, Summary, FreeText],
            NoteKind::Integration => vec![
                Themes,
                Insights,
                WhatChanged,
                Commitments,
                Domains,
                FreeText,
            ],
            NoteKind::Progress => match format.unwrap_or(ProgressFormat::Soap) {
                ProgressFormat::Soap => vec![Subjective, Objective, Assessment, Plan, FreeText],
                ProgressFormat::Dap => vec![Data, Assessment, Plan, FreeText],
            },
            NoteKind::Psychotherapy => vec![ProcessNotes],
        }
    }

    /// The sections a template of this kind words: every section any note of the kind shows.
    pub fn template_sections(self) -> Vec<Section> {
        use Section::*;
        match self {
            NoteKind::Progress => vec![Subjective, Objective, Data, Assessment, Plan, FreeText],
            k => k.sections(None),
        }
    }
}

/// One observation by the therapist during a dosing session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedObservation {
    pub at: DateTime<Utc>,
    pub text: String,
}

/// A commitment as an integration note makes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedCommitment {
    pub text: String,
    pub follow_up: NaiveDate,
}

/// The therapist's observation in one of the four domains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainObservation {
    pub domain: Domain,
    pub level: Level,
    pub text: String,
}

/// Everything a note says. Texts are kept only when not empty; an integration note always has
/// the four domains, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteContent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<ProgressFormat>,
    #[serde(default)]
    pub texts: BTreeMap<Section, String>,
    #[serde(default)]
    pub observations: Vec<TimedObservation>,
    #[serde(default)]
    pub commitments: Vec<PlannedCommitment>,
    #[serde(default)]
    pub domains: Vec<DomainObservation>,
}

impl NoteContent {
    /// The text of a section ("" when empty).
    pub fn text(&self, s: Section) -> &str {
        self.texts.get(&s).map_or("", String::as_str)
    }

    /// The domain observation of one domain.
    pub fn domain(&self, d: Domain) -> Option<&DomainObservation> {
        self.domains.iter().find(|x| x.domain == d)
    }

    /// Whether nothing was written at all.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
            && self.observations.is_empty()
            && self.commitments.is_empty()
            && self
                .domains
                .iter()
                .all(|d| d.level == Level::NotObserved && d.text.is_empty())
    }

    /// The content a template starts a new note with: its default texts (the four domains
    /// not observed yet, for integration).
    pub fn from_template(
        kind: NoteKind,
        format: Option<ProgressFormat>,
        t: &super::NoteTemplate,
    ) -> NoteContent {
        let format = (kind == NoteKind::Progress).then(|| format.unwrap_or(ProgressFormat::Soap));
        let texts = kind
            .sections(format)
            .into_iter()
            .filter(|s| s.is_text())
            .filter_map(|s| {
                t.section(s)
                    .map(|x| x.default_text.clone())
                    .filter(|d| !d.is_empty())
                    .map(|d| (s, d))
            })
            .collect();
        NoteContent {
            format,
            texts,
            domains: if kind == NoteKind::Integration {
                unobserved()
            } else {
                vec![]
            },
            ..NoteContent::default()
        }
    }

    /// One line for lists and the course timeline: the intention, the first theme, the first
    /// observation… cut at a word near 120 characters.
    pub fn summary(&self, kind: NoteKind) -> String {
        let first = match kind {
            NoteKind::Preparation => self.text(Section::Intention),
            NoteKind::InSession => self
                .observations
                .first()
                .map_or(self.text(Section::Summary), |o| o.text.as_str()),
            NoteKind::Integration => [Section::Themes, Section::Insights, Section::WhatChanged]
                .into_iter()
                .map(|s| self.text(s))
                .find(|t| !t.is_empty())
                .unwrap_or(""),
            NoteKind::Progress => [Section::Assessment, Section::Subjective, Section::Data]
                .into_iter()
                .map(|s| self.text(s))
                .find(|t| !t.is_empty())
                .unwrap_or(""),
            // Never summarised: a psychotherapy note's words stay on its own page.
            NoteKind::Psychotherapy => "",
        };
        one_line(first, 120)
    }

    /// What must be written before a note of this kind is signed (empty when it may be).
    pub fn missing_for_signing(&self, kind: NoteKind) -> FieldErrors {
        let mut e = FieldErrors::new();
        let empty = |s: Section| self.text(s).is_empty();
        match kind {
            NoteKind::Preparation => {
                if empty(Section::Intention) {
                    e.add(
                        Section::Intention.as_str(),
                        "Write the intention, in the patient's own words, before signing.",
                    );
                }
            }
            NoteKind::InSession => {
                if self.observations.is_empty() && empty(Section::Summary) {
                    e.add(
                        Section::Summary.as_str(),
                        "Add an observation or a summary of the session before signing.",
                    );
                }
            }
            NoteKind::Integration => {
                if [Section::Themes, Section::Insights, Section::WhatChanged]
                    .into_iter()
                    .all(empty)
                {
                    e.add(
                        Section::Themes.as_str(),
                        "Write the themes, insights or what changed before signing.",
                    );
                }
            }
            NoteKind::Progress => {
                for s in kind.sections(self.format) {
                    if s != Section::FreeText && empty(s) {
                        e.add(
                            s.as_str(),
                            format!(
                                "Write the {} part before signing.",
                                s.label().to_lowercase()
                            ),
                        );
                    }
                }
            }
            NoteKind::Psychotherapy => {
                if empty(Section::ProcessNotes) {
                    e.add(
                        Section::ProcessNotes.as_str(),
                        "Write the note before signing.",
                    );
                }
            }
        }
        e
    }

    /// Unambiguous bytes of the content, in the kind's section order: each value
    /// length-prefixed, so no two different contents give the same bytes.
    pub fn canonical(&self, kind: NoteKind, out: &mut Vec<u8>) {
        put(out, self.format.map(ProgressFormat::as_str));
        for s in kind.sections(self.format) {
            match s {
                Section::Observations => {
                    put(out, Some(&self.observations.len().to_string()));
                    for o in &self.observations {
                        put(out, Some(&crate::audit::canonical_time(o.at)));
                        put(out, Some(&o.text));
                    }
                }
                Section::Commitments => {
                    put(out, Some(&self.commitments.len().to_string()));
                    for c in &self.commitments {
                        put(out, Some(&c.text));
                        put(out, Some(&c.follow_up.to_string()));
                    }
                }
                Section::Domains => {
                    put(out, Some(&self.domains.len().to_string()));
                    for d in &self.domains {
                        put(out, Some(d.domain.as_str()));
                        put(out, Some(d.level.as_str()));
                        put(out, Some(&d.text));
                    }
                }
                s => {
                    put(out, Some(s.as_str()));
                    put(out, Some(self.text(s)));
                }
            }
        }
    }
}

/// Appends one length-prefixed value (or the mark of an absent one) and a separator.
pub(super) fn put(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        Some(s) => {
            out.extend_from_slice(s.len().to_string().as_bytes());
            out.push(b':');
            out.extend_from_slice(s.as_bytes());
        }
        None => out.push(b'-'),
    }
    out.push(b'|');
}

/// The four domains, none observed yet.
pub fn unobserved() -> Vec<DomainObservation> {
    Domain::ALL
        .into_iter()
        .map(|domain| DomainObservation {
            domain,
            level: Level::NotObserved,
            text: String::new(),
        })
        .collect()
}

/// The first line of a text, cut at a word boundary near `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() <= max {
        return line.to_owned();
    }
    let cut: String = line.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => cut[..i].to_owned(),
        _ => cut,
    };
    format!("{}…", cut.trim_end())
}

/// The name of a commitment's input in the note form: `commitment-{i}-text` / `-date`.
pub fn commitment_field(i: usize, part: &str) -> String {
    format!("commitment-{i}-{part}")
}

/// The name of a domain's input in the note form: `domain-{code}-level` / `-text`.
pub fn domain_field(d: Domain, part: &str) -> String {
    format!("domain-{}-{part}", d.as_str())
}

/// A note as typed in its form (everything as text), before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoteForm {
    /// A progress note's format code.
    pub format: String,
    pub texts: Vec<(Section, String)>,
    /// Each commitment's text and follow-up date (`YYYY-MM-DD`), in order; empty pairs are
    /// ignored.
    pub commitments: Vec<(String, String)>,
    /// Each domain's level code and text.
    pub domains: Vec<(Domain, String, String)>,
}

impl NoteForm {
    /// Reads a form posted as name/value pairs (the names [`Section`] codes,
    /// [`commitment_field`] and [`domain_field`] give, and `format`).
    pub fn from_pairs(fields: &[(String, String)]) -> NoteForm {
        let get = |k: &str| {
            fields
                .iter()
                .find(|(n, _)| n == k)
                .map_or(String::new(), |(_, v)| v.clone())
        };
        let texts = Section::ALL
            .into_iter()
            .filter(|s| s.is_text())
            .filter_map(|s| {
                fields
                    .iter()
                    .find(|(n, _)| n == s.as_str())
                    .map(|(_, v)| (s, v.clone()))
            })
            .collect();
        let mut commitments = vec![];
        for i in 0..COMMITMENTS_MAX + 8 {
            let (t, d) = (commitment_field(i, "text"), commitment_field(i, "date"));
            if fields.iter().any(|(n, _)| *n == t || *n == d) {
                commitments.push((get(&t), get(&d)));
            }
        }
        let domains = Domain::ALL
            .into_iter()
            .map(|d| {
                (
                    d,
                    get(&domain_field(d, "level")),
                    get(&domain_field(d, "text")),
                )
            })
            .collect();
        NoteForm {
            format: get("format"),
            texts,
            commitments,
            domains,
        }
    }

    /// Checks the form for a note of `kind` written on `today`: every field at most
    /// [`LONG_TEXT_MAX`](super::LONG_TEXT_MAX) characters, commitments whole (text and follow-up date, the date not
    /// passed and within a year), domain levels known. Every problem is named by its field.
    pub fn parse(&self, kind: NoteKind, today: NaiveDate) -> Result<NoteContent, FieldErrors> {
        let mut e = FieldErrors::new();
        let format = if kind == NoteKind::Progress {
            if self.format.trim().is_empty() {
                Some(ProgressFormat::Soap)
            } else {
                e.check("format", self.format.parse::<ProgressFormat>())
            }
        } else {
            None
        };
        let sections = kind.sections(format);
        let mut texts = BTreeMap::new();
        for (s, raw) in &self.texts {
            if !sections.contains(s) || !s.is_text() {
                continue;
            }
            match long_text(raw) {
                Ok(t) if t.is_empty() => {}
                Ok(t) => {
                    texts.insert(*s, t);
                }
                Err(m) => e.add(s.as_str(), m),
            }
        }
        let mut commitments = vec![];
        let mut domains = vec![];
        if kind == NoteKind::Integration {
            for (i, (text, date)) in self.commitments.iter().enumerate() {
                if text.trim().is_empty() && date.trim().is_empty() {
                    continue;
                }
                let (tf, df) = (commitment_field(i, "text"), commitment_field(i, "date"));
                let text = match short_text(text, COMMITMENT_MAX) {
                    Ok(t) if t.is_empty() => {
                        e.add(&tf, "Write the commitment, or clear its date.");
                        None
                    }
                    Ok(t) => Some(t),
                    Err(m) => {
                        e.add(&tf, m);
                        None
                    }
                };
                let follow_up = match parse_follow_up(date, today) {
                    Ok(d) => Some(d),
                    Err(m) => {
                        e.add(&df, m);
                        None
                    }
                };
                if let (Some(text), Some(follow_up)) = (text, follow_up) {
                    commitments.push(PlannedCommitment { text, follow_up });
                }
            }
            if commitments.len() > COMMITMENTS_MAX {
                e.add(
                    commitment_field(0, "text"),
                    format!("A note makes at most {COMMITMENTS_MAX} commitments."),
                );
            }
            for d in Domain::ALL {
                let (level, text) = self
                    .domains
                    .iter()
                    .find(|(x, _, _)| *x == d)
                    .map_or(("", ""), |(_, l, t)| (l.as_str(), t.as_str()));
                let level = if level.trim().is_empty() {
                    Some(Level::NotObserved)
                } else {
                    e.check(domain_field(d, "level"), level.parse::<Level>())
                };
                let text = match long_text(text) {
                    Ok(t) => Some(t),
                    Err(m) => {
                        e.add(domain_field(d, "text"), m);
                        None
                    }
                };
                if let (Some(level), Some(text)) = (level, text) {
                    domains.push(DomainObservation {
                        domain: d,
                        level,
                        text,
                    });
                }
            }
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(NoteContent {
            format,
            texts,
            observations: vec![],
            commitments,
            domains,
        })
    }
}

fn parse_follow_up(date: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let d = date.trim();
    if d.is_empty() {
        return Err("Give the date to follow this commitment up.".into());
    }
    let d = NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .map_err(|_| format!("\"{d}\" is not a date (YYYY-MM-DD)."))?;
    if d < today {
        return Err("This follow-up date has passed: choose today or a later date.".into());
    }
    if d > today + Duration::days(FOLLOW_UP_WITHIN_DAYS) {
        return Err("Choose a follow-up date within a year.".into());
    }
    Ok(d)
}

/// Checks one observation typed during a session: its words within [`LONG_TEXT_MAX`](super::LONG_TEXT_MAX) and its
/// time not in the future (a minute's grace for clocks).
pub fn parse_observation(
    text: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<TimedObservation, FieldErrors> {
    let mut e = FieldErrors::new();
    match long_text(text) {
        Ok(t) if t.is_empty() => e.add("text", "Write the observation."),
        Ok(t) if e.is_empty() && at <= now + Duration::minutes(1) => {
            return Ok(TimedObservation { at, text: t });
        }
        Ok(_) => e.add("at", "The time is in the future."),
        Err(m) => e.add("text", m),
    }
    Err(e)
}
