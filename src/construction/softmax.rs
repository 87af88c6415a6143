//! [XZ] construction: softmax attention realizing weighted softmax TD (arXiv:2605.07333, Thm 1
//! and Lemma 1; `docs/theory/softmax-td.md`). [Q] structure, [D] exact form.
//!
//! - `A = diag(I_d, 0_{3×3})`: the scores `Z_lᵀ A Z_l` are the Gram matrix of the feature rows,
//!   i.e. `g(s, s') = ⟨x(s), x(s')⟩` (times `β` when the features carry `√β`).
//! - `u = e_d + e_{d+1} - e_{d+2}`: the row `[0…0, 1, 1, -1]` forming `R + γ v(next) - v(current)`
//!   from the reward row and the two memory rows.
//! - Two heads sharing `A`: `V¹ = α e_{d+2} uᵀ` (no shift) writes the TD update into the
//!   current-value memory; `V² = γ α e_{d+1} uᵀ` with the shift `Π` keeps the target memory at
//!   `γ v_l(S_{j+1})`.
//! - Lemma 1: one head `V = α e_{d+2} uᵀ`, then the parameter-free `U = I - e_{d+1}e_{d+1}ᵀ`,
//!   `W = γ e_{d+1} e_{d+2}ᵀ` with the shift.

use crate::attention::softmax::{Head, MultiHeadLayer, ShiftLayer};
use crate::linalg::Mat;
use crate::scalar::errbound::Transcendental;

/// `A = diag(I_d, 0_{3×3})`.
pub fn attention_matrix(d: usize) -> Mat<f64> {
    Mat::from_fn(d + 3, d + 3, |i, j| if i == j && i < d { 1.0 } else { 0.0 })
}

/// `u = e_d + e_{d+1} - e_{d+2}` (length `d+3`).
pub fn u_vector(d: usize) -> Vec<f64> {
    let mut u = vec![0.0; d + 3];
    u[d] = 1.0;
    u[d + 1] = 1.0;
    u[d + 2] = -1.0;
    u
}

/// `c · e_row uᵀ` as a `(d+3)×(d+3)` matrix (in any [`Transcendental`] scalar: on
/// [`ErrBound`](crate::scalar::errbound::ErrBound) the rounding of `c · u_k` is bounded).
pub fn outer_row<T: Transcendental>(d: usize, row: usize, c: T, u: &[f64]) -> Mat<T> {
    let mut m = Mat::zeros(d + 3, d + 3);
    for (k, &uk) in u.iter().enumerate() {
        m[(row, k)] = c * T::from_f64(uk);
    }
    m
}

/// The parts of one layer, which the negative controls and the searches perturb.
#[derive(Clone, Debug, PartialEq)]
pub struct Parts {
    /// Feature dimension `d`.
    pub d: usize,
    /// `γ`.
    pub gamma: f64,
    /// `A`.
    pub a: Mat<f64>,
    /// `u`.
    pub u: Vec<f64>,
    /// Query mask on.
    pub mask_query: bool,
    /// Keep the second (shifted, target-memory) head.
    pub two_heads: bool,
}

impl Parts {
    /// The construction as stated.
    pub fn new(d: usize, gamma: f64) -> Self {
        Parts { d, gamma, a: attention_matrix(d), u: u_vector(d), mask_query: true, two_heads: true }
    }

    /// The two-head layer with step `α`.
    pub fn two_head_layer(&self, alpha: f64) -> MultiHeadLayer {
        self.two_head_layer_in(alpha)
    }

    /// [`Parts::two_head_layer`] in any [`Transcendental`] scalar (every part an exact input;
    /// `γ α` rounded as in `f64`, its bound carried on `ErrBound`).
    pub fn two_head_layer_in<T: Transcendental>(&self, alpha: T) -> MultiHeadLayer<T> {
        let d = self.d;
        let mut heads = vec![Head { v: outer_row(d, d + 2, alpha, &self.u), shift: false }];
        if self.two_heads {
            heads.push(Head { v: outer_row(d, d + 1, T::from_f64(self.gamma) * alpha, &self.u), shift: true });
        }
        MultiHeadLayer { a: self.a.map(|&x| T::from_f64(x)), heads, mask_query: self.mask_query }
    }

    /// The Lemma-1 layer (one head plus `U`, `W` and the shift) with step `α`.
    pub fn shift_layer(&self, alpha: f64) -> ShiftLayer {
        self.shift_layer_in(alpha)
    }

    /// [`Parts::shift_layer`] in any [`Transcendental`] scalar.
    pub fn shift_layer_in<T: Transcendental>(&self, alpha: T) -> ShiftLayer<T> {
        let d = self.d;
        let mut u = Mat::identity(d + 3);
        u[(d + 1, d + 1)] = T::zero();
        let mut w = Mat::zeros(d + 3, d + 3);
        w[(d + 1, d + 2)] = T::from_f64(self.gamma);
        let a = self.a.map(|&x| T::from_f64(x));
        ShiftLayer { a, v: outer_row(d, d + 2, alpha, &self.u), u, w, mask_query: self.mask_query }
    }

    /// A stack of two-head layers, one per step.
    pub fn two_head_stack(&self, alphas: &[f64]) -> Vec<MultiHeadLayer> {
        self.two_head_stack_in(alphas)
    }

    /// [`Parts::two_head_stack`] in any [`Transcendental`] scalar.
    pub fn two_head_stack_in<T: Transcendental>(&self, alphas: &[f64]) -> Vec<MultiHeadLayer<T>> {
        alphas.iter().map(|&a| self.two_head_layer_in(T::from_f64(a))).collect()
    }

    /// A stack of Lemma-1 layers, one per step.
    pub fn shift_stack(&self, alphas: &[f64]) -> Vec<ShiftLayer> {
        self.shift_stack_in(alphas)
    }

    /// [`Parts::shift_stack`] in any [`Transcendental`] scalar.
    pub fn shift_stack_in<T: Transcendental>(&self, alphas: &[f64]) -> Vec<ShiftLayer<T>> {
        alphas.iter().map(|&a| self.shift_layer_in(T::from_f64(a))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u_forms_the_td_error_row() {
        let u = u_vector(2);
        assert_eq!(u, vec![0.0, 0.0, 1.0, 1.0, -1.0]);
        let a = attention_matrix(2);
        assert_eq!(a[(1, 1)], 1.0);
        assert_eq!(a[(2, 2)], 0.0);
    }
}
