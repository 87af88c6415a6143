//! The fast paths are the same computation: the prepared sparse readout [`LsaReadout`] equals the
//! last column of the full block `lsa_block` (exactly over `BigRational` and `F_p` for arbitrary
//! dense `P, V`; in `f64` to a rounding bound), a perturbed weight is caught (negative control),
//! and the buffer-reusing `*_into` generators draw exactly what the allocating ones draw.
//! `icrl bench --json` prints one object per figure; its bad input is one `error:` line, exit 2.

use crate::common::*;
use icrl_proofs::attention::linear::{lsa_block, LsaReadout, LsaScratch};
use icrl_proofs::attention::prompt::{
    context, next_pair as prompt_next_pair, sarsa_prompt, sarsa_prompt_from_trajectory_into, sarsa_prompt_into,
};
use icrl_proofs::construction::sarsa::{p_star, v_star, Shape};
use icrl_proofs::linalg::Mat;
use icrl_proofs::mdp::batch::TransitionBatch;
use icrl_proofs::mdp::features::Features;
use icrl_proofs::mdp::generators::{random_tabular, random_tabular_into};
use icrl_proofs::mdp::policy::TabularPolicy;
use icrl_proofs::mdp::rollout::{rollout_from_initial, rollout_from_initial_into, Trajectory};
use icrl_proofs::rl::pairing::{next_pair as rl_next_pair, transitions, transitions_into};
use icrl_proofs::rl::sarsa::{batch_sarsa, batch_sarsa_into};
use icrl_proofs::rng::case_rng;
use icrl_proofs::scalar::field::{Fp, FIELD_PRIMES};
use icrl_proofs::scalar::Scalar;
use icrl_proofs::tolerance::poly_rel_tol;
use num_rational::BigRational;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use std::process::Command;

type F3 = Fp<{ FIELD_PRIMES[3] }>;

fn readout<T: Scalar>(h: &Mat<T>, p: &Mat<T>, v: &Mat<T>) -> Vec<T> {
    let mut out = Vec::new();
    LsaReadout::new(p, v).last_column_into(h, &mut LsaScratch::default(), &mut out);
    out
}

fn last_col<T: Scalar>(m: &Mat<T>) -> Vec<T> {
    m.col(m.cols() - 1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// `V (H (Hᵀ (P h_n)))` = the last column of `(V H)(Hᵀ P H)` for arbitrary dense (and
    /// sparse: entries are 0 with probability 1/4) `P, V`, exactly; a one-entry change of `V`
    /// in a row the readout reads changes the result (the comparison can fail).
    #[test]
    fn sparse_readout_equals_full_block_exactly((b, w) in batch_and_w(3, 5), seed in any::<u64>()) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let dd = 3 * w.len() + 2;
        let mut m = || Mat::from_fn(dd, dd, |_, _| {
            let k: i64 = rng.random_range(-8..=8);
            BigRational::from_ratio(if rng.random_range(0..4) == 0 { 0 } else { k }, 4)
        });
        let (p, v) = (m(), m());
        let h = sarsa_prompt(&exact(&b), &q(&w));
        let full = last_col(&lsa_block(&h, &p, &v));
        prop_assert_eq!(readout(&h, &p, &v), full.clone());
        // Negative control: `out - h_n = (1/n) V (H g)`; with `V = I` it is `(1/n) H g`. Add 1/3
        // to `V[D-1, j]` at a `j` with `(H g)_j ≠ 0`: the last output row must change.
        let hg: Vec<BigRational> =
            readout(&h, &p, &Mat::identity(dd)).iter().zip(last_col(&h)).map(|(a, b)| a.clone() - b).collect();
        if let Some(j) = hg.iter().position(|x| !num_traits::Zero::is_zero(x)) {
            let mut v2 = v.clone();
            v2[(dd - 1, j)] = v2[(dd - 1, j)].clone() + BigRational::from_ratio(1, 3);
            prop_assert_ne!(readout(&h, &p, &v2), full);
        }
    }
}

