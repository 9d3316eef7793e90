//! One model's input to an analysis, apart from the analysis itself, so that the readers of
//! files (`formats`) can build it without depending on `analysis` (which reads them).

use crate::activations::{Activations, RowSource};
use serde::{Deserialize, Serialize};

/// One model to analyse, with its layers held as `L`: in memory ([`Activations`], the default),
/// or as readers of row chunks (`Box<dyn RowSource>`, for `compare_models_streamed`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInput<L = Activations> {
    pub name: String,
    /// How it was made (`original`, `coreset`, `prune`, `quant`, a user's method, `external`).
    pub method: String,
    /// The method's parameter (coreset fraction, pruning ratio, bit width, ...).
    pub parameter: Option<f64>,
    /// What the parameter is.
    pub parameter_name: Option<String>,
    /// Test accuracy, when known.
    pub accuracy: Option<f64>,
    /// Cosine similarity of its weights with the reference's, when known.
    pub weight_similarity: Option<f64>,
    /// Layers by name, each N × D.
    pub layers: Vec<(String, L)>,
    /// The layer of `layers` that holds the logits (N × K), for the baselines, pseudo-labels and
    /// accuracy.
    pub logits: Option<String>,
    /// Where it came from (a file name), for messages.
    pub source: String,
}

impl<L> ModelInput<L> {
    /// A model known only by its activations: method `external`, no parameter, accuracy, weight
    /// similarity or logits (set those with struct update syntax).
    pub fn new(
        name: impl Into<String>,
        source: impl Into<String>,
        layers: Vec<(String, L)>,
    ) -> Self {
        ModelInput {
            name: name.into(),
            method: "external".into(),
            parameter: None,
            parameter_name: None,
            accuracy: None,
            weight_similarity: None,
            layers,
            logits: None,
            source: source.into(),
        }
    }

    /// The layer named `name`.
    pub fn layer(&self, name: &str) -> Option<&L> {
        self.layers.iter().find(|(k, _)| k == name).map(|(_, a)| a)
    }

    /// The logits, N × K.
    pub fn logits(&self) -> Option<&L> {
        self.logits.as_deref().and_then(|l| self.layer(l))
    }

    /// The same model with the layers `layers` (its name, method, accuracy and source kept).
    pub fn with_layers<M>(&self, layers: Vec<(String, M)>) -> ModelInput<M> {
        ModelInput {
            name: self.name.clone(),
            method: self.method.clone(),
            parameter: self.parameter,
            parameter_name: self.parameter_name.clone(),
            accuracy: self.accuracy,
            weight_similarity: self.weight_similarity,
            layers,
            logits: self.logits.clone(),
            source: self.source.clone(),
        }
    }
}

/// A model whose layers are read in row chunks.
pub type StreamedModel<'a> = ModelInput<Box<dyn RowSource + 'a>>;

/// The model name of an activation file: its name without folders and without the last extension.
pub fn model_name(file: &str) -> &str {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_are_file_stems() {
        assert_eq!(model_name("runs/a/ref.npz"), "ref");
        assert_eq!(model_name(r"C:\runs\quant-4.safetensors"), "quant-4");
        assert_eq!(model_name("prune-0.5.npy"), "prune-0.5");
        assert_eq!(model_name("noext"), "noext");
        assert_eq!(model_name(".hidden"), ".hidden");
    }
}
