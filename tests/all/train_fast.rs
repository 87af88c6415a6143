//! The fast paths of `icrl train` (issue 12 item 3): `train td`'s second-moment kernel
//! (`train_td::prompt_loss_grad_fast`) against the general `(n+1)×(n+1)` backward pass and
//! against finite differences, with negative controls; and both trainers bit-identical on 1 and
//! 2 threads.

use icrl_proofs::dynamics::train_td::{self, Activation, TdConfig, TdModel, TdWork};
use icrl_proofs::dynamics::{loss, train_sarsa};
use icrl_proofs::tolerance;

/// Sizes and gains under test: [WB]'s `d = 4, n = 30`, a deeper and a one-layer model, and
/// gain 3 (every layer matters) next to the default gain.
fn cases() -> Vec<TdConfig> {
    let mut out = Vec::new();
    for (d, n, layers, gain) in [(4, 30, 3, 3.0), (4, 30, 3, 0.1 / 3.0), (2, 7, 1, 3.0), (3, 6, 5, 2.0), (1, 4, 2, 3.0)]
    {
        let mut cfg = TdConfig::wb(5);
        (cfg.d, cfg.n, cfg.layers, cfg.init_gain, cfg.minibatches, cfg.prompts) = (d, n, layers, gain, 1, 4);
        out.push(cfg);
    }
    out
}

fn general(model: &TdModel, pr: &train_td::TdPrompt) -> (f64, Vec<f64>) {
    let mut g = model.clone();
    g.set_flat(&vec![0.0; model.flat().len()]);
    let l = train_td::prompt_loss_grad_act(model, Activation::Identity, pr, &mut g);
    (l, g.flat())
}

fn fast(model: &TdModel, pr: &train_td::TdPrompt, ws: &mut TdWork) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; model.flat().len()];
    let l = train_td::prompt_loss_grad_fast(model, pr, &mut g, ws);
    (l, g)
}

/// `max |a − b| / max(1, max |b|)`.
fn rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max) / scale
}

/// The second-moment kernel computes the general path's loss and gradient (to rounding), on
/// every prompt of each case, one workspace reused across sizes; negative controls: the
/// general gradient at a model with one entry of the first or last layer's `Q` moved by `0.1`,
/// and the fast gradient of the neighbouring prompt, both differ by far more than the tolerance.
#[test]
fn fast_td_gradient_equals_the_general_backward_pass() {
    let mut ws = TdWork::default();
    let mut worst = 0.0f64;
    for cfg in cases() {
        let model = train_td::init_model(&cfg);
        let prompts = train_td::mrp_prompts(&cfg, 0);
        for (k, pr) in prompts.iter().enumerate() {
            let (lg, gg) = general(&model, pr);
            let (lf, gf) = fast(&model, pr, &mut ws);
            let tol = tolerance::TD_FAST_REL_TOL;
            assert!((lf - lg).abs() <= tol * lg.max(1.0), "{cfg:?} prompt {k}: loss {lf} vs {lg}");
            let e = rel(&gf, &gg);
            worst = worst.max(e);
            assert!(e <= tol, "{cfg:?} prompt {k}: gradient {e:e}");
            // negative controls
            let other = &prompts[(k + 1) % prompts.len()];
            assert!(rel(&fast(&model, other, &mut ws).1, &gg) > 1e3 * tol, "{cfg:?}: prompts indistinguishable");
            for l in [0, cfg.layers - 1] {
                let mut moved = model.clone();
                moved.q[l][(0, 0)] += 0.1;
                assert!(rel(&general(&moved, pr).1, &gf) > 1e3 * tol, "{cfg:?}: layer {l} perturbation not seen");
            }
        }
    }
    eprintln!("fast vs general TD gradient: worst relative difference {worst:e}");
}

