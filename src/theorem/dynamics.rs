//! Training dynamics of the [LL] SARSA block (arXiv:2605.05755; `docs/theory/gradient-flow.md`).
//!
//! - `sarsa-gradient-invariants` [Q] (Prop. 3.1): on the full `D×D` parametrization the
//!   teacher-mimicking gradient is zero on `P11, P21, V11, V12` and the first rows of `V21`,
//!   `V22`, and `P22 = V̄22 = 0` is invariant (zero gradient there). Checked exactly (rationals)
//!   and in `f64`, together with full = reduced (Lemma C.1) and reduced = the central difference
//!   quotient (exactly).
//! - `sarsa-richness` [R] (Assumption 1 in our form): the Gauss–Newton matrix at the
//!   construction has kernel exactly the manifold tangent. Negative control: one-hot features.
//! - `sarsa-local-convergence` [Q] with our rate [D] (Thm 3.2): gradient flow from near the
//!   manifold converges exponentially to a point on it, conserving `‖B‖² - ‖A‖²`, at `c∞`
//!   predicted by the conservation law, with asymptotic `log L` slope `-2λ⁺_min(G_{c∞})`.
//!
//! # Assumptions
//! - `richness` (searchable): the Gauss–Newton kernel at the construction is one-dimensional.
//!   `icrl search --theorem sarsa-local-convergence --relax richness` drops it.
//! - `near-manifold`: the start point is a perturbation of relative size ≤ 0.1 of the manifold.
//! - `p22-v22-zero`: the flow runs on the invariant set `P22 = V̄22 = 0` (Prop. 3.1).
//!
//! # References
//! [LL] H. Liang, L. Lai, arXiv:2605.05755 (2026), Prop. 3.1, Assumption 1, Thm 3.2, Lemma C.1.

use crate::assumption::AssumptionId;
use crate::attention::prompt::sarsa_prompt;
use crate::construction::sarsa::{invariant_entries, Shape};
use crate::dynamics::experiment::{self, FlowData};
use crate::dynamics::flow::FlowStop;
use crate::dynamics::loss::{self, Population};
use crate::dynamics::stream::{self, FeatureKind, StreamPreset};
use crate::error::InputError;
use crate::linalg::Mat;
use crate::rng::Rng;
use crate::scalar::errbound::ErrBound;
use crate::scalar::Scalar;
use crate::search::{Counterexample, SearchArgs, SearchOutcome};
use crate::theorem::{Arithmetic, Assumption, CaseResult, CheckCtx, Formal, Measurement, Provenance, TheoremSpec};
use crate::tolerance;
use num_rational::BigRational;
use rand::Rng as _;

const SOURCE: &str = "[LL] Thm 3.2, arXiv:2605.05755";

/// Registry entries of this family.
pub fn specs() -> Vec<TheoremSpec> {
    vec![
        TheoremSpec {
            id: "sarsa-gradient-invariants",
            statement: "Prop. 3.1: the teacher-mimicking gradient on the full D×D (P, V) is zero on P11, P21, V11, V12 and the first rows of V21, V22; at P22 = V̄22 = 0 the gradient in P22, V̄22 is zero (the set is invariant)",
            provenance: Provenance::Quoted,
            kind: super::CheckKind::Equality,
            source: "[LL] Prop. 3.1, arXiv:2605.05755",
            assumptions: &INVARIANT_ASSUMPTIONS,
            sz_degree: None,
            field: None,
            default_cases: 24,
            proof_page: "proofs/sarsa-gradient-invariants.md",
            formal: Formal::None("gradients of the teacher-mimicking loss need a derivative framework"),
            check: check_invariants,
            instance: None,
        },
        TheoremSpec {
            id: "sarsa-gradient-identities",
            statement: "[D] the loss through the generic forward pass equals its analytic form (exactly); at P22 = V̄22 = 0 the full D×D gradient equals the reduced (V̄21, P12) gradient of Lemma C.1; the reduced gradient equals the central difference quotient at step h = 1/4, exactly (L is quadratic in each coordinate of (V̄21, P12), so the quotient has no truncation term)",
            provenance: Provenance::Derived,
            kind: super::CheckKind::Equality,
            source: "[LL] Lemma C.1 (the reduction and its gradient derived here), arXiv:2605.05755",
            assumptions: &INVARIANT_ASSUMPTIONS,
            sz_degree: None,
            field: None,
            default_cases: 24,
            proof_page: "proofs/sarsa-gradient-invariants.md",
            formal: Formal::None("gradients and finite differences need a derivative framework"),
            check: check_gradient_identities,
            instance: None,
        },
        TheoremSpec {
            id: "sarsa-richness",
            statement: "Assumption 1 ([R] form): with random features the Gauss–Newton matrix G⋆ = E[JᵀJ] at (A⋆, B⋆) has rank #params - 1, its kernel is the manifold tangent (-A⋆, B⋆) (|cos| ≥ 0.999) and λ⁺_min > 0; with one-hot features the rank drops further (negative control)",
            provenance: Provenance::Reconstructed,
            kind: super::CheckKind::Equality,
            source: "[LL] Assumption 1, arXiv:2605.05755",
            assumptions: &RICHNESS_ASSUMPTIONS,
            sz_degree: None,
            field: None,
            default_cases: 16,
            proof_page: "proofs/sarsa-richness.md",
            formal: Formal::None("numerical rank and spectrum of a Gauss–Newton matrix on sampled features"),
            check: check_richness,
            instance: None,
        },
        TheoremSpec {
            id: "sarsa-local-convergence",
            statement: "Thm 3.2: gradient flow of the teacher-mimicking loss from near the scaling manifold {(A⋆/c, cB⋆)} converges exponentially (L falls 26 decades within the step budget, ln L never increases) to a point on the manifold (≤ 1e-6 relative)",
            provenance: Provenance::Quoted,
            kind: super::CheckKind::Bound,
            source: SOURCE,
            assumptions: &CONVERGENCE_ASSUMPTIONS,
            sz_degree: None,
            field: None,
            default_cases: 6,
            proof_page: "proofs/sarsa-local-convergence.md",
            formal: Formal::None("convergence of a gradient-flow ODE needs analysis"),
            check: check_convergence,
            instance: None,
        },
        TheoremSpec {
            id: "sarsa-local-convergence-rate",
            statement: "[D] our limit and rate for Thm 3.2: ‖B‖² - ‖A‖² is conserved (≤ 1e-8 relative), the limit is at the c∞ that law predicts (≤ 1e-6), the Gauss–Newton G at the limit equals the finite-difference Hessian of L there (≤ 1e-6 relative), and the slope of ln L over its last 4 decades is within 10 % of -2λ⁺_min of that finite-difference Hessian (under a spectral gap λ⁺_2/λ⁺_1 ≥ 1.5)",
            provenance: Provenance::Derived,
            kind: super::CheckKind::Rate,
            source: SOURCE,
            assumptions: &RATE_ASSUMPTIONS,
            sz_degree: None,
            field: None,
            default_cases: 6,
            proof_page: "proofs/sarsa-local-convergence.md",
            formal: Formal::None("the asymptotic rate of a gradient-flow ODE needs analysis"),
            check: check_rate,
            instance: None,
        },
        TheoremSpec {
            id: "sarsa-teacher-step",
            statement: "Algorithm 1's teacher ([R] form) over 4 MDPs × 6 frames: each frame's prompt parameter is the previous frame's target (w ← w_tgt, exactly), the target is batch SARSA of the frame's own trajectory, and each window starts where the last ended (s ← s_n)",
            provenance: Provenance::Reconstructed,
            kind: super::CheckKind::Equality,
            source: "[LL] Algorithm 1, arXiv:2605.05755",
            assumptions: &[],
            sz_degree: None,
            field: None,
            default_cases: 16,
            proof_page: "proofs/sarsa-local-convergence.md",
            formal: Formal::None("a bit-for-bit check of the training stream's bookkeeping, not a mathematical statement"),
            check: check_teacher_step,
            instance: None,
        },
    ]
}

