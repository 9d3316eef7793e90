//! Output-level baselines between a reference's and a model's logits (both N × K).

use crate::activations::Activations;
use crate::error::{RepsError, Result};
use crate::linalg::binary_exponent;
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

/// `(2^−e, e)` with `e = ⌊log₂ m⌋` for the largest magnitude `m` of some values (`(1, 0)` when
/// it is 0): multiplying by `2^−e` is exact and brings the largest magnitude into [1, 2), so that
/// products of logits as large as 1e300 or as small as 1e-300 neither overflow nor underflow.
fn unit_scale(max_abs: f64) -> (f64, i32) {
    let e = binary_exponent(max_abs);
    (libm::ldexp(1.0, -e), e)
}

fn max_abs(values: &[f64]) -> f64 {
    values.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

/// Mean over samples of the cosine between logit vectors. A pair in which one vector is zero
/// counts 0, a pair of two zero vectors counts 1.
///
/// Each vector is first scaled by a power of two that brings its largest entry into [1, 2)
/// (exact, and cosine is scale-invariant), so the result is the same for logits of any magnitude.
pub fn logits_cosine(reference: &Activations, model: &Activations) -> Result<f64> {
    check(reference, model)?;
    let n = reference.rows();
    let total: f64 = (0..n)
        .map(|i| row_cosine(&reference.row(i), &model.row(i)))
        .sum();
    Ok(total / n as f64)
}

/// The cosine of one pair of logit vectors, each first scaled by the power of two that brings its
/// largest entry into [1, 2): 0 when one is zero, 1 when both are.
fn row_cosine(a: &[f64], b: &[f64]) -> f64 {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    for v in [&mut a, &mut b] {
        let (s, _) = unit_scale(max_abs(v));
        v.iter_mut().for_each(|x| *x *= s);
    }
    let dot: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    match (na == 0.0, nb == 0.0) {
        (true, true) => 1.0,
        (true, false) | (false, true) => 0.0,
        _ => (dot / (na * nb)).clamp(-1.0, 1.0),
    }
}

/// `‖a·s − b·s‖₂` of one pair of logit vectors.
fn row_l2(a: &[f64], b: &[f64], scale: f64) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x * scale - y * scale).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// `KL(softmax(a) ‖ softmax(b))` of one pair of logit vectors.
fn row_kl(a: &[f64], b: &[f64]) -> f64 {
    let p = softmax_clamped(a);
    let q = softmax_clamped(b);
    p.iter()
        .zip(&q)
        .map(|(pk, qk)| pk * (pk / qk).ln())
        .sum::<f64>()
}

/// Mean over samples of the Euclidean distance between logit vectors.
///
/// Computed on both matrices scaled by one power of two (their largest entry brought into
/// [1, 2)) and scaled back at the end, which is exact: the result is `c` times as large for logits
/// `c` times as large, at any magnitude, and an error only when the distance itself exceeds f64.
pub fn logits_l2(reference: &Activations, model: &Activations) -> Result<f64> {
    check(reference, model)?;
    let n = reference.rows();
    let (scale, e) = logits_scale(reference, model);
    let total: f64 = (0..n)
        .map(|i| row_l2(&reference.row(i), &model.row(i), scale))
        .sum();
    finite_result("logits L2 distance", libm::ldexp(total / n as f64, e))
}

/// One power-of-two scale for all logits of two models (see [`unit_scale`]).
fn logits_scale(reference: &Activations, model: &Activations) -> (f64, i32) {
    let largest = |a: &Activations| {
        let v = a.values();
        (0..v.len()).fold(0.0f64, |m, i| m.max(v.get(i).abs()))
    };
    unit_scale(largest(reference).max(largest(model)))
}

/// `value`, or an error when it overflowed f64.
fn finite_result(what: &str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(RepsError::Invalid(format!(
            "the {what} exceeds the range of f64 (logits near ±1e308)"
        )))
    }
}

