//! Stage 2: a symmetric band matrix to tridiagonal form by chasing bulges with Householder
//! reflectors (the algorithm of LAPACK's `dsytrd_sb2st`, after Lang and Haidar et al.).
//!
//! Sweep `i` annihilates column `i` below its sub-diagonal with one reflector over rows
//! `i+1 ..= i+b`, applied on both sides of that diagonal block. Applied from the right to the
//! `b × b` block below, it fills it (the bulge); a second reflector annihilates the bulge's first
//! column, is applied on both sides of the next diagonal block, and so on to the matrix's end.
//! A sweep costs about `6 b (n − i)` flops, all on blocks of the band that stay in cache.

use super::householder::{axpy, dot, make_reflector};
use faer::MatRef;

/// The lower triangle of a symmetric matrix within `2b` of its diagonal: entry `(i, j)`,
/// `0 ≤ i − j < 2b`, at `data[(i − j) + j·ld]` with `ld = 2b`, so that column `j`'s entries are
/// contiguous and a rectangular block is a matrix with row stride 1 and column stride `ld − 1`.
pub(super) struct Band {
    n: usize,
    b: usize,
    ld: usize,
    data: Vec<f64>,
}

impl Band {
    /// The band of `b ≥ 1` sub-diagonals of the lower triangle of `a`, with room for the bulges.
    pub(super) fn new(a: MatRef<'_, f64>, b: usize) -> Band {
        let n = a.nrows();
        let ld = 2 * b;
        let mut data = vec![0.0; n * ld];
        for (j, dst) in data.chunks_exact_mut(ld).enumerate() {
            let len = (n - j).min(b + 1);
            for (i, x) in dst[..len].iter_mut().enumerate() {
                *x = a[(j + i, j)];
            }
        }
        Band { n, b, ld, data }
    }

    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> usize {
        (i - j) + j * self.ld
    }

    /// Rows `rows` of column `j` (all within the stored part).
    #[inline(always)]
    fn column(&mut self, j: usize, first_row: usize, len: usize) -> &mut [f64] {
        let s = self.at(first_row, j);
        &mut self.data[s..s + len]
    }

    /// Reduces the band to tridiagonal form; returns its diagonal and sub-diagonal.
    ///
    /// The kernels are compiled for the best instruction set the CPU has (pulp's dispatch); the
    /// results do not depend on it, as every sum is in a fixed order.
    pub(super) fn tridiagonalise(self) -> (Vec<f64>, Vec<f64>) {
        pulp::Arch::new().dispatch(|| self.chase())
    }

    #[inline(always)]
    fn chase(mut self) -> (Vec<f64>, Vec<f64>) {
        let (n, b) = (self.n, self.b);
        let mut v = vec![0.0; b];
        let mut next = vec![0.0; b];
        let mut work = vec![0.0; b];
        for i in 0..n.saturating_sub(2) {
            let (mut st, mut ed) = (i + 1, (i + b).min(n - 1));
            if ed == st {
                continue;
            }
            let len = ed - st + 1;
            let x = self.column(i, st, len);
            v[..len].copy_from_slice(x);
            let mut h = make_reflector(&mut v[..len]);
            x[0] = h.beta;
            x[1..].fill(0.0);
            while h.tau != 0.0 {
                let len = ed - st + 1;
                self.two_sided(st, &v[..len], h.tau, &mut work);
                let j1 = ed + 1;
                if j1 >= n {
                    break;
                }
                let j2 = (ed + b).min(n - 1);
                let rows = j2 - j1 + 1;
                self.reflect_right(j1, rows, st, &v[..len], h.tau, &mut work);
                if rows == 1 {
                    break;
                }
                let x = self.column(st, j1, rows);
                next[..rows].copy_from_slice(x);
                let h2 = make_reflector(&mut next[..rows]);
                x[0] = h2.beta;
                x[1..].fill(0.0);
                if h2.tau != 0.0 {
                    self.reflect_left(j1, st + 1, len - 1, &next[..rows], h2.tau);
                }
                std::mem::swap(&mut v, &mut next);
                h = h2;
                (st, ed) = (j1, j2);
            }
        }
        let diag = (0..n).map(|j| self.data[self.at(j, j)]).collect();
        let sub = (0..n.saturating_sub(1))
            .map(|j| self.data[self.at(j + 1, j)])
            .collect();
        (diag, sub)
    }

    /// `D ← H D H` for the diagonal block `D` at rows and columns `st .. st + len`
    /// (`p = τDv`, `w = p − ½τ(pᵀv)v`, `D ← D − v wᵀ − w vᵀ`).
    #[inline(always)]
    fn two_sided(&mut self, st: usize, v: &[f64], tau: f64, work: &mut [f64]) {
        let len = v.len();
        let p = &mut work[..len];
        p.fill(0.0);
        for u in 0..len {
            let col = self.column(st + u, st + u, len - u);
            p[u] += tau * dot(col, &v[u..]);
            axpy(tau * v[u], &col[1..], &mut p[u + 1..]);
        }
        let alpha = -0.5 * tau * dot(p, v);
        axpy(alpha, v, p);
        for u in 0..len {
            let col = self.column(st + u, st + u, len - u);
            let (pu, vu) = (p[u], v[u]);
            for ((c, &vi), &pi) in col.iter_mut().zip(&v[u..]).zip(&p[u..]) {
                *c -= vi * pu + pi * vu;
            }
        }
    }

    /// `B ← B H` for the block `B` at rows `r .. r + rows`, columns `c .. c + v.len()`
    /// (`y = Bv`, `B ← B − τ y vᵀ`).
    #[inline(always)]
    fn reflect_right(
        &mut self,
        r: usize,
        rows: usize,
        c: usize,
        v: &[f64],
        tau: f64,
        work: &mut [f64],
    ) {
        let y = &mut work[..rows];
        y.fill(0.0);
        for (u, &vu) in v.iter().enumerate() {
            axpy(vu, self.column(c + u, r, rows), y);
        }
        for (u, &vu) in v.iter().enumerate() {
            let f = -tau * vu;
            let col = self.column(c + u, r, rows);
            axpy(f, &y[..rows], col);
        }
    }

    /// `B ← H B` for the block `B` at rows `r .. r + v.len()`, columns `c .. c + cols`.
    #[inline(always)]
    fn reflect_left(&mut self, r: usize, c: usize, cols: usize, v: &[f64], tau: f64) {
        for u in 0..cols {
            let col = self.column(c + u, r, v.len());
            let s = dot(v, col);
            axpy(-tau * s, v, col);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{max_abs_diff, uniform};
    use super::*;
    use faer::{Mat, Side};

    #[test]
    fn the_tridiagonal_matrix_keeps_the_band_matrixs_eigenvalues() {
        for (n, b) in [(2, 1), (3, 2), (20, 1), (40, 5), (70, 32)] {
            let mut next = uniform(n as u64);
            let a =
                Mat::<f64>::from_fn(n, n, |i, j| if i >= j && i - j <= b { next() } else { 0.0 });
            let (d, e) = Band::new(a.as_ref(), b).tridiagonalise();
            let t = Mat::<f64>::from_fn(n, n, |i, j| match i.checked_sub(j) {
                Some(0) => d[j],
                Some(1) => e[j],
                _ => 0.0,
            });
            let want = a.self_adjoint_eigenvalues(Side::Lower).unwrap();
            let got = t.self_adjoint_eigenvalues(Side::Lower).unwrap();
            let diff = max_abs_diff(&want, &got);
            assert!(diff < 1e-13 * n as f64, "n = {n}, b = {b}: {diff:e}");
        }
    }
}
