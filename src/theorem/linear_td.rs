//! [WB] (arXiv:2405.13861): linear attention implements batch TD layer by layer ([Q], re-derived
//! here for a general preconditioner `C_l`; `docs/theory/linear-td.md`).
//!
//! With `Z_{l+1} = Z_l + (1/n) P Z_l M (Z_lᵀ Q_l Z_l)`, `P = P^TD`, `Q_l = Q^TD(C_l)`:
//! for every `l ≤ L`, `-Z_l[2d, n] = w_lᵀφ_q`, `Z_l[2d, i] = δ_i(w_l)` for every context column,
//! and rows `0..2d-1` never change, where `w_l` are the batch preconditioned TD iterates from
//! `w_0 = 0`.
//!
//! - `linear-td`: TD(0), mask `diag(1,…,1,0)`.
//! - `linear-td-lambda`: TD(λ), mask with `λ^{row-col}` below the diagonal (eligibility traces).
//! - `linear-td-residual`: residual gradient, `Q` top-left `[[-Cᵀ, Cᵀ], [Cᵀ, -Cᵀ]]`.
//!
//! # Assumptions
//! - `query-mask`: the query column is never a source (`M[n, n] = 0`). Relaxed, one layer still
//!   matches and the second does not; `icrl search --theorem linear-td --relax query-mask`.
//! - `p-td`: `P = e_{2d} e_{2d}ᵀ`; `q-td`: `Q` has the block form above (negative controls).

use crate::attention::linear::{masked_layer, query_mask, td_lambda_mask};
use crate::attention::prompt::{td_prompt, td_readout};
use crate::construction::linear_td::{p_td, q_residual, q_td};
use crate::error::InputError;
use crate::instance::{to_json, Instance};
use crate::linalg::{dot, Mat};
use crate::mdp::batch::TransitionBatch;
use crate::mdp::features::Features;
use crate::mdp::rollout::{rollout_from_initial, Trajectory};
use crate::mdp::{generators, policy::TabularPolicy, Mdp};
use crate::rl::td::{td_errors, td_iterates, TdVariant};
use crate::rng::Rng;
use crate::scalar::{grid, Scalar};
use crate::theorem::common::*;
use crate::theorem::{
    Arithmetic, Assumption, CaseResult, CheckCtx, InstanceResult, Measurement, Provenance, TheoremSpec,
};
use crate::tolerance::poly_rel_tol;
use num_rational::BigRational;
use rand::Rng as _;

/// Assumptions of the [WB] construction.
pub const ASSUMPTIONS: &[Assumption] = &[
    Assumption {
        name: "query-mask",
        statement: "the mask zeroes the query column as a source (M = diag(1,…,1,0))",
        search: Some(crate::search::linear_td::search),
        replay: Some(crate::search::linear_td::replay),
    },
    Assumption {
        name: "p-td",
        statement: "P = e_{2d} e_{2d}ᵀ (only the reward row is written)",
        search: None,
        replay: None,
    },
    Assumption {
        name: "q-td",
        statement: "Q = [[-Cᵀ, Cᵀ, 0], [0, 0, 0], [0, 0, 0]] in blocks (d, d, 1)",
        search: None,
        replay: None,
    },
];

/// Deepest exact check (the certificate degree `3^L·2 + (3^L - 1)/2` grows with it).
pub const MAX_EXACT_LAYERS: usize = 3;
/// Formal degree of the readout after [`MAX_EXACT_LAYERS`] layers: `deg_0 = 2`, `deg_{l+1} = 3 deg_l + 1`.
pub const SZ_DEGREE: u32 = 67;

/// Registry entries.
pub fn specs() -> Vec<TheoremSpec> {
    vec![
        TheoremSpec {
            id: "linear-td",
            statement: "With P^TD, Q^TD(C_l) and the query mask, every layer l of the linear transformer carries the batch preconditioned TD(0) iterate: -Z_l[2d,n] = w_lᵀφ_q, Z_l[2d,i] = δ_i(w_l), rows 0..2d-1 unchanged; any C_l, any depth.",
            provenance: Provenance::Quoted,
            source: "[WB] §3 and public code, arXiv:2405.13861 (general C_l re-derived here)",
            assumptions: ASSUMPTIONS,
            sz_degree: Some(SZ_DEGREE),
            default_cases: 1000,
            proof_page: "proofs/linear-td.md",
            check: |rng, ctx| check_variant(rng, ctx, Variant::Td0),
        },
        TheoremSpec {
            id: "linear-td-lambda",
            statement: "With the mask λ^{row-col} (row ≥ col) on the context block, the same layers carry batch TD(λ) with eligibility traces e_j = λe_{j-1} + φ_j: w ← w + (1/n) C Σ_j δ_j e_j.",
            provenance: Provenance::Quoted,
            source: "[WB] public code (TD(λ) mask), arXiv:2405.13861; orientation checked here",
            assumptions: &ASSUMPTIONS[1..],
            sz_degree: Some(SZ_DEGREE),
            default_cases: 1000,
            proof_page: "proofs/linear-td.md",
            check: |rng, ctx| check_variant(rng, ctx, Variant::Lambda),
        },
        TheoremSpec {
            id: "linear-td-residual",
            statement: "With Q top-left [[-Cᵀ, Cᵀ], [Cᵀ, -Cᵀ]] the layers carry batch residual-gradient TD: w ← w + (1/n) C Σ δ_i (φ_i - γφ'_i).",
            provenance: Provenance::Quoted,
            source: "[WB] public code (residual gradient), arXiv:2405.13861",
            assumptions: ASSUMPTIONS,
            sz_degree: Some(SZ_DEGREE),
            default_cases: 1000,
            proof_page: "proofs/linear-td.md",
            check: |rng, ctx| check_variant(rng, ctx, Variant::Residual),
        },
    ]
}

