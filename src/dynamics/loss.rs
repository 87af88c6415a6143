//! The teacher-mimicking loss and its analytic gradients, two ways (`docs/theory/gradient-flow.md`):
//!
//! - **full** `D×D` `(P, V)` [Q]: the loss through the generic [LL] eq. 1 forward pass
//!   ([`crate::attention::linear::lsa_block`]), with the gradient written from
//!   `out = (1/n) V H Hᵀ P h_n` (`h_n` the parameter column):
//!   `∇_V = (1/n) e (H Hᵀ P h_n)ᵀ`, `∇_P = (1/n) (H Hᵀ Vᵀ e) h_nᵀ`, `e` the readout error
//!   placed in rows `2d+2..3d+1`. Generic over the scalar, so Prop. 3.1's zeros are checked
//!   exactly. This is the checked reference.
//! - **reduced** `(A, B) = (V̄21, P12)` [D] via Lemma C.1 with `P22 = V̄22 = 0`:
//!   `L = ½ ‖A Σ̂ B w̃ - y‖²` with `y = w_SARSA - w = A⋆ Σ̂ B⋆ w̃`,
//!   `∇_A = e (Σ̂ B w̃)ᵀ`, `∇_B = Σ̂ Aᵀ e w̃ᵀ`. The fast path; tested equal to the full one.
//!
//! Parameter vector layout of the reduced form: `θ = [A row-major (d × t); B row-major
//! (t × (d+1))]`, `t = 2d+1`.

use super::stream::Frame;
use crate::attention::linear::lsa_block;
use crate::attention::prompt::sarsa_prompt;
use crate::construction::sarsa::{p_star, v_star, Shape};
use crate::linalg::Mat;
use crate::scalar::Scalar;

/// Full-parametrization loss and gradients of one prompt.
#[derive(Clone, Debug)]
pub struct FullGrad<T> {
    /// `½ ‖TF(H) - w_tgt‖²`.
    pub loss: T,
    /// `∂L/∂P` (D×D).
    pub grad_p: Mat<T>,
    /// `∂L/∂V` (D×D).
    pub grad_v: Mat<T>,
}

/// Loss of one prompt through the generic forward pass ([LL] eq. 1), `½‖TF(H) - w_tgt‖²`.
pub fn full_loss<T: Scalar>(h: &Mat<T>, p: &Mat<T>, v: &Mat<T>, target: &[T]) -> T {
    let d = target.len();
    let out = lsa_block(h, p, v);
    let (rows, n) = (h.rows(), h.cols() - 1);
    let mut l = T::zero();
    for k in 0..d {
        let e = out[(rows - d + k, n)].clone() - target[k].clone();
        l.add_mul(&e, &e);
    }
    l * T::from_ratio(1, 2)
}

/// Loss and analytic gradients on the full `D×D` parametrization.
pub fn full_loss_grad<T: Scalar>(h: &Mat<T>, p: &Mat<T>, v: &Mat<T>, target: &[T]) -> FullGrad<T> {
    let d = target.len();
    let (rows, cols) = (h.rows(), h.cols());
    let n = cols - 1;
    let inv_n = T::one() / T::from_ratio(n as i64, 1);
    let hn = h.block(0, n, rows, 1);
    let hht = h.matmul(&h.transpose()); // D×D
    let phn = p.matmul(&hn);
    let u = hht.matmul(&phn); // H Hᵀ P h_n
    let vu = v.matmul(&u);
    // readout error e (D-vector, zero outside the w rows)
    let mut e = Mat::zeros(rows, 1);
    let mut loss = T::zero();
    for k in 0..d {
        let r = rows - d + k;
        let out = hn[(r, 0)].clone() + vu[(r, 0)].clone() * &inv_n;
        let ek = out - target[k].clone();
        loss.add_mul(&ek, &ek);
        e[(r, 0)] = ek;
    }
    let grad_v = e.matmul(&u.transpose()).scale(&inv_n);
    let vte = v.transpose().matmul(&e);
    let z = hht.matmul(&vte);
    let grad_p = z.matmul(&hn.transpose()).scale(&inv_n);
    FullGrad { loss: loss * T::from_ratio(1, 2), grad_p, grad_v }
}

