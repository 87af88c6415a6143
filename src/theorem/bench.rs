//! `icrl bench`: end-to-end throughput of the checks, measured (not asserted).
//!
//! Every figure is one kind of instance, run end to end, as `verify` runs it: each instance `k`
//! draws from its own `ChaCha8(0, tag, k)` stream and is compared (transformer side against the
//! reference side, with the tolerance of the check, or exactly); a figure whose comparisons do
//! not all hold is reported with `holds: false`. The weights of a figure are fixed (the [LL]
//! paper preset `α = 0.2, c = 1`), built once per run, and read by every instance, like the
//! weights of one transformer; the instances are the prompts. `sarsa-paper-field-weights`
//! rebuilds the weights per evaluation (a fresh `α` and `c` per point) to show that cost.
//!
//! - `sarsa-paper` (`f64`): sample the MDP (`|S| = 9, |A| = 4, γ = 0.5`, Dirichlet rows), the
//!   features (`d = 36`) and `w`, roll out the ε-greedy window (`n = 20`); then, each side
//!   reading the raw trajectory itself as `verify` does, the prompt built straight from it into
//!   the readout's buffer ([`sarsa_prompt_from_trajectory_into`]) and the readout column by
//!   [`LsaReadout`] (sparse weights, `V (H (Hᵀ (P h_n)))`), and the reference's own pairing
//!   (`rl::pairing::transitions`) and batch SARSA; compare to `sarsa_tol`. Per-thread workspaces:
//!   no allocation per instance (`tests::sarsa_paper_allocates_nothing_per_instance`).
//! - `sarsa-paper-full-block` (`f64`): the same, the readout taken from the full block
//!   [`lsa_block`] (the checked reference of the fast path).
//! - `sarsa-paper-field`: one Schwartz–Zippel evaluation at the paper shape over `F_p`: every
//!   prompt entry (`φ_i, φ⁺_i, r_{i+1}, γ, w`) uniform in `F_p`, both sides, compared exactly.
//! - `sarsa-paper-field-weights`: the same with `α` uniform in `F_p` and `c` cycling through
//!   the checks' `C_VALUES`, the constructed `(cP⋆, c⁻¹V⋆)` built per evaluation.
//! - `sarsa-paper-field-mdp`: the `sarsa-paper` instance (sampled MDP) read into `F_p` exactly.
//! - `sarsa-paper-exact`: the `sarsa-paper` instance in `BigRational`.
//! - `linear-td-wb` (`f64`): one [WB] trial at `d = 3, n = 100, L = 40`: TD(0), TD(λ) and
//!   residual gradient, every layer compared.
//! - `softmax-td` (text only): the [XZ] timings of `theorem::softmax_td::bench`.
//!
//! Each figure is measured `repetitions` times for `seconds` each, on all rayon threads and on
//! one thread; the rate is instances per second of wall time; the report gives the median, min
//! and max over the repetitions and the machine's load average (other processes share it).

use crate::attention::linear::{lsa_block, LsaReadout, LsaScratch};
use crate::attention::prompt::{
    next_pair as prompt_next_pair, parameter_readout, sarsa_prompt_from_trajectory_into, sarsa_prompt_into,
};
use crate::construction::sarsa::{p_star, v_star, Shape};
use crate::error::InputError;
use crate::linalg::Mat;
use crate::mdp::batch::TransitionBatch;
use crate::mdp::features::Features;
use crate::mdp::generators::{random_tabular, random_tabular_into, PAPER};
use crate::mdp::policy::TabularPolicy;
use crate::mdp::rollout::{rollout_from_initial_into, Trajectory};
use crate::mdp::Mdp;
use crate::rl::pairing::{next_pair as rl_next_pair, transitions_into};
use crate::rl::sarsa::batch_sarsa_into;
use crate::rng::{case_rng, fill_uniform, Rng};
use crate::scalar::field::{with_prime, FieldRun, PrimeField};
use crate::scalar::modular::{with_modulus, Fr};
use crate::scalar::Scalar;
use crate::theorem::common::{max_abs_diff, C_VALUES};
use crate::theorem::linear_td::{reference, transformer, Variant};
use crate::theorem::sarsa::sarsa_tol;
use num_rational::BigRational;
use rayon::prelude::*;
use std::time::Instant;

