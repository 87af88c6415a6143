//! `icrl verify`: run every selected theorem on random cases, in parallel, deterministically.
//!
//! Case `k` of theorem `id` under seed `s` draws everything from `case_rng(s, id, k)`, so the
//! verdicts, errors and the first failing case do not depend on the number of threads or on
//! scheduling: results are collected in case order and reduced sequentially.
//!
//! **Shards.** `verify --shard K/N` runs the cases `k` of theorem `id` with
//! [`Shard::owns`]`(id, k)`: `(k + h(id)) mod N = K`, `h` the FNV-1a hash of the id. Within one
//! theorem this is round robin, so every shard gets `⌊n/N⌋` or `⌈n/N⌉` of its cases; the offset
//! `h(id)` rotates where each theorem starts, so that the few expensive cases of the small rate
//! theorems (6 to 32 cases each) do not all land on shards `0…5`. The assignment depends only on
//! `(id, k, N)`, not on which other theorems run. A case draws from `case_rng(seed, id, k)` in
//! any shard, so its result is the one the unsharded run computes, and each row's running state
//! ([`RowAcc`]) is combined by `crate::merge` into exactly the unsharded row.

use crate::rng::case_rng;
use crate::scalar::grid;
use crate::theorem::{
    ArithFilter, Arithmetic, CaseResult, CheckCtx, CheckKind, FieldShape, Measurement, ShapeBound, TheoremSpec,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Options of one `verify` run.
#[derive(Clone, Debug)]
pub struct VerifyConfig {
    /// Cases per theorem (`None`: each theorem's default).
    pub cases: Option<u64>,
    /// Base seed.
    pub seed: u64,
    /// Arithmetics to run.
    pub arith: ArithFilter,
    /// Harness negative control: perturb every construction (the run must fail).
    pub sabotage: bool,
    /// Run only this case index (replay).
    pub only_case: Option<u64>,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// The two sides' trajectory readings (the real ones; the mutation tests substitute one).
    pub sides: crate::theorem::Sides,
}

/// One row of the summary: one theorem in one arithmetic.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Theorem id.
    pub theorem: String,
    /// `[Q]`, `[D]` or `[R]`.
    pub provenance: String,
    /// `equality`, `bound` or `rate`: the kind of the headline claim (what `error` and
    /// `tolerance` mean, [`CheckKind::legend`]).
    pub kind: CheckKind,
    /// `exact` or `f64`.
    pub arithmetic: Arithmetic,
    /// Cases run.
    pub cases: u64,
    /// Measurements compared.
    pub measurements: u64,
    /// Largest error seen.
    pub max_error: f64,
    /// The error of the measurement closest to (or furthest past) its tolerance.
    pub worst_error: f64,
    /// That measurement's tolerance.
    pub tolerance: f64,
    /// That measurement's kind (differs from `kind` only for a theorem whose check mixes
    /// kinds, e.g. the tightness equality beside the bounds of `contraction-decay-rate`).
    pub worst_kind: CheckKind,
    /// Cases in which some measurement failed.
    pub failed_cases: u64,
    /// `true` iff no case failed.
    pub holds: bool,
    /// First failing case index (replay with `--case`).
    pub first_failure: Option<u64>,
    /// What failed first.
    pub first_failure_quantity: Option<String>,
    /// `log10` of the Schwartz–Zippel bound on the probability that a false polynomial
    /// identity survives all exact draws (exact rows of polynomial identities only).
    pub sz_log10_bound: Option<f64>,
    /// Degree used in that bound.
    pub sz_degree: Option<u32>,
    /// Distinct grid-prompt shapes drawn (the bound holds for each of them).
    pub sz_shapes: Option<u64>,
    /// Fewest grid draws of any one shape.
    pub sz_min_draws: Option<u64>,
    /// Field rows: the run's prime `p` (drawn from the seed, uniform over the primes in
    /// `(2^61, 2^62)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_prime: Option<u64>,
    /// Field rows: the largest size of each kind over the shapes drawn (`d≤36 n≤64 L≤40`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sz_range: Option<String>,
    /// Field rows: every shape drawn, with its draws, degree, height and bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_shapes: Option<Vec<ShapeCert>>,
}

