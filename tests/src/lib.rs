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

/// Whether a test may go on: `present` says whether `tool`, something it needs beyond Rust
/// (numpy and scipy, Slurm's daemons), is installed. `scripts/test.sh` sets `REPS_ALL_TESTS=1`:
/// there a missing tool fails the test. Anywhere else (the fast loop: `cargo test -p reps`,
/// `cargo test -p native`) the test prints that it skips and why, and the caller returns.
pub fn needs(tool: &str, present: bool) -> bool {
    if present {
        return true;
    }
    assert!(
        std::env::var_os("REPS_ALL_TESTS").is_none(),
        "{tool} is not installed, and scripts/test.sh runs every test"
    );
    eprintln!("skipped: needs {tool}, which is not installed (scripts/test.sh installs it)");
    false
}

/// [`needs`] numpy and scipy (the independent reference of `tests/python/`).
pub fn needs_numpy() -> bool {
    let present = Command::new("python3")
        .args(["-c", "import numpy, scipy"])
        .output()
        .is_ok_and(|o| o.status.success());
    needs("python3 with numpy and scipy", present)
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
