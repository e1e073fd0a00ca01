//! Mentions: who a message calls on, resolved against the clinic's staff when it is posted.
//!
//! Two ways to mention someone, used together or alone:
//! - **the picker**: the clinic's clinicians as a list to tick (by id — never ambiguous);
//! - **the text**: `@` followed by the person's name as Kapstone has it, in any case, with or
//!   without accents (`@Priya Prescriber`, `@priya prescriber`), or as one word joined by dots
//!   (`@priya.prescriber`).
//!
//! An `@` starts a mention when it stands at the start of the text, after a space or an opening
//! bracket or quote, and is followed by a letter; so `a@b.org` and `@ 5pm` are not mentions.
//! The longest name that matches wins (`@Sam Lee` over `@Sam`). A mention that names no one,
//! names two people (unless the picker says which), or names someone who cannot read messages
//! (a coordinator, an administrator, someone no longer active) refuses the message with words
//! saying what to do — a mention is never silently dropped.

use super::{Member, Reference, message_text};
use crate::FieldErrors;
use crate::patient::fold;
use crate::permission::Role;
use uuid::Uuid;

/// Names are matched over at most this many words.
const MAX_NAME_WORDS: usize = 6;

/// What went wrong with one mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MentionProblem {
    /// No member of the clinic has this name; `suggestion` is the one member whose first name
    /// it is, if there is exactly one.
    Unknown {
        written: String,
        suggestion: Option<String>,
    },
    /// Several members have this name, and the picker did not say which.
    Ambiguous { written: String },
    /// The member cannot be mentioned (why is in their role or their account).
    NotMentionable {
        name: String,
        role: Role,
        active: bool,
    },
    /// The picker sent someone who is not a member of the clinic.
    NotOnList,
}

impl std::fmt::Display for MentionProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unknown {
                written,
                suggestion,
            } => {
                write!(f, "No one in this clinic is called “{written}”.")?;
                match suggestion {
                    Some(s) => write!(f, " Did you mean @{s}?"),
                    None => f.write_str(
                        " Write the name as the list of people to mention shows it, or tick them \
                         there. (An @ that is not a mention needs a space after it.)",
                    ),
                }
            }
            Self::Ambiguous { written } => write!(
                f,
                "More than one person in this clinic is called “{written}”: tick the one you \
                 mean in the list of people to mention."
            ),
            Self::NotOnList => f.write_str(
                "Someone ticked is not on this clinic's list of people to mention. Reload the \
                 page and tick them again.",
            ),
            Self::NotMentionable { name, role, active } => {
                if !active {
                    write!(
                        f,
                        "{name} no longer works in this clinic and cannot be mentioned."
                    )
                } else if *role == Role::Coordinator {
                    write!(
                        f,
                        "{name} cannot be mentioned: coordinators do not see care-team \
                         messages. Give them a task instead."
                    )
                } else {
                    write!(
                        f,
                        "{name} cannot be mentioned: their role does not see care-team messages."
                    )
                }
            }
        }
    }
}

/// One `@…` found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Byte offset of the `@`.
    pub at: usize,
    /// What was written, `@` included (e.g. `@Priya Prescriber`).
    pub written: String,
    /// Every member the written name matches (empty: no one).
    pub matches: Vec<Uuid>,
}

/// Whether an `@` after `prev` may start a mention.
fn starts_mention(prev: Option<char>) -> bool {
    match prev {
        None => true,
        Some(c) => c.is_whitespace() || "([{\"'“‘«<".contains(c),
    }
}

/// Characters that end a sentence or a clause rather than a name.
fn trim_trailing(word: &str) -> &str {
    let w = word.trim_end_matches(|c: char| ".,;:!?)]}\"'’”»>…".contains(c));
    // A possessive ("@Priya Prescriber's") names the person too.
    w.strip_suffix("'s")
        .or_else(|| w.strip_suffix("’s"))
        .unwrap_or(w)
}

