//! Counterexample searches of the softmax family ([XZ], arXiv:2605.07333; spec
//! `docs/theory/softmax-td.md`, `docs/theory/contraction.md`, "Relaxations worth searching").
//!
//! Instances are integer-parametrized ([`Small`]): `|S|`, `γ = g/10`, transition weights
//! `1..=4` (normalized, so every step is possible and shrinking moves toward the uniform
//! chain), integer rewards and features, an arbitrary state sequence, `L` layers, `α = 1`,
//! `β = 1`. Proptest shrinks sizes first, then numbers toward 0.
//!
//! - `softmax-td-equivalence` relaxing `query-mask`, `two-heads` or `feature-only-attention`:
//!   the violation is `max_{l,j} (|Z_l[i,j] - ref| - (e_T + e_R)) / scale` over both memories
//!   (> 0: Theorem 1 fails).
//! - `contraction-decay` relaxing `contraction`: the violation is `ln(e_L / e_0)` with
//!   `e_l = ‖v_l - v_π‖_∞` (> 0: the error grew with depth). The same search reports the
//!   converse statistics (assumption violated, decay anyway).

use crate::assumption::AssumptionId;
use crate::construction::softmax::Parts;
use crate::error::InputError;
use crate::instance::Instance;
use crate::mdp::features::Features;
use crate::mdp::rollout::Trajectory;
use crate::mdp::values::{mrp_value, stationary};
use crate::mdp::Mrp;
use crate::rl::softmax_td::{contraction_margin, population_kernel, WeightedSoftmaxTd};
use crate::rng::case_rng;
use crate::search::{find_and_shrink, provenance_block, Counterexample, SearchArgs, SearchOutcome};
use crate::theorem::contraction::sup_dist;
use crate::theorem::softmax_td::{equivalence, Case};
use proptest::collection::vec;
use proptest::prelude::*;
use rand::Rng as _;
use serde_json::Value;

/// A small integer-parametrized softmax-TD instance.
#[derive(Clone, Debug)]
pub struct Small {
    /// `|S|`.
    pub ns: usize,
    /// `d`.
    pub d: usize,
    /// `γ = gamma10 / 10`.
    pub gamma10: u8,
    /// Transition weights `w(s,t) ∈ 1..=4`, row-major; `P(s,t) = w/Σ_t w`.
    pub weights: Vec<u8>,
    /// `r(s) ∈ -3..=3`.
    pub rewards: Vec<i8>,
    /// `x(s)_k ∈ -2..=2`, row-major.
    pub feats: Vec<i8>,
    /// `S_0 … S_n`.
    pub states: Vec<usize>,
    /// `L`.
    pub layers: usize,
    /// The relaxed entry `A[d, d]` (reward row in the scores); only the attention search reads it.
    pub a_dd: i8,
}

impl Small {
    /// The case (`α = 1`, `β = 1`).
    pub fn case(&self) -> Case {
        let ns = self.ns;
        let mut p = Vec::with_capacity(ns * ns);
        for s in 0..ns {
            let row = &self.weights[s * ns..(s + 1) * ns];
            let tot: f64 = row.iter().map(|&w| w as f64).sum();
            p.extend(row.iter().map(|&w| w as f64 / tot));
        }
        let r: Vec<f64> = self.rewards.iter().map(|&x| x as f64).collect();
        let mrp = Mrp::new(self.gamma10 as f64 / 10.0, p, r.clone(), vec![1.0 / ns as f64; ns])
            .expect("valid by construction");
        let features =
            Features::from_flat(ns, 1, self.d, self.feats.iter().map(|&x| x as f64).collect()).expect("finite");
        let n = self.states.len() - 1;
        let traj = Trajectory {
            states: self.states.clone(),
            actions: vec![0; n + 1],
            rewards: (0..n).map(|k| r[self.states[k]]).collect(),
        };
        Case { mrp, features, beta: 1.0, traj, alphas: vec![1.0; self.layers] }
    }
}

