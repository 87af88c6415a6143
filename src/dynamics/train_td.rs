//! Emergence of the [WB] TD(0) construction (arXiv:2405.13861; `docs/theory/linear-td.md`,
//! `docs/theory/gradient-flow.md` "Emergence"): train the `L = 3` masked linear transformer
//! `Z_{l+1} = Z_l + (1/n) P_l Z_l M (Z_lᵀ Q_l Z_l)` (readout `v̂ = -Z_L[2d, n]`) with Adam on
//! the semi-gradient mean squared TD error over Boyan-style chains, at [WB]'s setting:
//! 5 000 MRPs × 5 minibatches × 64 sliding prompts, `d = 4, |S| = 10, n = 30, γ = 0.9`,
//! Adam `1e-3`, and report the recovered structure (`P[2d,2d]` dominant; `Q` top-left blocks
//! `≈ [-Cᵀ, Cᵀ]`).
//!
//! **Prompts.** For each MRP one trajectory of `n + 5·64 + 1` transitions; prompt `j` of
//! minibatch `b` has context transitions `k..k+n` (`k = 64b + j`), query `S_{k+n}`, and the
//! TD target `R_{k+n+1} + γ v̂(S_{k+n+1})` with `v̂(S_{k+n+1})` computed on the same context and
//! **detached** (semi-gradient). Loss `½ δ²` averaged over the minibatch.
//!
//! **Speed.** Because of the mask, context columns never read the query column, so the
//! context part of every layer is shared between the two queries; the target's query column is
//! propagated alone (`z_q ← z_q + (1/n) P C (Cᵀ Q z_q)`). With the identity activation (the
//! default) training runs [`prompt_loss_grad_fast`]: the context then evolves linearly,
//! `C_{l+1} = (I + (1/n) P_l C_l C_lᵀ Q_l) C_l`, so every layer is a product of `m × m`
//! matrices (`m = 2d+1`) on the second moment `S_l = C_l C_lᵀ` — about ten times fewer
//! multiply-adds than the `(n+1)×(n+1)` score matrices — computed in a per-thread workspace with
//! no allocation. ReLU and softmax need the scores and run [`prompt_loss_grad_act`]. Both
//! gradients are hand-written backpropagation (checked against finite differences and the fast
//! one against the general one, `tests/all/train_fast.rs`). Prompts of a minibatch are
//! processed in fixed chunks in parallel and summed in chunk order, so a run is bit-identical at
//! any thread count.
//!
//! **Configurable** ([WB]'s `main.py` flags, issue 10): sizes, `γ`, the optimizer's learning
//! rate and weight decay, the environment ([`TdEnv`]: Boyan chains or [WB]'s Loop MRP),
//! representable rewards (`r = (I − γP)Φw`, [WB]'s `--representable`) and the nonlinearity on
//! the attention scores ([`Activation`], [WB]'s `experiment/model.py` form
//! `Z + (1/n) P Z M act(Zᵀ Q Z)`). The defaults ([`TdConfig::wb`]) are [WB]'s setting above with
//! the identity activation, Boyan chains, unrepresentable rewards and no weight decay.

use crate::error::InputError;
use crate::mdp::features::Features;
use crate::mdp::generators::{boyan_chain, loop_mrp, representable, BOYAN, LOOP_THRESHOLD};
use crate::mdp::policy::sample_categorical;
use crate::mdp::Mrp;
use crate::rng::case_rng;
use nalgebra::DMatrix;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use serde::Serialize;

/// [WB]'s Xavier-normal gain (`nn.init.xavier_normal_(·, gain=0.1)`, divided by `L` for
/// independent layers).
pub const WB_GAIN: f64 = 0.1;

/// Largest estimated work of one `icrl train td` run ([`TdConfig::cost`], multiply-adds):
/// `1e13`, about 30× [WB]'s full setting (`≈ 3.2e11` by that estimate, which counts the general
/// path; the identity's fast path does about a tenth of it), i.e. at most about an hour on two
/// cores. Larger settings are refused before anything runs.
pub const MAX_TRAIN_WORK: f64 = 1e13;
/// Largest estimated working memory of one run ([`TdConfig::cost`], bytes): `1e9`.
pub const MAX_TRAIN_MEMORY: f64 = 1e9;

/// The nonlinearity `act` on the attention scores `Z_lᵀ Q_l Z_l` of every layer,
/// `Z_{l+1} = Z_l + (1/n) P_l Z_l M act(Z_lᵀ Q_l Z_l)`: [WB]'s code form
/// (`experiment/model.py`, `Attention.forward`, `get_activation`), not [XZ]'s masked softmax
/// (`attention/softmax.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// Linear attention (the [WB] construction's form; the default).
    #[default]
    Identity,
    /// `softmax` over each **row** of the `(n+1)×(n+1)` score matrix, i.e. for each source
    /// column `i` over the target columns `j = 0..=n` (PyTorch's `nn.Softmax(dim=1)` on
    /// `X = Zᵀ Q Z`, as [WB]'s code applies it). The normalizer includes the query column, so
    /// context columns depend on the query: the target's value takes a full forward pass.
    Softmax,
    /// `max(0, ·)` entrywise (`nn.ReLU()`).
    Relu,
}

impl Activation {
    /// The CLI value (`identity`, `softmax`, `relu`).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Softmax => "softmax",
            Activation::Relu => "relu",
        }
    }
    /// Inverse of [`Activation::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        [Activation::Identity, Activation::Softmax, Activation::Relu].into_iter().find(|a| a.name() == name)
    }
    /// `act(G)`; `None` for the identity (the scores are used as they are).
    fn apply(self, g: &DMatrix<f64>) -> Option<DMatrix<f64>> {
        match self {
            Activation::Identity => None,
            Activation::Relu => Some(g.map(|x| x.max(0.0))),
            Activation::Softmax => {
                let mut h = g.clone();
                for i in 0..h.nrows() {
                    let mut row = h.row_mut(i);
                    let m = row.max();
                    row.apply(|x| *x = (*x - m).exp());
                    let s = row.sum();
                    row /= s;
                }
                Some(h)
            }
        }
    }
    /// `∂L/∂G` from `∂L/∂H`, `H = act(G)`, in place.
    fn backward(self, g: &DMatrix<f64>, h: Option<&DMatrix<f64>>, dh: &mut DMatrix<f64>) {
        match self {
            Activation::Identity => {}
            Activation::Relu => dh.zip_apply(g, |d, x| {
                if x <= 0.0 {
                    *d = 0.0
                }
            }),
            Activation::Softmax => {
                // row-wise: dG[i,j] = H[i,j] (dH[i,j] − Σ_k H[i,k] dH[i,k])
                let h = h.expect("softmax keeps H");
                for i in 0..dh.nrows() {
                    let dot = h.row(i).dot(&dh.row(i));
                    for j in 0..dh.ncols() {
                        dh[(i, j)] = h[(i, j)] * (dh[(i, j)] - dot);
                    }
                }
            }
        }
    }
}

