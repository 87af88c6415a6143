//! Explicit weights (the papers' constructions) for the attention layers of `crate::attention`.
pub mod softmax;