/// Strategy over [`Small`] with the given maxima (layers in `min_layers..=max_layers`).
pub fn small_strategy(
    max_ns: usize,
    max_d: usize,
    max_n: usize,
    min_layers: usize,
    max_layers: usize,
) -> impl Strategy<Value = Small> {
    (1..=max_ns, 1..=max_d, 1..=max_n, min_layers..=max_layers).prop_flat_map(|(ns, d, n, layers)| {
        (0u8..10, vec(1u8..=4, ns * ns), vec(-3i8..=3, ns), vec(-2i8..=2, ns * d), vec(0..ns, n + 1), -2i8..=2)
            .prop_map(move |(gamma10, weights, rewards, feats, states, a_dd)| Small {
                ns,
                d,
                gamma10,
                weights,
                rewards,
                feats,
                states,
                layers,
                a_dd,
            })
    })
}

fn eq_rng() -> crate::rng::Rng {
    case_rng(0, "softmax-search", 0)
}

/// Theorem-1 violation of `case` under a relaxation of the construction.
fn eq_violation(case: &Case, relax: AssumptionId, a_dd: f64) -> f64 {
    let mut parts = Parts::new(case.d(), case.gamma());
    match relax {
        AssumptionId::QueryMask => parts.mask_query = false,
        AssumptionId::TwoHeads => parts.two_heads = false,
        AssumptionId::FeatureOnlyAttention => parts.a[(case.d(), case.d())] = a_dd,
        _ => {}
    }
    equivalence(case, &parts, &mut eq_rng()).violation
}

fn save(
    args: &SearchArgs,
    case: &Case,
    extra: &[(&str, Value)],
    violation: f64,
    note: &str,
    (tried, blocks): (u64, Vec<crate::search::BlockRun>),
    report: Vec<String>,
) -> SearchOutcome {
    let mut inst = case.to_json();
    for (k, v) in extra {
        inst["params"][*k] = v.clone();
    }
    inst["counterexample"] = provenance_block(args, violation, note);
    let summary = format!(
        "|S| = {}, d = {}, n = {}, L = {}, gamma = {}: violation {violation:.3e}",
        case.mrp.n_states(),
        case.d(),
        case.n(),
        case.layers(),
        case.gamma()
    );
    SearchOutcome {
        found: Some(Counterexample { instance: inst, violation, summary }),
        tried,
        report,
        blocks: Some(blocks),
    }
}

fn eq_search(args: &SearchArgs, relax: AssumptionId, note: &str) -> Result<SearchOutcome, InputError> {
    let strat = small_strategy(3, 2, 4, 1, 3);
    let (found, tried, blocks) = find_and_shrink(strat, args, |s: &Small| {
        let a_dd = if relax == AssumptionId::FeatureOnlyAttention { s.a_dd as f64 } else { 0.0 };
        let v = eq_violation(&s.case(), relax, a_dd);
        (v > 0.0).then_some(v)
    });
    Ok(match found {
        None => SearchOutcome { found: None, tried, report: vec![], blocks: Some(blocks) },
        Some((s, v)) => {
            let extra: Vec<(&str, Value)> = if relax == AssumptionId::FeatureOnlyAttention {
                vec![("relaxed_a_dd", Value::from(s.a_dd as f64))]
            } else {
                vec![]
            };
            save(args, &s.case(), &extra, v, note, (tried, blocks), vec![])
        }
    })
}

fn eq_replay(raw: &Value, relax: AssumptionId) -> Result<f64, InputError> {
    let inst = Instance::from_value(raw.clone())?;
    let case = Case::from_instance(&inst)?;
    let a_dd = inst.params.f64_or("relaxed_a_dd", 0.0)?;
    Ok(eq_violation(&case, relax, a_dd))
}