/// The figures `--which` accepts (besides `all`).
pub const FIGURES: [&str; 9] = [
    "sarsa-paper",
    "sarsa-paper-full-block",
    "sarsa-paper-field",
    "sarsa-paper-field-const",
    "sarsa-paper-field-weights",
    "sarsa-paper-field-mdp",
    "sarsa-paper-exact",
    "linear-td-wb",
    "softmax-td",
];

/// The prime the field figures use: `scalar::field::FIELD_PRIMES[FIELD_INDEX]` (all eight cost
/// the same).
const FIELD_INDEX: usize = 0;

/// Per-thread buffers of one paper-preset instance (reused: no allocation per instance once
/// they have grown to the instance's size).
struct Work<T> {
    mdp: Option<Mdp>,
    features: Features,
    w: Vec<f64>,
    pi: TabularPolicy,
    traj: Trajectory,
    batch: Option<TransitionBatch<T>>,
    wt: Vec<T>,
    h: Mat<T>,
    scratch: LsaScratch<T>,
    col: Vec<T>,
    reference: Vec<T>,
}

impl<T: Scalar> Default for Work<T> {
    fn default() -> Self {
        Work {
            mdp: None,
            features: Features::default(),
            w: Vec::new(),
            pi: TabularPolicy::default(),
            traj: Trajectory::default(),
            batch: None,
            wt: Vec::new(),
            h: Mat::zeros(0, 0),
            scratch: LsaScratch::default(),
            col: Vec::new(),
            reference: Vec::new(),
        }
    }
}

impl<T: Scalar> Work<T> {
    /// Draw the paper-preset instance `k` in `f64` (the same draws as `verify`'s generators:
    /// MDP, features, `w ~ Unif(-1,1)^d`, ε-greedy window from `p0`) and read `w` into `T`.
    fn draw_instance(&mut self, k: u64) {
        let mut rng = case_rng(0, "bench-sarsa-paper", k);
        let p = PAPER;
        match &mut self.mdp {
            Some(m) => random_tabular_into(&mut rng, p.n_states, p.n_actions, p.gamma, m),
            None => self.mdp = Some(random_tabular(&mut rng, p.n_states, p.n_actions, p.gamma)),
        }
        let mdp = self.mdp.as_ref().expect("drawn above");
        self.features.random_into(&mut rng, p.n_states, p.n_actions, p.d);
        self.w.resize(p.d, 0.0);
        fill_uniform(&mut rng, -1.0, 1.0, &mut self.w); // = rng.random_range(-1.0..1.0) per entry
        self.pi.epsilon_greedy_into(&self.features, &self.w, p.epsilon);
        rollout_from_initial_into(&mut rng, mdp, &self.pi, p.n, &mut self.traj);
        self.wt.clear();
        self.wt.extend(self.w.iter().map(|&x| T::from_f64(x)));
    }

    /// The reference side's input: its own reading of the raw trajectory
    /// (`rl::pairing::transitions`, with `rl::pairing::next_pair`), into `batch`.
    fn reference_batch(&mut self) -> &TransitionBatch<T> {
        let gamma = self.mdp.as_ref().expect("instance drawn").gamma();
        let b = self.batch.get_or_insert_with(|| TransitionBatch {
            phi: Vec::new(),
            phi_next: Vec::new(),
            rewards: Vec::new(),
            gamma: T::zero(),
        });
        transitions_into(&self.features, &self.traj, gamma, rl_next_pair, b);
        b
    }

    /// The transformer side's prompt: its own reading of the raw trajectory (with
    /// `attention::prompt::next_pair`) straight into `h`.
    fn prompt(&mut self) {
        let gamma = self.mdp.as_ref().expect("instance drawn").gamma();
        sarsa_prompt_from_trajectory_into(&mut self.h, &self.features, &self.traj, gamma, &self.wt, prompt_next_pair);
    }

    /// Transformer readout (fast path) and batch SARSA on the drawn instance, into `col` and
    /// `reference`; each side reads the raw trajectory itself, as `verify` does.
    fn both_sides(&mut self, weights: &LsaReadout<T>, alpha: &T) {
        self.prompt();
        weights.last_column_into(&self.h, &mut self.scratch, &mut self.col);
        let tok = 2 * self.wt.len() + 1;
        self.col.drain(..tok + 1); // the readout: the w rows after the token and the constant 1
        self.reference_batch();
        let b = self.batch.as_ref().expect("read above");
        batch_sarsa_into(b, &self.wt, alpha, &mut self.reference);
    }
}

