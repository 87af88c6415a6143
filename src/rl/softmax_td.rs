//! Weighted softmax TD ([XZ] eqs. 8–9, 20, 22; arXiv:2605.07333), written from its definition
//! on the trajectory, never through attention code. `docs/theory/softmax-td.md`, `docs/theory/contraction.md`.
//!
//! On a fixed context `S_0, R_1, S_1, …, R_n, S_n`, with every `δ` from the same `v_l` [Q]:
//!
//! ```text
//! δ_k = R_k + γ v_l(S_k) - v_l(S_{k-1})                                k = 1..n
//! K(S_{k-1}, s) = exp(g(s, S_{k-1})) / Σ_{m=1..n} exp(g(s, S_{m-1})),  g(s,s') = β⟨x(s), x(s')⟩
//! v_{l+1}(s) = v_l(s) + α_l Σ_k K(S_{k-1}, s) δ_k
//! ```
//!
//! `v_l` is a function on all states (`Vec` indexed by state); the per-column iterate of the
//! transformer's column `j` is `v_l(S_j)`. The state-space form ([XZ] eq. 20 [Q] definitions,
//! [D] recursion) is [`StateSpace`]; the population kernel `M_π` ([XZ] eq. 22) is
//! [`population_kernel`].
//!
//! The operator, its steps and the state-space form are generic over
//! [`Transcendental`]: plain `f64`, or
//! [`ErrBound`](crate::scalar::errbound::ErrBound) (the same `f64` values bit for bit, plus a
//! rigorous bound on the distance to the exact real iterate: the `f64` tolerance of the
//! softmax-TD equalities). The kernel's column maximum is subtracted as an exact constant
//! (shift invariance of the softmax).

use crate::mdp::features::Features;
use crate::scalar::errbound::Transcendental;

/// The weighted softmax TD operator of one context.
#[derive(Clone, Debug)]
pub struct WeightedSoftmaxTd<T = f64> {
    ns: usize,
    gamma: T,
    /// `S_0 … S_n`.
    states: Vec<usize>,
    /// `R_1 … R_n`.
    rewards: Vec<T>,
    /// `kernel[s * n + (k-1)] = K(S_{k-1}, s)`.
    kernel: Vec<T>,
}

/// `β ⟨x(s), x(s')⟩`.
pub fn score<T: Transcendental>(features: &Features, beta: T, s: usize, s2: usize) -> T {
    let mut dot = T::zero();
    for (a, b) in features.x(s).iter().zip(features.x(s2)) {
        dot.acc_mul(&T::from_f64(*a), &T::from_f64(*b));
    }
    beta * dot
}

impl WeightedSoftmaxTd {
    /// The operator for features `x`, inverse temperature `β`, the window (`n+1` states, `n`
    /// rewards) and `γ`. The kernel is normalized stably (maximum score subtracted).
    pub fn new(features: &Features, beta: f64, states: &[usize], rewards: &[f64], gamma: f64) -> Self {
        Self::new_in(features, beta, states, rewards, gamma)
    }
}

impl<T: Transcendental> WeightedSoftmaxTd<T> {
    /// [`WeightedSoftmaxTd::new`] in any [`Transcendental`] scalar (`β`, `γ` and every feature
    /// and reward exact inputs).
    pub fn new_in(features: &Features, beta: T, states: &[usize], rewards: &[f64], gamma: T) -> Self {
        let ns = features.n_states();
        let n = rewards.len();
        let mut kernel = vec![T::zero(); ns * n];
        let mut g = vec![T::zero(); n];
        for s in 0..ns {
            for k in 0..n {
                g[k] = score(features, beta, s, states[k]);
            }
            // The maximum on the values, subtracted as an exact constant (shift invariance).
            let m = T::from_f64(g.iter().map(|x| x.to_f64()).fold(f64::NEG_INFINITY, f64::max));
            let row = &mut kernel[s * n..(s + 1) * n];
            let mut z = T::zero();
            for k in 0..n {
                row[k] = (g[k] - m).exp_val();
                z = z + row[k];
            }
            for x in row.iter_mut() {
                *x = *x / z;
            }
        }
        let rewards = rewards.iter().map(|&r| T::from_f64(r)).collect();
        WeightedSoftmaxTd { ns, gamma, states: states.to_vec(), rewards, kernel }
    }

    /// The same window with an explicit kernel `K(S_{k-1}, s) = kernel[s * n + k-1]` (the limits).
    pub fn with_kernel(ns: usize, states: &[usize], rewards: &[f64], gamma: T, kernel: Vec<T>) -> Self {
        assert_eq!(kernel.len(), ns * rewards.len(), "kernel has |S|·n entries");
        let rewards = rewards.iter().map(|&r| T::from_f64(r)).collect();
        WeightedSoftmaxTd { ns, gamma, states: states.to_vec(), rewards, kernel }
    }

