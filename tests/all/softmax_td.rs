//! [XZ] Thm 1, Lemma 1, eq. 20 and the two limits (arXiv:2605.07333; spec `softmax-td.md`).
//! Each positive check sits beside a negative control that must fail.

use crate::common;

use icrl_proofs::attention::softmax::{masked_softmax_cols, scores_dense, scores_into};
use icrl_proofs::construction::softmax::Parts;
use icrl_proofs::instance::Instance;
use icrl_proofs::linalg::Mat;
use icrl_proofs::rng::case_rng;
use icrl_proofs::theorem::softmax_td::{self as th, draw_case, equivalence, single_head, state_space, Case};
use icrl_proofs::theorem::{check_instance, registry};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rand::Rng as _;

/// A proptest runner with a fixed seed (reproducible in CI).
fn runner(cases: u32) -> TestRunner {
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]))
}

fn all_hold(ms: &[icrl_proofs::theorem::Measurement]) -> bool {
    ms.iter().all(|m| m.holds)
}

#[test]
fn theorem1_holds_every_layer_every_column_and_fails_when_sabotaged() {
    runner(64)
        .run(&any::<u64>(), |seed| {
            let mut rng = case_rng(seed, "test-thm1", 0);
            let case = draw_case(&mut rng, 6, 48, 50, false);
            let e = equivalence(&case, &th::parts_for(&case, false), &mut rng);
            prop_assert!(all_hold(&e.measurements), "{:?}", e.measurements);
            prop_assert!(e.violation <= 0.0);
            // Negative control: the reward coefficient of u off by 1%.
            let bad = equivalence(&case, &th::parts_for(&case, true), &mut rng);
            prop_assert!(bad.violation > 0.0 || case.traj.rewards.iter().all(|r| r.abs() < 1e-9));
            Ok(())
        })
        .unwrap();
}

#[test]
fn theorem1_at_the_extremes_depth_50_beta_1e3() {
    // Scaled one-hot and random features at β = 10³, L = 50, n = 64.
    for (k, onehot) in [(0u64, true), (1, false)] {
        let mut rng = case_rng(11, "test-thm1-extreme", k);
        let mut case = draw_case(&mut rng, 8, 64, 50, false);
        case.alphas = (0..50).map(|_| rng.random_range(0.05..=1.0)).collect();
        case.traj = th::mrp_rollout(&mut rng, &case.mrp, 64);
        case.beta = 1e3;
        if onehot {
            case.features = icrl_proofs::mdp::features::Features::one_hot(case.mrp.n_states(), 1, 1.0);
        }
        let e = equivalence(&case, &Parts::new(case.d(), case.gamma()), &mut rng);
        assert!(all_hold(&e.measurements), "{:?}", e.measurements);
    }
}

#[test]
fn each_relaxation_breaks_theorem1() {
    let mut rng = case_rng(3, "test-relax", 0);
    // Coverage draws |S| >= 2, so rewards differ between sources (with one state, a reward
    // block in A adds the same R² to every score and softmax cancels it).
    let mut case = draw_case(&mut rng, 4, 16, 5, true);
    case.alphas = vec![0.7; 4];
    // At large β with one-hot features only same-state sources count, and they share a reward:
    // the reward block would be invisible. β = 1 keeps every source in play.
    case.beta = 1.0;
    assert!(equivalence(&case, &Parts::new(case.d(), case.gamma()), &mut rng).violation <= 0.0);
    let mut p = Parts::new(case.d(), case.gamma());
    p.mask_query = false;
    assert!(equivalence(&case, &p, &mut rng).violation > 0.0, "dropping the mask must break Thm 1");
    let mut p = Parts::new(case.d(), case.gamma());
    p.two_heads = false;
    assert!(equivalence(&case, &p, &mut rng).violation > 0.0, "dropping the second head must break Thm 1");
    let mut p = Parts::new(case.d(), case.gamma());
    p.a[(case.d(), case.d())] = 1.0;
    assert!(equivalence(&case, &p, &mut rng).violation > 0.0, "a reward block in A must break Thm 1");
}

