//! Eigenvalues of a real symmetric matrix in two stages, as LAPACK's `dsyevd_2stage` computes
//! them without eigenvectors:
//!
//! 1. [`band`]: dense to a band of `b` sub-diagonals, in matrix products (`4/3 n³` flops);
//! 2. [`bulge`]: band to tridiagonal by bulge chasing (`≈ 6 b n²` flops, in cache);
//! 3. [`tridiagonal`]: the tridiagonal matrix's eigenvalues by root-free QL/QR (`O(n²)`).
//!
//! Every step is an orthogonal similarity, so the eigenvalues are computed to within a small
//! multiple of `n ε ‖A‖₂`, like those of any backward-stable solver. A one-stage reduction
//! (faer's, LAPACK's `dsytrd`) spends half its flops in matrix–vector products over the whole
//! trailing matrix, bound by memory bandwidth; here they run at the GEMM rate, and two matrices
//! reduced at once on two cores do not compete for memory.

mod band;
mod bulge;
mod householder;
mod tridiagonal;

use crate::error::Result;
use faer::{Mat, MatRef, Par};

/// The band's width: wide enough for stage 1's products to run near the GEMM rate, narrow
/// enough for stage 2's cost (`≈ 6 b n²`) to stay small beside stage 1's. (On this project's
/// machine, at n = 2000, b = 16, 32 and 48 take 0.23, 0.24 and 0.27 s on one core.)
const BANDWIDTH: usize = 32;

