//! The one plotting module every report uses: a house style for figures a paper can use.
//!
//! - two sizes: [`Width::One`] (one column, 520×390 px ≈ 3.5 in) and [`Width::Two`] (two columns,
//!   1040×420 px ≈ 7 in); text in DejaVu-compatible `sans-serif`, 13 px ticks, 14 px labels;
//! - colour-blind-safe colours: the Okabe–Ito palette ([`PALETTE`]) for lines and a blue–white–
//!   vermillion diverging map for heat maps, with a colour bar;
//! - tick labels by [`tick`]: at most 5 significant digits, no float noise, `5000` not `5000.0`,
//!   `2.5×10⁻⁷` where a plain decimal would be long;
//! - axis ranges padded so no curve touches the frame; log axes ([`Axis::Log`]) where the quantity
//!   spans decades (non-positive values cannot be drawn on one and are left out of the drawing,
//!   never clamped to the frame; the CSV still has them);
//! - legends in a strip above the plotting area, never on the data;
//! - every figure is written with its data: `NAME.svg` and `NAME.csv` (long format
//!   `panel,series,x,y,z`; `z` is the cell value of a heat map, empty for a curve), and
//!   [`Figure::to_json`] gives the same data for the report's JSON.

use crate::error::InputError;
use plotters::coord::combinators::LogCoord;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, SegmentValue};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Okabe–Ito colours (blue, vermillion, bluish green, orange, reddish purple, sky blue, black,
/// yellow), distinguishable under the common colour-vision deficiencies.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(230, 159, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// Black, for reference lines (optimal, bounds, the construction).
pub const REFERENCE: RGBColor = RGBColor(0, 0, 0);
/// Grey, for secondary reference lines.
pub const GREY: RGBColor = RGBColor(120, 120, 120);

const FONT: &str = "sans-serif";
// Requested sizes; plotters writes `font-size` = requested / 1.24, so ticks are ≈ 14 px: ≈ 7 pt
// when a one-column figure (520 px) is printed 3.5 in wide.
const TITLE_PX: u32 = 20;
const LABEL_PX: u32 = 19;
const TICK_PX: u32 = 17;
const LEGEND_PX: u32 = 17;

/// Figure size: one or two paper columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// One column (520×390 px).
    One,
    /// Two columns (1040×420 px).
    Two,
}

impl Width {
    /// Pixel size.
    pub fn size(self) -> (u32, u32) {
        match self {
            Width::One => (520, 390),
            Width::Two => (1040, 420),
        }
    }
}

/// Axis scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// Linear.
    Linear,
    /// Base-10 logarithmic (positive values only).
    Log,
}

/// How a series is drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum Mark {
    /// A solid line.
    Line,
    /// A dashed line (references, predictions, fits).
    Dashed,
    /// Dots only.
    Dots,
    /// A line with a dot per point; `filled[k]` says whether point `k`'s dot is filled.
    LineDots(Vec<bool>),
    /// A dashed line with a dot per point, filled as in [`Mark::LineDots`].
    DashedDots(Vec<bool>),
}

/// One curve.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend entry (empty: none).
    pub label: String,
    /// `(x, y)` points.
    pub points: Vec<(f64, f64)>,
    /// How to draw it.
    pub mark: Mark,
    /// Colour (default: the palette by position in the panel).
    pub color: Option<RGBColor>,
}

impl Series {
    /// A solid line.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series { label: label.into(), points, mark: Mark::Line, color: None }
    }
    /// This series with `mark`.
    pub fn mark(mut self, mark: Mark) -> Self {
        self.mark = mark;
        self
    }
    /// This series in colour `c`.
    pub fn color(mut self, c: RGBColor) -> Self {
        self.color = Some(c);
        self
    }
}

/// A panel of curves.
#[derive(Clone, Debug)]
pub struct Lines {
    /// Title above the panel.
    pub title: String,
    /// x-axis label.
    pub xlabel: String,
    /// y-axis label.
    pub ylabel: String,
    /// x scale.
    pub x: Axis,
    /// y scale.
    pub y: Axis,
    /// The curves.
    pub series: Vec<Series>,
}

