//! Batch TD(0), TD(λ) and residual-gradient updates on state features ([WB] §3,
//! arXiv:2405.13861, [Q]), written from their definitions, with a general `d×d`
//! preconditioner `C`.
//!
//! With `φ_i = x(S_i)`, `φ'_i = x(S_{i+1})`, `δ_i(w) = r_i + γ wᵀφ'_i - wᵀφ_i`:
//! - TD(0): `w ← w + (1/n) C Σ_i δ_i φ_i`
//! - TD(λ): `w ← w + (1/n) C Σ_j δ_j e_j`, `e_j = λ e_{j-1} + φ_j`, `e_{-1} = 0`
//! - residual gradient: `w ← w + (1/n) C Σ_i δ_i (φ_i - γ φ'_i)`

use crate::linalg::{dot, Mat};
use crate::mdp::batch::TransitionBatch;
use crate::scalar::Scalar;

/// Which update.
#[derive(Clone, Debug, PartialEq)]
pub enum TdVariant<T> {
    /// TD(0).
    Td0,
    /// TD(λ) with eligibility traces.
    TdLambda(T),
    /// Residual gradient.
    ResidualGradient,
}

/// `δ_i(w)` for every transition.
pub fn td_errors<T: Scalar>(b: &TransitionBatch<T>, w: &[T]) -> Vec<T> {
    (0..b.len()).map(|i| delta(b, w, i)).collect()
}

fn delta<T: Scalar>(b: &TransitionBatch<T>, w: &[T], i: usize) -> T {
    b.rewards[i].clone() + b.gamma.clone() * dot(w, &b.phi_next[i]) - dot(w, &b.phi[i])
}

/// One batch step with preconditioner `c`.
pub fn td_step<T: Scalar>(b: &TransitionBatch<T>, w: &[T], c: &Mat<T>, variant: &TdVariant<T>) -> Vec<T> {
    let d = w.len();
    let n = T::from_ratio(b.len() as i64, 1);
    let mut g = vec![T::zero(); d];
    let mut e = vec![T::zero(); d];
    for i in 0..b.len() {
        let di = delta(b, w, i);
        match variant {
            TdVariant::Td0 => {
                for k in 0..d {
                    g[k].add_mul(&di, &b.phi[i][k]);
                }
            }
            TdVariant::TdLambda(lambda) => {
                for k in 0..d {
                    e[k] = lambda.clone() * &e[k] + b.phi[i][k].clone();
                    g[k].add_mul(&di, &e[k]);
                }
            }
            TdVariant::ResidualGradient => {
                for k in 0..d {
                    let dir = b.phi[i][k].clone() - b.gamma.clone() * &b.phi_next[i][k];
                    g[k].add_mul(&di, &dir);
                }
            }
        }
    }
    let mut out = w.to_vec();
    for r in 0..d {
        let cg = dot(c.row(r), &g);
        out[r] = out[r].clone() + cg / n.clone();
    }
    out
}

/// `L` steps from `w_0 = 0` with per-layer preconditioners; returns `w_1 … w_L`.
pub fn td_iterates<T: Scalar>(b: &TransitionBatch<T>, cs: &[Mat<T>], variant: &TdVariant<T>) -> Vec<Vec<T>> {
    let mut w = vec![T::zero(); b.dim()];
    let mut out = Vec::with_capacity(cs.len());
    for c in cs {
        w = td_step(b, &w, c, variant);
        out.push(w.clone());
    }
    out
}
