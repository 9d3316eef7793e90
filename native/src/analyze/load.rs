//! Reading `analyze`'s input files into a `reps::AnalysisInput` (the logic is `reps`'s, shared with
//! the viewer), within a memory budget.

use crate::cli::flag_error;
use crate::input_file::{open_source, read_input};
use anyhow::Result;
use reps::analysis::{open_files, open_snapshot, OpenedFiles};
use reps::formats::stream::GivenLabels;
use reps::formats::{read_label_array, read_labels, ReadBudget};
use std::path::Path;

/// Loads one snapshot, or one activation file per model ([`reps::analysis::open_files`]), plus
/// optional labels. Every file's bytes and everything decoded from them are claimed from a budget
/// of `max_memory` bytes. A `.reps` file on its own is read layer by layer
/// ([`reps::analysis::open_snapshot`]): only its decoded values are held, not its bytes beside them.
pub fn load_inputs(
    inputs: &[std::path::PathBuf],
    labels: Option<&Path>,
    max_memory: u64,
) -> Result<OpenedFiles> {
    let mut budget = ReadBudget::new(max_memory);
    let labels = labels.map(|p| load_labels(p, &mut budget)).transpose()?;
    if let [path] = inputs {
        let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
        if regular && path.extension().is_some_and(|e| e == "reps") {
            let source = open_source(path)?;
            return open_snapshot(&source, labels, &mut budget).map_err(flag_error);
        }
    }
    let files = inputs
        .iter()
        .map(|p| Ok((p.display().to_string(), read_input(p, &mut budget)?)))
        .collect::<Result<Vec<_>>>()?;
    open_files(&files, labels, &mut budget).map_err(flag_error)
}

/// The labels of `--labels FILE` with the file's name, claimed from `budget`.
pub fn load_labels(path: &Path, budget: &mut ReadBudget) -> Result<(Vec<u32>, String)> {
    let name = path.display().to_string();
    let bytes = read_input(path, budget)?;
    Ok((
        read_labels(&name, &bytes, budget).map_err(flag_error)?,
        name,
    ))
}

/// The `--labels` array as the file holds it, for the streamed analysis, which interprets it
/// against the activation files (per token with `--tokens`; `reps::formats::stream::GivenLabels`).
pub fn load_label_array(path: &Path, budget: &mut ReadBudget) -> Result<GivenLabels> {
    let file = path.display().to_string();
    let bytes = read_input(path, budget)?;
    let (key, array) = read_label_array(&file, &bytes, budget).map_err(flag_error)?;
    Ok(GivenLabels { file, key, array })
}
