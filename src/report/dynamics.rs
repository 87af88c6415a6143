//! `icrl report flow` and `icrl report emergence`: tables (returned as text, snapshotted at
//! fixed seeds with rounded numbers) and plain SVG plots (plotters' SVG backend) written to an
//! output directory.
//!
//! - flow: `log₁₀ L(t)` of the gradient flow with the predicted asymptotic slope `-2λ⁺_min`, the
//!   Gauss–Newton spectra at the construction for random vs one-hot features, and the numbers of
//!   `sarsa-local-convergence`.
//! - emergence: `icrl train sarsa --preset small` at the seed, heat maps of the learned vs the
//!   constructed blocks (construction scaled by the learned `c`), and the closed-loop control
//!   curves.

use super::plot::{Axis, Figure, Heat, Lines, Mark, Panel, Series, Width, GREY, REFERENCE};
use super::Output;
use crate::dynamics::experiment::{self, FlowData};
use crate::dynamics::flow::FlowStop;
use crate::dynamics::loss;
use crate::dynamics::spectrum;
use crate::dynamics::stream::{FeatureKind, StreamPreset};
use crate::error::InputError;
use serde_json::json;

/// Round to 3 significant digits for tables (stable across platforms).
fn r3(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    format!("{x:.2e}")
}

fn spectrum_json(sp: &spectrum::Spectrum) -> serde_json::Value {
    json!({"n_params": sp.n_params, "rank": sp.rank, "zero_eigenvalues": sp.zero_eigenvalues,
           "kernel_cosine": sp.kernel_cosine, "lambda_min_pos": sp.lambda_min_pos, "lambda_max": sp.lambda_max,
           "eigenvalues": sp.eigenvalues})
}