static INVARIANT_ASSUMPTIONS: [Assumption; 1] = [Assumption {
    id: AssumptionId::P22V22Zero,
    statement: "the invariance claim is at P22 = 0 and V̄22 = 0 (the other zero-gradient claims hold for every P, V)",
    search: None,
    replay: None,
}];

static RICHNESS_ASSUMPTIONS: [Assumption; 1] = [Assumption {
    id: AssumptionId::RandomFeatures,
    statement: "features are i.i.d. Unif(-1,1), drawn afresh for each of the 64 training MDPs (one-hot features violate richness)",
    search: None,
    replay: None,
}];

const A_RICHNESS: Assumption = Assumption {
    id: AssumptionId::Richness,
    statement: "Assumption 1: the Gauss–Newton kernel at the construction is exactly the manifold tangent (random features, many MDPs)",
    search: Some(search_richness),
    replay: Some(replay_richness),
};
const A_NEAR: Assumption = Assumption {
    id: AssumptionId::NearManifold,
    statement: "the flow starts at (A⋆/c0, c0 B⋆) + a perturbation of entries ≤ 0.1, c0 ∈ ±[0.8, 1.25]",
    search: None,
    replay: None,
};
const A_INVARIANT_SET: Assumption = Assumption {
    id: AssumptionId::P22V22Zero,
    statement: "the flow runs on the invariant set P22 = V̄22 = 0 of Prop. 3.1 (reduced (A, B) form)",
    search: None,
    replay: None,
};
const A_GAP: Assumption = Assumption {
    id: AssumptionId::SpectralGap,
    statement: "λ⁺_2/λ⁺_1 ≥ 1.5 for the Gauss–Newton G at (A⋆/c0, c0 B⋆) (the generator redraws the training sample otherwise): with close eigenvalues the slope of ln L is still transient after 26 decades",
    search: Some(search_gap),
    replay: Some(replay_gap),
};

static CONVERGENCE_ASSUMPTIONS: [Assumption; 3] = [A_RICHNESS, A_NEAR, A_INVARIANT_SET];

static RATE_ASSUMPTIONS: [Assumption; 4] =
    [Assumption { search: None, replay: None, ..A_RICHNESS }, A_NEAR, A_INVARIANT_SET, A_GAP];

/// Preset of the invariant checks: `|S| = |A| = 2, d = 2, n = 4` (exact arithmetic on `D = 8`).
fn invariants_preset() -> StreamPreset {
    let mut p = StreamPreset::tiny();
    p.tab.d = 2;
    p.tab.n = 4;
    p.mdps = 1;
    p
}

fn dense_params(rng: &mut Rng, s: Shape, zero_22: bool) -> (Mat<f64>, Mat<f64>) {
    let dd = s.dim();
    let t = s.token();
    let mut p = Mat::from_fn(dd, dd, |_, _| rng.random_range(-1.0..1.0));
    let mut v = Mat::from_fn(dd, dd, |_, _| rng.random_range(-1.0..1.0));
    if zero_22 {
        for i in t..dd {
            for j in t..dd {
                p[(i, j)] = 0.0;
                if i > t {
                    v[(i, j)] = 0.0;
                }
            }
        }
    }
    (p, v)
}

/// A negative control: `holds` iff the perturbed construction was rejected. Its error is 0
/// when it holds and 1 when it does not (so `verify`'s max-error column stays about the claims).
fn negative_control(quantity: String, rejected: bool) -> Measurement {
    Measurement::negative_control(quantity, rejected)
}

/// Largest |gradient entry| on the Prop. 3.1 blocks, and on `P22`/`V̄22`.
fn invariant_maxima<T: Scalar>(s: Shape, g: &loss::FullGrad<T>) -> (f64, f64) {
    let mut m1: f64 = 0.0;
    for (which, i, j) in invariant_entries(s) {
        let x = if which == 'P' { g.grad_p[(i, j)].to_f64() } else { g.grad_v[(i, j)].to_f64() };
        m1 = m1.max(x.abs());
    }
    let (t, dd) = (s.token(), s.dim());
    let mut m2: f64 = 0.0;
    for i in t..dd {
        for j in t..dd {
            m2 = m2.max(g.grad_p[(i, j)].to_f64().abs());
            if i > t {
                m2 = m2.max(g.grad_v[(i, j)].to_f64().abs());
            }
        }
    }
    (m1, m2)
}

/// One case of the gradient checks: the frame, its prompt and a dense `(P, V)` on the invariant
/// set (off it under sabotage: one nonzero entry of `V̄22`, so `∇P22` becomes nonzero and the
/// reduction of Lemma C.1 no longer applies).
struct GradCase {
    s: Shape,
    d: usize,
    frame: stream::Frame,
    h: Mat<f64>,
    p: Mat<f64>,
    v: Mat<f64>,
}

fn grad_case(rng: &mut Rng, ctx: &CheckCtx) -> GradCase {
    let preset = invariants_preset();
    let d = preset.tab.d;
    let s = Shape::sarsa(d);
    let seed: u64 = rng.random();
    let frame = stream::Teacher::new(seed, 0, &preset).next_frame();
    let h = sarsa_prompt(&frame.batch, &frame.w);
    let (mut p, mut v) = dense_params(rng, s, true);
    if ctx.sabotage {
        v[(s.token() + 1, s.token() + 1)] = 0.5;
        p[(s.token() + 1, s.token() + 1)] = 0.5;
    }
    GradCase { s, d, frame, h, p, v }
}

