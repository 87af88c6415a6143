//! [LL] Theorem 3.3 (arXiv:2605.05755): the SARSA block form implements one batch actor-critic
//! step. The exact equations of [LL] eq. 3 / eq. 14 were not recovered: the update, prompt and
//! construction here are **our reconstruction [R]** (`docs/theory/actor-critic.md`), and the checks
//! below are checks of that reconstruction.
//!
//! - `actor-critic-equivalence` [R]: with tokens `[f_i; γf⁺_i; r_{i+1}; ψ_i]` and parameter
//!   column `[1; w; λ]`, the block `(cP⋆, c⁻¹V⋆)` maps `(w, λ)` to
//!   `(w + (α/n) Σ δ_i f_i, λ + (β/n) Σ δ_i ψ_i)`.
//! - `actor-critic-score` [D]: the softmax score `g_λ(s,a) = φ_π(s,a) - Σ_b π_λ(b|s) φ_π(s,b)`
//!   has `Σ_a π_λ(a|s) g_λ(s,a) = 0` and equals the gradient of `log π_λ(a|s)`.
//!
//! # Assumptions
//! - `score-in-prompt`: `ψ_i = g_λ(s_i, a_i)` is precomputed into the prompt (it is a
//!   nonlinear function of `λ`, so a single linear head cannot compute it).
//! - `td-error-actor`: the actor increment is a multiple of the same TD error `δ_i` as the
//!   critic's (one head carries one scalar per column).

use crate::assumption::AssumptionId;
use crate::attention::linear::lsa_block_last_column;
use crate::attention::prompt::{actor_critic_prompt, parameter_readout};
use crate::construction::sarsa::{p_star, v_star, Shape};
use crate::error::InputError;
use crate::instance::{to_json, Instance};
use crate::linalg::Mat;
use crate::mdp::batch::TransitionBatch;
use crate::mdp::features::Features;
use crate::mdp::policy::{softmax_score, TabularPolicy};
use crate::mdp::rollout::{rollout_from_initial, Trajectory};
use crate::rl::actor_critic::batch_actor_critic;
use crate::rng::Rng;
use crate::scalar::errbound::ErrBound;
use crate::scalar::{grid, Scalar};
use crate::theorem::common::*;
use crate::theorem::{
    Arithmetic, Assumption, CaseResult, CheckCtx, Family, Formal, InstanceCheck, InstanceOutcome, Limits, Measurement,
    Provenance, Sides, Skipped, TheoremSpec,
};
use crate::tolerance::{fd_score_tol, SCORE_FD_STEP, UNIT_ROUNDOFF};
use crate::weights::{Layout, Weights};
use num_rational::BigRational;
use rand::Rng as _;

const ASSUMPTIONS: &[Assumption] = &[
    Assumption {
        id: AssumptionId::ScoreInPrompt,
        statement: "the policy score ψ_i = g_λ(s_i,a_i) is precomputed into the prompt",
        search: None,
        replay: None,
    },
    Assumption {
        id: AssumptionId::TdErrorActor,
        statement: "the actor increment is β δ_i ψ_i, a multiple of the critic's TD error",
        search: None,
        replay: None,
    },
];

/// The `actor-critic` instance family: params `w`, `lambda`, `alpha`, `beta`,
/// `policy_features[s][a][k]`, `c` [1]; weights `{"P": D×D, "V": D×D}`, `D = 3d + 2 + 2d_π`.
pub static FAMILY: Family = Family {
    name: "actor-critic",
    params: &["w", "lambda", "alpha", "beta", "policy_features", "c"],
    conflicts: &[],
    weights: "{\"P\": D×D, \"V\": D×D}, D = 3d+2+2d_π ([R] prompt [f; γf⁺; r; ψ | 1; w; λ])",
};

