//! The prime fields `F_p` (`scalar::field`): field axioms against an independent `u128` model,
//! and the linear-attention identities over `F_p` at the paper shapes — [LL] Thm 3.1 at
//! `d = 36, n = 20` (the [LL] preset) and [WB] TD(0), TD(λ), residual gradient up to
//! `d = 36, n = 64, L = 40` — with a sabotaged construction rejected beside each (negative
//! control). The transformer side is assembled from `attention` + `construction`, the reference
//! from `rl`, as the theorem checks do; nothing here reads `theorem::`.

use icrl_proofs::attention::linear::{
    lsa_block, lsa_block_last_column, masked_layer, query_mask, td_lambda_mask, LsaReadout, LsaScratch,
};
use icrl_proofs::attention::prompt::{parameter_readout, sarsa_prompt, td_prompt, td_readout};
use icrl_proofs::construction::linear_td::{p_td, q_residual, q_td};
use icrl_proofs::construction::sarsa::{p_star, v_star, Shape};
use icrl_proofs::linalg::{dot, Mat};
use icrl_proofs::mdp::batch::TransitionBatch;
use icrl_proofs::rl::sarsa::batch_sarsa;
use icrl_proofs::rl::td::{td_iterates, TdVariant};
use icrl_proofs::rng::{case_rng, Rng};
use icrl_proofs::scalar::field::{with_prime, FieldRun, Fp, PrimeField, FIELD_PRIMES};
use icrl_proofs::scalar::Scalar;
use num_traits::{One, Zero};
use proptest::prelude::*;

type F0 = Fp<{ FIELD_PRIMES[0] }>;
type F7 = Fp<{ FIELD_PRIMES[7] }>;

/// The independent model: canonical residues with `u128` arithmetic and `%`.
fn model_mul(a: u64, b: u64, p: u64) -> u64 {
    (a as u128 * b as u128 % p as u128) as u64
}

macro_rules! axioms {
    ($name:ident, $F:ty) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]
            #[test]
            fn $name(a in any::<u64>(), b in any::<u64>(), c in any::<u64>()) {
                let p = <$F as PrimeField>::P;
                let (x, y, z) = (<$F>::from_u64(a), <$F>::from_u64(b), <$F>::from_u64(c));
                let (ra, rb) = (a % p, b % p);
                // Agreement with the model.
                prop_assert_eq!(x.value(), ra);
                prop_assert_eq!((x + y).value(), ((ra as u128 + rb as u128) % p as u128) as u64);
                prop_assert_eq!((x - y).value(), ((ra as u128 + p as u128 - rb as u128) % p as u128) as u64);
                prop_assert_eq!((x * y).value(), model_mul(ra, rb, p));
                prop_assert_eq!((-x).value(), (p - ra) % p);
                // Axioms.
                prop_assert_eq!(x + y, y + x);
                prop_assert_eq!(x * y, y * x);
                prop_assert_eq!((x + y) + z, x + (y + z));
                prop_assert_eq!((x * y) * z, x * (y * z));
                prop_assert_eq!(x * (y + z), x * y + x * z);
                prop_assert_eq!(x + <$F>::zero(), x);
                prop_assert_eq!(x * <$F>::one(), x);
                prop_assert_eq!(x + (-x), <$F>::zero());
                prop_assert_eq!(x - y, x + (-y));
                let mut acc = z;
                acc.add_mul(&x, &y);
                prop_assert_eq!(acc, z + x * y);
                if !x.is_zero() {
                    let xi = x.inv().unwrap();
                    prop_assert_eq!(x * xi, <$F>::one());
                    prop_assert_eq!(y / x * x, y);
                } else {
                    prop_assert_eq!(x.inv(), None);
                }
            }
        }
    };
}

axioms!(field_axioms_p0, F0);
axioms!(field_axioms_p7, F7);

/// A free prompt: every entry uniform in `F_p` (the Schwartz–Zippel draw).
fn free_batch<F: PrimeField>(rng: &mut Rng, d: usize, n: usize) -> TransitionBatch<F> {
    let row = |rng: &mut Rng| (0..d).map(|_| F::random(rng)).collect::<Vec<F>>();
    TransitionBatch {
        phi: (0..n).map(|_| row(rng)).collect(),
        phi_next: (0..n).map(|_| row(rng)).collect(),
        rewards: (0..n).map(|_| F::random(rng)).collect(),
        gamma: F::random(rng),
    }
}

