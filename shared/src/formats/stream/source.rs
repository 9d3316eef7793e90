//! Where streamed bytes come from: anything that can read a range of bytes at an offset.

use std::io::{Read, Seek, SeekFrom};

/// A file that can be read at any offset without being held in memory: a byte slice, a file on
/// disk (`native`), a `Blob` in the browser's worker. Reads are exact: a range past the end is an
/// error (`UnexpectedEof`).
pub trait ByteSource {
    /// The file's name, for messages.
    fn name(&self) -> &str;
    /// Its size in bytes.
    fn len(&self) -> u64;
    /// Whether it is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Fills `buf` with the bytes at `offset..offset + buf.len()`.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()>;
}

/// A byte slice already in memory, as a [`ByteSource`].
pub struct SliceSource<'a> {
    name: String,
    bytes: &'a [u8],
}

impl<'a> SliceSource<'a> {
    /// `bytes`, named `name` in messages.
    pub fn new(name: &str, bytes: &'a [u8]) -> Self {
        SliceSource {
            name: name.to_string(),
            bytes,
        }
    }
}

impl ByteSource for SliceSource<'_> {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        match start
            .checked_add(buf.len())
            .and_then(|end| self.bytes.get(start..end))
        {
            Some(src) => {
                buf.copy_from_slice(src);
                Ok(())
            }
            None => Err(std::io::ErrorKind::UnexpectedEof.into()),
        }
    }
}

/// The bytes `start..end` of a source as a `Read + Seek` stream (positions relative to `start`),
/// for the zip reader and the inflater.
pub(crate) struct SourceReader<'a> {
    source: &'a dyn ByteSource,
    start: u64,
    end: u64,
    pos: u64,
}

impl<'a> SourceReader<'a> {
    /// The range `start..end`, clipped to the source.
    pub(crate) fn new(source: &'a dyn ByteSource, start: u64, end: u64) -> Self {
        let end = end.min(source.len());
        SourceReader {
            source,
            start: start.min(end),
            end,
            pos: start.min(end),
        }
    }
}

impl Read for SourceReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (self.end - self.pos).min(buf.len() as u64) as usize;
        if n == 0 {
            return Ok(0);
        }
        self.source.read_at(self.pos, &mut buf[..n])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SourceReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let len = (self.end - self.start) as i128;
        let rel = (self.pos - self.start) as i128;
        let target = match to {
            SeekFrom::Start(o) => o as i128,
            SeekFrom::End(o) => len + o as i128,
            SeekFrom::Current(o) => rel + o as i128,
        };
        if target < 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start",
            ));
        }
        // Seeking past the end is allowed (reads there return nothing), as for files.
        self.pos = self.start + (target.min(len) as u64);
        Ok(target as u64)
    }
}
