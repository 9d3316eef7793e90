//! Running the analysis: every model against the reference, layer by layer (in parallel chunks
//! on native targets), then the assembly of the report ([`Comparisons::report`]).

use super::input::{AnalysisInput, AnalysisOptions};
use super::model_level::model_level_statistics;
use super::named_map::NamedMap;
use super::scores::Score;
use super::setup::{in_layer, logit_baselines, positive, setup, Setup};
use super::types::{Baselines, LabelSource, ModelReport, Progress, Report};
use crate::error::{RepsError, Result};
use crate::metrics::{compare_layers, LayerComparison, LayerStats, RepsWeights, EQUAL, WEIGHTED};
use crate::model_input::ModelInput;
use crate::parallel;
use crate::repeats::first_repeat;
use serde::{Deserialize, Serialize};

/// [`analyze_with_progress`] without progress reports.
pub fn analyze(input: &AnalysisInput, options: &AnalysisOptions) -> Result<Report> {
    analyze_with_progress(input, options, &mut |_| {})
}

/// Runs the full analysis: per-layer REPS components and CKA of every model against the reference,
/// the logit and weight baselines, accuracy drops, correlations (Table 2) and sensitivity (Table 3).
///
/// Equal to [`compare_models`] followed by [`Comparisons::report`] on the same layers.
pub fn analyze_with_progress(
    input: &AnalysisInput,
    options: &AnalysisOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Report> {
    let comparisons = compare_models(input, options, progress)?;
    comparisons.report(&comparisons.layers, options.user_weights)
}

/// The expensive half of the analysis: every model against the reference on the chosen layers
/// (`options.layers`, default as in [`AnalysisOptions`]), the baselines and the accuracies.
/// `options.user_weights` is not used here; pass the weights to [`Comparisons::report`].
///
/// Equal to [`compare_models_with`] of one [`compare_layers_of`] over every model; a caller
/// with several threads of its own (the viewer's workers) may split the models over
/// [`compare_layers_of`] calls instead, with exactly the same result.
pub fn compare_models(
    input: &AnalysisInput,
    options: &AnalysisOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Comparisons> {
    let setup = setup(input, options)?;
    let every: Vec<usize> = (0..input.models.len()).collect();
    let part = layers_of(&setup, options, &every, progress)?;
    assemble_parts(setup, input, options, vec![part])
}

/// What [`compare_layers_of`] computed for some models: per model (by its index among the
/// input's models), every chosen layer compared with the reference's and its spectrum.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerResults {
    pub models: Vec<ModelLayers>,
}

/// One model's [`LayerResults`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelLayers {
    /// Its index among the input's models.
    pub index: usize,
    pub layers: NamedMap<LayerComparison>,
    pub spectra: NamedMap<Vec<f64>>,
}

