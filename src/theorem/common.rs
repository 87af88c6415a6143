//! Shared case generators for the linear-attention theorems: random MDP instances (end to end:
//! MDP, features, ε-greedy rollout) and free grid prompts (Schwartz–Zippel certificates).

use crate::mdp::batch::TransitionBatch;
use crate::mdp::features::Features;
use crate::mdp::rollout::{rollout_from_initial, Trajectory};
use crate::mdp::{generators, policy::TabularPolicy, Mdp};
use crate::rng::Rng;
use crate::scalar::grid;
use num_rational::BigRational;
use rand::Rng as _;

/// Sizes of a random MDP instance.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// `|S|`
    pub n_states: usize,
    /// `|A|`
    pub n_actions: usize,
    /// `d`
    pub d: usize,
    /// `n`
    pub n: usize,
}

/// A random MDP instance: MDP, features, a window of an ε-greedy rollout and `w`.
#[derive(Clone, Debug)]
pub struct MdpCase {
    /// The MDP.
    pub mdp: Mdp,
    /// `φ(s,a)`.
    pub features: Features,
    /// The window.
    pub traj: Trajectory,
    /// The parameter `w` the behaviour is ε-greedy w.r.t.
    pub w: Vec<f64>,
}

/// Draw sizes uniformly from the given inclusive ranges.
pub fn draw_sizes(
    rng: &mut Rng,
    states: (usize, usize),
    actions: (usize, usize),
    d: (usize, usize),
    n: (usize, usize),
) -> Sizes {
    Sizes {
        n_states: rng.random_range(states.0..=states.1),
        n_actions: rng.random_range(actions.0..=actions.1),
        d: rng.random_range(d.0..=d.1),
        n: rng.random_range(n.0..=n.1),
    }
}

/// Random tabular MDP with `γ ~ Unif[0, 0.99)`, random features, `w ~ Unif(-1,1)^d`, and an
/// ε-greedy (`ε = 0.1`) rollout of `n` transitions from `p0`.
pub fn draw_mdp_case(rng: &mut Rng, s: Sizes) -> MdpCase {
    let gamma = rng.random_range(0.0..0.99);
    let mdp = generators::random_tabular(rng, s.n_states, s.n_actions, gamma);
    let features = Features::random(rng, s.n_states, s.n_actions, s.d);
    let w: Vec<f64> = (0..s.d).map(|_| rng.random_range(-1.0..1.0)).collect();
    let pi = TabularPolicy::epsilon_greedy(&features, &w, 0.1);
    let traj = rollout_from_initial(rng, &mdp, &pi, s.n);
    MdpCase { mdp, features, traj, w }
}

/// A free prompt on the grid: every `φ_i`, `φ⁺_i`, `r_i`, `γ` independent and uniform on
/// [`grid`]. `γ` is a free variable here (it may be negative): the certificate is for the
/// polynomial identity, which implies the theorem for every valid `γ`.
pub fn draw_grid_batch(rng: &mut Rng, d: usize, n: usize) -> TransitionBatch<BigRational> {
    let g = |rng: &mut Rng| <BigRational as crate::scalar::Scalar>::from_f64(grid::draw(rng));
    TransitionBatch {
        phi: (0..n).map(|_| (0..d).map(|_| g(rng)).collect()).collect(),
        phi_next: (0..n).map(|_| (0..d).map(|_| g(rng)).collect()).collect(),
        rewards: (0..n).map(|_| g(rng)).collect(),
        gamma: g(rng),
    }
}

/// A grid vector.
pub fn grid_vec(rng: &mut Rng, len: usize) -> Vec<BigRational> {
    (0..len).map(|_| <BigRational as crate::scalar::Scalar>::from_f64(grid::draw(rng))).collect()
}

/// Log-uniform draw in `[lo, hi]`.
pub fn log_uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    (rng.random_range(lo.ln()..=hi.ln())).exp()
}

/// The scalings `c` the SARSA/actor-critic checks cycle through: `c < 0`, tiny and large
/// included. Exact as dyadic rationals (and one non-dyadic, `-3/7`, for the exact side).
pub const C_VALUES: [(i64, i64); 6] = [(1, 1), (-1, 1), (1, 1 << 20), (-(1 << 20), 1), (3, 2), (-3, 7)];