/// The same over `F_p` at the paper shape (`D = 110, n = 20`) with dense random weights.
#[test]
fn sparse_readout_equals_full_block_over_the_field_at_the_paper_shape() {
    let (d, n) = (36, 20);
    let dd = 3 * d + 2;
    for k in 0..3 {
        let mut rng = case_rng(4, "speed-readout-field", k);
        let mut r = || F3::random(&mut rng);
        let h = Mat::from_fn(dd, n + 1, |_, _| r());
        let p = Mat::from_fn(dd, dd, |_, _| r());
        let v = Mat::from_fn(dd, dd, |_, _| r());
        let full = last_col(&lsa_block(&h, &p, &v));
        assert_eq!(readout(&h, &p, &v), full);
        let mut v2 = v.clone();
        v2[(7, 11)] = v2[(7, 11)] + F3::from_ratio(1, 1);
        assert_ne!(readout(&h, &p, &v2), full, "a perturbed V must change the readout");
    }
}

/// In `f64` the two associations differ by rounding only: at most `poly_rel_tol(3(D + n + 1))`
/// times the magnitude of the summed terms, which is the same readout evaluated on `|H|, |P|, |V|`
/// (every product and sum of absolute values bounds the terms of the signed computation).
#[test]
fn sparse_readout_equals_full_block_in_f64_to_rounding() {
    for k in 0..20 {
        let mut rng = case_rng(5, "speed-readout-f64", k);
        let (d, n) = (rng.random_range(1..=36), rng.random_range(1..=64));
        let dd = 3 * d + 2;
        let mut r = |s: f64| rng.random_range(-s..s);
        let h = Mat::from_fn(dd, n + 1, |_, _| r(1.0));
        let p = Mat::from_fn(dd, dd, |_, _| r(2.0));
        let v = Mat::from_fn(dd, dd, |_, _| r(2.0));
        let abs = |m: &Mat<f64>| m.map(|x: &f64| x.abs());
        let scale = readout(&abs(&h), &abs(&p), &abs(&v));
        let tol = poly_rel_tol(3 * (dd + n + 1));
        let fast = readout(&h, &p, &v);
        let full = last_col(&lsa_block(&h, &p, &v));
        for i in 0..dd {
            assert!(
                (fast[i] - full[i]).abs() <= tol * scale[i],
                "row {i}: {} vs {} (scale {})",
                fast[i],
                full[i],
                scale[i]
            );
        }
    }
}

/// The `*_into` generators and builders draw and compute exactly what the allocating ones do,
/// also when their buffers come from an instance of another size.
#[test]
fn buffer_reusing_generators_draw_the_same_instances() {
    let mut mdp = random_tabular(&mut case_rng(0, "x", 0), 2, 3, 0.3);
    let mut f = Features::default();
    let mut pi = TabularPolicy::default();
    let mut traj = Trajectory::default();
    let mut b: TransitionBatch<f64> = TransitionBatch::from_trajectory(&f, &traj, 0.0);
    let (mut h, mut out) = (Mat::zeros(1, 1), Vec::new());
    for k in 0..30u64 {
        let (ns, na, d, n) = (1 + k as usize % 9, 1 + k as usize % 4, 1 + k as usize % 36, 1 + k as usize % 20);
        let (mut r1, mut r2) = (case_rng(7, "reuse", k), case_rng(7, "reuse", k));
        let m1 = random_tabular(&mut r1, ns, na, 0.5);
        random_tabular_into(&mut r2, ns, na, 0.5, &mut mdp);
        assert_eq!(m1, mdp);
        let f1 = Features::random(&mut r1, ns, na, d);
        f.random_into(&mut r2, ns, na, d);
        assert_eq!(f1, f);
        let w: Vec<f64> = (0..d).map(|_| r1.random_range(-1.0..1.0)).collect();
        let _: Vec<f64> = (0..d).map(|_| r2.random_range(-1.0..1.0)).collect();
        let pi1 = TabularPolicy::epsilon_greedy(&f1, &w, 0.1);
        pi.epsilon_greedy_into(&f, &w, 0.1);
        assert_eq!(pi1, pi);
        let t1 = rollout_from_initial(&mut r1, &m1, &pi1, n);
        rollout_from_initial_into(&mut r2, &mdp, &pi, n, &mut traj);
        assert_eq!(t1, traj);
        let b1: TransitionBatch<f64> = TransitionBatch::from_trajectory(&f1, &t1, 0.5);
        b.fill_from_trajectory(&f, &traj, 0.5);
        assert_eq!(b1, b);
        sarsa_prompt_into(&mut h, &b, &w);
        assert_eq!(sarsa_prompt(&b1, &w), h);
        batch_sarsa_into(&b, &w, &0.2, &mut out);
        assert_eq!(batch_sarsa(&b1, &w, &0.2), out);
        assert_eq!(r1.random::<u64>(), r2.random::<u64>(), "both streams consumed the same draws");
    }
}