/// A heat map of a matrix (row 0 at the top; all heat maps of a figure share one colour scale).
#[derive(Clone, Debug)]
pub struct Heat {
    /// Title above the panel.
    pub title: String,
    /// x-axis label (columns).
    pub xlabel: String,
    /// y-axis label (rows).
    pub ylabel: String,
    /// The matrix, by rows.
    pub matrix: Vec<Vec<f64>>,
}

/// One panel of a figure.
#[derive(Clone, Debug)]
pub enum Panel {
    /// Curves.
    Lines(Lines),
    /// A heat map.
    Heat(Heat),
}

impl Panel {
    fn title(&self) -> &str {
        match self {
            Panel::Lines(l) => &l.title,
            Panel::Heat(h) => &h.title,
        }
    }
}

/// A figure: panels side by side, written as `NAME.svg` + `NAME.csv`.
#[derive(Clone, Debug)]
pub struct Figure {
    /// File stem.
    pub name: String,
    /// Size.
    pub width: Width,
    /// Panels, left to right.
    pub panels: Vec<Panel>,
}

/// A tick label: `0`; plain decimals (shortest form, at most 5 significant digits) for
/// `10⁻³ ≤ |v| < 10⁵`; otherwise `10ⁿ` or `m×10ⁿ` with at most 4 significant digits in `m`.
/// Negative values take the typographic minus `−` (U+2212), as in the axis titles.
pub fn tick(v: f64) -> String {
    let r: f64 = format!("{v:.4e}").parse().unwrap_or(v);
    if (1e-3..1e5).contains(&r.abs()) {
        return format!("{r}").replacen('-', "−", 1);
    }
    tick_sci(v)
}

/// `0`, `10ⁿ` or `m×10ⁿ` (at most 4 significant digits in `m`).
pub fn tick_sci(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return format!("{v}");
    }
    let r: f64 = format!("{v:.4e}").parse().unwrap_or(v);
    let a = r.abs();
    let e = a.log10().floor() as i32;
    let mut m: f64 = format!("{:.3}", r / 10f64.powi(e)).parse().unwrap_or(1.0);
    let mut e = e;
    if m.abs() >= 10.0 {
        m /= 10.0;
        e += 1;
    }
    let pow = format!("10{}", superscript(e));
    if m == 1.0 {
        pow
    } else if m == -1.0 {
        format!("−{pow}")
    } else {
        format!("{m}×{pow}").replacen('-', "−", 1)
    }
}

fn superscript(e: i32) -> String {
    e.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

/// Tick positions for `[lo, hi]`: on a linear axis 3–7 multiples of a step `{1, 2, 5}×10ᵏ`; on a
/// log axis the powers of ten (every `m`-th when there are many), with `2×` and `5×` added when
/// fewer than three fit, and linear ticks when the range is narrower still.
pub fn ticks(lo: f64, hi: f64, axis: Axis) -> Vec<f64> {
    let linear = |lo: f64, hi: f64| {
        let raw = (hi - lo) / 6.0;
        let p = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|s| *s >= raw).unwrap_or(10.0 * p);
        // The 1e-9 keeps a tick that sits on an end of the range (0.3 / 0.1 = 2.9999999999999996).
        let (k0, k1) = ((lo / step - 1e-9).ceil() as i64, (hi / step + 1e-9).floor() as i64);
        // Multiples computed as k · step, then rounded to 12 significant digits: no float noise.
        (k0..=k1).map(|k| format!("{:.11e}", k as f64 * step).parse::<f64>().unwrap_or(0.0)).collect::<Vec<_>>()
    };
    if !(hi > lo) {
        return vec![lo];
    }
    match axis {
        Axis::Linear => linear(lo, hi),
        Axis::Log => {
            let (e0, e1) = (lo.log10().ceil() as i32, hi.log10().floor() as i32);
            let count = (e1 - e0 + 1).max(0);
            let every = ((count + 5) / 6).max(1);
            let mut t: Vec<f64> = (e0..=e1).filter(|e| e.rem_euclid(every) == 0).map(|e| 10f64.powi(e)).collect();
            if t.len() < 3 {
                t = ((e0 - 1)..=e1)
                    .flat_map(|e| [1.0, 2.0, 5.0].map(|m| format!("{m}e{e}").parse::<f64>().unwrap_or(0.0)))
                    .filter(|v| *v >= lo && *v <= hi)
                    .collect();
            }
            if t.len() < 3 {
                t = linear(lo, hi).into_iter().filter(|v| *v > 0.0).collect();
            }
            t
        }
    }
}

