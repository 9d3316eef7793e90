//! `native train-sweep` end to end on tiny settings (width 4, 200 images, one epoch, 7 models):
//! the pipeline into a snapshot that `native analyze` reads, reproducibility, resumption, and
//! errors for bad settings.

mod common;

use common::{log_of, read, TINY, TINY_MODELS};
use std::path::Path;
use std::process::Command;

fn sweep(out: &Path, extra: &[&str]) -> (bool, String) {
    run(out, &TINY, extra)
}

/// `native train-sweep` with `base` flags (or the default preset when empty) and `extra`.
fn run(out: &Path, base: &[&str], extra: &[&str]) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_native"))
        .arg("train-sweep")
        .args(base)
        .args(["--out", out.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (o.status.success(), err)
}

fn mtimes(dir: &Path) -> Vec<(String, std::time::SystemTime)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().modified().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn sweep_is_reproducible_resumable_and_analysable() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let (ok, err) = sweep(&a, &[]);
    assert!(ok, "{err}");
    for f in [
        "sweep.reps",
        "tables.md",
        "results.json",
        "config.json",
        "sweep.log",
        "checkpoints/original.safetensors",
        "models/quant-2.reps",
    ] {
        assert!(a.join(f).exists(), "{f} missing");
    }
    // The log says what the sweep ran on (results reproduce bit for bit on the same CPU model).
    let log = std::fs::read_to_string(a.join("sweep.log")).unwrap();
    assert!(log.contains("running on CPU "), "{log}");
    // Interrupted after 3 models, then resumed: the same snapshot as the straight run, byte for
    // byte (same seed: same weights, accuracies and activations), and the finished model files
    // are not rewritten.
    let (ok, err) = sweep(&b, &["--max-models", "3"]);
    assert!(ok, "{err}");
    assert_eq!(std::fs::read_dir(b.join("models")).unwrap().count(), 3);
    assert!(!b.join("sweep.reps").exists());
    let before = mtimes(&b.join("models"));
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (ok, err) = sweep(&b, &[]);
    assert!(ok, "{err}");
    let after = mtimes(&b.join("models"));
    for (name, t) in &before {
        assert!(after.contains(&(name.clone(), *t)), "{name} was rewritten");
    }
    assert_eq!(after.len(), 7);
    assert_eq!(read(&a.join("sweep.reps")), read(&b.join("sweep.reps")));
    assert_eq!(
        read(&a.join("checkpoints/coreset-0.5.safetensors")),
        read(&b.join("checkpoints/coreset-0.5.safetensors"))
    );
    // A third run changes nothing.
    let snap_time = std::fs::metadata(b.join("sweep.reps"))
        .unwrap()
        .modified()
        .unwrap();
    assert!(sweep(&b, &[]).0);
    assert_eq!(
        std::fs::metadata(b.join("sweep.reps"))
            .unwrap()
            .modified()
            .unwrap(),
        snap_time
    );

    // The snapshot: 7 models in table order, N = 20 class-balanced samples, pruning sparsity exact.
    let snap = reps::formats::snapshot::decode("sweep.reps", &read(&a.join("sweep.reps"))).unwrap();
    let names: Vec<&str> = snap.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, TINY_MODELS);
    assert_eq!(snap.sample_indices.len(), 20);
    for c in 0..10u32 {
        assert_eq!(
            snap.labels
                .as_ref()
                .unwrap()
                .iter()
                .filter(|&&y| y == c)
                .count(),
            2
        );
    }
    let layer_names: Vec<&str> = snap.models[0]
        .layers
        .iter()
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(
        layer_names,
        [
            "conv1",
            "layer1",
            "layer2",
            "layer3",
            "layer4",
            "layer4.1.conv2",
            "avgpool",
            "fc"
        ]
    );
    use reps::formats::snapshot::Reduction;
    let conv2 = &snap.models[0].layers[5];
    assert_eq!(
        (&conv2.original_shape, &conv2.sample_shape, conv2.reduction),
        (&vec![32, 4, 4], &vec![512], Reduction::Flattened),
        "8w channels at 4 × 4, flattened"
    );
    let layer4 = &snap.models[0].layers[4];
    assert_eq!(
        (
            &layer4.original_shape,
            &layer4.sample_shape,
            layer4.reduction
        ),
        (&vec![32, 4, 4], &vec![32], Reduction::Pooled),
        "stage outputs pooled"
    );
    // The logits are the layer fc, stored once.
    for m in &snap.models {
        assert_eq!(m.logits.as_deref(), Some("fc"));
        assert_eq!(m.layers.iter().filter(|l| l.name == "fc").count(), 1);
    }
    // Histograms: 50 bins on one shared range, each counting every weight of its model.
    let h = snap.models[3].histogram.as_ref().unwrap();
    assert_eq!(h.counts.len(), 50);
    let total: u64 = h.counts.iter().sum();
    assert!(total > 1000, "{total} weights");
    for m in &snap.models {
        let mh = m.histogram.as_ref().unwrap();
        assert_eq!((mh.low, mh.high), (h.low, h.high), "one shared range");
        assert_eq!(mh.counts.iter().sum::<u64>(), total, "{}", m.name);
    }

    // analyze reads it, and reports the accuracies stored in the snapshot.
    let out = Command::new(env!("CARGO_BIN_EXE_native"))
        .args([
            "analyze",
            a.join("sweep.reps").to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (m, r) in snap.models.iter().zip(v["models"].as_array().unwrap()) {
        assert_eq!(r["accuracy"].as_f64(), m.accuracy);
    }
    let results: serde_json::Value =
        serde_json::from_slice(&read(&a.join("results.json"))).unwrap();
    assert_eq!(results["report"]["models"].as_array().unwrap().len(), 7);
    // The statistics of `native analyze`: the same report, claims included.
    assert_eq!(results["report"]["claims"], v["claims"]);
    assert_eq!(results["report"]["correlations"], v["correlations"]);
    let tables = String::from_utf8(read(&a.join("tables.md"))).unwrap();
    assert!(tables.contains("Table 1") && tables.contains("Table 2") && tables.contains("Table 3"));
    assert!(
        tables.contains("The paper's claims on these models"),
        "{tables}"
    );
}

#[test]
fn pruned_checkpoints_have_exact_global_sparsity_and_quantized_few_levels() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let (ok, err) = sweep(&out, &["--max-models", "5"]);
    assert!(ok, "{err}");
    let weights = |name: &str| -> Vec<(String, Vec<f32>)> {
        checkpoint(&out.join(format!("checkpoints/{name}.safetensors")))
            .into_iter()
            .filter(|(n, _, _)| {
                n.ends_with(".weight") && !n.contains("bn") && !n.contains("downsample.1")
            })
            .map(|(n, _, values)| (n, values))
            .collect()
    };
    let total: usize = weights("original").iter().map(|w| w.1.len()).sum();
    for ratio in [0.5, 0.9] {
        let w = weights(&format!("prune-{ratio}"));
        let zeros = w.iter().flat_map(|t| &t.1).filter(|x| **x == 0.0).count();
        assert_eq!(
            zeros,
            (ratio * total as f64).round() as usize,
            "ratio {ratio}"
        );
        // One global threshold: every surviving weight is at least as large as the original's
        // largest pruned one.
        let orig = weights("original");
        let mut max_pruned = 0.0f32;
        let mut min_kept = f32::INFINITY;
        for ((_, o), (_, p)) in orig.iter().zip(&w) {
            for (a, b) in o.iter().zip(p) {
                if *b == 0.0 {
                    max_pruned = max_pruned.max(a.abs())
                } else {
                    min_kept = min_kept.min(b.abs())
                }
            }
        }
        assert!(max_pruned <= min_kept, "{max_pruned} > {min_kept}");
    }
    for (bits, levels) in [(8u32, 256usize), (2, 4)] {
        for (name, t) in weights(&format!("quant-{bits}")) {
            let mut v: Vec<u32> = t.iter().map(|x| x.to_bits()).collect();
            v.sort_unstable();
            v.dedup();
            assert!(
                v.len() <= levels,
                "{name}: {} levels at {bits} bits",
                v.len()
            );
        }
    }
}

