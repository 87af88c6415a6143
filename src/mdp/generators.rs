//! Seeded random generators (`docs/theory/notation.md` "Random generators"). Validity is built in:
//! Dirichlet rows come from normalized exponentials, `γ` is given, features are drawn in range.

use super::features::Features;
use super::{Mdp, Mrp};
use rand::Rng;

/// `Dirichlet(1,…,1)` on `k` points: normalized `Exp(1)` draws (`-ln U`, `U ∈ (0,1]`).
pub fn dirichlet_ones<R: Rng + ?Sized>(rng: &mut R, k: usize) -> Vec<f64> {
    let mut v = vec![0.0; k];
    dirichlet_ones_into(rng, &mut v);
    v
}

/// [`dirichlet_ones`] on `out.len()` points, written into `out` (the same draws, no allocation:
/// the uniforms are drawn in blocks by [`crate::rng::fill_standard`], bit for bit the per-value
/// draws).
///
/// Valid by construction: each `-ln U` is finite and in `[0, 37.5]` (`U ≥ 2^-53`), so their sum
/// `s ≥` every term, every entry `e_i / s ∈ [0, 1]`, and the entries sum to 1 within
/// `k · 2^-52 ≪` [`super::ROW_SUM_TOL`] (`tests::rows_are_valid_by_construction` checks
/// [`super::validate_row`] on many rows; the hot path does not re-validate).
pub fn dirichlet_ones_into<R: Rng + ?Sized>(rng: &mut R, out: &mut [f64]) {
    crate::rng::fill_standard(rng, out);
    for x in out.iter_mut() {
        *x = -(1.0 - *x).ln();
    }
    let s: f64 = out.iter().sum();
    if !(s > 0.0) {
        // All draws were exactly U = 1 (probability ~ 2^-53k): fall back to uniform.
        let k = out.len();
        out.fill(1.0 / k as f64);
        return;
    }
    for x in out.iter_mut() {
        *x /= s;
    }
}

/// Random tabular MDP ([LL] experiments): `p(·|s,a) ~ Dir(1)`, `r ~ Unif(-1,1)` i.i.d.,
/// `p0 ~ Dir(1)`.
pub fn random_tabular<R: Rng + ?Sized>(rng: &mut R, n_states: usize, n_actions: usize, gamma: f64) -> Mdp {
    let mut m = Mdp { n_states: 0, n_actions: 0, gamma: 0.0, p: Vec::new(), r: Vec::new(), p0: Vec::new() };
    random_tabular_into(rng, n_states, n_actions, gamma, &mut m);
    m
}

/// [`random_tabular`] into an existing `Mdp`, reusing its buffers (the same draws in the same
/// order; no allocation once the buffers are large enough). Every row is valid by construction
/// (see [`dirichlet_ones_into`]; checked in debug builds and by the tests as `Mdp::from_flat`
/// does: finite, nonnegative, sums to 1); rewards are in `[-1, 1)` by construction.
///
/// # Panics
/// If `γ ∉ [0, 1)` or a size is 0 (a programming error: the generator's callers fix both).
pub fn random_tabular_into<R: Rng + ?Sized>(rng: &mut R, n_states: usize, n_actions: usize, gamma: f64, m: &mut Mdp) {
    assert!(n_states > 0 && n_actions > 0, "random_tabular: empty MDP");
    super::validate_gamma("gamma", gamma).expect("generator: γ in [0, 1)");
    let (ns, len) = (n_states, n_states * n_actions * n_states);
    m.n_states = n_states;
    m.n_actions = n_actions;
    m.gamma = gamma;
    m.p.resize(len, 0.0);
    for row in m.p.chunks_exact_mut(ns) {
        dirichlet_ones_into(rng, row);
        debug_assert!(super::validate_row("transitions", row).is_ok(), "generator builds a valid MDP");
    }
    m.r.resize(len, 0.0);
    crate::rng::fill_uniform(rng, -1.0, 1.0, &mut m.r);
    m.p0.resize(ns, 0.0);
    dirichlet_ones_into(rng, &mut m.p0);
    debug_assert!(super::validate_row("initial", &m.p0).is_ok(), "generator builds a valid MDP");
}

