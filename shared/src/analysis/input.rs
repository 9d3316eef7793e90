//! What an analysis reads: models with their layers, logits and accuracies, and the labels.

use crate::activations::Activations;
use crate::error::{RepsError, Result};
use crate::formats::snapshot::{ModelKind, Snapshot};
use crate::formats::ModelFile;
use crate::metrics::RepsWeights;

/// The paper's two layers; the default whenever every model has both.
pub const PAPER_LAYERS: [&str; 2] = ["layer4.1.conv2", "fc"];

/// The layers analysed unless the user names some, out of the layers every model has (`shared`):
/// [`PAPER_LAYERS`] when all are there, else all of `shared`.
pub fn default_layers(shared: &[String]) -> Vec<String> {
    if PAPER_LAYERS.iter().all(|p| shared.iter().any(|s| s == p)) {
        PAPER_LAYERS.iter().map(|s| s.to_string()).collect()
    } else {
        shared.to_vec()
    }
}

/// One model to analyse.
#[derive(Clone, Debug)]
pub struct ModelInput {
    pub name: String,
    pub kind: ModelKind,
    /// Coreset fraction, pruning ratio or bit width.
    pub parameter: Option<f64>,
    /// Test accuracy, when known.
    pub accuracy: Option<f64>,
    /// Cosine similarity of its weights with the reference's, when known.
    pub weight_similarity: Option<f64>,
    /// Layers by name, each N × D.
    pub layers: Vec<(String, Activations)>,
    /// Logits N × K, for the baselines, pseudo-labels and accuracy.
    pub logits: Option<Activations>,
    /// Where it came from (a file name), for messages.
    pub source: String,
}

impl ModelInput {
    /// The layer named `name`.
    pub fn layer(&self, name: &str) -> Option<&Activations> {
        self.layers.iter().find(|(k, _)| k == name).map(|(_, a)| a)
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
    /// Layers to analyse; `None` picks [`PAPER_LAYERS`] when every model has them, else every
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
        let Some(first) = self.models.first() else {
            return Vec::new();
        };
        first
            .layers
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| self.models.iter().all(|m| m.layer(k).is_some()))
            .collect()
    }

    /// All models of a snapshot, with its labels.
    pub fn from_snapshot(file: &str, s: &Snapshot) -> Result<Self> {
        let n = s.sample_indices.len();
        let models = s
            .models
            .iter()
            .map(|m| {
                let wrap = |layer: &str, e: RepsError| {
                    RepsError::file(file, format!("model '{}', layer '{layer}': {e}", m.name))
                };
                let layers = m
                    .layers
                    .iter()
                    .map(|l| {
                        Ok((
                            l.name.clone(),
                            l.to_activations(n).map_err(|e| wrap(&l.name, e))?,
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let logits = m
                    .logits
                    .as_ref()
                    .map(|l| l.to_activations(n).map_err(|e| wrap("logits", e)))
                    .transpose()?;
                Ok(ModelInput {
                    name: m.name.clone(),
                    kind: m.kind,
                    parameter: m.parameter,
                    accuracy: m.accuracy,
                    weight_similarity: m.weight_similarity,
                    layers,
                    logits,
                    source: file.to_string(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let labels = (!s.labels.is_empty()).then(|| (s.labels.clone(), file.to_string()));
        let input = AnalysisInput { models, labels };
        input.check_consistent()?;
        Ok(input)
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
                kind: ModelKind::External,
                parameter: None,
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

    /// Every model has the same N, every layer name the same D everywhere, labels have length N.
    pub fn check_consistent(&self) -> Result<()> {
        let Some(first) = self.models.first() else {
            return Err(RepsError::Invalid("no models to analyse".into()));
        };
        let n_of = |m: &ModelInput| m.layers.first().map_or(0, |(_, a)| a.rows());
        let n = n_of(first);
        for m in &self.models {
            if m.layers.is_empty() {
                return Err(RepsError::file(
                    &m.source,
                    format!("model '{}' has no layers", m.name),
                ));
            }
            let logits = m.logits.iter().map(|l| ("logits", l));
            for (key, a) in m.layers.iter().map(|(k, a)| (k.as_str(), a)).chain(logits) {
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
        for (idx, m) in self.models.iter().enumerate().skip(1) {
            for (key, a) in &m.layers {
                let Some((other, b)) = self.models[..idx]
                    .iter()
                    .find_map(|o| o.layer(key).map(|b| (o, b)))
                else {
                    continue;
                };
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
        if let Some((labels, from)) = &self.labels {
            if labels.len() != n {
                return Err(RepsError::Mismatch {
                    file: from.clone(),
                    what: "the number of labels".into(),
                    found: labels.len().to_string(),
                    other_file: first.source.clone(),
                    expected: format!("{n} samples"),
                });
            }
        }
        Ok(())
    }
}

fn shape_text(a: &Activations) -> String {
    let dims: Vec<String> = std::iter::once(a.rows())
        .chain(a.sample_shape().iter().copied())
        .map(|d| d.to_string())
        .collect();
    format!("({})", dims.join(", "))
}
