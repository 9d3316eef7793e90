//! 50-bin weight histograms on a range shared by several models (paper Figure 1).
//!
//! A sweep does not keep every model's weights until the end: each model's weights are counted
//! once, when it is made, into a fine histogram on its own range ([`FINE_BINS`] bins), and the
//! histograms of the snapshot are made from those with [`rebin`] onto the range shared by all.

use crate::error::{RepsError, Result};
use serde::{Deserialize, Serialize};

/// Number of bins the paper uses.
pub const HISTOGRAM_BINS: usize = 50;

/// Number of bins of a model's own histogram, kept until the shared range is known.
pub const FINE_BINS: usize = 1000;

/// Counts of values in equal-width bins over `[low, high]`; the last bin includes `high`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightHistogram {
    pub low: f32,
    pub high: f32,
    pub counts: Vec<u64>,
}

/// The `[min, max]` range of all finite values of all the given weight vectors; `(0, 0)` when
/// there are none. A degenerate range (min = max) is widened to `[min − 0.5, max + 0.5]`.
pub fn shared_range<'a>(models: impl IntoIterator<Item = &'a [f32]>) -> (f32, f32) {
    let mut lo = f32::INFINITY;
    let mut hi = f32::NEG_INFINITY;
    for w in models {
        for &x in w.iter().filter(|x| x.is_finite()) {
            lo = lo.min(x);
            hi = hi.max(x);
        }
    }
    if lo > hi {
        return (-0.5, 0.5);
    }
    if lo == hi {
        return (lo - 0.5, hi + 0.5);
    }
    (lo, hi)
}

/// Histogram of `weights` in `bins` equal bins over `[low, high]` (use [`shared_range`] so that
/// the histograms of several models are comparable). Values outside the range or non-finite are
/// an error, since a shared range must cover every model.
pub fn weight_histogram(
    weights: &[f32],
    low: f32,
    high: f32,
    bins: usize,
) -> Result<WeightHistogram> {
    if !(low.is_finite() && high.is_finite() && high > low) || bins == 0 {
        return Err(RepsError::Invalid(format!(
            "histogram range [{low}, {high}] with {bins} bins is not usable"
        )));
    }
    let mut counts = vec![0u64; bins];
    let width = (high as f64 - low as f64) / bins as f64;
    for (i, &x) in weights.iter().enumerate() {
        if !x.is_finite() || x < low || x > high {
            return Err(RepsError::Invalid(format!(
                "weight {i} = {x} lies outside the histogram range [{low}, {high}]"
            )));
        }
        let b = (((x as f64 - low as f64) / width) as usize).min(bins - 1);
        counts[b] += 1;
    }
    Ok(WeightHistogram { low, high, counts })
}

/// The range shared by several histograms: the smallest `low` to the largest `high`.
/// `(−0.5, 0.5)` without histograms.
pub fn shared_histogram_range<'a>(
    histograms: impl IntoIterator<Item = &'a WeightHistogram>,
) -> (f32, f32) {
    histograms
        .into_iter()
        .map(|h| (h.low, h.high))
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
        .unwrap_or((-0.5, 0.5))
}

/// `fine` counted again into `bins` equal bins over `[low, high]`, a range that covers
/// `[fine.low, fine.high]`: each fine bin's count goes to the bin that holds its centre. The total
/// count is kept; a value can move by at most one fine bin's width, so with [`FINE_BINS`] fine
/// bins on a model's own range and the paper's 50 shared bins a fine bin straddling a shared bin's
/// edge is the only error. A range that does not cover `fine` is an error.
pub fn rebin(fine: &WeightHistogram, low: f32, high: f32, bins: usize) -> Result<WeightHistogram> {
    let usable = low.is_finite() && high.is_finite() && high > low && bins > 0;
    if !usable || fine.low < low || fine.high > high || fine.counts.is_empty() {
        return Err(RepsError::Invalid(format!(
            "cannot rebin a histogram over [{}, {}] onto [{low}, {high}] with {bins} bins",
            fine.low, fine.high
        )));
    }
    let mut counts = vec![0u64; bins];
    let fine_width = (fine.high as f64 - fine.low as f64) / fine.counts.len() as f64;
    let width = (high as f64 - low as f64) / bins as f64;
    for (i, &c) in fine.counts.iter().enumerate() {
        let centre = fine.low as f64 + (i as f64 + 0.5) * fine_width;
        let b = (((centre - low as f64) / width).max(0.0) as usize).min(bins - 1);
        counts[b] += c;
    }
    Ok(WeightHistogram { low, high, counts })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rebinning a fine histogram gives the direct histogram on the shared range except for
    /// values within one fine bin of a shared bin's edge.
    #[test]
    fn rebinning_matches_the_direct_histogram_away_from_edges() {
        // Values at the centres of 0.01-wide cells in [0, 1]: never near a shared edge (0.1 wide)
        // once counted into 1000 fine bins of width 0.001 on [0, 1].
        let weights: Vec<f32> = (0..100)
            .flat_map(|i| std::iter::repeat_n((i as f32 + 0.5) / 100.0, i % 7 + 1))
            .chain([0.0, 1.0])
            .collect();
        let (lo, hi) = shared_range([&weights[..]]);
        assert_eq!((lo, hi), (0.0, 1.0));
        let fine = weight_histogram(&weights, lo, hi, FINE_BINS).unwrap();
        let direct = weight_histogram(&weights, -1.0, 1.0, 20).unwrap();
        let rebinned = rebin(&fine, -1.0, 1.0, 20).unwrap();
        assert_eq!(rebinned, direct);
        assert_eq!(rebinned.counts.iter().sum::<u64>(), weights.len() as u64);
        // A range that does not cover the fine histogram is refused.
        assert!(rebin(&fine, 0.5, 1.0, 20).is_err());
        assert_eq!(shared_histogram_range([&fine, &direct]), (-1.0, 1.0));
    }
}
