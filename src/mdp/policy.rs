//! Policies (`docs/theory/notation.md` "Policies"): tabular `π(a|s)`, ε-greedy w.r.t. `Q_w`, and the
//! softmax policy `π_λ(a|s) ∝ exp(λᵀφ_π(s,a))` with its score `g_λ = ∇_λ log π_λ`.

use super::features::Features;
use rand::Rng;

/// `π(a|s)` as a table. (`Default` is the empty buffer that
/// [`TabularPolicy::epsilon_greedy_into`] fills.)
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TabularPolicy {
    n_states: usize,
    n_actions: usize,
    probs: Vec<f64>,
}

impl TabularPolicy {
    /// The uniform policy.
    pub fn uniform(n_states: usize, n_actions: usize) -> Self {
        TabularPolicy { n_states, n_actions, probs: vec![1.0 / n_actions as f64; n_states * n_actions] }
    }
    /// A deterministic policy from one action per state.
    pub fn deterministic(n_actions: usize, actions: &[usize]) -> Self {
        let mut probs = vec![0.0; actions.len() * n_actions];
        for (s, &a) in actions.iter().enumerate() {
            probs[s * n_actions + a] = 1.0;
        }
        TabularPolicy { n_states: actions.len(), n_actions, probs }
    }
    /// ε-greedy w.r.t. `Q_w(s,a) = wᵀφ(s,a)`: greedy action (ties: lowest index) w.p. `1-ε`,
    /// uniform w.p. `ε`.
    pub fn epsilon_greedy(phi: &Features, w: &[f64], eps: f64) -> Self {
        let mut pi = TabularPolicy { n_states: 0, n_actions: 0, probs: Vec::new() };
        pi.epsilon_greedy_into(phi, w, eps);
        pi
    }
    /// [`TabularPolicy::epsilon_greedy`] into `self`, reusing its buffer.
    pub fn epsilon_greedy_into(&mut self, phi: &Features, w: &[f64], eps: f64) {
        let (ns, na) = (phi.n_states(), phi.n_actions());
        self.n_states = ns;
        self.n_actions = na;
        self.probs.clear();
        self.probs.resize(ns * na, eps / na as f64);
        for s in 0..ns {
            let g = greedy_action(phi, w, s);
            self.probs[s * na + g] += 1.0 - eps;
        }
    }
    /// Softmax `π_λ(a|s) ∝ exp(λᵀφ_π(s,a))`, computed stably.
    pub fn softmax(policy_features: &Features, lambda: &[f64]) -> Self {
        let (ns, na) = (policy_features.n_states(), policy_features.n_actions());
        let mut probs = vec![0.0; ns * na];
        for s in 0..ns {
            let logits: Vec<f64> = (0..na).map(|a| policy_features.q(lambda, s, a)).collect();
            let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = logits.iter().map(|l| (l - m).exp()).sum();
            for a in 0..na {
                probs[s * na + a] = (logits[a] - m).exp() / z;
            }
        }
        TabularPolicy { n_states: ns, n_actions: na, probs }
    }
    /// `π(a|s)`.
    #[inline]
    pub fn prob(&self, s: usize, a: usize) -> f64 {
        self.probs[s * self.n_actions + a]
    }
    /// `π(·|s)`.
    pub fn row(&self, s: usize) -> &[f64] {
        &self.probs[s * self.n_actions..(s + 1) * self.n_actions]
    }
    /// `|S|`.
    pub fn n_states(&self) -> usize {
        self.n_states
    }
    /// `|A|`.
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }
    /// Draw `a ~ π(·|s)`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R, s: usize) -> usize {
        sample_categorical(rng, self.row(s))
    }
}

