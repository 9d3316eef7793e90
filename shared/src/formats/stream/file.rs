//! A file on disk as a [`ByteSource`] (native Unix targets; the browser reads `Blob`s instead).

use super::source::ByteSource;
use crate::error::{RepsError, Result};
use std::path::Path;

/// A file on disk read at offsets as it is needed, never whole.
pub struct FileSource {
    name: String,
    file: std::fs::File,
    len: u64,
}

impl FileSource {
    /// Opens `path`, which must be a regular file (a stream cannot be read twice).
    pub fn open(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let cannot = |e: std::io::Error| RepsError::file(&name, format!("cannot read it: {e}"));
        let meta = std::fs::metadata(path).map_err(cannot)?;
        if !meta.file_type().is_file() {
            return Err(RepsError::file(
                &name,
                "is not a regular file; reading in row chunks needs one",
            ));
        }
        let file = std::fs::File::open(path).map_err(cannot)?;
        Ok(FileSource {
            name,
            file,
            len: meta.len(),
        })
    }
}

impl ByteSource for FileSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.file.read_exact_at(buf, offset)
    }
}
