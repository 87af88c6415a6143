//! `icrl train sarsa|td|softmax-td`: run the training experiments of `crate::dynamics` and assemble their
//! report (Markdown, numbers, figures), as every `report` kind does.

use super::Output;
use crate::dynamics::train_td::{Activation, TdEnv};
use crate::error::InputError;
use rayon::prelude::*;

/// A flag of `icrl train` that not every kind accepts ([`TRAIN_KINDS`] says which do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainFlag {
    /// `--preset`
    Preset,
    /// `--shared`
    Shared,
    /// `--init-gain`
    InitGain,
    /// `-d`
    D,
    /// `--states`
    States,
    /// `--actions`
    Actions,
    /// `-n`
    N,
    /// `-l`
    Layers,
    /// `--gamma`
    Gamma,
    /// `--mrps`
    Mrps,
    /// `--batch-size`
    BatchSize,
    /// `--batches-per-mrp`
    BatchesPerMrp,
    /// `--lr`
    Lr,
    /// `--weight-decay`
    WeightDecay,
    /// `--representable`
    Representable,
    /// `--activation`
    Activation,
    /// `--env`
    Env,
    /// `--epsilon`
    Epsilon,
    /// `--alpha`
    Alpha,
    /// `--mdps`
    Mdps,
    /// `--frames`
    Frames,
    /// `--dense`
    Dense,
}

impl TrainFlag {
    /// The flag as the user types it.
    pub fn name(self) -> &'static str {
        use TrainFlag::*;
        match self {
            Preset => "--preset",
            Shared => "--shared",
            InitGain => "--init-gain",
            D => "-d",
            States => "--states",
            Actions => "--actions",
            N => "-n",
            Layers => "-l",
            Gamma => "--gamma",
            Mrps => "--mrps",
            BatchSize => "--batch-size",
            BatchesPerMrp => "--batches-per-mrp",
            Lr => "--lr",
            WeightDecay => "--weight-decay",
            Representable => "--representable",
            Activation => "--activation",
            Env => "--env",
            Epsilon => "--epsilon",
            Alpha => "--alpha",
            Mdps => "--mdps",
            Frames => "--frames",
            Dense => "--dense",
        }
    }
}

/// Every `icrl train` kind and the flags it accepts (besides `--seed`, `--seeds`, `--out`,
/// `--json`, which all accept): the one list a new kind joins, with one entry. A flag given to a
/// kind that does not list it is an input error naming the flag.
pub const TRAIN_KINDS: &[(&str, &[TrainFlag])] = {
    use TrainFlag::*;
    &[
        ("sarsa", &[Preset, States, Actions, D, N, Epsilon, Gamma, Alpha, Mdps, Frames]),
        (
            "td",
            &[
                Shared,
                InitGain,
                D,
                States,
                N,
                Layers,
                Gamma,
                Mrps,
                BatchSize,
                BatchesPerMrp,
                Lr,
                WeightDecay,
                Representable,
                Activation,
                Env,
            ],
        ),
        (
            "softmax-td",
            &[
                Dense,
                InitGain,
                D,
                States,
                N,
                Layers,
                Gamma,
                Mrps,
                BatchSize,
                BatchesPerMrp,
                Lr,
                WeightDecay,
                Representable,
                Env,
            ],
        ),
    ]
};

/// The experiment flags of `icrl train` as given (`None` / `false`: the kind's default).
#[derive(Clone, Debug, Default)]
pub struct TrainFlags {
    /// `--preset small|paper` (`train sarsa`).
    pub preset: Option<String>,
    /// `--shared`.
    pub shared: bool,
    /// `--init-gain G`.
    pub init_gain: Option<f64>,
    /// `-d`: feature dimension.
    pub d: Option<usize>,
    /// `--states`: `|S|`.
    pub states: Option<usize>,
    /// `--actions`: `|A|`.
    pub actions: Option<usize>,
    /// `-n`: context length (transitions per prompt).
    pub n: Option<usize>,
    /// `-l`: layers.
    pub layers: Option<usize>,
    /// `--gamma`.
    pub gamma: Option<f64>,
    /// `--mrps`: training MRPs.
    pub mrps: Option<usize>,
    /// `--batch-size`: prompts per minibatch.
    pub batch_size: Option<usize>,
    /// `--batches-per-mrp`: minibatches (Adam steps) per MRP.
    pub batches_per_mrp: Option<usize>,
    /// `--lr`: Adam learning rate.
    pub lr: Option<f64>,
    /// `--weight-decay`: Adam's coupled L2 decay.
    pub weight_decay: Option<f64>,
    /// `--representable`.
    pub representable: bool,
    /// `--activation`.
    pub activation: Option<Activation>,
    /// `--env`.
    pub env: Option<TdEnv>,
    /// `--epsilon`: ε of the ε-greedy behaviour policy.
    pub epsilon: Option<f64>,
    /// `--alpha`: the teacher's SARSA step size.
    pub alpha: Option<f64>,
    /// `--mdps`: training MDPs `K`.
    pub mdps: Option<usize>,
    /// `--frames`: frames per MDP `T`.
    pub frames: Option<usize>,
    /// `--dense` (`train softmax-td`): every entry free, not only the construction's.
    pub dense: bool,
}

