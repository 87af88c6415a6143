//! `icrl merge`: combine the `--json` outputs of `icrl verify --shard K/N` (`K = 0 … N-1`) into
//! exactly what the unsharded `icrl verify` prints, in every format, and its exit code.
//!
//! A shard's output is the ordinary `verify --json` of its slice of the cases (which case runs
//! where: `crate::verify`'s module doc) plus one `{"shard": …}` line before the summary: the run
//! (`format`, `version`, `seed`, `arithmetic`, `sabotage`, the theorems with their case counts)
//! and, per theorem, the running state of each row ([`RowAcc`]: counts, the largest error, the
//! measurement closest to its tolerance with its case, the first failing case, the exact draws
//! per grid shape) and the first failure with its instance. Floats in that line are strings
//! (`"2.5e-15"`, `"NaN"`) read back bit for bit. The merge sums the counts, takes the
//! `crate::tolerance::worst` of the largest errors, the worst measurement by the verify rule
//! applied in case order, the lowest failing case, and adds the per-shape counts before the
//! Schwartz–Zippel bound is computed; so every row, failure and verdict equals the unsharded
//! run's. Only `wall_seconds` differs: a merge reports the sum of the shards' wall times.
//!
//! Strict: a file is re-rendered from its shard line and must equal it byte for byte (unknown
//! keys, edited rows or a missing line are errors); the shards must come from one run (same
//! seed, theorems, cases, arithmetic, sabotage, `N`) and give each `K` exactly once. Every error
//! names the file.

use crate::error::InputError;
use crate::theorem::{ArithFilter, Arithmetic, CheckKind, Measurement};
use crate::verify::{
    arith_name, exact_f64, FirstFailure, Format, Printed, PrintedFailure, RowAcc, Shard, TheoremAcc, VerifyConfig,
    Worst,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::path::Path;

/// The version of the shard line's layout.
pub const FORMAT: u32 = 2;

/// The largest file `merge` reads, checked before reading: a shard of the default run is about
/// 32 KB, and a failing shard adds one instance per theorem (kilobytes each).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateLine {
    shard: State,
}

/// The `{"shard": …}` line of a shard's output.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// [`FORMAT`].
    pub format: u32,
    /// The `icrl` version that wrote it.
    pub version: String,
    /// `K`.
    pub index: u64,
    /// `N`.
    pub count: u64,
    /// Seed of the run.
    pub seed: u64,
    /// `all`, `exact`, `f64` or `field` (`--arith`).
    pub arithmetic: String,
    /// `--sabotage`.
    pub sabotage: bool,
    /// Every theorem of the run, in order (also those without a case in this shard).
    pub theorems: Vec<TheoremState>,
}

/// One theorem's state in one shard.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TheoremState {
    /// Theorem id.
    pub id: String,
    /// `[Q]`, `[D]` or `[R]`.
    pub provenance: String,
    /// The registry's kind of the theorem.
    pub kind: CheckKind,
    /// Cases of the whole run.
    pub cases: u64,
    /// Schwartz–Zippel degree.
    pub sz_degree: Option<u32>,
    /// Rows with cases in this shard (exact before `f64`).
    pub rows: Vec<RowAcc>,
    /// This shard's first failure of the theorem.
    pub failure: Option<FailureState>,
}

/// A failure, with its numbers exact.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureState {
    /// Case index.
    pub case: u64,
    /// The failing measurement's arithmetic.
    #[serde(with = "arith_name")]
    pub arithmetic: Arithmetic,
    /// Its quantity.
    pub quantity: String,
    /// Its error.
    #[serde(with = "exact_f64")]
    pub error: f64,
    /// Its tolerance.
    #[serde(with = "exact_f64")]
    pub tolerance: f64,
    /// Whether it held (`false`).
    pub holds: bool,
    /// Its kind.
    pub kind: CheckKind,
    /// Whether it is a negative control.
    pub control: bool,
    /// The listed shape of a field draw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_shape: Option<String>,
    /// The replay command.
    pub replay: String,
    /// What to suspect.
    pub suspect: String,
    /// The instance, as printed.
    pub instance: Option<Box<RawValue>>,
}

