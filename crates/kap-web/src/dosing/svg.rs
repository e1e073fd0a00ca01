//! One dosing session's vital signs, and a model-estimate curve, as small server-rendered SVGs.
//!
//! The conventions are those of `measure::svg`: the markup is pure and deterministic (integer
//! arithmetic in tenths of a unit, no clock, no randomness, so the same input gives
//! byte-identical output and the live flowsheet's refresh changes nothing when nothing changed).
//! There is no `style` attribute and no `<style>` element — the page's CSP only allows the site
//! stylesheet — so every look is a class styled in `static/style.css` (`.session-chart …`,
//! `.estimate-chart …`), plus a few presentation attributes: `fill="none"`, `text-anchor`, and
//! `stroke-dasharray` on alert lines so a threshold still reads as one without the stylesheet.
//!
//! Session chart layout (viewBox units): event labels sit in up to three rows above the plot;
//! the plot spans x 44..520 and is 200 high (one unit per mmHg on the usual 0..200 axis); the
//! right gutter holds the alert-line labels; below the plot come the minute labels, the axis
//! title and the legend.

use crate::measure::svg::{esc, slug, tenths};
use std::fmt::Write;

/// One vital sign over the session, in its own unit, on the chart's shared y axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Series<'a> {
    /// Shown in the legend, the tooltips and the description, e.g. "Systolic".
    pub name: &'a str,
    /// Class of its line, markers and legend swatch, e.g. "systolic".
    pub class: &'a str,
    /// (minute since the first dose — negative before it —, value), in any order. Values that
    /// are not finite are left out.
    pub points: Vec<(i64, f64)>,
}

/// A horizontal alert threshold, drawn dashed with its label in the right gutter.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit<'a> {
    /// e.g. "Systolic alert > 180".
    pub label: String,
    pub class: &'a str,
    pub value: f64,
}

/// An administration event (dose, booster, device), drawn as a vertical line with its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub minute: i64,
    /// e.g. "Dose 36.5 mg", "Booster 1".
    pub label: String,
}

/// What to draw: one session's vital signs.
#[derive(Debug, Clone, Copy)]
pub struct SessionChart<'a> {
    /// e.g. "Vital signs"; the accessible name, and the source of the element ids.
    pub title: &'a str,
    pub series: &'a [Series<'a>],
    pub limits: &'a [Limit<'a>],
    pub marks: &'a [Mark],
    /// The x range in minutes since the first dose, e.g. (-15, 130); widened to fit every
    /// reading and event so nothing is drawn outside the plot.
    pub minutes: (i64, i64),
}

const WIDTH: i64 = 740;
const PLOT_LEFT: i64 = 44;
const PLOT_RIGHT: i64 = 520;
const PLOT_HEIGHT: i64 = 200;
/// The y axis runs 0..200 unless a reading or alert line needs more room above it …
const Y_DEFAULT_TOP: i64 = 200;
/// … which it gets (the highest value plus this, to the next 10) …
const Y_HEADROOM: i64 = 10;
/// … up to this top; anything higher is drawn at the top edge, marked off-scale.
const Y_CEILING: i64 = 300;
/// A range shorter than this is widened, so a single reading does not fill the width.
const MIN_SPAN_MINUTES: i64 = 15;
/// Rough width of one character of chart text (11px system-ui), for label collision checks.
const CHAR_WIDTH: i64 = 6;
/// Minimum horizontal gap between two labels on one row.
const LABEL_GAP: i64 = 6;
/// Minimum vertical distance between two y tick labels.
const TICK_LABEL_GAP: i64 = 12;
/// Minimum vertical distance between two alert-line labels.
const LIMIT_LABEL_GAP: i64 = 11;
/// Longer alert labels are cut short (with the whole label as a tooltip) to stay in the gutter.
const LIMIT_LABEL_CHARS: usize = 36;
const MARK_ROW_HEIGHT: i64 = 13;
const MARK_ROWS_MAX: usize = 3;
const LEGEND_ROW_HEIGHT: i64 = 16;
const POINT_RADIUS: i64 = 3;

