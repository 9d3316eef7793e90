"""The Python package against `native analyze` (the same engine: equal value for value), against
the independent numpy/scipy reference (tests/python/reference_reps.py), and on bad input."""
import _thread
import json
import subprocess
import sys
import signal
import threading
import time

import numpy as np
import pytest

import reps
from conftest import HERE, MODELS, files

NO_STATISTICS = dict(bootstrap=0, permutations=0)
# The keys of a model file that are not layers (and the logits, passed apart).
RESERVED = ("labels", "logits", "attention_mask", "accuracy", "method", "parameter", "parameter_name")


def assert_contains(expected, got, path="", tol=1e-6):
    """Every key of `expected` is in `got` with a value equal to it (numbers within `tol`)."""
    if isinstance(expected, dict):
        for k, v in expected.items():
            assert k in got, f"{path}.{k} missing"
            assert_contains(v, got[k], f"{path}.{k}", tol)
    elif isinstance(expected, list):
        assert len(expected) == len(got), path
        for i, (e, g) in enumerate(zip(expected, got)):
            assert_contains(e, g, f"{path}[{i}]", tol)
    elif isinstance(expected, float) and expected is not None:
        assert abs(expected - got) <= tol * (1 + abs(expected)), f"{path}: {expected} vs {got}"
    else:
        assert expected == got, f"{path}: {expected!r} vs {got!r}"


def in_memory(d):
    """The reference files' arrays as reps.Model objects (np.load, nothing else)."""
    models = []
    for m in MODELS:
        z = np.load(f"{d}/{m}.npz")
        arrays = {k: z[k] for k in z.files if k not in RESERVED}
        labels = z["labels"] if "labels" in z.files else None
        accuracy = float(z["accuracy"]) if "accuracy" in z.files else None
        models.append(reps.Model(m, arrays, logits=z["logits"], labels=labels, accuracy=accuracy))
    return models


def test_files_and_arrays_give_native_analyze_report_and_the_independent_numbers(reference_dir, native):
    d = reference_dir
    expected = json.load(open(f"{d}/expected.json"))
    sensitivity_plcc = expected.pop("sensitivity_plcc")
    cli = native("analyze", *files(d), "--format", "json")
    from_files = reps.analyze(files(d))
    assert from_files == cli  # the same code: every value equal
    assert_contains(expected, from_files)
    for row, plcc in zip(from_files["sensitivity"], sensitivity_plcc):
        assert abs(row["plcc"] - plcc) <= 1e-6
    from_memory = reps.analyze(in_memory(d))
    # In memory there are no files: the notes and sources name the models, the numbers are equal.
    assert from_memory["models"] == cli["models"]
    assert from_memory["correlations"] == cli["correlations"]
    assert from_memory["claims"] == cli["claims"]
    # A mix of files and in-memory models is one analysis too.
    mixed = reps.analyze([files(d)[0], *in_memory(d)[1:]], **NO_STATISTICS)
    assert mixed["models"] == cli["models"]


def test_options_mean_what_the_flags_mean(reference_dir, native):
    d = reference_dir
    args = dict(reference="quant", layers=["conv"], weights=[0.1, 0.2, 0.3, 0.4], top_m=4,
                bootstrap=200, permutations=300, seed=5, stable_drop=0.2)
    got = reps.analyze(files(d), **args)
    cli = native("analyze", *files(d), "--format", "json", "--reference", "quant", "--layers", "conv",
                 "--weights", "0.1,0.2,0.3,0.4", "--top-m", "4", "--bootstrap", "200",
                 "--permutations", "300", "--seed", "5", "--stable-drop", "0.2")
    assert got == cli
    assert got["reference"] == "quant" and got["layers"] == ["conv"]
    assert reps.analyze(files(d), claims=False, **NO_STATISTICS)["claims"] == []