/// `icrl report flow`: the table, the numbers, and the figures `flow-loss` and `flow-spectrum`.
/// It measures (exit 0); `sarsa-local-convergence` in `verify` is the check.
pub fn flow(seed: u64) -> Result<Output, InputError> {
    let data = FlowData { preset: StreamPreset::tiny(), seed };
    let d = data.preset.tab.d;
    let alpha = data.preset.tab.alpha;
    let ts = loss::theta_star(d, alpha, 1.0);
    let mut rng = crate::rng::case_rng(seed, "report/flow", 0);
    let th0 = experiment::perturbed_start(&mut rng, &ts, crate::theorem::dynamics::START_PERTURBATION);
    let pop = data.population();
    let r = experiment::run(&pop, &th0, alpha, &ts, FlowStop::default());
    // one-hot (richness fails)
    let mut oh = data;
    oh.preset.features = FeatureKind::OneHot;
    oh.preset.tab.d = oh.preset.tab.n_states * oh.preset.tab.n_actions;
    let dh = oh.preset.tab.d;
    let tsh = loss::theta_star(dh, alpha, 1.0);
    let poph = oh.population();
    let sph = spectrum::analyse(&poph.gauss_newton(&tsh), &spectrum::tangent(dh, &tsh, 1.0));
    let relaxed = crate::theorem::dynamics::relaxed_run_on(&oh, seed);
    let mut s = String::new();
    s.push_str(&format!("# gradient flow of the teacher-mimicking loss (seed {seed})\n"));
    s.push_str(&format!(
        "training sample: {} MDPs × {} frame(s), |S| = {}, |A| = {}, d = {}, n = {}, γ = {}, α = {}\n",
        data.preset.mdps,
        data.preset.frames,
        data.preset.tab.n_states,
        data.preset.tab.n_actions,
        d,
        data.preset.tab.n,
        data.preset.tab.gamma,
        alpha
    ));
    s.push_str("\n## Gauss–Newton spectrum at the construction θ⋆ (Assumption 1, [R])\n");
    s.push_str("| features | #params | rank | zero eigenvalues | kernel cosine | λ⁺_min | λ_max |\n|---|---|---|---|---|---|---|\n");
    for (name, sp) in [("random", &r.spectrum_star), ("one-hot", &sph)] {
        s.push_str(&format!(
            "| {name} | {} | {} | {} | {:.4} | {} | {} |\n",
            sp.n_params,
            sp.rank,
            sp.zero_eigenvalues,
            sp.kernel_cosine,
            r3(sp.lambda_min_pos),
            r3(sp.lambda_max)
        ));
    }
    s.push_str("\n## Flow from a perturbation of the construction (Thm 3.2)\n");
    s.push_str(&format!(
        "L(0) = {}, L(T) = {}, T = {}, accepted steps {}, rejected {}\n",
        r3(r.loss0),
        r3(r.loss_end),
        r3(r.run.t),
        r.run.accepted,
        r.run.rejected
    ));
    s.push_str(&format!("distance of the limit to the manifold (relative): {}\n", r3(r.manifold_rel)));
    s.push_str(&format!("conservation drift of ‖B‖² − ‖A‖² (relative): {}\n", r3(r.conservation_drift)));
    s.push_str(&format!("c∞ = {:.6}, predicted {:.6}\n", r.c_inf, r.c_pred));
    s.push_str(&format!(
        "λ⁺_min(G at the limit) = {}; asymptotic slope of ln L (slowest mode): measured {}, predicted {} (relative error {}); raw slope of ln L over the last 4 decades {}\n",
        r3(r.spectrum_limit.lambda_min_pos),
        r.slope.map_or("n/a".into(), r3),
        r3(r.slope_pred),
        r.slope.map_or("n/a".into(), |x| r3(((x - r.slope_pred) / r.slope_pred).abs())),
        r.slope_raw.map_or("n/a".into(), r3)
    ));
    s.push_str("\n## Without richness (one-hot features)\n");
    s.push_str(&format!(
        "training loss {} → {}; limit off the manifold by {} (relative); extra kernel directions {}; SARSA error on rich prompts {} (relative)\n",
        r3(relaxed.loss0), r3(relaxed.loss_end), r3(relaxed.manifold_rel), relaxed.extra_kernel, r3(relaxed.rich_error)
    ));
    let trace: Vec<(f64, f64)> = r.run.trace.to_vec();
    let (t_end, l_end) = (r.run.t, r.loss_end);
    let t_start = t_end * 0.4;
    // The predicted asymptote L(t) = L(T) e^{slope (t - T)} over the last 60 % of the run.
    let pred = vec![(t_start, l_end * (r.slope_pred * (t_start - t_end)).exp()), (t_end, l_end)];
    let loss_fig = Figure::new(
        "flow-loss",
        Width::One,
        vec![Panel::Lines(Lines {
            title: "[LL] Thm 3.2: gradient flow of the loss".into(),
            xlabel: "flow time t".into(),
            ylabel: "training loss L(t)".into(),
            x: Axis::Linear,
            y: Axis::Log,
            series: vec![
                Series::line("L(t)", trace),
                Series::line("predicted rate −2λ⁺_min", pred).mark(Mark::Dashed).color(REFERENCE),
            ],
        })],
    );
    let ev = |sp: &spectrum::Spectrum| {
        sp.eigenvalues.iter().enumerate().map(|(i, x)| (i as f64, x.abs())).collect::<Vec<_>>()
    };
    let spec_fig = Figure::new(
        "flow-spectrum",
        Width::One,
        vec![Panel::Lines(Lines {
            title: "Gauss–Newton eigenvalues at θ⋆".into(),
            xlabel: "eigenvalue index".into(),
            ylabel: "|eigenvalue|".into(),
            x: Axis::Linear,
            y: Axis::Log,
            series: vec![
                Series::line("random features", ev(&r.spectrum_star)).mark(Mark::Dots),
                Series::line("one-hot features", ev(&sph)).mark(Mark::Dots),
            ],
        })],
    );
    let numbers = json!({
        "seed": seed,
        "training": {"mdps": data.preset.mdps, "frames": data.preset.frames, "n_states": data.preset.tab.n_states,
                     "n_actions": data.preset.tab.n_actions, "d": d, "n": data.preset.tab.n,
                     "gamma": data.preset.tab.gamma, "alpha": alpha},
        "spectrum_random": spectrum_json(&r.spectrum_star),
        "spectrum_one_hot": spectrum_json(&sph),
        "flow": {"loss0": r.loss0, "loss_end": r.loss_end, "t": r.run.t, "accepted": r.run.accepted,
                 "rejected": r.run.rejected, "manifold_rel": r.manifold_rel, "conservation_drift": r.conservation_drift,
                 "c_inf": r.c_inf, "c_pred": r.c_pred, "lambda_min_pos_limit": r.spectrum_limit.lambda_min_pos,
                 "slope": r.slope, "slope_pred": r.slope_pred, "slope_raw": r.slope_raw},
        "one_hot_relaxed": {"loss0": relaxed.loss0, "loss_end": relaxed.loss_end, "manifold_rel": relaxed.manifold_rel,
                            "extra_kernel": relaxed.extra_kernel, "rich_error": relaxed.rich_error},
    });
    Ok(Output {
        name: "flow".into(),
        summary: format!(
            "[Q] [LL] Thm 3.2: gradient flow reaches the manifold (distance {}), asymptotic slope of ln L {} vs predicted −2λ⁺_min = {}",
            r3(r.manifold_rel),
            r.slope.map_or("n/a".into(), r3),
            r3(r.slope_pred)
        ),
        markdown: s,
        numbers,
        figures: vec![loss_fig, spec_fig],
        holds: None,
    })
}

