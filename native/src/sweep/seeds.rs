//! `--seeds`: one sub-sweep per seed under `DIR/seed-<s>/` (each made, sharded and merged like
//! any sweep), and their summary `DIR/summary.json` and `DIR/summary.md`
//! ([`reps::analysis::pool_results`]).

use super::config::SweepConfig;
use super::summary;
use super::Stage;
use crate::output_file::write_atomic;
use anyhow::{Context, Result};
use candle_core::Device;
use reps::analysis::{InferenceOptions, SeedSummary};
use std::path::{Path, PathBuf};

/// The directory of `seed`'s sweep.
pub fn seed_dir(out: &Path, seed: u64) -> PathBuf {
    out.join(format!("seed-{seed}"))
}

/// Runs `stage` of the sweep `cfg` once per seed (its seed replaced), each into its own
/// directory, then, for a one-process run or a merge, writes the summary over the seeds.
pub fn run(
    cfg: &SweepConfig,
    out: &Path,
    device: Device,
    stage: Stage,
    seeds: &[u64],
    max_models: Option<usize>,
) -> Result<()> {
    if let Some((first, again)) = reps::repeats::first_repeat(seeds) {
        anyhow::bail!(
            "--seeds: {} is given twice (positions {} and {}); each seed makes one sweep",
            seeds[again],
            first + 1,
            again + 1
        );
    }
    for &seed in seeds {
        let cfg = SweepConfig {
            seed,
            ..cfg.clone()
        };
        super::run(
            &cfg,
            &seed_dir(out, seed),
            device.clone(),
            stage,
            max_models,
        )
        .with_context(|| format!("seed {seed}"))?;
    }
    if matches!(stage, Stage::All | Stage::Merge) && max_models.is_none() {
        write_summary(out, seeds)?;
    }
    Ok(())
}

/// Reads every seed's `results.json` and writes `summary.json` and `summary.md`: the pooling of
/// `analyze --pool` ([`reps::analysis::pool_results`], in ascending order of seed), so that the
/// two always agree.
fn write_summary(out: &Path, seeds: &[u64]) -> Result<()> {
    let dirs: Vec<PathBuf> = seeds.iter().map(|&s| seed_dir(out, s)).collect();
    let summary = pool_dirs(&dirs, &InferenceOptions::default())?;
    write_atomic(
        &out.join("summary.json"),
        summary::json(&summary)?.as_bytes(),
    )?;
    let md = summary::render(&summary);
    write_atomic(&out.join("summary.md"), md.as_bytes())?;
    print!("{md}");
    eprintln!(
        "wrote summary.json and summary.md over {} seeds in {}",
        seeds.len(),
        out.display()
    );
    Ok(())
}

/// The finished sweeps in `dirs` pooled from their `results.json`
/// ([`reps::analysis::pool_results`]).
pub fn pool_dirs(dirs: &[PathBuf], options: &InferenceOptions) -> Result<SeedSummary> {
    let files = dirs
        .iter()
        .map(|d| {
            let path = d.join("results.json");
            std::fs::read(&path)
                .with_context(|| format!("cannot read {}", path.display()))
                .map(|bytes| (path.display().to_string(), bytes))
        })
        .collect::<Result<Vec<(String, Vec<u8>)>>>()?;
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
        .collect();
    Ok(reps::analysis::pool_results(&borrowed, options)?)
}
