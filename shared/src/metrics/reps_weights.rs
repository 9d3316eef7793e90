//! The weights `(α, β, γ, δ)` of REPS (paper eq. 9).

use crate::error::{RepsError, Result};
use serde::{Deserialize, Serialize};

/// Weights of the four components, in the order effective rank, alive, separation, decay.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepsWeights(pub [f64; 4]);

/// The paper's weighted variant `(0.15, 0.05, 0.35, 0.45)`.
pub const WEIGHTED: RepsWeights = RepsWeights([0.15, 0.05, 0.35, 0.45]);
/// The equal-weight variant `(0.25, 0.25, 0.25, 0.25)`.
pub const EQUAL: RepsWeights = RepsWeights([0.25, 0.25, 0.25, 0.25]);

impl RepsWeights {
    /// User weights: four finite, non-negative numbers with a positive sum, rescaled to sum 1.
    pub fn new(w: [f64; 4]) -> Result<Self> {
        if w.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err(RepsError::Invalid(format!(
                "REPS weights must be finite and non-negative, got {w:?}"
            )));
        }
        let sum: f64 = w.iter().sum();
        if sum <= 0.0 {
            return Err(RepsError::Invalid(
                "REPS weights must not all be zero".into(),
            ));
        }
        Ok(RepsWeights(w.map(|x| x / sum)))
    }

    /// Parses `"a,b,c,d"` (the `--weights` flag).
    pub fn parse(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        if parts.len() != 4 {
            return Err(RepsError::Invalid(format!(
                "expected four comma-separated weights (effective rank, alive, separation, decay), got '{text}'"
            )));
        }
        let mut w = [0.0; 4];
        for (slot, p) in w.iter_mut().zip(&parts) {
            *slot = p
                .parse::<f64>()
                .map_err(|_| RepsError::Invalid(format!("'{p}' in --weights is not a number")))?;
        }
        Self::new(w)
    }

    /// The weights actually applied: these when class separation is available; otherwise γ = 0 and
    /// the other three rescaled to sum 1 (DESIGN.md §2). `None` when nothing is left to weigh.
    pub fn effective(&self, separation_available: bool) -> Option<[f64; 4]> {
        if separation_available {
            return Some(self.0);
        }
        let [a, b, _, d] = self.0;
        let rest = a + b + d;
        (rest > 0.0).then(|| [a / rest, b / rest, 0.0, d / rest])
    }

    /// `Σ w_k · component_k`, with the separation component possibly missing.
    pub fn combine(&self, components: [Option<f64>; 4]) -> Option<f64> {
        let w = self.effective(components[2].is_some())?;
        Some(
            w.iter()
                .zip(components)
                .map(|(wk, c)| wk * c.unwrap_or(0.0))
                .sum(),
        )
    }
}