/// Deterministic SVG markup for one session's vital signs (same input → byte-identical
/// output), or a short paragraph when there are no readings at all.
pub fn session_chart(c: &SessionChart) -> String {
    let readings: Vec<Vec<(i64, i64)>> = c.series.iter().map(|s| readings(&s.points)).collect();
    if readings.iter().all(Vec::is_empty) {
        return "<p class=\"muted chart-empty\">No vital signs recorded yet.</p>\n".to_owned();
    }

    let (lo, hi) = minute_range(c, &readings);
    let x = Axis::new(lo, hi, PLOT_LEFT, PLOT_RIGHT - PLOT_LEFT);
    let marks = place_marks(c.marks, &x);
    let mark_rows = marks.iter().map(|m| m.row + 1).max().unwrap_or(0);
    let plot_top = if mark_rows == 0 {
        10
    } else {
        5 + MARK_ROW_HEIGHT * mark_rows as i64
    };
    let plot_bottom = plot_top + PLOT_HEIGHT;
    let top = y_top(&readings, c.limits);
    let y = Axis::new(0, top, plot_bottom, -PLOT_HEIGHT);
    let legend = place_legend(c.series, plot_bottom + 50);
    let height = legend.last().map_or(plot_bottom + 40, |l| l.y + 10);

    let id = format!("session-chart-{}", slug(c.title));
    let mut out = String::with_capacity(8192);
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart session-chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-title" aria-describedby="{id}-desc">"#
    );
    let _ = writeln!(out, r#"<title id="{id}-title">{}</title>"#, esc(c.title));
    let _ = writeln!(
        out,
        r#"<desc id="{id}-desc">{}</desc>"#,
        esc(&describe_session(c, &readings, (lo, hi), top))
    );
    let _ = writeln!(
        out,
        r#"<rect class="plot-bg" x="{PLOT_LEFT}" y="{plot_top}" width="{}" height="{PLOT_HEIGHT}"/>"#,
        PLOT_RIGHT - PLOT_LEFT
    );

    // Y axis: grid lines and labels at a round step, the top always labelled.
    out.push_str("<g class=\"axis y-axis\">\n");
    for tick in value_ticks(top, &[200, 250, 500, 1000], 10, &y) {
        let yt = y.at(tick);
        let _ = writeln!(
            out,
            r#"<line class="grid" x1="{PLOT_LEFT}" y1="{0}" x2="{PLOT_RIGHT}" y2="{0}"/>"#,
            tenths(yt)
        );
        let _ = writeln!(
            out,
            r#"<text class="tick-label" x="{}" y="{}" text-anchor="end">{}</text>"#,
            PLOT_LEFT - 6,
            tenths(yt + 40),
            tenths(tick)
        );
    }
    let _ = writeln!(
        out,
        r#"<line class="axis-line" x1="{PLOT_LEFT}" y1="{plot_top}" x2="{PLOT_LEFT}" y2="{plot_bottom}"/>"#
    );
    out.push_str("</g>\n");

    // X axis: minutes since the first dose, every 15 or 30 (more for a long session).
    out.push_str("<g class=\"axis x-axis\">\n");
    let _ = writeln!(
        out,
        r#"<line class="axis-line" x1="{PLOT_LEFT}" y1="{plot_bottom}" x2="{PLOT_RIGHT}" y2="{plot_bottom}"/>"#
    );
    for m in minute_ticks(lo, hi, minute_step(hi.saturating_sub(lo))) {
        let xs = tenths(x.at(m));
        let _ = writeln!(
            out,
            r#"<line class="grid" x1="{xs}" y1="{plot_top}" x2="{xs}" y2="{plot_bottom}"/>"#
        );
        let _ = writeln!(
            out,
            r#"<line class="tick" x1="{xs}" y1="{plot_bottom}" x2="{xs}" y2="{}"/>"#,
            plot_bottom + 4
        );
        let _ = writeln!(
            out,
            r#"<text class="tick-label" x="{xs}" y="{}" text-anchor="middle">{m}</text>"#,
            plot_bottom + 15
        );
    }
    let _ = writeln!(
        out,
        r#"<text class="axis-title" x="{}" y="{}" text-anchor="middle">Minutes since first dose</text>"#,
        (PLOT_LEFT + PLOT_RIGHT) / 2,
        plot_bottom + 30
    );
    out.push_str("</g>\n");

    // Alert lines behind the readings, labels in the right gutter.
    let limits = place_limit_labels(c.limits, &y, top, plot_top, plot_bottom);
    if !limits.is_empty() {
        out.push_str("<g class=\"limits\">\n");
        for l in &limits {
            let class = esc(l.limit.class);
            let ys = tenths(l.y);
            let _ = writeln!(
                out,
                r#"<line class="limit {class}" x1="{PLOT_LEFT}" y1="{ys}" x2="{PLOT_RIGHT}" y2="{ys}" stroke-dasharray="6 4"/>"#
            );
            let (shown, whole) = shorten(&l.limit.label, LIMIT_LABEL_CHARS);
            let tip = if whole {
                String::new()
            } else {
                format!("<title>{}</title>", esc(&l.limit.label))
            };
            let _ = writeln!(
                out,
                r#"<text class="limit-label {class}" x="{}" y="{}">{}{tip}</text>"#,
                PLOT_RIGHT + 6,
                tenths(l.label_y),
                esc(&shown)
            );
        }
        out.push_str("</g>\n");
    }

    // Administration events: a vertical line each, labels staggered above the plot.
    if !marks.is_empty() {
        out.push_str("<g class=\"marks\">\n");
        for m in &marks {
            let xs = tenths(m.x);
            let label_y = 12 + MARK_ROW_HEIGHT * m.row as i64;
            let _ = writeln!(
                out,
                r#"<line class="mark" x1="{xs}" y1="{}" x2="{xs}" y2="{plot_bottom}"/>"#,
                label_y + 3
            );
            let (tx, anchor) = if m.anchor_end {
                (m.x - 30, "end")
            } else {
                (m.x + 30, "start")
            };
            let _ = writeln!(
                out,
                r#"<text class="mark-label" x="{}" y="{label_y}" text-anchor="{anchor}">{}<title>{} at minute {}</title></text>"#,
                tenths(tx),
                esc(&m.mark.label),
                esc(&m.mark.label),
                m.mark.minute
            );
        }
        out.push_str("</g>\n");
    }

    // Each series joins only its own readings; a marker per reading, with a tooltip.
    for (n, (s, points)) in c.series.iter().zip(&readings).enumerate() {
        if points.is_empty() {
            continue;
        }
        let _ = writeln!(out, r#"<g class="series series-{n} {}">"#, esc(s.class));
        if points.len() >= 2 {
            let coords: Vec<String> = points
                .iter()
                .map(|&(m, v)| format!("{},{}", tenths(x.at(m)), tenths(y.at(v))))
                .collect();
            let _ = writeln!(
                out,
                r#"<polyline class="series-line" fill="none" points="{}"/>"#,
                coords.join(" ")
            );
        }
        for &(m, v) in points {
            let off_scale = !(0..=top).contains(&v);
            let _ = writeln!(
                out,
                r#"<circle class="reading{}" cx="{}" cy="{}" r="{POINT_RADIUS}"><title>{}: {} at minute {m}{}</title></circle>"#,
                if off_scale { " off-scale" } else { "" },
                tenths(x.at(m)),
                tenths(y.at(v)),
                esc(s.name),
                tenths(v),
                if off_scale { " (off the scale)" } else { "" }
            );
        }
        out.push_str("</g>\n");
    }

    // Legend: each series' swatch drawn with the series' own classes.
    out.push_str("<g class=\"legend\">\n");
    for (n, (s, item)) in c.series.iter().zip(&legend).enumerate() {
        let _ = writeln!(
            out,
            r#"<g class="legend-item series-{n} {}">"#,
            esc(s.class)
        );
        let sy = item.y - 4;
        let _ = writeln!(
            out,
            r#"<line class="series-line" x1="{}" y1="{sy}" x2="{}" y2="{sy}"/>"#,
            item.x,
            item.x + 16
        );
        let _ = writeln!(
            out,
            r#"<circle class="reading" cx="{}" cy="{sy}" r="{POINT_RADIUS}"/>"#,
            item.x + 8
        );
        let _ = writeln!(
            out,
            r#"<text class="legend-label" x="{}" y="{}">{}</text>"#,
            item.x + 22,
            item.y,
            esc(s.name)
        );
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n");
    out.push_str("</svg>\n");
    out
}

const E_WIDTH: i64 = 640;
const E_LEFT: i64 = 48;
const E_RIGHT: i64 = 620;
const E_HEIGHT: i64 = 160;
/// Characters per line of the note before it wraps.
const NOTE_CHARS: usize = 100;
const NOTE_LINES_MAX: usize = 3;

/// A model-estimate curve (minute, ng/mL) on its own small chart, with `note` — which should
/// say it is an estimate, not a measurement — written inside the figure as well as in its
/// description. A short paragraph instead when there is nothing to draw.
pub fn estimate_chart(title: &str, note: &str, points: &[(f64, f64)]) -> String {
    // Minutes and concentrations both in tenths.
    let mut pts: Vec<(i64, i64)> = points
        .iter()
        .filter(|(m, v)| m.is_finite() && v.is_finite())
        .map(|&(m, v)| (to_tenths(m), to_tenths(v)))
        .collect();
    pts.sort_by_key(|p| p.0);
    let (Some(&first), Some(&last)) = (pts.first(), pts.last()) else {
        return "<p class=\"muted chart-empty\">No model estimate to show.</p>\n".to_owned();
    };

    let note_lines = wrap(note, NOTE_CHARS, NOTE_LINES_MAX);
    let unit_y = 14 + MARK_ROW_HEIGHT * note_lines.len() as i64 + 4;
    let plot_top = unit_y + 8;
    let plot_bottom = plot_top + E_HEIGHT;
    let height = plot_bottom + 40;

    let (lo, hi) = (
        first.0,
        last.0.max(first.0.saturating_add(MIN_SPAN_MINUTES * 10)),
    );
    let x = Axis::new(lo, hi, E_LEFT, E_RIGHT - E_LEFT);
    let peak = pts
        .iter()
        .copied()
        .reduce(|a, b| if b.1 > a.1 { b } else { a })
        .unwrap_or(first);
    let (top, step) = nice_top(peak.1);
    let y = Axis::new(0, top, plot_bottom, -E_HEIGHT);

    let id = format!("estimate-chart-{}", slug(title));
    let mut out = String::with_capacity(4096);
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart estimate-chart" viewBox="0 0 {E_WIDTH} {height}" role="img" aria-labelledby="{id}-title" aria-describedby="{id}-desc">"#
    );
    let _ = writeln!(out, r#"<title id="{id}-title">{}</title>"#, esc(title));
    let mut desc = note.trim().to_owned();
    if !desc.is_empty() && !desc.ends_with('.') {
        desc.push('.');
    }
    let _ = write!(
        desc,
        " Peak {} ng/mL at minute {}; {} ng/mL at minute {}.",
        tenths(peak.1),
        tenths(peak.0),
        tenths(last.1),
        tenths(last.0)
    );
    let _ = writeln!(
        out,
        r#"<desc id="{id}-desc">{}</desc>"#,
        esc(desc.trim_start())
    );
    for (i, line) in note_lines.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<text class="note" x="8" y="{}">{}</text>"#,
            14 + MARK_ROW_HEIGHT * i as i64,
            esc(line)
        );
    }
    let _ = writeln!(
        out,
        r#"<rect class="plot-bg" x="{E_LEFT}" y="{plot_top}" width="{}" height="{E_HEIGHT}"/>"#,
        E_RIGHT - E_LEFT
    );

    out.push_str("<g class=\"axis y-axis\">\n");
    let _ = writeln!(
        out,
        r#"<text class="axis-title" x="{}" y="{unit_y}" text-anchor="end">ng/mL</text>"#,
        E_LEFT - 6
    );
    for tick in value_ticks(top, &[step], step, &y) {
        let yt = y.at(tick);
        let _ = writeln!(
            out,
            r#"<line class="grid" x1="{E_LEFT}" y1="{0}" x2="{E_RIGHT}" y2="{0}"/>"#,
            tenths(yt)
        );
        let _ = writeln!(
            out,
            r#"<text class="tick-label" x="{}" y="{}" text-anchor="end">{}</text>"#,
            E_LEFT - 6,
            tenths(yt + 40),
            tenths(tick)
        );
    }
    let _ = writeln!(
        out,
        r#"<line class="axis-line" x1="{E_LEFT}" y1="{plot_top}" x2="{E_LEFT}" y2="{plot_bottom}"/>"#
    );
    out.push_str("</g>\n");

    out.push_str("<g class=\"axis x-axis\">\n");
    let _ = writeln!(
        out,
        r#"<line class="axis-line" x1="{E_LEFT}" y1="{plot_bottom}" x2="{E_RIGHT}" y2="{plot_bottom}"/>"#
    );
    let step_min = minute_step((hi.saturating_sub(lo)) / 10);
    for m in minute_ticks(lo, hi, step_min.saturating_mul(10)) {
        let xs = tenths(x.at(m));
        let _ = writeln!(
            out,
            r#"<line class="tick" x1="{xs}" y1="{plot_bottom}" x2="{xs}" y2="{}"/>"#,
            plot_bottom + 4
        );
        let _ = writeln!(
            out,
            r#"<text class="tick-label" x="{xs}" y="{}" text-anchor="middle">{}</text>"#,
            plot_bottom + 15,
            tenths(m)
        );
    }
    let _ = writeln!(
        out,
        r#"<text class="axis-title" x="{}" y="{}" text-anchor="middle">Minutes since first dose</text>"#,
        (E_LEFT + E_RIGHT) / 2,
        plot_bottom + 30
    );
    out.push_str("</g>\n");

    if pts.len() >= 2 {
        let coords: Vec<String> = pts
            .iter()
            .map(|&(m, v)| format!("{},{}", tenths(x.at(m)), tenths(y.at(v))))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline class="estimate-line" fill="none" points="{}"/>"#,
            coords.join(" ")
        );
    }
    let _ = writeln!(
        out,
        r#"<circle class="estimate-peak" cx="{}" cy="{}" r="{POINT_RADIUS}"><title>Peak estimate {} ng/mL at minute {}</title></circle>"#,
        tenths(x.at(peak.0)),
        tenths(y.at(peak.1)),
        tenths(peak.1),
        tenths(peak.0)
    );
    out.push_str("</svg>\n");
    out
}