/// The certificate of one listed shape of a field row: `P(a false identity passes every draw of
/// this shape) ≤ term1 + 10^log10_term2`, `term1 = ⌊log₂ H / 61⌋ / N` over the uniform prime
/// (`N ≥ 2^55.1` primes in `(2^61, 2^62)`; 0 when `H < 2^61`), `term2 = (deg/p)^draws`
/// (`proofs/README.md`, "Certificates over a prime field").
#[derive(Clone, Debug, Serialize)]
pub struct ShapeCert {
    /// The shape's label (`d=36 n=64 L=40`).
    pub shape: String,
    /// Draws of this shape.
    pub draws: u64,
    /// Degree bound of the difference, computed on the weights used (`scalar::height`).
    pub deg: u32,
    /// Upper bound on `log₂ H`; `null` when the computed difference is the zero polynomial
    /// (term 1 is then 0) or when no bound could be computed (term 1 is then 1).
    pub log2_height: Option<f64>,
    /// Term 1: the probability that the prime divides every coefficient of a nonzero difference.
    pub term1: f64,
    /// `log10` of term 2, `(deg/p)^draws`.
    pub log10_term2: f64,
    /// `log10` of the bound `term1 + term2`, rounded up to the next integer in the table.
    pub log10_bound: f64,
}

impl ShapeCert {
    /// The certificate of a shape drawn `draws` times over `F_p` with this bound.
    pub fn new(shape: &str, draws: u64, b: Option<&ShapeBound>, p: u64) -> ShapeCert {
        let (deg, log2_h) = b.map_or((u32::MAX, f64::INFINITY), |b| (b.deg, b.log2_h));
        let log10_term2 = draws as f64 * ((deg.max(1) as f64).log10() - (p as f64).log10());
        let term1 = if log2_h < 61.0 {
            0.0
        } else if log2_h.is_finite() {
            (log2_h / 61.0).floor() * 2f64.powf(-crate::scalar::modular::log2_prime_count_lower())
        } else {
            1.0
        };
        let log10_bound = if term1 == 0.0 {
            log10_term2
        } else {
            let a = term1.log10();
            let (hi, lo) = if a > log10_term2 { (a, log10_term2) } else { (log10_term2, a) };
            hi + (1.0 + 10f64.powf(lo - hi)).log10()
        };
        ShapeCert {
            shape: shape.to_string(),
            draws,
            deg,
            log2_height: log2_h.is_finite().then_some(log2_h),
            term1,
            log10_term2,
            log10_bound: log10_bound.min(0.0),
        }
    }
}

/// `d≤36 n≤64 L≤40`: the largest value of each `key=integer` token over the labels, in the
/// order the keys first appear.
fn shape_range<'a>(labels: impl Iterator<Item = &'a String>) -> String {
    let mut keys: Vec<(String, u64)> = Vec::new();
    for l in labels {
        for tok in l.split(' ') {
            if let Some((k, v)) = tok.split_once('=') {
                if let Ok(v) = v.parse::<u64>() {
                    match keys.iter_mut().find(|(kk, _)| kk == k) {
                        Some(e) => e.1 = e.1.max(v),
                        None => keys.push((k.to_string(), v)),
                    }
                }
            }
        }
    }
    keys.iter().map(|(k, v)| format!("{k}≤{v}")).collect::<Vec<_>>().join(" ")
}

/// A failing case, with what is needed to replay it.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// Theorem id.
    pub theorem: String,
    /// Seed of the run.
    pub seed: u64,
    /// Case index.
    pub case: u64,
    /// The failing measurement.
    pub measurement: Measurement,
    /// The command that replays it.
    pub replay: String,
    /// What to suspect (from the provenance label).
    pub suspect: String,
    /// The instance JSON, when the theorem has one.
    pub instance: Option<serde_json::Value>,
}

/// The result of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Seed used.
    pub seed: u64,
    /// One row per theorem × arithmetic.
    pub rows: Vec<Row>,
    /// First failure of each failing theorem.
    pub failures: Vec<Failure>,
}

impl Report {
    /// `true` iff every row holds.
    pub fn all_hold(&self) -> bool {
        self.rows.iter().all(|r| r.holds)
    }
}

/// Run the checks.
pub fn run(theorems: &[TheoremSpec], cfg: &VerifyConfig) -> Report {
    run_shard(theorems, cfg, None).0
}

/// Slice `K` of `N` of a run (`--shard K/N`): case `k` of theorem `id` belongs to shard
/// `(k + tag_hash(id)) mod N` (see the module doc for why).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// `K`, in `0..count`.
    pub index: u64,
    /// `N ≥ 1`.
    pub count: u64,
}

