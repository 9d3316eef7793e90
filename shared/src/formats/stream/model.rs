//! A per-model activation file opened for streaming: its layers as [`RowSource`]s over the file,
//! its reserved arrays read whole (docs/DESIGN.md §3), and, with `tokens`, every axis but the last
//! taken as samples with the padding of an `attention_mask` left out.

use super::entries::{list_entries, Entry};
use super::rows::RowReader;
use super::source::ByteSource;
use crate::activations::{RowChunks, RowSource};
use crate::error::{RepsError, Result};
use crate::formats::array::{ArrayData, RawArray};
use crate::formats::budget::ReadBudget;
use crate::formats::model_file::{parse_labels, read_description, RESERVED_KEYS};
use crate::model_input::StreamedModel;
use std::sync::Arc;

/// The reserved key of a token file: which tokens are real (1) and which are padding (0), shape
/// `(B, T)` like the leading axes of its layers.
pub const ATTENTION_MASK: &str = "attention_mask";

/// What [`open_streamed_model`] read.
pub struct StreamedFile<'a> {
    pub model: StreamedModel<'a>,
    /// Labels of the kept samples (key `labels`; per token with `tokens`).
    pub labels: Option<Vec<u32>>,
    /// Which of the file's samples are kept (`attention_mask`), when it has a mask.
    pub mask: Option<Arc<Vec<bool>>>,
    /// The sample axes (`(B, T)` with tokens, else `(N,)`), before the mask.
    pub grid: Vec<usize>,
    /// Arrays that are not layers, and why (`key: reason`).
    pub skipped: Vec<String>,
    /// Whether it was read as tokens.
    pub tokens: bool,
}

