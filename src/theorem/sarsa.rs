//! [LL] (arXiv:2605.05755): one linear-attention block is one batch semi-gradient SARSA step.
//!
//! - `sarsa-equivalence` — Theorem 3.1 [Q]: `TF_{(cP⋆, c⁻¹V⋆)}(H) = w_SARSA` for every prompt,
//!   every `α`, every `c ≠ 0`.
//! - `sarsa-readout-identity` — Lemma C.1 [Q] (`Σ̂` explicit [D]): for arbitrary `P`, `V`,
//!   `TF(H) = w + V̄21 Σ̂ P12 w̃ + (1/n) V̄22 w̃ w̃ᵀ P22 w̃`.
//! - `sarsa-output-independence` — Prop. 3.1, readout part [Q]: the blocks `P11, P21, V11, V12`
//!   and the first rows of `V21`, `V22` do not reach the readout.
//! - `sarsa-stacking` [D] (not claimed by the paper): `L` constructed blocks are `L` SARSA
//!   steps on the same batch; data rows and the constant 1 unchanged bit for bit.
//!
//! # Assumptions
//! - `p22-zero`: `P22 = 0`; `v22-bar-zero`: `V̄22 = 0` (the cubic term of Lemma C.1 vanishes).
//!   Relaxing one alone is harmless (the cubic term needs both); `icrl search` shows it.
//! - `recorded-next-action`: `φ⁺_i = φ(s_{i+1}, a_{i+1})` is the recorded next pair, so the
//!   target is linear in the prompt.
//!
//! The transformer side is `attention::linear::lsa_block` on `attention::prompt::sarsa_prompt`
//! with `construction::sarsa::{p_star, v_star}`; the reference is `rl::sarsa::batch_sarsa`.

use crate::assumption::AssumptionId;
use crate::attention::linear::{lsa_block, lsa_block_last_column};
use crate::attention::prompt::{parameter_readout, sarsa_prompt};
use crate::construction::sarsa::{invariant_entries, p_star, v_star, Shape};
use crate::error::InputError;
use crate::instance::{to_json, Instance};
use crate::linalg::Mat;
use crate::mdp::batch::TransitionBatch;
use crate::mdp::features::Features;
use crate::mdp::rollout::Trajectory;
use crate::rl::sarsa::batch_sarsa_steps;
use crate::rng::Rng;
use crate::scalar::errbound::ErrBound;
use crate::scalar::{grid, Scalar};
use crate::theorem::common::*;
use crate::theorem::{
    Arithmetic, Assumption, CaseResult, CheckCtx, Family, Formal, InstanceCheck, InstanceOutcome, Limits, Measurement,
    Provenance, Sides, Skipped, TheoremSpec,
};
use crate::tolerance::poly_rel_tol;
use crate::weights::{Layout, Weights};
use num_rational::BigRational;
use rand::Rng as _;

/// Assumptions of Theorem 3.1.
pub const ASSUMPTIONS: &[Assumption] = &[
    Assumption {
        id: AssumptionId::P22Zero,
        statement: "P22 = 0 (the parameter column does not attend to itself through P)",
        search: Some(crate::theorem::relax::sarsa::search),
        replay: Some(crate::theorem::relax::sarsa::replay),
    },
    Assumption {
        id: AssumptionId::V22BarZero,
        statement: "V̄22 = 0 (V does not write the parameter column into the w rows)",
        search: Some(crate::theorem::relax::sarsa::search),
        replay: Some(crate::theorem::relax::sarsa::replay),
    },
    Assumption {
        id: AssumptionId::RecordedNextAction,
        statement: "φ⁺_i = φ(s_{i+1}, a_{i+1}) is the recorded next pair (SARSA, not a max over actions)",
        search: Some(crate::theorem::relax::qlearning::search),
        replay: Some(crate::theorem::relax::qlearning::replay),
    },
];

/// The `sarsa` instance family: params `w` (`d`), `alpha`, `layers` [1], `c` [1]; weights
/// `{"P": D×D, "V": D×D}`, `D = 3d + 2`, the block applied `layers` times.
pub static FAMILY: Family = Family {
    name: "sarsa",
    params: &["w", "alpha", "layers", "c"],
    conflicts: &[],
    weights: "{\"P\": D×D, \"V\": D×D}, D = 3d+2 ([LL] eq. 4 prompt); applied params.layers times",
};

