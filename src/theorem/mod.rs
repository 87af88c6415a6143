//! The theorem registry that `icrl list`, `icrl verify`, `icrl check` and `icrl search` read.
//!
//! One file per theorem family; each exports its [`TheoremSpec`]s. A spec carries the statement,
//! its provenance label ([Q]/[D]/[R], `docs/theory/README.md`), the source (paper and arXiv id), the
//! named [`Assumption`]s (the same values the generators enforce and `search --relax` drops),
//! and the check of one random case.

use crate::rng::Rng;
use serde::Serialize;

/// Where a statement comes from (`docs/theory/README.md`, "Provenance labels").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Provenance {
    /// [Q] quoted: the paper's statement or equation, as recovered.
    Quoted,
    /// [D] derived here by algebra checked numerically.
    Derived,
    /// [R] our reconstruction where the paper's exact form is unknown.
    Reconstructed,
}

impl Provenance {
    /// `[Q]`, `[D]` or `[R]`.
    pub fn label(self) -> &'static str {
        match self {
            Provenance::Quoted => "[Q]",
            Provenance::Derived => "[D]",
            Provenance::Reconstructed => "[R]",
        }
    }
    /// What a failure of a check of this statement puts in doubt.
    pub fn suspect(self) -> &'static str {
        match self {
            Provenance::Quoted => "a quoted statement failed: suspect our code first, then our reading of the paper",
            Provenance::Derived => "a derived statement failed: suspect our code, then our derivation",
            Provenance::Reconstructed => "a reconstruction failed: suspect our code, then the reconstruction itself",
        }
    }
}

/// A named hypothesis of a theorem. Generators enforce it; `icrl search --relax NAME` drops it.
#[derive(Clone, Copy, Debug)]
pub struct Assumption {
    /// Short kebab-case name (`query-mask`, `p22-zero`, `contraction`).
    pub name: &'static str,
    /// What it requires, one sentence.
    pub statement: &'static str,
    /// The counterexample search for this relaxation, if one is implemented.
    pub search: Option<crate::search::SearchFn>,
    /// Re-measures a saved counterexample of this relaxation (the fixture test calls it).
    pub replay: Option<crate::search::ReplayFn>,
}

/// Arithmetic of one measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arithmetic {
    /// `BigRational`, exact: the tolerance is 0.
    Exact,
    /// `f64` with a justified tolerance.
    F64,
}

impl Arithmetic {
    /// `"exact"` or `"f64"`.
    pub fn name(self) -> &'static str {
        match self {
            Arithmetic::Exact => "exact",
            Arithmetic::F64 => "f64",
        }
    }
}

/// Which arithmetics `verify` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithFilter {
    /// Both exact and `f64`.
    Both,
    /// Exact only (`--exact`).
    ExactOnly,
    /// `f64` only (`--f64`).
    F64Only,
}

impl ArithFilter {
    /// Whether measurements in `a` should be computed.
    pub fn wants(self, a: Arithmetic) -> bool {
        match self {
            ArithFilter::Both => true,
            ArithFilter::ExactOnly => a == Arithmetic::Exact,
            ArithFilter::F64Only => a == Arithmetic::F64,
        }
    }
}

/// What a check is run with.
#[derive(Clone, Copy, Debug)]
pub struct CheckCtx {
    /// Which arithmetics to compute.
    pub arith: ArithFilter,
    /// Harness negative control (`verify --sabotage`): the check perturbs its construction by
    /// one entry, so the run must fail. Never set in normal runs.
    pub sabotage: bool,
    /// Build the instance JSON (only when a failing case is re-run for its report).
    pub want_instance: bool,
}

impl Default for CheckCtx {
    fn default() -> Self {
        CheckCtx { arith: ArithFilter::Both, sabotage: false, want_instance: false }
    }
}

/// One compared quantity of one case.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    /// Arithmetic used.
    pub arithmetic: Arithmetic,
    /// What was compared (e.g. `"w' after 1 block"`).
    pub quantity: String,
    /// The measured error (max abs difference, or the violated margin of a bound).
    pub error: f64,
    /// The allowed error (0 for exact), with its reason in `crate::tolerance`.
    pub tolerance: f64,
    /// Whether the claim holds on this case.
    pub holds: bool,
}

