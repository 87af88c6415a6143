//! Every floating-point tolerance of the project, each with its reason (like
//! `statrs/src/prec.rs`). Exact checks have none: their tolerance is 0.
//!
//! The `f64` equalities of `verify` and `check` for the linear-attention families and for
//! `softmax-td-equivalence`, `softmax-td-single-head`, `softmax-td-state-space` and
//! `contraction-pathwise` use no estimate: [`bounded_cmp`] compares against error bounds
//! propagated through the computation (`crate::scalar::errbound`; for the softmax families with
//! `exp` under a stated `libm` error model). The estimates below serve the rest (the other
//! softmax and contraction rows, the bench fast paths, property tests).
//!
//! An estimated `f64` linear-attention tolerance compares two different evaluation orders of the
//! same polynomial. With entries bounded by `B` and `k` accumulated products, the forward error of
//! each side is at most about `k · u · (scale of the terms)` with `u = 2^-53 ≈ 1.1e-16`.
//! We compare relative to the magnitude of the terms that were summed (not the result, which
//! may cancel), so the tolerances below are `c · k · u` with a safety factor `c`.

/// Unit roundoff of `f64`.
pub const UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;

/// The rigorous `f64` comparison of the linear-attention equalities (`verify` and `check` of
/// `sarsa-*`, `actor-critic-equivalence`, `linear-td*`, `linear-td-average-reward`) and of the
/// softmax equalities (`softmax-td-equivalence`, `-single-head`, `-state-space`, the identity
/// of `contraction-pathwise`): both sides
/// ran on [`crate::scalar::errbound::ErrBound`], so entry `i` of each side carries a bound
/// `e ≥ |x − x̂|` on its distance to the exact value of the same computation (derivation in
/// that module and in `proofs/README.md`, "Rigorous f64 bounds"). Where the theorem holds,
/// `x̂_T = x̂_R`, hence `|x_T − x_R| ≤ e_T + e_R`: entry `i` holds iff that inequality does. No
/// safety factor, no magnitude estimate: valid at every scale and depth, so an `f64` failure
/// is a failure of the claim (or a bug), never rounding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoundedCmp {
    /// `|x_T − x_R|` of the entry closest to (or furthest past) its bound (largest ratio).
    pub error: f64,
    /// That entry's `e_T + e_R` (rounded up). `NaN` when some bound overflowed: nothing is
    /// certified, `error ≤ tolerance` fails and `icrl check` refuses the input as an overflow.
    pub tolerance: f64,
    /// The first entry with `|x_T − x_R| > e_T + e_R` (or a NaN).
    pub first_violation: Option<usize>,
    /// Some bound is not finite (the values may still be).
    pub overflow: bool,
}

impl BoundedCmp {
    /// Whether every entry is within its bound.
    pub fn holds(&self) -> bool {
        self.error <= self.tolerance && self.first_violation.is_none() && !self.overflow
    }
}

/// Compare two sides entrywise against their error bounds ([`BoundedCmp`]). The difference is
/// rounded to nearest and the bound's sum upward, which keeps the implication
/// "exact equality ⇒ holds" (rounding is monotone). Sides of different lengths fail.
pub fn bounded_cmp(tf: &[crate::scalar::errbound::ErrBound], rf: &[crate::scalar::errbound::ErrBound]) -> BoundedCmp {
    use crate::scalar::errbound::add_up;
    if tf.len() != rf.len() {
        return BoundedCmp { error: f64::INFINITY, tolerance: 0.0, first_violation: Some(0), overflow: false };
    }
    let mut best = BoundedCmp { error: 0.0, tolerance: 0.0, first_violation: None, overflow: false };
    let mut best_ratio = -1.0;
    for (i, (a, b)) in tf.iter().zip(rf).enumerate() {
        let d = (a.x - b.x).abs();
        let bound = add_up(a.e, b.e);
        if !bound.is_finite() {
            best.overflow = true;
            continue;
        }
        let ratio = if d == 0.0 { 0.0 } else { d / bound }; // d/0 = inf; NaN stays NaN
        if !(d <= bound) && best.first_violation.is_none() {
            best.first_violation = Some(i);
        }
        if ratio.is_nan() || ratio > best_ratio || (ratio == best_ratio && d > best.error) {
            if best_ratio.is_nan() {
                continue;
            }
            best_ratio = ratio;
            best.error = d;
            best.tolerance = bound;
        }
    }
    if best.overflow {
        best.error = f64::INFINITY;
        best.tolerance = f64::NAN;
    }
    best
}

