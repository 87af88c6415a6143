//! Training dynamics (spec `gradient-flow.md`): gradients, invariants, richness, convergence,
//! the richness counterexample. Expensive checks are `#[ignore]`d with the command that runs
//! them; `cargo test --release --test all -- dynamics::` exercises every theorem quickly.

use icrl_proofs::dynamics::experiment::{self, FlowData};
use icrl_proofs::dynamics::flow::{self, FlowStop, OdeTol};
use icrl_proofs::dynamics::loss::{self, Population};
use icrl_proofs::dynamics::spectrum;
use icrl_proofs::dynamics::stream::{self, FeatureKind, StreamPreset};
use icrl_proofs::linalg::Mat;
use icrl_proofs::rng::case_rng;
use icrl_proofs::theorem::{self, CheckCtx};
use icrl_proofs::tolerance;
use rand::Rng;

fn tiny_pop(seed: u64, kind: FeatureKind) -> (FlowData, Population) {
    let mut preset = StreamPreset::tiny();
    preset.features = kind;
    if kind == FeatureKind::OneHot {
        preset.tab.d = preset.tab.n_states * preset.tab.n_actions;
    }
    let data = FlowData { preset, seed };
    let pop = data.population();
    (data, pop)
}

#[test]
fn stream_is_deterministic_and_thread_independent() {
    let p = StreamPreset::tiny();
    let a = stream::sample_frames(7, &p, 5, 3);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let b = pool.install(|| stream::sample_frames(7, &p, 5, 3));
    assert_eq!(a.len(), 15);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.w, y.w);
        assert_eq!(x.target, y.target);
        assert_eq!(x.batch, y.batch);
    }
    // the teacher drives: frame t+1's w is frame t's target
    assert_eq!(a[1].w, a[0].target);
}

#[test]
fn reduced_gradient_matches_finite_differences() {
    let (data, pop) = tiny_pop(3, FeatureKind::Random);
    let d = data.preset.tab.d;
    let mut rng = case_rng(3, "test/fd", 0);
    let th: Vec<f64> = (0..loss::n_params(d)).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut g = vec![0.0; th.len()];
    pop.loss_grad(&th, &mut g);
    let fd = loss::finite_difference(|x| pop.loss(x), &th, tolerance::FD_STEP);
    assert_eq!(fd.len(), g.len(), "a comparison over a shorter zip would pass vacuously");
    let scale = fd.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    let err = g.iter().zip(&fd).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / scale;
    assert!(err <= tolerance::FD_REL_TOL, "FD error {err:e}");
}

#[test]
fn full_gradient_matches_finite_differences_and_reduced() {
    let mut preset = StreamPreset::tiny();
    preset.tab.d = 2;
    preset.tab.n = 5;
    let frame = stream::Teacher::new(11, 0, &preset).next_frame();
    let h = loss::frame_prompt(&frame);
    let dd = h.rows();
    let mut rng = case_rng(11, "test/full", 0);
    let p = Mat::from_fn(dd, dd, |_, _| rng.random_range(-1.0..1.0));
    let v = Mat::from_fn(dd, dd, |_, _| rng.random_range(-1.0..1.0));
    let g = loss::full_loss_grad(&h, &p, &v, &frame.target);
    // loss through the generic forward pass = analytic loss
    let l = loss::full_loss(&h, &p, &v, &frame.target);
    assert!((l - g.loss).abs() <= 1e-12 * l.max(1.0));
    // FD on every entry of P and V through lsa_block
    let mut x: Vec<f64> = p.as_slice().iter().chain(v.as_slice()).copied().collect();
    let f = |x: &[f64]| {
        let pp = Mat::from_vec(dd, dd, x[..dd * dd].to_vec());
        let vv = Mat::from_vec(dd, dd, x[dd * dd..].to_vec());
        loss::full_loss(&h, &pp, &vv, &frame.target)
    };
    let fd = loss::finite_difference(f, &x, tolerance::FD_STEP);
    let an: Vec<f64> = g.grad_p.as_slice().iter().chain(g.grad_v.as_slice()).copied().collect();
    assert_eq!(fd.len(), an.len(), "a comparison over a shorter zip would pass vacuously");
    let scale = fd.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    let err = an.iter().zip(&fd).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / scale;
    assert!(err <= tolerance::FD_REL_TOL, "full FD error {err:e}");
    // reduced = full on the embedding of (A, B)
    x.truncate(0);
    let th = loss::reduce(2, &p, &v);
    let (pe, ve) = loss::embed(2, &th);
    let ge = loss::full_loss_grad(&h, &pe, &ve, &frame.target);
    let pop = Population::from_frames(2, std::slice::from_ref(&frame));
    let mut gr = vec![0.0; th.len()];
    let lr = pop.loss_grad(&th, &mut gr);
    assert!((lr - ge.loss).abs() <= 1e-12 * lr.max(1.0));
    let gfr = loss::reduce_grad(2, &ge);
    // As above: a shorter reduced gradient would make the zip vacuous (the stop-25 campaign's
    // `reduce_grad` → `vec![]` mutant lived).
    assert_eq!(gfr.len(), gr.len());
    for (a, b) in gr.iter().zip(&gfr) {
        assert!((a - b).abs() <= 1e-12 * scale, "{a} vs {b}");
    }
}

