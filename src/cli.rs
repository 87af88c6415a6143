//! The command line: `icrl list | verify | check | search | bench | train | report`. Every subcommand returns an
//! exit code: 0 every claim holds, 1 a claim failed (with the seed and instance to replay it),
//! 2 usage or input error (one `error:` line naming the field).

use crate::error::InputError;
use crate::theorem::{self, ArithFilter, TheoremSpec};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

pub use crate::error::{EXIT_FAIL, EXIT_OK, EXIT_USAGE};

#[derive(Parser, Debug)]
#[command(
    name = "icrl",
    version,
    about = "Executable checks of in-context RL theory: transformer forward passes that are RL updates",
    after_help = "Reports: icrl report actor-critic | decay | flow | emergence | neu | all  (each writes NAME.md, \
NAME.json, and FIG.svg + FIG.csv per figure under --out DIR, default report-out).

Examples:
  icrl list
  icrl verify --theorem sarsa-equivalence --cases 200 --format markdown
  icrl check fixtures/instances/sarsa-example.json
  icrl search --theorem linear-td --relax query-mask
  icrl report all --out report-out
  icrl train sarsa --preset small

Exit status: 0 every claim holds (or the command only measures), 1 a claim failed, 2 usage or input error \
(one `error:` line naming the argument or field; nothing written). `icrl help COMMAND` explains a command."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// The theorem catalogue: id, statement, provenance, assumptions.
    #[command(after_help = "Examples:
  icrl list
  icrl list --format markdown > catalogue.md
  icrl list --format json | head -1

Exit status: 0; 2 on a usage error.")]
    List {
        /// Output format: `table` (the text catalogue), `markdown` (a GFM table), `latex` (a
        /// `tabular`), `json` (JSON Lines: one object per theorem per line).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Same as `--format json` (JSON Lines: one object per theorem per line).
        #[arg(long, conflicts_with = "format")]
        json: bool,
    },
    /// Check theorems on random instances (parallel, deterministic for a seed).
    #[command(after_help = "Examples:
  icrl verify
  icrl verify --theorem sarsa-equivalence --cases 20000 --seed 7 --f64
  icrl verify --theorem linear-td --cases 50 --format latex > table.tex
  icrl verify --theorem sarsa-equivalence --seed 9 --case 0     (replay one case)

Columns: `kind` says what a row's claim is (equality, bound or rate); `error` and `tolerance` are those of \
the measurement closest to (or furthest past) its tolerance. For an equality, error = |transformer − reference| (absolute, or relative where the quantity says so) and \
tolerance = its rounding-error bound (0 in exact arithmetic); for a bound (quantities marked `excess`), \
error = how far the measured side exceeds the bound (0 when it holds); for a rate (a fitted slope or \
factor, `distance outside` / `excess`), error = how far the fitted value lies outside its accepted range.

Exit status: 0 every claim holds, 1 a claim failed (the output names the seed, case and replay command), \
2 usage or input error.")]
    Verify(VerifyArgs),
    /// Combine the outputs of `icrl verify --shard K/N --json` (or `icrl search --shard K/N`) into the unsharded run's.
    #[command(after_help = "Examples:
  for k in 0 1 2; do icrl verify --cases 50 --shard $k/3 --json > shard-$k.json; done
  icrl merge shard-*.json                    (the table `icrl verify --cases 50` prints)
  icrl merge shard-*.json --json             (its --json, except wall_seconds: the sum of the shards')
  for k in 0 1 2; do icrl search --theorem linear-td --relax query-mask --budget 6000 --shard $k/3 > s-$k.json; done
  icrl merge s-*.json --out cx.json          (what `icrl search … --budget 6000 --out cx.json` prints and writes)

The files may come in any order; they must be the shards 0/N … N-1/N of one run (same seed, theorems, \
cases, arithmetic), each once, unedited.

Exit status: 0 every claim holds (search: a counterexample was found and saved), 1 a claim failed (the \
failure the unsharded run reports; search: none was found), 2 a file is unreadable, malformed, from \
another run, duplicated or missing (one `error:` line naming it).")]
    Merge(MergeArgs),
    /// Check the theorems of one instance file, or of many (JSON Lines); `-` reads stdin.
    #[command(after_help = "Examples:
  icrl check fixtures/instances/sarsa-example.json
  icrl check fixtures/instances/sarsa-example.json --json
  icrl check fixtures/counterexamples/linear-td--query-mask.json   (also replays the recorded violation)
  python3 export.py | icrl check - --json                          (JSON Lines: one result line per instance)

Exit status: 0 every claim holds, 1 a claim failed (naming the first differing output entry), 2 the input \
is unreadable, invalid or over the resource limits (one `error:` line naming the field and index).")]
    Check(CheckArgs),
    /// Drop one assumption, find and shrink a counterexample, save it as a fixture.
    #[command(after_help = "Examples:
  icrl search --theorem linear-td --relax query-mask
  icrl search --theorem sarsa-equivalence --relax p22-zero --relax v22-bar-zero --budget 500
  icrl search --theorem linear-td --relax query-mask --budget 6000 --shard 1/3 > s-1.json   (then `icrl merge`)

Assumption names: `icrl list` (those marked [searchable]).

Exit status: 0 a counterexample was found and saved, 1 none was found within the budget, 2 usage or input \
error.")]
    Search(SearchCmd),
    /// Throughput benchmarks (instances per second, end to end).
    #[command(after_help = "Examples:
  icrl bench
  icrl bench --which softmax-td --seconds 1

Exit status: 0; 2 on a usage error.")]
    Bench(BenchArgs),
    /// Emergence: train a linear-attention (or [XZ] softmax) model on an RL target and report what it learned.
    #[command(after_help = "Examples:
  icrl train sarsa --preset small
  icrl train sarsa --preset paper --out runs --json
  icrl train td --shared --init-gain 0.1
  icrl train td -d 3 -n 20 -l 2 --mrps 300 --json
  icrl train td --activation relu --env loop --representable --weight-decay 1e-6 --mrps 500
  icrl train td --mrps 200 --seeds 0..4
  icrl train sarsa --states 4 --actions 3 -d 8 --frames 100
  icrl train softmax-td --dense --json

Writes train-KIND.md, train-KIND.json and FIG.svg + FIG.csv per figure under --out DIR (default \
report-out); prints the Markdown (or, with --json, the JSON) to stdout and the written paths to stderr. \
With --seeds A..B: DIR/seed-K/ per seed and DIR/train-KIND-seeds.md + .json (the summary). A flag that \
does not apply to the kind, an invalid value or a setting past the cost limit (1e13 multiply-adds, 1e9 \
bytes) is refused before anything runs.

Exit status: 0 (training measures, it asserts nothing); 2 usage or input error.")]
    Train(Box<TrainCmd>),
    /// Reports: Markdown tables, JSON numbers, SVG figures with CSV data (actor-critic, decay,
    /// flow, emergence, neu, all).
    #[command(subcommand)]
    Report(ReportCmd),
    /// What do these weights implement? Distance to the constructions, recovered parameters,
    /// error against the RL update on random prompts (.json, .npz or .safetensors).
    Probe(ProbeCmd),
}

