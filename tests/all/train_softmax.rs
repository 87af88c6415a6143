//! `icrl train softmax-td` (`src/dynamics/train_softmax.rs`, `proofs/xz-emergence.md`): the
//! minibatch gradient against central differences (dense and masked points, with a negative
//! control), the workspace forward pass against the canonical one (bit for bit), the inert
//! entries, the sparsity mask kept exactly, thread-count determinism, the negative controls of
//! `structure_cosine`, and a tiny run's JSON keys and Markdown (snapshot, timing masked).

use icrl_proofs::attention::softmax::query_readouts;
use icrl_proofs::dynamics::softmax_grad::{layers_from, readout, readout_grad};
use icrl_proofs::dynamics::train_softmax::{
    construction_theta, effective_mask, free_mask, gauge, gauge_fixed_structure, inert_mask, init_theta,
    layer_structure, minibatch_loss_detached, minibatch_loss_grad, rescale_row, step_data, structure_cosine, train,
    SoftmaxTdConfig,
};
use icrl_proofs::rng::case_rng;
use icrl_proofs::tolerance::{FD_REL_TOL, NEU_FD_STEPS};
use rand::Rng;

/// A setting small enough for a debug-free second: every block shape of the default
/// (`L = 3`, so layer 1 has no inert entry), smaller `d`, `n`, batch.
fn tiny(seed: u64) -> SoftmaxTdConfig {
    SoftmaxTdConfig {
        d: 2,
        n_states: 3,
        n: 6,
        layers: 3,
        mrps: 40,
        batch: 12,
        ..SoftmaxTdConfig::default_setting(seed)
    }
}

fn random_theta(seed: u64, p: usize, spread: f64, keep: &[bool]) -> Vec<f64> {
    let mut rng = case_rng(seed, "test-train-softmax-theta", 0);
    (0..p).map(|i| if keep[i] { spread * rng.random_range(-1.0..1.0) } else { 0.0 }).collect()
}

/// `max_i |g_i - fd_i| / max(1, max |g|)`, `fd` the central difference of the detached loss.
fn fd_error(cfg: &SoftmaxTdConfig, t: u64, theta: &[f64], g: &[f64], h: f64) -> f64 {
    let data = step_data(cfg, t);
    let layers = layers_from(theta, cfg.d);
    let boot: Vec<f64> = (0..cfg.batch).map(|j| readout(&data.windows[j + 1], &layers)).collect();
    let scale = g.iter().fold(1.0f64, |a, x| a.max(x.abs()));
    let mut worst = 0.0f64;
    for i in 0..theta.len() {
        let (mut up, mut dn) = (theta.to_vec(), theta.to_vec());
        up[i] += h;
        dn[i] -= h;
        let fd = (minibatch_loss_detached(&data, &up, cfg.d, cfg.gamma, &boot)
            - minibatch_loss_detached(&data, &dn, cfg.d, cfg.gamma, &boot))
            / (2.0 * h);
        worst = worst.max((fd - g[i]).abs());
    }
    worst / scale
}

#[test]
fn minibatch_gradient_agrees_with_central_differences_dense_and_masked() {
    let cfg = tiny(3);
    let p = cfg.n_params();
    for (k, dense) in [(0u64, true), (1, false)] {
        // Dense: every entry nonzero (every path of the backward pass carries weight); masked:
        // only the construction's support, as the masked training sees it.
        let keep = free_mask(cfg.d, cfg.layers, dense);
        let theta = random_theta(k, p, 0.8, &keep);
        let data = step_data(&cfg, k);
        let (loss, g) = minibatch_loss_grad(&data, &theta, cfg.d, cfg.gamma);
        assert!(loss > 0.0 && loss.is_finite());
        for h in NEU_FD_STEPS {
            let err = fd_error(&cfg, k, &theta, &g, h);
            assert!(err <= FD_REL_TOL, "dense {dense}, h = {h:e}: gradient vs central differences {err:e}");
        }
        // Negative control: the same check rejects a gradient with layer 0's A block negated.
        let b = (cfg.d + 3) * (cfg.d + 3);
        let ga = g[..b].iter().fold(0.0f64, |a, x| a.max(x.abs()));
        assert!(ga > 1e3 * FD_REL_TOL, "dense {dense}: max |dℓ/dA_0| = {ga:e}");
        let mut bad = g.clone();
        bad[..b].iter_mut().for_each(|x| *x = -*x);
        assert!(fd_error(&cfg, k, &theta, &bad, NEU_FD_STEPS[0]) > 1e3 * FD_REL_TOL);
    }
}