impl TrainFlags {
    /// The flags that were given, in [`TrainFlag`] order.
    pub fn given(&self) -> Vec<TrainFlag> {
        use TrainFlag::*;
        let set = [
            (Preset, self.preset.is_some()),
            (Shared, self.shared),
            (InitGain, self.init_gain.is_some()),
            (D, self.d.is_some()),
            (States, self.states.is_some()),
            (Actions, self.actions.is_some()),
            (N, self.n.is_some()),
            (Layers, self.layers.is_some()),
            (Gamma, self.gamma.is_some()),
            (Mrps, self.mrps.is_some()),
            (BatchSize, self.batch_size.is_some()),
            (BatchesPerMrp, self.batches_per_mrp.is_some()),
            (Lr, self.lr.is_some()),
            (WeightDecay, self.weight_decay.is_some()),
            (Representable, self.representable),
            (Activation, self.activation.is_some()),
            (Env, self.env.is_some()),
            (Epsilon, self.epsilon.is_some()),
            (Alpha, self.alpha.is_some()),
            (Mdps, self.mdps.is_some()),
            (Frames, self.frames.is_some()),
            (Dense, self.dense),
        ];
        set.iter().filter(|x| x.1).map(|x| x.0).collect()
    }
    /// Every given flag applies to `train KIND` ([`TRAIN_KINDS`]), else an error naming the first
    /// one that does not and the kinds it applies to.
    pub fn check(&self, kind: &str) -> Result<(), InputError> {
        let accepted = TRAIN_KINDS
            .iter()
            .find(|k| k.0 == kind)
            .map(|k| k.1)
            .ok_or_else(|| InputError::new("WHICH", format!("unknown training {kind:?}")))?;
        for f in self.given() {
            if !accepted.contains(&f) {
                let to: Vec<String> =
                    TRAIN_KINDS.iter().filter(|k| k.1.contains(&f)).map(|k| format!("`train {}`", k.0)).collect();
                return Err(InputError::new(
                    f.name(),
                    format!("does not apply to `train {kind}` (it applies to {})", to.join(", ")),
                ));
            }
        }
        Ok(())
    }
}

/// A cost-limit error ([`crate::dynamics::train_td::TdConfig::validate`] and its `sarsa` twin name
/// `--mrps` / `preset.mdps` for work and `--batch-size` / `preset.d` for memory) renamed to the
/// first given flag among those that set the cost, so `-n 1000000` is blamed on `-n`; other
/// errors pass through.
fn blame_cost(mut e: InputError, f: &TrainFlags) -> InputError {
    use TrainFlag::*;
    const SIZES: [TrainFlag; 10] = [Mrps, Mdps, Frames, BatchSize, BatchesPerMrp, Layers, N, D, States, Actions];
    if e.message.starts_with("estimated ") {
        if let Some(g) = SIZES.iter().find(|g| f.given().contains(g)) {
            e.field = g.name().to_string();
        }
    }
    e
}

/// `dst ← v` when the flag was given.
fn set<T: Copy>(dst: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *dst = v;
    }
}

/// The `train td` configuration of `flags` at `seed`: [WB]'s setting ([`TdConfig::wb`]) with
/// every given flag's value; the init gain defaults to `0.1 / L` for the chosen `L`. Not yet
/// validated ([`TdConfig::validate`] names the flags).
///
/// [`TdConfig::wb`]: crate::dynamics::train_td::TdConfig::wb
/// [`TdConfig::validate`]: crate::dynamics::train_td::TdConfig::validate
pub fn td_config(f: &TrainFlags, seed: u64) -> crate::dynamics::train_td::TdConfig {
    let mut c = crate::dynamics::train_td::TdConfig::wb(seed);
    set(&mut c.d, f.d);
    set(&mut c.n_states, f.states);
    set(&mut c.n, f.n);
    set(&mut c.layers, f.layers);
    set(&mut c.gamma, f.gamma);
    set(&mut c.mrps, f.mrps);
    set(&mut c.prompts, f.batch_size);
    set(&mut c.minibatches, f.batches_per_mrp);
    set(&mut c.lr, f.lr);
    set(&mut c.weight_decay, f.weight_decay);
    set(&mut c.activation, f.activation);
    set(&mut c.env, f.env);
    c.representable = f.representable;
    c.shared = f.shared;
    c.init_gain = f.init_gain.unwrap_or(crate::dynamics::train_td::WB_GAIN / c.layers.max(1) as f64);
    c
}

