//! Notes: the form and its limits, what signing needs, the lock (property tests: whatever is
//! tried on a signed note, it stays as signed; addenda only append, in order; the hash is
//! stable and changes with any change of content; co-signature only by the supervisor, once),
//! templates, settings, access and commitments.

use super::access::{may_receive_share, may_see_psychotherapy, may_write};
use super::commitment::parse_review;
use super::content::{COMMITMENT_MAX, commitment_field, domain_field, one_line, unobserved};
use super::settings::SHIPPED_UNSIGNED_AFTER_HOURS;
use super::template::template_field;
use super::*;
use crate::Role;
use crate::audit::ActorKind;
use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

const AUTHOR: Uuid = Uuid::from_u128(0x10);
const SUPERVISOR: Uuid = Uuid::from_u128(0x20);
const OTHER: Uuid = Uuid::from_u128(0x30);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0)
        .single()
        .unwrap_or_default()
}

fn today() -> NaiveDate {
    t0().date_naive()
}

fn who(id: Uuid, name: &str) -> Clinician {
    Clinician {
        id,
        name: name.to_owned(),
    }
}

fn draft(kind: NoteKind, content: NoteContent) -> Note {
    Note {
        id: Uuid::from_u128(0xA0),
        patient_id: Uuid::from_u128(0xB0),
        kind,
        author: who(AUTHOR, "Theo Therapist"),
        appointment_id: Some(Uuid::from_u128(0xC0)),
        dosing_session_id: None,
        course_id: Some(Uuid::from_u128(0xD0)),
        template_version: 1,
        content,
        created_at: t0(),
        updated_at: t0(),
        signature: None,
        cosigner: None,
        cosignature: None,
        addenda: vec![],
        discarded_at: None,
    }
}

fn texts(pairs: &[(Section, &str)]) -> BTreeMap<Section, String> {
    pairs.iter().map(|(s, t)| (*s, (*t).to_owned())).collect()
}

fn preparation(intention: &str) -> Note {
    draft(
        NoteKind::Preparation,
        NoteContent {
            texts: texts(&[(Section::Intention, intention)]),
            ..NoteContent::default()
        },
    )
}

fn form(pairs: &[(&str, &str)]) -> NoteForm {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    NoteForm::from_pairs(&owned)
}

// ---------------------------------------------------------------------------------------------
// The form
// ---------------------------------------------------------------------------------------------

#[test]
fn a_preparation_form_keeps_its_sections_and_ignores_other_kinds_sections() {
    let c = form(&[
        (
            "intention",
            "  To stop bracing for bad news all the time \r\n",
        ),
        ("fears", "Losing control"),
        ("themes", "not a preparation section"),
    ])
    .parse(NoteKind::Preparation, today())
    .expect("parses");
    assert_eq!(
        c.text(Section::Intention),
        "To stop bracing for bad news all the time"
    );
    assert_eq!(c.text(Section::Fears), "Losing control");
    assert_eq!(c.text(Section::Themes), "");
    assert!(c.commitments.is_empty() && c.domains.is_empty());
}

#[test]
fn every_section_beyond_the_limit_is_named_and_nothing_is_kept() {
    let long = "x".repeat(LONG_TEXT_MAX + 1);
    let e = form(&[
        ("intention", &long),
        ("expectations", "fine"),
        ("fears", &long),
    ])
    .parse(NoteKind::Preparation, today())
    .expect_err("refused");
    assert!(e.get("intention").is_some_and(|m| m.contains("20,000")));
    assert!(e.get("fears").is_some());
    assert!(e.get("expectations").is_none());
}

#[test]
fn commitments_need_text_and_a_follow_up_date_not_passed_and_within_a_year() {
    let tomorrow = (today() + Duration::days(1)).to_string();
    let yesterday = (today() - Duration::days(1)).to_string();
    let far = (today() + Duration::days(400)).to_string();
    let long = "y".repeat(COMMITMENT_MAX + 1);
    let f = form(&[
        ("themes", "Grief for her father"),
        (&commitment_field(0, "text"), "Call my sister on Sundays"),
        (&commitment_field(0, "date"), &tomorrow),
        (&commitment_field(1, "text"), "Walk daily"),
        (&commitment_field(1, "date"), ""),
        (&commitment_field(2, "text"), ""),
        (&commitment_field(2, "date"), &yesterday),
        (&commitment_field(3, "text"), "Journal"),
        (&commitment_field(3, "date"), &far),
        (&commitment_field(4, "text"), &long),
        (&commitment_field(4, "date"), &tomorrow),
        (&commitment_field(5, "text"), ""),
        (&commitment_field(5, "date"), ""),
    ]);
    let e = f
        .parse(NoteKind::Integration, today())
        .expect_err("refused");
    assert!(e.get(&commitment_field(0, "text")).is_none());
    assert!(e.get(&commitment_field(1, "date")).is_some());
    assert!(e.get(&commitment_field(2, "text")).is_some());
    assert!(
        e.get(&commitment_field(2, "date"))
            .is_some_and(|m| m.contains("passed"))
    );
    assert!(
        e.get(&commitment_field(3, "date"))
            .is_some_and(|m| m.contains("year"))
    );
    assert!(
        e.get(&commitment_field(4, "text"))
            .is_some_and(|m| m.contains("500"))
    );
    assert!(e.get(&commitment_field(5, "text")).is_none());
}

