//! `reps.analyze`: the report of `native analyze`, from paths and in-memory models, through the
//! same functions of crate `reps` in the same order.

use crate::inputs::{
    memory_models, model_files, read_file, Item, Labels, MemoryModel, LABELS_ARRAY,
};
use reps::analysis::{
    analyze_with_progress, compare_models_streamed, open_files, sample_bootstrap, InferenceOptions,
    Progress, StreamedModel,
};
use reps::formats::snapshot::MAGIC;
use reps::formats::stream::{open_streamed, ByteSource, FileSource, GivenLabels};
use reps::formats::{read_label_array, read_labels, ReadBudget};
use reps::{AnalysisInput, AnalysisOptions, Report, RepsError};
use std::path::Path;

/// Everything `reps.analyze` takes besides the models and the labels.
pub struct Settings {
    pub options: AnalysisOptions,
    pub inference: InferenceOptions,
    /// Read every axis but the last as samples (`native analyze --tokens`).
    pub tokens: bool,
    /// Use the streamed analysis (`--stream`; always with `tokens`).
    pub stream: bool,
    pub sample_bootstrap: Option<usize>,
    /// Keep the paper's claims in the report.
    pub claims: bool,
    /// The reading budget in bytes (`--max-memory`).
    pub max_memory: u64,
}

/// The full report, as `native analyze --format json` computes it. `check` is called after every
/// (model, layer) step and every resample of the samples (it may unwind to stop the work).
pub fn analyze(
    items: &[Item],
    labels: Option<Labels>,
    attention_mask: Option<reps::formats::RawArray>,
    s: &Settings,
    check: &mut dyn FnMut(),
) -> Result<Report, RepsError> {
    let mut budget = ReadBudget::new(s.max_memory);
    let (report, warnings) = if s.stream || s.tokens {
        if s.sample_bootstrap.is_some() {
            return Err(RepsError::Option {
                option: "sample_bootstrap",
                reason: "resamples the samples in memory; leave stream and tokens off to use it"
                    .into(),
            });
        }
        streamed(items, labels, attention_mask, s, &mut budget, &mut |_| {
            check()
        })?
    } else {
        if attention_mask.is_some() {
            return Err(RepsError::Option {
                option: "attention_mask",
                reason: "masks tokens; pass tokens=True with it".into(),
            });
        }
        in_memory(items, labels, s, &mut budget, check)?
    };
    let mut report = report.with_inference(&s.inference)?;
    report.notes.extend(warnings);
    if !s.claims {
        report.claims.clear();
    }
    Ok(report)
}

/// The in-memory analysis (`native analyze` without `--stream`): one snapshot, or model files
/// and in-memory models in any mix.
fn in_memory(
    items: &[Item],
    labels: Option<Labels>,
    s: &Settings,
    budget: &mut ReadBudget,
    check: &mut dyn FnMut(),
) -> Result<(Report, Vec<String>), RepsError> {
    let labels = labels_of(labels, budget)?;
    let (input, warnings) = match split(items) {
        // Files only: exactly `native analyze`'s reading (one snapshot, or one file per model).
        (paths, memory) if memory.is_empty() => {
            let files = paths
                .iter()
                .map(|p| Ok((p.display().to_string(), read_file(p, budget)?)))
                .collect::<Result<Vec<_>, RepsError>>()?;
            let opened = open_files(&files, labels, budget)?;
            (opened.input, opened.warnings)
        }
        _ => {
            let (files, warnings) = model_files(items, budget)?;
            (AnalysisInput::from_model_files(files, labels)?, warnings)
        }
    };
    let mut report = analyze_with_progress(&input, &s.options, &mut |_| check())?;
    if let Some(b) = s.sample_bootstrap {
        sample_bootstrap(&input, &mut report, b, s.inference.seed, &mut |_, _| {
            check()
        })?;
    }
    Ok((report, warnings))
}

