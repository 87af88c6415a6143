//! Emergence of the SARSA construction ([LL] experiments; `docs/theory/gradient-flow.md`,
//! "Emergence"): train the readout-relevant blocks `(P12, P22, V̄21, V̄22)` of a full `D×D`
//! linear-attention block with Adam from a small random init (Xavier-normal, gain 0.1, on the
//! full `P`, `V`) on the teacher-mimicking stream, then report structure recovery and
//! closed-loop in-context control on held-out MDPs.
//!
//! **Fast path.** By Lemma C.1 the readout of an arbitrary `(P, V)` is
//! `w + V̄21 Σ̂ P12 w̃ + (1/n) V̄22 w̃ (w̃ᵀ P22 w̃)` and every other block has identically zero
//! gradient (Prop. 3.1), so training those four blocks *is* training the full `D×D` parameters
//! (the other blocks stay at their init, exactly as they would under the full gradient). We
//! never form `Σ̂`: `Σ̂ u = (1/n) X (Xᵀ u)` with `X` the `t × n` token matrix, so one frame
//! costs `O(t (n + d))` (≈ 2·10⁴ multiply-adds at paper scale). The held-out evaluation uses
//! the generic forward pass [`crate::attention::linear::lsa_block_last_column`] on the full
//! trained `(P, V)`.
//!
//! **Minibatches.** `M` MDPs run their teachers in lock-step; one Adam step uses the mean
//! gradient of their `M` current frames. Each MDP's frame is computed in parallel (rayon) into
//! its own workspace, which keeps the frame's gradient as four outer products (every entry of a
//! frame's gradient is one product `row_i · col_j`, [`Work`]), packed into the frame's row of a
//! small `M × ≈300` factor matrix ([`Packed`]); the mean gradient is then assembled entry by
//! entry, summed over the frames in MDP order, and Adam updates each entry as soon as its mean is
//! known, in parallel over fixed chunks of the parameters. No per-frame gradient buffer is
//! written, zeroed or re-read (the old buffers, 64 kB per MDP at the paper preset, made the step
//! memory-bound), nor a mean-gradient buffer, and every entry is the same sum in the same order
//! as before, so results are bit-identical to the per-MDP buffers and at any thread count. The
//! loop runs on a rayon worker (`rayon::scope`), so its two parallel regions per step are forked
//! inside the pool rather than injected from a thread that sleeps on a latch each time.

use super::stream::{Frame, StreamPreset, Teacher, TokenFrame};
use crate::attention::linear::lsa_block_last_column;
use crate::attention::prompt::{parameter_readout, sarsa_prompt};
use crate::construction::sarsa::Shape;
use crate::error::InputError;
use crate::linalg::Mat;
use crate::mdp::policy::{greedy_action, TabularPolicy};
use crate::mdp::values::{expected_return, optimal_return};
use crate::rng::case_rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use serde::Serialize;

/// Training configuration.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Stream (sizes, `K`, `T`).
    pub preset: StreamPreset,
    /// Seed.
    pub seed: u64,
    /// MDPs per minibatch (lock-step).
    pub minibatch: usize,
    /// Adam learning rate (decayed linearly to 10 % over the run).
    pub lr: f64,
    /// Xavier-normal gain of the init.
    pub init_gain: f64,
    /// Held-out MDPs.
    pub heldout_mdps: usize,
    /// In-context steps on each held-out MDP.
    pub heldout_steps: usize,
    /// Evaluate the greedy return every this many in-context steps.
    pub eval_every: usize,
    /// Show a progress bar.
    pub progress: bool,
}

impl TrainConfig {
    /// `small` or `paper`.
    pub fn preset(name: &str, seed: u64) -> Result<Self, InputError> {
        let (preset, minibatch, lr) = match name {
            "small" => (StreamPreset::small(), 16, 3e-3),
            "paper" => (StreamPreset::paper(), 32, 1e-3),
            other => return Err(InputError::new("--preset", format!("unknown preset {other:?}: use small or paper"))),
        };
        Ok(TrainConfig {
            preset,
            seed,
            minibatch,
            lr,
            init_gain: 0.1,
            heldout_mdps: 100,
            heldout_steps: 50,
            eval_every: 5,
            progress: false,
        })
    }
    /// Check every field (the stream's sizes through [`StreamPreset::validate`], whose errors
    /// name `preset.FIELD`) and refuse settings whose [`TrainConfig::cost`] exceeds
    /// [`super::train_td::MAX_TRAIN_WORK`] or [`super::train_td::MAX_TRAIN_MEMORY`].
    pub fn validate(&self) -> Result<(), InputError> {
        self.preset.validate()?;
        let vi = self.heldout_mdps as f64 * self.vi_work();
        if !(vi <= super::train_td::MAX_TRAIN_WORK) {
            return Err(InputError::new(
                "preset.gamma",
                format!(
                    "the optimal return of each held-out MDP needs up to {:.2e} value-iteration sweeps at discount {} \
                     ({vi:.2e} multiply-adds in all), beyond the work limit {:.0e}; use a discount further from 1",
                    crate::mdp::values::vi_sweep_bound(self.preset.tab.gamma, 1.0),
                    self.preset.tab.gamma,
                    super::train_td::MAX_TRAIN_WORK
                ),
            ));
        }
        let (work, bytes) = self.cost();
        if !(work <= super::train_td::MAX_TRAIN_WORK) {
            return Err(InputError::new(
                "preset.mdps",
                format!(
                    "estimated work {work:.2e} multiply-adds (MDPs × frames × (|S||A|d + n(|S| + 12d + 6)) plus \
                     Adam and held-out terms) exceeds the limit {:.0e}",
                    super::train_td::MAX_TRAIN_WORK
                ),
            ));
        }
        if !(bytes <= super::train_td::MAX_TRAIN_MEMORY) {
            return Err(InputError::new(
                "preset.d",
                format!(
                    "estimated memory {bytes:.2e} bytes (per MDP of a minibatch: |S|²|A| + |S||A|d numbers and a \
                     gradient of ≈ 4d² entries) exceeds the limit {:.0e}",
                    super::train_td::MAX_TRAIN_MEMORY
                ),
            ));
        }
        if self.minibatch == 0 {
            return Err(InputError::new("minibatch", "must be at least 1"));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(InputError::new("lr", "must be a positive finite number"));
        }
        if self.heldout_mdps == 0 || self.heldout_steps == 0 || self.eval_every == 0 {
            return Err(InputError::new("heldout", "held-out MDPs, steps and eval interval must be at least 1"));
        }
        Ok(())
    }
}

