//! One instance as JSON (`docs/theory/instances.md`): an MDP, its features, a trajectory and
//! family-specific parameters. A public contract: users export these from Python, and
//! counterexamples are saved in this form.
//!
//! Parsing walks the JSON by hand so that every error names its field path and index
//! (`trajectory.states[3]: state 7 out of range 0..4`). Python's `json.dumps` writes bare
//! `NaN`/`Infinity`; we read those tokens too, so that the validation (not the JSON parser)
//! rejects them with the field's name.

use crate::error::InputError;
use crate::mdp::{features::Features, rollout::Trajectory, Mdp};
use serde_json::Value;

/// A parsed, validated instance.
#[derive(Clone, Debug)]
pub struct Instance {
    /// `linear-td`, `sarsa`, `actor-critic` or `softmax-td`.
    pub family: String,
    /// The MDP (an MRP is the one-action case).
    pub mdp: Mdp,
    /// `φ(s,a)` (or `x(s) = φ(s,0)`).
    pub features: Features,
    /// The window, validated against the MDP.
    pub trajectory: Trajectory,
    /// Family-specific parameters, read with [`Params`].
    pub params: Params,
    /// The raw JSON (for fixtures: the `counterexample` block and extra fields).
    pub raw: Value,
}

/// Known families.
pub const FAMILIES: &[&str] = &["linear-td", "sarsa", "actor-critic", "softmax-td"];

/// Parse JSON text, tolerating Python's bare `NaN`, `Infinity`, `-Infinity` tokens.
pub fn parse_json(text: &str) -> Result<Value, InputError> {
    let cleaned = quote_nonfinite(text);
    serde_json::from_str(&cleaned).map_err(|e| InputError::new("", format!("malformed JSON: {e}")))
}

/// Rewrite bare non-finite tokens outside strings into marker strings.
fn quote_nonfinite(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_str = true;
            out.push(c);
            rest = &rest[1..];
            continue;
        }
        let mut matched = false;
        for (tok, marker) in [("-Infinity", "\"-Infinity\""), ("Infinity", "\"Infinity\""), ("NaN", "\"NaN\"")] {
            if rest.starts_with(tok) {
                out.push_str(marker);
                rest = &rest[tok.len()..];
                matched = true;
                break;
            }
        }
        if !matched {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Read a number at `path` (marker strings become non-finite values, which validation rejects).
pub fn num(v: &Value, path: &str) -> Result<f64, InputError> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| InputError::new(path, "not representable as f64")),
        Value::String(s) if s == "NaN" => Ok(f64::NAN),
        Value::String(s) if s == "Infinity" => Ok(f64::INFINITY),
        Value::String(s) if s == "-Infinity" => Ok(f64::NEG_INFINITY),
        other => Err(InputError::new(path, format!("expected a number, found {}", kind(other)))),
    }
}

/// Read a finite number.
pub fn finite_num(v: &Value, path: &str) -> Result<f64, InputError> {
    crate::error::finite(|| path.to_string(), num(v, path)?)
}

/// Read a nonnegative integer index.
pub fn index(v: &Value, path: &str) -> Result<usize, InputError> {
    v.as_u64()
        .map(|x| x as usize)
        .ok_or_else(|| InputError::new(path, format!("expected a nonnegative integer, found {v}")))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Read an array at `path`.
pub fn array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, InputError> {
    v.as_array().ok_or_else(|| InputError::new(path, format!("expected an array, found {}", kind(v))))
}

/// Read a vector of numbers.
pub fn vec1(v: &Value, path: &str) -> Result<Vec<f64>, InputError> {
    array(v, path)?.iter().enumerate().map(|(i, x)| num(x, &format!("{path}[{i}]"))).collect()
}

/// Read a matrix (array of rows) of numbers.
pub fn vec2(v: &Value, path: &str) -> Result<Vec<Vec<f64>>, InputError> {
    array(v, path)?.iter().enumerate().map(|(i, x)| vec1(x, &format!("{path}[{i}]"))).collect()
}

/// Read a 3-tensor of numbers.
pub fn vec3(v: &Value, path: &str) -> Result<Vec<Vec<Vec<f64>>>, InputError> {
    array(v, path)?.iter().enumerate().map(|(i, x)| vec2(x, &format!("{path}[{i}]"))).collect()
}

fn field<'a>(obj: &'a Value, parent: &str, name: &str) -> Result<&'a Value, InputError> {
    let path = if parent.is_empty() { name.to_string() } else { format!("{parent}.{name}") };
    obj.get(name).ok_or_else(|| InputError::new(path, "missing"))
}

