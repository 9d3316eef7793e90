//! What the sweep tests share: tiny settings (width 4, 200 training images, one epoch, 7
//! models) and running `native train-sweep`.

#![allow(dead_code)] // Each test file uses a part.

use std::path::Path;
use std::process::{Command, Output};

/// Tiny settings: the original, 2 coresets, 2 pruning ratios, 2 bit widths.
pub const TINY: [&str; 18] = [
    "--width",
    "4",
    "--epochs",
    "1",
    "--train-size",
    "200",
    "--test-size",
    "100",
    "--samples",
    "20",
    "--batch-size",
    "32",
    "--fractions",
    "0.5,0.1",
    "--ratios",
    "0.5,0.9",
    "--bits",
    "8,2",
];

/// The models of [`TINY`], in table order.
pub const TINY_MODELS: [&str; 7] = [
    "original",
    "coreset-0.5",
    "coreset-0.1",
    "prune-0.5",
    "prune-0.9",
    "quant-8",
    "quant-2",
];

/// `native train-sweep` with `flags`, run in `cwd`, with `env` set.
pub fn sweep_in(cwd: &Path, flags: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_native"));
    c.current_dir(cwd).arg("train-sweep").args(flags);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    o
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Everything a process printed, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        stderr(o)
    )
}

pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `sweep.log`, then every shard's log (`logs/shard-I-of-N.log`), in name order.
pub fn log_of(out: &Path) -> String {
    let mut shards: Vec<_> = std::fs::read_dir(out.join("logs"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    shards.sort();
    std::iter::once(out.join("sweep.log"))
        .chain(shards)
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect()
}
