//! [`ErrBound`]: a [`Scalar`] that carries, next to the `f64` value `x` a computation produces, a
//! rigorous bound `e ≥ |x − x̂|` on its distance to the exact real value `x̂` of the same
//! computation (running error analysis, Higham, *Accuracy and Stability of Numerical
//! Algorithms*, 2nd ed., §2.2 and §3.1–3.3). The `f64` equalities of the linear-attention checks
//! run both sides on it: where the theorem holds exactly, `x̂_T = x̂_R`, so
//! `|x_T − x_R| ≤ e_T + e_R` at any magnitude and depth; that sum is the tolerance.
//!
//! # The value is plain `f64`
//! `x` is computed by exactly the `f64` operations the plain `f64` instantiation of the same
//! generic code performs, in the same order — scalar `+ − × ÷` on `x` directly, matrix products
//! by calling `f64`'s `Scalar::gemm` on the values — so `x` is bit for bit the plain `f64`
//! result (`tests/all/errbound.rs` asserts it). Only the bound is extra.
//!
//! # The bound
//! IEEE-754 binary64, round to nearest, unit roundoff `u = 2^-53`, smallest subnormal
//! `η = 2^-1074`. For a computed `z = fl(a ∘ b)` of exactly representable `a, b`:
//! - `+`, `−`: `|z − (a ∘ b)| ≤ u|z|` (Higham eq. 2.5, `fl(s) = s/(1+δ)`); a sum that lands in
//!   the subnormal range is exact, so no absolute term.
//! - `×`, `÷`: `|z − (a ∘ b)| ≤ u|z|` if `|z| ≥ 2^-1022`, else `≤ η/2` (gradual underflow);
//!   we use `u|z|` resp. `η`.
//!
//! Inputs carry their own bounds, `|a − â| ≤ e_a`, `|b − b̂| ≤ e_b`, so (triangle inequality):
//! - `e_{a±b} = e_a + e_b + u|z|`;
//! - `e_{ab} = |a| e_b + e_a |b| + e_a e_b + rnd(z)`;
//! - `e_{a/b} = (e_a + |a/b| e_b) / (|b| − e_b) + rnd(z)` when `|b| > e_b`, else `∞`
//!   (from `â/b̂ − a/b = ((â − a) − (a/b)(b̂ − b)) / b̂` and `|b̂| ≥ |b| − e_b`).
//!
//! Matrix products use the a-priori bound of a dot product evaluated in *any* order, with or
//! without fused multiply-adds (Higham eq. 3.5 and Lemma 3.1: each product passes through at most
//! `k` roundings): `|fl(AB) − AB| ≤ γ_k |A||B| + kη` entrywise, `γ_k = ku/(1 − ku)`, plus the
//! propagated input error `E_A (|B| + E_B) + |A| E_B`. The nonnegative products `|A||B|`, … are
//! themselves computed in round-to-nearest `f64`; a computed nonnegative `k`-term dot product `s̃`
//! bounds the exact one by `s ≤ (s̃ + kη)/(1 − γ_k)`. An entry whose every product has an exact
//! zero factor is exactly zero (`e = 0`).
//!
//! **The bound's own arithmetic rounds upward.** Every operation on bounds (all nonnegative) is
//! rounded to nearest and then moved to the next `f64` above ([`up`]): for `s ≥ 0` the exact
//! value is at most `next_up(fl(s))` (round to nearest is within half an ulp, and the ulp above
//! is at least the ulp below). Lower bounds (`|b| − e_b`) move to the next `f64` below. Products
//! or sums with an exact zero operand are exact and are not moved. So every `e` is an upper bound
//! of the real-number quantity it stands for, including underflow, and `+∞` once it overflows.
//!
//! What the bound does not cover: a non-finite `x` (overflow; the checks refuse such input) and a
//! non-finite `e` (the comparison then counts as an overflow, never as a verdict).
//!
//! # `exp`, `sqrt` and `ln` ([`Transcendental`], the softmax families)
//! - `sqrt`: IEEE-754 requires a correctly rounded square root, so `|fl(√a) − √a| ≤ u·fl(√a)`
//!   (a positive square root is never subnormal). With an input bound `e_a`:
//!   `|√a − √â| = |a − â|/(√a + √â) ≤ e_a/√a ≤ e_a (1 + u)/fl(√a)`, and `≤ √e_a` at `a = 0`.
//! - `exp` — **an assumed error model of the platform `libm`, not verified in general**: IEEE-754
//!   does not require a correctly rounded `exp`, and Rust's `f64::exp` calls the platform's.
//!   We assume [`EXP_REL`]: `|fl(exp a) − e^a| ≤ 2^-51·fl(exp a)` for a normal result (two units
//!   in the last place; glibc ≥ 2.28 documents at most 1 ulp for `exp` on x86_64 and aarch64),
//!   `≤ 2η` for a subnormal or zero result, and `fl(exp 0) = 1` exactly (C Annex F).
//!   `tests/all/errbound.rs` checks the model against a rational enclosure of `e^a` (Taylor
//!   series with a rigorous remainder, squared back) on random arguments from `−745` to `700`;
//!   that is evidence for this machine's `libm`, not a proof for every one. With an input bound
//!   `e_a`: `e^â ∈ [e^{a−e_a}, e^{a+e_a}]`, so `|e^â − e^a| ≤ e^a (e^{e_a} − 1)`, with
//!   `e^a ≤ fl(exp a) + (its libm error)` and `e^t − 1 ≤ 2t` for `t ≤ 1/2` (else `≤ e^t`, from
//!   the same `libm` and the same model).
//! - `ln` (the one-hot threshold `β*` of `contraction-assumption-identities`) — **assumed too**:
//!   [`LN_REL`], `|fl(ln a) − ln a| ≤ 2^-51·|fl(ln a)|`, and `fl(ln 1) = 0` (C Annex F);
//!   `tests/all/softmax_errbound.rs` checks it against the same rational enclosure of `exp`
//!   (`e^{y−t} ≤ a ≤ e^{y+t}` for `y = fl(ln a)`, `t` the model's allowance). With an input bound
//!   `e_a`: `|ln a − ln â| ≤ e_a/(â − e_a)`.
//!
//! A softmax built on these (`crate::attention::softmax`, `crate::rl::softmax_td`) subtracts a
//! column maximum before `exp`; the maximum is taken on the values and subtracted as an
//! *exact* constant ([`Scalar::from_f64`]), which is legitimate because the softmax is invariant
//! under a common shift: the exact weights `e^{ĝ_i − m}/Σ_k e^{ĝ_k − m}` are `softmax(ĝ)` for
//! every real `m`, so each side's bound is on its distance to the exact `softmax` of the exact
//! scores, whatever shift it used.
//!
//! `PartialEq`/`PartialOrd` compare the values `x` only (what `f64`'s `==` would compare: the
//! "rows unchanged bit for bit" checks stay bitwise checks of the `f64` computation);
//! `Zero::is_zero` is an *exact* zero (`x = 0` and `e = 0`), so zero-skipping loops skip only
//! products that are exactly zero.

