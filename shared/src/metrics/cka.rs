//! Linear centred kernel alignment (Kornblith et al. 2019), biased and debiased.

use super::layer::LayerStats;
use crate::activations::Activations;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Both CKA estimates for one pair of layers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CkaPair {
    /// Biased-HSIC linear CKA in [0, 1].
    pub biased: f64,
    /// Unbiased-HSIC linear CKA; `None` with fewer than 4 samples or when a self-HSIC estimate is
    /// not positive for non-zero data (the estimator is then undefined).
    pub debiased: Option<f64>,
}

/// Linear CKA with the biased HSIC: `‖ỸᵀX̃‖²_F / (‖X̃ᵀX̃‖_F ‖ỸᵀỸ‖_F)` on column-centred X, Y
/// (same N; D may differ). Computed through N × N Gram matrices when N ≤ D.
///
/// Edge cases: when one centred matrix is all zero the result is 0; when both are, 1.
/// Identical inputs give exactly 1. Invariant to orthogonal transforms and isotropic scaling.
pub fn linear_cka(x: &Activations, y: &Activations) -> Result<f64> {
    Ok(pair(x, y)?.biased)
}

/// Linear CKA with the unbiased HSIC estimator of Song et al. (2012); see [`CkaPair::debiased`].
pub fn linear_cka_debiased(x: &Activations, y: &Activations) -> Result<Option<f64>> {
    Ok(pair(x, y)?.debiased)
}

fn pair(x: &Activations, y: &Activations) -> Result<CkaPair> {
    let sx = LayerStats::compute(x, None, 1)?;
    let sy = LayerStats::compute(y, None, 1)?;
    Ok(cka_from_stats(&sx, &sy))
}

/// Both CKA estimates from precomputed layer statistics (the reference's are computed once).
///
/// With centred data (`K1 = 0`) the unbiased HSIC reduces to
/// `[tr(KL) − Σ K_ii L_ii + tr K tr L / ((n−1)(n−2)) − 2 Σ K_ii L_ii / (n−2)] / (n(n−3))`.
///
/// # Panics
/// If either was streamed (see [`compare_layers`](super::compare_layers)).
pub fn cka_from_stats(x: &LayerStats, y: &LayerStats) -> CkaPair {
    cka_with_cross(x, y, super::layer::cross_inner_product(x, y))
}

/// Both CKA estimates with the cross term `‖ỸᵀX̃‖²_F` (of the scaled matrices) given.
pub(crate) fn cka_with_cross(x: &LayerStats, y: &LayerStats, cross: f64) -> CkaPair {
    let (sx, sy) = (x.self_inner, y.self_inner);
    let biased = ratio(cross, sx, sy).clamp(0.0, 1.0);
    let n = x.samples;
    let debiased = if n < 4 {
        None
    } else {
        let nf = n as f64;
        let hsic = |tr_kl: f64, dk: &[f64], dl: &[f64]| {
            let diag: f64 = dk.iter().zip(dl).map(|(a, b)| a * b).sum();
            let tk: f64 = dk.iter().sum();
            let tl: f64 = dl.iter().sum();
            (tr_kl - diag + tk * tl / ((nf - 1.0) * (nf - 2.0)) - 2.0 * diag / (nf - 2.0))
                / (nf * (nf - 3.0))
        };
        let (dx, dy) = (&x.row_squared_norms, &y.row_squared_norms);
        let hxy = hsic(cross, dx, dy);
        let hxx = hsic(sx, dx, dx);
        let hyy = hsic(sy, dy, dy);
        if sx == 0.0 || sy == 0.0 {
            Some(if sx == 0.0 && sy == 0.0 { 1.0 } else { 0.0 })
        } else if hxx <= 0.0 || hyy <= 0.0 {
            None
        } else {
            Some(ratio(hxy, hxx, hyy))
        }
    };
    CkaPair { biased, debiased }
}

/// `c / sqrt(a b)`, written so that `a == b == c` gives exactly 1; 1 when both norms are 0 and 0
/// when one is.
fn ratio(c: f64, a: f64, b: f64) -> f64 {
    if a == 0.0 && b == 0.0 {
        return 1.0;
    }
    if a == 0.0 || b == 0.0 {
        return 0.0;
    }
    let prod = a * b;
    if prod.is_finite() && prod > 0.0 {
        c / prod.sqrt()
    } else {
        c / a.sqrt() / b.sqrt()
    }
}
