//! The softmax transformer's readout and its gradient ([XZ] arXiv:2605.07333 layer,
//! `attention::softmax`), shared by the [R] NEU probe (`report::neu`) and the emergence
//! experiment (`dynamics::train_softmax`).
//!
//! `θ` is the flat parameter vector of an `L`-layer two-head stack: per layer `A`, `V¹` (no
//! shift), `V²` (column shift `Π`), each row-major `(d+3)×(d+3)` ([`layers_from`], [`theta_of`]).
//! [`readout_grad`] is a hand-written reverse-mode gradient of the readout `v̂_θ(Z_0) =
//! Z_L[d+2, n]` through the canonical forward pass (`attention::softmax::forward_multi_head`);
//! `tests/all/neu.rs` and `tests/all/train_softmax.rs` check it against central differences.
//! [`td_update`] is one task's semi-gradient TD(0) update `δ ∇v̂` with the bootstrap detached.
//! Nothing here calls `crate::rl`.

use crate::attention::softmax::{
    forward_multi_head, masked_softmax_cols, query_readouts, scores_into, Head, MultiHeadLayer,
};
use crate::linalg::Mat;

/// The layers of `θ` (layout: per layer `A`, `V¹`, `V²`, each row-major `(d+3)×(d+3)`).
/// `V¹` has no shift, `V²` the column shift; the query mask is on.
pub fn layers_from(theta: &[f64], d: usize) -> Vec<MultiHeadLayer> {
    let w = d + 3;
    let block = w * w;
    assert_eq!(theta.len() % (3 * block), 0, "theta length is not 3 L (d+3)^2");
    theta
        .chunks(3 * block)
        .map(|c| {
            let m = |h: usize| Mat::from_vec(w, w, c[h * block..(h + 1) * block].to_vec());
            MultiHeadLayer {
                a: m(0),
                heads: vec![Head { v: m(1), shift: false }, Head { v: m(2), shift: true }],
                mask_query: true,
            }
        })
        .collect()
}

/// The flat `θ` of two-head layers (inverse of [`layers_from`]).
pub fn theta_of(layers: &[MultiHeadLayer]) -> Vec<f64> {
    let mut t = Vec::new();
    for l in layers {
        assert!(l.heads.len() == 2 && !l.heads[0].shift && l.heads[1].shift && l.mask_query, "not a two-head layer");
        t.extend_from_slice(l.a.as_slice());
        t.extend_from_slice(l.heads[0].v.as_slice());
        t.extend_from_slice(l.heads[1].v.as_slice());
    }
    t
}

/// One task: the prompt of the window `S_0 … S_n` (query `S_n`), of the next window
/// `S_1 … S_{n+1}` (query `S_{n+1}`), and the reward `R_{n+1} = r(S_n)` between the queries.
#[derive(Clone, Debug)]
pub struct Task {
    /// `Z_0` of the window ending at `S_n`.
    pub now: Mat<f64>,
    /// `Z_0'` of the window ending at `S_{n+1}`.
    pub next: Mat<f64>,
    /// `R_{n+1}`.
    pub reward: f64,
}

/// `v̂_θ(Z_0) = Z_L[d+2, n]` by the canonical forward pass.
pub fn readout(z0: &Mat<f64>, layers: &[MultiHeadLayer]) -> f64 {
    query_readouts(z0, layers).last().copied().unwrap_or(z0[(z0.rows() - 1, z0.cols() - 1)])
}

/// `(YΠ)[:, j] = Y[:, j+1]`, last column 0.
fn shift_cols(y: &Mat<f64>) -> Mat<f64> {
    let c = y.cols();
    Mat::from_fn(y.rows(), c, |i, j| if j + 1 < c { y[(i, j + 1)] } else { 0.0 })
}

/// `G Πᵀ`: `out[:, k] = G[:, k-1]` for `k ≥ 1`, column 0 is 0 (the adjoint of [`shift_cols`]).
fn unshift_cols(g: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(g.rows(), g.cols(), |i, k| if k >= 1 { g[(i, k - 1)] } else { 0.0 })
}