#[test]
fn lemma1_one_head_plus_shift_equals_two_heads() {
    runner(64)
        .run(&any::<u64>(), |seed| {
            let mut rng = case_rng(seed, "test-lemma1", 0);
            let case = draw_case(&mut rng, 6, 40, 30, false);
            let (err, tol, _, _) = single_head(&case, false);
            prop_assert!(err <= tol, "err {err:e} tol {tol:e}");
            let (bad, tol, _, _) = single_head(&case, true);
            prop_assert!(bad > tol || case.traj.rewards.iter().all(|r| r.abs() < 1e-9));
            Ok(())
        })
        .unwrap();
}

#[test]
fn state_space_form_under_coverage() {
    runner(48)
        .run(&any::<u64>(), |seed| {
            let mut rng = case_rng(seed, "test-ss", 0);
            let case = draw_case(&mut rng, 6, 40, 20, true);
            let (ms, _, _) = state_space(&case, false);
            prop_assert!(all_hold(&ms), "{ms:?}");
            let (bad, _, _) = state_space(&case, true);
            prop_assert!(!all_hold(&bad));
            Ok(())
        })
        .unwrap();
}

#[test]
fn score_fast_path_is_bit_identical_to_the_dense_product() {
    let mut rng = case_rng(5, "test-fastpath", 0);
    for _ in 0..50 {
        let (r, c) = (rng.random_range(4..9), rng.random_range(1..12));
        let z = Mat::from_fn(r, c, |_, _| if rng.random_bool(0.2) { 0.0 } else { rng.random_range(-3.0..3.0) });
        let a = Mat::from_fn(r, r, |_, _| if rng.random_bool(0.5) { 0.0 } else { rng.random_range(-2.0..2.0) });
        let mut az = Mat::zeros(r, c);
        let mut out = Mat::zeros(c, c);
        scores_into(&z, &a, &mut az, &mut out);
        assert_eq!(out, scores_dense(&z, &a));
    }
}

#[test]
fn masked_softmax_is_stable_and_exact_on_the_mask() {
    // Scores of size 1e300 and -1e300: no overflow, no NaN; the masked source weighs exactly 0
    // even when its score is the largest.
    let s = Mat::from_vec(3, 2, vec![1e300, -1e300, -1e300, 1e300, 1e308, 1e308]);
    let sq = Mat::from_fn(3, 3, |i, j| if j < 2 { s[(i, j)] } else { 0.0 });
    let mut out = Mat::zeros(3, 3);
    masked_softmax_cols(&sq, true, &mut out);
    assert_eq!(out[(0, 0)], 1.0);
    assert_eq!(out[(1, 1)], 1.0);
    for j in 0..3 {
        assert_eq!(out[(2, j)], 0.0);
    }
    assert!(out.as_slice().iter().all(|x| x.is_finite()));
    // Negative control: without the mask the huge query score takes all the weight.
    masked_softmax_cols(&sq, false, &mut out);
    assert_eq!(out[(2, 0)], 1.0);
}

