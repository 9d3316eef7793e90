//! The inference's resampling against scipy (tests/python/reference_stats.py): bootstrap
//! intervals against `scipy.stats.bootstrap` (percentile), permutation p-values against
//! `scipy.stats.permutation_test` (pairings, two-sided), within the Monte-Carlo tolerances the
//! script derives and states; Steiger's Z against the formula evaluated there, to 1e-9.

use reps::stats::{infer_correlations, steiger_z, Statistic};
use reps_e2e::python;
use serde_json::Value;

/// The difference of two independent p-value estimates from 10,000 permutations has sd at most
/// 0.0071 (see the script); 0.03 is over 4 sd.
const P_TOL: f64 = 0.03;

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn intervals_p_values_and_steiger_agree_with_scipy() {
    if !reps_e2e::needs_numpy() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    python("reference_stats.py", &[d]);
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{d}/stats_cases.json")).unwrap())
            .unwrap();
    let mut checked = 0;
    for case in cases["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (x, y) = (numbers(&case["x"]), numbers(&case["y"]));
        let b = case["resamples"].as_u64().unwrap() as usize;
        let p = case["permutations"].as_u64().unwrap() as usize;
        let got = infer_correlations(&x, &y, b, p, 2024, 0.95);
        for s in Statistic::ALL {
            let key = s.key();
            let want = numbers(&case["ci"][key]);
            let tol = numbers(&case["ci_tol"][key]);
            let ci = got
                .interval(s)
                .unwrap_or_else(|| panic!("{name} {key}: no interval"));
            for e in 0..2 {
                assert!(
                    (ci[e] - want[e]).abs() <= tol[e],
                    "{name} {key} endpoint {e}: ours {ci:?}, scipy {want:?}, tolerance {}",
                    tol[e]
                );
            }
            let want_p = case["p"][key].as_f64().unwrap();
            let got_p = got.p_value(s).unwrap();
            assert!(
                (got_p - want_p).abs() <= P_TOL,
                "{name} {key}: p {got_p}, scipy {want_p}"
            );
            checked += 3;
        }
    }
    assert_eq!(checked, 27);
    for t in cases["steiger"].as_array().unwrap() {
        let f = |k: &str| t[k].as_f64().unwrap();
        let got = steiger_z(
            f("r_ak"),
            f("r_bk"),
            f("r_ab"),
            t["n"].as_u64().unwrap() as usize,
        )
        .unwrap();
        assert!((got.z - f("z")).abs() < 1e-9, "{t}: z {}", got.z);
        assert!((got.p - f("p")).abs() < 1e-9, "{t}: p {}", got.p);
    }
}
