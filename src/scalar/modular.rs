//! `F_p` for a prime `p` chosen at run time: [`Fr`], the field of the Schwartz–Zippel
//! certificates of `verify` (`proofs/README.md`, "Certificates over a prime field").
//!
//! [`super::field::Fp`] fixes `p` at compile time, so a run can only pick one of eight primes;
//! then the probability that `p` divides every coefficient of a false identity's cleared
//! difference (term 1 of the bound) is only bounded by `⌊log₂ H / 61⌋ / 8`, which is above 1 for
//! the deep [WB] shapes (`log₂ H ≈ 10³`). Here `p` is drawn **uniformly from all primes in
//! `(2^61, 2^62)`** ([`draw_prime`]: rejection sampling of uniform odd integers, tested by the
//! deterministic 64-bit Miller–Rabin [`is_prime`]), one prime per run from the run's seed
//! ([`run_prime`]), so term 1 is at most `⌊log₂ H / 61⌋ / N` with
//! `N ≥ 2^55.1` ([`log2_prime_count_lower`]) primes in that interval.
//!
//! **The modulus is thread-local.** [`with_modulus`] sets it for the duration of a closure (and
//! restores the previous one, also on panic); every [`Fr`] operation reads it. A `verify` case
//! runs on one rayon thread and the generic forward pass and reference code spawn no parallel
//! work (none of `attention`, `construction`, `rl`, `linalg` uses rayon), so every element of a
//! case lives under one modulus. Elements must not outlive or cross the closure that made them.
//!
//! Arithmetic is Montgomery multiplication with `R = 2^64` on canonical residues in `[0, p)`,
//! as in `Fp`; `p < 2^62` keeps a sum of two residues below `2^63`. Order, absolute value and
//! `to_f64` follow `Fp`'s conventions (centered representative; no claim rests on them).

use super::field::{add_mod, mont_redc, neg_inv_mod_2_64, reduce_once, sub_mod};
use super::Scalar;
use num_traits::{One, Zero};
use rand::Rng;
use std::cell::Cell;
use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// Lower end of the prime set: every prime `p` of the certificates has `2^61 < p < 2^62`.
pub const PRIME_LOW: u64 = 1 << 61;
/// Upper end of the prime set.
pub const PRIME_HIGH: u64 = 1 << 62;

/// A modulus with its Montgomery constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Modulus {
    p: u64,
    ninv: u64,
    r1: u64,
    r2: u64,
}

impl Modulus {
    /// The constants of an odd `p < 2^62` (not checked for primality: see [`Modulus::new`]).
    pub const fn new_unchecked(p: u64) -> Modulus {
        let r1 = ((1u128 << 64) % p as u128) as u64;
        let r2 = ((r1 as u128 * r1 as u128) % p as u128) as u64;
        Modulus { p, ninv: neg_inv_mod_2_64(p), r1, r2 }
    }
    /// The modulus `p`, if `p` is a prime in `(2^61, 2^62)` (the set the certificates draw from).
    pub fn new(p: u64) -> Option<Modulus> {
        (p > PRIME_LOW && p < PRIME_HIGH && is_prime(p)).then(|| Modulus::new_unchecked(p))
    }
    /// `p`.
    pub fn p(&self) -> u64 {
        self.p
    }
    /// The default of a check run outside `verify` (unit tests, `CheckCtx::default()`):
    /// `2^62 − 57`, the largest prime below `2^62`.
    pub const DEFAULT: Modulus = Modulus::new_unchecked((1 << 62) - 57);
}

thread_local! {
    static MODULUS: Cell<Modulus> = const { Cell::new(Modulus::DEFAULT) };
}

#[inline(always)]
fn modulus() -> Modulus {
    MODULUS.with(|m| m.get())
}

