//! Opening the files of one streamed analysis together (the command line's `--stream` and
//! `--tokens`, and the viewer's files over 1 GiB): every file as a model, the labels and the
//! attention masks checked to agree, and the working memory claimed.

use super::model::{open_streamed_model, parse_token_labels, StreamedFile};
use super::source::ByteSource;
use crate::error::{RepsError, Result};
use crate::formats::budget::ReadBudget;
use crate::formats::model_file::parse_labels;
use crate::formats::RawArray;
use crate::model_input::{model_name, StreamedModel};

/// What [`open_streamed`] read.
pub struct StreamedInput<'a> {
    pub models: Vec<StreamedModel<'a>>,
    /// The labels and where they came from: given, else the first file's.
    pub labels: Option<(Vec<u32>, String)>,
    /// Arrays left out, and why (`file: array key: reason`).
    pub warnings: Vec<String>,
    /// N: samples (tokens, after masking).
    pub samples: usize,
    /// Whether the files were read as tokens.
    pub tokens: bool,
}

/// Opens `sources` (one per model, named by [`model_name`]) with [`open_streamed_model`]
/// (`tokens` as there):
/// `given` labels win, else the first file's, and every file's labels must equal them; every file
/// has the same attention mask or none has one. Then claims from `budget` what analysing the
/// widest of `layers` (all when `None`) will hold: three D × D f64 matrices where N > D, two N × D
/// ones where N ≤ D, so that a layer too wide for the budget is an error naming it before
/// anything is allocated.
pub fn open_streamed<'a>(
    sources: &[&'a dyn ByteSource],
    tokens: Option<bool>,
    given: Option<GivenLabels>,
    layers: Option<&[String]>,
    budget: &mut ReadBudget,
) -> Result<StreamedInput<'a>> {
    if sources.is_empty() {
        return Err(RepsError::Invalid("no file given".into()));
    }
    let files = sources
        .iter()
        .map(|s| open_streamed_model(*s, model_name(s.name()), tokens, budget))
        .collect::<Result<Vec<StreamedFile<'a>>>>()?;
    let given = given.map(|g| g.interpret(&files[0])).transpose()?;
    let labels = agree_on_labels(&files, given)?;
    agree_on_masks(&files)?;
    claim_working_memory(&files, layers, budget)?;
    let samples = files[0].model.layers.first().map_or(0, |(_, l)| l.rows());
    let tokens = files[0].tokens;
    let mut warnings = Vec::new();
    let mut models = Vec::with_capacity(files.len());
    for f in files {
        warnings.extend(
            f.skipped
                .iter()
                .map(|s| format!("{}: array {s}", f.model.source)),
        );
        models.push(f.model);
    }
    Ok(StreamedInput {
        models,
        labels,
        warnings,
        samples,
        tokens,
    })
}

/// Labels given apart from the activation files (`native analyze --labels`): the array as its
/// file holds it (`formats::read_label_array`), interpreted like a `labels` array inside the
/// files. With tokens it may be per token (`(B, T)`, or flat over all B·T tokens; the labels of
/// padding tokens are not read, so PyTorch's −100 there is fine) or one per kept token.
#[derive(Clone, Debug)]
pub struct GivenLabels {
    pub file: String,
    pub key: String,
    pub array: RawArray,
}

impl GivenLabels {
    /// The labels of the kept samples of `first` (the files agree on their samples).
    fn interpret(self, first: &StreamedFile<'_>) -> Result<(Vec<u32>, String)> {
        let total: usize = first.grid.iter().product();
        let kept = first
            .mask
            .as_ref()
            .map_or(total, |m| m.iter().filter(|&&k| k).count());
        let per_kept_token = self.array.shape == [kept] && kept != total;
        let labels = if first.tokens && !per_kept_token {
            let keep = first.mask.as_deref().map(Vec::as_slice);
            parse_token_labels(&self.file, &self.array, &first.grid, keep)?
        } else {
            parse_labels(&self.file, &self.key, &self.array)?
        };
        Ok((labels, self.file))
    }
}

/// The labels: `given`, else the first file's; every file's labels must be the same.
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
                    return Err(RepsError::Mismatch {
                        file: f.model.source.clone(),
                        what: format!("the label of sample {i}"),
                        found: l[i].to_string(),
                        other_file: from.clone(),
                        expected: existing[i].to_string(),
                    });
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
                return Err(RepsError::file(
                    &f.model.source,
                    format!(
                        "attention_mask differs from {}'s at token {i}; the models must see the same tokens",
                        first.model.source
                    ),
                ));
            }
            (Some(_), None) | (None, Some(_)) => {
                let (with, without) = if first.mask.is_some() {
                    (first, f)
                } else {
                    (f, first)
                };
                return Err(RepsError::file(
                    &with.model.source,
                    format!(
                        "has an attention_mask and {} has none; give every file the same mask",
                        without.model.source
                    ),
                ));
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
    layers: Option<&[String]>,
    budget: &mut ReadBudget,
) -> Result<()> {
    let reference = &files[0].model;
    let widest = reference
        .layers
        .iter()
        .filter(|(k, _)| layers.is_none_or(|l| l.contains(k)))
        .map(|(k, l)| {
            let (n, d) = (l.rows() as u64, l.cols() as u64);
            let need = if n > d { 3 * d * d * 8 } else { 2 * n * d * 8 };
            (need, k)
        })
        .max();
    if let Some((need, key)) = widest {
        budget.claim(
            &reference.source,
            &format!("the analysis of layer '{key}'"),
            need,
        )?;
    }
    Ok(())
}
