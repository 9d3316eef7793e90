//! The `.reps` snapshot (docs/GUIDE.md, "The snapshot format"): the 8-byte magic `REPSSNAP`, a u16 little-endian
//! format version, then the version's layout.
//!
//! This build writes version 4 and reads versions 1 ([`v1`], translated on reading) to 4.
//! - Versions 2 and 3: a postcard-encoded [`Snapshot`] body; version 3 puts the CRC-32 of the
//!   body (u32 little-endian) before it, so that a flipped bit anywhere in the body is an error
//!   rather than a changed number (versions 1 and 2 carry none: [`has_checksum`]).
//! - Version 4: the index length L (u32 LE) and the CRC-32 of the index (u32 LE), the index (a
//!   postcard-encoded [`SnapshotIndex`]: the snapshot with each layer's values replaced by their
//!   count and CRC-32, [`ValuesAt`]), then every layer's values as little-endian f32, in model and
//!   layer order, back to back. Everything but the activations (Table 1, the histograms, the
//!   layer names and shapes) is read from the first `18 + L` bytes ([`index_end`],
//!   [`decode_index`]); each layer can be checked and decoded alone, and its values decode with
//!   one copy instead of one deserialiser call per value.
//!
//! postcard is not self-describing, so any change to these types needs a new version number and
//! a new golden file (`tests/golden/`); the one exception is a new variant appended at the
//! end of [`Reduction`], which older files never contain. The encodings hold no `usize`, so wasm32
//! and 64-bit targets read the same bytes.
//!
//! Version 2 differs from version 1 in three ways: a model's method is an open string with an
//! optional named parameter (version 1 had a closed list of kinds); every layer records the shape
//! at its capture point and the reduction applied; and the logits name a layer instead of holding
//! a copy of it.

mod v1;

use crate::error::{RepsError, Result};
use crate::formats::stream::{ByteSource, SliceSource};
use crate::histogram::WeightHistogram;
use serde::{Deserialize, Serialize};

/// The first 8 bytes of every snapshot.
pub const MAGIC: &[u8; 8] = b"REPSSNAP";
/// The format version this build writes.
pub const VERSION: u16 = 4;
/// Every format version this build reads.
pub const READABLE_VERSIONS: [u16; 4] = [1, 2, 3, 4];
/// Bytes before the body of a version-3 file: magic, version, CRC-32.
const HEADER_V3: usize = 14;
/// Bytes before the index of a version-4 file: magic, version, index length, index CRC-32.
pub const HEADER_V4: usize = 18;

/// Whether files of format `version` carry checksums of what they hold (version 3 on).
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

/// One layer's activations of the N analysed samples (`V`: the values; [`ValuesAt`] in the index
/// of a version-4 file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "V: Serialize", deserialize = "V: LayerValues"))]
pub struct SnapshotLayer<V = Vec<f32>> {
    /// The capture point's name (torchvision style: `layer4.1.conv2`, `fc`, ...).
    pub name: String,
    /// Shape of one sample's activation at the capture point, before the reduction.
    pub original_shape: Vec<u32>,
    /// The reduction applied.
    pub reduction: Reduction,
    /// Shape of one sample's activation as stored (product = D).
    pub sample_shape: Vec<u32>,
    /// Row-major N × D values.
    #[serde(deserialize_with = "LayerValues::deserialize_values")]
    pub values: V,
}

/// Where a layer's values are in a version-4 file: how many f32 there are, and the CRC-32 of
/// their bytes. They start where the previous layer's (in model, then layer order) end; the
/// first starts right after the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValuesAt {
    pub count: u64,
    pub crc32: u32,
}

/// The index of a version-4 file: everything but the activations.
pub type SnapshotIndex = Snapshot<ValuesAt>;

/// What a layer's values can be in these types: the values themselves, or [`ValuesAt`].
pub trait LayerValues: Sized {
    /// Decodes them (the serde `deserialize_with` of [`SnapshotLayer::values`]).
    fn deserialize_values<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Self, D::Error>;
}

impl LayerValues for Vec<f32> {
    fn deserialize_values<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Self, D::Error> {
        reserved_f32s(d)
    }
}

impl LayerValues for ValuesAt {
    fn deserialize_values<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Self, D::Error> {
        ValuesAt::deserialize(d)
    }
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
#[serde(bound(serialize = "V: Serialize", deserialize = "V: LayerValues"))]
pub struct SnapshotModel<V = Vec<f32>> {
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
    pub layers: Vec<SnapshotLayer<V>>,
    /// The name of the layer of `layers` that holds the logits (N × K).
    pub logits: Option<String>,
}

/// A set of models on the same N samples: what produced it, the samples, and every model's
/// activations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "V: Serialize", deserialize = "V: LayerValues"))]
pub struct Snapshot<V = Vec<f32>> {
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
    pub models: Vec<SnapshotModel<V>>,
}

impl<V> Snapshot<V> {
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

impl<V> Snapshot<V> {
    /// The weight histograms of the models that have one, by model name.
    pub fn histograms(&self) -> Vec<(String, WeightHistogram)> {
        self.models
            .iter()
            .filter_map(|m| m.histogram.clone().map(|h| (m.name.clone(), h)))
            .collect()
    }

