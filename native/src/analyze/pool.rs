//! `analyze --pool`: several finished sweeps that differ only in their seed, summarised and
//! pooled as `train-sweep --seeds` does ([`reps::analysis::pool_results`]).

use crate::sweep::summary;
use anyhow::{bail, Context, Result};
use reps::analysis::{InferenceOptions, SeedSummary};
use std::path::PathBuf;

/// The sweep directories `inputs` name: a finished sweep (it has `results.json`) is itself; a
/// `train-sweep --seeds` directory stands for its `seed-<s>/` sweeps, in the order of their seeds.
fn sweep_dirs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.join("results.json").is_file() {
            out.push(input.clone());
            continue;
        }
        let entries = std::fs::read_dir(input)
            .with_context(|| format!("{}: not a sweep directory", input.display()))?;
        let mut seeds: Vec<(u64, PathBuf)> = Vec::new();
        for e in entries {
            let e = e.with_context(|| format!("cannot list {}", input.display()))?;
            let name = e.file_name();
            let seed = name
                .to_str()
                .and_then(|n| n.strip_prefix("seed-"))
                .and_then(|s| s.parse::<u64>().ok());
            if let Some(seed) = seed.filter(|_| e.path().join("results.json").is_file()) {
                seeds.push((seed, e.path()));
            }
        }
        if seeds.is_empty() {
            bail!(
                "{}: not a finished sweep (no results.json, and no seed-<s>/ sweep with one)",
                input.display()
            );
        }
        seeds.sort();
        out.extend(seeds.into_iter().map(|(_, d)| d));
    }
    Ok(out)
}

/// Reads the `results.json` of the sweeps `inputs` name and pools them
/// ([`reps::analysis::pool_results`]: settings that differ in the seed alone, ordered by seed).
pub fn summarize(inputs: &[PathBuf], options: &InferenceOptions) -> Result<SeedSummary> {
    crate::sweep::seeds::pool_dirs(&sweep_dirs(inputs)?, options)
}

/// The output of `analyze --pool` in `json` or Markdown form: what `train-sweep --seeds` writes
/// to `summary.json` and `summary.md`.
pub fn render(summary: &SeedSummary, json: bool) -> Result<String> {
    if json {
        summary::json(summary)
    } else {
        Ok(summary::render(summary))
    }
}