/// Which [WB] variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// TD(0).
    Td0,
    /// TD(λ).
    Lambda,
    /// Residual gradient.
    Residual,
}

/// The transformer's trace: after each layer `l = 1..L`, the query readout and the bottom row
/// of the context columns; and whether rows `0..2d-1` stayed unchanged throughout.
#[derive(Clone, Debug)]
pub struct TfTrace<T> {
    /// `-Z_l[2d, n]`, `l = 1..L`.
    pub readouts: Vec<T>,
    /// `Z_l[2d, 0..n]`, `l = 1..L`.
    pub bottom: Vec<Vec<T>>,
    /// Rows `0..2d-1` unchanged in every layer.
    pub rows_unchanged: bool,
}

/// Run `L = cs.len()` layers of the [WB] transformer.
pub fn transformer<T: Scalar>(
    b: &TransitionBatch<T>,
    phi_q: &[T],
    cs: &[Mat<T>],
    variant: Variant,
    lambda: &T,
    mask_query: bool,
    sabotage: bool,
) -> TfTrace<T> {
    let d = phi_q.len();
    let n = b.len();
    let z0 = td_prompt(b, phi_q);
    let mut p = p_td::<T>(d);
    if sabotage {
        p[(2 * d, 0)] = T::from_ratio(1, 256);
    }
    let mut mask = match variant {
        Variant::Lambda => td_lambda_mask(n, lambda),
        _ => query_mask(n),
    };
    if !mask_query {
        mask[(n, n)] = T::one();
    }
    let mut z = z0.clone();
    let mut tr = TfTrace { readouts: Vec::new(), bottom: Vec::new(), rows_unchanged: true };
    for c in cs {
        let q = match variant {
            Variant::Residual => q_residual(c),
            _ => q_td(c),
        };
        z = masked_layer(&z, &p, &q, &mask);
        tr.readouts.push(td_readout(&z));
        tr.bottom.push((0..n).map(|i| z[(2 * d, i)].clone()).collect());
        tr.rows_unchanged &= (0..2 * d).all(|r| (0..=n).all(|j| z[(r, j)] == z0[(r, j)]));
    }
    tr
}

/// The reference: `(w_lᵀφ_q, δ(w_l))` for `l = 1..L`.
pub fn reference<T: Scalar>(
    b: &TransitionBatch<T>,
    phi_q: &[T],
    cs: &[Mat<T>],
    variant: Variant,
    lambda: &T,
) -> (Vec<T>, Vec<Vec<T>>) {
    let v = match variant {
        Variant::Td0 => TdVariant::Td0,
        Variant::Lambda => TdVariant::TdLambda(lambda.clone()),
        Variant::Residual => TdVariant::ResidualGradient,
    };
    let ws = td_iterates(b, cs, &v);
    (ws.iter().map(|w| dot(w, phi_q)).collect(), ws.iter().map(|w| td_errors(b, w)).collect())
}

/// A random MRP instance as a one-action MDP with state features.
pub fn draw_mrp_case(rng: &mut Rng, ns: usize, d: usize, n: usize) -> (Mdp, Features, Trajectory, usize) {
    let gamma = rng.random_range(0.0..0.99);
    let mdp = generators::random_mrp(rng, ns, gamma).as_mdp();
    let features = Features::random(rng, ns, 1, d);
    let traj = rollout_from_initial(rng, &mdp, &TabularPolicy::uniform(ns, 1), n);
    let q = rng.random_range(0..ns);
    (mdp, features, traj, q)
}

