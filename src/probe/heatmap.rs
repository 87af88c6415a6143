//! `probe.svg`: learned matrices (top row) against the nearest construction (bottom row), one
//! column per matrix, each learned/nearest pair on its own symmetric colour scale (red
//! positive, blue negative).

use super::Probe;
use crate::error::InputError;
use crate::linalg::Mat;
use crate::weights::Weights;
use plotters::prelude::*;
use std::path::Path;

fn io_err(path: &Path, e: impl std::fmt::Display) -> InputError {
    InputError::new("--out", format!("cannot write {}: {e}", path.display()))
}

fn rows_of(v: &[f64], cols: usize) -> Mat<f64> {
    Mat::from_vec(v.len() / cols.max(1), cols, v.to_vec())
}

/// `(title, learned, nearest)` panels of a probe.
pub fn panels(w: &Weights, p: &Probe) -> Vec<(String, Mat<f64>, Mat<f64>)> {
    match (w, p) {
        (Weights::Lsa { .. }, Probe::Sarsa(r)) => {
            let d = r.d;
            let stack = |a: &[f64], b: &[f64]| {
                let mut m = a.to_vec();
                m.extend_from_slice(b);
                rows_of(&m, d + 1)
            };
            let side = |a: &[f64], b: &[f64]| {
                let (t, e) = (2 * d + 1, d + 1);
                Mat::from_fn(d, t + e, |i, j| if j < t { a[i * t + j] } else { b[i * e + j - t] })
            };
            vec![
                (
                    "[P12; P22]".to_string(),
                    stack(&r.reduced.p12, &r.reduced.p22),
                    stack(&r.nearest.p12, &r.nearest.p22),
                ),
                (
                    "[V21bar V22bar]".to_string(),
                    side(&r.reduced.v21_bar, &r.reduced.v22_bar),
                    side(&r.nearest.v21_bar, &r.nearest.v22_bar),
                ),
            ]
        }
        (Weights::Td(layers), _) => layers
            .iter()
            .enumerate()
            .flat_map(|(l, x)| {
                let (np, nq) = super::linear_td::nearest_layer(&x.p, &x.q);
                vec![(format!("P{l}"), x.p.clone(), np), (format!("Q{l}"), x.q.clone(), nq)]
            })
            .collect(),
        (Weights::Softmax(layers), _) => super::two_head_layers(layers)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .flat_map(|(l, m)| {
                let nm = super::softmax::nearest_layer(m);
                ["A", "V1", "V2"]
                    .iter()
                    .enumerate()
                    .map(move |(k, name)| (format!("{name}_{l}"), m[k].clone(), nm[k].clone()))
                    .collect::<Vec<_>>()
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn color(x: f64, vmax: f64) -> RGBColor {
    let t = (x / vmax).clamp(-1.0, 1.0);
    if t >= 0.0 {
        RGBColor(255, (255.0 * (1.0 - t)) as u8, (255.0 * (1.0 - t)) as u8)
    } else {
        RGBColor((255.0 * (1.0 + t)) as u8, (255.0 * (1.0 + t)) as u8, 255)
    }
}

/// Write the heat maps.
pub fn write(path: &Path, w: &Weights, p: &Probe) -> Result<(), InputError> {
    let ps = panels(w, p);
    let k = ps.len().max(1) as u32;
    let root = SVGBackend::new(path, (260 * k, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| io_err(path, e))?;
    let root = root
        .titled("learned (top) vs nearest construction (bottom)", ("sans-serif", 18))
        .map_err(|e| io_err(path, e))?;
    let cells = root.split_evenly((2, ps.len().max(1)));
    for (c, (name, learned, nearest)) in ps.iter().enumerate() {
        let vmax = learned.max_abs().max(nearest.max_abs()).max(1e-300);
        for (r, (m, label)) in [(learned, "learned"), (nearest, "nearest")].into_iter().enumerate() {
            let (rows, cols) = (m.rows(), m.cols());
            let mut chart = ChartBuilder::on(&cells[r * ps.len() + c])
                .caption(format!("{name} {label} (|max| {vmax:.3})"), ("sans-serif", 13))
                .margin(8)
                .build_cartesian_2d(0..cols as i32, 0..rows as i32)
                .map_err(|e| io_err(path, e))?;
            chart
                .draw_series((0..rows).flat_map(|i| {
                    (0..cols).map(move |j| {
                        let yi = (rows - 1 - i) as i32;
                        Rectangle::new([(j as i32, yi), (j as i32 + 1, yi + 1)], color(m[(i, j)], vmax).filled())
                    })
                }))
                .map_err(|e| io_err(path, e))?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0, 0), (cols as i32, rows as i32)],
                    BLACK.stroke_width(1),
                )))
                .map_err(|e| io_err(path, e))?;
        }
    }
    root.present().map_err(|e| io_err(path, e))?;
    Ok(())
}
