//! NumPy `.npz` archives (`numpy.savez` / `savez_compressed`): a zip of `.npy` arrays, read with
//! `zip` and `npyz` into named arrays in C (row-major) order. Shared by `icrl probe` (weights)
//! and `icrl check` (instances whose arrays are named by their JSON paths).

use crate::error::InputError;
use serde_json::Value;
use std::io::Read;

/// Largest archive entry read (bytes, uncompressed).
pub const MAX_ENTRY_BYTES: u64 = 1 << 28;

/// The entries of one array.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// `float32` (widened exactly) or `float64`.
    Float(Vec<f64>),
    /// Signed or unsigned integers of any width that fit `i64`.
    Int(Vec<i64>),
    /// `bool`.
    Bool(Vec<bool>),
    /// Unicode strings (`<U…`).
    Str(Vec<String>),
}

/// One array of an archive.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// Its name in the archive, without `.npy`.
    pub name: String,
    /// Shape (empty for a 0-d array).
    pub shape: Vec<usize>,
    /// Entries, row-major.
    pub data: Data,
}

/// Permute Fortran-order entries (first index fastest) into C order (last index fastest).
fn c_order<T: Clone>(data: Vec<T>, shape: &[usize]) -> Vec<T> {
    if shape.len() < 2 {
        return data;
    }
    let n = data.len();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; shape.len()];
    for _ in 0..n {
        // Fortran offset of the C-order multi-index `idx`.
        let (mut off, mut stride) = (0, 1);
        for (i, s) in idx.iter().zip(shape) {
            off += i * stride;
            stride *= s;
        }
        out.push(data[off].clone());
        for k in (0..shape.len()).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

/// Read every array of an `.npz` archive, in archive order. Errors name the archive entry.
pub fn read(bytes: &[u8]) -> Result<Vec<NpyArray>, InputError> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| InputError::new("npz", format!("not a zip archive: {e}")))?;
    let mut out = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| InputError::new("npz", format!("entry {i}: {e}")))?;
        let fname = entry.name().to_string();
        let name = fname.strip_suffix(".npy").unwrap_or(&fname).to_string();
        if entry.size() > MAX_ENTRY_BYTES {
            return Err(InputError::new(&name, format!("array too large (more than {MAX_ENTRY_BYTES} bytes)")));
        }
        let mut buf = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut buf).map_err(|e| InputError::new(&name, format!("cannot read: {e}")))?;
        let npy = npyz::NpyFile::new(&buf[..]).map_err(|e| InputError::new(&name, format!("not a .npy array: {e}")))?;
        let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
        let fortran = npy.order() == npyz::Order::Fortran;
        let err = |e: std::io::Error| InputError::new(&name, e.to_string());
        let data = match npy.dtype() {
            npyz::DType::Plain(ts) => {
                use npyz::TypeChar as C;
                match (ts.type_char(), ts.size_field()) {
                    (C::Float, 4) => {
                        Data::Float(npy.into_vec::<f32>().map_err(err)?.into_iter().map(f64::from).collect())
                    }
                    (C::Float, 8) => Data::Float(npy.into_vec::<f64>().map_err(err)?),
                    (C::Int, 1 | 2 | 4 | 8) => Data::Int(npy.into_vec::<i64>().map_err(err)?),
                    (C::Uint, 1 | 2 | 4) => {
                        Data::Int(npy.into_vec::<u32>().map_err(err)?.into_iter().map(i64::from).collect())
                    }
                    (C::Uint, 8) => Data::Int(
                        npy.into_vec::<u64>()
                            .map_err(err)?
                            .into_iter()
                            .map(|x| i64::try_from(x).map_err(|_| InputError::new(&name, format!("{x} is too large"))))
                            .collect::<Result<_, _>>()?,
                    ),
                    (C::Bool, 1) => Data::Bool(npy.into_vec::<bool>().map_err(err)?),
                    (C::UnicodeStr, _) => Data::Str(npy.into_vec::<String>().map_err(err)?),
                    _ => {
                        return Err(InputError::new(
                            &name,
                            format!("dtype {} not supported: use float32/float64, integers, bool or str", ts),
                        ))
                    }
                }
            }
            other => {
                return Err(InputError::new(&name, format!("dtype {} not supported (structured array)", other.descr())))
            }
        };
        let data = if fortran {
            match data {
                Data::Float(v) => Data::Float(c_order(v, &shape)),
                Data::Int(v) => Data::Int(c_order(v, &shape)),
                Data::Bool(v) => Data::Bool(c_order(v, &shape)),
                Data::Str(v) => Data::Str(c_order(v, &shape)),
            }
        } else {
            data
        };
        out.push(NpyArray { name, shape, data });
    }
    Ok(out)
}

