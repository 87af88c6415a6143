//! Emergence of the [XZ] softmax TD construction (arXiv:2605.07333; `docs/theory/softmax-td.md`,
//! `proofs/xz-emergence.md`) — an experiment, **[R]** in its setup, asserting nothing.
//!
//! Train the `L`-layer two-head softmax transformer of `attention::softmax` (the construction's
//! architecture: per layer `A_l`, `V¹_l` without shift, `V²_l` with the column shift `Π`, the
//! query mask on, no `1/n`) with Adam on the semi-gradient TD loss over random MRPs:
//!
//! ```text
//! ℓ(θ) = ½ δ²,   δ = R_{n+1} + γ · sg[v̂_θ(Z')] − v̂_θ(Z),   v̂_θ(Z) = Z_L[d+2, n]
//! ```
//!
//! `Z` is the prompt of a window `S_k … S_{k+n}` (query `S_{k+n}`), `Z'` of the next window
//! `S_{k+1} … S_{k+n+1}` (the NEU probe's task, `dynamics::softmax_grad::Task`), `sg` stops the
//! gradient. Step `t` draws MRP `t` (`generators::random_mrp`, `|S|` states, Dirichlet rows,
//! `r ~ Unif(-1, 1)`), features `Unif(-1, 1)^d` (`β = 1`), one trajectory of `n + batch`
//! transitions, and the `batch` sliding windows of it; one Adam step on the minibatch mean.
//!
//! **Masks** ([XZ] App. F.2 trains with fixed parameter-sparsity masks; which entries is our
//! reading, [R]): by default only the entries where the construction
//! (`construction::softmax::Parts::two_head_stack`) is nonzero are free ([`free_mask`]):
//! `A_l[i, i]` for `i < d`, `V¹_l[d+2, d..=d+2]`, `V²_l[d+1, d..=d+2]` — `d + 6` per layer.
//! The others are 0 at init and stay exactly 0 (their gradient is masked). `dense` frees all
//! `3 (d+3)²` entries per layer.
//!
//! **Init**: free entries Xavier-normal with gain `init_gain`, `N(0, g² · 2/(2(d+3)))`, per
//! block, drawn from `case_rng(seed, "dynamics/train-softmax-init", 0)` in the layout order.
//!
//! **Determinism and speed**: the minibatch is cut into fixed chunks of [`CHUNK`] prompts,
//! processed in parallel (rayon) with one reusable workspace each, and summed in chunk order,
//! so the run is bit-identical at any thread count. The gradient is the hand-written one of
//! [`super::softmax_grad::readout_grad_into`] (no allocation per prompt beyond its two prompt
//! matrices), checked against central differences in `tests/all/train_softmax.rs`.
//!
//! **Structure** ([`layer_structure`]; definitions in `proofs/xz-emergence.md`): per layer and
//! block, the cosine with the construction's block over the *effective* entries — free and not
//! inert ([`inert_mask`]: entries whose gradient is identically 0 because they only multiply
//! zero rows of `Z_0`, or only write rows or columns the readout never reads), in the better
//! sign [`gauge`] of the target-memory row (a change of basis that leaves the function unchanged).
//!
//! **Held-out**: 200 fresh MRPs (tag `dynamics/train-softmax-heldout`), one window each; the
//! readouts of the model (first `k` layers, `k = 1..=L`) and of the construction (`α_l = 1`,
//! `k = 1..=2L`), both by the canonical forward pass `attention::softmax::query_readouts`,
//! against the true value `v_π(S_n)` from `crate::mdp::values::mrp_value` (the reference side).

use super::softmax_grad::{layers_from, readout_grad_into, readout_into, theta_of, GradWorkspace};
use crate::attention::softmax::{prompt, query_readouts};
use crate::construction::softmax::Parts;
use crate::error::InputError;
use crate::linalg::Mat;
use crate::mdp::features::Features;
use crate::mdp::generators::random_mrp;
use crate::mdp::rollout::mrp_rollout;
use crate::rng::case_rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use serde::Serialize;

