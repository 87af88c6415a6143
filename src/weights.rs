//! Model weights carried by an instance (`"weights"` in the instance JSON), in the layout of the
//! family's prompt. `icrl check` runs them through the generic forward pass of the family
//! against the reference update that the family and `params` name.
//!
//! | family | JSON | shapes |
//! |---|---|---|
//! | `sarsa` | `{"P": D×D, "V": D×D}` | `D = 3d + 2` ([LL] eq. 4 prompt) |
//! | `actor-critic` | `{"P": D×D, "V": D×D}` | `D = 3d + 2 + 2d_π` ([R] prompt) |
//! | `linear-td` | `{"layers": [{"P": m×m, "Q": m×m}, …]}` | `m = 2d + 1` ([WB] prompt) |
//! | `softmax-td` | `{"layers": [{"A": m×m, "heads": [{"V": m×m, "shift": bool}, …]}, …]}` | `m = d + 3` ([XZ] prompt) |
//!
//! Matrices are arrays of rows. An `sarsa`/`actor-critic` block is applied `params.layers` times
//! (the same block stacked); `linear-td` and `softmax-td` give one entry per layer, and the
//! number of layers is the length of `layers`. Every number is read as the exact dyadic
//! rational it is when the check runs in exact arithmetic. Unknown keys are errors.

use crate::attention::softmax::{Head, MultiHeadLayer};
use crate::error::InputError;
use crate::instance::{check_keys, finite_num, kind};
use crate::linalg::Mat;
use serde_json::{json, Value};

/// One [WB] layer `(P_l, Q_l)`.
#[derive(Clone, Debug, PartialEq)]
pub struct TdLayer {
    /// `P_l ∈ R^{(2d+1)×(2d+1)}`.
    pub p: Mat<f64>,
    /// `Q_l ∈ R^{(2d+1)×(2d+1)}`.
    pub q: Mat<f64>,
}

/// Weights of one model, by prompt layout.
#[derive(Clone, Debug, PartialEq)]
pub enum Weights {
    /// One [LL] linear self-attention block `(P, V)` (sarsa, actor-critic prompts).
    Lsa {
        /// `P ∈ R^{D×D}`.
        p: Mat<f64>,
        /// `V ∈ R^{D×D}`.
        v: Mat<f64>,
    },
    /// The layers of a [WB] masked linear transformer.
    Td(Vec<TdLayer>),
    /// The layers of an [XZ] masked softmax transformer (shared `A`, several value heads).
    Softmax(Vec<MultiHeadLayer>),
}

/// Which layout a family's weights have (and the prompt height `m` they act on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `{"P", "V"}`, both `m×m`.
    Lsa(usize),
    /// `{"layers": [{"P", "Q"}]}`, `m×m`.
    Td(usize),
    /// `{"layers": [{"A", "heads": [{"V", "shift"}]}]}`, `m×m`.
    Softmax(usize),
}

/// Read an `m×m` matrix at `path` (finite entries).
pub fn matrix(v: &Value, path: &str, m: usize) -> Result<Mat<f64>, InputError> {
    let rows =
        v.as_array().ok_or_else(|| InputError::new(path, format!("expected an array of rows, found {}", kind(v))))?;
    if rows.len() != m {
        return Err(InputError::new(path, format!("has {} rows, expected {m}", rows.len())));
    }
    let mut data = Vec::with_capacity(m * m);
    for (i, r) in rows.iter().enumerate() {
        let rp = format!("{path}[{i}]");
        let r = r.as_array().ok_or_else(|| InputError::new(&rp, format!("expected an array, found {}", kind(r))))?;
        if r.len() != m {
            return Err(InputError::new(&rp, format!("has {} entries, expected {m}", r.len())));
        }
        for (j, x) in r.iter().enumerate() {
            data.push(finite_num(x, &format!("{rp}[{j}]"))?);
        }
    }
    Ok(Mat::from_vec(m, m, data))
}

fn req<'a>(obj: &'a Value, path: &str, key: &str) -> Result<&'a Value, InputError> {
    obj.get(key).ok_or_else(|| InputError::new(format!("{path}.{key}"), "missing"))
}

fn layers_array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, InputError> {
    let a = req(v, path, "layers")?
        .as_array()
        .ok_or_else(|| InputError::new(format!("{path}.layers"), "expected an array of layers"))?;
    if a.is_empty() {
        return Err(InputError::new(format!("{path}.layers"), "needs at least one layer"));
    }
    Ok(a)
}

/// The layers of `v.layers` with their paths (`weights.layers[1]`), each checked to be an object.
fn layer_objects<'a>(v: &'a Value, path: &str) -> Result<Vec<(String, &'a Value)>, InputError> {
    layers_array(v, path)?
        .iter()
        .enumerate()
        .map(|(l, x)| {
            let lp = format!("{path}.layers[{l}]");
            if x.is_object() {
                Ok((lp, x))
            } else {
                Err(InputError::new(&lp, format!("expected an object, found {}", kind(x))))
            }
        })
        .collect()
}