    /// The same snapshot with every layer's values replaced by `f(model, layer)`, in model and
    /// layer order; the first error stops it.
    pub fn try_map_values<W, E>(
        &self,
        mut f: impl FnMut(&SnapshotModel<V>, &SnapshotLayer<V>) -> std::result::Result<W, E>,
    ) -> std::result::Result<Snapshot<W>, E> {
        let models = self
            .models
            .iter()
            .map(|m| {
                let layers = m
                    .layers
                    .iter()
                    .map(|l| {
                        Ok(SnapshotLayer {
                            name: l.name.clone(),
                            original_shape: l.original_shape.clone(),
                            reduction: l.reduction,
                            sample_shape: l.sample_shape.clone(),
                            values: f(m, l)?,
                        })
                    })
                    .collect::<std::result::Result<Vec<_>, E>>()?;
                Ok(SnapshotModel {
                    name: m.name.clone(),
                    method: m.method.clone(),
                    parameter: m.parameter,
                    parameter_name: m.parameter_name.clone(),
                    accuracy: m.accuracy,
                    weight_similarity: m.weight_similarity,
                    histogram: m.histogram.clone(),
                    layers,
                    logits: m.logits.clone(),
                })
            })
            .collect::<std::result::Result<Vec<_>, E>>()?;
        Ok(Snapshot {
            producer: self.producer.clone(),
            producer_version: self.producer_version.clone(),
            dataset: self.dataset.clone(),
            architecture: self.architecture.clone(),
            width: self.width,
            seed: self.seed,
            preset: self.preset.clone(),
            sample_indices: self.sample_indices.clone(),
            labels: self.labels.clone(),
            class_names: self.class_names.clone(),
            models,
        })
    }
}

impl<V> SnapshotModel<V> {
    /// The layer named `name`.
    pub fn layer(&self, name: &str) -> Option<&SnapshotLayer<V>> {
        self.layers.iter().find(|l| l.name == name)
    }
}

/// Encodes a snapshot in the current format version (4): magic, version, index length, CRC-32
/// of the index, the index, then every layer's values as little-endian f32.
pub fn encode(snapshot: &Snapshot) -> Result<Vec<u8>> {
    let total: usize = snapshot
        .models
        .iter()
        .flat_map(|m| &m.layers)
        .map(|l| 4 * l.values.len())
        .sum();
    let mut values = Vec::with_capacity(total);
    let index = snapshot.try_map_values(|_, l| {
        let start = values.len();
        values.extend(l.values.iter().flat_map(|x| x.to_le_bytes()));
        Ok::<_, RepsError>(ValuesAt {
            count: l.values.len() as u64,
            crc32: crc32fast::hash(&values[start..]),
        })
    })?;
    let index = postcard::to_allocvec(&index)
        .map_err(|e| RepsError::Invalid(format!("cannot encode snapshot: {e}")))?;
    let index_len = u32::try_from(index.len()).map_err(|_| {
        RepsError::Invalid("cannot encode snapshot: its index exceeds 4 GiB".into())
    })?;
    let mut out = Vec::with_capacity(HEADER_V4 + index.len() + values.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&index_len.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&index).to_le_bytes());
    out.extend_from_slice(&index);
    out.extend_from_slice(&values);
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
        4 => read_v4(&SliceSource::new(file, bytes))?,
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

/// Where the index of a file that begins with `head` (at least its first [`HEADER_V4`] bytes)
/// ends: `Some(18 + L)` for version 4, `None` for the versions without an index (1 to 3), whose
/// metadata is read with the whole file. Wrong magic and unknown versions are errors.
pub fn index_end(file: &str, head: &[u8]) -> Result<Option<u64>> {
    let found = version(file, head)?;
    if found != 4 {
        if !READABLE_VERSIONS.contains(&found) {
            return Err(RepsError::SnapshotVersion {
                file: file.to_string(),
                found,
                supported: VERSION,
            });
        }
        return Ok(None);
    }
    if head.len() < HEADER_V4 {
        return Err(RepsError::file(file, "truncated snapshot: no index length"));
    }
    let len = u32::from_le_bytes([head[10], head[11], head[12], head[13]]);
    Ok(Some(HEADER_V4 as u64 + len as u64))
}

/// The index of a version-4 file from its first bytes (at least up to [`index_end`]): checked
/// against its CRC-32 and decoded, with nothing of the activations read or checked.
pub fn decode_index(file: &str, head: &[u8]) -> Result<SnapshotIndex> {
    let end = index_end(file, head)?.ok_or_else(|| {
        RepsError::file(file, "has no index (a snapshot of format version 1 to 3)")
    })?;
    let end = usize::try_from(end)
        .ok()
        .filter(|&e| e <= head.len())
        .ok_or_else(|| RepsError::file(file, "truncated snapshot: the index is cut short"))?;
    let stored = u32::from_le_bytes([head[14], head[15], head[16], head[17]]);
    let index = &head[HEADER_V4..end];
    let computed = crc32fast::hash(index);
    if stored != computed {
        return Err(RepsError::file(
            file,
            format!("the snapshot is corrupt: its index's CRC-32 is {computed:08x}, the file records {stored:08x} (was it changed after it was written?)"),
        ));
    }
    body::<SnapshotIndex>(file, index)
}

/// Reads and decodes (and validates) a snapshot from `source`. A version-4 file is read layer
/// by layer, each layer's bytes straight into its values, so the file is never held whole in
/// memory beside them; older versions are read whole and decoded.
pub fn read(source: &dyn ByteSource) -> Result<Snapshot> {
    let file = source.name();
    let mut head = vec![0u8; (HEADER_V4 as u64).min(source.len()) as usize];
    read_at(source, 0, &mut head)?;
    if index_end(file, &head)?.is_none() {
        let mut bytes = vec![0u8; usize_of(file, source.len())?];
        read_at(source, 0, &mut bytes)?;
        return decode(file, &bytes);
    }
    let snapshot = read_v4(source)?;
    validate(file, &snapshot)?;
    Ok(snapshot)
}

/// A version-4 file from `source`: the index, then each layer's values, read where the previous
/// layer's end, checked against their CRC-32 and converted from little-endian in place; bytes
/// past the last layer are an error.
fn read_v4(source: &dyn ByteSource) -> Result<Snapshot> {
    let file = source.name();
    let total = source.len();
    let mut head = vec![0u8; (HEADER_V4 as u64).min(total) as usize];
    read_at(source, 0, &mut head)?;
    let end = index_end(file, &head)?.expect("a version-4 file");
    if end > total {
        return Err(RepsError::file(
            file,
            "truncated snapshot: the index is cut short",
        ));
    }
    let mut index = vec![0u8; usize_of(file, end)?];
    read_at(source, 0, &mut index)?;
    let index = decode_index(file, &index)?;
    let mut at = end;
    let snapshot = index.try_map_values(|m, l| {
        let where_ = || format!("model '{}', layer '{}'", m.name, l.name);
        let count = usize::try_from(l.values.count)
            .ok()
            .filter(|&c| {
                c.checked_mul(4)
                    .is_some_and(|len| len as u64 <= total - at)
            })
            .ok_or_else(|| {
                RepsError::file(
                    file,
                    format!(
                        "truncated snapshot: {}: {} values do not fit in the {} bytes left",
                        where_(),
                        l.values.count,
                        total - at
                    ),
                )
            })?;
        let mut values = vec![0.0f32; count];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut values);
        read_at(source, at, bytes)?;
        at += bytes.len() as u64;
        let computed = crc32fast::hash(bytes);
        if computed != l.values.crc32 {
            return Err(RepsError::file(
                file,
                format!(
                    "the snapshot is corrupt: {}: the values' CRC-32 is {computed:08x}, the file records {:08x} (was it truncated, or changed after it was written?)",
                    where_(),
                    l.values.crc32
                ),
            ));
        }
        // The bytes are little-endian f32: a no-op on little-endian targets.
        for v in &mut values {
            *v = f32::from_bits(u32::from_le(v.to_bits()));
        }
        Ok(values)
    })?;
    if at != total {
        return Err(RepsError::file(
            file,
            format!(
                "corrupt snapshot: {} unexpected bytes after the last layer",
                total - at
            ),
        ));
    }
    Ok(snapshot)
}

/// `source`'s bytes at `offset` into `buf`; a failed read names the file.
fn read_at(source: &dyn ByteSource, offset: u64, buf: &mut [u8]) -> Result<()> {
    source
        .read_at(offset, buf)
        .map_err(|e| RepsError::file(source.name(), format!("cannot read: {e}")))
}

/// `n` bytes as a length in memory, or an error where it does not fit (wasm32).
fn usize_of(file: &str, n: u64) -> Result<usize> {
    usize::try_from(n).map_err(|_| {
        RepsError::file(
            file,
            format!("is {n} bytes: more than this machine can address"),
        )
    })
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