#[test]
fn workspace_forward_equals_the_canonical_forward_pass_bit_for_bit() {
    let cfg = tiny(5);
    let keep = free_mask(cfg.d, cfg.layers, true);
    for k in 0..3u64 {
        let theta = random_theta(10 + k, cfg.n_params(), 1.0, &keep);
        let layers = layers_from(&theta, cfg.d);
        let data = step_data(&cfg, k);
        for z in &data.windows {
            let (v, _) = readout_grad(z, &layers);
            assert_eq!(v.to_bits(), query_readouts(z, &layers).last().unwrap().to_bits());
        }
    }
}

#[test]
fn inert_entries_are_exactly_those_with_identically_zero_gradient() {
    let cfg = tiny(7);
    let inert = inert_mask(cfg.d, cfg.layers);
    let keep = free_mask(cfg.d, cfg.layers, true);
    let mut reached = vec![false; cfg.n_params()];
    for k in 0..4u64 {
        let theta = random_theta(20 + k, cfg.n_params(), 1.0, &keep);
        let layers = layers_from(&theta, cfg.d);
        for z in &step_data(&cfg, k).windows {
            let (_, g) = readout_grad(z, &layers);
            for (i, x) in g.iter().enumerate() {
                if inert[i] {
                    assert_eq!(*x, 0.0, "inert entry {i} has gradient {x:e}");
                }
                reached[i] |= *x != 0.0;
            }
        }
    }
    for i in 0..cfg.n_params() {
        assert!(inert[i] || reached[i], "entry {i} is not listed inert but never had a gradient");
    }
}

#[test]
fn masked_entries_stay_exactly_zero_and_dense_moves_them() {
    let cfg = tiny(1);
    let free = free_mask(cfg.d, cfg.layers, false);
    assert_eq!(free.iter().filter(|&&f| f).count(), cfg.layers * (cfg.d + 6));
    let r = train(&cfg).unwrap();
    for (i, x) in r.theta.iter().enumerate() {
        if !free[i] {
            assert_eq!(x.to_bits(), 0.0f64.to_bits(), "masked entry {i} moved to {x:e}");
        }
    }
    let init = init_theta(&cfg, &free);
    assert!(r.theta.iter().zip(&init).any(|(a, b)| a != b), "the free entries trained");
    let dense = train(&SoftmaxTdConfig { dense: true, ..cfg }).unwrap();
    assert!(dense.theta.iter().zip(&free).any(|(x, &f)| !f && *x != 0.0), "dense trains outside the mask");
}

#[test]
fn training_is_bit_identical_on_one_and_two_threads() {
    let cfg = tiny(2);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| train(&cfg).unwrap())
    };
    let (one, two) = (run(1), run(2));
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.theta), bits(&two.theta));
    assert_eq!(one.heldout_msve_model.to_bits(), two.heldout_msve_model.to_bits());
    assert_eq!(one.msve_by_depth_construction, two.msve_by_depth_construction);
}

#[test]
fn structure_cosine_is_one_at_the_construction_and_fails_its_negative_controls() {
    let (d, gamma, l) = (3, 0.9, 3);
    for dense in [false, true] {
        let eff = effective_mask(d, l, dense);
        // The metric of the report: the better sign gauge of the target-memory row.
        let score = |t: &[f64]| structure_cosine(&gauge_fixed_structure(t, d, gamma, &eff).1);
        // Positive: the construction at any positive step, any positive scale of A.
        for alpha in [1.0, 0.3] {
            let mut con = construction_theta(d, gamma, l, alpha);
            for x in con.iter_mut().take((d + 3) * (d + 3)) {
                *x *= 2.5;
            }
            assert!((score(&con) - 1.0).abs() <= 1e-12, "dense {dense}: construction scores {}", score(&con));
        }
        // The construction in the sign gauge c = −1 is the same function: it scores 1, while
        // the cosines in its own basis see the flip. A gauge |c| ≠ 1 is not quotiented out:
        // it scores below 1 (the metric under-reports, documented).
        let flipped = gauge(&construction_theta(d, gamma, l, 1.0), d, -1.0);
        assert!((score(&flipped) - 1.0).abs() <= 1e-12, "dense {dense}: sign gauge scores {}", score(&flipped));
        assert!(structure_cosine(&layer_structure(&flipped, d, gamma, &eff)) < 0.0);
        let scaled = gauge(&construction_theta(d, gamma, l, 1.0), d, 2.0);
        assert!(score(&scaled) < 1.0 - 1e-3);
        // α → −α: every head points the wrong way.
        assert!((score(&construction_theta(d, gamma, l, -1.0)) + 1.0).abs() <= 1e-12);
        // A → −A in one layer: the attention prefers dissimilar states.
        let b = (d + 3) * (d + 3);
        let mut flip_a = construction_theta(d, gamma, l, 1.0);
        flip_a[3 * b..4 * b].iter_mut().for_each(|x| *x = -*x);
        assert!((score(&flip_a) + 1.0).abs() <= 1e-12);
        // V¹ transposed in every layer (the TD row becomes a column): at most 1/√3.
        let mut tr = construction_theta(d, gamma, l, 1.0);
        let w = d + 3;
        for layer in 0..l {
            let o = (3 * layer + 1) * b;
            let v: Vec<f64> = tr[o..o + b].to_vec();
            for i in 0..w {
                for k in 0..w {
                    tr[o + i * w + k] = v[k * w + i];
                }
            }
        }
        let s = score(&tr);
        assert!(s <= 1.0 / 3f64.sqrt() + 1e-12, "dense {dense}: transposed V¹ scores {s}");
        // A random init (gain 1, dense support restricted to the free entries) scores low.
        for seed in 0..4u64 {
            let cfg = SoftmaxTdConfig { dense, init_gain: 1.0, ..SoftmaxTdConfig::default_setting(seed) };
            let t = init_theta(&cfg, &free_mask(d, l, dense));
            assert!(score(&t) < 0.5, "dense {dense}, seed {seed}: a random init scores {}", score(&t));
        }
    }
}

