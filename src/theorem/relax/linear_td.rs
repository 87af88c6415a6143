//! Search for `linear-td` with the query mask dropped (`M = I`, `docs/theory/linear-td.md`).
//!
//! The query's bottom entry is 0 before the first layer, so one layer still matches; from the
//! second layer on the query feeds its own `-w_lᵀφ_q` back in. The search should end at
//! `L = 2`.

use crate::assumption::AssumptionId;
use crate::error::InputError;
use crate::instance::{to_json, Instance};
use crate::linalg::Mat;
use crate::mdp::batch::TransitionBatch;
use crate::mdp::features::Features;
use crate::mdp::rollout::Trajectory;
use crate::mdp::Mdp;
use crate::scalar::Scalar;
use crate::search::{find_and_shrink, provenance_block, Counterexample, SearchArgs, SearchOutcome};
use crate::theorem::common::to_exact;
use crate::theorem::linear_td::{read_params, reference, transformer, Variant};
use num_rational::BigRational;
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{json, Value};

#[derive(Clone, Debug)]
struct Raw {
    ns: usize,
    d: usize,
    layers: usize,
    states: Vec<usize>,
    query: usize,
    features: Vec<i32>,
    rewards: Vec<i32>,
    alpha: i32,
}

fn strategy() -> BoxedStrategy<Raw> {
    (1usize..=3, 1usize..=2, 1usize..=3, 1usize..=3)
        .prop_flat_map(|(ns, d, n, layers)| {
            (Just((ns, d, layers)), vec(0..ns, n + 1), 0..ns, vec(-2i32..=2, ns * d), vec(-2i32..=2, ns), 1i32..=2)
        })
        .prop_map(|((ns, d, layers), states, query, features, rewards, alpha)| Raw {
            ns,
            d,
            layers,
            states,
            query,
            features,
            rewards,
            alpha,
        })
        .boxed()
}

fn build(raw: &Raw) -> (Mdp, Features, Trajectory) {
    let ns = raw.ns;
    let p = vec![1.0 / ns as f64; ns * ns];
    let r: Vec<f64> = (0..ns).flat_map(|s| std::iter::repeat(raw.rewards[s] as f64).take(ns)).collect();
    let mdp = Mdp::from_flat(ns, 1, 0.5, p, r, vec![1.0 / ns as f64; ns]).expect("valid by construction");
    let f = Features::from_flat(ns, 1, raw.d, raw.features.iter().map(|&x| x as f64).collect()).expect("finite");
    let n = raw.states.len() - 1;
    let traj = Trajectory {
        states: raw.states.clone(),
        actions: vec![0; n + 1],
        rewards: (0..n).map(|i| raw.rewards[raw.states[i]] as f64).collect(),
    };
    (mdp, f, traj)
}

/// Exact violation per layer without the query mask: `|readout_l - w_lᵀφ_q|`.
fn violations(mdp: &Mdp, f: &Features, traj: &Trajectory, q: usize, cs: &[Mat<f64>]) -> Vec<f64> {
    let b: TransitionBatch<BigRational> = TransitionBatch::from_trajectory(f, traj, mdp.gamma());
    let qq = to_exact(f.x(q));
    let csq: Vec<Mat<BigRational>> = cs.iter().map(|c| c.to_exact()).collect();
    let zero = BigRational::from_f64(0.0);
    let tf = transformer(&b, &qq, &csq, Variant::Td0, &zero, false, false);
    let (rv, _) = reference(&b, &qq, &csq, Variant::Td0, &zero);
    tf.readouts.iter().zip(&rv).map(|(a, b)| (a.clone() - b.clone()).to_f64().abs()).collect()
}

/// `icrl search --theorem linear-td --relax query-mask`.
pub fn search(args: &SearchArgs) -> Result<SearchOutcome, InputError> {
    if args.relax != [AssumptionId::QueryMask] {
        return Err(InputError::new("--relax", format!("linear-td search cannot relax {}", args.relax_label())));
    }
    let eval = |raw: &Raw| {
        let (mdp, f, traj) = build(raw);
        let cs = vec![Mat::identity(raw.d).scale(&(raw.alpha as f64)); raw.layers];
        let v = violations(&mdp, &f, &traj, raw.query, &cs);
        let m = v.iter().cloned().fold(0.0, f64::max);
        (m > 0.0).then_some(m)
    };
    let (found, tried, blocks) = find_and_shrink(strategy(), args, eval);
    let found = found.map(|(raw, amount)| {
        let (mdp, f, traj) = build(&raw);
        let cs = vec![Mat::identity(raw.d).scale(&(raw.alpha as f64)); raw.layers];
        let per_layer = violations(&mdp, &f, &traj, raw.query, &cs);
        let first = per_layer.iter().position(|&x| x > 0.0).map_or(0, |i| i + 1);
        let mut inst = to_json("linear-td", &mdp, &f, &traj, json!({"query_state": raw.query, "layers": raw.layers, "alpha": raw.alpha as f64}));
        let mut block = provenance_block(args, amount, "mask M = I (the query column is a source); the first layer still matches, later ones do not");
        block["mask"] = json!("identity");
        block["violation_per_layer"] = json!(per_layer);
        block["first_failing_layer"] = json!(first);
        inst["counterexample"] = block;
        Counterexample {
            instance: inst,
            violation: amount,
            summary: format!(
                "|S| = {}, d = {}, n = {}, L = {}; first failing layer {first}; per-layer |v̂_l - w_lᵀφ_q| = {per_layer:?}",
                raw.ns, raw.d, traj.len(), raw.layers
            ),
        }
    });
    Ok(SearchOutcome {
        found,
        tried,
        report: vec!["relaxed: query-mask (M = I), exact arithmetic on small integer instances".into()],
        blocks: Some(blocks),
    })
}

/// Replay: the largest per-layer violation with `M = I`.
pub fn replay(v: &Value) -> Result<f64, InputError> {
    let inst = Instance::from_value(v.clone())?;
    let (q, cs) = read_params(&inst)?;
    Ok(violations(&inst.mdp, &inst.features, &inst.trajectory, q, &cs).into_iter().fold(0.0, f64::max))
}