impl TrainConfig {
    /// Multiply-adds of the value iteration behind one held-out MDP's optimal return: at most
    /// `K = vi_sweep_bound(γ, 1)` sweeps ([`crate::mdp::values::vi_sweep_bound`]; the generated
    /// rewards lie in `[-1, 1)`) of `|S|²|A|` each. `K` grows like `27.6/(1-γ)`: 265 at
    /// `γ = 0.9`, `2.8·10⁷` at `γ = 1 - 10⁻⁶`, `2.5·10¹⁷` at the largest `γ < 1`.
    pub fn vi_work(&self) -> f64 {
        let t = &self.preset.tab;
        let (ns, na) = (t.n_states as f64, t.n_actions as f64);
        crate::mdp::values::vi_sweep_bound(t.gamma, 1.0) * ns * ns * na
    }
    /// Estimated `(work, memory)` of a run in overflow-free `f64`. Work (multiply-adds): per
    /// frame `|S||A|d` (the ε-greedy rows) `+ n(|S| + 12d + 6)` (rollout, tokens, the fast-path
    /// readout and gradient, `t = 2d+1`); per Adam step `8 · B` (`B ≈ 4d²` trainable entries);
    /// held-out `M_h · (T_h · (2 D² (n+1) + |S||A|d) + (T_h / e + 2) · |S|³ + K |S|²|A|)`, with `K`
    /// the value-iteration sweeps of the optimal return ([`TrainConfig::vi_work`]),
    /// `D = 3d + 2`. Memory (bytes): `8 · minibatch · (|S|²|A| + |S||A|d + B + t n) + 8 · (6B + 2D²)`.
    pub fn cost(&self) -> (f64, f64) {
        let f = |x: usize| x as f64;
        let t = &self.preset.tab;
        let (ns, na, d, n) = (f(t.n_states), f(t.n_actions), f(t.d), f(t.n));
        let frames = f(self.preset.mdps) * f(self.preset.frames);
        let b = 4.0 * d * d + 4.0 * d + 1.0;
        let dim = 3.0 * d + 2.0;
        let steps = frames / f(self.minibatch.clamp(1, self.preset.mdps.max(1)));
        let heldout = f(self.heldout_mdps)
            * (f(self.heldout_steps) * (2.0 * dim * dim * (n + 1.0) + ns * na * d)
                + (f(self.heldout_steps) / f(self.eval_every.max(1)) + 2.0) * ns * ns * ns
                + self.vi_work());
        let work = frames * (ns * na * d + n * (ns + 12.0 * d + 6.0)) + steps * 8.0 * b + heldout;
        let bytes = 8.0 * f(self.minibatch) * (ns * ns * na + ns * na * d + b + (2.0 * d + 1.0) * n)
            + 8.0 * (6.0 * b + 2.0 * dim * dim);
        (work, bytes)
    }
}

/// The trainable blocks, flattened: `[P12 (t×(d+1)); P22 ((d+1)×(d+1)); V̄21 (d×t); V̄22 (d×(d+1))]`.
#[derive(Clone, Debug)]
pub struct Blocks {
    /// `d`.
    pub d: usize,
    /// Parameters.
    pub x: Vec<f64>,
}

impl Blocks {
    fn t(&self) -> usize {
        2 * self.d + 1
    }
    fn offsets(&self) -> [usize; 4] {
        let (d, t) = (self.d, self.t());
        let o1 = t * (d + 1);
        let o2 = o1 + (d + 1) * (d + 1);
        let o3 = o2 + d * t;
        [0, o1, o2, o3]
    }
    /// Total length.
    pub fn len(d: usize) -> usize {
        let t = 2 * d + 1;
        t * (d + 1) + (d + 1) * (d + 1) + d * t + d * (d + 1)
    }
    /// Read from full `(P, V)`.
    pub fn from_full(d: usize, p: &Mat<f64>, v: &Mat<f64>) -> Self {
        let r = crate::construction::sarsa::reduced(d, p, v);
        let mut x = Vec::with_capacity(Self::len(d));
        for m in [&r.p12, &r.p22, &r.v21_bar, &r.v22_bar] {
            x.extend_from_slice(m.as_slice());
        }
        Blocks { d, x }
    }
    /// Write into full `(P, V)` (other blocks untouched).
    pub fn write_full(&self, p: &mut Mat<f64>, v: &mut Mat<f64>) {
        let (d, t) = (self.d, self.t());
        let mut k = 0;
        for i in 0..t {
            for j in 0..=d {
                p[(i, t + j)] = self.x[k];
                k += 1;
            }
        }
        for i in 0..=d {
            for j in 0..=d {
                p[(t + i, t + j)] = self.x[k];
                k += 1;
            }
        }
        for i in 0..d {
            for j in 0..t {
                v[(t + 1 + i, j)] = self.x[k];
                k += 1;
            }
        }
        for i in 0..d {
            for j in 0..=d {
                v[(t + 1 + i, t + j)] = self.x[k];
                k += 1;
            }
        }
    }
    /// `P12` row-major.
    pub fn p12(&self) -> &[f64] {
        let o = self.offsets();
        &self.x[o[0]..o[1]]
    }
    /// `P22` row-major.
    pub fn p22(&self) -> &[f64] {
        let o = self.offsets();
        &self.x[o[1]..o[2]]
    }
    /// `V̄21` row-major.
    pub fn v21_bar(&self) -> &[f64] {
        let o = self.offsets();
        &self.x[o[2]..o[3]]
    }
    /// `V̄22` row-major.
    pub fn v22_bar(&self) -> &[f64] {
        let o = self.offsets();
        &self.x[o[3]..]
    }
}