/// Registry entries.
pub fn specs() -> Vec<TheoremSpec> {
    vec![
        TheoremSpec {
            id: "actor-critic-equivalence",
            statement: "The block (cP⋆, c⁻¹V⋆) extended by zero rows for ψ and β I_{d_π} into the λ rows maps [f_i; γf⁺_i; r_{i+1}; ψ_i | 1; w; λ] to (w + (α/n) Σ δ_i f_i, λ + (β/n) Σ δ_i ψ_i) exactly.",
            provenance: Provenance::Reconstructed,
            kind: super::CheckKind::Equality,
            source: "[LL] Thm 3.3 and eq. 3, arXiv:2605.05755 (our reconstruction: exact equations not recovered)",
            assumptions: ASSUMPTIONS,
            sz_degree: Some(7),
            field: Some(&EQUIVALENCE_FIELD),
            default_cases: 1000,
            proof_page: "proofs/actor-critic-equivalence.md",
            formal: Formal::Proved("ActorCritic.v", "actor_critic_equivalence"),
            check: check_equivalence,
            instance: Some(InstanceCheck { family: &FAMILY, run: check_instance, takes_weights: true }),
        },
        TheoremSpec {
            id: "actor-critic-score",
            statement: "The softmax score g_λ(s,a) = φ_π(s,a) - Σ_b π_λ(b|s) φ_π(s,b) satisfies Σ_a π_λ(a|s) g_λ(s,a) = 0 and equals ∇_λ log π_λ(a|s) (checked against central finite differences).",
            provenance: Provenance::Derived,
            kind: super::CheckKind::Equality,
            source: "derived here for [LL] eq. 3, arXiv:2605.05755",
            assumptions: &[],
            sz_degree: None,
            field: None,
            default_cases: 1000,
            proof_page: "proofs/actor-critic-score.md",
            formal: Formal::Partial("Score.v", "score_mean_zero", "the centring of the score is proved; g = ∇ log π needs exp, log and derivatives"),
            check: check_score,
            instance: None,
        },
    ]
}

/// An actor-critic instance: MDP, critic and policy features, `(w, λ)`, a rollout of `π_λ`.
#[derive(Clone, Debug)]
pub struct AcCase {
    /// The MDP.
    pub mdp: crate::mdp::Mdp,
    /// Critic features `f(s,a)`.
    pub critic: Features,
    /// Policy features `φ_π(s,a)`.
    pub policy: Features,
    /// Rollout of `π_λ`.
    pub traj: Trajectory,
    /// Critic parameter.
    pub w: Vec<f64>,
    /// Actor parameter.
    pub lambda: Vec<f64>,
}

fn draw_case(rng: &mut Rng) -> AcCase {
    let s = draw_sizes(rng, (1, 4), (1, 3), (1, 4), (1, 8));
    let dp = rng.random_range(1..=3);
    let gamma = rng.random_range(0.0..0.99);
    let mdp = crate::mdp::generators::random_tabular(rng, s.n_states, s.n_actions, gamma);
    let critic = Features::random(rng, s.n_states, s.n_actions, s.d);
    let policy = Features::random(rng, s.n_states, s.n_actions, dp);
    let w: Vec<f64> = (0..s.d).map(|_| rng.random_range(-1.0..1.0)).collect();
    let lambda: Vec<f64> = (0..dp).map(|_| rng.random_range(-2.0..2.0)).collect();
    let pi = TabularPolicy::softmax(&policy, &lambda);
    let traj = rollout_from_initial(rng, &mdp, &pi, s.n);
    AcCase { mdp, critic, policy, traj, w, lambda }
}

/// The scores `ψ_i = g_λ(s_i, a_i)` along the window (computed in `f64`; both sides read the
/// same numbers, exactly).
pub fn scores(policy: &Features, lambda: &[f64], traj: &Trajectory) -> Vec<Vec<f64>> {
    let pi = TabularPolicy::softmax(policy, lambda);
    (0..traj.len()).map(|i| softmax_score(policy, &pi, traj.states[i], traj.actions[i])).collect()
}

/// The transformer side: one constructed block, readout `[w'; λ']`.
#[allow(clippy::too_many_arguments)] // the paper's symbols, one argument each
pub fn transformer<T: Scalar>(
    b: &TransitionBatch<T>,
    psi: &[Vec<T>],
    w: &[T],
    lambda: &[T],
    alpha: &T,
    beta: &T,
    c: &T,
    sabotage: bool,
) -> Vec<T> {
    let s = Shape { d: w.len(), dp: lambda.len() };
    let mut p = p_star(s, c);
    let v = v_star(s, alpha, beta, c);
    if sabotage {
        p[(2 * s.d, s.token())] = p[(2 * s.d, s.token())].clone() + c.clone() * T::from_ratio(1, 256);
    }
    let h = actor_critic_prompt(b, psi, w, lambda);
    parameter_readout(&lsa_block_last_column(&h, &p, &v), s.token())
}