/// `softmax-td-equivalence --relax query-mask`.
pub fn search_query_mask(args: &SearchArgs) -> Result<SearchOutcome, InputError> {
    eq_search(
        args,
        AssumptionId::QueryMask,
        "without the mask the query column is a source: its zero reward and memory enter every softmax normalization",
    )
}
/// Replay of `query-mask`.
pub fn replay_query_mask(raw: &Value) -> Result<f64, InputError> {
    eq_replay(raw, AssumptionId::QueryMask)
}
/// `softmax-td-equivalence --relax two-heads`.
pub fn search_two_heads(args: &SearchArgs) -> Result<SearchOutcome, InputError> {
    eq_search(args, AssumptionId::TwoHeads, "one head without the shifted second head: the target memory stays 0, so delta loses gamma v(S_{k}) from layer 2 on")
}
/// Replay of `two-heads`.
pub fn replay_two_heads(raw: &Value) -> Result<f64, InputError> {
    eq_replay(raw, AssumptionId::TwoHeads)
}
/// `softmax-td-equivalence --relax feature-only-attention` (`A[d,d] = params.relaxed_a_dd`).
pub fn search_attention_block(args: &SearchArgs) -> Result<SearchOutcome, InputError> {
    eq_search(args, AssumptionId::FeatureOnlyAttention, "a nonzero reward entry A[d,d] (params.relaxed_a_dd) makes the scores depend on rewards: the kernel is no longer exp<x, x'>")
}
/// Replay of `feature-only-attention`.
pub fn replay_attention_block(raw: &Value) -> Result<f64, InputError> {
    eq_replay(raw, AssumptionId::FeatureOnlyAttention)
}

/// `e_0 … e_L` (`‖v_l - v_π‖_∞` over all states) of a case at its own steps.
pub fn error_curve(case: &Case) -> Vec<f64> {
    let v_pi = mrp_value(&case.mrp);
    case.reference().iterates(&case.alphas).iter().map(|v| sup_dist(v, &v_pi)).collect()
}

/// Divergence `min(ln(e_L / e_0), ln(e_L / e_{L/2}))`: > 0 when the error is above its start
/// *and* still growing in the second half of the stack; `None` when `v_π = 0` or the context
/// lacks coverage (coverage is kept: only Assumption 5.1 is relaxed, so unvisited states
/// cannot be the cause).
pub fn growth(case: &Case) -> Option<f64> {
    if !crate::rl::softmax_td::coverage(&case.traj.states, case.n(), case.mrp.n_states()) {
        return None;
    }
    let e = error_curve(case);
    let l = e.len() - 1;
    let (e0, eh, el) = (e[0], e[l / 2], e[l]);
    (e0 > 0.0 && eh > 0.0).then(|| (el / e0).ln().min((el / eh).ln()))
}

/// Layers of the divergence search.
pub const DIVERGE_LAYERS: usize = 30;

/// `contraction-decay --relax contraction`: the smallest diverging instance, and the converse.
pub fn search_contraction(args: &SearchArgs) -> Result<SearchOutcome, InputError> {
    let strat = small_strategy(4, 3, 12, DIVERGE_LAYERS, DIVERGE_LAYERS);
    // "Diverges" means e_L > 2 e_0 and e_L > 2 e_{L/2} (geometric growth, not a slow drift to a wrong fixed point): margins far above rounding, so
    // the fixture replays anywhere.
    let (found, tried, blocks) =
        find_and_shrink(strat, args, |s: &Small| growth(&s.case()).filter(|&g| g > std::f64::consts::LN_2));
    let report = converse_report(args.seed, 400);
    Ok(match found {
        None => SearchOutcome { found: None, tried, report, blocks: Some(blocks) },
        Some((s, g)) => {
            let case = s.case();
            let e = error_curve(&case);
            let mut report = report;
            report.insert(
                0,
                format!(
                    "diverging instance: e_0 = {:.4}, e_10 = {:.4e}, e_{} = {:.4e}, e_{} = {:.4e} (divergence {:.3})",
                    e[0],
                    e[10],
                    DIVERGE_LAYERS / 2,
                    e[DIVERGE_LAYERS / 2],
                    DIVERGE_LAYERS,
                    e[DIVERGE_LAYERS],
                    g
                ),
            );
            save(
                args,
                &case,
                &[],
                g,
                "Assumption 5.1 dropped (coverage kept): ||v_l - v_pi||_inf diverges with depth (alpha = 1, beta = 1)",
                (tried, blocks),
                report,
            )
        }
    })
}

