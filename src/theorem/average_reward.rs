//! [WB] (arXiv:2405.13861, their public `verification/` code): a two-head masked linear-attention
//! layer implements average-reward batch TD, layer by layer ([Q] as their code states it; the
//! proof and the exactness are ours, `proofs/linear-td-average-reward.md`).
//!
//! - `linear-td-average-reward`: on `Z_0 = [φ; φ'; r; 0]` (`γ = 1`), with the heads of
//!   `construction::average_reward` and the query mask, `Z_l[2d+1, n] = w_lᵀφ_q` after every layer
//!   `l`, where `w_{l+1} = w_l + (1/n) C_l Σ_i (r_i − r̄_i + w_lᵀφ'_i − w_lᵀφ_i) φ_i`, `w_0 = 0`,
//!   `r̄_j = (1/(j+1)) Σ_{k≤j} r_k`; rows `0..=2d` never change.
//!
//! # Assumptions
//! - `query-mask`: the query column is never a source (`M = diag(1,…,1,0)`), as for TD(0)
//!   (negative control in `tests/all/average_reward.rs`).
//!
//! The transformer side is `attention::multi_head` on the prompt it builds from its own reading of
//! the trajectory (`attention::prompt::context`); the reference is `rl::average_reward` on
//! `rl::pairing::transitions`. Instances of this theorem are not yet a `check` family.

use crate::assumption::AssumptionId;
use crate::attention::linear::query_mask;
use crate::attention::multi_head::{average_reward_prompt, average_reward_readout, multi_head_masked_layer};
use crate::construction::average_reward::{heads, w_out};
use crate::linalg::{dot, Mat};
use crate::mdp::batch::TransitionBatch;
use crate::rl::average_reward::average_reward_td_iterates;
use crate::rng::Rng;
use crate::scalar::{grid, Scalar};
use crate::theorem::common::*;
use crate::theorem::linear_td::draw_mrp_case;
use crate::theorem::{Arithmetic, Assumption, CaseResult, CheckCtx, Formal, Measurement, Provenance, TheoremSpec};
use num_rational::BigRational;
use rand::Rng as _;

/// Assumptions of the average-reward construction.
pub const ASSUMPTIONS: &[Assumption] = &[Assumption {
    id: AssumptionId::QueryMask,
    statement: "the mask zeroes the query column as a source (M = diag(1,…,1,0))",
    search: None,
    replay: None,
}];

/// Deepest exact check on the free grid prompt.
pub const MAX_EXACT_LAYERS: usize = 4;
/// Formal degree after [`MAX_EXACT_LAYERS`] layers: the last row has degree `3l + 1` after
/// layer `l` (each layer multiplies `(r R + Z[2d+1])` by `Zᵀ Q Z`, of degree 2 in the prompt and
/// 1 in `C_l`), and so has `w_lᵀφ_q`; `R`, `1/n` are fixed numbers.
pub const SZ_DEGREE: u32 = 3 * MAX_EXACT_LAYERS as u32 + 1;

/// Registry entries.
pub fn specs() -> Vec<TheoremSpec> {
    vec![TheoremSpec {
        id: "linear-td-average-reward",
        statement: "On Z_0 = [φ; φ'; r; 0] (γ = 1) the two-head layer (head 1: P1 Z R M Zᵀ Q Z on the reward row with R = U diag(1/(j+1)) − I; head 2: P2 Z M Zᵀ Q Z on the last row; W writes both into the last row) gives Z_l[2d+1, n] = w_lᵀφ_q for average-reward batch TD w_{l+1} = w_l + (1/n) C_l Σ (r_i − r̄_i + w_lᵀφ'_i − w_lᵀφ_i) φ_i, every layer, any C_l.",
        provenance: Provenance::Quoted,
        kind: super::CheckKind::Equality,
        source: "[WB] public verification code (AVGREWTDLayer), arXiv:2405.13861 (proof and exactness ours)",
        assumptions: ASSUMPTIONS,
        sz_degree: Some(SZ_DEGREE),
        field: Some(&FIELD),
        default_cases: 1000,
        proof_page: "proofs/linear-td-average-reward.md",
        formal: Formal::None("not formalized yet; the proof (the r̄ − r head and the + readout cancel) is on proofs/linear-td-average-reward.md"),
        check,
        instance: None,
    }]
}