/// [LL] Thm 3.1 at the paper shape over `F_p`: the readout of the constructed block (full block,
/// `lsa_block_last_column` and the prepared sparse path) equals batch SARSA for every draw;
/// one perturbed entry of `P12` or `V̄21` (the negative control) is rejected for every draw.
struct SarsaPaper;

impl FieldRun for SarsaPaper {
    type Output = ();
    fn run<F: PrimeField>(self) {
        let (d, n) = (36, 20);
        let s = Shape::sarsa(d);
        let c_values = [(1, 1), (-1, 1), (1, 1 << 20), (-(1 << 20), 1), (3, 2), (-3, 7)];
        for k in 0..6u64 {
            let mut rng = case_rng(1, "field-sarsa-paper", k * 8 + F::P % 8);
            let b = free_batch::<F>(&mut rng, d, n);
            let w: Vec<F> = (0..d).map(|_| F::random(&mut rng)).collect();
            let alpha = F::random(&mut rng);
            let (cn, cd) = c_values[k as usize];
            let c = F::from_ratio(cn, cd);
            let (p, v) = (p_star(s, &c), v_star(s, &alpha, &F::zero(), &c));
            let reference = batch_sarsa(&b, &w, &alpha);
            let h = sarsa_prompt(&b, &w);
            let full = lsa_block(&h, &p, &v);
            let tok = s.token();
            assert_eq!(parameter_readout(&full.col(full.cols() - 1), tok), reference, "full block, p = {}", F::P);
            assert_eq!(parameter_readout(&lsa_block_last_column(&h, &p, &v), tok), reference);
            let mut col = Vec::new();
            LsaReadout::new(&p, &v).last_column_into(&h, &mut LsaScratch::default(), &mut col);
            assert_eq!(col, full.col(full.cols() - 1), "sparse readout path = last column of the full block");
            // Negative controls: one entry of P12 (the reward weight) and one of V̄21.
            let mut p_bad = p.clone();
            p_bad[(2 * d, tok)] = p_bad[(2 * d, tok)] + c * F::from_ratio(1, 256);
            let mut v_bad = v.clone();
            v_bad[(tok + 1 + d / 2, d / 2)] = v_bad[(tok + 1 + d / 2, d / 2)] + F::from_ratio(1, 256);
            for (pb, vb) in [(&p_bad, &v), (&p, &v_bad)] {
                let tf = parameter_readout(&lsa_block_last_column(&h, pb, vb), tok);
                assert_ne!(tf, reference, "a sabotaged construction must be rejected over F_{}", F::P);
            }
        }
    }
}

#[test]
fn sarsa_equivalence_at_the_paper_shape_over_every_prime() {
    for i in 0..FIELD_PRIMES.len() {
        with_prime(i, SarsaPaper);
    }
}

/// The sampled paper-preset instance (f64 MDP, features, rollout) read into `F_p` exactly still
/// satisfies Thm 3.1 with the paper's `α = 0.2` (a dyadic, mapped exactly).
#[test]
fn sarsa_paper_instance_over_the_field() {
    use icrl_proofs::mdp::features::Features;
    use icrl_proofs::mdp::generators::{random_tabular, PAPER};
    use icrl_proofs::mdp::policy::TabularPolicy;
    use icrl_proofs::mdp::rollout::rollout_from_initial;
    use rand::Rng as _;
    let pr = PAPER;
    for k in 0..4 {
        let mut rng = case_rng(2, "field-sarsa-instance", k);
        let mdp = random_tabular(&mut rng, pr.n_states, pr.n_actions, pr.gamma);
        let f = Features::random(&mut rng, pr.n_states, pr.n_actions, pr.d);
        let w: Vec<f64> = (0..pr.d).map(|_| rng.random_range(-1.0..1.0)).collect();
        let traj = rollout_from_initial(&mut rng, &mdp, &TabularPolicy::epsilon_greedy(&f, &w, pr.epsilon), pr.n);
        let b: TransitionBatch<F0> = TransitionBatch::from_trajectory(&f, &traj, mdp.gamma());
        let wf: Vec<F0> = w.iter().map(|&x| F0::from_f64(x)).collect();
        let alpha = F0::from_f64(pr.alpha);
        let s = Shape::sarsa(pr.d);
        let (p, v) = (p_star(s, &F0::one()), v_star(s, &alpha, &F0::zero(), &F0::one()));
        let tf = parameter_readout(&lsa_block_last_column(&sarsa_prompt(&b, &wf), &p, &v), s.token());
        assert_eq!(tf, batch_sarsa(&b, &wf, &alpha));
    }
}

