//! The registry as the single truth: `icrl check` with user weights (issue 8 must-shows), every
//! instance a sabotaged `verify` prints replays through `check`, the two sides' trajectory
//! readings are independent (a mutated pairing on either side fails `verify`), strict
//! Python-friendly input, and resource limits.

use icrl_proofs::theorem::{registry, ArithFilter, CheckCtx, CheckKind, Sides};
use icrl_proofs::verify::{run, VerifyConfig};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const EXAMPLE: &str = include_str!("../../fixtures/instances/sarsa-example.json");

fn icrl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icrl")).args(args).output().expect("runs")
}

fn icrl_stdin(args: &[&str], input: &str) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_icrl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn check_value(v: &Value) -> Output {
    icrl_stdin(&["check", "-"], &v.to_string())
}

fn example() -> Value {
    serde_json::from_str(EXAMPLE).unwrap()
}

/// `(cP⋆, c⁻¹V⋆)` for the example (`d = 3`, `α = 0.2`) as JSON rows, built by the library's
/// construction.
fn sarsa_weights(c: f64) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let (p, v) = icrl_proofs::theorem::sarsa::construction(3, &0.2, &c, false);
    let rows = |m: &icrl_proofs::linalg::Mat<f64>| (0..m.rows()).map(|i| m.row(i).to_vec()).collect::<Vec<_>>();
    (rows(&p), rows(&v))
}

#[test]
fn sarsa_weights_c_minus_2_hold_exactly_and_one_p12_entry_fails_naming_it() {
    let (p, v) = sarsa_weights(-2.0);
    let mut inst = example();
    inst["weights"] = json!({"P": p, "V": v});
    let o = icrl_stdin(&["check", "-", "--json"], &inst.to_string());
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let r: Value = serde_json::from_str(out(&o).trim()).unwrap();
    let exact = r["results"].as_array().unwrap().iter().find(|x| x["arithmetic"] == "exact").unwrap();
    assert_eq!(exact["holds"], json!(true));
    assert_eq!(exact["max_abs_error"], json!(0.0));
    assert_eq!(exact["weights"], json!(true));
    // One entry of P12 (reward row of the token block, the constant-1 column): t = 2d + 1 = 7.
    let mut p2 = p.clone();
    p2[6][7] += 0.25;
    inst["weights"] = json!({"P": p2, "V": v});
    let o = check_value(&inst);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("first differing output entry: w'["), "{}", out(&o));
    // The negative control of the control: the construction at c = -2 from params holds too.
    let mut inst = example();
    inst["params"]["c"] = json!(-2.0);
    assert_eq!(check_value(&inst).status.code(), Some(0));
}

#[test]
fn misspelled_and_conflicting_keys_exit_2_naming_the_path() {
    let mut inst = example();
    inst["params"]["alhpa"] = json!(0.5);
    let o = check_value(&inst);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("params.alhpa: unknown key; did you mean `alpha`?"), "{}", err(&o));
    assert!(out(&o).is_empty());
    // Every level: top, mdp, trajectory, weights.
    for (path, patch) in [
        ("famliy", json!({"famliy": "sarsa"})),
        ("mdp.gama", json!({"mdp": {"gama": 0.5}})),
        ("trajectory.reward", json!({"trajectory": {"reward": [0.0]}})),
    ] {
        let mut inst = example();
        for (k, v) in patch.as_object().unwrap() {
            match v {
                Value::Object(m) => {
                    for (k2, v2) in m {
                        inst[k][k2] = v2.clone();
                    }
                }
                _ => inst[k] = v.clone(),
            }
        }
        let o = check_value(&inst);
        assert_eq!(o.status.code(), Some(2), "{path}");
        assert!(err(&o).contains(&format!("{path}: unknown key")), "{path}: {}", err(&o));
    }
    let (p, v) = sarsa_weights(1.0);
    let mut inst = example();
    inst["weights"] = json!({"P": p, "V": v, "Q": [[0.0]]});
    assert!(err(&check_value(&inst)).contains("weights.Q: unknown key"));
    // Conflicts (linear-td): alpha and preconditioner.
    let td = json!({
        "family": "linear-td",
        "mdp": {"gamma": 0.9, "transitions": [[0.5, 0.5], [0.25, 0.75]], "rewards": [1.0, -1.0]},
        "features": [[1.0], [0.5]],
        "trajectory": {"states": [0, 1, 1], "rewards": [1.0, -1.0]},
        "params": {"query_state": 0, "alpha": 0.5, "preconditioner": [[1.0]]}
    });
    let o = check_value(&td);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("params.preconditioner: give either alpha or preconditioner"), "{}", err(&o));
    // Under --json the input error is JSON on stdout.
    let mut inst = example();
    inst["params"]["alhpa"] = json!(0.5);
    let o = icrl_stdin(&["check", "-", "--json"], &inst.to_string());
    assert_eq!(o.status.code(), Some(2));
    let e: Value = serde_json::from_str(out(&o).trim()).unwrap();
    assert_eq!(e["error"]["field"], json!("params.alhpa"));
    assert!(e["error"]["message"].as_str().unwrap().contains("did you mean"));
}

