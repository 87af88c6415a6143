//! One gradient-flow experiment end to end (used by the `sarsa-local-convergence` check, the
//! richness search and `icrl report flow`): build the population, integrate from a start point,
//! and measure everything Thm 3.2 talks about.

use super::flow::{self, FlowRun, FlowStop, OdeTol};
use super::loss::{self, Population};
use super::spectrum::{self, Spectrum};
use super::stream::{self, FeatureKind, StreamPreset};
use crate::mdp::generators::TabularPreset;

/// Every number of one flow run.
#[derive(Clone, Debug)]
pub struct FlowReport {
    /// The integration.
    pub run: FlowRun,
    /// `L(θ(0))`.
    pub loss0: f64,
    /// `L(θ(T))`.
    pub loss_end: f64,
    /// The loss target of the run, `max(loss_ratio · L(0), loss_floor)`.
    pub loss_target: f64,
    /// Largest increase of `ln L` between accepted steps while `L ≥ FLOW_MONOTONE_FROM · L(0)`
    /// (gradient flow never increases `L`).
    pub max_log_increase: f64,
    /// Closest `c` on the manifold.
    pub c_inf: f64,
    /// `dist(θ(T), manifold) / ‖θ(T)‖`.
    pub manifold_rel: f64,
    /// `max_t |K(t) - K(0)| / (‖A(0)‖² + ‖B(0)‖²)`, `K = ‖B‖² - ‖A‖²`.
    pub conservation_drift: f64,
    /// `c∞` predicted by the conservation law.
    pub c_pred: f64,
    /// Spectrum of `G` at the construction `c = 1`.
    pub spectrum_star: Spectrum,
    /// Spectrum of `G` at the limit point.
    pub spectrum_limit: Spectrum,
    /// Fitted slope of `ln L` over the last [`SLOPE_WINDOW_DECADES`] decades (reported; it
    /// converges slowly when the two smallest positive eigenvalues are close).
    pub slope_raw: Option<f64>,
    /// Asymptotic slope of `ln L`, measured on the slowest normal mode:
    /// `2 × slope of ln |⟨θ(t) - θ(T), v_min⟩|` (see [`flow::mode_slope`]).
    pub slope: Option<f64>,
    /// `-2 λ⁺_min(G at the limit)`.
    pub slope_pred: f64,
    /// The Gauss–Newton matrix `G` at the limit (from [`Population::gauss_newton`]).
    pub gauss_newton_limit: nalgebra::DMatrix<f64>,
    /// The Hessian of `L` at the limit by central differences of the gradient
    /// ([`spectrum::fd_hessian`]): the independent route to the rate, never through `G`'s code.
    pub hessian_fd: nalgebra::DMatrix<f64>,
    /// `(λ⁺_1, λ⁺_2)`: the two smallest eigenvalues of [`FlowReport::hessian_fd`] above
    /// `FD_HESSIAN_ZERO_REL · λ_max` (the manifold tangent is the one below).
    pub lambda_fd: (f64, f64),
}

/// Decades of loss, ending at the final loss, over which the asymptotic slope is fitted.
pub const SLOPE_WINDOW_DECADES: f64 = 4.0;

/// `‖A⋆‖² = dα²` and `‖B⋆‖² = 2d+1` (`docs/theory/gradient-flow.md`).
pub fn star_norms(d: usize, alpha: f64) -> (f64, f64) {
    (d as f64 * alpha * alpha, (2 * d + 1) as f64)
}

