//! Reading protocol files: the shipped ones, each rule a file must follow (one mistake at a
//! time, and several at once), and the TOML reader's own errors. Facts behind the shipped
//! files: `../shared/reference/clinical.md` §1, §2, §4.

use super::dose::PlannedDose;
use super::{ProtocolError, SessionKind, parse, shipped};
use crate::person::Sex;
use crate::screening::Route;
use crate::screening::rules::Level;
use std::collections::BTreeSet;

/// A small valid protocol that touches every part of the format (IV, weight-based).
const PER_KG: &str = r#"key = "test-iv"
version = 1
name = "Test IV"
summary = "A protocol for tests."
drug = "ketamine"
route = "iv"

[sources]
S1 = "Author A, A title, 2020"
S2 = "Author B, Another title, 2021"

[dose]
kind = "per_kg"
mg_per_kg = { value = 0.5, source = "S1" }
min_mg_per_kg = { value = 0.5, source = "S1" }
max_mg_per_kg = { value = 1.0, source = "S1, S2" }
max_mg = { value = 80, source = "clinic policy" }
round_to_mg = { value = 0.5, source = " Clinic Policy " }
infusion_minutes = { value = 40, source = "S1" }

[booster]
max_count = { value = 1, source = "clinic policy" }
min_minutes_after_first = { value = 20, source = "clinic policy" }
max_total = { value = 1.0, source = "clinic policy" }

[sessions]
preparation = { value = 1, source = "clinic policy" }
min_dosing = { value = 4, source = "clinic policy" }
max_dosing = { value = 8, source = "clinic policy" }
min_days_between_doses = { value = 2, source = "clinic policy" }
integration_after_every = { value = 1, source = "clinic policy" }
integration_within_days = { value = 3, source = "clinic policy" }
follow_ups = { value = 1, source = "clinic policy" }
follow_up_every_days = { value = 28, source = "clinic policy" }

[[sessions.phase]]
name = "acute"
weeks = { value = 2, source = "S2" }
per_week = { value = 2, source = "S2" }

[[sessions.phase]]
name = "taper"
weeks = { value = 4, source = "clinic policy" }
every_weeks = { value = 2, source = "clinic policy" }
reassess_after = true

[durations]
preparation = { value = 60, source = "clinic policy" }
integration = { value = 60, source = "clinic policy" }
follow_up = { value = 30, source = "clinic policy" }
reassessment = { value = 45, source = "clinic policy" }
pre_dose = { value = 30, source = "clinic policy" }

[monitoring]
vitals_every_minutes_during = { value = 10, source = "S1" }
vitals_every_minutes_after = { value = 15, source = "S1" }
minimum_minutes = { value = 90, source = "S1" }
bp_checks_at_minutes = { value = [40], source = "clinic policy" }

[[monitoring.hold]]
measure = "systolic"
above = 140
source = "clinic policy"

[[monitoring.alert]]
measure = "spo2"
below = 90
source = "clinic policy"

[[monitoring.alert]]
measure = "heart_rate"
above = 110
below = 40
source = "clinic policy"

[monitoring.discharge]
moaas_at_least = { value = 5, source = "clinic policy" }
vitals_within_hold_limits = true
escort_required = true
no_unresolved_adverse_event = true

[[questionnaires]]
before = "dosing"
instrument = "phq9"
hours_before = { value = 24, source = "clinic policy" }

[[questionnaires]]
before = "reassessment"
instrument = "gad7"
hours_before = { value = 48, source = "clinic policy" }

[[contraindications]]
id = "hypersensitivity"
when = { kind = "has", condition = "ketamine_hypersensitivity" }
level = "absolute"
reason = "Hypersensitivity to ketamine."
source = "S1"
"#;

const PER_KG_DOSE: &str = r#"kind = "per_kg"
mg_per_kg = { value = 0.5, source = "S1" }
min_mg_per_kg = { value = 0.5, source = "S1" }
max_mg_per_kg = { value = 1.0, source = "S1, S2" }
max_mg = { value = 80, source = "clinic policy" }
round_to_mg = { value = 0.5, source = " Clinic Policy " }
infusion_minutes = { value = 40, source = "S1" }
"#;

/// The same protocol as esketamine in fixed doses (56 or 84 mg in 28 mg devices).
fn fixed() -> String {
    PER_KG
        .replace(
            "drug = \"ketamine\"\nroute = \"iv\"",
            "drug = \"esketamine\"\nroute = \"esketamine_nasal\"",
        )
        .replace(
            PER_KG_DOSE,
            r#"kind = "fixed"
first_mg = { value = 56, source = "S1" }
min_mg = { value = 56, source = "S1" }
max_mg = { value = 84, source = "S1, S2" }
step_mg = { value = 28, source = "S1" }
unit_mg = { value = 28, source = "S1" }
minutes_between_units = { value = 5, source = "S1" }
"#,
        )
        .replace(
            "max_total = { value = 1.0, source = \"clinic policy\" }",
            "max_total = { value = 112, source = \"clinic policy\" }",
        )
}

