//! What a call passes in: model files by path and models in memory, turned into the inputs of
//! crate `reps` exactly as `native analyze` turns files into them.

use crate::arrays::{float_array, FloatArray};
use pyo3::prelude::*;
use reps::analysis::{model_name, ModelInput};
use reps::formats::stream::{parse_mask, parse_token_labels};
use reps::formats::{parse_labels, read_model_file, ModelFile, RawArray, ReadBudget};
use reps::{Activations, RepsError};
use std::path::{Path, PathBuf};

/// One entry of the `models` list.
pub enum Item {
    /// An activation file (`.npz`, `.npy`, `.safetensors`) or a `.reps` snapshot.
    Path(PathBuf),
    /// A `reps.Model`, as the Python layer flattens it.
    Model(MemoryModel),
}

/// A model given as arrays: `reps.Model` after the Python layer's conversion.
pub struct MemoryModel {
    pub name: String,
    pub layers: Vec<(String, FloatArray)>,
    /// The layer of `layers` that holds the logits.
    pub logits: Option<String>,
    /// The labels of its samples (int64), as a file's `labels` array.
    pub labels: Option<RawArray>,
    pub accuracy: Option<f64>,
    pub method: Option<String>,
    pub parameter: Option<f64>,
    pub parameter_name: Option<String>,
}

/// The tuple `(name, [(key, ndarray)], logits_key, labels, accuracy, method, parameter,
/// parameter_name)` that `reps/_api.py` passes for a model.
type ModelTuple<'py> = (
    String,
    Vec<(String, Bound<'py, PyAny>)>,
    Option<String>,
    Option<Bound<'py, PyAny>>,
    Option<f64>,
    Option<String>,
    Option<f64>,
    Option<String>,
);

impl Item {
    /// A path (`str`) or a model tuple.
    pub fn extract(obj: &Bound<'_, PyAny>) -> PyResult<Item> {
        if let Ok(path) = obj.extract::<PathBuf>() {
            return Ok(Item::Path(path));
        }
        let (name, arrays, logits, labels, accuracy, method, parameter, parameter_name): ModelTuple<
            '_,
        > = obj.extract()?;
        let labels = labels
            .map(|l| {
                crate::arrays::int_array(&l).ok_or_else(|| {
                    crate::error(RepsError::File {
                        file: source_of(&name),
                        reason: "labels: not an int64 ndarray".into(),
                    })
                })
            })
            .transpose()?;
        let mut layers = Vec::with_capacity(arrays.len());
        for (key, a) in arrays {
            let array = float_array(&a).ok_or_else(|| {
                crate::error(RepsError::File {
                    file: source_of(&name),
                    reason: format!("layer '{key}': not a C-contiguous float32/float64 ndarray"),
                })
            })?;
            layers.push((key, array));
        }
        Ok(Item::Model(MemoryModel {
            name,
            layers,
            logits,
            labels,
            accuracy,
            method,
            parameter,
            parameter_name,
        }))
    }
}

/// How an in-memory model is named in messages (where a file's name would be).
pub fn source_of(name: &str) -> String {
    format!("model '{name}'")
}

/// Labels given apart from the models.
pub enum Labels {
    /// A labels file, as `native analyze --labels` reads it.
    Path(PathBuf),
    /// An array (int64 after the Python layer's conversion).
    Array(RawArray),
}

/// Labels and where they came from, as crate `reps` takes them.
pub type LabelsFrom = (Vec<u32>, String);

/// The name messages give labels passed as an array.
pub const LABELS_ARRAY: &str = "labels";

/// Reads `path` whole, claiming its size from `budget` first (a regular file only).
pub fn read_file(path: &Path, budget: &mut ReadBudget) -> Result<Vec<u8>, RepsError> {
    let name = path.display().to_string();
    let cannot = |e: std::io::Error| RepsError::File {
        file: name.clone(),
        reason: format!("cannot read it: {e}"),
    };
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(RepsError::File {
            file: name,
            reason: "is not a regular file".into(),
        });
    }
    budget.claim(&name, "the file", meta.len())?;
    std::fs::read(path).map_err(cannot)
}

