//! [WB] linear-attention TD construction (arXiv:2405.13861) [Q], `docs/theory/linear-td.md`:
//! `P^TD = e_{2d} e_{2d}ᵀ` and `Q^TD = [[-Cᵀ, Cᵀ, 0], [0, 0, 0], [0, 0, 0]]` in blocks
//! `(d, d, 1)`; the residual-gradient variant has top-left `[[-Cᵀ, Cᵀ], [Cᵀ, -Cᵀ]]`.

use crate::linalg::Mat;
use crate::scalar::Scalar;

/// `P^TD`, `(2d+1)×(2d+1)`: only the bottom-right entry is 1.
pub fn p_td<T: Scalar>(d: usize) -> Mat<T> {
    let mut p = Mat::zeros(2 * d + 1, 2 * d + 1);
    p[(2 * d, 2 * d)] = T::one();
    p
}

/// `Q^TD_l` for preconditioner `C` (TD(0) and TD(λ)).
pub fn q_td<T: Scalar>(c: &Mat<T>) -> Mat<T> {
    let d = c.rows();
    let mut q = Mat::zeros(2 * d + 1, 2 * d + 1);
    for i in 0..d {
        for j in 0..d {
            q[(i, j)] = -c[(j, i)].clone();
            q[(i, d + j)] = c[(j, i)].clone();
        }
    }
    q
}

/// Residual-gradient `Q`: top-left `[[-Cᵀ, Cᵀ], [Cᵀ, -Cᵀ]]`.
pub fn q_residual<T: Scalar>(c: &Mat<T>) -> Mat<T> {
    let d = c.rows();
    let mut q = q_td(c);
    for i in 0..d {
        for j in 0..d {
            q[(d + i, j)] = c[(j, i)].clone();
            q[(d + i, d + j)] = -c[(j, i)].clone();
        }
    }
    q
}
