//! The relaxations of the theorems' assumptions: each builds the proptest strategy of instances
//! whose generator drops one assumption, measures the violation of the conclusion through the
//! theorem's own check body, and hands both to the generic engine in `crate::search`. They are
//! registered in the theorems' `Assumption` lists (`search`, `replay`).

pub mod linear_td;
pub mod qlearning;
pub mod sarsa;
pub mod softmax;
