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

/// Runs `f` on the values of an f32 tensor on the CPU, in place when it is contiguous (a
/// backward pass gets tensors, not storages; this spares the copy of `to_vec1`).
pub(crate) fn with_cpu_f32<T>(
    t: &candle_core::Tensor,
    what: &str,
    f: impl FnOnce(&[f32]) -> Result<T>,
) -> Result<T> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        candle_core::Storage::Cpu(s) => f(contiguous_f32(s, layout, what)?),
        _ => candle_core::bail!("{what}: expected a tensor on the CPU"),
    }
}

/// candle's ReLU, `max(z, 0)` (so that the ops fused with a ReLU have its bits).
pub(crate) fn relu(z: f32) -> f32 {
    z.max(0.0)
}

/// candle's ReLU backward for one value, as its autograd computes it: `0 + dy·[z ≥ 0]` (the
/// gradient passes at `z = 0`).
pub(crate) fn relu_grad(z: f32, dy: f32) -> f32 {
    0.0 + dy * if z >= 0.0 { 1.0 } else { 0.0 }
}

/// A vector of `len` values made in parallel, `chunk` values at a time: each chunk is zeroed and
/// then handed to `fill(index, chunk)` on the thread that zeroed it, while it is in cache. Same
/// result as `vec![0.0; len]` then filling each chunk, without the single-threaded memset of a
/// zeroed allocation first (the column matrices are large: `k²` times a layer's input).
pub(crate) fn par_chunks_zeroed(
    len: usize,
    chunk: usize,
    fill: impl Fn(usize, &mut [f32]) + Sync,
) -> Vec<f32> {
    use rayon::prelude::*;
    use std::mem::MaybeUninit;
    let mut v: Vec<f32> = Vec::with_capacity(len);
    v.spare_capacity_mut()[..len]
        .par_chunks_mut(chunk.max(1))
        .enumerate()
        .for_each(|(i, c)| {
            for m in c.iter_mut() {
                m.write(0.0);
            }
            // SAFETY: every element of `c` was initialised just above, and `MaybeUninit<f32>`
            // has the layout of `f32`.
            let c = unsafe { &mut *(c as *mut [MaybeUninit<f32>] as *mut [f32]) };
            fill(i, c);
        });
    // SAFETY: the chunks cover `0..len`, and every one of them was initialised above.
    unsafe { v.set_len(len) };
    v
}

/// The bit patterns of a tensor's f32 values, for tests that compare ops bit for bit.
#[cfg(test)]
pub(crate) fn test_bits(t: &candle_core::Tensor) -> Vec<u32> {
    let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
    v.iter().map(|f| f.to_bits()).collect()
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
