//! The report of an analysis and its parts (the JSON schema of docs/DESIGN.md §4): what one
//! model's comparison with the reference gives, the baselines, where the labels came from, and
//! the progress of a running analysis.

use super::claims::Claim;
use super::inference::{InferenceOptions, ScoreComparison, StableCorrelations};
use super::methods::{method_groups, model_identity_from_fields, MethodGroup};
use super::named_map::NamedMap;
use super::scores::score;
use super::sensitivity::{BestWeights, SensitivityRow};
use crate::metrics::{LayerComparison, PerComponent, COMPONENTS};
use crate::stats::Correlations;
use serde::{Deserialize, Serialize};

/// Where the labels for class separation came from (docs/DESIGN.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelSource {
    /// True labels given with the data.
    Labels,
    /// The reference model's argmax predictions.
    Pseudo,
    /// None: class separation is left out and the other weights renormalised.
    None,
}

impl LabelSource {
    /// What class separation used, in words (the CLI's tables and the viewer say the same).
    pub fn describe(self) -> &'static str {
        match self {
            LabelSource::Labels => "true labels",
            LabelSource::Pseudo => "pseudo-labels (the reference's predictions)",
            LabelSource::None => "none (class separation left out)",
        }
    }
}

/// Baseline similarities of one model to the reference (`None` where the inputs are missing).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Baselines {
    pub prediction_agreement: Option<f64>,
    pub logits_cosine: Option<f64>,
    pub logits_l2: Option<f64>,
    pub kl_divergence: Option<f64>,
    pub wasserstein: Option<f64>,
    pub weight_similarity: Option<f64>,
}

/// One model's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    pub name: String,
    /// The same as `method`: the name of this field before methods became open strings, kept for
    /// one more release so that existing readers of the JSON keep working.
    pub kind: String,
    /// How the model was made: `original`, `coreset`, `prune`, `quant`, a user's own method
    /// (`distill`, `lowrank`, ...), or `external` when its file does not say.
    pub method: String,
    /// The method's parameter (coreset fraction, pruning ratio, bit width, ...).
    pub parameter: Option<f64>,
    /// What the parameter is (`fraction`, `ratio`, `bits`, or as the file says).
    pub parameter_name: Option<String>,
    pub accuracy: Option<f64>,
    /// `acc_ref − acc_model`.
    pub accuracy_drop: Option<f64>,
    /// Model-level REPS (mean of per-layer REPS) with the paper's weighted variant.
    pub reps_weighted: Option<f64>,
    /// ... with equal weights.
    pub reps_equal: Option<f64>,
    /// ... with the user's weights, when given.
    pub reps_user: Option<f64>,
    /// A 95% percentile bootstrap interval of `reps_weighted` over the analysed samples (the same
    /// resampled rows for the reference and the model), when asked for
    /// (`analysis::sample_bootstrap`).
    pub reps_ci: Option<[f64; 2]>,
    /// Components averaged over layers.
    pub effective_rank: f64,
    pub alive: f64,
    pub separation: Option<f64>,
    pub decay: f64,
    /// CKA averaged over layers.
    pub cka: f64,
    pub cka_debiased: Option<f64>,
    pub layers: NamedMap<LayerComparison>,
    pub baselines: Baselines,
}

/// The whole analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub reference: String,
    pub label_source: LabelSource,
    pub layers: Vec<String>,
    pub top_m: u32,
    pub user_weights: Option<[f64; 4]>,
    pub models: Vec<ModelReport>,
    /// One entry per model-level score, against accuracy drop, over the models other than the reference.
    pub correlations: NamedMap<Correlations>,
    pub sensitivity: Vec<SensitivityRow>,
    pub best_weights: Option<BestWeights>,
    /// How the intervals, p-values and claims were computed; `None` when they were not
    /// ([`Report::with_inference`]).
    pub inference: Option<InferenceOptions>,
    /// Table 2 over the models in the stable regime (after inference).
    pub correlations_stable: Option<StableCorrelations>,
    /// REPS against every other score, keyed `<a>_vs_<b>` (after inference).
    pub comparisons: NamedMap<ScoreComparison>,
    /// The paper's claims checked on these models (after inference).
    pub claims: Vec<Claim>,
    /// Things the reader should know (accuracies computed from labels, missing inputs, ...).
    pub notes: Vec<String>,
}

impl Report {
    /// The methods of the models other than the reference, in the order they first appear, each
    /// with its models: the column groups of Table 1 and the series of the charts
    /// ([`method_groups`]).
    pub fn methods(&self) -> Vec<MethodGroup<'_, ModelReport>> {
        method_groups(&self.models, &self.reference)
    }
}

model_identity_from_fields!([] ModelReport);

impl ModelReport {
    /// The model-level component scores in `metrics::COMPONENTS` order (their model-level
    /// scores in the registry).
    pub fn components(&self) -> PerComponent<Option<f64>> {
        std::array::from_fn(|k| score(COMPONENTS[k].key).and_then(|s| (s.of_model)(self)))
    }
}

/// Progress of a running analysis: `done` of `total` (model, layer) steps, and the current step.
#[derive(Clone, Debug)]
pub struct Progress<'a> {
    pub done: usize,
    pub total: usize,
    pub model: &'a str,
    pub layer: &'a str,
}
