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

use crate::assumption::AssumptionId;
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
use crate::scalar::errbound::ErrBound;
use crate::scalar::{grid, Scalar};
use crate::theorem::common::*;
use crate::theorem::{
    Arithmetic, Assumption, CaseResult, CheckCtx, Family, Formal, InstanceCheck, InstanceOutcome, Limits, Measurement,
    Provenance, Sides, Skipped, TheoremSpec,
};
use crate::tolerance::poly_rel_tol;
use crate::weights::{Layout, TdLayer, Weights};
use num_rational::BigRational;
use rand::Rng as _;

/// Assumptions of the [WB] construction.
pub const ASSUMPTIONS: &[Assumption] = &[
    Assumption {
        id: AssumptionId::QueryMask,
        statement: "the mask zeroes the query column as a source (M = diag(1,…,1,0))",
        search: Some(crate::theorem::relax::linear_td::search),
        replay: Some(crate::theorem::relax::linear_td::replay),
    },
    Assumption {
        id: AssumptionId::PTd,
        statement: "P = e_{2d} e_{2d}ᵀ (only the reward row is written)",
        search: None,
        replay: None,
    },
    Assumption {
        id: AssumptionId::QTd,
        statement: "Q = [[-Cᵀ, Cᵀ, 0], [0, 0, 0], [0, 0, 0]] in blocks (d, d, 1)",
        search: None,
        replay: None,
    },
];

/// Deepest exact check (the certificate degree `3^L·2 + (3^L - 1)/2` grows with it).
pub const MAX_EXACT_LAYERS: usize = 3;
/// Formal degree of the readout after [`MAX_EXACT_LAYERS`] layers: `deg_0 = 2`, `deg_{l+1} = 3 deg_l + 1`.
pub const SZ_DEGREE: u32 = 67;

/// The `linear-td` instance family (an MRP): params `query_state`, `layers` [1], one of
/// `alpha` [1] (`C = αI`), `preconditioner` (`d×d`, every layer) or `preconditioners` (one
/// `d×d` per layer); `lambda` (TD(λ)) or `residual_gradient: true`. Weights
/// `{"layers": [{"P": m×m, "Q": m×m}, …]}`, `m = 2d + 1`.
pub static FAMILY: Family = Family {
    name: "linear-td",
    params: &["query_state", "layers", "alpha", "preconditioner", "preconditioners", "lambda", "residual_gradient"],
    conflicts: &[
        ("alpha", "preconditioner"),
        ("alpha", "preconditioners"),
        ("preconditioner", "preconditioners"),
        ("lambda", "residual_gradient"),
    ],
    weights: "{\"layers\": [{\"P\": m×m, \"Q\": m×m}, …]}, m = 2d+1 ([WB] prompt)",
};

