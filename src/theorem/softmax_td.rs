//! [XZ] softmax attention layer `l` = weighted softmax TD iterate `l` (arXiv:2605.07333,
//! Thm 1, Lemma 1, eq. 20; `docs/theory/softmax-td.md`).
//!
//! Theorems of this family (ids as in `icrl list`):
//! - `softmax-td-equivalence` [Q] Thm 1: every layer, every column; memory invariants; rows
//!   `0..d` unchanged; the query mask.
//! - `softmax-td-single-head` [Q] Lemma 1: one head plus a parameter-free shift = two heads.
//! - `softmax-td-state-space` [D] (definitions [Q] eq. 20): `M̂`, `P̂` stochastic, `r̂ = M̂ r`,
//!   the state-space recursion equals the per-column iterates under coverage.
//! - `softmax-td-tabular-limit` [D]: one-hot `√β e_s`; exact `M̂(s,s)`; `β → ∞` limit (tabular
//!   batch TD, value iteration on the empirical model at `α = 1`) at rate `e^{-β}`.
//! - `softmax-td-small-temperature` [D]: `β → 0`; the first-order term is batch linear TD on
//!   centered features (finite differences, rate `h²`).
//!
//! # Assumptions
//! - `query-mask`: `M[n, j] = -∞` (the query column is never a source). Searchable.
//! - `two-heads`: the second, shifted head writes `γ v_{l+1}(S_{j+1})` into the target memory
//!   (or, Lemma 1, the shift `U`, `W`). Searchable.
//! - `feature-only-attention`: `A = diag(I_d, 0)`; a nonzero reward/memory block is searchable.
//! - `coverage` (state-space form): the context visits every state.
//!
//! The transformer side is `crate::attention::softmax` + `crate::construction::softmax`, the
//! reference side `crate::rl::softmax_td`; they share only the MDP types.

use crate::assumption::AssumptionId;
use crate::attention::softmax::MultiHeadLayer;
use crate::attention::softmax::{forward_multi_head, forward_shift, prompt};
use crate::construction::softmax::Parts;
use crate::error::InputError;
use crate::instance::Instance;
use crate::linalg::Mat;
use crate::mdp::features::Features;
use crate::mdp::generators::random_mrp;
use crate::mdp::policy::TabularPolicy;
use crate::mdp::rollout::{rollout, Trajectory};
use crate::mdp::Mrp;
use crate::rl::softmax_td::{self as reference, WeightedSoftmaxTd};
use crate::rng::Rng;
use crate::scalar::errbound::{add_up, ErrBound, Transcendental};
use crate::scalar::Scalar;
use crate::theorem::{
    Arithmetic, Assumption, CaseResult, CheckCtx, Family, Formal, InstanceCheck, InstanceOutcome, InstanceResult,
    Limits, Measurement, Provenance, TheoremSpec,
};
use crate::tolerance::{bounded_cmp, softmax_td_rel_tol, sup_dist_bounded, worst, BoundedCmp, LIMIT_SLOPE_TOL};
use crate::weights::{Layout, Weights};
use rand::Rng as _;
use serde_json::{json, Value};

/// Source string of Theorem 1.
pub const SRC_THM1: &str = "[XZ] Thm 1, arXiv:2605.07333";

/// One softmax-TD case: an MRP, unscaled state features, `β`, a window and the steps.
#[derive(Clone, Debug)]
pub struct Case {
    /// The MRP.
    pub mrp: Mrp,
    /// Unscaled features `x(s)` (the prompt carries `√β x(s)`).
    pub features: Features,
    /// Inverse temperature `β ≥ 0`.
    pub beta: f64,
    /// The window `S_0 … S_n`, `R_1 … R_n`.
    pub traj: Trajectory,
    /// `α_1 … α_L`.
    pub alphas: Vec<f64>,
}

impl Case {
    /// `d`.
    pub fn d(&self) -> usize {
        self.features.dim()
    }
    /// `n`.
    pub fn n(&self) -> usize {
        self.traj.len()
    }
    /// `L`.
    pub fn layers(&self) -> usize {
        self.alphas.len()
    }
    /// `γ`.
    pub fn gamma(&self) -> f64 {
        self.mrp.gamma()
    }
    /// `g_max = β max_s ‖x(s)‖²` (the score scale in the tolerance).
    pub fn g_max(&self) -> f64 {
        (0..self.mrp.n_states())
            .map(|s| self.beta * self.features.x(s).iter().map(|x| x * x).sum::<f64>())
            .fold(0.0, worst)
    }
    /// The prompt `Z_0` (transformer side).
    pub fn prompt(&self) -> Mat<f64> {
        self.prompt_in()
    }
    /// The prompt `Z_0` in any [`Transcendental`] scalar (`√β` computed in it).
    pub fn prompt_in<T: Transcendental>(&self) -> Mat<T> {
        prompt(&self.features, T::from_f64(self.beta).sqrt_val(), &self.traj.states, &self.traj.rewards)
    }
    /// The reference operator.
    pub fn reference(&self) -> WeightedSoftmaxTd {
        self.reference_in()
    }
    /// The reference operator in any [`Transcendental`] scalar.
    pub fn reference_in<T: Transcendental>(&self) -> WeightedSoftmaxTd<T> {
        WeightedSoftmaxTd::new_in(
            &self.features,
            T::from_f64(self.beta),
            &self.traj.states,
            &self.traj.rewards,
            T::from_f64(self.gamma()),
        )
    }
    /// The estimated relative softmax-td tolerance of this case: only the `icrl bench` fast
    /// path (plain `f64`) uses it; `verify` and `check` compare rigorous bounds.
    pub fn tol(&self) -> f64 {
        softmax_td_rel_tol(self.n(), self.d(), self.layers(), self.g_max())
    }
    /// The instance JSON (`docs/theory/instances.md`, family `softmax-td`).
    pub fn to_json(&self) -> Value {
        crate::instance::to_json(
            "softmax-td",
            &self.mrp.as_mdp(),
            &self.features,
            &self.traj,
            json!({ "layers": self.layers(), "alphas": self.alphas, "beta": self.beta }),
        )
    }
    /// Read a `softmax-td` instance: the MDP must be an MRP; `params.layers` [1], `alpha` [1]
    /// or `alphas` (one per layer), `beta` [1] (`≥ 0`).
    pub fn from_instance(inst: &Instance) -> Result<Case, InputError> {
        let mrp = inst.mdp.as_mrp().ok_or_else(|| {
            InputError::new(
                "mdp.rewards",
                "softmax-td needs an MRP: one action per state and rewards r(s) that do not depend on s'",
            )
        })?;
        let p = &inst.params;
        let layers = if p.has("alphas") && !p.has("layers") {
            crate::instance::array(p.0.get("alphas").expect("present"), "params.alphas")?.len()
        } else {
            p.usize_or("layers", 1)?
        };
        if layers == 0 {
            return Err(InputError::new("params.layers", "must be at least 1"));
        }
        if layers > MAX_LAYERS {
            return Err(InputError::new(
                "params.layers",
                format!("{layers} layers is more than the supported {MAX_LAYERS}"),
            ));
        }
        let alphas = if p.has("alphas") {
            if p.has("alpha") {
                return Err(InputError::new("params.alpha", "give either alpha or alphas, not both"));
            }
            p.vec_req("alphas", layers)?
        } else {
            vec![p.f64_or("alpha", 1.0)?; layers]
        };
        let beta = p.f64_or("beta", 1.0)?;
        if !(beta >= 0.0) {
            return Err(InputError::new(
                "params.beta",
                format!("inverse temperature {beta} must be >= 0 (features are scaled by sqrt(beta))"),
            ));
        }
        let g = (0..mrp.n_states())
            .map(|s| beta * inst.features.x(s).iter().map(|x| x * x).sum::<f64>())
            .fold(0.0, f64::max);
        if !(g <= MAX_SCORE) {
            return Err(InputError::new(
                "params.beta",
                format!("beta * max_s |x(s)|^2 = {g:e} exceeds {MAX_SCORE:e}: the scores would overflow"),
            ));
        }
        let features = Features::from_flat(
            mrp.n_states(),
            1,
            inst.features.dim(),
            (0..mrp.n_states()).flat_map(|s| inst.features.x(s).to_vec()).collect(),
        )?;
        Ok(Case { mrp, features, beta, traj: inst.trajectory.clone(), alphas })
    }
}

