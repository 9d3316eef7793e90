//! A decoded n-dimensional array, before it is interpreted as a layer, labels, logits or accuracy.

use crate::error::{RepsError, Result};

/// The largest array (in bytes, as stored) that an importer will allocate: 4 GiB on native
/// targets, 1 GiB in the browser. Larger claims are an error, never an allocation failure.
#[cfg(not(target_arch = "wasm32"))]
pub const MAX_ARRAY_BYTES: u64 = 4 << 30;
/// See the native definition.
#[cfg(target_arch = "wasm32")]
pub const MAX_ARRAY_BYTES: u64 = 1 << 30;

/// Element values of a decoded array.
#[derive(Clone, Debug, PartialEq)]
pub enum ArrayData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    Int(Vec<i64>),
    /// Strings (numpy's `U` and `S` dtypes; text in a `.safetensors` header's metadata).
    Text(Vec<String>),
}

impl ArrayData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            ArrayData::F32(v) => v.len(),
            ArrayData::F64(v) => v.len(),
            ArrayData::Int(v) => v.len(),
            ArrayData::Text(v) => v.len(),
        }
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the values are floating point.
    pub fn is_float(&self) -> bool {
        matches!(self, ArrayData::F32(_) | ArrayData::F64(_))
    }

    /// The single number of a one-element numeric array (a numpy scalar, or `(1,)`).
    pub fn scalar(&self) -> Option<f64> {
        if self.len() != 1 {
            return None;
        }
        match self {
            ArrayData::F32(v) => Some(v[0] as f64),
            ArrayData::F64(v) => Some(v[0]),
            ArrayData::Int(v) => Some(v[0] as f64),
            ArrayData::Text(_) => None,
        }
    }

    /// The single string of a one-element text array.
    pub fn text(&self) -> Option<&str> {
        match self {
            ArrayData::Text(v) if v.len() == 1 => Some(&v[0]),
            _ => None,
        }
    }
}

/// An array in C order with its shape.
#[derive(Clone, Debug, PartialEq)]
pub struct RawArray {
    pub shape: Vec<usize>,
    pub data: ArrayData,
}

impl RawArray {
    /// Checks that `shape` and the element count agree.
    pub fn new(shape: Vec<usize>, data: ArrayData) -> Result<Self> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(RepsError::Invalid(format!(
                "shape {shape:?} holds {n} elements, data has {}",
                data.len()
            )));
        }
        Ok(RawArray { shape, data })
    }
}

/// Bytes needed for `shape` with `item` bytes per element, checked against overflow and
/// [`MAX_ARRAY_BYTES`].
pub(crate) fn checked_bytes(file: &str, key: &str, shape: &[u64], item: u64) -> Result<u64> {
    let total = shape
        .iter()
        .try_fold(item, |acc, &d| acc.checked_mul(d))
        .filter(|&b| b <= MAX_ARRAY_BYTES)
        .ok_or_else(|| {
            RepsError::array(
                file,
                key,
                format!(
                    "shape {shape:?} claims more than {} GiB, more than this build reads",
                    MAX_ARRAY_BYTES >> 30
                ),
            )
        })?;
    Ok(total)
}

/// Reorders Fortran-order (column-major) data of `shape` into C order.
pub(crate) fn fortran_to_c<T: Clone>(data: &[T], shape: &[usize]) -> Vec<T> {
    if shape.len() < 2 {
        return data.to_vec();
    }
    let n = data.len();
    let mut out = Vec::with_capacity(n);
    let mut index = vec![0usize; shape.len()];
    // Fortran strides: first axis fastest.
    let mut strides = vec![1usize; shape.len()];
    for k in 1..shape.len() {
        strides[k] = strides[k - 1] * shape[k - 1];
    }
    for _ in 0..n {
        let offset: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
        out.push(data[offset].clone());
        // Increment the C-order multi-index (last axis fastest).
        for k in (0..shape.len()).rev() {
            index[k] += 1;
            if index[k] < shape[k] {
                break;
            }
            index[k] = 0;
        }
    }
    out
}