/// The reduced blocks of full `(P, V)`: `(A, B) = (V̄21, P12)` flattened as `θ`.
pub fn reduce<T: Scalar>(d: usize, p: &Mat<T>, v: &Mat<T>) -> Vec<f64> {
    reduce_in(d, p, v).iter().map(|x| x.to_f64()).collect()
}

/// [`reduce`] in the scalar of `(P, V)` (no rounding to `f64`).
pub fn reduce_in<T: Scalar>(d: usize, p: &Mat<T>, v: &Mat<T>) -> Vec<T> {
    let r = crate::construction::sarsa::reduced(d, p, v);
    r.v21_bar.as_slice().iter().chain(r.p12.as_slice()).cloned().collect()
}

/// The `(V̄21, P12)` blocks of a full gradient, flattened like `θ`.
pub fn reduce_grad<T: Scalar>(d: usize, g: &FullGrad<T>) -> Vec<f64> {
    reduce(d, &g.grad_p, &g.grad_v)
}

/// [`reduce_grad`] in the scalar of the gradient.
pub fn reduce_grad_in<T: Scalar>(d: usize, g: &FullGrad<T>) -> Vec<T> {
    reduce_in(d, &g.grad_p, &g.grad_v)
}

/// Embed `θ = (A, B)` into full `(P, V)` with every other block zero.
pub fn embed(d: usize, th: &[f64]) -> (Mat<f64>, Mat<f64>) {
    let s = Shape::sarsa(d);
    let (t, dd) = (s.token(), s.dim());
    let mut p = Mat::zeros(dd, dd);
    let mut v = Mat::zeros(dd, dd);
    for i in 0..d {
        for j in 0..t {
            v[(t + 1 + i, j)] = th[i * t + j];
        }
    }
    let off = d * t;
    for i in 0..t {
        for j in 0..=d {
            p[(i, t + j)] = th[off + i * (d + 1) + j];
        }
    }
    (p, v)
}

/// Number of reduced parameters `d(2d+1) + (2d+1)(d+1) = (2d+1)²`.
pub fn n_params(d: usize) -> usize {
    (2 * d + 1) * (2 * d + 1)
}

/// `θ⋆ = (A⋆/c, c B⋆)` from the construction of `crate::construction::sarsa`.
pub fn theta_star(d: usize, alpha: f64, c: f64) -> Vec<f64> {
    let s = Shape::sarsa(d);
    reduce(d, &p_star(s, &c), &v_star(s, &alpha, &0.0, &c))
}

/// Split `θ` into `(A, B)` slices.
pub fn split<T>(d: usize, th: &[T]) -> (&[T], &[T]) {
    th.split_at(d * (2 * d + 1))
}

/// The SARSA prompt of a frame (the generic side's input).
pub fn frame_prompt(f: &Frame) -> Mat<f64> {
    sarsa_prompt(&f.batch, &f.w)
}

/// One prompt of the population: `Σ̂` (t×t row-major), `w̃`, and `y = w_SARSA - w`. Generic
/// over the scalar (`f64` by default; `BigRational` and `ErrBound` for the exact and the bounded
/// full = reduced checks of `sarsa-gradient-identities`).
#[derive(Clone, Debug)]
pub struct PromptStats<T = f64> {
    /// `Σ̂ = (1/n) Σ x_i x_iᵀ`.
    pub sigma_hat: Vec<T>,
    /// `w̃ = [1; w]`.
    pub w_tilde: Vec<T>,
    /// `w_SARSA - w` (the teacher's increment).
    pub y: Vec<T>,
}

impl PromptStats {
    /// From a frame (`Σ̂` formed once: gradient flow is then a fixed ODE).
    pub fn from_frame(f: &Frame) -> Self {
        Self::from_frame_in(f)
    }
}