/// Largest depth `icrl check` accepts (each layer costs `O(n² d)`; the theory is about
/// moderate depths).
pub const MAX_LAYERS: usize = 100_000;
/// Largest score magnitude `β max_s ‖x(s)‖²` accepted: `exp` differences of scores stay exact
/// enough and `Zᵀ A Z` cannot overflow.
pub const MAX_SCORE: f64 = 1e12;

/// How features are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeatureKind {
    /// i.i.d. `Unif(-1,1)`, `d` given.
    Random(usize),
    /// `e_s` (scaled by `√β` in the prompt), `d = |S|`.
    OneHot,
}

pub use crate::mdp::rollout::mrp_rollout;

/// A window that visits every state among its sources (coverage), built in: a random
/// permutation of the states (every step has positive probability under a Dirichlet MRP),
/// then a rollout of the chain from the last of them. Needs `n ≥ |S|` and a kernel with no
/// zero entries (as `random_mrp` draws almost surely).
pub fn coverage_rollout(rng: &mut Rng, mrp: &Mrp, n: usize) -> Trajectory {
    let ns = mrp.n_states();
    assert!(n >= ns, "coverage needs n >= |S|");
    let mut perm: Vec<usize> = (0..ns).collect();
    for i in (1..ns).rev() {
        let j = rng.random_range(0..=i);
        perm.swap(i, j);
    }
    let mdp = mrp.as_mdp();
    let pi = TabularPolicy::uniform(ns, 1);
    let tail = rollout(rng, &mdp, &pi, perm[ns - 1], n + 1 - ns);
    let mut states = perm[..ns - 1].to_vec();
    states.extend_from_slice(&tail.states);
    let rewards = (0..n).map(|k| mrp.r(states[k])).collect();
    Trajectory { actions: vec![0; n + 1], states, rewards }
}

/// `β` log-uniform in `[10^lo, 10^hi]`.
pub fn log_uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    10f64.powf(rng.random_range(lo..=hi))
}

/// Draw a case: `|S| ∈ 1..=max_states`, features random (`d ∈ 1..=8`) or one-hot (half each),
/// `β` log-uniform in `[10^-2, 10^3]`, `γ ∈ [0, 0.99)`, `n ∈ 1..=max_n` (at least `|S|` with
/// `coverage`), `L ∈ 1..=max_layers`, `α_l ∈ [0.05, 1]`.
pub fn draw_case(rng: &mut Rng, max_states: usize, max_n: usize, max_layers: usize, coverage: bool) -> Case {
    let ns = rng.random_range(if coverage { 2 } else { 1 }..=max_states);
    let gamma = rng.random_range(0.0..0.99);
    let mrp = random_mrp(rng, ns, gamma);
    let kind = if rng.random_bool(0.5) { FeatureKind::OneHot } else { FeatureKind::Random(rng.random_range(1..=8)) };
    let features = match kind {
        FeatureKind::OneHot => Features::one_hot(ns, 1, 1.0),
        FeatureKind::Random(d) => Features::random(rng, ns, 1, d),
    };
    let beta = log_uniform(rng, -2.0, 3.0);
    let lo_n = if coverage { ns } else { 1 };
    let n = rng.random_range(lo_n..=max_n.max(lo_n));
    let traj = if coverage { coverage_rollout(rng, &mrp, n) } else { mrp_rollout(rng, &mrp, n) };
    let layers = rng.random_range(1..=max_layers);
    let alphas = (0..layers).map(|_| rng.random_range(0.05..=1.0)).collect();
    Case { mrp, features, beta, traj, alphas }
}

/// The largest `|v_l(s)|` over layers and states (at least 1): the scale of the comparisons.
pub fn value_scale(vs: &[Vec<f64>]) -> f64 {
    vs.iter().flatten().map(|x| x.abs()).fold(1.0, f64::max)
}

/// Outcome of the Theorem-1 comparison.
#[derive(Clone, Debug)]
pub struct Equivalence {
    /// Every measurement.
    pub measurements: Vec<Measurement>,
    /// `Z_l[d+2, n]`, `l = 1..L`.
    pub transformer: Vec<f64>,
    /// `v_l(S_n)`, `l = 1..L`.
    pub reference: Vec<f64>,
    /// `max_{l,j} (|Z_l[i,j] − ref| − (e_T + e_R)) / scale` over the value and target memories
    /// (`> 0`: Theorem 1's conclusion fails at some entry; `NaN` when a bound overflowed).
    pub violation: f64,
    /// Some error bound overflowed (nothing certified; `icrl check` refuses the input).
    pub overflow: bool,
}

