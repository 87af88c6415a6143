//! Issue 12 item 4, sweeps over machines: `verify --shard K/N` outputs merged by `icrl merge` are
//! the unsharded run, byte for byte (JSON, table, exit code, the failure under `--sabotage`),
//! except `wall_seconds`, which a merge reports as the sum of the shards'; and `merge` refuses
//! shards of another run, duplicated or missing shards and edited files with exit 2.

use crate::common::{icrl, stderr, stdout};
use icrl_proofs::verify::Shard;
use std::path::{Path, PathBuf};
use std::process::Output;

fn tmpdir(name: &str) -> PathBuf {
    crate::common::tmpdir("shard", name)
}

/// The text with the number after `"wall_seconds":` (JSON) or `rows in` (table) replaced.
fn without_wall(text: &str) -> String {
    text.lines()
        .map(|l| {
            for key in ["\"wall_seconds\":", " rows in "] {
                if let Some(i) = l.find(key) {
                    let rest = &l[i + key.len()..];
                    let end = rest.find(|c: char| !(c.is_ascii_digit() || ".eE+-".contains(c))).unwrap_or(rest.len());
                    return format!("{}{key}<wall>{}", &l[..i], &rest[end..]);
                }
            }
            l.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Run `verify ARGS --shard K/N --json` for every K, write `dir/shard-K.json`; the paths.
fn shards(dir: &Path, args: &[&str], n: u64) -> Vec<String> {
    (0..n)
        .map(|k| {
            let spec = format!("{k}/{n}");
            let mut a = vec!["verify"];
            a.extend_from_slice(args);
            a.extend_from_slice(&["--shard", &spec, "--json"]);
            let o = icrl(&a);
            assert!(matches!(o.status.code(), Some(0 | 1)), "{spec}: {}", stderr(&o));
            let path = dir.join(format!("shard-{k}.json"));
            std::fs::write(&path, &o.stdout).unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect()
}

fn merge(files: &[String], extra: &[&str]) -> Output {
    let mut a = vec!["merge"];
    a.extend(files.iter().map(String::as_str));
    a.extend_from_slice(extra);
    icrl(&a)
}

fn verify(args: &[&str], extra: &[&str]) -> Output {
    let mut a = vec!["verify"];
    a.extend_from_slice(args);
    a.extend_from_slice(extra);
    icrl(&a)
}

/// Exact rows with per-shape certificates, `f64` rows, a bound and a rate; 3 shards.
const RUN: [&str; 12] = [
    "--theorem",
    "sarsa-equivalence",
    "--theorem",
    "linear-td",
    "--theorem",
    "softmax-td-equivalence",
    "--theorem",
    "contraction-decay",
    "--cases",
    "8",
    "--seed",
    "5",
];

fn assert_merge_equals_unsharded(name: &str, args: &[&str], n: u64, code: i32) {
    let dir = tmpdir(name);
    let files = shards(&dir, args, n);
    let mut reversed = files.clone();
    reversed.reverse();
    for (format, flags) in [("json", &["--json"][..]), ("table", &[][..]), ("markdown", &["--format", "markdown"][..])]
    {
        let whole = verify(args, flags);
        let merged = merge(&reversed, flags);
        assert_eq!(whole.status.code(), Some(code), "{name} {format}: {}", stderr(&whole));
        assert_eq!(merged.status.code(), Some(code), "{name} {format}: {}", stderr(&merged));
        assert_eq!(without_wall(&stdout(&merged)), without_wall(&stdout(&whole)), "{name}: {format} differs");
        assert_eq!(stderr(&merged), stderr(&whole), "{name}: {format} stderr differs");
    }
    // Only wall_seconds is not compared, and it is the sum of the shards'.
    let merged = stdout(&merge(&files, &["--json"]));
    let wall = |text: &str| -> f64 {
        let v: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        v["summary"]["wall_seconds"].as_f64().unwrap()
    };
    let sum: f64 = files.iter().map(|f| wall(&std::fs::read_to_string(f).unwrap())).sum();
    assert!((wall(&merged) - sum).abs() <= 1e-9 * sum.max(1.0), "merged wall {} vs sum {sum}", wall(&merged));
}

#[test]
fn three_shards_merge_to_the_unsharded_run_byte_for_byte() {
    assert_merge_equals_unsharded("holds", &RUN, 3, 0);
    // The run has field rows with per-shape certificates (and `--certificates` merges too).
    let whole = stdout(&verify(&RUN, &["--json"]));
    let field: Vec<serde_json::Value> = whole
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["arithmetic"] == "field")
        .collect();
    assert_eq!(field.len(), 2, "{whole}");
    assert!(field.iter().all(|v| v["field_shapes"].as_array().is_some_and(|a| a.len() == 8)), "{whole}");
    let dir = tmpdir("certificates");
    let files = shards(&dir, &RUN, 3);
    let merged = merge(&files, &["--certificates"]);
    assert_eq!(without_wall(&stdout(&merged)), without_wall(&stdout(&verify(&RUN, &["--certificates"]))));
    assert!(stdout(&merged).contains("linear-td over F_p, p = "));
}

#[test]
fn a_theorem_with_fewer_cases_than_shards_and_one_shard() {
    // Two cases over five shards: three shards have no case of the theorem.
    let args = ["--theorem", "sarsa-stacking", "--theorem", "linear-td-lambda", "--cases", "2", "--seed", "1"];
    assert_merge_equals_unsharded("sparse", &args, 5, 0);
    // `--shard 0/1` is the whole run.
    assert_merge_equals_unsharded("one", &args, 1, 0);
}

#[test]
fn a_sabotaged_run_merges_to_the_same_failure() {
    let args =
        ["--theorem", "sarsa-equivalence", "--theorem", "linear-td", "--cases", "7", "--seed", "9", "--sabotage"];
    assert_merge_equals_unsharded("sabotage", &args, 3, 1);
    // The failure is the unsharded run's first (the lowest failing case), with its instance.
    let whole = stdout(&verify(&args, &[]));
    assert!(whole.contains("FAILED sarsa-equivalence (seed 9, case 0)"), "{whole}");
    assert!(whole.contains("instance (icrl check accepts it): {"), "{whole}");
}

/// One `error:` line naming `what`, exit 2, nothing on stdout.
fn assert_refused(o: &Output, what: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(stdout(o).is_empty(), "{}", stdout(o));
    assert_eq!(e.lines().filter(|l| l.starts_with("error:")).count(), 1, "{e}");
    assert!(e.lines().next().unwrap().contains(what), "{what} not named in: {e}");
}

#[test]
fn merge_refuses_what_is_not_one_complete_run() {
    let dir = tmpdir("refuse");
    let args = ["--theorem", "sarsa-equivalence", "--cases", "6", "--seed", "2"];
    let files = shards(&dir, &args, 3);
    // Positive control: the three shards merge.
    assert_eq!(merge(&files, &[]).status.code(), Some(0));
    // Two copies of one shard.
    let dup = dir.join("copy-of-0.json");
    std::fs::copy(&files[0], &dup).unwrap();
    let dup = dup.to_str().unwrap().to_string();
    assert_refused(&merge(&[files[0].clone(), files[1].clone(), dup.clone()], &[]), &dup);
    assert_refused(&merge(&[files[0].clone(), dup.clone(), files[1].clone(), files[2].clone()], &[]), "given twice");
    // A missing shard.
    assert_refused(&merge(&files[..2], &[]), "shard 2/3");
    // A shard of another seed, of other cases, of another N.
    let other = tmpdir("refuse-other");
    let seed3 = shards(&other, &["--theorem", "sarsa-equivalence", "--cases", "6", "--seed", "3"], 3);
    assert_refused(&merge(&[files[0].clone(), files[1].clone(), seed3[2].clone()], &[]), &seed3[2]);
    assert!(stderr(&merge(&[files[0].clone(), seed3[1].clone(), files[2].clone()], &[])).contains("seed 3"));
    let cases7 = shards(&other, &["--theorem", "sarsa-equivalence", "--cases", "7", "--seed", "2"], 3);
    assert_refused(&merge(&[files[0].clone(), files[1].clone(), cases7[2].clone()], &[]), "theorems");
    let n2 = shards(&other, &args, 2);
    assert_refused(&merge(&[files[0].clone(), n2[1].clone()], &[]), "shard count");
    // A plain verify output, an edited row, an unknown key, a truncated file, a missing file.
    let bad = |name: &str, text: &str| -> String {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let plain = bad("plain.json", &stdout(&verify(&args, &["--json"])));
    assert_refused(&merge(std::slice::from_ref(&plain), &[]), &plain);
    let text = std::fs::read_to_string(&files[1]).unwrap();
    let edited = bad("edited.json", &text.replacen("\"cases\":2", "\"cases\":3", 1));
    assert_refused(&merge(&[files[0].clone(), edited.clone(), files[2].clone()], &[]), &format!("{edited} line 1"));
    let unknown = bad("unknown.json", &text.replacen("{\"shard\":{", "{\"shard\":{\"extra\":1,", 1));
    assert_refused(&merge(&[files[0].clone(), unknown.clone(), files[2].clone()], &[]), "unknown field");
    let truncated = bad("truncated.json", text.lines().next().unwrap());
    assert_refused(&merge(&[files[0].clone(), truncated.clone(), files[2].clone()], &[]), &truncated);
    // Too large (a sparse file: refused from its size, before it is read).
    let huge = dir.join("huge.json");
    std::fs::File::create(&huge).unwrap().set_len(icrl_proofs::merge::MAX_FILE_BYTES + 1).unwrap();
    let huge = huge.to_str().unwrap().to_string();
    assert_refused(&merge(&[files[0].clone(), huge.clone(), files[2].clone()], &[]), &huge);
    let missing = dir.join("no-such.json").to_str().unwrap().to_string();
    assert_refused(&merge(std::slice::from_ref(&missing), &[]), &missing);
}

#[test]
fn shard_parses_strictly() {
    for bad in ["3/3", "1/0", "a/b", "01/3", "+1/3", "1/", "/3", "1", " 1/3", "1/3/3", "18446744073709551616/3"] {
        let o = icrl(&["verify", "--theorem", "sarsa-equivalence", "--cases", "1", "--shard", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).starts_with("error:") && stderr(&o).contains("--shard"), "{bad}: {}", stderr(&o));
        assert!(stdout(&o).is_empty());
    }
    assert_eq!(Shard::parse("0/3"), Ok(Shard { index: 0, count: 3 }));
    assert_eq!(Shard::parse("15/16"), Ok(Shard { index: 15, count: 16 }));
    let o = icrl(&["verify", "--theorem", "sarsa-equivalence", "--case", "0", "--shard", "0/2"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn every_case_is_in_exactly_one_shard_and_shares_are_even() {
    for t in icrl_proofs::theorem::registry() {
        for n in [1u64, 2, 3, 16] {
            let mut per = vec![0u64; n as usize];
            for k in 0..100u64 {
                let owners: Vec<u64> = (0..n).filter(|&i| Shard { index: i, count: n }.owns(t.id, k)).collect();
                assert_eq!(owners.len(), 1, "{} case {k} of {n}", t.id);
                per[owners[0] as usize] += 1;
            }
            let (lo, hi) = (per.iter().min().unwrap(), per.iter().max().unwrap());
            assert!(hi - lo <= 1, "{}: {per:?}", t.id);
        }
    }
    // The offset by theorem: the six cases of the small rate theorems do not all start at shard 0.
    let starts: std::collections::BTreeSet<u64> = icrl_proofs::theorem::registry()
        .iter()
        .map(|t| (0..16).find(|&i| Shard { index: i, count: 16 }.owns(t.id, 0)).unwrap())
        .collect();
    assert!(starts.len() > 4, "{starts:?}");
}