use super::Scalar;
use num_traits::{One, Zero};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// The assumed relative error of the platform `f64::exp` on a normal result: `2^-51 = 4u`
/// (module docs, "`exp` and `sqrt`"; an assumption about `libm`, tested, not proved).
pub const EXP_REL: f64 = 4.0 * U;

/// The assumed relative error of the platform `f64::ln`: `2^-51 = 4u` of the result (module
/// docs, "`exp` and `sqrt`"; like [`EXP_REL`] an assumption about `libm`, tested, not proved).
pub const LN_REL: f64 = 4.0 * U;

/// Unit roundoff `u = 2^-53`.
pub const U: f64 = f64::EPSILON / 2.0;
/// Smallest positive subnormal `η = 2^-1074`.
pub const ETA: f64 = 5e-324;

/// An `f64` value `x` and a rigorous bound `e ≥ |x − x̂|` on its distance to the exact value.
#[derive(Clone, Copy, Debug, Default)]
pub struct ErrBound {
    /// The computed `f64` value (bit for bit the plain `f64` computation).
    pub x: f64,
    /// `|x − x̂| ≤ e`.
    pub e: f64,
}

impl ErrBound {
    /// An exactly known value (`e = 0`).
    pub const fn exact(x: f64) -> Self {
        ErrBound { x, e: 0.0 }
    }
}

/// The next `f64` above `v ≥ 0` (`η` for `0`; `∞` and NaN unchanged): an upper bound of every
/// real number that rounds to nearest to `v`.
#[inline]
pub fn up(v: f64) -> f64 {
    if v.is_nan() || v == f64::INFINITY {
        v
    } else if v == 0.0 {
        ETA // `0.0` and `-0.0`
    } else if v < 0.0 {
        -f64::from_bits((-v).to_bits() - 1) // not used for bounds (nonnegative); kept monotone
    } else {
        f64::from_bits(v.to_bits() + 1)
    }
}

