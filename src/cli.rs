//! The command line: `icrl list | verify | check | search | bench`. Every subcommand returns an
//! exit code: 0 every claim holds, 1 a claim failed (with the seed and instance to replay it),
//! 2 usage or input error (one `error:` line naming the field).

use crate::error::InputError;
use crate::theorem::{self, ArithFilter, TheoremSpec};
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Exit status: every claim holds.
pub const EXIT_OK: i32 = 0;
/// Exit status: a claim failed.
pub const EXIT_FAIL: i32 = 1;
/// Exit status: usage or input error.
pub const EXIT_USAGE: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "icrl",
    version,
    about = "Executable checks of in-context RL theory: transformer forward passes that are RL updates"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// The theorem catalogue: id, statement, provenance, assumptions.
    List {
        /// One JSON object per theorem.
        #[arg(long)]
        json: bool,
    },
    /// Check theorems on random instances (parallel, deterministic for a seed).
    Verify(VerifyArgs),
    /// Check the theorems of one instance file, or of many (JSON Lines); `-` reads stdin.
    Check(CheckArgs),
    /// Drop one assumption, find and shrink a counterexample, save it as a fixture.
    Search(SearchCmd),
    /// Throughput benchmarks (instances per second, end to end).
    Bench(BenchArgs),
    /// Emergence: train a linear-attention model on an RL teacher and report what it learned.
    Train(TrainCmd),
    /// Reports: tables and SVG plots (`report decay`, `report neu`).
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

