//! [`Height`]: a [`Scalar`] that bounds the polynomial a generic computation builds — its total
//! degree (as [`Degree`] does), the ℓ1 norm of its coefficients and a common denominator of
//! them — so that the **height** `H` of a certificate (`proofs/README.md`, "Certificates over a
//! prime field", term 1) is computed from the weights actually used instead of assumed.
//!
//! Run the same generic forward pass and reference on `Height` values: free variables (prompt
//! entries, a free `α`, `C`, `λ`) are [`Height::var`] (degree 1, ℓ1 norm 1, denominator 1),
//! constants enter through `from_ratio` / `from_f64` with their exact value, exact zeros are the
//! zero polynomial (so the zero-skipping products of `linalg` skip them as in the other
//! arithmetics). For polynomials `f`, `g` with rational coefficients:
//!
//! - `‖f ± g‖₁ ≤ ‖f‖₁ + ‖g‖₁`, `‖f g‖₁ ≤ ‖f‖₁ ‖g‖₁`, `‖f / c‖₁ = ‖f‖₁ / |c|` for a constant `c`;
//! - if `δ_f f` and `δ_g g` have integer coefficients, so have `lcm(δ_f, δ_g)(f ± g)` and
//!   `δ_f δ_g f g`; `δ(f / (a/b)) = δ_f · |a|`.
//!
//! So `δ · f` has integer coefficients of absolute value at most `H = δ ‖f‖₁`. Denominators are
//! kept as exponents of the primes up to 67 ([`DEN_PRIMES`]: every `1/n`, `1/(j+1)` with
//! `n, j+1 ≤ 67`, and the constants `2^k`, `3`, `7` of the checks) with `lcm` = the larger
//! exponent, and any other factor as an added `log₂` (an `lcm` bounded by the product). ℓ1 norms
//! are floating-point upper bounds with an unbounded exponent ([`Mag`]: every rounding is moved
//! upward), so `log₂ H` in the thousands is represented. A sum that cancels is still counted:
//! an upper bound, never an underestimate. Constant arithmetic is exact while it fits `i64`.
//!
//! Dividing by a non-constant panics (not a polynomial operation, as for [`Degree`]); dividing by
//! a constant whose exact value was lost (beyond `i64`) makes the bound infinite (`log₂ H = ∞`,
//! reported as such, never a guess).

use super::degree::Degree;
use super::Scalar;
use num_traits::{One, Zero};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// The primes whose exponents a denominator keeps exactly.
pub const DEN_PRIMES: [u64; 19] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67];

/// The next `f64` above a positive finite `x`.
#[inline]
fn up(x: f64) -> f64 {
    if x.is_finite() {
        f64::from_bits(x.to_bits() + 1)
    } else {
        x
    }
}

/// A nonnegative upper bound `m · 2^e` with `1 ≤ m < 2` (or `m = 0`, or `m = ∞`), `e` unbounded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mag {
    m: f64,
    e: i64,
}

impl Mag {
    const ZERO: Mag = Mag { m: 0.0, e: 0 };
    const ONE: Mag = Mag { m: 1.0, e: 0 };
    const INF: Mag = Mag { m: f64::INFINITY, e: 0 };

    /// `x ≥ 0` exactly (a finite `f64`), `∞` for non-finite.
    fn of(x: f64) -> Mag {
        let x = x.abs();
        if x == 0.0 {
            return Mag::ZERO;
        }
        if !x.is_finite() {
            return Mag::INF;
        }
        let (y, shift) = if x < f64::MIN_POSITIVE { (x * 2f64.powi(64), -64) } else { (x, 0) };
        let bits = y.to_bits();
        let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
        Mag { m: f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52)), e: e + shift }
    }

    #[inline]
    fn norm(m: f64, e: i64) -> Mag {
        // m in [1, 4) after a product or a sum of normalized values.
        if m >= 2.0 {
            Mag { m: up(m / 2.0), e: e + 1 }
        } else {
            Mag { m, e }
        }
    }

    #[inline]
    fn add(self, o: Mag) -> Mag {
        if self.m == 0.0 {
            return o;
        }
        if o.m == 0.0 {
            return self;
        }
        if !self.m.is_finite() || !o.m.is_finite() {
            return Mag::INF;
        }
        let (a, b) = if self.e >= o.e { (self, o) } else { (o, self) };
        let diff = a.e - b.e;
        if diff > 60 {
            // b < 2^-59 · 2^(a.e) < ulp(a.m) · 2^(a.e): the exact sum is below next_up(a.m).
            return Mag::norm(up(a.m), a.e);
        }
        let scale = f64::from_bits(((1023 - diff) as u64) << 52); // 2^-diff, exact
        Mag::norm(up(a.m + b.m * scale), a.e)
    }

    #[inline]
    fn mul(self, o: Mag) -> Mag {
        if self.m == 0.0 || o.m == 0.0 {
            return Mag::ZERO;
        }
        if !self.m.is_finite() || !o.m.is_finite() {
            return Mag::INF;
        }
        Mag::norm(up(self.m * o.m), self.e + o.e)
    }

    /// An upper bound on `log₂` of the value (`-∞` for 0).
    pub fn log2(self) -> f64 {
        if self.m == 0.0 {
            f64::NEG_INFINITY
        } else {
            up(self.e as f64 + up(self.m.log2()))
        }
    }
}