/// The MRP family of `icrl train td` ([WB]'s `--mrp_env`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TdEnv {
    /// Boyan-style chains ([`boyan_chain`]; [WB]'s `MRP/boyan.py`, their default).
    #[default]
    Boyan,
    /// [WB]'s Loop MRP ([`loop_mrp`]; `MRP/loop.py`, threshold `0.5`).
    Loop,
}

impl TdEnv {
    /// The CLI value (`boyan`, `loop`).
    pub fn name(self) -> &'static str {
        match self {
            TdEnv::Boyan => "boyan",
            TdEnv::Loop => "loop",
        }
    }
    /// Inverse of [`TdEnv::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        [TdEnv::Boyan, TdEnv::Loop].into_iter().find(|e| e.name() == name)
    }
    /// Draw one MRP of the family.
    pub fn draw<R: rand::Rng + ?Sized>(self, rng: &mut R, n_states: usize, gamma: f64) -> Mrp {
        match self {
            TdEnv::Boyan => boyan_chain(rng, n_states, gamma),
            TdEnv::Loop => loop_mrp(rng, n_states, gamma, LOOP_THRESHOLD),
        }
    }
}

/// Configuration of `icrl train td`.
#[derive(Clone, Debug)]
pub struct TdConfig {
    /// Training MRPs.
    pub mrps: usize,
    /// Minibatches (Adam steps) per MRP.
    pub minibatches: usize,
    /// Prompts per minibatch.
    pub prompts: usize,
    /// `|S|`.
    pub n_states: usize,
    /// `d`.
    pub d: usize,
    /// Context length `n`.
    pub n: usize,
    /// `γ`.
    pub gamma: f64,
    /// Layers `L`.
    pub layers: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Xavier-normal gain of the init of every `P_l`, `Q_l`. [WB]'s code uses `0.1 / L` for
    /// independent layers (`mode='sequential'`) and `0.1` for the looped model (`mode='auto'`);
    /// our default is `0.1 / L` for both (see `TdConfig::wb`).
    pub init_gain: f64,
    /// Seed.
    pub seed: u64,
    /// Progress bar.
    pub progress: bool,
    /// One `(P, Q)` shared by every layer (a looped transformer), as in [WB]'s code default
    /// (`LinearTransformer(..., mode='auto')`: one `LinearAttention` applied `l` times);
    /// `false` (our default) trains `L` independent layers (`mode='sequential'`).
    pub shared: bool,
    /// The nonlinearity on the attention scores (default identity).
    pub activation: Activation,
    /// The MRP family (default Boyan chains).
    pub env: TdEnv,
    /// Representable rewards: `w ~ N(0, I_d)`, `r = (I − γP) Φ w`, so `v = Φ w` ([WB]'s
    /// `--representable`, `sample_weight=True` in `experiment/train.py`).
    pub representable: bool,
    /// L2 weight decay `λ` in Adam's coupled form (`g ← g + λ x` before the moment estimates),
    /// as PyTorch's `torch.optim.Adam(weight_decay=λ)` that [WB] uses (not AdamW's decoupled
    /// decay). Default 0 ([WB]'s `main.py` default is `1e-6`).
    pub weight_decay: f64,
}

impl TdConfig {
    /// [WB]'s full setting, with [WB]'s `mode='sequential'` init gain `0.1 / L`.
    ///
    /// The gain matters. With gain `0.1` (three times larger) the independent layers recovered
    /// the structure only in the last two layers (seed 0: layer 0 `cos(C_eff, I)` 0.67), and the
    /// looped model (`shared`, [WB]'s `mode='auto'` uses gain 0.1) drifted to large unstructured
    /// weights (seed 0: `P[2d,2d]` ≈ -0.03, `cos(C_eff, I)` ≈ -0.08). With `0.1 / L` both recover
    /// it; the measured seeds are in `proofs/sarsa-emergence.md`.
    pub fn wb(seed: u64) -> Self {
        let (ns, d, n, gamma) = BOYAN;
        let layers = 3;
        TdConfig {
            mrps: 5000,
            minibatches: 5,
            prompts: 64,
            n_states: ns,
            d,
            n,
            gamma,
            layers,
            lr: 1e-3,
            init_gain: WB_GAIN / layers as f64,
            seed,
            progress: false,
            shared: false,
            activation: Activation::Identity,
            env: TdEnv::Boyan,
            representable: false,
            weight_decay: 0.0,
        }
    }
    /// Check every field; an error names the `icrl train td` flag that sets it (`--mrps`, `-d`),
    /// and settings whose [`TdConfig::cost`] exceeds [`MAX_TRAIN_WORK`] or [`MAX_TRAIN_MEMORY`]
    /// are refused.
    pub fn validate(&self) -> Result<(), InputError> {
        for (name, v) in [
            ("--mrps", self.mrps),
            ("--batches-per-mrp", self.minibatches),
            ("--batch-size", self.prompts),
            ("-d", self.d),
            ("-n", self.n),
            ("-l", self.layers),
        ] {
            if v == 0 {
                return Err(InputError::new(name, "must be at least 1"));
            }
        }
        if self.n_states < 2 {
            return Err(InputError::new("--states", format!("{} MRPs need at least 2 states", self.env.name())));
        }
        crate::mdp::validate_gamma("--gamma", self.gamma)?;
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(InputError::new("--lr", format!("must be a positive finite number, got {}", self.lr)));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(InputError::new(
                "--weight-decay",
                format!("must be finite and ≥ 0, got {}", self.weight_decay),
            ));
        }
        if !(self.init_gain.is_finite() && self.init_gain >= 0.0) {
            return Err(InputError::new("--init-gain", format!("must be finite and ≥ 0, got {}", self.init_gain)));
        }
        let (work, bytes) = self.cost();
        if !(work <= MAX_TRAIN_WORK) {
            return Err(InputError::new(
                "--mrps",
                format!(
                    "estimated work {work:.2e} multiply-adds (--mrps × --batches-per-mrp × --batch-size × -l × \
                     6(m²(n+1) + m(n+1)²), m = 2d+1, plus 200 |S|³ held-out solves) exceeds the limit \
                     {MAX_TRAIN_WORK:.0e}; reduce --mrps, --batches-per-mrp, --batch-size, -l, -n, -d or --states"
                ),
            ));
        }
        if !(bytes <= MAX_TRAIN_MEMORY) {
            return Err(InputError::new(
                "--batch-size",
                format!(
                    "estimated memory {bytes:.2e} bytes (two MRPs' prompts, --batches-per-mrp × --batch-size × \
                     (2d+1)(n+2) numbers each, and |S|² per MRP) exceeds the limit {MAX_TRAIN_MEMORY:.0e}"
                ),
            ));
        }
        Ok(())
    }
    /// Estimated `(work, memory)` of a run, in overflow-free `f64`: work in multiply-adds,
    /// `mrps · batches · prompts · L · 6 (m²(n+1) + m(n+1)²)` (forward `QZ`, `ZᵀQZ`, `PZ`, `AH`
    /// and about twice that backward, `m = 2d+1`) plus `mrps · |S|²` to draw the MRPs and
    /// `200 · (|S|³ + 2 L m (n+1)²)` for the held-out set; memory in bytes,
    /// `8 · (2 · batches · prompts · m (n+2) + 4 |S|² + 4 L m²) + 8 · mrps · batches` (two MRPs'
    /// prompts, the MRP, parameters, Adam state and gradients, the loss curve).
    pub fn cost(&self) -> (f64, f64) {
        let f = |x: usize| x as f64;
        let (m, n1, ns, l) = (2.0 * f(self.d) + 1.0, f(self.n) + 1.0, f(self.n_states), f(self.layers));
        let prompts = f(self.mrps) * f(self.minibatches) * f(self.prompts);
        let per_layer = 6.0 * (m * m * n1 + m * n1 * n1);
        let work = prompts * l * per_layer + f(self.mrps) * ns * ns + 200.0 * (ns * ns * ns + 2.0 * l * m * n1 * n1);
        let bytes = 8.0
            * (2.0 * f(self.minibatches) * f(self.prompts) * m * (n1 + 1.0) + 4.0 * ns * ns + 4.0 * l * m * m)
            + 8.0 * f(self.mrps) * f(self.minibatches);
        (work, bytes)
    }
    /// The configuration echo of the report (`sizes` in the JSON). Keys of the options added
    /// for issue 10 (`activation`, `env`, `representable`, `weight_decay`) appear only when they
    /// differ from the default, so a default run's report is what it was before them.
    pub fn echo(&self) -> serde_json::Value {
        let mut z = serde_json::json!({"d": self.d, "n": self.n, "layers": self.layers, "n_states": self.n_states, "gamma": self.gamma, "lr": self.lr, "init_gain": self.init_gain, "shared_layers": self.shared});
        if self.activation != Activation::Identity {
            z["activation"] = serde_json::json!(self.activation.name());
        }
        if self.env != TdEnv::Boyan {
            z["env"] = serde_json::json!(self.env.name());
        }
        if self.representable {
            z["representable"] = serde_json::json!(true);
        }
        if self.weight_decay != 0.0 {
            z["weight_decay"] = serde_json::json!(self.weight_decay);
        }
        z
    }
    /// Draw MRP `k`'s chain and features from `rng` (the same draws for training and held-out).
    fn draw(&self, rng: &mut crate::rng::Rng) -> (Mrp, Features) {
        let mrp = self.env.draw(rng, self.n_states, self.gamma);
        let x = Features::random(rng, self.n_states, 1, self.d);
        if self.representable {
            let (mrp, _) = representable(rng, &mrp, &x);
            (mrp, x)
        } else {
            (mrp, x)
        }
    }
}