    /// `n`.
    pub fn n(&self) -> usize {
        self.rewards.len()
    }
    /// `|S|`.
    pub fn n_states(&self) -> usize {
        self.ns
    }
    /// `K(S_{k-1}, s)` for `k = 1..n` (argument `k1 = k-1`).
    pub fn kernel(&self, k1: usize, s: usize) -> T {
        self.kernel[s * self.n() + k1]
    }

    /// The TD errors `δ_1 … δ_n` of `v`.
    pub fn td_errors(&self, v: &[T]) -> Vec<T> {
        (0..self.n()).map(|k1| self.rewards[k1] + self.gamma * v[self.states[k1 + 1]] - v[self.states[k1]]).collect()
    }

    /// One step: `v(s) + α Σ_k K(S_{k-1}, s) δ_k` for every state.
    pub fn step(&self, v: &[T], alpha: T) -> Vec<T> {
        let delta = self.td_errors(v);
        let n = self.n();
        (0..self.ns)
            .map(|s| {
                let row = &self.kernel[s * n..(s + 1) * n];
                let mut acc = T::zero();
                for (k, d) in row.iter().zip(&delta) {
                    acc.acc_mul(k, d);
                }
                v[s] + alpha * acc
            })
            .collect()
    }

    /// `v_0 = 0, v_1, …, v_L` for the steps `alphas`.
    pub fn iterates(&self, alphas: &[f64]) -> Vec<Vec<T>> {
        let mut out = Vec::with_capacity(alphas.len() + 1);
        out.push(vec![T::zero(); self.ns]);
        for &a in alphas {
            let next = self.step(out.last().expect("nonempty"), T::from_f64(a));
            out.push(next);
        }
        out
    }

    /// The state-space matrices `M̂_n, P̂_n, r̂_n` ([XZ] eq. 20), with `r` the reward function.
    pub fn state_space(&self, r: &[f64]) -> StateSpace<T> {
        let (ns, n) = (self.ns, self.n());
        let mut m_hat = vec![T::zero(); ns * ns];
        let mut p_hat = vec![T::zero(); ns * ns];
        let mut r_hat = vec![T::zero(); ns];
        for s in 0..ns {
            for k1 in 0..n {
                let w = self.kernel[s * n + k1];
                m_hat[s * ns + self.states[k1]] = m_hat[s * ns + self.states[k1]] + w;
                p_hat[s * ns + self.states[k1 + 1]] = p_hat[s * ns + self.states[k1 + 1]] + w;
                r_hat[s].acc_mul(&w, &self.rewards[k1]);
            }
        }
        let mr = (0..ns)
            .map(|s| {
                let mut acc = T::zero();
                for t in 0..ns {
                    acc.acc_mul(&m_hat[s * ns + t], &T::from_f64(r[t]));
                }
                acc
            })
            .collect();
        StateSpace { ns, gamma: self.gamma, m_hat, p_hat, r_hat, m_r: mr }
    }
}

/// `M̂_n`, `P̂_n` (row-major `|S|×|S|`), `r̂_n`, and `M̂_n r` ([XZ] eq. 20).
#[derive(Clone, Debug)]
pub struct StateSpace<T = f64> {
    /// `|S|`.
    pub ns: usize,
    /// `γ`.
    pub gamma: T,
    /// `M̂_n(s,s') = Σ_k K(S_{k-1}, s) 1{S_{k-1} = s'}`.
    pub m_hat: Vec<T>,
    /// `P̂_n(s,s') = Σ_k K(S_{k-1}, s) 1{S_k = s'}`.
    pub p_hat: Vec<T>,
    /// `r̂_n(s) = Σ_k K(S_{k-1}, s) R_k`.
    pub r_hat: Vec<T>,
    /// `(M̂_n r)(s)`.
    pub m_r: Vec<T>,
}

impl<T: Transcendental> StateSpace<T> {
    /// `v_{l+1} = (I - α M̂ + α γ P̂) v_l + α r̂` [D].
    pub fn step(&self, v: &[T], alpha: T) -> Vec<T> {
        let ns = self.ns;
        (0..ns)
            .map(|s| {
                let mut acc = self.r_hat[s];
                for t in 0..ns {
                    acc.acc_mul(&(self.gamma * self.p_hat[s * ns + t] - self.m_hat[s * ns + t]), &v[t]);
                }
                v[s] + alpha * acc
            })
            .collect()
    }
    /// `v_0 = 0 … v_L`.
    pub fn iterates(&self, alphas: &[f64]) -> Vec<Vec<T>> {
        let mut out = vec![vec![T::zero(); self.ns]];
        for &a in alphas {
            let next = self.step(out.last().expect("nonempty"), T::from_f64(a));
            out.push(next);
        }
        out
    }
}

