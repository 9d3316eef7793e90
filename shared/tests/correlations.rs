//! PLCC, SRCC (average ranks) and KRCC (tau-b) on series worked out by hand.

use reps::stats::{
    average_ranks, bootstrap_correlations, correlate, kendall_tau_b, pearson, spearman, Clusters,
    Resampler, Undefined,
};

#[test]
fn pearson_by_hand() {
    // x = (1, 2, 3, 4), y = (2, 4, 5, 9): means 2.5 and 5;
    // dx = (−1.5, −.5, .5, 1.5), dy = (−3, −1, 0, 4); Σdxdy = 4.5 + .5 + 0 + 6 = 11;
    // Σdx² = 5, Σdy² = 26; r = 11 / sqrt(130).
    let r = pearson(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 5.0, 9.0]).unwrap();
    assert!((r - 11.0 / 130f64.sqrt()).abs() < 1e-15);
    // Sign is kept: a decreasing relation gives −1.
    assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-15);
}

#[test]
fn average_ranks_with_ties() {
    assert_eq!(
        average_ranks(&[10.0, 20.0, 20.0, 5.0]),
        vec![2.0, 3.5, 3.5, 1.0]
    );
    assert_eq!(average_ranks(&[1.0, 1.0, 1.0]), vec![2.0, 2.0, 2.0]);
}

#[test]
fn spearman_with_ties_by_hand() {
    // x = (1, 2, 2, 3) → ranks (1, 2.5, 2.5, 4); y = (1, 3, 2, 4) → ranks (1, 3, 2, 4).
    // Pearson of the ranks: means 2.5; dx = (−1.5, 0, 0, 1.5), dy = (−1.5, .5, −.5, 1.5);
    // Σdxdy = 4.5, Σdx² = 4.5, Σdy² = 5; ρ = 4.5 / sqrt(22.5).
    let rho = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
    assert!((rho - 4.5 / 22.5f64.sqrt()).abs() < 1e-15);
}

#[test]
fn kendall_tau_b_with_ties_by_hand() {
    // Same series. Pairs (i<j) and signs (sx, sy):
    // (0,1) (+,+) c; (0,2) (+,+) c; (0,3) (+,+) c; (1,2) (0,−) tied in x;
    // (1,3) (+,+) c; (2,3) (+,+) c  → n_c = 5, n_d = 0; untied in x = 5, in y = 6.
    // tau-b = 5 / sqrt(5 · 6).
    let t = kendall_tau_b(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
    assert!((t - 5.0 / 30f64.sqrt()).abs() < 1e-15);
    // Without ties tau-b is tau-a: (1,2,3,4) vs (1,3,2,4): one discordant pair of 6.
    let t = kendall_tau_b(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
    assert!((t - 4.0 / 6.0).abs() < 1e-15);
}

#[test]
fn undefined_cases_say_why() {
    assert_eq!(
        pearson(&[1.0, 2.0], &[1.0, 2.0]),
        Err(Undefined::TooFewPoints(2))
    );
    assert_eq!(
        pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]),
        Err(Undefined::Constant("score"))
    );
    assert_eq!(
        kendall_tau_b(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]),
        Err(Undefined::Constant("accuracy-drop"))
    );
    let c = correlate(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]);
    assert_eq!((c.plcc, c.srcc, c.krcc), (None, None, None));
    assert!(c.reason.unwrap().contains("constant"));
    // Rounding noise on a constant series is still constant.
    let c = correlate(&[1.0, 1.0 - 1e-16, 1.0], &[1.0, 2.0, 3.0]);
    assert_eq!(c.plcc, None);
}

#[test]
fn kendall_stays_within_minus_one_and_one() {
    // A perfect agreement of n models has n(n − 1)/2 concordant pairs out of as many untied
    // ones: tau-b is exactly ±1. Unclamped, √p · √p rounds below p for p = 3, 6, 105, 153, ...
    // (3, 4, 15 and 18 models) and tau-b came out as 1.0000000000000002.
    for n in [3usize, 4, 15, 16, 18] {
        let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let reversed: Vec<f64> = x.iter().rev().copied().collect();
        assert_eq!(kendall_tau_b(&x, &x).unwrap(), 1.0, "{n} models");
        assert_eq!(kendall_tau_b(&x, &reversed).unwrap(), -1.0, "{n} models");
        // Every bootstrap resample of a perfect agreement (where defined) is 1 to rounding and
        // never above it (resamples with 3 or 6 untied pairs came out above 1 unclamped).
        let resampled = bootstrap_correlations(
            std::slice::from_ref(&x),
            &x,
            &Clusters::one(x.len()),
            200,
            &mut Resampler::new(3, 0),
        );
        let krcc: Vec<f64> = resampled[0][2]
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        assert!(!krcc.is_empty());
        for v in krcc {
            assert!((1.0 - 1e-15..=1.0).contains(&v), "{n} models: {v:e}");
        }
    }
}
