//! What a stack of two-head softmax layers `(A_l, V1_l, V2_l)` implements, against the [XZ]
//! construction (arXiv:2605.07333, Thm 1; `construction::softmax`; definitions in
//! `proofs/probe.md`, [D]).
//!
//! The construction is `A = β diag(I_d, 0)` (inverse temperature `β`), `V1 = α e_{d+2} uᵀ`,
//! `V2 = γ α e_{d+1} uᵀ` (head 2 with the column shift), `u = e_d + e_{d+1} − e_{d+2}`. Per layer
//! the nearest point is the least-squares projection of each matrix on its pattern:
//! `β̂ = tr A[:d,:d] / d`, `α̂ = ⟨V1, e_{d+2}uᵀ⟩ / 3`, `γ̂ = ⟨V2, e_{d+1}uᵀ⟩ / (3 α̂)`; the layer
//! distance is `sqrt((sin²θ_A + sin²θ_V1 + sin²θ_V2)/3)`.
//!
//! TD error: on random contexts (`|S| = 4` states with random features `Features::random`,
//! states uniform, `n = 16`, rewards `N(0, 1)`), the generic softmax forward pass
//! (`attention::softmax`, prompt with scale 1, mask on) against weighted softmax TD
//! (`rl::softmax_td::WeightedSoftmaxTd`) with `β = mean β̂_l`, `γ = mean γ̂_l`, step `α̂_l` in layer
//! `l`: the current-value memory `Z_l[d+2, j]` of every column `j ≤ n` and layer against
//! `v_l(S_j)`, `‖tf − ref‖₂ / max(‖tf‖₂, ‖ref‖₂)`.

use super::sarsa::{median_max, PromptDist};
use super::sin2;
use crate::attention::softmax::{apply_multi_head, prompt, Head, MultiHeadLayer, Workspace};
use crate::construction::softmax::{attention_matrix, outer_row, u_vector};
use crate::linalg::{dot, Mat};
use crate::mdp::features::Features;
use crate::rl::softmax_td::WeightedSoftmaxTd;
use crate::rng::case_rng;
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::Serialize;

/// States of the probe's random contexts.
const PROBE_STATES: usize = 4;

/// One layer as `icrl probe --family softmax-td` reports it.
#[derive(Clone, Debug, Serialize)]
pub struct SoftmaxLayer {
    /// `β̂`.
    pub beta: f64,
    /// `α̂`.
    pub alpha: f64,
    /// `γ̂`.
    pub gamma: f64,
    /// Layer distance to the construction.
    pub manifold_distance: f64,
}

/// What `icrl probe --family softmax-td` reports.
#[derive(Clone, Debug, Serialize)]
pub struct SoftmaxProbe {
    /// `"softmax-td"`.
    pub family: &'static str,
    /// `d` (from `d + 3`).
    pub d: usize,
    /// Per layer.
    pub layers: Vec<SoftmaxLayer>,
    /// Max over layers.
    pub manifold_distance: f64,
    /// Max over contexts of the relative error against weighted softmax TD.
    pub td_error: f64,
    /// Median of the same.
    pub td_error_median: f64,
    /// The contexts.
    pub prompts: String,
}

/// The unit patterns `(diag(I_d, 0), e_{d+2}uᵀ, e_{d+1}uᵀ)`.
pub fn patterns(d: usize) -> [Mat<f64>; 3] {
    let u = u_vector(d);
    [attention_matrix(d), outer_row(d, d + 2, 1.0, &u), outer_row(d, d + 1, 1.0, &u)]
}

/// The nearest construction layer `(β̂ A⋆, α̂ E1, γ̂α̂ E2)` of a layer.
pub fn nearest_layer(m: &[Mat<f64>; 3]) -> [Mat<f64>; 3] {
    let pat = patterns(m[0].rows() - 3);
    let coef = |x: &Mat<f64>, s: &Mat<f64>| dot(x.as_slice(), s.as_slice()) / dot(s.as_slice(), s.as_slice());
    [pat[0].scale(&coef(&m[0], &pat[0])), pat[1].scale(&coef(&m[1], &pat[1])), pat[2].scale(&coef(&m[2], &pat[2]))]
}

/// Probe a stack.
pub fn probe(layers: &[[Mat<f64>; 3]], dist: PromptDist) -> SoftmaxProbe {
    let d = layers[0][0].rows() - 3;
    let pat = patterns(d);
    let coef = |x: &Mat<f64>, s: &Mat<f64>| dot(x.as_slice(), s.as_slice()) / dot(s.as_slice(), s.as_slice());
    let per: Vec<SoftmaxLayer> = layers
        .iter()
        .map(|m| {
            let (beta, alpha, ga) = (coef(&m[0], &pat[0]), coef(&m[1], &pat[1]), coef(&m[2], &pat[2]));
            let dist2 = (sin2(&m[0], &pat[0]) + sin2(&m[1], &pat[1]) + sin2(&m[2], &pat[2])) / 3.0;
            SoftmaxLayer { beta, alpha, gamma: ga / alpha, manifold_distance: dist2.sqrt() }
        })
        .collect();
    let nl = layers.len() as f64;
    let beta = per.iter().map(|l| l.beta).sum::<f64>() / nl;
    let gamma = per.iter().map(|l| l.gamma).sum::<f64>() / nl;
    let alphas: Vec<f64> = per.iter().map(|l| l.alpha).collect();
    let mh: Vec<MultiHeadLayer> = layers
        .iter()
        .map(|m| MultiHeadLayer {
            a: m[0].clone(),
            heads: vec![Head { v: m[1].clone(), shift: false }, Head { v: m[2].clone(), shift: true }],
            mask_query: true,
        })
        .collect();
    let n = dist.n;
    let errs: Vec<f64> = (0..dist.prompts as u64)
        .into_par_iter()
        .map(|k| {
            let mut rng = case_rng(dist.seed, "probe/softmax-prompts", k);
            let features = Features::random(&mut rng, PROBE_STATES, 1, d);
            let states: Vec<usize> = (0..=n).map(|_| rng.random_range(0..PROBE_STATES)).collect();
            let rewards: Vec<f64> = (0..n).map(|_| -> f64 { StandardNormal.sample(&mut rng) }).collect();
            let mut z = prompt(&features, 1.0, &states, &rewards);
            let mut ws = Workspace::new(z.rows(), z.cols());
            let reference = WeightedSoftmaxTd::new(&features, beta, &states, &rewards, gamma).iterates(&alphas);
            let (mut num, mut na, mut nb) = (0.0, 0.0, 0.0);
            for (l, layer) in mh.iter().enumerate() {
                apply_multi_head(&mut z, layer, &mut ws);
                for (j, &s) in states.iter().enumerate() {
                    let (a, b) = (z[(d + 2, j)], reference[l + 1][s]);
                    num += (a - b) * (a - b);
                    na += a * a;
                    nb += b * b;
                }
            }
            num.sqrt() / f64::max(na, nb).sqrt().max(f64::MIN_POSITIVE)
        })
        .collect();
    let (med, max) = median_max(&errs);
    SoftmaxProbe {
        family: "softmax-td",
        d,
        manifold_distance: per.iter().map(|l| l.manifold_distance).fold(0.0, f64::max),
        layers: per,
        td_error: max,
        td_error_median: med,
        prompts: format!(
            "{} contexts, n = {n}, |S| = {PROBE_STATES}: Features::random, states uniform, rewards N(0, 1), seed {}",
            dist.prompts, dist.seed
        ),
    }
}