/// Registry entries.
pub fn specs() -> Vec<TheoremSpec> {
    vec![
        TheoremSpec {
            id: "sarsa-equivalence",
            statement: "For every α > 0 and c ≠ 0 the block (cP⋆, c⁻¹V⋆) maps the prompt [φ_i; γφ⁺_i; r_{i+1} | 1; w] to w_SARSA = w + (α/n) Σ δ_i φ_i exactly, for every prompt.",
            provenance: Provenance::Quoted,
            kind: super::CheckKind::Equality,
            source: "[LL] Thm 3.1, eqs. 1, 2, 4, arXiv:2605.05755 (the entries of P⋆, V⋆ and the sign of c [D])",
            assumptions: ASSUMPTIONS,
            sz_degree: Some(7),
            field: Some(&EQUIVALENCE_FIELD),
            default_cases: 1000,
            proof_page: "proofs/sarsa-equivalence.md",
            formal: Formal::Proved("Sarsa.v", "sarsa_equivalence"),
            check: check_equivalence,
            instance: Some(InstanceCheck { family: &FAMILY, run: |i, l| check_instance(i, l, false), takes_weights: true }),
        },
        TheoremSpec {
            id: "sarsa-readout-identity",
            statement: "For arbitrary P, V: TF(H) = w + V̄21 Σ̂ P12 w̃ + (1/n) V̄22 w̃ w̃ᵀ P22 w̃, Σ̂ = (1/n) Σ x_i x_iᵀ; the readout depends on (P12, P22, V̄21, V̄22) only.",
            provenance: Provenance::Quoted,
            kind: super::CheckKind::Equality,
            source: "[LL] Lemma C.1, arXiv:2605.05755 (Σ̂ made explicit [D])",
            assumptions: &[],
            sz_degree: Some(5),
            field: Some(&READOUT_FIELD),
            default_cases: 1000,
            proof_page: "proofs/sarsa-readout-identity.md",
            formal: Formal::Proved("Sarsa.v", "sarsa_readout_identity"),
            check: check_readout_identity,
            instance: None,
        },
        TheoremSpec {
            id: "sarsa-output-independence",
            statement: "Perturbing P11, P21, V11, V12 or the first rows of V21, V22 leaves the readout TF(H) unchanged, exactly.",
            provenance: Provenance::Quoted,
            kind: super::CheckKind::Equality,
            source: "[LL] Prop. 3.1 (readout part), arXiv:2605.05755",
            assumptions: &[],
            sz_degree: None,
            field: Some(&INDEPENDENCE_FIELD),
            default_cases: 1000,
            proof_page: "proofs/sarsa-output-independence.md",
            formal: Formal::Proved("Sarsa.v", "sarsa_output_independence"),
            check: check_output_independence,
            instance: None,
        },
        TheoremSpec {
            id: "sarsa-stacking",
            statement: "L identical constructed blocks perform L batch SARSA steps on the same batch; data rows and the constant 1 are unchanged bit for bit.",
            provenance: Provenance::Derived,
            kind: super::CheckKind::Equality,
            source: "derived here from [LL] Thm 3.1 (not claimed by the paper)",
            assumptions: &[],
            sz_degree: Some(STACK_MAX_EXACT as u32 * 5 + 1),
            field: Some(&STACKING_FIELD),
            default_cases: 1000,
            proof_page: "proofs/sarsa-stacking.md",
            formal: Formal::Proved("Sarsa.v", "sarsa_stacking"),
            check: check_stacking,
            instance: Some(InstanceCheck { family: &FAMILY, run: |i, l| check_instance(i, l, true), takes_weights: true }),
        },
    ]
}

/// Deepest stack checked exactly (its formal degree `1 + 5L` enters the certificate).
pub const STACK_MAX_EXACT: usize = 3;

/// The constructed block, optionally sabotaged by one entry (the reward weight of `P12`).
pub fn construction<T: Scalar>(d: usize, alpha: &T, c: &T, sabotage: bool) -> (Mat<T>, Mat<T>) {
    let s = Shape::sarsa(d);
    let mut p = p_star(s, c);
    if sabotage {
        p[(2 * d, s.token())] = p[(2 * d, s.token())].clone() + c.clone() * T::from_ratio(1, 256);
    }
    (p, v_star(s, alpha, &T::zero(), c))
}

/// `TF_θ` after one block: the readout of the last output column, computed with
/// `lsa_block_last_column` (the readout needs nothing else; `tests/sarsa.rs` checks it equals
/// the last column of the full `lsa_block`).
pub fn transformer_readout<T: Scalar>(b: &TransitionBatch<T>, w: &[T], p: &Mat<T>, v: &Mat<T>) -> Vec<T> {
    let h = sarsa_prompt(b, w);
    parameter_readout(&lsa_block_last_column(&h, p, v), 2 * w.len() + 1)
}

/// `TF_θ` after `layers` full blocks, and the final prompt.
pub fn transformer<T: Scalar>(
    b: &TransitionBatch<T>,
    w: &[T],
    p: &Mat<T>,
    v: &Mat<T>,
    layers: usize,
) -> (Vec<T>, Mat<T>) {
    let mut h = sarsa_prompt(b, w);
    for _ in 0..layers {
        h = lsa_block(&h, p, v);
    }
    let last = h.col(h.cols() - 1);
    (parameter_readout(&last, 2 * w.len() + 1), h)
}

/// The magnitude of the terms summed in one SARSA step: `|w|∞ + α max_i |φ_i|∞ (|r| + |γ||φ⁺|₁|w|∞ + |φ|₁|w|∞)`,
/// the scale the `f64` tolerance is relative to.
pub fn sarsa_scale(b: &TransitionBatch<f64>, w: &[f64], alpha: f64) -> f64 {
    let wm = max_abs(w);
    let mut m: f64 = 0.0;
    for i in 0..b.len() {
        let l1 = |v: &[f64]| v.iter().map(|x| x.abs()).sum::<f64>();
        let t = b.rewards[i].abs() + b.gamma.abs() * l1(&b.phi_next[i]) * wm + l1(&b.phi[i]) * wm;
        m = m.max(max_abs(&b.phi[i]) * t);
    }
    wm + alpha.abs() * m
}

/// Estimated `f64` tolerance for one block on this batch: [`poly_rel_tol`] over the
/// `3(D + n + 1)` accumulated operations of the three chained products, relative to
/// [`sarsa_scale`]. `verify` and `check` no longer use it (their `f64` rows compare against the
/// rigorous bounds of `ErrBound`, [`LsaOutcome::bounded_measurements`]); it judges the plain-`f64`
/// fast path of `icrl bench` and the `f64` property tests.
pub fn sarsa_tol(b: &TransitionBatch<f64>, w: &[f64], alpha: f64, layers: usize) -> f64 {
    let dd = 3 * w.len() + 2;
    poly_rel_tol(3 * (dd + b.len() + 1) * layers.max(1))
        * sarsa_scale(b, w, alpha)
        * (1.0 + alpha.abs()).powi(layers as i32 - 1)
}

