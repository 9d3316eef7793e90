//! Bad input to `native analyze`: a non-zero exit and one error line that names the file (and the
//! array) and says what is wrong; never a panic.

use reps_e2e::files::{f32_bytes as f32s, npy as npy_bytes};
use std::path::Path;
use std::process::Command;

fn analyze(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_native"))
        .arg("analyze")
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "panic: {err}");
    (out.status.code().unwrap_or(-1), err)
}

fn npy(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    npy_bytes(descr, false, shape, data)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn every_bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = write(
        d,
        "good.npy",
        &npy("<f4", &[3, 2], &f32s(&[1.0, 2.0, 3.0, 5.0, 4.0, 1.0])),
    );
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (
            vec![d.join("missing.npz").to_str().unwrap().into()],
            vec!["cannot read", "missing.npz"],
        ),
        (
            vec![write(d, "empty.npz", b"")],
            vec!["empty.npz: the file is empty"],
        ),
        (
            vec![write(d, "random.npz", b"\x01\x02\x03\x04 garbage bytes")],
            vec!["random.npz: not a .reps snapshot, .npz, .npy or .safetensors file"],
        ),
        (
            vec![write(d, "trunc.npz", b"PK\x03\x04\x14\x00\x00\x00")],
            vec!["trunc.npz: not a valid .npz (zip) archive"],
        ),
        (
            vec![write(
                d,
                "nan.npy",
                &npy("<f4", &[2, 1], &f32s(&[1.0, f32::NAN])),
            )],
            vec![
                "nan.npy: array 'activations'",
                "non-finite value NaN at sample 1, feature 0",
            ],
        ),
        (
            vec![write(
                d,
                "huge.npy",
                &npy("<f8", &[100000000, 100000], &[0; 8]),
            )],
            vec!["huge.npy: array 'activations'", "more than 4 GiB"],
        ),
        (
            vec![write(d, "snap.reps", b"REPSSNAP\x07\x00rest")],
            vec!["snap.reps: snapshot format version 7 is not supported"],
        ),
        (
            vec![write(d, "short.reps", b"REPSSNAP\x01\x00\x05abc")],
            vec!["short.reps: truncated or corrupt snapshot body"],
        ),
        (
            vec![
                good.clone(),
                write(d, "n4.npy", &npy("<f4", &[4, 2], &f32s(&[0.0; 8]))),
            ],
            vec![
                "n4.npy: the number of samples of 'activations' is 4, but",
                "good.npy has 3",
            ],
        ),
        (
            vec![
                good.clone(),
                write(d, "d3.npy", &npy("<f4", &[3, 3], &f32s(&[0.0; 9]))),
            ],
            vec![
                "d3.npy: the shape of layer 'activations' is (3, 3), but",
                "good.npy has (3, 2)",
            ],
        ),
        (
            vec![good.clone(), "--reference".into(), "nobody".into()],
            vec!["reference model 'nobody' not found"],
        ),
        (
            vec![good.clone(), "--weights".into(), "1,2".into()],
            vec!["--weights: expected 4 comma-separated weights (effective_rank, alive, separation, decay), got '1,2'"],
        ),
        (
            vec![good.clone(), "--layers".into(), "fc".into()],
            vec!["good.npy: model 'good' has no layer 'fc'"],
        ),
    ];
    for (args, wanted) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, err) = analyze(&a);
        assert_eq!(code, 1, "{args:?}: {err}");
        for w in wanted {
            assert!(err.contains(w), "{args:?}: expected '{w}' in: {err}");
        }
        assert!(err.starts_with("error: "), "{err}");
    }
    // Flags that clap rejects exit with 2 and explain.
    let out = Command::new(env!("CARGO_BIN_EXE_native"))
        .args(["analyze", &good, "--top-m", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--top-m"));
}

/// Runs `native` with `args` and returns its exit code, standard error and peak resident memory
/// (from `wait4`'s resource usage of that one process).
#[cfg(target_os = "linux")]
#[allow(clippy::zombie_processes)] // waited for with wait4, which std does not know
fn native_with_peak(args: &[&str]) -> (i32, String, u64) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_native"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child, whose status nothing else collects.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    assert!(!err.contains("panicked"), "{err}");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, err, usage.ru_maxrss as u64 * 1024)
}

