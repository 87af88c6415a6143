//! Softmax attention with the additive query mask ([XZ] eqs. 1–3, arXiv:2605.07333), generic
//! over [`Transcendental`]: plain `f64` (the fast path) or
//! [`ErrBound`](crate::scalar::errbound::ErrBound), whose values are bit for bit the `f64` ones
//! and whose bounds are the rigorous tolerance of the softmax-TD equalities (one implementation,
//! no second copy of the forward pass).
//!
//! `Z_{l+1} = Z_l + Σ_h V_h Z_l softmax(Z_lᵀ A Z_l + M) Π_h`, the softmax taken **per column**
//! (column `j` is a query, normalized over the source index `i`); the mask `M[n, j] = -∞` for
//! every `j` makes the last column (the query) never a source [Q]. There is no `1/n` and no
//! `1/√d`. `Π_h` is either the identity or the column shift `(YΠ)[:, j] = Y[:, j+1]`, last
//! column 0 ([D] exact form, `docs/theory/softmax-td.md`).
//!
//! Numerics: each column subtracts its maximum over the *unmasked* sources before `exp`, and a
//! masked source is skipped (its weight is exactly 0), never represented as a large negative
//! number; the maximum is subtracted as an exact constant (the softmax is shift-invariant,
//! `crate::scalar::errbound`, "`exp` and `sqrt`"). Scores are computed generically from a full `(d+3)×(d+3)` matrix `A`, skipping
//! zero entries of `A` (a structural fast path that is bit-for-bit the dense product: adding an
//! exact zero product changes no finite sum; `tests/softmax_td.rs` checks it against the dense
//! triple loop).
//!
//! Two further savings, both exact: only the rows of `Z S` that some value matrix reads are
//! formed, and the attention weights are reused across layers while no layer has written a
//! row that `A` reads (in the construction `A` reads only the feature rows, so the `exp`s are
//! computed once per forward pass); `forward_*_with(.., false)` turns the reuse off, and the
//! tests pin both paths bit for bit.
//!
//! Nothing here calls `crate::rl`: the theorems compare this forward pass with the reference
//! weighted softmax TD of `crate::rl::softmax`.

use crate::linalg::Mat;
use crate::mdp::features::Features;
use crate::scalar::errbound::Transcendental;

/// The prompt `Z_0 ∈ R^{(d+3)×(n+1)}` of `docs/theory/softmax-td.md` ([Q] rows, [D] layout): column `j`
/// holds `scale · x(S_j)` in rows `0..d`, `R_{j+1}` in row `d` (0 in the query column `n`), and
/// zeros in the memory rows `d+1` (target value) and `d+2` (current value).
///
/// `scale = √β` realizes the inverse temperature. `states` has `n+1` entries and `rewards` `n`
/// (validated by the caller: `Trajectory::validate`).
pub fn prompt<T: Transcendental>(features: &Features, scale: T, states: &[usize], rewards: &[f64]) -> Mat<T> {
    let d = features.dim();
    let cols = states.len();
    let mut z = Mat::zeros(d + 3, cols);
    for (j, &s) in states.iter().enumerate() {
        for (k, &xk) in features.x(s).iter().enumerate() {
            z[(k, j)] = scale * T::from_f64(xk);
        }
        if j < rewards.len() {
            z[(d, j)] = T::from_f64(rewards[j]);
        }
    }
    z
}

/// Column softmax of `scores` into `out` (same shape, square `(n+1)×(n+1)`): for each query
/// column `j`, `out[i, j] = exp(scores[i,j] - m_j) / Σ_i' exp(scores[i',j] - m_j)` over the
/// unmasked sources `i`, with `m_j` their maximum. With `mask_query`, source `n` (the last row)
/// is masked: `out[n, j] = 0` exactly. `m_j` is taken on the values and subtracted as an exact
/// constant (shift invariance: the exact weights do not depend on it).
pub fn masked_softmax_cols<T: Transcendental>(scores: &Mat<T>, mask_query: bool, out: &mut Mat<T>) {
    let (rows, cols) = (scores.rows(), scores.cols());
    let sources = if mask_query { rows - 1 } else { rows };
    let sc = scores.as_slice();
    let o = out.as_mut_slice();
    for j in 0..cols {
        let mut m = f64::NEG_INFINITY;
        for i in 0..sources {
            m = m.max(sc[i * cols + j].to_f64());
        }
        let m = T::from_f64(m);
        let mut sum = T::zero();
        for i in 0..sources {
            let e = (sc[i * cols + j] - m).exp_val();
            o[i * cols + j] = e;
            sum = sum + e;
        }
        for i in 0..sources {
            o[i * cols + j] = o[i * cols + j] / sum;
        }
        for i in sources..rows {
            o[i * cols + j] = T::zero();
        }
    }
}

