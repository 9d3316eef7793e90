//! A file the user dropped, read at offsets from the worker with `FileReaderSync` on
//! `Blob.slice`, so that files larger than the page's memory go through the streamed analysis.

use reps::formats::stream::ByteSource;
use wasm_bindgen::JsCast;

/// One dropped file as a [`ByteSource`]. Only usable in a worker (where `FileReaderSync` exists).
pub struct BlobSource {
    name: String,
    file: web_sys::File,
    reader: web_sys::FileReaderSync,
}

impl BlobSource {
    /// `file`, read through a new `FileReaderSync`.
    pub fn new(file: web_sys::File) -> Result<Self, String> {
        let reader = web_sys::FileReaderSync::new().map_err(|e| {
            format!(
                "{}: cannot be read here: {}",
                file.name(),
                crate::worker::js_error(&e)
            )
        })?;
        Ok(BlobSource {
            name: file.name(),
            file,
            reader,
        })
    }
}

impl ByteSource for BlobSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.file.size() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let end = offset + buf.len() as u64;
        if end > self.len() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let io = |e: wasm_bindgen::JsValue| std::io::Error::other(crate::worker::js_error(&e));
        let slice = self
            .file
            .slice_with_f64_and_f64(offset as f64, end as f64)
            .map_err(io)?;
        let bytes = self.reader.read_as_array_buffer(&slice).map_err(io)?;
        let array = js_sys::Uint8Array::new(bytes.unchecked_ref());
        if array.length() as usize != buf.len() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        array.copy_to(buf);
        Ok(())
    }
}
