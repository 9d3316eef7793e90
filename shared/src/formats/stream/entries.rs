//! The arrays of a file, listed from its headers alone: key, shape, element type and where the
//! values lie, for `.npy`, `.npz` (stored or deflated members) and `.safetensors`.

use super::source::{ByteSource, SourceReader};
use crate::error::{RepsError, Result};
use crate::formats::array::RawArray;
use crate::formats::budget::ReadBudget;
use crate::formats::model_file::METADATA_KEYS;
use crate::formats::{detect_format, parse_npy};
use npyz::{DType, Endianness, NpyHeader, Order, TypeChar};
use std::io::Read;

/// The largest `.npy` or `.safetensors` header read (numpy's own headers are a few hundred bytes;
/// a `.safetensors` header names every tensor).
const MAX_HEADER_BYTES: u64 = 64 << 20;

/// A floating-point element type that rows can be streamed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatType {
    F16,
    BF16,
    F32,
    F64,
}

impl FloatType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            FloatType::F16 | FloatType::BF16 => 2,
            FloatType::F32 => 4,
            FloatType::F64 => 8,
        }
    }
}

/// How an entry's values are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// `Some` for float values; other element types (integers, text) are read whole.
    pub float: Option<FloatType>,
    /// Byte order of the elements.
    pub little_endian: bool,
    /// numpy's `fortran_order` (such an array cannot be streamed by rows).
    pub fortran: bool,
}

/// Where an entry's bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Storage {
    /// An `.npy` image at `start..start + len` of the file (a `.npy` file, or a stored `.npz`
    /// member), whose data begins `header` bytes in.
    Npy { start: u64, len: u64, header: u64 },
    /// A deflated `.npz` member: `compressed` bytes at `start`, inflating to `declared` bytes
    /// (an `.npy` image whose data begins `header` bytes in) with CRC-32 `crc`.
    Deflated {
        start: u64,
        compressed: u64,
        declared: u64,
        crc: u32,
        header: u64,
    },
    /// A `.safetensors` tensor: raw little-endian data at `start..start + len`.
    Tensor {
        start: u64,
        len: u64,
        dtype: safetensors::Dtype,
    },
    /// A string from a `.safetensors` header's `__metadata__` (`method`, `parameter`, ...).
    Text(String),
}

/// One array of a file, described by its header.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The array's key (an `.npz` member's name without `.npy`; `activations` for a lone `.npy`).
    pub key: String,
    /// Its shape, in C order.
    pub shape: Vec<usize>,
    pub layout: Layout,
    pub(crate) storage: Storage,
}

impl Entry {
    /// The number of elements.
    pub fn elements(&self) -> u64 {
        self.shape.iter().map(|&d| d as u64).product()
    }

    /// Whether its values are floats stored in C order, so that rows can be read in chunks.
    pub fn streamable(&self) -> bool {
        self.layout.float.is_some() && !self.layout.fortran
    }

    /// Reads the whole array (for the small ones: labels, masks, accuracy, names), claiming what
    /// it decodes from `budget`.
    pub fn read_whole(&self, source: &dyn ByteSource, budget: &mut ReadBudget) -> Result<RawArray> {
        let file = source.name();
        match &self.storage {
            Storage::Npy { start, len, .. } => {
                budget.claim(file, &format!("array '{}'", self.key), *len)?;
                let mut bytes = vec![0u8; *len as usize];
                source
                    .read_at(*start, &mut bytes)
                    .map_err(|e| RepsError::array(file, &self.key, format!("cannot read: {e}")))?;
                parse_npy(file, &self.key, &bytes, budget)
            }
            Storage::Deflated {
                start,
                compressed,
                declared,
                crc,
                ..
            } => {
                budget.claim(
                    file,
                    &format!("archive member '{}.npy'", self.key),
                    *declared,
                )?;
                let bytes =
                    inflate_member(source, &self.key, *start, *compressed, *declared, *crc)?;
                parse_npy(file, &self.key, &bytes, budget)
            }
            Storage::Tensor { start, len, dtype } => {
                let decoded = self.elements() * crate::formats::safetensors::decoded_item(*dtype);
                budget.claim(file, &format!("tensor '{}'", self.key), len + decoded)?;
                let mut raw = vec![0u8; *len as usize];
                source
                    .read_at(*start, &mut raw)
                    .map_err(|e| RepsError::array(file, &self.key, format!("cannot read: {e}")))?;
                let data =
                    crate::formats::safetensors::decode_tensor(file, &self.key, *dtype, &raw)?;
                RawArray::new(self.shape.clone(), data)
                    .map_err(|e| RepsError::array(file, &self.key, e.to_string()))
            }
            Storage::Text(text) => RawArray::new(
                Vec::new(),
                crate::formats::ArrayData::Text(vec![text.clone()]),
            ),
        }
    }
}