/// Preconditioners: `α I` (half the cases) or dense with entries `Unif(-1,1)/d`.
fn draw_cs(rng: &mut Rng, d: usize, layers: usize) -> Vec<Mat<f64>> {
    let scalar = rng.random_bool(0.5);
    (0..layers)
        .map(|_| {
            if scalar {
                Mat::identity(d).scale(&log_uniform(rng, 0.01, 1.0))
            } else {
                Mat::from_fn(d, d, |_, _| rng.random_range(-1.0..1.0) / d as f64)
            }
        })
        .collect()
}

/// `f64` tolerance: each layer accumulates `3(2d+1+n+1)` rounded operations on terms of
/// magnitude at most `M = (2d+1) z³ max|C|` (`z` the largest prompt/readout magnitude, read
/// off the reference), and a layer can amplify earlier errors by at most
/// `a = 1 + (2d+1) max|C| z²`; so `poly_rel_tol(ops) · M · Σ_l a^l`.
pub fn td_tol(d: usize, n: usize, cs: &[Mat<f64>], zmax: f64) -> f64 {
    let cmax = cs.iter().map(|c| c.max_abs()).fold(0.0, f64::max).max(1e-300);
    let dd = (2 * d + 1) as f64;
    let m = dd * zmax.powi(3) * cmax.max(1.0);
    let a = 1.0 + dd * cmax * zmax * zmax;
    let amp: f64 = (0..cs.len()).map(|l| a.powi(l as i32)).sum();
    poly_rel_tol(3 * (2 * d + n + 2)) * m * amp
}

fn check_variant(rng: &mut Rng, ctx: &CheckCtx, variant: Variant) -> CaseResult {
    let (ns, d, n) = (rng.random_range(1..=5), rng.random_range(1..=4), rng.random_range(1..=8));
    let layers = rng.random_range(1..=6);
    let exact_layers = layers.min(MAX_EXACT_LAYERS);
    let (mdp, features, traj, q) = draw_mrp_case(rng, ns, d, n);
    let cs = draw_cs(rng, d, layers);
    let lambda = rng.random_range(0.0..1.0);
    let (gd, gn, gl) = (rng.random_range(1..=2), rng.random_range(1..=3), rng.random_range(1..=MAX_EXACT_LAYERS));
    let gb = draw_grid_batch(rng, gd, gn);
    let gq = grid_vec(rng, gd);
    let gcs: Vec<Mat<BigRational>> =
        (0..gl).map(|_| Mat::from_fn(gd, gd, |_, _| <BigRational as Scalar>::from_f64(grid::draw(rng)))).collect();
    let glambda = <BigRational as Scalar>::from_f64(grid::draw(rng));

    let mut res = CaseResult::default();
    let b64: TransitionBatch<f64> = TransitionBatch::from_trajectory(&features, &traj, mdp.gamma());
    let phi_q = features.x(q).to_vec();
    if ctx.arith.wants(Arithmetic::F64) {
        let tf = transformer(&b64, &phi_q, &cs, variant, &lambda, true, ctx.sabotage);
        let (rv, rd) = reference(&b64, &phi_q, &cs, variant, &lambda);
        let zmax = rd.iter().flatten().chain(&rv).fold(1.0f64, |m, x| m.max(x.abs()));
        let tol = td_tol(d, n, &cs, zmax);
        let e1 = max_abs_diff(&tf.readouts, &rv);
        let e2 = tf.bottom.iter().zip(&rd).map(|(a, b)| max_abs_diff(a, b)).fold(0.0, f64::max);
        res.measurements.push(Measurement::equality(
            Arithmetic::F64,
            format!("query value, layers 1..{layers}"),
            e1,
            tol,
        ));
        res.measurements.push(Measurement::equality(Arithmetic::F64, "bottom row = δ(w_l)", e2, tol));
        res.measurements.push(Measurement::equality(
            Arithmetic::F64,
            "rows 0..2d-1 unchanged",
            if tf.rows_unchanged { 0.0 } else { f64::INFINITY },
            0.0,
        ));
    }
    if ctx.arith.wants(Arithmetic::Exact) {
        let bq: TransitionBatch<BigRational> = b64.convert();
        let qq = to_exact(&phi_q);
        let csq: Vec<Mat<BigRational>> = cs[..exact_layers].iter().map(|c| c.to_exact()).collect();
        let lq = <BigRational as Scalar>::from_f64(lambda);
        let tf = transformer(&bq, &qq, &csq, variant, &lq, true, ctx.sabotage);
        let (rv, rd) = reference(&bq, &qq, &csq, variant, &lq);
        res.measurements.push(Measurement::exact(
            "query value and δ row (mdp instance)",
            tf.readouts == rv && tf.bottom == rd,
            max_abs_diff(&tf.readouts, &rv),
        ));
        res.measurements.push(Measurement::exact("rows 0..2d-1 unchanged", tf.rows_unchanged, 0.0));
        let tf = transformer(&gb, &gq, &gcs, variant, &glambda, true, ctx.sabotage);
        let (rv, rd) = reference(&gb, &gq, &gcs, variant, &glambda);
        res.measurements.push(Measurement::exact(
            "query value and δ row (free grid prompt)",
            tf.readouts == rv && tf.bottom == rd,
            max_abs_diff(&tf.readouts, &rv),
        ));
        res.sz_shape = Some(format!("d={gd} n={gn} L={gl}"));
    }
    if ctx.want_instance {
        let c: Vec<Vec<Vec<f64>>> = cs.iter().map(|c| (0..d).map(|i| c.row(i).to_vec()).collect()).collect();
        let mut params = serde_json::json!({"query_state": q, "layers": layers, "preconditioners": c});
        if variant == Variant::Lambda {
            params["lambda"] = serde_json::json!(lambda);
        }
        res.instance = Some(to_json("linear-td", &mdp, &features, &traj, params));
    }
    res
}

