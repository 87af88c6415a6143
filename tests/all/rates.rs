//! Rate checks with teeth (issue 13, item 2): the mutations `G × 1.08`, `α/2` in the decay and
//! Assumption 5.1's margin misread as `(1+γ²)/2` are each seen by a semantic check, and the
//! rate checks' own tolerances come from the bounds written next to them. The same mutations
//! applied to the source are `scripts/mutations.sh`.

use icrl_proofs::dynamics::experiment::{self, FlowData};
use icrl_proofs::dynamics::flow::FlowStop;
use icrl_proofs::dynamics::loss;
use icrl_proofs::dynamics::stream::StreamPreset;
use icrl_proofs::rng::case_rng;
use icrl_proofs::theorem::contraction::{
    decay_windows, draw_decay_instance, run_steps, sup_dist, window_iterates, worst_row_signs, DECAY_LAYERS, DECAY_N,
    FIXED_WINDOW_N, FLOOR_NS, THM2_ALPHA,
};
use icrl_proofs::theorem::dynamics::{gap_ratio, rate_error, rate_measurements};
use icrl_proofs::theorem::softmax_td::coverage_rollout;
use icrl_proofs::tolerance::{self, decay_fit_slack, FLOOR_SLOPE_RANGE};

#[test]
fn the_rate_row_sees_gauss_newton_scaled_by_1_08_and_the_slope_could_too() {
    let data = FlowData { preset: StreamPreset::tiny(), seed: 3 };
    let pop = data.population();
    let (d, alpha) = (data.preset.tab.d, data.preset.tab.alpha);
    assert!(gap_ratio(&pop, alpha, 1.0) >= tolerance::SPECTRAL_GAP_MIN, "the spectral-gap assumption holds here");
    let ts = loss::theta_star(d, alpha, 1.0);
    let th0 = experiment::perturbed_start(&mut case_rng(3, "test/rates", 0), &ts, 0.1);
    let r = experiment::run(&pop, &th0, alpha, &ts, FlowStop::default());
    let ok = rate_measurements(&r, 1.0);
    assert!(ok.measurements.iter().all(|m| m.holds), "{:?}", ok.measurements);
    let bad = rate_measurements(&r, 1.08);
    let failed: Vec<_> = bad.measurements.iter().filter(|m| !m.holds).map(|m| m.quantity.clone()).collect();
    assert!(failed.iter().any(|q| q.starts_with("Gauss–Newton G at the limit")), "{failed:?}");
    // The slope of ln L itself resolves 8 %: it matches -2λ⁺ of the FD Hessian to far better
    // than the 0.08 a scaled prediction would be off by.
    assert!(rate_error(&r) < 0.01, "slope error {}", rate_error(&r));
    let slope = r.slope_raw.unwrap();
    let scaled = -2.0 * 1.08 * r.lambda_fd.0;
    assert!(((slope - scaled) / scaled).abs() > 0.06);
    // Independence: the FD Hessian's λ⁺_min agrees with the Gauss–Newton code's at the limit.
    let rel = (r.lambda_fd.0 - r.spectrum_limit.lambda_min_pos).abs() / r.lambda_fd.0;
    assert!(rel < 1e-4, "λ⁺_min: FD {} vs G {}", r.lambda_fd.0, r.spectrum_limit.lambda_min_pos);
}

