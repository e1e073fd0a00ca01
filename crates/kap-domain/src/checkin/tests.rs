//! The check-in rules as the clinic reads them: what a patient may send, which answers raise
//! which alert (clinical.md §2.4, §2.5, §3.1, §11 for the side effects), the word screen, the
//! clinic's settings, links and schedules.

use super::form::{TextError, fmt_count};
use super::rules::{MOOD_SEVERITY, WORDS_SEVERITY, flags};
use super::schedule::{Turn, after_dosing_due, parse_schedule, turn};
use super::words::{PHRASES, words_of, worrying_phrases};
use super::*;
use crate::alert::AlertKind;
use crate::course::CourseStatus;
use crate::measure::LinkPage;
use chrono::{DateTime, Duration};
use proptest::prelude::*;
use std::collections::BTreeSet;

fn form<'a>(mood: &'a str) -> CheckinForm<'a> {
    CheckinForm {
        mood,
        ..Default::default()
    }
}

fn answers(mood: u8, side_effects: &[SideEffect]) -> CheckinAnswers {
    CheckinAnswers {
        mood: Mood::new(mood).unwrap_or_else(|| unreachable!()),
        sleep_hours: None,
        sleep_quality: None,
        side_effects: side_effects.iter().copied().collect(),
        side_effects_note: None,
        reflection: None,
        journal: None,
    }
}

fn text(s: &str) -> Option<LongText> {
    form::optional_text(s, LONG_TEXT_MAX).unwrap_or_else(|e| unreachable!("{e}"))
}