/// The `train sarsa` configuration of `flags` at `seed`: the `--preset` (default `small`) with
/// every given stream size overriding the preset's, validated; errors name the flag
/// (`--states`, not `preset.n_states`).
pub fn sarsa_config(f: &TrainFlags, seed: u64) -> Result<crate::dynamics::train_sarsa::TrainConfig, InputError> {
    let mut c = crate::dynamics::train_sarsa::TrainConfig::preset(f.preset.as_deref().unwrap_or("small"), seed)?;
    let t = &mut c.preset.tab;
    set(&mut t.n_states, f.states);
    set(&mut t.n_actions, f.actions);
    set(&mut t.d, f.d);
    set(&mut t.n, f.n);
    set(&mut t.epsilon, f.epsilon);
    set(&mut t.gamma, f.gamma);
    set(&mut t.alpha, f.alpha);
    set(&mut c.preset.mdps, f.mdps);
    set(&mut c.preset.frames, f.frames);
    c.validate().map_err(|e| blame_cost(e, f)).map_err(|mut e| {
        const FLAGS: [(&str, &str); 9] = [
            ("preset.n_states", "--states"),
            ("preset.n_actions", "--actions"),
            ("preset.d", "-d"),
            ("preset.n", "-n"),
            ("preset.gamma", "--gamma"),
            ("preset.alpha", "--alpha"),
            ("preset.epsilon", "--epsilon"),
            ("preset.mdps", "--mdps"),
            ("preset.frames", "--frames"),
        ];
        if let Some((_, flag)) = FLAGS.iter().find(|x| x.0 == e.field) {
            e.field = flag.to_string();
        }
        e
    })?;
    Ok(c)
}

/// The `train softmax-td` configuration of `flags` at `seed`: the default setting
/// ([`SoftmaxTdConfig::default_setting`]) with every given flag's value, validated; errors name
/// the flag (`--batch-size`, not `batch`).
///
/// [`SoftmaxTdConfig::default_setting`]: crate::dynamics::train_softmax::SoftmaxTdConfig::default_setting
pub fn softmax_config(
    f: &TrainFlags,
    seed: u64,
) -> Result<crate::dynamics::train_softmax::SoftmaxTdConfig, InputError> {
    let mut c = crate::dynamics::train_softmax::SoftmaxTdConfig::default_setting(seed);
    set(&mut c.d, f.d);
    set(&mut c.n_states, f.states);
    set(&mut c.n, f.n);
    set(&mut c.layers, f.layers);
    set(&mut c.gamma, f.gamma);
    set(&mut c.mrps, f.mrps);
    set(&mut c.batch, f.batch_size);
    set(&mut c.lr, f.lr);
    set(&mut c.init_gain, f.init_gain);
    set(&mut c.batches_per_mrp, f.batches_per_mrp);
    set(&mut c.weight_decay, f.weight_decay);
    c.representable = f.representable;
    if f.env.is_some() {
        c.env = f.env;
    }
    c.dense = f.dense;
    c.validate()
        .map_err(|mut e| {
            const FLAGS: [(&str, &str); 10] = [
                ("batches_per_mrp", "--batches-per-mrp"),
                ("weight_decay", "--weight-decay"),
                ("d", "-d"),
                ("n_states", "--states"),
                ("n", "-n"),
                ("layers", "-l"),
                ("gamma", "--gamma"),
                ("mrps", "--mrps"),
                ("batch", "--batch-size"),
                ("lr", "--lr"),
            ];
            if let Some((_, flag)) = FLAGS.iter().find(|x| x.0 == e.field) {
                e.field = flag.to_string();
            }
            e
        })
        .map_err(|e| blame_cost(e, f))?;
    Ok(c)
}

/// `icrl train KIND` with the experiment flags `flags` at `seed`: check the flags apply, build
/// and validate the configuration (errors name the flag), train, and return the report
/// ([`Output`] named `train-KIND`). It measures (exit 0).
pub fn cli_train_flags(which: &str, f: &TrainFlags, seed: u64, progress: bool) -> Result<Output, InputError> {
    f.check(which)?;
    match which {
        "sarsa" => {
            let mut cfg = sarsa_config(f, seed)?;
            cfg.progress = progress;
            let preset = f.preset.as_deref().unwrap_or("small");
            let mut o = sarsa_output(&cfg, preset)?;
            let over: Vec<String> =
                f.given().into_iter().filter(|g| *g != TrainFlag::Preset).map(|g| g.name().to_string()).collect();
            if !over.is_empty() {
                // after the heading: say which sizes are not the preset's
                let line = format!(
                    "Preset `{preset}` overridden by {} (the values are in the JSON's `sizes`, `mdps`, `frames`).\n\n",
                    over.join(", ")
                );
                let at = o.markdown.find("\n\n").map_or(0, |k| k + 2);
                o.markdown.insert_str(at, &line);
            }
            Ok(o)
        }
        "td" => {
            let mut cfg = td_config(f, seed);
            cfg.progress = progress;
            cfg.validate().map_err(|e| blame_cost(e, f))?;
            train_td_output(&cfg)
        }
        "softmax-td" => {
            let mut cfg = softmax_config(f, seed)?;
            cfg.progress = progress;
            train_softmax_output(&cfg)
        }
        other => Err(InputError::new("WHICH", format!("unknown training {other:?}"))),
    }
}

/// Most seeds one `--seeds A..B` sweep runs.
pub const MAX_SEEDS: u64 = 1000;

