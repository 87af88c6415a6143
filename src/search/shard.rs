//! `icrl search --shard K/N` and `icrl merge` of its outputs.
//!
//! A search is blocks of random cases (module doc of [`crate::search`]); slice `K` of `N` runs
//! the blocks `j ≡ K (mod N)` in order until one finds a counterexample, and prints one line,
//! `{"search_shard": …}`: the search (theorem, relaxation, seed, budget), the blocks it ran with
//! the instances each evaluated, its report lines and, if its last block found one, the shrunk
//! counterexample (the instance and the summary line). It writes no fixture.
//!
//! [`merge`] takes the `N` lines and returns what the unsharded search returns: the
//! counterexample of the **lowest** failing block (every block below it must be in the files,
//! and is, since a slice runs its blocks in order and stops only at its own first find), the
//! instances evaluated up to and including that block, and its report. The unsharded search runs
//! the same blocks with the same seeds in the same order, so `icrl merge` prints the same lines,
//! writes the same fixture byte for byte and exits with the same code (`tests/all/search_shard.rs`).

use super::{block_cases, slice_blocks, BlockRun, SearchArgs, SearchOutcome, Slice, BLOCK_CASES};
use crate::error::InputError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// The layout of a search shard line this `icrl` writes and reads.
pub const FORMAT: &str = "icrl-search-shard-1";

/// Largest shard file `merge` reads (a line holds one small instance).
const MAX_FILE_BYTES: u64 = 16 << 20;

/// One slice of a search, as printed by `icrl search --shard K/N`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// [`FORMAT`].
    pub format: String,
    /// The `icrl` version that ran it.
    pub icrl: String,
    /// Theorem id.
    pub theorem: String,
    /// The relaxed assumptions, `a+b`.
    pub relax: String,
    /// The search seed.
    pub seed: u64,
    /// The whole search's budget.
    pub budget: u64,
    /// Cases per block ([`BLOCK_CASES`] of the `icrl` that ran it).
    pub block_cases: u64,
    /// `K`.
    pub index: u64,
    /// `N`.
    pub count: u64,
    /// The blocks run, in order.
    pub blocks: Vec<BlockRun>,
    /// The relaxation's report lines.
    pub report: Vec<String>,
    /// The counterexample its last block found.
    pub found: Option<Found>,
}

/// A shrunk counterexample in a shard line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Found {
    /// The terminal summary line.
    pub summary: String,
    /// The fixture's instance JSON.
    pub instance: Value,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    search_shard: Record,
}

/// The shard line of a sliced search's outcome (`None` if the search has no blocks, which only
/// a non-proptest search has, and those refuse `--shard` before running).
pub fn record(args: &SearchArgs, slice: Slice, outcome: &SearchOutcome) -> Option<Record> {
    Some(Record {
        format: FORMAT.into(),
        icrl: env!("CARGO_PKG_VERSION").into(),
        theorem: args.theorem.clone(),
        relax: args.relax_label(),
        seed: args.seed,
        budget: args.budget,
        block_cases: BLOCK_CASES,
        index: slice.index,
        count: slice.count,
        blocks: outcome.blocks.clone()?,
        report: outcome.report.clone(),
        found: outcome.found.as_ref().map(|c| Found { summary: c.summary.clone(), instance: c.instance.clone() }),
    })
}

/// The one line `icrl search --shard K/N` prints.
pub fn to_line(r: &Record) -> String {
    serde_json::to_string(&Line { search_shard: r.clone() }).expect("a record serializes")
}

/// Whether `path` starts like a search shard line (so `icrl merge` knows which merge to run).
pub fn looks_like_search_shard(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    let prefix = b"{\"search_shard\":";
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == prefix
}