impl Shard {
    /// Parse `K/N` strictly: decimal digits only (no sign, space or leading zero), `N ≥ 1`,
    /// `K < N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (k, n) = text.split_once('/').ok_or_else(|| format!("{text:?} is not K/N (e.g. 0/16)"))?;
        let num = |part: &str, what: &str| -> Result<u64, String> {
            let canonical =
                !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) && (part == "0" || !part.starts_with('0'));
            if !canonical {
                return Err(format!(
                    "{what} {part:?} in {text:?} is not a decimal integer without sign or leading zeros"
                ));
            }
            part.parse::<u64>().map_err(|_| format!("{what} {part:?} in {text:?} is too large"))
        };
        let (index, count) = (num(k, "K")?, num(n, "N")?);
        if count == 0 {
            return Err(format!("N must be at least 1 in {text:?}"));
        }
        if index >= count {
            return Err(format!("K must be below N in {text:?} (shards are numbered 0 to N-1)"));
        }
        Ok(Shard { index, count })
    }

    /// Whether case `k` of theorem `id` is this shard's.
    pub fn owns(&self, id: &str, k: u64) -> bool {
        (k % self.count + crate::rng::tag_hash(id) % self.count) % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Run the checks of one shard (all cases when `shard` is `None`): the report of those cases
/// and, per theorem, the running state a merge needs.
pub fn run_shard(theorems: &[TheoremSpec], cfg: &VerifyConfig, shard: Option<Shard>) -> (Report, Vec<TheoremAcc>) {
    let indices_of = |t: &TheoremSpec| -> Vec<u64> {
        match cfg.only_case {
            Some(k) => vec![k],
            None => (0..cases_of(t, cfg)).filter(|&k| shard.map_or(true, |s| s.owns(t.id, k))).collect(),
        }
    };
    let total: u64 = theorems
        .iter()
        .filter(|t| cfg.arith != ArithFilter::FieldOnly || t.field.is_some())
        .map(|t| indices_of(t).len() as u64)
        .sum();
    let bar = if cfg.progress {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg:28} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let field = crate::scalar::modular::run_prime(cfg.seed);
    let ctx =
        CheckCtx { arith: cfg.arith, sabotage: cfg.sabotage, want_instance: false, sides: cfg.sides, case: 0, field };
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    let mut accs = Vec::new();
    for t in theorems {
        // `--arith field` runs the theorems that have field certificates (the others have none).
        if cfg.arith == ArithFilter::FieldOnly && t.field.is_none() {
            continue;
        }
        bar.set_message(t.id);
        let indices = indices_of(t);
        let results: Vec<(u64, CaseResult)> = indices
            .par_iter()
            .map(|&k| {
                let mut rng = case_rng(cfg.seed, t.id, k);
                let r = (t.check)(&mut rng, &CheckCtx { case: k, ..ctx });
                bar.inc(1);
                (k, r)
            })
            .collect();
        let mut acc = aggregate(t, cfg, &results, field.p());
        if let Some(f) = &mut acc.failure {
            // Re-run the failing case to capture its instance.
            let mut rng = case_rng(cfg.seed, t.id, f.case);
            let ctx2 = CheckCtx { want_instance: true, case: f.case, ..ctx };
            f.instance = (t.check)(&mut rng, &ctx2).instance;
        }
        rows.extend(acc.rows());
        failures.extend(acc.failure.clone());
        accs.push(acc);
    }
    bar.finish_and_clear();
    (Report { seed: cfg.seed, rows, failures }, accs)
}

fn cases_of(t: &TheoremSpec, cfg: &VerifyConfig) -> u64 {
    if cfg.only_case.is_some() {
        1
    } else {
        cfg.cases.unwrap_or(t.default_cases)
    }
}

/// The measurement of a row closest to (or furthest past) its tolerance, with its case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Worst {
    /// Case index.
    pub case: u64,
    /// `error / tolerance` (0 for a holding exact measurement, `∞` for a failing one).
    #[serde(with = "exact_f64")]
    pub ratio: f64,
    /// Its error.
    #[serde(with = "exact_f64")]
    pub error: f64,
    /// Its tolerance.
    #[serde(with = "exact_f64")]
    pub tolerance: f64,
    /// Its kind (the row's `worst_kind`).
    pub kind: CheckKind,
}

impl Worst {
    /// Whether a measurement of ratio `ratio` replaces the current worst `cur` when it comes
    /// later in case order: a larger ratio, or the first NaN. Applied case by case this keeps
    /// the first maximum; applied to the shards' worsts sorted by case it keeps the same one.
    pub fn beats(ratio: f64, cur: Option<&Worst>) -> bool {
        let cur = cur.map_or(f64::NEG_INFINITY, |w| w.ratio);
        ratio > cur || (ratio.is_nan() && !cur.is_nan())
    }
}

/// The first failing case of a row and what failed in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstFailure {
    /// Case index.
    pub case: u64,
    /// The first failing measurement's quantity.
    pub quantity: String,
}

