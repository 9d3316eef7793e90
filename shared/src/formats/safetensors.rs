//! `.safetensors` files, from a byte slice.

use super::array::{checked_bytes, ArrayData, RawArray};
use super::budget::ReadBudget;
use super::model_file::METADATA_KEYS;
use crate::error::{RepsError, Result};
use safetensors::{Dtype, SafeTensors};

/// Parses every tensor of a `.safetensors` file, sorted by name: floats (F16, BF16, F32, F64)
/// and integers (8 to 64 bits). Data is little-endian and not assumed aligned. The reserved keys
/// of a model file that describe it (`method`, `parameter`, `parameter_name`) are read from the
/// header's `__metadata__` (string values) and come after the tensors as one-element text arrays.
/// Each decoded tensor's size is claimed from `budget` before it is decoded.
pub fn parse_safetensors(
    file: &str,
    bytes: &[u8],
    budget: &mut ReadBudget,
) -> Result<Vec<(String, RawArray)>> {
    let not_valid = |e: safetensors::SafeTensorError| {
        RepsError::file(file, format!("not a valid .safetensors file: {e}"))
    };
    let st = SafeTensors::deserialize(bytes).map_err(not_valid)?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(not_valid)?;
    let mut names: Vec<String> = st.names().into_iter().map(str::to_string).collect();
    names.sort();
    let mut out = Vec::with_capacity(names.len());
    for key in names {
        let view = st
            .tensor(&key)
            .map_err(|e| RepsError::array(file, &key, e.to_string()))?;
        let shape_u64: Vec<u64> = view.shape().iter().map(|&d| d as u64).collect();
        let item = view.dtype().bitsize() as u64 / 8;
        let stored = checked_bytes(file, &key, &shape_u64, item.max(1))?;
        budget.claim(
            file,
            &format!("tensor '{key}'"),
            stored / item.max(1) * decoded_item(view.dtype()),
        )?;
        let data = decode_tensor(file, &key, view.dtype(), view.data())?;
        let shape = view.shape().to_vec();
        let array =
            RawArray::new(shape, data).map_err(|e| RepsError::array(file, &key, e.to_string()))?;
        out.push((key, array));
    }
    if let Some(metadata) = header.metadata() {
        for key in METADATA_KEYS {
            if let Some(value) = metadata.get(key) {
                let text = ArrayData::Text(vec![value.clone()]);
                out.push((key.to_string(), RawArray::new(Vec::new(), text)?));
            }
        }
    }
    Ok(out)
}

/// Bytes per element once decoded: f16 and bf16 become f32, integers i64.
pub(crate) fn decoded_item(dtype: Dtype) -> u64 {
    match dtype {
        Dtype::F16 | Dtype::BF16 | Dtype::F32 => 4,
        _ => 8,
    }
}

/// Decodes the raw little-endian data of one tensor of type `dtype` (floats and integers).
pub(crate) fn decode_tensor(file: &str, key: &str, dtype: Dtype, raw: &[u8]) -> Result<ArrayData> {
    Ok(match dtype {
        Dtype::F32 => ArrayData::F32(le(raw, f32::from_le_bytes)),
        Dtype::F64 => ArrayData::F64(le(raw, f64::from_le_bytes)),
        Dtype::F16 => ArrayData::F32(le(raw, |b: [u8; 2]| half::f16::from_le_bytes(b).to_f32())),
        Dtype::BF16 => ArrayData::F32(le(raw, |b: [u8; 2]| half::bf16::from_le_bytes(b).to_f32())),
        Dtype::I8 => ArrayData::Int(le(raw, |b: [u8; 1]| i8::from_le_bytes(b) as i64)),
        Dtype::I16 => ArrayData::Int(le(raw, |b: [u8; 2]| i16::from_le_bytes(b) as i64)),
        Dtype::I32 => ArrayData::Int(le(raw, |b: [u8; 4]| i32::from_le_bytes(b) as i64)),
        Dtype::I64 => ArrayData::Int(le(raw, i64::from_le_bytes)),
        Dtype::U8 => ArrayData::Int(le(raw, |b: [u8; 1]| b[0] as i64)),
        Dtype::U16 => ArrayData::Int(le(raw, |b: [u8; 2]| u16::from_le_bytes(b) as i64)),
        Dtype::U32 => ArrayData::Int(le(raw, |b: [u8; 4]| u32::from_le_bytes(b) as i64)),
        Dtype::U64 => ArrayData::Int(le(raw, |b: [u8; 8]| {
            u64::from_le_bytes(b).min(i64::MAX as u64) as i64
        })),
        other => {
            return Err(RepsError::array(
                file,
                key,
                format!("dtype {other:?} is not supported (use F16, BF16, F32, F64 or integers)"),
            ))
        }
    })
}

/// Decodes little-endian elements of `N` bytes each (no alignment assumed).
fn le<T, const N: usize>(raw: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
    raw.chunks_exact(N)
        .map(|c| f(c.try_into().expect("chunk of N bytes")))
        .collect()
}