/// The 1-based line of the first line that starts with `needle` (after indentation).
fn line_with(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line starts with {needle:?}"))
}

fn errors(text: &str) -> Vec<ProtocolError> {
    match parse("test.toml", text) {
        Ok(_) => vec![],
        Err(e) => e.0,
    }
}

#[test]
fn the_test_protocols_are_valid() {
    assert_eq!(errors(PER_KG), vec![]);
    assert_eq!(errors(&fixed()), vec![]);
    let p = parse("test.toml", PER_KG).unwrap();
    assert_eq!(p.dosing_sessions(), 6);
    assert_eq!(p.booked_minutes(SessionKind::Dosing), 120);
}

type Edit = fn(&str) -> String;

/// One mistake: which base, the edit, the field reported, the line it is on (the first line
/// starting with the needle, in the edited text; none: no line), and how many problems the
/// edit makes in all.
struct Case {
    fixed: bool,
    edit: Edit,
    field: &'static str,
    line: Option<&'static str>,
    count: usize,
}

const fn case(edit: Edit, field: &'static str, line: &'static str) -> Case {
    Case {
        fixed: false,
        edit,
        field,
        line: Some(line),
        count: 1,
    }
}

const fn fixed_case(edit: Edit, field: &'static str, line: &'static str) -> Case {
    Case {
        fixed: true,
        ..case(edit, field, line)
    }
}

const fn also(c: Case, count: usize) -> Case {
    Case { count, ..c }
}

