//! numpy `.npz` archives (`np.savez` and `np.savez_compressed`), from a byte slice.

use super::array::{RawArray, MAX_ARRAY_BYTES};
use super::budget::ReadBudget;
use super::npy::parse_npy;
use crate::error::human_bytes;
use crate::error::{RepsError, Result};
use std::io::{Cursor, Read};

/// The most a deflate stream can expand: 1032 output bytes per input byte (RFC 1951's longest
/// match, 258 bytes, in two bits), plus slack for the stream's framing.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// Parses every array of an `.npz` archive, in archive order, keyed by name (without `.npy`).
///
/// Each member is checked before it is inflated: its declared size against [`MAX_ARRAY_BYTES`],
/// against what its compressed bytes can possibly inflate to, and against `budget` (which it
/// claims). Inflating stops one byte past the declared size, so a member that inflates to more
/// is an error, not an allocation; a member that inflates to less is truncated. Every member's
/// CRC-32 is verified (as numpy's `zipfile` does). Two members with the same name are an error
/// naming both (numpy would silently keep the last).
pub fn parse_npz(
    file: &str,
    bytes: &[u8],
    budget: &mut ReadBudget,
) -> Result<Vec<(String, RawArray)>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| RepsError::file(file, format!("not a valid .npz (zip) archive: {e}")))?;
    let mut out: Vec<(String, RawArray)> = Vec::with_capacity(archive.len().min(4096));
    let mut names: Vec<String> = Vec::with_capacity(archive.len().min(4096));
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| RepsError::file(file, format!("archive entry {i} is unreadable: {e}")))?;
        let name = entry.name().to_string();
        if let Some(first) = names.iter().position(|n| *n == name) {
            return Err(RepsError::file(
                file,
                format!("members {first} and {i} are both named '{name}'; an .npz holds each array once"),
            ));
        }
        names.push(name.clone());
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        let declared = entry.size();
        let compressed = entry.compressed_size();
        if declared > MAX_ARRAY_BYTES {
            return Err(RepsError::array(
                file,
                &key,
                format!(
                    "claims {declared} bytes, more than the {} GiB this build reads",
                    MAX_ARRAY_BYTES >> 30
                ),
            ));
        }
        let possible = match entry.compression() {
            zip::CompressionMethod::Stored => compressed,
            _ => compressed
                .saturating_mul(MAX_DEFLATE_RATIO)
                .saturating_add(1024),
        };
        if declared > possible {
            return Err(RepsError::array(
                file,
                &key,
                format!(
                    "claims {} when inflated, more than its {} of compressed data can hold: the archive is corrupt",
                    human_bytes(declared),
                    human_bytes(compressed)
                ),
            ));
        }
        budget.claim(file, &format!("archive member '{name}'"), declared)?;
        let mut buf = Vec::new();
        buf.try_reserve_exact(declared as usize + 1).map_err(|_| {
            RepsError::array(
                file,
                &key,
                format!("not enough memory for {declared} bytes"),
            )
        })?;
        // One byte past the declared size: reading to the end of the member is what makes the
        // zip reader verify its CRC-32, and an extra byte means the member lied about its size.
        (&mut entry)
            .take(declared + 1)
            .read_to_end(&mut buf)
            .map_err(|e| {
                let reason = if e.to_string().contains("checksum") {
                    "its CRC-32 does not match its data: the file is corrupt".to_string()
                } else {
                    format!("corrupt or truncated data: {e}")
                };
                RepsError::array(file, &key, reason)
            })?;
        if (buf.len() as u64) > declared {
            return Err(RepsError::array(
                file,
                &key,
                format!("inflates to more than the {declared} bytes it declares: the archive is corrupt"),
            ));
        }
        if (buf.len() as u64) != declared {
            return Err(RepsError::array(
                file,
                &key,
                format!("truncated: {} of {declared} bytes present", buf.len()),
            ));
        }
        let array = parse_npy(file, &key, &buf, budget)?;
        out.push((key, array));
    }
    if out.is_empty() {
        return Err(RepsError::file(file, "the .npz archive holds no arrays"));
    }
    Ok(out)
}