impl<T: Transcendental> StateSpace<T> {
    /// Entry `(s, t)` of the iteration matrix `A = I - α M̂ + α γ P̂` of [`StateSpace::step`]
    /// (evaluated as `δ_st − α M̂(s,t) + (α γ) P̂(s,t)`, the one expression every row-norm check
    /// reads).
    #[inline]
    pub fn iteration_entry(&self, s: usize, t: usize, alpha: T) -> T {
        let ns = self.ns;
        let id = if s == t { T::one() } else { T::zero() };
        id - alpha * self.m_hat[s * ns + t] + alpha * self.gamma * self.p_hat[s * ns + t]
    }
    /// The row sums `Σ_t |A(s,t)|` of `A = I - α M̂ + α γ P̂`, summed in order of `t` from 0 (on
    /// [`ErrBound`](crate::scalar::errbound::ErrBound) each carries its bound).
    pub fn row_norms(&self, alpha: T) -> Vec<T> {
        (0..self.ns)
            .map(|s| (0..self.ns).fold(T::zero(), |acc, t| acc + self.iteration_entry(s, t, alpha).abs_val()))
            .collect()
    }
    /// `ρ̂ = ‖I - α M̂ + α γ P̂‖_∞`, the largest of [`StateSpace::row_norms`]
    /// ([`Transcendental::max_val`]: on `ErrBound` with the largest of the rows' bounds).
    pub fn rho_hat(&self, alpha: T) -> T {
        self.row_norms(alpha).into_iter().fold(T::zero(), T::max_val)
    }
}

/// Whether the sources `S_0 … S_{n-1}` visit every state.
pub fn coverage(states: &[usize], n: usize, ns: usize) -> bool {
    let mut seen = vec![false; ns];
    for &s in &states[..n] {
        seen[s] = true;
    }
    seen.iter().all(|&b| b)
}

/// The `β → ∞` limit of the one-hot kernel [D]: `K_∞(S_{k-1}, s) = 1{S_{k-1} = s}/N_s` for a
/// visited state `s` (`N_s = #{k < n : S_k = s}`), and `1/n` for an unvisited one (all its
/// scores are 0). Generic over the scalar ([`Transcendental`]): on
/// [`ErrBound`](crate::scalar::errbound::ErrBound) the rounded `1/N_s` carry their bounds.
pub fn tabular_limit<T: Transcendental>(
    ns: usize,
    states: &[usize],
    rewards: &[f64],
    gamma: T,
) -> WeightedSoftmaxTd<T> {
    let n = rewards.len();
    let mut counts = vec![0usize; ns];
    for &s in &states[..n] {
        counts[s] += 1;
    }
    let inv = |m: usize| T::one() / T::from_f64(m as f64);
    let mut kernel = vec![T::zero(); ns * n];
    for s in 0..ns {
        for k1 in 0..n {
            kernel[s * n + k1] = if counts[s] == 0 {
                inv(n)
            } else if states[k1] == s {
                inv(counts[s])
            } else {
                T::zero()
            };
        }
    }
    WeightedSoftmaxTd::with_kernel(ns, states, rewards, gamma, kernel)
}

/// Value iteration on the empirical model of the window: `v'(s) = r̄(s) + γ Σ_s' P̄(s,s') v(s')`
/// with `P̄`, `r̄` the empirical transition frequencies and mean rewards of the visited states
/// (unvisited states keep `v`). Generic over the scalar, like [`tabular_limit`].
pub fn empirical_value_iteration<T: Transcendental>(
    ns: usize,
    states: &[usize],
    rewards: &[f64],
    gamma: T,
    v: &[T],
) -> Vec<T> {
    let n = rewards.len();
    let mut counts = vec![0usize; ns];
    let mut acc = vec![T::zero(); ns];
    for k1 in 0..n {
        let s = states[k1];
        counts[s] += 1;
        acc[s] = acc[s] + (T::from_f64(rewards[k1]) + gamma * v[states[k1 + 1]]);
    }
    (0..ns).map(|s| if counts[s] > 0 { acc[s] / T::from_f64(counts[s] as f64) } else { v[s] }).collect()
}

