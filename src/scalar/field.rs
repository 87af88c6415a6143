//! The prime field `F_p` as a [`Scalar`], for Schwartz–Zippel certificates at every shape.
//!
//! Every linear-attention claim of the crate is a polynomial identity in the prompt entries with
//! rational coefficients (the construction's constants `1/n`, `α`, `c`, `c⁻¹`). Reducing the
//! coefficients modulo a prime `p` that divides no denominator is a ring homomorphism
//! `Z_(p) → F_p`, so the same generic forward pass and the same generic reference update run
//! over [`Fp`] and evaluate the two sides' reductions mod `p`. Evaluating at independent uniform
//! points of `F_p` bounds the survival probability of a false identity of degree `deg` by
//! `deg / p` per draw, plus the probability that `p` divides every coefficient of the cleared
//! difference (`proofs/README.md`, "Certificates over a prime field").
//!
//! `p` is one of the eight primes [`FIELD_PRIMES`], `2^62 - c` for the eight smallest `c` that
//! give a prime, chosen per run (so that a false identity cannot hide in the choice of a single
//! `p`): [`with_prime`] runs a generic computation with the field of one index.
//!
//! Arithmetic is Montgomery multiplication with `R = 2^64` on canonical residues in `[0, p)`
//! (one `64×64 → 128`-bit product and one reduction per multiplication, no division).
//!
//! **Denominators.** Every prime of the set exceeds `2^61`, so `from_ratio(num, den)` with
//! `0 < |den| < 2^61` always has an invertible denominator (every denominator the crate builds:
//! `n`, the `c` denominators, powers of two), and [`Scalar::from_f64`] of a finite `f64` (a
//! dyadic `m · 2^e`) is always exact, because `2` is invertible. The only non-invertible `i64`
//! denominators are `±p` and `±2p`: [`Fp::try_from_ratio`] returns `None` for them and
//! `from_ratio` panics (a programming error, documented there), as division by the zero element
//! does, like `BigRational`'s division by zero.
//!
//! **Order and absolute value** mean nothing in a field. `Scalar` requires them, so: `to_f64` is
//! the centered representative in `(-p/2, p/2)` (exactly `0.0` iff the element is zero, so
//! `max_abs_diff` is 0 iff the two sides agree), `abs_val` its absolute value, and `PartialOrd`
//! the order of canonical residues. No claim of the crate may rest on them over `F_p`.

use super::Scalar;
use num_traits::{One, Zero};
use rand::Rng;
use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// The prime moduli: `2^62 - c` for `c = 57, 87, 117, 143, 153, 167, 171, 195` (the eight
/// largest primes below `2^62`; each checked by deterministic Miller–Rabin in the unit tests).
pub const FIELD_PRIMES: [u64; 8] = [
    (1 << 62) - 57,
    (1 << 62) - 87,
    (1 << 62) - 117,
    (1 << 62) - 143,
    (1 << 62) - 153,
    (1 << 62) - 167,
    (1 << 62) - 171,
    (1 << 62) - 195,
];

/// Every prime of [`FIELD_PRIMES`] is at least this (`2^62 - 195 > 2^61`).
pub const FIELD_PRIME_MIN: u64 = (1 << 62) - 195;

/// An element of `F_P`, stored in Montgomery form `x · 2^64 mod P`, canonical in `[0, P)`.
/// `P` must be an odd prime below `2^62` (checked at compile time for every monomorphization).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Fp<const P: u64>(u64);

/// The field of `FIELD_PRIMES[0]` (the default when one field is enough).
pub type Fp0 = Fp<{ FIELD_PRIMES[0] }>;

/// `t · 2^-64 mod p`, canonical in `[0, p)`, for `t < p · 2^64` and odd `p < 2^62`.
pub(crate) const fn mont_redc(t: u128, p: u64, ninv: u64) -> u64 {
    // t < p · 2^64; m = t · (-p⁻¹) mod 2^64 makes t + m p divisible by 2^64, and
    // u = (t + m p) / 2^64 < p + p = 2p.
    let m = (t as u64).wrapping_mul(ninv);
    let u = ((t + (m as u128) * (p as u128)) >> 64) as u64;
    reduce_once(u, p)
}

