//! Class separation, paper eqs. 6–7.

use faer::MatRef;

/// Inter/intra class distance ratio `r_s = d_inter / (d_intra + 1e-12)` of the rows of `a` (N × D)
/// grouped by `labels` (length N):
/// `d_inter` is the mean over pairs of present classes of `‖c_c − c_c'‖₂` between centroids;
/// `d_intra` is the mean over present classes of the mean `‖a_i − c_c‖₂` of that class's samples.
///
/// Translation invariant, so the centred matrix can be passed. The analysis passes the centred
/// matrix scaled so that its largest entry lies in [1, 2) ([`crate::linalg`]'s `CenteredMatrix`),
/// which makes the 1e-12 relative to the data: in the units of the activations the epsilon is
/// `1e-12 · 2^⌊log₂ max|Ã|⌋`. So `r_s` is scale-invariant at every scale, and equals the paper's
/// formula with an absolute 1e-12 exactly when `max|Ã|` lies in [1, 2) and to about
/// `1e-12 · max|Ã| / d_intra` (relative) at other unit-like scales.
///
/// Edge cases: fewer than two classes present gives `d_inter = 0`, so `r_s = 0`; all samples
/// equal within their classes gives `d_intra = 0` and `r_s = d_inter / 1e-12`.
///
/// # Panics
/// If `labels.len()` differs from the number of rows (callers check this on input).
pub fn separation_ratio(a: MatRef<'_, f64>, labels: &[u32]) -> f64 {
    let (n, d) = (a.nrows(), a.ncols());
    assert_eq!(labels.len(), n, "one label per sample");
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
    // a is column-major: walk it column by column.
    let mut centroids = vec![0.0f64; c * d];
    for j in 0..d {
        let col = a.col(j);
        for (i, &k) in class_of.iter().enumerate() {
            centroids[k * d + j] += col[i];
        }
    }
    for k in 0..c {
        let inv = 1.0 / counts[k] as f64;
        centroids[k * d..(k + 1) * d]
            .iter_mut()
            .for_each(|v| *v *= inv);
    }
    // Intra: per-sample squared distances to the own centroid, accumulated column by column.
    let mut sq = vec![0.0f64; n];
    for j in 0..d {
        let col = a.col(j);
        for (i, &k) in class_of.iter().enumerate() {
            let diff = col[i] - centroids[k * d + j];
            sq[i] += diff * diff;
        }
    }
    let mut intra_sum = vec![0.0f64; c];
    for (i, &k) in class_of.iter().enumerate() {
        intra_sum[k] += sq[i].sqrt();
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
    d_inter / (d_intra + 1e-12)
}

/// The separation score `s_s = min(r_s / r_s⁰, 1)`, and 1 when the reference's `r_s⁰ = 0`.
pub fn separation_score(ratio: f64, reference_ratio: f64) -> f64 {
    if reference_ratio <= 0.0 {
        1.0
    } else {
        (ratio / reference_ratio).min(1.0)
    }
}