/// Run the flow from `theta0` on `pop` and measure. `theta_ref` is `θ⋆` at `c = 1` (the
/// construction whose manifold the limit is compared with; sabotage perturbs it).
pub fn run(pop: &Population, theta0: &[f64], alpha: f64, theta_ref: &[f64], stop: FlowStop) -> FlowReport {
    let d = pop.d;
    let r = flow::gradient_flow(pop, theta0, OdeTol::default(), stop);
    let loss0 = r.trace[0].1;
    let loss_end = r.trace.last().map_or(loss0, |x| x.1);
    let mono_from = loss0 * crate::tolerance::FLOW_MONOTONE_FROM;
    let max_log_increase = r
        .trace
        .windows(2)
        .filter(|w| w[1].1 >= mono_from)
        .map(|w| w[1].1.ln() - w[0].1.ln())
        .fold(f64::NEG_INFINITY, f64::max);
    let (c_inf, dist) = flow::manifold_distance(d, &r.theta, theta_ref);
    let norm = r.theta.iter().map(|x| x * x).sum::<f64>().sqrt();
    let k0 = r.conserved[0];
    let scale: f64 = theta0.iter().map(|x| x * x).sum();
    let conservation_drift = r.conserved.iter().map(|k| (k - k0).abs()).fold(0.0, f64::max) / scale;
    let (asq, bsq) = star_norms(d, alpha);
    let sign0 = {
        let (_, b0) = loss::split(d, theta0);
        let (_, bs) = loss::split(d, theta_ref);
        b0.iter().zip(bs).map(|(x, y)| x * y).sum::<f64>()
    };
    let c_pred = flow::predicted_c_inf(k0, asq, bsq, sign0);
    let spectrum_star = spectrum::analyse(&pop.gauss_newton(theta_ref), &spectrum::tangent(d, theta_ref, 1.0));
    let spectrum_limit = spectrum::analyse(&pop.gauss_newton(&r.theta), &spectrum::tangent(d, theta_ref, c_inf));
    let slope_raw = flow::log_slope(&r.trace, loss_end, loss_end * 10f64.powf(SLOPE_WINDOW_DECADES));
    // Mode window: deep enough to be linear (L ≤ 1e-8 L(0)), far enough above the end that
    // θ(t) - θ(T) is not dominated by θ(T)'s own residual (L ≥ 1e6 L(T), i.e. δθ ≥ 1e3 × residual).
    let slope = flow::mode_slope(&r.snapshots, &r.theta, &spectrum_limit.v_min_pos, loss_end * 1e6, loss0 * 1e-8)
        .map(|s| 2.0 * s);
    let slope_pred = -2.0 * spectrum_limit.lambda_min_pos;
    let gauss_newton_limit = pop.gauss_newton(&r.theta);
    let hessian_fd = spectrum::fd_hessian(
        |x, g| {
            pop.loss_grad(x, g);
        },
        &r.theta,
        crate::tolerance::FD_STEP,
    );
    let lambda_fd = spectrum::two_smallest_positive(
        &spectrum::sorted_eigenvalues(&hessian_fd),
        crate::tolerance::FD_HESSIAN_ZERO_REL,
    );
    FlowReport {
        gauss_newton_limit,
        hessian_fd,
        lambda_fd,
        loss_target: (loss0 * stop.loss_ratio).max(stop.loss_floor),
        loss0,
        loss_end,
        max_log_increase,
        c_inf,
        manifold_rel: dist / norm,
        conservation_drift,
        c_pred,
        spectrum_star,
        spectrum_limit,
        slope_raw,
        slope,
        slope_pred,
        run: r,
    }
}

/// A training distribution for the flow: preset (sizes, features), number of MDPs and frames,
/// and the stream seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlowData {
    /// Sizes, step, feature family, `K`, `T`.
    pub preset: StreamPreset,
    /// Seed of the stream.
    pub seed: u64,
}