/// Softmax of one row, computed stably (max subtracted), probabilities clamped at 1e-12.
fn softmax_clamped(row: &[f64]) -> Vec<f64> {
    let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = row.iter().map(|x| (x - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter()
        .map(|e| (e / sum).max(crate::tolerances::PROBABILITY_FLOOR))
        .collect()
}

/// Mean over samples of `KL(softmax(ref) ‖ softmax(model)) = Σ_k p_k ln(p_k / q_k)`, natural log,
/// probabilities clamped at 1e-12. Not scale-invariant (softmax is not), but finite at every
/// magnitude: the softmax subtracts each row's maximum, so no exponential overflows.
pub fn kl_divergence(reference: &Activations, model: &Activations) -> Result<f64> {
    check(reference, model)?;
    let n = reference.rows();
    let total: f64 = (0..n)
        .map(|i| row_kl(&reference.row(i), &model.row(i)))
        .sum();
    Ok(total / n as f64)
}

/// Prediction agreement, logits cosine, logits L2 and KL accumulated over pairs of logit rows
/// read in chunks (language-model logits over a large vocabulary need not be held): the same
/// per-row terms added in the same order as [`prediction_agreement`], [`logits_cosine`],
/// [`logits_l2`] and [`kl_divergence`], so the results are theirs bit for bit. The Wasserstein
/// distance is not among them: it needs every value sorted.
#[derive(Clone, Debug)]
pub struct LogitSums {
    rows: usize,
    agree: usize,
    cosine: f64,
    l2: f64,
    kl: f64,
    scale: f64,
    exponent: i32,
}

/// What [`LogitSums::finish`] gives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamedLogitBaselines {
    pub prediction_agreement: f64,
    pub logits_cosine: f64,
    pub logits_l2: f64,
    pub kl_divergence: f64,
}

impl LogitSums {
    /// Empty sums; `max_abs` is the largest magnitude among both models' logits (for the L2
    /// distance's scale, as [`logits_l2`] takes it).
    pub fn new(max_abs: f64) -> Self {
        let (scale, exponent) = unit_scale(max_abs);
        LogitSums {
            rows: 0,
            agree: 0,
            cosine: -0.0,
            l2: -0.0,
            kl: -0.0,
            scale,
            exponent,
        }
    }

    /// Adds the next rows of K logits each (row-major) of the reference and the model.
    pub fn add(&mut self, reference: &[f64], model: &[f64], k: usize) {
        for (a, b) in reference
            .chunks_exact(k.max(1))
            .zip(model.chunks_exact(k.max(1)))
        {
            self.agree +=
                usize::from(crate::activations::argmax(a) == crate::activations::argmax(b));
            self.cosine += row_cosine(a, b);
            self.l2 += row_l2(a, b, self.scale);
            self.kl += row_kl(a, b);
            self.rows += 1;
        }
    }

    /// The means over the rows added; an error without rows or when the L2 distance overflows.
    pub fn finish(self) -> Result<StreamedLogitBaselines> {
        if self.rows == 0 {
            return Err(RepsError::Invalid("logits are empty".into()));
        }
        let n = self.rows as f64;
        Ok(StreamedLogitBaselines {
            prediction_agreement: self.agree as f64 / n,
            logits_cosine: self.cosine / n,
            logits_l2: finite_result(
                "logits L2 distance",
                libm::ldexp(self.l2 / n, self.exponent),
            )?,
            kl_divergence: self.kl / n,
        })
    }
}

/// 1-D Wasserstein-1 distance between the empirical distributions of all logit values of the two
/// models (all samples and classes pooled). Computed on the values scaled by one power of two and
/// scaled back, exactly as [`logits_l2`].
pub fn wasserstein_logits(reference: &Activations, model: &Activations) -> Result<f64> {
    check(reference, model)?;
    let (scale, e) = logits_scale(reference, model);
    let a: Vec<f64> = (0..reference.values().len())
        .map(|i| reference.values().get(i) * scale)
        .collect();
    let b: Vec<f64> = (0..model.values().len())
        .map(|i| model.values().get(i) * scale)
        .collect();
    finite_result(
        "Wasserstein distance",
        libm::ldexp(wasserstein_1d(&a, &b), e),
    )
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
