//! One sweep run with several seeds: each model's accuracy and REPS as mean and standard
//! deviation over the seeds, Table 2 (every score against accuracy drop) per seed and pooled,
//! and the inference and claims on the pooled models with a cluster bootstrap over seeds.

use super::model_level::{correlation, table3};
use super::scores::scores_present;
use super::types::{
    Claim, InferenceOptions, ModelReport, Report, ScoreComparison, SensitivityRow,
    StableCorrelations,
};
use super::NamedMap;
use crate::error::{RepsError, Result};
use crate::stats::{Clusters, Correlations};
use serde::{Deserialize, Serialize};

/// The mean and standard deviation of one quantity over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeanSd {
    /// `Σ xᵢ / n`; `None` when no seed has a value.
    pub mean: Option<f64>,
    /// The sample standard deviation `sqrt(Σ (xᵢ − x̄)² / (n − 1))` (numpy's `std(ddof=1)`, what
    /// error bars over seeds usually show); `None` for fewer than two values.
    pub sd: Option<f64>,
    /// How many seeds had a value.
    pub n: usize,
}

/// [`MeanSd`] of `values`.
pub fn mean_sd(values: &[f64]) -> MeanSd {
    let n = values.len();
    let mean = (n > 0).then(|| values.iter().sum::<f64>() / n as f64);
    let sd = mean
        .filter(|_| n > 1)
        .map(|m| (values.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64).sqrt());
    MeanSd { mean, sd, n }
}

/// One model over the seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedModel {
    pub name: String,
    pub method: String,
    pub parameter: Option<f64>,
    pub parameter_name: Option<String>,
    pub accuracy: MeanSd,
    /// `acc_ref − acc_model`, each seed against its own reference.
    pub accuracy_drop: MeanSd,
    pub reps_weighted: MeanSd,
    pub reps_equal: MeanSd,
    pub cka: MeanSd,
}

/// Table 2's entry of one score: per seed (in the order of [`SeedSummary::seeds`]) and pooled
/// (one correlation over the compressed models of every seed together, with its cluster-bootstrap
/// intervals and within-seed permutation p-values).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedCorrelations {
    pub per_seed: Vec<Correlations>,
    pub pooled: Correlations,
}

/// A multi-seed sweep's summary (`summary.json`). The fields after `correlations` are the
/// inference on the pooled models ([`summarize_seeds`]); a summary written before they existed
/// reads with them empty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedSummary {
    pub seeds: Vec<u64>,
    pub reference: String,
    /// In the first seed's order.
    pub models: Vec<SeedModel>,
    /// Keyed by score, in Table 2's order.
    pub correlations: NamedMap<SeedCorrelations>,
    /// The settings of the pooled inference.
    #[serde(default)]
    pub inference: Option<InferenceOptions>,
    /// REPS against every other score on the pooled models, as in a sweep's report.
    #[serde(default)]
    pub comparisons: NamedMap<ScoreComparison>,
    /// Table 2 over the pooled models in the stable regime (named `seed-<s>/<model>`).
    #[serde(default)]
    pub correlations_stable: Option<StableCorrelations>,
    /// Table 3 over the pooled models, with intervals.
    #[serde(default)]
    pub sensitivity: Vec<SensitivityRow>,
    /// The paper's claims checked on the pooled models.
    #[serde(default)]
    pub claims: Vec<Claim>,
    /// Each seed's own claims (its sweep's report), in the order of `seeds`.
    #[serde(default)]
    pub claims_per_seed: Vec<Vec<Claim>>,
}

impl SeedSummary {
    /// Reads a `summary.json` that `native train-sweep --seeds` wrote; an error names `file` and
    /// what is wrong.
    pub fn from_json(file: &str, bytes: &[u8]) -> Result<SeedSummary> {
        let s: SeedSummary = serde_json::from_slice(bytes).map_err(|e| RepsError::File {
            file: file.into(),
            reason: format!(
                "not a multi-seed summary (the summary.json of train-sweep --seeds): {e}"
            ),
        })?;
        if s.seeds.is_empty() || s.models.is_empty() {
            return Err(RepsError::File {
                file: file.into(),
                reason: "a multi-seed summary without seeds or models".into(),
            });
        }
        Ok(s)
    }
}