/// One step of a JSON path: an object key or an array index.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Parse `mdp.transitions`, `weights.layers[1].heads[0].V` into steps.
fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() {
            return None;
        }
        steps.push(Step::Key(key.to_string()));
        while !rest.is_empty() {
            let close = rest.find(']')?;
            let i: usize = rest.get(1..close)?.parse().ok()?;
            steps.push(Step::Index(i));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return None;
            }
        }
    }
    Some(steps)
}

/// Nest row-major entries into JSON arrays of `shape` (a 0-d array is its one entry).
fn nest(shape: &[usize], flat: &mut dyn Iterator<Item = Value>) -> Value {
    match shape.split_first() {
        None => flat.next().unwrap_or(Value::Null),
        Some((&n, rest)) => Value::Array((0..n).map(|_| nest(rest, flat)).collect()),
    }
}

/// Most array indices a path may name (bounds the JSON built before validation).
const MAX_INDEX: usize = 1 << 16;

/// An instance archive: every array named by its JSON path (`family` a 0-d str array,
/// `mdp.gamma` a 0-d float, `trajectory.states` integers, `weights.layers[0].P` a matrix, …),
/// assembled into the JSON object the instance reader then validates as any other input.
pub fn instance_json(bytes: &[u8]) -> Result<Value, InputError> {
    let mut root = Value::Object(Default::default());
    for a in read(bytes)? {
        let steps = parse_path(&a.name)
            .ok_or_else(|| InputError::new(&a.name, "not a JSON path (keys separated by '.', array indices as [i])"))?;
        let mut flat: Box<dyn Iterator<Item = Value>> = match a.data {
            Data::Float(v) => Box::new(v.into_iter().map(|x| {
                serde_json::Number::from_f64(x).map(Value::Number).unwrap_or_else(|| Value::String(format!("{x}")))
            })),
            Data::Int(v) => Box::new(v.into_iter().map(Value::from)),
            Data::Bool(v) => Box::new(v.into_iter().map(Value::Bool)),
            Data::Str(v) => Box::new(v.into_iter().map(Value::String)),
        };
        let value = nest(&a.shape, &mut flat);
        let mut node = &mut root;
        for (k, step) in steps.iter().enumerate() {
            let last = k + 1 == steps.len();
            node = match step {
                Step::Key(key) => {
                    let obj = node.as_object_mut().ok_or_else(|| {
                        InputError::new(&a.name, "the path descends into a value that is not an object")
                    })?;
                    obj.entry(key.clone()).or_insert(if last { Value::Null } else { placeholder(&steps[k + 1]) })
                }
                Step::Index(i) => {
                    if *i >= MAX_INDEX {
                        return Err(InputError::new(&a.name, format!("index {i} is too large")));
                    }
                    let arr = node
                        .as_array_mut()
                        .ok_or_else(|| InputError::new(&a.name, "the path indexes a value that is not an array"))?;
                    if arr.len() <= *i {
                        arr.resize(*i + 1, Value::Null);
                    }
                    if arr[*i].is_null() && !last {
                        arr[*i] = placeholder(&steps[k + 1]);
                    }
                    &mut arr[*i]
                }
            };
        }
        if !node.is_null() {
            return Err(InputError::new(&a.name, "given twice (or inside another array's path)"));
        }
        *node = value;
    }
    Ok(root)
}

fn placeholder(next: &Step) -> Value {
    match next {
        Step::Key(_) => Value::Object(Default::default()),
        Step::Index(_) => Value::Array(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_fortran_order_is_transposed() {
        assert_eq!(
            parse_path("weights.layers[1].P"),
            Some(vec![Step::Key("weights".into()), Step::Key("layers".into()), Step::Index(1), Step::Key("P".into())])
        );
        for bad in ["", "a..b", "a[x]", "a[1", "a[1]b", ".a"] {
            assert_eq!(parse_path(bad), None, "{bad}");
        }
        // A 2×3 matrix [[0,1,2],[3,4,5]] stored column by column.
        assert_eq!(c_order(vec![0, 3, 1, 4, 2, 5], &[2, 3]), vec![0, 1, 2, 3, 4, 5]);
        // 2×2×2: Fortran offset i + 2j + 4k.
        let f: Vec<usize> = (0..8).map(|o| (o % 2) * 4 + ((o / 2) % 2) * 2 + o / 4).collect();
        assert_eq!(c_order(f, &[2, 2, 2]), (0..8).collect::<Vec<_>>());
    }
}
