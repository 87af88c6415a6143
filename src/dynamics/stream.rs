//! The teacher-mimicking data process ([R] [LL] Algorithm 1, arXiv:2605.05755; spec
//! `docs/theory/gradient-flow.md`).
//!
//! The teacher is batch semi-gradient SARSA (`crate::rl::sarsa::batch_sarsa`). Prompts come
//! from the **teacher's** parameter trajectory, never from the model, so the data distribution
//! does not depend on the model parameters:
//!
//! ```text
//! for k in 1..K:  draw MDP M_k, features φ_k, w ~ Unif(-1,1)^d, s ~ p0
//!   for t in 1..T: roll out n transitions from s with ε-greedy(φ_kᵀ w)
//!                  H = prompt(trajectory, w); w_tgt = w_SARSA(H)
//!                  (the learner takes a step on ½‖TF_θ(H) - w_tgt‖²)
//!                  w ← w_tgt; s ← s_n
//! ```
//!
//! MDP `k` draws everything from `case_rng(seed, STREAM_TAG, k)`, so the stream of MDP `k` does
//! not depend on thread count or scheduling.

use crate::mdp::batch::TransitionBatch;
use crate::mdp::features::Features;
use crate::mdp::generators::{self, TabularPreset};
use crate::mdp::policy::sample_categorical;
use crate::mdp::rollout::rollout_epsilon_greedy;
use crate::mdp::Mdp;
use crate::rng::{case_rng, Rng};
use rand::Rng as _;

/// RNG stream tag of the training MDPs.
pub const STREAM_TAG: &str = "dynamics/stream";

/// Which features the stream draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeatureKind {
    /// i.i.d. `Unif(-1,1)`, afresh per MDP ([LL] experiments).
    Random,
    /// `φ(s,a) = e_{s|A|+a}` (`d = |S||A|`): breaks richness.
    OneHot,
}

/// A training distribution: the tabular preset plus stream sizes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamPreset {
    /// Sizes and step parameters (`|S|, |A|, γ, d, n, α, ε`).
    pub tab: TabularPreset,
    /// Training MDPs `K`.
    pub mdps: usize,
    /// Frames per MDP `T`.
    pub frames: usize,
    /// Feature family.
    pub features: FeatureKind,
}

impl StreamPreset {
    /// [LL] paper scale: `|S| = 9, |A| = 4, γ = 0.5, d = 36, n = 20, α = 0.2, ε = 0.1`,
    /// `K = 10 000` MDPs × `T = 1 000` frames.
    pub fn paper() -> Self {
        StreamPreset { tab: generators::PAPER, mdps: 10_000, frames: 1_000, features: FeatureKind::Random }
    }
    /// Small preset (`|S| = 3, |A| = 2, d = 6`), `K = 2 000` × `T = 200` (our choice: enough
    /// frames for Adam to reach the structure in seconds).
    pub fn small() -> Self {
        StreamPreset { tab: generators::SMALL, mdps: 2_000, frames: 200, features: FeatureKind::Random }
    }
    /// Tiny preset for `verify` (`|S| = 2, |A| = 2, d = 3, n = 8, α = 1`), 64 MDPs × 1 frame:
    /// the gradient-flow checks integrate a stiff ODE, so they need few parameters
    /// (`(2d+1)² = 49`) and a well-conditioned `G⋆`. Measured at seed 1: `α = 0.2` gives
    /// `λ⁺_min/λ_max ≈ 1e-4` (the `B` directions scale with `‖A⋆‖² ∝ α²`), `α = 1` gives `1e-3`,
    /// and 64 MDPs × 1 frame conditions better than 8 × 4 (fresh features per MDP).
    pub fn tiny() -> Self {
        StreamPreset {
            tab: TabularPreset { n_states: 2, n_actions: 2, gamma: 0.5, d: 3, n: 8, alpha: 1.0, epsilon: 0.1 },
            mdps: 64,
            frames: 1,
            features: FeatureKind::Random,
        }
    }
    /// Validate sizes (`InputError` names the field).
    pub fn validate(&self) -> Result<(), crate::error::InputError> {
        use crate::error::InputError;
        let t = &self.tab;
        if t.n_states == 0 {
            return Err(InputError::new("preset.n_states", "must be at least 1"));
        }
        if t.n_actions == 0 {
            return Err(InputError::new("preset.n_actions", "must be at least 1"));
        }
        if t.d == 0 {
            return Err(InputError::new("preset.d", "must be at least 1"));
        }
        if t.n == 0 {
            return Err(InputError::new("preset.n", "must be at least 1"));
        }
        crate::mdp::validate_gamma("preset.gamma", t.gamma)?;
        if !(t.alpha > 0.0 && t.alpha.is_finite()) {
            return Err(InputError::new("preset.alpha", format!("{} is not a positive finite number", t.alpha)));
        }
        if !(t.epsilon >= 0.0 && t.epsilon <= 1.0) {
            return Err(InputError::new("preset.epsilon", format!("{} is not in [0, 1]", t.epsilon)));
        }
        if self.features == FeatureKind::OneHot && t.d != t.n_states * t.n_actions {
            return Err(InputError::new(
                "preset.d",
                format!("one-hot features need d = |S||A| = {}", t.n_states * t.n_actions),
            ));
        }
        if self.mdps == 0 {
            return Err(InputError::new("preset.mdps", "must be at least 1"));
        }
        if self.frames == 0 {
            return Err(InputError::new("preset.frames", "must be at least 1"));
        }
        Ok(())
    }
}