/// `‖a − b‖_∞` on bounded values: every difference and `|·|` carries its bound, and the maximum
/// the largest of them ([`Transcendental::max_val`](crate::scalar::errbound::Transcendental::max_val)).
pub fn sup_dist_bounded(
    a: &[crate::scalar::errbound::ErrBound],
    b: &[crate::scalar::errbound::ErrBound],
) -> crate::scalar::errbound::ErrBound {
    use crate::scalar::errbound::{ErrBound, Transcendental};
    use crate::scalar::Scalar;
    a.iter().zip(b).map(|(p, q)| (*p - *q).abs_val()).fold(ErrBound::exact(0.0), ErrBound::max_val)
}

/// Relative tolerance for comparing two evaluations of a polynomial identity in `f64` that
/// accumulate `ops` rounded operations each: `64 · ops · u`. The factor 64 covers the two
/// sides' independent error (×2), error growth in the cubic attention term (three chained
/// products, ×4) and slack for accumulation order (×8); it still sits ~10 orders of magnitude
/// below the smallest perturbation the negative controls introduce (relative 1e-3).
pub fn poly_rel_tol(ops: usize) -> f64 {
    64.0 * ops as f64 * UNIT_ROUNDOFF
}

/// `f64` comparison of `a` and `b` whose computation summed terms of magnitude up to `scale`:
/// returns the scaled error `|a-b| / max(scale, 1)`.
pub fn scaled_err(a: f64, b: f64, scale: f64) -> f64 {
    (a - b).abs() / scale.max(1.0)
}

/// Central finite difference of a smooth function `f` with step `h`: truncation error at most
/// `h²/6 · max|f'''|` and rounding error at most `2 u max|f| / (2h)`. For `log π_λ` with
/// features bounded by `phi_max`, `|∂³ log π| ≤ 2 phi_max³` (a cumulant of a bounded variable),
/// and `|log π_λ| ≤ log_max`. Doubled for slack.
pub fn fd_score_tol(h: f64, phi_max: f64, log_max: f64) -> f64 {
    2.0 * (h * h / 6.0 * 2.0 * phi_max.powi(3) + 2.0 * UNIT_ROUNDOFF * log_max / h)
}

/// Step of the central differences of `log π_λ` in `actor-critic-score`: `1e-4` balances the
/// two terms of [`fd_score_tol`] for `phi_max = 1` and `log_max` up to ~10 (truncation
/// `≈ 7e-9`, rounding `≈ 4e-11`), so the tolerance stays below 1e-8.
pub const SCORE_FD_STEP: f64 = 1e-4;

/// Estimated relative tolerance of a softmax-TD comparison on `|a - b| / scale` with `scale`
/// the largest `|v_l(s)|` (at least 1). `verify` and `check` no longer use it for the softmax
/// equalities (they compare rigorous bounds, [`bounded_cmp`]); it judges only the plain-`f64`
/// bench fast path (`icrl bench --which softmax-td`, "bare comparison").
///
/// Reason: per layer each side accumulates about `n + d + 3` rounded operations per entry
/// (the score dot products, the `exp`/normalization of `n` sources, the `n`-term attention
/// sum), and the two sides round the scores differently (`⟨√β x, √β x'⟩` vs `β⟨x, x'⟩`): a
/// score of magnitude up to `g_max = β max_s ‖x(s)‖²` carries an absolute error of about
/// `(d+1) u g_max`, which becomes a *relative* error of the same size in every kernel weight.
/// Errors add across `L` layers (amplification by the iteration is at most the growth of
/// the iterates themselves, which `scale` absorbs). Safety factor 64. At the extreme of the
/// default draws (`n = 64, d = 8, L = 50, β = 10³`) this is about `10⁻⁷`, still four orders
/// below the relative `10⁻²` perturbation of the negative controls.
pub fn softmax_td_rel_tol(n: usize, d: usize, layers: usize, g_max: f64) -> f64 {
    64.0 * layers.max(1) as f64 * UNIT_ROUNDOFF * ((n + d + 3) as f64 + 4.0 * (d + 1) as f64 * g_max.max(1.0))
}

/// Estimated slack of a sum of `terms` terms of one scale, rounded once per term, relative to
/// that scale; factor 64 as above. `contraction-pathwise` no longer uses it (its inequalities
/// are judged on the rigorous ends of `ErrBound`s); it remains for `contraction-unvisited`,
/// `contraction-decay-rate`'s row-norm bound and the finite-difference floors of
/// `softmax-td-small-temperature`.
pub fn pathwise_slack(terms: usize) -> f64 {
    64.0 * terms.max(1) as f64 * UNIT_ROUNDOFF
}