/// Read and validate one search shard file.
pub fn read(path: &Path) -> Result<Record, InputError> {
    let name = path.display().to_string();
    let err = |msg: String| InputError::new(name.clone(), msg);
    let size = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?.len();
    if size > MAX_FILE_BYTES {
        return Err(err(format!("{size} bytes, more than the {MAX_FILE_BYTES} a search shard line can need")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let line = text.strip_suffix('\n').unwrap_or(&text);
    if line.contains('\n') {
        return Err(err("more than one line: not the output of `icrl search --shard K/N`".into()));
    }
    let r = serde_json::from_str::<Line>(line).map_err(|e| err(format!("search_shard: {e}")))?.search_shard;
    validate(&r).map_err(|m| err(format!("search_shard: {m}")))?;
    if to_line(&r) != line {
        return Err(err("search_shard: not as `icrl search --shard` prints it (edited?)".into()));
    }
    Ok(r)
}

/// The blocks of a record are exactly its slice's, in order, up to its first find.
fn validate(r: &Record) -> Result<(), String> {
    if r.format != FORMAT {
        return Err(format!("format {:?} is not {FORMAT:?}, the layout this icrl reads", r.format));
    }
    if r.block_cases != BLOCK_CASES {
        return Err(format!("block_cases {} is not this icrl's {BLOCK_CASES}", r.block_cases));
    }
    if r.count == 0 || r.index >= r.count {
        return Err(format!("index {} / count {} is not K/N with K < N", r.index, r.count));
    }
    if r.budget == 0 {
        return Err("budget 0".into());
    }
    let expected: Vec<u64> = slice_blocks(r.budget, Some(Slice { index: r.index, count: r.count })).collect();
    let last = r.blocks.len().checked_sub(1);
    for (i, b) in r.blocks.iter().enumerate() {
        if expected.get(i) != Some(&b.block) {
            return Err(format!("blocks[{i}]: block {} is not the slice's block {:?}", b.block, expected.get(i)));
        }
        let cases = block_cases(r.budget, b.block);
        if Some(i) != last && b.found {
            return Err(format!("blocks[{i}]: a block found a counterexample but the slice went on"));
        }
        if !b.found && b.tried != cases {
            return Err(format!("blocks[{i}]: {} instances tried, a block without a find tries {cases}", b.tried));
        }
        if b.found && b.tried == 0 {
            return Err(format!("blocks[{i}]: found with 0 instances tried"));
        }
    }
    let found_last = r.blocks.last().is_some_and(|b| b.found);
    if found_last != r.found.is_some() {
        return Err("`found` does not match the last block".into());
    }
    if !found_last && r.blocks.len() != expected.len() {
        return Err(format!(
            "{} blocks run of the slice's {} without a find (truncated?)",
            r.blocks.len(),
            expected.len()
        ));
    }
    Ok(())
}

/// What the unsharded search returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Merged {
    /// Theorem id.
    pub theorem: String,
    /// The relaxed assumptions, `a+b`.
    pub relax: String,
    /// The search seed.
    pub seed: u64,
    /// The relaxation's report lines.
    pub report: Vec<String>,
    /// The counterexample of the lowest failing block.
    pub found: Option<Found>,
    /// Instances evaluated by the unsharded search (up to and including the failing block).
    pub tried: u64,
}

/// Combine the `N` shard lines of one search (`(file name, record)`, in any order).
pub fn merge(files: &[(String, Record)]) -> Result<Merged, InputError> {
    let (first_name, first) = files.first().ok_or_else(|| InputError::new("FILES", "no shard files"))?;
    let mut seen = vec![None::<&str>; first.count.min(1 << 20) as usize];
    if first.count as usize != seen.len() {
        return Err(InputError::new(
            first_name.clone(),
            format!("count {} shards is more than merge reads", first.count),
        ));
    }
    for (name, r) in files {
        let same = r.icrl == first.icrl
            && r.theorem == first.theorem
            && r.relax == first.relax
            && r.seed == first.seed
            && r.budget == first.budget
            && r.count == first.count;
        if !same {
            return Err(InputError::new(
                name.clone(),
                format!(
                    "another search than {first_name} (icrl version, theorem, relax, seed, budget and N must agree)"
                ),
            ));
        }
        if let Some(other) = seen[r.index as usize].replace(name) {
            return Err(InputError::new(name.clone(), format!("shard {}/{} again (also {other})", r.index, r.count)));
        }
    }
    if let Some(k) = seen.iter().position(|s| s.is_none()) {
        return Err(InputError::new("FILES", format!("shard {k}/{} is missing", first.count)));
    }
    let winner = files
        .iter()
        .filter_map(|(_, r)| r.found.as_ref().map(|f| (r.blocks.last().expect("validated").block, r, f)))
        .min_by_key(|(j, _, _)| *j);
    let below = |j: u64| files.iter().flat_map(|(_, r)| r.blocks.iter()).filter(move |b| b.block < j);
    Ok(match winner {
        Some((j, r, f)) => {
            // Every block below the winner ran (without a find) in its slice; the count says so.
            let tried: u64 = below(j).map(|b| b.tried).sum::<u64>() + r.blocks.last().expect("validated").tried;
            debug_assert_eq!(below(j).count() as u64, j);
            Merged {
                theorem: first.theorem.clone(),
                relax: first.relax.clone(),
                seed: first.seed,
                report: r.report.clone(),
                found: Some(f.clone()),
                tried,
            }
        }
        None => {
            if let Some((name, _)) = files.iter().find(|(_, r)| r.report != first.report) {
                return Err(InputError::new(name.clone(), format!("report lines differ from {first_name}'s")));
            }
            Merged {
                theorem: first.theorem.clone(),
                relax: first.relax.clone(),
                seed: first.seed,
                report: first.report.clone(),
                found: None,
                tried: below(u64::MAX).map(|b| b.tried).sum(),
            }
        }
    })
}
