//! One scalar trait for every linear-attention computation, implemented for `f64` and for
//! `num_rational::BigRational` (exact).
//!
//! Linear-attention claims are polynomial identities in the prompt's entries, so the same generic
//! forward pass and the same generic reference update run in both arithmetics: `f64` for speed
//! and `BigRational` for exact equality (`docs/theory/README.md`, "Conventions"). Softmax code is `f64`
//! only. [`field::Fp`] adds the prime fields `F_p` (`p ≈ 2^62`) for Schwartz–Zippel
//! certificates at every shape, and [`degree::Degree`] the degree bound such a certificate needs.
//! [`errbound::ErrBound`] is `f64` with a rigorous bound on its distance to the exact value, the
//! tolerance of every linear-attention `f64` equality.

pub mod degree;
pub mod errbound;
pub mod field;
pub mod height;
pub mod modular;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// The bounds the linear-attention code needs, for `f64`, `BigRational` and `field::Fp`.
pub trait Scalar:
    Clone
    + Debug
    + PartialEq
    + PartialOrd
    + Send
    + Sync
    + Zero
    + One
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + for<'a> Add<&'a Self, Output = Self>
    + for<'a> Mul<&'a Self, Output = Self>
    + 'static
{
    /// `true` for exact arithmetic.
    const EXACT: bool;
    /// `"exact"` or `"f64"`, as printed by `verify` and `check`.
    const NAME: &'static str;
    /// The exact value of a finite `f64` (every finite `f64` is a dyadic rational).
    ///
    /// # Panics
    /// Never for finite input; callers validate finiteness first (non-finite input maps to 0 for
    /// `BigRational`, which validation has already excluded).
    fn from_f64(x: f64) -> Self;
    /// Nearest `f64` (rounded once).
    fn to_f64(&self) -> f64;
    /// `num / den`, `den != 0`.
    fn from_ratio(num: i64, den: i64) -> Self;
    /// `|self|`.
    fn abs_val(&self) -> Self;
    /// `self * self`.
    fn sq(&self) -> Self {
        self.clone() * self
    }
    /// The modulus `p` for a prime field `F_p`, `None` for `f64` and `BigRational` (added with
    /// [`field::Fp`]; the default keeps every other implementation unchanged).
    fn modulus() -> Option<u64> {
        None
    }
    /// `c = a · b` on row-major buffers (`a` is `m×k`, `b` is `k×n`, `c` is `m×n` and zero on
    /// entry): the one matrix product every `crate::linalg::Mat` uses. The default is the
    /// schoolbook loop, which skips zero left factors (the constructions are sparse); `f64`
    /// overrides it with `matrixmultiply` and four-accumulator dot products.
    fn gemm(m: usize, k: usize, n: usize, a: &[Self], b: &[Self], c: &mut [Self]) {
        for i in 0..m {
            for p in 0..k {
                let aip = &a[i * k + p];
                if aip.is_zero() {
                    continue;
                }
                for j in 0..n {
                    c[i * n + j].add_mul(aip, &b[p * n + j]);
                }
            }
        }
    }
    /// `xᵀy` over the common length of `x` and `y` (the one dot product `crate::linalg::dot`
    /// calls). The default is the `add_mul` loop in order; `modular::Fr` overrides it with lazy
    /// reduction (the same residue).
    fn dot(x: &[Self], y: &[Self]) -> Self {
        let mut s = Self::zero();
        for (a, b) in x.iter().zip(y) {
            s.add_mul(a, b);
        }
        s
    }
    /// `self += a * b` (the inner-loop operation; `f64` uses a fused path).
    fn add_mul(&mut self, a: &Self, b: &Self) {
        let t = a.clone() * b;
        *self = std::mem::replace(self, Self::zero()) + t;
    }
}