/// Which [WB] update.
#[derive(Clone, Copy, Debug)]
enum Td {
    Zero,
    Lambda,
    Residual,
}

/// [WB] at `(d, n, L)` over `F_p`: every layer's readout `-Z_l[2d, n]` equals `w_lᵀφ_q` of the
/// reference iterates, and the sabotaged `P` (one entry) is rejected.
struct LinearTd {
    d: usize,
    n: usize,
    layers: usize,
    variant: Td,
}

impl FieldRun for LinearTd {
    type Output = ();
    fn run<F: PrimeField>(self) {
        let (d, n) = (self.d, self.n);
        let mut rng = case_rng(3, "field-linear-td", (d * 1000 + n * 10 + self.layers) as u64);
        let b = free_batch::<F>(&mut rng, d, n);
        let phi_q: Vec<F> = (0..d).map(|_| F::random(&mut rng)).collect();
        let cs: Vec<Mat<F>> = (0..self.layers).map(|_| Mat::from_fn(d, d, |_, _| F::random(&mut rng))).collect();
        let lambda = F::random(&mut rng);
        let (mask, reference_variant) = match self.variant {
            Td::Lambda => (td_lambda_mask(n, &lambda), TdVariant::TdLambda(lambda)),
            Td::Zero => (query_mask(n), TdVariant::Td0),
            Td::Residual => (query_mask(n), TdVariant::ResidualGradient),
        };
        let ws = td_iterates(&b, &cs, &reference_variant);
        let run = |p: &Mat<F>| {
            let mut z = td_prompt(&b, &phi_q);
            let mut out = Vec::new();
            for c in &cs {
                let q = if matches!(self.variant, Td::Residual) { q_residual(c) } else { q_td(c) };
                z = masked_layer(&z, p, &q, &mask);
                out.push(td_readout(&z));
            }
            out
        };
        let expected: Vec<F> = ws.iter().map(|w| dot(w, &phi_q)).collect();
        let p = p_td::<F>(d);
        assert_eq!(run(&p), expected, "{:?} d={d} n={n} L={} over F_{}", self.variant, self.layers, F::P);
        let mut p_bad = p.clone();
        p_bad[(2 * d, 0)] = F::from_ratio(1, 256);
        let bad = run(&p_bad);
        assert_ne!(bad.last(), expected.last(), "sabotaged P^TD must be rejected over F_{}", F::P);
    }
}

#[test]
fn linear_td_small_shapes_over_the_field() {
    let mut i = 0;
    for variant in [Td::Zero, Td::Lambda, Td::Residual] {
        for (d, n, layers) in [(1, 1, 1), (2, 3, 4), (3, 10, 8), (4, 30, 12)] {
            with_prime(i, LinearTd { d, n, layers, variant });
            i += 1;
        }
    }
}

/// The paper preset of `linear-td`: `d = 36, n = 64, L = 40` (about 0.3 s per variant in release).
#[test]
fn linear_td_paper_shape_over_the_field() {
    for (i, variant) in [Td::Zero, Td::Lambda, Td::Residual].into_iter().enumerate() {
        with_prime(i + 3, LinearTd { d: 36, n: 64, layers: 40, variant });
    }
}

