//! The binary: exit codes (0 holds, 1 fails, 2 usage/input error), one `error:` line naming the
//! field, nothing written on error, catalogue and verify-table snapshots, determinism across
//! thread counts.

use crate::common::{icrl, stderr, stdout};
use std::path::PathBuf;
use std::process::{Command, Output};

fn icrl_env(args: &[&str], threads: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icrl")).args(args).env("RAYON_NUM_THREADS", threads).output().expect("runs")
}

fn tmpdir(name: &str) -> PathBuf {
    crate::common::tmpdir("cli", name)
}

const EXAMPLE: &str = include_str!("../../fixtures/instances/sarsa-example.json");

#[test]
fn list_prints_the_catalogue() {
    let o = icrl(&["list"]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("catalogue", stdout(&o));
    let j = icrl(&["list", "--json"]);
    for line in stdout(&j).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(["[Q]", "[D]", "[R]"].contains(&v["provenance"].as_str().unwrap()));
    }
}

#[test]
fn verify_table_is_deterministic_across_thread_counts() {
    let args = ["verify", "--cases", "12", "--seed", "42"];
    let a = icrl_env(&args, "1");
    let b = icrl_env(&args, "2");
    assert_eq!(a.status.code(), Some(0), "{}", stdout(&a));
    let table = |o: &Output| stdout(o).lines().filter(|l| !l.starts_with("seed ")).collect::<Vec<_>>().join("\n");
    assert_eq!(table(&a), table(&b));
    // The snapshot holds the canonical content of the table: f64 errors and tolerances rounded
    // up to their power of ten (rounding-level noise from a reordered sum is not a theory change).
    let j = icrl_env(&["verify", "--cases", "12", "--seed", "42", "--json"], "2");
    insta::assert_snapshot!("verify_table_seed_42", canonical_table(&stdout(&j)));
    let ja = icrl_env(&["verify", "--cases", "12", "--seed", "42", "--json"], "1");
    let jb = icrl_env(&["verify", "--cases", "12", "--seed", "42", "--json"], "3");
    let strip = |o: &Output| stdout(o).lines().filter(|l| !l.contains("wall_seconds")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&ja), strip(&jb));
}

fn pow10_up(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.is_finite() {
        format!("<=1e{}", x.log10().ceil() as i32)
    } else {
        format!("{x}")
    }
}

fn canonical_table(jsonl: &str) -> String {
    let mut out = String::new();
    for line in jsonl.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v.get("theorem").is_none() {
            continue;
        }
        let cert = v["sz_log10_bound"]
            .as_f64()
            .map_or(String::new(), |b| format!("10^{:.0} ({} shapes, deg {})", b, v["sz_shapes"], v["sz_degree"]));
        out.push_str(&format!(
            "{:<30} {} {:<8} {:<6} {:>5} err {:<8} tol {:<8} {:<6} {}\n",
            v["theorem"].as_str().unwrap(),
            v["provenance"].as_str().unwrap(),
            v["kind"].as_str().unwrap(),
            v["arithmetic"].as_str().unwrap(),
            v["cases"],
            pow10_up(v["worst_error"].as_f64().unwrap_or(f64::NAN)),
            pow10_up(v["tolerance"].as_f64().unwrap_or(f64::NAN)),
            if v["holds"].as_bool().unwrap() { "holds" } else { "FAILS" },
            cert
        ));
    }
    out
}

#[test]
fn verify_fails_with_seed_and_replay_when_a_construction_is_broken() {
    let o = icrl(&["verify", "--theorem", "sarsa-equivalence", "--cases", "10", "--seed", "9", "--sabotage"]);
    assert_eq!(o.status.code(), Some(1));
    let s = stdout(&o);
    assert!(s.contains("FAILED sarsa-equivalence (seed 9, case 0)"), "{s}");
    assert!(s.contains("replay: icrl verify --theorem sarsa-equivalence --seed 9 --case 0"), "{s}");
    assert!(s.contains("suspect our code first, then our reading of the paper"), "{s}");
    assert!(s.contains("\"family\":\"sarsa\""), "the instance is printed: {s}");
    // The replay command reproduces the failure alone.
    let r = icrl(&["verify", "--theorem", "sarsa-equivalence", "--seed", "9", "--case", "0", "--sabotage"]);
    assert_eq!(r.status.code(), Some(1));
}

