//! Helpers shared by the CPU custom ops (`conv`, `batch_norm`).

use candle_core::{CpuStorage, Layout, Result};

/// The f32 values of a contiguous CPU tensor; `what` names the op in errors.
pub(crate) fn contiguous_f32<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    let data = match s {
        CpuStorage::F32(v) => v.as_slice(),
        _ => candle_core::bail!("{what}: only f32 is supported"),
    };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("{what}: input must be contiguous"),
    }
}

/// Deterministic test values in [−0.5, 0.5) (a 64-bit LCG), for the ops' tests and device checks.
pub(crate) fn test_values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

/// `[a | b | c]` packed in one flat tensor (what the fused backward ops return) as `a` of
/// `shape`, and `b` and `c` of `k` values each.
pub(crate) fn unpack3(
    packed: &candle_core::Tensor,
    shape: &candle_core::Shape,
    k: usize,
) -> Result<(
    candle_core::Tensor,
    candle_core::Tensor,
    candle_core::Tensor,
)> {
    let n = shape.elem_count();
    Ok((
        packed.narrow(0, 0, n)?.reshape(shape)?,
        packed.narrow(0, n, k)?,
        packed.narrow(0, n + k, k)?,
    ))
}

/// `‖a − b‖₂ / ‖b‖₂` for a test result `a` (f32) and its reference `b` (f32 or f64).
#[cfg(test)]
pub(crate) fn rel_err(a: &candle_core::Tensor, b: &candle_core::Tensor) -> f32 {
    let b = b.to_dtype(candle_core::DType::F32).unwrap();
    norms(&(a - &b).unwrap()).0 / norms(&b).0.max(1e-12)
}

/// `‖t‖₂` and `max |t|` of a test tensor, for the ops' relative-error checks.
#[cfg(test)]
pub(crate) fn norms(t: &candle_core::Tensor) -> (f32, f32) {
    let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let l2 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    (l2, v.iter().fold(0.0f32, |m, x| m.max(x.abs())))
}