/// An f64 axis (linear or log) whose tick positions are ours ([`ticks`]), not plotters'.
struct Ticked<R: Ranged<ValueType = f64>> {
    inner: R,
    ticks: Vec<f64>,
}

impl<R: Ranged<ValueType = f64>> Ranged for Ticked<R> {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(v, limit)
    }
    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
    fn axis_pixel_range(&self, limit: (i32, i32)) -> std::ops::Range<i32> {
        self.inner.axis_pixel_range(limit)
    }
}

fn lin_axis(lo: f64, hi: f64) -> Ticked<plotters::coord::types::RangedCoordf64> {
    Ticked { inner: (lo..hi).into(), ticks: ticks(lo, hi, Axis::Linear) }
}

fn log_axis(lo: f64, hi: f64) -> Ticked<LogCoord<f64>> {
    Ticked { inner: (lo..hi).log_scale().into(), ticks: ticks(lo, hi, Axis::Log) }
}

/// The labels of one axis, formatted alike: plain decimals when every tick lies in
/// `10⁻³ ≤ |v| < 10⁵` (or is 0), else powers of ten.
fn axis_labels(ticks: &[f64]) -> bool {
    ticks.iter().all(|&v| v == 0.0 || (1e-3..1e5).contains(&v.abs()))
}

/// `(lo, hi)` of the finite values (positive ones on a log axis), padded by 6 % of the span
/// (linear) or of the decades (log) so no curve touches the frame.
fn padded(values: impl Iterator<Item = f64>, axis: Axis) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (axis == Axis::Linear || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    match axis {
        Axis::Linear => {
            if !(lo <= hi) {
                return (0.0, 1.0);
            }
            let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
            (lo - 0.06 * span, hi + 0.06 * span)
        }
        Axis::Log => {
            if !(lo <= hi) {
                return (0.1, 10.0);
            }
            let decades = (hi / lo).log10().max(0.5);
            let f = 10f64.powf(0.06 * decades);
            (lo / f, hi * f)
        }
    }
}

fn io(path: &Path, e: impl std::fmt::Display) -> InputError {
    InputError::new("--out", format!("cannot write {}: {e}", path.display()))
}

/// Estimated width in pixels of `s` at requested size `px` (DejaVu Sans averages ≈ 0.6 em per
/// glyph; the em is `px / 1.24`).
fn text_width(s: &str, px: u32) -> i32 {
    (s.chars().count() as f64 * px as f64 / 1.24 * 0.6).ceil() as i32
}

/// Legend entries laid out in rows within `width`: `(row, x offset)` per entry.
fn legend_layout(labels: &[&str], width: i32) -> (Vec<(i32, i32)>, i32) {
    let mut out = Vec::new();
    let (mut row, mut x) = (0, 0);
    for l in labels {
        let w = 30 + text_width(l, LEGEND_PX) + 18;
        if x > 0 && x + w > width {
            row += 1;
            x = 0;
        }
        out.push((row, x));
        x += w;
    }
    let rows = if labels.is_empty() { 0 } else { row + 1 };
    (out, rows)
}

impl Figure {
    /// A figure of `panels`.
    pub fn new(name: impl Into<String>, width: Width, panels: Vec<Panel>) -> Self {
        Figure { name: name.into(), width, panels }
    }

