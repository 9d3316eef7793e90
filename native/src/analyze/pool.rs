//! `analyze --pool`: several finished sweeps that differ only in their seed, summarised and
//! pooled as `train-sweep --seeds` does ([`reps::analysis::summarize_seeds`]).

use crate::sweep::config::SweepConfig;
use crate::sweep::seeds::read_report;
use crate::sweep::summary;
use anyhow::{bail, Context, Result};
use reps::analysis::{InferenceOptions, SeedSummary};
use std::path::{Path, PathBuf};

/// One sweep to pool: its directory and settings.
struct Sweep {
    dir: PathBuf,
    config: SweepConfig,
}

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

fn read_sweep(dir: &Path) -> Result<Sweep> {
    let path = dir.join("config.json");
    let text = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let config = serde_json::from_slice(&text)
        .with_context(|| format!("{}: not a sweep's settings", path.display()))?;
    Ok(Sweep {
        dir: dir.to_path_buf(),
        config,
    })
}

/// Reads the sweeps `inputs` name, checks that their settings differ in the seed alone, and
/// summarises them with `options`.
pub fn summarize(inputs: &[PathBuf], options: &InferenceOptions) -> Result<SeedSummary> {
    let sweeps = sweep_dirs(inputs)?
        .iter()
        .map(|d| read_sweep(d))
        .collect::<Result<Vec<Sweep>>>()?;
    let first = &sweeps[0];
    for s in &sweeps[1..] {
        let same_seed = SweepConfig {
            seed: first.config.seed,
            ..s.config.clone()
        };
        if let Some((name, here, there)) = same_seed.first_difference(&first.config) {
            bail!(
                "{} was made with --{name} {here}, {} with --{name} {there}: pooled sweeps may differ only in --seed",
                s.dir.display(),
                first.dir.display()
            );
        }
    }
    let seeds: Vec<u64> = sweeps.iter().map(|s| s.config.seed).collect();
    if let Some((a, b)) = reps::repeats::first_repeat(&seeds) {
        bail!(
            "{} and {} are both made with --seed {}: each seed may be pooled once",
            sweeps[a].dir.display(),
            sweeps[b].dir.display(),
            seeds[a]
        );
    }
    let reports = sweeps
        .iter()
        .map(|s| read_report(&s.dir))
        .collect::<Result<Vec<_>>>()?;
    Ok(reps::analysis::summarize_seeds(&seeds, &reports, options)?)
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