/// Degree, ℓ1 norm and common denominator of a polynomial with rational coefficients (module
/// doc); the zero polynomial has degree `None`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Height {
    deg: Degree,
    l1: Mag,
    den: [u16; DEN_PRIMES.len()],
    /// `log₂` of the denominator factors outside [`DEN_PRIMES`].
    den_other: f64,
    /// The exact value when this is a known constant `num/den` (reduced, `den > 0`).
    konst: Option<(i64, i64)>,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

impl Height {
    /// A free variable.
    pub fn var() -> Height {
        Height { deg: Degree::var(), l1: Mag::ONE, den: [0; DEN_PRIMES.len()], den_other: 0.0, konst: None }
    }

    /// The exact constant `num/den` (`den ≠ 0`), or a bound when it does not fit `i64`.
    fn constant(num: i128, den: i128) -> Height {
        assert!(den != 0, "Height: zero denominator");
        let g = gcd(num, den).max(1);
        let (mut n, mut d) = (num / g, den / g);
        if d < 0 {
            n = -n;
            d = -d;
        }
        if n == 0 {
            return Height::zero();
        }
        let (den_exps, other) = factor(d as u128);
        // Three roundings (two conversions, one division), each below 2^-53 relative: 1e-15 covers them.
        let l1 = Mag::of(n.unsigned_abs() as f64 / d as f64 * (1.0 + 1e-15));
        let konst = i64::try_from(n).ok().zip(i64::try_from(d).ok());
        Height { deg: Degree(Some(0)), l1, den: den_exps, den_other: other, konst }
    }

    /// The degree bound (`None` for the zero polynomial).
    pub fn degree(&self) -> Option<u32> {
        self.deg.bound()
    }

    /// An upper bound on `log₂ H`, `H = δ ‖f‖₁` the largest coefficient of the integer
    /// polynomial `δ f` (`-∞` for the zero polynomial, `∞` when unbounded).
    pub fn log2_height(&self) -> f64 {
        if self.deg.0.is_none() {
            return f64::NEG_INFINITY;
        }
        let den: f64 =
            self.den.iter().zip(DEN_PRIMES).map(|(&k, p)| k as f64 * (p as f64).log2()).sum::<f64>() + self.den_other;
        let s = self.l1.log2() + den;
        if s.is_finite() {
            s + 1e-9 * s.abs().max(1.0) // far above the rounding of the sum above
        } else {
            s
        }
    }

    fn general(deg: Degree, l1: Mag, den: [u16; DEN_PRIMES.len()], den_other: f64) -> Height {
        Height { deg, l1, den, den_other, konst: None }
    }
}

/// Exponents of [`DEN_PRIMES`] in `d`, and `log₂` (rounded up) of the rest.
fn factor(mut d: u128) -> ([u16; DEN_PRIMES.len()], f64) {
    let mut e = [0u16; DEN_PRIMES.len()];
    for (i, &p) in DEN_PRIMES.iter().enumerate() {
        while d % p as u128 == 0 {
            d /= p as u128;
            e[i] += 1;
        }
    }
    (e, if d == 1 { 0.0 } else { up(up(d as f64).log2()) })
}

impl Zero for Height {
    fn zero() -> Self {
        Height { deg: Degree(None), l1: Mag::ZERO, den: [0; DEN_PRIMES.len()], den_other: 0.0, konst: Some((0, 1)) }
    }
    fn is_zero(&self) -> bool {
        self.deg.0.is_none()
    }
}

impl One for Height {
    fn one() -> Self {
        Height::constant(1, 1)
    }
}

