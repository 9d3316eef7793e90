//! numpy `.npy` arrays (through the `npyz` crate), from a byte slice.

use super::array::{checked_bytes, fortran_to_c, ArrayData, RawArray};
use super::budget::ReadBudget;
use crate::error::{RepsError, Result};
use npyz::{DType, NpyFile, Order, TypeChar};
use std::io::Cursor;

/// Parses one `.npy` array: float (f16, f32, f64), integer (8 to 64 bits, signed or unsigned) or
/// text (numpy's `U` and `S` dtypes, as `np.savez(..., method="distill")` writes), either byte
/// order, C or Fortran order. The header's claimed size is checked against the bytes
/// present, and the decoded array's size is claimed from `budget`, before anything is
/// allocated. `key` names the array in errors.
pub fn parse_npy(file: &str, key: &str, bytes: &[u8], budget: &mut ReadBudget) -> Result<RawArray> {
    let err = |reason: String| RepsError::array(file, key, reason);
    let npy = NpyFile::new(Cursor::new(bytes))
        .map_err(|e| err(format!("not a valid .npy array: {e}")))?;
    let header = npy.header().clone();
    let offset = npy.into_inner().position() as usize;
    let type_str = match header.dtype() {
        DType::Plain(t) => t,
        other => return Err(err(format!("structured dtype {other:?} is not supported"))),
    };
    let item = type_str.num_bytes().unwrap_or(0) as u64;
    let (char_, size) = (type_str.type_char(), type_str.size_field());
    let supported = matches!(
        (char_, size),
        (TypeChar::Float, 2 | 4 | 8) | (TypeChar::Int | TypeChar::Uint, 1 | 2 | 4 | 8)
    ) || matches!(char_, TypeChar::UnicodeStr | TypeChar::ByteStr);
    if !supported {
        return Err(err(format!(
            "dtype '{type_str}' is not supported (use float16/32/64, an integer type or a string)"
        )));
    }
    let shape_u64 = header.shape().to_vec();
    let needed = checked_bytes(file, key, &shape_u64, item)?;
    let available = (bytes.len() - offset.min(bytes.len())) as u64;
    if needed > available {
        return Err(err(format!(
            "truncated: shape {shape_u64:?} of '{type_str}' needs {needed} bytes of data, only {available} present"
        )));
    }
    let shape: Vec<usize> = shape_u64.iter().map(|&d| d as usize).collect();
    // Decoded element size: f16 becomes f32, integers become i64, a string costs its header
    // plus its bytes (approximated by the stored item size).
    let decoded_item = match (char_, size) {
        (TypeChar::Float, 2 | 4) => 4,
        (TypeChar::UnicodeStr | TypeChar::ByteStr, _) => 24 + item,
        _ => 8,
    };
    let elements = shape_u64.iter().fold(1u64, |acc, &d| acc.saturating_mul(d));
    let copies = if header.order() == Order::Fortran {
        2
    } else {
        1
    };
    budget.claim(
        file,
        &format!("array '{key}'"),
        elements.saturating_mul(decoded_item).saturating_mul(copies),
    )?;
    let file_data = NpyFile::with_header(header.clone(), &bytes[offset..]);
    let io = |e: std::io::Error| err(format!("cannot decode data: {e}"));
    let data = match (char_, size) {
        (TypeChar::Float, 2) => ArrayData::F32(
            file_data
                .into_vec::<half::f16>()
                .map_err(io)?
                .into_iter()
                .map(f32::from)
                .collect(),
        ),
        (TypeChar::Float, 4) => ArrayData::F32(file_data.into_vec::<f32>().map_err(io)?),
        (TypeChar::Float, _) => ArrayData::F64(file_data.into_vec::<f64>().map_err(io)?),
        (TypeChar::Int, 1) => ints(file_data.into_vec::<i8>().map_err(io)?),
        (TypeChar::Int, 2) => ints(file_data.into_vec::<i16>().map_err(io)?),
        (TypeChar::Int, 4) => ints(file_data.into_vec::<i32>().map_err(io)?),
        (TypeChar::Int, _) => ints(file_data.into_vec::<i64>().map_err(io)?),
        (TypeChar::Uint, 1) => ints(file_data.into_vec::<u8>().map_err(io)?),
        (TypeChar::Uint, 2) => ints(file_data.into_vec::<u16>().map_err(io)?),
        (TypeChar::Uint, 4) => ints(file_data.into_vec::<u32>().map_err(io)?),
        (TypeChar::UnicodeStr | TypeChar::ByteStr, _) => {
            ArrayData::Text(file_data.into_vec::<String>().map_err(io)?)
        }
        (TypeChar::Uint, _) => ArrayData::Int(
            file_data
                .into_vec::<u64>()
                .map_err(io)?
                .into_iter()
                .map(|v| v.min(i64::MAX as u64) as i64)
                .collect(),
        ),
        _ => unreachable!("checked above"),
    };
    let data = if header.order() == Order::Fortran {
        match data {
            ArrayData::F32(v) => ArrayData::F32(fortran_to_c(&v, &shape)),
            ArrayData::F64(v) => ArrayData::F64(fortran_to_c(&v, &shape)),
            ArrayData::Int(v) => ArrayData::Int(fortran_to_c(&v, &shape)),
            ArrayData::Text(v) => ArrayData::Text(fortran_to_c(&v, &shape)),
        }
    } else {
        data
    };
    RawArray::new(shape, data).map_err(|e| err(e.to_string()))
}

fn ints<T: Into<i64>>(v: Vec<T>) -> ArrayData {
    ArrayData::Int(v.into_iter().map(Into::into).collect())
}