/// Parse `--seeds A..B`: the half-open range `A, A+1, …, B−1` (Rust's `a..b`), `A < B`, both
/// decimal integers (no sign, no spaces), at most [`MAX_SEEDS`] seeds.
pub fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>, String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("{text:?} is not a range A..B (half-open: A..B runs seeds A to B−1)"))?;
    let num = |x: &str| -> Result<u64, String> {
        if x.is_empty() || !x.bytes().all(|c| c.is_ascii_digit()) {
            return Err(format!("{x:?} in {text:?} is not a nonnegative integer"));
        }
        x.parse::<u64>().map_err(|e| format!("{x:?} in {text:?}: {e}"))
    };
    let (a, b) = (num(a)?, num(b)?);
    if a >= b {
        return Err(format!("{text:?} is empty (half-open A..B needs A < B; {a}..{} runs seed {a} alone)", a + 1));
    }
    if b - a > MAX_SEEDS {
        return Err(format!("{} seeds; at most {MAX_SEEDS}", b - a));
    }
    Ok(a..b)
}

/// Mean ± sd of one metric over the seeds of a sweep.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MetricSummary {
    /// Path in the report's numbers (`structure_cosine`, `layers[0].p_row_dominance`).
    pub metric: String,
    /// Mean over seeds (summed in seed order).
    pub mean: f64,
    /// Sample standard deviation (`n − 1`; `null` for one seed).
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

/// A seed sweep (`icrl train KIND --seeds A..B`): one report per seed, in seed order, and the
/// summary of every numeric metric.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The kind (`td`, `sarsa`).
    pub which: String,
    /// The seeds.
    pub seeds: std::ops::Range<u64>,
    /// One report per seed, in seed order.
    pub outputs: Vec<Output>,
    /// One row per metric ([`sweep_metrics`]).
    pub summary: Vec<MetricSummary>,
}

/// Top-level keys of a `train` report's numbers that echo the configuration (not metrics).
const CONFIG_KEYS: [&str; 10] =
    ["seed", "preset", "sizes", "mrps", "minibatches", "prompts", "mdps", "frames", "minibatch", "adam_steps"];

/// The metrics of one `train` report: every numeric scalar of its numbers, by path, recursing into
/// objects and arrays of objects (`layers[0].p_row_dominance`), except the configuration echo
/// ([`CONFIG_KEYS`]) and arrays of numbers (parameter matrices, curves: they stay per seed).
pub fn sweep_metrics(numbers: &serde_json::Value) -> Vec<(String, f64)> {
    fn walk(path: &str, v: &serde_json::Value, out: &mut Vec<(String, f64)>) {
        match v {
            serde_json::Value::Number(x) => out.push((path.to_string(), x.as_f64().unwrap_or(f64::NAN))),
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    if path.is_empty() && CONFIG_KEYS.contains(&k.as_str()) {
                        continue;
                    }
                    walk(&if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, x, out);
                }
            }
            serde_json::Value::Array(a) if a.iter().all(|x| x.is_object()) => {
                for (i, x) in a.iter().enumerate() {
                    walk(&format!("{path}[{i}]"), x, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", numbers, &mut out);
    out
}

/// Run `train KIND` at every seed of `seeds` in parallel (rayon over seeds; each run is itself
/// deterministic), keep the reports in seed order and summarize every metric. The flags and the
/// configuration are checked, and the total cost (seeds × one run's) bounded, before anything
/// runs.
pub fn sweep(which: &str, f: &TrainFlags, seeds: std::ops::Range<u64>) -> Result<Sweep, InputError> {
    use crate::dynamics::train_td::{MAX_TRAIN_MEMORY, MAX_TRAIN_WORK};
    f.check(which)?;
    let (work, bytes) = match which {
        "td" => {
            let c = td_config(f, seeds.start);
            c.validate().map_err(|e| blame_cost(e, f))?;
            c.cost()
        }
        "sarsa" => sarsa_config(f, seeds.start)?.cost(),
        "softmax-td" => softmax_config(f, seeds.start)?.cost(),
        other => return Err(InputError::new("WHICH", format!("unknown training {other:?}"))),
    };
    let k = (seeds.end - seeds.start) as f64;
    if !(k * work <= MAX_TRAIN_WORK && k * bytes <= MAX_TRAIN_MEMORY) {
        return Err(InputError::new(
            "--seeds",
            format!(
                "{k} seeds × one run's estimate ({work:.2e} multiply-adds, {bytes:.2e} bytes) exceeds the limits \
                 ({MAX_TRAIN_WORK:.0e}, {MAX_TRAIN_MEMORY:.0e}); run fewer seeds or a smaller setting"
            ),
        ));
    }
    let list: Vec<u64> = seeds.clone().collect();
    let outputs = list.par_iter().map(|&s| cli_train_flags(which, f, s, false)).collect::<Result<Vec<_>, _>>()?;
    let per: Vec<Vec<(String, f64)>> = outputs.iter().map(|o| sweep_metrics(&o.numbers)).collect();
    let summary = per[0]
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let xs: Vec<f64> =
                per.iter().map(|p| p.get(i).filter(|x| &x.0 == name).map_or(f64::NAN, |x| x.1)).collect();
            let n = xs.len() as f64;
            let mean = xs.iter().sum::<f64>() / n;
            let sd = if xs.len() > 1 {
                (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
            } else {
                f64::NAN
            };
            MetricSummary {
                metric: name.clone(),
                mean,
                sd,
                min: xs.iter().copied().fold(f64::INFINITY, f64::min),
                max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            }
        })
        .collect();
    Ok(Sweep { which: which.to_string(), seeds, outputs, summary })
}

/// A number for a Markdown table: 4 decimals in `[1e-3, 1e4)`, else 3 significant in `e` form.
fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        "—".into()
    } else if x == 0.0 || (1e-3..1e4).contains(&x.abs()) {
        format!("{x:.4}")
    } else {
        format!("{x:.3e}")
    }
}

