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
    /// Family-specific parameters, read with [`Params`] (their keys are checked against the
    /// family's list in the registry, `crate::theorem::families`).
    pub params: Params,
    /// The raw `weights` object, if any (parsed by the family into [`crate::weights::Weights`]).
    pub weights: Option<Value>,
    /// What the parser adjusted, said in `icrl check`'s output (e.g. rows renormalized).
    pub notes: Vec<String>,
    /// The raw JSON (for fixtures: the `counterexample` block and extra fields).
    pub raw: Value,
}

/// Keys of an instance object. A counterexample fixture (with a `counterexample` block) may
/// carry further top-level keys and `params` that its replay reads.
pub const TOP_KEYS: &[&str] = &["family", "mdp", "features", "trajectory", "params", "weights", "counterexample"];
/// Keys of `mdp`.
pub const MDP_KEYS: &[&str] = &["gamma", "transitions", "rewards", "initial"];
/// Keys of `trajectory`.
pub const TRAJECTORY_KEYS: &[&str] = &["states", "actions", "rewards"];

/// How far a probability row's sum may be from 1 and still be accepted (then renormalized):
/// `1e-6` covers rows exported in float32 (each entry rounded by at most `2^-24` relative, so a
/// row of up to ~16 entries sums within `16 · 2^-24 ≈ 9.5e-7` of 1).
pub const ROW_SUM_INPUT_TOL: f64 = 1e-6;

/// Whether a trajectory reward `x` is the MDP's reward `r` up to float32 rounding: one float32
/// rounding of `r` moves it by at most `2^-24 |r|` (plus the float32 subnormal spacing near 0).
pub fn reward_matches(x: f64, r: f64) -> bool {
    x == r || (x - r).abs() <= r.abs().max(x.abs()) * 2f64.powi(-24) + 1.5e-45
}

/// Error on keys of object `v` (at `path`) not in `allowed`, with the nearest allowed key as a
/// did-you-mean (Jaro–Winkler similarity ≥ 0.7 or edit distance ≤ 2).
pub fn check_keys(v: &Value, path: &str, allowed: &[&str]) -> Result<(), InputError> {
    let Some(obj) = v.as_object() else { return Ok(()) };
    for k in obj.keys() {
        if !allowed.contains(&k.as_str()) {
            let full = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            return Err(InputError::new(full, format!("unknown key{}", did_you_mean(k, allowed))));
        }
    }
    Ok(())
}

/// `"; did you mean `x`?"` for the closest candidate, or a list of the allowed keys.
pub fn did_you_mean(k: &str, allowed: &[&str]) -> String {
    let best = allowed
        .iter()
        .map(|a| (strsim::damerau_levenshtein(k, a), strsim::jaro_winkler(k, a), *a))
        .filter(|(d, j, _)| *d <= 2 || *j >= 0.7)
        .min_by(|x, y| x.0.cmp(&y.0).then(y.1.total_cmp(&x.1)));
    match best {
        Some((_, _, a)) => format!("; did you mean `{a}`?"),
        None => format!("; expected one of: {}", allowed.join(", ")),
    }
}

/// Parse JSON text, tolerating Python's bare `NaN`, `Infinity`, `-Infinity` tokens.
pub fn parse_json(text: &str) -> Result<Value, InputError> {
    let cleaned = quote_nonfinite(text);
    serde_json::from_str(&cleaned).map_err(|e| InputError::new("", format!("malformed JSON: {e}")))
}

/// Rewrite bare non-finite tokens (`NaN`, `Infinity`) outside strings into marker strings.
pub fn quote_nonfinite(text: &str) -> String {
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
    // Python writes `1e3` or `3.0` for integral floats; accept those up to 2^53 (exact in f64).
    let integral =
        || v.as_f64().filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x <= 9007199254740992.0).map(|x| x as u64);
    v.as_u64()
        .or_else(integral)
        .and_then(|x| usize::try_from(x).ok())
        .ok_or_else(|| InputError::new(path, format!("expected a nonnegative integer, found {v}")))
}

