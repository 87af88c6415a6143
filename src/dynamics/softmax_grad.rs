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

use crate::attention::softmax::{masked_softmax_cols, query_readouts, Head, MultiHeadLayer};
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

/// Reusable buffers of [`readout_grad_into`] and [`readout_into`] for prompts of one shape
/// (`rows = d+3`, `cols = n+1`) and `layers` layers: after the first call with a shape nothing
/// is allocated.
#[derive(Clone, Debug)]
pub struct GradWorkspace {
    /// `Z_0 … Z_L`.
    zs: Vec<Mat<f64>>,
    /// `S_l = softmax_col(Z_lᵀ A_l Z_l + M)`.
    ss: Vec<Mat<f64>>,
    /// `Y_l = Z_l S_l`.
    ys: Vec<Mat<f64>>,
    az: Mat<f64>,
    scores: Mat<f64>,
    g: Mat<f64>,
    gz: Mat<f64>,
    gy: Mat<f64>,
    back: Mat<f64>,
    gs: Mat<f64>,
    gb: Mat<f64>,
    zgb: Mat<f64>,
    zgbt: Mat<f64>,
}

impl Default for GradWorkspace {
    fn default() -> Self {
        Self::new()
    }
}

impl GradWorkspace {
    /// Empty buffers (sized on first use).
    pub fn new() -> Self {
        let e = || Mat::zeros(0, 0);
        GradWorkspace {
            zs: Vec::new(),
            ss: Vec::new(),
            ys: Vec::new(),
            az: e(),
            scores: e(),
            g: e(),
            gz: e(),
            gy: e(),
            back: e(),
            gs: e(),
            gb: e(),
            zgb: e(),
            zgbt: e(),
        }
    }
    fn fit(&mut self, r: usize, c: usize, layers: usize) {
        let ok = self.zs.len() == layers + 1 && self.zs[0].rows() == r && self.zs[0].cols() == c;
        if ok {
            return;
        }
        self.zs = vec![Mat::zeros(r, c); layers + 1];
        self.ss = vec![Mat::zeros(c, c); layers];
        self.ys = vec![Mat::zeros(r, c); layers];
        for m in [&mut self.az, &mut self.g, &mut self.gz, &mut self.gy, &mut self.back, &mut self.zgb, &mut self.zgbt]
        {
            m.reset_zeros(r, c);
        }
        for m in [&mut self.scores, &mut self.gs, &mut self.gb] {
            m.reset_zeros(c, c);
        }
    }
}

/// The forward pass into the workspace: `Z_{l+1} = Z_l + Σ_h V_h Y_l Π_h`. The same products
/// in the same summation order as `attention::softmax::forward_multi_head` (dense loops where
/// that one skips exact zeros, which add nothing), so the iterates are equal to its;
/// `tests/all/train_softmax.rs` pins the readout bit for bit.
pub fn forward_into(z0: &Mat<f64>, layers: &[MultiHeadLayer], ws: &mut GradWorkspace) {
    let (r, c) = (z0.rows(), z0.cols());
    ws.fit(r, c, layers.len());
    ws.zs[0].as_mut_slice().copy_from_slice(z0.as_slice());
    for (l, layer) in layers.iter().enumerate() {
        let (lo, hi) = ws.zs.split_at_mut(l + 1);
        let z = lo[l].as_slice();
        // scores = Zᵀ (A Z)
        let a = layer.a.as_slice();
        let az = ws.az.as_mut_slice();
        az.fill(0.0);
        for i in 0..r {
            for k in 0..r {
                let aik = a[i * r + k];
                for j in 0..c {
                    az[i * c + j] += aik * z[k * c + j];
                }
            }
        }
        let sc = ws.scores.as_mut_slice();
        sc.fill(0.0);
        for k in 0..r {
            for i in 0..c {
                let zki = z[k * c + i];
                for j in 0..c {
                    sc[i * c + j] += zki * az[k * c + j];
                }
            }
        }
        masked_softmax_cols(&ws.scores, layer.mask_query, &mut ws.ss[l]);
        // Y = Z S
        let s = ws.ss[l].as_slice();
        let y = ws.ys[l].as_mut_slice();
        y.fill(0.0);
        for i in 0..r {
            for k in 0..c {
                let zik = z[i * c + k];
                for j in 0..c {
                    y[i * c + j] += zik * s[k * c + j];
                }
            }
        }
        // Z' = Z + Σ_h V_h Y Π_h
        let zn = hi[0].as_mut_slice();
        zn.copy_from_slice(z);
        for head in &layer.heads {
            let v = head.v.as_slice();
            for i in 0..r {
                for k in 0..r {
                    let vik = v[i * r + k];
                    if head.shift {
                        for j in 0..c - 1 {
                            zn[i * c + j] += vik * y[k * c + j + 1];
                        }
                    } else {
                        for j in 0..c {
                            zn[i * c + j] += vik * y[k * c + j];
                        }
                    }
                }
            }
        }
    }
}

