//! # icrl-proofs
//!
//! Executable checks of the theory of in-context reinforcement learning: transformer forward
//! passes that *are* classical RL updates.
//!
//! - [LL] H. Liang, L. Lai, *Transformers Provably Implement In-Context Reinforcement Learning
//!   with Policy Improvement*, arXiv:2605.05755 (2026).
//! - [XZ] Z. Xie et al., *Beyond Linear Attention: Softmax Transformers Implement In-Context
//!   Reinforcement Learning*, arXiv:2605.07333 (2026).
//! - [WB] J. Wang, E. Blaser, H. Daneshmand, S. Zhang, *Transformers Learn Temporal Difference
//!   Methods for In-Context Reinforcement Learning*, arXiv:2405.13861 (ICLR 2025).
//!
//! Layout: `mdp` (objects, generators, values) and `rl` (reference updates) form the reference
//! side; `attention` (prompts, layers) and `construction` (explicit weights) form the
//! transformer side. The two share only `mdp`, `scalar` and `linalg`. `theorem` pairs them up,
//! one file per theorem family, in a registry that the CLI reads.
#![warn(missing_docs)]
// NaN-safe checks read `!(x > 0.0)`, which rejects NaN where `x <= 0.0` would not (STYLE.md).
#![allow(clippy::neg_cmp_op_on_partial_ord)]
// Index loops mirror the papers' sums (`Σ_k δ_k φ_k`), several arrays indexed by one variable.
#![allow(clippy::needless_range_loop)]

pub mod assumption;
pub mod attention;
pub mod check;
pub mod cli;
pub mod construction;
pub mod dynamics;
pub mod error;
pub mod fsutil;
pub mod instance;
pub mod linalg;
pub mod mdp;
pub mod merge;
pub mod npz;
pub mod probe;
pub mod report;
pub mod rl;
pub mod rng;
pub mod scalar;
pub mod search;
pub mod theorem;
pub mod tolerance;
pub mod verify;
pub mod weights;
