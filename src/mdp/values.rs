//! Exact values (`docs/theory/notation.md` "True values"): `v_π` and `q_π` by a linear solve, `v*`
//! and `q*` by value iteration to `1e-12` (at most [`vi_sweep_bound`] sweeps), and the stationary
//! distribution `μ_π`.
//!
//! These are the reference side's ground truth; they use `nalgebra`'s LU in `f64`.

use super::{policy::TabularPolicy, Mdp, Mrp};
use nalgebra::{DMatrix, DVector};

/// Value-iteration stopping tolerance on the sup-norm change (spec: `1e-12`).
pub const VI_TOL: f64 = 1e-12;

/// `v = (I - γP)^{-1} r` of an MRP. `I - γP` is invertible for `γ < 1` (spectral radius of
/// `γP` is `γ`).
pub fn mrp_value(mrp: &Mrp) -> Vec<f64> {
    let n = mrp.n_states();
    let a = DMatrix::from_fn(n, n, |i, j| f64::from(u8::from(i == j)) - mrp.gamma() * mrp.p(i, j));
    let b = DVector::from_column_slice(mrp.rewards());
    let x = a.lu().solve(&b).expect("I - γP is invertible for γ < 1");
    x.as_slice().to_vec()
}

/// `v_π` of a policy.
pub fn v_pi(mdp: &Mdp, pi: &TabularPolicy) -> Vec<f64> {
    mrp_value(&mdp.induced_mrp(pi))
}

/// `q(s,a) = Σ_s' p(s'|s,a)(r(s,a,s') + γ v(s'))`, row-major `[s * |A| + a]`.
pub fn q_from_v(mdp: &Mdp, v: &[f64]) -> Vec<f64> {
    let mut q = vec![0.0; mdp.n_states() * mdp.n_actions()];
    q_from_v_into(mdp, v, &mut q);
    q
}

/// [`q_from_v`] into `q` (length `|S||A|`), for loops that reuse one buffer.
fn q_from_v_into(mdp: &Mdp, v: &[f64], q: &mut [f64]) {
    let (ns, na) = (mdp.n_states(), mdp.n_actions());
    for s in 0..ns {
        for a in 0..na {
            q[s * na + a] = (0..ns).map(|k| mdp.p(s, a, k) * (mdp.r(s, a, k) + mdp.gamma() * v[k])).sum();
        }
    }
}

/// `q_π`.
pub fn q_pi(mdp: &Mdp, pi: &TabularPolicy) -> Vec<f64> {
    q_from_v(mdp, &v_pi(mdp, pi))
}

/// `(v*, q*)` by value iteration from `v = 0` until the sup-norm change is below [`VI_TOL`]
/// (then `‖v - v*‖_∞ ≤ γ/(1-γ) · VI_TOL`), or after [`vi_sweep_bound`] sweeps, by which exact
/// value iteration has met the tolerance: further sweeps could only chase rounding (a change
/// that rounding kept at or above `1e-12` would otherwise loop on).
pub fn optimal_values(mdp: &Mdp) -> (Vec<f64>, Vec<f64>) {
    let (v, q, _) = value_iteration(mdp, vi_sweep_bound(mdp.gamma(), max_mean_reward(mdp)));
    (v, q)
}

/// Value iteration from `v = 0` until the change is below [`VI_TOL`] or `cap` sweeps are done:
/// `(v, q, sweeps)`.
fn value_iteration(mdp: &Mdp, cap: f64) -> (Vec<f64>, Vec<f64>, u64) {
    let (ns, na) = (mdp.n_states(), mdp.n_actions());
    let (mut v, mut q) = (vec![0.0; ns], vec![0.0; ns * na]);
    let mut sweeps = 0u64;
    loop {
        q_from_v_into(mdp, &v, &mut q);
        // v ← max_a q, in place: q already holds everything the sweep reads of the old v.
        let mut delta = 0.0f64;
        for (s, vs) in v.iter_mut().enumerate() {
            let m = q[s * na..(s + 1) * na].iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            delta = delta.max((*vs - m).abs());
            *vs = m;
        }
        sweeps += 1;
        if delta < VI_TOL || !((sweeps as f64) < cap) {
            q_from_v_into(mdp, &v, &mut q);
            return (v, q, sweeps);
        }
    }
}

/// `R = max_{s,a} |Σ_s' p(s'|s,a) r(s,a,s')|`, the largest expected one-step reward.
pub fn max_mean_reward(mdp: &Mdp) -> f64 {
    let (ns, na) = (mdp.n_states(), mdp.n_actions());
    let mut r = 0.0f64;
    for s in 0..ns {
        for a in 0..na {
            r = r.max((0..ns).map(|k| mdp.p(s, a, k) * mdp.r(s, a, k)).sum::<f64>().abs());
        }
    }
    r
}