/// `x mod p` for `x < 2p`, `p < 2^62`, without a branch.
///
/// The residues of a Schwartz–Zippel evaluation are uniform, so whether `x ≥ p` is a coin flip:
/// as a branch (which LLVM made of the plain `if x >= p { x - p } else { x }`) it was
/// mispredicted about half the time, in every addition and every Montgomery reduction — the
/// largest single cost of the field certificates (`proofs/README.md`, "Speed of the field
/// rows"). Here `t = x - p` wraps iff `x < p`, and then (`x < 2p < 2^63`) its top bit is set, so
/// the mask `t >> 63` (arithmetic) adds `p` back exactly then.
#[inline(always)]
pub(crate) const fn reduce_once(x: u64, p: u64) -> u64 {
    let t = x.wrapping_sub(p);
    t.wrapping_add(p & ((t as i64 >> 63) as u64))
}

/// `a + b mod p` for canonical `a, b < p < 2^62` (the sum `< 2p` fits), without a branch.
#[inline(always)]
pub(crate) const fn add_mod(a: u64, b: u64, p: u64) -> u64 {
    reduce_once(a + b, p)
}

/// `a − b mod p` for canonical `a, b < p < 2^62`, without a branch: `a − b` wraps iff `a < b`,
/// and then (`|a − b| < 2^62`) its top bit is set, so `p` is added back exactly then.
#[inline(always)]
pub(crate) const fn sub_mod(a: u64, b: u64, p: u64) -> u64 {
    let t = a.wrapping_sub(b);
    t.wrapping_add(p & ((t as i64 >> 63) as u64))
}

pub(crate) const fn neg_inv_mod_2_64(p: u64) -> u64 {
    // Newton iteration for p⁻¹ mod 2^64: each step doubles the correct low bits (1 → 64).
    let mut inv: u64 = 1;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(p.wrapping_mul(inv)));
        i += 1;
    }
    inv.wrapping_neg()
}

const fn mont_table(p: u64, base_mont: u64, ninv: u64) -> [u64; 64] {
    // table[k] = base^k in Montgomery form; table[0] = 1.
    let one = ((1u128 << 64) % p as u128) as u64;
    let mut t = [0u64; 64];
    t[0] = one;
    let mut k = 1;
    while k < 64 {
        t[k] = mont_redc(t[k - 1] as u128 * base_mont as u128, p, ninv);
        k += 1;
    }
    t
}

impl<const P: u64> Fp<P> {
    const CHECK: () = assert!(P % 2 == 1 && P > 2 && P < (1 << 62), "Fp: P must be an odd prime below 2^62");
    const NINV: u64 = neg_inv_mod_2_64(P);
    /// `2^64 mod P`: the Montgomery form of 1.
    const R1: u64 = ((1u128 << 64) % P as u128) as u64;
    /// `2^128 mod P`: converts a canonical residue into Montgomery form.
    const R2: u64 = ((Self::R1 as u128 * Self::R1 as u128) % P as u128) as u64;
    /// Montgomery forms of `2^k`, `k < 64`.
    const POW2: [u64; 64] = mont_table(P, (2 * Self::R1 as u128 % P as u128) as u64, Self::NINV);
    /// Montgomery forms of `2^(64 j)`, `j < 64`.
    const POW2_64: [u64; 64] = mont_table(P, Self::R2, Self::NINV);
    /// Montgomery forms of `2^-k`, `k < 64`: `2⁻¹ = (P + 1) / 2`.
    const INV2: [u64; 64] = mont_table(P, mont_redc((P / 2 + 1) as u128 * Self::R2 as u128, P, Self::NINV), Self::NINV);
    /// Montgomery forms of `2^(-64 j)`, `j < 64`: `2^-64` in Montgomery form is `1` (canonical).
    const INV2_64: [u64; 64] = mont_table(P, 1, Self::NINV);

    /// The modulus `P`.
    pub const MODULUS: u64 = P;

    #[inline(always)]
    fn mul_mont(a: u64, b: u64) -> u64 {
        #[allow(clippy::let_unit_value)]
        let _ = Self::CHECK;
        mont_redc(a as u128 * b as u128, P, Self::NINV)
    }

    /// The residue `x mod P`.
    #[inline]
    pub fn from_u64(x: u64) -> Self {
        Fp(Self::mul_mont(x % P, Self::R2))
    }

    /// The residue of a signed integer.
    #[inline]
    pub fn from_i128(x: i128) -> Self {
        let r = x.rem_euclid(P as i128) as u64;
        Fp(Self::mul_mont(r, Self::R2))
    }