/// The keys a member is found by: their folded name, and the same joined by dots.
fn keys(m: &Member) -> (String, String) {
    let name = fold(&m.name);
    let dotted = name.replace(' ', ".");
    (name, dotted)
}

/// Every `@…` of `text` and the members each could mean (none, one, or several).
pub fn find(text: &str, members: &[Member]) -> Vec<Found> {
    let keyed: Vec<(Uuid, String, String)> = members
        .iter()
        .map(|m| {
            let (a, b) = keys(m);
            (m.id, a, b)
        })
        .collect();
    let max_words = keyed
        .iter()
        .map(|(_, k, _)| k.split(' ').count())
        .max()
        .unwrap_or(1)
        .clamp(1, MAX_NAME_WORDS);
    let mut out = vec![];
    let mut prev: Option<char> = None;
    let mut skip_to = 0;
    for (i, c) in text.char_indices() {
        let before = prev;
        prev = Some(c);
        if i < skip_to || c != '@' || !starts_mention(before) {
            continue;
        }
        let rest = &text[i + 1..];
        if !rest.chars().next().is_some_and(char::is_alphabetic) {
            continue;
        }
        // The words after the @, on this line: (start, end) byte offsets within `rest`.
        let line = rest.split('\n').next().unwrap_or("");
        let mut words: Vec<(usize, usize)> = vec![];
        let mut start = None;
        for (j, ch) in line.char_indices() {
            match (ch.is_whitespace(), start) {
                (true, Some(s)) => {
                    words.push((s, j));
                    start = None;
                    if words.len() == max_words {
                        break;
                    }
                }
                (false, None) => start = Some(j),
                _ => {}
            }
        }
        if let Some(s) = start
            && words.len() < max_words
        {
            words.push((s, line.len()));
        }
        let mut found = None;
        for k in (1..=words.len()).rev() {
            let span = &line[..words[k - 1].1];
            let written = trim_trailing(span);
            let key = fold(written);
            if key.is_empty() {
                continue;
            }
            let matches: Vec<Uuid> = keyed
                .iter()
                .filter(|(_, name, dotted)| *name == key || (k == 1 && *dotted == key))
                .map(|(id, _, _)| *id)
                .collect();
            if !matches.is_empty() {
                found = Some((written.len(), matches));
                break;
            }
        }
        let (len, matches) = match found {
            Some(f) => f,
            None => {
                let first = words.first().map_or("", |(s, e)| &line[*s..*e]);
                (trim_trailing(first).len(), vec![])
            }
        };
        out.push(Found {
            at: i,
            written: format!("@{}", &rest[..len]),
            matches,
        });
        skip_to = i + 1 + len;
    }
    out
}

/// What a member must be to be mentioned; `Err` says why not.
fn mentionable(m: &Member) -> Result<Uuid, MentionProblem> {
    if m.may_be_mentioned() {
        Ok(m.id)
    } else {
        Err(MentionProblem::NotMentionable {
            name: m.name.clone(),
            role: m.role,
            active: m.active,
        })
    }
}