/// The constructed block `(cP⋆, c⁻¹V⋆)` of the [R] prompt, sabotaged by one entry on request.
pub fn construction<T: Scalar>(d: usize, dp: usize, alpha: &T, beta: &T, c: &T, sabotage: bool) -> (Mat<T>, Mat<T>) {
    let s = Shape { d, dp };
    let mut p = p_star(s, c);
    if sabotage {
        p[(2 * s.d, s.token())] = p[(2 * s.d, s.token())].clone() + c.clone() * T::from_ratio(1, 256);
    }
    (p, v_star(s, alpha, beta, c))
}

/// The raw input of one `actor-critic` check: critic features, the window, `γ`, the scores
/// `ψ_i` (precomputed into the prompt, assumption `score-in-prompt`), and the params.
#[derive(Clone, Copy, Debug)]
pub struct AcInput<'a> {
    /// Critic features `f(s,a)`.
    pub critic: &'a Features,
    /// The window.
    pub traj: &'a Trajectory,
    /// `γ`.
    pub gamma: f64,
    /// `ψ_i = g_λ(s_i, a_i)`.
    pub psi: &'a [Vec<f64>],
    /// Critic parameter `w`.
    pub w: &'a [f64],
    /// Actor parameter `λ`.
    pub lambda: &'a [f64],
    /// Critic step `α`.
    pub alpha: f64,
    /// Actor step `β`.
    pub beta: f64,
}

/// The one check body of `actor-critic-equivalence` (`verify`, `icrl check`): the block
/// `(P, V)` on the prompt the transformer side builds from the raw trajectory, against the
/// actor-critic step on the reference side's own reading. Returns `(transformer, reference)`.
pub fn body<T: Scalar>(x: &AcInput, p: &Mat<T>, v: &Mat<T>, sides: &Sides) -> (Vec<T>, Vec<T>) {
    let pb: TransitionBatch<T> = crate::attention::prompt::context(x.critic, x.traj, x.gamma, sides.prompt_pairing);
    let rb: TransitionBatch<T> = crate::rl::pairing::transitions(x.critic, x.traj, x.gamma, sides.reference_pairing);
    let psi: Vec<Vec<T>> = x.psi.iter().map(|r| r.iter().map(|&e| T::from_f64(e)).collect()).collect();
    let w: Vec<T> = x.w.iter().map(|&e| T::from_f64(e)).collect();
    let lambda: Vec<T> = x.lambda.iter().map(|&e| T::from_f64(e)).collect();
    let h = actor_critic_prompt(&pb, &psi, &w, &lambda);
    let tf = parameter_readout(&lsa_block_last_column(&h, p, v), 2 * w.len() + 1 + lambda.len());
    let rf = reference(&rb, &psi, &w, &lambda, &T::from_f64(x.alpha), &T::from_f64(x.beta));
    (tf, rf)
}

/// The reference side: `[w'; λ']`.
pub fn reference<T: Scalar>(
    b: &TransitionBatch<T>,
    psi: &[Vec<T>],
    w: &[T],
    lambda: &[T],
    alpha: &T,
    beta: &T,
) -> Vec<T> {
    let (w2, l2) = batch_actor_critic(b, psi, w, lambda, alpha, beta);
    w2.into_iter().chain(l2).collect()
}

