//! Format version 1 of the `.reps` snapshot, read-only: its types exactly as they were written,
//! and their translation into the current [`Snapshot`](super::Snapshot).
//!
//! Version 1 had a closed list of model kinds, stored a copy of the logits beside the layer they
//! came from, and recorded neither the capture point's shape nor the reduction applied.

use super::{paper_parameter_name, Reduction, Snapshot, SnapshotLayer, SnapshotModel};
use crate::histogram::WeightHistogram;
use serde::Deserialize;

/// How a model of a version-1 sweep was made (a postcard variant index, so a closed list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub(super) enum ModelKind {
    Original,
    Coreset,
    Prune,
    Quant,
    External,
}

impl ModelKind {
    /// The method this kind becomes.
    fn method(self) -> &'static str {
        match self {
            ModelKind::Original => "original",
            ModelKind::Coreset => "coreset",
            ModelKind::Prune => "prune",
            ModelKind::Quant => "quant",
            ModelKind::External => "external",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub(super) struct Layer {
    name: String,
    sample_shape: Vec<u32>,
    values: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub(super) struct Model {
    name: String,
    kind: ModelKind,
    parameter: Option<f64>,
    accuracy: Option<f64>,
    weight_similarity: Option<f64>,
    histogram: Option<WeightHistogram>,
    layers: Vec<Layer>,
    logits: Option<Layer>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub(super) struct SnapshotV1 {
    producer: String,
    producer_version: String,
    dataset: String,
    architecture: String,
    width: u32,
    seed: u64,
    preset: String,
    sample_indices: Vec<u32>,
    labels: Vec<u32>,
    class_names: Vec<String>,
    models: Vec<Model>,
}

fn layer(l: Layer) -> SnapshotLayer {
    SnapshotLayer {
        name: l.name,
        original_shape: l.sample_shape.clone(),
        sample_shape: l.sample_shape,
        reduction: Reduction::Unrecorded,
        values: l.values,
    }
}

impl From<Model> for SnapshotModel {
    /// The kind becomes the method (with its parameter's name); the logits become a reference
    /// to the layer holding the same values (`fc` in every sweep), or, when no layer does, a
    /// layer of their own.
    fn from(m: Model) -> Self {
        let method = m.kind.method();
        let parameter_name = paper_parameter_name(method);
        let mut layers: Vec<SnapshotLayer> = m.layers.into_iter().map(layer).collect();
        let logits = m.logits.map(|l| {
            if let Some(same) = layers
                .iter()
                .find(|x| x.sample_shape == l.sample_shape && x.values == l.values)
            {
                return same.name.clone();
            }
            let mut own = layer(l);
            if layers.iter().any(|x| x.name == own.name) {
                own.name = "logits".into();
            }
            let name = own.name.clone();
            layers.push(own);
            name
        });
        SnapshotModel {
            name: m.name,
            method: method.into(),
            parameter: m.parameter,
            parameter_name: m.parameter.and(parameter_name).map(str::to_string),
            accuracy: m.accuracy,
            weight_similarity: m.weight_similarity,
            histogram: m.histogram,
            layers,
            logits,
        }
    }
}

impl From<SnapshotV1> for Snapshot {
    fn from(s: SnapshotV1) -> Self {
        Snapshot {
            producer: s.producer,
            producer_version: s.producer_version,
            dataset: s.dataset,
            architecture: s.architecture,
            width: Some(s.width),
            seed: Some(s.seed),
            preset: s.preset,
            sample_indices: s.sample_indices,
            labels: Some(s.labels),
            class_names: s.class_names,
            models: s.models.into_iter().map(SnapshotModel::from).collect(),
        }
    }
}