/// Hostile inputs (a zip bomb, a FIFO without a writer, a device) are errors, not aborts, hangs
/// or exhausted memory; and outputs go where the user pointed: through a symlink, into a FIFO,
/// to standard output.
#[cfg(target_os = "linux")]
#[test]
fn hostile_inputs_and_unusual_outputs() {
    use reps_e2e::files::write_zero_npz;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 1 GiB of zeros, about 1 MiB on disk; a 256 MiB budget refuses it before inflating.
    let bomb = d.join("bomb.npz");
    write_zero_npz(&bomb, "feat", &[4096, 65536]);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 8 << 20);
    let (code, err, peak) =
        native_with_peak(&["analyze", bomb.to_str().unwrap(), "--max-memory", "256M"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("archive member 'feat.npy' needs 1.0 GiB, which does not fit in the memory budget of 256.0 MiB")
            && err.contains("--max-memory"),
        "{err}"
    );
    assert!(peak < 128 << 20, "peak {} MiB", peak >> 20);
    eprintln!(
        "zip bomb (1 GiB claimed): peak resident memory {} MiB",
        peak >> 20
    );

    let good = write(
        d,
        "good.npy",
        &npy("<f4", &[3, 2], &f32s(&[1.0, 2.0, 3.0, 5.0, 4.0, 1.0])),
    );
    // A FIFO nobody writes reads as empty instead of hanging; one with a writer is read.
    let fifo = d.join("in.fifo");
    let mkfifo = |p: &Path| {
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    };
    mkfifo(&fifo);
    let (code, err) = analyze(&[fifo.to_str().unwrap(), &good]);
    assert_eq!(code, 1);
    assert!(err.contains("in.fifo: the file is empty"), "{err}");
    let bytes = std::fs::read(&good).unwrap();
    // The writer may open the FIFO before or after a reader looks: a reader that finds no writer
    // reads it as empty (and the writer, finding no reader, gets EPIPE): both try again.
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            for _ in 0..100 {
                if std::fs::write(&fifo, &bytes).is_ok() {
                    return;
                }
            }
            panic!("no reader took the FIFO's content");
        })
    };
    let mut outcome = (1, String::new());
    for _ in 0..50 {
        outcome = analyze(&[&good, fifo.to_str().unwrap(), "--bootstrap", "0"]);
        if outcome.0 == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    writer.join().unwrap();
    assert_eq!(outcome.0, 0, "{}", outcome.1);
    // A device.
    let (code, err) = analyze(&["/dev/zero"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("/dev/zero: is a character device, not a file"),
        "{err}"
    );

    // Outputs: through a symlink (the link stays, its target gets the report), to `-`, into a
    // FIFO (streamed; a reader collects it).
    let target = d.join("report.json");
    std::fs::write(&target, "old").unwrap();
    let link = d.join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let other = write(d, "other.npy", &std::fs::read(&good).unwrap());
    let json_args = |out: &str| {
        vec![
            good.clone(),
            other.clone(),
            "--format".into(),
            "json".into(),
            "--bootstrap".into(),
            "0".into(),
            "--out".into(),
            out.to_string(),
        ]
    };
    let run = |args: Vec<String>| {
        Command::new(env!("CARGO_BIN_EXE_native"))
            .arg("analyze")
            .args(&args)
            .output()
            .unwrap()
    };
    let o = run(json_args(link.to_str().unwrap()));
    assert!(o.status.success());
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let via_link: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(via_link["reference"], "good");
    for stdout in ["-", "/dev/stdout"] {
        let o = run(json_args(stdout));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(printed, via_link, "--out {stdout}");
    }
    let out_fifo = d.join("out.fifo");
    mkfifo(&out_fifo);
    let reader = {
        let p = out_fifo.clone();
        std::thread::spawn(move || std::fs::read(p).unwrap())
    };
    let o = run(json_args(out_fifo.to_str().unwrap()));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let streamed: serde_json::Value = serde_json::from_slice(&reader.join().unwrap()).unwrap();
    assert_eq!(streamed, via_link);
    let meta = std::fs::symlink_metadata(&out_fifo).unwrap();
    assert!(
        std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()),
        "still a FIFO"
    );
}

/// Options that would count something twice or overflow are refused or handled exactly.
#[test]
fn repeated_layers_and_huge_weights() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = write(
        d,
        "a.npy",
        &npy("<f4", &[3, 2], &f32s(&[1.0, 2.0, 3.0, 5.0, 4.0, 1.0])),
    );
    let b = write(
        d,
        "b.npy",
        &npy("<f4", &[3, 2], &f32s(&[1.0, 2.5, 3.0, 4.0, 4.0, 1.5])),
    );
    let (code, err) = analyze(&[&a, &b, "--layers", "activations,activations"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("--layers: names layer 'activations' twice"),
        "{err}"
    );
    // Weights near f64::MAX: their sum overflows, yet they normalise to (0.5, 0.5, ~0, ~0).
    let o = Command::new(env!("CARGO_BIN_EXE_native"))
        .args([
            "analyze",
            &a,
            &b,
            "--weights",
            "1e308,1e308,1,1",
            "--format",
            "json",
            "--bootstrap",
            "0",
            "--permutations",
            "0",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let w: Vec<f64> = v["user_weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(&w[..2], &[0.5, 0.5]);
    assert!(w[2] >= 0.0 && w[2] < 1e-300 && w[3] == w[2], "{w:?}");
}

#[test]
fn a_snapshot_alone_is_read_once() {
    // The bundled sample (version 4, 1.86 MB) is read layer by layer: its decoded values (about
    // the file's size) fit in 2 MiB, where holding its bytes beside them (3.7 MB) would not.
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/sample.reps");
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("r.json");
    let json = json.to_str().unwrap();
    let args = [sample, "--format", "json", "--out", json];
    let (code, err) = analyze(&[&args[..], &["--max-memory", "2M"]].concat());
    assert_eq!(code, 0, "{err}");
    let (code, err) = analyze(&[&args[..], &["--max-memory", "1M"]].concat());
    assert_eq!(code, 1);
    assert!(
        err.contains("sample.reps: the decoded snapshot needs 1.8 MiB"),
        "{err}"
    );
}
