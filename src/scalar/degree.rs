//! [`Degree`]: a [`Scalar`] that tracks an upper bound on the total degree of the polynomial a
//! generic computation builds, so the Schwartz–Zippel degree `deg` of a certificate can be
//! computed from the weights actually used instead of assumed (`proofs/README.md`, "Certificates
//! over a prime field").
//!
//! Run the same generic forward pass and reference on `Degree` values: free variables (prompt
//! entries, a free `α`, `C`, `λ`) are [`Degree::var`], constants are degree 0, and exact zeros
//! are the zero polynomial (`None`), so the zero-skipping products of `linalg` skip them as they
//! do in the other arithmetics. The rules `deg(f ± g) ≤ max`, `deg(fg) ≤ deg f + deg g`,
//! `deg(f / c) = deg f` for a constant `c` make the result an upper bound of the formal degree
//! of the computed polynomial (a sum that cancels is still counted: an upper bound, never an
//! underestimate). Dividing by a non-constant is not a polynomial operation and panics.
//!
//! Order and absolute value: `PartialOrd` compares bounds, `abs_val` is the identity, `to_f64` is
//! the bound (`-1` for the zero polynomial).

use super::Scalar;
use num_traits::{One, Zero};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// An upper bound on a polynomial's total degree; `Degree(None)` is the zero polynomial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Degree(pub Option<u32>);

impl Degree {
    /// A free variable (degree 1).
    pub const fn var() -> Self {
        Degree(Some(1))
    }
    /// The bound (`None` for the zero polynomial).
    pub fn bound(self) -> Option<u32> {
        self.0
    }
}

impl Zero for Degree {
    fn zero() -> Self {
        Degree(None)
    }
    fn is_zero(&self) -> bool {
        self.0.is_none()
    }
}

impl One for Degree {
    fn one() -> Self {
        Degree(Some(0))
    }
}

impl Add for Degree {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Degree(match (self.0, rhs.0) {
            (None, x) | (x, None) => x,
            (Some(a), Some(b)) => Some(a.max(b)),
        })
    }
}

impl<'a> Add<&'a Degree> for Degree {
    type Output = Self;
    fn add(self, rhs: &'a Self) -> Self {
        self + *rhs
    }
}

impl Sub for Degree {
    type Output = Self;
    #[allow(clippy::suspicious_arithmetic_impl)] // deg(f - g) has the bound of deg(f + g)
    fn sub(self, rhs: Self) -> Self {
        self + rhs
    }
}

impl Neg for Degree {
    type Output = Self;
    fn neg(self) -> Self {
        self
    }
}

impl Mul for Degree {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        Degree(match (self.0, rhs.0) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            _ => None,
        })
    }
}

impl<'a> Mul<&'a Degree> for Degree {
    type Output = Self;
    fn mul(self, rhs: &'a Self) -> Self {
        self * *rhs
    }
}

impl Div for Degree {
    type Output = Self;
    /// # Panics
    /// On division by the zero polynomial or by a non-constant.
    fn div(self, rhs: Self) -> Self {
        match rhs.0 {
            Some(0) => self,
            None => panic!("Degree: division by zero"),
            Some(_) => panic!("Degree: division by a non-constant is not a polynomial operation"),
        }
    }
}

impl Scalar for Degree {
    const EXACT: bool = true;
    const NAME: &'static str = "degree";
    /// A constant: degree 0, or the zero polynomial for `0.0`.
    fn from_f64(x: f64) -> Self {
        Degree(if x == 0.0 { None } else { Some(0) })
    }
    fn to_f64(&self) -> f64 {
        self.0.map_or(-1.0, f64::from)
    }
    /// A constant: degree 0, or the zero polynomial for `num = 0`.
    fn from_ratio(num: i64, _den: i64) -> Self {
        Degree(if num == 0 { None } else { Some(0) })
    }
    fn abs_val(&self) -> Self {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degree_rules() {
        let (x, c, z) = (Degree::var(), Degree::one(), Degree::zero());
        assert_eq!(x * x + c, Degree(Some(2)));
        assert_eq!(x * z, z);
        assert_eq!(x - x, x); // cancellation is not detected: an upper bound
        assert_eq!((x * x) / Degree::from_ratio(3, 7), Degree(Some(2)));
        assert_eq!(Degree::from_f64(0.0), z);
        assert_eq!(z.to_f64(), -1.0);
    }

    #[test]
    #[should_panic(expected = "non-constant")]
    fn division_by_a_variable_panics() {
        let _ = Degree::one() / Degree::var();
    }
}
