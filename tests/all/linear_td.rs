//! [WB] linear attention = batch TD(0), TD(λ), residual gradient: properties, negative
//! controls, snapshots.

use crate::common::*;
use icrl_proofs::attention::linear::{masked_layer, query_mask};
use icrl_proofs::attention::prompt::td_prompt;
use icrl_proofs::construction::linear_td::{p_td, q_residual, q_td};
use icrl_proofs::linalg::Mat;
use icrl_proofs::scalar::Scalar;
use icrl_proofs::theorem::linear_td::{reference, transformer, Variant};
use num_rational::BigRational;
use proptest::prelude::*;

fn variant() -> impl Strategy<Value = Variant> {
    prop_oneof![Just(Variant::Td0), Just(Variant::Lambda), Just(Variant::Residual)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    /// Layerwise equivalence, exactly, for dense preconditioners and every variant.
    #[test]
    fn layerwise_exact((b, qv) in batch_and_w(2, 4), layers in 1usize..=3, v in variant(), lambda in 0.0f64..1.0, seed in any::<u64>()) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let d = qv.len();
        let cs: Vec<Mat<BigRational>> = (0..layers).map(|_| Mat::from_fn(d, d, |_, _| BigRational::from_ratio(rng.random_range(-8i64..=8), 8))).collect();
        let (bq, qq, lq) = (exact(&b), q(&qv), BigRational::from_f64(lambda));
        let tf = transformer(&bq, &qq, &cs, v, &lq, true, false);
        let (rv, rd) = reference(&bq, &qq, &cs, v, &lq);
        prop_assert_eq!(tf.readouts, rv);
        prop_assert_eq!(tf.bottom, rd);
        prop_assert!(tf.rows_unchanged);
    }

    /// The same in f64 (deep stacks: any depth), to `td_tol`.
    #[test]
    fn layerwise_f64((b, qv) in batch_and_w(4, 10), layers in 1usize..=10, v in variant(), lambda in 0.0f64..1.0, alpha in 0.01f64..0.5) {
        let d = qv.len();
        let cs = vec![Mat::identity(d).scale(&alpha); layers];
        let tf = transformer(&b, &qv, &cs, v, &lambda, true, false);
        let (rv, rd) = reference(&b, &qv, &cs, v, &lambda);
        let zmax = rd.iter().flatten().chain(&rv).fold(1.0f64, |m, x| m.max(x.abs()));
        let tol = icrl_proofs::theorem::linear_td::td_tol(d, b.len(), &cs, zmax);
        for (x, y) in tf.readouts.iter().zip(&rv) {
            prop_assert!((x - y).abs() <= tol);
        }
    }
}

/// Without the query mask one layer still matches (negative control of the mask relaxation:
/// the second layer must differ on a generic instance).
#[test]
fn query_mask_matters_from_layer_two() {
    let b = generic_batch(2, 3);
    let qv = vec![BigRational::from_ratio(2, 3), BigRational::from_ratio(-1, 5)];
    let cs = vec![Mat::identity(2).scale(&BigRational::from_ratio(1, 2)); 2];
    let z = BigRational::from_f64(0.0);
    let tf = transformer(&b, &qv, &cs, Variant::Td0, &z, false, false);
    let (rv, _) = reference(&b, &qv, &cs, Variant::Td0, &z);
    assert_eq!(tf.readouts[0], rv[0]);
    assert_ne!(tf.readouts[1], rv[1]);
}

/// Negative controls: every single-entry perturbation of P^TD and of Q^TD is detected (by the
/// query readout, the δ row or the unchanged-rows invariant) on a generic two-layer instance.
#[test]
fn every_single_entry_perturbation_of_p_and_q_is_detected() {
    for (d, residual) in [(1, false), (2, false), (2, true)] {
        let b = generic_batch(d, 3);
        let n = b.len();
        let qv: Vec<BigRational> = (0..d).map(|k| BigRational::from_ratio(3 + k as i64, 7)).collect();
        let c = Mat::from_fn(d, d, |i, j| BigRational::from_ratio((i * d + j) as i64 + 2, 5));
        let q0 = if residual { q_residual(&c) } else { q_td(&c) };
        let p0 = p_td::<BigRational>(d);
        let m = query_mask::<BigRational>(n);
        let run = |p: &Mat<BigRational>, q: &Mat<BigRational>| {
            let mut z = td_prompt(&b, &qv);
            let mut trace = Vec::new();
            for _ in 0..2 {
                z = masked_layer(&z, p, q, &m);
                trace.push(z.clone());
            }
            trace
        };
        let base = run(&p0, &q0);
        let dim = 2 * d + 1;
        let mut undetected = Vec::new();
        for i in 0..dim {
            for j in 0..dim {
                let mut p = p0.clone();
                p[(i, j)] = p[(i, j)].clone() + BigRational::from_ratio(1, 3);
                if run(&p, &q0) == base {
                    undetected.push(format!("P[{i},{j}]"));
                }
                let mut q = q0.clone();
                q[(i, j)] = q[(i, j)].clone() + BigRational::from_ratio(1, 3);
                if run(&p0, &q) == base {
                    undetected.push(format!("Q[{i},{j}]"));
                }
            }
        }
        assert!(undetected.is_empty(), "d = {d}, residual = {residual}: not detected: {undetected:?}");
    }
}

#[test]
fn registered_checks_hold_and_sabotage_fails() {
    assert_checks_hold_and_sabotage_fails(&["linear-td", "linear-td-lambda", "linear-td-residual"], 5, 15);
}

#[test]
fn constructed_matrices_snapshot() {
    let c = Mat::from_fn(2, 2, |i, j| BigRational::from_ratio((i * 2 + j) as i64 + 1, 10));
    let show = |m: &Mat<BigRational>| {
        (0..m.rows())
            .map(|i| (0..m.cols()).map(|j| format!("{:>5}", m[(i, j)].to_string())).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let s = format!(
        "C = [[1/10, 1/5], [3/10, 2/5]], d = 2\nP^TD:\n{}\nQ^TD(C):\n{}\nQ residual(C):\n{}\nTD(λ) mask, n = 3, λ = 1/2:\n{}\n",
        show(&p_td(2)),
        show(&q_td(&c)),
        show(&q_residual(&c)),
        show(&icrl_proofs::attention::linear::td_lambda_mask(3, &BigRational::from_ratio(1, 2)))
    );
    insta::assert_snapshot!(s);
}
