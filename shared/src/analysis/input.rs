//! What an analysis reads: models with their layers, logits and accuracies, and the labels.

use crate::activations::Values;
use crate::activations::{Activations, RowSource};
use crate::error::{RepsError, Result};
use crate::formats::snapshot::{Reduction, Snapshot, SnapshotLayer, SnapshotModel};
use crate::formats::ModelFile;
use crate::metrics::RepsWeights;
use crate::model_input::ModelInput;

/// The paper's two layers; the default whenever every model has both.
pub const PAPER_LAYERS: [&str; 2] = ["layer4.1.conv2", "fc"];

/// The paper's layers and their analogues in the other architectures `native train-sweep`
/// trains: the last block's output flattened and the logits (`vit-tiny`: `blocks.3.tokens`,
/// `head`).
pub const DEFAULT_LAYER_PAIRS: [[&str; 2]; 2] = [PAPER_LAYERS, ["blocks.3.tokens", "head"]];

/// The layers analysed by default among the layers every model has (`shared`): the first of
/// [`DEFAULT_LAYER_PAIRS`] that is all there, else all of `shared`.
pub fn default_layers(shared: &[String]) -> Vec<String> {
    match DEFAULT_LAYER_PAIRS
        .iter()
        .find(|pair| pair.iter().all(|p| shared.iter().any(|s| s == p)))
    {
        Some(pair) => pair.iter().map(|s| s.to_string()).collect(),
        None => shared.to_vec(),
    }
}

/// The layers every one of `models` has, in the first model's order (empty without models).
pub fn shared_layers<L>(models: &[ModelInput<L>]) -> Vec<String> {
    let Some(first) = models.first() else {
        return Vec::new();
    };
    first
        .layers
        .iter()
        .map(|(k, _)| k.clone())
        .filter(|k| models.iter().all(|m| m.layer(k).is_some()))
        .collect()
}

impl<L> ModelInput<L> {
    /// A snapshot's model read from `file`, each layer made by `layer(model name, layer)`.
    pub fn from_snapshot_model<V>(
        file: &str,
        m: SnapshotModel<V>,
        mut layer: impl FnMut(&str, SnapshotLayer<V>) -> Result<L>,
    ) -> Result<Self> {
        let layers = m
            .layers
            .into_iter()
            .map(|l| Ok((l.name.clone(), layer(&m.name, l)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(ModelInput {
            name: m.name,
            method: m.method,
            parameter: m.parameter,
            parameter_name: m.parameter_name,
            accuracy: m.accuracy,
            weight_similarity: m.weight_similarity,
            layers,
            logits: m.logits,
            source: file.to_string(),
        })
    }
}

/// The models of one analysis and, when known, the true labels of the N samples.
#[derive(Clone, Debug)]
pub struct AnalysisInput {
    pub models: Vec<ModelInput>,
    /// True labels and where they came from.
    pub labels: Option<(Vec<u32>, String)>,
}

/// Choices of one analysis (the flags of `native analyze`).
#[derive(Clone, Debug)]
pub struct AnalysisOptions {
    /// Name of the reference model; the first model when `None`.
    pub reference: Option<String>,
    /// Layers to analyse; `None` picks a pair of [`DEFAULT_LAYER_PAIRS`] when every model has it, else every
    /// layer that all models share, in the reference's order.
    pub layers: Option<Vec<String>>,
    /// M of the decay fit.
    pub top_m: usize,
    /// Extra weights, reported as `reps_user` and in the sensitivity table.
    pub user_weights: Option<RepsWeights>,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            reference: None,
            layers: None,
            top_m: 10,
            user_weights: None,
        }
    }
}

impl AnalysisInput {
    /// The layers every model has, in the first model's order (empty without models).
    pub fn shared_layers(&self) -> Vec<String> {
        shared_layers(&self.models)
    }

