//! Eigenvalues of `ÃᵀÃ` (equivalently `ÃÃᵀ`) and the kernel summary that linear CKA needs.

use super::eigen::symmetric_eigenvalues_desc;
use super::CenteredMatrix;
use crate::error::Result;
use faer::{Accum, Mat, MatRef};

/// What a layer keeps for comparing it with another layer by linear CKA: the smaller of the two
/// second-moment matrices.
#[derive(Clone, Debug)]
pub enum Kernel {
    /// N ≤ D: the centred Gram matrix `K = ÃÃᵀ` (N × N, lower triangle valid).
    Gram(Mat<f64>),
    /// N > D: `Ã` itself (N × D), so that cross products `ÃᵀB̃` can be formed.
    Features(Mat<f64>),
}

/// `Σ_ij A_ij B_ij` for symmetric `A`, `B` of which only the lower triangles are read.
pub fn lower_inner_product(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
    let n = a.nrows();
    let mut diag = 0.0;
    let mut off = 0.0;
    for j in 0..n {
        let ca = a.col(j).try_as_col_major().expect("contiguous");
        let cb = b.col(j).try_as_col_major().expect("contiguous");
        let (ca, cb) = (ca.as_slice(), cb.as_slice());
        diag += ca[j] * cb[j];
        off += ca[j + 1..]
            .iter()
            .zip(&cb[j + 1..])
            .map(|(x, y)| x * y)
            .sum::<f64>();
    }
    diag + 2.0 * off
}

/// Spectrum of a centred matrix: the eigenvalues `λ_i = s_i²` of `ÃÃᵀ` (N ≤ D) or `ÃᵀÃ` (N > D),
/// descending, plus the kernel to keep for CKA and the self inner product `‖ÃᵀÃ‖²_F`.
///
/// Eigenvalues at or below `max(N, D) · ε · λ₁` (the rounding level of the Gram product) are set
/// to exactly 0, as are negative ones, so that a rank-k matrix has exactly k non-zero singular values.
pub(crate) fn spectrum(c: &CenteredMatrix) -> Result<(Vec<f64>, Kernel, f64)> {
    let (n, d) = (c.rows(), c.cols());
    let par = faer::get_global_parallelism();
    let x = c.matrix.as_ref();
    Ok(if n <= d {
        let gram = lower_gram(x, par);
        let self_inner = lower_inner_product(gram.as_ref(), gram.as_ref());
        let eig = second_moment_eigenvalues(gram.as_ref(), n, d)?;
        (eig, Kernel::Gram(gram), self_inner)
    } else {
        let mut cov = Mat::<f64>::zeros(d, d);
        faer::linalg::matmul::matmul(cov.as_mut(), Accum::Replace, x.transpose(), x, 1.0, par);
        let self_inner = frobenius_squared(cov.as_ref());
        let eig = second_moment_eigenvalues(cov.as_ref(), n, d)?;
        (eig, Kernel::Features(c.matrix.clone()), self_inner)
    })
}

/// The eigenvalues of a second-moment matrix (`ÃÃᵀ` or `ÃᵀÃ`, lower triangle read) of an N × D
/// matrix, descending, with those at or below `max(N, D) · ε · λ₁` (the rounding level of the
/// product) and negative ones set to exactly 0.
pub(crate) fn second_moment_eigenvalues(
    sym: MatRef<'_, f64>,
    n: usize,
    d: usize,
) -> Result<Vec<f64>> {
    let mut eig = symmetric_eigenvalues_desc(sym, faer::get_global_parallelism())?;
    let top = eig.first().copied().unwrap_or(0.0).max(0.0);
    let floor = n.max(d) as f64 * f64::EPSILON * top;
    for l in eig.iter_mut() {
        if *l <= floor {
            *l = 0.0;
        }
    }
    Ok(eig)
}

/// `‖M‖²_F`.
pub(crate) fn frobenius_squared(m: MatRef<'_, f64>) -> f64 {
    let mut s = 0.0;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            let v = m[(i, j)];
            s += v * v;
        }
    }
    s
}

/// `⟨K_x, K_y⟩_F = ‖ÃᵀB̃‖²_F` between two kernels over the same N samples.
pub(crate) fn kernel_inner_product(x: &Kernel, y: &Kernel) -> f64 {
    let par = faer::get_global_parallelism();
    match (x, y) {
        (Kernel::Gram(kx), Kernel::Gram(ky)) => lower_inner_product(kx.as_ref(), ky.as_ref()),
        (Kernel::Features(fx), Kernel::Features(fy)) => {
            let mut cross = Mat::<f64>::zeros(fx.ncols(), fy.ncols());
            faer::linalg::matmul::matmul(
                cross.as_mut(),
                Accum::Replace,
                fx.transpose(),
                fy.as_ref(),
                1.0,
                par,
            );
            frobenius_squared(cross.as_ref())
        }
        (Kernel::Gram(k), Kernel::Features(f)) | (Kernel::Features(f), Kernel::Gram(k)) => {
            lower_inner_product(k.as_ref(), lower_gram(f.as_ref(), par).as_ref())
        }
    }
}

/// `X Xᵀ` of the N × D `x`, lower triangle valid: faer's triangular product on native targets,
/// the two-lane SIMD kernel of [`super::gram`] in WebAssembly (whole and symmetric there).
fn lower_gram(x: MatRef<'_, f64>, par: faer::Par) -> Mat<f64> {
    #[cfg(target_arch = "wasm32")]
    {
        let _ = par;
        super::gram::gram(x)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use faer::linalg::matmul::triangular::BlockStructure;
        let n = x.nrows();
        let mut gram = Mat::<f64>::zeros(n, n);
        faer::linalg::matmul::triangular::matmul(
            gram.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Replace,
            x,
            BlockStructure::Rectangular,
            x.transpose(),
            BlockStructure::Rectangular,
            1.0,
            par,
        );
        gram
    }
}
