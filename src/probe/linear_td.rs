//! What a stack of [WB] masked linear layers `(P_l, Q_l)` implements (arXiv:2405.13861;
//! definitions in `proofs/probe.md`, [D]).
//!
//! - Per layer ([`layer_structure`], also what `icrl train td` reports): the readout-row
//!   dominance `|P[2d,2d]| / ‖P[2d,:]‖`, the effective preconditioner
//!   `C_eff = -P[2d,2d] · Q[:d,:d]ᵀ` (the matrix the query update applies in the construction),
//!   `cos(C_eff, I) = tr C / (√d ‖C‖_F)`.
//! - Nearest point of the scalar-preconditioner family `{(p P^TD, p⁻¹ Q^TD(κ I))}`:
//!   `κ̂ = ⟨Q, Q^TD(I)⟩ / ‖Q^TD(I)‖²`, recovered `c_l = P[2d,2d] · κ̂` (`= c_l` for
//!   `(P^TD, Q^TD(c_l I))` and every rescaling), layer distance `sqrt((sin²θ_P + sin²θ_Q)/2)`
//!   with `θ_P` the angle between `P` and `P^TD`, `θ_Q` between `Q` and `Q^TD(I)`.
//! - TD error: on random prompts ([`crate::probe::sarsa::PromptDist`]), the stack's implied
//!   weights `ŵ_l` (the generic masked forward pass, `attention::linear::masked_layer` with the
//!   query mask on `attention::prompt::td_prompt`, readout `-Z_l[2d, n]`, run on the `d` unit
//!   queries: the readout is linear in the query) against preconditioned batch TD(0)
//!   (`rl::td::td_iterates`) with the layers' `C_eff`, every layer, in units of the rms weight
//!   size over the prompts (`proofs/probe.md`).

use super::sarsa::{draw_batch, median_max, PromptDist};
use super::sin2;
use crate::attention::linear::{masked_layer, query_mask};
use crate::attention::prompt::{td_prompt, td_readout};
use crate::construction::linear_td::{p_td, q_td};
use crate::linalg::{dot, Mat};
use crate::rl::td::{td_iterates, TdVariant};
use crate::rng::case_rng;
use nalgebra::DMatrix;
use rayon::prelude::*;
use serde::Serialize;

/// Structure of one layer against the [WB] construction (the keys `icrl train td --json`
/// prints; definitions in `proofs/sarsa-emergence.md`).
#[derive(Clone, Debug, Serialize)]
pub struct LayerStructure {
    /// `|P[2d,2d]| / ‖P[2d,:]‖` (the readout row of `P` against `±e_{2d}ᵀ`).
    pub p_row_dominance: f64,
    /// Effective preconditioner `C = -P[2d,2d] · Q[:d,:d]ᵀ` (rows): the matrix the query update
    /// applies, `Z[2d,n] += (1/n) Σ_i δ_i · (-φ_iᵀ Cᵀ φ_q)` in the construction.
    pub c_eff: Vec<Vec<f64>>,
    /// `tr C / (√d ‖C‖_F)`: cosine of `C_eff` with `I_d` (1 = plain TD direction).
    pub c_identity_cosine: f64,
    /// `|P[2d,2d]| / ‖P‖_F` (whole matrix; rows other than `2d` get little gradient in the last layer).
    pub p_dominance: f64,
    /// `‖proj Q‖_F / ‖Q‖_F` onto the construction's form `[[-X, X, 0], 0, 0]` (whole matrix).
    pub q_cosine: f64,
}

