//! The theorem registry that `icrl list`, `icrl verify`, `icrl check` and `icrl search` read.
//!
//! One file per theorem family; each exports its [`TheoremSpec`]s. A spec carries the statement,
//! its provenance label ([Q]/[D]/[R], `docs/theory/README.md`), the source (paper and arXiv id), the
//! named [`Assumption`]s (the same values the generators enforce and `search --relax` drops),
//! and the check of one random case.

pub use crate::assumption::AssumptionId;
use crate::error::InputError;
use crate::instance::Instance;
use crate::mdp::batch::Pairing;
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
    /// Which hypothesis (its kebab-case name is `id.name()`: `query-mask`, `p22-zero`, …).
    pub id: AssumptionId,
    /// What it requires, one sentence.
    pub statement: &'static str,
    /// The counterexample search for this relaxation, if one is implemented.
    pub search: Option<crate::search::SearchFn>,
    /// Re-measures a saved counterexample of this relaxation (the fixture test calls it).
    pub replay: Option<crate::search::ReplayFn>,
}

/// A machine-checked proof of a statement in `proofs/coq/` (Coq/MathComp, for every dimension;
/// `proofs/coq/All.v` prints its assumptions, which must be closed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Formal {
    /// Proved: the file under `proofs/coq/` and the main lemma.
    Proved(&'static str, &'static str),
    /// Part of the statement is proved (file, lemma); what is not.
    Partial(&'static str, &'static str, &'static str),
    /// Not formalized, and why.
    None(&'static str),
}

impl Formal {
    /// `proofs/coq/FILE.v:LEMMA`, `partial: proofs/coq/FILE.v:LEMMA (what is missing)` or
    /// `none: why`, as `icrl list` prints it.
    pub fn describe(&self) -> String {
        match self {
            Formal::Proved(f, l) => format!("proofs/coq/{f}:{l}"),
            Formal::Partial(f, l, missing) => format!("partial: proofs/coq/{f}:{l} ({missing})"),
            Formal::None(why) => format!("none: {why}"),
        }
    }
    /// The file and lemma, when there is one.
    pub fn lemma(&self) -> Option<(&'static str, &'static str)> {
        match *self {
            Formal::Proved(f, l) | Formal::Partial(f, l, _) => Some((f, l)),
            Formal::None(_) => None,
        }
    }
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
    /// How each side pairs a transition with its next pair (the real readings by default;
    /// the mutation tests substitute one side's to show `verify` catches it).
    pub sides: Sides,
}

impl Default for CheckCtx {
    fn default() -> Self {
        CheckCtx { arith: ArithFilter::Both, sabotage: false, want_instance: false, sides: Sides::default() }
    }
}

/// The two independent readings of the raw trajectory: the transformer side's
/// (`attention::prompt::next_pair`, used to build the prompt) and the reference side's
/// (`rl::pairing::next_pair`, used by the RL update). Neither reads the other's batch.
#[derive(Clone, Copy, Debug)]
pub struct Sides {
    /// Pairing the prompt builder uses.
    pub prompt_pairing: Pairing,
    /// Pairing the reference update uses.
    pub reference_pairing: Pairing,
}

impl Default for Sides {
    fn default() -> Self {
        Sides { prompt_pairing: crate::attention::prompt::next_pair, reference_pairing: crate::rl::pairing::next_pair }
    }
}

/// A family of instances (`"family"` in the instance JSON): the `params` keys it reads, the
/// pairs of keys that exclude each other, and the layout of its `weights`.
#[derive(Debug)]
pub struct Family {
    /// `sarsa`, `actor-critic`, `linear-td`, `softmax-td`.
    pub name: &'static str,
    /// Every key `params` may have.
    pub params: &'static [&'static str],
    /// Pairs of `params` keys that must not be given together.
    pub conflicts: &'static [(&'static str, &'static str)],
    /// One line on the `weights` layout (README and `icrl list`).
    pub weights: &'static str,
}

/// Resource limits of `icrl check` (estimated before running, `crate::theorem::cost`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest estimated work (scalar multiply-adds, `f64`) a check may run.
    pub max_work: f64,
    /// Largest estimated working memory in bytes.
    pub max_memory: f64,
    /// Largest estimated exact work (multiply-adds weighted by operand bits); beyond it the
    /// exact check is skipped and the output says so (the `f64` check still runs).
    pub max_exact_work: f64,
}

impl Default for Limits {
    /// About 10 s and well under 2 GB on one core: `2e9` multiply-adds (≈ 1–4 s measured in
    /// `icrl bench`), `1 GB`, and `2e9` bit-weighted exact operations.
    fn default() -> Self {
        Limits { max_work: 2e9, max_memory: 1e9, max_exact_work: 2e9 }
    }
}

/// One theorem's check of a user instance (`icrl check`): the same body `verify` runs on its
/// random cases, fed the instance and its weights (given, or the construction from `params`).
/// `Ok(None)` when the theorem does not apply to this instance (e.g. `sarsa-stacking` on one
/// layer).
pub type InstanceRun = fn(&Instance, &Limits) -> Result<Option<InstanceOutcome>, InputError>;