/// `max_k (|x_T − x_R| − (e_T + e_R)) / scale`: positive iff some entry is outside its bound
/// (`NaN` if a bound is not finite).
fn excess(tf: &[ErrBound], rf: &[ErrBound], scale: f64) -> f64 {
    tf.iter().zip(rf).fold(f64::NEG_INFINITY, |m, (a, b)| {
        let bound = add_up(a.e, b.e);
        let x = if bound.is_finite() { ((a.x - b.x).abs() - bound) / scale } else { f64::NAN };
        worst(m, x)
    })
}

/// A rigorous `f64` measurement ([`bounded_cmp`]): entry `k` holds iff `|x_T − x_R| ≤ e_T + e_R`.
fn bounded_measurement(quantity: &str, c: &BoundedCmp) -> Measurement {
    Measurement::equality(Arithmetic::F64, quantity, c.error, c.tolerance)
}

/// Given (user) weights as exact inputs of the bounded computation.
pub fn bounded_layers(layers: &[MultiHeadLayer]) -> Vec<MultiHeadLayer<ErrBound>> {
    let ex = |m: &Mat<f64>| m.map(|&x| ErrBound::exact(x));
    layers
        .iter()
        .map(|l| MultiHeadLayer {
            a: ex(&l.a),
            heads: l.heads.iter().map(|h| crate::attention::softmax::Head { v: ex(&h.v), shift: h.shift }).collect(),
            mask_query: l.mask_query,
        })
        .collect()
}

/// Theorem 1 on `case` with the (possibly relaxed or sabotaged) construction `parts`, built
/// on [`ErrBound`] (the rounding of `γα` is bounded). `rng` draws the perturbations of the
/// mask checks.
pub fn equivalence(case: &Case, parts: &Parts, rng: &mut Rng) -> Equivalence {
    body(case, &parts.two_head_stack_in::<ErrBound>(&case.alphas), rng)
}

/// The one check body of `softmax-td-equivalence` (`verify`, `icrl check`, the searches and
/// replays): the given two-head `layers` (the construction, relaxed, sabotaged, or the
/// user's) on the prompt built from the raw trajectory, against weighted softmax TD on the
/// reference side's own reading of it. `rng` draws the perturbations of the mask checks.
///
/// Both sides run on [`ErrBound`] (values bit for bit the plain `f64` ones): the memories are
/// compared entry by entry against `e_T + e_R` ([`bounded_cmp`]), which exact equality
/// implies at every magnitude and depth (`proofs/README.md`, "Rigorous `f64` bounds").
pub fn body(case: &Case, layers: &[MultiHeadLayer<ErrBound>], rng: &mut Rng) -> Equivalence {
    let (d, n) = (case.d(), case.n());
    let gamma = ErrBound::from_f64(case.gamma());
    let st = &case.traj.states;
    let z0: Mat<ErrBound> = case.prompt_in();
    let zs = forward_multi_head(&z0, layers);
    let vs = case.reference_in::<ErrBound>().iterates(&case.alphas);
    let scale = vs.iter().flatten().map(|x| x.x.abs()).fold(1.0, f64::max);
    let cap = zs.len() * (n + 1);
    let (mut tv, mut rv, mut tt, mut rt) =
        (Vec::with_capacity(cap), Vec::with_capacity(cap), Vec::with_capacity(cap), Vec::with_capacity(cap));
    let mut err_rows: f64 = 0.0;
    for (l, z) in zs.iter().enumerate() {
        for j in 0..=n {
            tv.push(z[(d + 2, j)]);
            rv.push(vs[l][st[j]]);
            tt.push(z[(d + 1, j)]);
            rt.push(if j < n { gamma * vs[l][st[j + 1]] } else { ErrBound::exact(0.0) });
            for i in 0..=d {
                err_rows = worst(err_rows, (z[(i, j)].x - z0[(i, j)].x).abs());
            }
        }
    }
    let (cv, ct) = (bounded_cmp(&tv, &rv), bounded_cmp(&tt, &rt));
    let violation = worst(excess(&tv, &rv, scale), excess(&tt, &rt, scale));
    let f = Arithmetic::F64;
    let mut ms = vec![
        bounded_measurement("Z_l[d+2, j] = v_l(S_j), every layer and column", &cv),
        bounded_measurement("Z_l[d+1, j] = γ v_l(S_{j+1}), Z_l[d+1, n] = 0", &ct),
        Measurement::equality(f, "rows 0..d (features, rewards) unchanged, bit for bit", err_rows, 0.0),
    ];
    // Mask (a): perturbing the query column's reward and memory entries changes nothing but
    // those entries (which persist additively through the residual stream): exactly
    // `Z'_l − Z_l = p` there and `0` elsewhere, compared against the two bounds.
    let p: Vec<f64> = (0..3).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut z0p = z0.clone();
    for (k, pk) in p.iter().enumerate() {
        z0p[(d + k, n)] = z0p[(d + k, n)] + ErrBound::exact(*pk);
    }
    let zps = forward_multi_head(&z0p, layers);
    let (mut diff, mut expect) = (Vec::new(), Vec::new());
    for (z, zp) in zs.iter().zip(&zps) {
        for i in 0..d + 3 {
            for j in 0..=n {
                diff.push(zp[(i, j)] - z[(i, j)]);
                expect.push(ErrBound::exact(if j == n && i >= d { p[i - d] } else { 0.0 }));
            }
        }
    }
    let cm = bounded_cmp(&diff, &expect);
    ms.push(bounded_measurement("mask: query reward/memory entries affect nothing else", &cm));
    // Mask (b): perturbing the query features changes, in one layer, only column n and the
    // target memory Z[d+1, n-1] (which reads the query's new value through the shift).
    let mut z0q = z0.clone();
    for i in 0..d {
        z0q[(i, n)] = z0q[(i, n)] + ErrBound::exact(rng.random_range(-1.0..1.0));
    }
    let one = &layers[..1];
    let z1 = &zs[1];
    let z1q = &forward_multi_head(&z0q, one)[1];
    let mut err_q: f64 = 0.0;
    for i in 0..d + 3 {
        for j in 0..n {
            if i == d + 1 && j + 1 == n {
                continue;
            }
            err_q = worst(err_q, (z1q[(i, j)].x - z1[(i, j)].x).abs());
        }
    }
    ms.push(Measurement::equality(
        f,
        "mask: query features change only column n and Z[d+1, n-1], bit for bit",
        err_q,
        0.0,
    ));
    let transformer = zs[1..].iter().map(|z| z[(d + 2, n)].x).collect();
    let reference = vs[1..].iter().map(|v| v[st[n]].x).collect();
    let overflow = cv.overflow || ct.overflow || cm.overflow;
    Equivalence { measurements: ms, transformer, reference, violation, overflow }
}

