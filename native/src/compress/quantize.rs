//! Post-training uniform weight quantization (normalisation layers, biases and embeddings stay in
//! float).

use super::{CompressionMethod, LayerSearch, Make, MethodSettings};
use crate::model::WeightTensor;
use anyhow::Result;
use reps::search::Direction;
use serde::{Deserialize, Serialize};

/// `quant`: round every weight tensor to `2^bits` levels (the paper's bit widths).
pub const METHOD: CompressionMethod = CompressionMethod {
    name: "quant",
    parameter: "bits",
    about: "round every weight tensor to 2^bits evenly spaced levels (grid fitted by --quant-mode)",
    grid: [8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0],
    check: |b| {
        (!(b.fract() == 0.0 && (1.0..=16.0).contains(&b))).then(|| format!("{b} is not in 1..=16"))
    },
    make: Make::Weights(apply),
    search: Some(LayerSearch {
        ladder: &[8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0],
        budget: "average bits",
        direction: Direction::Decreases,
        amount: |_, bits| bits.unwrap_or(32.0),
        global: None,
    }),
};

fn apply(weights: &mut [WeightTensor], bits: f64, settings: &MethodSettings) -> Result<()> {
    for w in weights.iter_mut() {
        quantize_tensor(&mut w.values, &w.dims, bits as u32, settings.quant_mode);
    }
    Ok(())
}

/// How the quantization grid is fitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuantMode {
    /// One asymmetric grid `[min, max]` per tensor (the default).
    PerTensor,
    /// One asymmetric grid `[min, max]` per output channel (first axis).
    PerChannel,
    /// One symmetric grid `[−max|w|, max|w|]` per tensor.
    Symmetric,
}

/// Rounds `w` to the nearest of `2^bits` evenly spaced levels spanning `[lo, hi]`
/// (`lo + q (hi − lo) / (2^bits − 1)`, q = 0 … 2^bits − 1); with 1 bit the two levels are lo and hi.
/// A degenerate range (`hi ≤ lo`) leaves the values unchanged.
pub fn quantize_range(w: &mut [f32], bits: u32, lo: f32, hi: f32) {
    if hi <= lo || bits == 0 {
        return;
    }
    let levels = ((1u64 << bits.min(31)) - 1) as f64;
    let step = (hi as f64 - lo as f64) / levels;
    for x in w.iter_mut() {
        let q = ((*x as f64 - lo as f64) / step).round().clamp(0.0, levels);
        *x = (lo as f64 + q * step) as f32;
    }
}

fn min_max(w: &[f32]) -> (f32, f32) {
    w.iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        })
}

/// Quantizes one weight tensor of shape `dims` to `bits` bits in `mode`.
pub fn quantize_tensor(w: &mut [f32], dims: &[usize], bits: u32, mode: QuantMode) {
    match mode {
        QuantMode::PerTensor => {
            let (lo, hi) = min_max(w);
            quantize_range(w, bits, lo, hi);
        }
        QuantMode::Symmetric => {
            let a = w.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            quantize_range(w, bits, -a, a);
        }
        QuantMode::PerChannel => {
            let channels = dims.first().copied().unwrap_or(1).max(1);
            let per = w.len() / channels;
            if per == 0 {
                return;
            }
            for chunk in w.chunks_mut(per) {
                let (lo, hi) = min_max(chunk);
                quantize_range(chunk, bits, lo, hi);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distinct(w: &[f32]) -> usize {
        let mut v: Vec<u32> = w.iter().map(|x| x.to_bits()).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    }

    fn ramp(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0 + (i % 3) as f32 * 0.001)
            .collect()
    }

    #[test]
    fn at_most_two_to_the_bits_levels_and_error_shrinks_with_bits() {
        let w = ramp(4000);
        let mut err = Vec::new();
        for bits in 1..=8u32 {
            let mut q = w.clone();
            quantize_tensor(&mut q, &[4000], bits, QuantMode::PerTensor);
            assert!(
                distinct(&q) <= 1 << bits,
                "{bits} bits: {} levels",
                distinct(&q)
            );
            let mse: f64 = w
                .iter()
                .zip(&q)
                .map(|(a, b)| ((a - b) as f64).powi(2))
                .sum::<f64>()
                / 4000.0;
            err.push(mse);
        }
        // Uniform grid: the error falls ~4× per bit; 8-bit error far below 4-bit error.
        assert!(err[7] < err[3] / 100.0, "{err:?}");
        // 1 bit: the two ends of the range; 0.3 is 1.3 from −1 and 1.7 from 2.
        let mut q = vec![-1.0, -0.2, 0.3, 0.6, 2.0];
        quantize_tensor(&mut q, &[5], 1, QuantMode::PerTensor);
        assert_eq!(q, vec![-1.0, -1.0, -1.0, 2.0, 2.0]);
        let mut s = vec![-0.5, 0.1, 0.2, 1.0];
        quantize_tensor(&mut s, &[4], 1, QuantMode::Symmetric);
        assert_eq!(s, vec![-1.0, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn per_channel_levels_per_channel() {
        let mut w = ramp(3 * 500);
        quantize_tensor(&mut w, &[3, 500], 2, QuantMode::PerChannel);
        for ch in w.chunks(500) {
            assert!(distinct(ch) <= 4);
        }
    }
}