#[test]
fn an_integration_note_always_has_the_four_domains_in_order() {
    let c = form(&[
        ("themes", "Shame about work"),
        (&domain_field(Domain::SelfTalk, "level"), "clear"),
        (
            &domain_field(Domain::SelfTalk, "text"),
            "Caught 'I'm useless' and softened it twice",
        ),
    ])
    .parse(NoteKind::Integration, today())
    .expect("parses");
    assert_eq!(
        c.domains.iter().map(|d| d.domain).collect::<Vec<_>>(),
        Domain::ALL.to_vec()
    );
    assert_eq!(
        c.domain(Domain::SelfTalk).map(|d| d.level),
        Some(Level::Clear)
    );
    assert_eq!(
        c.domain(Domain::EmotionalWindow).map(|d| d.level),
        Some(Level::NotObserved)
    );
    let e = form(&[(&domain_field(Domain::FollowThrough, "level"), "plenty")])
        .parse(NoteKind::Integration, today())
        .expect_err("refused");
    assert!(
        e.get(&domain_field(Domain::FollowThrough, "level"))
            .is_some()
    );
}

#[test]
fn a_progress_note_takes_its_format_and_only_that_formats_sections() {
    let c = form(&[
        ("format", "dap"),
        ("data", "Slept 7 h"),
        ("subjective", "x"),
    ])
    .parse(NoteKind::Progress, today())
    .expect("parses");
    assert_eq!(c.format, Some(ProgressFormat::Dap));
    assert_eq!(c.text(Section::Data), "Slept 7 h");
    assert_eq!(c.text(Section::Subjective), "");
    let soap = form(&[]).parse(NoteKind::Progress, today()).expect("soap");
    assert_eq!(soap.format, Some(ProgressFormat::Soap));
    assert!(
        form(&[("format", "birp")])
            .parse(NoteKind::Progress, today())
            .is_err()
    );
}

// ---------------------------------------------------------------------------------------------
// Signing, what it needs, and who
// ---------------------------------------------------------------------------------------------

#[test]
fn each_kind_says_what_it_needs_before_signing() {
    let empty = NoteContent::default();
    assert!(
        empty
            .missing_for_signing(NoteKind::Preparation)
            .get("intention")
            .is_some()
    );
    assert!(
        empty
            .missing_for_signing(NoteKind::InSession)
            .get("summary")
            .is_some()
    );
    assert!(
        empty
            .missing_for_signing(NoteKind::Integration)
            .get("themes")
            .is_some()
    );
    assert!(
        empty
            .missing_for_signing(NoteKind::Psychotherapy)
            .get("process_notes")
            .is_some()
    );
    let soap = NoteContent {
        format: Some(ProgressFormat::Soap),
        texts: texts(&[(Section::Subjective, "a"), (Section::Objective, "b")]),
        ..NoteContent::default()
    };
    let m = soap.missing_for_signing(NoteKind::Progress);
    assert!(m.get("assessment").is_some() && m.get("plan").is_some());
    assert!(m.get("subjective").is_none() && m.get("free_text").is_none());
    let with_observation = NoteContent {
        observations: vec![TimedObservation {
            at: t0(),
            text: "Eyes closed, breathing slow".into(),
        }],
        ..NoteContent::default()
    };
    assert!(
        with_observation
            .missing_for_signing(NoteKind::InSession)
            .is_empty()
    );
}

#[test]
fn signing_another_persons_note_is_refused_naming_the_author() {
    let mut n = preparation("To feel my feelings without drowning");
    let before = n.clone();
    let r = n.sign(OTHER, None, t0());
    assert_eq!(
        r,
        Err(NoteRefused::NotAuthor {
            author: "Theo Therapist".into(),
            what: "sign it"
        })
    );
    assert_eq!(n, before);
    assert!(
        r.err()
            .is_some_and(|e| e.to_string().contains("Theo Therapist"))
    );
}

#[test]
fn an_incomplete_note_is_not_signed() {
    let mut n = preparation("");
    n.content.texts.clear();
    assert!(matches!(
        n.sign(AUTHOR, None, t0()),
        Err(NoteRefused::Incomplete(_))
    ));
    assert_eq!(n.status(), NoteStatus::Draft);
}

