//! `icrl report neu`: a probe of [XZ] Theorem 3 (arXiv:2605.07333) — **[R], reported, never
//! asserted as a theorem**.
//!
//! [XZ] Theorem 3 says the softmax construction (`docs/theory/softmax-td.md`) is a global minimizer of a
//! pretraining loss named NEU ([XZ] eqs. 24–27). Those equations were **not recovered**, so the
//! theorem is not a claim of this crate (`docs/theory/gradient-flow.md`, "[XZ] Theorem 3 — open"). This
//! module measures one plausible reading of it and reports the numbers, whatever they are:
//!
//! ```text
//! NEU(θ) = ‖ Ê_tasks[ δ_θ ∇_θ v̂_θ(Z_0) ] ‖²                                          [R]
//! δ_θ    = R_{n+1} + γ · sg[v̂_θ(Z_0')] − v̂_θ(Z_0)                     (semi-gradient)
//! ```
//!
//! the squared norm of the expected semi-gradient TD(0) update of the transformer's own
//! parameters. `v̂_θ(Z_0) = Z_L[d+2, n]` is the readout of the L-layer two-head softmax
//! transformer (`attention::softmax::forward_multi_head`) on the window `S_0 … S_n` with query
//! `S_n`; `Z_0'` is the next window `S_1 … S_{n+1}` (query `S_{n+1}`), and `sg[·]` stops the
//! gradient (the bootstrap value is a constant). `∇_θ v̂_θ` is a hand-written reverse-mode
//! gradient through the canonical forward pass ([`readout_grad`]; `tests/neu.rs` checks it
//! against central finite differences at two steps).
//!
//! The construction `θ_con` (`construction::softmax::Parts::two_head_stack` with `α_l = α` for
//! every layer) is compared with `θ_con + ε u` for unit directions `u` drawn at random, in
//! antithetic pairs `±u`, and with two reference points (`θ = 0`, where `v̂ ≡ 0`; and the
//! construction with `α → -α`).
//!
//! # Assumptions (ours, [R]; none is from [XZ])
//! - **neu-definition**: NEU is the squared norm of the mean semi-gradient TD(0) update above
//!   (the spec's suggestion), not the paper's `J_{L,n}`.
//! - **per-layer parameters**: `θ` holds, for every layer `l` separately, the full
//!   `(d+3)×(d+3)` matrices `A_l`, `V¹_l` (no shift), `V²_l` (column shift `Π`): `3L(d+3)²`
//!   numbers. The mask and the shift are structure, not parameters. With `m_l` the mean update
//!   of layer `l`'s block, NEU is `Σ_l ‖m_l‖²`; one `θ` shared by all layers would give
//!   `‖Σ_l m_l‖²` instead. The construction (`α_l = α`) is a point of both parametrizations.
//! - **task distribution**: an i.i.d. random MRP (`generators::random_mrp`, Dirichlet rows,
//!   `r ~ Unif(-1,1)`), i.i.d. `Unif(-1,1)` features (`β = 1`), one trajectory of `n+1`
//!   transitions from `p0`; the two windows are its first and last `n` transitions.
//! - **fixed sample**: the expectation is the mean over a fixed seeded sample of tasks, the
//!   same at every `θ` (common random numbers), so the probe examines a deterministic function
//!   of `θ`. Its upward bias `tr Cov / N` is reported next to it ("sampling noise").
//!
//! Everything is drawn from `case_rng(seed, "report-neu", k)` (task `k`) and
//! `case_rng(seed, "report-neu-direction", i)` (direction `i`); the per-task updates are computed
//! in parallel and summed in task order, so the report is bit-identical at any thread count.
//! Nothing here calls `crate::rl`.
//!
//! # References
//! Z. Xie, X. Liu, C. Chen, S. D. Liu, R. Chandra, S. Zhang, *Beyond Linear Attention: Softmax
//! Transformers Implement In-Context Reinforcement Learning*, arXiv:2605.07333 (2026): Thm 3 and
//! eqs. 24–27 (not recovered); the construction is Thm 1 / Lemma 1 (`docs/theory/softmax-td.md`).

