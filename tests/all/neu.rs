//! The [R] NEU probe of [XZ] Thm 3 (`icrl report neu`, `src/report/neu.rs`): the hand-written
//! gradient against central differences at two steps (with a negative control), the task
//! windows, thread-count determinism, and the rounded report table (snapshot).

use crate::common;

use icrl_proofs::attention::softmax::query_readouts;
use icrl_proofs::report::neu::{
    compute, direction, draw_task, layers_from, readout, readout_grad, render_table, theta_con, DEFAULT, DIRECTIONS,
};
use icrl_proofs::rng::case_rng;
use icrl_proofs::tolerance::{FD_REL_TOL, NEU_FD_STEPS};
use rand::Rng;
use std::process::Command;

/// `max_i |g_i - fd_i| / max(1, max |g|)` with `fd` the central difference of the readout at step `h`.
fn fd_error(z0: &icrl_proofs::linalg::Mat<f64>, theta: &[f64], g: &[f64], h: f64) -> f64 {
    let d = z0.rows() - 3;
    let scale = g.iter().fold(1.0f64, |a, x| a.max(x.abs()));
    let mut worst = 0.0f64;
    for i in 0..theta.len() {
        let (mut up, mut dn) = (theta.to_vec(), theta.to_vec());
        up[i] += h;
        dn[i] -= h;
        let fd = (readout(z0, &layers_from(&up, d)) - readout(z0, &layers_from(&dn, d))) / (2.0 * h);
        worst = worst.max((fd - g[i]).abs());
    }
    worst / scale
}

#[test]
fn readout_gradient_agrees_with_central_differences_at_two_steps() {
    let s = DEFAULT;
    let con = theta_con(&s, s.alpha);
    let block = s.width() * s.width();
    for k in 0..3u64 {
        let task = draw_task(11, &s, k);
        let mut rng = case_rng(11, "test-neu-fd", k);
        // The construction itself and two generic points around it (every entry nonzero, so
        // every path of the backward pass carries weight).
        let spread = [0.0, 0.3, 1.0][k as usize];
        let theta: Vec<f64> = con.iter().map(|c| c + spread * rng.random_range(-1.0..1.0)).collect();
        let layers = layers_from(&theta, s.d);
        let (v, g) = readout_grad(&task.now, &layers);
        // The value is the canonical forward pass's readout.
        assert_eq!(v, *query_readouts(&task.now, &layers).last().unwrap());
        for h in NEU_FD_STEPS {
            let err = fd_error(&task.now, &theta, &g, h);
            assert!(
                err <= FD_REL_TOL,
                "point {k}, h = {h:e}: gradient vs central differences {err:e} > {FD_REL_TOL:e}"
            );
        }
        // The attention matrices carry gradient (the softmax path is exercised) ...
        let ga: f64 = (0..s.layers)
            .flat_map(|l| g[3 * l * block..(3 * l + 1) * block].iter())
            .map(|x| x.abs())
            .fold(0.0, f64::max);
        assert!(ga > 1e3 * FD_REL_TOL, "point {k}: max |dv/dA| = {ga:e}");
        // ... and the check rejects a gradient whose attention block of the first layer is
        // off by 1% (negative control).
        let mut bad = g.clone();
        for x in &mut bad[..block] {
            *x *= 1.01;
        }
        let err = fd_error(&task.now, &theta, &bad, NEU_FD_STEPS[0]);
        assert!(err > FD_REL_TOL, "point {k}: a 1% error in dv/dA_0 passed ({err:e})");
    }
}

#[test]
fn the_two_windows_are_consecutive_and_the_reward_sits_between_the_queries() {
    let s = DEFAULT;
    let (d, n) = (s.d, s.n);
    for k in 0..8 {
        let t = draw_task(3, &s, k);
        assert_eq!((t.now.rows(), t.now.cols()), (d + 3, n + 1));
        for j in 0..n {
            for i in 0..=d {
                if j + 1 < n || i < d {
                    assert_eq!(t.next[(i, j)], t.now[(i, j + 1)], "task {k}: row {i}, column {j}");
                }
            }
        }
        // The query columns carry no reward; R_{n+1} is the next window's last source reward.
        assert_eq!(t.now[(d, n)], 0.0);
        assert_eq!(t.next[(d, n)], 0.0);
        assert_eq!(t.next[(d, n - 1)], t.reward);
        for i in 0..d {
            assert_eq!(t.next[(i, n - 1)], t.now[(i, n)], "the next window's last source is S_n");
        }
    }
    // θ = 0 reads out 0; the construction does not.
    let t = draw_task(3, &s, 0);
    assert_eq!(readout(&t.now, &layers_from(&vec![0.0; s.n_params()], d)), 0.0);
    assert_ne!(readout(&t.now, &layers_from(&theta_con(&s, s.alpha), d)), 0.0);
    let u = direction(3, 0, s.n_params());
    assert!((u.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() <= 1e-12);
}

/// Numbers with a fraction or an exponent, rounded to 2 significant digits (the snapshot holds
/// the report's content, not the last digits of a sum).
fn round2(text: &str) -> String {
    common::map_numbers(text, &[',', ';', ':', ')', '.'], |core, x| {
        core.contains(['.', 'e']).then(|| format!("{x:.1e}"))
    })
}

#[test]
fn report_is_bit_identical_on_one_and_two_threads_and_matches_the_snapshot() {
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| compute(0));
    let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap().install(|| compute(0));
    // `{:?}` prints every f64 in full (shortest round-trip form): equal strings, equal bits.
    assert_eq!(format!("{one:?}"), format!("{two:?}"));
    assert_eq!(two.along.len(), 2 * DIRECTIONS);
    let table = render_table(&two);
    for l in table.lines().filter(|l| {
        l.starts_with("| ") && !l.starts_with("| point") && !l.starts_with("| eps") && !l.starts_with("| direction")
    }) {
        assert!(l.starts_with("| [R] "), "a table row without [R]: {l}");
    }
    assert!(table.lines().any(|l| l.starts_with("[R] verdict:")));
    insta::assert_snapshot!("report_neu_seed0", round2(&table));
    let dir = tempfile::tempdir().unwrap();
    let fig = icrl_proofs::report::neu::figure(&two);
    fig.write(dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join("neu.svg")).unwrap();
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    assert!(text.matches("<polyline").count() > 2 * DIRECTIONS, "one line per signed direction and the theta_con line");
    let o = icrl_proofs::report::Output {
        name: "neu".into(),
        summary: String::new(),
        markdown: table.clone(),
        numbers: icrl_proofs::report::neu::numbers(&two),
        figures: vec![fig],
        holds: None,
    };
    insta::assert_snapshot!("report_neu_seed0_json", crate::reports::report_json(&o));
    crate::reports::check_output(&o);
}

#[test]
fn cli_rejects_bad_input_with_one_error_line_and_exit_2() {
    let icrl = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_icrl")).args(args).output().unwrap();
    let o = icrl(&["report", "neu", "--seed", "minus-one"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    // clap's whole message: one `error:` line naming the argument, then the usage.
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{err}");
    assert!(err.starts_with("error:") && err.contains("--seed"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let o = icrl(&["report", "neu", "--out", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: --out:"), "{err}");
    assert!(o.stdout.is_empty());
}
