//! Explicit weights (the papers' constructions) for the attention layers of `crate::attention`.

pub mod average_reward;
pub mod linear_td;
pub mod sarsa;
pub mod softmax;