impl Measurement {
    /// An equality measurement: holds iff `error <= tolerance` (NaN fails).
    pub fn equality(arithmetic: Arithmetic, quantity: impl Into<String>, error: f64, tolerance: f64) -> Self {
        Measurement { arithmetic, quantity: quantity.into(), error, tolerance, holds: error <= tolerance }
    }
    /// An exact equality: holds iff the two sides are identical.
    pub fn exact(quantity: impl Into<String>, equal: bool, error: f64) -> Self {
        Measurement { arithmetic: Arithmetic::Exact, quantity: quantity.into(), error, tolerance: 0.0, holds: equal }
    }
}

/// The result of one random case.
#[derive(Clone, Debug, Default)]
pub struct CaseResult {
    /// Every compared quantity.
    pub measurements: Vec<Measurement>,
    /// The instance, as `docs/theory/instances.md` JSON, when the case has one (printed on failure so it
    /// can be replayed with `icrl check`).
    pub instance: Option<serde_json::Value>,
    /// The shape of the free grid prompt checked exactly in this case (`d`, `n`, depth,
    /// construction constants): the Schwartz–Zippel certificate is per shape, because only
    /// draws of the same polynomial identity compound.
    pub sz_shape: Option<String>,
}

/// A registry entry.
#[derive(Clone, Copy)]
pub struct TheoremSpec {
    /// Stable id (`sarsa-equivalence`).
    pub id: &'static str,
    /// The statement, one or two sentences, as `icrl list` prints it.
    pub statement: &'static str,
    /// Provenance label.
    pub provenance: Provenance,
    /// Paper, theorem number and arXiv id.
    pub source: &'static str,
    /// Named hypotheses.
    pub assumptions: &'static [Assumption],
    /// For polynomial identities checked exactly on grid draws: the degree used in the
    /// Schwartz–Zippel bound reported by `verify`.
    pub sz_degree: Option<u32>,
    /// Cases `verify` runs by default.
    pub default_cases: u64,
    /// The `proofs/` page.
    pub proof_page: &'static str,
    /// Check one random case drawn from `rng`.
    pub check: fn(&mut Rng, &CheckCtx) -> CaseResult,
}

impl std::fmt::Debug for TheoremSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TheoremSpec").field("id", &self.id).finish()
    }
}

/// Every theorem, in catalogue order.
pub fn registry() -> Vec<TheoremSpec> {
    let mut v = Vec::new();
    // Each family appends its specs; keep one line per family (merge-friendly).
    v.extend(crate::theorem::linear_td::specs());
    v.extend(crate::theorem::sarsa::specs());
    v.extend(crate::theorem::actor_critic::specs());
    v.extend(crate::theorem::softmax_td::specs());
    v.extend(crate::theorem::contraction::specs());
    v.extend(crate::theorem::dynamics::specs());
    v
}

/// Look a theorem up by id.
pub fn find(id: &str) -> Option<TheoremSpec> {
    registry().into_iter().find(|t| t.id == id)
}

pub mod actor_critic;
pub mod bench;
pub mod common;
pub mod contraction;
pub mod dynamics;
pub mod linear_td;
pub mod sarsa;
pub mod softmax_td;

/// One entry of `icrl check --json` (`docs/theory/instances.md`).
#[derive(Clone, Debug, Serialize)]
pub struct InstanceResult {
    /// Theorem id, as in `icrl list`.
    pub theorem: String,
    /// `exact` or `f64`.
    pub arithmetic: Arithmetic,
    /// Whether the claim holds on this instance.
    pub holds: bool,
    /// `max |transformer - reference|` (rounded to `f64` once for exact results).
    pub max_abs_error: f64,
    /// The transformer side's output, flat.
    pub transformer: Vec<f64>,
    /// The reference side's output, flat.
    pub reference: Vec<f64>,
}

/// Run every theorem that applies to the instance's family.
pub fn check_instance(inst: &crate::instance::Instance) -> Result<Vec<InstanceResult>, crate::error::InputError> {
    match inst.family.as_str() {
        "linear-td" => linear_td::check_instance(inst),
        "sarsa" => sarsa::check_instance(inst),
        "actor-critic" => actor_critic::check_instance(inst),
        "softmax-td" => softmax_td::check_instance(inst),
        other => {
            Err(crate::error::InputError::new("family", format!("`icrl check` does not support family {other:?} yet")))
        }
    }
}