/// The fast gradient against central finite differences of the general loss (the detached
/// target held fixed), at gain 3 so that every layer matters, for 1, 2, 3 and 5 layers; negative
/// control: finite differences with one layer's `Q` transposed in the loss do not match.
#[test]
fn fast_td_gradient_matches_finite_differences() {
    let mut ws = TdWork::default();
    for cfg in cases() {
        let model = train_td::init_model(&cfg);
        let pr = &train_td::mrp_prompts(&cfg, 0)[1];
        let (_, an) = fast(&model, pr, &mut ws);
        let vn = train_td::next_value(&model, pr);
        let x0 = model.flat();
        let fd_of = |transpose: bool| {
            let f = |x: &[f64]| {
                let mut m = model.clone();
                m.set_flat(x);
                if transpose {
                    m.q[0] = m.q[0].transpose();
                }
                train_td::prompt_loss(&m, pr, vn)
            };
            loss::finite_difference(f, &x0, tolerance::FD_STEP)
        };
        let err = rel(&an, &fd_of(false));
        assert!(err <= tolerance::FD_REL_TOL, "{cfg:?}: fast backprop vs FD {err:e}");
        if cfg.init_gain > 1.0 {
            let bad = rel(&an, &fd_of(true));
            assert!(bad > 100.0 * tolerance::FD_REL_TOL, "{cfg:?}: transposed Q not detected ({bad:e})");
        }
    }
}

fn td_on(cfg: &TdConfig, threads: usize) -> train_td::TdReport {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| train_td::train(cfg).unwrap())
}

/// `train td` (fast path, independent and looped layers, and the general path with ReLU) is
/// bit-identical on 1 and 2 threads.
#[test]
fn train_td_is_bit_identical_on_1_and_2_threads() {
    for (shared, act) in [(false, Activation::Identity), (true, Activation::Identity), (false, Activation::Relu)] {
        let mut cfg = TdConfig::wb(12);
        (cfg.mrps, cfg.shared, cfg.activation) = (12, shared, act);
        let (a, b) = (td_on(&cfg, 1), td_on(&cfg, 2));
        assert_eq!((&a.p, &a.q, a.loss_last.to_bits()), (&b.p, &b.q, b.loss_last.to_bits()), "{shared} {act:?}");
        assert_eq!(a.heldout_msve_model.to_bits(), b.heldout_msve_model.to_bits());
    }
}

/// `train sarsa` is bit-identical on 1 and 2 threads (gradients assembled per entry in MDP
/// order), at a minibatch that does not divide the MDPs.
#[test]
fn train_sarsa_is_bit_identical_on_1_and_2_threads() {
    let mut cfg = train_sarsa::TrainConfig::preset("small", 6).unwrap();
    (cfg.preset.mdps, cfg.preset.frames, cfg.minibatch, cfg.heldout_mdps, cfg.heldout_steps) = (40, 15, 16, 4, 5);
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| train_sarsa::train(&cfg, "small").unwrap())
    };
    let (a, b) = (on(1), on(2));
    assert_eq!((&a.p12, &a.v21_bar), (&b.p12, &b.v21_bar));
    assert_eq!(a.loss_last.to_bits(), b.loss_last.to_bits());
    assert_eq!(a.heldout_return_model.to_bits(), b.heldout_return_model.to_bits());
}

/// `Teacher::next_tokens` (the training hot path, interleaved dot products) reproduces
/// `Teacher::next_frame` bit for bit at the paper preset (`d = 36`, 36 state-action pairs) and at
/// a size whose pair count is not a multiple of four.
#[test]
fn token_frames_reproduce_the_stream_at_paper_size() {
    use icrl_proofs::dynamics::stream::{StreamPreset, Teacher, TokenFrame};
    let mut odd = StreamPreset::small();
    (odd.tab.n_states, odd.tab.n_actions) = (3, 3);
    for preset in [StreamPreset::paper(), odd] {
        let mut a = Teacher::new(17, 3, &preset);
        let mut b = a.clone();
        let mut tf = TokenFrame::default();
        for _ in 0..40 {
            let f = a.next_frame();
            b.next_tokens(&mut tf);
            assert_eq!(f.tokens(), tf.x);
            assert_eq!((&f.w, &f.target), (&tf.w, &tf.target));
        }
        assert_eq!((&a.w, a.s), (&b.w, b.s));
    }
}
