//! A patient's questionnaire score trajectory as a small, server-rendered SVG.
//!
//! The markup is pure and deterministic: the same input always gives byte-identical output
//! (integer arithmetic in tenths of a unit, no clock, no randomness). It carries no `style`
//! attributes and no `<style>` element — the page's CSP only allows the site stylesheet, so
//! every visual choice is a class styled in `static/style.css` (`.chart …` rules) plus a few
//! presentation attributes (`fill="none"`, `text-anchor`).
//!
//! Layout (viewBox units): the plot spans x 44..524 and y 16..190; the left gutter holds the
//! y tick labels, the right gutter the severity band labels, and below the x axis there is a
//! row for incomplete responses (hollow markers, never a score) and then the date labels.

use chrono::{DateTime, Utc};
use kap_domain::instruments::Band;
use std::fmt::Write;

/// One response on the chart; `total: None` marks an incomplete response (drawn as a hollow
/// marker on the baseline row, never as a score, and not joined into the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartPoint {
    pub at: DateTime<Utc>,
    pub total: Option<i32>,
    pub label: String,
}

/// What to draw: one instrument's totals over time.
#[derive(Debug, Clone, Copy)]
pub struct TrajectoryChart<'a> {
    /// Instrument short name, e.g. "PHQ-9".
    pub title: &'a str,
    /// Top of the y axis, e.g. 27.
    pub max_total: i32,
    /// Severity bands (ordered, contiguous); may be empty.
    pub bands: &'a [Band],
    /// Oldest first.
    pub points: &'a [ChartPoint],
}

const WIDTH: i64 = 640;
const HEIGHT: i64 = 240;
const PLOT_LEFT: i64 = 44;
const PLOT_RIGHT: i64 = 524;
const PLOT_TOP: i64 = 16;
const PLOT_BOTTOM: i64 = 190;
/// Row below the x axis where incomplete responses sit.
const INCOMPLETE_ROW: i64 = 203;
/// Baseline of the date labels.
const DATE_ROW: i64 = 228;
const POINT_RADIUS: i64 = 4;
/// Minimum horizontal distance between two date labels (a label is ~60 units wide).
const DATE_LABEL_GAP: i64 = 72;
/// Minimum vertical distance between two y tick labels.
const TICK_LABEL_GAP: i64 = 12;
/// Bands thinner than this get no label (it would collide with its neighbours).
const BAND_LABEL_MIN_HEIGHT: i64 = 9;