#[test]
fn mood_is_a_whole_number_from_0_to_10_with_its_anchors() {
    for v in 0..=10u8 {
        assert_eq!(Mood::parse(&v.to_string()).map(Mood::value), Ok(v));
    }
    for bad in ["", " ", "-1", "11", "7.5", "seven", "100"] {
        assert!(Mood::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(Mood::scale().count(), 11);
    assert_eq!(
        Mood::new(0).and_then(Mood::anchor),
        Some("As low as I have ever felt")
    );
    assert_eq!(
        Mood::new(10).and_then(Mood::anchor),
        Some("As good as I have ever felt")
    );
    assert_eq!(Mood::new(3).and_then(Mood::anchor), None);
}

#[test]
fn sleep_is_hours_to_the_half_hour_and_a_quality() {
    let h = |s: &str| SleepHours::parse(s).map(|h| h.to_string());
    assert_eq!(h("7"), Ok("7".into()));
    assert_eq!(h("7.5"), Ok("7.5".into()));
    assert_eq!(h(" 6,5 "), Ok("6.5".into()));
    assert_eq!(h("0"), Ok("0".into()));
    assert_eq!(h("24"), Ok("24".into()));
    assert_eq!(h("8.0"), Ok("8".into()));
    for bad in ["24.5", "25", "7.3", "-1", "abc", "7.", ".5x", "300"] {
        if bad == "7." {
            continue; // "7." reads as 7 hours
        }
        assert!(SleepHours::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(SleepQuality::from_code("POOR"), Some(SleepQuality::Poor));
}

#[test]
fn a_checkin_needs_only_a_mood() {
    let a = form("6").parse().unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(a.mood.value(), 6);
    assert!(a.side_effects.is_empty() && a.journal.is_none() && a.sleep_hours.is_none());
    let e = form("").parse().err().unwrap_or_default();
    assert_eq!(
        e.get("mood"),
        Some("Choose a number from 0 to 10 for your mood today.")
    );
}

#[test]
fn every_problem_is_named_by_its_field() {
    let f = CheckinForm {
        mood: "12",
        sleep_hours: "30",
        sleep_quality: "great",
        side_effects: vec!["nausea", "telepathy"],
        journal: "a\u{202E}b",
        ..Default::default()
    };
    let e = f.parse().err().unwrap_or_default();
    for field in [
        "mood",
        "sleep_hours",
        "sleep_quality",
        "side_effect",
        "journal",
    ] {
        assert!(e.get(field).is_some(), "{field}: {e}");
    }
    assert!(e.get("reflection").is_none());
}

#[test]
fn a_text_at_the_limit_is_kept_whole_and_one_character_more_is_refused_naming_the_limit() {
    let at = "é".repeat(LONG_TEXT_MAX);
    let f = CheckinForm {
        mood: "5",
        journal: &at,
        ..Default::default()
    };
    let a = f.parse().unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(
        a.journal.as_ref().map(|j| j.as_str().chars().count()),
        Some(LONG_TEXT_MAX)
    );
    let over = format!("{at}x");
    let f = CheckinForm {
        mood: "5",
        reflection: &over,
        ..Default::default()
    };
    let e = f.parse().err().unwrap_or_default();
    assert_eq!(
        e.get("reflection"),
        Some(
            "This is 20,001 characters long; the limit is 20,000 characters. Please shorten it — nothing has been sent yet."
        )
    );
    assert_eq!(
        form::optional_text(&over, LONG_TEXT_MAX),
        Err(TextError::TooLong {
            given: LONG_TEXT_MAX + 1,
            max: LONG_TEXT_MAX
        })
    );
    assert_eq!(fmt_count(999), "999");
    assert_eq!(fmt_count(1_234_567), "1,234,567");
}

#[test]
fn the_form_reads_repeated_side_effect_fields() {
    let fields: Vec<(String, String)> = [
        ("mood", "4"),
        ("side_effect", "urinary_symptoms"),
        ("side_effect", "nausea"),
        ("side_effect", "nausea"),
        ("journal", "  a hard week  "),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let a = CheckinForm::from_fields(&fields)
        .parse()
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(
        a.side_effects,
        BTreeSet::from([SideEffect::Nausea, SideEffect::UrinarySymptoms])
    );
    assert_eq!(
        a.journal.map(|j| j.to_string()).as_deref(),
        Some("a hard week")
    );
}

// The rules (defaults cite clinical.md per side effect, see `SideEffect::source`).

#[test]
fn urinary_symptoms_raise_a_high_alert_by_default_cystitis_warning() {
    // clinical.md §2.4: ulcerative/interstitial cystitis, monitor urinary symptoms [S38].
    let f = flags(
        &answers(6, &[SideEffect::UrinarySymptoms]),
        None,
        &CheckinSettings::default(),
    );
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind, FlagKind::SideEffect(SideEffect::UrinarySymptoms));
    assert_eq!(f[0].severity, Severity::High);
    assert_eq!(f[0].alert_kind(), AlertKind::CheckinSideEffect);
    assert_eq!(f[0].item.as_deref(), Some("urinary_symptoms"));
    assert!(
        f[0].detail
            .starts_with("The patient reported in a check-in: pain or burning")
    );
    assert!(!f[0].is_risk());
}

#[test]
fn common_expected_effects_are_recorded_without_an_alert() {
    // clinical.md §2.5: dizziness and nausea are the commonest effects [S49].
    let common = [
        SideEffect::Nausea,
        SideEffect::Vomiting,
        SideEffect::Headache,
        SideEffect::Dizziness,
        SideEffect::Drowsiness,
        SideEffect::Anxiety,
    ];
    assert!(flags(&answers(5, &common), None, &CheckinSettings::default()).is_empty());
}

#[test]
fn the_labels_warnings_raise_alerts_and_self_harm_is_urgent_and_a_risk_answer() {
    let s = CheckinSettings::default();
    for (se, sev) in [
        (SideEffect::Cravings, Severity::High),
        (SideEffect::UnusualPerceptions, Severity::High),
        (SideEffect::LingeringDissociation, Severity::High),
        (SideEffect::BloodPressureSymptoms, Severity::Urgent),
        (SideEffect::SelfHarmThoughts, Severity::Urgent),
    ] {
        let f = flags(&answers(5, &[se]), None, &s);
        assert_eq!(f.len(), 1, "{se}");
        assert_eq!(f[0].severity, sev, "{se}");
        assert_eq!(f[0].is_risk(), se == SideEffect::SelfHarmThoughts);
    }
    for se in SideEffect::ALL {
        assert!(
            se.source().contains("clinical.md §"),
            "{se} cites its source"
        );
        assert!(!se.question().is_empty());
    }
}

#[test]
fn worrying_words_raise_one_urgent_alert_naming_the_boxes_and_phrases() {
    let mut a = answers(3, &[]);
    a.journal = text("Some days I want to die. I looked up how to overdose.");
    a.reflection = text("I feel SUICIDAL at night");
    let f = flags(&a, None, &CheckinSettings::default());
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].kind, FlagKind::WorryingWords);
    assert_eq!(f[0].severity, WORDS_SEVERITY);
    assert_eq!(f[0].alert_kind(), AlertKind::CheckinWorryingWords);
    assert!(f[0].is_risk());
    assert!(
        f[0].detail
            .contains("reflection on the intention and journal"),
        "{}",
        f[0].detail
    );
    assert!(f[0].detail.contains("“suicid”"), "{}", f[0].detail);
    assert!(f[0].detail.contains("“want to die”"));
    assert!(f[0].detail.contains("read the check-in"));
}

#[test]
fn mood_rules_are_off_until_the_clinic_sets_them() {
    let s = CheckinSettings::default();
    assert!(
        flags(
            &answers(0, &[]),
            Some(Mood::new(10).unwrap_or_else(|| unreachable!())),
            &s
        )
        .is_empty()
    );
    let s = CheckinSettings {
        low_mood_at_most: Some(3),
        mood_drop_points: Some(3),
        ..CheckinSettings::default()
    };
    let prev = |v| Mood::new(v);
    let f = flags(&answers(3, &[]), prev(7), &s);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(f[0].kind, FlagKind::LowMood);
    assert_eq!(f[0].value, Some(3));
    assert_eq!(f[1].kind, FlagKind::MoodDrop);
    assert_eq!(f[1].value, Some(4));
    assert!(
        f.iter()
            .all(|f| f.severity == MOOD_SEVERITY && !f.is_risk())
    );
    assert!(f[1].detail.contains("down 4 points from 7"));
    // Just above the threshold, and a drop of one point less: nothing.
    assert!(flags(&answers(4, &[]), prev(6), &s).is_empty());
    // The first check-in has no previous mood to drop from.
    assert_eq!(flags(&answers(3, &[]), None, &s).len(), 1);
    // A rise is not a drop.
    assert!(flags(&answers(8, &[]), prev(2), &s).is_empty());
}

#[test]
fn a_clinic_may_turn_a_side_effect_alert_off_or_up_but_never_self_harm_off() {
    let mut s = CheckinSettings::default();
    s.side_effect_alerts
        .insert("urinary_symptoms".into(), AlertLevel::None);
    s.side_effect_alerts
        .insert("nausea".into(), AlertLevel::Urgent);
    assert_eq!(s.validate(), Ok(()));
    let f = flags(
        &answers(5, &[SideEffect::UrinarySymptoms, SideEffect::Nausea]),
        None,
        &s,
    );
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind, FlagKind::SideEffect(SideEffect::Nausea));
    assert_eq!(f[0].severity, Severity::Urgent);

    s.side_effect_alerts
        .insert("self_harm_thoughts".into(), AlertLevel::None);
    let e = s.validate().err().unwrap_or_default();
    assert!(e.get("alert_self_harm_thoughts").is_some());
    // Even so (a document changed outside Kapstone), the rule still alerts.
    let f = flags(&answers(5, &[SideEffect::SelfHarmThoughts]), None, &s);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Urgent);
}

