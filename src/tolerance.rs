//! Every floating-point tolerance of the project, each with its reason (like
//! `statrs/src/prec.rs`). Exact checks have none: their tolerance is 0.
//!
//! The `f64` linear-attention checks compare two different evaluation orders of the same
//! polynomial. With entries bounded by `B` and `k` accumulated products, the forward error of
//! each side is at most about `k · u · (scale of the terms)` with `u = 2^-53 ≈ 1.1e-16`.
//! We compare relative to the magnitude of the terms that were summed (not the result, which
//! may cancel), so the tolerances below are `c · k · u` with a safety factor `c`.

/// Unit roundoff of `f64`.
pub const UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;

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
/// Richness: the kernel eigenvector's `|cos|` with `(-A⋆, B⋆)` (spec `gradient-flow.md`).
pub const KERNEL_COSINE_MIN: f64 = 0.999;
/// Thm 3.2: limit distance to the scaling manifold, relative to `‖θ∞‖` (spec).
pub const MANIFOLD_REL_TOL: f64 = 1e-6;
/// Thm 3.2: relative drift of `‖B‖² - ‖A‖²` over the run, relative to `‖B‖² + ‖A‖²` (spec).
pub const CONSERVATION_REL_TOL: f64 = 1e-8;
/// Thm 3.2: `|c∞ - c_pred| / |c_pred|`. Both sides are determined to ~`√(L_end)/λ⁺_min` by the
/// remaining distance to the manifold; `1e-6` matches [`MANIFOLD_REL_TOL`].
pub const C_INF_REL_TOL: f64 = 1e-6;
/// Thm 3.2 (our rate [D]): measured asymptotic slope of `log L` within 10 % of `-2λ⁺_min` (spec).
pub const SLOPE_REL_TOL: f64 = 0.10;
/// Gradients against central finite differences with step `h = 1e-5` on O(1) losses: the
/// truncation error is `O(h²·L''') ≈ 1e-10` and rounding `O(u/h) ≈ 1e-11`; `1e-6` relative to
/// the gradient's scale leaves 4 decades of margin and still rejects any wrong term.
pub const FD_REL_TOL: f64 = 1e-6;
/// Central-difference step for gradient checks (`≈ u^{1/3}` scaled for O(1) parameters).
pub const FD_STEP: f64 = 1e-5;
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
