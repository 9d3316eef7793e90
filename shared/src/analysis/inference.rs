//! Inference on Table 2: bootstrap intervals and permutation p-values of every score's
//! correlations with accuracy drop, paired comparisons of REPS with every other score, Table 2
//! again in the stable regime, and intervals for Table 3's rows. The claims of the paper are then
//! checked against these ([`super::claims`]).
//!
//! Resampling is over models (the compressed ones, not the reference): a bootstrap resample draws
//! the models with replacement, keeping each model's scores and accuracy drop together; a
//! permutation shuffles the accuracy drops against the scores. Every score is resampled with the
//! same index sets, so intervals of differences are paired.

use super::claims::claims;
use super::distributions::{is_stable, sensitivity_key, Distributions, LEVEL};
use super::model_level::{correlation, score_values, NO_ACCURACY};
use super::named_map::NamedMap;
use super::scores::{scores_present, Score};
use super::types::{InferenceOptions, ModelReport, Report, ScoreComparison, StableCorrelations};
use crate::error::{RepsError, Result};
use crate::metrics::{PerComponent, RepsWeights};
use crate::stats::{
    bootstrap_correlations, pearson, percentile_interval, permutation_p_values, steiger_z,
    Clusters, Correlations, Resampler, Statistic,
};

/// The most bootstrap resamples or permutations one inference draws (each is kept in memory).
pub const MAX_RESAMPLES: usize = 1_000_000;

/// The fewest models a stable-regime table is computed on.
pub const MIN_STABLE_MODELS: usize = 4;

/// The independent random streams of one seed, one per use.
#[derive(Clone, Copy)]
pub(crate) enum Stream {
    Bootstrap = 0,
    Permutation = 1,
    StableBootstrap = 2,
    StablePermutation = 3,
    Samples = 4,
}

/// The scores REPS is compared with every other score for ([`ScoreComparison`]).
pub const COMPARED: [&str; 2] = ["reps_weighted", "reps_equal"];