impl FlowData {
    /// The population of `K × T` prompts.
    pub fn population(&self) -> Population {
        let frames = stream::sample_frames(self.seed, &self.preset, self.preset.mdps, self.preset.frames);
        Population::from_frames(self.preset.tab.d, &frames)
    }
    /// JSON description (stored in fixtures).
    pub fn to_json(&self) -> serde_json::Value {
        let t = &self.preset.tab;
        serde_json::json!({
            "n_states": t.n_states, "n_actions": t.n_actions, "gamma": t.gamma, "d": t.d, "n": t.n,
            "alpha": t.alpha, "epsilon": t.epsilon, "mdps": self.preset.mdps, "frames": self.preset.frames,
            "features": match self.preset.features { FeatureKind::Random => "random", FeatureKind::OneHot => "one-hot" },
            "seed": self.seed,
        })
    }
    /// Parse [`FlowData::to_json`]; errors name `prefix.field`.
    pub fn from_json(v: &serde_json::Value, prefix: &str) -> Result<Self, crate::error::InputError> {
        use crate::error::InputError;
        use crate::instance::{index, num};
        let g = |k: &str| v.get(k).ok_or_else(|| InputError::new(format!("{prefix}.{k}"), "missing"));
        let f = |k: &str| -> Result<f64, InputError> { num(g(k)?, &format!("{prefix}.{k}")) };
        let u = |k: &str| -> Result<usize, InputError> { index(g(k)?, &format!("{prefix}.{k}")) };
        let features = match g("features")?.as_str() {
            Some("random") => FeatureKind::Random,
            Some("one-hot") => FeatureKind::OneHot,
            _ => return Err(InputError::new(format!("{prefix}.features"), "must be \"random\" or \"one-hot\"")),
        };
        let seed = g("seed")?
            .as_u64()
            .ok_or_else(|| InputError::new(format!("{prefix}.seed"), "must be a nonnegative integer"))?;
        let preset = StreamPreset {
            tab: TabularPreset {
                n_states: u("n_states")?,
                n_actions: u("n_actions")?,
                gamma: f("gamma")?,
                d: u("d")?,
                n: u("n")?,
                alpha: f("alpha")?,
                epsilon: f("epsilon")?,
            },
            mdps: u("mdps")?,
            frames: u("frames")?,
            features,
        };
        // Sizes are bounded before anything is allocated or validated (a replay must finish in
        // seconds); `mdps · frames` is formed without overflow.
        for (k, x, max) in
            [("n_states", preset.tab.n_states, 64), ("n_actions", preset.tab.n_actions, 64), ("n", preset.tab.n, 4096)]
        {
            if x > max {
                return Err(InputError::new(
                    format!("{prefix}.{k}"),
                    format!("{x} is too large for a gradient-flow replay (at most {max})"),
                ));
            }
        }
        preset.validate().map_err(|e| InputError::new(e.field.replacen("preset", prefix, 1), e.message))?;
        if preset.tab.d > 12 || preset.mdps.checked_mul(preset.frames).map_or(true, |kt| kt > 4096) {
            return Err(InputError::new(
                prefix.to_string(),
                "too large for a gradient-flow replay (d ≤ 12, K·T ≤ 4096)",
            ));
        }
        Ok(FlowData { preset, seed })
    }
}

/// Relative error of the point `θ` as a SARSA step on `prompts` prompts of a **rich** training
/// distribution (random tabular MDPs `|S| = |A| = 2`, random features of dimension `d`, the
/// given `n, γ, α, ε`): `sqrt(Σ‖TF - w_SARSA‖²) / sqrt(Σ‖w_SARSA - w‖²)`.
pub fn rich_error(th: &[f64], d: usize, tab: &TabularPreset, seed: u64, prompts: usize) -> f64 {
    let rich = StreamPreset {
        tab: TabularPreset { n_states: 2, n_actions: 2, d, ..*tab },
        mdps: prompts,
        frames: 1,
        features: FeatureKind::Random,
    };
    let pop = Population::from_frames(d, &stream::sample_frames(seed, &rich, prompts, 1));
    let num = pop.loss(th);
    let den: f64 = pop.prompts.iter().map(|p| p.y.iter().map(|x| x * x).sum::<f64>()).sum::<f64>() * 0.5
        / pop.prompts.len() as f64;
    (num / den).sqrt()
}

/// `θ⋆ + scale · U(-1,1)` perturbation, drawn from `rng`.
pub fn perturbed_start(rng: &mut crate::rng::Rng, theta_star: &[f64], scale: f64) -> Vec<f64> {
    use rand::Rng as _;
    theta_star.iter().map(|x| x + scale * rng.random_range(-1.0..1.0)).collect()
}

/// Re-export for callers that only need `n_params`.
pub use super::loss::n_params;