/// `argmax_a wᵀφ(s,a)`, ties to the lowest index.
///
/// The `Q_w(s,a)` are [`Features::q`] bit for bit (each summed in `k` order from zero; the
/// sign of a zero sum cannot change the argmax), computed four actions at a time so that four
/// independent sums overlap instead of waiting on one another (the hot loop of the
/// `sarsa-paper` benchmark; `tests::greedy_action_is_the_argmax_of_q` compares them).
pub fn greedy_action(phi: &Features, w: &[f64], s: usize) -> usize {
    let na = phi.n_actions();
    let d = phi.dim().min(w.len());
    let w = &w[..d];
    let mut best = 0;
    let mut bq = f64::NEG_INFINITY;
    for a0 in (0..na).step_by(4) {
        let rows: [&[f64]; 4] = std::array::from_fn(|j| &phi.phi(s, (a0 + j).min(na - 1))[..d]);
        let mut q = [0.0f64; 4];
        for (k, &wk) in w.iter().enumerate() {
            for j in 0..4 {
                q[j] += rows[j][k] * wk;
            }
        }
        for (j, &qj) in q.iter().enumerate().take(na - a0) {
            if qj > bq {
                bq = qj;
                best = a0 + j;
            }
        }
    }
    best
}

/// The softmax score `g_λ(s,a) = φ_π(s,a) - Σ_b π_λ(b|s) φ_π(s,b)`.
pub fn softmax_score(policy_features: &Features, pi: &TabularPolicy, s: usize, a: usize) -> Vec<f64> {
    let d = policy_features.dim();
    let mut g = policy_features.phi(s, a).to_vec();
    for b in 0..policy_features.n_actions() {
        let p = pi.prob(s, b);
        for k in 0..d {
            g[k] -= p * policy_features.phi(s, b)[k];
        }
    }
    g
}

/// Inverse-CDF draw from a probability vector (the last index absorbs rounding).
pub fn sample_categorical<R: Rng + ?Sized>(rng: &mut R, p: &[f64]) -> usize {
    let u: f64 = rng.random();
    let mut c = 0.0;
    for (i, &x) in p.iter().enumerate() {
        c += x;
        if u < c {
            return i;
        }
    }
    // Rounding: return the last index with positive probability.
    p.iter().rposition(|&x| x > 0.0).unwrap_or(p.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::case_rng;

    /// The four-at-a-time sums are [`Features::q`] (same order), so the greedy action is the
    /// argmax of `q` with ties to the lowest index, for 1 to 9 actions; tied actions (copied
    /// features) keep the lowest index, and a raised `Q` of another action moves the argmax
    /// (negative control).
    #[test]
    fn greedy_action_is_the_argmax_of_q() {
        for k in 0..200u64 {
            let mut rng = case_rng(11, "greedy", k);
            let (ns, na, d) = (1 + k as usize % 3, 1 + k as usize % 9, 1 + k as usize % 37);
            let f = Features::random(&mut rng, ns, na, d);
            let w: Vec<f64> = (0..d).map(|_| rand::Rng::random_range(&mut rng, -1.0..1.0)).collect();
            for s in 0..ns {
                let qs: Vec<f64> = (0..na).map(|a| f.q(&w, s, a)).collect();
                let want = (0..na).fold(0, |b, a| if qs[a] > qs[b] { a } else { b });
                assert_eq!(greedy_action(&f, &w, s), want, "case {k} state {s}");
            }
        }
        // Ties: every action has the same features → action 0; then raise action 2's value.
        let row = vec![0.5, -0.25, 1.0];
        let data: Vec<f64> = (0..5).flat_map(|_| row.clone()).collect();
        let mut f = Features::from_flat(1, 5, 3, data.clone()).expect("valid");
        let w = [1.0, 1.0, 1.0];
        assert_eq!(greedy_action(&f, &w, 0), 0);
        let mut raised = data;
        raised[2 * 3] += 1e-9;
        f = Features::from_flat(1, 5, 3, raised).expect("valid");
        assert_eq!(greedy_action(&f, &w, 0), 2, "a larger Q must win");
    }
}