/// Absolute tolerance on fitted log-log or log-linear slopes of limit rates
/// (`softmax-td-tabular-limit`, `softmax-td-small-temperature`): the next term of the
/// expansion changes the local slope by `O(e^{-β})` resp. `O(h²)`, which at the sampled
/// points is below a few percent; 0.15 leaves room for that curvature and nothing else
/// (a wrong order of convergence moves the slope by at least 1).
pub const LIMIT_SLOPE_TOL: f64 = 0.15;

/// Slack on the measured per-layer decay factor in `contraction-decay`, as used by the
/// `icrl report decay` table's "≤ 1 - C" column only. It was justified by a fit over at least 5
/// layers, but the stretch is 3 layers in 14 of the 32 default cases; `verify` now uses
/// [`decay_fit_slack`], which derives the slack from the stretch actually fitted.
pub const DECAY_FACTOR_SLACK: f64 = 0.02;

/// Relative slack of the fitted decay factor of `contraction-decay` over a stretch of `m`
/// layers where `e_l ≥ k e_∞` ([`crate::theorem::contraction::fit_decay_stretch`]).
///
/// With `e_l = ‖T^l x + (v_∞ - v_π)‖` and `a_l = ‖T^l x‖`: `|e_l - a_l| ≤ e_∞`, so on the stretch
/// `a_l ≥ (k-1) e_∞` and `|ln e_l - ln a_l| ≤ B = ln((k-1)/(k-2))` (`k = 10`: 0.118; `k = 3`:
/// ln 2; the one-layer fallback is treated as `k = 3`). A least-squares slope over `x = 0..m`
/// moves by at most `B · w_m`, `w_m = Σ|x - x̄| / Σ(x - x̄)²` (`m = 3`: 1; `m = 5`: 0.6; a
/// single ratio `e_1/e_0`: 2). The fitted factor `f` is thus consistent with any true factor
/// down to `f e^{-B w_m}`: the claim `≤ 1 - C` is refuted only when `f - (1 - C) > f (1 - e^{-B w_m})`;
/// this returns `1 - e^{-B w_m}`.
pub fn decay_fit_slack(m: usize, k: f64) -> f64 {
    let b = if k >= 10.0 { (9.0f64 / 8.0).ln() } else { 2.0f64.ln() };
    let pts = m.max(2);
    let mean = (pts - 1) as f64 / 2.0;
    let (abs, sq) = (0..pts).fold((0.0, 0.0), |(a, q), x| (a + (x as f64 - mean).abs(), q + (x as f64 - mean).powi(2)));
    1.0 - (-b * abs / sq).exp()
}

/// Absolute rounding slack (relative to `max(1, ‖v_∞‖_∞)`) of `‖v_L - v_∞‖ ≤ ρ̂^L ‖v_0 - v_∞‖`
/// in `contraction-decay-rate`: each computed step rounds a sum of `2|S| + 2` terms of that
/// scale, an error `η ≈ (2|S|+2) u` that the iteration damps by `ρ̂` (so it accumulates to at
/// most `η · min(L, 1/(1-ρ̂))`, bounded here by `η L`); the LU solve for `v_∞` adds about
/// `κ |S| u` with `κ ≤ (1+γ)/(1-ρ̂) ≤ 2/(1-ρ̂)`. Factor 32 for slack, as elsewhere; `1 - ρ̂` is
/// floored at `1e-3` (Assumption 5.1 keeps `ρ̂` well below 1 in the decay generator).
pub fn fixed_point_slack(ns: usize, rho: f64, layers: usize) -> f64 {
    let gap = (1.0 - rho).max(1e-3);
    32.0 * UNIT_ROUNDOFF * ((2 * ns + 2) as f64 * layers as f64 + 2.0 * ns as f64 / gap + 1.0)
}

/// Spec `contraction.md` check 5: the fitted log-log slope of the median floor against `n`.
/// `docs/theory/contraction.md` check 5: the fitted log-log slope of the median floor against `n`.
pub const FLOOR_SLOPE_RANGE: (f64, f64) = (-0.65, -0.35);

