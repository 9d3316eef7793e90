//! Eigenvalue decay similarity, paper eq. 8.

use serde::{Deserialize, Serialize};

/// The least-squares fit of `ln λ_i` on `ln i` over the top eigenvalues.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecayFit {
    /// `δ = −slope`; 0 when fewer than two eigenvalues are usable.
    pub slope: f64,
    /// Coefficient of determination of the fit; `None` when fewer than two points were fitted,
    /// 1 when all fitted eigenvalues are equal (a flat line fits exactly).
    pub r2: Option<f64>,
    /// Number of eigenvalues fitted, `m = min(M, k)`.
    pub points: u32,
}

/// Fits the decay of descending eigenvalues: `k = #{λ_i > ε · λ₁}` (ε = [`crate::tolerances::DECAY_FLOOR`]), `m = min(top_m, k)`,
/// least squares of `ln λ_i` on `ln i` for i = 1..m, `δ = −slope`. With `m < 2`, `δ = 0`.
pub fn decay_fit(eigenvalues_desc: &[f64], top_m: usize) -> DecayFit {
    let l1 = eigenvalues_desc.first().copied().unwrap_or(0.0);
    let k = if l1 > 0.0 {
        eigenvalues_desc
            .iter()
            .filter(|&&l| l > crate::tolerances::DECAY_FLOOR * l1)
            .count()
    } else {
        0
    };
    let m = top_m.min(k);
    if m < 2 {
        return DecayFit {
            slope: 0.0,
            r2: None,
            points: m as u32,
        };
    }
    let xs: Vec<f64> = (1..=m).map(|i| (i as f64).ln()).collect();
    let ys: Vec<f64> = eigenvalues_desc[..m].iter().map(|l| l.ln()).collect();
    let mx = xs.iter().sum::<f64>() / m as f64;
    let my = ys.iter().sum::<f64>() / m as f64;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let syy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let ss_res: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| (y - (intercept + slope * x)).powi(2))
        .sum();
    let r2 = if syy <= 0.0 {
        1.0
    } else {
        (1.0 - ss_res / syy).clamp(0.0, 1.0)
    };
    DecayFit {
        slope: -slope,
        r2: Some(r2),
        points: m as u32,
    }
}

/// The decay score `s_d = 1 / (1 + |δ − δ⁰|)`.
pub fn decay_score(slope: f64, reference_slope: f64) -> f64 {
    1.0 / (1.0 + (slope - reference_slope).abs())
}
