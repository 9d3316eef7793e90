//! The column-centred activation matrix `Ã = A − mean_rows(A)` in f64.

use crate::activations::Activations;
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
        // Blocked over rows so that both sides stay in cache.
        const BLOCK: usize = 64;
        let first = a.row(0);
        for i0 in (0..n).step_by(BLOCK) {
            let i1 = (i0 + BLOCK).min(n);
            for j in 0..d {
                let col = matrix
                    .col_mut(j)
                    .try_as_col_major_mut()
                    .expect("contiguous");
                let col = col.as_slice_mut();
                for (i, slot) in col.iter_mut().enumerate().take(i1).skip(i0) {
                    *slot = a.get(i, j) - first[j];
                }
            }
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
