//! Reading a protocol file: TOML into [`Protocol`], then every rule a protocol must follow,
//! with every problem reported at once, each naming the file, the line and the field.
//!
//! A file that is not valid TOML, or does not fit the types, gives one problem (the TOML reader
//! stops at the first). A file that reads gets every rule checked, and every broken rule is
//! reported, in the order of the file's lines.

use super::{
    DoseRule, Drug, IdealBodyWeight, Protocol, Sourced, Threshold, VitalMeasure, cited_keys,
    is_clinic_policy, num, or_list,
};
use crate::instruments::{self, Administration};
use crate::screening::Route;
use serde::{Deserialize, Deserializer};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use toml::Spanned;

/// One problem with a protocol file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    pub file: String,
    /// 1-based line, where the problem has a place in the file.
    pub line: Option<usize>,
    /// Dotted path of the field, e.g. `dose.max_mg_per_kg` or `sessions.phase[1].weeks`.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}: {}", self.file, l, self.field, self.message),
            None => write!(f, "{}: {}: {}", self.file, self.field, self.message),
        }
    }
}

/// Every problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolErrors(pub Vec<ProtocolError>);

impl std::fmt::Display for ProtocolErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProtocolErrors {}

/// Reads and validates one protocol file. `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Protocol, ProtocolErrors> {
    let protocol: Protocol = match toml::from_str(text) {
        Ok(p) => p,
        Err(e) => return Err(ProtocolErrors(vec![read_error(file, text, &e)])),
    };
    // The same text read again for the places of values the types keep without a span. It
    // cannot fail where the first reading succeeded; if it did, problems lose their line only.
    let places: Places = toml::from_str(text).unwrap_or_default();
    let mut check = Check {
        file,
        text,
        places: &places,
        errors: vec![],
    };
    check.protocol(&protocol);
    let mut errors = check.errors;
    if errors.is_empty() {
        return Ok(protocol);
    }
    errors.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
    Err(ProtocolErrors(errors))
}

