//! `sarsa-equivalence` with `recorded-next-action` relaxed: a Q-learning target
//! (`max_b wᵀφ(s_{i+1}, b)` instead of the recorded next action) is not linear in the prompt, so
//! no block of this form implements it (`docs/theory/sarsa.md`, "Relaxations worth searching").
//!
//! With `P22 = V̄22 = 0` the readout is `w + V̄21 Σ̂ P12 w̃` (Lemma C.1): output `r` equals
//! `Σ_{j,k,l} V̄21[r,j] P12[k,l] Σ̂[j,k] w̃[l]`. Replacing the rank-one coefficient
//! `V̄21[r,j] P12[k,l]` by an arbitrary tensor `K[r,j,k,l]` gives a *larger* linear model in the
//! features `Σ̂[j,k] w̃[l]`; its least-squares fit over many prompts lower-bounds the residual of
//! every `(P12, V̄21)`. The search fits both targets on the same prompts from one MDP: SARSA
//! (residual at rounding level: the control, the method can find an exact fit) and Q-learning
//! (residual bounded away from 0: the counterexample).

use crate::assumption::AssumptionId;
use crate::attention::prompt::sarsa_prompt;
use crate::error::InputError;
use crate::instance::{to_json, Instance};
use crate::mdp::batch::TransitionBatch;
use crate::mdp::features::Features;
use crate::mdp::policy::TabularPolicy;
use crate::mdp::rollout::rollout_from_initial;
use crate::mdp::{generators, Mdp};
use crate::rl::sarsa::{batch_q_learning, batch_sarsa};
use crate::rng::case_rng;
use crate::search::{provenance_block, Counterexample, SearchArgs, SearchOutcome};
use nalgebra::{DMatrix, DVector};
use rand::Rng as _;
use serde_json::{json, Value};

/// Relative residual below which a fit counts as exact (rounding of a least-squares solve on a
/// well-scaled design: `≈ cond · u`, far below this).
pub const EXACT_FIT: f64 = 1e-8;
/// Relative residual above which the Q-learning target counts as not representable.
pub const BOUNDED_AWAY: f64 = 1e-3;

/// Relative least-squares residuals `(sarsa, q_learning)` of the relaxed linear model over
/// `prompts` windows of length `n` from `mdp` with random `w`.
pub fn residuals(mdp: &Mdp, f: &Features, n: usize, prompts: usize, alpha: f64, seed: u64) -> (f64, f64) {
    let d = f.dim();
    let t = 2 * d + 1;
    let nfeat = t * t * (d + 1);
    let mut x = DMatrix::<f64>::zeros(prompts * d, nfeat * d);
    let mut ys = DVector::<f64>::zeros(prompts * d);
    let mut yq = DVector::<f64>::zeros(prompts * d);
    for p in 0..prompts {
        let mut rng = case_rng(seed, "qlearning-fit", p as u64);
        let w: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
        let traj = rollout_from_initial(&mut rng, mdp, &TabularPolicy::uniform(mdp.n_states(), mdp.n_actions()), n);
        let b: TransitionBatch<f64> = TransitionBatch::from_trajectory(f, &traj, mdp.gamma());
        let h = sarsa_prompt(&b, &w);
        let (sigma, wt) = regression_features(&h, &w, n);
        let ws = batch_sarsa(&b, &w, &alpha);
        let next: Vec<Vec<Vec<f64>>> =
            (0..n).map(|i| (0..mdp.n_actions()).map(|a| f.phi(traj.states[i + 1], a).to_vec()).collect()).collect();
        let wq = batch_q_learning(&b, &next, &w, alpha);
        for r in 0..d {
            let row = p * d + r;
            for jk in 0..t * t {
                for l in 0..=d {
                    x[(row, r * nfeat + jk * (d + 1) + l)] = sigma[jk] * wt[l];
                }
            }
            ys[row] = ws[r] - w[r];
            yq[row] = wq[r] - w[r];
        }
    }
    // Non-finite entries (features or rewards near the f64 limit) make the SVD iterate without
    // end; such a fit has no meaning, so it is reported as NaN (the replay refuses it).
    if x.iter().chain(ys.iter()).chain(yq.iter()).any(|v| !v.is_finite()) {
        return (f64::NAN, f64::NAN);
    }
    let svd = x.clone().svd(true, true);
    let fit = |y: &DVector<f64>| {
        let beta = svd.solve(y, 1e-12).expect("SVD has U and V");
        let res = &x * beta - y;
        res.norm() / y.norm().max(f64::MIN_POSITIVE)
    };
    (fit(&ys), fit(&yq))
}

