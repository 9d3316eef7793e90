//! Reading and writing files: users' activation files (`.npz`, `.npy`, `.safetensors`) and the
//! `.reps` snapshot. Everything reads from byte slices, so that the browser can use it as it is.

mod array;
mod budget;
mod csv_cell;
mod model_file;
mod npy;
mod npz;
mod registry;
mod safetensors;
pub mod snapshot;
pub mod stream;

pub use crate::error::human_bytes;
pub use array::{ArrayData, RawArray, MAX_ARRAY_BYTES};
#[cfg(not(target_arch = "wasm32"))]
pub use budget::machine_read_budget;
pub use budget::{ReadBudget, DEFAULT_READ_BUDGET};
pub use csv_cell::spreadsheet_text;
pub use model_file::{model_file_from_arrays, parse_labels, ModelFile, Skipped, RESERVED_KEYS};
pub use npy::parse_npy;
pub use npz::parse_npz;
pub use registry::{accept_list, format_of, formats_in_words, Format, FORMATS};
pub use safetensors::parse_safetensors;

use crate::error::{RepsError, Result};

/// The kinds of input file the analysis understands, recognised by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A `.reps` snapshot (magic `REPSSNAP`).
    Snapshot,
    /// A numpy `.npz` archive (a zip file).
    Npz,
    /// A single numpy `.npy` array.
    Npy,
    /// A `.safetensors` file (u64 header length, then a JSON header).
    Safetensors,
}

/// Recognises a file by its content ([`FORMATS`], in order), and failing that names what was
/// expected.
pub fn detect_kind(file: &str, bytes: &[u8]) -> Result<FileKind> {
    detect_format(file, bytes).map(|f| f.kind)
}

/// The registry entry of a file's format, recognised as [`detect_kind`] does.
pub(crate) fn detect_format(file: &str, bytes: &[u8]) -> Result<&'static Format> {
    if let Some(f) = format_of(bytes) {
        return Ok(f);
    }
    if bytes.is_empty() {
        return Err(RepsError::file(file, "the file is empty"));
    }
    let head: String = bytes
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    Err(RepsError::file(
        file,
        format!(
            "not a {} file (it starts with bytes {head})",
            formats_in_words()
        ),
    ))
}

/// Reads one per-model activation file (`.npz`, `.npy` or `.safetensors`) into a [`ModelFile`]
/// named `model_name`. A single `.npy` is one layer, named `activations`. What is decoded is
/// claimed from `budget`.
pub fn read_model_file(
    file: &str,
    model_name: &str,
    bytes: &[u8],
    budget: &mut ReadBudget,
) -> Result<ModelFile> {
    let Some(read) = detect_format(file, bytes)?.arrays else {
        return Err(RepsError::file(
            file,
            "is a .reps snapshot; give it on its own, not together with per-model files",
        ));
    };
    model_file_from_arrays(file, model_name, read(file, bytes, budget, "activations")?)
}

/// Reads labels for `--labels`: a `.npy` integer array of length N, or an `.npz` /
/// `.safetensors` file with a `labels` array (or a single array). What is decoded is claimed from
/// `budget`.
pub fn read_labels(file: &str, bytes: &[u8], budget: &mut ReadBudget) -> Result<Vec<u32>> {
    let (key, array) = read_label_array(file, bytes, budget)?;
    model_file::parse_labels(file, &key, &array)
}

/// The array [`read_labels`] reads, as it is in the file (any shape), with its key: for readers
/// that interpret it further (per-token labels, `formats::stream::open_streamed`).
pub fn read_label_array(
    file: &str,
    bytes: &[u8],
    budget: &mut ReadBudget,
) -> Result<(String, RawArray)> {
    let Some(read) = detect_format(file, bytes)?.arrays else {
        return Err(RepsError::file(file, "is a snapshot, not a labels file"));
    };
    let arrays = read(file, bytes, budget, "labels")?;
    let single = arrays.len() == 1;
    arrays
        .into_iter()
        .enumerate()
        .find(|(i, (k, _))| k == "labels" || (single && *i == 0))
        .map(|(_, found)| found)
        .ok_or_else(|| RepsError::file(file, "has several arrays and none is named 'labels'"))
}