/// Parameters `(P_l, Q_l)`, `l < L`, each `(2d+1)×(2d+1)`. The nonlinearity on the scores is
/// an argument of the `*_act` functions (the plain ones are the identity, [WB]'s construction).
#[derive(Clone, Debug)]
pub struct TdModel {
    /// `P_l`.
    pub p: Vec<DMatrix<f64>>,
    /// `Q_l`.
    pub q: Vec<DMatrix<f64>>,
}

impl TdModel {
    fn zeros_like(&self) -> Self {
        TdModel { p: self.p.iter().map(|m| m * 0.0).collect(), q: self.q.iter().map(|m| m * 0.0).collect() }
    }
    /// Flatten (P_0, Q_0, P_1, …), column-major entries.
    pub fn flat(&self) -> Vec<f64> {
        let mut v = Vec::new();
        for (p, q) in self.p.iter().zip(&self.q) {
            v.extend_from_slice(p.as_slice());
            v.extend_from_slice(q.as_slice());
        }
        v
    }
    /// Inverse of [`TdModel::flat`].
    pub fn set_flat(&mut self, x: &[f64]) {
        let mut k = 0;
        for (p, q) in self.p.iter_mut().zip(self.q.iter_mut()) {
            let m = p.len();
            p.as_mut_slice().copy_from_slice(&x[k..k + m]);
            k += m;
            q.as_mut_slice().copy_from_slice(&x[k..k + m]);
            k += m;
        }
    }
}

/// One prompt: context `C` (`(2d+1) × n`), query features, next-query features, reward.
#[derive(Clone, Debug)]
pub struct TdPrompt {
    /// Context columns `[φ_i; γφ'_i; r_i]`.
    pub ctx: DMatrix<f64>,
    /// `φ(S_q)`.
    pub phi_q: Vec<f64>,
    /// `φ(S_{q+1})`.
    pub phi_next: Vec<f64>,
    /// `R_{q+1} = r(S_q)`.
    pub reward: f64,
    /// `γ`.
    pub gamma: f64,
}

fn z0(p: &TdPrompt) -> DMatrix<f64> {
    z0_with(p, &p.phi_q)
}

/// The prompt's context with `phi` as the query column.
fn z0_with(p: &TdPrompt, phi: &[f64]) -> DMatrix<f64> {
    let (m, n) = (p.ctx.nrows(), p.ctx.ncols());
    let mut z = DMatrix::zeros(m, n + 1);
    z.columns_mut(0, n).copy_from(&p.ctx);
    for (k, x) in phi.iter().enumerate() {
        z[(k, n)] = *x;
    }
    z
}

/// Forward pass of the linear model (identity activation); returns every `Z_l` (`l = 0..=L`).
pub fn forward(model: &TdModel, z_in: DMatrix<f64>) -> Vec<DMatrix<f64>> {
    forward_act(model, Activation::Identity, z_in)
}

/// Forward pass with `act` on the scores; returns every `Z_l` (`l = 0..=L`).
pub fn forward_act(model: &TdModel, act: Activation, z_in: DMatrix<f64>) -> Vec<DMatrix<f64>> {
    let n = z_in.ncols() - 1;
    let inv_n = 1.0 / n as f64;
    let mut zs = vec![z_in];
    for (p, q) in model.p.iter().zip(&model.q) {
        let z = zs.last().expect("nonempty");
        let g = z.transpose() * (q * z);
        let h = act.apply(&g);
        let mut a = p * z;
        a.column_mut(n).fill(0.0); // mask: the query is never a source
        let znew = z + (a * h.as_ref().unwrap_or(&g)) * inv_n;
        zs.push(znew);
    }
    zs
}

/// The detached target's `v̂(S_{q+1})` on the prompt's context: with an entrywise activation
/// (identity, ReLU) only the query column is propagated ([`query_value`]); the row softmax's
/// normalizer reads the query column, so there it is a full forward pass.
fn target_value(model: &TdModel, act: Activation, zs: &[DMatrix<f64>], pr: &TdPrompt) -> f64 {
    match act {
        Activation::Identity | Activation::Relu => query_value(model, act, zs, &pr.phi_next),
        Activation::Softmax => {
            let zs = forward_act(model, act, z0_with(pr, &pr.phi_next));
            let z = zs.last().expect("nonempty");
            -z[(z.nrows() - 1, z.ncols() - 1)]
        }
    }
}

