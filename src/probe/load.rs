//! Reading weights: `.json`, `.npz` (NumPy, through `npyz` on top of `zip`) and `.safetensors`
//! (through `safetensors`), `float32` or `float64`, into named row-major `f64` matrices, and
//! their validation against a family's layout.
//!
//! Names: `P`, `V` (sarsa); `P0, Q0, P1, Q1, …` (linear-td); `A0, V1_0, V2_0, A1, …`
//! (softmax-td: the attention matrix and the two heads of layer `l`, head 2 with the column
//! shift). In JSON the same matrices are `{"P": …, "V": …}` or `{"layers": [{"P", "Q"}, …]}` /
//! `{"layers": [{"A", "V1", "V2"}, …]}`, and errors name the JSON path (`layers[1].Q[2][0]`).
//! Every error is one [`InputError`] naming the array or field: a missing or unknown array, a
//! shape that does not fit the family, a non-finite entry, an unsupported dtype.

use crate::attention::softmax::{Head, MultiHeadLayer};
use crate::error::InputError;
use crate::instance::{num, parse_json};
use crate::linalg::Mat;
use crate::weights::{TdLayer, Weights};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Largest matrix side accepted (bounds the cost of a probe before it runs: the SARSA probe
/// costs `O(prompts · D² · n)`).
pub const MAX_DIM: usize = 512;
/// Most layers accepted.
pub const MAX_LAYERS: usize = 64;
/// Largest file read (bytes).
pub const MAX_FILE_BYTES: u64 = 1 << 28;

/// One matrix as read, with the name errors use for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// How errors name it: the array name (`Q1`) or the JSON path (`layers[1].Q`).
    pub field: String,
    /// Shape as stored.
    pub shape: Vec<usize>,
    /// Entries, row-major.
    pub data: Vec<f64>,
}

/// Arrays by canonical name (`P`, `Q0`, `V2_3`, …).
pub type Arrays = BTreeMap<String, Array>;

/// The weight families `icrl probe` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// [LL] one LSA block `(P, V)`, `D = 3d + 2`.
    Sarsa,
    /// [WB] masked linear layers `(P_l, Q_l)`, `(2d+1)×(2d+1)`.
    LinearTd,
    /// [XZ] two-head softmax layers `(A_l, V1_l, V2_l)`, `(d+3)×(d+3)`.
    SoftmaxTd,
}

impl Family {
    /// Parse `sarsa | linear-td | softmax-td`.
    pub fn parse(s: &str) -> Result<Self, InputError> {
        match s {
            "sarsa" => Ok(Family::Sarsa),
            "linear-td" => Ok(Family::LinearTd),
            "softmax-td" => Ok(Family::SoftmaxTd),
            other => Err(InputError::new(
                "--family",
                format!("unknown family {other:?}: use sarsa, linear-td or softmax-td"),
            )),
        }
    }
    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Family::Sarsa => "sarsa",
            Family::LinearTd => "linear-td",
            Family::SoftmaxTd => "softmax-td",
        }
    }
    /// Matrix names of one layer (`None` for the single sarsa block).
    fn layer_names(self) -> &'static [&'static str] {
        match self {
            Family::Sarsa => &["P", "V"],
            Family::LinearTd => &["P", "Q"],
            Family::SoftmaxTd => &["A", "V1", "V2"],
        }
    }
    /// Canonical array name of matrix `m` in layer `l`: `Q3`, `V1_3`.
    fn array_name(self, m: &str, l: usize) -> String {
        match self {
            Family::Sarsa => m.to_string(),
            Family::LinearTd => format!("{m}{l}"),
            Family::SoftmaxTd if m == "A" => format!("A{l}"),
            Family::SoftmaxTd => format!("{m}_{l}"),
        }
    }
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> InputError {
    InputError::new(path.display().to_string(), format!("cannot read: {e}"))
}

/// Read `path` by extension (`.json`, `.npz`, `.safetensors`) into arrays.
pub fn read_arrays(path: &Path, family: Family) -> Result<Arrays, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(InputError::new(path.display().to_string(), format!("file larger than {MAX_FILE_BYTES} bytes")));
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    match ext.as_str() {
        "json" => {
            let text = std::str::from_utf8(&bytes).map_err(|_| io_err(path, "not UTF-8 text"))?;
            json_arrays(&parse_json(text)?, family)
        }
        "npz" => npz_arrays(&bytes),
        "safetensors" => safetensors_arrays(&bytes),
        _ => Err(InputError::new(path.display().to_string(), "unknown extension: use .json, .npz or .safetensors")),
    }
}