/// Run `f` with the modulus of [`Fr`] set to `m` on this thread (restored afterwards, also if
/// `f` panics).
pub fn with_modulus<R>(m: Modulus, f: impl FnOnce() -> R) -> R {
    struct Restore(Modulus);
    impl Drop for Restore {
        fn drop(&mut self) {
            MODULUS.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(MODULUS.with(|c| c.replace(m)));
    f()
}

/// An element of `F_p`, `p` the modulus [`with_modulus`] set on this thread, in Montgomery form
/// `x · 2^64 mod p`, canonical in `[0, p)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Fr(u64);

impl Fr {
    #[inline(always)]
    fn mul_mont(a: u64, b: u64) -> u64 {
        let m = modulus();
        mont_redc(a as u128 * b as u128, m.p, m.ninv)
    }
    /// The current modulus `p`.
    pub fn p() -> u64 {
        modulus().p
    }
    /// The residue of a signed integer.
    pub fn from_i128(x: i128) -> Fr {
        let m = modulus();
        let r = x.rem_euclid(m.p as i128) as u64;
        Fr(mont_redc(r as u128 * m.r2 as u128, m.p, m.ninv))
    }
    /// The canonical residue in `[0, p)`.
    #[inline]
    pub fn value(self) -> u64 {
        let m = modulus();
        mont_redc(self.0 as u128, m.p, m.ninv)
    }
    /// The representative in `(-p/2, p/2)`.
    pub fn centered(self) -> i64 {
        let (v, p) = (self.value(), Fr::p());
        if v > p / 2 {
            -((p - v) as i64)
        } else {
            v as i64
        }
    }
    /// A uniform element of `F_p` (the Schwartz–Zippel point): rejection sampling of the top
    /// `64 − lz(p)` bits of a word (accepted with probability `p / 2^62 > 1/2`), taken as the
    /// Montgomery form directly (`x ↦ x · 2^64 mod p` is a bijection of `[0, p)`, so the element
    /// is uniform either way). `random_range(0..p)` did the same job with a 64-bit division per
    /// draw, which made the field certificates half as fast as the const-prime `Fp`.
    #[inline]
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Fr {
        let p = modulus().p;
        let shift = p.leading_zeros();
        loop {
            let x = rng.random::<u64>() >> shift;
            if x < p {
                return Fr(x);
            }
        }
    }
    /// `self^e`.
    pub fn pow(self, mut e: u64) -> Fr {
        let (mut b, mut r) = (self, Fr::one());
        while e > 0 {
            if e & 1 == 1 {
                r = r * b;
            }
            b = b * b;
            e >>= 1;
        }
        r
    }
    /// `self⁻¹` (Fermat), `None` for zero.
    pub fn inv(self) -> Option<Fr> {
        (!self.is_zero()).then(|| self.pow(Fr::p() - 2))
    }
    /// `num / den`, `None` when `p` divides `den`.
    pub fn try_from_ratio(num: i64, den: i64) -> Option<Fr> {
        let n = Fr::from_i128(num as i128);
        if den == 1 {
            return Some(n);
        }
        Fr::from_i128(den as i128).inv().map(|d| n * d)
    }
}

impl fmt::Debug for Fr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (mod {})", self.value(), Fr::p())
    }
}

/// The order of canonical residues: arbitrary, present only because [`Scalar`] requires it.
impl PartialOrd for Fr {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.value().cmp(&other.value()))
    }
}

impl Zero for Fr {
    #[inline]
    fn zero() -> Self {
        Fr(0)
    }
    #[inline]
    fn is_zero(&self) -> bool {
        self.0 == 0
    }
}

impl One for Fr {
    #[inline]
    fn one() -> Self {
        Fr(modulus().r1)
    }
}

impl Add for Fr {
    type Output = Self;
    #[inline]
    fn add(self, rhs: Self) -> Self {
        Fr(add_mod(self.0, rhs.0, modulus().p))
    }
}

impl<'a> Add<&'a Fr> for Fr {
    type Output = Self;
    #[inline]
    fn add(self, rhs: &'a Self) -> Self {
        self + *rhs
    }
}

impl Sub for Fr {
    type Output = Self;
    #[inline]
    fn sub(self, rhs: Self) -> Self {
        Fr(sub_mod(self.0, rhs.0, modulus().p))
    }
}

impl Neg for Fr {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        // p − x ∈ (0, p]: `p` itself (x = 0) reduces to 0.
        let p = modulus().p;
        Fr(reduce_once(p - self.0, p))
    }
}

impl Mul for Fr {
    type Output = Self;
    #[inline]
    fn mul(self, rhs: Self) -> Self {
        Fr(Fr::mul_mont(self.0, rhs.0))
    }
}

impl<'a> Mul<&'a Fr> for Fr {
    type Output = Self;
    #[inline]
    fn mul(self, rhs: &'a Self) -> Self {
        self * *rhs
    }
}

