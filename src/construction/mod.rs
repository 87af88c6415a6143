//! Explicit weights (the papers' constructions) for the attention layers of `crate::attention`.