/// One prompt's regression features: `Σ̂ = (1/n) Σ_i x_i x_iᵀ` over the `n` context tokens of
/// `h` (`t×t`, row-major) and `w̃ = (1, w)`. Output `r`'s design row holds `Σ̂[j,k] w̃[l]` at
/// column `r·t²(d+1) + (j t + k)(d+1) + l`; with `K[r,j,k,l] = V̄21[r,j] P12[k,l]` it gives the
/// layer's readout minus `w` whenever `P22 = V̄22 = 0` (tested against the forward pass below).
fn regression_features(h: &crate::linalg::Mat<f64>, w: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let t = 2 * w.len() + 1;
    let mut sigma = vec![0.0; t * t];
    for i in 0..n {
        for j in 0..t {
            for k in 0..t {
                sigma[j * t + k] += h[(j, i)] * h[(k, i)] / n as f64;
            }
        }
    }
    let mut wt = vec![1.0];
    wt.extend_from_slice(w);
    (sigma, wt)
}

/// The MDP of a search: `|S|` states, `|A| = 2`, random features of dimension `d`.
fn setting(seed: u64, ns: usize, d: usize) -> (Mdp, Features) {
    let mut rng = case_rng(seed, "qlearning-mdp", (ns * 16 + d) as u64);
    let mdp = generators::random_tabular(&mut rng, ns, 2, 0.5);
    let f = Features::random(&mut rng, ns, 2, d);
    (mdp, f)
}

/// `icrl search --theorem sarsa-equivalence --relax recorded-next-action`: the smallest
/// `(|S|, d)` whose Q-learning residual is bounded away from 0 while SARSA's fits exactly.
pub fn search(args: &SearchArgs) -> Result<SearchOutcome, InputError> {
    if args.relax != [AssumptionId::RecordedNextAction] {
        return Err(InputError::new("--relax", "the Q-learning search relaxes recorded-next-action alone"));
    }
    if args.slice.is_some() {
        return Err(InputError::new(
            "--shard",
            "the recorded-next-action search is one deterministic least-squares sweep, not blocks of random cases; run it whole",
        ));
    }
    let (n, alpha) = (4usize, 0.5);
    let mut report = vec!["relaxed: recorded-next-action (Q-learning target); least-squares fit of the relaxed linear model in Σ̂[j,k]·w̃[l]".to_string()];
    let mut tried = 0;
    for (ns, d) in [(2, 1), (3, 1), (2, 2), (3, 2)] {
        let prompts = (args.budget as usize).clamp(50, 2000);
        let (mdp, f) = setting(args.seed, ns, d);
        let (rs, rq) = residuals(&mdp, &f, n, prompts, alpha, args.seed);
        tried += prompts as u64;
        report.push(format!("|S| = {ns}, |A| = 2, d = {d}, n = {n}, {prompts} prompts: relative residual SARSA {rs:.2e}, Q-learning {rq:.2e}"));
        if rs <= EXACT_FIT && rq >= BOUNDED_AWAY {
            let mut rng = case_rng(args.seed, "qlearning-fit", 0);
            let w: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
            let traj = rollout_from_initial(&mut rng, &mdp, &TabularPolicy::uniform(ns, 2), n);
            let mut inst = to_json("sarsa", &mdp, &f, &traj, json!({"alpha": alpha, "w": w}));
            let mut block = provenance_block(args, rq, "Q-learning target: no (P12, V̄21) fits it; 'violation' is the relative least-squares residual of a strictly larger linear model over the prompts below");
            block["fit"] =
                json!({"prompts": prompts, "n": n, "seed": args.seed, "sarsa_residual": rs, "q_learning_residual": rq});
            inst["counterexample"] = block;
            return Ok(SearchOutcome {
                found: Some(Counterexample {
                    instance: inst,
                    violation: rq,
                    summary: format!("|S| = {ns}, d = {d}: Q-learning residual {rq:.3e} (SARSA control {rs:.1e}) over {prompts} prompts"),
                }),
                tried,
                report,
                blocks: None,
            });
        }
    }
    Ok(SearchOutcome { found: None, tried, report, blocks: None })
}

/// Largest `counterexample.fit.prompts` a replay accepts (the committed fixture uses 400; the
/// search at most 2 000).
pub const MAX_REPLAY_PROMPTS: u64 = 5_000;
/// Largest `counterexample.fit.n` a replay accepts (the committed fixture uses 4).
pub const MAX_REPLAY_N: u64 = 1_000;