#[derive(Args, Debug)]
struct ProbeCmd {
    /// The weights: .json, .npz (float32/float64) or .safetensors.
    file: PathBuf,
    /// `sarsa` (P, V), `linear-td` (P0, Q0, …) or `softmax-td` (A0, V1_0, V2_0, …).
    #[arg(long)]
    family: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Write DIR/probe.svg (learned vs nearest construction).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Seed of the random prompts.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// An output format for `list` and `verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Plain text (the default).
    Table,
    /// A GitHub-flavoured Markdown table.
    Markdown,
    /// A LaTeX `tabular` (plain LaTeX, no package needed).
    Latex,
    /// JSON Lines: one object per line.
    Json,
}

/// `--out`, `--seed`, `--json` of every report.
#[derive(Args, Debug)]
struct ReportArgs {
    /// Output directory: NAME.md, NAME.json, FIG.svg + FIG.csv per figure.
    #[arg(long, value_name = "DIR", default_value = "report-out")]
    out: PathBuf,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the report's JSON instead of its Markdown.
    #[arg(long)]
    json: bool,
}

const REPORT_HELP: &str = "Examples:
  icrl report all --out report-out
  icrl report decay --seed 1 --json

Writes NAME.md (the page), NAME.json (the numbers and every figure's data) and FIG.svg \
+ FIG.csv per figure under --out DIR (default report-out); prints the Markdown (or, with --json, the JSON) to \
stdout and the written paths to stderr.

Exit status: 0 the report's claim holds or the report only measures, 1 its numbers violate its claim \
(decay: the floor slope outside its accepted range), 2 usage or input error.";

#[derive(Subcommand, Debug)]
#[command(after_help = REPORT_HELP)]
enum ReportCmd {
    /// [LL] Thm 3.3 ([R] actor-critic): in-context policy improvement, return per step vs
    /// optimal and uniform.
    #[command(after_help = concat!("Example:\n  icrl report actor-critic --out report-out\n\n", "Measures; exits 0 unless the input is bad (2)."))]
    ActorCritic(ReportArgs),
    /// [LL] Thm 3.2: gradient flow of the teacher-mimicking loss, its spectrum and rate.
    #[command(after_help = concat!("Example:\n  icrl report flow --seed 0 --json\n\n", "Measures; exits 0 unless the input is bad (2)."))]
    Flow(ReportArgs),
    /// [LL]/[WB] emergence: training from a small init, learned vs constructed blocks, control curves.
    #[command(after_help = concat!("Example:\n  icrl report emergence --out report-out\n\n", "Measures; exits 0 unless the input is bad (2)."))]
    Emergence(ReportArgs),
    /// [XZ] Thm 2: error against depth for several n, and the floor against n with its slope.
    #[command(after_help = concat!("Example:\n  icrl report decay --out report-out\n\n", "Exit status: 0 the fitted floor slope is in its accepted range, 1 it is not, 2 bad input."))]
    Decay(ReportArgs),
    /// [R] probe of [XZ] Thm 3: NEU = ‖E[δ ∇v̂]‖² at the softmax construction and along random
    /// directions around it (a reconstruction, never asserted).
    #[command(after_help = concat!("Example:\n  icrl report neu --out report-out\n\n", "Measures; exits 0 unless the input is bad (2)."))]
    Neu(ReportArgs),
    /// Every report above, and `index.md`: a one-page summary linking them.
    #[command(after_help = concat!("Example:\n  icrl report all --out report-out\n\n", "Exit status: 0 every report that checks a claim holds, 1 one does not, 2 bad input."))]
    All(ReportArgs),
}

// ---- `icrl train` (issue 4, training dynamics): one self-contained block ----

/// What `icrl train` trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TrainKind {
    /// [LL] teacher-mimicking stream of batch SARSA.
    Sarsa,
    /// [WB] L = 3 linear transformer on Boyan chains (TD).
    Td,
    /// [XZ] L-layer two-head softmax transformer on random MRPs (semi-gradient TD).
    SoftmaxTd,
}

