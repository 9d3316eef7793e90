//! Helpers shared by the integration tests of crate `reps`: a seeded RNG and matrix constructions
//! whose spectra are known in closed form.
#![allow(dead_code, clippy::needless_range_loop)]

#[path = "../../../tests/src/files.rs"]
pub mod files;
#[path = "../../../tests/src/json.rs"]
pub mod json;
pub mod reports;

use reps::Activations;

/// SplitMix64: a tiny seeded generator, so tests need no RNG crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    pub fn normals(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.normal()).collect()
    }
}

/// Row-major dense matrix for building test inputs.
#[derive(Clone, Debug)]
pub struct Dense {
    pub rows: usize,
    pub cols: usize,
    pub v: Vec<f64>,
}

impl Dense {
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Dense {
            rows,
            cols,
            v: vec![0.0; rows * cols],
        }
    }
    pub fn random(rng: &mut Rng, rows: usize, cols: usize) -> Self {
        Dense {
            rows,
            cols,
            v: rng.normals(rows * cols),
        }
    }
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.v[i * self.cols + j]
    }
    pub fn set(&mut self, i: usize, j: usize, x: f64) {
        self.v[i * self.cols + j] = x;
    }
    pub fn col(&self, j: usize) -> Vec<f64> {
        (0..self.rows).map(|i| self.at(i, j)).collect()
    }
    pub fn matmul(&self, b: &Dense) -> Dense {
        assert_eq!(self.cols, b.rows);
        let mut out = Dense::zeros(self.rows, b.cols);
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self.at(i, k);
                for j in 0..b.cols {
                    out.v[i * b.cols + j] += a * b.at(k, j);
                }
            }
        }
        out
    }
    pub fn scale(&self, c: f64) -> Dense {
        Dense {
            rows: self.rows,
            cols: self.cols,
            v: self.v.iter().map(|x| x * c).collect(),
        }
    }
    pub fn activations(&self) -> Activations {
        Activations::from_rows_f64(self.rows, self.cols, self.v.clone()).unwrap()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Extends the orthonormal `basis` (vectors of length `n`) by Gram–Schmidt on random vectors
/// (twice, for accuracy) until it holds `total` vectors, and returns the new ones as columns.
fn extend_orthonormal(rng: &mut Rng, n: usize, mut basis: Vec<Vec<f64>>, total: usize) -> Dense {
    let start = basis.len();
    while basis.len() < total {
        let mut v = rng.normals(n);
        for _ in 0..2 {
            for b in &basis {
                let p = dot(&v, b);
                v.iter_mut().zip(b).for_each(|(x, y)| *x -= p * y);
            }
        }
        let norm = dot(&v, &v).sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        basis.push(v);
    }
    let mut out = Dense::zeros(n, total - start);
    for (j, b) in basis[start..].iter().enumerate() {
        for i in 0..n {
            out.set(i, j, b[i]);
        }
    }
    out
}

/// `k` orthonormal columns of length `n`, each orthogonal to the all-ones vector (so already
/// centred). Needs `k < n`.
pub fn centered_orthonormal_columns(rng: &mut Rng, n: usize, k: usize) -> Dense {
    assert!(k < n);
    extend_orthonormal(rng, n, vec![vec![1.0 / (n as f64).sqrt(); n]], k + 1)
}

/// A random `d × d` orthogonal matrix (Gram–Schmidt of a Gaussian matrix).
pub fn random_orthogonal(rng: &mut Rng, d: usize) -> Dense {
    extend_orthonormal(rng, d, Vec::new(), d)
}

/// `X = U diag(s) Vᵀ` with centred orthonormal `U` (n × k) and orthonormal `V` (d × k), so the
/// centred matrix has exactly the singular values `s`.
pub fn with_singular_values(rng: &mut Rng, n: usize, d: usize, s: &[f64]) -> Dense {
    let k = s.len();
    let u = centered_orthonormal_columns(rng, n, k);
    let v = random_orthogonal(rng, d);
    let mut us = u.clone();
    for i in 0..n {
        for j in 0..k {
            us.set(i, j, u.at(i, j) * s[j]);
        }
    }
    let mut vt = Dense::zeros(k, d);
    for j in 0..k {
        for c in 0..d {
            vt.set(j, c, v.at(c, j));
        }
    }
    let mut x = us.matmul(&vt);
    // Add a constant row offset: centring must remove it.
    for i in 0..n {
        for c in 0..d {
            x.v[i * d + c] += 0.5 + c as f64 * 0.01;
        }
    }
    x
}