/// Replay of `contraction`: [`growth`] `- ln 2` (> 0: the error at least doubles over the second half of the stack).
pub fn replay_contraction(raw: &Value) -> Result<f64, InputError> {
    let inst = Instance::from_value(raw.clone())?;
    let case = Case::from_instance(&inst)?;
    growth(&case)
        .map(|g| g - std::f64::consts::LN_2)
        .ok_or_else(|| InputError::new("trajectory.states", "no coverage, or v_pi = 0: not a divergence instance"))
}

/// The converse: random generic instances (random MRP `|S| ∈ 2..=5`, `γ ∈ [0, 0.9)`, random
/// features `d ∈ 1..=3` at `β` log-uniform in `[0.1, 10]`, `n = 400`, `L = 40`, `α = 1`). How
/// many violate Assumption 5.1 and still decay (`e_40 ≤ e_0 / 2`), by margin bin.
pub fn converse_report(seed: u64, count: u64) -> Vec<String> {
    let bins = [(-1.0, -0.5), (-0.5, -0.25), (-0.25, -0.1), (-0.1, 0.0), (0.0, 1.0)];
    let mut tally = vec![(0u64, 0u64, 0u64); bins.len()];
    let mut most_negative_decaying = f64::INFINITY;
    let mut worst_ratio = f64::NAN;
    for i in 0..count {
        let mut rng = case_rng(seed, "contraction-converse", i);
        let ns = rng.random_range(2..=5);
        let gamma = rng.random_range(0.0..0.9);
        let mrp = crate::mdp::generators::random_mrp(&mut rng, ns, gamma);
        let d = rng.random_range(1..=3);
        let features = Features::random(&mut rng, ns, 1, d);
        let beta = 10f64.powf(rng.random_range(-1.0..=1.0));
        let Some(mu) = stationary(&mrp) else { continue };
        let m_pi = population_kernel(&features, beta, &mu);
        let c = contraction_margin(&m_pi, ns, gamma);
        let traj = crate::theorem::softmax_td::mrp_rollout(&mut rng, &mrp, 400);
        let w = WeightedSoftmaxTd::new(&features, beta, &traj.states, &traj.rewards, gamma);
        let v_pi = mrp_value(&mrp);
        let vs = w.iterates(&[1.0; 40]);
        let (e0, el) = (sup_dist(&vs[0], &v_pi), sup_dist(&vs[40], &v_pi));
        let decays = el <= 0.5 * e0;
        let grows = el > e0;
        if let Some(b) = bins.iter().position(|&(lo, hi)| c >= lo && c < hi) {
            tally[b].0 += 1;
            tally[b].1 += decays as u64;
            tally[b].2 += grows as u64;
        }
        if decays && c < most_negative_decaying {
            most_negative_decaying = c;
            let min_diag = (0..ns).map(|s| m_pi[s * ns + s]).fold(f64::INFINITY, f64::min);
            worst_ratio = min_diag / ((1.0 + gamma) / 2.0);
        }
    }
    let mut out = vec![format!(
        "converse ({count} random instances, seed {seed}; decay := e_40 <= e_0/2, grow := e_40 > e_0), by margin C_5.1 = min_s M_pi(s,s) - (1+gamma)/2:"
    )];
    for (b, &(lo, hi)) in bins.iter().enumerate() {
        let (tot, dec, gro) = tally[b];
        let pct = |x: u64| if tot == 0 { 0.0 } else { 100.0 * x as f64 / tot as f64 };
        out.push(format!(
            "  C in [{lo:+.2}, {hi:+.2}): {tot:4} instances, {:5.1}% decay, {:5.1}% grow",
            pct(dec),
            pct(gro)
        ));
    }
    let violated: u64 = tally[..4].iter().map(|t| t.0).sum();
    let violated_decay: u64 = tally[..4].iter().map(|t| t.1).sum();
    out.push(format!(
        "  assumption violated in {violated} instances, {violated_decay} of them ({:.1}%) decay anyway: the condition is sufficient, far from necessary",
        if violated == 0 { 0.0 } else { 100.0 * violated_decay as f64 / violated as f64 }
    ));
    out.push(format!(
        "  most negative margin that still decays: C_5.1 = {most_negative_decaying:.3} (min_s M_pi(s,s) is {:.2} of the required (1+gamma)/2)",
        worst_ratio
    ));
    out
}