fn check_equivalence(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let case = draw_case(rng);
    let alpha = log_uniform(rng, 1e-3, 10.0);
    let beta = log_uniform(rng, 1e-3, 10.0);
    let (cn, cd) = C_VALUES[rng.random_range(0..C_VALUES.len())];
    let (gd, gp, gn) = (rng.random_range(1..=2), rng.random_range(1..=2), rng.random_range(1..=3));
    let gb = draw_grid_batch(rng, gd, gn);
    let gpsi: Vec<Vec<BigRational>> = (0..gn).map(|_| grid_vec(rng, gp)).collect();
    let (gw, gl) = (grid_vec(rng, gd), grid_vec(rng, gp));
    let (ga, gbeta) =
        (<BigRational as Scalar>::from_f64(grid::draw(rng)), <BigRational as Scalar>::from_f64(grid::draw(rng)));

    let psi = scores(&case.policy, &case.lambda, &case.traj);
    let x = AcInput {
        critic: &case.critic,
        traj: &case.traj,
        gamma: case.mdp.gamma(),
        psi: &psi,
        w: &case.w,
        lambda: &case.lambda,
        alpha,
        beta,
    };
    let (d, dp) = (case.w.len(), case.lambda.len());
    let c = cn as f64 / cd as f64;
    let mut res = CaseResult::default();
    if ctx.arith.wants(Arithmetic::F64) {
        // Both sides on `ErrBound`: tolerance = the two propagated error bounds
        // (`crate::tolerance::bounded_cmp`); the construction carries the bounds of `c⁻¹`.
        let q = ErrBound::exact;
        let (p, v) = construction(d, dp, &q(alpha), &q(beta), &q(c), ctx.sabotage);
        let (tf, rf) = body(&x, &p, &v, &ctx.sides);
        let cmp = crate::tolerance::bounded_cmp(&tf, &rf);
        res.measurements.push(Measurement::equality(
            Arithmetic::F64,
            "[w'; λ'] (mdp instance)",
            cmp.error,
            cmp.tolerance,
        ));
    }
    if ctx.arith.wants(Arithmetic::Exact) {
        let (aq, bbq) = (<BigRational as Scalar>::from_f64(alpha), <BigRational as Scalar>::from_f64(beta));
        let cq = BigRational::from_ratio(cn, cd);
        let (p, v) = construction(d, dp, &aq, &bbq, &cq, ctx.sabotage);
        let (tf, rf) = body(&x, &p, &v, &ctx.sides);
        res.measurements.push(Measurement::exact("[w'; λ'] (mdp instance)", tf == rf, max_abs_diff(&tf, &rf)));
        let tf = transformer(&gb, &gpsi, &gw, &gl, &ga, &gbeta, &cq, ctx.sabotage);
        let rf = reference(&gb, &gpsi, &gw, &gl, &ga, &gbeta);
        res.measurements.push(Measurement::exact("[w'; λ'] (free grid prompt)", tf == rf, max_abs_diff(&tf, &rf)));
        res.sz_shape = Some(format!("d={gd} dπ={gp} n={gn} c={cn}/{cd}"));
    }
    if ctx.want_instance {
        let (p, v) = construction(d, dp, &alpha, &beta, &c, ctx.sabotage);
        let mut inst = to_json(
            "actor-critic",
            &case.mdp,
            &case.critic,
            &case.traj,
            serde_json::json!({"w": case.w, "lambda": case.lambda, "alpha": alpha, "beta": beta, "c": c, "policy_features": case.policy.nested()}),
        );
        inst["weights"] = Weights::Lsa { p, v }.to_json();
        res.instance = Some(inst);
    }
    field_case::<EquivalenceSides>(&mut res, rng, ctx, &EQUIVALENCE_FIELD, "[w'; λ']");
    res
}

/// `log π_λ(a|s)`, computed stably.
fn log_pi(policy: &Features, lambda: &[f64], s: usize, a: usize) -> f64 {
    let logits: Vec<f64> = (0..policy.n_actions()).map(|b| policy.q(lambda, s, b)).collect();
    let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = logits.iter().map(|l| (l - m).exp()).sum();
    logits[a] - m - z.ln()
}