impl Scalar for f64 {
    const EXACT: bool = false;
    const NAME: &'static str = "f64";
    fn gemm(m: usize, k: usize, n: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
        if n == 1 {
            // Matrix-vector: row dot products with four accumulators (vectorizes).
            for (i, ci) in c.iter_mut().enumerate().take(m) {
                *ci = dot_f64(&a[i * k..(i + 1) * k], b);
            }
        } else if m > 0 && n > 0 && k > 0 {
            assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n, "f64::gemm: buffer too short");
            // SAFETY: the asserted lengths cover the m×k, k×n and m×n row-major buffers with the
            // strides given (row stride = number of columns, column stride = 1); `c` is a
            // distinct `&mut` borrow, so it does not alias `a` or `b`.
            unsafe {
                matrixmultiply::dgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr(),
                    k as isize,
                    1,
                    b.as_ptr(),
                    n as isize,
                    1,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                );
            }
        }
    }
    #[inline]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline]
    fn to_f64(&self) -> f64 {
        *self
    }
    #[inline]
    fn from_ratio(num: i64, den: i64) -> Self {
        num as f64 / den as f64
    }
    #[inline]
    fn abs_val(&self) -> Self {
        self.abs()
    }
    #[inline]
    fn add_mul(&mut self, a: &Self, b: &Self) {
        *self += a * b;
    }
}

impl Scalar for BigRational {
    const EXACT: bool = true;
    const NAME: &'static str = "exact";
    fn from_f64(x: f64) -> Self {
        BigRational::from_float(x).unwrap_or_else(BigRational::zero)
    }
    fn to_f64(&self) -> f64 {
        ToPrimitive::to_f64(self).unwrap_or_else(|| {
            // Very large numerators/denominators: divide in floating point after scaling.
            let n = self.numer().to_f64().unwrap_or(f64::NAN);
            let d = self.denom().to_f64().unwrap_or(f64::NAN);
            n / d
        })
    }
    fn from_ratio(num: i64, den: i64) -> Self {
        BigRational::new(BigInt::from(num), BigInt::from(den))
    }
    fn abs_val(&self) -> Self {
        self.abs()
    }
    /// `self + a·b` with a single reduction by [`reduce_fast`] (num-rational reduces after the
    /// product and again after the sum, each with a binary gcd that costs `O(bits²)` even when
    /// one side is a power of two — and our denominators are almost always `2^k · (small odd)`).
    fn add_mul(&mut self, a: &Self, b: &Self) {
        if a.is_zero() || b.is_zero() {
            return;
        }
        let pn = a.numer() * b.numer();
        let pd = a.denom() * b.denom();
        let (n, d) = if self.is_zero() {
            (pn, pd)
        } else if self.denom() == &pd {
            (self.numer() + pn, pd)
        } else {
            (self.numer() * &pd + pn * self.denom(), self.denom() * pd)
        };
        *self = reduce_fast(n, d);
    }
}

/// The reduced rational `n/d` (`d > 0`), the same canonical value `BigRational::new` returns.
/// Fast path: cancel the common power of two by trailing-zero counts, then the common odd factor
/// through a `u64` gcd when the odd part of `d` fits in 64 bits; otherwise `BigRational::new`.
pub fn reduce_fast(mut n: BigInt, mut d: BigInt) -> BigRational {
    use num_bigint::Sign;
    if n.is_zero() {
        return BigRational::zero();
    }
    debug_assert!(d.sign() == Sign::Plus);
    let tz = n.trailing_zeros().unwrap_or(0).min(d.trailing_zeros().unwrap_or(0));
    if tz > 0 {
        n >>= tz;
        d >>= tz;
    }
    let d_odd = &d >> d.trailing_zeros().unwrap_or(0);
    match d_odd.to_u64() {
        Some(m) => {
            if m > 1 {
                let r = (n.magnitude() % m).to_u64().unwrap_or(0);
                let g = gcd_u64(r, m);
                if g > 1 {
                    n /= g;
                    d /= g;
                }
            }
            BigRational::new_raw(n, d)
        }
        None => BigRational::new(n, d),
    }
}