#[test]
fn a_supervised_authors_note_waits_for_that_supervisor_only_and_once() {
    let mut n = preparation("To be kinder to myself");
    n.sign(AUTHOR, Some(who(SUPERVISOR, "Priya Prescriber")), t0())
        .expect("signed");
    assert_eq!(n.status(), NoteStatus::AwaitingCosignature);
    let r = n.cosign(&who(OTHER, "Someone Else"), t0());
    assert_eq!(
        r,
        Err(NoteRefused::NotTheSupervisor {
            supervisor: "Priya Prescriber".into()
        })
    );
    assert_eq!(
        n.cosign(&who(AUTHOR, "Theo Therapist"), t0()),
        Err(NoteRefused::NotTheSupervisor {
            supervisor: "Priya Prescriber".into()
        })
    );
    n.cosign(
        &who(SUPERVISOR, "Priya Prescriber"),
        t0() + Duration::hours(2),
    )
    .expect("co-signed");
    assert_eq!(n.status(), NoteStatus::Signed);
    assert_eq!(
        n.cosign(&who(SUPERVISOR, "Priya Prescriber"), t0()),
        Err(NoteRefused::AlreadyCosigned)
    );
    assert_eq!(n.verify(), Some(true), "co-signing changes no content");
}

#[test]
fn an_unsupervised_note_and_a_draft_take_no_cosignature() {
    let mut n = preparation("x");
    assert_eq!(
        n.cosign(&who(SUPERVISOR, "P"), t0()),
        Err(NoteRefused::Draft)
    );
    n.sign(AUTHOR, None, t0()).expect("signed");
    assert_eq!(n.status(), NoteStatus::Signed);
    assert_eq!(
        n.cosign(&who(SUPERVISOR, "P"), t0()),
        Err(NoteRefused::NoCosignatureNeeded)
    );
}

#[test]
fn a_psychotherapy_note_is_never_sent_for_cosignature_and_takes_only_its_authors_addenda() {
    let mut n = draft(
        NoteKind::Psychotherapy,
        NoteContent {
            texts: texts(&[(Section::ProcessNotes, "Transference again today")]),
            ..NoteContent::default()
        },
    );
    n.sign(AUTHOR, Some(who(SUPERVISOR, "P")), t0())
        .expect("signed");
    assert_eq!(n.status(), NoteStatus::Signed);
    assert_eq!(n.cosigner, None);
    assert_eq!(
        n.add_addendum(Uuid::nil(), &who(OTHER, "O"), "r", "t", t0())
            .err(),
        Some(NoteRefused::PsychotherapyAuthorOnly)
    );
    assert!(
        n.add_addendum(Uuid::nil(), &who(AUTHOR, "A"), "r", "t", t0())
            .is_ok()
    );
}

#[test]
fn observations_go_only_to_an_in_session_draft_in_time_order_and_not_in_the_future() {
    let mut n = draft(NoteKind::InSession, NoteContent::default());
    n.observe(
        AUTHOR,
        "Tearful, then calm",
        t0() + Duration::minutes(30),
        t0() + Duration::hours(1),
    )
    .expect("observed");
    n.observe(
        AUTHOR,
        "Settling in",
        t0() + Duration::minutes(5),
        t0() + Duration::hours(1),
    )
    .expect("observed");
    let at: Vec<_> = n.content.observations.iter().map(|o| o.at).collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]));
    assert!(matches!(
        n.observe(AUTHOR, "later", t0() + Duration::hours(3), t0()),
        Err(NoteRefused::Invalid(_))
    ));
    assert!(matches!(
        n.observe(OTHER, "mine", t0(), t0()),
        Err(NoteRefused::NotAuthor { .. })
    ));
    let mut p = preparation("x");
    assert_eq!(
        p.observe(AUTHOR, "x", t0(), t0()),
        Err(NoteRefused::NotInSession)
    );
    // Saving the draft's other sections keeps the observations.
    n.edit(
        AUTHOR,
        NoteContent {
            texts: texts(&[(Section::Summary, "Gentle session")]),
            ..NoteContent::default()
        },
        t0(),
    )
    .expect("saved");
    assert_eq!(n.content.observations.len(), 2);
}

#[test]
fn a_discarded_draft_takes_nothing_more() {
    let mut n = preparation("x");
    assert!(matches!(
        n.discard(OTHER, t0()),
        Err(NoteRefused::NotAuthor { .. })
    ));
    n.discard(AUTHOR, t0()).expect("discarded");
    assert_eq!(n.sign(AUTHOR, None, t0()), Err(NoteRefused::Discarded));
    assert_eq!(
        n.edit(AUTHOR, NoteContent::default(), t0()),
        Err(NoteRefused::Discarded)
    );
}

