//! Alive neurons, paper eq. 5.

/// Fraction of alive neurons from the population variances of the D columns:
/// `s_alive = 1 − #{d : var_d < 0.01 · v̄} / D`, `v̄ = mean_d var_d`.
///
/// Not normalised by the reference. Edge cases: when `v̄ = 0` (a constant or all-zero layer) every
/// neuron is dead and the result is 0; no columns (D = 0) also gives 0.
pub fn alive_fraction(column_variances: &[f64]) -> f64 {
    let d = column_variances.len();
    if d == 0 {
        return 0.0;
    }
    let mean = column_variances.iter().sum::<f64>() / d as f64;
    if mean <= 0.0 {
        return 0.0;
    }
    let threshold = 0.01 * mean;
    let dead = column_variances.iter().filter(|&&v| v < threshold).count();
    1.0 - dead as f64 / d as f64
}