/// The construction, sabotaged when asked: the reward coefficient of `u` becomes `1.01`.
pub fn parts_for(case: &Case, sabotage: bool) -> Parts {
    let mut parts = Parts::new(case.d(), case.gamma());
    if sabotage {
        parts.u[case.d()] = 1.01;
    }
    parts
}

fn check_equivalence(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let case = draw_case(rng, 8, 64, 50, false);
    let parts = parts_for(&case, ctx.sabotage);
    let e = equivalence(&case, &parts, rng);
    let instance = ctx.want_instance.then(|| {
        let mut v = case.to_json();
        v["weights"] = Weights::Softmax(parts.two_head_stack(&case.alphas)).to_json();
        v
    });
    CaseResult { measurements: e.measurements, instance, sz_shape: None }
}

/// Lemma 1: the two forms entry by entry, every layer, both on [`ErrBound`]. Returns (error,
/// tolerance, one-head readouts, two-head readouts) of [`bounded_cmp`] over every entry of
/// every iterate (tolerance `NaN` when a bound overflowed).
pub fn single_head(case: &Case, sabotage: bool) -> (f64, f64, Vec<f64>, Vec<f64>) {
    let d = case.d();
    let n = case.n();
    let z0: Mat<ErrBound> = case.prompt_in();
    let parts = Parts::new(d, case.gamma());
    let two = forward_multi_head(&z0, &parts.two_head_stack_in::<ErrBound>(&case.alphas));
    let mut stack = parts.shift_stack_in::<ErrBound>(&case.alphas);
    if sabotage {
        stack[0].v[(d + 2, d)] = stack[0].v[(d + 2, d)] * ErrBound::exact(1.01);
    }
    let one = forward_shift(&z0, &stack);
    let flat = |zs: &[Mat<ErrBound>]| zs.iter().flat_map(|z| z.as_slice().iter().copied()).collect::<Vec<_>>();
    let c = bounded_cmp(&flat(&two), &flat(&one));
    let r1 = one[1..].iter().map(|z| z[(d + 2, n)].x).collect();
    let r2 = two[1..].iter().map(|z| z[(d + 2, n)].x).collect();
    (c.error, c.tolerance, r1, r2)
}

fn check_single_head(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let case = draw_case(rng, 8, 64, 50, false);
    let (err, tol, _, _) = single_head(&case, ctx.sabotage);
    CaseResult {
        measurements: vec![Measurement::equality(
            Arithmetic::F64,
            "one head + shift (U, W, Π) = two heads, every entry, every layer",
            err,
            tol,
        )],
        instance: ctx.want_instance.then(|| case.to_json()),
        sz_shape: None,
    }
}

/// The state-space measurements of one case with coverage, every side on [`ErrBound`]
/// (rigorous tolerances, [`bounded_cmp`]); also returns the transformer's and the state-space
/// form's query values.
pub fn state_space(case: &Case, sabotage: bool) -> (Vec<Measurement>, Vec<f64>, Vec<f64>) {
    let (d, n, ns) = (case.d(), case.n(), case.mrp.n_states());
    let st = &case.traj.states;
    let wst = case.reference_in::<ErrBound>();
    let ss = wst.state_space(case.mrp.rewards());
    let f = Arithmetic::F64;
    // Row sums against the exact 1 (Σ_k K = 1 exactly), and nonnegativity on the values.
    let mut neg: f64 = 0.0;
    let mut sums = Vec::with_capacity(2 * ns);
    for s in 0..ns {
        let (mut sm, mut sp) = (ErrBound::exact(0.0), ErrBound::exact(0.0));
        for t in 0..ns {
            let (m, p) = (ss.m_hat[s * ns + t], ss.p_hat[s * ns + t]);
            neg = worst(worst(neg, -m.x), -p.x);
            sm = sm + m;
            sp = sp + p;
        }
        sums.push(sm);
        sums.push(sp);
    }
    let c_stoch = bounded_cmp(&sums, &vec![ErrBound::exact(1.0); sums.len()]);
    let m_stoch = if neg > 0.0 || neg.is_nan() {
        Measurement::equality(f, "M̂_n and P̂_n nonnegative and row-stochastic", neg, 0.0)
    } else {
        bounded_measurement("M̂_n and P̂_n nonnegative and row-stochastic", &c_stoch)
    };
    let c_r = bounded_cmp(&ss.r_hat, &ss.m_r);
    let per_col = wst.iterates(&case.alphas);
    let sspace = ss.iterates(&case.alphas);
    let flat = |v: &[Vec<ErrBound>]| v.iter().flatten().copied().collect::<Vec<_>>();
    let c_ss = bounded_cmp(&flat(&per_col), &flat(&sspace));
    let parts = parts_for(case, sabotage);
    let z0: Mat<ErrBound> = case.prompt_in();
    let zs = forward_multi_head(&z0, &parts.two_head_stack_in::<ErrBound>(&case.alphas));
    let (mut tf, mut rf) = (Vec::new(), Vec::new());
    for (z, v) in zs.iter().zip(&sspace) {
        for j in 0..=n {
            tf.push(z[(d + 2, j)]);
            rf.push(v[st[j]]);
        }
    }
    let c_tf = bounded_cmp(&tf, &rf);
    let ms = vec![
        m_stoch,
        bounded_measurement("r̂_n = M̂_n r", &c_r),
        bounded_measurement("state-space recursion = per-state weighted softmax TD", &c_ss),
        bounded_measurement("transformer columns = state-space v_l at S_j; coverage: all states", &c_tf),
    ];
    let t = zs[1..].iter().map(|z| z[(d + 2, n)].x).collect();
    let r = sspace[1..].iter().map(|v| v[st[n]].x).collect();
    (ms, t, r)
}

fn check_state_space(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let case = draw_case(rng, 8, 64, 30, true);
    let (ms, _, _) = state_space(&case, ctx.sabotage);
    CaseResult { measurements: ms, instance: ctx.want_instance.then(|| case.to_json()), sz_shape: None }
}

/// Least-squares slope of `ys` against `xs`.
pub fn ls_slope(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    sxy / sxx
}

/// The `β` grid of the tabular-limit rate.
pub const TABULAR_BETAS: [f64; 4] = [8.0, 10.0, 12.0, 14.0];