/// Read `linear-td` params: `query_state`, `layers` [1], and `alpha` [1] or `preconditioner`
/// (`d×d`, the same for every layer).
pub fn read_params(inst: &Instance) -> Result<(usize, Vec<Mat<f64>>), InputError> {
    let d = inst.features.dim();
    let q = inst.params.usize_or("query_state", usize::MAX)?;
    if q == usize::MAX {
        return Err(InputError::new("params.query_state", "missing"));
    }
    if q >= inst.mdp.n_states() {
        return Err(InputError::new(
            "params.query_state",
            format!("state {q} out of range 0..{}", inst.mdp.n_states()),
        ));
    }
    let layers = inst.params.usize_or("layers", 1)?;
    if layers == 0 {
        return Err(InputError::new("params.layers", "must be at least 1"));
    }
    let c = match inst.params.matrix_opt("preconditioner", d, d)? {
        Some(m) => Mat::from_vec(d, d, m.concat()),
        None => Mat::identity(d).scale(&inst.params.f64_or("alpha", 1.0)?),
    };
    Ok((q, vec![c; layers]))
}

/// `icrl check` for `linear-td` instances: TD(0) (and TD(λ) when `params.lambda` is given).
pub fn check_instance(inst: &Instance) -> Result<Vec<InstanceResult>, InputError> {
    if inst.mdp.n_actions() != 1 {
        return Err(InputError::new(
            "mdp.transitions[0]",
            "linear-td instances are MRPs: exactly one action per state",
        ));
    }
    let (q, cs) = read_params(inst)?;
    let lambda = if inst.params.has("lambda") {
        let l = inst.params.f64_req("lambda")?;
        if !(0.0..=1.0).contains(&l) {
            return Err(InputError::new("params.lambda", format!("{l} is not in [0, 1]")));
        }
        Some(l)
    } else {
        None
    };
    let (variant, id) =
        if lambda.is_some() { (Variant::Lambda, "linear-td-lambda") } else { (Variant::Td0, "linear-td") };
    let lambda = lambda.unwrap_or(0.0);
    let b64: TransitionBatch<f64> =
        TransitionBatch::from_trajectory(&inst.features, &inst.trajectory, inst.mdp.gamma());
    let phi_q = inst.features.x(q).to_vec();
    let mut out = Vec::new();
    let bq: TransitionBatch<BigRational> = b64.convert();
    let csq: Vec<Mat<BigRational>> = cs.iter().map(|c| c.to_exact()).collect();
    let qq = to_exact(&phi_q);
    let lq = <BigRational as Scalar>::from_f64(lambda);
    let tf = transformer(&bq, &qq, &csq, variant, &lq, true, false);
    let (rv, rd) = reference(&bq, &qq, &csq, variant, &lq);
    out.push(InstanceResult {
        theorem: id.into(),
        arithmetic: Arithmetic::Exact,
        holds: tf.readouts == rv && tf.bottom == rd && tf.rows_unchanged,
        max_abs_error: max_abs_diff(&tf.readouts, &rv),
        transformer: to_f64(&tf.readouts),
        reference: to_f64(&rv),
    });
    let tf = transformer(&b64, &phi_q, &cs, variant, &lambda, true, false);
    let (rv, rd) = reference(&b64, &phi_q, &cs, variant, &lambda);
    let zmax = rd.iter().flatten().chain(&rv).fold(1.0f64, |m, x| m.max(x.abs()));
    let tol = td_tol(phi_q.len(), b64.len(), &cs, zmax);
    let err = max_abs_diff(&tf.readouts, &rv)
        .max(tf.bottom.iter().zip(&rd).map(|(a, b)| max_abs_diff(a, b)).fold(0.0, f64::max));
    out.push(InstanceResult {
        theorem: id.into(),
        arithmetic: Arithmetic::F64,
        holds: err <= tol && tf.rows_unchanged,
        max_abs_error: err,
        transformer: tf.readouts,
        reference: rv,
    });
    Ok(out)
}
