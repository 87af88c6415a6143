//! Rigorous `f64` bounds of the softmax family (issue 13, item 4): `ErrBound` with `exp` and
//! `sqrt` under the softmax forward pass and the weighted softmax TD reference.
//!
//! - the assumed `libm` model of `exp` (`errbound::EXP_REL`) and the `sqrt` bound hold against
//!   a rational enclosure (Taylor series with a rigorous remainder, squared back, outward
//!   rounded), including subnormal and huge results;
//! - both sides' bounds cover a 200-bit interval evaluation of weighted softmax TD (the exact
//!   iterate lies in a rational interval of relative width ~2^-190) at feature and reward scales
//!   from `1e-4` to `1e8`; the tightness (bound / actual error) is printed;
//! - the values are the plain `f64` computation bit for bit (forward passes, reference, state
//!   space);
//! - negative control: a `1e-9`-relative sabotage of one construction entry fails each of the
//!   three equalities;
//! - the false-alarm sweep through `icrl check`: random valid `softmax-td` instances with `|x|`
//!   log-uniform in `[1e-4, 1e8]`, depth up to 100: no `f64` failure (Theorem 1 and Lemma 1 are
//!   proved for the construction, `proofs/coq/SoftmaxTD.v`, so every failure would be a false
//!   alarm); instances whose scores exceed `MAX_SCORE` are refused (exit 2). 200 here; the
//!   10 000 of the issue:
//!
//!       cargo test --release --test all -- --ignored softmax_errbound::sweep_full --nocapture

use icrl_proofs::attention::softmax::{forward_multi_head, forward_shift};
use icrl_proofs::construction::softmax::Parts;
use icrl_proofs::linalg::Mat;
use icrl_proofs::rng::{case_rng, Rng};
use icrl_proofs::scalar::errbound::{ErrBound, Transcendental, EXP_REL, LN_REL};
use icrl_proofs::scalar::Scalar;
use icrl_proofs::theorem::softmax_td::{self as st, draw_case, Case};
use icrl_proofs::theorem::{Arithmetic, Limits};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use rand::Rng as _;

fn q(x: f64) -> BigRational {
    <BigRational as Scalar>::from_f64(x)
}

/// Significant bits kept by the interval evaluation.
const PREC: u64 = 200;

/// `q > 0` rounded down (`up = false`) or up to `PREC` significant bits.
fn round(v: &BigRational, up: bool) -> BigRational {
    if v.is_zero() {
        return v.clone();
    }
    let neg = v.is_negative();
    let a = v.abs();
    let (n, d) = (a.numer().clone(), a.denom().clone());
    let k = PREC as i64 - (n.bits() as i64 - d.bits() as i64);
    let (num, den) = if k >= 0 { (n << (k as usize), d) } else { (n, d << ((-k) as usize)) };
    let (fl, rem) = (&num / &den, &num % &den);
    // Outward for the sign: magnitude down for a lower end of a positive number, etc.
    let mag_up = up != neg;
    let m = if mag_up && !rem.is_zero() { fl + 1 } else { fl };
    let r = if k >= 0 {
        BigRational::new(m, BigInt::one() << (k as usize))
    } else {
        BigRational::from_integer(m << ((-k) as usize))
    };
    if neg {
        -r
    } else {
        r
    }
}

/// A rational interval `[lo, hi]`, outward rounded to `PREC` bits after every operation.
#[derive(Clone, Debug)]
struct Iv {
    lo: BigRational,
    hi: BigRational,
}

