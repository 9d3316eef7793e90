//! Low-rank compression: each weight matrix replaced by its truncated singular value
//! decomposition (Denton et al. 2014), without fine-tuning.

use super::{positive_fraction, CompressionMethod, LayerSearch, Make, MethodSettings};
use crate::model::WeightTensor;
use anyhow::{Context, Result};
use faer::Mat;
use reps::search::Direction;

/// `lowrank`: keep a fraction of each weight matrix's rank.
pub const METHOD: CompressionMethod = CompressionMethod {
    name: "lowrank",
    parameter: "keep",
    about: "replace each weight matrix (a conv as out × in·k·k) by its truncated SVD keeping the given fraction of its rank",
    grid: [0.9, 0.7, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05],
    check: positive_fraction,
    make: Make::Weights(apply),
    search: Some(LayerSearch {
        ladder: &[
            0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2,
            0.15, 0.1, 0.05,
        ],
        budget: "kept share",
        direction: Direction::Decreases,
        amount: kept_share,
        global: None,
    }),
};

fn apply(weights: &mut [WeightTensor], keep: f64, _: &MethodSettings) -> Result<()> {
    for w in weights.iter_mut() {
        truncate_rank(w, keep).with_context(|| format!("low-rank approximation of {}", w.name))?;
    }
    Ok(())
}

/// The rank kept of an `m × n` matrix: `round(keep · min(m, n))`, at least 1.
pub fn kept_rank(m: usize, n: usize, keep: f64) -> usize {
    ((keep * m.min(n) as f64).round() as usize).clamp(1, m.min(n).max(1))
}

/// The share of the parameters of a weight of shape `dims` (an `m × n` matrix, `m` its first
/// axis) that its rank-`r` factors `U (m × r)` and `V (r × n)` keep: `min(r (m + n), m n) / (m n)`
/// with `r` = [`kept_rank`] (1 untouched: the matrix itself is kept when the factors would be
/// larger).
pub fn kept_share(dims: &[usize], keep: Option<f64>) -> f64 {
    let m = dims.first().copied().unwrap_or(0);
    let n: usize = dims.iter().skip(1).product();
    match keep {
        Some(k) if m > 0 && n > 0 => {
            let r = kept_rank(m, n, k);
            (r * (m + n)).min(m * n) as f64 / (m * n) as f64
        }
        _ => 1.0,
    }
}

/// Replaces `w`, read as an `m × n` matrix (`m` = its first axis, `n` = the rest: a convolution's
/// `C_out × C_in·k·k`), by `Σ_{l < r} σ_l u_l v_lᵀ` over its `r` = [`kept_rank`] largest singular
/// values (the best rank-r approximation in Frobenius norm, Eckart–Young), computed in f64.
/// With `keep = 1` the matrix is reproduced up to rounding.
pub fn truncate_rank(w: &mut WeightTensor, keep: f64) -> Result<()> {
    let m = w.dims.first().copied().unwrap_or(0);
    if m == 0 || w.values.is_empty() {
        return Ok(());
    }
    let n = w.values.len() / m;
    let a = Mat::<f64>::from_fn(m, n, |i, j| w.values[i * n + j] as f64);
    let svd = a
        .thin_svd()
        .map_err(|e| anyhow::anyhow!("the SVD did not converge: {e:?}"))?;
    let (u, s, v) = (svd.U(), svd.S().column_vector(), svd.V());
    let mut order: Vec<usize> = (0..s.nrows()).collect();
    order.sort_by(|&x, &y| s[y].total_cmp(&s[x]));
    let r = kept_rank(m, n, keep);
    for i in 0..m {
        for j in 0..n {
            let x: f64 = order[..r]
                .iter()
                .map(|&l| u[(i, l)] * s[l] * v[(j, l)])
                .sum();
            w.values[i * n + j] = x as f32;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ops::custom_op::test_values as values;

    /// The rank of a matrix by Gaussian elimination with partial pivoting (an independent check).
    fn rank(a: &[f32], m: usize, n: usize) -> usize {
        let mut a: Vec<f64> = a.iter().map(|x| *x as f64).collect();
        let scale = a.iter().fold(0.0f64, |s, x| s.max(x.abs()));
        let mut r = 0;
        for c in 0..n {
            let Some(p) = (r..m).max_by(|&x, &y| a[x * n + c].abs().total_cmp(&a[y * n + c].abs()))
            else {
                break;
            };
            if a[p * n + c].abs() <= 1e-4 * scale {
                continue;
            }
            for j in 0..n {
                a.swap(r * n + j, p * n + j);
            }
            for i in r + 1..m {
                let f = a[i * n + c] / a[r * n + c];
                for j in 0..n {
                    a[i * n + j] -= f * a[r * n + j];
                }
            }
            r += 1;
        }
        r
    }

    #[test]
    fn requested_rank_and_identity_at_keep_one() {
        // A conv weight 6 × 2 × 2 × 2 is a 6 × 8 matrix of rank 6.
        let original = values(48, 3);
        for (keep, r) in [(1.0, 6), (0.5, 3), (0.3, 2), (0.05, 1)] {
            let mut w = WeightTensor {
                name: "conv".into(),
                dims: vec![6, 2, 2, 2],
                values: original.clone(),
            };
            truncate_rank(&mut w, keep).unwrap();
            assert_eq!(rank(&w.values, 6, 8), r, "keep {keep}");
            if keep == 1.0 {
                for (a, b) in w.values.iter().zip(&original) {
                    assert!((a - b).abs() <= 1e-6, "{a} vs {b}");
                }
            }
        }
        assert_eq!(kept_rank(10, 3, 0.5), 2);
        assert_eq!(kept_rank(3, 10, 0.01), 1);
    }

    /// Rank 1 of `x yᵀ + ε` is close to `x yᵀ`: the dominant direction is kept.
    #[test]
    fn rank_one_keeps_the_dominant_direction() {
        let (x, y) = ([1.0f32, 2.0, -1.0], [3.0f32, 0.5, 1.0, -2.0]);
        let noise = values(12, 9);
        let mut w = WeightTensor {
            name: "fc".into(),
            dims: vec![3, 4],
            values: (0..12)
                .map(|k| x[k / 4] * y[k % 4] + 0.01 * noise[k])
                .collect(),
        };
        truncate_rank(&mut w, 0.1).unwrap();
        for k in 0..12 {
            assert!(
                (w.values[k] - x[k / 4] * y[k % 4]).abs() < 0.02,
                "{k}: {}",
                w.values[k]
            );
        }
    }
}
