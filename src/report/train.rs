//! `icrl train sarsa|td|softmax-td`: run the training experiments of `crate::dynamics` and assemble their
//! report (Markdown, numbers, figures), as every `report` kind does.

use super::Output;

/// Options of `icrl train td` beyond the seed.
#[derive(Clone, Copy, Debug, Default)]
pub struct TdOptions {
    /// `--shared`: one `(P, Q)` looped over the layers.
    pub shared: bool,
    /// `--init-gain G`: override the Xavier-normal gain (default `0.1 / L`).
    pub init_gain: Option<f64>,
}

/// `icrl train WHICH [--preset P] [--seed S]`: train and return the report ([`Output`]
/// named `train-sarsa` or `train-td`: Markdown, numbers, figures). It measures (exit 0).
pub fn cli_train(
    which: &str,
    preset: &str,
    seed: u64,
    progress: bool,
    td: TdOptions,
) -> Result<Output, crate::error::InputError> {
    use super::plot::{Axis, Figure, Lines, Mark, Panel, Series, Width, GREY, REFERENCE};
    match which {
        "sarsa" => {
            let mut cfg = crate::dynamics::train_sarsa::TrainConfig::preset(preset, seed)?;
            cfg.progress = progress;
            let r = crate::dynamics::train_sarsa::train(&cfg, preset)?;
            let xs: Vec<f64> = r.curve_steps.iter().map(|&k| k as f64).collect();
            let fig = Figure::new(
                "train-sarsa-control",
                Width::One,
                vec![Panel::Lines(Lines {
                    title: format!("train sarsa --preset {preset}: held-out greedy return"),
                    xlabel: "in-context step".into(),
                    ylabel: "mean discounted return".into(),
                    x: Axis::Linear,
                    y: Axis::Linear,
                    series: vec![
                        Series::line("trained model", xs.iter().copied().zip(r.curve_model.iter().copied()).collect()),
                        Series::line("teacher", xs.iter().copied().zip(r.curve_teacher.iter().copied()).collect()),
                        Series::line("optimal", xs.iter().map(|x| (*x, r.heldout_return_optimal)).collect())
                            .mark(Mark::Dashed)
                            .color(REFERENCE),
                        Series::line("uniform", xs.iter().map(|x| (*x, r.heldout_return_uniform)).collect())
                            .mark(Mark::Dashed)
                            .color(GREY),
                    ],
                })],
            );
            Ok(Output {
                name: "train-sarsa".into(),
                summary: format!(
                    "[LL] train sarsa --preset {preset}: structure cosine {:.3}, held-out return model {:.3} vs teacher {:.3}",
                    r.structure.structure_cosine, r.heldout_return_model, r.heldout_return_teacher
                ),
                markdown: render_sarsa(&r),
                numbers: serde_json::to_value(&r).expect("serializable"),
                figures: vec![fig],
                holds: None,
            })
        }
        "td" => {
            if preset != "small" {
                return Err(crate::error::InputError::new(
                    "--preset",
                    "train td has one setting ([WB]'s full setting); --preset applies to sarsa",
                ));
            }
            let mut cfg = crate::dynamics::train_td::TdConfig::wb(seed);
            cfg.progress = progress;
            cfg.shared = td.shared;
            if let Some(g) = td.init_gain {
                cfg.init_gain = g;
            }
            train_td_output(&cfg)
        }
        other => Err(crate::error::InputError::new("WHICH", format!("unknown training {other:?}: use sarsa or td"))),
    }
}

/// `icrl train td` on any [`crate::dynamics::train_td::TdConfig`] (the CLI passes [WB]'s setting,
/// `TdConfig::wb`): train and return the report named `train-td` (Markdown, numbers, the
/// trained `P` of every layer as heat maps). The snapshot test runs it on a small setting.
pub fn train_td_output(cfg: &crate::dynamics::train_td::TdConfig) -> Result<Output, crate::error::InputError> {
    use super::plot::{Figure, Heat, Panel, Width};
    let r = crate::dynamics::train_td::train(cfg)?;
    let panels =
        r.p.iter()
            .enumerate()
            .map(|(l, p)| {
                Panel::Heat(Heat {
                    title: format!("trained P of layer {l}"),
                    xlabel: "column j".into(),
                    ylabel: "row i".into(),
                    matrix: p.clone(),
                })
            })
            .collect();
    let fig = Figure::new("train-td-p", Width::Two, panels);
    Ok(Output {
        name: "train-td".into(),
        summary: format!(
            "[WB] train td: structure cosine {:.3}, held-out MSVE trained {:.4} vs construction {:.4}",
            r.structure_cosine, r.heldout_msve_model, r.heldout_msve_construction
        ),
        markdown: render_td(&r),
        numbers: serde_json::to_value(&r).expect("serializable"),
        figures: vec![fig],
        holds: None,
    })
}

