//! The reference side's reading of a trajectory window `s_0, a_0, r_1, s_1, a_1, …, s_n, a_n`:
//! transition `i` is `(s_i, a_i, r_{i+1}, s_{i+1}, a_{i+1})`, the recorded next pair (SARSA's
//! on-policy target, [LL] eq. 2; [WB]'s `φ'_i = x(S_{i+1})` for an MRP). Written here, apart
//! from the prompt builder's reading (`attention::prompt::context`), so that a mistake in one
//! cannot hide in both.

use crate::mdp::batch::{Pairing, TransitionBatch};
use crate::mdp::features::Features;
use crate::mdp::rollout::Trajectory;
use crate::scalar::Scalar;

/// The recorded next pair `(s_{i+1}, a_{i+1})` of transition `i`.
pub fn next_pair(traj: &Trajectory, i: usize) -> (usize, usize) {
    (traj.states[i + 1], traj.actions[i + 1])
}

/// The transitions the reference updates read: `φ_i`, `φ⁺_i` (through `pairing`), `r_{i+1}`
/// and `γ`, every `f64` read exactly (a dyadic rational for `BigRational`).
pub fn transitions<T: Scalar>(
    features: &Features,
    traj: &Trajectory,
    gamma: f64,
    pairing: Pairing,
) -> TransitionBatch<T> {
    let mut b = TransitionBatch { phi: Vec::new(), phi_next: Vec::new(), rewards: Vec::new(), gamma: T::zero() };
    transitions_into(features, traj, gamma, pairing, &mut b);
    b
}

/// [`transitions`] into `b`, reusing its buffers (the same values; no allocation once they are
/// large enough: the hot loop of `icrl bench`).
pub fn transitions_into<T: Scalar>(
    features: &Features,
    traj: &Trajectory,
    gamma: f64,
    pairing: Pairing,
    b: &mut TransitionBatch<T>,
) {
    let n = traj.rewards.len();
    b.gamma = T::from_f64(gamma);
    b.phi.resize_with(n, Vec::new);
    b.phi_next.resize_with(n, Vec::new);
    b.rewards.clear();
    for i in 0..n {
        let (s, a) = (traj.states[i], traj.actions[i]);
        let (s2, a2) = pairing(traj, i);
        b.phi[i].clear();
        b.phi[i].extend(features.phi(s, a).iter().map(|&x| T::from_f64(x)));
        b.phi_next[i].clear();
        b.phi_next[i].extend(features.phi(s2, a2).iter().map(|&x| T::from_f64(x)));
        b.rewards.push(T::from_f64(traj.rewards[i]));
    }
}
