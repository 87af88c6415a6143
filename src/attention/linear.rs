//! Linear self-attention layers, generic over the scalar (exact or `f64`).
//!
//! - [`lsa_block`]: [LL] eq. 1 (arXiv:2605.05755) [Q]:
//!   `H_out = H + (1/n) (V H) (Hᵀ P H)`, no softmax and **no mask**.
//! - [`masked_layer`]: [WB] (arXiv:2405.13861) [Q]:
//!   `Z_{l+1} = Z_l + (1/n) P Z_l M (Z_lᵀ Q Z_l)` with a mask `M` (`diag(1,…,1,0)` for TD(0)).
//!
//! `n` is the number of context columns, `cols - 1` (spec convention: `1/n`, not `1/(n+1)`).

use crate::linalg::{Mat, SparseRows};
use crate::scalar::Scalar;

/// [LL] eq. 1: `H + (1/n) (V H)(Hᵀ P H)` with `n = cols(H) - 1`.
pub fn lsa_block<T: Scalar>(h: &Mat<T>, p: &Mat<T>, v: &Mat<T>) -> Mat<T> {
    let n = T::from_ratio((h.cols() - 1) as i64, 1);
    let ph = p.matmul(h);
    let g = h.transpose().matmul(&ph); // (n+1)×(n+1): Hᵀ P H
    let vh = v.matmul(h);
    let upd = vh.matmul(&g);
    h.add(&upd.scale(&(T::one() / n)))
}

/// [LL] eq. 1, only the last column of the output (what the readout needs), in
/// `O(D² (n+1))` instead of `O(D² (n+1) + D (n+1)²)`: `h_n + (1/n) (V H)(Hᵀ (P h_n))`.
/// Tested equal to the last column of [`lsa_block`].
pub fn lsa_block_last_column<T: Scalar>(h: &Mat<T>, p: &Mat<T>, v: &Mat<T>) -> Vec<T> {
    let cols = h.cols();
    let n = T::from_ratio((cols - 1) as i64, 1);
    let last = h.block(0, cols - 1, h.rows(), 1);
    let p_last = p.matmul(&last); // D×1
    let g = h.transpose().matmul(&p_last); // (n+1)×1
    let hg = h.matmul(&g); // D×1
    let upd = v.matmul(&hg); // V (H g) = (V H) g
    let inv_n = T::one() / n;
    (0..h.rows()).map(|i| last[(i, 0)].clone() + upd[(i, 0)].clone() * &inv_n).collect()
}

/// [LL] eq. 1's readout column with the weights prepared once: `P` and `V` stored as
/// [`SparseRows`] (the constructed `P⋆`, `V⋆` have `2d + 1` and `d` nonzeros of `D²`), the
/// column computed as `h_n + (1/n) V (H (Hᵀ (P h_n)))` into caller-owned buffers, so a hot loop
/// over many prompts with the same weights allocates nothing per prompt. Cost
/// `nnz(P) + nnz(V) + 2 D (n+1)` multiply-adds instead of `2 D² + 2 D (n+1)`.
/// The same polynomial as the last column of [`lsa_block`] (tested equal exactly over
/// `BigRational` and `F_p`, and to rounding in `f64`).
#[derive(Clone, Debug)]
pub struct LsaReadout<T> {
    p: SparseRows<T>,
    v: SparseRows<T>,
    /// The columns of `V` that hold a nonzero: the only rows of `H g` the output reads.
    v_cols: Vec<bool>,
}

/// Workspace of [`LsaReadout::last_column_into`]; reuse one per thread.
#[derive(Clone, Debug)]
pub struct LsaScratch<T> {
    last: Vec<T>,
    ph: Vec<T>,
    g: Vec<T>,
    hg: Vec<T>,
    upd: Vec<T>,
}

impl<T> Default for LsaScratch<T> {
    fn default() -> Self {
        LsaScratch { last: Vec::new(), ph: Vec::new(), g: Vec::new(), hg: Vec::new(), upd: Vec::new() }
    }
}

