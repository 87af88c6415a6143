//! What an [LL] block `(P, V)` implements (arXiv:2605.05755; definitions in
//! `proofs/probe.md`, [D]).
//!
//! - **Reduction** (Lemma C.1 [Q]): the readout depends on `P, V` only through
//!   `(P12, P22, V̄21, V̄22)` (`construction::sarsa::blocks`, first row of `V21, V22` dropped).
//! - **Nearest point of the SARSA manifold** `{(c P⋆, c⁻¹ V⋆(α)) : c ≠ 0, α}`: the manifold is
//!   `P`-part `∈ span(B⋆)`, `V̄`-part `∈ span(A⋆)` with `B⋆ = P12⋆(c = 1)`, `A⋆ = [I_d 0 0]`;
//!   `ĉ = ⟨P12, B⋆⟩ / ‖B⋆‖²`, `β̂ = ⟨V̄21, A⋆⟩ / ‖A⋆‖²`, `α̂ = ĉ β̂`.
//! - **Manifold distance** `sqrt((sin²θ_P + sin²θ_V) / 2)`, `θ_P` the angle between
//!   `(P12, P22)` and `(B⋆, 0)`, `θ_V` between `(V̄21, V̄22)` and `(A⋆, 0)`: invariant under the
//!   rescaling `(cP, c⁻¹V)` that leaves the function unchanged, 0 exactly on the manifold, in
//!   `[0, 1]`, ≈ 1 for random weights.
//! - **Cubic term** (the `(1/n) V̄22 w̃ (w̃ᵀ P22 w̃)` of Lemma C.1): its share of the update,
//!   measured with the generic forward pass as `TF(P, V) − TF(P with P22 = 0, V)` (the cubic term
//!   is linear in `P22`, the rest does not involve it), so no second copy of Lemma C.1.
//! - **SARSA error**: on random prompts (see [`PromptDist`]), the transformer side
//!   (`attention::prompt::sarsa_prompt` + `attention::linear::lsa_block_last_column`) against
//!   the reference side (`rl::sarsa::batch_sarsa` with `α̂`), relative to the larger update:
//!   `‖TF − SARSA‖₂ / max(‖TF − w‖₂, ‖SARSA − w‖₂)`.
//! - **Structure** as `icrl train sarsa` reports it ([`structure`], also called by `train`).

use crate::attention::linear::lsa_block_last_column;
use crate::attention::prompt::{parameter_readout, sarsa_prompt};
use crate::construction::sarsa::{p_star, v_star, Shape};
use crate::linalg::Mat;
use crate::mdp::batch::TransitionBatch;
use crate::rl::sarsa::batch_sarsa;
use crate::rng::case_rng;
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::Serialize;

/// The distribution of the probe's random prompts.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct PromptDist {
    /// Number of prompts.
    pub prompts: usize,
    /// Transitions per prompt.
    pub n: usize,
    /// Seed (prompt `k` is drawn from `case_rng(seed, tag, k)`).
    pub seed: u64,
}

impl PromptDist {
    /// 64 prompts of `n = 16` transitions.
    pub fn new(seed: u64) -> Self {
        PromptDist { prompts: 64, n: 16, seed }
    }
    /// Text for reports.
    pub fn describe(&self) -> String {
        format!(
            "{} prompts, n = {}: phi, phi+ entries N(0, 1/d), r ~ N(0, 1), gamma ~ U[0, 1), w entries N(0, 1/d), seed {}",
            self.prompts, self.n, self.seed
        )
    }
}

/// A random batch and `w` of dimension `d` (the distribution of [`PromptDist::describe`]).
pub fn draw_batch(rng: &mut crate::rng::Rng, d: usize, n: usize) -> (TransitionBatch<f64>, Vec<f64>) {
    let s = (1.0 / d as f64).sqrt();
    let mut g = |sc: f64| -> f64 {
        let x: f64 = StandardNormal.sample(rng);
        sc * x
    };
    let phi: Vec<Vec<f64>> = (0..n).map(|_| (0..d).map(|_| g(s)).collect()).collect();
    let phi_next: Vec<Vec<f64>> = (0..n).map(|_| (0..d).map(|_| g(s)).collect()).collect();
    let rewards: Vec<f64> = (0..n).map(|_| g(1.0)).collect();
    let w: Vec<f64> = (0..d).map(|_| g(s)).collect();
    let gamma = rng.random_range(0.0..1.0);
    (TransitionBatch { phi, phi_next, rewards, gamma }, w)
}

