//! One layer's activation matrix: `N` samples × `D` features, each row one sample flattened in C order.

use crate::error::{RepsError, Result};
use std::sync::Arc;

/// Read-only element storage: a vector owned here, or memory owned elsewhere and shared without a
/// copy (the Python package hands NumPy arrays over this way: the owner keeps the array alive
/// until the last clone of the buffer is dropped). Cloning shares the elements.
pub struct Buffer<T: 'static>(Arc<dyn AsRef<[T]> + Send + Sync>);

impl<T: Send + Sync + 'static> Buffer<T> {
    /// Elements owned by `owner`, read through `owner.as_ref()` and never copied.
    pub fn shared(owner: impl AsRef<[T]> + Send + Sync + 'static) -> Self {
        Buffer(Arc::new(owner))
    }
}

impl<T: Send + Sync + 'static> From<Vec<T>> for Buffer<T> {
    fn from(v: Vec<T>) -> Self {
        Buffer(Arc::new(v))
    }
}

impl<T> std::ops::Deref for Buffer<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        (*self.0).as_ref()
    }
}

impl<T> Clone for Buffer<T> {
    fn clone(&self) -> Self {
        Buffer(Arc::clone(&self.0))
    }
}

impl<T: PartialEq> PartialEq for Buffer<T> {
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Buffer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Stored element values, kept in the precision they came in (snapshots hold f32, user files may hold f64).
/// All arithmetic converts to f64 (docs/DESIGN.md §2).
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    F32(Buffer<f32>),
    F64(Buffer<f64>),
}