/// Prompts per parallel chunk (fixed, so the reduction order does not depend on threads).
pub const CHUNK: usize = 8;
/// Held-out MRPs.
pub const HELDOUT: u64 = 200;

/// Configuration of `icrl train softmax-td`.
#[derive(Clone, Debug)]
pub struct SoftmaxTdConfig {
    /// Feature dimension `d` (prompt rows `d + 3`).
    pub d: usize,
    /// `|S|` of every random MRP.
    pub n_states: usize,
    /// Context length `n` (transitions per window; prompt columns `n + 1`).
    pub n: usize,
    /// Layers `L`.
    pub layers: usize,
    /// `γ`.
    pub gamma: f64,
    /// Training MRPs = Adam steps (one minibatch per MRP).
    pub mrps: usize,
    /// Prompts (sliding windows of one trajectory) per Adam step.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Xavier-normal gain of the init of the free entries.
    pub init_gain: f64,
    /// Seed.
    pub seed: u64,
    /// Train every entry (no sparsity mask).
    pub dense: bool,
    /// Minibatches (Adam steps) per MRP, each its own stretch of the MRP's trajectory (`1`: one
    /// step per MRP).
    pub batches_per_mrp: usize,
    /// Adam's coupled L2 weight decay `λ` (`g ← g + λθ` before the moments, as `train td`'s).
    pub weight_decay: f64,
    /// Representable rewards: `r = (I − γP)Φw` with `w ~ N(0, I_d)`, so `v_π = Φw` (training and
    /// held-out MRPs alike).
    pub representable: bool,
    /// The MRP family: `None` is random Dirichlet MRPs (the default); `Some` a `train td` family
    /// (Boyan chains or [WB]'s Loop).
    pub env: Option<super::train_td::TdEnv>,
    /// Progress bar on stderr.
    pub progress: bool,
}

impl SoftmaxTdConfig {
    /// The default setting of `icrl train softmax-td` (the [XZ]-like sizes of `report neu`;
    /// `proofs/xz-emergence.md` gives its run time and what it recovers).
    pub fn default_setting(seed: u64) -> Self {
        SoftmaxTdConfig {
            d: 3,
            n_states: 5,
            n: 20,
            layers: 3,
            gamma: 0.9,
            mrps: 4000,
            batch: 32,
            lr: 3e-3,
            init_gain: 0.1,
            seed,
            dense: false,
            batches_per_mrp: 1,
            weight_decay: 0.0,
            representable: false,
            env: None,
            progress: false,
        }
    }