impl MemoryModel {
    fn source(&self) -> String {
        source_of(&self.name)
    }

    fn layer_error(&self, key: &str, reason: impl std::fmt::Display) -> RepsError {
        RepsError::File {
            file: self.source(),
            reason: format!("layer '{key}': {reason}"),
        }
    }

    /// The logits' layer: the one named so, else a layer called `logits` (as in files).
    fn logits_key(&self) -> Option<String> {
        self.logits.clone().or_else(|| {
            self.layers
                .iter()
                .any(|(k, _)| k == "logits")
                .then(|| "logits".to_string())
        })
    }

    /// The model with every layer `(N, ...)` flattened per sample, as a file's arrays are.
    pub fn per_sample(&self) -> Result<ModelInput, RepsError> {
        let layers = self
            .layers
            .iter()
            .map(|(key, a)| {
                let Some((&n, sample)) = a.shape.split_first().filter(|_| a.shape.len() >= 2)
                else {
                    return Err(self.layer_error(
                        key,
                        format!("a layer needs shape (N, ...), got {:?}", a.shape),
                    ));
                };
                let act = Activations::new(n, sample.to_vec(), a.values.clone())
                    .map_err(|e| self.layer_error(key, e))?;
                Ok((key.clone(), act))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.input(layers))
    }

    /// The model read as a language model's tokens: every axis but the last is a sample
    /// (`(B, T, H)` is B·T rows of H), as `native analyze --tokens` reads files; `keep` (the
    /// attention mask over `grid`) leaves the padding out, copying the kept rows.
    pub fn tokens(&self, grid: &[usize], keep: Option<&[bool]>) -> Result<ModelInput, RepsError> {
        let kept: Option<Vec<usize>> =
            keep.map(|k| (0..k.len()).filter(|&i| k[i]).collect::<Vec<_>>());
        let layers = self
            .layers
            .iter()
            .map(|(key, a)| {
                if a.shape.len() < 2 || a.shape[..a.shape.len() - 1] != *grid {
                    return Err(self.layer_error(
                        key,
                        format!(
                            "shape {:?}: read as tokens, its leading axes must be the samples {grid:?}",
                            a.shape
                        ),
                    ));
                }
                let total = grid.iter().product();
                let act = Activations::new(total, a.shape[grid.len()..].to_vec(), a.values.clone())
                    .map_err(|e| self.layer_error(key, e))?;
                Ok((
                    key.clone(),
                    match &kept {
                        Some(rows) => act.select_rows(rows),
                        None => act,
                    },
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.input(layers))
    }

    /// The sample axes of its arrays read as tokens: the logits' leading axes, else the first
    /// layer's.
    pub fn token_grid(&self) -> Result<Vec<usize>, RepsError> {
        let logits = self.logits_key();
        let (key, a) = self
            .layers
            .iter()
            .min_by_key(|(k, _)| Some(k) != logits.as_ref())
            .ok_or_else(|| RepsError::File {
                file: self.source(),
                reason: "has no layers".into(),
            })?;
        match a.shape.split_last() {
            Some((_, lead)) if !lead.is_empty() => Ok(lead.to_vec()),
            _ => Err(self.layer_error(
                key,
                format!(
                    "read as tokens, a layer needs shape (..., H), got {:?}",
                    a.shape
                ),
            )),
        }
    }

    fn input(&self, layers: Vec<(String, Activations)>) -> ModelInput {
        ModelInput {
            name: self.name.clone(),
            method: self.method.clone().unwrap_or_else(|| "external".into()),
            parameter: self.parameter,
            parameter_name: self.parameter_name.clone(),
            accuracy: self.accuracy,
            weight_similarity: None,
            logits: self.logits_key(),
            layers,
            source: self.source(),
        }
    }

    /// As a [`ModelFile`] (what a file of the same arrays reads as), for
    /// [`reps::AnalysisInput::from_model_files`].
    pub fn to_model_file(&self) -> Result<ModelFile, RepsError> {
        let m = self.per_sample()?;
        let labels = self
            .labels
            .as_ref()
            .map(|l| parse_labels(&m.source, "labels", l))
            .transpose()?;
        Ok(ModelFile {
            name: m.name,
            file: m.source,
            layers: m.layers,
            labels,
            logits: m.logits,
            accuracy: self.accuracy,
            method: self.method.clone(),
            parameter: self.parameter,
            parameter_name: self.parameter_name.clone(),
            skipped: Vec::new(),
        })
    }
}

/// Every item as a [`ModelFile`]: paths read (claiming from `budget`) as `native analyze` reads
/// them, with the arrays they skip as warnings.
pub fn model_files(
    items: &[Item],
    budget: &mut ReadBudget,
) -> Result<(Vec<ModelFile>, Vec<String>), RepsError> {
    let mut files = Vec::with_capacity(items.len());
    let mut warnings = Vec::new();
    for item in items {
        let file = match item {
            Item::Path(p) => {
                let name = p.display().to_string();
                let bytes = read_file(p, budget)?;
                let f = read_model_file(&name, model_name(&name), &bytes, budget)?;
                warnings.extend(
                    f.skipped
                        .iter()
                        .map(|s| format!("{name}: array '{}' skipped: {}", s.key, s.reason)),
                );
                f
            }
            Item::Model(m) => m.to_model_file()?,
        };
        files.push(file);
    }
    Ok((files, warnings))
}

/// In-memory models as the streamed analysis reads them: as tokens over the first model's
/// sample axes with `mask` (an attention mask over them), or one sample per first axis. Returns
/// the models and the labels interpreted likewise: `labels`, else the first model's (every
/// model that has labels must have the same).
pub fn memory_models(
    models: &[&MemoryModel],
    tokens: bool,
    mask: Option<RawArray>,
    labels: Option<RawArray>,
) -> Result<(Vec<ModelInput>, Option<LabelsFrom>), RepsError> {
    let (labels, from) = match labels {
        Some(l) => (Some(l), LABELS_ARRAY.to_string()),
        None => {
            let first = models.iter().find(|m| m.labels.is_some());
            (
                first.and_then(|m| m.labels.clone()),
                first.map_or(String::new(), |m| m.source()),
            )
        }
    };
    if let Some(l) = &labels {
        if let Some(other) = models
            .iter()
            .find(|m| m.labels.as_ref().is_some_and(|o| o != l))
        {
            return Err(RepsError::File {
                file: other.source(),
                reason: format!("its labels differ from those of {from}"),
            });
        }
    }
    if !tokens {
        if mask.is_some() {
            return Err(RepsError::Option {
                option: "attention_mask",
                reason: "masks tokens; pass tokens=True with it".into(),
            });
        }
        let inputs = models
            .iter()
            .map(|m| m.per_sample())
            .collect::<Result<_, _>>()?;
        let labels = labels
            .map(|a| parse_labels(&from, "labels", &a))
            .transpose()?;
        return Ok((inputs, labels.map(|l| (l, from))));
    }
    let Some(first) = models.first() else {
        return Err(RepsError::Invalid("no models to analyse".into()));
    };
    let grid = first.token_grid()?;
    let keep = mask
        .map(|m| parse_mask("attention_mask", &m, &grid))
        .transpose()?;
    let inputs = models
        .iter()
        .map(|m| m.tokens(&grid, keep.as_deref()))
        .collect::<Result<_, _>>()?;
    let labels = labels
        .map(|a| parse_token_labels(&from, &a, &grid, keep.as_deref()))
        .transpose()?;
    Ok((inputs, labels.map(|l| (l, from))))
}