/// NaN-propagating maximum for accumulating errors: `f64::max` silently drops a NaN, which
/// would let a NaN output pass a check (`Measurement::equality` fails on NaN only if the NaN
/// reaches it).
pub fn worst(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Relative local-error tolerance of the Dormand–Prince gradient-flow integrator. The flow is
/// stiff near the manifold (`λ_max/λ⁺_min` up to ~1e4), so the step is mostly stability-limited.
/// The tolerance also sets the floor of the reachable loss (a state error `ε` per step keeps
/// `L ≳ λ ε²`): `1e-11` stalled `L` at ~1e-25, too early for the asymptotic slope (see
/// [`FLOW_LOSS_RATIO`]); `1e-13` reaches `1e-28` and keeps the conservation drift ~1e-14.
pub const FLOW_RTOL: f64 = 1e-13;
/// Absolute local-error tolerance of the integrator (parameters are O(0.1–1); this only
/// matters for entries that pass through 0).
pub const FLOW_ATOL: f64 = 1e-16;
/// Eigenvalues of the Gauss–Newton matrix at or below `RANK_REL_TOL · λ_max` count as zero.
/// Structural zeros (the manifold tangent, one-hot degeneracy) come out at ~1e-16 relative
/// (rounding of a sum of `N` rank-`d` products); the smallest genuine eigenvalue with random
/// features at our sizes is ≥ 1e-6 relative: the threshold sits between with 3+ decades each side.
pub const RANK_REL_TOL: f64 = 1e-10;
/// Richness: the kernel eigenvector's `|cos|` with `(-A⋆, B⋆)` (`docs/theory/gradient-flow.md`).
pub const KERNEL_COSINE_MIN: f64 = 0.999;
/// Thm 3.2: limit distance to the scaling manifold, relative to `‖θ∞‖` (spec).
pub const MANIFOLD_REL_TOL: f64 = 1e-6;
/// Thm 3.2: relative drift of `‖B‖² - ‖A‖²` over the run, relative to `‖B‖² + ‖A‖²` (spec).
pub const CONSERVATION_REL_TOL: f64 = 1e-8;
/// Thm 3.2: `|c∞ - c_pred| / |c_pred|`. Both sides are determined to ~`√(L_end)/λ⁺_min` by the
/// remaining distance to the manifold; `1e-6` matches [`MANIFOLD_REL_TOL`].
pub const C_INF_REL_TOL: f64 = 1e-6;
/// Thm 3.2 (our rate [D]): the measured slope of `log L` (least squares over its last 4 decades)
/// within 10 % of `-2λ⁺_min` (the spec's figure), `λ⁺_min` of the finite-difference Hessian at
/// the limit. It holds only with a spectral gap ([`SPECTRAL_GAP_MIN`]): the slope is biased by
/// `Σ_i (λ_i/λ_1 - 1) f_i(t)` (`f_i` the share of `L` in mode `i`), which decays only like
/// `exp(-2(λ_2 - λ_1)t)`.
pub const SLOPE_REL_TOL: f64 = 0.10;
/// Assumption `spectral-gap` of `sarsa-local-convergence-rate`: `λ⁺_2/λ⁺_1 ≥ 1.5` for `G` at
/// `(A⋆/c0, c0B⋆)`. Measured (seeds 7 and 11 before this bound existed): the slope of `ln L` was
/// more than 10 % off in 2 of 80 cases; the one documented had close eigenvalues (ratio 1.30 at
/// seed 7, case 14). With the bound enforced, 40 cases at seed 7 have relative error ≤ 6.7e-4.
/// `icrl search --theorem sarsa-local-convergence-rate --relax spectral-gap` looks for a violation.
pub const SPECTRAL_GAP_MIN: f64 = 1.5;
/// Eigenvalues of the finite-difference Hessian at or below `1e-6 · λ_max` count as zero (the
/// manifold tangent). Its entries carry an absolute error of about `h²/6 · |g'''| + u S / h`
/// (`h = FD_STEP`, the gradient a cubic with O(1) coefficients, `S` the summed terms): ~1e-10,
/// which by Weyl moves the zero eigenvalue by at most `#params · 1e-10 ≈ 5e-9`; the genuine
/// `λ⁺_min/λ_max` of the tiny preset is ~1e-3 (see `RANK_REL_TOL`).
pub const FD_HESSIAN_ZERO_REL: f64 = 1e-6;
/// Gradients against central finite differences with step `h = 1e-5` on O(1) losses: the
/// truncation error is `O(h²·L''') ≈ 1e-10` and rounding `O(u/h) ≈ 1e-11`; `1e-6` relative to
/// the gradient's scale leaves 4 decades of margin and still rejects any wrong term.
pub const FD_REL_TOL: f64 = 1e-6;
/// Central-difference step for gradient checks (`≈ u^{1/3}` scaled for O(1) parameters).
pub const FD_STEP: f64 = 1e-5;
/// The two central-difference steps that check the hand-written gradient of the softmax
/// transformer's readout in the [R] NEU probe (`report::neu::readout_grad`, `tests/all/neu.rs`),
/// compared with [`FD_REL_TOL`] relative to `max(1, max |∇v̂|)`. The readout is O(1) (≤ 3.1 at
/// the points tested) and smooth, so the reasons of [`FD_REL_TOL`] apply: measured worst
/// errors (d = 3, n = 20, L = 3, 324 parameters) are 1e-10 at `h = 1e-5` (rounding, `≈ u/h`)
/// and 9e-10 at `h = 1e-4` (truncation, `∝ h²`: 9e-8 at `h = 1e-3`). Two steps a decade apart
/// that both agree rule out an agreement by cancellation at one step.
pub const NEU_FD_STEPS: [f64; 2] = [FD_STEP, 10.0 * FD_STEP];
/// Thm 3.2 "exponential decay": the flow must bring `L` down by 26 decades
/// (`L(T) ≤ max(1e-26 · L(0), FLOW_LOSS_FLOOR)`) within the step budget, so a sub-exponential
/// decay fails. 26 decades (not 20) because the asymptotic slope is fitted over the last 4: when
/// the two smallest positive eigenvalues of `G` are close (seen: ratio 1.3) and the slowest
/// mode is weakly excited, after 20 decades the fitted slope was still 19 % away from
/// `-2λ⁺_min` (seed 7, case 14), i.e. not yet asymptotic.
pub const FLOW_LOSS_RATIO: f64 = 1e-26;
/// Rounding floor of the loss: `θ` carries relative rounding ~1e-16, so `L` cannot be resolved
/// much below `λ_max · 1e-32`; with `L(0) ≈ 1e-3` the ratio target sits above it.
pub const FLOW_LOSS_FLOOR: f64 = 1e-31;
/// The check compares `L(T)` with its target `max(FLOW_LOSS_RATIO · L(0), FLOW_LOSS_FLOOR)` as
/// `L(T)/target ≤ 1 + 1e-6`: the integrator stops at the first step at or below the target, and
/// recomputing the ratio may round one ulp above it; a flow that runs out of steps misses by decades.
pub const FLOW_TARGET_SLACK: f64 = 1.0 + 1e-6;
/// Gradient flow never increases `L`; the integrator's local error (rtol `1e-13`) may add a
/// relative wobble far below this: allow `ln L` to rise by 1e-6 per step, checked while
/// `L ≥ FLOW_MONOTONE_FROM · L(0)`.
pub const FLOW_MONOTONE_TOL: f64 = 1e-6;
/// Below `1e-12 · L(0)` the computed `L` is dominated by cancellation in `e = AΣ̂Bw̃ - y`
/// (`|y| ~ 0.3`, rounding of `e` ~ 1e-16 absolute, i.e. relative ~1e-6 at `L ≈ 1e-20` and
/// ~1e-3 at `L ≈ 1e-28`): monotonicity is checked above it.
pub const FLOW_MONOTONE_FROM: f64 = 1e-12;
/// A replayed gradient flow (same code, same input) must reach the stored point to within
/// `1e-9` per entry (run-to-run differences come only from a different libm/FMA contraction).
pub const REPLAY_POINT_TOL: f64 = 1e-9;

/// `icrl probe` on a construction perturbed entrywise by `|ε| ≤ PROBE_EPS` (issue 8's
/// acceptance test): `ĉ = ⟨P12, B⋆⟩/‖B⋆‖²` moves by at most `ε · √(#P12 entries) / ‖B⋆‖ ≤ ε √(d+1)`
/// absolute, `β̂` by `ε √(2d+1)/√d`, so `ĉ, α̂` move relatively by `≲ 10 ε (1 + 1/|c| + |c|/|α|)`
/// for the `d ≤ 4`, `|c|, |α| ∈ [0.1, 10]` the tests draw: ≤ 1e-5, with a margin of 10 under the
/// issue's bar 1e-4. The readout error is the perturbation times the prompt's cubic scale over
/// the update, `≲ 1e-7 · D² / α`, also ≤ 1e-4. For [WB] layers `(sP^TD, s⁻¹Q^TD(c_l I)) + ε`,
/// `L ≤ 3`, `c_l < 2`, the stack's implied weights move by the perturbation of the non-readout
/// rows of `P` (`~ε|z|³` written into the feature rows) amplified by `≤ 1 + (2d+1) c |z|²` per
/// later layer: `≲ 3ε · 55² ≈ 1e-3` in the worst direction at `|z| ≈ 3`, `d = 1`, but `td_error`
/// measures it against the typical weight size over 64 prompts, where the measured worst over 320
/// stacks is 1.3e-5.
pub const PROBE_RECOVERY_REL: f64 = 1e-4;
/// Entry size of the probe tests' perturbation.
pub const PROBE_EPS: f64 = 1e-7;
/// Random weights (entries i.i.d. Gaussian) are far from every construction: the squared
/// cosine with a fixed pattern of `k` entries among `N` is `≈ k/N ≤ 1/2` for every shape the
/// tests draw, so each `sin²θ ≥ 1/2` on average and the distance `≥ 1/√2`; the tests require
/// `≥ 0.5` (the bar).
pub const PROBE_FAR: f64 = 0.5;
/// Rounding bound of `generators::representable` as the [R] NEU probe uses it
/// (`report::neu::draw_task_pair`): with `v̂ = fl(X w*)`, `r̂_s = fl(v̂_s − γ · fl(Σ_k P_sk v̂_k))`,
/// the exact residual `ρ = r̂ − (I − γP) X w*` (in the `f64` values of `P`, `γ`, `X`, `w*`)
/// satisfies `‖ρ‖_∞ ≤ γ_{2|S|+3} (1+γ) ‖v̂‖_∞ + (1 + γ(1+γ_{|S|})) γ_d max_s Σ_i |x_si w*_i|`,
/// `γ_k = k u / (1 − k u)` (Higham, *Accuracy and Stability*, §3.1: a `k`-term sum of products;
/// `|S|` for the row sum, the product by `γ`, the subtraction, and `|S|` more for a Dirichlet row
/// summing to `1 ± |S| u`). Then `(I − γP)⁻¹ r̂ = X w*` up to `‖ρ‖_∞ / (1 − γ)`, since
/// `‖(I − γP)⁻¹‖_∞ ≤ 1/(1 − γ)` for a stochastic `P`. The factor `1 + 4u` covers evaluating this
/// bound in `f64`.
pub fn representable_residual_bound(n_states: usize, d: usize, gamma: f64, v_max: f64, xw_abs_max: f64) -> f64 {
    let g = |k: usize| k as f64 * UNIT_ROUNDOFF / (1.0 - k as f64 * UNIT_ROUNDOFF);
    (g(2 * n_states + 3) * (1.0 + gamma) * v_max + (1.0 + gamma * (1.0 + g(n_states))) * g(d) * xw_abs_max)
        * (1.0 + 4.0 * UNIT_ROUNDOFF)
}
/// The [R] NEU probe's generalized reverse mode (`report::neu::Tape::vjp`, any seed on the
/// readout row) against `report::neu::td_update` for today's loss: the same backward formulas,
/// but `δ` multiplies the seed instead of the finished gradient (one rounding per entry, then
/// carried through `3L` products of ≤ `n+1 = 21` terms each): a relative difference of a few
/// hundred `u` at `L = 3`; `1e-12` relative to `max(1, max |g|)` (≈ 4500 u) still rejects any
/// wrong term, whose effect is O(1) relative.
pub const NEU_VJP_REL_TOL: f64 = 1e-12;
/// `train td`'s second-moment kernel (`dynamics::train_td::prompt_loss_grad_fast`) against the
/// general `(n+1)×(n+1)` backward pass (`prompt_loss_grad_act` with the identity): the same
/// polynomial summed in another order. Each side is `≤ 8L` chained products of `≤ n + 1` terms
/// (`n ≤ 30`, `L ≤ 5` in the test), so each rounds at most `≈ 8L(n+1) u ≈ 1240 u ≈ 3e-13`
/// relative to the magnitudes it sums; `1e-10` relative to `max(1, max |g|)` allows those
/// magnitudes to exceed the gradient's by about 300× (cancellation at gain-3 weights) and the
/// test prints the worst difference it saw (`--nocapture`). A wrong
/// term (a dropped path, a transposed factor) changes the gradient by O(1) relative, and the
/// test's perturbation controls move it by more than `1e3 ×` this.
pub const TD_FAST_REL_TOL: f64 = 1e-10;