    /// Check every field (the names are the future CLI flags' fields).
    pub fn validate(&self) -> Result<(), InputError> {
        for (name, v) in [
            ("d", self.d),
            ("mrps", self.mrps),
            ("batch", self.batch),
            ("n", self.n),
            ("layers", self.layers),
            ("batches_per_mrp", self.batches_per_mrp),
        ] {
            if v == 0 {
                return Err(InputError::new(name, "must be at least 1"));
            }
        }
        if self.n_states < 2 {
            return Err(InputError::new("n_states", "random MRPs need at least 2 states"));
        }
        crate::mdp::validate_gamma("gamma", self.gamma)?;
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(InputError::new("lr", format!("must be finite and > 0, got {}", self.lr)));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(InputError::new("weight_decay", format!("must be finite and ≥ 0, got {}", self.weight_decay)));
        }
        if !(self.init_gain.is_finite() && self.init_gain >= 0.0) {
            return Err(InputError::new("--init-gain", format!("must be finite and ≥ 0, got {}", self.init_gain)));
        }
        let (work, _) = self.cost();
        if work > MAX_WORK {
            return Err(InputError::new(
                "mrps",
                format!(
                    "the run would take about {work:.1e} multiply-adds, more than {MAX_WORK:.0e}; use smaller sizes"
                ),
            ));
        }
        Ok(())
    }

    /// `(multiply-adds, bytes)` of one run, estimated before running: `~ (rows² cols + rows cols²)`
    /// multiply-adds per layer, three passes (forward now, backward, forward next) per prompt;
    /// memory: `θ`, its gradient and Adam's two moments, plus one workspace of `L + 1` prompt-sized
    /// matrices and `L` score matrices per chunk of prompts. Computed in `f64`, so huge sizes give
    /// a huge (not a wrapped) estimate.
    pub fn cost(&self) -> (f64, f64) {
        let (r, c) = ((self.d + 3) as f64, (self.n + 1) as f64);
        let layers = self.layers as f64;
        let steps = self.mrps as f64 * self.batches_per_mrp as f64;
        let work = 12.0 * (r * r * c + r * c * c) * layers * self.batch as f64 * steps;
        let chunks = (self.batch as f64 / CHUNK as f64).ceil().max(1.0);
        let bytes = 8.0 * (4.0 * 3.0 * layers * r * r + chunks * ((layers + 1.0) * r * c + layers * c * c) * 4.0);
        (work, bytes)
    }

    /// The configuration as the report's `sizes` echo it; the options beyond the default setting's
    /// keys (`batches_per_mrp`, `weight_decay`, `representable`, `env`) appear only when not the
    /// default, so default reports keep their keys.
    pub fn echo(&self) -> serde_json::Value {
        let mut z = serde_json::json!({"d": self.d, "n_states": self.n_states, "n": self.n, "layers": self.layers,
            "gamma": self.gamma, "mrps": self.mrps, "batch": self.batch, "lr": self.lr, "init_gain": self.init_gain,
            "dense": self.dense});
        if self.batches_per_mrp != 1 {
            z["batches_per_mrp"] = serde_json::json!(self.batches_per_mrp);
        }
        if self.weight_decay != 0.0 {
            z["weight_decay"] = serde_json::json!(self.weight_decay);
        }
        if self.representable {
            z["representable"] = serde_json::json!(true);
        }
        if let Some(e) = self.env {
            z["env"] = serde_json::json!(e.name());
        }
        z
    }

    /// Parameters `3 L (d+3)²` (free or not).
    pub fn n_params(&self) -> usize {
        3 * self.layers * (self.d + 3) * (self.d + 3)
    }
}

/// Upper bound on the multiply-adds of one training run (about an hour on one core).
pub const MAX_WORK: f64 = 1e13;

/// `θ_con`: the construction with `α_l = alpha` in every layer, in the flat layout.
pub fn construction_theta(d: usize, gamma: f64, layers: usize, alpha: f64) -> Vec<f64> {
    theta_of(&Parts::new(d, gamma).two_head_stack(&vec![alpha; layers]))
}

/// The free entries: every entry if `dense`, else the support of the construction
/// ([`construction_theta`] at `γ = 1`, `α = 1`, whose support is that of every `γ ≠ 0`, `α ≠ 0`).
pub fn free_mask(d: usize, layers: usize, dense: bool) -> Vec<bool> {
    construction_theta(d, 1.0, layers, 1.0).iter().map(|&x| dense || x != 0.0).collect()
}

/// Entries whose gradient is identically zero for every prompt and every `θ` (structural):
/// - layer 0: `A_0[i, k]` with `i` or `k` in the memory rows `{d+1, d+2}`, and the columns
///   `d+1, d+2` of `V¹_0`, `V²_0` (they multiply the memory rows of `Z_0`, which are 0);
/// - layer `L−1`: all of `V²_{L−1}` (the shift leaves the query column 0, and `Z_L` is read only
///   at `[d+2, n]`), and the rows `i ≠ d+2` of `V¹_{L−1}` (they write rows the readout skips).
///
/// `tests/all/train_softmax.rs` checks that these are exactly the entries with zero gradient at
/// random dense `θ`.
pub fn inert_mask(d: usize, layers: usize) -> Vec<bool> {
    let w = d + 3;
    let b = w * w;
    let mut m = vec![false; 3 * layers * b];
    let mem = |i: usize| i == d + 1 || i == d + 2;
    for i in 0..w {
        for k in 0..w {
            if mem(i) || mem(k) {
                m[i * w + k] = true;
            }
            if mem(k) {
                m[b + i * w + k] = true;
                m[2 * b + i * w + k] = true;
            }
            let last = 3 * (layers - 1) * b;
            m[last + 2 * b + i * w + k] = true;
            if i != d + 2 {
                m[last + b + i * w + k] = true;
            }
        }
    }
    m
}