impl Values {
    /// Number of stored elements.
    pub fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` as f64.
    #[inline]
    pub fn get(&self, i: usize) -> f64 {
        match self {
            Values::F32(v) => v[i] as f64,
            Values::F64(v) => v[i],
        }
    }

    /// Index of the first NaN or infinite element, if any. Blocks of elements are checked
    /// without an early exit (so that the check vectorises), then the block that failed is searched.
    pub fn first_non_finite(&self) -> Option<usize> {
        fn first<T: Copy>(v: &[T], finite: impl Fn(T) -> bool) -> Option<usize> {
            const BLOCK: usize = 1024;
            let block = v
                .chunks(BLOCK)
                .position(|c| !c.iter().fold(true, |ok, &x| ok & finite(x)))?;
            let start = block * BLOCK;
            v[start..]
                .iter()
                .position(|&x| !finite(x))
                .map(|i| start + i)
        }
        match self {
            Values::F32(v) => first(v, f32::is_finite),
            Values::F64(v) => first(v, f64::is_finite),
        }
    }

    /// Appends the elements `range` to `out` as f64.
    pub fn extend_f64(&self, range: std::ops::Range<usize>, out: &mut Vec<f64>) {
        match self {
            Values::F32(v) => out.extend(v[range].iter().map(|&x| x as f64)),
            Values::F64(v) => out.extend_from_slice(&v[range]),
        }
    }

    /// A copy as f32 (for snapshots, which store f32).
    pub fn to_f32(&self) -> Vec<f32> {
        match self {
            Values::F32(v) => v.to_vec(),
            Values::F64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }
}

/// An `N × D` activation matrix, row-major, with the shape of one sample (whose product is `D`).
#[derive(Clone, Debug, PartialEq)]
pub struct Activations {
    rows: usize,
    sample_shape: Vec<usize>,
    values: Values,
}

impl Activations {
    /// Wraps `values` (row-major, `rows × prod(sample_shape)`), checking that the length agrees and
    /// that every value is finite. An empty `sample_shape` means one feature per sample.
    pub fn new(rows: usize, sample_shape: Vec<usize>, values: Values) -> Result<Self> {
        let cols = sample_shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| RepsError::Invalid("sample shape overflows".into()))?;
        let expected = rows
            .checked_mul(cols)
            .ok_or_else(|| RepsError::Invalid("activation matrix size overflows".into()))?;
        if values.len() != expected {
            return Err(RepsError::Invalid(format!(
                "activation matrix of {rows} × {cols} needs {expected} values, got {}",
                values.len()
            )));
        }
        if let Some(i) = values.first_non_finite() {
            let (r, c) = (i / cols.max(1), i % cols.max(1));
            return Err(RepsError::Invalid(format!(
                "non-finite value {} at sample {r}, feature {c}",
                values.get(i)
            )));
        }
        Ok(Activations {
            rows,
            sample_shape,
            values,
        })
    }

    /// Convenience constructor from row-major f64 values with a flat sample shape `[cols]`.
    pub fn from_rows_f64(rows: usize, cols: usize, values: Vec<f64>) -> Result<Self> {
        Self::new(rows, vec![cols], Values::F64(values.into()))
    }

    /// Number of samples `N`.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of features `D` (product of the sample shape).
    pub fn cols(&self) -> usize {
        self.sample_shape.iter().product()
    }

    /// Shape of one sample's activation tensor before flattening.
    pub fn sample_shape(&self) -> &[usize] {
        &self.sample_shape
    }

    /// The stored values, row-major.
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// Element `(i, j)` as f64.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.values.get(i * self.cols() + j)
    }

    /// Row `i` as f64 values.
    pub fn row(&self, i: usize) -> Vec<f64> {
        let d = self.cols();
        let mut out = Vec::with_capacity(d);
        self.values.extend_f64(i * d..(i + 1) * d, &mut out);
        out
    }

    /// The rows `rows` (any order, repeats allowed: a bootstrap resample), as a new matrix in
    /// the same precision. Every index must be below [`Activations::rows`].
    pub fn select_rows(&self, rows: &[usize]) -> Activations {
        fn pick<T: Copy>(v: &[T], rows: &[usize], d: usize) -> Vec<T> {
            rows.iter()
                .flat_map(|&i| v[i * d..(i + 1) * d].iter().copied())
                .collect()
        }
        let d = self.cols();
        Activations {
            rows: rows.len(),
            sample_shape: self.sample_shape.clone(),
            values: match &self.values {
                Values::F32(v) => Values::F32(pick(v, rows, d).into()),
                Values::F64(v) => Values::F64(pick(v, rows, d).into()),
            },
        }
    }

    /// Argmax of every row (ties go to the lowest index); used for logits.
    pub fn row_argmax(&self) -> Vec<u32> {
        (0..self.rows).map(|i| argmax(&self.row(i))).collect()
    }
}

/// The index of the largest value of `row` (ties go to the lowest index; 0 for an empty row).
pub fn argmax(row: &[f64]) -> u32 {
    let mut best = 0usize;
    let mut best_v = f64::NEG_INFINITY;
    for (j, &v) in row.iter().enumerate() {
        if v > best_v {
            best_v = v;
            best = j;
        }
    }
    best as u32
}

/// A layer whose rows can be read in order, a chunk at a time, as often as needed: what the
/// streamed analysis (`analysis::compare_models_streamed`) reads, so that no N × D matrix has
/// to be held. Implemented by [`Activations`] (in memory) and by the layers of files read in row
/// chunks (`formats::stream`).
pub trait RowSource {
    /// N.
    fn rows(&self) -> usize;
    /// The shape of one row (its product is D).
    fn sample_shape(&self) -> &[usize];
    /// D.
    fn cols(&self) -> usize {
        self.sample_shape().iter().product()
    }
    /// A fresh reader from the first row.
    fn open(&self) -> Result<Box<dyn RowChunks + '_>>;
    /// Where the rows come from (`file: array 'key'`), for messages.
    fn describe(&self) -> String;
}

/// Reading rows in order (see [`RowSource::open`]).
pub trait RowChunks {
    /// Replaces `out` with up to `max_rows` further rows (row-major f64) and returns how many:
    /// 0 at the end.
    fn next_rows(&mut self, max_rows: usize, out: &mut Vec<f64>) -> Result<usize>;
}

/// A borrowed source reads as its owner does (so `Box<dyn RowSource + 'a>` can hold `&'a T`).
impl<T: RowSource + ?Sized> RowSource for &T {
    fn rows(&self) -> usize {
        (**self).rows()
    }
    fn sample_shape(&self) -> &[usize] {
        (**self).sample_shape()
    }
    fn open(&self) -> Result<Box<dyn RowChunks + '_>> {
        (**self).open()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

impl RowSource for Activations {
    fn rows(&self) -> usize {
        self.rows
    }
    fn sample_shape(&self) -> &[usize] {
        &self.sample_shape
    }
    fn open(&self) -> Result<Box<dyn RowChunks + '_>> {
        Ok(Box::new(MemoryRows { a: self, next: 0 }))
    }
    fn describe(&self) -> String {
        format!("{} × {} activations in memory", self.rows, self.cols())
    }
}

struct MemoryRows<'a> {
    a: &'a Activations,
    next: usize,
}

impl RowChunks for MemoryRows<'_> {
    fn next_rows(&mut self, max_rows: usize, out: &mut Vec<f64>) -> Result<usize> {
        let take = max_rows.min(self.a.rows - self.next);
        let d = self.a.cols();
        out.clear();
        self.a
            .values
            .extend_f64(self.next * d..(self.next + take) * d, out);
        self.next += take;
        Ok(take)
    }
}

/// Reads all rows of `source` into memory as f64 activations.
pub fn read_all_rows(source: &dyn RowSource) -> Result<Activations> {
    let (n, d) = (source.rows(), source.cols());
    let mut values = Vec::with_capacity(n * d);
    let mut reader = source.open()?;
    let mut chunk = Vec::new();
    while reader.next_rows(4096, &mut chunk)? > 0 {
        values.extend_from_slice(&chunk);
    }
    if values.len() != n * d {
        return Err(RepsError::Invalid(format!(
            "{}: read {} values, expected {n} × {d}",
            source.describe(),
            values.len()
        )));
    }
    Activations::new(
        n,
        source.sample_shape().to_vec(),
        Values::F64(values.into()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_non_finite_value_is_found_across_blocks() {
        for (len, bad) in [(1, 0), (5001, 0), (5001, 1023), (5001, 1024), (5001, 5000)] {
            for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                let mut v = vec![1.5f64; len];
                v[bad] = value;
                if bad + 7 < len {
                    v[bad + 7] = f64::NAN; // a later one is not the first
                }
                let as_f32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                assert_eq!(Values::F64(v.into()).first_non_finite(), Some(bad));
                assert_eq!(Values::F32(as_f32.into()).first_non_finite(), Some(bad));
            }
        }
        assert_eq!(
            Values::F32(vec![0.0f32; 3000].into()).first_non_finite(),
            None
        );
        assert_eq!(Values::F64(Vec::new().into()).first_non_finite(), None);
    }
}