/// The running state of one row over a set of cases: what `verify` folds case by case, what a
/// shard writes (`--shard K/N --json`) and what `crate::merge` combines. [`TheoremAcc::rows`]
/// turns it into the [`Row`] printed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowAcc {
    /// `exact` or `f64`.
    #[serde(with = "arith_name")]
    pub arithmetic: Arithmetic,
    /// Cases with a measurement in this arithmetic.
    pub cases: u64,
    /// Measurements compared.
    pub measurements: u64,
    /// Largest error seen (`crate::tolerance::worst`: NaN wins).
    #[serde(with = "exact_f64")]
    pub max_error: f64,
    /// The measurement closest to (or furthest past) its tolerance.
    pub worst: Option<Worst>,
    /// Cases in which some measurement failed.
    pub failed_cases: u64,
    /// The first failing case.
    pub first_failure: Option<FirstFailure>,
    /// Exact draws per grid-prompt shape, or field draws per listed shape (Schwartz–Zippel
    /// counts compound per shape only).
    pub shapes: BTreeMap<String, u64>,
    /// Field rows: the run's prime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prime: Option<u64>,
    /// Field rows: the degree and height of each shape drawn (`FieldTier::bound`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bounds: BTreeMap<String, ShapeBound>,
}

impl RowAcc {
    /// The state of no cases.
    pub fn new(arithmetic: Arithmetic) -> RowAcc {
        RowAcc {
            arithmetic,
            cases: 0,
            measurements: 0,
            max_error: 0.0,
            worst: None,
            failed_cases: 0,
            first_failure: None,
            shapes: BTreeMap::new(),
            prime: None,
            bounds: BTreeMap::new(),
        }
    }
}

/// The running state of one theorem: its rows (only arithmetics with cases) and its first
/// failure (the lowest failing case; exact before `f64` within a case).
#[derive(Clone, Debug)]
pub struct TheoremAcc {
    /// Theorem id.
    pub id: String,
    /// `[Q]`, `[D]` or `[R]`.
    pub provenance: String,
    /// The registry's kind of the theorem.
    pub kind: CheckKind,
    /// The Schwartz–Zippel degree, for polynomial identities.
    pub sz_degree: Option<u32>,
    /// Cases of the whole run (all shards).
    pub cases: u64,
    /// Exact row first, then `f64`; an arithmetic without cases has none.
    pub rows: Vec<RowAcc>,
    /// The first failure.
    pub failure: Option<Failure>,
}

impl TheoremAcc {
    /// The printed rows.
    pub fn rows(&self) -> Vec<Row> {
        self.rows.iter().map(|acc| self.row(acc)).collect()
    }

    fn row(&self, acc: &RowAcc) -> Row {
        let mut row = Row {
            theorem: self.id.clone(),
            provenance: self.provenance.clone(),
            kind: self.kind,
            arithmetic: acc.arithmetic,
            cases: acc.cases,
            measurements: acc.measurements,
            max_error: acc.max_error,
            worst_error: acc.worst.as_ref().map_or(0.0, |w| w.error),
            tolerance: acc.worst.as_ref().map_or(0.0, |w| w.tolerance),
            worst_kind: acc.worst.as_ref().map_or(self.kind, |w| w.kind),
            failed_cases: acc.failed_cases,
            holds: acc.failed_cases == 0,
            first_failure: acc.first_failure.as_ref().map(|f| f.case),
            first_failure_quantity: acc.first_failure.as_ref().map(|f| f.quantity.clone()),
            sz_log10_bound: None,
            sz_degree: None,
            sz_shapes: None,
            sz_min_draws: None,
            field_prime: None,
            sz_range: None,
            field_shapes: None,
        };
        if let (Arithmetic::Field, Some(p)) = (acc.arithmetic, acc.prime) {
            let certs: Vec<ShapeCert> =
                acc.shapes.iter().map(|(l, &k)| ShapeCert::new(l, k, acc.bounds.get(l), p)).collect();
            if !certs.is_empty() {
                row.sz_log10_bound = Some(certs.iter().map(|c| c.log10_bound).fold(f64::NEG_INFINITY, f64::max));
                row.sz_degree = certs.iter().map(|c| c.deg).max();
                row.sz_shapes = Some(certs.len() as u64);
                row.sz_min_draws = certs.iter().map(|c| c.draws).min();
                row.sz_range = Some(shape_range(acc.shapes.keys()));
                row.field_shapes = Some(certs);
            }
            row.field_prime = Some(p);
        }
        if acc.arithmetic == Arithmetic::Exact {
            if let (Some(deg), Some(&min)) = (self.sz_degree, acc.shapes.values().min()) {
                row.sz_degree = Some(deg);
                row.sz_shapes = Some(acc.shapes.len() as u64);
                row.sz_min_draws = Some(min);
                row.sz_log10_bound = Some(grid::log10_bound(deg, min));
            }
        }
        row
    }
}