impl Add for Height {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        if self.is_zero() {
            return rhs;
        }
        if rhs.is_zero() {
            return self;
        }
        if let (Some((a, b)), Some((c, d))) = (self.konst, rhs.konst) {
            let (a, b, c, d) = (a as i128, b as i128, c as i128, d as i128);
            return Height::constant(a * d + c * b, b * d);
        }
        let mut den = self.den;
        for (x, y) in den.iter_mut().zip(rhs.den) {
            *x = (*x).max(y);
        }
        Height::general(self.deg + rhs.deg, self.l1.add(rhs.l1), den, up(self.den_other + rhs.den_other))
    }
}

impl<'a> Add<&'a Height> for Height {
    type Output = Self;
    fn add(self, rhs: &'a Self) -> Self {
        self + *rhs
    }
}

impl Sub for Height {
    type Output = Self;
    #[allow(clippy::suspicious_arithmetic_impl)] // f - g = f + (-g)
    fn sub(self, rhs: Self) -> Self {
        self + (-rhs)
    }
}

impl Neg for Height {
    type Output = Self;
    fn neg(mut self) -> Self {
        self.konst = self.konst.map(|(a, b)| (-a, b));
        self
    }
}

impl Mul for Height {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        if self.is_zero() || rhs.is_zero() {
            return Height::zero();
        }
        if let (Some((a, b)), Some((c, d))) = (self.konst, rhs.konst) {
            return Height::constant(a as i128 * c as i128, b as i128 * d as i128);
        }
        let mut den = self.den;
        for (x, y) in den.iter_mut().zip(rhs.den) {
            *x = x.saturating_add(y);
        }
        Height::general(self.deg * rhs.deg, self.l1.mul(rhs.l1), den, up(self.den_other + rhs.den_other))
    }
}

impl<'a> Mul<&'a Height> for Height {
    type Output = Self;
    fn mul(self, rhs: &'a Self) -> Self {
        self * *rhs
    }
}

impl Div for Height {
    type Output = Self;
    /// # Panics
    /// On division by the zero polynomial or by a non-constant.
    #[allow(clippy::suspicious_arithmetic_impl)] // f / (a/b) = f · (b/a)
    fn div(self, rhs: Self) -> Self {
        match (rhs.deg.0, rhs.konst) {
            (None, _) => panic!("Height: division by zero"),
            (Some(0), Some((a, b))) => self * Height::constant(b as i128, a as i128),
            (Some(0), None) => Height { l1: Mag::INF, konst: None, ..self },
            (Some(_), _) => panic!("Height: division by a non-constant is not a polynomial operation"),
        }
    }
}

impl PartialOrd for Height {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        (self.deg, self.l1.log2()).partial_cmp(&(other.deg, other.l1.log2()))
    }
}

impl Scalar for Height {
    const EXACT: bool = true;
    const NAME: &'static str = "height";
    /// The exact constant a finite `f64` is (a dyadic); `0.0` is the zero polynomial.
    fn from_f64(x: f64) -> Self {
        if x == 0.0 || !x.is_finite() {
            return Height::zero();
        }
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (mut m, mut e) = if biased == 0 { (frac, -1074) } else { (frac | (1u64 << 52), biased - 1075) };
        let tz = m.trailing_zeros().min(63) as i32;
        m >>= tz;
        e += tz;
        let sign = if bits >> 63 == 1 { -1i128 } else { 1 };
        if (-62..=10).contains(&e) {
            return if e >= 0 {
                Height::constant(sign * ((m as i128) << e), 1)
            } else {
                Height::constant(sign * m as i128, 1i128 << (-e))
            };
        }
        // Beyond i64: a bound (|x| exactly, denominator 2^-e).
        let mut den = [0u16; DEN_PRIMES.len()];
        den[0] = if e < 0 { (-e) as u16 } else { 0 };
        Height::general(Degree(Some(0)), Mag::of(x), den, 0.0)
    }
    fn to_f64(&self) -> f64 {
        self.log2_height()
    }
    fn from_ratio(num: i64, den: i64) -> Self {
        Height::constant(num as i128, den as i128)
    }
    fn abs_val(&self) -> Self {
        *self
    }
}

