//! Every saved counterexample under `fixtures/counterexamples/` still violates its theorem's
//! conclusion, and every instance under `fixtures/instances/` passes `icrl check`.

use icrl_proofs::instance::{parse_json, Instance};

fn json_files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn counterexamples_replay() {
    let files = json_files(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/counterexamples"));
    assert!(files.len() >= 2, "expected the committed counterexamples, found {files:?}");
    for f in files {
        let v = parse_json(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let cx = v.get("counterexample").unwrap_or_else(|| panic!("{}: no counterexample block", f.display()));
        let th = cx["theorem"].as_str().unwrap();
        let rl = cx["relax"].as_str().unwrap();
        let replay = icrl_proofs::theorem::replay_fn(th, rl)
            .unwrap_or_else(|| panic!("{}: no replay for {th} / {rl}", f.display()));
        let violation = replay(&v).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(violation > 0.0, "{}: the counterexample no longer violates {th} with {rl} relaxed", f.display());
        // (The replay's number is "> 0 iff still a counterexample"; some searches record the
        // raw measured quantity instead, e.g. a growth rate whose threshold is ln 2.)
        assert!(cx["violation"].as_f64().is_some(), "{}: no recorded violation", f.display());
    }
}

#[test]
fn instances_pass_check() {
    for f in json_files(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/instances")) {
        let inst = Instance::from_json_text(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let res = icrl_proofs::theorem::check_instance(&inst).unwrap();
        assert!(!res.is_empty() && res.iter().all(|r| r.holds), "{}: {res:?}", f.display());
    }
}