/// The next `f64` below `v > 0` (`0` for `v ≤ 0` or NaN): a lower bound of every real number
/// that rounds to nearest to `v`, floored at 0.
#[inline]
pub fn down_pos(v: f64) -> f64 {
    if !(v > 0.0) {
        0.0
    } else if v == f64::INFINITY {
        f64::MAX
    } else {
        f64::from_bits(v.to_bits() - 1)
    }
}

/// Upper bound of `a + b`, `a, b ≥ 0`.
#[inline]
pub fn add_up(a: f64, b: f64) -> f64 {
    if a == 0.0 {
        b
    } else if b == 0.0 {
        a
    } else {
        up(a + b)
    }
}

/// Upper bound of `a · b`, `a, b ≥ 0`.
#[inline]
pub fn mul_up(a: f64, b: f64) -> f64 {
    if a == 0.0 || b == 0.0 {
        0.0
    } else {
        up(a * b)
    }
}

/// Upper bound of `a / b`, `a ≥ 0`, `b > 0`.
#[inline]
fn div_up(a: f64, b: f64) -> f64 {
    if a == 0.0 {
        0.0
    } else {
        up(a / b)
    }
}

/// Rounding error of a sum or difference whose computed result is `z`: `u|z|`.
#[inline]
fn rnd_add(z: f64) -> f64 {
    mul_up(U, z.abs())
}

/// Rounding error of a product or quotient of two nonzero operands with computed result `z`:
/// `u|z|` in the normal range, `η/2 ≤ η` below it.
#[inline]
fn rnd_mul(z: f64) -> f64 {
    let a = z.abs();
    if a >= f64::MIN_POSITIVE {
        mul_up(U, a)
    } else {
        ETA
    }
}

/// `γ_k = ku/(1 − ku)` rounded up, and `1/(1 − γ_k)` rounded up (`∞` if `ku ≥ 1/2`).
pub fn gamma_factors(k: usize) -> (f64, f64) {
    let ku = k as f64 * U; // exact: a power-of-two scaling of an integer below 2^53
    if !(ku < 0.5) {
        return (f64::INFINITY, f64::INFINITY);
    }
    let g = up(ku / (1.0 - ku)); // 1 - ku is exact in [1/2, 1]
    let one_minus_g = down_pos(1.0 - g);
    (g, if one_minus_g > 0.0 { up(1.0 / one_minus_g) } else { f64::INFINITY })
}

impl PartialEq for ErrBound {
    fn eq(&self, other: &Self) -> bool {
        self.x == other.x
    }
}

impl PartialOrd for ErrBound {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.x.partial_cmp(&other.x)
    }
}

impl Zero for ErrBound {
    fn zero() -> Self {
        ErrBound::exact(0.0)
    }
    fn is_zero(&self) -> bool {
        self.x == 0.0 && self.e == 0.0
    }
}

impl One for ErrBound {
    fn one() -> Self {
        ErrBound::exact(1.0)
    }
}

impl Add for ErrBound {
    type Output = Self;
    #[inline]
    fn add(self, rhs: Self) -> Self {
        let x = self.x + rhs.x;
        ErrBound { x, e: add_up(add_up(self.e, rhs.e), rnd_add(x)) }
    }
}

impl<'a> Add<&'a ErrBound> for ErrBound {
    type Output = Self;
    #[inline]
    fn add(self, rhs: &'a Self) -> Self {
        self + *rhs
    }
}

impl Sub for ErrBound {
    type Output = Self;
    #[inline]
    fn sub(self, rhs: Self) -> Self {
        let x = self.x - rhs.x;
        ErrBound { x, e: add_up(add_up(self.e, rhs.e), rnd_add(x)) }
    }
}

impl Neg for ErrBound {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        ErrBound { x: -self.x, e: self.e }
    }
}

impl Mul for ErrBound {
    type Output = Self;
    #[inline]
    fn mul(self, rhs: Self) -> Self {
        let x = self.x * rhs.x;
        let (a, b) = (self.x.abs(), rhs.x.abs());
        let prop = add_up(add_up(mul_up(a, rhs.e), mul_up(self.e, b)), mul_up(self.e, rhs.e));
        let rnd = if self.x == 0.0 || rhs.x == 0.0 { 0.0 } else { rnd_mul(x) };
        ErrBound { x, e: add_up(prop, rnd) }
    }
}