    /// All models of a snapshot, with its labels. The snapshot's values move into the input
    /// (nothing is copied).
    pub fn from_snapshot(file: &str, s: Snapshot) -> Result<Self> {
        let n = s.samples();
        let models = s
            .models
            .into_iter()
            .map(|m| {
                ModelInput::from_snapshot_model(file, m, |model, l| {
                    let shape = l.sample_shape.iter().map(|&d| d as usize).collect();
                    Activations::new(n, shape, Values::F32(l.values.into())).map_err(|e| {
                        RepsError::file(file, format!("model '{model}', layer '{}': {e}", l.name))
                    })
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let labels = s
            .labels
            .filter(|l| !l.is_empty())
            .map(|l| (l, file.to_string()));
        let input = AnalysisInput { models, labels };
        input.check_consistent()?;
        Ok(input)
    }

    /// A snapshot of these models (the inverse of [`AnalysisInput::from_snapshot`]), written by
    /// `producer`: every layer as it is (values stored as f32, as snapshots store them), the
    /// labels, and each model's method, parameter, accuracy and weight similarity. The samples
    /// are numbered `0..N` in the order of the rows.
    pub fn to_snapshot(&self, producer: &str, producer_version: &str) -> Snapshot {
        let n = self
            .models
            .first()
            .map_or(0, |m| m.layers.first().map_or(0, |(_, a)| a.rows()));
        let to_u32 = |shape: &[usize]| shape.iter().map(|&d| d as u32).collect::<Vec<u32>>();
        let models = self
            .models
            .iter()
            .map(|m| SnapshotModel {
                name: m.name.clone(),
                method: m.method.clone(),
                parameter: m.parameter,
                parameter_name: m.parameter_name.clone(),
                accuracy: m.accuracy,
                weight_similarity: m.weight_similarity,
                histogram: None,
                layers: m
                    .layers
                    .iter()
                    .map(|(name, a)| SnapshotLayer {
                        name: name.clone(),
                        original_shape: to_u32(a.sample_shape()),
                        reduction: Reduction::AsIs,
                        sample_shape: to_u32(a.sample_shape()),
                        values: a.values().to_f32(),
                    })
                    .collect(),
                logits: m.logits.clone(),
            })
            .collect();
        Snapshot {
            producer: producer.to_string(),
            producer_version: producer_version.to_string(),
            dataset: String::new(),
            architecture: String::new(),
            width: None,
            seed: None,
            preset: String::new(),
            sample_indices: (0..n as u32).collect(),
            labels: self.labels.as_ref().map(|(l, _)| l.clone()),
            class_names: Vec::new(),
            models,
        }
    }

    /// Per-model files (one model each). Labels come from `labels` when given, else from the
    /// files that carry a `labels` array (which must then agree).
    pub fn from_model_files(
        files: Vec<ModelFile>,
        labels: Option<(Vec<u32>, String)>,
    ) -> Result<Self> {
        let mut found_labels = labels;
        for f in &files {
            if let Some(l) = &f.labels {
                match &found_labels {
                    None => found_labels = Some((l.clone(), f.file.clone())),
                    Some((existing, from)) if existing.len() == l.len() && existing != l => {
                        let i = existing
                            .iter()
                            .zip(l)
                            .position(|(a, b)| a != b)
                            .unwrap_or(0);
                        return Err(RepsError::Mismatch {
                            file: f.file.clone(),
                            what: format!("label of sample {i}"),
                            found: l[i].to_string(),
                            other_file: from.clone(),
                            expected: existing[i].to_string(),
                        });
                    }
                    _ => {}
                }
            }
        }
        let mut names = std::collections::HashSet::new();
        for f in &files {
            if !names.insert(f.name.clone()) {
                return Err(RepsError::Invalid(format!(
                    "two input files give the model name '{}' (names are file stems); rename one",
                    f.name
                )));
            }
        }
        let models = files
            .into_iter()
            .map(|f| ModelInput {
                name: f.name,
                method: f.method.unwrap_or_else(|| "external".into()),
                parameter: f.parameter,
                parameter_name: f.parameter_name,
                accuracy: f.accuracy,
                weight_similarity: None,
                layers: f.layers,
                logits: f.logits,
                source: f.file,
            })
            .collect();
        let input = AnalysisInput {
            models,
            labels: found_labels,
        };
        input.check_consistent()?;
        Ok(input)
    }

    /// The same models and labels on the samples `rows` (any order, repeats allowed: a bootstrap
    /// resample of the samples). Every index must be below N.
    pub fn select_rows(&self, rows: &[usize]) -> AnalysisInput {
        AnalysisInput {
            models: self
                .models
                .iter()
                .map(|m| {
                    m.with_layers(
                        m.layers
                            .iter()
                            .map(|(k, a)| (k.clone(), a.select_rows(rows)))
                            .collect(),
                    )
                })
                .collect(),
            labels: self
                .labels
                .as_ref()
                .map(|(l, from)| (rows.iter().map(|&i| l[i]).collect(), from.clone())),
        }
    }

    /// Every model has the same N, every layer name the same D everywhere, labels have length N
    /// and are classes of every model's logits (0 to K − 1).
    pub fn check_consistent(&self) -> Result<()> {
        check_models(&self.models, &self.labels, |a| a)
    }
}

/// [`AnalysisInput::check_consistent`] for models whose layers are held as `L` (`rows` views
/// one as a [`RowSource`]): the check of both the in-memory and the streamed analysis.
pub(crate) fn check_models<L>(
    models: &[ModelInput<L>],
    labels: &Option<(Vec<u32>, String)>,
    rows: impl Fn(&L) -> &dyn RowSource,
) -> Result<()> {
    let Some(first) = models.first() else {
        return Err(RepsError::Invalid("no models to analyse".into()));
    };
    let n_of = |m: &ModelInput<L>| m.layers.first().map_or(0, |(_, a)| rows(a).rows());
    let n = n_of(first);
    for m in models {
        if m.layers.is_empty() {
            return Err(RepsError::file(
                &m.source,
                format!("model '{}' has no layers", m.name),
            ));
        }
        if let Some(l) = m.logits.as_deref().filter(|l| m.layer(l).is_none()) {
            return Err(RepsError::file(
                &m.source,
                format!(
                    "model '{}': its logits name the layer '{l}', which it does not have",
                    m.name
                ),
            ));
        }
        for (key, a) in &m.layers {
            let a = rows(a);
            if a.rows() != n {
                return Err(RepsError::Mismatch {
                    file: m.source.clone(),
                    what: format!("the number of samples of '{key}'"),
                    found: a.rows().to_string(),
                    other_file: first.source.clone(),
                    expected: n.to_string(),
                });
            }
        }
    }
    for (idx, m) in models.iter().enumerate().skip(1) {
        for (key, a) in &m.layers {
            let Some((other, b)) = models[..idx]
                .iter()
                .find_map(|o| o.layer(key).map(|b| (o, b)))
            else {
                continue;
            };
            let (a, b) = (rows(a), rows(b));
            if a.cols() != b.cols() {
                return Err(RepsError::Mismatch {
                    file: m.source.clone(),
                    what: format!("the shape of layer '{key}'"),
                    found: shape_text(a),
                    other_file: other.source.clone(),
                    expected: shape_text(b),
                });
            }
        }
    }
    if let Some((labels, from)) = labels {
        if labels.len() != n {
            return Err(RepsError::Mismatch {
                file: from.clone(),
                what: "the number of labels".into(),
                found: labels.len().to_string(),
                other_file: first.source.clone(),
                expected: format!("{n} samples"),
            });
        }
        // A label the logits cannot predict would make every accuracy and agreement with the
        // labels 0 without a word.
        for m in models {
            let Some(k) = m.logits().map(|l| rows(l).cols()) else {
                continue;
            };
            if let Some((i, &bad)) = labels.iter().enumerate().find(|(_, &l)| l as usize >= k) {
                return Err(RepsError::file(
                    from,
                    format!(
                        "label {bad} (sample {i}) is outside the {k} classes of the logits of model '{}' ({}); labels must be 0 to {}",
                        m.name,
                        m.source,
                        k - 1
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn shape_text(a: &dyn RowSource) -> String {
    let dims: Vec<String> = std::iter::once(a.rows())
        .chain(a.sample_shape().iter().copied())
        .map(|d| d.to_string())
        .collect();
    format!("({})", dims.join(", "))
}