/// Tabular limit: returns the measurements and, for the record, `(β, error)` pairs.
pub fn tabular_limit(case: &Case, sabotage: bool) -> (Vec<Measurement>, Vec<(f64, f64)>) {
    let (ns, n) = (case.mrp.n_states(), case.n());
    let (st, rw, gamma) = (&case.traj.states, &case.traj.rewards, case.gamma());
    let f = Arithmetic::F64;
    let onehot = Features::one_hot(ns, 1, 1.0);
    let ex = ErrBound::exact;
    // The three equalities run on `ErrBound` (the same `f64` values plus a rigorous bound on the
    // distance to the exact real value of each side, `proofs/README.md`): each compares
    // `|x_T − x_R| ≤ e_T + e_R` (`bounded_cmp`). The sabotage replaces each right-hand side by a
    // misreading, so each equality has its own negative control.
    //
    // (a) The diagonal of M̂_n against the closed form. M̂_n(s,s) = Σ_{k: S_{k-1} = s} K(S_{k-1}, s)
    // = N_s e^β / (N_s e^β + n − N_s) with u_s = N_s/n; the sabotage drops the `− u_s` (the form
    // `u/(u + e^-β)`).
    let mut lhs = Vec::new();
    let mut rhs = Vec::new();
    for beta in [0.1, 1.0, 3.0, 10.0, 30.0] {
        let ss = WeightedSoftmaxTd::new_in(&onehot, ex(beta), st, rw, ex(gamma)).state_space(case.mrp.rewards());
        let e_neg = (-ex(beta)).exp_val();
        for s in 0..ns {
            let u = ex(st[..n].iter().filter(|&&x| x == s).count() as f64) / ex(n as f64);
            let rest = if sabotage { ex(1.0) } else { ex(1.0) - u };
            lhs.push(ss.m_hat[s * ns + s]);
            rhs.push(u / (u + rest * e_neg));
        }
    }
    let c_diag = bounded_cmp(&lhs, &rhs);
    // (b) the limit and its rate.
    let limit = reference::tabular_limit(ns, st, rw, gamma);
    let mut v_inf = limit.iterates(&case.alphas);
    let scale = value_scale(&v_inf);
    if sabotage {
        v_inf[case.layers()][st[0]] += 1e-3 * scale;
    }
    let mut pts = Vec::new();
    for beta in TABULAR_BETAS {
        let vb = WeightedSoftmaxTd::new(&onehot, beta, st, rw, gamma).iterates(&case.alphas);
        let e = vb.iter().flatten().zip(v_inf.iter().flatten()).map(|(a, b)| (a - b).abs()).fold(0.0, worst) / scale;
        pts.push((beta, e));
    }
    let slope =
        ls_slope(&pts.iter().map(|p| p.0).collect::<Vec<_>>(), &pts.iter().map(|p| p.1.ln()).collect::<Vec<_>>());
    // (c) α = 1: the limit is value iteration on the empirical model. One step of the limit at
    // α = 1 is v(s) + (1/N_s) Σ_{k: S_{k-1}=s} (R_k + γ v(S_k) − v(s)) = (1/N_s) Σ (R_k + γ v(S_k))
    // exactly, under coverage. The sabotage takes the step at α = 1 − 2^-10 (not value iteration
    // unless v is its fixed point).
    let limit_b = reference::tabular_limit(ns, st, rw, ex(gamma));
    let v: Vec<ErrBound> = (0..ns).map(|s| ex(((s * 7 + 3) % 5) as f64 / 5.0 - 0.4)).collect();
    let a = limit_b.step(&v, ex(1.0));
    let a_vi = if sabotage { limit_b.step(&v, ex(1.0 - 1.0 / 1024.0)) } else { a.clone() };
    let b = reference::empirical_value_iteration(ns, st, rw, ex(gamma), &v);
    let c_vi = bounded_cmp(&a_vi, &b);
    // (d) α = 1: the limit map T(v) = r̂ + γ P̂ v (M̂ = I under coverage, P̂ row-stochastic) is a
    // sup-norm contraction with factor exactly γ: ‖Tu - Tv‖_∞ ≤ γ‖u - v‖_∞ for all u, v, with
    // equality along the constant direction (T(v + 1) = T(v) + γ 1). Measured: the largest ratio
    // over the constant direction and eight fixed sign patterns, each `u = v + dir` formed on
    // `ErrBound` (so its exact value is v + dir, and the exact ratio along dir = 1 is γ), against
    // γ; the bound of the ratio is propagated through the steps, the differences, `|·|`, the
    // maxima (|max x_i − max x̂_i| ≤ max |x_i − x̂_i|) and the division. The sabotage compares it
    // with the misreading (1 + γ²)/2 instead (which exceeds γ by (1 - γ)²/2 > 0).
    let sup = sup_dist_bounded;
    let mut ratio = ex(0.0);
    for k in 0..9usize {
        let dir: Vec<f64> =
            (0..ns).map(|s| if k == 0 { 1.0 } else { ((s * 13 + 7 * k) % 11) as f64 / 11.0 - 0.5 }).collect();
        let norm = dir.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if norm < 0.25 {
            continue;
        }
        let u: Vec<ErrBound> = v.iter().zip(&dir).map(|(x, e)| *x + ex(*e)).collect();
        ratio = ratio.max_val(sup(&limit_b.step(&u, ex(1.0)), &a) / sup(&u, &v));
    }
    let factor = if sabotage { (ex(1.0) + ex(gamma) * ex(gamma)) / ex(2.0) } else { ex(gamma) };
    let c_factor = bounded_cmp(&[ratio], &[factor]);
    let ms = vec![
        bounded_measurement("one-hot M̂_n(s,s) = e^β u_s / (e^β u_s + 1 - u_s)", &c_diag),
        Measurement::rate(
            f,
            "β → ∞: ln‖v_l^β - v_l^∞‖ slope in β is -1 (rate e^-β)",
            (slope + 1.0).abs(),
            LIMIT_SLOPE_TOL,
        ),
        bounded_measurement("α = 1 limit = value iteration on the empirical model", &c_vi),
        bounded_measurement(
            "α = 1 limit: sup-norm contraction factor max ‖Tu - Tv‖/‖u - v‖ = γ (attained at v + 1)",
            &c_factor,
        ),
    ];
    (ms, pts)
}

fn check_tabular_limit(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let mut case = draw_case(rng, 6, 40, 10, true);
    case.features = Features::one_hot(case.mrp.n_states(), 1, 1.0);
    let (ms, _) = tabular_limit(&case, ctx.sabotage);
    CaseResult { measurements: ms, instance: ctx.want_instance.then(|| case.to_json()), sz_shape: None }
}