/// The `params` object, with typed, path-naming accessors.
#[derive(Clone, Debug)]
pub struct Params(pub Value);

impl Params {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
    /// Whether `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// A finite number, with a default.
    pub fn f64_or(&self, name: &str, default: f64) -> Result<f64, InputError> {
        match self.get(name) {
            Some(v) => finite_num(v, &format!("params.{name}")),
            None => Ok(default),
        }
    }
    /// A required finite number.
    pub fn f64_req(&self, name: &str) -> Result<f64, InputError> {
        let v = self.get(name).ok_or_else(|| InputError::new(format!("params.{name}"), "missing"))?;
        finite_num(v, &format!("params.{name}"))
    }
    /// A nonnegative integer, with a default.
    pub fn usize_or(&self, name: &str, default: usize) -> Result<usize, InputError> {
        match self.get(name) {
            Some(v) => index(v, &format!("params.{name}")),
            None => Ok(default),
        }
    }
    /// A required vector of finite numbers of length `len`.
    pub fn vec_req(&self, name: &str, len: usize) -> Result<Vec<f64>, InputError> {
        let path = format!("params.{name}");
        let v = self.get(name).ok_or_else(|| InputError::new(&path, "missing"))?;
        let x = vec1(v, &path)?;
        if x.len() != len {
            return Err(InputError::new(&path, format!("has length {}, expected {len}", x.len())));
        }
        for (i, &e) in x.iter().enumerate() {
            crate::error::finite(|| format!("{path}[{i}]"), e)?;
        }
        Ok(x)
    }
    /// An optional `rows × cols` matrix of finite numbers.
    pub fn matrix_opt(&self, name: &str, rows: usize, cols: usize) -> Result<Option<Vec<Vec<f64>>>, InputError> {
        let path = format!("params.{name}");
        let Some(v) = self.get(name) else { return Ok(None) };
        let m = vec2(v, &path)?;
        if m.len() != rows {
            return Err(InputError::new(&path, format!("has {} rows, expected {rows}", m.len())));
        }
        for (i, r) in m.iter().enumerate() {
            if r.len() != cols {
                return Err(InputError::new(
                    format!("{path}[{i}]"),
                    format!("has {} entries, expected {cols}", r.len()),
                ));
            }
            for (j, &e) in r.iter().enumerate() {
                crate::error::finite(|| format!("{path}[{i}][{j}]"), e)?;
            }
        }
        Ok(Some(m))
    }
    /// An optional 3-tensor `[s][a][k]` (e.g. `policy_features`).
    pub fn tensor3_opt(&self, name: &str) -> Result<Option<Vec<Vec<Vec<f64>>>>, InputError> {
        let path = format!("params.{name}");
        match self.get(name) {
            Some(v) => Ok(Some(vec3(v, &path)?)),
            None => Ok(None),
        }
    }
}

impl Instance {
    /// Parse and validate JSON text.
    pub fn from_json_text(text: &str) -> Result<Instance, InputError> {
        Self::from_value(parse_json(text)?)
    }