/// `sarsa-gradient-invariants` [Q]: Prop. 3.1's zeros and the invariance, exactly and in `f64`,
/// with the negative control (off the invariant set `∇P22 ≠ 0`) beside them.
fn check_invariants(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let GradCase { s, d, frame, h, p, v, .. } = grad_case(rng, ctx);
    // The zeros are read on every entry Prop. 3.1 lists (an empty or short list would pass).
    let checked = invariant_entries(s).iter().collect::<std::collections::BTreeSet<_>>().len();
    let mut ms = Vec::new();
    if ctx.arith.wants(Arithmetic::F64) {
        ms.push(Measurement::equality(
            Arithmetic::F64,
            "entries read = 2t² + 2t(d+1) + t + d + 1 (Prop. 3.1's blocks, t = 2d+1)",
            (checked as f64 - crate::theorem::sarsa::prop31_entry_count(d) as f64).abs(),
            0.0,
        ));
    }
    if ctx.arith.wants(Arithmetic::Exact) {
        let tgt: Vec<BigRational> = frame.target.iter().map(|x| BigRational::from_f64(*x)).collect();
        let g = loss::full_loss_grad(&h.to_exact(), &p.to_exact(), &v.to_exact(), &tgt);
        let (m1, m2) = invariant_maxima(s, &g);
        ms.push(Measurement::exact("∇ on P11, P21, V11, V12, first rows of V21/V22", m1 == 0.0, m1));
        ms.push(Measurement::exact("∇ on P22, V̄22 at P22 = V̄22 = 0", m2 == 0.0, m2));
    }
    if ctx.arith.wants(Arithmetic::F64) {
        let g = loss::full_loss_grad(&h, &p, &v, &frame.target);
        let (m1, m2) = invariant_maxima(s, &g);
        // Structural zeros: products with exact zeros are exact in f64 too.
        ms.push(Measurement::equality(Arithmetic::F64, "∇ on P11, P21, V11, V12, first rows of V21/V22", m1, 0.0));
        ms.push(Measurement::equality(Arithmetic::F64, "∇ on P22, V̄22 at P22 = V̄22 = 0", m2, 0.0));
        // Negative control: off the invariant set the P22 gradient is nonzero (the check can fail).
        let mut v2 = v.clone();
        v2[(s.token() + 1, s.token() + 1)] += 0.5;
        let (_, m2off) = invariant_maxima(s, &loss::full_loss_grad(&h, &p, &v2, &frame.target));
        ms.push(negative_control(
            format!("negative control: V̄22 ≠ 0 makes ∇P22 nonzero (max |∇| = {m2off:.2e})"),
            m2off > 0.0,
        ));
    }
    CaseResult { measurements: ms, instance: None, sz_shape: None }
}

/// The central difference quotients `(L(θ + h e_i) − L(θ − h e_i)) / 2h` of the reduced loss
/// (Lemma C.1) and its analytic gradient at `θ`, in any scalar. The residual
/// `e_k = A Σ̂_k B w̃_k − y_k` is affine in each single coordinate of `θ = (A, B)` (every entry of
/// `A` or of `B` appears once in each product, and `Σ̂_k`, `w̃_k` do not depend on `θ`), so `L` is
/// a quadratic in each coordinate and the quotient is exactly `∂_i L(θ)` for every `h ≠ 0`: the
/// two agree exactly over the rationals, and on `ErrBound` within the two sides' bounds.
fn central_quotient_and_grad<T: Scalar>(pop: &Population<T>, th: &[T], h: &T) -> (Vec<T>, Vec<T>) {
    let mut grad = vec![T::zero(); th.len()];
    pop.loss_grad(th, &mut grad);
    let two_h = h.clone() + h;
    let mut x = th.to_vec();
    let quotients = (0..th.len())
        .map(|i| {
            x[i] = th[i].clone() + h;
            let up = pop.loss(&x);
            x[i] = th[i].clone() - h.clone();
            let down = pop.loss(&x);
            x[i] = th[i].clone();
            (up - down) / two_h.clone()
        })
        .collect();
    (quotients, grad)
}

/// The step `h` of [`central_quotient_and_grad`] in `sarsa-gradient-identities`. Any `h ≠ 0`
/// gives the exact derivative of a per-coordinate quadratic, so the step is not a trade-off
/// between truncation and rounding: a large one keeps the quotient's rounding (`≈ u|L|/h` in
/// `f64`) small, and a power of two makes the division exact; a loss with a cubic term in some
/// coordinate would show it as `h² ∂³L/6`.
const QUOTIENT_STEP: f64 = 0.25;

/// The reduced gradient with its `∇_B` part (`P12`) set to zero: a wrong formula.
fn drop_b_part<T: Scalar>(d: usize, s: Shape, g: &[T]) -> Vec<T> {
    let mut wrong = g.to_vec();
    wrong[d * s.token()..].iter_mut().for_each(|x| *x = T::zero());
    wrong
}

/// `sarsa-gradient-identities` [D]: generic = analytic loss (exactly), full = reduced
/// (Lemma C.1), reduced = the central difference quotient (exactly); each with a negative
/// control beside it.
fn check_gradient_identities(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let GradCase { s, d, frame, h, p, v, .. } = grad_case(rng, ctx);
    let mut ms = Vec::new();
    // Off the invariant set (V̄22 ≠ 0 and P22 ≠ 0: the cubic term of Lemma C.1 needs both) the
    // full gradient is not the reduced one: the negative control of full = reduced.
    let off_set = |p: &Mat<f64>, v: &Mat<f64>| {
        let (mut p2, mut v2) = (p.clone(), v.clone());
        v2[(s.token() + 1, s.token() + 1)] += 0.5;
        p2[(s.token() + 1, s.token() + 1)] += 0.5;
        (p2, v2)
    };
    // Full (dense P, V with P22 = V̄22 = 0) against reduced (Lemma C.1) on (A, B) = (V̄21, P12):
    // the loss and every reduced gradient entry, in any scalar. The reduced side reads the
    // frame's tokens itself (`Population`), the full side the prompt `H`.
    fn full_and_reduced<T: Scalar>(
        d: usize,
        frame: &stream::Frame,
        h: &Mat<f64>,
        p: &Mat<f64>,
        v: &Mat<f64>,
    ) -> (Vec<T>, Vec<T>) {
        let cv = |m: &Mat<f64>| m.map(|&x| T::from_f64(x));
        let tgt: Vec<T> = frame.target.iter().map(|&x| T::from_f64(x)).collect();
        let g = loss::full_loss_grad(&cv(h), &cv(p), &cv(v), &tgt);
        let pop = Population::<T>::from_frames_in(d, std::slice::from_ref(frame));
        let th = loss::reduce_in(d, &cv(p), &cv(v));
        let mut gr = vec![T::zero(); th.len()];
        let lr = pop.loss_grad(&th, &mut gr);
        let mut full = vec![g.loss.clone()];
        full.extend(loss::reduce_grad_in(d, &g));
        let mut reduced = vec![lr];
        reduced.extend(gr);
        (full, reduced)
    }
    if ctx.arith.wants(Arithmetic::Exact) {
        let he = h.to_exact();
        let tgt: Vec<BigRational> = frame.target.iter().map(|x| BigRational::from_f64(*x)).collect();
        let g = loss::full_loss_grad(&he, &p.to_exact(), &v.to_exact(), &tgt);
        let l = loss::full_loss(&he, &p.to_exact(), &v.to_exact(), &tgt);
        ms.push(Measurement::exact(
            "loss: generic forward pass = analytic form",
            l == g.loss,
            (l - g.loss.clone()).to_f64().abs(),
        ));
        // Lemma C.1 is a polynomial identity: over the rationals full = reduced exactly.
        // Equal as rationals (the printed error is the f64 of the largest difference).
        let exact_diff = |p: &Mat<f64>, v: &Mat<f64>| {
            let (a, b) = full_and_reduced::<BigRational>(d, &frame, &h, p, v);
            (a == b, a.iter().zip(&b).map(|(x, y)| (x.clone() - y.clone()).to_f64().abs()).fold(0.0, f64::max))
        };
        let (equal, e) = exact_diff(&p, &v);
        ms.push(Measurement::exact("full (generic forward) = reduced (Lemma C.1) loss and gradient", equal, e));
        let (p2, v2) = off_set(&p, &v);
        let (off_equal, off) = exact_diff(&p2, &v2);
        ms.push(negative_control(
            format!("negative control (exact): V̄22 ≠ 0 breaks full = reduced (error {off:.2e})"),
            !off_equal,
        ));
        // Reduced gradient = central difference quotient, exactly over the rationals: L is
        // quadratic in each coordinate, so the quotient is the partial derivative, with no
        // truncation term ([`central_quotient_and_grad`]). Equality is decided on the rationals
        // (a nonzero difference below f64's range would print as 0 but still fail).
        let th = loss::reduce_in::<BigRational>(d, &p.to_exact(), &v.to_exact());
        let pop = Population::<BigRational>::from_frames_in(d, std::slice::from_ref(&frame));
        let (fd, gr) = central_quotient_and_grad(&pop, &th, &BigRational::from_f64(QUOTIENT_STEP));
        let q_err = |g: &[BigRational]| {
            g.iter().zip(&fd).map(|(a, b)| (a.clone() - b.clone()).to_f64().abs()).fold(0.0, f64::max)
        };
        let e = q_err(&gr);
        ms.push(Measurement::exact(
            "reduced gradient = central difference quotient (exact: L is quadratic in each coordinate)",
            gr == fd,
            e,
        ));
        let wrong = drop_b_part(d, s, &gr);
        let bad = q_err(&wrong);
        ms.push(negative_control(
            format!("negative control (exact): dropping ∇_B breaks it (error {bad:.2e})"),
            wrong != fd,
        ));
    }
    if ctx.arith.wants(Arithmetic::F64) {
        // The same comparison on `ErrBound` (the `f64` values with a rigorous bound on their
        // distance to the exact ones, `proofs/README.md`): |x_full − x_red| ≤ e_full + e_red.
        let bounded = |p: &Mat<f64>, v: &Mat<f64>| {
            let (a, b) = full_and_reduced::<ErrBound>(d, &frame, &h, p, v);
            tolerance::bounded_cmp(&a, &b)
        };
        let c = bounded(&p, &v);
        ms.push(Measurement::equality(
            Arithmetic::F64,
            "full (generic forward) = reduced (Lemma C.1) loss and gradient",
            c.error,
            c.tolerance,
        ));
        let (p2, v2) = off_set(&p, &v);
        let off = bounded(&p2, &v2);
        ms.push(negative_control(
            format!(
                "negative control: V̄22 ≠ 0 breaks full = reduced (error {:.2e} beyond a bound of {:.2e})",
                off.error, off.tolerance
            ),
            !off.holds(),
        ));
        // The same on `ErrBound`: the points θ ± h e_i, the two losses, their difference and the
        // division by 2h each carry their bound, so the quotient encloses the exact quotient at
        // the exact points, which equals the exact partial derivative (no truncation term).
        let cv = |m: &Mat<f64>| m.map(|&x| ErrBound::exact(x));
        let th = loss::reduce_in::<ErrBound>(d, &cv(&p), &cv(&v));
        let pop = Population::<ErrBound>::from_frames_in(d, std::slice::from_ref(&frame));
        let (fd, gr) = central_quotient_and_grad(&pop, &th, &ErrBound::exact(QUOTIENT_STEP));
        let c = tolerance::bounded_cmp(&gr, &fd);
        ms.push(Measurement::equality(
            Arithmetic::F64,
            "reduced gradient = central difference quotient (L is quadratic in each coordinate)",
            c.error,
            c.tolerance,
        ));
        // Negative control: the gradient with the B-part dropped (a wrong formula) is rejected.
        let bad = tolerance::bounded_cmp(&drop_b_part(d, s, &gr), &fd);
        ms.push(negative_control(
            format!(
                "negative control: dropping ∇_B fails the difference quotient (error {:.2e} beyond a bound of {:.2e})",
                bad.error, bad.tolerance
            ),
            !bad.holds(),
        ));
    }
    CaseResult { measurements: ms, instance: None, sz_shape: None }
}

