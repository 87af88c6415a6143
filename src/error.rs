//! Typed errors. Every input error names the offending field and index, so the CLI prints one
//! `error:` line and exits 2 (never a panic).

use std::fmt;

/// Exit status: every claim holds.
pub const EXIT_OK: i32 = 0;
/// Exit status: a claim failed.
pub const EXIT_FAIL: i32 = 1;
/// Exit status: usage or input error.
pub const EXIT_USAGE: i32 = 2;

/// A malformed or invalid input: which field (a JSON-like path such as
/// `mdp.transitions[1][0]`) and what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct InputError {
    /// Path of the offending field, e.g. `trajectory.states[3]`.
    pub field: String,
    /// What is wrong, e.g. `state 7 out of range 0..4`.
    pub message: String,
    /// For JSON Lines input: the 1-based line of the offending instance.
    pub line: Option<usize>,
}

impl InputError {
    /// An error at `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        InputError { field: field.into(), message: message.into(), line: None }
    }
    /// The same error, located on input line `line` (JSON Lines).
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
    /// `{"error": {"field": …, "message": …}}` (plus `"line"` for JSON Lines), what
    /// `--json` prints for an input error.
    pub fn to_json(&self) -> serde_json::Value {
        let mut e = serde_json::json!({"field": self.field, "message": self.message});
        if let Some(l) = self.line {
            e["line"] = serde_json::json!(l);
        }
        serde_json::json!({ "error": e })
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = self.line {
            write!(f, "line {l}: ")?;
        }
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