fn c_pair(rng: &mut Rng) -> (i64, i64) {
    C_VALUES[rng.random_range(0..C_VALUES.len())]
}

/// The raw input of one `sarsa` check, as an instance holds it: features, the trajectory
/// window, `γ`, and the params `w`, `α`, `L`. Each side reads it with its own code.
#[derive(Clone, Copy, Debug)]
pub struct SarsaInput<'a> {
    /// `φ(s,a)`.
    pub features: &'a Features,
    /// The window `s_0, a_0, r_1, …, s_n, a_n`.
    pub traj: &'a Trajectory,
    /// `γ`.
    pub gamma: f64,
    /// The parameter `w`.
    pub w: &'a [f64],
    /// The step size `α`.
    pub alpha: f64,
    /// Blocks `L` (the same block stacked).
    pub layers: usize,
}

/// Both sides of one `sarsa` check.
#[derive(Clone, Debug)]
pub struct LsaOutcome<T> {
    /// The readout `w` after `L` blocks.
    pub transformer: Vec<T>,
    /// `L` batch SARSA steps.
    pub reference: Vec<T>,
    /// With `L > 1`: whether the data rows and the constant 1 are unchanged bit for bit.
    pub rows_unchanged: Option<bool>,
}

/// The `sarsa` comparison on given context batches (the free grid prompts pass one batch to
/// both sides; an instance passes each side's own reading of the trajectory). One layer reads
/// only the last output column (`lsa_block_last_column`) unless `full_blocks`; full blocks also
/// report whether the data rows and the constant 1 stayed unchanged.
#[allow(clippy::too_many_arguments)] // the paper's symbols, one argument each
pub fn compare_batches<T: Scalar>(
    prompt_batch: &TransitionBatch<T>,
    reference_batch: &TransitionBatch<T>,
    w: &[T],
    alpha: &T,
    layers: usize,
    p: &Mat<T>,
    v: &Mat<T>,
    full_blocks: bool,
) -> LsaOutcome<T> {
    let reference = batch_sarsa_steps(reference_batch, w, alpha, layers);
    if layers == 1 && !full_blocks {
        return LsaOutcome { transformer: transformer_readout(prompt_batch, w, p, v), reference, rows_unchanged: None };
    }
    let (tf, h) = transformer(prompt_batch, w, p, v, layers);
    let t = 2 * w.len() + 1;
    let h0 = sarsa_prompt(prompt_batch, w);
    let n = h.cols() - 1;
    let same = (0..t).all(|i| (0..=n).all(|j| h0[(i, j)] == h[(i, j)])) && h0[(t, n)] == h[(t, n)];
    LsaOutcome { transformer: tf, reference, rows_unchanged: Some(same) }
}

/// The one check body of `sarsa-equivalence` and `sarsa-stacking`, for `verify` (random
/// instances, `f64` and exact), `icrl check` and the replays: the transformer side builds its
/// prompt from the raw trajectory (`attention::prompt::context`), the reference side reads the
/// same trajectory with its own pairing (`rl::pairing::transitions`); the weights `(P, V)` are
/// given (the construction, sabotaged or not, or the user's).
pub fn body<T: Scalar>(x: &SarsaInput, p: &Mat<T>, v: &Mat<T>, sides: &Sides) -> LsaOutcome<T> {
    body_with(x, p, v, sides, false)
}

/// [`body`] with full blocks at every depth (also `L = 1`), so the data rows are always
/// checked: `sarsa-stacking`'s body.
pub fn stack_body<T: Scalar>(x: &SarsaInput, p: &Mat<T>, v: &Mat<T>, sides: &Sides) -> LsaOutcome<T> {
    body_with(x, p, v, sides, true)
}

fn body_with<T: Scalar>(x: &SarsaInput, p: &Mat<T>, v: &Mat<T>, sides: &Sides, full: bool) -> LsaOutcome<T> {
    let pb: TransitionBatch<T> = crate::attention::prompt::context(x.features, x.traj, x.gamma, sides.prompt_pairing);
    let rb: TransitionBatch<T> = crate::rl::pairing::transitions(x.features, x.traj, x.gamma, sides.reference_pairing);
    let w: Vec<T> = x.w.iter().map(|&e| T::from_f64(e)).collect();
    compare_batches(&pb, &rb, &w, &T::from_f64(x.alpha), x.layers, p, v, full)
}

/// The estimated `f64` tolerance [`sarsa_tol`] of [`body`] on `x` (from the reference side's
/// reading); `verify`/`check` use the rigorous bound instead.
pub fn body_tol(x: &SarsaInput) -> f64 {
    let rb: TransitionBatch<f64> =
        crate::rl::pairing::transitions(x.features, x.traj, x.gamma, crate::rl::pairing::next_pair);
    sarsa_tol(&rb, x.w, x.alpha, x.layers)
}