/// Labels for the in-memory analysis: a labels file read as `native analyze --labels` reads
/// it, or an array.
pub fn labels_of(
    labels: Option<Labels>,
    budget: &mut ReadBudget,
) -> Result<Option<(Vec<u32>, String)>, RepsError> {
    Ok(match labels {
        None => None,
        Some(Labels::Path(p)) => {
            let name = p.display().to_string();
            let bytes = read_file(&p, budget)?;
            Some((read_labels(&name, &bytes, budget)?, name))
        }
        Some(Labels::Array(a)) => Some((
            reps::formats::parse_labels(LABELS_ARRAY, "labels", &a)?,
            LABELS_ARRAY.to_string(),
        )),
    })
}

/// Whether `path` starts with a snapshot's magic bytes.
fn is_snapshot(path: &Path) -> bool {
    FileSource::open(path).is_ok_and(|f| {
        let mut head = [0u8; 8];
        f.len() >= 8 && f.read_at(0, &mut head).is_ok() && &head == MAGIC
    })
}

/// The items given by path and those given in memory.
fn split(items: &[Item]) -> (Vec<&Path>, Vec<&MemoryModel>) {
    let mut paths = Vec::new();
    let mut memory = Vec::new();
    for item in items {
        match item {
            Item::Path(p) => paths.push(p.as_path()),
            Item::Model(m) => memory.push(m),
        }
    }
    (paths, memory)
}

/// The streamed analysis (`native analyze --stream` / `--tokens`): every model a file, read in
/// row chunks from disk, or every model in memory, read in row chunks from there.
fn streamed(
    items: &[Item],
    labels: Option<Labels>,
    attention_mask: Option<reps::formats::RawArray>,
    s: &Settings,
    budget: &mut ReadBudget,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(Report, Vec<String>), RepsError> {
    let (paths, memory) = split(items);
    if !paths.is_empty() && !memory.is_empty() {
        return Err(RepsError::Invalid(
            "with tokens or stream, give every model as a path or every model in memory, not a mix"
                .into(),
        ));
    }
    if memory.is_empty() {
        if attention_mask.is_some() {
            return Err(RepsError::Option {
                option: "attention_mask",
                reason: "applies to models in memory; files carry their own attention_mask array"
                    .into(),
            });
        }
        let sources = paths
            .iter()
            .map(|p| FileSource::open(p))
            .collect::<Result<Vec<_>, _>>()?;
        for (source, path) in sources.iter().zip(&paths) {
            if is_snapshot(path) {
                return Err(RepsError::File {
                    file: source.name().to_string(),
                    reason: "is a .reps snapshot; tokens and stream read per-model activation files (.npz, .npy, .safetensors); analyse a snapshot without them".into(),
                });
            }
        }
        let given = match labels {
            None => None,
            Some(Labels::Path(p)) => {
                let file = p.display().to_string();
                let bytes = read_file(&p, budget)?;
                let (key, array) = read_label_array(&file, &bytes, budget)?;
                Some(GivenLabels { file, key, array })
            }
            Some(Labels::Array(array)) => Some(GivenLabels {
                file: LABELS_ARRAY.into(),
                key: "labels".into(),
                array,
            }),
        };
        let sources: Vec<&dyn ByteSource> = sources.iter().map(|s| s as &dyn ByteSource).collect();
        let input = open_streamed(
            &sources,
            Some(s.tokens),
            given,
            s.options.layers.as_deref(),
            budget,
        )?;
        let report = compare(&input.models, input.labels.clone(), s, progress)?;
        return Ok((report, input.warnings));
    }
    let labels = match labels {
        None => None,
        Some(Labels::Array(a)) => Some(a),
        Some(Labels::Path(p)) => {
            let file = p.display().to_string();
            let bytes = read_file(&p, budget)?;
            Some(read_label_array(&file, &bytes, budget)?.1)
        }
    };
    let (models, labels) = memory_models(&memory, s.tokens, attention_mask, labels)?;
    let sources: Vec<StreamedModel<'_>> = models.iter().map(|m| m.as_row_sources()).collect();
    Ok((compare(&sources, labels, s, progress)?, Vec::new()))
}

/// The comparisons of streamed models and their report.
fn compare(
    models: &[StreamedModel<'_>],
    labels: Option<(Vec<u32>, String)>,
    s: &Settings,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Report, RepsError> {
    let comparisons = compare_models_streamed(models, labels, &s.options, None, progress)?;
    comparisons.report(&comparisons.layers, s.options.user_weights)
}