/// One `sarsa-paper` instance end to end: draw instance `k`, both sides, compare to `sarsa_tol`.
fn sarsa_paper_instance(w: &mut Work<f64>, weights: &LsaReadout<f64>, k: u64) -> bool {
    let alpha = PAPER.alpha;
    w.draw_instance(k);
    w.both_sides(weights, &alpha);
    let b = w.batch.as_ref().expect("drawn");
    max_abs_diff(&w.col, &w.reference) <= sarsa_tol(b, &w.w, alpha, 1)
}

/// The constructed block `(cP⋆, c⁻¹V⋆)` for SARSA at dimension `d`.
fn sarsa_weights<T: Scalar>(d: usize, alpha: &T, c: &T) -> (Mat<T>, Mat<T>) {
    let s = Shape::sarsa(d);
    (p_star(s, c), v_star(s, alpha, &T::zero(), c))
}

/// A measured figure.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Figure {
    /// Figure name (one of [`FIGURES`]).
    pub name: String,
    /// Median over the repetitions of instances per second of wall time.
    pub instances_per_second: f64,
    /// Slowest repetition.
    pub min: f64,
    /// Fastest repetition.
    pub max: f64,
    /// Number of repetitions.
    pub repetitions: usize,
    /// Rayon threads the figure ran on.
    pub threads: usize,
    /// Instances run over all repetitions.
    pub instances: u64,
    /// Median over the repetitions of instances per second of this process's CPU time (user +
    /// system, all threads, from `/proc/self/stat`; absent elsewhere): on a machine shared with
    /// other work, an estimate of the per-core rate an idle machine gives, times `threads`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instances_per_cpu_second: Option<f64>,
    /// Every comparison held.
    pub holds: bool,
    /// The field's modulus, for the `F_p` figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modulus: Option<u64>,
    /// 1-minute load average when the figure finished (`/proc/loadavg`; absent elsewhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_average: Option<f64>,
}

/// CPU seconds (user + system) of this process so far: fields 14 and 15 of `/proc/self/stat`,
/// in `USER_HZ = 100` ticks (the fixed unit of that interface).
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..]; // after "pid (comm) "; field 3 is the state
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (u, k): (f64, f64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    Some((u + k) / 100.0)
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// Run `f` over instances `0, 1, …` for `seconds` on the current pool, in chunks (one
/// workspace per rayon job split); returns (rate, instances, all held).
fn one_rate<W: Default + Send>(
    seconds: f64,
    f: &(dyn Fn(&mut W, u64) -> bool + Sync),
) -> (f64, u64, bool, Option<f64>) {
    let c0 = cpu_seconds();
    let t0 = Instant::now();
    let (mut done, mut ok, mut chunk) = (0u64, true, 8u64);
    while t0.elapsed().as_secs_f64() < seconds {
        ok &= (done..done + chunk).into_par_iter().map_init(W::default, f).reduce(|| true, |a, b| a && b);
        done += chunk;
        chunk = (chunk * 2).min(4096);
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = c0.zip(cpu_seconds()).map(|(a, b)| b - a).filter(|&c| c > 0.0);
    (done as f64 / wall, done, ok, cpu.map(|c| done as f64 / c))
}

fn measure<W: Default + Send>(
    name: &str,
    seconds: f64,
    repetitions: usize,
    threads: usize,
    modulus: Option<u64>,
    f: &(dyn Fn(&mut W, u64) -> bool + Sync),
) -> Figure {
    let run = || (0..repetitions).map(|_| one_rate(seconds, f)).collect::<Vec<_>>();
    let reps = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("rayon pool").install(run);
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let m = v.len();
        if m % 2 == 1 {
            v[m / 2]
        } else {
            0.5 * (v[m / 2 - 1] + v[m / 2])
        }
    };
    let mut rates: Vec<f64> = reps.iter().map(|r| r.0).collect();
    rates.sort_by(f64::total_cmp);
    let m = rates.len();
    let cpu: Option<Vec<f64>> = reps.iter().map(|r| r.3).collect();
    Figure {
        instances_per_cpu_second: cpu.map(median),
        name: name.to_string(),
        instances_per_second: median(rates.clone()),
        min: rates[0],
        max: rates[m - 1],
        repetitions,
        threads,
        instances: reps.iter().map(|r| r.1).sum(),
        holds: reps.iter().all(|r| r.2),
        modulus,
        load_average: load_average(),
    }
}

/// Options of one `icrl bench` run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// A figure of [`FIGURES`] or `all`.
    pub which: String,
    /// Seconds per repetition.
    pub seconds: f64,
    /// Repetitions per figure and thread count.
    pub repetitions: usize,
    /// One JSON object per line instead of text.
    pub json: bool,
}