/// A convergence-rate measurement from `(ln h, ln error)` points: the fitted slope must be
/// `expected ± LIMIT_SLOPE_TOL`. When even the largest error is within 100× the roundoff
/// `floor` (degenerate instances, e.g. features that are nearly all equal, where the
/// higher-order coefficient vanishes), the slope is meaningless and the measurement becomes
/// "the error is at the rounding level" (`error ≤ 100·floor`). Returns the measurement and the
/// slope (NaN when degenerate).
pub fn rate_measurement(quantity: &str, pts: &[(f64, f64)], expected: f64, floor: f64) -> (Measurement, f64) {
    let largest = pts.iter().map(|p| p.1.exp()).fold(0.0, worst);
    if largest <= 100.0 * floor {
        let q = format!("{quantity} (degenerate: error at rounding level)");
        return (Measurement::rate(Arithmetic::F64, q, largest, 100.0 * floor), f64::NAN);
    }
    let slope = ls_slope(&pts.iter().map(|p| p.0).collect::<Vec<_>>(), &pts.iter().map(|p| p.1).collect::<Vec<_>>());
    (Measurement::rate(Arithmetic::F64, quantity, (slope - expected).abs(), LIMIT_SLOPE_TOL), slope)
}

/// The finite-difference steps of the small-temperature rate.
pub const SMALL_BETA_STEPS: [f64; 3] = [0.01, 0.005, 0.0025];

/// Small temperature: `K → 1/n` at rate `β`, and the central difference of one update at
/// `β = 0` converges to the centered linear-TD term at rate `h²`. `centered = false` is the
/// negative control.
pub fn small_temperature(case: &Case, v: &[f64], alpha: f64, centered: bool) -> (Vec<Measurement>, f64, f64) {
    let (st, rw, gamma, n) = (&case.traj.states, &case.traj.rewards, case.gamma(), case.n());
    let ns = case.mrp.n_states();
    let deriv = reference::small_beta_derivative(&case.features, st, rw, gamma, v, alpha, centered);
    let mut fd_pts = Vec::new();
    let mut k_pts = Vec::new();
    for h in SMALL_BETA_STEPS {
        let plus = WeightedSoftmaxTd::new(&case.features, h, st, rw, gamma);
        let minus = WeightedSoftmaxTd::new(&case.features, -h, st, rw, gamma);
        let (tp, tm) = (plus.step(v, alpha), minus.step(v, alpha));
        let e = (0..ns).map(|s| ((tp[s] - tm[s]) / (2.0 * h) - deriv[s]).abs()).fold(0.0, worst);
        fd_pts.push((h.ln(), e.ln()));
        let mut ek: f64 = 0.0;
        for s in 0..ns {
            for k1 in 0..n {
                ek = worst(ek, (plus.kernel(k1, s) - 1.0 / n as f64).abs());
            }
        }
        k_pts.push((h.ln(), ek.ln()));
    }
    // Roundoff floor of the central difference: each step value has error about
    // n·u·(its scale); dividing by 2h amplifies it.
    let tscale = v.iter().chain(rw.iter()).map(|x| x.abs()).fold(1.0, f64::max);
    let fd_floor = crate::tolerance::pathwise_slack(n) * tscale / SMALL_BETA_STEPS[SMALL_BETA_STEPS.len() - 1];
    let k_floor = crate::tolerance::pathwise_slack(n);
    let m_k = rate_measurement("β → 0: max|K - 1/n| has log-log slope 1 in β", &k_pts, 1.0, k_floor);
    let m_fd = rate_measurement(
        "d/dβ of the update at 0 = (α/n) Σ_k ⟨x(s), x(S_k-1) - x̄⟩ δ_k: central-difference error slope 2",
        &fd_pts,
        2.0,
        fd_floor,
    );
    let (s_fd, s_k) = (m_fd.1, m_k.1);
    let ms = vec![m_k.0, m_fd.0];
    (ms, s_fd, s_k)
}

fn check_small_temperature(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let ns = rng.random_range(2..=6);
    let gamma = rng.random_range(0.0..0.99);
    let mrp = random_mrp(rng, ns, gamma);
    let d = rng.random_range(1..=6);
    let features = Features::random(rng, ns, 1, d);
    let n = rng.random_range(ns..=40);
    let traj = coverage_rollout(rng, &mrp, n);
    let alpha = rng.random_range(0.05..=1.0);
    let v: Vec<f64> = (0..ns).map(|_| rng.random_range(-1.0..1.0)).collect();
    let case = Case { mrp, features, beta: 0.0, traj, alphas: vec![alpha] };
    let (ms, _, _) = small_temperature(&case, &v, alpha, !ctx.sabotage);
    CaseResult { measurements: ms, instance: ctx.want_instance.then(|| case.to_json()), sz_shape: None }
}

const A_MASK: Assumption = Assumption {
    id: AssumptionId::QueryMask,
    statement: "M[n, j] = -inf for every j: the query column is never a source",
    search: Some(crate::theorem::relax::softmax::search_query_mask),
    replay: Some(crate::theorem::relax::softmax::replay_query_mask),
};
const A_TWO: Assumption = Assumption {
    id: AssumptionId::TwoHeads,
    statement:
        "a second head (gamma*alpha e_{d+1} u^T with the column shift) keeps the target memory at gamma v_l(S_{j+1})",
    search: Some(crate::theorem::relax::softmax::search_two_heads),
    replay: Some(crate::theorem::relax::softmax::replay_two_heads),
};
const A_ATTN: Assumption = Assumption {
    id: AssumptionId::FeatureOnlyAttention,
    statement: "A = diag(I_d, 0): the reward and memory rows do not enter the scores",
    search: Some(crate::theorem::relax::softmax::search_attention_block),
    replay: Some(crate::theorem::relax::softmax::replay_attention_block),
};
const A_SHIFT: Assumption = Assumption {
    id: AssumptionId::Shift,
    statement: "the parameter-free U = I - e_{d+1}e_{d+1}^T, W = gamma e_{d+1}e_{d+2}^T and the column shift follow the single head",
    search: None,
    replay: None,
};
const A_COVERAGE: Assumption = Assumption {
    id: AssumptionId::Coverage,
    statement: "the context's sources S_0..S_{n-1} visit every state (so the columns determine v_l on all states)",
    search: None,
    replay: None,
};
const A_ONEHOT: Assumption = Assumption {
    id: AssumptionId::OneHotFeatures,
    statement: "x(s) = sqrt(beta) e_s, and the context visits every state",
    search: None,
    replay: None,
};
const A_SMALLBETA: Assumption = Assumption {
    id: AssumptionId::SmoothInBeta,
    statement: "features fixed, beta -> 0 (no assumption beyond finiteness)",
    search: None,
    replay: None,
};

