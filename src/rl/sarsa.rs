//! Batch semi-gradient SARSA ([LL] eq. 2, [Q]; arXiv:2605.05755), written from its definition.
//!
//! One synchronous step, every TD error from the same old `w`:
//!
//! `δ_i = r_{i+1} + γ wᵀφ⁺_i - wᵀφ_i`,  `w_SARSA = w + (α/n) Σ_{i<n} δ_i φ_i`.

use crate::linalg::dot;
use crate::mdp::batch::TransitionBatch;
use crate::scalar::Scalar;

/// The TD errors `δ_i(w)` with the recorded next action.
pub fn td_errors<T: Scalar>(b: &TransitionBatch<T>, w: &[T]) -> Vec<T> {
    (0..b.len()).map(|i| td_error(b, w, i)).collect()
}

/// `δ_i(w) = r_{i+1} + γ wᵀφ⁺_i - wᵀφ_i`. The two inner products are summed in one pass, each
/// in the order of `linalg::dot` (so bit for bit `dot(w, φ⁺_i)` and `dot(w, φ_i)` in `f64`): two
/// independent sums that overlap instead of one waiting on the other.
fn td_error<T: Scalar>(b: &TransitionBatch<T>, w: &[T], i: usize) -> T {
    let (mut q_next, mut q) = (T::zero(), T::zero());
    for ((wk, pn), p) in w.iter().zip(&b.phi_next[i]).zip(&b.phi[i]) {
        q_next.add_mul(wk, pn);
        q.add_mul(wk, p);
    }
    b.rewards[i].clone() + b.gamma.clone() * q_next - q
}

/// One batch semi-gradient SARSA step.
pub fn batch_sarsa<T: Scalar>(b: &TransitionBatch<T>, w: &[T], alpha: &T) -> Vec<T> {
    let mut out = Vec::new();
    batch_sarsa_into(b, w, alpha, &mut out);
    out
}

/// [`batch_sarsa`] written into `out` (reusing its buffer: the hot loop of `icrl bench`).
pub fn batch_sarsa_into<T: Scalar>(b: &TransitionBatch<T>, w: &[T], alpha: &T, out: &mut Vec<T>) {
    let n = T::from_ratio(b.len() as i64, 1);
    out.clear();
    out.extend_from_slice(w);
    let step = alpha.clone() / n;
    for i in 0..b.len() {
        let coef = step.clone() * &td_error(b, w, i);
        for (o, p) in out.iter_mut().zip(&b.phi[i]) {
            o.add_mul(&coef, p);
        }
    }
}

/// `L` synchronous steps on the same batch.
pub fn batch_sarsa_steps<T: Scalar>(b: &TransitionBatch<T>, w: &[T], alpha: &T, steps: usize) -> Vec<T> {
    let mut w = w.to_vec();
    for _ in 0..steps {
        w = batch_sarsa(b, &w, alpha);
    }
    w
}

/// The Q-learning target variant `δ_i = r + γ max_b wᵀφ(s_{i+1}, b) - wᵀφ_i` (not linear in the
/// prompt; used by the search showing no linear block matches it). `next_options[i]` lists
/// `φ(s_{i+1}, b)` for every action `b`.
pub fn batch_q_learning(b: &TransitionBatch<f64>, next_options: &[Vec<Vec<f64>>], w: &[f64], alpha: f64) -> Vec<f64> {
    let n = b.len() as f64;
    let mut out = w.to_vec();
    for i in 0..b.len() {
        let best = next_options[i].iter().map(|f| dot(w, f)).fold(f64::NEG_INFINITY, f64::max);
        let d = b.rewards[i] + b.gamma * best - dot(w, &b.phi[i]);
        for (o, p) in out.iter_mut().zip(&b.phi[i]) {
            *o += alpha / n * d * p;
        }
    }
    out
}
