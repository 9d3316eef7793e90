//! The sweep's final outputs: weight histograms on a shared range, the snapshot, Tables 1–3
//! (`tables.md`, also printed) and `results.json`.

use super::make::Run;
use super::manifest::{Manifest, Unusable};
use crate::analyze::table;
use crate::output_file::write_atomic;
use anyhow::Result;
use reps::analysis::{analyze, AnalysisInput, AnalysisOptions, InferenceOptions};
use reps::formats::snapshot::{self, SnapshotModel};
use reps::histogram::{rebin, shared_histogram_range, HISTOGRAM_BINS};

/// The sweep's final outputs, made from its models.
pub(super) const FINAL_OUTPUTS: [&str; 3] = ["sweep.reps", "tables.md", "results.json"];

/// Writes `sweep.reps`, `tables.md` and `results.json`, records them in the manifest and prints
/// the tables. When no model was made in this run and all three still have the content the
/// manifest recorded, they are printed and not rewritten; one missing or changed is rebuilt (with
/// the others) from the verified models, and the log says why.
pub(super) fn write_all(
    run: &Run,
    manifest: &mut Manifest,
    mut models: Vec<SnapshotModel>,
    made_now: usize,
) -> Result<()> {
    let out = &run.paths.root;
    let snapshot_path = out.join("sweep.reps");
    if made_now == 0 {
        let checking = std::time::Instant::now();
        let checked: Vec<_> = FINAL_OUTPUTS
            .iter()
            .map(|f| (f, manifest.verified(out, f)))
            .collect();
        // Made from other models (a shard made one again since): rebuilt.
        let current = manifest.outputs_from.as_deref() == Some(&manifest.models_digest());
        match checked.iter().find(|(_, r)| r.is_err()) {
            None if !current => {
                run.paths
                    .log("the models changed since the outputs were written; rebuilt")?;
            }
            None => {
                run.paths.log(&format!(
                    "{} verified against the manifest ({:.2} s); nothing to do",
                    FINAL_OUTPUTS.join(", "),
                    checking.elapsed().as_secs_f64()
                ))?;
                let tables = checked[1].1.as_ref().expect("verified");
                print!("{}", String::from_utf8_lossy(tables));
                return Ok(());
            }
            // Never written (a first merge): nothing to say.
            Some((f, Err(Unusable::Unrecorded))) if !out.join(f).exists() => {}
            Some((f, Err(why))) => {
                run.paths
                    .log(&format!("{f}: {}; rebuilt from the models", why.reason()))?;
            }
            Some(_) => unreachable!("found an error"),
        }
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
    let snapshot_bytes = snapshot::encode(&snap)?;
    write_atomic(&snapshot_path, &snapshot_bytes)?;
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
    let options = AnalysisOptions {
        layers: Some(run.arch.default_layers.map(String::from).to_vec()),
        ..AnalysisOptions::default()
    };
    let report = analyze(&input, &options)?.with_inference(&InferenceOptions::default())?;
    let tables = table::render(&report, &description);
    let md = format!(
        "# train-sweep results\n\nPreset `{:?}`, {} epochs, batch {}, lr {}, {} training and {} test images.\n\n```text\n{}```\n",
        run.cfg.preset,
        run.cfg.epochs,
        run.cfg.batch_size,
        run.cfg.lr,
        run.data.train.len(),
        run.data.test.len(),
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
    let results = serde_json::to_string_pretty(&results)?;
    write_atomic(&out.join("results.json"), results.as_bytes())?;
    for (name, content) in
        FINAL_OUTPUTS
            .iter()
            .zip([snapshot_bytes.as_slice(), md.as_bytes(), results.as_bytes()])
    {
        manifest.record(name, content);
    }
    manifest.outputs_from = Some(manifest.models_digest());
    manifest.write(out)?;
    print!("{md}");
    eprintln!(
        "wrote {}, tables.md and results.json in {}",
        snapshot_path.display(),
        out.display()
    );
    Ok(())
}