fn check_score(rng: &mut Rng, ctx: &CheckCtx) -> CaseResult {
    let (ns, na, dp) = (rng.random_range(1..=4), rng.random_range(1..=5), rng.random_range(1..=4));
    let policy = Features::random(rng, ns, na, dp);
    let mut lambda: Vec<f64> = (0..dp).map(|_| rng.random_range(-3.0..3.0)).collect();
    let pi = TabularPolicy::softmax(&policy, &lambda);
    let mut res = CaseResult::default();
    if !ctx.arith.wants(Arithmetic::F64) {
        return res;
    }
    let mut centered: f64 = 0.0;
    let mut fd_err: f64 = 0.0;
    for s in 0..ns {
        let mut sum = vec![0.0; dp];
        for a in 0..na {
            let mut g = softmax_score(&policy, &pi, s, a);
            if ctx.sabotage {
                g[0] += 1.0 / 256.0;
            }
            for k in 0..dp {
                sum[k] += pi.prob(s, a) * g[k];
                let l0 = lambda[k];
                lambda[k] = l0 + SCORE_FD_STEP;
                let up = log_pi(&policy, &lambda, s, a);
                lambda[k] = l0 - SCORE_FD_STEP;
                let dn = log_pi(&policy, &lambda, s, a);
                lambda[k] = l0;
                fd_err = fd_err.max(((up - dn) / (2.0 * SCORE_FD_STEP) - g[k]).abs());
            }
        }
        centered = centered.max(max_abs(&sum));
    }
    // Σ_a π g: na·dp products of numbers ≤ max|φ| ≤ 1, summed: 8·na·u (rounding only).
    res.measurements.push(Measurement::equality(
        Arithmetic::F64,
        "Σ_a π_λ(a|s) g_λ(s,a) = 0",
        centered,
        8.0 * na as f64 * dp as f64 * UNIT_ROUNDOFF * 2.0,
    ));
    let lmax = lambda.iter().map(|x| x.abs()).sum::<f64>() + (na as f64).ln() + 1.0;
    res.measurements.push(Measurement::equality(
        Arithmetic::F64,
        "g_λ = ∇ log π_λ (central differences)",
        fd_err,
        fd_score_tol(SCORE_FD_STEP, 1.0, lmax),
    ));
    res
}

/// `icrl check` for `actor-critic` instances: [`body`] with the given `weights` or the
/// construction from `params`, exact (within the limits) and `f64`.
pub fn check_instance(inst: &Instance, limits: &Limits) -> Result<Option<InstanceOutcome>, InputError> {
    let d = inst.features.dim();
    let w = inst.params.vec_req("w", d)?;
    let pf = inst
        .params
        .tensor3_opt("policy_features")?
        .ok_or_else(|| InputError::new("params.policy_features", "missing"))?;
    let policy = Features::from_nested("params.policy_features", inst.mdp.n_states(), inst.mdp.n_actions(), &pf)?;
    let lambda = inst.params.vec_req("lambda", policy.dim())?;
    let alpha = inst.params.f64_req("alpha")?;
    let beta = inst.params.f64_req("beta")?;
    let c = inst.params.f64_or("c", 1.0)?;
    if !(c != 0.0) {
        return Err(InputError::new("params.c", "must be nonzero"));
    }
    let dp = policy.dim();
    let dd = 3 * d + 2 + 2 * dp;
    let (work, mem) = crate::theorem::common::cost::lsa(dd, inst.trajectory.len(), 1);
    crate::theorem::common::cost::admit("trajectory.rewards", work, mem, limits)?;
    let given = match &inst.weights {
        Some(v) => match Weights::from_json(v, "weights", Layout::Lsa(dd))? {
            Weights::Lsa { p, v } => Some((p, v)),
            _ => unreachable!("Layout::Lsa parses to Weights::Lsa"),
        },
        None => None,
    };
    let psi = scores(&policy, &lambda, &inst.trajectory);
    let x = AcInput {
        critic: &inst.features,
        traj: &inst.trajectory,
        gamma: inst.mdp.gamma(),
        psi: &psi,
        w: &w,
        lambda: &lambda,
        alpha,
        beta,
    };
    let sides = Sides::default();
    let id = "actor-critic-equivalence";
    let mut out = InstanceOutcome::default();
    match crate::theorem::common::cost::exact_skip(work, 7.0, limits) {
        Some(reason) => out.skipped.push(Skipped { theorem: id.into(), arithmetic: Arithmetic::Exact, reason }),
        None => {
            let (pq, vq) = match &given {
                Some((p, v)) => (p.to_exact(), v.to_exact()),
                None => {
                    let q = |x: f64| <BigRational as Scalar>::from_f64(x);
                    construction(d, dp, &q(alpha), &q(beta), &q(c), false)
                }
            };
            let (tf, rf) = body(&x, &pq, &vq, &sides);
            out.results.push(instance_result(id, Arithmetic::Exact, "[w'; λ']", &tf, &rf, 0.0, true, given.is_some()));
        }
    }
    // `f64` on `ErrBound`: given weights are exact inputs, the construction carries its bounds.
    let (p, v) = match &given {
        Some((p, v)) => (p.map(|&x| ErrBound::exact(x)), v.map(|&x| ErrBound::exact(x))),
        None => {
            let q = ErrBound::exact;
            construction(d, dp, &q(alpha), &q(beta), &q(c), false)
        }
    };
    let (tf, rf) = body(&x, &p, &v, &sides);
    out.results.push(bounded_result(id, "[w'; λ']", &tf, &rf, true, given.is_some()));
    Ok(Some(out))
}