/// Sizes and step parameters of a random-tabular experiment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TabularPreset {
    /// `|S|`
    pub n_states: usize,
    /// `|A|`
    pub n_actions: usize,
    /// `γ`
    pub gamma: f64,
    /// feature dimension
    pub d: usize,
    /// transitions per prompt
    pub n: usize,
    /// SARSA step size
    pub alpha: f64,
    /// ε of the ε-greedy behaviour policy
    pub epsilon: f64,
}

/// [LL] paper-scale preset: `|S| = 9, |A| = 4, γ = 0.5, d = 36, n = 20, α = 0.2, ε = 0.1`.
pub const PAPER: TabularPreset =
    TabularPreset { n_states: 9, n_actions: 4, gamma: 0.5, d: 36, n: 20, alpha: 0.2, epsilon: 0.1 };
/// Small preset for tests: `|S| = 3, |A| = 2, d = 6`.
pub const SMALL: TabularPreset =
    TabularPreset { n_states: 3, n_actions: 2, gamma: 0.5, d: 6, n: 20, alpha: 0.2, epsilon: 0.1 };

/// Boyan-style chain ([WB] code default): `P(i,i+1) = p_i`, `P(i,i+2) = 1-p_i` for `i < |S|-2`,
/// `P(|S|-2,|S|-1) = 1`, a random normalized last row, `r ~ Unif(-1,1)`, `p0` normalized.
/// Needs `|S| ≥ 2`.
pub fn boyan_chain<R: Rng + ?Sized>(rng: &mut R, n_states: usize, gamma: f64) -> Mrp {
    assert!(n_states >= 2, "boyan_chain needs at least 2 states");
    let ns = n_states;
    let mut p = vec![0.0; ns * ns];
    for i in 0..ns.saturating_sub(2) {
        let pi = rng.random_range(0.01..0.99);
        p[i * ns + i + 1] = pi;
        p[i * ns + i + 2] = 1.0 - pi;
    }
    p[(ns - 2) * ns + ns - 1] = 1.0;
    let last: Vec<f64> = (0..ns).map(|_| rng.random_range(0.01..0.99)).collect();
    let s: f64 = last.iter().sum();
    for j in 0..ns {
        p[(ns - 1) * ns + j] = last[j] / s;
    }
    let r = (0..ns).map(|_| rng.random_range(-1.0..1.0)).collect();
    let p0v: Vec<f64> = (0..ns).map(|_| rng.random_range(0.01..0.99)).collect();
    let s0: f64 = p0v.iter().sum();
    let p0 = p0v.iter().map(|x| x / s0).collect();
    Mrp::new(gamma, p, r, p0).expect("generator builds a valid MRP")
}

/// Edge probability threshold of [`loop_mrp`]: an edge `i → j` (besides `i → i+1`) exists when a
/// `Unif(0.01, 0.99)` draw exceeds it ([WB]'s `MRP/loop.py` default `threshold=0.5`).
pub const LOOP_THRESHOLD: f64 = 0.5;

/// [WB]'s Loop MRP (`MRP/loop.py` of their code, arXiv:2405.13861): a ring `i → (i+1) mod |S|`
/// that is always connected, plus each other edge `i → j` (`j ≠ i`) present when a
/// `Unif(0.01, 0.99)` draw exceeds `threshold`; no self-loops. Present edges get weights
/// `Unif(0.01, 0.99)`, rows are normalized; `r ~ Unif(-1, 1)`; `p0` is `Unif(0.01, 0.99)`
/// normalized. Every row then has at least the ring edge, so the chain is irreducible (the ring
/// alone visits every state). Needs `|S| ≥ 2` (with one state the ring edge is a self-loop).
///
/// The draws follow [WB]'s order for `P` (all `|S|²` connectivity draws, then all `|S|²` weights),
/// then `r`, then `p0` (as [`boyan_chain`] does; [WB] draws `p0` before `r`).
pub fn loop_mrp<R: Rng + ?Sized>(rng: &mut R, n_states: usize, gamma: f64, threshold: f64) -> Mrp {
    assert!(n_states >= 2, "loop_mrp needs at least 2 states");
    let ns = n_states;
    let mut connected: Vec<bool> = (0..ns * ns).map(|_| rng.random_range(0.01..0.99) > threshold).collect();
    for i in 0..ns {
        connected[i * ns + i] = false;
        connected[i * ns + (i + 1) % ns] = true;
    }
    let mut p: Vec<f64> = connected.iter().map(|&c| rng.random_range(0.01..0.99) * if c { 1.0 } else { 0.0 }).collect();
    for row in p.chunks_exact_mut(ns) {
        let s: f64 = row.iter().sum();
        row.iter_mut().for_each(|x| *x /= s);
    }
    let r = (0..ns).map(|_| rng.random_range(-1.0..1.0)).collect();
    let p0v: Vec<f64> = (0..ns).map(|_| rng.random_range(0.01..0.99)).collect();
    let s0: f64 = p0v.iter().sum();
    let p0 = p0v.iter().map(|x| x / s0).collect();
    Mrp::new(gamma, p, r, p0).expect("generator builds a valid MRP")
}