#[test]
fn an_addendum_needs_a_reason_and_text_within_the_limits() {
    let mut n = preparation("x");
    n.sign(AUTHOR, None, t0()).expect("signed");
    let Err(NoteRefused::Invalid(e)) = n.add_addendum(Uuid::nil(), &who(OTHER, "O"), " ", "", t0())
    else {
        panic!("refused");
    };
    assert!(e.get("reason").is_some() && e.get("text").is_some());
    let long = "z".repeat(LONG_TEXT_MAX + 1);
    let Err(NoteRefused::Invalid(e)) =
        n.add_addendum(Uuid::nil(), &who(OTHER, "O"), "Late entry", &long, t0())
    else {
        panic!("refused");
    };
    assert!(e.get("text").is_some_and(|m| m.contains("20,000")));
    assert!(n.addenda.is_empty());
}

#[test]
fn the_hash_covers_the_header_and_is_recomputable() {
    let mut n = preparation("To rest");
    n.sign(AUTHOR, None, t0()).expect("signed");
    let h = n
        .signature
        .clone()
        .map(|s| s.content_hash)
        .unwrap_or_default();
    assert_eq!(h.len(), 64);
    assert_eq!(n.verify(), Some(true));
    let mut moved = n.clone();
    moved.appointment_id = None;
    assert_eq!(moved.verify(), Some(false));
    let mut other_patient = n.clone();
    other_patient.patient_id = Uuid::from_u128(0xB1);
    assert_eq!(other_patient.verify(), Some(false));
}

// ---------------------------------------------------------------------------------------------
// Property tests: the lock
// ---------------------------------------------------------------------------------------------

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-zA-Z ,.'é—\n]{1,40}",
        "[\\PC]{1,20}",
    ]
}

fn any_content(kind: NoteKind) -> impl Strategy<Value = NoteContent> {
    let format = prop_oneof![Just(ProgressFormat::Soap), Just(ProgressFormat::Dap)];
    (
        format,
        proptest::collection::vec(any_text(), 6),
        proptest::collection::vec((any_text(), 0i64..300), 0..4),
        proptest::collection::vec((any_text(), 0i64..200), 0..3),
        proptest::collection::vec((0usize..3, any_text()), 4),
    )
        .prop_map(move |(format, words, obs, comm, doms)| {
            let format = (kind == NoteKind::Progress).then_some(format);
            let sections: Vec<Section> = kind
                .sections(format)
                .into_iter()
                .filter(|s| s.is_text())
                .collect();
            let mut texts: BTreeMap<Section, String> = sections
                .iter()
                .zip(words.iter())
                .filter(|(_, t)| !t.is_empty())
                .map(|(s, t)| (*s, t.clone()))
                .collect();
            // Always complete enough to sign.
            for s in kind.sections(format) {
                if s.is_text() && s != Section::FreeText {
                    texts.entry(s).or_insert_with(|| "written".into());
                }
            }
            NoteContent {
                format,
                texts,
                observations: if kind == NoteKind::InSession {
                    let mut o: Vec<TimedObservation> = obs
                        .into_iter()
                        .map(|(text, m)| TimedObservation {
                            at: t0() + Duration::minutes(m),
                            text: if text.is_empty() { "seen".into() } else { text },
                        })
                        .collect();
                    o.sort_by_key(|x| x.at);
                    o
                } else {
                    vec![]
                },
                commitments: if kind == NoteKind::Integration {
                    comm.into_iter()
                        .map(|(text, d)| PlannedCommitment {
                            text: if text.is_empty() { "walk".into() } else { text },
                            follow_up: today() + Duration::days(d),
                        })
                        .collect()
                } else {
                    vec![]
                },
                domains: if kind == NoteKind::Integration {
                    doms.into_iter()
                        .zip(Domain::ALL)
                        .map(|((l, text), domain)| DomainObservation {
                            domain,
                            level: Level::ALL[l],
                            text,
                        })
                        .collect()
                } else {
                    vec![]
                },
            }
        })
}

fn any_note() -> impl Strategy<Value = Note> {
    proptest::sample::select(NoteKind::ALL.to_vec())
        .prop_flat_map(|k| any_content(k).prop_map(move |c| draft(k, c)))
}

/// Something anyone might try on a note.
#[derive(Debug, Clone)]
enum Attempt {
    Edit(Uuid, NoteContent),
    Observe(Uuid, String),
    Discard(Uuid),
    Sign(Uuid),
    Addendum(Uuid, String, String),
    Cosign(Uuid),
}