impl<T: Scalar> LsaOutcome<T> {
    /// The measurements of this outcome (`label` names the quantity).
    pub fn measurements(&self, arith: Arithmetic, label: &str, tol: f64) -> Vec<Measurement> {
        let mut ms = vec![match arith {
            Arithmetic::Exact => Measurement::exact(
                label,
                self.transformer == self.reference,
                max_abs_diff(&self.transformer, &self.reference),
            ),
            Arithmetic::F64 => {
                Measurement::equality(arith, label, max_abs_diff(&self.transformer, &self.reference), tol)
            }
            Arithmetic::Field => Measurement::field(label, self.transformer == self.reference),
        }];
        if let Some(same) = self.rows_unchanged {
            ms.push(match arith {
                Arithmetic::Exact => Measurement::exact("data rows and constant 1 unchanged", same, 0.0),
                Arithmetic::Field => Measurement::field("data rows and constant 1 unchanged", same),
                Arithmetic::F64 => Measurement::equality(
                    arith,
                    "data rows and constant 1 bit for bit",
                    if same { 0.0 } else { f64::INFINITY },
                    0.0,
                ),
            });
        }
        ms
    }
}

impl LsaOutcome<ErrBound> {
    /// The `f64` measurements of an outcome computed on [`ErrBound`]: the readout holds iff every
    /// entry satisfies `|x_T − x_R| ≤ e_T + e_R` ([`crate::tolerance::bounded_cmp`]), and the
    /// data rows are compared bit for bit as before.
    pub fn bounded_measurements(&self, label: &str) -> Vec<Measurement> {
        let c = crate::tolerance::bounded_cmp(&self.transformer, &self.reference);
        let mut ms = self.measurements(Arithmetic::F64, label, 0.0);
        ms[0] = Measurement::equality(Arithmetic::F64, label, c.error, c.tolerance);
        ms
    }
}

/// The `f64` construction with its error bounds (`c⁻¹` and `α/c` are rounded): the exact value
/// of each entry is that of [`construction`] over the reals at the same dyadic `α`, `c`.
pub fn bounded_construction(d: usize, alpha: f64, c: f64, sabotage: bool) -> (Mat<ErrBound>, Mat<ErrBound>) {
    construction(d, &ErrBound::exact(alpha), &ErrBound::exact(c), sabotage)
}

/// The instance JSON of a `sarsa` case with the weights it was checked with (`verify` prints
/// it on failure; `icrl check` replays it through the same body).
pub fn case_json(case: &MdpCase, alpha: f64, c: f64, layers: usize, weights: &Weights) -> serde_json::Value {
    let mut params = serde_json::json!({"alpha": alpha, "w": case.w, "c": c});
    if layers != 1 {
        params["layers"] = serde_json::json!(layers);
    }
    let mut v = to_json("sarsa", &case.mdp, &case.features, &case.traj, params);
    v["weights"] = weights.to_json();
    v
}

fn check_equivalence(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let sizes = draw_sizes(rng, (1, 5), (1, 4), (1, 6), (1, 10));
    let case = draw_mdp_case(rng, sizes);
    let alpha = log_uniform(rng, 1e-3, 10.0);
    let (cn, cd) = c_pair(rng);
    // Free grid prompt for the certificate.
    let (gd, gn) = (rng.random_range(1..=3), rng.random_range(1..=4));
    let gb = draw_grid_batch(rng, gd, gn);
    let gw = grid_vec(rng, gd);
    let galpha = <BigRational as Scalar>::from_f64(grid::draw(rng));
    let (gcn, gcd) = c_pair(rng);

    let mut res = CaseResult::default();
    let x = SarsaInput {
        features: &case.features,
        traj: &case.traj,
        gamma: case.mdp.gamma(),
        w: &case.w,
        alpha,
        layers: 1,
    };
    let c = cn as f64 / cd as f64;
    if ctx.arith.wants(Arithmetic::F64) {
        let (p, v) = bounded_construction(sizes.d, alpha, c, ctx.sabotage);
        let o = body::<ErrBound>(&x, &p, &v, &ctx.sides);
        res.measurements.extend(o.bounded_measurements("w' (mdp instance)"));
    }
    if ctx.arith.wants(Arithmetic::Exact) {
        let aq = <BigRational as Scalar>::from_f64(alpha);
        let (p, v) = construction(sizes.d, &aq, &BigRational::from_ratio(cn, cd), ctx.sabotage);
        let o = body::<BigRational>(&x, &p, &v, &ctx.sides);
        res.measurements.extend(o.measurements(Arithmetic::Exact, "w' (mdp instance)", 0.0));
        let cq = BigRational::from_ratio(gcn, gcd);
        let (p, v) = construction(gd, &galpha, &cq, ctx.sabotage);
        let o = compare_batches(&gb, &gb, &gw, &galpha, 1, &p, &v, false);
        res.measurements.extend(o.measurements(Arithmetic::Exact, "w' (free grid prompt)", 0.0));
        res.sz_shape = Some(format!("d={gd} n={gn} c={gcn}/{gcd}"));
    }
    if ctx.want_instance {
        let (p, v) = construction(sizes.d, &alpha, &c, ctx.sabotage);
        res.instance = Some(case_json(&case, alpha, c, 1, &Weights::Lsa { p, v }));
    }
    field_case::<EquivalenceSides>(&mut res, rng, ctx, &EQUIVALENCE_FIELD, "w'");
    res
}

pub use crate::construction::sarsa::lemma_c1_readout as readout_formula;

fn dense<T: Scalar>(rng: &mut Rng, dim: usize) -> Mat<T> {
    Mat::from_fn(dim, dim, |_, _| T::from_f64(grid::draw(rng)))
}

