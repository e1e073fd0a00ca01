//! Note templates: for each kind, the heading and prompt of every section and the text a new
//! note starts with. A clinic edits its own (each save is a new version; a note keeps the
//! version it was written with); until it does, Kapstone's shipped wording is used. A template
//! that would leave a section without a heading, or carries text beyond the limits, is refused
//! field by field.

use super::content::Section;
use super::{LONG_TEXT_MAX, NoteKind, short_text};
use crate::FieldErrors;
use serde::{Deserialize, Serialize};

/// The longest heading, in characters.
pub const HEADING_MAX: usize = 120;
/// The longest prompt, in characters.
pub const PROMPT_MAX: usize = 1_000;

/// How one section of a note is worded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionTemplate {
    pub section: Section,
    pub heading: String,
    /// What the writer is asked (shown under the heading).
    #[serde(default)]
    pub prompt: String,
    /// The text a new note starts with (free-text sections only).
    #[serde(default)]
    pub default_text: String,
}

/// The wording of every section of one kind of note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteTemplate {
    pub kind: NoteKind,
    pub sections: Vec<SectionTemplate>,
}

/// The name of a template field in the admin form: `{section}-heading`, `-prompt`, `-default`.
pub fn template_field(s: Section, part: &str) -> String {
    format!("{}-{part}", s.as_str())
}

impl NoteTemplate {
    pub fn section(&self, s: Section) -> Option<&SectionTemplate> {
        self.sections.iter().find(|x| x.section == s)
    }

    /// The heading of a section (its plain name if the template has none, which a checked
    /// template never lacks).
    pub fn heading(&self, s: Section) -> &str {
        self.section(s).map_or(s.label(), |x| x.heading.as_str())
    }

    pub fn prompt(&self, s: Section) -> &str {
        self.section(s).map_or("", |x| x.prompt.as_str())
    }