#[test]
fn each_rule_reports_its_field_and_line() {
    let cases: Vec<Case> = vec![
        // Identity.
        case(
            |t| t.replace("key = \"test-iv\"", "key = \"Test_IV\""),
            "key",
            "key =",
        ),
        case(
            |t| t.replace("version = 1", "version = 0"),
            "version",
            "version =",
        ),
        case(
            |t| t.replace("name = \"Test IV\"", "name = \"  \""),
            "name",
            "name = \"  \"",
        ),
        case(
            |t| t.replace("summary = \"A protocol for tests.\"", "summary = \"\""),
            "summary",
            "summary =",
        ),
        // Sources.
        case(
            |t| {
                t.replace(
                    "mg_per_kg = { value = 0.5, source = \"S1\" }\nmin",
                    "mg_per_kg = { value = 0.5, source = \"S9\" }\nmin",
                )
            },
            "dose.mg_per_kg.source",
            "mg_per_kg =",
        ),
        case(
            |t| t.replace("source = \" Clinic Policy \"", "source = \"\""),
            "dose.round_to_mg.source",
            "round_to_mg =",
        ),
        case(
            |t| {
                t.replace(
                    "above = 140\nsource = \"clinic policy\"",
                    "above = 140\nsource = \"S5\"",
                )
            },
            "monitoring.hold[0].source",
            "source = \"S5\"",
        ),
        case(
            |t| t.replace("S2 = \"Author B, Another title, 2021\"", "S2 = \" \""),
            "sources.S2",
            "S2 =",
        ),
        case(
            |t| t.replace("S2 = \"Author B", "S3 = \"Unused, 2019\"\nS2 = \"Author B"),
            "sources.S3",
            "S3 =",
        ),
        // Drug and route.
        fixed_case(
            |t| t.replace("drug = \"esketamine\"", "drug = \"ketamine\""),
            "drug",
            "drug =",
        ),
        fixed_case(
            |t| t.replace("route = \"esketamine_nasal\"", "route = \"im\""),
            "route",
            "route =",
        ),
        also(
            case(
                |t| {
                    t.replace("drug = \"ketamine\"", "drug = \"esketamine\"")
                        .replace("route = \"iv\"", "route = \"esketamine_nasal\"")
                },
                "dose.kind",
                "kind = \"per_kg\"",
            ),
            2, // and infusion_minutes on a nasal route
        ),
        case(
            |t| t.replace("route = \"iv\"", "route = \"im\""),
            "dose.infusion_minutes",
            "infusion_minutes",
        ),
        case(
            |t| t.replace("infusion_minutes = { value = 40, source = \"S1\" }\n", ""),
            "dose.infusion_minutes",
            "[dose]",
        ),
        fixed_case(
            |t| {
                t.replace("drug = \"esketamine\"", "drug = \"ketamine\"")
                    .replace("route = \"esketamine_nasal\"", "route = \"iv\"")
            },
            "dose.kind",
            "kind = \"fixed\"",
        ),
        // Weight-based dose.
        case(
            |t| {
                t.replace(
                    "min_mg_per_kg = { value = 0.5",
                    "min_mg_per_kg = { value = 0.6",
                )
            },
            "dose.mg_per_kg",
            "mg_per_kg =",
        ),
        case(
            |t| {
                t.replace(
                    "mg_per_kg = { value = 0.5, source = \"S1\" }\nmin",
                    "mg_per_kg = { value = 1.5, source = \"S1\" }\nmin",
                )
            },
            "dose.mg_per_kg",
            "mg_per_kg =",
        ),
        also(
            case(
                |t| {
                    t.replace(
                        "min_mg_per_kg = { value = 0.5",
                        "min_mg_per_kg = { value = 1.2",
                    )
                },
                "dose.max_mg_per_kg",
                "max_mg_per_kg =",
            ),
            2, // and the booster's total, now below the minimum dose
        ),
        case(
            |t| {
                t.replace(
                    "min_mg_per_kg = { value = 0.5",
                    "min_mg_per_kg = { value = 0",
                )
            },
            "dose.min_mg_per_kg",
            "min_mg_per_kg =",
        ),
        case(
            |t| t.replace("max_mg = { value = 80", "max_mg = { value = 0"),
            "dose.max_mg",
            "max_mg =",
        ),
        case(
            |t| t.replace("round_to_mg = { value = 0.5", "round_to_mg = { value = -1"),
            "dose.round_to_mg",
            "round_to_mg =",
        ),
        case(
            |t| {
                t.replace(
                    "\n[booster]",
                    "ideal_body_weight = { above_bmi = { value = 30, source = \"clinic policy\" }, \
                     base_kg_male = { value = 50, source = \"clinic policy\" }, \
                     base_kg_female = { value = 45.5, source = \"clinic policy\" }, \
                     base_height_cm = { value = 152.4, source = \"clinic policy\" }, \
                     kg_per_cm = { value = 0, source = \"clinic policy\" } }\n\n[booster]",
                )
            },
            "dose.ideal_body_weight.kg_per_cm",
            "ideal_body_weight =",
        ),
        // Fixed dose.
        fixed_case(
            |t| t.replace("step_mg = { value = 28", "step_mg = { value = 0"),
            "dose.step_mg",
            "step_mg =",
        ),
        fixed_case(
            |t| t.replace("first_mg = { value = 56", "first_mg = { value = 28"),
            "dose.first_mg",
            "first_mg =",
        ),
        fixed_case(
            |t| t.replace("first_mg = { value = 56", "first_mg = { value = 112"),
            "dose.first_mg",
            "first_mg =",
        ),
        fixed_case(
            |t| t.replace("min_mg = { value = 56", "min_mg = { value = 112"),
            "dose.max_mg",
            "max_mg =",
        ),
        fixed_case(
            |t| t.replace("max_mg = { value = 84", "max_mg = { value = 90"),
            "dose.max_mg",
            "max_mg =",
        ),
        fixed_case(
            |t| t.replace("first_mg = { value = 56", "first_mg = { value = 70"),
            "dose.first_mg",
            "first_mg =",
        ),
        fixed_case(
            |t| t.replace("unit_mg = { value = 28", "unit_mg = { value = 30"),
            "dose.unit_mg",
            "unit_mg =",
        ),
        fixed_case(
            |t| t.replace("unit_mg = { value = 28, source = \"S1\" }\n", ""),
            "dose.minutes_between_units",
            "minutes_between_units =",
        ),
        // Booster.
        case(
            |t| t.replace("max_count = { value = 1", "max_count = { value = 0"),
            "booster.max_count",
            "max_count =",
        ),
        case(
            |t| t.replace("max_total = { value = 1.0", "max_total = { value = 0"),
            "booster.max_total",
            "max_total =",
        ),
        case(
            |t| t.replace("max_total = { value = 1.0", "max_total = { value = 0.4"),
            "booster.max_total",
            "max_total =",
        ),
        fixed_case(
            |t| t.replace("max_total = { value = 112", "max_total = { value = 50"),
            "booster.max_total",
            "max_total =",
        ),
        // Sessions.
        case(
            |t| {
                let start = t.find("[[sessions.phase]]").unwrap_or_default();
                let end = t.find("[durations]").unwrap_or_default();
                format!("{}{}", &t[..start], &t[end..])
            },
            "sessions.phase",
            "[sessions]",
        ),
        case(
            |t| {
                t.replace(
                    "every_weeks = { value = 2",
                    "per_week = { value = 1, source = \"S2\" }\nevery_weeks = { value = 2",
                )
            },
            "sessions.phase[1].every_weeks",
            "every_weeks =",
        ),
        case(
            |t| {
                t.replace(
                    "[[sessions.phase]]\nname = \"taper\"",
                    "[[sessions.phase]] # taper\nname = \"taper\"",
                )
                .replace(
                    "every_weeks = { value = 2, source = \"clinic policy\" }\n",
                    "",
                )
            },
            "sessions.phase[1].per_week",
            "[[sessions.phase]] # taper",
        ),
        also(
            case(
                |t| t.replace("per_week = { value = 2", "per_week = { value = 8"),
                "sessions.phase[0].per_week",
                "per_week =",
            ),
            2, // and 18 dosing sessions, above the maximum
        ),
        case(
            |t| t.replace("every_weeks = { value = 2", "every_weeks = { value = 0"),
            "sessions.phase[1].every_weeks",
            "every_weeks =",
        ),
        case(
            |t| {
                t.replace(
                    "weeks = { value = 4, source = \"clinic policy\" }",
                    "weeks = { value = 0, source = \"clinic policy\" }",
                )
            },
            "sessions.phase[1].weeks",
            "weeks = { value = 0",
        ),
        case(
            |t| t.replace("name = \"taper\"", "name = \" \""),
            "sessions.phase[1].name",
            "name = \" \"",
        ),
        case(
            |t| t.replace("name = \"taper\"", "name = \"Acute\""),
            "sessions.phase[1].name",
            "name = \"Acute\"",
        ),
        case(
            |t| t.replace("min_dosing = { value = 4", "min_dosing = { value = 0"),
            "sessions.min_dosing",
            "min_dosing =",
        ),
        case(
            |t| t.replace("min_dosing = { value = 4", "min_dosing = { value = 9"),
            "sessions.max_dosing",
            "max_dosing =",
        ),
        case(
            |t| t.replace("min_dosing = { value = 4", "min_dosing = { value = 7"),
            "sessions.min_dosing",
            "min_dosing =",
        ),
        case(
            |t| t.replace("max_dosing = { value = 8", "max_dosing = { value = 5"),
            "sessions.max_dosing",
            "max_dosing =",
        ),
        case(
            |t| {
                t.replace(
                    "min_days_between_doses = { value = 2",
                    "min_days_between_doses = { value = 4",
                )
            },
            "sessions.min_days_between_doses",
            "min_days_between_doses =",
        ),
        case(
            |t| {
                t.replace(
                    "integration_after_every = { value = 1",
                    "integration_after_every = { value = 0",
                )
            },
            "sessions.integration_after_every",
            "integration_after_every =",
        ),
        case(
            |t| {
                t.replace(
                    "integration_within_days = { value = 3",
                    "integration_within_days = { value = 0",
                )
            },
            "sessions.integration_within_days",
            "integration_within_days =",
        ),
        case(
            |t| {
                t.replace(
                    "follow_up_every_days = { value = 28",
                    "follow_up_every_days = { value = 0",
                )
            },
            "sessions.follow_up_every_days",
            "follow_up_every_days =",
        ),
        // Durations and monitoring.
        case(
            |t| t.replace("pre_dose = { value = 30", "pre_dose = { value = 0"),
            "durations.pre_dose",
            "pre_dose =",
        ),
        case(
            |t| {
                t.replace(
                    "vitals_every_minutes_after = { value = 15",
                    "vitals_every_minutes_after = { value = 0",
                )
            },
            "monitoring.vitals_every_minutes_after",
            "vitals_every_minutes_after =",
        ),
        also(
            case(
                |t| {
                    t.replace(
                        "minimum_minutes = { value = 90",
                        "minimum_minutes = { value = 30",
                    )
                },
                "monitoring.minimum_minutes",
                "minimum_minutes =",
            ),
            2, // and the blood pressure check at 40 minutes
        ),
        case(
            |t| t.replace("value = [40]", "value = [40, 120]"),
            "monitoring.bp_checks_at_minutes",
            "bp_checks_at_minutes =",
        ),
        case(
            |t| {
                t.replace(
                    "above = 140\nsource = \"clinic policy\"",
                    "source = \"clinic policy\" # no limit",
                )
            },
            "monitoring.hold[0].above",
            "source = \"clinic policy\" # no limit",
        ),
        case(
            |t| t.replace("above = 140", "above = 400"),
            "monitoring.hold[0].above",
            "above = 400",
        ),
        case(
            |t| t.replace("below = 90", "below = 101"),
            "monitoring.alert[0].below",
            "below = 101",
        ),
        case(
            |t| t.replace("below = 40", "below = 120"),
            "monitoring.alert[1].below",
            "below = 120",
        ),
        case(
            |t| {
                t.replace(
                    "moaas_at_least = { value = 5",
                    "moaas_at_least = { value = 6",
                )
            },
            "monitoring.discharge.moaas_at_least",
            "moaas_at_least =",
        ),
        // Questionnaires.
        case(
            |t| t.replace("\"phq9\"", "\"phq-9\""),
            "questionnaires[0].instrument",
            "instrument = \"phq-9\"",
        ),
        case(
            |t| t.replace("\"gad7\"", "\"madrs\""),
            "questionnaires[1].instrument",
            "instrument = \"madrs\"",
        ),
        case(
            |t| {
                t.replace(
                    "hours_before = { value = 24",
                    "hours_before = { value = 169",
                )
            },
            "questionnaires[0].hours_before",
            "hours_before = { value = 169",
        ),
        case(
            |t| {
                t.replace(
                    "before = \"reassessment\"\ninstrument = \"gad7\"",
                    "before = \"dosing\"\ninstrument = \"phq9\" # again",
                )
            },
            "questionnaires[1].instrument",
            "instrument = \"phq9\" # again",
        ),
        // Contraindications.
        case(
            |t| t.replace("id = \"hypersensitivity\"", "id = \"\""),
            "contraindications[0].id",
            "id = \"\"",
        ),
        case(
            |t| {
                format!(
                    "{t}\n[[contraindications]]\nid = \"hypersensitivity\" # again\nwhen = {{ kind = \"has\", condition = \"pregnancy\" }}\nlevel = \"relative\"\nreason = \"r\"\nsource = \"S1\"\n"
                )
            },
            "contraindications[1].id",
            "id = \"hypersensitivity\" # again",
        ),
        case(
            |t| {
                t.replace(
                    "reason = \"Hypersensitivity to ketamine.\"",
                    "reason = \"\"",
                )
            },
            "contraindications[0].reason",
            "reason = \"\"",
        ),
        case(
            |t| {
                t.replace(
                    "reason = \"Hypersensitivity to ketamine.\"\nsource = \"S1\"",
                    "reason = \"r\"\nsource = \"S7\"",
                )
            },
            "contraindications[0].source",
            "source = \"S7\"",
        ),
        case(
            |t| {
                t.replace(
                    "level = \"absolute\"",
                    "level = \"absolute\"\nroutes = [\"im\", \"sublingual\"]",
                )
            },
            "contraindications[0].routes",
            "routes =",
        ),
    ];
    for (i, c) in cases.iter().enumerate() {
        let base = if c.fixed { fixed() } else { PER_KG.to_owned() };
        let text = (c.edit)(&base);
        assert_ne!(text, base, "case {i} ({}) changed nothing", c.field);
        let errs = errors(&text);
        let found = errs.iter().find(|e| e.field == c.field);
        let Some(e) = found else {
            panic!("case {i}: no error for {}; got {errs:#?}", c.field);
        };
        assert_eq!(e.line, c.line.map(|n| line_with(&text, n)), "case {i}: {e}");
        assert_eq!(e.file, "test.toml");
        assert!(!e.message.is_empty());
        assert_eq!(errs.len(), c.count, "case {i} ({}): {errs:#?}", c.field);
    }
}

