//! Every reference algorithm against a case computed by hand (issue 13, item 7), in exact
//! rationals where the algorithm is generic and in `f64` on dyadic values (exact there) where it
//! is not. The other tests compare the reference with the transformer; these pin the reference
//! to its definition, so a mutation that changes both sides' agreement target (a wrong sign in
//! the Q-learning target, `α·n` for `α/n`, `Cᵀ` for `C`) fails here.
//!
//! The shared batch (`d = 2`, `n = 2`, `γ = 1/2`, `w = (1, 2)`):
//! `φ_0 = (1, 0)`, `φ⁺_0 = (0, 2)`, `r_0 = 1`; `φ_1 = (1, 1)`, `φ⁺_1 = (2, 0)`, `r_1 = −1`.
//! Then `wᵀφ⁺ = (4, 2)`, `wᵀφ = (1, 3)` and `δ = (1 + 2 − 1, −1 + 1 − 3) = (2, −3)`.

use icrl_proofs::linalg::Mat;
use icrl_proofs::mdp::batch::TransitionBatch;
use icrl_proofs::mdp::features::Features;
use icrl_proofs::mdp::policy::TabularPolicy;
use icrl_proofs::mdp::rollout::Trajectory;
use icrl_proofs::mdp::values;
use icrl_proofs::mdp::{Mdp, Mrp};
use icrl_proofs::rl::actor_critic::batch_actor_critic;
use icrl_proofs::rl::average_reward::{average_reward_td_step, differential_td_errors, running_average};
use icrl_proofs::rl::pairing;
use icrl_proofs::rl::sarsa::{batch_q_learning, batch_sarsa, batch_sarsa_into, batch_sarsa_steps, td_errors};
use icrl_proofs::rl::td::{td_errors as td0_errors, td_iterates, td_step, TdVariant};
use icrl_proofs::scalar::Scalar;
use num_rational::BigRational;

fn q(n: i64, d: i64) -> BigRational {
    BigRational::from_ratio(n, d)
}

fn qv(v: &[(i64, i64)]) -> Vec<BigRational> {
    v.iter().map(|&(n, d)| q(n, d)).collect()
}

fn batch() -> TransitionBatch<BigRational> {
    TransitionBatch {
        phi: vec![qv(&[(1, 1), (0, 1)]), qv(&[(1, 1), (1, 1)])],
        phi_next: vec![qv(&[(0, 1), (2, 1)]), qv(&[(2, 1), (0, 1)])],
        rewards: qv(&[(1, 1), (-1, 1)]),
        gamma: q(1, 2),
    }
}

fn w() -> Vec<BigRational> {
    qv(&[(1, 1), (2, 1)])
}

/// `C = [[1, 1], [0, 2]]`: not symmetric, so `C` and `Cᵀ` give different steps.
fn c() -> Mat<BigRational> {
    Mat::from_vec(2, 2, qv(&[(1, 1), (1, 1), (0, 1), (2, 1)]))
}

/// SARSA with `α = 3`: `w' = w + (3/2)(2φ_0 − 3φ_1) = (1, 2) + (3/2)(−1, −3) = (−1/2, −5/2)`.
/// Second step: `wᵀφ⁺ = (−5, −1)`, `wᵀφ = (−1/2, −3)`, `δ = (1 − 5/2 + 1/2, −1 − 1/2 + 3) =
/// (−1, 3/2)`, `w'' = w' + (3/2)(−1·(1,0) + (3/2)(1,1)) = (−1/2, −5/2) + (3/4, 9/4) = (1/4, −1/4)`.
#[test]
fn sarsa_by_hand() {
    let b = batch();
    let alpha = q(3, 1);
    assert_eq!(td_errors(&b, &w()), qv(&[(2, 1), (-3, 1)]));
    assert_eq!(batch_sarsa(&b, &w(), &alpha), qv(&[(-1, 2), (-5, 2)]));
    assert_eq!(batch_sarsa_steps(&b, &w(), &alpha, 2), qv(&[(1, 4), (-1, 4)]));
    assert_eq!(batch_sarsa_steps(&b, &w(), &alpha, 0), w());
    // The reusing variant ignores what its buffer held.
    let mut out = qv(&[(7, 1), (7, 1), (7, 1)]);
    batch_sarsa_into(&b, &w(), &alpha, &mut out);
    assert_eq!(out, qv(&[(-1, 2), (-5, 2)]));
}

/// Q-learning, `α = 3`, in `f64` (dyadic values, exact). Transition 0's options give
/// `wᵀφ(s_1, ·) = (4, 1, −3)`: max 4 (the recorded one), `δ_0 = 2`. Transition 1's give
/// `(2, 3)`: max 3, not the recorded 2, so `δ_1 = −1 + 3/2 − 3 = −5/2` where SARSA has `−3`.
/// `w' = (1, 2) + (3/2)(2·(1,0) − (5/2)(1,1)) = (1, 2) + (3/2)(−1/2, −5/2) = (1/4, −7/4)`.
#[test]
fn q_learning_by_hand() {
    let b: TransitionBatch<f64> = batch().convert();
    let next = vec![vec![vec![0.0, 2.0], vec![1.0, 0.0], vec![1.0, -2.0]], vec![vec![2.0, 0.0], vec![1.0, 1.0]]];
    assert_eq!(batch_q_learning(&b, &next, &[1.0, 2.0], 3.0), vec![0.25, -1.75]);
    // With the recorded next pair as the only option it is SARSA: (−1/2, −5/2).
    let recorded = vec![vec![vec![0.0, 2.0]], vec![vec![2.0, 0.0]]];
    assert_eq!(batch_q_learning(&b, &recorded, &[1.0, 2.0], 3.0), vec![-0.5, -2.5]);
}

/// Batch TD with `C = [[1,1],[0,2]]`, `δ = (2, −3)` (`φ'` = the `φ⁺` above):
/// - TD(0): `g = 2φ_0 − 3φ_1 = (−1, −3)`, `Cg = (−4, −6)`, `w' = w + Cg/2 = (−1, −1)`;
/// - TD(λ = 1/2): `e_0 = (1, 0)`, `e_1 = e_0/2 + φ_1 = (3/2, 1)`, `g = 2e_0 − 3e_1 = (−5/2, −3)`,
///   `Cg = (−11/2, −6)`, `w' = (1 − 11/4, 2 − 3) = (−7/4, −1)`;
/// - residual gradient: `φ − γφ' = (1, −1), (0, 1)`, `g = (2, −5)`, `Cg = (−3, −10)`,
///   `w' = (−1/2, −3)`.
#[test]
fn td_variants_by_hand() {
    let b = batch();
    assert_eq!(td0_errors(&b, &w()), qv(&[(2, 1), (-3, 1)]));
    assert_eq!(td_step(&b, &w(), &c(), &TdVariant::Td0), qv(&[(-1, 1), (-1, 1)]));
    assert_eq!(td_step(&b, &w(), &c(), &TdVariant::TdLambda(q(1, 2))), qv(&[(-7, 4), (-1, 1)]));
    assert_eq!(td_step(&b, &w(), &c(), &TdVariant::ResidualGradient), qv(&[(-1, 2), (-3, 1)]));
}

