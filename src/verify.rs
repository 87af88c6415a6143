//! `icrl verify`: run every selected theorem on random cases, in parallel, deterministically.
//!
//! Case `k` of theorem `id` under seed `s` draws everything from `case_rng(s, id, k)`, so the
//! verdicts, errors and the first failing case do not depend on the number of threads or on
//! scheduling: results are collected in case order and reduced sequentially.

use crate::rng::case_rng;
use crate::scalar::grid;
use crate::theorem::{ArithFilter, Arithmetic, CaseResult, CheckCtx, CheckKind, Measurement, TheoremSpec};
use rayon::prelude::*;
use serde::Serialize;

/// Options of one `verify` run.
#[derive(Clone, Debug)]
pub struct VerifyConfig {
    /// Cases per theorem (`None`: each theorem's default).
    pub cases: Option<u64>,
    /// Base seed.
    pub seed: u64,
    /// Arithmetics to run.
    pub arith: ArithFilter,
    /// Harness negative control: perturb every construction (the run must fail).
    pub sabotage: bool,
    /// Run only this case index (replay).
    pub only_case: Option<u64>,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// The two sides' trajectory readings (the real ones; the mutation tests substitute one).
    pub sides: crate::theorem::Sides,
}

/// One row of the summary: one theorem in one arithmetic.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Theorem id.
    pub theorem: String,
    /// `[Q]`, `[D]` or `[R]`.
    pub provenance: String,
    /// `equality`, `bound` or `rate`: the kind of the headline claim (what `error` and
    /// `tolerance` mean, [`CheckKind::legend`]).
    pub kind: CheckKind,
    /// `exact` or `f64`.
    pub arithmetic: Arithmetic,
    /// Cases run.
    pub cases: u64,
    /// Measurements compared.
    pub measurements: u64,
    /// Largest error seen.
    pub max_error: f64,
    /// The error of the measurement closest to (or furthest past) its tolerance.
    pub worst_error: f64,
    /// That measurement's tolerance.
    pub tolerance: f64,
    /// That measurement's kind (differs from `kind` only for a theorem whose check mixes
    /// kinds, e.g. the tightness equality beside the bounds of `contraction-decay-rate`).
    pub worst_kind: CheckKind,
    /// Cases in which some measurement failed.
    pub failed_cases: u64,
    /// `true` iff no case failed.
    pub holds: bool,
    /// First failing case index (replay with `--case`).
    pub first_failure: Option<u64>,
    /// What failed first.
    pub first_failure_quantity: Option<String>,
    /// `log10` of the Schwartz–Zippel bound on the probability that a false polynomial
    /// identity survives all exact draws (exact rows of polynomial identities only).
    pub sz_log10_bound: Option<f64>,
    /// Degree used in that bound.
    pub sz_degree: Option<u32>,
    /// Distinct grid-prompt shapes drawn (the bound holds for each of them).
    pub sz_shapes: Option<u64>,
    /// Fewest grid draws of any one shape.
    pub sz_min_draws: Option<u64>,
}

/// A failing case, with what is needed to replay it.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// Theorem id.
    pub theorem: String,
    /// Seed of the run.
    pub seed: u64,
    /// Case index.
    pub case: u64,
    /// The failing measurement.
    pub measurement: Measurement,
    /// The command that replays it.
    pub replay: String,
    /// What to suspect (from the provenance label).
    pub suspect: String,
    /// The instance JSON, when the theorem has one.
    pub instance: Option<serde_json::Value>,
}

/// The result of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Seed used.
    pub seed: u64,
    /// One row per theorem × arithmetic.
    pub rows: Vec<Row>,
    /// First failure of each failing theorem.
    pub failures: Vec<Failure>,
}

impl Report {
    /// `true` iff every row holds.
    pub fn all_hold(&self) -> bool {
        self.rows.iter().all(|r| r.holds)
    }
}