#[test]
fn follow_up_interval_may_be_zero_without_follow_ups() {
    let t = PER_KG
        .replace("follow_ups = { value = 1", "follow_ups = { value = 0")
        .replace(
            "follow_up_every_days = { value = 28",
            "follow_up_every_days = { value = 0",
        );
    assert_eq!(errors(&t), vec![]);
}

#[test]
fn messages_say_what_is_allowed() {
    let t = PER_KG.replace(
        "min_mg_per_kg = { value = 0.5",
        "min_mg_per_kg = { value = 0.6",
    );
    assert_eq!(
        errors(&t)[0].message,
        "must be at least the minimum (0.6 mg/kg)"
    );
    let t = fixed().replace("first_mg = { value = 56", "first_mg = { value = 70");
    assert_eq!(
        errors(&t)[0].message,
        "must be one of the allowed doses: 56 or 84 mg"
    );
    let t = PER_KG.replace("S2 = \"Author B", "S9 = \"Unused\"\nS2 = \"Author B");
    assert_eq!(
        errors(&t)[0].message,
        "S9 is listed but no number cites it: cite it or remove it"
    );
    let t = PER_KG.replace(
        "min_days_between_doses = { value = 2",
        "min_days_between_doses = { value = 4",
    );
    assert_eq!(
        errors(&t)[0].message,
        "is 4 days, but phase \"acute\" has 2 sessions a week, which puts doses 3 days apart: \
         make it 3 or less"
    );
    let t = PER_KG.replace(
        "mg_per_kg = { value = 0.5, source = \"S1\" }\nmin",
        "mg_per_kg = { value = 0.5, source = \"S1 S4\" }\nmin",
    );
    assert_eq!(
        errors(&t)[0].message,
        "S4 is not in [sources]: add its citation there, or write \"clinic policy\""
    );
}

