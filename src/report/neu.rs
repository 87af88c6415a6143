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
//! gradient through the canonical forward pass ([`readout_grad`]; `tests/all/neu.rs` checks it
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
//! # Loss variants and the restricted class ([R], ours)
//! Besides today's loss the report evaluates, at every point and on the same tasks (common
//! random numbers), eight losses [`VARIANTS`] = bootstrap × rewards × columns, each in two
//! parameter classes:
//! - **bootstrap** [`Bootstrap::Next`] (today's: the next window's readout) or
//!   [`Bootstrap::Same`] (the same window's readout one column later — in this layout the query
//!   is the context's last next state, so no second query on the same context exists);
//! - **rewards** [`Rewards::Random`] (today's) or [`Rewards::Representable`]
//!   (`r = (I − γP) X w*`, `generators::representable`, so `v_π = X w*`), same kernel, features
//!   and trajectory states;
//! - **columns** [`Columns::Last`] (one TD error) or [`Columns::Every`] (the mean over every
//!   column's TD error: by [XZ] Thm 1 `Z_L[d+2, j] = v_L(S_j)` at every column under the
//!   construction, so every column's last-row entry is a value prediction);
//! - **class** full (all `3L(d+3)²` entries) or restricted to the construction's [`support`]
//!   (`L(d+6)` entries): NEU is then `‖P m‖²`, `P` the coordinate projection, the directions stay
//!   in the class, and `‖∇NEU‖` is reported by forward differences.
//!
//! The updates of all variants come from one forward pass per window ([`Tape`]) and a reverse
//! pass seeded on the readout row ([`Tape::vjp`]: [`readout_grad`]'s backward pass,
//! `dynamics::softmax_grad::backward_into`, with any seed; `tests/all/neu.rs` checks it equals
//! [`readout_grad`] bit for bit at the query seed, and every variant's update against finite
//! differences of its own loss [`variant_loss`]). The construction counts as stationary for a
//! variant when `NEU(θ_con) ≤ 2 × noise` ([`STATIONARY_NOISE_FACTOR`], our criterion).
//!
//! Everything is drawn from `case_rng(seed, "report-neu", k)` (task `k`; `w*` of the
//! representable rewards from `"report-neu-representable"`, so today's draws are unchanged) and
//! `case_rng(seed, "report-neu-direction", i)` (direction `i`; `"report-neu-direction-restricted"`
//! in the restricted class); the per-task updates are computed in parallel and summed in task
//! order, so the report is bit-identical at any thread count. Nothing here calls `crate::rl`.
//!
//! # References
//! Z. Xie, X. Liu, C. Chen, S. D. Liu, R. Chandra, S. Zhang, *Beyond Linear Attention: Softmax
//! Transformers Implement In-Context Reinforcement Learning*, arXiv:2605.07333 (2026): Thm 3 and
//! eqs. 24–27 (not recovered); the construction is Thm 1 / Lemma 1 (`docs/theory/softmax-td.md`).

use super::plot::{Axis, Figure, Lines, Mark, Panel, Series, Width, PALETTE, REFERENCE};
use super::Output;
use crate::attention::softmax::{apply_multi_head, prompt, MultiHeadLayer, Workspace};
use crate::construction::softmax::Parts;
use crate::dynamics::softmax_grad::{backward_into, forward_into, readout_row_of, GradWorkspace, Seed};
pub use crate::dynamics::softmax_grad::{layers_from, readout, readout_grad, td_update, theta_of, Task};
use crate::linalg::Mat;
use crate::mdp::features::Features;
use crate::mdp::generators::{random_mrp, representable};
use crate::mdp::rollout::mrp_rollout;
use crate::mdp::Mrp;
use crate::rng::case_rng;
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

/// The report's setting: every variant at 142 points in ~25 s of CPU on this 2-core machine.
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

/// [`NeuPoint`] of per-task updates `(mean δ², update)`, in task order; with `mask`, only the
/// coordinates `i` with `mask[i]` count (the restricted class: NEU is `‖P m‖²`, the noise
/// `tr(P Ĉov P)/N`, `P` the coordinate projection).
fn summarize<'a>(ups: impl Iterator<Item = (f64, &'a [f64])>, p: usize, mask: Option<&[bool]>) -> NeuPoint {
    let keep = |i: usize| mask.map_or(true, |m| m[i]);
    let mut mean = vec![0.0; p];
    let (mut sq, mut dd, mut n) = (0.0, 0.0, 0usize);
    for (delta_sq, g) in ups {
        for (i, (m, x)) in mean.iter_mut().zip(g).enumerate() {
            if keep(i) {
                *m += x;
                sq += x * x;
            }
        }
        dd += delta_sq;
        n += 1;
    }
    let nf = n as f64;
    for m in &mut mean {
        *m /= nf;
    }
    let neu: f64 = mean.iter().map(|x| x * x).sum();
    // Σ_k ‖g_k - m‖² = Σ_k ‖g_k‖² - N ‖m‖².
    let noise = if n > 1 { (sq - nf * neu) / (nf - 1.0) / nf } else { f64::NAN };
    NeuPoint { neu, noise, mean_sq_delta: dd / nf }
}

