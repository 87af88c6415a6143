//! Multi-head masked linear attention ([WB], arXiv:2405.13861, the average-reward layer of their
//! `verification/model.py`) [Q], generic over the scalar:
//!
//! ```text
//! head_h = P_h Z S_h M (Zᵀ Q_h Z),      Z ← Z + (1/n) W [head_1; …; head_H]
//! ```
//!
//! with an optional column-mixing matrix `S_h` (identity when absent), the mask `M` and the
//! output matrix `W ∈ R^{D×(H·D)}`. `n = cols(Z) − 1`. Also the prompt `[φ; φ'; r; 0]`.

use crate::linalg::Mat;
use crate::mdp::batch::TransitionBatch;
use crate::scalar::Scalar;

/// One head: `P Z S M (Zᵀ Q Z)`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearHead<T> {
    /// `P_h`, `D×D`.
    pub p: Mat<T>,
    /// `S_h`, `(n+1)×(n+1)`, applied to the value side before the mask (`None`: identity).
    pub mixer: Option<Mat<T>>,
    /// `Q_h`, `D×D`.
    pub q: Mat<T>,
}

/// `Z + (1/n) W [head_1; …; head_H]`.
///
/// # Panics
/// If `W` is not `D × (H·D)` or a head's matrices do not match `Z` (callers build them from the
/// prompt's shape).
pub fn multi_head_masked_layer<T: Scalar>(z: &Mat<T>, heads: &[LinearHead<T>], w: &Mat<T>, mask: &Mat<T>) -> Mat<T> {
    let (dim, cols) = (z.rows(), z.cols());
    assert_eq!((w.rows(), w.cols()), (dim, heads.len() * dim), "W must be D × (H·D)");
    let n = T::from_ratio((cols - 1) as i64, 1);
    let mut stacked = Mat::zeros(heads.len() * dim, cols);
    for (h, head) in heads.iter().enumerate() {
        let scores = z.transpose().matmul(&head.q.matmul(z)); // Zᵀ Q Z
        let mut values = head.p.matmul(z); // P Z
        if let Some(s) = &head.mixer {
            values = values.matmul(s);
        }
        stacked.set_block(h * dim, 0, &values.matmul(mask).matmul(&scores));
    }
    z.add(&w.matmul(&stacked).scale(&(T::one() / n)))
}

/// [WB] average-reward prompt [Q]: `Z_0 ∈ R^{(2d+2)×(n+1)}`, context column `[φ_i; φ'_i; r_i; 0]`
/// (no discount), query column `[φ_q; 0; 0; 0]`.
pub fn average_reward_prompt<T: Scalar>(b: &TransitionBatch<T>, phi_q: &[T]) -> Mat<T> {
    let (n, d) = (b.len(), phi_q.len());
    let mut z = Mat::zeros(2 * d + 2, n + 1);
    for i in 0..n {
        for k in 0..d {
            z[(k, i)] = b.phi[i][k].clone();
            z[(d + k, i)] = b.phi_next[i][k].clone();
        }
        z[(2 * d, i)] = b.rewards[i].clone();
    }
    for k in 0..d {
        z[(k, n)] = phi_q[k].clone();
    }
    z
}

/// The value [WB]'s code reads after each layer: `+Z[2d+1, n]` (last row, query column).
pub fn average_reward_readout<T: Scalar>(z: &Mat<T>) -> T {
    z[(z.rows() - 1, z.cols() - 1)].clone()
}
