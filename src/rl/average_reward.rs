//! Average-reward batch TD ([WB], arXiv:2405.13861, the reference of their
//! `verification/` script) [Q], written from its definition with a general `d×d` preconditioner.
//!
//! There is no discount (`γ = 1`). With the running reward average over the context
//! `r̄_j = (1/(j+1)) Σ_{k≤j} r_k` (the average of the rewards seen *so far*, not of the whole
//! window), `φ_i = x(S_i)` and `φ'_i = x(S_{i+1})`:
//!
//! ```text
//! w_{l+1} = w_l + (1/n) C_l Σ_{i<n} (r_i − r̄_i + w_lᵀφ'_i − w_lᵀφ_i) φ_i,   w_0 = 0.
//! ```
//!
//! The batch's `gamma` is not read: the update is undiscounted by definition.

use crate::linalg::{dot, Mat};
use crate::mdp::batch::TransitionBatch;
use crate::scalar::Scalar;

/// `r̄_j = (1/(j+1)) Σ_{k≤j} r_k` for `j < n`.
pub fn running_average<T: Scalar>(rewards: &[T]) -> Vec<T> {
    let mut sum = T::zero();
    let mut out = Vec::with_capacity(rewards.len());
    for (j, r) in rewards.iter().enumerate() {
        sum = sum + r;
        out.push(sum.clone() / T::from_ratio(j as i64 + 1, 1));
    }
    out
}

/// The differential TD errors `r_i − r̄_i + wᵀφ'_i − wᵀφ_i`.
pub fn differential_td_errors<T: Scalar>(b: &TransitionBatch<T>, w: &[T]) -> Vec<T> {
    let r_bar = running_average(&b.rewards);
    (0..b.len()).map(|i| b.rewards[i].clone() - r_bar[i].clone() + dot(w, &b.phi_next[i]) - dot(w, &b.phi[i])).collect()
}

/// One batch step with preconditioner `c`.
pub fn average_reward_td_step<T: Scalar>(b: &TransitionBatch<T>, w: &[T], c: &Mat<T>) -> Vec<T> {
    let d = w.len();
    let deltas = differential_td_errors(b, w);
    let mut g = vec![T::zero(); d];
    for (i, delta) in deltas.iter().enumerate() {
        for k in 0..d {
            g[k].add_mul(delta, &b.phi[i][k]);
        }
    }
    let n = T::from_ratio(b.len() as i64, 1);
    (0..d).map(|r| w[r].clone() + dot(c.row(r), &g) / n.clone()).collect()
}

/// `L` steps from `w_0 = 0` with per-layer preconditioners; returns `w_1 … w_L`.
pub fn average_reward_td_iterates<T: Scalar>(b: &TransitionBatch<T>, cs: &[Mat<T>]) -> Vec<Vec<T>> {
    let mut w = vec![T::zero(); b.dim()];
    cs.iter()
        .map(|c| {
            w = average_reward_td_step(b, &w, c);
            w.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_rational::BigRational;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::from_ratio(n, d)
    }

    /// Hand-computed: d = 1, n = 2, φ = (1, 2), φ' = (3, -1), r = (2, 4), C = 1, w_0 = 0:
    /// r̄ = (2, 3), δ = (0, 1), w_1 = (0·1 + 1·2)/2 = 1; then δ(w_1) = (0 + 3 − 1, 1 − 1 − 2) = (2, −2),
    /// w_2 = 1 + (2·1 − 2·2)/2 = 0.
    #[test]
    fn hand_computed_two_steps() {
        let b = TransitionBatch {
            phi: vec![vec![q(1, 1)], vec![q(2, 1)]],
            phi_next: vec![vec![q(3, 1)], vec![q(-1, 1)]],
            rewards: vec![q(2, 1), q(4, 1)],
            gamma: q(1, 2), // not read
        };
        assert_eq!(running_average(&b.rewards), vec![q(2, 1), q(3, 1)]);
        let c = Mat::identity(1);
        let ws = average_reward_td_iterates(&b, &[c.clone(), c]);
        assert_eq!(ws, vec![vec![q(1, 1)], vec![q(0, 1)]]);
    }
}
