//! The column-centred activation matrix `Ã = A − mean_rows(A)` in f64.

use crate::activations::{Activations, Values};
use faer::Mat;

/// `Ã = A − mean_rows(A)`, stored column-major (N × D) for the matrix products, together with the
/// population variance of every column and the squared norm of every row of `Ã`.
///
/// Each column is first shifted by its first element, which is exact for values that came from
/// f32 or that are all equal. So a constant column centres to exactly zero and has variance exactly
/// 0, instead of rounding noise (which would make a dead neuron look alive).
#[derive(Clone, Debug)]
pub struct CenteredMatrix {
    /// Ã, N × D.
    pub matrix: Mat<f64>,
    /// Population variance of column d: `Σ_i Ã_id² / N`.
    pub column_variances: Vec<f64>,
    /// `‖Ã_i‖²` for every row i (the diagonal of the centred Gram matrix).
    pub row_squared_norms: Vec<f64>,
}

impl CenteredMatrix {
    /// Centres `a`. `N = 0` gives an empty matrix.
    pub fn new(a: &Activations) -> Self {
        let (n, d) = (a.rows(), a.cols());
        let mut matrix = Mat::<f64>::zeros(n, d);
        let mut column_variances = vec![0.0; d];
        let mut row_squared_norms = vec![0.0; n];
        if n == 0 {
            return CenteredMatrix {
                matrix,
                column_variances,
                row_squared_norms,
            };
        }
        // Copy row-major input into column-major storage, shifted by the first row.
        match a.values() {
            Values::F32(v) => transpose_shifted(v, n, d, &mut matrix),
            Values::F64(v) => transpose_shifted(v, n, d, &mut matrix),
        }
        let inv_n = 1.0 / n as f64;
        for (j, var) in column_variances.iter_mut().enumerate() {
            let col = matrix
                .col_mut(j)
                .try_as_col_major_mut()
                .expect("contiguous");
            let col = col.as_slice_mut();
            let mean = col.iter().sum::<f64>() * inv_n;
            let mut ss = 0.0;
            for x in col.iter_mut() {
                *x -= mean;
                ss += *x * *x;
            }
            *var = ss * inv_n;
        }
        for j in 0..d {
            let col = matrix.col(j).try_as_col_major().expect("contiguous");
            for (acc, x) in row_squared_norms.iter_mut().zip(col.as_slice()) {
                *acc += x * x;
            }
        }
        CenteredMatrix {
            matrix,
            column_variances,
            row_squared_norms,
        }
    }

    /// Number of samples N.
    pub fn rows(&self) -> usize {
        self.matrix.nrows()
    }

    /// Number of features D.
    pub fn cols(&self) -> usize {
        self.matrix.ncols()
    }
}

/// Writes `src` (row-major N × D) into `dst` (column-major) minus the first row, in tiles so that
/// both sides stay in cache.
fn transpose_shifted<T: Copy + Into<f64>>(src: &[T], n: usize, d: usize, dst: &mut Mat<f64>) {
    const TILE: usize = 32;
    for j0 in (0..d).step_by(TILE) {
        let j1 = (j0 + TILE).min(d);
        for i0 in (0..n).step_by(TILE) {
            let i1 = (i0 + TILE).min(n);
            for j in j0..j1 {
                let shift: f64 = src[j].into();
                let col = dst.col_mut(j).try_as_col_major_mut().expect("contiguous");
                let col = &mut col.as_slice_mut()[i0..i1];
                for (k, slot) in col.iter_mut().enumerate() {
                    let x: f64 = src[(i0 + k) * d + j].into();
                    *slot = x - shift;
                }
            }
        }
    }
}