/// Run the checks.
pub fn run(theorems: &[TheoremSpec], cfg: &VerifyConfig) -> Report {
    let total: u64 = theorems.iter().map(|t| cases_of(t, cfg)).sum();
    let bar = if cfg.progress {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg:28} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let ctx = CheckCtx { arith: cfg.arith, sabotage: cfg.sabotage, want_instance: false, sides: cfg.sides };
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for t in theorems {
        bar.set_message(t.id);
        let indices: Vec<u64> = match cfg.only_case {
            Some(k) => vec![k],
            None => (0..cases_of(t, cfg)).collect(),
        };
        let results: Vec<(u64, CaseResult)> = indices
            .par_iter()
            .map(|&k| {
                let mut rng = case_rng(cfg.seed, t.id, k);
                let r = (t.check)(&mut rng, &ctx);
                bar.inc(1);
                (k, r)
            })
            .collect();
        let (mut trows, tfail) = aggregate(t, cfg, &results);
        if let Some(mut f) = tfail {
            // Re-run the failing case to capture its instance.
            let mut rng = case_rng(cfg.seed, t.id, f.case);
            let ctx2 = CheckCtx { want_instance: true, ..ctx };
            f.instance = (t.check)(&mut rng, &ctx2).instance;
            failures.push(f);
        }
        rows.append(&mut trows);
    }
    bar.finish_and_clear();
    Report { seed: cfg.seed, rows, failures }
}

fn cases_of(t: &TheoremSpec, cfg: &VerifyConfig) -> u64 {
    if cfg.only_case.is_some() {
        1
    } else {
        cfg.cases.unwrap_or(t.default_cases)
    }
}

fn aggregate(t: &TheoremSpec, cfg: &VerifyConfig, results: &[(u64, CaseResult)]) -> (Vec<Row>, Option<Failure>) {
    let mut rows: Vec<Row> = Vec::new();
    let mut failure: Option<Failure> = None;
    for arith in [Arithmetic::Exact, Arithmetic::F64] {
        let mut row = Row {
            theorem: t.id.to_string(),
            provenance: t.provenance.label().to_string(),
            kind: t.kind,
            arithmetic: arith,
            cases: 0,
            measurements: 0,
            max_error: 0.0,
            worst_error: 0.0,
            tolerance: 0.0,
            worst_kind: t.kind,
            failed_cases: 0,
            holds: true,
            first_failure: None,
            first_failure_quantity: None,
            sz_log10_bound: None,
            sz_degree: None,
            sz_shapes: None,
            sz_min_draws: None,
        };
        let mut shapes: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
        let mut worst_ratio = f64::NEG_INFINITY;
        for (k, r) in results {
            let ms: Vec<&Measurement> = r.measurements.iter().filter(|m| m.arithmetic == arith).collect();
            if ms.is_empty() {
                continue;
            }
            row.cases += 1;
            row.measurements += ms.len() as u64;
            if let Some(sh) = &r.sz_shape {
                *shapes.entry(sh.as_str()).or_default() += 1;
            }
            let mut case_failed = false;
            for m in ms {
                row.max_error = crate::tolerance::worst(row.max_error, m.error);
                let ratio = if m.tolerance > 0.0 {
                    m.error / m.tolerance
                } else if m.holds {
                    0.0
                } else {
                    f64::INFINITY
                };
                if ratio > worst_ratio || (ratio.is_nan() && !worst_ratio.is_nan()) {
                    worst_ratio = ratio;
                    row.tolerance = m.tolerance;
                    row.worst_error = m.error;
                    row.worst_kind = m.kind;
                }
                if !m.holds && !case_failed {
                    case_failed = true;
                    if row.first_failure.is_none() {
                        row.first_failure = Some(*k);
                        row.first_failure_quantity = Some(m.quantity.clone());
                    }
                    let earlier = failure.as_ref().map_or(true, |f| *k < f.case);
                    if earlier {
                        failure = Some(Failure {
                            theorem: t.id.to_string(),
                            seed: cfg.seed,
                            case: *k,
                            measurement: m.clone(),
                            replay: format!("icrl verify --theorem {} --seed {} --case {}", t.id, cfg.seed, k),
                            suspect: t.provenance.suspect().to_string(),
                            instance: None,
                        });
                    }
                }
            }
            if case_failed {
                row.failed_cases += 1;
            }
        }
        if row.cases == 0 {
            continue;
        }
        row.holds = row.failed_cases == 0;
        if arith == Arithmetic::Exact {
            if let (Some(deg), Some(&min)) = (t.sz_degree, shapes.values().min()) {
                row.sz_degree = Some(deg);
                row.sz_shapes = Some(shapes.len() as u64);
                row.sz_min_draws = Some(min);
                row.sz_log10_bound = Some(grid::log10_bound(deg, min));
            }
        }
        rows.push(row);
    }
    (rows, failure)
}

