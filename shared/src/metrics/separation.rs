//! Class separation, paper eqs. 6–7.

use crate::linalg::reduce::max_abs;
use faer::MatRef;

/// Inter/intra class distance ratio `r_s = d_inter / (d_intra + ε)` of the rows of `a` (N × D)
/// grouped by `labels` (length N):
/// `d_inter` is the mean over pairs of present classes of `‖c_c − c_c'‖₂` between centroids;
/// `d_intra` is the mean over present classes of the mean `‖a_i − c_c‖₂` of that class's samples;
/// `ε = 1e-12 · max|a|`.
///
/// The paper's ε is an absolute 1e-12; relative to the largest entry, the ratio is the same for
/// activations scaled by any factor (an absolute ε dominates `d_intra` for activations below
/// about 1e-11). At unit scale (`max|a| = 1`) it is the paper's formula; otherwise the two differ
/// by about `1e-12 · |max|a| − 1| / d_intra`, relative.
///
/// The analysis passes the centred matrix (scaled by a power of two, which changes nothing
/// here), so there `ε = 1e-12 · max|Ã|`. Edge cases: fewer than two classes
/// present, or all samples equal, gives `d_inter = 0`, so `r_s = 0`; all samples equal within
/// their classes but not across them gives `d_intra = 0` and `r_s = d_inter / ε`.
///
/// # Panics
/// If `labels.len()` differs from the number of rows (callers check this on input).
pub fn separation_ratio(a: MatRef<'_, f64>, labels: &[u32]) -> f64 {
    let (n, d) = (a.nrows(), a.ncols());
    assert_eq!(labels.len(), n, "one label per sample");
    if d > 0 && a.col(0).try_as_col_major().is_none() {
        return separation_ratio(a.to_owned().as_ref(), labels);
    }
    // Present classes, sorted, mapped to 0..C.
    let mut classes: Vec<u32> = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    let c = classes.len();
    let class_of: Vec<usize> = labels
        .iter()
        .map(|y| classes.binary_search(y).expect("present"))
        .collect();
    let mut counts = vec![0usize; c];
    for &k in &class_of {
        counts[k] += 1;
    }
    // The samples grouped by class, in increasing order within each class (a stable sort), and
    // where each class's run starts: a centroid is then a sum over one contiguous run.
    let mut by_class: Vec<usize> = (0..n).collect();
    by_class.sort_by_key(|&i| class_of[i]);
    let mut run_starts = Vec::with_capacity(c + 1);
    run_starts.push(0);
    for k in 0..c {
        run_starts.push(run_starts[k] + counts[k]);
    }
    let inv_counts: Vec<f64> = counts.iter().map(|&m| 1.0 / m as f64).collect();
    // One pass over the columns (a is column-major), each used three times while it is in
    // cache: its class means (each sample added in increasing order, then scaled by 1/count),
    // every sample's squared distance to its own centroid, and max|a|.
    let mut centroids = vec![0.0f64; c * d];
    let mut sq = vec![0.0f64; n];
    let mut means = vec![0.0f64; c];
    let mut max_abs_all = 0.0f64;
    for j in 0..d {
        let col = column(a, j);
        for (k, mean) in means.iter_mut().enumerate() {
            let run = &by_class[run_starts[k]..run_starts[k + 1]];
            let sum = run.iter().fold(0.0f64, |acc, &i| acc + col[i]);
            *mean = sum * inv_counts[k];
            centroids[k * d + j] = *mean;
        }
        for ((s, &x), &k) in sq.iter_mut().zip(col).zip(&class_of) {
            let diff = x - means[k];
            *s += diff * diff;
        }
        max_abs_all = max_abs_all.max(max_abs(col));
    }
    separation_from_parts(&centroids, d, &counts, &class_of, &sq, max_abs_all)
}

/// Column `j` of a matrix with contiguous columns (the centred matrices are column-major).
fn column(a: MatRef<'_, f64>, j: usize) -> &[f64] {
    a.col(j)
        .try_as_col_major()
        .expect("column-major matrix")
        .as_slice()
}

/// `r_s` from its parts: the C present classes' centroids (C × D, row-major) and sample
/// counts, each sample's class (an index into the centroids) and squared distance to its
/// centroid, and `max|a|` for ε. What [`separation_ratio`] computes from the matrix, and what
/// the streamed analysis accumulates over row chunks.
pub(crate) fn separation_from_parts(
    centroids: &[f64],
    d: usize,
    counts: &[usize],
    class_of: &[usize],
    squared_distances: &[f64],
    max_abs: f64,
) -> f64 {
    let c = counts.len();
    let mut intra_sum = vec![0.0f64; c];
    for (&k, sq) in class_of.iter().zip(squared_distances) {
        intra_sum[k] += sq.sqrt();
    }
    let d_intra = if c == 0 {
        0.0
    } else {
        (0..c).map(|k| intra_sum[k] / counts[k] as f64).sum::<f64>() / c as f64
    };
    let mut inter = 0.0;
    let mut pairs = 0usize;
    for p in 0..c {
        for q in p + 1..c {
            let dist: f64 = (0..d)
                .map(|j| {
                    let diff = centroids[p * d + j] - centroids[q * d + j];
                    diff * diff
                })
                .sum::<f64>()
                .sqrt();
            inter += dist;
            pairs += 1;
        }
    }
    let d_inter = if pairs == 0 {
        0.0
    } else {
        inter / pairs as f64
    };
    if d_inter == 0.0 {
        return 0.0;
    }
    d_inter / (d_intra + crate::tolerances::SEPARATION_EPSILON * max_abs)
}

/// The separation score `s_s = min(r_s / r_s⁰, 1)`, and 1 when the reference's `r_s⁰ = 0`.
pub fn separation_score(ratio: f64, reference_ratio: f64) -> f64 {
    if reference_ratio <= 0.0 {
        1.0
    } else {
        (ratio / reference_ratio).min(1.0)
    }
}
