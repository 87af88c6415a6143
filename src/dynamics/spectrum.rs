//! The spectrum of the Gauss–Newton matrix `G = E[JᵀJ]` (`docs/theory/gradient-flow.md`, Assumption 1
//! in our [R] form): rank, kernel direction against the manifold tangent `(-A⋆, B⋆)` (at a
//! point `(A⋆/c, cB⋆)` the tangent is `(-A⋆/c², B⋆)`), and the smallest positive eigenvalue
//! `λ⁺_min`. Symmetric eigendecomposition by `nalgebra::SymmetricEigen`.

use nalgebra::{DMatrix, SymmetricEigen};

/// What the spectrum says.
#[derive(Clone, Debug)]
pub struct Spectrum {
    /// Eigenvalues, ascending.
    pub eigenvalues: Vec<f64>,
    /// Number of eigenvalues above `RANK_REL_TOL · λ_max`.
    pub rank: usize,
    /// Number of parameters.
    pub n_params: usize,
    /// Smallest eigenvalue above the rank threshold.
    pub lambda_min_pos: f64,
    /// Largest eigenvalue.
    pub lambda_max: f64,
    /// `|cos|` between the eigenvector of the smallest eigenvalue and `tangent`.
    pub kernel_cosine: f64,
    /// Number of eigenvalues at or below the threshold.
    pub zero_eigenvalues: usize,
    /// Unit eigenvector of `λ⁺_min` (the slowest normal mode of the linearized flow).
    pub v_min_pos: Vec<f64>,
}

/// Eigen-analysis of `g` against the manifold tangent `tangent`.
pub fn analyse(g: &DMatrix<f64>, tangent: &[f64]) -> Spectrum {
    let n = g.nrows();
    let eig = SymmetricEigen::new(g.clone());
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&i, &j| eig.eigenvalues[i].partial_cmp(&eig.eigenvalues[j]).unwrap_or(std::cmp::Ordering::Equal));
    let ev: Vec<f64> = idx.iter().map(|&i| eig.eigenvalues[i]).collect();
    let lmax = ev.last().copied().unwrap_or(0.0);
    let thr = crate::tolerance::RANK_REL_TOL * lmax;
    let rank = ev.iter().filter(|&&x| x > thr).count();
    let lmin_pos = ev.iter().copied().find(|&x| x > thr).unwrap_or(0.0);
    let v0 = eig.eigenvectors.column(idx[0]);
    let tn = tangent.iter().map(|x| x * x).sum::<f64>().sqrt();
    let dotp: f64 = v0.iter().zip(tangent).map(|(a, b)| a * b).sum();
    let kernel_cosine = if tn > 0.0 { (dotp / (tn * v0.norm())).abs() } else { 0.0 };
    let v_min_pos = match idx.iter().find(|&&i| eig.eigenvalues[i] > thr) {
        Some(&i) => eig.eigenvectors.column(i).iter().copied().collect(),
        None => vec![0.0; n],
    };
    Spectrum {
        eigenvalues: ev,
        rank,
        n_params: n,
        lambda_min_pos: lmin_pos,
        lambda_max: lmax,
        kernel_cosine,
        zero_eigenvalues: n - rank,
        v_min_pos,
    }
}

/// The tangent of the manifold at `(A⋆/c, c B⋆)`: `d/dc (A⋆/c, cB⋆) = (-A⋆/c², B⋆)`.
pub fn tangent(d: usize, th_star_c1: &[f64], c: f64) -> Vec<f64> {
    let na = d * (2 * d + 1);
    th_star_c1.iter().enumerate().map(|(i, x)| if i < na { -x / (c * c) } else { *x }).collect()
}

/// The Hessian of a loss by central differences of its gradient `grad` at `x` with step `h`,
/// symmetrized: `H[i][j] = ½ (∂_j g_i + ∂_i g_j)`, `∂_j g ≈ (g(x + h e_j) - g(x - h e_j)) / 2h`.
///
/// This is the independent route to the rate of Thm 3.2 [D]: it never calls
/// [`crate::dynamics::loss::Population::gauss_newton`]. At a zero-loss point the Hessian of
/// `L = ½ E‖e‖²` is `E[JᵀJ] + E[Σ_i e_i ∇²e_i] = G` (the residual vanishes), so the two must
/// agree there (checked in `sarsa-local-convergence-rate`, tolerance
/// [`crate::tolerance::FD_REL_TOL`]).
pub fn fd_hessian(mut grad: impl FnMut(&[f64], &mut [f64]), x: &[f64], h: f64) -> DMatrix<f64> {
    let n = x.len();
    let mut y = x.to_vec();
    let (mut gp, mut gm) = (vec![0.0; n], vec![0.0; n]);
    let mut m = DMatrix::<f64>::zeros(n, n);
    for j in 0..n {
        y[j] = x[j] + h;
        grad(&y, &mut gp);
        y[j] = x[j] - h;
        grad(&y, &mut gm);
        y[j] = x[j];
        for i in 0..n {
            m[(i, j)] = (gp[i] - gm[i]) / (2.0 * h);
        }
    }
    (&m + m.transpose()) * 0.5
}

/// Ascending eigenvalues of a symmetric matrix.
pub fn sorted_eigenvalues(m: &DMatrix<f64>) -> Vec<f64> {
    let mut ev: Vec<f64> = SymmetricEigen::new(m.clone()).eigenvalues.iter().copied().collect();
    ev.sort_by(|a, b| a.total_cmp(b));
    ev
}

/// The smallest and second smallest eigenvalues above `zero_rel · λ_max` of ascending `ev`
/// (`(λ⁺_1, λ⁺_2)`; `NaN` where absent).
pub fn two_smallest_positive(ev: &[f64], zero_rel: f64) -> (f64, f64) {
    let lmax = ev.last().copied().unwrap_or(0.0);
    let mut pos = ev.iter().copied().filter(|&x| x > zero_rel * lmax);
    (pos.next().unwrap_or(f64::NAN), pos.next().unwrap_or(f64::NAN))
}