/// Deterministic SVG markup (same input → byte-identical output).
pub fn trajectory_svg(chart: &TrajectoryChart) -> String {
    let id = format!("chart-{}", slug(chart.title));
    let title = format!("{} over time", chart.title);
    let mut out = String::with_capacity(4096);
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart trajectory-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title" aria-describedby="{id}-desc">"#
    );
    let _ = writeln!(out, r#"<title id="{id}-title">{}</title>"#, esc(&title));

    if chart.points.is_empty() {
        let _ = writeln!(out, r#"<desc id="{id}-desc">No responses yet.</desc>"#);
        let _ = writeln!(
            out,
            r#"<rect class="plot-frame" x="{PLOT_LEFT}" y="{PLOT_TOP}" width="{}" height="{}" fill="none"/>"#,
            PLOT_RIGHT - PLOT_LEFT,
            PLOT_BOTTOM - PLOT_TOP
        );
        let _ = writeln!(
            out,
            r#"<text class="empty" x="{}" y="{}" text-anchor="middle">No responses yet</text>"#,
            (PLOT_LEFT + PLOT_RIGHT) / 2,
            (PLOT_TOP + PLOT_BOTTOM) / 2 + 4
        );
        out.push_str("</svg>\n");
        return out;
    }

    // Time order (stable, so equal instants keep their input order).
    let mut points: Vec<&ChartPoint> = chart.points.iter().collect();
    points.sort_by_key(|p| p.at);

    let y_top = y_top(chart);
    let scale = Scale::new(&points, y_top);

    let _ = writeln!(
        out,
        r#"<desc id="{id}-desc">{}</desc>"#,
        esc(&describe(chart, &points))
    );

    // Severity bands, behind everything else.
    if !chart.bands.is_empty() {
        out.push_str("<g class=\"bands\">\n");
        for (n, band) in chart.bands.iter().enumerate() {
            let lo = band.min.clamp(0, y_top);
            let hi = band.max.saturating_add(1).clamp(0, y_top);
            if hi <= lo {
                continue;
            }
            let (y_hi, y_lo) = (scale.y(hi), scale.y(lo));
            let _ = writeln!(
                out,
                r#"<rect class="band band-{n}" x="{PLOT_LEFT}" y="{}" width="{}" height="{}"/>"#,
                tenths(y_hi),
                PLOT_RIGHT - PLOT_LEFT,
                tenths(y_lo - y_hi)
            );
            if y_lo - y_hi >= BAND_LABEL_MIN_HEIGHT * 10 {
                let _ = writeln!(
                    out,
                    r#"<text class="band-label" x="{}" y="{}">{}</text>"#,
                    PLOT_RIGHT + 6,
                    tenths((y_hi + y_lo) / 2 + 35),
                    esc(band.label)
                );
            }
        }
        out.push_str("</g>\n");
    }

    // Y axis: grid lines and labels at band boundaries (or a round step).
    out.push_str("<g class=\"axis y-axis\">\n");
    for tick in y_ticks(chart.bands, y_top, &scale) {
        let y = tenths(scale.y(tick));
        let _ = writeln!(
            out,
            r#"<line class="grid" x1="{PLOT_LEFT}" y1="{y}" x2="{PLOT_RIGHT}" y2="{y}"/>"#
        );
        let _ = writeln!(
            out,
            r#"<text class="tick-label" x="{}" y="{}" text-anchor="end">{tick}</text>"#,
            PLOT_LEFT - 6,
            tenths(scale.y(tick) + 40)
        );
    }
    let _ = writeln!(
        out,
        r#"<line class="axis-line" x1="{PLOT_LEFT}" y1="{PLOT_TOP}" x2="{PLOT_LEFT}" y2="{PLOT_BOTTOM}"/>"#
    );
    out.push_str("</g>\n");

    // X axis: the baseline and date labels (first and last always, others where they fit).
    out.push_str("<g class=\"axis x-axis\">\n");
    let _ = writeln!(
        out,
        r#"<line class="axis-line" x1="{PLOT_LEFT}" y1="{PLOT_BOTTOM}" x2="{PLOT_RIGHT}" y2="{PLOT_BOTTOM}"/>"#
    );
    for (x, date) in date_labels(&points, &scale) {
        let xs = tenths(x);
        let _ = writeln!(
            out,
            r#"<line class="tick" x1="{xs}" y1="{PLOT_BOTTOM}" x2="{xs}" y2="{}"/>"#,
            PLOT_BOTTOM + 4
        );
        let _ = writeln!(
            out,
            r#"<text class="tick-label" x="{xs}" y="{DATE_ROW}" text-anchor="middle">{date}</text>"#
        );
    }
    if points.iter().any(|p| p.total.is_none()) {
        let _ = writeln!(
            out,
            r#"<text class="row-label" x="{}" y="{}">incomplete</text>"#,
            PLOT_RIGHT + 6,
            INCOMPLETE_ROW + 4
        );
    }
    out.push_str("</g>\n");

    // The line through complete totals only.
    let complete: Vec<(i64, i64)> = points
        .iter()
        .filter_map(|p| p.total.map(|t| (scale.x(p.at), scale.y(t))))
        .collect();
    if complete.len() >= 2 {
        let coords: Vec<String> = complete
            .iter()
            .map(|&(x, y)| format!("{},{}", tenths(x), tenths(y)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline class="trajectory" fill="none" points="{}"/>"#,
            coords.join(" ")
        );
    }

    // Markers, each with a tooltip.
    out.push_str("<g class=\"points\">\n");
    for p in &points {
        let x = tenths(scale.x(p.at));
        let mut tip = date(p.at);
        if !p.label.is_empty() {
            tip.push_str(" — ");
            tip.push_str(&p.label);
        }
        match p.total {
            Some(t) => {
                let _ = write!(tip, ": total {t}");
                if let Some(b) = band_of(chart.bands, t) {
                    let _ = write!(tip, " ({})", b.label);
                }
                let _ = writeln!(
                    out,
                    r#"<circle class="point" cx="{x}" cy="{}" r="{POINT_RADIUS}"><title>{}</title></circle>"#,
                    tenths(scale.y(t)),
                    esc(&tip)
                );
            }
            None => {
                tip.push_str(": incomplete, not scored");
                let _ = writeln!(
                    out,
                    r#"<circle class="point incomplete" cx="{x}" cy="{INCOMPLETE_ROW}" r="{POINT_RADIUS}"><title>{}</title></circle>"#,
                    esc(&tip)
                );
            }
        }
    }
    out.push_str("</g>\n");
    out.push_str("</svg>\n");
    out
}

/// Maps instants and totals to viewBox coordinates, in tenths of a unit.
struct Scale {
    t0: i64,
    span: i64,
    y_top: i32,
}

impl Scale {
    fn new(points: &[&ChartPoint], y_top: i32) -> Self {
        let t0 = points.first().map_or(0, |p| p.at.timestamp());
        let t1 = points.last().map_or(0, |p| p.at.timestamp());
        Self {
            t0,
            span: t1.saturating_sub(t0).max(0),
            y_top: y_top.max(1),
        }
    }

    fn x(&self, at: DateTime<Utc>) -> i64 {
        let width = (PLOT_RIGHT - PLOT_LEFT) * 10;
        if self.span == 0 {
            // One instant: centre it rather than divide by zero.
            return (PLOT_LEFT + PLOT_RIGHT) * 10 / 2;
        }
        let dt = i128::from(at.timestamp().saturating_sub(self.t0).clamp(0, self.span));
        let off = div_round(dt * i128::from(width), i128::from(self.span));
        PLOT_LEFT * 10 + i64::try_from(off).unwrap_or(width)
    }

    fn y(&self, total: i32) -> i64 {
        let height = (PLOT_BOTTOM - PLOT_TOP) * 10;
        let v = i128::from(total.clamp(0, self.y_top));
        let off = div_round(v * i128::from(height), i128::from(self.y_top));
        PLOT_BOTTOM * 10 - i64::try_from(off).unwrap_or(height)
    }
}

/// Round-half-up division for non-negative numerators and positive denominators.
fn div_round(n: i128, d: i128) -> i128 {
    (2 * n + d) / (2 * d)
}

/// The y axis top: the instrument's maximum, stretched (never shrunk) to fit the bands and
/// any out-of-range total so nothing is drawn outside the plot.
fn y_top(chart: &TrajectoryChart) -> i32 {
    let band_top = chart.bands.iter().map(|b| b.max).max().unwrap_or(0);
    let total_top = chart
        .points
        .iter()
        .filter_map(|p| p.total)
        .max()
        .unwrap_or(0);
    chart.max_total.max(band_top).max(total_top).max(1)
}

/// Tick values: band lower bounds plus the top, or a round step when there are no bands;
/// labels too close together are thinned (the top always stays).
fn y_ticks(bands: &[Band], y_top: i32, scale: &Scale) -> Vec<i32> {
    let mut ticks: Vec<i32> = if bands.is_empty() {
        let step = [1, 2, 5, 10, 20, 25, 50, 100, 250, 500, 1000]
            .into_iter()
            .find(|s| y_top / s <= 8)
            .unwrap_or(y_top);
        (0..=y_top / step).map(|k| k * step).collect()
    } else {
        let mut t: Vec<i32> = bands.iter().map(|b| b.min).collect();
        t.push(0);
        t
    };
    ticks.push(y_top);
    ticks.retain(|&t| (0..=y_top).contains(&t));
    ticks.sort_unstable();
    ticks.dedup();

    let mut kept: Vec<i32> = Vec::with_capacity(ticks.len());
    for t in ticks {
        if let Some(&prev) = kept.last()
            && scale.y(prev) - scale.y(t) < TICK_LABEL_GAP * 10
        {
            if t == y_top {
                kept.pop();
            } else {
                continue;
            }
        }
        kept.push(t);
    }
    kept
}

/// Date labels (x in tenths, text): one per distinct date, always the first and the last,
/// and those in between wherever they fit without overlapping.
fn date_labels(points: &[&ChartPoint], scale: &Scale) -> Vec<(i64, String)> {
    let mut all: Vec<(i64, String)> = Vec::new();
    for p in points {
        let d = date(p.at);
        if all.last().is_none_or(|(_, last)| *last != d) {
            all.push((scale.x(p.at), d));
        }
    }
    if all.len() <= 2 {
        return all;
    }
    let last_x = all[all.len() - 1].0;
    let mut kept: Vec<(i64, String)> = Vec::with_capacity(all.len());
    let n = all.len();
    for (i, label) in all.into_iter().enumerate() {
        let fits = kept
            .last()
            .is_none_or(|(x, _)| label.0 - x >= DATE_LABEL_GAP * 10)
            && last_x - label.0 >= DATE_LABEL_GAP * 10;
        if i == 0 || i == n - 1 || fits {
            kept.push(label);
        }
    }
    kept
}

/// The accessible summary: how many responses, first and latest complete totals.
fn describe(chart: &TrajectoryChart, points: &[&ChartPoint]) -> String {
    let n = points.len();
    let mut s = String::new();
    let first_date = points.first().map(|p| date(p.at)).unwrap_or_default();
    let last_date = points.last().map(|p| date(p.at)).unwrap_or_default();
    let noun = if n == 1 { "response" } else { "responses" };
    if first_date == last_date {
        let _ = write!(s, "{n} {noun} on {first_date}");
    } else {
        let _ = write!(s, "{n} {noun} between {first_date} and {last_date}");
    }
    let incomplete = points.iter().filter(|p| p.total.is_none()).count();
    if incomplete > 0 {
        let _ = write!(s, ", {incomplete} incomplete");
    }
    s.push('.');

    let complete: Vec<(&ChartPoint, i32)> = points
        .iter()
        .filter_map(|p| p.total.map(|t| (*p, t)))
        .collect();
    let describe_total = |(p, t): (&ChartPoint, i32)| {
        let mut d = format!("{t} of {} on {}", chart.max_total, date(p.at));
        if let Some(b) = band_of(chart.bands, t) {
            let _ = write!(d, " ({})", b.label);
        }
        d
    };
    match complete.as_slice() {
        [] => s.push_str(" No complete totals."),
        [only] => {
            let _ = write!(s, " Only complete total: {}.", describe_total(*only));
        }
        [first, .., latest] => {
            let _ = write!(
                s,
                " First complete total: {}. Latest complete total: {}.",
                describe_total(*first),
                describe_total(*latest)
            );
        }
    }
    s
}

fn band_of(bands: &[Band], total: i32) -> Option<&Band> {
    bands.iter().find(|b| (b.min..=b.max).contains(&total))
}

fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// A value in tenths as a decimal with at most one fractional digit ("12", "12.5").
pub(crate) fn tenths(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    if a.is_multiple_of(10) {
        format!("{sign}{}", a / 10)
    } else {
        format!("{sign}{}.{}", a / 10, a % 10)
    }
}

/// Lowercase ASCII letters and digits, everything else collapsed to single hyphens.
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("untitled");
    }
    out
}