/// Bounds of `--seconds` and `--repetitions` (the cost is bounded before anything runs:
/// at most `8 figures × 2 thread counts × repetitions × seconds`).
pub const MAX_SECONDS: f64 = 600.0;
/// See [`MAX_SECONDS`].
pub const MAX_REPETITIONS: usize = 100;

/// Run the named benchmark(s), returning report lines (text, or one JSON object per line).
pub fn run(o: &BenchOptions) -> Result<Vec<String>, InputError> {
    if !(o.seconds > 0.0 && o.seconds <= MAX_SECONDS) {
        return Err(InputError::new("--seconds", format!("must be in (0, {MAX_SECONDS}], got {}", o.seconds)));
    }
    if !(1..=MAX_REPETITIONS).contains(&o.repetitions) {
        return Err(InputError::new(
            "--repetitions",
            format!("must be in 1..={MAX_REPETITIONS}, got {}", o.repetitions),
        ));
    }
    let which = o.which.as_str();
    if which != "all" && !FIGURES.contains(&which) {
        return Err(InputError::new(
            "--which",
            format!("unknown benchmark {which:?}; expected all or one of {}", FIGURES.join(", ")),
        ));
    }
    if o.json && which == "softmax-td" {
        return Err(InputError::new("--which", "softmax-td reports text only; drop --json or pick another figure"));
    }
    let wants = |n: &str| which == "all" || which == n;
    let all_threads = rayon::current_num_threads();
    let thread_counts: Vec<usize> = if all_threads > 1 { vec![all_threads, 1] } else { vec![1] };
    let (secs, reps) = (o.seconds, o.repetitions);
    let mut figs: Vec<Figure> = Vec::new();
    let p = PAPER;

    if wants("sarsa-paper") {
        let (pm, vm) = sarsa_weights(p.d, &p.alpha, &1.0);
        let weights = LsaReadout::new(&pm, &vm);
        let f = |w: &mut Work<f64>, k: u64| sarsa_paper_instance(w, &weights, k);
        for &t in &thread_counts {
            figs.push(measure("sarsa-paper", secs, reps, t, None, &f));
        }
    }
    if wants("sarsa-paper-full-block") {
        let (pm, vm) = sarsa_weights(p.d, &p.alpha, &1.0);
        let f = |w: &mut Work<f64>, k: u64| {
            w.draw_instance(k);
            w.prompt();
            let h = lsa_block(&w.h, &pm, &vm);
            let tf = parameter_readout(&h.col(h.cols() - 1), 2 * p.d + 1);
            w.reference_batch();
            let b = w.batch.as_ref().expect("read above");
            batch_sarsa_into(b, &w.wt, &p.alpha, &mut w.reference);
            max_abs_diff(&tf, &w.reference) <= sarsa_tol(b, &w.w, p.alpha, 1)
        };
        for &t in &thread_counts {
            figs.push(measure("sarsa-paper-full-block", secs, reps, t, None, &f));
        }
    }
    if wants("sarsa-paper-field") {
        // The field the certificates of `verify` use: `scalar::modular::Fr` with the prime of the
        // run (`run_prime(seed)`, here seed 0), set per thread around each evaluation.
        let m = crate::scalar::modular::run_prime(0);
        let (alpha, weights) = with_modulus(m, || {
            let alpha = Fr::from_f64(p.alpha);
            let (pm, vm) = sarsa_weights(p.d, &alpha, &<Fr as num_traits::One>::one());
            (alpha, LsaReadout::new(&pm, &vm))
        });
        let f = |w: &mut FreeWork<Fr>, k: u64| {
            with_modulus(m, || {
                let mut rng = case_rng(0, "bench-sarsa-paper-field", k);
                w.evaluate(&mut rng, p.d, p.n, &weights, &alpha, Fr::random)
            })
        };
        for &t in &thread_counts {
            figs.push(measure("sarsa-paper-field", secs, reps, t, Some(m.p()), &f));
        }
    }
    for name in ["sarsa-paper-field-const", "sarsa-paper-field-weights", "sarsa-paper-field-mdp"] {
        if wants(name) {
            for &t in &thread_counts {
                figs.push(with_prime(FIELD_INDEX, FieldFigure { name, secs, reps, threads: t }));
            }
        }
    }
    if wants("sarsa-paper-exact") {
        let alpha = <BigRational as Scalar>::from_f64(p.alpha);
        let (pm, vm) = sarsa_weights(p.d, &alpha, &BigRational::from_ratio(1, 1));
        let weights = LsaReadout::new(&pm, &vm);
        let f = |w: &mut Work<BigRational>, k: u64| {
            w.draw_instance(k);
            w.both_sides(&weights, &alpha);
            w.col == w.reference
        };
        for &t in &thread_counts {
            figs.push(measure("sarsa-paper-exact", secs, reps, t, None, &f));
        }
    }
    if wants("linear-td-wb") {
        let f = |_: &mut (), k: u64| linear_td_wb_trial(k);
        for &t in &thread_counts {
            figs.push(measure("linear-td-wb", secs, reps, t, None, &f));
        }
    }

    let mut out = Vec::new();
    if o.json {
        out.extend(figs.iter().map(|f| serde_json::to_string(f).expect("figure serializes")));
    } else {
        out.push(format!(
            "icrl bench ({all_threads} rayon threads; instances per second of wall time, end to end; \
             median [min, max] of {reps} × {secs} s)"
        ));
        for f in &figs {
            out.push(format!(
                "{:<26} {:>2} thr {:>11.1}/s [{:.1}, {:.1}] ({} instances{}{}{}){}",
                f.name,
                f.threads,
                f.instances_per_second,
                f.min,
                f.max,
                f.instances,
                f.instances_per_cpu_second.map_or(String::new(), |c| format!(", {c:.1}/CPU-s")),
                f.modulus.map_or(String::new(), |m| format!(", p = {m}")),
                f.load_average.map_or(String::new(), |l| format!(", load {l:.2}")),
                if f.holds { "" } else { "  CHECK FAILED" }
            ));
        }
        if wants("softmax-td") {
            out.extend(crate::theorem::softmax_td::bench(secs));
        }
    }
    Ok(out)
}

