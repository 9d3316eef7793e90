//! The sweep's final outputs: weight histograms on a shared range, the snapshot, Tables 1–3
//! (`tables.md`, also printed) and `results.json`.

use super::Run;
use crate::analyze::table;
use crate::model::Network;
use crate::output_file::write_atomic;
use anyhow::Result;
use reps::analysis::{analyze, AnalysisInput, AnalysisOptions};
use reps::formats::snapshot::{self, SnapshotModel};
use reps::histogram::{shared_range, weight_histogram, HISTOGRAM_BINS};

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
    // Histograms need one range over all models: read every checkpoint's weights twice at most.
    let classes = run.data.class_names.len();
    let weights: Vec<Vec<f32>> = models
        .iter()
        .map(|m| {
            Network::load(
                &run.paths.checkpoint(&m.name),
                run.cfg.width,
                classes,
                &run.device,
            )?
            .flat_weights()
        })
        .collect::<Result<_>>()?;
    let (lo, hi) = shared_range(weights.iter().map(Vec::as_slice));
    for (m, w) in models.iter_mut().zip(&weights) {
        m.histogram = Some(weight_histogram(w, lo, hi, HISTOGRAM_BINS)?);
    }
    drop(weights);
    let snap = run.snapshot(models);
    write_atomic(&snapshot_path, &snapshot::encode(&snap)?)?;
    let name = snapshot_path.display().to_string();
    let input = AnalysisInput::from_snapshot(&name, &snap)?;
    let report = analyze(&input, &AnalysisOptions::default())?;
    let description = format!(
        "{} · resnet18 (width {}) · {} · seed {} · {} models · N = {}",
        name,
        run.cfg.width,
        snap.dataset,
        snap.seed,
        snap.models.len(),
        snap.sample_indices.len()
    );
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
        "accuracies": snap.models.iter().map(|m| (m.name.clone(), m.accuracy)).collect::<Vec<_>>(),
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
