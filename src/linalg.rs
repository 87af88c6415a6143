//! A small dense row-major matrix generic over [`Scalar`], shared by both sides of every
//! linear-attention identity (it is scalar arithmetic, not an algorithm of either side).
//!
//! `f64` products go through `nalgebra` (cache-blocked `matrixmultiply`); exact products use a
//! straightforward triple loop that skips zero factors, which matters for `BigRational` where a
//! multiplication by zero still allocates.

use crate::scalar::Scalar;

/// Dense row-major matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Mat<T> {
    rows: usize,
    cols: usize,
    data: Vec<T>,
}

impl<T: Scalar> Mat<T> {
    /// The `rows × cols` zero matrix.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Mat { rows, cols, data: vec![T::zero(); rows * cols] }
    }
    /// The `n × n` identity.
    pub fn identity(n: usize) -> Self {
        let mut m = Self::zeros(n, n);
        for i in 0..n {
            m[(i, i)] = T::one();
        }
        m
    }
    /// From a row-major buffer.
    ///
    /// # Panics
    /// If `data.len() != rows * cols` (a programming error, never an input error).
    pub fn from_vec(rows: usize, cols: usize, data: Vec<T>) -> Self {
        assert_eq!(data.len(), rows * cols, "Mat::from_vec: wrong buffer length");
        Mat { rows, cols, data }
    }
    /// From a function of `(row, col)`.
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut data = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                data.push(f(i, j));
            }
        }
        Mat { rows, cols, data }
    }
    /// Make `self` the `rows × cols` zero matrix, reusing its buffer (no allocation once the
    /// buffer is large enough: the per-instance workspaces of the hot loops).
    pub fn reset_zeros(&mut self, rows: usize, cols: usize) {
        self.rows = rows;
        self.cols = cols;
        self.data.clear();
        self.data.resize(rows * cols, T::zero());
    }
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// Row-major entries.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }
    /// Mutable row-major entries.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }
    /// Column `j` as a vector.
    pub fn col(&self, j: usize) -> Vec<T> {
        (0..self.rows).map(|i| self[(i, j)].clone()).collect()
    }
    /// Row `i` as a slice.
    pub fn row(&self, i: usize) -> &[T] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
    /// `selfᵀ`.
    pub fn transpose(&self) -> Self {
        Mat::from_fn(self.cols, self.rows, |i, j| self[(j, i)].clone())
    }
    /// `self · rhs`.
    ///
    /// # Panics
    /// On a shape mismatch (a programming error).
    pub fn matmul(&self, rhs: &Mat<T>) -> Mat<T> {
        assert_eq!(self.cols, rhs.rows, "Mat::matmul: shape mismatch");
        let mut c = Mat::zeros(self.rows, rhs.cols);
        T::gemm(self.rows, self.cols, rhs.cols, &self.data, &rhs.data, &mut c.data);
        c
    }
    /// `s · self`.
    pub fn scale(&self, s: &T) -> Mat<T> {
        Mat { rows: self.rows, cols: self.cols, data: self.data.iter().map(|x| x.clone() * s).collect() }
    }
    /// `self + rhs`.
    pub fn add(&self, rhs: &Mat<T>) -> Mat<T> {
        assert_eq!((self.rows, self.cols), (rhs.rows, rhs.cols), "Mat::add: shape mismatch");
        Mat {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().zip(&rhs.data).map(|(a, b)| a.clone() + b).collect(),
        }
    }
    /// `self - rhs`.
    pub fn sub(&self, rhs: &Mat<T>) -> Mat<T> {
        self.add(&rhs.scale(&-T::one()))
    }
    /// Copy of the block `rows r0..r0+nr`, `cols c0..c0+nc`.
    pub fn block(&self, r0: usize, c0: usize, nr: usize, nc: usize) -> Mat<T> {
        Mat::from_fn(nr, nc, |i, j| self[(r0 + i, c0 + j)].clone())
    }
    /// Write `b` into the block starting at `(r0, c0)`.
    pub fn set_block(&mut self, r0: usize, c0: usize, b: &Mat<T>) {
        for i in 0..b.rows {
            for j in 0..b.cols {
                self[(r0 + i, c0 + j)] = b[(i, j)].clone();
            }
        }
    }
    /// Entrywise map into another scalar type.
    pub fn map<U: Scalar>(&self, f: impl Fn(&T) -> U) -> Mat<U> {
        Mat { rows: self.rows, cols: self.cols, data: self.data.iter().map(f).collect() }
    }
    /// Entries as `f64` (rounded once).
    pub fn to_f64(&self) -> Mat<f64> {
        self.map(|x| x.to_f64())
    }
    /// Largest `|a_ij - b_ij|`, in `f64`.
    pub fn max_abs_diff(&self, rhs: &Mat<T>) -> f64 {
        self.data.iter().zip(&rhs.data).map(|(a, b)| (a.clone() - b.clone()).to_f64().abs()).fold(0.0, f64::max)
    }
    /// Largest `|a_ij|`, in `f64`.
    pub fn max_abs(&self) -> f64 {
        self.data.iter().map(|a| a.to_f64().abs()).fold(0.0, f64::max)
    }
}