/// One in-context policy-improvement run on `mdp`: `steps` times, roll out `π_λ` for `n`
/// transitions, apply the constructed block (the transformer side) to get `(w, λ)`; returns the
/// expected return of `π_λ` before each step and after the last.
#[allow(clippy::too_many_arguments)] // the paper's symbols, one argument each
pub fn policy_improvement_curve(
    rng: &mut Rng,
    mdp: &crate::mdp::Mdp,
    critic: &Features,
    policy: &Features,
    n: usize,
    steps: usize,
    alpha: f64,
    beta: f64,
) -> Vec<f64> {
    let mut w = vec![0.0; critic.dim()];
    let mut lambda = vec![0.0; policy.dim()];
    let mut out = Vec::with_capacity(steps + 1);
    for _ in 0..steps {
        let pi = TabularPolicy::softmax(policy, &lambda);
        out.push(crate::mdp::values::expected_return(mdp, &pi));
        let traj = rollout_from_initial(rng, mdp, &pi, n);
        let b: TransitionBatch<f64> = TransitionBatch::from_trajectory(critic, &traj, mdp.gamma());
        let psi = scores(policy, &lambda, &traj);
        let next = transformer(&b, &psi, &w, &lambda, &alpha, &beta, &1.0, false);
        w = next[..critic.dim()].to_vec();
        lambda = next[critic.dim()..].to_vec();
    }
    out.push(crate::mdp::values::expected_return(mdp, &TabularPolicy::softmax(policy, &lambda)));
    out
}

/// The numbers of the policy-improvement experiment: mean (over `mdps` random MDPs) expected
/// return of the in-context policy before each step and after the last, optimal and uniform.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PolicyImprovement {
    /// Seed.
    pub seed: u64,
    /// Random MDPs averaged over.
    pub mdps: usize,
    /// `|S|`.
    pub n_states: usize,
    /// `|A|`.
    pub n_actions: usize,
    /// Transitions per in-context step.
    pub n: usize,
    /// `γ`.
    pub gamma: f64,
    /// Critic step `α`.
    pub alpha: f64,
    /// Actor step `β`.
    pub beta: f64,
    /// Mean return of `π_λ` at steps `0..=steps`.
    pub mean_return: Vec<f64>,
    /// Mean optimal return.
    pub optimal: f64,
    /// Mean return of the uniform policy.
    pub uniform: f64,
}

