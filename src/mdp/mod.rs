//! Finite MDPs and MRPs (`docs/theory/notation.md`): the objects, their validation, generators,
//! policies, rollouts and exact values.
//!
//! Both sides of every theorem (transformer and reference) read these types; nothing else is
//! shared between them beyond scalar arithmetic.

pub mod batch;
pub mod features;
pub mod generators;
pub mod policy;
pub mod rollout;
pub mod values;

use crate::error::{finite, InputError};

/// Row sums must be 1 within this (`docs/theory/notation.md`, validity).
pub const ROW_SUM_TOL: f64 = 1e-9;

/// A finite MDP: `p(s'|s,a)`, `r(s,a,s')`, `p0`, `γ ∈ [0,1)`. Always valid once built.
#[derive(Clone, Debug, PartialEq)]
pub struct Mdp {
    n_states: usize,
    n_actions: usize,
    gamma: f64,
    /// `p[(s * |A| + a) * |S| + s']`
    p: Vec<f64>,
    /// `r[(s * |A| + a) * |S| + s']`
    r: Vec<f64>,
    p0: Vec<f64>,
}

/// Validate `γ`: finite and in `[0, 1)`.
pub fn validate_gamma(field: &str, gamma: f64) -> Result<f64, InputError> {
    if !(0.0..1.0).contains(&gamma) {
        return Err(InputError::new(field, format!("discount {gamma} is not in [0, 1)")));
    }
    Ok(gamma)
}

/// Validate one probability row: finite, nonnegative, summing to 1 within [`ROW_SUM_TOL`].
pub fn validate_row(field: &str, row: &[f64]) -> Result<(), InputError> {
    for (k, &x) in row.iter().enumerate() {
        finite(|| format!("{field}[{k}]"), x)?;
        if !(x >= 0.0) {
            return Err(InputError::new(format!("{field}[{k}]"), format!("probability {x} is negative")));
        }
    }
    let s: f64 = row.iter().sum();
    if !((s - 1.0).abs() <= ROW_SUM_TOL) {
        return Err(InputError::new(field, format!("row sums to {s}, not 1")));
    }
    Ok(())
}

impl Mdp {
    /// Build and validate from nested rows: `transitions[s][a][s']`, `rewards[s][a][s']`,
    /// `initial[s]` (uniform when `None`). Field names in errors start with `prefix`
    /// (e.g. `"mdp."`).
    pub fn from_nested(
        prefix: &str,
        gamma: f64,
        transitions: &[Vec<Vec<f64>>],
        rewards: &[Vec<Vec<f64>>],
        initial: Option<&[f64]>,
    ) -> Result<Mdp, InputError> {
        validate_gamma(&format!("{prefix}gamma"), gamma)?;
        let ns = transitions.len();
        if ns == 0 {
            return Err(InputError::new(format!("{prefix}transitions"), "needs at least one state"));
        }
        let na = transitions[0].len();
        if na == 0 {
            return Err(InputError::new(format!("{prefix}transitions[0]"), "needs at least one action"));
        }
        if rewards.len() != ns {
            return Err(InputError::new(
                format!("{prefix}rewards"),
                format!("has {} states, transitions has {ns}", rewards.len()),
            ));
        }
        let mut p = Vec::with_capacity(ns * na * ns);
        let mut r = Vec::with_capacity(ns * na * ns);
        for s in 0..ns {
            if transitions[s].len() != na {
                return Err(InputError::new(
                    format!("{prefix}transitions[{s}]"),
                    format!("has {} actions, expected {na}", transitions[s].len()),
                ));
            }
            if rewards[s].len() != na {
                return Err(InputError::new(
                    format!("{prefix}rewards[{s}]"),
                    format!("has {} actions, expected {na}", rewards[s].len()),
                ));
            }
            for a in 0..na {
                let f = format!("{prefix}transitions[{s}][{a}]");
                if transitions[s][a].len() != ns {
                    return Err(InputError::new(f, format!("has {} entries, expected {ns}", transitions[s][a].len())));
                }
                validate_row(&f, &transitions[s][a])?;
                let fr = format!("{prefix}rewards[{s}][{a}]");
                if rewards[s][a].len() != ns {
                    return Err(InputError::new(fr, format!("has {} entries, expected {ns}", rewards[s][a].len())));
                }
                for (k, &x) in rewards[s][a].iter().enumerate() {
                    finite(|| format!("{fr}[{k}]"), x)?;
                }
                p.extend_from_slice(&transitions[s][a]);
                r.extend_from_slice(&rewards[s][a]);
            }
        }
        let p0 = match initial {
            Some(init) => {
                let f = format!("{prefix}initial");
                if init.len() != ns {
                    return Err(InputError::new(f, format!("has {} entries, expected {ns}", init.len())));
                }
                validate_row(&f, init)?;
                init.to_vec()
            }
            None => vec![1.0 / ns as f64; ns],
        };
        Ok(Mdp { n_states: ns, n_actions: na, gamma, p, r, p0 })
    }