/// Eigenvalues of the symmetric matrix `sym` (lower triangle read), in descending order.
///
/// The matrix is first scaled by the power of two (exact) that brings its largest entry into
/// [1, 2), so that no intermediate square overflows or underflows; the eigenvalues are scaled
/// back, so `λ(2ᵏA) = 2ᵏλ(A)` holds bit for bit. An empty matrix has no eigenvalues and a zero
/// matrix n zeros. `par` is the parallelism of stage 1's matrix products (the result does not
/// depend on it). Errors when the tridiagonal iteration does not converge (LAPACK's limit of 30
/// iterations per eigenvalue; not seen in practice).
pub(crate) fn symmetric_eigenvalues_desc(sym: MatRef<'_, f64>, par: Par) -> Result<Vec<f64>> {
    let n = sym.nrows();
    let mut a = Mat::<f64>::zeros(n, n);
    a.copy_from_triangular_lower(sym);
    let mut max = 0.0f64;
    for j in 0..n {
        for x in &a.col_as_slice(j)[j..] {
            max = max.max(x.abs());
        }
    }
    if max == 0.0 {
        return Ok(vec![0.0; n]);
    }
    let e = crate::linalg::binary_exponent(max);
    let scale = libm::ldexp(1.0, -e);
    for j in 0..n {
        for x in &mut a.col_as_slice_mut(j)[j..] {
            *x *= scale;
        }
    }
    let b = BANDWIDTH.min(n - 1).max(1);
    if n > b + 1 {
        band::reduce_to_band(a.as_mut(), b, par);
    }
    let (mut d, mut sub) = bulge::Band::new(a.as_ref(), b).tridiagonalise();
    tridiagonal::tridiagonal_eigenvalues(&mut d, &mut sub)?;
    d.reverse();
    for l in &mut d {
        *l = libm::ldexp(*l, e);
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Side;
    use proptest::prelude::*;

    /// A deterministic pseudo-random stream in [−½, ½).
    pub(super) fn uniform(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        }
    }

    /// A pseudo-random symmetric matrix, its upper triangle filled with garbage that must not be
    /// read.
    pub(super) fn random_symmetric(n: usize, seed: u64) -> Mat<f64> {
        let mut next = uniform(seed);
        let x = Mat::<f64>::from_fn(n, n, |_, _| next());
        Mat::from_fn(n, n, |i, j| {
            if i >= j {
                x[(i, j)] + x[(j, i)]
            } else {
                f64::NAN
            }
        })
    }

    /// `Q diag(λ) Qᵀ` with `Q` a product of three random reflectors, built independently of the
    /// solver's code: its eigenvalues are `λ` up to the rounding of the construction.
    fn with_eigenvalues(lambda: &[f64], seed: u64) -> Mat<f64> {
        let n = lambda.len();
        let mut next = uniform(seed);
        let mut q = Mat::<f64>::identity(n, n);
        for _ in 0..3 {
            let v = Mat::<f64>::from_fn(n, 1, |_, _| next());
            let vv = (v.transpose() * &v)[(0, 0)];
            let h = Mat::<f64>::identity(n, n) - (2.0 / vv) * (&v * v.transpose());
            q = &q * &h;
        }
        let d = Mat::<f64>::from_fn(n, n, |i, j| if i == j { lambda[i] } else { 0.0 });
        &q * &d * q.transpose()
    }

    fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    /// Both sides of every path: n ≤ b + 1 (stage 2 alone), a last panel narrower than b
    /// (n = b + 2 ..), exactly one full panel (2b + 1), several panels.
    const SIZES: [usize; 14] = [1, 2, 3, 5, 32, 33, 34, 35, 40, 65, 66, 97, 130, 201];

    #[test]
    fn known_eigenvalues_are_recovered() {
        for n in SIZES {
            // Distinct, repeated, negative and zero eigenvalues.
            let lambda: Vec<f64> = (0..n)
                .map(|i| match i % 4 {
                    0 => 3.0 - i as f64 / n as f64,
                    1 => -1.5,
                    2 => 0.0,
                    _ => 1.0 / (1 + i) as f64,
                })
                .collect();
            let mut want = lambda.clone();
            want.sort_by(|a, b| b.total_cmp(a));
            let got =
                symmetric_eigenvalues_desc(with_eigenvalues(&lambda, n as u64).as_ref(), Par::Seq)
                    .unwrap();
            assert!(
                max_abs_diff(&got, &want) <= 1e-13 * 3.0 * n as f64,
                "n = {n}: {got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn equal_faers_solver_on_random_matrices() {
        for n in SIZES {
            let a = random_symmetric(n, 11 + n as u64);
            let ours = symmetric_eigenvalues_desc(a.as_ref(), Par::Seq).unwrap();
            let mut theirs = a.self_adjoint_eigenvalues(Side::Lower).unwrap();
            theirs.reverse();
            let norm = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let diff = max_abs_diff(&ours, &theirs);
            assert!(diff <= 1e-14 * n as f64 * norm, "n = {n}: {diff:e}");
        }
    }

    #[test]
    fn the_result_does_not_depend_on_parallelism() {
        let a = random_symmetric(300, 5);
        let seq = symmetric_eigenvalues_desc(a.as_ref(), Par::Seq).unwrap();
        let par = symmetric_eigenvalues_desc(a.as_ref(), Par::rayon(2)).unwrap();
        assert_eq!(seq, par);
    }

    #[test]
    fn a_power_of_two_scale_is_exact_and_extreme_scales_are_safe() {
        let a = random_symmetric(70, 3);
        let base = symmetric_eigenvalues_desc(a.as_ref(), Par::Seq).unwrap();
        for k in [-1000, -600, 600, 1000] {
            let scaled = Mat::<f64>::from_fn(70, 70, |i, j| libm::ldexp(a[(i, j)], k));
            let got = symmetric_eigenvalues_desc(scaled.as_ref(), Par::Seq).unwrap();
            let want: Vec<f64> = base.iter().map(|&l| libm::ldexp(l, k)).collect();
            assert_eq!(got, want, "2^{k}");
        }
    }

    #[test]
    fn degenerate_matrices() {
        assert!(
            symmetric_eigenvalues_desc(Mat::<f64>::zeros(0, 0).as_ref(), Par::Seq)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            symmetric_eigenvalues_desc(Mat::<f64>::zeros(50, 50).as_ref(), Par::Seq).unwrap(),
            vec![0.0; 50]
        );
        // A diagonal matrix: every reflector is the identity, so the values come back exactly.
        let diag: Vec<f64> = (0..80).map(|i| ((i * 37) % 80) as f64 - 20.5).collect();
        let a = Mat::<f64>::from_fn(80, 80, |i, j| if i == j { diag[i] } else { 0.0 });
        let mut want = diag.clone();
        want.sort_by(|a, b| b.total_cmp(a));
        assert_eq!(
            symmetric_eigenvalues_desc(a.as_ref(), Par::Seq).unwrap(),
            want
        );
        // A rank-one matrix v vᵀ: one eigenvalue ‖v‖², the others zero to rounding.
        let v: Vec<f64> = (0..90).map(|i| 1.0 + (i % 7) as f64).collect();
        let a = Mat::<f64>::from_fn(90, 90, |i, j| v[i] * v[j]);
        let got = symmetric_eigenvalues_desc(a.as_ref(), Par::Seq).unwrap();
        let norm2: f64 = v.iter().map(|x| x * x).sum();
        assert!((got[0] - norm2).abs() <= 1e-13 * norm2);
        assert!(got[1..].iter().all(|l| l.abs() <= 1e-13 * norm2));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn equal_faers_solver_at_any_size(n in 1usize..160, seed in 0u64..1000) {
            let a = random_symmetric(n, seed);
            let ours = symmetric_eigenvalues_desc(a.as_ref(), Par::Seq).unwrap();
            let mut theirs = a.self_adjoint_eigenvalues(Side::Lower).unwrap();
            theirs.reverse();
            let norm = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            prop_assert!(max_abs_diff(&ours, &theirs) <= 1e-14 * n as f64 * norm);
        }
    }
}