/// Per-frame workspace of the fast path. After [`tokens_factors`] it holds the frame's
/// gradient as four outer products (every gradient entry of a frame is one product
/// `row[i] · col[j]`): `P12`: `sg ⊗ w̃`, `P22`: `cp22 ⊗ w̃`, `V̄21`: `e ⊗ z`, `V̄22`: `cv22 ⊗ w̃`.
struct Work {
    wt: Vec<f64>,
    u: Vec<f64>,
    a: Vec<f64>,
    z: Vec<f64>,
    g: Vec<f64>,
    q: Vec<f64>,
    /// `P22 w̃` (row by row, before `w̃ᵀ ·`).
    p22w: Vec<f64>,
    e: Vec<f64>,
    /// `(1/n) X Xᵀ (V̄21ᵀ e)`, the row factor of `∂/∂P12`.
    sg: Vec<f64>,
    /// `(eᵀ q / n) w̃`, the row factor of `∂/∂P22`.
    cp22: Vec<f64>,
    /// `(s / n) e`, the row factor of `∂/∂V̄22`.
    cv22: Vec<f64>,
}

impl Work {
    fn new(d: usize, n: usize) -> Self {
        let t = 2 * d + 1;
        Work {
            wt: Vec::with_capacity(d + 1),
            u: vec![0.0; t],
            a: vec![0.0; n],
            z: vec![0.0; t],
            g: vec![0.0; t],
            q: vec![0.0; d],
            p22w: vec![0.0; d + 1],
            e: vec![0.0; d],
            sg: vec![0.0; t],
            cp22: vec![0.0; d + 1],
            cv22: vec![0.0; d],
        }
    }
    /// Row and column factors of block `k` (`0..4`: `P12, P22, V̄21, V̄22`).
    #[inline]
    fn factors(&self, k: usize) -> (&[f64], &[f64]) {
        match k {
            0 => (&self.sg, &self.wt),
            1 => (&self.cp22, &self.wt),
            2 => (&self.e, &self.z),
            _ => (&self.cv22, &self.wt),
        }
    }
}

/// Fast-path loss `½‖TF - w_tgt‖²` of one frame, adding its gradient into `grad` (Lemma C.1).
pub fn frame_loss_grad(b: &Blocks, f: &Frame, grad: &mut [f64]) -> f64 {
    let (d, n) = (b.d, f.batch.len());
    let mut w = Work::new(d, n);
    frame_loss_grad_ws(b, f, grad, &mut w)
}

fn frame_loss_grad_ws(b: &Blocks, f: &Frame, grad: &mut [f64], ws: &mut Work) -> f64 {
    let x = f.tokens();
    tokens_loss_grad(b, &x, f.batch.len(), &f.w, &f.target, grad, ws)
}

/// `aᵀc` with four independent accumulators (a sequential `sum()` is latency-bound: the
/// compiler may not reassociate floating-point additions).
#[inline]
fn dotv(a: &[f64], c: &[f64]) -> f64 {
    let n = a.len().min(c.len());
    let (a, c) = (&a[..n], &c[..n]);
    let mut acc = [0.0f64; 4];
    let (ca, cc) = (a.chunks_exact(4), c.chunks_exact(4));
    let (ra, rc) = (ca.remainder(), cc.remainder());
    for (x, y) in ca.zip(cc) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rc) {
        s += x * y;
    }
    s
}

/// `out[i] = dotv(row_i, v)` for the rows `row_i = m[i·c..(i+1)·c]` (`c = v.len()`), four rows
/// at a time: each row keeps [`dotv`]'s own four accumulators, combine and tail (so every entry
/// is bit-identical to [`dotv`]), and the four rows share the loads of `v`.
#[inline(always)]
fn rows_dot(m: &[f64], v: &[f64], out: &mut [f64]) {
    let c = v.len();
    let nc = c / 4;
    let (v4, vr) = v.split_at(nc * 4);
    let rows = out.len();
    let m = &m[..rows * c];
    let mut i = 0;
    while i + 4 <= rows {
        let r: [&[f64]; 4] = std::array::from_fn(|q| &m[(i + q) * c..(i + q + 1) * c]);
        let mut acc = [[0.0f64; 4]; 4];
        for (ch, vv) in v4.chunks_exact(4).enumerate() {
            for q in 0..4 {
                let rr = &r[q][ch * 4..ch * 4 + 4];
                for l in 0..4 {
                    acc[q][l] += rr[l] * vv[l];
                }
            }
        }
        for q in 0..4 {
            let a = &acc[q];
            let mut s = (a[0] + a[1]) + (a[2] + a[3]);
            for (x, y) in r[q][nc * 4..].iter().zip(vr) {
                s += x * y;
            }
            out[i + q] = s;
        }
        i += 4;
    }
    for k in i..rows {
        out[k] = dotv(&m[k * c..(k + 1) * c], v);
    }
}