/// The richness check's training data: the tiny preset with a case seed.
fn richness_data(seed: u64, kind: FeatureKind) -> FlowData {
    let mut preset = StreamPreset::tiny();
    preset.features = kind;
    if kind == FeatureKind::OneHot {
        preset.tab.d = preset.tab.n_states * preset.tab.n_actions;
    }
    FlowData { preset, seed }
}

fn richness_measurements(label: &str, sp: &crate::dynamics::spectrum::Spectrum) -> Vec<Measurement> {
    let deficit = (sp.n_params - 1) as f64 - sp.rank as f64;
    vec![
        Measurement::equality(Arithmetic::F64, format!("{label}: #params - 1 - rank G⋆"), deficit.abs(), 0.0),
        Measurement::equality(
            Arithmetic::F64,
            format!("{label}: 1 - |cos(kernel, (-A⋆, B⋆))|"),
            1.0 - sp.kernel_cosine,
            1.0 - tolerance::KERNEL_COSINE_MIN,
        ),
        // A lower bound `λ⁺_min/λ_max > RANK_REL_TOL`, written as `threshold / value ≤ 1`.
        Measurement::bound(
            Arithmetic::F64,
            format!("{label}: rank threshold / (λ⁺_min(G⋆)/λ_max) (λ⁺_min = {:.3e})", sp.lambda_min_pos),
            tolerance::RANK_REL_TOL * sp.lambda_max / sp.lambda_min_pos,
            1.0,
        ),
    ]
}

fn check_richness(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let seed: u64 = rng.random();
    let mut ms = Vec::new();
    if !ctx.arith.wants(Arithmetic::F64) {
        return CaseResult::default();
    }
    let kind = if ctx.sabotage { FeatureKind::OneHot } else { FeatureKind::Random };
    let data = richness_data(seed, kind);
    let d = data.preset.tab.d;
    let pop = data.population();
    let ts = loss::theta_star(d, data.preset.tab.alpha, 1.0);
    let sp =
        crate::dynamics::spectrum::analyse(&pop.gauss_newton(&ts), &crate::dynamics::spectrum::tangent(d, &ts, 1.0));
    ms.extend(richness_measurements("random features", &sp));
    // Negative control: one-hot features must fail richness (rank deficit > 0).
    let oh = richness_data(seed, FeatureKind::OneHot);
    let dh = oh.preset.tab.d;
    let tsh = loss::theta_star(dh, oh.preset.tab.alpha, 1.0);
    let sph = crate::dynamics::spectrum::analyse(
        &oh.population().gauss_newton(&tsh),
        &crate::dynamics::spectrum::tangent(dh, &tsh, 1.0),
    );
    let extra = sph.zero_eigenvalues as f64 - 1.0;
    ms.push(negative_control(
        format!("negative control: one-hot features have extra zero eigenvalues ({extra})"),
        extra > 0.0,
    ));
    CaseResult { measurements: ms, instance: None, sz_shape: None }
}

/// The convergence checks' data and start: tiny preset, `c0 ∈ ±[0.8, 1.25]`, entries perturbed
/// by `≤ 0.1`. With `gap_min`, the training sample is redrawn until `λ⁺_2/λ⁺_1 ≥ gap_min` for
/// `G` at `(A⋆/c0, c0B⋆)` (assumption `spectral-gap`).
fn convergence_setup(rng: &mut Rng, gap_min: Option<f64>) -> (FlowData, Population, Vec<f64>) {
    let c0 = rng.random_range(0.8f64..1.25) * if rng.random::<bool>() { 1.0 } else { -1.0 };
    loop {
        let seed: u64 = rng.random();
        let data = FlowData { preset: StreamPreset::tiny(), seed };
        let pop = data.population();
        if gap_min.is_some_and(|g| !(gap_ratio(&pop, data.preset.tab.alpha, c0) >= g)) {
            continue;
        }
        let ts = loss::theta_star(data.preset.tab.d, data.preset.tab.alpha, c0);
        let th0 = experiment::perturbed_start(rng, &ts, START_PERTURBATION);
        return (data, pop, th0);
    }
}