    /// The figure's data as CSV, long format `panel,series,x,y,z`.
    pub fn to_csv(&self) -> String {
        let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let mut s = String::from("panel,series,x,y,z\n");
        for p in &self.panels {
            match p {
                Panel::Lines(l) => {
                    for se in &l.series {
                        for (x, y) in &se.points {
                            s.push_str(&format!("{},{},{x},{y},\n", q(&l.title), q(&se.label)));
                        }
                    }
                }
                Panel::Heat(h) => {
                    for (i, row) in h.matrix.iter().enumerate() {
                        for (j, v) in row.iter().enumerate() {
                            s.push_str(&format!("{},{},{j},{i},{v}\n", q(&h.title), q("cell")));
                        }
                    }
                }
            }
        }
        s
    }

    /// The figure's data and labels as JSON (what the report's `.json` holds under `figures`).
    pub fn to_json(&self) -> serde_json::Value {
        let panels: Vec<serde_json::Value> = self
            .panels
            .iter()
            .map(|p| match p {
                Panel::Lines(l) => json!({
                    "kind": "lines", "title": l.title, "xlabel": l.xlabel, "ylabel": l.ylabel,
                    "xscale": if l.x == Axis::Log { "log" } else { "linear" },
                    "yscale": if l.y == Axis::Log { "log" } else { "linear" },
                    "series": l.series.iter().map(|s| json!({
                        "label": s.label,
                        "x": s.points.iter().map(|p| p.0).collect::<Vec<_>>(),
                        "y": s.points.iter().map(|p| p.1).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                }),
                Panel::Heat(h) => json!({
                    "kind": "heat", "title": h.title, "xlabel": h.xlabel, "ylabel": h.ylabel, "matrix": h.matrix,
                }),
            })
            .collect();
        json!({ "name": self.name, "svg": format!("{}.svg", self.name), "csv": format!("{}.csv", self.name), "panels": panels })
    }

    /// Write `dir/NAME.svg` and `dir/NAME.csv`, each atomically (drawn into memory, then a
    /// temporary file renamed, [`super::write_text`]); returns both paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, InputError> {
        let svg = dir.join(format!("{}.svg", self.name));
        let mut text = String::new();
        self.draw(&svg, &mut text)?;
        super::write_text(dir, &format!("{}.svg", self.name), &text)?;
        let csv = super::write_text(dir, &format!("{}.csv", self.name), &self.to_csv())?;
        Ok(vec![svg, csv])
    }

    /// Draw the SVG into `out`; `path` only names the file in errors.
    fn draw(&self, path: &Path, out: &mut String) -> Result<(), InputError> {
        let (w, h) = self.width.size();
        let root = SVGBackend::with_string(out, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| io(path, e))?;
        let heats: Vec<&Heat> =
            self.panels.iter().filter_map(|p| if let Panel::Heat(h) = p { Some(h) } else { None }).collect();
        let vmax = heats.iter().flat_map(|h| h.matrix.iter().flatten()).fold(0.0f64, |a, x| a.max(x.abs()));
        let vmax = if vmax > 0.0 { vmax } else { 1.0 };
        let (main, bar) = if heats.is_empty() {
            (root.clone(), None)
        } else {
            let (a, b) = root.split_horizontally(w as i32 - 150);
            (a, Some(b))
        };
        let n = self.panels.len().max(1);
        let areas = main.split_evenly((1, n));
        // One legend height for all panels, so their plotting areas line up.
        let pw = (main.dim_in_pixel().0 / n as u32) as i32 - 20;
        let legend_rows = self
            .panels
            .iter()
            .map(|p| match p {
                Panel::Lines(l) => {
                    let labels: Vec<&str> =
                        l.series.iter().filter(|s| !s.label.is_empty()).map(|s| s.label.as_str()).collect();
                    legend_layout(&labels, pw).1
                }
                Panel::Heat(_) => 0,
            })
            .max()
            .unwrap_or(0);
        let top = 8 + TITLE_PX as i32 + 8 + legend_rows * 22 + if legend_rows > 0 { 4 } else { 0 };
        for (area, p) in areas.iter().zip(&self.panels) {
            let (aw, _) = area.dim_in_pixel();
            let (head, body) = area.split_vertically(top);
            let title_style = TextStyle::from((FONT, TITLE_PX).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
            head.draw(&Text::new(p.title().to_string(), (aw as i32 / 2, 8), title_style)).map_err(|e| io(path, e))?;
            match p {
                Panel::Lines(l) => draw_lines(path, &head, &body, l, pw)?,
                Panel::Heat(hm) => draw_heat(path, &body, hm, vmax)?,
            }
        }
        if let Some(bar) = bar {
            let (_, body) = bar.split_vertically(top);
            draw_colour_bar(path, &body, vmax)?;
        }
        root.present().map_err(|e| io(path, e))?;
        Ok(())
    }
}

fn series_color(s: &Series, k: usize) -> RGBColor {
    s.color.unwrap_or(PALETTE[k % PALETTE.len()])
}

fn draw_lines<DB: DrawingBackend>(
    path: &Path,
    head: &DrawingArea<DB, plotters::coord::Shift>,
    body: &DrawingArea<DB, plotters::coord::Shift>,
    l: &Lines,
    pw: i32,
) -> Result<(), InputError>
where
    DB::ErrorType: 'static,
{
    // Legend strip.
    let labelled: Vec<(usize, &Series)> = l.series.iter().enumerate().filter(|(_, s)| !s.label.is_empty()).collect();
    let labels: Vec<&str> = labelled.iter().map(|(_, s)| s.label.as_str()).collect();
    let (pos, _) = legend_layout(&labels, pw);
    let y0 = 8 + TITLE_PX as i32 + 8;
    let lstyle = TextStyle::from((FONT, LEGEND_PX).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for ((k, s), (row, x)) in labelled.iter().zip(pos) {
        let c = series_color(s, *k);
        let (x, y) = (14 + x, y0 + row * 22 + 6);
        let style = c.stroke_width(2);
        match s.mark {
            Mark::Dashed | Mark::DashedDots(_) => {
                for seg in 0..3 {
                    head.draw(&PathElement::new(vec![(x + seg * 9, y), (x + seg * 9 + 5, y)], style))
                        .map_err(|e| io(path, e))?;
                }
            }
            Mark::Dots => {
                head.draw(&Circle::new((x + 12, y), 3, c.filled())).map_err(|e| io(path, e))?;
            }
            _ => {
                head.draw(&PathElement::new(vec![(x, y), (x + 24, y)], style)).map_err(|e| io(path, e))?;
            }
        }
        head.draw(&Text::new(s.label.clone(), (x + 30, y), lstyle.clone())).map_err(|e| io(path, e))?;
    }
    let (x0, x1) = padded(l.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)), l.x);
    let (y0, y1) = padded(l.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)), l.y);
    let ok = |v: f64, a: Axis| v.is_finite() && (a == Axis::Linear || v > 0.0);
    let (xt, yt) = (ticks(x0, x1, l.x), ticks(y0, y1, l.y));
    let (xplain, yplain) = (axis_labels(&xt), axis_labels(&yt));
    macro_rules! chart {
        ($xr:expr, $yr:expr) => {{
            let mut chart = ChartBuilder::on(body)
                .margin(8)
                .margin_right(22)
                .x_label_area_size(54)
                .y_label_area_size(84)
                .build_cartesian_2d($xr, $yr)
                .map_err(|e| io(path, e))?;
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(RGBColor(225, 225, 225))
                .x_label_formatter(&|v| if xplain { tick(*v) } else { tick_sci(*v) })
                .y_label_formatter(&|v| if yplain { tick(*v) } else { tick_sci(*v) })
                .label_style((FONT, TICK_PX))
                .axis_desc_style((FONT, LABEL_PX))
                .x_desc(l.xlabel.as_str())
                .y_desc(l.ylabel.as_str())
                .draw()
                .map_err(|e| io(path, e))?;
            for (k, s) in l.series.iter().enumerate() {
                let c = series_color(s, k);
                // Points a log axis cannot show split the curve instead of being clamped.
                let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
                for &(x, y) in &s.points {
                    if ok(x, l.x) && ok(y, l.y) {
                        runs.last_mut().expect("nonempty").push((x, y));
                    } else if !runs.last().expect("nonempty").is_empty() {
                        runs.push(Vec::new());
                    }
                }
                for run in runs.iter().filter(|r| !r.is_empty()) {
                    match &s.mark {
                        Mark::Line | Mark::LineDots(_) => {
                            chart
                                .draw_series(LineSeries::new(run.iter().copied(), c.stroke_width(2)))
                                .map_err(|e| io(path, e))?;
                        }
                        Mark::Dashed | Mark::DashedDots(_) => {
                            chart
                                .draw_series(DashedLineSeries::new(run.iter().copied(), 6, 4, c.stroke_width(2)))
                                .map_err(|e| io(path, e))?;
                        }
                        Mark::Dots => {}
                    }
                }
                match &s.mark {
                    Mark::Dots => {
                        chart
                            .draw_series(
                                s.points
                                    .iter()
                                    .filter(|p| ok(p.0, l.x) && ok(p.1, l.y))
                                    .map(|&p| Circle::new(p, 4, c.filled())),
                            )
                            .map_err(|e| io(path, e))?;
                    }
                    Mark::LineDots(filled) | Mark::DashedDots(filled) => {
                        chart
                            .draw_series(
                                s.points
                                    .iter()
                                    .zip(filled)
                                    .filter(|(p, _)| ok(p.0, l.x) && ok(p.1, l.y))
                                    .map(|(&p, &f)| Circle::new(p, 4, if f { c.filled() } else { WHITE.filled() })),
                            )
                            .map_err(|e| io(path, e))?;
                        chart
                            .draw_series(
                                s.points
                                    .iter()
                                    .filter(|p| ok(p.0, l.x) && ok(p.1, l.y))
                                    .map(|&p| Circle::new(p, 4, c.stroke_width(1))),
                            )
                            .map_err(|e| io(path, e))?;
                    }
                    _ => {}
                }
            }
        }};
    }
    match (l.x, l.y) {
        (Axis::Linear, Axis::Linear) => chart!(lin_axis(x0, x1), lin_axis(y0, y1)),
        (Axis::Linear, Axis::Log) => chart!(lin_axis(x0, x1), log_axis(y0, y1)),
        (Axis::Log, Axis::Linear) => chart!(log_axis(x0, x1), lin_axis(y0, y1)),
        (Axis::Log, Axis::Log) => chart!(log_axis(x0, x1), log_axis(y0, y1)),
    }
    Ok(())
}

