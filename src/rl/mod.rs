//! The reference side: classical RL updates written directly from their definitions. Nothing
//! here builds a prompt or an attention layer.

pub mod actor_critic;
pub mod sarsa;
pub mod td;
pub mod softmax_td;