impl Iv {
    fn pt(x: f64) -> Iv {
        Iv { lo: q(x), hi: q(x) }
    }
    fn new(lo: BigRational, hi: BigRational) -> Iv {
        Iv { lo: round(&lo, false), hi: round(&hi, true) }
    }
    fn add(&self, o: &Iv) -> Iv {
        Iv::new(&self.lo + &o.lo, &self.hi + &o.hi)
    }
    fn sub(&self, o: &Iv) -> Iv {
        Iv::new(&self.lo - &o.hi, &self.hi - &o.lo)
    }
    fn mul(&self, o: &Iv) -> Iv {
        let ps = [&self.lo * &o.lo, &self.lo * &o.hi, &self.hi * &o.lo, &self.hi * &o.hi];
        let lo = ps.iter().min().expect("4").clone();
        let hi = ps.iter().max().expect("4").clone();
        Iv::new(lo, hi)
    }
    /// `self / o` for `o > 0`.
    fn div_pos(&self, o: &Iv) -> Iv {
        assert!(o.lo.is_positive());
        let ps = [&self.lo / &o.lo, &self.lo / &o.hi, &self.hi / &o.lo, &self.hi / &o.hi];
        Iv::new(ps.iter().min().expect("4").clone(), ps.iter().max().expect("4").clone())
    }
    fn exp(&self) -> Iv {
        Iv { lo: exp_enclosure(&self.lo).0, hi: exp_enclosure(&self.hi).1 }
    }
    fn mid(&self) -> BigRational {
        (&self.lo + &self.hi) / BigRational::from_integer(2.into())
    }
}

/// `[lo, hi] ∋ e^a` for a rational `a`: `r = a/2^s` with `|r| ≤ 2^-10`, the Taylor sum to 14
/// terms with remainder `≤ 2|r|^15/15!`, then squared `s` times with outward rounding.
fn exp_enclosure(a: &BigRational) -> (BigRational, BigRational) {
    let af = a.abs().to_f64();
    let s = if af <= 1.0 / 1024.0 { 0 } else { (af.log2().ceil() as i64 + 10).max(0) as usize };
    let r = a / BigRational::from_integer(BigInt::one() << s);
    let mut term = BigRational::one();
    let mut sum = BigRational::one();
    for i in 1..15u32 {
        term = term * &r / BigRational::from_integer(i.into());
        sum += &term;
    }
    let mut fact = BigInt::one();
    for i in 1..=15u32 {
        fact *= i;
    }
    let ra = r.abs();
    let mut rem = BigRational::from_integer(2.into());
    for _ in 0..15 {
        rem *= &ra;
    }
    rem /= BigRational::from_integer(fact);
    let (mut lo, mut hi) = (round(&(&sum - &rem), false), round(&(&sum + &rem), true));
    for _ in 0..s {
        lo = round(&(&lo * &lo), false);
        hi = round(&(&hi * &hi), true);
    }
    (lo, hi)
}

/// `x − e ≤ lo` and `hi ≤ x + e`: the bound contains the whole enclosure of the exact value.
fn covers(v: &ErrBound, iv: &Iv) -> bool {
    if !v.x.is_finite() || !v.e.is_finite() {
        return true; // nothing claimed
    }
    q(v.x) - q(v.e) <= iv.lo && iv.hi <= q(v.x) + q(v.e)
}

/// `e / |x − exact|` where the actual error is resolved (well above the interval's width).
fn tightness(v: &ErrBound, iv: &Iv) -> Option<f64> {
    let d = (q(v.x) - iv.mid()).abs();
    let w = &iv.hi - &iv.lo;
    (d > w * BigRational::from_integer(1000.into()) && !d.is_zero()).then(|| v.e / d.to_f64())
}

#[test]
fn exp_model_holds_against_a_rational_enclosure() {
    let mut rng = case_rng(13, "softmax-errbound-exp", 0);
    let mut worst_ulps: f64 = 0.0;
    for k in 0..1200 {
        let a: f64 = match k % 6 {
            0 => rng.random_range(-745.2..-700.0), // subnormal and zero results
            1 => rng.random_range(-700.0..0.0),
            2 => rng.random_range(-1.0..1.0),
            3 => rng.random_range(0.0..709.0),
            4 => rng.random_range(-1e-3..1e-3) * 2f64.powi(-rng.random_range(0..900)),
            // e^a for a < -746 is below 2^-1076 (not enclosed: its rational is too long).
            _ => -(rng.random_range(0.0..9.5f64)).exp2(),
        };
        let x = a.exp();
        if !x.is_finite() {
            continue;
        }
        let (lo, hi) = exp_enclosure(&q(a));
        // The assumed model: |x − e^a| ≤ 2^-51 x (normal x), ≤ 2η (subnormal or zero x).
        let allowed = if x >= f64::MIN_POSITIVE { q(EXP_REL) * q(x) } else { q(2.0 * 5e-324) };
        assert!(q(x) - &allowed <= lo && hi <= q(x) + &allowed, "exp({a:e}) = {x:e} outside the model");
        if x >= f64::MIN_POSITIVE {
            let err = ((q(x) - &lo).abs()).max((&hi - q(x)).abs()) / q(x);
            worst_ulps = worst_ulps.max(err.to_f64() / f64::EPSILON);
        }
        // With an input error: every â within e_a of a.
        let ea = a.abs() * 1e-12 + 1e-300;
        let v = ErrBound { x: a, e: ea }.exp_val();
        for ah in [a - ea * 0.999, a + ea * 0.999] {
            let (lo, hi) = exp_enclosure(&q(ah));
            let iv = Iv { lo, hi };
            assert!(covers(&v, &iv), "exp_val({a:e} ± {ea:e}) = {v:?} does not cover e^{ah:e}");
        }
    }
    eprintln!("libm exp: worst error seen {worst_ulps:.3} ulp(relative to x/2^52); model allows 2");
    assert_eq!(ErrBound::exact(0.0).exp_val().e, 0.0);
}

