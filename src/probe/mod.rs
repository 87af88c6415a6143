//! `icrl probe`: what do given (e.g. trained) weights implement? Measurements against the
//! papers' constructions, never a verdict (definitions in `proofs/probe.md`, [D]).
//!
//! - [`sarsa`]: an [LL] block `(P, V)` (arXiv:2605.05755): Lemma C.1 reduction, nearest point
//!   `(ĉ, α̂)` of the SARSA manifold and the distance to it, the cubic term, the error against
//!   batch SARSA on random prompts, `train sarsa`'s structure metrics.
//! - [`linear_td`]: [WB] layers `(P_l, Q_l)` (arXiv:2405.13861): per-layer `C_eff`, readout-row
//!   dominance, `cos(C_eff, I)`, the error of the stack against preconditioned batch TD.
//! - [`softmax`]: [XZ] two-head softmax layers (arXiv:2605.07333) against its construction.
//! - [`load`]: `.json`, `.npz`, `.safetensors` readers.
//!
//! `icrl train sarsa` and `icrl train td` compute their structure metrics with
//! [`sarsa::structure`] and [`linear_td::layer_structure`]: one implementation.

pub mod heatmap;
pub mod linear_td;
pub mod load;
pub mod sarsa;
pub mod softmax;

use crate::error::InputError;
use crate::weights::Weights;
use load::Family;
use sarsa::PromptDist;
use std::path::Path;

/// The probe's result, one variant per family.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(untagged)]
pub enum Probe {
    /// [LL] block.
    Sarsa(Box<sarsa::SarsaProbe>),
    /// [WB] stack.
    LinearTd(linear_td::TdProbe),
    /// [XZ] stack.
    SoftmaxTd(softmax::SoftmaxProbe),
}

/// Probe weights (as [`load::read_weights`] returns them, or an instance's `weights`) on
/// prompts drawn from `seed`. Softmax layers must be in the [XZ] two-head form (head 1
/// unshifted, head 2 shifted); otherwise the error names the layer.
pub fn probe(w: &Weights, seed: u64) -> Result<Probe, InputError> {
    let dist = PromptDist::new(seed);
    Ok(match w {
        Weights::Lsa { p, v } => Probe::Sarsa(Box::new(sarsa::probe(p, v, dist))),
        Weights::Td(layers) => {
            let pairs: Vec<_> = layers.iter().map(|l| (l.p.clone(), l.q.clone())).collect();
            Probe::LinearTd(linear_td::probe(&pairs, dist))
        }
        Weights::Softmax(layers) => Probe::SoftmaxTd(softmax::probe(&two_head_layers(layers)?, dist)),
    })
}

/// `[A, V1, V2]` per layer of the [XZ] two-head form.
pub fn two_head_layers(
    layers: &[crate::attention::softmax::MultiHeadLayer],
) -> Result<Vec<[crate::linalg::Mat<f64>; 3]>, InputError> {
    layers
        .iter()
        .enumerate()
        .map(|(l, x)| match x.heads.as_slice() {
            [h1, h2] if !h1.shift && h2.shift && x.mask_query => Ok([x.a.clone(), h1.v.clone(), h2.v.clone()]),
            _ => Err(InputError::new(
                format!("layers[{l}].heads"),
                "the probe reads the [XZ] two-head form: head 1 unshifted, head 2 shifted, query masked",
            )),
        })
        .collect()
}

/// `sin²` of the angle between two matrices as vectors (`1` when either is zero): the distance
/// of a layer's matrix to the construction's direction, shared by the [WB] and [XZ] probes.
fn sin2(x: &crate::linalg::Mat<f64>, star: &crate::linalg::Mat<f64>) -> f64 {
    use crate::linalg::dot;
    let (a, b) = (x.as_slice(), star.as_slice());
    let (nx, ns, c) = (dot(a, a), dot(b, b), dot(a, b));
    if !(nx > 0.0) || !(ns > 0.0) {
        return 1.0;
    }
    (1.0 - c * c / (nx * ns)).clamp(0.0, 1.0)
}

fn g(x: f64) -> String {
    format!("{x:.6e}")
}

/// The human-readable report.
pub fn render(p: &Probe) -> String {
    let mut s = String::new();
    match p {
        Probe::Sarsa(r) => {
            s += &format!("family sarsa, d = {} (D = {})\n", r.d, 3 * r.d + 2);
            s += &format!("nearest SARSA-manifold point: c = {}, alpha = {}\n", g(r.c), g(r.alpha));
            s += &format!(
                "manifold distance {} (P part {}, V part {})\n",
                g(r.manifold_distance),
                g(r.distance_p),
                g(r.distance_v)
            );
            s += &format!(
                "cubic-term share of the update: median {}, max {}\n",
                g(r.cubic_share_median),
                g(r.cubic_share_max)
            );
            s +=
                &format!("error vs batch SARSA(alpha): median {}, max {}\n", g(r.sarsa_error_median), g(r.sarsa_error));
            s += &format!("structure_cosine {}\n", g(r.structure_cosine));
            s += &format!("prompts: {}\n", r.prompts);
        }
        Probe::LinearTd(r) => {
            s += &format!("family linear-td, d = {}, {} layers\n", r.d, r.layers.len());
            s += "layer  c             readout_dom   cos(C_eff,I)  distance\n";
            for (l, x) in r.layers.iter().enumerate() {
                s += &format!(
                    "{l:<6} {:<13} {:<13} {:<13} {}\n",
                    g(x.c),
                    g(x.readout_dominance),
                    g(x.cos_c_eff_identity),
                    g(x.manifold_distance)
                );
            }
            s += &format!("manifold distance (max over layers) {}\n", g(r.manifold_distance));
            s += &format!(
                "implied weights vs preconditioned batch TD(C_eff), in units of the rms weight: median {}, max {} \
                 (per-prompt relative max {})\n",
                g(r.td_error_median),
                g(r.td_error),
                g(r.td_error_per_prompt_max)
            );
            s += &format!("structure_cosine {}\n", g(r.structure_cosine));
            s += &format!("prompts: {}\n", r.prompts);
        }
        Probe::SoftmaxTd(r) => {
            s += &format!("family softmax-td, d = {}, {} layers\n", r.d, r.layers.len());
            s += "layer  beta          alpha         gamma         distance\n";
            for (l, x) in r.layers.iter().enumerate() {
                s += &format!(
                    "{l:<6} {:<13} {:<13} {:<13} {}\n",
                    g(x.beta),
                    g(x.alpha),
                    g(x.gamma),
                    g(x.manifold_distance)
                );
            }
            s += &format!("manifold distance (max over layers) {}\n", g(r.manifold_distance));
            s += &format!("error vs weighted softmax TD: median {}, max {}\n", g(r.td_error_median), g(r.td_error));
            s += &format!("prompts: {}\n", r.prompts);
        }
    }
    s
}

/// `icrl probe FILE --family F [--json] [--out DIR] [--seed S]`: read, validate, probe, write
/// `DIR/probe.svg` (learned vs nearest construction) when asked; returns the text to print.
pub fn run(file: &Path, family: &str, json: bool, out: Option<&Path>, seed: u64) -> Result<String, InputError> {
    let family = Family::parse(family)?;
    let w = load::read_weights(file, family)?;
    let p = probe(&w, seed)?;
    if let Some(dir) = out {
        crate::fsutil::ensure_dir(dir)?;
        heatmap::write(&dir.join("probe.svg"), &w, &p)?;
    }
    Ok(if json {
        serde_json::to_string(&p).map_err(|e| InputError::new("probe", e.to_string()))? + "\n"
    } else {
        render(&p)
    })
}