/// Vector conversions.
pub fn to_exact(v: &[f64]) -> Vec<BigRational> {
    v.iter().map(|&x| <BigRational as crate::scalar::Scalar>::from_f64(x)).collect()
}

/// Vector conversions.
pub fn to_f64<T: crate::scalar::Scalar>(v: &[T]) -> Vec<f64> {
    v.iter().map(|x| x.to_f64()).collect()
}

/// `max_i |a_i - b_i|` in `f64`.
pub fn max_abs_diff<T: crate::scalar::Scalar>(a: &[T], b: &[T]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x.clone() - y.clone()).to_f64().abs()).fold(0.0, f64::max)
}

/// `max_i |v_i|`.
pub fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// The first output entry where `tf` and `rf` differ (exactly, or by more than `tol` in
/// `f64`), named `name[k]`, with both values.
pub fn first_mismatch<T: crate::scalar::Scalar>(
    name: &str,
    tf: &[T],
    rf: &[T],
    exact: bool,
    tol: f64,
) -> Option<String> {
    if tf.len() != rf.len() {
        return Some(format!("{name}: {} transformer outputs vs {} reference outputs", tf.len(), rf.len()));
    }
    (0..tf.len())
        .find(|&k| if exact { tf[k] != rf[k] } else { !((tf[k].clone() - rf[k].clone()).to_f64().abs() <= tol) })
        .map(|k| format!("{name}[{k}]: transformer {} vs reference {}", tf[k].to_f64(), rf[k].to_f64()))
}

/// An `icrl check` result comparing flat outputs: exact equality, or `max |tf - rf| <= tol`
/// in `f64` (`extra_ok` carries further conditions, e.g. rows unchanged).
#[allow(clippy::too_many_arguments)] // one argument per reported field
pub fn instance_result<T: crate::scalar::Scalar>(
    theorem: &str,
    arithmetic: crate::theorem::Arithmetic,
    name: &str,
    tf: &[T],
    rf: &[T],
    tol: f64,
    extra_ok: bool,
    weights: bool,
) -> crate::theorem::InstanceResult {
    let exact = arithmetic == crate::theorem::Arithmetic::Exact;
    let err = max_abs_diff(tf, rf);
    let mismatch = first_mismatch(name, tf, rf, exact, tol);
    let holds = mismatch.is_none() && extra_ok && (exact || err <= tol);
    crate::theorem::InstanceResult {
        theorem: theorem.to_string(),
        arithmetic,
        holds,
        max_abs_error: err,
        transformer: to_f64(tf),
        reference: to_f64(rf),
        first_mismatch: mismatch.or_else(|| (!extra_ok).then(|| "rows that must stay unchanged changed".to_string())),
        weights,
    }
}

/// Cost estimates for `icrl check`, in `f64` so that no size product can wrap (an overflow
/// is `inf`, which every limit refuses).
pub mod cost {
    use crate::error::InputError;
    use crate::theorem::Limits;

    /// Fixed cost of one layer beyond its multiply-adds (about ten matrix allocations, the
    /// per-layer trace and the rows-unchanged scan), in multiply-add equivalents. Measured:
    /// `linear-td` at `n = 4`, `d = 1` runs 1e5 layers in 0.16 s on the idle machine (1.6 µs a
    /// layer); under the test suite's load 1e6 layers took 16 s. At the default `2e9` budget
    /// (≈ 5 ns per unit) `1e4` allows 50 µs a layer, so that depth alone cannot pass 10 s.
    pub const LAYER_OVERHEAD: f64 = 1e4;

    /// Work of one [LL] block on a `D×(n+1)` prompt: the last column only (one layer) or the
    /// full block (`PH`, `Hᵀ(PH)`, `VH`, `(VH)G`).
    pub fn lsa(dd: usize, n: usize, layers: usize) -> (f64, f64) {
        let (dd, c, l) = (dd as f64, (n + 1) as f64, layers as f64);
        if layers <= 1 {
            (3.0 * dd * dd * c + LAYER_OVERHEAD, 8.0 * 4.0 * dd * c)
        } else {
            (l * (2.0 * dd * dd * c + 2.0 * dd * c * c + LAYER_OVERHEAD), 8.0 * (2.0 * c * c + 4.0 * dd * c))
        }
    }

