//! Training dynamics of the [LL] SARSA block (arXiv:2605.05755; `docs/theory/gradient-flow.md`):
//! the teacher-mimicking stream ([R] Algorithm 1), its loss and gradients on the full and the
//! reduced parametrization, gradient flow with an adaptive integrator, the Gauss–Newton
//! spectrum (Assumption 1, our [R] form), and the emergence experiments of [LL] and [WB]
//! (arXiv:2405.13861).
//!
//! - [`stream`]: training MDPs and frames, seeded per MDP.
//! - [`loss`]: full `D×D` loss/gradient (generic forward pass, the checked reference) and the
//!   reduced `(A, B) = (V̄21, P12)` form via Lemma C.1 (the fast path).
//! - [`flow`]: Dormand–Prince gradient flow, manifold distance, conservation law, `c∞`.
//! - [`softmax_grad`]: the [XZ] softmax stack's readout, its reverse-mode gradient and the
//!   semi-gradient TD update (shared by `report neu` and the softmax emergence experiment).
//! - [`train_softmax`]: the [XZ] softmax emergence experiment (`icrl train softmax-td`).
//! - [`spectrum`]: `G = E[JᵀJ]`, rank, kernel, `λ⁺_min`.

pub mod experiment;
pub mod flow;
pub mod loss;
pub mod softmax_grad;
pub mod spectrum;
pub mod stream;
pub mod train_sarsa;
pub mod train_softmax;
pub mod train_td;
