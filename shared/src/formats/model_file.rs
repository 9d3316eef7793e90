//! Interpreting the arrays of one per-model file (docs/DESIGN.md §3, "User activation files").

use super::array::{ArrayData, RawArray};
use crate::activations::{Activations, Values};
use crate::error::{RepsError, Result};

/// One model's activations as read from a user file.
#[derive(Clone, Debug)]
pub struct ModelFile {
    /// The model's name (the file stem, unless the caller chose another).
    pub name: String,
    /// The file it came from, for messages.
    pub file: String,
    /// Layers in file order, each N × D. Includes `logits` when the file has logits.
    pub layers: Vec<(String, Activations)>,
    /// Integer labels of the N samples (key `labels`).
    pub labels: Option<Vec<u32>>,
    /// The layer holding the logits, N × K: `logits` when the file has that key.
    pub logits: Option<String>,
    /// Test accuracy in [0, 1] (key `accuracy`).
    pub accuracy: Option<f64>,
    /// How the model was made (key `method`, a string).
    pub method: Option<String>,
    /// The method's parameter (key `parameter`, a number).
    pub parameter: Option<f64>,
    /// What the parameter is (key `parameter_name`, a string).
    pub parameter_name: Option<String>,
    /// Arrays that were not used, and why.
    pub skipped: Vec<Skipped>,
}

/// An array of the file that is not a layer, with the reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    pub key: String,
    pub reason: String,
}

/// Keys of a model file that are not layers. The last three describe the model; a
/// `.safetensors` file gives them in its header's `__metadata__`.
pub const RESERVED_KEYS: [&str; 5] = [
    "labels",
    "accuracy",
    "method",
    "parameter",
    "parameter_name",
];

/// The reserved keys read from a `.safetensors` header's `__metadata__`.
pub(crate) const METADATA_KEYS: [&str; 3] = ["method", "parameter", "parameter_name"];

/// Turns decoded arrays into a model: reserved keys `labels` (integers, length N), `accuracy` (a
/// scalar in [0, 1]), `method` and `parameter_name` (strings) and `parameter` (a finite number, or
/// a string holding one); `logits` (N × K) is a layer that also serves as the logits; every other
/// float array of rank ≥ 2 whose first axis is N is a layer, flattened per sample. N is the length of
/// `labels`, else the first axis of `logits`, else that of the first float array of rank ≥ 2.
/// Non-finite values are an error naming the file, key and sample.
pub fn model_file_from_arrays(
    file: &str,
    name: &str,
    arrays: Vec<(String, RawArray)>,
) -> Result<ModelFile> {
    let labels = arrays
        .iter()
        .find(|(k, _)| k == "labels")
        .map(|(k, a)| parse_labels(file, k, a))
        .transpose()?;
    let Description {
        accuracy,
        method,
        parameter,
        parameter_name,
    } = read_description(file, &mut |key| {
        Ok(arrays
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, a)| a.clone()))
    })?;
    let n = labels
        .as_ref()
        .map(Vec::len)
        .or_else(|| {
            arrays
                .iter()
                .find(|(k, _)| k == "logits")
                .and_then(|(_, a)| a.shape.first().copied())
        })
        .or_else(|| {
            arrays
                .iter()
                .find(|(k, a)| {
                    !RESERVED_KEYS.contains(&k.as_str()) && a.data.is_float() && a.shape.len() >= 2
                })
                .map(|(_, a)| a.shape[0])
        });
    let Some(n) = n else {
        return Err(RepsError::file(
            file,
            "holds no activation array (a float array of shape N × ...)",
        ));
    };
    let mut layers = Vec::new();
    let mut logits = None;
    let mut skipped = Vec::new();
    for (key, a) in arrays {
        if RESERVED_KEYS.contains(&key.as_str()) {
            continue;
        }
        let skip = |reason: String| Skipped {
            key: key.clone(),
            reason,
        };
        if !a.data.is_float() {
            let what = match a.data {
                ArrayData::Text(_) => "text",
                _ => "integer array",
            };
            skipped.push(skip(format!("{what} (only float arrays are layers)")));
            continue;
        }
        if a.shape.len() < 2 {
            if key == "logits" {
                return Err(RepsError::array(
                    file,
                    &key,
                    format!("logits must be N × K, got shape {:?}", a.shape),
                ));
            }
            skipped.push(skip(format!(
                "rank {} (a layer needs N × ...)",
                a.shape.len()
            )));
            continue;
        }
        if a.shape[0] != n {
            let reason = format!(
                "first axis {} differs from the {n} samples of this file",
                a.shape[0]
            );
            if key == "logits" {
                return Err(RepsError::array(file, &key, reason));
            }
            skipped.push(skip(reason));
            continue;
        }
        let values = match a.data {
            ArrayData::F32(v) => Values::F32(v.into()),
            ArrayData::F64(v) => Values::F64(v.into()),
            ArrayData::Int(_) | ArrayData::Text(_) => unreachable!("checked is_float"),
        };
        let act = Activations::new(n, a.shape[1..].to_vec(), values)
            .map_err(|e| RepsError::array(file, &key, e.to_string()))?;
        if key == "logits" {
            logits = Some(key.clone());
        }
        layers.push((key, act));
    }
    if layers.is_empty() {
        return Err(RepsError::file(
            file,
            format!(
                "holds no activation array with {n} samples (a float array of shape {n} × ...)"
            ),
        ));
    }
    Ok(ModelFile {
        name: name.to_string(),
        file: file.to_string(),
        layers,
        labels,
        logits,
        accuracy,
        method,
        parameter,
        parameter_name,
        skipped,
    })
}