/// The degrees `proofs/README.md` states, computed from the weights actually used by running
/// the same generic code over `scalar::degree::Degree` (every prompt entry, `α`, `C`, `λ` free):
/// one SARSA block at the paper shape has degree `≤ 7`; [WB] at `d = 36, n = 64, L = 40` has
/// `≤ 2 + L (5 + deg M)`; and a `Q` that reads the changing bottom row makes the degree grow
/// geometrically (why a structural bound must not be assumed for arbitrary weights).
#[test]
fn certificate_degrees_from_the_weights_used() {
    use icrl_proofs::scalar::degree::Degree;
    let x = Degree::var();
    let free = |d: usize, n: usize| TransitionBatch {
        phi: vec![vec![x; d]; n],
        phi_next: vec![vec![x; d]; n],
        rewards: vec![x; n],
        gamma: x,
    };
    let diff_degree = |a: &[Degree], b: &[Degree]| a.iter().zip(b).map(|(p, q)| *p - *q).max().unwrap();
    // SARSA, paper shape, c = -3/7 (a constant), α free.
    let (d, n) = (36, 20);
    let s = Shape::sarsa(d);
    let c = Degree::from_ratio(-3, 7);
    let (p, v) = (p_star(s, &c), v_star(s, &x, &Degree::zero(), &c));
    let (b, w) = (free(d, n), vec![x; d]);
    let tf = parameter_readout(&lsa_block_last_column(&sarsa_prompt(&b, &w), &p, &v), s.token());
    let deg = diff_degree(&tf, &batch_sarsa(&b, &w, &x)).bound().unwrap();
    assert!(deg <= 7, "SARSA block degree {deg}");
    // [WB] at the paper preset.
    let (d, n, layers) = (36, 64, 40);
    let b = free(d, n);
    let phi_q = vec![x; d];
    let cs: Vec<Mat<Degree>> = vec![Mat::from_fn(d, d, |_, _| x); layers];
    for (mask, variant, deg_m) in [
        (query_mask(n), TdVariant::Td0, 0),
        (td_lambda_mask(n, &x), TdVariant::TdLambda(x), n as u32 - 1),
        (query_mask(n), TdVariant::ResidualGradient, 0),
    ] {
        let residual = matches!(variant, TdVariant::ResidualGradient);
        let mut z = td_prompt(&b, &phi_q);
        let mut tf = Vec::new();
        for c in &cs {
            z = masked_layer(&z, &p_td(d), &if residual { q_residual(c) } else { q_td(c) }, &mask);
            tf.push(td_readout(&z));
        }
        let rf: Vec<Degree> = td_iterates(&b, &cs, &variant).iter().map(|w| dot(w, &phi_q)).collect();
        let deg = diff_degree(&tf, &rf).bound().unwrap();
        assert!(deg <= 2 + layers as u32 * (5 + deg_m), "{variant:?}: degree {deg}");
    }
    // A Q reading the bottom row: the degree at least doubles per layer.
    let (d, n) = (2, 3);
    let b = free(d, n);
    let mut z = td_prompt(&b, &vec![x; d]);
    let mut q = q_td(&Mat::from_fn(d, d, |_, _| x));
    q[(2 * d, 2 * d)] = Degree::one();
    for _ in 0..10 {
        z = masked_layer(&z, &p_td(d), &q, &query_mask(n));
    }
    assert!(td_readout(&z).bound().unwrap() >= 1 << 10);
}