/// `λ⁺_2/λ⁺_1` of the Gauss–Newton `G` at `(A⋆/c0, c0B⋆)` (eigenvalues above the rank threshold).
pub fn gap_ratio(pop: &Population, alpha: f64, c0: f64) -> f64 {
    let ts = loss::theta_star(pop.d, alpha, c0);
    let ev = crate::dynamics::spectrum::sorted_eigenvalues(&pop.gauss_newton(&ts));
    let (l1, l2) = crate::dynamics::spectrum::two_smallest_positive(&ev, tolerance::RANK_REL_TOL);
    l2 / l1
}

/// Entry size of the start perturbation (assumption `near-manifold`).
pub const START_PERTURBATION: f64 = 0.1;

fn convergence_report(rng: &mut Rng, sabotage: bool, gap_min: Option<f64>) -> experiment::FlowReport {
    let (data, pop, th0) = convergence_setup(rng, gap_min);
    let d = data.preset.tab.d;
    let alpha = data.preset.tab.alpha;
    let mut theta_ref = loss::theta_star(d, alpha, 1.0);
    if sabotage {
        theta_ref[0] += 0.05; // compare with a perturbed construction: the limit is off its manifold
    }
    experiment::run(&pop, &th0, alpha, &theta_ref, FlowStop::default())
}

fn check_convergence(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    if !ctx.arith.wants(Arithmetic::F64) {
        return CaseResult::default();
    }
    convergence_measurements(&convergence_report(rng, ctx.sabotage, None))
}

fn check_rate(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    if !ctx.arith.wants(Arithmetic::F64) {
        return CaseResult::default();
    }
    let r = convergence_report(rng, false, Some(tolerance::SPECTRAL_GAP_MIN));
    // Sabotage: the Gauss–Newton matrix scaled by 1.08 (the mutation the rate check must catch).
    rate_measurements(&r, if ctx.sabotage { 1.08 } else { 1.0 })
}

/// The Thm 3.2 [Q] measurements of one flow report: exponential decay, monotone, on the manifold.
pub fn convergence_measurements(r: &experiment::FlowReport) -> CaseResult {
    let f = Arithmetic::F64;
    let ratio = r.loss_end / r.loss_target;
    let ms = vec![
        Measurement::bound(
            f,
            "excess of L(T) over max(1e-26 L(0), 1e-31) (exponential decay reached)",
            (ratio - 1.0).max(0.0),
            tolerance::FLOW_TARGET_SLACK - 1.0,
        ),
        Measurement::bound(
            f,
            "max increase of ln L between steps (while L ≥ 1e-12 L(0))",
            r.max_log_increase.max(0.0),
            tolerance::FLOW_MONOTONE_TOL,
        ),
        Measurement::equality(f, "dist(limit, manifold)/‖limit‖", r.manifold_rel, tolerance::MANIFOLD_REL_TOL),
    ];
    CaseResult { measurements: ms, instance: None, sz_shape: None }
}

/// Relative error of the measured slope of `ln L` (least squares over its last
/// [`experiment::SLOPE_WINDOW_DECADES`] decades) against `-2λ⁺_1` of the finite-difference Hessian.
pub fn rate_error(r: &experiment::FlowReport) -> f64 {
    let pred = -2.0 * r.lambda_fd.0;
    match r.slope_raw {
        Some(s) if pred.is_finite() => ((s - pred) / pred).abs(),
        _ => f64::INFINITY,
    }
}

/// The [D] limit-and-rate measurements of one flow report. `g_scale` multiplies the
/// Gauss–Newton matrix before it is compared (1 in normal runs; the sabotage uses 1.08).
pub fn rate_measurements(r: &experiment::FlowReport, g_scale: f64) -> CaseResult {
    let f = Arithmetic::F64;
    let c_err = ((r.c_inf - r.c_pred) / r.c_pred).abs();
    let h = &r.hessian_fd;
    let hscale = h.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let gn_err =
        (&r.gauss_newton_limit * g_scale - h).iter().fold(0.0f64, |m, x| tolerance::worst(m, x.abs())) / hscale;
    // Negative control beside it: G scaled by 1.08 is rejected by the same comparison.
    let gn_bad = (&r.gauss_newton_limit * 1.08 - h).iter().fold(0.0f64, |m, x| m.max(x.abs())) / hscale;
    let ms = vec![
        Measurement::equality(
            f,
            "drift of ‖B‖² - ‖A‖² (relative)",
            r.conservation_drift,
            tolerance::CONSERVATION_REL_TOL,
        ),
        Measurement::equality(f, "|c∞ - c_pred|/|c_pred|", c_err, tolerance::C_INF_REL_TOL),
        Measurement::equality(
            f,
            "Gauss–Newton G at the limit vs finite-difference Hessian of L (max entry, relative)",
            gn_err,
            tolerance::FD_REL_TOL,
        ),
        negative_control(
            format!("negative control: 1.08·G is rejected by the Hessian comparison ({gn_bad:.2e})"),
            gn_bad > tolerance::FD_REL_TOL,
        ),
        Measurement::rate(
            f,
            "|slope of ln L (last 4 decades) + 2λ⁺_min(FD Hessian)| / 2λ⁺_min",
            rate_error(r),
            tolerance::SLOPE_REL_TOL,
        ),
    ];
    CaseResult { measurements: ms, instance: None, sz_shape: None }
}

// ---------------------------------------------------------------------------------------------
// Search: drop richness.

/// Relative distance to the manifold above which a zero-loss limit counts as "off" it.
pub const OFF_MANIFOLD_MIN: f64 = 1e-3;
/// Prompts of the rich distribution on which an off-manifold limit is evaluated.
pub const RICH_PROMPTS: usize = 64;
/// Seed offset of the rich evaluation distribution (independent of the training seed).
const RICH_SEED_TAG: u64 = 0x005e_ed0f_41c4;

/// A candidate of the relaxed search: training distribution and start.
#[derive(Clone, Debug)]
struct Candidate {
    data: FlowData,
    start_seed: u64,
}

/// The outcome of one relaxed run.
#[derive(Clone, Debug)]
pub struct RelaxedRun {
    /// Start point.
    pub theta0: Vec<f64>,
    /// Reached point.
    pub theta: Vec<f64>,
    /// `L(θ(0))` and `L(θ(T))`.
    pub loss0: f64,
    /// Final training loss.
    pub loss_end: f64,
    /// Relative distance of the limit to the manifold.
    pub manifold_rel: f64,
    /// Closest `c`.
    pub c: f64,
    /// Rank deficit of `G⋆` beyond the tangent (extra zero eigenvalues).
    pub extra_kernel: usize,
    /// Relative SARSA error of the limit on rich prompts.
    pub rich_error: f64,
}

/// Run the flow on `data` from the perturbed construction drawn from `start_seed`.
pub fn relaxed_run(data: &FlowData, start_seed: u64) -> RelaxedRun {
    let d = data.preset.tab.d;
    let alpha = data.preset.tab.alpha;
    let ts = loss::theta_star(d, alpha, 1.0);
    let mut rng = crate::rng::case_rng(start_seed, "dynamics/richness-start", 0);
    let th0 = experiment::perturbed_start(&mut rng, &ts, START_PERTURBATION);
    relaxed_run_from(data, th0)
}

