//! Eigenvalues of a symmetric tridiagonal matrix by the root-free QL/QR iteration of Pal, Walker
//! and Kahan (the algorithm of LAPACK's `dsterf`): implicit Wilkinson shifts, computed on the
//! squares of the off-diagonal, one square root per iteration instead of one per rotation.
//! `hypot` is libm's on every target, so that the browser and the CLI compute the same bits.

use crate::error::{RepsError, Result};

/// Iterations allowed per eigenvalue before the solver gives up (LAPACK's `MAXIT`).
const MAX_ITERATIONS_PER_EIGENVALUE: usize = 30;

/// The eigenvalues of the symmetric tridiagonal matrix with diagonal `d` (length n) and
/// sub-diagonal `e` (length n − 1), in ascending order, in place of `d`.
///
/// An off-diagonal entry is treated as zero (splitting the matrix) when
/// `e_m² ≤ ε² |d_m d_{m+1}|`. The entries must be well inside f64's range (their squares must not
/// overflow): the caller scales the matrix. Errors when some eigenvalue has not converged after
/// `30 n` iterations in all.
pub(super) fn tridiagonal_eigenvalues(d: &mut [f64], e: &mut [f64]) -> Result<()> {
    let n = d.len();
    debug_assert_eq!(e.len(), n.saturating_sub(1));
    let eps = f64::EPSILON / 2.0;
    let eps2 = eps * eps;
    let max_iterations = MAX_ITERATIONS_PER_EIGENVALUE * n;
    let mut iterations = 0;
    let mut l1 = 0;
    while l1 < n {
        if l1 > 0 {
            e[l1 - 1] = 0.0;
        }
        // The unreduced block l1 ..= m.
        let mut m = l1;
        while m + 1 < n {
            let tst = e[m].abs();
            if tst == 0.0 || tst <= d[m].abs().sqrt() * d[m + 1].abs().sqrt() * eps {
                e[m] = 0.0;
                break;
            }
            m += 1;
        }
        let (l, lend) = (l1, m);
        l1 = m + 1;
        if lend == l {
            continue;
        }
        for x in &mut e[l..lend] {
            *x *= *x;
        }
        // Chase from the end with the larger diagonal entry: QL from the top when the bottom's
        // is larger, else QR, which is QL on the block in reverse order (LAPACK writes the two
        // loops out; the reversal gives the same operations on the same values).
        let reverse = d[lend].abs() < d[l].abs();
        let (block_d, block_e) = (&mut d[l..=lend], &mut e[l..lend]);
        if reverse {
            block_d.reverse();
            block_e.reverse();
        }
        ql(block_d, block_e, eps2, &mut iterations, max_iterations);
        if reverse {
            block_d.reverse();
            block_e.reverse();
        }
        if iterations >= max_iterations {
            return Err(RepsError::Invalid(format!(
                "the eigenvalue solver did not converge in {max_iterations} iterations \
                 (tridiagonal matrix of order {n})"
            )));
        }
    }
    d.sort_by(f64::total_cmp);
    Ok(())
}

