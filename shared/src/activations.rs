//! One layer's activation matrix: `N` samples × `D` features, each row one sample flattened in C order.

use crate::error::{RepsError, Result};

/// Stored element values, kept in the precision they came in (snapshots hold f32, user files may hold f64).
/// All arithmetic converts to f64 (DESIGN.md §2).
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
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

    /// Index of the first NaN or infinite element, if any.
    pub fn first_non_finite(&self) -> Option<usize> {
        match self {
            Values::F32(v) => v.iter().position(|x| !x.is_finite()),
            Values::F64(v) => v.iter().position(|x| !x.is_finite()),
        }
    }

    /// A copy as f32 (for snapshots, which store f32).
    pub fn to_f32(&self) -> Vec<f32> {
        match self {
            Values::F32(v) => v.clone(),
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
        Self::new(rows, vec![cols], Values::F64(values))
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
        (0..d).map(|j| self.values.get(i * d + j)).collect()
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
                Values::F32(v) => Values::F32(pick(v, rows, d)),
                Values::F64(v) => Values::F64(pick(v, rows, d)),
            },
        }
    }

    /// Argmax of every row (ties go to the lowest index); used for logits.
    pub fn row_argmax(&self) -> Vec<u32> {
        let d = self.cols();
        (0..self.rows)
            .map(|i| {
                let mut best = 0usize;
                let mut best_v = f64::NEG_INFINITY;
                for j in 0..d {
                    let v = self.values.get(i * d + j);
                    if v > best_v {
                        best_v = v;
                        best = j;
                    }
                }
                best as u32
            })
            .collect()
    }
}
