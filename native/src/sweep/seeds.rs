//! `--seeds`: one sub-sweep per seed under `DIR/seed-<s>/` (each made, sharded and merged like
//! any sweep), and their summary `DIR/summary.json` and `DIR/summary.md`
//! ([`reps::analysis::summarize_seeds`]).

use super::config::SweepConfig;
use super::summary;
use super::Stage;
use crate::output_file::write_atomic;
use anyhow::{Context, Result};
use candle_core::Device;
use reps::analysis::{InferenceOptions, Report};
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

/// Reads every seed's `results.json` and writes `summary.json` and `summary.md`.
fn write_summary(out: &Path, seeds: &[u64]) -> Result<()> {
    let reports = seeds
        .iter()
        .map(|&s| read_report(&seed_dir(out, s)))
        .collect::<Result<Vec<Report>>>()?;
    let summary = reps::analysis::summarize_seeds(seeds, &reports, &InferenceOptions::default())?;
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

/// The analysis report in a finished sweep's `results.json`.
fn read_report(dir: &Path) -> Result<Report> {
    let path = dir.join("results.json");
    let text = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut v: serde_json::Value =
        serde_json::from_slice(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    serde_json::from_value::<Report>(v["report"].take())
        .with_context(|| format!("{}: no sweep report in it", path.display()))
}