impl<'a> Mul<&'a ErrBound> for ErrBound {
    type Output = Self;
    #[inline]
    fn mul(self, rhs: &'a Self) -> Self {
        self * *rhs
    }
}

impl Div for ErrBound {
    type Output = Self;
    fn div(self, rhs: Self) -> Self {
        let x = self.x / rhs.x;
        let b = rhs.x.abs();
        let prop = if rhs.e == 0.0 {
            if b > 0.0 {
                div_up(self.e, b)
            } else {
                f64::INFINITY
            }
        } else {
            let den = down_pos(b - rhs.e);
            if den > 0.0 {
                let q = if self.x == 0.0 { 0.0 } else { up(self.x.abs() / b) };
                div_up(add_up(self.e, mul_up(q, rhs.e)), den)
            } else {
                f64::INFINITY
            }
        };
        let rnd = if self.x == 0.0 { 0.0 } else { rnd_mul(x) };
        ErrBound { x, e: add_up(prop, rnd) }
    }
}

impl Scalar for ErrBound {
    const EXACT: bool = false;
    const NAME: &'static str = "f64";
    /// `x`: `f64`'s product on the values (bit for bit the plain `f64` product). `e`: the
    /// any-order bound of the module docs, `γ_k S₁ + S₂ + S₃ + kη` with
    /// `S₁ ≥ |A||B|`, `S₂ ≥ E_A(|B| + E_B)`, `S₃ ≥ |A| E_B`.
    fn gemm(m: usize, k: usize, n: usize, a: &[Self], b: &[Self], c: &mut [Self]) {
        let prod = |x: &[f64], y: &[f64]| {
            let mut out = vec![0.0; m * n];
            <f64 as Scalar>::gemm(m, k, n, x, y, &mut out);
            out
        };
        let map = |v: &[ErrBound], f: fn(&ErrBound) -> f64| v.iter().map(f).collect::<Vec<f64>>();
        let x = prod(&map(a, |v| v.x), &map(b, |v| v.x));
        if m == 0 || n == 0 || k == 0 {
            for (ci, xi) in c.iter_mut().zip(&x) {
                *ci = ErrBound::exact(*xi);
            }
            return;
        }
        let abs_a = map(a, |v| v.x.abs());
        let abs_b = map(b, |v| v.x.abs());
        let s1 = prod(&abs_a, &abs_b);
        let has_ea = a.iter().any(|v| v.e != 0.0);
        let has_eb = b.iter().any(|v| v.e != 0.0);
        let s2 = has_ea.then(|| prod(&map(a, |v| v.e), &map(b, |v| add_up(v.x.abs(), v.e))));
        let s3 = has_eb.then(|| prod(&abs_a, &map(b, |v| v.e)));
        let (g, inv) = gamma_factors(k);
        let k_eta = k as f64 * ETA; // exact: k ≤ 2^52
                                    // The exact nonnegative dot product behind a computed one: `(s̃ + kη)/(1 − γ_k)`.
        let exact_up = |s: f64| mul_up(up(s + k_eta), inv);
        for i in 0..m {
            for j in 0..n {
                let ij = i * n + j;
                let t1 = s1[ij];
                let t2 = s2.as_ref().map_or(0.0, |s| s[ij]);
                let t3 = s3.as_ref().map_or(0.0, |s| s[ij]);
                c[ij] = if t1 == 0.0
                    && t2 == 0.0
                    && t3 == 0.0
                    && (0..k).all(|p| a[i * k + p].is_zero() || b[p * n + j].is_zero())
                {
                    ErrBound::exact(x[ij])
                } else {
                    let rounding = add_up(mul_up(g, exact_up(t1)), k_eta);
                    let prop = add_up(if has_ea { exact_up(t2) } else { 0.0 }, if has_eb { exact_up(t3) } else { 0.0 });
                    ErrBound { x: x[ij], e: add_up(rounding, prop) }
                };
            }
        }
    }
    /// An exact input: the exact computation starts from the same dyadic rational.
    fn from_f64(x: f64) -> Self {
        ErrBound::exact(x)
    }
    fn to_f64(&self) -> f64 {
        self.x
    }
    /// `num as f64 / den as f64`, as `f64` computes it, with the bound of the conversions and the
    /// division (exact for `den = ±2^j` and `|num| ≤ 2^53`).
    fn from_ratio(num: i64, den: i64) -> Self {
        let conv = |v: i64| {
            let f = v as f64;
            ErrBound { x: f, e: if v.unsigned_abs() <= 1 << 53 { 0.0 } else { rnd_add(f) } }
        };
        let (a, b) = (conv(num), conv(den));
        if a.e == 0.0 && b.e == 0.0 && den.unsigned_abs().is_power_of_two() {
            return ErrBound::exact(a.x / b.x); // |num/den| ≥ 2^-63: no underflow, exact
        }
        a / b
    }
    fn abs_val(&self) -> Self {
        ErrBound { x: self.x.abs(), e: self.e }
    }
}

