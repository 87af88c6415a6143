//! `icrl report actor-critic`: the in-context policy-improvement experiment of [LL] Thm 3.3
//! (arXiv:2605.05755) in our **[R]** reconstruction: mean return of `π_λ` per in-context step of
//! the constructed actor-critic block, against the optimal and the uniform policy, over 64 random
//! MDPs and 30 steps. A measurement, not a check: it exits 0.

use super::plot::{Figure, Lines, Mark, Panel, Series, Width, GREY, REFERENCE};
use super::Output;
use crate::theorem::actor_critic::{policy_improvement, PolicyImprovement};

/// Random MDPs averaged over.
pub const MDPS: usize = 64;
/// In-context steps.
pub const STEPS: usize = 30;

/// The Markdown table of `p` (snapshotted at seed 0).
pub fn render_table(p: &PolicyImprovement) -> String {
    let mut s = String::from("# In-context actor-critic ([R] reconstruction of [LL] Thm 3.3, arXiv:2605.05755)\n\n");
    s.push_str(&format!(
        "seed {}; {} random MDPs, |S| = {}, |A| = {}, γ = {}, one-hot critic and policy features, n = {} transitions per step, α = {}, β = {}. Mean expected return of π_λ before each in-context step; gap closed = (return − uniform) / (optimal − uniform).\n\n",
        p.seed, p.mdps, p.n_states, p.n_actions, p.gamma, p.n, p.alpha, p.beta
    ));
    s.push_str("| step | mean return π_λ | optimal | uniform | gap closed |\n|---:|---:|---:|---:|---:|\n");
    for (t, &v) in p.mean_return.iter().enumerate() {
        let closed = (v - p.uniform) / (p.optimal - p.uniform);
        s.push_str(&format!("| {t} | {v:.3} | {:.3} | {:.3} | {:.0}% |\n", p.optimal, p.uniform, closed * 100.0));
    }
    s
}

/// The figure: return per step with the optimal and uniform levels.
pub fn figure(p: &PolicyImprovement) -> Figure {
    let steps: Vec<f64> = (0..p.mean_return.len()).map(|t| t as f64).collect();
    let level = |v: f64| steps.iter().map(|&t| (t, v)).collect::<Vec<_>>();
    Figure::new(
        "actor-critic",
        Width::One,
        vec![Panel::Lines(Lines {
            title: "[R] in-context actor-critic: return of π_λ".into(),
            xlabel: "in-context step".into(),
            ylabel: "mean expected return".into(),
            x: super::plot::Axis::Linear,
            y: super::plot::Axis::Linear,
            series: vec![
                Series::line("π_λ", steps.iter().copied().zip(p.mean_return.iter().copied()).collect()),
                Series::line("optimal", level(p.optimal)).mark(Mark::Dashed).color(REFERENCE),
                Series::line("uniform", level(p.uniform)).mark(Mark::Dashed).color(GREY),
            ],
        })],
    )
}

/// Run the report at `seed`.
pub fn run(seed: u64) -> Output {
    let p = policy_improvement(seed, MDPS, STEPS);
    let last = *p.mean_return.last().expect("steps + 1 values");
    Output {
        name: "actor-critic".into(),
        summary: format!(
            "[R] [LL] Thm 3.3: the actor-critic block closes {:.0}% of the uniform→optimal gap in {STEPS} in-context steps",
            100.0 * (last - p.uniform) / (p.optimal - p.uniform)
        ),
        markdown: render_table(&p),
        numbers: serde_json::to_value(&p).expect("serializable"),
        figures: vec![figure(&p)],
        holds: None,
    }
}
