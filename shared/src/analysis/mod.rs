//! The full analysis: every model against the reference on the chosen layers, the baselines, the
//! correlations with accuracy drop (Table 2) and the weight sensitivity (Table 3).

mod claims;
mod distributions;
mod inference;
mod input;
mod methods;
mod model_level;
mod named_map;
mod open;
mod reference;
mod report;
mod sample_bootstrap;
mod scores;
mod seeds;
mod sensitivity;
mod setup;
mod streamed;
mod types;

pub use crate::model_input::{model_name, ModelInput, StreamedModel};
pub use claims::{PARAMETER_DIRECTIONS, ROBUST_PLCC};
pub use distributions::{is_stable, LEVEL};
pub use inference::{COMPARED, MIN_STABLE_MODELS};
pub use input::{
    default_layers, shared_layers, AnalysisInput, AnalysisOptions, DEFAULT_LAYER_PAIRS,
    PAPER_LAYERS,
};
pub use methods::{method_groups, MethodGroup, ModelIdentity};
pub use named_map::NamedMap;
pub use open::{open_files, open_snapshot, OpenedFiles};
pub use reference::Reference;
pub use report::{
    analyze, analyze_with_progress, compare_layers_of, compare_models, compare_models_with,
    Comparisons, LayerResults, ModelComparisons, ModelLayers,
};
pub use sample_bootstrap::{sample_bootstrap, sample_bootstrap_at};
pub use scores::{score, scores_present, Score, ScoreGroup, Worse, SCORES};
pub use seeds::{
    mean_sd, pool_results, summarize_seeds, MeanSd, SeedCorrelations, SeedModel, SeedSummary,
};
pub use sensitivity::{best_weights, sensitivity_row, sensitivity_table, TABLE3, USER_ROW};
pub use streamed::{chunk_rows_for, compare_models_streamed};
pub use types::{
    Baselines, BestWeights, Claim, InferenceOptions, LabelSource, ModelReport, Progress, Report,
    ScoreComparison, SensitivityRow, StableCorrelations, Verdict,
};