use super::plot::{Axis, Figure, Lines, Mark, Panel, Series, Width, PALETTE, REFERENCE};
use super::Output;
use crate::attention::softmax::prompt;
use crate::construction::softmax::Parts;
pub use crate::dynamics::softmax_grad::{layers_from, readout, readout_grad, td_update, theta_of, Task};
use crate::mdp::features::Features;
use crate::mdp::generators::random_mrp;
use crate::rng::case_rng;
use crate::theorem::softmax_td::mrp_rollout;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// Sizes of the probe.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setting {
    /// `|S|` of every random MRP.
    pub n_states: usize,
    /// Feature dimension `d`.
    pub d: usize,
    /// Transitions per window `n`.
    pub n: usize,
    /// Layers `L`.
    pub layers: usize,
    /// `γ` (shared by all tasks; the construction's second head carries it).
    pub gamma: f64,
    /// The construction's step `α_l = α` ([XZ] displays `α_l = 1`).
    pub alpha: f64,
    /// Tasks in the sample.
    pub tasks: usize,
}

/// The report's setting: small enough for a few seconds on 2 cores.
pub const DEFAULT: Setting = Setting { n_states: 5, d: 3, n: 20, layers: 3, gamma: 0.9, alpha: 1.0, tasks: 400 };
/// Step sizes `ε` of the perturbations `θ_con + ε u`.
pub const EPSILONS: [f64; 7] = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0];
/// Random directions `u_i`; each is used with both signs.
pub const DIRECTIONS: usize = 4;
/// The verdict reads the ratios at the `VERDICT_EPS` smallest `ε` (a local minimizer has every
/// ratio ≥ 1 for all small enough `ε`; larger `ε` probe the landscape, not the point).
pub const VERDICT_EPS: usize = 3;

impl Setting {
    /// Rows of the prompt, `d + 3`.
    pub fn width(&self) -> usize {
        self.d + 3
    }
    /// Number of parameters `3 L (d+3)²`.
    pub fn n_params(&self) -> usize {
        3 * self.layers * self.width() * self.width()
    }
}

/// `θ_con`: the [XZ] construction with `α_l = alpha` in every layer.
pub fn theta_con(s: &Setting, alpha: f64) -> Vec<f64> {
    theta_of(&Parts::new(s.d, s.gamma).two_head_stack(&vec![alpha; s.layers]))
}

/// Task `k` of the sample under `seed`.
pub fn draw_task(seed: u64, s: &Setting, k: u64) -> Task {
    let mut rng = case_rng(seed, "report-neu", k);
    let mrp = random_mrp(&mut rng, s.n_states, s.gamma);
    let x = Features::random(&mut rng, s.n_states, 1, s.d);
    let traj = mrp_rollout(&mut rng, &mrp, s.n + 1);
    let (st, rw) = (&traj.states, &traj.rewards);
    Task { now: prompt(&x, 1.0, &st[..=s.n], &rw[..s.n]), next: prompt(&x, 1.0, &st[1..], &rw[1..]), reward: rw[s.n] }
}

/// NEU and its companions at one `θ`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NeuPoint {
    /// `‖mean_k δ_k ∇v̂_k‖²` (the probe's NEU).
    pub neu: f64,
    /// `tr Ĉov(δ ∇v̂) / N`: the upward bias of `neu` as an estimate of the population value
    /// (with `Ĉov` normalized by `N - 1`).
    pub noise: f64,
    /// `mean_k δ_k²`.
    pub mean_sq_delta: f64,
}

/// [`NeuPoint`] at `θ` over `tasks` (parallel over tasks, summed in task order).
pub fn neu_at(tasks: &[Task], theta: &[f64], s: &Setting) -> NeuPoint {
    let layers = layers_from(theta, s.d);
    let ups: Vec<(f64, Vec<f64>)> = tasks.par_iter().map(|t| td_update(t, &layers, s.gamma)).collect();
    let n = ups.len() as f64;
    let mut mean = vec![0.0; theta.len()];
    let (mut sq, mut dd) = (0.0, 0.0);
    for (delta, g) in &ups {
        for (m, x) in mean.iter_mut().zip(g) {
            *m += x;
        }
        sq += g.iter().map(|x| x * x).sum::<f64>();
        dd += delta * delta;
    }
    for m in &mut mean {
        *m /= n;
    }
    let neu: f64 = mean.iter().map(|x| x * x).sum();
    // Σ_k ‖g_k - m‖² = Σ_k ‖g_k‖² - N ‖m‖².
    let noise = if ups.len() > 1 { (sq - n * neu) / (n - 1.0) / n } else { f64::NAN };
    NeuPoint { neu, noise, mean_sq_delta: dd / n }
}

/// Random unit direction `i` in `R^P` (standard normal, normalized).
pub fn direction(seed: u64, i: u64, p: usize) -> Vec<f64> {
    let mut rng = case_rng(seed, "report-neu-direction", i);
    let u: Vec<f64> = (0..p).map(|_| StandardNormal.sample(&mut rng)).collect();
    let norm = u.iter().map(|x| x * x).sum::<f64>().sqrt();
    u.into_iter().map(|x| x / norm).collect()
}