/// One value head: `V Z S` (with the column shift `Π` when `shift`).
#[derive(Clone, Debug, PartialEq)]
pub struct Head<T = f64> {
    /// `V ∈ R^{(d+3)×(d+3)}`.
    pub v: Mat<T>,
    /// Apply the column shift `Π` after the attention.
    pub shift: bool,
}

/// A multi-head layer sharing one attention matrix: `Z + Σ_h V_h Z S Π_h` ([XZ] two-head form).
#[derive(Clone, Debug, PartialEq)]
pub struct MultiHeadLayer<T = f64> {
    /// The attention (key-query) matrix `A ∈ R^{(d+3)×(d+3)}`.
    pub a: Mat<T>,
    /// The heads.
    pub heads: Vec<Head<T>>,
    /// Apply the query mask `M[n, ·] = -∞`.
    pub mask_query: bool,
}

/// [XZ] Lemma 1 form: one head plus a parameter-free shift,
/// `Z̃ = Z + V Z S`, `Z_{l+1} = U Z̃ + W Z̃ Π`.
#[derive(Clone, Debug, PartialEq)]
pub struct ShiftLayer<T = f64> {
    /// `A`.
    pub a: Mat<T>,
    /// `V`.
    pub v: Mat<T>,
    /// `U` (keeps every row but the target memory).
    pub u: Mat<T>,
    /// `W` (writes `γ` times the shifted current value into the target memory).
    pub w: Mat<T>,
    /// Apply the query mask.
    pub mask_query: bool,
}

/// Reusable buffers of one forward pass (no allocation inside the layer loop).
#[derive(Clone, Debug)]
pub struct Workspace<T = f64> {
    az: Mat<T>,
    scores: Mat<T>,
    s: Mat<T>,
    y: Mat<T>,
    t: Mat<T>,
    needed: Vec<bool>,
    /// The `(A, mask)` whose softmax `s` holds while no layer has written a row `A` reads.
    cached: Option<(Mat<T>, bool)>,
    /// Allow the cache (tests turn it off to pin it).
    pub use_cache: bool,
    /// How many times the attention weights were computed (the `exp`s): once per forward pass
    /// of the [XZ] construction, whose `A` reads rows no head writes.
    computed: usize,
}

impl<T: Transcendental> Workspace<T> {
    /// Buffers for prompts with `rows = d+3` and `cols = n+1`.
    pub fn new(rows: usize, cols: usize) -> Self {
        Workspace {
            az: Mat::zeros(rows, cols),
            scores: Mat::zeros(cols, cols),
            s: Mat::zeros(cols, cols),
            y: Mat::zeros(rows, cols),
            t: Mat::zeros(rows, cols),
            needed: vec![false; rows],
            cached: None,
            use_cache: true,
            computed: 0,
        }
    }
    /// How many layers so far computed their attention weights rather than reusing the
    /// previous layer's (the cost the cache saves; tests pin it).
    pub fn weights_computed(&self) -> usize {
        self.computed
    }
    /// The attention weights `S_l` of the last layer applied.
    pub fn attention(&self) -> &Mat<T> {
        &self.s
    }
}

/// `out = Zᵀ A Z`, skipping zero entries of `A` and zero rows of `A` (bit-identical to the
/// dense product in the same summation order).
pub fn scores_into<T: Transcendental>(z: &Mat<T>, a: &Mat<T>, az: &mut Mat<T>, out: &mut Mat<T>) {
    let (r, c) = (z.rows(), z.cols());
    let zs = z.as_slice();
    let asl = a.as_slice();
    let azs = az.as_mut_slice();
    azs.fill(T::zero());
    let mut nonzero_row = vec![false; r];
    for i in 0..r {
        for k in 0..r {
            let aik = asl[i * r + k];
            if aik.is_zero() {
                continue;
            }
            nonzero_row[i] = true;
            for j in 0..c {
                azs[i * c + j].acc_mul(&aik, &zs[k * c + j]);
            }
        }
    }
    let o = out.as_mut_slice();
    o.fill(T::zero());
    for k in 0..r {
        if !nonzero_row[k] {
            continue;
        }
        for i in 0..c {
            let zki = zs[k * c + i];
            if zki.is_zero() {
                continue;
            }
            for j in 0..c {
                o[i * c + j].acc_mul(&zki, &azs[k * c + j]);
            }
        }
    }
}

/// Dense reference of [`scores_into`]: `Zᵀ A Z` by the textbook triple loops (same summation
/// order, no skipping). Used by tests to pin the fast path.
pub fn scores_dense(z: &Mat<f64>, a: &Mat<f64>) -> Mat<f64> {
    let (r, c) = (z.rows(), z.cols());
    let az = Mat::from_fn(r, c, |i, j| {
        let mut acc = 0.0;
        for k in 0..r {
            acc += a[(i, k)] * z[(k, j)];
        }
        acc
    });
    Mat::from_fn(c, c, |i, j| {
        let mut acc = 0.0;
        for k in 0..r {
            acc += z[(k, i)] * az[(k, j)];
        }
        acc
    })
}

