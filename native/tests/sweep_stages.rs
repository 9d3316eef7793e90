//! `native train-sweep` split into stages (`--stage original`, `--shard`, `--merge`), stopped by
//! SIGTERM mid-epoch, and run by two processes at once: each ends with the outputs of one
//! uninterrupted process, byte for byte, or with an error that names what is wrong.

mod common;

use common::{log_of, read, stderr, sweep_in, text, TINY, TINY_MODELS};
use std::path::Path;

/// `TINY` with `--out s` and `extra`, run in `dir`.
fn stage(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    std::fs::create_dir_all(dir).unwrap();
    sweep_in(dir, &[&TINY[..], &["--out", "s"], extra].concat(), env)
}

/// How many times the log says a model was evaluated (once per making).
fn times_made(log: &str, model: &str) -> usize {
    log.lines()
        .filter(|l| l.starts_with(&format!("{model}: accuracy ")))
        .count()
}

/// The jobs of `deploy/k8s/sweep.yaml` in order, each with its container's shell command, and
/// the Indexed Job's number of shards (checked to agree with its completions, parallelism and
/// `--shard k8s/N`).
fn kubernetes_example() -> (Vec<(String, String)>, usize) {
    let yaml = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/k8s/sweep.yaml"),
    )
    .unwrap();
    let mut jobs = Vec::new();
    let mut name = String::new();
    let mut counts = Vec::new();
    for line in yaml.lines().map(str::trim) {
        if let Some(n) = line.strip_prefix("name: reps-") {
            name = format!("reps-{n}");
        }
        for key in ["completions: ", "parallelism: "] {
            if let Some(n) = line.strip_prefix(key) {
                counts.push(n.parse::<usize>().unwrap());
            }
        }
        if let Some(rest) = line.strip_prefix(r#"command: ["/bin/sh", "-c", ""#) {
            jobs.push((name.clone(), rest.trim_end_matches("\"]").to_string()));
        }
    }
    let names: Vec<&str> = jobs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["reps-original", "reps-shards", "reps-merge"]);
    let shards = counts[0];
    assert_eq!(counts, [shards, shards]);
    assert!(
        jobs[1].1.ends_with(&format!("--shard k8s/{shards}")),
        "{}",
        jobs[1].1
    );
    (jobs, shards)
}