/// Registry entries.
pub fn specs() -> Vec<TheoremSpec> {
    vec![
        TheoremSpec {
            id: "linear-td",
            statement: "With P^TD, Q^TD(C_l) and the query mask, every layer l of the linear transformer carries the batch preconditioned TD(0) iterate: -Z_l[2d,n] = w_lᵀφ_q, Z_l[2d,i] = δ_i(w_l), rows 0..2d-1 unchanged; any C_l, any depth.",
            provenance: Provenance::Quoted,
            kind: super::CheckKind::Equality,
            source: "[WB] §3 and public code, arXiv:2405.13861 (general C_l re-derived here)",
            assumptions: ASSUMPTIONS,
            sz_degree: Some(SZ_DEGREE),
            field: Some(&TD0_FIELD),
            default_cases: 1000,
            proof_page: "proofs/linear-td.md",
            formal: Formal::Proved("LinearTD.v", "linear_td"),
            check: |rng, ctx| check_variant(rng, ctx, Variant::Td0),
            instance: Some(InstanceCheck {
                family: &FAMILY,
                run: |i, l| check_instance(i, l, Variant::Td0),
                takes_weights: true,
            }),
        },
        TheoremSpec {
            id: "linear-td-lambda",
            statement: "With the mask λ^{row-col} (row ≥ col) on the context block, the same layers carry batch TD(λ) with eligibility traces e_j = λe_{j-1} + φ_j: w ← w + (1/n) C Σ_j δ_j e_j.",
            provenance: Provenance::Quoted,
            kind: super::CheckKind::Equality,
            source: "[WB] public code (TD(λ) mask), arXiv:2405.13861; orientation checked here",
            assumptions: &ASSUMPTIONS[1..],
            sz_degree: Some(SZ_DEGREE),
            field: Some(&LAMBDA_FIELD),
            default_cases: 1000,
            proof_page: "proofs/linear-td.md",
            formal: Formal::Proved("LinearTD.v", "linear_td_lambda"),
            check: |rng, ctx| check_variant(rng, ctx, Variant::Lambda),
            instance: Some(InstanceCheck {
                family: &FAMILY,
                run: |i, l| check_instance(i, l, Variant::Lambda),
                takes_weights: true,
            }),
        },
        TheoremSpec {
            id: "linear-td-residual",
            statement: "With Q top-left [[-Cᵀ, Cᵀ], [Cᵀ, -Cᵀ]] the layers carry batch residual-gradient TD: w ← w + (1/n) C Σ δ_i (φ_i - γφ'_i).",
            provenance: Provenance::Quoted,
            kind: super::CheckKind::Equality,
            source: "[WB] public code (residual gradient), arXiv:2405.13861",
            assumptions: ASSUMPTIONS,
            sz_degree: Some(SZ_DEGREE),
            field: Some(&RESIDUAL_FIELD),
            default_cases: 1000,
            proof_page: "proofs/linear-td.md",
            formal: Formal::Proved("LinearTD.v", "linear_td_residual"),
            check: |rng, ctx| check_variant(rng, ctx, Variant::Residual),
            instance: Some(InstanceCheck {
                family: &FAMILY,
                run: |i, l| check_instance(i, l, Variant::Residual),
                takes_weights: true,
            }),
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

/// The constructed layers `(P^TD, Q^TD(C_l))` (or the residual-gradient `Q`) for
/// `C_1 … C_L`, sabotaged by one entry of `P` on request.
pub fn construction<T: Scalar>(d: usize, cs: &[Mat<T>], variant: Variant, sabotage: bool) -> Vec<(Mat<T>, Mat<T>)> {
    let mut p = p_td::<T>(d);
    if sabotage {
        p[(2 * d, 0)] = T::from_ratio(1, 256);
    }
    cs.iter()
        .map(|c| {
            let q = match variant {
                Variant::Residual => q_residual(c),
                _ => q_td(c),
            };
            (p.clone(), q)
        })
        .collect()
}

/// The mask of a variant (`query_mask` or the TD(λ) mask), optionally without the query mask.
pub fn mask<T: Scalar>(n: usize, variant: Variant, lambda: &T, mask_query: bool) -> Mat<T> {
    let mut m = match variant {
        Variant::Lambda => td_lambda_mask(n, lambda),
        _ => query_mask(n),
    };
    if !mask_query {
        m[(n, n)] = T::one();
    }
    m
}

/// Run the given layers `(P_l, Q_l)` of the [WB] transformer with `mask` on the prompt of `b`.
pub fn forward<T: Scalar>(
    b: &TransitionBatch<T>,
    phi_q: &[T],
    layers: &[(Mat<T>, Mat<T>)],
    mask: &Mat<T>,
) -> TfTrace<T> {
    let d = phi_q.len();
    let n = b.len();
    let z0 = td_prompt(b, phi_q);
    let mut z = z0.clone();
    let mut tr = TfTrace { readouts: Vec::new(), bottom: Vec::new(), rows_unchanged: true };
    for (p, q) in layers {
        z = masked_layer(&z, p, q, mask);
        tr.readouts.push(td_readout(&z));
        tr.bottom.push((0..n).map(|i| z[(2 * d, i)].clone()).collect());
        tr.rows_unchanged &= (0..2 * d).all(|r| (0..=n).all(|j| z[(r, j)] == z0[(r, j)]));
    }
    tr
}

/// Run `L = cs.len()` layers of the constructed [WB] transformer.
pub fn transformer<T: Scalar>(
    b: &TransitionBatch<T>,
    phi_q: &[T],
    cs: &[Mat<T>],
    variant: Variant,
    lambda: &T,
    mask_query: bool,
    sabotage: bool,
) -> TfTrace<T> {
    let layers = construction(phi_q.len(), cs, variant, sabotage);
    forward(b, phi_q, &layers, &mask(b.len(), variant, lambda, mask_query))
}

/// The raw input of one `linear-td` check: MRP features, the window, `γ`, the query state, the
/// reference preconditioners `C_l` and `λ`.
#[derive(Clone, Copy, Debug)]
pub struct TdInput<'a> {
    /// `x(s) = φ(s, 0)`.
    pub features: &'a Features,
    /// The window.
    pub traj: &'a Trajectory,
    /// `γ`.
    pub gamma: f64,
    /// The query state `s_q` (`φ_q = x(s_q)`).
    pub query_state: usize,
    /// `λ` (TD(λ) only).
    pub lambda: f64,
}

/// Both sides of one `linear-td` check.
#[derive(Clone, Debug)]
pub struct TdOutcome<T> {
    /// The transformer's trace.
    pub tf: TfTrace<T>,
    /// `w_lᵀφ_q`, `l = 1..L`.
    pub values: Vec<T>,
    /// `δ(w_l)`, `l = 1..L`.
    pub deltas: Vec<Vec<T>>,
}

/// The one check body of `linear-td`, `linear-td-lambda` and `linear-td-residual` (`verify`
/// in both arithmetics, `icrl check`, replays): the given layers on the prompt the transformer
/// side builds from the raw trajectory, against the batch TD iterates with preconditioners `cs`
/// on the reference side's own reading.
pub fn body<T: Scalar>(
    x: &TdInput,
    layers: &[(Mat<T>, Mat<T>)],
    cs: &[Mat<T>],
    variant: Variant,
    sides: &Sides,
) -> TdOutcome<T> {
    let pb: TransitionBatch<T> = crate::attention::prompt::context(x.features, x.traj, x.gamma, sides.prompt_pairing);
    let rb: TransitionBatch<T> = crate::rl::pairing::transitions(x.features, x.traj, x.gamma, sides.reference_pairing);
    let phi_q: Vec<T> = x.features.x(x.query_state).iter().map(|&e| T::from_f64(e)).collect();
    let lambda = T::from_f64(x.lambda);
    let tf = forward(&pb, &phi_q, layers, &mask(pb.len(), variant, &lambda, true));
    let (values, deltas) = reference(&rb, &phi_q, cs, variant, &lambda);
    TdOutcome { tf, values, deltas }
}

impl<T: Scalar> TdOutcome<T> {
    /// Whether the two sides agree exactly (values, δ rows, rows unchanged).
    pub fn exact_equal(&self) -> bool {
        self.tf.readouts == self.values && self.tf.bottom == self.deltas && self.tf.rows_unchanged
    }
    /// `max |·|` over the values and the δ rows.
    pub fn max_err(&self) -> (f64, f64) {
        let e1 = max_abs_diff(&self.tf.readouts, &self.values);
        let e2 = self.tf.bottom.iter().zip(&self.deltas).map(|(a, b)| max_abs_diff(a, b)).fold(0.0, f64::max);
        (e1, e2)
    }
}

impl TdOutcome<f64> {
    /// The `f64` tolerance [`td_tol`] of this outcome (magnitudes read off the reference).
    pub fn tol(&self, d: usize, n: usize, cs: &[Mat<f64>]) -> f64 {
        let zmax = self.deltas.iter().flatten().chain(&self.values).fold(1.0f64, |m, x| m.max(x.abs()));
        td_tol(d, n, cs, zmax)
    }
}

impl TdOutcome<ErrBound> {
    /// The rigorous comparisons ([`crate::tolerance::bounded_cmp`]) of the query values and of
    /// the δ rows (all layers, flattened in layer order).
    pub fn bounded_cmps(&self) -> (crate::tolerance::BoundedCmp, crate::tolerance::BoundedCmp) {
        let flat = |v: &[Vec<ErrBound>]| v.iter().flatten().copied().collect::<Vec<_>>();
        let mut rows = crate::tolerance::bounded_cmp(&flat(&self.tf.bottom), &flat(&self.deltas));
        if self.tf.bottom.len() != self.deltas.len()
            || self.tf.bottom.iter().zip(&self.deltas).any(|(a, b)| a.len() != b.len())
        {
            rows.first_violation = Some(0);
            rows.error = f64::INFINITY;
        }
        (crate::tolerance::bounded_cmp(&self.tf.readouts, &self.values), rows)
    }
}

/// Exact `ErrBound` copies of the `f64` preconditioners (inputs carry no error).
pub fn bounded_cs(cs: &[Mat<f64>]) -> Vec<Mat<ErrBound>> {
    cs.iter().map(|c| c.map(|&x| ErrBound::exact(x))).collect()
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

/// Estimated `f64` tolerance (the bench's `linear-td-wb` figure and the `f64` property tests;
/// `verify`/`check` use the rigorous bound, [`TdOutcome::bounded_cmps`]): each layer accumulates `3(2d+1+n+1)` rounded operations on terms of
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
    let x = TdInput { features: &features, traj: &traj, gamma: mdp.gamma(), query_state: q, lambda };
    if ctx.arith.wants(Arithmetic::F64) {
        // Both sides on `ErrBound`: tolerance = the two propagated bounds, entry by entry.
        let ce = bounded_cs(&cs);
        let o = body(&x, &construction(d, &ce, variant, ctx.sabotage), &ce, variant, &ctx.sides);
        let (c1, c2) = o.bounded_cmps();
        res.measurements.push(Measurement::equality(
            Arithmetic::F64,
            format!("query value, layers 1..{layers}"),
            c1.error,
            c1.tolerance,
        ));
        res.measurements.push(Measurement::equality(Arithmetic::F64, "bottom row = δ(w_l)", c2.error, c2.tolerance));
        res.measurements.push(Measurement::equality(
            Arithmetic::F64,
            "rows 0..2d-1 unchanged",
            if o.tf.rows_unchanged { 0.0 } else { f64::INFINITY },
            0.0,
        ));
    }
    if ctx.arith.wants(Arithmetic::Exact) {
        let csq: Vec<Mat<BigRational>> = cs[..exact_layers].iter().map(|c| c.to_exact()).collect();
        let o = body(&x, &construction(d, &csq, variant, ctx.sabotage), &csq, variant, &ctx.sides);
        res.measurements.push(Measurement::exact(
            "query value and δ row (mdp instance)",
            o.tf.readouts == o.values && o.tf.bottom == o.deltas,
            o.max_err().0,
        ));
        res.measurements.push(Measurement::exact("rows 0..2d-1 unchanged", o.tf.rows_unchanged, 0.0));
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
        match variant {
            Variant::Lambda => params["lambda"] = serde_json::json!(lambda),
            Variant::Residual => params["residual_gradient"] = serde_json::json!(true),
            Variant::Td0 => {}
        }
        let mut inst = to_json("linear-td", &mdp, &features, &traj, params);
        let w = construction(d, &cs, variant, ctx.sabotage);
        inst["weights"] = Weights::Td(w.into_iter().map(|(p, q)| TdLayer { p, q }).collect()).to_json();
        res.instance = Some(inst);
    }
    field_case_of(&mut res, rng, ctx, variant);
    res
}

/// Read `linear-td` params: `query_state`, `layers` [1], and one of `alpha` [1],
/// `preconditioner` (`d×d`, every layer) or `preconditioners` (`L` matrices `d×d`). The cost of
/// `layers` layers is admitted against `limits` before any per-layer allocation.
pub fn read_params_with(inst: &Instance, limits: &Limits) -> Result<(usize, Vec<Mat<f64>>), InputError> {
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
    let given_layers = match &inst.params.0.get("preconditioners") {
        Some(v) => Some(crate::instance::array(v, "params.preconditioners")?.len()),
        None => None,
    };
    let layers = match (inst.params.has("layers"), given_layers) {
        (true, Some(k)) => {
            let l = inst.params.usize_or("layers", 1)?;
            if l != k {
                return Err(InputError::new(
                    "params.layers",
                    format!("is {l}, but params.preconditioners has {k} matrices"),
                ));
            }
            l
        }
        (false, Some(k)) => k,
        _ => inst.params.usize_or("layers", 1)?,
    };
    if layers == 0 {
        return Err(InputError::new("params.layers", "must be at least 1"));
    }
    let (work, mem) = crate::theorem::common::cost::td(2 * d + 1, inst.trajectory.len(), layers);
    // Name what drives the estimate: the depth, or the context length n ((n+1)² buffers).
    let (_, mem_one) = crate::theorem::common::cost::td(2 * d + 1, inst.trajectory.len(), 1);
    let mem_field = if mem > 2.0 * mem_one { "params.layers" } else { "trajectory.rewards" };
    crate::theorem::common::cost::admit("params.layers", work, 0.0, limits)?;
    crate::theorem::common::cost::admit(mem_field, 0.0, mem, limits)?;
    if let Some(v) = inst.params.0.get("preconditioners") {
        let a = crate::instance::array(v, "params.preconditioners")?;
        let mut cs = Vec::with_capacity(layers);
        for (l, m) in a.iter().enumerate() {
            let path = format!("params.preconditioners[{l}]");
            cs.push(crate::weights::matrix(m, &path, d)?);
        }
        return Ok((q, cs));
    }
    let c = match inst.params.matrix_opt("preconditioner", d, d)? {
        Some(m) => Mat::from_vec(d, d, m.concat()),
        None => Mat::identity(d).scale(&inst.params.f64_or("alpha", 1.0)?),
    };
    Ok((q, vec![c; layers]))
}

/// [`read_params_with`] at the default limits.
pub fn read_params(inst: &Instance) -> Result<(usize, Vec<Mat<f64>>), InputError> {
    read_params_with(inst, &Limits::default())
}

/// Which variant an instance names: `lambda` → TD(λ), `residual_gradient: true` → residual
/// gradient, else TD(0).
pub fn variant_of(inst: &Instance) -> Result<(Variant, f64), InputError> {
    let residual = match inst.params.0.get("residual_gradient") {
        None => false,
        Some(serde_json::Value::Bool(b)) => *b,
        Some(_) => return Err(InputError::new("params.residual_gradient", "expected true or false")),
    };
    if inst.params.has("lambda") {
        let l = inst.params.f64_req("lambda")?;
        if !(0.0..=1.0).contains(&l) {
            return Err(InputError::new("params.lambda", format!("{l} is not in [0, 1]")));
        }
        return Ok((Variant::Lambda, l));
    }
    Ok((if residual { Variant::Residual } else { Variant::Td0 }, 0.0))
}

/// Degree of the layer-`L` outputs in the prompt entries: `deg_0 = 2`, `deg_{l+1} = 3 deg_l + 1`.
fn degree(layers: usize) -> f64 {
    (0..layers).fold(2.0, |d, _| 3.0 * d + 1.0)
}

/// `icrl check` for `linear-td` instances: the theorem of the instance's variant (`theorem`
/// decides whether it applies), through [`body`] with the given weights or the construction.
pub fn check_instance(
    inst: &Instance,
    limits: &Limits,
    theorem: Variant,
) -> Result<Option<InstanceOutcome>, InputError> {
    if inst.mdp.n_actions() != 1 {
        return Err(InputError::new(
            "mdp.transitions[0]",
            "linear-td instances are MRPs: exactly one action per state",
        ));
    }
    let (variant, lambda) = variant_of(inst)?;
    if variant != theorem {
        return Ok(None);
    }
    let id = match variant {
        Variant::Td0 => "linear-td",
        Variant::Lambda => "linear-td-lambda",
        Variant::Residual => "linear-td-residual",
    };
    let d = inst.features.dim();
    let (q, cs) = read_params_with(inst, limits)?;
    let given = match &inst.weights {
        Some(v) => match Weights::from_json(v, "weights", Layout::Td(2 * d + 1))? {
            Weights::Td(ls) => {
                if ls.len() != cs.len() {
                    return Err(InputError::new(
                        "weights.layers",
                        format!("has {} layers, params name {} (params.layers / preconditioners)", ls.len(), cs.len()),
                    ));
                }
                Some(ls.into_iter().map(|l| (l.p, l.q)).collect::<Vec<_>>())
            }
            _ => unreachable!("Layout::Td parses to Weights::Td"),
        },
        None => None,
    };
    let x =
        TdInput { features: &inst.features, traj: &inst.trajectory, gamma: inst.mdp.gamma(), query_state: q, lambda };
    let sides = Sides::default();
    let n = inst.trajectory.len();
    let (work, _) = crate::theorem::common::cost::td(2 * d + 1, n, cs.len());
    let mut out = InstanceOutcome::default();
    match crate::theorem::common::cost::exact_skip(work, degree(cs.len()), limits) {
        Some(reason) => out.skipped.push(Skipped { theorem: id.into(), arithmetic: Arithmetic::Exact, reason }),
        None => {
            let csq: Vec<Mat<BigRational>> = cs.iter().map(|c| c.to_exact()).collect();
            let layers: Vec<(Mat<BigRational>, Mat<BigRational>)> = match &given {
                Some(ls) => ls.iter().map(|(p, q)| (p.to_exact(), q.to_exact())).collect(),
                None => construction(d, &csq, variant, false),
            };
            let o = body(&x, &layers, &csq, variant, &sides);
            let mut r = instance_result(
                id,
                Arithmetic::Exact,
                "v̂_l",
                &o.tf.readouts,
                &o.values,
                0.0,
                o.exact_equal(),
                given.is_some(),
            );
            if r.first_mismatch.is_none() && !o.exact_equal() {
                r.first_mismatch = first_bottom_mismatch(&o, true, 0.0);
                r.holds = false;
            }
            out.results.push(r);
        }
    }
    // `f64` on `ErrBound` (given weights and `C_l` are exact inputs): every entry within
    // `e_T + e_R` ([`crate::tolerance::bounded_cmp`]).
    let ce = bounded_cs(&cs);
    let layers: Vec<(Mat<ErrBound>, Mat<ErrBound>)> = match &given {
        Some(ls) => ls.iter().map(|(p, q)| (p.map(|&x| ErrBound::exact(x)), q.map(|&x| ErrBound::exact(x)))).collect(),
        None => construction(d, &ce, variant, false),
    };
    let o = body(&x, &layers, &ce, variant, &sides);
    let (_, rows) = o.bounded_cmps();
    let (e1, e2) = o.max_err();
    let mut r = bounded_result(id, "v̂_l", &o.tf.readouts, &o.values, o.tf.rows_unchanged, given.is_some());
    r.max_abs_error = if r.max_abs_error.is_infinite() || rows.overflow { f64::INFINITY } else { e1.max(e2) };
    if !rows.holds() {
        r.holds = false;
        r.first_mismatch = r.first_mismatch.or_else(|| {
            o.tf.bottom.iter().zip(&o.deltas).enumerate().find_map(|(l, (a, b))| {
                crate::tolerance::bounded_cmp(a, b).first_violation.map(|k| {
                    format!(
                        "Z_{}[2d, ·] = δ(w_{})[{k}]: transformer {} vs reference {} (error bound {:e})",
                        l + 1,
                        l + 1,
                        a[k].x,
                        b[k].x,
                        crate::scalar::errbound::add_up(a[k].e, b[k].e)
                    )
                })
            })
        });
    }
    out.results.push(r);
    Ok(Some(out))
}

fn first_bottom_mismatch<T: Scalar>(o: &TdOutcome<T>, exact: bool, tol: f64) -> Option<String> {
    o.tf.bottom
        .iter()
        .zip(&o.deltas)
        .enumerate()
        .find_map(|(l, (a, b))| first_mismatch(&format!("Z_{}[2d, ·] = δ(w_{})", l + 1, l + 1), a, b, exact, tol))
}

/// The listed shapes of the [WB] field certificates (all three variants):
/// `d ∈ {1, 2, 4, 8, 16, 36}` × `n ∈ {1, 2, 4, 8, 16, 32, 64}` × `L ∈ {1, 2, 3, 5, 10, 20, 40}`
/// (294 shapes, corners and the [WB] preset `d = 36, n = 64, L = 40` included).
pub fn field_shapes() -> Vec<crate::theorem::FieldShape> {
    shape_grid(&[1, 2, 4, 8, 16, 36], &[0], &[1, 2, 4, 8, 16, 32, 64], &[1, 2, 3, 5, 10, 20, 40], &[])
}

/// Both sides of a [WB] variant over a free prompt (`φ_i`, `φ'_i`, `r_i`, `γ`, `φ_q`, every
/// `C_l` entry and `λ` free): every layer's query readout and bottom row against `w_lᵀφ_q` and
/// `δ(w_l)`, then 1 iff rows `0..2d-1` stayed unchanged.
fn variant_sides<T: Scalar>(
    variant: Variant,
    s: &crate::theorem::FieldShape,
    free: &mut dyn FnMut() -> T,
    sabotage: bool,
) -> (Vec<T>, Vec<T>) {
    let b = free_batch(free, s.d, s.n);
    let phi_q = free_vec(free, s.d);
    let cs: Vec<Mat<T>> = (0..s.layers).map(|_| Mat::from_fn(s.d, s.d, |_, _| free())).collect();
    let lambda = free();
    let tr = transformer(&b, &phi_q, &cs, variant, &lambda, true, sabotage);
    let (values, deltas) = reference(&b, &phi_q, &cs, variant, &lambda);
    let mut tf = tr.readouts;
    tf.extend(tr.bottom.into_iter().flatten());
    tf.push(if tr.rows_unchanged { T::one() } else { T::zero() });
    let mut rf = values;
    rf.extend(deltas.into_iter().flatten());
    rf.push(T::one());
    (tf, rf)
}

/// `linear-td` (TD(0)) over a free prompt.
pub struct Td0Sides;
/// `linear-td-lambda` over a free prompt.
pub struct LambdaSides;
/// `linear-td-residual` over a free prompt.
pub struct ResidualSides;

impl FieldSides for Td0Sides {
    fn sides<T: Scalar>(
        s: &crate::theorem::FieldShape,
        free: &mut dyn FnMut() -> T,
        sabotage: bool,
    ) -> (Vec<T>, Vec<T>) {
        variant_sides(Variant::Td0, s, free, sabotage)
    }
}
impl FieldSides for LambdaSides {
    fn sides<T: Scalar>(
        s: &crate::theorem::FieldShape,
        free: &mut dyn FnMut() -> T,
        sabotage: bool,
    ) -> (Vec<T>, Vec<T>) {
        variant_sides(Variant::Lambda, s, free, sabotage)
    }
}
impl FieldSides for ResidualSides {
    fn sides<T: Scalar>(
        s: &crate::theorem::FieldShape,
        free: &mut dyn FnMut() -> T,
        sabotage: bool,
    ) -> (Vec<T>, Vec<T>) {
        variant_sides(Variant::Residual, s, free, sabotage)
    }
}

/// The field tier of `linear-td` (2 draws per shape: 588 cases).
pub static TD0_FIELD: crate::theorem::FieldTier =
    crate::theorem::FieldTier { shapes: field_shapes, draws: 2, bound: field_bound::<Td0Sides> };
/// The field tier of `linear-td-lambda`.
pub static LAMBDA_FIELD: crate::theorem::FieldTier =
    crate::theorem::FieldTier { shapes: field_shapes, draws: 2, bound: field_bound::<LambdaSides> };
/// The field tier of `linear-td-residual`.
pub static RESIDUAL_FIELD: crate::theorem::FieldTier =
    crate::theorem::FieldTier { shapes: field_shapes, draws: 2, bound: field_bound::<ResidualSides> };

fn field_case_of(res: &mut CaseResult, rng: &mut Rng, ctx: &CheckCtx, variant: Variant) {
    let q = "query value, δ rows and rows 0..2d-1, every layer";
    match variant {
        Variant::Td0 => field_case::<Td0Sides>(res, rng, ctx, &TD0_FIELD, q),
        Variant::Lambda => field_case::<LambdaSides>(res, rng, ctx, &LAMBDA_FIELD, q),
        Variant::Residual => field_case::<ResidualSides>(res, rng, ctx, &RESIDUAL_FIELD, q),
    }
}