/// What kind of JSON value `v` is, for error messages.
pub fn kind(v: &Value) -> &'static str {
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

    /// Validate a JSON value: the common part (MDP, features, trajectory) strictly, every
    /// unknown key an error; `params` and `weights` are kept for the family (the registry
    /// checks their keys, `crate::theorem::check_instance`).
    pub fn from_value(raw: Value) -> Result<Instance, InputError> {
        if !raw.is_object() {
            return Err(InputError::new("", "an instance must be a JSON object"));
        }
        let fixture = raw.get("counterexample").is_some();
        if !fixture {
            check_keys(&raw, "", TOP_KEYS)?;
        }
        let family = field(&raw, "", "family")?
            .as_str()
            .ok_or_else(|| InputError::new("family", "expected a string"))?
            .to_string();
        let mut notes = Vec::new();
        let m = field(&raw, "", "mdp")?;
        if !m.is_object() {
            return Err(InputError::new("mdp", format!("expected an object, found {}", kind(m))));
        }
        check_keys(m, "mdp", MDP_KEYS)?;
        let gamma = num(field(m, "mdp", "gamma")?, "mdp.gamma")?;
        let (mut transitions, rewards) = read_kernel(m)?;
        let mut renormalized = 0usize;
        for (s, rows) in transitions.iter_mut().enumerate() {
            for (a, row) in rows.iter_mut().enumerate() {
                if renormalize(row, &format!("mdp.transitions[{s}][{a}]"))? {
                    renormalized += 1;
                }
            }
        }
        let mut initial = match m.get("initial") {
            Some(v) => Some(vec1(v, "mdp.initial")?),
            None => None,
        };
        if let Some(p0) = initial.as_mut() {
            if renormalize(p0, "mdp.initial")? {
                renormalized += 1;
            }
        }
        if renormalized > 0 {
            notes.push(format!(
                "{renormalized} probability row(s) summed to 1 only within {ROW_SUM_INPUT_TOL:e} (float32?) and were renormalized (each entry divided by the row sum)"
            ));
        }
        let mdp = Mdp::from_nested("mdp.", gamma, &transitions, &rewards, initial.as_deref())?;
        let f = read_features(field(&raw, "", "features")?, mdp.n_actions())?;
        let features = Features::from_nested("features", mdp.n_states(), mdp.n_actions(), &f)?;
        let t = field(&raw, "", "trajectory")?;
        if !t.is_object() {
            return Err(InputError::new("trajectory", format!("expected an object, found {}", kind(t))));
        }
        check_keys(t, "trajectory", TRAJECTORY_KEYS)?;
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
        // Rewards equal to the MDP's up to float32 rounding are accepted: validate a copy with
        // the MDP's values in those places; the instance keeps the recorded numbers (what the
        // prompt reads), and says so.
        let mut snapped = trajectory.clone();
        let mut near = 0usize;
        let ok_shape = trajectory.states.len() == trajectory.rewards.len() + 1
            && trajectory.actions.len() == trajectory.states.len()
            && trajectory.states.iter().all(|&s| s < mdp.n_states())
            && trajectory.actions.iter().all(|&a| a < mdp.n_actions());
        if ok_shape {
            for i in 0..trajectory.rewards.len() {
                let (s, a, s2) = (trajectory.states[i], trajectory.actions[i], trajectory.states[i + 1]);
                let (x, r) = (trajectory.rewards[i], mdp.r(s, a, s2));
                if x != r && x.is_finite() && reward_matches(x, r) {
                    snapped.rewards[i] = r;
                    near += 1;
                }
            }
        }
        snapped.validate(&mdp)?;
        if near > 0 {
            notes.push(format!(
                "{near} trajectory reward(s) match the MDP's only up to float32 rounding (2^-24 relative); the recorded values are used"
            ));
        }
        let params = Params(raw.get("params").cloned().unwrap_or(Value::Object(Default::default())));
        if !params.0.is_object() {
            return Err(InputError::new("params", "expected an object"));
        }
        let weights = raw.get("weights").cloned();
        Ok(Instance { family, mdp, features, trajectory, params, weights, notes, raw })
    }

    /// Whether this instance is a saved counterexample (it has a `counterexample` block, whose
    /// replay may read further keys).
    pub fn is_fixture(&self) -> bool {
        self.raw.get("counterexample").is_some()
    }
}

/// Nesting depth of the first element chain (`[[[x]]]` is 3).
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.first().map_or(0, depth),
        _ => 0,
    }
}

/// `transitions` `(S,A,S)` or the MRP shorthand `(S,S)`; `rewards` `(S,A,S)`, or with an MRP
/// `(S,S)` (`r(s,s')`) or `(S,)` (`r(s)` for every `s'`).
/// A nested `[s][a][s']` array.
type Nested3 = Vec<Vec<Vec<f64>>>;

fn read_kernel(m: &Value) -> Result<(Nested3, Nested3), InputError> {
    let tv = field(m, "mdp", "transitions")?;
    let rv = field(m, "mdp", "rewards")?;
    let mrp = depth(tv) == 2;
    let transitions = if mrp {
        vec2(tv, "mdp.transitions")?.into_iter().map(|row| vec![row]).collect()
    } else {
        vec3(tv, "mdp.transitions")?
    };
    let rewards = match (mrp, depth(rv)) {
        (true, 1) => {
            let r = vec1(rv, "mdp.rewards")?;
            let ns = transitions.len();
            r.into_iter().map(|x| vec![vec![x; ns]]).collect()
        }
        (true, 2) => vec2(rv, "mdp.rewards")?.into_iter().map(|row| vec![row]).collect(),
        (true, _) => {
            return Err(InputError::new("mdp.rewards", "with MRP transitions (S,S), rewards must be (S,) or (S,S)"))
        }
        (false, _) => vec3(rv, "mdp.rewards")?,
    };
    Ok((transitions, rewards))
}

/// `features[s][a][k]`, or for a one-action MDP the MRP shorthand `features[s][k]`.
fn read_features(v: &Value, n_actions: usize) -> Result<Vec<Vec<Vec<f64>>>, InputError> {
    if n_actions == 1 && depth(v) == 2 {
        Ok(vec2(v, "features")?.into_iter().map(|x| vec![x]).collect())
    } else {
        vec3(v, "features")
    }
}

/// Accept a probability row within [`ROW_SUM_INPUT_TOL`] of summing to 1 and renormalize it
/// (returns whether it changed). Rows further off are left for the MDP's validation to reject.
fn renormalize(row: &mut [f64], _field: &str) -> Result<bool, InputError> {
    let s: f64 = row.iter().sum();
    // Rows within the MDP's own rounding tolerance are taken as they are.
    if !s.is_finite() || (s - 1.0).abs() <= crate::mdp::ROW_SUM_TOL || row.iter().any(|x| !(*x >= 0.0)) {
        return Ok(false);
    }
    if (s - 1.0).abs() <= ROW_SUM_INPUT_TOL {
        for x in row.iter_mut() {
            *x /= s;
        }
        return Ok(true);
    }
    Ok(false)
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