/// Structure recovery of trained blocks against the construction (definitions in
/// `proofs/sarsa-emergence.md`); the keys `icrl train sarsa --json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct Structure {
    /// `min(s·cos(V̄21, A⋆), s·cos(P12, B⋆))`, `s = sign⟨P12, B⋆⟩` (sign-aligned).
    pub structure_cosine: f64,
    /// `s·cos(V̄21, A⋆)`.
    pub cos_v21: f64,
    /// `s·cos(P12, B⋆)`.
    pub cos_p12: f64,
    /// `s·cos(V̄21[:, :d], I_d)`.
    pub identity_cosine: f64,
    /// mean `|diag|` / mean `|off-diag|` of `V̄21[:, :d]`.
    pub diag_offdiag_ratio: f64,
    /// Least-squares `c` with `P12 ≈ c P12⋆`.
    pub c_hat: f64,
    /// `c_hat · mean diag V̄21[:, :d]` (the construction has `α`).
    pub alpha_hat: f64,
    /// `‖P22‖_F` (the construction has 0).
    pub p22_norm: f64,
    /// `‖V̄22‖_F`.
    pub v22_norm: f64,
}

/// The Lemma C.1 blocks, row-major: `P12` `t×(d+1)`, `P22` `(d+1)×(d+1)`, `V̄21` `d×t`,
/// `V̄22` `d×(d+1)`, `t = 2d+1`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reduced {
    /// `d`.
    pub d: usize,
    /// `P12`.
    pub p12: Vec<f64>,
    /// `P22`.
    pub p22: Vec<f64>,
    /// `V̄21` (rows `1..` of `V21`).
    pub v21_bar: Vec<f64>,
    /// `V̄22` (rows `1..` of `V22`).
    pub v22_bar: Vec<f64>,
}

impl Reduced {
    /// Lemma C.1's reduction of a full `D×D` pair (`D = 3d + 2`).
    pub fn of(p: &Mat<f64>, v: &Mat<f64>) -> Self {
        let d = (p.rows() - 2) / 3;
        let r = crate::construction::sarsa::reduced(d, p, v);
        Reduced {
            d,
            p12: r.p12.as_slice().to_vec(),
            p22: r.p22.as_slice().to_vec(),
            v21_bar: r.v21_bar.as_slice().to_vec(),
            v22_bar: r.v22_bar.as_slice().to_vec(),
        }
    }
}

fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, c)| a * c).sum::<f64>()
}

/// [`Structure`] of the blocks (row-major, layout of [`Reduced`]) against the construction with
/// step `alpha` (only its sign matters: every entry is a cosine or a projection).
pub fn structure(d: usize, p12: &[f64], p22: &[f64], v21_bar: &[f64], v22_bar: &[f64], alpha: f64) -> Structure {
    let t = 2 * d + 1;
    let star = Reduced::of(&p_star(Shape::sarsa(d), &1.0), &v_star(Shape::sarsa(d), &alpha, &0.0, &1.0));
    let cos = |x: &[f64], y: &[f64]| dot(x, y) / (dot(x, x).sqrt() * dot(y, y).sqrt()).max(f64::MIN_POSITIVE);
    let sign = if dot(p12, &star.p12) >= 0.0 { 1.0 } else { -1.0 };
    let cos_v21 = sign * cos(v21_bar, &star.v21_bar);
    let cos_p12 = sign * cos(p12, &star.p12);
    let (mut tr, mut fro, mut dg, mut od) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..d {
        for j in 0..d {
            let x = v21_bar[i * t + j];
            fro += x * x;
            if i == j {
                tr += x;
                dg += x.abs();
            } else {
                od += x.abs();
            }
        }
    }
    let identity_cosine = sign * tr / (fro.sqrt() * (d as f64).sqrt()).max(f64::MIN_POSITIVE);
    let diag_offdiag_ratio =
        if d > 1 { (dg / d as f64) / (od / (d * d - d) as f64).max(f64::MIN_POSITIVE) } else { f64::INFINITY };
    let c_hat = dot(p12, &star.p12) / dot(&star.p12, &star.p12);
    let alpha_hat = c_hat * tr / d as f64;
    Structure {
        structure_cosine: cos_v21.min(cos_p12),
        cos_v21,
        cos_p12,
        identity_cosine,
        diag_offdiag_ratio,
        c_hat,
        alpha_hat,
        p22_norm: dot(p22, p22).sqrt(),
        v22_norm: dot(v22_bar, v22_bar).sqrt(),
    }
}

/// `sin²` of the angle between `x ⊕ rest` and `(star, 0)`; 1 when `x ⊕ rest` is zero.
fn sin2(x: &[f64], rest: &[f64], star: &[f64]) -> f64 {
    let nx = dot(x, x) + dot(rest, rest);
    let ns = dot(star, star);
    if !(nx > 0.0) || !(ns > 0.0) {
        return 1.0;
    }
    let c = dot(x, star);
    (1.0 - c * c / (nx * ns)).clamp(0.0, 1.0)
}