    /// The canonical residue in `[0, P)`.
    #[inline]
    pub fn value(self) -> u64 {
        mont_redc(self.0 as u128, P, Self::NINV)
    }

    /// The centered representative in `(-P/2, P/2)`.
    #[inline]
    pub fn centered(self) -> i64 {
        let v = self.value();
        if v > P / 2 {
            -((P - v) as i64)
        } else {
            v as i64
        }
    }

    /// A uniform element of `F_P` (the Schwartz–Zippel draw): the top `bits(P)` bits of one
    /// `u64`, rejected while `≥ P` (probability `(2^62 - P)/2^62 < 2^-54` for the primes of
    /// [`FIELD_PRIMES`], `< 1/2` for any `P`), so exactly uniform. The draw is taken as the
    /// Montgomery representative directly: `x ↦ x·2^64 mod P` is a bijection of `F_P`, so the
    /// element is uniform either way, and no conversion is needed.
    #[inline]
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let shift = P.leading_zeros();
        loop {
            let x = rng.random::<u64>() >> shift;
            if x < P {
                return Fp(x);
            }
        }
    }

    /// `self^e` by square and multiply.
    pub fn pow(self, mut e: u64) -> Self {
        let mut base = self.0;
        let mut acc = Self::R1;
        while e > 0 {
            if e & 1 == 1 {
                acc = Self::mul_mont(acc, base);
            }
            base = Self::mul_mont(base, base);
            e >>= 1;
        }
        Fp(acc)
    }

    /// `self⁻¹` (Fermat: `self^(P-2)`), `None` for zero.
    pub fn inv(self) -> Option<Self> {
        if self.0 == 0 {
            None
        } else {
            Some(self.pow(P - 2))
        }
    }

    /// `num / den` in `F_P`, `None` when `P` divides `den` (only `den ∈ {0, ±P, ±2P}` among
    /// `i64`; never for `0 < |den| < 2^61`).
    pub fn try_from_ratio(num: i64, den: i64) -> Option<Self> {
        let n = Self::from_i128(num as i128);
        if den == 1 {
            return Some(n);
        }
        Self::from_i128(den as i128).inv().map(|di| n * di)
    }

    /// `2^e` for any `e` with `|e| < 4096`.
    #[inline]
    fn pow2(e: i32) -> u64 {
        debug_assert!(e.unsigned_abs() < 4096);
        let k = e.unsigned_abs() as usize;
        let (lo, hi) = if e >= 0 { (&Self::POW2, &Self::POW2_64) } else { (&Self::INV2, &Self::INV2_64) };
        Self::mul_mont(lo[k & 63], hi[k >> 6])
    }
}

impl<const P: u64> fmt::Debug for Fp<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (mod {P})", self.value())
    }
}

impl<const P: u64> fmt::Display for Fp<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value())
    }
}

/// The order of canonical residues: arbitrary, present only because [`Scalar`] requires it.
impl<const P: u64> PartialOrd for Fp<P> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.value().cmp(&other.value()))
    }
}

impl<const P: u64> Zero for Fp<P> {
    #[inline]
    fn zero() -> Self {
        Fp(0)
    }
    #[inline]
    fn is_zero(&self) -> bool {
        self.0 == 0
    }
}

impl<const P: u64> One for Fp<P> {
    #[inline]
    fn one() -> Self {
        Fp(Self::R1)
    }
}

impl<const P: u64> Add for Fp<P> {
    type Output = Self;
    #[inline]
    fn add(self, rhs: Self) -> Self {
        // Both below 2^62: the sum fits in a u64.
        let s = self.0 + rhs.0;
        Fp(if s >= P { s - P } else { s })
    }
}

impl<'a, const P: u64> Add<&'a Fp<P>> for Fp<P> {
    type Output = Self;
    #[inline]
    fn add(self, rhs: &'a Self) -> Self {
        self + *rhs
    }
}

impl<const P: u64> Sub for Fp<P> {
    type Output = Self;
    #[inline]
    fn sub(self, rhs: Self) -> Self {
        Fp(if self.0 >= rhs.0 { self.0 - rhs.0 } else { self.0 + P - rhs.0 })
    }
}

impl<const P: u64> Neg for Fp<P> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        Fp(if self.0 == 0 { 0 } else { P - self.0 })
    }
}

impl<const P: u64> Mul for Fp<P> {
    type Output = Self;
    #[inline]
    fn mul(self, rhs: Self) -> Self {
        Fp(Self::mul_mont(self.0, rhs.0))
    }
}