fn relaxed_run_from(data: &FlowData, th0: Vec<f64>) -> RelaxedRun {
    let d = data.preset.tab.d;
    let alpha = data.preset.tab.alpha;
    let ts = loss::theta_star(d, alpha, 1.0);
    let pop = data.population();
    let stop = FlowStop { max_steps: 20_000, ..FlowStop::default() };
    let r = crate::dynamics::flow::gradient_flow(&pop, &th0, Default::default(), stop);
    let (c, dist) = crate::dynamics::flow::manifold_distance(d, &r.theta, &ts);
    let norm = r.theta.iter().map(|x| x * x).sum::<f64>().sqrt();
    let sp =
        crate::dynamics::spectrum::analyse(&pop.gauss_newton(&ts), &crate::dynamics::spectrum::tangent(d, &ts, 1.0));
    let rich_error = experiment::rich_error(&r.theta, d, &data.preset.tab, data.seed ^ RICH_SEED_TAG, RICH_PROMPTS);
    RelaxedRun {
        loss0: r.trace[0].1,
        loss_end: r.trace.last().map_or(f64::NAN, |x| x.1),
        manifold_rel: dist / norm,
        c,
        extra_kernel: sp.zero_eigenvalues.saturating_sub(1),
        rich_error,
        theta0: th0,
        theta: r.theta,
    }
}

/// Training loss counted as zero: `L(T) ≤ ZERO_LOSS_RATIO · L(0)`.
pub const ZERO_LOSS_RATIO: f64 = 1e-16;

/// The violation of one relaxed run: the rich-prompt SARSA error when the flow reached zero
/// training loss off the manifold, else `None`.
pub fn relaxed_violation(r: &RelaxedRun) -> Option<f64> {
    let zero = r.loss_end <= ZERO_LOSS_RATIO * r.loss0 || r.loss_end <= 1e-28;
    if zero && r.manifold_rel > OFF_MANIFOLD_MIN && r.rich_error > OFF_MANIFOLD_MIN {
        Some(r.rich_error)
    } else {
        None
    }
}

fn search_richness(args: &SearchArgs) -> Result<SearchOutcome, InputError> {
    use proptest::prelude::*;
    let strategy =
        (1usize..=3, 1usize..=2, 1usize..=3, 1usize..=8, 1usize..=4, 1usize..=3, any::<bool>(), 0u64..1000, 0u64..1000);
    let make = |v: &(usize, usize, usize, usize, usize, usize, bool, u64, u64)| -> Candidate {
        let &(ns, na, d, n, mdps, frames, onehot, seed, start_seed) = v;
        let mut preset = StreamPreset::tiny();
        preset.tab.n_states = ns;
        preset.tab.n_actions = na;
        preset.tab.n = n;
        preset.mdps = mdps;
        preset.frames = frames;
        // `false` (the shrink target) is one-hot: the cheaper, non-rich features.
        preset.features = if onehot { FeatureKind::Random } else { FeatureKind::OneHot };
        preset.tab.d = if onehot { d } else { ns * na };
        Candidate { data: FlowData { preset, seed }, start_seed }
    };
    let (found, tried, blocks) = crate::search::find_and_shrink(strategy, args, |v| {
        let c = make(v);
        relaxed_violation(&relaxed_run(&c.data, c.start_seed))
    });
    let Some((v, _)) = found else {
        return Ok(SearchOutcome { found: None, tried, report: vec![], blocks: Some(blocks) });
    };
    let cand = make(&v);
    let r = relaxed_run(&cand.data, cand.start_seed);
    let violation = relaxed_violation(&r).unwrap_or(0.0);
    let instance = counterexample_json(args, &cand, &r, violation);
    let t = &cand.data.preset;
    let summary = format!(
        "{} features, |S| = {}, |A| = {}, d = {}, n = {}, {} MDP(s) × {} frame(s): training loss {:.1e} → {:.1e}, limit off the manifold by {:.3} (relative), {} extra kernel direction(s), SARSA error on rich prompts {:.3} (relative)",
        if t.features == FeatureKind::OneHot { "one-hot" } else { "random" },
        t.tab.n_states, t.tab.n_actions, t.tab.d, t.tab.n, t.mdps, t.frames, r.loss0, r.loss_end, r.manifold_rel, r.extra_kernel, r.rich_error
    );
    Ok(SearchOutcome {
        found: Some(Counterexample { instance, violation, summary }),
        tried,
        // The count of instances tried is on the line `icrl search` prints after the report (a
        // shard knows only its own, `icrl merge` the total).
        report: vec!["shrunk to the training distribution below".into()],
        blocks: Some(blocks),
    })
}

fn mat_rows(v: &[f64], rows: usize, cols: usize) -> Vec<Vec<f64>> {
    (0..rows).map(|i| v[i * cols..(i + 1) * cols].to_vec()).collect()
}

fn counterexample_json(args: &SearchArgs, cand: &Candidate, r: &RelaxedRun, violation: f64) -> serde_json::Value {
    let t = &cand.data.preset;
    let d = t.tab.d;
    let tk = 2 * d + 1;
    // The instance part: the first training MDP and its first frame (a valid `sarsa` instance).
    let mut teacher = stream::Teacher::new(cand.data.seed, 0, t);
    let frame = teacher.next_frame();
    let params = serde_json::json!({ "alpha": t.tab.alpha, "w": frame.w });
    let mut v = crate::instance::to_json("sarsa", &teacher.mdp, &teacher.phi, &frame.traj, params);
    let (a0, b0) = loss::split(d, &r.theta0);
    let (a, b) = loss::split(d, &r.theta);
    v["training"] = cand.data.to_json();
    v["start"] = serde_json::json!({ "seed": cand.start_seed, "perturbation": START_PERTURBATION, "A": mat_rows(a0, d, tk), "B": mat_rows(b0, tk, d + 1) });
    v["reached"] = serde_json::json!({
        "A": mat_rows(a, d, tk), "B": mat_rows(b, tk, d + 1),
        "training_loss_start": r.loss0, "training_loss": r.loss_end,
        "manifold_distance_rel": r.manifold_rel, "closest_c": r.c, "extra_kernel_directions": r.extra_kernel,
    });
    v["rich"] = serde_json::json!({
        "distribution": "random tabular MDPs |S| = |A| = 2, random Unif(-1,1) features, same d, n, γ, α, ε",
        "prompts": RICH_PROMPTS, "seed": cand.data.seed ^ RICH_SEED_TAG, "sarsa_relative_error": r.rich_error,
    });
    let note = "gradient flow on a non-rich training distribution reached zero training loss off the scaling manifold; the reached (A, B) does not implement SARSA on rich prompts (violation = relative error there)";
    v["counterexample"] = crate::search::provenance_block(args, violation, note);
    v
}

fn read_mat(v: &serde_json::Value, path: &str, rows: usize, cols: usize) -> Result<Vec<f64>, InputError> {
    let m = crate::instance::vec2(v, path)?;
    if m.len() != rows {
        return Err(InputError::new(path, format!("has {} rows, expected {rows}", m.len())));
    }
    let mut out = Vec::with_capacity(rows * cols);
    for (i, r) in m.iter().enumerate() {
        if r.len() != cols {
            return Err(InputError::new(format!("{path}[{i}]"), format!("has {} entries, expected {cols}", r.len())));
        }
        out.extend_from_slice(r);
    }
    Ok(out)
}