/// Population margin `C_5.1` of a case (`None` without a unique stationary distribution).
fn population_margin(case: &Case) -> Option<f64> {
    let mu = stationary(&case.mrp)?;
    if !mu.iter().all(|&m| m > 0.0) {
        return None;
    }
    let m_pi = population_kernel(&case.features, case.beta, &mu);
    Some(contraction_margin(&m_pi, case.mrp.n_states(), case.gamma()))
}

/// Growth `ln(e_L / e_0)` of a window that *misses* a state while Assumption 5.1 holds in the
/// population (`C_5.1 > 0`): isolates the role of coverage.
pub fn growth_without_coverage(case: &Case) -> Option<f64> {
    if crate::rl::softmax_td::coverage(&case.traj.states, case.n(), case.mrp.n_states()) {
        return None;
    }
    if !(population_margin(case)? > 0.0) {
        return None;
    }
    let e = error_curve(case);
    let (e0, el) = (e[0], e[e.len() - 1]);
    (e0 > 0.0).then(|| (el / e0).ln())
}

/// `contraction-decay --relax coverage`: Assumption 5.1 holds, the window misses a state, and
/// the error at depth `L` is at least twice the error at depth 0.
pub fn search_coverage(args: &SearchArgs) -> Result<SearchOutcome, InputError> {
    let strat = small_strategy(3, 2, 6, DIVERGE_LAYERS, DIVERGE_LAYERS);
    let (found, tried, blocks) = find_and_shrink(strat, args, |s: &Small| {
        growth_without_coverage(&s.case()).filter(|&g| g > std::f64::consts::LN_2)
    });
    Ok(match found {
        None => SearchOutcome { found: None, tried, report: vec![], blocks: Some(blocks) },
        Some((s, g)) => {
            let case = s.case();
            let e = error_curve(&case);
            let v_pi = mrp_value(&case.mrp);
            let v_l = case.reference().iterates(&case.alphas).pop().expect("nonempty");
            let mut seen = vec![false; case.mrp.n_states()];
            for &x in &case.traj.states[..case.n()] {
                seen[x] = true;
            }
            let report = vec![
                format!(
                    "coverage dropped, Assumption 5.1 kept (C_5.1 = {:.3}): e_0 = {:.4}, e_{} = {:.4}",
                    population_margin(&case).unwrap_or(f64::NAN),
                    e[0],
                    DIVERGE_LAYERS,
                    e[DIVERGE_LAYERS]
                ),
                format!(
                    "unvisited states {:?}: their own value never enters a TD error, so the visited states' errors drive them without correction (v_L = {:?}, v_pi = {:?})",
                    (0..seen.len()).filter(|&x| !seen[x]).collect::<Vec<_>>(),
                    v_l.iter().map(|x| (x * 1e4).round() / 1e4).collect::<Vec<_>>(),
                    v_pi.iter().map(|x| (x * 1e4).round() / 1e4).collect::<Vec<_>>()
                ),
            ];
            save(
                args,
                &case,
                &[],
                g,
                "coverage dropped (Assumption 5.1 holds): the error at depth L is at least twice the error at depth 0",
                (tried, blocks),
                report,
            )
        }
    })
}

/// Replay of `coverage`: `ln(e_L / e_0) - ln 2` with the window still missing a state and
/// Assumption 5.1 still holding.
pub fn replay_coverage(raw: &Value) -> Result<f64, InputError> {
    let inst = Instance::from_value(raw.clone())?;
    let case = Case::from_instance(&inst)?;
    growth_without_coverage(&case).map(|g| g - std::f64::consts::LN_2).ok_or_else(|| {
        InputError::new(
            "trajectory.states",
            "the window covers every state, or Assumption 5.1 fails: not a coverage counterexample",
        )
    })
}
