//! What the inference and the claims share: the confidence level, the stable-regime test, and
//! the bootstrap distributions the claims read their intervals from.

use crate::stats::{percentile_interval, Statistic};

/// The confidence level of every interval.
pub const LEVEL: f64 = 0.95;

/// Whether an accuracy drop is within `max_drop`, allowing 1e-9 for the rounding of accuracy
/// differences (0.90 − 0.85 is 0.05000000000000004 in floating point).
pub fn is_stable(drop: f64, max_drop: f64) -> bool {
    drop <= max_drop + crate::tolerances::DROP_ROUNDING
}

/// Bootstrap distributions of the three correlations of each series against accuracy drop, and
/// their names: what the claims read intervals of differences from.
pub(crate) struct Distributions {
    pub keys: Vec<String>,
    /// `values[s][statistic][b]`: NaN where resample b leaves the statistic undefined.
    pub values: Vec<[Vec<f64>; 3]>,
}

impl Distributions {
    pub(crate) fn of(&self, key: &str) -> Option<&[Vec<f64>; 3]> {
        self.keys
            .iter()
            .position(|k| k == key)
            .map(|i| &self.values[i])
    }

    /// The interval of `|statistic|` of `key` over the resamples.
    pub fn abs_interval(&self, key: &str, statistic: Statistic) -> Option<[f64; 2]> {
        let abs: Vec<f64> = self.of(key)?[statistic as usize]
            .iter()
            .map(|x| x.abs())
            .collect();
        percentile_interval(&abs, LEVEL)
    }

    /// The interval of `|stat_a| − |stat_b|` over the paired resamples.
    pub fn diff_interval(&self, a: &str, b: &str, statistic: Statistic) -> Option<[f64; 2]> {
        let (da, db) = (self.of(a)?, self.of(b)?);
        let s = statistic as usize;
        let diffs: Vec<f64> = da[s]
            .iter()
            .zip(&db[s])
            .map(|(x, y)| x.abs() - y.abs())
            .collect();
        percentile_interval(&diffs, LEVEL)
    }
}

/// The key of a Table 3 row among the resampled series (apart from the score keys).
pub(crate) fn sensitivity_key(row: &str) -> String {
    format!("table3:{row}")
}