#[test]
fn construction_matrices_snapshot() {
    let parts = Parts::new(2, 0.5);
    let two = parts.two_head_layer(1.0);
    let one = parts.shift_layer(1.0);
    let fmt = |m: &Mat<f64>| {
        (0..m.rows())
            .map(|i| (0..m.cols()).map(|j| format!("{:5}", m[(i, j)])).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let text = format!(
        "d = 2, gamma = 0.5, alpha = 1\nA =\n{}\nV1 (no shift) =\n{}\nV2 (shift) =\n{}\nLemma 1: V =\n{}\nU =\n{}\nW =\n{}\n",
        fmt(&two.a),
        fmt(&two.heads[0].v),
        fmt(&two.heads[1].v),
        fmt(&one.v),
        fmt(&one.u),
        fmt(&one.w)
    );
    insta::assert_snapshot!("softmax_construction_d2", text);
}

#[test]
fn every_softmax_theorem_holds_and_every_one_fails_under_sabotage() {
    let ids = [
        "softmax-td-equivalence",
        "softmax-td-single-head",
        "softmax-td-state-space",
        "softmax-td-tabular-limit",
        "softmax-td-small-temperature",
    ];
    let specs: Vec<_> = registry().into_iter().filter(|t| ids.contains(&t.id)).collect();
    assert_eq!(specs.len(), ids.len());
    for t in &specs {
        assert_eq!(t.sz_degree, None);
        assert!(t.source.contains("arXiv:2605.07333"));
    }
    common::assert_verify_holds_and_sabotage_fails(&ids, 1, 40, 10);
}

const INSTANCE: &str = r#"{
  "family": "softmax-td",
  "mdp": { "gamma": 0.5,
    "transitions": [[[0.25, 0.75]], [[0.5, 0.5]]],
    "rewards": [[[1.0, 1.0]], [[-0.5, -0.5]]] },
  "features": [[[1.0, 0.0]], [[0.5, -1.0]]],
  "trajectory": { "states": [0, 1, 1, 0], "rewards": [1.0, -0.5, -0.5] },
  "params": { "layers": 3, "alpha": 0.5, "beta": 2.0 }
}"#;

#[test]
fn icrl_check_accepts_softmax_td_instances() {
    let inst = Instance::from_json_text(INSTANCE).unwrap();
    let res = check_instance(&inst).unwrap();
    let ids: Vec<&str> = res.iter().map(|r| r.theorem.as_str()).collect();
    assert_eq!(ids, ["softmax-td-equivalence", "softmax-td-single-head", "softmax-td-state-space"]);
    for r in &res {
        assert!(r.holds);
        assert_eq!(r.transformer.len(), 3);
    }
    // The reference side's query value after layer 1 by hand: v_0 = 0, δ_k = R_k, and the
    // kernel at S_3 = 0 over sources (0, 1, 1) with β = 2: scores 2·(1, 0.5, 0.5).
    let w = [2.0f64.exp(), 1.0f64.exp(), 1.0f64.exp()];
    let z: f64 = w.iter().sum();
    let v1 = 0.5 * (w[0] * 1.0 + w[1] * -0.5 + w[2] * -0.5) / z;
    // Two evaluation orders of a 3-term softmax average: a few roundings of values of size 1.
    assert!((res[0].reference[0] - v1).abs() <= icrl_proofs::tolerance::pathwise_slack(3));
}

#[test]
fn bad_softmax_td_input_names_the_field() {
    let cases = [
        (INSTANCE.replace("\"beta\": 2.0", "\"beta\": -1.0"), "params.beta"),
        (INSTANCE.replace("\"alpha\": 0.5", "\"alphas\": [0.5, 0.5]"), "params.alphas"),
        (INSTANCE.replace("\"layers\": 3", "\"layers\": 0"), "params.layers"),
        (INSTANCE.replace("[[[1.0, 1.0]], [[-0.5, -0.5]]]", "[[[5.0, 1.0]], [[-0.5, -0.5]]]"), "mdp.rewards"),
    ];
    for (text, field) in cases {
        let err = Instance::from_json_text(&text).and_then(|i| check_instance(&i)).unwrap_err();
        assert_eq!(err.field, field, "{err}");
    }
}

#[test]
fn case_json_round_trips() {
    let mut rng = case_rng(9, "test-json", 0);
    let case = draw_case(&mut rng, 5, 20, 5, false);
    let inst = Instance::from_value(case.to_json()).unwrap();
    let back = Case::from_instance(&inst).unwrap();
    assert_eq!(back.alphas, case.alphas);
    assert_eq!(back.beta, case.beta);
    assert_eq!(back.traj, case.traj);
}

#[test]
fn softmax_fixtures_replay_as_violations() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/counterexamples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let raw = icrl_proofs::instance::parse_json(&text).unwrap();
        if raw["family"] != "softmax-td" {
            continue;
        }
        let cx = &raw["counterexample"];
        let f =
            icrl_proofs::theorem::replay_fn(cx["theorem"].as_str().unwrap(), cx["relax"].as_str().unwrap()).unwrap();
        let v = f(&raw).unwrap();
        assert!(v > 0.0, "{} no longer violates: {v}", path.display());
        seen += 1;
    }
    assert!(seen >= 4);
}