/// Maps a closed integer interval onto a span of the viewBox (in tenths of a unit); `len` is
/// negative for a y axis, which grows upwards. Values outside the interval land on its ends.
struct Axis {
    lo: i128,
    span: i128,
    from: i64,
    len: i64,
}

impl Axis {
    fn new(lo: i64, hi: i64, from: i64, len: i64) -> Self {
        Self {
            lo: i128::from(lo),
            span: (i128::from(hi) - i128::from(lo)).max(1),
            from: from * 10,
            len: len * 10,
        }
    }

    fn at(&self, v: i64) -> i64 {
        let d = (i128::from(v) - self.lo).clamp(0, self.span);
        let len = i128::from(self.len.unsigned_abs());
        let off = i64::try_from(div_round(d * len, self.span)).unwrap_or(0);
        if self.len < 0 {
            self.from - off
        } else {
            self.from + off
        }
    }
}

/// Round-half-up division for non-negative numerators and positive denominators.
fn div_round(n: i128, d: i128) -> i128 {
    (2 * n + d) / (2 * d)
}

/// A value in tenths, rounded; saturates at the ends of `i64` (callers pass finite values).
fn to_tenths(v: f64) -> i64 {
    (v * 10.0).round() as i64
}

/// A series' finite readings as (minute, value in tenths), in time order (stable, so two
/// readings at one minute keep their input order).
fn readings(points: &[(i64, f64)]) -> Vec<(i64, i64)> {
    let mut r: Vec<(i64, i64)> = points
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|&(m, v)| (m, to_tenths(v)))
        .collect();
    r.sort_by_key(|p| p.0);
    r
}

/// The x range: the one asked for, widened to every reading and event, at least 15 minutes.
fn minute_range(c: &SessionChart, readings: &[Vec<(i64, i64)>]) -> (i64, i64) {
    let (a, b) = c.minutes;
    let minutes = readings
        .iter()
        .flatten()
        .map(|p| p.0)
        .chain(c.marks.iter().map(|m| m.minute));
    let (lo, hi) = minutes.fold((a.min(b), a.max(b)), |(lo, hi), m| (lo.min(m), hi.max(m)));
    (lo, hi.max(lo.saturating_add(MIN_SPAN_MINUTES)))
}