/// The assumed `libm` model of `ln` (`errbound::LN_REL`), checked through the rational
/// enclosure of `exp`: `y = fl(ln a)` is within `t = 2^-51 |y|` of `ln a` iff
/// `e^{y−t} ≤ a ≤ e^{y+t}`; and `ln_val` with an input bound covers `ln â` for every `â` in it.
#[test]
fn ln_model_holds_against_a_rational_enclosure() {
    let mut rng = case_rng(13, "softmax-errbound-ln", 0);
    let covered = |a: f64, y: f64, t: f64| {
        let (_, hi_lo) = exp_enclosure(&(q(y) - q(t)));
        let (lo_hi, _) = exp_enclosure(&(q(y) + q(t)));
        hi_lo <= q(a) && q(a) <= lo_hi
    };
    for k in 0..600 {
        let a: f64 = match k % 4 {
            0 => rng.random_range(1e-300..1.0),
            1 => rng.random_range(0.5..2.0),
            2 => 1.0 + rng.random_range(-1e-9..1e-9),
            _ => rng.random_range(1.0..1e300),
        };
        let y = a.ln();
        if a == 1.0 {
            assert_eq!(y, 0.0);
            continue;
        }
        assert!(covered(a, y, LN_REL * y.abs()), "ln({a:e}) = {y:e} outside the model");
        let ea = a * 1e-12;
        let v = ErrBound { x: a, e: ea }.ln_val();
        assert_eq!(v.x.to_bits(), y.to_bits());
        for ah in [a - ea * 0.999, a + ea * 0.999] {
            assert!(covered(ah, v.x, v.e), "ln_val({a:e} ± {ea:e}) = {v:?} does not cover ln {ah:e}");
        }
    }
    assert_eq!(ErrBound::exact(1.0).ln_val().e, 0.0);
    assert!(ErrBound { x: 1e-3, e: 1e-3 }.ln_val().e.is_infinite());
}

#[test]
fn sqrt_is_covered() {
    let mut rng = case_rng(13, "softmax-errbound-sqrt", 0);
    for k in 0..3000 {
        let a: f64 = rng.random_range(0.0..1.0) * 2f64.powi(rng.random_range(-1074..1000));
        let ea = if k % 2 == 0 { 0.0 } else { a * 1e-10 + if k % 4 == 1 { 1e-300 } else { 0.0 } };
        let v = ErrBound { x: a, e: ea }.sqrt_val();
        assert_eq!(v.x.to_bits(), a.sqrt().to_bits());
        for ah in [a, (a - ea).max(0.0), a + ea] {
            // √ah ∈ [x − e, x + e] iff (max(x − e, 0))² ≤ ah ≤ (x + e)².
            let lo = (q(v.x) - q(v.e)).max(BigRational::zero());
            let hi = q(v.x) + q(v.e);
            assert!(&lo * &lo <= q(ah) && q(ah) <= &hi * &hi, "sqrt_val({a:e} ± {ea:e}) = {v:?} misses √{ah:e}");
        }
    }
}