#[test]
fn attention_cache_is_bit_identical_to_recomputing_every_layer() {
    use icrl_proofs::attention::softmax::{forward_multi_head_with, forward_shift_with};
    for k in 0..20u64 {
        let mut rng = case_rng(13, "test-cache", k);
        let case = draw_case(&mut rng, 5, 20, 8, false);
        let d = case.d();
        let mut parts = Parts::new(d, case.gamma());
        if k % 2 == 1 {
            // A that reads the memory rows: the cache must be invalidated after every layer.
            parts.a[(d + 2, d + 1)] = rng.random_range(-1.0..1.0);
            parts.a[(d, d)] = rng.random_range(-1.0..1.0);
        }
        let z0 = case.prompt();
        let stack = parts.two_head_stack(&case.alphas);
        assert_eq!(stack.len(), case.alphas.len());
        assert_eq!(forward_multi_head_with(&z0, &stack, true), forward_multi_head_with(&z0, &stack, false));
        let stack = parts.shift_stack(&case.alphas);
        // One layer per step (an empty stack would make the comparison vacuous).
        assert_eq!(stack.len(), case.alphas.len());
        assert_eq!(forward_shift_with(&z0, &stack, true), forward_shift_with(&z0, &stack, false));
    }
}

/// What the cache saves, counted: in the [XZ] construction `A` reads only the feature rows,
/// which no head writes, so one forward pass computes the attention weights once, whatever its
/// depth; with an `A` that also reads the memory rows (which every layer writes), once per
/// layer. Output equality cannot see a cache that invalidates too often, so the count is
/// asserted (a mutant making the invalidation test `written(i) || reads(a, i)` lived).
#[test]
fn attention_cache_computes_the_construction_weights_once() {
    use icrl_proofs::attention::softmax::{apply_multi_head, apply_shift_layer, Workspace};
    for k in 0..8u64 {
        let mut rng = case_rng(13, "test-cache-count", k);
        let case = draw_case(&mut rng, 5, 20, 8, false);
        let d = case.d();
        let mut parts = Parts::new(d, case.gamma());
        let reads_memory = k % 2 == 1;
        if reads_memory {
            parts.a[(d + 2, d + 1)] = 0.5;
        }
        let layers = case.alphas.len();
        let z0 = case.prompt();
        let mut z = z0.clone();
        let mut ws = Workspace::new(z0.rows(), z0.cols());
        for l in &parts.two_head_stack(&case.alphas) {
            apply_multi_head(&mut z, l, &mut ws);
        }
        assert_eq!(ws.weights_computed(), if reads_memory { layers } else { 1 }, "two heads, case {k}");
        let (mut z, mut ws) = (z0.clone(), Workspace::new(z0.rows(), z0.cols()));
        for l in &parts.shift_stack(&case.alphas) {
            apply_shift_layer(&mut z, l, &mut ws);
        }
        assert_eq!(ws.weights_computed(), if reads_memory { layers } else { 1 }, "one head, case {k}");
    }
}

/// The cache's "which rows did this layer write" test, where the construction cannot see it:
/// there every value row has zeros and `A` reads rows no head writes, so a wrong test (a zero
/// entry for a nonzero one) only costs recomputation. Here `A` reads only row 1 and the one
/// head writes row 1 with no zero entry: two identical layers must recompute the weights.
#[test]
fn attention_cache_sees_a_dense_written_row() {
    use icrl_proofs::attention::softmax::{forward_multi_head_with, Head, MultiHeadLayer};
    use icrl_proofs::linalg::Mat;
    let (r, c) = (3, 4);
    let z0 = Mat::from_fn(r, c, |i, j| 0.25 * (i as f64 + 1.0) - 0.5 * j as f64);
    let mut a = Mat::zeros(r, r);
    a[(1, 1)] = 1.0;
    let v = Mat::from_fn(r, r, |i, j| if i == 1 { 0.5 + 0.25 * j as f64 } else { 0.0 });
    let layer = MultiHeadLayer { a, heads: vec![Head { v, shift: false }], mask_query: false };
    let stack = vec![layer.clone(), layer];
    let cached = forward_multi_head_with(&z0, &stack, true);
    assert_eq!(cached, forward_multi_head_with(&z0, &stack, false));
    // Negative control: the first layer changed row 1, so stale weights would differ.
    assert_ne!(cached[1].row(1), z0.row(1));
}