/// The field tier of `verify`: every linear-attention identity with a `FieldTier` has a field row
/// that holds on its first cases and fails on every one of them under `--sabotage` (the negative
/// control), over the run's random prime; the shape of case `k` is the registry's
/// `shapes[k mod |shapes|]`.
#[test]
fn every_field_row_holds_and_fails_under_sabotage() {
    use icrl_proofs::scalar::modular::run_prime;
    use icrl_proofs::theorem::{registry, ArithFilter, Arithmetic, CheckCtx};
    let tiers: Vec<_> = registry().into_iter().filter(|t| t.field.is_some()).collect();
    let ids: Vec<&str> = tiers.iter().map(|t| t.id).collect();
    assert_eq!(
        ids,
        [
            "linear-td",
            "linear-td-lambda",
            "linear-td-residual",
            "linear-td-average-reward",
            "sarsa-equivalence",
            "sarsa-readout-identity",
            "sarsa-output-independence",
            "sarsa-stacking",
            "actor-critic-equivalence"
        ]
    );
    let field = run_prime(3);
    for t in &tiers {
        let tier = t.field.unwrap();
        let shapes = (tier.shapes)();
        // The first cases (small shapes), one with n = 2 and the last listed shape's first draw.
        let n2 = shapes.iter().position(|s| s.n == 2).unwrap() as u64;
        for k in [0u64, 1, 2, n2, shapes.len() as u64 - 1] {
            for sabotage in [false, true] {
                let ctx = CheckCtx { arith: ArithFilter::FieldOnly, sabotage, case: k, field, ..CheckCtx::default() };
                let r = (t.check)(&mut case_rng(3, t.id, k), &ctx);
                assert_eq!(r.measurements.len(), 1, "{} case {k}: only the field draw", t.id);
                let m = &r.measurements[0];
                assert_eq!(m.arithmetic, Arithmetic::Field);
                assert_eq!(m.field_shape.as_deref(), Some(shapes[k as usize].label().as_str()));
                // The average-reward sabotage moves the W entry that reads head 1 (`r̄ − r`), which
                // is 0 for n = 1 (r̄_0 = r_0): invisible there by the math, visible from n = 2.
                let invisible = t.id == "linear-td-average-reward" && shapes[k as usize].n == 1;
                assert_eq!(m.holds, !sabotage || invisible, "{} case {k} sabotage {sabotage}: {m:?}", t.id);
            }
        }
        // Beyond draws × shapes no case draws.
        let ctx =
            CheckCtx { arith: ArithFilter::FieldOnly, case: tier.draws * shapes.len() as u64, ..CheckCtx::default() };
        assert!((t.check)(&mut case_rng(3, t.id, 0), &ctx).measurements.is_empty());
    }
}

/// The field draws come after every other draw of a case: the exact and `f64` measurements of a
/// case are the same with and without the field tier.
#[test]
fn the_field_tier_leaves_the_other_rows_unchanged() {
    use icrl_proofs::theorem::{find, ArithFilter, Arithmetic, CheckCtx};
    for id in ["sarsa-equivalence", "linear-td-lambda", "actor-critic-equivalence"] {
        let t = find(id).unwrap();
        for k in 0..3 {
            let all = (t.check)(&mut case_rng(4, id, k), &CheckCtx { case: k, ..CheckCtx::default() });
            let two: Vec<_> = [ArithFilter::ExactOnly, ArithFilter::F64Only]
                .into_iter()
                .flat_map(|a| {
                    (t.check)(&mut case_rng(4, id, k), &CheckCtx { arith: a, case: k, ..CheckCtx::default() })
                        .measurements
                })
                .collect();
            let key =
                |m: &icrl_proofs::theorem::Measurement| (m.arithmetic, m.quantity.clone(), m.error.to_bits(), m.holds);
            let mut a: Vec<_> =
                all.measurements.iter().filter(|m| m.arithmetic != Arithmetic::Field).map(key).collect();
            let mut b: Vec<_> = two.iter().map(key).collect();
            a.sort();
            b.sort();
            assert_eq!(a, b, "{id} case {k}");
        }
    }
}

/// The listed shapes cover the paper presets, corners included: [LL] `d = 36, n = 20` (and
/// `n = 64`) for SARSA and actor-critic, [WB] `d = 36, n = 64, L = 40` and `d = n = L = 1`; every
/// tier's shapes fit in its default cases with at least two draws each.
#[test]
fn the_listed_shapes_cover_the_presets() {
    use icrl_proofs::theorem::find;
    let has = |id: &str, f: &dyn Fn(&icrl_proofs::theorem::FieldShape) -> bool| {
        let t = find(id).unwrap();
        let tier = t.field.unwrap();
        assert!(tier.draws >= 2 && tier.draws * (tier.shapes)().len() as u64 <= t.default_cases, "{id}");
        (tier.shapes)().iter().any(f)
    };
    for id in ["linear-td", "linear-td-lambda", "linear-td-residual", "linear-td-average-reward"] {
        assert!(has(id, &|s| (s.d, s.n, s.layers) == (36, 64, 40)), "{id}");
        assert!(has(id, &|s| (s.d, s.n, s.layers) == (1, 1, 1)), "{id}");
    }
    for id in ["sarsa-equivalence", "sarsa-readout-identity", "sarsa-output-independence", "actor-critic-equivalence"] {
        assert!(has(id, &|s| (s.d, s.n) == (36, 20)) && has(id, &|s| (s.d, s.n) == (36, 64)), "{id}");
    }
    assert!(has("sarsa-stacking", &|s| (s.d, s.n, s.layers) == (36, 20, 8)));
    // Every d ≤ 36 for SARSA, each of the six c values.
    let eq = (find("sarsa-equivalence").unwrap().field.unwrap().shapes)();
    assert!((1..=36).all(|d| eq.iter().any(|s| s.d == d)));
    let cs: std::collections::BTreeSet<_> = eq.iter().map(|s| s.c).collect();
    assert_eq!(cs.len(), 6);
}

