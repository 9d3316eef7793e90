//! Eigenvalues of a real symmetric matrix, as LAPACK's `dsyevd` and `dsyevd_2stage` compute them
//! without eigenvectors: an orthogonal reduction to tridiagonal form, then the tridiagonal
//! matrix's eigenvalues by root-free QL/QR ([`tridiagonal`], `O(n²)`).
//!
//! The reduction depends on the order n:
//! - below [`TWO_STAGE_FROM`], in one stage (faer's `tridiag_in_place`, sequential): its
//!   matrix–vector products run on a matrix that stays in cache;
//! - from it on, in two stages: [`band`] reduces the matrix to a band of `b` sub-diagonals in
//!   matrix products (`4/3 n³` flops), [`bulge`] the band to tridiagonal form by bulge chasing
//!   (`≈ 6 b n²` flops, in cache). A one-stage reduction spends half its flops in matrix–vector
//!   products over the whole trailing matrix, bound by memory bandwidth once it leaves the cache;
//!   here they run at the GEMM rate, and two matrices reduced at once on two cores do not compete
//!   for memory.
//!
//! Every step is an orthogonal similarity, so the eigenvalues are computed to within a small
//! multiple of `n ε ‖A‖₂`, like those of any backward-stable solver.

mod band;
mod bulge;
mod householder;
mod tridiagonal;

use crate::error::Result;
use faer::{Mat, MatRef, Par};

/// The band's width: wide enough for stage 1's products to run near the GEMM rate, narrow
/// enough for stage 2's cost (`≈ 6 b n²`) to stay small beside stage 1's. (On this project's
/// machine, one core, n = 2000: 0.24 s at b = 32; n = 1200: 54 ms at b = 16, 58 ms at b = 32.)
const BANDWIDTH: usize = 32;

/// The order from which the two-stage reduction is used. Measured on one core of this project's
/// machine (one-stage against two-stage reduction): n = 200, 0.48 against 0.78 ms; 400, 3.1
/// against 4.0 ms; 800, 21 against 20 ms; 1200, 69 against 54 ms; 2000, 330 against 200 ms. In
/// WebAssembly, where matrix products have no wide SIMD, the one-stage reduction wins further:
/// 1.9 against 2.8 ms at n = 200 in Chromium.
const TWO_STAGE_FROM: usize = 800;

/// Eigenvalues of the symmetric matrix `sym` (lower triangle read), in descending order.
///
/// The matrix is first scaled by the power of two (exact) that brings its largest entry into
/// [1, 2), so that no intermediate square overflows or underflows; the eigenvalues are scaled
/// back, so `λ(2ᵏA) = 2ᵏλ(A)` holds bit for bit. An empty matrix has no eigenvalues and a zero
/// matrix n zeros. `par` is the parallelism of stage 1's matrix products (the result does not
/// depend on it). Errors when the tridiagonal iteration does not converge (LAPACK's limit of 30
/// iterations per eigenvalue; not seen in practice).
pub(crate) fn symmetric_eigenvalues_desc(sym: MatRef<'_, f64>, par: Par) -> Result<Vec<f64>> {
    eigenvalues_desc(sym, par, TWO_STAGE_FROM)
}

