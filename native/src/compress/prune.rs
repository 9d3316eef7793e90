//! Global unstructured L1-magnitude pruning (Han et al. 2015), without fine-tuning.

use super::{unit_interval, zeroed_share, CompressionMethod, LayerSearch, Make, MethodSettings};
use crate::model::WeightTensor;
use anyhow::Result;
use reps::search::Direction;

/// `prune`: zero the smallest-magnitude share of all weights (the paper's ratios).
pub const METHOD: CompressionMethod = CompressionMethod {
    name: "prune",
    parameter: "ratio",
    about: "zero the given share of all weights, those of smallest magnitude, under one global threshold",
    grid: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9],
    check: unit_interval,
    make: Make::Weights(apply),
    search: Some(LayerSearch {
        ladder: &[
            0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8,
            0.85, 0.9, 0.95,
        ],
        budget: "sparsity",
        direction: Direction::Increases,
        amount: |dims, ratio| zeroed_share(dims.iter().product(), ratio),
        global: Some(|w| zero_count(&w.values) as f64 / w.values.len().max(1) as f64),
    }),
};

fn apply(weights: &mut [WeightTensor], ratio: f64, _: &MethodSettings) -> Result<()> {
    let mut tensors: Vec<Vec<f32>> = weights
        .iter_mut()
        .map(|w| std::mem::take(&mut w.values))
        .collect();
    prune_global(&mut tensors, ratio);
    for (w, t) in weights.iter_mut().zip(tensors) {
        w.values = t;
    }
    Ok(())
}

/// How many of `values` are zero.
pub fn zero_count(values: &[f32]) -> usize {
    values.iter().filter(|&&v| v == 0.0).count()
}

/// Zeroes exactly `round(ratio · total)` of all the given weights: those of smallest magnitude,
/// under one global threshold `t` across every tensor (weights with `|w| < t` are zeroed, then
/// weights with `|w| = t` in tensor and index order until the count is reached).
/// Returns the threshold. `ratio` must be in [0, 1].
pub fn prune_global(tensors: &mut [Vec<f32>], ratio: f64) -> f32 {
    let total: usize = tensors.iter().map(Vec::len).sum();
    let k = ((ratio.clamp(0.0, 1.0) * total as f64).round() as usize).min(total);
    if k == 0 {
        return 0.0;
    }
    let mut mags: Vec<f32> = tensors.iter().flatten().map(|w| w.abs()).collect();
    let (_, &mut t, _) = mags.select_nth_unstable_by(k - 1, f32::total_cmp);
    let below: usize = tensors.iter().flatten().filter(|w| w.abs() < t).count();
    let mut ties_to_zero = k - below;
    for tensor in tensors.iter_mut() {
        for w in tensor.iter_mut() {
            let a = w.abs();
            if a < t {
                *w = 0.0;
            } else if a == t && ties_to_zero > 0 {
                *w = 0.0;
                ties_to_zero -= 1;
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the search's `global` strategy relies on: each tensor pruned alone at the share
    /// of its weights the global threshold zeroed gives the same tensor, ties included.
    #[test]
    fn the_global_threshold_is_reproduced_layer_by_layer() {
        let original = vec![
            vec![0.5, -0.1, 0.3, 0.2, 0.2],
            vec![-0.2, 0.4, 0.05, -0.6, 0.2, 0.0],
        ];
        let mut global = original.clone();
        prune_global(&mut global, 6.0 / 11.0);
        for (alone, expected) in original.iter().zip(&global) {
            let share = zero_count(expected) as f64 / expected.len() as f64;
            let mut one = [alone.clone()];
            prune_global(&mut one, share);
            assert_eq!(&one[0], expected);
        }
        // The threshold 0.2 is tied four times; two of the ties fall in the first tensor.
        assert_eq!(global[0], vec![0.5, 0.0, 0.3, 0.0, 0.0]);
    }

    #[test]
    fn exact_sparsity_with_one_global_threshold() {
        let mut t = vec![vec![0.5, -0.1, 0.3], vec![-0.2, 0.4, 0.05, -0.6]];
        let thr = prune_global(&mut t, 3.0 / 7.0);
        assert_eq!(thr, 0.2);
        assert_eq!(t, vec![vec![0.5, 0.0, 0.3], vec![0.0, 0.4, 0.0, -0.6]]);
        // Ties at the threshold are cut in order until the exact count is reached.
        let mut t = vec![vec![1.0, 1.0, 1.0, 2.0]];
        prune_global(&mut t, 0.5);
        assert_eq!(t, vec![vec![0.0, 0.0, 1.0, 2.0]]);
        let mut t = vec![vec![1.0, 2.0]];
        prune_global(&mut t, 0.0);
        assert_eq!(t, vec![vec![1.0, 2.0]]);
    }
}