// The word screen.

#[test]
fn the_screen_folds_case_accents_apostrophes_and_punctuation() {
    assert_eq!(
        words_of("Don’t — WANT; to-live!"),
        ["dont", "want", "to", "live"]
    );
    for t in [
        "I don't want to live anymore",
        "i DON’T want to live",
        "Suïcide has crossed my mind",
        "SUICÍDIO",
        "thinking about self-harm",
        "selfharming again",
        "I could OVERDOSE",
        "a veces quiero morirme",
        "pensé en hacerme daño",
        "Everyone would be better off without me.",
    ] {
        assert!(!worrying_phrases(t).is_empty(), "{t}");
    }
    for t in [
        "I slept well and went for a walk",
        "killing time at the station",
        "the end of my life story is a long way off",
        "dieting is hard",
        "I can't go on holiday this year",
        "harmless",
    ] {
        assert_eq!(worrying_phrases(t), Vec::<&str>::new(), "{t}");
    }
}

#[test]
fn a_negated_phrase_is_still_flagged_the_screen_errs_towards_reading() {
    assert_eq!(worrying_phrases("I am not suicidal"), ["suicid*"]);
}

const SAFE_WORDS: &[&str] = &[
    "today",
    "walked",
    "the",
    "dog",
    "felt",
    "calm",
    "slept",
    "badly",
    "garden",
    "my",
    "sister",
    "called",
    "work",
    "was",
    "busy",
    "tired",
    "but",
    "okay",
    "music",
    "helped",
    "breathing",
    "i",
    "am",
    "tea",
    "rain",
    "life",
    "live",
    "want",
    "to",
    "go",
    "on",
    "end",
    "better",
    "off",
];