/// The structure metrics of a trained [LL] block as `(name, value)` rows (the `train sarsa` page
/// and the `emergence` report print the same table).
pub(crate) fn structure_rows(s: &crate::probe::sarsa::Structure) -> [(&'static str, f64); 9] {
    [
        ("structure cosine", s.structure_cosine),
        ("cos(V̄21, A⋆)", s.cos_v21),
        ("cos(P12, B⋆)", s.cos_p12),
        ("cos(V̄21[:, :d], I)", s.identity_cosine),
        ("diag/off-diag", s.diag_offdiag_ratio),
        ("c ≈", s.c_hat),
        ("α ≈", s.alpha_hat),
        ("‖P22‖", s.p22_norm),
        ("‖V̄22‖", s.v22_norm),
    ]
}

fn render_sarsa(r: &crate::dynamics::train_sarsa::TrainReport) -> String {
    let s = &r.structure;
    let mut o = format!("# train sarsa --preset {} --seed {}\n\n", r.preset, r.seed);
    o.push_str(&format!(
        "{} MDPs × {} frames, minibatch {} MDPs, {} Adam steps, {:.1} s ({:.2} µs/frame).\n\n",
        r.mdps, r.frames, r.minibatch, r.adam_steps, r.wall_seconds, r.us_per_frame
    ));
    o.push_str(&format!("Loss (mean of first / last 1 % of steps): {:.3e} → {:.3e}.\n\n", r.loss_first, r.loss_last));
    o.push_str("| structure | value |\n|:---|---:|\n");
    for (k, v) in structure_rows(s) {
        o.push_str(&format!("| {k} | {v:.4} |\n"));
    }
    o.push_str("\nHeld-out greedy return per in-context step (mean over MDPs):\n\n| step | model | teacher |\n|---:|---:|---:|\n");
    for i in 0..r.curve_steps.len() {
        o.push_str(&format!("| {} | {:.4} | {:.4} |\n", r.curve_steps[i], r.curve_model[i], r.curve_teacher[i]));
    }
    o.push_str(&format!(
        "\nFinal: model {:.4}, teacher {:.4}, optimal {:.4}, uniform {:.4}; (teacher − model)/(teacher − uniform) = {:.3}.\n",
        r.heldout_return_model,
        r.heldout_return_teacher,
        r.heldout_return_optimal,
        r.heldout_return_uniform,
        (r.heldout_return_teacher - r.heldout_return_model) / (r.heldout_return_teacher - r.heldout_return_uniform)
    ));
    o
}

fn render_td(r: &crate::dynamics::train_td::TdReport) -> String {
    // The sizes as a reader writes them (the JSON keeps `sizes` as an object).
    let z = &r.sizes;
    let sizes = format!(
        "|S| = {}, d = {}, n = {}, L = {}, γ = {}, Adam lr = {}, init gain = {:.4}, {} layers",
        z["n_states"],
        z["d"],
        z["n"],
        z["layers"],
        z["gamma"],
        z["lr"],
        z["init_gain"].as_f64().unwrap_or(f64::NAN),
        if z["shared_layers"].as_bool() == Some(true) { "shared" } else { "independent" }
    );
    let mut o = format!(
        "# train td --seed {}\n\n{} MRPs × {} minibatches × {} prompts ({sizes}), {:.1} s.\n\n",
        r.seed, r.mrps, r.minibatches, r.prompts, r.wall_seconds
    );
    o.push_str(&format!("Loss (mean of first / last 1 % of steps): {:.3e} → {:.3e}.\n\n", r.loss_first, r.loss_last));
    o.push_str(&format!(
        "Structure cosine (min over layers of P readout-row dominance and cos(C_eff, I)): {:.4}.\n\n",
        r.structure_cosine
    ));
    o.push_str("| layer | \\|P[2d,2d]\\| / ‖P[2d,:]‖ | cos(C_eff, I) | whole P | Q in [−X, X] form | diag C_eff |\n|---:|---:|---:|---:|---:|:---|\n");
    for (l, s) in r.layers.iter().enumerate() {
        o.push_str(&format!(
            "| {l} | {:.4} | {:.4} | {:.3} | {:.3} | {:?} |\n",
            s.p_row_dominance,
            s.c_identity_cosine,
            s.p_dominance,
            s.q_cosine,
            (0..s.c_eff.len()).map(|i| (s.c_eff[i][i] * 1000.0).round() / 1000.0).collect::<Vec<_>>()
        ));
    }
    o.push_str(&format!(
        "\nHeld-out MSVE of v̂(query): trained {:.4}, construction (C = I) {:.4}, zero predictor {:.4}.\n",
        r.heldout_msve_model, r.heldout_msve_construction, r.heldout_msve_zero
    ));
    o
}

/// `icrl train softmax-td` on any [`crate::dynamics::train_softmax::SoftmaxTdConfig`] (the CLI
/// passes `SoftmaxTdConfig::default_setting` with `--seed`, `--dense`, `--init-gain`): train and
/// return the report named `train-softmax-td` (Markdown, numbers, heat maps of the learned
/// against the constructed blocks of one layer, MSVE against depth). The snapshot test runs it
/// on a small setting.
pub fn train_softmax_output(
    cfg: &crate::dynamics::train_softmax::SoftmaxTdConfig,
) -> Result<Output, crate::error::InputError> {
    use super::plot::{Axis, Figure, Heat, Lines, Mark, Panel, Series, Width, GREY, REFERENCE};
    use crate::dynamics::train_softmax::{construction_theta, train};
    let r = train(cfg)?;
    let (w, b) = (cfg.d + 3, (cfg.d + 3) * (cfg.d + 3));
    // The heat maps show the layer whose every block reaches the readout when there is one
    // (layer 1 of L ≥ 3: layer 0 reads zero memory rows, layer L−1's V² is inert).
    let fl = if cfg.layers >= 3 { 1 } else { 0 };
    let con = construction_theta(cfg.d, cfg.gamma, cfg.layers, 1.0);
    let rows = |x: &[f64]| -> Vec<Vec<f64>> { x.chunks(w).map(|c| c.to_vec()).collect() };
    let s = &r.layers[fl];
    let gauged = crate::dynamics::train_softmax::gauge(&r.theta, cfg.d, r.gauge_c);
    let mut figures = Vec::new();
    for (h, (name, scale)) in [("A", s.a_hat), ("V1", s.alpha1_hat), ("V2", s.alpha2_hat)].into_iter().enumerate() {
        let range = (3 * fl + h) * b..(3 * fl + h + 1) * b;
        let k = scale.unwrap_or(1.0);
        let scaled: Vec<f64> = con[range.clone()].iter().map(|x| k * x).collect();
        let label =
            if scale.is_some() { format!("construction × fitted scale {k:.3}") } else { "construction".into() };
        figures.push(Figure::new(
            format!("train-softmax-td-{}", name.to_lowercase()),
            Width::Two,
            vec![
                Panel::Heat(Heat {
                    title: format!("trained {name} of layer {fl} (gauge c = {})", r.gauge_c),
                    xlabel: "column j".into(),
                    ylabel: "row i".into(),
                    matrix: rows(&gauged[range]),
                }),
                Panel::Heat(Heat {
                    title: format!("{label}, layer {fl}"),
                    xlabel: "column j".into(),
                    ylabel: "row i".into(),
                    matrix: rows(&scaled),
                }),
            ],
        ));
    }
    let pts = |v: &[f64]| v.iter().enumerate().map(|(k, &y)| ((k + 1) as f64, y)).collect::<Vec<_>>();
    let lmax = r.msve_by_depth_construction.len() as f64;
    figures.push(Figure::new(
        "train-softmax-td-depth",
        Width::One,
        vec![Panel::Lines(Lines {
            title: "held-out MSVE of v̂(query) against depth".into(),
            xlabel: "layers k".into(),
            ylabel: "MSVE".into(),
            x: Axis::Linear,
            y: Axis::Linear,
            series: vec![
                Series::line("trained (first k layers)", pts(&r.msve_by_depth_model))
                    .mark(Mark::LineDots(vec![true; r.msve_by_depth_model.len()])),
                Series::line("construction α = 1", pts(&r.msve_by_depth_construction))
                    .mark(Mark::LineDots(vec![true; r.msve_by_depth_construction.len()]))
                    .color(REFERENCE),
                Series::line("zero predictor", vec![(1.0, r.heldout_msve_zero), (lmax, r.heldout_msve_zero)])
                    .mark(Mark::Dashed)
                    .color(GREY),
            ],
        })],
    ));
    let mode = if cfg.dense { "dense" } else { "masked" };
    Ok(Output {
        name: "train-softmax-td".into(),
        summary: format!(
            "[XZ] train softmax-td ({mode}): structure cosine {:.3}, held-out MSVE trained {:.4} vs construction {:.4} vs zero {:.4}",
            r.structure_cosine, r.heldout_msve_model, r.heldout_msve_construction, r.heldout_msve_zero
        ),
        markdown: render_softmax(&r, cfg),
        numbers: serde_json::to_value(&r).expect("serializable"),
        figures,
        holds: None,
    })
}

fn render_softmax(
    r: &crate::dynamics::train_softmax::SoftmaxTdReport,
    cfg: &crate::dynamics::train_softmax::SoftmaxTdConfig,
) -> String {
    let f = |x: Option<f64>| x.map_or("—".to_string(), |v| format!("{v:.4}"));
    let mode = if cfg.dense { " --dense" } else { "" };
    let mut o = format!("# train softmax-td --seed {}{mode}\n\n", r.seed);
    o.push_str(&format!(
        "{} MRPs × {} prompts, one Adam step per MRP (|S| = {}, d = {}, n = {}, L = {}, γ = {}, Adam lr = {}, init gain = {}); {}: {} free of {} parameters, {} effective; {:.1} s.\n\n",
        cfg.mrps,
        cfg.batch,
        cfg.n_states,
        cfg.d,
        cfg.n,
        cfg.layers,
        cfg.gamma,
        cfg.lr,
        cfg.init_gain,
        if cfg.dense { "dense" } else { "construction's sparsity mask" },
        r.free_params,
        cfg.n_params(),
        r.effective_params,
        r.wall_seconds
    ));
    o.push_str(&format!(
        "Loss ½δ² (mean of first / last 1 % of steps): {:.3e} → {:.3e}.\n\n",
        r.loss_first, r.loss_last
    ));
    o.push_str(&format!(
        "Structure cosine (min over layers and blocks of the cosines below, effective entries only, in the better sign gauge c = {} of the target-memory row): {:.4} (at c = 1: {:.4}).\n\n",
        r.gauge_c, r.structure_cosine, r.structure_cosine_c1
    ));
    o.push_str("| layer | cos(A, diag(I_d, 0)) | a | cos(V¹, e_{d+2}uᵀ) | α¹ | cos(V², γ e_{d+1}uᵀ) | α² |\n|---:|---:|---:|---:|---:|---:|---:|\n");
    for (l, s) in r.layers.iter().enumerate() {
        o.push_str(&format!(
            "| {l} | {} | {} | {} | {} | {} | {} |\n",
            f(s.cos_a),
            f(s.a_hat),
            f(s.cos_v1),
            f(s.alpha1_hat),
            f(s.cos_v2),
            f(s.alpha2_hat)
        ));
    }
    o.push_str(&format!(
        "\nHeld-out MSVE of v̂(query) against v_π(query) ({} fresh MRPs): trained {:.4}, construction (α_l = 1, L layers) {:.4}, zero predictor {:.4}.\n\n",
        crate::dynamics::train_softmax::HELDOUT,
        r.heldout_msve_model,
        r.heldout_msve_construction,
        r.heldout_msve_zero
    ));
    o.push_str("| depth k | trained (first k layers) | construction |\n|---:|---:|---:|\n");
    for (k, c) in r.msve_by_depth_construction.iter().enumerate() {
        let m = r.msve_by_depth_model.get(k).map_or("—".to_string(), |v| format!("{v:.4}"));
        o.push_str(&format!("| {} | {m} | {c:.4} |\n", k + 1));
    }
    o
}
