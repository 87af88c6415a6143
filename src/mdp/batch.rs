//! A batch of transitions as data: what both sides of a linear-attention identity read.
//!
//! `phi[i] = φ(s_i,a_i)`, `phi_next[i] = φ(s_{i+1},a_{i+1})` (the **recorded** next pair),
//! `rewards[i] = r_{i+1}`, and `gamma`. Built from a trajectory and features, or drawn freely
//! (every entry independent) for the Schwartz–Zippel certificates. It holds numbers only: no
//! update rule and no prompt layout.

use super::{features::Features, rollout::Trajectory};
use crate::scalar::Scalar;

/// How a reader of a trajectory pairs transition `i` with its next state–action pair:
/// `pairing(traj, i) = (s_{i+1}, a_{i+1})` in the recorded reading. The transformer side
/// (`attention::prompt::next_pair`) and the reference side (`rl::pairing::next_pair`) each
/// have their own; the mutation tests substitute one of them.
pub type Pairing = fn(&Trajectory, usize) -> (usize, usize);

/// `n` transitions in scalar type `T`.
#[derive(Clone, Debug, PartialEq)]
pub struct TransitionBatch<T> {
    /// `φ_i`, `i < n`, each of length `d`.
    pub phi: Vec<Vec<T>>,
    /// `φ⁺_i = φ(s_{i+1}, a_{i+1})`.
    pub phi_next: Vec<Vec<T>>,
    /// `r_{i+1}`.
    pub rewards: Vec<T>,
    /// `γ`.
    pub gamma: T,
}

impl<T: Scalar> TransitionBatch<T> {
    /// From a trajectory window and features (`f64` read exactly as dyadic rationals), with
    /// the recorded next pair. The theorem checks do not use it (each side reads the raw
    /// trajectory with its own pairing); training and benchmark paths do.
    pub fn from_trajectory(features: &Features, traj: &Trajectory, gamma: f64) -> Self {
        let mut b = TransitionBatch { phi: Vec::new(), phi_next: Vec::new(), rewards: Vec::new(), gamma: T::zero() };
        b.fill_from_trajectory(features, traj, gamma);
        b
    }
    /// [`TransitionBatch::from_trajectory`] into `self`, reusing its buffers (no allocation once
    /// they are large enough: the hot loop of `icrl bench`).
    pub fn fill_from_trajectory(&mut self, features: &Features, traj: &Trajectory, gamma: f64) {
        let n = traj.len();
        let fill = |dst: &mut Vec<Vec<T>>, next: usize| {
            dst.resize_with(n, Vec::new);
            for (i, v) in dst.iter_mut().enumerate() {
                v.clear();
                v.extend(features.phi(traj.states[i + next], traj.actions[i + next]).iter().map(|&x| T::from_f64(x)));
            }
        };
        fill(&mut self.phi, 0);
        fill(&mut self.phi_next, 1);
        self.rewards.clear();
        self.rewards.extend(traj.rewards.iter().map(|&r| T::from_f64(r)));
        self.gamma = T::from_f64(gamma);
    }
    /// Number of transitions `n`.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }
    /// `n == 0`.
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }
    /// Feature dimension `d`.
    pub fn dim(&self) -> usize {
        self.phi.first().map_or(0, Vec::len)
    }
    /// Convert to another scalar type through `f64` (exact for `f64 → BigRational`).
    pub fn convert<U: Scalar>(&self) -> TransitionBatch<U> {
        let c = |v: &Vec<T>| v.iter().map(|x| U::from_f64(x.to_f64())).collect::<Vec<U>>();
        TransitionBatch {
            phi: self.phi.iter().map(c).collect(),
            phi_next: self.phi_next.iter().map(c).collect(),
            rewards: self.rewards.iter().map(|x| U::from_f64(x.to_f64())).collect(),
            gamma: U::from_f64(self.gamma.to_f64()),
        }
    }
}