/// What a model file says about the model (its reserved keys but `labels`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Description {
    pub accuracy: Option<f64>,
    pub method: Option<String>,
    pub parameter: Option<f64>,
    pub parameter_name: Option<String>,
}

/// Reads and checks the reserved keys `accuracy` (a scalar in [0, 1]), `method` and
/// `parameter_name` (strings) and `parameter` (a finite number, or a string holding one);
/// `array` gives the array of a key, when the file has it.
pub(crate) fn read_description(
    file: &str,
    array: &mut dyn FnMut(&str) -> Result<Option<RawArray>>,
) -> Result<Description> {
    Ok(Description {
        accuracy: array("accuracy")?
            .map(|a| parse_accuracy(file, "accuracy", &a))
            .transpose()?,
        method: array("method")?
            .map(|a| parse_name(file, "method", &a))
            .transpose()?,
        parameter: array("parameter")?
            .map(|a| parse_parameter(file, "parameter", &a))
            .transpose()?,
        parameter_name: array("parameter_name")?
            .map(|a| parse_name(file, "parameter_name", &a))
            .transpose()?,
    })
}

/// A method or parameter name: one non-empty string without control characters, at most 200
/// bytes.
fn parse_name(file: &str, key: &str, a: &RawArray) -> Result<String> {
    let err = |r: String| RepsError::array(file, key, r);
    let text = a.data.text().ok_or_else(|| {
        err(format!(
            "must be a single string (np.savez(..., {key}=\"name\")), got {} of shape {:?}",
            kind_of(&a.data),
            a.shape
        ))
    })?;
    let text = text.trim();
    if text.is_empty() || text.len() > 200 || text.chars().any(char::is_control) {
        return Err(err(format!(
            "'{}' is not a usable name (1 to 200 characters, no control characters)",
            text.escape_debug()
        )));
    }
    Ok(text.to_string())
}

/// The method's parameter: one finite number (or, in `.safetensors` metadata, a string holding
/// one).
fn parse_parameter(file: &str, key: &str, a: &RawArray) -> Result<f64> {
    let err = |r: String| RepsError::array(file, key, r);
    let v = match (a.data.scalar(), a.data.text()) {
        (Some(v), _) => v,
        (None, Some(t)) => t
            .trim()
            .parse::<f64>()
            .map_err(|_| err(format!("'{}' is not a number", t.escape_debug())))?,
        _ => {
            return Err(err(format!(
                "must be a single number, got {} of shape {:?}",
                kind_of(&a.data),
                a.shape
            )))
        }
    };
    if !v.is_finite() {
        return Err(err(format!("{v} is not a finite number")));
    }
    Ok(v)
}

fn kind_of(data: &ArrayData) -> &'static str {
    match data {
        ArrayData::F32(_) | ArrayData::F64(_) => "floats",
        ArrayData::Int(_) => "integers",
        ArrayData::Text(_) => "text",
    }
}

/// Labels: integers (or integral floats) ≥ 0, shape `(N,)` or `(N, 1)`.
pub fn parse_labels(file: &str, key: &str, a: &RawArray) -> Result<Vec<u32>> {
    let err = |r: String| RepsError::array(file, key, r);
    let ok_shape = a.shape.len() == 1 || (a.shape.len() == 2 && a.shape[1] == 1);
    if !ok_shape {
        return Err(err(format!(
            "labels must have shape (N,), got {:?}",
            a.shape
        )));
    }
    let as_int = |i: usize, v: f64| -> Result<u32> {
        if v.fract() != 0.0 || !(0.0..=u32::MAX as f64).contains(&v) {
            return Err(err(format!("label {i} is {v}, not a class index ≥ 0")));
        }
        Ok(v as u32)
    };
    match &a.data {
        ArrayData::Int(v) => v
            .iter()
            .enumerate()
            .map(|(i, &x)| as_int(i, x as f64))
            .collect(),
        ArrayData::F32(v) => v
            .iter()
            .enumerate()
            .map(|(i, &x)| as_int(i, x as f64))
            .collect(),
        ArrayData::F64(v) => v.iter().enumerate().map(|(i, &x)| as_int(i, x)).collect(),
        ArrayData::Text(_) => Err(err("labels must be integers, got text".into())),
    }
}

/// Accuracy: one finite number in [0, 1].
fn parse_accuracy(file: &str, key: &str, a: &RawArray) -> Result<f64> {
    let Some(v) = a.data.scalar() else {
        return Err(RepsError::array(
            file,
            key,
            format!("accuracy must be a single number, got shape {:?}", a.shape),
        ));
    };
    if !(0.0..=1.0).contains(&v) {
        return Err(RepsError::array(
            file,
            key,
            format!("accuracy {v} is not a fraction in [0, 1]"),
        ));
    }
    Ok(v)
}