/// A [`Scalar`] with `exp` and `sqrt`: the softmax forward pass and the weighted softmax TD
/// reference are generic over it, so the same code runs in plain `f64` (the fast path) and on
/// [`ErrBound`] (the rigorous tolerance), whose values are bit for bit the `f64` ones.
pub trait Transcendental: Scalar + Copy {
    /// `e^self`.
    fn exp_val(&self) -> Self;
    /// `√self` (`self ≥ 0`).
    fn sqrt_val(&self) -> Self;
    /// `ln self` (`self > 0`).
    fn ln_val(&self) -> Self;
    /// The smaller of two values (`f64::min`; on [`ErrBound`] the smaller value with the larger
    /// of the two bounds, since `|min(a, b) − min(â, b̂)| ≤ max(|a − â|, |b − b̂|)`, and a NaN
    /// value or bound propagated rather than dropped, as in [`Transcendental::max_val`]).
    fn min_val(self, other: Self) -> Self;
    /// The larger of two values (`f64::max`; on [`ErrBound`] the larger value with the larger of
    /// the two bounds, since `|max(a, b) − max(â, b̂)| ≤ max(|a − â|, |b − b̂|)`, and a NaN value
    /// or bound propagated rather than dropped, so that a rigorous verdict cannot pass over it).
    fn max_val(self, other: Self) -> Self;
    /// `self += a · b`, the inner-loop operation of the softmax code: the value is that of
    /// [`Scalar::add_mul`] (for `f64`, `*self += a * b`); [`ErrBound`] bounds it in one fused
    /// step ([`ErrBound::acc_mul_bound`]) instead of a product and a sum.
    #[inline]
    fn acc_mul(&mut self, a: &Self, b: &Self) {
        self.add_mul(a, b);
    }
}

impl ErrBound {
    /// The bound of `s + fl(a·b)` rounded once more (`x = fl(s + fl(ab))`, as `f64` computes
    /// `s += a * b`), in one step. With `p = fl(ab)`, the exact `ŝ + âb̂` is within
    /// `T = e_s + |a|e_b + e_a|b| + e_a e_b + u|p| + η/2 + u|x|` of `x` (the product's rounding,
    /// `u|p|` or `η/2` in underflow, and the sum's `u|x|`, exact when subnormal). `T` is evaluated
    /// in round to nearest (`T̃`: five products, each within relative `u` or absolute `η/2`, and
    /// six sums of nonnegative terms, each within relative `u`), so `T ≤ (T̃ + 4η)(1 + 8u)`; the
    /// returned `up(fl(fl(T̃ (1 + 16u)) + 8η))` is at least that (`fl(T̃(1+16u)) ≥ T̃(1+8u) − η/2`).
    /// With an exactly zero factor the product is exact and the bound is `e_s`.
    #[inline]
    pub fn acc_mul_bound(s: &ErrBound, a: &ErrBound, b: &ErrBound, p: f64, x: f64) -> f64 {
        if a.is_zero() || b.is_zero() {
            return s.e;
        }
        let (aa, ab) = (a.x.abs(), b.x.abs());
        let t = s.e + aa * b.e + a.e * ab + a.e * b.e + U * p.abs() + U * x.abs();
        up(t * (1.0 + 16.0 * U) + 8.0 * ETA)
    }
}

impl Transcendental for f64 {
    #[inline]
    fn exp_val(&self) -> Self {
        self.exp()
    }
    #[inline]
    fn sqrt_val(&self) -> Self {
        self.sqrt()
    }
    #[inline]
    fn ln_val(&self) -> Self {
        self.ln()
    }
    #[inline]
    fn min_val(self, other: Self) -> Self {
        self.min(other)
    }
    #[inline]
    fn max_val(self, other: Self) -> Self {
        self.max(other)
    }
}