/// Everything the report computes.
#[derive(Clone, Debug, PartialEq)]
pub struct NeuReport {
    /// Seed.
    pub seed: u64,
    /// Sizes.
    pub setting: Setting,
    /// `‖θ_con‖`.
    pub theta_con_norm: f64,
    /// At `θ_con`.
    pub con: NeuPoint,
    /// At `θ = 0`.
    pub zero: NeuPoint,
    /// At the construction with `α → -α`.
    pub flipped: NeuPoint,
    /// `NEU(θ_con + ε σ u_i)` for the signed directions `(i, σ) = (0,+), (0,-), (1,+), …`, one
    /// entry per `ε` of [`EPSILONS`].
    pub along: Vec<Vec<f64>>,
}

impl NeuReport {
    /// Label of signed direction `k` (`+u1`, `-u1`, …).
    pub fn label(k: usize) -> String {
        format!("{}u{}", if k % 2 == 0 { '+' } else { '-' }, k / 2 + 1)
    }
    /// `NEU(θ_con + ε u) / NEU(θ_con)` per signed direction, for `ε = EPSILONS[e]`.
    pub fn ratios(&self, e: usize) -> Vec<f64> {
        self.along.iter().map(|a| a[e] / self.con.neu).collect()
    }
    /// `min_u NEU(θ_con + ε u) / NEU(θ_con)` for `ε = EPSILONS[e]`.
    pub fn min_ratio(&self, e: usize) -> f64 {
        self.ratios(e).into_iter().fold(f64::INFINITY, f64::min)
    }
    /// Directional slope of NEU along `u_i` relative to `NEU(θ_con)`, from the antithetic pair:
    /// `(NEU(+ε u_i) - NEU(-ε u_i)) / (2 ε NEU(θ_con))`.
    pub fn rel_slope(&self, i: usize, e: usize) -> f64 {
        (self.along[2 * i][e] - self.along[2 * i + 1][e]) / (2.0 * EPSILONS[e] * self.con.neu)
    }
    /// Whether every ratio is at least 1 at the [`VERDICT_EPS`] smallest `ε`.
    pub fn looks_like_local_min(&self) -> bool {
        (0..VERDICT_EPS).all(|e| self.min_ratio(e) >= 1.0)
    }
}

/// Compute the report with the default setting.
pub fn compute(seed: u64) -> NeuReport {
    compute_with(seed, &DEFAULT)
}

/// Compute the report for `seed` and setting `s`.
pub fn compute_with(seed: u64, s: &Setting) -> NeuReport {
    let tasks: Vec<Task> = (0..s.tasks as u64).into_par_iter().map(|k| draw_task(seed, s, k)).collect();
    let con = theta_con(s, s.alpha);
    let p = con.len();
    let at = |t: &[f64]| neu_at(&tasks, t, s);
    let mut along = Vec::new();
    for i in 0..DIRECTIONS as u64 {
        let u = direction(seed, i, p);
        for sign in [1.0, -1.0] {
            along.push(
                EPSILONS
                    .iter()
                    .map(|&eps| at(&con.iter().zip(&u).map(|(c, x)| c + sign * eps * x).collect::<Vec<_>>()))
                    .map(|q| q.neu)
                    .collect(),
            );
        }
    }
    NeuReport {
        seed,
        setting: *s,
        theta_con_norm: con.iter().map(|x| x * x).sum::<f64>().sqrt(),
        con: at(&con),
        zero: at(&vec![0.0; p]),
        flipped: at(&theta_con(s, -s.alpha)),
        along,
    }
}

fn sci(x: f64) -> String {
    format!("{x:.3e}")
}

