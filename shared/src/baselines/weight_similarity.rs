//! Weight similarity: cosine of the concatenated conv and linear weights of two models.

use crate::error::{RepsError, Result};

/// `⟨w_a, w_b⟩ / (‖w_a‖ ‖w_b‖)` over the concatenated weights (same length, same order).
/// Two all-zero vectors give 1; one all-zero vector gives 0.
pub fn weight_similarity(a: &[f32], b: &[f32]) -> Result<f64> {
    if a.len() != b.len() {
        return Err(RepsError::Invalid(format!(
            "weight vectors of different lengths ({} and {}) cannot be compared",
            a.len(),
            b.len()
        )));
    }
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x as f64, y as f64);
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    Ok(match (na == 0.0, nb == 0.0) {
        (true, true) => 1.0,
        (true, false) | (false, true) => 0.0,
        _ => (dot / (na.sqrt() * nb.sqrt())).clamp(-1.0, 1.0),
    })
}