/// [`NeuPoint`] at `θ` over `tasks` (parallel over tasks, summed in task order).
pub fn neu_at(tasks: &[Task], theta: &[f64], s: &Setting) -> NeuPoint {
    let layers = layers_from(theta, s.d);
    let ups: Vec<(f64, Vec<f64>)> = tasks.par_iter().map(|t| td_update(t, &layers, s.gamma)).collect();
    summarize(ups.iter().map(|(delta, g)| (delta * delta, g.as_slice())), theta.len(), None)
}

/// Random unit direction `i` in `R^P` (standard normal, normalized).
pub fn direction(seed: u64, i: u64, p: usize) -> Vec<f64> {
    restricted_direction(seed, "report-neu-direction", i, &vec![true; p])
}

/// Random unit direction `i` supported on `mask` (standard normal on the kept coordinates,
/// normalized; 0 elsewhere), drawn from `case_rng(seed, stream, i)`.
fn restricted_direction(seed: u64, stream: &str, i: u64, mask: &[bool]) -> Vec<f64> {
    let mut rng = case_rng(seed, stream, i);
    let u: Vec<f64> = mask.iter().map(|&m| if m { StandardNormal.sample(&mut rng) } else { 0.0 }).collect();
    let norm = u.iter().map(|x| x * x).sum::<f64>().sqrt();
    u.into_iter().map(|x| x / norm).collect()
}

/// The construction's sparsity class: the coordinates of `θ` where `θ_con` (any `α ≠ 0`) is
/// nonzero — per layer the `d` diagonal entries of `A`, row `d+2` of `V¹` and row `d+1` of `V²`
/// in the columns `d, d+1, d+2` of `u`: `L (d + 6)` coordinates.
pub fn support(s: &Setting) -> Vec<bool> {
    theta_con(s, 1.0).iter().map(|&x| x != 0.0).collect()
}

// ---------------------------------------------------------------------------------------------
// Loss variants [R]
// ---------------------------------------------------------------------------------------------

/// Which value the TD error bootstraps on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// The next window's readout at the column holding the next state: `Z'_L[d+2, j]` of the
    /// window `S_1 … S_{n+1}` (today's loss, `j = n`).
    Next,
    /// The same window's readout one column later, `Z_L[d+2, j+1]`: both values from one forward
    /// pass on one context. (In [XZ]'s layout the query `S_n` is also the next state of the
    /// context's last transition — the shifted head reads column `n` as column `n-1`'s next
    /// state — so a second query `S_{n+1}` "on the same context" does not exist: replacing the
    /// query's features would change the context's last transition. The same-window TD error
    /// is therefore the one of a transition inside the window.)
    Same,
}

/// Which rewards the tasks carry (same MRP kernel, features and trajectory states either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rewards {
    /// `r ~ Unif(-1,1)` per state (`generators::random_mrp`, today's).
    Random,
    /// `r = (I − γP) X w*` with `w* ~ N(0, I_d)` (`generators::representable`): the true value
    /// `v_π = X w*` is linear in the features.
    Representable,
}

/// Which TD errors enter the loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Columns {
    /// One: the query's (`j = n`) with the next-window bootstrap; with the same-window
    /// bootstrap the window's last transition (`j = n-1`, bootstrapped at the query).
    Last,
    /// Every column whose TD error exists, averaged: `j = 0 … n` (next window) or `j = 0 … n-1`
    /// (same window). By [XZ] Thm 1, `Z_L[d+2, j] = v_L(S_j)` at every column under the
    /// construction, so each column's last-row entry is a value prediction.
    Every,
}

/// One loss: bootstrap × rewards × columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant {
    /// Bootstrap.
    pub bootstrap: Bootstrap,
    /// Rewards.
    pub rewards: Rewards,
    /// Columns.
    pub columns: Columns,
}

/// The eight variants; the first is today's loss (next window, random rewards, query only).
pub const VARIANTS: [Variant; 8] = {
    use {Bootstrap as B, Columns as C, Rewards as R};
    const fn v(bootstrap: B, rewards: R, columns: C) -> Variant {
        Variant { bootstrap, rewards, columns }
    }
    [
        v(B::Next, R::Random, C::Last),
        v(B::Same, R::Random, C::Last),
        v(B::Next, R::Random, C::Every),
        v(B::Same, R::Random, C::Every),
        v(B::Next, R::Representable, C::Last),
        v(B::Same, R::Representable, C::Last),
        v(B::Next, R::Representable, C::Every),
        v(B::Same, R::Representable, C::Every),
    ]
};