fn arith_filter_name(a: ArithFilter) -> &'static str {
    a.name()
}

/// The shard line `verify --shard K/N --json` prints for `accs` (from `verify::run_shard`).
pub fn state_line(shard: Shard, cfg: &VerifyConfig, accs: &[TheoremAcc]) -> String {
    let theorems = accs
        .iter()
        .map(|t| TheoremState {
            id: t.id.clone(),
            provenance: t.provenance.clone(),
            kind: t.kind,
            cases: t.cases,
            sz_degree: t.sz_degree,
            rows: t.rows.clone(),
            failure: t.failure.as_ref().map(|f| {
                let p = PrintedFailure::from(f);
                FailureState {
                    case: p.case,
                    arithmetic: p.measurement.arithmetic,
                    quantity: p.measurement.quantity,
                    error: p.measurement.error,
                    tolerance: p.measurement.tolerance,
                    holds: p.measurement.holds,
                    kind: p.measurement.kind,
                    control: p.measurement.control,
                    field_shape: p.measurement.field_shape,
                    replay: p.replay,
                    suspect: p.suspect,
                    instance: p.instance,
                }
            }),
        })
        .collect();
    let state = State {
        format: FORMAT,
        version: env!("CARGO_PKG_VERSION").to_string(),
        index: shard.index,
        count: shard.count,
        seed: cfg.seed,
        arithmetic: arith_filter_name(cfg.arith).to_string(),
        sabotage: cfg.sabotage,
        theorems,
    };
    serde_json::to_string(&StateLine { shard: state }).expect("serializable")
}

fn printed_failure(seed: u64, id: &str, f: &FailureState) -> PrintedFailure {
    PrintedFailure {
        theorem: id.to_string(),
        seed,
        case: f.case,
        measurement: Measurement {
            arithmetic: f.arithmetic,
            quantity: f.quantity.clone(),
            error: f.error,
            tolerance: f.tolerance,
            holds: f.holds,
            kind: f.kind,
            control: f.control,
            field_shape: f.field_shape.clone(),
        },
        replay: f.replay.clone(),
        suspect: f.suspect.clone(),
        instance: f.instance.clone(),
    }
}

fn rows_of(t: &TheoremState, rows: Vec<RowAcc>) -> Vec<crate::verify::Row> {
    TheoremAcc {
        id: t.id.clone(),
        provenance: t.provenance.clone(),
        kind: t.kind,
        sz_degree: t.sz_degree,
        cases: t.cases,
        rows,
        failure: None,
    }
    .rows()
}