/// `v̂_θ(Z_0) = Z_L[d+2, n]` by the forward pass of [`readout_grad_into`], reusing `ws`.
pub fn readout_into(z0: &Mat<f64>, layers: &[MultiHeadLayer], ws: &mut GradWorkspace) -> f64 {
    forward_into(z0, layers, ws);
    let z = &ws.zs[layers.len()];
    z[(z.rows() - 1, z.cols() - 1)]
}

/// `v̂_θ(Z_0)` and `∇_θ v̂_θ(Z_0)` in the layout of [`layers_from`] (any number of heads, each
/// `V_h` contributing one block after `A`), by reverse mode through the canonical forward pass
/// `Z_{l+1} = Z_l + Σ_h V_h Y_l Π_h`, `Y_l = Z_l S_l`, `S_l = softmax_col(Z_lᵀ A_l Z_l + M)`.
///
/// Backward, with `G = ∂v̂/∂Z_{l+1}` (starting from `e_{d+2} e_nᵀ`): `∂V_h = G (Y Π_h)ᵀ`;
/// `∂Y = Σ_h V_hᵀ G Π_hᵀ`; `∂S = Zᵀ ∂Y`; per column `∂B[i,j] = S[i,j](∂S[i,j] − Σ_k S[k,j] ∂S[k,j])`
/// (masked sources have `S = 0`, so they get 0); `∂A = Z ∂B Zᵀ`;
/// `∂Z_l = G + ∂Y Sᵀ + A Z ∂Bᵀ + Aᵀ Z ∂B`.
///
/// Allocating wrapper of [`readout_grad_into`].
pub fn readout_grad(z0: &Mat<f64>, layers: &[MultiHeadLayer]) -> (f64, Vec<f64>) {
    let r = z0.rows();
    let mut grad = vec![0.0; layers.iter().map(|l| (1 + l.heads.len()) * r * r).sum()];
    let v = readout_grad_into(z0, layers, &mut GradWorkspace::new(), &mut grad);
    (v, grad)
}

/// [`readout_grad`] into `grad` (overwritten; length `Σ_l (1 + heads_l) (d+3)²`), with every
/// buffer in `ws`: returns `v̂_θ(Z_0)`.
pub fn readout_grad_into(z0: &Mat<f64>, layers: &[MultiHeadLayer], ws: &mut GradWorkspace, grad: &mut [f64]) -> f64 {
    forward_into(z0, layers, ws);
    let z = &ws.zs[layers.len()];
    let v = z[(z.rows() - 1, z.cols() - 1)];
    backward_into(layers, ws, Seed::Query, grad);
    v
}

/// The seed of a reverse pass on the readout row `Z_L[d+2, ·]`.
#[derive(Clone, Copy, Debug)]
pub enum Seed<'a> {
    /// `e_{d+2} e_nᵀ`: the gradient of the query readout `Z_L[d+2, n]` ([`readout_grad_into`]).
    Query,
    /// `e_{d+2} cᵀ`: the gradient of `Σ_j c_j Z_L[d+2, j]` (one entry per column).
    Row(&'a [f64]),
}

/// The readout row `Z_L[d+2, ·]` of the last [`forward_into`] on `ws` (`layers` layers).
pub fn readout_row_of(ws: &GradWorkspace, layers: usize) -> Vec<f64> {
    let z = &ws.zs[layers];
    z.row(z.rows() - 1).to_vec()
}

