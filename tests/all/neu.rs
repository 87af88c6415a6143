//! The [R] NEU probe of [XZ] Thm 3 (`icrl report neu`, `src/report/neu.rs`): the hand-written
//! gradient against central differences at two steps (with a negative control), every loss
//! variant's update against finite differences of its own loss, the generalized reverse mode
//! against the query-only one, the representable rewards, the task windows, thread-count
//! determinism, and the rounded report table and JSON (snapshots).

use crate::common;

use icrl_proofs::attention::softmax::query_readouts;
use icrl_proofs::report::neu::{
    compute, compute_with, direction, draw_task, draw_task_pair, layers_from, numbers, readout, readout_grad,
    render_table, representable_task_parts, support, td_update, theta_con, variant_loss, variant_update,
    variant_updates, ClassReport, NeuPoint, Rewards, Setting, Tape, DEFAULT, DIRECTIONS, STATIONARY_NOISE_FACTOR,
    VARIANTS,
};
use icrl_proofs::rng::case_rng;
use icrl_proofs::scalar::Scalar;
use icrl_proofs::tolerance::{representable_residual_bound, FD_REL_TOL, NEU_FD_STEPS, NEU_VJP_REL_TOL};
use num_rational::BigRational;
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

/// A small setting for the checks that run the whole report twice or many losses per task.
const SMALL: Setting = Setting { tasks: 24, ..DEFAULT };

#[test]
fn report_is_bit_identical_on_one_and_two_threads() {
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| compute_with(5, &SMALL));
    let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap().install(|| compute_with(5, &SMALL));
    // `{:?}` prints every f64 in full (shortest round-trip form): equal strings, equal bits.
    assert_eq!(format!("{one:?}"), format!("{two:?}"));
}

#[test]
fn report_matches_the_snapshots_and_has_every_variant_in_both_classes() {
    let two = compute(0);
    assert_eq!(two.baseline().along.len(), 2 * DIRECTIONS);
    assert_eq!(two.variants.len(), VARIANTS.len());
    assert_eq!(two.support_size, DEFAULT.layers * (DEFAULT.d + 6));
    // Today's loss through the variant machinery is today's NEU (same tasks, same θ).
    let tasks: Vec<_> = (0..DEFAULT.tasks as u64).map(|k| draw_task(0, &DEFAULT, k)).collect();
    let today = icrl_proofs::report::neu::neu_at(&tasks, &theta_con(&DEFAULT, DEFAULT.alpha), &DEFAULT);
    let b = two.baseline().con;
    assert!((b.neu - today.neu).abs() <= NEU_VJP_REL_TOL * today.neu, "{b:?} vs {today:?}");
    assert!((b.noise - today.noise).abs() <= 1e3 * NEU_VJP_REL_TOL * today.noise, "{b:?} vs {today:?}");
    let table = render_table(&two);
    for l in table.lines().filter(|l| {
        l.starts_with("| ")
            && !l.starts_with("| point")
            && !l.starts_with("| eps")
            && !l.starts_with("| direction")
            && !l.starts_with("| variant")
    }) {
        assert!(l.starts_with("| [R] "), "a table row without [R]: {l}");
    }
    assert!(table.lines().any(|l| l.starts_with("[R] verdict:")));
    assert!(table.lines().any(|l| l.starts_with("[R] variants verdict:")));
    for v in &VARIANTS {
        for class in ["full", "restricted"] {
            let row = format!("| [R] {} | {class} |", v.name());
            assert_eq!(table.matches(&row).count(), 2, "{row}: one row in each variants table");
        }
    }
    insta::assert_snapshot!("report_neu_seed0", round2(&table));
    let dir = tempfile::tempdir().unwrap();
    let fig = icrl_proofs::report::neu::figure(&two);
    fig.write(dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join("neu.svg")).unwrap();
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    assert!(text.matches("<polyline").count() > 2 * DIRECTIONS, "one line per signed direction and the theta_con line");
    let json = numbers(&two);
    let variants = json["variants"].as_array().unwrap();
    assert_eq!(variants.len(), VARIANTS.len());
    for (j, v) in variants.iter().zip(&VARIANTS) {
        assert_eq!(j["name"], v.name().as_str());
        for class in ["full", "restricted"] {
            let c = &j[class];
            assert!(c["construction"]["neu"].as_f64().unwrap() > 0.0, "{}: {class}", v.name());
            assert!(c["noise_ratio"].as_f64().is_some() && c["stationary"].is_boolean());
            assert_eq!(c["neu_along"].as_array().unwrap().len(), 2 * DIRECTIONS);
            assert_eq!(c["grad_norm"].is_null(), class == "full");
        }
    }
    assert_eq!(json["restricted"], variants[0]["restricted"]);
    assert_eq!(json["construction"], variants[0]["full"]["construction"]);
    let o = icrl_proofs::report::Output {
        name: "neu".into(),
        summary: String::new(),
        markdown: table.clone(),
        numbers: json,
        figures: vec![fig],
        holds: None,
    };
    insta::assert_snapshot!("report_neu_seed0_json", crate::reports::report_json(&o));
    crate::reports::check_output(&o);
}