#[test]
fn bad_settings_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let (ok, err) = run(&out, &[], &["--epochs", "0"]);
    assert!(!ok && err.contains("--epochs must be at least 1"), "{err}");
    let (ok, err) = run(&out, &[], &["--fractions", "1.5"]);
    assert!(
        !ok && err.contains("--fractions: 1.5 is not in (0, 1]"),
        "{err}"
    );
    let (ok, err) = run(&out, &[], &["--dataset", "cifar10"]);
    assert!(
        !ok && err.contains("--dataset cifar10 needs --data-dir"),
        "{err}"
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (ok, err) = run(&out, &[], &["--data-dir", empty.to_str().unwrap()]);
    assert!(
        !ok && err.contains("data_batch_1.bin") && err.contains("cannot read"),
        "{err}"
    );
    // A directory that holds a sweep with other settings is refused, naming the setting.
    let (ok, err) = run(&out, &[], &["--max-models", "0"]);
    assert!(ok, "{err}");
    let (ok, err) = run(&out, &[], &["--max-models", "0", "--seed", "7"]);
    assert!(!ok && err.contains("--seed was 42, now 7"), "{err}");
    // A grid value twice would make the same model twice.
    let (ok, err) = run(&out, &[], &["--fractions", "0.5,0.2,0.5"]);
    assert!(
        !ok && err.contains("--fractions: 0.5 is given twice (positions 1 and 3)"),
        "{err}"
    );
    let (ok, err) = run(&out, &[], &["--seeds", "1,2,3,2"]);
    assert!(
        !ok && err.contains("--seeds: 2 is given twice (positions 2 and 4)"),
        "{err}"
    );
    // A width whose training cannot fit is refused before anything is allocated:
    // 11.2e6 · (20000/64)² weights, four copies of 4 bytes each, are about 16 TiB.
    let (ok, err) = run(&out, &[], &["--width", "20000"]);
    assert!(
        !ok && err.contains("--width 20000 with --batch-size 64 needs about")
            && err.contains("TiB to train, more than the memory budget"),
        "{err}"
    );
    let (ok, err) = run(&out, &[], &["--width", "64", "--max-memory", "100M"]);
    assert!(
        !ok && err.contains("more than the memory budget of 100.0 MiB (--max-memory)"),
        "{err}"
    );
}