/// `v̂ = -Z_L[2d, n]` of a query given the context of every layer (`zs` of another query on the
/// same context): only the query column is propagated (valid for an entrywise activation).
fn query_value(model: &TdModel, act: Activation, zs: &[DMatrix<f64>], phi: &[f64]) -> f64 {
    let m = zs[0].nrows();
    let n = zs[0].ncols() - 1;
    let inv_n = 1.0 / n as f64;
    let mut zq = nalgebra::DVector::zeros(m);
    for (k, x) in phi.iter().enumerate() {
        zq[k] = *x;
    }
    for (l, (p, q)) in model.p.iter().zip(&model.q).enumerate() {
        let c = zs[l].columns(0, n);
        let mut s = c.transpose() * (q * &zq);
        if act == Activation::Relu {
            s.apply(|x| *x = x.max(0.0));
        }
        zq += p * (c * s) * inv_n;
    }
    -zq[m - 1]
}

/// `v̂` of a prompt's query (full forward pass, identity activation).
pub fn predict(model: &TdModel, p: &TdPrompt) -> f64 {
    predict_act(model, Activation::Identity, p)
}

/// `v̂` of a prompt's query with `act` on the scores (full forward pass).
pub fn predict_act(model: &TdModel, act: Activation, p: &TdPrompt) -> f64 {
    let zs = forward_act(model, act, z0(p));
    let z = zs.last().expect("nonempty");
    -z[(z.nrows() - 1, z.ncols() - 1)]
}

/// Semi-gradient loss `½ δ²` of one prompt and its gradient (added into `grad`), identity
/// activation, through the fast path [`prompt_loss_grad_fast`] that `train` runs.
pub fn prompt_loss_grad(model: &TdModel, pr: &TdPrompt, grad: &mut TdModel) -> f64 {
    let mut g = vec![0.0; model.flat().len()];
    let loss = prompt_loss_grad_fast(model, pr, &mut g, &mut TdWork::default());
    let mut flat = grad.flat();
    flat.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
    grad.set_flat(&flat);
    loss
}

/// The semi-gradient loss and gradient with `act` on the scores, through full `(n+1)×(n+1)`
/// score matrices (hand-written backward through `act`). `train` runs it for ReLU and softmax;
/// with the identity it is the reference that [`prompt_loss_grad_fast`] is tested against.
pub fn prompt_loss_grad_act(model: &TdModel, act: Activation, pr: &TdPrompt, grad: &mut TdModel) -> f64 {
    // Forward, caching per layer `Q Z`, `G = Zᵀ Q Z`, `H = act(G)` and `A = P Z M` for the
    // backward pass.
    let mut z = z0(pr);
    let m = z.nrows();
    let n = z.ncols() - 1;
    let inv_n = 1.0 / n as f64;
    let layers = model.p.len();
    let mut zs = Vec::with_capacity(layers + 1);
    let mut cache = Vec::with_capacity(layers);
    for (p, q) in model.p.iter().zip(&model.q) {
        let qz = q * &z;
        let g = z.tr_mul(&qz);
        let h = act.apply(&g);
        let mut a = p * &z;
        a.column_mut(n).fill(0.0); // mask: the query is never a source
        let znew = &z + (&a * h.as_ref().unwrap_or(&g)) * inv_n;
        zs.push(std::mem::replace(&mut z, znew));
        cache.push((qz, g, h, a));
    }
    let v = -z[(m - 1, n)];
    zs.push(z);
    let v_next = target_value(model, act, &zs, pr); // detached
    let delta = pr.reward + pr.gamma * v_next - v;
    // dL/dv̂ = -δ, v̂ = -Z_L[2d, n]  ⇒  dL/dZ_L[2d, n] = δ
    let mut dz = DMatrix::zeros(m, n + 1);
    dz[(m - 1, n)] = delta;
    for l in (0..layers).rev() {
        let (p, q, z) = (&model.p[l], &model.q[l], &zs[l]);
        let (qz, g, h, a) = &cache[l];
        // Z' = Z + (1/n) A H with A = P Z M, H = act(G), G = Zᵀ Q Z
        let da = (&dz * h.as_ref().unwrap_or(g).transpose()) * inv_n;
        let mut dg = a.tr_mul(&dz) * inv_n; // ∂L/∂H, then ∂L/∂G
        act.backward(g, h.as_ref(), &mut dg);
        grad.p[l] += da.columns(0, n) * z.columns(0, n).transpose();
        let mut pda = p.tr_mul(&da);
        pda.column_mut(n).fill(0.0);
        let zdg = z * &dg;
        grad.q[l] += &zdg * z.transpose();
        let dz_prev = &dz + pda + qz * dg.transpose() + q.tr_mul(&zdg);
        dz = dz_prev;
    }
    0.5 * delta * delta
}

// ---------------------------------------------------------------------------------------------
// The fast path (identity activation): everything in `m × m` second moments.
// ---------------------------------------------------------------------------------------------

/// Per-thread workspace of [`prompt_loss_grad_fast`]: every per-layer product of one prompt,
/// reused across prompts (no allocation per prompt or layer). Matrices are `m × m`,
/// column-major like `DMatrix` (`(i, j)` at `i + j m`), `m = 2d + 1`.
#[derive(Clone, Debug, Default)]
pub struct TdWork {
    m: usize,
    layers: usize,
    /// `S_l = C_l C_lᵀ`, `l < L`.
    s: Vec<f64>,
    /// `P_l S_l`.
    ps: Vec<f64>,
    /// `S_l Q_l`.
    sq: Vec<f64>,
    /// `A_l = I + (1/n) P_l S_l Q_l`, `l < L - 1`.
    a: Vec<f64>,
    /// `A_l S_l`.
    as_: Vec<f64>,
    /// Query column `z_l` of `S_q` and of `S_{q+1}`, `l < L`.
    z: Vec<f64>,
    zn: Vec<f64>,
    // scratch
    da: Vec<f64>,
    ds: Vec<f64>,
    ds2: Vec<f64>,
    w: Vec<f64>,
    dz: Vec<f64>,
    dz2: Vec<f64>,
    v1: Vec<f64>,
    v2: Vec<f64>,
    v3: Vec<f64>,
}

impl TdWork {
    /// A workspace for `m = 2d + 1` and `layers` layers.
    pub fn new(m: usize, layers: usize) -> Self {
        let mut w = TdWork::default();
        w.ensure(m, layers);
        w
    }
    /// Resize for `(m, layers)` (a no-op when the sizes match: the hot loop never allocates).
    fn ensure(&mut self, m: usize, layers: usize) {
        if self.m == m && self.layers == layers {
            return;
        }
        let (mm, ll) = (m * m, layers * m * m);
        self.m = m;
        self.layers = layers;
        for v in [&mut self.s, &mut self.ps, &mut self.sq, &mut self.a, &mut self.as_] {
            v.resize(ll, 0.0);
        }
        for v in [&mut self.z, &mut self.zn] {
            v.resize(layers * m, 0.0);
        }
        for v in [&mut self.da, &mut self.ds, &mut self.ds2, &mut self.w] {
            v.resize(mm, 0.0);
        }
        for v in [&mut self.dz, &mut self.dz2, &mut self.v1, &mut self.v2, &mut self.v3] {
            v.resize(m, 0.0);
        }
    }
}