/// Table 2 over `models` (each with its drop, grouped by `clusters`) with intervals and
/// p-values, and the bootstrap distributions behind them. `streams` are the bootstrap's and the
/// permutations'.
fn table2(
    scores: &[&'static Score],
    models: &[&ModelReport],
    drops: &[f64],
    clusters: &Clusters,
    extra: &[(String, Vec<f64>)],
    options: &InferenceOptions,
    streams: (Stream, Stream),
) -> (NamedMap<Correlations>, Distributions) {
    let mut keys = Vec::new();
    let mut series = Vec::new();
    let mut table = NamedMap::default();
    for s in scores {
        table.push(s.key.to_string(), correlation(s, models, Some(drops)));
        if let Some(v) = score_values(s, models) {
            keys.push(s.key.to_string());
            series.push(v);
        }
    }
    let table2_series = series.len();
    for (k, v) in extra {
        keys.push(k.clone());
        series.push(v.clone());
    }
    let values = bootstrap_correlations(
        &series,
        drops,
        clusters,
        options.bootstrap,
        &mut Resampler::new(options.seed, streams.0 as u64),
    );
    let p_values = permutation_p_values(
        &series[..table2_series],
        drops,
        clusters,
        options.permutations,
        &mut Resampler::new(options.seed, streams.1 as u64),
    );
    for ((key, dist), p) in keys.iter().zip(&values).zip(&p_values) {
        let c = table.get_mut(key).expect("a Table 2 series");
        c.fill_inference(dist, p, LEVEL);
    }
    (table, Distributions { keys, values })
}

impl Report {
    /// The report with its inference filled in (the statistics of [`InferenceOptions`]):
    ///
    /// - every Table 2 entry gets percentile bootstrap intervals ([`LEVEL`]) over models and
    ///   two-sided permutation p-values ([`crate::stats::permutation_p_value`]) for PLCC, SRCC
    ///   and KRCC;
    /// - each Table 3 row gets the bootstrap interval of its PLCC;
    /// - `comparisons` holds, for each REPS variant of [`COMPARED`] against every other score, the
    ///   paired bootstrap interval of `|PLCC_a| − |PLCC_b|` and Steiger's test;
    /// - `correlations_stable` is Table 2 over the models whose drop is at most
    ///   `stable_drop`, when at least [`MIN_STABLE_MODELS`] qualify;
    /// - `claims` checks the paper's claims against all of it.
    ///
    /// Without accuracy for every model there is nothing to correlate: the correlations keep
    /// their reasons and every claim is `undecided`.
    pub fn with_inference(&self, options: &InferenceOptions) -> Result<Report> {
        let compressed = self
            .models
            .iter()
            .filter(|m| m.name != self.reference)
            .count();
        self.with_clustered_inference(options, &Clusters::one(compressed))
    }

    /// [`Report::with_inference`] with the models other than the reference grouped into
    /// `clusters` (in report order; the models of one seed's sweep): bootstrap resamples draw
    /// clusters, then models within each drawn cluster, and permutations shuffle the accuracy
    /// drops within each cluster ([`Clusters`]). Steiger's test still counts every model as
    /// independent; the paired bootstrap interval beside it does not.
    pub(crate) fn with_clustered_inference(
        &self,
        options: &InferenceOptions,
        clusters: &Clusters,
    ) -> Result<Report> {
        if !(options.stable_drop.is_finite() && options.stable_drop >= 0.0) {
            return Err(RepsError::Option {
                option: "stable_drop",
                reason: format!(
                    "must be a finite accuracy drop of at least 0, got {}",
                    options.stable_drop
                ),
            });
        }
        for (option, n) in [
            ("bootstrap", options.bootstrap),
            ("permutations", options.permutations),
        ] {
            if n > MAX_RESAMPLES {
                return Err(RepsError::Option {
                    option,
                    reason: format!(
                        "{n} is more than the {MAX_RESAMPLES} resamples one analysis draws"
                    ),
                });
            }
        }
        let mut r = self.clone();
        r.inference = Some(options.clone());
        let compressed: Vec<&ModelReport> = self
            .models
            .iter()
            .filter(|m| m.name != self.reference)
            .collect();
        if clusters.observations() != compressed.len() {
            return Err(RepsError::Invalid(format!(
                "the clusters hold {} models, the report {}",
                clusters.observations(),
                compressed.len()
            )));
        }
        let scores: Vec<&'static Score> = scores_present(self.user_weights.is_some()).collect();
        let Some(drops) = compressed
            .iter()
            .map(|m| m.accuracy_drop)
            .collect::<Option<Vec<f64>>>()
        else {
            r.correlations_stable = Some(StableCorrelations {
                max_drop: options.stable_drop,
                models: Vec::new(),
                reason: Some(NO_ACCURACY.into()),
                correlations: NamedMap::default(),
            });
            r.comparisons = NamedMap::default();
            r.claims = claims(&r, None, options);
            return Ok(r);
        };

        // Table 2 and the Table 3 rows' REPS series, resampled together.
        let components: Vec<PerComponent<Option<f64>>> =
            compressed.iter().map(|m| m.components()).collect();
        let rows: Vec<(String, Vec<f64>)> = self
            .sensitivity
            .iter()
            .filter_map(|row| {
                let w = RepsWeights(row.weights);
                let v: Option<Vec<f64>> = components.iter().map(|c| w.combine(*c)).collect();
                Some((sensitivity_key(&row.name), v?))
            })
            .collect();
        let (table, dist) = table2(
            &scores,
            &compressed,
            &drops,
            clusters,
            &rows,
            options,
            (Stream::Bootstrap, Stream::Permutation),
        );
        r.correlations = table;
        for row in &mut r.sensitivity {
            row.plcc_ci = row
                .plcc
                .and_then(|_| dist.of(&sensitivity_key(&row.name)))
                .and_then(|d| percentile_interval(&d[Statistic::Plcc as usize], LEVEL));
        }
        r.comparisons = comparisons(&r, &compressed, &drops, &scores, &dist);

        // The stable regime.
        let stable: Vec<usize> = (0..drops.len())
            .filter(|&i| is_stable(drops[i], options.stable_drop))
            .collect();
        let models: Vec<&ModelReport> = stable.iter().map(|&i| compressed[i]).collect();
        let names = models.iter().map(|m| m.name.clone()).collect();
        r.correlations_stable = Some(if models.len() < MIN_STABLE_MODELS {
            StableCorrelations {
                max_drop: options.stable_drop,
                models: names,
                reason: Some(format!(
                    "{} model(s) have an accuracy drop of at most {}; at least {MIN_STABLE_MODELS} are needed",
                    models.len(),
                    options.stable_drop
                )),
                correlations: NamedMap::default(),
            }
        } else {
            let d: Vec<f64> = stable.iter().map(|&i| drops[i]).collect();
            let (table, _) = table2(
                &scores,
                &models,
                &d,
                &clusters.restrict(&stable),
                &[],
                options,
                (Stream::StableBootstrap, Stream::StablePermutation),
            );
            StableCorrelations {
                max_drop: options.stable_drop,
                models: names,
                reason: None,
                correlations: table,
            }
        });
        r.claims = claims(&r, Some(&dist), options);
        Ok(r)
    }
}

/// Each of [`COMPARED`] against every other score with a defined PLCC (each pair once).
fn comparisons(
    r: &Report,
    compressed: &[&ModelReport],
    drops: &[f64],
    scores: &[&'static Score],
    dist: &Distributions,
) -> NamedMap<ScoreComparison> {
    let mut out = NamedMap::default();
    let n = drops.len();
    for a in scores.iter().filter(|s| COMPARED.contains(&s.key)) {
        for b in scores.iter().filter(|b| b.key != a.key) {
            if COMPARED.contains(&b.key) && out.get(&format!("{}_vs_{}", b.key, a.key)).is_some() {
                continue;
            }
            let (ca, cb) = (r.correlations.get(a.key), r.correlations.get(b.key));
            let (Some(ra), Some(rb)) = (ca.and_then(|c| c.plcc), cb.and_then(|c| c.plcc)) else {
                out.push(
                    format!("{}_vs_{}", a.key, b.key),
                    ScoreComparison {
                        a: a.key.into(),
                        b: b.key.into(),
                        diff: None,
                        diff_ci: None,
                        steiger_z: None,
                        steiger_p: None,
                        reason: Some(format!(
                            "no PLCC for {}",
                            if ca.and_then(|c| c.plcc).is_none() {
                                a.key
                            } else {
                                b.key
                            }
                        )),
                    },
                );
                continue;
            };
            let values = |s: &Score| -> Vec<f64> {
                compressed
                    .iter()
                    .map(|m| (s.of_model)(m).expect("has a PLCC"))
                    .collect()
            };
            let (sa, sb) = (a.worse.expected_sign(), b.worse.expected_sign());
            let steiger = pearson(&values(a), &values(b))
                .and_then(|r_ab| steiger_z(sa * ra, sb * rb, sa * sb * r_ab, n));
            out.push(
                format!("{}_vs_{}", a.key, b.key),
                ScoreComparison {
                    a: a.key.into(),
                    b: b.key.into(),
                    diff: Some(ra.abs() - rb.abs()),
                    diff_ci: dist.diff_interval(a.key, b.key, Statistic::Plcc),
                    steiger_z: steiger.as_ref().ok().map(|t| t.z),
                    steiger_p: steiger.as_ref().ok().map(|t| t.p),
                    reason: steiger.err().map(|e| format!("Steiger's test: {e}")),
                },
            );
        }
    }
    out
}