/// Resolves the mentions of a message: those written in `text` and those `picked` from the
/// list, against the clinic's `members`. Returns the people mentioned (each once, written ones
/// first, in order), or every problem found.
pub fn resolve(
    text: &str,
    picked: &[Uuid],
    members: &[Member],
) -> Result<Vec<Uuid>, Vec<MentionProblem>> {
    let by_id = |id: &Uuid| members.iter().find(|m| m.id == *id);
    let mut ids: Vec<Uuid> = vec![];
    let mut problems: Vec<MentionProblem> = vec![];
    let mut push = |r: Result<Uuid, MentionProblem>, ids: &mut Vec<Uuid>| match r {
        Ok(id) if !ids.contains(&id) => ids.push(id),
        Ok(_) => {}
        Err(p) if !problems.contains(&p) => problems.push(p),
        Err(_) => {}
    };
    for f in find(text, members) {
        let r = match f.matches.as_slice() {
            [] => {
                let first = fold(f.written.trim_start_matches('@'));
                let first = first.split(' ').next().unwrap_or("");
                let like: Vec<&Member> = members
                    .iter()
                    .filter(|m| m.may_be_mentioned())
                    .filter(|m| fold(&m.name).split(' ').next() == Some(first))
                    .collect();
                Err(MentionProblem::Unknown {
                    written: f.written,
                    suggestion: match like.as_slice() {
                        [one] => Some(one.name.clone()),
                        _ => None,
                    },
                })
            }
            [one] => by_id(one).map_or(
                Err(MentionProblem::Unknown {
                    written: f.written.clone(),
                    suggestion: None,
                }),
                mentionable,
            ),
            several => {
                let chosen: Vec<&Uuid> = several.iter().filter(|id| picked.contains(id)).collect();
                match chosen.as_slice() {
                    [one] => by_id(one).map_or(
                        Err(MentionProblem::Ambiguous {
                            written: f.written.clone(),
                        }),
                        mentionable,
                    ),
                    _ => Err(MentionProblem::Ambiguous { written: f.written }),
                }
            }
        };
        push(r, &mut ids);
    }
    let mut picked_problems = vec![];
    for id in picked {
        match by_id(id) {
            Some(m) => match mentionable(m) {
                Ok(id) => {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                Err(p) => picked_problems.push(p),
            },
            None => picked_problems.push(MentionProblem::NotOnList),
        }
    }
    if problems.is_empty() && picked_problems.is_empty() {
        Ok(ids)
    } else {
        problems.extend(picked_problems);
        Err(problems)
    }
}

/// A message as typed: its text, the people ticked in the picker, and an optional link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageForm {
    pub text: String,
    pub picked: Vec<Uuid>,
    pub link: String,
}

/// A checked message, ready to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub text: String,
    /// The people mentioned, each once, all of them members who may be mentioned.
    pub mentions: Vec<Uuid>,
    pub reference: Option<Reference>,
}

/// Checks a message against the clinic's staff: the text (see [`super::message_text`]), every
/// mention written or picked, the link. Problems are reported per field: `text` (the text and
/// the mentions written in it), `mentions` (the picker), `link`.
pub fn compose(form: &MessageForm, members: &[Member]) -> Result<NewMessage, FieldErrors> {
    let mut e = FieldErrors::new();
    let text = e.check("text", message_text(&form.text));
    let mentions = match resolve(text.as_deref().unwrap_or(&form.text), &form.picked, members) {
        Ok(ids) => Some(ids),
        Err(problems) => {
            let in_text: Vec<String> = problems
                .iter()
                .filter(|p| !is_picker_problem(p, &form.picked, members))
                .map(ToString::to_string)
                .collect();
            let in_picker: Vec<String> = problems
                .iter()
                .filter(|p| is_picker_problem(p, &form.picked, members))
                .map(ToString::to_string)
                .collect();
            if !in_text.is_empty() && text.is_some() {
                e.add("text", in_text.join(" "));
            }
            if !in_picker.is_empty() {
                e.add("mentions", in_picker.join(" "));
            }
            None
        }
    };
    let reference = e.check("link", Reference::parse(&form.link));
    match (text, mentions, reference) {
        (Some(text), Some(mentions), Some(reference)) if e.is_empty() => Ok(NewMessage {
            text,
            mentions,
            reference,
        }),
        _ => Err(e),
    }
}

/// Whether a problem comes from the picker rather than the text.
fn is_picker_problem(p: &MentionProblem, picked: &[Uuid], members: &[Member]) -> bool {
    match p {
        MentionProblem::NotOnList => true,
        MentionProblem::Unknown { .. } | MentionProblem::Ambiguous { .. } => false,
        MentionProblem::NotMentionable { name, .. } => members
            .iter()
            .any(|m| picked.contains(&m.id) && m.name == *name),
    }
}