/// The `softmax-td` instance family (an MRP): params `layers`, `alpha` [1] or `alphas`, `beta`
/// [1]; weights `{"layers": [{"A": m×m, "heads": [{"V": m×m, "shift": bool}, …]}, …]}`,
/// `m = d + 3`.
pub static FAMILY: Family = Family {
    name: "softmax-td",
    params: &["layers", "alpha", "alphas", "beta"],
    conflicts: &[("alpha", "alphas")],
    weights: "{\"layers\": [{\"A\": m×m, \"heads\": [{\"V\": m×m, \"shift\": bool}]}]}, m = d+3 ([XZ] prompt)",
};

fn ic(run: crate::theorem::InstanceRun, takes_weights: bool) -> Option<InstanceCheck> {
    Some(InstanceCheck { family: &FAMILY, run, takes_weights })
}

/// Registry entries of this family.
pub fn specs() -> Vec<TheoremSpec> {
    vec![
        TheoremSpec {
            id: "softmax-td-equivalence",
            statement: "With A = diag(I_d,0), u = e_d + e_{d+1} - e_{d+2} and two heads sharing A (the second shifted), every layer l and column j of the masked softmax transformer satisfies Z_l[d+2,j] = v_l(S_j) (weighted softmax TD, v_0 = 0), Z_l[d+1,j] = gamma v_l(S_{j+1}); rows 0..d never change; the query column is never a source.",
            provenance: Provenance::Quoted,
            kind: super::CheckKind::Equality,
            source: "[XZ] Thm 1, arXiv:2605.07333 (the prompt layout, the exact A and u, and the row indices [D])",
            assumptions: &[A_MASK, A_TWO, A_ATTN],
            sz_degree: None,
            field: None,
            default_cases: 1000,
            proof_page: "proofs/softmax-td.md",
            formal: Formal::Proved("SoftmaxTD.v", "softmax_td_equivalence"),
            check: check_equivalence,
            instance: ic(instance_equivalence, true),
        },
        TheoremSpec {
            id: "softmax-td-single-head",
            statement: "One head V = alpha e_{d+2} u^T followed by the parameter-free Z <- U Z~ + W Z~ Pi (U = I - e_{d+1}e_{d+1}^T, W = gamma e_{d+1}e_{d+2}^T) equals the two-head layer entry by entry along the forward pass from the prompt (where the target memory holds gamma v_l(S_{j+1}); on an arbitrary Z the two differ, proofs/coq/SoftmaxTD.v:single_head_gap).",
            provenance: Provenance::Quoted,
            kind: super::CheckKind::Equality,
            source: "[XZ] Lemma 1, arXiv:2605.07333",
            assumptions: &[A_MASK, A_SHIFT],
            sz_degree: None,
            field: None,
            default_cases: 1000,
            proof_page: "proofs/softmax-td.md",
            formal: Formal::Proved("SoftmaxTD.v", "softmax_td_single_head"),
            check: check_single_head,
            instance: ic(instance_single_head, false),
        },
        TheoremSpec {
            id: "softmax-td-state-space",
            statement: "M^_n, P^_n are nonnegative and row-stochastic, r^_n = M^_n r, and v_{l+1} = (I - alpha M^_n + alpha gamma P^_n) v_l + alpha r^_n equals the per-column iterates; under coverage the transformer's columns give v_l on every state.",
            provenance: Provenance::Derived,
            kind: super::CheckKind::Equality,
            source: "[XZ] eq. 20 (definitions [Q]; recursion derived), arXiv:2605.07333",
            assumptions: &[A_MASK, A_TWO, A_COVERAGE],
            sz_degree: None,
            field: None,
            default_cases: 1000,
            proof_page: "proofs/softmax-td.md",
            formal: Formal::Proved("StateSpace.v", "state_space_iterates"),
            check: check_state_space,
            instance: ic(instance_state_space, false),
        },
        TheoremSpec {
            id: "softmax-td-tabular-limit",
            statement: "With x(s) = sqrt(beta) e_s: M^_n(s,s) = e^beta u_s/(e^beta u_s + 1 - u_s) exactly; as beta -> oo the iterates converge to tabular batch TD with per-state averages at rate e^-beta; at alpha = 1 that limit is value iteration on the empirical model, a sup-norm contraction with factor exactly gamma.",
            provenance: Provenance::Derived,
            kind: super::CheckKind::Rate,
            source: "[XZ] softmax TD, tabular special case (derived), arXiv:2605.07333",
            assumptions: &[A_ONEHOT],
            sz_degree: None,
            field: None,
            default_cases: 300,
            proof_page: "proofs/softmax-td.md",
            formal: Formal::None("a limit β → ∞ at rate e^{-β} needs real analysis, which the installed libraries do not give"),
            check: check_tabular_limit,
            instance: None,
        },
        TheoremSpec {
            id: "softmax-td-small-temperature",
            statement: "As beta -> 0 the kernel tends to 1/n at rate beta, and the first-order term of the update is (alpha beta/n) sum_k <x(s), x(S_{k-1}) - xbar> delta_k: batch linear TD on centered features (central differences converge at rate h^2).",
            provenance: Provenance::Derived,
            kind: super::CheckKind::Rate,
            source: "[XZ] softmax TD, linear-TD special case (first order in beta, derived), arXiv:2605.07333",
            assumptions: &[A_SMALLBETA],
            sz_degree: None,
            field: None,
            default_cases: 500,
            proof_page: "proofs/softmax-td.md",
            formal: Formal::None("a derivative in β at 0 needs real analysis"),
            check: check_small_temperature,
            instance: None,
        },
    ]
}

/// Read the case of a `softmax-td` instance and admit its cost (`O(L (n+1)² (d+3))` work,
/// `(n+1)²` score and attention buffers).
fn admitted_case(inst: &Instance, limits: &Limits) -> Result<Case, InputError> {
    let case = Case::from_instance(inst)?;
    let (l, c, m) = (case.layers() as f64, (case.n() + 1) as f64, (case.d() + 3) as f64);
    let work = l * (c * c * m * 4.0 + crate::theorem::common::cost::LAYER_OVERHEAD);
    let work_field = if l > 1.0 { "params.layers" } else { "trajectory.rewards" };
    crate::theorem::common::cost::admit(work_field, work, 0.0, limits)?;
    crate::theorem::common::cost::admit("trajectory.rewards", 0.0, 8.0 * 6.0 * c * c + l * 8.0 * c * m, limits)?;
    Ok(case)
}