fn check_readout_identity(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let sizes = draw_sizes(rng, (1, 4), (1, 3), (1, 4), (1, 8));
    let case = draw_mdp_case(rng, sizes);
    let dd = 3 * sizes.d + 2;
    // Dense P, V on a coarse grid k/16 (the certificate comes from the free grid draw below;
    // this keeps the exact check of the MDP instance cheap).
    let p64: Mat<f64> = Mat::from_fn(dd, dd, |_, _| rng.random_range(-16i32..=16) as f64 / 16.0);
    let v64: Mat<f64> = Mat::from_fn(dd, dd, |_, _| rng.random_range(-16i32..=16) as f64 / 16.0);
    let (gd, gn) = (rng.random_range(1..=2), rng.random_range(1..=3));
    let gb = draw_grid_batch(rng, gd, gn);
    let gw = grid_vec(rng, gd);
    let gp: Mat<BigRational> = dense(rng, 3 * gd + 2);
    let gv: Mat<BigRational> = dense(rng, 3 * gd + 2);
    let mut res = CaseResult::default();
    let b64: TransitionBatch<f64> = TransitionBatch::from_trajectory(&case.features, &case.traj, case.mdp.gamma());
    let sab = |m: &Mat<f64>| -> Mat<f64> {
        let mut m = m.clone();
        if ctx.sabotage {
            // A P12 entry on the reward row: reaches the readout.
            let t = 2 * sizes.d + 1;
            m[(2 * sizes.d, t)] += 1.0 / 256.0;
        }
        m
    };
    if ctx.arith.wants(Arithmetic::F64) {
        // Both sides on `ErrBound` (exact inputs): tolerance = the two propagated bounds.
        let be: TransitionBatch<ErrBound> = b64.convert();
        let we: Vec<ErrBound> = case.w.iter().map(|&x| ErrBound::exact(x)).collect();
        let ex = |m: &Mat<f64>| m.map(|&x| ErrBound::exact(x));
        let tf = transformer_readout(&be, &we, &ex(&sab(&p64)), &ex(&v64));
        let rf = readout_formula(&be, &we, &ex(&p64), &ex(&v64));
        let cmp = crate::tolerance::bounded_cmp(&tf, &rf);
        res.measurements.push(Measurement::equality(Arithmetic::F64, "readout vs Lemma C.1", cmp.error, cmp.tolerance));
    }
    if ctx.arith.wants(Arithmetic::Exact) {
        let bq: TransitionBatch<BigRational> = b64.convert();
        let wq = to_exact(&case.w);
        let (pq, vq) = (sab(&p64).to_exact(), v64.to_exact());
        let tf = transformer_readout(&bq, &wq, &pq, &vq);
        let rf = readout_formula(&bq, &wq, &p64.to_exact(), &vq);
        res.measurements.push(Measurement::exact(
            "readout vs Lemma C.1 (mdp instance)",
            tf == rf,
            max_abs_diff(&tf, &rf),
        ));
        let mut gps = gp.clone();
        if ctx.sabotage {
            gps[(2 * gd, 2 * gd + 1)] = gps[(2 * gd, 2 * gd + 1)].clone() + BigRational::from_ratio(1, 256);
        }
        let tf = transformer_readout(&gb, &gw, &gps, &gv);
        let rf = readout_formula(&gb, &gw, &gp, &gv);
        res.measurements.push(Measurement::exact(
            "readout vs Lemma C.1 (free grid prompt)",
            tf == rf,
            max_abs_diff(&tf, &rf),
        ));
        res.sz_shape = Some(format!("d={gd} n={gn}"));
    }
    field_case::<ReadoutSides>(&mut res, rng, ctx, &READOUT_FIELD, "readout vs Lemma C.1, free P and V");
    res
}

/// Add random nonzero values `k/16`, `k ∈ ±1..=16`, to every entry Prop. 3.1 lists as not
/// reaching the readout (coarse values keep the exact check cheap; any nonzero value would do).
pub fn perturb_invariant_blocks<T: Scalar>(rng: &mut Rng, d: usize, p: &Mat<T>, v: &Mat<T>) -> (Mat<T>, Mat<T>) {
    let (mut p, mut v) = (p.clone(), v.clone());
    for (m, i, j) in invariant_entries(Shape::sarsa(d)) {
        let k = rng.random_range(1i64..=16) * if rng.random_bool(0.5) { 1 } else { -1 };
        let x = T::from_ratio(k, 16);
        let target = if m == 'P' { &mut p } else { &mut v };
        target[(i, j)] = target[(i, j)].clone() + x;
    }
    (p, v)
}

/// How many entries Prop. 3.1's blocks hold, counted from the block sizes (not from
/// `construction::sarsa::invariant_entries`, which the checks iterate): `P11`, `V11` (`t×t`
/// each), `V12` (`t×(d+1)`), `P21` (`(d+1)×t`), the first row of `V21` (`t`) and of `V22`
/// (`d+1`), with `t = 2d+1`. A check that perturbs or inspects "these entries" asserts it
/// reached this many, so an empty or short list cannot pass vacuously.
pub fn prop31_entry_count(d: usize) -> usize {
    let t = 2 * d + 1;
    2 * t * t + 2 * t * (d + 1) + t + (d + 1)
}

/// Entries where two pairs of matrices differ (`P` and `V` together).
fn changed_entries<T: Scalar>(p: &Mat<T>, pp: &Mat<T>, v: &Mat<T>, vp: &Mat<T>) -> usize {
    let n = |a: &Mat<T>, b: &Mat<T>| a.as_slice().iter().zip(b.as_slice()).filter(|(x, y)| x != y).count();
    n(p, pp) + n(v, vp)
}