/// The same test for Lemma 1's shift layer (`apply_shift_layer`), where a row is written by `V`,
/// by `W` (the shifted value into the target memory) or by a row of `U` that is not the identity
/// row. In the construction `A` reads no row any of them writes, so a test that missed one of
/// the three (`||` → `&&`) lived. Here `A` reads only row 1, and row 1 is written by each writer
/// alone in turn (`V`, then `W`, then `U`; in the last two `V` writes row 2, so the weights still
/// reach the output): two identical layers must recompute the weights.
#[test]
fn shift_layer_cache_sees_each_writer_of_a_row() {
    use icrl_proofs::attention::softmax::{forward_shift_with, ShiftLayer};
    use icrl_proofs::linalg::Mat;
    let (r, c) = (3, 4);
    let z0 = Mat::from_fn(r, c, |i, j| 0.25 * (i as f64 + 1.0) - 0.5 * j as f64);
    let mut a = Mat::zeros(r, r);
    a[(1, 1)] = 1.0;
    let only_row =
        |k: usize, off: f64| Mat::from_fn(r, r, move |i, j| if i == k { off + 0.25 * j as f64 } else { 0.0 });
    let id = Mat::from_fn(r, r, |i, j| if i == j { 1.0 } else { 0.0 });
    let mut u1 = id.clone();
    u1[(1, 0)] = 0.25;
    u1[(1, 1)] = 0.5;
    for (writer, v, u, w) in [
        ("V", only_row(1, 0.5), id.clone(), Mat::zeros(r, r)),
        ("W", only_row(2, 0.5), id.clone(), only_row(1, -0.5)),
        ("U", only_row(2, 0.5), u1, Mat::zeros(r, r)),
    ] {
        let layer = ShiftLayer { a: a.clone(), v, u, w, mask_query: false };
        let stack = vec![layer.clone(), layer];
        let cached = forward_shift_with(&z0, &stack, true);
        assert_eq!(cached, forward_shift_with(&z0, &stack, false), "row 1 written by {writer} alone");
        // Negative control: the first layer changed row 1, so stale weights would differ.
        assert_ne!(cached[1].row(1), z0.row(1), "{writer}");
    }
}

/// A value matrix with no zero entry, by hand. With `A = 0` every score is 0 and the column
/// softmax is uniform (`S = 1/c` exactly, no mask), so `Z S` repeats each row's mean and one layer
/// gives `Z' = Z + V m 1ᵀ` with `m_k` the mean of row `k` of `Z` (dyadic entries: exact in `f64`).
/// The layers compute `Z S` only for the rows some `V` reads (a nonzero column of `V`); the
/// construction's `V` has zeros in every column, so a test that marked the columns with a zero
/// entry instead (`!x.is_zero()` → `x.is_zero()` in `mark_read_rows`, stop 25) lived. Here
/// it would read no row and leave `Z` unchanged. Both layer forms: two-head (one head) and
/// Lemma 1's shift layer with `U = I`, `W = 0`.
#[test]
fn a_dense_value_matrix_reads_every_row() {
    use icrl_proofs::attention::softmax::{forward_multi_head, forward_shift, Head, MultiHeadLayer, ShiftLayer};
    use icrl_proofs::linalg::Mat;
    let (r, c) = (3, 4);
    let z0 = Mat::from_fn(r, c, |i, j| 0.25 * (i as f64 + 1.0) - 0.5 * j as f64);
    let v = Mat::from_fn(r, r, |i, k| 0.5 + 0.25 * (i + 2 * k) as f64);
    let mean: Vec<f64> = (0..r).map(|k| (0..c).map(|j| z0[(k, j)]).sum::<f64>() / c as f64).collect();
    let want = Mat::from_fn(r, c, |i, j| z0[(i, j)] + (0..r).map(|k| v[(i, k)] * mean[k]).sum::<f64>());
    assert_ne!(want, z0, "the layer must move Z");
    let a = Mat::zeros(r, r);
    let layer = MultiHeadLayer { a: a.clone(), heads: vec![Head { v: v.clone(), shift: false }], mask_query: false };
    assert_eq!(forward_multi_head(&z0, &[layer])[1], want, "two-head form");
    let id = Mat::from_fn(r, r, |i, j| if i == j { 1.0 } else { 0.0 });
    let layer = ShiftLayer { a, v, u: id, w: Mat::zeros(r, r), mask_query: false };
    assert_eq!(forward_shift(&z0, &[layer])[1], want, "shift form");
}