/// Summarises the reports of one sweep made with each of `seeds` (`reports[i]` with
/// `seeds[i]`). Models are matched by name; one missing from a seed's report is summarised
/// over the seeds that have it (its `n` says how many).
///
/// The pooled statistics treat the compressed models of every seed as one set of models, each
/// with the accuracy drop against its own seed's reference, and run a sweep's inference on them
/// ([`Report::with_inference`] with `options`) with one change: models that share an original
/// are not independent, so each bootstrap resample draws seeds with replacement and then models
/// within each drawn seed (a two-stage cluster bootstrap), and each permutation shuffles the
/// accuracy drops within each seed ([`Clusters`]). With one seed this is exactly the sweep's own
/// inference: the pooled correlations, comparisons, Table 3 and claims equal its report's.
///
/// Errors: no report, a different number of seeds and reports, a seed given twice, reports
/// with different references or layers, or `options` out of range.
pub fn summarize_seeds(
    seeds: &[u64],
    reports: &[Report],
    options: &InferenceOptions,
) -> Result<SeedSummary> {
    let first = reports
        .first()
        .ok_or_else(|| RepsError::Invalid("no report to summarise".into()))?;
    if seeds.len() != reports.len() {
        return Err(RepsError::Invalid(format!(
            "{} seeds but {} reports",
            seeds.len(),
            reports.len()
        )));
    }
    if let Some((_, again)) = crate::repeats::first_repeat(seeds) {
        return Err(RepsError::Invalid(format!(
            "seed {} is given twice",
            seeds[again]
        )));
    }
    for (seed, r) in seeds.iter().zip(reports) {
        if r.reference != first.reference {
            return Err(RepsError::Invalid(format!(
                "the reports have different references ({} and {})",
                first.reference, r.reference
            )));
        }
        if r.layers != first.layers {
            return Err(RepsError::Invalid(format!(
                "seed {seed} analyses layers {} but seed {} analyses {}",
                r.layers.join(", "),
                seeds[0],
                first.layers.join(", ")
            )));
        }
    }
    let over = |name: &str, value: fn(&ModelReport) -> Option<f64>| {
        let v: Vec<f64> = reports
            .iter()
            .filter_map(|r| r.models.iter().find(|m| m.name == name))
            .filter_map(value)
            .collect();
        mean_sd(&v)
    };
    let models = first
        .models
        .iter()
        .map(|m| SeedModel {
            name: m.name.clone(),
            method: m.method.clone(),
            parameter: m.parameter,
            parameter_name: m.parameter_name.clone(),
            accuracy: over(&m.name, |r| r.accuracy),
            accuracy_drop: over(&m.name, |r| r.accuracy_drop),
            reps_weighted: over(&m.name, |r| r.reps_weighted),
            reps_equal: over(&m.name, |r| r.reps_equal),
            cka: over(&m.name, |r| Some(r.cka)),
        })
        .collect();
    let pooled = pool(seeds, reports).with_clustered_inference(options, &pool_clusters(reports))?;
    let correlations =
        NamedMap(
            scores_present(false)
                .map(|s| {
                    let per_seed = reports
                        .iter()
                        .map(|r| {
                            r.correlations.get(s.key).cloned().unwrap_or_else(|| {
                                Correlations::undefined("not in this seed's report")
                            })
                        })
                        .collect();
                    let pooled = pooled.correlations.get(s.key).cloned().unwrap_or_else(|| {
                        Correlations::undefined("not available for every model")
                    });
                    (s.key.to_string(), SeedCorrelations { per_seed, pooled })
                })
                .collect(),
        );
    Ok(SeedSummary {
        seeds: seeds.to_vec(),
        reference: first.reference.clone(),
        models,
        correlations,
        inference: pooled.inference,
        comparisons: pooled.comparisons,
        correlations_stable: pooled.correlations_stable,
        sensitivity: pooled.sensitivity,
        claims: pooled.claims,
        claims_per_seed: reports.iter().map(|r| r.claims.clone()).collect(),
    })
}