/// [WB] Boyan preset: `|S| = 10, d = 4, n = 30, γ = 0.9`.
pub const BOYAN: (usize, usize, usize, f64) = (10, 4, 30, 0.9);

/// Random MRP: `P(s,·) ~ Dir(1)`, `r ~ Unif(-1,1)`, `p0 ~ Dir(1)`.
pub fn random_mrp<R: Rng + ?Sized>(rng: &mut R, n_states: usize, gamma: f64) -> Mrp {
    let mut p = Vec::with_capacity(n_states * n_states);
    for _ in 0..n_states {
        p.extend(dirichlet_ones(rng, n_states));
    }
    let r = (0..n_states).map(|_| rng.random_range(-1.0..1.0)).collect();
    let p0 = dirichlet_ones(rng, n_states);
    Mrp::new(gamma, p, r, p0).expect("generator builds a valid MRP")
}

/// "Representable" Boyan rewards: `w* ~ N(0, I_d)`, `r = (I - γP) X w*`, so `v = X w*` exactly
/// (up to rounding). Returns the MRP and `w*`.
pub fn representable<R: Rng + ?Sized>(rng: &mut R, base: &Mrp, x: &Features) -> (Mrp, Vec<f64>) {
    use rand_distr::{Distribution, StandardNormal};
    let ns = base.n_states();
    let d = x.dim();
    let wstar: Vec<f64> = (0..d).map(|_| StandardNormal.sample(rng)).collect();
    let v: Vec<f64> = (0..ns).map(|s| x.x(s).iter().zip(&wstar).map(|(a, b)| a * b).sum()).collect();
    let r: Vec<f64> =
        (0..ns).map(|s| v[s] - base.gamma() * (0..ns).map(|k| base.p(s, k) * v[k]).sum::<f64>()).collect();
    let p: Vec<f64> = (0..ns).flat_map(|s| base.p_row(s).to_vec()).collect();
    (Mrp::new(base.gamma(), p, r, base.initial().to_vec()).expect("valid"), wstar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::case_rng;

    /// The rows `random_tabular_into` no longer re-validates in release builds pass
    /// `validate_row` (what `Mdp::from_flat` checks) on many draws of many sizes, and the whole
    /// MDP rebuilds through the validating constructor; a row the construction cannot produce is
    /// rejected (negative control).
    #[test]
    fn rows_are_valid_by_construction() {
        let mut m = random_tabular(&mut case_rng(0, "rows", 0), 1, 1, 0.0);
        for k in 0..2000u64 {
            let (ns, na) = (1 + k as usize % 12, 1 + k as usize % 5);
            random_tabular_into(&mut case_rng(5, "rows", k), ns, na, 0.5, &mut m);
            for s in 0..ns {
                for a in 0..na {
                    assert!(super::super::validate_row("transitions", m.p_row(s, a)).is_ok(), "case {k}");
                }
            }
            assert!(super::super::validate_row("initial", m.initial()).is_ok(), "case {k}");
            let nested = |v: &dyn Fn(usize, usize) -> Vec<f64>| -> Vec<Vec<Vec<f64>>> {
                (0..ns).map(|s| (0..na).map(|a| v(s, a)).collect()).collect()
            };
            let p = nested(&|s, a| m.p_row(s, a).to_vec());
            let r = nested(&|s, a| (0..ns).map(|s2| m.r(s, a, s2)).collect());
            assert_eq!(Mdp::from_nested("", m.gamma(), &p, &r, Some(m.initial())).expect("valid"), m);
        }
        assert!(super::super::validate_row("transitions", &[0.5, 0.6]).is_err());
        assert!(super::super::validate_row("transitions", &[1.5, -0.5]).is_err());
    }
}
