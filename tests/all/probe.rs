//! `icrl probe` (issue 8 item 3): recovery on perturbed constructions, far on random weights,
//! a mutation caught, the loaders on real `.npz` (float32, float64) and `.safetensors` files
//! written by the crates' own writers, bad files (exit 2, one `error:` line naming the array),
//! determinism, and `train`'s structure metrics through the probe.

use icrl_proofs::construction::linear_td::{p_td, q_td};
use icrl_proofs::construction::sarsa::{p_star, v_star, Shape};
use icrl_proofs::construction::softmax::Parts;
use icrl_proofs::linalg::Mat;
use icrl_proofs::probe::{linear_td, sarsa, softmax};
use icrl_proofs::rng::case_rng;
use icrl_proofs::tolerance::{PROBE_EPS, PROBE_FAR, PROBE_RECOVERY_REL};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use std::path::Path;
use std::process::Command;

fn icrl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_icrl")).args(args).output().expect("runs")
}

fn jitter(m: &Mat<f64>, rng: &mut icrl_proofs::rng::Rng, eps: f64) -> Mat<f64> {
    Mat::from_fn(m.rows(), m.cols(), |i, j| m[(i, j)] + rng.random_range(-eps..eps))
}

fn gaussian(rng: &mut icrl_proofs::rng::Rng, n: usize) -> Mat<f64> {
    Mat::from_fn(n, n, |_, _| StandardNormal.sample(rng))
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

fn sarsa_pair(d: usize, c: f64, alpha: f64) -> (Mat<f64>, Mat<f64>) {
    let s = Shape::sarsa(d);
    (p_star(s, &c), v_star(s, &alpha, &0.0, &c))
}

#[test]
fn sarsa_probe_recovers_c_and_alpha_of_a_perturbed_construction() {
    for k in 0..12u64 {
        let mut rng = case_rng(1, "tests/probe-sarsa", k);
        let d = rng.random_range(1..=4);
        let c = if k == 0 { -2.0 } else { rng.random_range(0.1..10.0) * if rng.random_bool(0.5) { -1.0 } else { 1.0 } };
        let alpha = rng.random_range(0.1..10.0f64).min(1.0);
        let (p, v) = sarsa_pair(d, c, alpha);
        let (p, v) = (jitter(&p, &mut rng, PROBE_EPS), jitter(&v, &mut rng, PROBE_EPS));
        let r = sarsa::probe(&p, &v, sarsa::PromptDist::new(k));
        assert!(rel(r.c, c) <= PROBE_RECOVERY_REL, "d={d}: c {} vs {c}", r.c);
        assert!(rel(r.alpha, alpha) <= PROBE_RECOVERY_REL, "d={d}: alpha {} vs {alpha}", r.alpha);
        assert!(r.sarsa_error <= PROBE_RECOVERY_REL, "d={d} c={c} alpha={alpha}: sarsa_error {}", r.sarsa_error);
        assert!(r.manifold_distance <= PROBE_RECOVERY_REL, "distance {}", r.manifold_distance);
        assert!(r.structure_cosine > 1.0 - PROBE_RECOVERY_REL);
    }
}

#[test]
fn sarsa_probe_puts_random_weights_far_and_catches_a_mutation() {
    for k in 0..8u64 {
        let mut rng = case_rng(2, "tests/probe-sarsa-random", k);
        let d = rng.random_range(1..=4);
        let dd = 3 * d + 2;
        let r = sarsa::probe(&gaussian(&mut rng, dd), &gaussian(&mut rng, dd), sarsa::PromptDist::new(k));
        assert!(r.manifold_distance >= PROBE_FAR, "d={d}: distance {}", r.manifold_distance);
        assert!(r.sarsa_error > 0.1, "d={d}: a random block matched SARSA ({})", r.sarsa_error);
    }
    // One P12 entry of the construction changed (the reward weight): the probe must see it in
    // the distance and in the error, not only in c.
    let (mut p, v) = sarsa_pair(2, -2.0, 0.3);
    p[(4, 5)] += 0.5;
    let r = sarsa::probe(&p, &v, sarsa::PromptDist::new(0));
    assert!(r.manifold_distance > 0.05, "{}", r.manifold_distance);
    assert!(r.sarsa_error > 1e-2, "{}", r.sarsa_error);
    // A nonzero P22 and V̄22 (the cubic term) is reported as such.
    let (mut p, mut v) = sarsa_pair(2, 1.0, 0.3);
    p[(5, 5)] = 0.5;
    v[(6, 5)] = 0.5;
    let r = sarsa::probe(&p, &v, sarsa::PromptDist::new(0));
    assert!(r.cubic_share_median > 1e-3, "{}", r.cubic_share_median);
    let (p, v) = sarsa_pair(2, 1.0, 0.3);
    assert_eq!(sarsa::probe(&p, &v, sarsa::PromptDist::new(0)).cubic_share_max, 0.0);
}

fn td_layers(d: usize, cs: &[f64]) -> Vec<(Mat<f64>, Mat<f64>)> {
    cs.iter().map(|&c| (p_td::<f64>(d), q_td(&Mat::identity(d).scale(&c)))).collect()
}

#[test]
fn td_probe_recovers_scalar_preconditioners_and_rejects_random_layers() {
    for k in 0..10u64 {
        let mut rng = case_rng(3, "tests/probe-td", k);
        let d = rng.random_range(1..=4);
        // [WB]'s depth L <= 3; c_l up to 2. Deeper stacks amplify the perturbation ε of the
        // non-readout rows of P (they write the feature rows later layers read) by
        // ~(1 + (2d+1) c |z|²) per layer, which is what td_error then measures (measured worst
        // over 320 stacks, d = 1..4, c_l in [0.1, 2): 1.3e-5).
        let cs: Vec<f64> = (0..rng.random_range(1..=3)).map(|_| rng.random_range(0.1..2.0)).collect();
        // a rescaling (pP, Q/p) implements the same layer: the probe must not care
        let scale = rng.random_range(0.5..2.0);
        let layers: Vec<_> = td_layers(d, &cs)
            .into_iter()
            .map(|(p, q)| {
                (jitter(&p.scale(&scale), &mut rng, PROBE_EPS), jitter(&q.scale(&(1.0 / scale)), &mut rng, PROBE_EPS))
            })
            .collect();
        let r = linear_td::probe(&layers, sarsa::PromptDist::new(k));
        for (l, (got, want)) in r.layers.iter().zip(&cs).enumerate() {
            assert!(rel(got.c, *want) <= PROBE_RECOVERY_REL, "layer {l}: c {} vs {want}", got.c);
            assert!(got.cos_c_eff_identity > 1.0 - PROBE_RECOVERY_REL);
            assert!(got.readout_dominance > 1.0 - PROBE_RECOVERY_REL);
        }
        assert!(r.td_error <= PROBE_RECOVERY_REL, "d={d} cs={cs:?}: td_error {}", r.td_error);
        assert!(r.td_error_median <= r.td_error);
        assert!(r.manifold_distance <= PROBE_RECOVERY_REL);

        let random: Vec<_> =
            (0..cs.len()).map(|_| (gaussian(&mut rng, 2 * d + 1), gaussian(&mut rng, 2 * d + 1))).collect();
        let r = linear_td::probe(&random, sarsa::PromptDist::new(k));
        assert!(r.manifold_distance >= PROBE_FAR, "d={d}: distance {}", r.manifold_distance);
        assert!(r.td_error > 0.1, "random layers matched TD ({})", r.td_error);
    }
    // A dense preconditioner is still TD (td_error small) but not the scalar family (cos < 1).
    let c = Mat::from_vec(2, 2, vec![1.0, 0.5, -0.3, 0.8]);
    let r = linear_td::probe(&[(p_td::<f64>(2), q_td(&c))], sarsa::PromptDist::new(0));
    assert!(r.td_error <= PROBE_RECOVERY_REL && r.layers[0].cos_c_eff_identity < 0.95, "{r:?}");
    // Mutation: a second nonzero row of P writes into a row the next layer reads.
    let mut layers = td_layers(2, &[0.5, 0.5]);
    layers[0].0[(0, 4)] = 0.5;
    let r = linear_td::probe(&layers, sarsa::PromptDist::new(0));
    // (a thousand times the recovery bar)
    assert!(r.td_error > 1e3 * PROBE_RECOVERY_REL && r.layers[0].readout_dominance == 1.0, "{r:?}");
}

#[test]
fn softmax_probe_recovers_the_xz_construction_and_rejects_random_layers() {
    let (d, gamma, beta) = (3, 0.8, 2.0);
    let parts = Parts::new(d, gamma);
    let alphas = [0.5, 0.3, 0.7];
    let mut rng = case_rng(4, "tests/probe-softmax", 0);
    let layers: Vec<[Mat<f64>; 3]> = alphas
        .iter()
        .map(|&a| {
            let l = parts.two_head_layer(a);
            [
                jitter(&l.a.scale(&beta), &mut rng, PROBE_EPS),
                jitter(&l.heads[0].v, &mut rng, PROBE_EPS),
                jitter(&l.heads[1].v, &mut rng, PROBE_EPS),
            ]
        })
        .collect();
    let r = softmax::probe(&layers, sarsa::PromptDist::new(0));
    for (l, a) in r.layers.iter().zip(alphas) {
        assert!(
            rel(l.alpha, a) <= PROBE_RECOVERY_REL
                && rel(l.beta, beta) <= PROBE_RECOVERY_REL
                && rel(l.gamma, gamma) <= PROBE_RECOVERY_REL,
            "{l:?}"
        );
    }
    assert!(r.td_error <= PROBE_RECOVERY_REL, "td_error {}", r.td_error);
    let random: Vec<[Mat<f64>; 3]> =
        (0..2).map(|_| [gaussian(&mut rng, d + 3), gaussian(&mut rng, d + 3), gaussian(&mut rng, d + 3)]).collect();
    let r = softmax::probe(&random, sarsa::PromptDist::new(0));
    assert!(r.manifold_distance >= PROBE_FAR && r.td_error > 0.1, "{r:?}");
}

// ---- files ----

fn npy_bytes(m: &Mat<f64>, f32_: bool) -> Vec<u8> {
    use npyz::WriterBuilder;
    let mut buf = Vec::new();
    let shape = [m.rows() as u64, m.cols() as u64];
    if f32_ {
        let mut w = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(&mut buf).begin_nd().expect("npy");
        w.extend(m.as_slice().iter().map(|&x| x as f32)).expect("write");
        w.finish().expect("finish");
    } else {
        let mut w = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(&mut buf).begin_nd().expect("npy");
        w.extend(m.as_slice().iter().copied()).expect("write");
        w.finish().expect("finish");
    }
    buf
}

/// An `.npz` as numpy writes it (`savez`: stored, `savez_compressed`: deflate).
fn write_npz(path: &Path, arrays: &[(&str, &Mat<f64>)], f32_: bool, deflate: bool) {
    use std::io::Write;
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    let method = if deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, m) in arrays {
        z.start_file(format!("{name}.npy"), opts).expect("entry");
        z.write_all(&npy_bytes(m, f32_)).expect("write");
    }
    z.finish().expect("finish");
}