impl Sweep {
    /// File stem of the summary: `train-KIND-seeds`.
    pub fn name(&self) -> String {
        format!("train-{}-seeds", self.which)
    }
    /// The summary page: the setting, the seeds, and mean ± sd (min, max) of every metric.
    pub fn markdown(&self) -> String {
        let (a, b) = (self.seeds.start, self.seeds.end);
        // the setting: the first paragraph after the heading of seed A's page (the sizes line)
        let first = &self.outputs[0].markdown;
        let setting = first.split("\n\n").nth(1).unwrap_or("").trim();
        let mut o = format!(
            "# train {} --seeds {a}..{b}\n\n{} seeds ({a} to {}), run in parallel; each seed's report is in \
             `seed-K/train-{}.md` and `.json`. Setting (seed {a}'s page): {setting}\n\n",
            self.which,
            b - a,
            b - 1,
            self.which,
        );
        o.push_str("Mean ± sample sd (n − 1) over the seeds of every metric of the report:\n\n");
        o.push_str("| metric | mean | sd | min | max |\n|:---|---:|---:|---:|---:|\n");
        for m in &self.summary {
            o.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                m.metric,
                fmt_num(m.mean),
                fmt_num(m.sd),
                fmt_num(m.min),
                fmt_num(m.max)
            ));
        }
        o
    }
    /// The summary as JSON: `{"summary": {"train", "seeds": [..], "metrics": [..]}}` (the last
    /// line of `--json`).
    pub fn summary_json(&self) -> serde_json::Value {
        serde_json::json!({"summary": {"train": self.which, "seeds": self.seeds.clone().collect::<Vec<_>>(), "metrics": self.summary}})
    }
    /// `--json`: one compact line per seed (the report's JSON, as `train KIND --seed K --json`
    /// prints it) in seed order, then the summary line.
    pub fn json_lines(&self) -> String {
        let mut s = String::new();
        for o in &self.outputs {
            s.push_str(&serde_json::to_string(&o.to_json()).expect("serializable"));
            s.push('\n');
        }
        s.push_str(&serde_json::to_string(&self.summary_json()).expect("serializable"));
        s.push('\n');
        s
    }
    /// Write `DIR/seed-K/` (each seed's full report set) and `DIR/train-KIND-seeds.md` + `.json`
    /// (the summary, and every seed's numbers under `per_seed`).
    pub fn write(&self, dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>, InputError> {
        super::ensure_dir(dir)?;
        let mut paths = Vec::new();
        for (s, o) in self.seeds.clone().zip(&self.outputs) {
            paths.extend(o.write(&dir.join(format!("seed-{s}")))?);
        }
        let mut j = self.summary_json();
        j["per_seed"] = serde_json::json!(self.outputs.iter().map(|o| &o.numbers).collect::<Vec<_>>());
        paths.push(super::write_text(dir, &format!("{}.md", self.name()), &self.markdown())?);
        paths.push(super::write_text(
            dir,
            &format!("{}.json", self.name()),
            &serde_json::to_string_pretty(&j).expect("serializable"),
        )?);
        Ok(paths)
    }
    /// The worst exit code of the seeds' reports.
    pub fn exit_code(&self) -> i32 {
        self.outputs.iter().map(Output::exit_code).max().unwrap_or(crate::error::EXIT_OK)
    }
}

/// Options of `icrl train td` beyond the seed.
#[derive(Clone, Copy, Debug, Default)]
pub struct TdOptions {
    /// `--shared`: one `(P, Q)` looped over the layers.
    pub shared: bool,
    /// `--init-gain G`: override the Xavier-normal gain (default `0.1 / L`).
    pub init_gain: Option<f64>,
}

/// `icrl train WHICH [--preset P] [--seed S]` with the `train td` options `td` and every other
/// flag at its default: [`cli_train_flags`] (kept for callers that predate the experiment flags).
pub fn cli_train(which: &str, preset: &str, seed: u64, progress: bool, td: TdOptions) -> Result<Output, InputError> {
    let f = TrainFlags {
        preset: (which != "td" || preset != "small").then(|| preset.to_string()),
        shared: td.shared,
        init_gain: td.init_gain,
        ..TrainFlags::default()
    };
    cli_train_flags(which, &f, seed, progress)
}