/// Xavier-normal init of the free entries (the others 0).
pub fn init_theta(cfg: &SoftmaxTdConfig, free: &[bool]) -> Vec<f64> {
    let mut rng = case_rng(cfg.seed, "dynamics/train-softmax-init", 0);
    let w = (cfg.d + 3) as f64;
    let nd = Normal::new(0.0, cfg.init_gain * (2.0 / (2.0 * w)).sqrt()).expect("finite std");
    free.iter().map(|&f| if f { nd.sample(&mut rng) } else { 0.0 }).collect()
}

/// The windows of one training step: prompts `Z_j` of the windows `S_j … S_{j+n}`,
/// `j = 0..=batch`, and the rewards `R_{j+n+1} = r(S_{j+n})`, `j < batch`.
pub struct StepData {
    /// `batch + 1` prompts; prompt `j`'s TD target bootstraps on window `j + 1`.
    pub windows: Vec<Mat<f64>>,
    /// `batch` rewards between the queries.
    pub rewards: Vec<f64>,
}

/// The data of Adam step `t` under `cfg` (tag `dynamics/train-softmax`, case `t`).
pub fn step_data(cfg: &SoftmaxTdConfig, t: u64) -> StepData {
    let m = cfg.batches_per_mrp as u64;
    let (k, b) = ((t / m), (t % m) as usize);
    let mut rng = case_rng(cfg.seed, "dynamics/train-softmax", k);
    let (mrp, x) = draw_mrp(cfg, &mut rng);
    let traj = mrp_rollout(&mut rng, &mrp, cfg.n + cfg.batch * cfg.batches_per_mrp);
    let (st, rw) = (&traj.states, &traj.rewards);
    let o = b * cfg.batch;
    let windows = (o..=o + cfg.batch).map(|j| prompt(&x, 1.0, &st[j..=j + cfg.n], &rw[j..j + cfg.n])).collect();
    StepData { windows, rewards: (o..o + cfg.batch).map(|j| rw[j + cfg.n]).collect() }
}

/// One MRP of the configured family and its features `Unif(−1, 1)^d` (`--env`, `--representable`).
fn draw_mrp(cfg: &SoftmaxTdConfig, rng: &mut crate::rng::Rng) -> (crate::mdp::Mrp, Features) {
    let mrp = match cfg.env {
        None => random_mrp(rng, cfg.n_states, cfg.gamma),
        Some(e) => e.draw(rng, cfg.n_states, cfg.gamma),
    };
    let x = Features::random(rng, cfg.n_states, 1, cfg.d);
    if cfg.representable {
        (crate::mdp::generators::representable(rng, &mrp, &x).0, x)
    } else {
        (mrp, x)
    }
}

/// One chunk's reusable buffers.
#[derive(Clone, Debug)]
struct ChunkWs {
    ws: GradWorkspace,
    grad: Vec<f64>,
    acc: Vec<f64>,
    loss: f64,
}

