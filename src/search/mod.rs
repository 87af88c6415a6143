//! The counterexample search engine: given a relaxation (a proptest `Strategy` over instances
//! whose generator no longer enforces an assumption, and a violation measure), find an instance
//! where the conclusion fails, shrink it, and save it as an instance JSON (`docs/theory/instances.md`) with its provenance
//! under `fixtures/counterexamples/`. The engine imports nothing from `crate::theorem`: the
//! relaxations themselves live with their theorems (`crate::theorem::relax`), which call it.
//!
//! The engine is proptest's: a relaxation is a `Strategy` over instances whose generator no
//! longer enforces the assumption, and the property is "the conclusion holds". Proptest finds a
//! failing value and shrinks it (fewer states, actions, transitions, layers; integers toward 0,
//! so numbers become simpler). Its RNG is seeded from `--seed`, so a search is reproducible.
//!
//! **Blocks.** A search of budget `B` is `⌈B / BLOCK_CASES⌉` blocks of at most [`BLOCK_CASES`]
//! cases, run in order until one finds a counterexample, which is shrunk; block `j` is a fresh
//! runner whose RNG is seeded from `(seed, j)` (block 0 exactly as the single runner was seeded
//! before blocks existed, so a search of budget `≤ BLOCK_CASES` finds what it always found).
//! Because a block depends only on `(seed, j)`, `icrl search --shard K/N` can run the blocks
//! `j ≡ K (mod N)` on another machine and `icrl merge` (module [`shard`]) picks the lowest
//! failing block: exactly the unsharded search's counterexample, output and exit code.

use crate::assumption::{self, AssumptionId};
use crate::error::InputError;
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::Value;

pub mod shard;

/// Cases per block of a search (see the module doc).
pub const BLOCK_CASES: u64 = 1000;

/// Slice `index` of `count` of a search's blocks (`icrl search --shard K/N`): block `j` belongs
/// to slice `j mod count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    /// `K`, in `0..count`.
    pub index: u64,
    /// `N ≥ 1`.
    pub count: u64,
}

/// Arguments of one search.
#[derive(Clone, Debug)]
pub struct SearchArgs {
    /// Theorem id.
    pub theorem: String,
    /// The relaxed assumptions (one or more).
    pub relax: Vec<AssumptionId>,
    /// Random instances to try before giving up.
    pub budget: u64,
    /// Seed of the search RNG.
    pub seed: u64,
    /// Run only this slice of the blocks (`None`: all of them).
    pub slice: Option<Slice>,
}

impl SearchArgs {
    /// The relaxed set as one label, `a+b` (fixture files and their provenance use it).
    pub fn relax_label(&self) -> String {
        assumption::label(&self.relax)
    }
}

/// A found and shrunk counterexample.
#[derive(Clone, Debug)]
pub struct Counterexample {
    /// The instance JSON (with its `counterexample` provenance block).
    pub instance: Value,
    /// The measured violation (e.g. `|transformer - reference|`), > 0.
    pub violation: f64,
    /// One line for the terminal: sizes and the violation.
    pub summary: String,
}

/// What a search returns: the counterexample, if any, and how many instances it tried.
#[derive(Clone, Debug)]
pub struct SearchOutcome {
    /// The shrunk counterexample.
    pub found: Option<Counterexample>,
    /// Instances tried (before shrinking).
    pub tried: u64,
    /// Extra report lines (e.g. a converse search's statistics).
    pub report: Vec<String>,
    /// The blocks run, in order (`None` for a search that is not a proptest search, such as the
    /// Q-learning least-squares sweep, which cannot be sharded).
    pub blocks: Option<Vec<BlockRun>>,
}

/// One block of a search, as run: how many instances it evaluated (cases, plus the shrinking
/// steps if it found a counterexample) and whether it found one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockRun {
    /// The block index `j`.
    pub block: u64,
    /// Instances evaluated in it.
    pub tried: u64,
    /// It found (and shrank) a counterexample.
    pub found: bool,
}

/// The blocks of a search of `budget` cases: `⌈budget / BLOCK_CASES⌉`.
pub fn block_count(budget: u64) -> u64 {
    budget.div_ceil(BLOCK_CASES)
}

/// The cases of block `j` (the last block takes the remainder).
pub fn block_cases(budget: u64, j: u64) -> u64 {
    budget.saturating_sub(j.saturating_mul(BLOCK_CASES)).min(BLOCK_CASES)
}

/// The blocks a slice runs, in order.
pub fn slice_blocks(budget: u64, slice: Option<Slice>) -> impl Iterator<Item = u64> {
    let (start, step) = slice.map_or((0, 1), |s| (s.index, s.count));
    (start..block_count(budget)).step_by(step.max(1) as usize)
}

/// The RNG seed of block `j`: the search seed in bytes 0–7 and, from block 1 on, `j` in bytes
/// 8–15 (block 0 keeps the seeding of the single runner the engine had before blocks).
fn block_seed(seed: u64, j: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    if j > 0 {
        bytes[8..16].copy_from_slice(&j.to_le_bytes());
    }
    bytes
}