/// One training frame: the prompt's batch and parameter, and the teacher's target.
#[derive(Clone, Debug)]
pub struct Frame {
    /// `φ_i, φ⁺_i, r_{i+1}, γ`.
    pub batch: TransitionBatch<f64>,
    /// The prompt's parameter `w` (the teacher's current iterate).
    pub w: Vec<f64>,
    /// `w_SARSA(H)`.
    pub target: Vec<f64>,
    /// The trajectory window the batch came from (for instance JSON).
    pub traj: crate::mdp::rollout::Trajectory,
}

impl Frame {
    /// Token matrix `X = [x_0 … x_{n-1}]`, `x_i = [φ_i; γφ⁺_i; r_{i+1}]`, row-major `t × n`.
    pub fn tokens(&self) -> Vec<f64> {
        let (n, d) = (self.batch.len(), self.w.len());
        let t = 2 * d + 1;
        let mut x = vec![0.0; t * n];
        for i in 0..n {
            for k in 0..d {
                x[k * n + i] = self.batch.phi[i][k];
                x[(d + k) * n + i] = self.batch.gamma * self.batch.phi_next[i][k];
            }
            x[2 * d * n + i] = self.batch.rewards[i];
        }
        x
    }
    /// `w̃ = [1; w]`.
    pub fn w_tilde(&self) -> Vec<f64> {
        let mut v = Vec::with_capacity(self.w.len() + 1);
        v.push(1.0);
        v.extend_from_slice(&self.w);
        v
    }
}

/// A frame as tokens (buffers reused across frames): `x` is `X = [x_0 … x_{n-1}]` row-major
/// `(2d+1) × n`, `w` the prompt's parameter, `target` = `w_SARSA`.
#[derive(Clone, Debug, Default)]
pub struct TokenFrame {
    /// Tokens, row-major `(2d+1) × n`.
    pub x: Vec<f64>,
    /// `φ⁺_i` (without `γ`), row-major `d × n` (for the teacher's TD errors).
    pub phi_next: Vec<f64>,
    /// Prompt parameter `w`.
    pub w: Vec<f64>,
    /// `w_SARSA`.
    pub target: Vec<f64>,
    /// ε-greedy table workspace.
    pub probs: Vec<f64>,
    /// `n`.
    pub n: usize,
    /// Workspace: `q(s, a)` of every pair, then `w·φ⁺_i`, `w·φ_i` of every transition.
    qs: Vec<f64>,
    dn: Vec<f64>,
    dc: Vec<f64>,
}

/// One MDP's teacher: its MDP, features, current `w` and state, and its own RNG.
#[derive(Clone, Debug)]
pub struct Teacher {
    /// The MDP `M_k`.
    pub mdp: Mdp,
    /// Its features `φ_k`.
    pub phi: Features,
    /// Current teacher parameter.
    pub w: Vec<f64>,
    /// Current state.
    pub s: usize,
    rng: Rng,
    tab: TabularPreset,
}

