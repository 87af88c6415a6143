//! Check hand-written weights through the library: the [LL] block `(cP⋆, c⁻¹V⋆)` for `d = 2`
//! written entry by entry (no `construction::` call), run through the generic forward pass on a
//! hand-written prompt, compared **exactly** (over rationals) with one batch SARSA step; then
//! the same weights through `icrl probe`'s library function.
//!
//!     cargo run --release --example check_weights
//!
//! Exit status 0 when the forward pass equals SARSA exactly, 1 otherwise.

use icrl_proofs::attention::linear::lsa_block_last_column;
use icrl_proofs::attention::prompt::{parameter_readout, sarsa_prompt};
use icrl_proofs::linalg::Mat;
use icrl_proofs::mdp::batch::TransitionBatch;
use icrl_proofs::probe::sarsa::{probe, PromptDist};
use icrl_proofs::rl::sarsa::batch_sarsa;
use icrl_proofs::scalar::Scalar;
use num_rational::BigRational;

type Q = BigRational;

fn q(n: i64, d: i64) -> Q {
    Q::from_ratio(n, d)
}

fn main() {
    // d = 2: tokens x_i = [φ_i (rows 0,1); γφ⁺_i (rows 2,3); r (row 4)], then the constant 1
    // (row 5) and w (rows 6,7): D = 3d + 2 = 8.
    let (c, alpha) = (q(-2, 1), q(1, 4));
    let mut p = Mat::<Q>::zeros(8, 8);
    // P12⋆ scaled by c: x_iᵀ P w̃ = c (r + γφ⁺ᵀw − φᵀw) = c δ_i
    p[(0, 6)] = -c.clone();
    p[(1, 7)] = -c.clone();
    p[(2, 6)] = c.clone();
    p[(3, 7)] = c.clone();
    p[(4, 5)] = c.clone();
    // V̄21⋆ scaled by 1/c: writes (α/c) φ_i into the w rows
    let mut v = Mat::<Q>::zeros(8, 8);
    v[(6, 0)] = alpha.clone() / c.clone();
    v[(7, 1)] = alpha.clone() / c.clone();

    // Three hand-written transitions.
    let batch = TransitionBatch {
        phi: vec![vec![q(1, 1), q(0, 1)], vec![q(1, 2), q(-1, 1)], vec![q(0, 1), q(3, 4)]],
        phi_next: vec![vec![q(1, 2), q(-1, 1)], vec![q(0, 1), q(3, 4)], vec![q(1, 1), q(1, 1)]],
        rewards: vec![q(1, 1), q(-1, 2), q(0, 1)],
        gamma: q(9, 10),
    };
    let w = vec![q(1, 10), q(-1, 5)];

    let h = sarsa_prompt(&batch, &w);
    let transformer = parameter_readout(&lsa_block_last_column(&h, &p, &v), 5);
    let reference = batch_sarsa(&batch, &w, &alpha);
    let show = |x: &[Q]| x.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(", ");
    println!("transformer w' = [{}]", show(&transformer));
    println!("batch SARSA w' = [{}]", show(&reference));
    let exact = transformer == reference;
    println!("exactly equal: {exact}");

    let r = probe(&p.to_f64(), &v.to_f64(), PromptDist::new(0));
    println!(
        "probe: c = {}, alpha = {}, manifold_distance = {:e}, sarsa_error = {:e}",
        r.c, r.alpha, r.manifold_distance, r.sarsa_error
    );
    // A one-entry change of the reward weight must break the equality (negative control).
    let mut p_bad = p.clone();
    p_bad[(4, 5)] = p_bad[(4, 5)].clone() + q(1, 256);
    let broken = parameter_readout(&lsa_block_last_column(&h, &p_bad, &v), 5) != reference;
    println!("one changed entry breaks it: {broken}");
    std::process::exit(if exact && broken { 0 } else { 1 });
}
