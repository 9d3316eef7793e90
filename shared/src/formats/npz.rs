//! numpy `.npz` archives (`np.savez` and `np.savez_compressed`), from a byte slice.

use super::array::{RawArray, MAX_ARRAY_BYTES};
use super::npy::parse_npy;
use crate::error::{RepsError, Result};
use std::io::{Cursor, Read};

/// Parses every array of an `.npz` archive, in archive order, keyed by name (without `.npy`).
/// Each entry's declared size is checked against [`MAX_ARRAY_BYTES`], and reading stops at that
/// size, so a corrupt or malicious archive is an error rather than an allocation failure.
pub fn parse_npz(file: &str, bytes: &[u8]) -> Result<Vec<(String, RawArray)>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| RepsError::file(file, format!("not a valid .npz (zip) archive: {e}")))?;
    let mut out = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| RepsError::file(file, format!("archive entry {i} is unreadable: {e}")))?;
        let name = entry.name().to_string();
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        let declared = entry.size();
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
        let mut buf = Vec::new();
        buf.try_reserve_exact(declared as usize).map_err(|_| {
            RepsError::array(
                file,
                &key,
                format!("not enough memory for {declared} bytes"),
            )
        })?;
        (&mut entry)
            .take(declared)
            .read_to_end(&mut buf)
            .map_err(|e| RepsError::array(file, &key, format!("corrupt or truncated data: {e}")))?;
        if (buf.len() as u64) != declared {
            return Err(RepsError::array(
                file,
                &key,
                format!("truncated: {} of {declared} bytes present", buf.len()),
            ));
        }
        out.push((key.clone(), parse_npy(file, &key, &buf)?));
    }
    if out.is_empty() {
        return Err(RepsError::file(file, "the .npz archive holds no arrays"));
    }
    Ok(out)
}