#[test]
fn several_mistakes_are_all_reported_in_line_order() {
    let t = PER_KG
        .replace("version = 1", "version = 0")
        .replace("max_mg = { value = 80", "max_mg = { value = -5")
        .replace("per_week = { value = 2", "per_week = { value = 0")
        .replace("below = 90", "below = 20")
        .replace("\"gad7\"", "\"bdi2\"")
        .replace(
            "reason = \"Hypersensitivity to ketamine.\"",
            "reason = \" \"",
        );
    let errs = errors(&t);
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "version",
            "dose.max_mg",
            "sessions.min_dosing", // the phases now add up to 2
            "sessions.phase[0].per_week",
            "monitoring.alert[0].below",
            "questionnaires[1].instrument",
            "contraindications[0].reason",
        ]
    );
    let lines: Vec<usize> = errs.iter().filter_map(|e| e.line).collect();
    assert_eq!(lines.len(), errs.len());
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
    let shown = parse("iv.toml", &t).unwrap_err().to_string();
    assert!(
        shown.starts_with("iv.toml:2: version: must be 1 or more\n"),
        "{shown}"
    );
}

#[test]
fn a_toml_mistake_is_one_error_with_its_line_and_field() {
    let one = |text: &str| {
        let e = errors(text);
        assert_eq!(e.len(), 1, "{e:#?}");
        e[0].clone()
    };
    let t = PER_KG.replace(
        "mg_per_kg = { value = 0.5, source = \"S1\" }\nmin",
        "mg_per_kg = { value = \"half\", source = \"S1\" }\nmin",
    );
    let e = one(&t);
    assert_eq!(
        (e.field.as_str(), e.line),
        ("dose.mg_per_kg.value", Some(line_with(&t, "mg_per_kg =")))
    );
    assert!(e.message.starts_with("expected a number"), "{}", e.message);

    let t = PER_KG.replace(
        "max_mg = { value = 80, source = \"clinic policy\" }",
        "max_mg = 80",
    );
    let e = one(&t);
    assert_eq!(
        (e.field.as_str(), e.line),
        ("dose.max_mg", Some(line_with(&t, "max_mg =")))
    );
    assert!(e.message.contains("source"), "{}", e.message);

    let t = PER_KG.replace("name = \"Test IV\"\n", "");
    let e = one(&t);
    assert_eq!((e.field.as_str(), e.line), ("name", None));
    assert_eq!(e.message, "is required but missing");

    let t = PER_KG.replace("[durations]\n", "[durations]\ncolour = \"blue\"\n");
    let e = one(&t);
    assert_eq!(
        (e.field.as_str(), e.line),
        ("durations.colour", Some(line_with(&t, "colour =")))
    );
    assert!(
        e.message.starts_with("is not a known field; expected"),
        "{}",
        e.message
    );

    let t = PER_KG.replace(
        "hours_before = { value = 24, source",
        "hours_before = { value = 24, sauce",
    );
    let e = one(&t);
    assert_eq!(e.field, "questionnaires[0].hours_before.sauce");

    let t = PER_KG.replace("route = \"iv\"", "route = \"oral\"");
    let e = one(&t);
    assert_eq!((e.field.as_str(), e.line), ("route", Some(6)));
    assert!(
        e.message.contains("iv, im, sublingual, esketamine_nasal"),
        "{}",
        e.message
    );

    let t = PER_KG.replace("name = \"Test IV\"", "name = \"Test IV");
    let e = one(&t);
    assert_eq!(e.line, Some(3));

    // A field of the other kind of dose, and one the kind needs.
    let t = PER_KG.replace(
        "infusion_minutes = { value = 40",
        "unit_mg = { value = 28, source = \"S1\" }\ninfusion_minutes = { value = 40",
    );
    let e = one(&t);
    assert_eq!(
        (e.field.as_str(), e.line),
        ("dose.unit_mg", Some(line_with(&t, "[dose]")))
    );
    assert!(e.message.contains("kind = \"fixed\""), "{}", e.message);
    let t = PER_KG.replace(
        "round_to_mg = { value = 0.5, source = \" Clinic Policy \" }\n",
        "",
    );
    let e = one(&t);
    assert_eq!(
        (e.field.as_str(), e.line),
        ("dose.round_to_mg", Some(line_with(&t, "[dose]")))
    );
    let t = fixed().replace("max_mg = { value = 84,", "max_mg = { value = 84.5,");
    let e = one(&t);
    assert!(e.message.contains("whole number"), "{}", e.message);
}