/// Mean loss `½ δ²` of a minibatch at `theta` and its gradient `−mean δ ∇v̂` (into `grad`),
/// with `pool` holding one workspace per chunk; bit-identical at any thread count.
fn minibatch_grad(
    data: &StepData,
    theta: &[f64],
    d: usize,
    gamma: f64,
    pool: &mut Vec<ChunkWs>,
    grad: &mut [f64],
) -> f64 {
    let layers = layers_from(theta, d);
    let b = data.rewards.len();
    let chunks = b.div_ceil(CHUNK);
    let p = theta.len();
    pool.resize_with(chunks, || ChunkWs { ws: GradWorkspace::new(), grad: vec![0.0; p], acc: vec![0.0; p], loss: 0.0 });
    pool.par_iter_mut().enumerate().for_each(|(ci, cw)| {
        cw.acc.fill(0.0);
        cw.loss = 0.0;
        for j in ci * CHUNK..((ci + 1) * CHUNK).min(b) {
            let boot = readout_into(&data.windows[j + 1], &layers, &mut cw.ws);
            let v = readout_grad_into(&data.windows[j], &layers, &mut cw.ws, &mut cw.grad);
            let delta = data.rewards[j] + gamma * boot - v;
            for (a, g) in cw.acc.iter_mut().zip(&cw.grad) {
                *a -= delta * g;
            }
            cw.loss += 0.5 * delta * delta;
        }
    });
    grad.fill(0.0);
    let mut loss = 0.0;
    for cw in pool.iter().take(chunks) {
        for (g, a) in grad.iter_mut().zip(&cw.acc) {
            *g += a;
        }
        loss += cw.loss;
    }
    let inv = 1.0 / b as f64;
    for g in grad.iter_mut() {
        *g *= inv;
    }
    loss * inv
}

/// The minibatch loss and its gradient at `theta` (for the finite-difference tests; the same
/// code the training runs).
pub fn minibatch_loss_grad(data: &StepData, theta: &[f64], d: usize, gamma: f64) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; theta.len()];
    let l = minibatch_grad(data, theta, d, gamma, &mut Vec::new(), &mut g);
    (l, g)
}

/// The minibatch loss at `theta` with the bootstrap values `boot` held fixed (the detached
/// target), by the canonical forward pass: what [`minibatch_loss_grad`] differentiates.
pub fn minibatch_loss_detached(data: &StepData, theta: &[f64], d: usize, gamma: f64, boot: &[f64]) -> f64 {
    let layers = layers_from(theta, d);
    let b = data.rewards.len();
    (0..b)
        .map(|j| {
            let v = super::softmax_grad::readout(&data.windows[j], &layers);
            let delta = data.rewards[j] + gamma * boot[j] - v;
            0.5 * delta * delta
        })
        .sum::<f64>()
        / b as f64
}

/// Structure of one layer against the construction (see `proofs/xz-emergence.md`). A cosine is
/// `None` where the block has no effective entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerStructure {
    /// `cos(A_l, diag(I_d, 0))` on the effective entries (positive iff the scale `a > 0`).
    pub cos_a: Option<f64>,
    /// `a = ⟨A_l, A⋆⟩ / ‖A⋆‖²` (the learned inverse temperature on the effective entries).
    pub a_hat: Option<f64>,
    /// `cos(V¹_l, e_{d+2} uᵀ)` on the effective entries.
    pub cos_v1: Option<f64>,
    /// `cos(V²_l, γ e_{d+1} uᵀ)` on the effective entries.
    pub cos_v2: Option<f64>,
    /// `α¹ = ⟨V¹_l, e_{d+2}uᵀ⟩ / ‖e_{d+2}uᵀ‖²` on the effective entries (the learned step).
    pub alpha1_hat: Option<f64>,
    /// `α² = ⟨V²_l, γ e_{d+1}uᵀ⟩ / ‖γ e_{d+1}uᵀ‖²` (equal to `α¹` in the construction).
    pub alpha2_hat: Option<f64>,
}

/// `(cos, scale)` of `x` against `y` over the entries with `keep`; `None` if none is kept.
/// `cos = 0` when `x` vanishes there.
pub fn masked_cosine(x: &[f64], y: &[f64], keep: &[bool]) -> Option<(f64, f64)> {
    let (mut xy, mut xx, mut yy, mut any) = (0.0, 0.0, 0.0, false);
    for ((a, b), &k) in x.iter().zip(y).zip(keep) {
        if k {
            any = true;
            xy += a * b;
            xx += a * a;
            yy += b * b;
        }
    }
    if !any || yy == 0.0 {
        return None;
    }
    let cos = if xx == 0.0 { 0.0 } else { xy / (xx.sqrt() * yy.sqrt()) };
    Some((cos, xy / yy))
}