/// The first-order term in `β` of one update at `β = 0` [D]:
/// `(α/n) Σ_k ⟨x(s), x(S_{k-1}) - x̄⟩ δ_k` with `x̄` the context mean of `x(S_{k-1})`.
/// With `centered = false`, the uncentered `(α/n) Σ_k ⟨x(s), x(S_{k-1})⟩ δ_k` (a wrong formula,
/// kept as the negative control).
pub fn small_beta_derivative(
    features: &Features,
    states: &[usize],
    rewards: &[f64],
    gamma: f64,
    v: &[f64],
    alpha: f64,
    centered: bool,
) -> Vec<f64> {
    let n = rewards.len();
    let d = features.dim();
    let mut xbar = vec![0.0; d];
    if centered {
        for &s in &states[..n] {
            for (m, x) in xbar.iter_mut().zip(features.x(s)) {
                *m += x / n as f64;
            }
        }
    }
    let delta: Vec<f64> = (0..n).map(|k1| rewards[k1] + gamma * v[states[k1 + 1]] - v[states[k1]]).collect();
    (0..features.n_states())
        .map(|s| {
            let xs = features.x(s);
            let mut acc = 0.0;
            for k1 in 0..n {
                let xk = features.x(states[k1]);
                let ip: f64 = (0..d).map(|i| xs[i] * (xk[i] - xbar[i])).sum();
                acc += ip * delta[k1];
            }
            alpha * acc / n as f64
        })
        .collect()
}

/// The population kernel `M_π(s,s') = μ(s') e^{g(s,s')} / Σ_u μ(u) e^{g(s,u)}` ([XZ] eq. 22),
/// row-major, computed stably (maximum over the support of `μ` subtracted).
pub fn population_kernel(features: &Features, beta: f64, mu: &[f64]) -> Vec<f64> {
    population_kernel_in(features, beta, mu)
}

/// [`population_kernel`] in any [`Transcendental`] scalar (`β` and `μ` exact inputs; the
/// maximum subtracted as an exact constant).
pub fn population_kernel_in<T: Transcendental>(features: &Features, beta: T, mu: &[f64]) -> Vec<T> {
    let ns = features.n_states();
    let mut m = vec![T::zero(); ns * ns];
    for s in 0..ns {
        let g: Vec<T> = (0..ns).map(|t| score(features, beta, s, t)).collect();
        let mx = (0..ns).filter(|&t| mu[t] > 0.0).map(|t| g[t].to_f64()).fold(f64::NEG_INFINITY, f64::max);
        let mx = T::from_f64(mx);
        let mut z = T::zero();
        for t in 0..ns {
            let w = if mu[t] > 0.0 { T::from_f64(mu[t]) * (g[t] - mx).exp_val() } else { T::zero() };
            m[s * ns + t] = w;
            z = z + w;
        }
        for t in 0..ns {
            m[s * ns + t] = m[s * ns + t] / z;
        }
    }
    m
}

/// The margin `C_5.1 = min_s M_π(s,s) - (1+γ)/2` (not capped; Assumption 5.1 holds iff it is
/// `> 0`, and the usable `C` is `min(C_5.1, (1-γ)/2)` minus any slack).
pub fn contraction_margin(m_pi: &[f64], ns: usize, gamma: f64) -> f64 {
    contraction_margin_in(m_pi, ns, gamma)
}

/// [`contraction_margin`] in any [`Transcendental`] scalar (on `ErrBound` the minimum carries
/// the largest bound of the diagonal, [`Transcendental::min_val`]).
pub fn contraction_margin_in<T: Transcendental>(m_pi: &[T], ns: usize, gamma: f64) -> T {
    let min_diag = (0..ns).map(|s| m_pi[s * ns + s]).fold(T::from_f64(f64::INFINITY), T::min_val);
    min_diag - (T::one() + T::from_f64(gamma)) / T::from_f64(2.0)
}

/// One-hot features `x = √β e_s`: `M_π(s,s) = μ(s)e^β / (μ(s)e^β + 1 - μ(s))` [D].
pub fn one_hot_diag(mu_s: f64, beta: f64) -> f64 {
    // Divide through by e^β for large β: μ / (μ + (1-μ)e^{-β}).
    mu_s / (mu_s + (1.0 - mu_s) * (-beta).exp())
}

/// The one-hot threshold `β* = log(q(1-μ_min) / ((1-q) μ_min))`, `q = (1+γ)/2 + C` [D]: the
/// assumption holds with margin `C` iff `β ≥ β*`.
pub fn one_hot_threshold(mu_min: f64, gamma: f64, c: f64) -> f64 {
    one_hot_threshold_in(mu_min, gamma, c)
}

/// [`one_hot_threshold`] in any [`Transcendental`] scalar (`μ_min`, `γ`, `C` exact inputs; on
/// `ErrBound` the rounding of `q`, the quotient and `ln` carry their bounds).
pub fn one_hot_threshold_in<T: Transcendental>(mu_min: f64, gamma: f64, c: f64) -> T {
    let (one, two) = (T::one(), T::from_f64(2.0));
    let (mu, q) = (T::from_f64(mu_min), (one + T::from_f64(gamma)) / two + T::from_f64(c));
    (q * (one - mu) / ((one - q) * mu)).ln_val()
}