/// [`symmetric_eigenvalues_desc`] with the two-stage reduction from order `two_stage_from` on
/// (the tests run both reductions at every size).
fn eigenvalues_desc(sym: MatRef<'_, f64>, par: Par, two_stage_from: usize) -> Result<Vec<f64>> {
    let n = sym.nrows();
    let mut a = Mat::<f64>::zeros(n, n);
    a.copy_from_triangular_lower(sym);
    let mut max = 0.0f64;
    for j in 0..n {
        max = max.max(crate::linalg::reduce::max_abs(&a.col_as_slice(j)[j..]));
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
    let (mut d, mut sub) = if n >= two_stage_from {
        let b = BANDWIDTH.min(n - 1).max(1);
        if n > b + 1 {
            band::reduce_to_band(a.as_mut(), b, par);
        }
        bulge::Band::new(a.as_ref(), b).tridiagonalise()
    } else {
        tridiagonalise_in_one_stage(a)
    };
    tridiagonal::tridiagonal_eigenvalues(&mut d, &mut sub)?;
    d.reverse();
    for l in &mut d {
        *l = libm::ldexp(*l, e);
    }
    Ok(d)
}

/// The diagonal and sub-diagonal of a tridiagonal matrix similar to the symmetric `a` (lower
/// triangle), by faer's one-stage Householder reduction, sequential (so that the result does
/// not depend on the parallelism either).
fn tridiagonalise_in_one_stage(mut a: Mat<f64>) -> (Vec<f64>, Vec<f64>) {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::evd::tridiag::{tridiag_in_place, tridiag_in_place_scratch};
    let n = a.nrows();
    if n > 2 {
        let bs = faer::linalg::qr::no_pivoting::factor::recommended_block_size::<f64>(n, n);
        let mut householder = Mat::<f64>::zeros(bs, n - 1);
        let mut buf = MemBuffer::new(tridiag_in_place_scratch::<f64>(
            n,
            Par::Seq,
            Default::default(),
        ));
        tridiag_in_place(
            a.as_mut(),
            householder.as_mut(),
            Par::Seq,
            MemStack::new(&mut buf),
            Default::default(),
        );
    }
    let diag = (0..n).map(|i| a[(i, i)]).collect();
    let sub = (1..n).map(|i| a[(i, i - 1)]).collect();
    (diag, sub)
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

    pub(super) fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    /// Both sides of every path: n ≤ b + 1 (stage 2 alone), a last panel narrower than b
    /// (n = b + 2 ..), exactly one full panel (2b + 1), several panels.
    const SIZES: [usize; 14] = [1, 2, 3, 5, 32, 33, 34, 35, 40, 65, 66, 97, 130, 201];

    /// `two_stage_from` for the two-stage reduction at every size, and for the one-stage one.
    const BOTH: [usize; 2] = [0, usize::MAX];

    /// The eigenvalues by both reductions.
    fn both(a: &Mat<f64>, par: Par) -> [Vec<f64>; 2] {
        BOTH.map(|from| eigenvalues_desc(a.as_ref(), par, from).unwrap())
    }

    /// faer's eigenvalues (an independent solver), descending, and their largest magnitude.
    fn faers(a: &Mat<f64>) -> (Vec<f64>, f64) {
        let mut theirs = a.self_adjoint_eigenvalues(Side::Lower).unwrap();
        theirs.reverse();
        let norm = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        (theirs, norm)
    }

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
            for got in both(&with_eigenvalues(&lambda, n as u64), Par::Seq) {
                let diff = max_abs_diff(&got, &want);
                assert!(diff <= 1e-13 * 3.0 * n as f64, "n = {n}: {diff:e}");
            }
        }
    }

    #[test]
    fn equal_faers_solver_on_random_matrices() {
        for n in SIZES {
            let a = random_symmetric(n, 11 + n as u64);
            let (theirs, norm) = faers(&a);
            for ours in both(&a, Par::Seq) {
                let diff = max_abs_diff(&ours, &theirs);
                assert!(diff <= 1e-14 * n as f64 * norm, "n = {n}: {diff:e}");
            }
        }
    }

    #[test]
    fn the_result_does_not_depend_on_parallelism() {
        let a = random_symmetric(300, 5);
        assert_eq!(both(&a, Par::Seq), both(&a, Par::rayon(2)));
    }

    #[test]
    fn a_power_of_two_scale_is_exact_and_extreme_scales_are_safe() {
        let a = random_symmetric(70, 3);
        let base = both(&a, Par::Seq);
        for k in [-1000, -600, 600, 1000] {
            let scaled = Mat::<f64>::from_fn(70, 70, |i, j| libm::ldexp(a[(i, j)], k));
            let want = base
                .clone()
                .map(|b| b.iter().map(|&l| libm::ldexp(l, k)).collect::<Vec<_>>());
            assert_eq!(both(&scaled, Par::Seq), want, "2^{k}");
        }
    }

    #[test]
    fn degenerate_matrices() {
        assert!(both(&Mat::zeros(0, 0), Par::Seq).iter().all(Vec::is_empty));
        for got in both(&Mat::zeros(50, 50), Par::Seq) {
            assert_eq!(got, vec![0.0; 50]);
        }
        // A diagonal matrix: every reflector is the identity, so the values come back exactly.
        let diag: Vec<f64> = (0..80).map(|i| ((i * 37) % 80) as f64 - 20.5).collect();
        let a = Mat::<f64>::from_fn(80, 80, |i, j| if i == j { diag[i] } else { 0.0 });
        let mut want = diag.clone();
        want.sort_by(|a, b| b.total_cmp(a));
        for got in both(&a, Par::Seq) {
            assert_eq!(got, want);
        }
        // A rank-one matrix v vᵀ: one eigenvalue ‖v‖², the others zero to rounding.
        let v: Vec<f64> = (0..90).map(|i| 1.0 + (i % 7) as f64).collect();
        let a = Mat::<f64>::from_fn(90, 90, |i, j| v[i] * v[j]);
        let norm2: f64 = v.iter().map(|x| x * x).sum();
        for got in both(&a, Par::Seq) {
            assert!((got[0] - norm2).abs() <= 1e-13 * norm2);
            assert!(got[1..].iter().all(|l| l.abs() <= 1e-13 * norm2));
        }
    }

    #[test]
    fn the_reduction_is_chosen_by_order() {
        // Below TWO_STAGE_FROM the one-stage result, from it on the two-stage one, bit for bit.
        for n in [TWO_STAGE_FROM - 1, TWO_STAGE_FROM] {
            let a = random_symmetric(n, 2);
            let [two, one] = both(&a, Par::Seq);
            let want = if n < TWO_STAGE_FROM { one } else { two };
            assert_eq!(
                symmetric_eigenvalues_desc(a.as_ref(), Par::Seq).unwrap(),
                want
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn equal_faers_solver_at_any_size(n in 1usize..160, seed in 0u64..1000) {
            let a = random_symmetric(n, seed);
            let (theirs, norm) = faers(&a);
            for ours in both(&a, Par::Seq) {
                prop_assert!(max_abs_diff(&ours, &theirs) <= 1e-14 * n as f64 * norm);
            }
        }
    }
}