/// The gauge is a symmetry: with `c` a power of two every intermediate of the forward pass is
/// an exact power-of-two rescale of the original's, so the readout is equal bit for bit.
/// Negative control: the same rescaling of the readout row `d+2` (not a symmetry) changes it.
#[test]
fn the_target_memory_gauge_leaves_the_readout_unchanged() {
    let cfg = tiny(9);
    let keep = free_mask(cfg.d, cfg.layers, true);
    let theta = random_theta(30, cfg.n_params(), 1.0, &keep);
    for c in [-2.0, 0.25] {
        let g = gauge(&theta, cfg.d, c);
        let (l0, l1) = (layers_from(&theta, cfg.d), layers_from(&g, cfg.d));
        for z in &step_data(&cfg, 0).windows {
            assert_eq!(readout(z, &l0).to_bits(), readout(z, &l1).to_bits(), "gauge {c}");
        }
        // Rescale row d+2 instead: A → D⁻¹AD⁻¹, V → DVD⁻¹ with D = diag(…, 1, c).
        let bad = rescale_row(&theta, cfg.d, cfg.d + 2, c);
        let z = &step_data(&cfg, 0).windows[0];
        let (v, vb) = (readout(z, &l0), readout(z, &layers_from(&bad, cfg.d)));
        assert!((v - vb).abs() > 1e-3 * v.abs().max(1.0), "rescaling the readout row changed nothing: {v} vs {vb}");
    }
}

#[test]
fn bad_configs_are_errors_naming_the_field() {
    for (cfg, field) in [
        (SoftmaxTdConfig { batch: 0, ..tiny(0) }, "batch"),
        (SoftmaxTdConfig { n_states: 1, ..tiny(0) }, "n_states"),
        (SoftmaxTdConfig { gamma: 1.5, ..tiny(0) }, "gamma"),
        (SoftmaxTdConfig { lr: f64::NAN, ..tiny(0) }, "lr"),
        (SoftmaxTdConfig { mrps: 1 << 40, ..tiny(0) }, "mrps"),
    ] {
        let e = train(&cfg).unwrap_err();
        assert!(e.to_string().contains(field), "{field}: {e}");
    }
}

/// The page with the wall-clock seconds (`…; 0.3 s.`) masked.
fn mask_timing(text: &str) -> String {
    text.lines()
        .map(|l| {
            let toks: Vec<&str> = l.split(' ').collect();
            (0..toks.len())
                .map(|i| {
                    let next = toks.get(i + 1).copied().unwrap_or("");
                    if next == "s." && toks[i].parse::<f64>().is_ok() {
                        "<timing>".to_string()
                    } else {
                        toks[i].to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn tiny_run_json_keys_and_markdown_snapshot() {
    let o = icrl_proofs::report::train::train_softmax_output(&tiny(0)).unwrap();
    assert_eq!(o.name, "train-softmax-td");
    for key in
        ["wall_seconds", "structure_cosine", "heldout_msve_model", "heldout_msve_construction", "heldout_msve_zero"]
    {
        assert!(o.numbers[key].is_number(), "--json lacks {key}");
    }
    assert!(mask_timing(&o.markdown).contains("<timing> s."));
    insta::assert_snapshot!("train_softmax_tiny_seed0", mask_timing(&o.markdown));
    crate::reports::check_output(&o);
}

#[test]
fn dense_is_refused_outside_softmax_td() {
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_icrl")).args(["train", "td", "--dense"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error:") && err.contains("--dense"), "{err}");
    assert!(out.stdout.is_empty());
}