/// Per-layer structure of `theta` (flat layout) against the construction at `γ`, over the
/// effective entries `effective` (free and not inert).
pub fn layer_structure(theta: &[f64], d: usize, gamma: f64, effective: &[bool]) -> Vec<LayerStructure> {
    let b = (d + 3) * (d + 3);
    let layers = theta.len() / (3 * b);
    let con = construction_theta(d, gamma, layers, 1.0);
    (0..layers)
        .map(|l| {
            let blk = |h: usize| {
                let r = (3 * l + h) * b..(3 * l + h + 1) * b;
                masked_cosine(&theta[r.clone()], &con[r.clone()], &effective[r])
            };
            let (a, v1, v2) = (blk(0), blk(1), blk(2));
            LayerStructure {
                cos_a: a.map(|x| x.0),
                a_hat: a.map(|x| x.1),
                cos_v1: v1.map(|x| x.0),
                cos_v2: v2.map(|x| x.0),
                alpha1_hat: v1.map(|x| x.1),
                alpha2_hat: v2.map(|x| x.1),
            }
        })
        .collect()
}

/// `structure_cosine`: the minimum over layers and blocks of the defined cosines.
pub fn structure_cosine(layers: &[LayerStructure]) -> f64 {
    layers.iter().flat_map(|s| [s.cos_a, s.cos_v1, s.cos_v2]).flatten().fold(f64::INFINITY, f64::min)
}

/// The model after the change of basis `D_c = diag(1, …, 1, c, 1)` of the target-memory row
/// `d+1` (`c ≠ 0`): `A_l → D⁻¹ A_l D⁻¹`, `V_{h,l} → D V_{h,l} D⁻¹` in every layer. It computes the
/// same readout for every prompt (`Z_l → D Z_l`: `Z_0`'s row `d+1` is 0, the scores are
/// unchanged, and the readout row `d+2` is not scaled), and maps the construction's support
/// to itself, so a structure metric must not tell `θ` from `gauge(θ, c)`.
pub fn gauge(theta: &[f64], d: usize, c: f64) -> Vec<f64> {
    rescale_row(theta, d, d + 1, c)
}

/// The change of basis `D = diag(1, …, c, …, 1)` (`c` at `row`) applied to every layer:
/// `A_l → D⁻¹ A_l D⁻¹`, `V_{h,l} → D V_{h,l} D⁻¹`. At `row = d + 1` it is [`gauge`], a symmetry;
/// at the readout row `d + 2` it is not (the tests' negative control).
pub fn rescale_row(theta: &[f64], d: usize, row: usize, c: f64) -> Vec<f64> {
    let w = d + 3;
    let b = w * w;
    let dg = |i: usize| if i == row { c } else { 1.0 };
    theta
        .iter()
        .enumerate()
        .map(|(idx, &x)| {
            let (blk, e) = (idx / b, idx % b);
            let (i, k) = (e / w, e % w);
            if blk % 3 == 0 {
                x / (dg(i) * dg(k))
            } else {
                x * dg(i) / dg(k)
            }
        })
        .collect()
}

/// The structure of `theta` in the better of the two sign gauges `c = ±1` ([`gauge`]): `(c,
/// layers)`, `c = 1` on a tie. The sign of the target-memory row is a discrete symmetry of the
/// function, so the metric must not depend on it. Its scale `|c|` is a continuous symmetry
/// too, which this metric does **not** quotient out (a maximum over `|c|` degenerates: as
/// `|c| → 0` or `∞` each value block collapses onto one entry): a model equal to the
/// construction in a gauge `|c| ≠ 1` scores below 1, so the metric can under-report the
/// structure, never over-report it (`proofs/xz-emergence.md`).
pub fn gauge_fixed_structure(theta: &[f64], d: usize, gamma: f64, effective: &[bool]) -> (f64, Vec<LayerStructure>) {
    let plus = layer_structure(theta, d, gamma, effective);
    let minus = layer_structure(&gauge(theta, d, -1.0), d, gamma, effective);
    if structure_cosine(&minus) > structure_cosine(&plus) {
        (-1.0, minus)
    } else {
        (1.0, plus)
    }
}

