//! Issue 12 item 4 for searches: `icrl search --shard K/N` lines merged by `icrl merge` are the
//! unsharded search, byte for byte (its stdout, its fixture, its exit code), whichever block
//! finds the counterexample; and `merge` refuses shards of another search, duplicated or missing
//! shards, edited lines and flags that do not apply, with exit 2 and nothing written.

use crate::common::{stderr, stdout};
use icrl_proofs::search::shard::{self, Record};
use icrl_proofs::search::{block_count, find_and_shrink, Counterexample, SearchArgs, SearchOutcome, Slice};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn icrl_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icrl")).args(args).current_dir(dir).output().expect("runs")
}

fn tmpdir(name: &str) -> PathBuf {
    crate::common::tmpdir("search-shard", name)
}

/// A rare violation over a large range: about 2 in 10⁴ cases violate, so block 0 (1 000 cases)
/// often misses and a later block finds (shrinking goes toward 0, the smallest violating value).
fn rare(v: &u64) -> Option<f64> {
    (*v % 5000 == 17).then_some(1.0)
}

fn args(seed: u64, budget: u64, slice: Option<Slice>) -> SearchArgs {
    SearchArgs { theorem: "linear-td".into(), relax: vec![], budget, seed, slice }
}

/// The engine: slices run the blocks `j ≡ K (mod N)`, and the merge of their records is the
/// unsharded search (value, instances evaluated), for a search found in a block after 0, one
/// found in block 0, and one that finds nothing.
#[test]
fn merged_slices_are_the_unsharded_search_in_the_engine() {
    let budget = 6_500;
    let strategy = 0u64..100_000_000;
    let blocks_of = |seed| find_and_shrink(strategy.clone(), &args(seed, budget, None), rare);
    // The first seed whose unsharded search finds in a block after 0 (exists: block 0 misses
    // with probability about 0.82 per seed).
    let late = (0..200).find(|&s| blocks_of(s).2.last().is_some_and(|b| b.found && b.block > 0)).expect("a late find");
    let early = (0..200).find(|&s| blocks_of(s).2.len() == 1 && blocks_of(s).0.is_some()).expect("a block-0 find");
    let d = tmpdir("engine");
    for (seed, violation) in [(late, rare as fn(&u64) -> Option<f64>), (early, rare), (late, |_: &u64| None)] {
        let (found, tried, blocks) = find_and_shrink(strategy.clone(), &args(seed, budget, None), violation);
        assert_eq!(blocks.iter().map(|b| b.block).collect::<Vec<_>>(), (0..blocks.len() as u64).collect::<Vec<_>>());
        if found.is_none() {
            assert_eq!(blocks.len() as u64, block_count(budget));
            assert_eq!(tried, budget);
        }
        for n in [1u64, 2, 3, 5] {
            let mut files = Vec::new();
            for k in 0..n {
                let slice = Slice { index: k, count: n };
                let a = args(seed, budget, Some(slice));
                let (f, t, b) = find_and_shrink(strategy.clone(), &a, violation);
                assert!(b.iter().all(|x| x.block % n == k), "slice {k}/{n} ran only its blocks");
                let outcome = SearchOutcome {
                    found: f.map(|(v, x)| Counterexample {
                        instance: serde_json::json!({ "value": v }),
                        violation: x,
                        summary: format!("value {v}"),
                    }),
                    tried: t,
                    report: vec!["engine test".into()],
                    blocks: Some(b),
                };
                let path = d.join(format!("s{seed}-{n}-{k}.json"));
                std::fs::write(&path, shard::to_line(&shard::record(&a, slice, &outcome).unwrap()) + "\n").unwrap();
                files.push((path.display().to_string(), shard::read(&path).expect("reads back")));
            }
            files.reverse();
            let m = shard::merge(&files).expect("merges");
            assert_eq!(m.tried, tried, "seed {seed}, {n} shards");
            assert_eq!(m.found.as_ref().map(|f| f.instance["value"].as_u64().unwrap()), found.as_ref().map(|x| x.0));
        }
    }
}

/// Negative control of the lowest-block rule: if a slice's find in a later block were taken over
/// an earlier one, the merged value would differ for a seed where two slices find.
#[test]
fn the_merge_takes_the_lowest_failing_block() {
    let strategy = 0u64..100_000_000;
    let budget = 20_000;
    let seed = (0..200)
        .find(|&s| {
            let finds = (0..4)
                .filter(|&k| {
                    find_and_shrink(strategy.clone(), &args(s, budget, Some(Slice { index: k, count: 4 })), rare)
                        .0
                        .is_some()
                })
                .count();
            finds >= 2
        })
        .expect("a seed where two slices find");
    let (unsharded, _, blocks) = find_and_shrink(strategy.clone(), &args(seed, budget, None), rare);
    let j = blocks.last().unwrap().block;
    let mut values = Vec::new();
    for k in 0..4 {
        let (f, _, b) =
            find_and_shrink(strategy.clone(), &args(seed, budget, Some(Slice { index: k, count: 4 })), rare);
        if let Some((v, _)) = f {
            values.push((b.last().unwrap().block, v));
        }
    }
    values.sort();
    assert_eq!(values[0], (j, unsharded.unwrap().0));
    assert!(values.len() >= 2 && values[1].0 > j);
}

fn as_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn search_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["search", "--theorem", "linear-td", "--relax", "query-mask", "--seed", "3", "--budget", "3500"];
    v.extend_from_slice(extra);
    v
}