#[derive(Args, Debug)]
struct TrainCmd {
    /// What to train.
    #[arg(value_enum)]
    which: TrainKind,
    /// `train sarsa`: size preset (default small); the stream flags below override its values.
    #[arg(long, value_parser = ["small", "paper"])]
    preset: Option<String>,
    /// Seed [default: 0].
    #[arg(long, conflicts_with = "seeds")]
    seed: Option<u64>,
    /// Run the half-open seed range A..B (seeds A, …, B−1; at most 1000) in parallel: each
    /// seed's report set goes to DIR/seed-K/, the summary (mean ± sd of every metric over the
    /// seeds) to DIR/train-KIND-seeds.md and .json; stdout gets the summary's Markdown, or with
    /// --json one JSON line per seed and a summary line.
    #[arg(long, value_name = "A..B", value_parser = parse_seeds, allow_hyphen_values = true)]
    seeds: Option<std::ops::Range<u64>>,
    /// Print the report's JSON instead of its Markdown.
    #[arg(long)]
    json: bool,
    /// Output directory: train-KIND.md, train-KIND.json, FIG.svg + FIG.csv per figure.
    #[arg(long, value_name = "DIR", default_value = "report-out")]
    out: PathBuf,
    /// `train td` only: one (P, Q) shared by all layers ([WB]'s code default `mode='auto'`)
    /// instead of independent layers (`mode='sequential'`).
    #[arg(long)]
    shared: bool,
    /// `train td`, `train softmax-td`: Xavier-normal gain of the init (td: default 0.1 / L, [WB]'s
    /// `mode='sequential'` init, [WB]'s `mode='auto'` uses 0.1; softmax-td: default 0.1).
    #[arg(long, value_name = "G", allow_negative_numbers = true)]
    init_gain: Option<f64>,
    /// Feature dimension d (td: [WB]'s `-d`, default 4; softmax-td: default 3; sarsa: overrides the
    /// preset's).
    #[arg(short = 'd', value_name = "D", allow_negative_numbers = true)]
    d: Option<usize>,
    /// Number of states |S| (td: [WB]'s `-s`, default 10; softmax-td: default 5; sarsa: overrides the
    /// preset's).
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    states: Option<usize>,
    /// `train sarsa`: number of actions |A| (overrides the preset's).
    #[arg(long, value_name = "A", allow_negative_numbers = true)]
    actions: Option<usize>,
    /// Context length n, transitions per prompt (td: [WB]'s `-n`, default 30; softmax-td: default 20;
    /// sarsa: overrides the preset's).
    #[arg(short = 'n', value_name = "N", allow_negative_numbers = true)]
    n: Option<usize>,
    /// `train td`, `train softmax-td`: layers L ([WB]'s `-l`, default 3).
    #[arg(short = 'l', value_name = "L", allow_negative_numbers = true)]
    layers: Option<usize>,
    /// Discount γ in [0, 1) (td, softmax-td: default 0.9, [WB]'s `--gamma`; sarsa: overrides the
    /// preset's).
    #[arg(long, value_name = "G", allow_negative_numbers = true)]
    gamma: Option<f64>,
    /// `train td`, `train softmax-td`: training MRPs (td: [WB]'s `--n_mrps`, default 5000;
    /// softmax-td: one Adam step each, default 4000).
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    mrps: Option<usize>,
    /// `train td`, `train softmax-td`: prompts per minibatch (td: [WB]'s `--batch_size`, default 64;
    /// softmax-td: sliding windows per step, default 32).
    #[arg(long, value_name = "B", allow_negative_numbers = true)]
    batch_size: Option<usize>,
    /// `train td`, `train softmax-td`: minibatches (Adam steps) per MRP (td: [WB]'s
    /// `--n_batch_per_mrp`, default 5; softmax-td: default 1).
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    batches_per_mrp: Option<usize>,
    /// `train td`, `train softmax-td`: Adam learning rate (td: [WB]'s `--lr`, default 0.001;
    /// softmax-td: default 0.003).
    #[arg(long, value_name = "LR", allow_negative_numbers = true)]
    lr: Option<f64>,
    /// `train td`, `train softmax-td`: weight decay λ in Adam's coupled L2 form (g ← g + λx before the moments, as
    /// [WB]'s `torch.optim.Adam(weight_decay=λ)`; not AdamW's decoupled form). Default 0; [WB]'s
    /// `--weight_decay` default is 1e-6.
    #[arg(long, value_name = "LAMBDA", allow_negative_numbers = true)]
    weight_decay: Option<f64>,
    /// `train td`, `train softmax-td`: representable rewards, w ~ N(0, I_d), r = (I − γP)Φw so
    /// that v = Φw ([WB]'s `--representable`).
    #[arg(long)]
    representable: bool,
    /// `train td`: nonlinearity on the attention scores, Z + (1/n) P Z M act(Zᵀ Q Z) ([WB]'s
    /// code form and `--activation`; softmax is over each row of the score matrix, as [WB]'s
    /// `nn.Softmax(dim=1)`, not [XZ]'s masked softmax). Default identity.
    #[arg(long, value_name = "ACT", value_parser = ["identity", "softmax", "relu"])]
    activation: Option<String>,
    /// `train td`, `train softmax-td`: MRP family, boyan (Boyan chains; td's default) or loop ([WB]'s
    /// Loop MRP: a ring plus random edges); [WB]'s `--mrp_env`. softmax-td's default: random
    /// Dirichlet MRPs.
    #[arg(long, value_name = "ENV", value_parser = ["boyan", "loop"])]
    env: Option<String>,
    /// `train sarsa`: ε of the ε-greedy behaviour policy (overrides the preset's).
    #[arg(long, value_name = "EPS", allow_negative_numbers = true)]
    epsilon: Option<f64>,
    /// `train sarsa`: the teacher's SARSA step size α (overrides the preset's).
    #[arg(long, value_name = "ALPHA", allow_negative_numbers = true)]
    alpha: Option<f64>,
    /// `train sarsa`: training MDPs K (overrides the preset's).
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    mdps: Option<usize>,
    /// `train sarsa`: frames per MDP T (overrides the preset's).
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    frames: Option<usize>,
    /// `train softmax-td` only: train every entry instead of the construction's sparsity pattern.
    #[arg(long)]
    dense: bool,
}

fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>, String> {
    crate::report::train::parse_seeds(text)
}

fn train(a: TrainCmd) -> Result<i32, InputError> {
    use crate::dynamics::train_td::{Activation, TdEnv};
    let progress = std::io::stderr().is_terminal();
    let which = match a.which {
        TrainKind::Sarsa => "sarsa",
        TrainKind::Td => "td",
        TrainKind::SoftmaxTd => "softmax-td",
    };
    let f = crate::report::train::TrainFlags {
        preset: a.preset,
        shared: a.shared,
        init_gain: a.init_gain,
        d: a.d,
        states: a.states,
        actions: a.actions,
        n: a.n,
        layers: a.layers,
        gamma: a.gamma,
        mrps: a.mrps,
        batch_size: a.batch_size,
        batches_per_mrp: a.batches_per_mrp,
        lr: a.lr,
        weight_decay: a.weight_decay,
        representable: a.representable,
        activation: a.activation.as_deref().and_then(Activation::from_name),
        env: a.env.as_deref().and_then(TdEnv::from_name),
        epsilon: a.epsilon,
        alpha: a.alpha,
        mdps: a.mdps,
        frames: a.frames,
        dense: a.dense,
    };
    let Some(seeds) = a.seeds else {
        let o = crate::report::train::cli_train_flags(which, &f, a.seed.unwrap_or(0), progress)?;
        return emit(&o, &a.out, a.json);
    };
    let s = crate::report::train::sweep(which, &f, seeds)?;
    let paths = s.write(&a.out)?;
    let mut w = out();
    let _ = write!(w, "{}", if a.json { s.json_lines() } else { s.markdown() });
    drop(w);
    eprintln!("wrote {}", paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    Ok(s.exit_code())
}

/// Write a report's files under `dir`, print its Markdown (or JSON) to stdout and the written
/// paths to stderr; the exit code comes from its numbers.
fn emit(o: &crate::report::Output, dir: &std::path::Path, json: bool) -> Result<i32, InputError> {
    let paths = o.write(dir)?;
    print_report(o, json);
    eprintln!("wrote {}", paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    Ok(o.exit_code())
}

fn print_report(o: &crate::report::Output, json: bool) {
    let mut w = out();
    if json {
        let _ = writeln!(w, "{}", serde_json::to_string_pretty(&o.to_json()).expect("serializable"));
    } else {
        let _ = write!(w, "{}", o.markdown);
    }
}

// ---- end of `icrl train` / `icrl report` ----

#[derive(Args, Debug)]
struct VerifyArgs {
    /// Theorem ids (repeatable; default: all).
    #[arg(long = "theorem")]
    theorems: Vec<String>,
    /// Cases per theorem (default: each theorem's own, at least 1000 for equalities).
    #[arg(long)]
    cases: Option<u64>,
    /// Base seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Exact (rational) checks only (= `--arith exact`).
    #[arg(long, conflicts_with = "f64")]
    exact: bool,
    /// `f64` checks only (= `--arith f64`).
    #[arg(long = "f64")]
    f64: bool,
    /// Arithmetics to run: `exact` (BigRational), `f64`, `field` (the prime-field certificates)
    /// or `all` (the default).
    #[arg(long, value_name = "exact|f64|field|all")]
    arith: Option<String>,
    /// After the table, print every field row's per-shape certificates (draws, degree, log₂ H,
    /// the two terms and the bound); `--format json` always lists them (`field_shapes`).
    #[arg(long)]
    certificates: bool,
    /// Output format: `table` (plain text), `markdown` (a GFM table with a legend), `latex` (a
    /// `tabular` with a legend), `json` (JSON Lines: one object per row, failures, a summary).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Replay one case index (as printed by a failure).
    #[arg(long)]
    case: Option<u64>,
    /// Harness negative control: perturb one entry of every construction; the run must fail.
    #[arg(long, hide = true)]
    sabotage: bool,
    /// Run slice K of N (0 ≤ K < N) of the cases: case k of theorem ID goes to shard
    /// (k + FNV-1a(ID)) mod N, so every shard gets an even share of every theorem. Combine the
    /// shards' `--json` outputs with `icrl merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard, conflicts_with = "case")]
    shard: Option<crate::verify::Shard>,
}

fn parse_shard(text: &str) -> Result<crate::verify::Shard, String> {
    crate::verify::Shard::parse(text)
}

#[derive(Args, Debug)]
struct MergeArgs {
    /// The shard outputs (`icrl verify --shard K/N --json > FILE`), in any order.
    #[arg(required = true, value_name = "FILES")]
    files: Vec<PathBuf>,
    /// Output format, as `icrl verify`'s.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// For `icrl search --shard` lines: the fixture file (default, as `icrl search`'s,
    /// `fixtures/counterexamples/THEOREM--RELAX.json`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// For `icrl search --shard` lines: replace an existing fixture file.
    #[arg(long)]
    force: bool,
    /// As `icrl verify --certificates`.
    #[arg(long)]
    certificates: bool,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// The instance JSON, or JSON Lines (one instance a line); `-` reads stdin.
    file: PathBuf,
    /// Print one JSON object per instance (input errors too, as `{"error": …}`).
    #[arg(long)]
    json: bool,
    /// Largest estimated f64 work (multiply-adds) a check may run.
    #[arg(long, value_name = "OPS")]
    max_work: Option<f64>,
    /// Largest estimated working memory in bytes.
    #[arg(long, value_name = "BYTES")]
    max_memory: Option<f64>,
    /// Largest estimated exact work (bit-weighted operations); beyond it exact checks are skipped.
    #[arg(long, value_name = "OPS")]
    max_exact_work: Option<f64>,
}

#[derive(Args, Debug)]
struct SearchCmd {
    /// Theorem id.
    #[arg(long)]
    theorem: String,
    /// Assumption to drop (see `icrl list`); repeat to drop several at once.
    #[arg(long, required = true)]
    relax: Vec<String>,
    /// Random instances to try (default: the relaxation's own budget, sized for a few seconds).
    #[arg(long)]
    budget: Option<u64>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output file (default `fixtures/counterexamples/THEOREM--RELAX.json`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing output file (it is never replaced otherwise).
    #[arg(long)]
    force: bool,
    /// Run slice K of N (0 ≤ K < N) of the search's blocks of 1000 cases (block j goes to slice
    /// j mod N) and print one `{"search_shard": …}` line instead of writing a fixture; `icrl
    /// merge` of the N lines prints and writes what the unsharded search does.
    #[arg(long, value_name = "K/N", value_parser = parse_shard, conflicts_with_all = ["out", "force"])]
    shard: Option<crate::verify::Shard>,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Which figure (`all` runs every one).
    #[arg(long, default_value = "all", value_parser = ["all", "sarsa-paper", "sarsa-paper-full-block", "sarsa-paper-field", "sarsa-paper-field-const", "sarsa-paper-field-weights", "sarsa-paper-field-mdp", "sarsa-paper-exact", "linear-td-wb", "softmax-td"])]
    which: String,
    /// Seconds per repetition.
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
    /// Repetitions per figure and thread count (the report gives median, min and max).
    #[arg(long, default_value_t = 5)]
    repetitions: usize,
    /// One JSON object per figure and thread count, one per line.
    #[arg(long)]
    json: bool,
}

/// Parse `args` and run; returns the exit code.
pub fn main<I: IntoIterator<Item = OsString>>(args: I) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    EXIT_USAGE
                } else {
                    EXIT_OK
                };
            }
            // clap's whole message: the `error:` line, the missing argument or the did-you-mean
            // tip, and the usage line.
            let text = e.render().to_string();
            if text.starts_with("error:") {
                eprint!("{text}");
            } else {
                eprint!("error: {text}");
            }
            return EXIT_USAGE;
        }
    };
    let result = match cli.cmd {
        Cmd::List { format, json } => list(if json { Format::Json } else { format }),
        Cmd::Verify(a) => verify(a),
        Cmd::Merge(a) => merge(a),
        Cmd::Check(a) => check(a),
        Cmd::Search(a) => search(a),
        Cmd::Bench(a) => bench(a),
        Cmd::Train(a) => train(*a),
        Cmd::Report(r) => report(r),
        Cmd::Probe(a) => crate::probe::run(&a.file, &a.family, a.json, a.out.as_deref(), a.seed).map(|text| {
            let _ = out().write_all(text.as_bytes());
            EXIT_OK
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}

fn out() -> std::io::StdoutLock<'static> {
    std::io::stdout().lock()
}

/// Render the catalogue (the text `icrl list` prints; snapshotted).
pub fn render_catalogue(ts: &[TheoremSpec]) -> String {
    let mut s = String::new();
    for t in ts {
        s.push_str(&format!("{} {}\n", t.id, t.provenance.label()));
        s.push_str(&format!("  kind:        {}\n", t.kind.name()));
        s.push_str(&format!("  source:      {}\n", t.source));
        s.push_str(&format!("  statement:   {}\n", t.statement));
        if t.assumptions.is_empty() {
            s.push_str("  assumptions: (none)\n");
        } else {
            s.push_str("  assumptions:\n");
            for a in t.assumptions {
                let tag = if a.search.is_some() { " [searchable]" } else { "" };
                s.push_str(&format!("    - {}{}: {}\n", a.id.name(), tag, a.statement));
            }
        }
        s.push_str(&format!("  proof:       {}\n", t.proof_page));
        s.push_str(&format!("  formal:      {}\n\n", t.formal.describe()));
    }
    s
}

/// The catalogue as a GFM table (`icrl list --format markdown`).
pub fn render_catalogue_markdown(ts: &[TheoremSpec]) -> String {
    let cell = |x: &str| x.replace('|', "\\|").replace('\n', " ");
    let mut s = String::from(
        "| id | label | kind | source | statement | assumptions | proof | formal |\n|:---|:---|:---|:---|:---|:---|:---|:---|\n",
    );
    for t in ts {
        let asm: Vec<String> = t
            .assumptions
            .iter()
            .map(|a| format!("`{}`{}", a.id.name(), if a.search.is_some() { " (searchable)" } else { "" }))
            .collect();
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |\n",
            t.id,
            t.provenance.label(),
            t.kind.name(),
            cell(t.source),
            cell(t.statement),
            if asm.is_empty() { "(none)".to_string() } else { asm.join(", ") },
            cell(t.proof_page),
            cell(&t.formal.describe())
        ));
    }
    s
}

