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
    /// The prime field `F_p` of the run (`scalar::modular::Fr`): a Schwartz–Zippel draw at a
    /// listed shape ([`FieldTier`]), compared exactly.
    Field,
}

impl Arithmetic {
    /// `"exact"`, `"f64"` or `"field"`.
    pub fn name(self) -> &'static str {
        match self {
            Arithmetic::Exact => "exact",
            Arithmetic::F64 => "f64",
            Arithmetic::Field => "field",
        }
    }
    /// Every arithmetic, in row order.
    pub const ALL: [Arithmetic; 3] = [Arithmetic::Exact, Arithmetic::F64, Arithmetic::Field];
}

/// What kind of claim a check compares, and so what its `error` and `tolerance` mean
/// (the `kind` column of `icrl verify` and `icrl list`).
///
/// A theorem whose check mixes kinds (an identity beside the bound it implies, a conservation
/// law beside a fitted slope) is registered with the kind of its headline claim; its doc in the
/// registry says which measurement that is. Each [`Measurement`] carries its own kind, set by
/// its constructor, and `tests/all/registry.rs` checks that the registry's kind is among the
/// kinds a theorem's measurements have (and is that kind when there is only one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// Two sides are equal: error = max |difference| (relative where the quantity says so);
    /// tolerance = 0 in exact arithmetic, else the `f64` rounding-error bound.
    Equality,
    /// An inequality holds: error = the violated margin (`excess`, 0 when it holds);
    /// tolerance = the slack allowed (rounding of the comparison).
    Bound,
    /// A fitted rate, slope or factor has its claimed value or range: error = its deviation
    /// from the claimed one (`distance outside`, `excess`); tolerance = the slack of the fit.
    Rate,
}

impl CheckKind {
    /// Every kind, in legend order.
    pub const ALL: [CheckKind; 3] = [CheckKind::Equality, CheckKind::Bound, CheckKind::Rate];

    /// `"equality"`, `"bound"` or `"rate"`.
    pub fn name(self) -> &'static str {
        match self {
            CheckKind::Equality => "equality",
            CheckKind::Bound => "bound",
            CheckKind::Rate => "rate",
        }
    }

    /// What `error` and `tolerance` are for a row of this kind (the legend under the tables).
    pub fn legend(self) -> &'static str {
        match self {
            CheckKind::Equality => {
                "error = max |transformer − reference| (relative where the quantity says so); tolerance = its rounding-error bound, 0 in exact arithmetic"
            }
            CheckKind::Bound => {
                "error = how far the measured side exceeds the bound (quantities marked `excess`; 0 when it holds); tolerance = the slack allowed, the rounding of the comparison"
            }
            CheckKind::Rate => {
                "error = how far a fitted rate, slope or factor lies from the claimed one or outside its accepted range (`distance outside` / `excess`); tolerance = the slack of the fit"
            }
        }
    }
}

/// Which arithmetics `verify` runs (`--arith exact|f64|field|all`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithFilter {
    /// Every arithmetic: exact, `f64` and field (`--arith all`, the default; the name is kept
    /// from when there were two).
    Both,
    /// Exact only (`--arith exact`, `--exact`).
    ExactOnly,
    /// `f64` only (`--arith f64`, `--f64`).
    F64Only,
    /// The prime-field certificates only (`--arith field`).
    FieldOnly,
}

impl ArithFilter {
    /// Whether measurements in `a` should be computed.
    pub fn wants(self, a: Arithmetic) -> bool {
        match self {
            ArithFilter::Both => true,
            ArithFilter::ExactOnly => a == Arithmetic::Exact,
            ArithFilter::F64Only => a == Arithmetic::F64,
            ArithFilter::FieldOnly => a == Arithmetic::Field,
        }
    }
    /// `all`, `exact`, `f64` or `field`, as `--arith` spells it.
    pub fn name(self) -> &'static str {
        match self {
            ArithFilter::Both => "all",
            ArithFilter::ExactOnly => "exact",
            ArithFilter::F64Only => "f64",
            ArithFilter::FieldOnly => "field",
        }
    }
    /// Parse a `--arith` value.
    pub fn parse(text: &str) -> Option<ArithFilter> {
        [ArithFilter::Both, ArithFilter::ExactOnly, ArithFilter::F64Only, ArithFilter::FieldOnly]
            .into_iter()
            .find(|a| a.name() == text)
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
    /// The case index `k` (the field tier's shape is a function of it, [`FieldTier::shape_of`]).
    pub case: u64,
    /// The prime of the field tier (`verify`: drawn from the seed, `scalar::modular::run_prime`).
    pub field: crate::scalar::modular::Modulus,
}