fn aggregate(t: &TheoremSpec, cfg: &VerifyConfig, results: &[(u64, CaseResult)], prime: u64) -> TheoremAcc {
    let mut rows: Vec<RowAcc> = Vec::new();
    let mut failure: Option<Failure> = None;
    for arith in Arithmetic::ALL {
        let mut row = RowAcc::new(arith);
        for (k, r) in results {
            let ms: Vec<&Measurement> = r.measurements.iter().filter(|m| m.arithmetic == arith).collect();
            if ms.is_empty() {
                continue;
            }
            row.cases += 1;
            row.measurements += ms.len() as u64;
            let shape = match arith {
                Arithmetic::Field => ms.iter().find_map(|m| m.field_shape.as_ref()),
                _ => r.sz_shape.as_ref(),
            };
            if let Some(sh) = shape {
                *row.shapes.entry(sh.clone()).or_default() += 1;
            }
            let mut case_failed = false;
            for m in ms {
                row.max_error = crate::tolerance::worst(row.max_error, m.error);
                let ratio = if m.tolerance > 0.0 {
                    m.error / m.tolerance
                } else if m.holds {
                    0.0
                } else {
                    f64::INFINITY
                };
                if Worst::beats(ratio, row.worst.as_ref()) {
                    row.worst = Some(Worst { case: *k, ratio, error: m.error, tolerance: m.tolerance, kind: m.kind });
                }
                if !m.holds && !case_failed {
                    case_failed = true;
                    if row.first_failure.is_none() {
                        row.first_failure = Some(FirstFailure { case: *k, quantity: m.quantity.clone() });
                    }
                    let earlier = failure.as_ref().map_or(true, |f| *k < f.case);
                    if earlier {
                        failure = Some(Failure {
                            theorem: t.id.to_string(),
                            seed: cfg.seed,
                            case: *k,
                            measurement: m.clone(),
                            replay: format!("icrl verify --theorem {} --seed {} --case {}", t.id, cfg.seed, k),
                            suspect: t.provenance.suspect().to_string(),
                            instance: None,
                        });
                    }
                }
            }
            if case_failed {
                row.failed_cases += 1;
            }
        }
        if arith == Arithmetic::Field && row.cases > 0 {
            row.prime = Some(prime);
            row.bounds = field_bounds(t, &row.shapes, cfg.sabotage);
        }
        if row.cases > 0 {
            rows.push(row);
        }
    }
    TheoremAcc {
        id: t.id.to_string(),
        provenance: t.provenance.label().to_string(),
        kind: t.kind,
        sz_degree: t.sz_degree,
        cases: cases_of(t, cfg),
        rows,
        failure,
    }
}

/// The degree and height of every listed shape of `t` that was drawn, computed once per shape
/// (in parallel over shapes, collected in list order).
fn field_bounds(t: &TheoremSpec, drawn: &BTreeMap<String, u64>, sabotage: bool) -> BTreeMap<String, ShapeBound> {
    let Some(tier) = t.field else { return BTreeMap::new() };
    let shapes: Vec<FieldShape> = (tier.shapes)().into_iter().filter(|s| drawn.contains_key(&s.label())).collect();
    shapes.par_iter().map(|s| (s.label(), (tier.bound)(s, sabotage))).collect::<Vec<_>>().into_iter().collect()
}

/// The per-shape certificates of every field row (`verify --certificates`): the prime, then one
/// line per shape with its draws, degree, `log₂ H`, the two terms and the bound.
pub fn certificates_of(rows: &[Row]) -> String {
    let mut o = String::new();
    for r in rows {
        let (Some(certs), Some(p)) = (&r.field_shapes, r.field_prime) else { continue };
        o.push_str(&format!(
            "\n{} over F_p, p = {p} (uniform over the primes in (2^61, 2^62), at least 2^{:.1} of them){}\n",
            r.theorem,
            crate::scalar::modular::log2_prime_count_lower(),
            if r.holds { "" } else { "; the row FAILS: no certificate" }
        ));
        o.push_str(&format!(
            "  {:<28} {:>5} {:>5} {:>9} {:>9} {:>9} {:>9}\n",
            "shape", "draws", "deg", "log2 H", "term 1", "term 2", "P(false)"
        ));
        for c in certs {
            o.push_str(&format!(
                "  {:<28} {:>5} {:>5} {:>9} {:>9} {:>9} {:>9}\n",
                c.shape,
                c.draws,
                c.deg,
                c.log2_height.map_or("-".to_string(), |h| format!("{h:.1}")),
                if c.term1 == 0.0 { "0".to_string() } else { format!("{:.1e}", c.term1) },
                format!("10^{:.0}", c.log10_term2.ceil()),
                format!("10^{:.0}", c.log10_bound.ceil())
            ));
        }
    }
    o
}