impl<T: Scalar> LsaReadout<T> {
    /// Prepare `(P, V)`, both `D×D`.
    ///
    /// # Panics
    /// If `P` or `V` is not square of the same size (a programming error).
    pub fn new(p: &Mat<T>, v: &Mat<T>) -> Self {
        assert!(
            p.rows() == p.cols() && v.rows() == v.cols() && p.rows() == v.rows(),
            "LsaReadout::new: P and V must be D×D"
        );
        let v_cols = (0..v.cols()).map(|j| (0..v.rows()).any(|i| !v[(i, j)].is_zero())).collect();
        LsaReadout { p: SparseRows::from_mat(p), v: SparseRows::from_mat(v), v_cols }
    }

    /// `D`.
    pub fn dim(&self) -> usize {
        self.p.rows()
    }

    /// The last output column of [`lsa_block`] on `h` (`D × (n+1)`), written to `out`
    /// (resized to `D`).
    ///
    /// # Panics
    /// If `h` has not `D` rows or fewer than 2 columns (a programming error).
    pub fn last_column_into(&self, h: &Mat<T>, s: &mut LsaScratch<T>, out: &mut Vec<T>) {
        let (rows, cols) = (h.rows(), h.cols());
        assert!(rows == self.dim() && cols >= 2, "LsaReadout::last_column_into: shape mismatch");
        let zero = || T::zero();
        s.last.clear();
        s.last.extend((0..rows).map(|i| h[(i, cols - 1)].clone()));
        s.ph.resize_with(rows, zero);
        self.p.mul_vec_into(&s.last, &mut s.ph); // P h_n
        s.g.clear();
        s.g.resize_with(cols, zero);
        for i in 0..rows {
            // g = Hᵀ (P h_n), accumulated row by row of H (skipping zero coefficients).
            let c = &s.ph[i];
            if c.is_zero() {
                continue;
            }
            for (gj, hij) in s.g.iter_mut().zip(h.row(i)) {
                gj.add_mul(c, hij);
            }
        }
        s.hg.clear();
        // H g, only in the rows V reads (the others meet only zeros of V).
        s.hg.extend((0..rows).map(|i| if self.v_cols[i] { crate::linalg::dot(h.row(i), &s.g) } else { T::zero() }));
        s.upd.resize_with(rows, zero);
        self.v.mul_vec_into(&s.hg, &mut s.upd); // V (H g)
        let inv_n = T::one() / T::from_ratio((cols - 1) as i64, 1);
        out.clear();
        out.extend(s.last.iter().zip(&s.upd).map(|(l, u)| l.clone() + u.clone() * &inv_n));
    }
}

/// [WB]: `Z + (1/n) P Z M (Zᵀ Q Z)` with `n = cols(Z) - 1`.
pub fn masked_layer<T: Scalar>(z: &Mat<T>, p: &Mat<T>, q: &Mat<T>, mask: &Mat<T>) -> Mat<T> {
    let n = T::from_ratio((z.cols() - 1) as i64, 1);
    let qz = q.matmul(z);
    let g = z.transpose().matmul(&qz);
    let pz = p.matmul(z);
    let upd = pz.matmul(mask).matmul(&g);
    z.add(&upd.scale(&(T::one() / n)))
}

/// The TD(0) mask `diag(1,…,1,0)` of size `n+1`: the query column is never a source.
pub fn query_mask<T: Scalar>(n: usize) -> Mat<T> {
    let mut m = Mat::identity(n + 1);
    m[(n, n)] = T::zero();
    m
}

/// [WB] TD(λ) mask: context block lower-triangular with `λ^{row-col}` (row ≥ col), query
/// row and column zero.
pub fn td_lambda_mask<T: Scalar>(n: usize, lambda: &T) -> Mat<T> {
    let mut m = Mat::zeros(n + 1, n + 1);
    for i in 0..n {
        let mut pw = T::one();
        for j in (0..=i).rev() {
            m[(i, j)] = pw.clone();
            pw = pw * lambda;
        }
    }
    m
}
