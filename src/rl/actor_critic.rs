//! Batch TD-error actor-critic: our reconstruction [R] of [LL] eq. 3 / Thm 3.3
//! (arXiv:2605.05755; the exact equations were not recovered, see `docs/theory/actor-critic.md`).
//!
//! `δ_i = r_{i+1} + γ wᵀf⁺_i - wᵀf_i`, `w' = w + (α/n) Σ δ_i f_i`, `λ' = λ + (β/n) Σ δ_i ψ_i`
//! with `ψ_i = g_λ(s_i,a_i)` the softmax policy score.

use crate::linalg::dot;
use crate::mdp::batch::TransitionBatch;
use crate::scalar::Scalar;

/// One batch actor-critic step: returns `(w', λ')`.
pub fn batch_actor_critic<T: Scalar>(
    b: &TransitionBatch<T>,
    scores: &[Vec<T>],
    w: &[T],
    lambda: &[T],
    alpha: &T,
    beta: &T,
) -> (Vec<T>, Vec<T>) {
    let n = T::from_ratio(b.len() as i64, 1);
    let mut w2 = w.to_vec();
    let mut l2 = lambda.to_vec();
    let sa = alpha.clone() / n.clone();
    let sb = beta.clone() / n;
    for i in 0..b.len() {
        let d = b.rewards[i].clone() + b.gamma.clone() * dot(w, &b.phi_next[i]) - dot(w, &b.phi[i]);
        let ca = sa.clone() * &d;
        let cb = sb.clone() * &d;
        for (o, f) in w2.iter_mut().zip(&b.phi[i]) {
            o.add_mul(&ca, f);
        }
        for (o, p) in l2.iter_mut().zip(&scores[i]) {
            o.add_mul(&cb, p);
        }
    }
    (w2, l2)
}