#[test]
fn construction_has_zero_loss_on_the_whole_manifold_and_positive_off_it() {
    let (data, pop) = tiny_pop(5, FeatureKind::Random);
    let d = data.preset.tab.d;
    for c in [1.0, -1.0, 0.01, 37.0] {
        let l = pop.loss(&loss::theta_star(d, data.preset.tab.alpha, c));
        assert!(l <= 1e-28, "c = {c}: L = {l:e}");
    }
    let mut th = loss::theta_star(d, data.preset.tab.alpha, 1.0);
    th[0] += 1e-3;
    assert!(pop.loss(&th) > 1e-12);
}

#[test]
fn richness_spectrum_random_vs_one_hot() {
    let (data, pop) = tiny_pop(1, FeatureKind::Random);
    let d = data.preset.tab.d;
    let ts = loss::theta_star(d, data.preset.tab.alpha, 1.0);
    let sp = spectrum::analyse(&pop.gauss_newton(&ts), &spectrum::tangent(d, &ts, 1.0));
    assert_eq!(sp.rank, sp.n_params - 1);
    assert!(sp.kernel_cosine >= tolerance::KERNEL_COSINE_MIN);
    assert!(sp.lambda_min_pos > 0.0);
    let (dh, poph) = tiny_pop(1, FeatureKind::OneHot);
    let d2 = dh.preset.tab.d;
    let ts2 = loss::theta_star(d2, dh.preset.tab.alpha, 1.0);
    let sp2 = spectrum::analyse(&poph.gauss_newton(&ts2), &spectrum::tangent(d2, &ts2, 1.0));
    assert!(sp2.rank < sp2.n_params - 1, "one-hot must fail richness: rank {} of {}", sp2.rank, sp2.n_params);
}

#[test]
fn flow_converges_at_the_predicted_rate() {
    let (data, pop) = tiny_pop(2, FeatureKind::Random);
    let d = data.preset.tab.d;
    let ts = loss::theta_star(d, data.preset.tab.alpha, 1.0);
    let mut rng = case_rng(2, "test/flow", 0);
    let th0 = experiment::perturbed_start(&mut rng, &ts, 0.1);
    let r = experiment::run(&pop, &th0, data.preset.tab.alpha, &ts, FlowStop::default());
    let mut cr = theorem::dynamics::convergence_measurements(&r);
    cr.measurements.extend(theorem::dynamics::rate_measurements(&r, 1.0).measurements);
    for m in &cr.measurements {
        assert!(m.holds, "{}: {:e} > {:e}", m.quantity, m.error, m.tolerance);
    }
}

