//! Output-level baselines between a reference's and a model's logits (both N × K).

use crate::activations::Activations;
use crate::error::{RepsError, Result};
use serde::{Deserialize, Serialize};

/// All logit baselines of one model against the reference.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogitBaselines {
    pub prediction_agreement: f64,
    pub logits_cosine: f64,
    pub logits_l2: f64,
    pub kl_divergence: f64,
    pub wasserstein: f64,
}

impl LogitBaselines {
    /// Computes every logit baseline; the two matrices must have the same shape and N ≥ 1.
    pub fn compute(reference: &Activations, model: &Activations) -> Result<Self> {
        check(reference, model)?;
        Ok(LogitBaselines {
            prediction_agreement: prediction_agreement(reference, model)?,
            logits_cosine: logits_cosine(reference, model)?,
            logits_l2: logits_l2(reference, model)?,
            kl_divergence: kl_divergence(reference, model)?,
            wasserstein: wasserstein_logits(reference, model)?,
        })
    }
}

fn check(a: &Activations, b: &Activations) -> Result<()> {
    if a.rows() != b.rows() || a.cols() != b.cols() {
        return Err(RepsError::Invalid(format!(
            "logits of shape {} × {} and {} × {} cannot be compared",
            a.rows(),
            a.cols(),
            b.rows(),
            b.cols()
        )));
    }
    if a.rows() == 0 || a.cols() == 0 {
        return Err(RepsError::Invalid("logits are empty".into()));
    }
    Ok(())
}

/// Fraction of samples whose argmax agrees (ties resolved to the lowest class index).
pub fn prediction_agreement(reference: &Activations, model: &Activations) -> Result<f64> {
    check(reference, model)?;
    let (a, b) = (reference.row_argmax(), model.row_argmax());
    let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
    Ok(same as f64 / a.len() as f64)
}

/// Mean over samples of the cosine between logit vectors. A pair in which one vector is zero
/// counts 0, a pair of two zero vectors counts 1.
pub fn logits_cosine(reference: &Activations, model: &Activations) -> Result<f64> {
    check(reference, model)?;
    let n = reference.rows();
    let total: f64 = (0..n)
        .map(|i| {
            let (a, b) = (reference.row(i), model.row(i));
            let dot: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
            let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
            match (na == 0.0, nb == 0.0) {
                (true, true) => 1.0,
                (true, false) | (false, true) => 0.0,
                _ => (dot / (na * nb)).clamp(-1.0, 1.0),
            }
        })
        .sum();
    Ok(total / n as f64)
}

/// Mean over samples of the Euclidean distance between logit vectors.
pub fn logits_l2(reference: &Activations, model: &Activations) -> Result<f64> {
    check(reference, model)?;
    let n = reference.rows();
    let total: f64 = (0..n)
        .map(|i| {
            let (a, b) = (reference.row(i), model.row(i));
            a.iter()
                .zip(&b)
                .map(|(x, y)| (x - y).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .sum();
    Ok(total / n as f64)
}

/// Softmax of one row, computed stably (max subtracted), probabilities clamped at 1e-12.
fn softmax_clamped(row: &[f64]) -> Vec<f64> {
    let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = row.iter().map(|x| (x - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| (e / sum).max(1e-12)).collect()
}

/// Mean over samples of `KL(softmax(ref) ‖ softmax(model)) = Σ_k p_k ln(p_k / q_k)`, natural log,
/// probabilities clamped at 1e-12.
pub fn kl_divergence(reference: &Activations, model: &Activations) -> Result<f64> {
    check(reference, model)?;
    let n = reference.rows();
    let total: f64 = (0..n)
        .map(|i| {
            let p = softmax_clamped(&reference.row(i));
            let q = softmax_clamped(&model.row(i));
            p.iter()
                .zip(&q)
                .map(|(pk, qk)| pk * (pk / qk).ln())
                .sum::<f64>()
        })
        .sum();
    Ok(total / n as f64)
}

/// 1-D Wasserstein-1 distance between the empirical distributions of all logit values of the two
/// models (all samples and classes pooled).
pub fn wasserstein_logits(reference: &Activations, model: &Activations) -> Result<f64> {
    check(reference, model)?;
    let a: Vec<f64> = (0..reference.values().len())
        .map(|i| reference.values().get(i))
        .collect();
    let b: Vec<f64> = (0..model.values().len())
        .map(|i| model.values().get(i))
        .collect();
    Ok(wasserstein_1d(&a, &b))
}

/// Wasserstein-1 distance `∫ |F_a(t) − F_b(t)| dt` between the empirical distributions of two
/// samples (of any, possibly different, sizes). Either sample empty gives 0.
pub fn wasserstein_1d(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    // Walk the merged support; between consecutive points both CDFs are constant.
    let (mut i, mut j) = (0usize, 0usize);
    let mut prev = a[0].min(b[0]);
    let mut total = 0.0;
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => unreachable!(),
        };
        let fa = i as f64 / na;
        let fb = j as f64 / nb;
        total += (fa - fb).abs() * (next - prev);
        while i < a.len() && a[i] == next {
            i += 1;
        }
        while j < b.len() && b[j] == next {
            j += 1;
        }
        prev = next;
    }
    total
}
