//! Table 3 sensitivity and the best-weights search on series with known answers.

use reps::analysis::{best_weights, sensitivity_table, TABLE3};
use reps::metrics::RepsWeights;
use reps::stats::pearson;

/// Five models whose separation component tracks the drop exactly and whose other components are noise.
fn fixture() -> (Vec<[Option<f64>; 4]>, Vec<f64>) {
    let drops = vec![0.0, 0.1, 0.2, 0.4, 0.8];
    let comps = drops
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let noise = [0.3, 0.9, 0.1, 0.7, 0.5][i];
            let noise2 = [0.5, 0.2, 0.8, 0.1, 0.6][i];
            [
                Some(noise),
                Some(noise2),
                Some(1.0 - d),
                Some(0.4 + 0.1 * noise2),
            ]
        })
        .collect();
    (comps, drops)
}

#[test]
fn table3_rows_equal_pearson_of_weighted_sums() {
    let (comps, drops) = fixture();
    let rows = sensitivity_table(&comps, &drops, Some(RepsWeights([0.0, 0.0, 1.0, 0.0])));
    assert_eq!(rows.len(), 7);
    for (row, (name, w)) in rows.iter().zip(TABLE3) {
        assert_eq!(row.name, name);
        let s: Vec<f64> = comps
            .iter()
            .map(|c| (0..4).map(|k| w[k] * c[k].unwrap()).sum())
            .collect();
        assert!((row.plcc.unwrap() - pearson(&s, &drops).unwrap()).abs() < 1e-12);
    }
    // Separation alone is exactly 1 − drop: PLCC −1.
    assert!((rows[6].plcc.unwrap() + 1.0).abs() < 1e-12);
}

#[test]
fn best_weights_find_the_informative_component() {
    let (comps, drops) = fixture();
    let best = best_weights(&comps, &drops).unwrap();
    assert_eq!(best.weights, [0.0, 0.0, 1.0, 0.0]);
    assert!((best.plcc + 1.0).abs() < 1e-12);
    // Every fold also picks separation only, so the out-of-sample estimate is also −1.
    assert!((best.loo_plcc.unwrap() + 1.0).abs() < 1e-9);
}

#[test]
fn missing_separation_renormalises_the_weights() {
    let w = RepsWeights([0.15, 0.05, 0.35, 0.45]);
    let e = w.effective([true, true, false, true]).unwrap();
    assert!((e[0] - 0.15 / 0.65).abs() < 1e-15 && e[2] == 0.0);
    assert_eq!(
        RepsWeights([0.0, 0.0, 1.0, 0.0]).combine([Some(1.0), Some(1.0), None, Some(1.0)]),
        None
    );
    assert!(RepsWeights::parse("1,1,1").is_err());
    assert!(RepsWeights::parse("1,-1,1,1").is_err());
    assert!(RepsWeights::parse("0,0,0,0").is_err());
    assert_eq!(
        RepsWeights::parse("2,2,2,2").unwrap(),
        RepsWeights([0.25; 4])
    );
}