#[test]
fn the_half_step_and_the_misread_margin_fail_the_rho_checks() {
    let (mut half_caught, mut misread_caught) = (0, 0);
    for k in 0..8 {
        let mut rng = case_rng(11, "test/rates-decay", k);
        let inst = draw_decay_instance(&mut rng, 5);
        let traj = coverage_rollout(&mut rng, &inst.mrp, DECAY_N);
        let w = window_iterates(&inst, &traj, DECAY_LAYERS, THM2_ALPHA);
        let v_inf = w.v_inf.clone().unwrap();
        let rho = w.ss.rho_hat(THM2_ALPHA);
        // Tightness: from v_inf + sign(worst row) one step at α = 1 gains exactly ρ̂ …
        let x: Vec<f64> = v_inf.iter().zip(worst_row_signs(&w.ss, THM2_ALPHA)).map(|(v, s)| v + s).collect();
        let gain = |alpha: f64| sup_dist(&run_steps(&w.ss, &x, 1, alpha)[1], &v_inf) / sup_dist(&x, &v_inf);
        let tol =
            tolerance::fixed_point_slack(w.ss.ns, rho, 1) * (1.0 + v_inf.iter().fold(1.0f64, |m, y| m.max(y.abs())));
        assert!((gain(1.0) - rho).abs() <= tol, "case {k}: gain {} vs ρ̂ {rho}", gain(1.0));
        // … and at α/2 it does not.
        half_caught += usize::from((gain(0.5) - rho).abs() > tol);
        // ρ̂ ≤ 1 - 2C + 2Δ with the margin read as min M - (1+γ²)/2 (larger by γ(1-γ)/2).
        let g = inst.mrp.gamma();
        let delta = sup_dist(&w.ss.m_hat, &inst.pop.m_pi);
        assert!(rho <= 1.0 - 2.0 * inst.pop.margin + 2.0 * delta);
        let misread = inst.pop.margin + g * (1.0 - g) / 2.0;
        misread_caught += usize::from(rho > 1.0 - 2.0 * misread + 2.0 * delta);
    }
    assert_eq!(half_caught, 8, "α/2 must fail the tightness check on every case");
    assert!(misread_caught >= 1, "the misread margin must fail the ρ̂ bound on some case");
}

#[test]
fn a_floor_that_does_not_shrink_fails_the_slope_test() {
    let mut rng = case_rng(5, "test/rates-floor", 0);
    let inst = draw_decay_instance(&mut rng, 5);
    let c = inst.pop.capped_margin(inst.mrp.gamma()).unwrap();
    let (lo, hi) = FLOOR_SLOPE_RANGE;
    let grow = decay_windows(&mut rng, &inst, 25, &FLOOR_NS, 0, 1.0, c);
    assert!(grow.fit.slope >= lo && grow.fit.slope <= hi, "growing windows: slope {}", grow.fit.slope);
    let fixed = decay_windows(&mut rng, &inst, 25, &[FIXED_WINDOW_N; FLOOR_NS.len()], 0, 1.0, c);
    assert!(!(fixed.fit.slope >= lo && fixed.fit.slope <= hi), "fixed windows: slope {}", fixed.fit.slope);
}

#[test]
fn the_decay_fit_slack_follows_its_bound() {
    // m = 3, k = 10: B = ln(9/8), w = 1.
    assert!((decay_fit_slack(3, 10.0) - (1.0 - (-(9.0f64 / 8.0).ln()).exp())).abs() < 1e-15);
    // Longer stretches are biased less; a looser threshold more.
    assert!(decay_fit_slack(10, 10.0) < decay_fit_slack(5, 10.0));
    assert!(decay_fit_slack(5, 10.0) < decay_fit_slack(3, 10.0));
    assert!(decay_fit_slack(3, 10.0) < decay_fit_slack(3, 3.0));
    // The old constant 0.02 did not cover a 3-layer fit (14 of the 32 default cases).
    assert!(decay_fit_slack(3, 10.0) > 0.02);
}

/// The relaxed search finds a case whose slope is > 10 % off when the spectral gap is dropped.
/// Expensive (gradient flows while shrinking): run with
/// `cargo test --release --test all -- rates::spectral_gap_search --ignored`.
#[test]
#[ignore]
fn spectral_gap_search_finds_a_rate_violation() {
    use icrl_proofs::assumption::AssumptionId;
    let (search, args) =
        icrl_proofs::theorem::search_plan("sarsa-local-convergence-rate", &["spectral-gap".into()], Some(200), 0)
            .unwrap();
    let t = icrl_proofs::theorem::find(&args.theorem).unwrap();
    let a = t.assumptions.iter().find(|a| a.id == AssumptionId::SpectralGap).unwrap();
    let out = search(&args).unwrap();
    let cx = out.found.expect("a violation");
    assert!(cx.violation > tolerance::SLOPE_REL_TOL);
    assert!((a.replay.unwrap())(&cx.instance).unwrap() > tolerance::SLOPE_REL_TOL);
}
