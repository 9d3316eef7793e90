//! The flags of `native search`.

use crate::cli::DeviceChoice;
use std::path::PathBuf;

/// Flags of `native search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// A sweep directory (`native train-sweep --out`): its original model's checkpoint and its
    /// settings (dataset, architecture, seed) are reused; nothing is trained.
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,

    /// The compression applied layer by layer: prune, quant, lowrank or channel-prune (a method
    /// that derives weights from the original; coreset trains and cannot be searched).
    #[arg(long, value_name = "M", required_unless_present = "apply")]
    pub method: Option<String>,

    /// The model's budget to reach, weighted by parameter count over every weight tensor:
    /// overall sparsity for prune and channel-prune (e.g. 0.9), average bits for quant (e.g. 3),
    /// kept share of parameters for lowrank (e.g. 0.3).
    #[arg(long, value_name = "B", conflicts_with = "min_reps")]
    pub budget: Option<f64>,

    /// Instead of a budget: compress as far as REPS (weighted, on the calibration images) stays
    /// at or above T; the REPS strategy's final budget is then every other strategy's.
    #[arg(long, value_name = "T")]
    pub min_reps: Option<f64>,

    /// With --min-reps: compare the lower end of REPS's sample-bootstrap interval at this level
    /// with T instead of REPS itself (e.g. 0.95).
    #[arg(long, value_name = "LEVEL", requires = "min_reps")]
    pub confidence: Option<f64>,

    /// The levels each layer may take, least to most compressed (defaults: prune 0.05..0.95 and
    /// channel-prune 0.05..0.9 in steps of 0.05; quant bits 8..2; lowrank keep 0.95..0.05).
    #[arg(long, value_name = "V,...", value_delimiter = ',')]
    pub ladder: Option<Vec<f64>>,

    /// Training images (never test images) the candidates are measured on, without their labels
    /// except by the `labels` strategy.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub calibration: usize,

    /// The strategies compared at the same budget: reps, agreement, cka (the greedy search
    /// driven by that score against the original, label-free), uniform (one level for every
    /// layer), global (prune and channel-prune: the method's own global threshold), labels (the
    /// greedy search driven by calibration accuracy, which uses labels), or any score key of
    /// `native analyze` (e.g. logits_cosine). Default: all five named, and global where the
    /// method has it.
    #[arg(long, value_name = "S,...", value_delimiter = ',')]
    pub strategies: Option<Vec<String>>,

    /// Also measure every layer's next step on the current candidate after every K steps (0, the
    /// default: never). The move about to be taken is always measured on the current candidate
    /// first, and taken only when its measured cost is still the least.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub refresh: usize,

    /// Bootstrap resamples of the test images for the paired accuracy intervals.
    #[arg(long, value_name = "B", default_value_t = 2000)]
    pub resamples: usize,

    /// Rebuild the model of a recipe (`recipe-<strategy>.json`) instead of searching: its
    /// checkpoint is written into --out, byte for byte the search's.
    #[arg(long, value_name = "RECIPE", conflicts_with_all = ["method", "budget", "min_reps", "ladder", "strategies"])]
    pub apply: Option<PathBuf>,

    /// Where the outputs go (search.json, search.md, recipes, checkpoints, search.reps).
    #[arg(long, value_name = "OUT")]
    pub out: PathBuf,

    /// Where tensors live.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    pub device: DeviceChoice,
}