/// Median and maximum (NaN-keeping: any NaN makes both NaN).
pub fn median_max(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() || xs.iter().any(|x| x.is_nan()) {
        return (f64::NAN, f64::NAN);
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len();
    let med = if m % 2 == 1 { v[m / 2] } else { 0.5 * (v[m / 2 - 1] + v[m / 2]) };
    (med, v[m - 1])
}

/// What `icrl probe --family sarsa` reports.
#[derive(Clone, Debug, Serialize)]
pub struct SarsaProbe {
    /// `"sarsa"`.
    pub family: &'static str,
    /// `d` (from `D = 3d + 2`).
    pub d: usize,
    /// `ĉ` of the nearest manifold point.
    pub c: f64,
    /// `α̂ = ĉ β̂` of the nearest manifold point.
    pub alpha: f64,
    /// `sqrt((sin²θ_P + sin²θ_V)/2)`.
    pub manifold_distance: f64,
    /// `sin θ_P`.
    pub distance_p: f64,
    /// `sin θ_V`.
    pub distance_v: f64,
    /// Max over prompts of the relative error against batch SARSA with `α̂`.
    pub sarsa_error: f64,
    /// Median of the same.
    pub sarsa_error_median: f64,
    /// Median over prompts of `‖cubic‖ / (‖linear‖ + ‖cubic‖)` (the construction has 0).
    pub cubic_share_median: f64,
    /// Max of the same.
    pub cubic_share_max: f64,
    /// `structure_cosine` as `icrl train sarsa` defines it.
    pub structure_cosine: f64,
    /// All of `train sarsa`'s structure metrics.
    pub structure: Structure,
    /// The prompts the errors are measured on.
    pub prompts: String,
    /// The Lemma C.1 blocks.
    pub reduced: Reduced,
    /// The nearest point's blocks `(ĉ B⋆, 0, β̂ A⋆, 0)`.
    pub nearest: Reduced,
}

/// Probe one block.
pub fn probe(p: &Mat<f64>, v: &Mat<f64>, dist: PromptDist) -> SarsaProbe {
    let r = Reduced::of(p, v);
    let d = r.d;
    let s = Shape::sarsa(d);
    let unit = Reduced::of(&p_star(s, &1.0), &v_star(s, &1.0, &0.0, &1.0));
    let c = dot(&r.p12, &unit.p12) / dot(&unit.p12, &unit.p12);
    let beta = dot(&r.v21_bar, &unit.v21_bar) / dot(&unit.v21_bar, &unit.v21_bar);
    let alpha = c * beta;
    let sp = sin2(&r.p12, &r.p22, &unit.p12);
    let sv = sin2(&r.v21_bar, &r.v22_bar, &unit.v21_bar);
    let mut p_lin = p.clone();
    for i in s.token()..s.dim() {
        for j in s.token()..s.dim() {
            p_lin[(i, j)] = 0.0;
        }
    }
    let t = s.token();
    let per: Vec<(f64, f64)> = (0..dist.prompts as u64)
        .into_par_iter()
        .map(|k| {
            let mut rng = case_rng(dist.seed, "probe/sarsa-prompts", k);
            let (b, w) = draw_batch(&mut rng, d, dist.n);
            let h = sarsa_prompt(&b, &w);
            let tf = parameter_readout(&lsa_block_last_column(&h, p, v), t);
            let tf_lin = parameter_readout(&lsa_block_last_column(&h, &p_lin, v), t);
            let rf = batch_sarsa(&b, &w, &alpha);
            let norm = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, c)| (a - c) * (a - c)).sum::<f64>().sqrt();
            let err = norm(&tf, &rf) / norm(&tf, &w).max(norm(&rf, &w)).max(f64::MIN_POSITIVE);
            let (cub, lin) = (norm(&tf, &tf_lin), norm(&tf_lin, &w));
            (err, cub / (lin + cub).max(f64::MIN_POSITIVE))
        })
        .collect();
    let (err_med, err_max) = median_max(&per.iter().map(|x| x.0).collect::<Vec<_>>());
    let (cub_med, cub_max) = median_max(&per.iter().map(|x| x.1).collect::<Vec<_>>());
    let st = structure(d, &r.p12, &r.p22, &r.v21_bar, &r.v22_bar, 1.0);
    let nearest = Reduced {
        d,
        p12: unit.p12.iter().map(|x| c * x).collect(),
        p22: vec![0.0; r.p22.len()],
        v21_bar: unit.v21_bar.iter().map(|x| beta * x).collect(),
        v22_bar: vec![0.0; r.v22_bar.len()],
    };
    SarsaProbe {
        family: "sarsa",
        d,
        c,
        alpha,
        manifold_distance: (0.5 * (sp + sv)).sqrt(),
        distance_p: sp.sqrt(),
        distance_v: sv.sqrt(),
        sarsa_error: err_max,
        sarsa_error_median: err_med,
        cubic_share_median: cub_med,
        cubic_share_max: cub_max,
        structure_cosine: st.structure_cosine,
        structure: st,
        prompts: dist.describe(),
        reduced: r,
        nearest,
    }
}