/// Fast-path loss and gradient of one frame given as tokens (`x` row-major `(2d+1) × n`), the
/// gradient added into `grad`.
fn tokens_loss_grad(
    b: &Blocks,
    x: &[f64],
    n: usize,
    w: &[f64],
    target: &[f64],
    grad: &mut [f64],
    ws: &mut Work,
) -> f64 {
    let loss = tokens_factors(b, x, n, w, target, ws);
    let o = b.offsets();
    for (k, lo) in o.iter().enumerate() {
        let (rows, cols) = ws.factors(k);
        for (i, ri) in rows.iter().enumerate() {
            let g = &mut grad[lo + i * cols.len()..lo + (i + 1) * cols.len()];
            for (gv, cj) in g.iter_mut().zip(cols) {
                *gv += ri * cj;
            }
        }
    }
    loss
}

/// Fast-path loss of one frame; leaves its gradient in `ws` as the outer-product factors of
/// [`Work`] (so a minibatch's gradient is assembled without a per-frame gradient buffer).
#[inline(always)]
fn tokens_factors(b: &Blocks, x: &[f64], n: usize, w: &[f64], target: &[f64], ws: &mut Work) -> f64 {
    let (d, t) = (b.d, b.t());
    let d1 = d + 1;
    let inv_n = 1.0 / n as f64;
    let wt = &mut ws.wt;
    wt.clear();
    wt.push(1.0);
    wt.extend_from_slice(w);
    let [o0, o1, o2, o3] = b.offsets();
    let (p12, p22, v21, v22) = (&b.x[o0..o1], &b.x[o1..o2], &b.x[o2..o3], &b.x[o3..]);
    // u = P12 w̃
    rows_dot(p12, wt, &mut ws.u[..t]);
    // a = Xᵀ u, z = X a / n   (Σ̂ u without forming Σ̂)
    ws.a[..n].iter_mut().for_each(|v| *v = 0.0);
    for k in 0..t {
        let uk = ws.u[k];
        for (ai, xi) in ws.a[..n].iter_mut().zip(&x[k * n..(k + 1) * n]) {
            *ai += xi * uk;
        }
    }
    rows_dot(x, &ws.a[..n], &mut ws.z[..t]);
    ws.z[..t].iter_mut().for_each(|v| *v *= inv_n);
    // s = w̃ᵀ P22 w̃, q = V̄22 w̃
    rows_dot(p22, wt, &mut ws.p22w[..d1]);
    let mut s = 0.0;
    for i in 0..d1 {
        s += wt[i] * ws.p22w[i];
    }
    rows_dot(v22, wt, &mut ws.q[..d]);
    // e = V̄21 z + (s/n) q - (target - w)
    let mut loss = 0.0;
    rows_dot(v21, &ws.z[..t], &mut ws.e[..d]);
    for i in 0..d {
        let out = ws.e[i] + s * inv_n * ws.q[i];
        ws.e[i] = out - (target[i] - w[i]);
        loss += ws.e[i] * ws.e[i];
    }
    // gradient factors: ∂/∂V̄21 = e ⊗ z, ∂/∂V̄22 = (s/n) e ⊗ w̃, ∂/∂P12 = sg ⊗ w̃ with
    // sg = Σ̂ V̄21ᵀ e, ∂/∂P22 = (eᵀq/n) w̃ ⊗ w̃
    ws.g.iter_mut().for_each(|v| *v = 0.0);
    for i in 0..d {
        let ei = ws.e[i];
        for (gj, vj) in ws.g.iter_mut().zip(&v21[i * t..(i + 1) * t]) {
            *gj += vj * ei;
        }
        ws.cv22[i] = s * inv_n * ei;
    }
    ws.a[..n].iter_mut().for_each(|v| *v = 0.0);
    for k in 0..t {
        let gk = ws.g[k];
        for (ai, xi) in ws.a[..n].iter_mut().zip(&x[k * n..(k + 1) * n]) {
            *ai += xi * gk;
        }
    }
    rows_dot(x, &ws.a[..n], &mut ws.sg[..t]);
    ws.sg[..t].iter_mut().for_each(|v| *v *= inv_n);
    let eq = dotv(&ws.e, &ws.q) * inv_n;
    for i in 0..d1 {
        ws.cp22[i] = eq * wt[i];
    }
    0.5 * loss
}

/// Adam (Kingma & Ba) with the usual `β = (0.9, 0.999)`, `ε = 1e-8`.
#[derive(Clone, Debug)]
pub struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: u64,
}

impl Adam {
    /// For `n` parameters.
    pub fn new(n: usize) -> Self {
        Adam { m: vec![0.0; n], v: vec![0.0; n], t: 0 }
    }
    /// One step `x ← x - lr · m̂ / (√v̂ + ε)`.
    pub fn step(&mut self, x: &mut [f64], g: &[f64], lr: f64) {
        let (c1, c2) = self.begin_step();
        adam_update(x, &mut self.m, &mut self.v, g, c1, c2, lr);
    }
    /// Advance the step count; the bias corrections `(1 - β₁ᵗ, 1 - β₂ᵗ)` of the new step.
    fn begin_step(&mut self) -> (f64, f64) {
        let (b1, b2) = ADAM_BETAS;
        self.t += 1;
        let c1 = 1.0 - b1.powi(self.t.min(i32::MAX as u64) as i32);
        let c2 = 1.0 - b2.powi(self.t.min(i32::MAX as u64) as i32);
        (c1, c2)
    }
}

/// Adam's `β = (β₁, β₂)`.
const ADAM_BETAS: (f64, f64) = (0.9, 0.999);