// ---------------------------------------------------------------------------------------------
// The optional [pre_dose] section (clinical.md §2.3: the esketamine label's food, liquid and
// nasal-medicine timing).

const PRE_DOSE: &str = r#"[pre_dose]
food_hours_before = { value = 2, source = "S1" }
fluids_minutes_before = { value = 30, source = "S1 S2" }
nasal_medicines_minutes_before = { value = 60, source = "clinic policy" }

"#;

/// The test protocol with `section` placed before `[monitoring]`.
fn with_pre_dose(section: &str) -> String {
    PER_KG.replace("[monitoring]\n", &format!("{section}[monitoring]\n"))
}

#[test]
fn pre_dose_rules_read_with_their_sources() {
    let p = parse("test.toml", &with_pre_dose(PRE_DOSE)).unwrap();
    let pd = p.pre_dose.unwrap();
    let value = |v: &Option<super::Sourced<u32>>| v.as_ref().map(super::Sourced::get);
    assert_eq!(value(&pd.food_hours_before), Some(2));
    assert_eq!(value(&pd.fluids_minutes_before), Some(30));
    assert_eq!(value(&pd.nasal_medicines_minutes_before), Some(60));
    assert_eq!(
        pd.fluids_minutes_before.unwrap().cited_keys(),
        vec!["S1", "S2"]
    );
    assert!(
        pd.nasal_medicines_minutes_before
            .unwrap()
            .is_clinic_policy()
    );
    // Each rule may be left out on its own.
    let one = "[pre_dose]\nfood_hours_before = { value = 24, source = \"S1\" }\n\n";
    let pd = parse("test.toml", &with_pre_dose(one))
        .unwrap()
        .pre_dose
        .unwrap();
    assert_eq!(value(&pd.food_hours_before), Some(24));
    assert!(pd.fluids_minutes_before.is_none() && pd.nasal_medicines_minutes_before.is_none());
}

#[test]
fn a_protocol_without_pre_dose_sets_no_fasting_rule() {
    assert_eq!(parse("test.toml", PER_KG).unwrap().pre_dose, None);
}