/// Replay: refit on the recorded MDP and prompts; returns the Q-learning residual if the SARSA
/// control still fits exactly, else 0 (the replay is then meaningless and must fail).
pub fn replay(v: &Value) -> Result<f64, InputError> {
    let inst = Instance::from_value(v.clone())?;
    let fit = v
        .get("counterexample")
        .and_then(|c| c.get("fit"))
        .ok_or_else(|| InputError::new("counterexample.fit", "missing"))?;
    let get = |k: &str| {
        fit.get(k)
            .and_then(Value::as_u64)
            .ok_or_else(|| InputError::new(format!("counterexample.fit.{k}"), "expected a nonnegative integer"))
    };
    let (prompts, n, seed) = (get("prompts")?, get("n")?, get("seed")?);
    // The fit is a dense least-squares problem of `prompts·d` rows: bounded before it runs.
    for (k, v, max) in [("prompts", prompts, MAX_REPLAY_PROMPTS), ("n", n, MAX_REPLAY_N)] {
        if v == 0 || v > max {
            return Err(InputError::new(format!("counterexample.fit.{k}"), format!("must be in 1..={max}, got {v}")));
        }
    }
    let alpha = inst.params.f64_req("alpha")?;
    let (rs, rq) = residuals(&inst.mdp, &inst.features, n as usize, prompts as usize, alpha, seed);
    if rs.is_nan() || rq.is_nan() {
        return Err(InputError::new(
            "counterexample.fit",
            "the least-squares fit overflows f64 (features, rewards or alpha too large for this replay)",
        ));
    }
    Ok(if rs <= EXACT_FIT { rq } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attention::linear::lsa_block_last_column;
    use crate::attention::prompt::parameter_readout;
    use crate::construction::sarsa::{reduced, Shape};
    use crate::linalg::Mat;

    /// The relaxed model's design row times the rank-one tensor `V̄21[r,j] P12[k,l]` is the
    /// generic forward pass's `w' − w` for any block with `P22 = V̄22 = 0`, and not once the
    /// cubic blocks are nonzero (the negative control: the identity has teeth).
    #[test]
    fn design_matrix_is_the_layer_linear_term() {
        let (mdp, f) = setting(5, 4, 2);
        let d = f.dim();
        let s = Shape::sarsa(d);
        let (t, dd, n) = (s.token(), s.dim(), 12);
        let mut rng = case_rng(5, "qlearning-design-test", 0);
        let mut gauss = |m: &mut Mat<f64>| {
            for x in m.as_mut_slice() {
                *x = rng.random_range(-1.0..1.0);
            }
        };
        let (mut p, mut v) = (Mat::zeros(dd, dd), Mat::zeros(dd, dd));
        gauss(&mut p);
        gauss(&mut v);
        for i in 0..=d {
            for j in 0..=d {
                p[(t + i, t + j)] = 0.0; // P22
            }
        }
        for i in 0..d {
            for j in 0..=d {
                v[(t + 1 + i, t + j)] = 0.0; // V̄22
            }
        }
        let mut rng = case_rng(5, "qlearning-design-test", 1);
        let traj = rollout_from_initial(&mut rng, &mdp, &TabularPolicy::uniform(mdp.n_states(), mdp.n_actions()), n);
        let b: TransitionBatch<f64> = TransitionBatch::from_trajectory(&f, &traj, mdp.gamma());
        let w: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
        let h = sarsa_prompt(&b, &w);
        let (sigma, wt) = regression_features(&h, &w, n);
        let model = |p: &Mat<f64>, v: &Mat<f64>| -> (Vec<f64>, f64) {
            let r = reduced(d, p, v);
            let (mut out, mut abs) = (vec![0.0; d], 0.0f64);
            for (row, o) in out.iter_mut().enumerate() {
                for j in 0..t {
                    for k in 0..t {
                        for (l, wl) in wt.iter().enumerate() {
                            let term = r.v21_bar[(row, j)] * r.p12[(k, l)] * sigma[j * t + k] * wl;
                            *o += term;
                            abs += term.abs();
                        }
                    }
                }
            }
            (out, abs)
        };
        let layer = |p: &Mat<f64>, v: &Mat<f64>| parameter_readout(&lsa_block_last_column(&h, p, v), t);
        // Both sides are f64 sums of at most t²(d+1)·n products of |·| ≤ max|h|² terms: the
        // rounding error is ≤ γ_K Σ|terms| with K ≤ 4·t²(d+1)n < 10⁴, i.e. ≤ 1e-12 Σ|terms|.
        let (lin, abs) = model(&p, &v);
        let out = layer(&p, &v);
        for r in 0..d {
            let diff = (out[r] - w[r] - lin[r]).abs();
            assert!(
                diff <= 1e-12 * (abs + 1.0),
                "output {r}: layer {} vs design {} (diff {diff:e})",
                out[r] - w[r],
                lin[r]
            );
        }
        // Negative control: a nonzero P22 and V̄22 add the cubic term the design cannot see.
        for i in 0..d {
            v[(t + 1 + i, t)] = 1.0;
        }
        p[(t, t)] = 1.0;
        let (lin, abs) = model(&p, &v);
        let out = layer(&p, &v);
        assert!((0..d).any(|r| (out[r] - w[r] - lin[r]).abs() > 1e-6 * (abs + 1.0)), "cubic term invisible");
    }
}