/// The y axis top in tenths: 200, or the highest reading or alert line plus 10 rounded up to
/// the next 10, at most 300.
fn y_top(readings: &[Vec<(i64, i64)>], limits: &[Limit]) -> i64 {
    let highest = readings
        .iter()
        .flatten()
        .map(|p| p.1)
        .chain(
            limits
                .iter()
                .filter(|l| l.value.is_finite())
                .map(|l| to_tenths(l.value)),
        )
        .max()
        .unwrap_or(0);
    let wanted = highest
        .saturating_add(Y_HEADROOM * 10)
        .clamp(Y_DEFAULT_TOP * 10, Y_CEILING * 10);
    (wanted + 99) / 100 * 100
}

/// X tick step in minutes: 15 up to three hours, 30 up to six, then doubling from an hour.
fn minute_step(span: i64) -> i64 {
    match span {
        ..=180 => 15,
        181..=360 => 30,
        _ => {
            let mut step: i64 = 60;
            while span / step > 12 && step < i64::MAX / 2 {
                step *= 2;
            }
            step
        }
    }
}

/// The multiples of `step` in lo..=hi.
fn minute_ticks(lo: i64, hi: i64, step: i64) -> Vec<i64> {
    let step = i128::from(step.max(1));
    let (lo, hi) = (i128::from(lo), i128::from(hi));
    let first = -((-lo).div_euclid(step)) * step;
    (0..)
        .map(|k| first + k * step)
        .take_while(|&t| t <= hi)
        .take(64)
        .filter_map(|t| i64::try_from(t).ok())
        .collect()
}

/// Y tick values (tenths) from 0 to `top`: the first step in `steps` giving at most ten
/// intervals (else `fallback`), plus the top itself; labels too close together are thinned,
/// the top always stays.
fn value_ticks(top: i64, steps: &[i64], fallback: i64, y: &Axis) -> Vec<i64> {
    let step = steps
        .iter()
        .copied()
        .find(|&s| s > 0 && top / s <= 10)
        .unwrap_or(fallback)
        .max(1);
    let mut ticks: Vec<i64> = (0..=top / step).map(|k| k * step).take(64).collect();
    ticks.push(top);
    ticks.dedup();
    let mut kept: Vec<i64> = Vec::with_capacity(ticks.len());
    for t in ticks {
        if let Some(&prev) = kept.last()
            && y.at(prev) - y.at(t) < TICK_LABEL_GAP * 10
        {
            if t == top {
                kept.pop();
            } else {
                continue;
            }
        }
        kept.push(t);
    }
    kept
}

/// A round axis top (tenths) for the estimate curve and its tick step: 1, 2 or 5 times a power
/// of ten, at most six steps.
fn nice_top(peak: i64) -> (i64, i64) {
    let peak = peak.max(1);
    let mut scale: i64 = 1;
    for _ in 0..18 {
        for m in [1, 2, 5] {
            let step = m * scale;
            if peak <= step.saturating_mul(6) {
                return ((peak + step - 1) / step * step, step);
            }
        }
        scale = scale.saturating_mul(10);
    }
    (peak, peak)
}

/// An event placed above the plot: its x (tenths), its label row, and which side of the line
/// the label sits on.
struct PlacedMark<'a> {
    mark: &'a Mark,
    x: i64,
    row: usize,
    anchor_end: bool,
}

/// Labels go right of their line (left of it near the right edge), each on the first row
/// where it does not overlap the previous label; with every row taken, the row with the most
/// room.
fn place_marks<'a>(marks: &'a [Mark], x: &Axis) -> Vec<PlacedMark<'a>> {
    let mut sorted: Vec<&Mark> = marks.iter().collect();
    sorted.sort_by_key(|m| m.minute);
    let mut row_ends: Vec<i64> = Vec::with_capacity(MARK_ROWS_MAX);
    let mut placed = Vec::with_capacity(sorted.len());
    for mark in sorted {
        let mx = x.at(mark.minute);
        let w = text_width(&mark.label) * 10;
        let anchor_end = mx + 30 + w > (WIDTH - 2) * 10;
        let (left, right) = if anchor_end {
            (mx - 30 - w, mx - 30)
        } else {
            (mx + 30, mx + 30 + w)
        };
        let free = row_ends
            .iter()
            .position(|&end| left >= end + LABEL_GAP * 10);
        let row = match free {
            Some(r) => r,
            None if row_ends.len() < MARK_ROWS_MAX => {
                row_ends.push(i64::MIN);
                row_ends.len() - 1
            }
            None => row_ends
                .iter()
                .enumerate()
                .min_by_key(|&(i, &end)| (end, i))
                .map_or(0, |(i, _)| i),
        };
        if let Some(end) = row_ends.get_mut(row) {
            *end = (*end).max(right);
        }
        placed.push(PlacedMark {
            mark,
            x: mx,
            row,
            anchor_end,
        });
    }
    placed
}

/// An alert line within the axis: its y and its label's baseline (tenths).
struct PlacedLimit<'a> {
    limit: &'a Limit<'a>,
    y: i64,
    label_y: i64,
}

/// Alert lines inside the axis, top to bottom, their labels pushed apart so none overlap and
/// none leave the plot's height.
fn place_limit_labels<'a>(
    limits: &'a [Limit<'a>],
    y: &Axis,
    top: i64,
    plot_top: i64,
    plot_bottom: i64,
) -> Vec<PlacedLimit<'a>> {
    let mut placed: Vec<PlacedLimit> = limits
        .iter()
        .filter(|l| l.value.is_finite())
        .filter(|l| (0..=top).contains(&to_tenths(l.value)))
        .map(|limit| {
            let ly = y.at(to_tenths(limit.value));
            PlacedLimit {
                limit,
                y: ly,
                label_y: ly + 35,
            }
        })
        .collect();
    placed.sort_by_key(|p| p.y);
    let gap = LIMIT_LABEL_GAP * 10;
    let mut prev: Option<i64> = None;
    for p in &mut placed {
        p.label_y = p.label_y.max((plot_top + 9) * 10);
        if let Some(prev) = prev {
            p.label_y = p.label_y.max(prev + gap);
        }
        prev = Some(p.label_y);
    }
    let mut next: Option<i64> = None;
    for p in placed.iter_mut().rev() {
        p.label_y = p.label_y.min((plot_bottom + 4) * 10);
        if let Some(next) = next {
            p.label_y = p.label_y.min(next - gap);
        }
        next = Some(p.label_y);
    }
    placed
}

/// A legend entry's place: swatch at x, text baseline at y (whole units).
struct LegendItem {
    x: i64,
    y: i64,
}

/// Legend entries left to right, wrapping onto a new row when the width runs out.
fn place_legend(series: &[Series], first_row: i64) -> Vec<LegendItem> {
    let mut items = Vec::with_capacity(series.len());
    let (mut x, mut y) = (PLOT_LEFT, first_row);
    for s in series {
        let w = 22 + text_width(s.name) + 18;
        if x > PLOT_LEFT && x + w > WIDTH - 8 {
            x = PLOT_LEFT;
            y += LEGEND_ROW_HEIGHT;
        }
        items.push(LegendItem { x, y });
        x += w;
    }
    items
}