/// [`LayerStructure`] of `(P, Q)`, `(2d+1)×(2d+1)`.
pub fn layer_structure(p: &Mat<f64>, q: &Mat<f64>) -> LayerStructure {
    let d = (p.rows() - 1) / 2;
    let p = DMatrix::from_row_slice(p.rows(), p.cols(), p.as_slice());
    let q = DMatrix::from_row_slice(q.rows(), q.cols(), q.as_slice());
    let m = 2 * d;
    let p_dominance = p[(m, m)].abs() / p.norm().max(f64::MIN_POSITIVE);
    let p_row_dominance = p[(m, m)].abs() / p.row(m).norm().max(f64::MIN_POSITIVE);
    let x = DMatrix::from_fn(d, d, |i, j| 0.5 * (q[(i, d + j)] - q[(i, j)]));
    let q_cosine = (2.0f64).sqrt() * x.norm() / q.norm().max(f64::MIN_POSITIVE);
    let c = DMatrix::from_fn(d, d, |i, j| -p[(m, m)] * q[(j, i)]);
    let tr: f64 = (0..d).map(|i| c[(i, i)]).sum();
    let c_identity_cosine = tr / (c.norm() * (d as f64).sqrt()).max(f64::MIN_POSITIVE);
    LayerStructure {
        p_row_dominance,
        c_eff: (0..d).map(|i| (0..d).map(|j| c[(i, j)]).collect()).collect(),
        c_identity_cosine,
        p_dominance,
        q_cosine,
    }
}

/// `min over layers of min(p_row_dominance, cos(C_eff, I))` (NaN-keeping: a NaN layer makes it NaN).
pub fn structure_cosine(layers: &[LayerStructure]) -> f64 {
    layers.iter().map(|l| l.p_row_dominance.min(l.c_identity_cosine)).fold(f64::INFINITY, |a, b| {
        if a.is_nan() || b.is_nan() {
            f64::NAN
        } else {
            a.min(b)
        }
    })
}

/// One layer as `icrl probe --family linear-td` reports it.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeLayer {
    /// Recovered scalar preconditioner `c_l = P[2d,2d] κ̂`.
    pub c: f64,
    /// `C_eff` (rows).
    pub c_eff: Vec<Vec<f64>>,
    /// `|P[2d,2d]| / ‖P[2d,:]‖`.
    pub readout_dominance: f64,
    /// `cos(C_eff, I)`.
    pub cos_c_eff_identity: f64,
    /// `sqrt((sin²θ_P + sin²θ_Q)/2)` to the scalar-preconditioner family.
    pub manifold_distance: f64,
    /// `|P[2d,2d]| / ‖P‖_F`.
    pub p_dominance: f64,
    /// `‖proj Q‖_F / ‖Q‖_F` onto `[[-X, X, 0], 0, 0]`.
    pub q_cosine: f64,
}

/// What `icrl probe --family linear-td` reports.
#[derive(Clone, Debug, Serialize)]
pub struct TdProbe {
    /// `"linear-td"`.
    pub family: &'static str,
    /// `d` (from `2d + 1`).
    pub d: usize,
    /// Per layer.
    pub layers: Vec<ProbeLayer>,
    /// Max over layers of the layer distance.
    pub manifold_distance: f64,
    /// Max over prompts of `‖Ŵ − W‖` (the stack's implied weights against preconditioned batch
    /// TD with the `C_eff`, every layer) in units of the typical weight size on the prompt
    /// distribution, `max(rms ‖Ŵ‖, rms ‖W‖)` (`proofs/probe.md`).
    pub td_error: f64,
    /// Median of the same.
    pub td_error_median: f64,
    /// Max over prompts of the per-prompt relative error `‖Ŵ − W‖ / max(‖Ŵ‖, ‖W‖)`: ill-conditioned
    /// where TD's own weights nearly cancel (`Σ r_i φ_i ≈ 0`, likeliest at `d = 1`).
    pub td_error_per_prompt_max: f64,
    /// `structure_cosine` as `icrl train td` defines it.
    pub structure_cosine: f64,
    /// The prompts the errors are measured on.
    pub prompts: String,
}

/// `C_eff` of a layer as a matrix.
pub fn c_eff(p: &Mat<f64>, q: &Mat<f64>) -> Mat<f64> {
    let m = p.rows() - 1;
    let d = m / 2;
    Mat::from_fn(d, d, |i, j| -p[(m, m)] * q[(j, i)])
}