/// The mutation `a_i` for `a_{i+1}` (the wrong next action), as `tests/all/registry.rs` uses it.
fn wrong_pair(traj: &Trajectory, i: usize) -> (usize, usize) {
    (traj.states[i + 1], traj.actions[i])
}

/// One drawn window of `ns` states, `na` actions, `d` features, `n` transitions.
fn window(k: u64, ns: usize, na: usize, d: usize, n: usize) -> (Features, Trajectory, Vec<f64>, f64) {
    let mut rng = case_rng(13, "speed-window", k);
    let mdp = random_tabular(&mut rng, ns, na, 0.5);
    let f = Features::random(&mut rng, ns, na, d);
    let w: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
    let pi = TabularPolicy::epsilon_greedy(&f, &w, 0.1);
    (f, rollout_from_initial(&mut rng, &mdp, &pi, n), w, mdp.gamma())
}

/// The prompt written straight from the trajectory (the bench's transformer side) is
/// `sarsa_prompt(context(…))` entry for entry, in `f64` bit for bit and over `BigRational`,
/// across the column block (`n` up to 70 > 32) and into a buffer of the same shape full of
/// garbage (it is cleared) or of another shape; a wrong pairing changes it
/// (negative control). The reference's `transitions_into` is `transitions` likewise.
#[test]
fn prompt_from_trajectory_is_the_prompt_of_the_context() {
    let mut h = Mat::from_fn(3, 4, |i, j| (i * 7 + j) as f64 + 0.5);
    let mut hq: Mat<BigRational> = Mat::zeros(0, 0);
    let mut b: TransitionBatch<f64> =
        TransitionBatch::from_trajectory(&Features::default(), &Trajectory::default(), 0.0);
    for k in 0..24u64 {
        let (ns, na, d, n) =
            (1 + k as usize % 5, 1 + k as usize % 3, 1 + k as usize % 7, [1, 2, 20, 31, 32, 33, 70][k as usize % 7]);
        let (f, t, w, gamma) = window(k, ns, na, d, n);
        let want = sarsa_prompt(&context::<f64>(&f, &t, gamma, prompt_next_pair), &w);
        if k % 2 == 1 {
            // Same shape, every entry garbage: all must be overwritten.
            h = Mat::from_fn(want.rows(), want.cols(), |i, j| f64::NAN + (i + j) as f64);
        }
        sarsa_prompt_from_trajectory_into(&mut h, &f, &t, gamma, &w, prompt_next_pair);
        assert!(h.as_slice().iter().zip(want.as_slice()).all(|(x, y)| x.to_bits() == y.to_bits()), "case {k}");
        assert_eq!((h.rows(), h.cols()), (want.rows(), want.cols()));
        if k < 8 {
            let wq = q(&w);
            sarsa_prompt_from_trajectory_into(&mut hq, &f, &t, gamma, &wq, prompt_next_pair);
            assert_eq!(hq, sarsa_prompt(&context::<BigRational>(&f, &t, gamma, prompt_next_pair), &wq), "exact {k}");
        }
        transitions_into(&f, &t, gamma, rl_next_pair, &mut b);
        assert_eq!(b, transitions::<f64>(&f, &t, gamma, rl_next_pair), "reference batch {k}");
        // Negative control: the wrong next action (wherever it differs) is seen.
        if (0..n).any(|i| t.actions[i] != t.actions[i + 1]) {
            let mut bad = Mat::zeros(0, 0);
            sarsa_prompt_from_trajectory_into(&mut bad, &f, &t, gamma, &w, wrong_pair);
            assert_ne!(bad, want, "case {k}: a wrong pairing must change the prompt");
        }
    }
}