/// Render the summary table. `error` and `tolerance` are those of the measurement closest to
/// (or furthest past) its tolerance, so the pair is comparable even when a theorem compares
/// quantities of different scales; `--json` also has the plain `max_error`.
pub fn render_table(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<34} {:<4} {:<8} {:<6} {:>6} {:>10} {:>10} {:<7} {}\n",
        "theorem", "", "kind", "arith", "cases", "error", "tolerance", "verdict", "certificate"
    ));
    for r in &report.rows {
        let cert = match (r.sz_log10_bound, r.sz_degree, r.sz_shapes) {
            (Some(b), Some(d), Some(m)) if r.holds => {
                format!("P(false) <= 10^{:.0} per shape ({m} shapes, deg <= {d})", b)
            }
            _ => String::new(),
        };
        let verdict = if r.holds { "holds".to_string() } else { format!("FAILS {}/{}", r.failed_cases, r.cases) };
        out.push_str(&format!(
            "{:<34} {:<4} {:<8} {:<6} {:>6} {:>10} {:>10} {:<7} {}\n",
            r.theorem,
            r.provenance,
            r.kind.name(),
            r.arithmetic.name(),
            r.cases,
            fmt_err(r.worst_error),
            fmt_err(r.tolerance),
            verdict,
            cert
        ));
    }
    out.push_str(&format!("\n{}:\n", LEGEND_INTRO.replace('`', "")));
    for (kind, text) in error_legend() {
        out.push_str(&format!("  {kind:<8} {}\n", text.replace('`', "")));
    }
    out
}

/// Errors print as `0` or in short scientific notation.
pub fn fmt_err(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        format!("{x:.1e}")
    }
}

/// The legend under the tables: one line per kind (`CheckKind::legend`), each row's `kind`
/// column says which applies.
pub const LEGEND_INTRO: &str = "`error` and `tolerance` are those of the measurement closest to (or furthest past) its tolerance; `kind` is that of the theorem's headline claim (where a check mixes kinds, `--format json` names the shown measurement's as `worst_kind`), and what error and tolerance are depends on the kind";

/// `(kind, what error and tolerance are)` for each kind, in legend order.
pub fn error_legend() -> impl Iterator<Item = (&'static str, &'static str)> {
    CheckKind::ALL.into_iter().map(|k| (k.name(), k.legend()))
}

fn certificate(r: &Row) -> String {
    match (r.sz_log10_bound, r.sz_degree, r.sz_shapes) {
        (Some(b), Some(d), Some(m)) if r.holds => format!("P(false) ≤ 10^{b:.0} per shape ({m} shapes, deg ≤ {d})"),
        _ => String::new(),
    }
}

fn verdict(r: &Row) -> String {
    if r.holds {
        "holds".to_string()
    } else {
        format!("FAILS {}/{}", r.failed_cases, r.cases)
    }
}

/// The summary as a GFM table with its legend (`icrl verify --format markdown`).
pub fn render_markdown(report: &Report) -> String {
    let mut s = String::from(
        "| theorem | label | kind | arithmetic | cases | error | tolerance | verdict | certificate |\n|:---|:---|:---|:---|---:|---:|---:|:---|:---|\n",
    );
    for r in &report.rows {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.theorem,
            r.provenance,
            r.kind.name(),
            r.arithmetic.name(),
            r.cases,
            fmt_err(r.worst_error),
            fmt_err(r.tolerance),
            verdict(r),
            certificate(r)
        ));
    }
    s.push_str(&format!("\n{LEGEND_INTRO}:\n\n"));
    for (kind, text) in error_legend() {
        s.push_str(&format!("- **{kind}**: {text}.\n"));
    }
    s
}