pub use crate::scalar::exact_f64;

pub(crate) mod arith_name {
    use crate::theorem::Arithmetic;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(a: &Arithmetic, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(a.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arithmetic, D::Error> {
        match String::deserialize(d)?.as_str() {
            "exact" => Ok(Arithmetic::Exact),
            "f64" => Ok(Arithmetic::F64),
            "field" => Ok(Arithmetic::Field),
            other => Err(serde::de::Error::custom(format!("arithmetic {other:?} is not `exact`, `f64` or `field`"))),
        }
    }
}

/// A failure as every output format prints it: the instance kept as its compact JSON text, so
/// that a failure read back from a shard file prints byte for byte as in the run that found it.
#[derive(Clone, Debug, Serialize)]
pub struct PrintedFailure {
    /// Theorem id.
    pub theorem: String,
    /// Seed of the run.
    pub seed: u64,
    /// Case index.
    pub case: u64,
    /// The failing measurement.
    pub measurement: Measurement,
    /// The command that replays it.
    pub replay: String,
    /// What to suspect (from the provenance label).
    pub suspect: String,
    /// The instance JSON, when the theorem has one.
    pub instance: Option<Box<serde_json::value::RawValue>>,
}

impl From<&Failure> for PrintedFailure {
    fn from(f: &Failure) -> Self {
        PrintedFailure {
            theorem: f.theorem.clone(),
            seed: f.seed,
            case: f.case,
            measurement: f.measurement.clone(),
            replay: f.replay.clone(),
            suspect: f.suspect.clone(),
            instance: f.instance.as_ref().map(|v| serde_json::value::to_raw_value(v).expect("serializable")),
        }
    }
}

/// An output format of `verify` and `merge`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The plain-text table, its footer and the failures.
    Table,
    /// A GFM table with its legend (failures on stderr).
    Markdown,
    /// A LaTeX `tabular` with its legend (failures on stderr).
    Latex,
    /// JSON Lines: one object per row, one per failure, the shard state (shards only), a summary.
    Json,
}

/// Everything a `verify` or `merge` run prints: one renderer for both, so a merge prints what
/// the unsharded run prints.
#[derive(Clone, Debug)]
pub struct Printed {
    /// Seed of the run.
    pub seed: u64,
    /// One row per theorem × arithmetic.
    pub rows: Vec<Row>,
    /// First failure of each failing theorem.
    pub failures: Vec<PrintedFailure>,
    /// A shard's `K/N` and its state line (`crate::merge::state_line`).
    pub shard: Option<(Shard, String)>,
    /// Wall-clock seconds (a merge: the sum of the shards').
    pub wall_seconds: f64,
}

impl Printed {
    /// What a `verify` run prints of `report` (a shard's state line added by the caller).
    pub fn of(report: &Report, wall_seconds: f64) -> Printed {
        Printed {
            seed: report.seed,
            rows: report.rows.clone(),
            failures: report.failures.iter().map(PrintedFailure::from).collect(),
            shard: None,
            wall_seconds,
        }
    }

    /// `true` iff every row holds.
    pub fn all_hold(&self) -> bool {
        self.rows.iter().all(|r| r.holds)
    }

    /// `(stdout, stderr)` in `format`.
    pub fn render(&self, format: Format) -> (String, String) {
        let (mut o, mut e) = (String::new(), String::new());
        match format {
            Format::Markdown | Format::Latex => {
                o = if format == Format::Markdown { markdown_of(&self.rows) } else { latex_of(&self.rows) };
                // Failures go to stderr so that stdout stays a table that can be pasted or \input.
                for f in &self.failures {
                    e.push_str(&format!(
                        "FAILED {} (seed {}, case {}): {} error {:.3e} > tolerance {:.1e}; replay: {}\n",
                        f.theorem,
                        f.seed,
                        f.case,
                        f.measurement.quantity,
                        f.measurement.error,
                        f.measurement.tolerance,
                        f.replay
                    ));
                }
            }
            Format::Json => {
                for r in &self.rows {
                    o.push_str(&serde_json::to_string(r).expect("serializable"));
                    o.push('\n');
                }
                #[derive(Serialize)]
                struct Line<'a> {
                    failure: &'a PrintedFailure,
                }
                for f in &self.failures {
                    // Serialized directly (not through a `Value`) so the instance text is kept.
                    o.push_str(&serde_json::to_string(&Line { failure: f }).expect("serializable"));
                    o.push('\n');
                }
                if let Some((_, line)) = &self.shard {
                    o.push_str(line);
                    o.push('\n');
                }
                let summary = serde_json::json!({"summary": {"seed": self.seed, "all_hold": self.all_hold(), "wall_seconds": self.wall_seconds}});
                o.push_str(&format!("{summary}\n"));
            }
            Format::Table => {
                o = table_of(&self.rows);
                o.push_str(&format!("seed {}; {} rows in {:.2} s", self.seed, self.rows.len(), self.wall_seconds));
                if let Some((s, _)) = &self.shard {
                    o.push_str(&format!("; shard {s} of the cases (icrl merge combines the shards' --json)"));
                }
                o.push('\n');
                for f in &self.failures {
                    o.push_str(&format!(
                        "\nFAILED {} (seed {}, case {}): {} error {:.3e} > tolerance {:.1e}\n",
                        f.theorem, f.seed, f.case, f.measurement.quantity, f.measurement.error, f.measurement.tolerance
                    ));
                    o.push_str(&format!("  {}\n", f.suspect));
                    o.push_str(&format!("  replay: {}\n", f.replay));
                    if let Some(inst) = &f.instance {
                        o.push_str(&format!("  instance (icrl check accepts it): {}\n", inst.get()));
                    }
                }
            }
        }
        (o, e)
    }
}