#[test]
fn integrator_is_step_independent() {
    // Two tolerances 100× apart and plain gradient descent with a small step reach the same
    // point at a fixed time: the integration error is controlled.
    let (data, pop) = tiny_pop(4, FeatureKind::Random);
    let d = data.preset.tab.d;
    let ts = loss::theta_star(d, data.preset.tab.alpha, 1.0);
    let mut rng = case_rng(4, "test/steps", 0);
    let th0 = experiment::perturbed_start(&mut rng, &ts, 0.1);
    let t_end = 50.0;
    let stop = FlowStop { t_max: t_end, loss_ratio: 0.0, loss_floor: 0.0, max_steps: 1_000_000, record_below: 0.0 };
    let a = flow::gradient_flow(&pop, &th0, OdeTol { rtol: 1e-11, atol: 1e-13 }, stop);
    let b = flow::gradient_flow(&pop, &th0, OdeTol { rtol: 1e-9, atol: 1e-11 }, stop);
    assert!((a.t - t_end).abs() < 1e-9 && (b.t - t_end).abs() < 1e-9);
    let diff = a.theta.iter().zip(&b.theta).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    assert!(diff < 1e-7, "rtol 1e-11 vs 1e-9 differ by {diff:e}");
    let eta = 1e-3;
    let gd = flow::gradient_descent(&pop, &th0, eta, (t_end / eta) as usize);
    // The comparison below zips: a gradient descent that returned fewer coordinates (the
    // campaign's `vec![]` mutant, stop 25) would compare nothing and pass.
    assert_eq!(gd.len(), th0.len());
    // f64::max drops a NaN: a descent that diverged to NaN (the campaign's `-=` → `/=` mutant,
    // stop 25) would read as a difference of 0, so every coordinate must be finite first.
    assert!(gd.iter().chain(&a.theta).chain(&b.theta).all(|x| x.is_finite()), "a non-finite end point");
    let diff_gd = a.theta.iter().zip(&gd).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    // GD has O(η) global error: small but far above the integrator's.
    assert!(diff_gd < 1e-3, "GD(η = 1e-3) vs RK45 differ by {diff_gd:e}");
}

#[test]
fn rate_check_fails_without_richness() {
    // The violating case of the rate theorem: one-hot features, the flow lands off the manifold.
    let (data, _) = tiny_pop(1, FeatureKind::OneHot);
    let r = theorem::dynamics::relaxed_run_on(&data, 9);
    assert!(r.manifold_rel > theorem::dynamics::OFF_MANIFOLD_MIN, "limit on the manifold: {:e}", r.manifold_rel);
    assert!(r.extra_kernel > 0);
    assert!(theorem::dynamics::relaxed_violation(&r).is_some());
}

#[test]
fn every_dynamics_theorem_passes_one_case_and_fails_under_sabotage() {
    for id in [
        "sarsa-gradient-invariants",
        "sarsa-gradient-identities",
        "sarsa-richness",
        "sarsa-local-convergence",
        "sarsa-local-convergence-rate",
        "sarsa-teacher-step",
    ] {
        let t = theorem::find(id).expect("registered");
        let mut rng = case_rng(0, id, 0);
        let r = (t.check)(&mut rng, &CheckCtx::default());
        assert!(!r.measurements.is_empty());
        for m in &r.measurements {
            assert!(m.holds, "{id}: {} {:e} > {:e}", m.quantity, m.error, m.tolerance);
        }
        let mut rng = case_rng(0, id, 0);
        let r = (t.check)(&mut rng, &CheckCtx { sabotage: true, ..CheckCtx::default() });
        assert!(r.measurements.iter().any(|m| !m.holds), "{id}: sabotage not detected");
    }
}

#[test]
fn richness_counterexample_fixture_replays() {
    let text = std::fs::read_to_string("fixtures/counterexamples/sarsa-local-convergence--richness.json")
        .expect("fixture committed");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["family"], "sarsa");
    let f = icrl_proofs::theorem::replay_fn("sarsa-local-convergence", "richness").expect("replay registered");
    let viol = f(&v).expect("valid fixture");
    assert!(viol > 0.0, "replayed violation {viol}");
    // malformed input is an error naming the field, not a panic
    let mut bad = v.clone();
    bad["training"]["features"] = serde_json::json!("sparse");
    let e = f(&bad).unwrap_err();
    assert_eq!(e.field, "training.features");
}

#[test]
fn td_backprop_matches_finite_differences() {
    use icrl_proofs::dynamics::train_td::{self, TdConfig};
    let mut cfg = TdConfig::wb(3);
    cfg.minibatches = 1;
    cfg.prompts = 2;
    cfg.n = 6;
    cfg.init_gain = 3.0; // large weights so that every layer matters
    let model = train_td::init_model(&cfg);
    let pr = &train_td::mrp_prompts(&cfg, 0)[1];
    let mut g = model.clone();
    g.set_flat(&vec![0.0; model.flat().len()]);
    let _ = train_td::prompt_loss_grad(&model, pr, &mut g);
    let vn = train_td::next_value(&model, pr); // detached target
                                               // the query-only propagation equals a full forward pass with the next state as query
    let mut pr2 = pr.clone();
    pr2.phi_q = pr.phi_next.clone();
    assert!((vn - train_td::predict(&model, &pr2)).abs() <= 1e-12 * vn.abs().max(1.0));
    let x0 = model.flat();
    let f = |x: &[f64]| {
        let mut m = model.clone();
        m.set_flat(x);
        train_td::prompt_loss(&m, pr, vn)
    };
    let fd = loss::finite_difference(f, &x0, tolerance::FD_STEP);
    let an = g.flat();
    assert_eq!(fd.len(), an.len(), "a comparison over a shorter zip would pass vacuously");
    let scale = fd.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    let err = an.iter().zip(&fd).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / scale;
    assert!(err <= tolerance::FD_REL_TOL, "TD backprop vs FD: {err:e}");
}

