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

#[test]
fn help_explains_every_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_native"))
        .args(["analyze", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--reference",
        "--labels",
        "--layers",
        "--top-m",
        "--weights",
        "--format",
        "--out",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}