/// Readouts `Z_l[2d+1, n]`, `l = 1..=L`, and whether rows `0..=2d` stayed unchanged.
pub fn transformer<T: Scalar>(b: &TransitionBatch<T>, phi_q: &[T], cs: &[Mat<T>], sabotage: bool) -> (Vec<T>, bool) {
    let (n, d) = (b.len(), phi_q.len());
    let mut z = average_reward_prompt(b, phi_q);
    let z0 = z.clone();
    let mask = query_mask(n);
    let mut w = w_out::<T>(d);
    if sabotage {
        w[(2 * d + 1, 2 * d)] = w[(2 * d + 1, 2 * d)].clone() + T::from_ratio(1, 256);
    }
    let mut out = Vec::with_capacity(cs.len());
    for c in cs {
        z = multi_head_masked_layer(&z, &heads(c, n), &w, &mask);
        out.push(average_reward_readout(&z));
    }
    let unchanged = (0..=2 * d).all(|i| (0..=n).all(|j| z[(i, j)] == z0[(i, j)]));
    (out, unchanged)
}

/// `w_lᵀφ_q` for the reference iterates, `l = 1..=L`, and the iterates.
pub fn reference<T: Scalar>(b: &TransitionBatch<T>, phi_q: &[T], cs: &[Mat<T>]) -> (Vec<T>, Vec<Vec<T>>) {
    let ws = average_reward_td_iterates(b, cs);
    (ws.iter().map(|w| dot(w, phi_q)).collect(), ws)
}

