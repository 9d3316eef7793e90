//! `native search` end to end on a tiny sweep (width 4, 64 training images, the original only):
//! the budget is met as the checkpoint's tensors count it, `--apply` rebuilds a model byte for
//! byte, a killed search resumes to the same files, `native analyze search.reps` gives the REPS
//! that `search.json` reports, and bad flags are refused before any work.

mod common;

use common::{read, sweep_in, text};
use std::path::Path;
use std::process::{Command, Output};

/// The tiny sweep's flags (its original model only).
const SWEEP: [&str; 14] = [
    "--width",
    "4",
    "--epochs",
    "1",
    "--train-size",
    "64",
    "--test-size",
    "40",
    "--samples",
    "20",
    "--batch-size",
    "32",
    "--stage",
    "original",
];

/// A search of the tiny sweep: prune to 0.5 on a three-step ladder.
const SEARCH: [&str; 14] = [
    "--method",
    "prune",
    "--budget",
    "0.5",
    "--ladder",
    "0.25,0.5,0.75",
    "--calibration",
    "16",
    "--strategies",
    "reps,agreement,uniform,global",
    "--resamples",
    "50",
    "--refresh",
    "5",
];

fn search(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_native"));
    c.current_dir(cwd).arg("search").args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(!common::stderr(&o).contains("panicked"), "{}", text(&o));
    o
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(p)).unwrap()
}

/// The checkpoint's tensors named `names`, as f32 values.
fn tensors(path: &Path, names: &[String]) -> Vec<Vec<f32>> {
    let bytes = read(path);
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    names
        .iter()
        .map(|n| {
            let t = st.tensor(n).unwrap();
            t.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        })
        .collect()
}