/// `C += A B` (`m × m`, column-major).
#[inline(always)]
fn mm_nn<D: Dim>(c: &mut [f64], a: &[f64], b: &[f64], m: D) {
    let m = m.get();
    let (c, a, b) = (&mut c[..m * m], &a[..m * m], &b[..m * m]);
    for j in 0..m {
        let cj = &mut c[j * m..(j + 1) * m];
        for k in 0..m {
            let bkj = b[k + j * m];
            for (ci, ai) in cj.iter_mut().zip(&a[k * m..(k + 1) * m]) {
                *ci += ai * bkj;
            }
        }
    }
}

/// `C += Aᵀ B` (`m × m`, column-major): entry `(i, j)` is column `i` of `A` dot column `j` of `B`.
#[inline(always)]
fn mm_tn<D: Dim>(c: &mut [f64], a: &[f64], b: &[f64], m: D) {
    let m = m.get();
    let (c, a, b) = (&mut c[..m * m], &a[..m * m], &b[..m * m]);
    for j in 0..m {
        let bj = &b[j * m..(j + 1) * m];
        for i in 0..m {
            let ai = &a[i * m..(i + 1) * m];
            let mut s = 0.0;
            for (x, y) in ai.iter().zip(bj) {
                s += x * y;
            }
            c[i + j * m] += s;
        }
    }
}

/// `C += A Bᵀ` (`m × m`, column-major).
#[inline(always)]
fn mm_nt<D: Dim>(c: &mut [f64], a: &[f64], b: &[f64], m: D) {
    let m = m.get();
    let (c, a, b) = (&mut c[..m * m], &a[..m * m], &b[..m * m]);
    for j in 0..m {
        let cj = &mut c[j * m..(j + 1) * m];
        for k in 0..m {
            let bjk = b[j + k * m];
            for (ci, ai) in cj.iter_mut().zip(&a[k * m..(k + 1) * m]) {
                *ci += ai * bjk;
            }
        }
    }
}

/// `y = A x` (`m × m` column-major).
#[inline(always)]
fn mv<D: Dim>(y: &mut [f64], a: &[f64], x: &[f64], m: D) {
    let m = m.get();
    let (y, a, x) = (&mut y[..m], &a[..m * m], &x[..m]);
    y.iter_mut().for_each(|v| *v = 0.0);
    for (k, xk) in x.iter().enumerate() {
        for (yi, ai) in y.iter_mut().zip(&a[k * m..(k + 1) * m]) {
            *yi += ai * xk;
        }
    }
}

/// `y = Aᵀ x` (`m × m` column-major).
#[inline(always)]
fn mtv<D: Dim>(y: &mut [f64], a: &[f64], x: &[f64], m: D) {
    let m = m.get();
    let (y, a, x) = (&mut y[..m], &a[..m * m], &x[..m]);
    for (i, yi) in y.iter_mut().enumerate() {
        *yi = a[i * m..(i + 1) * m].iter().zip(x).map(|(p, q)| p * q).sum();
    }
}

/// [`prompt_loss_grad`] (identity activation) through second moments, with the gradient added
/// into `grad` (laid out as [`TdModel::flat`]): mathematically the same function and gradient,
/// about ten times fewer multiply-adds, no allocation.
///
/// With the identity activation and the mask, context columns never read the query, so the
/// context evolves linearly, `C_{l+1} = A_l C_l` with `A_l = I + (1/n) K_l`,
/// `K_l = P_l C_l C_lᵀ Q_l` (since `Z M Zᵀ = C Cᵀ`); hence `S_{l+1} = A_l S_l A_lᵀ` for
/// `S_l = C_l C_lᵀ`, and a query column follows `z_{l+1} = A_l z_l`. One prompt costs
/// `m² n` for `S_0` and `O(L m³)` after it, instead of `O(L (m² (n+1) + m (n+1)²))`; in the last
/// layer only row `2d` of `K` is formed. The backward pass is the chain rule through the same
/// products: `dA = dz zᵀ + (dS + dSᵀ) A S`, `dK = dA/n`, `dP += dK (S Q)ᵀ`,
/// `dQ += (P S)ᵀ dK`, `dS_l = Aᵀ dS A + Pᵀ dK Qᵀ`, `dz_l = Aᵀ dz`. Summation order differs
/// from the general path, so results agree to rounding (tested against it and against finite
/// differences, `tests/all/train_td.rs`).
///
/// The kernel is compiled for `m = 9` ([WB]'s `d = 4`) with the size a constant, so that its
/// `m`-loops unroll, and for every other `m` with the size a value: the same operations in the
/// same order, so the two agree bit for bit.
pub fn prompt_loss_grad_fast(model: &TdModel, pr: &TdPrompt, grad: &mut [f64], ws: &mut TdWork) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if super::train_sarsa::avx2() {
        // SAFETY: the CPU has AVX2.
        return unsafe {
            match pr.ctx.nrows() {
                9 => fast_kernel_avx2(Const::<9>, model, pr, grad, ws),
                m => fast_kernel_avx2(Dyn(m), model, pr, grad, ws),
            }
        };
    }
    match pr.ctx.nrows() {
        9 => fast_kernel(Const::<9>, model, pr, grad, ws),
        m => fast_kernel(Dyn(m), model, pr, grad, ws),
    }
}

/// [`fast_kernel`] compiled with 4-wide vectors (no FMA: the same operations, bit for bit).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fast_kernel_avx2<D: Dim>(dim: D, model: &TdModel, pr: &TdPrompt, grad: &mut [f64], ws: &mut TdWork) -> f64 {
    fast_kernel(dim, model, pr, grad, ws)
}

/// A matrix size, known at compile time ([`Const`]) or at run time ([`Dyn`]).
trait Dim: Copy {
    fn get(self) -> usize;
}
#[derive(Clone, Copy)]
struct Const<const M: usize>;
impl<const M: usize> Dim for Const<M> {
    #[inline(always)]
    fn get(self) -> usize {
        M
    }
}
#[derive(Clone, Copy)]
struct Dyn(usize);
impl Dim for Dyn {
    #[inline(always)]
    fn get(self) -> usize {
        self.0
    }
}

