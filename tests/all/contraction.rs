//! [XZ] Assumption 5.1 and Thm 2 (arXiv:2605.07333; spec `contraction.md`), and the
//! `icrl report decay` table. Each positive check sits beside a negative control.

use crate::common;

use icrl_proofs::instance::{parse_json, Instance};
use icrl_proofs::mdp::values::mrp_value;
use icrl_proofs::rl::softmax_td as reference;
use icrl_proofs::rng::case_rng;
use icrl_proofs::theorem::contraction::{
    decay_rate, draw_decay_instance, fit_decay, pathwise, transformer_values, Population,
};
use icrl_proofs::theorem::softmax_td::{draw_case, Case};
use icrl_proofs::theorem::{registry, ArithFilter};
use icrl_proofs::tolerance::decay_fit_slack;
use icrl_proofs::verify::{run, VerifyConfig};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn runner(cases: u32) -> TestRunner {
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]))
}

#[test]
fn every_contraction_theorem_holds_and_fails_under_sabotage() {
    let ids = [
        "contraction-assumption",
        "contraction-assumption-identities",
        "contraction-pathwise",
        "contraction-decay",
        "contraction-decay-rate",
        "contraction-unvisited",
    ];
    common::assert_verify_holds_and_sabotage_fails(&ids, 2, 12, 4);
}

#[test]
fn pathwise_bounds_hold_on_the_transformer_iterates() {
    runner(48)
        .run(&any::<u64>(), |seed| {
            let mut rng = case_rng(seed, "test-pathwise", 0);
            let mut case = draw_case(&mut rng, 5, 40, 15, true);
            let alpha = case.alphas[0];
            case.alphas = vec![alpha; case.layers()];
            let ss = case.reference_in::<icrl_proofs::scalar::errbound::ErrBound>().state_space(case.mrp.rewards());
            let v_pi = mrp_value(&case.mrp);
            let ms = pathwise(&case, &ss, &v_pi, &transformer_values(&case, false), alpha);
            prop_assert!(ms.iter().all(|m| m.holds), "{ms:?}");
            // Negative control: a construction off by 1% breaks the recursion identity.
            let bad = pathwise(&case, &ss, &v_pi, &transformer_values(&case, true), alpha);
            prop_assert!(!bad[0].holds);
            Ok(())
        })
        .unwrap();
}

#[test]
fn one_hot_margin_formula_and_threshold() {
    let mut rng = case_rng(4, "test-onehot", 0);
    let inst = draw_decay_instance(&mut rng, 5);
    let (ns, g) = (inst.mrp.n_states(), inst.mrp.gamma());
    let onehot = icrl_proofs::mdp::features::Features::one_hot(ns, 1, 1.0);
    let margin = |b: f64| Population::new(&inst.mrp, &onehot, b).unwrap().margin;
    let mu_min = inst.pop.mu.iter().cloned().fold(f64::INFINITY, f64::min);
    let c = 0.25 * (1.0 - g) / 2.0;
    let b = reference::one_hot_threshold(mu_min, g, c);
    let tol = icrl_proofs::tolerance::pathwise_slack(ns) * (1.0 + b);
    assert!((margin(b) - c).abs() <= tol);
    // Negative control: 1% below the threshold the margin is not reached.
    assert!(margin(0.99 * b) < c);
    // Generic random features at β = 1 usually fail the assumption [D]: count on 50 draws.
    let fails = (0..50)
        .filter(|&k| {
            let mut r = case_rng(4, "test-generic", k);
            let mrp = icrl_proofs::mdp::generators::random_mrp(&mut r, 4, 0.5);
            let f = icrl_proofs::mdp::features::Features::random(&mut r, 4, 1, 3);
            Population::new(&mrp, &f, 1.0).is_some_and(|p| p.margin <= 0.0)
        })
        .count();
    assert!(fails >= 40, "only {fails}/50 generic instances fail Assumption 5.1");
}