impl Variant {
    /// Short name, e.g. `next/random/query`.
    pub fn name(&self) -> String {
        let b = match self.bootstrap {
            Bootstrap::Next => "next",
            Bootstrap::Same => "same",
        };
        let r = match self.rewards {
            Rewards::Random => "random",
            Rewards::Representable => "repr",
        };
        let c = match (self.columns, self.bootstrap) {
            (Columns::Last, Bootstrap::Next) => "query",
            (Columns::Last, Bootstrap::Same) => "last",
            (Columns::Every, _) => "every",
        };
        format!("{b}/{r}/{c}")
    }

    /// The columns `j` whose TD errors enter the loss, for windows of `n` transitions.
    pub fn columns(&self, n: usize) -> std::ops::Range<usize> {
        match (self.bootstrap, self.columns) {
            (Bootstrap::Next, Columns::Last) => n..n + 1,
            (Bootstrap::Next, Columns::Every) => 0..n + 1,
            (Bootstrap::Same, Columns::Last) => n - 1..n,
            (Bootstrap::Same, Columns::Every) => 0..n,
        }
    }

    /// The TD targets `y_j = R_{j+1} + γ · boot_j` of the loss's columns, `(j, y_j)`. `now`, `next`
    /// are the readout rows `Z_L[d+2, ·]` of the task's two windows (`next` is read only with
    /// [`Bootstrap::Next`]); the rewards are the window's `R_{j+1}` (row `d`) and `R_{n+1}`.
    pub fn targets(&self, task: &Task, now: &[f64], next: &[f64], gamma: f64) -> Vec<(usize, f64)> {
        let n = now.len() - 1;
        let d = task.now.rows() - 3;
        self.columns(n)
            .map(|j| {
                let reward = if j < n { task.now[(d, j)] } else { task.reward };
                let boot = match self.bootstrap {
                    Bootstrap::Next => next[j],
                    Bootstrap::Same => now[j + 1],
                };
                (j, reward + gamma * boot)
            })
            .collect()
    }

    /// The reverse-mode seed of the update: `seed[j] = w δ_j` (`δ_j = y_j − now[j]`,
    /// `w = 1/#columns`) on the loss's columns, 0 elsewhere; returns `Σ_j w δ_j²`.
    pub fn td_seed(&self, task: &Task, now: &[f64], next: &[f64], gamma: f64, seed: &mut [f64]) -> f64 {
        let ys = self.targets(task, now, next, gamma);
        let w = 1.0 / ys.len() as f64;
        seed.fill(0.0);
        let mut sq = 0.0;
        for (j, y) in ys {
            let delta = y - now[j];
            seed[j] = w * delta;
            sq += w * delta * delta;
        }
        sq
    }
}

/// A task under both reward models: the same MRP kernel, `p0`, features and trajectory states
/// (common random numbers); only the rewards differ.
#[derive(Clone, Debug)]
pub struct TaskPair {
    /// Today's task ([`draw_task`]), random rewards.
    pub random: Task,
    /// The same trajectory with representable rewards.
    pub representable: Task,
}

impl TaskPair {
    /// The task of `rewards`.
    pub fn get(&self, rewards: Rewards) -> &Task {
        match rewards {
            Rewards::Random => &self.random,
            Rewards::Representable => &self.representable,
        }
    }
}

/// The representable-reward MRP of task `k`, its features and `w*`: the base MRP and features
/// are [`draw_task`]'s (same stream, same draws), `w*` comes from
/// `case_rng(seed, "report-neu-representable", k)` so that today's draws are unchanged. Also
/// returns the stream positioned where [`draw_task`] draws the trajectory.
pub fn representable_task_parts(seed: u64, s: &Setting, k: u64) -> (Mrp, Features, Vec<f64>, crate::rng::Rng) {
    let mut rng = case_rng(seed, "report-neu", k);
    let base = random_mrp(&mut rng, s.n_states, s.gamma);
    let x = Features::random(&mut rng, s.n_states, 1, s.d);
    let (mrp, w_star) = representable(&mut case_rng(seed, "report-neu-representable", k), &base, &x);
    (mrp, x, w_star, rng)
}

/// Task `k` under both reward models.
pub fn draw_task_pair(seed: u64, s: &Setting, k: u64) -> TaskPair {
    let (mrp, x, _, mut rng) = representable_task_parts(seed, s, k);
    // The rollout's draws depend on the kernel and `p0` only, which `representable` keeps.
    let traj = mrp_rollout(&mut rng, &mrp, s.n + 1);
    let (st, rw) = (&traj.states, &traj.rewards);
    let representable = Task {
        now: prompt(&x, 1.0, &st[..=s.n], &rw[..s.n]),
        next: prompt(&x, 1.0, &st[1..], &rw[1..]),
        reward: rw[s.n],
    };
    TaskPair { random: draw_task(seed, s, k), representable }
}

/// The forward pass of one prompt (`dynamics::softmax_grad::forward_into`, the same iterates as
/// `attention::softmax::forward_multi_head`), kept for reverse mode from any seed on the readout
/// row: one forward pass serves every variant's seed.
pub struct Tape {
    ws: GradWorkspace,
    layers: usize,
    rows: usize,
    values: Vec<f64>,
}