/// Inflates a whole deflated member, checking its size and CRC-32.
fn inflate_member(
    source: &dyn ByteSource,
    key: &str,
    start: u64,
    compressed: u64,
    declared: u64,
    crc: u32,
) -> Result<Vec<u8>> {
    let file = source.name();
    let reader = SourceReader::new(source, start, start.saturating_add(compressed));
    let mut inflater = flate2::read::DeflateDecoder::new(reader);
    let mut bytes = Vec::new();
    (&mut inflater)
        .take(declared + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| RepsError::array(file, key, format!("corrupt or truncated data: {e}")))?;
    if bytes.len() as u64 != declared {
        return Err(RepsError::array(
            file,
            key,
            format!("inflates to {} bytes, not the {declared} it declares: the archive is corrupt or truncated", bytes.len()),
        ));
    }
    if crc32fast::hash(&bytes) != crc {
        return Err(RepsError::array(
            file,
            key,
            "its CRC-32 does not match its data: the file is corrupt",
        ));
    }
    Ok(bytes)
}

/// Lists every array of a `.npy`, `.npz` or `.safetensors` file from its headers, reading none of
/// the values. Each entry's claimed size is checked against the bytes that hold it, so that a
/// header claiming more than the file has is an error here, before anything is allocated.
pub fn list_entries(source: &dyn ByteSource) -> Result<Vec<Entry>> {
    let file = source.name();
    let mut head = vec![0u8; source.len().min(16) as usize];
    source
        .read_at(0, &mut head)
        .map_err(|e| RepsError::file(file, format!("cannot read: {e}")))?;
    match detect_format(file, &head)?.entries {
        Some(list) => list(source),
        None => Err(RepsError::file(
            file,
            "is a .reps snapshot, not an activation file",
        )),
    }
}

/// The one array of a `.npy` file, named `activations`.
pub(crate) fn npy_entries(source: &dyn ByteSource) -> Result<Vec<Entry>> {
    Ok(vec![npy_entry(
        source,
        "activations",
        SourceReader::new(source, 0, source.len()),
        NpyPlace::Stored {
            start: 0,
            len: source.len(),
        },
    )?])
}

enum NpyPlace {
    Stored {
        start: u64,
        len: u64,
    },
    Deflated {
        start: u64,
        compressed: u64,
        declared: u64,
        crc: u32,
    },
}

