//! [LL] Theorem 3.1 (arXiv:2605.05755) [Q], explicit matrices [D] (`docs/theory/sarsa.md`), and the
//! [R] actor-critic extension (Thm 3.3, `docs/theory/actor-critic.md`).
//!
//! `P`, `V` are `D×D`, partitioned along `(token, 1 + params)`. Nonzero blocks:
//!
//! ```text
//! P12⋆ = [ 0_{d×1}  -I_d ]   rows acting on φ_i
//!        [ 0_{d×1}  +I_d ]   rows acting on γφ⁺_i
//!        [ 1        0    ]   row acting on r_{i+1}
//! V̄21⋆ = [ α I_d  0  0 ]     (first row of V21 zero: the constant 1 is never written)
//! ```
//!
//! so `x_iᵀ P12⋆ w̃ = δ_i` and `V̄21⋆ x_i = α φ_i`. The pair is scaled `(c P⋆, c⁻¹ V⋆)`.

use crate::attention::prompt::sarsa_prompt;
use crate::linalg::Mat;
use crate::mdp::batch::TransitionBatch;
use crate::scalar::Scalar;

/// Shape of a (possibly actor-critic) prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Critic feature dimension `d`.
    pub d: usize,
    /// Actor score dimension `d_π` (0 for SARSA).
    pub dp: usize,
}

impl Shape {
    /// SARSA shape.
    pub fn sarsa(d: usize) -> Self {
        Shape { d, dp: 0 }
    }
    /// Token length `2d + 1 + d_π`.
    pub fn token(&self) -> usize {
        2 * self.d + 1 + self.dp
    }
    /// `D = token + 1 + d + d_π`.
    pub fn dim(&self) -> usize {
        self.token() + 1 + self.d + self.dp
    }
}

/// `c · P⋆` (D×D): only `P12` is nonzero.
pub fn p_star<T: Scalar>(s: Shape, c: &T) -> Mat<T> {
    let (d, t) = (s.d, s.token());
    let mut p = Mat::zeros(s.dim(), s.dim());
    for k in 0..d {
        p[(k, t + 1 + k)] = -c.clone();
        p[(d + k, t + 1 + k)] = c.clone();
    }
    p[(2 * d, t)] = c.clone();
    p
}

/// `c⁻¹ · V⋆` (D×D): only `V̄21` is nonzero: `α I_d` from `φ_i` into the `w` rows and (actor
/// critic) `β I_{d_π}` from `ψ_i` into the `λ` rows.
pub fn v_star<T: Scalar>(s: Shape, alpha: &T, beta: &T, c: &T) -> Mat<T> {
    let (d, t) = (s.d, s.token());
    let mut v = Mat::zeros(s.dim(), s.dim());
    let a = alpha.clone() / c.clone();
    let b = beta.clone() / c.clone();
    for k in 0..d {
        v[(t + 1 + k, k)] = a.clone();
    }
    for k in 0..s.dp {
        v[(t + 1 + d + k, 2 * d + 1 + k)] = b.clone();
    }
    v
}

/// The four blocks of a `D×D` matrix along `(token, 1 + params)`: `(M11, M12, M21, M22)`.
pub fn blocks<T: Scalar>(s: Shape, m: &Mat<T>) -> (Mat<T>, Mat<T>, Mat<T>, Mat<T>) {
    let (t, dd) = (s.token(), s.dim());
    let r = dd - t;
    (m.block(0, 0, t, t), m.block(0, t, t, r), m.block(t, 0, r, t), m.block(t, t, r, r))
}

/// The blocks of an [LL] block `(P, V)` that reach the readout (Lemma C.1 [Q]): `P12`
/// (`t×(d+1)`), `P22` (`(d+1)×(d+1)`), `V̄21` (`d×t`, the `w` rows of `V21`) and `V̄22`
/// (`d×(d+1)`). The one extraction every user of the lemma reads (the theorem's right-hand
/// side, the probe, the reduced loss, the training fast path).
#[derive(Clone, Debug, PartialEq)]
pub struct Reduced<T> {
    /// `P12`.
    pub p12: Mat<T>,
    /// `P22`.
    pub p22: Mat<T>,
    /// `V̄21`.
    pub v21_bar: Mat<T>,
    /// `V̄22`.
    pub v22_bar: Mat<T>,
}

