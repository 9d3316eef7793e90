#!/usr/bin/env bash
# Runs every check of the project: formatting, lints, the wasm32 build of crate `reps`, the viewer
# build (trunk), and all tests (unit, property, golden-file, CLI, end-to-end, and the viewer in
# headless Chromium). The README's test command; CI runs it too.
# Installs what it needs when missing: the wasm32 Rust target, numpy and scipy (the independent
# reference of the end-to-end tests), trunk and wasm-bindgen-cli (pinned, see docs/TOOLCHAIN.md),
# Debian's chromium and chromium-driver, the npm package playwright-core, and Debian's slurm-wlm
# and munge (the sharded sweep is tested on a one-node Slurm cluster that the test starts and
# stops: scripts/slurm/local-cluster.sh).
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
if [ "$(trunk --version 2>/dev/null)" != "trunk 0.21.14" ]; then
  cargo install trunk --version 0.21.14 --locked
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen 0.2.130" ]; then
  cargo install wasm-bindgen-cli --version 0.2.130  # not --locked: see docs/TOOLCHAIN.md
fi
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  apt-get update -qq && apt-get install -y -qq chromium chromium-driver
fi
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm install --no-audit --no-fund)
fi
# The Python package's tests run in their own virtual environment, against the package as
# `pip install ./python` builds and installs it (maturin, a release build of crate reps-python).
venv=target/pyenv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet numpy scipy pytest mypy ml-dtypes

# Tests that need numpy, scipy or Slurm fail here when the tool is missing (elsewhere they skip).
export REPS_ALL_TESTS=1

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "no tracked file points outside the repository"
python3 scripts/check_paths.py

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "crate reps builds for wasm32-unknown-unknown"
cargo build -p reps --target wasm32-unknown-unknown

step "the viewer: trunk build --release (www/ → dist/)"
trunk build --release

step "cargo test --workspace"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace 2>&1 | tee "$log"

step "crate reps as WebAssembly in headless Chromium (wasm-bindgen-test)"
CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_DRIVER_TIMEOUT=60 \
  cargo test -p web --target wasm32-unknown-unknown 2>&1 | tee -a "$log"

step "the viewer in headless Chromium (node --test tests/browser)"
# The tests call `native analyze` and write a large synthetic snapshot (both debug builds). Built
# for the whole workspace, so that the binaries `cargo test --workspace` made are reused (`-p`
# would unify features differently and compile candle again).
cargo build --workspace --bins
(cd tests/browser && node --test) 2>&1 | tee -a "$log"

step "the Python package: pip install ./python, then pytest tests/python"
"$venv/bin/python" -m pip install --quiet ./python
"$venv/bin/python" -m pytest -q tests/python 2>&1 | tee -a "$log"

# One closing line over every runner (cargo prints one per test binary, node its own totals).
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     /^# pass / { p += $3 } /^# fail / { f += $3 } /^# skipped / { i += $3 }
     /^(=+ )?[0-9]+ (passed|failed).* in [0-9.]+s/ {  # pytest: "3 failed, 8 passed, 1 skipped in 6.2s"
       for (k = 1; k < NF; k++) { n = $k + 0; w = $(k + 1); sub(/,$/, "", w)
         if (w == "passed") p += n; else if (w == "failed") f += n; else if (w == "skipped") i += n } }
     END { printf "\nsummary: %d passed, %d failed, %d skipped\n", p, f, i; exit (f > 0) }' "$log"