/// The per-layer part of [`compare_models`] for the models at `indices` (in any order; each once):
/// per layer, the reference's statistics, then each of these models against them, a chunk of
/// models at a time in parallel on native targets. Progress counts (model, layer) steps of these
/// models.
pub fn compare_layers_of(
    input: &AnalysisInput,
    options: &AnalysisOptions,
    indices: &[usize],
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<LayerResults> {
    layers_of(&setup(input, options)?, options, indices, progress)
}

/// `index` out of the `n` models' range.
fn out_of_range(index: usize, n: usize) -> RepsError {
    RepsError::Invalid(format!(
        "model index {index} is out of range: there are {n} models"
    ))
}

/// [`compare_layers_of`] from its [`Setup`].
fn layers_of(
    setup: &Setup<'_>,
    options: &AnalysisOptions,
    indices: &[usize],
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<LayerResults> {
    let Setup {
        ref_index,
        ref layers,
        ref labels,
        models,
        ..
    } = *setup;
    if let Some(&i) = indices.iter().find(|&&i| i >= models.len()) {
        return Err(out_of_range(i, models.len()));
    }
    let total = layers.len() * indices.len();
    let mut done = 0;
    let mut out: Vec<ModelLayers> = indices
        .iter()
        .map(|&index| ModelLayers {
            index,
            layers: NamedMap::default(),
            spectra: NamedMap::default(),
        })
        .collect();
    let chunk = parallel::threads().max(1);
    for layer in layers {
        let stats_of = |index: usize| {
            let m = &models[index];
            LayerStats::compute(
                m.layer(layer).expect("chosen layers exist"),
                labels.as_deref(),
                options.top_m,
            )
            .map_err(|e| in_layer(m, layer, e))
        };
        // The reference's statistics are computed beside the first group's models' (so that a
        // reference and one model use two threads), then every model is compared with them.
        let mut ref_stats: Option<LayerStats> = None;
        for group in out.chunks_mut(chunk) {
            let results = match &ref_stats {
                Some(r) => parallel::map(group, |m| {
                    if m.index == ref_index {
                        return Ok((compare_layers(r, r), positive(&r.eigenvalues)));
                    }
                    let stats = stats_of(m.index)?;
                    Ok((compare_layers(r, &stats), positive(&stats.eigenvalues)))
                }),
                None => {
                    let wanted: Vec<usize> = std::iter::once(ref_index)
                        .chain(group.iter().map(|m| m.index).filter(|&i| i != ref_index))
                        .collect();
                    let mut computed = parallel::map(&wanted, |&i| stats_of(i)).into_iter();
                    let r: &LayerStats = ref_stats.insert(computed.next().expect("asked for")?);
                    let mut stats: Vec<Option<LayerStats>> = Vec::with_capacity(group.len());
                    for m in group.iter() {
                        stats.push(match m.index == ref_index {
                            true => None,
                            false => Some(computed.next().expect("asked for")?),
                        });
                    }
                    parallel::map(&stats, |s| {
                        let s = s.as_ref().unwrap_or(r);
                        Ok((compare_layers(r, s), positive(&s.eigenvalues)))
                    })
                }
            };
            for (m, result) in group.iter_mut().zip(results) {
                let (cmp, eigenvalues) = result?;
                m.layers.push(layer.clone(), cmp);
                m.spectra.push(layer.clone(), eigenvalues);
                done += 1;
                progress(Progress {
                    done,
                    total,
                    model: &models[m.index].name,
                    layer,
                });
            }
        }
    }
    Ok(LayerResults { models: out })
}

/// The rest of [`compare_models`] from the per-layer `parts` ([`compare_layers_of`] of the same
/// input and options, together covering every model once): the baselines, the accuracies and
/// the assembly.
pub fn compare_models_with(
    input: &AnalysisInput,
    options: &AnalysisOptions,
    parts: Vec<LayerResults>,
) -> Result<Comparisons> {
    assemble_parts(setup(input, options)?, input, options, parts)
}

/// [`compare_models_with`] from its [`Setup`].
fn assemble_parts(
    setup: Setup<'_>,
    input: &AnalysisInput,
    options: &AnalysisOptions,
    parts: Vec<LayerResults>,
) -> Result<Comparisons> {
    let Setup {
        ref_index,
        layers,
        label_source,
        notes,
        models,
        ..
    } = setup;
    let reference = &models[ref_index];
    let mut per_model: Vec<Option<ModelLayers>> = vec![None; models.len()];
    for m in parts.into_iter().flat_map(|p| p.models) {
        let slot = per_model
            .get_mut(m.index)
            .ok_or_else(|| out_of_range(m.index, models.len()))?;
        if slot.is_some()
            || m.layers
                .iter()
                .map(|(k, _)| k)
                .ne(layers.iter().map(String::as_str))
        {
            return Err(RepsError::Invalid(format!(
                "the per-layer results of model '{}' are repeated or are not of the layers {}",
                models[m.index].name,
                layers.join(", ")
            )));
        }
        *slot = Some(m);
    }
    let (mut layer_maps, mut spectra) = (Vec::new(), Vec::new());
    for (m, slot) in models.iter().zip(per_model) {
        let r = slot.ok_or_else(|| {
            RepsError::Invalid(format!("no per-layer results for model '{}'", m.name))
        })?;
        layer_maps.push(r.layers);
        spectra.push(r.spectra);
    }

    // Accuracies: given, else measured on these samples from true labels and logits.
    let predictions: Vec<Option<Vec<u32>>> = models
        .iter()
        .map(|m| match (&input.labels, m.accuracy, m.logits()) {
            (Some(_), None, Some(logits)) => Some(logits.row_argmax()),
            _ => None,
        })
        .collect();
    let baselines = models
        .iter()
        .map(|m| logit_baselines(reference, m))
        .collect::<Result<Vec<_>>>()?;
    Ok(assemble(
        models,
        Assembly {
            ref_index,
            label_source,
            labels: input.labels.as_ref().map(|(l, _)| l.as_slice()),
            top_m: options.top_m,
            layers,
            per_model: layer_maps,
            spectra,
            predictions,
            baselines,
            notes,
        },
    ))
}

/// What [`assemble`] puts together, per model in input order where a vector.
pub(crate) struct Assembly<'a> {
    pub ref_index: usize,
    pub label_source: LabelSource,
    /// True labels, when given.
    pub labels: Option<&'a [u32]>,
    pub top_m: usize,
    pub layers: Vec<String>,
    pub per_model: Vec<NamedMap<LayerComparison>>,
    pub spectra: Vec<NamedMap<Vec<f64>>>,
    /// Argmax predictions of the models whose accuracy is to be measured from the labels.
    pub predictions: Vec<Option<Vec<u32>>>,
    /// Logit baselines (weight similarity is filled in here).
    pub baselines: Vec<Baselines>,
    pub notes: Vec<String>,
}

/// The [`Comparisons`] of per-model results: accuracies (given, else measured from the labels
/// and the predictions, with a note), each model's weight similarity (the reference's is 1 when
/// weights are known at all).
pub(crate) fn assemble<L>(models: &[ModelInput<L>], a: Assembly<'_>) -> Comparisons {
    let mut notes = a.notes;
    let accuracies: Vec<Option<f64>> = models
        .iter()
        .zip(&a.predictions)
        .map(|(m, pred)| {
            m.accuracy.or_else(|| match (a.labels, pred) {
                (Some(l), Some(pred)) => {
                    let hits = pred.iter().zip(l).filter(|(p, y)| p == y).count();
                    Some(hits as f64 / l.len().max(1) as f64)
                }
                _ => None,
            })
        })
        .collect();
    if models.iter().any(|m| m.accuracy.is_none()) && accuracies.iter().any(Option::is_some) {
        notes.push(format!(
            "accuracies not given with the data were measured on the {} analysed samples from their labels and logits",
            a.labels.map_or(0, <[u32]>::len)
        ));
    }
    let weights_known = models.iter().any(|m| m.weight_similarity.is_some());
    let out = models
        .iter()
        .zip(a.per_model)
        .zip(a.spectra)
        .zip(a.baselines)
        .enumerate()
        .map(
            |(i, (((m, layer_map), spectra), baselines))| ModelComparisons {
                name: m.name.clone(),
                method: m.method.clone(),
                parameter: m.parameter,
                parameter_name: m.parameter_name.clone(),
                accuracy: accuracies[i],
                logits: m.logits.clone(),
                layers: layer_map,
                spectra,
                baselines: Baselines {
                    weight_similarity: if i == a.ref_index && weights_known {
                        Some(1.0)
                    } else {
                        m.weight_similarity
                    },
                    ..baselines
                },
            },
        )
        .collect();
    Comparisons {
        reference: models[a.ref_index].name.clone(),
        label_source: a.label_source,
        top_m: a.top_m as u32,
        layers: a.layers,
        models: out,
        notes,
    }
}

/// One model against the reference on every compared layer, with its baselines and accuracy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelComparisons {
    pub name: String,
    /// How the model was made (see [`ModelReport::method`]).
    pub method: String,
    pub parameter: Option<f64>,
    pub parameter_name: Option<String>,
    /// Given, or measured on the analysed samples from labels and logits.
    pub accuracy: Option<f64>,
    /// The layer that holds the model's logits, when it has logits.
    pub logits: Option<String>,
    pub layers: NamedMap<LayerComparison>,
    /// The positive eigenvalues of each compared layer (descending), for spectrum plots.
    pub spectra: NamedMap<Vec<f64>>,
    pub baselines: Baselines,
}