/// Two TD(0) layers from `w_0 = 0` with `C_1 = [[1,1],[0,2]]`, `C_2 = I`: `δ(0) = r = (1, −1)`,
/// `g = φ_0 − φ_1 = (0, −1)`, `w_1 = C_1 g / 2 = (−1/2, −1)`; then `wᵀφ⁺ = (−2, −1)`,
/// `wᵀφ = (−1/2, −3/2)`, `δ = (1 − 1 + 1/2, −1 − 1/2 + 3/2) = (1/2, 0)`, `w_2 = w_1 + (1/4, 0)`.
#[test]
fn td_iterates_by_hand() {
    let ws = td_iterates(&batch(), &[c(), Mat::identity(2)], &TdVariant::Td0);
    assert_eq!(ws, vec![qv(&[(-1, 2), (-1, 1)]), qv(&[(-1, 4), (-1, 1)])]);
}

/// Actor-critic, `α = 3`, `β = 1/2`, `λ = (0, 1)`, scores `ψ_0 = (1, −1)`, `ψ_1 = (0, 2)`:
/// the critic is the SARSA step `(−1/2, −5/2)`; the actor
/// `λ' = λ + (1/4)(2ψ_0 − 3ψ_1) = (0, 1) + (1/4)(2, −8) = (1/2, −1)`.
#[test]
fn actor_critic_by_hand() {
    let scores = vec![qv(&[(1, 1), (-1, 1)]), qv(&[(0, 1), (2, 1)])];
    let (w2, l2) = batch_actor_critic(&batch(), &scores, &w(), &qv(&[(0, 1), (1, 1)]), &q(3, 1), &q(1, 2));
    assert_eq!(w2, qv(&[(-1, 2), (-5, 2)]));
    assert_eq!(l2, qv(&[(1, 2), (-1, 1)]));
}

/// Average-reward TD (γ not read), rewards `(1, −1)`: `r̄ = (1, 0)`, so `r − r̄ = (0, −1)` and
/// `δ = (0 + 4 − 1, −1 + 2 − 3) = (3, −2)`; `g = 3φ_0 − 2φ_1 = (1, −2)`, `Cg = (−1, −4)`,
/// `w' = (1 − 1/2, 2 − 2) = (1/2, 0)`.
#[test]
fn average_reward_by_hand() {
    let b = batch();
    assert_eq!(running_average(&qv(&[(1, 1), (-1, 1), (6, 1)])), qv(&[(1, 1), (0, 1), (2, 1)]));
    assert_eq!(differential_td_errors(&b, &w()), qv(&[(3, 1), (-2, 1)]));
    assert_eq!(average_reward_td_step(&b, &w(), &c()), qv(&[(1, 2), (0, 1)]));
}

