//! A snapshot written through crate `reps` and analysed by the `native` binary: the binary's JSON
//! equals the library's report on the same file, and the tables group models by method.

use reps::analysis::{analyze, AnalysisInput, AnalysisOptions, InferenceOptions};
use reps::formats::snapshot::{self, Reduction, Snapshot, SnapshotLayer, SnapshotModel};
use reps_e2e::{native, stderr};

fn sweep() -> Snapshot {
    let n = 30usize;
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 3).collect();
    let mut seed = 1u64;
    let mut noise = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
    };
    let mut model = |name: String,
                     method: &str,
                     parameter: Option<(&str, f64)>,
                     damage: f32,
                     acc: f64| {
        let conv: Vec<f32> = (0..n * 16)
            .map(|i| {
                let (s, j) = (i / 16, i % 16);
                let signal = if j % 3 == labels[s] as usize {
                    2.0
                } else {
                    0.0
                };
                ((1.0 - damage) * signal + noise() * (0.5 + damage)).max(0.0)
            })
            .collect();
        let fc: Vec<f32> = (0..n * 3)
            .map(|i| if i % 3 == labels[i / 3] as usize { 3.0 * (1.0 - damage) } else { 0.0 } + noise())
            .collect();
        let layer = |name: &str, shape: Vec<u32>, values| SnapshotLayer {
            name: name.into(),
            original_shape: shape.clone(),
            reduction: Reduction::AsIs,
            sample_shape: shape,
            values,
        };
        SnapshotModel {
            name,
            method: method.into(),
            parameter: parameter.map(|p| p.1),
            parameter_name: parameter.map(|p| p.0.to_string()),
            accuracy: Some(acc),
            weight_similarity: Some(1.0 - damage as f64 / 2.0),
            histogram: None,
            layers: vec![
                layer("layer4.1.conv2", vec![4, 2, 2], conv),
                layer("fc", vec![3], fc),
            ],
            logits: Some("fc".into()),
        }
    };
    let mut models = vec![model("original".into(), "original", None, 0.0, 0.9)];
    for (i, f) in [0.8, 0.5, 0.1].iter().enumerate() {
        models.push(model(
            format!("coreset-{f}"),
            "coreset",
            Some(("fraction", *f)),
            0.1 * (i as f32 + 1.0),
            0.85 - 0.1 * i as f64,
        ));
    }
    for (i, r) in [0.3, 0.9].iter().enumerate() {
        models.push(model(
            format!("prune-{r}"),
            "prune",
            Some(("ratio", *r)),
            0.2 + 0.4 * i as f32,
            0.88 - 0.5 * i as f64,
        ));
    }
    for (i, b) in [8.0, 2.0].iter().enumerate() {
        models.push(model(
            format!("quant-{b}"),
            "quant",
            Some(("bits", *b)),
            0.05 + 0.8 * i as f32,
            0.9 - 0.8 * i as f64,
        ));
    }
    Snapshot {
        producer: "reps e2e test".into(),
        producer_version: "0".into(),
        dataset: "synthetic".into(),
        architecture: "resnet18".into(),
        width: Some(4),
        seed: Some(42),
        preset: "test".into(),
        sample_indices: (0..n as u32).collect(),
        labels: Some(labels),
        class_names: vec!["a".into(), "b".into(), "c".into()],
        models,
    }
}

#[test]
fn binary_json_equals_library_report_and_tables_group_by_method() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sweep.reps");
    let snap = sweep();
    std::fs::write(&path, snapshot::encode(&snap).unwrap()).unwrap();
    let p = path.to_str().unwrap();
    let out = native(&[
        "analyze",
        p,
        "--format",
        "json",
        "--weights",
        "0.1,0.1,0.4,0.4",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let input = AnalysisInput::from_snapshot(p, snap.clone()).unwrap();
    let options = AnalysisOptions {
        user_weights: Some(reps::metrics::RepsWeights([0.1, 0.1, 0.4, 0.4])),
        ..Default::default()
    };
    // The binary adds the statistics with their defaults (seed 0).
    let report = analyze(&input, &options).unwrap();
    let lib =
        serde_json::to_value(report.with_inference(&InferenceOptions::default()).unwrap()).unwrap();
    assert_eq!(got, lib);
    assert_eq!(got["layers"], serde_json::json!(["layer4.1.conv2", "fc"]));
    assert_eq!(got["models"][5]["method"], "prune");
    assert_eq!(got["models"][5]["kind"], "prune");
    assert_eq!(got["models"][5]["parameter_name"], "ratio");
    assert_eq!(got["sensitivity"].as_array().unwrap().len(), 7);
    // Heavier damage, lower REPS: the correlation with drop is strongly negative.
    assert!(got["correlations"]["reps_equal"]["plcc"].as_f64().unwrap() < -0.7);
    // Three models lose at most 0.05 (0.90 − 0.85 counts, rounding aside): too few for a
    // stable-regime table.
    let stable = &got["correlations_stable"];
    assert_eq!(
        stable["models"],
        serde_json::json!(["coreset-0.8", "prune-0.3", "quant-8"])
    );
    assert!(stable["reason"].as_str().unwrap().contains("at least 4"));

    // The claims, read by hand from the accuracies: every method is stable at its mildest level
    // and loses more than 0.1 at the next (coreset 0.05 then 0.15, prune 0.02 then 0.52, quant 0
    // then 0.8).
    let out = native(&[
        "analyze",
        p,
        "--claims",
        "--bootstrap",
        "500",
        "--permutations",
        "500",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let claims = String::from_utf8(out.stdout).unwrap();
    for method in ["coreset", "prune", "quant"] {
        assert!(
            claims.contains(&format!("[holds] {method}: accuracy stays within 0.05")),
            "{claims}"
        );
    }
    assert!(
        claims.contains("stable up to fraction 0.8 (drop 0.050); next: fraction 0.5 (drop 0.150)"),
        "{claims}"
    );
    assert_eq!(claims.matches("\n  [").count(), 7, "{claims}");
    assert!(
        !claims.contains("Table 1"),
        "--claims prints only the claims:\n{claims}"
    );

    let table = String::from_utf8(native(&["analyze", p]).stdout).unwrap();
    let header = table
        .lines()
        .find(|l| l.contains("coreset (fraction)"))
        .unwrap_or_else(|| panic!("no Table 1 header in:\n{table}"));
    let groups: Vec<&str> = ["coreset (fraction)", "prune (ratio)", "quant (bits)"]
        .into_iter()
        .filter(|g| header.contains(g))
        .collect();
    assert_eq!(groups.len(), 3, "{header}");
    assert!(header.find("coreset").unwrap() < header.find("prune").unwrap());
    assert!(
        table.contains("resnet18 (width 4) · synthetic · seed 42 · 8 models · N = 30"),
        "{table}"
    );
    // Every analysed model appears in the per-model table.
    for m in &snap.models {
        assert!(table.contains(&m.name), "{} missing", m.name);
    }
}