fn any_person() -> impl Strategy<Value = Uuid> {
    prop_oneof![Just(AUTHOR), Just(SUPERVISOR), Just(OTHER)]
}

fn any_attempt() -> impl Strategy<Value = Attempt> {
    prop_oneof![
        (any_person(), any_content(NoteKind::Preparation)).prop_map(|(p, c)| Attempt::Edit(p, c)),
        (any_person(), any_text()).prop_map(|(p, t)| Attempt::Observe(p, t)),
        any_person().prop_map(Attempt::Discard),
        any_person().prop_map(Attempt::Sign),
        (any_person(), any_text(), any_text()).prop_map(|(p, r, t)| Attempt::Addendum(p, r, t)),
        any_person().prop_map(Attempt::Cosign),
    ]
}

fn name_of(id: Uuid) -> &'static str {
    match id {
        AUTHOR => "Theo Therapist",
        SUPERVISOR => "Priya Prescriber",
        _ => "Someone Else",
    }
}

/// Tries `a` on `n` at `now`; whether it was allowed.
fn attempt(n: &mut Note, a: &Attempt, now: DateTime<Utc>, seq: u128) -> bool {
    match a {
        Attempt::Edit(p, c) => n.edit(*p, c.clone(), now).is_ok(),
        Attempt::Observe(p, t) => n.observe(*p, t, now, now).is_ok(),
        Attempt::Discard(p) => n.discard(*p, now).is_ok(),
        Attempt::Sign(p) => n
            .sign(*p, Some(who(SUPERVISOR, name_of(SUPERVISOR))), now)
            .is_ok(),
        Attempt::Addendum(p, r, t) => n
            .add_addendum(Uuid::from_u128(seq), &who(*p, name_of(*p)), r, t, now)
            .is_ok(),
        Attempt::Cosign(p) => n.cosign(&who(*p, name_of(*p)), now).is_ok(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn whatever_is_tried_on_a_signed_note_its_content_and_signature_never_change(
        mut note in any_note(),
        attempts in proptest::collection::vec(any_attempt(), 1..25),
    ) {
        note.sign(AUTHOR, Some(who(SUPERVISOR, "Priya Prescriber")), t0()).expect("complete");
        let signed = note.clone();
        for (i, a) in attempts.iter().enumerate() {
            let now = t0() + Duration::minutes(i as i64 + 1);
            let before = note.clone();
            let allowed = attempt(&mut note, a, now, i as u128 + 1);
            // What may happen to a signed note: an addendum, or the supervisor's co-signature.
            match a {
                Attempt::Edit(..) | Attempt::Observe(..) | Attempt::Discard(_) | Attempt::Sign(_) => {
                    prop_assert!(!allowed, "{a:?} was allowed on a signed note");
                    prop_assert_eq!(&note, &before);
                }
                Attempt::Addendum(..) | Attempt::Cosign(_) => {
                    if !allowed { prop_assert_eq!(&note, &before); }
                }
            }
            prop_assert_eq!(&note.content, &signed.content);
            prop_assert_eq!(&note.signature, &signed.signature);
            prop_assert_eq!(&note.cosigner, &signed.cosigner);
            prop_assert_eq!(note.discarded_at, None);
            prop_assert_eq!(note.verify(), Some(true));
        }
    }

    #[test]
    fn addenda_only_append_in_order_and_earlier_ones_never_change(
        mut note in any_note(),
        attempts in proptest::collection::vec(any_attempt(), 1..30),
        clock in proptest::collection::vec(-30i64..60, 30),
    ) {
        note.sign(AUTHOR, None, t0()).expect("complete");
        let mut seen: Vec<Addendum> = vec![];
        for (i, a) in attempts.iter().enumerate() {
            // The clock may even go backwards; order is still the order written.
            let now = t0() + Duration::minutes(clock[i % clock.len()] + i as i64);
            let allowed = attempt(&mut note, a, now, i as u128 + 1);
            let added = matches!(a, Attempt::Addendum(..)) && allowed;
            prop_assert_eq!(note.addenda.len(), seen.len() + usize::from(added));
            prop_assert_eq!(&note.addenda[..seen.len()], &seen[..]);
            if added {
                let last = note.addenda.last().cloned().expect("appended");
                prop_assert_eq!(last.id, Uuid::from_u128(i as u128 + 1));
                prop_assert!(seen.last().is_none_or(|p| p.at <= last.at));
                seen.push(last);
            }
        }
    }

    #[test]
    fn the_hash_is_stable_and_changes_with_any_change_of_content(
        note in any_note(),
        section_pick in 0usize..8,
        extra in "[a-z]{1,5}",
    ) {
        let a = note.content_hash_at(t0());
        prop_assert_eq!(&a, &note.clone().content_hash_at(t0()));
        prop_assert_eq!(a.len(), 64);
        // One change anywhere in the content.
        let mut changed = note.clone();
        let text_sections: Vec<Section> = note.kind.sections(note.content.format)
            .into_iter().filter(|s| s.is_text()).collect();
        let s = text_sections[section_pick % text_sections.len()];
        let mut t = changed.content.text(s).to_owned();
        t.push_str(&extra);
        changed.content.texts.insert(s, t);
        prop_assert_ne!(&a, &changed.content_hash_at(t0()));
        if let Some(o) = note.content.observations.first() {
            let mut c = note.clone();
            c.content.observations[0].at = o.at + Duration::seconds(1);
            prop_assert_ne!(&a, &c.content_hash_at(t0()));
        }
        if !note.content.commitments.is_empty() {
            let mut c = note.clone();
            c.content.commitments[0].follow_up += Duration::days(1);
            prop_assert_ne!(&a, &c.content_hash_at(t0()));
        }
        if !note.content.domains.is_empty() {
            let mut c = note.clone();
            let d = &mut c.content.domains[section_pick % 4];
            d.level = match d.level { Level::Clear => Level::Some, _ => Level::Clear };
            prop_assert_ne!(&a, &c.content_hash_at(t0()));
        }
        // Moving text from one section to the next is a change too.
        if text_sections.len() >= 2 {
            let mut c = note.clone();
            let (x, y) = (text_sections[0], text_sections[1]);
            let joined = format!("{}{}", c.content.text(x), c.content.text(y));
            c.content.texts.insert(x, String::new());
            c.content.texts.insert(y, joined);
            if c.content != note.content {
                prop_assert_ne!(&a, &c.content_hash_at(t0()));
            }
        }
        prop_assert_ne!(&a, &note.content_hash_at(t0() + Duration::microseconds(1)));
    }

    #[test]
    fn cosignature_is_given_only_by_the_supervisor_and_only_once(
        mut note in any_note(),
        tries in proptest::collection::vec(any_person(), 1..12),
    ) {
        prop_assume!(!note.kind.is_psychotherapy());
        note.sign(AUTHOR, Some(who(SUPERVISOR, "Priya Prescriber")), t0()).expect("complete");
        let mut cosigned = 0;
        for (i, p) in tries.iter().enumerate() {
            let ok = note.cosign(&who(*p, name_of(*p)), t0() + Duration::minutes(i as i64)).is_ok();
            if ok {
                prop_assert_eq!(*p, SUPERVISOR);
                cosigned += 1;
            }
        }
        prop_assert!(cosigned <= 1);
        prop_assert_eq!(cosigned == 1, tries.contains(&SUPERVISOR));
        prop_assert_eq!(
            note.status(),
            if cosigned == 1 { NoteStatus::Signed } else { NoteStatus::AwaitingCosignature }
        );
        if let Some(c) = &note.cosignature { prop_assert_eq!(c.by.id, SUPERVISOR); }
    }

    #[test]
    fn the_form_never_truncates_text_it_accepts(
        words in "[\\PC]{0,60}",
    ) {
        let f = form(&[("intention", &words)]);
        let c = f.parse(NoteKind::Preparation, today()).expect("short text parses");
        let expected = words.replace("\r\n", "\n").replace('\r', "\n").trim().to_owned();
        prop_assert_eq!(c.text(Section::Intention), expected.as_str());
    }
}

// ---------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------

#[test]
fn every_shipped_template_is_valid_and_covers_its_kinds_sections() {
    for k in NoteKind::ALL {
        let t = NoteTemplate::shipped(k);
        assert_eq!(t.check(), Ok(()), "{k}");
        for s in k.template_sections() {
            assert!(!t.heading(s).is_empty(), "{k} {s}");
        }
    }
}

#[test]
fn a_bad_template_is_refused_field_by_field() {
    let kind = NoteKind::Preparation;
    let mut fields: Vec<(String, String)> = vec![];
    for s in kind.template_sections() {
        fields.push((template_field(s, "heading"), s.label().to_owned()));
    }
    fields[0].1 = " ".into();
    fields.push((
        template_field(Section::Fears, "prompt"),
        "p".repeat(super::template::PROMPT_MAX + 1),
    ));
    fields.push((
        template_field(Section::Expectations, "default"),
        "d".repeat(LONG_TEXT_MAX + 1),
    ));
    let e = NoteTemplate::from_form(kind, &fields).expect_err("refused");
    assert!(
        e.get(&template_field(Section::Intention, "heading"))
            .is_some()
    );
    assert!(e.get(&template_field(Section::Fears, "prompt")).is_some());
    assert!(
        e.get(&template_field(Section::Expectations, "default"))
            .is_some()
    );
    // A section of another kind, a missing one, a duplicate, a structured section with text.
    let mut t = NoteTemplate::shipped(NoteKind::Integration);
    t.sections.retain(|s| s.section != Section::Insights);
    t.sections.push(t.sections[0].clone());
    t.sections.push(SectionTemplate {
        section: Section::Plan,
        heading: "Plan".into(),
        prompt: String::new(),
        default_text: String::new(),
    });
    if let Some(c) = t
        .sections
        .iter_mut()
        .find(|s| s.section == Section::Commitments)
    {
        c.default_text = "Walk daily".into();
    }
    let e = t.check().expect_err("refused");
    assert!(
        e.get(&template_field(Section::Insights, "heading"))
            .is_some()
    );
    assert!(e.get(&template_field(Section::Themes, "heading")).is_some());
    assert!(e.get(&template_field(Section::Plan, "heading")).is_some());
    assert!(
        e.get(&template_field(Section::Commitments, "default"))
            .is_some()
    );
}

#[test]
fn a_new_note_starts_from_its_templates_default_texts() {
    let mut t = NoteTemplate::shipped(NoteKind::Preparation);
    if let Some(s) = t
        .sections
        .iter_mut()
        .find(|s| s.section == Section::SetAndSetting)
    {
        s.default_text = "Music: clinic playlist. Eye mask offered.".into();
    }
    let c = NoteContent::from_template(NoteKind::Preparation, None, &t);
    assert_eq!(
        c.text(Section::SetAndSetting),
        "Music: clinic playlist. Eye mask offered."
    );
    let i = NoteContent::from_template(
        NoteKind::Integration,
        None,
        &NoteTemplate::shipped(NoteKind::Integration),
    );
    assert_eq!(i.domains, unobserved());
    let p = NoteContent::from_template(
        NoteKind::Progress,
        Some(ProgressFormat::Dap),
        &NoteTemplate::shipped(NoteKind::Progress),
    );
    assert_eq!(p.format, Some(ProgressFormat::Dap));
}

// ---------------------------------------------------------------------------------------------
// Settings, access, commitments, summaries
// ---------------------------------------------------------------------------------------------

fn pairs(p: &[(&str, String)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[test]
fn the_shipped_limit_is_the_issues_72_hours_and_overdue_means_older_than_it() {
    let s = NotesSettings::default();
    assert_eq!(s.unsigned_after_hours, SHIPPED_UNSIGNED_AFTER_HOURS);
    assert_eq!(SHIPPED_UNSIGNED_AFTER_HOURS, 72);
    assert!(!s.overdue(t0(), t0() + Duration::hours(72)));
    assert!(s.overdue(t0(), t0() + Duration::hours(72) + Duration::seconds(1)));
}

#[test]
fn settings_refuse_bad_hours_self_supervision_doubles_circles_and_strangers() {
    let (a, b, c, x) = (AUTHOR, SUPERVISOR, OTHER, Uuid::from_u128(0x99));
    let clinicians: HashSet<Uuid> = [a, b, c].into_iter().collect();
    let e = NotesSettings::from_form(
        &pairs(&[
            ("unsigned_after_hours", "0".into()),
            ("clinician-0", a.to_string()),
            ("supervisor-0", a.to_string()),
            ("clinician-1", String::new()),
            ("supervisor-1", String::new()),
            ("clinician-2", b.to_string()),
            ("supervisor-2", x.to_string()),
        ]),
        &clinicians,
    );
    assert!(e.is_err());
    let e = NotesSettings::from_form(
        &pairs(&[
            ("unsigned_after_hours", "48".into()),
            ("clinician-0", a.to_string()),
            ("supervisor-0", a.to_string()),
            ("clinician-1", String::new()),
            ("supervisor-1", String::new()),
            ("clinician-2", b.to_string()),
            ("supervisor-2", x.to_string()),
        ]),
        &clinicians,
    )
    .expect_err("refused");
    assert!(
        e.get("supervisor-0")
            .is_some_and(|m| m.contains("themself"))
    );
    assert!(
        e.get("supervisor-2").is_some_and(|m| m.contains("clinic")),
        "{e}"
    );
    let circle = NotesSettings {
        unsigned_after_hours: 72,
        supervision: vec![
            Supervision {
                clinician: a,
                supervisor: b,
            },
            Supervision {
                clinician: b,
                supervisor: c,
            },
            Supervision {
                clinician: c,
                supervisor: a,
            },
        ],
    };
    assert!(
        circle
            .check(&clinicians)
            .err()
            .is_some_and(|e| e.get("supervisor-0").is_some())
    );
    let twice = NotesSettings {
        unsigned_after_hours: 72,
        supervision: vec![
            Supervision {
                clinician: a,
                supervisor: b,
            },
            Supervision {
                clinician: a,
                supervisor: c,
            },
        ],
    };
    assert!(twice.check(&clinicians).is_err());
    let ok = NotesSettings::from_form(
        &pairs(&[
            ("unsigned_after_hours", "24".into()),
            ("clinician-0", a.to_string()),
            ("supervisor-0", b.to_string()),
        ]),
        &clinicians,
    )
    .expect("valid");
    assert_eq!(ok.supervisor_of(a), Some(b));
    assert_eq!(ok.supervisor_of(b), None);
    let too_long = NotesSettings {
        unsigned_after_hours: super::settings::UNSIGNED_AFTER_HOURS_MAX + 1,
        supervision: vec![],
    };
    assert!(too_long.check(&clinicians).is_err());
}

#[test]
fn therapy_notes_are_the_therapists_and_prescribers_nurses_write_progress_notes() {
    assert!(may_write(Role::Therapist, NoteKind::Preparation));
    assert!(may_write(Role::Prescriber, NoteKind::Integration));
    assert!(!may_write(Role::Nurse, NoteKind::InSession));
    assert!(may_write(Role::Nurse, NoteKind::Progress));
    assert!(!may_write(Role::Nurse, NoteKind::Psychotherapy));
    assert!(may_write(Role::Therapist, NoteKind::Psychotherapy));
    for k in NoteKind::ALL {
        assert!(!may_write(Role::Coordinator, k));
        assert!(!may_write(Role::Admin, k));
    }
}

#[test]
fn a_psychotherapy_note_is_seen_by_its_author_and_grantees_in_a_browser_only() {
    let shared = [OTHER];
    assert!(may_see_psychotherapy(
        AUTHOR,
        ActorKind::Staff,
        AUTHOR,
        &shared
    ));
    assert!(may_see_psychotherapy(
        OTHER,
        ActorKind::Staff,
        AUTHOR,
        &shared
    ));
    assert!(!may_see_psychotherapy(
        SUPERVISOR,
        ActorKind::Staff,
        AUTHOR,
        &shared
    ));
    assert!(!may_see_psychotherapy(
        AUTHOR,
        ActorKind::Api,
        AUTHOR,
        &shared
    ));
    assert!(!may_see_psychotherapy(
        OTHER,
        ActorKind::Api,
        AUTHOR,
        &shared
    ));
    assert!(may_receive_share(AUTHOR, OTHER, Role::Nurse).is_ok());
    assert!(may_receive_share(AUTHOR, AUTHOR, Role::Therapist).is_err());
    assert!(may_receive_share(AUTHOR, OTHER, Role::Coordinator).is_err());
    assert!(may_receive_share(AUTHOR, OTHER, Role::Admin).is_err());
}

#[test]
fn a_commitment_is_carried_until_settled_and_reviews_are_checked() {
    let mut c = Commitment {
        id: Uuid::nil(),
        note_id: Uuid::nil(),
        course_id: None,
        text: "Walk after lunch".into(),
        follow_up: today(),
        made_at: t0(),
        made_by: "Theo".into(),
        reviews: vec![],
    };
    assert_eq!(c.status(), CommitmentStatus::Open);
    assert!(c.due(today()) && !c.due(today() - Duration::days(1)));
    let (s, n) = parse_review("partly_kept", "  Three days of five ").expect("review");
    c.reviews.push(CommitmentReview {
        status: s,
        note: n.clone(),
        by_name: "Theo".into(),
        at: t0(),
    });
    assert_eq!(n, "Three days of five");
    assert!(c.carried());
    c.reviews.push(CommitmentReview {
        status: CommitmentStatus::Kept,
        note: String::new(),
        by_name: "Theo".into(),
        at: t0(),
    });
    assert!(!c.carried() && !c.due(today()));
    assert!(
        parse_review("", "")
            .err()
            .is_some_and(|e| e.get("status").is_some())
    );
    assert!(parse_review("maybe", "").is_err());
    assert!(
        parse_review("kept", &"n".repeat(501))
            .err()
            .is_some_and(|e| e.get("note").is_some())
    );
}

#[test]
fn summaries_are_one_short_line_and_never_a_psychotherapy_notes_words() {
    let n = preparation("To meet the part of me that is afraid\nsecond line");
    assert_eq!(n.summary(), "To meet the part of me that is afraid");
    let long = "word ".repeat(60);
    let s = one_line(&long, 120);
    assert!(s.ends_with('…') && s.chars().count() <= 121);
    let p = draft(
        NoteKind::Psychotherapy,
        NoteContent {
            texts: texts(&[(Section::ProcessNotes, "secret")]),
            ..NoteContent::default()
        },
    );
    assert_eq!(p.summary(), "");
}
