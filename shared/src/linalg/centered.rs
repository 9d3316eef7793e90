//! The column-centred activation matrix `Ã = A − mean_rows(A)` in f64, scaled by a power of two.

use super::reduce;
use crate::activations::{Activations, Values};
use faer::Mat;

/// `Ã = A − mean_rows(A)`, stored column-major (N × D) for the matrix products and scaled by
/// `2^−e`, together with the population variance of every column and the squared norm of every
/// row of the stored (scaled) matrix.
///
/// Each column is first shifted by its first element, which is exact for values that came from
/// f32 or that are all equal. So a constant column centres to exactly zero and has variance exactly
/// 0, instead of rounding noise (which would make a dead neuron look alive).
///
/// The scale: `e = ⌊log₂ max|Ã|⌋` (0 for an all-zero matrix), so that the stored entries lie in
/// (−2, 2). Multiplying by a power of two is exact in floating point, so the scale-invariant
/// quantities computed from the stored matrix (effective rank, alive fraction, CKA) are bit for
/// bit what the unscaled matrix gives, while the Gram products and CKA's fourth powers can no
/// longer overflow (activations around 1e77) or underflow (around 1e-100). (The decay fit takes
/// logarithms, which the scale shifts by a rounded constant; `LayerStats` fits it on eigenvalues
/// scaled back where they are representable.)
#[derive(Clone, Debug)]
pub struct CenteredMatrix {
    /// `Ã · 2^−e`, N × D.
    pub matrix: Mat<f64>,
    /// `e`: the stored matrix times `2^e` is Ã.
    pub scale_exponent: i32,
    /// Population variance of column d of the stored matrix: `Σ_i Ã_id² / N · 4^−e`.
    pub column_variances: Vec<f64>,
    /// `‖Ã_i‖² · 4^−e` for every row i (the diagonal of the stored matrix's Gram matrix).
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
                scale_exponent: 0,
                column_variances,
                row_squared_norms,
            };
        }
        // Copy row-major input into column-major storage, shifted by the first row, and centre
        // each column as soon as its tile is written (while it is still in cache).
        let inv_n = 1.0 / n as f64;
        let mut max_abs = 0.0f64;
        let mut centre = |col: &mut [f64]| {
            let mean = reduce::sum(col) * inv_n;
            for x in col.iter_mut() {
                *x -= mean;
            }
            max_abs = max_abs.max(reduce::max_abs(col));
        };
        match a.values() {
            Values::F32(v) => transpose_shifted(v, n, d, &mut matrix, &mut centre),
            Values::F64(v) => transpose_shifted(v, n, d, &mut matrix, &mut centre),
        }
        let scale_exponent = binary_exponent(max_abs);
        let scale = libm::ldexp(1.0, -scale_exponent);
        for (j, var) in column_variances.iter_mut().enumerate() {
            let col = matrix
                .col_mut(j)
                .try_as_col_major_mut()
                .expect("contiguous")
                .as_slice_mut();
            for (acc, x) in row_squared_norms.iter_mut().zip(col.iter_mut()) {
                *x *= scale;
                *acc += *x * *x;
            }
            *var = reduce::dot(col, col) * inv_n;
        }
        CenteredMatrix {
            matrix,
            scale_exponent,
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

/// `⌊log₂ |x|⌋` of a finite non-zero `x` (so `|x| · 2^−e` lies in [1, 2)); 0 for 0 and non-finite
/// values, which are then left unscaled.
pub(crate) fn binary_exponent(x: f64) -> i32 {
    if x == 0.0 || !x.is_finite() {
        return 0;
    }
    libm::ilogb(x)
}

/// Writes `src` (row-major N × D) into `dst` (column-major) minus the first row, in tiles so that
/// both sides stay in cache, and hands every column to `done` once it is complete, in order.
fn transpose_shifted<T: Copy + Into<f64>>(
    src: &[T],
    n: usize,
    d: usize,
    dst: &mut Mat<f64>,
    done: &mut dyn FnMut(&mut [f64]),
) {
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
        for j in j0..j1 {
            let col = dst.col_mut(j).try_as_col_major_mut().expect("contiguous");
            done(col.as_slice_mut());
        }
    }
}
