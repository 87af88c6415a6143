//! Gradient flow `θ' = -∇L(θ)` of the empirical population loss, integrated by an adaptive
//! Dormand–Prince RK5(4) with error control (written here: no ODE crate), and the geometry of
//! its limit (`docs/theory/gradient-flow.md`):
//!
//! - the scaling manifold `{(A⋆/c, c B⋆) : c ≠ 0}` [Q] and the distance to it (closest `c`);
//! - the conserved quantity `‖B‖_F² - ‖A‖_F²` [D] (symmetry `(A, B) → (A/c, cB)`);
//! - the predicted limit `c∞`: `c²‖B⋆‖² - c⁻²‖A⋆‖² = ‖B(0)‖² - ‖A(0)‖²` [D];
//! - the asymptotic slope of `log L` (least squares over the last decades of the run), to be
//!   compared with `-2 λ⁺_min(G)` at the limit (Thm 3.2 [Q], rate [D]).

use super::loss::{split, Population};

/// Tolerances of one integration.
#[derive(Clone, Copy, Debug)]
pub struct OdeTol {
    /// Relative tolerance of the local error.
    pub rtol: f64,
    /// Absolute tolerance of the local error.
    pub atol: f64,
}

impl Default for OdeTol {
    fn default() -> Self {
        OdeTol { rtol: crate::tolerance::FLOW_RTOL, atol: crate::tolerance::FLOW_ATOL }
    }
}

/// When to stop.
#[derive(Clone, Copy, Debug)]
pub struct FlowStop {
    /// Stop once `L ≤ loss_ratio · L(0)`.
    pub loss_ratio: f64,
    /// Stop once `L` is below this absolute floor (rounding level).
    pub loss_floor: f64,
    /// Maximal time.
    pub t_max: f64,
    /// Maximal accepted + rejected steps.
    pub max_steps: usize,
    /// Store `θ(t)` at accepted steps once `L ≤ record_below · L(0)` (for the slowest-mode rate).
    pub record_below: f64,
}

impl Default for FlowStop {
    fn default() -> Self {
        FlowStop {
            loss_ratio: crate::tolerance::FLOW_LOSS_RATIO,
            loss_floor: crate::tolerance::FLOW_LOSS_FLOOR,
            t_max: 1e9,
            max_steps: 100_000,
            record_below: 1e-6,
        }
    }
}

/// The result of one integration.
#[derive(Clone, Debug)]
pub struct FlowRun {
    /// Final point.
    pub theta: Vec<f64>,
    /// Final time.
    pub t: f64,
    /// `(t, L(θ(t)))` at every accepted step.
    pub trace: Vec<(f64, f64)>,
    /// `(t, ‖B‖² - ‖A‖²)` at every accepted step.
    pub conserved: Vec<f64>,
    /// Accepted steps.
    pub accepted: usize,
    /// Rejected steps.
    pub rejected: usize,
    /// Gradient evaluations.
    pub evals: usize,
    /// Why it stopped.
    pub stopped: &'static str,
    /// `(t, L, θ(t))` at accepted steps with `L ≤ record_below · L(0)`.
    pub snapshots: Vec<(f64, f64, Vec<f64>)>,
}

/// `‖B‖_F² - ‖A‖_F²`.
pub fn conserved(d: usize, th: &[f64]) -> f64 {
    let (a, b) = split(d, th);
    b.iter().map(|x| x * x).sum::<f64>() - a.iter().map(|x| x * x).sum::<f64>()
}

// Dormand–Prince 5(4) tableau (nodes c = 0, 1/5, 3/10, 4/5, 8/9, 1, 1 are not needed: the
// flow is autonomous).
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0, 0.0, 0.0],
    [9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0, 0.0],
    [35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0],
];
/// 5th-order weights (= last row of `A`, FSAL).
const B5: [f64; 7] = [35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0, 0.0];
/// 4th-order embedded weights.
const B4: [f64; 7] =
    [5179.0 / 57600.0, 0.0, 7571.0 / 16695.0, 393.0 / 640.0, -92097.0 / 339200.0, 187.0 / 2100.0, 1.0 / 40.0];