/// A small case at feature scale `s` and reward scale `r`: `β` scaled by `1/s²` so the scores
/// stay below `10^3`. With `coverage` the rewards keep the MRP's `r` (the state-space check
/// compares `r̂` with `M̂ r`).
fn scaled_case(rng: &mut Rng, max_n: usize, max_layers: usize, coverage: bool) -> Case {
    let mut case = draw_case(rng, 4, max_n, max_layers, coverage);
    let s = st::log_uniform(rng, -4.0, 8.0);
    let r = st::log_uniform(rng, -4.0, 8.0);
    case.features = case.features.scaled(s);
    case.beta /= s * s;
    if !coverage {
        for x in case.traj.rewards.iter_mut() {
            *x *= r;
        }
    }
    case
}

/// Weighted softmax TD on 200-bit intervals, written here from its definition (independent of
/// both sides): the iterates `v_l(s)`, every state.
fn interval_iterates(case: &Case) -> Vec<Vec<Iv>> {
    let (ns, n) = (case.mrp.n_states(), case.n());
    let (stt, rw) = (&case.traj.states, &case.traj.rewards);
    let beta = Iv::pt(case.beta);
    let g = |s: usize, t: usize| {
        let mut acc = Iv::pt(0.0);
        for (a, b) in case.features.x(s).iter().zip(case.features.x(t)) {
            acc = acc.add(&Iv::pt(*a).mul(&Iv::pt(*b)));
        }
        beta.mul(&acc)
    };
    let kernel: Vec<Vec<Iv>> = (0..ns)
        .map(|s| {
            let e: Vec<Iv> = (0..n).map(|k| g(s, stt[k]).exp()).collect();
            let z = e.iter().fold(Iv::pt(0.0), |a, x| a.add(x));
            e.iter().map(|x| x.div_pos(&z)).collect()
        })
        .collect();
    let gamma = Iv::pt(case.gamma());
    let mut out = vec![vec![Iv::pt(0.0); ns]];
    for &a in &case.alphas {
        let v = out.last().expect("v_0");
        let delta: Vec<Iv> = (0..n).map(|k| Iv::pt(rw[k]).add(&gamma.mul(&v[stt[k + 1]])).sub(&v[stt[k]])).collect();
        let next = (0..ns)
            .map(|s| {
                let acc = (0..n).fold(Iv::pt(0.0), |acc, k| acc.add(&kernel[s][k].mul(&delta[k])));
                v[s].add(&Iv::pt(a).mul(&acc))
            })
            .collect();
        out.push(next);
    }
    out
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[test]
fn both_sides_cover_an_interval_evaluation_at_every_scale() {
    let mut ratios = Vec::new();
    let mut checked = 0;
    for k in 0..120 {
        let mut rng = case_rng(13, "softmax-errbound-cover", k);
        let case = scaled_case(&mut rng, 6, 4, false);
        let (d, n) = (case.d(), case.n());
        let exact = interval_iterates(&case);
        let z0: Mat<ErrBound> = case.prompt_in();
        let zs = forward_multi_head(&z0, &Parts::new(d, case.gamma()).two_head_stack_in::<ErrBound>(&case.alphas));
        let ones = forward_shift(&z0, &Parts::new(d, case.gamma()).shift_stack_in::<ErrBound>(&case.alphas));
        let vs = case.reference_in::<ErrBound>().iterates(&case.alphas);
        for l in 0..zs.len() {
            for s in 0..case.mrp.n_states() {
                assert!(covers(&vs[l][s], &exact[l][s]), "reference v_{l}({s}) not covered, case {k}");
                ratios.extend(tightness(&vs[l][s], &exact[l][s]));
            }
            for j in 0..=n {
                let iv = &exact[l][case.traj.states[j]];
                for (name, z) in [("two-head", &zs[l]), ("one-head", &ones[l])] {
                    assert!(covers(&z[(d + 2, j)], iv), "{name} Z_{l}[d+2, {j}] not covered, case {k}");
                    ratios.extend(tightness(&z[(d + 2, j)], iv));
                }
                checked += 3;
            }
        }
    }
    let max = ratios.iter().cloned().fold(0.0, f64::max);
    let min = ratios.iter().cloned().fold(f64::INFINITY, f64::min);
    let med = median(&mut ratios);
    eprintln!(
        "softmax ErrBound: {checked} entries covered; tightness (bound / actual error) over {} resolved entries: min {min:.2}, median {med:.1}, max {max:.3e}",
        ratios.len()
    );
    assert!(min >= 1.0 && ratios.len() > 100);
}

#[test]
fn values_are_plain_f64_bit_for_bit() {
    let bits = |m: &Mat<f64>| m.as_slice().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let xbits = |m: &Mat<ErrBound>| m.as_slice().iter().map(|x| x.x.to_bits()).collect::<Vec<_>>();
    for k in 0..100 {
        let mut rng = case_rng(13, "softmax-errbound-bits", k);
        let case = scaled_case(&mut rng, 40, 12, true);
        let parts = Parts::new(case.d(), case.gamma());
        let (zf, ze) = (case.prompt(), case.prompt_in::<ErrBound>());
        assert_eq!(bits(&zf), xbits(&ze));
        let a = forward_multi_head(&zf, &parts.two_head_stack(&case.alphas));
        let b = forward_multi_head(&ze, &parts.two_head_stack_in::<ErrBound>(&case.alphas));
        let c = forward_shift(&zf, &parts.shift_stack(&case.alphas));
        let e = forward_shift(&ze, &parts.shift_stack_in::<ErrBound>(&case.alphas));
        for l in 0..a.len() {
            assert_eq!(bits(&a[l]), xbits(&b[l]), "two-head layer {l}, case {k}");
            assert_eq!(bits(&c[l]), xbits(&e[l]), "one-head layer {l}, case {k}");
        }
        let (rf, re) = (case.reference(), case.reference_in::<ErrBound>());
        let (vf, ve) = (rf.iterates(&case.alphas), re.iterates(&case.alphas));
        let sf = rf.state_space(case.mrp.rewards()).iterates(&case.alphas);
        let se = re.state_space(case.mrp.rewards()).iterates(&case.alphas);
        for l in 0..vf.len() {
            for s in 0..vf[l].len() {
                assert_eq!(vf[l][s].to_bits(), ve[l][s].x.to_bits(), "reference v_{l}({s}), case {k}");
                assert_eq!(sf[l][s].to_bits(), se[l][s].x.to_bits(), "state space v_{l}({s}), case {k}");
            }
        }
    }
}

#[test]
fn a_1e9_relative_sabotage_fails_each_equality() {
    let fails = |ms: &[icrl_proofs::theorem::Measurement]| ms.iter().any(|m| !m.holds);
    let (mut caught, mut total) = ([0usize; 3], 0usize);
    for k in 0..200 {
        let mut rng = case_rng(13, "softmax-errbound-sabotage", k);
        let case = scaled_case(&mut rng, 30, 20, true);
        total += 1;
        // Theorem 1: the reward coefficient of u becomes 1 + 1e-9 (the exact iterates change by
        // α K R 1e-9 at layer 1).
        let mut parts = Parts::new(case.d(), case.gamma());
        parts.u[case.d()] = 1.0 + 1e-9;
        let e = st::equivalence(&case, &parts, &mut case_rng(13, "mask", k));
        caught[0] += usize::from(fails(&e.measurements));
        assert!(!fails(
            &st::equivalence(&case, &Parts::new(case.d(), case.gamma()), &mut case_rng(13, "m", k)).measurements
        ));
        // Lemma 1 and the state space: their own sabotage is 1e-2; here the same 1e-9 on the
        // transformer side of the state-space comparison.
        let (ms, _, _) = st::state_space(&case, false);
        assert!(!fails(&ms), "state space fails unsabotaged, case {k}");
        let z0: Mat<ErrBound> = case.prompt_in();
        let zs = forward_multi_head(&z0, &parts.two_head_stack_in::<ErrBound>(&case.alphas));
        let vs = case.reference_in::<ErrBound>().state_space(case.mrp.rewards()).iterates(&case.alphas);
        let (mut tf, mut rf) = (Vec::new(), Vec::new());
        for (z, v) in zs.iter().zip(&vs) {
            for j in 0..=case.n() {
                tf.push(z[(case.d() + 2, j)]);
                rf.push(v[case.traj.states[j]]);
            }
        }
        caught[1] += usize::from(!icrl_proofs::tolerance::bounded_cmp(&tf, &rf).holds());
        // Lemma 1: V[d+2, d] of the first single-head layer times 1 + 1e-9.
        let two =
            forward_multi_head(&z0, &Parts::new(case.d(), case.gamma()).two_head_stack_in::<ErrBound>(&case.alphas));
        let mut stack = Parts::new(case.d(), case.gamma()).shift_stack_in::<ErrBound>(&case.alphas);
        stack[0].v[(case.d() + 2, case.d())] = stack[0].v[(case.d() + 2, case.d())] * ErrBound::exact(1.0 + 1e-9);
        let one = forward_shift(&z0, &stack);
        let flat = |zs: &[Mat<ErrBound>]| zs.iter().flat_map(|z| z.as_slice().iter().copied()).collect::<Vec<_>>();
        caught[2] += usize::from(!icrl_proofs::tolerance::bounded_cmp(&flat(&two), &flat(&one)).holds());
    }
    eprintln!(
        "1e-9 sabotage caught: equivalence {}/{total}, state space {}/{total}, single head {}/{total}",
        caught[0], caught[1], caught[2]
    );
    assert_eq!(caught, [total; 3]);
}

#[derive(Debug, Default)]
struct Sweep {
    instances: usize,
    holds: usize,
    false_alarms: usize,
    refused_overflow: usize,
    refused_score: usize,
    other_errors: usize,
}

fn sweep_instance(k: u64) -> serde_json::Value {
    let mut rng = case_rng(13, "softmax-errbound-sweep", k);
    let mut case = draw_case(&mut rng, 8, 64, 1, k % 3 == 0);
    let s = st::log_uniform(&mut rng, -4.0, 8.0);
    case.features = case.features.scaled(s);
    if k % 2 == 0 {
        case.beta /= s * s; // scores of moderate size at every feature scale
    }
    let layers = (st::log_uniform(&mut rng, 0.0, 2.0).round() as usize).clamp(1, 100);
    case.alphas = (0..layers).map(|_| rng.random_range(0.05..=1.0)).collect();
    case.to_json()
}

fn sweep(count: u64) -> Sweep {
    use rayon::prelude::*;
    let outcomes: Vec<Sweep> = (0..count)
        .into_par_iter()
        .map(|k| {
            let mut o = Sweep { instances: 1, ..Sweep::default() };
            match icrl_proofs::check::check_value(sweep_instance(k), &Limits::default()) {
                Ok(c) => {
                    let r = &c.report.results;
                    if r.iter().filter(|x| x.arithmetic == Arithmetic::F64).all(|x| x.holds) {
                        o.holds += 1;
                    } else {
                        o.false_alarms += 1;
                        eprintln!("FALSE ALARM at sweep instance {k}: {}", sweep_instance(k));
                    }
                }
                Err(e) if e.to_string().contains("overflows") => o.refused_overflow += 1,
                Err(e) if e.to_string().contains("scores would overflow") => o.refused_score += 1,
                Err(e) => {
                    o.other_errors += 1;
                    eprintln!("unexpected input error at sweep instance {k}: {e}");
                }
            }
            o
        })
        .collect();
    outcomes.into_iter().fold(Sweep::default(), |mut a, o| {
        a.instances += o.instances;
        a.holds += o.holds;
        a.false_alarms += o.false_alarms;
        a.refused_overflow += o.refused_overflow;
        a.refused_score += o.refused_score;
        a.other_errors += o.other_errors;
        a
    })
}

fn assert_clean(s: &Sweep) {
    assert_eq!((s.false_alarms, s.other_errors), (0, 0), "{s:?}");
    assert!(s.holds > s.instances / 2, "the sweep must mostly run: {s:?}");
}

#[test]
fn sweep_quick() {
    let s = sweep(200);
    eprintln!("softmax errbound sweep (200): {s:?}");
    assert_clean(&s);
}

/// The 10 000 instances (`ICRL_SOFTMAX_SWEEP=N` for another count).
#[test]
#[ignore = "10 000 instances through icrl check; run by hand (command in the module docs)"]
fn sweep_full() {
    let n = std::env::var("ICRL_SOFTMAX_SWEEP").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let t = std::time::Instant::now();
    let s = sweep(n);
    eprintln!("softmax errbound sweep ({n}): {s:?} in {:.1} s", t.elapsed().as_secs_f64());
    assert_clean(&s);
}
