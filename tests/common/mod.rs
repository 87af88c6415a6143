//! Shared strategies for the integration tests: valid objects built by construction.
#![allow(dead_code)]

use icrl_proofs::mdp::batch::TransitionBatch;
use icrl_proofs::scalar::Scalar;
use num_rational::BigRational;
use proptest::collection::vec;
use proptest::prelude::*;

/// A free batch of `n` transitions with `d` features, entries in `[-1, 1]`, `γ ∈ [0, 1)`.
pub fn batch(dmax: usize, nmax: usize) -> impl Strategy<Value = TransitionBatch<f64>> {
    (1..=dmax, 1..=nmax).prop_flat_map(|(d, n)| {
        (vec(vec(-1.0f64..1.0, d), n), vec(vec(-1.0f64..1.0, d), n), vec(-1.0f64..1.0, n), 0.0f64..0.99)
            .prop_map(|(phi, phi_next, rewards, gamma)| TransitionBatch { phi, phi_next, rewards, gamma })
    })
}

/// A batch together with a parameter vector of matching length.
pub fn batch_and_w(dmax: usize, nmax: usize) -> impl Strategy<Value = (TransitionBatch<f64>, Vec<f64>)> {
    batch(dmax, nmax).prop_flat_map(|b| {
        let d = b.dim();
        (Just(b), vec(-1.0f64..1.0, d))
    })
}

/// Exact copy.
pub fn exact(b: &TransitionBatch<f64>) -> TransitionBatch<BigRational> {
    b.convert()
}

/// Exact vector.
pub fn q(v: &[f64]) -> Vec<BigRational> {
    v.iter().map(|&x| BigRational::from_f64(x)).collect()
}

/// A fixed generic batch on coarse non-special numbers (for negative controls).
pub fn generic_batch(d: usize, n: usize) -> TransitionBatch<BigRational> {
    let mut k = 0i64;
    let mut next = || {
        k += 1;
        // distinct, irregular rationals
        BigRational::from_ratio((k * 7919) % 97 - 48, 29 + (k % 5))
    };
    TransitionBatch {
        phi: (0..n).map(|_| (0..d).map(|_| next()).collect()).collect(),
        phi_next: (0..n).map(|_| (0..d).map(|_| next()).collect()).collect(),
        rewards: (0..n).map(|_| next()).collect(),
        gamma: BigRational::from_ratio(3, 5),
    }
}

/// Each registered check holds on `cases` cases drawn from `seed`, and fails on every one of
/// them when its construction is sabotaged (the harness negative control).
pub fn assert_checks_hold_and_sabotage_fails(ids: &[&str], seed: u64, cases: u64) {
    use icrl_proofs::theorem::{self, CheckCtx};
    for &id in ids {
        let t = theorem::find(id).unwrap_or_else(|| panic!("{id} is not registered"));
        for k in 0..cases {
            let mut rng = icrl_proofs::rng::case_rng(seed, id, k);
            let r = (t.check)(&mut rng, &CheckCtx::default());
            assert!(r.measurements.iter().all(|m| m.holds), "{id} case {k}: {:?}", r.measurements);
            let mut rng = icrl_proofs::rng::case_rng(seed, id, k);
            let r = (t.check)(&mut rng, &CheckCtx { sabotage: true, ..CheckCtx::default() });
            assert!(r.measurements.iter().any(|m| !m.holds), "{id} case {k}: sabotage not detected");
        }
    }
}