/// The catalogue as a LaTeX `tabular` (`icrl list --format latex`; plain LaTeX).
pub fn render_catalogue_latex(ts: &[TheoremSpec]) -> String {
    let e = crate::verify::latex_escape;
    let mut s = String::from("% icrl list --format latex\n\\begin{tabular}{@{}lllp{0.5\\linewidth}@{}}\n\\hline\nid & label & kind & statement \\\\\n\\hline\n");
    for t in ts {
        s.push_str(&format!(
            "\\texttt{{{}}} & {} & {} & {} \\\\\n",
            e(t.id),
            e(t.provenance.label()),
            e(t.kind.name()),
            e(t.statement)
        ));
    }
    s.push_str("\\hline\n\\end{tabular}\n");
    s
}

fn list(format: Format) -> Result<i32, InputError> {
    let ts = theorem::registry();
    let mut o = out();
    if format == Format::Markdown {
        let _ = write!(o, "{}", render_catalogue_markdown(&ts));
    } else if format == Format::Latex {
        let _ = write!(o, "{}", render_catalogue_latex(&ts));
    } else if format == Format::Json {
        for t in &ts {
            let v = serde_json::json!({
                "id": t.id,
                "provenance": t.provenance.label(),
                "kind": t.kind,
                "source": t.source,
                "statement": t.statement,
                "assumptions": t.assumptions.iter().map(|a| serde_json::json!({
                    "name": a.id.name(), "statement": a.statement, "searchable": a.search.is_some()
                })).collect::<Vec<_>>(),
                "proof": t.proof_page,
                "formal": t.formal.describe(),
                "family": t.instance.map(|i| i.family.name),
            });
            let _ = writeln!(o, "{v}");
        }
    } else {
        let _ = write!(o, "{}", render_catalogue(&ts));
    }
    Ok(EXIT_OK)
}

