//! MDP layer: generators build valid objects, values satisfy their equations, rollouts are
//! feasible, and everything is reproducible from a seed.

use icrl_proofs::mdp::features::Features;
use icrl_proofs::mdp::policy::TabularPolicy;
use icrl_proofs::mdp::rollout::rollout_from_initial;
use icrl_proofs::mdp::{generators, values};
use icrl_proofs::rng::case_rng;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_tabular_rollouts_are_feasible(seed in any::<u64>(), ns in 1usize..6, na in 1usize..4, n in 1usize..30) {
        let mut rng = case_rng(seed, "mdp-test", 0);
        let mdp = generators::random_tabular(&mut rng, ns, na, 0.9);
        let f = Features::random(&mut rng, ns, na, 3);
        let pi = TabularPolicy::epsilon_greedy(&f, &[0.5, -0.5, 0.1], 0.1);
        let t = rollout_from_initial(&mut rng, &mdp, &pi, n);
        prop_assert!(t.validate(&mdp).is_ok());
    }

    #[test]
    fn boyan_chain_is_valid_and_representable(seed in any::<u64>()) {
        let mut rng = case_rng(seed, "boyan", 0);
        let (ns, d, _n, gamma) = generators::BOYAN;
        let mrp = generators::boyan_chain(&mut rng, ns, gamma);
        let x = Features::random(&mut rng, ns, 1, d);
        let (rep, wstar) = generators::representable(&mut rng, &mrp, &x);
        let v = values::mrp_value(&rep);
        for (s, vs) in v.iter().enumerate() {
            let xv: f64 = x.x(s).iter().zip(&wstar).map(|(a, b)| a * b).sum();
            prop_assert!((vs - xv).abs() <= 1e-9 * (1.0 + xv.abs()) * 10.0 / (1.0 - gamma));
        }
        let mu = values::stationary(&mrp).unwrap();
        prop_assert!(mu.iter().all(|&m| m > 0.0));
    }
}

#[test]
fn generators_are_reproducible() {
    let a = generators::random_tabular(&mut case_rng(1, "g", 2), 4, 3, 0.5);
    let b = generators::random_tabular(&mut case_rng(1, "g", 2), 4, 3, 0.5);
    let c = generators::random_tabular(&mut case_rng(1, "g", 3), 4, 3, 0.5);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn optimal_value_dominates_every_deterministic_policy() {
    let mut rng = case_rng(4, "vi", 0);
    let mdp = generators::random_tabular(&mut rng, 3, 2, 0.8);
    let (vstar, qstar) = values::optimal_values(&mdp);
    for code in 0..8usize {
        let acts: Vec<usize> = (0..3).map(|s| (code >> s) & 1).collect();
        let v = values::v_pi(&mdp, &TabularPolicy::deterministic(2, &acts));
        for s in 0..3 {
            assert!(vstar[s] >= v[s] - 1e-9);
        }
    }
    for s in 0..3 {
        let m = qstar[s * 2].max(qstar[s * 2 + 1]);
        assert!((m - vstar[s]).abs() < 1e-9);
    }
}