/// Dormand–Prince RK5(4) for `y' = f(y)` (autonomous), FSAL, standard step-size control
/// (`h ← h · clamp(0.9 · err^{-1/5}, 0.2, 5)`), with a callback after each accepted step that
/// may stop the integration (returns `true` to stop). Returns `(t, y, accepted, rejected, evals)`.
pub fn dopri5<F, S>(
    mut f: F,
    y0: &[f64],
    t_max: f64,
    h0: f64,
    tol: OdeTol,
    max_steps: usize,
    mut on_step: S,
) -> (f64, Vec<f64>, usize, usize, usize)
where
    F: FnMut(&[f64], &mut [f64]),
    S: FnMut(f64, &[f64]) -> bool,
{
    let n = y0.len();
    let mut y = y0.to_vec();
    let mut k: Vec<Vec<f64>> = vec![vec![0.0; n]; 7];
    let mut tmp = vec![0.0; n];
    let mut ynew = vec![0.0; n];
    let mut t = 0.0;
    let mut h = h0;
    let (mut acc, mut rej, mut evals) = (0usize, 0usize, 0usize);
    f(&y, &mut k[0]);
    evals += 1;
    while t < t_max && acc + rej < max_steps {
        if t + h > t_max {
            h = t_max - t;
        }
        for s in 1..7 {
            for i in 0..n {
                let mut acc_i = 0.0;
                for (j, kj) in k.iter().enumerate().take(s) {
                    acc_i += A[s][j] * kj[i];
                }
                tmp[i] = y[i] + h * acc_i;
            }
            f(&tmp, &mut k[s]);
            evals += 1;
            if s == 6 {
                ynew.copy_from_slice(&tmp);
            }
        }
        // error estimate
        let mut err2 = 0.0;
        for i in 0..n {
            let mut e = 0.0;
            for s in 0..7 {
                e += (B5[s] - B4[s]) * k[s][i];
            }
            let sc = tol.atol + tol.rtol * y[i].abs().max(ynew[i].abs());
            let r = h * e / sc;
            err2 += r * r;
        }
        let err = (err2 / n as f64).sqrt();
        if err <= 1.0 {
            t += h;
            std::mem::swap(&mut y, &mut ynew);
            k.swap(0, 6); // FSAL: f(y_new) is the 7th stage
            acc += 1;
            if on_step(t, &y) {
                break;
            }
        } else {
            rej += 1;
        }
        let fac = if err == 0.0 { 5.0 } else { (0.9 * err.powf(-0.2)).clamp(0.2, 5.0) };
        h *= fac;
    }
    (t, y, acc, rej, evals)
}

/// Gradient flow of `pop` from `theta0` until `stop`.
pub fn gradient_flow(pop: &Population, theta0: &[f64], tol: OdeTol, stop: FlowStop) -> FlowRun {
    let d = pop.d;
    let l0 = pop.loss(theta0);
    let mut trace = vec![(0.0, l0)];
    let mut cons = vec![conserved(d, theta0)];
    let mut stopped = "t_max or max_steps";
    let mut snapshots = Vec::new();
    let record = l0 * stop.record_below;
    let target = (l0 * stop.loss_ratio).max(stop.loss_floor);
    let (t, y, acc, rej, evals) = dopri5(
        |y, dy| {
            pop.loss_grad(y, dy);
            dy.iter_mut().for_each(|x| *x = -*x);
        },
        theta0,
        stop.t_max,
        1e-3,
        tol,
        stop.max_steps,
        |t, y| {
            let l = pop.loss(y);
            trace.push((t, l));
            if l <= record {
                snapshots.push((t, l, y.to_vec()));
            }
            cons.push(conserved(d, y));
            if l <= target {
                stopped = "loss target";
                true
            } else {
                false
            }
        },
    );
    FlowRun { theta: y, t, trace, conserved: cons, accepted: acc, rejected: rej, evals, stopped, snapshots }
}

/// Gradient descent with a fixed step `eta` for `steps` steps (the step-independence
/// comparison of the integrator).
pub fn gradient_descent(pop: &Population, theta0: &[f64], eta: f64, steps: usize) -> Vec<f64> {
    let mut th = theta0.to_vec();
    let mut g = vec![0.0; th.len()];
    for _ in 0..steps {
        pop.loss_grad(&th, &mut g);
        for (x, gi) in th.iter_mut().zip(&g) {
            *x -= eta * gi;
        }
    }
    th
}

