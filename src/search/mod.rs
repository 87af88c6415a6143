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

use crate::assumption::{self, AssumptionId};
use crate::error::InputError;
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::Value;

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
}

/// A relaxation's search.
pub type SearchFn = fn(&SearchArgs) -> Result<SearchOutcome, InputError>;

/// A relaxation's replay: re-measure the violation of a saved counterexample (> 0 means it
/// still fails the theorem's conclusion).
pub type ReplayFn = fn(&Value) -> Result<f64, InputError>;

/// Run proptest's runner: `violation(v)` returns `Some(amount)` when `v` violates the
/// conclusion. Returns the shrunk value, its violation and the number of cases tried.
pub fn find_and_shrink<S, F>(strategy: S, budget: u64, seed: u64, violation: F) -> (Option<(S::Value, f64)>, u64)
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
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let tried = std::cell::Cell::new(0u64);
    let result = runner.run(&strategy, |v| {
        tried.set(tried.get() + 1);
        match violation(&v) {
            Some(amount) => Err(TestCaseError::fail(format!("violation {amount:e}"))),
            None => Ok(()),
        }
    });
    match result {
        Ok(()) => (None, tried.get()),
        Err(TestError::Fail(_, v)) => {
            let amount = violation(&v).unwrap_or(f64::NAN);
            (Some((v, amount)), tried.get())
        }
        Err(TestError::Abort(_)) => (None, tried.get()),
    }
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