impl Div for Fr {
    type Output = Self;
    /// # Panics
    /// On division by zero (like `BigRational`).
    #[allow(clippy::suspicious_arithmetic_impl)] // a / b = a · b⁻¹
    fn div(self, rhs: Self) -> Self {
        self * rhs.inv().expect("Fr: division by zero")
    }
}

impl Scalar for Fr {
    const EXACT: bool = true;
    const NAME: &'static str = "field";

    /// The exact residue of the dyadic rational `m · 2^e` a finite `f64` is; non-finite input
    /// maps to 0, as for `BigRational`.
    fn from_f64(x: f64) -> Self {
        if !x.is_finite() || x == 0.0 {
            return Fr(0);
        }
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (m, e) = if biased == 0 { (frac, -1074) } else { (frac | (1u64 << 52), biased - 1075) };
        let two = Fr::from_i128(2);
        let scale = if e >= 0 { two.pow(e as u64) } else { two.inv().expect("p odd").pow(e.unsigned_abs() as u64) };
        let v = Fr::from_i128(m as i128) * scale;
        if bits >> 63 == 1 {
            -v
        } else {
            v
        }
    }
    fn to_f64(&self) -> f64 {
        self.centered() as f64
    }
    /// # Panics
    /// If `p` divides `den` (never for `0 < |den| < 2^61`, every denominator the crate builds).
    fn from_ratio(num: i64, den: i64) -> Self {
        Fr::try_from_ratio(num, den).expect("Fr::from_ratio: denominator divisible by the modulus")
    }
    fn abs_val(&self) -> Self {
        if self.value() > Fr::p() / 2 {
            -*self
        } else {
            *self
        }
    }
    #[inline]
    fn add_mul(&mut self, a: &Self, b: &Self) {
        let m = modulus();
        self.0 = add_mod(self.0, mont_redc(a.0 as u128 * b.0 as u128, m.p, m.ninv), m.p);
    }
    /// `xᵀy` with lazy reduction ([`LAZY`] products per Montgomery reduction), the modulus read
    /// once; the same residue as the `add_mul` loop (tested, `tests::lazy_*`).
    fn dot(x: &[Fr], y: &[Fr]) -> Fr {
        dot_lazy::<LAZY>(x, y)
    }
    /// `c += a · b` with lazy reduction ([`LAZY`] products per Montgomery reduction), zero left
    /// factors skipped as the default does; the same residues as the default (tested,
    /// `tests::lazy_*`).
    fn gemm(rows: usize, k: usize, n: usize, a: &[Fr], b: &[Fr], c: &mut [Fr]) {
        gemm_lazy::<LAZY>(rows, k, n, a, b, c)
    }
    fn modulus() -> Option<u64> {
        Some(Fr::p())
    }
}

/// Products of canonical residues summed before one Montgomery reduction in [`Fr`]'s `dot` and
/// `gemm`. Each product of two residues `< p` is `< p²`; `p < 2^62` gives `4p < 2^64`, so four of
/// them sum to `< 4p² < p · 2^64`, exactly the input range of `mont_redc` (whose output is then
/// canonical). A fifth product could exceed it (`5p² ≥ p · 2^64` for `p ≥ 2^64/5`).
pub const LAZY: usize = 4;

/// Columns of `c` per block of `u128` accumulators in [`Fr`]'s `gemm` (`512` bytes on the stack).
const GEMM_BLOCK: usize = 32;

/// `xᵀy` over the common length, `G` products of canonical residues summed in a `u128` per
/// Montgomery reduction. Correct for `G ≤ LAZY` (see [`LAZY`]: the sums never wrap, so
/// `wrapping_add` is `+`; it only lets the tests' negative control, a larger `G`, wrap without a
/// debug-build panic).
fn dot_lazy<const G: usize>(x: &[Fr], y: &[Fr]) -> Fr {
    let m = modulus();
    let n = x.len().min(y.len());
    let (mut xs, mut ys) = (x[..n].chunks_exact(G), y[..n].chunks_exact(G));
    let mut acc = 0u64;
    for (a, b) in (&mut xs).zip(&mut ys) {
        let s = a.iter().zip(b).fold(0u128, |s, (a, b)| s.wrapping_add(a.0 as u128 * b.0 as u128));
        acc = add_mod(acc, mont_redc(s, m.p, m.ninv), m.p);
    }
    let s =
        xs.remainder().iter().zip(ys.remainder()).fold(0u128, |s, (a, b)| s.wrapping_add(a.0 as u128 * b.0 as u128));
    Fr(add_mod(acc, mont_redc(s, m.p, m.ninv), m.p))
}