fn json_matrix(v: &Value, field: &str) -> Result<Array, InputError> {
    let rows = v.as_array().ok_or_else(|| InputError::new(field, "expected a matrix (array of rows)"))?;
    let mut data = Vec::new();
    let mut cols = None;
    for (i, r) in rows.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let r = r.as_array().ok_or_else(|| InputError::new(&path, "expected a row (array of numbers)"))?;
        if *cols.get_or_insert(r.len()) != r.len() {
            return Err(InputError::new(
                &path,
                format!("row has {} entries, row 0 has {}", r.len(), cols.unwrap_or(0)),
            ));
        }
        for (j, x) in r.iter().enumerate() {
            data.push(num(x, &format!("{path}[{j}]"))?);
        }
    }
    Ok(Array { field: field.to_string(), shape: vec![rows.len(), cols.unwrap_or(0)], data })
}

fn object<'a>(v: &'a Value, field: &str) -> Result<&'a serde_json::Map<String, Value>, InputError> {
    v.as_object().ok_or_else(|| InputError::new(if field.is_empty() { "weights" } else { field }, "expected an object"))
}

/// Arrays of a JSON weights object (see the module doc); unknown keys are errors.
pub fn json_arrays(v: &Value, family: Family) -> Result<Arrays, InputError> {
    let top = object(v, "")?;
    let mut out = Arrays::new();
    if family == Family::Sarsa {
        for (k, x) in top {
            if !family.layer_names().contains(&k.as_str()) {
                return Err(InputError::new(k, "unknown key: sarsa weights are {\"P\": D×D, \"V\": D×D}"));
            }
            out.insert(k.clone(), json_matrix(x, k)?);
        }
        return Ok(out);
    }
    for k in top.keys() {
        if k != "layers" {
            return Err(InputError::new(k, "unknown key: layered weights are {\"layers\": [...]}"));
        }
    }
    let layers = top
        .get("layers")
        .ok_or_else(|| InputError::new("layers", "missing"))?
        .as_array()
        .ok_or_else(|| InputError::new("layers", "expected an array of layers"))?;
    for (l, layer) in layers.iter().enumerate() {
        let lf = format!("layers[{l}]");
        for (k, x) in object(layer, &lf)? {
            let field = format!("{lf}.{k}");
            if family == Family::SoftmaxTd && k == "heads" {
                heads_arrays(x, &field, l, &mut out)?;
                continue;
            }
            let keys: &[&str] = if family == Family::SoftmaxTd { &["A", "heads"] } else { family.layer_names() };
            if !keys.contains(&k.as_str()) {
                return Err(InputError::new(field, format!("unknown key: a layer has {keys:?}")));
            }
            out.insert(family.array_name(k, l), json_matrix(x, &field)?);
        }
    }
    Ok(out)
}

/// The `heads` of a softmax layer in JSON, as in an instance's `weights`: exactly
/// `[{"V": …, "shift": false}, {"V": …, "shift": true}]` (the [XZ] two-head form), stored as
/// `V1_l`, `V2_l`.
fn heads_arrays(v: &Value, field: &str, l: usize, out: &mut Arrays) -> Result<(), InputError> {
    let hs = v.as_array().ok_or_else(|| InputError::new(field, "expected an array of heads"))?;
    if hs.len() != 2 {
        return Err(InputError::new(
            field,
            format!(
                "has {} heads; the probe reads the [XZ] two-head form (head 1 unshifted, head 2 shifted)",
                hs.len()
            ),
        ));
    }
    for (h, hv) in hs.iter().enumerate() {
        let hf = format!("{field}[{h}]");
        let o = object(hv, &hf)?;
        for k in o.keys() {
            if k != "V" && k != "shift" {
                return Err(InputError::new(format!("{hf}.{k}"), "unknown key: a head has [\"V\", \"shift\"]"));
            }
        }
        let want = h == 1;
        match o.get("shift") {
            Some(Value::Bool(b)) if *b == want => {}
            None if !want => {}
            _ => {
                return Err(InputError::new(
                    format!("{hf}.shift"),
                    format!("head {} must have \"shift\": {want}", h + 1),
                ))
            }
        }
        let m = o.get("V").ok_or_else(|| InputError::new(format!("{hf}.V"), "missing"))?;
        out.insert(format!("V{}_{l}", h + 1), json_matrix(m, &format!("{hf}.V"))?);
    }
    Ok(())
}

fn npz_arrays(bytes: &[u8]) -> Result<Arrays, InputError> {
    let mut out = Arrays::new();
    for a in crate::npz::read(bytes)? {
        let crate::npz::Data::Float(data) = a.data else {
            return Err(InputError::new(&a.name, "dtype not supported: use float32 or float64"));
        };
        out.insert(a.name.clone(), Array { field: a.name, shape: a.shape, data });
    }
    Ok(out)
}

fn safetensors_arrays(bytes: &[u8]) -> Result<Arrays, InputError> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| InputError::new("safetensors", format!("not a safetensors file: {e}")))?;
    let mut out = Arrays::new();
    for (name, view) in st.tensors() {
        let raw = view.data();
        let data: Vec<f64> = match view.dtype() {
            safetensors::Dtype::F32 => {
                raw.chunks_exact(4).map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect()
            }
            safetensors::Dtype::F64 => raw
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
            other => return Err(InputError::new(&name, format!("dtype {other:?} not supported: use F32 or F64"))),
        };
        out.insert(name.clone(), Array { field: name.clone(), shape: view.shape().to_vec(), data });
    }
    Ok(out)
}