def test_tokens_from_files_and_from_arrays_equal_native_tokens(token_dir, native):
    d = token_dir
    cli = native("analyze", *files(d), "--tokens", "--format", "json", "--bootstrap", "0",
                 "--permutations", "0")
    assert reps.analyze(files(d), tokens=True, **NO_STATISTICS) == cli
    z0 = np.load(f"{d}/ref.npz")
    models = []
    for m in MODELS:
        z = np.load(f"{d}/{m}.npz")
        layers = {k: z[k] for k in z.files if k not in RESERVED}
        models.append(reps.Model(m, layers, logits=z["logits"]))
    got = reps.analyze(models, tokens=True, attention_mask=z0["attention_mask"],
                       labels=z0["labels"], **NO_STATISTICS)
    assert got["models"] == cli["models"]
    assert got["correlations"] == cli["correlations"]
    # Without the mask the padding tokens count: a different analysis.
    unmasked = reps.analyze(models, tokens=True, **NO_STATISTICS)
    assert unmasked["models"] != cli["models"]


def test_compare_gives_one_layer_of_the_report(reference_dir):
    d = reference_dir
    ref, prune = np.load(f"{d}/ref.npz"), np.load(f"{d}/prune.npz")
    expected = json.load(open(f"{d}/expected.json"))
    layer = next(m for m in expected["models"] if m["name"] == "prune")["layers"]["conv"]
    # The report's class separation used the true labels of the files.
    got = reps.compare(ref["conv"], prune["conv"], labels=ref["labels"])
    assert_contains(layer, got)
    without = reps.compare(ref["conv"], prune["conv"])
    assert without["separation"] is None
    assert without["cka"] == got["cka"]


class DLPackOnly:
    """An array known only by DLPack (as a framework's tensor is)."""

    def __init__(self, a):
        self._a = a

    def __dlpack__(self, **kwargs):
        return self._a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


class ArrayOnly:
    def __init__(self, a):
        self._a = a

    def __array__(self, dtype=None, copy=None):
        return self._a if dtype is None else self._a.astype(dtype)


def two_models(wrap=lambda a: a, dtype=np.float32, n=40):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, 6, 5)).astype(dtype)
    y = (x + 0.5 * rng.normal(size=x.shape)).astype(dtype)
    lx, ly = rng.normal(size=(n, 4)).astype(dtype), rng.normal(size=(n, 4)).astype(dtype)
    return [reps.Model("a", {"h": wrap(x)}, logits=wrap(lx)), reps.Model("b", {"h": wrap(y)}, logits=wrap(ly))]


def test_dlpack_array_float16_and_strided_inputs_equal_their_float32_copies():
    plain = reps.analyze(two_models(), **NO_STATISTICS)
    assert reps.analyze(two_models(DLPackOnly), **NO_STATISTICS) == plain
    assert reps.analyze(two_models(ArrayOnly), **NO_STATISTICS) == plain
    half = two_models(dtype=np.float16)
    as_f32 = [reps.Model(m.name, {k: np.asarray(v, np.float32) for k, v in m.layers.items()},
                         logits=np.asarray(m.logits, np.float32)) for m in half]
    assert reps.analyze(half, **NO_STATISTICS) == reps.analyze(as_f32, **NO_STATISTICS)
    # A strided view (every second sample of a wider array) equals its contiguous copy.
    wide = two_models(n=80)
    view = [reps.Model(m.name, {"h": m.layers["h"][::2]}, logits=m.logits[::2]) for m in wide]
    copy = [reps.Model(m.name, {"h": m.layers["h"][::2].copy()}, logits=m.logits[::2].copy())
            for m in wide]
    assert not view[0].layers["h"].flags.c_contiguous
    assert reps.analyze(view, **NO_STATISTICS) == reps.analyze(copy, **NO_STATISTICS)


def test_bfloat16_through_ml_dtypes_equals_its_float32_values():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    models = two_models()
    bf = [reps.Model(m.name, {"h": m.layers["h"].astype(ml_dtypes.bfloat16)},
                     logits=m.logits.astype(ml_dtypes.bfloat16)) for m in models]
    widened = [reps.Model(m.name, {"h": m.layers["h"].astype(np.float32)},
                          logits=m.logits.astype(np.float32)) for m in bf]
    assert reps.analyze(bf, **NO_STATISTICS) == reps.analyze(widened, **NO_STATISTICS)


def error_of(call):
    with pytest.raises(reps.RepsError) as e:
        call()
    assert isinstance(e.value, ValueError)
    return str(e.value)


