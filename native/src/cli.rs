//! Command-line arguments.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// reps: how did compression change a network's internal representations?
///
/// Computes the REPS metric (effective rank, alive neurons, class separation, eigenvalue decay),
/// linear CKA and the paper's baselines between a reference model and compressed models, and how
/// well each score tracks accuracy drop.
#[derive(Debug, Parser)]
#[command(name = "native", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse a `.reps` snapshot, or one activation file per model (.npz, .npy, .safetensors).
    ///
    /// Per-model files: every float array whose first axis is N is a layer (flattened per
    /// sample); reserved keys are `labels` (N integers), `logits` (N × K; also analysed as the
    /// layer `logits`) and `accuracy` (a scalar). The model name is the file stem.
    #[command(
        after_help = "Examples:\n  native analyze runs/quick/sweep.reps\n  native analyze ref.npz pruned.npz quant4.npz --format json --out report.json\n  native analyze a.npz b.npz --labels labels.npy --layers layer3,fc --weights 0.25,0.25,0.25,0.25"
    )]
    Analyze(AnalyzeArgs),
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// One `.reps` snapshot, or one activation file per model; the first file is the reference
    /// unless --reference names another.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Name of the reference model (a file stem, or a model name inside the snapshot).
    #[arg(long, value_name = "NAME")]
    pub reference: Option<String>,

    /// Labels of the N samples (.npy of integers, or .npz/.safetensors with a `labels` array).
    /// Without labels, the reference model's predictions are used as pseudo-labels; without
    /// logits either, class separation is left out.
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,

    /// Comma-separated layers to analyse. Default: `layer4.1.conv2,fc` (the paper's) when every
    /// model has both, else every layer that all models share.
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub layers: Option<Vec<String>>,

    /// Number of leading eigenvalues M in the eigenvalue-decay fit.
    #[arg(long, value_name = "M", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub top_m: u32,

    /// Your own REPS weights for (effective rank, alive, separation, decay), e.g. 0.4,0,0.3,0.3;
    /// rescaled to sum 1. Reported as `reps_user` and in the sensitivity table.
    #[arg(long, value_name = "A,B,C,D")]
    pub weights: Option<String>,

    /// Output format: aligned tables for reading, JSON for programs, CSV (one row per model and
    /// layer) for spreadsheets.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the output to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}