    /// Work and memory of `layers` [WB] masked layers on a `m×(n+1)` prompt (the mask and
    /// `ZᵀQZ` are `(n+1)×(n+1)`).
    pub fn td(m: usize, n: usize, layers: usize) -> (f64, f64) {
        let (m, c, l) = (m as f64, (n + 1) as f64, layers as f64);
        (l * (2.0 * m * m * c + 3.0 * m * c * c + LAYER_OVERHEAD), 8.0 * (3.0 * c * c + 4.0 * m * c) + l * 16.0 * m * m)
    }

    /// The exact-arithmetic factor for outputs of formal degree `deg` in ~64-bit dyadic inputs:
    /// operands of `64 (deg + 1)` bits, schoolbook products `(bits/64)²`.
    pub fn exact_factor(deg: f64) -> f64 {
        (deg + 1.0) * (deg + 1.0)
    }

    /// Refuse (exit 2) when the `f64` work or memory exceeds the limits, naming `field`.
    pub fn admit(field: &str, work: f64, memory: f64, limits: &Limits) -> Result<(), InputError> {
        if !(work <= limits.max_work) {
            return Err(InputError::new(
                field,
                format!(
                    "estimated work {work:.2e} multiply-adds exceeds the limit {:.1e} (raise it with --max-work)",
                    limits.max_work
                ),
            ));
        }
        if !(memory <= limits.max_memory) {
            return Err(InputError::new(
                field,
                format!(
                    "estimated memory {:.2e} bytes exceeds the limit {:.1e} (raise it with --max-memory)",
                    memory, limits.max_memory
                ),
            ));
        }
        Ok(())
    }

    /// `Some(reason)` when the exact check must be skipped.
    pub fn exact_skip(work: f64, deg: f64, limits: &Limits) -> Option<String> {
        let w = work * exact_factor(deg);
        (!(w <= limits.max_exact_work)).then(|| {
            format!(
                "exact arithmetic skipped: estimated {w:.2e} bit-weighted operations (degree {deg:.0}) exceed {:.1e} (raise with --max-exact-work); the f64 check ran",
                limits.max_exact_work
            )
        })
    }
}

/// The `icrl check` result of an `f64` equality computed on
/// [`ErrBound`](crate::scalar::errbound::ErrBound): entry `k` holds iff
/// `|x_T − x_R| ≤ e_T + e_R` ([`crate::tolerance::bounded_cmp`]); the first violating entry is
/// named with both values and its bound. A bound that overflowed reports `max_abs_error = ∞`, so
/// `check` refuses the input as an `f64` overflow (exit 2) instead of reporting a verdict.
pub fn bounded_result(
    theorem: &str,
    name: &str,
    tf: &[crate::scalar::errbound::ErrBound],
    rf: &[crate::scalar::errbound::ErrBound],
    extra_ok: bool,
    weights: bool,
) -> crate::theorem::InstanceResult {
    let c = crate::tolerance::bounded_cmp(tf, rf);
    let mut r =
        instance_result(theorem, crate::theorem::Arithmetic::F64, name, tf, rf, f64::INFINITY, extra_ok, weights);
    if tf.len() == rf.len() {
        r.first_mismatch = c
            .first_violation
            .map(|k| {
                format!(
                    "{name}[{k}]: transformer {} vs reference {} (difference {:e} > error bound {:e})",
                    tf[k].x,
                    rf[k].x,
                    (tf[k].x - rf[k].x).abs(),
                    crate::scalar::errbound::add_up(tf[k].e, rf[k].e)
                )
            })
            .or(r.first_mismatch);
    }
    if c.overflow {
        r.max_abs_error = f64::INFINITY;
    }
    r.holds = c.holds() && extra_ok && tf.len() == rf.len();
    r
}