/// The `F_p` figures, generic over the field chosen at run time.
struct FieldFigure {
    name: &'static str,
    secs: f64,
    reps: usize,
    threads: usize,
}

/// Per-thread buffers of one free `F_p` evaluation.
struct FreeWork<F> {
    batch: TransitionBatch<F>,
    w: Vec<F>,
    h: Mat<F>,
    scratch: LsaScratch<F>,
    col: Vec<F>,
    reference: Vec<F>,
}

impl<F: Scalar> Default for FreeWork<F> {
    fn default() -> Self {
        FreeWork {
            batch: TransitionBatch { phi: Vec::new(), phi_next: Vec::new(), rewards: Vec::new(), gamma: F::zero() },
            w: Vec::new(),
            h: Mat::zeros(0, 0),
            scratch: LsaScratch::default(),
            col: Vec::new(),
            reference: Vec::new(),
        }
    }
}

impl<F: Scalar> FreeWork<F> {
    /// Every prompt entry uniform in `F_p` (`random`), then both sides; returns whether they agree.
    fn evaluate(
        &mut self,
        rng: &mut Rng,
        d: usize,
        n: usize,
        weights: &LsaReadout<F>,
        alpha: &F,
        random: fn(&mut Rng) -> F,
    ) -> bool {
        let b = &mut self.batch;
        for rows in [&mut b.phi, &mut b.phi_next] {
            rows.resize_with(n, Vec::new);
            for r in rows.iter_mut() {
                r.clear();
                r.extend((0..d).map(|_| random(rng)));
            }
        }
        b.rewards.clear();
        b.rewards.extend((0..n).map(|_| random(rng)));
        b.gamma = random(rng);
        self.w.clear();
        self.w.extend((0..d).map(|_| random(rng)));
        sarsa_prompt_into(&mut self.h, &self.batch, &self.w);
        weights.last_column_into(&self.h, &mut self.scratch, &mut self.col);
        batch_sarsa_into(&self.batch, &self.w, alpha, &mut self.reference);
        self.col[2 * d + 2..] == self.reference[..]
    }
}