#[inline(always)]
fn fast_kernel<D: Dim>(dim: D, model: &TdModel, pr: &TdPrompt, grad: &mut [f64], ws: &mut TdWork) -> f64 {
    let m = dim.get();
    debug_assert_eq!(m, pr.ctx.nrows());
    let n = pr.ctx.ncols();
    let layers = model.p.len();
    ws.ensure(m, layers);
    let mm = m * m;
    let inv_n = 1.0 / n as f64;
    let TdWork { s, ps, sq, a, as_, z, zn, da, ds, ds2, w, dz, dz2, v1, v2, v3, .. } = ws;
    // S_0 = C Cᵀ (exactly symmetric: both triangles sum the same products in the same order)
    let s0 = &mut s[..mm];
    s0.iter_mut().for_each(|v| *v = 0.0);
    let ctx = pr.ctx.as_slice();
    for k in 0..n {
        let col = &ctx[k * m..(k + 1) * m];
        for (j, cj) in col.iter().enumerate() {
            for (sij, ci) in s0[j * m..(j + 1) * m].iter_mut().zip(col) {
                *sij += ci * cj;
            }
        }
    }
    for (dst, src) in [(&mut z[..m], &pr.phi_q), (&mut zn[..m], &pr.phi_next)] {
        dst.iter_mut().for_each(|v| *v = 0.0);
        dst[..src.len()].copy_from_slice(src);
    }
    // Forward through the first L - 1 layers (second moments and both query columns).
    for l in 0..layers - 1 {
        let (p, q) = (model.p[l].as_slice(), model.q[l].as_slice());
        let r = l * mm..(l + 1) * mm;
        let (s_l, s_next) = s[l * mm..(l + 2) * mm].split_at_mut(mm);
        let (ps_l, sq_l, a_l, as_l) = (&mut ps[r.clone()], &mut sq[r.clone()], &mut a[r.clone()], &mut as_[r]);
        ps_l.iter_mut().for_each(|v| *v = 0.0);
        mm_nn(ps_l, p, s_l, dim);
        sq_l.iter_mut().for_each(|v| *v = 0.0);
        mm_nn(sq_l, s_l, q, dim);
        a_l.iter_mut().for_each(|v| *v = 0.0);
        mm_nn(a_l, ps_l, q, dim);
        a_l.iter_mut().for_each(|v| *v *= inv_n);
        for i in 0..m {
            a_l[i + i * m] += 1.0;
        }
        as_l.iter_mut().for_each(|v| *v = 0.0);
        mm_nn(as_l, a_l, s_l, dim);
        s_next.iter_mut().for_each(|v| *v = 0.0);
        mm_nt(s_next, as_l, a_l, dim);
        let (zl, znext) = z[l * m..(l + 2) * m].split_at_mut(m);
        mv(znext, a_l, zl, dim);
        let (zl, znext) = zn[l * m..(l + 2) * m].split_at_mut(m);
        mv(znext, a_l, zl, dim);
    }
    // Last layer: only row 2d of K_{L-1} = P S Q reaches the readout.
    let l = layers - 1;
    let (p, q) = (model.p[l].as_slice(), model.q[l].as_slice());
    let s_l = &s[l * mm..(l + 1) * mm];
    // v1 = (P[2d, :] S)ᵀ = S P[2d, :]ᵀ (S symmetric up to rounding: use the row product)
    for (j, v) in v1.iter_mut().enumerate() {
        *v = (0..m).map(|k| p[(m - 1) + k * m] * s_l[k + j * m]).sum();
    }
    // v2 = K[2d, :]ᵀ = Qᵀ v1
    mtv(v2, q, v1, dim);
    let zl = &z[l * m..(l + 1) * m];
    let znl = &zn[l * m..(l + 1) * m];
    let kz: f64 = v2.iter().zip(zl).map(|(a, b)| a * b).sum();
    let kzn: f64 = v2.iter().zip(znl).map(|(a, b)| a * b).sum();
    let v = -(zl[m - 1] + kz * inv_n);
    let v_next = -(znl[m - 1] + kzn * inv_n); // detached
    let delta = pr.reward + pr.gamma * v_next - v;
    // Backward. dL/dZ_L[2d, n] = δ; layer L-1: dK = (δ/n) e_{2d} zᵀ (rank one).
    let gl = delta * inv_n;
    let (gp, gq) = grad[2 * l * mm..2 * (l + 1) * mm].split_at_mut(mm);
    // v3 = Q z, dz2 = S (Q z)
    mv(v3, q, zl, dim);
    mv(dz2, s_l, v3, dim);
    // dP[2d, :] += (δ/n) (S Q z)ᵀ
    for (j, x) in dz2.iter().enumerate() {
        gp[(m - 1) + j * m] += gl * x;
    }
    // dQ += (δ/n) (S P[2d,:]ᵀ) zᵀ
    for (j, zj) in zl.iter().enumerate() {
        for (g, x) in gq[j * m..(j + 1) * m].iter_mut().zip(v1.iter()) {
            *g += gl * zj * x;
        }
    }
    if layers == 1 {
        return 0.5 * delta * delta;
    }
    // dS_{L-1} = (δ/n) P[2d, :]ᵀ (Q z)ᵀ, dz_{L-1} = δ e_{2d} + (δ/n) K[2d, :]ᵀ
    for j in 0..m {
        for i in 0..m {
            ds[i + j * m] = gl * p[(m - 1) + i * m] * v3[j];
        }
    }
    for (d, k) in dz.iter_mut().zip(v2.iter()) {
        *d = gl * k;
    }
    dz[m - 1] += delta;
    for l in (0..layers - 1).rev() {
        let (p, q) = (model.p[l].as_slice(), model.q[l].as_slice());
        let r = l * mm..(l + 1) * mm;
        let (ps_l, sq_l, a_l, as_l) = (&ps[r.clone()], &sq[r.clone()], &a[r.clone()], &as_[r]);
        let zl = &z[l * m..(l + 1) * m];
        // dA = dz zᵀ + (dS + dSᵀ) (A S)
        for j in 0..m {
            for i in 0..m {
                w[i + j * m] = ds[i + j * m] + ds[j + i * m];
                da[i + j * m] = dz[i] * zl[j];
            }
        }
        mm_nn(da, w, as_l, dim);
        // dK = dA / n
        da.iter_mut().for_each(|v| *v *= inv_n);
        let (gp, gq) = grad[2 * l * mm..2 * (l + 1) * mm].split_at_mut(mm);
        mm_nt(gp, da, sq_l, dim); // dP += dK (S Q)ᵀ
        mm_tn(gq, ps_l, da, dim); // dQ += (P S)ᵀ dK
        if l == 0 {
            break;
        }
        // dS_l = Aᵀ dS A + Pᵀ dK Qᵀ ; dz_l = Aᵀ dz
        w.iter_mut().for_each(|v| *v = 0.0);
        mm_tn(w, a_l, ds, dim);
        ds2.iter_mut().for_each(|v| *v = 0.0);
        mm_nn(ds2, w, a_l, dim);
        w.iter_mut().for_each(|v| *v = 0.0);
        mm_tn(w, p, da, dim);
        mm_nt(ds2, w, q, dim);
        std::mem::swap(ds, ds2);
        mtv(dz2, a_l, dz, dim);
        std::mem::swap(dz, dz2);
    }
    0.5 * delta * delta
}