/// `y = Z S` (row-major, `S` square), only for the rows `i` with `needed[i]` (the rows some
/// value matrix reads; the others are left at 0 and never used).
fn attend_into<T: Transcendental>(z: &Mat<T>, s: &Mat<T>, y: &mut Mat<T>, needed: &[bool]) {
    let (r, c) = (z.rows(), z.cols());
    let zs = z.as_slice();
    let ss = s.as_slice();
    let ys = y.as_mut_slice();
    ys.fill(T::zero());
    for i in 0..r {
        if !needed[i] {
            continue;
        }
        for k in 0..c {
            let zik = zs[i * c + k];
            if zik.is_zero() {
                continue;
            }
            for j in 0..c {
                ys[i * c + j].acc_mul(&zik, &ss[k * c + j]);
            }
        }
    }
}

/// `z += V y Π` (or `V y` without the shift), skipping zero entries of `V`.
fn add_head<T: Transcendental>(z: &mut Mat<T>, v: &Mat<T>, y: &Mat<T>, shift: bool) {
    let (r, c) = (z.rows(), z.cols());
    let vs = v.as_slice();
    let ys = y.as_slice();
    let zs = z.as_mut_slice();
    for i in 0..r {
        for k in 0..r {
            let vik = vs[i * r + k];
            if vik.is_zero() {
                continue;
            }
            if shift {
                for j in 0..c - 1 {
                    zs[i * c + j].acc_mul(&vik, &ys[k * c + j + 1]);
                }
            } else {
                for j in 0..c {
                    zs[i * c + j].acc_mul(&vik, &ys[k * c + j]);
                }
            }
        }
    }
}

/// `out = M x` for square `M` (rows of `x` mixed), `shift` applies `Π` afterwards; accumulates.
fn mix_rows_add<T: Transcendental>(out: &mut Mat<T>, m: &Mat<T>, x: &Mat<T>, shift: bool) {
    add_head(out, m, x, shift)
}

/// Mark the columns `k` with some nonzero `V[i, k]` (the rows of `Z S` that `V` reads).
fn mark_read_rows<T: Transcendental>(v: &Mat<T>, needed: &mut [bool]) {
    let r = v.rows();
    for (idx, x) in v.as_slice().iter().enumerate() {
        if !x.is_zero() {
            needed[idx % r] = true;
        }
    }
}

/// Rows of `Z` that the scores `Zᵀ A Z` read: `i` with a nonzero in row or column `i` of `A`.
fn reads<T: Transcendental>(a: &Mat<T>, i: usize) -> bool {
    (0..a.rows()).any(|k| !a[(i, k)].is_zero() || !a[(k, i)].is_zero())
}

/// The attention weights of `z` under `(a, mask)`, reusing the previous layer's when it had
/// the same `(A, mask)` and wrote no row `A` reads (then the scores' inputs are bit-for-bit
/// unchanged, so recomputing would give the same `S`). In the [XZ] construction `A` reads
/// only the feature rows, which no head writes: `S_l = S_0` for every layer, and the `exp`s
/// are computed once per forward pass.
fn attention_weights<T: Transcendental>(z: &Mat<T>, a: &Mat<T>, mask: bool, ws: &mut Workspace<T>) {
    let hit = ws.use_cache && matches!(&ws.cached, Some((ca, cm)) if *cm == mask && ca == a);
    if !hit {
        scores_into(z, a, &mut ws.az, &mut ws.scores);
        masked_softmax_cols(&ws.scores, mask, &mut ws.s);
        ws.cached = Some((a.clone(), mask));
        ws.computed += 1;
    }
}

/// After a layer wrote the rows `written`, drop the cached weights if `A` reads one of them.
fn invalidate<T: Transcendental>(ws: &mut Workspace<T>, written: impl Fn(usize) -> bool) {
    if let Some((a, _)) = &ws.cached {
        if (0..a.rows()).any(|i| written(i) && reads(a, i)) {
            ws.cached = None;
        }
    }
}

fn row_nonzero<T: Transcendental>(m: &Mat<T>, i: usize) -> bool {
    m.row(i).iter().any(|x| !x.is_zero())
}

/// Apply one multi-head layer in place.
pub fn apply_multi_head<T: Transcendental>(z: &mut Mat<T>, layer: &MultiHeadLayer<T>, ws: &mut Workspace<T>) {
    attention_weights(z, &layer.a, layer.mask_query, ws);
    ws.needed.fill(false);
    for h in &layer.heads {
        mark_read_rows(&h.v, &mut ws.needed);
    }
    attend_into(z, &ws.s, &mut ws.y, &ws.needed);
    for h in &layer.heads {
        add_head(z, &h.v, &ws.y, h.shift);
    }
    invalidate(ws, |i| layer.heads.iter().any(|h| row_nonzero(&h.v, i)));
}

