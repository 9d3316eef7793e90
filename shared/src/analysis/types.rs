//! The report of an analysis and its parts (the JSON schema of docs/DESIGN.md §4): what one
//! model's comparison with the reference gives, the baselines, where the labels came from, and
//! the progress of a running analysis; the claims, the inference's settings and results, and
//! Table 3's rows. Data only: this module imports nothing of `analysis` but the method grouping
//! and the named map, so that every other module can use it without import circles.

use super::methods::{method_groups, model_identity_from_fields, MethodGroup};
use super::named_map::NamedMap;
use crate::metrics::{LayerComparison, PerComponent};
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

/// Progress of a running analysis: `done` of `total` (model, layer) steps, and the current step.
#[derive(Clone, Debug)]
pub struct Progress<'a> {
    pub done: usize,
    pub total: usize,
    pub model: &'a str,
    pub layer: &'a str,
}

/// What the data say about a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every interval the claim rests on lies on its side.
    Holds,
    /// An interval lies entirely on the other side.
    Fails,
    /// The intervals decide nothing (they straddle the line, or are missing).
    Undecided,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Fails => "fails",
            Verdict::Undecided => "undecided",
        }
    }
}

/// One claim of the paper and what the data say about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// A stable identifier (`reps_strongest_plcc`, `stable_then_cliff:prune`, ...).
    pub id: String,
    /// The claim in words.
    pub statement: String,
    pub verdict: Verdict,
    /// The numbers behind the verdict.
    pub evidence: String,
}

/// How the inference is run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InferenceOptions {
    /// Bootstrap resamples over models (0: no intervals; at most [`MAX_RESAMPLES`]).
    pub bootstrap: usize,
    /// Random permutations of the accuracy drops (0: no p-values; at most [`MAX_RESAMPLES`]).
    pub permutations: usize,
    /// Seed of the generator: the same seed gives the same numbers on every platform.
    pub seed: u64,
    /// The stable regime: models whose accuracy drop is at most this.
    pub stable_drop: f64,
}

impl Default for InferenceOptions {
    fn default() -> Self {
        InferenceOptions {
            bootstrap: 10_000,
            permutations: 10_000,
            seed: 0,
            stable_drop: 0.05,
        }
    }
}

/// Table 2 over the models in the stable regime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StableCorrelations {
    /// The largest accuracy drop counted as stable.
    pub max_drop: f64,
    /// The models used (accuracy drop at most `max_drop`), in report order.
    pub models: Vec<String>,
    /// Why there are no correlations (fewer than [`MIN_STABLE_MODELS`] models, unknown accuracy).
    pub reason: Option<String>,
    /// One entry per score, as in `Report::correlations`.
    pub correlations: NamedMap<Correlations>,
}

/// Score `a` against score `b`: which correlates more strongly (PLCC) with accuracy drop?
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreComparison {
    pub a: String,
    pub b: String,
    /// `|PLCC_a| − |PLCC_b|` on all compressed models.
    pub diff: Option<f64>,
    /// Its paired percentile bootstrap interval.
    pub diff_ci: Option<[f64; 2]>,
    /// Steiger's Z of the oriented correlations (each score times its expected sign, so that
    /// tracking damage is positive; equal to the absolute correlations when both scores move the
    /// expected way), and its two-sided p-value.
    pub steiger_z: Option<f64>,
    pub steiger_p: Option<f64>,
    /// Why a value is missing.
    pub reason: Option<String>,
}

/// One row of Table 3: a weight configuration and the PLCC of model-level REPS against accuracy drop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensitivityRow {
    pub name: String,
    pub weights: PerComponent<f64>,
    pub plcc: Option<f64>,
    /// Why `plcc` is missing, when it is.
    pub reason: Option<String>,
    /// The percentile bootstrap interval of `plcc` over models, after inference
    /// (`Report::with_inference`).
    pub plcc_ci: Option<[f64; 2]>,
}

/// The best weights on the simplex and an honest estimate of how well they generalise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BestWeights {
    /// Weights (α, β, γ, δ) on the grid of step 0.05 with the most negative PLCC against drop
    /// (REPS is a similarity, so a strong predictor correlates negatively with accuracy drop).
    pub weights: PerComponent<f64>,
    /// Their in-sample PLCC (optimistic: chosen on the same models).
    pub plcc: f64,
    /// Leave-one-model-out PLCC: each model's REPS computed with the weights chosen on the other
    /// models, then correlated with the drops. `None` with fewer than 4 models.
    pub loo_plcc: Option<f64>,
}
