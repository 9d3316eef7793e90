//! Reading `analyze`'s input files into a `reps::AnalysisInput`.

use anyhow::{bail, Context, Result};
use reps::formats::{detect_kind, read_labels, read_model_file, snapshot, FileKind};
use reps::AnalysisInput;
use std::path::Path;

/// The analysis input, what it is (for the table header) and notes for the user.
pub struct Loaded {
    pub input: AnalysisInput,
    pub description: String,
    pub warnings: Vec<String>,
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Loads one snapshot, or one activation file per model, plus optional labels.
pub fn load_inputs(inputs: &[std::path::PathBuf], labels: Option<&Path>) -> Result<Loaded> {
    let labels = labels
        .map(|p| -> Result<_> {
            let name = p.display().to_string();
            Ok((read_labels(&name, &read(p)?)?, name))
        })
        .transpose()?;
    let first = &inputs[0];
    let first_bytes = read(first)?;
    let first_name = first.display().to_string();
    if detect_kind(&first_name, &first_bytes)? == FileKind::Snapshot {
        if inputs.len() > 1 {
            bail!(
                "{first_name} is a .reps snapshot: analyse it on its own, without other input files"
            );
        }
        let snap = snapshot::decode(&first_name, &first_bytes)?;
        let mut input = AnalysisInput::from_snapshot(&first_name, &snap)?;
        if let Some(l) = labels {
            input.labels = Some(l);
            input.check_consistent()?;
        }
        let description = format!(
            "{} · {} (width {}) · {} · seed {} · {} models · N = {}",
            first_name,
            snap.architecture,
            snap.width,
            snap.dataset,
            snap.seed,
            snap.models.len(),
            snap.sample_indices.len()
        );
        return Ok(Loaded {
            input,
            description,
            warnings: Vec::new(),
        });
    }
    let mut files = Vec::with_capacity(inputs.len());
    let mut warnings = Vec::new();
    for (i, path) in inputs.iter().enumerate() {
        let name = path.display().to_string();
        let bytes = if i == 0 {
            first_bytes.clone()
        } else {
            read(path)?
        };
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.clone());
        let model = read_model_file(&name, &stem, &bytes)?;
        for s in &model.skipped {
            warnings.push(format!("{name}: array '{}' skipped: {}", s.key, s.reason));
        }
        files.push(model);
    }
    let n = files.len();
    let input = AnalysisInput::from_model_files(files, labels)?;
    Ok(Loaded {
        input,
        description: format!("{n} activation file{}", if n == 1 { "" } else { "s" }),
        warnings,
    })
}