/// How many sweeps value iteration from `v = 0` takes, at most, in exact arithmetic, to bring the
/// sup-norm change below [`VI_TOL`] at discount `γ` with expected one-step rewards bounded by
/// `R` (as `f64`, since it can exceed every integer type as `γ → 1`). Sweep `k` (from 1) changes
/// `v` by at most `γ^{k-1} ‖v₁ - v₀‖_∞ ≤ γ^{k-1} R` (`T` is a `γ`-contraction and `v₁ = max_a r̄`),
/// so it stops by the first `k` with `γ^{k-1} R < VI_TOL`: `k = ⌊x⌋ + 2`, `x = ln(VI_TOL/R)/ln γ`,
/// for `R ≥ VI_TOL`, `γ > 0`. The bound returned is `⌊x̂⌋ + 3`: one sweep more, because `x̂`, the
/// `x` computed in `f64` (two logarithms and two divisions, each within a few ulps), can fall
/// just below an integer that `x` reaches; its error stays far below 1 for every `x < 2⁴⁰`, and
/// larger counts are refused by the callers' work limits anyway. Exactly 2 at `γ = 0` (the second
/// sweep changes nothing) and 1 for `R < VI_TOL`; infinite for a non-finite `R` or `γ ∉ [0, 1)`.
/// The cost estimate of `train sarsa` uses it.
pub fn vi_sweep_bound(gamma: f64, r_max: f64) -> f64 {
    if !(gamma >= 0.0 && gamma < 1.0 && r_max.is_finite()) {
        return f64::INFINITY;
    }
    if r_max < VI_TOL {
        return 1.0;
    }
    if gamma == 0.0 {
        return 2.0;
    }
    ((VI_TOL / r_max).ln() / gamma.ln()).floor() + 3.0
}

/// Stationary distribution `μᵀP = μᵀ`, `Σμ = 1`, by a linear solve with one balance equation
/// replaced by normalization. `None` when the system is singular (e.g. several recurrent classes).
pub fn stationary(mrp: &Mrp) -> Option<Vec<f64>> {
    let n = mrp.n_states();
    // (Pᵀ - I) μ = 0, last row replaced by 1ᵀμ = 1.
    let mut a = DMatrix::from_fn(n, n, |i, j| mrp.p(j, i) - f64::from(u8::from(i == j)));
    let mut b = DVector::zeros(n);
    for j in 0..n {
        a[(n - 1, j)] = 1.0;
    }
    b[n - 1] = 1.0;
    let mu = a.lu().solve(&b)?;
    Some(mu.as_slice().to_vec())
}

/// Expected discounted return `Σ_s p0(s) v_π(s)` of a policy.
pub fn expected_return(mdp: &Mdp, pi: &TabularPolicy) -> f64 {
    let v = v_pi(mdp, pi);
    mdp.initial().iter().zip(&v).map(|(p, x)| p * x).sum()
}

