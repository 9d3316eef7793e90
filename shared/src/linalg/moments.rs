//! The centred second moments of a matrix read in row chunks, never held whole: the streaming
//! counterpart of [`CenteredMatrix`](super::CenteredMatrix) followed by `ÃᵀÃ`, for N > D.
//!
//! Two passes over the rows. The first ([`ColumnPass`]) finds, per column, the first row (the
//! shift), the sum of the shifted values and their extremes, and per class the sum of the shifted
//! rows; from these [`Centering`] gives the column means and the power-of-two scale of
//! `CenteredMatrix` exactly. The second ([`MomentPass`]) centres and scales each chunk exactly as
//! `CenteredMatrix` does (the same floating-point operations in the same order, so the centred
//! values, the column variances and the row norms are bit for bit the same) and accumulates
//! `ÃᵀÃ` (D × D), the distances of the rows to their class centroids, and, against a second
//! matrix over the same rows, the cross product `ÃᵀB̃`. Only the order of the additions inside
//! the D × D products differs from the in-memory path (relative differences near 1e-15).

use super::centered::binary_exponent;
use faer::linalg::matmul::triangular::BlockStructure;
use faer::{Accum, Mat};

/// The first pass over the rows of an N × D matrix.
#[derive(Clone, Debug)]
pub struct ColumnPass {
    d: usize,
    n: usize,
    shift: Vec<f64>,
    sum: Vec<f64>,
    min: Vec<f64>,
    max: Vec<f64>,
    /// Present classes' shifted-row sums and counts, keyed by class index into `classes`.
    classes: Option<ClassSums>,
}

#[derive(Clone, Debug)]
struct ClassSums {
    /// Sorted present classes.
    classes: Vec<u32>,
    counts: Vec<usize>,
    /// C × D, row-major.
    sums: Vec<f64>,
}

impl ColumnPass {
    /// A pass over rows of `d` values; `labels` (one per row, all of them) when class centroids
    /// are needed.
    pub fn new(d: usize, labels: Option<&[u32]>) -> Self {
        let classes = labels.map(|l| {
            let mut classes = l.to_vec();
            classes.sort_unstable();
            classes.dedup();
            ClassSums {
                counts: vec![0; classes.len()],
                sums: vec![0.0; classes.len() * d],
                classes,
            }
        });
        ColumnPass {
            d,
            n: 0,
            shift: Vec::new(),
            sum: vec![0.0; d],
            min: vec![f64::INFINITY; d],
            max: vec![f64::NEG_INFINITY; d],
            classes,
        }
    }

    /// Adds the next rows (row-major, a multiple of D values); `labels` are the whole matrix's,
    /// of which these rows start at the number of rows added so far.
    pub fn add_rows(&mut self, rows: &[f64], labels: Option<&[u32]>) {
        let d = self.d;
        if d == 0 {
            return;
        }
        if self.shift.is_empty() && rows.len() >= d {
            self.shift = rows[..d].to_vec();
        }
        for row in rows.chunks_exact(d) {
            for (j, &x) in row.iter().enumerate() {
                let v = x - self.shift[j];
                self.sum[j] += v;
                self.min[j] = self.min[j].min(v);
                self.max[j] = self.max[j].max(v);
            }
            if let (Some(c), Some(labels)) = (&mut self.classes, labels) {
                let k = c
                    .classes
                    .binary_search(&labels[self.n])
                    .expect("label listed");
                c.counts[k] += 1;
                for (acc, (&x, &s)) in c.sums[k * d..(k + 1) * d]
                    .iter_mut()
                    .zip(row.iter().zip(&self.shift))
                {
                    *acc += x - s;
                }
            }
            self.n += 1;
        }
    }

    /// Rows seen.
    pub fn rows(&self) -> usize {
        self.n
    }

    /// The centring these rows call for.
    pub fn finish(self) -> Centering {
        let (n, d) = (self.n, self.d);
        let inv_n = 1.0 / n.max(1) as f64;
        let mean: Vec<f64> = self.sum.iter().map(|s| s * inv_n).collect();
        // fl(fl(x − shift) − mean) is monotone in x, so its largest magnitude is at a column's
        // extremes: the same maximum as CenteredMatrix's over every entry.
        let mut max_abs = 0.0f64;
        if n > 0 {
            for ((hi, lo), m) in self.max.iter().zip(&self.min).zip(&mean) {
                max_abs = max_abs.max((hi - m).abs()).max((lo - m).abs());
            }
        }
        let scale_exponent = binary_exponent(max_abs);
        let scale = libm::ldexp(1.0, -scale_exponent);
        let centroids = self.classes.map(|c| {
            let mut centroids = c.sums;
            for (k, &count) in c.counts.iter().enumerate() {
                let inv = 1.0 / count.max(1) as f64;
                for (v, m) in centroids[k * d..(k + 1) * d].iter_mut().zip(&mean) {
                    *v = (*v * inv - m) * scale;
                }
            }
            Centroids {
                classes: c.classes,
                counts: c.counts,
                values: centroids,
            }
        });
        Centering {
            n,
            d,
            shift: if self.shift.is_empty() {
                vec![0.0; d]
            } else {
                self.shift
            },
            mean,
            scale_exponent,
            scale,
            max_abs_scaled: max_abs * scale,
            centroids,
        }
    }
}

