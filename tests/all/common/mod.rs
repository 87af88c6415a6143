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

/// The same claim through the `verify` runner (f64 and exact rows): every row of `ids` holds on
/// `cases` cases at `seed`, and every row fails under `--sabotage` on `sabotage_cases` cases.
pub fn assert_verify_holds_and_sabotage_fails(ids: &[&str], seed: u64, cases: u64, sabotage_cases: u64) {
    use icrl_proofs::theorem::{registry, ArithFilter};
    use icrl_proofs::verify::{render_table, run, VerifyConfig};
    let specs: Vec<_> = registry().into_iter().filter(|t| ids.contains(&t.id)).collect();
    assert_eq!(specs.len(), ids.len());
    let cfg = VerifyConfig {
        cases: Some(cases),
        seed,
        arith: ArithFilter::Both,
        sabotage: false,
        only_case: None,
        progress: false,
        sides: Default::default(),
    };
    let rep = run(&specs, &cfg);
    assert!(rep.all_hold(), "{}", render_table(&rep));
    let rep = run(&specs, &VerifyConfig { sabotage: true, cases: Some(sabotage_cases), ..cfg });
    for row in &rep.rows {
        assert!(!row.holds, "{} must fail under sabotage", row.theorem);
    }
}

/// Rewrite the numbers of a report for a snapshot: every space-separated token whose core (the
/// token without trailing `trim` characters) parses as an `f64` is passed to `f`; `Some(new)`
/// replaces the core, `None` keeps the token.
pub fn map_numbers(text: &str, trim: &[char], f: impl Fn(&str, f64) -> Option<String>) -> String {
    text.lines()
        .map(|l| {
            l.split(' ')
                .map(|tok| {
                    let core = tok.trim_end_matches(trim);
                    match core.parse::<f64>().ok().and_then(|x| f(core, x)) {
                        Some(new) => tok.replacen(core, &new, 1),
                        None => tok.to_string(),
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `icrl report` kind.
pub fn report_kinds() -> Vec<&'static str> {
    vec!["actor-critic", "decay", "flow", "emergence", "neu", "all"]
}

/// Run the `icrl` binary with `args`.
pub fn icrl(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_icrl")).args(args).output().expect("runs")
}

/// A finished process's standard output, as text.
pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A finished process's standard error, as text.
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh, empty temporary directory `icrl-{module}-test-{pid}-{name}` (emptied if it exists).
pub fn tmpdir(module: &str, name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("icrl-{module}-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
