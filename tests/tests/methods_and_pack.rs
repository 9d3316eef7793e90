//! Methods written in users' files (numpy's `np.savez(..., method="distill")`, a `.safetensors`
//! header's `__metadata__`) reach every output; `native pack` round-trips them; and every score
//! of the registry appears in the JSON, the CSV and the terminal tables.

use reps::analysis::SCORES;
use reps_e2e::{native, python, stderr};
use serde_json::Value;

/// The files of `method_files.py`, written into a fresh folder (kept alive by the first value).
fn method_files() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    python("method_files.py", &[&d]);
    let files = ["ref.npz", "student.npz", "rank.npz", "quant.safetensors"]
        .iter()
        .map(|f| format!("{d}/{f}"))
        .collect();
    (dir, files)
}

fn run(args: &[&str]) -> String {
    let out = native(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn numpy_methods_in_files_reach_json_tables_and_csv_and_pack_round_trips() {
    if !reps_e2e::needs_numpy() {
        return;
    }
    let (dir, files) = method_files();
    let d = dir.path().to_str().unwrap();
    let mut args: Vec<&str> = vec!["analyze"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--format", "json"]);
    let json: Value = serde_json::from_str(&run(&args)).unwrap();
    let methods: Vec<(String, Value, Value, Value)> = json["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert_eq!(m["kind"], m["method"], "kind is kept as an alias");
            (
                m["name"].as_str().unwrap().to_string(),
                m["method"].clone(),
                m["parameter"].clone(),
                m["parameter_name"].clone(),
            )
        })
        .collect();
    let expected = [
        ("ref", "external", Value::Null, Value::Null),
        ("student", "distill", 4.0.into(), "temperature".into()),
        ("rank", "lowrank", 0.25.into(), Value::Null),
        ("quant", "gptq", 4.0.into(), "bits".into()),
    ];
    for (got, (name, method, p, pn)) in methods.iter().zip(&expected) {
        assert_eq!(
            got,
            &(
                name.to_string(),
                Value::from(*method),
                p.clone(),
                pn.clone()
            )
        );
    }
    assert_eq!(methods.len(), 4);

    // Table 1 has a column group per method, in the order found.
    let table = run(&args[..args.len() - 2]);
    let header = table
        .lines()
        .find(|l| l.contains("distill (temperature)"))
        .unwrap_or_else(|| panic!("no method header in:\n{table}"));
    let at = |s: &str| {
        header
            .find(s)
            .unwrap_or_else(|| panic!("{s} not in {header}"))
    };
    assert!(at("distill (temperature)") < at("lowrank") && at("lowrank") < at("gptq (bits)"));

    // CSV: the method columns.
    let mut csv_args = args[..args.len() - 2].to_vec();
    csv_args.extend(["--format", "csv"]);
    let csv = run(&csv_args);
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let col = |name: &str| rows[0].iter().position(|h| *h == name).unwrap();
    let student = rows
        .iter()
        .find(|r| r[0] == "student" && r[col("layer")] == "all")
        .unwrap();
    assert_eq!(
        (
            student[col("method")],
            student[col("parameter")],
            student[col("parameter_name")]
        ),
        ("distill", "4", "temperature")
    );

    // pack: one snapshot, the same JSON.
    let packed = format!("{d}/study.reps");
    let mut pack_args: Vec<&str> = vec!["pack"];
    pack_args.extend(files.iter().map(String::as_str));
    pack_args.extend(["--out", &packed]);
    run(&pack_args);
    let from_pack: Value =
        serde_json::from_str(&run(&["analyze", &packed, "--format", "json"])).unwrap();
    assert_eq!(from_pack, json);
    // Packing the snapshot again (an upgrade in place) changes no byte.
    let before = std::fs::read(&packed).unwrap();
    let again = format!("{d}/again.reps");
    run(&["pack", &packed, "--out", &again]);
    assert_eq!(std::fs::read(&again).unwrap(), before);
}

#[test]
fn numpy_every_registered_score_is_in_every_output() {
    if !reps_e2e::needs_numpy() {
        return;
    }
    let (_dir, files) = method_files();
    let mut base: Vec<&str> = vec!["analyze"];
    base.extend(files.iter().map(String::as_str));
    base.extend(["--weights", "0.4,0.1,0.3,0.2"]);
    let with = |extra: &[&'static str]| {
        let mut a = base.clone();
        a.extend(extra);
        run(&a)
    };
    let json: Value = serde_json::from_str(&with(&["--format", "json"])).unwrap();
    let csv = with(&["--format", "csv"]);
    let csv_header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let table = with(&[]);
    let table2: String = table
        .split("Table 2")
        .nth(1)
        .and_then(|t| t.split("Table 3").next())
        .unwrap()
        .to_string();
    assert_eq!(SCORES.len(), 15);
    for s in SCORES {
        assert!(
            json["correlations"].get(s.key).is_some(),
            "{} not in the JSON",
            s.key
        );
        assert!(csv_header.contains(&s.key), "{} not a CSV column", s.key);
        assert!(
            table2.contains(s.label),
            "{} not in Table 2:\n{table2}",
            s.label
        );
        assert!(
            table.contains(s.short),
            "{} not in the per-model table",
            s.short
        );
    }
    // And nothing else: the JSON's correlations are exactly the registry, in its order.
    let keys: Vec<&str> = json["correlations"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut registry: Vec<&str> = SCORES.iter().map(|s| s.key).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    registry.sort_unstable();
    assert_eq!(sorted, registry);
}