/// Blue (negative) – white – vermillion (positive) for `t ∈ [-1, 1]`.
pub fn diverging(t: f64) -> RGBColor {
    let t = t.clamp(-1.0, 1.0);
    let (end, s) = if t >= 0.0 { ((213.0, 94.0, 0.0), t) } else { ((0.0, 114.0, 178.0), -t) };
    let mix = |a: f64| (255.0 + (a - 255.0) * s).round() as u8;
    RGBColor(mix(end.0), mix(end.1), mix(end.2))
}

fn draw_heat<DB: DrawingBackend>(
    path: &Path,
    body: &DrawingArea<DB, plotters::coord::Shift>,
    h: &Heat,
    vmax: f64,
) -> Result<(), InputError>
where
    DB::ErrorType: 'static,
{
    let (rows, cols) = (h.matrix.len(), h.matrix.first().map_or(0, Vec::len));
    let (rows_i, cols_i) = (rows.max(1) as i32, cols.max(1) as i32);
    let mut chart = ChartBuilder::on(body)
        .margin(8)
        .margin_right(16)
        .x_label_area_size(54)
        .y_label_area_size(54)
        // `a..b` of i32 is inclusive in plotters: `0..n-1` has n segments, the last ending at `Last`.
        .build_cartesian_2d((0..cols_i - 1).into_segmented(), (0..rows_i - 1).into_segmented())
        .map_err(|e| io(path, e))?;
    let seg = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(x) => Some(*x),
        _ => None,
    };
    let xf = |v: &SegmentValue<i32>| seg(v).map_or(String::new(), |x| x.to_string());
    let yf = |v: &SegmentValue<i32>| seg(v).map_or(String::new(), |y| (rows_i - 1 - y).to_string());
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(cols.max(1))
        .y_labels(rows.max(1))
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style((FONT, TICK_PX))
        .axis_desc_style((FONT, LABEL_PX))
        .x_desc(h.xlabel.as_str())
        .y_desc(h.ylabel.as_str())
        .draw()
        .map_err(|e| io(path, e))?;
    chart
        .draw_series(h.matrix.iter().enumerate().flat_map(|(i, row)| {
            row.iter().enumerate().map(move |(j, &x)| {
                let yi = rows_i - 1 - i as i32;
                let j = j as i32;
                let edge = |v: i32, n: i32| if v >= n { SegmentValue::Last } else { SegmentValue::Exact(v) };
                Rectangle::new(
                    [(edge(j, cols_i), edge(yi + 1, rows_i)), (edge(j + 1, cols_i), edge(yi, rows_i))],
                    diverging(x / vmax).filled(),
                )
            })
        }))
        .map_err(|e| io(path, e))?;
    Ok(())
}