/// The prime-field tier of a polynomial identity: both sides at one listed shape, every free
/// entry taken from `free` (uniform in `F_p` for a certificate draw, [`Height::var`] for its
/// bound), by the same generic code the exact and `f64` tiers run. One implementation per
/// theorem; [`field_case`] draws it and [`field_bound`] bounds it.
///
/// [`Height::var`]: crate::scalar::height::Height::var
pub trait FieldSides {
    /// `(transformer, reference)`, flat; equal entry by entry iff the claim holds at the draw.
    fn sides<T: crate::scalar::Scalar>(
        s: &crate::theorem::FieldShape,
        free: &mut dyn FnMut() -> T,
        sabotage: bool,
    ) -> (Vec<T>, Vec<T>);
}

/// A free prompt of shape `d × n`: every `φ_i`, `φ⁺_i`, `r_i` and `γ` from `free`, in this order.
pub fn free_batch<T: crate::scalar::Scalar>(free: &mut dyn FnMut() -> T, d: usize, n: usize) -> TransitionBatch<T> {
    let phi: Vec<Vec<T>> = (0..n).map(|_| (0..d).map(|_| free()).collect()).collect();
    let phi_next: Vec<Vec<T>> = (0..n).map(|_| (0..d).map(|_| free()).collect()).collect();
    let rewards: Vec<T> = (0..n).map(|_| free()).collect();
    TransitionBatch { phi, phi_next, rewards, gamma: free() }
}

/// `len` entries from `free`.
pub fn free_vec<T: crate::scalar::Scalar>(free: &mut dyn FnMut() -> T, len: usize) -> Vec<T> {
    (0..len).map(|_| free()).collect()
}

/// The field draw of case `ctx.case`, if its tier lists one (after every other draw of the case,
/// so the exact and `f64` rows are those of a run without the field tier): both sides over
/// `F_p`, `p = ctx.field`, under [`with_modulus`](crate::scalar::modular::with_modulus); one
/// [`Measurement::field`](crate::theorem::Measurement::field) and the shape's label.
pub fn field_case<S: FieldSides>(
    res: &mut crate::theorem::CaseResult,
    rng: &mut Rng,
    ctx: &crate::theorem::CheckCtx,
    tier: &crate::theorem::FieldTier,
    quantity: &str,
) {
    use crate::scalar::modular::{with_modulus, Fr};
    if !ctx.arith.wants(crate::theorem::Arithmetic::Field) {
        return;
    }
    let Some(shape) = tier.shape_of(ctx.case) else { return };
    let equal = with_modulus(ctx.field, || {
        let (tf, rf) = S::sides::<Fr>(&shape, &mut || Fr::random(rng), ctx.sabotage);
        tf.len() == rf.len() && tf == rf
    });
    res.measurements.push(crate::theorem::Measurement::field_at(
        format!("{quantity} (free prompt over F_p)"),
        equal,
        &shape,
    ));
}

/// The degree and height of `S`'s difference at `shape`, from the same generic code run on
/// [`Height`](crate::scalar::height::Height) with every free entry a variable.
pub fn field_bound<S: FieldSides>(shape: &crate::theorem::FieldShape, sabotage: bool) -> crate::theorem::ShapeBound {
    use crate::scalar::height::{difference_bound, Height};
    let (tf, rf) = S::sides::<Height>(shape, &mut Height::var, sabotage);
    let (deg, log2_h) = difference_bound(&tf, &rf);
    crate::theorem::ShapeBound { deg, log2_h }
}

/// Every combination of the given sizes, `d` outermost: the grids the field tiers list.
pub fn shape_grid(
    ds: &[usize],
    dps: &[usize],
    ns: &[usize],
    ls: &[usize],
    cs: &[(i64, i64)],
) -> Vec<crate::theorem::FieldShape> {
    let mut v = Vec::new();
    let mut i = 0usize;
    for &d in ds {
        for &dp in dps {
            for &n in ns {
                for &layers in ls {
                    // `c` cycles along the list (one `c` per shape; all of them are drawn).
                    let c = if cs.is_empty() { (0, 0) } else { cs[i % cs.len()] };
                    i += 1;
                    v.push(crate::theorem::FieldShape { d, dp, n, layers, c });
                }
            }
        }
    }
    v
}
