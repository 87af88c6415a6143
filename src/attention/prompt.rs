//! Prompt layouts: how a batch of transitions and a parameter become the input matrix of an
//! attention layer. Only layout: no update rule.

use crate::linalg::Mat;
use crate::mdp::batch::{Pairing, TransitionBatch};
use crate::mdp::features::Features;
use crate::mdp::rollout::Trajectory;
use crate::scalar::Scalar;

/// The transformer side's pairing: context column `i` holds `φ(s_i, a_i)` and the recorded
/// next pair `φ(s_{i+1}, a_{i+1})` ([LL] eq. 4, [WB] prompt).
pub fn next_pair(traj: &Trajectory, i: usize) -> (usize, usize) {
    (traj.states[i + 1], traj.actions[i + 1])
}

/// The context columns of a prompt, read by the transformer side from the raw trajectory:
/// `φ_i = φ(s_i, a_i)`, `φ⁺_i = φ(pairing(traj, i))`, `r_{i+1}`, `γ` (each `f64` read exactly).
pub fn context<T: Scalar>(features: &Features, traj: &Trajectory, gamma: f64, pairing: Pairing) -> TransitionBatch<T> {
    let n = traj.len();
    let conv = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
    let mut phi = Vec::with_capacity(n);
    let mut phi_next = Vec::with_capacity(n);
    for i in 0..n {
        phi.push(conv(features.phi(traj.states[i], traj.actions[i])));
        let (s2, a2) = pairing(traj, i);
        phi_next.push(conv(features.phi(s2, a2)));
    }
    TransitionBatch {
        phi,
        phi_next,
        rewards: traj.rewards.iter().map(|&r| T::from_f64(r)).collect(),
        gamma: T::from_f64(gamma),
    }
}

/// [LL] eq. 4 [Q]: `H ∈ R^{(3d+2)×(n+1)}`; data column `i` is `x_i = [φ_i; γφ⁺_i; r_{i+1}]` over
/// zeros, the last column is the parameter column `[0; 0; 0; 1; w]`.
pub fn sarsa_prompt<T: Scalar>(b: &TransitionBatch<T>, w: &[T]) -> Mat<T> {
    actor_critic_prompt(b, &[], w, &[])
}

/// [R] actor-critic prompt: tokens `x_i = [f_i; γf⁺_i; r_{i+1}; ψ_i]`, parameter column
/// `[1; w; λ]`; `D = 3d + 2 + 2 d_π`. With no scores it is [`sarsa_prompt`].
pub fn actor_critic_prompt<T: Scalar>(b: &TransitionBatch<T>, scores: &[Vec<T>], w: &[T], lambda: &[T]) -> Mat<T> {
    let mut h = Mat::zeros(0, 0);
    actor_critic_prompt_into(&mut h, b, scores, w, lambda);
    h
}

/// [`sarsa_prompt`] of [`context`] read straight from the raw trajectory into `h`, without the
/// intermediate batch: the transformer side's own reading (`φ_i = φ(s_i, a_i)`,
/// `φ⁺_i = φ(pairing(traj, i))`, `r_{i+1}`, `γ`, each `f64` read exactly, `γφ⁺_i` formed in `T`
/// as [`sarsa_prompt`] forms it), so `sarsa_prompt(&context(features, traj, gamma, pairing), w)`
/// bit for bit (tested). The buffer is cleared and refilled (no allocation once it has the
/// shape: the hot loop of `icrl bench`).
///
/// # Panics
/// If the features' dimension is not `w.len()` (a programming error).
pub fn sarsa_prompt_from_trajectory_into<T: Scalar>(
    h: &mut Mat<T>,
    features: &Features,
    traj: &Trajectory,
    gamma: f64,
    w: &[T],
    pairing: Pairing,
) {
    let (n, d) = (traj.len(), w.len());
    assert_eq!(features.dim(), d, "sarsa_prompt_from_trajectory_into: feature dimension is not len(w)");
    let (rows, cols) = (3 * d + 2, n + 1);
    h.reset_zeros(rows, cols); // one clearing pass (a memset in f64); no allocation at the same size
    let g = T::from_f64(gamma);
    let data = h.as_mut_slice();
    for i in 0..n {
        let phi = features.phi(traj.states[i], traj.actions[i]);
        let (s2, a2) = pairing(traj, i);
        let phi_next = features.phi(s2, a2);
        for (k, (&x, &y)) in phi.iter().zip(phi_next).enumerate() {
            data[k * cols + i] = T::from_f64(x);
            data[(d + k) * cols + i] = g.clone() * &T::from_f64(y);
        }
        data[2 * d * cols + i] = T::from_f64(traj.rewards[i]);
    }
    data[(2 * d + 1) * cols + n] = T::one();
    for (k, wk) in w.iter().enumerate() {
        data[(2 * d + 2 + k) * cols + n] = wk.clone();
    }
}

/// [`sarsa_prompt`] written into `h` (reusing its buffer).
pub fn sarsa_prompt_into<T: Scalar>(h: &mut Mat<T>, b: &TransitionBatch<T>, w: &[T]) {
    actor_critic_prompt_into(h, b, &[], w, &[])
}

/// [`actor_critic_prompt`] written into `h` (reusing its buffer).
pub fn actor_critic_prompt_into<T: Scalar>(
    h: &mut Mat<T>,
    b: &TransitionBatch<T>,
    scores: &[Vec<T>],
    w: &[T],
    lambda: &[T],
) {
    let (n, d) = (b.len(), w.len());
    let dp = lambda.len();
    let tok = 2 * d + 1 + dp;
    let rows = tok + 1 + d + dp;
    h.reset_zeros(rows, n + 1);
    for i in 0..n {
        for k in 0..d {
            h[(k, i)] = b.phi[i][k].clone();
            h[(d + k, i)] = b.gamma.clone() * &b.phi_next[i][k];
        }
        h[(2 * d, i)] = b.rewards[i].clone();
        for k in 0..dp {
            h[(2 * d + 1 + k, i)] = scores[i][k].clone();
        }
    }
    h[(tok, n)] = T::one();
    for k in 0..d {
        h[(tok + 1 + k, n)] = w[k].clone();
    }
    for k in 0..dp {
        h[(tok + 1 + d + k, n)] = lambda[k].clone();
    }
}

/// Readout of [`sarsa_prompt`]/[`actor_critic_prompt`] outputs: the parameter rows of the last
/// column after the constant 1 (`w`, then `λ` if any).
pub fn parameter_readout<T: Scalar>(last_column: &[T], token_len: usize) -> Vec<T> {
    last_column[token_len + 1..].to_vec()
}

/// [WB] prompt [Q]: `Z_0 ∈ R^{(2d+1)×(n+1)}`, context column `[φ_i; γφ'_i; r_i]`, query column
/// `[φ_q; 0; 0]`.
pub fn td_prompt<T: Scalar>(b: &TransitionBatch<T>, phi_q: &[T]) -> Mat<T> {
    let (n, d) = (b.len(), phi_q.len());
    let mut z = Mat::zeros(2 * d + 1, n + 1);
    for i in 0..n {
        for k in 0..d {
            z[(k, i)] = b.phi[i][k].clone();
            z[(d + k, i)] = b.gamma.clone() * &b.phi_next[i][k];
        }
        z[(2 * d, i)] = b.rewards[i].clone();
    }
    for k in 0..d {
        z[(k, n)] = phi_q[k].clone();
    }
    z
}

/// [WB] readout `v̂ = -Z[2d, n]`.
pub fn td_readout<T: Scalar>(z: &Mat<T>) -> T {
    -z[(z.rows() - 1, z.cols() - 1)].clone()
}