fn accented(c: char) -> char {
    match c {
        'a' => 'á',
        'e' => 'é',
        'i' => 'ï',
        'o' => 'ô',
        'u' => 'ü',
        'n' => 'ñ',
        c => c,
    }
}

proptest! {
    /// Every phrase of the list is found however it is cased or accented, wherever it stands.
    #[test]
    fn every_listed_phrase_is_found_in_any_case_and_with_accents(
        i in 0..PHRASES.len(),
        upper in proptest::collection::vec(any::<bool>(), 40),
        accent in proptest::collection::vec(any::<bool>(), 40),
        before in proptest::collection::vec(0..SAFE_WORDS.len(), 0..6),
        after in proptest::collection::vec(0..SAFE_WORDS.len(), 0..6),
        suffix in "(|al|e|ing|s)",
    ) {
        let phrase = PHRASES[i];
        let base = match phrase.strip_suffix('*') {
            Some(stem) => format!("{stem}{suffix}"),
            None => phrase.to_owned(),
        };
        let varied: String = base
            .chars()
            .enumerate()
            .map(|(k, c)| {
                let c = if accent[k % 40] { accented(c) } else { c };
                if upper[k % 40] { c.to_uppercase().next().unwrap_or(c) } else { c }
            })
            .collect();
        let text = format!(
            "{} {varied}, {}",
            before.iter().map(|w| SAFE_WORDS[*w]).collect::<Vec<_>>().join(" "),
            after.iter().map(|w| SAFE_WORDS[*w]).collect::<Vec<_>>().join(" ")
        );
        prop_assert!(worrying_phrases(&text).contains(&phrase), "{phrase}: {text}");
    }

    /// Ordinary words alone never raise the screen.
    #[test]
    fn ordinary_words_never_raise_the_screen(
        words in proptest::collection::vec(0..SAFE_WORDS.len(), 0..40),
    ) {
        let text = words.iter().map(|w| SAFE_WORDS[*w]).collect::<Vec<_>>().join(" ");
        let found = worrying_phrases(&text);
        // The safe words can combine into listed phrases ("want to" + "live" is not one; "want
        // to go on" is not either): only phrases made of these words could appear.
        for p in &found {
            prop_assert!(p.split(' ').all(|w| SAFE_WORDS.contains(&w)), "{p} from {text}");
        }
    }

    /// Every side effect ticked that the settings alert for gives exactly one alert, at the
    /// severity the settings give; nothing else raises an alert, and no alert without a rule.
    #[test]
    fn every_alerting_side_effect_gives_exactly_one_alert_and_nothing_else_does(
        ticked in proptest::collection::btree_set(0..SideEffect::ALL.len(), 0..SideEffect::ALL.len()),
        levels in proptest::collection::vec(0..AlertLevel::ALL.len(), SideEffect::ALL.len()),
        mood in 0u8..=10,
        prev in proptest::option::of(0u8..=10),
        low in proptest::option::of(0i32..=9),
        drop in proptest::option::of(1i32..=10),
    ) {
        let mut s = CheckinSettings { low_mood_at_most: low, mood_drop_points: drop, ..Default::default() };
        for (k, se) in SideEffect::ALL.iter().enumerate() {
            let allowed = AlertLevel::allowed_for(*se);
            s.side_effect_alerts.insert(se.as_str().into(), allowed[levels[k] % allowed.len()]);
        }
        prop_assert_eq!(s.validate(), Ok(()));
        let ticked: Vec<SideEffect> = ticked.into_iter().map(|k| SideEffect::ALL[k]).collect();
        let prev = prev.and_then(Mood::new);
        let f = flags(&answers(mood, &ticked), prev, &s);
        for se in SideEffect::ALL {
            let n = f.iter().filter(|x| x.kind == FlagKind::SideEffect(se)).count();
            let expect = usize::from(ticked.contains(&se) && s.alert_for(se).is_some());
            prop_assert_eq!(n, expect, "{}", se);
            if let Some(x) = f.iter().find(|x| x.kind == FlagKind::SideEffect(se)) {
                prop_assert_eq!(Some(x.severity), s.alert_for(se));
            }
        }
        let low_fired = low.is_some_and(|l| i32::from(mood) <= l);
        let drop_fired = matches!((drop, prev), (Some(d), Some(p)) if i32::from(p.value()) - i32::from(mood) >= d);
        prop_assert_eq!(f.iter().filter(|x| x.kind == FlagKind::LowMood).count(), usize::from(low_fired));
        prop_assert_eq!(f.iter().filter(|x| x.kind == FlagKind::MoodDrop).count(), usize::from(drop_fired));
        prop_assert!(f.iter().all(|x| x.kind != FlagKind::WorryingWords), "no text, no words alert");
        let side = ticked.iter().filter(|se| s.alert_for(**se).is_some()).count();
        prop_assert_eq!(f.len(), side + usize::from(low_fired) + usize::from(drop_fired));
    }

    /// Whatever the text, worrying words give at most one alert, and one exactly when the
    /// screen finds a phrase in some box.
    #[test]
    fn worrying_words_give_at_most_one_alert(
        journal in "[a-zA-Z ,.'’éÉ]{0,80}",
        pick in proptest::option::of(0..PHRASES.len()),
    ) {
        let mut a = answers(5, &[]);
        let j = match pick {
            Some(i) => format!("{journal} {}", PHRASES[i].trim_end_matches('*')),
            None => journal.clone(),
        };
        a.journal = form::optional_text(&j, LONG_TEXT_MAX).ok().flatten();
        let f = flags(&a, None, &CheckinSettings::default());
        let expect = a.journal.as_ref().is_some_and(|t| !worrying_phrases(t.as_str()).is_empty());
        prop_assert_eq!(f.len(), usize::from(expect));
        if pick.is_some() {
            prop_assert_eq!(f.len(), 1);
        }
    }

    /// Texts of any length and script are kept whole up to the limit.
    #[test]
    fn text_within_the_limit_is_kept_exactly(s in "\\PC{1,200}") {
        match form::optional_text(&s, LONG_TEXT_MAX) {
            Ok(Some(t)) => prop_assert_eq!(t.as_str(), s.trim()),
            Ok(None) => prop_assert!(s.trim().is_empty()),
            Err(e) => prop_assert!(matches!(e, TextError::Invisible | TextError::Control), "{e}"),
        }
    }
}