/// The protocols Kapstone ships (`protocols/*.toml`): file name and text.
pub fn shipped() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "iv-ketamine.toml",
            include_str!("../../../../protocols/iv-ketamine.toml"),
        ),
        (
            "esketamine-trd.toml",
            include_str!("../../../../protocols/esketamine-trd.toml"),
        ),
        (
            "im-kap.toml",
            include_str!("../../../../protocols/im-kap.toml"),
        ),
        (
            "sublingual-kap.toml",
            include_str!("../../../../protocols/sublingual-kap.toml"),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// The dose rule, read by hand (see `DoseRule`).

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum DoseKind {
    PerKg,
    Fixed,
}

/// `max_mg` is whole mg for a fixed dose and any mg for a weight-based one, so it is read as
/// either before the kind decides.
#[derive(Clone, Copy)]
enum Mg {
    Whole(i64),
    Decimal(f64),
}

impl<'de> Deserialize<'de> for Mg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Mg;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number of mg")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Mg, E> {
                Ok(Mg::Whole(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Mg, E> {
                i64::try_from(v)
                    .map(Mg::Whole)
                    .map_err(|_| E::custom("invalid value: too large a number of mg"))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Mg, E> {
                Ok(Mg::Decimal(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DoseFields {
    kind: DoseKind,
    #[serde(default)]
    mg_per_kg: Option<Sourced<f64>>,
    #[serde(default)]
    min_mg_per_kg: Option<Sourced<f64>>,
    #[serde(default)]
    max_mg_per_kg: Option<Sourced<f64>>,
    #[serde(default)]
    max_mg: Option<Sourced<Mg>>,
    #[serde(default)]
    round_to_mg: Option<Sourced<f64>>,
    #[serde(default)]
    ideal_body_weight: Option<IdealBodyWeight>,
    #[serde(default)]
    infusion_minutes: Option<Sourced<u32>>,
    #[serde(default)]
    first_mg: Option<Sourced<u32>>,
    #[serde(default)]
    min_mg: Option<Sourced<u32>>,
    #[serde(default)]
    step_mg: Option<Sourced<u32>>,
    #[serde(default)]
    unit_mg: Option<Sourced<u32>>,
    #[serde(default)]
    minutes_between_units: Option<Sourced<u32>>,
}

fn required<T, E: serde::de::Error>(v: Option<T>, name: &'static str) -> Result<T, E> {
    v.ok_or_else(|| E::missing_field(name))
}

fn not_here<E: serde::de::Error>(
    present: &[(&str, bool)],
    kind: &str,
    other: &str,
) -> Result<(), E> {
    match present.iter().find(|(_, p)| *p) {
        Some((name, _)) => Err(E::custom(format!(
            "unknown field `{name}`: it belongs to kind = \"{other}\", not \"{kind}\""
        ))),
        None => Ok(()),
    }
}

impl<'de> Deserialize<'de> for DoseRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let f = DoseFields::deserialize(d)?;
        match f.kind {
            DoseKind::PerKg => {
                not_here::<D::Error>(
                    &[
                        ("first_mg", f.first_mg.is_some()),
                        ("min_mg", f.min_mg.is_some()),
                        ("step_mg", f.step_mg.is_some()),
                        ("unit_mg", f.unit_mg.is_some()),
                        ("minutes_between_units", f.minutes_between_units.is_some()),
                    ],
                    "per_kg",
                    "fixed",
                )?;
                let max_mg = f.max_mg.map(|s| {
                    let span = s.value.span();
                    let v = match s.get_mg() {
                        Mg::Whole(n) => n as f64,
                        Mg::Decimal(x) => x,
                    };
                    Sourced {
                        value: Spanned::new(span, v),
                        source: s.source,
                    }
                });
                Ok(DoseRule::PerKg {
                    mg_per_kg: required(f.mg_per_kg, "mg_per_kg")?,
                    min_mg_per_kg: required(f.min_mg_per_kg, "min_mg_per_kg")?,
                    max_mg_per_kg: required(f.max_mg_per_kg, "max_mg_per_kg")?,
                    max_mg,
                    round_to_mg: required(f.round_to_mg, "round_to_mg")?,
                    ideal_body_weight: f.ideal_body_weight,
                    infusion_minutes: f.infusion_minutes,
                })
            }
            DoseKind::Fixed => {
                not_here::<D::Error>(
                    &[
                        ("mg_per_kg", f.mg_per_kg.is_some()),
                        ("min_mg_per_kg", f.min_mg_per_kg.is_some()),
                        ("max_mg_per_kg", f.max_mg_per_kg.is_some()),
                        ("round_to_mg", f.round_to_mg.is_some()),
                        ("ideal_body_weight", f.ideal_body_weight.is_some()),
                        ("infusion_minutes", f.infusion_minutes.is_some()),
                    ],
                    "fixed",
                    "per_kg",
                )?;
                let max = required(f.max_mg, "max_mg")?;
                let span = max.value.span();
                let whole = match max.get_mg() {
                    Mg::Whole(n) => u32::try_from(n).ok(),
                    Mg::Decimal(_) => None,
                };
                let Some(whole) = whole else {
                    return Err(D::Error::custom(
                        "invalid value: `max_mg` of a fixed dose must be a whole number of mg",
                    ));
                };
                Ok(DoseRule::Fixed {
                    first_mg: required(f.first_mg, "first_mg")?,
                    min_mg: required(f.min_mg, "min_mg")?,
                    max_mg: Sourced {
                        value: Spanned::new(span, whole),
                        source: max.source,
                    },
                    step_mg: required(f.step_mg, "step_mg")?,
                    unit_mg: f.unit_mg,
                    minutes_between_units: f.minutes_between_units,
                })
            }
        }
    }
}

impl Sourced<Mg> {
    fn get_mg(&self) -> Mg {
        *self.value.get_ref()
    }
}

// ---------------------------------------------------------------------------------------------
// Errors from the TOML reader.

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn read_error(file: &str, text: &str, e: &toml::de::Error) -> ProtocolError {
    let raw = e.message();
    let named = ["missing field `", "unknown field `", "duplicate key `"]
        .iter()
        .find_map(|p| raw.strip_prefix(p))
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    let (line, field) = match e.span() {
        Some(span) => {
            let table = table_path_at(text, span.start);
            let (keys, at_key) = keys_before(text, span.start);
            let mut parts: Vec<String> = table.into_iter().collect();
            // A named field: the error points at its table, or at the unknown key itself.
            if named.is_none() || !at_key {
                parts.extend(keys);
            }
            parts.extend(named.map(str::to_owned));
            // A required field missing from the top of the file has no line of its own.
            let line = (!(raw.starts_with("missing field") && parts.len() == 1))
                .then(|| line_of(text, span.start));
            (line, parts.join("."))
        }
        None => (None, named.unwrap_or_default().to_owned()),
    };
    ProtocolError {
        file: file.to_owned(),
        line,
        field,
        message: plain_message(raw),
    }
}

/// The TOML reader's message in words an administrator reads.
fn plain_message(raw: &str) -> String {
    let raw = raw.trim();
    if raw.starts_with("missing field") {
        return "is required but missing".to_owned();
    }
    if raw.starts_with("duplicate key") {
        return "appears twice; keep one".to_owned();
    }
    if let Some(rest) = raw
        .strip_prefix("unknown field `")
        .and_then(|r| r.split_once('`'))
        .map(|(_, rest)| rest)
    {
        let rest = rest.replace('`', "");
        let rest = rest
            .strip_prefix(", expected ")
            .map_or(rest.clone(), |list| format!("; expected {list}"));
        return format!("is not a known field{rest}");
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = raw.strip_prefix(prefix) {
            return match rest.rsplit_once(", expected ") {
                Some((found, expected)) => format!(
                    "expected {}, found {}",
                    plain_expected(expected),
                    found.replace('`', "")
                ),
                None => rest.replace('`', ""),
            };
        }
    }
    if let Some(rest) = raw.strip_prefix("unknown variant ") {
        return format!("unknown value {}", rest.replace('`', "\""));
    }
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

fn plain_expected(expected: &str) -> String {
    match expected {
        "f64" => "a number".to_owned(),
        "u32" | "u16" | "u8" => "a whole number (0 or more)".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "a sequence" => "a list in [ ]".to_owned(),
        "a string" => "text in quotes".to_owned(),
        e if e.starts_with("struct Sourced") => {
            "a value with its source, e.g. { value = 40, source = \"S3\" } or source = \"clinic policy\""
                .to_owned()
        }
        e if e.starts_with("struct ") => "a table".to_owned(),
        e => e.replace('`', "\""),
    }
}

/// The dotted path of the table a byte offset is in, from the `[table]` and `[[array]]`
/// headers above it (array entries numbered from 0). `None` at the top of the file.
fn table_path_at(text: &str, offset: usize) -> Option<String> {
    let line = line_of(text, offset);
    let mut current: Option<String> = None;
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for l in text.lines().take(line) {
        let t = l.trim();
        let (name, array) = if let Some(n) = t.strip_prefix("[[").and_then(|r| r.split_once("]]")) {
            (n.0, true)
        } else if let Some(n) = t.strip_prefix('[').and_then(|r| r.split_once(']')) {
            (n.0, false)
        } else {
            continue;
        };
        let name: String = name.chars().filter(|c| !c.is_whitespace()).collect();
        if name.is_empty() || name.contains(['"', '\'', ',']) {
            continue; // a value such as a list that starts a line, not a header
        }
        if array {
            // A new entry of an array restarts the numbering of the arrays inside it.
            let inner = format!("{name}.");
            index.retain(|k, _| !k.starts_with(&inner));
            index
                .entry(name.clone())
                .and_modify(|i| *i += 1)
                .or_insert(0);
        }
        let mut path = String::new();
        let mut prefix = String::new();
        for (i, seg) in name.split('.').enumerate() {
            if i > 0 {
                path.push('.');
                prefix.push('.');
            }
            path.push_str(seg);
            prefix.push_str(seg);
            if let Some(n) = index.get(&prefix) {
                path.push_str(&format!("[{n}]"));
            }
        }
        current = Some(path);
    }
    current
}

/// The keys leading to a byte offset within its line: `mg_per_kg = { value = …` at the value
/// gives `mg_per_kg.value`. At a key itself, that key, and `true`.
fn keys_before(text: &str, offset: usize) -> (Vec<String>, bool) {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = &text[start..end];
    let t = line.trim_start();
    if t.starts_with('#') || t.starts_with('[') || t.is_empty() {
        return (vec![], false);
    }
    let prefix = &text[start..offset];
    let mut stack: Vec<String> = vec![];
    let mut current: Option<String> = None;
    let mut token = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in prefix.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q == '"' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => {
                quote = Some(c);
                token.clear();
            }
            '=' => {
                current = Some(token.trim().to_owned());
                token.clear();
            }
            '{' => {
                stack.push(current.take().unwrap_or_default());
                token.clear();
            }
            '}' => {
                current = stack.pop();
                token.clear();
            }
            ',' => {
                current = None;
                token.clear();
            }
            '[' | ']' => token.clear(),
            _ => token.push(c),
        }
    }
    if current.is_none() && stack.is_empty() {
        // At the key itself.
        let key = text[offset..end]
            .split('=')
            .next()
            .unwrap_or_default()
            .trim();
        return if key.is_empty() {
            (vec![], false)
        } else {
            (vec![key.to_owned()], true)
        };
    }
    let keys = stack
        .into_iter()
        .chain(current)
        .filter(|k| !k.is_empty())
        .collect();
    (keys, false)
}

// ---------------------------------------------------------------------------------------------
// Where values without a span of their own are.

type Place = Option<Spanned<toml::Value>>;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Places {
    key: Place,
    version: Place,
    name: Place,
    summary: Place,
    drug: Place,
    route: Place,
    sources: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    dose: Option<Spanned<DosePlaces>>,
    sessions: Option<Spanned<SessionPlaces>>,
    pre_dose: Place,
    contraindications: Vec<Spanned<RulePlaces>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DosePlaces {
    kind: Place,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SessionPlaces {
    phase: Vec<Spanned<PhasePlaces>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PhasePlaces {
    name: Place,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RulePlaces {
    id: Place,
    reason: Place,
    source: Place,
    routes: Place,
}

fn at(p: &Place) -> Option<Range<usize>> {
    p.as_ref().map(Spanned::span)
}

impl Places {
    fn source_key(&self, key: &str) -> Option<Range<usize>> {
        self.sources
            .keys()
            .find(|k| k.get_ref() == key)
            .map(Spanned::span)
    }

    fn source_citation(&self, key: &str) -> Option<Range<usize>> {
        self.sources
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(_, v)| v.span())
    }

    fn dose_kind(&self) -> Option<Range<usize>> {
        let dose = self.dose.as_ref()?;
        at(&dose.get_ref().kind).or_else(|| Some(dose.span()))
    }

    fn dose_table(&self) -> Option<Range<usize>> {
        self.dose.as_ref().map(Spanned::span)
    }

    fn phase(&self, i: usize) -> Option<&Spanned<PhasePlaces>> {
        self.sessions.as_ref()?.get_ref().phase.get(i)
    }

    fn phase_name(&self, i: usize) -> Option<Range<usize>> {
        let p = self.phase(i)?;
        at(&p.get_ref().name).or_else(|| Some(p.span()))
    }

    fn rule(&self, i: usize, pick: fn(&RulePlaces) -> &Place) -> Option<Range<usize>> {
        let r = self.contraindications.get(i)?;
        at(pick(r.get_ref())).or_else(|| Some(r.span()))
    }
}

// ---------------------------------------------------------------------------------------------
// The rules.

/// Every `source` in the file with the path it is reported under.
fn sources_of(p: &Protocol) -> Vec<(String, &Spanned<String>)> {
    let mut out: Vec<(String, &Spanned<String>)> = vec![];
    macro_rules! s {
        ($path:expr, $v:expr) => {
            out.push((format!("{}.source", $path), &$v.source))
        };
    }
    macro_rules! opt {
        ($path:expr, $v:expr) => {
            if let Some(v) = $v {
                s!($path, v);
            }
        };
    }
    match &p.dose {
        DoseRule::PerKg {
            mg_per_kg,
            min_mg_per_kg,
            max_mg_per_kg,
            max_mg,
            round_to_mg,
            ideal_body_weight,
            infusion_minutes,
        } => {
            s!("dose.mg_per_kg", mg_per_kg);
            s!("dose.min_mg_per_kg", min_mg_per_kg);
            s!("dose.max_mg_per_kg", max_mg_per_kg);
            opt!("dose.max_mg", max_mg);
            s!("dose.round_to_mg", round_to_mg);
            if let Some(w) = ideal_body_weight {
                s!("dose.ideal_body_weight.above_bmi", w.above_bmi);
                s!("dose.ideal_body_weight.base_kg_male", w.base_kg_male);
                s!("dose.ideal_body_weight.base_kg_female", w.base_kg_female);
                s!("dose.ideal_body_weight.base_height_cm", w.base_height_cm);
                s!("dose.ideal_body_weight.kg_per_cm", w.kg_per_cm);
            }
            opt!("dose.infusion_minutes", infusion_minutes);
        }
        DoseRule::Fixed {
            first_mg,
            min_mg,
            max_mg,
            step_mg,
            unit_mg,
            minutes_between_units,
        } => {
            s!("dose.first_mg", first_mg);
            s!("dose.min_mg", min_mg);
            s!("dose.max_mg", max_mg);
            s!("dose.step_mg", step_mg);
            opt!("dose.unit_mg", unit_mg);
            opt!("dose.minutes_between_units", minutes_between_units);
        }
    }
    if let Some(b) = &p.booster {
        s!("booster.max_count", b.max_count);
        s!("booster.min_minutes_after_first", b.min_minutes_after_first);
        s!("booster.max_total", b.max_total);
    }
    let ss = &p.sessions;
    s!("sessions.preparation", ss.preparation);
    for (i, ph) in ss.phase.iter().enumerate() {
        s!(format!("sessions.phase[{i}].weeks"), ph.weeks);
        opt!(format!("sessions.phase[{i}].per_week"), &ph.per_week);
        opt!(format!("sessions.phase[{i}].every_weeks"), &ph.every_weeks);
    }
    s!("sessions.min_dosing", ss.min_dosing);
    s!("sessions.max_dosing", ss.max_dosing);
    s!("sessions.min_days_between_doses", ss.min_days_between_doses);
    s!(
        "sessions.integration_after_every",
        ss.integration_after_every
    );
    s!(
        "sessions.integration_within_days",
        ss.integration_within_days
    );
    s!("sessions.follow_ups", ss.follow_ups);
    s!("sessions.follow_up_every_days", ss.follow_up_every_days);
    let d = &p.durations;
    s!("durations.preparation", d.preparation);
    s!("durations.integration", d.integration);
    s!("durations.follow_up", d.follow_up);
    s!("durations.reassessment", d.reassessment);
    s!("durations.pre_dose", d.pre_dose);
    if let Some(pd) = &p.pre_dose {
        opt!("pre_dose.food_hours_before", &pd.food_hours_before);
        opt!("pre_dose.fluids_minutes_before", &pd.fluids_minutes_before);
        opt!(
            "pre_dose.nasal_medicines_minutes_before",
            &pd.nasal_medicines_minutes_before
        );
    }
    let m = &p.monitoring;
    s!(
        "monitoring.vitals_every_minutes_during",
        m.vitals_every_minutes_during
    );
    s!(
        "monitoring.vitals_every_minutes_after",
        m.vitals_every_minutes_after
    );
    s!("monitoring.minimum_minutes", m.minimum_minutes);
    opt!("monitoring.bp_checks_at_minutes", &m.bp_checks_at_minutes);
    for (i, t) in m.hold.iter().enumerate() {
        s!(format!("monitoring.hold[{i}]"), t);
    }
    for (i, t) in m.alert.iter().enumerate() {
        s!(format!("monitoring.alert[{i}]"), t);
    }
    s!(
        "monitoring.discharge.moaas_at_least",
        m.discharge.moaas_at_least
    );
    for (i, q) in p.questionnaires.iter().enumerate() {
        s!(format!("questionnaires[{i}].hours_before"), q.hours_before);
    }
    out
}

/// Plausible bounds of a vital sign, to catch a typing slip in a threshold.
/// Plausible bounds of a vital sign (the flowsheet's), to catch a typing slip in a threshold.
fn plausible(m: VitalMeasure) -> (f64, f64, &'static str) {
    let (lo, hi) = crate::dosing::flowsheet::plausible(m);
    (lo, hi, crate::dosing::flowsheet::words(m))
}

fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Allowed doses listed for a message, or described when the list is long.
fn fixed_doses(min: u32, max: u32, step: u32) -> String {
    if step == 0 || min > max {
        return format!("{min} mg");
    }
    let n = (max - min) / step + 1;
    if n > 10 {
        return format!("{min} mg and every {step} mg up to {max} mg");
    }
    let all: Vec<u32> = (min..=max).step_by(step as usize).collect();
    format!("{} mg", or_list(&all))
}

struct Check<'a> {
    file: &'a str,
    text: &'a str,
    places: &'a Places,
    errors: Vec<ProtocolError>,
}

impl Check<'_> {
    fn err(
        &mut self,
        span: Option<Range<usize>>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.errors.push(ProtocolError {
            file: self.file.to_owned(),
            line: span.map(|s| line_of(self.text, s.start)),
            field: field.into(),
            message: message.into(),
        });
    }

    /// An error at a sourced value.
    fn bad<T>(&mut self, field: impl Into<String>, v: &Sourced<T>, message: impl Into<String>) {
        self.err(Some(v.value.span()), field, message);
    }

    fn at_least(&mut self, field: impl Into<String>, v: &Sourced<u32>, min: u32, unit: &str) {
        if v.get() < min {
            self.bad(field, v, format!("must be at least {min}{unit}"));
        }
    }

    /// More than 0 and a real number; false when it is not.
    fn positive(&mut self, field: impl Into<String>, v: &Sourced<f64>) -> bool {
        let x = v.get();
        let ok = x.is_finite() && x > 0.0;
        if !ok {
            self.bad(field, v, "must be a number more than 0");
        }
        ok
    }

    fn protocol(&mut self, p: &Protocol) {
        self.identity(p);
        self.sources(p);
        self.dose(p);
        self.booster(p);
        self.sessions(p);
        self.durations(p);
        self.pre_dose(p);
        self.monitoring(p);
        self.questionnaires(p);
        self.contraindications(p);
    }

    fn identity(&mut self, p: &Protocol) {
        let pl = self.places;
        if !valid_key(&p.key) {
            self.err(
                at(&pl.key),
                "key",
                "must be 1 to 64 lower-case letters, digits or hyphens, starting with a letter \
                 (e.g. iv-ketamine)",
            );
        }
        if p.version < 1 {
            self.err(at(&pl.version), "version", "must be 1 or more");
        }
        if p.name.trim().is_empty() {
            self.err(at(&pl.name), "name", "must not be blank");
        }
        if p.summary.trim().is_empty() {
            self.err(at(&pl.summary), "summary", "must not be blank");
        }
        match (p.drug, p.route) {
            (Drug::Esketamine, r) if r != Route::EsketamineNasal => self.err(
                at(&pl.route),
                "route",
                "esketamine is given as a nasal spray: the route must be esketamine_nasal",
            ),
            (Drug::Ketamine, Route::EsketamineNasal) => self.err(
                at(&pl.drug),
                "drug",
                "the esketamine_nasal route gives esketamine: the drug must be esketamine",
            ),
            _ => {}
        }
    }

    fn sources(&mut self, p: &Protocol) {
        let mut used: BTreeSet<&str> = BTreeSet::new();
        let mut cite = |this: &mut Self,
                        field: String,
                        source: &str,
                        span: Option<Range<usize>>| {
            if is_clinic_policy(source) {
                return;
            }
            let keys = cited_keys(source);
            if keys.is_empty() {
                this.err(
                    span.clone(),
                    field.clone(),
                    "needs a source: keys of [sources] (e.g. \"S3 S4\") or \"clinic policy\"",
                );
            }
            for k in keys {
                match p.sources.get_key_value(k) {
                    Some((key, _)) => {
                        used.insert(key.as_str());
                    }
                    None => this.err(
                        span.clone(),
                        field.clone(),
                        format!(
                            "{k} is not in [sources]: add its citation there, or write \"clinic policy\""
                        ),
                    ),
                }
            }
        };
        for (field, source) in sources_of(p) {
            cite(self, field, source.get_ref(), Some(source.span()));
        }
        for (i, r) in p.contraindications.iter().enumerate() {
            let span = self.places.rule(i, |r| &r.source);
            cite(
                self,
                format!("contraindications[{i}].source"),
                &r.source,
                span,
            );
        }
        for (key, citation) in &p.sources {
            let field = format!("sources.{key}");
            if key.contains(|c: char| c.is_whitespace() || c == ',') {
                self.err(
                    self.places.source_key(key),
                    field.clone(),
                    "a source key cannot contain spaces or commas",
                );
            }
            if citation.trim().is_empty() {
                self.err(
                    self.places.source_citation(key),
                    field.clone(),
                    "needs its citation (authors, title, year)",
                );
            }
            if !used.contains(key.as_str()) {
                self.err(
                    self.places.source_key(key),
                    field,
                    format!("{key} is listed but no number cites it: cite it or remove it"),
                );
            }
        }
    }

    fn dose(&mut self, p: &Protocol) {
        let kind_at = self.places.dose_kind();
        match &p.dose {
            DoseRule::PerKg {
                mg_per_kg,
                min_mg_per_kg,
                max_mg_per_kg,
                max_mg,
                round_to_mg,
                ideal_body_weight,
                infusion_minutes,
            } => {
                if p.drug == Drug::Esketamine {
                    self.err(
                        kind_at,
                        "dose.kind",
                        "esketamine is given in fixed doses of 28 mg devices: use kind = \"fixed\"",
                    );
                }
                let ok = [
                    self.positive("dose.min_mg_per_kg", min_mg_per_kg),
                    self.positive("dose.mg_per_kg", mg_per_kg),
                    self.positive("dose.max_mg_per_kg", max_mg_per_kg),
                ];
                if ok.iter().all(|x| *x) {
                    let (lo, d, hi) = (min_mg_per_kg.get(), mg_per_kg.get(), max_mg_per_kg.get());
                    if lo > hi {
                        self.bad(
                            "dose.max_mg_per_kg",
                            max_mg_per_kg,
                            format!("must be at least the minimum ({} mg/kg)", num(lo)),
                        );
                    } else if d < lo {
                        self.bad(
                            "dose.mg_per_kg",
                            mg_per_kg,
                            format!("must be at least the minimum ({} mg/kg)", num(lo)),
                        );
                    } else if d > hi {
                        self.bad(
                            "dose.mg_per_kg",
                            mg_per_kg,
                            format!("must be at most the maximum ({} mg/kg)", num(hi)),
                        );
                    }
                }
                if let Some(m) = max_mg {
                    self.positive("dose.max_mg", m);
                }
                self.positive("dose.round_to_mg", round_to_mg);
                if let Some(w) = ideal_body_weight {
                    self.positive("dose.ideal_body_weight.above_bmi", &w.above_bmi);
                    self.positive("dose.ideal_body_weight.base_kg_male", &w.base_kg_male);
                    self.positive("dose.ideal_body_weight.base_kg_female", &w.base_kg_female);
                    self.positive("dose.ideal_body_weight.base_height_cm", &w.base_height_cm);
                    self.positive("dose.ideal_body_weight.kg_per_cm", &w.kg_per_cm);
                }
                match (infusion_minutes, p.route) {
                    (Some(m), Route::Iv) => self.at_least("dose.infusion_minutes", m, 1, " minute"),
                    (Some(m), r) => self.bad(
                        "dose.infusion_minutes",
                        m,
                        format!(
                            "only an IV protocol has an infusion time; remove it for route {r}"
                        ),
                    ),
                    (None, Route::Iv) => self.err(
                        self.places.dose_table(),
                        "dose.infusion_minutes",
                        "an IV protocol needs the infusion time in minutes",
                    ),
                    (None, _) => {}
                }
            }
            DoseRule::Fixed {
                first_mg,
                min_mg,
                max_mg,
                step_mg,
                unit_mg,
                minutes_between_units,
            } => {
                if p.route == Route::Iv {
                    self.err(
                        kind_at,
                        "dose.kind",
                        "an IV infusion is dosed by weight over a set time: use kind = \"per_kg\" \
                         with infusion_minutes",
                    );
                }
                self.at_least("dose.min_mg", min_mg, 1, " mg");
                self.at_least("dose.step_mg", step_mg, 1, " mg");
                let (first, lo, hi, step) =
                    (first_mg.get(), min_mg.get(), max_mg.get(), step_mg.get());
                if lo > hi {
                    self.bad(
                        "dose.max_mg",
                        max_mg,
                        format!("must be at least the minimum ({lo} mg)"),
                    );
                } else {
                    if first < lo {
                        self.bad(
                            "dose.first_mg",
                            first_mg,
                            format!("must be at least the minimum ({lo} mg)"),
                        );
                    } else if first > hi {
                        self.bad(
                            "dose.first_mg",
                            first_mg,
                            format!("must be at most the maximum ({hi} mg)"),
                        );
                    }
                    if step > 0 && (hi - lo) % step != 0 {
                        let below = hi - (hi - lo) % step;
                        self.bad(
                            "dose.max_mg",
                            max_mg,
                            format!(
                                "must be the minimum ({lo} mg) plus whole steps of {step} mg, \
                                 e.g. {below} or {} mg",
                                below.saturating_add(step)
                            ),
                        );
                    }
                    if step > 0 && (lo..=hi).contains(&first) && (first - lo) % step != 0 {
                        self.bad(
                            "dose.first_mg",
                            first_mg,
                            format!(
                                "must be one of the allowed doses: {}",
                                fixed_doses(lo, hi, step)
                            ),
                        );
                    }
                }
                match unit_mg {
                    Some(u) if u.get() == 0 => self.bad("dose.unit_mg", u, "must be at least 1 mg"),
                    Some(u) => {
                        let unit = u.get();
                        if let Some(off) = [lo, step].into_iter().find(|x| x % unit != 0) {
                            let what = if off == lo && lo % unit != 0 {
                                format!("the minimum dose {lo} mg")
                            } else {
                                format!("the step {step} mg")
                            };
                            self.bad(
                                "dose.unit_mg",
                                u,
                                format!(
                                    "every allowed dose must be a whole number of {unit} mg units, \
                                     but {what} is not"
                                ),
                            );
                        }
                    }
                    None => {}
                }
                if let (Some(m), None) = (minutes_between_units, unit_mg) {
                    self.bad(
                        "dose.minutes_between_units",
                        m,
                        "only a dose given in units (unit_mg) has a rest between units",
                    );
                }
            }
        }
    }

    fn booster(&mut self, p: &Protocol) {
        let Some(b) = &p.booster else { return };
        self.at_least(
            "booster.max_count",
            &b.max_count,
            1,
            "; remove [booster] to allow none",
        );
        if !self.positive("booster.max_total", &b.max_total) {
            return;
        }
        let total = b.max_total.get();
        match &p.dose {
            DoseRule::Fixed { min_mg, .. } if total < f64::from(min_mg.get()) => self.bad(
                "booster.max_total",
                &b.max_total,
                format!(
                    "must be at least the minimum dose ({} mg): it counts the first dose too",
                    min_mg.get()
                ),
            ),
            DoseRule::PerKg { min_mg_per_kg, .. } if total < min_mg_per_kg.get() => self.bad(
                "booster.max_total",
                &b.max_total,
                format!(
                    "must be at least the minimum dose ({} mg/kg): it counts the first dose too",
                    num(min_mg_per_kg.get())
                ),
            ),
            _ => {}
        }
    }

    fn sessions(&mut self, p: &Protocol) {
        let s = &p.sessions;
        if s.phase.is_empty() {
            let span = self.places.sessions.as_ref().map(Spanned::span);
            self.err(
                span,
                "sessions.phase",
                "needs at least one dosing phase ([[sessions.phase]])",
            );
        }
        let min_gap = s.min_days_between_doses.get();
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        for (i, ph) in s.phase.iter().enumerate() {
            let path = format!("sessions.phase[{i}]");
            let name = ph.name.trim();
            if name.is_empty() {
                self.err(
                    self.places.phase_name(i),
                    format!("{path}.name"),
                    "must not be blank",
                );
            } else if let Some(j) = names.get(&name.to_lowercase()) {
                self.err(
                    self.places.phase_name(i),
                    format!("{path}.name"),
                    format!("phase {j} is already called \"{name}\"; phase names must differ"),
                );
            } else {
                names.insert(name.to_lowercase(), i);
            }
            self.at_least(format!("{path}.weeks"), &ph.weeks, 1, " week");
            match (&ph.per_week, &ph.every_weeks) {
                (None, None) => self.err(
                    self.places.phase(i).map(Spanned::span),
                    format!("{path}.per_week"),
                    "needs per_week (sessions a week) or every_weeks (one session every N weeks)",
                ),
                (Some(_), Some(e)) => self.bad(
                    format!("{path}.every_weeks"),
                    e,
                    "give per_week or every_weeks, not both",
                ),
                (Some(n), None) if !(1..=7).contains(&n.get()) => {
                    self.bad(
                        format!("{path}.per_week"),
                        n,
                        "must be 1 to 7 sessions a week",
                    );
                }
                (Some(n), None) => {
                    let gap = 7 / n.get();
                    if min_gap > gap {
                        self.bad(
                            "sessions.min_days_between_doses",
                            &s.min_days_between_doses,
                            format!(
                                "is {min_gap} days, but phase \"{name}\" has {} sessions a week, \
                                 which puts doses {gap} days apart: make it {gap} or less",
                                n.get()
                            ),
                        );
                    }
                }
                (None, Some(e)) if e.get() < 1 => {
                    self.bad(format!("{path}.every_weeks"), e, "must be at least 1 week");
                }
                (None, Some(e)) => {
                    let gap = e.get().saturating_mul(7);
                    if min_gap > gap {
                        self.bad(
                            "sessions.min_days_between_doses",
                            &s.min_days_between_doses,
                            format!(
                                "is {min_gap} days, but phase \"{name}\" doses every {gap} days: \
                                 make it {gap} or less"
                            ),
                        );
                    }
                }
            }
        }
        let (lo, hi) = (s.min_dosing.get(), s.max_dosing.get());
        self.at_least("sessions.min_dosing", &s.min_dosing, 1, " dosing session");
        if lo > hi {
            self.bad(
                "sessions.max_dosing",
                &s.max_dosing,
                format!("must be at least the minimum ({lo})"),
            );
        } else if !s.phase.is_empty() {
            let total = p.dosing_sessions();
            if total < lo {
                self.bad(
                    "sessions.min_dosing",
                    &s.min_dosing,
                    format!("is {lo}, but the phases add up to only {total} dosing sessions"),
                );
            } else if total > hi {
                self.bad(
                    "sessions.max_dosing",
                    &s.max_dosing,
                    format!("is {hi}, but the phases add up to {total} dosing sessions"),
                );
            }
        }
        self.at_least(
            "sessions.integration_after_every",
            &s.integration_after_every,
            1,
            " (1 = after every dosing session)",
        );
        self.at_least(
            "sessions.integration_within_days",
            &s.integration_within_days,
            1,
            " day",
        );
        if s.follow_ups.get() > 0 {
            self.at_least(
                "sessions.follow_up_every_days",
                &s.follow_up_every_days,
                1,
                " day when there are follow-ups",
            );
        }
    }

    fn durations(&mut self, p: &Protocol) {
        let d = &p.durations;
        for (field, v) in [
            ("durations.preparation", &d.preparation),
            ("durations.integration", &d.integration),
            ("durations.follow_up", &d.follow_up),
            ("durations.reassessment", &d.reassessment),
            ("durations.pre_dose", &d.pre_dose),
        ] {
            self.at_least(field, v, 1, " minute");
        }
    }

    /// Each rule within a day; 0 would be no rule, which is said by leaving it out.
    fn pre_dose(&mut self, p: &Protocol) {
        let Some(pd) = &p.pre_dose else { return };
        let rules = [
            (
                "pre_dose.food_hours_before",
                &pd.food_hours_before,
                24,
                "24 hours",
            ),
            (
                "pre_dose.fluids_minutes_before",
                &pd.fluids_minutes_before,
                24 * 60,
                "1440 minutes (24 hours)",
            ),
            (
                "pre_dose.nasal_medicines_minutes_before",
                &pd.nasal_medicines_minutes_before,
                24 * 60,
                "1440 minutes (24 hours)",
            ),
        ];
        if rules.iter().all(|(_, v, _, _)| v.is_none()) {
            self.err(
                at(&self.places.pre_dose),
                "pre_dose",
                "sets no rule: give at least one, or remove [pre_dose]",
            );
        }
        for (field, v, max, most) in rules {
            let Some(v) = v else { continue };
            if v.get() == 0 {
                self.bad(field, v, "0 sets no rule: leave it out instead");
            } else if v.get() > max {
                self.bad(field, v, format!("must be at most {most}"));
            }
        }
    }

    fn monitoring(&mut self, p: &Protocol) {
        let m = &p.monitoring;
        self.at_least(
            "monitoring.vitals_every_minutes_during",
            &m.vitals_every_minutes_during,
            1,
            " minute",
        );
        self.at_least(
            "monitoring.vitals_every_minutes_after",
            &m.vitals_every_minutes_after,
            1,
            " minute",
        );
        let minimum = m.minimum_minutes.get();
        self.at_least(
            "monitoring.minimum_minutes",
            &m.minimum_minutes,
            1,
            " minute",
        );
        if let (
            DoseRule::PerKg {
                infusion_minutes: Some(inf),
                ..
            },
            Route::Iv,
        ) = (&p.dose, p.route)
            && minimum < inf.get()
        {
            self.bad(
                "monitoring.minimum_minutes",
                &m.minimum_minutes,
                format!(
                    "must be at least the infusion time ({} minutes): it counts from the start",
                    inf.get()
                ),
            );
        }
        if let Some(bp) = &m.bp_checks_at_minutes {
            let late: Vec<u32> = bp
                .value
                .get_ref()
                .iter()
                .copied()
                .filter(|x| *x > minimum)
                .collect();
            if !late.is_empty() {
                self.bad(
                    "monitoring.bp_checks_at_minutes",
                    bp,
                    format!(
                        "minute {} is after the monitoring minimum ({minimum} minutes)",
                        or_list(&late)
                    ),
                );
            }
        }
        for (list, name) in [(&m.hold, "hold"), (&m.alert, "alert")] {
            for (i, t) in list.iter().enumerate() {
                self.threshold(&format!("monitoring.{name}[{i}]"), t);
            }
        }
        let moaas = &m.discharge.moaas_at_least;
        if moaas.get() > 5 {
            self.bad(
                "monitoring.discharge.moaas_at_least",
                moaas,
                "must be 0 to 5 (the MOAA/S scale; 5 = responds readily to their name)",
            );
        }
    }

    fn threshold(&mut self, path: &str, t: &Threshold) {
        let (lo, hi, what) = plausible(t.measure);
        if t.above.is_none() && t.below.is_none() {
            self.err(
                Some(t.source.span()),
                format!("{path}.above"),
                "needs a limit: above, below or both",
            );
        }
        for (name, v) in [("above", &t.above), ("below", &t.below)] {
            if let Some(v) = v {
                let x = *v.get_ref();
                if !(lo..=hi).contains(&x) {
                    self.err(
                        Some(v.span()),
                        format!("{path}.{name}"),
                        format!(
                            "{} is not a plausible {what}: use a value from {} to {}",
                            num(x),
                            num(lo),
                            num(hi)
                        ),
                    );
                }
            }
        }
        if let (Some(a), Some(b)) = (&t.above, &t.below)
            && *b.get_ref() >= *a.get_ref()
        {
            self.err(
                Some(b.span()),
                format!("{path}.below"),
                format!("must be lower than above ({})", num(*a.get_ref())),
            );
        }
    }

    fn questionnaires(&mut self, p: &Protocol) {
        let mut seen: BTreeMap<(super::SessionKind, String), usize> = BTreeMap::new();
        for (i, q) in p.questionnaires.iter().enumerate() {
            let path = format!("questionnaires[{i}]");
            let code = q.instrument.get_ref().as_str();
            match instruments::by_code(code) {
                None => {
                    let known: Vec<&str> = instruments::ALL.iter().map(|i| i.code).collect();
                    self.err(
                        Some(q.instrument.span()),
                        format!("{path}.instrument"),
                        format!("unknown instrument \"{code}\": use one of {}", known.join(", ")),
                    );
                }
                Some(inst) if inst.administration == Administration::ClinicianRated => self.err(
                    Some(q.instrument.span()),
                    format!("{path}.instrument"),
                    format!(
                        "{} is clinician-rated: only self-report questionnaires are sent before a session",
                        inst.name
                    ),
                ),
                Some(_) => {}
            }
            let h = q.hours_before.get();
            if !(1..=168).contains(&h) {
                self.bad(
                    format!("{path}.hours_before"),
                    &q.hours_before,
                    "must be 1 to 168 hours (one week)",
                );
            }
            if let Some(j) = seen.get(&(q.before, code.to_owned())) {
                self.err(
                    Some(q.instrument.span()),
                    format!("{path}.instrument"),
                    format!(
                        "{code} is already sent before {} sessions (questionnaires[{j}])",
                        q.before.label().to_lowercase()
                    ),
                );
            } else {
                seen.insert((q.before, code.to_owned()), i);
            }
        }
    }

    fn contraindications(&mut self, p: &Protocol) {
        let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, r) in p.contraindications.iter().enumerate() {
            let path = format!("contraindications[{i}]");
            let id = r.id.trim();
            if id.is_empty() {
                self.err(
                    self.places.rule(i, |r| &r.id),
                    format!("{path}.id"),
                    "must not be blank",
                );
            } else if let Some(j) = ids.get(id) {
                self.err(
                    self.places.rule(i, |r| &r.id),
                    format!("{path}.id"),
                    format!("contraindications[{j}] already has the id \"{id}\""),
                );
            } else {
                ids.insert(id, i);
            }
            if r.reason.trim().is_empty() {
                self.err(
                    self.places.rule(i, |r| &r.reason),
                    format!("{path}.reason"),
                    "must not be blank: the prescriber reads it beside the finding",
                );
            }
            if !r.routes.is_empty() && !r.routes.contains(&p.route) {
                self.err(
                    self.places.rule(i, |r| &r.routes),
                    format!("{path}.routes"),
                    format!(
                        "does not include this protocol's route ({}), so the rule would never apply",
                        p.route
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_from_one() {
        let t = "a = 1\nb = 2\n";
        assert_eq!(line_of(t, 0), 1);
        assert_eq!(line_of(t, 6), 2);
        assert_eq!(line_of(t, 999), 3);
    }

    #[test]
    fn paths_follow_headers_arrays_and_inline_tables() {
        let t = "key = 1\n[dose]\nmg = { value = 0.5, source = \"x\" }\n\
                 [[sessions.phase]]\nname = \"a\"\n[[sessions.phase]]\nweeks = { value = 2 }\n";
        let at = |needle: &str| t.find(needle).unwrap_or_default();
        assert_eq!(table_path_at(t, at("key")), None);
        assert_eq!(table_path_at(t, at("mg")).as_deref(), Some("dose"));
        let keys = |needle: &str| keys_before(t, at(needle));
        assert_eq!(
            keys("0.5"),
            (vec!["mg".to_owned(), "value".to_owned()], false)
        );
        assert_eq!(
            keys("\"x\""),
            (vec!["mg".to_owned(), "source".to_owned()], false)
        );
        assert_eq!(keys("source"), (vec!["mg".to_owned()], false));
        assert_eq!(keys("mg"), (vec!["mg".to_owned()], true));
        assert_eq!(
            table_path_at(t, at("weeks")).as_deref(),
            Some("sessions.phase[1]")
        );
        assert_eq!(keys("{ value = 2"), (vec!["weeks".to_owned()], false));
    }

    #[test]
    fn keys_are_lower_case_words_with_hyphens() {
        assert!(valid_key("esketamine-trd"));
        assert!(valid_key("a1"));
        for bad in ["", "1iv", "IV", "iv_ketamine", "-iv", &"a".repeat(65)] {
            assert!(!valid_key(bad), "{bad}");
        }
    }

    #[test]
    fn reader_messages_are_plain() {
        assert_eq!(
            plain_message("invalid type: string \"x\", expected f64"),
            "expected a number, found string \"x\""
        );
        assert_eq!(
            plain_message("unknown field `foo`, expected `a` or `b`"),
            "is not a known field; expected a or b"
        );
        assert_eq!(
            plain_message("missing field `name`"),
            "is required but missing"
        );
    }
}