/// One shard file, read and validated.
#[derive(Clone, Debug)]
pub struct ShardFile {
    /// The path as given (errors name it).
    pub path: String,
    /// Its shard line.
    pub state: State,
    /// Its `wall_seconds`.
    pub wall_seconds: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryLine {
    summary: Summary,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Summary {
    seed: u64,
    all_hold: bool,
    wall_seconds: Box<RawValue>,
}

impl ShardFile {
    fn shard(&self) -> Shard {
        Shard { index: self.state.index, count: self.state.count }
    }

    /// What this shard's `verify --json` printed, re-rendered from its state.
    fn printed(&self) -> Printed {
        let s = &self.state;
        Printed {
            seed: s.seed,
            rows: s.theorems.iter().flat_map(|t| rows_of(t, t.rows.clone())).collect(),
            failures: s
                .theorems
                .iter()
                .filter_map(|t| t.failure.as_ref().map(|f| printed_failure(s.seed, &t.id, f)))
                .collect(),
            shard: Some((self.shard(), serde_json::to_string(&StateLine { shard: s.clone() }).expect("serializable"))),
            wall_seconds: self.wall_seconds,
        }
    }
}

/// Read and validate one shard output (`icrl verify --shard K/N --json`).
pub fn read(path: &Path) -> Result<ShardFile, InputError> {
    let name = path.display().to_string();
    let err = |msg: String| InputError::new(name.clone(), msg);
    let at = |line: usize, msg: String| InputError::new(format!("{name} line {line}"), msg);
    let size = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?.len();
    if size > MAX_FILE_BYTES {
        return Err(err(format!("{size} bytes, more than the {MAX_FILE_BYTES} a shard output can need")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let lines: Vec<&str> = text.split('\n').collect();
    let pos = lines
        .iter()
        .position(|l| l.starts_with("{\"shard\":"))
        .ok_or_else(|| err("no `shard` line: not the output of `icrl verify --shard K/N --json`".to_string()))?;
    let state = serde_json::from_str::<StateLine>(lines[pos]).map_err(|e| at(pos + 1, format!("shard: {e}")))?.shard;
    let sum = lines.get(pos + 1).copied().unwrap_or("");
    let summary: SummaryLine =
        serde_json::from_str(sum).map_err(|e| at(pos + 2, format!("summary (the line after `shard`): {e}")))?;
    let wall_text = summary.summary.wall_seconds.get();
    let wall_seconds = wall_text
        .parse::<f64>()
        .ok()
        .filter(|w| w.is_finite() && *w >= 0.0)
        .ok_or_else(|| at(pos + 2, format!("summary.wall_seconds: {wall_text} is not a number of seconds")))?;
    if state.format != FORMAT {
        return Err(at(pos + 1, format!("shard.format: {} is not {FORMAT}, the layout this icrl reads", state.format)));
    }
    if state.count == 0 || state.index >= state.count {
        return Err(at(pos + 1, format!("shard: index {} / count {} is not K/N with K < N", state.index, state.count)));
    }
    let file = ShardFile { path: name.clone(), state, wall_seconds };
    validate(&file).map_err(|m| at(pos + 1, m))?;
    let (expected, _) = file.printed().render(Format::Json);
    if expected != text {
        let l = expected.split('\n').zip(text.split('\n')).position(|(a, b)| a != b).unwrap_or(0) + 1;
        return Err(at(
            l,
            "differs from what its shard line says the run printed (edited, reordered or truncated)".to_string(),
        ));
    }
    Ok(file)
}

/// Every case named in a shard line belongs to that shard.
fn validate(f: &ShardFile) -> Result<(), String> {
    let shard = f.shard();
    for (i, t) in f.state.theorems.iter().enumerate() {
        let owned = |what: &str, k: u64| -> Result<(), String> {
            if k < t.cases && shard.owns(&t.id, k) {
                Ok(())
            } else {
                Err(format!("shard.theorems[{i}].{what}: case {k} of {} is not in shard {shard}", t.id))
            }
        };
        for (j, r) in t.rows.iter().enumerate() {
            if j > 0 && t.rows[j - 1].arithmetic >= r.arithmetic {
                return Err(format!("shard.theorems[{i}].rows[{j}]: rows must be exact, then f64, once each"));
            }
            if r.cases == 0 || r.failed_cases > r.cases || r.cases > t.cases {
                return Err(format!("shard.theorems[{i}].rows[{j}]: inconsistent case counts"));
            }
            if let Some(w) = &r.worst {
                owned(&format!("rows[{j}].worst.case"), w.case)?;
            }
            if let Some(ff) = &r.first_failure {
                owned(&format!("rows[{j}].first_failure.case"), ff.case)?;
            }
        }
        if let Some(fl) = &t.failure {
            owned("failure.case", fl.case)?;
        }
    }
    Ok(())
}

fn combine_rows(parts: &[&RowAcc]) -> RowAcc {
    let mut acc = RowAcc::new(parts[0].arithmetic);
    for p in parts {
        acc.cases += p.cases;
        acc.measurements += p.measurements;
        acc.failed_cases += p.failed_cases;
        acc.max_error = crate::tolerance::worst(acc.max_error, p.max_error);
        for (shape, n) in &p.shapes {
            *acc.shapes.entry(shape.clone()).or_default() += n;
        }
        // Bounds are functions of the shape (and the run's sabotage flag): each shard computed
        // the same value for a shape they share.
        for (shape, b) in &p.bounds {
            acc.bounds.insert(shape.clone(), *b);
        }
        acc.prime = acc.prime.or(p.prime);
        if let Some(ff) = &p.first_failure {
            if acc.first_failure.as_ref().map_or(true, |a: &FirstFailure| ff.case < a.case) {
                acc.first_failure = Some(ff.clone());
            }
        }
    }
    // The verify rule, applied to each shard's worst in case order, keeps the run's worst.
    let mut worsts: Vec<&Worst> = parts.iter().filter_map(|p| p.worst.as_ref()).collect();
    worsts.sort_by_key(|w| w.case);
    for w in worsts {
        if Worst::beats(w.ratio, acc.worst.as_ref()) {
            acc.worst = Some(w.clone());
        }
    }
    acc
}

/// Combine shard files (any order) into what the unsharded run prints.
pub fn merge(files: &[ShardFile]) -> Result<Printed, InputError> {
    let first = files.first().ok_or_else(|| InputError::new("FILES", "name at least one shard file"))?;
    let s0 = &first.state;
    for f in &files[1..] {
        let s = &f.state;
        let differs = |what: &str, a: String, b: String| {
            InputError::new(
                f.path.clone(),
                format!("not a shard of the same run as {}: {what} {a} (there: {b})", first.path),
            )
        };
        if s.version != s0.version {
            return Err(differs("icrl version", s.version.clone(), s0.version.clone()));
        }
        if s.seed != s0.seed {
            return Err(differs("seed", s.seed.to_string(), s0.seed.to_string()));
        }
        if s.count != s0.count {
            return Err(differs("shard count N", s.count.to_string(), s0.count.to_string()));
        }
        if s.arithmetic != s0.arithmetic {
            return Err(differs("arithmetic", s.arithmetic.clone(), s0.arithmetic.clone()));
        }
        if s.sabotage != s0.sabotage {
            return Err(differs("sabotage", s.sabotage.to_string(), s0.sabotage.to_string()));
        }
        let key = |st: &State| -> Vec<String> {
            st.theorems.iter().map(|t| format!("{} {} ({} cases)", t.id, t.provenance, t.cases)).collect()
        };
        if key(s) != key(s0) || s.theorems.iter().zip(&s0.theorems).any(|(a, b)| a.sz_degree != b.sz_degree) {
            return Err(differs("theorems", key(s).join(", "), key(s0).join(", ")));
        }
    }
    let mut by_index: BTreeMap<u64, &ShardFile> = BTreeMap::new();
    for f in files {
        if let Some(other) = by_index.insert(f.state.index, f) {
            return Err(InputError::new(
                f.path.clone(),
                format!("shard {} is given twice (also {})", f.shard(), other.path),
            ));
        }
    }
    // `by_index` has at most `files.len()` keys, so this stops within `files.len() + 1` steps.
    if let Some(k) = (0..s0.count).find(|k| !by_index.contains_key(k)) {
        let given: Vec<String> = by_index.values().map(|f| format!("{} ({})", f.shard(), f.path)).collect();
        return Err(InputError::new(
            format!("shard {k}/{}", s0.count),
            format!("missing; given: {}", given.join(", ")),
        ));
    }
    let shards: Vec<&ShardFile> = by_index.into_values().collect();
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (i, t) in s0.theorems.iter().enumerate() {
        let mut accs = Vec::new();
        for arith in Arithmetic::ALL {
            let parts: Vec<&RowAcc> =
                shards.iter().filter_map(|f| f.state.theorems[i].rows.iter().find(|r| r.arithmetic == arith)).collect();
            if !parts.is_empty() {
                accs.push(combine_rows(&parts));
            }
        }
        rows.extend(rows_of(t, accs));
        let first_failure = shards.iter().filter_map(|f| f.state.theorems[i].failure.as_ref()).min_by_key(|fl| fl.case);
        failures.extend(first_failure.map(|fl| printed_failure(s0.seed, &t.id, fl)));
    }
    Ok(Printed {
        seed: s0.seed,
        rows,
        failures,
        shard: None,
        wall_seconds: shards.iter().map(|f| f.wall_seconds).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(worst: Option<(u64, f64, f64)>, max_error: f64, first: Option<u64>) -> RowAcc {
        RowAcc {
            worst: worst.map(|(case, ratio, error)| Worst {
                case,
                ratio,
                error,
                tolerance: 1.0,
                kind: CheckKind::Equality,
            }),
            max_error,
            first_failure: first.map(|case| FirstFailure { case, quantity: format!("q{case}") }),
            cases: 1,
            measurements: 1,
            failed_cases: first.is_some() as u64,
            ..RowAcc::new(Arithmetic::F64)
        }
    }

    #[test]
    fn combine_keeps_the_first_maximum_in_case_order_whatever_the_file_order() {
        // A tie at ratio 2: case 3 (second file) comes before case 4 (first file) in the run.
        let (a, b) = (part(Some((4, 2.0, 0.4)), 0.4, Some(4)), part(Some((3, 2.0, 0.3)), 0.3, Some(5)));
        for parts in [[&a, &b], [&b, &a]] {
            let c = combine_rows(&parts);
            assert_eq!(c.worst.as_ref().map(|w| (w.case, w.error)), Some((3, 0.3)));
            assert_eq!(c.first_failure.as_ref().map(|f| f.case), Some(4));
            assert_eq!((c.cases, c.failed_cases, c.max_error), (2, 2, 0.4));
        }
        // Negative control: a strictly larger ratio later in the run wins over the tie.
        let later = part(Some((9, 2.5, 0.1)), 0.1, None);
        assert_eq!(combine_rows(&[&a, &b, &later]).worst.map(|w| w.case), Some(9));
    }

    #[test]
    fn combine_keeps_the_first_nan_and_nan_max_error() {
        let nan_late = part(Some((8, f64::NAN, f64::NAN)), f64::NAN, Some(8));
        let nan_early = part(Some((6, f64::NAN, 1.0)), 1.0, Some(6));
        let big = part(Some((1, f64::INFINITY, 7.0)), 7.0, Some(1));
        let c = combine_rows(&[&nan_late, &big, &nan_early]);
        assert_eq!(c.worst.as_ref().map(|w| (w.case, w.error)), Some((6, 1.0)));
        assert!(c.max_error.is_nan());
        assert_eq!(c.first_failure.map(|f| f.case), Some(1));
        // A NaN later in the run still wins over ∞; without a NaN, ∞ wins over a later finite ratio.
        assert_eq!(combine_rows(&[&nan_early, &big]).worst.map(|w| w.case), Some(6));
        let finite = part(Some((0, 3.0, 3.0)), 3.0, None);
        assert_eq!(combine_rows(&[&finite, &big]).worst.map(|w| w.case), Some(1));
    }

    #[test]
    fn exact_f64_reads_back_every_bit() {
        #[derive(Serialize, Deserialize)]
        struct X(#[serde(with = "exact_f64")] f64);
        for x in [0.1, 2.6645352591003757e-15, 5e-324, f64::MAX, -0.0, 1e300, f64::INFINITY, f64::NEG_INFINITY] {
            let text = serde_json::to_string(&X(x)).unwrap();
            let y: X = serde_json::from_str(&text).unwrap();
            assert_eq!(y.0.to_bits(), x.to_bits(), "{text}");
        }
        let y: X = serde_json::from_str(&serde_json::to_string(&X(f64::NAN)).unwrap()).unwrap();
        assert!(y.0.is_nan());
        assert!(serde_json::from_str::<X>("\"0.1x\"").is_err());
        assert!(serde_json::from_str::<X>("0.1").is_err());
    }
}