    /// Every problem, by field: each section of the kind exactly once, with a heading of at
    /// most [`HEADING_MAX`] characters, a prompt of at most [`PROMPT_MAX`], default text of at
    /// most [`LONG_TEXT_MAX`] and only for sections that hold free text.
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        let wanted = self.kind.template_sections();
        for s in &wanted {
            let n = self.sections.iter().filter(|x| x.section == *s).count();
            if n == 0 {
                e.add(
                    template_field(*s, "heading"),
                    format!("The template has no \"{}\" section.", s.label()),
                );
            } else if n > 1 {
                e.add(
                    template_field(*s, "heading"),
                    format!("The \"{}\" section appears {n} times.", s.label()),
                );
            }
        }
        for x in &self.sections {
            let s = x.section;
            if !wanted.contains(&s) {
                e.add(
                    template_field(s, "heading"),
                    format!("{} has no \"{}\" section.", self.kind.label(), s.label()),
                );
                continue;
            }
            if x.heading.trim().is_empty() {
                e.add(template_field(s, "heading"), "Give the section a heading.");
            } else if x.heading.contains('\n') {
                e.add(template_field(s, "heading"), "A heading is one line.");
            } else if let Err(m) = short_text(&x.heading, HEADING_MAX) {
                e.add(template_field(s, "heading"), m);
            }
            if let Err(m) = short_text(&x.prompt, PROMPT_MAX) {
                e.add(template_field(s, "prompt"), m);
            }
            if !s.is_text() && !x.default_text.trim().is_empty() {
                e.add(
                    template_field(s, "default"),
                    "This section is filled in during the work, not from default text.",
                );
            } else if let Err(m) = short_text(&x.default_text, LONG_TEXT_MAX) {
                e.add(template_field(s, "default"), m);
            }
        }
        if e.is_empty() { Ok(()) } else { Err(e) }
    }

    /// Reads the admin form (the names [`template_field`] gives) into a checked template, in
    /// the kind's section order.
    pub fn from_form(kind: NoteKind, fields: &[(String, String)]) -> Result<Self, FieldErrors> {
        let get = |k: String| {
            fields
                .iter()
                .find(|(n, _)| *n == k)
                .map_or(String::new(), |(_, v)| v.clone())
        };
        let norm = |t: String| t.replace("\r\n", "\n").trim().to_owned();
        let t = NoteTemplate {
            kind,
            sections: kind
                .template_sections()
                .into_iter()
                .map(|s| SectionTemplate {
                    section: s,
                    heading: norm(get(template_field(s, "heading"))),
                    prompt: norm(get(template_field(s, "prompt"))),
                    default_text: norm(get(template_field(s, "default"))),
                })
                .collect(),
        };
        t.check().map(|()| t)
    }

    /// Kapstone's wording for a kind, used until the clinic saves its own.
    pub fn shipped(kind: NoteKind) -> NoteTemplate {
        use Section::*;
        let s =
            |section: Section, heading: &str, prompt: &str, default_text: &str| SectionTemplate {
                section,
                heading: heading.to_owned(),
                prompt: prompt.to_owned(),
                default_text: default_text.to_owned(),
            };
        let sections = match kind {
            NoteKind::Preparation => vec![
                s(
                    Intention,
                    "Intention",
                    "What the patient hopes to explore or change, in their own words (quote them).",
                    "",
                ),
                s(
                    Expectations,
                    "Expectations",
                    "What the patient expects of the medicine and the session; what was clarified.",
                    "",
                ),
                s(
                    Fears,
                    "Fears and concerns",
                    "What worries the patient about the session, and how it was addressed.",
                    "",
                ),
                s(
                    SupportPlan,
                    "Support plan",
                    "Who supports the patient after the session; what they will do if distressed; the crisis plan.",
                    "",
                ),
                s(
                    SetAndSetting,
                    "Set and setting",
                    "Mindset today, music, eye mask, what helps them feel safe in the room.",
                    "",
                ),
                s(FreeText, "Further notes", "", ""),
            ],
            NoteKind::InSession => vec![
                s(
                    Observations,
                    "Observations during the session",
                    "What you see and hear, as it happens, with the time.",
                    "",
                ),
                s(
                    Summary,
                    "Summary",
                    "How the session went, as the patient came out of it.",
                    "",
                ),
                s(FreeText, "Further notes", "", ""),
            ],
            NoteKind::Integration => vec![
                s(
                    Themes,
                    "Themes",
                    "What came up in the dosing session, as the patient tells it.",
                    "",
                ),
                s(
                    Insights,
                    "Insights",
                    "What the patient makes of it; what feels important now.",
                    "",
                ),
                s(
                    WhatChanged,
                    "What changed",
                    "Since the last session: mood, sleep, relationships, habits, thoughts.",
                    "",
                ),
                s(
                    Commitments,
                    "Commitments",
                    "Small, concrete steps the patient chooses, each with a date to look at it again.",
                    "",
                ),
                s(
                    Domains,
                    "Four ways KAP may help",
                    "What you observed in each, with an example.",
                    "",
                ),
                s(FreeText, "Further notes", "", ""),
            ],
            NoteKind::Progress => vec![
                s(Subjective, "Subjective", "What the patient reports.", ""),
                s(
                    Objective,
                    "Objective",
                    "What you observe; scores and measurements.",
                    "",
                ),
                s(
                    Data,
                    "Data",
                    "What the patient reports and what you observe.",
                    "",
                ),
                s(Assessment, "Assessment", "Your clinical impression.", ""),
                s(Plan, "Plan", "Next steps and the next session.", ""),
                s(FreeText, "Further notes", "", ""),
            ],
            NoteKind::Psychotherapy => vec![s(
                ProcessNotes,
                "Process notes",
                "Your own notes on the therapy process. They stay apart from the record: only you, and those you share them with, can read them.",
                "",
            )],
        };
        NoteTemplate { kind, sections }
    }
}