/// Three states, two actions, `φ(s, a) = (10s + a, −a)`; trajectory `s = (0, 2, 1)`,
/// `a = (1, 0, 1)`, `r = (5, −2)`. Transition `i` is `(φ(s_i,a_i), φ(s_{i+1},a_{i+1}), r_{i+1})`:
/// `φ = ((1, −1), (20, 0))`, `φ⁺ = ((20, 0), (11, −1))`.
#[test]
fn pairing_by_hand() {
    let mut data = Vec::new();
    for s in 0..3 {
        for a in 0..2 {
            data.extend_from_slice(&[(10 * s + a) as f64, -(a as f64)]);
        }
    }
    let f = Features::from_flat(3, 2, 2, data).unwrap();
    let traj = Trajectory { states: vec![0, 2, 1], actions: vec![1, 0, 1], rewards: vec![5.0, -2.0] };
    assert_eq!(pairing::next_pair(&traj, 0), (2, 0));
    assert_eq!(pairing::next_pair(&traj, 1), (1, 1));
    let want = TransitionBatch {
        phi: vec![vec![1.0, -1.0], vec![20.0, 0.0]],
        phi_next: vec![vec![20.0, 0.0], vec![11.0, -1.0]],
        rewards: vec![5.0, -2.0],
        gamma: 0.5,
    };
    assert_eq!(pairing::transitions::<f64>(&f, &traj, 0.5, pairing::next_pair), want);
    assert_eq!(TransitionBatch::<f64>::from_trajectory(&f, &traj, 0.5), want);
    // Reusing a larger buffer leaves exactly the new batch.
    let mut b = TransitionBatch {
        phi: vec![vec![9.0; 2]; 4],
        phi_next: vec![vec![9.0; 3]; 4],
        rewards: vec![9.0; 4],
        gamma: 0.9,
    };
    pairing::transitions_into(&f, &traj, 0.5, pairing::next_pair, &mut b);
    assert_eq!(b, want);
    let mut b2 = b.clone();
    b2.phi.truncate(1);
    b2.fill_from_trajectory(&f, &traj, 0.5);
    assert_eq!(b2, want);
    assert_eq!((want.len(), want.dim(), want.is_empty()), (2, 2, false));
    let empty = TransitionBatch::<f64> { phi: vec![], phi_next: vec![], rewards: vec![], gamma: 0.5 };
    assert_eq!((empty.len(), empty.dim(), empty.is_empty()), (0, 0, true));
    let exact: TransitionBatch<BigRational> = want.convert();
    assert_eq!(exact.phi_next[1], qv(&[(11, 1), (-1, 1)]));
    assert_eq!((exact.rewards.clone(), exact.gamma.clone()), (qv(&[(5, 1), (-2, 1)]), q(1, 2)));
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

/// `P = [[1/2, 1/2], [0, 1]]`, `r = (1, 2)`, `γ = 1/2`: `v_1 = 2 + v_1/2 = 4`,
/// `v_0 = 1 + (v_0 + 4)/4`, so `v_0 = 8/3`. Stationary law of `[[1/2, 1/2], [1/4, 3/4]]`:
/// `μ_0/2 = μ_1/4`, so `μ = (1/3, 2/3)`. (LU in `f64`: a few ulps.)
#[test]
fn mrp_values_by_hand() {
    let mrp = Mrp::new(0.5, vec![0.5, 0.5, 0.0, 1.0], vec![1.0, 2.0], vec![1.0, 0.0]).unwrap();
    assert!(close(&values::mrp_value(&mrp), &[8.0 / 3.0, 4.0], 1e-14));
    let m2 = Mrp::new(0.5, vec![0.5, 0.5, 0.25, 0.75], vec![0.0, 0.0], vec![0.5, 0.5]).unwrap();
    assert!(close(&values::stationary(&m2).unwrap(), &[1.0 / 3.0, 2.0 / 3.0], 1e-15));
    // Two recurrent classes: no unique stationary law.
    let m3 = Mrp::new(0.5, vec![1.0, 0.0, 0.0, 1.0], vec![0.0, 0.0], vec![0.5, 0.5]).unwrap();
    assert!(values::stationary(&m3).is_none());
}

/// One state, two self-looping actions with rewards 1 and 2, `γ = 1/2`: `q(a) = r(a) + v/2`.
/// Uniform policy: `v = 3/2 + v/2 = 3`, `q = (5/2, 7/2)`; optimal: `v* = 2 + v*/2 = 4`,
/// `q* = (3, 4)`; the returns are `v(s_0)`. Deterministic action 0: `v = 2`.
#[test]
fn mdp_values_by_hand() {
    let mdp = Mdp::from_flat(1, 2, 0.5, vec![1.0, 1.0], vec![1.0, 2.0], vec![1.0]).unwrap();
    let uni = TabularPolicy::uniform(1, 2);
    assert!(close(&values::v_pi(&mdp, &uni), &[3.0], 1e-14));
    assert!(close(&values::q_pi(&mdp, &uni), &[2.5, 3.5], 1e-14));
    assert_eq!(values::q_from_v(&mdp, &[3.0]), vec![2.5, 3.5]);
    let (v, qs) = values::optimal_values(&mdp);
    let vi = (0.5 / (1.0 - 0.5)) * values::VI_TOL; // ‖v − v*‖ ≤ γ/(1−γ) · VI_TOL
    assert!(close(&v, &[4.0], vi) && close(&qs, &[3.0, 4.0], vi));
    assert!((values::expected_return(&mdp, &uni) - 3.0).abs() < 1e-14);
    assert!((values::optimal_return(&mdp) - 4.0).abs() <= vi);
    let first = TabularPolicy::deterministic(2, &[0]);
    assert!((values::expected_return(&mdp, &first) - 2.0).abs() < 1e-14);
}

/// The closest point of the scaling manifold by the test's own search: a grid over
/// `c ∈ ±(1/400 … 10)` of the distance itself, then 200 golden-section steps on the best cell.
fn direct_manifold_minimum(d: usize, th: &[f64], star: &[f64]) -> (f64, f64) {
    use icrl_proofs::dynamics::loss::split;
    let g = |c: f64| -> f64 {
        let (a, b) = split(d, th);
        let (a_s, b_s) = split(d, star);
        let ea: f64 = a.iter().zip(a_s).map(|(x, y)| (x - y / c).powi(2)).sum();
        let eb: f64 = b.iter().zip(b_s).map(|(x, y)| (x - y * c).powi(2)).sum();
        (ea + eb).sqrt()
    };
    let grid: Vec<f64> = (1..4000).flat_map(|k| [k as f64 / 400.0, -(k as f64) / 400.0]).collect();
    let c0 = grid.iter().cloned().fold(grid[0], |m, c| if g(c) < g(m) { c } else { m });
    let c = golden_section_min(g, c0 - 1.0 / 400.0, c0 + 1.0 / 400.0);
    (c, g(c))
}

/// The minimizer of `g` on `[lo, hi]`, where `g` is unimodal, by 200 golden-section steps.
fn golden_section_min(g: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let (mut lo, mut hi) = (lo, hi);
    let r = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..200 {
        let (x1, x2) = (hi - r * (hi - lo), lo + r * (hi - lo));
        if g(x1) < g(x2) {
            hi = x2;
        } else {
            lo = x1;
        }
    }
    (lo + hi) / 2.0
}

/// `θ` (or `θ⋆`) at `d = 1` with one nonzero entry in each block: `a` first in `A`, `b` first in
/// `B`. `manifold_distance` reads only inner products, so such a pair is the scalar problem
/// `min_c (a − a⋆/c)² + (b − c b⋆)²` of the cases below.
fn one_entry_each(a: f64, b: f64) -> Vec<f64> {
    use icrl_proofs::dynamics::loss::{n_params, split};
    let d = 1;
    let na = d * (2 * d + 1);
    let mut th = vec![0.0; n_params(d)];
    (th[0], th[na]) = (a, b);
    assert_eq!(split(d, &th).0.len(), na);
    th
}

/// The scaling-manifold distance `min_c ‖(A − A⋆/c, B − cB⋆)‖` against the test's own minimizer
/// (a dense scan of `c`, then golden-section refinement of the directly computed distance). On
/// the manifold it is `(c0, 0)`; off it (a perturbation that moves the optimum away from both
/// of the function's closed-form starts) the Newton refinement must land on the same `c`.
#[test]
fn manifold_distance_by_direct_minimization() {
    use icrl_proofs::dynamics::flow::manifold_distance;
    use icrl_proofs::dynamics::loss::{split, theta_star};
    let d = 1;
    let star = theta_star(d, 0.5, 1.0);
    let na = split(d, &star).0.len();
    let on: Vec<f64> = star.iter().enumerate().map(|(i, &x)| if i < na { x / 2.0 } else { 2.0 * x }).collect();
    let (c, dist) = manifold_distance(d, &on, &star);
    assert!((c - 2.0).abs() < 1e-12 && dist < 1e-12, "on the manifold: c {c}, distance {dist}");
    let off: Vec<f64> = on.iter().enumerate().map(|(i, &x)| x + 0.3 * ((i * 7 % 5) as f64 - 2.0)).collect();
    let (c_true, dist_true) = direct_manifold_minimum(d, &off, &star);
    let (c, dist) = manifold_distance(d, &off, &star);
    // The minimum is flat to second order: a c error ε moves g by O(ε²), so c is compared at
    // 1e-6 and the distance at 1e-12 (both far above the rounding of these few terms).
    assert!((c - c_true).abs() < 1e-6 * c_true.abs(), "c {c} against {c_true}");
    assert!((dist - dist_true).abs() < 1e-12 * dist_true.max(1.0), "distance {dist} against {dist_true}");
}

/// (Written against the routine replaced at stop 28, Newton from two closed-form starts and a
/// scan of `10^{±4}`; the exact routine must give the same minima, and does.)
/// Cases where the ranking of the starts and the Newton stage decide the answer, found by
/// a search over one `A` and one `B` entry against a model of the routine. Each was checked by
/// hand against a mutant of `manifold_distance` (the first two are the mutation campaign's
/// survivors at stop 18):
/// - `A = 9/8, B = 7/8`: the minimum is at `c ≈ 0.884` (distance ≈ 0.0109). An objective with
///   `2c‖B⋆‖²` for `c²‖B⋆‖²` (`(c + c) * bsbs`) ranks the far negative starts first and keeps
///   `c = −10⁴`.
/// - `A = 1.138, B = −1.14`: the minimum at `c ≈ −1.72` is reached from a start about 12 % away;
///   Newton with a wrong curvature (the sign of the `⟨A, A⋆⟩/c³` term flipped) moves by damped
///   steps and stops short in 100 iterations, 0.13 % off in the distance.
/// - `A = 1/8, B = 3`: the global minimum is at `c ≈ 3.02` (distance ≈ 0.207), a local one at
///   `c < 0` (distance ≈ 4.01); an objective with `‖A⋆‖²/(2c)` for `‖A⋆‖²/c²` keeps the
///   negative one.
/// - `A = 2, B = −1/8` with `B⋆ = 2`: the minimum is at `c ≈ 0.425` (distance ≈ 1.037); the
///   stop-20 campaign's mutant `c·c·‖B⋆‖²` → `(c/c)·‖B⋆‖²` (the objective's last term made
///   constant, which lived through the cases above) ranks the negative starts first and ends
///   at `c ≈ −0.937` (distance ≈ 3.53).
/// - `A = −7/2, B = −17/4` with `B⋆ = 4`: the minimum is at `c ≈ −0.868` (distance ≈ 2.47); the
///   stop-24 campaign's mutant `2‖B⋆‖²` → `2 + ‖B⋆‖²` in the curvature (equivalent at
///   `‖B⋆‖² = 2`, and only a damped Newton step near it, so it lived through the cases above)
///   overshoots into the other basin and ends at `c ≈ −6.35` (distance ≈ 21.4), found with a
///   Python model of the routine over a grid of `A`, `B` and `B⋆`.
/// - `A = −3/4, B = 1/2` with `B⋆ = 7/4`: the minimum is at `c ≈ −0.592` (distance ≈ 1.800);
///   the stop-25 campaign's mutant that scans whole decades (`10^{k/10}` → `10^{k mod 10}`)
///   starts Newton elsewhere and ends at `c ≈ 0.946` (distance ≈ 2.145), found with a model of
///   the routine in Rust over a grid of quarters.
/// - `A = −1, B = 3/4` with `B⋆ = 3/2`: the minimum is at `c ≈ −0.566` (distance ≈ 1.773); a
///   scan of `10^{10k}` (`/` → `*`, the same campaign), which keeps `c = ±1` and points far
///   away, starts Newton in the other basin and ends at `c ≈ 1.141` (distance ≈ 2.108), found
///   the same way.
/// - `A = 3, B = 5/4` with `B⋆ = 15/4`: on the manifold, at `c = 1/3` (`A⋆/c = 3`,
///   `cB⋆ = 5/4`: distance 0); the stop-27 campaign's mutant of the objective
///   `‖A⋆‖²/c² + ‖B‖²` → `‖A⋆‖²/c² · ‖B‖²` (precedence makes it one term), which weighs that term
///   by `‖B‖² = 25/16` (and is the original up to a constant wherever `‖B‖² = 1`, as in most
///   cases above), ranks another run first and keeps `c ≈ 0.631` (distance ≈ 1.80), found with
///   a Python model of the routine over a grid of quarters (a scratch program, not kept).
///
/// `θ⋆` has one entry 1 in `A` and one (1, 2, 4, 7/4, 3/2 or 15/4) in `B` (the routine only reads
/// the inner products).
#[test]
fn manifold_distance_where_newton_decides() {
    use icrl_proofs::dynamics::flow::manifold_distance;
    let d = 1;
    for (a, b, b_star) in [
        (1.125, 0.875, 1.0),
        (1.138, -1.14, 1.0),
        (0.125, 3.0, 1.0),
        (2.0, -0.125, 2.0),
        (-3.5, -4.25, 4.0),
        (-0.75, 0.5, 1.75),
        (-1.0, 0.75, 1.5),
        (3.0, 1.25, 3.75),
    ] {
        let (th, star) = (one_entry_each(a, b), one_entry_each(1.0, b_star));
        let (c_true, dist_true) = direct_manifold_minimum(d, &th, &star);
        let (c, dist) = manifold_distance(d, &th, &star);
        assert!((c - c_true).abs() < 1e-6 * c_true.abs(), "A {a}, B {b}: c {c} against {c_true}");
        assert!(
            (dist - dist_true).abs() < 1e-12 * dist_true.max(1.0),
            "A {a}, B {b}: distance {dist} against {dist_true}"
        );
    }
}

/// (Written against the routine replaced at stop 28, Newton from two closed-form starts and a
/// scan of `10^{±4}`; the exact routine must give the same minima, and does.)
/// Minima beyond the scan, one for each closed-form start. The distance is
/// `g(c) = ((A − A⋆/c)² + (B − cB⋆)²)^{1/2}` (one entry each):
/// - `A = A⋆ = 1`, `B = 2`, `B⋆ = 10⁻⁶`: at the `B`-fit `c = ⟨B, B⋆⟩/‖B⋆‖² = 2·10⁶`,
///   `g = 1 − 5·10⁻⁷`, while every `c` outside `[10⁶, 3·10⁶]` has `(2 − 10⁻⁶c)² ≥ 1` or (for
///   `c < 0`) `(1 − 1/c)² > 1`, so the global minimum lies in that bracket;
/// - the mirror image `A = 2`, `A⋆ = 10⁻⁶`, `B = B⋆ = 1`: at the `A`-fit
///   `c = ‖A⋆‖²/⟨A, A⋆⟩ = 5·10⁻⁷`, `g = 1 − 5·10⁻⁷`, and outside `[10⁻⁶/3, 10⁻⁶]`
///   `(2 − 10⁻⁶/c)² ≥ 1`.
///
/// Both lie far beyond the scan's `10⁻⁴ ≤ |c| ≤ 10⁴`, where the curvature is negative and Newton
/// stops, so only the closed-form start reaches the minimum: the stop-25 campaign's mutants that
/// drop the `B`-fit start (`‖B⋆‖² > 0` → `== 0` or `< 0`, `⟨B, B⋆⟩ ≠ 0` → `== 0`, `/` → `%`) or
/// the `A`-fit start (`⟨A, A⋆⟩ ≠ 0` → `== 0`) end near the other fit at distance ≈ 2.
#[test]
fn manifold_distance_beyond_the_scan() {
    use icrl_proofs::dynamics::flow::manifold_distance;
    let d = 1;
    for (a, a_star, b, b_star, fit, (lo, hi)) in
        [(1.0, 1.0, 2.0, 1e-6, 2e6, (1e6, 3e6)), (2.0, 1e-6, 1.0, 1.0, 5e-7, (1e-6 / 3.0, 1e-6))]
    {
        let (th, star) = (one_entry_each(a, b), one_entry_each(a_star, b_star));
        let g = |c: f64| ((a - a_star / c).powi(2) + (b - b_star * c).powi(2)).sqrt();
        // g is unimodal on the bracket (one term a convex parabola in c or in 1/c, the other
        // nearly flat there): golden-section search.
        let c_true = golden_section_min(g, lo, hi);
        assert!(g(c_true) <= g(fit) && g(fit) < 1.0, "A {a}: the bracket misses the minimum");
        let (c, dist) = manifold_distance(d, &th, &star);
        // As above: c at 1e-6 relative (the minimum is flat to second order), the distance at 1e-12.
        assert!((c - c_true).abs() < 1e-6 * c_true, "A {a}, B {b}: c {c} against {c_true}");
        assert!((dist - g(c_true)).abs() < 1e-12, "A {a}, B {b}: distance {dist} against {}", g(c_true));
    }
}

/// The distance of `θ = 0` (a zero initialization) in closed form: with `A = B = 0` the squared
/// distance is `‖A⋆‖²/c² + c²‖B⋆‖² ≥ 2‖A⋆‖‖B⋆‖` (AM–GM), with equality at `c² = ‖A⋆‖/‖B⋆‖`. With
/// `‖A⋆‖ = 1`, `‖B⋆‖ = 2`: `|c| = 2^{−1/2}` and distance `2`. Here neither closed-form start exists
/// (`⟨A, A⋆⟩ = ⟨B, B⋆⟩ = 0`) and only the scan of `c` reaches the minimum (the stop-25 campaign's
/// mutant scanning only `c = ±10⁴`, `-40..=40` → `40..=40`, lived through the cases above, where a
/// closed-form start rescued it). The objective is even in `c` here, so `|c|` is compared.
#[test]
fn manifold_distance_at_the_origin() {
    use icrl_proofs::dynamics::flow::manifold_distance;
    let (c, dist) = manifold_distance(1, &one_entry_each(0.0, 0.0), &one_entry_each(1.0, 2.0));
    // Newton ends within rounding of the minimizer; the distance, flat there, within a few ulp.
    assert!((c.abs() - 0.5f64.sqrt()).abs() < 1e-12, "|c| = {}", c.abs());
    assert!((dist - 2.0).abs() < 1e-12, "distance {dist}");
}

/// (Written against the routine replaced at stop 28, Newton from two closed-form starts and a
/// scan of `10^{±4}`; the exact routine must give the same minima, and does.)
/// A minimum beyond the scan that neither closed-form start hits, so that Newton itself has to
/// walk to it. One entry each, `A = B = 1`, `A⋆ = s c⋆`, `B⋆ = s/c⋆` with `s = 0.55`: in
/// `x = c/c⋆` the squared distance is `h(x) = (1 − s/x)² + (1 − s x)²`, stationary at `x = 1`
/// (`h'(1) = 2(1 − s)s − 2(1 − s)s = 0`) with `h''(1) = 8s² − 4s = 0.22 > 0`, and
/// `h(1) = 2(1 − s)² = 0.405`. Every `x` outside `[0.661, 1.513]` has one term `≥ 0.405` on
/// its own (`|1 − s x| ≥ √0.405` below `x = 0.661`; `|1 − s/x| ≥ √0.405` above `x = 1.513`;
/// both terms exceed 1 for `x < 0`), and golden-section search on that bracket confirms that
/// `x = 1` is the global minimum. The starts are the `A`-fit `x = s` and the `B`-fit `x = 1/s`,
/// 45 % and 82 % away, and the scan (`10⁻⁴ ≤ |c| ≤ 10⁴`) is far from `c⋆ = 10⁻⁸` and `10⁸`.
/// The curvature `h''` is small against its terms (`6s² + 2s² = 2.42` without the
/// `−4⟨A, A⋆⟩/c³` term), so a wrong second derivative leaves Newton far from converged after
/// its 100 steps, and the stop rule `|step| ≤ 10⁻¹⁵|c|` must be relative: the stop-26
/// campaign's `(c·c·c)` → `(c/c·c)` and `(c·c/c)` in `d2f`, and `10⁻¹⁵·|c|` → `10⁻¹⁵/|c|`
/// (which at `c ~ 10⁻⁸` stops after one step), lived through the cases above, where a
/// closed-form start lay at the minimum.
#[test]
fn manifold_distance_where_newton_walks() {
    use icrl_proofs::dynamics::flow::manifold_distance;
    let s = 0.55;
    let h = |x: f64| (1.0 - s / x).powi(2) + (1.0 - s * x).powi(2);
    let x_true = golden_section_min(h, 0.661, 1.513);
    assert!((x_true - 1.0).abs() < 1e-6, "the minimum of h in the bracket is at x = {x_true}, not 1");
    assert!(h(0.661) >= 0.405 && h(1.513) >= 0.405 && (h(1.0) - 0.405).abs() < 1e-15);
    for c_star in [1e-8, 1e8] {
        let (th, star) = (one_entry_each(1.0, 1.0), one_entry_each(s * c_star, s / c_star));
        let (c, dist) = manifold_distance(1, &th, &star);
        // Error budget: the rounded A⋆, B⋆ (2 ulp each) move the root of f' by about that much
        // over the relative curvature 0.22, about 1e-15 relative; Newton, quadratic at this
        // non-degenerate root, ends within rounding of it. 1e-9 leaves a margin of 10⁶ and is
        // still far below the 1.7e-6 of the weakest mutant above.
        assert!((c / c_star - 1.0).abs() < 1e-9, "c* {c_star}: c {c}");
        // The distance is flat at the minimum: within a few ulp of (2·0.45²)^{1/2}.
        assert!((dist - 0.405f64.sqrt()).abs() < 1e-14, "c* {c_star}: distance {dist}");
    }
}

/// The squared-distance objective of `manifold_distance` written out by the test: `g(c)²` of
/// `(A − A⋆/c, B − cB⋆)`, every entry at once (the routine reads inner products).
fn manifold_gap(d: usize, th: &[f64], star: &[f64], c: f64) -> f64 {
    use icrl_proofs::dynamics::loss::split;
    let ((a, b), (a_s, b_s)) = (split(d, th), split(d, star));
    let ea: f64 = a.iter().zip(a_s).map(|(x, y)| (x - y / c).powi(2)).sum();
    let eb: f64 = b.iter().zip(b_s).map(|(x, y)| (x - y * c).powi(2)).sum();
    (ea + eb).sqrt()
}

/// The global minimum on random, badly scaled instances, against the test's own search: a grid of
/// `±10^{k/100}`, `|k| ≤ 2400` (`10⁻²⁴ ≤ |c| ≤ 10²⁴`), then 200 golden-section steps on the best
/// cell's neighbours. `d = 1, 2, 3`; the `A` and `B` blocks of `θ` and of `θ⋆` each scaled by
/// `10^{U(−8, 8)}`, and in a fifth of the cases `A⋆` (another fifth `B⋆`) shrunk by a further
/// `10⁻⁴`, which puts the minimizer anywhere in `10^{±20}` and often gives `f` two local minima
/// on one side of `0`. The returned distance must be the distance at the returned `c` (so it is a
/// real point of the manifold) and must not exceed the search's minimum.
///
/// The routine this replaced (Newton from two closed-form starts and a scan of `10^{±4}`, kept
/// before stop 28) ended above the search's minimum in 358 of 200 000 such cases, up to 20 %
/// (a scratch run, not kept), and 14 of these 4 000 (the first at case 2 421, 0.25 % above): it
/// could keep a point that is not stationary, e.g. where a Newton step would cross `c = 0`. The exact routine ends at most
/// 3.2e-15 above it in those 200 000.
///
/// Error budget: `g²` at a given `c` is a sum of at most 21 non-negative terms, each with
/// relative rounding ≤ 3 ulp, so `g` computed twice at the same `c` agrees within ~25 ulp
/// (1e-13 is the bound used), and the routine's `c` lies within the rounding zone of a root of
/// `P`, where `g` exceeds its minimum only to second order in that zone; the search's minimum has
/// the same rounding. 1e-12 relative covers both with a margin of 300 over the worst case seen.
#[test]
fn manifold_distance_is_the_global_minimum() {
    use icrl_proofs::dynamics::flow::manifold_distance;
    use icrl_proofs::dynamics::loss::n_params;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(28);
    for case in 0..4000 {
        let d = 1 + case % 3;
        let na = d * (2 * d + 1);
        let mut scale = || 10f64.powf(rng.random_range(-8.0..8.0));
        let (sa, sb) = (scale(), scale());
        let sa_s = scale() * if case % 5 == 1 { 1e-4 } else { 1.0 };
        let sb_s = scale() * if case % 5 == 2 { 1e-4 } else { 1.0 };
        let th: Vec<f64> =
            (0..n_params(d)).map(|i| rng.random_range(-1.0..1.0) * if i < na { sa } else { sb }).collect();
        let star: Vec<f64> =
            (0..n_params(d)).map(|i| rng.random_range(-1.0..1.0) * if i < na { sa_s } else { sb_s }).collect();
        let g = |c: f64| manifold_gap(d, &th, &star, c);
        let grid = (-2400..=2400).flat_map(|k| [10f64.powf(k as f64 / 100.0), -10f64.powf(k as f64 / 100.0)]);
        let (c0, g0) = grid.map(|c| (c, g(c))).fold((1.0, f64::INFINITY), |m, x| if x.1 < m.1 { x } else { m });
        let (lo, hi) = (c0 * 10f64.powf(-0.01), c0 * 10f64.powf(0.01));
        let c1 = golden_section_min(g, lo.min(hi), lo.max(hi));
        let search = g(c1).min(g0);
        let (c, dist) = manifold_distance(d, &th, &star);
        assert!((dist - g(c)).abs() <= 1e-13 * dist, "case {case}: distance {dist} but g(c) = {} at c = {c}", g(c));
        assert!(dist <= search * (1.0 + 1e-12), "case {case}: distance {dist} at c = {c}, search {search} at {c1}");
    }
}

/// The stars with a zero block, where the manifold's closure holds `0` and the routine's quartic
/// degenerates, by hand (one entry each, `d = 1`):
/// - `A⋆ = 0`, `B⋆ = 2`, `A = 3`, `B = 1`: the points are `(0, 2c)`, nearest at `c = ⟨B, B⋆⟩/‖B⋆‖²
///   = 1/2` (`B` itself), distance `|A| = 3`; with `B = 0` only the limit `c → 0` reaches the
///   infimum `3`, returned as `c = 0`.
/// - `B⋆ = 0`, `A⋆ = 1`, `A = 2`, `B = 5`: the points are `(1/c, 0)`, nearest at
///   `c = ‖A⋆‖²/⟨A, A⋆⟩ = 1/2` (`A` itself), distance `5`; with `A = 0` the infimum `5` as
///   `c → ∞`.
/// - `θ⋆ = 0`: every `c` is the point `0`; `c = 1`, distance `‖θ‖ = 5` at `(3, 4)`.
/// - a NaN in `θ`: `(NaN, NaN)`, not a number that looks like a distance.
#[test]
fn manifold_distance_with_a_zero_star_block() {
    use icrl_proofs::dynamics::flow::manifold_distance;
    let md =
        |a: f64, b: f64, a_s: f64, b_s: f64| manifold_distance(1, &one_entry_each(a, b), &one_entry_each(a_s, b_s));
    // Every value below is exact in f64 (halves, small integers, a square root of 9 or 25).
    assert_eq!(md(3.0, 1.0, 0.0, 2.0), (0.5, 3.0));
    assert_eq!(md(3.0, 0.0, 0.0, 2.0), (0.0, 3.0));
    assert_eq!(md(2.0, 5.0, 1.0, 0.0), (0.5, 5.0));
    assert_eq!(md(0.0, 5.0, 1.0, 0.0), (f64::INFINITY, 5.0));
    assert_eq!(md(3.0, 4.0, 0.0, 0.0), (1.0, 5.0));
    let (c, dist) = md(f64::NAN, 1.0, 1.0, 1.0);
    assert!(c.is_nan() && dist.is_nan(), "NaN in θ: c {c}, distance {dist}");
}

/// `flow::log_slope` by hand: the least-squares slope of `ln L` against `t` over the points
/// with `lo ≤ L ≤ hi` and `L > 0`. On `L = 1, e⁻², e⁻⁴` at `t = 0, 1, 2` it is `−2` (up to the
/// rounding of `ln`); both ends of the window are inclusive (the window set exactly at `e⁻⁴` and
/// `1` keeps three points, one just above `e⁻⁴` leaves two: `None`); a zero loss is left out
/// (its `ln` is `−∞`); and three points at one time have no slope (`Σ(t − t̄)² = 0`: `None`, not
/// `0/0`; the stop-25 campaign's `den > 0` → `den ≥ 0` mutant lived, as no caller had met it).
#[test]
fn log_slope_by_hand() {
    use icrl_proofs::dynamics::flow::log_slope;
    let (e2, e4) = ((-2f64).exp(), (-4f64).exp());
    let trace = [(0.0, 1.0), (1.0, e2), (2.0, e4), (3.0, 2.0)];
    let s = log_slope(&trace, e4, 1.0).expect("three points in the window");
    // Error budget: every quantity of the fit has magnitude ≤ 4 (an ulp ≤ 8.9e-16); ln of the
    // rounded e⁻², e⁻⁴ is within 2 ulp of −2, −4 (input and libm), and the fit's ten or so
    // additions and products add ≤ ½ ulp each, ≤ 7 ulp in the numerator over t = 0, 1, 2, whose
    // denominator Σ(t − t̄)² = 2 is exact: the slope is within 3.1e-15 of −2.
    const SLOPE_TOL: f64 = 4e-15;
    assert!((s + 2.0).abs() < SLOPE_TOL, "slope {s}");
    assert_eq!(log_slope(&trace, e4 * (1.0 + 1e-12), 1.0), None, "two points left");
    assert_eq!(log_slope(&trace, e4, 1.0 - 1e-12), None, "two points left");
    let with_zero = [(0.0, 1.0), (1.0, e2), (2.0, e4), (3.0, 0.0)];
    let s = log_slope(&with_zero, 0.0, f64::INFINITY).expect("the three positive points");
    assert!((s + 2.0).abs() < SLOPE_TOL, "slope {s} with a zero loss in the trace");
    assert_eq!(log_slope(&[(1.0, 1.0), (1.0, 0.5), (1.0, 0.25)], 0.0, 1.0), None, "one time");
}

/// `flow::mode_slope` by hand: the slope of `ln |⟨θ(t) − θ(T), v⟩|` over the snapshots with
/// `lo ≤ L ≤ hi`. With `θ(T) = (1, 2)`, `v = (3/5, 4/5)` and `θ(t) = θ(T) ± e^{−t/2} v + w/4`,
/// `w = (−4/5, 3/5) ⊥ v`, at `t = 0, 1, 2` (the sign alternating: the modulus is taken), the
/// projection is `±e^{−t/2}` and the slope `−1/2`; a snapshot above the window is left out, and
/// one at `θ(T)` itself (projection 0, whose `ln` is `−∞`) is skipped. `report dynamics` prints
/// this rate next to the checked slope of `ln L`; a mutant returning `None` lived (stop 25).
#[test]
fn mode_slope_by_hand() {
    use icrl_proofs::dynamics::flow::mode_slope;
    let (end, v, w) = ([1.0, 2.0], [0.6, 0.8], [-0.8, 0.6]);
    let at = |t: f64, sign: f64| -> Vec<f64> {
        (0..2).map(|i| end[i] + sign * (-t / 2.0).exp() * v[i] + 0.25 * w[i]).collect()
    };
    let snaps = vec![
        (0.0, 1.0, at(0.0, 1.0)),
        (1.0, 0.5, at(1.0, -1.0)),
        (2.0, 0.25, at(2.0, 1.0)),
        (3.0, 10.0, vec![-50.0, 70.0]),
        (4.0, 0.125, end.to_vec()),
    ];
    let s = mode_slope(&snaps, &end, &v, 0.1, 2.0).expect("three points");
    // Error budget: θ − θ(T) recovers each entry within an ulp of 3 (4.4e-16), so the projection
    // (≥ e⁻¹) is within 1.5e-15 absolute, 4.1e-15 relative; ln then within 4.5e-15, and the fit
    // over t = 0, 1, 2 (denominator 2, exact) within 5e-15 of −1/2.
    assert!((s + 0.5).abs() < 1e-14, "slope {s}");
    assert_eq!(mode_slope(&snaps[..2], &end, &v, 0.1, 2.0), None, "two points");
}

/// `dopri5` is a 5(4) pair with a working step-size controller, on `y' = −y`, `y(0) = 1`, over
/// `[0, 5]` (exact `e^{−5}`):
/// - the controller keeps the estimated error of each step near `tol`, and that estimate is
///   `∝ h⁵`, so the number of steps grows as `tol^{−1/5}`: from `tol = 1e-5` to `1e-10` by
///   `10^{5/5} = 10` (measured: 11 and 83 steps). The test accepts a factor in `[5, 20]`; an
///   embedded estimate or a solution of lower order `q` gives `10^{5/q}` (`q = 2`: 316), and the
///   cap of 20 000 steps keeps even that fast;
/// - the run ends at `t = 5` below the cap (a loop that keeps stepping with `h = 0` at `t_max`
///   runs to the cap), and a cap of 5 steps stops it after exactly 5;
/// - the end value is `e^{−5}` within `2N · tol` for `N` accepted steps: the flow contracts, so
///   the global error is at most the sum of the local ones, each below its step's error scale
///   `atol + rtol·|y| ≤ 2 tol` (measured: 0.16 tol and 0.2 tol, far inside);
/// - the evaluation count it reports is `1 + 6·(accepted + rejected)`: FSAL reuses the last
///   stage, so each attempted step evaluates stages 2–7 (a mutant counting `*= 1` lived, stop 25);
/// - a first step over the whole interval (`h0 = 5`) is rejected and shrunk until its estimate
///   passes: the method's stability polynomial at `z = −5`,
///   `1 + z + z²/2 + z³/6 + z⁴/24 + z⁵/120 + z⁶/600 ≈ 13.7`, is nowhere near `e^{−5}`. (The
///   stop-27 campaign's `err2 / n` → `err2 % n` in the error norm lived: for `n = 1` it is the
///   fractional part, below 1 whatever the error, so no step is ever rejected, and from
///   `h0 = 0.1` the steps it accepted stayed accurate enough.)
/// - the error norm is the root mean square over the components (Hairer–Nørsett–Wanner's
///   `(Σ (eᵢ/scᵢ)²/n)^{1/2}`): the same equation twice, `y' = −y` in two components, takes
///   exactly the steps of one (`2r²/2 = r²` is exact in floating point), where a norm that
///   grows with `n` (the root of the plain sum, or of `n·Σ`) would estimate a larger error and
///   take more steps. (The same campaign's `err2 / n` → `err2 · n` lived: at `n = 1` it is the
///   original.)
#[test]
fn dopri5_steps_scale_as_a_fifth_order_pair() {
    use icrl_proofs::dynamics::flow::{dopri5, OdeTol};
    let cap = 20_000;
    let run = |tol: f64, h0: f64| {
        let (t, y, acc, rej, evals) =
            dopri5(|y, dy| dy[0] = -y[0], &[1.0], 5.0, h0, OdeTol { rtol: tol, atol: tol }, cap, |_, _| false);
        assert!(acc + rej < cap, "tol {tol}: {acc} accepted + {rej} rejected steps reach the cap");
        // FSAL: one evaluation at the start, then stages 2–7 of every attempted step.
        assert_eq!(evals, 1 + 6 * (acc + rej), "tol {tol}: {evals} evaluations for {acc} + {rej} steps");
        assert_eq!(t, 5.0, "tol {tol}: ended at t = {t}");
        let bound = 2.0 * acc as f64 * tol;
        assert!((y[0] - (-5f64).exp()).abs() <= bound, "tol {tol}, h0 {h0}: y(5) = {} against e^-5", y[0]);
        (acc, rej)
    };
    let ((coarse, _), (fine, _)) = (run(1e-5, 0.1), run(1e-10, 0.1));
    let ratio = fine as f64 / coarse as f64;
    assert!((5.0..=20.0).contains(&ratio), "{coarse} steps at tol 1e-5, {fine} at 1e-10: ratio {ratio}");
    let (_, rej) = run(1e-10, 5.0);
    assert!(rej >= 1, "h0 = 5: the first step, over the whole interval, was accepted");
    let tol = OdeTol { rtol: 1e-8, atol: 1e-8 };
    let (t1, y1, acc1, rej1, _) = dopri5(|y, dy| dy[0] = -y[0], &[1.0], 5.0, 0.1, tol, cap, |_, _| false);
    let twice = |y: &[f64], dy: &mut [f64]| (dy[0], dy[1]) = (-y[0], -y[1]);
    let (t2, y2, acc2, rej2, _) = dopri5(twice, &[1.0, 1.0], 5.0, 0.1, tol, cap, |_, _| false);
    assert_eq!((t2, acc2, rej2), (t1, acc1, rej1), "two equal components: not the steps of one");
    assert_eq!(y2, vec![y1[0]; 2]);
    // `max_steps` counts accepted and rejected steps and is exact: 5 steps end before t = 5.
    let tight = OdeTol { rtol: 1e-10, atol: 1e-10 };
    let (t, _, acc, rej, evals) = dopri5(|y, dy| dy[0] = -y[0], &[1.0], 5.0, 0.1, tight, 5, |_, _| false);
    assert!(acc + rej == 5 && t < 5.0, "max_steps 5: {acc} accepted + {rej} rejected, t = {t}");
    assert_eq!(evals, 1 + 6 * 5);
}

/// `rl::softmax_td::empirical_value_iteration` on a window that leaves a state unvisited
/// (`|S| = 3`, sources `0, 1, 0`, `γ = 1/2`, `v = (1/2, −1, 4)`, rewards `(1, 2, 3)`): state 0 is
/// left twice, to 1 and to 0, so `v'(0) = ((1 + v(1)/2) + (3 + v(0)/2))/2 = (1/2 + 13/4)/2 = 15/8`;
/// state 1 once, to 0: `v'(1) = 2 + v(0)/2 = 9/4`; state 2 is unvisited and keeps `v(2) = 4`.
/// The checks call it only under coverage (`softmax-td-tabular-limit`), so the unvisited branch
/// is pinned here (a mutant making it `0/0` lived through them).
#[test]
fn empirical_value_iteration_by_hand() {
    use icrl_proofs::rl::softmax_td::empirical_value_iteration;
    let v = [0.5, -1.0, 4.0];
    let out = empirical_value_iteration(3, &[0, 1, 0, 0], &[1.0, 2.0, 3.0], 0.5, &v);
    assert_eq!(out, vec![15.0 / 8.0, 9.0 / 4.0, 4.0]);
    // Every state visited: no state keeps its value.
    let out = empirical_value_iteration(2, &[0, 1, 0], &[1.0, 2.0], 0.5, &[0.5, -1.0]);
    assert_eq!(out, vec![0.5, 2.25]);
}

/// `rl::softmax_td::tabular_limit` (the `β → ∞` kernel of one-hot features) on a window that
/// leaves a state unvisited (`|S| = 3`, sources `0, 1, 0, 1`, `n = 4`): a visited state puts
/// `1/N_s` on the sources equal to it (`N_0 = N_1 = 2`: `1/2, 0, 1/2, 0` and `0, 1/2, 0, 1/2`),
/// the unvisited state 2 (all its scores 0) is uniform, `1/n = 1/4` each. `softmax-td-tabular-limit`
/// draws covered windows only, so the unvisited branch is pinned here.
#[test]
fn tabular_limit_kernel_by_hand() {
    use icrl_proofs::rl::softmax_td::tabular_limit;
    let lim = tabular_limit(3, &[0, 1, 0, 1, 0], &[1.0, 0.0, -1.0, 2.0], 0.5);
    let rows: Vec<Vec<f64>> = (0..3).map(|s| (0..4).map(|k| lim.kernel(k, s)).collect()).collect();
    assert_eq!(rows, vec![vec![0.5, 0.0, 0.5, 0.0], vec![0.0, 0.5, 0.0, 0.5], vec![0.25; 4]]);
}

/// `rl::softmax_td::coverage`: whether the sources `S_0 … S_{n-1}` visit every state (the last
/// state `S_n` is a target, not a source).
#[test]
fn coverage_by_hand() {
    use icrl_proofs::rl::softmax_td::coverage;
    assert!(coverage(&[0, 2, 1, 0], 3, 3));
    assert!(!coverage(&[0, 1, 0, 2], 3, 3)); // state 2 only as the last target
    assert!(!coverage(&[1, 1, 1], 2, 2));
}

/// `rl::softmax_td::population_kernel` ([XZ] eq. 22) where `μ` leaves a state out of its support
/// and `β` is large: one-hot features (`g(s,t) = β δ_st`), `β = 800`, `μ = (1/2, 1/2, 0)`. Rows 0
/// and 1 put all their mass on the diagonal (`e^{-800}` underflows to 0 against `e^0`); row 2,
/// the unsupported state, has scores 0 on the support and subtracts their maximum 0, so it is
/// `(1/2, 1/2, 0)`: state 2's own weight is `μ(2) = 0`, never `0 · e^{800} = 0 · ∞` (a mutant
/// that weighted every `μ(t) ≥ 0` made that row NaN and lived through the softmax judges, whose
/// `μ` were all positive).
#[test]
fn population_kernel_off_the_support_by_hand() {
    use icrl_proofs::rl::softmax_td::population_kernel;
    let m = population_kernel(&Features::one_hot(3, 1, 1.0), 800.0, &[0.5, 0.5, 0.0]);
    assert_eq!(m, vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.5, 0.5, 0.0]);
}