/// The reverse pass of [`readout_grad`] from `seed`, on the iterates the last
/// [`forward_into`]`(z0, layers, ws)` left in `ws` (so one forward pass serves any number of
/// seeds): writes `∇_θ` of the seeded readout into `grad` (overwritten; length
/// `Σ_l (1 + heads_l) (d+3)²`). The one backward pass of the crate's softmax transformer.
pub fn backward_into(layers: &[MultiHeadLayer], ws: &mut GradWorkspace, seed: Seed, grad: &mut [f64]) {
    let (r, c) = (ws.zs[0].rows(), ws.zs[0].cols());
    assert_eq!(ws.zs.len(), layers.len() + 1, "backward_into after forward_into with the same layers");
    let per_layer = |l: &MultiHeadLayer| (1 + l.heads.len()) * r * r;
    assert_eq!(grad.len(), layers.iter().map(per_layer).sum::<usize>(), "gradient buffer length");
    ws.g.as_mut_slice().fill(0.0);
    match seed {
        Seed::Query => ws.g[(r - 1, c - 1)] = 1.0,
        Seed::Row(cs) => {
            assert_eq!(cs.len(), c, "one seed entry per column");
            for (j, &cj) in cs.iter().enumerate() {
                ws.g[(r - 1, j)] = cj;
            }
        }
    }
    let mut offset = grad.len();
    for (l, layer) in layers.iter().enumerate().rev() {
        offset -= per_layer(layer);
        let z = ws.zs[l].as_slice();
        let s = ws.ss[l].as_slice();
        let y = ws.ys[l].as_slice();
        let g = ws.g.as_slice();
        let gy = ws.gy.as_mut_slice();
        gy.fill(0.0);
        for (h, head) in layer.heads.iter().enumerate() {
            let o = offset + (1 + h) * r * r;
            let gv = &mut grad[o..o + r * r];
            // ∂V = G (YΠ)ᵀ
            for i in 0..r {
                for k in 0..r {
                    let mut acc = 0.0;
                    if head.shift {
                        for j in 0..c - 1 {
                            acc += g[i * c + j] * y[k * c + j + 1];
                        }
                    } else {
                        for j in 0..c {
                            acc += g[i * c + j] * y[k * c + j];
                        }
                    }
                    gv[i * r + k] = acc;
                }
            }
            // ∂Y += (Vᵀ G) Πᵀ
            let vm = head.v.as_slice();
            let back = ws.back.as_mut_slice();
            back.fill(0.0);
            for i in 0..r {
                for k in 0..r {
                    let vik = vm[i * r + k];
                    if vik == 0.0 {
                        continue;
                    }
                    for j in 0..c {
                        back[k * c + j] += vik * g[i * c + j];
                    }
                }
            }
            for k in 0..r {
                if head.shift {
                    for j in 1..c {
                        gy[k * c + j] += back[k * c + j - 1];
                    }
                } else {
                    for j in 0..c {
                        gy[k * c + j] += back[k * c + j];
                    }
                }
            }
        }
        // ∂S = Zᵀ ∂Y
        let gs = ws.gs.as_mut_slice();
        gs.fill(0.0);
        for k in 0..r {
            for i in 0..c {
                let zki = z[k * c + i];
                for j in 0..c {
                    gs[i * c + j] += zki * gy[k * c + j];
                }
            }
        }
        // ∂B, column by column
        let gb = ws.gb.as_mut_slice();
        for j in 0..c {
            let mut dot = 0.0;
            for k in 0..c {
                dot += s[k * c + j] * gs[k * c + j];
            }
            for i in 0..c {
                gb[i * c + j] = s[i * c + j] * (gs[i * c + j] - dot);
            }
        }
        // Z ∂B and Z ∂Bᵀ
        let zgb = ws.zgb.as_mut_slice();
        let zgbt = ws.zgbt.as_mut_slice();
        zgb.fill(0.0);
        for k in 0..r {
            for i in 0..c {
                let zki = z[k * c + i];
                for j in 0..c {
                    zgb[k * c + j] += zki * gb[i * c + j];
                }
            }
            for i in 0..c {
                let mut acc = 0.0;
                for j in 0..c {
                    acc += z[k * c + j] * gb[i * c + j];
                }
                zgbt[k * c + i] = acc;
            }
        }
        // ∂A = (Z ∂B) Zᵀ
        let ga = &mut grad[offset..offset + r * r];
        for k in 0..r {
            for m in 0..r {
                let mut acc = 0.0;
                for j in 0..c {
                    acc += zgb[k * c + j] * z[m * c + j];
                }
                ga[k * r + m] = acc;
            }
        }
        // ∂Z_l = G + ∂Y Sᵀ + A (Z ∂Bᵀ) + Aᵀ (Z ∂B)
        let a = layer.a.as_slice();
        let gz = ws.gz.as_mut_slice();
        gz.copy_from_slice(g);
        for k in 0..r {
            for i in 0..c {
                let mut acc = 0.0;
                for j in 0..c {
                    acc += gy[k * c + j] * s[i * c + j];
                }
                gz[k * c + i] += acc;
            }
        }
        for k in 0..r {
            for m in 0..r {
                let (akm, amk) = (a[k * r + m], a[m * r + k]);
                for i in 0..c {
                    gz[k * c + i] += akm * zgbt[m * c + i] + amk * zgb[m * c + i];
                }
            }
        }
        std::mem::swap(&mut ws.g, &mut ws.gz);
    }
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