/// The effective entries: free and not inert.
pub fn effective_mask(d: usize, layers: usize, dense: bool) -> Vec<bool> {
    free_mask(d, layers, dense).iter().zip(inert_mask(d, layers)).map(|(&f, i)| f && !i).collect()
}

/// The result of `icrl train softmax-td`.
#[derive(Clone, Debug, Serialize)]
pub struct SoftmaxTdReport {
    /// Seed.
    pub seed: u64,
    /// `d, |S|, n, L, γ, mrps, batch, lr, init_gain, dense`.
    pub sizes: serde_json::Value,
    /// Free parameters (of `3 L (d+3)²`).
    pub free_params: usize,
    /// Effective parameters (free and not inert).
    pub effective_params: usize,
    /// Wall seconds of the whole run (training and held-out evaluation).
    pub wall_seconds: f64,
    /// Mean loss of the first 1 % of Adam steps.
    pub loss_first: f64,
    /// Mean loss of the last 1 %.
    pub loss_last: f64,
    /// `min` over layers and blocks of the cosines in `layers` (in the better sign gauge).
    pub structure_cosine: f64,
    /// The sign gauge `c = ±1` of the target-memory row that `layers` is measured in ([`gauge`]).
    pub gauge_c: f64,
    /// `structure_cosine` in the trained model's own basis (`c = 1`).
    pub structure_cosine_c1: f64,
    /// Per layer, in the gauge `gauge_c`.
    pub layers: Vec<LayerStructure>,
    /// Held-out MSVE of the trained model's readout against `v_π(query)`.
    pub heldout_msve_model: f64,
    /// Same for the construction (`α_l = 1`, `L` layers).
    pub heldout_msve_construction: f64,
    /// Same for `v̂ = 0` (the mean of `v_π(query)²`).
    pub heldout_msve_zero: f64,
    /// MSVE of the model's first `k` layers, `k = 1..=L`.
    pub msve_by_depth_model: Vec<f64>,
    /// MSVE of the construction at depth `k = 1..=2L`.
    pub msve_by_depth_construction: Vec<f64>,
    /// The trained `θ` (flat layout of `dynamics::softmax_grad::layers_from`).
    pub theta: Vec<f64>,
}