/// The per-shape bound computed on `scalar::height::Height` by the tier's own code: SARSA's
/// degree at the paper shape is 5 (≤ the stated 7) and its height below `2^61` (term 1 is 0),
/// [WB]'s degree at the preset within `2 + L (5 + deg M)`; a sabotaged construction has a bound
/// too (it is computed for the weights used), and the bound is a function of the shape only.
#[test]
fn shape_bounds_from_the_weights_used() {
    use icrl_proofs::theorem::{find, FieldShape};
    let eq = find("sarsa-equivalence").unwrap().field.unwrap();
    for c in [(1, 1), (-1, 1), (1, 1 << 20), (-(1 << 20), 1), (3, 2), (-3, 7)] {
        let b = (eq.bound)(&FieldShape { d: 36, dp: 0, n: 20, layers: 0, c }, false);
        assert!(b.deg <= 7 && b.log2_h < 61.0, "c = {c:?}: {b:?}");
    }
    let td = find("linear-td").unwrap().field.unwrap();
    let s = FieldShape { d: 36, dp: 0, n: 64, layers: 40, c: (0, 0) };
    let b = (td.bound)(&s, false);
    assert!(b.deg <= 2 + 40 * 5 && b.log2_h > 61.0 && b.log2_h.is_finite(), "{b:?}");
    assert_eq!((td.bound)(&s, false), b);
    let lam = find("linear-td-lambda").unwrap().field.unwrap();
    assert!((lam.bound)(&s, false).deg <= 2 + 40 * (5 + 63));
}

/// `verify --arith`: each value runs its arithmetic's rows only (`field`: only field rows, each
/// with its certificate), `--exact`/`--f64` stay aliases, and a bad value or a conflicting alias
/// exits 2 with one `error:` line naming `--arith`, printing nothing on stdout.
#[test]
fn verify_arith_flag() {
    let run = |args: &[&str]| std::process::Command::new(env!("CARGO_BIN_EXE_icrl")).args(args).output().unwrap();
    let base = ["verify", "--theorem", "sarsa-equivalence", "--theorem", "linear-td", "--cases", "4", "--json"];
    let arith_of = |o: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["arithmetic"].as_str().map(str::to_string))
            .collect()
    };
    for (flag, want) in [
        (vec!["--arith", "field"], vec!["field", "field"]),
        (vec!["--arith", "exact"], vec!["exact", "exact"]),
        (vec!["--exact"], vec!["exact", "exact"]),
        (vec!["--arith", "f64"], vec!["f64", "f64"]),
        (vec!["--arith", "all"], vec!["exact", "f64", "field", "exact", "f64", "field"]),
        (vec![], vec!["exact", "f64", "field", "exact", "f64", "field"]),
    ] {
        let o = run(&[&base[..], &flag[..]].concat());
        assert_eq!(o.status.code(), Some(0), "{flag:?}");
        assert_eq!(arith_of(&o), want, "{flag:?}");
    }
    let table = run(&["verify", "--theorem", "linear-td", "--cases", "4", "--arith", "field"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("field") && text.contains("P(false) <= 10^") && text.contains("4 shapes d<=1 n<=1 L<=5"),
        "{text}"
    );
    for bad in [vec!["--arith", "fields"], vec!["--arith", "field", "--exact"], vec!["--arith", ""]] {
        let o = run(&[&["verify", "--cases", "1"][..], &bad[..]].concat());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {err}");
        assert!(o.stdout.is_empty(), "{bad:?}");
        assert_eq!(err.lines().count(), 1, "{bad:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains("--arith"), "{bad:?}: {err}");
    }
}