impl Default for CheckCtx {
    fn default() -> Self {
        CheckCtx {
            arith: ArithFilter::Both,
            sabotage: false,
            want_instance: false,
            sides: Sides::default(),
            case: 0,
            field: crate::scalar::modular::Modulus::DEFAULT,
        }
    }
}

/// One listed shape of a field tier: sizes and the construction constant `c` (fixed numbers;
/// every other entry is a free variable drawn uniformly from `F_p`). Unused sizes are 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldShape {
    /// `d`.
    pub d: usize,
    /// `d_π` (actor-critic), else 0.
    pub dp: usize,
    /// `n`.
    pub n: usize,
    /// Depth `L` (stacked blocks or layers), 0 for one block.
    pub layers: usize,
    /// The scaling `c = num/den` of the SARSA block form, `(0, 0)` when there is none.
    pub c: (i64, i64),
}

impl FieldShape {
    /// `d=36 n=64 L=40` (only the sizes the theorem has; `c=num/den` when it has one): the
    /// key the draws are counted under.
    pub fn label(&self) -> String {
        let mut s = format!("d={}", self.d);
        if self.dp > 0 {
            s.push_str(&format!(" dπ={}", self.dp));
        }
        s.push_str(&format!(" n={}", self.n));
        if self.layers > 0 {
            s.push_str(&format!(" L={}", self.layers));
        }
        if self.c != (0, 0) {
            s.push_str(&format!(" c={}/{}", self.c.0, self.c.1));
        }
        s
    }
}

/// The degree and height of a field certificate's difference `TF − REF` at one shape, computed
/// by running the check's own generic code on `scalar::height::Height` (every free entry a
/// variable): the inputs of the two-term bound (`proofs/README.md`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShapeBound {
    /// Total degree bound.
    pub deg: u32,
    /// Upper bound on `log₂ H` (largest coefficient of the cleared difference).
    #[serde(with = "crate::scalar::exact_f64")]
    pub log2_h: f64,
}

/// A theorem's prime-field certificates (`verify --arith field`): the listed shapes — the one
/// list of what the field rows certify — and how many draws each gets.
#[derive(Clone, Copy, Debug)]
pub struct FieldTier {
    /// The listed shapes, in order.
    pub shapes: fn() -> Vec<FieldShape>,
    /// Draws per shape (cases `0 … draws·|shapes| − 1` carry a field draw).
    pub draws: u64,
    /// The degree and height at a shape (`sabotage`: of the sabotaged construction).
    pub bound: fn(&FieldShape, bool) -> ShapeBound,
}

