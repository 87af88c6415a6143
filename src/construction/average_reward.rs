//! [WB] average-reward TD construction (arXiv:2405.13861; their `verification/model.py`,
//! `AVGREWTDLayer`) [Q]: a two-head masked linear-attention layer on the prompt
//! `Z = [φ; φ'; r; 0] ∈ R^{(2d+2)×(n+1)}` (`γ = 1`).
//!
//! ```text
//! head1 = P1 Z R M (Zᵀ Q Z),   P1 = e_{2d} e_{2d}ᵀ         (the reward row)
//!         R = U diag(1, 1/2, …, 1/(n+1)) − I,  U = upper-triangular ones
//! head2 = P2 Z I M (Zᵀ Q Z),   P2 = e_{2d+1} e_{2d+1}ᵀ     (the last row)
//! Q     = [[-Cᵀ, Cᵀ, 0], [0, 0, 0], [0, 0, 0]]   in blocks (d, d, 2)
//! Z    ← Z + (1/n) W [head1; head2],  W ∈ R^{(2d+2)×(4d+4)},  W[2d+1, 2d] = W[2d+1, 4d+3] = 1
//! ```
//!
//! `(r R)_j = r̄_j − r_j`: head 1 carries the *negated* differential reward, and the value is read
//! as `+Z[2d+1, n]` (not `−Z[·, n]` as in the discounted layers). The two sign flips cancel:
//! with the transformer's implicit weight `x_l` (`Z_l[2d+1, j] = x_lᵀ(φ'_j − φ_j)`,
//! `Z_l[2d+1, n] = −x_lᵀφ_q`), `x_l = −w_l` for the reference iterate `w_l`
//! (`proofs/linear-td-average-reward.md`).

use crate::attention::multi_head::LinearHead;
use crate::linalg::Mat;
use crate::scalar::Scalar;

/// `e_row e_rowᵀ`, `dim × dim`.
fn unit_projector<T: Scalar>(dim: usize, row: usize) -> Mat<T> {
    let mut p = Mat::zeros(dim, dim);
    p[(row, row)] = T::one();
    p
}

/// `R = U diag(1, 1/2, …, 1/(n+1)) − I`, `(n+1)×(n+1)`: `(Z R)[:, j] = mean_{k≤j} Z[:, k] − Z[:, j]`.
pub fn running_mean_mixer<T: Scalar>(n: usize) -> Mat<T> {
    Mat::from_fn(n + 1, n + 1, |i, j| {
        let mean = if i <= j { T::from_ratio(1, j as i64 + 1) } else { T::zero() };
        if i == j {
            mean - T::one()
        } else {
            mean
        }
    })
}

/// `Q` for preconditioner `C`, `(2d+2)×(2d+2)`: top-left `[[-Cᵀ, Cᵀ], [0, 0]]`.
pub fn q_average_reward<T: Scalar>(c: &Mat<T>) -> Mat<T> {
    let d = c.rows();
    let mut q = Mat::zeros(2 * d + 2, 2 * d + 2);
    for i in 0..d {
        for j in 0..d {
            q[(i, j)] = -c[(j, i)].clone();
            q[(i, d + j)] = c[(j, i)].clone();
        }
    }
    q
}

/// The output matrix `W`: row `2d+1` reads row `2d` of head 1 and row `2d+1` of head 2.
pub fn w_out<T: Scalar>(d: usize) -> Mat<T> {
    let mut w = Mat::zeros(2 * d + 2, 4 * d + 4);
    w[(2 * d + 1, 2 * d)] = T::one();
    w[(2 * d + 1, 4 * d + 3)] = T::one();
    w
}

/// The two heads of layer `l` (preconditioner `C_l`) for `n` context columns.
pub fn heads<T: Scalar>(c: &Mat<T>, n: usize) -> Vec<LinearHead<T>> {
    let d = c.rows();
    let q = q_average_reward(c);
    vec![
        LinearHead { p: unit_projector(2 * d + 2, 2 * d), mixer: Some(running_mean_mixer(n)), q: q.clone() },
        LinearHead { p: unit_projector(2 * d + 2, 2 * d + 1), mixer: None, q },
    ]
}
