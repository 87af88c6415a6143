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

/// Central finite difference of a smooth function `f` with step `h`: truncation error at most
/// `h²/6 · max|f'''|` and rounding error at most `2 u max|f| / (2h)`. For `log π_λ` with
/// features bounded by `phi_max`, `|∂³ log π| ≤ 2 phi_max³` (a cumulant of a bounded variable),
/// and `|log π_λ| ≤ log_max`. Doubled for slack.
pub fn fd_score_tol(h: f64, phi_max: f64, log_max: f64) -> f64 {
    2.0 * (h * h / 6.0 * 2.0 * phi_max.powi(3) + 2.0 * UNIT_ROUNDOFF * log_max / h)
}

/// Relative tolerance of the softmax-TD equalities (transformer vs. reference, two-head vs.
/// one-head, state-space vs. per-column), compared on `|a - b| / scale` with `scale` the
/// largest `|v_l(s)|` (at least 1).
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

/// Slack on the pathwise contraction inequalities (`contraction-pathwise`), relative to the
/// scale of the errors: each side is a sum of `|S|` or `n` terms of that scale, rounded once
/// per term; factor 64 as above.
pub fn pathwise_slack(terms: usize) -> f64 {
    64.0 * terms.max(1) as f64 * UNIT_ROUNDOFF
}

/// Absolute tolerance on fitted log-log or log-linear slopes of limit rates
/// (`softmax-td-tabular-limit`, `softmax-td-small-temperature`): the next term of the
/// expansion changes the local slope by `O(e^{-β})` resp. `O(h²)`, which at the sampled
/// points is below a few percent; 0.15 leaves room for that curvature and nothing else
/// (a wrong order of convergence moves the slope by at least 1).
pub const LIMIT_SLOPE_TOL: f64 = 0.15;

/// Slack on the measured per-layer decay factor in `contraction-decay`: the factor is fitted
/// by least squares on `ln ‖v_l - v_π‖_∞` over the stretch where the error is at least 10× its
/// floor, so the floor biases each point by at most `ln(1.1) ≈ 0.095` in total over the
/// stretch; divided by a stretch of at least 5 layers this is below 0.02.
pub const DECAY_FACTOR_SLACK: f64 = 0.02;

/// Spec `contraction.md` check 5: the fitted log-log slope of the median floor against `n`.
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