/// Counts the bytes read through it (the length of an `.npy` header).
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// The entry of an `.npy` image read through `reader` (positioned at its first byte).
fn npy_entry(
    source: &dyn ByteSource,
    key: &str,
    reader: impl Read,
    place: NpyPlace,
) -> Result<Entry> {
    let file = source.name();
    let err = |r: String| RepsError::array(file, key, r);
    // At most the header's bytes are read (a header longer than the limit is refused).
    let mut counting = Counting {
        inner: reader.take(MAX_HEADER_BYTES),
        count: 0,
    };
    let header = NpyHeader::from_reader(&mut counting)
        .map_err(|e| err(format!("not a valid .npy array: {e}")))?;
    let header_len = counting.count;
    let type_str = match header.dtype() {
        DType::Plain(t) => t,
        other => return Err(err(format!("structured dtype {other:?} is not supported"))),
    };
    let float = match (type_str.type_char(), type_str.size_field()) {
        (TypeChar::Float, 2) => Some(FloatType::F16),
        (TypeChar::Float, 4) => Some(FloatType::F32),
        (TypeChar::Float, 8) => Some(FloatType::F64),
        _ => None,
    };
    let item = type_str.num_bytes().unwrap_or(0) as u64;
    let shape_u64 = header.shape().to_vec();
    let needed = shape_u64
        .iter()
        .try_fold(item, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| err(format!("shape {shape_u64:?} overflows")))?;
    let (image, storage) = match place {
        NpyPlace::Stored { start, len } => (
            len,
            Storage::Npy {
                start,
                len,
                header: header_len,
            },
        ),
        NpyPlace::Deflated {
            start,
            compressed,
            declared,
            crc,
        } => (
            declared,
            Storage::Deflated {
                start,
                compressed,
                declared,
                crc,
                header: header_len,
            },
        ),
    };
    let available = image.saturating_sub(header_len);
    if needed > available {
        return Err(err(format!(
            "truncated: shape {shape_u64:?} of '{type_str}' needs {needed} bytes of data, only {available} present"
        )));
    }
    let shape = shape_u64
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| err(format!("axis of {d} is too long"))))
        .collect::<Result<Vec<_>>>()?;
    Ok(Entry {
        key: key.to_string(),
        shape,
        layout: Layout {
            float,
            little_endian: type_str.endianness() != Endianness::Big,
            fortran: header.order() == Order::Fortran,
        },
        storage,
    })
}

pub(crate) fn npz_entries(source: &dyn ByteSource) -> Result<Vec<Entry>> {
    let file = source.name();
    let mut archive = zip::ZipArchive::new(SourceReader::new(source, 0, source.len()))
        .map_err(|e| RepsError::file(file, format!("not a valid .npz (zip) archive: {e}")))?;
    let mut out: Vec<Entry> = Vec::new();
    for i in 0..archive.len() {
        let (name, method, start, compressed, declared, crc) = {
            let entry = archive.by_index_raw(i).map_err(|e| {
                RepsError::file(file, format!("archive entry {i} is unreadable: {e}"))
            })?;
            (
                entry.name().to_string(),
                entry.compression(),
                entry.data_start(),
                entry.compressed_size(),
                entry.size(),
                entry.crc32(),
            )
        };
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        if let Some(first) = out.iter().position(|e| e.key == key) {
            return Err(RepsError::file(
                file,
                format!("members {first} and {i} are both named '{name}'; an .npz holds each array once"),
            ));
        }
        if start.saturating_add(compressed) > source.len() {
            return Err(RepsError::array(
                file,
                &key,
                format!(
                    "truncated: its {compressed} bytes at offset {start} run past the end of the {}-byte file",
                    source.len()
                ),
            ));
        }
        let entry = match method {
            zip::CompressionMethod::Stored => npy_entry(
                source,
                &key,
                SourceReader::new(source, start, start + compressed),
                NpyPlace::Stored {
                    start,
                    len: compressed,
                },
            )?,
            zip::CompressionMethod::Deflated => {
                if declared > compressed.saturating_mul(1032).saturating_add(1024) {
                    return Err(RepsError::array(
                        file,
                        &key,
                        format!("claims {declared} bytes when inflated, more than its {compressed} compressed bytes can hold: the archive is corrupt"),
                    ));
                }
                let reader = flate2::read::DeflateDecoder::new(SourceReader::new(
                    source,
                    start,
                    start + compressed,
                ));
                npy_entry(
                    source,
                    &key,
                    reader,
                    NpyPlace::Deflated {
                        start,
                        compressed,
                        declared,
                        crc,
                    },
                )?
            }
            other => {
                return Err(RepsError::array(
                    file,
                    &key,
                    format!("compression {other:?} is not supported (np.savez and np.savez_compressed write stored or deflated members)"),
                ))
            }
        };
        out.push(entry);
    }
    if out.is_empty() {
        return Err(RepsError::file(file, "the .npz archive holds no arrays"));
    }
    Ok(out)
}