fn select(ids: &[String]) -> Result<Vec<TheoremSpec>, InputError> {
    let all = theorem::registry();
    if ids.is_empty() {
        return Ok(all);
    }
    ids.iter()
        .map(|id| {
            all.iter().find(|t| t.id == id).copied().ok_or_else(|| {
                InputError::new("--theorem", format!("unknown theorem {id:?}; `icrl list` shows the ids"))
            })
        })
        .collect()
}

fn verify(a: VerifyArgs) -> Result<i32, InputError> {
    let format = if a.json { Format::Json } else { a.format };
    let ts = select(&a.theorems)?;
    if a.cases == Some(0) {
        return Err(InputError::new("--cases", "must be at least 1"));
    }
    let arith = match (&a.arith, a.exact, a.f64) {
        (Some(_), true, _) | (Some(_), _, true) => {
            return Err(InputError::new("--arith", "give either --arith or its alias --exact / --f64, not both"))
        }
        (Some(v), _, _) => ArithFilter::parse(v)
            .ok_or_else(|| InputError::new("--arith", format!("{v:?} is not one of exact, f64, field, all")))?,
        (None, true, _) => ArithFilter::ExactOnly,
        (None, _, true) => ArithFilter::F64Only,
        (None, false, false) => ArithFilter::Both,
    };
    let cfg = crate::verify::VerifyConfig {
        cases: a.cases,
        seed: a.seed,
        arith,
        sabotage: a.sabotage,
        only_case: a.case,
        progress: std::io::stderr().is_terminal() && format == Format::Table,
        sides: Default::default(),
    };
    let t0 = std::time::Instant::now();
    let (report, accs) = crate::verify::run_shard(&ts, &cfg, a.shard);
    let mut printed = crate::verify::Printed::of(&report, t0.elapsed().as_secs_f64());
    printed.shard = a.shard.map(|s| (s, crate::merge::state_line(s, &cfg, &accs)));
    let code = print_run(&printed, format);
    if a.certificates && format == Format::Table {
        let _ = out().write_all(crate::verify::certificates_of(&printed.rows).as_bytes());
    }
    Ok(code)
}