/// `icrl report emergence`: trains the small preset; the table, the numbers, and the figures
/// `emergence-v21`, `emergence-p12` (heat maps) and `emergence-control`. It measures (exit 0).
pub fn emergence(seed: u64) -> Result<Output, InputError> {
    let cfg = crate::dynamics::train_sarsa::TrainConfig::preset("small", seed)?;
    let r = crate::dynamics::train_sarsa::train(&cfg, "small")?;
    let st = &r.structure;
    let d = cfg.preset.tab.d;
    let t = 2 * d + 1;
    let alpha = cfg.preset.tab.alpha;
    let c = st.c_hat;
    let a_star: Vec<Vec<f64>> =
        (0..d).map(|i| (0..t).map(|j| if i == j { alpha / c } else { 0.0 }).collect()).collect();
    let b_star: Vec<Vec<f64>> = (0..t)
        .map(|i| {
            (0..=d)
                .map(|j| {
                    if i < d && j == i + 1 {
                        -c
                    } else if (i >= d && i < 2 * d && j == i - d + 1) || (i == 2 * d && j == 0) {
                        c
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    let heat = |title: &str, m: Vec<Vec<f64>>| {
        Panel::Heat(Heat { title: title.into(), xlabel: "column j".into(), ylabel: "row i".into(), matrix: m })
    };
    let v21_fig = Figure::new(
        "emergence-v21",
        Width::Two,
        vec![heat("learned V̄21 (first row dropped)", r.v21_bar.clone()), heat("construction (α/c) I", a_star)],
    );
    let p12_fig = Figure::new(
        "emergence-p12",
        Width::Two,
        vec![heat("learned P12", r.p12.clone()), heat("construction c·P12⋆", b_star)],
    );
    let xs: Vec<f64> = r.curve_steps.iter().map(|&k| k as f64).collect();
    let control_fig = Figure::new(
        "emergence-control",
        Width::One,
        vec![Panel::Lines(Lines {
            title: "held-out in-context control: greedy return".into(),
            xlabel: "in-context step".into(),
            ylabel: "mean discounted return".into(),
            x: Axis::Linear,
            y: Axis::Linear,
            series: vec![
                Series::line("trained model", xs.iter().copied().zip(r.curve_model.iter().copied()).collect()),
                Series::line(
                    "teacher (batch SARSA)",
                    xs.iter().copied().zip(r.curve_teacher.iter().copied()).collect(),
                ),
                Series::line("optimal", xs.iter().map(|x| (*x, r.heldout_return_optimal)).collect())
                    .mark(Mark::Dashed)
                    .color(REFERENCE),
                Series::line("uniform", xs.iter().map(|x| (*x, r.heldout_return_uniform)).collect())
                    .mark(Mark::Dashed)
                    .color(GREY),
            ],
        })],
    );
    let mut s = String::new();
    s.push_str(&format!("# emergence: icrl train sarsa --preset small --seed {seed}\n"));
    s.push_str(&format!(
        "{} MDPs × {} frames, minibatch {}, {} Adam steps\n",
        r.mdps, r.frames, r.minibatch, r.adam_steps
    ));
    s.push_str(&format!("loss: first 1 % {} → last 1 % {}\n", r3(r.loss_first), r3(r.loss_last)));
    s.push_str("| metric | value |\n|---|---|\n");
    for (k, v) in super::train::structure_rows(st) {
        s.push_str(&format!("| {k} | {:.3} |\n", v));
    }
    s.push_str("\n| in-context step | model | teacher |\n|---|---|---|\n");
    for i in 0..r.curve_steps.len() {
        s.push_str(&format!("| {} | {:.3} | {:.3} |\n", r.curve_steps[i], r.curve_model[i], r.curve_teacher[i]));
    }
    s.push_str(&format!(
        "\nfinal held-out return: model {:.3}, teacher {:.3}, optimal {:.3}, uniform {:.3}\n",
        r.heldout_return_model, r.heldout_return_teacher, r.heldout_return_optimal, r.heldout_return_uniform
    ));
    Ok(Output {
        name: "emergence".into(),
        summary: format!(
            "[LL] emergence: training from a small init recovers the construction (structure cosine {:.3}); held-out return model {:.3}, teacher {:.3}, optimal {:.3}",
            st.structure_cosine, r.heldout_return_model, r.heldout_return_teacher, r.heldout_return_optimal
        ),
        markdown: s,
        numbers: serde_json::to_value(&r).expect("serializable"),
        figures: vec![v21_fig, p12_fig, control_fig],
        holds: None,
    })
}