impl Tape {
    /// Run `layers` on `z0`.
    pub fn new(z0: &Mat<f64>, layers: &[MultiHeadLayer]) -> Tape {
        let mut ws = GradWorkspace::new();
        forward_into(z0, layers, &mut ws);
        let values = readout_row_of(&ws, layers.len());
        Tape { ws, layers: layers.len(), rows: z0.rows(), values }
    }

    /// The readout row `Z_L[d+2, j]`, `j = 0 … n`.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// `∇_θ Σ_j c_j Z_L[d+2, j]` in the layout of [`layers_from`]: the crate's one backward pass
    /// (`dynamics::softmax_grad::backward_into`) with the seed `e_{d+2} cᵀ` ([`readout_grad`]'s
    /// seed is `e_{d+2} e_nᵀ`).
    pub fn vjp(&mut self, layers: &[MultiHeadLayer], c: &[f64]) -> Vec<f64> {
        assert_eq!(layers.len(), self.layers, "the tape's layers");
        let r = self.rows;
        let mut grad = vec![0.0; layers.iter().map(|l| (1 + l.heads.len()) * r * r).sum()];
        backward_into(layers, &mut self.ws, Seed::Row(c), &mut grad);
        grad
    }
}

/// The readout row `Z_L[d+2, ·]` of `z0` (forward only).
pub fn readout_row(z0: &Mat<f64>, layers: &[MultiHeadLayer]) -> Vec<f64> {
    let mut ws = Workspace::new(z0.rows(), z0.cols());
    let mut z = z0.clone();
    for l in layers {
        apply_multi_head(&mut z, l, &mut ws);
    }
    z.row(z.rows() - 1).to_vec()
}

/// The semi-gradient TD update of variant `v` on one task: `(Σ_j w δ_j², Σ_j w δ_j ∇_θ Z_L[d+2, j])`,
/// the bootstraps held constant. For `v = VARIANTS[0]` this is [`td_update`] (up to rounding).
pub fn variant_update(v: &Variant, pair: &TaskPair, layers: &[MultiHeadLayer], gamma: f64) -> (f64, Vec<f64>) {
    variant_updates(pair, layers, gamma).swap_remove(VARIANTS.iter().position(|x| x == v).expect("a listed variant"))
}

/// [`variant_update`] for every variant of [`VARIANTS`], in that order, from one forward pass per
/// window and reward model.
pub fn variant_updates(pair: &TaskPair, layers: &[MultiHeadLayer], gamma: f64) -> Vec<(f64, Vec<f64>)> {
    let mut out: Vec<Option<(f64, Vec<f64>)>> = vec![None; VARIANTS.len()];
    for rewards in [Rewards::Random, Rewards::Representable] {
        let task = pair.get(rewards);
        let mut tape = Tape::new(&task.now, layers);
        let now = tape.values().to_vec();
        let next = readout_row(&task.next, layers);
        let mut seed = vec![0.0; now.len()];
        for (i, v) in VARIANTS.iter().enumerate().filter(|(_, v)| v.rewards == rewards) {
            let sq = v.td_seed(task, &now, &next, gamma, &mut seed);
            out[i] = Some((sq, tape.vjp(layers, &seed)));
        }
    }
    out.into_iter().map(|u| u.expect("every variant computed")).collect()
}

/// The semi-gradient loss of variant `v` at `θ'` with every bootstrap and target frozen at `θ`:
/// `ℓ(θ') = ½ Σ_j w (y_j − Z_L(θ')[d+2, j])²`, `y_j = R_{j+1} + γ·boot_j(θ)`. Its gradient at
/// `θ' = θ` is `−` the update of [`variant_update`] (what `tests/all/neu.rs` checks by finite
/// differences).
pub fn variant_loss(v: &Variant, pair: &TaskPair, theta: &[f64], theta_prime: &[f64], s: &Setting) -> f64 {
    let task = pair.get(v.rewards);
    let layers = layers_from(theta, s.d);
    let ys = v.targets(task, &readout_row(&task.now, &layers), &readout_row(&task.next, &layers), s.gamma);
    let w = 1.0 / ys.len() as f64;
    let moved = readout_row(&task.now, &layers_from(theta_prime, s.d));
    ys.into_iter().map(|(j, y)| 0.5 * w * (y - moved[j]).powi(2)).sum()
}

/// Full-class and restricted-class [`NeuPoint`]s of every variant at `θ` (`[full, restricted]`,
/// in [`VARIANTS`] order), over `pairs` (parallel over tasks, summed in task order).
pub fn neu_variants(pairs: &[TaskPair], theta: &[f64], s: &Setting, mask: &[bool]) -> Vec<[NeuPoint; 2]> {
    let layers = layers_from(theta, s.d);
    let ups: Vec<Vec<(f64, Vec<f64>)>> = pairs.par_iter().map(|t| variant_updates(t, &layers, s.gamma)).collect();
    let p = theta.len();
    (0..VARIANTS.len())
        .map(|v| {
            let it = || ups.iter().map(|u| (u[v].0, u[v].1.as_slice()));
            [summarize(it(), p, None), summarize(it(), p, Some(mask))]
        })
        .collect()
}