/// `train sarsa` on a validated configuration: train and return the report named `train-sarsa`.
fn sarsa_output(cfg: &crate::dynamics::train_sarsa::TrainConfig, preset: &str) -> Result<Output, InputError> {
    use super::plot::{Axis, Figure, Lines, Mark, Panel, Series, Width, GREY, REFERENCE};
    let r = crate::dynamics::train_sarsa::train(cfg, preset)?;
    let xs: Vec<f64> = r.curve_steps.iter().map(|&k| k as f64).collect();
    let fig = Figure::new(
        "train-sarsa-control",
        Width::One,
        vec![Panel::Lines(Lines {
            title: format!("train sarsa --preset {preset}: held-out greedy return"),
            xlabel: "in-context step".into(),
            ylabel: "mean discounted return".into(),
            x: Axis::Linear,
            y: Axis::Linear,
            series: vec![
                Series::line("trained model", xs.iter().copied().zip(r.curve_model.iter().copied()).collect()),
                Series::line("teacher", xs.iter().copied().zip(r.curve_teacher.iter().copied()).collect()),
                Series::line("optimal", xs.iter().map(|x| (*x, r.heldout_return_optimal)).collect())
                    .mark(Mark::Dashed)
                    .color(REFERENCE),
                Series::line("uniform", xs.iter().map(|x| (*x, r.heldout_return_uniform)).collect())
                    .mark(Mark::Dashed)
                    .color(GREY),
            ],
        })],
    );
    Ok(Output {
        name: "train-sarsa".into(),
        summary: format!(
            "[LL] train sarsa --preset {preset}: structure cosine {:.3}, held-out return model {:.3} vs teacher {:.3}",
            r.structure.structure_cosine, r.heldout_return_model, r.heldout_return_teacher
        ),
        markdown: render_sarsa(&r),
        numbers: serde_json::to_value(&r).expect("serializable"),
        figures: vec![fig],
        holds: None,
    })
}

/// `icrl train td` on any [`crate::dynamics::train_td::TdConfig`] (the CLI passes [WB]'s setting,
/// `TdConfig::wb`): train and return the report named `train-td` (Markdown, numbers, the
/// trained `P` of every layer as heat maps). The snapshot test runs it on a small setting.
pub fn train_td_output(cfg: &crate::dynamics::train_td::TdConfig) -> Result<Output, crate::error::InputError> {
    use super::plot::{Figure, Heat, Panel, Width};
    let r = crate::dynamics::train_td::train(cfg)?;
    let panels =
        r.p.iter()
            .enumerate()
            .map(|(l, p)| {
                Panel::Heat(Heat {
                    title: format!("trained P of layer {l}"),
                    xlabel: "column j".into(),
                    ylabel: "row i".into(),
                    matrix: p.clone(),
                })
            })
            .collect();
    let fig = Figure::new("train-td-p", Width::Two, panels);
    Ok(Output {
        name: "train-td".into(),
        summary: format!(
            "[WB] train td: structure cosine {:.3}, held-out MSVE trained {:.4} vs construction {:.4}",
            r.structure_cosine, r.heldout_msve_model, r.heldout_msve_construction
        ),
        markdown: render_td(&r),
        numbers: serde_json::to_value(&r).expect("serializable"),
        figures: vec![fig],
        holds: None,
    })
}