    /// Build from flat buffers that are valid by construction (generators). Validates anyway.
    pub fn from_flat(
        n_states: usize,
        n_actions: usize,
        gamma: f64,
        p: Vec<f64>,
        r: Vec<f64>,
        p0: Vec<f64>,
    ) -> Result<Mdp, InputError> {
        validate_gamma("gamma", gamma)?;
        if n_states == 0 || n_actions == 0 {
            return Err(InputError::new("sizes", "need at least one state and one action"));
        }
        if p.len() != n_states * n_actions * n_states || r.len() != p.len() || p0.len() != n_states {
            return Err(InputError::new("sizes", "buffer lengths do not match |S|, |A|"));
        }
        for s in 0..n_states {
            for a in 0..n_actions {
                let o = (s * n_actions + a) * n_states;
                validate_row(&format!("transitions[{s}][{a}]"), &p[o..o + n_states])?;
                for k in 0..n_states {
                    finite(|| format!("rewards[{s}][{a}][{k}]"), r[o + k])?;
                }
            }
        }
        validate_row("initial", &p0)?;
        Ok(Mdp { n_states, n_actions, gamma, p, r, p0 })
    }

    /// `|S|`.
    pub fn n_states(&self) -> usize {
        self.n_states
    }
    /// `|A|`.
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }
    /// `γ`.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
    /// `p(s'|s,a)`.
    #[inline]
    pub fn p(&self, s: usize, a: usize, s2: usize) -> f64 {
        self.p[(s * self.n_actions + a) * self.n_states + s2]
    }
    /// `p(·|s,a)`.
    #[inline]
    pub fn p_row(&self, s: usize, a: usize) -> &[f64] {
        let o = (s * self.n_actions + a) * self.n_states;
        &self.p[o..o + self.n_states]
    }
    /// `r(s,a,s')`.
    #[inline]
    pub fn r(&self, s: usize, a: usize, s2: usize) -> f64 {
        self.r[(s * self.n_actions + a) * self.n_states + s2]
    }
    /// `p0`.
    pub fn initial(&self) -> &[f64] {
        &self.p0
    }
    /// `transitions[s][a][s']` as nested vectors (for JSON).
    pub fn transitions_nested(&self) -> Vec<Vec<Vec<f64>>> {
        (0..self.n_states).map(|s| (0..self.n_actions).map(|a| self.p_row(s, a).to_vec()).collect()).collect()
    }
    /// `rewards[s][a][s']` as nested vectors (for JSON).
    pub fn rewards_nested(&self) -> Vec<Vec<Vec<f64>>> {
        (0..self.n_states)
            .map(|s| (0..self.n_actions).map(|a| (0..self.n_states).map(|k| self.r(s, a, k)).collect()).collect())
            .collect()
    }
    /// The MRP of a policy: `P_π(s,s') = Σ_a π(a|s) p(s'|s,a)`,
    /// `r_π(s) = Σ_a π(a|s) Σ_s' p(s'|s,a) r(s,a,s')`.
    pub fn induced_mrp(&self, pi: &policy::TabularPolicy) -> Mrp {
        let ns = self.n_states;
        let mut p = vec![0.0; ns * ns];
        let mut r = vec![0.0; ns];
        for s in 0..ns {
            for a in 0..self.n_actions {
                let w = pi.prob(s, a);
                if w == 0.0 {
                    continue;
                }
                for s2 in 0..ns {
                    let q = self.p(s, a, s2);
                    p[s * ns + s2] += w * q;
                    r[s] += w * q * self.r(s, a, s2);
                }
            }
        }
        Mrp { n_states: ns, gamma: self.gamma, p, r, p0: self.p0.clone() }
    }
}

/// A finite Markov reward process: kernel `P(s,s')`, reward `r(s)` paid on leaving `s`,
/// `γ ∈ [0,1)`, initial distribution `p0`.
#[derive(Clone, Debug, PartialEq)]
pub struct Mrp {
    n_states: usize,
    gamma: f64,
    p: Vec<f64>,
    r: Vec<f64>,
    p0: Vec<f64>,
}