fn verify_format(f: Format) -> crate::verify::Format {
    match f {
        Format::Table => crate::verify::Format::Table,
        Format::Markdown => crate::verify::Format::Markdown,
        Format::Latex => crate::verify::Format::Latex,
        Format::Json => crate::verify::Format::Json,
    }
}

/// Print a `verify` or `merge` run; the exit code from its verdicts.
fn print_run(p: &crate::verify::Printed, format: Format) -> i32 {
    let (stdout, stderr) = p.render(verify_format(format));
    let _ = out().write_all(stdout.as_bytes());
    eprint!("{stderr}");
    if p.all_hold() {
        EXIT_OK
    } else {
        EXIT_FAIL
    }
}

fn merge(a: MergeArgs) -> Result<i32, InputError> {
    if a.files.first().is_some_and(|p| crate::search::shard::looks_like_search_shard(p)) {
        return merge_search(a);
    }
    if a.out.is_some() || a.force {
        return Err(InputError::new(
            if a.out.is_some() { "--out" } else { "--force" },
            "only a merge of `icrl search --shard` lines writes a file",
        ));
    }
    let format = if a.json { Format::Json } else { a.format };
    let files = a.files.iter().map(|p| crate::merge::read(p)).collect::<Result<Vec<_>, _>>()?;
    let printed = crate::merge::merge(&files)?;
    let code = print_run(&printed, format);
    if a.certificates && format == Format::Table {
        let _ = out().write_all(crate::verify::certificates_of(&printed.rows).as_bytes());
    }
    Ok(code)
}

fn check(a: CheckArgs) -> Result<i32, InputError> {
    let d = theorem::Limits::default();
    let limits = theorem::Limits {
        max_work: a.max_work.unwrap_or(d.max_work),
        max_memory: a.max_memory.unwrap_or(d.max_memory),
        max_exact_work: a.max_exact_work.unwrap_or(d.max_exact_work),
    };
    let res = crate::check::check_file(&a.file, &limits);
    let checked = match res {
        Ok(c) => c,
        Err(e) if a.json => {
            // JSON on stdout for programs, the usual one `error:` line on stderr for people.
            let _ = writeln!(out(), "{}", e.to_json());
            eprintln!("error: {e}");
            return Ok(EXIT_USAGE);
        }
        Err(e) => return Err(e),
    };
    let mut o = out();
    for c in &checked {
        if a.json {
            let _ = writeln!(o, "{}", c.to_json());
        } else {
            let _ = write!(o, "{}", c.to_text());
        }
    }
    Ok(if checked.iter().all(|c| c.holds()) { EXIT_OK } else { EXIT_FAIL })
}