/// Train and report.
pub fn train(cfg: &SoftmaxTdConfig) -> Result<SoftmaxTdReport, InputError> {
    cfg.validate()?;
    let t0 = std::time::Instant::now();
    let free = free_mask(cfg.d, cfg.layers, cfg.dense);
    let mut theta = init_theta(cfg, &free);
    let mut adam = super::train_sarsa::Adam::new(theta.len());
    let mut grad = vec![0.0; theta.len()];
    let mut pool = Vec::new();
    let steps = cfg.mrps * cfg.batches_per_mrp;
    let mut losses = Vec::with_capacity(steps);
    let bar = if cfg.progress {
        let b = indicatif::ProgressBar::new(steps as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{msg:16} [{bar:40}] {pos}/{len} steps ({per_sec}, eta {eta})")
                .expect("valid")
                .progress_chars("=> "),
        );
        b.set_message("train softmax-td");
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    // Draw the next step's data while training on the current one.
    let mut next = step_data(cfg, 0);
    for t in 0..steps {
        let cur = std::mem::replace(&mut next, StepData { windows: Vec::new(), rewards: Vec::new() });
        let (loss, ()) = rayon::join(
            || {
                let loss = minibatch_grad(&cur, &theta, cfg.d, cfg.gamma, &mut pool, &mut grad);
                for ((g, &f), &x) in grad.iter_mut().zip(&free).zip(&theta) {
                    // Adam's coupled L2 decay on the free entries (`g ← g + λθ`).
                    if !f {
                        *g = 0.0;
                    } else if cfg.weight_decay != 0.0 {
                        *g += cfg.weight_decay * x;
                    }
                }
                loss
            },
            || {
                if t + 1 < steps {
                    next = step_data(cfg, t as u64 + 1);
                }
            },
        );
        adam.step(&mut theta, &grad, cfg.lr);
        losses.push(loss);
        if t % 64 == 0 {
            bar.set_position(t as u64);
        }
    }
    bar.finish_and_clear();
    let effective = effective_mask(cfg.d, cfg.layers, cfg.dense);
    let (gauge_c, layers) = gauge_fixed_structure(&theta, cfg.d, cfg.gamma, &effective);
    let structure_cosine_c1 = structure_cosine(&layer_structure(&theta, cfg.d, cfg.gamma, &effective));
    let h = heldout(cfg, &theta);
    let kk = (losses.len() / 100).max(1);
    Ok(SoftmaxTdReport {
        seed: cfg.seed,
        sizes: cfg.echo(),
        free_params: free.iter().filter(|&&f| f).count(),
        effective_params: effective.iter().filter(|&&f| f).count(),
        wall_seconds: t0.elapsed().as_secs_f64(),
        loss_first: losses[..kk].iter().sum::<f64>() / kk as f64,
        loss_last: losses[losses.len() - kk..].iter().sum::<f64>() / kk as f64,
        structure_cosine: structure_cosine(&layers),
        gauge_c,
        structure_cosine_c1,
        layers,
        heldout_msve_model: h.model[cfg.layers - 1],
        heldout_msve_construction: h.construction[cfg.layers - 1],
        heldout_msve_zero: h.zero,
        msve_by_depth_model: h.model,
        msve_by_depth_construction: h.construction,
        theta,
    })
}

/// Held-out MSVE by depth.
#[derive(Clone, Debug, PartialEq)]
pub struct Heldout {
    /// Model, depth `1..=L`.
    pub model: Vec<f64>,
    /// Construction (`α_l = 1`), depth `1..=2L`.
    pub construction: Vec<f64>,
    /// `v̂ = 0`.
    pub zero: f64,
}

/// Held-out MSVE of `theta` and of the construction on [`HELDOUT`] fresh MRPs, by depth
/// (parallel over MRPs, summed in MRP order).
pub fn heldout(cfg: &SoftmaxTdConfig, theta: &[f64]) -> Heldout {
    let model = layers_from(theta, cfg.d);
    let con = Parts::new(cfg.d, cfg.gamma).two_head_stack(&vec![1.0; 2 * cfg.layers]);
    let per: Vec<(Vec<f64>, Vec<f64>, f64)> = (0..HELDOUT)
        .into_par_iter()
        .map(|k| {
            let mut rng = case_rng(cfg.seed, "dynamics/train-softmax-heldout", k);
            let (mrp, x) = draw_mrp(cfg, &mut rng);
            let traj = mrp_rollout(&mut rng, &mrp, cfg.n);
            let v = crate::mdp::values::mrp_value(&mrp)[traj.states[cfg.n]];
            let z = prompt(&x, 1.0, &traj.states, &traj.rewards);
            let sq = |r: Vec<f64>| r.into_iter().map(|y| (y - v).powi(2)).collect::<Vec<_>>();
            (sq(query_readouts(&z, &model)), sq(query_readouts(&z, &con)), v * v)
        })
        .collect();
    let n = per.len() as f64;
    let model = (0..cfg.layers).map(|i| per.iter().map(|p| p.0[i]).sum::<f64>() / n).collect();
    let construction = (0..2 * cfg.layers).map(|i| per.iter().map(|p| p.1[i]).sum::<f64>() / n).collect();
    Heldout { model, construction, zero: per.iter().map(|p| p.2).sum::<f64>() / n }
}