/// Adam's update of the entries `x, m, v` (any slice of the parameters: every entry is
/// updated on its own) with bias corrections `c1, c2` ([`Adam::begin_step`]).
#[inline(always)]
fn adam_update(x: &mut [f64], m: &mut [f64], v: &mut [f64], g: &[f64], c1: f64, c2: f64, lr: f64) {
    let ((b1, b2), eps) = (ADAM_BETAS, 1e-8);
    for i in 0..x.len() {
        m[i] = b1 * m[i] + (1.0 - b1) * g[i];
        v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
        x[i] -= lr * (m[i] / c1) / ((v[i] / c2).sqrt() + eps);
    }
}

/// Xavier-normal `D×D` with gain `g`: `N(0, g² · 2/(D + D))`.
pub fn xavier(rng: &mut crate::rng::Rng, dim: usize, gain: f64) -> Mat<f64> {
    let std = gain * (2.0 / (2 * dim) as f64).sqrt();
    let nd = Normal::new(0.0, std).expect("finite std");
    Mat::from_fn(dim, dim, |_, _| nd.sample(rng))
}

pub use crate::probe::sarsa::Structure;

/// Measure [`Structure`] (through `icrl probe`'s implementation, [`crate::probe::sarsa::structure`]).
pub fn structure(b: &Blocks, alpha: f64) -> Structure {
    crate::probe::sarsa::structure(b.d, b.p12(), b.p22(), b.v21_bar(), b.v22_bar(), alpha)
}

/// The result of `icrl train sarsa`.
#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    /// Preset name.
    pub preset: String,
    /// Seed.
    pub seed: u64,
    /// `|S|, |A|, γ, d, n, α, ε`.
    pub sizes: serde_json::Value,
    /// Training MDPs × frames.
    pub mdps: usize,
    /// Frames per MDP.
    pub frames: usize,
    /// MDPs per Adam step.
    pub minibatch: usize,
    /// Adam steps.
    pub adam_steps: usize,
    /// Wall-clock seconds of the whole command (training + held-out).
    pub wall_seconds: f64,
    /// Seconds of training only.
    pub train_seconds: f64,
    /// Microseconds per training frame (wall, all threads).
    pub us_per_frame: f64,
    /// Mean training loss over the first and the last 1 % of steps.
    pub loss_first: f64,
    /// Mean training loss over the last 1 % of steps.
    pub loss_last: f64,
    /// Structure recovery.
    #[serde(flatten)]
    pub structure: Structure,
    /// Mean discounted return of the greedy policy after the last in-context step: model.
    pub heldout_return_model: f64,
    /// Same, teacher (batch SARSA in closed loop).
    pub heldout_return_teacher: f64,
    /// Optimal (value iteration).
    pub heldout_return_optimal: f64,
    /// Uniform-random policy.
    pub heldout_return_uniform: f64,
    /// In-context steps at which the curves are evaluated.
    pub curve_steps: Vec<usize>,
    /// Model return per evaluated step (mean over held-out MDPs).
    pub curve_model: Vec<f64>,
    /// Teacher return per evaluated step.
    pub curve_teacher: Vec<f64>,
    /// Trained `V̄21` (rows), for heat maps.
    pub v21_bar: Vec<Vec<f64>>,
    /// Trained `P12` (rows).
    pub p12: Vec<Vec<f64>>,
}