impl Mat<f64> {
    /// Exact rational copy of an `f64` matrix.
    pub fn to_exact(&self) -> Mat<num_rational::BigRational> {
        self.map(|x| <num_rational::BigRational as Scalar>::from_f64(*x))
    }
}

impl<T> std::ops::Index<(usize, usize)> for Mat<T> {
    type Output = T;
    #[inline]
    fn index(&self, (i, j): (usize, usize)) -> &T {
        debug_assert!(i < self.rows && j < self.cols);
        &self.data[i * self.cols + j]
    }
}

impl<T> std::ops::IndexMut<(usize, usize)> for Mat<T> {
    #[inline]
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut T {
        debug_assert!(i < self.rows && j < self.cols);
        &mut self.data[i * self.cols + j]
    }
}

pub use crate::scalar::dot_f64;

impl Mat<crate::scalar::errbound::ErrBound> {
    /// The values `x` (bit for bit the plain `f64` computation).
    pub fn values(&self) -> Mat<f64> {
        self.map(|v| v.x)
    }
}

/// The nonzero entries of a matrix, row by row (compressed sparse rows), for products with the
/// constructed weights, which are almost all zero (`P⋆` has `2d + 1` nonzeros of `(3d + 2)²`).
#[derive(Clone, Debug, PartialEq)]
pub struct SparseRows<T> {
    rows: usize,
    cols: usize,
    /// Row `i` owns `cols_idx[start[i]..start[i + 1]]` and the same range of `vals`.
    start: Vec<usize>,
    col_idx: Vec<usize>,
    vals: Vec<T>,
}

impl<T: Scalar> SparseRows<T> {
    /// The nonzero entries of `m` (exact zeros dropped; nothing else).
    pub fn from_mat(m: &Mat<T>) -> Self {
        let mut start = Vec::with_capacity(m.rows + 1);
        let (mut col_idx, mut vals) = (Vec::new(), Vec::new());
        start.push(0);
        for i in 0..m.rows {
            for (j, x) in m.row(i).iter().enumerate() {
                if !x.is_zero() {
                    col_idx.push(j);
                    vals.push(x.clone());
                }
            }
            start.push(vals.len());
        }
        SparseRows { rows: m.rows, cols: m.cols, start, col_idx, vals }
    }
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// Number of stored (nonzero) entries.
    pub fn nnz(&self) -> usize {
        self.vals.len()
    }
    /// `out = self · x`, in the order of the stored entries (column order within a row).
    ///
    /// # Panics
    /// On a length mismatch (a programming error).
    pub fn mul_vec_into(&self, x: &[T], out: &mut [T]) {
        assert!(x.len() == self.cols && out.len() == self.rows, "SparseRows::mul_vec_into: shape mismatch");
        for (i, o) in out.iter_mut().enumerate() {
            let mut s = T::zero();
            for k in self.start[i]..self.start[i + 1] {
                s.add_mul(&self.vals[k], &x[self.col_idx[k]]);
            }
            *o = s;
        }
    }
}

/// `xᵀ y`.
pub fn dot<T: Scalar>(x: &[T], y: &[T]) -> T {
    T::dot(x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_gemm_matches_the_default_loop() {
        // Small dyadic entries: every f64 product and sum is exact, so the f64 override
        // (matrixmultiply, and dot products for one column) equals the default loop over Q.
        let a = Mat::from_fn(3, 4, |i, j| (i * 4 + j) as f64 - 5.0);
        for cols in [1, 2] {
            let b = Mat::from_fn(4, cols, |i, j| (i as f64) * 0.5 - j as f64);
            assert_eq!(a.matmul(&b), a.to_exact().matmul(&b.to_exact()).to_f64());
        }
    }
}