/// `v̂_θ(Z_0)` and `∇_θ v̂_θ(Z_0)` in the layout of [`layers_from`] (any number of heads, each
/// `V_h` contributing one block after `A`), by reverse mode through the canonical forward pass
/// `Z_{l+1} = Z_l + Σ_h V_h Y_l Π_h`, `Y_l = Z_l S_l`, `S_l = softmax_col(Z_lᵀ A_l Z_l + M)`.
///
/// Backward, with `G = ∂v̂/∂Z_{l+1}` (starting from `e_{d+2} e_nᵀ`): `∂V_h = G (Y Π_h)ᵀ`;
/// `∂Y = Σ_h V_hᵀ G Π_hᵀ`; `∂S = Zᵀ ∂Y`; per column `∂B[i,j] = S[i,j](∂S[i,j] − Σ_k S[k,j] ∂S[k,j])`
/// (masked sources have `S = 0`, so they get 0); `∂A = Z ∂B Zᵀ`;
/// `∂Z_l = G + ∂Y Sᵀ + A Z ∂Bᵀ + Aᵀ Z ∂B`.
pub fn readout_grad(z0: &Mat<f64>, layers: &[MultiHeadLayer]) -> (f64, Vec<f64>) {
    let zs = forward_multi_head(z0, layers);
    let (r, c) = (z0.rows(), z0.cols());
    let v = zs[layers.len()][(r - 1, c - 1)];
    let per_layer: Vec<usize> = layers.iter().map(|l| (1 + l.heads.len()) * r * r).collect();
    let mut grad = vec![0.0; per_layer.iter().sum()];
    let mut g = Mat::zeros(r, c);
    g[(r - 1, c - 1)] = 1.0;
    let mut offset = grad.len();
    let (mut az, mut scores, mut s) = (Mat::zeros(r, c), Mat::zeros(c, c), Mat::zeros(c, c));
    for (l, layer) in layers.iter().enumerate().rev() {
        offset -= per_layer[l];
        let z = &zs[l];
        scores_into(z, &layer.a, &mut az, &mut scores);
        masked_softmax_cols(&scores, layer.mask_query, &mut s);
        let y = z.matmul(&s);
        let yt = y.transpose();
        let yst = shift_cols(&y).transpose();
        let mut gy = Mat::zeros(r, c);
        for (h, head) in layer.heads.iter().enumerate() {
            let gv = g.matmul(if head.shift { &yst } else { &yt });
            let o = offset + (1 + h) * r * r;
            grad[o..o + r * r].copy_from_slice(gv.as_slice());
            let back = head.v.transpose().matmul(&g);
            gy = gy.add(&if head.shift { unshift_cols(&back) } else { back });
        }
        let gs = z.transpose().matmul(&gy);
        let mut gb = Mat::zeros(c, c);
        for j in 0..c {
            let dot: f64 = (0..c).map(|k| s[(k, j)] * gs[(k, j)]).sum();
            for i in 0..c {
                gb[(i, j)] = s[(i, j)] * (gs[(i, j)] - dot);
            }
        }
        let zgb = z.matmul(&gb);
        let ga = zgb.matmul(&z.transpose());
        grad[offset..offset + r * r].copy_from_slice(ga.as_slice());
        let gz = g
            .add(&gy.matmul(&s.transpose()))
            .add(&layer.a.matmul(&z.matmul(&gb.transpose())))
            .add(&layer.a.transpose().matmul(&zgb));
        g = gz;
    }
    (v, grad)
}

/// The semi-gradient TD update of one task at `θ`: `(δ_θ, δ_θ ∇_θ v̂_θ(Z_0))`.
pub fn td_update(task: &Task, layers: &[MultiHeadLayer], gamma: f64) -> (f64, Vec<f64>) {
    let bootstrap = readout(&task.next, layers);
    let (v, mut g) = readout_grad(&task.now, layers);
    let delta = task.reward + gamma * bootstrap - v;
    for x in &mut g {
        *x *= delta;
    }
    (delta, g)
}
