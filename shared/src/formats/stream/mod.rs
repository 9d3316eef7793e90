//! Reading activation files without holding them: their arrays listed from the headers
//! ([`list_entries`]) and a float array's rows read in chunks ([`RowReader`]), from any
//! [`ByteSource`] (a slice, a file on disk, a browser `Blob`). `.npy`, `.npz` with stored or
//! deflated members, and `.safetensors` are supported; a deflated member is inflated as it is read.

mod entries;
#[cfg(unix)]
mod file;
mod model;
mod open;
mod rows;
mod source;

pub use entries::{list_entries, Entry, FloatType, Layout};
pub(crate) use entries::{npy_entries, npz_entries, safetensors_entries};
#[cfg(unix)]
pub use file::FileSource;
pub use model::{
    open_streamed_model, parse_mask, parse_token_labels, StreamedFile, ATTENTION_MASK,
};
pub use open::{open_streamed, GivenLabels, StreamedInput};
pub use rows::RowReader;
pub use source::{ByteSource, SliceSource};
