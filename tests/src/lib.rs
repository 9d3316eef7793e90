//! Helpers for the end-to-end tests: where the `native` binary is, running it, and Python.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `native` binary built by `cargo test --workspace` (it sits next to the test's `deps/`).
pub fn native_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = dir.join(format!("native{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} not found: run the tests with `cargo test --workspace` (which builds the native binary)",
        bin.display()
    );
    bin
}

/// Runs `native` with `args`.
pub fn native(args: &[&str]) -> Output {
    Command::new(native_bin())
        .args(args)
        .output()
        .expect("native runs")
}

/// Runs a Python script of `tests/python/` with arguments; panics with its output on failure.
pub fn python(script: &str, args: &[&str]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(script);
    let out = Command::new("python3")
        .arg(&path)
        .args(args)
        .output()
        .expect("python3 is installed (the README lists numpy and scipy as test requirements)");
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Independent writers of .npy, .npz and .safetensors bytes (shared with crate `reps`'s tests).
pub mod files;

/// Comparing JSON reports (shared with crate `reps`'s tests).
pub mod json;