/// Forward-difference step for `∇NEU` in the restricted class (report only, no check reads it;
/// forward, not central, to halve the cost): `NEU` is smooth with O(1) second derivatives near
/// `θ_con` (the directional tables show quadratic terms of that size), so the truncation error
/// `h |∂²NEU| / 2` is ~1e-6 per coordinate, and the rounding error `u · NEU / h` of a sum of
/// ~1e5 terms is ~1e-6 too: three significant digits of a gradient whose norm is O(NEU).
pub const GRAD_STEP: f64 = 1e-6;

/// [R] Our stationarity criterion (not [XZ]'s): the construction counts as a stationary point of
/// a variant's NEU when `NEU(θ_con) ≤ STATIONARY_NOISE_FACTOR · tr Ĉov/N`. At a true zero of the
/// population mean update the sample NEU estimates the noise term alone (ratio ≈ 1, spread
/// `O(√(2/p_eff))`), so 2 separates "no mean update visible above N tasks' noise" from a mean
/// update that is.
pub const STATIONARY_NOISE_FACTOR: f64 = 2.0;

/// One variant's figures in one parameter class (full: all `3L(d+3)²` entries; restricted: the
/// [`support`] of `θ_con`, where NEU is `‖P m‖²` and the directions stay in the class).
#[derive(Clone, Debug, PartialEq)]
pub struct ClassReport {
    /// At `θ_con`.
    pub con: NeuPoint,
    /// At `θ = 0`.
    pub zero: NeuPoint,
    /// At the construction with `α → -α`.
    pub flipped: NeuPoint,
    /// `NEU(θ_con + ε σ u_i)` for the signed directions `(i, σ) = (0,+), (0,-), (1,+), …`, one
    /// entry per `ε` of [`EPSILONS`].
    pub along: Vec<Vec<f64>>,
    /// `‖∇NEU(θ_con)‖` over the class by forward differences ([`GRAD_STEP`]); restricted class
    /// only (the full class would need `3L(d+3)²` more evaluations).
    pub grad_norm: Option<f64>,
}

impl ClassReport {
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
    /// `max_i |rel_slope(i, e)|`.
    pub fn max_abs_slope(&self, e: usize) -> f64 {
        (0..self.along.len() / 2).map(|i| self.rel_slope(i, e).abs()).fold(0.0, f64::max)
    }
    /// Whether every ratio is at least 1 at the [`VERDICT_EPS`] smallest `ε`.
    pub fn looks_like_local_min(&self) -> bool {
        (0..VERDICT_EPS).all(|e| self.min_ratio(e) >= 1.0)
    }
    /// `NEU(θ_con) / (tr Ĉov/N)`.
    pub fn noise_ratio(&self) -> f64 {
        self.con.neu / self.con.noise
    }
    /// [R] [`STATIONARY_NOISE_FACTOR`]: `NEU(θ_con) ≤ 2 · noise`.
    pub fn stationary(&self) -> bool {
        self.noise_ratio() <= STATIONARY_NOISE_FACTOR
    }
}

/// One variant in both classes.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantReport {
    /// The loss.
    pub variant: Variant,
    /// All `3L(d+3)²` parameters.
    pub full: ClassReport,
    /// The construction's sparsity class.
    pub restricted: ClassReport,
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
    /// Number of coordinates in the construction's sparsity class.
    pub support_size: usize,
    /// One entry per [`VARIANTS`] item, in that order (the first is today's loss).
    pub variants: Vec<VariantReport>,
}

impl NeuReport {
    /// Label of signed direction `k` (`+u1`, `-u1`, …).
    pub fn label(k: usize) -> String {
        format!("{}u{}", if k % 2 == 0 { '+' } else { '-' }, k / 2 + 1)
    }
    /// Today's loss (next window, random rewards, query only) in the full class.
    pub fn baseline(&self) -> &ClassReport {
        &self.variants[0].full
    }
}

/// Compute the report with the default setting.
pub fn compute(seed: u64) -> NeuReport {
    compute_with(seed, &DEFAULT)
}