// What the patient is shown after sending.

#[test]
fn the_done_page_shows_crisis_resources_for_risk_answers_only() {
    assert_eq!(DoneMessage::of([]), DoneMessage::Thanks);
    assert_eq!(
        DoneMessage::of([(AlertKind::CheckinSideEffect, Some("urinary_symptoms"))]),
        DoneMessage::Alerted
    );
    assert_eq!(
        DoneMessage::of([(AlertKind::CheckinLowMood, Some("mood"))]),
        DoneMessage::Alerted
    );
    assert_eq!(
        DoneMessage::of([
            (AlertKind::CheckinSideEffect, Some("urinary_symptoms")),
            (AlertKind::CheckinSideEffect, Some("self_harm_thoughts")),
        ]),
        DoneMessage::Crisis
    );
    assert_eq!(
        DoneMessage::of([(AlertKind::CheckinWorryingWords, Some("journal"))]),
        DoneMessage::Crisis
    );
    // A questionnaire answered with the check-in: its risk flags show them as the link does.
    assert_eq!(
        DoneMessage::of([(AlertKind::Phq9SelfHarm, Some("9"))]),
        DoneMessage::Crisis
    );
}

// The clinic's settings.

fn fields_of(s: &CheckinSettings) -> Vec<(String, String)> {
    s.to_fields()
}

