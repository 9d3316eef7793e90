#!/usr/bin/env python3
"""Times `reps.analyze` (the Python package) against the same analysis in-process in Rust and
against numpy+LAPACK, in one run, and measures the peak memory of analysing a 1 GiB float32 input.

For each shape (N x D) of bench/compare_numpy.py (default 200x8192 and 2000x2048), with the same
data as there, it times (numpy best of REPEATS; rust and python best of 10 runs in each of
REPEATS rounds that alternate between them; a fresh process needs a few runs to warm up):
  - numpy: compare_numpy.numpy_report (the per-layer report of both matrices);
  - rust: `time_report --report` (crate reps in-process: the layers checked for NaN, the
    comparisons, the report, the inference without resamples and the JSON text, on the same
    arrays read from .npy);
  - python: reps.analyze of two reps.Model objects holding the float32 arrays (read without a copy),
    with labels, bootstrap=0 and permutations=0, the JSON parsed into a dict;
checks that the three give the same numbers, and prints python/rust (target <= 1.05) and
python/numpy (target < 1.0).

--memory runs, in a fresh process, reps.analyze on two models of one 131072 x 1024 float32 layer
each (1 GiB in all) and prints the process's peak resident memory (VmHWM) before and after.

Usage: python bench/python_api.py [--repeats 5] [--shapes 200x8192,2000x2048] [--memory]
(with the package installed: pip install ./python). OPENBLAS_CORETYPE is unset for numpy's
timing as in compare_numpy.py: run it as `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python ...`.
"""
import argparse, json, os, subprocess, sys, tempfile, time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_numpy  # noqa: E402
import reps  # noqa: E402


def peak_mib():
    with open("/proc/self/status") as f:
        line = next(l for l in f if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def memory():
    rows, width = 131072, 1024
    rng = np.random.default_rng(1)
    x = rng.standard_normal((rows, width), dtype=np.float32)
    y = rng.standard_normal((rows, width), dtype=np.float32)
    y += x
    gib = (x.nbytes + y.nbytes) / 2**30
    before = peak_mib()
    t = time.perf_counter()
    report = reps.analyze([reps.Model("x", {"h": x}), reps.Model("y", {"h": y})],
                          bootstrap=0, permutations=0)
    seconds = time.perf_counter() - t
    after = peak_mib()
    print(f"input {gib:.2f} GiB float32 ({rows} x {width}, two models); peak resident memory "
          f"{before:.0f} MiB before reps.analyze, {after:.0f} MiB after "
          f"({after / 1024:.2f} GiB; target < 1.3 GiB); {seconds:.1f} s; "
          f"CKA {report['models'][1]['cka']:.4f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--shapes", default="200x8192,2000x2048")
    ap.add_argument("--memory", action="store_true")
    args = ap.parse_args()
    if args.memory:
        return memory()
    root = os.path.dirname(HERE)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "reps", "--example", "time_report"], cwd=root, check=True)
    exe = os.path.join(root, "target", "release", "examples", "time_report")
    rng = np.random.default_rng(42)
    print(f"{'shape':>10} {'numpy s':>9} {'rust s':>9} {'python s':>9} {'python/rust':>12} {'python/numpy':>13}")
    for shape in args.shapes.split(","):
        n, d = map(int, shape.split("x"))
        x, y, labels = compare_numpy.inputs(rng, n, d)
        numpy_best = rust_best = python_best = float("inf")
        for _ in range(args.repeats):
            t = time.perf_counter()
            expected = compare_numpy.numpy_report(x, y, labels)
            numpy_best = min(numpy_best, time.perf_counter() - t)
        models = [reps.Model("m0", {"x": x}), reps.Model("m1", {"x": y})]
        with tempfile.TemporaryDirectory() as tmp:
            paths = [os.path.join(tmp, f) for f in ("x.npy", "y.npy", "labels.npy")]
            for p, a in zip(paths, (x, y, labels.astype(np.int64))):
                np.save(p, a)
            # Rounds alternate between the two, so that a noisy neighbour hits both alike.
            for _ in range(args.repeats):
                out = json.loads(subprocess.run([exe, *paths, "10", "--report"], capture_output=True,
                                                text=True, check=True).stdout)
                rust_best = min(rust_best, out["seconds"])
                for _ in range(10):
                    t = time.perf_counter()
                    report = reps.analyze(models, labels=labels, bootstrap=0, permutations=0)
                    python_best = min(python_best, time.perf_counter() - t)
        layer = report["models"][1]["layers"]["x"]
        got = dict(layer["raw"], cka=layer["cka"], cka_debiased=layer["cka_debiased"])
        for k, v in expected.items():
            assert abs(got[k] - v) <= 1e-6 * max(abs(v), 1e-12), (k, got[k], v)
            assert got[k] == out[k], (k, got[k], out[k])  # the same engine: the same bits
        print(f"{shape:>10} {numpy_best:9.4f} {rust_best:9.4f} {python_best:9.4f} "
              f"{python_best / rust_best:12.3f} {python_best / numpy_best:13.3f}")


if __name__ == "__main__":
    main()