/// A relaxation's search.
pub type SearchFn = fn(&SearchArgs) -> Result<SearchOutcome, InputError>;

/// A relaxation's replay: re-measure the violation of a saved counterexample (> 0 means it
/// still fails the theorem's conclusion).
pub type ReplayFn = fn(&Value) -> Result<f64, InputError>;

/// What [`find_and_shrink`] returns: the shrunk value and its violation, the instances
/// evaluated, the blocks run.
pub type Hunt<V> = (Option<(V, f64)>, u64, Vec<BlockRun>);

/// Run the search's blocks (all, or `args.slice`'s) with proptest's runner, in order, until one
/// finds a counterexample: `violation(v)` returns `Some(amount)` when `v` violates the
/// conclusion. Returns the shrunk value and its violation, the number of instances evaluated, and
/// the blocks run.
pub fn find_and_shrink<S, F>(strategy: S, args: &SearchArgs, violation: F) -> Hunt<S::Value>
where
    S: Strategy,
    S::Value: Clone,
    F: Fn(&S::Value) -> Option<f64>,
{
    let mut runs = Vec::new();
    let mut total = 0u64;
    for j in slice_blocks(args.budget, args.slice) {
        let cases = block_cases(args.budget, j);
        let (found, tried) = run_block(&strategy, cases, args.budget, block_seed(args.seed, j), &violation);
        total += tried;
        runs.push(BlockRun { block: j, tried, found: found.is_some() });
        if found.is_some() {
            return (found, total, runs);
        }
    }
    (None, total, runs)
}

/// One block: a fresh runner seeded with `seed` that tries `cases` cases.
///
/// The runner's `Config::cases` is the whole search's `budget`, not the block's: proptest's
/// shrinking of a `prop_flat_map` value regenerates up to `Config::cases` times, so the shrunk
/// value depends on it, and with the budget it is the same in every block, every shard and the
/// single runner of the engine before blocks. The loop is proptest's own `TestRunner::run` loop
/// (reseed the runner's RNG from itself, draw a tree, `run_one`, which shrinks a failure),
/// stopped after `cases` passing cases instead of `Config::cases`, so block 0 draws exactly the
/// cases the single runner drew.
fn run_block<S, F>(
    strategy: &S,
    cases: u64,
    budget: u64,
    seed: [u8; 32],
    violation: &F,
) -> (Option<(S::Value, f64)>, u64)
where
    S: Strategy,
    S::Value: Clone,
    F: Fn(&S::Value) -> Option<f64>,
{
    let config = Config {
        cases: budget.min(u32::MAX as u64) as u32,
        failure_persistence: None,
        max_shrink_iters: 100_000,
        // Generated values may be rejected by the strategy's own filters; allow plenty.
        max_global_rejects: 1_000_000,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let tried = std::cell::Cell::new(0u64);
    let test = |v: S::Value| {
        tried.set(tried.get() + 1);
        match violation(&v) {
            Some(amount) => Err(TestCaseError::fail(format!("violation {amount:e}"))),
            None => Ok(()),
        }
    };
    let mut passed = 0u64;
    while passed < cases {
        let fresh = runner.new_rng();
        *runner.rng() = fresh;
        let Ok(tree) = strategy.new_tree(&mut runner) else {
            return (None, tried.get());
        };
        match runner.run_one(tree, test) {
            Ok(true) => passed += 1,
            // A rejection (the strategy's filter): not a case; proptest aborts after
            // `max_global_rejects` of them.
            Ok(false) => {}
            Err(TestError::Fail(_, v)) => {
                let amount = violation(&v).unwrap_or(f64::NAN);
                return (Some((v, amount)), tried.get());
            }
            Err(TestError::Abort(_)) => return (None, tried.get()),
        }
    }
    (None, tried.get())
}

/// The provenance block stored in a fixture.
pub fn provenance_block(args: &SearchArgs, violation: f64, note: &str) -> Value {
    serde_json::json!({
        "theorem": args.theorem,
        "relax": args.relax_label(),
        "seed": args.seed,
        "budget": args.budget,
        "command": format!(
            "icrl search --theorem {} {} --budget {} --seed {}",
            args.theorem,
            args.relax.iter().map(|r| format!("--relax {r}")).collect::<Vec<_>>().join(" "),
            args.budget,
            args.seed
        ),
        "violation": violation,
        "note": note,
    })
}

/// Write a counterexample fixture (pretty JSON, `crate::instance::to_pretty`) at `path`
/// atomically (`crate::fsutil::write_atomic`: an existing file only with `force`, never through a
/// symbolic link); errors name `--out`.
pub fn write_fixture(path: &std::path::Path, instance: &Value, force: bool) -> Result<(), InputError> {
    crate::fsutil::write_atomic(path, crate::instance::to_pretty(instance).as_bytes(), force)
}

/// Default fixture path for a `(theorem, relax)` pair.
pub fn default_out(theorem: &str, relax: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("fixtures/counterexamples/{theorem}--{relax}.json"))
}
