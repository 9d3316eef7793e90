//! Interpreting the arrays of one per-model file (DESIGN.md §3, "User activation files").

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
    /// Logits, N × K (key `logits`).
    pub logits: Option<Activations>,
    /// Test accuracy in [0, 1] (key `accuracy`).
    pub accuracy: Option<f64>,
    /// Arrays that were not used, and why.
    pub skipped: Vec<Skipped>,
}

/// An array of the file that is not a layer, with the reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    pub key: String,
    pub reason: String,
}

impl ModelFile {
    /// Number of samples N.
    pub fn samples(&self) -> usize {
        self.layers.first().map_or(0, |(_, a)| a.rows())
    }
}

/// Turns decoded arrays into a model: reserved keys `labels` (integers, length N), `logits`
/// (N × K, also a layer named `logits`) and `accuracy` (a scalar in [0, 1]); every other float
/// array of rank ≥ 2 whose first axis is N is a layer, flattened per sample. N is the length of
/// `labels`, else the first axis of `logits`, else that of the first float array of rank ≥ 2.
/// Non-finite values are an error naming the file, key and sample.
pub fn model_file_from_arrays(
    file: &str,
    name: &str,
    arrays: Vec<(String, RawArray)>,
) -> Result<ModelFile> {
    let mut labels = None;
    let mut accuracy = None;
    for (key, a) in &arrays {
        match key.as_str() {
            "labels" => labels = Some(parse_labels(file, key, a)?),
            "accuracy" => accuracy = Some(parse_accuracy(file, key, a)?),
            _ => {}
        }
    }
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
                    k != "labels" && k != "accuracy" && a.data.is_float() && a.shape.len() >= 2
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
        if key == "labels" || key == "accuracy" {
            continue;
        }
        let skip = |reason: String| Skipped {
            key: key.clone(),
            reason,
        };
        if !a.data.is_float() {
            skipped.push(skip("integer array (only float arrays are layers)".into()));
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
            ArrayData::F32(v) => Values::F32(v),
            ArrayData::F64(v) => Values::F64(v),
            ArrayData::Int(_) => unreachable!("checked is_float"),
        };
        let act = Activations::new(n, a.shape[1..].to_vec(), values)
            .map_err(|e| RepsError::array(file, &key, e.to_string()))?;
        if key == "logits" {
            logits = Some(act.clone());
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
        skipped,
    })
}

/// Labels: integers (or integral floats) ≥ 0, shape `(N,)` or `(N, 1)`.
pub(crate) fn parse_labels(file: &str, key: &str, a: &RawArray) -> Result<Vec<u32>> {
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
    }
}

/// Accuracy: one finite number in [0, 1].
fn parse_accuracy(file: &str, key: &str, a: &RawArray) -> Result<f64> {
    if a.data.len() != 1 {
        return Err(RepsError::array(
            file,
            key,
            format!("accuracy must be a single number, got shape {:?}", a.shape),
        ));
    }
    let v = match &a.data {
        ArrayData::F32(v) => v[0] as f64,
        ArrayData::F64(v) => v[0],
        ArrayData::Int(v) => v[0] as f64,
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
