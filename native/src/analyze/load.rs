//! Reading `analyze`'s input files into a `reps::AnalysisInput` (the logic is `reps`'s, shared with
//! the viewer).

use anyhow::{Context, Result};
use reps::analysis::{open_files, OpenedFiles};
use reps::formats::read_labels;
use std::path::Path;

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Loads one snapshot, or one activation file per model ([`reps::analysis::open_files`]), plus
/// optional labels.
pub fn load_inputs(inputs: &[std::path::PathBuf], labels: Option<&Path>) -> Result<OpenedFiles> {
    let labels = labels
        .map(|p| -> Result<_> {
            let name = p.display().to_string();
            Ok((read_labels(&name, &read(p)?)?, name))
        })
        .transpose()?;
    let files = inputs
        .iter()
        .map(|p| Ok((p.display().to_string(), read(p)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(open_files(&files, labels)?)
}