/// Lemma C.1's blocks of a full `D×D` pair, `D = 3d + 2`.
pub fn reduced<T: Scalar>(d: usize, p: &Mat<T>, v: &Mat<T>) -> Reduced<T> {
    let s = Shape::sarsa(d);
    let (_, p12, _, p22) = blocks(s, p);
    let (_, _, v21, v22) = blocks(s, v);
    Reduced { p12, p22, v21_bar: v21.block(1, 0, d, s.token()), v22_bar: v22.block(1, 0, d, d + 1) }
}

/// Lemma C.1's right-hand side, from the blocks (not from the layer): the readout of `(P, V)` on
/// the SARSA prompt of `b` and `w` is `w + V̄21 Σ̂ P12 w̃ + (1/n) V̄22 w̃ (w̃ᵀ P22 w̃)` with
/// `Σ̂ = (1/n) Σ x_i x_iᵀ`, `w̃ = (1, w)`. `theorem::sarsa`'s `sarsa-readout-identity` checks it
/// against the layer, exactly; the `f64` fast paths of `dynamics` are tested against the layer.
pub fn lemma_c1_readout<T: Scalar>(b: &TransitionBatch<T>, w: &[T], p: &Mat<T>, v: &Mat<T>) -> Vec<T> {
    let d = w.len();
    let t = Shape::sarsa(d).token();
    let h = sarsa_prompt(b, w);
    let n = b.len();
    let r = reduced(d, p, v);
    // Σ̂ = (1/n) X Xᵀ; the product V̄21 Σ̂ P12 w̃ is evaluated right to left,
    // V̄21 ((1/n) X (Xᵀ (P12 w̃))), which is the same rational number and avoids forming Σ̂.
    let x = h.block(0, 0, t, n);
    let w_tilde = h.block(t, n, d + 1, 1);
    let sigma_hat_p12_w =
        x.matmul(&x.transpose().matmul(&r.p12.matmul(&w_tilde))).scale(&(T::one() / T::from_ratio(n as i64, 1)));
    let lin = r.v21_bar.matmul(&sigma_hat_p12_w);
    let quad_s = w_tilde.transpose().matmul(&r.p22).matmul(&w_tilde)[(0, 0)].clone();
    let cub = r.v22_bar.matmul(&w_tilde).scale(&(quad_s / T::from_ratio(n as i64, 1)));
    (0..d).map(|k| w[k].clone() + lin[(k, 0)].clone() + cub[(k, 0)].clone()).collect()
}

/// Matrix coordinates `(row, col)`.
pub type Entries = Vec<(usize, usize)>;

/// Coordinates `(row, col)` of the `(P12, V̄21)` blocks, the entries the negative controls
/// perturb one at a time: returns `(p12_entries, v21_bar_entries)`.
pub fn perturbable_entries(s: Shape) -> (Entries, Entries) {
    let (t, dd) = (s.token(), s.dim());
    let p12 = (0..t).flat_map(|i| (t..dd).map(move |j| (i, j))).collect();
    let v21 = (t + 1..dd).flat_map(|i| (0..t).map(move |j| (i, j))).collect();
    (p12, v21)
}

/// The entries of the blocks Prop. 3.1 lists as not reaching the readout: `P11`, `P21`, `V11`,
/// `V12`, the first row of `V21` and the first row of `V22`.
pub fn invariant_entries(s: Shape) -> Vec<(char, usize, usize)> {
    let (t, dd) = (s.token(), s.dim());
    let mut v = Vec::new();
    for i in 0..t {
        for j in 0..t {
            v.push(('P', i, j)); // P11
            v.push(('V', i, j)); // V11
        }
        for j in t..dd {
            v.push(('V', i, j)); // V12
        }
    }
    for i in t..dd {
        for j in 0..t {
            v.push(('P', i, j)); // P21
        }
    }
    for j in 0..dd {
        v.push(('V', t, j)); // first row of V21 and of V22
    }
    v
}
