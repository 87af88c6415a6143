//! Searches for `sarsa-equivalence` with `P22 = 0` and/or `V̄22 = 0` relaxed (`docs/theory/sarsa.md`,
//! "Relaxations worth searching").
//!
//! By Lemma C.1 the readout gains the cubic term `(1/n) V̄22 w̃ w̃ᵀ P22 w̃`, which vanishes when
//! either block is zero: relaxing one of the two alone cannot break the theorem, and the search
//! reports that it found nothing; relaxing both (`--relax p22-zero --relax v22-bar-zero`) finds
//! the smallest instance where the cubic term appears.
//!
//! Instances are small and integer-valued (features, rewards, `w`, perturbations in `-2..=2`),
//! checked exactly, so shrinking ends at simple numbers.

use crate::assumption::AssumptionId;
use crate::construction::sarsa::Shape;
use crate::error::InputError;
use crate::instance::{to_json, vec2, Instance};
use crate::linalg::Mat;
use crate::mdp::batch::TransitionBatch;
use crate::mdp::features::Features;
use crate::mdp::rollout::Trajectory;
use crate::mdp::Mdp;
use crate::rl::sarsa::batch_sarsa;
use crate::scalar::Scalar;
use crate::search::{find_and_shrink, provenance_block, Counterexample, SearchArgs, SearchOutcome};
use crate::theorem::common::{max_abs_diff, to_exact};
use crate::theorem::sarsa::{construction, transformer};
use num_rational::BigRational;
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{json, Value};

/// A raw small instance.
#[derive(Clone, Debug)]
pub struct Raw {
    ns: usize,
    na: usize,
    d: usize,
    states: Vec<usize>,
    actions: Vec<usize>,
    features: Vec<i32>,
    rewards: Vec<i32>,
    w: Vec<i32>,
    p22: Vec<i32>,
    v22_bar: Vec<i32>,
}

fn strategy(relax_p22: bool, relax_v22: bool) -> BoxedStrategy<Raw> {
    (1usize..=3, 1usize..=2, 1usize..=2, 1usize..=3)
        .prop_flat_map(move |(ns, na, d, n)| {
            let p22 = if relax_p22 {
                vec(-2i32..=2, (d + 1) * (d + 1)).boxed()
            } else {
                Just(vec![0; (d + 1) * (d + 1)]).boxed()
            };
            let v22 = if relax_v22 { vec(-2i32..=2, d * (d + 1)).boxed() } else { Just(vec![0; d * (d + 1)]).boxed() };
            (
                (Just(ns), Just(na), Just(d)),
                (vec(0..ns, n + 1), vec(0..na, n + 1)),
                (vec(-2i32..=2, ns * na * d), vec(-2i32..=2, ns * na * ns), vec(-2i32..=2, d)),
                (p22, v22),
            )
        })
        .prop_map(|((ns, na, d), (states, actions), (features, rewards, w), (p22, v22_bar))| Raw {
            ns,
            na,
            d,
            states,
            actions,
            features,
            rewards,
            w,
            p22,
            v22_bar,
        })
        .boxed()
}

/// The instance of a raw draw: uniform transitions (every step feasible), `γ = 1/2`, `α = 1`.
fn build(raw: &Raw) -> (Mdp, Features, Trajectory, Vec<f64>) {
    let (ns, na) = (raw.ns, raw.na);
    let p = vec![1.0 / ns as f64; ns * na * ns];
    let r: Vec<f64> = raw.rewards.iter().map(|&x| x as f64).collect();
    let mdp = Mdp::from_flat(ns, na, 0.5, p, r, vec![1.0 / ns as f64; ns]).expect("valid by construction");
    let features =
        Features::from_flat(ns, na, raw.d, raw.features.iter().map(|&x| x as f64).collect()).expect("finite");
    let n = raw.states.len() - 1;
    let rewards = (0..n).map(|i| mdp.r(raw.states[i], raw.actions[i], raw.states[i + 1])).collect();
    let traj = Trajectory { states: raw.states.clone(), actions: raw.actions.clone(), rewards };
    (mdp, features, traj, raw.w.iter().map(|&x| x as f64).collect())
}

/// Exact violation `max |TF - w_SARSA|` of the construction with `P22`, `V̄22` added.
#[allow(clippy::too_many_arguments)] // one argument per block of the relaxed construction
fn violation(
    mdp: &Mdp,
    f: &Features,
    traj: &Trajectory,
    w: &[f64],
    alpha: f64,
    c: f64,
    p22: &Mat<f64>,
    v22_bar: &Mat<f64>,
) -> f64 {
    let d = f.dim();
    let s = Shape::sarsa(d);
    let t = s.token();
    let b: TransitionBatch<BigRational> = TransitionBatch::from_trajectory(f, traj, mdp.gamma());
    let wq = to_exact(w);
    let aq = <BigRational as Scalar>::from_f64(alpha);
    let (mut p, mut v) = construction(d, &aq, &<BigRational as Scalar>::from_f64(c), false);
    p.set_block(t, t, &p22.to_exact());
    v.set_block(t + 1, t, &v22_bar.to_exact());
    let (tf, _) = transformer(&b, &wq, &p, &v, 1);
    let rf = batch_sarsa(&b, &wq, &aq);
    max_abs_diff(&tf, &rf)
}