/// The bench's fast path end to end — the prompt straight from the trajectory, the prepared
/// readout `V (H (Hᵀ (P h_n)))` of the constructed `(cP⋆, c⁻¹V⋆)` — equals the full block
/// `lsa_block` on `sarsa_prompt(context(…))` and one batch SARSA step on the reference's own
/// reading, **exactly** over `BigRational` and `F_p` on sampled windows (every `c` of the
/// checks); a perturbed `V⋆` entry (in a row the readout reads) breaks the equality (negative
/// control).
#[test]
fn fast_path_from_trajectory_equals_full_block_and_sarsa_exactly() {
    fn check<T: Scalar>(k: u64, alpha: &T, c: &T) {
        let (d, n) = (1 + k as usize % 6, 1 + k as usize % 9);
        let (f, t, w, gamma) = window(100 + k, 3, 2, d, n);
        let wt: Vec<T> = w.iter().map(|&x| T::from_f64(x)).collect();
        let s = Shape::sarsa(d);
        let (p, v) = (p_star(s, c), v_star(s, alpha, &T::zero(), c));
        let mut h = Mat::zeros(0, 0);
        sarsa_prompt_from_trajectory_into(&mut h, &f, &t, gamma, &wt, prompt_next_pair);
        let fast = readout(&h, &p, &v);
        let full = last_col(&lsa_block(&sarsa_prompt(&context::<T>(&f, &t, gamma, prompt_next_pair), &wt), &p, &v));
        assert!(fast == full, "{}: fast readout = full block, case {k}", T::NAME);
        let reference = batch_sarsa(&transitions::<T>(&f, &t, gamma, rl_next_pair), &wt, alpha);
        assert!(fast[2 * d + 2..] == reference[..], "{}: readout = SARSA, case {k}", T::NAME);
        let mut v2 = v.clone();
        v2[(2 * d + 2, 0)] = v2[(2 * d + 2, 0)].clone() + T::from_ratio(1, 3);
        assert!(readout(&h, &p, &v2) != full, "{}: a perturbed V⋆ must change the readout, case {k}", T::NAME);
    }
    for k in 0..12u64 {
        let (cn, cd) = icrl_proofs::theorem::common::C_VALUES[k as usize % 6];
        check::<BigRational>(k, &BigRational::from_ratio(1, 5), &BigRational::from_ratio(cn, cd));
        check::<F3>(k, &F3::from_ratio(1, 5), &F3::from_ratio(cn, cd));
    }
}

fn icrl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_icrl")).args(args).output().expect("runs")
}

#[test]
fn bench_json_prints_one_object_per_figure() {
    // `sarsa-paper-field` runs in the certificates' field (the run prime of seed 0), the
    // `-const` figure in the const-prime field `Fp<FIELD_PRIMES[0]>`.
    let run_prime = icrl_proofs::scalar::modular::run_prime(0).p();
    assert_ne!(run_prime, FIELD_PRIMES[0]);
    for (name, modulus) in [("sarsa-paper-field", run_prime), ("sarsa-paper-field-const", FIELD_PRIMES[0])] {
        let o = icrl(&["bench", "--which", name, "--seconds", "0.05", "--repetitions", "3", "--json"]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8_lossy(&o.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert!(!lines.is_empty());
        for l in lines {
            let v: serde_json::Value = serde_json::from_str(l).expect("one JSON object per line");
            assert_eq!(v["name"], name);
            assert_eq!(v["repetitions"], 3);
            assert_eq!(v["holds"], true);
            assert_eq!(v["modulus"], modulus);
            let (med, lo, hi) =
                (v["instances_per_second"].as_f64().unwrap(), v["min"].as_f64().unwrap(), v["max"].as_f64().unwrap());
            assert!(lo <= med && med <= hi && lo > 0.0);
            assert!(v["threads"].as_u64().unwrap() >= 1);
        }
    }
}

#[test]
fn bench_bad_input_is_one_error_line_and_exit_2() {
    for args in [
        &["bench", "--repetitions", "0"][..],
        &["bench", "--seconds", "-1"],
        &["bench", "--seconds", "NaN"],
        &["bench", "--which", "nope"],
        &["bench", "--which", "softmax-td", "--json"],
    ] {
        let o = icrl(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        // One `error:` line; a usage error (clap's) may add its usage and tip lines after it.
        assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error:"), "{args:?}: {err}");
        assert!(o.stdout.is_empty());
    }
}
