//! Feature maps `φ(s,a) ∈ R^d` (action values) and `x(s) = φ(s,0)` (state values), spec
//! `docs/theory/notation.md` "Features".

use crate::error::{finite, InputError};
use rand::Rng;

/// `φ(s,a) ∈ R^d` for every state-action pair; state features are the one-action case.
/// (`Default` is the empty buffer that [`Features::random_into`] fills.)
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Features {
    n_states: usize,
    n_actions: usize,
    d: usize,
    /// `data[(s * |A| + a) * d + k]`
    data: Vec<f64>,
}

impl Features {
    /// From nested `features[s][a][k]`, checked against `|S|`, `|A|`; errors name `prefix[s][a][k]`.
    pub fn from_nested(
        prefix: &str,
        n_states: usize,
        n_actions: usize,
        f: &[Vec<Vec<f64>>],
    ) -> Result<Self, InputError> {
        if f.len() != n_states {
            return Err(InputError::new(prefix, format!("has {} states, the MDP has {n_states}", f.len())));
        }
        let d = f.first().and_then(|x| x.first()).map_or(0, Vec::len);
        if d == 0 {
            return Err(InputError::new(format!("{prefix}[0][0]"), "feature dimension must be at least 1"));
        }
        let mut data = Vec::with_capacity(n_states * n_actions * d);
        for (s, fs) in f.iter().enumerate() {
            if fs.len() != n_actions {
                return Err(InputError::new(
                    format!("{prefix}[{s}]"),
                    format!("has {} actions, the MDP has {n_actions}", fs.len()),
                ));
            }
            for (a, v) in fs.iter().enumerate() {
                if v.len() != d {
                    return Err(InputError::new(
                        format!("{prefix}[{s}][{a}]"),
                        format!("has length {}, expected d = {d}", v.len()),
                    ));
                }
                for (k, &x) in v.iter().enumerate() {
                    finite(|| format!("{prefix}[{s}][{a}][{k}]"), x)?;
                }
                data.extend_from_slice(v);
            }
        }
        Ok(Features { n_states, n_actions, d, data })
    }

    /// From a flat buffer (generators); every entry must be finite.
    pub fn from_flat(n_states: usize, n_actions: usize, d: usize, data: Vec<f64>) -> Result<Self, InputError> {
        if d == 0 || data.len() != n_states * n_actions * d {
            return Err(InputError::new("features", "buffer length does not match |S|·|A|·d"));
        }
        for (i, &x) in data.iter().enumerate() {
            finite(|| format!("features[{}][{}][{}]", i / d / n_actions, (i / d) % n_actions, i % d), x)?;
        }
        Ok(Features { n_states, n_actions, d, data })
    }

    /// i.i.d. `Unif(-1,1)` entries ([LL] experiments, [WB] default).
    pub fn random<R: Rng + ?Sized>(rng: &mut R, n_states: usize, n_actions: usize, d: usize) -> Self {
        let mut f = Features { n_states: 0, n_actions: 0, d: 0, data: Vec::new() };
        f.random_into(rng, n_states, n_actions, d);
        f
    }

    /// [`Features::random`] into `self`, reusing its buffer (the same draws; no allocation once
    /// the buffer is large enough). The entries are drawn in blocks by
    /// [`crate::rng::fill_uniform`], bit for bit `rng.random_range(-1.0..1.0)` in order.
    pub fn random_into<R: Rng + ?Sized>(&mut self, rng: &mut R, n_states: usize, n_actions: usize, d: usize) {
        self.n_states = n_states;
        self.n_actions = n_actions;
        self.d = d;
        self.data.resize(n_states * n_actions * d, 0.0);
        crate::rng::fill_uniform(rng, -1.0, 1.0, &mut self.data);
    }

    /// One-hot `φ(s,a) = scale · e_{s|A|+a}`, `d = |S||A|` (for one action: `x(s) = scale · e_s`).
    pub fn one_hot(n_states: usize, n_actions: usize, scale: f64) -> Self {
        let d = n_states * n_actions;
        let mut data = vec![0.0; d * d];
        for i in 0..d {
            data[i * d + i] = scale;
        }
        Features { n_states, n_actions, d, data }
    }

    /// Dimension `d`.
    pub fn dim(&self) -> usize {
        self.d
    }
    /// `|S|`.
    pub fn n_states(&self) -> usize {
        self.n_states
    }
    /// `|A|`.
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }
    /// `φ(s,a)`.
    #[inline]
    pub fn phi(&self, s: usize, a: usize) -> &[f64] {
        let o = (s * self.n_actions + a) * self.d;
        &self.data[o..o + self.d]
    }
    /// `x(s) = φ(s,0)`.
    #[inline]
    pub fn x(&self, s: usize) -> &[f64] {
        self.phi(s, 0)
    }
    /// `Q_w(s,a) = wᵀφ(s,a)`.
    pub fn q(&self, w: &[f64], s: usize, a: usize) -> f64 {
        self.phi(s, a).iter().zip(w).map(|(x, y)| x * y).sum()
    }
    /// Nested `features[s][a][k]` (for JSON).
    pub fn nested(&self) -> Vec<Vec<Vec<f64>>> {
        (0..self.n_states).map(|s| (0..self.n_actions).map(|a| self.phi(s, a).to_vec()).collect()).collect()
    }
    /// The same features scaled by `c` (e.g. `√β`).
    pub fn scaled(&self, c: f64) -> Self {
        Features { data: self.data.iter().map(|x| x * c).collect(), ..self.clone() }
    }
}
