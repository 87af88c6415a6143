//! [LL] Thm 3.1, Lemma C.1, Prop. 3.1 (readout), stacking: properties, negative controls,
//! snapshots of the constructed matrices.

use crate::common::*;
use icrl_proofs::attention::linear::{lsa_block, lsa_block_last_column};
use icrl_proofs::attention::prompt::sarsa_prompt;
use icrl_proofs::construction::sarsa::{perturbable_entries, Shape};
use icrl_proofs::linalg::Mat;
use icrl_proofs::rl::sarsa::{batch_sarsa, batch_sarsa_steps};
use icrl_proofs::scalar::Scalar;
use icrl_proofs::theorem::sarsa::{construction, readout_formula, sarsa_tol, transformer, transformer_readout};
use num_rational::BigRational;
use proptest::prelude::*;

fn render<T: Scalar + std::fmt::Display>(m: &Mat<T>) -> String {
    let cells: Vec<Vec<String>> =
        (0..m.rows()).map(|i| (0..m.cols()).map(|j| m[(i, j)].to_string()).collect()).collect();
    let w = cells.iter().flatten().map(String::len).max().unwrap_or(1);
    cells
        .iter()
        .map(|r| r.iter().map(|c| format!("{c:>w$}")).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Theorem 3.1, exactly, for every c in a range including c < 0, tiny and large.
    #[test]
    fn equivalence_exact((b, w) in batch_and_w(4, 6), alpha in 1e-3f64..10.0, c_exp in -30i32..30, c_neg in any::<bool>()) {
        let c = if c_neg { -(2f64.powi(c_exp)) } else { 2f64.powi(c_exp) };
        let (bq, wq, aq, cq) = (exact(&b), q(&w), BigRational::from_f64(alpha), BigRational::from_f64(c));
        let (p, v) = construction(w.len(), &aq, &cq, false);
        prop_assert_eq!(transformer_readout(&bq, &wq, &p, &v), batch_sarsa(&bq, &wq, &aq));
    }

    /// Theorem 3.1 in f64, to the tolerance of `sarsa_tol`.
    #[test]
    fn equivalence_f64((b, w) in batch_and_w(6, 12), alpha in 1e-3f64..10.0, c in prop_oneof![-100.0f64..-1e-3, 1e-3f64..100.0]) {
        let (p, v) = construction(w.len(), &alpha, &c, false);
        let tf = transformer_readout(&b, &w, &p, &v);
        let rf = batch_sarsa(&b, &w, &alpha);
        let tol = sarsa_tol(&b, &w, alpha, 1);
        for (x, y) in tf.iter().zip(&rf) {
            prop_assert!((x - y).abs() <= tol, "{x} vs {y} (tol {tol})");
        }
    }

    /// Lemma C.1 for arbitrary dense P, V, exactly.
    #[test]
    fn readout_identity_exact((b, w) in batch_and_w(2, 4), seed in any::<u64>()) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let dd = 3 * w.len() + 2;
        let mut m = || Mat::from_fn(dd, dd, |_, _| BigRational::from_ratio(rng.random_range(-8i64..=8), 4));
        let (p, v) = (m(), m());
        let (bq, wq) = (exact(&b), q(&w));
        prop_assert_eq!(transformer_readout(&bq, &wq, &p, &v), readout_formula(&bq, &wq, &p, &v));
    }

    /// Stacking: L blocks = L SARSA steps, exactly.
    #[test]
    fn stacking_exact((b, w) in batch_and_w(2, 4), layers in 1usize..=3, alpha in 0.01f64..1.0) {
        let (bq, wq, aq) = (exact(&b), q(&w), BigRational::from_f64(alpha));
        let (p, v) = construction(w.len(), &aq, &BigRational::from_ratio(-3, 7), false);
        let (tf, _) = transformer(&bq, &wq, &p, &v, layers);
        prop_assert_eq!(tf, batch_sarsa_steps(&bq, &wq, &aq, layers));
    }

    /// The fast last-column path equals the last column of the full block (arbitrary P, V).
    #[test]
    fn last_column_path_equals_full_block((b, w) in batch_and_w(3, 5), seed in any::<u64>()) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let dd = 3 * w.len() + 2;
        let mut m = || Mat::from_fn(dd, dd, |_, _| BigRational::from_ratio(rng.random_range(-8i64..=8), 4));
        let (p, v) = (m(), m());
        let h = sarsa_prompt(&exact(&b), &q(&w));
        let full = lsa_block(&h, &p, &v);
        prop_assert_eq!(lsa_block_last_column(&h, &p, &v), full.col(full.cols() - 1));
    }
}