#[test]
fn absurd_depth_or_temperature_is_an_input_error_not_a_crash() {
    for (text, field) in [
        (INSTANCE.replace("\"layers\": 3", "\"layers\": 1000000000"), "params.layers"),
        (INSTANCE.replace("\"beta\": 2.0", "\"beta\": 1e300"), "params.beta"),
    ] {
        let err = Instance::from_json_text(&text).and_then(|i| check_instance(&i)).unwrap_err();
        assert_eq!(err.field, field, "{err}");
    }
}

/// `attention::softmax::query_readouts` (the forward pass of `train softmax-td` and the softmax
/// gradient, which keeps no iterates) reads the query value `Z_l[d+2, n]` of every layer: the
/// last entry of each iterate of `forward_multi_head`. The campaign's `softmax` judges had no
/// caller of it (a mutant of its index lived).
#[test]
fn query_readouts_are_the_last_entry_of_every_iterate() {
    use icrl_proofs::attention::softmax::{forward_multi_head, query_readouts};
    for k in 0..4u64 {
        let mut rng = case_rng(13, "test-query-readouts", k);
        let case = draw_case(&mut rng, 5, 20, 8, false);
        let parts = Parts::new(case.d(), case.gamma());
        let z0 = case.prompt();
        let stack = parts.two_head_stack(&case.alphas);
        let (r, c) = (z0.rows(), z0.cols());
        let want: Vec<f64> = forward_multi_head(&z0, &stack)[1..].iter().map(|z| z[(r - 1, c - 1)]).collect();
        assert_eq!(query_readouts(&z0, &stack), want, "case {k}");
    }
}

/// `softmax-td-tabular-limit`: each of its three bounded equalities (the one-hot M̂ diagonal,
/// the `α = 1` limit as empirical value iteration, the contraction factor `γ`) holds on every
/// case, and each fails under its own sabotage (`u/(u + e^-β)`, a step at `α = 1 − 2^-10`, the
/// factor `(1 + γ²)/2`), so none of the three is carried by the others. The rate (b) has no
/// sabotage of its own here (its negative control is the registry's).
#[test]
fn tabular_limit_equalities_are_bounded_and_each_fails_under_its_sabotage() {
    use icrl_proofs::mdp::features::Features;
    use icrl_proofs::theorem::CheckKind;
    for seed in 0..48u64 {
        let mut rng = case_rng(seed, "test-tabular-limit", 0);
        let mut case = draw_case(&mut rng, 6, 40, 10, true);
        case.features = Features::one_hot(case.mrp.n_states(), 1, 1.0);
        let (good, _) = th::tabular_limit(&case, false);
        let (bad, _) = th::tabular_limit(&case, true);
        let eqs: Vec<usize> = (0..good.len()).filter(|&i| good[i].kind != CheckKind::Rate).collect();
        assert_eq!(eqs.len(), 3, "{good:?}");
        for &i in &eqs {
            assert!(good[i].holds, "seed {seed}: {:?}", good[i]);
            assert!(good[i].tolerance > 0.0 && good[i].tolerance < 1e-10, "seed {seed}: {:?}", good[i]);
            assert!(!bad[i].holds, "seed {seed}: the sabotage of {:?} passes", bad[i]);
        }
    }
}
