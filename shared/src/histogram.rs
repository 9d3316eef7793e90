//! 50-bin weight histograms on a range shared by several models (paper Figure 1).

use crate::error::{RepsError, Result};
use serde::{Deserialize, Serialize};

/// Number of bins the paper uses.
pub const HISTOGRAM_BINS: usize = 50;

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
