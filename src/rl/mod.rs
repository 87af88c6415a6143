//! The reference side: classical RL updates written directly from their definitions. Nothing
//! here builds a prompt or an attention layer.

pub mod actor_critic;
pub mod average_reward;
pub mod pairing;
pub mod sarsa;
pub mod softmax_td;
pub mod td;