/// The markdown table (snapshotted, rounded, by `tests/neu.rs`). Every line that states a
/// measurement carries [R].
pub fn render_table(r: &NeuReport) -> String {
    let s = &r.setting;
    let mut t = String::new();
    t.push_str("# [R] NEU probe around the [XZ] softmax construction (Thm 3, arXiv:2605.07333)\n\n");
    t.push_str("[R] a probe, not a theorem: [XZ] eqs. 24-27 (the paper's NEU) were not recovered. Assumed here:\n");
    t.push_str("NEU(theta) = || mean over tasks of delta * grad_theta v^(window) ||^2, delta = R_{n+1} + gamma v^(next window) - v^(window), the bootstrap detached (semi-gradient TD(0)).\n\n");
    t.push_str(&format!(
        "seed {}; {} tasks: random MRP |S| = {}, gamma = {}, features Unif(-1,1) d = {}, beta = 1, windows of n = {} from one trajectory, query S_n; L = {} two-head softmax layers, theta per layer ({} parameters); construction alpha_l = {}, ||theta_con|| = {:.4}.\n\n",
        r.seed, s.tasks, s.n_states, s.gamma, s.d, s.n, s.layers, s.n_params(), s.alpha, r.theta_con_norm
    ));
    t.push_str("## [R] Reference points\n\n| point | NEU | sampling noise tr(Cov)/N | NEU - noise | mean delta^2 |\n|:---|---:|---:|---:|---:|\n");
    for (name, q) in [
        (format!("[R] construction (alpha = {})", s.alpha), r.con),
        ("[R] theta = 0 (v^ = 0)".to_string(), r.zero),
        (format!("[R] construction, wrong sign (alpha = {})", -s.alpha), r.flipped),
    ] {
        t.push_str(&format!(
            "| {name} | {} | {} | {} | {} |\n",
            sci(q.neu),
            sci(q.noise),
            sci(q.neu - q.noise),
            sci(q.mean_sq_delta)
        ));
    }
    t.push_str(&format!(
        "\n[R] NEU at the construction is {:.3} times NEU at theta = 0 and {:.3} times NEU at the wrong sign.\n",
        r.con.neu / r.zero.neu,
        r.con.neu / r.flipped.neu
    ));
    t.push_str("\n## [R] Relative change NEU(theta_con + eps u) / NEU(theta_con) - 1, random unit directions in antithetic pairs\n\n| eps |");
    for k in 0..r.along.len() {
        t.push_str(&format!(" {} |", NeuReport::label(k)));
    }
    t.push_str(" min |\n|---:|");
    for _ in 0..=r.along.len() {
        t.push_str("---:|");
    }
    t.push('\n');
    for (e, eps) in EPSILONS.iter().enumerate() {
        t.push_str(&format!("| [R] {eps:.0e} |"));
        for q in r.ratios(e) {
            t.push_str(&format!(" {:.3e} |", q - 1.0));
        }
        t.push_str(&format!(" {:.3e} |\n", r.min_ratio(e) - 1.0));
    }
    t.push_str(&format!(
        "\n## [R] Directional slope of NEU at theta_con, relative: (NEU(+eps u) - NEU(-eps u)) / (2 eps NEU(theta_con))\n\n| direction | eps = {:.0e} | eps = {:.0e} |\n|:---|---:|---:|\n",
        EPSILONS[0], EPSILONS[1]
    ));
    for i in 0..r.along.len() / 2 {
        t.push_str(&format!("| [R] u{} | {:.4} | {:.4} |\n", i + 1, r.rel_slope(i, 0), r.rel_slope(i, 1)));
    }
    t.push('\n');
    for (e, eps) in EPSILONS.iter().enumerate() {
        let m = r.min_ratio(e);
        t.push_str(&format!("[R] eps = {eps:.0e}: min over directions of NEU(theta_con + eps u) / NEU(theta_con) = {m:.6} (change {:.3e})\n", m - 1.0));
    }
    let small: Vec<String> = EPSILONS[..VERDICT_EPS].iter().map(|e| format!("{e:.0e}")).collect();
    if r.looks_like_local_min() {
        t.push_str(&format!(
            "\n[R] verdict: the construction LOOKS LIKE a local minimizer of this NEU in the probe: NEU rises along all {} directions at eps = {} (finitely many directions, one task sample).\n",
            r.along.len(),
            small.join(", ")
        ));
    } else {
        // The smallest ε at which some direction lowers NEU, and the lowest ratio there.
        let e = (0..VERDICT_EPS).find(|&e| r.min_ratio(e) < 1.0).expect("some ratio is below 1");
        let ratios = r.ratios(e);
        let k = (0..ratios.len()).fold(0, |b, k| if ratios[k] < ratios[b] { k } else { b });
        let below = (0..EPSILONS.len()).filter(|&e| r.min_ratio(e) < 1.0).count();
        t.push_str(&format!(
            "\n[R] verdict: the construction does NOT look like a local minimizer of this NEU in the probe: NEU falls along {} already at eps = {:.0e} (ratio {:.6}, change {:.3e}), and some direction lowers it at {} of the {} eps.\n",
            NeuReport::label(k),
            EPSILONS[e],
            ratios[k],
            ratios[k] - 1.0,
            below,
            EPSILONS.len()
        ));
    }
    let max_slope = |e: usize| (0..r.along.len() / 2).map(|i| r.rel_slope(i, e).abs()).fold(0.0, f64::max);
    t.push_str(&format!(
        "[R] largest |relative directional slope| over the pairs: {:.4} at eps = {:.0e}, {:.4} at eps = {:.0e} (at a stationary point of NEU both would be O(eps)).\n",
        max_slope(0),
        EPSILONS[0],
        max_slope(1),
        EPSILONS[1]
    ));
    t.push_str("[R] this says nothing about [XZ] Thm 3 itself, whose loss is not the one probed here.\n");
    t
}

