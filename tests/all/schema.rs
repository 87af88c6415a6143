//! `schema/instance.schema.json` (draft 2020-12) against every file under `fixtures/`.
//!
//! The validator here is a small checker of the keyword subset the schema uses (`type`, `enum`,
//! `required`, `properties`, `additionalProperties`, `items`, `minItems`, `minimum`, `oneOf`,
//! local `$ref`), a last resort instead of the `jsonschema` crate, whose dependency tree
//! (regex engines, URL/IDNA handling) was too heavy to add to the 2-core test build this late;
//! the schema was also validated against the fixtures with Python's `jsonschema` 4 (full
//! draft 2020-12) when written. Unknown keywords make the checker fail, so it cannot silently
//! ignore part of the schema.

use serde_json::Value;

fn is_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|x| x.fract() == 0.0),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("unknown type {other}"),
    }
}

fn check(root: &Value, s: &Value, v: &Value, path: &str) -> Result<(), String> {
    let Some(obj) = s.as_object() else { return Ok(()) };
    for (k, kv) in obj {
        match k.as_str() {
            "$schema" | "$id" | "title" | "description" | "$defs" => {}
            "$ref" => {
                let name = kv.as_str().and_then(|r| r.strip_prefix("#/$defs/")).expect("local $ref");
                check(root, &root["$defs"][name], v, path)?;
            }
            "type" => {
                let ok = match kv {
                    Value::String(t) => is_type(v, t),
                    Value::Array(ts) => ts.iter().any(|t| is_type(v, t.as_str().expect("type name"))),
                    _ => panic!("bad type"),
                };
                if !ok {
                    return Err(format!("{path}: not of type {kv}"));
                }
            }
            "enum" => {
                if !kv.as_array().expect("enum").contains(v) {
                    return Err(format!("{path}: {v} not in {kv}"));
                }
            }
            "minimum" => {
                if v.as_f64().is_some_and(|x| x < kv.as_f64().expect("number")) {
                    return Err(format!("{path}: below {kv}"));
                }
            }
            "minItems" => {
                if v.as_array().is_some_and(|a| (a.len() as u64) < kv.as_u64().expect("count")) {
                    return Err(format!("{path}: fewer than {kv} items"));
                }
            }
            "required" => {
                if let Some(o) = v.as_object() {
                    for r in kv.as_array().expect("required") {
                        if !o.contains_key(r.as_str().expect("name")) {
                            return Err(format!("{path}: missing {r}"));
                        }
                    }
                }
            }
            "properties" => {
                if let Some(o) = v.as_object() {
                    for (name, sub) in kv.as_object().expect("properties") {
                        if let Some(x) = o.get(name) {
                            check(root, sub, x, &format!("{path}.{name}"))?;
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let (Some(o), Some(false)) = (v.as_object(), kv.as_bool()) {
                    let known = s["properties"].as_object().expect("properties beside additionalProperties");
                    if let Some(extra) = o.keys().find(|k| !known.contains_key(*k)) {
                        return Err(format!("{path}: unknown key {extra}"));
                    }
                }
            }
            "items" => {
                if let Some(a) = v.as_array() {
                    for (i, x) in a.iter().enumerate() {
                        check(root, kv, x, &format!("{path}[{i}]"))?;
                    }
                }
            }
            "oneOf" => {
                let n = kv.as_array().expect("oneOf").iter().filter(|sub| check(root, sub, v, path).is_ok()).count();
                if n != 1 {
                    return Err(format!("{path}: matches {n} of the oneOf branches, not 1"));
                }
            }
            other => panic!("schema keyword {other} not supported by this checker"),
        }
    }
    Ok(())
}

fn schema() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/instance.schema.json")).expect("schema");
    serde_json::from_str(&text).expect("schema is JSON")
}

#[test]
fn every_fixture_validates_against_the_instance_schema() {
    let s = schema();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let mut n = 0;
    for sub in ["instances", "counterexamples"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(sub);
        for e in std::fs::read_dir(&dir).expect("fixtures") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "json") {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).expect("read")).expect("json");
                check(&s, &s, &v, "").unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                n += 1;
            }
        }
    }
    assert!(n >= 10, "only {n} fixtures");
}

#[test]
fn the_schema_rejects_broken_instances() {
    let s = schema();
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
        assert!(check(&s, &s, &v, "").is_err(), "{what} accepted");
    }
    let mut v = good.clone();
    v["weights"] = serde_json::json!({"P": [[1.0]], "V": [[1.0]]});
    check(&s, &s, &v, "").expect("sarsa weights");
    v["weights"] = serde_json::json!({"layers": [{"A": [[1.0]], "V1": [[1.0]], "V2": [[0.0]]}]});
    check(&s, &s, &v, "").expect("softmax weights");
}
