//! Turning the files a user gives (`native analyze` arguments, files dropped on the viewer) into an
//! analysis input: one `.reps` snapshot, or one activation file per model.

use super::input::AnalysisInput;
use crate::error::{RepsError, Result};
use crate::formats::stream::ByteSource;
use crate::formats::{detect_kind, read_model_file, snapshot, FileKind, ReadBudget};
use crate::histogram::WeightHistogram;
use crate::model_input::model_name;

/// What [`open_files`] read.
#[derive(Clone, Debug)]
pub struct OpenedFiles {
    pub input: AnalysisInput,
    /// One line about what was read: the snapshot's provenance, or the number of files.
    pub description: String,
    /// Weight histograms by model (snapshots only).
    pub histograms: Vec<(String, WeightHistogram)>,
    /// Arrays of activation files that were left out, and why (`file: array 'k' skipped: …`).
    pub warnings: Vec<String>,
}

/// A `.reps` snapshot read from `source` (`snapshot::read`: a version-4 file layer by layer,
/// without holding its bytes whole), opened as [`open_files`] opens one given in memory; `labels`
/// replace the snapshot's own.
pub fn open_snapshot(
    source: &dyn ByteSource,
    labels: Option<(Vec<u32>, String)>,
    budget: &mut ReadBudget,
) -> Result<OpenedFiles> {
    let file = source.name();
    let mut head = [0u8; 10];
    let n = head.len().min(source.len() as usize);
    source
        .read_at(0, &mut head[..n])
        .map_err(|e| RepsError::file(file, format!("cannot read: {e}")))?;
    let version = snapshot::version(file, &head[..n])?;
    // Versions 1 to 3 are read whole before they are decoded.
    if version < 4 {
        budget.claim(file, "the file", source.len())?;
    }
    // Decoded, the values take about as much memory as they take in the file.
    budget.claim(file, "the decoded snapshot", source.len())?;
    opened_snapshot(file, version, snapshot::read(source)?, labels)
}

/// What [`open_files`] and [`open_snapshot`] return for the decoded snapshot `s` of format
/// `version`, read from `file`: a warning when the version carries no checksum, the snapshot's
/// description and histograms, and its models with `labels` in place of its own, if given.
fn opened_snapshot(
    file: &str,
    version: u16,
    s: snapshot::Snapshot,
    labels: Option<(Vec<u32>, String)>,
) -> Result<OpenedFiles> {
    let mut warnings = Vec::new();
    if !snapshot::has_checksum(version) {
        warnings.push(format!(
            "{file}: snapshot format version {version} carries no checksum, so its integrity cannot be verified (snapshots written by this version carry one)"
        ));
    }
    let description = s.description(file);
    let histograms = s.histograms();
    let mut input = AnalysisInput::from_snapshot(file, s)?;
    if labels.is_some() {
        input.labels = labels;
        input.check_consistent()?;
    }
    Ok(OpenedFiles {
        input,
        description,
        histograms,
        warnings,
    })
}

/// `files` as `(name, bytes)`: a single `.reps` snapshot (with its labels and histograms), or one
/// activation file per model (`.npz`, `.npy`, `.safetensors`; the first is the reference, each
/// model named by [`model_name`]). A snapshot among other files is an error naming it. `labels`
/// (values, source) replace a snapshot's labels, and must agree with labels stored in activation
/// files. What is decoded is claimed from `budget` (the bytes of `files` are the caller's to
/// claim). A snapshot of a format version without a checksum is read with a warning saying so.
pub fn open_files(
    files: &[(String, Vec<u8>)],
    labels: Option<(Vec<u32>, String)>,
    budget: &mut ReadBudget,
) -> Result<OpenedFiles> {
    let Some((first_name, first)) = files.first() else {
        return Err(RepsError::Invalid("no file given".into()));
    };
    if detect_kind(first_name, first)? == FileKind::Snapshot {
        if files.len() > 1 {
            return Err(RepsError::File {
                file: first_name.clone(),
                reason: "is a .reps snapshot: analyse it on its own, without other input files"
                    .into(),
            });
        }
        // Decoded, the values take about as much memory as they take in the file (whose bytes
        // are the caller's).
        budget.claim(first_name, "the decoded snapshot", first.len() as u64)?;
        let version = snapshot::version(first_name, first)?;
        let s = snapshot::decode(first_name, first)?;
        return opened_snapshot(first_name, version, s, labels);
    }
    let mut models = Vec::with_capacity(files.len());
    let mut warnings = Vec::new();
    for (name, bytes) in files {
        let model = read_model_file(name, model_name(name), bytes, budget)?;
        for s in &model.skipped {
            warnings.push(format!("{name}: array '{}' skipped: {}", s.key, s.reason));
        }
        models.push(model);
    }
    let n = models.len();
    Ok(OpenedFiles {
        input: AnalysisInput::from_model_files(models, labels)?,
        description: format!("{n} activation file{}", if n == 1 { "" } else { "s" }),
        histograms: Vec::new(),
        warnings,
    })
}
