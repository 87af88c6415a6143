//! `icrl check`: read one instance, or many (JSON Lines, one instance a line), from a file or
//! stdin, run every theorem of each instance's family through the registry, and render the
//! verdicts. The CLI only parses arguments and prints what this returns.

use crate::error::InputError;
use crate::instance::{parse_json, quote_nonfinite, Instance};
use crate::theorem::{CheckReport, Limits};
use rayon::prelude::*;
use serde_json::Value;

/// The outcome of checking one instance.
#[derive(Clone, Debug)]
pub struct Checked {
    /// Every theorem's result.
    pub report: CheckReport,
    /// A counterexample fixture's replay: `(theorem, relax, violation)`.
    pub counterexample: Option<(String, String, f64)>,
}

impl Checked {
    /// Whether every check holds (a fixture's replayed violation is expected, not a failure).
    pub fn holds(&self) -> bool {
        self.report.holds()
    }

    /// The `--json` line.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(&self.report).expect("serializable");
        if let Some((th, rl, viol)) = &self.counterexample {
            v["counterexample"] = serde_json::json!({"theorem": th, "relax": rl, "violation": viol});
        }
        v
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        let r = &self.report;
        let mut s = format!("family {}: {} checks\n", r.family, r.results.len());
        for x in &r.results {
            s.push_str(&format!(
                "  {:<30} {:<6} {:<6} max |transformer - reference| = {}{}\n",
                x.theorem,
                x.arithmetic.name(),
                if x.holds { "holds" } else { "FAILS" },
                crate::verify::fmt_err(x.max_abs_error),
                if x.weights { "  (given weights)" } else { "" }
            ));
            if let (false, Some(m)) = (x.holds, &x.first_mismatch) {
                s.push_str(&format!("    first differing output entry: {m}\n"));
            }
        }
        for k in &r.skipped {
            s.push_str(&format!("  {:<30} {:<6} skipped: {}\n", k.theorem, k.arithmetic.name(), k.reason));
        }
        for n in &r.notes {
            s.push_str(&format!("  note: {n}\n"));
        }
        if let Some((th, rl, viol)) = &self.counterexample {
            s.push_str(&format!(
                "  counterexample to {th} with `{rl}` relaxed: violation {viol:.3e} (the relaxed claim fails, as recorded)\n"
            ));
        }
        s
    }
}

/// Check one parsed instance value.
pub fn check_value(raw: Value, limits: &Limits) -> Result<Checked, InputError> {
    let inst = Instance::from_value(raw)?;
    let report = crate::theorem::check_instance_with(&inst, limits)?;
    let mut counterexample = None;
    if let Some(cx) = inst.raw.get("counterexample") {
        let th = cx.get("theorem").and_then(|v| v.as_str()).unwrap_or_default();
        let rl = cx.get("relax").and_then(|v| v.as_str()).unwrap_or_default();
        if let Some(f) = crate::theorem::replay_fn(th, rl) {
            counterexample = Some((th.to_string(), rl.to_string(), f(&inst.raw)?));
        }
    }
    Ok(Checked { report, counterexample })
}

/// The instances in `text`: one JSON value (possibly pretty-printed over many lines), or JSON
/// Lines (one instance per non-empty line). Returns each value with its 1-based line.
pub fn parse_inputs(text: &str) -> Result<Vec<(usize, Value)>, InputError> {
    if let Ok(v) = parse_json(text) {
        return Ok(vec![(1, v)]);
    }
    let lines: Vec<(usize, &str)> =
        text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, l)| (i + 1, l)).collect();
    let first_is_value = lines.first().is_some_and(|(_, l)| serde_json::from_str::<Value>(&quote_nonfinite(l)).is_ok());
    if lines.len() <= 1 || !first_is_value {
        // One (malformed) document: report the whole-text parse error.
        return parse_json(text).map(|v| vec![(1, v)]);
    }
    lines
        .into_iter()
        .map(|(k, l)| {
            serde_json::from_str::<Value>(&quote_nonfinite(l))
                .map(|v| (k, v))
                .map_err(|e| InputError::new("", format!("malformed JSON: {e}")).at_line(k))
        })
        .collect()
}

/// Check every instance of `text` in parallel; results in input order. The first input error
/// (in input order) is returned instead, so nothing is printed for a bad input.
pub fn check_text(text: &str, limits: &Limits) -> Result<Vec<Checked>, InputError> {
    let inputs = parse_inputs(text)?;
    let many = inputs.len() > 1;
    let out: Vec<Result<Checked, InputError>> = inputs
        .into_par_iter()
        .map(|(k, v)| check_value(v, limits).map_err(|e| if many { e.at_line(k) } else { e }))
        .collect();
    out.into_iter().collect()
}

/// Read `path` (`-` is stdin) as bytes.
fn read_bytes(path: &std::path::Path) -> Result<Vec<u8>, InputError> {
    if path.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
            .map_err(|e| InputError::new("FILE", format!("cannot read stdin: {e}")))?;
        Ok(b)
    } else {
        std::fs::read(path).map_err(|e| InputError::new("FILE", format!("cannot read {}: {e}", path.display())))
    }
}

/// Check the instances of `path` (`-` is stdin): a NumPy `.npz` archive whose arrays are named
/// by their JSON paths (recognized by its zip signature, `crate::npz::instance_json`), or JSON
/// text (one instance, or JSON Lines).
pub fn check_file(path: &std::path::Path, limits: &Limits) -> Result<Vec<Checked>, InputError> {
    let bytes = read_bytes(path)?;
    if bytes.starts_with(b"PK\x03\x04") {
        return Ok(vec![check_value(crate::npz::instance_json(&bytes)?, limits)?]);
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| InputError::new("FILE", format!("neither JSON text (invalid UTF-8: {e}) nor an .npz archive")))?;
    check_text(&text, limits)
}
