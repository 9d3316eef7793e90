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

/// `‖t‖₂` and `max |t|` of a test tensor, for the ops' relative-error checks.
#[cfg(test)]
pub(crate) fn norms(t: &candle_core::Tensor) -> (f32, f32) {
    let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let l2 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    (l2, v.iter().fold(0.0f32, |m, x| m.max(x.abs())))
}
