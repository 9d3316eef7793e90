//! Reductions over slices written so that they vectorise: eight independent lanes in a fixed
//! order, so that every target (and every SIMD width) computes the same bits.

/// `max |xᵢ|` (0 for an empty slice), over eight independent lanes: the maximum does not depend
/// on the order, so this equals the sequential fold bit for bit for finite values, while the
/// sequential fold waits on each comparison in turn.
pub(crate) fn max_abs(x: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for (l, v) in lanes.iter_mut().zip(c) {
            *l = l.max(v.abs());
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    lanes.iter().fold(tail, |m, &l| m.max(l))
}

/// `Σ xᵢ yᵢ` over eight lanes (`Σ` over the lanes' partial sums, then the tail).
#[inline(always)]
pub(crate) fn dot(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [0.0f64; 8];
    let mut xc = x.chunks_exact(8);
    let mut yc = y.chunks_exact(8);
    for (a, b) in (&mut xc).zip(&mut yc) {
        for k in 0..8 {
            acc[k] += a[k] * b[k];
        }
    }
    let tail: f64 = xc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .map(|(a, b)| a * b)
        .sum();
    combine(acc) + tail
}

/// `Σ xᵢ` over eight lanes.
#[inline(always)]
pub(crate) fn sum(x: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for k in 0..8 {
            acc[k] += c[k];
        }
    }
    combine(acc) + chunks.remainder().iter().sum::<f64>()
}

/// The eight lanes' partial sums, pairwise.
#[inline(always)]
fn combine(acc: [f64; 8]) -> f64 {
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_abs_equals_the_fold_at_every_length() {
        for n in 0..40 {
            let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 23) as f64 - 11.5).collect();
            let want = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert_eq!(max_abs(&x), want, "n = {n}");
        }
        assert_eq!(max_abs(&[]), 0.0);
    }

    #[test]
    fn sums_equal_exact_integer_sums() {
        // Integers below 2^53 add exactly in any order: the lanes and the tail must all count.
        for n in 0..40usize {
            let x: Vec<f64> = (0..n).map(|i| (i * i) as f64 - 7.0).collect();
            let y: Vec<f64> = (0..n).map(|i| (i % 5) as f64).collect();
            let want_sum: i64 = (0..n as i64).map(|i| i * i - 7).sum();
            let want_dot: i64 = (0..n as i64).map(|i| (i * i - 7) * (i % 5)).sum();
            assert_eq!(sum(&x), want_sum as f64, "n = {n}");
            assert_eq!(dot(&x, &y), want_dot as f64, "n = {n}");
        }
    }
}