impl FieldRun for FieldFigure {
    type Output = Figure;
    fn run<F: PrimeField>(self) -> Figure {
        let p = PAPER;
        let (d, n) = (p.d, p.n);
        let alpha = F::from_f64(p.alpha);
        let (pm, vm) = sarsa_weights(d, &alpha, &F::one());
        let weights = LsaReadout::new(&pm, &vm);
        let m = Some(F::P);
        let (name, secs, reps, t) = (self.name, self.secs, self.reps, self.threads);
        match name {
            "sarsa-paper-field-const" => {
                let f = |w: &mut FreeWork<F>, k: u64| {
                    let mut rng = case_rng(0, "bench-sarsa-paper-field", k);
                    w.evaluate(&mut rng, d, n, &weights, &alpha, F::random)
                };
                measure(name, secs, reps, t, m, &f)
            }
            "sarsa-paper-field-weights" => {
                let f = |w: &mut FreeWork<F>, k: u64| {
                    let mut rng = case_rng(0, "bench-sarsa-paper-field-weights", k);
                    let a = F::random(&mut rng);
                    let (cn, cd) = C_VALUES[k as usize % C_VALUES.len()];
                    let (pk, vk) = sarsa_weights(d, &a, &F::from_ratio(cn, cd));
                    w.evaluate(&mut rng, d, n, &LsaReadout::new(&pk, &vk), &a, F::random)
                };
                measure(name, secs, reps, t, m, &f)
            }
            _ => {
                let f = |w: &mut Work<F>, k: u64| {
                    w.draw_instance(k);
                    w.both_sides(&weights, &alpha);
                    w.col == w.reference
                };
                measure(name, secs, reps, t, m, &f)
            }
        }
    }
}

/// One [WB] trial at `d = 3, n = 100, L = 40` (f64), all three variants; returns whether all held.
pub fn linear_td_wb_trial(k: u64) -> bool {
    let mut rng = case_rng(0, "bench-linear-td", k);
    let (d, n, layers) = (3, 100, 40);
    let (mdp, f, traj, q) = crate::theorem::linear_td::draw_mrp_case(&mut rng, 10, d, n);
    let b: TransitionBatch<f64> = TransitionBatch::from_trajectory(&f, &traj, mdp.gamma());
    let cs = vec![Mat::identity(d).scale(&0.1); layers];
    let phi_q = f.x(q).to_vec();
    [Variant::Td0, Variant::Lambda, Variant::Residual].iter().all(|&v| {
        let tf = transformer(&b, &phi_q, &cs, v, &0.5, true, false);
        let (rv, rd) = reference(&b, &phi_q, &cs, v, &0.5);
        let zmax = rd.iter().flatten().chain(&rv).fold(1.0f64, |m, x| m.max(x.abs()));
        max_abs_diff(&tf.readouts, &rv) <= crate::theorem::linear_td::td_tol(d, n, &cs, zmax)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        /// Allocations (and reallocations) made by this thread.
        static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    }

    /// The system allocator, counting per thread (tests run in parallel threads; each reads its own).
    struct Counting;

    fn count() {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
    }

    // SAFETY: every call forwards to `System` with the caller's arguments unchanged; counting
    // touches a `const`-initialized thread-local `Cell` (no allocation, no destructor).
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count();
            System.alloc(layout)
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            count();
            System.alloc_zeroed(layout)
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            count();
            System.realloc(ptr, layout, new_size)
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            System.dealloc(ptr, layout)
        }
    }

    #[global_allocator]
    static COUNTING: Counting = Counting;

    fn allocations() -> u64 {
        ALLOCATIONS.with(Cell::get)
    }

    /// The `sarsa-paper` hot loop (the very function the figure runs: draw, both sides, compare)
    /// allocates nothing once its workspace has grown to the paper shape, and every instance
    /// holds. Negative control: the allocating builders are counted (the counter can fail).
    #[test]
    fn sarsa_paper_allocates_nothing_per_instance() {
        let p = PAPER;
        let (pm, vm) = sarsa_weights(p.d, &p.alpha, &1.0);
        let weights = LsaReadout::new(&pm, &vm);
        let mut w = Work::<f64>::default();
        assert!(sarsa_paper_instance(&mut w, &weights, 0)); // grows the buffers
        let before = allocations();
        for k in 1..300 {
            assert!(sarsa_paper_instance(&mut w, &weights, k), "instance {k}");
        }
        assert_eq!(allocations() - before, 0, "allocations in 299 instances of the hot loop");
        let before = allocations();
        let b = w.batch.as_ref().expect("drawn");
        let h = crate::attention::prompt::sarsa_prompt(b, &w.wt);
        assert!(allocations() > before, "the counter sees an allocating prompt builder");
        assert_eq!(h, w.h, "and the allocating builder built the prompt of the hot loop");
    }
}