#[test]
fn search_meets_the_budget_rebuilds_resumes_and_agrees_with_analyze() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let o = sweep_in(root, &[&SWEEP[..], &["--out", "sweep"]].concat(), &[]);
    assert!(o.status.success(), "{}", text(&o));

    let args = |out: &'static str| [&["--from", "sweep"][..], &SEARCH, &["--out", out]].concat();
    let o = search(root, &args("a"), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let a = root.join("a");
    let result = json(&a.join("search.json"));

    // The budget, counted from each strategy's checkpoint: the share of zeros among the
    // weights the recipe names. Reached, and by less than one ladder step of the largest layer.
    let recipe = json(&a.join("recipe-reps.json"));
    let names: Vec<String> = recipe["layers"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(names.len(), 21, "ResNet-18 has 21 weight tensors");
    for strategy in ["reps", "agreement", "uniform", "global"] {
        let t = tensors(
            &a.join(format!("checkpoints/{strategy}.safetensors")),
            &names,
        );
        let total: usize = t.iter().map(Vec::len).sum();
        let zeros: usize = t.iter().flatten().filter(|&&v| v == 0.0).count();
        let largest = t.iter().map(Vec::len).max().unwrap();
        let sparsity = zeros as f64 / total as f64;
        let step = 0.25 * largest as f64 / total as f64;
        assert!(
            sparsity >= 0.5 - 1e-9 && sparsity <= 0.5 + step + 1e-9,
            "{strategy}: sparsity {sparsity}"
        );
        let model = result["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["strategy"] == strategy)
            .unwrap();
        assert!((model["budget"].as_f64().unwrap() - sparsity).abs() < 1e-12);
    }

    // --apply rebuilds the REPS strategy's checkpoint byte for byte.
    let o = search(
        root,
        &[
            "--from",
            "sweep",
            "--apply",
            "a/recipe-reps.json",
            "--out",
            "rebuilt",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        read(&root.join("rebuilt/checkpoints/reps.safetensors"))
            == read(&a.join("checkpoints/reps.safetensors"))
    );

    // native analyze search.reps gives the REPS values search.json reports.
    let o = Command::new(env!("CARGO_BIN_EXE_native"))
        .current_dir(root)
        .args(["analyze", "a/search.reps", "--format", "json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for m in result["models"].as_array().unwrap() {
        let r = report["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == m["strategy"])
            .unwrap();
        assert_eq!(r["reps_weighted"], m["reps"], "{}", m["strategy"]);
        assert_eq!(r["accuracy"], m["accuracy"]);
    }

    // Stopped by a signal after 30 candidates, then resumed: the same files.
    let o = search(root, &args("b"), &[("REPS_TEST_SIGNAL_AT", "search:30")]);
    assert_eq!(o.status.code(), Some(143), "{}", text(&o));
    assert!(!root.join("b/search.json").exists());
    let o = search(root, &args("b"), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let b = root.join("b");
    for f in [
        "search.reps",
        "recipe-reps.json",
        "recipe-global.json",
        "checkpoints/reps.safetensors",
        "checkpoints/agreement.safetensors",
    ] {
        assert!(
            read(&a.join(f)) == read(&b.join(f)),
            "{f} differs after a resume"
        );
    }
    let resumed = json(&b.join("search.json"));
    for key in ["allocations", "models", "claims", "sensitivity", "space"] {
        assert_eq!(resumed[key], result[key], "{key}");
    }
}

#[test]
fn a_reps_threshold_sets_every_strategys_budget() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let o = sweep_in(root, &[&SWEEP[..], &["--out", "sweep"]].concat(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let o = search(
        root,
        &[
            "--from",
            "sweep",
            "--method",
            "quant",
            "--min-reps",
            "0.9",
            "--ladder",
            "8,4,2",
            "--calibration",
            "16",
            "--strategies",
            "uniform,reps",
            "--resamples",
            "20",
            "--out",
            "t",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let r = json(&root.join("t/search.json"));
    let reps = &r["allocations"][1];
    assert_eq!(reps["strategy"], "reps");
    let greedy = &reps["greedy"];
    // Every step kept stays at or above the threshold on the calibration images; the search
    // ended on the threshold (the step that crossed it is recorded) or with every layer at 2 bits.
    for step in greedy["steps"].as_array().unwrap() {
        assert!(
            step["measurement"]["scores"]["reps_weighted"]
                .as_f64()
                .unwrap()
                >= 0.9
        );
    }
    match greedy["ended"].as_str().unwrap() {
        "threshold" => {
            let crossed = &greedy["rejected"]["measurement"]["scores"]["reps_weighted"];
            assert!(crossed.as_f64().unwrap() < 0.9);
        }
        ended => assert_eq!(ended, "exhausted"),
    }
    // Uniform is searched at the budget REPS reached: its average bits are no more.
    let (b_reps, b_uniform) = (
        reps["budget"].as_f64().unwrap(),
        r["allocations"][0]["budget"].as_f64().unwrap(),
    );
    assert!(
        b_uniform <= b_reps + 1e-9,
        "uniform {b_uniform}, reps {b_reps}"
    );
}

#[test]
fn bad_flags_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("empty")).unwrap();
    let refused = |args: &[&str], expected: &str| {
        let o = search(root, args, &[]);
        let err = common::stderr(&o);
        assert!(
            !o.status.success() && err.contains(expected),
            "{expected}\n{}",
            text(&o)
        );
        assert!(!root.join("out").exists(), "{expected}: wrote into --out");
    };
    let base = ["--from", "empty", "--out", "out"];
    let with = |extra: &[&'static str]| [&base[..], extra].concat();
    refused(
        &with(&["--method", "magic", "--budget", "0.5"]),
        "--method magic: unknown method (searchable: prune, quant, channel-prune, lowrank)",
    );
    refused(
        &with(&["--method", "coreset", "--budget", "0.5"]),
        "--method coreset: coreset trains its models",
    );
    refused(
        &with(&[
            "--method",
            "prune",
            "--budget",
            "0.5",
            "--strategies",
            "reps,oracle",
        ]),
        "--strategies oracle: unknown strategy",
    );
    refused(
        &with(&[
            "--method",
            "quant",
            "--budget",
            "3",
            "--strategies",
            "global",
        ]),
        "--strategies global: quant has no global rule",
    );
    refused(
        &with(&["--method", "quant", "--budget", "3", "--ladder", "8,0.5"]),
        "--ladder 0.5: 0.5 is not in 1..=16",
    );
    refused(
        &with(&[
            "--method",
            "prune",
            "--min-reps",
            "0.9",
            "--strategies",
            "uniform",
        ]),
        "--min-reps needs the reps strategy",
    );
    refused(
        &with(&["--method", "prune", "--budget", "0.5"]),
        "empty: no manifest.json: not a sweep directory",
    );
    // Budgets out of reach need the sweep's layers: a tiny sweep.
    let o = sweep_in(root, &[&SWEEP[..], &["--out", "sweep"]].concat(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let from = ["--from", "sweep", "--out", "out", "--calibration", "16"];
    let with = |extra: &[&'static str]| [&from[..], extra].concat();
    refused(
        &with(&["--method", "prune", "--budget", "1.5"]),
        "--budget 1.5 cannot be reached with this ladder",
    );
    refused(
        &with(&["--method", "prune", "--budget", "0.5", "--ladder", "0.1,0.2"]),
        "--budget 0.5 cannot be reached with this ladder: every layer at its last step gives 0.2000",
    );
    refused(
        &with(&["--method", "quant", "--budget", "40"]),
        "--budget 40 asks for no compression",
    );
    refused(
        &[
            "--from",
            "sweep",
            "--out",
            "out",
            "--method",
            "prune",
            "--budget",
            "0.5",
            "--calibration",
            "1000",
        ],
        "--calibration 1000: must be between 4 and the sweep's 64 training images",
    );
}