/// Opens the file of one model for [`compare_models_streamed`](crate::analysis::compare_models_streamed).
///
/// Without `tokens`, a layer is a float array of rank ≥ 2 whose first axis is N, flattened per
/// sample, as [`read_model_file`](crate::formats::read_model_file) reads it. With `tokens`, the
/// samples are all axes but the last: a `(B, T, H)` array is N = B·T rows of D = H, and every
/// layer must have the same leading axes `(B, T)` as the first (the logits', when there are
/// logits). `attention_mask` (0/1, shape `(B, T)`) then drops the padding tokens from every
/// layer, and `labels` may be per token (`(B, T)`; the labels of padding tokens are not read,
/// so PyTorch's −100 there is fine). `tokens: None` reads a file as tokens when it has an
/// `attention_mask` (the viewer's rule). The reserved arrays are read whole, claiming from
/// `budget`; the layers are only described.
pub fn open_streamed_model<'a>(
    source: &'a dyn ByteSource,
    name: &str,
    tokens: Option<bool>,
    budget: &mut ReadBudget,
) -> Result<StreamedFile<'a>> {
    let file = source.name();
    let entries = list_entries(source)?;
    let tokens = tokens.unwrap_or_else(|| entries.iter().any(|e| e.key == ATTENTION_MASK));
    let whole = |key: &str, budget: &mut ReadBudget| -> Result<Option<RawArray>> {
        entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.read_whole(source, budget))
            .transpose()
    };
    let description = read_description(file, &mut |key| whole(key, budget))?;
    let is_layer = |e: &Entry| {
        !RESERVED_KEYS.contains(&e.key.as_str())
            && e.key != ATTENTION_MASK
            && e.layout.float.is_some()
    };
    // The sample axes: the logits' leading axes, else the first layer's.
    let grid_of = |e: &Entry| -> Vec<usize> {
        if tokens {
            e.shape[..e.shape.len() - 1].to_vec()
        } else {
            e.shape[..1].to_vec()
        }
    };
    let Some(grid) = entries
        .iter()
        .filter(|e| is_layer(e) && e.shape.len() >= 2)
        .min_by_key(|e| e.key != "logits")
        .map(grid_of)
    else {
        return Err(RepsError::file(
            file,
            "holds no activation array (a float array of shape N × ...)",
        ));
    };
    let samples: usize = grid.iter().product();
    let mask = if tokens {
        whole(ATTENTION_MASK, budget)?
            .map(|m| parse_mask(file, &m, &grid))
            .transpose()?
            .map(Arc::new)
    } else {
        None
    };
    let kept = mask
        .as_ref()
        .map_or(samples, |m| m.iter().filter(|&&k| k).count());
    let labels = match whole("labels", budget)? {
        None => None,
        Some(l) if tokens => Some(parse_token_labels(
            file,
            &l,
            &grid,
            mask.as_deref().map(|m| m.as_slice()),
        )?),
        Some(l) => Some(parse_labels(file, "labels", &l)?),
    };
    let mut layers: Vec<(String, Box<dyn RowSource + 'a>)> = Vec::new();
    let mut skipped = Vec::new();
    for e in &entries {
        if !is_layer(e) {
            continue;
        }
        let reason = if e.shape.len() < 2 {
            Some(format!("rank {} (a layer needs N × ...)", e.shape.len()))
        } else if grid_of(e) != grid {
            Some(format!(
                "leading axes {:?} differ from the samples {grid:?} of this file",
                grid_of(e)
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            if e.key == "logits" {
                return Err(RepsError::array(file, &e.key, reason));
            }
            skipped.push(format!("{}: {reason}", e.key));
            continue;
        }
        let sample_shape = e.shape[grid.len()..].to_vec();
        layers.push((
            e.key.clone(),
            Box::new(FileLayer {
                source,
                entry: e.clone(),
                row_len: sample_shape.iter().product(),
                sample_shape,
                rows: kept,
                keep: mask.clone(),
            }),
        ));
    }
    let logits = layers
        .iter()
        .any(|(k, _)| k == "logits")
        .then(|| "logits".to_string());
    Ok(StreamedFile {
        model: StreamedModel {
            name: name.to_string(),
            method: description.method.unwrap_or_else(|| "external".into()),
            parameter: description.parameter,
            parameter_name: description.parameter_name,
            accuracy: description.accuracy,
            weight_similarity: None,
            layers,
            logits,
            source: file.to_string(),
        },
        labels,
        mask,
        grid,
        skipped,
        tokens,
    })
}

/// The 0/1 values of an attention mask of shape `grid` (integers, booleans stored as integers,
/// or floats), as keep flags.
pub fn parse_mask(file: &str, a: &RawArray, grid: &[usize]) -> Result<Vec<bool>> {
    let err = |r: String| RepsError::array(file, ATTENTION_MASK, r);
    if a.shape != grid {
        return Err(err(format!(
            "shape {:?} differs from the samples {grid:?} of the layers",
            a.shape
        )));
    }
    let value = |i: usize| -> Option<f64> {
        match &a.data {
            ArrayData::Int(v) => Some(v[i] as f64),
            ArrayData::F32(v) => Some(v[i] as f64),
            ArrayData::F64(v) => Some(v[i]),
            ArrayData::Text(_) => None,
        }
    };
    (0..a.data.len())
        .map(|i| match value(i) {
            Some(0.0) => Ok(false),
            Some(1.0) => Ok(true),
            Some(v) => Err(err(format!("value {v} at position {i} is not 0 or 1"))),
            None => Err(err("must be numbers (0 or 1), got text".into())),
        })
        .collect()
}

/// Per-token labels of shape `grid` (or flat), of the kept tokens only (`keep`: the attention
/// mask's flags; the labels of padding tokens are not read, so PyTorch's −100 there is fine).
pub fn parse_token_labels(
    file: &str,
    a: &RawArray,
    grid: &[usize],
    keep: Option<&[bool]>,
) -> Result<Vec<u32>> {
    let total: usize = grid.iter().product();
    if a.shape != grid && a.shape != [total] {
        return Err(RepsError::array(
            file,
            "labels",
            format!(
                "per-token labels must have shape {grid:?}, got {:?}",
                a.shape
            ),
        ));
    }
    let kept: Vec<usize> = (0..total).filter(|&i| keep.is_none_or(|k| k[i])).collect();
    let data = match &a.data {
        ArrayData::Int(v) => ArrayData::Int(kept.iter().map(|&i| v[i]).collect()),
        ArrayData::F32(v) => ArrayData::F32(kept.iter().map(|&i| v[i]).collect()),
        ArrayData::F64(v) => ArrayData::F64(kept.iter().map(|&i| v[i]).collect()),
        ArrayData::Text(_) => ArrayData::Text(Vec::new()),
    };
    let flat = RawArray::new(vec![kept.len()], data)?;
    parse_labels(file, "labels", &flat)
}

/// One layer of a file, read in row chunks with the padding rows left out.
struct FileLayer<'a> {
    source: &'a dyn ByteSource,
    entry: Entry,
    row_len: usize,
    sample_shape: Vec<usize>,
    /// Rows after masking.
    rows: usize,
    keep: Option<Arc<Vec<bool>>>,
}

impl RowSource for FileLayer<'_> {
    fn rows(&self) -> usize {
        self.rows
    }
    fn sample_shape(&self) -> &[usize] {
        &self.sample_shape
    }
    fn open(&self) -> Result<Box<dyn RowChunks + '_>> {
        Ok(Box::new(MaskedRows {
            reader: RowReader::new(self.source, &self.entry, self.row_len)?,
            keep: self.keep.as_deref().map(|k| k.as_slice()),
            pending: Vec::new(),
            row_len: self.row_len,
        }))
    }
    fn describe(&self) -> String {
        format!("{}: array '{}'", self.source.name(), self.entry.key)
    }
}

/// Rows of a file, the masked ones skipped: each call returns exactly `max_rows` kept rows
/// until the last.
struct MaskedRows<'a> {
    reader: RowReader<'a>,
    keep: Option<&'a [bool]>,
    pending: Vec<f64>,
    row_len: usize,
}

impl RowChunks for MaskedRows<'_> {
    fn next_rows(&mut self, max_rows: usize, out: &mut Vec<f64>) -> Result<usize> {
        let Some(keep) = self.keep else {
            return self.reader.next_rows(max_rows, out);
        };
        out.clear();
        let mut got = 0;
        while got < max_rows {
            let first = self.reader.position();
            if self.reader.next_rows(max_rows - got, &mut self.pending)? == 0 {
                break;
            }
            for (r, row) in self.pending.chunks_exact(self.row_len).enumerate() {
                if keep[first + r] {
                    out.extend_from_slice(row);
                    got += 1;
                }
            }
        }
        Ok(got)
    }
}