/// Render the summary table. `error` and `tolerance` are those of the measurement closest to
/// (or furthest past) its tolerance, so the pair is comparable even when a theorem compares
/// quantities of different scales; `--json` also has the plain `max_error`.
pub fn render_table(report: &Report) -> String {
    table_of(&report.rows)
}

fn table_of(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<34} {:<4} {:<8} {:<6} {:>6} {:>10} {:>10} {:<7} {}\n",
        "theorem", "", "kind", "arith", "cases", "error", "tolerance", "verdict", "certificate"
    ));
    for r in rows {
        let cert = certificate(r).replace('≤', "<=");
        let verdict = if r.holds { "holds".to_string() } else { format!("FAILS {}/{}", r.failed_cases, r.cases) };
        out.push_str(&format!(
            "{:<34} {:<4} {:<8} {:<6} {:>6} {:>10} {:>10} {:<7} {}\n",
            r.theorem,
            r.provenance,
            r.kind.name(),
            r.arithmetic.name(),
            r.cases,
            fmt_err(r.worst_error),
            fmt_err(r.tolerance),
            verdict,
            cert
        ));
    }
    out.push_str(&format!("\n{}:\n", LEGEND_INTRO.replace('`', "")));
    for (kind, text) in error_legend() {
        out.push_str(&format!("  {kind:<8} {}\n", text.replace('`', "")));
    }
    out
}

/// Errors print as `0` or in short scientific notation.
pub fn fmt_err(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        format!("{x:.1e}")
    }
}

/// The legend under the tables: one line per kind (`CheckKind::legend`), each row's `kind`
/// column says which applies.
pub const LEGEND_INTRO: &str = "`error` and `tolerance` are those of the measurement closest to (or furthest past) its tolerance; `kind` is that of the theorem's headline claim (where a check mixes kinds, `--format json` names the shown measurement's as `worst_kind`), and what error and tolerance are depends on the kind";

/// `(kind, what error and tolerance are)` for each kind, in legend order.
pub fn error_legend() -> impl Iterator<Item = (&'static str, &'static str)> {
    CheckKind::ALL.into_iter().map(|k| (k.name(), k.legend()))
}

fn certificate(r: &Row) -> String {
    match (r.sz_log10_bound, r.sz_degree, r.sz_shapes, &r.sz_range) {
        // Field rows: the worst shape's bound rounded up, and the range of the shapes drawn.
        (Some(b), Some(d), Some(m), Some(range)) if r.holds => {
            format!("P(false) ≤ 10^{:.0} per shape ({m} shapes {range}, deg ≤ {d})", b.ceil())
        }
        (Some(b), Some(d), Some(m), None) if r.holds => {
            format!("P(false) ≤ 10^{b:.0} per shape ({m} shapes, deg ≤ {d})")
        }
        _ => String::new(),
    }
}

fn verdict(r: &Row) -> String {
    if r.holds {
        "holds".to_string()
    } else {
        format!("FAILS {}/{}", r.failed_cases, r.cases)
    }
}

/// The summary as a GFM table with its legend (`icrl verify --format markdown`).
pub fn render_markdown(report: &Report) -> String {
    markdown_of(&report.rows)
}

fn markdown_of(rows: &[Row]) -> String {
    let mut s = String::from(
        "| theorem | label | kind | arithmetic | cases | error | tolerance | verdict | certificate |\n|:---|:---|:---|:---|---:|---:|---:|:---|:---|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.theorem,
            r.provenance,
            r.kind.name(),
            r.arithmetic.name(),
            r.cases,
            fmt_err(r.worst_error),
            fmt_err(r.tolerance),
            verdict(r),
            certificate(r)
        ));
    }
    s.push_str(&format!("\n{LEGEND_INTRO}:\n\n"));
    for (kind, text) in error_legend() {
        s.push_str(&format!("- **{kind}**: {text}.\n"));
    }
    s
}

