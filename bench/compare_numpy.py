#!/usr/bin/env python3
"""Times crate `reps`'s full per-layer report against numpy+LAPACK on the same inputs, in one run.

For each shape (N x D) it writes a reference and a model activation matrix and labels to .npy,
then times, best of REPEATS:
  - numpy: centring, Gram/covariance (float64 matmul), eigvalsh (LAPACK), effective rank, alive
    fraction, class separation, decay fit, linear CKA (biased and debiased) -- for both matrices,
    exactly the quantities of `reps::metrics::{LayerStats::compute, compare_layers}`;
  - reps: the same through `cargo run --release -p reps --example time_report`.
It checks that both computed the same values, and prints the time ratio reps / numpy
(docs/DESIGN.md section 6 target: <= 1.0).

A shape ending in "s" (16384x4096s: 16,384 tokens x 4,096 hidden, two models) is timed through
the streamed analysis (`time_report --stream`, the path of `native analyze --stream`/`--tokens`),
and numpy takes its best route there too (covariance, not Gram; each X^T X computed once).

Usage: python3 bench/compare_numpy.py [--repeats 5] [--shapes 200x8192,200x10,2000x2048,16384x4096s]
OPENBLAS_CORETYPE is unset for the numpy timing (see docs/BENCHMARKS.md).
"""
import argparse, json, os, subprocess, sys, tempfile, time
import numpy as np


def centered(a):
    a = a.astype(np.float64)
    return a - a.mean(axis=0)


def stats(a, labels, top_m=10):
    x = centered(a)
    n, d = x.shape
    if n <= d:
        k = x @ x.T
        lam = np.linalg.eigvalsh(k)[::-1]
        kernel = ("gram", k)
    else:
        c = x.T @ x
        lam = np.linalg.eigvalsh(c)[::-1]
        kernel = ("feat", x, c)
    lam = np.where(lam > max(n, d) * np.finfo(float).eps * max(lam[0], 0), lam, 0.0)
    s = np.sqrt(lam)
    p = s / s.sum()
    p = p[p > 1e-12]
    erank = float(np.exp(-(p * np.log(p)).sum()))
    var = (x * x).mean(axis=0)
    alive = 1 - np.mean(var < 0.01 * var.mean())
    classes = np.unique(labels)
    cents = np.stack([x[labels == c].mean(axis=0) for c in classes])
    intra = np.mean([np.linalg.norm(x[labels == c] - cents[i], axis=1).mean() for i, c in enumerate(classes)])
    iu = np.triu_indices(len(classes), 1)
    dist = np.linalg.norm(cents[:, None, :] - cents[None, :, :], axis=2)[iu]
    sep = dist.mean() / (intra + 1e-12)
    kk = int((lam > 1e-12 * lam[0]).sum())
    m = min(top_m, kk)
    slope = -np.polyfit(np.log(np.arange(1, m + 1)), np.log(lam[:m]), 1)[0] if m >= 2 else 0.0
    return dict(erank=erank, alive=alive, sep=sep, slope=slope, kernel=kernel, diag=(x * x).sum(axis=1))


def cross(kx, ky):
    if kx[0] == "gram":
        return float((kx[1] * ky[1]).sum())
    if kx is ky:  # the self term: the covariance already computed
        return float(np.square(kx[2]).sum())
    return float(np.square(kx[1].T @ ky[1]).sum())


def cka_pair(sx, sy, n):
    xy, xx, yy = cross(sx["kernel"], sy["kernel"]), cross(sx["kernel"], sx["kernel"]), cross(sy["kernel"], sy["kernel"])
    def hsic(t, dk, dl):
        dd = (dk * dl).sum()
        return (t - dd + dk.sum() * dl.sum() / ((n - 1) * (n - 2)) - 2 * dd / (n - 2)) / (n * (n - 3))
    return xy / np.sqrt(xx * yy), hsic(xy, sx["diag"], sy["diag"]) / np.sqrt(hsic(xx, sx["diag"], sx["diag"]) * hsic(yy, sy["diag"], sy["diag"]))


def numpy_report(x, y, labels):
    sx, sy = stats(x, labels), stats(y, labels)
    cka, ckad = cka_pair(sx, sy, x.shape[0])
    return dict(effective_rank=sy["erank"], dead_fraction=1 - sy["alive"], separation=sy["sep"],
                decay_slope=sy["slope"], cka=cka, cka_debiased=ckad)


def inputs(rng, n, d):
    """A reference and a model activation matrix (float32) and labels: ReLU-like activations with
    a decaying spectrum, as a trained layer has, and the same plus noise."""
    labels = np.arange(n) % 10
    basis = rng.standard_normal((min(n, d, 256), d)) / np.sqrt(np.arange(1, min(n, d, 256) + 1))[:, None]
    x = np.maximum(rng.standard_normal((n, basis.shape[0])) @ basis + labels[:, None] * 0.05, 0).astype(np.float32)
    y = (x + 0.3 * rng.standard_normal(x.shape)).astype(np.float32)
    return x, y, labels


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--shapes", default="200x8192,200x10,2000x2048,16384x4096s")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "reps", "--example", "time_report"], cwd=root, check=True)
    exe = os.path.join(root, "target", "release", "examples", "time_report")
    rng = np.random.default_rng(42)
    worst = 0.0
    print(f"{'shape':>12} {'numpy s':>10} {'reps s':>10} {'reps/numpy':>11}  max rel. diff")
    for shape in args.shapes.split(","):
        stream = shape.endswith("s")
        n, d = map(int, shape.rstrip("s").split("x"))
        x, y, labels = inputs(rng, n, d)
        with tempfile.TemporaryDirectory() as tmp:
            paths = [os.path.join(tmp, f) for f in ("x.npy", "y.npy", "labels.npy")]
            for p, a in zip(paths, (x, y, labels.astype(np.int64))):
                np.save(p, a)
            best = float("inf")
            for _ in range(args.repeats):
                t = time.perf_counter()
                ref = numpy_report(x, y, labels)
                best = min(best, time.perf_counter() - t)
            extra = ["--stream"] if stream else []
            out = json.loads(subprocess.run([exe, *paths, str(args.repeats), *extra], capture_output=True, text=True, check=True).stdout)
        diff = max(abs(out[k] - v) / max(abs(v), 1e-12) for k, v in ref.items())
        ratio = out["seconds"] / best
        worst = max(worst, ratio)
        print(f"{shape:>12} {best:10.4f} {out['seconds']:10.4f} {ratio:11.2f}  {diff:.1e}")
        if diff > 1e-6:
            print(f"  values differ: numpy {ref} reps {out}", file=sys.stderr)
            sys.exit(1)
    print(f"worst ratio reps/numpy = {worst:.2f} (target <= 1.0)")


if __name__ == "__main__":
    main()