/// The smallest sweep that has every kind of model: 4 models, 64 training images.
const SMALL: [&str; 18] = [
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
    "--fractions",
    "0.5",
    "--ratios",
    "0.5",
    "--bits",
    "8",
];

fn small(out: &Path, extra: &[&str]) -> (bool, String) {
    run(out, &SMALL, extra)
}

/// Files whose names mark them as temporary (`.<name>.tmp<pid>`), anywhere in the sweep.
fn temporaries(out: &Path) -> Vec<String> {
    ["", "models", "checkpoints"]
        .iter()
        .flat_map(|d| std::fs::read_dir(out.join(d)).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.contains(".tmp"))
        .collect()
}

/// A sweep killed at every atomic rename of its run (alternately just before and just after it)
/// and then resumed ends with the snapshot of a straight run, byte for byte, and no temporary
/// file left behind.
#[test]
fn kills_at_every_rename_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let straight = dir.path().join("straight");
    let (ok, err) = small(&straight, &[]);
    assert!(ok, "{err}");
    let expected = read(&straight.join("sweep.reps"));
    let mut crashed = 0;
    for k in 1.. {
        let out = dir.path().join(format!("k{k}"));
        let at = if k % 2 == 1 {
            format!("{k}-")
        } else {
            k.to_string()
        };
        let o = Command::new(env!("CARGO_BIN_EXE_native"))
            .arg("train-sweep")
            .args(SMALL)
            .args(["--out", out.to_str().unwrap()])
            .env("REPS_TEST_CRASH_AT_RENAME", &at)
            .output()
            .unwrap();
        if o.status.success() {
            break; // Past the last rename: the run finished.
        }
        crashed += 1;
        let (ok, err) = small(&out, &[]);
        assert!(ok, "resume after a kill at rename {at}: {err}");
        assert_eq!(
            read(&out.join("sweep.reps")),
            expected,
            "kill at rename {at}"
        );
        assert_eq!(
            temporaries(&out),
            Vec::<String>::new(),
            "kill at rename {at}"
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
    // config.json, the manifest, 3 files per model and the 3 final outputs with their manifest.
    assert_eq!(crashed, 2 + 3 * 4 + 4, "renames in a straight run");
}

/// Changed, swapped, missing and temporary files in a finished sweep directory, a lock of a live
/// process and two concurrent runs: each is noticed, named in the log or the error, and repaired
/// without using anything that does not verify.
#[test]
fn a_poisoned_sweep_directory_is_noticed_and_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let (ok, err) = small(&out, &[]);
    assert!(ok, "{err}");
    let snapshot = read(&out.join("sweep.reps"));
    let results = read(&out.join("results.json"));
    let config = read(&out.join("config.json"));
    let checkpoint = |name: &str| out.join(format!("checkpoints/{name}.safetensors"));
    let prune = read(&checkpoint("prune-0.5"));
    let check = |what: &str, log_line: &str| {
        let (ok, err) = small(&out, &[]);
        assert!(ok, "{what}: {err}");
        assert!(log_of(&out).contains(log_line), "{what}: {}", log_of(&out));
        assert_eq!(read(&out.join("sweep.reps")), snapshot, "{what}");
    };

    // One flipped bit in a derived model's checkpoint: that model is made again.
    let mut flipped = prune.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    std::fs::write(checkpoint("prune-0.5"), &flipped).unwrap();
    check(
        "flipped bit",
        "checkpoints/prune-0.5.safetensors: does not match the manifest: its content changed after it was written; making prune-0.5 again\n",
    );
    assert_eq!(read(&checkpoint("prune-0.5")), prune);

    // A valid checkpoint of another model over the original's: everything is made again.
    std::fs::copy(checkpoint("coreset-0.5"), checkpoint("original")).unwrap();
    check(
        "swapped original",
        "checkpoints/original.safetensors: does not match the manifest: its content changed after it was written; making original again (and every model, since they all derive from it)",
    );

    // Lost outputs are rebuilt from the verified models.
    std::fs::remove_file(out.join("tables.md")).unwrap();
    std::fs::remove_file(out.join("results.json")).unwrap();
    check(
        "lost outputs",
        "tables.md: missing; rebuilt from the models",
    );
    assert_eq!(read(&out.join("results.json")), results);

    // Without config.json, the manifest still pins the settings, and config.json is rebuilt.
    std::fs::remove_file(out.join("config.json")).unwrap();
    let (ok, err) = small(&out, &["--seed", "7"]);
    assert!(!ok && err.contains("--seed was 42, now 7"), "{err}");
    check(
        "lost config",
        "config.json was missing; rebuilt from manifest.json",
    );
    assert_eq!(read(&out.join("config.json")), config);

    // Temporary files of killed runs are removed (those of a live process are left alone).
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    std::fs::write(
        out.join(format!("models/.prune-0.5.reps.tmp{dead}")),
        b"partial",
    )
    .unwrap();
    std::fs::write(out.join(format!(".sweep.reps.tmp{dead}")), b"partial").unwrap();
    check(
        "temporaries",
        "removed 2 temporary file(s) left by a run that was killed",
    );
    assert_eq!(temporaries(&out), Vec::<String>::new());

    // A lock held by a live process on this host refuses; once that process is gone, the lock
    // is taken over.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    let mut holder = Command::new("sleep").arg("60").spawn().unwrap();
    let lock = format!("host {host}\npid {}\n", holder.id());
    std::fs::write(out.join(".lock"), &lock).unwrap();
    let (ok, err) = small(&out, &[]);
    assert!(
        !ok && err.contains(&format!(
            "is in use by process {} on host {host}",
            holder.id()
        )),
        "{err}"
    );
    holder.kill().unwrap();
    holder.wait().unwrap();
    check(
        "stale lock",
        &format!(
            "took over the lock of process {} on {host}, which is no longer running",
            holder.id()
        ),
    );
    assert!(
        !out.join(".lock").exists(),
        "the lock is released at the end"
    );

    // Two runs with different settings started together into one new directory: one makes the
    // sweep, the other refuses, and nothing of the two is mixed.
    let both = dir.path().join("both");
    let start = |seed: &str| {
        Command::new(env!("CARGO_BIN_EXE_native"))
            .arg("train-sweep")
            .args(SMALL)
            .args(["--seed", seed, "--out", both.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start("42"), start("43"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(
        a.status.success() as u8 + b.status.success() as u8,
        1,
        "exactly one run succeeds:\n{}\n{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    let loser = if a.status.success() { &b } else { &a };
    let why = String::from_utf8_lossy(&loser.stderr);
    assert!(
        why.contains("is in use by process") || why.contains("holds a sweep with other settings"),
        "{why}"
    );
    let winner_seed = if a.status.success() { "42" } else { "43" };
    let pinned: serde_json::Value =
        serde_json::from_slice(&read(&both.join("config.json"))).unwrap();
    assert_eq!(pinned["seed"].to_string(), winner_seed);
    let snap = reps::formats::snapshot::decode("both", &read(&both.join("sweep.reps"))).unwrap();
    assert_eq!(snap.seed, Some(winner_seed.parse().unwrap()));
    if winner_seed == "42" {
        assert_eq!(read(&both.join("sweep.reps")), snapshot);
    }
}

/// Safetensors checkpoint tensors as (name, dims, values).
fn checkpoint(path: &Path) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let bytes = read(path);
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut v: Vec<_> = st
        .tensors()
        .into_iter()
        .map(|(n, t)| {
            let values = t
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            (n, t.shape().to_vec(), values)
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Rank of an m × n matrix by Gaussian elimination with complete pivoting in f64 (pivots below
/// 1e-4 of the largest entry count as zero: the matrices are f32 roundings of exact ranks).
fn rank(a: &[f32], m: usize, n: usize) -> usize {
    let mut a: Vec<f64> = a.iter().map(|x| *x as f64).collect();
    let scale = a.iter().fold(0.0f64, |s, x| s.max(x.abs()));
    let (mut rows, mut cols): (Vec<usize>, Vec<usize>) = ((0..m).collect(), (0..n).collect());
    let mut r = 0;
    while !rows.is_empty() && !cols.is_empty() {
        let (mut pi, mut pj) = (0, 0);
        for (i, &ri) in rows.iter().enumerate() {
            for (j, &cj) in cols.iter().enumerate() {
                if a[ri * n + cj].abs() > a[rows[pi] * n + cols[pj]].abs() {
                    (pi, pj) = (i, j);
                }
            }
        }
        let (pr, pc) = (rows.swap_remove(pi), cols.swap_remove(pj));
        let pivot = a[pr * n + pc];
        if pivot.abs() <= 1e-4 * scale {
            break;
        }
        for &ri in &rows {
            let f = a[ri * n + pc] / pivot;
            for &cj in &cols {
                a[ri * n + cj] -= f * a[pr * n + cj];
            }
        }
        r += 1;
    }
    r
}

/// A Vision Transformer with every method: the snapshot analyses with the ViT's default layers,
/// channel pruning zeroes the requested share of output channels, low-rank compression gives each
/// weight matrix the requested rank, and a rerun reuses everything.
#[test]
fn vit_with_every_method_is_analysable() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("vit");
    let mut args = SMALL.to_vec();
    args.extend([
        "--arch",
        "vit-tiny",
        "--methods",
        "all",
        "--grid",
        "channel-prune=0.3",
        "--grid",
        "lowrank=0.5",
    ]);
    let (ok, err) = run(&out, &args, &[]);
    assert!(ok, "{err}");
    let o = Command::new(env!("CARGO_BIN_EXE_native"))
        .args([
            "analyze",
            "--format",
            "json",
            "--bootstrap",
            "0",
            "--permutations",
            "0",
        ])
        .arg(out.join("sweep.reps"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let layers: Vec<&str> = report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(layers, ["blocks.3.tokens", "head"]);
    let methods: Vec<(String, String)> = report["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().into(),
                m["method"].as_str().unwrap().into(),
            )
        })
        .collect();
    let names: Vec<&str> = methods.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "original",
            "coreset-0.5",
            "prune-0.5",
            "quant-8",
            "channel-prune-0.3",
            "lowrank-0.5"
        ]
    );
    assert!(methods.iter().all(|(n, m)| n.starts_with(m.as_str())));
    // Multiplied tensors: rank ≥ 2, except the embeddings added to the tokens.
    let weights = |name: &str| -> Vec<(String, Vec<usize>, Vec<f32>)> {
        checkpoint(&out.join(format!("checkpoints/{name}.safetensors")))
            .into_iter()
            .filter(|(n, d, _)| d.len() >= 2 && n != "pos_embed" && n != "cls_token")
            .collect()
    };
    let original = weights("original");
    assert_eq!(
        original.len(),
        4 * 4 + 2,
        "patch_embed, head and four per block"
    );
    let rows = |t: &(String, Vec<usize>, Vec<f32>)| -> Vec<bool> {
        t.2.chunks(t.2.len() / t.1[0])
            .map(|r| r.iter().all(|v| *v == 0.0))
            .collect()
    };
    let total: usize = original.iter().map(|t| t.1[0]).sum();
    let zero: usize = weights("channel-prune-0.3")
        .iter()
        .map(|t| rows(t).iter().filter(|z| **z).count())
        .sum();
    assert_eq!(zero, (0.3 * total as f64).round() as usize);
    for (name, dims, values) in weights("lowrank-0.5") {
        let (m, n) = (dims[0], values.len() / dims[0]);
        let want = ((0.5 * m.min(n) as f64).round() as usize).max(1);
        assert_eq!(rank(&values, m, n), want, "{name} {m}×{n}");
    }
    let config = String::from_utf8(read(&out.join("config.json"))).unwrap();
    assert!(config.contains("\"arch\": \"vit-tiny\""), "{config}");
    let (ok, err) = run(&out, &args, &[]);
    assert!(ok, "{err}");
    assert!(log_of(&out).contains("6 model(s) verified against the manifest and reused"));
}

#[test]
fn architecture_and_method_settings_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let (ok, err) = run(&out, &[], &["--max-models", "0"]);
    assert!(ok, "{err}");
    for (extra, expected) in [
        (
            vec!["--arch", "vgg"],
            "unknown architecture (known: resnet18, vit-tiny)",
        ),
        (
            vec!["--arch", "vit-tiny", "--width", "6"],
            "--width for vit-tiny: must be a multiple of 4",
        ),
        (
            vec!["--methods", "prune,distill"],
            "--methods: unknown method 'distill'",
        ),
        (
            vec!["--grid", "lowrank=0.5"],
            "--grid lowrank: lowrank is not among --methods",
        ),
        (
            vec!["--grid", "quant=2.5"],
            "--grid quant: 2.5 is not in 1..=16",
        ),
        (
            vec!["--methods", "lowrank", "--grid", "lowrank=0"],
            "--grid lowrank: 0 is not in (0, 1]",
        ),
        (vec!["--grid", "prune"], "expected METHOD=v1,v2"),
        // The directory holds a ResNet sweep (made below): another architecture is named.
        (
            vec!["--max-models", "0", "--arch", "vit-tiny"],
            "--arch was the default, now \"vit-tiny\"",
        ),
    ] {
        let (ok, err) = run(&out, &[], &extra);
        assert!(!ok && err.contains(expected), "{extra:?}: {err}");
    }
}
