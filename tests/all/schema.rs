//! `schema/instance.schema.json` (draft 2020-12) against every file under `fixtures/` and every
//! instance `verify` prints, with `boon` (a full draft 2020-12 validator).

use icrl_proofs::rng::case_rng;
use icrl_proofs::theorem::{registry, CheckCtx};
use serde_json::Value;

/// The compiled schema and a validation that returns the validator's message on failure.
struct Schema {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Schema {
    fn load() -> Schema {
        let url = "file:///icrl/instance.schema.json";
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.add_resource(url, schema()).expect("add schema");
        let index = compiler.compile(url, &mut schemas).expect("the schema compiles");
        Schema { schemas, index }
    }
    fn check(&self, v: &Value) -> Result<(), String> {
        self.schemas.validate(v, self.index).map_err(|e| format!("{e:#}"))
    }
}

fn schema() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/instance.schema.json")).expect("schema");
    serde_json::from_str(&text).expect("schema is JSON")
}

#[test]
fn every_fixture_validates_against_the_instance_schema() {
    assert_eq!(schema()["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let s = Schema::load();
    let mut n = 0;
    for sub in ["instances", "counterexamples"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(sub);
        for e in std::fs::read_dir(&dir).expect("fixtures") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "json") {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).expect("read")).expect("json");
                s.check(&v).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                n += 1;
            }
        }
    }
    assert!(n >= 10, "only {n} fixtures");
}

#[test]
fn the_schema_rejects_broken_instances() {
    let s = Schema::load();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/instances/sarsa-example.json");
    let good: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    let mut bad = Vec::new();
    let mut v = good.clone();
    v["params"]["alhpa"] = 0.5.into();
    bad.push(("params.alhpa", v));
    let mut v = good.clone();
    v["family"] = "lstd".into();
    bad.push(("family", v));
    let mut v = good.clone();
    v["trajectory"]["states"][1] = (-1).into();
    bad.push(("trajectory.states[1]", v));
    let mut v = good.clone();
    v.as_object_mut().expect("obj").remove("mdp");
    bad.push(("missing mdp", v));
    let mut v = good.clone();
    v["weights"] = serde_json::json!({"P": [[1.0]], "Q": [[1.0]]});
    bad.push(("weights", v));
    let mut v = good.clone();
    v["counterexample"] = serde_json::json!({"theorem": "sarsa-equivalence"});
    bad.push(("counterexample", v));
    for (what, v) in bad {
        assert!(s.check(&v).is_err(), "{what} accepted");
    }
    let mut v = good.clone();
    v["weights"] = serde_json::json!({"P": [[1.0]], "V": [[1.0]]});
    s.check(&v).expect("sarsa weights");
    v["weights"] =
        serde_json::json!({"layers": [{"A": [[1.0]], "heads": [{"V": [[1.0]]}, {"V": [[0.0]], "shift": true}]}]});
    s.check(&v).expect("softmax weights");
    v["weights"] = serde_json::json!({"layers": [{"A": [[1.0]], "V1": [[1.0]], "V2": [[0.0]]}]});
    assert!(s.check(&v).is_err(), "the probe's array names are not the instance layout");
}

/// Every instance a check body builds (the JSON `verify` prints for a failing case and `check`
/// replays), for every theorem with an instance, both with the construction's and with the
/// sabotaged weights, validates against the schema.
#[test]
fn every_instance_verify_prints_validates_against_the_schema() {
    let s = Schema::load();
    let mut n = 0;
    for t in registry() {
        for sabotage in [false, true] {
            for k in 0..3 {
                let ctx = CheckCtx { sabotage, want_instance: true, ..CheckCtx::default() };
                let res = (t.check)(&mut case_rng(11, t.id, k), &ctx);
                if let Some(inst) = res.instance {
                    s.check(&inst).unwrap_or_else(|e| panic!("{} case {k} (sabotage {sabotage}): {e}\n{inst}", t.id));
                    n += 1;
                }
            }
        }
    }
    assert!(n >= 60, "only {n} instances built");
}

/// The schema's `params` keys are exactly those the registry's families read (plus
/// `relaxed_a_dd`, which only a saved counterexample of the feature-only-attention search
/// carries), and its `family` enum is the registry's families: the schema cannot drift from the
/// reader.
#[test]
fn the_schema_lists_exactly_the_registry_families_and_params() {
    let s = schema();
    let mut schema_params: Vec<String> =
        s["properties"]["params"]["properties"].as_object().expect("params").keys().cloned().collect();
    schema_params.sort();
    let fams = icrl_proofs::theorem::families();
    let mut reg: Vec<String> = fams.iter().flat_map(|f| f.params.iter().map(|p| p.to_string())).collect();
    reg.push("relaxed_a_dd".into());
    reg.sort();
    reg.dedup();
    assert_eq!(schema_params, reg);
    let mut names: Vec<String> = s["properties"]["family"]["enum"]
        .as_array()
        .expect("enum")
        .iter()
        .map(|x| x.as_str().unwrap().into())
        .collect();
    names.sort();
    let mut want: Vec<String> = fams.iter().map(|f| f.name.to_string()).collect();
    want.sort();
    assert_eq!(names, want);
}