fn check_output_independence(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let sizes = draw_sizes(rng, (1, 4), (1, 3), (1, 4), (1, 8));
    let case = draw_mdp_case(rng, sizes);
    let alpha = log_uniform(rng, 1e-3, 10.0);
    let (cn, cd) = c_pair(rng);
    let d = sizes.d;
    let b64: TransitionBatch<f64> = TransitionBatch::from_trajectory(&case.features, &case.traj, case.mdp.gamma());
    let c = cn as f64 / cd as f64;
    let (p, v) = construction(d, &alpha, &c, false);
    let (pp, mut vp) = perturb_invariant_blocks(rng, d, &p, &v);
    if ctx.sabotage {
        // A V̄21 entry (outside the listed blocks): reaches the readout.
        let t = 2 * d + 1;
        vp[(t + 1, 0)] += 1.0 / 256.0;
    }
    let mut res = CaseResult::default();
    // The perturbation reached every entry Prop. 3.1 lists, and only those (under sabotage one
    // more, outside them).
    if ctx.arith.wants(Arithmetic::F64) {
        let changed = changed_entries(&p, &pp, &v, &vp);
        res.measurements.push(Measurement::equality(
            Arithmetic::F64,
            "entries perturbed = 2t² + 2t(d+1) + t + d + 1 (Prop. 3.1's blocks, t = 2d+1)",
            (changed as f64 - prop31_entry_count(d) as f64).abs(),
            0.0,
        ));
        let a = transformer_readout(&b64, &case.w, &p, &v);
        let b = transformer_readout(&b64, &case.w, &pp, &vp);
        // Tolerance 0: each perturbed entry multiplies an exact zero of the prompt, and adding
        // exact zeros does not change an f64 sum, so the readouts agree bit for bit.
        res.measurements.push(Measurement::equality(
            Arithmetic::F64,
            "readout, perturbed vs constructed",
            max_abs_diff(&a, &b),
            0.0,
        ));
    }
    if ctx.arith.wants(Arithmetic::Exact) {
        let bq: TransitionBatch<BigRational> = b64.convert();
        let wq = to_exact(&case.w);
        let a = transformer_readout(&bq, &wq, &p.to_exact(), &v.to_exact());
        let b = transformer_readout(&bq, &wq, &pp.to_exact(), &vp.to_exact());
        res.measurements.push(Measurement::exact("readout, perturbed vs constructed", a == b, max_abs_diff(&a, &b)));
    }
    field_case::<IndependenceSides>(
        &mut res,
        rng,
        ctx,
        &INDEPENDENCE_FIELD,
        "readout, free perturbation vs constructed",
    );
    res
}

fn check_stacking(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let sizes = draw_sizes(rng, (1, 4), (1, 3), (1, 4), (1, 8));
    let case = draw_mdp_case(rng, sizes);
    let layers = rng.random_range(1..=STACK_MAX_EXACT);
    let alpha = log_uniform(rng, 1e-3, 1.0);
    let (cn, cd) = c_pair(rng);
    let (gd, gn) = (rng.random_range(1..=2), rng.random_range(1..=3));
    let gb = draw_grid_batch(rng, gd, gn);
    let gw = grid_vec(rng, gd);
    let galpha = <BigRational as Scalar>::from_f64(grid::draw(rng));
    let d = sizes.d;
    let x =
        SarsaInput { features: &case.features, traj: &case.traj, gamma: case.mdp.gamma(), w: &case.w, alpha, layers };
    let mut res = CaseResult::default();
    let c = cn as f64 / cd as f64;
    if ctx.arith.wants(Arithmetic::F64) {
        let (p, v) = bounded_construction(d, alpha, c, ctx.sabotage);
        let o = stack_body::<ErrBound>(&x, &p, &v, &ctx.sides);
        res.measurements.extend(o.bounded_measurements(&format!("w after {layers} blocks")));
    }
    if ctx.arith.wants(Arithmetic::Exact) {
        let aq = <BigRational as Scalar>::from_f64(alpha);
        let (p, v) = construction(d, &aq, &BigRational::from_ratio(cn, cd), ctx.sabotage);
        let o = stack_body::<BigRational>(&x, &p, &v, &ctx.sides);
        res.measurements.extend(o.measurements(
            Arithmetic::Exact,
            &format!("w after {layers} blocks (mdp instance)"),
            0.0,
        ));
        let (p, v) = construction(gd, &galpha, &BigRational::from_ratio(cn, cd), ctx.sabotage);
        let (tf, _) = transformer(&gb, &gw, &p, &v, layers);
        let rf = batch_sarsa_steps(&gb, &gw, &galpha, layers);
        res.measurements.push(Measurement::exact(
            format!("w after {layers} blocks (free grid prompt)"),
            tf == rf,
            max_abs_diff(&tf, &rf),
        ));
        res.sz_shape = Some(format!("d={gd} n={gn} L={layers} c={cn}/{cd}"));
    }
    if ctx.want_instance {
        let (p, v) = construction(d, &alpha, &c, ctx.sabotage);
        res.instance = Some(case_json(&case, alpha, c, layers, &Weights::Lsa { p, v }));
    }
    field_case::<StackingSides>(&mut res, rng, ctx, &STACKING_FIELD, "w after L blocks, rows unchanged");
    res
}