def test_bad_input_names_the_model_and_layer(tmp_path):
    a, b = two_models()
    short = reps.Model("short", {"h": a.layers["h"][:30]}, logits=a.logits[:30])
    msg = error_of(lambda: reps.analyze([a, short]))
    assert "short" in msg and "'h'" in msg and "30" in msg and "40" in msg
    nan = a.layers["h"].copy()
    nan[7, 2, 1] = np.nan
    msg = error_of(lambda: reps.analyze([a, reps.Model("bad", {"h": nan}, logits=b.logits)]))
    assert msg == "model 'bad': layer 'h': non-finite value NaN at sample 7, feature 11"
    msg = error_of(lambda: reps.analyze([a, reps.Model("z", {"h": np.float32(1.0)})]))
    assert "model 'z', layer 'h'" in msg and "0-d" in msg
    for dtype in (np.int64, np.complex64, object):
        bad = reps.Model("typed", {"h": np.zeros((40, 3), dtype=dtype)})
        msg = error_of(lambda: reps.analyze([a, bad]))
        assert "model 'typed', layer 'h'" in msg and "not a float type" in msg
    msg = error_of(lambda: reps.analyze([a, b], layers=["nope"]))
    assert msg.startswith("model 'a' has no layer 'nope'"), msg
    missing = tmp_path / "missing.npz"
    msg = error_of(lambda: reps.analyze([str(missing), a]))
    assert str(missing) in msg


class OnGpu:
    def __dlpack__(self, **kwargs):
        raise AssertionError("must not be read")

    def __dlpack_device__(self):
        return (2, 0)


def test_a_cuda_tensor_is_refused_with_the_fix():
    a, _ = two_models()
    msg = error_of(lambda: reps.analyze([a, reps.Model("gpu", {"h": OnGpu()})]))
    assert "model 'gpu', layer 'h'" in msg and "CUDA" in msg and ".cpu()" in msg


def big_models(count=10, n=500, d=6000):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(n, d)).astype(np.float32)
    return [reps.Model(f"m{i}", {"x": base + np.float32(0.1 * i) * rng.normal(size=(n, d)).astype(np.float32),
                                 "y": base[:, : d // 2] * np.float32(i + 1)})
            for i in range(count)]


def test_the_gil_is_released_and_ctrl_c_stops_between_layers():
    models = big_models()
    counted = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counted[0] += 1

    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.05)
    before = counted[0]
    start = time.perf_counter()
    reps.analyze(models, **NO_STATISTICS)
    full = time.perf_counter() - start
    during = counted[0] - before
    stop.set()
    t.join()
    # With the GIL held for the whole call the other thread could not have counted at all.
    assert during > 10_000, (during, full)
    assert full > 0.5, "the input must take long enough to interrupt"

    # A process started in the background by a non-interactive shell (`cmd &`, as CI runners
    # may) inherits SIGINT ignored, and then interrupt_main does nothing: install Python's own
    # handler, as an interactive session has it, for the length of the check.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer = threading.Timer(0.1, _thread.interrupt_main)
        start = time.perf_counter()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            reps.analyze(models, **NO_STATISTICS)
            time.sleep(full)  # reached only if the analysis ignored the signal
        assert time.perf_counter() - start < 0.8 * full
    finally:
        signal.signal(signal.SIGINT, previous)


def test_save_then_native_analyze_equals_analyze_of_the_models(tmp_path, native, reference_dir):
    models = in_memory(reference_dir)
    # Snapshots store float32: give float32 arrays so that both see the same values.
    f32 = [reps.Model(m.name, {k: v.astype(np.float32) for k, v in m.layers.items()},
                      logits=m.logits.astype(np.float32), labels=m.labels, method=m.name,
                      parameter=i or None) for i, m in enumerate(models)]
    path = tmp_path / "models.reps"
    reps.save(f32, path)
    cli = native("analyze", path, "--format", "json")
    got = reps.analyze(f32)
    assert got["models"] == cli["models"] and got["correlations"] == cli["correlations"]
    assert reps.analyze(path) == cli
    loaded = reps.load(path)
    assert [m.name for m in loaded] == MODELS
    assert np.array_equal(loaded[1].layers["conv"], f32[1].layers["conv"])
    assert np.array_equal(loaded[0].labels, models[0].labels)
    assert loaded[2].method == "quant" and loaded[2].parameter == 2.0


def test_typed_usage_passes_mypy_strict():
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", str(HERE / "typed_usage.py")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
