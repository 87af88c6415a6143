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
//! - [`spectrum`]: `G = E[JᵀJ]`, rank, kernel, `λ⁺_min`.

pub mod experiment;
pub mod flow;
pub mod loss;
pub mod report;
pub mod spectrum;
pub mod stream;
pub mod train_sarsa;
pub mod train_td;

/// Options of `icrl train td` beyond the seed.
#[derive(Clone, Copy, Debug, Default)]
pub struct TdOptions {
    /// `--shared`: one `(P, Q)` looped over the layers.
    pub shared: bool,
    /// `--init-gain G`: override the Xavier-normal gain (default `0.1 / L`).
    pub init_gain: Option<f64>,
}

/// `icrl train WHICH [--preset P] [--seed S] [--json]`: run and render (text or one JSON line).
pub fn cli_train(
    which: &str,
    preset: &str,
    seed: u64,
    json: bool,
    progress: bool,
    td: TdOptions,
) -> Result<String, crate::error::InputError> {
    match which {
        "sarsa" => {
            let mut cfg = train_sarsa::TrainConfig::preset(preset, seed)?;
            cfg.progress = progress;
            let r = train_sarsa::train(&cfg, preset)?;
            Ok(if json { serde_json::to_string(&r).expect("serializable") } else { render_sarsa(&r) })
        }
        "td" => {
            if preset != "small" {
                return Err(crate::error::InputError::new(
                    "--preset",
                    "train td has one setting ([WB]'s full setting); --preset applies to sarsa",
                ));
            }
            let mut cfg = train_td::TdConfig::wb(seed);
            cfg.progress = progress;
            cfg.shared = td.shared;
            if let Some(g) = td.init_gain {
                cfg.init_gain = g;
            }
            let r = train_td::train(&cfg)?;
            Ok(if json { serde_json::to_string(&r).expect("serializable") } else { render_td(&r) })
        }
        other => Err(crate::error::InputError::new("WHICH", format!("unknown training {other:?}: use sarsa or td"))),
    }
}

fn render_sarsa(r: &train_sarsa::TrainReport) -> String {
    let s = &r.structure;
    let mut o = String::new();
    o.push_str(&format!(
        "train sarsa --preset {} --seed {}: {} MDPs × {} frames, minibatch {} MDPs, {} Adam steps, {:.1} s ({:.2} µs/frame)\n",
        r.preset, r.seed, r.mdps, r.frames, r.minibatch, r.adam_steps, r.wall_seconds, r.us_per_frame
    ));
    o.push_str(&format!("loss (mean of first / last 1 % of steps): {:.3e} → {:.3e}\n", r.loss_first, r.loss_last));
    o.push_str(&format!(
        "structure: cosine {:.4} (V̄21 vs A⋆ {:.4}, P12 vs B⋆ {:.4}), V̄21[:, :d] vs I: cosine {:.4}, diag/off-diag {:.1}; c ≈ {:.4}, α ≈ {:.4}; ‖P22‖ {:.2e}, ‖V̄22‖ {:.2e}\n",
        s.structure_cosine, s.cos_v21, s.cos_p12, s.identity_cosine, s.diag_offdiag_ratio, s.c_hat, s.alpha_hat, s.p22_norm, s.v22_norm
    ));
    o.push_str("held-out greedy return per in-context step (mean over MDPs):\n  step   model  teacher\n");
    for i in 0..r.curve_steps.len() {
        o.push_str(&format!("  {:>4} {:>7.4} {:>8.4}\n", r.curve_steps[i], r.curve_model[i], r.curve_teacher[i]));
    }
    o.push_str(&format!(
        "final: model {:.4}, teacher {:.4}, optimal {:.4}, uniform {:.4}; (teacher - model)/(teacher - uniform) = {:.3}",
        r.heldout_return_model,
        r.heldout_return_teacher,
        r.heldout_return_optimal,
        r.heldout_return_uniform,
        (r.heldout_return_teacher - r.heldout_return_model) / (r.heldout_return_teacher - r.heldout_return_uniform)
    ));
    o
}

fn render_td(r: &train_td::TdReport) -> String {
    let mut o = format!(
        "train td --seed {}: {} MRPs × {} minibatches × {} prompts ({}), {:.1} s\n",
        r.seed, r.mrps, r.minibatches, r.prompts, r.sizes, r.wall_seconds
    );
    o.push_str(&format!("loss (mean of first / last 1 % of steps): {:.3e} → {:.3e}\n", r.loss_first, r.loss_last));
    o.push_str(&format!(
        "structure cosine (min over layers of P readout-row dominance and cos(C_eff, I)): {:.4}\n",
        r.structure_cosine
    ));
    for (l, s) in r.layers.iter().enumerate() {
        o.push_str(&format!(
            "  layer {l}: |P[2d,2d]|/‖P[2d,:]‖ {:.4}, cos(C_eff, I) {:.4} (whole P: {:.3}, Q in [-X, X] form: {:.3}), diag C_eff {:?}\n",
            s.p_row_dominance,
            s.c_identity_cosine,
            s.p_dominance,
            s.q_cosine,
            (0..s.c_eff.len()).map(|i| (s.c_eff[i][i] * 1000.0).round() / 1000.0).collect::<Vec<_>>()
        ));
    }
    o.push_str(&format!(
        "held-out MSVE of v̂(query): trained {:.4}, construction (C = I) {:.4}, zero predictor {:.4}",
        r.heldout_msve_model, r.heldout_msve_construction, r.heldout_msve_zero
    ));
    o
}