/// What one theorem's instance check produced.
#[derive(Clone, Debug, Default)]
pub struct InstanceOutcome {
    /// One entry per arithmetic that ran.
    pub results: Vec<InstanceResult>,
    /// Arithmetics skipped by the limits, and why.
    pub skipped: Vec<Skipped>,
}

/// How a theorem reads user instances.
#[derive(Clone, Copy, Debug)]
pub struct InstanceCheck {
    /// The family it reads.
    pub family: &'static Family,
    /// The run.
    pub run: InstanceRun,
    /// Whether the body takes `weights` (so that a sabotaged `verify` prints the sabotaged
    /// weights and the replay fails); otherwise it checks the construction only and is skipped
    /// when the instance carries weights.
    pub takes_weights: bool,
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
    /// The machine-checked proof in `proofs/coq/`, or why there is none.
    pub formal: Formal,
    /// Check one random case drawn from `rng`.
    pub check: fn(&mut Rng, &CheckCtx) -> CaseResult,
    /// Its check of user instances, if it has an instance family.
    pub instance: Option<InstanceCheck>,
}

impl std::fmt::Debug for TheoremSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TheoremSpec").field("id", &self.id).finish()
    }
}

/// Registry of replays by `(theorem, relax)`, used by the fixture test and `icrl check`.
/// A combined relaxation `a+b` uses the replay of its first assumption (one search function
/// serves all relaxations of a theorem and reads what was relaxed from the file).
pub fn replay_fn(theorem: &str, relax: &str) -> Option<crate::search::ReplayFn> {
    let t = find(theorem)?;
    let first = *crate::assumption::parse_label(relax).ok()?.first()?;
    t.assumptions.iter().find(|a| a.id == first).and_then(|a| a.replay)
}

/// The budget a search uses when `--budget` is not given: enough for the committed
/// counterexample to be found from seed 0 (the divergence search needs many draws: diverging
/// instances are rare among small MRPs).
pub fn default_budget(theorem: &str, relax: &[AssumptionId]) -> u64 {
    use AssumptionId as A;
    match (theorem, relax) {
        ("contraction-decay", [A::Contraction]) => 30_000,
        ("contraction-decay", [A::Coverage]) => 5_000,
        ("softmax-td-equivalence", _) => 500,
        ("sarsa-equivalence", [A::RecordedNextAction]) => 400,
        _ => 2_000,
    }
}

/// Resolve `icrl search --theorem T --relax A [--relax B] [--budget N] --seed S`: the search
/// function of the relaxed assumptions (one search function serves all relaxations of a theorem
/// and validates the set itself) and its arguments. Errors name `--theorem`, `--relax` or
/// `--budget`.
pub fn search_plan(
    theorem: &str,
    relax: &[String],
    budget: Option<u64>,
    seed: u64,
) -> Result<(crate::search::SearchFn, crate::search::SearchArgs), InputError> {
    let t = find(theorem).ok_or_else(|| {
        InputError::new("--theorem", format!("unknown theorem {theorem:?}; `icrl list` shows the ids"))
    })?;
    let names = || t.assumptions.iter().map(|x| x.id.name()).collect::<Vec<_>>().join(", ");
    let mut f = None;
    let mut ids = Vec::new();
    for r in relax {
        let asm = t.assumptions.iter().find(|x| x.id.name() == r).ok_or_else(|| {
            InputError::new("--relax", format!("{} has no assumption {r:?}; it has: {}", t.id, names()))
        })?;
        let g = asm
            .search
            .ok_or_else(|| InputError::new("--relax", format!("no search is implemented for relaxing {r:?}")))?;
        f = f.or(Some(g));
        ids.push(asm.id);
    }
    let f = f.ok_or_else(|| InputError::new("--relax", "name at least one assumption"))?;
    let budget = budget.unwrap_or_else(|| default_budget(theorem, &ids));
    if budget == 0 {
        return Err(InputError::new("--budget", "must be at least 1"));
    }
    Ok((f, crate::search::SearchArgs { theorem: theorem.to_string(), relax: ids, budget, seed }))
}

/// Every theorem, in catalogue order.
pub fn registry() -> Vec<TheoremSpec> {
    let mut v = Vec::new();
    // Each family appends its specs; keep one line per family (merge-friendly).
    v.extend(crate::theorem::linear_td::specs());
    v.extend(crate::theorem::average_reward::specs());
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
pub mod average_reward;
pub mod bench;
pub mod common;
pub mod contraction;
pub mod dynamics;
pub mod linear_td;
pub mod relax;
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
    /// The first output entry where the two sides differ (beyond the tolerance), named as the
    /// output is (e.g. `w'[1]`), with both values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_mismatch: Option<String>,
    /// Whether the check used the instance's `weights` (else the construction from `params`).
    pub weights: bool,
}

/// A skipped check (exact arithmetic beyond the limits), said in the output.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// Theorem id.
    pub theorem: String,
    /// Arithmetic skipped.
    pub arithmetic: Arithmetic,
    /// Why.
    pub reason: String,
}

