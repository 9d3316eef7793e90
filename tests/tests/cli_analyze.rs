//! `native analyze` end to end: files written by numpy in, numbers checked against an independent
//! numpy/scipy implementation (tests/python/reference_reps.py).

use reps_e2e::files::{f32_bytes, i64_bytes, npy, npz};
use reps_e2e::json::assert_contains;
use reps_e2e::{native, python, stderr};
use serde_json::Value;

/// The flags that skip the statistics (the tests compare point values).
const NO_STATISTICS: [&str; 4] = ["--bootstrap", "0", "--permutations", "0"];

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * (1.0 + a.abs())
}

/// `expected.json` of reference_reps.py in `dir`: the report, and apart the PLCC of each row of
/// the sensitivity table.
fn expected_report(dir: &str) -> (Value, Value) {
    let mut expected: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/expected.json")).unwrap())
            .unwrap();
    let sens = expected
        .as_object_mut()
        .unwrap()
        .remove("sensitivity_plcc")
        .unwrap();
    (expected, sens)
}

#[test]
fn numpy_written_npz_files_give_the_independent_reference_numbers() {
    if !reps_e2e::needs_numpy() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    python("reference_reps.py", &[d]);
    let files: Vec<String> = ["ref", "prune", "quant", "coreset", "noisy"]
        .iter()
        .map(|m| format!("{d}/{m}.npz"))
        .collect();
    let mut args: Vec<&str> = vec!["analyze"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--format", "json"]);
    let out = native(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (expected, sens) = expected_report(d);
    assert_contains(&expected, &got, "", 1e-6);
    let rows = got["sensitivity"].as_array().unwrap();
    for (row, e) in rows.iter().zip(sens.as_array().unwrap()) {
        assert!(
            close(e.as_f64().unwrap(), row["plcc"].as_f64().unwrap()),
            "{row}"
        );
    }
    // The key names of docs/DESIGN.md §4.
    for key in [
        "reference",
        "label_source",
        "layers",
        "models",
        "correlations",
        "sensitivity",
    ] {
        assert!(got.get(key).is_some(), "{key}");
    }
    // Accuracy for the files without an `accuracy` array came from labels and logits.
    assert!(got["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains("measured")));

    // --out writes the same JSON; CSV and table agree on a number.
    let out_path = format!("{d}/report.json");
    let mut args2 = args.clone();
    args2.extend(["--out", &out_path]);
    assert!(native(&args2).status.success());
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    assert_eq!(written, got);
    let mut csv_args: Vec<&str> = args[..args.len() - 2].to_vec();
    csv_args.extend(["--format", "csv"]);
    let csv = String::from_utf8(native(&csv_args).stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines.len(),
        1 + 5 * 3,
        "header + 5 models × (all + 2 layers)"
    );
    assert!(lines[0].starts_with(
        "model,kind,method,parameter,parameter_name,accuracy,accuracy_drop,layer,weight_similarity"
    ));
    let header: Vec<&str> = lines[0].split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let quant_all: Vec<&str> = lines
        .iter()
        .find(|l| l.starts_with("quant,external,external,,"))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(quant_all[column("layer")], "all");
    let reps_w: f64 = quant_all[column("reps_weighted")].parse().unwrap();
    assert!(close(
        reps_w,
        got["models"][2]["reps_weighted"].as_f64().unwrap()
    ));
    let table = String::from_utf8(native(&args[..args.len() - 2]).stdout).unwrap();
    for title in [
        "Table 1: accuracy",
        "Table 2: correlation",
        "Table 3: sensitivity",
        "Per-layer raw values",
    ] {
        assert!(table.contains(title), "{title} missing from:\n{table}");
    }
}

#[test]
fn numpy_labels_flag_and_pseudo_labels() {
    if !reps_e2e::needs_numpy() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    python("reference_reps.py", &[d]);
    // Without the `labels` array in ref.npz the reference's predictions are the labels.
    let ref_only_logits = format!("{d}/noisy.npz");
    let out = native(&[
        "analyze",
        &ref_only_logits,
        &format!("{d}/quant.npz"),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["label_source"], "pseudo");
    assert_eq!(v["reference"], "noisy");
    // --labels with the wrong length names the file and both sizes.
    let labels = format!("{d}/labels.npy");
    std::fs::write(&labels, npy("<i8", false, &[3], &i64_bytes(&[0, 1, 2]))).unwrap();
    let out = native(&[
        "analyze",
        &ref_only_logits,
        &format!("{d}/quant.npz"),
        "--labels",
        &labels,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains("labels.npy: the number of labels is 3") && e.contains("48 samples"),
        "{e}"
    );
}

/// `--tokens` on numpy-written `(B, T, D)` token files with right padding, an `attention_mask`
/// and per-token labels (−100 on padding) gives the reference numbers of the unpadded N × D
/// samples; `--stream` on the ordinary files gives them too. Both read the files in row chunks
/// (the 48 × 36 and 48 × 5 layers have N > D: the streamed covariance path).
#[test]
fn numpy_token_files_and_streamed_reads_give_the_independent_reference_numbers() {
    if !reps_e2e::needs_numpy() {
        return;
    }
    for (flag, python_args) in [("--tokens", vec!["--tokens"]), ("--stream", vec![])] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let mut py = vec![d];
        py.extend(python_args);
        python("reference_reps.py", &py);
        let files: Vec<String> = ["ref", "prune", "quant", "coreset", "noisy"]
            .iter()
            .map(|m| format!("{d}/{m}.npz"))
            .collect();
        let mut args: Vec<&str> = vec!["analyze", flag];
        args.extend(NO_STATISTICS);
        args.extend(files.iter().map(String::as_str));
        args.extend(["--format", "json"]);
        let out = native(&args);
        assert!(out.status.success(), "{flag}: {}", stderr(&out));
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        let (expected, sens) = expected_report(d);
        assert_contains(&expected, &got, flag, 1e-6);
        for (row, e) in got["sensitivity"]
            .as_array()
            .unwrap()
            .iter()
            .zip(sens.as_array().unwrap())
        {
            assert!(
                close(e.as_f64().unwrap(), row["plcc"].as_f64().unwrap()),
                "{flag}: {row}"
            );
        }
    }
}

/// `--labels` with `--tokens` reads labels as the hidden states' `(B, T)`, with PyTorch's -100 on
/// padding: the same report as the same labels inside the files; labels of another shape are an
/// error naming the file and both shapes.
#[test]
fn numpy_token_labels_given_apart_equal_the_labels_in_the_files() {
    if !reps_e2e::needs_numpy() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    python("reference_reps.py", &[d, "--tokens"]);
    // The labels of ref.npz as (B, T) with -100 where the mask is 0, and a wrong shape.
    let script = "import numpy as np, sys\n\
z = np.load(sys.argv[1])\n\
l = np.where(z['attention_mask'] == 1, z['labels'].reshape(z['attention_mask'].shape), -100)\n\
assert (l == -100).any()\n\
np.save(sys.argv[2], l.astype(np.int64))\n\
np.save(sys.argv[3], l[:, :-1].astype(np.int64))\n";
    let (given, wrong) = (format!("{d}/labels.npy"), format!("{d}/wrong.npy"));
    let status = std::process::Command::new("python3")
        .args(["-c", script, &format!("{d}/ref.npz"), &given, &wrong])
        .status()
        .unwrap();
    assert!(status.success());
    let files: Vec<String> = ["ref", "prune", "quant"]
        .iter()
        .map(|m| format!("{d}/{m}.npz"))
        .collect();
    let run = |labels: Option<&str>| {
        let mut args = vec!["analyze", "--tokens"];
        args.extend(NO_STATISTICS);
        args.extend(files.iter().map(String::as_str));
        args.extend(["--format", "json"]);
        if let Some(l) = labels {
            args.extend(["--labels", l]);
        }
        native(&args)
    };
    let inside = run(None);
    let apart = run(Some(&given));
    assert!(apart.status.success(), "{}", stderr(&apart));
    let (a, b): (Value, Value) = (
        serde_json::from_slice(&inside.stdout).unwrap(),
        serde_json::from_slice(&apart.stdout).unwrap(),
    );
    assert_eq!(a["label_source"], "labels");
    for key in ["label_source", "models", "correlations", "sensitivity"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    let bad = run(Some(&wrong));
    assert!(!bad.status.success());
    let e = stderr(&bad);
    assert!(
        e.contains("wrong.npy") && e.contains("[4, 17]") && e.contains("[4, 16]"),
        "{e}"
    );
}

/// What `--tokens` refuses, each an error naming the file and what is wrong: models that saw
/// different tokens (their attention masks differ), a mask of the wrong shape, a snapshot, and
/// `--sample-bootstrap` (which needs the samples in memory).
#[test]
fn token_files_that_disagree_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let hidden: Vec<f32> = (0..2 * 6 * 3).map(|i| ((i * 7) % 11) as f32).collect();
    let write = |name: &str, mask: &[i64], mask_shape: &[usize]| {
        let bytes = npz(
            &[
                ("hidden", npy("<f4", false, &[2, 6, 3], &f32_bytes(&hidden))),
                (
                    "attention_mask",
                    npy("<i8", false, mask_shape, &i64_bytes(mask)),
                ),
            ],
            false,
        );
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    };
    let full = [1i64; 12];
    let mut padded = full;
    padded[11] = 0;
    let a = write("a.npz", &full, &[2, 6]);
    let b = write("b.npz", &padded, &[2, 6]);
    let flat = write("flat.npz", &full, &[12]);
    let run = |args: &[&str]| {
        let out = native(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        stderr(&out)
    };
    let e = run(&["analyze", "--tokens", &a, &b]);
    assert!(
        e.contains("b.npz: attention_mask differs from") && e.contains("at token 11"),
        "{e}"
    );
    let e = run(&["analyze", "--tokens", &a, &flat]);
    assert!(
        e.contains("flat.npz: array 'attention_mask': shape [12] differs from the samples [2, 6]"),
        "{e}"
    );
    let e = run(&["analyze", "--tokens", "--sample-bootstrap", "5", &a, &a]);
    assert!(e.contains("--sample-bootstrap"), "{e}");
    let snapshot = dir.path().join("s.reps");
    std::fs::write(&snapshot, b"REPSSNAP\x03\x00rest").unwrap();
    let e = run(&["analyze", "--stream", snapshot.to_str().unwrap()]);
    assert!(e.contains("s.reps: is a .reps snapshot"), "{e}");
    // Two files with the same mask are analysed: 11 tokens of 3 features.
    let c = write("c.npz", &padded, &[2, 6]);
    let mut args = vec!["analyze", "--tokens"];
    args.extend(NO_STATISTICS);
    args.extend([b.as_str(), c.as_str(), "--format", "json"]);
    let out = native(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["models"][1]["cka"], 1.0, "identical activations");
}
