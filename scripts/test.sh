#!/usr/bin/env bash
# Runs every check of the project: formatting, lints, the wasm32 build of crate `reps`, and all
# tests (unit, property, golden-file, CLI and end-to-end). The README's test command; CI runs it too.
# Installs what it needs when missing: the wasm32 Rust target, numpy and scipy (for the tests that
# compare against an independent numpy/scipy implementation).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "prerequisites"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if ! python3 -c 'import numpy, scipy' 2>/dev/null; then
  python3 -m pip install --quiet numpy scipy
fi

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "crate reps builds for wasm32-unknown-unknown"
cargo build -p reps --target wasm32-unknown-unknown

step "cargo test --workspace"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace 2>&1 | tee "$log"
# One closing line over all test binaries (cargo prints one per binary, the last often for doc tests).
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "\nsummary: %d passed, %d failed, %d skipped\n", p, f, i }' "$log"