#[test]
fn train_sarsa_small_recovers_the_construction_and_controls() {
    // `icrl train sarsa --preset small` (≈ 3 s in release): acceptance criteria of issue 4.
    use icrl_proofs::dynamics::train_sarsa::{train, TrainConfig};
    let cfg = TrainConfig::preset("small", 0).unwrap();
    let r = train(&cfg, "small").unwrap();
    assert!(r.structure.structure_cosine >= 0.95, "structure cosine {}", r.structure.structure_cosine);
    let gap = r.heldout_return_teacher - r.heldout_return_uniform;
    assert!(gap > 0.0);
    assert!(
        r.heldout_return_teacher - r.heldout_return_model <= 0.1 * gap,
        "model {} teacher {} uniform {}",
        r.heldout_return_model,
        r.heldout_return_teacher,
        r.heldout_return_uniform
    );
}

#[test]
fn train_sarsa_is_thread_count_independent() {
    use icrl_proofs::dynamics::train_sarsa::{train, TrainConfig};
    let mut cfg = TrainConfig::preset("small", 5).unwrap();
    cfg.preset.mdps = 64;
    cfg.preset.frames = 20;
    cfg.heldout_mdps = 4;
    cfg.heldout_steps = 5;
    let a = train(&cfg, "small").unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let b = pool.install(|| train(&cfg, "small").unwrap());
    assert_eq!(a.p12, b.p12);
    assert_eq!(a.v21_bar, b.v21_bar);
    assert_eq!(a.heldout_return_model, b.heldout_return_model);
}

#[test]
fn fast_path_equals_generic_forward_with_cubic_term() {
    // Lemma C.1 fast path (with P22, V̄22 ≠ 0) against the generic forward pass, loss and gradient.
    use icrl_proofs::dynamics::train_sarsa::{frame_loss_grad, xavier, Blocks};
    let mut preset = StreamPreset::tiny();
    preset.tab.d = 2;
    preset.tab.n = 5;
    let frame = stream::Teacher::new(21, 0, &preset).next_frame();
    let h = loss::frame_prompt(&frame);
    let mut rng = case_rng(21, "test/fast", 0);
    let p = xavier(&mut rng, h.rows(), 5.0);
    let v = xavier(&mut rng, h.rows(), 5.0);
    let full = loss::full_loss_grad(&h, &p, &v, &frame.target);
    let b = Blocks::from_full(2, &p, &v);
    let mut g = vec![0.0; b.x.len()];
    let l = frame_loss_grad(&b, &frame, &mut g);
    assert!((l - full.loss).abs() <= 1e-12 * l.max(1.0), "{l} vs {}", full.loss);
    let gb = Blocks::from_full(2, &full.grad_p, &full.grad_v);
    let scale = gb.x.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    for (a, c) in g.iter().zip(&gb.x) {
        assert!((a - c).abs() <= 1e-12 * scale, "{a} vs {c}");
    }
}

/// The default tier trains for real: with one looped `(P, Q)` and a tenth of [WB]'s budget
/// (500 MRPs, ≈ 4 s on 2 cores) the TD structure emerges from gain `0.1 / L` (measured 0.994).
/// Negative control: the same training from gain 0.1 ([WB]'s `mode='auto'` init) lands off it
/// (measured 0.05), so the threshold is not met by any trained model. Thresholds: 0.95 is the
/// recovery bar the issue sets for `train sarsa`; 0.5 sits far above the 0.05 measured off it and
/// far below a recovered layer.
#[test]
fn train_td_structure_emerges_at_a_tenth_of_the_budget_and_not_from_gain_0_1() {
    use icrl_proofs::dynamics::train_td::{train, TdConfig};
    let run = |gain: f64| {
        let mut cfg = TdConfig::wb(0);
        cfg.mrps = 500;
        cfg.shared = true;
        cfg.init_gain = gain;
        train(&cfg).unwrap()
    };
    let good = run(TdConfig::wb(0).init_gain);
    assert!(good.structure_cosine > 0.95, "{:?}", good.layers);
    let bad = run(0.1);
    assert!(bad.structure_cosine < 0.5, "{:?}", bad.layers);
}