/// The larger of `a` and `b`, or a NaN if either is one (`f64::max` drops a NaN, and a rigorous
/// verdict must not pass over one, in a value or in its bound).
#[inline]
fn larger_keeping_nan(a: f64, b: f64) -> f64 {
    if b > a || b.is_nan() {
        b
    } else {
        a
    }
}

/// Upper bound of `e^t − 1` for `t ≥ 0`: `2t` for `t ≤ 1/2` (`(e^t − 1)/t ≤ 2(e^{1/2} − 1) < 1.3`
/// there), else `e^t` through `libm` inflated by the [`EXP_REL`] model.
fn expm1_up(t: f64) -> f64 {
    if t == 0.0 {
        0.0
    } else if t <= 0.5 {
        mul_up(2.0, t)
    } else {
        let x = t.exp();
        mul_up(x, up(1.0 + 2.0 * EXP_REL))
    }
}

impl Transcendental for ErrBound {
    /// `x` exactly as `f64`'s `*self += a * b`; `e` by [`ErrBound::acc_mul_bound`].
    #[inline]
    fn acc_mul(&mut self, a: &Self, b: &Self) {
        let p = a.x * b.x;
        let x = self.x + p;
        let e = ErrBound::acc_mul_bound(self, a, b, p, x);
        *self = ErrBound { x, e };
    }
    /// `x = f64::exp(x_a)`; `e` from the assumed `libm` model and the input bound (module docs).
    fn exp_val(&self) -> Self {
        let x = self.x.exp();
        if !x.is_finite() {
            return ErrBound { x, e: f64::INFINITY };
        }
        if self.x == 0.0 && self.e == 0.0 {
            return ErrBound::exact(x); // exp(±0) = 1 exactly
        }
        let lib = if x >= f64::MIN_POSITIVE { mul_up(EXP_REL, x) } else { 2.0 * ETA };
        let prop = if self.e == 0.0 { 0.0 } else { mul_up(add_up(x, lib), expm1_up(self.e)) };
        ErrBound { x, e: add_up(lib, prop) }
    }
    /// `x = f64::sqrt(x_a)` (correctly rounded by IEEE-754); `e` as in the module docs.
    fn sqrt_val(&self) -> Self {
        let x = self.x.sqrt();
        if !x.is_finite() || self.x < 0.0 {
            return ErrBound { x, e: f64::INFINITY };
        }
        let rnd = if x == 0.0 { 0.0 } else { mul_up(U, x) };
        let prop = if self.e == 0.0 {
            0.0
        } else if x == 0.0 {
            up(up(self.e.sqrt()) * up(1.0 + 2.0 * U))
        } else {
            div_up(mul_up(self.e, up(1.0 + U)), x)
        };
        ErrBound { x, e: add_up(rnd, prop) }
    }
    fn min_val(self, other: Self) -> Self {
        let e = larger_keeping_nan(self.e, other.e);
        ErrBound { x: if other.x < self.x || other.x.is_nan() { other.x } else { self.x }, e }
    }
    fn max_val(self, other: Self) -> Self {
        let e = larger_keeping_nan(self.e, other.e);
        ErrBound { x: larger_keeping_nan(self.x, other.x), e }
    }
    /// `x = f64::ln(x_a)`; `e` from the assumed `libm` model [`LN_REL`] (`fl(ln 1) = 0` exactly)
    /// and the input bound: `|ln a − ln â| ≤ e_a / (â − e_a)` by the mean value theorem, for
    /// `â − e_a > 0` (else `e = ∞`: the enclosure reaches 0).
    fn ln_val(&self) -> Self {
        let x = self.x.ln();
        let lower = down_pos(self.x - self.e); // below x_a − e_a (rounded down; 0 when ≤ 0)
        if !x.is_finite() || !(lower > 0.0) {
            return ErrBound { x, e: f64::INFINITY };
        }
        let lib = if self.x == 1.0 { 0.0 } else { mul_up(LN_REL, x.abs()) };
        let prop = div_up(self.e, lower);
        ErrBound { x, e: add_up(lib, prop) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::Mat;
    use num_rational::BigRational;
    use rand::{Rng, SeedableRng};

    fn q(x: f64) -> BigRational {
        <BigRational as Scalar>::from_f64(x)
    }

    /// `|x − exact| ≤ e`, decided in exact rational arithmetic.
    fn covers(v: ErrBound, exact: &BigRational) -> bool {
        if !v.x.is_finite() || !v.e.is_finite() {
            return true; // nothing claimed
        }
        let d = q(v.x) - exact;
        let d = if d < BigRational::zero() { -d } else { d };
        d <= q(v.e)
    }

    fn draw(rng: &mut rand_chacha::ChaCha8Rng) -> f64 {
        let m: f64 = rng.random_range(-1.0..1.0);
        let p = match rng.random_range(0..6) {
            0 => rng.random_range(-1074..-1000), // subnormal range
            1 => rng.random_range(900..1000),
            _ => rng.random_range(-40..40),
        };
        if rng.random_bool(0.05) {
            0.0
        } else {
            m * 2f64.powi(p)
        }
    }

    #[test]
    fn every_operation_is_covered_exactly() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..4000 {
            // A random expression tree of depth 6 over random leaves.
            let mut vals: Vec<(ErrBound, BigRational)> = (0..4)
                .map(|_| {
                    let x = draw(&mut rng);
                    (ErrBound::exact(x), q(x))
                })
                .collect();
            for _ in 0..6 {
                let (i, j) = (rng.random_range(0..vals.len()), rng.random_range(0..vals.len()));
                let ((a, qa), (b, qb)) = (vals[i].clone(), vals[j].clone());
                let r = match rng.random_range(0..5) {
                    0 => (a + b, qa + qb),
                    1 => (a - b, qa - qb),
                    2 => (a * b, qa * qb),
                    3 if qb != BigRational::zero() => (a / b, qa / qb),
                    _ => (-a, -qa),
                };
                if !r.0.x.is_finite() || !r.0.e.is_finite() {
                    break;
                }
                assert!(covers(r.0, &r.1), "not covered: {:?} vs {}", r.0, r.1);
                vals.push(r);
            }
        }
    }

    #[test]
    fn min_and_max_are_covered_and_keep_a_nan() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for _ in 0..4000 {
            // Two bounded values with their exact rationals (a product and a quotient each).
            let mut pair = || {
                let (x, y) = (draw(&mut rng), draw(&mut rng));
                let (a, qa) = (ErrBound::exact(x) * ErrBound::exact(y), q(x) * q(y));
                if qa.is_zero() || !(a.x.is_finite() && a.e.is_finite()) {
                    return None;
                }
                let w = draw(&mut rng);
                if w == 0.0 {
                    return None;
                }
                Some((a / ErrBound::exact(w), qa / q(w))).filter(|(b, _)| b.x.is_finite() && b.e.is_finite())
            };
            let (Some((a, qa)), Some((b, qb))) = (pair(), pair()) else { continue };
            let (hi, lo) = if qa > qb { (qa.clone(), qb.clone()) } else { (qb.clone(), qa.clone()) };
            assert!(covers(a.max_val(b), &hi), "max not covered: {a:?} {b:?}");
            assert!(covers(a.min_val(b), &lo), "min not covered: {a:?} {b:?}");
            assert_eq!(a.max_val(b).x, a.x.max(b.x), "the value is f64's");
            assert_eq!(a.min_val(b).x, a.x.min(b.x), "the value is f64's");
        }
        // A NaN on either side is kept (f64::max and f64::min would drop it and a verdict could
        // pass over it), in the value and in the bound.
        let (one, nan) = (ErrBound::exact(1.0), ErrBound::exact(f64::NAN));
        assert!(one.max_val(nan).x.is_nan() && nan.max_val(one).x.is_nan());
        assert!(one.min_val(nan).x.is_nan() && nan.min_val(one).x.is_nan());
        let nan_e = ErrBound { x: 1.0, e: f64::NAN };
        for v in [one.max_val(nan_e), nan_e.max_val(one), one.min_val(nan_e), nan_e.min_val(one)] {
            assert!(v.e.is_nan(), "a NaN bound was dropped: {v:?}");
        }
    }

