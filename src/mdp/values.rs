//! Exact values (`docs/theory/notation.md` "True values"): `v_π` and `q_π` by a linear solve, `v*` and
//! `q*` by value iteration to `1e-12`, and the stationary distribution `μ_π`.
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
    let (ns, na) = (mdp.n_states(), mdp.n_actions());
    let mut q = vec![0.0; ns * na];
    for s in 0..ns {
        for a in 0..na {
            q[s * na + a] = (0..ns).map(|k| mdp.p(s, a, k) * (mdp.r(s, a, k) + mdp.gamma() * v[k])).sum();
        }
    }
    q
}

/// `q_π`.
pub fn q_pi(mdp: &Mdp, pi: &TabularPolicy) -> Vec<f64> {
    q_from_v(mdp, &v_pi(mdp, pi))
}

/// `(v*, q*)` by value iteration until the sup-norm change is below [`VI_TOL`]
/// (then `‖v - v*‖_∞ ≤ γ/(1-γ) · VI_TOL`).
pub fn optimal_values(mdp: &Mdp) -> (Vec<f64>, Vec<f64>) {
    let (ns, na) = (mdp.n_states(), mdp.n_actions());
    let mut v = vec![0.0; ns];
    loop {
        let q = q_from_v(mdp, &v);
        let v2: Vec<f64> =
            (0..ns).map(|s| q[s * na..(s + 1) * na].iter().cloned().fold(f64::NEG_INFINITY, f64::max)).collect();
        let delta = v.iter().zip(&v2).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        v = v2;
        if delta < VI_TOL {
            let q = q_from_v(mdp, &v);
            return (v, q);
        }
    }
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
}
