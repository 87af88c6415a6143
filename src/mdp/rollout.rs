//! Trajectory windows `(s_0, a_0, r_1, s_1, a_1, r_2, …, s_n, a_n)` (`docs/theory/notation.md`).

use super::policy::{sample_categorical, TabularPolicy};
use super::{features::Features, Mdp};
use crate::error::{finite, InputError};
use rand::Rng;

/// `n` transitions: `n+1` states and actions and `n` rewards (`rewards[i] = r_{i+1}`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Trajectory {
    /// `s_0 … s_n`
    pub states: Vec<usize>,
    /// `a_0 … a_n` (all 0 for an MRP)
    pub actions: Vec<usize>,
    /// `r_1 … r_n`
    pub rewards: Vec<f64>,
}

impl Trajectory {
    /// Number of transitions `n`.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }
    /// `n == 0`.
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }

    /// Check lengths, ranges and feasibility against `mdp`: every step possible
    /// (`p(s_{i+1}|s_i,a_i) > 0`) and every reward the MDP's `r(s_i,a_i,s_{i+1})` (exactly).
    pub fn validate(&self, mdp: &Mdp) -> Result<(), InputError> {
        let n = self.rewards.len();
        if n == 0 {
            return Err(InputError::new("trajectory.rewards", "needs at least one transition"));
        }
        if self.states.len() != n + 1 {
            return Err(InputError::new(
                "trajectory.states",
                format!("has {} entries, expected n+1 = {} for {n} rewards", self.states.len(), n + 1),
            ));
        }
        if self.actions.len() != n + 1 {
            return Err(InputError::new(
                "trajectory.actions",
                format!("has {} entries, expected n+1 = {} for {n} rewards", self.actions.len(), n + 1),
            ));
        }
        for (i, &s) in self.states.iter().enumerate() {
            if s >= mdp.n_states() {
                return Err(InputError::new(
                    format!("trajectory.states[{i}]"),
                    format!("state {s} out of range 0..{}", mdp.n_states()),
                ));
            }
        }
        for (i, &a) in self.actions.iter().enumerate() {
            if a >= mdp.n_actions() {
                return Err(InputError::new(
                    format!("trajectory.actions[{i}]"),
                    format!("action {a} out of range 0..{}", mdp.n_actions()),
                ));
            }
        }
        for i in 0..n {
            finite(|| format!("trajectory.rewards[{i}]"), self.rewards[i])?;
            let (s, a, s2) = (self.states[i], self.actions[i], self.states[i + 1]);
            if !(mdp.p(s, a, s2) > 0.0) {
                return Err(InputError::new(
                    format!("trajectory.states[{}]", i + 1),
                    format!("impossible step {s} --{a}--> {s2}: p = 0"),
                ));
            }
            let r = mdp.r(s, a, s2);
            if self.rewards[i] != r {
                return Err(InputError::new(
                    format!("trajectory.rewards[{i}]"),
                    format!("reward {} differs from the MDP's r({s},{a},{s2}) = {r}", self.rewards[i]),
                ));
            }
        }
        Ok(())
    }
}

/// An MRP rollout of `n` transitions from its initial distribution `p0`.
pub fn mrp_rollout<R: Rng + ?Sized>(rng: &mut R, mrp: &super::Mrp, n: usize) -> Trajectory {
    let mdp = mrp.as_mdp();
    let pi = TabularPolicy::uniform(mrp.n_states(), 1);
    let s0 = sample_categorical(rng, mrp.initial());
    rollout(rng, &mdp, &pi, s0, n)
}

/// Roll out `n` transitions (and the final next action) of `pi` from `s0`.
pub fn rollout<R: Rng + ?Sized>(rng: &mut R, mdp: &Mdp, pi: &TabularPolicy, s0: usize, n: usize) -> Trajectory {
    let mut t = Trajectory {
        states: Vec::with_capacity(n + 1),
        actions: Vec::with_capacity(n + 1),
        rewards: Vec::with_capacity(n),
    };
    rollout_into(rng, mdp, pi, s0, n, &mut t);
    t
}

/// [`rollout`] into `t`, reusing its buffers (the same draws; no allocation once they are
/// large enough).
pub fn rollout_into<R: Rng + ?Sized>(
    rng: &mut R,
    mdp: &Mdp,
    pi: &TabularPolicy,
    s0: usize,
    n: usize,
    t: &mut Trajectory,
) {
    t.states.clear();
    t.actions.clear();
    t.rewards.clear();
    let mut s = s0;
    let mut a = pi.sample(rng, s);
    for _ in 0..n {
        t.states.push(s);
        t.actions.push(a);
        let s2 = sample_categorical(rng, mdp.p_row(s, a));
        t.rewards.push(mdp.r(s, a, s2));
        s = s2;
        a = pi.sample(rng, s);
    }
    t.states.push(s);
    t.actions.push(a);
}

/// Draw `s_0 ~ p0`, then [`rollout`].
pub fn rollout_from_initial<R: Rng + ?Sized>(rng: &mut R, mdp: &Mdp, pi: &TabularPolicy, n: usize) -> Trajectory {
    let s0 = sample_categorical(rng, mdp.initial());
    rollout(rng, mdp, pi, s0, n)
}

/// [`rollout_from_initial`] into `t`, reusing its buffers.
pub fn rollout_from_initial_into<R: Rng + ?Sized>(
    rng: &mut R,
    mdp: &Mdp,
    pi: &TabularPolicy,
    n: usize,
    t: &mut Trajectory,
) {
    let s0 = sample_categorical(rng, mdp.initial());
    rollout_into(rng, mdp, pi, s0, n, t);
}

/// ε-greedy w.r.t. `wᵀφ` rollout without building the policy table (the hot path of the
/// teacher-mimicking stream and of `verify`).
pub fn rollout_epsilon_greedy<R: Rng + ?Sized>(
    rng: &mut R,
    mdp: &Mdp,
    phi: &Features,
    w: &[f64],
    eps: f64,
    s0: usize,
    n: usize,
) -> Trajectory {
    let pi = TabularPolicy::epsilon_greedy(phi, w, eps);
    rollout(rng, mdp, &pi, s0, n)
}
