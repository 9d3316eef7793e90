//! `analyze --stream` / `--tokens`: per-model files read in row chunks from disk
//! (`reps::analysis::compare_models_streamed`), never whole.

use super::flag_error;
use crate::cli::AnalyzeArgs;
use crate::input_file::FileSource;
use anyhow::{bail, Result};
use reps::analysis::{compare_models_streamed, model_name, Progress, StreamedModel};
use reps::formats::stream::{open_streamed_model, ByteSource, StreamedFile};
use reps::formats::ReadBudget;
use reps::{AnalysisOptions, Report};

/// What the streamed analysis read and found.
pub struct Streamed {
    pub report: Report,
    /// One line about the inputs, for the table's heading.
    pub description: String,
    /// Arrays left out, and why.
    pub warnings: Vec<String>,
}

/// Runs the streamed analysis of `args.inputs` (one file per model).
pub fn analyze(
    args: &AnalyzeArgs,
    options: &AnalysisOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Streamed> {
    if args.sample_bootstrap.is_some() {
        bail!("--sample-bootstrap resamples the samples in memory; leave out --stream and --tokens to use it");
    }
    let sources = args
        .inputs
        .iter()
        .map(|p| FileSource::open(p))
        .collect::<Result<Vec<_>>>()?;
    for s in &sources {
        let mut head = [0u8; 8];
        if s.len() >= 8
            && s.read_at(0, &mut head).is_ok()
            && &head == reps::formats::snapshot::MAGIC
        {
            bail!(
                "{}: is a .reps snapshot; --stream and --tokens read per-model activation files (.npz, .npy, .safetensors); analyse a snapshot without them",
                s.name()
            );
        }
    }
    let mut budget = ReadBudget::new(args.memory.bytes());
    let given_labels = args
        .labels
        .as_deref()
        .map(|p| super::load::load_labels(p, &mut budget))
        .transpose()?;
    let files = sources
        .iter()
        .map(|s| {
            open_streamed_model(s, model_name(s.name()), args.tokens, &mut budget)
                .map_err(flag_error)
        })
        .collect::<Result<Vec<StreamedFile<'_>>>>()?;
    let labels = agree_on_labels(&files, given_labels)?;
    agree_on_masks(&files)?;
    claim_working_memory(&files, options, &mut budget)?;
    let mut warnings = Vec::new();
    let mut models: Vec<StreamedModel<'_>> = Vec::with_capacity(files.len());
    for f in files {
        warnings.extend(
            f.skipped
                .iter()
                .map(|s| format!("{}: array {s}", f.model.source)),
        );
        models.push(f.model);
    }
    let n = models[0].layers.first().map_or(0, |(_, l)| l.rows());
    let comparisons =
        compare_models_streamed(&models, labels, options, None, progress).map_err(flag_error)?;
    let report = comparisons
        .report(&comparisons.layers, options.user_weights)
        .map_err(flag_error)?;
    let unit = if args.tokens { "tokens" } else { "samples" };
    Ok(Streamed {
        report,
        description: format!(
            "{} activation files ({n} {unit}, read in row chunks)",
            models.len()
        ),
        warnings,
    })
}

/// The labels: `--labels`, else the first file's; every file's labels must be the same.
fn agree_on_labels(
    files: &[StreamedFile<'_>],
    given: Option<(Vec<u32>, String)>,
) -> Result<Option<(Vec<u32>, String)>> {
    let mut found = given;
    for f in files {
        let Some(l) = &f.labels else { continue };
        match &found {
            None => found = Some((l.clone(), f.model.source.clone())),
            Some((existing, from)) => {
                if let Some(i) = (0..l.len().min(existing.len())).find(|&i| l[i] != existing[i]) {
                    bail!(
                        "{}: label of sample {i} is {}, but {from} has {}",
                        f.model.source,
                        l[i],
                        existing[i]
                    );
                }
            }
        }
    }
    Ok(found)
}

/// Every file has the same attention mask, or none has one.
fn agree_on_masks(files: &[StreamedFile<'_>]) -> Result<()> {
    let first = &files[0];
    for f in &files[1..] {
        match (&first.mask, &f.mask) {
            (None, None) => {}
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) if a.len() == b.len() => {
                let i = (0..a.len()).find(|&i| a[i] != b[i]).unwrap_or(0);
                bail!(
                    "{}: attention_mask differs from {}'s at token {i}; the models must see the same tokens",
                    f.model.source,
                    first.model.source
                );
            }
            (Some(_), None) | (None, Some(_)) => {
                let (with, without) = if first.mask.is_some() {
                    (first, f)
                } else {
                    (f, first)
                };
                bail!(
                    "{} has an attention_mask and {} has none; give every file the same mask",
                    with.model.source,
                    without.model.source
                );
            }
            _ => {} // different token counts: reported with the layer shapes
        }
    }
    Ok(())
}

/// Claims the memory of the widest analysed layer: three D × D f64 matrices where N > D, two
/// N × D ones (a model's and the reference's) where N ≤ D.
fn claim_working_memory(
    files: &[StreamedFile<'_>],
    options: &AnalysisOptions,
    budget: &mut ReadBudget,
) -> Result<()> {
    let reference = &files[0].model;
    let widest = reference
        .layers
        .iter()
        .filter(|(k, _)| options.layers.as_ref().is_none_or(|l| l.contains(k)))
        .map(|(k, l)| {
            let (n, d) = (l.rows() as u64, l.cols() as u64);
            let need = if n > d { 3 * d * d * 8 } else { 2 * n * d * 8 };
            (need, k)
        })
        .max();
    if let Some((need, key)) = widest {
        budget
            .claim(
                &reference.source,
                &format!("the analysis of layer '{key}'"),
                need,
            )
            .map_err(flag_error)?;
    }
    Ok(())
}
