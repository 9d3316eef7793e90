//! Structured pruning: whole output channels of convolutions and rows of linear layers (Li et al.
//! 2017's L1-norm filter pruning), under one global threshold, without fine-tuning.

use super::{unit_interval, zeroed_share, CompressionMethod, LayerSearch, Make, MethodSettings};
use crate::model::WeightTensor;
use anyhow::Result;
use reps::search::Direction;

/// `channel-prune`: zero the given share of all output channels, those of smallest mean |w|.
pub const METHOD: CompressionMethod = CompressionMethod {
    name: "channel-prune",
    parameter: "ratio",
    about: "zero the given share of all output channels (conv filters, linear rows), those of smallest mean |w|, under one global threshold",
    grid: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9],
    check: unit_interval,
    make: Make::Weights(apply),
    search: Some(LayerSearch {
        ladder: &[
            0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8,
            0.85, 0.9,
        ],
        budget: "sparsity",
        direction: Direction::Increases,
        amount: |dims, ratio| zeroed_share(dims.first().copied().unwrap_or(0), ratio),
        global: Some(zero_channel_share),
    }),
};

fn apply(weights: &mut [WeightTensor], ratio: f64, _: &MethodSettings) -> Result<()> {
    prune_channels(weights, ratio);
    Ok(())
}

/// The share of `w`'s output channels (rows along its first axis) that are all zero.
pub fn zero_channel_share(w: &WeightTensor) -> f64 {
    let rows = w.dims.first().copied().unwrap_or(0);
    if rows == 0 {
        return 0.0;
    }
    let per = w.values.len() / rows;
    let zero = w
        .values
        .chunks(per.max(1))
        .filter(|c| c.iter().all(|&v| v == 0.0))
        .count();
    zero as f64 / rows as f64
}

/// Zeroes exactly `round(ratio · C)` of the `C` output channels of all `weights` (the first axis:
/// a convolution's filters, a linear layer's rows, every weight tensor's, the classifier's
/// included). A channel's score is its L1 norm over its size, `mean |w|`, so that layers of
/// different fan-in compete on one scale; channels with a score below one global threshold `t`
/// are zeroed, then channels scoring exactly `t` in tensor and channel order until the count is
/// reached. Returns the threshold (0 when nothing is pruned).
pub fn prune_channels(weights: &mut [WeightTensor], ratio: f64) -> f32 {
    let rows = |w: &WeightTensor| w.dims.first().copied().unwrap_or(0);
    let scores: Vec<Vec<f32>> = weights
        .iter()
        .map(|w| {
            let per = w.values.len() / rows(w).max(1);
            w.values
                .chunks(per.max(1))
                .map(|c| (c.iter().map(|x| x.abs() as f64).sum::<f64>() / per.max(1) as f64) as f32)
                .collect()
        })
        .collect();
    let total: usize = scores.iter().map(Vec::len).sum();
    let k = ((ratio.clamp(0.0, 1.0) * total as f64).round() as usize).min(total);
    if k == 0 {
        return 0.0;
    }
    let mut all: Vec<f32> = scores.iter().flatten().copied().collect();
    let (_, &mut t, _) = all.select_nth_unstable_by(k - 1, f32::total_cmp);
    let below = scores.iter().flatten().filter(|s| **s < t).count();
    let mut ties = k - below;
    for (w, s) in weights.iter_mut().zip(&scores) {
        let per = w.values.len() / rows(w).max(1);
        for (channel, &score) in w.values.chunks_mut(per.max(1)).zip(s) {
            let cut = score < t || (score == t && ties > 0);
            if score == t && cut {
                ties -= 1;
            }
            if cut {
                channel.fill(0.0);
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(name: &str, dims: &[usize], values: Vec<f32>) -> WeightTensor {
        WeightTensor {
            name: name.into(),
            dims: dims.to_vec(),
            values,
        }
    }

    fn zero_rows(w: &WeightTensor) -> Vec<bool> {
        let per = w.values.len() / w.dims[0];
        w.values
            .chunks(per)
            .map(|c| c.iter().all(|x| *x == 0.0))
            .collect()
    }

    #[test]
    fn exact_share_of_channels_under_one_global_threshold() {
        // A 3 × 2 linear weight (row means 0.15, 2, 0.5) and a 2 × 1 × 2 × 2 conv (filter
        // means 0.25, 1): five channels; 40 % is two, the two of smallest mean |w|: row 0 and
        // filter 0 (0.15 and 0.25), and the threshold is the second smallest score.
        let mut w = vec![
            tensor("a", &[3, 2], vec![0.1, -0.2, 2.0, -2.0, 0.5, 0.5]),
            tensor(
                "b",
                &[2, 1, 2, 2],
                vec![0.25, -0.25, 0.25, 0.25, 1.0, -1.0, 1.0, 1.0],
            ),
        ];
        let t = prune_channels(&mut w, 0.4);
        assert_eq!(t, 0.25);
        assert_eq!(zero_rows(&w[0]), vec![true, false, false]);
        assert_eq!(zero_rows(&w[1]), vec![true, false]);
        // Untouched channels keep their values.
        assert_eq!(&w[0].values[2..], &[2.0, -2.0, 0.5, 0.5]);
        assert_eq!(&w[1].values[4..], &[1.0, -1.0, 1.0, 1.0]);
    }

    #[test]
    fn ties_are_cut_in_tensor_and_channel_order() {
        // Four rows of equal score; half of them: the first two.
        let mut w = vec![
            tensor("a", &[2, 1], vec![1.0, -1.0]),
            tensor("b", &[2, 1], vec![1.0, 1.0]),
        ];
        prune_channels(&mut w, 0.5);
        assert_eq!(zero_rows(&w[0]), vec![true, true]);
        assert_eq!(zero_rows(&w[1]), vec![false, false]);
        let mut w = vec![tensor("a", &[2, 1], vec![1.0, 2.0])];
        assert_eq!(prune_channels(&mut w, 0.0), 0.0);
        assert_eq!(w[0].values, vec![1.0, 2.0]);
        prune_channels(&mut w, 1.0);
        assert_eq!(w[0].values, vec![0.0, 0.0]);
    }
}
