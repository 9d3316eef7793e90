//! The `.reps` snapshot (DESIGN.md §3): the 8-byte magic `REPSSNAP`, a u16 little-endian format
//! version, then (from version 3) the CRC-32 of the body as a u32 little-endian, then a
//! postcard-encoded body.
//!
//! This build writes version 3 ([`Snapshot`]) and reads versions 1 ([`v1`], translated on
//! reading), 2 and 3. Versions 2 and 3 have the same body; version 3 adds the checksum, so that a
//! flipped bit anywhere in the body is an error rather than a changed number (versions 1 and 2
//! carry none: [`has_checksum`]). postcard is not self-describing, so any change to these types needs a new
//! version number and a new golden file (`shared/tests/golden/`); the one exception is a new
//! variant appended at the end of [`Reduction`], which older files never contain. The body holds
//! no `usize`, so wasm32 and 64-bit targets read the same bytes.
//!
//! Version 2 differs from version 1 in three ways: a model's method is an open string with an
//! optional named parameter (version 1 had a closed list of kinds); every layer records the shape
//! at its capture point and the reduction applied; and the logits name a layer instead of holding
//! a copy of it.

mod v1;

use crate::error::{RepsError, Result};
use crate::histogram::WeightHistogram;
use serde::{Deserialize, Serialize};

/// The first 8 bytes of every snapshot.
pub const MAGIC: &[u8; 8] = b"REPSSNAP";
/// The format version this build writes.
pub const VERSION: u16 = 3;
/// Every format version this build reads.
pub const READABLE_VERSIONS: [u16; 3] = [1, 2, 3];
/// Bytes before the body of a version-3 file: magic, version, CRC-32.
const HEADER_V3: usize = 14;

/// Whether files of format `version` carry a checksum of their body (version 3 on).
pub fn has_checksum(version: u16) -> bool {
    version >= 3
}

/// The paper's methods, as `train-sweep` makes them and version-1 snapshots name them, with the
/// name of each one's parameter.
pub const PAPER_METHODS: [(&str, Option<&str>); 4] = [
    ("original", None),
    ("coreset", Some("fraction")),
    ("prune", Some("ratio")),
    ("quant", Some("bits")),
];

/// The parameter name of one of the [`PAPER_METHODS`]; `None` for any other method.
pub fn paper_parameter_name(method: &str) -> Option<&'static str> {
    PAPER_METHODS
        .iter()
        .find(|(m, _)| *m == method)
        .and_then(|(_, p)| *p)
}

/// What was done to a capture point's activations before they were stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// Stored as captured.
    AsIs,
    /// Averaged over the spatial axes (global average pooling: C × H × W → C).
    Pooled,
    /// Flattened per sample (C × H × W → C·H·W).
    Flattened,
    /// Not recorded (version-1 snapshots).
    Unrecorded,
}

impl Reduction {
    /// The lowercase name used in descriptions.
    pub fn as_str(self) -> &'static str {
        match self {
            Reduction::AsIs => "as is",
            Reduction::Pooled => "pooled",
            Reduction::Flattened => "flattened",
            Reduction::Unrecorded => "not recorded",
        }
    }
}

/// One layer's activations of the N analysed samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotLayer {
    /// The capture point's name (torchvision style: `layer4.1.conv2`, `fc`, ...).
    pub name: String,
    /// Shape of one sample's activation at the capture point, before the reduction.
    pub original_shape: Vec<u32>,
    /// The reduction applied.
    pub reduction: Reduction,
    /// Shape of one sample's activation as stored (product = D).
    pub sample_shape: Vec<u32>,
    /// Row-major N × D values.
    #[serde(deserialize_with = "reserved_f32s")]
    pub values: Vec<f32>,
}

/// At most this many values are reserved before any is read (256 MiB), so that a corrupt length
/// in a file without a checksum cannot ask for more memory than a real layer would.
const MAX_RESERVED_VALUES: usize = 1 << 26;

/// A layer's values, decoded into a vector reserved at the length the encoding states (up to
/// [`MAX_RESERVED_VALUES`]) rather than grown by doubling from serde's cautious 1 MiB: the
/// same values, without the copies and the memory of the reallocations.
fn reserved_f32s<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<f32>, D::Error> {
    struct Values;
    impl<'de> serde::de::Visitor<'de> for Values {
        type Value = Vec<f32>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a sequence of f32")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> std::result::Result<Vec<f32>, A::Error> {
            let reserve = seq.size_hint().unwrap_or(0).min(MAX_RESERVED_VALUES);
            let mut values = Vec::with_capacity(reserve);
            while let Some(x) = seq.next_element::<f32>()? {
                values.push(x);
            }
            Ok(values)
        }
    }
    d.deserialize_seq(Values)
}

/// One model of the snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotModel {
    pub name: String,
    /// How it was made: `original`, `coreset`, `prune`, `quant`, or any other method's name.
    pub method: String,
    /// The method's parameter (coreset fraction, pruning ratio, bit width, ...).
    pub parameter: Option<f64>,
    /// What the parameter is (`fraction`, `ratio`, `bits`, ...).
    pub parameter_name: Option<String>,
    /// Accuracy on the full test set.
    pub accuracy: Option<f64>,
    /// Cosine similarity of the conv and linear weights with the original's.
    pub weight_similarity: Option<f64>,
    /// Weight histogram (50 bins on the range shared by all models of a sweep's snapshot).
    pub histogram: Option<WeightHistogram>,
    pub layers: Vec<SnapshotLayer>,
    /// The name of the layer of `layers` that holds the logits (N × K).
    pub logits: Option<String>,
}