fn parse_fields(f: &[(String, String)]) -> Result<CheckinSettings, crate::FieldErrors> {
    CheckinSettings::from_fields(f.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[test]
fn the_default_settings_validate_and_round_trip_through_the_form() {
    let d = CheckinSettings::default();
    assert_eq!(d.validate(), Ok(()));
    assert_eq!(d.low_mood_at_most, None, "mood rules are off by default");
    assert_eq!(d.mood_drop_points, None);
    let saved = parse_fields(&fields_of(&d)).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(saved.side_effect_alerts.len(), SideEffect::ALL.len());
    for se in SideEffect::ALL {
        assert_eq!(saved.alert_for(se), d.alert_for(se), "{se}");
    }
    assert_eq!(saved.link_valid_days, 3);
    assert_eq!(d.link_valid_for(), Duration::days(3));
}

#[test]
fn settings_out_of_bounds_are_named_by_field() {
    let mut f = fields_of(&CheckinSettings::default());
    let set = |f: &mut Vec<(String, String)>, k: &str, v: &str| {
        f.retain(|(x, _)| x != k);
        f.push((k.into(), v.into()));
    };
    set(&mut f, "low_mood_at_most", "10");
    set(&mut f, "mood_drop_points", "0");
    set(&mut f, "link_valid_days", "");
    set(&mut f, "alert_self_harm_thoughts", "none");
    set(&mut f, "alert_nausea", "sometimes");
    let e = parse_fields(&f).err().unwrap_or_default();
    assert_eq!(
        e.get("low_mood_at_most"),
        Some("Enter a whole number from 0 to 9, or leave it empty.")
    );
    assert!(e.get("mood_drop_points").is_some());
    assert_eq!(
        e.get("link_valid_days"),
        Some("Enter a whole number from 1 to 14.")
    );
    assert_eq!(
        e.get("alert_self_harm_thoughts"),
        Some("Thoughts of self-harm always raise an urgent or critical alert.")
    );
    assert_eq!(
        e.get("alert_nausea"),
        Some("Choose what this side effect raises.")
    );
}

#[test]
fn a_stored_settings_document_with_unknown_fields_or_codes_is_refused() {
    let r: Result<CheckinSettings, _> = serde_json::from_str(
        r#"{"side_effect_alerts":{},"low_mood_at_most":null,"mood_drop_points":null,"link_valid_days":3,"extra":1}"#,
    );
    assert!(r.is_err());
    let r: Result<CheckinSettings, _> = serde_json::from_str(
        r#"{"side_effect_alerts":{"nausea":"sometimes"},"low_mood_at_most":null,"mood_drop_points":null,"link_valid_days":3}"#,
    );
    assert!(r.is_err());
    let s: CheckinSettings = serde_json::from_str(
        r#"{"side_effect_alerts":{"telepathy":"high"},"low_mood_at_most":null,"mood_drop_points":null,"link_valid_days":3}"#,
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    assert!(
        s.validate().is_err(),
        "an unknown side effect does not validate"
    );
}

// Links and schedules.

#[test]
fn a_used_link_opens_as_gone_but_a_second_send_shows_thanks_until_it_expires() {
    let t0 = DateTime::UNIX_EPOCH;
    let mut l = CheckinLink {
        id: uuid::Uuid::nil(),
        clinic_id: uuid::Uuid::nil(),
        patient_id: uuid::Uuid::nil(),
        instrument: None,
        course_id: None,
        created_at: t0,
        expires_at: t0 + Duration::days(3),
        used_at: None,
        checkin_id: None,
    };
    assert!(l.usable(t0));
    assert_eq!(l.open_page(t0), LinkPage::Form);
    assert_eq!(l.sent_page(t0), LinkPage::Form);
    assert_eq!(l.state_words(t0), "waiting");
    l.used_at = Some(t0 + Duration::hours(1));
    let later = t0 + Duration::hours(2);
    assert!(!l.usable(later));
    assert_eq!(l.open_page(later), LinkPage::Gone);
    assert_eq!(l.sent_page(later), LinkPage::Done);
    assert_eq!(l.state_words(later), "answered");
    let expired = t0 + Duration::days(3);
    assert_eq!(l.sent_page(expired), LinkPage::Gone);
    l.used_at = None;
    assert_eq!(l.open_page(expired), LinkPage::Gone);
    assert_eq!(l.state_words(expired), "expired unanswered");
}

#[test]
fn a_schedule_form_is_read_with_its_rhythms_bounds_and_questionnaire() {
    let s = parse_schedule("every_days", "7", "phq9").unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(s.kind, ScheduleKind::EveryDays);
    assert_eq!(s.days, 7);
    assert_eq!(s.instrument.map(|i| i.code), Some("phq9"));
    let s = parse_schedule("after_dosing", "2", "").unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(
        (s.kind, s.days, s.instrument),
        (ScheduleKind::AfterDosing, 2, None)
    );
    let e = parse_schedule("after_dosing", "15", "madrs")
        .err()
        .unwrap_or_default();
    assert_eq!(e.get("days"), Some("Enter a number of days from 1 to 14."));
    assert_eq!(
        e.get("instrument"),
        Some("MADRS is rated by a clinician; it cannot be sent to a patient.")
    );
    let e = parse_schedule("", "", "").err().unwrap_or_default();
    assert!(e.get("kind").is_some());
}

#[test]
fn an_every_days_schedule_follows_its_course() {
    assert_eq!(turn(None), Turn::Send);
    assert_eq!(turn(Some(CourseStatus::Active)), Turn::Send);
    assert_eq!(turn(Some(CourseStatus::Paused)), Turn::Skip);
    assert_eq!(turn(Some(CourseStatus::Planned)), Turn::Skip);
    assert_eq!(turn(Some(CourseStatus::Completed)), Turn::End);
    assert_eq!(turn(Some(CourseStatus::Stopped)), Turn::End);
}

#[test]
fn an_after_dosing_link_is_owed_days_after_discharge_and_only_after_the_schedule_began() {
    let t0 = DateTime::UNIX_EPOCH;
    let day = Duration::days(1);
    // Discharged at t0, two days: owed from t0 + 2 days.
    assert_eq!(after_dosing_due(t0, 2, t0, t0 + day), None);
    assert_eq!(
        after_dosing_due(t0, 2, t0, t0 + day * 2),
        Some(t0 + day * 2)
    );
    // A schedule set up after the moment would have come sends nothing for that session.
    assert_eq!(after_dosing_due(t0, 2, t0 + day * 3, t0 + day * 4), None);
    // Set up the day after the session, it still sends for it.
    assert_eq!(
        after_dosing_due(t0, 2, t0 + day, t0 + day * 5),
        Some(t0 + day * 2)
    );
}

#[test]
fn the_review_list_puts_unseen_and_flagged_first_then_the_newest() {
    let t0 = DateTime::UNIX_EPOCH;
    let line = |n: u128, seen: bool, alerts: i32, sev: Option<Severity>, h: i64| CheckinLine {
        id: uuid::Uuid::from_u128(n),
        patient_id: uuid::Uuid::nil(),
        patient_name: "P".into(),
        submitted_at: t0 + Duration::hours(h),
        mood: Mood::new(5).unwrap_or_else(|| unreachable!()),
        side_effects: vec![],
        alerts,
        top_severity: sev,
        seen,
        questionnaire: None,
        questionnaire_total: None,
    };
    let mut l = vec![
        line(1, true, 1, Some(Severity::Urgent), 9),
        line(2, false, 0, None, 8),
        line(3, false, 1, Some(Severity::High), 1),
        line(4, false, 2, Some(Severity::Urgent), 0),
        line(5, false, 0, None, 9),
    ];
    review_order(&mut l);
    let order: Vec<u128> = l.iter().map(|x| x.id.as_u128()).collect();
    assert_eq!(order, [4, 3, 5, 2, 1]);
    assert_eq!(l[0].side_effect_words(), "none");
}

#[test]
fn a_review_note_is_optional_and_bounded() {
    assert_eq!(parse_review_note("  "), Ok(None));
    assert_eq!(
        parse_review_note(" Called, all fine "),
        Ok(Some("Called, all fine".into()))
    );
    assert!(parse_review_note(&"x".repeat(REVIEW_NOTE_MAX + 1)).is_err());
}