/// Closest point of the scaling manifold `{(A⋆/c, c B⋆) : c ≠ 0}`: returns `(c, distance)` with
/// `distance = inf_c ‖(A − A⋆/c, B − c B⋆)‖_F`.
///
/// With `u = ‖A⋆‖²`, `v = ⟨A, A⋆⟩`, `p = ⟨B, B⋆⟩`, `q = ‖B⋆‖²` the squared distance is
/// `f(c) = ‖A‖² − 2v/c + u/c² + ‖B‖² − 2pc + qc²`, and `f'(c) = 2P(c)/c³` with the quartic
/// `P(c) = qc⁴ − pc³ + vc − u`. For `u, q > 0`, `f → ∞` as `c → 0` and as `c → ±∞`, so the
/// minimum is attained, and at a local minimum `f'` changes sign, so `P` does. Every sign change
/// of `P` is found exactly (up to one ulp of `c`) by isolating the real roots through the
/// derivatives: `P'' = 6c(2qc − p)` has the roots `0` and `p/(2q)`, so `P' = 4qc³ − 3pc² + v`
/// is monotone between them and has at most one root in each piece; `P` is monotone between
/// consecutive roots of `P'` (and `0`); every root lies within the Cauchy bound
/// `R = 1 + max(|p|, |v|, u)/q`, where `P > 0` and `P'` has the sign of `c`. Each sign change
/// between consecutive points is bisected on the floats ([`bisect_sign_change`]), and the root
/// with the smallest directly computed distance wins. No start point, scan or iteration count
/// decides the answer. (In `f64` two roots of `P` closer than the rounding of a root of `P'` can
/// share a piece and be missed together; `f` then has a flat inflection there, not a minimum
/// apart from a rounding-sized one.)
///
/// If `A⋆ = 0` or `B⋆ = 0` the manifold's closure holds `0` and the infimum may only be
/// approached: `A⋆ = 0` gives `c = p/q` (`0` if `p = 0`: the infimum as `c → 0`), `B⋆ = 0` gives
/// `c = u/v` (`∞` if `v = 0`), both zero gives `c = 1` (every `c` is the same point, `0`). A
/// non-finite inner product gives `(NaN, NaN)`.
pub fn manifold_distance(d: usize, th: &[f64], th_star: &[f64]) -> (f64, f64) {
    let (a, b) = split(d, th);
    let (as_, bs) = split(d, th_star);
    let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
    let (aa, v, bb, p, u, q) = (dot(a, a), dot(a, as_), dot(b, b), dot(b, bs), dot(as_, as_), dot(bs, bs));
    if ![aa, v, bb, p, u, q].iter().all(|x| x.is_finite()) {
        return (f64::NAN, f64::NAN);
    }
    // The squared distance at c, computed directly (the expanded f cancels near the manifold);
    // a part whose starred block is zero is that block's norm at every c.
    let dist2 = |c: f64| -> f64 {
        let ea = if u == 0.0 { aa } else { a.iter().zip(as_).map(|(x, y)| (x - y / c).powi(2)).sum() };
        let eb = if q == 0.0 { bb } else { b.iter().zip(bs).map(|(x, y)| (x - y * c).powi(2)).sum() };
        ea + eb
    };
    let c = match (u == 0.0, q == 0.0) {
        (true, true) => 1.0,
        (true, false) => p / q,
        (false, true) => {
            if v == 0.0 {
                f64::INFINITY
            } else {
                u / v
            }
        }
        (false, false) => {
            let r = (1.0 + p.abs().max(v.abs()).max(u) / q).min(f64::MAX);
            let dp = |c: f64| (4.0 * q * c - 3.0 * p) * c * c + v;
            let pp = |c: f64| (((q * c - p) * c) * c + v) * c - u;
            // The roots of P' between -R, the roots of P'' and R, with the signs of P' there.
            let mut cuts = vec![(-r, false), (0.0, v > 0.0), (r, true)];
            let s = p / (2.0 * q);
            if s != 0.0 {
                cuts.insert(if s < 0.0 { 1 } else { 2 }, (s, dp(s) > 0.0));
            }
            let mut pts = vec![(-r, true), (0.0, false), (r, true)];
            for w in cuts.windows(2) {
                if w[0].1 != w[1].1 {
                    let x = bisect_sign_change(dp, w[0].0, w[1].0, w[0].1);
                    pts.push((x, pp(x) > 0.0));
                }
            }
            pts.sort_by(|x, y| x.0.total_cmp(&y.0));
            let mut best = (f64::NAN, f64::INFINITY);
            for w in pts.windows(2) {
                if w[0].1 != w[1].1 {
                    let c = bisect_sign_change(pp, w[0].0, w[1].0, w[0].1);
                    let e = dist2(c);
                    if c != 0.0 && e < best.1 {
                        best = (c, e);
                    }
                }
            }
            best.0
        }
    };
    (c, dist2(c).sqrt())
}