/// `icrl check` for `sarsa` instances (params `w`, `alpha`, `layers` [1], `c` [1]; optional
/// `weights`): `sarsa-equivalence` on one block, `sarsa-stacking` on more (`stacked`), both
/// through [`body`] / [`stack_body`], exact (within the limits) and `f64`.
pub fn check_instance(inst: &Instance, limits: &Limits, stacked: bool) -> Result<Option<InstanceOutcome>, InputError> {
    let d = inst.features.dim();
    let layers = inst.params.usize_or("layers", 1)?;
    if layers == 0 {
        return Err(InputError::new("params.layers", "must be at least 1"));
    }
    if stacked != (layers > 1) {
        return Ok(None);
    }
    let w = inst.params.vec_req("w", d)?;
    let alpha = inst.params.f64_req("alpha")?;
    let c = inst.params.f64_or("c", 1.0)?;
    if c == 0.0 {
        return Err(InputError::new("params.c", "must be nonzero"));
    }
    let dd = 3 * d + 2;
    let (work, mem) = cost::lsa(dd, inst.trajectory.len(), layers);
    cost::admit("params.layers", work, mem, limits)?;
    let given = match &inst.weights {
        Some(v) => Some(Weights::from_json(v, "weights", Layout::Lsa(dd))?),
        None => None,
    };
    let (p, v) = match &given {
        Some(Weights::Lsa { p, v }) => (p.clone(), v.clone()),
        Some(_) => unreachable!("Layout::Lsa parses to Weights::Lsa"),
        None => construction(d, &alpha, &c, false),
    };
    let theorem = if stacked { "sarsa-stacking" } else { "sarsa-equivalence" };
    let x =
        SarsaInput { features: &inst.features, traj: &inst.trajectory, gamma: inst.mdp.gamma(), w: &w, alpha, layers };
    let sides = Sides::default();
    let run = |pq: &Mat<BigRational>, vq: &Mat<BigRational>| {
        if stacked {
            stack_body(&x, pq, vq, &sides)
        } else {
            body(&x, pq, vq, &sides)
        }
    };
    let mut out = InstanceOutcome::default();
    match cost::exact_skip(work, (5 * layers + 2) as f64, limits) {
        Some(reason) => out.skipped.push(Skipped { theorem: theorem.into(), arithmetic: Arithmetic::Exact, reason }),
        None => {
            // Without weights the construction is built in exact arithmetic from the dyadic
            // `α` and `c` (so `c⁻¹` is exact); given weights are read as the dyadics they are.
            let (pq, vq) = match &given {
                Some(_) => (p.to_exact(), v.to_exact()),
                None => construction(
                    d,
                    &<BigRational as Scalar>::from_f64(alpha),
                    &<BigRational as Scalar>::from_f64(c),
                    false,
                ),
            };
            let o = run(&pq, &vq);
            out.results.push(instance_result(
                theorem,
                Arithmetic::Exact,
                "w'",
                &o.transformer,
                &o.reference,
                0.0,
                o.rows_unchanged.unwrap_or(true),
                given.is_some(),
            ));
        }
    }
    // `f64` on `ErrBound`: given weights are exact dyadic inputs; the construction carries the
    // bounds of its rounded `c⁻¹`, `α/c` (`bounded_construction`).
    let (pe, ve) = match &given {
        Some(_) => (p.map(|&x| ErrBound::exact(x)), v.map(|&x| ErrBound::exact(x))),
        None => bounded_construction(d, alpha, c, false),
    };
    let o = if stacked { stack_body(&x, &pe, &ve, &sides) } else { body(&x, &pe, &ve, &sides) };
    out.results.push(bounded_result(
        theorem,
        "w'",
        &o.transformer,
        &o.reference,
        o.rows_unchanged.unwrap_or(true),
        given.is_some(),
    ));
    Ok(Some(out))
}

/// The listed shapes of `sarsa-equivalence`'s field certificates: every `d ≤ 36` (the [LL]
/// preset `d = 36, n = 20`) × `n ∈ {1, 2, 3, 4, 6, 8, 12, 16, 20, 32, 48, 64}`, `c` cycling
/// through [`C_VALUES`] along the list.
pub fn equivalence_shapes() -> Vec<crate::theorem::FieldShape> {
    let ds: Vec<usize> = (1..=36).collect();
    shape_grid(&ds, &[0], &[1, 2, 3, 4, 6, 8, 12, 16, 20, 32, 48, 64], &[0], &C_VALUES)
}

/// `sarsa-equivalence` over a free prompt: one constructed block `(cP⋆, c⁻¹V⋆)` against one
/// batch SARSA step, `α` and `w` free (the body [`compare_batches`] of the exact tier).
pub struct EquivalenceSides;

impl FieldSides for EquivalenceSides {
    fn sides<T: Scalar>(
        s: &crate::theorem::FieldShape,
        free: &mut dyn FnMut() -> T,
        sabotage: bool,
    ) -> (Vec<T>, Vec<T>) {
        let b = free_batch(free, s.d, s.n);
        let w = free_vec(free, s.d);
        let alpha = free();
        let (p, v) = construction(s.d, &alpha, &T::from_ratio(s.c.0, s.c.1), sabotage);
        let o = compare_batches(&b, &b, &w, &alpha, 1, &p, &v, false);
        (o.transformer, o.reference)
    }
}

/// The field tier of `sarsa-equivalence` (2 draws per shape: 864 cases).
pub static EQUIVALENCE_FIELD: crate::theorem::FieldTier =
    crate::theorem::FieldTier { shapes: equivalence_shapes, draws: 2, bound: field_bound::<EquivalenceSides> };