fn search(a: SearchCmd) -> Result<i32, InputError> {
    let (f, mut args) = theorem::search_plan(&a.theorem, &a.relax, a.budget, a.seed)?;
    if let Some(s) = a.shard {
        let slice = crate::search::Slice { index: s.index, count: s.count };
        args.slice = Some(slice);
        let outcome = f(&args)?;
        let record = crate::search::shard::record(&args, slice, &outcome)
            .ok_or_else(|| InputError::new("--shard", "this search has no blocks to split"))?;
        let _ = writeln!(out(), "{}", crate::search::shard::to_line(&record));
        return Ok(if outcome.found.is_some() { EXIT_OK } else { EXIT_FAIL });
    }
    let relax = args.relax_label();
    // The output path is tried before the search runs (a search can take minutes).
    let path = a.out.clone().unwrap_or_else(|| crate::search::default_out(&a.theorem, &relax));
    crate::fsutil::check_out_file(&path, a.force)?;
    let outcome = f(&args)?;
    let found = outcome.found.map(|c| (c.instance, c.summary));
    print_search(&outcome.report, found, outcome.tried, a.seed, &path, a.force)
}

/// Print a search's outcome (and write its fixture), as `icrl search` and `icrl merge` of its
/// shard lines both do.
fn print_search(
    report: &[String],
    found: Option<(serde_json::Value, String)>,
    tried: u64,
    seed: u64,
    path: &std::path::Path,
    force: bool,
) -> Result<i32, InputError> {
    let mut o = out();
    for line in report {
        let _ = writeln!(o, "{line}");
    }
    match found {
        None => {
            let _ = writeln!(
                o,
                "no counterexample in {tried} instances (seed {seed}): the conclusion survived the relaxation"
            );
            Ok(EXIT_FAIL)
        }
        Some((instance, summary)) => {
            crate::search::write_fixture(path, &instance, force)?;
            let _ = writeln!(
                o,
                "counterexample found (seed {seed}, {tried} instances evaluated while searching and shrinking): {summary}"
            );
            let _ = writeln!(o, "saved {}", path.display());
            // A counterexample is the expected outcome of a relaxation: the search succeeded.
            Ok(EXIT_OK)
        }
    }
}

/// `icrl merge` of `icrl search --shard K/N` lines: what the unsharded search prints and writes.
fn merge_search(a: MergeArgs) -> Result<i32, InputError> {
    if a.json || a.format != Format::Table || a.certificates {
        let flag = if a.json {
            "--json"
        } else if a.certificates {
            "--certificates"
        } else {
            "--format"
        };
        return Err(InputError::new(flag, "a merge of search shards prints what `icrl search` prints"));
    }
    let files = a
        .files
        .iter()
        .map(|p| crate::search::shard::read(p).map(|r| (p.display().to_string(), r)))
        .collect::<Result<Vec<_>, _>>()?;
    let m = crate::search::shard::merge(&files)?;
    let path = a.out.clone().unwrap_or_else(|| crate::search::default_out(&m.theorem, &m.relax));
    crate::fsutil::check_out_file(&path, a.force)?;
    let found = m.found.map(|f| (f.instance, f.summary));
    print_search(&m.report, found, m.tried, m.seed, &path, a.force)
}

fn bench(a: BenchArgs) -> Result<i32, InputError> {
    let opts = crate::theorem::bench::BenchOptions {
        which: a.which,
        seconds: a.seconds,
        repetitions: a.repetitions,
        json: a.json,
    };
    let lines = crate::theorem::bench::run(&opts)?;
    let mut o = out();
    for l in lines {
        let _ = writeln!(o, "{l}");
    }
    Ok(EXIT_OK)
}

fn report(r: ReportCmd) -> Result<i32, InputError> {
    // The output directory is tried before the work starts (a bad --out costs nothing).
    let one = |a: &ReportArgs, f: fn(u64) -> Result<crate::report::Output, InputError>| {
        crate::report::ensure_dir(&a.out)?;
        emit(&f(a.seed)?, &a.out, a.json)
    };
    match r {
        ReportCmd::ActorCritic(a) => one(&a, |s| Ok(crate::report::actor_critic::run(s))),
        ReportCmd::Decay(a) => one(&a, |s| Ok(crate::report::decay::run(s))),
        ReportCmd::Neu(a) => one(&a, |s| Ok(crate::report::neu::run(s))),
        ReportCmd::Flow(a) => one(&a, crate::report::dynamics::flow),
        ReportCmd::Emergence(a) => one(&a, crate::report::dynamics::emergence),
        ReportCmd::All(a) => {
            crate::report::ensure_dir(&a.out)?;
            let outputs = crate::report::all(a.seed)?;
            let mut paths = Vec::new();
            for o in &outputs {
                paths.extend(o.write(&a.out)?);
            }
            let index = crate::report::index(&outputs, a.seed);
            paths.push(crate::report::write_text(&a.out, "index.md", &index)?);
            let mut w = out();
            if a.json {
                let v: Vec<serde_json::Value> = outputs.iter().map(crate::report::Output::to_json).collect();
                let _ = writeln!(w, "{}", serde_json::to_string_pretty(&v).expect("serializable"));
            } else {
                let _ = write!(w, "{index}");
            }
            eprintln!(
                "wrote {} files under {} (index: {})",
                paths.len(),
                a.out.display(),
                a.out.join("index.md").display()
            );
            Ok(if outputs.iter().any(|o| o.holds == Some(false)) { EXIT_FAIL } else { EXIT_OK })
        }
    }
}