/// The accessible summary: the range, each series in words, the alert lines and the events.
fn describe_session(
    c: &SessionChart,
    readings: &[Vec<(i64, i64)>],
    (lo, hi): (i64, i64),
    top: i64,
) -> String {
    let mut s = format!(
        "{} from minute {lo} to minute {hi} since the first dose, each in its own unit on one axis from 0 to {}.",
        c.title,
        tenths(top)
    );
    for (series, points) in c.series.iter().zip(readings) {
        let _ = write!(s, " {}: ", series.name);
        let values = points.iter().map(|p| p.1);
        match (values.clone().min(), values.max(), points.last()) {
            (Some(low), Some(high), Some(&(m, v))) => {
                let n = points.len();
                let noun = if n == 1 { "reading" } else { "readings" };
                let _ = write!(
                    s,
                    "{n} {noun}, lowest {}, highest {}, latest {} at minute {m}",
                    tenths(low),
                    tenths(high),
                    tenths(v)
                );
                let off = points.iter().filter(|p| !(0..=top).contains(&p.1)).count();
                if off > 0 {
                    let _ = write!(s, " ({off} off the scale)");
                }
                s.push('.');
            }
            _ => s.push_str("no readings."),
        }
    }
    let limits: Vec<&str> = c.limits.iter().map(|l| l.label.as_str()).collect();
    if !limits.is_empty() {
        let _ = write!(s, " Alert lines: {}.", limits.join("; "));
    }
    let mut marks: Vec<&Mark> = c.marks.iter().collect();
    marks.sort_by_key(|m| m.minute);
    let marks: Vec<String> = marks
        .iter()
        .map(|m| format!("{} at minute {}", m.label, m.minute))
        .collect();
    if !marks.is_empty() {
        let _ = write!(s, " Events: {}.", marks.join("; "));
    }
    s
}

/// Estimated rendered width of a label, in whole units.
fn text_width(s: &str) -> i64 {
    i64::try_from(s.chars().count())
        .unwrap_or(i64::MAX / 100)
        .min(i64::MAX / 100)
        * CHAR_WIDTH
}