#[derive(Subcommand, Debug)]
enum ReportCmd {
    /// [LL] Thm 3.3 ([R] actor-critic): in-context policy improvement, return per step vs
    /// optimal and uniform.
    ActorCritic {
        /// Output directory (writes actor-critic.txt); printed only when absent.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// [LL] Thm 3.2: gradient flow of the teacher-mimicking loss, its spectrum and rate (SVG plots).
    Flow {
        /// Output directory for the SVG plots.
        #[arg(long, default_value = "report-out")]
        out: PathBuf,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// [LL]/[WB] emergence: training from a small init, learned vs constructed blocks, control curves.
    Emergence {
        /// Output directory for the SVG plots.
        #[arg(long, default_value = "report-out")]
        out: PathBuf,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// [XZ] Thm 2: error against depth for several n, and the floor against n with its slope.
    Decay {
        /// Output directory (writes decay.md and decay.svg).
        #[arg(long, default_value = "report-out")]
        out: PathBuf,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// [R] probe of [XZ] Thm 3: NEU = ||E[delta grad v^]||^2 at the softmax construction and
    /// along random directions around it (a reconstruction, never asserted).
    Neu {
        /// Output directory (writes neu.md and neu.svg).
        #[arg(long, default_value = "report-out")]
        out: PathBuf,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

// ---- `icrl train` (issue 4, training dynamics): one self-contained block ----

#[derive(Args, Debug)]
struct TrainCmd {
    /// `sarsa` ([LL] teacher-mimicking stream) or `td` ([WB] L = 3 transformer on Boyan chains).
    which: String,
    /// `small` or `paper` (sarsa only).
    #[arg(long, default_value = "small")]
    preset: String,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// `train td` only: one (P, Q) shared by all layers ([WB]'s code default `mode='auto'`)
    /// instead of independent layers (`mode='sequential'`).
    #[arg(long)]
    shared: bool,
    /// `train td` only: Xavier-normal gain of the init (default 0.1 / L, [WB]'s `mode='sequential'`
    /// init; [WB]'s `mode='auto'` uses 0.1).
    #[arg(long, value_name = "G")]
    init_gain: Option<f64>,
}

fn train(a: TrainCmd) -> Result<i32, InputError> {
    let progress = std::io::stderr().is_terminal();
    if a.which != "td" {
        if a.shared {
            return Err(InputError::new("--shared", "applies to `train td` only"));
        }
        if a.init_gain.is_some() {
            return Err(InputError::new("--init-gain", "applies to `train td` only"));
        }
    }
    let td = crate::dynamics::TdOptions { shared: a.shared, init_gain: a.init_gain };
    let text = crate::dynamics::cli_train(&a.which, &a.preset, a.seed, a.json, progress, td)?;
    let _ = writeln!(out(), "{text}");
    Ok(EXIT_OK)
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
    /// Exact (rational) checks only.
    #[arg(long, conflicts_with = "f64")]
    exact: bool,
    /// `f64` checks only.
    #[arg(long = "f64")]
    f64: bool,
    /// JSON lines instead of a table.
    #[arg(long)]
    json: bool,
    /// Replay one case index (as printed by a failure).
    #[arg(long)]
    case: Option<u64>,
    /// Harness negative control: perturb one entry of every construction; the run must fail.
    #[arg(long, hide = true)]
    sabotage: bool,
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
    /// Random instances to try (default: the relaxation's own, see `theorem::default_budget`).
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
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Which figure: `sarsa-paper`, `sarsa-paper-full-block`, `sarsa-paper-field`,
    /// `sarsa-paper-field-weights`, `sarsa-paper-field-mdp`, `sarsa-paper-exact`, `linear-td-wb`,
    /// `softmax-td`, or `all`.
    #[arg(long, default_value = "all")]
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
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("error: invalid usage");
            eprintln!("{}", if first.starts_with("error:") { first.to_string() } else { format!("error: {first}") });
            return EXIT_USAGE;
        }
    };
    let result = match cli.cmd {
        Cmd::List { json } => list(json),
        Cmd::Verify(a) => verify(a),
        Cmd::Check(a) => check(a),
        Cmd::Search(a) => search(a),
        Cmd::Bench(a) => bench(a),
        Cmd::Train(a) => train(a),
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
        s.push_str(&format!("  source:      {}\n", t.source));
        s.push_str(&format!("  statement:   {}\n", t.statement));
        if t.assumptions.is_empty() {
            s.push_str("  assumptions: (none)\n");
        } else {
            s.push_str("  assumptions:\n");
            for a in t.assumptions {
                let tag = if a.search.is_some() { " [searchable]" } else { "" };
                s.push_str(&format!("    - {}{}: {}\n", a.name, tag, a.statement));
            }
        }
        s.push_str(&format!("  proof:       {}\n\n", t.proof_page));
    }
    s
}

fn list(json: bool) -> Result<i32, InputError> {
    let ts = theorem::registry();
    let mut o = out();
    if json {
        for t in &ts {
            let v = serde_json::json!({
                "id": t.id,
                "provenance": t.provenance.label(),
                "source": t.source,
                "statement": t.statement,
                "assumptions": t.assumptions.iter().map(|a| serde_json::json!({
                    "name": a.name, "statement": a.statement, "searchable": a.search.is_some()
                })).collect::<Vec<_>>(),
                "proof": t.proof_page,
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
    let ts = select(&a.theorems)?;
    if a.cases == Some(0) {
        return Err(InputError::new("--cases", "must be at least 1"));
    }
    let cfg = crate::verify::VerifyConfig {
        cases: a.cases,
        seed: a.seed,
        arith: if a.exact {
            ArithFilter::ExactOnly
        } else if a.f64 {
            ArithFilter::F64Only
        } else {
            ArithFilter::Both
        },
        sabotage: a.sabotage,
        only_case: a.case,
        progress: std::io::stderr().is_terminal() && !a.json,
        sides: Default::default(),
    };
    let t0 = std::time::Instant::now();
    let report = crate::verify::run(&ts, &cfg);
    let wall = t0.elapsed().as_secs_f64();
    let mut o = out();
    if a.json {
        for r in &report.rows {
            let _ = writeln!(o, "{}", serde_json::to_string(r).expect("serializable"));
        }
        for f in &report.failures {
            let _ = writeln!(o, "{}", serde_json::json!({ "failure": f }));
        }
        let _ = writeln!(
            o,
            "{}",
            serde_json::json!({"summary": {"seed": a.seed, "all_hold": report.all_hold(), "wall_seconds": wall}})
        );
    } else {
        let _ = write!(o, "{}", crate::verify::render_table(&report));
        let _ = writeln!(o, "seed {}; {} rows in {:.2} s", a.seed, report.rows.len(), wall);
        for f in &report.failures {
            let _ = writeln!(
                o,
                "\nFAILED {} (seed {}, case {}): {} error {:.3e} > tolerance {:.1e}",
                f.theorem, f.seed, f.case, f.measurement.quantity, f.measurement.error, f.measurement.tolerance
            );
            let _ = writeln!(o, "  {}", f.suspect);
            let _ = writeln!(o, "  replay: {}", f.replay);
            if let Some(inst) = &f.instance {
                let _ = writeln!(o, "  instance (icrl check accepts it): {}", inst);
            }
        }
    }
    Ok(if report.all_hold() { crate::cli::EXIT_OK } else { EXIT_FAIL })
}

fn check(a: CheckArgs) -> Result<i32, InputError> {
    let d = theorem::Limits::default();
    let limits = theorem::Limits {
        max_work: a.max_work.unwrap_or(d.max_work),
        max_memory: a.max_memory.unwrap_or(d.max_memory),
        max_exact_work: a.max_exact_work.unwrap_or(d.max_exact_work),
    };
    let res = crate::check::read_input(&a.file).and_then(|text| crate::check::check_text(&text, &limits));
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
    let t = theorem::find(&a.theorem).ok_or_else(|| {
        InputError::new("--theorem", format!("unknown theorem {:?}; `icrl list` shows the ids", a.theorem))
    })?;
    let mut f = None;
    for r in &a.relax {
        let asm = t.assumptions.iter().find(|x| x.name == r).ok_or_else(|| {
            let names: Vec<&str> = t.assumptions.iter().map(|x| x.name).collect();
            InputError::new("--relax", format!("{} has no assumption {:?}; it has: {}", t.id, r, names.join(", ")))
        })?;
        let g = asm
            .search
            .ok_or_else(|| InputError::new("--relax", format!("no search is implemented for relaxing {r:?}")))?;
        // One search function serves all relaxations of a theorem and validates the set itself.
        f = f.or(Some(g));
    }
    let f = f.ok_or_else(|| InputError::new("--relax", "name at least one assumption"))?;
    let relax = a.relax.join("+");
    let budget = a.budget.unwrap_or_else(|| crate::theorem::default_budget(&a.theorem, &relax));
    if budget == 0 {
        return Err(InputError::new("--budget", "must be at least 1"));
    }
    let args = crate::search::SearchArgs { theorem: a.theorem.clone(), relax: relax.clone(), budget, seed: a.seed };
    // The output path is tried before the search runs (a search can take minutes).
    let path = a.out.clone().unwrap_or_else(|| crate::search::default_out(&a.theorem, &relax));
    crate::fsutil::check_out_file(&path, a.force)?;
    let outcome = f(&args)?;
    let mut o = out();
    for line in &outcome.report {
        let _ = writeln!(o, "{line}");
    }
    match outcome.found {
        None => {
            let _ = writeln!(
                o,
                "no counterexample in {} instances (seed {}): the conclusion survived the relaxation",
                outcome.tried, a.seed
            );
            Ok(EXIT_FAIL)
        }
        Some(cx) => {
            crate::search::write_fixture(&path, &cx.instance, a.force)?;
            let _ = writeln!(
                o,
                "counterexample found (seed {}, {} instances evaluated while searching and shrinking): {}",
                a.seed, outcome.tried, cx.summary
            );
            let _ = writeln!(o, "saved {}", path.display());
            // A counterexample is the expected outcome of a relaxation: the search succeeded.
            Ok(EXIT_OK)
        }
    }
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
    match r {
        ReportCmd::Flow { out: dir, seed } => {
            let t = crate::dynamics::report::flow(&dir, seed)?;
            let _ = write!(out(), "{t}");
            Ok(EXIT_OK)
        }
        ReportCmd::Emergence { out: dir, seed } => {
            let t = crate::dynamics::report::emergence(&dir, seed)?;
            let _ = write!(out(), "{t}");
            Ok(EXIT_OK)
        }
        ReportCmd::ActorCritic { out: dir, seed } => {
            let t = crate::report::actor_critic(dir.as_deref(), seed)?;
            let _ = write!(out(), "{t}");
            Ok(EXIT_OK)
        }
        ReportCmd::Decay { out: dir, seed } => {
            let (table, md, svg) = crate::report::decay::run(&dir, seed)?;
            let mut o = out();
            let _ = write!(o, "{table}");
            let _ = writeln!(o, "\nwrote {} and {}", md.display(), svg.display());
            let slope_line = table.lines().find(|l| l.starts_with("fitted log-log slope")).unwrap_or_default();
            Ok(if slope_line.contains("in range") { EXIT_OK } else { EXIT_FAIL })
        }
        ReportCmd::Neu { out: dir, seed } => {
            // A probe of an [R] reading: it reports numbers and asserts nothing, so it exits 0.
            let (table, md, svg) = crate::report::neu::run(&dir, seed)?;
            let mut o = out();
            let _ = write!(o, "{table}");
            let _ = writeln!(o, "\nwrote {} and {}", md.display(), svg.display());
            Ok(EXIT_OK)
        }
    }
}
