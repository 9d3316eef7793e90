//! `--seeds`: one sub-sweep per seed under `DIR/seed-<s>/` (each made, sharded and merged like
//! any sweep), and their summary `DIR/summary.json` and `DIR/summary.md`
//! ([`reps::analysis::summarize_seeds`]).

use super::config::SweepConfig;
use super::Stage;
use crate::output_file::write_atomic;
use anyhow::{Context, Result};
use candle_core::Device;
use reps::analysis::{score, MeanSd, Report, SeedSummary};
use std::fmt::Write;
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
        .map(|&s| {
            let path = seed_dir(out, s).join("results.json");
            let text =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let mut v: serde_json::Value = serde_json::from_slice(&text)
                .with_context(|| format!("{}: not JSON", path.display()))?;
            serde_json::from_value::<Report>(v["report"].take())
                .with_context(|| format!("{}: no sweep report in it", path.display()))
        })
        .collect::<Result<Vec<Report>>>()?;
    let summary = reps::analysis::summarize_seeds(seeds, &reports)?;
    let json = serde_json::to_string_pretty(&summary)? + "\n";
    write_atomic(&out.join("summary.json"), json.as_bytes())?;
    let md = render(&summary);
    write_atomic(&out.join("summary.md"), md.as_bytes())?;
    print!("{md}");
    eprintln!(
        "wrote summary.json and summary.md over {} seeds in {}",
        seeds.len(),
        out.display()
    );
    Ok(())
}

/// `mean ± sd` with 4 decimals (`n/a` without a value; no `±` for one seed).
fn shown(m: &MeanSd) -> String {
    match (m.mean, m.sd) {
        (Some(mean), Some(sd)) => format!("{mean:.4} ± {sd:.4}"),
        (Some(mean), None) => format!("{mean:.4}"),
        _ => "n/a".into(),
    }
}

fn corr(c: &reps::stats::Correlations) -> String {
    let f = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.3}"));
    format!("{} / {} / {}", f(c.plcc), f(c.srcc), f(c.krcc))
}

/// The summary as Markdown: Table 1's accuracies and REPS over seeds, then Table 2 per seed and
/// pooled.
pub fn render(s: &SeedSummary) -> String {
    let seeds: Vec<String> = s.seeds.iter().map(|x| x.to_string()).collect();
    let mut md = format!(
        "# train-sweep summary over seeds {}\n\nMean ± sample standard deviation over the seeds; each seed's accuracy drop is against its own {}.\n\n",
        seeds.join(", "),
        s.reference
    );
    md += "| model | seeds | accuracy | accuracy drop | REPS (weighted) | REPS (equal) | CKA |\n|---|---|---|---|---|---|---|\n";
    for m in &s.models {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            m.name,
            m.accuracy.n,
            shown(&m.accuracy),
            shown(&m.accuracy_drop),
            shown(&m.reps_weighted),
            shown(&m.reps_equal),
            shown(&m.cka)
        );
    }
    md += "\n## Table 2: each score against accuracy drop (PLCC / SRCC / KRCC)\n\n| score |";
    for x in &seeds {
        let _ = write!(md, " seed {x} |");
    }
    md += " pooled |\n|---|";
    md += &"---|".repeat(seeds.len() + 1);
    md += "\n";
    for (key, c) in s.correlations.iter() {
        let label = score(key).map_or(key, |sc| sc.label);
        let _ = write!(md, "| {label} |");
        for p in &c.per_seed {
            let _ = write!(md, " {} |", corr(p));
        }
        let _ = writeln!(md, " {} |", corr(&c.pooled));
    }
    md
}