/// `c += a · b` on row-major buffers (`a` is `rows×k`, `b` is `k×n`): for each row of `c`, in
/// blocks of [`GEMM_BLOCK`] columns, the products `a_ip · b_pj` of `G` nonzero `a_ip` are summed
/// in `u128`s and reduced once into `c`; zero left factors are skipped, as the default does (the
/// constructions are sparse). Correct for `G ≤ LAZY`.
fn gemm_lazy<const G: usize>(rows: usize, k: usize, n: usize, a: &[Fr], b: &[Fr], c: &mut [Fr]) {
    let m = modulus();
    let mut acc = [0u128; GEMM_BLOCK];
    let flush = |acc: &mut [u128], c: &mut [Fr]| {
        for (s, cj) in acc.iter_mut().zip(c) {
            cj.0 = add_mod(cj.0, mont_redc(*s, m.p, m.ninv), m.p);
            *s = 0;
        }
    };
    for i in 0..rows {
        let a_row = &a[i * k..(i + 1) * k];
        for j0 in (0..n).step_by(GEMM_BLOCK) {
            let w = GEMM_BLOCK.min(n - j0);
            let (acc, c_row) = (&mut acc[..w], &mut c[i * n + j0..i * n + j0 + w]);
            let mut pending = 0;
            for (p, aip) in a_row.iter().enumerate() {
                if aip.0 == 0 {
                    continue;
                }
                for (s, bpj) in acc.iter_mut().zip(&b[p * n + j0..p * n + j0 + w]) {
                    *s = s.wrapping_add(aip.0 as u128 * bpj.0 as u128);
                }
                pending += 1;
                if pending == G {
                    flush(acc, c_row);
                    pending = 0;
                }
            }
            if pending > 0 {
                flush(acc, c_row);
            }
        }
    }
}