/// A set of models on the same N samples: what produced it, the samples, and every model's
/// activations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The program that wrote it (`reps native train-sweep`, `reps native pack`).
    pub producer: String,
    pub producer_version: String,
    /// Empty when unknown (also `architecture`, `preset`).
    pub dataset: String,
    pub architecture: String,
    pub width: Option<u32>,
    pub seed: Option<u64>,
    pub preset: String,
    /// Indices of the N analysed samples in their dataset (`0..N` when the samples are simply the
    /// rows of the files a snapshot was packed from). Its length is N.
    pub sample_indices: Vec<u32>,
    /// Their labels, when known.
    pub labels: Option<Vec<u32>>,
    pub class_names: Vec<String>,
    pub models: Vec<SnapshotModel>,
}

impl Snapshot {
    /// The number of analysed samples N.
    pub fn samples(&self) -> usize {
        self.sample_indices.len()
    }

    /// One line about where the snapshot came from, for the head of a report.
    pub fn description(&self, file: &str) -> String {
        let mut parts = vec![file.to_string()];
        if !self.architecture.is_empty() {
            parts.push(match self.width {
                Some(w) => format!("{} (width {w})", self.architecture),
                None => self.architecture.clone(),
            });
        }
        if !self.dataset.is_empty() {
            parts.push(self.dataset.clone());
        }
        if let Some(seed) = self.seed {
            parts.push(format!("seed {seed}"));
        }
        if self.architecture.is_empty() && self.dataset.is_empty() {
            parts.push(format!("written by {}", self.producer));
        }
        parts.push(format!("{} models", self.models.len()));
        parts.push(format!("N = {}", self.samples()));
        parts.join(" · ")
    }
}

impl SnapshotModel {
    /// The layer named `name`.
    pub fn layer(&self, name: &str) -> Option<&SnapshotLayer> {
        self.layers.iter().find(|l| l.name == name)
    }
}

/// Encodes a snapshot in the current format version: magic, version, CRC-32 of the body,
/// postcard body.
pub fn encode(snapshot: &Snapshot) -> Result<Vec<u8>> {
    let body = postcard::to_allocvec(snapshot)
        .map_err(|e| RepsError::Invalid(format!("cannot encode snapshot: {e}")))?;
    let mut out = Vec::with_capacity(HEADER_V3 + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// The format version of a snapshot's bytes (after checking the magic).
pub fn version(file: &str, bytes: &[u8]) -> Result<u16> {
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
    Ok(u16::from_le_bytes([bytes[8], bytes[9]]))
}

/// Decodes and validates a snapshot of any readable version read from `file` (version 1 is
/// translated into the current types). Wrong magic, an unknown version, a checksum that does not
/// match the body (version 3), a truncated or corrupt body, trailing bytes, inconsistent sizes, a
/// logits reference to a missing layer, repeated model or layer names, and non-finite values or
/// histograms are errors that name the file (and the model and layer).
pub fn decode(file: &str, bytes: &[u8]) -> Result<Snapshot> {
    let snapshot = match version(file, bytes)? {
        1 => body::<v1::SnapshotV1>(file, &bytes[10..])?.into(),
        2 => body::<Snapshot>(file, &bytes[10..])?,
        3 => {
            if bytes.len() < HEADER_V3 {
                return Err(RepsError::file(file, "truncated snapshot: no checksum"));
            }
            let stored = u32::from_le_bytes([bytes[10], bytes[11], bytes[12], bytes[13]]);
            let computed = crc32fast::hash(&bytes[HEADER_V3..]);
            if stored != computed {
                return Err(RepsError::file(
                    file,
                    format!(
                        "the snapshot is corrupt: its body's CRC-32 is {computed:08x}, the file records {stored:08x} (was it truncated, or changed after it was written?)"
                    ),
                ));
            }
            body::<Snapshot>(file, &bytes[HEADER_V3..])?
        }
        found => {
            return Err(RepsError::SnapshotVersion {
                file: file.to_string(),
                found,
                supported: VERSION,
            })
        }
    };
    validate(file, &snapshot)?;
    Ok(snapshot)
}

fn body<T: serde::de::DeserializeOwned>(file: &str, bytes: &[u8]) -> Result<T> {
    let (value, rest): (T, &[u8]) = postcard::take_from_bytes(bytes)
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
    Ok(value)
}

fn validate(file: &str, s: &Snapshot) -> Result<()> {
    let n = s.samples();
    if let Some(labels) = &s.labels {
        if labels.len() != n {
            return Err(RepsError::file(
                file,
                format!("{} labels for {n} samples", labels.len()),
            ));
        }
    }
    if s.models.is_empty() {
        return Err(RepsError::file(file, "the snapshot holds no models"));
    }
    for (i, m) in s.models.iter().enumerate() {
        if s.models[..i].iter().any(|o| o.name == m.name) {
            return Err(RepsError::file(
                file,
                format!("two models are named '{}'", m.name),
            ));
        }
        for (j, layer) in m.layers.iter().enumerate() {
            let where_ = || format!("model '{}', layer '{}'", m.name, layer.name);
            if m.layers[..j].iter().any(|o| o.name == layer.name) {
                return Err(RepsError::file(file, format!("{}: stored twice", where_())));
            }
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
        if let Some(logits) = &m.logits {
            if m.layer(logits).is_none() {
                return Err(RepsError::file(
                    file,
                    format!(
                        "model '{}': its logits name the layer '{logits}', which it does not have",
                        m.name
                    ),
                ));
            }
        }
        if let Some(h) = &m.histogram {
            if !(h.low.is_finite() && h.high.is_finite() && h.high >= h.low) {
                return Err(RepsError::file(
                    file,
                    format!(
                        "model '{}': its weight histogram's range [{}, {}] is not a finite interval",
                        m.name, h.low, h.high
                    ),
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