/// Escapes text for XML content and attribute values; drops characters XML 1.0 forbids.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHQ9_BANDS: &[Band] = &[
        Band {
            min: 0,
            max: 4,
            label: "Minimal",
        },
        Band {
            min: 5,
            max: 9,
            label: "Mild",
        },
        Band {
            min: 10,
            max: 14,
            label: "Moderate",
        },
        Band {
            min: 15,
            max: 19,
            label: "Moderately severe",
        },
        Band {
            min: 20,
            max: 27,
            label: "Severe",
        },
    ];

    /// 2024-01-08T09:00:00Z plus `days`.
    fn at(days: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_704_704_400 + days * 86_400, 0).unwrap_or_default()
    }

    fn pt(days: i64, total: Option<i32>, label: &str) -> ChartPoint {
        ChartPoint {
            at: at(days),
            total,
            label: label.to_string(),
        }
    }

    fn phq9(points: &[ChartPoint]) -> String {
        trajectory_svg(&TrajectoryChart {
            title: "PHQ-9",
            max_total: 27,
            bands: PHQ9_BANDS,
            points,
        })
    }

    fn polyline(svg: &str) -> Option<&str> {
        let start = svg.find("<polyline")?;
        let rest = &svg[start..];
        let p = rest.find("points=\"")? + "points=\"".len();
        let end = rest[p..].find('"')?;
        Some(&rest[p..p + end])
    }

    #[test]
    fn empty_chart_says_no_responses() {
        let svg = phq9(&[]);
        assert!(svg.starts_with("<svg "));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains(">No responses yet</text>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-labelledby="chart-phq-9-title""#));
        assert!(svg.contains(r#"<title id="chart-phq-9-title">PHQ-9 over time</title>"#));
        assert!(!svg.contains("<circle"));
        assert!(!svg.contains("<polyline"));
    }

    #[test]
    fn single_point_is_centred_and_has_no_line() {
        let svg = phq9(&[pt(0, Some(12), "Intake")]);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert!(svg.contains(r#"<circle class="point" cx="284" "#), "{svg}");
        assert!(!svg.contains("<polyline"));
        assert!(svg.contains("2024-01-08"));
        assert!(svg.contains("Only complete total: 12 of 27 on 2024-01-08 (Moderate)."));
    }

    #[test]
    fn same_instant_points_do_not_divide_by_zero() {
        let svg = phq9(&[pt(3, Some(4), "a"), pt(3, Some(22), "b"), pt(3, None, "c")]);
        assert_eq!(svg.matches(r#"cx="284""#).count(), 3, "{svg}");
        assert_eq!(polyline(&svg), Some("284,164.2 284,48.2"));
    }

    #[test]
    fn x_is_by_time_not_index() {
        // Days 0, 1 and 30: the middle point sits near the left, not in the middle.
        let svg = phq9(&[
            pt(0, Some(10), ""),
            pt(1, Some(10), ""),
            pt(30, Some(10), ""),
        ]);
        assert_eq!(polyline(&svg), Some("44,125.6 60,125.6 524,125.6"));
    }

    #[test]
    fn incomplete_points_are_not_in_the_polyline() {
        let svg = phq9(&[
            pt(0, Some(18), "Intake"),
            pt(14, None, "Week 2"),
            pt(28, Some(9), "Week 4"),
        ]);
        // Only the two complete totals, at the plot's edges.
        assert_eq!(polyline(&svg), Some("44,74 524,132"));
        let incomplete = r#"<circle class="point incomplete" cx="284" cy="203" r="4"><title>2024-01-22 — Week 2: incomplete, not scored</title></circle>"#;
        assert!(svg.contains(incomplete), "{svg}");
        assert_eq!(svg.matches(r#"class="point""#).count(), 2);
        assert!(svg.contains(", 1 incomplete."));
    }

    #[test]
    fn only_incomplete_points() {
        let svg = phq9(&[pt(0, None, ""), pt(7, None, "")]);
        assert!(!svg.contains("<polyline"));
        assert_eq!(svg.matches("point incomplete").count(), 2);
        assert!(svg.contains("No complete totals."));
    }

    #[test]
    fn text_is_escaped() {
        let svg = trajectory_svg(&TrajectoryChart {
            title: "A&B <\"x\">",
            max_total: 10,
            bands: &[Band {
                min: 0,
                max: 10,
                label: "it's <b>",
            }],
            points: &[pt(0, Some(3), "<&>"), pt(1, None, "O'Brien \"q\"")],
        });
        assert!(svg.contains("&lt;&amp;&gt;"), "{svg}");
        assert!(svg.contains("O&apos;Brien &quot;q&quot;"));
        assert!(svg.contains("it&apos;s &lt;b&gt;"));
        assert!(svg.contains("A&amp;B &lt;&quot;x&quot;&gt; over time"));
        assert!(svg.contains(r#"id="chart-a-b-x-title""#));
        assert!(!svg.contains("<&>") && !svg.contains("<b>") && !svg.contains("<\""));
    }

    #[test]
    fn escaping_drops_control_characters() {
        assert_eq!(esc("a\u{0}b\u{1b}c"), "abc");
    }

    #[test]
    fn deterministic() {
        let points = [
            pt(0, Some(19), "Intake"),
            pt(9, Some(15), ""),
            pt(40, None, ""),
            pt(41, Some(6), "Week 6"),
        ];
        assert_eq!(phq9(&points), phq9(&points));
    }

    #[test]
    fn no_inline_styles() {
        let points = [pt(0, Some(19), ""), pt(20, None, ""), pt(41, Some(6), "")];
        for svg in [phq9(&points), phq9(&[])] {
            assert!(!svg.contains("style="));
            assert!(!svg.contains("<style"));
        }
    }

    #[test]
    fn coordinates_have_at_most_one_decimal() {
        let points = [
            pt(0, Some(19), ""),
            pt(7, Some(13), ""),
            pt(23, Some(7), ""),
        ];
        let svg = phq9(&points);
        for attr in svg.split('"').skip(1).step_by(2) {
            for num in attr.split([' ', ',']) {
                if let Some((_, frac)) = num.split_once('.')
                    && num.parse::<f64>().is_ok()
                {
                    assert!(frac.len() <= 1, "{num} in {svg}");
                }
            }
        }
    }

    #[test]
    fn ticks_without_bands_use_a_round_step() {
        let svg = trajectory_svg(&TrajectoryChart {
            title: "Score",
            max_total: 21,
            bands: &[],
            points: &[pt(0, Some(7), "")],
        });
        for t in ["0", "5", "10", "15", "21"] {
            assert!(
                svg.contains(&format!(r#"text-anchor="end">{t}</text>"#)),
                "{t}: {svg}"
            );
        }
        // 20 sits too close to the top label 21, which wins.
        assert!(!svg.contains(r#"text-anchor="end">20</text>"#));
        assert!(!svg.contains("class=\"band"));
    }

    #[test]
    fn ids_come_from_the_title() {
        assert_eq!(slug("PHQ-9"), "phq-9");
        assert_eq!(slug("  GAD 7 "), "gad-7");
        assert_eq!(slug("—"), "untitled");
    }

    #[test]
    fn tenths_format() {
        assert_eq!(tenths(0), "0");
        assert_eq!(tenths(1234), "123.4");
        assert_eq!(tenths(1230), "123");
        assert_eq!(tenths(-5), "-0.5");
    }

    #[test]
    fn snapshot_phq9() {
        let points = [
            pt(0, Some(19), "Intake"),
            pt(14, Some(16), "Week 2"),
            pt(28, None, "Week 4"),
            pt(42, Some(11), "Week 6"),
            pt(84, Some(7), "Week 12"),
        ];
        let svg = phq9(&points);
        insta::assert_snapshot!(svg);
    }
}
