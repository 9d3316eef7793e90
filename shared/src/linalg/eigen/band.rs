//! Stage 1: a dense symmetric matrix to a band matrix by orthogonal similarity, with the
//! two-sided updates as matrix products (LAPACK's `dsytrd_sy2sb`).
//!
//! Panel by panel, the `w ≤ b` columns `k..k+w` below row `r₀ = k + b` are QR-factorised,
//! `P = QR` with `Q = I − V T Vᵀ` (`V` unit lower trapezoidal, `T` upper triangular), which
//! leaves `R` within the band, and the trailing matrix becomes `QᵀA₂₂Q`:
//!
//! `X = A₂₂ V T`, `W = X − ½ V (Tᵀ Vᵀ X)`, `A₂₂ ← A₂₂ − V Wᵀ − W Vᵀ`.
//!
//! Almost all of the `4/3 n³` flops are then in matrix products of inner dimension `b` and `2b`,
//! which run near the machine's GEMM rate, where a direct tridiagonalisation spends half of them
//! in matrix–vector products limited by memory bandwidth.

use super::householder::{axpy, dot, make_reflector};
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, Par};

/// Reduces the symmetric `a` (lower triangle read and written) to a band with `b ≥ 1`
/// sub-diagonals. On return the entries `a[i, j]` with `j ≤ i ≤ j + b` hold the band, with the
/// same eigenvalues as the input; the lower triangle further from the diagonal is zero.
pub(super) fn reduce_to_band(mut a: MatMut<'_, f64>, b: usize, par: Par) {
    let n = a.nrows();
    let mut k = 0;
    // Column k has entries to annihilate while rows beyond k + b exist.
    while k + b + 1 < n {
        let r0 = k + b;
        let m = n - r0;
        // Reflectors for the columns with entries below the band; Qᵀ also reaches the other
        // columns k + w .. r₀ where the last panel is narrower than b.
        let w = b.min(m - 1);
        let mut v = Mat::<f64>::zeros(m, 2 * w);
        let mut t = Mat::<f64>::zeros(w, w);
        panel_qr(
            a.rb_mut().submatrix_mut(r0, k, m, b),
            v.as_mut().subcols_mut(0, w),
            t.as_mut(),
        );
        let mut a22 = a.rb_mut().submatrix_mut(r0, r0, m, m);
        // X = A₂₂ V T, with A₂₂ = L + L̊ᵀ (L its lower triangle, L̊ strictly lower).
        let (vs, mut ws) = v.as_mut().split_at_col_mut(w);
        let vs = vs.rb();
        let mut y = Mat::<f64>::zeros(m, w);
        triangular::matmul(
            y.as_mut(),
            BlockStructure::Rectangular,
            Accum::Replace,
            a22.rb(),
            BlockStructure::TriangularLower,
            vs,
            BlockStructure::Rectangular,
            1.0,
            par,
        );
        triangular::matmul(
            y.as_mut(),
            BlockStructure::Rectangular,
            Accum::Add,
            a22.rb().transpose(),
            BlockStructure::StrictTriangularUpper,
            vs,
            BlockStructure::Rectangular,
            1.0,
            par,
        );
        triangular::matmul(
            ws.rb_mut(),
            BlockStructure::Rectangular,
            Accum::Replace,
            y.as_ref(),
            BlockStructure::Rectangular,
            t.as_ref(),
            BlockStructure::TriangularUpper,
            1.0,
            par,
        );
        // W = X − ½ V (Tᵀ (Vᵀ X)).
        let mut vtx = Mat::<f64>::zeros(w, w);
        matmul(
            vtx.as_mut(),
            Accum::Replace,
            vs.transpose(),
            ws.rb(),
            1.0,
            par,
        );
        let mut mid = Mat::<f64>::zeros(w, w);
        triangular::matmul(
            mid.as_mut(),
            BlockStructure::Rectangular,
            Accum::Replace,
            t.transpose(),
            BlockStructure::TriangularLower,
            vtx.as_ref(),
            BlockStructure::Rectangular,
            1.0,
            par,
        );
        matmul(ws.rb_mut(), Accum::Add, vs, mid.as_ref(), -0.5, par);
        // A₂₂ ← A₂₂ − [V W] [W V]ᵀ (lower triangle), one product of inner dimension 2w.
        let mut swapped = Mat::<f64>::zeros(m, 2 * w);
        swapped.as_mut().subcols_mut(0, w).copy_from(ws.rb());
        swapped.as_mut().subcols_mut(w, w).copy_from(vs);
        triangular::matmul(
            a22.rb_mut(),
            BlockStructure::TriangularLower,
            Accum::Add,
            v.as_ref(),
            BlockStructure::Rectangular,
            swapped.as_ref().transpose(),
            BlockStructure::Rectangular,
            -1.0,
            par,
        );
        k += w;
    }
}