/// `dynamics::loss::finite_difference` (the central quotient every gradient test compares with)
/// on `f(x) = x₀² + 3x₁` at `(1, 2)` with `h = 1/4`: for a quadratic the quotient is the
/// derivative exactly, `(2, 3)`, and every value here is a dyadic rational, so `f64` gives it
/// bit for bit. (A mutant returning `vec![]` lived: the gradient tests compared over a `zip`,
/// vacuous against an empty vector.)
#[test]
fn finite_difference_by_hand() {
    use icrl_proofs::dynamics::loss::finite_difference;
    let fd = finite_difference(|x| x[0] * x[0] + 3.0 * x[1], &[1.0, 2.0], 0.25);
    assert_eq!(fd, vec![2.0, 3.0]);
}

/// `rl::softmax_td::WeightedSoftmaxTd`'s sizes on a window of `n = 3` transitions over
/// `|S| = 3` states (`S = 0, 1, 0, 2`): `n()` is the number of rewards and `n_states()` the
/// features' `|S|`, not the number of states the window visits. (`n_states` is read by no
/// check, so mutants returning 0 or 1 lived.)
#[test]
fn weighted_softmax_td_sizes_by_hand() {
    use icrl_proofs::rl::softmax_td::WeightedSoftmaxTd;
    let td = WeightedSoftmaxTd::new(&Features::one_hot(4, 1, 1.0), 1.0, &[0, 1, 0, 2], &[1.0, 0.0, 2.0], 0.5);
    assert_eq!((td.n(), td.n_states()), (3, 4));
}