impl ModelComparisons {
    /// The mean over `layers` (each one compared) of `f` on each layer's comparison; `None` when
    /// `f` is `None` on any of them. The model-level scores of the report.
    pub fn mean_over(
        &self,
        layers: &[String],
        f: &dyn Fn(&LayerComparison) -> Option<f64>,
    ) -> Option<f64> {
        let v: Option<Vec<f64>> = layers
            .iter()
            .map(|l| f(self.layers.get(l).expect("a compared layer")))
            .collect();
        v.map(|v| v.iter().sum::<f64>() / v.len() as f64)
    }

    /// The model's report row over `layers` (each one compared): every model-level score is the
    /// mean over those layers of its per-layer value ([`ModelComparisons::mean_over`]; REPS with
    /// the paper's weighted and equal weights), `accuracy_drop = reference_accuracy − accuracy`
    /// when both are known. The components and CKA are 0 when a layer lacks them (they never do
    /// for a compared layer).
    pub fn model_report(&self, layers: &[String], reference_accuracy: Option<f64>) -> ModelReport {
        let mean = |f: &dyn Fn(&LayerComparison) -> Option<f64>| self.mean_over(layers, f);
        ModelReport {
            name: self.name.clone(),
            kind: self.method.clone(),
            method: self.method.clone(),
            parameter: self.parameter,
            parameter_name: self.parameter_name.clone(),
            accuracy: self.accuracy,
            accuracy_drop: match (reference_accuracy, self.accuracy) {
                (Some(r), Some(a)) => Some(r - a),
                _ => None,
            },
            reps_weighted: mean(&|c| c.reps(&WEIGHTED)),
            reps_equal: mean(&|c| c.reps(&EQUAL)),
            reps_user: None,
            reps_ci: None,
            effective_rank: mean(&|c| Some(c.effective_rank)).unwrap_or(0.0),
            alive: mean(&|c| Some(c.alive)).unwrap_or(0.0),
            separation: mean(&|c| c.separation),
            decay: mean(&|c| Some(c.decay)).unwrap_or(0.0),
            cka: mean(&|c| Some(c.cka)).unwrap_or(0.0),
            cka_debiased: mean(&|c| c.cka_debiased),
            layers: NamedMap(
                layers
                    .iter()
                    .map(|l| {
                        (
                            l.clone(),
                            self.layers.get(l).expect("a compared layer").clone(),
                        )
                    })
                    .collect(),
            ),
            baselines: self.baselines.clone(),
        }
    }