/// Householder QR of the first `w` columns of the panel `p` (m × b, `w = v.ncols() < m`, `w ≤ b`):
/// on return `p` holds `QᵀP` (`R` in its first `w` columns: upper triangle, zeros below), `v` the
/// unit lower trapezoidal `V` (explicit ones and zeros) and `t` the upper triangular `T` with
/// `Q = H₀H₁⋯H_{w−1} = I − V T Vᵀ` (LAPACK's `dgeqr2` and forward `dlarft`).
fn panel_qr(p: MatMut<'_, f64>, v: MatMut<'_, f64>, t: MatMut<'_, f64>) {
    pulp::Arch::new().dispatch(|| panel_qr_kernel(p, v, t))
}

#[inline(always)]
fn panel_qr_kernel(mut p: MatMut<'_, f64>, mut v: MatMut<'_, f64>, mut t: MatMut<'_, f64>) {
    let (m, b) = p.shape();
    let w = v.ncols();
    for c in 0..w {
        let (done, mut rest) = p.rb_mut().split_at_col_mut(c + 1);
        let col = column_mut(done.col_mut(c));
        let vc = &mut column_mut(v.rb_mut().col_mut(c))[c..];
        vc.copy_from_slice(&col[c..]);
        let h = make_reflector(vc);
        col[c] = h.beta;
        col[c + 1..].fill(0.0);
        let vc = &column(v.rb().col(c))[c..];
        // The remaining panel columns: p_j ← (I − τ v vᵀ) p_j.
        if h.tau != 0.0 {
            for j in 0..b - c - 1 {
                let pj = &mut column_mut(rest.rb_mut().col_mut(j))[c..];
                let s = dot(vc, pj);
                axpy(-h.tau * s, vc, pj);
            }
        }
        // T[0..c, c] = −τ T[0..c, 0..c] (V[:, 0..c]ᵀ v).
        t[(c, c)] = h.tau;
        if c > 0 && h.tau != 0.0 {
            let z: Vec<f64> = (0..c)
                .map(|j| dot(&column(v.rb().col(j))[c..], vc))
                .collect();
            for i in 0..c {
                let s: f64 = (i..c).map(|j| t[(i, j)] * z[j]).sum();
                t[(i, c)] = -h.tau * s;
            }
        }
    }
    debug_assert!(m > w);
}

/// The entries of a contiguous column.
#[inline(always)]
fn column<'a>(c: faer::ColRef<'a, f64>) -> &'a [f64] {
    c.try_as_col_major().expect("contiguous columns").as_slice()
}

#[inline(always)]
fn column_mut<'a>(c: faer::ColMut<'a, f64>) -> &'a mut [f64] {
    c.try_as_col_major_mut()
        .expect("contiguous columns")
        .as_slice_mut()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{max_abs_diff, random_symmetric, uniform};
    use super::*;
    use faer::Side;

    #[test]
    fn panel_qr_factorises_the_panel() {
        let (m, b, w) = (9, 4, 3);
        let mut next = uniform(1);
        let p0 = Mat::<f64>::from_fn(m, b, |_, _| next());
        let mut p = p0.clone();
        let mut v = Mat::<f64>::zeros(m, w);
        let mut t = Mat::<f64>::zeros(w, w);
        panel_qr(p.as_mut(), v.as_mut(), t.as_mut());
        let q = Mat::<f64>::identity(m, m) - &v * &t * v.transpose();
        assert!((&q * &p - &p0).norm_max() < 1e-14);
        assert!((q.transpose() * &q - Mat::<f64>::identity(m, m)).norm_max() < 1e-15);
        for c in 0..w {
            assert!((c + 1..m).all(|i| p[(i, c)] == 0.0));
        }
    }

    #[test]
    fn the_band_keeps_the_eigenvalues_and_nothing_below_it() {
        for (n, b) in [(10, 3), (34, 32), (50, 8), (97, 16)] {
            let a = random_symmetric(n, n as u64);
            let mut reduced = Mat::<f64>::zeros(n, n);
            reduced.copy_from_triangular_lower(a.as_ref());
            reduce_to_band(reduced.as_mut(), b, Par::Seq);
            assert!((0..n).all(|j| (j + b + 1..n).all(|i| reduced[(i, j)] == 0.0)));
            let before = a.self_adjoint_eigenvalues(Side::Lower).unwrap();
            let after = reduced.self_adjoint_eigenvalues(Side::Lower).unwrap();
            let diff = max_abs_diff(&before, &after);
            assert!(diff < 1e-13 * n as f64, "n = {n}, b = {b}: {diff:e}");
        }
    }
}