#[test]
fn a_pre_dose_rule_of_zero_is_refused_leave_it_out_instead() {
    for (key, value) in [
        ("food_hours_before", 2),
        ("fluids_minutes_before", 30),
        ("nasal_medicines_minutes_before", 60),
    ] {
        let t = with_pre_dose(&PRE_DOSE.replace(
            &format!("{key} = {{ value = {value},"),
            &format!("{key} = {{ value = 0,"),
        ));
        let errs = errors(&t);
        assert_eq!(errs.len(), 1, "{key}: {errs:#?}");
        assert_eq!(
            (errs[0].field.as_str(), errs[0].line),
            (format!("pre_dose.{key}").as_str(), Some(line_with(&t, key)))
        );
        assert_eq!(errs[0].message, "0 sets no rule: leave it out instead");
    }
}

#[test]
fn a_pre_dose_rule_longer_than_a_day_is_refused() {
    let t = with_pre_dose(&PRE_DOSE.replace("value = 2,", "value = 25,"));
    let errs = errors(&t);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].field, "pre_dose.food_hours_before");
    assert_eq!(errs[0].message, "must be at most 24 hours");
    let t = with_pre_dose(&PRE_DOSE.replace("value = 30,", "value = 1441,"));
    let errs = errors(&t);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(
        (errs[0].field.as_str(), errs[0].line),
        (
            "pre_dose.fluids_minutes_before",
            Some(line_with(&t, "fluids_minutes_before"))
        )
    );
    assert_eq!(errs[0].message, "must be at most 1440 minutes (24 hours)");
    // A whole day is allowed.
    let t = with_pre_dose(&PRE_DOSE.replace("value = 60,", "value = 1440,"));
    assert_eq!(errors(&t), vec![]);
}

#[test]
fn an_empty_pre_dose_section_is_refused() {
    let t = with_pre_dose("[pre_dose]\n\n");
    let errs = errors(&t);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(
        (errs[0].field.as_str(), errs[0].line),
        ("pre_dose", Some(line_with(&t, "[pre_dose]")))
    );
}

#[test]
fn an_unknown_pre_dose_key_is_refused() {
    let t = with_pre_dose(&PRE_DOSE.replace(
        "[pre_dose]\n",
        "[pre_dose]\nalcohol_hours_before = { value = 24, source = \"S1\" }\n",
    ));
    let errs = errors(&t);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(
        (errs[0].field.as_str(), errs[0].line),
        (
            "pre_dose.alcohol_hours_before",
            Some(line_with(&t, "alcohol_hours_before"))
        )
    );
    assert!(
        errs[0]
            .message
            .starts_with("is not a known field; expected"),
        "{}",
        errs[0].message
    );
}

#[test]
fn a_pre_dose_source_not_in_sources_is_refused() {
    let t = with_pre_dose(&PRE_DOSE.replace("source = \"S1 S2\"", "source = \"S1 S41\""));
    let errs = errors(&t);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(
        (errs[0].field.as_str(), errs[0].line),
        (
            "pre_dose.fluids_minutes_before.source",
            Some(line_with(&t, "fluids_minutes_before"))
        )
    );
    assert_eq!(
        errs[0].message,
        "S41 is not in [sources]: add its citation there, or write \"clinic policy\""
    );
    // A source cited only by a pre-dose rule counts as used.
    let t = with_pre_dose(PRE_DOSE).replace(
        "S2 = \"Author B",
        "S3 = \"Author C, A third title, 2022\"\nS2 = \"Author B",
    );
    let t = t.replace(
        "nasal_medicines_minutes_before = { value = 60, source = \"clinic policy\" }",
        "nasal_medicines_minutes_before = { value = 60, source = \"S3\" }",
    );
    assert_eq!(errors(&t), vec![]);
}

// ---------------------------------------------------------------------------------------------
// The shipped protocols.

#[test]
fn every_shipped_protocol_reads_without_a_problem() {
    let files = shipped();
    assert_eq!(files.len(), 4);
    let mut keys = BTreeSet::new();
    for (file, text) in files {
        let p = match parse(file, text) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        // clinical.md gives fasting and timing numbers for esketamine only (§2.3).
        assert_eq!(
            p.pre_dose.is_some(),
            file == "esketamine-trd.toml",
            "{file}"
        );
        assert!(keys.insert(p.key.clone()), "{} twice", p.key);
        assert_eq!(format!("{}.toml", p.key), file);
        assert_eq!(p.version, 1);
        // The default planned dose is one the rule allows.
        assert_eq!(
            p.dose.check_planned(p.dose.default_planned()),
            Ok(()),
            "{file}"
        );
        // Each file says what it is and that its numbers are defaults to review.
        assert!(text.starts_with("# "), "{file}");
        assert!(text.contains("defaults for a clinic to review"), "{file}");
    }
}

fn shipped_protocol(key: &str) -> super::Protocol {
    let (file, text) = shipped()
        .into_iter()
        .find(|(f, _)| f.starts_with(key))
        .unwrap_or_else(|| panic!("{key} is not shipped"));
    parse(file, text).unwrap()
}