impl<'a, const P: u64> Mul<&'a Fp<P>> for Fp<P> {
    type Output = Self;
    #[inline]
    fn mul(self, rhs: &'a Self) -> Self {
        self * *rhs
    }
}

impl<const P: u64> Div for Fp<P> {
    type Output = Self;
    /// # Panics
    /// On division by zero (like `BigRational`).
    #[allow(clippy::suspicious_arithmetic_impl)] // a / b = a · b⁻¹
    fn div(self, rhs: Self) -> Self {
        self * rhs.inv().expect("Fp: division by zero")
    }
}

impl<const P: u64> Scalar for Fp<P> {
    const EXACT: bool = true;
    const NAME: &'static str = "field";

    /// The exact residue of the dyadic rational a finite `f64` is (`m · 2^e` with `2` invertible
    /// mod `P`); non-finite input maps to 0, as for `BigRational` (validation excludes it).
    #[inline]
    fn from_f64(x: f64) -> Self {
        if !x.is_finite() || x == 0.0 {
            return Fp(0);
        }
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (m, e) = if biased == 0 { (frac, -1074) } else { (frac | (1u64 << 52), biased - 1075) };
        // m < 2^53 < P: already a canonical residue.
        let v = Fp::<P>(Self::mul_mont(Self::mul_mont(m, Self::R2), Self::pow2(e)));
        if bits >> 63 == 1 {
            -v
        } else {
            v
        }
    }

    /// The centered representative as `f64` (see the module doc: `0.0` iff zero; not an
    /// approximation of any real number).
    fn to_f64(&self) -> f64 {
        self.centered() as f64
    }

    /// # Panics
    /// If `P` divides `den` (`den ∈ {0, ±P, ±2P}`; impossible for `0 < |den| < 2^61`, which
    /// covers every denominator the crate builds). Use [`Fp::try_from_ratio`] for untrusted input.
    fn from_ratio(num: i64, den: i64) -> Self {
        Self::try_from_ratio(num, den).expect("Fp::from_ratio: denominator divisible by the modulus")
    }

    fn abs_val(&self) -> Self {
        if self.value() > P / 2 {
            -*self
        } else {
            *self
        }
    }

    #[inline]
    fn add_mul(&mut self, a: &Self, b: &Self) {
        *self = *self + *a * *b;
    }

    fn modulus() -> Option<u64> {
        Some(P)
    }
}

/// What a computation generic over the prime field may use beyond [`Scalar`]: the modulus and
/// uniform draws (the Schwartz–Zippel points).
pub trait PrimeField: Scalar + Copy {
    /// The modulus `p`.
    const P: u64;
    /// A uniform element of `F_p`.
    fn random<R: Rng + ?Sized>(rng: &mut R) -> Self;
}

impl<const P: u64> PrimeField for Fp<P> {
    const P: u64 = P;
    #[inline]
    fn random<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Fp::random(rng)
    }
}

/// A computation generic over the field, run by [`with_prime`] for the prime chosen at run time.
pub trait FieldRun {
    /// What the computation returns.
    type Output;
    /// Run over `F`.
    fn run<F: PrimeField>(self) -> Self::Output;
}

/// Run `job` over `F_p` with `p = FIELD_PRIMES[index % 8]`.
pub fn with_prime<J: FieldRun>(index: usize, job: J) -> J::Output {
    match index % FIELD_PRIMES.len() {
        0 => job.run::<Fp<{ FIELD_PRIMES[0] }>>(),
        1 => job.run::<Fp<{ FIELD_PRIMES[1] }>>(),
        2 => job.run::<Fp<{ FIELD_PRIMES[2] }>>(),
        3 => job.run::<Fp<{ FIELD_PRIMES[3] }>>(),
        4 => job.run::<Fp<{ FIELD_PRIMES[4] }>>(),
        5 => job.run::<Fp<{ FIELD_PRIMES[5] }>>(),
        6 => job.run::<Fp<{ FIELD_PRIMES[6] }>>(),
        _ => job.run::<Fp<{ FIELD_PRIMES[7] }>>(),
    }
}

