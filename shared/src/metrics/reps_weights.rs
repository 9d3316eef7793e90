//! The weights `(α, β, γ, δ)` of REPS (paper eq. 9), one per entry of [`COMPONENTS`].

use super::components::{PerComponent, COMPONENTS, COMPONENT_COUNT};
use crate::error::{RepsError, Result};
use serde::{Deserialize, Serialize};

/// Weights of the components, in [`COMPONENTS`] order.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepsWeights(pub PerComponent<f64>);

/// The paper's weighted variant `(0.15, 0.05, 0.35, 0.45)`.
pub const WEIGHTED: RepsWeights = RepsWeights([0.15, 0.05, 0.35, 0.45]);
/// The equal-weight variant `(0.25, 0.25, 0.25, 0.25)`.
pub const EQUAL: RepsWeights = RepsWeights([0.25; COMPONENT_COUNT]);

/// Why user weights were refused.
fn invalid(reason: String) -> RepsError {
    RepsError::Option {
        option: "weights",
        reason,
    }
}

impl RepsWeights {
    /// User weights: finite, non-negative numbers with a positive sum, rescaled to sum 1.
    ///
    /// When their sum would overflow (weights near `f64::MAX`) they are first divided by the
    /// largest, so `1e308,1e308,1,1` becomes `0.5, 0.5, ~0, ~0`, not zeros.
    pub fn new(w: PerComponent<f64>) -> Result<Self> {
        if w.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err(invalid(format!(
                "REPS weights must be finite and non-negative, got {w:?}"
            )));
        }
        let max = w.iter().copied().fold(0.0, f64::max);
        if max <= 0.0 {
            return Err(invalid("REPS weights must not all be zero".into()));
        }
        let w = if w.iter().sum::<f64>().is_finite() {
            w
        } else {
            w.map(|x| x / max)
        };
        let sum: f64 = w.iter().sum();
        Ok(RepsWeights(w.map(|x| x / sum)))
    }

    /// Parses `"a,b,c,d"`: one number per component, in [`COMPONENTS`] order.
    pub fn parse(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        if parts.len() != COMPONENT_COUNT {
            let names: Vec<&str> = COMPONENTS.iter().map(|c| c.key).collect();
            return Err(invalid(format!(
                "expected {COMPONENT_COUNT} comma-separated weights ({}), got '{text}'",
                names.join(", ")
            )));
        }
        let mut w = [0.0; COMPONENT_COUNT];
        for (slot, p) in w.iter_mut().zip(&parts) {
            *slot = p
                .parse::<f64>()
                .map_err(|_| invalid(format!("'{p}' is not a number")))?;
        }
        Self::new(w)
    }

    /// The weights actually applied when only the components marked in `available` exist: these
    /// weights when all do; otherwise the missing ones get 0 and the others are rescaled to sum 1
    /// (docs/DESIGN.md §2: without labels class separation is left out). `None` when nothing is left
    /// to weigh.
    pub fn effective(&self, available: PerComponent<bool>) -> Option<PerComponent<f64>> {
        if available.iter().all(|&a| a) {
            return Some(self.0);
        }
        let rest: f64 = self
            .0
            .iter()
            .zip(available)
            .filter(|(_, a)| *a)
            .map(|(w, _)| w)
            .sum();
        (rest > 0.0)
            .then(|| std::array::from_fn(|k| if available[k] { self.0[k] / rest } else { 0.0 }))
    }

    /// `Σ w_k · component_k` with [`RepsWeights::effective`] weights for the components present.
    pub fn combine(&self, components: PerComponent<Option<f64>>) -> Option<f64> {
        let w = self.effective(components.map(|c| c.is_some()))?;
        Some(
            w.iter()
                .zip(components)
                .map(|(wk, c)| wk * c.unwrap_or(0.0))
                .sum(),
        )
    }
}