/// quickcheck: the constructed SARSA block on integer prompts (exact; integers are a
/// different, shrinkable family of inputs).
#[test]
fn quickcheck_equivalence_on_integer_prompts() {
    fn prop(raw: Vec<(i8, i8, i8)>, w0: i8, w1: i8, a: u8) -> bool {
        if raw.is_empty() {
            return true;
        }
        let n = raw.len().min(8);
        let r = |x: i8| BigRational::from_ratio(x as i64, 8);
        let b = icrl_proofs::mdp::batch::TransitionBatch {
            phi: raw[..n].iter().map(|t| vec![r(t.0), r(t.1)]).collect(),
            phi_next: raw[..n].iter().map(|t| vec![r(t.1), r(t.2)]).collect(),
            rewards: raw[..n].iter().map(|t| r(t.2)).collect(),
            gamma: BigRational::from_ratio(1, 2),
        };
        let w = vec![r(w0), r(w1)];
        let alpha = BigRational::from_ratio(a as i64 + 1, 16);
        let (p, v) = construction(2, &alpha, &BigRational::from_ratio(-2, 1), false);
        transformer_readout(&b, &w, &p, &v) == batch_sarsa(&b, &w, &alpha)
    }
    quickcheck::QuickCheck::new().tests(300).quickcheck(prop as fn(Vec<(i8, i8, i8)>, i8, i8, u8) -> bool);
}

/// Negative controls: every single-entry perturbation inside (P12, V̄21) changes the output on a
/// generic instance.
#[test]
fn every_single_entry_perturbation_is_detected() {
    for d in 1..=3 {
        let b = generic_batch(d, 4);
        let w: Vec<BigRational> = (0..d).map(|k| BigRational::from_ratio(2 * k as i64 - 3, 7)).collect();
        let alpha = BigRational::from_ratio(1, 5);
        let c = BigRational::from_ratio(3, 2);
        let (p, v) = construction(d, &alpha, &c, false);
        let reference = batch_sarsa(&b, &w, &alpha);
        assert_eq!(transformer_readout(&b, &w, &p, &v), reference);
        let (p12, v21) = perturbable_entries(Shape::sarsa(d));
        let mut undetected = Vec::new();
        for &(i, j) in &p12 {
            let mut p2 = p.clone();
            p2[(i, j)] = p2[(i, j)].clone() + BigRational::from_ratio(1, 3);
            if transformer_readout(&b, &w, &p2, &v) == reference {
                undetected.push(format!("P[{i},{j}]"));
            }
        }
        for &(i, j) in &v21 {
            let mut v2 = v.clone();
            v2[(i, j)] = v2[(i, j)].clone() + BigRational::from_ratio(1, 3);
            if transformer_readout(&b, &w, &p, &v2) == reference {
                undetected.push(format!("V[{i},{j}]"));
            }
        }
        assert!(undetected.is_empty(), "d = {d}: perturbations not detected: {undetected:?}");
        assert_eq!(p12.len(), (2 * d + 1) * (d + 1));
        assert_eq!(v21.len(), d * (2 * d + 1));
    }
}

/// The registered checks hold on a few cases and fail under sabotage (harness negative control).
#[test]
fn registered_checks_hold_and_sabotage_fails() {
    assert_checks_hold_and_sabotage_fails(
        &["sarsa-equivalence", "sarsa-readout-identity", "sarsa-output-independence", "sarsa-stacking"],
        11,
        20,
    );
}

#[test]
fn constructed_matrices_snapshot() {
    let mut s = String::new();
    for d in 1..=2 {
        let (p, v) = construction(d, &BigRational::from_ratio(1, 5), &BigRational::from_ratio(1, 1), false);
        s.push_str(&format!(
            "d = {d}, α = 1/5, c = 1\nP⋆ ({}×{}):\n{}\nV⋆:\n{}\n\n",
            p.rows(),
            p.cols(),
            render(&p),
            render(&v)
        ));
    }
    let (p, v) = construction(1, &BigRational::from_ratio(1, 5), &BigRational::from_ratio(-2, 1), false);
    s.push_str(&format!("d = 1, α = 1/5, c = -2\ncP⋆:\n{}\nV⋆/c:\n{}\n", render(&p), render(&v)));
    insta::assert_snapshot!(s);
}