impl FieldTier {
    /// The shape case `k` draws: `shapes[k mod |shapes|]` for `k < draws·|shapes|`, else none
    /// (a function of `k` only, so shards need nothing else).
    pub fn shape_of(&self, k: u64) -> Option<FieldShape> {
        let s = (self.shapes)();
        let m = s.len() as u64;
        (m > 0 && k < m * self.draws).then(|| s[(k % m) as usize])
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
    /// The kind of comparison (set by the constructor; what `error` and `tolerance` mean).
    pub kind: CheckKind,
    /// A negative control (a wrong variant that must be rejected), not a claim: it has no kind
    /// of its own for the registry's consistency test.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub control: bool,
    /// For a prime-field draw: the listed shape it was drawn at ([`FieldShape::label`]); the
    /// field row counts draws per shape from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_shape: Option<String>,
}

impl Measurement {
    fn new(kind: CheckKind, arithmetic: Arithmetic, quantity: impl Into<String>, error: f64, tolerance: f64) -> Self {
        Measurement {
            arithmetic,
            quantity: quantity.into(),
            error,
            tolerance,
            holds: error <= tolerance,
            kind,
            control: false,
            field_shape: None,
        }
    }
    /// An equality measurement (error = max |difference|): holds iff `error <= tolerance`
    /// (NaN fails).
    pub fn equality(arithmetic: Arithmetic, quantity: impl Into<String>, error: f64, tolerance: f64) -> Self {
        Measurement::new(CheckKind::Equality, arithmetic, quantity, error, tolerance)
    }
    /// A prime-field equality: holds iff the two sides are identical in `F_p` (error 0, or 1
    /// when some entry differs: field elements have no magnitude).
    pub fn field(quantity: impl Into<String>, equal: bool) -> Self {
        Measurement {
            holds: equal,
            ..Measurement::new(CheckKind::Equality, Arithmetic::Field, quantity, if equal { 0.0 } else { 1.0 }, 0.0)
        }
    }
    /// [`Measurement::field`] of a certificate draw at a listed shape.
    pub fn field_at(quantity: impl Into<String>, equal: bool, shape: &FieldShape) -> Self {
        Measurement { field_shape: Some(shape.label()), ..Measurement::field(quantity, equal) }
    }
    /// An exact equality: holds iff the two sides are identical.
    pub fn exact(quantity: impl Into<String>, equal: bool, error: f64) -> Self {
        Measurement { holds: equal, ..Measurement::new(CheckKind::Equality, Arithmetic::Exact, quantity, error, 0.0) }
    }
    /// A bound: `excess` is how far the measured side exceeds the bound (0 when it holds);
    /// holds iff `excess <= tolerance` (NaN fails).
    pub fn bound(arithmetic: Arithmetic, quantity: impl Into<String>, excess: f64, tolerance: f64) -> Self {
        Measurement::new(CheckKind::Bound, arithmetic, quantity, excess, tolerance)
    }
    /// A rate: `deviation` is how far a fitted rate, slope or factor lies from the claimed one
    /// (or outside its accepted range); holds iff `deviation <= tolerance` (NaN fails).
    pub fn rate(arithmetic: Arithmetic, quantity: impl Into<String>, deviation: f64, tolerance: f64) -> Self {
        Measurement::new(CheckKind::Rate, arithmetic, quantity, deviation, tolerance)
    }
    /// A negative control in `f64`: holds iff the wrong variant was rejected (error 0 when it
    /// holds, 1 when not; tolerance 0), so `verify`'s error column stays about the claims.
    pub fn negative_control(quantity: impl Into<String>, rejected: bool) -> Self {
        Measurement {
            holds: rejected,
            control: true,
            ..Measurement::new(CheckKind::Equality, Arithmetic::F64, quantity, if rejected { 0.0 } else { 1.0 }, 0.0)
        }
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
    /// The kind of the headline claim: what `error` and `tolerance` of its `verify` rows mean.
    ///
    /// Where a check mixes kinds, the headline is the claim the theorem is named for:
    /// `contraction-pathwise` is a bound (the recursion and unrolled bounds; the error-recursion
    /// identity beside them is an equality); `contraction-decay` a rate (the fitted decay factor
    /// against `1 - C_5.1` and the floor's slope; the every-layer bound beside them);
    /// `contraction-decay-rate` a bound (`‖v_L - v_∞‖ ≤ ρ̂^L ‖v_0 - v_∞‖` at every layer and the
    /// bound on `ρ̂`; tightness is an equality and the consistency of `M̂_n` a slope);
    /// `sarsa-richness` an equality (rank and kernel of `G⋆`; the eigenvalue threshold is a
    /// bound); `sarsa-local-convergence` a bound (the loss reaches its target, never increases;
    /// the limit on the manifold is an equality); `sarsa-local-convergence-rate` a rate (the
    /// slope of `log L`; conservation, `c∞` and `G` = Hessian are equalities);
    /// `softmax-td-tabular-limit` a rate (`e^-β`; the one-hot diagonal and the value-iteration
    /// limit are equalities).
    pub kind: CheckKind,
    /// Paper, theorem number and arXiv id.
    pub source: &'static str,
    /// Named hypotheses.
    pub assumptions: &'static [Assumption],
    /// For polynomial identities checked exactly on grid draws: the degree used in the
    /// Schwartz–Zippel bound reported by `verify`.
    pub sz_degree: Option<u32>,
    /// The prime-field certificates, for polynomial identities.
    pub field: Option<&'static FieldTier>,
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
    Ok((f, crate::search::SearchArgs { theorem: theorem.to_string(), relax: ids, budget, seed, slice: None }))
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