/// Escape `text` for LaTeX text mode (and map the Unicode our ids and statements use).
pub fn latex_escape(text: &str) -> String {
    let mut s = String::new();
    for c in text.chars() {
        match c {
            '\\' => s.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                s.push('\\');
                s.push(c);
            }
            '~' => s.push_str("\\textasciitilde{}"),
            '^' => s.push_str("\\textasciicircum{}"),
            '<' => s.push_str("\\textless{}"),
            '>' => s.push_str("\\textgreater{}"),
            '|' => s.push_str("\\textbar{}"),
            '≤' => s.push_str("$\\le$"),
            '≥' => s.push_str("$\\ge$"),
            '−' => s.push_str("$-$"),
            '≠' => s.push_str("$\\neq$"),
            '→' => s.push_str("$\\to$"),
            '∞' => s.push_str("$\\infty$"),
            '∇' => s.push_str("$\\nabla$"),
            '‖' => s.push_str("$\\|$"),
            '·' => s.push_str("$\\cdot$"),
            '×' => s.push_str("$\\times$"),
            'α' => s.push_str("$\\alpha$"),
            'β' => s.push_str("$\\beta$"),
            'γ' => s.push_str("$\\gamma$"),
            'δ' => s.push_str("$\\delta$"),
            'ε' => s.push_str("$\\varepsilon$"),
            'θ' => s.push_str("$\\theta$"),
            'λ' => s.push_str("$\\lambda$"),
            'μ' => s.push_str("$\\mu$"),
            'π' => s.push_str("$\\pi$"),
            'ρ' => s.push_str("$\\rho$"),
            'σ' => s.push_str("$\\sigma$"),
            'Σ' => s.push_str("$\\Sigma$"),
            'φ' => s.push_str("$\\varphi$"),
            'ψ' => s.push_str("$\\psi$"),
            '⋆' => s.push_str("$^\\star$"),
            '⁺' => s.push_str("$^+$"),
            'ᵀ' => s.push_str("$^\\top$"),
            '⁻' => s.push_str("$^-$"),
            '¹' => s.push_str("$^1$"),
            '²' => s.push_str("$^2$"),
            c if c.is_ascii() => s.push(c),
            // Anything else (combining marks such as the bar of V̄) is dropped rather than
            // breaking the compile; the ids stay intact.
            _ => {}
        }
    }
    s
}

/// `1.2e-15` as LaTeX math (`$1.2\times10^{-15}$`), `0` as `0`.
fn latex_num(x: f64) -> String {
    let t = fmt_err(x);
    match t.split_once('e') {
        Some((m, e)) => format!("${m}\\times10^{{{}}}$", e.parse::<i32>().unwrap_or(0)),
        None => t,
    }
}

/// The summary as a LaTeX `tabular` with its legend as a comment and a caption-ready note
/// (`icrl verify --format latex`; plain LaTeX, no package needed).
pub fn render_latex(report: &Report) -> String {
    latex_of(&report.rows)
}

fn latex_of(rows: &[Row]) -> String {
    let mut s = String::from("% icrl verify --format latex\n");
    s.push_str(&format!("% {}:\n", LEGEND_INTRO.replace('`', "")));
    for (kind, text) in error_legend() {
        s.push_str(&format!("%   {kind}: {text}.\n"));
    }
    s.push_str("\\begin{tabular}{@{}llllrrrl@{}}\n\\hline\ntheorem & label & kind & arithmetic & cases & error & tolerance & verdict \\\\\n\\hline\n");
    for r in rows {
        s.push_str(&format!(
            "\\texttt{{{}}} & {} & {} & {} & {} & {} & {} & {} \\\\\n",
            latex_escape(&r.theorem),
            latex_escape(&r.provenance),
            latex_escape(r.kind.name()),
            latex_escape(r.arithmetic.name()),
            r.cases,
            latex_num(r.worst_error),
            latex_num(r.tolerance),
            latex_escape(&verdict(r))
        ));
    }
    s.push_str("\\hline\n\\multicolumn{8}{@{}p{0.95\\linewidth}@{}}{\\footnotesize ");
    let legend: Vec<String> =
        error_legend().map(|(k, t)| format!("\\textbf{{{}}}: {}.", latex_escape(k), latex_escape(t))).collect();
    s.push_str(&legend.join(" "));
    s.push_str("} \\\\\n\\end{tabular}\n");
    s
}