/// Deterministic Miller–Rabin for every `u64`: the bases `2, 3, …, 37` (the first twelve primes)
/// are a witness set for all `n < 3.3·10^24` (Sorenson & Webster, *Strong pseudoprimes to twelve
/// prime bases*, Math. Comp. 86 (2017)).
pub fn is_prime(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    for b in BASES {
        if n % b == 0 {
            return n == b;
        }
    }
    let mulmod = |a: u64, b: u64| (a as u128 * b as u128 % n as u128) as u64;
    let powmod = |mut b: u64, mut e: u64| {
        let mut r = 1u64;
        while e > 0 {
            if e & 1 == 1 {
                r = mulmod(r, b);
            }
            b = mulmod(b, b);
            e >>= 1;
        }
        r
    };
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    'bases: for a in BASES {
        let mut x = powmod(a, d);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mulmod(x, x);
            if x == n - 1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// A prime uniform over the primes in `(2^61, 2^62)`: uniform odd integers in the interval until
/// one is prime (each prime is accepted with the same probability, so the result is uniform;
/// about 21 draws on average, by the prime number theorem).
pub fn draw_prime<R: Rng + ?Sized>(rng: &mut R) -> u64 {
    loop {
        // Odd integers 2k + 1 with 2^60 ≤ k < 2^61: exactly the odd integers in (2^61, 2^62).
        let x = 2 * rng.random_range(PRIME_LOW / 2..PRIME_HIGH / 2) + 1;
        if is_prime(x) {
            return x;
        }
    }
}

/// The prime of a `verify` run: [`draw_prime`] from `ChaCha8(seed, "field-prime", 0)`, so the
/// same seed gives the same prime in every shard and on every machine.
pub fn run_prime(seed: u64) -> Modulus {
    let mut rng = crate::rng::case_rng(seed, "field-prime", 0);
    Modulus::new_unchecked(draw_prime(&mut rng))
}

/// A lower bound on `log₂ N`, `N` the number of primes in `(2^61, 2^62)`, from Rosser &
/// Schoenfeld, *Approximate formulas for some functions of prime numbers*, Illinois J. Math. 6
/// (1962), Cor. 1 (3.5) `π(x) > x / ln x` (`x ≥ 17`) and (3.2) `π(x) < 1.25506 x / ln x`
/// (`x > 1`): `N = π(2^62) − π(2^61) > 2^62/(62 ln 2) − 1.25506 · 2^61/(61 ln 2) ≈ 3.886·10^16`,
/// i.e. `N > 2^55.1`. The `f64` evaluation is lowered by `10^-9` relative (far above its
/// rounding error) so the result stays a lower bound.
pub fn log2_prime_count_lower() -> f64 {
    let ln2 = std::f64::consts::LN_2;
    let lo = 2f64.powi(62) / (62.0 * ln2) - 1.25506 * 2f64.powi(61) / (61.0 * ln2);
    (lo * (1.0 - 1e-9)).log2()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn miller_rabin_agrees_with_trial_division_and_rejects_strong_pseudoprimes() {
        let trial = |n: u64| n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0);
        for n in 0..20_000u64 {
            assert_eq!(is_prime(n), trial(n), "n = {n}");
        }
        // Strong pseudoprimes to many small bases (negative controls): composite.
        for n in
            [3_215_031_751u64, 2_152_302_898_747, 3_474_749_660_383, 341_550_071_728_321, 3_825_123_056_546_413_051]
        {
            assert!(!is_prime(n), "{n} is composite");
        }
        for p in super::super::field::FIELD_PRIMES {
            assert!(is_prime(p));
        }
        assert!(is_prime(u64::MAX - 58)); // 2^64 - 59, the largest 64-bit prime
        assert!(!is_prime(u64::MAX));
    }

    #[test]
    fn drawn_primes_are_in_the_set_and_seed_determined() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let ps: Vec<u64> = (0..50).map(|_| draw_prime(&mut rng)).collect();
        for &p in &ps {
            assert!(p > PRIME_LOW && p < PRIME_HIGH && is_prime(p));
        }
        let distinct: std::collections::BTreeSet<_> = ps.iter().collect();
        assert_eq!(distinct.len(), ps.len());
        assert_eq!(run_prime(7), run_prime(7));
        assert_ne!(run_prime(7), run_prime(8));
        assert!(Modulus::new(run_prime(3).p()).is_some());
        assert!(Modulus::new(3).is_none()); // prime, outside the set
        assert!(Modulus::new((1 << 62) - 1).is_none()); // composite
    }

    #[test]
    fn prime_count_bound() {
        let b = log2_prime_count_lower();
        assert!(b > 55.1 && b < 55.2, "{b}");
    }

    #[test]
    fn field_ops_match_a_u128_model_under_each_modulus() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for _ in 0..4 {
            let m = Modulus::new_unchecked(draw_prime(&mut rng));
            let p = m.p();
            with_modulus(m, || {
                assert_eq!(Fr::p(), p);
                for _ in 0..2000 {
                    let (a, b) = (rng.random_range(0..p), rng.random_range(0..p));
                    let (x, y) = (Fr::from_i128(a as i128), Fr::from_i128(b as i128));
                    assert_eq!(x.value(), a);
                    assert_eq!((x * y).value(), (a as u128 * b as u128 % p as u128) as u64);
                    assert_eq!((x + y).value(), ((a as u128 + b as u128) % p as u128) as u64);
                    assert_eq!((x - y).value(), ((a as u128 + p as u128 - b as u128) % p as u128) as u64);
                    assert_eq!((-x + x), Fr::zero());
                    if a != 0 {
                        assert_eq!(x * x.inv().unwrap(), Fr::one());
                    }
                }
                assert_eq!(Fr::from_f64(0.375), Fr::from_ratio(3, 8));
                assert_eq!(
                    Fr::from_f64(-2f64.powi(-1074)) * Fr::from_f64(2f64.powi(1074 - 1023)),
                    Fr::from_f64(-2f64.powi(-1023))
                );
                assert_eq!(Fr::try_from_ratio(1, p as i64), None);
                assert_eq!(Fr::from_i128(-1).to_f64(), -1.0);
            });
        }
        // The guard restores the previous modulus.
        assert_eq!(Fr::p(), Modulus::DEFAULT.p());
    }

    #[test]
    fn from_f64_agrees_with_fp_at_the_same_prime() {
        use super::super::field::{Fp0, FIELD_PRIMES};
        with_modulus(Modulus::new(FIELD_PRIMES[0]).unwrap(), || {
            for x in [0.1, -0.375, 1.0, 2f64.powi(-40), 3e-300, f64::MAX, 1e10] {
                assert_eq!(Fr::from_f64(x).value(), Fp0::from_f64(x).value(), "{x}");
            }
        });
    }

    /// The smallest prime above `2^61`: the low extreme of the prime set.
    fn smallest_prime_above_2_61() -> u64 {
        (PRIME_LOW + 1..).step_by(2).find(|&x| is_prime(x)).expect("a prime exists")
    }

    /// Both extremes of the prime set (`2^62 − 57` is its largest prime) and two drawn primes.
    fn lazy_moduli() -> Vec<Modulus> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let mut ps = vec![smallest_prime_above_2_61(), (1 << 62) - 57];
        ps.extend((0..2).map(|_| draw_prime(&mut rng)));
        ps.into_iter().map(|p| Modulus::new(p).expect("in the set")).collect()
    }

    /// Operand kinds: dense uniform, all zero, every value `p − 1`, every Montgomery
    /// representative `p − 1` (the largest products the lazy sums meet), half zeros.
    #[derive(Clone, Copy, Debug)]
    enum Kind {
        Dense,
        Zero,
        ValueMax,
        RawMax,
        Sparse,
    }

    fn operand(rng: &mut rand_chacha::ChaCha8Rng, kind: Kind, len: usize) -> Vec<Fr> {
        let p = Fr::p();
        (0..len)
            .map(|_| match kind {
                Kind::Dense => Fr::random(rng),
                Kind::Zero => Fr::zero(),
                Kind::ValueMax => Fr::from_i128(-1),
                Kind::RawMax => Fr(p - 1),
                Kind::Sparse if rng.random::<bool>() => Fr::zero(),
                Kind::Sparse => Fr::random(rng),
            })
            .collect()
    }

    /// The independent model: canonical residues, `u128` products and `%`.
    fn model_gemm(rows: usize, k: usize, n: usize, a: &[Fr], b: &[Fr]) -> Vec<Fr> {
        let p = Fr::p() as u128;
        (0..rows * n)
            .map(|ij| {
                let (i, j) = (ij / n, ij % n);
                let s =
                    (0..k).fold(0u128, |s, q| (s + a[i * k + q].value() as u128 * b[q * n + j].value() as u128) % p);
                Fr::from_i128(s as i128)
            })
            .collect()
    }

    /// The schoolbook default of `Scalar::gemm` (its body, with `Fr::add_mul`).
    fn schoolbook_gemm(rows: usize, k: usize, n: usize, a: &[Fr], b: &[Fr]) -> Vec<Fr> {
        let mut c = vec![Fr::zero(); rows * n];
        for i in 0..rows {
            for q in 0..k {
                if a[i * k + q].is_zero() {
                    continue;
                }
                for j in 0..n {
                    c[i * n + j].add_mul(&a[i * k + q], &b[q * n + j]);
                }
            }
        }
        c
    }

    const KIND_PAIRS: [(Kind, Kind); 8] = [
        (Kind::Dense, Kind::Dense),
        (Kind::Zero, Kind::Dense),
        (Kind::Dense, Kind::Zero),
        (Kind::ValueMax, Kind::ValueMax),
        (Kind::RawMax, Kind::RawMax),
        (Kind::RawMax, Kind::Dense),
        (Kind::Sparse, Kind::Dense),
        (Kind::Sparse, Kind::RawMax),
    ];

    #[test]
    fn lazy_gemm_equals_the_schoolbook_default_and_the_model() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for m in lazy_moduli() {
            with_modulus(m, || {
                for rows in [0, 1, 3] {
                    for k in [0, 1, 3, 4, 5, 8, 9, 13] {
                        for n in [0, 1, 2, 31, 32, 33, 70] {
                            for (ka, kb) in KIND_PAIRS {
                                let (a, b) = (operand(&mut rng, ka, rows * k), operand(&mut rng, kb, k * n));
                                let mut c = vec![Fr::zero(); rows * n];
                                Fr::gemm(rows, k, n, &a, &b, &mut c);
                                let at = format!("p = {}, {rows}×{k}·{k}×{n}, {ka:?}·{kb:?}", m.p());
                                assert_eq!(c, model_gemm(rows, k, n, &a, &b), "{at}");
                                assert_eq!(c, schoolbook_gemm(rows, k, n, &a, &b), "{at}");
                            }
                        }
                    }
                }
            });
        }
    }

    #[test]
    fn lazy_dot_equals_the_add_mul_loop_and_the_model() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        for m in lazy_moduli() {
            with_modulus(m, || {
                for len in 0..=17 {
                    for (ka, kb) in KIND_PAIRS {
                        let (x, y) = (operand(&mut rng, ka, len), operand(&mut rng, kb, len));
                        let mut s = Fr::zero();
                        for (a, b) in x.iter().zip(&y) {
                            s.add_mul(a, b);
                        }
                        let at = format!("p = {}, len {len}, {ka:?}·{kb:?}", m.p());
                        assert_eq!(Fr::dot(&x, &y), s, "{at}");
                        assert_eq!(Fr::dot(&x, &y), model_gemm(1, len, 1, &x, &y)[0], "{at}");
                        // The common length, as `zip` reads it.
                        assert_eq!(Fr::dot(&x, &y[..len / 2]), Fr::dot(&x[..len / 2], &y[..len / 2]), "{at}");
                    }
                }
            });
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]
        /// Arbitrary Montgomery representatives (any of `[0, p)`) and shapes, at both extremes.
        #[test]
        fn lazy_gemm_matches_the_model_on_arbitrary_entries(
            low in proptest::prelude::any::<bool>(),
            rows in 0usize..4, k in 0usize..11, n in 0usize..40,
            seed in proptest::prelude::any::<u64>(),
        ) {
            let m = Modulus::new(if low { smallest_prime_above_2_61() } else { (1 << 62) - 57 }).expect("in the set");
            with_modulus(m, || {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                let a: Vec<Fr> = (0..rows * k).map(|_| Fr(rng.random_range(0..m.p()))).collect();
                let b: Vec<Fr> = (0..k * n).map(|_| Fr(rng.random_range(0..m.p()))).collect();
                let mut c = vec![Fr::zero(); rows * n];
                Fr::gemm(rows, k, n, &a, &b, &mut c);
                proptest::prop_assert_eq!(c, model_gemm(rows, k, n, &a, &b));
                Ok(())
            })?;
        }
    }

    /// Negative control: a reduction grouping 17 products (beyond [`LAZY`]'s bound) on the `p − 1`
    /// representatives at `p = 2^62 − 57`: their sum `17 (p−1)² > 2^128` wraps, the residue is off
    /// by `2^128 mod p ≠ 0`, and the same comparisons reject it (dense random operands usually
    /// would not: their products average `p²/4`, which is why the tests carry the `RawMax` kind).
    #[test]
    fn lazy_reduction_beyond_its_bound_is_caught() {
        with_modulus(Modulus::DEFAULT, || {
            let (k, n) = (17, 3);
            let a = vec![Fr(Fr::p() - 1); k];
            let b = vec![Fr(Fr::p() - 1); k * n];
            let mut c = vec![Fr::zero(); n];
            gemm_lazy::<17>(1, k, n, &a, &b, &mut c);
            assert_ne!(c, model_gemm(1, k, n, &a, &b));
            let mut c = vec![Fr::zero(); n];
            gemm_lazy::<LAZY>(1, k, n, &a, &b, &mut c);
            assert_eq!(c, model_gemm(1, k, n, &a, &b), "and within the bound it holds");
            assert_ne!(dot_lazy::<17>(&a, &b[..k]), model_gemm(1, k, 1, &a, &b[..k])[0]);
            assert_eq!(dot_lazy::<LAZY>(&a, &b[..k]), model_gemm(1, k, 1, &a, &b[..k])[0]);
        });
    }

    /// The branch-free reductions against the plain comparisons on the edges of their ranges.
    #[test]
    fn branch_free_reductions_match_the_comparisons() {
        use super::super::field::{add_mod, reduce_once, sub_mod};
        for p in [smallest_prime_above_2_61(), (1 << 62) - 57, 3] {
            for x in [0, 1, p - 1, p, p + 1, 2 * p - 1] {
                assert_eq!(reduce_once(x, p), x % p, "reduce_once({x}, {p})");
            }
            for (a, b) in [(0, 0), (0, p - 1), (p - 1, 0), (p - 1, p - 1), (1, p - 1), (p - 1, 1), (p / 2, p / 2 + 1)] {
                assert_eq!(add_mod(a, b, p), ((a as u128 + b as u128) % p as u128) as u64, "{a} + {b} mod {p}");
                assert_eq!(
                    sub_mod(a, b, p),
                    ((a as u128 + p as u128 - b as u128) % p as u128) as u64,
                    "{a} − {b} mod {p}"
                );
            }
        }
    }
}
