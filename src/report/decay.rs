//! `icrl report decay`: the error of the softmax transformer against `v_π` as a function of
//! depth, for several context lengths, and the statistical floor against `n` ([XZ] Thm 2,
//! arXiv:2605.07333; `docs/theory/contraction.md` checks 4–5).
//!
//! Iterates are the weighted-softmax-TD iterates in state-space form, which
//! `softmax-td-equivalence` and `softmax-td-state-space` equate with the transformer's columns.
//! Everything is drawn from `case_rng(seed, "report-decay", k)`: the same seed gives the same
//! table at any thread count (the report is sequential).

use super::plot::{Axis, Figure, Lines, Mark, Panel, Series, Width};
use super::Output;
use crate::rng::case_rng;
use crate::theorem::contraction::{
    curve_on, draw_decay_instance, fit_decay, floor_fit, stationary_rollout, DecayInstance, FLOOR_NS,
};
use crate::theorem::softmax_td::coverage_rollout;
use crate::tolerance::FLOOR_SLOPE_RANGE;

/// Context lengths of the depth curves.
pub const CURVE_NS: [usize; 4] = [64, 256, 1024, 4096];
/// Depth of the curves.
pub const DEPTH: usize = 40;
/// Depths shown in the table.
pub const TABLE_DEPTHS: [usize; 11] = [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 40];
/// Windows per point (medians).
pub const REPS: usize = 15;
/// Windows per `n` of the floor fit.
pub const FLOOR_REPS: usize = 25;
/// Extra instances whose decay factor is listed.
pub const EXTRA_INSTANCES: u64 = 5;

/// Everything the report computes.
#[derive(Clone, Debug)]
pub struct DecayReport {
    /// Seed.
    pub seed: u64,
    /// The main instance.
    pub inst: DecayInstance,
    /// Median `‖v_l - v_π‖_∞`, `l = 0..=DEPTH`, per `n` of [`CURVE_NS`].
    pub curves: Vec<Vec<f64>>,
    /// Median floor per `n` of [`CURVE_NS`].
    pub curve_floors: Vec<f64>,
    /// Median floor per `n` of [`FLOOR_NS`].
    pub floors: Vec<f64>,
    /// Fitted log-log slope of the floor.
    pub slope: f64,
    /// Mean `‖M̂_n - M_π‖_max` per `n` of [`FLOOR_NS`] (consistency).
    pub kernel_errors: Vec<f64>,
    /// Its fitted log-log slope.
    pub kernel_slope: f64,
    /// `(|S|, γ, β, C_5.1, 1 - C_5.1, fitted factor, stretch)` of a few instances (`n = 4096`).
    pub factors: Vec<(usize, f64, f64, f64, f64, f64, usize)>,
}

/// Compute the report for `seed`.
pub fn compute(seed: u64) -> DecayReport {
    let mut rng = case_rng(seed, "report-decay", 0);
    let inst = draw_decay_instance(&mut rng, 4);
    let mut curves = Vec::new();
    let mut curve_floors = Vec::new();
    for &n in &CURVE_NS {
        let runs: Vec<(Vec<f64>, f64)> =
            (0..REPS).map(|_| curve_on(&inst, &stationary_rollout(&mut rng, &inst, n), DEPTH, 1.0)).collect();
        let curve = (0..=DEPTH)
            .map(|l| crate::theorem::contraction::median_of(runs.iter().map(|r| r.0[l]).collect()))
            .collect();
        curves.push(curve);
        curve_floors.push(crate::theorem::contraction::median_of(runs.iter().map(|r| r.1).collect()));
    }
    let fit = floor_fit(&mut rng, &inst, FLOOR_REPS);
    let (floors, slope, kernel_errors, kernel_slope) = (fit.floors, fit.slope, fit.kernel_errors, fit.kernel_slope);
    let mut factors = Vec::new();
    for k in 0..EXTRA_INSTANCES {
        let mut r = case_rng(seed, "report-decay-factors", k);
        let di = if k == 0 { inst.clone() } else { draw_decay_instance(&mut r, 5) };
        let traj = coverage_rollout(&mut r, &di.mrp, 4096);
        let (e, floor) = curve_on(&di, &traj, 60, 1.0);
        let (factor, m) = fit_decay(&e, floor);
        let g = di.mrp.gamma();
        let c = di.pop.capped_margin(g).unwrap_or(0.0);
        factors.push((di.mrp.n_states(), g, di.beta, di.pop.margin, 1.0 - c, factor, m));
    }
    DecayReport { seed, inst, curves, curve_floors, floors, slope, kernel_errors, kernel_slope, factors }
}