/// The structure metrics of a trained [LL] block as `(name, value)` rows (the `train sarsa` page
/// and the `emergence` report print the same table).
pub(crate) fn structure_rows(s: &crate::probe::sarsa::Structure) -> [(&'static str, f64); 9] {
    [
        ("structure cosine", s.structure_cosine),
        ("cos(V̄21, A⋆)", s.cos_v21),
        ("cos(P12, B⋆)", s.cos_p12),
        ("cos(V̄21[:, :d], I)", s.identity_cosine),
        ("diag/off-diag", s.diag_offdiag_ratio),
        ("c ≈", s.c_hat),
        ("α ≈", s.alpha_hat),
        ("‖P22‖", s.p22_norm),
        ("‖V̄22‖", s.v22_norm),
    ]
}

fn render_sarsa(r: &crate::dynamics::train_sarsa::TrainReport) -> String {
    let s = &r.structure;
    let mut o = format!("# train sarsa --preset {} --seed {}\n\n", r.preset, r.seed);
    o.push_str(&format!(
        "{} MDPs × {} frames, minibatch {} MDPs, {} Adam steps, {:.1} s ({:.2} µs/frame).\n\n",
        r.mdps, r.frames, r.minibatch, r.adam_steps, r.wall_seconds, r.us_per_frame
    ));
    o.push_str(&format!("Loss (mean of first / last 1 % of steps): {:.3e} → {:.3e}.\n\n", r.loss_first, r.loss_last));
    o.push_str("| structure | value |\n|:---|---:|\n");
    for (k, v) in structure_rows(s) {
        o.push_str(&format!("| {k} | {v:.4} |\n"));
    }
    o.push_str("\nHeld-out greedy return per in-context step (mean over MDPs):\n\n| step | model | teacher |\n|---:|---:|---:|\n");
    for i in 0..r.curve_steps.len() {
        o.push_str(&format!("| {} | {:.4} | {:.4} |\n", r.curve_steps[i], r.curve_model[i], r.curve_teacher[i]));
    }
    o.push_str(&format!(
        "\nFinal: model {:.4}, teacher {:.4}, optimal {:.4}, uniform {:.4}; (teacher − model)/(teacher − uniform) = {:.3}.\n",
        r.heldout_return_model,
        r.heldout_return_teacher,
        r.heldout_return_optimal,
        r.heldout_return_uniform,
        (r.heldout_return_teacher - r.heldout_return_model) / (r.heldout_return_teacher - r.heldout_return_uniform)
    ));
    o
}

fn render_td(r: &crate::dynamics::train_td::TdReport) -> String {
    // The sizes as a reader writes them (the JSON keeps `sizes` as an object).
    let z = &r.sizes;
    let sizes = format!(
        "|S| = {}, d = {}, n = {}, L = {}, γ = {}, Adam lr = {}, init gain = {:.4}, {} layers",
        z["n_states"],
        z["d"],
        z["n"],
        z["layers"],
        z["gamma"],
        z["lr"],
        z["init_gain"].as_f64().unwrap_or(f64::NAN),
        if z["shared_layers"].as_bool() == Some(true) { "shared" } else { "independent" }
    );
    // the options of issue 10, only when not the default (`TdConfig::echo`)
    let mut sizes = sizes;
    for (key, what) in [("activation", "activation"), ("env", "env"), ("weight_decay", "Adam L2 weight decay")] {
        if let Some(v) = z.get(key) {
            sizes.push_str(&format!(", {what} {}", v.as_str().map_or_else(|| v.to_string(), str::to_string)));
        }
    }
    if z.get("representable").is_some() {
        sizes.push_str(", representable rewards r = (I − γP)Φw");
    }
    let mut o = format!(
        "# train td --seed {}\n\n{} MRPs × {} minibatches × {} prompts ({sizes}), {:.1} s.\n\n",
        r.seed, r.mrps, r.minibatches, r.prompts, r.wall_seconds
    );
    o.push_str(&format!("Loss (mean of first / last 1 % of steps): {:.3e} → {:.3e}.\n\n", r.loss_first, r.loss_last));
    o.push_str(&format!(
        "Structure cosine (min over layers of P readout-row dominance and cos(C_eff, I)): {:.4}.\n\n",
        r.structure_cosine
    ));
    o.push_str("| layer | \\|P[2d,2d]\\| / ‖P[2d,:]‖ | cos(C_eff, I) | whole P | Q in [−X, X] form | diag C_eff |\n|---:|---:|---:|---:|---:|:---|\n");
    for (l, s) in r.layers.iter().enumerate() {
        o.push_str(&format!(
            "| {l} | {:.4} | {:.4} | {:.3} | {:.3} | {:?} |\n",
            s.p_row_dominance,
            s.c_identity_cosine,
            s.p_dominance,
            s.q_cosine,
            (0..s.c_eff.len()).map(|i| (s.c_eff[i][i] * 1000.0).round() / 1000.0).collect::<Vec<_>>()
        ));
    }
    o.push_str(&format!(
        "\nHeld-out MSVE of v̂(query): trained {:.4}, construction (C = I) {:.4}, zero predictor {:.4}.\n",
        r.heldout_msve_model, r.heldout_msve_construction, r.heldout_msve_zero
    ));
    o
}

/// `icrl train softmax-td` on any [`crate::dynamics::train_softmax::SoftmaxTdConfig`] (the CLI
/// passes `SoftmaxTdConfig::default_setting` with `--seed`, `--dense`, `--init-gain`): train and
/// return the report named `train-softmax-td` (Markdown, numbers, heat maps of the learned
/// against the constructed blocks of one layer, MSVE against depth). The snapshot test runs it
/// on a small setting.
pub fn train_softmax_output(
    cfg: &crate::dynamics::train_softmax::SoftmaxTdConfig,
) -> Result<Output, crate::error::InputError> {
    use super::plot::{Axis, Figure, Heat, Lines, Mark, Panel, Series, Width, GREY, REFERENCE};
    use crate::dynamics::train_softmax::{construction_theta, train};
    let r = train(cfg)?;
    let (w, b) = (cfg.d + 3, (cfg.d + 3) * (cfg.d + 3));
    // The heat maps show the layer whose every block reaches the readout when there is one
    // (layer 1 of L ≥ 3: layer 0 reads zero memory rows, layer L−1's V² is inert).
    let fl = if cfg.layers >= 3 { 1 } else { 0 };
    let con = construction_theta(cfg.d, cfg.gamma, cfg.layers, 1.0);
    let rows = |x: &[f64]| -> Vec<Vec<f64>> { x.chunks(w).map(|c| c.to_vec()).collect() };
    let s = &r.layers[fl];
    let gauged = crate::dynamics::train_softmax::gauge(&r.theta, cfg.d, r.gauge_c);
    let mut figures = Vec::new();
    for (h, (name, scale)) in [("A", s.a_hat), ("V1", s.alpha1_hat), ("V2", s.alpha2_hat)].into_iter().enumerate() {
        let range = (3 * fl + h) * b..(3 * fl + h + 1) * b;
        let k = scale.unwrap_or(1.0);
        let scaled: Vec<f64> = con[range.clone()].iter().map(|x| k * x).collect();
        let label =
            if scale.is_some() { format!("construction × fitted scale {k:.3}") } else { "construction".into() };
        figures.push(Figure::new(
            format!("train-softmax-td-{}", name.to_lowercase()),
            Width::Two,
            vec![
                Panel::Heat(Heat {
                    title: format!("trained {name} of layer {fl} (gauge c = {})", r.gauge_c),
                    xlabel: "column j".into(),
                    ylabel: "row i".into(),
                    matrix: rows(&gauged[range]),
                }),
                Panel::Heat(Heat {
                    title: format!("{label}, layer {fl}"),
                    xlabel: "column j".into(),
                    ylabel: "row i".into(),
                    matrix: rows(&scaled),
                }),
            ],
        ));
    }
    let pts = |v: &[f64]| v.iter().enumerate().map(|(k, &y)| ((k + 1) as f64, y)).collect::<Vec<_>>();
    let lmax = r.msve_by_depth_construction.len() as f64;
    figures.push(Figure::new(
        "train-softmax-td-depth",
        Width::One,
        vec![Panel::Lines(Lines {
            title: "held-out MSVE of v̂(query) against depth".into(),
            xlabel: "layers k".into(),
            ylabel: "MSVE".into(),
            x: Axis::Linear,
            y: Axis::Linear,
            series: vec![
                Series::line("trained (first k layers)", pts(&r.msve_by_depth_model))
                    .mark(Mark::LineDots(vec![true; r.msve_by_depth_model.len()])),
                Series::line("construction α = 1", pts(&r.msve_by_depth_construction))
                    .mark(Mark::LineDots(vec![true; r.msve_by_depth_construction.len()]))
                    .color(REFERENCE),
                Series::line("zero predictor", vec![(1.0, r.heldout_msve_zero), (lmax, r.heldout_msve_zero)])
                    .mark(Mark::Dashed)
                    .color(GREY),
            ],
        })],
    ));
    let mode = if cfg.dense { "dense" } else { "masked" };
    Ok(Output {
        name: "train-softmax-td".into(),
        summary: format!(
            "[XZ] train softmax-td ({mode}): structure cosine {:.3}, held-out MSVE trained {:.4} vs construction {:.4} vs zero {:.4}",
            r.structure_cosine, r.heldout_msve_model, r.heldout_msve_construction, r.heldout_msve_zero
        ),
        markdown: render_softmax(&r, cfg),
        numbers: serde_json::to_value(&r).expect("serializable"),
        figures,
        holds: None,
    })
}

fn render_softmax(
    r: &crate::dynamics::train_softmax::SoftmaxTdReport,
    cfg: &crate::dynamics::train_softmax::SoftmaxTdConfig,
) -> String {
    let f = |x: Option<f64>| x.map_or("—".to_string(), |v| format!("{v:.4}"));
    let mode = if cfg.dense { " --dense" } else { "" };
    let mut o = format!("# train softmax-td --seed {}{mode}\n\n", r.seed);
    o.push_str(&format!(
        "{} MRPs × {} prompts, one Adam step per MRP (|S| = {}, d = {}, n = {}, L = {}, γ = {}, Adam lr = {}, init gain = {}); {}: {} free of {} parameters, {} effective; {:.1} s.\n\n",
        cfg.mrps,
        cfg.batch,
        cfg.n_states,
        cfg.d,
        cfg.n,
        cfg.layers,
        cfg.gamma,
        cfg.lr,
        cfg.init_gain,
        if cfg.dense { "dense" } else { "construction's sparsity mask" },
        r.free_params,
        cfg.n_params(),
        r.effective_params,
        r.wall_seconds
    ));
    o.push_str(&format!(
        "Loss ½δ² (mean of first / last 1 % of steps): {:.3e} → {:.3e}.\n\n",
        r.loss_first, r.loss_last
    ));
    o.push_str(&format!(
        "Structure cosine (min over layers and blocks of the cosines below, effective entries only, in the better sign gauge c = {} of the target-memory row): {:.4} (at c = 1: {:.4}).\n\n",
        r.gauge_c, r.structure_cosine, r.structure_cosine_c1
    ));
    o.push_str("| layer | cos(A, diag(I_d, 0)) | a | cos(V¹, e_{d+2}uᵀ) | α¹ | cos(V², γ e_{d+1}uᵀ) | α² |\n|---:|---:|---:|---:|---:|---:|---:|\n");
    for (l, s) in r.layers.iter().enumerate() {
        o.push_str(&format!(
            "| {l} | {} | {} | {} | {} | {} | {} |\n",
            f(s.cos_a),
            f(s.a_hat),
            f(s.cos_v1),
            f(s.alpha1_hat),
            f(s.cos_v2),
            f(s.alpha2_hat)
        ));
    }
    o.push_str(&format!(
        "\nHeld-out MSVE of v̂(query) against v_π(query) ({} fresh MRPs): trained {:.4}, construction (α_l = 1, L layers) {:.4}, zero predictor {:.4}.\n\n",
        crate::dynamics::train_softmax::HELDOUT,
        r.heldout_msve_model,
        r.heldout_msve_construction,
        r.heldout_msve_zero
    ));
    o.push_str("| depth k | trained (first k layers) | construction |\n|---:|---:|---:|\n");
    for (k, c) in r.msve_by_depth_construction.iter().enumerate() {
        let m = r.msve_by_depth_model.get(k).map_or("—".to_string(), |v| format!("{v:.4}"));
        o.push_str(&format!("| {} | {m} | {c:.4} |\n", k + 1));
    }
    o
}