/// Loss of one prompt (for finite differences), identity activation.
pub fn prompt_loss(model: &TdModel, pr: &TdPrompt, v_next_detached: f64) -> f64 {
    prompt_loss_act(model, Activation::Identity, pr, v_next_detached)
}

/// Loss of one prompt with `act` on the scores (for finite differences).
pub fn prompt_loss_act(model: &TdModel, act: Activation, pr: &TdPrompt, v_next_detached: f64) -> f64 {
    let d = pr.reward + pr.gamma * v_next_detached - predict_act(model, act, pr);
    0.5 * d * d
}

/// The `v̂(S_{q+1})` of a prompt under `model` (the detached target's value), identity activation.
pub fn next_value(model: &TdModel, pr: &TdPrompt) -> f64 {
    next_value_act(model, Activation::Identity, pr)
}

/// [`next_value`] with `act` on the scores.
pub fn next_value_act(model: &TdModel, act: Activation, pr: &TdPrompt) -> f64 {
    let zs = forward_act(model, act, z0(pr));
    target_value(model, act, &zs, pr)
}

/// Draw one MRP's prompts: `minibatches × prompts` sliding windows of one trajectory.
pub fn mrp_prompts(cfg: &TdConfig, k: u64) -> Vec<TdPrompt> {
    let mut rng = case_rng(cfg.seed, "dynamics/train-td", k);
    let (mrp, x) = cfg.draw(&mut rng);
    let len = cfg.n + cfg.minibatches * cfg.prompts + 1;
    let mut s = sample_categorical(&mut rng, mrp.initial());
    let mut states = vec![s];
    for _ in 0..len {
        s = sample_categorical(&mut rng, mrp.p_row(s));
        states.push(s);
    }
    let (d, n) = (cfg.d, cfg.n);
    (0..cfg.minibatches * cfg.prompts)
        .map(|k0| {
            let mut ctx = DMatrix::zeros(2 * d + 1, n);
            for i in 0..n {
                let (si, sj) = (states[k0 + i], states[k0 + i + 1]);
                for c in 0..d {
                    ctx[(c, i)] = x.x(si)[c];
                    ctx[(d + c, i)] = cfg.gamma * x.x(sj)[c];
                }
                ctx[(2 * d, i)] = mrp.r(si);
            }
            let sq = states[k0 + n];
            TdPrompt {
                ctx,
                phi_q: x.x(sq).to_vec(),
                phi_next: x.x(states[k0 + n + 1]).to_vec(),
                reward: mrp.r(sq),
                gamma: cfg.gamma,
            }
        })
        .collect()
}

pub use crate::probe::linear_td::{structure_cosine, LayerStructure};

/// Structure of a trained model (through `icrl probe`'s implementation,
/// [`crate::probe::linear_td::layer_structure`]).
pub fn td_structure(model: &TdModel, d: usize) -> Vec<LayerStructure> {
    let mat = |m: &DMatrix<f64>| crate::linalg::Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)]);
    model
        .p
        .iter()
        .zip(&model.q)
        .map(|(p, q)| {
            debug_assert_eq!(p.nrows(), 2 * d + 1);
            crate::probe::linear_td::layer_structure(&mat(p), &mat(q))
        })
        .collect()
}

/// The [WB] construction (`construction::linear_td`) with `C_l = I` in every layer, as a model.
pub fn construction_model(d: usize, layers: usize) -> TdModel {
    use crate::construction::linear_td::{p_td, q_td};
    let dense = |a: crate::linalg::Mat<f64>| DMatrix::from_row_slice(a.rows(), a.cols(), a.as_slice());
    let p = dense(p_td::<f64>(d));
    let q = dense(q_td::<f64>(&crate::linalg::Mat::identity(d)));
    TdModel { p: vec![p; layers], q: vec![q; layers] }
}

/// The result of `icrl train td`.
#[derive(Clone, Debug, Serialize)]
pub struct TdReport {
    /// Seed.
    pub seed: u64,
    /// MRPs × minibatches × prompts.
    pub mrps: usize,
    /// Minibatches per MRP.
    pub minibatches: usize,
    /// Prompts per minibatch.
    pub prompts: usize,
    /// `d, n, L, |S|, γ`.
    pub sizes: serde_json::Value,
    /// Wall seconds.
    pub wall_seconds: f64,
    /// `min_l min(p_row_dominance_l, c_identity_cosine_l)` (see `proofs/sarsa-emergence.md`).
    pub structure_cosine: f64,
    /// Per layer.
    pub layers: Vec<LayerStructure>,
    /// Mean loss of the first / last 1 % of Adam steps.
    pub loss_first: f64,
    /// Mean loss of the last 1 %.
    pub loss_last: f64,
    /// Held-out: mean squared error of `v̂(S_q)` against the true `v(S_q)` (trained model).
    pub heldout_msve_model: f64,
    /// Held-out: same for the [WB] construction with `C = I` (3 TD steps, step 1).
    pub heldout_msve_construction: f64,
    /// Held-out: same for `v̂ = 0`.
    pub heldout_msve_zero: f64,
    /// Trained `P_l`, `Q_l` (rows), for heat maps.
    pub p: Vec<Vec<Vec<f64>>>,
    /// Trained `Q_l`.
    pub q: Vec<Vec<Vec<f64>>>,
}

fn rows(m: &DMatrix<f64>) -> Vec<Vec<f64>> {
    (0..m.nrows()).map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect()).collect()
}

/// Xavier-normal init of every `P_l`, `Q_l` (gain `g`).
pub fn init_model(cfg: &TdConfig) -> TdModel {
    let mut rng = case_rng(cfg.seed, "dynamics/train-td-init", 0);
    let m = 2 * cfg.d + 1;
    let nd = Normal::new(0.0, cfg.init_gain * (2.0 / (2 * m) as f64).sqrt()).expect("finite std");
    let mut mk = || DMatrix::from_fn(m, m, |_, _| nd.sample(&mut rng));
    let mut p: Vec<DMatrix<f64>> = Vec::new();
    let mut q: Vec<DMatrix<f64>> = Vec::new();
    for _ in 0..cfg.layers {
        if cfg.shared && !p.is_empty() {
            p.push(p[0].clone());
            q.push(q[0].clone());
        } else {
            p.push(mk());
            q.push(mk());
        }
    }
    TdModel { p, q }
}

/// Prompts per parallel chunk (fixed, so the reduction order does not depend on threads).
const CHUNK: usize = 8;

thread_local! {
    /// The fast path's workspace of this thread, reused across prompts and minibatches.
    static TD_WORK: std::cell::RefCell<TdWork> = std::cell::RefCell::new(TdWork::default());
}