fn check(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let (ns, d, n) = (rng.random_range(1..=5), rng.random_range(1..=4), rng.random_range(1..=8));
    let layers = rng.random_range(1..=6);
    let exact_layers = layers.min(MAX_EXACT_LAYERS);
    let (_mdp, features, traj, q) = draw_mrp_case(rng, ns, d, n);
    // Dense preconditioners (not positive definite, as in [WB]'s script): any C_l.
    let cs: Vec<Mat<f64>> =
        (0..layers).map(|_| Mat::from_fn(d, d, |_, _| rng.random_range(-1.0..1.0) / d as f64)).collect();
    let (gd, gn, gl) = (rng.random_range(1..=2), rng.random_range(1..=3), rng.random_range(1..=MAX_EXACT_LAYERS));
    let gb = draw_grid_batch(rng, gd, gn);
    let gq = grid_vec(rng, gd);
    let gcs: Vec<Mat<BigRational>> =
        (0..gl).map(|_| Mat::from_fn(gd, gd, |_, _| <BigRational as Scalar>::from_f64(grid::draw(rng)))).collect();

    let phi_q = features.phi(q, 0).to_vec();
    let mut res = CaseResult::default();
    // Each side reads the raw trajectory itself; `γ = 1` by definition of the average-reward setting.
    let prompt_side =
        |ctx: &CheckCtx| crate::attention::prompt::context::<f64>(&features, &traj, 1.0, ctx.sides.prompt_pairing);
    let reference_side =
        |ctx: &CheckCtx| crate::rl::pairing::transitions::<f64>(&features, &traj, 1.0, ctx.sides.reference_pairing);
    if ctx.arith.wants(Arithmetic::F64) {
        // Both sides on `ErrBound` (exact inputs): tolerance = the two propagated error bounds,
        // entry by entry (`crate::tolerance::bounded_cmp`).
        use crate::scalar::errbound::ErrBound;
        let ce: Vec<Mat<ErrBound>> = cs.iter().map(|c| c.map(|&x| ErrBound::exact(x))).collect();
        let qe: Vec<ErrBound> = phi_q.iter().map(|&x| ErrBound::exact(x)).collect();
        let tb: TransitionBatch<ErrBound> = prompt_side(ctx).convert();
        let (tf, unchanged) = transformer(&tb, &qe, &ce, ctx.sabotage);
        let rb: TransitionBatch<ErrBound> = reference_side(ctx).convert();
        let (rv, _) = reference(&rb, &qe, &ce);
        let cmp = crate::tolerance::bounded_cmp(&tf, &rv);
        res.measurements.push(Measurement::equality(
            Arithmetic::F64,
            format!("query value, layers 1..{layers}"),
            cmp.error,
            cmp.tolerance,
        ));
        res.measurements.push(Measurement::equality(
            Arithmetic::F64,
            "rows 0..=2d unchanged",
            if unchanged { 0.0 } else { f64::INFINITY },
            0.0,
        ));
    }
    if ctx.arith.wants(Arithmetic::Exact) {
        let csq: Vec<Mat<BigRational>> = cs[..exact_layers].iter().map(|c| c.to_exact()).collect();
        let qq = to_exact(&phi_q);
        let tb: TransitionBatch<BigRational> =
            crate::attention::prompt::context(&features, &traj, 1.0, ctx.sides.prompt_pairing);
        let rb: TransitionBatch<BigRational> =
            crate::rl::pairing::transitions(&features, &traj, 1.0, ctx.sides.reference_pairing);
        let (tf, unchanged) = transformer(&tb, &qq, &csq, ctx.sabotage);
        let (rv, _) = reference(&rb, &qq, &csq);
        res.measurements.push(Measurement::exact("query value (mdp instance)", tf == rv, max_abs_diff(&tf, &rv)));
        res.measurements.push(Measurement::exact("rows 0..=2d unchanged", unchanged, 0.0));
        let (tf, _) = transformer(&gb, &gq, &gcs, ctx.sabotage);
        let (rv, _) = reference(&gb, &gq, &gcs);
        res.measurements.push(Measurement::exact("query value (free grid prompt)", tf == rv, max_abs_diff(&tf, &rv)));
        res.sz_shape = Some(format!("d={gd} n={gn} L={gl}"));
    }
    field_case::<Sides>(&mut res, rng, ctx, &FIELD, "query value and rows 0..=2d, every layer");
    res
}

/// The listed shapes of the field certificates: those of `linear-td`
/// (`crate::theorem::linear_td::field_shapes`: `d ≤ 36, n ≤ 64, L ≤ 40`, 294 shapes).
pub fn field_shapes() -> Vec<crate::theorem::FieldShape> {
    crate::theorem::linear_td::field_shapes()
}

/// Both sides over a free prompt (`φ_i`, `φ'_i`, `r_i`, `φ_q` and every `C_l` entry free; the
/// batch's `γ` is drawn and unused: `γ = 1` here): every layer's readout against `w_lᵀφ_q`, then 1
/// iff rows `0..=2d` stayed unchanged.
pub struct Sides;

impl FieldSides for Sides {
    fn sides<T: Scalar>(
        s: &crate::theorem::FieldShape,
        free: &mut dyn FnMut() -> T,
        sabotage: bool,
    ) -> (Vec<T>, Vec<T>) {
        let b = free_batch(free, s.d, s.n);
        let phi_q = free_vec(free, s.d);
        let cs: Vec<Mat<T>> = (0..s.layers).map(|_| Mat::from_fn(s.d, s.d, |_, _| free())).collect();
        let (mut tf, unchanged) = transformer(&b, &phi_q, &cs, sabotage);
        tf.push(if unchanged { T::one() } else { T::zero() });
        let (mut rf, _) = reference(&b, &phi_q, &cs);
        rf.push(T::one());
        (tf, rf)
    }
}

/// The field tier (2 draws per shape: 588 cases).
pub static FIELD: crate::theorem::FieldTier =
    crate::theorem::FieldTier { shapes: field_shapes, draws: 2, bound: field_bound::<Sides> };