/// Draw features of the given kind.
pub fn draw_features(rng: &mut Rng, tab: &TabularPreset, kind: FeatureKind) -> Features {
    match kind {
        FeatureKind::Random => Features::random(rng, tab.n_states, tab.n_actions, tab.d),
        FeatureKind::OneHot => Features::one_hot(tab.n_states, tab.n_actions, 1.0),
    }
}

impl Teacher {
    /// MDP `k` of the stream under `seed` (tag [`STREAM_TAG`]).
    pub fn new(seed: u64, k: u64, preset: &StreamPreset) -> Self {
        Self::with_tag(seed, STREAM_TAG, k, &preset.tab, preset.features)
    }
    /// Same, from another RNG stream (held-out MDPs use their own tag).
    pub fn with_tag(seed: u64, tag: &str, k: u64, tab: &TabularPreset, kind: FeatureKind) -> Self {
        let mut rng = case_rng(seed, tag, k);
        let mdp = generators::random_tabular(&mut rng, tab.n_states, tab.n_actions, tab.gamma);
        let phi = draw_features(&mut rng, tab, kind);
        let w = (0..tab.d).map(|_| rng.random_range(-1.0..1.0)).collect();
        let s = sample_categorical(&mut rng, mdp.initial());
        Teacher { mdp, phi, w, s, rng, tab: *tab }
    }
    /// The next frame; advances the teacher (`w ← w_SARSA`, `s ← s_n`).
    pub fn next_frame(&mut self) -> Frame {
        let traj =
            rollout_epsilon_greedy(&mut self.rng, &self.mdp, &self.phi, &self.w, self.tab.epsilon, self.s, self.tab.n);
        let batch = TransitionBatch::<f64>::from_trajectory(&self.phi, &traj, self.tab.gamma);
        let target = crate::rl::sarsa::batch_sarsa(&batch, &self.w, &self.tab.alpha);
        self.s = *traj.states.last().expect("n+1 states");
        let frame = Frame { batch, w: self.w.clone(), target: target.clone(), traj };
        self.w = target;
        frame
    }
    /// The next frame as tokens only (the training hot path): fills `tf` without the
    /// intermediate `Trajectory`/`TransitionBatch` allocations. Consumes the RNG exactly as
    /// [`Teacher::next_frame`] does and produces the same tokens and bit-identical target
    /// (tested), then advances the teacher.
    #[inline(always)]
    pub fn next_tokens(&mut self, tf: &mut TokenFrame) {
        let (ns, na, d, n) = (self.mdp.n_states(), self.mdp.n_actions(), self.tab.d, self.tab.n);
        let eps = self.tab.epsilon;
        // ε-greedy rows, exactly as `TabularPolicy::epsilon_greedy` builds them, the greedy
        // action as `policy::greedy_action` picks it (first strict maximum of `φ(s,a)·w`, each
        // dot product summed in `Features::q`'s order), four dot products interleaved.
        tf.probs.clear();
        tf.probs.resize(ns * na, eps / na as f64);
        tf.qs.clear();
        tf.qs.resize(ns * na, 0.0);
        let w = &self.w[..d];
        let mut sa = 0;
        while sa + 4 <= ns * na {
            let r: [&[f64]; 4] = std::array::from_fn(|j| {
                let k = sa + j;
                &self.phi.phi(k / na, k % na)[..d]
            });
            let mut acc = [-0.0f64; 4];
            for (k, wk) in w.iter().enumerate() {
                for j in 0..4 {
                    acc[j] += r[j][k] * wk;
                }
            }
            tf.qs[sa..sa + 4].copy_from_slice(&acc);
            sa += 4;
        }
        for k in sa..ns * na {
            tf.qs[k] = self.phi.q(w, k / na, k % na);
        }
        for st in 0..ns {
            let (mut best, mut bq) = (0, f64::NEG_INFINITY);
            for (a, &q) in tf.qs[st * na..(st + 1) * na].iter().enumerate() {
                if q > bq {
                    bq = q;
                    best = a;
                }
            }
            tf.probs[st * na + best] += 1.0 - eps;
        }
        tf.n = n;
        tf.x.clear();
        tf.x.resize((2 * d + 1) * n, 0.0);
        tf.phi_next.clear();
        tf.phi_next.resize(d * n, 0.0);
        tf.w.clear();
        tf.w.extend_from_slice(&self.w);
        let gamma = self.tab.gamma;
        let mut st = self.s;
        let mut a = sample_categorical(&mut self.rng, &tf.probs[st * na..(st + 1) * na]);
        tf.target.clear();
        tf.target.extend_from_slice(&self.w);
        let step = self.tab.alpha / n as f64;
        {
            // the token rows as local slices (strided writes without reloading the buffers)
            let (x_phi, rest) = tf.x.split_at_mut(d * n);
            let (x_next, x_r) = rest.split_at_mut(d * n);
            let p_next = &mut tf.phi_next[..d * n];
            for i in 0..n {
                let s2 = sample_categorical(&mut self.rng, self.mdp.p_row(st, a));
                let r = self.mdp.r(st, a, s2);
                let a2 = sample_categorical(&mut self.rng, &tf.probs[s2 * na..(s2 + 1) * na]);
                let (phi, phi2) = (&self.phi.phi(st, a)[..d], &self.phi.phi(s2, a2)[..d]);
                for k in 0..d {
                    x_phi[k * n + i] = phi[k];
                    x_next[k * n + i] = gamma * phi2[k];
                    p_next[k * n + i] = phi2[k];
                }
                x_r[i] = r;
                st = s2;
                a = a2;
            }
        }
        // batch SARSA, in `crate::rl::sarsa::batch_sarsa`'s evaluation order (bit-identical);
        // the `n` pairs of dot products interleaved, each summed in order of `k`
        tf.dn.clear();
        tf.dn.resize(n, 0.0);
        tf.dc.clear();
        tf.dc.resize(n, 0.0);
        for k in 0..d {
            let wk = self.w[k];
            for ((dn, dc), (pn, xc)) in
                tf.dn.iter_mut().zip(tf.dc.iter_mut()).zip(tf.phi_next[k * n..(k + 1) * n].iter().zip(&tf.x[k * n..]))
            {
                *dn += wk * pn;
                *dc += wk * xc;
            }
        }
        for i in 0..n {
            let (dn, dc) = (tf.dn[i], tf.dc[i]);
            let delta = tf.x[2 * d * n + i] + gamma * dn - dc;
            let coef = step * delta;
            for k in 0..d {
                tf.target[k] += coef * tf.x[k * n + i];
            }
        }
        self.w.clear();
        self.w.extend_from_slice(&tf.target);
        self.s = st;
    }