fn square(a: &Array) -> Result<Mat<f64>, InputError> {
    if a.shape.len() != 2 || a.shape[0] != a.shape[1] || a.shape[0] == 0 {
        return Err(InputError::new(&a.field, format!("shape {:?}: expected a nonempty square matrix", a.shape)));
    }
    if a.shape[0] > MAX_DIM {
        return Err(InputError::new(&a.field, format!("side {} exceeds the limit {MAX_DIM}", a.shape[0])));
    }
    let n = a.shape[0];
    if let Some(k) = a.data.iter().position(|x| !x.is_finite()) {
        return Err(InputError::new(
            format!("{}[{}][{}]", a.field, k / n, k % n),
            format!("{} is not a finite number", a.data[k]),
        ));
    }
    Ok(Mat::from_vec(n, n, a.data.clone()))
}

fn take(arrays: &mut Arrays, name: &str, family: Family) -> Result<Array, InputError> {
    arrays.remove(name).ok_or_else(|| InputError::new(name, format!("missing array (family {})", family.name())))
}

/// Validate arrays against `family`'s layout: every array present, nothing extra, square,
/// finite, sides consistent (`D = 3d+2`; `2d+1`; `d+3`), layers numbered from 0 without gaps.
pub fn weights(mut arrays: Arrays, family: Family) -> Result<Weights, InputError> {
    let w = match family {
        Family::Sarsa => {
            let p = square(&take(&mut arrays, "P", family)?)?;
            let va = take(&mut arrays, "V", family)?;
            let v = square(&va)?;
            let dd = p.rows();
            if dd < 5 || (dd - 2) % 3 != 0 {
                return Err(InputError::new("P", format!("side {dd} is not 3d + 2 for any d >= 1")));
            }
            if v.rows() != dd {
                return Err(InputError::new(&va.field, format!("side {} differs from P's {dd}", v.rows())));
            }
            Weights::Lsa { p, v }
        }
        Family::LinearTd | Family::SoftmaxTd => {
            let names = family.layer_names();
            let first = family.array_name(names[0], 0);
            let mut layers: Vec<Vec<Mat<f64>>> = Vec::new();
            let mut side = None;
            while arrays.contains_key(&family.array_name(names[0], layers.len())) {
                let l = layers.len();
                if l == MAX_LAYERS {
                    return Err(InputError::new(
                        family.array_name(names[0], l),
                        format!("more than {MAX_LAYERS} layers"),
                    ));
                }
                let mut mats = Vec::new();
                for m in names {
                    let a = take(&mut arrays, &family.array_name(m, l), family)?;
                    let x = square(&a)?;
                    if *side.get_or_insert(x.rows()) != x.rows() {
                        return Err(InputError::new(
                            &a.field,
                            format!("side {} differs from layer 0's {}", x.rows(), side.unwrap_or(0)),
                        ));
                    }
                    let ok = match family {
                        Family::LinearTd => x.rows() >= 3 && x.rows() % 2 == 1,
                        _ => x.rows() >= 4,
                    };
                    if !ok {
                        let want = if family == Family::LinearTd { "2d + 1" } else { "d + 3" };
                        return Err(InputError::new(
                            &a.field,
                            format!("side {} is not {want} for any d >= 1", x.rows()),
                        ));
                    }
                    mats.push(x);
                }
                layers.push(mats);
            }
            if layers.is_empty() {
                return Err(InputError::new(first, format!("missing array (family {}: layer 0)", family.name())));
            }
            let layers = layers.into_iter().map(|m| {
                let mut it = m.into_iter();
                let mut next = move || it.next().unwrap_or_else(|| Mat::zeros(0, 0));
                (next(), next(), next())
            });
            if family == Family::LinearTd {
                Weights::Td(layers.map(|(p, q, _)| TdLayer { p, q }).collect())
            } else {
                // The [XZ] two-head form: head 1 without, head 2 with the column shift.
                Weights::Softmax(
                    layers
                        .map(|(a, v1, v2)| MultiHeadLayer {
                            a,
                            heads: vec![Head { v: v1, shift: false }, Head { v: v2, shift: true }],
                            mask_query: true,
                        })
                        .collect(),
                )
            }
        }
    };
    if let Some((_, a)) = arrays.into_iter().next() {
        return Err(InputError::new(
            a.field,
            format!("unknown array for family {} (expected {})", family.name(), expected_names(family)),
        ));
    }
    Ok(w)
}

fn expected_names(family: Family) -> &'static str {
    match family {
        Family::Sarsa => "P, V",
        Family::LinearTd => "P0, Q0, P1, Q1, ...",
        Family::SoftmaxTd => "A0, V1_0, V2_0, A1, ...",
    }
}

/// Read and validate a weights file.
pub fn read_weights(path: &Path, family: Family) -> Result<Weights, InputError> {
    weights(read_arrays(path, family)?, family)
}