/// Compute the report for `seed` and setting `s`: every variant at every point from one pass over
/// the same tasks (common random numbers), the same directions for every variant.
pub fn compute_with(seed: u64, s: &Setting) -> NeuReport {
    let pairs: Vec<TaskPair> = (0..s.tasks as u64).into_par_iter().map(|k| draw_task_pair(seed, s, k)).collect();
    let con = theta_con(s, s.alpha);
    let p = con.len();
    let mask = support(s);
    let nv = VARIANTS.len();
    let at = |t: &[f64]| neu_variants(&pairs, t, s, &mask);
    let moved = |u: &[f64], step: f64| con.iter().zip(u).map(|(c, x)| c + step * x).collect::<Vec<_>>();
    // along[class][variant][signed direction][ε]; full directions are [`direction`]'s.
    let mut along = vec![vec![Vec::new(); nv]; 2];
    let everywhere = vec![true; p];
    for (class, stream, kept) in
        [(0, "report-neu-direction", &everywhere), (1, "report-neu-direction-restricted", &mask)]
    {
        for i in 0..DIRECTIONS as u64 {
            let u = restricted_direction(seed, stream, i, kept);
            for sign in [1.0, -1.0] {
                let pts: Vec<Vec<[NeuPoint; 2]>> = EPSILONS.iter().map(|&eps| at(&moved(&u, sign * eps))).collect();
                for (v, a) in along[class].iter_mut().enumerate() {
                    a.push(pts.iter().map(|q| q[v][class].neu).collect());
                }
            }
        }
    }
    let (c, z, f) = (at(&con), at(&vec![0.0; p]), at(&theta_con(s, -s.alpha)));
    let mut grad_sq = vec![0.0; nv];
    for i in (0..p).filter(|&i| mask[i]) {
        let mut e = vec![0.0; p];
        e[i] = 1.0;
        let up = at(&moved(&e, GRAD_STEP));
        for (v, g2) in grad_sq.iter_mut().enumerate() {
            *g2 += ((up[v][1].neu - c[v][1].neu) / GRAD_STEP).powi(2);
        }
    }
    let variants = VARIANTS
        .iter()
        .enumerate()
        .map(|(v, &variant)| {
            let class = |k: usize| ClassReport {
                con: c[v][k],
                zero: z[v][k],
                flipped: f[v][k],
                along: along[k][v].clone(),
                grad_norm: (k == 1).then(|| grad_sq[v].sqrt()),
            };
            VariantReport { variant, full: class(0), restricted: class(1) }
        })
        .collect();
    NeuReport {
        seed,
        setting: *s,
        theta_con_norm: con.iter().map(|x| x * x).sum::<f64>().sqrt(),
        support_size: mask.iter().filter(|&&m| m).count(),
        variants,
    }
}

fn sci(x: f64) -> String {
    format!("{x:.3e}")
}

/// The markdown table (snapshotted, rounded, by `tests/all/neu.rs`). Every line that states a
/// measurement carries [R].
pub fn render_table(r: &NeuReport) -> String {
    let s = &r.setting;
    let b = r.baseline();
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
        (format!("[R] construction (alpha = {})", s.alpha), b.con),
        ("[R] theta = 0 (v^ = 0)".to_string(), b.zero),
        (format!("[R] construction, wrong sign (alpha = {})", -s.alpha), b.flipped),
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
        b.con.neu / b.zero.neu,
        b.con.neu / b.flipped.neu
    ));
    t.push_str("\n## [R] Relative change NEU(theta_con + eps u) / NEU(theta_con) - 1, random unit directions in antithetic pairs\n\n| eps |");
    for k in 0..b.along.len() {
        t.push_str(&format!(" {} |", NeuReport::label(k)));
    }
    t.push_str(" min |\n|---:|");
    for _ in 0..=b.along.len() {
        t.push_str("---:|");
    }
    t.push('\n');
    for (e, eps) in EPSILONS.iter().enumerate() {
        t.push_str(&format!("| [R] {eps:.0e} |"));
        for q in b.ratios(e) {
            t.push_str(&format!(" {:.3e} |", q - 1.0));
        }
        t.push_str(&format!(" {:.3e} |\n", b.min_ratio(e) - 1.0));
    }
    t.push_str(&format!(
        "\n## [R] Directional slope of NEU at theta_con, relative: (NEU(+eps u) - NEU(-eps u)) / (2 eps NEU(theta_con))\n\n| direction | eps = {:.0e} | eps = {:.0e} |\n|:---|---:|---:|\n",
        EPSILONS[0], EPSILONS[1]
    ));
    for i in 0..b.along.len() / 2 {
        t.push_str(&format!("| [R] u{} | {:.4} | {:.4} |\n", i + 1, b.rel_slope(i, 0), b.rel_slope(i, 1)));
    }
    t.push('\n');
    for (e, eps) in EPSILONS.iter().enumerate() {
        let m = b.min_ratio(e);
        t.push_str(&format!("[R] eps = {eps:.0e}: min over directions of NEU(theta_con + eps u) / NEU(theta_con) = {m:.6} (change {:.3e})\n", m - 1.0));
    }
    let small: Vec<String> = EPSILONS[..VERDICT_EPS].iter().map(|e| format!("{e:.0e}")).collect();
    if b.looks_like_local_min() {
        t.push_str(&format!(
            "\n[R] verdict: the construction LOOKS LIKE a local minimizer of this NEU in the probe: NEU rises along all {} directions at eps = {} (finitely many directions, one task sample).\n",
            b.along.len(),
            small.join(", ")
        ));
    } else {
        // The smallest ε at which some direction lowers NEU, and the lowest ratio there.
        let e = (0..VERDICT_EPS).find(|&e| b.min_ratio(e) < 1.0).expect("some ratio is below 1");
        let ratios = b.ratios(e);
        let k = (0..ratios.len()).fold(0, |m, k| if ratios[k] < ratios[m] { k } else { m });
        let below = (0..EPSILONS.len()).filter(|&e| b.min_ratio(e) < 1.0).count();
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
    t.push_str(&format!(
        "[R] largest |relative directional slope| over the pairs: {:.4} at eps = {:.0e}, {:.4} at eps = {:.0e} (at a stationary point of NEU both would be O(eps)).\n",
        b.max_abs_slope(0),
        EPSILONS[0],
        b.max_abs_slope(1),
        EPSILONS[1]
    ));
    render_variants(r, &mut t);
    t.push_str("[R] this says nothing about [XZ] Thm 3 itself, whose loss is not the one probed here.\n");
    t
}

