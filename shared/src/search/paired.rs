//! Two models compared on the same test images: the paired bootstrap interval of their accuracy
//! difference, and the verdict of a claim that one keeps more accuracy than the other.

use crate::analysis::Verdict;
use crate::error::{RepsError, Result};
use crate::stats::{percentile_interval, Resampler};
use serde::{Deserialize, Serialize};

/// The accuracy difference of two models on the same images and its interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairedDifference {
    /// `acc_a − acc_b` on all the images.
    pub difference: f64,
    /// The percentile bootstrap interval of the difference at the given level: each resample
    /// draws N image indices with replacement and takes the same images for both models.
    pub interval: Option<[f64; 2]>,
}

/// [`PairedDifference`] of the per-image correctness `a` and `b` (the same N images, N ≥ 1) over
/// `resamples` resamples of `seed` at `level` (e.g. 0.95).
pub fn paired_accuracy_difference(
    a: &[bool],
    b: &[bool],
    resamples: usize,
    level: f64,
    seed: u64,
) -> Result<PairedDifference> {
    if a.len() != b.len() || a.is_empty() {
        return Err(RepsError::Invalid(format!(
            "a paired comparison needs the same images for both models: {} and {} given",
            a.len(),
            b.len()
        )));
    }
    // Per image: +1 when only a is right, −1 when only b is, 0 otherwise.
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(u8::from(x)) - f64::from(u8::from(y)))
        .collect();
    let n = d.len();
    let mean = |idx: &mut dyn Iterator<Item = usize>| idx.map(|i| d[i]).sum::<f64>() / n as f64;
    let mut rng = Resampler::new(seed, 0);
    let mut indices = Vec::with_capacity(n);
    let values: Vec<f64> = (0..resamples)
        .map(|_| {
            rng.bootstrap_indices(n, &mut indices);
            mean(&mut indices.iter().copied())
        })
        .collect();
    Ok(PairedDifference {
        difference: mean(&mut (0..n)),
        interval: percentile_interval(&values, level),
    })
}

/// The verdict of "a keeps more accuracy than b" from the interval of `acc_a − acc_b`: holds when
/// it lies above 0, fails when it lies below 0, undecided otherwise (or without an interval).
pub fn more_accurate(interval: Option<[f64; 2]>) -> Verdict {
    match interval {
        Some([lo, _]) if lo > 0.0 => Verdict::Holds,
        Some([_, hi]) if hi < 0.0 => Verdict::Fails,
        _ => Verdict::Undecided,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_difference_and_its_interval() {
        // a right on 60 of 100 images, b on the first 50 of those: a − b = 0.1 exactly, and
        // every resample's difference is a share of images where only a is right (≥ 0).
        let a: Vec<bool> = (0..100).map(|i| i < 60).collect();
        let b: Vec<bool> = (0..100).map(|i| i < 50).collect();
        let p = paired_accuracy_difference(&a, &b, 2000, 0.95, 1).unwrap();
        assert_eq!(p.difference, 0.1);
        let [lo, hi] = p.interval.unwrap();
        // Binomial(100, 0.1)/100 has standard deviation 0.03: the interval is about ±0.06.
        assert!(
            lo > 0.03 && lo < 0.07 && hi > 0.14 && hi < 0.17,
            "{lo} {hi}"
        );
        assert_eq!(more_accurate(p.interval), Verdict::Holds);
        let q = paired_accuracy_difference(&b, &a, 2000, 0.95, 1).unwrap();
        assert_eq!(more_accurate(q.interval), Verdict::Fails);
        // The same model twice: a zero-width interval at 0 decides nothing.
        let r = paired_accuracy_difference(&a, &a, 100, 0.95, 1).unwrap();
        assert_eq!(r.interval, Some([0.0, 0.0]));
        assert_eq!(more_accurate(r.interval), Verdict::Undecided);
        assert!(paired_accuracy_difference(&a, &b[..3], 10, 0.95, 1).is_err());
    }
}
