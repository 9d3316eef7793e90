//! Steiger's Z test of two dependent correlations that share one variable (Steiger 1980, eq. 15):
//! is score `a` more strongly correlated with accuracy drop than score `b`, measured on the same
//! models?

use super::correlation::Undefined;
use serde::{Deserialize, Serialize};

/// The test's statistic and its two-sided p-value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SteigerTest {
    pub z: f64,
    pub p: f64,
}

/// Steiger's Z for `H0: ρ_ak = ρ_bk`, from the sample correlations `r_ak`, `r_bk` of `a` and `b`
/// with the shared variable `k`, the correlation `r_ab` between `a` and `b`, and `n` observations:
///
/// `Z = (atanh r_ak − atanh r_bk) √(n − 3) / √(2 − 2 s̄)`, where, with `r̄ = (r_ak + r_bk) / 2`,
/// `s̄ = [r_ab (1 − 2 r̄²) − ½ r̄² (1 − 2 r̄² − r_ab²)] / (1 − r̄²)²`
///
/// estimates the correlation between the two Fisher-transformed correlations. The p-value is
/// two-sided against the standard normal: `p = erfc(|Z| / √2)`.
///
/// Undefined with fewer than 4 observations, when a correlation is ±1 (its Fisher transform is
/// infinite), or when `s̄ = 1` (the two scores are the same up to scale, so there is nothing to
/// compare).
pub fn steiger_z(r_ak: f64, r_bk: f64, r_ab: f64, n: usize) -> Result<SteigerTest, Undefined> {
    if n < 4 {
        return Err(Undefined::TooFewPoints(n));
    }
    if [r_ak, r_bk, r_ab].iter().any(|r| r.abs() >= 1.0) {
        return Err(Undefined::Perfect);
    }
    let mean = (r_ak + r_bk) / 2.0;
    let m2 = mean * mean;
    let s = (r_ab * (1.0 - 2.0 * m2) - 0.5 * m2 * (1.0 - 2.0 * m2 - r_ab * r_ab))
        / ((1.0 - m2) * (1.0 - m2));
    if 2.0 - 2.0 * s <= 0.0 {
        return Err(Undefined::Perfect);
    }
    let z = (r_ak.atanh() - r_bk.atanh()) * ((n - 3) as f64).sqrt() / (2.0 - 2.0 * s).sqrt();
    Ok(SteigerTest {
        z,
        p: normal_two_sided_p(z),
    })
}

/// `P(|X| ≥ |z|)` for a standard normal X: `erfc(|z| / √2)`.
pub fn normal_two_sided_p(z: f64) -> f64 {
    libm::erfc(z.abs() / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand, r_ak = 0.7, r_bk = 0.5, r_ab = 0.6, n = 50: r̄ = 0.6, r̄² = 0.36,
    /// s̄ = [0.6 · 0.28 − 0.18 · (0.28 − 0.36)] / 0.64² = 0.1824 / 0.4096 = 0.4453125,
    /// Z = (atanh 0.7 − atanh 0.5) √47 / √1.109375 = 0.3179943833599983 · 6.855654600401044
    /// / 1.0532687216470449 = 2.0698038519311632, p = erfc(Z / √2) = 0.03847071652341288.
    #[test]
    fn hand_computed_example() {
        let t = steiger_z(0.7, 0.5, 0.6, 50).unwrap();
        let z = 0.3179943833599983 * 6.855654600401044 / 1.0532687216470449;
        assert!((t.z - z).abs() < 1e-12, "{}", t.z);
        assert!((t.z - 2.0698038519311632).abs() < 1e-9);
        assert!((t.p - 0.03847071652341288).abs() < 1e-9, "{}", t.p);
        // Swapping the scores flips the sign and keeps the p-value.
        let swapped = steiger_z(0.5, 0.7, 0.6, 50).unwrap();
        assert!((swapped.z + t.z).abs() < 1e-12 && (swapped.p - t.p).abs() < 1e-15);
    }

    #[test]
    fn normal_tail_at_known_points() {
        assert!((normal_two_sided_p(1.959963984540054) - 0.05).abs() < 1e-12);
        assert_eq!(normal_two_sided_p(0.0), 1.0);
    }

    #[test]
    fn undefined_cases() {
        assert_eq!(steiger_z(0.5, 0.4, 0.3, 3), Err(Undefined::TooFewPoints(3)));
        assert_eq!(steiger_z(1.0, 0.4, 0.3, 10), Err(Undefined::Perfect));
        // Identical scores: r_ab = 1.
        assert_eq!(steiger_z(0.5, 0.5, 1.0, 10), Err(Undefined::Perfect));
    }
}