/// The restricted class and the loss variants (appended to [`render_table`]).
fn render_variants(r: &NeuReport, t: &mut String) {
    let s = &r.setting;
    t.push_str(&format!(
        "\n## [R] Loss variants, full class and the construction's sparsity class\n\n\
         [R] restricted class: only the {} entries theta_con uses (per layer: the d diagonal entries of A, row d+2 of V1 and row d+1 of V2 in the columns d, d+1, d+2); NEU there is ||P m||^2, noise tr(P Cov P)/N, directions and perturbations stay in the class.\n\
         [R] variants (the same {} tasks, directions and eps in every row: common random numbers):\n\
         [R] bootstrap next = the next window's readout at the column holding the next state; same = the same window's readout one column later (the query S_n is the context's last next state in this layout, so no second query exists on the same context).\n\
         [R] rewards random = r ~ Unif(-1,1); repr = r = (I - gamma P) X w*, w* ~ N(0, I_d) (true value X w*), same kernel, features and states.\n\
         [R] columns query = the query's TD error (next) or the window's last transition (same, bootstrapped at the query); every = the mean over every column's TD error (Z_L[d+2, j] = v_L(S_j) at every column under the construction, [XZ] Thm 1).\n\
         [R] criterion (ours): the construction counts as stationary when NEU(theta_con) <= {} x its sampling noise.\n\n",
        r.support_size, s.tasks, STATIONARY_NOISE_FACTOR
    ));
    t.push_str("| variant | class | NEU(con) | noise | NEU/noise | NEU(theta=0) | NEU(-alpha) | mean delta^2 | max abs rel slope | rel grad norm | stationary |\n|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|:---|\n");
    for vr in &r.variants {
        for (class, c) in [("full", &vr.full), ("restricted", &vr.restricted)] {
            let grad = c.grad_norm.map_or("-".to_string(), |g| sci(g / c.con.neu));
            t.push_str(&format!(
                "| [R] {} | {class} | {} | {} | {:.2} | {} | {} | {} | {:.3e} | {grad} | {} |\n",
                vr.variant.name(),
                sci(c.con.neu),
                sci(c.con.noise),
                c.noise_ratio(),
                sci(c.zero.neu),
                sci(c.flipped.neu),
                sci(c.con.mean_sq_delta),
                c.max_abs_slope(0),
                if c.stationary() { "yes" } else { "no" }
            ));
        }
    }
    t.push_str(&format!(
        "\n[R] max abs rel slope: max over the {} antithetic pairs of |NEU(+eps u) - NEU(-eps u)| / (2 eps NEU(theta_con)) at eps = {:.0e}; rel grad norm: ||grad NEU(theta_con)|| / NEU(theta_con) over the restricted class, forward differences at h = {:.0e}.\n",
        DIRECTIONS, EPSILONS[0], GRAD_STEP
    ));
    t.push_str("\n### [R] min over directions of NEU(theta_con + eps u) / NEU(theta_con) - 1\n\n| variant | class |");
    for eps in EPSILONS {
        t.push_str(&format!(" {eps:.0e} |"));
    }
    t.push_str(" local min? |\n|:---|:---|");
    for _ in EPSILONS {
        t.push_str("---:|");
    }
    t.push_str(":---|\n");
    for vr in &r.variants {
        for (class, c) in [("full", &vr.full), ("restricted", &vr.restricted)] {
            t.push_str(&format!("| [R] {} | {class} |", vr.variant.name()));
            for e in 0..EPSILONS.len() {
                t.push_str(&format!(" {:.3e} |", c.min_ratio(e) - 1.0));
            }
            t.push_str(if c.looks_like_local_min() { " looks like |\n" } else { " no |\n" });
        }
    }
    let stationary: Vec<String> = r
        .variants
        .iter()
        .flat_map(|vr| {
            [("full", &vr.full), ("restricted", &vr.restricted)]
                .into_iter()
                .filter(|(_, c)| c.stationary())
                .map(move |(class, c)| format!("{} ({class}, NEU/noise {:.2})", vr.variant.name(), c.noise_ratio()))
        })
        .collect();
    let (lo, hi) = r
        .variants
        .iter()
        .flat_map(|vr| [vr.full.noise_ratio(), vr.restricted.noise_ratio()])
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), q| (lo.min(q), hi.max(q)));
    if stationary.is_empty() {
        t.push_str(&format!(
            "\n[R] variants verdict: under our criterion no variant makes the construction stationary, in either class: NEU(theta_con) / noise ranges from {lo:.2} to {hi:.2} over the {} rows.\n",
            2 * r.variants.len()
        ));
    } else {
        t.push_str(&format!(
            "\n[R] variants verdict: under our criterion the construction is stationary for {} of the {} rows: {}; NEU(theta_con) / noise ranges from {lo:.2} to {hi:.2}. A reading of the probe, not [XZ]'s loss.\n",
            stationary.len(),
            2 * r.variants.len(),
            stationary.join(", ")
        ));
    }
}