impl<T: Scalar> PromptStats<T> {
    /// [`PromptStats::from_frame`] in any scalar: the frame's `f64` tokens, `w` and target are
    /// read exactly, and `Σ̂`, `y` are formed in `T`.
    pub fn from_frame_in(f: &Frame) -> Self {
        let (n, d) = (f.batch.len(), f.w.len());
        let t = 2 * d + 1;
        let x: Vec<T> = f.tokens().into_iter().map(T::from_f64).collect();
        let inv_n = T::from_f64(n as f64);
        let mut s = vec![T::zero(); t * t];
        for a in 0..t {
            for b in a..t {
                let mut acc = T::zero();
                for i in 0..n {
                    acc = acc + x[a * n + i].clone() * &x[b * n + i];
                }
                s[a * t + b] = acc.clone() / inv_n.clone();
                s[b * t + a] = acc / inv_n.clone();
            }
        }
        let y = f.target.iter().zip(&f.w).map(|(a, b)| T::from_f64(*a) - T::from_f64(*b)).collect();
        PromptStats { sigma_hat: s, w_tilde: f.w_tilde().into_iter().map(T::from_f64).collect(), y }
    }
}

/// The empirical population loss `L(θ) = (1/N) Σ_k ½ ‖A Σ̂_k B w̃_k - y_k‖²` over a fixed sample.
#[derive(Clone, Debug)]
pub struct Population<T = f64> {
    /// Feature dimension.
    pub d: usize,
    /// The prompts.
    pub prompts: Vec<PromptStats<T>>,
}

fn matvec<T: Scalar>(m: &[T], rows: usize, cols: usize, x: &[T], out: &mut [T]) {
    for i in 0..rows {
        let r = &m[i * cols..(i + 1) * cols];
        out[i] = r.iter().zip(x).fold(T::zero(), |acc, (a, b)| acc + a.clone() * b);
    }
}

fn matvec_t<T: Scalar>(m: &[T], rows: usize, cols: usize, x: &[T], out: &mut [T]) {
    out.iter_mut().for_each(|o| *o = T::zero());
    for i in 0..rows {
        let xi = &x[i];
        for j in 0..cols {
            out[j] = out[j].clone() + m[i * cols + j].clone() * xi;
        }
    }
}

fn sum_sq<T: Scalar>(e: &[T]) -> T {
    e.iter().fold(T::zero(), |acc, x| acc + x.sq())
}

impl Population {
    /// From frames.
    pub fn from_frames(d: usize, frames: &[Frame]) -> Self {
        Self::from_frames_in(d, frames)
    }
}