fn gcd_u64(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// The finite grid the exact checks draw prompt entries from: `k / 2^GRID_SCALE_BITS` with
/// `k` uniform in `[-2^GRID_BITS, 2^GRID_BITS]`, i.e. `N = 2^(GRID_BITS+1) + 1` points in
/// `[-2^(GRID_BITS-GRID_SCALE_BITS), 2^(GRID_BITS-GRID_SCALE_BITS)]`, every one exactly an `f64`.
///
/// A linear-attention identity is a polynomial identity of degree `deg` in the prompt entries;
/// by the Schwartz–Zippel lemma a false one survives one uniform draw from `grid^m` with
/// probability at most `deg / N`, and `k` independent draws with probability `(deg / N)^k`.
pub mod grid {
    use rand::Rng;

    /// `k` ranges over `[-2^GRID_BITS, 2^GRID_BITS]`.
    pub const GRID_BITS: u32 = 40;
    /// Entries are `k / 2^GRID_SCALE_BITS`, so they lie in `[-1, 1]`.
    pub const GRID_SCALE_BITS: u32 = 40;

    /// Number of grid points, `2^(GRID_BITS+1) + 1`.
    pub fn size() -> f64 {
        2f64.powi(GRID_BITS as i32 + 1) + 1.0
    }

    /// One uniform grid point in `[-1, 1]`.
    pub fn draw<R: Rng + ?Sized>(rng: &mut R) -> f64 {
        let m = 1i64 << GRID_BITS;
        let k = rng.random_range(-m..=m);
        k as f64 / (1u64 << GRID_SCALE_BITS) as f64
    }

    /// `log10` of the Schwartz–Zippel bound `(deg/N)^k`.
    pub fn log10_bound(deg: u32, k: u64) -> f64 {
        k as f64 * ((deg as f64).log10() - size().log10())
    }
}

/// `xᵀy` in `f64` with four independent accumulators.
#[inline]
pub fn dot_f64(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let (mut s0, mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0, 0.0);
    let mut i = 0;
    while i + 4 <= n {
        s0 += x[i] * y[i];
        s1 += x[i + 1] * y[i + 1];
        s2 += x[i + 2] * y[i + 2];
        s3 += x[i + 3] * y[i + 3];
        i += 4;
    }
    while i < n {
        s0 += x[i] * y[i];
        i += 1;
    }
    (s0 + s1) + (s2 + s3)
}

/// An `f64` written as the string of its shortest round-trip decimal (`"2.5e-15"`, `"NaN"`,
/// `"inf"`), read back bit for bit: JSON numbers have no NaN or `∞`, and `serde_json` reads
/// numbers only to within an ulp by default.
pub mod exact_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Write `x`.
    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{x:?}"))
    }

    /// Read what [`serialize`] wrote.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let text = String::deserialize(d)?;
        text.parse::<f64>().map_err(|_| serde::de::Error::custom(format!("{text:?} is not a number")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_f64_is_exact_for_dyadics() {
        let x = 0.1f64; // not 1/10: its exact dyadic value
        let q = BigRational::from_f64(x);
        assert_eq!(Scalar::to_f64(&q), x);
        assert_ne!(q, BigRational::from_ratio(1, 10));
        assert_eq!(BigRational::from_f64(0.375), BigRational::from_ratio(3, 8));
    }

    #[test]
    fn reduce_fast_is_canonical() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..2000 {
            let n = BigInt::from(rng.random_range(-1_000_000i64..1_000_000)) << rng.random_range(0..80u32);
            let d = (BigInt::from(rng.random_range(1i64..1000)) * BigInt::from(rng.random_range(1i64..1000)))
                << rng.random_range(0..80u32);
            assert_eq!(reduce_fast(n.clone(), d.clone()), BigRational::new(n.clone(), d.clone()));
            let big: BigInt = d * (BigInt::from(u64::MAX) + BigInt::from(2)); // odd part beyond 64 bits: fallback
            assert_eq!(reduce_fast(n.clone(), big.clone()), BigRational::new(n, big));
        }
        let mut acc = BigRational::from_ratio(1, 3);
        acc.add_mul(&BigRational::from_ratio(3, 4), &BigRational::from_ratio(-4, 9));
        assert_eq!(acc, BigRational::zero());
    }

    #[test]
    fn grid_points_are_exact_f64() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..1000 {
            let x = grid::draw(&mut rng);
            assert!((-1.0..=1.0).contains(&x));
            let q = BigRational::from_f64(x);
            let scaled = q * BigRational::from_integer(BigInt::from(1u64 << grid::GRID_SCALE_BITS));
            assert!(scaled.is_integer());
        }
    }
}