fn progress_bar(show: bool, len: u64, msg: &'static str) -> indicatif::ProgressBar {
    if show {
        let b = indicatif::ProgressBar::new(len);
        b.set_style(
            indicatif::ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b.set_message(msg);
        b
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// Parameters per parallel chunk of the gradient assembly and Adam step.
const SUM_CHUNK: usize = 1024;
/// Gradient entries accumulated together over a minibatch's frames.
const TILE: usize = 8;

/// Where a frame's gradient factors ([`Work::factors`]) sit in its row of the minibatch's
/// packed factor matrix (one row per frame, in MDP order): the row factors
/// `[sg (t) | cp22 (d+1) | e (d) | cv22 (d)]`, then the column factors `w̃ (d+1)` and `z (t)`,
/// each followed by `TILE` zeros so that a tile of `TILE` columns never leaves its factor.
/// Packing (≈ 300 numbers per frame) lets the mean gradient read every frame's factors with one
/// stride instead of chasing four vectors per frame and tile.
#[derive(Clone, Copy, Debug)]
struct Packed {
    /// Row length.
    width: usize,
    /// Per block `P12, P22, V̄21, V̄22`: offset of its row factor, of its column factor, and
    /// its number of columns.
    blocks: [(usize, usize, usize); 4],
}

impl Packed {
    fn new(d: usize) -> Self {
        let (t, d1) = (2 * d + 1, d + 1);
        let rows = t + d1 + 2 * d;
        let (wt, z) = (rows, rows + d1 + TILE);
        Packed { width: z + t + TILE, blocks: [(0, wt, d1), (t, wt, d1), (t + d1, z, t), (t + d1 + d, wt, d1)] }
    }
    /// Copy the factors of `ws` into the frame's packed row (its padding stays zero).
    #[inline(always)]
    fn store(&self, ws: &Work, row: &mut [f64]) {
        for k in 0..4 {
            let (ro, co, _) = self.blocks[k];
            let (rf, cf) = ws.factors(k);
            row[ro..ro + rf.len()].copy_from_slice(rf);
            row[co..co + cf.len()].copy_from_slice(cf);
        }
    }
}

/// Adam's update of one entry (the arithmetic of [`adam_update`]).
#[inline(always)]
fn adam_entry(x: &mut f64, m: &mut f64, v: &mut f64, g: f64, c1: f64, c2: f64, lr: f64) {
    let ((b1, b2), eps) = (ADAM_BETAS, 1e-8);
    *m = b1 * *m + (1.0 - b1) * g;
    *v = b2 * *v + (1.0 - b2) * g * g;
    *x -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
}

/// Entries `lo..lo + x.len()` of the parameters: the mean gradient `inv · Σ_k ∇_k` of a
/// minibatch, each entry summed over the frames' packed factors (`fac`, one row of
/// [`Packed::width`] per frame) in frame order from `0.0`, `TILE` entries held in registers
/// across the frames, and Adam's update of each entry as soon as its gradient is known (no
/// gradient buffer).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn chunk_step(
    offsets: &[usize; 4],
    pk: &Packed,
    lo: usize,
    fac: &[f64],
    inv: f64,
    opt: (&mut [f64], &mut [f64], &mut [f64]),
    c1: f64,
    c2: f64,
    lr: f64,
) {
    let (x, am, av) = opt;
    let hi = lo + x.len();
    let mut idx = lo;
    while idx < hi {
        let k = (0..4).rev().find(|&k| offsets[k] <= idx).expect("offsets[0] = 0");
        let (ro, co, cols) = pk.blocks[k];
        let (r, c0) = ((idx - offsets[k]) / cols, (idx - offsets[k]) % cols);
        let c1e = cols.min(c0 + (hi - idx));
        let (rf, cf) = (ro + r, co + c0);
        let mut c = c0;
        while c < c1e {
            let mut acc = [0.0f64; TILE];
            let off = cf + (c - c0);
            for row in fac.chunks_exact(pk.width) {
                let f = row[rf];
                let cs: &[f64; TILE] = row[off..off + TILE].try_into().expect("TILE entries");
                for j in 0..TILE {
                    acc[j] += f * cs[j];
                }
            }
            let e0 = idx - lo + (c - c0);
            let len = TILE.min(c1e - c);
            for j in 0..len {
                let e = e0 + j;
                adam_entry(&mut x[e], &mut am[e], &mut av[e], acc[j] * inv, c1, c2, lr);
            }
            c += TILE;
        }
        idx += c1e - c0;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
fn chunk_step_avx2(
    offsets: &[usize; 4],
    pk: &Packed,
    lo: usize,
    fac: &[f64],
    inv: f64,
    opt: (&mut [f64], &mut [f64], &mut [f64]),
    c1: f64,
    c2: f64,
    lr: f64,
) {
    chunk_step(offsets, pk, lo, fac, inv, opt, c1, c2, lr)
}

/// Whether this CPU has AVX2. The hot loops of training are compiled a second time with
/// `#[target_feature(enable = "avx2")]` (4-wide vectors, no FMA): the same IEEE operations in
/// the same order, so results are bit-identical whichever copy runs.
#[inline]
pub(crate) fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One MDP's frame of a training step: the teacher's next tokens and the fast-path loss, the
/// gradient's factors packed into the frame's row `row` ([`Packed`]).
#[inline(always)]
fn slot_step(b: &Blocks, pk: &Packed, slot: &mut Slot, row: &mut [f64]) -> f64 {
    let (teacher, ws, tf) = slot;
    teacher.next_tokens(tf);
    let l = tokens_factors(b, &tf.x, tf.n, &tf.w, &tf.target, ws);
    pk.store(ws, row);
    l
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn slot_step_avx2(b: &Blocks, pk: &Packed, slot: &mut Slot, row: &mut [f64]) -> f64 {
    slot_step(b, pk, slot, row)
}

/// One MDP of a minibatch: its teacher, workspace and token frame.
type Slot = (Teacher, Work, TokenFrame);

/// Train and evaluate.
pub fn train(cfg: &TrainConfig, preset_name: &str) -> Result<TrainReport, InputError> {
    cfg.validate()?;
    let t_start = std::time::Instant::now();
    let tab = cfg.preset.tab;
    let d = tab.d;
    let s = Shape::sarsa(d);
    let dim = s.dim();
    let mut init_rng = case_rng(cfg.seed, "dynamics/train-init", 0);
    let mut p_full = xavier(&mut init_rng, dim, cfg.init_gain);
    let mut v_full = xavier(&mut init_rng, dim, cfg.init_gain);
    let mut blocks = Blocks::from_full(d, &p_full, &v_full);
    let np = blocks.x.len();
    let mut adam = Adam::new(np);
    let m = cfg.minibatch.min(cfg.preset.mdps);
    let groups = cfg.preset.mdps.div_ceil(m);
    let total_steps = groups * cfg.preset.frames;
    let bar = progress_bar(cfg.progress, total_steps as u64, "train sarsa");
    let mut losses = Vec::with_capacity(total_steps);
    let offsets = blocks.offsets();
    let pk = Packed::new(d);
    let simd = avx2();
    // The whole loop runs on a rayon worker (`scope`), so each step's two parallel regions are
    // forked from inside the pool: the calling thread no longer sleeps on and is woken from a
    // latch twice per step (≈ 6·10⁵ futex round trips at the paper preset).
    rayon::scope(|_| {
        let mut step = 0usize;
        let mut fac = vec![0.0; m * pk.width];
        let mut frame_loss = vec![0.0; m];
        for gi in 0..groups {
            let lo = gi * m;
            let hi = (lo + m).min(cfg.preset.mdps);
            let mut slots: Vec<Slot> = (lo..hi)
                .into_par_iter()
                .map(|k| (Teacher::new(cfg.seed, k as u64, &cfg.preset), Work::new(d, tab.n), TokenFrame::default()))
                .collect();
            let mb = slots.len();
            let fac = &mut fac[..mb * pk.width];
            let frame_loss = &mut frame_loss[..mb];
            for _ in 0..cfg.preset.frames {
                let (bref, pkr) = (&blocks, &pk);
                slots.par_iter_mut().zip(fac.par_chunks_mut(pk.width)).zip(frame_loss.par_iter_mut()).for_each(
                    |((slot, row), l)| {
                        #[cfg(target_arch = "x86_64")]
                        if simd {
                            // SAFETY: `simd` is true only when the CPU has AVX2 (`avx2()`).
                            *l = unsafe { slot_step_avx2(bref, pkr, slot, row) };
                            return;
                        }
                        *l = slot_step(bref, pkr, slot, row);
                    },
                );
                // The mean gradient, assembled per entry from the frames' packed outer-product
                // factors in MDP order (the same sum, in the same order, as adding per-MDP
                // gradient buffers), and Adam on it, in parallel over parameter chunks: every
                // entry is computed the same way whatever the thread count.
                let inv = 1.0 / mb as f64;
                let lr = cfg.lr * (1.0 - 0.9 * step as f64 / total_steps as f64);
                let (c1, c2) = adam.begin_step();
                let facr: &[f64] = fac;
                let Adam { m: am, v: av, .. } = &mut adam;
                blocks
                    .x
                    .par_chunks_mut(SUM_CHUNK)
                    .zip(am.par_chunks_mut(SUM_CHUNK))
                    .zip(av.par_chunks_mut(SUM_CHUNK))
                    .enumerate()
                    .for_each(|(ci, ((x, am), av))| {
                        #[cfg(target_arch = "x86_64")]
                        if simd {
                            // SAFETY: `simd` is true only when the CPU has AVX2 (`avx2()`).
                            unsafe {
                                chunk_step_avx2(&offsets, pkr, ci * SUM_CHUNK, facr, inv, (x, am, av), c1, c2, lr)
                            };
                            return;
                        }
                        chunk_step(&offsets, pkr, ci * SUM_CHUNK, facr, inv, (x, am, av), c1, c2, lr);
                    });
                let l: f64 = frame_loss.iter().sum();
                losses.push(l * inv);
                step += 1;
                if step % 256 == 0 {
                    bar.set_position(step as u64);
                }
            }
        }
    });
    bar.finish_and_clear();
    let train_seconds = t_start.elapsed().as_secs_f64();
    blocks.write_full(&mut p_full, &mut v_full);
    let st = structure(&blocks, tab.alpha);
    let k = (losses.len() / 100).max(1);
    let loss_first = losses[..k].iter().sum::<f64>() / k as f64;
    let loss_last = losses[losses.len() - k..].iter().sum::<f64>() / k as f64;
    let ev = heldout(cfg, &p_full, &v_full);
    let t = 2 * d + 1;
    let v21 = blocks.v21_bar();
    let p12 = blocks.p12();
    Ok(TrainReport {
        preset: preset_name.to_string(),
        seed: cfg.seed,
        sizes: serde_json::json!({"n_states": tab.n_states, "n_actions": tab.n_actions, "gamma": tab.gamma, "d": d, "n": tab.n, "alpha": tab.alpha, "epsilon": tab.epsilon}),
        mdps: cfg.preset.mdps,
        frames: cfg.preset.frames,
        minibatch: m,
        adam_steps: total_steps,
        wall_seconds: t_start.elapsed().as_secs_f64(),
        train_seconds,
        us_per_frame: train_seconds * 1e6 / (cfg.preset.mdps * cfg.preset.frames) as f64,
        loss_first,
        loss_last,
        structure: st,
        heldout_return_model: *ev.model.last().unwrap_or(&f64::NAN),
        heldout_return_teacher: *ev.teacher.last().unwrap_or(&f64::NAN),
        heldout_return_optimal: ev.optimal,
        heldout_return_uniform: ev.uniform,
        curve_steps: ev.steps,
        curve_model: ev.model,
        curve_teacher: ev.teacher,
        v21_bar: (0..d).map(|i| v21[i * t..(i + 1) * t].to_vec()).collect(),
        p12: (0..t).map(|i| p12[i * (d + 1)..(i + 1) * (d + 1)].to_vec()).collect(),
    })
}

/// Held-out closed-loop control curves.
#[derive(Clone, Debug)]
pub struct Heldout {
    /// Evaluated in-context steps.
    pub steps: Vec<usize>,
    /// Mean greedy return of the model's `w` at those steps.
    pub model: Vec<f64>,
    /// Same for the teacher.
    pub teacher: Vec<f64>,
    /// Mean optimal return.
    pub optimal: f64,
    /// Mean uniform-policy return.
    pub uniform: f64,
}

fn greedy_return(t: &Teacher, w: &[f64]) -> f64 {
    let acts: Vec<usize> = (0..t.mdp.n_states()).map(|s| greedy_action(&t.phi, w, s)).collect();
    expected_return(&t.mdp, &TabularPolicy::deterministic(t.mdp.n_actions(), &acts))
}

/// Closed-loop in-context control on held-out MDPs (tag `dynamics/heldout`): at each step the
/// current `w` drives an ε-greedy rollout of `n` transitions, the prompt is built and the
/// model's (generic forward pass) or the teacher's output becomes the next `w`. Model and
/// teacher start from the same MDP, features, `w_0` and RNG state (common random numbers).
pub fn heldout(cfg: &TrainConfig, p: &Mat<f64>, v: &Mat<f64>) -> Heldout {
    let tab = cfg.preset.tab;
    let tok = 2 * tab.d + 1;
    let steps: Vec<usize> =
        (0..=cfg.heldout_steps).filter(|k| k % cfg.eval_every == 0 || *k == cfg.heldout_steps).collect();
    let per: Vec<(Vec<f64>, Vec<f64>, f64, f64)> = (0..cfg.heldout_mdps as u64)
        .into_par_iter()
        .map(|k| {
            let base = Teacher::with_tag(cfg.seed, "dynamics/heldout", k, &tab, cfg.preset.features);
            let mut tm = base.clone();
            let mut tt = base.clone();
            let mut wm = base.w.clone();
            let mut wt = base.w.clone();
            let (mut cm, mut ct) = (Vec::new(), Vec::new());
            for step in 0..=cfg.heldout_steps {
                if steps.contains(&step) {
                    cm.push(greedy_return(&base, &wm));
                    ct.push(greedy_return(&base, &wt));
                }
                if step == cfg.heldout_steps {
                    break;
                }
                let fm = tm.frame_at(&wm);
                let h = sarsa_prompt(&fm.batch, &wm);
                wm = parameter_readout(&lsa_block_last_column(&h, p, v), tok);
                if wm.iter().any(|x| !x.is_finite()) {
                    wm = vec![0.0; tab.d];
                }
                let ft = tt.frame_at(&wt);
                wt = ft.target;
            }
            let opt = optimal_return(&base.mdp);
            let uni = expected_return(&base.mdp, &TabularPolicy::uniform(base.mdp.n_states(), base.mdp.n_actions()));
            (cm, ct, opt, uni)
        })
        .collect();
    let h = per.len() as f64;
    type PerMdp = (Vec<f64>, Vec<f64>, f64, f64);
    let mean_curve = |sel: fn(&PerMdp) -> &Vec<f64>| -> Vec<f64> {
        (0..steps.len()).map(|i| per.iter().map(|x| sel(x)[i]).sum::<f64>() / h).collect()
    };
    Heldout {
        model: mean_curve(|x| &x.0),
        teacher: mean_curve(|x| &x.1),
        optimal: per.iter().map(|x| x.2).sum::<f64>() / h,
        uniform: per.iter().map(|x| x.3).sum::<f64>() / h,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;

    /// [`rows_dot`] is [`dotv`] row by row, bit for bit, for every row count (the four-row
    /// groups and the leftover rows) and column count (the four-wide chunks and the tail).
    #[test]
    fn rows_dot_is_dotv_bit_for_bit() {
        let mut rng = case_rng(3, "rows-dot", 0);
        for rows in 1..=9 {
            for cols in 1..=13 {
                let m: Vec<f64> = (0..rows * cols).map(|_| rng.random_range(-1.0..1.0)).collect();
                let v: Vec<f64> = (0..cols).map(|_| rng.random_range(-1.0..1.0)).collect();
                let mut out = vec![f64::NAN; rows];
                rows_dot(&m, &v, &mut out);
                for i in 0..rows {
                    assert_eq!(
                        out[i].to_bits(),
                        dotv(&m[i * cols..(i + 1) * cols], &v).to_bits(),
                        "{rows}×{cols} row {i}"
                    );
                }
            }
        }
    }

    /// The packed, Adam-fused [`chunk_step`] equals summing per-frame gradient buffers (in
    /// frame order, from zero), scaling by `1/M` and [`adam_update`], bit for bit, for chunk
    /// boundaries that cut rows and blocks anywhere; a frame dropped from the sum changes it
    /// (negative control).
    #[test]
    fn packed_chunk_step_is_the_buffered_mean_and_adam() {
        let d = 3;
        let (t, np) = (2 * d + 1, Blocks::len(d));
        let mut rng = case_rng(4, "packed-step", 0);
        let b = Blocks { d, x: (0..np).map(|_| rng.random_range(-0.5..0.5)).collect() };
        let pk = Packed::new(d);
        let frames = 5;
        let mut fac = vec![0.0; frames * pk.width];
        let mut grads = vec![vec![0.0; np]; frames];
        for f in 0..frames {
            let n = 4;
            let x: Vec<f64> = (0..t * n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let w: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
            let tg: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
            let mut ws = Work::new(d, n);
            tokens_loss_grad(&b, &x, n, &w, &tg, &mut grads[f], &mut ws);
            pk.store(&ws, &mut fac[f * pk.width..(f + 1) * pk.width]);
        }
        let inv = 1.0 / frames as f64;
        let (c1, c2, lr) = (0.1, 0.001, 1e-3);
        let mut want = (b.x.clone(), vec![0.01; np], vec![0.02; np]);
        let g: Vec<f64> = (0..np).map(|i| grads.iter().fold(0.0, |s, gf| s + gf[i]) * inv).collect();
        adam_update(&mut want.0, &mut want.1, &mut want.2, &g, c1, c2, lr);
        let offsets = b.offsets();
        for chunk in [1, 7, 13, 64, np] {
            let mut got = (b.x.clone(), vec![0.01; np], vec![0.02; np]);
            for (ci, ((x, m), v)) in
                got.0.chunks_mut(chunk).zip(got.1.chunks_mut(chunk)).zip(got.2.chunks_mut(chunk)).enumerate()
            {
                chunk_step(&offsets, &pk, ci * chunk, &fac, inv, (x, m, v), c1, c2, lr);
            }
            for i in 0..np {
                assert_eq!(got.0[i].to_bits(), want.0[i].to_bits(), "chunk {chunk} entry {i}");
                assert_eq!(got.1[i].to_bits(), want.1[i].to_bits());
                assert_eq!(got.2[i].to_bits(), want.2[i].to_bits());
            }
        }
        let mut short = (b.x.clone(), vec![0.01; np], vec![0.02; np]);
        chunk_step(
            &offsets,
            &pk,
            0,
            &fac[..(frames - 1) * pk.width],
            inv,
            (&mut short.0, &mut short.1, &mut short.2),
            c1,
            c2,
            lr,
        );
        assert!(short.0 != want.0, "dropping a frame must change the step");
    }
}