#[test]
fn decay_factor_is_no_slower_than_one_minus_c() {
    for k in 0..6 {
        let mut rng = case_rng(5, "test-decay", k);
        let inst = draw_decay_instance(&mut rng, 5);
        let (factor, bound, m) = decay_rate(&mut rng, &inst, 1.0);
        // k = 3 is the looser of the two stretch thresholds (decay_rate does not say which).
        let slack = decay_fit_slack(m, 3.0) * factor;
        assert!(m >= 1 && factor <= bound + slack, "factor {factor} vs 1 - C = {bound} over {m} layers");
        // Negative control: alpha = 1000 (one entry of the value head) diverges.
        let (bad, bound, m) = decay_rate(&mut rng, &inst, 1e3);
        #[allow(clippy::neg_cmp_op_on_partial_ord)] // a NaN factor (overflow) counts as diverged
        let diverged = !(bad <= bound + decay_fit_slack(m, 3.0) * bad);
        assert!(diverged);
    }
}

#[test]
fn fit_decay_recovers_a_known_rate() {
    let e: Vec<f64> = (0..30).map(|l| 0.7f64.powi(l) + 1e-6).collect();
    let (f, m) = fit_decay(&e, 1e-6);
    // The floor biases the fit by at most decay_fit_slack (its documented reason).
    assert!(m >= 10);
    assert!(f >= 0.7 && f - 0.7 <= decay_fit_slack(m, 10.0) * f, "{f}");
}

#[test]
fn the_diverging_fixture_violates_assumption_5_1_and_grows() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/counterexamples/contraction-decay--contraction.json");
    let raw = parse_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    let case = Case::from_instance(&Instance::from_value(raw.clone()).unwrap()).unwrap();
    let pop = Population::new(&case.mrp, &case.features, case.beta).unwrap();
    assert!(pop.margin < 0.0, "Assumption 5.1 must fail on the diverging instance: C = {}", pop.margin);
    let f = icrl_proofs::theorem::replay_fn("contraction-decay", "contraction").unwrap();
    assert!(f(&raw).unwrap() > 0.0);
}

#[test]
fn report_decay_table_snapshot_and_svg() {
    let o = icrl_proofs::report::decay::run(0);
    let table = &o.markdown;
    insta::assert_snapshot!("report_decay_seed0", table);
    insta::assert_snapshot!("report_decay_seed0_json", crate::reports::report_json(&o));
    crate::reports::check_output(&o);
    let dir = tempfile::tempdir().unwrap();
    o.write(dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join("decay.svg")).unwrap();
    assert!(text.matches("<polyline").count() >= 5, "4 depth curves and the fitted line");
    assert!(text.contains("fitted slope"));
    for n in icrl_proofs::report::decay::CURVE_NS {
        assert!(text.contains(&format!("n = {n}")));
    }
    // The verdict is the number, and the text agrees with it.
    assert_eq!(o.holds, Some(true));
    assert_eq!(o.numbers["floor_slope_in_range"], true);
    let slope = table.lines().find(|l| l.starts_with("fitted log-log slope")).unwrap();
    assert!(slope.contains("in range"), "{slope}");
}

#[test]
fn verdicts_and_errors_do_not_depend_on_the_thread_count() {
    let ids = ["softmax-td-equivalence", "contraction-pathwise", "contraction-decay"];
    let specs: Vec<_> = registry().into_iter().filter(|t| ids.contains(&t.id)).collect();
    let cfg = VerifyConfig {
        cases: Some(6),
        seed: 9,
        arith: ArithFilter::Both,
        sabotage: false,
        only_case: None,
        progress: false,
        sides: Default::default(),
    };
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| run(&specs, &cfg));
    let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap().install(|| run(&specs, &cfg));
    let key = |r: &icrl_proofs::verify::Report| {
        r.rows.iter().map(|x| (x.theorem.clone(), x.max_error.to_bits(), x.holds)).collect::<Vec<_>>()
    };
    assert_eq!(key(&one), key(&two));
}