/// Round to 3 significant digits, printed in scientific notation.
fn sci(x: f64) -> String {
    format!("{x:.2e}")
}

/// The markdown table (snapshotted by `tests/contraction.rs`).
pub fn render_table(r: &DecayReport) -> String {
    let g = r.inst.mrp.gamma();
    let c = r.inst.pop.capped_margin(g).unwrap_or(0.0);
    let mut s = String::new();
    s.push_str("# Error decay in depth ([XZ] Thm 2, arXiv:2605.07333)\n\n");
    s.push_str(&format!(
        "seed {}; MRP |S| = {}, gamma = {:.3}, one-hot features, beta = {:.3}; C_5.1 = {:.4} (capped {:.4}), 1 - C_5.1 = {:.4}; alpha = 1; medians over {} windows started from mu_pi.\n\n",
        r.seed,
        r.inst.mrp.n_states(),
        g,
        r.inst.beta,
        r.inst.pop.margin,
        c,
        1.0 - c,
        REPS
    ));
    s.push_str("## ||v_l - v_pi||_inf against depth l\n\n| l |");
    for n in CURVE_NS {
        s.push_str(&format!(" n = {n} |"));
    }
    s.push_str("\n|---:|");
    for _ in CURVE_NS {
        s.push_str("---:|");
    }
    s.push('\n');
    for &l in &TABLE_DEPTHS {
        s.push_str(&format!("| {l} |"));
        for c in &r.curves {
            s.push_str(&format!(" {} |", sci(c[l])));
        }
        s.push('\n');
    }
    s.push_str("| floor (l = inf) |");
    for f in &r.curve_floors {
        s.push_str(&format!(" {} |", sci(*f)));
    }
    s.push_str("\n\n## Fitted per-layer decay factor (n = 4096, one window each; ln-linear least squares while e_l >= 10 e_inf)\n\n");
    s.push_str("| |S| | gamma | beta | C_5.1 | 1 - C_5.1 | fitted factor | layers fitted | holds |\n|---:|---:|---:|---:|---:|---:|---:|:---|\n");
    for &(ns, g, b, m, bound, f, k) in &r.factors {
        s.push_str(&format!(
            "| {ns} | {g:.3} | {b:.3} | {m:.4} | {bound:.4} | {f:.4} | {k} | {} |\n",
            if f <= bound + crate::tolerance::DECAY_FACTOR_SLACK { "yes" } else { "NO" }
        ));
    }
    s.push_str(&format!("\n## Floor against n ({FLOOR_REPS} windows per n)\n\n| n | median floor | mean max abs(M^_n - M_pi) |\n|---:|---:|---:|\n"));
    for ((n, f), k) in FLOOR_NS.iter().zip(&r.floors).zip(&r.kernel_errors) {
        s.push_str(&format!("| {n} | {} | {} |\n", sci(*f), sci(*k)));
    }
    s.push_str(&format!("\nconsistency: log-log slope of the kernel error {:.3}\n", r.kernel_slope));
    let (lo, hi) = FLOOR_SLOPE_RANGE;
    s.push_str(&format!(
        "\nfitted log-log slope of the floor: {:.3} (expected -1/2; accepted range [{lo}, {hi}]: {})\n",
        r.slope,
        if slope_in_range(r) { "in range" } else { "OUT OF RANGE" }
    ));
    s
}

