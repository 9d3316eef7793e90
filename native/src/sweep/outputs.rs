//! The sweep's final outputs: weight histograms on a shared range, the snapshot, Tables 1–3
//! (`tables.md`, also printed) and `results.json`.

use super::Run;
use crate::analyze::table;
use crate::output_file::write_atomic;
use anyhow::Result;
use reps::analysis::{analyze, AnalysisInput, AnalysisOptions, InferenceOptions};
use reps::formats::snapshot::{self, SnapshotModel};
use reps::histogram::{rebin, shared_histogram_range, HISTOGRAM_BINS};

/// Writes `sweep.reps`, `tables.md` and `results.json` and prints the tables.
pub(super) fn write_all(
    run: &Run,
    mut models: Vec<SnapshotModel>,
    made_now: usize,
    seconds: f64,
) -> Result<()> {
    let out = &run.paths.root;
    let snapshot_path = out.join("sweep.reps");
    if made_now == 0 && snapshot_path.exists() && out.join("tables.md").exists() {
        // Nothing new: print what is there and rewrite nothing.
        print!("{}", std::fs::read_to_string(out.join("tables.md"))?);
        return Ok(());
    }
    // Each model file holds a fine histogram on the model's own range: count them again onto
    // the range shared by all models. (Model files of earlier versions have none; their models
    // are left out of Figure 1.)
    let (lo, hi) = shared_histogram_range(models.iter().filter_map(|m| m.histogram.as_ref()));
    for m in &mut models {
        m.histogram = m
            .histogram
            .as_ref()
            .map(|h| rebin(h, lo, hi, HISTOGRAM_BINS))
            .transpose()?;
    }
    let snap = run.snapshot(models);
    write_atomic(&snapshot_path, &snapshot::encode(&snap)?)?;
    let name = snapshot_path.display().to_string();
    let description = snap.description(&name);
    let accuracies: Vec<(String, Option<f64>)> = snap
        .models
        .iter()
        .map(|m| (m.name.clone(), m.accuracy))
        .collect();
    let input = AnalysisInput::from_snapshot(&name, snap)?;
    // With the statistics `native analyze` adds by default (intervals, the stable regime, the
    // claims), so that tables.md and results.json say how far to trust Table 2.
    let report = analyze(&input, &AnalysisOptions::default())?
        .with_inference(&InferenceOptions::default())?;
    let tables = table::render(&report, &description);
    let md = format!(
        "# train-sweep results\n\nPreset `{:?}`, {} epochs, batch {}, lr {}, {} training and {} test images; this run made {} models in {:.0} s.\n\n```text\n{}```\n",
        run.cfg.preset,
        run.cfg.epochs,
        run.cfg.batch_size,
        run.cfg.lr,
        run.data.train.len(),
        run.data.test.len(),
        made_now,
        seconds,
        tables
    );
    write_atomic(&out.join("tables.md"), md.as_bytes())?;
    let results = serde_json::json!({
        "config": run.cfg,
        "train_images": run.data.train.len(),
        "test_images": run.data.test.len(),
        "accuracies": accuracies,
        "report": report,
    });
    write_atomic(
        &out.join("results.json"),
        serde_json::to_string_pretty(&results)?.as_bytes(),
    )?;
    print!("{md}");
    eprintln!(
        "wrote {}, tables.md and results.json in {}",
        snapshot_path.display(),
        out.display()
    );
    Ok(())
}