/// The listed shapes of `sarsa-stacking`: `d ∈ {1, 2, 3, 4, 6, 9, 12, 18, 24, 36}` ×
/// `n ∈ {1, 2, 4, 8, 16, 20}` × `L ∈ {1, 2, 3, 5, 8}`, `c` cycling through [`C_VALUES`].
pub fn stacking_shapes() -> Vec<crate::theorem::FieldShape> {
    shape_grid(&[1, 2, 3, 4, 6, 9, 12, 18, 24, 36], &[0], &[1, 2, 4, 8, 16, 20], &[1, 2, 3, 5, 8], &C_VALUES)
}

/// `sarsa-stacking` over a free prompt: `L` full constructed blocks against `L` SARSA steps, and
/// the data rows and the constant 1 unchanged (the last entry: 1 iff unchanged).
pub struct StackingSides;

impl FieldSides for StackingSides {
    fn sides<T: Scalar>(
        s: &crate::theorem::FieldShape,
        free: &mut dyn FnMut() -> T,
        sabotage: bool,
    ) -> (Vec<T>, Vec<T>) {
        let b = free_batch(free, s.d, s.n);
        let w = free_vec(free, s.d);
        let alpha = free();
        let (p, v) = construction(s.d, &alpha, &T::from_ratio(s.c.0, s.c.1), sabotage);
        let o = compare_batches(&b, &b, &w, &alpha, s.layers, &p, &v, true);
        let mut tf = o.transformer;
        tf.push(if o.rows_unchanged == Some(true) { T::one() } else { T::zero() });
        let mut rf = o.reference;
        rf.push(T::one());
        (tf, rf)
    }
}

/// The field tier of `sarsa-stacking` (2 draws per shape: 600 cases).
pub static STACKING_FIELD: crate::theorem::FieldTier =
    crate::theorem::FieldTier { shapes: stacking_shapes, draws: 2, bound: field_bound::<StackingSides> };

/// The listed shapes of `sarsa-readout-identity` and `sarsa-output-independence`: every
/// `d ≤ 36` × `n ∈ {1, 2, 4, 8, 16, 20, 32, 64}` (`c` cycling for the constructed block).
pub fn readout_shapes() -> Vec<crate::theorem::FieldShape> {
    let ds: Vec<usize> = (1..=36).collect();
    shape_grid(&ds, &[0], &[1, 2, 4, 8, 16, 20, 32, 64], &[0], &[])
}

fn independence_shapes() -> Vec<crate::theorem::FieldShape> {
    let ds: Vec<usize> = (1..=36).collect();
    shape_grid(&ds, &[0], &[1, 2, 4, 8, 16, 20, 32, 64], &[0], &C_VALUES)
}

/// Lemma C.1 over a free prompt with **free dense** `P, V` (every entry a variable): the
/// readout of the block against the formula; sabotage moves one `P12` entry of the block by 1/256.
pub struct ReadoutSides;

impl FieldSides for ReadoutSides {
    fn sides<T: Scalar>(
        s: &crate::theorem::FieldShape,
        free: &mut dyn FnMut() -> T,
        sabotage: bool,
    ) -> (Vec<T>, Vec<T>) {
        let dd = 3 * s.d + 2;
        let b = free_batch(free, s.d, s.n);
        let w = free_vec(free, s.d);
        let p: Mat<T> = Mat::from_fn(dd, dd, |_, _| free());
        let v: Mat<T> = Mat::from_fn(dd, dd, |_, _| free());
        let mut ps = p.clone();
        if sabotage {
            ps[(2 * s.d, 2 * s.d + 1)] = ps[(2 * s.d, 2 * s.d + 1)].clone() + T::from_ratio(1, 256);
        }
        (transformer_readout(&b, &w, &ps, &v), readout_formula(&b, &w, &p, &v))
    }
}

/// The field tier of `sarsa-readout-identity` (3 draws per shape: 864 cases).
pub static READOUT_FIELD: crate::theorem::FieldTier =
    crate::theorem::FieldTier { shapes: readout_shapes, draws: 3, bound: field_bound::<ReadoutSides> };

/// Prop. 3.1 over a free prompt: the constructed block (free `α`) and the same block with a
/// **free** value added to every entry Prop. 3.1 lists have the same readout; sabotage also moves
/// a `V̄21` entry (outside the list) by 1/256.
pub struct IndependenceSides;

impl FieldSides for IndependenceSides {
    fn sides<T: Scalar>(
        s: &crate::theorem::FieldShape,
        free: &mut dyn FnMut() -> T,
        sabotage: bool,
    ) -> (Vec<T>, Vec<T>) {
        let b = free_batch(free, s.d, s.n);
        let w = free_vec(free, s.d);
        let alpha = free();
        let (p, v) = construction(s.d, &alpha, &T::from_ratio(s.c.0, s.c.1), false);
        let (mut pp, mut vp) = (p.clone(), v.clone());
        for (m, i, j) in invariant_entries(Shape::sarsa(s.d)) {
            let target = if m == 'P' { &mut pp } else { &mut vp };
            target[(i, j)] = target[(i, j)].clone() + free();
        }
        if sabotage {
            let t = 2 * s.d + 1;
            vp[(t + 1, 0)] = vp[(t + 1, 0)].clone() + T::from_ratio(1, 256);
        }
        (transformer_readout(&b, &w, &pp, &vp), transformer_readout(&b, &w, &p, &v))
    }
}

/// The field tier of `sarsa-output-independence` (3 draws per shape: 864 cases).
pub static INDEPENDENCE_FIELD: crate::theorem::FieldTier =
    crate::theorem::FieldTier { shapes: independence_shapes, draws: 3, bound: field_bound::<IndependenceSides> };
