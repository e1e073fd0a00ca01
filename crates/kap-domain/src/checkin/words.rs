//! The free-text screen: words about self-harm, suicide or not wanting to live in what a
//! patient wrote raise an urgent alert, and the patient is shown the clinic's crisis resources
//! at once.
//!
//! **A screen, not a reading.** It looks for the phrases in [`PHRASES`] and nothing else: it
//! misses what is said another way, in another language or misspelled, and it flags phrases
//! that are negated ("I am not suicidal") or about someone else. It errs towards flagging:
//! a clinician reads every check-in, flagged or not, and marks it seen. Nothing in Kapstone
//! treats "no words found" as "no risk".
//!
//! Matching is case- and accent-insensitive (the text is folded as patient search folds
//! names: "SUICÍDIO" reads as "suicidio"), punctuation separates words, apostrophes are
//! dropped ("don't" reads as "dont"), and a phrase matches whole words in order — its last
//! word may be a stem (`suicid*` matches "suicide", "suicidal", "suicidio"). The list is in
//! English, with the commonest Spanish phrases because patients write in their own words.
//! PHQ-9 item 9 and the NIMH ASQ remain the validated questions (clinical.md §11).

use crate::patient::fold;

/// The phrases screened for, folded; a trailing `*` makes the last word a stem.
pub const PHRASES: &[&str] = &[
    // Suicide, by name.
    "suicid*",
    "kill myself",
    "killing myself",
    "kill my self",
    "end my life",
    "ending my life",
    "end it all",
    "take my life",
    "take my own life",
    "taking my life",
    // Wishing to be dead, not wanting to live.
    "want to die",
    "wanna die",
    "wanted to die",
    "wish i was dead",
    "wish i were dead",
    "wish i could die",
    "better off dead",
    "better off without me",
    "no reason to live",
    "nothing to live for",
    "not worth living",
    "dont want to live",
    "do not want to live",
    "dont want to be alive",
    "do not want to be alive",
    "dont want to be here anymore",
    "dont want to wake up",
    "do not want to wake up",
    "cant go on like this",
    "cant go on anymore",
    "cannot go on like this",
    "cannot go on anymore",
    // Self-harm and means.
    "hurt myself",
    "hurting myself",
    "harm myself",
    "harming myself",
    "self harm*",
    "selfharm*",
    "cut myself",
    "cutting myself",
    "overdos*",
    "hang myself",
    "hanging myself",
    // Spanish.
    "matarme",
    "quitarme la vida",
    "quiero morir*",
    "no quiero vivir",
    "hacerme dano",
    "lastimarme",
];

/// The words of a text as the screen reads them: folded, apostrophes dropped, anything that
/// is not a letter or a digit a separator.
pub fn words_of(text: &str) -> Vec<String> {
    let folded = fold(text);
    let mut words = vec![];
    let mut cur = String::new();
    for c in folded.chars() {
        if c == '\'' {
            continue;
        }
        if c.is_alphanumeric() {
            cur.push(c);
        } else if !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn word_matches(pattern: &str, word: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(stem) => word.starts_with(stem),
        None => pattern == word,
    }
}

/// The phrases of [`PHRASES`] found in `text`, in list order, each once.
pub fn worrying_phrases(text: &str) -> Vec<&'static str> {
    let words = words_of(text);
    PHRASES
        .iter()
        .copied()
        .filter(|phrase| {
            let pat: Vec<&str> = phrase.split(' ').collect();
            words
                .windows(pat.len())
                .any(|w| w.iter().zip(&pat).all(|(w, p)| word_matches(p, w)))
        })
        .collect()
}