/// Apply one Lemma-1 layer in place.
pub fn apply_shift_layer<T: Transcendental>(z: &mut Mat<T>, layer: &ShiftLayer<T>, ws: &mut Workspace<T>) {
    attention_weights(z, &layer.a, layer.mask_query, ws);
    ws.needed.fill(false);
    mark_read_rows(&layer.v, &mut ws.needed);
    attend_into(z, &ws.s, &mut ws.y, &ws.needed);
    // z̃ = z + V y, kept in z.
    add_head(z, &layer.v, &ws.y, false);
    // t = U z̃ + W z̃ Π
    ws.t.as_mut_slice().fill(T::zero());
    mix_rows_add(&mut ws.t, &layer.u, z, false);
    mix_rows_add(&mut ws.t, &layer.w, z, true);
    z.as_mut_slice().copy_from_slice(ws.t.as_slice());
    let n = layer.u.rows();
    invalidate(ws, |i| {
        row_nonzero(&layer.v, i)
            || row_nonzero(&layer.w, i)
            || (0..n).any(|k| {
                let uik = &layer.u[(i, k)];
                if i == k {
                    *uik != T::one()
                } else {
                    !uik.is_zero()
                }
            })
    });
}

/// Every iterate `Z_0 … Z_L` of a stack of multi-head layers.
pub fn forward_multi_head<T: Transcendental>(z0: &Mat<T>, layers: &[MultiHeadLayer<T>]) -> Vec<Mat<T>> {
    forward_multi_head_with(z0, layers, true)
}

/// [`forward_multi_head`] with the attention-weight cache on or off (tests pin that both
/// give bit-identical iterates).
pub fn forward_multi_head_with<T: Transcendental>(
    z0: &Mat<T>,
    layers: &[MultiHeadLayer<T>],
    use_cache: bool,
) -> Vec<Mat<T>> {
    forward_stack(z0, layers, use_cache, apply_multi_head)
}

/// Run `apply` layer by layer from `z0`, keeping every iterate.
fn forward_stack<T: Transcendental, L>(
    z0: &Mat<T>,
    layers: &[L],
    use_cache: bool,
    apply: fn(&mut Mat<T>, &L, &mut Workspace<T>),
) -> Vec<Mat<T>> {
    let mut ws = Workspace::new(z0.rows(), z0.cols());
    ws.use_cache = use_cache;
    let mut z = z0.clone();
    let mut out = Vec::with_capacity(layers.len() + 1);
    out.push(z.clone());
    for l in layers {
        apply(&mut z, l, &mut ws);
        out.push(z.clone());
    }
    out
}

/// Every iterate `Z_0 … Z_L` of a stack of Lemma-1 layers.
pub fn forward_shift<T: Transcendental>(z0: &Mat<T>, layers: &[ShiftLayer<T>]) -> Vec<Mat<T>> {
    forward_shift_with(z0, layers, true)
}

/// [`forward_shift`] with the attention-weight cache on or off.
pub fn forward_shift_with<T: Transcendental>(z0: &Mat<T>, layers: &[ShiftLayer<T>], use_cache: bool) -> Vec<Mat<T>> {
    forward_stack(z0, layers, use_cache, apply_shift_layer)
}

/// The readout `Z_l[d+2, n]` after each layer `l = 1..L` (the query value), without storing
/// the iterates.
pub fn query_readouts(z0: &Mat<f64>, layers: &[MultiHeadLayer]) -> Vec<f64> {
    let mut ws = Workspace::new(z0.rows(), z0.cols());
    let mut z = z0.clone();
    let (r, c) = (z.rows(), z.cols());
    layers
        .iter()
        .map(|l| {
            apply_multi_head(&mut z, l, &mut ws);
            z[(r - 1, c - 1)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_softmax_handles_the_mask_exactly() {
        let scores = Mat::from_vec(3, 3, vec![1000.0, 0.0, 1.0, -1000.0, 0.0, 1.0, 1e300, 5.0, 1.0]);
        let mut out = Mat::zeros(3, 3);
        masked_softmax_cols(&scores, true, &mut out);
        for j in 0..3 {
            assert_eq!(out[(2, j)], 0.0);
            let s: f64 = (0..3).map(|i| out[(i, j)]).sum();
            assert!((s - 1.0).abs() <= 4.0 * f64::EPSILON);
        }
        assert_eq!(out[(0, 0)], 1.0);
        assert!(out.as_slice().iter().all(|x| x.is_finite()));
        masked_softmax_cols(&scores, false, &mut out);
        assert_eq!(out[(2, 0)], 1.0);
    }
}
