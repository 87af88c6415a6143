//! Typed errors. Every input error names the offending field and index, so the CLI prints one
//! `error:` line and exits 2 (never a panic).

use std::fmt;

/// A malformed or invalid input: which field (a JSON-like path such as
/// `mdp.transitions[1][0]`) and what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct InputError {
    /// Path of the offending field, e.g. `trajectory.states[3]`.
    pub field: String,
    /// What is wrong, e.g. `state 7 out of range 0..4`.
    pub message: String,
}

impl InputError {
    /// An error at `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        InputError { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for InputError {}

/// Finite check that rejects NaN and ±∞, naming the field.
pub fn finite(field: impl FnOnce() -> String, x: f64) -> Result<f64, InputError> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(InputError::new(field(), format!("{x} is not a finite number")))
    }
}