/// The figure. Left: NEU against `ε` (log x), one colour per direction `u_i` (solid `+u_i`,
/// dashed `−u_i`), `NEU(θ⋆)` as a black line. Right: `|NEU(θ⋆ + ε u)/NEU(θ⋆) − 1|` against `ε` (log-log), filled dots
/// where NEU falls: slope 1 is a first-order change (a nonzero gradient of NEU), slope 2 what a
/// stationary point would show. `θ⋆` is the construction `θ_con`; today's loss, full class.
pub fn figure(r: &NeuReport) -> Figure {
    let b = r.baseline();
    let mut left: Vec<Series> = b
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
        Series::line("NEU(θ⋆)", vec![(EPSILONS[0], b.con.neu), (EPSILONS[EPSILONS.len() - 1], b.con.neu)])
            .color(REFERENCE),
    );
    let right: Vec<Series> = (0..b.along.len())
        .map(|k| {
            let change: Vec<f64> = (0..EPSILONS.len()).map(|e| b.ratios(e)[k] - 1.0).collect();
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

fn point_json(q: &NeuPoint) -> serde_json::Value {
    serde_json::json!({"neu": q.neu, "noise": q.noise, "mean_sq_delta": q.mean_sq_delta})
}

fn class_json(c: &ClassReport) -> serde_json::Value {
    serde_json::json!({
        "construction": point_json(&c.con),
        "zero": point_json(&c.zero),
        "wrong_sign": point_json(&c.flipped),
        "noise_ratio": c.noise_ratio(),
        "stationary": c.stationary(),
        "neu_along": c.along,
        "rel_slopes": (0..c.along.len() / 2).map(|i| c.rel_slope(i, 0)).collect::<Vec<_>>(),
        "looks_like_local_min": c.looks_like_local_min(),
        "grad_norm": c.grad_norm,
    })
}

/// The numbers of the report as JSON. The top-level `construction` … `looks_like_local_min` are
/// today's loss in the full class (`variants[0].full`).
pub fn numbers(r: &NeuReport) -> serde_json::Value {
    let s = &r.setting;
    let b = r.baseline();
    serde_json::json!({
        "seed": r.seed,
        "setting": {"n_states": s.n_states, "d": s.d, "n": s.n, "layers": s.layers, "gamma": s.gamma,
                    "alpha": s.alpha, "tasks": s.tasks, "n_params": s.n_params()},
        "theta_con_norm": r.theta_con_norm,
        "construction": point_json(&b.con),
        "zero": point_json(&b.zero),
        "wrong_sign": point_json(&b.flipped),
        "epsilons": EPSILONS,
        "directions": (0..b.along.len()).map(NeuReport::label).collect::<Vec<_>>(),
        "neu_along": b.along,
        "looks_like_local_min": b.looks_like_local_min(),
        "support_size": r.support_size,
        "restricted": class_json(&r.variants[0].restricted),
        "stationary_noise_factor": STATIONARY_NOISE_FACTOR,
        "variants": r.variants.iter().map(|vr| serde_json::json!({
            "name": vr.variant.name(),
            "bootstrap": format!("{:?}", vr.variant.bootstrap).to_lowercase(),
            "rewards": format!("{:?}", vr.variant.rewards).to_lowercase(),
            "columns": format!("{:?}", vr.variant.columns).to_lowercase(),
            "full": class_json(&vr.full),
            "restricted": class_json(&vr.restricted),
        })).collect::<Vec<_>>(),
    })
}

/// Run the report at `seed`: a probe of an [R] reading, it asserts nothing (exit 0).
pub fn run(seed: u64) -> Output {
    let r = compute(seed);
    let stationary = r.variants.iter().filter(|v| v.full.stationary() || v.restricted.stationary()).count();
    Output {
        name: "neu".into(),
        summary: format!(
            "[R] probe of [XZ] Thm 3 (not a claim): the construction {} a local minimizer of the probed NEU; stationary (NEU <= {} x noise) under {} of {} loss variants",
            if r.baseline().looks_like_local_min() { "looks like" } else { "does not look like" },
            STATIONARY_NOISE_FACTOR,
            stationary,
            r.variants.len()
        ),
        markdown: render_table(&r),
        numbers: numbers(&r),
        figures: vec![figure(&r)],
        holds: None,
    }
}
