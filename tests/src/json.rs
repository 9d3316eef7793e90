//! Comparing a JSON report with an expected one (shared with the end-to-end tests).
#![allow(dead_code)]

use serde_json::Value;

/// Every number, string and null of `expected` is in `got` at the same path; numbers agree within
/// `rel` relative tolerance (`0.0`: exactly). `got` may hold more keys.
pub fn assert_contains(expected: &Value, got: &Value, path: &str, rel: f64) {
    match expected {
        Value::Object(map) => {
            for (k, v) in map {
                let g = got
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} missing in output"));
                assert_contains(v, g, &format!("{path}.{k}"), rel);
            }
        }
        Value::Array(items) => {
            let g = got
                .as_array()
                .unwrap_or_else(|| panic!("{path} is not an array"));
            assert_eq!(items.len(), g.len(), "{path} length");
            for (i, (e, gv)) in items.iter().zip(g).enumerate() {
                assert_contains(e, gv, &format!("{path}[{i}]"), rel);
            }
        }
        Value::Number(n) => {
            let (e, g) = (n.as_f64().unwrap(), got.as_f64().unwrap_or(f64::NAN));
            assert!(
                (e - g).abs() <= rel * (1.0 + e.abs()),
                "{path}: expected {e}, got {g}"
            );
        }
        other => assert_eq!(other, got, "{path}"),
    }
}