/// Pools finished sweeps from their `results.json` files (`(file, bytes)` pairs, as
/// `native train-sweep` writes them: the settings under `config`, the report under `report`):
/// [`summarize_seeds`] over them in ascending order of seed, so that the order the files come in
/// does not matter.
///
/// Errors name the file: not a sweep's results, settings without a seed, settings that differ
/// in more than the seed (naming the first setting that differs), or a seed given twice.
pub fn pool_results(files: &[(&str, &[u8])], options: &InferenceOptions) -> Result<SeedSummary> {
    let file_error = |file: &str, reason: String| RepsError::File {
        file: file.into(),
        reason,
    };
    let mut sweeps = Vec::with_capacity(files.len());
    for &(file, bytes) in files {
        let mut v: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| file_error(file, format!("not JSON: {e}")))?;
        let report: Report = serde_json::from_value(v["report"].take()).map_err(|e| {
            file_error(
                file,
                format!("not the results.json of a sweep (no report in it: {e})"),
            )
        })?;
        let mut config = match v["config"].take() {
            serde_json::Value::Object(c) => c,
            _ => {
                return Err(file_error(
                    file,
                    "a sweep's results without its settings (config)".into(),
                ))
            }
        };
        let seed = config
            .remove("seed")
            .and_then(|s| s.as_u64())
            .ok_or_else(|| file_error(file, "the sweep's settings have no seed".into()))?;
        sweeps.push((file, seed, config, report));
    }
    sweeps.sort_by_key(|s| s.1);
    let Some((first_file, _, first, _)) = sweeps.first() else {
        return Err(RepsError::Invalid("no sweep to pool".into()));
    };
    for (file, _, config, _) in &sweeps[1..] {
        let differs = config
            .keys()
            .chain(first.keys().filter(|k| !config.contains_key(*k)))
            .find(|k| config.get(*k) != first.get(*k));
        if let Some(key) = differs {
            let shown =
                |v: Option<&serde_json::Value>| v.map_or("absent".into(), |v| v.to_string());
            return Err(file_error(
                file,
                format!(
                    "made with {key} {}, but {first_file} with {key} {}: pooled sweeps may differ only in their seed",
                    shown(config.get(key)),
                    shown(first.get(key))
                ),
            ));
        }
    }
    if let Some(w) = sweeps.windows(2).find(|w| w[0].1 == w[1].1) {
        return Err(file_error(
            w[1].0,
            format!(
                "made with seed {}, as {} is: each seed may be pooled once",
                w[1].1, w[0].0
            ),
        ));
    }
    let seeds: Vec<u64> = sweeps.iter().map(|s| s.1).collect();
    let reports: Vec<Report> = sweeps.into_iter().map(|s| s.3).collect();
    summarize_seeds(&seeds, &reports, options)
}

/// The compressed models of every report, seed by seed, named `seed-<s>/<model>`, as one report
/// without a reference model (its `reference` names the one each seed has).
fn pool(seeds: &[u64], reports: &[Report]) -> Report {
    let first = &reports[0];
    let models: Vec<ModelReport> = seeds
        .iter()
        .zip(reports)
        .flat_map(|(seed, r)| {
            r.models
                .iter()
                .filter(move |m| m.name != r.reference)
                .map(move |m| ModelReport {
                    name: format!("seed-{seed}/{}", m.name),
                    ..m.clone()
                })
        })
        .collect();
    let all: Vec<&ModelReport> = models.iter().collect();
    let drops: Option<Vec<f64>> = all.iter().map(|m| m.accuracy_drop).collect();
    let components: Vec<_> = all.iter().map(|m| m.components()).collect();
    let sensitivity = table3(&components, drops.as_deref());
    let correlations = NamedMap(
        scores_present(false)
            .map(|s| (s.key.to_string(), correlation(s, &all, drops.as_deref())))
            .collect(),
    );
    Report {
        reference: first.reference.clone(),
        label_source: first.label_source,
        layers: first.layers.clone(),
        top_m: first.top_m,
        user_weights: None,
        models,
        correlations,
        sensitivity,
        best_weights: None,
        inference: None,
        correlations_stable: None,
        comparisons: NamedMap::default(),
        claims: Vec::new(),
        notes: Vec::new(),
    }
}

/// One cluster per report: its compressed models.
fn pool_clusters(reports: &[Report]) -> Clusters {
    let sizes: Vec<usize> = reports
        .iter()
        .map(|r| r.models.iter().filter(|m| m.name != r.reference).count())
        .collect();
    Clusters::of_sizes(&sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_standard_deviation() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, Σ(x − 5)² = 32, sample variance 32 / 7.
        let m = mean_sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(m.mean, Some(5.0));
        assert!((m.sd.unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-15);
        assert_eq!(m.n, 8);
        assert_eq!(
            mean_sd(&[0.5]),
            MeanSd {
                mean: Some(0.5),
                sd: None,
                n: 1
            }
        );
        assert_eq!(
            mean_sd(&[]),
            MeanSd {
                mean: None,
                sd: None,
                n: 0
            }
        );
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(summarize_seeds(&[], &[], &InferenceOptions::default()).is_err());
        let e = SeedSummary::from_json("x.json", b"{\"seeds\": 3}").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.json: not a multi-seed summary"),
            "{e}"
        );
        let empty = br#"{"seeds": [], "reference": "original", "models": [], "correlations": {}}"#;
        let e = SeedSummary::from_json("y.json", empty).unwrap_err();
        assert!(e.to_string().contains("without seeds or models"), "{e}");
    }
}