/// Optimal expected return `Σ_s p0(s) v*(s)`.
pub fn optimal_return(mdp: &Mdp) -> f64 {
    let (v, _) = optimal_values(mdp);
    mdp.initial().iter().zip(&v).map(|(p, x)| p * x).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mdp::generators;
    use crate::rng::case_rng;

    #[test]
    fn bellman_equations_hold() {
        let mut rng = case_rng(3, "values", 0);
        let mdp = generators::random_tabular(&mut rng, 4, 3, 0.7);
        let pi = TabularPolicy::uniform(4, 3);
        let v = v_pi(&mdp, &pi);
        let q = q_from_v(&mdp, &v);
        for s in 0..4 {
            let vs: f64 = (0..3).map(|a| pi.prob(s, a) * q[s * 3 + a]).sum();
            assert!((vs - v[s]).abs() < 1e-12);
        }
        let (vstar, _) = optimal_values(&mdp);
        for s in 0..4 {
            assert!(vstar[s] >= v[s] - 1e-9);
        }
        let mrp = mdp.induced_mrp(&pi);
        let mu = stationary(&mrp).unwrap();
        for s in 0..4 {
            let m: f64 = (0..4).map(|k| mu[k] * mrp.p(k, s)).sum();
            assert!((m - mu[s]).abs() < 1e-12);
        }
    }

    /// One state, one action, reward 1, `γ = 1/2`: sweep `k` changes `v = 2 - 2^{1-k}` by exactly
    /// `2^{1-k}` (dyadic, no rounding), which first drops below `10⁻¹²` at `k = 41`
    /// (`2⁻⁴⁰ ≈ 9.1·10⁻¹³`, `2⁻³⁹ ≈ 1.8·10⁻¹²`): the exact count, one below the bound returned.
    #[test]
    fn value_iteration_on_a_dyadic_chain() {
        let mdp = Mdp::from_flat(1, 1, 0.5, vec![1.0], vec![1.0], vec![1.0]).unwrap();
        assert_eq!(vi_sweep_bound(0.5, 1.0), 42.0);
        let (v, q, sweeps) = value_iteration(&mdp, vi_sweep_bound(0.5, 1.0));
        assert_eq!(sweeps, 41);
        assert_eq!(v, vec![2.0 - 2f64.powi(-40)]);
        assert_eq!(q, vec![1.0 + 0.5 * v[0]]);
        // A cap below the count ends the iteration there, after exactly `cap` sweeps.
        let (v, _, sweeps) = value_iteration(&mdp, 10.0);
        assert_eq!((sweeps, v), (10, vec![2.0 - 2f64.powi(-9)]));
    }

    /// The stopping test is strict: a first change of exactly `VI_TOL` (reward `VI_TOL`) is not
    /// yet below it, so a second sweep follows.
    #[test]
    fn a_change_of_exactly_the_tolerance_does_not_stop() {
        let mdp = Mdp::from_flat(1, 1, 0.5, vec![1.0], vec![VI_TOL], vec![1.0]).unwrap();
        let (v, _, sweeps) = value_iteration(&mdp, vi_sweep_bound(0.5, VI_TOL));
        assert_eq!((sweeps, v), (2, vec![VI_TOL + 0.5 * VI_TOL]));
    }

    /// State 0: action 0 moves to the absorbing state 1 with reward 1, action 1 stays with reward
    /// 0; state 1 pays nothing. `v* = (1, 0)` after one sweep, the second changes nothing: value
    /// iteration stops at sweep 2, far below the bound of 265 sweeps at `γ = 0.9`.
    #[test]
    fn value_iteration_stops_at_the_tolerance_before_the_bound() {
        #[rustfmt::skip]
        let p = vec![0.0, 1.0, 1.0, 0.0, /* s1 */ 0.0, 1.0, 0.0, 1.0];
        let r = vec![1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let mdp = Mdp::from_flat(2, 2, 0.9, p, r, vec![1.0, 0.0]).unwrap();
        assert_eq!(vi_sweep_bound(0.9, max_mean_reward(&mdp)), 265.0);
        let (v, q, sweeps) = value_iteration(&mdp, vi_sweep_bound(0.9, 1.0));
        assert_eq!(sweeps, 2);
        assert_eq!((v, q), (vec![1.0, 0.0], vec![1.0, 0.9, 0.0, 0.0]));
        assert_eq!(optimal_values(&mdp), (vec![1.0, 0.0], vec![1.0, 0.9, 0.0, 0.0]));
    }

    #[test]
    fn sweep_bound_by_hand() {
        // ⌊ln(10⁻¹²)/ln 0.9⌋ + 3 = ⌊262.26⌋ + 3; R = 10 needs ⌊ln(10⁻¹³)/ln 0.9⌋ + 3 = 284 + 3.
        assert_eq!(vi_sweep_bound(0.9, 1.0), 265.0);
        assert_eq!(vi_sweep_bound(0.9, 10.0), 287.0);
        assert_eq!(vi_sweep_bound(0.9, VI_TOL), 3.0);
        assert_eq!(vi_sweep_bound(0.9, 0.5 * VI_TOL), 1.0);
        assert_eq!(vi_sweep_bound(0.0, 1.0), 2.0);
        assert_eq!(vi_sweep_bound(0.0, 0.0), 1.0);
        // ≈ 27.63 / (1 - γ) near 1: 2.76·10⁷ at 1 - 10⁻⁶.
        let k = vi_sweep_bound(1.0 - 1e-6, 1.0);
        assert!((2.76e7..2.77e7).contains(&k), "{k}");
        assert!(vi_sweep_bound(1.0 - f64::EPSILON / 2.0, 1.0) > 2e17);
        for (g, r) in [(1.0, 1.0), (-0.1, 1.0), (f64::NAN, 1.0), (0.5, f64::INFINITY), (0.5, f64::NAN)] {
            assert_eq!(vi_sweep_bound(g, r), f64::INFINITY, "{g} {r}");
        }
    }

    /// `r̄(0) = (2 - 4)/2 = -1`, `r̄(1) = 1/2`: the bound takes the magnitude.
    #[test]
    fn max_mean_reward_by_hand() {
        let p = vec![0.5, 0.5, 0.0, 1.0];
        let r = vec![2.0, -4.0, 7.0, 0.5];
        let mdp = Mdp::from_flat(2, 1, 0.5, p, r, vec![1.0, 0.0]).unwrap();
        assert_eq!(max_mean_reward(&mdp), 1.0);
    }
}