#[test]
fn float32_rows_and_rewards_mrp_shorthand_and_json_lines() {
    // Rows off by 3.7e-8 (float32) are accepted and renormalized, and the output says so.
    let f32r = |x: f64| x as f32 as f64;
    let mut inst = example();
    inst["mdp"]["transitions"] =
        json!([[[f32r(0.2), f32r(0.8)], [f32r(0.4), f32r(0.6)]], [[0.5, 0.5], [f32r(0.3), f32r(0.7)]]]);
    inst["trajectory"]["rewards"] = json!([f32r(0.3), 0.0, f32r(-0.2)]);
    let o = check_value(&inst);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("renormalized"), "{}", out(&o));
    assert!(out(&o).contains("float32 rounding"), "{}", out(&o));
    // Off by 1e-4: still rejected.
    let mut bad = example();
    bad["mdp"]["transitions"][0][0] = json!([0.2001, 0.8]);
    assert_eq!(check_value(&bad).status.code(), Some(2));
    // MRP shorthand: transitions (S,S), rewards (S,) and (S,S).
    let mut td = json!({
        "family": "linear-td",
        "mdp": {"gamma": 0.9, "transitions": [[0.5, 0.5], [0.25, 0.75]], "rewards": [1.0, -1.0]},
        "features": [[1.0], [0.5]],
        "trajectory": {"states": [0, 1, 1], "rewards": [1.0, -1.0]},
        "params": {"query_state": 0, "alpha": 0.5, "layers": 2}
    });
    assert_eq!(check_value(&td).status.code(), Some(0));
    td["mdp"]["rewards"] = json!([[1.0, 2.0], [-1.0, 0.0]]);
    td["trajectory"]["rewards"] = json!([2.0, 0.0]);
    assert_eq!(check_value(&td).status.code(), Some(0));
    // JSON Lines: one result line each, in input order; a failing one gives exit 1.
    let (p, v) = sarsa_weights(1.0);
    let mut bad = example();
    let mut p2 = p.clone();
    p2[6][7] += 0.25;
    bad["weights"] = json!({"P": p2, "V": v});
    let text = format!("{}\n{}\n{}\n", td, example(), bad);
    let o = icrl_stdin(&["check", "-", "--json"], &text);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<Value> = out(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let fams: Vec<&str> = lines.iter().map(|l| l["family"].as_str().unwrap()).collect();
    assert_eq!(fams, ["linear-td", "sarsa", "sarsa"]);
    assert!(lines[2]["results"].as_array().unwrap().iter().all(|r| r["holds"] == json!(false)));
    // An input error on line 2 names the line; nothing else is printed.
    let mut typo = example();
    typo["params"]["alhpa"] = json!(1.0);
    let o = icrl_stdin(&["check", "-"], &format!("{}\n{}\n", td, typo));
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("line 2: params.alhpa"), "{}", err(&o));
    assert!(out(&o).is_empty());
}