/// Run the policy-improvement experiment of `docs/theory/actor-critic.md`.
pub fn policy_improvement(seed: u64, mdps: usize, steps: usize) -> PolicyImprovement {
    use rayon::prelude::*;
    let (ns, na, n, gamma, alpha, beta) = (3usize, 2usize, 40usize, 0.9, 0.5, 2.0);
    let runs: Vec<(Vec<f64>, f64, f64)> = (0..mdps as u64)
        .into_par_iter()
        .map(|k| {
            let mut rng = crate::rng::case_rng(seed, "policy-improvement", k);
            let mdp = crate::mdp::generators::random_tabular(&mut rng, ns, na, gamma);
            let critic = Features::one_hot(ns, na, 1.0);
            let policy = Features::one_hot(ns, na, 1.0);
            let curve = policy_improvement_curve(&mut rng, &mdp, &critic, &policy, n, steps, alpha, beta);
            let opt = crate::mdp::values::optimal_return(&mdp);
            let uni = crate::mdp::values::expected_return(&mdp, &TabularPolicy::uniform(ns, na));
            (curve, opt, uni)
        })
        .collect();
    let m = runs.len() as f64;
    PolicyImprovement {
        seed,
        mdps,
        n_states: ns,
        n_actions: na,
        n,
        gamma,
        alpha,
        beta,
        mean_return: (0..=steps).map(|t| runs.iter().map(|r| r.0[t]).sum::<f64>() / m).collect(),
        optimal: runs.iter().map(|r| r.1).sum::<f64>() / m,
        uniform: runs.iter().map(|r| r.2).sum::<f64>() / m,
    }
}

/// The policy-improvement figure of `spec/actor-critic.md` as a table: mean (over `mdps`
/// random MDPs) expected return of the in-context policy per step, against optimal and uniform.
pub fn policy_improvement_table(seed: u64, mdps: usize, steps: usize) -> String {
    let p = policy_improvement(seed, mdps, steps);
    let (ns, na, n, gamma, alpha, beta, opt, uni) =
        (p.n_states, p.n_actions, p.n, p.gamma, p.alpha, p.beta, p.optimal, p.uniform);
    let mut s = format!(
        "in-context actor-critic ([R] reconstruction of [LL] Thm 3.3): {mdps} random MDPs |S|={ns} |A|={na} γ={gamma}, one-hot critic and policy features, n={n}, α={alpha}, β={beta}, seed {seed}\n"
    );
    s.push_str("step | mean return π_λ | optimal | uniform | gap closed\n");
    for (t, &v) in p.mean_return.iter().enumerate() {
        let closed = (v - uni) / (opt - uni);
        s.push_str(&format!("{t:>4} | {v:>15.3} | {opt:>7.3} | {uni:>7.3} | {:>9.0}%\n", closed * 100.0));
    }
    s
}

/// The listed shapes of `actor-critic-equivalence`'s field certificates:
/// `d ∈ {1, 2, 3, 4, 6, 9, 12, 18, 24, 36}` × `d_π ∈ {1, 2, 4, 8}` × `n ∈ {1, 2, 4, 8, 16, 20, 32, 64}`,
/// `c` cycling through `C_VALUES` along the list (320 shapes).
pub fn field_shapes() -> Vec<crate::theorem::FieldShape> {
    shape_grid(&[1, 2, 3, 4, 6, 9, 12, 18, 24, 36], &[1, 2, 4, 8], &[1, 2, 4, 8, 16, 20, 32, 64], &[0], &C_VALUES)
}

/// Both sides over a free prompt: the prompt, the scores `ψ_i` (free: assumption
/// `score-in-prompt`), `w`, `λ`, `α`, `β` free; one block against one actor-critic step.
pub struct EquivalenceSides;

impl FieldSides for EquivalenceSides {
    fn sides<T: Scalar>(
        s: &crate::theorem::FieldShape,
        free: &mut dyn FnMut() -> T,
        sabotage: bool,
    ) -> (Vec<T>, Vec<T>) {
        let b = free_batch(free, s.d, s.n);
        let psi: Vec<Vec<T>> = (0..s.n).map(|_| free_vec(free, s.dp)).collect();
        let (w, lambda) = (free_vec(free, s.d), free_vec(free, s.dp));
        let (alpha, beta) = (free(), free());
        let c = T::from_ratio(s.c.0, s.c.1);
        let tf = transformer(&b, &psi, &w, &lambda, &alpha, &beta, &c, sabotage);
        (tf, reference(&b, &psi, &w, &lambda, &alpha, &beta))
    }
}

/// The field tier of `actor-critic-equivalence` (3 draws per shape: 960 cases).
pub static EQUIVALENCE_FIELD: crate::theorem::FieldTier =
    crate::theorem::FieldTier { shapes: field_shapes, draws: 3, bound: field_bound::<EquivalenceSides> };