/// `cargo test --release --test all -- --ignored dynamics::train_td_full_setting` (≈ 1.5 min per model
/// on 2 cores): [WB]'s full setting recovers the TD structure in every layer, with independent
/// layers and with one looped `(P, Q)`, at seed 0 (other seeds: `proofs/sarsa-emergence.md`).
#[test]
#[ignore]
fn train_td_full_setting() {
    use icrl_proofs::dynamics::train_td::{train, TdConfig};
    for shared in [false, true] {
        let mut cfg = TdConfig::wb(0);
        cfg.shared = shared;
        let r = train(&cfg).unwrap();
        assert!(r.wall_seconds < 120.0, "{} s", r.wall_seconds);
        assert!(r.structure_cosine > 0.95, "shared {shared}: {:?}", r.layers);
        assert!(r.heldout_msve_model < r.heldout_msve_construction, "shared {shared}");
    }
}

#[test]
fn train_and_report_reject_bad_input_with_exit_2() {
    let run = |args: &[&str]| icrl_proofs::cli::main(args.iter().map(std::ffi::OsString::from));
    assert_eq!(run(&["icrl", "train", "sarsa", "--preset", "huge"]), 2);
    assert_eq!(run(&["icrl", "train", "q-learning"]), 2);
    assert_eq!(run(&["icrl", "report", "nonsense"]), 2);
    assert_eq!(run(&["icrl", "train", "sarsa", "--init-gain", "0.1"]), 2);
    assert_eq!(run(&["icrl", "train", "td", "--init-gain", "-1"]), 2);
    assert_eq!(run(&["icrl", "train", "td", "--init-gain", "NaN"]), 2);
}

#[test]
fn token_fast_path_reproduces_the_stream_bit_for_bit() {
    for preset in [StreamPreset::small(), StreamPreset::tiny()] {
        let mut a = stream::Teacher::new(13, 2, &preset);
        let mut b = a.clone();
        let mut tf = stream::TokenFrame::default();
        for _ in 0..50 {
            let f = a.next_frame();
            b.next_tokens(&mut tf);
            assert_eq!(f.tokens(), tf.x);
            assert_eq!(f.w, tf.w);
            assert_eq!(f.target, tf.target);
        }
        assert_eq!(a.w, b.w);
        assert_eq!(a.s, b.s);
    }
}

/// The `train td` structure metric scores the [WB] construction 1 in every layer, is invariant to
/// `(P, Q) → (aP, Q/a)` and to `C → cC` (`c > 0`), and rejects each way a layer can fail to be TD:
/// a flipped sign (`C = -I`), a readout row of `P` that reads other rows, a non-identity `C`, and
/// the random init.
#[test]
fn td_structure_metric_accepts_the_construction_and_rejects_perturbations() {
    use icrl_proofs::dynamics::train_td::{construction_model, init_model, structure_cosine, td_structure, TdConfig};
    let (d, layers) = (4, 3);
    let m = 2 * d + 1;
    let con = construction_model(d, layers);
    let exact = td_structure(&con, d);
    assert!((structure_cosine(&exact) - 1.0).abs() <= 1e-15, "{exact:?}");
    // scale invariance: (P, Q) → (-2.5 P, -Q / 2.5) keeps C_eff; Q → 3Q scales C_eff by 3
    let mut scaled = con.clone();
    scaled.p[1] *= -2.5;
    scaled.q[1] /= -2.5;
    scaled.q[2] *= 3.0;
    assert!((structure_cosine(&td_structure(&scaled, d)) - 1.0).abs() <= 1e-12);
    // negative controls, one layer at a time
    let mut flipped = con.clone();
    flipped.q[0] *= -1.0; // C = -I: anti-TD
    assert!(structure_cosine(&td_structure(&flipped, d)) < -0.99);
    let mut reads_phi = con.clone();
    reads_phi.p[2][(m - 1, 0)] = 1.0; // readout row also reads φ_0
    assert!(structure_cosine(&td_structure(&reads_phi, d)) < 0.75);
    let mut not_identity = con.clone();
    not_identity.q[1][(0, 1)] = -2.0; // C_eff gains an off-diagonal entry of 2
    assert!(structure_cosine(&td_structure(&not_identity, d)) < 0.75);
    let random = init_model(&TdConfig::wb(0));
    assert!(structure_cosine(&td_structure(&random, d)) < 0.5);
}