/// A point where `g` changes sign between `lo < hi` (one side of `0`: both `≥ 0` or both `≤ 0`),
/// given `g(lo) > 0` as `pos_lo` and the opposite at `hi`: bisection on the floats between them,
/// whose bit patterns are ordered like their magnitudes, so it ends at two adjacent floats after
/// at most 64 halvings, whatever the scale. `g` is evaluated only strictly inside; the returned
/// point is an end of that last pair.
fn bisect_sign_change(g: impl Fn(f64) -> f64, lo: f64, hi: f64, pos_lo: bool) -> f64 {
    let neg = lo < 0.0;
    let at = |m: u64| if neg { -f64::from_bits(m) } else { f64::from_bits(m) };
    // In magnitudes: from |lo| to |hi| (descending when negative), keeping the sign at `from`.
    let (mut from, mut to) = if neg { (lo.abs().to_bits(), hi.abs().to_bits()) } else { (lo.to_bits(), hi.to_bits()) };
    while from.abs_diff(to) > 1 {
        let mid = from.min(to) + from.abs_diff(to) / 2;
        if (g(at(mid)) > 0.0) == pos_lo {
            from = mid;
        } else {
            to = mid;
        }
    }
    at(from)
}

/// The `c∞` predicted by the conservation law: the root of
/// `c²‖B⋆‖² - c⁻²‖A⋆‖² = K` with the sign of `c_sign`.
pub fn predicted_c_inf(k: f64, a_star_sq: f64, b_star_sq: f64, c_sign: f64) -> f64 {
    let u = (k + (k * k + 4.0 * a_star_sq * b_star_sq).sqrt()) / (2.0 * b_star_sq);
    c_sign.signum() * u.sqrt()
}

/// Least-squares slope of `ln L` against `t` over the trace points whose loss lies in
/// `[lo, hi]`; `None` with fewer than 3 points.
pub fn log_slope(trace: &[(f64, f64)], lo: f64, hi: f64) -> Option<f64> {
    let pts: Vec<(f64, f64)> =
        trace.iter().filter(|(_, l)| *l >= lo && *l <= hi && *l > 0.0).map(|(t, l)| (*t, l.ln())).collect();
    if pts.len() < 3 {
        return None;
    }
    let m = pts.len() as f64;
    let (st, sy) = pts.iter().fold((0.0, 0.0), |(a, b), (t, y)| (a + t, b + y));
    let (mt, my) = (st / m, sy / m);
    let (mut num, mut den) = (0.0, 0.0);
    for (t, y) in &pts {
        num += (t - mt) * (y - my);
        den += (t - mt) * (t - mt);
    }
    if den > 0.0 {
        Some(num / den)
    } else {
        None
    }
}

/// Rate of the slowest normal mode: least-squares slope of `ln |⟨θ(t) - θ(T), v⟩|` over the
/// snapshots with `L ≤ hi` and `L ≥ lo` (`v` the unit eigenvector of `λ⁺_min`). In the linear
/// regime this is exactly `-λ⁺_min`, and `2×` it is the asymptotic slope of `ln L` (the slowest
/// mode dominates `L` as `t → ∞`). `None` with fewer than 3 points.
pub fn mode_slope(snapshots: &[(f64, f64, Vec<f64>)], theta_end: &[f64], v: &[f64], lo: f64, hi: f64) -> Option<f64> {
    let pts: Vec<(f64, f64)> = snapshots
        .iter()
        .filter(|(_, l, _)| *l >= lo && *l <= hi)
        .filter_map(|(t, _, th)| {
            let p: f64 = th.iter().zip(theta_end).zip(v).map(|((a, b), c)| (a - b) * c).sum();
            if p != 0.0 {
                Some((*t, p.abs()))
            } else {
                None
            }
        })
        .collect();
    log_slope(&pts, 0.0, f64::INFINITY)
}
