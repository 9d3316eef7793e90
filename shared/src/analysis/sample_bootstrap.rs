//! Per-model uncertainty: how much would a model's REPS move with another draw of the analysed
//! samples?

use super::distributions::LEVEL;
use super::inference::Stream;
use super::input::{AnalysisInput, AnalysisOptions};
use super::report::compare_models;
use super::types::Report;
use crate::error::{RepsError, Result};
use crate::metrics::WEIGHTED;
use crate::stats::{percentile_interval, Resampler};

/// Fills each model's `reps_ci`: the [`LEVEL`] percentile bootstrap interval of its weighted REPS
/// over `resamples` resamples of the N analysed samples. Each resample draws N row indices with
/// replacement (stream `Samples` of `seed`) and takes the same rows of every model and of the
/// labels, then reruns the comparison on the report's layers with its reference and `top_m`
/// (pseudo-labels, when used, are the reference's predictions on the resampled rows).
///
/// `input` must be the input `report` was computed from. `progress(done, total)` is called after
/// each resample. The cost is `resamples` analyses; the reference's interval is `[1, 1]`.
pub fn sample_bootstrap(
    input: &AnalysisInput,
    report: &mut Report,
    resamples: usize,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<()> {
    sample_bootstrap_at(input, report, resamples, seed, LEVEL, progress)
}

/// [`sample_bootstrap`] at another `level` (in (0, 1)) than [`LEVEL`].
pub fn sample_bootstrap_at(
    input: &AnalysisInput,
    report: &mut Report,
    resamples: usize,
    seed: u64,
    level: f64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<()> {
    if !(level > 0.0 && level < 1.0) {
        return Err(RepsError::Option {
            option: "level",
            reason: format!("the interval's level must be in (0, 1), not {level}"),
        });
    }
    if resamples == 0 {
        return Err(RepsError::Option {
            option: "sample_bootstrap",
            reason: "the number of resamples must be at least 1".into(),
        });
    }
    let n = input
        .models
        .first()
        .and_then(|m| m.layers.first())
        .map_or(0, |(_, a)| a.rows());
    let options = AnalysisOptions {
        reference: Some(report.reference.clone()),
        layers: Some(report.layers.clone()),
        top_m: report.top_m as usize,
        user_weights: None,
    };
    let mut rng = Resampler::new(seed, Stream::Samples as u64);
    let mut rows = Vec::with_capacity(n);
    let mut values: Vec<Vec<f64>> = vec![Vec::with_capacity(resamples); report.models.len()];
    for b in 0..resamples {
        rng.bootstrap_indices(n, &mut rows);
        let resampled = input.select_rows(&rows);
        // Only the weighted REPS of each model: no Table 2 or 3 (or best-weights search) per
        // resample. The same mean over layers as the report's `reps_weighted`.
        let again = compare_models(&resampled, &options, &mut |_| {})?;
        for (v, m) in values.iter_mut().zip(&report.models) {
            let reps = again
                .models
                .iter()
                .find(|x| x.name == m.name)
                .and_then(|x| x.mean_over(&report.layers, &|c| c.reps(&WEIGHTED)));
            v.push(reps.unwrap_or(f64::NAN));
        }
        progress(b + 1, resamples);
    }
    for (m, v) in report.models.iter_mut().zip(&values) {
        m.reps_ci = m.reps_weighted.and_then(|_| percentile_interval(v, level));
    }
    Ok(())
}