/// Class centroids of the centred, scaled rows.
#[derive(Clone, Debug)]
pub struct Centroids {
    /// The present classes, sorted.
    pub classes: Vec<u32>,
    /// Rows per class.
    pub counts: Vec<usize>,
    /// C × D, row-major.
    pub values: Vec<f64>,
}

/// How to centre and scale the rows (the outcome of a [`ColumnPass`]).
#[derive(Clone, Debug)]
pub struct Centering {
    /// N.
    pub n: usize,
    /// D.
    pub d: usize,
    shift: Vec<f64>,
    /// Column means of the shifted values.
    mean: Vec<f64>,
    /// `e` of [`CenteredMatrix`](super::CenteredMatrix).
    pub scale_exponent: i32,
    scale: f64,
    /// `max|Ã| · 2^−e`.
    pub max_abs_scaled: f64,
    /// Class centroids of the scaled centred rows, when labels were given.
    pub centroids: Option<Centroids>,
}

impl Centering {
    /// The centred, scaled rows of a chunk (row-major, r × D) as an r × D matrix.
    pub fn apply(&self, rows: &[f64]) -> Mat<f64> {
        let d = self.d;
        let r = rows.len().checked_div(d).unwrap_or(0);
        Mat::from_fn(r, d, |i, j| {
            let x = rows[i * d + j] - self.shift[j];
            (x - self.mean[j]) * self.scale
        })
    }
}

/// The second pass: second moments of one centred matrix.
#[derive(Clone, Debug)]
pub struct MomentPass {
    /// `ÃᵀÃ · 4^−e`, D × D (lower triangle).
    pub covariance: Mat<f64>,
    /// `Σ_i Ã_id² · 4^−e` per column.
    pub column_squares: Vec<f64>,
    /// `‖Ã_i‖² · 4^−e` per row.
    pub row_squared_norms: Vec<f64>,
    /// Per row, its squared distance to its class centroid (when there are centroids).
    pub centroid_squared_distances: Vec<f64>,
}

impl MomentPass {
    /// Empty sums for a D-column matrix.
    pub fn new(d: usize) -> Self {
        MomentPass {
            covariance: Mat::zeros(d, d),
            column_squares: vec![0.0; d],
            row_squared_norms: Vec::new(),
            centroid_squared_distances: Vec::new(),
        }
    }

    /// Adds the centred chunk `z` (from [`Centering::apply`]) whose first row is row `first` of
    /// the matrix; `labels` and `centering` give the class centroids.
    pub fn add(
        &mut self,
        z: &Mat<f64>,
        first: usize,
        labels: Option<&[u32]>,
        centering: &Centering,
    ) {
        let (r, d) = (z.nrows(), z.ncols());
        for j in 0..d {
            let col = z.col(j).try_as_col_major().expect("contiguous");
            let mut ss = self.column_squares[j];
            for x in col.as_slice() {
                ss += x * x;
            }
            self.column_squares[j] = ss;
        }
        let mut norms = vec![0.0; r];
        for j in 0..d {
            let col = z.col(j).try_as_col_major().expect("contiguous");
            for (acc, x) in norms.iter_mut().zip(col.as_slice()) {
                *acc += x * x;
            }
        }
        self.row_squared_norms.extend(norms);
        if let (Some(c), Some(labels)) = (&centering.centroids, labels) {
            for i in 0..r {
                let k = c
                    .classes
                    .binary_search(&labels[first + i])
                    .expect("label listed");
                let centroid = &c.values[k * d..(k + 1) * d];
                let sq: f64 = (0..d)
                    .map(|j| {
                        let diff = z[(i, j)] - centroid[j];
                        diff * diff
                    })
                    .sum();
                self.centroid_squared_distances.push(sq);
            }
        }
        faer::linalg::matmul::triangular::matmul(
            self.covariance.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Add,
            z.transpose(),
            BlockStructure::Rectangular,
            z.as_ref(),
            BlockStructure::Rectangular,
            1.0,
            faer::get_global_parallelism(),
        );
    }
}

/// Adds `xᵀ y` to `cross` (Dx × Dy) for two centred chunks over the same rows.
pub fn add_cross(cross: &mut Mat<f64>, x: &Mat<f64>, y: &Mat<f64>) {
    faer::linalg::matmul::matmul(
        cross.as_mut(),
        Accum::Add,
        x.transpose(),
        y.as_ref(),
        1.0,
        faer::get_global_parallelism(),
    );
}