    /// The value of `score` on layer `layer` (`score.of_layer` without user weights); `None`
    /// for a layer that was not compared, a score without per-layer values (the baselines) or a
    /// value that is missing there (separation without labels).
    pub fn on_layer(&self, score: &Score, layer: &str) -> Option<f64> {
        (score.of_layer?)(self.layers.get(layer)?, None)
    }

    /// Where the damage starts: the first of `layers`, in their order, on which `score` is below
    /// `threshold` (`value < threshold`). `None` when no layer is below it; a layer without a
    /// value is skipped, not counted as damaged.
    pub fn first_below<'a>(
        &self,
        layers: &'a [String],
        score: &Score,
        threshold: f64,
    ) -> Option<&'a str> {
        layers
            .iter()
            .find(|l| self.on_layer(score, l).is_some_and(|v| v < threshold))
            .map(String::as_str)
    }
}

/// What [`compare_models`] computed: enough to build the [`Report`] of any subset of its layers
/// with any weights, without touching the activations again (the viewer keeps this, not the
/// activations, and rebuilds the report when the layer choice changes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparisons {
    pub reference: String,
    pub label_source: LabelSource,
    pub top_m: u32,
    /// The compared layers, in order.
    pub layers: Vec<String>,
    pub models: Vec<ModelComparisons>,
    pub notes: Vec<String>,
}

impl Comparisons {
    /// The report over `layers` (a non-empty subset of [`Comparisons::layers`], any order):
    /// model-level scores are means over those layers, then Table 2 and Table 3 over every model
    /// but the reference. `user_weights` adds `reps_user` and its rows
    /// ([`Report::with_user_weights`]).
    pub fn report(&self, layers: &[String], user_weights: Option<RepsWeights>) -> Result<Report> {
        if layers.is_empty() {
            return Err(RepsError::Invalid("no layer chosen to report on".into()));
        }
        if let Some(l) = layers.iter().find(|l| !self.layers.contains(l)) {
            return Err(RepsError::Invalid(format!(
                "layer '{l}' was not compared; compared layers: {}",
                self.layers.join(", ")
            )));
        }
        if let Some((first, second)) = first_repeat(layers) {
            return Err(RepsError::Invalid(format!(
                "layer '{}' is chosen twice (at positions {} and {})",
                layers[first],
                first + 1,
                second + 1
            )));
        }
        let ref_index = self
            .models
            .iter()
            .position(|m| m.name == self.reference)
            .ok_or_else(|| {
                RepsError::Invalid(format!("reference '{}' is not a model", self.reference))
            })?;
        let ref_acc = self.models[ref_index].accuracy;
        let reports: Vec<ModelReport> = self
            .models
            .iter()
            .map(|m| m.model_report(layers, ref_acc))
            .collect();
        let (correlations, sensitivity, best_weights) = model_level_statistics(&reports, ref_index);
        let report = Report {
            reference: self.reference.clone(),
            label_source: self.label_source,
            layers: layers.to_vec(),
            top_m: self.top_m,
            user_weights: None,
            models: reports,
            correlations,
            sensitivity,
            best_weights,
            inference: None,
            correlations_stable: None,
            comparisons: NamedMap::default(),
            claims: Vec::new(),
            notes: self.notes.clone(),
        };
        Ok(match user_weights {
            Some(w) => report.with_user_weights(Some(w)),
            None => report,
        })
    }
}