/// The figure. Left: NEU against `ε` (log x), one colour per direction `u_i` (solid `+u_i`,
/// dashed `−u_i`), `NEU(θ⋆)` as a black line. Right: `|NEU(θ⋆ + ε u)/NEU(θ⋆) − 1|` against `ε` (log-log), filled dots
/// where NEU falls: slope 1 is a first-order change (a nonzero gradient of NEU), slope 2 what a
/// stationary point would show. `θ⋆` is the construction `θ_con`.
pub fn figure(r: &NeuReport) -> Figure {
    let mut left: Vec<Series> = r
        .along
        .iter()
        .enumerate()
        .map(|(k, a)| {
            let s = Series::line(NeuReport::label(k), EPSILONS.iter().copied().zip(a.iter().copied()).collect())
                .color(PALETTE[k / 2]);
            if k % 2 == 0 {
                s
            } else {
                s.mark(Mark::Dashed)
            }
        })
        .collect();
    left.push(
        Series::line("NEU(θ⋆)", vec![(EPSILONS[0], r.con.neu), (EPSILONS[EPSILONS.len() - 1], r.con.neu)])
            .color(REFERENCE),
    );
    let right: Vec<Series> = (0..r.along.len())
        .map(|k| {
            let change: Vec<f64> = (0..EPSILONS.len()).map(|e| r.ratios(e)[k] - 1.0).collect();
            let filled = change.iter().map(|q| *q < 0.0).collect();
            Series::line("", EPSILONS.iter().zip(&change).map(|(&e, &q)| (e, q.abs())).collect())
                .color(PALETTE[k / 2])
                .mark(if k % 2 == 0 { Mark::LineDots(filled) } else { Mark::DashedDots(filled) })
        })
        .collect();
    Figure::new(
        "neu",
        Width::Two,
        vec![
            Panel::Lines(Lines {
                title: "[R] NEU(θ⋆ + ε u) along random unit directions u".into(),
                xlabel: "step ε".into(),
                ylabel: "NEU".into(),
                x: Axis::Log,
                y: Axis::Linear,
                series: left,
            }),
            Panel::Lines(Lines {
                title: "[R] |NEU(θ⋆ + ε u) / NEU(θ⋆) − 1|; filled: NEU falls".into(),
                xlabel: "step ε".into(),
                ylabel: "relative change".into(),
                x: Axis::Log,
                y: Axis::Log,
                series: right,
            }),
        ],
    )
}

/// The numbers of the report as JSON.
pub fn numbers(r: &NeuReport) -> serde_json::Value {
    let point = |q: &NeuPoint| serde_json::json!({"neu": q.neu, "noise": q.noise, "mean_sq_delta": q.mean_sq_delta});
    let s = &r.setting;
    serde_json::json!({
        "seed": r.seed,
        "setting": {"n_states": s.n_states, "d": s.d, "n": s.n, "layers": s.layers, "gamma": s.gamma,
                    "alpha": s.alpha, "tasks": s.tasks, "n_params": s.n_params()},
        "theta_con_norm": r.theta_con_norm,
        "construction": point(&r.con),
        "zero": point(&r.zero),
        "wrong_sign": point(&r.flipped),
        "epsilons": EPSILONS,
        "directions": (0..r.along.len()).map(NeuReport::label).collect::<Vec<_>>(),
        "neu_along": r.along,
        "looks_like_local_min": r.looks_like_local_min(),
    })
}

/// Run the report at `seed`: a probe of an [R] reading, it asserts nothing (exit 0).
pub fn run(seed: u64) -> Output {
    let r = compute(seed);
    Output {
        name: "neu".into(),
        summary: format!(
            "[R] probe of [XZ] Thm 3 (not a claim): the construction {} a local minimizer of the probed NEU",
            if r.looks_like_local_min() { "looks like" } else { "does not look like" }
        ),
        markdown: render_table(&r),
        numbers: numbers(&r),
        figures: vec![figure(&r)],
        holds: None,
    }
}