#[test]
fn check_prints_the_results_json_of_the_spec_example() {
    let d = tmpdir("check");
    let f = d.join("example.json");
    std::fs::write(&f, EXAMPLE).unwrap();
    let o = icrl(&["check", f.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["family"], "sarsa");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["theorem"], "sarsa-equivalence");
        assert!(r["holds"].as_bool().unwrap());
        assert_eq!(r["transformer"].as_array().unwrap().len(), 3);
        assert_eq!(r["transformer"], r["reference"]);
    }
    assert_eq!(results[0]["arithmetic"], "exact");
    assert_eq!(results[1]["arithmetic"], "f64");
}

/// Each malformed input: exit 2, one `error:` line naming the field, nothing written.
#[test]
fn bad_input_is_a_typed_error_naming_the_field() {
    let d = tmpdir("bad");
    let cases: Vec<(&str, String, &str)> = vec![
        ("malformed JSON", EXAMPLE.replace("\"gamma\": 0.5,", "\"gamma\": 0.5"), "malformed JSON"),
        ("non-stochastic row", EXAMPLE.replace("[0.2, 0.8]", "[0.2, 0.7]"), "mdp.transitions[0][0]"),
        ("gamma = 1", EXAMPLE.replace("\"gamma\": 0.5", "\"gamma\": 1.0"), "mdp.gamma"),
        ("NaN", EXAMPLE.replace("[1.0, 0.0, 0.2]", "[1.0, NaN, 0.2]"), "features[0][0][1]"),
        (
            "impossible step",
            EXAMPLE.replace("[0.5, 0.5], [0.3, 0.7]]]", "[1.0, 0.0], [0.3, 0.7]]]"),
            "trajectory.states[2]: impossible step 1 --0--> 1",
        ),
        (
            "mismatched lengths",
            EXAMPLE.replace("\"actions\": [1, 0, 1, 0]", "\"actions\": [1, 0, 1]"),
            "trajectory.actions",
        ),
        (
            "state out of range",
            EXAMPLE.replace("\"states\": [0, 1, 1, 0]", "\"states\": [0, 1, 7, 0]"),
            "trajectory.states[2]: state 7 out of range 0..2",
        ),
        ("w length", EXAMPLE.replace("\"w\": [0.1, -0.2, 0.3]", "\"w\": [0.1, -0.2]"), "params.w"),
        ("negative probability", EXAMPLE.replace("[0.4, 0.6]", "[-0.4, 1.4]"), "mdp.transitions[0][1][0]"),
    ];
    for (what, text, field) in cases {
        let f = d.join("bad.json");
        std::fs::write(&f, &text).unwrap();
        let o = icrl(&["check", f.to_str().unwrap(), "--json"]);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", stderr(&o));
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{what}: one line expected: {e}");
        assert!(e.starts_with("error: "), "{what}: {e}");
        assert!(e.contains(field), "{what}: {e} should name {field}");
        assert!(!e.contains("panicked"), "{what}: {e}");
        // Under --json the error is also one JSON line on stdout, naming the same field.
        let j: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("one JSON error line");
        assert!(
            j["error"]["field"].as_str().is_some_and(|f| field.contains(f) || f.contains(field) || e.contains(f)),
            "{what}: {j}"
        );
        let o = icrl(&["check", f.to_str().unwrap()]);
        assert!(stdout(&o).is_empty(), "{what}: nothing on stdout without --json");
    }
    let before: Vec<_> = std::fs::read_dir(&d).unwrap().collect();
    // Usage errors: exit 2, nothing written.
    let out = d.join("never.json");
    for args in [
        vec!["verify", "--theorem", "no-such-theorem"],
        vec!["verify", "--cases", "0"],
        vec!["verify", "--cases", "many"],
        vec!["search", "--theorem", "linear-td", "--relax", "no-such-assumption", "--out", out.to_str().unwrap()],
        vec![
            "search",
            "--theorem",
            "linear-td",
            "--relax",
            "query-mask",
            "--budget",
            "0",
            "--out",
            out.to_str().unwrap(),
        ],
        vec!["check", "/nonexistent/file.json"],
        vec!["frobnicate"],
    ] {
        let o = icrl(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with("error:"), "{args:?}: {}", stderr(&o));
        // Our input errors are one line; clap's usage errors add the usage after one `error:` line.
        assert_eq!(stderr(&o).lines().filter(|l| l.starts_with("error:")).count(), 1, "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), before.len());
}

#[test]
fn search_finds_the_two_layer_query_mask_counterexample() {
    let d = tmpdir("search");
    let out = d.join("cx.json");
    let o = icrl(&[
        "search",
        "--theorem",
        "linear-td",
        "--relax",
        "query-mask",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = icrl_proofs::instance::parse_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["params"]["layers"], 2, "shrinks to L = 2");
    assert_eq!(v["counterexample"]["first_failing_layer"], 2);
    assert!(icrl_proofs::theorem::replay_fn("linear-td", "query-mask").unwrap()(&v).unwrap() > 0.0);
    // `check` reads a counterexample file, reports the replayed violation.
    let c = icrl(&["check", out.to_str().unwrap()]);
    assert_eq!(c.status.code(), Some(0));
    assert!(stdout(&c).contains("counterexample to linear-td with `query-mask` relaxed"));
}

#[test]
fn relaxing_one_of_p22_v22_alone_finds_nothing() {
    let d = tmpdir("search2");
    let out = d.join("cx.json");
    let o = icrl(&[
        "search",
        "--theorem",
        "sarsa-equivalence",
        "--relax",
        "p22-zero",
        "--budget",
        "300",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists());
}

/// Usage errors carry clap's whole message: the missing argument's name, the did-you-mean tip,
/// the possible values; still exit 2 and one leading `error:` line.
#[test]
fn usage_errors_name_the_argument_and_suggest() {
    let cases: [(&[&str], &[&str]); 5] = [
        (&["check"], &["<FILE>", "Usage: icrl check"]),
        (&["lst"], &["'lst'", "similar subcommand", "'list'"]),
        (&["train", "q-learning"], &["q-learning", "sarsa", "td"]),
        (&["verify", "--format", "pdf"], &["table", "markdown", "latex", "json"]),
        (&["report", "decay", "--seed", "x"], &["--seed"]),
    ];
    for (args, needles) in cases {
        let o = icrl(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert!(e.starts_with("error:"), "{args:?}: {e}");
        assert_eq!(e.lines().filter(|l| l.starts_with("error:")).count(), 1, "{args:?}: {e}");
        for n in needles {
            assert!(e.contains(n), "{args:?}: {e} should contain {n}");
        }
        assert!(stdout(&o).is_empty());
    }
}

/// Help lists every command and report kind, each subcommand's help has examples and the exit
/// codes, closed sets list their values, and no help text names a Rust symbol.
#[test]
fn help_explains_itself() {
    let top = stdout(&icrl(&["--help"]));
    for c in ["list", "verify", "check", "search", "bench", "train", "report"] {
        assert!(top.contains(&format!("  {c} ")), "top-level help lists {c}: {top}");
    }
    for k in crate::common::report_kinds() {
        assert!(top.contains(k), "top-level help names report {k}");
    }
    let mut pages = vec![top];
    for c in ["list", "verify", "check", "search", "bench", "train", "report"] {
        let h = stdout(&icrl(&[c, "--help"]));
        assert!(h.contains("Exit status"), "{c} --help states the exit codes: {h}");
        assert!(h.contains("Example"), "{c} --help has an example: {h}");
        pages.push(h);
    }
    for k in crate::common::report_kinds() {
        let h = stdout(&icrl(&["report", k, "--help"]));
        assert!(h.contains("Example:") && h.contains("--json") && h.contains("[default: report-out]"), "{k}: {h}");
        pages.push(h);
    }
    let values = [
        ("train", vec!["sarsa", "td", "small", "paper"]),
        ("verify", vec!["table", "markdown", "latex", "json"]),
        ("list", vec!["JSON Lines"]),
        ("bench", vec!["sarsa-paper-exact", "linear-td-wb", "softmax-td"]),
    ];
    for (c, vs) in values {
        let h = stdout(&icrl(&[c, "--help"]));
        for v in vs {
            assert!(h.contains(v), "{c} --help lists {v}: {h}");
        }
    }
    for p in &pages {
        assert!(!p.contains("::"), "a Rust path in help: {p}");
        assert!(!p.contains("default_budget"), "{p}");
    }
}

/// `verify --format markdown` is a GFM table, `--format latex` a `tabular` that compiles (with
/// `pdflatex` when installed; structurally always), `--json` = `--format json`, and the
/// default table is unchanged by the new formats.
#[test]
fn verify_formats() {
    let args = ["verify", "--theorem", "sarsa-equivalence", "--theorem", "contraction-assumption", "--cases", "3"];
    let with = |extra: &[&str]| {
        let mut a = args.to_vec();
        a.extend_from_slice(extra);
        let o = icrl(&a);
        assert_eq!(o.status.code(), Some(0), "{extra:?}: {}", stderr(&o));
        stdout(&o)
    };
    let md = with(&["--format", "markdown"]);
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    let n_rows = with(&["--json"]).lines().filter(|l| l.contains("\"theorem\"")).count();
    assert!(n_rows >= 2);
    assert_eq!(rows.len(), 2 + n_rows, "{md}");
    let cols = rows[0].matches('|').count();
    assert!(rows.iter().all(|r| r.matches('|').count() == cols), "{md}");
    assert!(rows[1].chars().all(|c| "|:-".contains(c)), "separator row: {}", rows[1]);
    for kind in ["**equality**", "**bound**", "**rate**"] {
        assert!(md.contains(kind), "legend names {kind}: {md}");
    }
    let tex = with(&["--format", "latex"]);
    let body: Vec<&str> = tex.lines().filter(|l| !l.starts_with('%')).collect();
    assert!(body[0].starts_with("\\begin{tabular}{"), "{tex}");
    assert_eq!(body.last(), Some(&"\\end{tabular}"));
    let data: Vec<&&str> = body.iter().filter(|l| l.contains("\\texttt{")).collect();
    assert_eq!(data.len(), n_rows);
    for l in &data {
        assert_eq!(l.replace("\\&", "").matches('&').count(), 7, "{l}");
        assert!(l.ends_with("\\\\"), "{l}");
        assert!(!l.contains('_') || l.contains("\\_"), "unescaped _: {l}");
    }
    if Command::new("pdflatex").arg("--version").output().is_ok() {
        let d = tmpdir("latex");
        let doc = format!("\\documentclass{{article}}\n\\begin{{document}}\n{tex}\\end{{document}}\n");
        std::fs::write(d.join("t.tex"), doc).unwrap();
        let o = Command::new("pdflatex")
            .args(["-interaction=nonstopmode", "-halt-on-error", "t.tex"])
            .current_dir(&d)
            .output()
            .unwrap();
        assert!(o.status.success(), "pdflatex failed: {}", String::from_utf8_lossy(&o.stdout));
    }
    let json = with(&["--format", "json"]);
    assert_eq!(json.lines().count(), with(&["--json"]).lines().count());
    assert!(json.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    // Every format names each row's kind, the registry's.
    for l in json.lines().filter(|l| l.contains("\"theorem\"")) {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let t = icrl_proofs::theorem::find(v["theorem"].as_str().unwrap()).unwrap();
        assert_eq!(v["kind"], t.kind.name(), "{l}");
        let md_row = rows.iter().find(|r| r.contains(&format!("`{}`", t.id))).unwrap();
        assert!(md_row.contains(&format!("| {} |", t.kind.name())), "{md_row}");
        assert!(data.iter().any(|r| r.contains(t.kind.name())), "{tex}");
    }
    let table = with(&[]);
    assert!(table.starts_with("theorem "), "{table}");
    assert!(table.lines().next().unwrap().contains(" kind "), "{table}");
    for kind in ["equality", "bound", "rate"] {
        assert!(table.lines().any(|l| l.trim_start().starts_with(kind)), "plain legend names {kind}: {table}");
    }
    assert_eq!(icrl(&["verify", "--json", "--format", "table"]).status.code(), Some(2));
}

#[test]
fn list_formats() {
    let n = icrl_proofs::theorem::registry().len();
    let md = stdout(&icrl(&["list", "--format", "markdown"]));
    assert_eq!(md.lines().filter(|l| l.starts_with('|')).count(), n + 2);
    let tex = stdout(&icrl(&["list", "--format", "latex"]));
    assert_eq!(tex.lines().filter(|l| l.starts_with("\\texttt{")).count(), n);
    let jl = stdout(&icrl(&["list", "--format", "json"]));
    assert_eq!(jl, stdout(&icrl(&["list", "--json"])));
    assert_eq!(jl.lines().count(), n, "JSON Lines: one object per theorem");
    for (l, t) in jl.lines().zip(icrl_proofs::theorem::registry()) {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!((v["id"].as_str(), v["kind"].as_str()), (Some(t.id), Some(t.kind.name())), "{l}");
    }
    assert_eq!(stdout(&icrl(&["list"])), stdout(&icrl(&["list", "--format", "table"])));
}
