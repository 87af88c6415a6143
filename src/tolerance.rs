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
