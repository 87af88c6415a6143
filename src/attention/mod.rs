//! The transformer side: prompts and attention layers. Nothing here calls the reference RL
//! updates of `crate::rl`; the theorems compare the two.

pub mod linear;
pub mod multi_head;
pub mod prompt;
pub mod softmax;