    #[test]
    fn fused_acc_mul_is_covered_and_plain() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for t in 0..20000 {
            let (s, a, b) = (draw(&mut rng), draw(&mut rng), draw(&mut rng));
            let err = |rng: &mut rand_chacha::ChaCha8Rng, x: f64| match t % 3 {
                0 => 0.0,
                1 => x.abs() * 1e-12,
                _ => rng.random_range(0.0..1.0) * 2f64.powi(rng.random_range(-1074..-1000)),
            };
            let (es, ea, eb) = (err(&mut rng, s), err(&mut rng, a), err(&mut rng, b));
            let mut v = ErrBound { x: s, e: es };
            v.acc_mul(&ErrBound { x: a, e: ea }, &ErrBound { x: b, e: eb });
            let mut f = s;
            f += a * b;
            assert_eq!(v.x.to_bits(), f.to_bits());
            if !v.x.is_finite() || !v.e.is_finite() {
                continue;
            }
            // Every corner of the input boxes.
            for (ds, da, db) in [(1, 1, 1), (-1, 1, -1), (1, -1, 1), (-1, -1, -1), (0, 1, -1)] {
                let sh = q(s) + q(es) * BigRational::from_integer(ds.into());
                let ah = q(a) + q(ea) * BigRational::from_integer(da.into());
                let bh = q(b) + q(eb) * BigRational::from_integer(db.into());
                assert!(covers(v, &(sh + ah * bh)), "fused not covered: {s:e} + {a:e}*{b:e}");
            }
        }
    }

    #[test]
    fn values_are_plain_f64() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for _ in 0..1000 {
            let (a, b) = (draw(&mut rng), draw(&mut rng));
            let (ea, eb) = (ErrBound::exact(a), ErrBound::exact(b));
            assert_eq!((ea + eb).x.to_bits(), (a + b).to_bits());
            assert_eq!((ea * eb).x.to_bits(), (a * b).to_bits());
            assert_eq!((ea - eb).x.to_bits(), (a - b).to_bits());
            if b != 0.0 {
                assert_eq!((ea / eb).x.to_bits(), (a / b).to_bits());
            }
            let mut s = ea;
            s.add_mul(&eb, &ea);
            let mut t = a;
            t.add_mul(&b, &a);
            assert_eq!(s.x.to_bits(), t.to_bits());
        }
        assert_eq!(ErrBound::from_ratio(1, 3).x, 1.0 / 3.0);
        assert_eq!(ErrBound::from_ratio(5, 1).e, 0.0);
        assert_eq!(ErrBound::from_ratio(1, 256).e, 0.0);
        assert!(ErrBound::from_ratio(1, 3).e > 0.0);
    }

    #[test]
    fn gemm_is_covered_and_plain() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        for t in 0..200 {
            let (m, k, n) = (rng.random_range(1..5), rng.random_range(1..9), rng.random_range(1..5));
            let scale = 2f64.powi(rng.random_range(-60..60));
            let ent = |rng: &mut rand_chacha::ChaCha8Rng| {
                if rng.random_bool(0.3) {
                    ErrBound::exact(0.0)
                } else {
                    let x = rng.random_range(-1.0..1.0) * scale;
                    // Half the cases carry an input error (the exact value is then x itself,
                    // any value within e is allowed; we test the exact value x + e/2).
                    ErrBound { x, e: if t % 2 == 0 { 0.0 } else { x.abs() * 1e-10 } }
                }
            };
            let a = Mat::from_fn(m, k, |_, _| ent(&mut rng));
            let b = Mat::from_fn(k, n, |_, _| ent(&mut rng));
            let c = a.matmul(&b);
            assert_eq!(c.values(), a.values().matmul(&b.values()));
            // Exact product of the exact inputs x + e/2 (a point inside each input's bound).
            let ex = |v: &ErrBound| q(v.x) + q(v.e) / BigRational::from_integer(2.into());
            let ae = a.map(ex);
            let be = b.map(ex);
            let ce = ae.matmul(&be);
            for i in 0..m {
                for j in 0..n {
                    assert!(covers(c[(i, j)], &ce[(i, j)]), "gemm entry not covered");
                }
            }
        }
    }

    #[test]
    fn exact_zeros_stay_exact() {
        let z = ErrBound::zero();
        let v = ErrBound { x: 3.0, e: 1e-10 };
        assert!((z * v).is_zero());
        assert!((z + z).is_zero());
        let a = Mat::from_fn(2, 2, |i, _| if i == 0 { z } else { v });
        let c = a.matmul(&Mat::from_fn(2, 1, |_, _| v));
        assert!(c[(0, 0)].is_zero());
        assert!(c[(1, 0)].e > 0.0);
        assert_eq!(up(0.0), ETA);
        assert_eq!(up(1.0), 1.0 + f64::EPSILON);
        assert_eq!(up(f64::MAX), f64::INFINITY);
    }

    #[test]
    fn division_by_an_uncertain_zero_is_unbounded() {
        let b = ErrBound { x: 1e-20, e: 1e-20 };
        assert_eq!((ErrBound::one() / b).e, f64::INFINITY);
    }
}