pub(crate) fn safetensors_entries(source: &dyn ByteSource) -> Result<Vec<Entry>> {
    let file = source.name();
    let invalid = |r: String| RepsError::file(file, format!("not a valid .safetensors file: {r}"));
    let mut len_bytes = [0u8; 8];
    source
        .read_at(0, &mut len_bytes)
        .map_err(|e| invalid(e.to_string()))?;
    let header_len = u64::from_le_bytes(len_bytes);
    if header_len > MAX_HEADER_BYTES || header_len > source.len() - 8 {
        return Err(invalid(format!(
            "its header claims {header_len} bytes, the file has {}",
            source.len()
        )));
    }
    let mut header = vec![0u8; header_len as usize];
    source
        .read_at(8, &mut header)
        .map_err(|e| invalid(e.to_string()))?;
    let parsed: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&header).map_err(|e| invalid(format!("header: {e}")))?;
    let data_start = 8 + header_len;
    let mut out = Vec::new();
    let mut metadata = Vec::new();
    for (key, value) in &parsed {
        if key == "__metadata__" {
            if let Some(map) = value.as_object() {
                for k in METADATA_KEYS {
                    if let Some(text) = map.get(k).and_then(|v| v.as_str()) {
                        metadata.push(Entry {
                            key: k.to_string(),
                            shape: Vec::new(),
                            layout: Layout {
                                float: None,
                                little_endian: true,
                                fortran: false,
                            },
                            storage: Storage::Text(text.to_string()),
                        });
                    }
                }
            }
            continue;
        }
        let info: safetensors::tensor::TensorInfo = serde_json::from_value(value.clone())
            .map_err(|e| RepsError::array(file, key, format!("header entry: {e}")))?;
        let item = (info.dtype.bitsize() / 8).max(1) as u64;
        let elements = info
            .shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
            .ok_or_else(|| RepsError::array(file, key, "shape overflows"))?;
        let (a, b) = (info.data_offsets.0 as u64, info.data_offsets.1 as u64);
        if b < a || b - a != elements.saturating_mul(item) {
            return Err(RepsError::array(
                file,
                key,
                format!(
                    "shape {:?} of {:?} needs {} bytes, its offsets give {}",
                    info.shape,
                    info.dtype,
                    elements.saturating_mul(item),
                    b.saturating_sub(a)
                ),
            ));
        }
        if data_start + b > source.len() {
            return Err(RepsError::array(
                file,
                key,
                format!(
                    "truncated: its data ends at byte {}, the file has {}",
                    data_start + b,
                    source.len()
                ),
            ));
        }
        let float = match info.dtype {
            safetensors::Dtype::F16 => Some(FloatType::F16),
            safetensors::Dtype::BF16 => Some(FloatType::BF16),
            safetensors::Dtype::F32 => Some(FloatType::F32),
            safetensors::Dtype::F64 => Some(FloatType::F64),
            _ => None,
        };
        out.push(Entry {
            key: key.clone(),
            shape: info.shape.clone(),
            layout: Layout {
                float,
                little_endian: true,
                fortran: false,
            },
            storage: Storage::Tensor {
                start: data_start + a,
                len: b - a,
                dtype: info.dtype,
            },
        });
    }
    out.sort_by(|x, y| x.key.cmp(&y.key));
    out.extend(metadata);
    Ok(out)
}