fn draw_colour_bar<DB: DrawingBackend>(
    path: &Path,
    body: &DrawingArea<DB, plotters::coord::Shift>,
    vmax: f64,
) -> Result<(), InputError>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(body)
        .margin(8)
        .margin_right(40)
        .x_label_area_size(54)
        .y_label_area_size(84)
        .build_cartesian_2d(0f64..1.0, lin_axis(-vmax, vmax))
        .map_err(|e| io(path, e))?;
    let plain = axis_labels(&ticks(-vmax, vmax, Axis::Linear));
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_label_formatter(&|v| if plain { tick(*v) } else { tick_sci(*v) })
        .label_style((FONT, TICK_PX))
        .axis_desc_style((FONT, LABEL_PX))
        .y_desc("entry value")
        .draw()
        .map_err(|e| io(path, e))?;
    let steps = 64;
    chart
        .draw_series((0..steps).map(|k| {
            let a = -vmax + 2.0 * vmax * k as f64 / steps as f64;
            let b = -vmax + 2.0 * vmax * (k + 1) as f64 / steps as f64;
            Rectangle::new([(0.0, a), (1.0, b)], diverging((a + b) / 2.0 / vmax).filled())
        }))
        .map_err(|e| io(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_have_no_float_noise() {
        assert_eq!(tick(5000.0), "5000");
        assert_eq!(tick(0.0009000000000000001), "9×10⁻⁴");
        assert_eq!(tick(0.002 + 1e-18), "0.002");
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(1e-5), "10⁻⁵");
        assert_eq!(tick(2.5e-7), "2.5×10⁻⁷");
        assert_eq!(tick(-0.1), "−0.1");
        assert_eq!(tick_sci(-2.5e-7), "−2.5×10⁻⁷");
        assert_eq!(tick(-0.30000000000000004), "−0.3");
        assert_eq!(tick(1e6), "10⁶");
        assert_eq!(tick(123456.0), "1.235×10⁵");
    }

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(ticks(0.0, 40.0, Axis::Linear), vec![0.0, 10.0, 20.0, 30.0, 40.0]);
        assert_eq!(ticks(-0.1, 0.3, Axis::Linear), vec![-0.1, 0.0, 0.1, 0.2, 0.3]);
        assert_eq!(ticks(6e-5, 2e-3, Axis::Log), vec![1e-4, 2e-4, 5e-4, 1e-3, 2e-3]);
        assert_eq!(ticks(1e-20, 1e3, Axis::Log).len(), 6);
        for t in ticks(0.26, 0.47, Axis::Log) {
            assert!((0.26..=0.47).contains(&t));
        }
    }

    #[test]
    fn ranges_are_padded_and_log_ranges_positive() {
        let (lo, hi) = padded([1.0, 2.0].into_iter(), Axis::Linear);
        assert!(lo < 1.0 && hi > 2.0);
        let (lo, hi) = padded([0.0, 1e-3, 1.0].into_iter(), Axis::Log);
        assert!(lo > 0.0 && lo < 1e-3 && hi > 1.0);
    }
}