impl<T: Scalar> Population<T> {
    /// [`Population::from_frames`] in any scalar ([`PromptStats::from_frame_in`]).
    pub fn from_frames_in(d: usize, frames: &[Frame]) -> Self {
        Population { d, prompts: frames.iter().map(PromptStats::from_frame_in).collect() }
    }
    /// `t = 2d+1`.
    pub fn t(&self) -> usize {
        2 * self.d + 1
    }
    /// Residual `e_k(θ)` and the intermediate `z_k = Σ̂_k B w̃_k`.
    fn residual(&self, k: usize, th: &[T], e: &mut [T], z: &mut [T], u: &mut [T]) {
        let (d, t) = (self.d, self.t());
        let (a, b) = split(d, th);
        let pr = &self.prompts[k];
        matvec(b, t, d + 1, &pr.w_tilde, u);
        matvec(&pr.sigma_hat, t, t, u, z);
        matvec(a, d, t, z, e);
        for (ei, yi) in e.iter_mut().zip(&pr.y) {
            *ei = ei.clone() - yi.clone();
        }
    }
    /// `L(θ)`.
    pub fn loss(&self, th: &[T]) -> T {
        let (d, t) = (self.d, self.t());
        let (mut e, mut z, mut u) = (vec![T::zero(); d], vec![T::zero(); t], vec![T::zero(); t]);
        let mut l = T::zero();
        for k in 0..self.prompts.len() {
            self.residual(k, th, &mut e, &mut z, &mut u);
            l = l + sum_sq(&e);
        }
        T::from_f64(0.5) * l / T::from_f64(self.prompts.len() as f64)
    }
    /// `L(θ)` and `∇L(θ)` into `grad`.
    pub fn loss_grad(&self, th: &[T], grad: &mut [T]) -> T {
        let (d, t) = (self.d, self.t());
        let (mut e, mut z, mut u) = (vec![T::zero(); d], vec![T::zero(); t], vec![T::zero(); t]);
        let (mut g, mut sg) = (vec![T::zero(); t], vec![T::zero(); t]);
        grad.iter_mut().for_each(|x| *x = T::zero());
        let na = d * t;
        let mut l = T::zero();
        let (a, _) = split(d, th);
        for k in 0..self.prompts.len() {
            self.residual(k, th, &mut e, &mut z, &mut u);
            l = l + sum_sq(&e);
            for i in 0..d {
                for j in 0..t {
                    grad[i * t + j] = grad[i * t + j].clone() + e[i].clone() * &z[j];
                }
            }
            matvec_t(a, d, t, &e, &mut g); // Aᵀ e
            matvec(&self.prompts[k].sigma_hat, t, t, &g, &mut sg); // Σ̂ Aᵀ e (Σ̂ symmetric)
            let wt = &self.prompts[k].w_tilde;
            for i in 0..t {
                for j in 0..=d {
                    let gi = na + i * (d + 1) + j;
                    grad[gi] = grad[gi].clone() + sg[i].clone() * &wt[j];
                }
            }
        }
        let inv = T::one() / T::from_f64(self.prompts.len() as f64);
        grad.iter_mut().for_each(|x| *x = x.clone() * &inv);
        T::from_f64(0.5) * l * inv
    }
}

impl Population {
    /// Gauss–Newton matrix `G = (1/N) Σ_k J_kᵀ J_k` at `θ`, with
    /// `J_k[dA, dB] = dA Σ̂_k B w̃_k + A Σ̂_k dB w̃_k`.
    pub fn gauss_newton(&self, th: &[f64]) -> nalgebra::DMatrix<f64> {
        let (d, t) = (self.d, self.t());
        let np = n_params(d);
        let na = d * t;
        let (a, b) = split(d, th);
        let mut gmat = nalgebra::DMatrix::<f64>::zeros(np, np);
        let mut j = nalgebra::DMatrix::<f64>::zeros(d, np);
        let (mut z, mut u) = (vec![0.0; t], vec![0.0; t]);
        for pr in &self.prompts {
            matvec(b, t, d + 1, &pr.w_tilde, &mut u);
            matvec(&pr.sigma_hat, t, t, &u, &mut z);
            j.fill(0.0);
            for i in 0..d {
                for c in 0..t {
                    j[(i, i * t + c)] = z[c];
                }
            }
            // A Σ̂ (d×t)
            for i in 0..d {
                for p in 0..t {
                    let mut asg = 0.0;
                    for q in 0..t {
                        asg += a[i * t + q] * pr.sigma_hat[q * t + p];
                    }
                    for c in 0..=d {
                        j[(i, na + p * (d + 1) + c)] = asg * pr.w_tilde[c];
                    }
                }
            }
            gmat += j.transpose() * &j;
        }
        gmat / self.prompts.len() as f64
    }
}

/// Central finite-difference gradient of `f` at `x` with step `h`.
pub fn finite_difference(f: impl Fn(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<f64> {
    let mut y = x.to_vec();
    (0..x.len())
        .map(|i| {
            y[i] = x[i] + h;
            let fp = f(&y);
            y[i] = x[i] - h;
            let fm = f(&y);
            y[i] = x[i];
            (fp - fm) / (2.0 * h)
        })
        .collect()
}