    /// Validate a JSON value.
    pub fn from_value(raw: Value) -> Result<Instance, InputError> {
        if !raw.is_object() {
            return Err(InputError::new("", "an instance must be a JSON object"));
        }
        let family = field(&raw, "", "family")?
            .as_str()
            .ok_or_else(|| InputError::new("family", "expected a string"))?
            .to_string();
        if !FAMILIES.contains(&family.as_str()) {
            return Err(InputError::new(
                "family",
                format!("unknown family {family:?}; expected one of {}", FAMILIES.join(", ")),
            ));
        }
        let m = field(&raw, "", "mdp")?;
        let gamma = num(field(m, "mdp", "gamma")?, "mdp.gamma")?;
        let transitions = vec3(field(m, "mdp", "transitions")?, "mdp.transitions")?;
        let rewards = vec3(field(m, "mdp", "rewards")?, "mdp.rewards")?;
        let initial = match m.get("initial") {
            Some(v) => Some(vec1(v, "mdp.initial")?),
            None => None,
        };
        let mdp = Mdp::from_nested("mdp.", gamma, &transitions, &rewards, initial.as_deref())?;
        let f = vec3(field(&raw, "", "features")?, "features")?;
        let features = Features::from_nested("features", mdp.n_states(), mdp.n_actions(), &f)?;
        let t = field(&raw, "", "trajectory")?;
        let states = array(field(t, "trajectory", "states")?, "trajectory.states")?
            .iter()
            .enumerate()
            .map(|(i, x)| index(x, &format!("trajectory.states[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let actions = match t.get("actions") {
            Some(a) => array(a, "trajectory.actions")?
                .iter()
                .enumerate()
                .map(|(i, x)| index(x, &format!("trajectory.actions[{i}]")))
                .collect::<Result<Vec<_>, _>>()?,
            None if mdp.n_actions() == 1 => vec![0; states.len()],
            None => return Err(InputError::new("trajectory.actions", "missing")),
        };
        let rewards = vec1(field(t, "trajectory", "rewards")?, "trajectory.rewards")?;
        let trajectory = Trajectory { states, actions, rewards };
        trajectory.validate(&mdp)?;
        let params = Params(raw.get("params").cloned().unwrap_or(Value::Object(Default::default())));
        if !params.0.is_object() {
            return Err(InputError::new("params", "expected an object"));
        }
        Ok(Instance { family, mdp, features, trajectory, params, raw })
    }
}

/// Serialize the common part of an instance (family, MDP, features, trajectory) plus `params`.
pub fn to_json(family: &str, mdp: &Mdp, features: &Features, traj: &Trajectory, params: Value) -> Value {
    serde_json::json!({
        "family": family,
        "mdp": {
            "gamma": mdp.gamma(),
            "transitions": mdp.transitions_nested(),
            "rewards": mdp.rewards_nested(),
            "initial": mdp.initial(),
        },
        "features": features.nested(),
        "trajectory": { "states": traj.states, "actions": traj.actions, "rewards": traj.rewards },
        "params": params,
    })
}

/// Pretty JSON for fixtures: objects one key per line, any array whose compact form fits in
/// 100 characters on one line (so matrices stay readable).
pub fn to_pretty(v: &Value) -> String {
    fn go(v: &Value, indent: usize, out: &mut String) {
        let pad = "  ".repeat(indent + 1);
        match v {
            Value::Object(m) if !m.is_empty() => {
                out.push_str("{\n");
                for (i, (k, x)) in m.iter().enumerate() {
                    out.push_str(&pad);
                    out.push_str(&serde_json::to_string(k).expect("string"));
                    out.push_str(": ");
                    go(x, indent + 1, out);
                    if i + 1 < m.len() {
                        out.push(',');
                    }
                    out.push('\n');
                }
                out.push_str(&"  ".repeat(indent));
                out.push('}');
            }
            Value::Array(a) if !a.is_empty() => {
                let compact = serde_json::to_string(v).expect("serializable");
                if compact.len() <= 100 {
                    out.push_str(&compact.replace(",", ", "));
                    return;
                }
                out.push_str("[\n");
                for (i, x) in a.iter().enumerate() {
                    out.push_str(&pad);
                    go(x, indent + 1, out);
                    if i + 1 < a.len() {
                        out.push(',');
                    }
                    out.push('\n');
                }
                out.push_str(&"  ".repeat(indent));
                out.push(']');
            }
            other => out.push_str(&serde_json::to_string(other).expect("serializable")),
        }
    }
    let mut s = String::new();
    go(v, 0, &mut s);
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const EXAMPLE: &str = include_str!("../fixtures/instances/sarsa-example.json");

    #[test]
    fn parses_the_spec_example() {
        let i = Instance::from_json_text(EXAMPLE).unwrap();
        assert_eq!(i.trajectory.len(), 3);
        assert_eq!(i.features.dim(), 3);
    }

    #[test]
    fn nan_names_the_field() {
        let t = EXAMPLE.replace("[0.2, 0.8], [0.4", "[NaN, 0.8], [0.4");
        let e = Instance::from_json_text(&t).unwrap_err();
        assert_eq!(e.field, "mdp.transitions[0][0][0]");
        let t = EXAMPLE.replace("\"states\": [0, 1, 1, 0]", "\"states\": [0, 1, 7, 0]");
        let e = Instance::from_json_text(&t).unwrap_err();
        assert_eq!(e.field, "trajectory.states[2]");
    }
}