/// clinical.md §2.2–2.4: 56 mg on day 1, then 56 or 84 mg in 28 mg devices 5 minutes apart;
/// twice a week for 4 weeks, weekly for 4, then every 2 weeks; at least 2 hours of monitoring
/// with blood pressure at about 40 minutes; the label's three absolute contraindications.
#[test]
fn esketamine_follows_the_label() {
    let p = shipped_protocol("esketamine-trd");
    assert_eq!(p.route, Route::EsketamineNasal);
    assert_eq!(p.dose.allowed_fixed(), vec![56, 84]);
    assert_eq!(p.dose.default_planned(), PlannedDose::Fixed { mg: 56 });
    assert_eq!(p.monitoring.minimum_minutes.get(), 120);
    assert_eq!(
        p.monitoring
            .bp_checks_at_minutes
            .as_ref()
            .map(|b| b.value.get_ref().clone()),
        Some(vec![40])
    );
    let rhythm: Vec<(u32, u32)> = p
        .sessions
        .phase
        .iter()
        .map(|ph| (ph.weeks.get(), ph.sessions()))
        .collect();
    assert_eq!(rhythm, vec![(4, 8), (4, 4), (8, 4)]);
    let absolute: Vec<&str> = p
        .contraindications
        .iter()
        .filter(|r| r.level == Level::Absolute)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(
        absolute,
        vec![
            "aneurysm_avm",
            "intracerebral_haemorrhage",
            "ketamine_hypersensitivity"
        ]
    );
    let c = p
        .calculate_dose(PlannedDose::Fixed { mg: 84 }, 70.0, None, Sex::Female)
        .unwrap();
    assert!(
        c.steps.contains(&"84 mg = 3 devices of 28 mg".to_owned()),
        "{:?}",
        c.steps
    );
    // §2.3: no food 2 h and no liquids 30 min before, nasal corticosteroid or decongestant at
    // least 1 h before [S41] [S42].
    let pd = p.pre_dose.as_ref().unwrap();
    for (rule, value) in [
        (&pd.food_hours_before, 2),
        (&pd.fluids_minutes_before, 30),
        (&pd.nasal_medicines_minutes_before, 60),
    ] {
        let rule = rule.as_ref().unwrap();
        assert_eq!(rule.get(), value);
        assert_eq!(rule.cited_keys(), vec!["S41", "S42"]);
    }
    // The label's blood-pressure example is UNCONFIRMED wording: the hold limits are the clinic's.
    assert!(
        p.monitoring
            .hold
            .iter()
            .all(|t| t.source.get_ref() == "clinic policy")
    );
}

/// clinical.md §1.1, §1.4: 0.5 mg/kg over 40 minutes, vitals every 10 minutes during and 15
/// after, monitoring through about 90 minutes from the start.
#[test]
fn iv_ketamine_is_the_standard_infusion() {
    let p = shipped_protocol("iv-ketamine");
    assert_eq!(
        p.dose.default_planned(),
        PlannedDose::PerKg { ug_per_kg: 500 }
    );
    assert_eq!(p.dosing_sessions(), 6);
    assert_eq!(p.monitoring.vitals_every_minutes_during.get(), 10);
    assert_eq!(p.monitoring.vitals_every_minutes_after.get(), 15);
    assert_eq!(p.monitoring.minimum_minutes.get(), 90);
    let c = p
        .calculate_dose(PlannedDose::PerKg { ug_per_kg: 500 }, 70.0, None, Sex::Male)
        .unwrap();
    assert_eq!(c.mg, 35.0);
    assert_eq!(
        c.steps.last().map(String::as_str),
        Some("infused over 40 minutes")
    );
    // The 180/100 and heart-rate 110 figures are UNCONFIRMED: clinic policy, not a citation.
    assert!(
        p.monitoring
            .alert
            .iter()
            .all(|t| t.source.get_ref() == "clinic policy")
    );
}

/// clinical.md §4.3: IM 0.5–0.75 mg/kg, at most 60 mg ([S85]); lozenges 100–400 mg of 50 and
/// 100 mg units ([S76], [S77]).
#[test]
fn kap_doses_stay_within_the_cited_ranges() {
    let im = shipped_protocol("im-kap");
    let c = im
        .calculate_dose(
            PlannedDose::PerKg { ug_per_kg: 750 },
            120.0,
            None,
            Sex::Male,
        )
        .unwrap();
    assert_eq!(c.mg, 60.0);
    assert!(
        im.dose
            .check_planned(PlannedDose::PerKg { ug_per_kg: 800 })
            .is_err()
    );
    let sl = shipped_protocol("sublingual-kap");
    assert_eq!(
        sl.dose.allowed_fixed(),
        vec![100, 150, 200, 250, 300, 350, 400]
    );
    let c = sl
        .calculate_dose(PlannedDose::Fixed { mg: 150 }, 70.0, None, Sex::Female)
        .unwrap();
    assert!(
        c.steps.contains(&"150 mg = 3 lozenges of 50 mg".to_owned()),
        "{:?}",
        c.steps
    );
    assert_eq!(sl.sessions.min_dosing.get(), 3);
    assert_eq!(sl.sessions.max_dosing.get(), 6);
}