/// `softmax-td-equivalence` on an instance: [`body`] with the given weights or the construction.
fn instance_equivalence(inst: &Instance, limits: &Limits) -> Result<Option<InstanceOutcome>, InputError> {
    let mut case = admitted_case(inst, limits)?;
    let layers = match &inst.weights {
        Some(v) => match Weights::from_json(v, "weights", Layout::Softmax(case.d() + 3))? {
            Weights::Softmax(ls) => {
                if ls.len() != case.layers() {
                    if inst.params.has("layers") || inst.params.has("alphas") {
                        return Err(InputError::new(
                            "weights.layers",
                            format!("has {} layers, params name {}", ls.len(), case.layers()),
                        ));
                    }
                    case.alphas = vec![case.alphas[0]; ls.len()];
                }
                ls
            }
            _ => unreachable!("Layout::Softmax parses to Weights::Softmax"),
        },
        None => Parts::new(case.d(), case.gamma()).two_head_stack(&case.alphas),
    };
    let mut rng = crate::rng::case_rng(0, "softmax-td-check", 0);
    let layers = match &inst.weights {
        // Given weights are exact inputs; the construction carries the bound of `γα`.
        Some(_) => bounded_layers(&layers),
        None => Parts::new(case.d(), case.gamma()).two_head_stack_in::<ErrBound>(&case.alphas),
    };
    let e = body(&case, &layers, &mut rng);
    let mut r = result("softmax-td-equivalence", &e.measurements, e.transformer, e.reference);
    if e.overflow {
        r.max_abs_error = f64::INFINITY; // nothing certified: `check` refuses it as an overflow
    }
    r.weights = inst.weights.is_some();
    Ok(Some(InstanceOutcome { results: vec![r], skipped: vec![] }))
}

/// `softmax-td-single-head` (Lemma 1, about the construction) on an instance.
fn instance_single_head(inst: &Instance, limits: &Limits) -> Result<Option<InstanceOutcome>, InputError> {
    let case = admitted_case(inst, limits)?;
    let (err, tol, r1, r2) = single_head(&case, false);
    let mut r = result(
        "softmax-td-single-head",
        &[Measurement::equality(Arithmetic::F64, "one head = two heads", err, tol)],
        r1,
        r2,
    );
    if tol.is_nan() {
        r.max_abs_error = f64::INFINITY; // a bound overflowed: `check` refuses the input
    }
    Ok(Some(InstanceOutcome { results: vec![r], skipped: vec![] }))
}

/// `softmax-td-state-space` on an instance whose context has coverage.
fn instance_state_space(inst: &Instance, limits: &Limits) -> Result<Option<InstanceOutcome>, InputError> {
    let case = admitted_case(inst, limits)?;
    if !reference::coverage(&case.traj.states, case.n(), case.mrp.n_states()) {
        return Ok(None);
    }
    let (ms, t, r) = state_space(&case, false);
    let mut res = result("softmax-td-state-space", &ms, t, r);
    if ms.iter().any(|m| m.tolerance.is_nan()) {
        res.max_abs_error = f64::INFINITY; // a bound overflowed: `check` refuses the input
    }
    Ok(Some(InstanceOutcome { results: vec![res], skipped: vec![] }))
}

fn result(id: &str, ms: &[Measurement], transformer: Vec<f64>, reference: Vec<f64>) -> InstanceResult {
    let max_abs_error = transformer.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0.0, worst);
    let first_mismatch = ms
        .iter()
        .find(|m| !m.holds)
        .map(|m| format!("{}: error {:e} > tolerance {:e}", m.quantity, m.error, m.tolerance));
    InstanceResult {
        theorem: id.to_string(),
        arithmetic: Arithmetic::F64,
        holds: ms.iter().all(|m| m.holds),
        max_abs_error,
        transformer,
        reference,
        first_mismatch,
        weights: false,
    }
}

/// `icrl bench --which softmax-td`: throughput of Theorem-1 checks at `d = 8, n = 64, L = 10`
/// (random MRP with 8 states, random features, `β = 1`, `α_l ∈ [0.05, 1]`), sequentially for at
/// least `seconds`, then the same number of instances in parallel (rayon). Two figures: the
/// full check (transformer + reference + the two mask controls, three forward passes) and the
/// bare comparison (one forward pass + the reference).
pub fn bench(seconds: f64) -> Vec<String> {
    use rayon::prelude::*;
    use std::time::Instant;
    let make = |k: u64| {
        let mut rng = crate::rng::case_rng(0, "bench-softmax-td", k);
        let mrp = random_mrp(&mut rng, 8, 0.9);
        let features = Features::random(&mut rng, 8, 1, 8);
        let traj = mrp_rollout(&mut rng, &mrp, 64);
        let alphas = (0..10).map(|_| rng.random_range(0.05..=1.0)).collect();
        (Case { mrp, features, beta: 1.0, traj, alphas }, rng)
    };
    let full = |k: u64| {
        let (case, mut rng) = make(k);
        let e = equivalence(&case, &Parts::new(8, case.gamma()), &mut rng);
        assert!(e.measurements.iter().all(|m| m.holds), "bench instance {k} failed Theorem 1");
    };
    let bare = |k: u64| {
        let (case, _) = make(k);
        let zs = forward_multi_head(&case.prompt(), &Parts::new(8, case.gamma()).two_head_stack(&case.alphas));
        let vs = case.reference().iterates(&case.alphas);
        let err = zs
            .iter()
            .zip(&vs)
            .map(|(z, v)| (0..=64).map(|j| (z[(10, j)] - v[case.traj.states[j]]).abs()).fold(0.0, worst))
            .fold(0.0, worst);
        assert!(err <= case.tol() * value_scale(&vs));
    };
    let mut out = vec![format!(
        "softmax-td-equivalence, d = 8, n = 64, L = 10 ({} threads available):",
        rayon::current_num_threads()
    )];
    for (name, f) in [
        ("full Thm-1 check (3 forward passes + reference)", &full as &(dyn Fn(u64) + Sync)),
        ("bare comparison (1 forward pass + reference)", &bare),
    ] {
        let t0 = Instant::now();
        let mut k = 0u64;
        while t0.elapsed().as_secs_f64() < seconds {
            f(k);
            k += 1;
        }
        let seq = k as f64 / t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        (0..k).into_par_iter().for_each(f);
        let par = k as f64 / t1.elapsed().as_secs_f64();
        out.push(format!(
            "  {name}: {seq:.0} instances/s on 1 thread, {par:.0} instances/s in parallel ({k} instances)"
        ));
    }
    out
}