fn write_safetensors(path: &Path, arrays: &[(&str, &Mat<f64>)], f32_: bool) {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = arrays
        .iter()
        .map(|(n, m)| {
            let b = if f32_ {
                m.as_slice().iter().flat_map(|&x| (x as f32).to_le_bytes()).collect()
            } else {
                m.as_slice().iter().flat_map(|&x| x.to_le_bytes()).collect()
            };
            (n.to_string(), b, vec![m.rows(), m.cols()])
        })
        .collect();
    let dtype = if f32_ { safetensors::Dtype::F32 } else { safetensors::Dtype::F64 };
    let views: Vec<(String, safetensors::tensor::TensorView)> = bytes
        .iter()
        .map(|(n, b, s)| (n.clone(), safetensors::tensor::TensorView::new(dtype, s.clone(), b).expect("view")))
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).expect("serialize")).expect("write");
}

fn write_json(path: &Path, v: &serde_json::Value) {
    std::fs::write(path, serde_json::to_string(v).expect("json")).expect("write");
}

fn rows(m: &Mat<f64>) -> Vec<Vec<f64>> {
    (0..m.rows()).map(|i| m.row(i).to_vec()).collect()
}

fn probe_json(file: &Path, family: &str) -> serde_json::Value {
    let o = icrl(&["probe", file.to_str().expect("utf8"), "--family", family, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("json output")
}

#[test]
fn loaders_read_real_npz_and_safetensors_files_like_json() {
    let dir = tempfile::tempdir().expect("tmp");
    let (p, v) = sarsa_pair(2, -2.0, 0.3);
    let json = dir.path().join("w.json");
    write_json(&json, &serde_json::json!({"P": rows(&p), "V": rows(&v)}));
    let reference = probe_json(&json, "sarsa");
    assert_eq!(reference["c"], -2.0);
    for (f32_, deflate) in [(false, false), (false, true), (true, false), (true, true)] {
        let path = dir.path().join(format!("w-{f32_}-{deflate}.npz"));
        write_npz(&path, &[("P", &p), ("V", &v)], f32_, deflate);
        let got = probe_json(&path, "sarsa");
        if f32_ {
            // 0.15 = alpha/c is not a float32: the file holds it to 2^-24 relative
            assert!(rel(got["alpha"].as_f64().expect("alpha"), 0.3) <= 1e-7, "{got}");
            assert_eq!(got["c"], -2.0);
        } else {
            assert_eq!(got, reference, "float64 npz must read exactly as the JSON");
        }
        let st = dir.path().join(format!("w-{f32_}.safetensors"));
        write_safetensors(&st, &[("P", &p), ("V", &v)], f32_);
        let got_st = probe_json(&st, "sarsa");
        assert_eq!(got_st, got, "safetensors and npz of the same arrays");
    }
    // layered families by name P0, Q0, P1, Q1 / A0, V1_0, V2_0
    let layers = td_layers(2, &[0.5, 1.5]);
    let path = dir.path().join("td.npz");
    write_npz(
        &path,
        &[("P0", &layers[0].0), ("Q0", &layers[0].1), ("P1", &layers[1].0), ("Q1", &layers[1].1)],
        true,
        false,
    );
    let got = probe_json(&path, "linear-td");
    assert_eq!(got["layers"][1]["c"], 1.5);
    let tj = dir.path().join("td.json");
    write_json(
        &tj,
        &serde_json::json!({"layers": layers.iter().map(|(p, q)| serde_json::json!({"P": rows(p), "Q": rows(q)})).collect::<Vec<_>>()}),
    );
    assert_eq!(probe_json(&tj, "linear-td"), got);
    let l = Parts::new(1, 0.5).two_head_layer(0.25);
    let sp = dir.path().join("sm.safetensors");
    write_safetensors(&sp, &[("A0", &l.a), ("V1_0", &l.heads[0].v), ("V2_0", &l.heads[1].v)], false);
    let got = probe_json(&sp, "softmax-td");
    assert_eq!((got["layers"][0]["alpha"].as_f64(), got["layers"][0]["gamma"].as_f64()), (Some(0.25), Some(0.5)));
}

fn assert_input_error(args: &[&str], names: &str) {
    let o = icrl(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(o.stdout.is_empty(), "{args:?} printed {}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(err.starts_with("error: ") && err.contains(names), "{args:?}: expected {names:?} in {err}");
}

#[test]
fn bad_weight_files_exit_2_naming_the_array() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = |n: &str| dir.path().join(n).to_str().expect("utf8").to_string();
    let (p, v) = sarsa_pair(2, 1.0, 0.3);
    let v7 = Mat::<f64>::zeros(7, 7);
    let mut pnan = p.clone();
    pnan[(3, 6)] = f64::NAN;
    write_npz(Path::new(&path("missing.npz")), &[("P", &p)], false, false);
    assert_input_error(&["probe", &path("missing.npz"), "--family", "sarsa"], "V: missing array");
    write_npz(Path::new(&path("extra.npz")), &[("P", &p), ("V", &v), ("W", &v)], false, false);
    assert_input_error(&["probe", &path("extra.npz"), "--family", "sarsa"], "W: unknown array");
    write_npz(Path::new(&path("shape.npz")), &[("P", &p), ("V", &v7)], true, false);
    assert_input_error(&["probe", &path("shape.npz"), "--family", "sarsa"], "V: side 7");
    write_safetensors(Path::new(&path("nan.safetensors")), &[("P", &pnan), ("V", &v)], true);
    assert_input_error(
        &["probe", &path("nan.safetensors"), "--family", "sarsa"],
        "P[3][6]: NaN is not a finite number",
    );
    let layers = td_layers(1, &[1.0, 1.0]);
    write_npz(
        Path::new(&path("gap.npz")),
        &[("P0", &layers[0].0), ("Q0", &layers[0].1), ("P2", &layers[1].0), ("Q2", &layers[1].1)],
        false,
        false,
    );
    assert_input_error(&["probe", &path("gap.npz"), "--family", "linear-td"], "P2: unknown array");
    write_npz(Path::new(&path("td-as-sarsa.npz")), &[("P", &layers[0].0), ("V", &layers[0].1)], false, false);
    assert_input_error(&["probe", &path("td-as-sarsa.npz"), "--family", "sarsa"], "P: side 3 is not 3d + 2");
    write_json(
        Path::new(&path("key.json")),
        &serde_json::json!({"layers": [{"P": rows(&layers[0].0), "Q": rows(&layers[0].1), "R": [[1.0]]}]}),
    );
    assert_input_error(&["probe", &path("key.json"), "--family", "linear-td"], "layers[0].R: unknown key");
    std::fs::write(path("nan.json"), r#"{"P": [[1, 2], [3, NaN]], "V": [[0, 0], [0, 0]]}"#).expect("write");
    assert_input_error(&["probe", &path("nan.json"), "--family", "sarsa"], "P[1][1]: NaN");
    std::fs::write(path("ragged.json"), r#"{"P": [[1, 2], [3]], "V": []}"#).expect("write");
    assert_input_error(&["probe", &path("ragged.json"), "--family", "sarsa"], "P[1]: row has 1 entries");
    std::fs::write(path("garbage.npz"), b"PK\x03\x04 not really").expect("write");
    assert_input_error(&["probe", &path("garbage.npz"), "--family", "sarsa"], "npz");
    std::fs::write(path("garbage.safetensors"), b"\xff\xff\xff\xff\xff\xff\xff\xff{").expect("write");
    assert_input_error(&["probe", &path("garbage.safetensors"), "--family", "sarsa"], "safetensors");
    assert_input_error(&["probe", &path("key.json"), "--family", "lstd"], "--family");
    assert_input_error(&["probe", &path("absent.npz"), "--family", "sarsa"], "absent.npz");
    let out = dir.path().join("never");
    assert_input_error(
        &["probe", &path("missing.npz"), "--family", "sarsa", "--out", out.to_str().expect("utf8")],
        "V",
    );
    assert!(!out.exists(), "an input error wrote {out:?}");
}

#[test]
fn probe_is_deterministic_writes_its_heat_map_and_depends_on_the_seed() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut rng = case_rng(5, "tests/probe-cli", 0);
    let (p, v) = (gaussian(&mut rng, 8), gaussian(&mut rng, 8));
    let json = dir.path().join("w.json");
    write_json(&json, &serde_json::json!({"P": rows(&p), "V": rows(&v)}));
    let f = json.to_str().expect("utf8");
    let run = |threads: &str, seed: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_icrl"))
            .args(["probe", f, "--family", "sarsa", "--json", "--seed", seed])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(0));
        o.stdout
    };
    assert_eq!(run("1", "3"), run("2", "3"));
    assert_ne!(run("2", "3"), run("2", "4"), "the prompts come from the seed");
    let out = dir.path().join("out");
    let o = icrl(&["probe", f, "--family", "sarsa", "--out", out.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(0));
    let svg = std::fs::read_to_string(out.join("probe.svg")).expect("probe.svg");
    assert!(svg.starts_with("<svg") && svg.contains("nearest"), "{}", &svg[..svg.len().min(200)]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("manifold distance") && text.contains("error vs batch SARSA"), "{text}");
}

// ---- train's metrics are the probe's ----

/// The definitions of `proofs/sarsa-emergence.md`, written out again here as the test's
/// oracle: `train sarsa`'s keys and values must not change by going through the probe.
#[test]
fn train_structure_metrics_are_the_probes_with_unchanged_keys_and_values() {
    use icrl_proofs::dynamics::train_sarsa::{structure, Blocks};
    use icrl_proofs::dynamics::train_td::{td_structure, TdModel};
    let mut rng = case_rng(6, "tests/probe-train", 0);
    let d = 3;
    let (p, v) = (gaussian(&mut rng, 3 * d + 2), gaussian(&mut rng, 3 * d + 2));
    let b = Blocks::from_full(d, &p, &v);
    let st = structure(&b, 1.0);
    let keys: Vec<String> =
        serde_json::to_value(&st).expect("json").as_object().expect("obj").keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "structure_cosine",
            "cos_v21",
            "cos_p12",
            "identity_cosine",
            "diag_offdiag_ratio",
            "c_hat",
            "alpha_hat",
            "p22_norm",
            "v22_norm"
        ]
    );
    let r = sarsa::probe(&p, &v, sarsa::PromptDist::new(0));
    assert_eq!(serde_json::to_value(&st).expect("json"), serde_json::to_value(&r.structure).expect("json"));
    // oracle: c_hat = <P12, B*>/|B*|², alpha_hat = c_hat tr V̄21[:, :d] / d
    let t = 2 * d + 1;
    let mut pb = 0.0;
    for k in 0..d {
        pb += -p[(k, t + 1 + k)] + p[(d + k, t + 1 + k)];
    }
    pb += p[(2 * d, t)];
    let c_hat = pb / (2 * d + 1) as f64;
    let tr: f64 = (0..d).map(|k| v[(t + 1 + k, k)]).sum();
    assert!(rel(st.c_hat, c_hat) <= 1e-12 && rel(st.alpha_hat, c_hat * tr / d as f64) <= 1e-12, "{st:?}");
    assert_eq!(st.c_hat, r.c);

    let dn = |m: &Mat<f64>| nalgebra::DMatrix::from_row_slice(m.rows(), m.cols(), m.as_slice());
    let (p0, q0) = (gaussian(&mut rng, 2 * d + 1), gaussian(&mut rng, 2 * d + 1));
    let model = TdModel { p: vec![dn(&p0)], q: vec![dn(&q0)] };
    let ls = &td_structure(&model, d)[0];
    let keys: Vec<String> = serde_json::to_value(ls).expect("json").as_object().expect("obj").keys().cloned().collect();
    assert_eq!(keys, ["p_row_dominance", "c_eff", "c_identity_cosine", "p_dominance", "q_cosine"]);
    let m = 2 * d;
    let row: f64 = (0..=m).map(|j| p0[(m, j)] * p0[(m, j)]).sum::<f64>().sqrt();
    assert!(rel(ls.p_row_dominance, p0[(m, m)].abs() / row) <= 1e-12);
    for i in 0..d {
        for j in 0..d {
            assert_eq!(ls.c_eff[i][j], -p0[(m, m)] * q0[(j, i)]);
        }
    }
    let pr = linear_td::probe(&[(p0, q0)], sarsa::PromptDist::new(0));
    assert_eq!(pr.layers[0].readout_dominance, ls.p_row_dominance);
    assert_eq!(pr.layers[0].cos_c_eff_identity, ls.c_identity_cosine);
}