#[test]
fn the_generalized_reverse_mode_is_the_query_readout_gradient_at_the_query_seed() {
    let s = DEFAULT;
    let con = theta_con(&s, s.alpha);
    for k in 0..3u64 {
        let task = draw_task(13, &s, k);
        let mut rng = case_rng(13, "test-neu-vjp", k);
        let theta: Vec<f64> =
            con.iter().map(|c| c + [0.0, 0.3, 1.0][k as usize] * rng.random_range(-1.0..1.0)).collect();
        let layers = layers_from(&theta, s.d);
        let mut tape = Tape::new(&task.now, &layers);
        let (v, g) = readout_grad(&task.now, &layers);
        assert_eq!(tape.values()[s.n], v, "the tape's readout is the canonical forward pass's");
        let mut seed = vec![0.0; s.n + 1];
        seed[s.n] = 1.0;
        // Same formulas, same order, the shift as an exact product with 0/1 entries: equal bits.
        assert_eq!(tape.vjp(&layers, &seed), g, "point {k}");
        // Today's loss through the variant machinery against `td_update`.
        let pair = draw_task_pair(13, &s, k);
        let (sq, u) = variant_update(&VARIANTS[0], &pair, &layers, s.gamma);
        let (delta, t) = td_update(&task, &layers, s.gamma);
        assert_eq!(sq, delta * delta);
        let scale = t.iter().fold(1.0f64, |a, x| a.max(x.abs()));
        let err = u.iter().zip(&t).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / scale;
        assert!(err <= NEU_VJP_REL_TOL, "point {k}: {err:e}");
        // A seed on another column gives another gradient (the seed is read).
        seed[s.n - 1] = 1.0;
        assert_ne!(tape.vjp(&layers, &seed), g);
    }
}

#[test]
fn every_variant_update_is_minus_the_gradient_of_its_own_frozen_target_loss() {
    let s = DEFAULT;
    let con = theta_con(&s, s.alpha);
    let mut rng = case_rng(17, "test-neu-variant-fd", 0);
    let theta: Vec<f64> = con.iter().map(|c| c + 0.3 * rng.random_range(-1.0..1.0)).collect();
    let layers = layers_from(&theta, s.d);
    let pair = draw_task_pair(17, &s, 1);
    let all = variant_updates(&pair, &layers, s.gamma);
    let mut seen = Vec::new();
    for (v, (_, u)) in VARIANTS.iter().zip(&all) {
        let scale = u.iter().fold(1.0f64, |a, x| a.max(x.abs()));
        let fd_err = |g: &[f64], h: f64| {
            (0..theta.len())
                .map(|i| {
                    let (mut up, mut dn) = (theta.clone(), theta.clone());
                    up[i] += h;
                    dn[i] -= h;
                    let fd = -(variant_loss(v, &pair, &theta, &up, &s) - variant_loss(v, &pair, &theta, &dn, &s))
                        / (2.0 * h);
                    (fd - g[i]).abs()
                })
                .fold(0.0, f64::max)
                / scale
        };
        for h in NEU_FD_STEPS {
            let err = fd_err(u, h);
            assert!(err <= FD_REL_TOL, "{}: h = {h:e}: update vs finite differences {err:e}", v.name());
        }
        // Negative control: the update with its first attention block off by 1% fails.
        let mut bad = u.clone();
        let block = s.width() * s.width();
        for x in &mut bad[..block] {
            *x *= 1.01;
        }
        assert!(fd_err(&bad, NEU_FD_STEPS[0]) > FD_REL_TOL, "{}: a 1% error passed", v.name());
        assert!(
            u[..block].iter().any(|x| x.abs() > 1e3 * FD_REL_TOL),
            "{}: the attention block carries gradient",
            v.name()
        );
        seen.push(u.clone());
    }
    // The eight losses are eight different updates.
    for i in 0..seen.len() {
        for j in 0..i {
            assert_ne!(seen[i], seen[j], "{} and {}", VARIANTS[i].name(), VARIANTS[j].name());
        }
    }
}