fn relax_flags(relax: &[AssumptionId]) -> Result<(bool, bool), InputError> {
    let mut f = (false, false);
    for r in relax {
        match r {
            AssumptionId::P22Zero => f.0 = true,
            AssumptionId::V22BarZero => f.1 = true,
            other => return Err(InputError::new("--relax", format!("sarsa-equivalence search cannot relax {other}"))),
        }
    }
    Ok(f)
}

/// `icrl search --theorem sarsa-equivalence --relax p22-zero [--relax v22-bar-zero]`.
pub fn search(args: &SearchArgs) -> Result<SearchOutcome, InputError> {
    let (rp, rv) = relax_flags(&args.relax)?;
    let strat = strategy(rp, rv);
    let eval = |raw: &Raw| {
        let (mdp, f, traj, w) = build(raw);
        let d = raw.d;
        let p22 = Mat::from_vec(d + 1, d + 1, raw.p22.iter().map(|&x| x as f64).collect());
        let v22 = Mat::from_vec(d, d + 1, raw.v22_bar.iter().map(|&x| x as f64).collect());
        let v = violation(&mdp, &f, &traj, &w, 1.0, 1.0, &p22, &v22);
        (v > 0.0).then_some(v)
    };
    let (found, tried, blocks) = find_and_shrink(strat, args, eval);
    let mut report =
        vec![format!("relaxed: {} (searched small integer instances, exact arithmetic)", args.relax_label())];
    if !(rp && rv) {
        report.push("Lemma C.1: the cubic term (1/n) V̄22 w̃ w̃ᵀ P22 w̃ needs both P22 ≠ 0 and V̄22 ≠ 0; relaxing one alone is harmless.".into());
    }
    let found = found.map(|(raw, amount)| {
        let (mdp, f, traj, w) = build(&raw);
        let d = raw.d;
        let rows = |v: &[i32], r: usize, c: usize| -> Vec<Vec<f64>> {
            (0..r).map(|i| (0..c).map(|j| v[i * c + j] as f64).collect()).collect()
        };
        let mut inst = to_json("sarsa", &mdp, &f, &traj, json!({"alpha": 1.0, "w": w, "c": 1.0, "layers": 1}));
        let mut block = provenance_block(
            args,
            amount,
            "the constructed block plus the perturbation below; transformer ≠ w_SARSA by the cubic term of Lemma C.1",
        );
        block["perturbation"] = json!({"p22": rows(&raw.p22, d + 1, d + 1), "v22_bar": rows(&raw.v22_bar, d, d + 1)});
        inst["counterexample"] = block;
        Counterexample {
            instance: inst,
            violation: amount,
            summary: format!(
                "|S| = {}, |A| = {}, d = {d}, n = {}; max |TF - w_SARSA| = {amount}",
                raw.ns,
                raw.na,
                traj.len()
            ),
        }
    });
    Ok(SearchOutcome { found, tried, report, blocks: Some(blocks) })
}

/// Replay a saved counterexample: the exact violation of the perturbed construction.
pub fn replay(v: &Value) -> Result<f64, InputError> {
    let inst = Instance::from_value(v.clone())?;
    let d = inst.features.dim();
    let w = inst.params.vec_req("w", d)?;
    let alpha = inst.params.f64_req("alpha")?;
    let c = inst.params.f64_or("c", 1.0)?;
    let pert = v
        .get("counterexample")
        .and_then(|c| c.get("perturbation"))
        .ok_or_else(|| InputError::new("counterexample.perturbation", "missing"))?;
    let m = |name: &str, r: usize, c: usize| -> Result<Mat<f64>, InputError> {
        let path = format!("counterexample.perturbation.{name}");
        let x = vec2(pert.get(name).ok_or_else(|| InputError::new(&path, "missing"))?, &path)?;
        if x.len() != r || x.iter().any(|row| row.len() != c) {
            return Err(InputError::new(&path, format!("expected a {r}×{c} matrix")));
        }
        Ok(Mat::from_vec(r, c, x.concat()))
    };
    Ok(violation(
        &inst.mdp,
        &inst.features,
        &inst.trajectory,
        &w,
        alpha,
        c,
        &m("p22", d + 1, d + 1)?,
        &m("v22_bar", d, d + 1)?,
    ))
}
