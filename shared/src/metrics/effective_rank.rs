//! Effective rank (Roy & Vetterli), paper eq. 4.

/// Effective rank of a spectrum given by its Gram eigenvalues `λ_i = s_i²`:
/// `p = s / Σs`, `r_e = exp(−Σ_{p_i > 1e-12} p_i ln p_i)` with `s_i = sqrt(max(λ_i, 0))`.
///
/// Edge cases: an empty spectrum or an all-zero one (a constant or all-zero layer) gives 0.
/// `k` equal non-zero singular values give exactly `k` (up to rounding).
pub fn effective_rank(eigenvalues: &[f64]) -> f64 {
    let s: Vec<f64> = eigenvalues.iter().map(|&l| l.max(0.0).sqrt()).collect();
    let total: f64 = s.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return 0.0;
    }
    let entropy: f64 = s
        .iter()
        .map(|&si| si / total)
        .filter(|&p| p > crate::tolerances::ENTROPY_SHARE_FLOOR)
        .map(|p| -p * p.ln())
        .sum();
    entropy.exp()
}

/// The effective-rank score `s_e = min(r_e / r_e⁰, 1)`, and 1 when the reference's `r_e⁰ = 0`.
pub fn effective_rank_score(rank: f64, reference_rank: f64) -> f64 {
    if reference_rank <= 0.0 {
        1.0
    } else {
        (rank / reference_rank).min(1.0)
    }
}
