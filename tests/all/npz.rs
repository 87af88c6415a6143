//! `.npz` instances for `icrl check`: every array named by its JSON path, in the dtypes NumPy
//! writes (`float32`, `int64`, `<U…` strings, `bool`), read through the same instance reader as
//! JSON (so strict keys, float32 tolerance and the weights layouts all apply).

use icrl_proofs::theorem::{registry, CheckCtx};
use npyz::WriterBuilder;
use serde_json::Value;
use std::io::Write;
use std::process::Command;

fn icrl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_icrl")).args(args).output().expect("run icrl")
}

/// The leaves of an instance: `(JSON path, value)`; arrays of objects are descended with `[i]`.
fn leaves(v: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                leaves(x, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, out);
            }
        }
        Value::Array(a) if a.first().is_some_and(Value::is_object) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => out.push((path.to_string(), v.clone())),
    }
}

fn shape_and_flat(v: &Value, shape: &mut Vec<u64>, flat: &mut Vec<Value>, depth: usize) {
    match v {
        Value::Array(a) => {
            if shape.len() == depth {
                shape.push(a.len() as u64);
            }
            for x in a {
                shape_and_flat(x, shape, flat, depth + 1);
            }
        }
        x => flat.push(x.clone()),
    }
}

/// One `.npy` as NumPy writes it: floats as `float32` (what a PyTorch export gives) when
/// `f32_`, else `float64`; integers as `int64`, strings as `<U…`, booleans as `bool`.
fn npy(v: &Value, f32_: bool) -> Vec<u8> {
    let (mut shape, mut flat) = (Vec::new(), Vec::new());
    shape_and_flat(v, &mut shape, &mut flat, 0);
    let mut buf = Vec::new();
    if flat.iter().all(Value::is_i64) {
        let mut w = npyz::WriteOptions::new().shape(&shape).default_dtype().writer(&mut buf).begin_nd().expect("npy");
        w.extend(flat.iter().map(|x| x.as_i64().unwrap())).expect("write");
        w.finish().expect("finish");
    } else if flat.iter().all(Value::is_number) && !f32_ {
        let mut w = npyz::WriteOptions::new().shape(&shape).default_dtype().writer(&mut buf).begin_nd().expect("npy");
        w.extend(flat.iter().map(|x| x.as_f64().unwrap())).expect("write");
        w.finish().expect("finish");
    } else if flat.iter().all(Value::is_number) {
        let mut w = npyz::WriteOptions::new().shape(&shape).default_dtype().writer(&mut buf).begin_nd().expect("npy");
        w.extend(flat.iter().map(|x| x.as_f64().unwrap() as f32)).expect("write");
        w.finish().expect("finish");
    } else if flat.iter().all(Value::is_boolean) {
        let mut w = npyz::WriteOptions::new().shape(&shape).default_dtype().writer(&mut buf).begin_nd().expect("npy");
        w.extend(flat.iter().map(|x| x.as_bool().unwrap())).expect("write");
        w.finish().expect("finish");
    } else {
        let s: Vec<String> = flat.iter().map(|x| x.as_str().expect("string").to_string()).collect();
        let n = s.iter().map(|x| x.chars().count()).max().unwrap_or(1);
        let dtype = npyz::DType::Plain(format!("<U{n}").parse().expect("type string"));
        let mut w = npyz::WriteOptions::new().shape(&shape).dtype(dtype).writer(&mut buf).begin_nd().expect("npy");
        w.extend(s.iter().map(String::as_str)).expect("write");
        w.finish().expect("finish");
    }
    buf
}

/// An archive of `inst` (plus `extra` arrays) with the environment (`mdp`, `features`,
/// `trajectory`) in float32, as a PyTorch/NumPy export would give it.
fn write_npz(path: &std::path::Path, inst: &Value, extra: &[(&str, Value)]) {
    write_npz_with(path, inst, extra, &["mdp.", "features", "trajectory."]);
}

/// An archive with the float arrays whose path starts with one of `f32_prefixes` in float32.
fn write_npz_with(path: &std::path::Path, inst: &Value, extra: &[(&str, Value)], f32_prefixes: &[&str]) {
    let mut all = Vec::new();
    leaves(inst, "", &mut all);
    all.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, v) in all {
        z.start_file(format!("{name}.npy"), opts).expect("entry");
        let f32_ = f32_prefixes.iter().any(|p| name.starts_with(p));
        z.write_all(&npy(&v, f32_)).expect("write");
    }
    z.finish().expect("finish");
}

/// The instance `verify` builds for a case of `id` (with the construction's or the sabotaged
/// weights), as JSON.
fn instance(id: &str, sabotage: bool) -> Value {
    let t = registry().into_iter().find(|t| t.id == id).expect("theorem");
    let ctx = CheckCtx { sabotage, want_instance: true, ..CheckCtx::default() };
    (t.check)(&mut icrl_proofs::rng::case_rng(5, id, 0), &ctx).instance.expect("instance")
}

#[test]
fn npz_instances_hold_fail_and_refuse_like_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    for id in ["sarsa-equivalence", "linear-td", "softmax-td-equivalence", "actor-critic-equivalence"] {
        for sabotage in [false, true] {
            // float64 throughout: the archive is read exactly as the JSON it came from.
            let inst = instance(id, sabotage);
            let (json, npz) = (dir.path().join(format!("{id}.json")), dir.path().join(format!("{id}.npz")));
            std::fs::write(&json, inst.to_string()).expect("write");
            write_npz_with(&npz, &inst, &[], &[]);
            let (oj, on) = (icrl(&["check", json.to_str().unwrap()]), icrl(&["check", npz.to_str().unwrap()]));
            assert_eq!(on.status.code(), oj.status.code(), "{id}: {}", String::from_utf8_lossy(&on.stderr));
            assert_eq!(String::from_utf8_lossy(&on.stdout), String::from_utf8_lossy(&oj.stdout), "{id}");
            if sabotage {
                assert_eq!(on.status.code(), Some(1), "{id}: the sabotaged weights must fail");
            }
            // The environment in float32, the construction from `params` (no weights): holds,
            // and the output says the rows were renormalized.
            let mut plain = inst.clone();
            plain.as_object_mut().unwrap().remove("weights");
            write_npz(&npz, &plain, &[]);
            let o = icrl(&["check", npz.to_str().unwrap()]);
            let out = String::from_utf8_lossy(&o.stdout);
            assert_eq!(o.status.code(), Some(0), "{id}: {out}{}", String::from_utf8_lossy(&o.stderr));
        }
    }
    // Strict input: an unknown key named by its path, and a path that is not a JSON path.
    let typo = dir.path().join("typo.npz");
    write_npz(&typo, &instance("sarsa-equivalence", false), &[("params.alhpa", Value::from(0.5))]);
    let o = icrl(&["check", typo.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.lines().count() == 1 && err.contains("params.alhpa"), "{err}");
    let badpath = dir.path().join("badpath.npz");
    write_npz(&badpath, &instance("sarsa-equivalence", false), &[("params..w", Value::from(1.0))]);
    let o = icrl(&["check", badpath.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code() == Some(2) && err.contains("params..w") && err.contains("not a JSON path"), "{err}");
}