/// `train td` is bit-identical at any thread count (prompts are summed in fixed chunks, in order).
#[test]
fn train_td_does_not_depend_on_the_thread_count() {
    use icrl_proofs::dynamics::train_td::{train, TdConfig};
    let mut cfg = TdConfig::wb(11);
    cfg.mrps = 20;
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| train(&cfg).unwrap())
    };
    let (a, b) = (on(1), on(3));
    assert_eq!((a.p, a.q, a.loss_last.to_bits()), (b.p, b.q, b.loss_last.to_bits()));
}

/// `Population::loss_grad` returns `L(θ) = (1/N) Σ_k ½‖e_k‖²` itself: over the rationals it is the
/// same number as `Population::loss`, and both are the mean of the one-prompt losses, on a
/// population of `N = 3` prompts. (With one prompt, as in `sarsa-gradient-identities`, a wrong
/// `1/N` scaling — `l · N` for `l / N` — cannot show; a mutant making the returned loss `N²`
/// times too large lived through every rate check, which read only the slope of `log L`.)
#[test]
fn loss_grad_returns_the_mean_loss_over_several_prompts() {
    use icrl_proofs::scalar::Scalar;
    use num_rational::BigRational;
    let preset = StreamPreset::tiny();
    let d = preset.tab.d;
    let frames = stream::sample_frames(5, &preset, 3, 1);
    assert_eq!(frames.len(), 3);
    let pop = Population::<BigRational>::from_frames_in(d, &frames);
    let mut rng = case_rng(5, "test/loss-grad-mean", 0);
    let th: Vec<BigRational> =
        (0..loss::n_params(d)).map(|_| BigRational::from_f64(rng.random_range(-1.0..1.0))).collect();
    let mut g = vec![BigRational::from_f64(0.0); th.len()];
    let returned = pop.loss_grad(&th, &mut g);
    let loss = pop.loss(&th);
    assert!(loss != BigRational::from_f64(0.0));
    assert_eq!(returned, loss, "loss_grad's loss is not L(θ)");
    let singles =
        frames.iter().map(|f| Population::<BigRational>::from_frames_in(d, std::slice::from_ref(f)).loss(&th));
    let mean = singles.fold(BigRational::from_f64(0.0), |a, b| a + b) / BigRational::from_f64(3.0);
    assert_eq!(loss, mean, "L(θ) is not the mean of the one-prompt losses");
}

/// `gradient_flow`'s snapshots (the states the slowest-mode rate reads) are exactly the accepted
/// steps of the trace with `L ≤ record_below · L(0)`, each with its own loss. The record level
/// is set between the start and the end of the run, so that steps on both sides exist and the
/// filter decides (a mutant keeping the steps above the level lived: the rate checks that read
/// the snapshots are not among the quick tests).
#[test]
fn gradient_flow_snapshots_are_the_steps_below_the_record_level() {
    let (data, pop) = tiny_pop(4, FeatureKind::Random);
    let ts = loss::theta_star(data.preset.tab.d, data.preset.tab.alpha, 1.0);
    let mut rng = case_rng(4, "test/snapshots", 0);
    let th0 = experiment::perturbed_start(&mut rng, &ts, 0.1);
    let stop = FlowStop { t_max: 50.0, loss_ratio: 0.0, loss_floor: 0.0, max_steps: 1_000_000, record_below: 0.0 };
    let probe = flow::gradient_flow(&pop, &th0, OdeTol::default(), stop);
    let (l0, l_end) = (probe.trace[0].1, probe.trace.last().unwrap().1);
    assert!(l_end < l0 * 0.5, "the flow must descend for the level to split the run: {l0:e} -> {l_end:e}");
    let record_below = (l_end / l0).sqrt();
    let run = flow::gradient_flow(&pop, &th0, OdeTol::default(), FlowStop { record_below, ..stop });
    let level = l0 * record_below;
    let want: Vec<(f64, f64)> = run.trace[1..].iter().copied().filter(|&(_, l)| l <= level).collect();
    let got: Vec<(f64, f64)> = run.snapshots.iter().map(|(t, l, _)| (*t, *l)).collect();
    assert_eq!(got, want);
    assert!(!got.is_empty() && got.len() < run.trace.len() - 1, "steps on both sides of the level");
    for (_, l, th) in &run.snapshots {
        assert_eq!(pop.loss(th), *l);
    }
}