impl Mrp {
    /// Build and validate from a row-major kernel.
    pub fn new(gamma: f64, p: Vec<f64>, r: Vec<f64>, p0: Vec<f64>) -> Result<Mrp, InputError> {
        validate_gamma("gamma", gamma)?;
        let ns = r.len();
        if ns == 0 {
            return Err(InputError::new("rewards", "needs at least one state"));
        }
        if p.len() != ns * ns {
            return Err(InputError::new("transitions", format!("has {} entries, expected {}", p.len(), ns * ns)));
        }
        for s in 0..ns {
            validate_row(&format!("transitions[{s}]"), &p[s * ns..(s + 1) * ns])?;
            finite(|| format!("rewards[{s}]"), r[s])?;
        }
        if p0.len() != ns {
            return Err(InputError::new("initial", format!("has {} entries, expected {ns}", p0.len())));
        }
        validate_row("initial", &p0)?;
        Ok(Mrp { n_states: ns, gamma, p, r, p0 })
    }
    /// `|S|`.
    pub fn n_states(&self) -> usize {
        self.n_states
    }
    /// `γ`.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
    /// `P(s,s')`.
    #[inline]
    pub fn p(&self, s: usize, s2: usize) -> f64 {
        self.p[s * self.n_states + s2]
    }
    /// Row `P(s,·)`.
    pub fn p_row(&self, s: usize) -> &[f64] {
        &self.p[s * self.n_states..(s + 1) * self.n_states]
    }
    /// `r(s)`.
    #[inline]
    pub fn r(&self, s: usize) -> f64 {
        self.r[s]
    }
    /// All rewards.
    pub fn rewards(&self) -> &[f64] {
        &self.r
    }
    /// `p0`.
    pub fn initial(&self) -> &[f64] {
        &self.p0
    }
    /// As the one-action MDP of `docs/theory/instances.md` (`rewards[s][0][s'] = r(s)`).
    pub fn as_mdp(&self) -> Mdp {
        let ns = self.n_states;
        let r = (0..ns).flat_map(|s| std::iter::repeat(self.r[s]).take(ns)).collect();
        Mdp { n_states: ns, n_actions: 1, gamma: self.gamma, p: self.p.clone(), r, p0: self.p0.clone() }
    }
}

impl Mdp {
    /// The one-action MDP read as an MRP; `None` if it has more than one action or a reward
    /// that depends on `s'`.
    pub fn as_mrp(&self) -> Option<Mrp> {
        if self.n_actions != 1 {
            return None;
        }
        let ns = self.n_states;
        let mut r = vec![0.0; ns];
        for s in 0..ns {
            r[s] = self.r(s, 0, 0);
            if (0..ns).any(|k| self.r(s, 0, k) != r[s]) {
                return None;
            }
        }
        Some(Mrp { n_states: ns, gamma: self.gamma, p: self.p.clone(), r, p0: self.p0.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Nested = Vec<Vec<Vec<f64>>>;

    fn two() -> (Nested, Nested) {
        (
            vec![vec![vec![0.2, 0.8], vec![0.4, 0.6]], vec![vec![0.5, 0.5], vec![0.3, 0.7]]],
            vec![vec![vec![0.1, -0.4], vec![0.0, 0.3]], vec![vec![1.0, 0.0], vec![-0.2, 0.7]]],
        )
    }

    #[test]
    fn rejects_bad_input_naming_the_field() {
        let (mut t, r) = two();
        assert!(Mdp::from_nested("mdp.", 0.5, &t, &r, None).is_ok());
        let e = Mdp::from_nested("mdp.", 1.0, &t, &r, None).unwrap_err();
        assert_eq!(e.field, "mdp.gamma");
        let e = Mdp::from_nested("mdp.", f64::NAN, &t, &r, None).unwrap_err();
        assert_eq!(e.field, "mdp.gamma");
        t[1][0][1] = 0.6;
        let e = Mdp::from_nested("mdp.", 0.5, &t, &r, None).unwrap_err();
        assert_eq!(e.field, "mdp.transitions[1][0]");
        t[1][0] = vec![f64::NAN, 1.0];
        let e = Mdp::from_nested("mdp.", 0.5, &t, &r, None).unwrap_err();
        assert_eq!(e.field, "mdp.transitions[1][0][0]");
        t[1][0] = vec![-0.5, 1.5];
        let e = Mdp::from_nested("mdp.", 0.5, &t, &r, None).unwrap_err();
        assert_eq!(e.field, "mdp.transitions[1][0][0]");
    }
}