/// The index of the run's prime, uniform over [`FIELD_PRIMES`].
pub fn draw_prime_index<R: Rng + ?Sized>(rng: &mut R) -> usize {
    rng.random_range(0..FIELD_PRIMES.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use num_rational::BigRational;
    use rand::SeedableRng;

    fn is_prime(n: u64) -> bool {
        // Deterministic Miller–Rabin for n < 3.3e24 with these bases.
        if n < 2 || n % 2 == 0 {
            return n == 2;
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
        let (mut d, mut s) = (n - 1, 0);
        while d % 2 == 0 {
            d /= 2;
            s += 1;
        }
        'bases: for a in [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41] {
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

    #[test]
    fn the_moduli_are_distinct_primes_above_2_61() {
        for (i, &p) in FIELD_PRIMES.iter().enumerate() {
            assert!(is_prime(p), "{p} is not prime");
            assert!((FIELD_PRIME_MIN..1 << 62).contains(&p));
            const { assert!(FIELD_PRIME_MIN > 1 << 61) };
            assert!(FIELD_PRIMES[..i].iter().all(|&q| q != p));
        }
        // They are the eight largest primes below 2^62: nothing prime in between.
        let lo = FIELD_PRIME_MIN;
        let n_primes = (lo..1u64 << 62).filter(|&x| is_prime(x)).count();
        assert_eq!(n_primes, 8);
    }

    /// The canonical residue of a rational with a denominator prime to `P`.
    fn residue<const P: u64>(q: &BigRational) -> u64 {
        let p = BigInt::from(P);
        let m = |x: &BigInt| -> u64 {
            let r = ((x % &p) + &p) % &p;
            u64::try_from(r).unwrap()
        };
        let (n, d) = (m(q.numer()), m(q.denom()));
        (Fp::<P>::from_u64(n) * Fp::<P>::from_u64(d).inv().unwrap()).value()
    }

    #[test]
    fn from_f64_maps_dyadics_exactly() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut xs =
            vec![0.1, -0.375, 1.0, -1.0, 2f64.powi(-40), 2f64.powi(-1074), f64::MAX, f64::MIN_POSITIVE, 3e-300];
        xs.extend((0..500).map(|_| rng.random_range(-1e3..1e3)));
        xs.extend((0..500).map(|_| super::super::grid::draw(&mut rng)));
        for x in xs {
            let q = <BigRational as Scalar>::from_f64(x);
            assert_eq!(Fp0::from_f64(x).value(), residue::<{ FIELD_PRIMES[0] }>(&q), "x = {x:e}");
            assert_eq!(Fp0::from_f64(-x), -Fp0::from_f64(x));
        }
        assert_eq!(Fp0::from_f64(0.375), Fp0::from_ratio(3, 8));
        assert_ne!(Fp0::from_f64(0.1), Fp0::from_ratio(1, 10)); // 0.1 is a dyadic, not 1/10
        assert_eq!(Fp0::from_f64(f64::NAN), Fp0::zero());
    }

    #[test]
    fn from_ratio_and_its_limits() {
        assert_eq!(Fp0::from_ratio(-3, 7) * Fp0::from_ratio(7, 1), Fp0::from_ratio(-3, 1));
        assert_eq!(Fp0::from_ratio(1, 20) * Fp0::from_u64(20), Fp0::one());
        assert_eq!(Fp0::from_ratio(5, -10), Fp0::from_ratio(-1, 2));
        let p = FIELD_PRIMES[0] as i64;
        for den in [0, p, -p, 2 * p, -2 * p] {
            assert_eq!(Fp0::try_from_ratio(1, den), None, "den = {den}");
        }
        for den in [1, -1, 3, 1 << 40, (1 << 61) - 1, p - 1, p + 1, i64::MAX, i64::MIN + 1] {
            assert!(Fp0::try_from_ratio(1, den).is_some(), "den = {den}");
        }
        assert_eq!(Fp0::from_i128(-1).centered(), -1);
        assert_eq!(Fp0::from_i128(-1).to_f64(), -1.0);
        assert_eq!(Fp0::from_i128(-5).abs_val(), Fp0::from_u64(5));
    }

    #[test]
    fn with_prime_runs_each_field() {
        struct Modulus;
        impl FieldRun for Modulus {
            type Output = (Option<u64>, f64);
            fn run<F: PrimeField>(self) -> Self::Output {
                assert_eq!(F::modulus(), Some(F::P));
                (F::modulus(), (-F::one()).to_f64())
            }
        }
        for (i, &p) in FIELD_PRIMES.iter().enumerate() {
            assert_eq!(with_prime(i, Modulus), (Some(p), -1.0));
        }
    }
}