/// Everything `icrl check` reports on one instance.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// The family.
    pub family: String,
    /// One entry per theorem and arithmetic that ran.
    pub results: Vec<InstanceResult>,
    /// What the parser adjusted (renormalized rows, float32 rewards).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Checks not run, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
}

impl CheckReport {
    /// Whether every check that ran holds.
    pub fn holds(&self) -> bool {
        self.results.iter().all(|r| r.holds)
    }
}

/// The path and magnitude of the largest finite number in an instance (the `counterexample`
/// provenance block excluded): what an `f64` overflow is blamed on.
fn largest_number(v: &serde_json::Value, path: &str) -> (String, f64) {
    use serde_json::Value;
    match v {
        Value::Number(n) => (path.to_string(), n.as_f64().map(f64::abs).filter(|x| x.is_finite()).unwrap_or(0.0)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| largest_number(x, &format!("{path}[{i}]")))
            .fold((String::new(), -1.0), |m, c| if c.1 > m.1 { c } else { m }),
        Value::Object(o) => o
            .iter()
            .filter(|(k, _)| k.as_str() != "counterexample")
            .map(|(k, x)| largest_number(x, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") }))
            .fold((String::new(), -1.0), |m, c| if c.1 > m.1 { c } else { m }),
        _ => (String::new(), -1.0),
    }
}

/// Every instance family, in catalogue order (read off the registry: one place).
pub fn families() -> Vec<&'static Family> {
    let mut v: Vec<&'static Family> = Vec::new();
    for t in registry() {
        if let Some(ic) = t.instance {
            if !v.iter().any(|f| f.name == ic.family.name) {
                v.push(ic.family);
            }
        }
    }
    v
}

/// The family an instance names, or an input error with a did-you-mean.
pub fn family_of(inst: &Instance) -> Result<&'static Family, InputError> {
    let fams = families();
    fams.iter().find(|f| f.name == inst.family).copied().ok_or_else(|| {
        let names: Vec<&str> = fams.iter().map(|f| f.name).collect();
        InputError::new(
            "family",
            format!("unknown family {:?}{}", inst.family, crate::instance::did_you_mean(&inst.family, &names)),
        )
    })
}

/// Check `params` against the family: unknown keys (with a did-you-mean) and conflicting pairs.
/// A counterexample fixture may carry extra keys its replay reads.
pub fn validate_params(inst: &Instance, fam: &Family) -> Result<(), InputError> {
    if !inst.is_fixture() {
        crate::instance::check_keys(&inst.params.0, "params", fam.params)?;
    }
    for (a, b) in fam.conflicts {
        if inst.params.has(a) && inst.params.has(b) {
            return Err(InputError::new(format!("params.{b}"), format!("give either {a} or {b}, not both")));
        }
    }
    Ok(())
}

/// Run every theorem of the instance's family at the default [`Limits`].
pub fn check_instance(inst: &Instance) -> Result<Vec<InstanceResult>, InputError> {
    Ok(check_instance_with(inst, &Limits::default())?.results)
}

/// Run every theorem of the instance's family through the registry: each theorem's
/// [`InstanceCheck`] (its `verify` body fed this instance).
pub fn check_instance_with(inst: &Instance, limits: &Limits) -> Result<CheckReport, InputError> {
    let fam = family_of(inst)?;
    validate_params(inst, fam)?;
    let mut results = Vec::new();
    let mut skipped = Vec::new();
    for t in registry() {
        let Some(ic) = t.instance else { continue };
        if ic.family.name != fam.name || (inst.weights.is_some() && !ic.takes_weights) {
            continue;
        }
        if let Some(o) = (ic.run)(inst, limits)? {
            results.extend(o.results);
            skipped.extend(o.skipped);
        }
    }
    if results.is_empty() {
        return Err(InputError::new("params", format!("no theorem of family {} applies to this instance", fam.name)));
    }
    // An `f64` side that overflowed (inf/NaN outputs) says nothing about the theorem: refuse the
    // input (exit 2) naming its largest number, never report a failed claim. Where the exact
    // check of the same theorem ran and failed, the failure stands (exact arithmetic decides).
    let exact_failed =
        |th: &str| results.iter().any(|e| e.arithmetic == Arithmetic::Exact && e.theorem == th && !e.holds);
    if let Some(r) = results.iter().find(|r| {
        r.arithmetic == Arithmetic::F64
            && (!r.max_abs_error.is_finite() || r.transformer.iter().chain(&r.reference).any(|x| !x.is_finite()))
            && !exact_failed(&r.theorem)
    }) {
        let (field, x) = largest_number(&inst.raw, "");
        return Err(InputError::new(
            if field.is_empty() { "instance".to_string() } else { field },
            format!(
                "{}: the f64 computation overflows (largest input magnitude {x:e}); rescale the instance",
                r.theorem
            ),
        ));
    }
    Ok(CheckReport { family: fam.name.to_string(), results, notes: inst.notes.clone(), skipped })
}