    /// A frame whose prompt parameter is `w` but driven from this teacher's state and RNG,
    /// without advancing `w` (closed-loop control: the caller decides the next `w`).
    pub fn frame_at(&mut self, w: &[f64]) -> Frame {
        let traj = rollout_epsilon_greedy(&mut self.rng, &self.mdp, &self.phi, w, self.tab.epsilon, self.s, self.tab.n);
        let batch = TransitionBatch::<f64>::from_trajectory(&self.phi, &traj, self.tab.gamma);
        let target = crate::rl::sarsa::batch_sarsa(&batch, w, &self.tab.alpha);
        self.s = *traj.states.last().expect("n+1 states");
        Frame { batch, w: w.to_vec(), target, traj }
    }
}

/// The first `frames` frames of MDPs `0..mdps` (MDP-major order), drawn in parallel over MDPs;
/// identical for every thread count.
pub fn sample_frames(seed: u64, preset: &StreamPreset, mdps: usize, frames: usize) -> Vec<Frame> {
    use rayon::prelude::*;
    let per: Vec<Vec<Frame>> = (0..mdps as u64)
        .into_par_iter()
        .map(|k| {
            let mut t = Teacher::new(seed, k, preset);
            (0..frames).map(|_| t.next_frame()).collect()
        })
        .collect();
    per.into_iter().flatten().collect()
}