/// Every theorem with an instance family that takes weights: the instance a sabotaged
/// `verify` prints replays through `icrl check` to exit 1, and without `weights` to exit 0.
#[test]
fn sabotaged_verify_instances_replay_through_check() {
    let specs: Vec<_> = registry().into_iter().filter(|t| t.instance.is_some_and(|i| i.takes_weights)).collect();
    assert!(specs.len() >= 7, "{:?}", specs.iter().map(|t| t.id).collect::<Vec<_>>());
    let dir = std::env::temp_dir().join(format!("icrl-registry-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for t in specs {
        let cfg = VerifyConfig {
            cases: Some(8),
            seed: 3,
            arith: ArithFilter::Both,
            sabotage: true,
            only_case: None,
            progress: false,
            sides: Sides::default(),
        };
        let rep = run(std::slice::from_ref(&t), &cfg);
        let f = rep.failures.first().unwrap_or_else(|| panic!("{} must fail under sabotage", t.id));
        let inst = f.instance.clone().unwrap_or_else(|| panic!("{}: no instance printed", t.id));
        assert!(inst.get("weights").is_some(), "{}: the printed instance carries no weights", t.id);
        let path = dir.join(format!("{}.json", t.id));
        std::fs::write(&path, inst.to_string()).unwrap();
        let o = icrl(&["check", path.to_str().unwrap(), "--json"]);
        assert_eq!(o.status.code(), Some(1), "{}: {}{}", t.id, out(&o), err(&o));
        // The replay runs the same theorem (linear-td-residual replays as residual, not TD(0)).
        let r: Value = serde_json::from_str(out(&o).trim()).unwrap();
        let ids: Vec<&str> = r["results"].as_array().unwrap().iter().map(|x| x["theorem"].as_str().unwrap()).collect();
        assert!(ids.contains(&t.id), "{}: replayed as {ids:?}", t.id);
        let mut plain = inst.clone();
        plain.as_object_mut().unwrap().remove("weights");
        std::fs::write(&path, plain.to_string()).unwrap();
        let o = icrl(&["check", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}: {}{}", t.id, out(&o), err(&o));
    }
}

fn mutated_next_action(traj: &icrl_proofs::mdp::rollout::Trajectory, i: usize) -> (usize, usize) {
    (traj.states[i + 1], traj.actions[i])
}

fn mutated_next_state(traj: &icrl_proofs::mdp::rollout::Trajectory, i: usize) -> (usize, usize) {
    (traj.states[i], traj.actions[i + 1])
}

/// Issue 13 item 1: `φ⁺` from `a_i` instead of the recorded `a_{i+1}` (or, for MRPs, `x(s_i)`
/// instead of `x(s_{i+1})`) on either side alone fails `verify`: the mutated pairing function
/// is passed into the same check bodies `verify` runs.
#[test]
fn a_mutated_pairing_on_either_side_fails_verify() {
    let real = Sides::default();
    for (ids, m) in [
        (
            &["sarsa-equivalence", "sarsa-stacking", "actor-critic-equivalence"][..],
            mutated_next_action as icrl_proofs::mdp::batch::Pairing,
        ),
        (&["linear-td", "linear-td-lambda", "linear-td-residual"][..], mutated_next_state),
    ] {
        let specs: Vec<_> = registry().into_iter().filter(|t| ids.contains(&t.id)).collect();
        for sides in [Sides { prompt_pairing: m, ..real }, Sides { reference_pairing: m, ..real }] {
            let cfg = VerifyConfig {
                cases: Some(40),
                seed: 0,
                arith: ArithFilter::Both,
                sabotage: false,
                only_case: None,
                progress: false,
                sides,
            };
            let rep = run(&specs, &cfg);
            // The field rows draw free prompts (no trajectory, so no pairing): not affected.
            let read_trajectory =
                |r: &&icrl_proofs::verify::Row| r.arithmetic != icrl_proofs::theorem::Arithmetic::Field;
            for row in rep.rows.iter().filter(read_trajectory) {
                assert!(!row.holds, "{} {:?} holds under a mutated pairing", row.theorem, row.arithmetic);
            }
            assert!(rep.rows.iter().any(|r| !read_trajectory(&r) && r.holds), "the field rows ran and hold");
        }
        // Control: the real pairings hold.
        let cfg = VerifyConfig {
            cases: Some(40),
            seed: 0,
            arith: ArithFilter::Both,
            sabotage: false,
            only_case: None,
            progress: false,
            sides: real,
        };
        assert!(run(&specs, &cfg).all_hold());
    }
}

fn mrp_instance(family: &str, n: usize, params: Value) -> Value {
    json!({
        "family": family,
        "mdp": {"gamma": 0.5, "transitions": [[1.0]], "rewards": [0.25]},
        "features": [[0.5]],
        "trajectory": {"states": vec![0; n + 1], "rewards": vec![0.25; n]},
        "params": params
    })
}

/// Issue 13 item 5: each of these exits 2 or finishes within 10 s (no abort, no signal).
#[test]
fn resource_limits_refuse_or_finish_in_time() {
    let cases = [
        ("linear-td layers 1e9", mrp_instance("linear-td", 4, json!({"query_state": 0, "layers": 1_000_000_000u64}))),
        ("linear-td layers 1e6", mrp_instance("linear-td", 4, json!({"query_state": 0, "layers": 1_000_000}))),
        ("linear-td n 1e4", mrp_instance("linear-td", 10_000, json!({"query_state": 0}))),
        ("softmax-td n 1e4", mrp_instance("softmax-td", 10_000, json!({}))),
        ("softmax-td layers 1e5", mrp_instance("softmax-td", 64, json!({"layers": 100_000}))),
    ];
    for (name, inst) in cases {
        let t0 = Instant::now();
        let o = check_value(&inst);
        assert!(t0.elapsed() < Duration::from_secs(10), "{name}: took {:?}", t0.elapsed());
        assert!(matches!(o.status.code(), Some(0) | Some(2)), "{name}: {:?} {}", o.status, err(&o));
        if o.status.code() == Some(2) {
            assert!(err(&o).contains("exceeds the limit") && err(&o).contains("--max-"), "{name}: {}", err(&o));
        }
    }
    // Exact sarsa over 1000 layers: the exact check is skipped (said in the output), f64 runs.
    let mut inst = example();
    inst["params"]["layers"] = json!(1000);
    inst["params"]["alpha"] = json!(0.01);
    let t0 = Instant::now();
    let o = check_value(&inst);
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("exact arithmetic skipped"), "{}", out(&o));
    // Raising the limit is possible (and the flag is the one named).
    let o = icrl_stdin(
        &["check", "-", "--max-work", "1e12"],
        &mrp_instance("linear-td", 4, json!({"query_state": 0, "layers": 1_000_000_000u64})).to_string(),
    );
    assert_eq!(o.status.code(), Some(2), "memory still bounds it: {}", err(&o));
}

/// The kinds (equality, bound, rate) of the claim measurements of the first case of `t` that has
/// any, negative controls left out; each kind is set by the `Measurement` constructor its check
/// body calls.
fn measured_kinds(t: &icrl_proofs::theorem::TheoremSpec) -> std::collections::BTreeSet<CheckKind> {
    for k in 0..8 {
        let mut rng = icrl_proofs::rng::case_rng(0, t.id, k);
        let r = (t.check)(&mut rng, &CheckCtx::default());
        let kinds: std::collections::BTreeSet<CheckKind> =
            r.measurements.iter().filter(|m| !m.control).map(|m| m.kind).collect();
        if !kinds.is_empty() {
            return kinds;
        }
    }
    panic!("{}: no case with measurements among the first 8", t.id);
}

/// The registry's `kind` of each theorem is among the kinds its check body measures, and is that
/// kind when the body measures only one: a theorem registered as a rate whose check measures no
/// fitted rate (or an equality whose check measures only bounds) fails here.
#[test]
fn registry_kind_is_a_kind_the_check_measures() {
    let mut undecided = Vec::new();
    for t in registry() {
        let kinds = measured_kinds(&t);
        assert!(kinds.contains(&t.kind), "{}: registered as {:?}, but its measurements are {kinds:?}", t.id, t.kind);
        if kinds.len() == 1 {
            assert_eq!(kinds.iter().next(), Some(&t.kind), "{}", t.id);
        }
        // Negative control of the criterion: some wrong kind is rejected for this theorem.
        if CheckKind::ALL.iter().all(|k| kinds.contains(k)) {
            undecided.push(t.id);
        }
    }
    // The one theorem whose check measures all three kinds (per-layer bound, tightness
    // equality, consistency slope): there the criterion cannot tell a wrong entry. A new such
    // theorem must be looked at by hand (its registry doc says which claim is the headline).
    assert_eq!(undecided, ["contraction-decay-rate"]);
}
