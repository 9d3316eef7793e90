//! `native train-sweep`: train the original network (any registered architecture), make one
//! compressed model per value of each selected method's grid, evaluate them, extract activations,
//! and write the snapshot, `tables.md` and `results.json`.
//!
//! Every finished model is a file under `models/` (a one-model `.reps` snapshot) next to its
//! checkpoint under `checkpoints/`, both written atomically; a rerun of the same command skips
//! them, so a kill loses at most the model in progress. A training stopped by a signal
//! ([`crate::interrupt`]) writes `checkpoints/<model>.partial.safetensors` and continues from it.
//!
//! The work can be split over processes and machines sharing the directory ([`Stage`]): the
//! original, then shards of the compressed models in parallel, then the merge; its outputs are
//! byte-identical to those of one process.

pub mod config;
pub(crate) mod extract;
pub(crate) mod lock;
mod make;
pub(crate) mod manifest;
mod outputs;
mod plan;
pub mod seeds;
mod stage;
mod stages;
pub mod summary;

pub(crate) use make::snapshot_of;
pub use stage::Stage;
pub use stages::run;

use crate::data::{cifar, synthetic, Dataset};
use anyhow::Result;
use config::{DatasetChoice, SweepConfig};
use std::path::PathBuf;

/// Where a sweep writes. Files are named by their path relative to the root, `/`-separated, as
/// the manifest records them.
pub(crate) struct Paths {
    root: PathBuf,
    /// `sweep.log`, or a shard's own log under `logs/`.
    log_file: PathBuf,
}

impl Paths {
    pub(crate) fn model(name: &str) -> String {
        format!("models/{name}.reps")
    }
    pub(crate) fn checkpoint(name: &str) -> String {
        format!("checkpoints/{name}.safetensors")
    }
    /// The mid-training checkpoint of a training stopped by a signal.
    fn partial(name: &str) -> String {
        format!("checkpoints/{name}.partial.safetensors")
    }
    fn model_lock(name: &str) -> String {
        format!("locks/{name}.lock")
    }
    fn path(&self, relative: &str) -> PathBuf {
        manifest::path_of(&self.root, relative)
    }
    fn log(&self, line: &str) -> Result<()> {
        crate::output_file::append_line(&self.log_file, line)
    }
}

/// Loads the configured dataset, truncated to the configured sizes.
pub fn load_dataset(cfg: &SweepConfig) -> Result<Dataset> {
    let mut d = match cfg.dataset {
        DatasetChoice::Synthetic => synthetic::generate(
            cfg.seed,
            cfg.train_size.unwrap_or(10_000),
            cfg.test_size.unwrap_or(2_000),
        ),
        DatasetChoice::Cifar10 => cifar::load(cfg.data_dir.as_deref().expect("validated"))?,
    };
    if let Some(n) = cfg.train_size {
        d.train.truncate(n);
    }
    if let Some(n) = cfg.test_size {
        d.test.truncate(n);
    }
    Ok(d)
}

/// The error of a sweep stopped by a signal at a safe point, with what was kept (the process
/// then ends with [`interrupt::EXIT_STATUS`]).
#[derive(Debug)]
pub struct Interrupted(pub String);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}; rerun the same command to continue", self.0)
    }
}

impl std::error::Error for Interrupted {}