/// Replay a saved richness counterexample: rebuild the training distribution, re-run the flow
/// from the stored start, check it reaches zero training loss off the manifold at the stored
/// point, and return the SARSA error of that point on rich prompts (0 if the recorded
/// behaviour is not reproduced).
fn replay_richness(v: &serde_json::Value) -> Result<f64, InputError> {
    let tr = v.get("training").ok_or_else(|| InputError::new("training", "missing"))?;
    let data = FlowData::from_json(tr, "training")?;
    let d = data.preset.tab.d;
    let tk = 2 * d + 1;
    let start = v.get("start").ok_or_else(|| InputError::new("start", "missing"))?;
    let mut th0 = read_mat(start.get("A").unwrap_or(&serde_json::Value::Null), "start.A", d, tk)?;
    th0.extend(read_mat(start.get("B").unwrap_or(&serde_json::Value::Null), "start.B", tk, d + 1)?);
    let reached = v.get("reached").ok_or_else(|| InputError::new("reached", "missing"))?;
    let mut th = read_mat(reached.get("A").unwrap_or(&serde_json::Value::Null), "reached.A", d, tk)?;
    th.extend(read_mat(reached.get("B").unwrap_or(&serde_json::Value::Null), "reached.B", tk, d + 1)?);
    let r = relaxed_run_from(&data, th0);
    let moved = r.theta.iter().zip(&th).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    if !(moved <= tolerance::REPLAY_POINT_TOL) {
        return Ok(0.0);
    }
    Ok(relaxed_violation(&r).unwrap_or(0.0))
}

/// The richness-relaxed flow on a given description (for tests and reports).
pub fn relaxed_run_on(data: &FlowData, start_seed: u64) -> RelaxedRun {
    relaxed_run(data, start_seed)
}

// ---------------------------------------------------------------------------------------------
// Search: drop the spectral gap.

/// RNG tag of the start of a spectral-gap candidate.
const GAP_START_TAG: &str = "dynamics/gap-start";

/// A spectral-gap candidate: the tiny preset's training sample `seed` and the start drawn from
/// `start_seed` (`c0` and the perturbation, as in `verify`).
fn gap_candidate(seed: u64, start_seed: u64) -> (FlowData, Population, f64, Vec<f64>) {
    let data = FlowData { preset: StreamPreset::tiny(), seed };
    let pop = data.population();
    let mut rng = crate::rng::case_rng(start_seed, GAP_START_TAG, 0);
    let c0 = rng.random_range(0.8f64..1.25) * if rng.random::<bool>() { 1.0 } else { -1.0 };
    let ts = loss::theta_star(data.preset.tab.d, data.preset.tab.alpha, c0);
    let th0 = experiment::perturbed_start(&mut rng, &ts, START_PERTURBATION);
    (data, pop, c0, th0)
}

/// The rate violation of a candidate: `None` when it satisfies the spectral gap (cheap, no
/// flow) or its slope is within [`tolerance::SLOPE_REL_TOL`]; else the relative slope error.
fn gap_violation(seed: u64, start_seed: u64) -> Option<(f64, f64, experiment::FlowReport)> {
    let (data, pop, c0, th0) = gap_candidate(seed, start_seed);
    let alpha = data.preset.tab.alpha;
    let ratio = gap_ratio(&pop, alpha, c0);
    if ratio >= tolerance::SPECTRAL_GAP_MIN {
        return None;
    }
    let ts = loss::theta_star(data.preset.tab.d, alpha, 1.0);
    let r = experiment::run(&pop, &th0, alpha, &ts, FlowStop::default());
    let err = rate_error(&r);
    (err > tolerance::SLOPE_REL_TOL).then_some((err, ratio, r))
}

fn search_gap(args: &SearchArgs) -> Result<SearchOutcome, InputError> {
    let strategy = (0u64..100_000, 0u64..100_000);
    let (found, tried, blocks) =
        crate::search::find_and_shrink(strategy, args, |&(seed, start)| gap_violation(seed, start).map(|x| x.0));
    let Some(((seed, start_seed), _)) = found else {
        return Ok(SearchOutcome { found: None, tried, report: vec![], blocks: Some(blocks) });
    };
    let Some((violation, ratio, r)) = gap_violation(seed, start_seed) else {
        return Ok(SearchOutcome {
            found: None,
            tried,
            report: vec!["the shrunk case did not reproduce".into()],
            blocks: Some(blocks),
        });
    };
    let data = FlowData { preset: StreamPreset::tiny(), seed };
    let mut teacher = stream::Teacher::new(seed, 0, &data.preset);
    let frame = teacher.next_frame();
    let params = serde_json::json!({ "alpha": data.preset.tab.alpha, "w": frame.w });
    let mut v = crate::instance::to_json("sarsa", &teacher.mdp, &teacher.phi, &frame.traj, params);
    v["training"] = data.to_json();
    v["start"] = serde_json::json!({ "seed": start_seed, "tag": GAP_START_TAG, "perturbation": START_PERTURBATION });
    v["measured"] = serde_json::json!({
        "gap_ratio_at_c0": ratio, "slope_ln_loss": r.slope_raw, "predicted_slope": -2.0 * r.lambda_fd.0,
        "lambda_fd": [r.lambda_fd.0, r.lambda_fd.1], "loss_start": r.loss0, "loss_end": r.loss_end,
    });
    let note = "with λ⁺_2/λ⁺_1 below the spectral-gap bound, the slope of ln L over the last 4 decades of a 26-decade flow is more than 10 % away from -2λ⁺_min (violation = relative slope error)";
    v["counterexample"] = crate::search::provenance_block(args, violation, note);
    let summary = format!(
        "training seed {seed}, start seed {start_seed}: λ⁺_2/λ⁺_1 = {ratio:.3} at c0; L {:.1e} → {:.1e}; slope of ln L {:.4e} vs predicted {:.4e} (relative error {violation:.3})",
        r.loss0,
        r.loss_end,
        r.slope_raw.unwrap_or(f64::NAN),
        -2.0 * r.lambda_fd.0
    );
    Ok(SearchOutcome {
        found: Some(Counterexample { instance: v, violation, summary }),
        tried,
        report: vec!["shrunk to the (training seed, start seed) pair below".into()],
        blocks: Some(blocks),
    })
}

/// Replay a saved spectral-gap counterexample: rebuild the training sample and start, check the
/// gap is below the bound, re-run the flow; returns the slope error (0 if within tolerance).
fn replay_gap(v: &serde_json::Value) -> Result<f64, InputError> {
    let tr = v.get("training").ok_or_else(|| InputError::new("training", "missing"))?;
    let data = FlowData::from_json(tr, "training")?;
    if data.preset != StreamPreset::tiny() {
        return Err(InputError::new("training", "a spectral-gap counterexample uses the tiny preset"));
    }
    let start = v
        .get("start")
        .and_then(|s| s.get("seed"))
        .and_then(|s| s.as_u64())
        .ok_or_else(|| InputError::new("start.seed", "missing or not a nonnegative integer"))?;
    Ok(gap_violation(data.seed, start).map_or(0.0, |x| x.0))
}

// ---------------------------------------------------------------------------------------------
// The teacher step of Algorithm 1 over several frames.