#[test]
fn representable_rewards_have_value_x_w_up_to_the_rounding_bound_on_the_same_trajectory() {
    let s = DEFAULT;
    let q = |x: f64| BigRational::from_f64(x);
    for k in 0..16u64 {
        let (mrp, x, w, _) = representable_task_parts(21, &s, k);
        let ns = mrp.n_states();
        // Exact residual ρ = r − (I − γP) X w* in the f64 values; ‖(I − γP)⁻¹ρ‖_∞ ≤ ‖ρ‖_∞/(1 − γ).
        let xw: Vec<BigRational> =
            (0..ns).map(|i| x.x(i).iter().zip(&w).fold(q(0.0), |a, (xi, wi)| a + q(*xi) * q(*wi))).collect();
        let g = q(mrp.gamma());
        let residual = |r: &dyn Fn(usize) -> f64| {
            (0..ns)
                .map(|i| {
                    let pxw = (0..ns).fold(q(0.0), |a, j| a + q(mrp.p(i, j)) * xw[j].clone());
                    (q(r(i)) - (xw[i].clone() - g.clone() * pxw)).to_f64().abs()
                })
                .fold(0.0, f64::max)
        };
        let v_max = (0..ns).map(|i| x.x(i).iter().zip(&w).map(|(a, b)| a * b).sum::<f64>().abs()).fold(0.0, f64::max);
        let xw_abs =
            (0..ns).map(|i| x.x(i).iter().zip(&w).map(|(a, b)| (a * b).abs()).sum::<f64>()).fold(0.0, f64::max);
        let bound = representable_residual_bound(ns, s.d, mrp.gamma(), v_max, xw_abs);
        let rho = residual(&|i| mrp.r(i));
        assert!(rho <= bound, "task {k}: ‖r − (I − γP)Xw*‖ = {rho:e} > {bound:e}");
        // Negative controls: one reward off by 1e3 times the bound, and today's random rewards.
        let rho_bad = residual(&|i| mrp.r(i) + if i == 0 { 1e3 * bound } else { 0.0 });
        assert!(rho_bad > bound, "task {k}: a perturbed reward passed");
        let pair = draw_task_pair(21, &s, k);
        let random = &pair.random;
        // Same trajectory: identical feature rows; rewards are r(S_j) of the representable MRP.
        let rep = pair.get(Rewards::Representable);
        for (a, b) in [(&random.now, &rep.now), (&random.next, &rep.next)] {
            for j in 0..=s.n {
                for i in 0..s.d {
                    assert_eq!(a[(i, j)], b[(i, j)], "task {k}: feature ({i}, {j})");
                }
                let st = (0..ns).find(|&t| x.x(t).iter().enumerate().all(|(i, xi)| *xi == b[(i, j)])).unwrap();
                let expect = if j < s.n { mrp.r(st) } else { 0.0 };
                assert_eq!(b[(s.d, j)], expect, "task {k}: reward at column {j}");
            }
        }
        assert_ne!(random.reward, rep.reward);
    }
}

#[test]
fn the_support_is_the_construction_s_nonzero_pattern_and_the_criterion_can_say_both() {
    let s = DEFAULT;
    let mask = support(&s);
    let con = theta_con(&s, s.alpha);
    assert_eq!(mask.iter().filter(|&&m| m).count(), s.layers * (s.d + 6));
    assert!(con.iter().zip(&mask).all(|(c, &m)| (*c != 0.0) == m));
    assert!(
        theta_con(&s, -0.5).iter().zip(&mask).all(|(c, &m)| (*c != 0.0) == m),
        "the support does not depend on alpha"
    );
    let point = |neu: f64, noise: f64| ClassReport {
        con: NeuPoint { neu, noise, mean_sq_delta: 1.0 },
        zero: NeuPoint { neu, noise, mean_sq_delta: 1.0 },
        flipped: NeuPoint { neu, noise, mean_sq_delta: 1.0 },
        along: vec![],
        grad_norm: None,
    };
    assert!(point(STATIONARY_NOISE_FACTOR * 0.01, 0.01).stationary());
    assert!(!point(STATIONARY_NOISE_FACTOR * 0.0101, 0.01).stationary());
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
