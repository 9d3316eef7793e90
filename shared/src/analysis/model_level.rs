//! Table 2 and Table 3 over the compressed models (every model but the reference): the
//! correlations of each score with accuracy drop, the weight sensitivity with the best weights,
//! and the same again with the user's REPS weights.

use super::named_map::NamedMap;
use super::scores::{scores_present, Score};
use super::sensitivity::{best_weights, sensitivity_row, sensitivity_table, USER_ROW};
use super::types::{BestWeights, ModelReport, Report, SensitivityRow};
use crate::metrics::{PerComponent, RepsWeights};
use crate::stats::{correlate, Correlations};

impl Report {
    /// The same report with the user's REPS weights `w` (or with none): each model's `reps_user`
    /// (the mean over the report's layers of `REPS^l` with `w`), its Table 2 entry and its
    /// Table 3 row ([`USER_ROW`]). Everything else is kept as it is; in particular the
    /// best-weights search, which does not depend on `w`, is not run again, so that a weight
    /// slider can move without recomputing the report.
    pub fn with_user_weights(&self, w: Option<RepsWeights>) -> Report {
        let mut r = self.clone();
        r.user_weights = w.map(|w| w.0);
        for m in &mut r.models {
            m.reps_user = w.and_then(|w| {
                let v: Option<Vec<f64>> = m.layers.iter().map(|(_, c)| c.reps(&w)).collect();
                v.map(|v| v.iter().sum::<f64>() / v.len() as f64)
            });
        }
        let compressed: Vec<&ModelReport> =
            r.models.iter().filter(|m| m.name != r.reference).collect();
        let drops: Option<Vec<f64>> = compressed.iter().map(|m| m.accuracy_drop).collect();
        r.correlations = NamedMap(
            scores_present(w.is_some())
                .map(|s| {
                    let kept = self
                        .correlations
                        .get(s.key)
                        .filter(|_| !s.needs_user_weights);
                    let c = match kept {
                        Some(c) => c.clone(),
                        None => correlation(s, &compressed, drops.as_deref()),
                    };
                    (s.key.to_string(), c)
                })
                .collect(),
        );
        r.sensitivity.retain(|row| row.name != USER_ROW);
        if let Some(w) = w {
            let components: Vec<_> = compressed.iter().map(|m| m.components()).collect();
            r.sensitivity.push(match &drops {
                Some(d) => sensitivity_row(USER_ROW, &w, &components, d),
                None => unknown_accuracy(sensitivity_row(USER_ROW, &w, &components, &[])),
            });
        }
        r
    }
}

/// Why a statistic against accuracy drop is missing when some accuracy is.
pub(crate) const NO_ACCURACY: &str = "accuracy is not known for every model";

/// A Table 3 row without a PLCC because accuracies are missing.
fn unknown_accuracy(mut row: SensitivityRow) -> SensitivityRow {
    row.plcc = None;
    row.reason = Some(NO_ACCURACY.into());
    row
}

/// The values of `score` for `models`, when every one has it.
pub(crate) fn score_values(score: &Score, models: &[&ModelReport]) -> Option<Vec<f64>> {
    models.iter().map(|r| (score.of_model)(r)).collect()
}

/// Table 2's entry of `score` over the `compressed` models.
pub(crate) fn correlation(
    score: &Score,
    compressed: &[&ModelReport],
    drops: Option<&[f64]>,
) -> Correlations {
    let Some(d) = drops else {
        return Correlations::undefined(NO_ACCURACY);
    };
    match score_values(score, compressed) {
        None => Correlations::undefined("not available for every model"),
        Some(s) => correlate(&s, d),
    }
}

/// Table 2 (every score against accuracy drop) and Table 3 over the compressed models (all but
/// the reference), without the user's weights.
pub(crate) fn model_level_statistics(
    reports: &[ModelReport],
    ref_index: usize,
) -> (
    NamedMap<Correlations>,
    Vec<SensitivityRow>,
    Option<BestWeights>,
) {
    let compressed: Vec<&ModelReport> = reports
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != ref_index)
        .map(|(_, r)| r)
        .collect();
    let drops: Option<Vec<f64>> = compressed.iter().map(|r| r.accuracy_drop).collect();
    let correlations = NamedMap(
        scores_present(false)
            .map(|s| {
                (
                    s.key.to_string(),
                    correlation(s, &compressed, drops.as_deref()),
                )
            })
            .collect(),
    );
    let components: Vec<PerComponent<Option<f64>>> =
        compressed.iter().map(|r| r.components()).collect();
    let best = drops.as_ref().and_then(|d| best_weights(&components, d));
    (correlations, table3(&components, drops.as_deref()), best)
}

/// Table 3 (without the user's weights) over models with these mean components and drops; every
/// row without a PLCC when the drops are not known.
pub(crate) fn table3(
    components: &[PerComponent<Option<f64>>],
    drops: Option<&[f64]>,
) -> Vec<SensitivityRow> {
    match drops {
        Some(d) => sensitivity_table(components, d, None),
        None => sensitivity_table(components, &[], None)
            .into_iter()
            .map(unknown_accuracy)
            .collect(),
    }
}