/// MDPs × frames of the teacher-step check (the tiny preset of the flow checks has one frame
/// per MDP, so its teacher never steps).
pub const TEACHER_MDPS: usize = 4;
/// Frames per MDP of the teacher-step check.
pub const TEACHER_FRAMES: usize = 6;

/// Batch SARSA written from a frame's raw trajectory and the MDP's features, never through
/// `TransitionBatch`: `w + (α/n) Σ_i (r_{i+1} + γ φ(s_{i+1},a_{i+1})ᵀw - φ(s_i,a_i)ᵀw) φ(s_i,a_i)`.
/// Generic so that the check runs it on [`ErrBound`] (its value with a rigorous rounding bound).
fn sarsa_from_trajectory<T: Scalar>(
    t: &stream::Teacher,
    tr: &crate::mdp::rollout::Trajectory,
    w: &[T],
    alpha: &T,
) -> Vec<T> {
    let n = tr.rewards.len();
    let gamma = T::from_f64(t.mdp.gamma());
    let dot = |s: usize, a: usize| {
        t.phi.phi(s, a).iter().zip(w).fold(T::zero(), |mut acc, (x, y)| {
            acc.add_mul(&T::from_f64(*x), y);
            acc
        })
    };
    let step = alpha.clone() / T::from_ratio(n as i64, 1);
    let mut out = w.to_vec();
    for i in 0..n {
        let (s, a, s2, a2) = (tr.states[i], tr.actions[i], tr.states[i + 1], tr.actions[i + 1]);
        let delta = T::from_f64(tr.rewards[i]) + gamma.clone() * dot(s2, a2) - dot(s, a);
        let coef = step.clone() * &delta;
        for (o, x) in out.iter_mut().zip(t.phi.phi(s, a)) {
            o.add_mul(&coef, &T::from_f64(*x));
        }
    }
    out
}

/// `sarsa-teacher-step` [R]: over several frames, each frame's prompt parameter is the previous
/// frame's target (`w ← w_tgt`), the target is batch SARSA of the frame's own trajectory, and the
/// window continues where the last one ended (`s ← s_n`). Negative control beside it: frames
/// drawn without the teacher step (`Teacher::frame_at` with a fixed `w`) fail the first equality.
fn check_teacher_step(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let preset = StreamPreset { mdps: TEACHER_MDPS, frames: TEACHER_FRAMES, ..StreamPreset::tiny() };
    let alpha = preset.tab.alpha;
    let seed: u64 = rng.random();
    let f = Arithmetic::F64;
    let (mut step_err, mut breaks, mut ctrl_err) = (0.0f64, 0usize, 0.0f64);
    // The worst `bounded_cmp` over the frames (largest error ÷ bound; a failing one sticks),
    // and the count of target entries the bound's re-run does not reproduce bit for bit.
    let (mut sarsa_cmp, mut target_bits): (Option<(f64, f64, f64)>, usize) = (None, 0);
    let (mut bound_seen, mut frames) = (0usize, 0usize); // frames where the negative control below shows
    for k in 0..TEACHER_MDPS as u64 {
        let mut t = stream::Teacher::new(seed, k, &preset);
        let mut prev: Option<stream::Frame> = None;
        for j in 0..TEACHER_FRAMES {
            // Sabotage: frame 2 is drawn without the teacher step.
            let fr = if ctx.sabotage && j == 2 { t.frame_at(&t.w.clone()) } else { t.next_frame() };
            // Both sides on `ErrBound`: the check's own reading of the trajectory, and the
            // stream's batch SARSA re-run on its own batch, whose values must be the stream's
            // target bit for bit (so its bound covers the stream's rounding); then
            // `|mine − target| ≤ e_mine + e_target` entrywise (`tolerance::bounded_cmp`).
            let (w_b, alpha_b): (Vec<ErrBound>, _) =
                (fr.w.iter().map(|&x| ErrBound::exact(x)).collect(), ErrBound::exact(alpha));
            let mine = sarsa_from_trajectory(&t, &fr.traj, &w_b, &alpha_b);
            let theirs = crate::rl::sarsa::batch_sarsa(&fr.batch.convert::<ErrBound>(), &w_b, &alpha_b);
            target_bits += theirs.iter().zip(&fr.target).filter(|(a, b)| a.x.to_bits() != b.to_bits()).count()
                + theirs.len().abs_diff(fr.target.len());
            let theirs: Vec<ErrBound> =
                theirs.iter().zip(&fr.target).map(|(a, b)| ErrBound { x: *b, e: a.e }).collect();
            let c = tolerance::bounded_cmp(&mine, &theirs);
            let (ratio, e, tol) = match c.holds() {
                true if c.error == 0.0 => (0.0, c.error, c.tolerance),
                true => (c.error / c.tolerance, c.error, c.tolerance),
                // A failing entry shows its error and bound; an overflowed or NaN one fails as 0 < e.
                false if c.error > c.tolerance => (f64::INFINITY, c.error, c.tolerance),
                false => (f64::INFINITY, c.error.max(f64::MIN_POSITIVE), 0.0),
            };
            if sarsa_cmp.map_or(true, |(r0, _, _)| ratio > r0) {
                sarsa_cmp = Some((ratio, e, tol));
            }
            // Negative control of the bound: α off by 1e-9 (relative) on the check's side exceeds
            // it (not in every frame: an update near 0 hides any change of α).
            let off = sarsa_from_trajectory(&t, &fr.traj, &w_b, &ErrBound::exact(alpha * (1.0 + 1e-9)));
            bound_seen += usize::from(!tolerance::bounded_cmp(&off, &theirs).holds());
            frames += 1;
            if let Some(p) = &prev {
                let e = p.target.iter().zip(&fr.w).map(|(a, b)| (a - b).abs()).fold(0.0, tolerance::worst);
                step_err = tolerance::worst(step_err, e);
                breaks += usize::from(p.traj.states.last() != fr.traj.states.first());
            }
            prev = Some(fr);
        }
        // Negative control: without the teacher step the parameter never moves to the target.
        let mut u = stream::Teacher::new(seed, k, &preset);
        let w0 = u.w.clone();
        let a = u.frame_at(&w0);
        let b = u.frame_at(&w0);
        ctrl_err = ctrl_err.max(a.target.iter().zip(&b.w).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max));
    }
    let ms = vec![
        // The stream copies the target into the next prompt: bit-identical.
        Measurement::equality(f, "w of frame t+1 = target of frame t (w ← w_tgt), max |difference|", step_err, 0.0),
        negative_control(
            format!("negative control: frames without the teacher step differ ({ctrl_err:.2e})"),
            ctrl_err > 0.0,
        ),
        Measurement::equality(
            f,
            "target = batch SARSA of the frame's own trajectory (written from the raw transitions; rigorous rounding bound)",
            sarsa_cmp.map_or(f64::INFINITY, |c| c.1),
            sarsa_cmp.map_or(0.0, |c| c.2),
        ),
        negative_control(
            format!("negative control: alpha off by 1e-9 exceeds the rounding bound (in {bound_seen} of {frames} frames)"),
            bound_seen > 0,
        ),
        Measurement::equality(
            f,
            "the bound's re-run of batch SARSA reproduces the stream's target bit for bit (entries differing)",
            target_bits as f64,
            0.0,
        ),
        Measurement::equality(f, "windows that do not start where the last ended (s ← s_n)", breaks as f64, 0.0),
    ];
    CaseResult { measurements: ms, instance: None, sz_shape: None }
}