/// Escape `text` for LaTeX text mode (and map the Unicode our ids and statements use).
pub fn latex_escape(text: &str) -> String {
    let mut s = String::new();
    for c in text.chars() {
        match c {
            '\\' => s.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                s.push('\\');
                s.push(c);
            }
            '~' => s.push_str("\\textasciitilde{}"),
            '^' => s.push_str("\\textasciicircum{}"),
            '<' => s.push_str("\\textless{}"),
            '>' => s.push_str("\\textgreater{}"),
            '|' => s.push_str("\\textbar{}"),
            '≤' => s.push_str("$\\le$"),
            '≥' => s.push_str("$\\ge$"),
            '−' => s.push_str("$-$"),
            '≠' => s.push_str("$\\neq$"),
            '→' => s.push_str("$\\to$"),
            '∞' => s.push_str("$\\infty$"),
            '∇' => s.push_str("$\\nabla$"),
            '‖' => s.push_str("$\\|$"),
            '·' => s.push_str("$\\cdot$"),
            '×' => s.push_str("$\\times$"),
            'α' => s.push_str("$\\alpha$"),
            'β' => s.push_str("$\\beta$"),
            'γ' => s.push_str("$\\gamma$"),
            'δ' => s.push_str("$\\delta$"),
            'ε' => s.push_str("$\\varepsilon$"),
            'θ' => s.push_str("$\\theta$"),
            'λ' => s.push_str("$\\lambda$"),
            'μ' => s.push_str("$\\mu$"),
            'π' => s.push_str("$\\pi$"),
            'ρ' => s.push_str("$\\rho$"),
            'σ' => s.push_str("$\\sigma$"),
            'Σ' => s.push_str("$\\Sigma$"),
            'φ' => s.push_str("$\\varphi$"),
            'ψ' => s.push_str("$\\psi$"),
            '⋆' => s.push_str("$^\\star$"),
            '⁺' => s.push_str("$^+$"),
            'ᵀ' => s.push_str("$^\\top$"),
            '⁻' => s.push_str("$^-$"),
            '¹' => s.push_str("$^1$"),
            '²' => s.push_str("$^2$"),
            c if c.is_ascii() => s.push(c),
            // Anything else (combining marks such as the bar of V̄) is dropped rather than
            // breaking the compile; the ids stay intact.
            _ => {}
        }
    }
    s
}

/// `1.2e-15` as LaTeX math (`$1.2\times10^{-15}$`), `0` as `0`.
fn latex_num(x: f64) -> String {
    let t = fmt_err(x);
    match t.split_once('e') {
        Some((m, e)) => format!("${m}\\times10^{{{}}}$", e.parse::<i32>().unwrap_or(0)),
        None => t,
    }
}

/// The summary as a LaTeX `tabular` with its legend as a comment and a caption-ready note
/// (`icrl verify --format latex`; plain LaTeX, no package needed).
pub fn render_latex(report: &Report) -> String {
    let mut s = String::from("% icrl verify --format latex\n");
    s.push_str(&format!("% {}:\n", LEGEND_INTRO.replace('`', "")));
    for (kind, text) in error_legend() {
        s.push_str(&format!("%   {kind}: {text}.\n"));
    }
    s.push_str("\\begin{tabular}{@{}llllrrrl@{}}\n\\hline\ntheorem & label & kind & arithmetic & cases & error & tolerance & verdict \\\\\n\\hline\n");
    for r in &report.rows {
        s.push_str(&format!(
            "\\texttt{{{}}} & {} & {} & {} & {} & {} & {} & {} \\\\\n",
            latex_escape(&r.theorem),
            latex_escape(&r.provenance),
            latex_escape(r.kind.name()),
            latex_escape(r.arithmetic.name()),
            r.cases,
            latex_num(r.worst_error),
            latex_num(r.tolerance),
            latex_escape(&verdict(r))
        ));
    }
    s.push_str("\\hline\n\\multicolumn{8}{@{}p{0.95\\linewidth}@{}}{\\footnotesize ");
    let legend: Vec<String> =
        error_legend().map(|(k, t)| format!("\\textbf{{{}}}: {}.", latex_escape(k), latex_escape(t))).collect();
    s.push_str(&legend.join(" "));
    s.push_str("} \\\\\n\\end{tabular}\n");
    s
}