/// End to end through the CLI: three shards given in reverse order merge to the unsharded
/// search's stdout, exit code and fixture file, byte for byte; the same for a search that finds
/// nothing (exit 1, nothing written).
#[test]
fn cli_merge_of_search_shards_is_the_unsharded_search() {
    let (a, b) = (tmpdir("cli-a"), tmpdir("cli-b"));
    let whole = icrl_in(&a, &search_args(&["--out", "cx.json"]));
    assert_eq!(whole.status.code(), Some(0), "{}", stderr(&whole));
    let mut names = Vec::new();
    for k in 0..3 {
        let o = icrl_in(&b, &search_args(&["--shard", &format!("{k}/3")]));
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
        let name = format!("s{k}.json");
        std::fs::write(b.join(&name), o.stdout).unwrap();
        names.push(name);
    }
    assert!(!b.join("cx.json").exists(), "a shard writes no fixture");
    let mut merge: Vec<&str> = vec!["merge"];
    merge.extend(names.iter().rev().map(String::as_str));
    merge.extend(["--out", "cx.json"]);
    let merged = icrl_in(&b, &merge);
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    assert_eq!(stdout(&merged), stdout(&whole));
    assert_eq!(std::fs::read(a.join("cx.json")).unwrap(), std::fs::read(b.join("cx.json")).unwrap());
    // An existing fixture is replaced only with --force, as by `icrl search`.
    let again = icrl_in(&b, &merge);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--out"), "{}", stderr(&again));

    // Nothing found: p22-zero alone is harmless (Lemma C.1), 3 blocks.
    let none = |extra: &[&str]| {
        let mut v = vec!["search", "--theorem", "sarsa-equivalence", "--relax", "p22-zero", "--budget", "2500"];
        v.extend_from_slice(extra);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let whole = icrl_in(&a, &as_refs(&none(&["--out", "none.json"])));
    assert_eq!(whole.status.code(), Some(1));
    assert!(stdout(&whole).contains("no counterexample in 2500 instances"), "{}", stdout(&whole));
    let mut files = Vec::new();
    for k in 0..2 {
        let o = icrl_in(&b, &as_refs(&none(&["--shard", &format!("{k}/2")])));
        assert_eq!(o.status.code(), Some(1));
        std::fs::write(b.join(format!("n{k}.json")), o.stdout).unwrap();
        files.push(format!("n{k}.json"));
    }
    let merged = icrl_in(&b, &["merge", &files[1], &files[0], "--out", "none.json"]);
    assert_eq!(merged.status.code(), Some(1), "{}", stderr(&merged));
    assert_eq!(stdout(&merged), stdout(&whole));
    assert!(!b.join("none.json").exists());
}

/// Refusals: exit 2, one `error:` line naming the file or flag, nothing written.
#[test]
fn merge_refuses_bad_search_shards() {
    let d = tmpdir("refuse");
    let shard = |k: u64, n: u64, seed: &str| {
        let o = icrl_in(
            &d,
            &[
                "search",
                "--theorem",
                "linear-td",
                "--relax",
                "query-mask",
                "--seed",
                seed,
                "--budget",
                "2500",
                "--shard",
                &format!("{k}/{n}"),
            ],
        );
        let name = format!("r{k}-{n}-{seed}.json");
        std::fs::write(d.join(&name), o.stdout).unwrap();
        name
    };
    let (s0, s1, other) = (shard(0, 2, "1"), shard(1, 2, "1"), shard(1, 2, "2"));
    let text = std::fs::read_to_string(d.join(&s1)).unwrap();
    let record: Record = serde_json::from_str::<serde_json::Value>(&text)
        .map(|v| serde_json::from_value(v["search_shard"].clone()).unwrap())
        .unwrap();
    assert_eq!(record.index, 1);
    assert!(text.contains("\"block\":1,"));
    std::fs::write(d.join("edited.json"), text.replacen("\"block\":1,", "\"block\":3,", 1)).unwrap();
    std::fs::write(d.join("unknown.json"), text.replacen("{\"format\"", "{\"extra\":1,\"format\"", 1)).unwrap();
    std::fs::write(d.join("cut.json"), &text[..text.len() / 2]).unwrap();
    let verify = icrl_in(&d, &["verify", "--theorem", "sarsa-equivalence", "--cases", "4", "--shard", "0/1", "--json"]);
    std::fs::write(d.join("verify.json"), verify.stdout).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["merge", &s0], "missing"),
        (vec!["merge", &s0, &s0], "again"),
        (vec!["merge", &s0, &other], "another search"),
        (vec!["merge", &s0, "edited.json"], "edited.json"),
        (vec!["merge", &s0, "unknown.json"], "unknown.json"),
        (vec!["merge", &s0, "cut.json"], "cut.json"),
        (vec!["merge", &s0, "verify.json"], "verify.json"),
        (vec!["merge", &s0, &s1, "--json"], "--json"),
        (vec!["merge", "verify.json", "--out", "x.json"], "--out"),
        (
            vec!["search", "--theorem", "sarsa-equivalence", "--relax", "recorded-next-action", "--shard", "0/2"],
            "--shard",
        ),
        (vec!["search", "--theorem", "linear-td", "--relax", "query-mask", "--shard", "2/2"], "--shard"),
        (
            vec!["search", "--theorem", "linear-td", "--relax", "query-mask", "--shard", "0/2", "--out", "x.json"],
            "--out",
        ),
    ];
    let before: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect();
    for (args, needle) in cases {
        let o = icrl_in(&d, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.starts_with("error:") && e.contains(needle), "{args:?}: {e}");
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
    let after: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(before.len(), after.len(), "nothing written");
}
