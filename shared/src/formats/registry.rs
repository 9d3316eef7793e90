//! The registry of input files: every format the readers understand, how it is recognised from
//! its first bytes, and how its arrays are read whole ([`Format::arrays`]) or listed from its
//! headers for reading in row chunks ([`Format::entries`]). [`detect_kind`](super::detect_kind),
//! the whole-file and streamed readers and the viewer's file pickers all go through [`FORMATS`].
//!
//! Adding a format: its parser in a file of `formats/` (and its header listing in
//! `formats/stream/entries.rs` for the streamed path), then one entry here.

use super::array::RawArray;
use super::budget::ReadBudget;
use super::stream::{ByteSource, Entry};
use super::{parse_npy, parse_npz, parse_safetensors, snapshot, FileKind};
use crate::error::Result;

/// Reads every array of a whole file in memory; a format that holds one unnamed array names it
/// with the last argument (`activations` for a model's file, `labels` for a labels file).
pub type ReadArrays = fn(&str, &[u8], &mut ReadBudget, &str) -> Result<Vec<(String, RawArray)>>;

/// Lists every array of a file from its headers, reading none of the values; one unnamed array
/// is named `activations`.
pub type ListEntries = fn(&dyn ByteSource) -> Result<Vec<Entry>>;

/// One format of input file.
pub struct Format {
    pub kind: FileKind,
    /// Its files' extension, for the file pickers (`accept=`).
    pub extension: &'static str,
    /// How messages name it.
    pub described: &'static str,
    /// Whether a file whose first bytes (up to 16) are these is one.
    pub detect: fn(&[u8]) -> bool,
    /// Its arrays read whole; `None` for the snapshot, which is not an activation file.
    pub arrays: Option<ReadArrays>,
    /// Its arrays listed for the streamed readers; `None` for the snapshot.
    pub entries: Option<ListEntries>,
}

/// Every format, in the order they are tried (the safetensors test, a `{` at byte 8, is the
/// loosest and comes last).
pub const FORMATS: &[Format] = &[
    Format {
        kind: FileKind::Snapshot,
        extension: ".reps",
        described: ".reps snapshot",
        detect: |b| b.starts_with(snapshot::MAGIC),
        arrays: None,
        entries: None,
    },
    Format {
        kind: FileKind::Npz,
        extension: ".npz",
        described: ".npz",
        detect: |b| b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06"),
        arrays: Some(|file, bytes, budget, _| parse_npz(file, bytes, budget)),
        entries: Some(super::stream::npz_entries),
    },
    Format {
        kind: FileKind::Npy,
        extension: ".npy",
        described: ".npy",
        detect: |b| b.starts_with(b"\x93NUMPY"),
        arrays: Some(|file, bytes, budget, single| {
            Ok(vec![(
                single.to_string(),
                parse_npy(file, single, bytes, budget)?,
            )])
        }),
        entries: Some(super::stream::npy_entries),
    },
    Format {
        kind: FileKind::Safetensors,
        extension: ".safetensors",
        described: ".safetensors",
        detect: |b| b.len() >= 9 && b[8] == b'{',
        arrays: Some(|file, bytes, budget, _| parse_safetensors(file, bytes, budget)),
        entries: Some(super::stream::safetensors_entries),
    },
];

/// The format of a file starting with `head`, if any.
pub fn format_of(head: &[u8]) -> Option<&'static Format> {
    FORMATS.iter().find(|f| (f.detect)(head))
}

/// The formats in words, for messages: `.reps snapshot, .npz, .npy or .safetensors`.
pub fn formats_in_words() -> String {
    let names: Vec<&str> = FORMATS.iter().map(|f| f.described).collect();
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The file pickers' `accept=` list: every format's extension, then `extra` (`.json`).
pub fn accept_list(extra: &[&str]) -> String {
    FORMATS
        .iter()
        .map(|f| f.extension)
        .chain(extra.iter().copied())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_named_and_listed_in_order() {
        assert_eq!(
            formats_in_words(),
            ".reps snapshot, .npz, .npy or .safetensors"
        );
        assert_eq!(
            accept_list(&[".json"]),
            ".reps,.npz,.npy,.safetensors,.json"
        );
        // Each format's own first bytes are recognised as it, and as no earlier one.
        let heads: [(&[u8], FileKind); 4] = [
            (b"REPSSNAP\x04\x00", FileKind::Snapshot),
            (b"PK\x03\x04rest", FileKind::Npz),
            (b"\x93NUMPY\x01\x00", FileKind::Npy),
            (b"\x10\0\0\0\0\0\0\0{\"a\":1}", FileKind::Safetensors),
        ];
        for (head, kind) in heads {
            assert_eq!(format_of(head).map(|f| f.kind), Some(kind));
        }
        assert!(format_of(b"GIF89a").is_none());
    }
}