/// QL iterations on an unreduced block (`d` of length ≥ 2, `e` one shorter, holding squares),
/// until every eigenvalue has converged or `iterations` reaches `max_iterations`.
fn ql(d: &mut [f64], e: &mut [f64], eps2: f64, iterations: &mut usize, max_iterations: usize) {
    let lend = d.len() - 1;
    let mut l = 0;
    loop {
        let mut m = l;
        while m < lend {
            if e[m].abs() <= eps2 * (d[m] * d[m + 1]).abs() {
                break;
            }
            m += 1;
        }
        if m < lend {
            e[m] = 0.0;
        }
        let p = d[l];
        if m == l {
            // d[l] is an eigenvalue.
            d[l] = p;
            l += 1;
            if l > lend {
                return;
            }
            continue;
        }
        if m == l + 1 {
            let (rt1, rt2) = eigenvalues_2x2(d[l], e[l].sqrt(), d[l + 1]);
            d[l] = rt1;
            d[l + 1] = rt2;
            e[l] = 0.0;
            l += 2;
            if l > lend {
                return;
            }
            continue;
        }
        if *iterations == max_iterations {
            return;
        }
        *iterations += 1;
        // The shift.
        let rte = e[l].sqrt();
        let mut sigma = (d[l + 1] - p) / (2.0 * rte);
        let r = libm::hypot(sigma, 1.0);
        sigma = p - rte / (sigma + r.copysign(sigma));
        let (mut c, mut s) = (1.0, 0.0);
        let mut gamma = d[m] - sigma;
        let mut p = gamma * gamma;
        for i in (l..m).rev() {
            let bb = e[i];
            let r = p + bb;
            if i != m - 1 {
                e[i + 1] = s * r;
            }
            let oldc = c;
            c = p / r;
            s = bb / r;
            let oldgam = gamma;
            let alpha = d[i];
            gamma = c * (alpha - sigma) - s * oldgam;
            d[i + 1] = oldgam + (alpha - gamma);
            p = if c != 0.0 {
                (gamma * gamma) / c
            } else {
                oldc * bb
            };
        }
        e[l] = s * p;
        d[l] = sigma + gamma;
    }
}

/// The eigenvalues of `[[a, b], [b, c]]`, the larger in absolute value first (LAPACK's `dlae2`).
fn eigenvalues_2x2(a: f64, b: f64, c: f64) -> (f64, f64) {
    let sm = a + c;
    let adf = (a - c).abs();
    let ab = (b + b).abs();
    let (acmx, acmn) = if a.abs() > c.abs() { (a, c) } else { (c, a) };
    let rt = if adf > ab {
        let q = ab / adf;
        adf * (1.0 + q * q).sqrt()
    } else if adf < ab {
        let q = adf / ab;
        ab * (1.0 + q * q).sqrt()
    } else {
        ab * std::f64::consts::SQRT_2
    };
    if sm == 0.0 {
        return (0.5 * rt, -0.5 * rt);
    }
    let rt1 = if sm < 0.0 {
        0.5 * (sm - rt)
    } else {
        0.5 * (sm + rt)
    };
    (rt1, (acmx / rt1) * acmn - (b / rt1) * b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toeplitz_eigenvalues_equal_the_closed_form() {
        // diag a, off-diagonal c: λ_k = a + 2c cos(kπ/(n+1)), k = 1..n.
        for n in [1usize, 2, 3, 10, 257] {
            let (a, c) = (0.7, -1.3);
            let mut d = vec![a; n];
            let mut e = vec![c; n - 1];
            tridiagonal_eigenvalues(&mut d, &mut e).unwrap();
            let mut want: Vec<f64> = (1..=n)
                .map(|k| a + 2.0 * c * (k as f64 * std::f64::consts::PI / (n + 1) as f64).cos())
                .collect();
            want.sort_by(f64::total_cmp);
            for (g, w) in d.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-13 * n as f64, "n = {n}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn split_blocks_and_two_by_two_blocks() {
        // Zero off-diagonals split the matrix: blocks [2], [[1, 3], [3, 1]] (eigenvalues 4, −2),
        // [5]; QL and QR orientations both occur.
        let mut d = vec![2.0, 1.0, 1.0, 5.0];
        let mut e = vec![0.0, 3.0, 0.0];
        tridiagonal_eigenvalues(&mut d, &mut e).unwrap();
        assert_eq!(d, vec![-2.0, 2.0, 4.0, 5.0]);
        assert_eq!(eigenvalues_2x2(0.0, 1.0, 0.0), (1.0, -1.0));
        let (r1, r2) = eigenvalues_2x2(-4.0, 0.0, 1.0);
        assert_eq!((r1, r2), (-4.0, 1.0));
    }
}
