//! `--out` writes (issue 13, item 6): the path is tried before the work starts, an existing
//! file is replaced only with `--force`, a symbolic link is refused (never followed), and the
//! file appears whole (temporary file + rename: no temporary is left behind).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn icrl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icrl")).args(args).output().expect("runs")
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("icrl-writes-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The cheap search of the README (finds and shrinks a counterexample in well under a second).
fn search(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["search", "--theorem", "linear-td", "--relax", "query-mask", "--seed", "3", "--out"];
    args.push(out.to_str().unwrap());
    args.extend_from_slice(extra);
    icrl(&args)
}

fn one_error_line(o: &Output, needle: &str) {
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.starts_with("error: --out") && e.lines().count() == 1 && e.contains(needle), "{e}");
    assert!(o.stdout.is_empty(), "refused before the search printed anything");
}

fn entries(d: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn an_existing_file_is_replaced_only_with_force() {
    let d = tmpdir("existing");
    let out = d.join("cx.json");
    std::fs::write(&out, "keep me").unwrap();
    one_error_line(&search(&out, &[]), "--force");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me", "untouched");
    assert_eq!(entries(&d), ["cx.json"], "no temporary left behind");
    // With --force the file is replaced by the whole counterexample.
    let o = search(&out, &["--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["counterexample"]["theorem"], "linear-td");
    assert_eq!(entries(&d), ["cx.json"]);
}

#[test]
fn a_new_file_is_written_whole_and_nothing_else() {
    let d = tmpdir("new");
    let out = d.join("cx.json");
    let o = search(&out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&out).unwrap()).is_ok());
    assert_eq!(entries(&d), ["cx.json"]);
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_is_refused_not_followed() {
    let d = tmpdir("symlink");
    let target = d.join("target.txt");
    std::fs::write(&target, "precious").unwrap();
    let link = d.join("cx.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for extra in [&[][..], &["--force"][..]] {
        one_error_line(&search(&link, extra), "symbolic link");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    }
}

#[test]
fn an_unwritable_directory_is_refused_before_the_search_runs() {
    // A directory that cannot exist (its parent is a regular file); tests may run as root, so
    // permission bits would not stop the write. The search named here runs gradient flows for
    // seconds per candidate: refusing first is what keeps this test instant.
    let d = tmpdir("unwritable");
    std::fs::write(d.join("file"), "").unwrap();
    let out = d.join("file").join("cx.json");
    let o = icrl(&[
        "search",
        "--theorem",
        "sarsa-local-convergence-rate",
        "--relax",
        "spectral-gap",
        "--budget",
        "100000",
        "--out",
        out.to_str().unwrap(),
    ]);
    one_error_line(&o, "cx.json");
    assert_eq!(entries(&d), ["file"]);
}

#[test]
fn report_files_are_written_atomically() {
    let d = tmpdir("report");
    let p = icrl_proofs::report::write_text(&d, "t.txt", "one").unwrap();
    icrl_proofs::report::write_text(&d, "t.txt", "two").unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
    assert_eq!(entries(&d), ["t.txt"]);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(d.join("t.txt"), d.join("l.txt")).unwrap();
        assert!(icrl_proofs::report::write_text(&d, "l.txt", "x").is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
    }
}
