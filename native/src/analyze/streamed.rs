//! `analyze --stream` / `--tokens`: per-model files read in row chunks from disk
//! (`reps::analysis::compare_models_streamed`), never whole.

use crate::cli::flag_error;
use crate::cli::AnalyzeArgs;
use crate::input_file::open_source;
use anyhow::{bail, Result};
use reps::analysis::{compare_models_streamed, Progress};
use reps::formats::stream::{open_streamed, ByteSource};
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
        .map(|p| open_source(p))
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
        .map(|p| super::load::load_label_array(p, &mut budget))
        .transpose()?;
    let sources: Vec<&dyn ByteSource> = sources.iter().map(|s| s as &dyn ByteSource).collect();
    let input = open_streamed(
        &sources,
        Some(args.tokens),
        given_labels,
        options.layers.as_deref(),
        &mut budget,
    )
    .map_err(flag_error)?;
    let (models, n) = (&input.models, input.samples);
    let comparisons =
        compare_models_streamed(models, input.labels.clone(), options, None, progress)
            .map_err(flag_error)?;
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
        warnings: input.warnings,
    })
}