/// Loss and gradient (added into `g`, laid out as [`TdModel::flat`]) of a chunk of prompts, in
/// prompt order: the identity through [`prompt_loss_grad_fast`] on this thread's workspace,
/// ReLU and softmax through [`prompt_loss_grad_act`].
fn chunk_loss_grad(model: &TdModel, act: Activation, ch: &[TdPrompt], g: &mut [f64]) -> f64 {
    match act {
        Activation::Identity => TD_WORK.with(|ws| {
            let ws = &mut ws.borrow_mut();
            ch.iter().map(|pr| prompt_loss_grad_fast(model, pr, g, ws)).sum()
        }),
        _ => {
            let mut gm = model.zeros_like();
            let l = ch.iter().map(|pr| prompt_loss_grad_act(model, act, pr, &mut gm)).sum();
            g.iter_mut().zip(gm.flat()).for_each(|(a, b)| *a += b);
            l
        }
    }
}

/// Train and report.
pub fn train(cfg: &TdConfig) -> Result<TdReport, InputError> {
    cfg.validate()?;
    let t0 = std::time::Instant::now();
    let mut model = init_model(cfg);
    // Shared mode optimizes one (P, Q) block: the flat vector is layer 0's, gradients of the
    // layers are summed into it (the chain rule for a parameter used L times), and every layer
    // is set from it.
    let block = model.flat().len() / cfg.layers;
    let mut x = if cfg.shared { model.flat()[..block].to_vec() } else { model.flat() };
    let expand = |x: &[f64]| -> Vec<f64> {
        if cfg.shared {
            x.repeat(cfg.layers)
        } else {
            x.to_vec()
        }
    };
    let mut adam = super::train_sarsa::Adam::new(x.len());
    let total = cfg.mrps * cfg.minibatches;
    let bar = if cfg.progress {
        let b = indicatif::ProgressBar::new(cfg.mrps as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} MRPs ({per_sec}, eta {eta})")
                .expect("valid")
                .progress_chars("=> "),
        );
        b.set_message("train td");
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut losses = Vec::with_capacity(total);
    // One gradient buffer per chunk of a minibatch, reused; summed in chunk order.
    let nparams = model.flat().len();
    let mut parts: Vec<(Vec<f64>, f64)> = vec![(vec![0.0; nparams], 0.0); cfg.prompts.div_ceil(CHUNK)];
    let mut gfull = vec![0.0; nparams];
    // Draw the next MRP's prompts while training on the current one.
    let mut next = mrp_prompts(cfg, 0);
    for k in 0..cfg.mrps {
        let cur = std::mem::take(&mut next);
        let (_, ()) = rayon::join(
            || {
                for mb in cur.chunks(cfg.prompts) {
                    let nch = mb.len().div_ceil(CHUNK);
                    let mref = &model;
                    parts[..nch].par_iter_mut().zip(mb.par_chunks(CHUNK)).for_each(|((g, l), ch)| {
                        g.iter_mut().for_each(|v| *v = 0.0);
                        *l = chunk_loss_grad(mref, cfg.activation, ch, g);
                    });
                    gfull.iter_mut().for_each(|v| *v = 0.0);
                    let mut l = 0.0;
                    for (gi, li) in &parts[..nch] {
                        gfull.iter_mut().zip(gi).for_each(|(a, b)| *a += b);
                        l += li;
                    }
                    let inv = 1.0 / mb.len() as f64;
                    let mut gf: Vec<f64> = if cfg.shared {
                        (0..block).map(|i| (0..cfg.layers).map(|l| gfull[l * block + i]).sum::<f64>() * inv).collect()
                    } else {
                        gfull.iter().map(|v| v * inv).collect()
                    };
                    if cfg.weight_decay != 0.0 {
                        // Adam's coupled L2 decay (PyTorch `Adam(weight_decay=λ)`): g ← g + λ x
                        gf.iter_mut().zip(&x).for_each(|(g, xi)| *g += cfg.weight_decay * xi);
                    }
                    adam.step(&mut x, &gf, cfg.lr);
                    model.set_flat(&expand(&x));
                    losses.push(l * inv);
                }
            },
            || {
                if k + 1 < cfg.mrps {
                    next = mrp_prompts(cfg, k as u64 + 1);
                }
            },
        );
        if k % 64 == 0 {
            bar.set_position(k as u64);
        }
    }
    bar.finish_and_clear();
    let layers = td_structure(&model, cfg.d);
    let structure_cosine = structure_cosine(&layers);
    let kk = (losses.len() / 100).max(1);
    let (msve_model, msve_con, msve_zero) = heldout(cfg, &model);
    Ok(TdReport {
        seed: cfg.seed,
        mrps: cfg.mrps,
        minibatches: cfg.minibatches,
        prompts: cfg.prompts,
        sizes: cfg.echo(),
        wall_seconds: t0.elapsed().as_secs_f64(),
        structure_cosine,
        layers,
        loss_first: losses[..kk].iter().sum::<f64>() / kk as f64,
        loss_last: losses[losses.len() - kk..].iter().sum::<f64>() / kk as f64,
        heldout_msve_model: msve_model,
        heldout_msve_construction: msve_con,
        heldout_msve_zero: msve_zero,
        p: model.p.iter().map(rows).collect(),
        q: model.q.iter().map(rows).collect(),
    })
}

/// Held-out MSVE on 200 fresh MRPs (tag `dynamics/train-td-heldout`): `v̂(S_q)` vs `v(S_q)`.
fn heldout(cfg: &TdConfig, model: &TdModel) -> (f64, f64, f64) {
    let m = 2 * cfg.d + 1;
    let con = construction_model(cfg.d, cfg.layers);
    let per: Vec<(f64, f64, f64)> = (0..200u64)
        .into_par_iter()
        .map(|k| {
            let mut rng = case_rng(cfg.seed, "dynamics/train-td-heldout", k);
            let (mrp, x) = cfg.draw(&mut rng);
            let v = crate::mdp::values::mrp_value(&mrp);
            let mut s = sample_categorical(&mut rng, mrp.initial());
            let mut states = vec![s];
            for _ in 0..cfg.n + 1 {
                s = sample_categorical(&mut rng, mrp.p_row(s));
                states.push(s);
            }
            let mut ctx = DMatrix::zeros(m, cfg.n);
            for i in 0..cfg.n {
                for c in 0..cfg.d {
                    ctx[(c, i)] = x.x(states[i])[c];
                    ctx[(cfg.d + c, i)] = cfg.gamma * x.x(states[i + 1])[c];
                }
                ctx[(2 * cfg.d, i)] = mrp.r(states[i]);
            }
            let sq = states[cfg.n];
            let pr =
                TdPrompt { ctx, phi_q: x.x(sq).to_vec(), phi_next: vec![0.0; cfg.d], reward: 0.0, gamma: cfg.gamma };
            let (a, b) = (predict_act(model, cfg.activation, &pr), predict(&con, &pr));
            ((a - v[sq]).powi(2), (b - v[sq]).powi(2), v[sq].powi(2))
        })
        .collect();
    let h = per.len() as f64;
    (
        per.iter().map(|x| x.0).sum::<f64>() / h,
        per.iter().map(|x| x.1).sum::<f64>() / h,
        per.iter().map(|x| x.2).sum::<f64>() / h,
    )
}