#[test]
fn stages_shards_preemption_and_concurrent_shards_end_as_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one");
    let o = stage(&one, &[], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let outputs = ["sweep.reps", "results.json", "tables.md"];
    let expected: Vec<Vec<u8>> = outputs
        .iter()
        .map(|f| read(&one.join("s").join(f)))
        .collect();
    let same_outputs = |root: &Path, what: &str| {
        for (f, bytes) in outputs.iter().zip(&expected) {
            assert!(
                read(&root.join("s").join(f)) == *bytes,
                "{what}: {f} differs from the one-process run's"
            );
        }
    };

    // Stages: a shard or a merge before the original is refused, naming the stage to run.
    let staged = dir.path().join("staged");
    let o = stage(&staged, &["--shard", "0/2"], &[]);
    assert!(
        !o.status.success() && stderr(&o).contains("make its original first"),
        "{}",
        text(&o)
    );
    let o = stage(&staged, &["--stage", "original"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let s = staged.join("s");
    assert!(s.join("checkpoints/original.safetensors").exists());
    assert_eq!(std::fs::read_dir(s.join("models")).unwrap().count(), 1);
    // Other settings are refused, naming the flag.
    let o = stage(&staged, &["--shard", "0/2", "--seed", "7"], &[]);
    assert!(
        !o.status.success() && stderr(&o).contains("--seed was 42, now 7"),
        "{}",
        text(&o)
    );
    // Shard 0 of 2 makes the compressed models at table positions 1, 3, 5.
    let manifest_before = (
        read(&s.join("manifest.json")),
        std::fs::metadata(s.join("manifest.json"))
            .unwrap()
            .modified()
            .unwrap(),
    );
    let o = stage(&staged, &["--shard", "0/2"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let made: Vec<String> = TINY_MODELS
        .iter()
        .filter(|m| s.join(format!("models/{m}.reps")).exists())
        .map(|m| m.to_string())
        .collect();
    assert_eq!(made, ["original", "coreset-0.5", "prune-0.5", "quant-8"]);
    // A merge with models missing names each and writes nothing.
    let o = stage(&staged, &["--merge"], &[]);
    let e = stderr(&o);
    assert!(!o.status.success(), "{}", text(&o));
    for m in ["coreset-0.1", "prune-0.9", "quant-2"] {
        assert!(e.contains(&format!("{m}: not made yet")), "{m}: {e}");
    }
    assert!(e.contains("3 of 7 models"), "{e}");
    assert!(!s.join("sweep.reps").exists() && !s.join("tables.md").exists());
    // Shard 1 of 2 as a Kubernetes Indexed Job's pod sees it.
    let o = stage(
        &staged,
        &["--shard", "k8s/2"],
        &[("JOB_COMPLETION_INDEX", "1")],
    );
    assert!(o.status.success(), "{}", text(&o));
    // Shards write no file another process writes (and a failed merge writes nothing): the
    // manifest is the original stage's, each model has its own record and each shard its own
    // log.
    assert!(
        (
            read(&s.join("manifest.json")),
            std::fs::metadata(s.join("manifest.json"))
                .unwrap()
                .modified()
                .unwrap()
        ) == manifest_before,
        "manifest.json was written after --stage original"
    );
    let mut records: Vec<String> = std::fs::read_dir(s.join("records"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    records.sort();
    let mut expected_records: Vec<String> =
        TINY_MODELS.iter().map(|m| format!("{m}.json")).collect();
    expected_records.sort();
    assert_eq!(records, expected_records);
    assert!(s.join("logs/shard-0-of-2.log").exists() && s.join("logs/shard-1-of-2.log").exists());
    // A corrupt checkpoint is named, and nothing written.
    let checkpoint = s.join("checkpoints/quant-2.safetensors");
    let good = read(&checkpoint);
    let mut bad = good.clone();
    let middle = bad.len() / 2;
    bad[middle] ^= 1;
    std::fs::write(&checkpoint, &bad).unwrap();
    let o = stage(&staged, &["--merge"], &[]);
    assert!(
        !o.status.success()
            && stderr(&o).contains("checkpoints/quant-2.safetensors: does not match the manifest"),
        "{}",
        text(&o)
    );
    assert!(!s.join("sweep.reps").exists());
    std::fs::write(&checkpoint, &good).unwrap();
    let o = stage(&staged, &["--merge"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    same_outputs(&staged, "original, 2 shards, merge");
    for m in TINY_MODELS {
        assert_eq!(times_made(&log_of(&s), m), 1, "{m}\n{}", log_of(&s));
    }

    // The Kubernetes example's three commands, as its pods run them (sh -c, the settings from
    // SWEEP_FLAGS, each index of the Indexed Job in JOB_COMPLETION_INDEX).
    let k8s = dir.path().join("k8s");
    std::fs::create_dir_all(&k8s).unwrap();
    let (commands, shards) = kubernetes_example();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_native")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let flags = [&TINY[..], &["--out", "s"]].concat().join(" ");
    for (job, command) in &commands {
        let indices: Vec<usize> = if job == "reps-shards" {
            (0..shards).collect()
        } else {
            vec![0]
        };
        for index in indices {
            let o = std::process::Command::new("/bin/sh")
                .args(["-c", command])
                .current_dir(&k8s)
                .env("PATH", &path)
                .env("SWEEP_FLAGS", &flags)
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .output()
                .unwrap();
            assert!(o.status.success(), "{job} {index}: {command}\n{}", text(&o));
        }
    }
    same_outputs(&k8s, "deploy/k8s/sweep.yaml's jobs");

    // SIGTERM in the middle of coreset-0.5's epoch (after 2 of its 4 steps): status 143, its
    // state kept; the rerun continues there and ends with the same bits.
    let stopped = dir.path().join("stopped");
    let o = stage(&stopped, &[], &[("REPS_TEST_SIGNAL_AT", "coreset-0.5:2")]);
    assert_eq!(o.status.code(), Some(143), "{}", text(&o));
    let s = stopped.join("s");
    assert!(s
        .join("checkpoints/coreset-0.5.partial.safetensors")
        .exists());
    assert!(
        log_of(&s).contains("coreset-0.5: stopped by a signal at epoch 1 step 2;"),
        "{}",
        log_of(&s)
    );
    assert!(!s.join("sweep.reps").exists());
    let o = stage(&stopped, &[], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        log_of(&s).contains("coreset-0.5: resumed at epoch 1 step 2\n"),
        "{}",
        log_of(&s)
    );
    assert!(!s
        .join("checkpoints/coreset-0.5.partial.safetensors")
        .exists());
    same_outputs(&stopped, "stopped by SIGTERM, then resumed");
    assert_eq!(
        read(&s.join("checkpoints/coreset-0.5.safetensors")),
        read(&one.join("s/checkpoints/coreset-0.5.safetensors"))
    );

    // Two processes given the same shard at once (each training step slowed to 100 ms): one
    // waits for the other's model instead of making it too; every model is made once.
    let both = dir.path().join("both");
    let o = stage(&both, &["--stage", "original"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_native"))
            .current_dir(&both)
            .arg("train-sweep")
            .args(TINY)
            .args(["--out", "s", "--shard", "0/1"])
            .env("REPS_TEST_STEP_DELAY_MS", "100")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for p in [a, b] {
        let o = p.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    let log = log_of(&both.join("s"));
    for m in TINY_MODELS {
        assert_eq!(times_made(&log, m), 1, "{m}\n{log}");
    }
    let o = stage(&both, &["--merge"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    same_outputs(&both, "two processes on one shard");
}

/// Pearson's correlation, written out for the test.
fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let syy: f64 = y.iter().map(|b| (b - my) * (b - my)).sum();
    sxy / (sxx * syy).sqrt()
}

/// Two seeds made in stages: `summary.json`'s means, standard deviations and pooled correlation
/// equal values computed here from the two `results.json`.
#[test]
fn a_multi_seed_sweep_summarises_its_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let flags = [
        &TINY[..12],
        &[
            "--methods",
            "quant",
            "--bits",
            "8,4,2",
            "--seeds",
            "42,43",
            "--out",
            "s",
        ],
    ]
    .concat();
    for extra in [
        &["--stage", "original"][..],
        &["--shard", "0/1"],
        &["--merge"],
    ] {
        let o = sweep_in(dir.path(), &[&flags[..], extra].concat(), &[]);
        assert!(o.status.success(), "{extra:?}: {}", text(&o));
    }
    let json = |p: &Path| -> serde_json::Value { serde_json::from_slice(&read(p)).unwrap() };
    let s = dir.path().join("s");
    let summary = json(&s.join("summary.json"));
    let results: Vec<serde_json::Value> = ["seed-42", "seed-43"]
        .iter()
        .map(|d| json(&s.join(d).join("results.json")))
        .collect();
    assert_eq!(summary["seeds"], serde_json::json!([42, 43]));
    let models = summary["models"].as_array().unwrap();
    assert_eq!(models.len(), 4);
    let (mut scores, mut drops) = (Vec::new(), Vec::new());
    for m in models {
        let name = m["name"].as_str().unwrap();
        let per_seed = |field: &str| -> Vec<f64> {
            results
                .iter()
                .map(|r| {
                    r["report"]["models"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|x| x["name"] == name)
                        .unwrap()[field]
                        .as_f64()
                        .unwrap()
                })
                .collect()
        };
        for field in ["accuracy", "reps_weighted"] {
            let v = per_seed(field);
            let mean = (v[0] + v[1]) / 2.0;
            // Two values: the sample standard deviation is |a − b| / √2.
            let sd = (v[0] - v[1]).abs() / 2f64.sqrt();
            let got = &m[field];
            assert!(
                (got["mean"].as_f64().unwrap() - mean).abs() < 1e-12,
                "{name} {field}"
            );
            assert!(
                (got["sd"].as_f64().unwrap() - sd).abs() < 1e-12,
                "{name} {field}"
            );
            assert_eq!(got["n"], 2);
        }
        if name != "original" {
            scores.extend(per_seed("reps_weighted"));
            drops.extend(per_seed("accuracy_drop"));
        }
    }
    // Pooled Table 2 of REPS: one correlation over the 6 compressed models of both seeds.
    let pooled = summary["correlations"]["reps_weighted"]["pooled"]["plcc"]
        .as_f64()
        .unwrap();
    assert!(
        (pooled - pearson(&scores, &drops)).abs() < 1e-12,
        "{pooled}"
    );
    assert!(read(&s.join("summary.md")).starts_with(b"# train-sweep summary over seeds 42, 43"));
    // Six models in two seeds: the pooled inference is there, with intervals.
    assert!(summary["correlations"]["reps_weighted"]["pooled"]["plcc_ci"].is_array());
    assert!(!summary["claims"].as_array().unwrap().is_empty());

    // `analyze --pool` gives the same summary from the seed directory or from its sweeps.
    let analyze = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_native"))
            .current_dir(dir.path())
            .args([&["analyze", "--pool"][..], args].concat())
            .output()
            .unwrap();
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        o
    };
    for inputs in [&["s"][..], &["s/seed-42", "s/seed-43"]] {
        let json = analyze(&[inputs, &["--format", "json"]].concat());
        assert!(json.status.success(), "{}", text(&json));
        assert_eq!(json.stdout, read(&s.join("summary.json")), "{inputs:?}");
        let md = analyze(inputs);
        assert_eq!(md.stdout, read(&s.join("summary.md")), "{inputs:?}");
    }
    // Refused: other settings (named), a seed twice, a directory that holds no sweep.
    let copy = |from: &str, to: &str| {
        let to = dir.path().join(to);
        std::fs::create_dir_all(&to).unwrap();
        std::fs::copy(s.join(from).join("results.json"), to.join("results.json")).unwrap();
        to
    };
    let other = copy("seed-43", "other");
    let mut results: serde_json::Value =
        serde_json::from_slice(&read(&other.join("results.json"))).unwrap();
    assert_eq!(results["config"]["width"], 4);
    results["config"]["width"] = 8.into();
    std::fs::write(other.join("results.json"), results.to_string()).unwrap();
    let e = analyze(&["s/seed-42", "other"]);
    assert!(
        !e.status.success()
            && stderr(&e).contains(
                "other/results.json: made with width 8, but s/seed-42/results.json with width 4"
            )
            && stderr(&e).contains("may differ only in their seed"),
        "{}",
        text(&e)
    );
    copy("seed-42", "again");
    let e = analyze(&["s/seed-42", "again"]);
    assert!(
        !e.status.success()
            && stderr(&e)
                .contains("again/results.json: made with seed 42, as s/seed-42/results.json is"),
        "{}",
        text(&e)
    );
    let e = analyze(&["s/seed-42", "s/seed-42/models"]);
    assert!(
        !e.status.success() && stderr(&e).contains("s/seed-42/models: not a finished sweep"),
        "{}",
        text(&e)
    );
}
