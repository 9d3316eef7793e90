//! The `.reps` snapshot, format version 1 (DESIGN.md §3): the 8-byte magic `REPSSNAP`, a u16
//! little-endian format version, then a postcard-encoded [`Snapshot`].
//!
//! postcard is not self-describing, so any change to these types needs a new version number and a
//! new golden file (`shared/tests/golden/`). The body holds no `usize`, so wasm32 and 64-bit
//! targets read the same bytes.

use crate::activations::{Activations, Values};
use crate::error::{RepsError, Result};
use crate::histogram::WeightHistogram;
use serde::{Deserialize, Serialize};

/// The first 8 bytes of every snapshot.
pub const MAGIC: &[u8; 8] = b"REPSSNAP";
/// The format version this build writes and reads.
pub const VERSION: u16 = 1;

/// How a model of a sweep was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// The uncompressed reference.
    Original,
    /// Trained from scratch on a fraction of the training set.
    Coreset,
    /// Global unstructured magnitude pruning.
    Prune,
    /// Post-training weight quantization.
    Quant,
    /// A model from a user's file.
    External,
}

impl ModelKind {
    /// The lowercase name used in JSON and tables.
    pub fn as_str(&self) -> &'static str {
        match self {
            ModelKind::Original => "original",
            ModelKind::Coreset => "coreset",
            ModelKind::Prune => "prune",
            ModelKind::Quant => "quant",
            ModelKind::External => "external",
        }
    }
}

/// One layer's activations of the N analysed samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotLayer {
    /// torchvision-style name (`layer4.1.conv2`, `fc`, ...).
    pub name: String,
    /// Shape of one sample's activation before flattening (product = D).
    pub sample_shape: Vec<u32>,
    /// Row-major N × D values.
    pub values: Vec<f32>,
}

/// One model of the snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotModel {
    pub name: String,
    pub kind: ModelKind,
    /// Coreset fraction, pruning ratio or bit width; `None` for the original.
    pub parameter: Option<f64>,
    /// Accuracy on the full test set.
    pub accuracy: Option<f64>,
    /// Cosine similarity of the conv and linear weights with the original's.
    pub weight_similarity: Option<f64>,
    /// 50-bin weight histogram on the range shared by all models of the snapshot.
    pub histogram: Option<WeightHistogram>,
    pub layers: Vec<SnapshotLayer>,
    /// Logits of the N samples (sample shape `[K]`).
    pub logits: Option<SnapshotLayer>,
}

/// A whole sweep: what produced it, the analysed samples, and every model's activations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub producer: String,
    pub producer_version: String,
    pub dataset: String,
    pub architecture: String,
    pub width: u32,
    pub seed: u64,
    pub preset: String,
    /// Test-set indices of the N analysed samples.
    pub sample_indices: Vec<u32>,
    /// Their labels.
    pub labels: Vec<u32>,
    pub class_names: Vec<String>,
    pub models: Vec<SnapshotModel>,
}

impl SnapshotLayer {
    /// Builds a layer from activations (stored as f32).
    pub fn from_activations(name: &str, a: &Activations) -> Self {
        SnapshotLayer {
            name: name.to_string(),
            sample_shape: a.sample_shape().iter().map(|&d| d as u32).collect(),
            values: a.values().to_f32(),
        }
    }

    /// The layer as an N × D activation matrix; checks length and finiteness.
    pub fn to_activations(&self, rows: usize) -> Result<Activations> {
        Activations::new(
            rows,
            self.sample_shape.iter().map(|&d| d as usize).collect(),
            Values::F32(self.values.clone()),
        )
    }
}

/// Encodes a snapshot: magic, version, postcard body.
pub fn encode(snapshot: &Snapshot) -> Result<Vec<u8>> {
    let body = postcard::to_allocvec(snapshot)
        .map_err(|e| RepsError::Invalid(format!("cannot encode snapshot: {e}")))?;
    let mut out = Vec::with_capacity(10 + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes and validates a snapshot read from `file`: wrong magic, an unknown version, a
/// truncated or corrupt body, trailing bytes, inconsistent sizes and non-finite values are errors
/// that name the file (and the model and layer).
pub fn decode(file: &str, bytes: &[u8]) -> Result<Snapshot> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(RepsError::file(
            file,
            "not a .reps snapshot (wrong magic bytes)",
        ));
    }
    if bytes.len() < MAGIC.len() + 2 {
        return Err(RepsError::file(
            file,
            "truncated snapshot: no format version",
        ));
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != VERSION {
        return Err(RepsError::SnapshotVersion {
            file: file.to_string(),
            found: version,
            supported: VERSION,
        });
    }
    let (snapshot, rest): (Snapshot, &[u8]) = postcard::take_from_bytes(&bytes[10..])
        .map_err(|e| RepsError::file(file, format!("truncated or corrupt snapshot body: {e}")))?;
    if !rest.is_empty() {
        return Err(RepsError::file(
            file,
            format!(
                "corrupt snapshot: {} unexpected bytes after the body",
                rest.len()
            ),
        ));
    }
    validate(file, &snapshot)?;
    Ok(snapshot)
}

fn validate(file: &str, s: &Snapshot) -> Result<()> {
    let n = s.sample_indices.len();
    if s.labels.len() != n {
        return Err(RepsError::file(
            file,
            format!("{} labels for {n} samples", s.labels.len()),
        ));
    }
    if s.models.is_empty() {
        return Err(RepsError::file(file, "the snapshot holds no models"));
    }
    for m in &s.models {
        for layer in m.layers.iter().chain(m.logits.as_ref()) {
            let where_ = || format!("model '{}', layer '{}'", m.name, layer.name);
            let d = layer
                .sample_shape
                .iter()
                .try_fold(1u64, |acc, &x| acc.checked_mul(x as u64));
            if d.and_then(|d| d.checked_mul(n as u64)) != Some(layer.values.len() as u64) {
                return Err(RepsError::file(
                    file,
                    format!(
                        "{}: {} values do not fill {n} samples of shape {:?}",
                        where_(),
                        layer.values.len(),
                        layer.sample_shape
                    ),
                ));
            }
            if let Some(i) = layer.values.iter().position(|x| !x.is_finite()) {
                return Err(RepsError::file(
                    file,
                    format!("{}: non-finite value at flat index {i}", where_()),
                ));
            }
        }
        for (what, v) in [
            ("accuracy", m.accuracy),
            ("weight similarity", m.weight_similarity),
            ("parameter", m.parameter),
        ] {
            if v.is_some_and(|x| !x.is_finite()) {
                return Err(RepsError::file(
                    file,
                    format!("model '{}': {what} is not finite", m.name),
                ));
            }
        }
    }
    Ok(())
}
