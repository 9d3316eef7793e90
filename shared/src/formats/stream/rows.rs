//! Reading an entry's rows in chunks, decoded to f64, without holding the array.

use super::entries::{Entry, FloatType, Storage};
use super::source::{ByteSource, SourceReader};
use crate::error::{RepsError, Result};
use std::io::Read;

/// Reads the rows of a float entry in order, a chunk at a time. A row is `row_len` consecutive
/// elements (the entry's trailing axes); the rows are all leading ones, in C order. A deflated
/// member is inflated as it is read, and its CRC-32 is checked when the last row has been read.
pub struct RowReader<'a> {
    file: &'a str,
    key: &'a str,
    float: FloatType,
    little_endian: bool,
    row_len: usize,
    rows: usize,
    done: usize,
    stream: Box<dyn Read + 'a>,
    /// For a deflated member: the CRC-32 it declares, and the running hash of what was inflated.
    crc: Option<(u32, crc32fast::Hasher)>,
    buf: Vec<u8>,
}

impl<'a> RowReader<'a> {
    /// A reader of `entry`'s rows of `row_len` elements each (`row_len` must divide its element
    /// count). Errors when the entry is not floats in C order.
    pub fn new(source: &'a dyn ByteSource, entry: &'a Entry, row_len: usize) -> Result<Self> {
        let file = source.name();
        let err = |r: String| RepsError::array(file, &entry.key, r);
        let Some(float) = entry.layout.float else {
            return Err(err("is not a float array".into()));
        };
        if entry.layout.fortran {
            return Err(err(
                "is stored in Fortran order, which cannot be read row by row; save it in C order (np.ascontiguousarray)".into(),
            ));
        }
        let elements = entry.elements();
        if row_len == 0 || elements % row_len as u64 != 0 {
            return Err(err(format!(
                "rows of {row_len} elements do not divide its {elements} elements"
            )));
        }
        let rows = (elements / row_len as u64) as usize;
        let (stream, crc, header): (Box<dyn Read + 'a>, _, u64) = match &entry.storage {
            Storage::Npy { start, len, header } => (
                Box::new(SourceReader::new(source, *start, start + len)),
                None,
                *header,
            ),
            Storage::Deflated {
                start,
                compressed,
                crc,
                header,
                ..
            } => (
                Box::new(flate2::read::DeflateDecoder::new(SourceReader::new(
                    source,
                    *start,
                    start + compressed,
                ))),
                Some((*crc, crc32fast::Hasher::new())),
                *header,
            ),
            Storage::Tensor { start, len, .. } => (
                Box::new(SourceReader::new(source, *start, start + len)),
                None,
                0,
            ),
            Storage::Text(_) => return Err(err("is text, not a float array".into())),
        };
        let mut reader = RowReader {
            file,
            key: &entry.key,
            float,
            little_endian: entry.layout.little_endian,
            row_len,
            rows,
            done: 0,
            stream,
            crc,
            buf: Vec::new(),
        };
        // Skip the .npy header (hashed too: the CRC covers the whole member).
        let mut header_bytes = vec![0u8; header as usize];
        reader.read_exact(&mut header_bytes, 0)?;
        Ok(reader)
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Elements per row.
    pub fn row_len(&self) -> usize {
        self.row_len
    }

    /// Rows read so far.
    pub fn position(&self) -> usize {
        self.done
    }

    fn read_exact(&mut self, buf: &mut [u8], row: usize) -> Result<()> {
        self.stream.read_exact(buf).map_err(|e| {
            let reason = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                format!("truncated: the data ends before row {row} of {}", self.rows)
            } else {
                format!(
                    "corrupt or unreadable data at row {row} of {}: {e}",
                    self.rows
                )
            };
            RepsError::array(self.file, self.key, reason)
        })?;
        if let Some((_, hasher)) = &mut self.crc {
            hasher.update(buf);
        }
        Ok(())
    }

    /// Reads up to `max_rows` further rows into `out` (replaced; `rows × row_len` values, row-major)
    /// and returns how many were read: 0 at the end. After the last row of a deflated member, the
    /// rest of the member is read and its CRC-32 checked. Non-finite values are an error naming
    /// the row and column.
    pub fn next_rows(&mut self, max_rows: usize, out: &mut Vec<f64>) -> Result<usize> {
        let take = max_rows.min(self.rows - self.done);
        out.clear();
        if take == 0 {
            return Ok(0);
        }
        let bytes = take * self.row_len * self.float.size();
        let mut buf = std::mem::take(&mut self.buf);
        buf.resize(bytes, 0);
        let first = self.done;
        self.read_exact(&mut buf, first)?;
        decode(self.float, self.little_endian, &buf, out);
        self.buf = buf;
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            return Err(RepsError::array(
                self.file,
                self.key,
                format!(
                    "non-finite value {} at row {}, column {}",
                    out[i],
                    first + i / self.row_len,
                    i % self.row_len
                ),
            ));
        }
        self.done += take;
        if self.done == self.rows {
            self.finish()?;
        }
        Ok(take)
    }

    /// Checks a deflated member's CRC-32 once its data has been read (the rest of the member, if
    /// any, is read and hashed first).
    fn finish(&mut self) -> Result<()> {
        let Some((expected, _)) = self.crc else {
            return Ok(());
        };
        let mut rest = Vec::new();
        (&mut self.stream)
            .take(1 << 20)
            .read_to_end(&mut rest)
            .map_err(|e| {
                RepsError::array(
                    self.file,
                    self.key,
                    format!("corrupt or truncated data after its last row: {e}"),
                )
            })?;
        let (_, hasher) = self.crc.take().expect("checked above");
        let mut hasher = hasher;
        hasher.update(&rest);
        if hasher.finalize() != expected {
            return Err(RepsError::array(
                self.file,
                self.key,
                "its CRC-32 does not match its data: the file is corrupt",
            ));
        }
        Ok(())
    }
}

/// Decodes `bytes` of `float` elements into f64 values.
fn decode(float: FloatType, little: bool, bytes: &[u8], out: &mut Vec<f64>) {
    fn each<const N: usize>(bytes: &[u8], out: &mut Vec<f64>, f: impl Fn([u8; N]) -> f64) {
        out.extend(
            bytes
                .chunks_exact(N)
                .map(|c| f(c.try_into().expect("N bytes"))),
        );
    }
    match (float, little) {
        (FloatType::F16, true) => each(bytes, out, |b| half::f16::from_le_bytes(b).to_f64()),
        (FloatType::F16, false) => each(bytes, out, |b| half::f16::from_be_bytes(b).to_f64()),
        (FloatType::BF16, true) => each(bytes, out, |b| half::bf16::from_le_bytes(b).to_f64()),
        (FloatType::BF16, false) => each(bytes, out, |b| half::bf16::from_be_bytes(b).to_f64()),
        (FloatType::F32, true) => each(bytes, out, |b| f32::from_le_bytes(b) as f64),
        (FloatType::F32, false) => each(bytes, out, |b| f32::from_be_bytes(b) as f64),
        (FloatType::F64, true) => each(bytes, out, f64::from_le_bytes),
        (FloatType::F64, false) => each(bytes, out, f64::from_be_bytes),
    }
}
