#!/usr/bin/env python3
"""The language-model case of docs/DESIGN.md §6: a pair of models with LAYERS layers of TOKENS tokens
x HIDDEN features (float16, as transformers exports them), analysed end to end by
`native analyze --tokens`; prints the wall time and the peak resident memory of `native`
(VmHWM, sampled every 50 ms).

Usage: python3 bench/lm_layers.py [--layers 32] [--tokens 4096] [--hidden 4096] [--native PATH]
Writes its files under a temporary directory (2 x LAYERS x TOKENS x HIDDEN x 2 bytes).
"""
import argparse, os, subprocess, sys, tempfile, time
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--layers", type=int, default=32)
p.add_argument("--tokens", type=int, default=4096)
p.add_argument("--hidden", type=int, default=4096)
p.add_argument("--native", default="target/release/native")
a = p.parse_args()

rng = np.random.default_rng(0)
B = 8
T = a.tokens // B
with tempfile.TemporaryDirectory() as d:
    # One low-rank-plus-noise stream of hidden states, perturbed a little for the "quantized" model.
    basis = rng.standard_normal((64, a.hidden)).astype(np.float32)
    for name, noise in [("reference", 0.0), ("quantized", 0.05)]:
        arrays = {}
        for l in range(a.layers):
            z = rng.standard_normal((B * T, 64)).astype(np.float32)
            h = z @ basis + 0.3 * rng.standard_normal((B * T, a.hidden)).astype(np.float32)
            if noise:
                h += noise * rng.standard_normal(h.shape).astype(np.float32)
            arrays[f"layers.{l}"] = h.reshape(B, T, a.hidden).astype(np.float16)
        arrays["attention_mask"] = np.ones((B, T), dtype=np.int64)
        np.savez(os.path.join(d, f"{name}.npz"), **arrays)
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    cmd = [a.native, "analyze", "--tokens", "--bootstrap", "0", "--permutations", "0",
           "--format", "json", "--out", os.path.join(d, "report.json"),
           os.path.join(d, "reference.npz"), os.path.join(d, "quantized.npz")]
    del arrays
    # The peak resident memory of `native` itself, read from /proc just before it exits (the
    # rusage of children would count this script's own memory, copied into the child before exec).
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    hwm = 0
    while child.poll() is None:
        try:
            with open(f"/proc/{child.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]) * 1024)
        except (FileNotFoundError, ProcessLookupError):
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - start
    if child.returncode != 0:
        sys.exit(f"native failed with status {child.returncode}")
    peak = hwm
    print(f"{a.layers} layers x {B * T} tokens x {a.hidden} hidden (f16), files {size / 2**30:.2f} GiB: "
          f"{wall:.1f} s, {wall / a.layers:.2f} s per layer, peak RSS {peak / 2**20:.0f} MiB")