/// The figure: left, `‖v_L − v_π‖∞` against depth per `n` (log y); right, the floor against `n`
/// (log-log) with the fitted line.
pub fn figure(r: &DecayReport) -> Figure {
    let curves = r
        .curves
        .iter()
        .zip(CURVE_NS)
        .map(|(c, n)| Series::line(format!("n = {n}"), c.iter().enumerate().map(|(l, &e)| (l as f64, e)).collect()))
        .collect();
    let pts: Vec<(f64, f64)> = FLOOR_NS.iter().map(|&n| n as f64).zip(r.floors.iter().cloned()).collect();
    // Fitted line through the log-mean point.
    let mx = pts.iter().map(|p| p.0.ln()).sum::<f64>() / pts.len() as f64;
    let my = pts.iter().map(|p| p.1.ln()).sum::<f64>() / pts.len() as f64;
    let line = |n: f64| (my + r.slope * (n.ln() - mx)).exp();
    let ends = [FLOOR_NS[0] as f64, *FLOOR_NS.last().expect("nonempty") as f64];
    Figure::new(
        "decay",
        Width::Two,
        vec![
            Panel::Lines(Lines {
                title: "[XZ] Thm 2: error against depth".into(),
                xlabel: "depth L".into(),
                ylabel: "‖v_L − v_π‖∞ (median)".into(),
                x: Axis::Linear,
                y: Axis::Log,
                series: curves,
            }),
            Panel::Lines(Lines {
                title: format!("floor against n: fitted slope {:.3}", r.slope),
                xlabel: "context length n".into(),
                ylabel: "median floor ‖v_∞ − v_π‖∞".into(),
                x: Axis::Log,
                y: Axis::Log,
                series: vec![
                    Series::line("median floor", pts.clone()).mark(Mark::Dots),
                    Series::line(format!("fit, slope {:.3}", r.slope), ends.map(|n| (n, line(n))).to_vec())
                        .mark(Mark::Dashed),
                ],
            }),
        ],
    )
}

/// The numbers of the report as JSON.
pub fn numbers(r: &DecayReport) -> serde_json::Value {
    let g = r.inst.mrp.gamma();
    let (lo, hi) = FLOOR_SLOPE_RANGE;
    serde_json::json!({
        "seed": r.seed,
        "n_states": r.inst.mrp.n_states(),
        "gamma": g,
        "beta": r.inst.beta,
        "margin_c51": r.inst.pop.margin,
        "capped_margin": r.inst.pop.capped_margin(g).unwrap_or(0.0),
        "curve_ns": CURVE_NS,
        "depth": DEPTH,
        "reps": REPS,
        "curves": r.curves,
        "curve_floors": r.curve_floors,
        "floor_ns": FLOOR_NS,
        "floors": r.floors,
        "floor_slope": r.slope,
        "floor_slope_range": [lo, hi],
        "floor_slope_in_range": slope_in_range(r),
        "kernel_errors": r.kernel_errors,
        "kernel_slope": r.kernel_slope,
        "factors": r.factors.iter().map(|&(ns, g, b, m, bound, f, k)| serde_json::json!({
            "n_states": ns, "gamma": g, "beta": b, "margin_c51": m, "bound": bound, "fitted_factor": f,
            "layers_fitted": k, "holds": f <= bound + crate::tolerance::DECAY_FACTOR_SLACK,
        })).collect::<Vec<_>>(),
    })
}

/// The report's verdict: the floor's fitted log-log slope lies in [`FLOOR_SLOPE_RANGE`].
pub fn slope_in_range(r: &DecayReport) -> bool {
    let (lo, hi) = FLOOR_SLOPE_RANGE;
    r.slope >= lo && r.slope <= hi
}

/// Run the report at `seed`; its verdict is [`slope_in_range`].
pub fn run(seed: u64) -> Output {
    let r = compute(seed);
    Output {
        name: "decay".into(),
        summary: format!(
            "[Q] [XZ] Thm 2: error decays geometrically in depth to a floor; floor slope in n {:.3} (accepted {:?})",
            r.slope, FLOOR_SLOPE_RANGE
        ),
        markdown: render_table(&r),
        numbers: numbers(&r),
        figures: vec![figure(&r)],
        holds: Some(slope_in_range(&r)),
    }
}