impl Weights {
    /// Parse `weights` (at `path`, normally `"weights"`) in `layout`; unknown keys are errors.
    pub fn from_json(v: &Value, path: &str, layout: Layout) -> Result<Weights, InputError> {
        if !v.is_object() {
            return Err(InputError::new(path, format!("expected an object, found {}", kind(v))));
        }
        match layout {
            Layout::Lsa(m) => {
                check_keys(v, path, &["P", "V"])?;
                let p = matrix(req(v, path, "P")?, &format!("{path}.P"), m)?;
                let vv = matrix(req(v, path, "V")?, &format!("{path}.V"), m)?;
                Ok(Weights::Lsa { p, v: vv })
            }
            Layout::Td(m) => {
                check_keys(v, path, &["layers"])?;
                let mut out = Vec::new();
                for (lp, x) in layer_objects(v, path)? {
                    check_keys(x, &lp, &["P", "Q"])?;
                    let p = matrix(req(x, &lp, "P")?, &format!("{lp}.P"), m)?;
                    let q = matrix(req(x, &lp, "Q")?, &format!("{lp}.Q"), m)?;
                    out.push(TdLayer { p, q });
                }
                Ok(Weights::Td(out))
            }
            Layout::Softmax(m) => {
                check_keys(v, path, &["layers"])?;
                let mut out = Vec::new();
                for (lp, x) in layer_objects(v, path)? {
                    check_keys(x, &lp, &["A", "heads"])?;
                    let a = matrix(req(x, &lp, "A")?, &format!("{lp}.A"), m)?;
                    let hs = req(x, &lp, "heads")?
                        .as_array()
                        .ok_or_else(|| InputError::new(format!("{lp}.heads"), "expected an array of heads"))?;
                    let mut heads = Vec::new();
                    for (h, hv) in hs.iter().enumerate() {
                        let hp = format!("{lp}.heads[{h}]");
                        if !hv.is_object() {
                            return Err(InputError::new(&hp, format!("expected an object, found {}", kind(hv))));
                        }
                        check_keys(hv, &hp, &["V", "shift"])?;
                        let vm = matrix(req(hv, &hp, "V")?, &format!("{hp}.V"), m)?;
                        let shift = match hv.get("shift") {
                            None => false,
                            Some(Value::Bool(b)) => *b,
                            Some(o) => {
                                return Err(InputError::new(
                                    format!("{hp}.shift"),
                                    format!("expected a boolean, found {}", kind(o)),
                                ))
                            }
                        };
                        heads.push(Head { v: vm, shift });
                    }
                    out.push(MultiHeadLayer { a, heads, mask_query: true });
                }
                Ok(Weights::Softmax(out))
            }
        }
    }

    /// The JSON form (the inverse of [`Weights::from_json`]).
    pub fn to_json(&self) -> Value {
        fn m(x: &Mat<f64>) -> Value {
            json!((0..x.rows()).map(|i| x.row(i).to_vec()).collect::<Vec<_>>())
        }
        match self {
            Weights::Lsa { p, v } => json!({"P": m(p), "V": m(v)}),
            Weights::Td(ls) => {
                json!({"layers": ls.iter().map(|l| json!({"P": m(&l.p), "Q": m(&l.q)})).collect::<Vec<_>>()})
            }
            Weights::Softmax(ls) => json!({"layers": ls.iter().map(|l| json!({
                "A": m(&l.a),
                "heads": l.heads.iter().map(|h| json!({"V": m(&h.v), "shift": h.shift})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>()}),
        }
    }

    /// Number of scalar entries (for cost estimates).
    pub fn entries(&self) -> usize {
        match self {
            Weights::Lsa { p, v } => p.as_slice().len() + v.as_slice().len(),
            Weights::Td(ls) => ls.iter().map(|l| l.p.as_slice().len() + l.q.as_slice().len()).sum(),
            Weights::Softmax(ls) => ls
                .iter()
                .map(|l| l.a.as_slice().len() + l.heads.iter().map(|h| h.v.as_slice().len()).sum::<usize>())
                .sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_fields() {
        let w = Weights::Td(vec![TdLayer { p: Mat::identity(3), q: Mat::zeros(3, 3) }]);
        assert_eq!(Weights::from_json(&w.to_json(), "weights", Layout::Td(3)).unwrap(), w);
        let e = Weights::from_json(&w.to_json(), "weights", Layout::Td(5)).unwrap_err();
        assert_eq!(e.field, "weights.layers[0].P");
        let e =
            Weights::from_json(&json!({"P": [[1.0]], "V": [[1.0]], "Q": 1}), "weights", Layout::Lsa(1)).unwrap_err();
        assert_eq!(e.field, "weights.Q");
    }
}