/// At most `max` characters, cut with an ellipsis; and whether the text is whole.
fn shorten(s: &str, max: usize) -> (String, bool) {
    if s.chars().count() <= max {
        return (s.to_owned(), true);
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    (cut, false)
}

/// Greedy word wrap into at most `max_lines` lines of about `width` characters; the last line
/// takes whatever remains.
fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let fits = line.is_empty() || line.chars().count() + 1 + word.chars().count() <= width;
        if !fits && lines.len() + 1 < max_lines {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series<'a>(name: &'a str, class: &'a str, points: &[(i64, f64)]) -> Series<'a> {
        Series {
            name,
            class,
            points: points.to_vec(),
        }
    }

    /// A typical IM session: readings before and after the dose, one booster.
    fn session_series() -> Vec<Series<'static>> {
        vec![
            series(
                "Systolic",
                "systolic",
                &[
                    (-10, 128.0),
                    (20, 152.0),
                    (40, 161.0),
                    (60, 140.0),
                    (120, 126.0),
                ],
            ),
            series(
                "Diastolic",
                "diastolic",
                &[(-10, 82.0), (20, 94.0), (40, 99.0), (60, 88.0), (120, 80.0)],
            ),
            series(
                "Heart rate",
                "heart-rate",
                &[(-10, 72.0), (20, 88.0), (40, 91.0), (120, 75.0)],
            ),
            series("SpO₂", "spo2", &[(-10, 98.0), (40, 96.0), (120, 97.0)]),
        ]
    }

    fn alert_limits() -> Vec<Limit<'static>> {
        vec![
            Limit {
                label: "Systolic alert > 180".into(),
                class: "alert-limit",
                value: 180.0,
            },
            Limit {
                label: "Diastolic alert > 100".into(),
                class: "alert-limit",
                value: 100.0,
            },
            Limit {
                label: "Heart rate alert > 110".into(),
                class: "alert-limit",
                value: 110.0,
            },
            Limit {
                label: "SpO₂ alert < 90".into(),
                class: "alert-limit",
                value: 90.0,
            },
        ]
    }

    fn dose_marks() -> Vec<Mark> {
        vec![
            Mark {
                minute: 0,
                label: "Dose 36.5 mg".into(),
            },
            Mark {
                minute: 40,
                label: "Booster 1".into(),
            },
        ]
    }

    fn chart(series: &[Series], limits: &[Limit], marks: &[Mark], minutes: (i64, i64)) -> String {
        session_chart(&SessionChart {
            title: "Vital signs",
            series,
            limits,
            marks,
            minutes,
        })
    }

    fn typical() -> String {
        chart(
            &session_series(),
            &alert_limits(),
            &dose_marks(),
            (-15, 130),
        )
    }

    /// The value of `name="…"` in the first tag of `tag` (text from `<` up to `>`).
    fn attr<'s>(tag: &'s str, name: &str) -> Option<&'s str> {
        let key = format!(" {name}=\"");
        let start = tag.find(&key)? + key.len();
        let end = tag[start..].find('"')?;
        Some(&tag[start..start + end])
    }

    /// Every element opening tag (without its content) whose class list contains `class`.
    fn tags_with_class<'s>(svg: &'s str, class: &str) -> Vec<&'s str> {
        svg.split('<')
            .filter_map(|t| t.split('>').next())
            .filter(|t| attr(t, "class").is_some_and(|c| c.split(' ').any(|part| part == class)))
            .collect()
    }

    fn num(s: Option<&str>) -> f64 {
        s.and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
    }

    /// The y of the horizontal grid line labelled `label` on the y axis.
    fn grid_y(svg: &str, label: &str) -> f64 {
        let text = format!(r#"text-anchor="end">{label}</text>"#);
        let at = svg
            .find(&text)
            .unwrap_or_else(|| panic!("no tick {label}: {svg}"));
        let tag_start = svg[..at].rfind("<text").unwrap();
        num(attr(&svg[tag_start..at], "y")) - 4.0
    }

    /// The structure of the markup: a line per container (the svg and each group), indented by
    /// nesting, with its classes and its other children counted by kind in order of first
    /// appearance; tooltips left out.
    fn outline(svg: &str) -> String {
        struct Container {
            line: String,
            kids: Vec<(String, usize)>,
        }
        let mut containers: Vec<Container> = Vec::new();
        // Open elements: Some(index into containers) for a container, None for anything else.
        let mut open: Vec<Option<usize>> = Vec::new();
        for piece in svg.split('<').skip(1) {
            if piece.starts_with('/') {
                open.pop();
                continue;
            }
            let tag = piece.split('>').next().unwrap_or("");
            let name: String = tag
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            let mut key = name.clone();
            if let Some(class) = attr(tag, "class") {
                key = format!("{key}.{}", class.replace(' ', "."));
            }
            let parent = open.last().copied();
            let entry = if name == "svg" || name == "g" {
                containers.push(Container {
                    line: "  ".repeat(open.len()) + &key,
                    kids: Vec::new(),
                });
                Some(containers.len() - 1)
            } else {
                if let Some(Some(p)) = parent {
                    let kids = &mut containers[p].kids;
                    match kids.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, n)) => *n += 1,
                        None => kids.push((key, 1)),
                    }
                }
                None
            };
            if !tag.ends_with('/') {
                open.push(entry);
            }
        }
        containers
            .into_iter()
            .map(|c| {
                let kids: Vec<String> = c
                    .kids
                    .into_iter()
                    .map(|(k, n)| if n > 1 { format!("{k} ×{n}") } else { k })
                    .collect();
                if kids.is_empty() {
                    c.line
                } else {
                    format!("{}: {}", c.line, kids.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_same_session_gives_byte_identical_markup() {
        assert_eq!(typical(), typical());
        let est = [(0.0, 0.0), (5.0, 120.3), (40.0, 80.25)];
        assert_eq!(
            estimate_chart("Estimate", "Model estimate", &est),
            estimate_chart("Estimate", "Model estimate", &est)
        );
    }

    #[test]
    fn no_readings_at_all_shows_a_short_paragraph_not_a_chart() {
        let expected = "<p class=\"muted chart-empty\">No vital signs recorded yet.</p>\n";
        assert_eq!(
            chart(&[], &alert_limits(), &dose_marks(), (0, 60)),
            expected
        );
        let empty = [
            series("Systolic", "systolic", &[]),
            series("Heart rate", "heart-rate", &[(5, f64::NAN)]),
        ];
        assert_eq!(chart(&empty, &[], &dose_marks(), (0, 60)), expected);
    }

    #[test]
    fn every_series_name_is_in_the_legend_with_its_class_as_swatch() {
        let svg = typical();
        let legend = &svg[svg.find(r#"<g class="legend">"#).unwrap()..];
        for (n, (name, class)) in [
            ("Systolic", "systolic"),
            ("Diastolic", "diastolic"),
            ("Heart rate", "heart-rate"),
            ("SpO₂", "spo2"),
        ]
        .into_iter()
        .enumerate()
        {
            let item = format!(r#"<g class="legend-item series-{n} {class}">"#);
            let at = legend
                .find(&item)
                .unwrap_or_else(|| panic!("{item}: {svg}"));
            let rest = &legend[at..];
            let end = rest.find("</g>").unwrap();
            assert!(rest[..end].contains(r#"<line class="series-line""#));
            assert!(rest[..end].contains(&format!(">{name}</text>")), "{name}");
        }
    }

    #[test]
    fn a_series_with_no_readings_stays_in_the_legend_but_draws_nothing() {
        let s = [
            series("Systolic", "systolic", &[(0, 120.0), (10, 125.0)]),
            series("SpO₂", "spo2", &[]),
        ];
        let svg = chart(&s, &[], &[], (0, 30));
        assert!(svg.contains(r#"<g class="legend-item series-1 spo2">"#));
        assert!(!svg.contains(r#"<g class="series series-1 spo2">"#));
        assert!(svg.contains("SpO₂: no readings."));
    }

    #[test]
    fn an_alert_line_is_drawn_at_its_value_on_the_axis() {
        let svg = typical();
        let (y0, y200) = (grid_y(&svg, "0"), grid_y(&svg, "200"));
        assert_eq!(y0 - y200, 200.0, "one unit per mmHg on the 0..200 axis");
        let lines = tags_with_class(&svg, "limit");
        assert_eq!(lines.len(), 4, "{svg}");
        for (value, line) in [(180.0, lines[0]), (110.0, lines[1]), (100.0, lines[2])] {
            assert!(line.contains(r#"class="limit alert-limit""#));
            assert!(line.contains(r#"stroke-dasharray="#), "dashed: {line}");
            assert_eq!(num(attr(line, "y1")), y0 - value, "{line}");
            assert_eq!(num(attr(line, "y2")), y0 - value);
            assert_eq!(num(attr(line, "x1")), PLOT_LEFT as f64);
            assert_eq!(num(attr(line, "x2")), PLOT_RIGHT as f64);
        }
        assert!(svg.contains(">Systolic alert &gt; 180</text>"));
        assert!(svg.contains(">SpO₂ alert &lt; 90</text>"));
    }

    #[test]
    fn alert_labels_close_together_do_not_overlap() {
        // 110, 100 and 90 are 10 units apart, 90 twice: the labels are pushed apart.
        let mut limits = alert_limits();
        limits.push(Limit {
            label: "Systolic alert < 90".into(),
            class: "alert-limit",
            value: 90.0,
        });
        let svg = chart(&session_series(), &limits, &[], (0, 60));
        let mut ys: Vec<f64> = tags_with_class(&svg, "limit-label")
            .iter()
            .map(|t| num(attr(t, "y")))
            .collect();
        ys.sort_by(f64::total_cmp);
        assert_eq!(ys.len(), 5);
        for pair in ys.windows(2) {
            assert!(pair[1] - pair[0] >= LIMIT_LABEL_GAP as f64, "{ys:?}");
        }
    }

    #[test]
    fn a_long_alert_label_is_shortened_with_the_whole_label_as_tooltip() {
        let limits = [Limit {
            label: "Systolic blood pressure alert above the protocol's threshold > 180".into(),
            class: "alert-limit",
            value: 180.0,
        }];
        let svg = chart(&session_series(), &limits, &[], (0, 60));
        assert!(svg.contains("…<title>Systolic blood pressure alert above the protocol&apos;s threshold &gt; 180</title>"), "{svg}");
    }

    #[test]
    fn a_dose_mark_is_a_vertical_line_with_its_label_at_the_top() {
        let svg = typical();
        let lines = tags_with_class(&svg, "mark");
        let labels = tags_with_class(&svg, "mark-label");
        assert_eq!((lines.len(), labels.len()), (2, 2));
        assert!(svg.contains(">Dose 36.5 mg<title>Dose 36.5 mg at minute 0</title></text>"));
        assert!(svg.contains(">Booster 1<title>"));
        // The dose line is vertical, at minute 0 on the axis, and its label above the plot.
        let dose = lines[0];
        assert_eq!(attr(dose, "x1"), attr(dose, "x2"));
        let zero = svg
            .split('<')
            .find(|t| t.starts_with("text class=\"tick-label\"") && t.ends_with("\"middle\">0"))
            .unwrap();
        assert_eq!(attr(dose, "x1"), attr(zero, "x"));
        let plot_top = num(attr(tags_with_class(&svg, "plot-bg")[0], "y"));
        assert!(num(attr(labels[0], "y")) < plot_top);
    }

    #[test]
    fn marks_close_together_get_their_own_label_rows() {
        let marks = [
            Mark {
                minute: 0,
                label: "Device 1".into(),
            },
            Mark {
                minute: 5,
                label: "Device 2".into(),
            },
            Mark {
                minute: 10,
                label: "Device 3".into(),
            },
            Mark {
                minute: 60,
                label: "Booster 1".into(),
            },
        ];
        let svg = chart(&session_series(), &[], &marks, (0, 120));
        let ys: Vec<f64> = tags_with_class(&svg, "mark-label")
            .iter()
            .map(|t| num(attr(t, "y")))
            .collect();
        assert_eq!(ys, vec![12.0, 25.0, 38.0, 12.0], "{svg}");
    }

    #[test]
    fn pre_dose_minutes_sit_left_of_the_first_dose() {
        let s = [series(
            "Systolic",
            "systolic",
            &[(-25, 130.0), (-5, 128.0), (30, 150.0)],
        )];
        // The reading at -25 lies before the range asked for: the range widens to it.
        let svg = chart(&s, &[], &dose_marks(), (-15, 60));
        let cx: Vec<f64> = tags_with_class(&svg, "reading")
            .iter()
            .map(|t| num(attr(t, "cx")))
            .collect();
        assert_eq!(cx[0], PLOT_LEFT as f64, "{svg}");
        let dose_x = num(attr(tags_with_class(&svg, "mark")[0], "x1"));
        assert!(
            cx[0] < cx[1] && cx[1] < dose_x && dose_x < cx[2],
            "{cx:?} {dose_x}"
        );
        for tick in ["-15", "0", "15"] {
            assert!(svg.contains(&format!(r#"text-anchor="middle">{tick}</text>"#)));
        }
        assert!(svg.contains("from minute -25 to minute 60"));
        assert!(svg.contains("latest 150 at minute 30"));
    }

    #[test]
    fn a_reading_above_the_axis_is_clamped_to_the_top_and_still_drawn() {
        let s = [series(
            "Systolic",
            "systolic",
            &[(0, 120.0), (10, 450.0), (20, 130.0)],
        )];
        let svg = chart(&s, &[], &[], (0, 30));
        let top = grid_y(&svg, "300");
        let plot_top = num(attr(tags_with_class(&svg, "plot-bg")[0], "y"));
        assert_eq!(top, plot_top);
        let readings = tags_with_class(&svg, "reading");
        let off: Vec<&&str> = readings
            .iter()
            .filter(|t| t.contains("off-scale"))
            .collect();
        assert_eq!(off.len(), 1, "{svg}");
        assert_eq!(num(attr(off[0], "cy")), top);
        assert!(svg.contains("Systolic: 450 at minute 10 (off the scale)</title>"));
        assert!(svg.contains("(1 off the scale)."));
        // Still joined into the line.
        assert_eq!(svg.matches("<polyline").count(), 1);
        let line = attr(tags_with_class(&svg, "series-line")[0], "points").unwrap();
        assert_eq!(line.split(' ').count(), 3);
        assert!(line.contains(&format!(",{}", tenths((top * 10.0) as i64))));
    }

    #[test]
    fn the_axis_grows_above_200_to_fit_a_high_reading() {
        let s = [series("Systolic", "systolic", &[(0, 212.0)])];
        let svg = chart(&s, &[], &[], (0, 30));
        assert!(svg.contains(r#"text-anchor="end">230</text>"#), "{svg}");
        assert!(!svg.contains("off-scale"));
        // And stays at 200 for ordinary readings.
        assert!(typical().contains(r#"text-anchor="end">200</text>"#));
        assert!(!typical().contains(r#"text-anchor="end">220</text>"#));
    }

    #[test]
    fn each_series_joins_only_its_own_readings() {
        let s = [
            series("Systolic", "systolic", &[(0, 120.0), (30, 140.0)]),
            series("Heart rate", "heart-rate", &[(15, 80.0)]),
        ];
        let svg = chart(&s, &[], &[], (0, 30));
        // Systolic's line has its two points only; heart rate (one reading) has no line.
        let lines = tags_with_class(&svg, "series-line");
        let drawn: Vec<&&str> = lines.iter().filter(|t| t.contains("points=")).collect();
        assert_eq!(drawn.len(), 1);
        assert_eq!(attr(drawn[0], "points"), Some("44,90 520,70"));
        let hr = &svg[svg
            .find(r#"<g class="series series-1 heart-rate">"#)
            .unwrap()..];
        let hr = &hr[..hr.find("</g>").unwrap()];
        assert!(!hr.contains("<polyline"));
        assert_eq!(hr.matches("<circle").count(), 1);
    }

    #[test]
    fn minute_ticks_every_15_or_every_30_by_range() {
        assert_eq!(
            minute_ticks(-15, 130, minute_step(145)),
            [-15, 0, 15, 30, 45, 60, 75, 90, 105, 120]
        );
        assert_eq!(minute_step(240), 30);
        assert_eq!(minute_ticks(-20, 40, 15), [-15, 0, 15, 30]);
        assert_eq!(minute_step(24 * 60), 120);
    }

    #[test]
    fn text_is_escaped() {
        let s = [series("<b>&\"x\"", "a\"b", &[(0, 100.0)])];
        let marks = [Mark {
            minute: 0,
            label: "Dose <1> & 'more'".into(),
        }];
        let svg = session_chart(&SessionChart {
            title: "O'Brien <vitals>",
            series: &s,
            limits: &[],
            marks: &marks,
            minutes: (0, 30),
        });
        assert!(svg.contains("&lt;b&gt;&amp;&quot;x&quot;"), "{svg}");
        assert!(svg.contains(r#"class="series series-0 a&quot;b""#));
        assert!(svg.contains("Dose &lt;1&gt; &amp; &apos;more&apos;"));
        assert!(svg.contains("O&apos;Brien &lt;vitals&gt;"));
        assert!(svg.contains(r#"id="session-chart-o-brien-vitals-title""#));
        assert!(!svg.contains("<b>") && !svg.contains("<1>") && !svg.contains("<vitals>"));
    }

    #[test]
    fn no_inline_styles_anywhere() {
        let outputs = [
            typical(),
            chart(&[], &[], &[], (0, 0)),
            estimate_chart("Estimate", "Model estimate", &[(0.0, 0.0), (10.0, 50.0)]),
            estimate_chart("Estimate", "Model estimate", &[]),
        ];
        for out in outputs {
            assert!(!out.contains("style="), "{out}");
            assert!(!out.contains("<style"));
        }
    }

    #[test]
    fn coordinates_have_at_most_one_decimal() {
        let s = [series(
            "Temperature-like",
            "x",
            &[(-7, 36.66), (13, 37.04), (97, 180.55)],
        )];
        let est = [(0.0, 0.0), (3.33, 101.27), (47.9, 44.444)];
        for svg in [
            chart(&s, &alert_limits(), &dose_marks(), (-15, 130)),
            estimate_chart("E", "Model estimate", &est),
        ] {
            for attr in svg.split('"').skip(1).step_by(2) {
                for n in attr.split([' ', ',']) {
                    if let Some((_, frac)) = n.split_once('.')
                        && n.parse::<f64>().is_ok()
                    {
                        assert!(frac.len() <= 1, "{n} in {svg}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_chart_names_itself_and_describes_the_session() {
        let svg = typical();
        assert!(svg.starts_with("<svg "));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-labelledby="session-chart-vital-signs-title""#));
        assert!(svg.contains(r#"<title id="session-chart-vital-signs-title">Vital signs</title>"#));
        assert!(svg.contains(concat!(
            r#"<desc id="session-chart-vital-signs-desc">Vital signs from minute -15 to minute 130 since the first dose, each in its own unit on one axis from 0 to 200."#,
            " Systolic: 5 readings, lowest 126, highest 161, latest 126 at minute 120.",
            " Diastolic: 5 readings, lowest 80, highest 99, latest 80 at minute 120.",
            " Heart rate: 4 readings, lowest 72, highest 91, latest 75 at minute 120.",
            " SpO₂: 3 readings, lowest 96, highest 98, latest 97 at minute 120.",
            " Alert lines: Systolic alert &gt; 180; Diastolic alert &gt; 100; Heart rate alert &gt; 110; SpO₂ alert &lt; 90.",
            " Events: Dose 36.5 mg at minute 0; Booster 1 at minute 40.</desc>"
        )), "{svg}");
    }

    #[test]
    fn structure_of_a_typical_session() {
        let expected = "\
svg.chart.session-chart: title, desc, rect.plot-bg
  g.axis.y-axis: line.grid ×11, text.tick-label ×11, line.axis-line
  g.axis.x-axis: line.axis-line, line.grid ×10, line.tick ×10, text.tick-label ×10, text.axis-title
  g.limits: line.limit.alert-limit ×4, text.limit-label.alert-limit ×4
  g.marks: line.mark ×2, text.mark-label ×2
  g.series.series-0.systolic: polyline.series-line, circle.reading ×5
  g.series.series-1.diastolic: polyline.series-line, circle.reading ×5
  g.series.series-2.heart-rate: polyline.series-line, circle.reading ×4
  g.series.series-3.spo2: polyline.series-line, circle.reading ×3
  g.legend
    g.legend-item.series-0.systolic: line.series-line, circle.reading, text.legend-label
    g.legend-item.series-1.diastolic: line.series-line, circle.reading, text.legend-label
    g.legend-item.series-2.heart-rate: line.series-line, circle.reading, text.legend-label
    g.legend-item.series-3.spo2: line.series-line, circle.reading, text.legend-label";
        assert_eq!(outline(&typical()), expected);
    }

    const DOMINO_NOTE: &str = "Model estimate (Domino three-compartment model), not a measurement";

    fn estimate_points() -> Vec<(f64, f64)> {
        (0..=48)
            .map(|k| {
                let m = f64::from(k) * 5.0;
                let v = if m <= 40.0 {
                    m * 4.0
                } else {
                    160.0 * (-(m - 40.0) / 60.0).exp()
                };
                (m, v)
            })
            .collect()
    }

    #[test]
    fn the_estimate_says_inside_the_figure_that_it_is_a_model_not_a_measurement() {
        let svg = estimate_chart("Estimated plasma ketamine", DOMINO_NOTE, &estimate_points());
        assert!(svg.starts_with("<svg "));
        assert!(
            svg.contains(&format!(
                r#"<text class="note" x="8" y="14">{DOMINO_NOTE}</text>"#
            )),
            "{svg}"
        );
        assert!(
            svg.contains(r#"aria-labelledby="estimate-chart-estimated-plasma-ketamine-title""#)
        );
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(&format!(
            ">{DOMINO_NOTE}. Peak 160 ng/mL at minute 40; 5.7 ng/mL at minute 240.</desc>"
        )));
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(
            !svg.contains("<circle class=\"reading"),
            "no measurement markers"
        );
        assert!(svg.contains(">ng/mL</text>"));
        for tick in ["0", "30", "60", "240"] {
            assert!(
                svg.contains(&format!(r#"text-anchor="middle">{tick}</text>"#)),
                "{tick}"
            );
        }
        for tick in ["0", "50", "100", "150", "200"] {
            assert!(
                svg.contains(&format!(r#"text-anchor="end">{tick}</text>"#)),
                "{tick}"
            );
        }
    }

    #[test]
    fn structure_of_an_estimate() {
        let expected = "\
svg.chart.estimate-chart: title, desc, text.note, rect.plot-bg, polyline.estimate-line, circle.estimate-peak
  g.axis.y-axis: text.axis-title, line.grid ×5, text.tick-label ×5, line.axis-line
  g.axis.x-axis: line.axis-line, line.tick ×9, text.tick-label ×9, text.axis-title";
        let svg = estimate_chart("Estimate", DOMINO_NOTE, &estimate_points());
        assert_eq!(outline(&svg), expected);
    }

    #[test]
    fn a_long_estimate_note_wraps_inside_the_figure() {
        let note = "Model estimate (Domino three-compartment model with the published \
                    parameters for a 70 kg adult), not a measurement; illustrative only and not \
                    for dosing decisions.";
        let svg = estimate_chart("Estimate", note, &estimate_points());
        let notes = tags_with_class(&svg, "note");
        assert_eq!(notes.len(), 2, "{svg}");
        let shown: Vec<&str> = svg
            .split("<text class=\"note\"")
            .skip(1)
            .filter_map(|t| t.split_once('>').map(|(_, rest)| rest))
            .filter_map(|t| t.split_once("</text>").map(|(text, _)| text))
            .collect();
        assert_eq!(
            shown.join(" "),
            note.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        let plot_top = num(attr(tags_with_class(&svg, "plot-bg")[0], "y"));
        assert!(num(attr(notes[1], "y")) < plot_top);
    }

    #[test]
    fn an_estimate_with_no_points_is_a_short_paragraph() {
        assert_eq!(
            estimate_chart("Estimate", DOMINO_NOTE, &[(f64::NAN, 1.0)]),
            "<p class=\"muted chart-empty\">No model estimate to show.</p>\n"
        );
    }

    #[test]
    fn estimate_axis_top_is_a_round_number_above_the_peak() {
        assert_eq!(nice_top(1600), (2000, 500));
        assert_eq!(nice_top(1601), (2000, 500));
        assert_eq!(nice_top(3), (3, 1));
        assert_eq!(nice_top(0), (1, 1));
        assert_eq!(nice_top(7), (8, 2));
    }

    #[test]
    fn helpers() {
        assert_eq!(tenths(-5), "-0.5");
        assert_eq!(tenths(1230), "123");
        assert_eq!(slug("Vital signs"), "vital-signs");
        assert_eq!(esc("a\u{0}b"), "ab");
        assert_eq!(shorten("abcdef", 4), ("abc…".to_owned(), false));
        assert_eq!(shorten("abc", 4), ("abc".to_owned(), true));
        assert_eq!(wrap("aa bb cc", 5, 3), ["aa bb", "cc"]);
        assert_eq!(wrap("aa bb cc dd", 2, 2), ["aa", "bb cc dd"]);
    }
}