/// The bound of a computed difference `TF − REF`, entry by entry: the largest degree and the
/// largest `log₂ H` over the entries whose difference is not exactly zero.
pub fn difference_bound(tf: &[Height], rf: &[Height]) -> (u32, f64) {
    assert_eq!(tf.len(), rf.len(), "difference_bound: the two sides have different lengths");
    tf.iter().zip(rf).map(|(a, b)| *a - *b).filter(|d| !d.is_zero()).fold((0, f64::NEG_INFINITY), |(g, h), d| {
        (
            g.max(d.degree().unwrap_or(0)),
            if d.log2_height() > h || d.log2_height().is_nan() { d.log2_height() } else { h },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(x: &Height) -> f64 {
        x.log2_height()
    }

    #[test]
    fn rules_on_small_polynomials() {
        let x = Height::var();
        // (x + 1)^3 = x³ + 3x² + 3x + 1: ℓ1 = 8, bound (1+1)^3 = 8 exactly.
        let p = (x + Height::one()) * (x + Height::one()) * (x + Height::one());
        assert_eq!(p.degree(), Some(3));
        assert!((h(&p) - 3.0).abs() < 1e-6, "{}", h(&p));
        // x/3 + x/5: integer after × 15, coefficient 8/15 · 15 = 8 ≤ H = 15 (1/3 + 1/5) = 8.
        let q = x / Height::from_ratio(3, 1) + x / Height::from_ratio(5, 1);
        assert!(h(&q) >= 3.0 - 1e-9 && h(&q) < 3.0 + 1e-6, "{}", h(&q));
        // lcm, not product: x/4 + x/2 has denominator 4.
        let r = x * Height::from_ratio(1, 4) + x * Height::from_ratio(1, 2);
        assert!((h(&r) - (0.75f64 * 4.0).log2()).abs() < 1e-6);
        // Constants stay exact: 1/3 - 1/3 is the zero polynomial.
        assert!((Height::from_ratio(1, 3) - Height::from_ratio(1, 3)).is_zero());
        assert_eq!(Height::from_f64(0.375), Height::from_ratio(3, 8));
        assert_eq!(Height::from_f64(0.0), Height::zero());
        // Cancellation is not detected: an upper bound.
        assert_eq!((x - x).degree(), Some(1));
    }

    #[test]
    fn huge_heights_are_represented() {
        let mut p = Height::var() + Height::one();
        for _ in 0..12 {
            p = p * p; // (x+1)^4096: ℓ1 = 2^4096
        }
        assert!((h(&p) - 4096.0).abs() < 1e-3, "{}", h(&p));
        let n = Height::from_ratio(64, 1);
        let mut s = Height::var();
        for _ in 0..40 {
            s = s / n; // x / 64^40: ℓ1 = 2^-240, δ = 2^240 → H = 1
        }
        assert!(h(&s).abs() < 1e-6);
    }

    #[test]
    fn the_bound_covers_the_true_height_on_random_products() {
        use num_bigint::BigInt;
        use num_rational::BigRational;
        use rand::{Rng, SeedableRng};
        // Univariate polynomials as coefficient vectors over BigRational (the independent model).
        type P = Vec<BigRational>;
        let mul = |a: &P, b: &P| -> P {
            let mut c = vec![BigRational::zero(); a.len() + b.len() - 1];
            for (i, x) in a.iter().enumerate() {
                for (j, y) in b.iter().enumerate() {
                    c[i + j] += x * y;
                }
            }
            c
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for _ in 0..200 {
            let (mut model, mut bound): (P, Height) = (vec![BigRational::one()], Height::one());
            let mut den = BigInt::one(); // the product of the factors' denominators
            for _ in 0..rng.random_range(1..6) {
                let (a, b) = (rng.random_range(-9i64..=9), rng.random_range(1i64..=12));
                // factor (x · a/b + 1/b)
                let f = vec![
                    BigRational::new(BigInt::from(1), BigInt::from(b)),
                    BigRational::new(BigInt::from(a), BigInt::from(b)),
                ];
                model = mul(&model, &f);
                den *= BigInt::from(b);
                bound = bound * (Height::var() * Height::from_ratio(a, b) + Height::from_ratio(1, b));
            }
            let hmax = model
                .iter()
                .map(|c| num_traits::Signed::abs(&(c * BigRational::from_integer(den.clone()))))
                .max()
                .unwrap();
            let true_h =
                if hmax.is_zero() { f64::NEG_INFINITY } else { num_traits::ToPrimitive::to_f64(&hmax).unwrap().log2() };
            assert!(true_h <= h(&bound) + 1e-9, "true log2 H {true_h} > bound {}", h(&bound));
        }
    }
}