/// Probe a stack.
pub fn probe(layers: &[(Mat<f64>, Mat<f64>)], dist: PromptDist) -> TdProbe {
    let d = (layers[0].0.rows() - 1) / 2;
    let (p_star, q_star) = (p_td::<f64>(d), q_td::<f64>(&Mat::identity(d)));
    let qq = dot(q_star.as_slice(), q_star.as_slice());
    let per_layer: Vec<ProbeLayer> = layers
        .iter()
        .map(|(p, q)| {
            let st = layer_structure(p, q);
            let kappa = dot(q.as_slice(), q_star.as_slice()) / qq;
            let dist = (0.5 * (sin2(p, &p_star) + sin2(q, &q_star))).sqrt();
            ProbeLayer {
                c: p[(2 * d, 2 * d)] * kappa,
                c_eff: st.c_eff,
                readout_dominance: st.p_row_dominance,
                cos_c_eff_identity: st.c_identity_cosine,
                manifold_distance: dist,
                p_dominance: st.p_dominance,
                q_cosine: st.q_cosine,
            }
        })
        .collect();
    let cs: Vec<Mat<f64>> = layers.iter().map(|(p, q)| c_eff(p, q)).collect();
    let errs: Vec<(f64, f64, f64)> = (0..dist.prompts as u64)
        .into_par_iter()
        .map(|k| {
            let mut rng = case_rng(dist.seed, "probe/td-prompts", k);
            let (b, _) = draw_batch(&mut rng, d, dist.n);
            let mask = query_mask::<f64>(dist.n);
            // The stack's implied weights: with the query mask no context column reads the query,
            // so every layer's readout is linear in φ_q and the d unit queries determine it
            // (`ŵ_l[j]` = readout of layer l on query e_j), for any (P_l, Q_l).
            let mut tf = vec![0.0; layers.len() * d];
            for j in 0..d {
                let e_j: Vec<f64> = (0..d).map(|i| if i == j { 1.0 } else { 0.0 }).collect();
                let mut z = td_prompt(&b, &e_j);
                for (l, (p, q)) in layers.iter().enumerate() {
                    z = masked_layer(&z, p, q, &mask);
                    tf[l * d + j] = td_readout(&z);
                }
            }
            let td: Vec<f64> = td_iterates(&b, &cs, &TdVariant::Td0).concat();
            let nrm = |x: &[f64]| dot(x, x).sqrt();
            let diff: Vec<f64> = tf.iter().zip(&td).map(|(a, c)| a - c).collect();
            (nrm(&diff), nrm(&tf), nrm(&td))
        })
        .collect();
    let rms =
        |f: fn(&(f64, f64, f64)) -> f64| (errs.iter().map(|e| f(e).powi(2)).sum::<f64>() / errs.len() as f64).sqrt();
    let scale = rms(|e| e.1).max(rms(|e| e.2)).max(f64::MIN_POSITIVE);
    let (med, max) = median_max(&errs.iter().map(|e| e.0 / scale).collect::<Vec<_>>());
    let (_, per_prompt_max) =
        median_max(&errs.iter().map(|e| e.0 / e.1.max(e.2).max(f64::MIN_POSITIVE)).collect::<Vec<_>>());
    let structures: Vec<LayerStructure> = layers.iter().map(|(p, q)| layer_structure(p, q)).collect();
    TdProbe {
        family: "linear-td",
        d,
        manifold_distance: per_layer.iter().map(|l| l.manifold_distance).fold(0.0, f64::max),
        layers: per_layer,
        td_error: max,
        td_error_median: med,
        td_error_per_prompt_max: per_prompt_max,
        structure_cosine: structure_cosine(&structures),
        prompts: format!("{}; the d unit queries e_j", dist.describe()),
    }
}

/// The nearest scalar-preconditioner layer `(P[2d,2d] P^TD, Q^TD(κ̂ I))` of a layer.
pub fn nearest_layer(p: &Mat<f64>, q: &Mat<f64>) -> (Mat<f64>, Mat<f64>) {
    let d = (p.rows() - 1) / 2;
    let q_star = q_td::<f64>(&Mat::identity(d));
    let kappa = dot(q.as_slice(), q_star.as_slice()) / dot(q_star.as_slice(), q_star.as_slice());
    (p_td::<f64>(d).scale(&p[(2 * d, 2 * d)]), q_star.scale(&kappa))
}
